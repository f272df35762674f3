/* SPDX-License-Identifier: ISC */
/*
 * ftp_relay.c: the FTP protocol state of one session (ftp_relay.h).
 * Pure: every effect is an action in the caller's struct fr_out.
 */
#include "compat.h"

#include <sys/socket.h>
#include <netinet/in.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>

#include "addr.h"
#include "ftp_relay.h"
#include "log.h"
#include "telnet.h"

#define CANNOT_OPEN	"Proxy cannot open the data connection"

static void	out_reset(struct fr_out *);
static struct fr_action *out_add(struct fr_out *, enum fr_act, const char *,
		    size_t);
static void	out_log(struct fr_out *, int, const char *, ...)
		    __attribute__((__format__ (printf, 3, 4)));
static void	send_line(struct fr_out *, enum fr_act, const char *, size_t,
		    int);
static int	vfmt_reply(char *, size_t, const char *, va_list)
		    __attribute__((__format__ (printf, 3, 0)));
static void	reply_now(struct fr_out *, const char *, ...)
		    __attribute__((__format__ (printf, 2, 3)));
static void	client_reply(struct ftp_relay *, struct fr_out *,
		    const char *, ...)
		    __attribute__((__format__ (printf, 3, 4)));
static int	q_push(struct ftp_relay *, struct fr_out *, enum fr_cmd,
		    char *, size_t);
static void	q_pop(struct ftp_relay *);
static void	q_flush_local(struct ftp_relay *, int, struct fr_out *);
static void	relay_cmd(struct ftp_relay *, struct fr_out *, enum fr_cmd,
		    const char *, size_t);
static int	af_num(const struct ftp_relay *);
static int	permit_rate_ok(struct ftp_relay *, double, struct fr_out *);
static void	permit_send(struct ftp_relay *, struct fr_out *);
static void	permit_ask(struct ftp_relay *, uint8_t, uint16_t, double,
		    struct fr_out *);
static void	hp_from_addr(struct ftp_hostport *, const struct pfh_addr *,
		    uint16_t);
static void	do_active(struct ftp_relay *, struct ftp_cmd *, int, double,
		    struct fr_out *);
static void	active_done(struct ftp_relay *, uint16_t, struct fr_out *);
static void	do_passive(struct ftp_relay *, struct ftp_cmd *, int,
		    struct fr_out *);
static int	is_anonymous(const struct ftp_cmd *);
static int	client_canon(struct ftp_relay *, char *, size_t *, char *,
		    size_t, struct fr_out *);
static void	passive_fail(struct ftp_relay *, const char *,
		    struct fr_out *);
static void	passive_send(struct ftp_relay *, struct fr_out *);
static void	reply_done(struct ftp_relay *, struct fr_out *);
static void	passive_done(struct ftp_relay *, uint16_t, struct fr_out *);
static void	passive_line(struct ftp_relay *, enum fr_cmd, int, int,
		    const char *, size_t, int, double, struct fr_out *);
static void	do_auth(struct ftp_relay *, const struct ftp_cmd *,
		    const char *, size_t, struct fr_out *);
static void	auth_reply(struct ftp_relay *, int, const char *, size_t,
		    double, struct fr_out *);
static void	tls_done(struct ftp_relay *, uint16_t, struct fr_out *);

static void
out_reset(struct fr_out *out)
{
	out->n = 0;
	out->used = 0;
	out->streamed = 0;
	out->overflow = 0;
}

/* An action; its data is copied into out's buffer. */
static struct fr_action *
out_add(struct fr_out *out, enum fr_act type, const char *data, size_t len)
{
	struct fr_action	*a;

	if (out->n == FR_ACTIONS_MAX || len > sizeof(out->buf) - out->used) {
		out->overflow = 1;
		return (NULL);
	}
	a = &out->a[out->n++];
	memset(a, 0, sizeof(*a));
	a->type = type;
	a->data = out->buf + out->used;
	a->len = len;
	if (len > 0)
		memcpy(out->buf + out->used, data, len);
	out->used += len;
	return (a);
}

