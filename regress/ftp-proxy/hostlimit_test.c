/* SPDX-License-Identifier: ISC */
/*
 * hostlimit_test.c: ftp-proxy/hostlimit.c, table-driven: a sequence of
 * add/del steps per case, each with the expected result and count; and
 * the policy alone, a row per question.  The last line is "N passed, M
 * failed".
 */
#include "compat.h"

#include <sys/socket.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "hostlimit.h"

enum op { ADD, DEL, END };

struct step {
	enum op		 op;
	const char	*addr;
	int		 ret;	/* ADD: the verdict, or -errno */
	uint32_t	 count;	/* afterwards, for addr */
	uint32_t	 nhosts;
};

struct hl_case {
	const char	*name;
	uint32_t	 max;	/* -m */
	uint32_t	 cap;	/* -M, 0: none */
	struct step	 steps[12];
};

static const struct hl_case cases[] = {
	{ "IPv4 -M 2", 100, 2, {
	    { ADD, "192.0.2.10", 0, 1, 1 },
	    { ADD, "192.0.2.10", 0, 2, 1 },
	    { ADD, "192.0.2.10", HL_CAP, 2, 1 },
	    { ADD, "192.0.2.11", 0, 1, 2 },
	    { DEL, "192.0.2.10", 0, 1, 2 },
	    { ADD, "192.0.2.10", 0, 2, 2 },
	    { DEL, "192.0.2.11", 0, 0, 1 },
	    { DEL, "192.0.2.11", 0, 0, 1 },
	    { DEL, "192.0.2.10", 0, 1, 1 },
	    { DEL, "192.0.2.10", 0, 0, 0 },
	    { END, NULL, 0, 0, 0 } } },
	{ "IPv6 counted per /64, -M 2", 100, 2, {
	    { ADD, "2001:db8:1::10", 0, 1, 1 },
	    { ADD, "2001:db8:1::ffff:1", 0, 2, 1 },
	    { ADD, "2001:db8:1:0:1:2:3:4", HL_CAP, 2, 1 },
	    { ADD, "2001:db8:1:1::10", 0, 1, 2 },
	    { DEL, "2001:db8:1::abcd", 0, 1, 2 },
	    { ADD, "2001:db8:1::10", 0, 2, 2 },
	    { END, NULL, 0, 0, 0 } } },
	{ "-M 1; families apart", 100, 1, {
	    { ADD, "192.0.2.1", 0, 1, 1 },
	    { ADD, "192.0.2.1", HL_CAP, 1, 1 },
	    { ADD, "::ffff:192.0.2.1", 0, 1, 2 },
	    { ADD, "c000:201::", 0, 1, 3 },
	    { DEL, "192.0.2.1", 0, 0, 2 },
	    { ADD, "192.0.2.1", 0, 1, 3 },
	    { END, NULL, 0, 0, 0 } } },
	{ "-m 0 means 1", 0, 0, {
	    { ADD, "198.51.100.7", 0, 1, 1 },
	    { ADD, "198.51.100.7", HL_SHARE, 1, 1 },
	    { ADD, "198.51.100.8", 0, 1, 2 },	/* (-m's own is not ours) */
	    { END, NULL, 0, 0, 0 } } },
	/* -m 8: the reserve starts at 6; alone, a host's share is 4. */
	{ "-m 8, one host: 6 of 8, the rest for others", 8, 0, {
	    { ADD, "192.0.2.10", 0, 1, 1 },
	    { ADD, "192.0.2.10", 0, 2, 1 },
	    { ADD, "192.0.2.10", 0, 3, 1 },
	    { ADD, "192.0.2.10", 0, 4, 1 },
	    { ADD, "192.0.2.10", 0, 5, 1 },
	    { ADD, "192.0.2.10", 0, 6, 1 },
	    { ADD, "192.0.2.10", HL_SHARE, 6, 1 },
	    { ADD, "192.0.2.11", 0, 1, 2 },	/* share 8 / 3 = 2 */
	    { ADD, "192.0.2.11", 0, 2, 2 },
	    { DEL, "192.0.2.10", 0, 5, 2 },	/* 7 in use */
	    { ADD, "192.0.2.10", HL_SHARE, 5, 2 },
	    { END, NULL, 0, 0, 0 } } },
	{ "-m 8: below the reserve nobody is refused", 8, 0, {
	    { ADD, "2001:db8:1::1", 0, 1, 1 },
	    { ADD, "2001:db8:1::2", 0, 2, 1 },
	    { ADD, "2001:db8:1::3", 0, 3, 1 },
	    { ADD, "2001:db8:1::4", 0, 4, 1 },
	    { ADD, "2001:db8:2::1", 0, 1, 2 },
	    { ADD, "2001:db8:1::5", 0, 5, 2 },	/* 6 in use */
	    { ADD, "2001:db8:1::6", HL_SHARE, 5, 2 },
	    { ADD, "2001:db8:2::1", 0, 2, 2 },	/* 1 < share 2 */
	    { ADD, "2001:db8:2::1", HL_SHARE, 2, 2 },
	    { DEL, "2001:db8:1::7", 0, 4, 2 },
	    { ADD, "2001:db8:2::1", HL_SHARE, 2, 2 },	/* 6: still */
	    { END, NULL, 0, 0, 0 } } },
};

