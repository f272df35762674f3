/* SPDX-License-Identifier: ISC */
/*
 * ct_netlink.c: conntrack lookups over ctnetlink (libmnl only), the
 * Linux counterpart of OpenBSD's DIOCNATLOOK.
 *
 * One NETLINK_NETFILTER socket, opened on first use and kept.  Each
 * lookup is one IPCTNL_MSG_CT_GET with either the original or the reply
 * tuple (default conntrack zone, no CTA_ZONE sent); the kernel answers
 * with one IPCTNL_MSG_CT_NEW message or an NLMSG_ERROR (ENOENT when
 * there is no such connection).  Answers are matched by sequence number
 * and port id; stale answers to an earlier, timed out request are
 * skipped.  Every receive is bounded by SO_RCVTIMEO.
 *
 * The kernel ignores which of CTA_TUPLE_ORIG and CTA_TUPLE_REPLY
 * carried the tuple: it finds the connection by either direction
 * (measured on 6.18).  So we check that the answer has our tuple in the
 * direction asked for, and call anything else ENOENT; otherwise a
 * reply tuple would pass as an original one.
 *
 * A proxy knows its connection by the reply tuple: its own address
 * and port where the client reached it (the accepted socket's local
 * end) -> the client's address and port as its socket sees them.  The
 * original tuple's source port is the client's own only while NAT
 * leaves it alone.  When a redirect's reply tuple would clash with an
 * entry in TIME_WAIT (the client used the same port less than 120 s
 * before, to another destination redirected to the same proxy port),
 * the kernel also rewrites the source port (measured on 6.18: orig
 * C:40000 -> D:21, reply P:8021 -> C:28391; the proxy sees C:28391).
 * So ct_check_reply() asks for the reply tuple, which is unique and
 * exact whatever NAT did, and then checks the original tuple's source
 * address, destination and protocol itself, its source port aside:
 * one GET, no table walk.
 */
#include "compat.h"

#include <sys/socket.h>
#include <sys/time.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>

#include "addr.h"
#include "ct.h"
#include "log.h"

#define CT_RCVTIMEO_SEC	1	/* seconds one receive may wait */
#define CT_MAX_RECV	8	/* receives per request (stale, EINTR) */
#define CT_REQ_SIZE	512
#define CT_BUF_SIZE	8192

struct ct_tuple {
	uint8_t		af;
	uint8_t		proto;
	uint16_t	sport;		/* host order */
	uint16_t	dport;		/* host order */
	uint8_t		src[16];	/* network order */
	uint8_t		dst[16];
};

struct ct_entry {
	struct ct_tuple	orig;
	struct ct_tuple	reply;
};

struct ct_attrs {
	const struct nlattr	**tb;
	uint16_t		 max;
};

static int	ct_sock_open(struct ct *);
static void	ct_sock_close(struct ct *);
static int	ct_tuple_set(struct ct_tuple *, uint8_t, uint8_t,
		    const uint8_t *, uint16_t, const uint8_t *, uint16_t);
static int	ct_tuple_eq(const struct ct_tuple *, const struct ct_tuple *);
static void	ct_put_tuple(struct nlmsghdr *, uint16_t,
		    const struct ct_tuple *);
static int	ct_get(struct ct *, uint16_t, const struct ct_tuple *,
		    struct ct_entry *);
static void	ct_put_header(struct ct *, struct nlmsghdr *, uint16_t,
		    uint8_t);
static int	ct_send(struct ct *, const struct nlmsghdr *);
static int	ct_orig_is(const struct ct_entry *, const struct ct_tuple *);
static int	ct_read(struct ct *, uint32_t, int, char *, size_t,
		    int (*)(const struct nlmsghdr *, void *), void *);
static int	ct_get_msg(const struct nlmsghdr *, void *);
static int	ct_recv(struct ct *, uint32_t, uint8_t, struct ct_entry *);
static int	ct_msg(const struct nlmsghdr *, uint8_t, struct ct_entry *);
static int	ct_parse_ct(const struct nlmsghdr *, uint8_t,
		    struct ct_entry *);
static int	ct_parse_tuple(const struct nlattr *, uint8_t,
		    struct ct_tuple *);
