/* SPDX-License-Identifier: ISC */
/*
 * localaddr.h: this host's own addresses, for pfhelper's checks of what
 * a front end claims (a session's proxy address; where a redirected
 * connection was delivered).  pfhelper creates no socket after its
 * start, so it reads /proc/net/fib_trie (IPv4 "host LOCAL" entries)
 * and /proc/net/if_inet6 through descriptors opened before the chroot,
 * and reads them again when an address is not in its cache (at most
 * once per LOCALADDR_REFRESH seconds).
 */
#ifndef LOCALADDR_H
#define LOCALADDR_H

#include <stddef.h>

#include "proto.h"

#define LOCALADDR_MAX		1024	/* addresses cached */
#define LOCALADDR_REFRESH	1	/* seconds between re-reads */

/* Open the two files (as root, before the chroot).  0 or -1. */
int	localaddr_init(void);
/* 1: a's address is this host's; 0: it is not; -1: not initialised. */
int	localaddr_is_local(const struct pfh_addr *a);

/*
 * Pure parsers: the IPv4 addresses of the "/32 host LOCAL" entries of
 * a fib_trie text, the IPv6 addresses of an if_inet6 text, appended to
 * out[*n..max) (duplicates skipped).  Return the number added.
 */
size_t	localaddr_parse_fib(const char *, size_t, struct pfh_addr *,
	    size_t *n, size_t max);
size_t	localaddr_parse_inet6(const char *, size_t, struct pfh_addr *,
	    size_t *n, size_t max);

#endif /* LOCALADDR_H */
