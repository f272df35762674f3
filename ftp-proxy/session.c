/* SPDX-License-Identifier: ISC */
/*
 * session.c: one FTP control connection: accept, find where the client
 * meant to go, connect there, register with pfhelper, feed each line to
 * the session's FTP state (ftp_relay.c) and carry out what it answers,
 * and end cleanly.  Nothing here waits for pfhelper: a new session is
 * relayed once its SESSION_START is answered, and meanwhile its client
 * side is read only to see it leave; a data permit is asked for without
 * waiting, and the side whose line needs it is not read meanwhile.
 */
#include "compat.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "addr.h"
#include "hostaddr.h"
#include "hostlimit.h"
#include "log.h"
#include "listen.h"
#include "proxy.h"
#include "telnet.h"

static const struct proxy_conf	*conf;
static struct pfh_client	*pfh;
static struct event_base	*evbase;
static struct ftp_session_list	sessions = TAILQ_HEAD_INITIALIZER(sessions);
static uint32_t			nsessions;
static uint32_t			next_id;
static int			draining;	/* an old worker's end */
static struct event		drain_ev;

static void	side_read(struct conn *, void *);
static void	side_write(struct conn *, void *);
static void	side_event(struct conn *, short, void *);
static void	session_timeout(int, short, void *);
static void	session_free(struct ftp_session *);
static void	session_unregister(struct ftp_session *);
static void	timer_arm(struct ftp_session *, uint32_t);
static void	session_linger(struct ftp_session *);
static void	resume_cb(int, short, void *);
static void	session_abort_all(const char *);
static void	drain_check(void);
static void	drain_over(int, short, void *);
static int	host_refused(struct ftp_session *, int);
static void	host_release(struct ftp_session *);
static void	session_close(struct ftp_session *, const char *);
static void	session_send(struct side *, const char *, size_t);
static void	session_reply(struct ftp_session *, const char *, ...)
		    __attribute__((__format__ (printf, 2, 3)));
static void	session_resume(struct ftp_session *);
static void	session_synch(struct ftp_session *);
static int	session_do(struct ftp_session *, struct fr_out *);
static int	action_do(struct ftp_session *, const struct fr_action *, int *);
static int	permit_ask(struct ftp_session *, const struct fr_action *);
static void	permit_done(const struct pfh_reply *, void *);
static void	relay_start(struct ftp_session *);
static double	now_secs(void);
static int	server_dial(struct ftp_session *);
static void	server_retry(struct ftp_session *, const char *, int);
static void	tls_start(struct ftp_session *);
static void	tls_relay(struct ftp_session *, int);
static void	tls_eof(struct ftp_session *, int);
static void	tls_fins(struct ftp_session *);
static void	tls_resume(struct ftp_session *);
static int	implicit_tls(struct ftp_session *);
static int	tls_backend(const struct ftp_session *);
static int	shutting_down;
static struct hl_table	hosts;		/* sessions per client host */
static int	spare_fd = -1;	/* given up to refuse at EMFILE */

/* What the relay answers a line with; one at a time (no nesting). */
static struct fr_out	fro;

/* Bytes to a side: sent at once when nothing is queued (conn.c). */
static void
session_send(struct side *side, const char *buf, size_t len)
{
	if (side->conn != NULL && conn_write(side->conn, buf, len) == -1)
		log_warn("queue for a side");
}

static void
session_reply(struct ftp_session *s, const char *fmt, ...)
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
	session_send(&s->client, buf, n);
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
	session_send(&s->server, synch + n, sizeof(synch) - (size_t)n);
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
	if (p.kind == PFH_ACTIVE && conf->port20)
		p.flags = PFH_F_PORT20;
	if (p.kind == PFH_RANGE) {	/* for the session's life */
		p.timeout = 0;
		p.thigh = a->thigh;
	}
	if (pfh_permit_add(pfh, &s->calls, &p, permit_done, s) == 0)
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
	    &fro) == -1) {
		log_warnx("#%u a permit answer nobody waits for", s->id);
		return;
	}
	(void)session_do(s, &fro);
}

