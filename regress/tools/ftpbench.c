/* SPDX-License-Identifier: ISC */
/*
 * ftpbench: the load generator and stub servers of scripts/bench.sh.
 * Standalone (libc only), single-threaded, epoll.  Every mode is bounded
 * in time; results go to stdout as one line of `key=value' words.
 *
 *	ftpbench load -h host [-p 21] -c conc -t secs -f path [-b srcs]
 *	    sessions in a loop: connect, 220, USER anonymous (PASS),
 *	    PASV, connect data, RETR path, data to EOF and 226, QUIT.
 *	    fail= counts the sessions that failed or hung, hung= those
 *	    that hung (no end within 10 s); a line on stderr for each of
 *	    the first 20 that failed or hung: its state, its last command
 *	    and the last reply it read.
 *	ftpbench lat -h host [-p 21] -n count [-a] [-r rate]
 *	    one session; count PASV (or, -a, PORT to our own address)
 *	    one at a time (at most rate a second); latency from the
 *	    command's write to the reply.
 *	ftpbench idle -h host [-p 21] -n count [-r rate] [-P] [-b srcs]
 *	    [-w secs] [-H secs]
 *	    open count sessions (at most rate new ones a second), log in,
 *	    PASV with -P, print a result line, then hold them for -H secs.
 *	ftpbench serve [-p 21] [-k] [-H secs] [-o offset]
 *	    a stub FTP server that never opens a data connection (220,
 *	    USER/PASS, PASV/EPSV/PORT answered, QUIT); -k: accept and close.
 *	    Its passive ports count up from 1024 + offset, so that several
 *	    stubs sharing port 21 (SO_REUSEPORT) name different ones.
 *	ftpbench conn -h host -p port -c conc -t secs
 *	    new TCP connections a second: connect, then close with RST.
 *	ftpbench tftp -h host [-p 69] -c conc -t secs -f file [-b srcs]
 *	    TFTP read requests (octet) in a loop; with -b, from source
 *	    ports that do not repeat within the run.
 *
 * srcs: comma-separated source addresses, used round robin.
 * Documentation addresses only are used by bench.sh; this program sends
 * to whatever -h says.
 */
#define _GNU_SOURCE
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAXSRC		16
#define LINEBUF		2048
#define SESS_TIMEOUT	10.0	/* seconds for one session's steps */
#define TFTP_TIMEOUT	2.0
#define MAXEV		256

struct opts {
	const char		*host;
	int			 port;
	int			 conc;
	double			 secs;
	const char		*path;
	int			 n;
	int			 rate;
	int			 pasv;
	int			 active;
	int			 sink;
	double			 wait;
	double			 hold;
	struct sockaddr_in	 src[MAXSRC];
	int			 nsrc;
};

static struct opts	 o;
static struct sockaddr_in dst;
static int		 ep;

static double
now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec + ts.tv_nsec / 1e9);
}

static void
raise_nofile(void)
{
	struct rlimit	rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static double
cpu_secs(void)
{
	struct rusage	ru;

	getrusage(RUSAGE_SELF, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
}

static int
cmp_dbl(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return (x < y ? -1 : x > y);
}

static double
pct(double *v, int n, double p)
{
	int	i;

	if (n == 0)
		return (0);
	i = (int)(p * (n - 1) + 0.5);
	return (v[i]);
}

static void
parse_srcs(char *s)
{
	char	*t;

	while ((t = strsep(&s, ",")) != NULL && o.nsrc < MAXSRC) {
		memset(&o.src[o.nsrc], 0, sizeof(o.src[0]));
		o.src[o.nsrc].sin_family = AF_INET;
		if (inet_pton(AF_INET, t, &o.src[o.nsrc].sin_addr) != 1)
			errx(1, "bad source address %s", t);
		o.nsrc++;
	}
}

/* A non-blocking TCP socket connecting to sa; -1 on failure. */
static int
tcp_connect(const struct sockaddr_in *sa, int srcidx)
{
	int	fd, on = 1;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return (-1);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	if (o.nsrc > 0 && bind(fd, (const struct sockaddr *)
	    &o.src[srcidx % o.nsrc], sizeof(o.src[0])) == -1) {
		close(fd);
		return (-1);
	}
	if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == -1 &&
	    errno != EINPROGRESS) {
		close(fd);
		return (-1);
	}
	return (fd);
}

static void
ep_add(int fd, uint32_t events, uint64_t data)
{
	struct epoll_event	ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = events;
	ev.data.u64 = data;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == -1)
		err(1, "epoll_ctl add");
}

