/* SPDX-License-Identifier: ISC */
/*
 * hostlimit.h: a front end's sessions per client host (ftp-proxy's
 * sessions, tftp-proxy's requests in flight), so that one host cannot
 * take every slot.  A host is an IPv4 address, or an IPv6 /64 (what
 * one site usually gets).  Pure: no I/O, no globals; the caller owns
 * the table.
 *
 * The policy costs nothing while there is room: below the reserve (the
 * last quarter of -m) any host may open sessions, however many it has
 * already (many users share one address behind a carrier-grade NAT, a
 * site shares one /64).  Once the sessions in use reach the reserve, a
 * host that holds its fair share already is refused: -m divided by the
 * hosts holding sessions plus one still to come, so that a host alone
 * cannot fill the reserve either.  -M, when the admin gives it, is a
 * hard cap instead, at any load.
 */
#ifndef HOSTLIMIT_H
#define HOSTLIMIT_H

#include <sys/tree.h>
#include <stdint.h>

#include "proto.h"

struct hl_host {
	RB_ENTRY(hl_host)	 entry;
	uint8_t			 af;
	uint8_t			 key[8];	/* IPv4: 4 bytes; IPv6: /64 */
	uint32_t		 n;
};

RB_HEAD(hl_tree, hl_host);

struct hl_table {
	struct hl_tree	 hosts;
	uint32_t	 max;		/* sessions in all (-m), >= 1 */
	uint32_t	 cap;		/* -M: a hard cap per host, 0: none */
	uint32_t	 nhosts;	/* hosts with at least one */
	uint32_t	 used;		/* sessions counted, all hosts */
};

/* What becomes of one more session for a host. */
enum hl_verdict {
	HL_OK = 0,
	HL_CAP,		/* the host holds -M sessions */
	HL_SHARE	/* the reserve is reached and it holds its share */
};

/*
 * The pure policy: one more session for a host that holds held of the
 * used sessions, with nhosts hosts holding any (not counting it when
 * held is 0), under -m max and -M cap (0: none).
 */
enum hl_verdict	 hl_verdict(uint32_t max, uint32_t cap, uint32_t used,
		    uint32_t held, uint32_t nhosts);
/* The first of -m's sessions in the reserve: its last quarter. */
uint32_t	 hl_reserve_from(uint32_t max);
/* A host's fair share under pressure, >= 1. */
uint32_t	 hl_share(uint32_t max, uint32_t nhosts);

void	 hl_init(struct hl_table *, uint32_t max, uint32_t cap);
/*
 * One more session for a's host: HL_OK (counted), HL_CAP or HL_SHARE
 * (refused, nothing counted), or -1 with errno ENOMEM or EAFNOSUPPORT.
 */
int	 hl_add(struct hl_table *, const struct pfh_addr *a);
/* One session fewer (the host is forgotten at 0; unknown: nothing). */
void	 hl_del(struct hl_table *, const struct pfh_addr *a);
uint32_t hl_count(struct hl_table *, const struct pfh_addr *a);
/* Forget every host. */
void	 hl_clear(struct hl_table *);

#endif /* HOSTLIMIT_H */
