/* SPDX-License-Identifier: ISC */
/*
 * session.c: one FTP control connection's life: accept, find where the
 * client meant to go, connect there (the next -R server if one does not
 * answer), register with pfhelper, hand the lines to the line pump
 * (pump.c), and end cleanly.  Nothing here waits for pfhelper: a new
 * session is relayed once its SESSION_START is answered, and meanwhile
 * its client side is read only to see it leave.  The worker's state is
 * its struct ftp_ctx; sockets and pfhelper are reached through its
 * ftp_net and ftp_pfh, which a unit test replaces.
 */
#include "compat.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "addr.h"
#include "hostaddr.h"
#include "log.h"
#include "proxy.h"
#include "pump.h"

static void	side_read(struct conn *, void *);
static void	side_write(struct conn *, void *);
static void	side_event(struct conn *, short, void *);
static void	session_timeout(int, short, void *);
static void	session_free(struct ftp_session *);
static void	session_unregister(struct ftp_session *);
static void	session_linger(struct ftp_session *);
static void	session_abort_all(struct ftp_ctx *, const char *);
static void	drain_check(struct ftp_ctx *);
static void	drain_over(int, short, void *);
static int	host_refused(struct ftp_session *, int);
static void	host_release(struct ftp_session *);
static void	session_close(struct ftp_session *, const char *);
static void	relay_start(struct ftp_session *);
static int	server_dial(struct ftp_session *);
static void	server_retry(struct ftp_session *, const char *, int);
static int	tls_backend(const struct ftp_session *);

/* pfh_client.c's calls, for struct ftp_pfh. */
static int
pfhc_start(void *c, struct pfh_calls *calls, const struct pfh_session *m,
    pfh_done done, void *arg)
{
	return (pfh_session_start(c, calls, m, done, arg));
}

static int
pfhc_permit_add(void *c, struct pfh_calls *calls, const struct pfh_permit *p,
    pfh_done done, void *arg)
{
	return (pfh_permit_add(c, calls, p, done, arg));
}

static int
pfhc_permit_del(void *c, uint32_t sid, uint32_t pid)
{
	return (pfh_permit_del(c, sid, pid));
}

static int
pfhc_end(void *c, uint32_t sid)
{
	return (pfh_session_end(c, sid));
}

static void
pfhc_cancel(void *c, struct pfh_calls *calls)
{
	pfh_cancel(c, calls);
}

const struct ftp_pfh	ftp_pfh_client = {
	pfhc_start, pfhc_permit_add, pfhc_permit_del, pfhc_end, pfhc_cancel
};

/* The system's sockets, for struct ftp_net. */
static int
sys_accept(int fd, struct sockaddr *sa, socklen_t *len, int flags)
{
	return (accept4(fd, sa, len, flags));
}

static int
sys_dial(int fd, const struct sockaddr *sa, socklen_t len)
{
	return (connect(fd, sa, len));
}

static int
sys_sockname(int fd, struct sockaddr *sa, socklen_t *len)
{
	return (getsockname(fd, sa, len));
}

const struct ftp_net	ftp_net_sys = {
	sys_accept, socket, conn_connect, sys_dial, sys_sockname, orig_dst
};

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
	struct ftp_ctx	*ctx = s->ctx;

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
	TAILQ_REMOVE(&ctx->sessions, s, entry);
	if (s->closing == CLOSING_NO)
		ctx->nsessions--;
	free(s);
	drain_check(ctx);
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
	struct ftp_ctx	*ctx = s->ctx;

	ctx->pfh->cancel(ctx->pfh_arg, &s->calls);
	if (s->pfhstate == SP_REGISTERED && !ctx->shutting_down &&
	    ctx->pfh->end(ctx->pfh_arg, s->id) == -1)
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
	s->ctx->nsessions--;	/* what is left is a flush, bounded */
	host_release(s);
	farm_release(s);
	session_unregister(s);
	log_info("#%u ending session: %s", s->id, why);
	side_free(&s->server);
	if (s->client.conn == NULL) {
		session_free(s);
		return;
	}
	pump_timer(s, FTP_CLOSE_TIMEOUT);
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
session_end_all(struct ftp_ctx *ctx)
{
	struct ftp_session	*s;

	ctx->shutting_down = 1;
	while ((s = TAILQ_FIRST(&ctx->sessions)) != NULL) {
		if (s->closing == CLOSING_NO)
			log_info("#%u ending session: proxy shutting down",
			    s->id);
		session_free(s);
	}
}

uint32_t
session_count(const struct ftp_ctx *ctx)
{
	return (ctx->nsessions);
}

/*
 * An old worker after a reload (parent.c): the listeners are closed
 * already; leave once the last session is gone, and after secs end
 * those still live, each with a 421 and a log line.
 */
