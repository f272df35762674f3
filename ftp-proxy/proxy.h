/* SPDX-License-Identifier: ISC */
/*
 * proxy.h: ftp-proxy's configuration and sessions.
 */
#ifndef PROXY_H
#define PROXY_H

#include <sys/queue.h>
#include <sys/socket.h>

#include <event2/event.h>
#include <event2/event_struct.h>

#include "backend.h"
#include "clock.h"
#include "conn.h"
#include "ftp_relay.h"
#include "hostlimit.h"
#include "pfh_client.h"
#include "proto.h"

#define FTP_LISTEN_PORT		8021	/* -p's default */
#define FTP_SESSIONS_DEFAULT	100	/* -m */
#define FTP_MAX_SESSIONS	100000	/* -m and -M at most */
#define FTP_IDLE_MAX		86400	/* -t: the default and the most */
#define FTP_PFH_WAIT		10	/* -W: seconds sessions wait for pfhelper */
#define FTP_CONNECT_TIMEOUT	30	/* seconds to reach the server */
#define FTP_BACKEND_TIMEOUT	3	/* -R: seconds, then the next one */
#define FTP_PERMIT_TIMEOUT	60	/* seconds a data permit waits */
#define FTP_BUF_HIGH		65536	/* stop reading above this backlog */
#define FTP_CLOSE_TIMEOUT	5	/* seconds to flush at the end */
#define FTP_TLS_PORT		FTPS_PORT /* implicit FTP over TLS */

struct proxy_conf {
	int			 family;	/* AF_UNSPEC, -4, -6 */
	const char		*listen_addr;	/* -b */
	uint16_t		 listen_port;	/* -p */
	struct sockaddr_storage	 src;		/* -a */
	socklen_t		 srclen;
	struct backend_set	 backends;	/* -R, -P */
	int			 reverse;
	int			 port20;	/* -r */
	int			 anon_only;	/* -A */
	uint32_t		 max_sessions;	/* -m */
	uint32_t		 max_per_host;	/* -M: per IPv4 host, IPv6 /64 */
	uint32_t		 idle_timeout;	/* -t */
	int			 verbose;	/* -v */
	const char		*tag;		/* -T: a ct label bit */
	const char		*queue;		/* -q: a tc class */
	uint16_t		 tls_lo;	/* -E: TLS data ports, */
	uint16_t		 tls_hi;	/* 0 0: no AUTH */
	uint16_t		 tls_port;	/* -I: implicit TLS (reverse) */
	struct hostaddr		*hosts;		/* this host's addresses */
};

/* Where pfhelper is with the session. */
enum sess_pfh {
	SP_NONE = 0,		/* not asked, refused or ended */
	SP_STARTING,		/* SESSION_START sent */
	SP_REGISTERED
};

struct side {
	struct conn		*conn;
	int			 fd;
	struct pfh_addr		 addr;	/* peer */
	uint16_t		 port;
	struct pfh_addr		 local;
	uint16_t		 lport;
};

/* How far an ending session is. */
enum closing {
	CLOSING_NO = 0,
	CLOSING_FLUSH,		/* flushing our last words to the client */
	CLOSING_LINGER		/* FIN sent, waiting (bounded) for its FIN */
};

enum tail {
	TAIL_NONE = 0,
	TAIL_RELAY,		/* stream a long line's rest to the client */
	TAIL_DROP		/* discard it (the line was replaced) */
};

struct ftp_ctx;

struct ftp_session {
	TAILQ_ENTRY(ftp_session)	 entry;
	struct ftp_ctx		*ctx;		/* the worker's */
	uint32_t		 id;
	struct side		 client;
	struct side		 server;
	struct pfh_addr		 dialled;	/* what the client dialled */
	uint16_t		 dport;
	struct pfh_addr		 target;	/* the server we connect to */
	uint16_t		 tport;
	int			 backend;	/* -R: its index + 1, or 0 */
	uint32_t		 tried;		/* -R: backends that failed it */
	enum sess_pfh		 pfhstate;
	struct pfh_calls	 calls;		/* pending at pfhelper */
	struct pfh_addr		 local;		/* where the client reached us */
	uint16_t		 lport;
	int			 connected;
	enum closing		 closing;
	int			 client_eof;	/* client sent FIN */
	int			 server_fin;	/* FIN passed to the server */
	int			 server_eof;	/* TLS: server sent FIN */
	int			 client_fin;	/* TLS: FIN passed to it */
	enum tail		 srv_tail;	/* inside a long server line */
	int			 cli_skip;	/* discarding a too long one */
	int			 host_counted;	/* in the per-host count */
	struct ftp_relay	 relay;		/* its FTP state */
	struct event		 timer;		/* connect, idle, close */
	struct event		 resume;	/* go on with stalled lines */
};

