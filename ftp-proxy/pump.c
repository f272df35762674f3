/* SPDX-License-Identifier: ISC */
/*
 * pump.c: a session's line pump (pump.h): each line from a side to the
 * session's FTP state (ftp_relay.c), and what it answers carried out.
 * Nothing here waits for pfhelper: a data permit is asked for without
 * waiting, and the side whose line needs it is not read meanwhile.
 */
#include "compat.h"

#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "log.h"
#include "proxy.h"
#include "pump.h"
#include "telnet.h"

static void	session_synch(struct ftp_session *);
static int	action_do(struct ftp_session *, const struct fr_action *,
		    int *);
static int	permit_ask(struct ftp_session *, const struct fr_action *);
static void	permit_done(const struct pfh_reply *, void *);
static void	server_fin(struct ftp_session *);
static void	client_eof(struct ftp_session *);
static int	side_waits(const struct ftp_session *, int);
static int	client_read1(struct ftp_session *, struct evbuffer *);
static int	server_read1(struct ftp_session *, struct evbuffer *);
static void	tls_start(struct ftp_session *);
static void	tls_relay(struct ftp_session *, int);
static void	tls_eof(struct ftp_session *, int);
static void	tls_fins(struct ftp_session *);
static void	tls_resume(struct ftp_session *);

/* Bytes to a side: sent at once when nothing is queued (conn.c). */
void
pump_send(struct side *side, const char *buf, size_t len)
{
	if (side->conn != NULL && conn_write(side->conn, buf, len) == -1)
		log_warn("queue for a side");
}

void
pump_reply(struct ftp_session *s, const char *fmt, ...)
{
	char	buf[512];
	va_list	ap;
	int	n;

	if (ftp_relay_tls(&s->relay))
		return;		/* nothing in clear inside TLS */
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 2, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(buf) - 3)
		n = sizeof(buf) - 3;
	buf[n++] = '\r';
	buf[n++] = '\n';
	pump_send(&s->client, buf, n);
}

/*
 * The Synch of RFC 959 4.1.3 to the server: IAC IP, IAC DM with the DM
 * as TCP urgent data (the urgent pointer marks the last byte sent with
 * MSG_OOB), as lftp sends it; a server that watches for urgent data
 * (vsftpd's SIGURG) interrupts its transfer.  The urgent byte must not
 * overtake what is queued for the server, so it is written
 * directly only when nothing is; otherwise, or on a short write, the
 * rest goes through the queue as plain bytes and the server still
 * reads the Telnet commands in order.
 */
static void
session_synch(struct ftp_session *s)
{
	static const char	synch[] = { (char)TELNET_IAC, (char)TELNET_IP,
				    (char)TELNET_IAC, (char)TELNET_DM };
	ssize_t			n = 0;

	if (s->server.conn != NULL && conn_queued(s->server.conn) == 0) {
		n = send(s->server.fd, synch, 3, MSG_DONTWAIT);
		if (n == 3 && send(s->server.fd, synch + 3, 1, MSG_OOB |
		    MSG_DONTWAIT) == 1)
			n = 4;
		if (n < 0)
			n = 0;
		log_debug("#%u Synch to the server%s", s->id, n == 4 ? "" :
		    " (not urgent)");
	}
	pump_send(&s->server, synch + n, sizeof(synch) - (size_t)n);
}

/* A data permit the relay asks for: 0, or -1 if it cannot be asked. */
static int
permit_ask(struct ftp_session *s, const struct fr_action *a)
{
	struct pfh_permit	p;

	memset(&p, 0, sizeof(p));
	p.sid = s->id;
	p.pid = a->pid;
	p.kind = a->kind;
	p.tport = a->tport;
	p.timeout = FTP_PERMIT_TIMEOUT;
	if (p.kind == PFH_ACTIVE && s->ctx->conf->port20)
		p.flags = PFH_F_PORT20;
	if (p.kind == PFH_RANGE) {	/* for the session's life */
		p.timeout = 0;
		p.thigh = a->thigh;
	}
	if (s->ctx->pfh->permit_add(s->ctx->pfh_arg, &s->calls,
	    &p, permit_done, s) == 0)
		return (0);
	log_warn("#%u pfhelper", s->id);
	return (-1);
}