void
session_drain(struct ftp_ctx *ctx, uint32_t secs)
{
	struct timeval	tv = { secs, 0 };

	ctx->draining = 1;
	evtimer_assign(&ctx->drain_ev, ctx->evbase, drain_over, ctx);
	evtimer_add(&ctx->drain_ev, &tv);
	drain_check(ctx);
}

static void
drain_check(struct ftp_ctx *ctx)
{
	if (ctx->draining && TAILQ_EMPTY(&ctx->sessions))
		event_base_loopexit(ctx->evbase, NULL);
}

static void
drain_over(int fd, short ev, void *arg)
{
	struct ftp_ctx		*ctx = arg;
	struct ftp_session	*s, *next;

	logit(LOG_NOTICE, "drain time over: ending %u sessions",
	    ctx->nsessions);
	TAILQ_FOREACH_SAFE(s, &ctx->sessions, entry, next) {
		if (s->closing != CLOSING_NO)
			continue;
		pump_reply(s, "421 Proxy reloaded, closing control "
		    "connection");
		session_close(s, "drain time over");
	}
	drain_check(ctx);
}

/*
 * pfhelper is gone: no permit can be made or removed (its table went
 * with it).  Tell every client, then exit.
 */
static void
session_abort_all(struct ftp_ctx *ctx, const char *reply)
{
	struct ftp_session	*s;

	ctx->shutting_down = 1;
	TAILQ_FOREACH(s, &ctx->sessions, entry)
		if (s->closing == CLOSING_NO && s->client.fd != -1 &&
		    !ftp_relay_tls(&s->relay))
			(void)write(s->client.fd, reply, strlen(reply));
}

/* A new pfhelper would not take session sid again (pfh_keep). */
void
session_refused(uint32_t sid, const char *why, void *arg)
{
	struct ftp_ctx		*ctx = arg;
	struct ftp_session	*s;

	TAILQ_FOREACH(s, &ctx->sessions, entry)
		if (s->id == sid && s->closing == CLOSING_NO)
			break;
	if (s == NULL)
		return;
	s->pfhstate = SP_NONE;	/* nothing of it at pfhelper */
	pump_reply(s, "421 Proxy lost its packet filter helper");
	session_close(s, why[0] != '\0' ? why : "pfhelper refused it again");
}

void
pfh_lost(const char *why, void *arg)
{
	log_warnx("lost pfhelper: %s", why);
	session_abort_all(arg, "421 Proxy lost its packet filter helper\r\n");
	exit(1);
}

static void
session_timeout(int fd, short ev, void *arg)
{
	struct ftp_session	*s = arg;

	if (s->closing != CLOSING_NO)
		session_free(s);
	else if (s->client_eof)
		session_close(s, "client closed");
	else if (s->ctx->conf->reverse && !s->connected)
		server_retry(s, "no answer", 0);
	else if (s->pfhstate != SP_REGISTERED) {
		pump_reply(s, "421 Proxy cannot reach the server (timeout)");
		session_close(s, "server connect timeout");
	} else if (ftp_relay_transfer(&s->relay)) {
		/*
		 * The server said 1xx and the data connection is at work:
		 * the control connection is quiet by design.  Idleness
		 * counts again from the completion reply (ftp-proxy(8)).
		 */
		pump_timer(s, s->ctx->conf->idle_timeout);
	} else {
		pump_reply(s, "421 Idle timeout, closing control "
		    "connection");
		session_close(s, "idle timeout");
	}
}

static struct conn *
side_conn(struct ftp_session *s, int fd)
{
	return (conn_new(s->ctx->evbase, fd, side_read, side_write, side_event,
	    s));
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
	pump_reply(s, "421 Connection refused by the proxy");
	session_close(s, why);
	return (-1);
}

/* The FTP state, once the session's addresses are all known. */
static void
relay_start(struct ftp_session *s)
{
	const struct proxy_conf	*conf = s->ctx->conf;
	struct fr_conf		 rc;

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
	const struct proxy_conf	*conf = s->ctx->conf;
	char			 a[ADDR_STRLEN], b[ADDR_STRLEN];
	char			 c[ADDR_STRLEN];

	if (r->error != 0) {
		s->pfhstate = SP_NONE;
		log_warnx("#%u pfhelper refused the session: %s", s->id,
		    r->reason);
		pump_reply(s, "421 Proxy refused the session");
		session_close(s, "not registered");
		return;
	}
	s->pfhstate = SP_REGISTERED;
	relay_start(s);
	if (session_implicit(conf, s) && pump_implicit(s) == -1)
		return;
	log_info("#%u FTP session %s -> %s via proxy %s", s->id,
	    addr_port_str(&s->client.addr, s->client.port, a, sizeof(a)),
	    addr_port_str(&s->server.addr, s->server.port, b, sizeof(b)),
	    addr_port_str(&s->server.local, s->server.lport, c, sizeof(c)));
	if (conf->reverse)
		log_debug("#%u backend %s", s->id, farm_name(s, b,
		    sizeof(b)));
	pump_timer(s, conf->idle_timeout);
	conn_read(s->server.conn, 1);
	conn_read(s->client.conn, 1);
	pump_resume(s);	/* what the client sent meanwhile */
}

