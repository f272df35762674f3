/* SPDX-License-Identifier: ISC */
/*
 * hostaddr_test: hostaddr_parse() on rtnetlink messages built here,
 * as the kernel sends them (RTM_NEWADDR, RTM_DELADDR, NLMSG_DONE,
 * NLMSG_ERROR) and broken in the ways a parser must survive; then what
 * hostaddr_type() answers once such messages are fed to a context, and
 * hostaddr_lookup() the same.
 */
#include "compat.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/if_addr.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "check.h"
#include "hostaddr.h"

#define A4(a, b, c, d)	{ a, b, c, d }
#define A6_DB8(last)	{ 0x20, 0x01, 0x0d, 0xb8, [15] = last }

struct attr {
	uint16_t	type;		/* 0: the end */
	uint8_t		len;		/* payload bytes */
	uint8_t		data[16];
};

static const struct msgcase {
	const char	*name;
	uint16_t	 type;
	uint16_t	 flags;
	uint8_t		 family;
	struct attr	 attrs[4];
	int32_t		 error;		/* NLMSG_ERROR's */
	int		 cut;		/* bytes taken off the end */
	int		 rc;		/* hostaddr_parse() */
	int		 want;		/* HA_MSG_* */
	uint8_t		 addr[16];	/* want: the address, its broadcast */
	uint8_t		 brd[4];
} cases[] = {
	{ "v4 address with broadcast", RTM_NEWADDR, 0, AF_INET,
	    { { IFA_ADDRESS, 4, A4(192, 0, 2, 1) },
	      { IFA_LOCAL, 4, A4(192, 0, 2, 1) },
	      { IFA_BROADCAST, 4, A4(192, 0, 2, 255) } },
	    0, 0, 1, HA_MSG_NEW, A4(192, 0, 2, 1), A4(192, 0, 2, 255) },
	{ "v4 point-to-point: IFA_LOCAL is ours", RTM_NEWADDR, 0, AF_INET,
	    { { IFA_ADDRESS, 4, A4(198, 51, 100, 9) },
	      { IFA_LOCAL, 4, A4(198, 51, 100, 1) } },
	    0, 0, 1, HA_MSG_NEW, A4(198, 51, 100, 1), A4(0, 0, 0, 0) },
	{ "v4 address gone", RTM_DELADDR, 0, AF_INET,
	    { { IFA_LOCAL, 4, A4(203, 0, 113, 7) } },
	    0, 0, 1, HA_MSG_DEL, A4(203, 0, 113, 7), A4(0, 0, 0, 0) },
	{ "v6 address: IFA_ADDRESS only", RTM_NEWADDR, 0, AF_INET6,
	    { { IFA_CACHEINFO, 16, { 0 } },
	      { IFA_ADDRESS, 16, A6_DB8(1) } },
	    0, 0, 1, HA_MSG_NEW, A6_DB8(1), A4(0, 0, 0, 0) },
	{ "v6 address gone", RTM_DELADDR, 0, AF_INET6,
	    { { IFA_ADDRESS, 16, A6_DB8(2) } },
	    0, 0, 1, HA_MSG_DEL, A6_DB8(2), A4(0, 0, 0, 0) },
	{ "unknown attributes skipped", RTM_NEWADDR, 0, AF_INET,
	    { { IFA_LABEL, 5, "eth0" }, { 200, 3, { 1, 2, 3 } },
	      { IFA_LOCAL, 4, A4(192, 0, 2, 2) } },
	    0, 0, 1, HA_MSG_NEW, A4(192, 0, 2, 2), A4(0, 0, 0, 0) },
	{ "a dump marked inconsistent", RTM_NEWADDR, NLM_F_DUMP_INTR,
	    AF_INET, { { IFA_LOCAL, 4, A4(192, 0, 2, 3) } },
	    0, 0, 1, HA_MSG_NEW, A4(192, 0, 2, 3), A4(0, 0, 0, 0) },
	{ "end of dump", NLMSG_DONE, 0, 0, { { 0 } },
	    0, 0, 1, HA_MSG_DONE, { 0 }, { 0 } },
	{ "error", NLMSG_ERROR, 0, 0, { { 0 } },
	    -EPERM, 0, 1, HA_MSG_ERROR, { 0 }, { 0 } },
	{ "ack", NLMSG_ERROR, 0, 0, { { 0 } },
	    0, 0, 1, HA_MSG_ERROR, { 0 }, { 0 } },
	{ "a route message: skipped", RTM_NEWROUTE, 0, AF_INET,
	    { { 0 } }, 0, 0, 1, HA_MSG_OTHER, { 0 }, { 0 } },
	{ "another family: skipped", RTM_NEWADDR, 0, AF_PACKET,
	    { { IFA_LOCAL, 4, A4(192, 0, 2, 4) } },
	    0, 0, 1, HA_MSG_OTHER, { 0 }, { 0 } },
	{ "no address at all", RTM_NEWADDR, 0, AF_INET,
	    { { IFA_LABEL, 3, "lo" } }, 0, 0, -1, 0, { 0 }, { 0 } },
	{ "v4 address of 16 bytes", RTM_NEWADDR, 0, AF_INET,
	    { { IFA_LOCAL, 16, A6_DB8(1) } }, 0, 0, -1, 0, { 0 }, { 0 } },
	{ "v6 address of 4 bytes", RTM_NEWADDR, 0, AF_INET6,
	    { { IFA_ADDRESS, 4, A4(192, 0, 2, 5) } },
	    0, 0, -1, 0, { 0 }, { 0 } },
	{ "attribute longer than the message", RTM_NEWADDR, 0, AF_INET,
	    { { IFA_LOCAL, 4, A4(192, 0, 2, 6) } },
	    0, 2, -1, 0, { 0 }, { 0 } },
	{ "no room for the ifaddrmsg", RTM_NEWADDR, 0, AF_INET,
	    { { 0 } }, 0, 4, -1, 0, { 0 }, { 0 } },
	{ "error without its code", NLMSG_ERROR, 0, 0, { { 0 } },
	    0, 17, -1, 0, { 0 }, { 0 } },
};

