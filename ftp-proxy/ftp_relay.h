/* SPDX-License-Identifier: ISC */
/*
 * ftp_relay.h: the FTP protocol state of one proxied control connection,
 * as a pure module: no I/O, no globals, no clock, no logging of its own.
 * The caller (pump.c) feeds it a client line, a server line or the
 * answer to a permit it asked for; each call fills a struct fr_out with
 * the actions to carry out, in order: bytes for the client or the
 * server, a Telnet Synch, a data permit to ask for or to drop, a log
 * line, "the held sides may be read again", or "end the session".
 *
 * What the relay does with the lines: PORT, EPRT, PASV and EPSV and the
 * server's 227 and 229 replies are checked and rewritten, and a data
 * permit is in place before the rewritten line leaves; every other
 * command goes in the one spelling the relay checked (Telnet commands
 * removed, ftp_canon_cmd()), never in the client's own bytes.  Replies
 * of our own wait in the pending queue behind the server's replies to
 * the commands before them, and behind the greeting.
 *
 * FTP over TLS (fr_conf.tls_lo != 0, ftp-proxy -E): AUTH TLS or AUTH
 * SSL goes to the server and the client is held until its reply.  A
 * 234 is held too while the session's range permit is asked for; once
 * it is in place the 234 goes to the client with FR_TLS: from the next
 * byte on the session is a byte relay, and the relay takes no more
 * lines.  A refused permit ends the session (the server is in TLS
 * already); another reply to AUTH lets the session go on in clear.
 * Without -E, AUTH is answered 502.
 *
 * A side whose line needs a permit is held (ftp_relay_ready() says 0)
 * until the answer comes, so what follows stays in order; the client is
 * also held while FTP_PIPELINE commands await their replies.  One
 * permit request is in flight at a time; a second waits behind it.
 */
#ifndef FTP_RELAY_H
#define FTP_RELAY_H

#include <stddef.h>
#include <stdint.h>

#include "ftp_parse.h"
#include "proto.h"

/*
 * A server line longer than FTP_LINE_MAX (CRLF incl.) is parsed on its
 * first FTP_LINE_MAX - 2 bytes and the rest streams through; a client
 * line may have FTP_CMD_MAX bytes, room for 8 KiB and a PATH_MAX path.
 */
#define FTP_LINE_MAX		4096
#define FTP_CMD_MAX		16384
#define FTP_PIPELINE		16	/* commands awaiting their replies */
#define FTP_PERMIT_RATE		100	/* data permits per second ... */
#define FTP_PERMIT_BURST	100	/* ... and at once, per session */
#define FR_REPLY_MAX		512	/* a reply of ours, CRLF incl. */

enum fr_side {
	FR_CLIENT,
	FR_SERVER
};

enum fr_act {
	FR_TO_CLIENT,		/* bytes for the client */
	FR_TO_SERVER,		/* bytes for the server */
	FR_SYNCH,		/* RFC 959 Synch to the server (ABOR next) */
	FR_PERMIT_ASK,		/* kind, tport (thigh), pid; answer
				   ftp_relay_permit */
	FR_PERMIT_DROP,		/* pid: the permit is no longer needed */
	FR_RESUME,		/* see ftp_relay_ready() again, both sides */
	FR_LOG,			/* prio, text (already escaped) */
	FR_TLS,			/* relay bytes from now on, both ways */
	FR_CLOSE		/* text: why; end the session (the last) */
};

struct fr_action {
	enum fr_act	 type;
	int		 prio;		/* FR_LOG: a syslog priority */
	uint8_t		 kind;		/* FR_PERMIT_ASK: PFH_PASSIVE, ... */
	uint16_t	 tport;		/* FR_PERMIT_ASK */
	uint16_t	 thigh;		/* FR_PERMIT_ASK, PFH_RANGE */
	uint32_t	 pid;		/* FR_PERMIT_ASK, FR_PERMIT_DROP */
	const char	*data;		/* in the fr_out's buffer */
	size_t		 len;
};

/*
 * Room for the most one call produces: a canonical client command
 * (FTP_CMD_MAX bytes, each IAC doubled), or a server line and the
 * queued replies of ours it lets go, and a few log lines.
 */
#define FR_ACTIONS_MAX	48
#define FR_OUT_MAX	(2 * FTP_CMD_MAX + 2 + \
			    (FTP_PIPELINE + 2) * FR_REPLY_MAX + 4 * 256)

struct fr_out {
	struct fr_action a[FR_ACTIONS_MAX];
	size_t		 n;
	int		 streamed;	/* a line's head went without CRLF */
	int		 overflow;	/* a bug: actions were lost */
	size_t		 used;
	char		 buf[FR_OUT_MAX];
};

