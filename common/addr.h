/* SPDX-License-Identifier: ISC */
/*
 * addr.h: address helpers shared by the three programs.
 */
#ifndef ADDR_H
#define ADDR_H

#include <sys/socket.h>
#include <netinet/in.h>
#include <stdint.h>

#include "proto.h"

#define ADDR_STRLEN	(INET6_ADDRSTRLEN + 8)	/* "[addr]:port" */

/* sockaddr (AF_INET/AF_INET6) <-> pfh_addr + host-order port. */
int	addr_from_sa(const struct sockaddr *, struct pfh_addr *, uint16_t *);
int	addr_to_sa(const struct pfh_addr *, uint16_t,
	    struct sockaddr_storage *, socklen_t *);
/* Length of the address part: 4 or 16, 0 for a bad family. */
size_t	addr_len(const struct pfh_addr *);
/* The bytes of an address of that family: 4, 16, or 0 for another. */
size_t	af_addr_len(int);
int	addr_eq(const struct pfh_addr *, const struct pfh_addr *);
/* A single usable unicast host: not unspecified, multicast, loopback,
 * broadcast, this-network, or IPv4-mapped. */
int	addr_is_unicast_host(const struct pfh_addr *);
/* "192.0.2.1" / "2001:db8::1"; never fails (bad input gives "?"). */
const char *addr_str(const struct pfh_addr *, char *, size_t);
/* "192.0.2.1:21" / "[2001:db8::1]:21". */
const char *addr_port_str(const struct pfh_addr *, uint16_t, char *, size_t);
/* Parse a numeric address (no lookups). 0 or -1. */
int	addr_parse(const char *, struct pfh_addr *);

#endif /* ADDR_H */