static void
out_log(struct fr_out *out, int prio, const char *fmt, ...)
{
	struct fr_action	*a;
	char			 buf[256];
	va_list			 ap;
	int			 n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(buf))
		n = sizeof(buf) - 1;
	if ((a = out_add(out, FR_LOG, buf, (size_t)n)) != NULL)
		a->prio = prio;
}

/* A line to one side; CRLF added unless it is the head of a longer one. */
static void
send_line(struct fr_out *out, enum fr_act to, const char *line, size_t len,
    int partial)
{
	char	buf[FTP_LINE_MAX + 2];

	if (partial || len > sizeof(buf) - 2) {
		out_add(out, to, line, len);
		if (partial)
			out->streamed = 1;
		else
			out_add(out, to, "\r\n", 2);
		return;
	}
	memcpy(buf, line, len);
	memcpy(buf + len, "\r\n", 2);
	out_add(out, to, buf, len + 2);
}

/* A reply in buf, CRLF added, cut to fit: its length, or -1. */
static int
vfmt_reply(char *buf, size_t size, const char *fmt, va_list ap)
{
	int	n;

	n = vsnprintf(buf, size - 2, fmt, ap);
	if (n < 0)
		return (-1);
	if ((size_t)n > size - 3)
		n = size - 3;
	buf[n++] = '\r';
	buf[n++] = '\n';
	return (n);
}

/* A reply of ours, now, whatever is pending. */
static void
reply_now(struct fr_out *out, const char *fmt, ...)
{
	char	buf[FR_REPLY_MAX];
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vfmt_reply(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0)
		out_add(out, FR_TO_CLIENT, buf, (size_t)n);
}

/*
 * A reply of ours to a client command: sent now if nothing is pending,
 * else once the server has greeted and answered the commands before it.
 */
static void
client_reply(struct ftp_relay *r, struct fr_out *out, const char *fmt, ...)
{
	char	buf[FR_REPLY_MAX], *copy;
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vfmt_reply(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n <= 0)
		return;
	if (r->qlen == 0 && r->greeted) {
		out_add(out, FR_TO_CLIENT, buf, (size_t)n);
		return;
	}
	if ((copy = malloc((size_t)n)) == NULL) {
		out_add(out, FR_CLOSE, "out of memory", 13);
		return;
	}
	memcpy(copy, buf, (size_t)n);
	q_push(r, out, FR_CMD_LOCAL, copy, (size_t)n);
}

/*
 * The queue of what awaits a reply, in the client's order.  A client
 * line is only taken while there is room (ftp_relay_ready), and each
 * line adds at most one entry.
 */
static int
q_push(struct ftp_relay *r, struct fr_out *out, enum fr_cmd c, char *reply,
    size_t len)
{
	struct fr_pending	*p;

	if (r->qlen == FTP_PIPELINE) {
		free(reply);
		out_add(out, FR_CLOSE, "pending queue overflow", 22);
		return (-1);
	}
	p = &r->q[(r->qhead + r->qlen) % FTP_PIPELINE];
	p->cmd = c;
	p->reply = reply;
	p->len = len;
	r->qlen++;
	return (0);
}

static void
q_pop(struct ftp_relay *r)
{
	struct fr_pending	*p = &r->q[r->qhead];

	free(p->reply);
	p->reply = NULL;
	r->qhead = (r->qhead + 1) % FTP_PIPELINE;
	r->qlen--;
}

/*
 * Our replies that waited for the server's earlier ones: now.  If the
 * queue was full (the client held), there is room again.
 */
static void
q_flush_local(struct ftp_relay *r, int was_full, struct fr_out *out)
{
	struct fr_pending	*p;

	while (r->qlen > 0 && (p = &r->q[r->qhead])->cmd == FR_CMD_LOCAL) {
		out_add(out, FR_TO_CLIENT, p->reply, p->len);
		q_pop(r);
	}
	if (was_full && r->qlen < FTP_PIPELINE)
		out_add(out, FR_RESUME, NULL, 0);
}

