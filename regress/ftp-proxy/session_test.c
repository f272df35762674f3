/* SPDX-License-Identifier: ISC */
/*
 * session_test.c: ftp-proxy's sessions, their life (session.c) and
 * their line pump (pump.c), driven over AF_UNIX socket pairs: fake
 * sockets (struct ftp_net: accept, socket, connect, the addresses), a
 * fake pfhelper (struct ftp_pfh: calls recorded, answered by the test)
 * and a fake clock, so no network, no pfhelper and no sleep.  Reverse
 * mode (-R) with two servers, documentation addresses only.
 *
 * Cases: a long server line streamed through, a NUL in its rest, a
 * long 227 rewritten and its rest dropped; a client line too long; the
 * Synch before ABOR (the DM urgent); FIN orders (the client's first,
 * the server's first, 221 then close);
 * out of descriptors at accept (the spare one); -R's next server when
 * one refuses (at once, or later) or does not answer in time, and the
 * farm's tries of the one that is down; the idle
 * time, and a transfer that outlives it; the permit rate on the fake
 * clock; pfhelper refusing a data permit,
 * a session, or a session again (a new pfhelper); -m's limit; an old
 * worker's drain.
 * The last line is "N passed, M failed".
 */
#include "compat.h"

#include <sys/ioctl.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "check.h"
#include "log.h"
#include "proxy.h"

#define SPINS		20000	/* loop rounds a wait may take at most */
#define PEER_MAX	(64 * 1024)
#define CALLS_MAX	256
#define FDS_MAX		8

/* The test's end of a socket pair, and what came out of it. */
struct peer {
	int	fd;
	char	buf[PEER_MAX];
	size_t	len;
	int	eof;
};

enum { C_START, C_PERMIT };

struct call {
	int			 type;
	int			 live;
	struct pfh_calls	*owner;
	pfh_done		 done;
	void			*arg;
	struct pfh_session	 m;
	struct pfh_permit	 p;
};

/* The fakes' script and record. */
struct fake {
	/* accept: these fds in turn; full: EMFILE while the spare is open */
	int		 accept_fd[FDS_MAX];
	int		 naccept, accepted;
	int		 full;
	int		 spare, nspare;
	/* socket: the proxy's ends of the server pairs, in turn */
	struct peer	 srv[FDS_MAX];
	int		 nsrv;
	/*
	 * connect: the first one refused at once (1), later (2), or never
	 * answered (3)
	 */
	int		 refuse_first;
	int		 nconnect;
	struct pfh_addr	 dialled[FDS_MAX];
	/* dial: farm.c's tries of a down server, refused while set */
	int		 ndial;
	int		 dial_refuse;
	/* pfhelper */
	struct call	 calls[CALLS_MAX];
	int		 ncalls;
	int		 permit_fail;	/* permit_add fails at once */
	int		 nend, ndel;
};

static struct event_base	*base;
static struct proxy_conf	 conf;
static struct ftp_ctx		 ctx;
static struct fake		 fk;
static double			 fake_now = 1000;

static double
fake_clock(void)
{
	return (fake_now);
}

static void
sa_set(struct sockaddr *sa, socklen_t *len, const char *ip, uint16_t port)
{
	struct sockaddr_in	sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	if (inet_pton(AF_INET, ip, &sin.sin_addr) != 1)
		errx(1, "inet_pton %s", ip);
	memcpy(sa, &sin, sizeof(sin));
	*len = sizeof(sin);
}

static void
pair(int *proxy_end, struct peer *p)
{
	int	sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
	    sv) == -1)
		err(1, "socketpair");
	*proxy_end = sv[0];
	memset(p, 0, sizeof(*p));
	p->fd = sv[1];
}

static int
fake_accept(int lfd, struct sockaddr *sa, socklen_t *len, int flags)
{
	if (fk.full && fcntl(fk.spare, F_GETFD) != -1) {
		errno = EMFILE;
		return (-1);
	}
	if (fk.accepted == fk.naccept) {
		errno = EAGAIN;
		return (-1);
	}
	if (sa != NULL)
		sa_set(sa, len, "192.0.2.10", 40000 + fk.accepted);
	fk.full = 0;
	return (fk.accept_fd[fk.accepted++]);
}

