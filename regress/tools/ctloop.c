/* SPDX-License-Identifier: ISC */
/*
 * ctloop: pfhelper's conntrack check, the way h_session_start() makes
 * it, against connections accepted as fast as they come, for
 * regress/integration/ct_race.sh and scripts/bench-ct.sh.
 *
 *	ctloop [-v] [-t secs] [-n count] port
 *
 * Listens on port (IPv4, any address), the target of the firewall's
 * redirect; for each connection: its original destination
 * (SO_ORIGINAL_DST), then ct_check_reply() with the client's address
 * and port, that destination and the socket's local end, at once; then it closes, first, as
 * ftp-proxy does after a 221.  A miss is printed as it happens:
 *	miss <client>:<port> -> <dst>:<port> <errno text>
 * At the end (count connections, or secs seconds):
 *	ctloop accepted=N missed=M check_us_mean=U check_us_max=V
 * Exit status: 0 if nothing was missed, 1 if something was, 2 error.
 */
#include "compat.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <linux/netfilter_ipv4.h>

#include <err.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ct.h"
#include "log.h"

static __dead void	usage(void);
static int		listen_on(uint16_t);
static int		check_one(int);
static double		now_us(void);

static struct ct	*ct;

static __dead void
usage(void)
{
	fprintf(stderr, "usage: ctloop [-v] [-t secs] [-n count] port\n");
	exit(2);
}

static int
listen_on(uint16_t port)
{
	struct sockaddr_in	sin;
	int			fd, on = 1;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		err(2, "socket");
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(fd, 1024) == -1)
		err(2, "port %u", port);
	return (fd);
}

static double
now_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec * 1e6 + ts.tv_nsec / 1e3);
}

/* The check for connection fd: 0 found, 1 missed. */
static int
check_one(int fd)
{
	struct sockaddr_in	peer, orig, local;
	socklen_t		len;
	char			a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];

	len = sizeof(peer);
	if (getpeername(fd, (struct sockaddr *)&peer, &len) == -1)
		err(2, "getpeername");
	len = sizeof(local);
	if (getsockname(fd, (struct sockaddr *)&local, &len) == -1)
		err(2, "getsockname");
	len = sizeof(orig);
	if (getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, &orig, &len) == -1)
		err(2, "SO_ORIGINAL_DST");
	if (ct_check_reply(ct, AF_INET, IPPROTO_TCP,
	    (uint8_t *)&peer.sin_addr, ntohs(peer.sin_port),
	    (uint8_t *)&orig.sin_addr, ntohs(orig.sin_port),
	    (uint8_t *)&local.sin_addr, ntohs(local.sin_port), NULL) == 0)
		return (0);
	inet_ntop(AF_INET, &peer.sin_addr, a, sizeof(a));
	inet_ntop(AF_INET, &orig.sin_addr, b, sizeof(b));
	printf("miss %s:%u -> %s:%u %s\n", a, ntohs(peer.sin_port), b,
	    ntohs(orig.sin_port), strerror(errno));
	fflush(stdout);
	return (1);
}

int
main(int argc, char *argv[])
{
	const char	*errstr;
	struct pollfd	 pfd;
	time_t		 end;
	double		 t, sum = 0, max_us = 0;
	long		 n = 0, missed = 0, max = -1, secs = 10;
	int		 ch, lfd, fd, verbose = 0;

	while ((ch = getopt(argc, argv, "n:t:v")) != -1) {
		switch (ch) {
		case 'n':
			max = strtonum(optarg, 1, 100000000, &errstr);
			if (errstr != NULL)
				errx(2, "count is %s", errstr);
			break;
		case 't':
			secs = strtonum(optarg, 1, 3600, &errstr);
			if (errstr != NULL)
				errx(2, "secs is %s", errstr);
			break;
		case 'v':
			verbose = 1;
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 1)
		usage();
	log_init(1, 0);
	if (verbose)
		log_setverbose(LOG_DEBUG);
	if ((ct = ct_open()) == NULL)
		err(2, "conntrack socket");
	lfd = listen_on(strtonum(argv[optind], 1, 65535, &errstr));
	if (errstr != NULL)
		errx(2, "port is %s", errstr);
	end = time(NULL) + secs;
	pfd.fd = lfd;
	pfd.events = POLLIN;
	while ((max == -1 || n < max) && time(NULL) < end) {
		if (poll(&pfd, 1, 200) <= 0)
			continue;
		if ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) == -1)
			continue;
		n++;
		t = now_us();
		missed += check_one(fd);
		t = now_us() - t;
		sum += t;
		if (t > max_us)
			max_us = t;
		close(fd);
	}
	printf("ctloop accepted=%ld missed=%ld check_us_mean=%.0f "
	    "check_us_max=%.0f\n", n, missed, n > 0 ? sum / n : 0, max_us);
	return (missed > 0);
}