/* pfhelper's answer to PERMIT_ADD, for the relay. */
static void
permit_done(const struct pfh_reply *r, void *arg)
{
	struct ftp_session	*s = arg;

	if (r->error != 0)
		log_warnx("#%u data permit refused: %s", s->id, r->reason);
	if (ftp_relay_permit(&s->relay, r->error != 0 ? 0 : r->port,
	    &s->ctx->fro) == -1) {
		log_warnx("#%u a permit answer nobody waits for", s->id);
		return;
	}
	(void)pump_do(s, &s->ctx->fro);
}

/* One action of the relay's; -1 if it ended the session. */
static int
action_do(struct ftp_session *s, const struct fr_action *a, int *refused)
{
	char	why[64];

	switch (a->type) {
	case FR_TO_CLIENT:
		/* 221 and 421 close (RFC 959): the FIN rides with them. */
		if (s->client.conn != NULL && a->len >= 4 &&
		    (memcmp(a->data, "221 ", 4) == 0 ||
		    memcmp(a->data, "421 ", 4) == 0))
			conn_cork(s->client.conn);
		pump_send(&s->client, a->data, a->len);
		break;
	case FR_TO_SERVER:
		pump_send(&s->server, a->data, a->len);
		break;
	case FR_SYNCH:
		session_synch(s);
		break;
	case FR_PERMIT_ASK:
		if (permit_ask(s, a) == -1)
			*refused = 1;
		break;
	case FR_PERMIT_DROP:
		/* Nothing waits for the reply. */
		if (s->ctx->pfh->permit_del(s->ctx->pfh_arg, s->id,
		    a->pid) == -1)
			log_warn("#%u pfhelper", s->id);
		break;
	case FR_RESUME:
		pump_resume(s);
		break;
	case FR_LOG:
		logit(a->prio, "#%u %.*s", s->id, (int)a->len, a->data);
		break;
	case FR_TLS:
		tls_start(s);
		break;
	case FR_CLOSE:
		snprintf(why, sizeof(why), "%.*s", (int)a->len, a->data);
		s->ctx->end(s, why);
		return (-1);
	}
	return (0);
}

/*
 * Carry out what the relay answered, in order.  A permit that cannot
 * even be asked for is refused at once, once the rest is done.  0, or
 * -1 when the session is gone (closing).
 */
int
pump_do(struct ftp_session *s, struct fr_out *out)
{
	size_t	i;
	int	refused;

	do {
		if (out->overflow) {
			log_warnx("#%u relay output overflow", s->id);
			pump_reply(s, "421 Proxy error");
			s->ctx->end(s, "relay output overflow");
			return (-1);
		}
		refused = 0;
		for (i = 0; i < out->n; i++)
			if (action_do(s, &out->a[i], &refused) == -1)
				return (-1);
	} while (refused && ftp_relay_permit(&s->relay, 0, out) == 0);
	return (0);
}

/*
 * After the client's FIN, the server gets one too, once the client's
 * last commands are out; its replies still reach the client.
 */
static void
server_fin(struct ftp_session *s)
{
	if (!s->client_eof || s->server_fin || s->closing != CLOSING_NO ||
	    !ftp_relay_ready(&s->relay, FR_CLIENT) ||
	    conn_queued(s->server.conn) > 0)
		return;
	s->server_fin = 1;
	if (shutdown(s->server.fd, SHUT_WR) == -1)
		s->ctx->end(s, "client closed");
}

/* The client sent FIN, perhaps QUIT and a half-close. */
static void
client_eof(struct ftp_session *s)
{
	s->client_eof = 1;
	conn_read(s->client.conn, 0);
	pump_timer(s, FTP_CLOSE_TIMEOUT);
	server_fin(s);
}

/*
 * A side's EOF or error, once the session is up (session.c sees to
 * the connect and to a closing session): TLS passes a FIN on, a
 * registered client's FIN is a half-close, the rest ends the session.
 */
void
pump_eof(struct ftp_session *s, int is_server, short what)
{
	if (ftp_relay_tls(&s->relay) && (what & BEV_EVENT_EOF) &&
	    !(what & BEV_EVENT_ERROR)) {
		tls_eof(s, is_server);
		return;
	}
	if (!is_server && s->pfhstate == SP_REGISTERED &&
	    (what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR))
		client_eof(s);
	else if (what & BEV_EVENT_EOF)
		s->ctx->end(s, is_server ? "server closed" : "client closed");
	else
		s->ctx->end(s, is_server ? "server error" : "client error");
}

/*
 * A side's queue is empty again (not while closing): resume reading the
 * other side, or pass the client's FIN on.
 */