/* A command to the server; its reply is expected in order. */
static void
relay_cmd(struct ftp_relay *r, struct fr_out *out, enum fr_cmd c,
    const char *line, size_t len)
{
	if (q_push(r, out, c, NULL, 0) == 0)
		send_line(out, FR_TO_SERVER, line, len, 0);
}

static int
af_num(const struct ftp_relay *r)
{
	return (r->conf.client.af == AF_INET6 ? 2 : 1);
}

/*
 * Token bucket per session: a client that asks for data connections
 * faster than any real one (a PORT loop) gets 425s and cannot take
 * pfhelper's time from the others.  Logged once per burst.
 */
static int
permit_rate_ok(struct ftp_relay *r, double now, struct fr_out *out)
{
	if (!r->pstarted) {
		r->pstarted = 1;
		r->ptokens = FTP_PERMIT_BURST;
	} else if (now > r->plast) {
		r->ptokens += (now - r->plast) * FTP_PERMIT_RATE;
		if (r->ptokens > FTP_PERMIT_BURST)
			r->ptokens = FTP_PERMIT_BURST;
	}
	r->plast = now;
	if (r->ptokens >= FTP_PERMIT_BURST / 2)
		r->prate_logged = 0;	/* the burst is over */
	if (r->ptokens < 1) {
		if (!r->prate_logged)
			out_log(out, LOG_NOTICE, "more than %d data "
			    "connections per second: refused",
			    FTP_PERMIT_RATE);
		r->prate_logged = 1;
		return (0);
	}
	r->ptokens -= 1;
	return (1);
}

/* Ask for the permit in r->preq; the old one goes first. */
static void
permit_send(struct ftp_relay *r, struct fr_out *out)
{
	struct fr_action	*a;

	if (r->permit != 0 && (a = out_add(out, FR_PERMIT_DROP, NULL,
	    0)) != NULL)
		a->pid = r->permit;
	r->permit = 0;
	if (++r->npermits == 0)
		r->npermits = 1;
	r->preq.pid = r->npermits;
	r->preq.inflight = 1;
	if ((a = out_add(out, FR_PERMIT_ASK, NULL, 0)) == NULL)
		return;
	a->kind = r->preq.kind;
	a->tport = r->preq.tport;
	a->pid = r->preq.pid;
	if (a->kind == PFH_RANGE)
		a->thigh = r->conf.tls_hi;
}

/*
 * Ask for a permit; the side that asked waits for ftp_relay_permit(),
 * which a refusal at once goes through as well.
 */
static void
permit_ask(struct ftp_relay *r, uint8_t kind, uint16_t tport, double now,
    struct fr_out *out)
{
	int	ok = permit_rate_ok(r, now, out);

	if (ok && r->preq.inflight) {
		r->pnext.kind = kind;
		r->pnext.tport = tport;
		r->pnext.inflight = 1;	/* queued behind it */
	} else if (ok) {
		r->preq.kind = kind;
		r->preq.tport = tport;
		permit_send(r, out);
	}
	if (!ok && kind == PFH_RANGE)
		tls_done(r, 0, out);
	else if (!ok && kind == PFH_ACTIVE)
		client_reply(r, out, "425 " CANNOT_OPEN);
	else if (!ok)
		passive_fail(r, CANNOT_OPEN, out);
	else if (kind == PFH_ACTIVE)
		r->wait_client = 1;
	else
		r->wait_server = 1;
}