static void
ep_mod(int fd, uint32_t events, uint64_t data)
{
	struct epoll_event	ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = events;
	ev.data.u64 = data;
	if (epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev) == -1)
		err(1, "epoll_ctl mod");
}

static int
sock_error(int fd)
{
	int		e = 0;
	socklen_t	len = sizeof(e);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) == -1)
		return (errno);
	return (e);
}

static void
close_rst(int fd)
{
	struct linger	l = { 1, 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	close(fd);
}

/* ---- FTP client sessions (load, idle) ---- */

enum st {
	S_FREE, S_CONN, S_GREET, S_USER, S_PASS, S_PASV, S_RETR, S_QUIT,
	S_IDLE
};

struct cli {
	enum st		 st;
	int		 fd, dfd;
	char		 buf[LINEBUF];
	size_t		 blen;
	int		 got226, dataeof;
	size_t		 dbytes;
	double		 t0;
	char		 lastcmd[32];	/* for a hung session's report */
	char		 lastreply[96];
};

static struct cli	*clis;
static void		 cli_report(struct cli *, const char *);
static long		 nok, nfail, nrefused, nhung;
static double		 deadline_all;

static void
cli_reset(struct cli *c, int ok)
{
	if (c->fd != -1)
		close(c->fd);
	if (c->dfd != -1)
		close(c->dfd);
	c->fd = c->dfd = -1;
	c->blen = 0;
	c->got226 = c->dataeof = 0;
	c->dbytes = 0;
	c->st = S_FREE;
	if (ok)
		nok++;
	else
		nfail++;
}

static void
cli_start(struct cli *c, int idx)
{
	c->fd = tcp_connect(&dst, idx);
	c->dfd = -1;
	c->blen = 0;
	c->t0 = now();
	if (c->fd == -1) {
		nfail++;
		c->st = S_FREE;
		return;
	}
	c->st = S_CONN;
	ep_add(c->fd, EPOLLOUT | EPOLLIN, (uint64_t)idx << 1);
}

static int
cli_send(struct cli *c, const char *s)
{
	size_t	len = strlen(s);

	snprintf(c->lastcmd, sizeof(c->lastcmd), "%.*s",
	    (int)strcspn(s, "\r\n"), s);
	return (write(c->fd, s, len) == (ssize_t)len ? 0 : -1);
}

/* h1,h2,h3,h4,p1,p2 of a 227 reply into sa. */
static int
parse_227(const char *line, struct sockaddr_in *sa)
{
	unsigned int	v[6];
	const char	*p;
	int		i;

	for (p = line + 4; *p != '\0' && (*p < '0' || *p > '9'); p++)
		;
	if (sscanf(p, "%u,%u,%u,%u,%u,%u", &v[0], &v[1], &v[2], &v[3],
	    &v[4], &v[5]) != 6)
		return (-1);
	for (i = 0; i < 6; i++)
		if (v[i] > 255)
			return (-1);
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_addr.s_addr = htonl(v[0] << 24 | v[1] << 16 | v[2] << 8 |
	    v[3]);
	sa->sin_port = htons(v[4] << 8 | v[5]);
	return (0);
}

/* One final reply line for a session; -1 to fail the session. */
static int
cli_reply(struct cli *c, int idx, int code, const char *line)
{
	struct sockaddr_in	sa;
	char			cmd[LINEBUF];

	snprintf(c->lastreply, sizeof(c->lastreply), "%.*s",
	    (int)sizeof(c->lastreply) - 1, line);
	switch (c->st) {
	case S_GREET:
		if (code != 220)
			return (-1);
		c->st = S_USER;
		return (cli_send(c, "USER anonymous\r\n"));
	case S_USER:
		if (code == 331) {
			c->st = S_PASS;
			return (cli_send(c, "PASS bench@\r\n"));
		}
		/* FALLTHROUGH */
	case S_PASS:
		if (code != 230)
			return (-1);
		if (clis != NULL && !o.pasv && o.path == NULL) {
			c->st = S_IDLE;
			return (0);
		}
		c->st = S_PASV;
		return (cli_send(c, "PASV\r\n"));
	case S_PASV:
		if (code != 227 || parse_227(line, &sa) == -1)
			return (-1);
		if (o.path == NULL) {	/* idle -P */
			c->st = S_IDLE;
			return (0);
		}
		if ((c->dfd = tcp_connect(&sa, idx)) == -1)
			return (-1);
		ep_add(c->dfd, EPOLLIN, (uint64_t)idx << 1 | 1);
		c->st = S_RETR;
		snprintf(cmd, sizeof(cmd), "RETR %s\r\n", o.path);
		return (cli_send(c, cmd));
	case S_RETR:
		if (code == 150 || code == 125)
			return (0);
		if (code != 226)
			return (-1);
		c->got226 = 1;
		if (c->dataeof) {
			c->st = S_QUIT;
			return (cli_send(c, "QUIT\r\n"));
		}
		return (0);
	case S_QUIT:
		return (code == 221 ? 1 : -1);
	default:
		return (-1);
	}
}

static int
cli_read(struct cli *c, int idx)
{
	ssize_t	 n;
	char	*nl, *line;
	int	 rc, code;

	n = read(c->fd, c->buf + c->blen, sizeof(c->buf) - 1 - c->blen);
	if (n <= 0)
		return (n == -1 && errno == EAGAIN ? 0 : -1);
	c->blen += n;
	c->buf[c->blen] = '\0';
	line = c->buf;
	while ((nl = memchr(line, '\n', c->buf + c->blen - line)) != NULL) {
		*nl = '\0';
		if (nl - line >= 4 && line[3] == ' ' &&
		    line[0] >= '1' && line[0] <= '5') {
			code = atoi(line);
			if (code == 421 || code == 425)
				nrefused++;
			if ((rc = cli_reply(c, idx, code, line)) != 0)
				return (rc);
		}
		line = nl + 1;
	}
	c->blen -= line - c->buf;
	memmove(c->buf, line, c->blen);
	if (c->blen >= sizeof(c->buf) - 1)
		return (-1);
	return (0);
}

static void
cli_event(int idx, int isdata, uint32_t events)
{
	struct cli	*c = &clis[idx];
	char		 sink[65536];
	ssize_t		 n;
	int		 rc = 0;

	if (c->st == S_FREE)
		return;
	if (isdata) {
		while ((n = read(c->dfd, sink, sizeof(sink))) > 0)
			c->dbytes += n;
		if (n == -1 && errno == EAGAIN)
			return;
		if (n == -1) {
			cli_report(c, "failed (data read)");
			cli_reset(c, 0);
			return;
		}
		close(c->dfd);
		c->dfd = -1;
		c->dataeof = 1;
		if (c->got226) {
			c->st = S_QUIT;
			if (cli_send(c, "QUIT\r\n") == -1)
				cli_reset(c, 0);
		}
		return;
	}
	if (c->st == S_CONN) {
		if (sock_error(c->fd) != 0) {
			cli_report(c, "failed (connect)");
			cli_reset(c, 0);
			return;
		}
		c->st = S_GREET;
		ep_mod(c->fd, EPOLLIN, (uint64_t)idx << 1);
		if (!(events & EPOLLIN))
			return;
	}
	rc = cli_read(c, idx);
	if (rc == -1)
		cli_report(c, "failed");
	if (rc != 0)
		cli_reset(c, rc == 1);
}

/*
 * Where a session that failed or made no progress stood (stderr): the
 * first ones of a run only.
 */
static void
cli_report(struct cli *c, const char *what)
{
	static int		nreports;
	struct sockaddr_in	sa;
	socklen_t		len = sizeof(sa);
	char			a[INET_ADDRSTRLEN] = "?";

	if (++nreports > 20)
		return;
	memset(&sa, 0, sizeof(sa));
	if (c->fd != -1)
		(void)getsockname(c->fd, (struct sockaddr *)&sa, &len);
	inet_ntop(AF_INET, &sa.sin_addr, a, sizeof(a));
	fprintf(stderr, "%s session %s:%u: state %d, data %s, 226 %s, "
	    "last sent \"%s\", last reply \"%s\"\n", what, a,
	    ntohs(sa.sin_port),
	    (int)c->st, c->dfd != -1 ? "open" : c->dataeof ? "ended" : "none",
	    c->got226 ? "yes" : "no", c->lastcmd, c->lastreply);
}

static void
cli_timeouts(double t, double limit)
{
	int	i;

	for (i = 0; i < o.conc; i++)
		if (clis[i].st != S_FREE && clis[i].st != S_IDLE &&
		    t - clis[i].t0 > limit) {
			cli_report(&clis[i], "hung");
			nhung++;
			cli_reset(&clis[i], 0);
		}
}

static void
loop_once(int ms, void (*fn)(uint64_t, uint32_t))
{
	struct epoll_event	evs[MAXEV];
	int			n, i;

	n = epoll_wait(ep, evs, MAXEV, ms);
	for (i = 0; i < n; i++)
		fn(evs[i].data.u64, evs[i].events);
}

static void
cli_dispatch(uint64_t d, uint32_t events)
{
	cli_event((int)(d >> 1), (int)(d & 1), events);
}

static int
mode_load(void)
{
	double	t0, t, cpu0;
	int	i;

	clis = calloc(o.conc, sizeof(*clis));
	for (i = 0; i < o.conc; i++)
		clis[i].fd = clis[i].dfd = -1;
	cpu0 = cpu_secs();
	t0 = now();
	deadline_all = t0 + o.secs;
	for (;;) {
		t = now();
		if (t >= deadline_all)
			break;
		for (i = 0; i < o.conc; i++)
			if (clis[i].st == S_FREE)
				cli_start(&clis[i], i);
		loop_once(50, cli_dispatch);
		cli_timeouts(now(), SESS_TIMEOUT);
	}
	t = now() - t0;
	printf("load sessions=%ld fail=%ld hung=%ld refused=%ld secs=%.2f "
	    "rate=%.1f cpu=%.2f\n", nok, nfail, nhung, nrefused, t, nok / t,
	    (cpu_secs() - cpu0) / t);
	return (0);
}

static int
mode_idle(void)
{
	double	t0, t, last;
	int	started = 0, inflight, i, up;

	o.conc = o.n;
	clis = calloc(o.conc, sizeof(*clis));
	for (i = 0; i < o.conc; i++)
		clis[i].fd = clis[i].dfd = -1;
	o.path = NULL;
	t0 = last = now();
	for (;;) {
		t = now();
		if (t - t0 > o.wait)
			break;
		inflight = 0;
		up = 0;
		for (i = 0; i < started; i++) {
			if (clis[i].st == S_IDLE)
				up++;
			else if (clis[i].st != S_FREE)
				inflight++;
		}
		if (started == o.n && inflight == 0)
			break;
		while (started < o.n && inflight < 256 &&
		    started < (t - t0) * o.rate + 1) {
			cli_start(&clis[started], started);
			started++;
			inflight++;
		}
		loop_once(10, cli_dispatch);
		cli_timeouts(now(), SESS_TIMEOUT);
		(void)last;
	}
	up = 0;
	for (i = 0; i < o.n; i++)
		if (clis[i].st == S_IDLE)
			up++;
	printf("idle up=%d fail=%ld refused=%ld secs=%.2f\n", up, nfail,
	    nrefused, now() - t0);
	fflush(stdout);
	t0 = now();
	while (now() - t0 < o.hold)
		loop_once(200, cli_dispatch);
	return (0);
}

/* ---- latency of PASV -> 227 or PORT -> 200 ---- */

static int
read_reply(int fd, char *buf, size_t size, size_t *have)
{
	char	*nl, *line;
	ssize_t	 n;
	int	 code;

	for (;;) {
		line = buf;
		while ((nl = memchr(line, '\n', buf + *have - line)) != NULL) {
			if (nl - line >= 4 && line[3] == ' ') {
				code = atoi(line);
				*have -= nl + 1 - buf;
				memmove(buf, nl + 1, *have);
				return (code);
			}
			line = nl + 1;
		}
		*have -= line - buf;
		memmove(buf, line, *have);
		n = read(fd, buf + *have, size - 1 - *have);
		if (n <= 0)
			return (-1);
		*have += n;
	}
}

static int
mode_lat(void)
{
	struct sockaddr_in	me;
	socklen_t		len = sizeof(me);
	struct timeval		tv = { 5, 0 };
	double			*v, t, sum = 0;
	char			buf[LINEBUF], cmd[128];
	size_t			have = 0;
	uint32_t		a;
	int			fd, i, code, want, on = 1, warm = 20;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		err(1, "socket");
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&dst, sizeof(dst)) == -1)
		err(1, "connect");
	getsockname(fd, (struct sockaddr *)&me, &len);
	a = ntohl(me.sin_addr.s_addr);
	if (read_reply(fd, buf, sizeof(buf), &have) != 220)
		errx(1, "no greeting");
	dprintf(fd, "USER anonymous\r\n");
	code = read_reply(fd, buf, sizeof(buf), &have);
	if (code == 331) {
		dprintf(fd, "PASS bench@\r\n");
		code = read_reply(fd, buf, sizeof(buf), &have);
	}
	if (code != 230)
		errx(1, "login: %d", code);
	v = calloc(o.n, sizeof(*v));
	want = o.active ? 200 : 227;
	for (i = 0; i < o.n + warm; i++) {
		if (o.rate > 0 && i > 0)
			usleep(1000000 / o.rate);
		if (o.active)
			snprintf(cmd, sizeof(cmd), "PORT %u,%u,%u,%u,%u,%u\r\n",
			    a >> 24, a >> 16 & 255, a >> 8 & 255, a & 255,
			    (20000 + i % 20000) >> 8,
			    (20000 + i % 20000) & 255);
		else
			snprintf(cmd, sizeof(cmd), "PASV\r\n");
		t = now();
		if (write(fd, cmd, strlen(cmd)) != (ssize_t)strlen(cmd))
			err(1, "write");
		if ((code = read_reply(fd, buf, sizeof(buf), &have)) != want)
			errx(1, "%s: reply %d", o.active ? "PORT" : "PASV",
			    code);
		t = (now() - t) * 1e6;
		if (i >= warm) {
			v[i - warm] = t;
			sum += t;
		}
	}
	dprintf(fd, "QUIT\r\n");
	close(fd);
	qsort(v, o.n, sizeof(*v), cmp_dbl);
	printf("lat cmd=%s n=%d p50_us=%.0f p99_us=%.0f mean_us=%.0f\n",
	    o.active ? "PORT" : "PASV", o.n, pct(v, o.n, 0.5),
	    pct(v, o.n, 0.99), sum / o.n);
	return (0);
}

