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
#include "log.h"
#include "proxy.h"

static struct session_list	sessions = TAILQ_HEAD_INITIALIZER(sessions);
static uint32_t			nsessions;
static uint32_t			next_id;

static void	side_read(struct bufferevent *, void *);
static void	side_write(struct bufferevent *, void *);
static void	side_event(struct bufferevent *, short, void *);
static void	session_timeout(int, short, void *);

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

/* Write what is queued for a side once, without waiting, then free. */
static void
side_free(struct side *side)
{
	struct evbuffer	*out;

	if (side->bev == NULL) {
		if (side->fd != -1)
			close(side->fd);
		side->fd = -1;
		return;
	}
	out = bufferevent_get_output(side->bev);
	if (evbuffer_get_length(out) > 0 && side->fd != -1)
		(void)evbuffer_write(out, side->fd);
	bufferevent_free(side->bev);	/* closes fd */
	side->bev = NULL;
	side->fd = -1;
}

void
session_close(struct session *s, const char *why)
{
	struct pfh_session_end	e;
	struct pfh_reply	r;

	if (s->registered) {
		e.sid = s->id;
		if (pfh_request(&pfh, PFH_SESSION_END, &e, sizeof(e), &r) ==
		    -1 && pfh_fatal_errno(errno))
			fatal("pfhelper");
	}
	log_info("#%u ending session: %s", s->id, why);
	side_free(&s->client);
	side_free(&s->server);
	if (event_initialized(&s->timer))
		evtimer_del(&s->timer);
	TAILQ_REMOVE(&sessions, s, entry);
	nsessions--;
	free(s);
}

void
session_end_all(void)
{
	struct session	*s;

	while ((s = TAILQ_FIRST(&sessions)) != NULL)
		session_close(s, "proxy shutting down");
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

	if (!s->connected) {
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

static void
side_event(struct bufferevent *bev, short what, void *arg)
{
	struct session	*s = arg;
	int		 is_server = (bev == s->server.bev);

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
	if (what & BEV_EVENT_EOF)
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
	struct side	*other = bev == s->server.bev ? &s->client :
			    &s->server;

	if (s->connected && other->bev != NULL)
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
	if (memchr(line, '\0', len) != NULL) {
		log_warnx("#%u NUL byte in a %s line", s->id, who);
		session_reply(s, "500 NUL byte in the control connection");
		session_close(s, "NUL byte");
		return (-1);
	}
	timer_arm(s, conf.idle_timeout);
	return (is_server ? server_line(s, line, len) :
	    client_line(s, line, len));
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

	while ((line = evbuffer_readln(in, &len, EVBUFFER_EOL_CRLF)) !=
	    NULL) {
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
	socklen_t		olen, llen = sizeof(local);
	struct pfh_addr		la;
	uint16_t		lport;

	if (orig_dst(fd, &orig, &olen) == -1 ||
	    getsockname(fd, (struct sockaddr *)&local, &llen) == -1 ||
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
	if (addr_eq(&s->dialled, &la) && s->dport == lport)
		return ("not an intercepted connection");
	if (is_local_addr((struct sockaddr *)&orig, olen))
		return ("original destination is the proxy itself");
	s->target = s->dialled;
	s->tport = s->dport;
	return (NULL);
}

static int
server_connect(struct session *s)
{
	struct sockaddr_storage	ss;
	socklen_t		len;
	int			fd;

	if (addr_to_sa(&s->target, s->tport, &ss, &len) == -1)
		return (-1);
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1)
		return (-1);
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
	return (s);
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

	fd = accept4(lfd, (struct sockaddr *)&peer, &len, SOCK_NONBLOCK |
	    SOCK_CLOEXEC);
	if (fd == -1) {
		if (errno != EAGAIN && errno != EINTR &&
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
	if ((s = session_new(fd, &peer)) == NULL) {
		refuse(fd, "421 Out of memory\r\n", "out of memory", &ca,
		    cport);
		return;
	}
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