/* The policy alone. */
static const struct {
	uint32_t	 max, cap, used, held, nhosts;
	enum hl_verdict	 want;
	const char	*why;
} verdicts[] = {
	{ 100, 0, 0, 0, 0, HL_OK, "idle" },
	{ 100, 0, 29, 29, 1, HL_OK, "30th from one NAT address, idle" },
	{ 100, 0, 74, 74, 1, HL_OK, "75th from one host" },
	{ 100, 0, 75, 75, 1, HL_SHARE, "76th from one host" },
	{ 100, 0, 75, 0, 1, HL_OK, "a second host beside 75" },
	{ 100, 0, 99, 24, 2, HL_OK, "the 100th, share 33" },
	{ 100, 0, 80, 33, 2, HL_SHARE, "34th, share 33" },
	{ 100, 0, 90, 0, 12, HL_OK, "a 13th host, share 7" },
	{ 100, 0, 96, 6, 13, HL_OK, "its 7th, share 7" },
	{ 100, 0, 97, 7, 13, HL_SHARE, "its 8th, share 7" },
	{ 100, 0, 97, 3, 13, HL_OK, "another host's 4th" },
	{ 100, 0, 99, 30, 13, HL_SHARE, "a NAT address's 31st" },
	{ 100, 0, 99, 0, 200, HL_OK, "200 hosts: share 1" },
	{ 100, 0, 99, 1, 200, HL_SHARE, "200 hosts: a second" },
	{ 100, 12, 11, 11, 1, HL_OK, "-M 12: the 12th" },
	{ 100, 12, 12, 12, 1, HL_CAP, "-M 12: the 13th, idle" },
	{ 100, 50, 90, 30, 3, HL_OK, "-M: no share on top" },
	{ 1, 0, 0, 0, 0, HL_OK, "-m 1" },
	{ 2, 0, 1, 1, 1, HL_SHARE, "-m 2: the second stays for another" },
	{ 4, 0, 3, 3, 1, HL_SHARE, "-m 4: the last one stays free" },
};

static void
verdict_table(void)
{
	size_t	i;

	for (i = 0; i < nitems(verdicts); i++)
		checkf(hl_verdict(verdicts[i].max, verdicts[i].cap,
		    verdicts[i].used, verdicts[i].held, verdicts[i].nhosts) ==
		    verdicts[i].want, "verdict: %s", verdicts[i].why);
	checkf(hl_reserve_from(100) == 75 && hl_reserve_from(8) == 6 &&
	    hl_reserve_from(1) == 0, "the reserve is the last quarter");
	checkf(hl_share(100, 0) == 100 && hl_share(100, 1) == 50 &&
	    hl_share(3, 5) == 1, "share: -m over the hosts and one more");
}

static void
check_step(int ok, const char *name, size_t i, const char *what)
{
	checkf(ok, "%s, step %zu: %s", name, i, what);
}

static void
mkaddr(struct pfh_addr *a, const char *s)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, a->addr) == 1)
		a->af = AF_INET;
	else if (inet_pton(AF_INET6, s, a->addr) == 1)
		a->af = AF_INET6;
}

static void
run(const struct hl_case *c)
{
	struct hl_table		 t;
	const struct step	*st;
	struct pfh_addr		 a;
	size_t			 i;
	int			 r;

	hl_init(&t, c->max, c->cap);
	for (i = 0; c->steps[i].op != END; i++) {
		st = &c->steps[i];
		mkaddr(&a, st->addr);
		if (st->op == ADD) {
			r = hl_add(&t, &a);
			check_step(r == st->ret, c->name, i, "add result");
		} else
			hl_del(&t, &a);
		check_step(hl_count(&t, &a) == st->count, c->name, i, "count");
		check_step(t.nhosts == st->nhosts, c->name, i, "hosts");
	}
	hl_clear(&t);
	check_step(t.nhosts == 0 && t.used == 0 && RB_EMPTY(&t.hosts),
	    c->name, i, "clear");
}

int
main(void)
{
	struct hl_table	 t;
	struct pfh_addr	 a;
	size_t		 i;
	int		 ok;

	verdict_table();
	for (i = 0; i < nitems(cases); i++)
		run(&cases[i]);
	/* A bad family is refused and counts nothing. */
	hl_init(&t, 100000, 5);
	memset(&a, 0, sizeof(a));
	a.af = AF_UNIX;
	errno = 0;
	ok = hl_add(&t, &a) == -1 && errno == EAFNOSUPPORT &&
	    t.nhosts == 0 && hl_count(&t, &a) == 0;
	hl_del(&t, &a);
	check_step(ok, "AF_UNIX", 0, "accepted");
	/* Many hosts, then all gone again. */
	for (i = 0, ok = 1; i < 5000; i++) {
		mkaddr(&a, "10.0.0.0");
		a.addr[2] = (uint8_t)(i >> 8);
		a.addr[3] = (uint8_t)i;
		ok = ok && hl_add(&t, &a) == 0;
	}
	check_step(ok && t.nhosts == 5000, "5000 hosts", 0, "added");
	for (i = 0; i < 5000; i++) {
		mkaddr(&a, "10.0.0.0");
		a.addr[2] = (uint8_t)(i >> 8);
		a.addr[3] = (uint8_t)i;
		hl_del(&t, &a);
	}
	check_step(t.nhosts == 0 && t.used == 0 && RB_EMPTY(&t.hosts),
	    "5000 hosts", 1, "removed");
	return (check_summary());
}
