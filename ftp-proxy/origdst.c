/* SPDX-License-Identifier: ISC */
/*
 * origdst.c: the original destination of an intercepted connection
 * (the listening sockets are common/listen.c's).
 */
#include "compat.h"

#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <string.h>

#include "log.h"
#include "proxy.h"

/* linux/netfilter_ipv4.h and linux/netfilter_ipv6/ip6_tables.h */
#ifndef SO_ORIGINAL_DST
#define SO_ORIGINAL_DST		80
#endif
#ifndef IP6T_SO_ORIGINAL_DST
#define IP6T_SO_ORIGINAL_DST	80
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