/* The message of c into buf as the kernel lays it out; its length. */
static size_t
build(const struct msgcase *c, uint32_t seq, unsigned char *buf)
{
	struct nlmsghdr		 nh;
	struct ifaddrmsg	 ifa;
	struct rtattr		 rta;
	const struct attr	*a;
	size_t			 len = NLMSG_HDRLEN;

	memset(&ifa, 0, sizeof(ifa));
	if (c->type == NLMSG_ERROR) {
		memcpy(buf + len, &c->error, sizeof(c->error));
		len += NLMSG_ALIGN(sizeof(c->error) + sizeof(nh));
	} else if (c->type != NLMSG_DONE) {
		ifa.ifa_family = c->family;
		ifa.ifa_prefixlen = 24;
		ifa.ifa_index = 2;
		memcpy(buf + len, &ifa, sizeof(ifa));
		len += NLMSG_ALIGN(sizeof(ifa));
	}
	for (a = c->attrs; a < c->attrs + 4 && a->type != 0; a++) {
		rta.rta_type = a->type;
		rta.rta_len = RTA_LENGTH(a->len);
		memcpy(buf + len, &rta, sizeof(rta));
		memcpy(buf + len + RTA_LENGTH(0), a->data, a->len);
		len += RTA_SPACE(a->len);
	}
	len -= (size_t)c->cut;
	memset(&nh, 0, sizeof(nh));
	nh.nlmsg_len = (uint32_t)len;
	nh.nlmsg_type = c->type;
	nh.nlmsg_flags = c->flags;
	nh.nlmsg_seq = seq;
	memcpy(buf, &nh, sizeof(nh));
	return (len);
}

static void
one(const struct msgcase *c)
{
	unsigned char	buf[512];
	struct ha_msg	m;
	size_t		len, off = 0, alen;
	int		rc;

	memset(buf, 0, sizeof(buf));
	len = build(c, 77, buf);
	rc = hostaddr_parse(buf, len, &off, &m);
	if (!checkf(rc == c->rc, "%s: parse %d, want %d", c->name, rc,
	    c->rc))
		return;
	if (rc == -1) {
		checkf(off == len, "%s: the rest is skipped", c->name);
		return;
	}
	checkf(off == len && m.type == c->want && m.seq == 77,
	    "%s: type %d, want %d; off %zu of %zu", c->name, m.type,
	    c->want, off, len);
	checkf(m.intr == ((c->flags & NLM_F_DUMP_INTR) != 0),
	    "%s: dump interrupted %d", c->name, m.intr);
	if (c->type == NLMSG_ERROR)
		checkf(m.error == -c->error, "%s: errno %d", c->name,
		    m.error);
	if (m.type != HA_MSG_NEW && m.type != HA_MSG_DEL)
		return;
	alen = c->family == AF_INET ? 4 : 16;
	checkf(m.addr.af == c->family && memcmp(m.addr.addr, c->addr,
	    alen) == 0 && m.ifindex == 2 && m.prefixlen == 24,
	    "%s: the address", c->name);
	checkf(c->brd[0] == 0 ? m.brd.af == 0 : (m.brd.af == AF_INET &&
	    memcmp(m.brd.addr, c->brd, 4) == 0), "%s: the broadcast address",
	    c->name);
}