/* One action of the relay's; -1 if it ended the session. */
static int
action_do(struct ftp_session *s, const struct fr_action *a, int *refused)
{
	char	why[64];

	switch (a->type) {
	case FR_TO_CLIENT:
		session_send(&s->client, a->data, a->len);
		break;
	case FR_TO_SERVER:
		session_send(&s->server, a->data, a->len);
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
		if (pfh_permit_del(pfh, s->id, a->pid) == -1)
			log_warn("#%u pfhelper", s->id);
		break;
	case FR_RESUME:
		session_resume(s);
		break;
	case FR_LOG:
		logit(a->prio, "#%u %.*s", s->id, (int)a->len, a->data);
		break;
	case FR_TLS:
		tls_start(s);
		break;
	case FR_CLOSE:
		snprintf(why, sizeof(why), "%.*s", (int)a->len, a->data);
		session_close(s, why);
		return (-1);
	}
	return (0);
}

/*
 * Carry out what the relay answered, in order.  A permit that cannot
 * even be asked for is refused at once, once the rest is done.  0, or
 * -1 when the session is gone (closing).
 */
static int
session_do(struct ftp_session *s, struct fr_out *out)
{
	size_t	i;
	int	refused;

	do {
		if (out->overflow) {
			log_warnx("#%u relay output overflow", s->id);
			session_reply(s, "421 Proxy error");
			session_close(s, "relay output overflow");
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
 * Drop a side at once.  What is still queued for it is lost, so an
 * orderly end waits for the write callback instead (session_close).
 */
static void
side_free(struct side *side)
{
	if (side->conn != NULL)
		conn_free(side->conn);		/* closes fd */
	else if (side->fd != -1)
		close(side->fd);
	side->conn = NULL;
	side->fd = -1;
}

static void
session_free(struct ftp_session *s)
{
	side_free(&s->client);
	side_free(&s->server);
	if (event_initialized(&s->timer))
		evtimer_del(&s->timer);
	if (event_initialized(&s->resume))
		evtimer_del(&s->resume);
	session_unregister(s);
	ftp_relay_clear(&s->relay);
	host_release(s);
	farm_release(s);
	TAILQ_REMOVE(&sessions, s, entry);
	if (s->closing == CLOSING_NO)
		nsessions--;
	free(s);
	drain_check();
}

/*
 * Forget the session at pfhelper: its pending calls are cancelled (a
 * start still in flight is ended once it succeeds), a registered one is
 * ended, which removes its permits.  At shutdown nothing is sent:
 * closing the channel ends every session at once.
 */
static void
session_unregister(struct ftp_session *s)
{
	pfh_cancel(pfh, &s->calls);
	if (s->pfhstate == SP_REGISTERED && !shutting_down &&
	    pfh_session_end(pfh, s->id) == -1)
		log_warn("#%u pfhelper", s->id);
	s->pfhstate = SP_NONE;
}

/*
 * End a session: permits go now, the server side goes now, and what
 * is queued for the client is flushed before a FIN (session_linger).
 * The caller must not touch the session's sides any more; the session
 * itself is freed later, from an event, unless it never had a client.
 */
static void
session_close(struct ftp_session *s, const char *why)
{
	if (s->closing != CLOSING_NO)
		return;
	s->closing = CLOSING_FLUSH;
	nsessions--;		/* what is left is a flush, bounded */
	host_release(s);
	farm_release(s);
	session_unregister(s);
	log_info("#%u ending session: %s", s->id, why);
	side_free(&s->server);
	if (s->client.conn == NULL) {
		session_free(s);
		return;
	}
	timer_arm(s, FTP_CLOSE_TIMEOUT);
	if (!s->client_eof)
		conn_read(s->client.conn, 1);
	if (conn_queued(s->client.conn) == 0)
		session_linger(s);
}

/*
 * All written: FIN to the client, then wait (bounded) for its FIN,
 * discarding what it still sends.  Closing with unread input would
 * send a RST that can destroy our last reply in flight.  If its FIN
 * came already, close soon (not now: callers still hold the session).
 */
static void
session_linger(struct ftp_session *s)
{
	struct timeval	tv = { 0, 0 };

	if (s->closing == CLOSING_LINGER)
		return;
	s->closing = CLOSING_LINGER;
	if (s->client_eof)
		evtimer_add(&s->timer, &tv);
	else	/* on failure the client's error event or the timer ends it */
		(void)shutdown(s->client.fd, SHUT_WR);
}

void
session_end_all(void)
{
	struct ftp_session	*s;

	shutting_down = 1;
	while ((s = TAILQ_FIRST(&sessions)) != NULL) {
		if (s->closing == CLOSING_NO)
			log_info("#%u ending session: proxy shutting down",
			    s->id);
		session_free(s);
	}
}

uint32_t
session_count(void)
{
	return (nsessions);
}

/*
 * An old worker after a reload (parent.c): the listeners are closed
 * already; leave once the last session is gone, and after secs end
 * those still live, each with a 421 and a log line.
 */
void
session_drain(uint32_t secs)
{
	struct timeval	tv = { secs, 0 };

	draining = 1;
	evtimer_assign(&drain_ev, evbase, drain_over, NULL);
	evtimer_add(&drain_ev, &tv);
	drain_check();
}

static void
drain_check(void)
{
	if (draining && TAILQ_EMPTY(&sessions))
		event_base_loopexit(evbase, NULL);
}

static void
drain_over(int fd, short ev, void *arg)
{
	struct ftp_session	*s, *next;

	logit(LOG_NOTICE, "drain time over: ending %u sessions", nsessions);
	TAILQ_FOREACH_SAFE(s, &sessions, entry, next) {
		if (s->closing != CLOSING_NO)
			continue;
		session_reply(s, "421 Proxy reloaded, closing control "
		    "connection");
		session_close(s, "drain time over");
	}
	drain_check();
}

/*
 * pfhelper is gone: no permit can be made or removed (its table went
 * with it).  Tell every client, then exit.
 */
static void
session_abort_all(const char *reply)
{
	struct ftp_session	*s;

	shutting_down = 1;
	TAILQ_FOREACH(s, &sessions, entry)
		if (s->closing == CLOSING_NO && s->client.fd != -1 &&
		    !ftp_relay_tls(&s->relay))
			(void)write(s->client.fd, reply, strlen(reply));
}

/* A new pfhelper would not take session sid again (pfh_keep). */
void
session_refused(uint32_t sid, const char *why, void *arg)
{
	struct ftp_session	*s;

	TAILQ_FOREACH(s, &sessions, entry)
		if (s->id == sid && s->closing == CLOSING_NO)
			break;
	if (s == NULL)
		return;
	s->pfhstate = SP_NONE;	/* nothing of it at pfhelper */
	session_reply(s, "421 Proxy lost its packet filter helper");
	session_close(s, why[0] != '\0' ? why : "pfhelper refused it again");
}

void
pfh_lost(const char *why, void *arg)
{
	log_warnx("lost pfhelper: %s", why);
	session_abort_all("421 Proxy lost its packet filter helper\r\n");
	exit(1);
}

static void
timer_arm(struct ftp_session *s, uint32_t secs)
{
	struct timeval	tv = { secs, 0 };

	evtimer_add(&s->timer, &tv);
}

static void
session_timeout(int fd, short ev, void *arg)
{
	struct ftp_session	*s = arg;

	if (s->closing != CLOSING_NO)
		session_free(s);
	else if (s->client_eof)
		session_close(s, "client closed");
	else if (conf->reverse && !s->connected)
		server_retry(s, "no answer", 0);
	else if (s->pfhstate != SP_REGISTERED) {
		session_reply(s, "421 Proxy cannot reach the server (timeout)");
		session_close(s, "server connect timeout");
	} else if (ftp_relay_transfer(&s->relay)) {
		/*
		 * The server said 1xx and the data connection is at work:
		 * the control connection is quiet by design.  Idleness
		 * counts again from the completion reply (ftp-proxy(8)).
		 */
		timer_arm(s, conf->idle_timeout);
	} else {
		session_reply(s, "421 Idle timeout, closing control "
		    "connection");
		session_close(s, "idle timeout");
	}
}

static struct conn *
side_conn(struct ftp_session *s, int fd)
{
	return (conn_new(evbase, fd, side_read, side_write, side_event, s));
}

/* What pfhelper is told of the session. */
static void
session_msg(const struct ftp_session *s, struct pfh_session *m)
{
	memset(m, 0, sizeof(*m));
	m->sid = s->id;
	m->proto = IPPROTO_TCP;
	m->client = s->client.addr;
	m->cport = s->client.port;
	m->dialled = s->dialled;
	m->dport = s->dport;
	m->server = s->target;
	m->sport = s->tport;
	m->local = s->local;		/* where the client reached us */
	m->lport = s->lport;
	if (s->connected) {
		m->proxy = s->server.local;
		m->pport = s->server.lport;
	} else {		/* not known yet: where the client reached us */
		m->proxy = s->local;
		m->pport = s->lport;
	}
}

/*
 * The session as pfhelper will see it, after the checks it makes: 0, or
 * -1 with the client told (421) and the session closed.
 */
static int
session_checked(struct ftp_session *s, struct pfh_session *m)
{
	const char	*why;

	session_msg(s, m);
	if ((why = proto_session_check(m)) == NULL)
		return (0);
	logit(LOG_NOTICE, "#%u refused: %s", s->id, why);
	session_reply(s, "421 Connection refused by the proxy");
	session_close(s, why);
	return (-1);
}

/* The FTP state, once the session's addresses are all known. */
static void
relay_start(struct ftp_session *s)
{
	struct fr_conf	rc;

	memset(&rc, 0, sizeof(rc));
	rc.client = s->client.addr;
	rc.server = s->server.addr;
	rc.to_server = s->server.local;
	rc.to_client = s->dialled;
	rc.anon_only = conf->anon_only;
	rc.port20 = conf->port20;
	rc.tls_lo = conf->tls_lo;
	rc.tls_hi = conf->tls_hi;
	ftp_relay_init(&s->relay, &rc);
}

static void
session_started(const struct pfh_reply *r, void *arg)
{
	struct ftp_session	*s = arg;
	char		 a[ADDR_STRLEN], b[ADDR_STRLEN], c[ADDR_STRLEN];

	if (r->error != 0) {
		s->pfhstate = SP_NONE;
		log_warnx("#%u pfhelper refused the session: %s", s->id,
		    r->reason);
		session_reply(s, "421 Proxy refused the session");
		session_close(s, "not registered");
		return;
	}
	s->pfhstate = SP_REGISTERED;
	relay_start(s);
	if (session_implicit(conf, s) && implicit_tls(s) == -1)
		return;
	log_info("#%u FTP session %s -> %s via proxy %s", s->id,
	    addr_port_str(&s->client.addr, s->client.port, a, sizeof(a)),
	    addr_port_str(&s->server.addr, s->server.port, b, sizeof(b)),
	    addr_port_str(&s->server.local, s->server.lport, c, sizeof(c)));
	if (conf->reverse)
		log_debug("#%u backend %s", s->id, farm_name(s, b,
		    sizeof(b)));
	timer_arm(s, conf->idle_timeout);
	conn_read(s->server.conn, 1);
	conn_read(s->client.conn, 1);
	session_resume(s);	/* what the client sent meanwhile */
}

static void
server_connected(struct ftp_session *s)
{
	struct sockaddr_storage	ss;
	struct pfh_session	m;
	socklen_t		len = sizeof(ss);

	if (getsockname(s->server.fd, (struct sockaddr *)&ss, &len) == -1 ||
	    addr_from_sa((struct sockaddr *)&ss, &s->server.local,
	    &s->server.lport) == -1) {
		session_reply(s, "421 Proxy error");
		session_close(s, "no local address of the server connection");
		return;
	}
	s->connected = 1;
	if (conf->reverse) {
		farm_answered(s);
		timer_arm(s, FTP_CONNECT_TIMEOUT);	/* now for pfhelper */
	}
	if (session_checked(s, &m) == -1)
		return;
	if (pfh_session_start(pfh, &s->calls, &m, session_started, s) == -1) {
		log_warn("#%u pfhelper", s->id);
		session_reply(s, "421 Proxy refused the session");
		session_close(s, "not registered");
		return;
	}
	s->pfhstate = SP_STARTING;
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
		session_close(s, "client closed");
}

/* The client sent FIN, perhaps QUIT and a half-close. */
static void
client_eof(struct ftp_session *s)
{
	s->client_eof = 1;
	conn_read(s->client.conn, 0);
	timer_arm(s, FTP_CLOSE_TIMEOUT);
	server_fin(s);
}

static void
side_event(struct conn *c, short what, void *arg)
{
	struct ftp_session	*s = arg;
	int		 is_server = (c == s->server.conn);

	if (s->closing == CLOSING_FLUSH && (what & BEV_EVENT_EOF) &&
	    !(what & BEV_EVENT_ERROR)) {
		/* The client's FIN, while our last words are still queued. */
		s->client_eof = 1;
		conn_read(c, 0);
		return;
	}
	if (s->closing != CLOSING_NO) {
		session_free(s);
		return;
	}
	if (what & BEV_EVENT_CONNECTED) {
		server_connected(s);
		return;
	}
	if (is_server && !s->connected && conf->reverse) {
		server_retry(s, "connect failed", errno);
		return;
	}
	if (is_server && !s->connected) {
		log_warnx("#%u cannot connect to the server: %s", s->id,
		    strerror(errno));
		session_reply(s, "421 Proxy cannot reach the server");
		session_close(s, "server connect failed");
		return;
	}
	if (ftp_relay_tls(&s->relay) && (what & BEV_EVENT_EOF) &&
	    !(what & BEV_EVENT_ERROR)) {
		tls_eof(s, is_server);
		return;
	}
	if (!is_server && s->pfhstate == SP_REGISTERED &&
	    (what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR))
		client_eof(s);
	else if (what & BEV_EVENT_EOF)
		session_close(s, is_server ? "server closed" :
		    "client closed");
	else
		session_close(s, is_server ? "server error" : "client error");
}

/* Resume reading the other side once this one's backlog is gone. */
static void
side_write(struct conn *c, void *arg)
{
	struct ftp_session	*s = arg;
	int		 is_server = (c == s->server.conn);
	struct side	*other = is_server ? &s->client : &s->server;

	if (s->closing != CLOSING_NO) {
		session_linger(s);
		return;
	}
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

/* The relay's clock, for the permit rate. */
static double
now_secs(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec + ts.tv_nsec / 1e9);
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
	int	rc;

	if (!s->client_eof)
		timer_arm(s, conf->idle_timeout);
	rc = is_server ? ftp_relay_server(&s->relay, line, len, partial,
	    now_secs(), &fro) : ftp_relay_client(&s->relay, line, len,
	    now_secs(), &fro);
	if (rc == -1)
		fatalx("#%u a line for a side that waits", s->id);
	if (streamed != NULL)
		*streamed = fro.streamed;
	return (session_do(s, &fro));
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
		session_reply(s, "421 Proxy out of memory");
		session_close(s, "out of memory");
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
	ftp_relay_client_too_long(&s->relay, &fro);
	return (session_do(s, &fro) == -1 ? -1 : 1);
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
			session_send(&s->client, "\r\n", 2);
			session_reply(s, "500 NUL byte in the control "
			    "connection");
			session_close(s, "NUL byte");
			return (-1);
		}
		if (conn_write_buffer(s->client.conn, in, n) == -1)
			log_warn("#%u queue for the client", s->id);
	} else if (n > 0)
		evbuffer_drain(in, n);
	if (n > 0 && !s->client_eof)
		timer_arm(s, conf->idle_timeout);
	if (pos == -1)
		return (0);
	evbuffer_drain(in, eol);
	if (s->srv_tail == TAIL_RELAY)
		session_send(&s->client, "\r\n", 2);
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

static void
side_read(struct conn *c, void *arg)
{
	struct ftp_session	*s = arg;
	int		 is_server = (c == s->server.conn);
	struct side	*other = is_server ? &s->client : &s->server;
	struct evbuffer	*in = conn_input(c);
	int		 rc;

	if (s->closing != CLOSING_NO) {
		evbuffer_drain(in, evbuffer_get_length(in));
		return;
	}
	if (ftp_relay_tls(&s->relay)) {
		tls_relay(s, is_server);
		return;
	}
	for (;;) {
		if (side_waits(s, is_server)) {
			if (evbuffer_get_length(in) > FTP_BUF_HIGH)
				conn_read(c, 0);
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
		conn_read(c, 0);
}

/* The relay may take lines again: soon, not now. */
static void
session_resume(struct ftp_session *s)
{
	struct timeval	tv = { 0, 0 };

	evtimer_add(&s->resume, &tv);
}

/*
 * Go on with both sides: lines that waited for pfhelper, for a permit
 * or for room in the pending queue.
 */
static void
resume_cb(int fd, short ev, void *arg)
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
		side_read(s->server.conn, s);
		if (s->closing != CLOSING_NO)
			return;
	}
	if (!ftp_relay_ready(&s->relay, FR_CLIENT))
		return;
	if (!s->client_eof)
		conn_read(s->client.conn, 1);
	side_read(s->client.conn, s);
	if (s->closing == CLOSING_NO)
		server_fin(s);
}

/*
 * FTP over TLS (-E): from the byte after the 234 on, what comes from
 * one side goes to the other as it came, never parsed.  Back-pressure:
 * a side is not read while the other's queue is over FTP_BUF_HIGH
 * (side_write reads it again).  Half-close: a side's FIN goes on to
 * the other once what came before it is written; the session ends
 * when both ways are closed, or FTP_CLOSE_TIMEOUT after the first FIN.
 */
static void
tls_start(struct ftp_session *s)
{
	log_debug("#%u TLS: a byte relay now", s->id);
	session_resume(s);
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
		timer_arm(s, conf->idle_timeout);
	if (conn_write_buffer(to->conn, in, n) == -1) {
		log_warn("#%u queue for the %s", s->id, is_server ? "client" :
		    "server");
		session_close(s, "relay error");
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
	timer_arm(s, FTP_CLOSE_TIMEOUT);
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
		session_close(s, "closed");
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
static int
implicit_tls(struct ftp_session *s)
{
	if (conf->tls_lo == 0) {
		logit(LOG_NOTICE, "#%u implicit FTP over TLS (port %d) "
		    "refused: it needs -E", s->id, FTP_TLS_PORT);
		session_close(s, "implicit TLS without -E");
		return (-1);
	}
	ftp_relay_implicit(&s->relay, now_secs(), &fro);
	return (session_do(s, &fro));
}

/*
 * -R farm with -E: the server of a live TLS session of the same client
 * (its index + 1), or 0.  The client's TLS sessions share one range
 * permit, whose elements name one server: the next goes there too.
 */
static int
tls_backend(const struct ftp_session *s)
{
	const struct ftp_session	*o;

	if (conf->tls_lo == 0 || conf->backends.n < 2)
		return (0);
	TAILQ_FOREACH(o, &sessions, entry)
		if (o != s && o->closing == CLOSING_NO && o->backend != 0 &&
		    ftp_relay_tls(&o->relay) &&
		    addr_eq(&o->client.addr, &s->client.addr))
			return (o->backend);
	return (0);
}

/* Refuse before a session exists: a short reply, then close. */
static void
refuse(int fd, const char *reply, const char *why, const struct pfh_addr *a,
    uint16_t port)
{
	char	buf[ADDR_STRLEN];

	(void)write(fd, reply, strlen(reply));
	close(fd);
	logit(LOG_NOTICE, "refused connection from %s: %s",
	    addr_port_str(a, port, buf, sizeof(buf)), why);
}

/* Where to connect: the original destination, or -R's server. */
static const char *
session_target(struct ftp_session *s, int fd)
{
	struct sockaddr_storage	orig, local;
	socklen_t		olen;
	struct pfh_addr		la;
	uint16_t		lport;

	if (orig_dst(fd, &orig, &olen, &local) == -1 ||
	    addr_from_sa((struct sockaddr *)&orig, &s->dialled,
	    &s->dport) == -1 ||
	    addr_from_sa((struct sockaddr *)&local, &la, &lport) == -1)
		return ("no original destination");
	s->local = la;
	s->lport = lport;
	if (conf->reverse && tls_backend(s) != 0 &&
	    farm_pick_at(s, tls_backend(s) - 1) == 0)
		return (NULL);
	if (conf->reverse)
		return (farm_pick(s) == -1 ?
		    "no server of the client's address family (-R)" : NULL);
	/*
	 * Not intercepted (a connection straight to the proxy), or aimed at
	 * this host: the destination is one of our own addresses.  Under
	 * TPROXY the socket's own address is the foreign destination.
	 */
	if (hostaddr_type(conf->hosts, &s->dialled) != NET_REMOTE)
		return (addr_eq(&s->dialled, &la) && s->dport == lport ?
		    "not an intercepted connection" :
		    "original destination is the proxy itself");
	s->target = s->dialled;
	s->tport = s->dport;
	return (NULL);
}

static int
server_connect(struct ftp_session *s)
{
	struct sockaddr_storage	ss;
	socklen_t		len;
	int			fd, on = 1;

	if (addr_to_sa(&s->target, s->tport, &ss, &len) == -1)
		return (-1);
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1)
		return (-1);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	if (conf->srclen != 0 && conf->src.ss_family == ss.ss_family &&
	    bind(fd, (const struct sockaddr *)&conf->src, conf->srclen) == -1) {
		close(fd);
		return (-1);
	}
	s->server.fd = fd;
	s->server.addr = s->target;
	s->server.port = s->tport;
	if ((s->server.conn = side_conn(s, fd)) == NULL) {
		close(fd);
		s->server.fd = -1;
		return (-1);
	}
	if (conn_connect(s->server.conn, (struct sockaddr *)&ss, len) == -1)
		return (-1);
	return (0);
}

/*
 * Dial the session's server, after the checks pfhelper makes.  In
 * reverse mode a server that refuses, or does not answer within
 * FTP_BACKEND_TIMEOUT (FTP_CONNECT_TIMEOUT if it is the only one), is
 * marked down and the next one is dialled; the client sees nothing of
 * it.  0, or -1 with the client told (421) and
 * the session closed.
 */
static int
server_dial(struct ftp_session *s)
{
	struct pfh_session	m;
	int			i, saved;

	for (i = 0; i <= BACKEND_MAX; i++) {
		if (session_checked(s, &m) == -1)
			return (-1);
		if (server_connect(s) == 0) {
			/* With another server to try, try it soon. */
			timer_arm(s, conf->backends.n > 1 ?
			    FTP_BACKEND_TIMEOUT : FTP_CONNECT_TIMEOUT);
			return (0);
		}
		saved = errno;
		log_warn("#%u connect to the server", s->id);
		/* Our own shortage is not the server's fault. */
		if (!conf->reverse || saved == EMFILE || saved == ENFILE ||
		    saved == ENOMEM || saved == ENOBUFS)
			break;
		farm_failed(s, "connect failed", saved);
		side_free(&s->server);
		if (farm_pick(s) == -1)
			break;
	}
	session_reply(s, "421 Proxy cannot reach the server");
	session_close(s, "connect failed");
	return (-1);
}

/* Reverse mode: the server did not answer; the next one, if any. */
static void
server_retry(struct ftp_session *s, const char *why, int err)
{
	char	buf[ADDR_STRLEN];

	log_info("#%u server %s: %s%s%s", s->id,
	    farm_name(s, buf, sizeof(buf)), why, err ? ": " : "",
	    err ? strerror(err) : "");
	farm_failed(s, why, err);
	side_free(&s->server);
	if (farm_pick(s) == -1) {
		log_warnx("#%u no server answered", s->id);
		session_reply(s, "421 Proxy cannot reach the server");
		session_close(s, "no server answered");
		return;
	}
	(void)server_dial(s);
}

static struct ftp_session *
session_new(int fd, const struct sockaddr_storage *peer)
{
	struct ftp_session	*s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return (NULL);
	if (++next_id == 0)
		next_id = 1;
	s->id = next_id;
	s->client.fd = fd;
	s->server.fd = -1;
	addr_from_sa((const struct sockaddr *)peer, &s->client.addr,
	    &s->client.port);
	TAILQ_INIT(&s->calls);
	TAILQ_INSERT_TAIL(&sessions, s, entry);
	nsessions++;
	evtimer_assign(&s->timer, evbase, session_timeout, s);
	evtimer_assign(&s->resume, evbase, resume_cb, s);
	return (s);
}

/*
 * One client host (an IPv4 address, an IPv6 /64) may not hold every
 * slot of -m: with -M, never more than -M sessions; without, no more
 * than its fair share once the last quarter of -m is in use (see
 * hostlimit.h).  1 if s was refused (and is closing).
 */
static int
host_refused(struct ftp_session *s, int fd)
{
	static int	ready;
	char		a[ADDR_STRLEN];
	int		v;

	if (!ready) {
		hl_init(&hosts, conf->max_sessions, conf->max_per_host);
		ready = 1;
	}
	if ((v = hl_add(&hosts, &s->client.addr)) == HL_OK) {
		s->host_counted = 1;
		return (0);
	}
	addr_str(&s->client.addr, a, sizeof(a));
	if (v == HL_CAP)
		logit(LOG_NOTICE, "#%u refused: %s has %u sessions (-M %u)",
		    s->id, a, hl_count(&hosts, &s->client.addr),
		    conf->max_per_host);
	else if (v == HL_SHARE)
		logit(LOG_NOTICE, "#%u refused: %s has %u sessions, its "
		    "share of %u in use (-m %u)", s->id, a,
		    hl_count(&hosts, &s->client.addr), hosts.used,
		    conf->max_sessions);
	else
		log_warn("#%u refused: per-host count", s->id);
	s->client.conn = side_conn(s, fd);
	session_reply(s, "421 Too many sessions from your address, try "
	    "again later");
	session_close(s, "per-host session limit");
	return (1);
}

/* Its host's slot, given back when the session closes (as -m's). */
static void
host_release(struct ftp_session *s)
{
	if (!s->host_counted)
		return;
	s->host_counted = 0;
	hl_del(&hosts, &s->client.addr);
}

/*
 * Out of file descriptors: the pending connection would wake us up
 * again and again.  Give up the spare descriptor to take it and tell
 * the client, then take the spare back.
 */
static void
accept_emfile(int lfd)
{
	const char	*msg =
			    "421 Proxy out of resources, try again later\r\n";
	int		 fd;

	if (spare_fd == -1)
		return;
	close(spare_fd);
	spare_fd = -1;
	if ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) != -1) {
		(void)write(fd, msg, strlen(msg));
		close(fd);
		log_warnx("out of file descriptors: connection refused");
	}
	spare_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
}

void
session_init(struct proxy_conf *c, struct pfh_client *p,
    struct event_base *base)
{
	conf = c;
	pfh = p;
	evbase = base;
	farm_init(c, base);
}

void
session_accept(int lfd, short ev, void *arg)
{
	struct sockaddr_storage	 peer;
	socklen_t		 len = sizeof(peer);
	struct pfh_addr		 ca;
	struct ftp_session		*s;
	const char		*why;
	uint16_t		 cport;
	int			 fd, on = 1;

	if (spare_fd == -1)
		spare_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	fd = accept4(lfd, (struct sockaddr *)&peer, &len, SOCK_NONBLOCK |
	    SOCK_CLOEXEC);
	if (fd == -1) {
		if (errno == EMFILE || errno == ENFILE)
			accept_emfile(lfd);
		else if (errno != EAGAIN && errno != EINTR &&
		    errno != ECONNABORTED)
			log_warn("accept");
		return;
	}
	if (addr_from_sa((struct sockaddr *)&peer, &ca, &cport) == -1) {
		close(fd);
		return;
	}
	if (nsessions >= conf->max_sessions) {
		refuse(fd, "421 Too many sessions, try again later\r\n",
		    "session limit reached", &ca, cport);
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	/* A client's urgent byte (its Synch) stays in the stream. */
	setsockopt(fd, SOL_SOCKET, SO_OOBINLINE, &on, sizeof(on));
	if ((s = session_new(fd, &peer)) == NULL) {
		refuse(fd, "421 Out of memory\r\n", "out of memory", &ca,
		    cport);
		return;
	}
	if (host_refused(s, fd))
		return;
	if ((why = session_target(s, fd)) != NULL) {
		logit(LOG_NOTICE, "#%u refused: %s", s->id, why);
		s->client.conn = side_conn(s, fd);
		session_reply(s, "421 Connection refused by the proxy");
		session_close(s, why);
		return;
	}
	if ((s->client.conn = side_conn(s, fd)) == NULL) {
		session_close(s, "out of memory");
		return;
	}
	if (server_dial(s) == -1)
		return;
	/* Readable at once, so that a client that leaves frees its slot. */
	conn_read(s->client.conn, 1);
}