/* ---- stub server ---- */

struct srv {
	int	fd;
	char	buf[LINEBUF];
	size_t	blen;
};

static int	lfd;
static unsigned	pasv_port;

static void
srv_line(struct srv *s, char *line)
{
	struct sockaddr_in	me;
	socklen_t		len = sizeof(me);
	char			out[128];
	uint32_t		a;
	unsigned		p;

	if (strncasecmp(line, "USER", 4) == 0)
		snprintf(out, sizeof(out), "331 Password please.\r\n");
	else if (strncasecmp(line, "PASS", 4) == 0)
		snprintf(out, sizeof(out), "230 Welcome.\r\n");
	else if (strncasecmp(line, "PASV", 4) == 0) {
		getsockname(s->fd, (struct sockaddr *)&me, &len);
		a = ntohl(me.sin_addr.s_addr);
		p = 1024 + pasv_port++ % 64000;
		snprintf(out, sizeof(out), "227 Entering Passive Mode "
		    "(%u,%u,%u,%u,%u,%u).\r\n", a >> 24, a >> 16 & 255,
		    a >> 8 & 255, a & 255, p >> 8, p & 255);
	} else if (strncasecmp(line, "EPSV", 4) == 0) {
		p = 1024 + pasv_port++ % 64000;
		snprintf(out, sizeof(out), "229 Entering Extended Passive "
		    "Mode (|||%u|)\r\n", p);
	} else if (strncasecmp(line, "QUIT", 4) == 0)
		snprintf(out, sizeof(out), "221 Goodbye.\r\n");
	else
		snprintf(out, sizeof(out), "200 OK.\r\n");
	(void)write(s->fd, out, strlen(out));
}

