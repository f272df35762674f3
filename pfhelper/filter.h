/* SPDX-License-Identifier: ISC */
/*
 * filter.h: pfhelper's packet-filter seam, in the shape of OpenBSD
 * ftp-proxy's filter.h.  One backend is linked: filter_nft.c (the real
 * kernel, libmnl + libnftnl) or regress/pfhelper/fake_filter.c (records
 * calls for unit tests).
 *
 * All changes between filter_begin() and filter_commit() go to the kernel
 * as one netlink batch.  Elements live in the table's maps and sets:
 *   FE_RDR:   saddr . daddr . proto . dport : to . toport     (rdr4/rdr6)
 *   FE_SNAT:  saddr . daddr . proto . dport : to              (snat4/snat6)
 *   FE_SNATP: saddr . daddr . proto . dport : to . toport     (snatp4/6)
 *   FE_PASS:  saddr . daddr . proto . dport                   (pass4/pass6)
 * and, for range permits (a TLS session's data ports, the range being
 * the table's: filter_conf.tls_lo .. tls_hi, a condition of the one
 * rule that consults each of these; TCP only):
 *   FE_TRDR:  saddr . daddr : to, the port kept               (trdr4/6)
 *   FE_TSNAT: saddr . daddr : to                              (tsnat4/6)
 *   FE_TPASS: saddr . daddr                                   (tpass4/6)
 * An element added with FILTER_NO_TIMEOUT stays until it is deleted
 * (or the table goes with pfhelper).
 */
#ifndef FILTER_H
#define FILTER_H

#include <stdint.h>
#include <stdio.h>

#define FILTER_TABLE_MAX	64
/* Elements a pass set can hold: its explicit size. */
#define FILTER_PASS_MAX		262144U
/*
 * Seconds a connection that a pass element let in may send its first
 * packet again from the same address and port (SYN retransmits), should
 * its state go before it is up: the retry sets of filter_nft.c.
 */
#define FILTER_RETRY_SECS	10
#define FILTER_MARK_DEFAULT	0x20000000U
#define FILTER_CONFINE_MAX	2	/* uids in the confine chain */
#define FILTER_TABLES		4	/* tables on one netlink socket */
#define FILTER_NO_TIMEOUT	UINT32_MAX	/* filter_add(): none */

/*
 * confine_uid: the front ends' uids.  Their packets to any local
 * address of this host (fib daddr type local, oif lo) are rejected by
 * the table's output chain "confine": a compromised front end cannot
 * reach the firewall's own services.  None: no such chain.
 */
struct filter_conf {
	char		table[FILTER_TABLE_MAX];	/* "ftp-proxy" */
	uint32_t	mark;		/* ct mark bit(s) set on pass */
	int		log;		/* -v: nft log on each permit use */
	int		use_label;	/* -T: set ct label `label' on pass */
	int		label;		/* 0-127 */
	uint32_t	prio;		/* -q: meta priority when marked */
	uint32_t	confine_uid[FILTER_CONFINE_MAX];
	int		nconfine;
	uint16_t	tls_lo;		/* range permits' ports; 0: none */
	uint16_t	tls_hi;
};

enum filter_map {
	FE_RDR = 1,
	FE_SNAT,
	FE_SNATP,
	FE_PASS,
	FE_TRDR,
	FE_TSNAT,
	FE_TPASS
};

struct filter_elem {
	uint8_t		table;		/* filter_init()'s index */
	enum filter_map	map;
	uint8_t		af;		/* AF_INET or AF_INET6 */
	uint8_t		proto;		/* IPPROTO_TCP or IPPROTO_UDP */
	uint16_t	dport;		/* host order */
	uint8_t		saddr[16];	/* network order, IPv4 in first 4 */
	uint8_t		daddr[16];
	uint8_t		to[16];		/* FE_RDR, FE_SNAT, FE_SNATP */
	uint16_t	toport;		/* FE_RDR, FE_SNATP; host order */
	uint8_t		shared;		/* add: the element may exist already */
};

/*
 * A backend's state (its netlink socket, its tables, the batch being
 * built), passed to every call but filter_describe(): NULL if there is
 * no memory.
 */
struct filter;

struct filter	*filter_new(void);
/*
 * Create a table (flags owner) with its maps, sets and chains: its
 * index for filter_elem.table (the first call opens the netlink socket
 * and gives 0; later ones add tables on it), or -1.
 */
int	filter_init(struct filter *, const struct filter_conf *);
/*
 * Close the netlink socket (the kernel removes the owned tables) and
 * free it all.
 */
void	filter_close(struct filter *);
/*
 * Write the ruleset filter_init() creates, in nft syntax, and the
 * admin's line.
 */
void	filter_describe(FILE *, const struct filter_conf *);

int	filter_begin(struct filter *);
/* Queue an element add, with a timeout in milliseconds (> 0). */
int	filter_add(struct filter *, const struct filter_elem *, uint32_t);
/* Queue an element delete; at commit an element already gone is fine. */
int	filter_del(struct filter *, const struct filter_elem *);
/* Send the batch.  0, or -1 with errno; nothing is half applied. */
int	filter_commit(struct filter *);
void	filter_rollback(struct filter *);

#endif /* FILTER_H */