int
ftp_relay_permit(struct ftp_relay *r, uint16_t port, struct fr_out *out)
{
	char		a[ADDR_STRLEN];
	uint8_t		kind = r->preq.kind;

	out_reset(out);
	if (!r->preq.inflight)
		return (-1);
	r->preq.inflight = 0;
	if (port != 0 && !proto_data_port_ok(port)) {
		out_log(out, LOG_ERR, "pfhelper chose port %u", port);
		port = 0;
	} else if (port != 0 && kind == PFH_PASSIVE) {
		r->permit = r->preq.pid;
		out_log(out, LOG_INFO, "passive: client %s to proxy port %u "
		    "-> server port %u", addr_str(&r->conf.client, a,
		    sizeof(a)), port, r->preq.tport);
	} else if (port != 0 && kind == PFH_RANGE) {
		/* It lives as long as the session: never dropped. */
		out_log(out, LOG_INFO, "TLS: client %s, server data ports "
		    "%u-%u; relaying bytes from now on", addr_str(
		    &r->conf.client, a, sizeof(a)), r->conf.tls_lo,
		    r->conf.tls_hi);
	} else if (port != 0) {
		r->permit = r->preq.pid;
		out_log(out, LOG_INFO, "active: server %s to proxy port %u "
		    "-> client port %u%s", addr_str(&r->conf.server, a,
		    sizeof(a)), port, r->preq.tport, r->conf.port20 ?
		    " (from port 20)" : "");
	}
	if (kind == PFH_RANGE) {
		tls_done(r, port, out);
		return (0);
	}
	if (kind == PFH_ACTIVE)
		active_done(r, port, out);
	else
		passive_done(r, port, out);
	if (r->pnext.inflight) {
		r->preq = r->pnext;
		r->pnext.inflight = 0;
		permit_send(r, out);
	}
	return (0);
}

static void
hp_from_addr(struct ftp_hostport *hp, const struct pfh_addr *a,
    uint16_t port)
{
	memset(hp, 0, sizeof(*hp));
	hp->af = a->af;
	memcpy(hp->addr, a->addr, sizeof(hp->addr));
	hp->port = port;
}

/* PORT and EPRT: checks, then a permit; the command when it is there. */
static void
do_active(struct ftp_relay *r, struct ftp_cmd *cmd, int rc, double now,
    struct fr_out *out)
{
	const char	*verb = cmd->verb == FTP_CMD_PORT ? "PORT" : "EPRT";
	struct pfh_addr	 a;

	if (rc == -1 && cmd->err == FTP_ERR_PROTO) {
		client_reply(r, out, "522 Network protocol not supported, "
		    "use (%d)", af_num(r));
		return;
	}
	if (rc == -1) {
		client_reply(r, out, "501 %s: %s", verb,
		    ftp_strerror(cmd->err));
		return;
	}
	if (r->epsv_all) {
		client_reply(r, out, "501 %s not allowed after EPSV ALL",
		    verb);
		return;
	}
	ftp_hostport_unmap(&cmd->hp);
	if (cmd->hp.af != r->conf.client.af) {
		if (cmd->verb == FTP_CMD_PORT)
			client_reply(r, out, "500 PORT is for IPv4, use EPRT");
		else
			client_reply(r, out, "522 Network protocol not "
			    "supported, use (%d)", af_num(r));
		return;
	}
	memset(&a, 0, sizeof(a));
	a.af = cmd->hp.af;
	memcpy(a.addr, cmd->hp.addr, addr_len(&a));
	if (!addr_eq(&a, &r->conf.client)) {
		out_log(out, LOG_NOTICE, "%s to a third host refused "
		    "(bounce)", verb);
		client_reply(r, out, "501 %s: the address must be your own",
		    verb);
		return;
	}
	if (!proto_data_port_ok(cmd->hp.port)) {
		out_log(out, LOG_NOTICE, "%s to port %u refused", verb,
		    cmd->hp.port);
		client_reply(r, out, "501 %s: ports below %u are refused",
		    verb, PFH_DATA_PORT_MIN);
		return;
	}
	r->act_eprt = cmd->verb == FTP_CMD_EPRT;
	permit_ask(r, PFH_ACTIVE, cmd->hp.port, now, out);
}