static int
fake_socket(int domain, int type, int proto)
{
	int	fd;

	if (!(type & SOCK_NONBLOCK)) {		/* the spare */
		if ((fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1)
			err(1, "/dev/null");
		fk.spare = fd;
		fk.nspare++;
		return (fd);
	}
	if (fk.nsrv == FDS_MAX)
		errx(1, "too many server sockets");
	pair(&fd, &fk.srv[fk.nsrv++]);
	return (fd);
}

static void
fake_connected(int fd, short ev, void *arg)
{
	struct conn	*c = arg;

	c->eventcb(c, BEV_EVENT_CONNECTED, c->arg);
}

static void
fake_refused(int fd, short ev, void *arg)
{
	struct conn	*c = arg;

	errno = ECONNREFUSED;
	c->eventcb(c, BEV_EVENT_ERROR, c->arg);
}

/* As conn_connect: the outcome comes from the loop, unless refused now. */
static int
fake_connect(struct conn *c, const struct sockaddr *sa, socklen_t len)
{
	struct timeval	tv = { 0, 0 };
	uint16_t	port;
	int		first = fk.nconnect == 0;

	if (fk.nconnect < FDS_MAX)
		addr_from_sa(sa, &fk.dialled[fk.nconnect], &port);
	fk.nconnect++;
	if (first && fk.refuse_first == 1) {
		errno = ECONNREFUSED;
		return (-1);
	}
	if (first && fk.refuse_first == 3)
		return (0);		/* no answer, ever */
	event_base_once(base, -1, EV_TIMEOUT, first && fk.refuse_first == 2 ?
	    fake_refused : fake_connected, c, &tv);
	return (0);
}

static int
fake_dial(int fd, const struct sockaddr *sa, socklen_t len)
{
	fk.ndial++;
	if (fk.dial_refuse) {
		errno = ECONNREFUSED;
		return (-1);
	}
	return (0);		/* a socket pair: writable, no error */
}

static int
fake_sockname(int fd, struct sockaddr *sa, socklen_t *len)
{
	sa_set(sa, len, "203.0.113.1", 50000 + fd);
	return (0);
}

/* Reverse mode: the client dialled the proxy's own address. */
static int
fake_orig_dst(int fd, struct sockaddr_storage *ss, socklen_t *len,
    struct sockaddr_storage *local)
{
	socklen_t	llen;

	sa_set((struct sockaddr *)ss, len, "203.0.113.1", 21);
	sa_set((struct sockaddr *)local, &llen, "203.0.113.1", 21);
	return (0);
}

static const struct ftp_net	fake_net = {
	fake_accept, fake_socket, fake_connect, fake_dial, fake_sockname,
	fake_orig_dst
};

static struct call *
call_new(int type, struct pfh_calls *owner, pfh_done done, void *arg)
{
	struct call	*c;

	if (fk.ncalls == CALLS_MAX)
		errx(1, "too many pfhelper calls");
	c = &fk.calls[fk.ncalls++];
	c->type = type;
	c->live = 1;
	c->owner = owner;
	c->done = done;
	c->arg = arg;
	return (c);
}

static int
fake_start(void *a, struct pfh_calls *owner, const struct pfh_session *m,
    pfh_done done, void *arg)
{
	call_new(C_START, owner, done, arg)->m = *m;
	return (0);
}

static int
fake_permit_add(void *a, struct pfh_calls *owner, const struct pfh_permit *p,
    pfh_done done, void *arg)
{
	if (fk.permit_fail) {
		errno = ENOBUFS;
		return (-1);
	}
	call_new(C_PERMIT, owner, done, arg)->p = *p;
	return (0);
}

static int
fake_permit_del(void *a, uint32_t sid, uint32_t pid)
{
	fk.ndel++;
	return (0);
}

static int
fake_end(void *a, uint32_t sid)
{
	fk.nend++;
	return (0);
}

static void
fake_cancel(void *a, struct pfh_calls *owner)
{
	int	i;

	for (i = 0; i < fk.ncalls; i++)
		if (fk.calls[i].owner == owner)
			fk.calls[i].live = 0;
}

static const struct ftp_pfh	fake_pfh = {
	fake_start, fake_permit_add, fake_permit_del, fake_end, fake_cancel
};

/* pfhelper answers the last call of that type: 0 when there was one. */
static int
answer(int type, int error, uint16_t port)
{
	struct pfh_reply	 r;
	struct call		*c;
	int			 i;

	for (i = fk.ncalls - 1; i >= 0; i--)
		if (fk.calls[i].type == type && fk.calls[i].live)
			break;
	if (i < 0)
		return (-1);
	c = &fk.calls[i];
	c->live = 0;
	memset(&r, 0, sizeof(r));
	r.error = error;
	r.port = port;
	if (error != 0)
		strlcpy(r.reason, "refused by the test", sizeof(r.reason));
	c->done(&r, c->arg);
	return (0);
}

static int
live_calls(int type)
{
	int	i, n = 0;

	for (i = 0; i < fk.ncalls; i++)
		n += fk.calls[i].type == type && fk.calls[i].live;
	return (n);
}

/* One round of the loop, then what each peer can read. */
static void
spin1(struct peer *a, struct peer *b)
{
	struct peer	*p[2] = { a, b };
	ssize_t		 n = -1;
	int		 i;

	event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	for (i = 0; i < 2; i++) {
		if (p[i] == NULL || p[i]->eof)
			continue;
		n = -1;
		while (p[i]->len < sizeof(p[i]->buf) && (n = recv(p[i]->fd,
		    p[i]->buf + p[i]->len, sizeof(p[i]->buf) - p[i]->len,
		    MSG_DONTWAIT)) > 0)
			p[i]->len += (size_t)n;
		if (n == 0)
			p[i]->eof = 1;
	}
}

static int
has(const struct peer *p, const char *s)
{
	return (memmem(p->buf, p->len, s, strlen(s)) != NULL);
}

/* Run the loop until p has s (or EOF with s NULL): bounded. */
static int
wait_for(struct peer *p, const char *s, struct peer *other)
{
	int	i;

	for (i = 0; i < SPINS; i++) {
		if (s != NULL ? has(p, s) : p->eof)
			return (1);
		spin1(p, other);
	}
	return (0);
}

static void
spin(int n)
{
	while (n-- > 0)
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
}

static void
setup(void)
{
	struct pfh_addr	a;

	if ((base = event_base_new()) == NULL)
		errx(1, "event_base_new");
	memset(&fk, 0, sizeof(fk));
	fk.spare = -1;
	memset(&conf, 0, sizeof(conf));
	conf.reverse = 1;
	conf.max_sessions = 10;
	conf.idle_timeout = 600;
	addr_parse("198.51.100.10", &a);
	backend_add(&conf.backends, &a, 21);
	addr_parse("198.51.100.11", &a);
	backend_add(&conf.backends, &a, 21);
	memset(&ctx, 0, sizeof(ctx));
	ctx.conf = &conf;
	ctx.evbase = base;
	ctx.pfh = &fake_pfh;
	ctx.net = &fake_net;
	ctx.clock = fake_clock;
	session_init(&ctx);
}

static void
teardown(void)
{
	int	i;

	session_end_all(&ctx);
	evtimer_del(&ctx.probe_timer);
	for (i = 0; i < BACKEND_MAX; i++)
		if (ctx.probes[i].fd != -1) {
			event_del(&ctx.probes[i].ev);
			close(ctx.probes[i].fd);
		}
	hl_clear(&ctx.hosts);
	event_base_free(base);
	for (i = 0; i < fk.nsrv; i++)
		close(fk.srv[i].fd);
	if (ctx.spare_fd != -1)
		close(ctx.spare_fd);
}

/* A client for the next accept. */
static void
client_new(struct peer *cli)
{
	if (fk.naccept == FDS_MAX)
		errx(1, "too many clients");
	pair(&fk.accept_fd[fk.naccept++], cli);
}

/* Run the loop until a SESSION_START waits for pfhelper: bounded. */
static void
wait_start(void)
{
	int	i;

	for (i = 0; i < SPINS && live_calls(C_START) == 0; i++)
		spin(1);
}

/*
 * A session up to its greeting: accepted, connected (srv: the server
 * pair it got), registered with pfhelper, the 220 through.  1 if so.
 */
static int
session_up(struct peer *cli, struct peer **srv)
{
	client_new(cli);
	session_accept(-1, EV_READ, &ctx);
	wait_start();
	if (answer(C_START, 0, 0) == -1)
		return (0);
	*srv = &fk.srv[fk.nsrv - 1];
	if (write((*srv)->fd, "220 ready\r\n", 11) != 11 ||
	    !wait_for(cli, "220 ready\r\n", *srv))
		return (0);
	cli->len = (*srv)->len = 0;
	return (1);
}

static int	ends_with(struct peer *, const char *);

static void
say(struct peer *p, const void *buf, size_t len)
{
	if (write(p->fd, buf, len) != (ssize_t)len)
		err(1, "write to the proxy");
}

static void
test_long_server_line(void)
{
	static char	 reply[3 * FTP_LINE_MAX];
	struct peer	 cli, *srv;
	size_t		 n;

	setup();
	check(session_up(&cli, &srv), "long line: a session comes up");
	say(&cli, "HELP\r\n", 6);
	check(wait_for(srv, "HELP\r\n", &cli), "long line: HELP relayed");
	n = (size_t)snprintf(reply, sizeof(reply), "214-");
	memset(reply + n, 'x', 2 * FTP_LINE_MAX);
	n += 2 * FTP_LINE_MAX;
	n += (size_t)snprintf(reply + n, sizeof(reply) - n,
	    "\r\n214 end\r\n");
	cli.len = 0;
	say(srv, reply, n);
	check(wait_for(&cli, "214 end\r\n", srv) && cli.len == n &&
	    memcmp(cli.buf, reply, n) == 0,
	    "a server line twice FTP_LINE_MAX reaches the client whole");
	/* Its rest with a NUL: the client is told, the session ends. */
	say(&cli, "HELP\r\n", 6);
	wait_for(srv, "HELP\r\nHELP\r\n", &cli);
	cli.len = 0;
	n = 4 + FTP_LINE_MAX + 10;
	memset(reply + 4, 'y', n - 4);
	reply[4 + FTP_LINE_MAX + 5] = '\0';
	memcpy(reply + n, "\r\n", 2);
	say(srv, reply, n + 2);
	check(wait_for(&cli, "500 NUL byte in the control connection\r\n",
	    srv) && wait_for(&cli, NULL, srv),
	    "a NUL in a long line's rest: 500 to the client, then its EOF");
	close(cli.fd);
	teardown();
}

/* A long 227: its head is parsed and replaced, its rest dropped. */
static void
test_long_227(void)
{
	static char	 reply[3 * FTP_LINE_MAX];
	struct peer	 cli, *srv;
	const uint8_t	*a;
	size_t		 n;

	setup();
	check(session_up(&cli, &srv), "long 227: a session comes up");
	say(&cli, "PASV\r\n", 6);
	check(wait_for(srv, "PASV\r\n", &cli), "long 227: PASV relayed");
	a = fk.dialled[0].addr;
	n = (size_t)snprintf(reply, sizeof(reply), "227 Entering Passive "
	    "Mode (%u,%u,%u,%u,195,80) ", a[0], a[1], a[2], a[3]);
	memset(reply + n, 'z', 2 * FTP_LINE_MAX);
	n += 2 * FTP_LINE_MAX;
	n += (size_t)snprintf(reply + n, sizeof(reply) - n, "\r\n");
	say(srv, reply, n);
	spin(10);
	answer(C_PERMIT, 0, 50000);
	say(&cli, "NOOP\r\n", 6);
	check(wait_for(srv, "NOOP\r\n", &cli), "long 227: NOOP relayed");
	say(srv, "200 ok\r\n", 8);
	check(wait_for(&cli, "200 ok\r\n", srv) && has(&cli,
	    "227 Entering Passive Mode (203,0,113,1,195,80)\r\n200 ok\r\n") &&
	    memchr(cli.buf, 'z', cli.len) == NULL,
	    "a long 227 is rewritten, its rest dropped up to its end");
	close(cli.fd);
	teardown();
}

static void
test_client_too_long(void)
{
	static char	 line[FTP_CMD_MAX + 100];
	struct peer	 cli, *srv;

	setup();
	check(session_up(&cli, &srv), "too long: a session comes up");
	memset(line, 'A', sizeof(line));
	say(&cli, line, sizeof(line));
	check(wait_for(&cli, "500 Line too long\r\n", srv),
	    "a client line over FTP_CMD_MAX: 500 Line too long, before "
	    "its end came");
	say(&cli, "\r\nNOOP\r\n", 8);
	check(wait_for(srv, "NOOP\r\n", &cli) && srv->len == 6,
	    "the server gets the next command and nothing of the long one");
	cli.len = 0;
	memcpy(line, "NOOP\r\n", 6);
	say(&cli, line, sizeof(line));
	say(&cli, "\r\nPWD\r\n", 7);
	check(wait_for(srv, "PWD\r\n", &cli) && srv->len == 6 + 6 + 5 &&
	    memcmp(srv->buf, "NOOP\r\nNOOP\r\nPWD\r\n", 17) == 0,
	    "a line before a long one goes on, the long one does not");
	say(srv, "200 ok\r\n200 ok\r\n257 \"/\"\r\n", 25);
	check(wait_for(&cli, "257 \"/\"\r\n", srv) && strncmp(cli.buf,
	    "200 ok\r\n200 ok\r\n500 Line too long\r\n257 \"/\"\r\n",
	    cli.len) == 0, "and the client is told in its turn");
	close(cli.fd);
	teardown();
}

/*
 * sockatmark(3), with its answer set first: glibc's passes an
 * uninitialised int to SIOCATMARK, which memcheck takes for an input.
 */
static int
at_mark(int fd)
{
	int	 v = 0;

	return (ioctl(fd, SIOCATMARK, &v) == 0 && v == 1);
}

static void
test_synch(void)
{
	static const char	 inl[] = "\377\364\377ABOR\r\n";
	struct peer		 cli, *srv;
	size_t			 at = 0;
	ssize_t			 n;
	char			 dm = 0;
	int			 i;

	setup();
	check(session_up(&cli, &srv), "Synch: a session comes up");
	say(&cli, "ABOR\r\n", 6);
	/* A read stops at the urgent mark: take the byte there. */
	for (i = 0; i < SPINS && !has(srv, "ABOR\r\n"); i++) {
		spin(1);
		if (at_mark(srv->fd) && recv(srv->fd, &dm, 1,
		    MSG_OOB | MSG_DONTWAIT) == 1)
			at = srv->len;
		n = recv(srv->fd, srv->buf + srv->len, sizeof(srv->buf) -
		    srv->len, MSG_DONTWAIT);
		if (n > 0)
			srv->len += (size_t)n;
	}
	check(srv->len == sizeof(inl) - 1 &&
	    memcmp(srv->buf, inl, srv->len) == 0,
	    "ABOR: IAC IP IAC in line before it");
	check((unsigned char)dm == 0xf2 && at == 3,
	    "and the DM as urgent data, right after them");
	close(cli.fd);
	teardown();
}

static void
test_client_fin_first(void)
{
	struct peer	cli, *srv;

	setup();
	check(session_up(&cli, &srv), "client FIN: a session comes up");
	say(&cli, "QUIT\r\n", 6);
	shutdown(cli.fd, SHUT_WR);
	check(wait_for(srv, NULL, &cli) && srv->len == 6 &&
	    memcmp(srv->buf, "QUIT\r\n", 6) == 0,
	    "client FIN first: QUIT, then the FIN, reach the server");
	check(!cli.eof, "and the client's side stays open for the reply");
	say(srv, "221 Bye\r\n", 9);
	close(srv->fd);
	srv->fd = -1;
	check(wait_for(&cli, NULL, NULL) && has(&cli, "221 Bye\r\n"),
	    "the server's 221 reaches the client before its EOF");
	spin(10);
	check(TAILQ_EMPTY(&ctx.sessions) && session_count(&ctx) == 0,
	    "and the session is gone");
	check(fk.nend == 1, "ended at pfhelper once");
	close(cli.fd);
	teardown();
}

static void
test_server_fin_first(void)
{
	struct peer	cli, *srv;

	setup();
	check(session_up(&cli, &srv), "server FIN: a session comes up");
	say(srv, "421 Timeout\r\n", 13);
	shutdown(srv->fd, SHUT_WR);
	check(wait_for(&cli, NULL, srv) && has(&cli, "421 Timeout\r\n"),
	    "server FIN first: its last reply, then EOF, to the client");
	close(cli.fd);
	spin(10);
	check(TAILQ_EMPTY(&ctx.sessions), "and the session is gone");
	teardown();
}

static void
test_221_close(void)
{
	struct peer	cli, *srv;

	setup();
	check(session_up(&cli, &srv), "221: a session comes up");
	say(&cli, "QUIT\r\n", 6);
	check(wait_for(srv, "QUIT\r\n", &cli), "QUIT relayed");
	say(srv, "221 Bye\r\n", 9);
	close(srv->fd);
	srv->fd = -1;
	check(wait_for(&cli, NULL, NULL) && cli.len == 9 &&
	    has(&cli, "221 Bye\r\n"), "221 then close: the client gets the "
	    "221, then EOF");
	check(session_count(&ctx) == 0, "no live session left");
	close(cli.fd);
	spin(10);
	check(TAILQ_EMPTY(&ctx.sessions), "freed once the client left");
	teardown();
}

static void
test_emfile(void)
{
	const char	*msg =
			    "421 Proxy out of resources, try again later\r\n";
	struct peer	 refused, cli, *srv;
	int		 spare;

	setup();
	spin(1);
	client_new(&refused);
	fk.full = 1;
	session_accept(-1, EV_READ, &ctx);
	spare = fk.spare;
	check(fk.nspare == 2 && ctx.spare_fd == spare && spare != -1,
	    "EMFILE: the spare descriptor is given up and taken again");
	check(wait_for(&refused, NULL, NULL) && refused.len == strlen(msg) &&
	    memcmp(refused.buf, msg, refused.len) == 0,
	    "EMFILE: the connection waiting is told 421 and closed");
	check(TAILQ_EMPTY(&ctx.sessions), "no session for it");
	check(session_up(&cli, &srv),
	    "the next connection is a session as usual");
	close(refused.fd);
	close(cli.fd);
	teardown();
}

static void
retry(int how, const char *what)
{
	struct peer	 cli, *srv;
	struct call	*c;
	char		 a[ADDR_STRLEN], b[ADDR_STRLEN];

	setup();
	fk.refuse_first = how;
	checkf(session_up(&cli, &srv), "-R, %s: the client is greeted", what);
	checkf(fk.nconnect == 2 && fk.nsrv == 2 &&
	    !addr_eq(&fk.dialled[0], &fk.dialled[1]),
	    "-R, %s: the next server is dialled (%d dials)", what,
	    fk.nconnect);
	c = &fk.calls[0];
	checkf(fk.ncalls >= 1 && addr_eq(&c->m.server, &fk.dialled[1]),
	    "-R, %s: pfhelper hears of the second server (%s, not %s)", what,
	    addr_str(&c->m.server, a, sizeof(a)),
	    addr_str(&fk.dialled[0], b, sizeof(b)));
	checkf(backend_ndown(&conf.backends) == 1,
	    "-R, %s: the refusing server is marked down", what);
	close(cli.fd);
	teardown();
}

/*
 * The session's timer runs out now: libevent's clock is not the
 * test's, so the timer is made active instead of waited for.
 */
static void
time_out(void)
{
	struct ftp_session	*s = TAILQ_FIRST(&ctx.sessions);

	if (s == NULL || !evtimer_pending(&s->timer, NULL))
		errx(1, "no session timer");
	event_active(&s->timer, EV_TIMEOUT, 1);
}

static void
test_no_answer(void)
{
	struct peer	 cli, *srv;

	setup();
	fk.refuse_first = 3;
	client_new(&cli);
	session_accept(-1, EV_READ, &ctx);
	spin(10);
	check(fk.nconnect == 1 && live_calls(C_START) == 0,
	    "-R, no answer: one server dialled, and waited for");
	time_out();
	wait_start();
	if (!check(fk.nconnect == 2 && answer(C_START, 0, 0) == 0,
	    "-R, no answer in time: the next server is dialled")) {
		close(cli.fd);
		teardown();
		return;
	}
	srv = &fk.srv[1];
	say(srv, "220 ready\r\n", 11);
	check(wait_for(&cli, "220 ready\r\n", srv) &&
	    backend_ndown(&conf.backends) == 1,
	    "-R, no answer: its greeting reaches the client, the first "
	    "server is down");
	close(cli.fd);
	teardown();
}

/* The farm's tries of a down server, on the test's clock. */
static void
test_probe(void)
{
	struct peer	 cli, *srv;
	int		 i;

	setup();
	fk.refuse_first = 1;
	check(session_up(&cli, &srv) && backend_ndown(&conf.backends) == 1,
	    "probe: a server refused, the next one took the session");
	check(evtimer_pending(&ctx.probe_timer, NULL),
	    "probe: the farm's timer runs while a server is down");
	event_active(&ctx.probe_timer, EV_TIMEOUT, 1);
	spin(10);
	check(fk.ndial == 0, "probe: not tried before its time");
	fake_now += BACKEND_DOWN_SECS;
	fk.dial_refuse = 1;
	event_active(&ctx.probe_timer, EV_TIMEOUT, 1);
	spin(10);
	check(fk.ndial == 1 && backend_ndown(&conf.backends) == 1,
	    "probe: tried once its time came; refused, it stays down");
	fake_now += BACKEND_DOWN_SECS;
	fk.dial_refuse = 0;
	event_active(&ctx.probe_timer, EV_TIMEOUT, 1);
	for (i = 0; i < SPINS && backend_ndown(&conf.backends) > 0; i++)
		spin(1);
	check(fk.ndial == 2 && backend_ndown(&conf.backends) == 0,
	    "probe: tried again; it answers, it is up");
	close(cli.fd);
	teardown();
}

static void
test_idle(void)
{
	struct peer	cli, *srv;

	setup();
	check(session_up(&cli, &srv), "idle: a session comes up");
	say(&cli, "RETR f\r\n", 8);
	check(wait_for(srv, "RETR f\r\n", &cli), "idle: RETR relayed");
	say(srv, "150 Opening\r\n", 13);
	check(wait_for(&cli, "150 Opening\r\n", srv), "idle: 150 relayed");
	time_out();
	spin(10);
	check(!cli.eof && session_count(&ctx) == 1,
	    "idle: a session in a transfer outlives the idle time");
	say(srv, "226 Done\r\n", 10);
	check(wait_for(&cli, "226 Done\r\n", srv), "idle: 226 relayed");
	cli.len = 0;
	time_out();
	check(ends_with(&cli, "421 Idle timeout, closing control "
	    "connection\r\n"), "idle after the transfer: 421, then EOF");
	close(cli.fd);
	teardown();
}

static void
test_retry(void)
{
	retry(1, "refused at once");
	retry(2, "refused later");
}

static void
pasv(int fail_now, int error, uint16_t port, const char *want,
    const char *what)
{
	struct peer		 cli, *srv;
	const uint8_t		*a;
	char			 r227[128];
	int			 n;

	setup();
	fk.permit_fail = fail_now;
	checkf(session_up(&cli, &srv), "%s: a session comes up", what);
	cli.len = 0;
	say(&cli, "PASV\r\n", 6);
	checkf(wait_for(srv, "PASV\r\n", &cli), "%s: PASV relayed", what);
	a = fk.dialled[0].addr;		/* the server's own address */
	n = snprintf(r227, sizeof(r227), "227 Entering Passive Mode "
	    "(%u,%u,%u,%u,195,80)\r\n", a[0], a[1], a[2], a[3]);
	say(srv, r227, (size_t)n);
	if (!fail_now) {
		spin(10);
		checkf(live_calls(C_PERMIT) == 1, "%s: a permit is asked for",
		    what);
		answer(C_PERMIT, error, port);
	}
	checkf(wait_for(&cli, "\r\n", srv) && has(&cli, want),
	    "%s: the client gets %s (%s)", what, want,
	    check_esc(cli.buf, cli.len));
	if (port == 0)
		checkf(!has(&cli, "227"), "%s: and no 227", what);
	close(cli.fd);
	teardown();
}

static void
test_permit(void)
{
	pasv(0, 0, 50000, "227 Entering Passive Mode (203,0,113,1,195,80)",
	    "permit granted");
	pasv(0, EPERM, 0, "425 Proxy cannot open the data connection",
	    "permit refused by pfhelper");
	pasv(1, 0, 0, "425 Proxy cannot open the data connection",
	    "permit not even asked");
}

/* Run the loop until the client's side has its EOF: what it got. */
static int
ends_with(struct peer *cli, const char *reply)
{
	return (wait_for(cli, NULL, NULL) && cli->len == strlen(reply) &&
	    memcmp(cli->buf, reply, cli->len) == 0);
}

static void
test_start_refused(void)
{
	struct peer	cli;

	setup();
	client_new(&cli);
	session_accept(-1, EV_READ, &ctx);
	wait_start();
	answer(C_START, EPERM, 0);
	check(ends_with(&cli, "421 Proxy refused the session\r\n"),
	    "pfhelper refuses a session: 421, then EOF");
	check(fk.nend == 0, "and nothing is ended at pfhelper");
	close(cli.fd);
	spin(10);
	check(TAILQ_EMPTY(&ctx.sessions), "the session is gone");
	teardown();
}

static void
test_limit(void)
{
	struct peer	cli, over, *srv;

	setup();
	conf.max_sessions = 1;
	check(session_up(&cli, &srv), "-m 1: a first session comes up");
	client_new(&over);
	session_accept(-1, EV_READ, &ctx);
	check(ends_with(&over, "421 Too many sessions, try again later\r\n"),
	    "-m 1: a second is told 421 and closed");
	check(session_count(&ctx) == 1 && fk.nconnect == 1,
	    "and no server is dialled for it");
	close(over.fd);
	close(cli.fd);
	teardown();
}

static void
test_refused_again(void)
{
	struct peer	cli, *srv;

	setup();
	check(session_up(&cli, &srv), "refused again: a session comes up");
	session_refused(TAILQ_FIRST(&ctx.sessions)->id, "", &ctx);
	check(ends_with(&cli, "421 Proxy lost its packet filter helper\r\n"),
	    "a new pfhelper refuses the session: 421, then EOF");
	check(wait_for(srv, NULL, &cli), "and the server's side is closed");
	close(cli.fd);
	teardown();
}

static void
test_drain(void)
{
	struct peer	cli, *srv;
	int		i, exited = 0;

	setup();
	check(session_up(&cli, &srv), "drain: a session comes up");
	session_drain(&ctx, 0);
	check(ends_with(&cli, "421 Proxy reloaded, closing control "
	    "connection\r\n"), "drain time over: 421, then EOF");
	close(cli.fd);
	for (i = 0; i < SPINS && !exited; i++) {
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		exited = event_base_got_exit(base);
	}
	check(TAILQ_EMPTY(&ctx.sessions) && exited,
	    "the last one gone, the worker's loop ends");
	evtimer_del(&ctx.drain_ev);
	teardown();
}

/* One PASV and its 227: 1 if a permit was asked for (and granted). */
static int
pasv_once(struct peer *cli, struct peer *srv)
{
	const uint8_t	*a = fk.dialled[0].addr;
	char		 r227[128];
	int		 n, i, asked = 0;

	cli->len = srv->len = 0;
	say(cli, "PASV\r\n", 6);
	if (!wait_for(srv, "PASV\r\n", cli))
		return (-1);
	n = snprintf(r227, sizeof(r227), "227 Entering Passive Mode "
	    "(%u,%u,%u,%u,195,80)\r\n", a[0], a[1], a[2], a[3]);
	say(srv, r227, (size_t)n);
	for (i = 0; i < SPINS && !has(cli, "\r\n") && !asked; i++) {
		spin1(cli, srv);
		asked = live_calls(C_PERMIT) == 1;
	}
	if (asked)
		answer(C_PERMIT, 0, 50000);
	return (wait_for(cli, "\r\n", srv) ? asked : -1);
}

/* The permit rate runs on the session's clock, here the test's. */
static void
test_permit_rate(void)
{
	struct peer	cli, *srv;
	int		i, n = 0;

	setup();
	check(session_up(&cli, &srv), "permit rate: a session comes up");
	for (i = 0; i < FTP_PERMIT_BURST; i++)
		n += pasv_once(&cli, srv) == 1;
	checkf(n == FTP_PERMIT_BURST, "a burst of %d permits in no time: "
	    "all asked for (%d)", FTP_PERMIT_BURST, n);
	check(pasv_once(&cli, srv) == 0 && has(&cli, "425 "),
	    "one more in no time: 425, not asked for");
	fake_now += 1;
	check(pasv_once(&cli, srv) == 1, "a second later: asked again");
	close(cli.fd);
	teardown();
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	log_init(1, LOG_DAEMON);
	log_setverbose(getenv("SESSION_TEST_LOG") != NULL ? LOG_DEBUG :
	    LOG_EMERG);
	test_long_server_line();
	test_long_227();
	test_client_too_long();
	test_synch();
	test_client_fin_first();
	test_server_fin_first();
	test_221_close();
	test_emfile();
	test_retry();
	test_no_answer();
	test_probe();
	test_idle();
	test_permit();
	test_permit_rate();
	test_start_refused();
	test_limit();
	test_refused_again();
	test_drain();
	return (check_summary());
}
