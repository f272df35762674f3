/* SPDX-License-Identifier: ISC */
/*
 * filtertool: drive pfhelper's packet-filter backend (filter_nft.c)
 * against the real kernel, for regress/integration/filter_nft.sh.  Needs
 * CAP_NET_ADMIN in the network namespace it runs in.
 *
 *	filtertool [-l] [-E low-high] [-m mark] [-v] table
 *	filtertool -n [-l] [-E low-high] [-m mark] table
 *
 * Creates `table inet TABLE' (flags owner) and reads commands from
 * stdin, one per line, until EOF; the table lives as long as the tool:
 *
 *	add rdr|snat|snatp|pass 4|6 tcp|udp saddr daddr dport
 *	    [to [toport]] timeout_ms	queue an element add
 *	add trdr|tsnat|tpass 4|6 tcp saddr daddr 0 [to] timeout_ms
 *				a range permit's (-E), timeout 0: none
 *	del rdr|snat|snatp|pass 4|6 tcp|udp saddr daddr dport [...]
 *	commit			send the batch: prints "ok" or "err TEXT"
 *	rollback		drop the batch: prints "ok"
 *	sleep SECONDS		(fractions allowed, at most 60)
 *	describe		filter_describe()
 *	echo TEXT		prints TEXT (a marker for scripts)
 *	bench N [ROUNDS [rdr|tpass]]
 *				with N live elements in pass4 (rdr4, tpass4),
 *				time single add and delete commits, one
 *				element each; prints microseconds
 *
 * -n prints filter_describe() and exits without touching the kernel.
 * Exit status: 0 at EOF, 1 if the table cannot be created, 2 on usage.
 *
 * Built by the Makefile as obj/regress/tools/filtertool (with
 * obj/libpfhnft.a and obj/libcommon.a).  Without the rest of the tree:
 *	cc -Icommon -Ipfhelper $(pkg-config --cflags libbsd-overlay libmnl \
 *	    libnftnl) pfhelper/filter_nft.c common/log.c \
 *	    regress/tools/filtertool.c $(pkg-config --libs libbsd-overlay \
 *	    libmnl libnftnl) -o obj/regress/tools/filtertool
 */
#include "compat.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "filter.h"
#include "log.h"
#include "proto.h"

#define MAXARGS		16
#define BENCH_CHUNK	500

static __dead void	usage(void);
static int	parse_num(const char *, long long, long long, long long *);
static int	parse_addr(int, const char *, uint8_t *);
static int	parse_elem(char **, int, struct filter_elem *, uint32_t *,
		    int);
static void	commit(void);
static void	cmd_elem(char **, int, int);
static double	now_us(void);
static int	bench_fill(uint32_t, uint32_t, int);
static void	cmd_bench(char **, int);
static void	cmd_sleep(char **, int);
static void	run(FILE *, const struct filter_conf *);

static __dead void
usage(void)
{
	extern char	*__progname;

	fprintf(stderr, "usage: %s [-lnv] [-E low-high] [-m mark] table\n",
	    __progname);
	exit(2);
}

static int
parse_num(const char *s, long long lo, long long hi, long long *v)
{
	const char	*errstr;

	*v = strtonum(s, lo, hi, &errstr);
	return (errstr == NULL ? 0 : -1);
}

static int
parse_addr(int af, const char *s, uint8_t *a)
{
	memset(a, 0, 16);
	return (inet_pton(af, s, a) == 1 ? 0 : -1);
}

