/*
 * session.c: one FTP control connection: accept, find where the client
 * meant to go, connect there, register with pfhelper, relay lines (see
 * relay.c), and end cleanly.
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
#include <unistd.h>

#include <event2/bufferevent.h>
#include <event2/buffer.h>

#include "addr.h"
#include "hostlimit.h"
#include "log.h"
#include "proxy.h"
#include "telnet.h"

static struct session_list	sessions = TAILQ_HEAD_INITIALIZER(sessions);
static uint32_t			nsessions;
static uint32_t			next_id;

static void	side_read(struct bufferevent *, void *);
static void	side_write(struct bufferevent *, void *);
static void	side_event(struct bufferevent *, short, void *);
static void	session_timeout(int, short, void *);
static void	session_free(struct session *);
static void	timer_arm(struct session *, uint32_t);
static void	session_linger(struct session *);
static void	resume_cb(int, short, void *);
static int	host_refused(struct session *, int);
static void	host_release(struct session *);
static int	shutting_down;
static struct hl_table	hosts;		/* sessions per client host */
static int	spare_fd = -1;	/* given up to refuse at EMFILE */

uint32_t
session_count(void)
{
	return (nsessions);
}

void
session_send(struct side *side, const char *buf, size_t len)
{
	if (side->bev != NULL)
		bufferevent_write(side->bev, buf, len);
}

