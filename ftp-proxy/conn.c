/* SPDX-License-Identifier: ISC */
/*
 * conn.c: a control connection's socket in the event loop (conn.h).
 *
 * What it saves over a bufferevent, per FTP session of about a dozen
 * commands and replies (strace -c under bench.sh's load): one ioctl
 * per read, and for every write an epoll_ctl to arm EPOLLOUT, a round
 * of the loop for it, and an epoll_ctl to disarm it.  (SIGPIPE is
 * ignored by ftp-proxy's main, so a write to a closed peer is EPIPE.)
 */
#include "compat.h"

#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "conn.h"

#define CONN_READ_MAX	4096	/* per read(2), as a bufferevent reads */

static void	conn_readable(int, short, void *);
static void	conn_writable(int, short, void *);
static void	conn_arm(struct event *, int *, int);
static void	conn_arm_write(struct conn *);
static void	conn_push(struct conn *, int);

struct conn *
conn_new(struct event_base *base, int fd, conn_cb readcb, conn_cb writecb,
    conn_event_cb eventcb, void *arg)
{
	struct conn	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return (NULL);
	if ((c->in = evbuffer_new()) == NULL ||
	    (c->out = evbuffer_new()) == NULL) {
		if (c->in != NULL)
			evbuffer_free(c->in);
		free(c);
		return (NULL);
	}
	c->fd = fd;
	c->readcb = readcb;
	c->writecb = writecb;
	c->eventcb = eventcb;
	c->arg = arg;
	event_assign(&c->rev, base, fd, EV_READ | EV_PERSIST, conn_readable,
	    c);
	event_assign(&c->wev, base, fd, EV_WRITE | EV_PERSIST, conn_writable,
	    c);
	return (c);
}

/* Start a non-blocking connect: 0, or -1 with errno if it failed at once. */
int
conn_connect(struct conn *c, const struct sockaddr *sa, socklen_t len)
{
	if (connect(c->fd, sa, len) == -1 && errno != EINPROGRESS)
		return (-1);
	c->connecting = 1;
	conn_arm_write(c);
	return (0);
}

/* Add or delete a persistent event, only when that changes anything. */
static void
conn_arm(struct event *ev, int *armed, int want)
{
	if (want && !*armed) {
		if (event_add(ev, NULL) == 0)
			*armed = 1;
	} else if (!want && *armed) {
		event_del(ev);
		*armed = 0;
	}
}

void
conn_read(struct conn *c, int on)
{
	conn_arm(&c->rev, &c->rarmed, on);
}

static void
conn_arm_write(struct conn *c)
{
	conn_arm(&c->wev, &c->warmed, c->connecting ||
	    evbuffer_get_length(c->out) > 0);
}

/*
 * Bytes were queued: if nothing was queued before them, write at once,
 * and arm EV_WRITE only for what the socket did not take.  A hard error
 * is left to the write event, which meets it again and reports it
 * through the event callback, as a bufferevent would.
 */
static void
conn_push(struct conn *c, int was_empty)
{
	if (was_empty && !c->connecting)
		(void)evbuffer_write(c->out, c->fd);
	conn_arm_write(c);
}

int
conn_write(struct conn *c, const void *buf, size_t len)
{
	int	was_empty = evbuffer_get_length(c->out) == 0;

	if (len == 0)
		return (0);
	if (evbuffer_add(c->out, buf, len) == -1)
		return (-1);
	conn_push(c, was_empty);
	return (0);
}

int
conn_write_buffer(struct conn *c, struct evbuffer *b, size_t n)
{
	int	was_empty = evbuffer_get_length(c->out) == 0;

	if (evbuffer_remove_buffer(b, c->out, n) == -1)
		return (-1);
	conn_push(c, was_empty);
	return (0);
}

size_t
conn_queued(const struct conn *c)
{
	return (evbuffer_get_length(c->out));
}

/*
 * One system call at most, once per connection; a failure costs only
 * the segment it would have saved.
 */
void
conn_cork(struct conn *c)
{
	int	on = 1;

	if (c->corked)
		return;
	c->corked = 1;
	(void)setsockopt(c->fd, IPPROTO_TCP, TCP_CORK, &on, sizeof(on));
}

struct evbuffer *
conn_input(struct conn *c)
{
	return (c->in);
}

void
conn_free(struct conn *c)
{
	if (c == NULL)
		return;
	conn_arm(&c->rev, &c->rarmed, 0);
	conn_arm(&c->wev, &c->warmed, 0);
	evbuffer_free(c->in);
	evbuffer_free(c->out);
	close(c->fd);
	free(c);
}

/* An error or EOF: reading stops, then the owner hears of it. */
static void
conn_fail(struct conn *c, short what, int err)
{
	conn_read(c, 0);
	if (what & BEV_EVENT_WRITING)
		conn_arm(&c->wev, &c->warmed, 0);
	errno = err;
	c->eventcb(c, what, c->arg);
}

static void
conn_readable(int fd, short ev, void *arg)
{
	struct conn		*c = arg;
	struct evbuffer_iovec	 v;
	ssize_t			 n;

	if (evbuffer_reserve_space(c->in, CONN_READ_MAX, &v, 1) < 1) {
		conn_fail(c, BEV_EVENT_READING | BEV_EVENT_ERROR, ENOMEM);
		return;
	}
	if ((n = read(fd, v.iov_base, CONN_READ_MAX)) == -1) {
		if (errno != EAGAIN && errno != EINTR)
			conn_fail(c, BEV_EVENT_READING | BEV_EVENT_ERROR,
			    errno);
		return;
	}
	if (n == 0) {
		conn_fail(c, BEV_EVENT_READING | BEV_EVENT_EOF, 0);
		return;
	}
	v.iov_len = (size_t)n;
	evbuffer_commit_space(c->in, &v, 1);
	c->readcb(c, c->arg);
}

static void
conn_connected(struct conn *c)
{
	socklen_t	len;
	int		err = 0;

	len = sizeof(err);
	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err == EINPROGRESS || err == EINTR)
		return;
	c->connecting = 0;
	conn_arm_write(c);
	if (err != 0) {
		conn_fail(c, BEV_EVENT_ERROR, err);
		return;
	}
	c->eventcb(c, BEV_EVENT_CONNECTED, c->arg);
}

static void
conn_writable(int fd, short ev, void *arg)
{
	struct conn	*c = arg;

	if (c->connecting) {
		conn_connected(c);
		return;
	}
	if (evbuffer_write(c->out, fd) == -1) {
		if (errno != EAGAIN && errno != EINTR)
			conn_fail(c, BEV_EVENT_WRITING | BEV_EVENT_ERROR,
			    errno);
		return;
	}
	if (evbuffer_get_length(c->out) > 0)
		return;
	conn_arm_write(c);
	c->writecb(c, c->arg);
}
