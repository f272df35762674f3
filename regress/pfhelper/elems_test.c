/* SPDX-License-Identifier: ISC */
/*
 * elems_test: permit_elems() (elems.c) against the rule shapes of
 * DESIGN.md section 4, one row per shape and address family: the
 * session and permit a front end sends, and the rdr, snat (or snatp)
 * and pass elements they must become.
 */
#include "compat.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <err.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "pfhelper.h"

/* One element: map, saddr . daddr . proto . dport : to . toport. */
struct want {
	enum filter_map	 map;
	const char	*saddr;
	const char	*daddr;
	uint16_t	 dport;
	const char	*to;		/* NULL: none (pass) */
	uint16_t	 toport;
};

struct elems_case {
	const char	*name;
	uint8_t		 proto;
	const char	*client, *dialled, *proxy, *server;
	uint8_t		 kind;		/* PFH_PASSIVE, PFH_ACTIVE */
	uint8_t		 flags;		/* PFH_F_PORT20 */
	uint16_t	 pport, tport;
	struct want	 e[3];
};

static const struct elems_case cases[] = {
	/* client . orig_server . tcp . pport : server . port, snat to P */
	{ "PASV forward v4", IPPROTO_TCP,
	    "192.0.2.10", "198.51.100.10", "198.51.100.1", "198.51.100.10",
	    PFH_PASSIVE, 0, 50001, 40001, {
	    { FE_RDR, "192.0.2.10", "198.51.100.10", 50001,
		"198.51.100.10", 40001 },
	    { FE_SNAT, "192.0.2.10", "198.51.100.10", 40001,
		"198.51.100.1", 0 },
	    { FE_PASS, "192.0.2.10", "198.51.100.10", 40001, NULL, 0 } } },
	{ "PASV forward v6", IPPROTO_TCP,
	    "2001:db8:1::10", "2001:db8:2::10", "2001:db8:2::1",
	    "2001:db8:2::10", PFH_PASSIVE, 0, 50002, 40002, {
	    { FE_RDR, "2001:db8:1::10", "2001:db8:2::10", 50002,
		"2001:db8:2::10", 40002 },
	    { FE_SNAT, "2001:db8:1::10", "2001:db8:2::10", 40002,
		"2001:db8:2::1", 0 },
	    { FE_PASS, "2001:db8:1::10", "2001:db8:2::10", 40002, NULL, 0 } } },
	/* server . proxy_ext . tcp . pport : client . port, snat to D */
	{ "PORT forward v4", IPPROTO_TCP,
	    "192.0.2.10", "198.51.100.10", "198.51.100.1", "198.51.100.10",
	    PFH_ACTIVE, 0, 50003, 40003, {
	    { FE_RDR, "198.51.100.10", "198.51.100.1", 50003,
		"192.0.2.10", 40003 },
	    { FE_SNAT, "198.51.100.10", "192.0.2.10", 40003,
		"198.51.100.10", 0 },
	    { FE_PASS, "198.51.100.10", "192.0.2.10", 40003, NULL, 0 } } },
	{ "PORT forward v6", IPPROTO_TCP,
	    "2001:db8:1::10", "2001:db8:2::10", "2001:db8:2::1",
	    "2001:db8:2::10", PFH_ACTIVE, 0, 50004, 40004, {
	    { FE_RDR, "2001:db8:2::10", "2001:db8:2::1", 50004,
		"2001:db8:1::10", 40004 },
	    { FE_SNAT, "2001:db8:2::10", "2001:db8:1::10", 40004,
		"2001:db8:2::10", 0 },
	    { FE_PASS, "2001:db8:2::10", "2001:db8:1::10", 40004, NULL, 0 } } },
	/* -r: snatp server . client . tcp . port : orig_server . 20 */
	{ "PORT forward -r v4", IPPROTO_TCP,
	    "192.0.2.10", "198.51.100.10", "198.51.100.1", "198.51.100.10",
	    PFH_ACTIVE, PFH_F_PORT20, 50005, 40005, {
	    { FE_RDR, "198.51.100.10", "198.51.100.1", 50005,
		"192.0.2.10", 40005 },
	    { FE_SNATP, "198.51.100.10", "192.0.2.10", 40005,
		"198.51.100.10", 20 },
	    { FE_PASS, "198.51.100.10", "192.0.2.10", 40005, NULL, 0 } } },
	{ "PORT forward -r v6", IPPROTO_TCP,
	    "2001:db8:1::10", "2001:db8:2::10", "2001:db8:2::1",
	    "2001:db8:2::10", PFH_ACTIVE, PFH_F_PORT20, 50006, 40006, {
	    { FE_RDR, "2001:db8:2::10", "2001:db8:2::1", 50006,
		"2001:db8:1::10", 40006 },
	    { FE_SNATP, "2001:db8:2::10", "2001:db8:1::10", 40006,
		"2001:db8:2::10", 20 },
	    { FE_PASS, "2001:db8:2::10", "2001:db8:1::10", 40006, NULL, 0 } } },
	/*
	 * -R: client . fw_ext . tcp . pport : server . port, snat to the
	 * proxy's inside address; the server is not what the client dialled.
	 */
	{ "reverse passive v4", IPPROTO_TCP,
	    "198.51.100.20", "198.51.100.1", "192.0.2.1", "192.0.2.10",
	    PFH_PASSIVE, 0, 50007, 40007, {
	    { FE_RDR, "198.51.100.20", "198.51.100.1", 50007,
		"192.0.2.10", 40007 },
	    { FE_SNAT, "198.51.100.20", "192.0.2.10", 40007,
		"192.0.2.1", 0 },
	    { FE_PASS, "198.51.100.20", "192.0.2.10", 40007, NULL, 0 } } },
	{ "reverse passive v6", IPPROTO_TCP,
	    "2001:db8:2::20", "2001:db8:2::1", "2001:db8:1::1",
	    "2001:db8:1::10", PFH_PASSIVE, 0, 50008, 40008, {
	    { FE_RDR, "2001:db8:2::20", "2001:db8:2::1", 50008,
		"2001:db8:1::10", 40008 },
	    { FE_SNAT, "2001:db8:2::20", "2001:db8:1::10", 40008,
		"2001:db8:1::1", 0 },
	    { FE_PASS, "2001:db8:2::20", "2001:db8:1::10", 40008, NULL, 0 } } },
	/*
	 * TFTP: server . proxy_ext . udp . pport : client . cport, snat
	 * server . client . udp . cport : orig_server.
	 */
	{ "TFTP reply path v4", IPPROTO_UDP,
	    "192.0.2.10", "198.51.100.10", "198.51.100.1", "198.51.100.10",
	    PFH_ACTIVE, 0, 50009, 40009, {
	    { FE_RDR, "198.51.100.10", "198.51.100.1", 50009,
		"192.0.2.10", 40009 },
	    { FE_SNAT, "198.51.100.10", "192.0.2.10", 40009,
		"198.51.100.10", 0 },
	    { FE_PASS, "198.51.100.10", "192.0.2.10", 40009, NULL, 0 } } },
	{ "TFTP reply path v6", IPPROTO_UDP,
	    "2001:db8:1::10", "2001:db8:2::10", "2001:db8:2::1",
	    "2001:db8:2::10", PFH_ACTIVE, 0, 50010, 40010, {
	    { FE_RDR, "2001:db8:2::10", "2001:db8:2::1", 50010,
		"2001:db8:1::10", 40010 },
	    { FE_SNAT, "2001:db8:2::10", "2001:db8:1::10", 40010,
		"2001:db8:2::10", 0 },
	    { FE_PASS, "2001:db8:2::10", "2001:db8:1::10", 40010, NULL, 0 } } },
};

