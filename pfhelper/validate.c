/* SPDX-License-Identifier: ISC */
/*
 * validate.c: every field of every request, checked before anything
 * else looks at it, and -R's server list.  Pure functions: no state,
 * no I/O.  What a permit becomes in the kernel is elems.c's.
 */
#include "compat.h"

#include <sys/socket.h>
#include <netinet/in.h>

#include <string.h>

#include "addr.h"
#include "classify.h"
#include "pfhelper.h"

static int
fail(const char **why, const char *reason)
{
	*why = reason;
	return (-1);
}

static int	validate_addr(const struct pfh_addr *, const char **);

static int
zero(const void *p, size_t len)
{
	const uint8_t	*b = p;

	while (len-- > 0)
		if (*b++ != 0)
			return (0);
	return (1);
}

int
validate_hello(const struct pfh_hello *h, const char **why)
{
	const struct pfh_role	*r;
	unsigned int		 i;

	if (h->version != PFH_PROTO_VERSION)
		return (fail(why, "protocol version mismatch"));
	if ((r = role_get(h->role)) == NULL)
		return (fail(why, "unknown role"));
	if (h->flags & ~(PFH_H_LOG | PFH_H_MANY) ||
	    !zero(h->pad, sizeof(h->pad)))
		return (fail(why, "unknown flags or nonzero padding"));
	if (h->label > CT_LABEL_MAX + 1)
		return (fail(why, "bad ct label"));
	if (h->nrserver > PFH_RSERVER_MAX)
		return (fail(why, "too many -R servers"));
	if ((h->tls_lo != 0 || h->tls_hi != 0) && (!r->tls ||
	    h->tls_lo < PFH_DATA_PORT_MIN || h->tls_hi < h->tls_lo))
		return (fail(why, "bad TLS port range"));
	if (!zero(&h->rserver[h->nrserver],
	    (PFH_RSERVER_MAX - h->nrserver) * sizeof(h->rserver[0])))
		return (fail(why, "nonzero padding after the -R servers"));
	if (h->nrserver == 0)
		return (h->rport == 0 ? 0 :
		    fail(why, "port without a -R server"));
	if (!r->reverse)
		return (fail(why, "no -R server in this role"));
	for (i = 0; i < h->nrserver; i++)
		if (validate_addr(&h->rserver[i], why) == -1)
			return (-1);
	return (0);
}

/* The form of an address; whether it may be used is a semantic check. */
static int
validate_addr(const struct pfh_addr *a, const char **why)
{
	if (a->af != AF_INET && a->af != AF_INET6)
		return (fail(why, "bad address family"));
	if (!zero(a->pad, sizeof(a->pad)))
		return (fail(why, "nonzero padding"));
	if (a->af == AF_INET && !zero(a->addr + 4, 12))
		return (fail(why, "IPv4 address with trailing bytes"));
	return (0);
}

/*
 * The form of a session (a violation drops the peer).  What it says is
 * checked by proto_session_check() and validate_session_role(), whose
 * refusals are answered.
 */
int
validate_session(const struct pfh_session *s, const char **why)
{
	const struct pfh_addr	*a[] = { &s->client, &s->dialled,
				    &s->proxy, &s->server, &s->local };
	size_t			 i;

	if (s->sid == 0)
		return (fail(why, "session id 0"));
	if (s->proto != IPPROTO_TCP && s->proto != IPPROTO_UDP)
		return (fail(why, "bad protocol"));
	if (s->pad != 0 || s->pad2 != 0)
		return (fail(why, "nonzero padding"));
	if (s->proto == IPPROTO_TCP && s->timeout != 0)
		return (fail(why, "permit timeout on a TCP session"));
	if (s->proto == IPPROTO_UDP &&
	    (s->timeout == 0 || s->timeout > PFH_TIMEOUT_MAX))
		return (fail(why, "bad timeout"));
	for (i = 0; i < nitems(a); i++)
		if (validate_addr(a[i], why) == -1)
			return (-1);
	return (0);
}

/*
 * The session against the peer's role (roles.c): its protocol; the
 * server is where the session says the client was going (forward
 * mode) or one of the peer's -R servers (reverse mode, in a role that
 * has one).  The destination is the front end's word here: it is the
 * conntrack check in serve.c (h_session, not with -C) that ties
 * it to a connection the client made.
 */
