/* SPDX-License-Identifier: ISC */
/*
 * pfhctl: a front-end emulator for pfhelper, for
 * regress/integration/pfhelper.sh and scripts/bench-pfhelper.sh.
 *
 *	pfhctl [-T] [-E low-high] [-p pfhelper] [-- pfhelper-args ...]
 *
 * Starts pfhelper (role FTP, TFTP with -T; the path from -p, else
 * $PFHELPER, else the installed one; -E: the HELLO's TLS port range,
 * as ftp-proxy -E sends it), then reads one command
 * per line from stdin and prints one line per command:
 *	ok [result]
 *	err <errno-name> <reason>
 * Blank lines and lines starting with `#' are skipped.  At EOF pfhctl
 * closes the socket; pfhelper then removes its table and exits.
 *
 *	session <sid> tcp|udp <client> <cport> <dialled> <dport>
 *	    <proxy> <pport> <server> <sport> [timeout] [at <local> <lport>]
 *					local:lport: where the client
 *					reached the proxy (the source of
 *					the reply tuple pfhelper looks
 *					up); dialled:dport unless said, as
 *					TPROXY delivers a connection
 *	passive <sid> <pid> <pport> <tport> <timeout>
 *	active <sid> <pid> <pport> <tport> <timeout> [port20]
 *	range <sid> <pid> <low> <high>	a TLS session's range permit
 *	del <sid> <pid>
 *	end <sid>
 *	ctlookup tcp|udp <client> <cport> <local> <lport>
 *					ok <addr> <port>
 *	raw <type> <len>		a <len>-byte zero payload of a type
 *					(name like PFH_PERMIT_ADD, or number)
 *	pid				ok <pfhelper's pid>
 *	echo <words>			ok <words>
 *	sleep <seconds>			fractions allowed
 *	bench <nsessions> [samples]	ok n .. add_med_us .. (see "Benchmark")
 *
 * pfhctl checks only what it needs to build a message: a request that
 * pfhelper must refuse goes out as given.  Once pfhelper is gone every
 * request gets `err EPIPE' (the first may say ECONNRESET).
 */
#include "compat.h"

#include <sys/socket.h>
#include <netinet/in.h>

#include <err.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "log.h"
#include "pfh_client.h"

#define MAXARGS		16
#define MAXHELPERARGS	32
#define BENCH_SID0	0x40000000U	/* bench sessions: sid0 + index */
#define BENCH_WINDOW	128		/* requests in flight during setup */
#define BENCH_MAXN	1000000
#define BENCH_SAMPLES	2000
#define BENCH_RANGE_MAX	60000		/* 250 clients x 240 servers */

struct cmd {
	const char	*name;
	int		 min, max;	/* argument count, name excluded */
	void		(*fn)(int, char **);
};

static struct pfh_client	 pfh;
static int			 dead;	/* pfhelper gone */
static struct pfh_hello		 hello;	/* -E: bench range permits */

static __dead void	usage(void);
static void	say_err(int, const char *);
static int	num(const char *, long long, long long, long long *);
static int	proto_arg(const char *, uint8_t *);
static int	addr_arg(const char *, struct pfh_addr *);
static void	request(uint32_t, const void *, size_t);
static void	c_session(int, char **);
static void	permit(uint8_t, int, char **);
static void	c_passive(int, char **);
static void	c_active(int, char **);
static void	c_range(int, char **);
static void	c_del(int, char **);
static void	c_end(int, char **);
static void	c_ctlookup(int, char **);
static void	c_raw(int, char **);
static void	c_pid(int, char **);
static void	c_echo(int, char **);
static void	c_sleep(int, char **);
static void	c_bench(int, char **);
static void	run_line(char *);
static void	bench_session(uint32_t, struct pfh_session *);
static void	bench_permit(uint32_t, uint32_t, struct pfh_permit *);
static int	wait_readable(int, int);
static double	now_us(void);
static int	dcmp(const void *, const void *);
static void	stats(double *, size_t, double *, double *);

static const struct cmd cmds[] = {
	{ "session",	10, 14, c_session },
	{ "passive",	5, 5, c_passive },
	{ "active",	5, 6, c_active },
	{ "range",	4, 4, c_range },
	{ "del",	2, 2, c_del },
	{ "end",	1, 1, c_end },
	{ "ctlookup",	5, 5, c_ctlookup },
	{ "raw",	2, 2, c_raw },
	{ "pid",	0, 0, c_pid },
	{ "echo",	0, MAXARGS, c_echo },
	{ "sleep",	1, 1, c_sleep },
	{ "bench",	1, 2, c_bench },
};