/* The permit for a PORT/EPRT came (port), or not (0): go on. */
static void
active_done(struct ftp_relay *r, uint16_t port, struct fr_out *out)
{
	struct ftp_hostport	hp;
	char			buf[FTP_FMT_MAX];
	int			n;

	r->wait_client = 0;
	if (port == 0)
		client_reply(r, out, "425 " CANNOT_OPEN);
	else {
		hp_from_addr(&hp, &r->conf.to_server, port);
		n = r->act_eprt ? ftp_fmt_eprt(buf, sizeof(buf), &hp) :
		    ftp_fmt_port(buf, sizeof(buf), &hp);
		if (n > 0 && q_push(r, out, FR_CMD_RELAYED, NULL, 0) == 0)
			out_add(out, FR_TO_SERVER, buf, (size_t)n);
	}
	out_add(out, FR_RESUME, NULL, 0);
}

/* PASV and EPSV: checked here, rewritten when the reply comes. */
static void
do_passive(struct ftp_relay *r, struct ftp_cmd *cmd, int rc,
    struct fr_out *out)
{
	if (cmd->verb == FTP_CMD_EPSV && (rc == -1 ||
	    ((cmd->epsv == FTP_EPSV_INET || cmd->epsv == FTP_EPSV_INET6) &&
	    (int)cmd->epsv != af_num(r)))) {
		client_reply(r, out, "522 Network protocol not supported, "
		    "use (%d)", af_num(r));
		return;
	}
	if (cmd->verb == FTP_CMD_PASV) {
		if (r->epsv_all)
			client_reply(r, out, "501 PASV not allowed after "
			    "EPSV ALL");
		else if (r->conf.client.af != AF_INET)
			client_reply(r, out, "500 PASV is for IPv4, use EPSV");
		else
			relay_cmd(r, out, FR_CMD_PASV, "PASV", 4);
		return;
	}
	if (cmd->epsv == FTP_EPSV_ALL) {
		r->epsv_all = 1;
		relay_cmd(r, out, FR_CMD_RELAYED, "EPSV ALL", 8);
		return;
	}
	relay_cmd(r, out, FR_CMD_EPSV, "EPSV", 4);
}

static int
is_anonymous(const struct ftp_cmd *cmd)
{
	return ((cmd->arglen == 3 && strncasecmp(cmd->arg, "ftp", 3) == 0) ||
	    (cmd->arglen == 9 && strncasecmp(cmd->arg, "anonymous", 9) == 0));
}

/*
 * What a server that strips Telnet commands or splits at any blank
 * would read must be what we check: Telnet out (in place), then the
 * canonical line into canon, or a 500 and -1.
 */
static int
client_canon(struct ftp_relay *r, char *line, size_t *len, char *canon,
    size_t size, struct fr_out *out)
{
	const char	*why;
	char		 esc[128];
	unsigned int	 seen;
	int		 n;

	if (telnet_strip(line, *len, len, &seen) == -1) {
		why = "Telnet command cut short";
		goto bad;
	}
	if (seen != 0)
		out_log(out, LOG_DEBUG, "Telnet commands removed");
	if ((n = ftp_canon_cmd(line, *len, canon, size, &why)) == -1)
		goto bad;
	return (n);
 bad:
	out_log(out, LOG_NOTICE, "command refused (%s): %s", why,
	    log_escape(line, *len, esc, sizeof(esc)));
	client_reply(r, out, "500 %s", why);
	return (-1);
}

/*
 * AUTH: without -E, 502 (nobody in the middle can read TLS); with it,
 * TLS and SSL go to the server and the client waits for the reply.
 */
static void
do_auth(struct ftp_relay *r, const struct ftp_cmd *cmd, const char *canon,
    size_t clen, struct fr_out *out)
{
	char	esc[64];

	if (r->conf.tls_lo == 0) {
		out_log(out, LOG_NOTICE, "AUTH %s refused: FTP over TLS "
		    "needs -E", log_escape(cmd->arg, cmd->arglen, esc,
		    sizeof(esc)));
		client_reply(r, out, "502 AUTH is not supported by the proxy");
		return;
	}
	if ((cmd->arglen != 3 || (strncasecmp(cmd->arg, "TLS", 3) != 0 &&
	    strncasecmp(cmd->arg, "SSL", 3) != 0)) && (cmd->arglen != 5 ||
	    strncasecmp(cmd->arg, "TLS-C", 5) != 0)) {
		client_reply(r, out, "504 AUTH %s is not supported by the "
		    "proxy", log_escape(cmd->arg, cmd->arglen, esc,
		    sizeof(esc)));
		return;
	}
	r->auth = 1;
	relay_cmd(r, out, FR_CMD_AUTH, canon, clen);
}

