/* SPDX-License-Identifier: ISC */
/*
 * hostlimit.h: sessions per client host, so that one host cannot take
 * every session slot.  A host is an IPv4 address, or an IPv6 /64 (what
 * one site usually gets).  Pure: no I/O, no globals; the caller owns
 * the table.
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
	uint32_t	 limit;		/* sessions per host, >= 1 */
	uint32_t	 nhosts;	/* hosts with at least one */
};

void	 hl_init(struct hl_table *, uint32_t limit);
/*
 * One more session for a's host: 0, or -1 with errno EUSERS (the host
 * has limit sessions already), ENOMEM, or EAFNOSUPPORT.
 */
int	 hl_add(struct hl_table *, const struct pfh_addr *a);
/* One session fewer (the host is forgotten at 0; unknown: nothing). */
void	 hl_del(struct hl_table *, const struct pfh_addr *a);
uint32_t hl_count(struct hl_table *, const struct pfh_addr *a);
/* Forget every host. */
void	 hl_clear(struct hl_table *);

#endif /* HOSTLIMIT_H */