static __dead void
usage(void)
{
	extern char	*__progname;

	fprintf(stderr, "usage: %s [-T] [-E low-high] [-p pfhelper] "
	    "[-- pfhelper-args]\n", __progname);
	exit(1);
}

/* "err ENAME reason": e is an errno value. */
static void
say_err(int e, const char *reason)
{
	const char	*name = strerrorname_np(e);

	if (name != NULL)
		printf("err %s %s\n", name, reason);
	else
		printf("err E%d %s\n", e, reason);
}

static int
num(const char *s, long long min, long long max, long long *v)
{
	const char	*errstr;

	*v = strtonum(s, min, max, &errstr);
	if (errstr != NULL) {
		printf("err EINVAL number %s is %s\n", s, errstr);
		return (-1);
	}
	return (0);
}

#define NUM(s, min, max, dst) do {					\
	long long	v_;						\
	if (num((s), (min), (max), &v_) == -1)				\
		return;							\
	(dst) = v_;							\
} while (0)

static int
proto_arg(const char *s, uint8_t *p)
{
	if (strcmp(s, "tcp") == 0)
		*p = IPPROTO_TCP;
	else if (strcmp(s, "udp") == 0)
		*p = IPPROTO_UDP;
	else {
		printf("err EINVAL protocol %s is not tcp or udp\n", s);
		return (-1);
	}
	return (0);
}

static int
addr_arg(const char *s, struct pfh_addr *a)
{
	if (addr_parse(s, a) == -1) {
		printf("err EINVAL bad address %s\n", s);
		return (-1);
	}
	return (0);
}

/* One request, one result line. */
static void
request(uint32_t type, const void *data, size_t len)
{
	struct pfh_reply	r;
	char			a[ADDR_STRLEN];

	if (dead) {
		say_err(EPIPE, "pfhelper is gone");
		return;
	}
	if (pfh_request(&pfh, type, data, len, &r) == -1) {
		if (pfh_fatal_errno(errno) || r.reason[0] == '\0') {
			if (pfh_fatal_errno(errno))
				dead = 1;
			say_err(errno, strerror(errno));
		} else
			say_err(errno, r.reason);
		return;
	}
	if (type == PFH_CT_LOOKUP)
		printf("ok %s %u\n", addr_str(&r.addr, a, sizeof(a)), r.port);
	else
		printf("ok\n");
}

static void
c_session(int argc, char **argv)
{
	struct pfh_session	s;

	memset(&s, 0, sizeof(s));
	NUM(argv[0], 0, UINT32_MAX, s.sid);
	if (proto_arg(argv[1], &s.proto) == -1 ||
	    addr_arg(argv[2], &s.client) == -1 ||
	    addr_arg(argv[4], &s.dialled) == -1 ||
	    addr_arg(argv[6], &s.proxy) == -1 ||
	    addr_arg(argv[8], &s.server) == -1)
		return;
	NUM(argv[3], 0, UINT16_MAX, s.cport);
	NUM(argv[5], 0, UINT16_MAX, s.dport);
	NUM(argv[7], 0, UINT16_MAX, s.pport);
	NUM(argv[9], 0, UINT16_MAX, s.sport);
	s.local = s.dialled;
	s.lport = s.dport;
	if (argc > 12 && strcmp(argv[argc - 3], "at") == 0) {
		if (addr_arg(argv[argc - 2], &s.local) == -1)
			return;
		NUM(argv[argc - 1], 0, UINT16_MAX, s.lport);
		argc -= 3;
	}
	if (argc > 11) {
		printf("err EINVAL usage\n");
		return;
	}
	/* A UDP session comes with its permit: 30 s unless said. */
	if (s.proto == IPPROTO_UDP)
		s.timeout = 30;
	if (argc > 10)
		NUM(argv[10], 0, UINT16_MAX, s.timeout);
	request(PFH_SESSION_START, &s, sizeof(s));
}

