/* SPDX-License-Identifier: ISC */
/*
 * localaddr_test.c: the /proc/net parsers of pfhelper/localaddr.c on
 * captured texts.  The last line is "N passed, M failed".
 */
#include "compat.h"

#include <sys/socket.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "check.h"
#include "localaddr.h"


static const char fib[] =
"Main:\n"
"  +-- 0.0.0.0/0 3 0 5\n"
"     |-- 0.0.0.0\n"
"        /0 universe UNICAST\n"
"     +-- 127.0.0.0/8 2 0 2\n"
"        +-- 127.0.0.0/31 1 0 0\n"
"           |-- 127.0.0.0\n"
"              /8 host LOCAL\n"
"           |-- 127.0.0.1\n"
"              /32 host LOCAL\n"
"        |-- 127.255.255.255\n"
"           /32 link BROADCAST\n"
"     +-- 192.0.2.0/24 2 0 2\n"
"        |-- 192.0.2.0\n"
"           /24 link UNICAST\n"
"        |-- 192.0.2.1\n"
"           /32 host LOCAL\n"
"        |-- 192.0.2.99\n"
"           /32 link UNICAST\n"
"Local:\n"
"  +-- 0.0.0.0/0 3 0 5\n"
"           |-- 127.0.0.1\n"
"              /32 host LOCAL\n"
"     |-- 198.51.100.1\n"
"        /32 host LOCAL\n"
"     |-- 999.1.1.1\n"
"        /32 host LOCAL\n"
"     |-- 203.0.113.9";	/* cut short: no LOCAL line */

static const char inet6[] =
"00000000000000000000000000000001 01 80 10 80       lo\n"
"20010db8000100000000000000000001 04 40 00 82   inside\n"
"fe8000000000000000fc00fffe000001 04 40 20 80   inside\n"
"20010db800010000000000000000zz01 04 40 00 82   broken\n"
"20010db8000200000000000000000001 05 40 00 82  outside";

static int
has(const struct pfh_addr *out, size_t n, const char *s)
{
	struct pfh_addr	a;
	size_t		i;

	memset(&a, 0, sizeof(a));
	if (inet_pton(AF_INET, s, a.addr) == 1)
		a.af = AF_INET;
	else if (inet_pton(AF_INET6, s, a.addr) == 1)
		a.af = AF_INET6;
	for (i = 0; i < n; i++)
		if (addr_eq(&out[i], &a))
			return (1);
	return (0);
}

int
main(void)
{
	struct pfh_addr	out[8];
	size_t		n = 0, added;

	added = localaddr_parse_fib(fib, sizeof(fib) - 1, out, &n, 8);
	check(added == 3 && n == 3, "fib: three addresses (127.0.0.1 once)");
	check(has(out, n, "127.0.0.1"), "fib: 127.0.0.1");
	check(has(out, n, "192.0.2.1"), "fib: 192.0.2.1");
	check(has(out, n, "198.51.100.1"), "fib: 198.51.100.1");
	check(!has(out, n, "127.0.0.0"), "fib: /8 route taken");
	check(!has(out, n, "192.0.2.99"), "fib: unicast route taken");
	check(!has(out, n, "127.255.255.255"), "fib: broadcast taken");
	check(!has(out, n, "203.0.113.9"), "fib: unterminated leaf taken");
	added = localaddr_parse_inet6(inet6, sizeof(inet6) - 1, out, &n, 8);
	check(added == 4 && n == 7, "inet6: four addresses");
	check(has(out, n, "::1") && has(out, n, "2001:db8:1::1") &&
	    has(out, n, "fe80::fc:ff:fe00:1") && has(out, n, "2001:db8:2::1"),
	    "inet6: the addresses");
	added = localaddr_parse_inet6(inet6, sizeof(inet6) - 1, out, &n, 8);
	check(added == 0 && n == 7, "inet6: no duplicates");
	n = 0;
	added = localaddr_parse_fib(fib, sizeof(fib) - 1, out, &n, 2);
	check(added == 2 && n == 2, "fib: bounded by max");
	n = 0;
	check(localaddr_parse_fib("", 0, out, &n, 8) == 0 && n == 0,
	    "fib: empty");
	check(localaddr_is_local(&out[0]) == -1, "not initialised: -1");
	return (check_summary());
}