static void
srv_dispatch(uint64_t d, uint32_t events)
{
	struct srv	*s;
	char		*nl, *line;
	ssize_t		 n;
	int		 fd;

	if (d == 0) {
		while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK |
		    SOCK_CLOEXEC)) != -1) {
			if (o.sink) {
				close(fd);
				continue;
			}
			if ((s = calloc(1, sizeof(*s))) == NULL) {
				close(fd);
				continue;
			}
			s->fd = fd;
			ep_add(fd, EPOLLIN, (uint64_t)(uintptr_t)s);
			(void)write(fd, "220 ftpbench stub.\r\n", 20);
		}
		return;
	}
	s = (struct srv *)(uintptr_t)d;
	n = read(s->fd, s->buf + s->blen, sizeof(s->buf) - 1 - s->blen);
	if (n == -1 && errno == EAGAIN)
		return;
	if (n <= 0 || (s->blen += n) >= sizeof(s->buf) - 1)
		goto gone;
	s->buf[s->blen] = '\0';
	line = s->buf;
	while ((nl = strchr(line, '\n')) != NULL) {
		*nl = '\0';
		srv_line(s, line);
		if (strncasecmp(line, "QUIT", 4) == 0)
			goto gone;
		line = nl + 1;
	}
	s->blen -= line - s->buf;
	memmove(s->buf, line, s->blen);
	return;
 gone:
	close(s->fd);
	free(s);
}