/*
 * The final line of the reply to AUTH: a 234 waits for the range
 * permit; anything else goes to the client, and the session goes on
 * in clear.
 */
static void
auth_reply(struct ftp_relay *r, int code, const char *line, size_t len,
    double now, struct fr_out *out)
{
	if (code != 234) {
		send_line(out, FR_TO_CLIENT, line, len, 0);
		r->auth = 0;
		out_add(out, FR_RESUME, NULL, 0);
		return;
	}
	if (len > sizeof(r->tls_reply) - 2)
		len = sizeof(r->tls_reply) - 2;
	memcpy(r->tls_reply, line, len);
	memcpy(r->tls_reply + len, "\r\n", 2);
	r->tls_len = len + 2;
	permit_ask(r, PFH_RANGE, r->conf.tls_lo, now, out);
}

/*
 * The range permit is in place (port), or not (0).  The server has
 * turned to TLS either way: without the permit the session ends.
 */
static void
tls_done(struct ftp_relay *r, uint16_t port, struct fr_out *out)
{
	r->wait_server = 0;
	if (port == 0) {
		out_log(out, LOG_ERR, "TLS: no range permit for the data "
		    "connections");
		if (r->tls_len > 0)	/* the client still speaks FTP */
			reply_now(out, "421 Proxy cannot permit the data "
			    "connections of a TLS session");
		out_add(out, FR_CLOSE, "no range permit", 15);
		return;
	}
	if (r->tls_len > 0) {
		out_add(out, FR_TO_CLIENT, r->tls_reply, r->tls_len);
		reply_done(r, out);
	}
	r->auth = 0;
	r->tls = 1;
	out_add(out, FR_TLS, NULL, 0);
}

int
ftp_relay_client(struct ftp_relay *r, char *line, size_t len, double now,
    struct fr_out *out)
{
	struct ftp_cmd	cmd;
	char		esc[128], canon[2 * FTP_CMD_MAX + 1];
	int		rc, clen;

	out_reset(out);
	if (!ftp_relay_ready(r, FR_CLIENT))
		return (-1);
	if ((clen = client_canon(r, line, &len, canon, sizeof(canon),
	    out)) == -1)
		return (0);
	rc = ftp_parse_cmd(line, len, &cmd);
	switch (cmd.verb) {
	case FTP_CMD_PORT:
	case FTP_CMD_EPRT:
		do_active(r, &cmd, rc, now, out);
		return (0);
	case FTP_CMD_PASV:
	case FTP_CMD_EPSV:
		do_passive(r, &cmd, rc, out);
		return (0);
	case FTP_CMD_LPRT:
	case FTP_CMD_LPSV:
		client_reply(r, out, "502 LPRT and LPSV are not supported, "
		    "use EPRT or EPSV");
		return (0);
	case FTP_CMD_AUTH:
		do_auth(r, &cmd, canon, (size_t)clen, out);
		return (0);
	case FTP_CMD_ABOR:
		/*
		 * RFC 959 4.1.3: ABOR follows a Synch, so that a server
		 * busy with a transfer notices it (vsftpd's SIGURG).  Sent
		 * for every ABOR: a client's own urgent mark (lftp's DM,
		 * tnftp's IAC, ftplib's LF) is gone once the line is read,
		 * and ftplib marks its ABOR urgent without any Telnet.
		 */
		out_add(out, FR_SYNCH, NULL, 0);
		break;
	case FTP_CMD_USER:
		/* The name as relayed, trailing blanks included. */
		cmd.arglen = (size_t)(line + len - cmd.arg);
		if (r->conf.anon_only && !is_anonymous(&cmd)) {
			out_log(out, LOG_NOTICE, "non-anonymous login "
			    "refused: USER %s", log_escape(cmd.arg,
			    cmd.arglen, esc, sizeof(esc)));
			client_reply(r, out, "530 Only anonymous logins are "
			    "allowed");
			return (0);
		}
		break;
	default:
		break;
	}
	relay_cmd(r, out, FR_CMD_RELAYED, canon, (size_t)clen);
	return (0);
}

