/* SPDX-License-Identifier: ISC */
/*
 * listen.h: the socket helpers both front ends use: their listening
 * sockets and the transparent (TPROXY) option.  What an address is to
 * this host: hostaddr.h.
 */
#ifndef LISTEN_H
#define LISTEN_H

#include <stdint.h>

#include "proto.h"

/*
 * Sockets of type (SOCK_STREAM: listening; SOCK_DGRAM: bound) on addr
 * (NULL: the wildcard addresses) and port, in family (AF_UNSPEC: IPv4
 * and IPv6, one socket each, IPv6 ones IPv6 only), non-blocking,
 * close-on-exec, transparent where allowed, and free to bind an
 * address this host does not hold yet (IP_FREEBIND).  Fills fds; how many, or
 * -1 if addr does not resolve.
 */
int	net_listen(const char *, uint16_t, int, int, int *, int);
/*
 * IP_TRANSPARENT or IPV6_TRANSPARENT on fd of family af: TPROXY
 * delivers only to such sockets.  It takes CAP_NET_ADMIN, so it is
 * set as root; 0 or -1 (callers may go on without it).
 */
int	net_transparent(int, int);
#endif /* LISTEN_H */