void
pump_write(struct ftp_session *s, int is_server)
{
	struct side	*other = is_server ? &s->client : &s->server;

	if (ftp_relay_tls(&s->relay)) {
		tls_fins(s);
		if (s->closing == CLOSING_NO && !(is_server ? s->client_eof :
		    s->server_eof))
			conn_read(other->conn, 1);
		return;
	}
	if (is_server && s->client_eof) {
		server_fin(s);
		return;
	}
	if (s->pfhstate == SP_REGISTERED && other->conn != NULL &&
	    !(other == &s->client && (s->client_eof ||
	    !ftp_relay_ready(&s->relay, FR_CLIENT))))
		conn_read(other->conn, 1);
}

/*
 * One line from a side (partial: the head of a long server line), to
 * the relay; *streamed: the head went out as it came.  0 to go on, -1
 * when the session is gone.
 */
static int
side_line(struct ftp_session *s, int is_server, char *line, size_t len,
    int partial, int *streamed)
{
	struct ftp_ctx	*ctx = s->ctx;
	int		 rc;

	if (!s->client_eof)
		pump_timer(s, ctx->conf->idle_timeout);
	rc = is_server ? ftp_relay_server(&s->relay, line, len, partial,
	    ctx->clock(), &ctx->fro) : ftp_relay_client(&s->relay, line, len,
	    ctx->clock(), &ctx->fro);
	if (rc == -1)
		fatalx("#%u a line for a side that waits", s->id);
	if (streamed != NULL)
		*streamed = ctx->fro.streamed;
	return (pump_do(s, &ctx->fro));
}

/* Where the next line ends in in: its length, or -1 if not there yet. */
static ssize_t
line_end(struct evbuffer *in, size_t *eol)
{
	struct evbuffer_ptr	p;

	p = evbuffer_search_eol(in, NULL, eol, EVBUFFER_EOL_CRLF);
	return (p.pos);
}

/* A complete line of len bytes, and its end of line, to side_line. */
static int
take_line(struct ftp_session *s, int is_server, struct evbuffer *in, size_t len,
    size_t eol)
{
	char	*line;
	int	 rc;

	if ((line = malloc(len + 1)) == NULL) {
		pump_reply(s, "421 Proxy out of memory");
		s->ctx->end(s, "out of memory");
		return (-1);
	}
	evbuffer_remove(in, line, len);
	evbuffer_drain(in, eol);
	line[len] = '\0';
	rc = side_line(s, is_server, line, len, 0, NULL);
	free(line);
	return (rc);
}

/*
 * A client line longer than FTP_CMD_MAX is dropped up to its end; the
 * relay answers it (500).  1 to go on, -1 if the session is gone.
 */
static int
client_too_long(struct ftp_session *s)
{
	ftp_relay_client_too_long(&s->relay, &s->ctx->fro);
	return (pump_do(s, &s->ctx->fro) == -1 ? -1 : 1);
}

/* The next client line, if there is one: 1 to go on, 0, or -1 (gone). */
static int
client_read1(struct ftp_session *s, struct evbuffer *in)
{
	ssize_t	pos;
	size_t	eol;

	pos = line_end(in, &eol);
	if (s->cli_skip) {
		if (pos == -1) {
			evbuffer_drain(in, evbuffer_get_length(in));
			return (0);
		}
		evbuffer_drain(in, pos + eol);
		s->cli_skip = 0;
		return (1);
	}
	if (pos == -1) {
		if (evbuffer_get_length(in) + 2 <= FTP_CMD_MAX)
			return (0);
		evbuffer_drain(in, evbuffer_get_length(in));
		s->cli_skip = 1;
		return (client_too_long(s));
	}
	if ((size_t)pos + 2 > FTP_CMD_MAX) {
		evbuffer_drain(in, pos + eol);
		return (client_too_long(s));
	}
	return (take_line(s, 0, in, pos, eol) == -1 ? -1 : 1);
}

/*
 * Inside a long server line: what came of its rest goes to the client
 * as it is (TAIL_RELAY) or is dropped, up to its end of line.  A CR at
 * the very end is held back: it may be the start of CRLF.
 */