static void
server_connected(struct ftp_session *s)
{
	struct ftp_ctx		*ctx = s->ctx;
	struct sockaddr_storage	 ss;
	struct pfh_session	 m;
	socklen_t		 len = sizeof(ss);

	if (ctx->net->sockname(s->server.fd, (struct sockaddr *)&ss,
	    &len) == -1 ||
	    addr_from_sa((struct sockaddr *)&ss, &s->server.local,
	    &s->server.lport) == -1) {
		pump_reply(s, "421 Proxy error");
		session_close(s, "no local address of the server connection");
		return;
	}
	s->connected = 1;
	if (ctx->conf->reverse) {
		farm_answered(s);
		pump_timer(s, FTP_CONNECT_TIMEOUT);	/* now for pfhelper */
	}
	if (session_checked(s, &m) == -1)
		return;
	if (ctx->pfh->start(ctx->pfh_arg, &s->calls, &m, session_started,
	    s) == -1) {
		log_warn("#%u pfhelper", s->id);
		pump_reply(s, "421 Proxy refused the session");
		session_close(s, "not registered");
		return;
	}
	s->pfhstate = SP_STARTING;
}

static void
side_event(struct conn *c, short what, void *arg)
{
	struct ftp_session	*s = arg;
	int			 is_server = (c == s->server.conn);

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
	if (is_server && !s->connected && s->ctx->conf->reverse) {
		server_retry(s, "connect failed", errno);
		return;
	}
	if (is_server && !s->connected) {
		log_warnx("#%u cannot connect to the server: %s", s->id,
		    strerror(errno));
		pump_reply(s, "421 Proxy cannot reach the server");
		session_close(s, "server connect failed");
		return;
	}
	pump_eof(s, is_server, what);
}

/* A side's queue is empty: a closing session's FIN, or the pump's. */
static void
side_write(struct conn *c, void *arg)
{
	struct ftp_session	*s = arg;

	if (s->closing != CLOSING_NO)
		session_linger(s);
	else
		pump_write(s, c == s->server.conn);
}

/* A closing session only drains what still comes. */
static void
side_read(struct conn *c, void *arg)
{
	struct ftp_session	*s = arg;
	struct evbuffer		*in = conn_input(c);

	if (s->closing != CLOSING_NO)
		evbuffer_drain(in, evbuffer_get_length(in));
	else
		pump_read(s, c == s->server.conn);
}

/*
 * -R farm with -E: the server of a live TLS session of the same client
 * (its index + 1), or 0.  The client's TLS sessions share one range
 * permit, whose elements name one server: the next goes there too.
 */
