/* SPDX-License-Identifier: ISC */
/*
 * cttool: drive pfhelper's conntrack lookups (ct_netlink.c) against the
 * real kernel, for regress/integration/ct_netlink.sh.  Needs
 * CAP_NET_ADMIN in the network namespace it runs in.
 *
 *	cttool [-v] [-n count] reply <4|6> <udp|tcp> rsrc rsport rdst rdport
 *		prints "odst odport", or "ENOENT"
 *	cttool [-v] [-n count] check <4|6> <udp|tcp> src sport dst dport
 *	    local lport
 *		pfhelper's session check (ct_check_reply(): the entry
 *		whose reply tuple is local:lport -> src:sport, started by
 *		src toward dst:dport); prints "yes <original source
 *		port>" or "no"
 *
 * -n repeats the lookup count times in this process (one netlink socket,
 * reused) and fails unless every answer is the same.
 *
 * Exit status: 0 found, 1 not found, 2 error (printed as "error: ...").
 *
 * Built by the Makefile as obj/regress/tools/cttool (with obj/libpfhnft.a
 * and obj/libcommon.a).  Without the rest of the tree:
 *	cc -Icommon -Ipfhelper $(pkg-config --cflags libbsd-overlay libmnl) \
 *	    pfhelper/ct_netlink.c common/log.c regress/tools/cttool.c \
 *	    $(pkg-config --libs libbsd-overlay libmnl) \
 *	    -o obj/regress/tools/cttool
 */
#include "compat.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "ct.h"

struct ct_args {
	uint8_t		af;
	uint8_t		proto;
	uint16_t	sport;
	uint16_t	dport;
	uint16_t	lport;
	uint8_t		src[16];
	uint8_t		dst[16];
	uint8_t		local[16];
};

static __dead void	usage(void);
static __dead void	fail(const char *);
static uint16_t		parse_port(const char *);
static void		parse_args(char **, int, struct ct_args *);
static int		do_reply(const struct ct_args *, char *, size_t);
static int		do_check(const struct ct_args *, char *, size_t);

static struct ct	*ct;

static __dead void
usage(void)
{
	extern char	*__progname;

	fprintf(stderr, "usage: %s [-v] [-n count] reply|check 4|6 udp|tcp "
	    "src sport dst dport [local lport]\n", __progname);
	exit(2);
}

static __dead void
fail(const char *what)
{
	printf("error: %s: %s\n", what, strerror(errno));
	exit(2);
}

static uint16_t
parse_port(const char *s)
{
	const char	*errstr;
	long long	 n;

	n = strtonum(s, 0, 65535, &errstr);
	if (errstr != NULL) {
		printf("error: port %s is %s\n", s, errstr);
		exit(2);
	}
	return ((uint16_t)n);
}

/* argv: af proto src sport dst dport, and local lport if check */
static void
parse_args(char **argv, int check, struct ct_args *a)
{
	int	 family;

	memset(a, 0, sizeof(*a));
	if (strcmp(argv[0], "4") == 0)
		family = AF_INET;
	else if (strcmp(argv[0], "6") == 0)
		family = AF_INET6;
	else
		family = atoi(argv[0]);	/* to test EAFNOSUPPORT */
	a->af = (uint8_t)family;
	if (strcmp(argv[1], "udp") == 0)
		a->proto = IPPROTO_UDP;
	else if (strcmp(argv[1], "tcp") == 0)
		a->proto = IPPROTO_TCP;
	else
		usage();
	if (family == AF_INET || family == AF_INET6) {
		if (inet_pton(family, argv[2], a->src) != 1 ||
		    inet_pton(family, argv[4], a->dst) != 1 || (check &&
		    inet_pton(family, argv[6], a->local) != 1)) {
			printf("error: bad address\n");
			exit(2);
		}
	}
	a->sport = parse_port(argv[3]);
	a->dport = parse_port(argv[5]);
	if (check)
		a->lport = parse_port(argv[7]);
}

static int
do_reply(const struct ct_args *a, char *out, size_t outlen)
{
	char		 buf[INET6_ADDRSTRLEN];
	uint8_t		 odst[16];
	uint16_t	 odport;

	if (ct_lookup_reply(ct, a->af, a->proto, a->src, a->sport, a->dst,
	    a->dport, odst, &odport) == -1) {
		if (errno == ENOENT) {
			strlcpy(out, "ENOENT", outlen);
			return (1);
		}
		fail("ct_lookup_reply");
	}
	if (inet_ntop(a->af, odst, buf, sizeof(buf)) == NULL)
		fail("inet_ntop");
	snprintf(out, outlen, "%s %u", buf, odport);
	return (0);
}

static int
do_check(const struct ct_args *a, char *out, size_t outlen)
{
	uint16_t	osport;

	if (ct_check_reply(ct, a->af, a->proto, a->src, a->sport, a->dst,
	    a->dport, a->local, a->lport, &osport) == -1) {
		if (errno == ENOENT) {
			strlcpy(out, "no", outlen);
			return (1);
		}
		fail("ct_check_reply");
	}
	snprintf(out, outlen, "yes %u", osport);
	return (0);
}

int
main(int argc, char *argv[])
{
	struct ct_args	 a;
	char		 out[128], first[128];
	const char	*errstr;
	long long	 i, count = 1;
	int		 ch, check, r = 0;

	log_init(1, LOG_DAEMON);
	while ((ch = getopt(argc, argv, "n:v")) != -1) {
		switch (ch) {
		case 'n':
			count = strtonum(optarg, 1, 100000, &errstr);
			if (errstr != NULL)
				usage();
			break;
		case 'v':
			log_setverbose(LOG_DEBUG);
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 9 && strcmp(argv[0], "check") == 0)
		check = 1;
	else if (argc == 7 && strcmp(argv[0], "reply") == 0)
		check = 0;
	else
		usage();
	parse_args(argv + 1, check, &a);
	if ((ct = ct_open()) == NULL)
		fail("conntrack socket");
	for (i = 0; i < count; i++) {
		r = check ? do_check(&a, out, sizeof(out)) :
		    do_reply(&a, out, sizeof(out));
		if (i == 0)
			strlcpy(first, out, sizeof(first));
		else if (strcmp(first, out) != 0) {
			printf("error: lookup %lld: '%s', first '%s'\n",
			    i, out, first);
			return (2);
		}
	}
	printf("%s\n", out);
	return (r);
}