static int
server_tail(struct ftp_session *s, struct evbuffer *in)
{
	struct evbuffer_ptr	nul, p;
	ssize_t			 pos;
	size_t			 eol, n;
	unsigned char		 last;

	pos = line_end(in, &eol);
	n = pos == -1 ? evbuffer_get_length(in) : (size_t)pos;
	if (pos == -1 && n > 0) {
		evbuffer_ptr_set(in, &p, n - 1, EVBUFFER_PTR_SET);
		if (evbuffer_copyout_from(in, &p, &last, 1) == 1 &&
		    last == '\r')
			n--;
	}
	if (n > 0 && s->srv_tail == TAIL_RELAY) {
		nul = evbuffer_search(in, "", 1, NULL);
		if (nul.pos != -1 && (size_t)nul.pos < n) {
			log_warnx("#%u NUL byte in a server line", s->id);
			pump_send(&s->client, "\r\n", 2);
			pump_reply(s, "500 NUL byte in the control "
			    "connection");
			s->ctx->end(s, "NUL byte");
			return (-1);
		}
		if (conn_write_buffer(s->client.conn, in, n) == -1)
			log_warn("#%u queue for the client", s->id);
	} else if (n > 0)
		evbuffer_drain(in, n);
	if (n > 0 && !s->client_eof)
		pump_timer(s, s->ctx->conf->idle_timeout);
	if (pos == -1)
		return (0);
	evbuffer_drain(in, eol);
	if (s->srv_tail == TAIL_RELAY)
		pump_send(&s->client, "\r\n", 2);
	s->srv_tail = TAIL_NONE;
	return (1);
}

/*
 * A server line longer than FTP_LINE_MAX: its head is parsed and goes
 * through the relay; if that relayed it as it came, the rest
 * follows it, else (a reply rewritten or replaced) the rest is dropped.
 * So only FTP_LINE_MAX bytes of a line are ever held.
 */
static int
server_long(struct ftp_session *s, struct evbuffer *in)
{
	char	head[FTP_LINE_MAX];
	size_t	len = FTP_LINE_MAX - 2;
	int	streamed;

	evbuffer_remove(in, head, len);
	head[len] = '\0';
	if (side_line(s, 1, head, len, 1, &streamed) == -1)
		return (-1);
	s->srv_tail = streamed ? TAIL_RELAY : TAIL_DROP;
	return (1);
}

/* The next server line, or part of one: 1 to go on, 0, or -1 (gone). */
static int
server_read1(struct ftp_session *s, struct evbuffer *in)
{
	ssize_t	pos;
	size_t	eol;

	if (s->srv_tail != TAIL_NONE)
		return (server_tail(s, in));
	pos = line_end(in, &eol);
	if (pos != -1 && (size_t)pos + 2 <= FTP_LINE_MAX)
		return (take_line(s, 1, in, pos, eol) == -1 ? -1 : 1);
	if (pos == -1 && evbuffer_get_length(in) + 2 <= FTP_LINE_MAX)
		return (0);
	return (server_long(s, in));
}

/* Lines wait: for pfhelper, for a permit, for room in the queue. */
static int
side_waits(const struct ftp_session *s, int is_server)
{
	return (s->pfhstate != SP_REGISTERED || !ftp_relay_ready(&s->relay,
	    is_server ? FR_SERVER : FR_CLIENT));
}

/* Bytes came from a side (not while closing): its lines, or TLS's. */
void
pump_read(struct ftp_session *s, int is_server)
{
	struct side	*from = is_server ? &s->server : &s->client;
	struct side	*other = is_server ? &s->client : &s->server;
	struct evbuffer	*in = conn_input(from->conn);
	int		 rc;

	if (ftp_relay_tls(&s->relay)) {
		tls_relay(s, is_server);
		return;
	}
	for (;;) {
		if (side_waits(s, is_server)) {
			if (evbuffer_get_length(in) > FTP_BUF_HIGH)
				conn_read(from->conn, 0);
			return;
		}
		rc = is_server ? server_read1(s, in) : client_read1(s, in);
		if (rc == -1)
			return;
		if (rc == 0)
			break;
	}
	/* Back pressure: the other side is not keeping up. */
	if (other->conn != NULL && conn_queued(other->conn) > FTP_BUF_HIGH)
		conn_read(from->conn, 0);
}

/* The relay may take lines again: soon, not now. */
void
pump_resume(struct ftp_session *s)
{
	struct timeval	tv = { 0, 0 };

	evtimer_add(&s->resume, &tv);
}

/*
 * Go on with both sides: lines that waited for pfhelper, for a permit
 * or for room in the pending queue.
 */
