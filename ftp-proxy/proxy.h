/*
 * proxy.h: ftp-proxy's configuration and sessions.
 */
#ifndef PROXY_H
#define PROXY_H

#include <sys/queue.h>
#include <sys/socket.h>

#include <event.h>

#include "ftp_parse.h"
#include "pfh_client.h"
#include "proto.h"

#define FTP_LINE_MAX		4096	/* longest control line, CRLF incl. */
#define FTP_CONNECT_TIMEOUT	30	/* seconds to reach the server */
#define FTP_PERMIT_TIMEOUT	60	/* seconds a data permit waits */
#define FTP_BUF_HIGH		65536	/* stop reading above this backlog */
#define FTP_DATA_PORT_LO	49152
#define FTP_DATA_PORT_HI	65535
#define FTP_PIPELINE		16	/* commands awaiting their replies */
#define FTP_CLOSE_TIMEOUT	5	/* seconds to flush at the end */

struct proxy_conf {
	int			 family;	/* AF_UNSPEC, -4, -6 */
	const char		*listen_addr;	/* -b */
	uint16_t		 listen_port;	/* -p */
	struct sockaddr_storage	 src;		/* -a */
	socklen_t		 srclen;
	struct sockaddr_storage	 rserver;	/* -R, -P */
	socklen_t		 rserverlen;
	int			 reverse;
	int			 port20;	/* -r */
	int			 anon_only;	/* -A */
	uint32_t		 max_sessions;	/* -m */
	uint32_t		 max_per_host;	/* -M: per IPv4 host, IPv6 /64 */
	uint32_t		 idle_timeout;	/* -t */
	int			 verbose;	/* -v */
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

struct side {
	struct bufferevent	*bev;
	int			 fd;
	struct pfh_addr		 addr;	/* peer */
	uint16_t		 port;
	struct pfh_addr		 local;
	uint16_t		 lport;
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
	int			 registered;	/* pfhelper knows it */
	int			 connected;
	int			 closing;	/* flushing to the client */
	int			 client_eof;	/* client sent FIN */
	int			 server_fin;	/* FIN passed to the server */
	int			 stalled;	/* client lines wait for room */
	int			 greeted;	/* server's greeting came */
	int			 epsv_all;
	int			 host_counted;	/* in the per-host count */
	struct pending		 q[FTP_PIPELINE];
	unsigned int		 qhead, qlen;
	uint32_t		 permit;	/* live permit id, 0 if none */
	uint32_t		 npermits;
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
void	session_close(struct session *, const char *);
void	session_send(struct side *, const char *, size_t);
void	session_reply(struct session *, const char *, ...)
	    __attribute__((__format__ (printf, 2, 3)));
uint32_t session_count(void);
void	session_resume(struct session *);
void	session_synch(struct session *);

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