static int
mode_serve(void)
{
	struct sockaddr_in	sa;
	double			t0 = now();
	int			on = 1;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons(o.port);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	/* Several servers may share the port (more sessions than fds). */
	setsockopt(lfd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on));
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    listen(lfd, 4096) == -1)
		err(1, "listen on port %d", o.port);
	ep_add(lfd, EPOLLIN, 0);
	while (now() - t0 < o.hold)
		loop_once(500, srv_dispatch);
	return (0);
}

/* ---- new TCP connections ---- */

struct conn {
	int	fd;
	double	t0;
};

static struct conn	*conns;

static void
conn_start(int i)
{
	conns[i].fd = tcp_connect(&dst, i);
	conns[i].t0 = now();
	if (conns[i].fd == -1) {
		nfail++;
		return;
	}
	ep_add(conns[i].fd, EPOLLOUT, i);
}

static void
conn_dispatch(uint64_t d, uint32_t events)
{
	struct conn	*c = &conns[d];

	if (c->fd == -1)
		return;
	if (sock_error(c->fd) == 0 && (events & EPOLLOUT))
		nok++;
	else
		nfail++;
	close_rst(c->fd);
	c->fd = -1;
	if (now() < deadline_all)
		conn_start((int)d);
}

static int
mode_conn(void)
{
	double	t0, t, cpu0 = cpu_secs();
	int	i;

	conns = calloc(o.conc, sizeof(*conns));
	t0 = now();
	deadline_all = t0 + o.secs;
	for (i = 0; i < o.conc; i++)
		conn_start(i);
	while ((t = now()) < deadline_all) {
		loop_once(50, conn_dispatch);
		for (i = 0; i < o.conc; i++)
			if (conns[i].fd == -1 || t - conns[i].t0 > 3.0) {
				if (conns[i].fd != -1) {
					close(conns[i].fd);
					nfail++;
				}
				conns[i].fd = -1;
				if (t < deadline_all)
					conn_start(i);
			}
	}
	t = now() - t0;
	printf("conn n=%ld fail=%ld secs=%.2f rate=%.0f cpu=%.2f\n", nok,
	    nfail, t, nok / t, (cpu_secs() - cpu0) / t);
	return (0);
}