/*
 * A client line longer than FTP_CMD_MAX: a bug or an attack.  It gets
 * 500, in order with the other replies; the session goes on.
 */
void
ftp_relay_client_too_long(struct ftp_relay *r, struct fr_out *out)
{
	out_reset(out);
	out_log(out, LOG_NOTICE, "client line too long, discarded");
	client_reply(r, out, "500 Line too long");
}

/* A reply of ours in place of the server's line; framing kept. */
static void
passive_fail(struct ftp_relay *r, const char *text, struct fr_out *out)
{
	if (r->pasv.relayed) {
		/* Lines of this reply went out: it must end with its code. */
		if (r->pasv.final)
			reply_now(out, "%d %s", r->pasv.code, text);
		return;
	}
	reply_now(out, "425 %s", text);
	if (!r->pasv.final)
		r->pasv.swallow = 1;	/* the rest of the reply */
}

/* The rewritten line, with our address and the permit's port. */
static void
passive_send(struct ftp_relay *r, struct fr_out *out)
{
	struct ftp_hostport	hp;
	char			buf[FTP_FMT_MAX];
	int			n;

	hp_from_addr(&hp, &r->conf.to_client, r->pasv.port);
	n = r->pasv.code == 227 ? ftp_fmt_227(buf, sizeof(buf), &hp) :
	    ftp_fmt_229(buf, sizeof(buf), r->pasv.port);
	if (n < 4)
		return;
	if (!r->pasv.final)
		buf[3] = '-';
	out_add(out, FR_TO_CLIENT, buf, (size_t)n);
	r->pasv.relayed = 1;
}

/* The end of a reply: it answers the oldest command. */
static void
reply_done(struct ftp_relay *r, struct fr_out *out)
{
	int	was_full = r->qlen == FTP_PIPELINE;

	if (!r->greeted)
		r->greeted = 1;
	else if (r->qlen > 0)
		q_pop(r);
	memset(&r->pasv, 0, sizeof(r->pasv));
	q_flush_local(r, was_full, out);
}

/* The permit for a 227/229 line came (port), or not (0): go on. */
static void
passive_done(struct ftp_relay *r, uint16_t port, struct fr_out *out)
{
	r->wait_server = 0;
	if (port == 0)
		passive_fail(r, CANNOT_OPEN, out);
	else {
		r->pasv.port = port;
		passive_send(r, out);
	}
	if (r->pasv.final)
		reply_done(r, out);
	out_add(out, FR_RESUME, NULL, 0);
}

/*
 * A line of a 227 reply to our PASV or of a 229 to our EPSV.  The first
 * line that carries an address (first, last or any between) is
 * rewritten once its permit is in place; a later one that carries one,
 * and the last line, name the same port; the other lines go as they
 * are.  A reply with no address is refused with 425 if none of it went
 * out yet, else ended with its own code and our text (a multi-line
 * reply must end with its code).
 */