void
session_reply(struct session *s, const char *fmt, ...)
{
	char	buf[512];
	va_list	ap;
	int	n;

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
 * overtake what is queued in the bufferevent, so it is written
 * directly only when nothing is; otherwise, or on a short write, the
 * rest goes through the queue as plain bytes and the server still
 * reads the Telnet commands in order.
 */
void
session_synch(struct session *s)
{
	static const char	synch[] = { (char)TELNET_IAC, (char)TELNET_IP,
				    (char)TELNET_IAC, (char)TELNET_DM };
	ssize_t			n = 0;

	if (s->server.bev != NULL && evbuffer_get_length(
	    bufferevent_get_output(s->server.bev)) == 0) {
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

/*
 * Drop a side at once.  What is still queued for it is lost: libevent
 * keeps a bufferevent's output frozen to everyone but itself, so an
 * orderly end waits for the write callback instead (session_close).
 */
static void
side_free(struct side *side)
{
	if (side->bev != NULL)
		bufferevent_free(side->bev);	/* closes fd */
	else if (side->fd != -1)
		close(side->fd);
	side->bev = NULL;
	side->fd = -1;
}

static void
session_free(struct session *s)
{
	side_free(&s->client);
	side_free(&s->server);
	if (event_initialized(&s->timer))
		evtimer_del(&s->timer);
	if (event_initialized(&s->resume))
		evtimer_del(&s->resume);
	queue_clear(s);
	host_release(s);
	TAILQ_REMOVE(&sessions, s, entry);
	if (!s->closing)
		nsessions--;
	free(s);
}

static void
session_unregister(struct session *s)
{
	struct pfh_session_end	e;

	if (!s->registered)
		return;
	s->registered = 0;
	e.sid = s->id;
	/* Nothing waits for the reply: ending a session cannot fail. */
	if (pfh_send(&pfh, PFH_SESSION_END, &e, sizeof(e)) == -1) {
		/* At shutdown pfhelper may be gone first (^C): no table. */
		if (!shutting_down)
			fatal("pfhelper");
		log_warn("#%u pfhelper gone", s->id);
	}
}

/*
 * End a session: permits go now, the server side goes now, and what
 * is queued for the client is flushed before a FIN (session_linger).
 * The caller must not touch the session's sides any more; the session
 * itself is freed later, from an event, unless it never had a client.
 */
void
session_close(struct session *s, const char *why)
{
	if (s->closing)
		return;
	s->closing = 1;
	nsessions--;		/* what is left is a flush, bounded */
	host_release(s);
	session_unregister(s);
	log_info("#%u ending session: %s", s->id, why);
	side_free(&s->server);
	if (s->client.bev == NULL) {
		session_free(s);
		return;
	}
	timer_arm(s, FTP_CLOSE_TIMEOUT);
	bufferevent_enable(s->client.bev, s->client_eof ? EV_WRITE :
	    EV_READ | EV_WRITE);
	if (evbuffer_get_length(bufferevent_get_output(s->client.bev)) == 0)
		session_linger(s);
}

/*
 * All written: FIN to the client, then wait (bounded) for its FIN,
 * discarding what it still sends.  Closing with unread input would
 * send a RST that can destroy our last reply in flight.  If its FIN
 * came already, close soon (not now: callers still hold the session).
 */
static void
session_linger(struct session *s)
{
	struct timeval	tv = { 0, 0 };

	if (s->closing == 2)
		return;
	s->closing = 2;
	if (s->client_eof)
		evtimer_add(&s->timer, &tv);
	else	/* on failure the client's error event or the timer ends it */
		(void)shutdown(s->client.fd, SHUT_WR);
}

void
session_end_all(void)
{
	struct session	*s;

	shutting_down = 1;
	while ((s = TAILQ_FIRST(&sessions)) != NULL) {
		if (!s->closing)
			log_info("#%u ending session: proxy shutting down",
			    s->id);
		session_unregister(s);
		session_free(s);
	}
}

/*
 * pfhelper is gone: no permit can be made or removed (its table went
 * with it).  Tell every client, then the caller exits.
 */
void
session_abort_all(const char *reply)
{
	struct session	*s;

	shutting_down = 1;
	TAILQ_FOREACH(s, &sessions, entry)
		if (!s->closing && s->client.fd != -1)
			(void)write(s->client.fd, reply, strlen(reply));
}

static void
timer_arm(struct session *s, uint32_t secs)
{
	struct timeval	tv = { secs, 0 };

	evtimer_add(&s->timer, &tv);
}

static void
session_timeout(int fd, short ev, void *arg)
{
	struct session	*s = arg;

	if (s->closing)
		session_free(s);
	else if (s->client_eof)
		session_close(s, "client closed");
	else if (!s->connected) {
		session_reply(s, "421 Proxy cannot reach the server (timeout)");
		session_close(s, "server connect timeout");
	} else {
		session_reply(s, "421 Idle timeout, closing control "
		    "connection");
		session_close(s, "idle timeout");
	}
}

static struct bufferevent *
side_bev(struct session *s, int fd)
{
	struct bufferevent	*bev;

	bev = bufferevent_socket_new(evbase, fd, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL)
		return (NULL);
	bufferevent_setcb(bev, side_read, side_write, side_event, s);
	return (bev);
}

/* Register with pfhelper once the server side is up. */
static int
session_register(struct session *s)
{
	struct pfh_session	m;
	struct pfh_reply	r;
	char			a[ADDR_STRLEN], b[ADDR_STRLEN], c[ADDR_STRLEN];

	memset(&m, 0, sizeof(m));
	m.sid = s->id;
	m.proto = IPPROTO_TCP;
	m.client = s->client.addr;
	m.cport = s->client.port;
	m.dialled = s->dialled;
	m.dport = s->dport;
	m.proxy = s->server.local;
	m.pport = s->server.lport;
	m.server = s->server.addr;
	m.sport = s->server.port;
	if (pfh_request(&pfh, PFH_SESSION_START, &m, sizeof(m), &r) == -1) {
		if (pfh_fatal_errno(errno))
			fatal("pfhelper");
		log_warnx("#%u pfhelper refused the session: %s", s->id,
		    r.reason);
		return (-1);
	}
	s->registered = 1;
	log_info("#%u FTP session %s -> %s via proxy %s", s->id,
	    addr_port_str(&s->client.addr, s->client.port, a, sizeof(a)),
	    addr_port_str(&s->server.addr, s->server.port, b, sizeof(b)),
	    addr_port_str(&s->server.local, s->server.lport, c, sizeof(c)));
	return (0);
}

static void
server_connected(struct session *s)
{
	struct sockaddr_storage	ss;
	socklen_t		len = sizeof(ss);

	if (getsockname(s->server.fd, (struct sockaddr *)&ss, &len) == -1 ||
	    addr_from_sa((struct sockaddr *)&ss, &s->server.local,
	    &s->server.lport) == -1) {
		session_reply(s, "421 Proxy error");
		session_close(s, "getsockname");
		return;
	}
	s->connected = 1;
	if (session_register(s) == -1) {
		session_reply(s, "421 Proxy refused the session");
		session_close(s, "not registered");
		return;
	}
	timer_arm(s, conf.idle_timeout);
	bufferevent_enable(s->server.bev, EV_READ | EV_WRITE);
	bufferevent_enable(s->client.bev, EV_READ | EV_WRITE);
}

/*
 * After the client's FIN, the server gets one too, once the client's
 * last commands are out; its replies still reach the client.
 */
static void
server_fin(struct session *s)
{
	if (!s->client_eof || s->server_fin || s->stalled || s->closing ||
	    evbuffer_get_length(bufferevent_get_output(s->server.bev)) > 0)
		return;
	s->server_fin = 1;
	if (shutdown(s->server.fd, SHUT_WR) == -1)
		session_close(s, "client closed");
}

/* The client sent FIN, perhaps QUIT and a half-close. */
static void
client_eof(struct session *s)
{
	s->client_eof = 1;
	bufferevent_disable(s->client.bev, EV_READ);
	timer_arm(s, FTP_CLOSE_TIMEOUT);
	server_fin(s);
}

static void
side_event(struct bufferevent *bev, short what, void *arg)
{
	struct session	*s = arg;
	int		 is_server = (bev == s->server.bev);

	if (s->closing == 1 && (what & BEV_EVENT_EOF) &&
	    !(what & BEV_EVENT_ERROR)) {
		/* The client's FIN, while our last words are still queued. */
		s->client_eof = 1;
		bufferevent_disable(bev, EV_READ);
		return;
	}
	if (s->closing) {
		session_free(s);
		return;
	}
	if (what & BEV_EVENT_CONNECTED) {
		server_connected(s);
		return;
	}
	if (is_server && !s->connected) {
		log_warnx("#%u cannot connect to the server: %s", s->id,
		    strerror(EVUTIL_SOCKET_ERROR()));
		session_reply(s, "421 Proxy cannot reach the server");
		session_close(s, "server connect failed");
		return;
	}
	if (!is_server && s->connected && (what & BEV_EVENT_EOF) &&
	    !(what & BEV_EVENT_ERROR))
		client_eof(s);
	else if (what & BEV_EVENT_EOF)
		session_close(s, is_server ? "server closed" :
		    "client closed");
	else
		session_close(s, is_server ? "server error" : "client error");
}

/* Resume reading the other side once this one's backlog is gone. */
static void
side_write(struct bufferevent *bev, void *arg)
{
	struct session	*s = arg;
	int		 is_server = (bev == s->server.bev);
	struct side	*other = is_server ? &s->client : &s->server;

	if (s->closing) {
		session_linger(s);
		return;
	}
	if (is_server && s->client_eof) {
		server_fin(s);
		return;
	}
	if (s->connected && other->bev != NULL && !(other == &s->client &&
	    (s->client_eof || s->stalled)))
		bufferevent_enable(other->bev, EV_READ);
}

/* One line from a side; 0 to go on, -1 when the session is gone. */
static int
side_line(struct session *s, int is_server, char *line, size_t len)
{
	const char	*who = is_server ? "server" : "client";

	if (len + 2 > FTP_LINE_MAX) {
		log_warnx("#%u %s line too long", s->id, who);
		session_reply(s, "500 Line too long");
		session_close(s, "line too long");
		return (-1);
	}
	/* A client's NUL, bare CR or other control byte: 500 (relay.c). */
	if (is_server && memchr(line, '\0', len) != NULL) {
		log_warnx("#%u NUL byte in a %s line", s->id, who);
		session_reply(s, "500 NUL byte in the control connection");
		session_close(s, "NUL byte");
		return (-1);
	}
	if (!s->client_eof)
		timer_arm(s, conf.idle_timeout);
	return (is_server ? server_line(s, line, len) :
	    client_line(s, line, len));
}

/* Whether the client must wait: as many commands out as we track. */
static int
client_stall(struct session *s)
{
	if (s->qlen < FTP_PIPELINE)
		return (0);
	s->stalled = 1;
	bufferevent_disable(s->client.bev, EV_READ);
	return (1);
}

static void
side_read(struct bufferevent *bev, void *arg)
{
	struct session	*s = arg;
	int		 is_server = (bev == s->server.bev);
	struct side	*other = is_server ? &s->client : &s->server;
	struct evbuffer	*in = bufferevent_get_input(bev);
	char		*line;
	size_t		 len;
	int		 rc;

	if (s->closing) {
		evbuffer_drain(in, evbuffer_get_length(in));
		return;
	}
	for (;;) {
		if (!is_server && client_stall(s))
			return;
		line = evbuffer_readln(in, &len, EVBUFFER_EOL_CRLF);
		if (line == NULL)
			break;
		rc = side_line(s, is_server, line, len);
		free(line);
		if (rc == -1)
			return;
	}
	if (evbuffer_get_length(in) + 2 > FTP_LINE_MAX) {
		(void)side_line(s, is_server, NULL, FTP_LINE_MAX);
		return;
	}
	/* Back pressure: the other side is not keeping up. */
	if (other->bev != NULL && evbuffer_get_length(
	    bufferevent_get_output(other->bev)) > FTP_BUF_HIGH)
		bufferevent_disable(bev, EV_READ);
}

/* There is room again for the client's waiting lines: soon, not now. */
void
session_resume(struct session *s)
{
	struct timeval	tv = { 0, 0 };

	evtimer_add(&s->resume, &tv);
}

static void
resume_cb(int fd, short ev, void *arg)
{
	struct session	*s = arg;

	if (s->closing || !s->stalled || s->qlen == FTP_PIPELINE)
		return;
	s->stalled = 0;
	if (!s->client_eof)
		bufferevent_enable(s->client.bev, EV_READ);
	side_read(s->client.bev, s);
	server_fin(s);
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
session_target(struct session *s, int fd)
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
	if (conf.reverse) {
		if (addr_from_sa((struct sockaddr *)&conf.rserver, &s->target,
		    &s->tport) == -1)
			return ("bad server address");
		if (s->target.af != s->client.addr.af)
			return ("client and server address families differ");
		return (NULL);
	}
	/*
	 * Not intercepted (a connection straight to the proxy), or aimed at
	 * this host: the destination is one of our own addresses.  Under
	 * TPROXY the socket's own address is the foreign destination.
	 */
	if (is_local_addr((struct sockaddr *)&orig, olen))
		return (addr_eq(&s->dialled, &la) && s->dport == lport ?
		    "not an intercepted connection" :
		    "original destination is the proxy itself");
	s->target = s->dialled;
	s->tport = s->dport;
	return (NULL);
}

static int
server_connect(struct session *s)
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
	if (conf.srclen != 0 && conf.src.ss_family == ss.ss_family &&
	    bind(fd, (struct sockaddr *)&conf.src, conf.srclen) == -1) {
		close(fd);
		return (-1);
	}
	s->server.fd = fd;
	s->server.addr = s->target;
	s->server.port = s->tport;
	if ((s->server.bev = side_bev(s, fd)) == NULL) {
		close(fd);
		s->server.fd = -1;
		return (-1);
	}
	if (bufferevent_socket_connect(s->server.bev, (struct sockaddr *)&ss,
	    len) == -1)
		return (-1);
	return (0);
}

static struct session *
session_new(int fd, const struct sockaddr_storage *peer)
{
	struct session	*s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return (NULL);
	if (++next_id == 0)
		next_id = 1;
	s->id = next_id;
	s->client.fd = fd;
	s->server.fd = -1;
	addr_from_sa((const struct sockaddr *)peer, &s->client.addr,
	    &s->client.port);
	TAILQ_INSERT_TAIL(&sessions, s, entry);
	nsessions++;
	evtimer_set(&s->timer, session_timeout, s);
	evtimer_set(&s->resume, resume_cb, s);
	return (s);
}

/*
 * One client host (an IPv4 address, an IPv6 /64) gets -M sessions at
 * most, so that it cannot take every slot of -m.  1 if s was refused
 * (and is closing).
 */
static int
host_refused(struct session *s, int fd)
{
	static int	ready;
	char		a[ADDR_STRLEN];

	if (!ready) {
		hl_init(&hosts, conf.max_per_host);
		ready = 1;
	}
	if (hl_add(&hosts, &s->client.addr) == 0) {
		s->host_counted = 1;
		return (0);
	}
	if (errno == EUSERS)
		logit(LOG_NOTICE, "#%u refused: %s has %u sessions (-M %u)",
		    s->id, addr_str(&s->client.addr, a, sizeof(a)),
		    hl_count(&hosts, &s->client.addr), conf.max_per_host);
	else
		log_warn("#%u refused: per-host count", s->id);
	s->client.bev = side_bev(s, fd);
	session_reply(s, "421 Too many sessions from your address, try "
	    "again later");
	session_close(s, "per-host session limit");
	return (1);
}

/* Its host's slot, given back when the session closes (as -m's). */
static void
host_release(struct session *s)
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
	const char	*msg = "421 Proxy out of resources, try again later\r\n";
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
session_accept(int lfd, short ev, void *arg)
{
	struct sockaddr_storage	 peer;
	socklen_t		 len = sizeof(peer);
	struct pfh_addr		 ca;
	struct session		*s;
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
	if (nsessions >= conf.max_sessions) {
		refuse(fd, "421 Too many sessions, try again later\r\n",
		    "session limit reached", &ca, cport);
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	/* A client's urgent byte (its Synch) stays in the stream: relay.c. */
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
		s->client.bev = side_bev(s, fd);
		session_reply(s, "421 Connection refused by the proxy");
		session_close(s, why);
		return;
	}
	if ((s->client.bev = side_bev(s, fd)) == NULL ||
	    server_connect(s) == -1) {
		log_warn("#%u connect to the server", s->id);
		session_reply(s, "421 Proxy cannot reach the server");
		session_close(s, "connect failed");
		return;
	}
	timer_arm(s, FTP_CONNECT_TIMEOUT);
}