static const char *const maps[] = { "?", "rdr", "snat", "snatp", "pass" };

static void
addr(struct pfh_addr *a, const char *s)
{
	memset(a, 0, sizeof(*a));
	a->af = strchr(s, ':') != NULL ? AF_INET6 : AF_INET;
	if (inet_pton(a->af, s, a->addr) != 1)
		errx(1, "bad address %s", s);
}

/* 16 bytes as filter_elem holds them: IPv4 in the first 4, zeros after. */
static int
bytes_are(const uint8_t b[16], const char *s)
{
	struct pfh_addr	a;

	if (s == NULL) {
		memset(&a, 0, sizeof(a));
		return (memcmp(b, a.addr, 16) == 0);
	}
	addr(&a, s);
	return (memcmp(b, a.addr, 16) == 0);
}

static void
check_elem(const struct elems_case *c, int i, const struct filter_elem *e)
{
	const struct want	*w = &c->e[i];
	uint8_t			 af = strchr(c->client, ':') ? AF_INET6 :
				    AF_INET;

	checkf(e->map == w->map, "%s: element %d is %s", c->name, i,
	    maps[w->map]);
	checkf(e->af == af && e->proto == c->proto, "%s: %s family and "
	    "protocol", c->name, maps[w->map]);
	checkf(bytes_are(e->saddr, w->saddr) && bytes_are(e->daddr, w->daddr)
	    && e->dport == w->dport, "%s: %s key %s . %s . %u", c->name,
	    maps[w->map], w->saddr, w->daddr, w->dport);
	checkf(bytes_are(e->to, w->to) && e->toport == w->toport,
	    "%s: %s value %s . %u", c->name, maps[w->map],
	    w->to != NULL ? w->to : "(none)", w->toport);
	checkf(e->table == 0 && e->shared == 0, "%s: %s table and shared "
	    "left to the caller", c->name, maps[w->map]);
}