TAILQ_HEAD(ftp_session_list, ftp_session);

/*
 * FTP over TLS from the first byte: a connection to port 990 (forward
 * mode), or to -I's port (reverse mode, to the servers' port 990).
 */
static inline int
session_implicit(const struct proxy_conf *c, const struct ftp_session *s)
{
	return (c->reverse ? c->tls_port != 0 && s->lport == c->tls_port :
	    s->dport == FTP_TLS_PORT);
}

/*
 * What sessions ask of pfhelper: pfh_client.c's typed calls on the
 * worker's channel (ftp_pfh_client, arg a struct pfh_client), or a
 * unit test's fake.  Answers come through the pfh_done given.
 */
struct ftp_pfh {
	int	(*start)(void *, struct pfh_calls *, const struct pfh_session *,
		    pfh_done, void *);
	int	(*permit_add)(void *, struct pfh_calls *,
		    const struct pfh_permit *, pfh_done, void *);
	int	(*permit_del)(void *, uint32_t, uint32_t);
	int	(*end)(void *, uint32_t);
	void	(*cancel)(void *, struct pfh_calls *);
};
extern const struct ftp_pfh	ftp_pfh_client;

/*
 * The sockets of a session's life: accept4(2), socket(2), the server's
 * conn_connect() and getsockname(2), and orig_dst(); and connect(2) for
 * farm.c's tries: the system's (ftp_net_sys), or a unit test's fakes
 * over socket pairs.
 */
struct ftp_net {
	int	(*accept)(int, struct sockaddr *, socklen_t *, int);
	int	(*socket)(int, int, int);
	int	(*connect)(struct conn *, const struct sockaddr *, socklen_t);
	int	(*dial)(int, const struct sockaddr *, socklen_t);
	int	(*sockname)(int, struct sockaddr *, socklen_t *);
	int	(*orig_dst)(int, struct sockaddr_storage *, socklen_t *,
		    struct sockaddr_storage *);
};
extern const struct ftp_net	ftp_net_sys;

/* farm.c: a background try of a down server of -R. */
struct farm_probe {
	struct ftp_ctx	*ctx;
	struct event	ev;
	int		fd;
	int		idx;
};

/*
 * The worker's state, one per process: main fills the first six
 * fields, session_init() the rest.
 */
struct ftp_ctx {
	struct proxy_conf	*conf;
	struct event_base	*evbase;
	const struct ftp_pfh	*pfh;
	void			*pfh_arg;
	const struct ftp_net	*net;
	clock_fn		 clock;

	/* A session's end (session_close): the line pump's way out. */
	void			(*end)(struct ftp_session *, const char *);
	struct ftp_session_list	 sessions;
	uint32_t		 nsessions;	/* not closing */
	uint32_t		 next_id;
	int			 draining;	/* an old worker's end */
	struct event		 drain_ev;
	int			 shutting_down;
	struct hl_table		 hosts;		/* sessions per client host */
	int			 spare_fd;	/* given up at EMFILE */
	struct fr_out		 fro;		/* the relay's answer */
	struct farm_probe	 probes[BACKEND_MAX];
	struct event		 probe_timer;
};

/* session.c: the sessions' life (their lines: pump.c) */
void	session_init(struct ftp_ctx *);
/* accept(fd, ev, ctx): a listener's event */
void	session_accept(int, short, void *);
void	session_end_all(struct ftp_ctx *);
uint32_t session_count(const struct ftp_ctx *);
/* pfh_keep's refused(sid, why, ctx) and pfh_attach's lost(why, ctx) */
void	session_refused(uint32_t, const char *, void *);
void	session_drain(struct ftp_ctx *, uint32_t);
void	pfh_lost(const char *, void *);

/* farm.c: the servers of -R (farm_init: from session_init) */
void	farm_init(struct ftp_ctx *);
int	farm_pick(struct ftp_session *);
/* That server (its index), if it may be tried for s: 0, or -1. */
int	farm_pick_at(struct ftp_session *, int);
void	farm_release(struct ftp_session *);
void	farm_failed(struct ftp_session *, const char *, int);
void	farm_answered(struct ftp_session *);
const char *farm_name(const struct ftp_session *, char *, size_t);

/* origdst.c */
int	orig_dst(int, struct sockaddr_storage *, socklen_t *,
	    struct sockaddr_storage *);

#endif /* PROXY_H */
