/*
 * relay.c: what happens to each control line.  Client commands PORT,
 * EPRT, PASV and EPSV and the server's 227 and 229 replies are checked
 * and rewritten; every data permit is in place before the rewritten
 * line leaves.  Everything else is relayed in the one spelling the
 * proxy checked (client_canon): never the client's own bytes.
 *
 * A permit is asked for without waiting: the side whose line needs it
 * (the client for PORT/EPRT, the server for a 227/229 line) stops being
 * read until pfhelper answers, so what follows stays in order; other
 * sessions go on meanwhile.  A session has one permit request in
 * flight at a time; a second waits behind it.
 */
#include "compat.h"

#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "addr.h"
#include "log.h"
#include "proxy.h"
#include "telnet.h"


/*
 * A line as it came.  The head of a long server line (session.c) goes
 * without its CRLF: the rest of the line follows it.
 */
static void
relay(struct side *to, const char *line, size_t len)
{
	session_send(to, line, len);
	if (to->partial) {
		to->partial = 0;
		to->streamed = 1;
		return;
	}
	session_send(to, "\r\n", 2);
}

/*
 * The queue of what awaits a reply, in the client's order.  A client
 * line is only read while there is room (session.c), and each line
 * adds at most one entry.
 */
static void
q_push(struct session *s, enum sess_cmd c, char *reply)
{
	struct pending	*p;

	if (s->qlen == FTP_PIPELINE)
		fatalx("#%u pending queue overflow", s->id);
	p = &s->q[(s->qhead + s->qlen) % FTP_PIPELINE];
	p->cmd = c;
	p->reply = reply;
	s->qlen++;
}

static struct pending *
q_head(struct session *s)
{
	return (s->qlen == 0 ? NULL : &s->q[s->qhead]);
}

static void
q_pop(struct session *s)
{
	struct pending	*p = &s->q[s->qhead];

	free(p->reply);
	p->reply = NULL;
	s->qhead = (s->qhead + 1) % FTP_PIPELINE;
	s->qlen--;
}

void
queue_clear(struct session *s)
{
	while (s->qlen > 0)
		q_pop(s);
}

/* Our replies that waited for the server's earlier ones: now. */
static void
q_flush_local(struct session *s)
{
	struct pending	*p;

	while ((p = q_head(s)) != NULL && p->cmd == SC_LOCAL) {
		session_send(&s->client, p->reply, strlen(p->reply));
		q_pop(s);
	}
	if (s->stalled)
		session_resume(s);
}

/* A command to the server; its reply is expected in order. */
static void
relay_cmd(struct session *s, enum sess_cmd c, const char *line, size_t len)
{
	q_push(s, c, NULL);
	relay(&s->server, line, len);
}

/*
 * A reply of ours to a client command: sent now if nothing is pending,
 * else once the server has greeted and answered the commands before it.
 */
void
client_reply(struct session *s, const char *fmt, ...)
{
	char	*buf, *crlf;
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vasprintf(&buf, fmt, ap);
	va_end(ap);
	if (n == -1)
		fatal("vasprintf");
	if (s->qlen == 0 && s->greeted) {
		session_reply(s, "%s", buf);
		free(buf);
		return;
	}
	if (asprintf(&crlf, "%s\r\n", buf) == -1)
		fatal("asprintf");
	free(buf);
	q_push(s, SC_LOCAL, crlf);
}

static int
af_num(const struct session *s)
{
	return (s->client.addr.af == AF_INET6 ? 2 : 1);
}

static void	permit_done(const struct pfh_reply *, void *);
static void	active_done(struct session *, uint16_t);
static void	passive_done(struct session *, uint16_t);

static void
permit_drop(struct session *s)
{
	if (s->permit == 0)
		return;
	/* Nothing waits for the reply. */
	if (pfh_permit_del(&pfh, s->id, s->permit) == -1)
		log_warn("#%u pfhelper", s->id);
	s->permit = 0;
}

/*
 * Token bucket per session: a client that asks for data connections
 * faster than any real one (a PORT loop) gets 425s and cannot take
 * pfhelper's time from the others.  Logged once per burst.
 */