/* passive|active sid pid pport tport timeout [port20] */
static void
permit(uint8_t kind, int argc, char **argv)
{
	struct pfh_permit	p;

	memset(&p, 0, sizeof(p));
	p.kind = kind;
	NUM(argv[0], 0, UINT32_MAX, p.sid);
	NUM(argv[1], 0, UINT32_MAX, p.pid);
	NUM(argv[2], 0, UINT16_MAX, p.pport);
	NUM(argv[3], 0, UINT16_MAX, p.tport);
	NUM(argv[4], 0, UINT16_MAX, p.timeout);
	if (argc == 6) {
		if (strcmp(argv[5], "port20") != 0) {
			printf("err EINVAL unknown flag %s\n", argv[5]);
			return;
		}
		p.flags |= PFH_F_PORT20;
	}
	request(PFH_PERMIT_ADD, &p, sizeof(p));
}

static void
c_passive(int argc, char **argv)
{
	permit(PFH_PASSIVE, argc, argv);
}

static void
c_active(int argc, char **argv)
{
	permit(PFH_ACTIVE, argc, argv);
}

/* range sid pid low high */
static void
c_range(int argc, char **argv)
{
	struct pfh_permit	p;

	memset(&p, 0, sizeof(p));
	p.kind = PFH_RANGE;
	NUM(argv[0], 0, UINT32_MAX, p.sid);
	NUM(argv[1], 0, UINT32_MAX, p.pid);
	NUM(argv[2], 0, UINT16_MAX, p.tport);
	NUM(argv[3], 0, UINT16_MAX, p.thigh);
	request(PFH_PERMIT_ADD, &p, sizeof(p));
}

static void
c_del(int argc, char **argv)
{
	struct pfh_permit_del	d;

	memset(&d, 0, sizeof(d));
	NUM(argv[0], 0, UINT32_MAX, d.sid);
	NUM(argv[1], 0, UINT32_MAX, d.pid);
	request(PFH_PERMIT_DEL, &d, sizeof(d));
}

static void
c_end(int argc, char **argv)
{
	struct pfh_session_end	e;

	memset(&e, 0, sizeof(e));
	NUM(argv[0], 0, UINT32_MAX, e.sid);
	request(PFH_SESSION_END, &e, sizeof(e));
}

static void
c_ctlookup(int argc, char **argv)
{
	struct pfh_ctlookup	l;

	memset(&l, 0, sizeof(l));
	if (proto_arg(argv[0], &l.proto) == -1 ||
	    addr_arg(argv[1], &l.client) == -1 ||
	    addr_arg(argv[3], &l.local) == -1)
		return;
	NUM(argv[2], 0, UINT16_MAX, l.cport);
	NUM(argv[4], 0, UINT16_MAX, l.lport);
	request(PFH_CT_LOOKUP, &l, sizeof(l));
}

/* raw <type> <len>: a payload of len zero bytes. */
static void
c_raw(int argc, char **argv)
{
	static uint8_t	 zero[MAX_IMSGSIZE];
	const char	*errstr;
	uint32_t	 type;
	size_t		 len;

	type = strtonum(argv[0], 1, UINT32_MAX, &errstr);
	if (errstr != NULL) {
		for (type = 1; type < PFH_MAX; type++)
			if (strcmp(argv[0], proto_name(type)) == 0)
				break;
		if (type == PFH_MAX) {
			printf("err EINVAL unknown type %s\n", argv[0]);
			return;
		}
	}
	NUM(argv[1], 0, sizeof(zero) - IMSG_HEADER_SIZE, len);
	request(type, zero, len);
}

static void
c_pid(int argc, char **argv)
{
	printf("ok %ld\n", (long)pfh.pid);
}

static void
c_echo(int argc, char **argv)
{
	int	i;

	printf("ok");
	for (i = 0; i < argc; i++)
		printf(" %s", argv[i]);
	printf("\n");
}

