/*
 * proxy.h: ftp-proxy's configuration and sessions.
 */
#ifndef PROXY_H
#define PROXY_H

#include <sys/queue.h>
#include <sys/socket.h>

#include <event.h>
#include <time.h>

#include "backend.h"
#include "ftp_parse.h"
#include "pfh_client.h"
#include "proto.h"

/*
 * A server line longer than FTP_LINE_MAX (CRLF incl.) is parsed on its
 * first FTP_LINE_MAX - 2 bytes and the rest streams through; a client
 * line may have FTP_CMD_MAX bytes, room for 8 KiB and a PATH_MAX path.
 */
#define FTP_LINE_MAX		4096
#define FTP_CMD_MAX		16384
#define FTP_CONNECT_TIMEOUT	30	/* seconds to reach the server */
#define FTP_BACKEND_TIMEOUT	3	/* -R: seconds, then the next one */
#define FTP_PERMIT_TIMEOUT	60	/* seconds a data permit waits */
#define FTP_BUF_HIGH		65536	/* stop reading above this backlog */
#define FTP_PIPELINE		16	/* commands awaiting their replies */
#define FTP_CLOSE_TIMEOUT	5	/* seconds to flush at the end */
#define FTP_PERMIT_RATE		100	/* data permits per second ... */
#define FTP_PERMIT_BURST	100	/* ... and at once, per session */

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
};

enum sess_cmd {
	SC_NONE = 0,		/* a command relayed to the server */
	SC_PASV,
	SC_EPSV,
	SC_LOCAL		/* a reply of ours, held back for order */
};

/*
 * What the client sent, in order, whose reply it has not seen yet:
 * commands awaiting the server's reply, and replies of our own that
 * must not overtake them.
 */
struct pending {
	enum sess_cmd		 cmd;
	char			*reply;		/* SC_LOCAL, CRLF incl. */
};

/* A data permit asked for, or waiting to be asked for. */
struct permit_req {
	uint8_t			 kind;		/* PFH_PASSIVE, PFH_ACTIVE */
	uint16_t		 tport;
	uint32_t		 pid;
	int			 inflight;
};

/* Where pfhelper is with the session. */
enum sess_pfh {
	SP_NONE = 0,		/* not asked, refused or ended */
	SP_STARTING,		/* SESSION_START sent */
	SP_REGISTERED
};

/* The 227/229 reply being relayed. */
struct pasv_state {
	int			 code;
	int			 final;		/* the current line is the last */
	int			 relayed;	/* lines of it went out */
	int			 swallow;	/* we replaced it: drop the rest */
	uint16_t		 port;		/* rewritten to, once known */
};

struct side {
	struct bufferevent	*bev;
	int			 fd;
	struct pfh_addr		 addr;	/* peer */
	uint16_t		 port;
	struct pfh_addr		 local;
	uint16_t		 lport;
	int			 partial;	/* relaying a long line's head */
	int			 streamed;	/* it went out as it came */
};

enum tail {
	TAIL_NONE = 0,
	TAIL_RELAY,		/* stream a long line's rest to the client */
	TAIL_DROP		/* discard it (the line was replaced) */
};

struct session {
	TAILQ_ENTRY(session)	 entry;
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
	int			 closing;	/* flushing to the client */
	int			 client_eof;	/* client sent FIN */
	int			 server_fin;	/* FIN passed to the server */
	int			 stalled;	/* client lines wait for room */
	int			 greeted;	/* server's greeting came */
	int			 epsv_all;
	int			 transfer;	/* a 1xx came, its end not yet */
	enum tail		 srv_tail;	/* inside a long server line */
	int			 cli_skip;	/* discarding a too long one */
	int			 host_counted;	/* in the per-host count */
	struct pending		 q[FTP_PIPELINE];
	unsigned int		 qhead, qlen;
	uint32_t		 permit;	/* live permit id, 0 if none */
	uint32_t		 npermits;
	struct permit_req	 preq;		/* in flight */
	struct permit_req	 pnext;		/* behind it */
	int			 wait_client;	/* PORT/EPRT awaits its permit */
	int			 wait_server;	/* 227/229 awaits its permit */
	int			 act_eprt;	/* ... and was EPRT */
	struct pasv_state	 pasv;
	double			 ptokens;	/* permit rate */
	struct timespec		 plast;
	int			 prate_logged;
	struct ftp_reply_state	 rstate;
	struct event		 timer;		/* connect, idle, close */
	struct event		 resume;	/* go on with stalled lines */
};

TAILQ_HEAD(session_list, session);

/* ftp-proxy.c */
extern struct proxy_conf	 conf;
extern struct pfh_client	 pfh;
extern struct event_base	*evbase;

/* session.c */
void	session_accept(int, short, void *);
void	session_end_all(void);
void	session_abort_all(const char *);
void	pfh_lost(const char *, void *);
void	session_close(struct session *, const char *);
void	session_send(struct side *, const char *, size_t);
void	session_reply(struct session *, const char *, ...)
	    __attribute__((__format__ (printf, 2, 3)));
uint32_t session_count(void);
void	session_resume(struct session *);
void	session_synch(struct session *);

/* farm.c: the servers of -R */
int	farm_pick(struct session *);
void	farm_release(struct session *);
void	farm_failed(struct session *, const char *);
void	farm_answered(struct session *);
const char *farm_name(const struct session *, char *, size_t);

/* relay.c */
int	client_line(struct session *, char *, size_t);
int	server_line(struct session *, char *, size_t);
void	client_reply(struct session *, const char *, ...)
	    __attribute__((__format__ (printf, 2, 3)));
void	queue_clear(struct session *);

/* netutil.c */
int	orig_dst(int, struct sockaddr_storage *, socklen_t *,
	    struct sockaddr_storage *);
int	is_local_addr(const struct sockaddr *, socklen_t);
int	listen_sockets(const char *, uint16_t, int, int *, int);

#endif /* PROXY_H */