/* ---- TFTP read requests ---- */

struct tx {
	int	fd;
	double	t0;
	size_t	bytes;
};

static struct tx	*txs;
static char		 rrq[600];
static size_t		 rrqlen;
static unsigned		 txn;

/*
 * With -b, each request gets a source port of its own, cycling through
 * 40,000 ports per address, so that no client port comes back within
 * seconds (a proxy that takes such a repeat for a retransmission is
 * measured by the default: kernel-chosen random ports).
 */
static void
tx_bind(int fd)
{
	struct sockaddr_in	sa;

	if (o.nsrc == 0)
		return;
	sa = o.src[txn % o.nsrc];
	sa.sin_port = htons(20000 + (txn / o.nsrc) % 40000);
	txn++;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		sa.sin_port = 0;
		(void)bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	}
}

static void
tx_start(int i)
{
	txs[i].t0 = now();
	txs[i].bytes = 0;
	txs[i].fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (txs[i].fd == -1) {
		nfail++;
		return;
	}
	tx_bind(txs[i].fd);
	if (sendto(txs[i].fd, rrq, rrqlen, 0, (struct sockaddr *)&dst,
	    sizeof(dst)) != (ssize_t)rrqlen) {
		close(txs[i].fd);
		txs[i].fd = -1;
		nfail++;
		return;
	}
	ep_add(txs[i].fd, EPOLLIN, i);
}