static void
c_sleep(int argc, char **argv)
{
	struct timespec	 ts;
	char		*end;
	double		 d;

	errno = 0;
	d = strtod(argv[0], &end);
	if (errno != 0 || *end != '\0' || !(d >= 0 && d <= 3600)) {
		printf("err EINVAL bad time %s\n", argv[0]);
		return;
	}
	ts.tv_sec = (time_t)d;
	ts.tv_nsec = (long)((d - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
	printf("ok\n");
}

/*
 * Benchmark: the latency of adding and of removing one data permit
 * (PERMIT_ADD / PERMIT_DEL round trip through pfhelper to the kernel)
 * while n sessions, each with one live permit, exist.
 *
 * Session k: client 192.0.2.(2 + k % 250), server 198.51.100.10, proxy
 * 198.51.100.1; its permit 1 uses port base(k) = 1024 + 2 * (k / 250)
 * as pport and tport, the measured permit 2 uses base(k) + 1, so every
 * element key is distinct.  Setup and teardown are pipelined; the
 * samples are strictly one request at a time.
 *
 * With -E, the permits are range permits (one per session and per
 * client and server): session k's server is 198.51.100.(10 + k / 250),
 * so n is at most BENCH_RANGE_MAX, and a sample deletes session k's
 * range permit and adds it again.
 */
static void
bench_session(uint32_t k, struct pfh_session *s)
{
	memset(s, 0, sizeof(*s));
	s->sid = BENCH_SID0 + k;
	s->proto = IPPROTO_TCP;
	addr_parse("192.0.2.1", &s->client);
	s->client.addr[3] = 2 + k % 250;
	addr_parse("198.51.100.10", &s->dialled);
	if (hello.tls_lo != 0)
		s->dialled.addr[3] = 10 + k / 250;
	addr_parse("198.51.100.1", &s->proxy);
	s->server = s->dialled;
	s->cport = 10000 + k % 50000;
	s->dport = 21;
	s->pport = 50000;
	s->sport = 21;
	s->local = s->dialled;
	s->lport = s->dport;
}

static void
bench_permit(uint32_t k, uint32_t pid, struct pfh_permit *p)
{
	memset(p, 0, sizeof(*p));
	p->sid = BENCH_SID0 + k;
	p->pid = pid;
	p->kind = PFH_PASSIVE;
	p->pport = p->tport = 1024 + 2 * (k / 250) + (pid - 1);
	p->timeout = PFH_TIMEOUT_MAX;
	if (hello.tls_lo != 0) {
		p->kind = PFH_RANGE;
		p->pport = p->timeout = 0;
		p->tport = hello.tls_lo;
		p->thigh = hello.tls_hi;
	}
}

enum bench_op { B_START, B_PERMIT, B_END };

struct bench {
	uint32_t	 n;
	uint8_t		*live;		/* session k started */
	uint32_t	 nerr;
	int		 err;		/* first error */
	char		 why[PFH_REASON_MAX];
};

static int	bench_compose(enum bench_op, uint32_t);
static int	bench_reply(uint32_t, struct pfh_reply *);
static int	bench_pipe(struct bench *, enum bench_op);
static int	bench_samples(struct bench *, double *, double *, uint32_t);
static void	bench_report(struct bench *, double *, double *, uint32_t,
		    const double [4]);

static int
bench_compose(enum bench_op op, uint32_t k)
{
	struct pfh_session	s;
	struct pfh_permit	p;
	struct pfh_session_end	e;
	uint32_t		id;

	if (++pfh.reqid == 0)
		pfh.reqid = 1;
	id = pfh.reqid;
	switch (op) {
	case B_START:
		bench_session(k, &s);
		return (proto_send_session(&pfh.iev.ibuf, id, &s));
	case B_PERMIT:
		bench_permit(k, 1, &p);
		return (proto_send_permit(&pfh.iev.ibuf, id, &p));
	case B_END:
		e.sid = BENCH_SID0 + k;
		return (proto_send_session_end(&pfh.iev.ibuf, id, &e));
	}
	return (-1);
}

static int
wait_readable(int fd, int ms)
{
	struct pollfd	pfd;
	int		rc;

	pfd.fd = fd;
	pfd.events = POLLIN;
	while ((rc = poll(&pfd, 1, ms)) == -1 && errno == EINTR)
		;
	if (rc == 0)
		errno = ETIMEDOUT;
	return (rc <= 0 ? -1 : 0);
}

/* The next reply, which must carry request id `id'. */
static int
bench_reply(uint32_t id, struct pfh_reply *r)
{
	struct imsg	imsg;
	ssize_t		n;
	int		rc;

	while ((n = imsg_get(&pfh.iev.ibuf, &imsg)) == 0) {
		if (wait_readable(pfh.iev.ibuf.fd, PFH_REPLY_TIMEOUT_MS) == -1)
			return (-1);
		if ((rc = imsgbuf_read(&pfh.iev.ibuf)) == -1)
			return (-1);
		if (rc == 0) {
			errno = EPIPE;
			return (-1);
		}
	}
	if (n == -1)
		return (-1);
	rc = imsg_get_id(&imsg) == id ? proto_recv_reply(&imsg, r) : -1;
	imsg_free(&imsg);
	if (rc == -1)
		errno = EBADMSG;
	return (rc);
}

/*
 * Run op for every session (B_PERMIT and B_END only for live ones) with
 * up to BENCH_WINDOW requests in flight.  -1 if pfhelper failed us.
 */
static int
bench_pipe(struct bench *b, enum bench_op op)
{
	struct pfh_reply	r;
	uint32_t		ks[BENCH_WINDOW], k = 0, i, nk, id0;

	while (k < b->n) {
		id0 = pfh.reqid;
		for (nk = 0; nk < BENCH_WINDOW && k < b->n; k++) {
			if (op != B_START && !b->live[k])
				continue;
			if (bench_compose(op, k) == -1)
				return (-1);
			ks[nk++] = k;
		}
		if (imsgbuf_flush(&pfh.iev.ibuf) == -1)
			return (-1);
		for (i = 0; i < nk; i++) {
			if (++id0 == 0)
				id0 = 1;
			if (bench_reply(id0, &r) == -1)
				return (-1);
			if (r.error != 0 && b->nerr++ == 0) {
				b->err = r.error;
				strlcpy(b->why, r.reason, sizeof(b->why));
			}
			if (op == B_START)
				b->live[ks[i]] = r.error == 0;
			else if (op == B_END)
				b->live[ks[i]] = 0;
		}
	}
	return (0);
}

static double
now_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec * 1e6 + ts.tv_nsec / 1e3);
}

