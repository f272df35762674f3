/*
 * netutil.c: listening sockets and the original destination of an
 * intercepted connection.
 */
#include "compat.h"

#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "proxy.h"

/* linux/netfilter_ipv4.h and linux/netfilter_ipv6/ip6_tables.h */
#ifndef SO_ORIGINAL_DST
#define SO_ORIGINAL_DST		80
#endif
#ifndef IP6T_SO_ORIGINAL_DST
#define IP6T_SO_ORIGINAL_DST	80
#endif
#ifndef IP_TRANSPARENT
#define IP_TRANSPARENT		19
#endif
#ifndef IPV6_TRANSPARENT
#define IPV6_TRANSPARENT	75
#endif

/*
 * Where the client meant to go: conntrack's original destination
 * after a `redirect`, or the socket's own address (returned in local
 * too) after a TPROXY `tproxy to`, or for a connection that was not
 * intercepted at all.
 */
int
orig_dst(int fd, struct sockaddr_storage *ss, socklen_t *len,
    struct sockaddr_storage *local)
{
	socklen_t	llen = sizeof(*local);
	int		rc;

	if (getsockname(fd, (struct sockaddr *)local, &llen) == -1)
		return (-1);
	*len = sizeof(*ss);
	memset(ss, 0, sizeof(*ss));
	if (local->ss_family == AF_INET)
		rc = getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, ss, len);
	else
		rc = getsockopt(fd, SOL_IPV6, IP6T_SO_ORIGINAL_DST, ss, len);
	if (rc == -1 || ss->ss_family != local->ss_family) {
		memcpy(ss, local, llen);
		*len = llen;
	}
	return (0);
}

/* Whether this address is one of this host's own (bind() succeeds). */
int
is_local_addr(const struct sockaddr *sa, socklen_t len)
{
	struct sockaddr_storage	ss;
	int			fd, rc;

	if ((fd = socket(sa->sa_family, SOCK_STREAM, 0)) == -1)
		return (0);
	memcpy(&ss, sa, len);
	if (ss.ss_family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_port = 0;
	else
		((struct sockaddr_in6 *)&ss)->sin6_port = 0;
	rc = bind(fd, (struct sockaddr *)&ss, len);
	close(fd);
	return (rc == 0);
}

static int
listen_one(const struct addrinfo *ai)
{
	int	fd, on = 1;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, ai->ai_protocol);
	if (fd == -1)
		return (-1);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (ai->ai_family == AF_INET6) {
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
		/* TPROXY (divert-to); needs CAP_NET_ADMIN, so now. */
		setsockopt(fd, SOL_IPV6, IPV6_TRANSPARENT, &on, sizeof(on));
	} else
		setsockopt(fd, SOL_IP, IP_TRANSPARENT, &on, sizeof(on));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) == -1 ||
	    listen(fd, SOMAXCONN) == -1) {
		close(fd);
		return (-1);
	}
	return (fd);
}

/*
 * Listen on addr (NULL: every address) port, in family (AF_UNSPEC:
 * IPv4 and IPv6, one socket each).  Fills fds; returns how many.
 */
int
listen_sockets(const char *addr, uint16_t port, int family, int *fds,
    int max)
{
	struct addrinfo	 hints, *res, *ai;
	char		 portstr[8];
	int		 n = 0, fd, e;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	snprintf(portstr, sizeof(portstr), "%u", port);
	if ((e = getaddrinfo(addr, portstr, &hints, &res)) != 0) {
		log_warnx("listen address %s: %s", addr ? addr : "*",
		    gai_strerror(e));
		return (-1);
	}
	for (ai = res; ai != NULL && n < max; ai = ai->ai_next) {
		if ((fd = listen_one(ai)) == -1) {
			log_warn("listen on %s port %u", addr ? addr : "*",
			    port);
			continue;
		}
		fds[n++] = fd;
	}
	freeaddrinfo(res);
	return (n);
}