static int	ct_parse_ip(const struct nlattr *, uint8_t,
		    struct ct_tuple *);
static int	ct_parse_proto(const struct nlattr *, struct ct_tuple *);
static int	ct_attr_cb(const struct nlattr *, void *);

/* One conntrack socket and what goes with it. */
struct ct {
	struct mnl_socket	*nl;
	uint32_t		 seq;		/* of the last request */
};

int
ct_lookup_reply(struct ct *ct, uint8_t af, uint8_t proto, const uint8_t *rsrc,
    uint16_t rsport, const uint8_t *rdst, uint16_t rdport,
    uint8_t *odst, uint16_t *odport)
{
	struct ct_tuple	 reply;
	struct ct_entry	 e;

	if (odst == NULL || odport == NULL) {
		errno = EINVAL;
		return (-1);
	}
	if (ct_tuple_set(&reply, af, proto, rsrc, rsport, rdst, rdport) == -1)
		return (-1);
	if (ct_get(ct, CTA_TUPLE_REPLY, &reply, &e) == -1)
		return (-1);
	memcpy(odst, e.orig.dst, af_addr_len(af));
	*odport = e.orig.dport;
	return (0);
}

/*
 * One GET by the reply tuple local:lport -> src:sport; the entry must
 * then have been started by src (address) toward dst:dport (see the
 * top).  ct_get() has checked the reply tuple itself.
 */
int
ct_check_reply(struct ct *ct, uint8_t af, uint8_t proto, const uint8_t *src,
    uint16_t sport, const uint8_t *dst, uint16_t dport, const uint8_t *local,
    uint16_t lport, uint16_t *osport)
{
	struct ct_tuple	 orig, reply;
	struct ct_entry	 e;

	if (ct_tuple_set(&orig, af, proto, src, sport, dst, dport) == -1 ||
	    ct_tuple_set(&reply, af, proto, local, lport, src, sport) == -1 ||
	    ct_get(ct, CTA_TUPLE_REPLY, &reply, &e) == -1)
		return (-1);
	if (!ct_orig_is(&e, &orig)) {
		errno = ENOENT;		/* another client's, or elsewhere */
		return (-1);
	}
	if (e.orig.sport != sport)
		log_debug("conntrack: client port %u was %u before NAT",
		    sport, e.orig.sport);
	if (osport != NULL)
		*osport = e.orig.sport;
	return (0);
}

struct ct *
ct_open(void)
{
	struct ct	*ct;

	if ((ct = calloc(1, sizeof(*ct))) == NULL)
		return (NULL);
	ct->seq = (uint32_t)time(NULL);
	if (ct_sock_open(ct) == -1) {
		free(ct);
		return (NULL);
	}
	return (ct);
}

void
ct_close(struct ct *ct)
{
	if (ct == NULL)
		return;
	ct_sock_close(ct);
	free(ct);
}

static int
ct_sock_open(struct ct *ct)
{
	struct timeval	 tv;

	if (ct->nl != NULL)
		return (0);
	if ((ct->nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC)) ==
	    NULL) {
		log_debug("%s: mnl_socket_open2: %s", __func__,
		    strerror(errno));
		return (-1);
	}
	memset(&tv, 0, sizeof(tv));
	tv.tv_sec = CT_RCVTIMEO_SEC;
	if (setsockopt(mnl_socket_get_fd(ct->nl), SOL_SOCKET, SO_RCVTIMEO,
	    &tv, sizeof(tv)) == -1 ||
	    mnl_socket_bind(ct->nl, 0, MNL_SOCKET_AUTOPID) == -1) {
		log_debug("%s: socket setup: %s", __func__, strerror(errno));
		ct_sock_close(ct);
		return (-1);
	}
	return (0);
}

static void
ct_sock_close(struct ct *ct)
{
	int	 saved_errno = errno;

	if (ct->nl != NULL)
		mnl_socket_close(ct->nl);
	ct->nl = NULL;
	errno = saved_errno;
}

static int
ct_tuple_eq(const struct ct_tuple *a, const struct ct_tuple *b)
{
	size_t	 alen = af_addr_len(a->af);

	return (a->af == b->af && a->proto == b->proto &&
	    a->sport == b->sport && a->dport == b->dport &&
	    memcmp(a->src, b->src, alen) == 0 &&
	    memcmp(a->dst, b->dst, alen) == 0);
}