static int
dcmp(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return (x < y ? -1 : x > y);
}

/* Sort v and give its median and 99th percentile (nearest rank). */
static void
stats(double *v, size_t n, double *med, double *p99)
{
	qsort(v, n, sizeof(v[0]), dcmp);
	*med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	*p99 = v[(n * 99 + 99) / 100 - 1];
}

/* Add and delete permit 2 of spread-out sessions, timing each. */
static int
bench_samples(struct bench *b, double *add, double *del, uint32_t ns)
{
	struct pfh_permit	p;
	struct pfh_permit_del	d;
	struct pfh_reply	r;
	uint32_t		i, k;
	double			t0, t1, t2;

	for (i = 0; i < ns; i++) {
		k = (uint32_t)(((uint64_t)i * 7919) % b->n);
		bench_permit(k, hello.tls_lo != 0 ? 1 : 2, &p);
		d.sid = p.sid;
		d.pid = p.pid;
		if (hello.tls_lo != 0) {	/* delete, then add again */
			t0 = now_us();
			if (pfh_request(&pfh, PFH_PERMIT_DEL, &d, sizeof(d),
			    &r) == -1)
				return (-1);
			t1 = now_us();
			if (pfh_request(&pfh, PFH_PERMIT_ADD, &p, sizeof(p),
			    &r) == -1 || r.error != 0)
				return (-1);
			t2 = now_us();
			del[i] = t1 - t0;
			add[i] = t2 - t1;
			continue;
		}
		t0 = now_us();
		if (pfh_request(&pfh, PFH_PERMIT_ADD, &p, sizeof(p), &r) == -1)
			return (-1);
		t1 = now_us();
		if (pfh_request(&pfh, PFH_PERMIT_DEL, &d, sizeof(d), &r) == -1)
			return (-1);
		t2 = now_us();
		add[i] = t1 - t0;
		del[i] = t2 - t1;
	}
	return (0);
}

/* The result line of a bench run. */
static void
bench_report(struct bench *b, double *add, double *del, uint32_t ns,
    const double t[4])
{
	double	am, ap, dm, dp;
	char	why[PFH_REASON_MAX + 64];

	if (b->nerr != 0) {
		snprintf(why, sizeof(why), "bench setup: %u errors, first: %s",
		    b->nerr, b->why);
		say_err(b->err, why);
		return;
	}
	stats(add, ns, &am, &ap);
	stats(del, ns, &dm, &dp);
	printf("ok n %u samples %u setup_s %.2f add_med_us %.1f "
	    "add_p99_us %.1f del_med_us %.1f del_p99_us %.1f "
	    "samples_s %.2f teardown_s %.2f\n", b->n, ns,
	    (t[1] - t[0]) / 1e6, am, ap, dm, dp, (t[2] - t[1]) / 1e6,
	    (t[3] - t[2]) / 1e6);
}