/* av: map af proto saddr daddr dport [to [toport]] [timeout]. */
static int
parse_elem(char **av, int ac, struct filter_elem *e, uint32_t *timeout,
    int add)
{
	static const char *maps[] = { "rdr", "snat", "snatp", "pass",
	    "trdr", "tsnat", "tpass" };
	static const int need[] = { 2, 1, 2, 0, 1, 1, 0 };	/* to, toport */
	long long	 v;
	int		 af, i, n;

	memset(e, 0, sizeof(*e));
	if (ac < 6)
		return (-1);
	for (i = 0; i < (int)nitems(maps) && strcmp(av[0], maps[i]) != 0; i++)
		;
	if (i == (int)nitems(maps))
		return (-1);
	e->map = FE_RDR + i;
	n = 6 + (add ? need[i] + 1 : 0);
	af = strcmp(av[1], "6") == 0 ? AF_INET6 : AF_INET;
	e->af = af;
	e->proto = strcmp(av[2], "udp") == 0 ? IPPROTO_UDP : IPPROTO_TCP;
	if ((strcmp(av[1], "4") && strcmp(av[1], "6")) ||
	    (strcmp(av[2], "tcp") && strcmp(av[2], "udp")) ||
	    (add && ac != n) || parse_addr(af, av[3], e->saddr) == -1 ||
	    parse_addr(af, av[4], e->daddr) == -1 ||
	    parse_num(av[5], 0, 65535, &v) == -1)
		return (-1);
	e->dport = (uint16_t)v;
	if (!add)
		return (0);
	if (need[i] > 0 && parse_addr(af, av[6], e->to) == -1)
		return (-1);
	if (need[i] > 1) {
		if (parse_num(av[7], 0, 65535, &v) == -1)
			return (-1);
		e->toport = (uint16_t)v;
	}
	if (parse_num(av[n - 1], 0, UINT32_MAX - 1, &v) == -1)
		return (-1);
	*timeout = v == 0 ? FILTER_NO_TIMEOUT : (uint32_t)v;
	return (0);
}

static int	 opened;
static struct filter	*flt;	/* the backend under test */

static void
commit(void)
{
	int	 rc = 0;

	if (opened)
		rc = filter_commit(flt);
	opened = 0;
	if (rc == -1)
		printf("err %s\n", strerror(errno));
	else
		printf("ok\n");
}

static void
cmd_elem(char **av, int ac, int add)
{
	struct filter_elem	 e;
	uint32_t		 timeout = 0;
	int			 rc;

	if (parse_elem(av + 1, ac - 1, &e, &timeout, add) == -1) {
		printf("err usage: %s\n", av[0]);
		return;
	}
	if (!opened) {
		if (filter_begin(flt) == -1) {
			printf("err begin: %s\n", strerror(errno));
			return;
		}
		opened = 1;
	}
	rc = add ? filter_add(flt, &e, timeout) : filter_del(flt, &e);
	if (rc == -1)
		printf("err %s: %s\n", av[0], strerror(errno));
}

static double
now_us(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec * 1e6 + ts.tv_nsec / 1e3);
}

static enum filter_map	 bench_map = FE_PASS;

/* IPv4 elements 203.0.113.1 -> 203.x.y.2 tcp, x.y.dport = base+i. */
static int
bench_fill(uint32_t base, uint32_t n, int add)
{
	struct filter_elem	 e;
	uint32_t		 i, k;

	memset(&e, 0, sizeof(e));
	e.map = bench_map;
	e.af = AF_INET;
	e.proto = IPPROTO_TCP;
	inet_pton(AF_INET, "203.0.113.1", e.saddr);
	inet_pton(AF_INET, "203.0.113.3", e.to);
	e.toport = 2000;
	for (i = 0; i < n; i += BENCH_CHUNK) {
		if (filter_begin(flt) == -1)
			return (-1);
		for (k = i; k < n && k < i + BENCH_CHUNK; k++) {
			/* daddr . dport spread the keys over 2^32 values */
			e.daddr[0] = 203;
			e.daddr[1] = (uint8_t)((base + k) >> 16);
			e.daddr[2] = (uint8_t)((base + k) >> 24);
			e.daddr[3] = 2;
			e.dport = (uint16_t)(base + k);
			if (bench_map == FE_TPASS) {	/* a host pair only */
				e.daddr[2] = (uint8_t)((base + k) >> 8);
				e.daddr[3] = (uint8_t)(base + k);
			}
			if ((add ? filter_add(flt, &e, bench_map == FE_TPASS ?
			    FILTER_NO_TIMEOUT : 600000) : filter_del(flt, &e))
			    == -1) {
				filter_rollback(flt);
				return (-1);
			}
		}
		if (filter_commit(flt) == -1)
			return (-1);
	}
	return (0);
}