static int
permit_rate_ok(struct session *s)
{
	struct timespec	now;
	double		dt;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (s->plast.tv_sec == 0)
		s->ptokens = FTP_PERMIT_BURST;
	else {
		dt = (now.tv_sec - s->plast.tv_sec) +
		    (now.tv_nsec - s->plast.tv_nsec) / 1e9;
		s->ptokens += dt * FTP_PERMIT_RATE;
		if (s->ptokens > FTP_PERMIT_BURST)
			s->ptokens = FTP_PERMIT_BURST;
	}
	s->plast = now;
	if (s->ptokens >= FTP_PERMIT_BURST / 2)
		s->prate_logged = 0;	/* the burst is over */
	if (s->ptokens < 1) {
		if (!s->prate_logged)
			logit(LOG_NOTICE, "#%u more than %d data connections "
			    "per second: refused", s->id, FTP_PERMIT_RATE);
		s->prate_logged = 1;
		return (0);
	}
	s->ptokens -= 1;
	return (1);
}

/* Ask pfhelper for the permit in s->preq (the old one goes first). */
static int
permit_send(struct session *s)
{
	struct pfh_permit	p;

	permit_drop(s);
	memset(&p, 0, sizeof(p));
	if (++s->npermits == 0)
		s->npermits = 1;
	p.sid = s->id;
	p.pid = s->npermits;
	p.kind = s->preq.kind;
	p.tport = s->preq.tport;
	p.timeout = FTP_PERMIT_TIMEOUT;
	if (p.kind == PFH_ACTIVE && conf.port20)
		p.flags = PFH_F_PORT20;
	s->preq.pid = p.pid;
	s->preq.inflight = 1;
	if (pfh_permit_add(&pfh, &s->calls, &p, permit_done, s) == 0)
		return (0);
	s->preq.inflight = 0;
	log_warn("#%u pfhelper", s->id);
	return (-1);
}

/*
 * Ask for a permit: 0, and the side that asked waits for permit_done();
 * or -1 if refused at once (the caller answers).
 */
static int
permit_ask(struct session *s, uint8_t kind, uint16_t tport)
{
	if (!permit_rate_ok(s))
		return (-1);
	if (s->preq.inflight) {
		s->pnext.kind = kind;
		s->pnext.tport = tport;
		s->pnext.inflight = 1;	/* queued behind it */
	} else {
		s->preq.kind = kind;
		s->preq.tport = tport;
		if (permit_send(s) == -1)
			return (-1);
	}
	if (kind == PFH_ACTIVE)
		s->wait_client = 1;
	else
		s->wait_server = 1;
	return (0);
}