static int
ct_tuple_set(struct ct_tuple *t, uint8_t af, uint8_t proto,
    const uint8_t *src, uint16_t sport, const uint8_t *dst, uint16_t dport)
{
	if (af != AF_INET && af != AF_INET6) {
		errno = EAFNOSUPPORT;
		return (-1);
	}
	if ((proto != IPPROTO_TCP && proto != IPPROTO_UDP) ||
	    src == NULL || dst == NULL || sport == 0 || dport == 0) {
		errno = EINVAL;
		return (-1);
	}
	memset(t, 0, sizeof(*t));
	t->af = af;
	t->proto = proto;
	t->sport = sport;
	t->dport = dport;
	memcpy(t->src, src, af_addr_len(af));
	memcpy(t->dst, dst, af_addr_len(af));
	return (0);
}

/* Append a CTA_TUPLE_ORIG or CTA_TUPLE_REPLY nest describing t. */
static void
ct_put_tuple(struct nlmsghdr *nlh, uint16_t type, const struct ct_tuple *t)
{
	struct nlattr	*tuple, *nest;

	tuple = mnl_attr_nest_start(nlh, type);
	nest = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);
	if (t->af == AF_INET) {
		mnl_attr_put(nlh, CTA_IP_V4_SRC, 4, t->src);
		mnl_attr_put(nlh, CTA_IP_V4_DST, 4, t->dst);
	} else {
		mnl_attr_put(nlh, CTA_IP_V6_SRC, 16, t->src);
		mnl_attr_put(nlh, CTA_IP_V6_DST, 16, t->dst);
	}
	mnl_attr_nest_end(nlh, nest);
	nest = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);
	mnl_attr_put_u8(nlh, CTA_PROTO_NUM, t->proto);
	mnl_attr_put_u16(nlh, CTA_PROTO_SRC_PORT, htons(t->sport));
	mnl_attr_put_u16(nlh, CTA_PROTO_DST_PORT, htons(t->dport));
	mnl_attr_nest_end(nlh, nest);
	mnl_attr_nest_end(nlh, tuple);
}

/*
 * Fetch the connection whose tuple in direction dir (CTA_TUPLE_ORIG or
 * CTA_TUPLE_REPLY) is t.
 */
static int
ct_get(struct ct *ct, uint16_t dir, const struct ct_tuple *t,
    struct ct_entry *e)
{
	char			 req[CT_REQ_SIZE]
				    __attribute__((__aligned__(8)));
	const struct ct_tuple	*got;
	struct nlmsghdr		*nlh;

	if (ct_sock_open(ct) == -1)
		return (-1);
	memset(req, 0, sizeof(req));
	nlh = mnl_nlmsg_put_header(req);
	ct_put_header(ct, nlh, NLM_F_REQUEST, t->af);
	ct_put_tuple(nlh, dir, t);
	if (ct_send(ct, nlh) == -1 ||
	    ct_recv(ct, nlh->nlmsg_seq, t->af, e) == -1)
		return (-1);
	/* Found by the other direction: not what was asked for. */
	got = dir == CTA_TUPLE_ORIG ? &e->orig : &e->reply;
	if (!ct_tuple_eq(got, t)) {
		errno = ENOENT;
		return (-1);
	}
	return (0);
}

/* A CT_GET request's header, with the next sequence number. */
static void
ct_put_header(struct ct *ct, struct nlmsghdr *nlh, uint16_t flags,
    uint8_t af)
{
	struct nfgenmsg	*nfg;

	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET;
	nlh->nlmsg_flags = flags;
	if (++ct->seq == 0)
		ct->seq = 1;
	nlh->nlmsg_seq = ct->seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = af;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = 0;
}

static int
ct_send(struct ct *ct, const struct nlmsghdr *nlh)
{
	ssize_t	n;

	n = mnl_socket_sendto(ct->nl, nlh, nlh->nlmsg_len);
	if (n == -1 || (size_t)n != nlh->nlmsg_len) {
		if (n != -1)
			errno = EIO;
		/* Kept open: under the sandbox it could not be reopened. */
		log_debug("ct_send: %s", strerror(errno));
		return (-1);
	}
	return (0);
}