static void
cmd_bench(char **av, int ac)
{
	long long	 n, rounds = 1000, r;
	double		 t0, tadd = 0, tdel = 0;

	if (ac < 2 || parse_num(av[1], 0, 200000, &n) == -1 ||
	    (ac > 2 && parse_num(av[2], 1, 100000, &rounds) == -1)) {
		printf("err usage: bench N [ROUNDS [rdr|tpass]]\n");
		return;
	}
	bench_map = FE_PASS;
	if (ac > 3 && strcmp(av[3], "rdr") == 0)
		bench_map = FE_RDR;
	else if (ac > 3 && strcmp(av[3], "tpass") == 0)
		bench_map = FE_TPASS;
	if (bench_fill(0, (uint32_t)n, 1) == -1) {
		printf("err fill: %s\n", strerror(errno));
		return;
	}
	for (r = 0; r < rounds; r++) {
		t0 = now_us();
		if (bench_fill((uint32_t)n + 1, 1, 1) == -1)
			break;
		tadd += now_us() - t0;
		t0 = now_us();
		if (bench_fill((uint32_t)n + 1, 1, 0) == -1)
			break;
		tdel += now_us() - t0;
	}
	if (r < rounds)
		printf("err round %lld: %s\n", r, strerror(errno));
	else
		printf("bench %s live=%lld rounds=%lld add_us=%.1f "
		    "del_us=%.1f\n", bench_map == FE_RDR ? "rdr4" :
		    bench_map == FE_TPASS ? "tpass4" : "pass4",
		    n, rounds, tadd / rounds, tdel / rounds);
	if (bench_fill(0, (uint32_t)n, 0) == -1)
		printf("err cleanup: %s\n", strerror(errno));
}

static void
cmd_sleep(char **av, int ac)
{
	struct timespec	 ts;
	double		 d;
	char		*end;

	d = ac > 1 ? strtod(av[1], &end) : -1;
	if (ac < 2 || *end != '\0' || d < 0 || d > 60) {
		printf("err usage: sleep SECONDS\n");
		return;
	}
	ts.tv_sec = (time_t)d;
	ts.tv_nsec = (long)((d - (double)ts.tv_sec) * 1e9);
	nanosleep(&ts, NULL);
}

static void
run(FILE *in, const struct filter_conf *conf)
{
	char	 line[1024], *av[MAXARGS], *p, *s;
	int	 ac;

	while (fgets(line, sizeof(line), in) != NULL) {
		for (ac = 0, s = line; ac < MAXARGS &&
		    (p = strsep(&s, " \t\r\n")) != NULL;)
			if (*p != '\0')
				av[ac++] = p;
		if (ac == 0 || av[0][0] == '#')
			continue;
		if (strcmp(av[0], "add") == 0 || strcmp(av[0], "del") == 0)
			cmd_elem(av, ac, av[0][0] == 'a');
		else if (strcmp(av[0], "commit") == 0)
			commit();
		else if (strcmp(av[0], "rollback") == 0) {
			if (opened)
				filter_rollback(flt);
			opened = 0;
			printf("ok\n");
		} else if (strcmp(av[0], "sleep") == 0)
			cmd_sleep(av, ac);
		else if (strcmp(av[0], "describe") == 0)
			filter_describe(stdout, conf);
		else if (strcmp(av[0], "echo") == 0)
			printf("%s\n", ac > 1 ? av[1] : "");
		else if (strcmp(av[0], "bench") == 0)
			cmd_bench(av, ac);
		else
			printf("err unknown command: %s\n", av[0]);
	}
}

int
main(int argc, char *argv[])
{
	struct filter_conf	 conf;
	unsigned long		 ul;
	char			*end;
	int			 ch, describe = 0, verbose = 0;

	memset(&conf, 0, sizeof(conf));
	conf.mark = FILTER_MARK_DEFAULT;
	while ((ch = getopt(argc, argv, "E:lm:nv")) != -1) {
		switch (ch) {
		case 'E':
			if (proto_range_parse(optarg, &conf.tls_lo,
			    &conf.tls_hi) == -1)
				usage();
			break;
		case 'l':
			conf.log = 1;
			break;
		case 'm':
			errno = 0;
			ul = strtoul(optarg, &end, 0);
			if (errno || *end != '\0' || ul == 0 || ul > UINT32_MAX)
				usage();
			conf.mark = (uint32_t)ul;
			break;
		case 'n':
			describe = 1;
			break;
		case 'v':
			verbose = 1;
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 1 || strlcpy(conf.table, argv[optind],
	    sizeof(conf.table)) >= sizeof(conf.table))
		usage();
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (describe) {
		filter_describe(stdout, &conf);
		return (0);
	}
	log_init(1, LOG_DAEMON);
	log_setverbose(verbose ? LOG_DEBUG : LOG_INFO);
	if ((flt = filter_new()) == NULL || filter_init(flt, &conf) == -1) {
		fprintf(stderr, "filter_init: %s\n", strerror(errno));
		return (1);
	}
	printf("ready\n");
	run(stdin, &conf);
	filter_close(flt);
	return (0);
}
