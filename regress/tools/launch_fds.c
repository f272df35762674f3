/* SPDX-License-Identifier: ISC */
/*
 * launch_fds: a minimal socket activator for the tests, in the manner
 * of systemd's .socket units with Accept=no.  Binds one UDP socket on
 * port (IPv6 dual-stack by default, as ListenDatagram=port does; -4:
 * IPv4 only; -f addr: that IPv4 address with IP_FREEBIND, as
 * ListenDatagram=addr:port with FreeBind=yes does), puts it on fd 3,
 * sets LISTEN_FDS=1 and LISTEN_PID to its own pid, and executes the
 * program in its place.
 *
 *	launch_fds [-4] [-f addr] -p port program [argument ...]
 */
#include "compat.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LISTEN_FD	3

static __dead void
usage(void)
{
	fprintf(stderr, "usage: launch_fds [-4] [-f addr] -p port program "
	    "[argument ...]\n");
	exit(1);
}

static int
bind_udp(int v4only, const char *freebind, uint16_t port)
{
	struct sockaddr_in	sin;
	struct sockaddr_in6	sin6;
	int			fd, off = 0, on = 1;

	if (v4only || freebind != NULL) {
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_port = htons(port);
		if ((fd = socket(AF_INET, SOCK_DGRAM, 0)) == -1)
			err(1, "socket");
		if (freebind != NULL && (inet_pton(AF_INET, freebind,
		    &sin.sin_addr) != 1 || setsockopt(fd, IPPROTO_IP,
		    IP_FREEBIND, &on, sizeof(on)) == -1))
			err(1, "-f %s", freebind);
		if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1)
			err(1, "bind port %u", port);
		return (fd);
	}
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons(port);
	if ((fd = socket(AF_INET6, SOCK_DGRAM, 0)) == -1)
		err(1, "socket");
	if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)) == -1)
		err(1, "IPV6_V6ONLY");
	if (bind(fd, (struct sockaddr *)&sin6, sizeof(sin6)) == -1)
		err(1, "bind port %u", port);
	return (fd);
}

int
main(int argc, char *argv[])
{
	const char	*errstr, *freebind = NULL;
	char		 pid[32];
	int		 ch, fd, v4only = 0, port = 0;

	while ((ch = getopt(argc, argv, "+4f:p:")) != -1) {
		switch (ch) {
		case '4':
			v4only = 1;
			break;
		case 'f':
			freebind = optarg;
			break;
		case 'p':
			port = strtonum(optarg, 1, 65535, &errstr);
			if (errstr != NULL)
				errx(1, "port is %s: %s", errstr, optarg);
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (port == 0 || argc < 1)
		usage();

	fd = bind_udp(v4only, freebind, port);
	if (fd != LISTEN_FD) {
		if (dup2(fd, LISTEN_FD) == -1)
			err(1, "dup2");
		close(fd);
	}
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	if (setenv("LISTEN_FDS", "1", 1) == -1 ||
	    setenv("LISTEN_PID", pid, 1) == -1)
		err(1, "setenv");
	execv(argv[0], argv);
	err(127, "%s", argv[0]);
}
