/* SPDX-License-Identifier: ISC */
/*
 * proto.c: the names of the message types, and the one place where
 * protocol messages are marshalled (proto_send_X / proto_recv_X).
 * Handlers never copy raw structs themselves.
 */
#include "compat.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "imsg.h"
#include "proto.h"

static const char *const proto_names[] = {
	[PFH_NONE] = "PFH_NONE",
#define PFH_NAME(t, ...)	[t] = #t,
	PFH_IMSG_TYPES(PFH_NAME, PFH_NAME)
#undef PFH_NAME
};

const char *
proto_name(uint32_t type)
{
	if (type >= nitems(proto_names) || proto_names[type] == NULL)
		return ("unknown");
	return (proto_names[type]);
}

/*
 * Typed send/receive pairs.  A receive fails with EBADMSG unless the
 * payload has exactly the struct's size.
 */
#define PROTO_PAIR(t, name, st)					\
int									\
proto_send_##name(struct imsgbuf *ib, uint32_t reqid, const st *m)	\
{									\
	struct proto_msg	pm = proto_msg_##name(m);		\
									\
	return (imsg_compose(ib, pm.type, reqid, 0, -1, pm.data,	\
	    pm.len));							\
}									\
int									\
proto_recv_##name(struct imsg *imsg, st *m)				\
{									\
	memset(m, 0, sizeof(*m));					\
	if (imsg_get_type(imsg) != t) {					\
		errno = EBADMSG;					\
		return (-1);						\
	}								\
	return (imsg_get_data(imsg, m, sizeof(*m)));			\
}

PFH_IMSG_TYPES(PROTO_PAIR, PFH_NOMSG)
#undef PROTO_PAIR

int
proto_send_reply(struct imsgbuf *ib, uint32_t reqid, int error,
    const char *reason, const struct pfh_addr *addr, uint16_t port)
{
	struct pfh_reply	r;

	memset(&r, 0, sizeof(r));
	r.error = error;
	r.port = port;
	if (addr != NULL)
		r.addr = *addr;
	if (reason != NULL)
		strlcpy(r.reason, reason, sizeof(r.reason));
	return (imsg_compose(ib, error ? PFH_ERR : PFH_OK, reqid, 0, -1,
	    &r, sizeof(r)));
}

/* A reply: PFH_OK or PFH_ERR, exact size, reason NUL-terminated. */
int
proto_recv_reply(struct imsg *imsg, struct pfh_reply *r)
{
	uint32_t	type = imsg_get_type(imsg);

	memset(r, 0, sizeof(*r));
	if ((type != PFH_OK && type != PFH_ERR) ||
	    imsg_get_data(imsg, r, sizeof(*r)) == -1) {
		errno = EBADMSG;
		return (-1);
	}
	if (memchr(r->reason, '\0', sizeof(r->reason)) == NULL ||
	    (type == PFH_OK) != (r->error == 0)) {
		errno = EBADMSG;
		return (-1);
	}
	return (0);
}

const char *
proto_session_check(const struct pfh_session *s)
{
	const struct pfh_addr	*a[] = { &s->client, &s->dialled,
				    &s->proxy, &s->server, &s->local };
	size_t			 i;

	if (s->cport == 0 || s->dport == 0 || s->pport == 0 ||
	    s->sport == 0 || s->lport == 0)
		return ("port 0");
	for (i = 0; i < nitems(a); i++) {
		if (a[i]->af != s->client.af)
			return ("mixed address families");
		if (!addr_is_unicast_host(a[i]))
			return (i == 0 ? "client is not a unicast host "
			    "(link-local, loopback, multicast, ...)" :
			    "not a unicast host address");
	}
	if (addr_eq(&s->client, &s->server))
		return ("client and server are one host");
	if (addr_eq(&s->client, &s->proxy) || addr_eq(&s->client, &s->local))
		return ("client is the proxy itself");
	return (NULL);
}

int
proto_data_port_ok(uint16_t port)
{
	return (port >= PFH_DATA_PORT_MIN);
}

/*
 * "low-high", the data ports of TLS sessions (-E): both data ports,
 * low <= high, at most PFH_RANGE_WIDTH_MAX ports.  0, or -1.
 */
int
proto_range_parse(const char *s, uint16_t *lo, uint16_t *hi)
{
	char		 buf[16], *dash;
	const char	*errstr;
	long long	 l, h;

	if (strlcpy(buf, s, sizeof(buf)) >= sizeof(buf) ||
	    (dash = strchr(buf, '-')) == NULL)
		return (-1);
	*dash++ = '\0';
	l = strtonum(buf, PFH_DATA_PORT_MIN, 65535, &errstr);
	if (errstr != NULL)
		return (-1);
	h = strtonum(dash, l, 65535, &errstr);
	if (errstr != NULL)
		return (-1);
	*lo = (uint16_t)l;
	*hi = (uint16_t)h;
	return (0);
}
