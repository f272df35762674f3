/* SPDX-License-Identifier: ISC */
/*
 * hostlimit_test.c: ftp-proxy/hostlimit.c, table-driven: a sequence of
 * add/del steps per case, each with the expected result and count.
 * The last line is "N passed, M failed".
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
	int		 ret;	/* ADD: 0 or the errno */
	uint32_t	 count;	/* afterwards, for addr */
	uint32_t	 nhosts;
};

struct hl_case {
	const char	*name;
	uint32_t	 limit;
	struct step	 steps[12];
};

static const struct hl_case cases[] = {
	{ "IPv4 limit 2", 2, {
	    { ADD, "192.0.2.10", 0, 1, 1 },
	    { ADD, "192.0.2.10", 0, 2, 1 },
	    { ADD, "192.0.2.10", EUSERS, 2, 1 },
	    { ADD, "192.0.2.11", 0, 1, 2 },
	    { DEL, "192.0.2.10", 0, 1, 2 },
	    { ADD, "192.0.2.10", 0, 2, 2 },
	    { DEL, "192.0.2.11", 0, 0, 1 },
	    { DEL, "192.0.2.11", 0, 0, 1 },
	    { DEL, "192.0.2.10", 0, 1, 1 },
	    { DEL, "192.0.2.10", 0, 0, 0 },
	    { END, NULL, 0, 0, 0 } } },
	{ "IPv6 counted per /64", 2, {
	    { ADD, "2001:db8:1::10", 0, 1, 1 },
	    { ADD, "2001:db8:1::ffff:1", 0, 2, 1 },
	    { ADD, "2001:db8:1:0:1:2:3:4", EUSERS, 2, 1 },
	    { ADD, "2001:db8:1:1::10", 0, 1, 2 },
	    { DEL, "2001:db8:1::abcd", 0, 1, 2 },
	    { ADD, "2001:db8:1::10", 0, 2, 2 },
	    { END, NULL, 0, 0, 0 } } },
	{ "limit 1; families apart", 1, {
	    { ADD, "192.0.2.1", 0, 1, 1 },
	    { ADD, "192.0.2.1", EUSERS, 1, 1 },
	    { ADD, "::ffff:192.0.2.1", 0, 1, 2 },
	    { ADD, "c000:201::", 0, 1, 3 },
	    { DEL, "192.0.2.1", 0, 0, 2 },
	    { ADD, "192.0.2.1", 0, 1, 3 },
	    { END, NULL, 0, 0, 0 } } },
	{ "limit 0 means 1", 0, {
	    { ADD, "198.51.100.7", 0, 1, 1 },
	    { ADD, "198.51.100.7", EUSERS, 1, 1 },
	    { END, NULL, 0, 0, 0 } } },
};

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

	hl_init(&t, c->limit);
	for (i = 0; c->steps[i].op != END; i++) {
		st = &c->steps[i];
		mkaddr(&a, st->addr);
		if (st->op == ADD) {
			errno = 0;
			r = hl_add(&t, &a);
			check_step(st->ret == 0 ? r == 0 : r == -1 &&
			    errno == st->ret, c->name, i, "add result");
		} else
			hl_del(&t, &a);
		check_step(hl_count(&t, &a) == st->count, c->name, i, "count");
		check_step(t.nhosts == st->nhosts, c->name, i, "hosts");
	}
	hl_clear(&t);
	check_step(t.nhosts == 0 && RB_EMPTY(&t.hosts), c->name, i, "clear");
}

int
main(void)
{
	struct hl_table	 t;
	struct pfh_addr	 a;
	size_t		 i;
	int		 ok;

	for (i = 0; i < nitems(cases); i++)
		run(&cases[i]);
	/* A bad family is refused and counts nothing. */
	hl_init(&t, 5);
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
	check_step(t.nhosts == 0 && RB_EMPTY(&t.hosts), "5000 hosts", 1,
	    "removed");
	return (check_summary());
}