/*
 * bench n [samples]: one result line with the figures.  The sessions
 * are ended whatever happened, unless pfhelper is gone.
 */
static void
c_bench(int argc, char **argv)
{
	struct bench	 b;
	double		*add = NULL, *del = NULL, t[4];
	uint32_t	 ns = BENCH_SAMPLES;
	int		 rc, serr = 0;

	memset(&b, 0, sizeof(b));
	NUM(argv[0], 1, hello.tls_lo != 0 ? BENCH_RANGE_MAX : BENCH_MAXN,
	    b.n);
	if (argc == 2)
		NUM(argv[1], 1, 1000000, ns);
	if (dead) {
		say_err(EPIPE, "pfhelper is gone");
		return;
	}
	if ((b.live = calloc(b.n, 1)) == NULL ||
	    (add = calloc(ns, sizeof(*add))) == NULL ||
	    (del = calloc(ns, sizeof(*del))) == NULL) {
		say_err(errno, "out of memory");
		goto out;
	}
	t[0] = now_us();
	if ((rc = bench_pipe(&b, B_START)) == 0)
		rc = bench_pipe(&b, B_PERMIT);
	t[1] = now_us();
	if (rc == 0 && b.nerr == 0 &&
	    bench_samples(&b, add, del, ns) == -1) {
		serr = errno;
		rc = pfh_fatal_errno(serr) ? -1 : 0;
	}
	t[2] = now_us();
	if (rc == 0)
		rc = bench_pipe(&b, B_END);
	t[3] = now_us();
	if (rc == -1) {
		dead = pfh_fatal_errno(errno);
		say_err(errno, "bench: request failed");
	} else if (serr != 0)
		say_err(serr, "bench: a timed request failed");
	else
		bench_report(&b, add, del, ns, t);
 out:
	free(b.live);
	free(add);
	free(del);
}

/* Split a line into words and run the command. */
static void
run_line(char *line)
{
	char	*argv[MAXARGS + 2], *p, *w;
	int	 argc = 0;
	size_t	 i;

	for (p = line; (w = strsep(&p, " \t\r\n")) != NULL;) {
		if (*w == '\0')
			continue;
		if (argc == MAXARGS + 1) {
			printf("err E2BIG too many words\n");
			return;
		}
		argv[argc++] = w;
	}
	if (argc == 0 || argv[0][0] == '#')
		return;
	argv[argc] = NULL;
	for (i = 0; i < nitems(cmds); i++) {
		if (strcmp(argv[0], cmds[i].name) != 0)
			continue;
		if (argc - 1 < cmds[i].min || argc - 1 > cmds[i].max)
			printf("err EINVAL usage: wrong number of arguments "
			    "to %s\n", argv[0]);
		else
			cmds[i].fn(argc - 1, argv + 1);
		return;
	}
	printf("err EINVAL unknown command %s\n", argv[0]);
}

int
main(int argc, char *argv[])
{
	char		*hargv[MAXHELPERARGS + 2], *line = NULL;
	const char	*path;
	size_t		 linesz = 0;
	struct pfh_hello *h = &hello;
	int		 ch, i;

	if ((path = getenv("PFHELPER")) == NULL)
		path = PFHELPER_PATH;
	h->role = PFH_ROLE_FTP;
	while ((ch = getopt(argc, argv, "E:p:T")) != -1) {
		switch (ch) {
		case 'E':
			if (proto_range_parse(optarg, &h->tls_lo,
			    &h->tls_hi) == -1)
				usage();
			break;
		case 'p':
			path = optarg;
			break;
		case 'T':
			h->role = PFH_ROLE_TFTP;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc > MAXHELPERARGS)
		usage();
	hargv[0] = "pfhelper";
	for (i = 0; i < argc; i++)
		hargv[i + 1] = argv[i];
	hargv[argc + 1] = NULL;

	log_init(1, LOG_DAEMON);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (pfh_fork(&pfh, path, hargv) == -1)
		err(1, "cannot start %s", path);
	if (pfh_hello_opts(&pfh, h) == -1) {
		pfh_stop(&pfh);
		errx(1, "pfhelper refused: %s", pfh.reason[0] != '\0' ?
		    pfh.reason : strerror(errno));
	}
	signal(SIGPIPE, SIG_IGN);
	while (getline(&line, &linesz, stdin) != -1)
		run_line(line);
	free(line);
	pfh_stop(&pfh);
	return (0);
}