/* What the relay knows of its session; copied by ftp_relay_init(). */
struct fr_conf {
	struct pfh_addr	 client;	/* PORT/EPRT must name it */
	struct pfh_addr	 server;	/* for the log lines */
	struct pfh_addr	 to_server;	/* our address there: PORT/EPRT */
	struct pfh_addr	 to_client;	/* the client dialled it: 227/229 */
	int		 anon_only;	/* -A */
	int		 port20;	/* -r: for the log lines */
	uint16_t	 tls_lo;	/* -E: TLS sessions' data ports, */
	uint16_t	 tls_hi;	/* 0 0: AUTH is refused */
};

/* The command a pending entry stands for. */
enum fr_cmd {
	FR_CMD_RELAYED = 0,	/* a command relayed to the server */
	FR_CMD_PASV,
	FR_CMD_EPSV,
	FR_CMD_AUTH,		/* AUTH TLS or SSL, with -E */
	FR_CMD_LOCAL		/* a reply of ours, held back for order */
};

/* The fields below are the module's own: use the functions. */
struct fr_pending {
	enum fr_cmd	 cmd;
	char		*reply;		/* FR_CMD_LOCAL, CRLF incl. */
	size_t		 len;
};

struct fr_permit {
	uint8_t		 kind;
	uint16_t	 tport;
	uint32_t	 pid;
	int		 inflight;
};

/* The 227/229 reply being relayed. */
struct fr_pasv {
	int		 code;
	int		 final;		/* the current line is the last */
	int		 relayed;	/* lines of it went out */
	int		 swallow;	/* we replaced it: drop the rest */
	uint16_t	 port;		/* rewritten to, once known */
};

struct ftp_relay {
	struct fr_conf		 conf;
	struct ftp_reply_state	 rstate;
	struct fr_pending	 q[FTP_PIPELINE];
	unsigned int		 qhead, qlen;
	int			 greeted;	/* the server's greeting came */
	int			 epsv_all;
	int			 transfer;	/* a 1xx came, no end yet */
	int			 wait_client;	/* PORT/EPRT awaits a permit */
	int			 wait_server;	/* 227/229 awaits its permit */
	int			 act_eprt;	/* ... and was EPRT */
	uint32_t		 permit;	/* live permit id, 0 if none */
	uint32_t		 npermits;
	struct fr_permit	 preq;		/* in flight */
	struct fr_permit	 pnext;		/* behind it */
	struct fr_pasv		 pasv;
	double			 ptokens;	/* permit rate */
	double			 plast;
	int			 pstarted;
	int			 prate_logged;
	int			 auth;		/* AUTH awaits its reply */
	int			 tls;		/* a byte relay now */
	char			 tls_reply[FR_REPLY_MAX]; /* the 234 */
	size_t			 tls_len;
};

void	ftp_relay_init(struct ftp_relay *, const struct fr_conf *);
/* Frees what the relay holds; it may be initialised again. */
void	ftp_relay_clear(struct ftp_relay *);

/*
 * Whether a line from that side may be fed now.  A call for a side that
 * is not ready is refused (-1) and does nothing.
 */
int	ftp_relay_ready(const struct ftp_relay *, enum fr_side);

/*
 * A client line without its CRLF (line is changed: Telnet commands are
 * removed in place).  now: a monotonic clock in seconds, for the permit
 * rate.  0, or -1 if the client side is not ready.
 */
int	ftp_relay_client(struct ftp_relay *, char *, size_t, double,
	    struct fr_out *);
/* The client sent a line longer than FTP_CMD_MAX (discarded). */
void	ftp_relay_client_too_long(struct ftp_relay *, struct fr_out *);

/*
 * A server line without its CRLF.  partial: it is the head of a longer
 * line whose rest follows; out->streamed then says whether the head
 * went to the client as it came (the rest must follow it) or not (the
 * rest must be dropped).  0, or -1 if the server side is not ready.
 */
int	ftp_relay_server(struct ftp_relay *, const char *, size_t, int,
	    double, struct fr_out *);

/*
 * The answer to the FR_PERMIT_ASK in flight: the proxy port of the
 * permit, or 0 if it was refused.  0, or -1 if none is in flight.
 */
int	ftp_relay_permit(struct ftp_relay *, uint16_t, struct fr_out *);

/* A 1xx reply came and not yet its completion (a transfer runs). */
int	ftp_relay_transfer(const struct ftp_relay *);
/* The session is a byte relay now (FR_TLS came). */
int	ftp_relay_tls(const struct ftp_relay *);
/*
 * Implicit FTP over TLS (port 990, with -E): TLS from the first byte.
 * Both sides are held while the range permit is asked for; then FR_TLS
 * (or, refused, FR_CLOSE).  Call it first, instead of any line.
 */
void	ftp_relay_implicit(struct ftp_relay *, double, struct fr_out *);

#endif /* FTP_RELAY_H */