/*
 * Whether e's original tuple is o but for its source port: o's source
 * address, destination address and port, and protocol.
 */
static int
ct_orig_is(const struct ct_entry *e, const struct ct_tuple *o)
{
	size_t	alen = af_addr_len(o->af);

	return (e->orig.af == o->af && e->orig.proto == o->proto &&
	    e->orig.dport == o->dport &&
	    memcmp(e->orig.src, o->src, alen) == 0 &&
	    memcmp(e->orig.dst, o->dst, alen) == 0);
}

/* What ct_get_msg() reads into. */
struct ct_answer {
	uint8_t		 af;
	struct ct_entry	*e;
};

/*
 * Read the messages that answer request seq, each to fn, until fn
 * returns 0 (done) or -1 (failed); 1 reads on.  At most maxrecv
 * receives, each bounded by SO_RCVTIMEO.
 */
static int
ct_read(struct ct *ct, uint32_t seq, int maxrecv, char *buf, size_t size,
    int (*fn)(const struct nlmsghdr *, void *), void *arg)
{
	const struct nlmsghdr	*nlh;
	uint32_t		 portid = mnl_socket_get_portid(ct->nl);
	ssize_t			 n;
	int			 i, len, r;

	for (i = 0; i < maxrecv; i++) {
		if ((n = mnl_socket_recvfrom(ct->nl, buf, size)) == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				errno = ETIMEDOUT;
			log_debug("ct_read: %s", strerror(errno));
			return (-1);
		}
		len = (int)n;
		for (nlh = (const struct nlmsghdr *)buf;
		    mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
			if (nlh->nlmsg_seq != seq ||
			    !mnl_nlmsg_portid_ok(nlh, portid))
				continue;	/* stale or not ours */
			if ((r = fn(nlh, arg)) != 1)
				return (r);
		}
	}
	log_debug("ct_read: no answer to request %u", seq);
	errno = ETIMEDOUT;
	return (-1);
}

/* The answer to a CT_GET: one entry of family af, or an error. */
static int
ct_get_msg(const struct nlmsghdr *nlh, void *arg)
{
	struct ct_answer	*a = arg;

	return (ct_msg(nlh, a->af, a->e));
}

static int
ct_recv(struct ct *ct, uint32_t seq, uint8_t af, struct ct_entry *e)
{
	char			buf[CT_BUF_SIZE]
				    __attribute__((__aligned__(8)));
	struct ct_answer	a = { af, e };

	return (ct_read(ct, seq, CT_MAX_RECV, buf, sizeof(buf), ct_get_msg,
	    &a));
}

/* One message answering our request: 0 done, -1 error, 1 keep reading. */
static int
ct_msg(const struct nlmsghdr *nlh, uint8_t af, struct ct_entry *e)
{
	const struct nlmsgerr	*err;

	switch (nlh->nlmsg_type) {
	case NLMSG_ERROR:
		if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*err))) {
			errno = EPROTO;
			return (-1);
		}
		err = mnl_nlmsg_get_payload(nlh);
		errno = err->error < 0 ? -err->error : EPROTO;
		if (errno != ENOENT)
			log_debug("ctnetlink: %s", strerror(errno));
		return (-1);
	case NLMSG_NOOP:
		return (1);
	case (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_NEW:
		return (ct_parse_ct(nlh, af, e));
	default:
		log_debug("ctnetlink: unexpected message type 0x%x",
		    nlh->nlmsg_type);
		errno = EPROTO;
		return (-1);
	}
}

static int
ct_attr_cb(const struct nlattr *attr, void *arg)
{
	struct ct_attrs	*a = arg;
	uint16_t	 type = mnl_attr_get_type(attr);

	if (type <= a->max)
		a->tb[type] = attr;
	return (MNL_CB_OK);
}

