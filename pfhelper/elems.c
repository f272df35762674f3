/* SPDX-License-Identifier: ISC */
/*
 * elems.c: the permit kinds, in one table (kinds[]), and what a checked
 * permit of a checked session is in nftables terms: the rdr, snat (or
 * snatp) and pass elements of DESIGN.md's rule shapes.  Pure: no state,
 * no I/O; the caller sets the table index.  Nothing else in pfhelper
 * tells one kind from another: it asks the kind's row.
 *
 * PASSIVE: client C connects to D:pport, reaches S:tport, sourced from P.
 * ACTIVE:  server S connects to P:pport, reaches C:tport, sourced from D
 *          (D port 20 with PFH_F_PORT20).
 * where C, D, P, S are the session's client, dialled, proxy and server
 * addresses.  Forward PASV, reverse passive: PASSIVE.  Forward PORT
 * (-r: PFH_F_PORT20), the TFTP reply path: ACTIVE.
 *
 * RANGE (a TLS session): C connects to D on a port of the table's
 * range and reaches S on the same port, sourced from P: keys C . D
 * (rdr, only when D is not S: reverse mode) and C . S (snat, pass);
 * the port range is the condition of the rules that consult them.
 */
#include "compat.h"

#include <string.h>

#include "pfhelper.h"

static int	passive_elems(const struct pfh_session *,
		    const struct pfh_permit *, struct filter_elem[3]);
static int	active_elems(const struct pfh_session *,
		    const struct pfh_permit *, struct filter_elem[3]);
static int	range_elems(const struct pfh_session *,
		    const struct pfh_permit *, struct filter_elem[3]);

static const struct pfh_kind kinds[] = {
	{
		.id = PFH_PASSIVE,
		.name = "passive",
		.flags = 0,
		.elems = passive_elems,
	},
	{
		.id = PFH_ACTIVE,
		.name = "active",
		.flags = PFH_F_PORT20,	/* -r: from the dialled port 20 */
		.elems = active_elems,
	},
	{
		.id = PFH_RANGE,
		.name = "range",
		.flags = 0,
		.span = 1,		/* the table's -E range, tport-thigh */
		.tls = 1,
		.elems = range_elems,
	},
};

const struct pfh_kind *
kind_get(uint8_t id)
{
	size_t	i;

	for (i = 0; i < nitems(kinds); i++)
		if (kinds[i].id == id)
			return (&kinds[i]);
	return (NULL);
}

static void
elem_set(struct filter_elem *e, enum filter_map map, uint8_t proto,
    const struct pfh_addr *src, const struct pfh_addr *dst, uint16_t dport)
{
	memset(e, 0, sizeof(*e));
	e->map = map;
	e->af = src->af;
	e->proto = proto;
	memcpy(e->saddr, src->addr, 16);
	memcpy(e->daddr, dst->addr, 16);
	e->dport = dport;
}

static int
range_elems(const struct pfh_session *s, const struct pfh_permit *p,
    struct filter_elem e[3])
{
	int	n = 0;

	if (memcmp(&s->dialled, &s->server, sizeof(s->server)) != 0) {
		elem_set(&e[n], FE_TRDR, s->proto, &s->client, &s->dialled,
		    0);
		memcpy(e[n++].to, s->server.addr, 16);
	}
	elem_set(&e[n], FE_TSNAT, s->proto, &s->client, &s->server, 0);
	memcpy(e[n++].to, s->proxy.addr, 16);
	elem_set(&e[n++], FE_TPASS, s->proto, &s->client, &s->server, 0);
	return (n);
}

/* from connects to dial:pport, reaches to:tport, sourced from src. */
static int
port_elems(const struct pfh_session *s, const struct pfh_permit *p,
    const struct pfh_addr *from, const struct pfh_addr *dial,
    const struct pfh_addr *to, const struct pfh_addr *src,
    struct filter_elem e[3])
{
	elem_set(&e[0], FE_RDR, s->proto, from, dial, p->pport);
	memcpy(e[0].to, to->addr, 16);
	e[0].toport = p->tport;
	elem_set(&e[1], FE_SNAT, s->proto, from, to, p->tport);
	memcpy(e[1].to, src->addr, 16);
	if (p->flags & PFH_F_PORT20) {
		e[1].map = FE_SNATP;
		e[1].toport = 20;
	}
	elem_set(&e[2], FE_PASS, s->proto, from, to, p->tport);
	return (3);
}

static int
passive_elems(const struct pfh_session *s, const struct pfh_permit *p,
    struct filter_elem e[3])
{
	return (port_elems(s, p, &s->client, &s->dialled, &s->server,
	    &s->proxy, e));
}

static int
active_elems(const struct pfh_session *s, const struct pfh_permit *p,
    struct filter_elem e[3])
{
	return (port_elems(s, p, &s->server, &s->proxy, &s->client,
	    &s->dialled, e));
}

int
permit_elems(const struct pfh_session *s, const struct pfh_permit *p,
    struct filter_elem e[3])
{
	return (kind_get(p->kind)->elems(s, p, e));
}
