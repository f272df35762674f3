/* SPDX-License-Identifier: ISC */
/*
 * backend_test.c: ftp-proxy/backend.c, table-driven: per case a list
 * of servers and a sequence of steps (pick, release, failed, answered,
 * due), each with the result expected.  The last line is "N passed,
 * M failed".
 */
#include "compat.h"

#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "backend.h"

enum op { PICK4, PICK6, RELEASE, FAILED, ANSWERED, DUE, NDOWN, END };

struct step {
	enum op		 op;
	int		 arg;	/* RELEASE, FAILED, ANSWERED: the backend */
	uint32_t	 tried;	/* PICK: backends already tried */
	double		 now;	/* FAILED, DUE */
	int		 want;	/* PICK, DUE: index or -1; others: 0/1 */
};

struct be_case {
	const char	*name;
	const char	*addrs[6];
	struct step	 steps[20];
};

static int	npass, nfail;

#define P4(w)		{ PICK4, 0, 0, 0, (w) }
#define P4T(t, w)	{ PICK4, 0, (t), 0, (w) }
#define P6(w)		{ PICK6, 0, 0, 0, (w) }
#define REL(i)		{ RELEASE, (i), 0, 0, 0 }
#define FAIL(i, t, w)	{ FAILED, (i), 0, (t), (w) }
#define ANS(i, w)	{ ANSWERED, (i), 0, 0, (w) }
#define DUE_(t, w)	{ DUE, 0, 0, (t), (w) }
#define NDOWN_(w)	{ NDOWN, 0, 0, 0, (w) }
#define END_		{ END, 0, 0, 0, 0 }

static const struct be_case cases[] = {
	{ "no servers", { NULL }, {
	    P4(-1), P6(-1), END_ } },
	{ "one server takes every session", { "192.0.2.10", NULL }, {
	    P4(0), P4(0), P4(0), P6(-1), END_ } },
	{ "equal load: round robin", { "192.0.2.10", "192.0.2.11",
	    "192.0.2.12", NULL }, {
	    P4(0), REL(0), P4(1), REL(1), P4(2), REL(2), P4(0), REL(0),
	    P4(1), END_ } },
	{ "least active first", { "192.0.2.10", "192.0.2.11",
	    "192.0.2.12", NULL }, {
	    P4(0), P4(1), P4(2),		/* 1 1 1 */
	    REL(1),				/* 1 0 1 */
	    P4(1),				/* 1 1 1 */
	    REL(2), REL(0),			/* 0 1 0 */
	    P4(2), P4(0),			/* 1 1 1: next after 2 is 0 */
	    P4(1), P4(2), P4(0),		/* 2 2 2, in turn */
	    END_ } },
	{ "concurrent sessions stay within one", { "192.0.2.10",
	    "192.0.2.11", "192.0.2.12", NULL }, {
	    P4(0), P4(1), P4(2), P4(0), P4(1), P4(2), P4(0),
	    REL(0), REL(0), REL(0),		/* 0 2 2 */
	    P4(0), P4(0), P4(1),		/* 2 3 2 */
	    END_ } },
	{ "address family: only its own", { "192.0.2.10",
	    "2001:db8:1::10", "192.0.2.11", "2001:db8:1::11", NULL }, {
	    P6(1), P6(3), P6(1),
	    P4(2), P4(0), P4(2),		/* the turn is shared */
	    END_ } },
	{ "a down server is left aside", { "192.0.2.10", "192.0.2.11",
	    "192.0.2.12", NULL }, {
	    FAIL(1, 100, 1), NDOWN_(1), FAIL(1, 101, 0),
	    P4(0), REL(0), P4(2), REL(2), P4(0), REL(0), P4(2), REL(2),
	    ANS(1, 1), ANS(1, 0), NDOWN_(0),
	    P4(0), REL(0), P4(1), END_ } },
	{ "a session tries the next one", { "192.0.2.10", "192.0.2.11",
	    "192.0.2.12", NULL }, {
	    P4(0), FAIL(0, 10, 1), REL(0),
	    P4T(1, 1), FAIL(1, 10, 1), REL(1),
	    P4T(3, 2), REL(2),
	    P4T(7, -1),				/* all tried: none */
	    END_ } },
	{ "all down: still tried, none refused", { "192.0.2.10",
	    "192.0.2.11", NULL }, {
	    FAIL(0, 1, 1), FAIL(1, 1, 1), NDOWN_(2),
	    P4(0), P4T(1, 1), REL(0), REL(1), END_ } },
	{ "up ones before down ones, even busier", { "192.0.2.10",
	    "192.0.2.11", NULL }, {
	    P4(0), P4(1), P4(0), P4(1), FAIL(0, 1, 1), REL(0), REL(0),
	    P4(1), P4(1), END_ } },
	{ "background tries, one each interval", { "192.0.2.10",
	    "192.0.2.11", NULL }, {
	    DUE_(0, -1),
	    FAIL(0, 100, 1), FAIL(1, 101, 1),
	    DUE_(100 + BACKEND_DOWN_SECS - 0.5, -1),
	    DUE_(100 + BACKEND_DOWN_SECS, 0),
	    DUE_(100 + BACKEND_DOWN_SECS, -1),
	    DUE_(101 + BACKEND_DOWN_SECS, 1),
	    DUE_(100 + 2 * BACKEND_DOWN_SECS, 0),
	    ANS(0, 1),
	    DUE_(200, 1), DUE_(200, -1), ANS(1, 1), DUE_(1000, -1),
	    END_ } },
	{ "release never goes below zero, bad index ignored",
	    { "192.0.2.10", "192.0.2.11", NULL }, {
	    REL(0), REL(7), REL(-1), FAIL(9, 1, 0), ANS(-1, 0),
	    P4(0), P4(1), END_ } },
};

