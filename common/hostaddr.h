/* SPDX-License-Identifier: ISC */
/*
 * hostaddr.h: "is this address one of this host's", the one answer
 * ftp-proxy, tftp-proxy and pfhelper share.  It comes from the kernel's
 * own address list (rtnetlink RTM_GETADDR), kept current by the
 * RTMGRP_IPV4_IFADDR and RTMGRP_IPV6_IFADDR notifications, never from a
 * bind() probe: under net.ipv4.ip_nonlocal_bind=1, IP_FREEBIND or an
 * AnyIP local route bind() takes any address.  An address of an AnyIP
 * range is not one of this host's: TPROXY delivers it.
 *
 * The netlink socket is opened as root before the chroot and the
 * sandbox and kept; its owner reads it from its event loop
 * (hostaddr_fd, hostaddr_read), and every decision first takes what
 * the kernel has queued since, so an address that arrived is known at
 * once, with no polling interval.
 */
#ifndef HOSTADDR_H
#define HOSTADDR_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

/* hostaddr_type() */
#define NET_REMOTE	0	/* another host's */
#define NET_LOCAL	1	/* one of this host's addresses */
#define NET_BROADCAST	2	/* a broadcast address of this host's */

struct hostaddr;

/*
 * The socket, subscribed to address changes, and the first list.
 * NULL with errno set.
 */
struct hostaddr	*hostaddr_open(void);
void		 hostaddr_close(struct hostaddr *);
/* The descriptor to watch for reading. */
int		 hostaddr_fd(const struct hostaddr *);
/*
 * Take every message queued on the socket (a lost notification, a
 * full buffer, starts a new list).  0, or -1 if the socket failed.
 */
int		 hostaddr_read(struct hostaddr *);
/*
 * NET_REMOTE, NET_LOCAL or NET_BROADCAST for a (after hostaddr_read).
 * Loopback and unspecified addresses are local, 255.255.255.255 a
 * broadcast address; an IPv4-mapped address is its IPv4 address.  -1
 * without a context (h NULL): not known.
 */
int		 hostaddr_type(struct hostaddr *, const struct pfh_addr *);
/*
 * The same answer from the list as it is, without taking what is
 * queued first: for a second decision right after hostaddr_type()'s.
 */
int		 hostaddr_lookup(struct hostaddr *, const struct pfh_addr *);
/* How many addresses the list holds. */
size_t		 hostaddr_count(const struct hostaddr *);
/*
 * For tests: a context with no socket (an empty list), and rtnetlink
 * messages applied to it as if they had come from the kernel.
 */
struct hostaddr	*hostaddr_new(void);
void		 hostaddr_feed(struct hostaddr *, const void *, size_t);

/* One rtnetlink message, as hostaddr_parse() found it. */
#define HA_MSG_NEW	1	/* RTM_NEWADDR */
#define HA_MSG_DEL	2	/* RTM_DELADDR */
#define HA_MSG_DONE	3	/* NLMSG_DONE: the end of a dump */
#define HA_MSG_ERROR	4	/* NLMSG_ERROR; error 0 is an ack */
#define HA_MSG_OTHER	5	/* anything else: skipped */

struct ha_msg {
	int		type;		/* HA_MSG_* */
	uint32_t	seq;
	int		intr;		/* NLM_F_DUMP_INTR: dump again */
	int		error;		/* HA_MSG_ERROR: a positive errno */
	uint32_t	ifindex;	/* NEW, DEL: */
	uint8_t		prefixlen;
	struct pfh_addr	addr;		/* IFA_LOCAL, else IFA_ADDRESS */
	struct pfh_addr	brd;		/* IFA_BROADCAST; af 0: none */
};

/*
 * Pure parser: the message at buf[*off..len) into m, *off moved past
 * it.  1, 0 at the end of buf, -1 if it is malformed (truncated, a
 * bad length, an address message of another family or with no
 * address): the rest of buf is then skipped.
 */
int	hostaddr_parse(const void *, size_t, size_t *, struct ha_msg *);

#endif /* HOSTADDR_H */
