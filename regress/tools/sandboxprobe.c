/* SPDX-License-Identifier: ISC */
/*
 * sandboxprobe: what a process confined like ftp-proxy, tftp-proxy or
 * pfhelper may still do.  Drops to user (privdrop(): chroot /var/empty,
 * setresuid; CAP_NET_ADMIN kept with -k helper, as pfhelper keeps it),
 * enters the same seccomp filter (sandbox_enter()), then tries one
 * thing, in a child, and says how that went:
 *
 *	sandboxprobe [-u user] [-k net|helper|none] op [arg ...]
 *
 *	unix			socket(AF_UNIX, SOCK_STREAM)
 *	netlink-route		socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE)
 *	netlink-netfilter	socket(AF_NETLINK, SOCK_RAW, NETLINK_NETFILTER)
 *	tcp address port	a TCP connection (3 s at most)
 *
 * Prints "allowed", "refused: <error>" or "killed: <signal>" and exits
 * 0, 1 or 2 (3: the probe could not be set up).
 */
#include "compat.h"

#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <linux/netlink.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "privdrop.h"
#include "sandbox.h"

#define CAP_NET_ADMIN_BIT	12

static __dead void
usage(void)
{
	fprintf(stderr, "usage: sandboxprobe [-u user] [-k net|helper|none] "
	    "unix | netlink-route | netlink-netfilter | tcp address port\n");
	exit(3);
}

static int
tcp(const char *host, const char *port)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	struct timeval		 tv = { 3, 0 };
	socklen_t		 len;
	int			 fd;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)atoi(port));
		len = sizeof(*sin);
	} else if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)atoi(port));
		len = sizeof(*sin6);
	} else {
		errno = EINVAL;
		return (-1);
	}
	if ((fd = socket(ss.ss_family, SOCK_STREAM, 0)) == -1)
		return (-1);
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return (connect(fd, (struct sockaddr *)&ss, len));
}

static int
probe(int argc, char *argv[])
{
	if (strcmp(argv[0], "unix") == 0)
		return (socket(AF_UNIX, SOCK_STREAM, 0));
	if (strcmp(argv[0], "netlink-route") == 0)
		return (socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE));
	if (strcmp(argv[0], "netlink-netfilter") == 0)
		return (socket(AF_NETLINK, SOCK_RAW, NETLINK_NETFILTER));
	if (strcmp(argv[0], "tcp") == 0 && argc == 3)
		return (tcp(argv[1], argv[2]));
	usage();
}

int
main(int argc, char *argv[])
{
	const char	*user = FTP_PROXY_USER, *kind = "net";
	char		 why[256];
	pid_t		 pid;
	int		 ch, st, k;

	while ((ch = getopt(argc, argv, "k:u:")) != -1) {
		switch (ch) {
		case 'k':
			kind = optarg;
			break;
		case 'u':
			user = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	k = strcmp(kind, "helper") == 0 ? SANDBOX_HELPER :
	    strcmp(kind, "net") == 0 ? SANDBOX_NET : 0;
	if ((pid = fork()) == -1)
		return (3);
	if (pid == 0) {
		if (privdrop(user, PROXY_CHROOT, k == SANDBOX_HELPER ?
		    1ULL << CAP_NET_ADMIN_BIT : PRIVDROP_KEEP_NONE, why,
		    sizeof(why)) == -1) {
			fprintf(stderr, "sandboxprobe: %s\n", why);
			_exit(3);
		}
		if (k != 0 && sandbox_enter(k) == -1) {
			perror("sandboxprobe: seccomp");
			_exit(3);
		}
		if (probe(argc, argv) == -1) {
			printf("refused: %s\n", strerror(errno));
			fflush(stdout);
			_exit(1);
		}
		printf("allowed\n");
		fflush(stdout);
		_exit(0);
	}
	if (waitpid(pid, &st, 0) == -1)
		return (3);
	if (WIFSIGNALED(st)) {
		printf("killed: %s\n", strsignal(WTERMSIG(st)));
		return (2);
	}
	return (WEXITSTATUS(st));
}
