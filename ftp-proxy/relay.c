/*
 * relay.c: what happens to each control line.  Client commands PORT,
 * EPRT, PASV and EPSV and the server's 227 and 229 replies are checked
 * and rewritten; every data permit is in place before the rewritten
 * line leaves.  Everything else is relayed in the one spelling the
 * proxy checked (client_canon): never the client's own bytes.
 */
#include "compat.h"

#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "log.h"
#include "proxy.h"
#include "telnet.h"

#define PERMIT_TRIES	8

static void
relay(struct side *to, const char *line, size_t len)
{
	session_send(to, line, len);
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

static void
permit_drop(struct session *s)
{
	struct pfh_permit_del	d;

	if (s->permit == 0)
		return;
	d.sid = s->id;
	d.pid = s->permit;
	s->permit = 0;
	/* The reply is read later; the next request does not wait for it. */
	if (pfh_send(&pfh, PFH_PERMIT_DEL, &d, sizeof(d)) == -1)
		fatal("pfhelper");
}

/*
 * Replace the session's data permit with a new one on a fresh proxy
 * port.  Returns the port, or 0 with the reason logged.
 */
static uint16_t
permit_new(struct session *s, uint8_t kind, uint16_t tport)
{
	struct pfh_permit	p;
	struct pfh_reply	r;
	char			a[ADDR_STRLEN];
	int			i;

	permit_drop(s);
	memset(&p, 0, sizeof(p));
	p.sid = s->id;
	p.kind = kind;
	p.tport = tport;
	p.timeout = FTP_PERMIT_TIMEOUT;
	if (kind == PFH_ACTIVE && conf.port20)
		p.flags = PFH_F_PORT20;
	for (i = 0; i < PERMIT_TRIES; i++) {
		if (++s->npermits == 0)
			s->npermits = 1;
		p.pid = s->npermits;
		p.pport = FTP_DATA_PORT_LO + arc4random_uniform(
		    FTP_DATA_PORT_HI - FTP_DATA_PORT_LO + 1);
		if (pfh_request(&pfh, PFH_PERMIT_ADD, &p, sizeof(p), &r) == 0)
			break;
		if (pfh_fatal_errno(errno))
			fatal("pfhelper");
		if (errno != EEXIST) {
			log_warnx("#%u data permit refused: %s", s->id,
			    r.reason);
			return (0);
		}
	}
	if (i == PERMIT_TRIES) {
		log_warnx("#%u no free proxy port", s->id);
		return (0);
	}
	s->permit = p.pid;
	if (kind == PFH_PASSIVE)
		log_info("#%u passive: client %s to proxy port %u -> "
		    "server port %u", s->id, addr_str(&s->client.addr, a,
		    sizeof(a)), p.pport, tport);
	else
		log_info("#%u active: server %s to proxy port %u -> "
		    "client port %u%s", s->id, addr_str(&s->server.addr, a,
		    sizeof(a)), p.pport, tport, conf.port20 ?
		    " (from port 20)" : "");
	return (p.pport);
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
	struct ftp_hostport	 hp;
	struct pfh_addr		 a;
	char			 buf[FTP_FMT_MAX];
	uint16_t		 port;
	int			 n;

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
	if (cmd->hp.port < 1024) {
		logit(LOG_NOTICE, "#%u %s to port %u refused", s->id, verb,
		    cmd->hp.port);
		client_reply(s, "501 %s: ports below 1024 are refused", verb);
		return (0);
	}
	if ((port = permit_new(s, PFH_ACTIVE, cmd->hp.port)) == 0) {
		client_reply(s, "425 Proxy cannot open the data connection");
		return (0);
	}
	hp_from_addr(&hp, &s->server.local, port);
	n = cmd->verb == FTP_CMD_PORT ? ftp_fmt_port(buf, sizeof(buf), &hp) :
	    ftp_fmt_eprt(buf, sizeof(buf), &hp);
	if (n > 0) {
		q_push(s, SC_NONE, NULL);
		session_send(&s->server, buf, n);
	}
	return (0);
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
	char		esc[128], canon[2 * FTP_LINE_MAX];
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

/* 227 or 229 after our PASV or EPSV: permit, then the new reply. */
static int
rewrite_passive(struct session *s, enum sess_cmd c, char *line, size_t len)
{
	struct ftp_hostport	hp;
	char			buf[FTP_FMT_MAX], esc[128];
	uint16_t		port;
	int			n;

	if (c == SC_PASV && ftp_parse_227(line, len, &hp) == 0)
		port = hp.port;
	else if (c != SC_EPSV || ftp_parse_229(line, len, &port) == -1) {
		log_warnx("#%u malformed passive reply: %s", s->id,
		    log_escape(line, len, esc, sizeof(esc)));
		session_reply(s, "425 Malformed passive reply from server");
		return (0);
	}
	if (port < 1024) {
		logit(LOG_NOTICE, "#%u server data port %u refused", s->id,
		    port);
		session_reply(s, "425 Server data port below 1024 refused");
		return (0);
	}
	if ((port = permit_new(s, PFH_PASSIVE, port)) == 0) {
		session_reply(s, "425 Proxy cannot open the data connection");
		return (0);
	}
	hp_from_addr(&hp, &s->dialled, port);
	n = c == SC_PASV ? ftp_fmt_227(buf, sizeof(buf), &hp) :
	    ftp_fmt_229(buf, sizeof(buf), port);
	if (n > 0)
		session_send(&s->client, buf, n);
	return (0);
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
	if (!final || code < 200) {
		relay(&s->client, line, len);
		return (0);
	}
	/* A final reply answers the oldest command; the first, none. */
	if (!s->greeted)
		s->greeted = 1;
	else if ((p = q_head(s)) != NULL) {
		c = p->cmd;
		q_pop(s);
	}
	if ((c == SC_PASV && code == 227) || (c == SC_EPSV && code == 229))
		rewrite_passive(s, c, line, len);
	else
		relay(&s->client, line, len);
	q_flush_local(s);
	return (0);
}