/* pfhelper's answer to PERMIT_ADD (or our own refusal). */
static void
permit_done(const struct pfh_reply *r, void *arg)
{
	struct session	*s = arg;
	char		 a[ADDR_STRLEN];
	uint8_t		 kind = s->preq.kind;
	uint16_t	 port = 0;

	s->preq.inflight = 0;
	if (r->error != 0)
		log_warnx("#%u data permit refused: %s", s->id, r->reason);
	else if (r->port < PFH_DATA_PORT_MIN)
		log_warnx("#%u pfhelper chose port %u", s->id, r->port);
	else {
		port = r->port;
		s->permit = s->preq.pid;
		if (kind == PFH_PASSIVE)
			log_info("#%u passive: client %s to proxy port %u -> "
			    "server port %u", s->id, addr_str(&s->client.addr,
			    a, sizeof(a)), port, s->preq.tport);
		else
			log_info("#%u active: server %s to proxy port %u -> "
			    "client port %u%s", s->id, addr_str(&s->server.addr,
			    a, sizeof(a)), port, s->preq.tport, conf.port20 ?
			    " (from port 20)" : "");
	}
	if (kind == PFH_ACTIVE)
		active_done(s, port);
	else
		passive_done(s, port);
	if (s->pnext.inflight && !s->closing) {
		s->preq = s->pnext;
		s->pnext.inflight = 0;
		if (permit_send(s) == -1) {
			if (s->preq.kind == PFH_ACTIVE)
				active_done(s, 0);
			else
				passive_done(s, 0);
		}
	}
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

/* PORT and EPRT: checks, a permit, and the rewritten command. */
static int
do_active(struct session *s, struct ftp_cmd *cmd, int rc)
{
	const char		*verb = cmd->verb == FTP_CMD_PORT ? "PORT" :
				    "EPRT";
	struct pfh_addr		 a;

	if (rc == -1 && cmd->err == FTP_ERR_PROTO) {
		client_reply(s, "522 Network protocol not supported, use "
		    "(%d)", af_num(s));
		return (0);
	}
	if (rc == -1) {
		client_reply(s, "501 %s: %s", verb, ftp_strerror(cmd->err));
		return (0);
	}
	if (s->epsv_all) {
		client_reply(s, "501 %s not allowed after EPSV ALL", verb);
		return (0);
	}
	ftp_hostport_unmap(&cmd->hp);
	if (cmd->hp.af != s->client.addr.af) {
		if (cmd->verb == FTP_CMD_PORT)
			client_reply(s, "500 PORT is for IPv4, use EPRT");
		else
			client_reply(s, "522 Network protocol not "
			    "supported, use (%d)", af_num(s));
		return (0);
	}
	memset(&a, 0, sizeof(a));
	a.af = cmd->hp.af;
	memcpy(a.addr, cmd->hp.addr, addr_len(&a));
	if (!addr_eq(&a, &s->client.addr)) {
		logit(LOG_NOTICE, "#%u %s to a third host refused (bounce)",
		    s->id, verb);
		client_reply(s, "501 %s: the address must be your own", verb);
		return (0);
	}
	if (!proto_data_port_ok(cmd->hp.port)) {
		logit(LOG_NOTICE, "#%u %s to port %u refused", s->id, verb,
		    cmd->hp.port);
		client_reply(s, "501 %s: ports below 1024 are refused", verb);
		return (0);
	}
	s->act_eprt = cmd->verb == FTP_CMD_EPRT;
	if (permit_ask(s, PFH_ACTIVE, cmd->hp.port) == -1)
		client_reply(s, "425 Proxy cannot open the data connection");
	return (0);
}

/* The permit for a PORT/EPRT came (port), or not (0): go on. */
static void
active_done(struct session *s, uint16_t port)
{
	struct ftp_hostport	hp;
	char			buf[FTP_FMT_MAX];
	int			n;

	s->wait_client = 0;
	if (s->closing)
		return;
	if (port == 0)
		client_reply(s, "425 Proxy cannot open the data connection");
	else {
		hp_from_addr(&hp, &s->server.local, port);
		n = s->act_eprt ? ftp_fmt_eprt(buf, sizeof(buf), &hp) :
		    ftp_fmt_port(buf, sizeof(buf), &hp);
		if (n > 0) {
			q_push(s, SC_NONE, NULL);
			session_send(&s->server, buf, n);
		}
	}
	session_resume(s);
}

/* PASV and EPSV: checked here, rewritten when the reply comes. */
static int
do_passive(struct session *s, struct ftp_cmd *cmd, int rc)
{
	if (cmd->verb == FTP_CMD_EPSV && rc == -1) {
		client_reply(s, "522 Network protocol not supported, use "
		    "(%d)", af_num(s));
		return (0);
	}
	if (cmd->verb == FTP_CMD_EPSV && (cmd->epsv == FTP_EPSV_INET ||
	    cmd->epsv == FTP_EPSV_INET6) && (int)cmd->epsv != af_num(s)) {
		client_reply(s, "522 Network protocol not supported, use "
		    "(%d)", af_num(s));
		return (0);
	}
	if (cmd->verb == FTP_CMD_PASV) {
		if (s->epsv_all) {
			client_reply(s, "501 PASV not allowed after EPSV ALL");
			return (0);
		}
		if (s->client.addr.af != AF_INET) {
			client_reply(s, "500 PASV is for IPv4, use EPSV");
			return (0);
		}
		relay_cmd(s, SC_PASV, "PASV", 4);
		return (0);
	}
	if (cmd->epsv == FTP_EPSV_ALL) {
		s->epsv_all = 1;
		relay_cmd(s, SC_NONE, "EPSV ALL", 8);
		return (0);
	}
	relay_cmd(s, SC_EPSV, "EPSV", 4);
	return (0);
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
client_canon(struct session *s, char *line, size_t *len, char *canon,
    size_t size, unsigned int *seen)
{
	const char	*why;
	char		 esc[128];
	int		 n;

	if (telnet_strip(line, *len, len, seen) == -1) {
		why = "Telnet command cut short";
		goto bad;
	}
	if ((n = ftp_canon_cmd(line, *len, canon, size, &why)) == -1)
		goto bad;
	return (n);
 bad:
	logit(LOG_NOTICE, "#%u command refused (%s): %s", s->id, why,
	    log_escape(line, *len, esc, sizeof(esc)));
	client_reply(s, "500 %s", why);
	return (-1);
}

int
client_line(struct session *s, char *line, size_t len)
{
	struct ftp_cmd	cmd;
	char		esc[128], canon[2 * FTP_CMD_MAX];
	unsigned int	seen;
	int		rc, clen;

	if ((clen = client_canon(s, line, &len, canon, sizeof(canon),
	    &seen)) == -1)
		return (0);
	if (seen != 0)
		log_debug("#%u Telnet commands removed", s->id);
	rc = ftp_parse_cmd(line, len, &cmd);
	switch (cmd.verb) {
	case FTP_CMD_PORT:
	case FTP_CMD_EPRT:
		return (do_active(s, &cmd, rc));
	case FTP_CMD_PASV:
	case FTP_CMD_EPSV:
		return (do_passive(s, &cmd, rc));
	case FTP_CMD_LPRT:
	case FTP_CMD_LPSV:
		client_reply(s, "502 LPRT and LPSV are not supported, use "
		    "EPRT or EPSV");
		return (0);
	case FTP_CMD_AUTH:
		client_reply(s, "502 AUTH is not supported by the proxy");
		return (0);
	case FTP_CMD_ABOR:
		/*
		 * RFC 959 4.1.3: ABOR follows a Synch, so that a server
		 * busy with a transfer notices it (vsftpd's SIGURG).  Sent
		 * for every ABOR: a client's own urgent mark (lftp's DM,
		 * tnftp's IAC, ftplib's LF) is gone once the line is read,
		 * and ftplib marks its ABOR urgent without any Telnet.
		 */
		session_synch(s);
		break;
	case FTP_CMD_USER:
		/* The name as relayed, trailing blanks included. */
		cmd.arglen = (size_t)(line + len - cmd.arg);
		if (conf.anon_only && !is_anonymous(&cmd)) {
			logit(LOG_NOTICE, "#%u non-anonymous login refused: "
			    "USER %s", s->id, log_escape(cmd.arg, cmd.arglen,
			    esc, sizeof(esc)));
			client_reply(s, "530 Only anonymous logins are "
			    "allowed");
			return (0);
		}
		break;
	default:
		break;
	}
	relay_cmd(s, SC_NONE, canon, (size_t)clen);
	return (0);
}

/* A reply of ours in place of the server's line; framing kept. */
static void
passive_fail(struct session *s, const char *text)
{
	if (s->pasv.relayed) {
		/* Lines of this reply went out: it must end with its code. */
		if (s->pasv.final)
			session_reply(s, "%d %s", s->pasv.code, text);
		return;
	}
	session_reply(s, "425 %s", text);
	if (!s->pasv.final)
		s->pasv.swallow = 1;	/* the rest of the reply */
}

/* The rewritten line, with our address and the permit's port. */
static void
passive_send(struct session *s)
{
	struct ftp_hostport	hp;
	char			buf[FTP_FMT_MAX];
	int			n;

	hp_from_addr(&hp, &s->dialled, s->pasv.port);
	n = s->pasv.code == 227 ? ftp_fmt_227(buf, sizeof(buf), &hp) :
	    ftp_fmt_229(buf, sizeof(buf), s->pasv.port);
	if (n < 4)
		return;
	if (!s->pasv.final)
		buf[3] = '-';
	session_send(&s->client, buf, n);
	s->pasv.relayed = 1;
}

/* The end of a reply: it answers the oldest command. */
static void
reply_done(struct session *s)
{
	if (!s->greeted)
		s->greeted = 1;
	else if (q_head(s) != NULL)
		q_pop(s);
	memset(&s->pasv, 0, sizeof(s->pasv));
	q_flush_local(s);
}

/* The permit for a 227/229 line came (port), or not (0): go on. */
static void
passive_done(struct session *s, uint16_t port)
{
	s->wait_server = 0;
	if (s->closing)
		return;
	if (port == 0)
		passive_fail(s, "Proxy cannot open the data connection");
	else {
		s->pasv.port = port;
		passive_send(s);
	}
	if (s->pasv.final)
		reply_done(s);
	session_resume(s);
}

/*
 * A line of a 227 reply to our PASV or of a 229 to our EPSV.  The first
 * line that carries an address (first, last or any between) is
 * rewritten once its permit is in place; a later one, and the last
 * line, name the same port; the other lines go as they are.  A reply with no address is
 * refused with 425 if none of it went out yet, else ended with its own
 * code and our text (a multi-line reply must end with its code).
 */
static void
passive_line(struct session *s, enum sess_cmd c, int code, int final,
    char *line, size_t len)
{
	struct ftp_hostport	hp;
	char			esc[128];
	uint16_t		port;
	int			parsed;

	s->pasv.code = code;
	s->pasv.final = final;
	if (c == SC_PASV)
		parsed = ftp_parse_227(line, len, &hp) == 0;
	else
		parsed = ftp_parse_229(line, len, &hp.port) == 0;
	port = hp.port;
	/*
	 * The address came on an earlier line: a later one that names one
	 * names ours, and so does the last line (clients such as curl and
	 * lftp read the address from the last line only).
	 */
	if (s->pasv.port != 0 && (parsed || final)) {
		passive_send(s);
		return;
	}
	if (!parsed && (s->pasv.port != 0 || !final)) {
		relay(&s->client, line, len);
		s->pasv.relayed = 1;
		return;
	}
	if (!parsed) {
		log_warnx("#%u malformed passive reply: %s", s->id,
		    log_escape(line, len, esc, sizeof(esc)));
		passive_fail(s, "Malformed passive reply from server");
		return;
	}
	if (!proto_data_port_ok(port)) {
		logit(LOG_NOTICE, "#%u server data port %u refused", s->id,
		    port);
		passive_fail(s, "Server data port below 1024 refused");
		return;
	}
	if (permit_ask(s, PFH_PASSIVE, port) == -1)
		passive_fail(s, "Proxy cannot open the data connection");
}

int
server_line(struct session *s, char *line, size_t len)
{
	struct pending	*p;
	enum sess_cmd	 c = SC_NONE;
	char		 esc[128];
	int		 code, final;

	if (ftp_reply_line(&s->rstate, line, len, &code, &final) == -1) {
		log_warnx("#%u bad reply from the server: %s", s->id,
		    log_escape(line, len, esc, sizeof(esc)));
		session_reply(s, "421 Bad reply from the server");
		session_close(s, "bad server reply");
		return (-1);
	}
	/* 1xx: a transfer runs until the final reply; not idle (-t). */
	if (final)
		s->transfer = code < 200;
	if (s->greeted && (p = q_head(s)) != NULL)
		c = p->cmd;
	if (s->pasv.swallow) {
		/* The rest of a reply we replaced. */
	} else if (s->greeted && ((c == SC_PASV && code == 227) ||
	    (c == SC_EPSV && code == 229))) {
		passive_line(s, c, code, final, line, len);
		if (s->wait_server)
			return (0);	/* passive_done goes on */
	} else
		relay(&s->client, line, len);
	/* A final reply answers the oldest command; the first, none. */
	if (final && code >= 200)
		reply_done(s);
	return (0);
}