static void
passive_line(struct ftp_relay *r, enum fr_cmd c, int code, int final,
    const char *line, size_t len, int partial, double now, struct fr_out *out)
{
	struct ftp_hostport	hp;
	char			esc[128];
	int			parsed;

	r->pasv.code = code;
	r->pasv.final = final;
	memset(&hp, 0, sizeof(hp));
	if (c == FR_CMD_PASV)
		parsed = ftp_parse_227(line, len, &hp) == 0;
	else
		parsed = ftp_parse_229(line, len, &hp.port) == 0;
	/*
	 * The address came on an earlier line: a later one that names one
	 * names ours, and so does the last line (clients such as curl and
	 * lftp read the address from the last line only).
	 */
	if (r->pasv.port != 0 && (parsed || final))
		passive_send(r, out);
	else if (!parsed && (r->pasv.port != 0 || !final)) {
		send_line(out, FR_TO_CLIENT, line, len, partial);
		r->pasv.relayed = 1;
	} else if (!parsed) {
		out_log(out, LOG_ERR, "malformed passive reply: %s",
		    log_escape(line, len, esc, sizeof(esc)));
		passive_fail(r, "Malformed passive reply from server", out);
	} else if (!proto_data_port_ok(hp.port)) {
		out_log(out, LOG_NOTICE, "server data port %u refused",
		    hp.port);
		passive_fail(r, "Server data port below " PFH_DATA_PORT_MIN_S
		    " refused", out);
	} else
		permit_ask(r, PFH_PASSIVE, hp.port, now, out);
}

int
ftp_relay_server(struct ftp_relay *r, const char *line, size_t len,
    int partial, double now, struct fr_out *out)
{
	enum fr_cmd	 c = FR_CMD_RELAYED;
	char		 esc[128];
	int		 code, final;

	out_reset(out);
	if (!ftp_relay_ready(r, FR_SERVER))
		return (-1);
	if (memchr(line, '\0', len) != NULL) {
		out_log(out, LOG_ERR, "NUL byte in a server line");
		reply_now(out, "500 NUL byte in the control connection");
		out_add(out, FR_CLOSE, "NUL byte", 8);
		return (0);
	}
	if (ftp_reply_line(&r->rstate, line, len, &code, &final) == -1) {
		out_log(out, LOG_ERR, "bad reply from the server: %s",
		    log_escape(line, len, esc, sizeof(esc)));
		reply_now(out, "421 Bad reply from the server");
		out_add(out, FR_CLOSE, "bad server reply", 16);
		return (0);
	}
	/* 1xx: a transfer runs until the final reply; not idle (-t). */
	if (final)
		r->transfer = code < 200;
	if (r->greeted && r->qlen > 0)
		c = r->q[r->qhead].cmd;
	if (r->pasv.swallow) {
		/* The rest of a reply we replaced. */
	} else if (r->greeted && c == FR_CMD_AUTH && final) {
		auth_reply(r, code, line, len, now, out);
		if (r->wait_server)
			return (0);	/* ftp_relay_permit goes on */
	} else if (r->greeted && ((c == FR_CMD_PASV && code == 227) ||
	    (c == FR_CMD_EPSV && code == 229))) {
		passive_line(r, c, code, final, line, len, partial, now,
		    out);
		if (r->wait_server)
			return (0);	/* ftp_relay_permit goes on */
	} else
		send_line(out, FR_TO_CLIENT, line, len, partial);
	/* A final reply answers the oldest command; the first, none. */
	if (final && code >= 200)
		reply_done(r, out);
	return (0);
}

int
ftp_relay_ready(const struct ftp_relay *r, enum fr_side side)
{
	if (r->tls)
		return (0);
	if (side == FR_SERVER)
		return (!r->wait_server);
	return (!r->wait_client && !r->auth && r->qlen < FTP_PIPELINE);
}

int
ftp_relay_tls(const struct ftp_relay *r)
{
	return (r->tls);
}

void
ftp_relay_implicit(struct ftp_relay *r, double now, struct fr_out *out)
{
	out_reset(out);
	r->greeted = 1;		/* no greeting in clear */
	r->auth = 1;
	r->tls_len = 0;		/* and no 234 */
	permit_ask(r, PFH_RANGE, r->conf.tls_lo, now, out);
}

int
ftp_relay_transfer(const struct ftp_relay *r)
{
	return (r->transfer);
}

void
ftp_relay_init(struct ftp_relay *r, const struct fr_conf *conf)
{
	memset(r, 0, sizeof(*r));
	r->conf = *conf;
}

void
ftp_relay_clear(struct ftp_relay *r)
{
	while (r->qlen > 0)
		q_pop(r);
}