void
pump_resume_cb(int fd, short ev, void *arg)
{
	struct ftp_session	*s = arg;

	if (s->closing != CLOSING_NO || s->pfhstate != SP_REGISTERED)
		return;
	if (ftp_relay_tls(&s->relay)) {
		tls_resume(s);
		return;
	}
	if (ftp_relay_ready(&s->relay, FR_SERVER) && s->server.conn != NULL) {
		conn_read(s->server.conn, 1);
		pump_read(s, 1);
		if (s->closing != CLOSING_NO)
			return;
	}
	if (!ftp_relay_ready(&s->relay, FR_CLIENT))
		return;
	if (!s->client_eof)
		conn_read(s->client.conn, 1);
	pump_read(s, 0);
	if (s->closing == CLOSING_NO)
		server_fin(s);
}

/*
 * FTP over TLS (-E): from the byte after the 234 on, what comes from
 * one side goes to the other as it came, never parsed.  Back-pressure:
 * a side is not read while the other's queue is over FTP_BUF_HIGH
 * (pump_write reads it again).  Half-close: a side's FIN goes on to
 * the other once what came before it is written; the session ends
 * when both ways are closed, or FTP_CLOSE_TIMEOUT after the first FIN.
 */
static void
tls_start(struct ftp_session *s)
{
	log_debug("#%u TLS: a byte relay now", s->id);
	pump_resume(s);
}

static void
tls_relay(struct ftp_session *s, int is_server)
{
	struct side	*from = is_server ? &s->server : &s->client;
	struct side	*to = is_server ? &s->client : &s->server;
	struct evbuffer	*in = conn_input(from->conn);
	size_t		 n = evbuffer_get_length(in);

	if (n == 0)
		return;
	if (!s->client_eof && !s->server_eof)
		pump_timer(s, s->ctx->conf->idle_timeout);
	if (conn_write_buffer(to->conn, in, n) == -1) {
		log_warn("#%u queue for the %s", s->id, is_server ? "client" :
		    "server");
		s->ctx->end(s, "relay error");
		return;
	}
	if (conn_queued(to->conn) > FTP_BUF_HIGH)
		conn_read(from->conn, 0);
}

/* A side's FIN. */
static void
tls_eof(struct ftp_session *s, int is_server)
{
	if (is_server)
		s->server_eof = 1;
	else
		s->client_eof = 1;
	conn_read(is_server ? s->server.conn : s->client.conn, 0);
	pump_timer(s, FTP_CLOSE_TIMEOUT);
	tls_fins(s);
}

/* Pass on the FINs whose bytes are written; both ways closed: the end. */
static void
tls_fins(struct ftp_session *s)
{
	if (s->client_eof && !s->server_fin &&
	    conn_queued(s->server.conn) == 0) {
		s->server_fin = 1;
		(void)shutdown(s->server.fd, SHUT_WR);
	}
	if (s->server_eof && !s->client_fin &&
	    conn_queued(s->client.conn) == 0) {
		s->client_fin = 1;
		(void)shutdown(s->client.fd, SHUT_WR);
	}
	if (s->server_fin && s->client_fin)
		s->ctx->end(s, "closed");
}

/* The switch, or room again: read both sides, relay what waits. */
static void
tls_resume(struct ftp_session *s)
{
	if (!s->server_eof) {
		conn_read(s->server.conn, 1);
		tls_relay(s, 1);
	}
	if (s->closing == CLOSING_NO && !s->client_eof) {
		conn_read(s->client.conn, 1);
		tls_relay(s, 0);
	}
}

/*
 * A connection to port 990 (forward mode) is FTP over TLS from its
 * first byte: with -E a byte relay once its range permit is in place,
 * else closed (nothing in clear can be said to a TLS client).  0, or
 * -1 if the session ended.
 */
int
pump_implicit(struct ftp_session *s)
{
	if (s->ctx->conf->tls_lo == 0) {
		logit(LOG_NOTICE, "#%u implicit FTP over TLS (port %d) "
		    "refused: it needs -E", s->id, FTP_TLS_PORT);
		s->ctx->end(s, "implicit TLS without -E");
		return (-1);
	}
	ftp_relay_implicit(&s->relay, s->ctx->clock(), &s->ctx->fro);
	return (pump_do(s, &s->ctx->fro));
}

void
pump_timer(struct ftp_session *s, uint32_t secs)
{
	struct timeval	tv = { secs, 0 };

	evtimer_add(&s->timer, &tv);
}
