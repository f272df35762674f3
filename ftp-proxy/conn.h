/* SPDX-License-Identifier: ISC */
/*
 * conn.h: one buffered, non-blocking TCP socket in the event loop, the
 * part of a libevent bufferevent that a control connection uses, in
 * fewer system calls: a read is one read(2) (no FIONREAD first); a write
 * with nothing queued is written at once, and EV_WRITE is armed only
 * while bytes wait for room in the socket.
 *
 * The callbacks are a bufferevent's: read after bytes came in, write
 * once the queue is empty again, event with BEV_EVENT_* flags for
 * connected, EOF (reading stops) and errors (errno says which).
 */
#ifndef CONN_H
#define CONN_H

#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/event_struct.h>

struct conn;
typedef void	(*conn_cb)(struct conn *, void *);
typedef void	(*conn_event_cb)(struct conn *, short, void *);

struct conn {
	int		 fd;
	int		 connecting;
	int		 rarmed, warmed;	/* EV_READ, EV_WRITE added */
	int		 corked;		/* TCP_CORK set */
	struct event	 rev, wev;
	struct evbuffer	*in, *out;
	conn_cb		 readcb, writecb;
	conn_event_cb	 eventcb;
	void		*arg;
};

/* A connected socket, or one to conn_connect(); reading is off. */
struct conn	*conn_new(struct event_base *, int, conn_cb, conn_cb,
		    conn_event_cb, void *);
int		 conn_connect(struct conn *, const struct sockaddr *,
		    socklen_t);
void		 conn_read(struct conn *, int);
int		 conn_write(struct conn *, const void *, size_t);
/* Move n bytes of b to the queue and send what the socket takes. */
int		 conn_write_buffer(struct conn *, struct evbuffer *, size_t);
size_t		 conn_queued(const struct conn *);
/*
 * Hold partial segments back in the kernel (TCP_CORK) from now on: the
 * FIN of a shutdown or close takes them along in one segment, and TCP
 * sends them anyway after 200 ms.  For the last words of a connection.
 */
void		 conn_cork(struct conn *);
struct evbuffer	*conn_input(struct conn *);
/* Close the socket; what is queued is lost. */
void		 conn_free(struct conn *);

#endif /* CONN_H */