/*
 * The kinds table: every kind of the protocol has a complete row,
 * found by its id; no other id has one.
 */
static void
check_kinds(void)
{
	const uint8_t		 known[] = { PFH_PASSIVE, PFH_ACTIVE,
				    PFH_RANGE };
	const struct pfh_kind	*k;
	size_t			 i;
	int			 id, n = 0;

	for (i = 0; i < nitems(known); i++) {
		k = kind_get(known[i]);
		checkf(k != NULL && k->id == known[i] && k->name != NULL &&
		    k->elems != NULL, "kind %u has a complete row", known[i]);
	}
	for (id = 0; id < 256; id++)
		if (kind_get(id) != NULL)
			n++;
	check(n == (int)nitems(known), "no row but the protocol's kinds");
	check(strcmp(kind_get(PFH_RANGE)->name, "range") == 0 &&
	    kind_get(PFH_RANGE)->span && kind_get(PFH_RANGE)->tls &&
	    !kind_get(PFH_PASSIVE)->span && !kind_get(PFH_ACTIVE)->tls,
	    "range is the span kind, only in a TLS role");
	check((kind_get(PFH_ACTIVE)->flags & PFH_F_PORT20) &&
	    !(kind_get(PFH_PASSIVE)->flags & PFH_F_PORT20),
	    "port 20 only on active permits");
}

int
main(void)
{
	const struct elems_case	*c;
	struct pfh_session	 s;
	struct pfh_permit	 p;
	struct filter_elem	 e[3];
	size_t			 i;
	int			 j;

	for (i = 0; i < nitems(cases); i++) {
		c = &cases[i];
		memset(&s, 0, sizeof(s));
		s.sid = 1;
		s.proto = c->proto;
		addr(&s.client, c->client);
		addr(&s.dialled, c->dialled);
		addr(&s.proxy, c->proxy);
		addr(&s.server, c->server);
		memset(&p, 0, sizeof(p));
		p.sid = 1;
		p.pid = 1;
		p.kind = c->kind;
		p.flags = c->flags;
		p.pport = c->pport;
		p.tport = c->tport;
		p.timeout = 30;
		/* Whatever was there before is overwritten. */
		memset(e, 0xa5, sizeof(e));
		permit_elems(&s, &p, e);
		for (j = 0; j < 3; j++)
			check_elem(c, j, &e[j]);
	}
	check_kinds();
	return (check_summary());
}