/* A conntrack entry: take its original and reply tuples. */
static int
ct_parse_ct(const struct nlmsghdr *nlh, uint8_t af, struct ct_entry *e)
{
	const struct nlattr	*tb[CTA_MAX + 1];
	const struct nfgenmsg	*nfg;
	struct ct_attrs		 a = { tb, CTA_MAX };

	memset(tb, 0, sizeof(tb));
	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*nfg))) {
		errno = EPROTO;
		return (-1);
	}
	nfg = mnl_nlmsg_get_payload(nlh);
	if (nfg->nfgen_family != af ||
	    mnl_attr_parse(nlh, sizeof(*nfg), ct_attr_cb, &a) < 0 ||
	    tb[CTA_TUPLE_ORIG] == NULL || tb[CTA_TUPLE_REPLY] == NULL ||
	    ct_parse_tuple(tb[CTA_TUPLE_ORIG], af, &e->orig) == -1 ||
	    ct_parse_tuple(tb[CTA_TUPLE_REPLY], af, &e->reply) == -1) {
		log_debug("ctnetlink: malformed conntrack entry");
		errno = EPROTO;
		return (-1);
	}
	return (0);
}

static int
ct_parse_tuple(const struct nlattr *nest, uint8_t af, struct ct_tuple *t)
{
	const struct nlattr	*tb[CTA_TUPLE_MAX + 1];
	struct ct_attrs		 a = { tb, CTA_TUPLE_MAX };

	memset(tb, 0, sizeof(tb));
	memset(t, 0, sizeof(*t));
	t->af = af;
	if (mnl_attr_parse_nested(nest, ct_attr_cb, &a) < 0 ||
	    tb[CTA_TUPLE_IP] == NULL || tb[CTA_TUPLE_PROTO] == NULL)
		return (-1);
	if (ct_parse_ip(tb[CTA_TUPLE_IP], af, t) == -1 ||
	    ct_parse_proto(tb[CTA_TUPLE_PROTO], t) == -1)
		return (-1);
	return (0);
}

static int
ct_parse_ip(const struct nlattr *nest, uint8_t af, struct ct_tuple *t)
{
	const struct nlattr	*tb[CTA_IP_MAX + 1];
	struct ct_attrs		 a = { tb, CTA_IP_MAX };
	const struct nlattr	*src, *dst;
	size_t			 alen = af_addr_len(af);

	memset(tb, 0, sizeof(tb));
	if (mnl_attr_parse_nested(nest, ct_attr_cb, &a) < 0)
		return (-1);
	if (af == AF_INET) {
		src = tb[CTA_IP_V4_SRC];
		dst = tb[CTA_IP_V4_DST];
	} else {
		src = tb[CTA_IP_V6_SRC];
		dst = tb[CTA_IP_V6_DST];
	}
	if (src == NULL || dst == NULL ||
	    mnl_attr_get_payload_len(src) != alen ||
	    mnl_attr_get_payload_len(dst) != alen)
		return (-1);
	memcpy(t->src, mnl_attr_get_payload(src), alen);
	memcpy(t->dst, mnl_attr_get_payload(dst), alen);
	return (0);
}

static int
ct_parse_proto(const struct nlattr *nest, struct ct_tuple *t)
{
	const struct nlattr	*tb[CTA_PROTO_MAX + 1];
	struct ct_attrs		 a = { tb, CTA_PROTO_MAX };

	memset(tb, 0, sizeof(tb));
	if (mnl_attr_parse_nested(nest, ct_attr_cb, &a) < 0)
		return (-1);
	if (tb[CTA_PROTO_NUM] == NULL || tb[CTA_PROTO_SRC_PORT] == NULL ||
	    tb[CTA_PROTO_DST_PORT] == NULL ||
	    mnl_attr_validate(tb[CTA_PROTO_NUM], MNL_TYPE_U8) < 0 ||
	    mnl_attr_validate(tb[CTA_PROTO_SRC_PORT], MNL_TYPE_U16) < 0 ||
	    mnl_attr_validate(tb[CTA_PROTO_DST_PORT], MNL_TYPE_U16) < 0)
		return (-1);
	t->proto = mnl_attr_get_u8(tb[CTA_PROTO_NUM]);
	t->sport = ntohs(mnl_attr_get_u16(tb[CTA_PROTO_SRC_PORT]));
	t->dport = ntohs(mnl_attr_get_u16(tb[CTA_PROTO_DST_PORT]));
	return (0);
}