static int
tls_backend(const struct ftp_session *s)
{
	const struct proxy_conf		*conf = s->ctx->conf;
	const struct ftp_session	*o;

	if (conf->tls_lo == 0 || conf->backends.n < 2)
		return (0);
	TAILQ_FOREACH(o, &s->ctx->sessions, entry)
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
	const struct proxy_conf	*conf = s->ctx->conf;
	struct sockaddr_storage	 orig, local;
	socklen_t		 olen;
	struct pfh_addr		 la;
	uint16_t		 lport;

	if (s->ctx->net->orig_dst(fd, &orig, &olen, &local) == -1 ||
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
	const struct proxy_conf	*conf = s->ctx->conf;
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	int			 fd, on = 1;

	if (addr_to_sa(&s->target, s->tport, &ss, &len) == -1)
		return (-1);
	fd = s->ctx->net->socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
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
	if (s->ctx->net->connect(s->server.conn, (struct sockaddr *)&ss,
	    len) == -1)
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
	const struct proxy_conf	*conf = s->ctx->conf;
	struct pfh_session	 m;
	int			 i, saved;

	for (i = 0; i <= BACKEND_MAX; i++) {
		if (session_checked(s, &m) == -1)
			return (-1);
		if (server_connect(s) == 0) {
			/* With another server to try, try it soon. */
			pump_timer(s, conf->backends.n > 1 ?
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
	pump_reply(s, "421 Proxy cannot reach the server");
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
		pump_reply(s, "421 Proxy cannot reach the server");
		session_close(s, "no server answered");
		return;
	}
	(void)server_dial(s);
}

static struct ftp_session *
session_new(struct ftp_ctx *ctx, int fd, const struct sockaddr_storage *peer)
{
	struct ftp_session	*s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return (NULL);
	if (++ctx->next_id == 0)
		ctx->next_id = 1;
	s->ctx = ctx;
	s->id = ctx->next_id;
	s->client.fd = fd;
	s->server.fd = -1;
	addr_from_sa((const struct sockaddr *)peer, &s->client.addr,
	    &s->client.port);
	TAILQ_INIT(&s->calls);
	TAILQ_INSERT_TAIL(&ctx->sessions, s, entry);
	ctx->nsessions++;
	evtimer_assign(&s->timer, ctx->evbase, session_timeout, s);
	evtimer_assign(&s->resume, ctx->evbase, pump_resume_cb, s);
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
	const struct proxy_conf	*conf = s->ctx->conf;
	struct hl_table		*hosts = &s->ctx->hosts;
	char			 a[ADDR_STRLEN];
	int			 v;

	if ((v = hl_add(hosts, &s->client.addr)) == HL_OK) {
		s->host_counted = 1;
		return (0);
	}
	addr_str(&s->client.addr, a, sizeof(a));
	if (v == HL_CAP)
		logit(LOG_NOTICE, "#%u refused: %s has %u sessions (-M %u)",
		    s->id, a, hl_count(hosts, &s->client.addr),
		    conf->max_per_host);
	else if (v == HL_SHARE)
		logit(LOG_NOTICE, "#%u refused: %s has %u sessions, its "
		    "share of %u in use (-m %u)", s->id, a,
		    hl_count(hosts, &s->client.addr), hosts->used,
		    conf->max_sessions);
	else
		log_warn("#%u refused: per-host count", s->id);
	s->client.conn = side_conn(s, fd);
	pump_reply(s, "421 Too many sessions from your address, try "
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
	hl_del(&s->ctx->hosts, &s->client.addr);
}

/*
 * Out of file descriptors: the pending connection would wake us up
 * again and again.  Give up the spare descriptor to take it and tell
 * the client, then take the spare back.
 */
static void
accept_emfile(struct ftp_ctx *ctx, int lfd)
{
	const char	*msg =
			    "421 Proxy out of resources, try again later\r\n";
	int		 fd;

	if (ctx->spare_fd == -1)
		return;
	close(ctx->spare_fd);
	ctx->spare_fd = -1;
	if ((fd = ctx->net->accept(lfd, NULL, NULL, SOCK_CLOEXEC)) != -1) {
		(void)write(fd, msg, strlen(msg));
		close(fd);
		log_warnx("out of file descriptors: connection refused");
	}
	ctx->spare_fd = ctx->net->socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC,
	    0);
}

/*
 * The rest of ctx, once main has set conf, evbase, pfh, pfh_arg, net
 * and clock.
 */
void
session_init(struct ftp_ctx *ctx)
{
	ctx->end = session_close;
	TAILQ_INIT(&ctx->sessions);
	ctx->spare_fd = -1;
	hl_init(&ctx->hosts, ctx->conf->max_sessions,
	    ctx->conf->max_per_host);
	farm_init(ctx);
}

void
session_accept(int lfd, short ev, void *arg)
{
	struct sockaddr_storage	 peer;
	socklen_t		 len = sizeof(peer);
	struct pfh_addr		 ca;
	struct ftp_ctx		*ctx = arg;
	struct ftp_session	*s;
	const char		*why;
	uint16_t		 cport;
	int			 fd, on = 1;

	if (ctx->spare_fd == -1)
		ctx->spare_fd = ctx->net->socket(AF_INET, SOCK_STREAM |
		    SOCK_CLOEXEC, 0);
	fd = ctx->net->accept(lfd, (struct sockaddr *)&peer, &len,
	    SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd == -1) {
		if (errno == EMFILE || errno == ENFILE)
			accept_emfile(ctx, lfd);
		else if (errno != EAGAIN && errno != EINTR &&
		    errno != ECONNABORTED)
			log_warn("accept");
		return;
	}
	if (addr_from_sa((struct sockaddr *)&peer, &ca, &cport) == -1) {
		close(fd);
		return;
	}
	if (ctx->nsessions >= ctx->conf->max_sessions) {
		refuse(fd, "421 Too many sessions, try again later\r\n",
		    "session limit reached", &ca, cport);
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	/* A client's urgent byte (its Synch) stays in the stream. */
	setsockopt(fd, SOL_SOCKET, SO_OOBINLINE, &on, sizeof(on));
	if ((s = session_new(ctx, fd, &peer)) == NULL) {
		refuse(fd, "421 Out of memory\r\n", "out of memory", &ca,
		    cport);
		return;
	}
	if (host_refused(s, fd))
		return;
	if ((why = session_target(s, fd)) != NULL) {
		logit(LOG_NOTICE, "#%u refused: %s", s->id, why);
		s->client.conn = side_conn(s, fd);
		pump_reply(s, "421 Connection refused by the proxy");
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
