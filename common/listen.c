/* SPDX-License-Identifier: ISC */
/*
 * listen.c: listening sockets for the front ends.
 */
#include "compat.h"

#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "log.h"
#include "listen.h"

/* linux/in.h and linux/in6.h */
#ifndef IP_TRANSPARENT
#define IP_TRANSPARENT		19
#endif
#ifndef IPV6_TRANSPARENT
#define IPV6_TRANSPARENT	75
#endif
#ifndef IP_FREEBIND
#define IP_FREEBIND		15
#endif
#ifndef IPV6_FREEBIND
#define IPV6_FREEBIND		78
#endif

static int	net_listen_one(const struct addrinfo *);
static void	net_freebind(int, int);

int
net_transparent(int fd, int af)
{
	int	on = 1;

	if (af == AF_INET6)
		return (setsockopt(fd, SOL_IPV6, IPV6_TRANSPARENT, &on,
		    sizeof(on)));
	return (setsockopt(fd, SOL_IP, IP_TRANSPARENT, &on, sizeof(on)));
}

/*
 * An address this host does not hold yet (a virtual address on the
 * backup of an HA pair) can be bound: the socket serves once it comes.
 * IP_TRANSPARENT allows that too, but only with CAP_NET_ADMIN.
 * IPV6_FREEBIND is Linux 4.15's; IP_FREEBIND covers IPv6 before it.
 */
static void
net_freebind(int fd, int af)
{
	int	on = 1;

	if (af == AF_INET6 && setsockopt(fd, SOL_IPV6, IPV6_FREEBIND, &on,
	    sizeof(on)) == 0)
		return;
	(void)setsockopt(fd, SOL_IP, IP_FREEBIND, &on, sizeof(on));
}

static int
net_listen_one(const struct addrinfo *ai)
{
	int	fd, saved, on = 1;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, ai->ai_protocol);
	if (fd == -1)
		return (-1);
	if (ai->ai_socktype == SOCK_STREAM)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (ai->ai_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
	(void)net_transparent(fd, ai->ai_family);
	net_freebind(fd, ai->ai_family);
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) == -1 ||
	    (ai->ai_socktype == SOCK_STREAM && listen(fd, SOMAXCONN) == -1)) {
		saved = errno;
		close(fd);
		errno = saved;
		return (-1);
	}
	return (fd);
}

int
net_listen(const char *addr, uint16_t port, int family, int type, int *fds,
    int max)
{
	struct addrinfo	 hints, *res, *ai;
	char		 portstr[8];
	int		 n = 0, fd, e;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = type;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	snprintf(portstr, sizeof(portstr), "%u", port);
	if ((e = getaddrinfo(addr, portstr, &hints, &res)) != 0) {
		log_warnx("listen address %s: %s", addr ? addr : "*",
		    gai_strerror(e));
		return (-1);
	}
	for (ai = res; ai != NULL && n < max; ai = ai->ai_next) {
		if ((fd = net_listen_one(ai)) == -1) {
			log_warn("listen on %s port %u", addr ? addr : "*",
			    port);
			continue;
		}
		fds[n++] = fd;
	}
	freeaddrinfo(res);
	return (n);
}