static void
tx_dispatch(uint64_t d, uint32_t events)
{
	struct tx		*t = &txs[d];
	struct sockaddr_in	 from;
	socklen_t		 len = sizeof(from);
	unsigned char		 pkt[1024], ack[4];
	ssize_t			 n;

	if (t->fd == -1)
		return;
	n = recvfrom(t->fd, pkt, sizeof(pkt), 0, (struct sockaddr *)&from,
	    &len);
	if (n == -1 && errno == EAGAIN)
		return;
	if (n < 4 || pkt[1] != 3) {	/* not DATA: an error */
		close(t->fd);
		t->fd = -1;
		nfail++;
		return;
	}
	ack[0] = 0;
	ack[1] = 4;
	ack[2] = pkt[2];
	ack[3] = pkt[3];
	(void)sendto(t->fd, ack, 4, 0, (struct sockaddr *)&from, len);
	t->bytes += n - 4;
	if (n - 4 < 512) {
		close(t->fd);
		t->fd = -1;
		nok++;
	}
}

static int
mode_tftp(void)
{
	double	t0, t, cpu0 = cpu_secs();
	int	i;

	rrqlen = snprintf(rrq + 2, sizeof(rrq) - 2, "%s", o.path) + 3;
	rrq[0] = 0;
	rrq[1] = 1;
	memcpy(rrq + rrqlen, "octet", 6);
	rrqlen += 6;
	txs = calloc(o.conc, sizeof(*txs));
	t0 = now();
	deadline_all = t0 + o.secs;
	for (i = 0; i < o.conc; i++)
		tx_start(i);
	while ((t = now()) < deadline_all) {
		loop_once(20, tx_dispatch);
		for (i = 0; i < o.conc; i++)
			if (txs[i].fd == -1 || t - txs[i].t0 > TFTP_TIMEOUT) {
				if (txs[i].fd != -1) {
					close(txs[i].fd);
					nfail++;
				}
				txs[i].fd = -1;
				if (t < deadline_all)
					tx_start(i);
			}
	}
	t = now() - t0;
	printf("tftp n=%ld fail=%ld secs=%.2f rate=%.1f cpu=%.2f\n", nok,
	    nfail, t, nok / t, (cpu_secs() - cpu0) / t);
	return (0);
}

