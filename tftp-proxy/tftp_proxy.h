/* SPDX-License-Identifier: ISC */
/*
 * tftp_proxy.h: the pieces of tftp-proxy beside main: its UDP sockets
 * (sock.c) and the handling of one request (request.c).
 */
#ifndef TFTP_PROXY_H
#define TFTP_PROXY_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

#include "clock.h"
#include "proto.h"

#define TP_PORT_DEFAULT		6969
#define TP_TRANSWAIT_DEFAULT	2	/* seconds */
#define TP_TRANSWAIT_MAX	30
#define TP_DGRAM_MAX		1024	/* larger than any valid request */
#define TP_SESSIONS_DEFAULT	1024	/* -m: requests in flight */
#define TP_SESSIONS_MAX		65536
#define TP_PFH_WAIT_DEFAULT	10	/* -W: seconds to wait for pfhelper */

struct tp_conf {
	int			 family;	/* -4, -6, or AF_UNSPEC */
	const char		*listen_addr;	/* -l, NULL: wildcard */
	uint16_t		 listen_port;	/* -p */
	unsigned int		 transwait;	/* -w, seconds */
	uint32_t		 max_sessions;	/* -m: requests in flight */
	int			 verbose;	/* -v: log every request */
	/* -a: the source address of forwarded requests, per family. */
	struct sockaddr_storage	 src4;
	socklen_t		 src4len;	/* 0: the kernel chooses */
	struct sockaddr_storage	 src6;
	socklen_t		 src6len;
	/* -R: reverse mode, the server behind us, per family (af 0: none). */
	int			 reverse;
	struct pfh_addr		 rserver4;
	struct pfh_addr		 rserver6;
	struct hostaddr		*hosts;		/* this host's addresses */
};

/*
 * One datagram as received: its bytes, who sent it, and the address it
 * was sent to (the original destination under TPROXY; our own address
 * after a `redirect' or when it was not intercepted at all).
 */
struct tp_dgram {
	uint8_t			 buf[TP_DGRAM_MAX];
	size_t			 len;		/* > sizeof(buf): truncated */
	struct pfh_addr		 from;
	uint16_t		 fport;
	struct pfh_addr		 to;
	uint16_t		 tport;
	int			 lfd;		/* the socket it came on */
};

/* sock.c */
int	sock_inetd(void);
int	sock_activated(int *, int);
int	sock_setup(int);
int	sock_recv(int, struct tp_dgram *);
int	sock_connect(const struct pfh_addr *, uint16_t,
	    const struct sockaddr_storage *, socklen_t, struct pfh_addr *,
	    uint16_t *);
int	sock_reply(const struct tp_dgram *, void *, size_t);

struct pfh_client;
struct event_base;
struct tp_requests;

/*
 * What request.c reaches the network through: sock.c's (tp_net_sock),
 * or a test's fakes.  connect: as sock_connect; reply: a datagram to
 * the client of a request, from where the request was sent to.
 */
struct tp_net {
	int	(*connect)(const struct pfh_addr *, uint16_t,
		    const struct sockaddr_storage *, socklen_t,
		    struct pfh_addr *, uint16_t *);
	int	(*reply)(const struct tp_dgram *, void *, size_t);
};
extern const struct tp_net tp_net_sock;

/*
 * request.c: the requests of one process, in base's loop, asking pfh,
 * reading the time from clock (clock_mono, or a test's).
 */
struct tp_requests *request_new(const struct tp_conf *, struct pfh_client *,
		    struct event_base *, const struct tp_net *, clock_fn);
void		request_read(struct tp_requests *, int);
void		request_handle(struct tp_requests *, const struct tp_dgram *);
unsigned int	request_count(const struct tp_requests *);
void		request_end_all(struct tp_requests *);
void		request_free(struct tp_requests *);
/*
 * A new pfhelper refused session sid made again: the transfer ends.
 * pfhelper is lost for good: every request still waiting for it gets
 * an ERROR and a log line.
 */
void		request_refused(struct tp_requests *, uint32_t, const char *);
void		request_abandon(struct tp_requests *, const char *);

#endif /* TFTP_PROXY_H */