static int
step_run(struct backend_set *set, const struct step *st)
{
	switch (st->op) {
	case PICK4:
		return (backend_pick(set, AF_INET, st->tried));
	case PICK6:
		return (backend_pick(set, AF_INET6, st->tried));
	case RELEASE:
		backend_release(set, st->arg);
		return (0);
	case FAILED:
		return (backend_failed(set, st->arg, st->now));
	case ANSWERED:
		return (backend_answered(set, st->arg));
	case DUE:
		return (backend_due(set, st->now));
	case NDOWN:
		return ((int)backend_ndown(set));
	default:
		return (-2);
	}
}

static void
run_case(const struct be_case *c)
{
	struct backend_set	set;
	struct pfh_addr		a;
	int			i, got, ok = 1;

	memset(&set, 0, sizeof(set));
	for (i = 0; c->addrs[i] != NULL; i++)
		if (addr_parse(c->addrs[i], &a) == -1 ||
		    backend_add(&set, &a, 21) != 0) {
			printf("FAIL %s: cannot add %s\n", c->name,
			    c->addrs[i]);
			nfail++;
			return;
		}
	for (i = 0; c->steps[i].op != END; i++) {
		got = step_run(&set, &c->steps[i]);
		if (got != c->steps[i].want) {
			printf("FAIL %s: step %d: got %d, want %d\n",
			    c->name, i + 1, got, c->steps[i].want);
			ok = 0;
			break;
		}
	}
	if (ok) {
		printf("ok %s\n", c->name);
		npass++;
	} else
		nfail++;
}

/* Duplicates are one backend; the table holds BACKEND_MAX. */
static void
add_limits(void)
{
	struct backend_set	set;
	struct pfh_addr		a;
	char			buf[32];
	int			i, rc = 0;

	memset(&set, 0, sizeof(set));
	addr_parse("192.0.2.10", &a);
	if (backend_add(&set, &a, 21) != 0 || backend_add(&set, &a, 21) != 1 ||
	    backend_add(&set, &a, 2121) != 0 || set.n != 2)
		rc = -1;
	for (i = 0; rc == 0 && set.n < BACKEND_MAX; i++) {
		snprintf(buf, sizeof(buf), "192.0.2.%d", 100 + i);
		addr_parse(buf, &a);
		rc = backend_add(&set, &a, 21);
	}
	addr_parse("192.0.2.99", &a);
	if (rc == 0 && (backend_add(&set, &a, 21) != -1 || errno != ENOSPC))
		rc = -1;
	if (rc == 0) {
		printf("ok add: duplicates once, at most %d\n", BACKEND_MAX);
		npass++;
	} else {
		printf("FAIL add: duplicates once, at most %d\n", BACKEND_MAX);
		nfail++;
	}
}

/* 30 sessions on 3 servers, one after the other or all at once. */
static void
spread(int at_once)
{
	struct backend_set	set;
	struct pfh_addr		a;
	unsigned int		count[3] = { 0, 0, 0 };
	int			i, k;

	memset(&set, 0, sizeof(set));
	addr_parse("192.0.2.10", &a);
	backend_add(&set, &a, 21);
	addr_parse("192.0.2.11", &a);
	backend_add(&set, &a, 21);
	addr_parse("192.0.2.12", &a);
	backend_add(&set, &a, 21);
	for (i = 0; i < 30; i++) {
		k = backend_pick(&set, AF_INET, 0);
		if (k >= 0 && k < 3)
			count[k]++;
		if (!at_once)
			backend_release(&set, k);
	}
	if (count[0] == 10 && count[1] == 10 && count[2] == 10) {
		printf("ok 30 sessions %s: 10 10 10\n", at_once ?
		    "at once" : "in turn");
		npass++;
	} else {
		printf("FAIL 30 sessions %s: %u %u %u\n", at_once ?
		    "at once" : "in turn", count[0], count[1], count[2]);
		nfail++;
	}
}

int
main(void)
{
	size_t	i;

	for (i = 0; i < nitems(cases); i++)
		run_case(&cases[i]);
	add_limits();
	spread(0);
	spread(1);
	printf("%d passed, %d failed\n", npass, nfail);
	return (nfail != 0);
}