static __attribute__((noreturn)) void
usage(void)
{
	fprintf(stderr, "usage: ftpbench load|lat|idle|serve|conn|tftp "
	    "[-aPk] [-b srcs] [-c conc]\n\t[-f path] [-H hold] [-h host] "
	    "[-n count] [-o offset] [-p port] [-r rate] [-t secs]\n\t[-w wait]\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	const char	*mode;
	int		 ch;

	if (argc < 2)
		usage();
	mode = argv[1];
	optind = 2;
	o.port = strcmp(mode, "tftp") == 0 ? 69 : 21;
	o.conc = 1;
	o.secs = 5;
	o.n = 1000;
	o.rate = 1000;
	o.wait = 60;
	o.hold = 60;
	while ((ch = getopt(argc, argv, "ab:c:f:H:h:kn:o:Pp:r:t:w:")) != -1) {
		switch (ch) {
		case 'a': o.active = 1; break;
		case 'b': parse_srcs(optarg); break;
		case 'c': o.conc = atoi(optarg); break;
		case 'f': o.path = optarg; break;
		case 'H': o.hold = atof(optarg); break;
		case 'h': o.host = optarg; break;
		case 'k': o.sink = 1; break;
		case 'n': o.n = atoi(optarg); break;
		case 'o': pasv_port = (unsigned)atoi(optarg); break;
		case 'P': o.pasv = 1; break;
		case 'p': o.port = atoi(optarg); break;
		case 'r': o.rate = atoi(optarg); break;
		case 't': o.secs = atof(optarg); break;
		case 'w': o.wait = atof(optarg); break;
		default: usage();
		}
	}
	if (o.conc < 1 || o.conc > 100000 || o.n < 1 || o.n > 200000 ||
	    o.secs <= 0 || o.secs > 600 || o.hold > 3600 || o.wait > 600 ||
	    o.rate < 1)
		errx(2, "argument out of range");
	raise_nofile();
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		err(1, "epoll_create1");
	if (strcmp(mode, "serve") == 0)
		return (mode_serve());
	if (o.host == NULL)
		usage();
	memset(&dst, 0, sizeof(dst));
	dst.sin_family = AF_INET;
	dst.sin_port = htons(o.port);
	if (inet_pton(AF_INET, o.host, &dst.sin_addr) != 1)
		errx(2, "bad host %s (IPv4 address)", o.host);
	if (strcmp(mode, "load") == 0 && o.path != NULL)
		return (mode_load());
	if (strcmp(mode, "lat") == 0)
		return (mode_lat());
	if (strcmp(mode, "idle") == 0)
		return (mode_idle());
	if (strcmp(mode, "conn") == 0)
		return (mode_conn());
	if (strcmp(mode, "tftp") == 0 && o.path != NULL)
		return (mode_tftp());
	usage();
}