/* Several messages in one datagram, as a dump sends them. */
static void
several(void)
{
	unsigned char	buf[1024];
	struct ha_msg	m;
	size_t		len = 0, off = 0;
	int		n = 0, types[4];

	memset(buf, 0, sizeof(buf));
	len += build(&cases[0], 5, buf + len);
	len += build(&cases[3], 5, buf + len);
	len += build(&cases[7], 5, buf + len);
	while (n < 4 && hostaddr_parse(buf, len, &off, &m) == 1)
		types[n++] = m.type;
	check(n == 3 && types[0] == HA_MSG_NEW && types[1] == HA_MSG_NEW &&
	    types[2] == HA_MSG_DONE, "three messages in one datagram");
	check(hostaddr_parse(buf, len, &off, &m) == 0, "then the end");

	/* A bad length in the middle: what follows is not trusted. */
	len = build(&cases[0], 5, buf);
	len += build(&cases[15], 5, buf + len);
	len += build(&cases[7], 5, buf + len);
	off = 0;
	check(hostaddr_parse(buf, len, &off, &m) == 1, "first one good");
	check(hostaddr_parse(buf, len, &off, &m) == -1 && off == len,
	    "the broken one ends the datagram");
	off = 0;
	check(hostaddr_parse(buf, 10, &off, &m) == -1, "a short header");
	off = 0;
	check(hostaddr_parse(buf, 0, &off, &m) == 0, "nothing");
}

static void
feed(struct hostaddr *h, const struct msgcase *c)
{
	unsigned char	buf[512];
	size_t		len;

	memset(buf, 0, sizeof(buf));
	len = build(c, 0, buf);
	hostaddr_feed(h, buf, len);
}

static const struct msgcase gone = { "192.0.2.1 gone", RTM_DELADDR, 0,
	AF_INET, { { IFA_LOCAL, 4, A4(192, 0, 2, 1) } }, 0, 0, 1, 0,
	{ 0 }, { 0 } };

static const struct {
	const char	*addr;
	int		 before;	/* with cases[0, 1, 3] fed */
	int		 after;		/* and then 192.0.2.1 gone */
} answers[] = {
	{ "192.0.2.1", NET_LOCAL, NET_REMOTE },
	{ "192.0.2.255", NET_BROADCAST, NET_REMOTE },
	{ "192.0.2.2", NET_REMOTE, NET_REMOTE },
	{ "::ffff:192.0.2.1", NET_LOCAL, NET_REMOTE },
	{ "198.51.100.1", NET_LOCAL, NET_LOCAL },	/* ptp: ours */
	{ "198.51.100.9", NET_REMOTE, NET_REMOTE },	/* ptp: the peer */
	{ "2001:db8::1", NET_LOCAL, NET_LOCAL },
	{ "2001:db8::2", NET_REMOTE, NET_REMOTE },
	{ "127.0.0.5", NET_LOCAL, NET_LOCAL },
	{ "::1", NET_LOCAL, NET_LOCAL },
	{ "0.0.0.0", NET_LOCAL, NET_LOCAL },
	{ "::", NET_LOCAL, NET_LOCAL },
	{ "255.255.255.255", NET_BROADCAST, NET_BROADCAST },
	{ "203.0.113.7", NET_REMOTE, NET_REMOTE },
};

static void
answers_are(struct hostaddr *h, int after)
{
	struct pfh_addr	a;
	size_t		i;
	int		t, want;

	for (i = 0; i < sizeof(answers) / sizeof(answers[0]); i++) {
		want = after ? answers[i].after : answers[i].before;
		addr_parse(answers[i].addr, &a);
		t = hostaddr_type(h, &a);
		checkf(t == want, "%s%s: %d, want %d", after ? "after: " :
		    "", answers[i].addr, t, want);
		t = hostaddr_lookup(h, &a);
		checkf(t == want, "%slookup %s: %d, want %d", after ?
		    "after: " : "", answers[i].addr, t, want);
	}
}

/* A context fed by hand: what is local, broadcast, remote. */
static void
table(void)
{
	struct hostaddr	*h;

	if (!check((h = hostaddr_new()) != NULL, "hostaddr_new"))
		return;
	feed(h, &cases[0]);
	feed(h, &cases[1]);
	feed(h, &cases[3]);
	feed(h, &cases[0]);	/* again: the same address */
	feed(h, &cases[2]);	/* the end of one we never had */
	check(hostaddr_count(h) == 3, "three addresses, once each");
	answers_are(h, 0);
	feed(h, &gone);
	check(hostaddr_count(h) == 2, "192.0.2.1 gone: two left");
	answers_are(h, 1);
	hostaddr_close(h);
}

int
main(void)
{
	struct pfh_addr	a;
	size_t		i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		one(&cases[i]);
	several();
	table();
	memset(&a, 0, sizeof(a));
	a.af = AF_INET;
	check(hostaddr_type(NULL, &a) == -1, "no context: not known");
	check(hostaddr_lookup(NULL, &a) == -1, "nor by lookup");
	return (check_summary());
}