int
validate_session_role(const struct pfh_role *role,
    const struct pfh_rservers *rs, const struct pfh_session *s,
    const char **why)
{
	unsigned int	i;

	if (s->proto != role->proto)
		return (fail(why, role->proto == IPPROTO_TCP ?
		    "session not over TCP in this role" :
		    "session not over UDP in this role"));
	if (addr_eq(&s->server, &s->dialled) && s->sport == s->dport)
		return (0);
	/* A role with range permits: the servers' implicit FTP over TLS. */
	if (role->reverse && (s->sport == rs->port ||
	    (role->tls && s->sport == FTPS_PORT)))
		for (i = 0; i < rs->n; i++)
			if (addr_eq(&s->server, &rs->a[i]))
				return (0);
	return (fail(why, "server is neither the destination nor -R's"));
}

/*
 * pfhelper -R: "addr,addr,..." (it may be repeated), the servers a peer
 * that names none is held to.  0, or -1 if an address is bad or there
 * are too many.
 */
int
validate_rserver_add(struct pfh_rservers *rs, const char *list)
{
	char	buf[64];
	size_t	n;

	while (*list != '\0') {
		n = strcspn(list, ",");
		if (n == 0 || n >= sizeof(buf) || rs->n >= PFH_RSERVER_MAX)
			return (-1);
		memcpy(buf, list, n);
		buf[n] = '\0';
		if (addr_parse(buf, &rs->a[rs->n]) == -1)
			return (-1);
		rs->n++;
		list += n;
		if (*list == ',' && *++list == '\0')
			return (-1);
	}
	return (rs->n > 0 ? 0 : -1);
}

/*
 * A permit of a span kind (a TLS session's range): no flags, no proxy
 * port, no timeout (it lives as long as its session), a range of data
 * ports.
 */
static int
validate_span(const struct pfh_permit *p, const char **why)
{
	if (p->flags != 0 || p->pport != 0 || p->timeout != 0)
		return (fail(why, "flags, proxy port or timeout on a range"));
	if (p->thigh < p->tport)
		return (fail(why, "range ends before it starts"));
	return (0);
}

/* A single-port permit: the flags of its kind, a timeout. */
static int
validate_port(const struct pfh_kind *k, const struct pfh_permit *p,
    const char **why)
{
	if (p->thigh != 0)
		return (fail(why, "range end on a single-port permit"));
	if ((p->flags & ~PFH_F_PORT20) != 0)
		return (fail(why, "unknown flags"));
	if ((p->flags & ~k->flags) != 0)
		return (fail(why, "port 20 source on a passive permit"));
	if (p->pport != 0 && p->pport < PFH_DATA_PORT_MIN)
		return (fail(why, "proxy port below " PFH_DATA_PORT_MIN_S));
	if (p->timeout == 0 || p->timeout > PFH_TIMEOUT_MAX)
		return (fail(why, "bad timeout"));
	return (0);
}

int
validate_permit(const struct pfh_permit *p, const char **why)
{
	const struct pfh_kind	*k;

	if (p->sid == 0 || p->pid == 0)
		return (fail(why, "session or permit id 0"));
	if (p->pad != 0)
		return (fail(why, "nonzero padding"));
	if ((k = kind_get(p->kind)) == NULL)
		return (fail(why, "bad permit kind"));
	return (k->span ? validate_span(p, why) : validate_port(k, p, why));
}

/* The permit (already valid) against the role of the peer that asks. */
int
validate_permit_fits(const struct pfh_role *role, const struct pfh_permit *p,
    const char **why)
{
	if (!role->permits)
		return (fail(why,
		    "no permit beyond the session's in this role"));
	if (kind_get(p->kind)->tls && !role->tls)
		return (fail(why, "no range permit in this role"));
	return (0);
}

/* Ids only: whose they are is checked against the peer's sessions. */
int
validate_session_end(const struct pfh_session_end *e, const char **why)
{
	return (0);
}

int
validate_permit_del(const struct pfh_permit_del *d, const char **why)
{
	return (0);
}

int
validate_ctlookup(const struct pfh_ctlookup *c, const char **why)
{
	if (c->proto != IPPROTO_TCP && c->proto != IPPROTO_UDP)
		return (fail(why, "bad protocol"));
	if (c->pad != 0 || c->pad2 != 0)
		return (fail(why, "nonzero padding"));
	if (c->cport == 0 || c->lport == 0)
		return (fail(why, "port 0"));
	if (validate_addr(&c->client, why) == -1 ||
	    validate_addr(&c->local, why) == -1)
		return (-1);
	if (c->client.af != c->local.af)
		return (fail(why, "mixed address families"));
	return (0);
}
