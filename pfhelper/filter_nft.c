/* SPDX-License-Identifier: ISC */
/*
 * filter_f->c: the packet-filter backend for the Linux kernel, over one
 * long-lived NETLINK_NETFILTER socket with libmnl and libnftnl (no nft
 * binary, no libnftables).
 *
 * filter_init() creates `table inet NAME { flags owner; ... }' in one
 * batch; the kernel deletes the table when our socket closes.  Permits
 * are elements with timeouts in its maps and sets (DESIGN.md section 4);
 * the rules never change after init.
 *
 * The rules load the key `saddr . daddr . meta l4proto . th dport' into
 * consecutive 32-bit registers starting at NFT_REG32_00; every field is
 * padded to 4 bytes, which is also the layout of an element's key:
 *	IPv4: saddr 4, daddr 4, proto 1+3, port 2+2 (network order) = 16
 *	IPv6: saddr 16, daddr 16, proto 1+3, port 2+2 = 40
 * Map data is `addr' or `addr . port' (port padded to 4 bytes).
 *
 * Range permits (FTP over TLS, where no one in the middle can read
 * the data ports): the range is the table's (the front end's -E, in its
 * HELLO), not the element's, so the keys are plain host pairs in hash
 * sets, `saddr . daddr' (8 or 32 bytes), as flat to add and delete as
 * the others, and the range is the condition of the one rule per
 * family and chain that consults them: `meta l4proto tcp th dport
 * lo-hi'.  Interval keys (a pipapo set, client . server . port range)
 * would let each element carry its own range, but that set copies its
 * whole lookup table on every change: not flat.  The elements have no
 * timeout: they go with their session (or the table).
 *
 * Kernel requirements: table flags owner 5.12; dynset delete (the
 * single-use pass element) 5.4; inet nat chains 5.2.  Deleting an element
 * that is already gone (timed out, or the pass element used by its first
 * packet) uses NFT_MSG_DESTROYSETELEM where the kernel has it (6.3);
 * older kernels get one DELSETELEM message per element, and a batch that
 * failed only because such elements were missing is sent again without
 * them (the kernel aborted the first one as a whole).
 *
 * Limits: at most MSG_ELEMS elements per message (an IPv6 rdr element
 * takes 92 bytes and the elements list is one attribute with a 16-bit
 * length) and BATCH_OPS per batch.  The pass sets are given an explicit
 * size, FILTER_PASS_MAX: a set that a rule updates gets 65535 from the
 * kernel when none is given, and an add beyond fails with ENFILE.
 *
 * The chains run at PRIO_OFFSET, just before the usual dstnat, srcnat
 * and filter chains.
 */
#include "compat.h"

#include <sys/socket.h>
#include <sys/time.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/netfilter.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nf_conntrack_common.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>

#include "addr.h"
#include "classify.h"
#include "filter.h"
#include "log.h"

/* enum nf_tables_msg_types grew these in Linux 6.3; headers may lack it. */
#define MSG_DESTROYSETELEM	30

#define MSG_ELEMS	500	/* elements per message (16-bit nla_len) */
#define BATCH_OPS	2048	/* queued operations per batch */
#define ELEM_SPACE	128	/* bytes per element in a message, at most */
#define MSG_SPACE	4096	/* any other message, at most */
#define SOCK_BUF	(4 << 20)	/* errors for BATCH_OPS deletes */
#define REPLY_TIMEOUT	5	/* seconds to wait for the kernel's answer */
#define REPLY_BUF	32768
#define PRIO_OFFSET	(-10)	/* default: dstnat/srcnat/filter - 10 */
/*
 * x_marks() and x_label() work in the last 128-bit register, past the
 * longest key (an IPv6 retry key: NFT_REG32_00 .. NFT_REG32_10), so
 * that a rule's key stays loaded after them.
 */
#define REG_MARK	NFT_REG_4

/* nft's datatype ids (src/datatype.h), concatenated 6 bits each. */
#define TYPE_IPADDR	7
#define TYPE_IP6ADDR	8
#define TYPE_INET_PROTO	12
#define TYPE_INET_SERV	13
#define TYPE_BITS	6

struct op {
	struct filter_elem	e;
	uint32_t		timeout;	/* ms; 0: delete */
	int			gone;		/* delete found nothing */
};

struct bmsg {
	int			op;	/* first op of the message, or -1 */
	int			err;	/* errno from the kernel, or 0 */
};

struct batch {
	struct filter		*f;	/* whose */
	char			*buf;
	size_t			 len, cap;
	struct bmsg		*msg;
	size_t			 nmsg, msgcap;
	size_t			 lastoff;	/* last message */
	uint32_t		 seq0;	/* batch begin; messages follow */
	int			 err;	/* errno for the batch as a whole */
};

/* One netlink socket, its tables and the batch being built. */
struct filter {
	struct mnl_socket	*nl;
	uint32_t		 seq;
	char			 table[FILTER_TABLE_MAX]; /* being built */
	char			 tables[FILTER_TABLES][FILTER_TABLE_MAX];
	int			 ntables;
	int			 destroy;	/* kernel has DESTROYSETELEM */
	int			 open;		/* filter_begin() called */
	struct op		*ops;
	size_t			 nops;
	struct batch		 b;
	char			 rbuf[REPLY_BUF];	/* kernel's answers */
};

static const char *set_name(enum filter_map, int);
static uint32_t	 set_id(enum filter_map, int);
static int	 batch_reserve(struct batch *, size_t);
static int	 batch_start(struct batch *);
static struct nlmsghdr *batch_msg(struct batch *, uint16_t, uint16_t,
		    size_t, int);
static void	 batch_put(struct batch *, struct nlmsghdr *);
static int	 batch_send(struct batch *);
static void	 batch_reply(struct batch *, const char *, size_t, int *);
static void	 sock_bufs(int);
static int	 q_table(struct batch *, const struct filter_conf *);
static int	 q_set(struct batch *, enum filter_map, int, uint32_t);
static int	 q_chain(struct batch *, const char *, const char *,
		    uint32_t, int32_t);
static int	 q_rule(struct batch *, struct nftnl_rule *);
static struct nftnl_expr *rexpr(struct nftnl_rule *, const char *);
static int	 x_payload(struct nftnl_rule *, uint32_t, uint32_t,
		    uint32_t, uint32_t);
static int	 x_key(struct nftnl_rule *, int);
static int	 x_sport(struct nftnl_rule *, int);
static int	 q_retry_set(struct batch *, int);
static struct nftnl_set *set_new(struct batch *, const char *, uint32_t,
		    uint32_t, uint32_t);
static int	 set_put(struct batch *, struct nftnl_set *);
static int	 r_retry(struct batch *, const struct filter_conf *, int);
static int	 x_lookup(struct nftnl_rule *, const char *, uint32_t, int);
static int	 x_nat(struct nftnl_rule *, uint32_t, int, int);
static int	 x_pass(struct nftnl_rule *, const struct filter_conf *, int);
static int	 x_dynset(struct nftnl_rule *, const char *, uint32_t,
		    uint32_t, uint64_t);
static int	 x_ctnew(struct nftnl_rule *);
static int	 x_marks(struct nftnl_rule *, const struct filter_conf *);
static int	 x_tkey(struct nftnl_rule *, const struct filter_conf *, int);
static int	 r_range(struct batch *, const struct filter_conf *, int,
		    const char *, enum filter_map);
static struct nftnl_rule *rule_new(struct batch *, const char *);
static int	 rule_done(struct batch *, struct nftnl_rule *, int);
static int	 x_label(struct nftnl_rule *, int);
static int	 r_prio(struct batch *, const struct filter_conf *);
static int	 r_build(struct batch *, const struct filter_conf *, int,
		    const char *, enum filter_map);
static int	 x_meta_eq(struct nftnl_rule *, uint32_t, uint32_t);
static int	 x_meta_cmp(struct nftnl_rule *, uint32_t, const void *,
		    size_t);
static int	 r_confine(struct batch *, uint32_t, int);
static int	 init_batch(struct filter *, const struct filter_conf *);
static int	 probe_destroy(struct filter *);
static void	 filter_reset(struct filter *);
static size_t	 elem_key(const struct filter_elem *, uint8_t *);
static size_t	 elem_data(const struct filter_elem *, uint8_t *);
static int	 q_elems(struct batch *, size_t, size_t);
static int	 same_kind(const struct op *, const struct op *);
static int	 ops_send(struct filter *, int *, size_t *);
static int	 queue(struct filter *, const struct filter_elem *, uint32_t);
static void	 describe_sets(FILE *, int);
static void	 describe_marks(FILE *, const struct filter_conf *);
static void	 describe_rules(FILE *, const struct filter_conf *, int);
static void	 describe_range(FILE *, const struct filter_conf *, int,
		    int);

/* The maps and sets, in the order init creates them per family. */
static const enum filter_map set_order[] = {
	FE_RDR, FE_SNAT, FE_SNATP, FE_PASS, FE_TRDR, FE_TSNAT, FE_TPASS
};

static int
is_range(enum filter_map map)
{
	return (map == FE_TRDR || map == FE_TSNAT || map == FE_TPASS);
}

static const char *
set_name(enum filter_map map, int af)
{
	int	v6 = af == AF_INET6;

	switch (map) {
	case FE_RDR:
		return (v6 ? "rdr6" : "rdr4");
	case FE_SNAT:
		return (v6 ? "snat6" : "snat4");
	case FE_SNATP:
		return (v6 ? "snatp6" : "snatp4");
	case FE_PASS:
		return (v6 ? "pass6" : "pass4");
	case FE_TRDR:
		return (v6 ? "trdr6" : "trdr4");
	case FE_TSNAT:
		return (v6 ? "tsnat6" : "tsnat4");
	case FE_TPASS:
		return (v6 ? "tpass6" : "tpass4");
	}
	return (NULL);
}

static uint32_t
set_id(enum filter_map map, int af)
{
	return ((uint32_t)map * 2 + (af == AF_INET6) - 1);
}

/*
 * The retry sets (retry4, retry6): the pass key and the source port of
 * each connection a pass element let in, for FILTER_RETRY_SECS.  The
 * connection's first packet uses its pass element up; if its state then
 * goes before the connection is up (the SYN met an old TIME_WAIT of
 * the same addresses and ports at the server, was answered with an ACK
 * and reset by the client; or was dropped after our chain, before the
 * kernel confirmed its state), the client's own retransmissions, from
 * the same address and port, still pass.  Another connection (another
 * source port) does not.  Only the packet path adds to them; pfhelper
 * never does.
 */
static const char *
retry_name(int af)
{
	return (af == AF_INET6 ? "retry6" : "retry4");
}

static uint32_t
retry_id(int af)
{
	return (set_id(FE_TPASS, AF_INET6) + 1 + (af == AF_INET6));
}

/*
 * Batch: NFNL_MSG_BATCH_BEGIN, messages, NFNL_MSG_BATCH_END in one
 * buffer, one sendmsg.  libnftnl writes without bounds checks, so every
 * message reserves its worst case first.
 */
static int
batch_reserve(struct batch *b, size_t need)
{
	size_t	 ncap;
	char	*p;

	if (b->len + need <= b->cap)
		return (0);
	ncap = b->cap ? b->cap : 16384;
	while (ncap < b->len + need)
		ncap *= 2;
	if ((p = realloc(b->buf, ncap)) == NULL)
		return (-1);
	memset(p + b->cap, 0, ncap - b->cap);	/* attribute padding */
	b->buf = p;
	b->cap = ncap;
	return (0);
}

static int
batch_start(struct batch *b)
{
	b->len = 0;
	b->nmsg = 0;
	b->err = 0;
	if (batch_reserve(b, MSG_SPACE) == -1)
		return (-1);
	b->seq0 = b->f->seq++;
	batch_put(b, nftnl_batch_begin(b->buf, b->seq0));
	return (0);
}

/* Start a message of nftables type `type'; `op' is the first op in it. */
static struct nlmsghdr *
batch_msg(struct batch *b, uint16_t type, uint16_t flags, size_t need,
    int op)
{
	struct bmsg	*m;
	size_t		 ncap;

	if (batch_reserve(b, need + MSG_SPACE) == -1)
		return (NULL);
	if (b->nmsg == b->msgcap) {
		ncap = b->msgcap ? b->msgcap * 2 : 64;
		if ((m = reallocarray(b->msg, ncap, sizeof(*m))) == NULL)
			return (NULL);
		b->msg = m;
		b->msgcap = ncap;
	}
	b->msg[b->nmsg].op = op;
	b->msg[b->nmsg].err = 0;
	b->nmsg++;
	b->lastoff = b->len;
	return (nftnl_nlmsg_build_hdr(b->buf + b->len, type, NFPROTO_INET,
	    flags, b->f->seq++));
}

static void
batch_put(struct batch *b, struct nlmsghdr *nlh)
{
	b->len += NLMSG_ALIGN(nlh->nlmsg_len);
}

/*
 * Send the batch and read the kernel's answers: an error for each
 * message that failed, and an ack for the last one (NLM_F_ACK), which
 * comes last.  0 if the kernel answered (per-message errors are in
 * b->msg[].err), -1 with errno if it could not be asked.
 */
static int
batch_send(struct batch *b)
{
	struct filter	*f = b->f;
	struct nlmsghdr	*last;
	ssize_t		 n;
	int		 done = 0;

	if (b->nmsg == 0)
		return (0);
	if (batch_reserve(b, MSG_SPACE) == -1)
		return (-1);
	last = (struct nlmsghdr *)(b->buf + b->lastoff);
	last->nlmsg_flags |= NLM_F_ACK;
	batch_put(b, nftnl_batch_end(b->buf + b->len, f->seq++));
	if (mnl_socket_sendto(f->nl, b->buf, b->len) == -1)
		return (-1);
	while (!done) {
		n = mnl_socket_recvfrom(f->nl, f->rbuf, sizeof(f->rbuf));
		if (n == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				errno = ETIMEDOUT;
			log_warn("filter: netlink reply");
			return (-1);
		}
		batch_reply(b, f->rbuf, (size_t)n, &done);
	}
	return (0);
}

static void
batch_reply(struct batch *b, const char *buf, size_t len, int *done)
{
	const struct nlmsghdr	*nlh = (const struct nlmsghdr *)buf;
	const struct nlmsgerr	*e;
	uint32_t		 i, last = b->seq0 + (uint32_t)b->nmsg;
	int			 n = (int)len;

	for (; mnl_nlmsg_ok(nlh, n); nlh = mnl_nlmsg_next(nlh, &n)) {
		if (nlh->nlmsg_type != NLMSG_ERROR ||
		    nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
			continue;
		e = mnl_nlmsg_get_payload(nlh);
		i = nlh->nlmsg_seq - b->seq0;	/* 0: the batch itself */
		if (i > b->nmsg)
			continue;		/* from an earlier batch */
		if (i == 0) {
			/* The batch as a whole failed (e.g. at commit). */
			if (e->error == 0)
				continue;
			b->err = -e->error;
			*done = 1;
			return;
		}
		if (e->error != 0)
			b->msg[i - 1].err = -e->error;
		if (nlh->nlmsg_seq == last)
			*done = 1;
	}
}

static int
q_table(struct batch *b, const struct filter_conf *conf)
{
	struct nftnl_table	*t;
	struct nlmsghdr		*nlh;

	if ((t = nftnl_table_alloc()) == NULL)
		return (-1);
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, conf->table);
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_INET);
	nftnl_table_set_u32(t, NFTNL_TABLE_FLAGS, NFT_TABLE_F_OWNER);
	nlh = batch_msg(b, NFT_MSG_NEWTABLE, NLM_F_CREATE | NLM_F_EXCL,
	    MSG_SPACE, -1);
	if (nlh != NULL) {
		nftnl_table_nlmsg_build_payload(nlh, t);
		batch_put(b, nlh);
	}
	nftnl_table_free(t);
	return (nlh == NULL ? -1 : 0);
}

/*
 * A map or set: key saddr . daddr . inet_proto . inet_service, or
 * saddr . daddr for the range permits' (is_range).
 */
static int
q_set(struct batch *b, enum filter_map map, int af, uint32_t id)
{
	struct nftnl_set	*s;
	uint32_t		 at, kt, klen;
	int			 addr_only = map == FE_SNAT || is_range(map);

	at = af == AF_INET ? TYPE_IPADDR : TYPE_IP6ADDR;
	kt = (((at << TYPE_BITS | at) << TYPE_BITS) | TYPE_INET_PROTO) <<
	    TYPE_BITS | TYPE_INET_SERV;
	klen = 2 * af_addr_len(af) + 8;
	if (is_range(map)) {
		kt = at << TYPE_BITS | at;
		klen = 2 * af_addr_len(af);
	}
	if ((s = set_new(b, set_name(map, af), id, kt, klen)) == NULL)
		return (-1);
	if (map == FE_PASS) {	/* deleted from the packet path */
		nftnl_set_set_u32(s, NFTNL_SET_FLAGS,
		    NFT_SET_TIMEOUT | NFT_SET_EVAL);
		nftnl_set_set_u32(s, NFTNL_SET_DESC_SIZE, FILTER_PASS_MAX);
	} else if (map == FE_TPASS)
		nftnl_set_set_u32(s, NFTNL_SET_FLAGS, NFT_SET_TIMEOUT);
	else {
		nftnl_set_set_u32(s, NFTNL_SET_FLAGS,
		    NFT_SET_TIMEOUT | NFT_SET_MAP);
		nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE, addr_only ?
		    at : at << TYPE_BITS | TYPE_INET_SERV);
		nftnl_set_set_u32(s, NFTNL_SET_DATA_LEN, addr_only ?
		    af_addr_len(af) : af_addr_len(af) + 4);
	}
	return (set_put(b, s));
}

/* A set of the table being built, its name, id and key; or NULL. */
static struct nftnl_set *
set_new(struct batch *b, const char *name, uint32_t id, uint32_t kt,
    uint32_t klen)
{
	struct nftnl_set	*s;

	if ((s = nftnl_set_alloc()) == NULL)
		return (NULL);
	nftnl_set_set_str(s, NFTNL_SET_TABLE, b->f->table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, name);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	nftnl_set_set_u32(s, NFTNL_SET_ID, id);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, kt);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, klen);
	return (s);
}

/* Queue the set's creation and free it. */
static int
set_put(struct batch *b, struct nftnl_set *s)
{
	struct nlmsghdr	*nlh;

	nlh = batch_msg(b, NFT_MSG_NEWSET, NLM_F_CREATE | NLM_F_EXCL,
	    MSG_SPACE, -1);
	if (nlh != NULL) {
		nftnl_set_nlmsg_build_payload(nlh, s);
		batch_put(b, nlh);
	}
	nftnl_set_free(s);
	return (nlh == NULL ? -1 : 0);
}

/*
 * A retry set: key saddr . daddr . inet_proto . inet_service (dport) .
 * inet_service (sport), added to from the packet path.
 */
static int
q_retry_set(struct batch *b, int af)
{
	struct nftnl_set	*s;
	uint32_t		 at, kt;

	at = af == AF_INET ? TYPE_IPADDR : TYPE_IP6ADDR;
	kt = ((((at << TYPE_BITS | at) << TYPE_BITS) | TYPE_INET_PROTO) <<
	    TYPE_BITS | TYPE_INET_SERV) << TYPE_BITS | TYPE_INET_SERV;
	if ((s = set_new(b, retry_name(af), retry_id(af), kt,
	    2 * af_addr_len(af) + 12)) == NULL)
		return (-1);
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, NFT_SET_TIMEOUT | NFT_SET_EVAL);
	nftnl_set_set_u32(s, NFTNL_SET_DESC_SIZE, FILTER_PASS_MAX);
	return (set_put(b, s));
}

static int
q_chain(struct batch *b, const char *name, const char *type,
    uint32_t hook, int32_t prio)
{
	struct nftnl_chain	*c;
	struct nlmsghdr		*nlh;

	if ((c = nftnl_chain_alloc()) == NULL)
		return (-1);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, b->f->table);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, NFPROTO_INET);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, type);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, hook);
	nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, prio);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	nlh = batch_msg(b, NFT_MSG_NEWCHAIN, NLM_F_CREATE | NLM_F_EXCL,
	    MSG_SPACE, -1);
	if (nlh != NULL) {
		nftnl_chain_nlmsg_build_payload(nlh, c);
		batch_put(b, nlh);
	}
	nftnl_chain_free(c);
	return (nlh == NULL ? -1 : 0);
}

/* Queue the rule and free it. */
static int
q_rule(struct batch *b, struct nftnl_rule *r)
{
	struct nlmsghdr	*nlh;

	nlh = batch_msg(b, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND,
	    MSG_SPACE, -1);
	if (nlh != NULL) {
		nftnl_rule_nlmsg_build_payload(nlh, r);
		batch_put(b, nlh);
	}
	nftnl_rule_free(r);
	return (nlh == NULL ? -1 : 0);
}

/* A new expression, already owned by the rule (freed with it). */
static struct nftnl_expr *
rexpr(struct nftnl_rule *r, const char *name)
{
	struct nftnl_expr	*e;

	if ((e = nftnl_expr_alloc(name)) != NULL)
		nftnl_rule_add_expr(r, e);
	return (e);
}

static int
x_payload(struct nftnl_rule *r, uint32_t base, uint32_t off, uint32_t len,
    uint32_t dreg)
{
	struct nftnl_expr	*e;

	if ((e = rexpr(r, "payload")) == NULL)
		return (-1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, off);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, dreg);
	return (0);
}

/*
 * meta nfproto == af; then the key into NFT_REG32_00...:
 * ip[6] saddr . ip[6] daddr . meta l4proto . th dport.
 */
static int
x_key(struct nftnl_rule *r, int af)
{
	struct nftnl_expr	*e;
	uint32_t		 w = af_addr_len(af) / 4, soff, doff;
	uint8_t			 nfproto = af == AF_INET ? NFPROTO_IPV4 :
				    NFPROTO_IPV6;

	soff = af == AF_INET ? 12 : 8;
	doff = af == AF_INET ? 16 : 24;
	if ((e = rexpr(r, "meta")) == NULL)
		return (-1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, NFT_META_NFPROTO);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
	if ((e = rexpr(r, "cmp")) == NULL)
		return (-1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, NFT_CMP_EQ);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, &nfproto, sizeof(nfproto));
	if (x_payload(r, NFT_PAYLOAD_NETWORK_HEADER, soff, af_addr_len(af),
	    NFT_REG32_00) == -1 ||
	    x_payload(r, NFT_PAYLOAD_NETWORK_HEADER, doff, af_addr_len(af),
	    NFT_REG32_00 + w) == -1)
		return (-1);
	if ((e = rexpr(r, "meta")) == NULL)
		return (-1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, NFT_META_L4PROTO);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG32_00 + 2 * w);
	return (x_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2,
	    NFT_REG32_00 + 2 * w + 1));
}

/* th sport, right after the key (x_key): the retry sets' key. */
static int
x_sport(struct nftnl_rule *r, int af)
{
	return (x_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 2,
	    NFT_REG32_00 + 2 * (af_addr_len(af) / 4) + 2));
}

/* Look the key up in a set; a map's value goes to NFT_REG32_00... */
static int
x_lookup(struct nftnl_rule *r, const char *set, uint32_t id, int map)
{
	struct nftnl_expr	*e;

	if ((e = rexpr(r, "lookup")) == NULL)
		return (-1);
	nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, set);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, id);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG32_00);
	if (map)
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_DREG, NFT_REG32_00);
	return (0);
}

/* dnat/snat ip[6] to the address (and port) the lookup left. */
static int
x_nat(struct nftnl_rule *r, uint32_t type, int af, int port)
{
	struct nftnl_expr	*e;

	if ((e = rexpr(r, "nat")) == NULL)
		return (-1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_TYPE, type);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FAMILY,
	    af == AF_INET ? NFPROTO_IPV4 : NFPROTO_IPV6);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN, NFT_REG32_00);
	if (port)
		nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_PROTO_MIN,
		    NFT_REG32_00 + af_addr_len(af) / 4);
	return (0);
}

/*
 * ct state new, key in @passN: delete it from the set (single use), set
 * the mark bit on the connection, so that its later packets (SYN
 * retransmits while its state lives, UDP before a reply) pass the
 * admin's `ct mark' line, and add key . th sport to @retryN (the retry
 * sets, above: retransmits once its state is gone).  The lookup leaves
 * the key registers alone; the dynsets reuse them.
 */
static int
x_pass(struct nftnl_rule *r, const struct filter_conf *conf, int af)
{
	const char	*set = set_name(FE_PASS, af);

	if (x_ctnew(r) == -1 || x_key(r, af) == -1 ||
	    x_lookup(r, set, set_id(FE_PASS, af), 0) == -1 ||
	    x_dynset(r, set, set_id(FE_PASS, af), NFT_DYNSET_OP_DELETE,
	    0) == -1)
		return (-1);
	/*
	 * The mark first: a full retry set stops the rule at its add, and
	 * the connection must pass all the same.  The key is still loaded
	 * (REG_MARK).
	 */
	if (x_marks(r, conf) == -1 || x_sport(r, af) == -1)
		return (-1);
	return (x_dynset(r, retry_name(af), retry_id(af), NFT_DYNSET_OP_ADD,
	    (uint64_t)FILTER_RETRY_SECS * 1000));
}

/*
 * The key in NFT_REG32_00 on, deleted from or added to a set (op), with
 * timeout ms if not 0, from the packet path.
 */
static int
x_dynset(struct nftnl_rule *r, const char *set, uint32_t id, uint32_t op,
    uint64_t ms)
{
	struct nftnl_expr	*e;

	if ((e = rexpr(r, "dynset")) == NULL)
		return (-1);
	nftnl_expr_set_str(e, NFTNL_EXPR_DYNSET_SET_NAME, set);
	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_SET_ID, id);
	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_OP, op);
	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_SREG_KEY, NFT_REG32_00);
	if (ms != 0)
		nftnl_expr_set_u64(e, NFTNL_EXPR_DYNSET_TIMEOUT, ms);
	return (0);
}

/*
 * ct state new, key . th sport in @retryN: a retransmission of a
 * connection its pass element let in (the retry sets, above).
 */
static int
r_retry(struct batch *b, const struct filter_conf *conf, int af)
{
	struct nftnl_rule	*r;
	int			 rc;

	if ((r = rule_new(b, "pass")) == NULL)
		return (-1);
	rc = (x_ctnew(r) == -1 || x_key(r, af) == -1 ||
	    x_sport(r, af) == -1 ||
	    x_lookup(r, retry_name(af), retry_id(af), 0) == -1 ||
	    x_marks(r, conf) == -1) ? -1 : 0;
	return (rule_done(b, r, rc));
}

/* ct state new */
static int
x_ctnew(struct nftnl_rule *r)
{
	struct nftnl_expr	*e;
	uint32_t		 v = NF_CT_STATE_BIT(IP_CT_NEW), zero = 0;

	if ((e = rexpr(r, "ct")) == NULL)
		return (-1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_STATE);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	if ((e = rexpr(r, "bitwise")) == NULL)
		return (-1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, sizeof(v));
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, &v, sizeof(v));
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, &zero, sizeof(zero));
	if ((e = rexpr(r, "cmp")) == NULL)
		return (-1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, NFT_CMP_NEQ);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, &zero, sizeof(zero));
	return (0);
}

/* What a permitted connection gets: log, the mark bit, the label. */
static int
x_marks(struct nftnl_rule *r, const struct filter_conf *conf)
{
	struct nftnl_expr	*e;
	uint32_t		 mask = ~conf->mark;
	char			 prefix[FILTER_TABLE_MAX + 16];

	if (conf->log) {
		if ((e = rexpr(r, "log")) == NULL)
			return (-1);
		snprintf(prefix, sizeof(prefix), "%s permit ", conf->table);
		nftnl_expr_set_str(e, NFTNL_EXPR_LOG_PREFIX, prefix);
	}
	if ((e = rexpr(r, "ct")) == NULL)
		return (-1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_MARK);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, REG_MARK);
	if ((e = rexpr(r, "bitwise")) == NULL)
		return (-1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, REG_MARK);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, REG_MARK);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, sizeof(mask));
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, &mask, sizeof(mask));
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, &conf->mark,
	    sizeof(conf->mark));
	if ((e = rexpr(r, "ct")) == NULL)
		return (-1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_MARK);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_SREG, REG_MARK);
	return (conf->use_label ? x_label(r, conf->label) : 0);
}

/*
 * -T: ct label set N.  The kernel ORs the bits of the value into the
 * connection's labels (nf_connlabels_replace with value as mask).
 */
static int
x_label(struct nftnl_rule *r, int label)
{
	struct nftnl_expr	*e;
	uint32_t		 bits[4] = { 0, 0, 0, 0 };

	bits[label / 32] = 1U << (label % 32);
	if ((e = rexpr(r, "immediate")) == NULL)
		return (-1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, REG_MARK);
	nftnl_expr_set(e, NFTNL_EXPR_IMM_DATA, bits, sizeof(bits));
	if ((e = rexpr(r, "ct")) == NULL)
		return (-1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_LABELS);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_SREG, REG_MARK);
	return (0);
}

/*
 * -q: every packet of a permitted connection (our mark bit set) gets
 * meta priority set major:minor, for the admin's tc classes.  One rule
 * for both families, after the pass rules that set the mark.
 */
static int
r_prio(struct batch *b, const struct filter_conf *conf)
{
	struct nftnl_rule	*r;
	struct nftnl_expr	*e;
	uint32_t		 zero = 0;

	if ((r = nftnl_rule_alloc()) == NULL)
		return (-1);
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, b->f->table);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, "pass");
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	if ((e = rexpr(r, "ct")) == NULL)
		goto fail;
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_MARK);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	if ((e = rexpr(r, "bitwise")) == NULL)
		goto fail;
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, sizeof(conf->mark));
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, &conf->mark,
	    sizeof(conf->mark));
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, &zero, sizeof(zero));
	if ((e = rexpr(r, "cmp")) == NULL)
		goto fail;
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, NFT_CMP_EQ);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, &conf->mark,
	    sizeof(conf->mark));
	if ((e = rexpr(r, "immediate")) == NULL)
		goto fail;
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DATA, conf->prio);
	if ((e = rexpr(r, "meta")) == NULL)
		goto fail;
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, NFT_META_PRIORITY);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_SREG, NFT_REG_1);
	return (q_rule(b, r));
fail:
	nftnl_rule_free(r);
	return (-1);
}

/* A rule for chain `chain' of the table being built, or NULL. */
static struct nftnl_rule *
rule_new(struct batch *b, const char *chain)
{
	struct nftnl_rule	*r;

	if ((r = nftnl_rule_alloc()) == NULL)
		return (NULL);
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, b->f->table);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	return (r);
}

/* Queue the rule if it was built (rc 0), and free it either way. */
static int
rule_done(struct batch *b, struct nftnl_rule *r, int rc)
{
	if (rc == -1) {
		nftnl_rule_free(r);
		return (-1);
	}
	return (q_rule(b, r));
}

/* One rule of chain `chain' for map `map' and family af. */
static int
r_build(struct batch *b, const struct filter_conf *conf, int af,
    const char *chain, enum filter_map map)
{
	struct nftnl_rule	*r;
	int			 rc;

	if ((r = rule_new(b, chain)) == NULL)
		return (-1);
	if (map == FE_PASS)
		rc = x_pass(r, conf, af);
	else
		rc = (x_key(r, af) == -1 ||
		    x_lookup(r, set_name(map, af), set_id(map, af), 1) == -1 ||
		    x_nat(r, map == FE_RDR ? NFT_NAT_DNAT : NFT_NAT_SNAT, af,
		    map != FE_SNAT) == -1) ? -1 : 0;
	return (rule_done(b, r, rc));
}

/*
 * meta nfproto == af, meta l4proto tcp, th dport in the table's range;
 * then the key ip[6] saddr . ip[6] daddr into NFT_REG32_00...
 */
static int
x_tkey(struct nftnl_rule *r, const struct filter_conf *conf, int af)
{
	struct nftnl_expr	*e;
	uint32_t		 w = af_addr_len(af) / 4;
	uint16_t		 lo = htons(conf->tls_lo);
	uint16_t		 hi = htons(conf->tls_hi);
	uint8_t			 tcp = IPPROTO_TCP;
	uint8_t			 nfproto = af == AF_INET ? NFPROTO_IPV4 :
				    NFPROTO_IPV6;

	if (x_meta_cmp(r, NFT_META_NFPROTO, &nfproto, 1) == -1 ||
	    x_meta_cmp(r, NFT_META_L4PROTO, &tcp, 1) == -1 ||
	    x_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, NFT_REG_1) == -1)
		return (-1);
	if ((e = rexpr(r, "range")) == NULL)
		return (-1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_RANGE_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_RANGE_OP, NFT_RANGE_EQ);
	nftnl_expr_set(e, NFTNL_EXPR_RANGE_FROM_DATA, &lo, sizeof(lo));
	nftnl_expr_set(e, NFTNL_EXPR_RANGE_TO_DATA, &hi, sizeof(hi));
	return (x_payload(r, NFT_PAYLOAD_NETWORK_HEADER, af == AF_INET ? 12 : 8,
	    af_addr_len(af), NFT_REG32_00) == -1 ||
	    x_payload(r, NFT_PAYLOAD_NETWORK_HEADER, af == AF_INET ? 16 : 24,
	    af_addr_len(af), NFT_REG32_00 + w) == -1 ? -1 : 0);
}

/* The one rule of chain `chain' for range map `map' and family af. */
static int
r_range(struct batch *b, const struct filter_conf *conf, int af,
    const char *chain, enum filter_map map)
{
	struct nftnl_rule	*r;
	int			 rc;

	if ((r = rule_new(b, chain)) == NULL)
		return (-1);
	rc = map == FE_TPASS ? x_ctnew(r) : 0;
	if (rc == 0)
		rc = x_tkey(r, conf, af);
	if (rc == 0)
		rc = x_lookup(r, set_name(map, af), set_id(map, af),
		    map != FE_TPASS);
	if (rc == 0)
		rc = map == FE_TPASS ? x_marks(r, conf) : x_nat(r, map ==
		    FE_TRDR ? NFT_NAT_DNAT : NFT_NAT_SNAT, af, 0);
	return (rule_done(b, r, rc));
}

/* meta key == v, v of len bytes. */
static int
x_meta_cmp(struct nftnl_rule *r, uint32_t key, const void *v, size_t len)
{
	struct nftnl_expr	*e;

	if ((e = rexpr(r, "meta")) == NULL)
		return (-1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
	if ((e = rexpr(r, "cmp")) == NULL)
		return (-1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, NFT_CMP_EQ);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, v, len);
	return (0);
}

/* meta key == v (a 32-bit value: skuid, oif). */
static int
x_meta_eq(struct nftnl_rule *r, uint32_t key, uint32_t v)
{
	return (x_meta_cmp(r, key, &v, sizeof(v)));
}

/*
 * Chain confine: meta skuid uid fib daddr type local reject (lo 0), or
 * meta skuid uid oif lo reject (lo 1; lo is ifindex 1 in every netns).
 */
static int
r_confine(struct batch *b, uint32_t uid, int lo)
{
	struct nftnl_rule	*r;
	struct nftnl_expr	*e;
	uint32_t		 local = RTN_LOCAL;

	if ((r = nftnl_rule_alloc()) == NULL)
		return (-1);
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, b->f->table);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, "confine");
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	if (x_meta_eq(r, NFT_META_SKUID, uid) == -1)
		goto fail;
	if (lo) {
		if (x_meta_eq(r, NFT_META_OIF, 1) == -1)
			goto fail;
	} else {
		if ((e = rexpr(r, "fib")) == NULL)
			goto fail;
		nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_FLAGS, NFTA_FIB_F_DADDR);
		nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_RESULT,
		    NFT_FIB_RESULT_ADDRTYPE);
		nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_DREG, NFT_REG_1);
		if ((e = rexpr(r, "cmp")) == NULL)
			goto fail;
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, NFT_CMP_EQ);
		nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, &local, sizeof(local));
	}
	if ((e = rexpr(r, "reject")) == NULL)
		goto fail;
	nftnl_expr_set_u32(e, NFTNL_EXPR_REJECT_TYPE, NFT_REJECT_ICMPX_UNREACH);
	nftnl_expr_set_u8(e, NFTNL_EXPR_REJECT_CODE,
	    NFT_REJECT_ICMPX_PORT_UNREACH);
	return (q_rule(b, r));
 fail:
	nftnl_rule_free(r);
	return (-1);
}

static int
init_batch(struct filter *f, const struct filter_conf *conf)
{
	struct batch	*b = &f->b;
	size_t		 i;
	int		 off = PRIO_OFFSET, af, k, rc = 0;
	static const int afs[] = { AF_INET, AF_INET6 };

	if (batch_start(b) == -1 || q_table(b, conf) == -1)
		return (-1);
	for (k = 0; k < 2; k++) {
		for (i = 0; i < nitems(set_order); i++)
			rc |= q_set(b, set_order[i], afs[k],
			    set_id(set_order[i], afs[k]));
		rc |= q_retry_set(b, afs[k]);
	}
	rc |= q_chain(b, "rdr", "nat", NF_INET_PRE_ROUTING,
	    NF_IP_PRI_NAT_DST + off);
	rc |= q_chain(b, "nat", "nat", NF_INET_POST_ROUTING,
	    NF_IP_PRI_NAT_SRC + off);
	rc |= q_chain(b, "pass", "filter", NF_INET_FORWARD,
	    NF_IP_PRI_FILTER + off);
	if (conf->nconfine > 0)
		rc |= q_chain(b, "confine", "filter", NF_INET_LOCAL_OUT,
		    NF_IP_PRI_FILTER + off);
	for (k = 0; k < conf->nconfine && k < FILTER_CONFINE_MAX; k++) {
		rc |= r_confine(b, conf->confine_uid[k], 0);
		rc |= r_confine(b, conf->confine_uid[k], 1);
	}
	for (k = 0; k < 2 && rc == 0; k++) {
		af = afs[k];
		rc |= r_build(b, conf, af, "rdr", FE_RDR);
		rc |= r_build(b, conf, af, "nat", FE_SNAT);
		rc |= r_build(b, conf, af, "nat", FE_SNATP);
		rc |= r_build(b, conf, af, "pass", FE_PASS);
		rc |= r_retry(b, conf, af);
		if (conf->tls_lo == 0)
			continue;
		rc |= r_range(b, conf, af, "rdr", FE_TRDR);
		rc |= r_range(b, conf, af, "nat", FE_TSNAT);
		rc |= r_range(b, conf, af, "pass", FE_TPASS);
	}
	if (rc == 0 && conf->prio != 0)
		rc |= r_prio(b, conf);
	if (rc != 0)
		return (-1);
	if (batch_send(b) == -1)
		return (-1);
	for (i = 0; i < b->nmsg; i++)
		if (b->msg[i].err != 0 && b->err == 0)
			b->err = b->msg[i].err;
	if (b->err != 0) {
		errno = b->err;
		return (-1);
	}
	return (0);
}

/*
 * Does the kernel know NFT_MSG_DESTROYSETELEM (6.3)?  Destroy an element
 * that is not there: 0 if it does, EINVAL (unknown message) if not.
 */
static int
probe_destroy(struct filter *f)
{
	struct filter_elem	e;
	size_t			ngone;
	int			kerr, rc;

	memset(&e, 0, sizeof(e));
	e.map = FE_PASS;
	e.af = AF_INET;
	e.proto = IPPROTO_TCP;
	f->destroy = 1;
	if (queue(f, &e, 0) == -1)
		return (-1);
	rc = ops_send(f, &kerr, &ngone);
	f->nops = 0;
	f->destroy = kerr == 0;
#ifdef FILTER_TEST_HOOKS
	/*
	 * The test build (filtertool only, never bin/pfhelper): the path
	 * for kernels before 6.3.
	 */
	if (getenv("PFHELPER_NO_DESTROYSETELEM") != NULL)
		f->destroy = 0;
#endif
	return (rc);
}

/* Room for a full batch, and for an error about each of its messages. */
static void
sock_bufs(int fd)
{
	int	 sz = SOCK_BUF;

	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)) == -1)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) == -1)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
}

/* Another table on the socket filter_init() opened: its index, or -1. */
static int
filter_init_more(struct filter *f, const struct filter_conf *conf)
{
	if (f->ntables == FILTER_TABLES) {
		errno = ENOSPC;
		return (-1);
	}
	if (init_batch(f, conf) == -1) {
		log_warn("filter: cannot create table inet %s", f->table);
		return (-1);
	}
	strlcpy(f->tables[f->ntables], conf->table,
	    sizeof(f->tables[0]));
	return (f->ntables++);
}

int
filter_init(struct filter *f, const struct filter_conf *conf)
{
	int		 one = 1;
	struct timeval	 tv = { REPLY_TIMEOUT, 0 };

	if (conf->table[0] == '\0' || memchr(conf->table, '\0',
	    sizeof(conf->table)) == NULL || conf->mark == 0 ||
	    conf->tls_hi < conf->tls_lo ||
	    (conf->use_label && (conf->label < 0 ||
	    conf->label > CT_LABEL_MAX))) {
		errno = EINVAL;
		return (-1);
	}
	if (f->open) {
		errno = EBUSY;
		return (-1);
	}
	strlcpy(f->table, conf->table, sizeof(f->table));
	if (f->nl != NULL)
		return (filter_init_more(f, conf));
	if ((f->nl = mnl_socket_open(NETLINK_NETFILTER)) == NULL)
		return (-1);
	if (mnl_socket_bind(f->nl, 0, MNL_SOCKET_AUTOPID) == -1)
		goto fail;
	/* Errors carry only the header of the failed message. */
	mnl_socket_setsockopt(f->nl, NETLINK_CAP_ACK, &one, sizeof(one));
	sock_bufs(mnl_socket_get_fd(f->nl));
	if (setsockopt(mnl_socket_get_fd(f->nl), SOL_SOCKET, SO_RCVTIMEO,
	    &tv, sizeof(tv)) == -1)
		goto fail;
	f->seq = (uint32_t)time(NULL);
	if (init_batch(f, conf) == -1) {
		log_warn("filter: cannot create table inet %s", f->table);
		goto fail;
	}
	strlcpy(f->tables[0], conf->table, sizeof(f->tables[0]));
	f->ntables = 1;
	if (probe_destroy(f) == -1)
		goto fail;
	log_debug("filter: table inet %s, element deletes with %s", f->table,
	    f->destroy ? "DESTROYSETELEM" : "DELSETELEM");
	return (0);	/* the first table's index */
 fail:
	filter_reset(f);
	return (-1);
}

struct filter *
filter_new(void)
{
	struct filter	*f;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return (NULL);
	f->b.f = f;
	return (f);
}

/* Close the socket and forget every table: as filter_new() left it. */
static void
filter_reset(struct filter *f)
{
	int	 saved = errno;

	if (f->nl != NULL)
		mnl_socket_close(f->nl);
	f->nl = NULL;
	free(f->ops);
	free(f->b.buf);
	free(f->b.msg);
	memset(f, 0, sizeof(*f));
	f->b.f = f;
	errno = saved;
}

void
filter_close(struct filter *f)
{
	if (f == NULL)
		return;
	filter_reset(f);
	free(f);
}

static size_t
elem_key(const struct filter_elem *fe, uint8_t *k)
{
	size_t		 n = af_addr_len(fe->af);
	uint16_t	 port = htons(fe->dport);

	memset(k, 0, 2 * n + 8);
	memcpy(k, fe->saddr, n);
	memcpy(k + n, fe->daddr, n);
	if (is_range(fe->map))
		return (2 * n);
	k[2 * n] = fe->proto;
	memcpy(k + 2 * n + 4, &port, sizeof(port));
	return (2 * n + 8);
}

static size_t
elem_data(const struct filter_elem *fe, uint8_t *d)
{
	size_t		 n = af_addr_len(fe->af);
	uint16_t	 port = htons(fe->toport);

	memset(d, 0, n + 4);
	memcpy(d, fe->to, n);
	if (fe->map == FE_SNAT || is_range(fe->map))
		return (n);
	memcpy(d + n, &port, sizeof(port));
	return (n + 4);
}

/* One message for ops[first..first+count), all of one kind. */
static int
q_elems(struct batch *b, size_t first, size_t count)
{
	struct filter		*f = b->f;
	const struct op		*o = &f->ops[first];
	struct nftnl_set	*s;
	struct nftnl_set_elem	*e;
	struct nlmsghdr		*nlh = NULL;
	uint8_t			 buf[40];
	size_t			 i;
	uint16_t		 type, flags;

	type = o->timeout ? NFT_MSG_NEWSETELEM : f->destroy ?
	    MSG_DESTROYSETELEM : NFT_MSG_DELSETELEM;
	/* A shared element may be there already (with the same value). */
	flags = !o->timeout ? 0 : o->e.shared ? NLM_F_CREATE :
	    NLM_F_CREATE | NLM_F_EXCL;
	if ((s = nftnl_set_alloc()) == NULL)
		return (-1);
	nftnl_set_set_str(s, NFTNL_SET_TABLE, f->tables[o->e.table]);
	nftnl_set_set_str(s, NFTNL_SET_NAME, set_name(o->e.map, o->e.af));
	for (i = first; i < first + count; i++) {
		o = &f->ops[i];
		if (o->gone)
			continue;
		if ((e = nftnl_set_elem_alloc()) == NULL)
			goto out;
		nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, buf,
		    elem_key(&o->e, buf));
		if (o->timeout && o->e.map != FE_PASS &&
		    o->e.map != FE_TPASS)
			nftnl_set_elem_set(e, NFTNL_SET_ELEM_DATA, buf,
			    elem_data(&o->e, buf));
		if (o->timeout && o->timeout != FILTER_NO_TIMEOUT)
			nftnl_set_elem_set_u64(e, NFTNL_SET_ELEM_TIMEOUT,
			    o->timeout);
		nftnl_set_elem_add(s, e);
	}
	nlh = batch_msg(b, type, flags, count * ELEM_SPACE, (int)first);
	if (nlh != NULL) {
		nftnl_set_elems_nlmsg_build_payload(nlh, s);
		batch_put(b, nlh);
	}
 out:
	nftnl_set_free(s);
	return (nlh == NULL ? -1 : 0);
}

static int
same_kind(const struct op *a, const struct op *b)
{
	return ((a->timeout == 0) == (b->timeout == 0) &&
	    a->e.table == b->e.table &&
	    a->e.map == b->e.map && a->e.af == b->e.af &&
	    a->e.shared == b->e.shared);
}

/*
 * Send the queued ops as one batch.  -1 with errno if the kernel could
 * not be asked; else *kerr is the first error (0: applied), and, without
 * DESTROYSETELEM, deletes of missing elements are marked gone and
 * counted in *ngone (the kernel then aborted the batch).
 */
static int
ops_send(struct filter *f, int *kerr, size_t *ngone)
{
	struct batch	*b = &f->b;
	struct op	*o;
	size_t		 i, j, n, max;

	*kerr = 0;
	*ngone = 0;
	if (batch_start(b) == -1)
		return (-1);
	for (i = 0; i < f->nops; i = j) {
		o = &f->ops[i];
		j = i + 1;
		if (o->gone)
			continue;
		max = o->timeout == 0 && !f->destroy ? 1 : MSG_ELEMS;
		for (n = 1; j < f->nops && n < max &&
		    same_kind(o, &f->ops[j]); j++)
			n += !f->ops[j].gone;
		if (q_elems(b, i, j - i) == -1)
			return (-1);
	}
	if (b->nmsg == 0)
		return (0);
	if (batch_send(b) == -1)
		return (-1);
	*kerr = b->err;
	for (i = 0; i < b->nmsg; i++) {
		if (b->msg[i].err == 0)
			continue;
		o = &f->ops[b->msg[i].op];
		if (b->msg[i].err == ENOENT && o->timeout == 0 &&
		    !f->destroy) {
			o->gone = 1;
			(*ngone)++;
		} else if (*kerr == 0)
			*kerr = b->msg[i].err;
	}
	return (0);
}

static int
queue(struct filter *f, const struct filter_elem *e, uint32_t timeout)
{
	struct op	*o;
	size_t		 cap;

	if (f->nl == NULL || e->table >= f->ntables ||
	    e->map < FE_RDR || e->map > FE_TPASS ||
	    (e->af != AF_INET && e->af != AF_INET6) ||
	    (e->proto != IPPROTO_TCP && e->proto != IPPROTO_UDP)) {
		errno = EINVAL;
		return (-1);
	}
	if (f->nops == BATCH_OPS) {
		errno = E2BIG;
		return (-1);
	}
	if (f->ops == NULL) {
		cap = BATCH_OPS;
		if ((f->ops = calloc(cap, sizeof(*o))) == NULL)
			return (-1);
	}
	o = &f->ops[f->nops++];
	o->e = *e;
	o->timeout = timeout;
	o->gone = 0;
	return (0);
}

int
filter_begin(struct filter *f)
{
	if (f->nl == NULL) {
		errno = EINVAL;
		return (-1);
	}
	if (f->open) {
		errno = EBUSY;
		return (-1);
	}
	f->open = 1;
	f->nops = 0;
	return (0);
}

int
filter_add(struct filter *f, const struct filter_elem *e, uint32_t timeout_ms)
{
	if (!f->open || timeout_ms == 0) {
		errno = EINVAL;
		return (-1);
	}
	return (queue(f, e, timeout_ms));
}

int
filter_del(struct filter *f, const struct filter_elem *e)
{
	if (!f->open) {
		errno = EINVAL;
		return (-1);
	}
	return (queue(f, e, 0));
}

int
filter_commit(struct filter *f)
{
	size_t	 tries, ngone = 0;
	int	 kerr = 0, rc = 0;

	if (!f->open) {
		errno = EINVAL;
		return (-1);
	}
	/* Every round that only met missing deletes drops at least one. */
	for (tries = 0; tries <= f->nops; tries++)
		if ((rc = ops_send(f, &kerr, &ngone)) == -1 || kerr != 0 ||
		    ngone == 0)
			break;
	filter_rollback(f);
	if (rc == -1)
		return (-1);
	if (kerr != 0) {
		errno = kerr;
		return (-1);
	}
	return (0);
}

void
filter_rollback(struct filter *f)
{
	f->open = 0;
	f->nops = 0;
}

static void
describe_sets(FILE *fp, int af)
{
	const char	*a = af == AF_INET ? "ipv4_addr" : "ipv6_addr";
	int		 v = af == AF_INET ? 4 : 6;

	fprintf(fp, "\tmap rdr%d {\n"
	    "\t\ttype %s . %s . inet_proto . inet_service : %s . inet_service\n"
	    "\t\tflags timeout\n\t}\n\n", v, a, a, a);
	fprintf(fp, "\tmap snat%d {\n"
	    "\t\ttype %s . %s . inet_proto . inet_service : %s\n"
	    "\t\tflags timeout\n\t}\n\n", v, a, a, a);
	fprintf(fp, "\tmap snatp%d {\n"
	    "\t\ttype %s . %s . inet_proto . inet_service : %s . inet_service\n"
	    "\t\tflags timeout\n\t}\n\n", v, a, a, a);
	fprintf(fp, "\tset pass%d {\n"
	    "\t\ttype %s . %s . inet_proto . inet_service\n"
	    "\t\tsize %u\n"
	    "\t\tflags dynamic,timeout\n\t}\n\n", v, a, a, FILTER_PASS_MAX);
	fprintf(fp, "\tmap trdr%d {\n\t\ttype %s . %s : %s\n"
	    "\t\tflags timeout\n\t}\n\n", v, a, a, a);
	fprintf(fp, "\tmap tsnat%d {\n\t\ttype %s . %s : %s\n"
	    "\t\tflags timeout\n\t}\n\n", v, a, a, a);
	fprintf(fp, "\tset tpass%d {\n\t\ttype %s . %s\n"
	    "\t\tflags timeout\n\t}\n\n", v, a, a);
	fprintf(fp, "\tset retry%d {\n"
	    "\t\ttype %s . %s . inet_proto . inet_service . inet_service\n"
	    "\t\tsize %u\n"
	    "\t\tflags dynamic,timeout\n\t}\n\n", v, a, a, FILTER_PASS_MAX);
}

/* The range permits' rule of a chain (-E), for family index k. */
static void
describe_range(FILE *fp, const struct filter_conf *conf, int chain, int k)
{
	const char	*ip = k ? "ip6" : "ip";
	int		 v = k ? 6 : 4;

	if (conf->tls_lo == 0)
		return;
	/* As nft prints it: "ip saddr" implies meta nfproto. */
	fprintf(fp, "\t\t%stcp dport %u-%u ", chain == 2 ? "ct state new " :
	    "", conf->tls_lo, conf->tls_hi);
	if (chain == 0)
		fprintf(fp, "dnat %s to %s saddr . %s daddr map @trdr%d\n",
		    ip, ip, ip, v);
	else if (chain == 1)
		fprintf(fp, "snat %s to %s saddr . %s daddr map @tsnat%d\n",
		    ip, ip, ip, v);
	else {
		fprintf(fp, "%s saddr . %s daddr @tpass%d", ip, ip, v);
		if (conf->log)
			fprintf(fp, " log prefix \"%s permit \"", conf->table);
		fprintf(fp, " ct mark set ct mark | 0x%08x", conf->mark);
		if (conf->use_label)
			fprintf(fp, " ct label set %d", conf->label);
		fprintf(fp, "\n");
	}
}

/* What x_marks() does, as nft prints it. */
static void
describe_marks(FILE *fp, const struct filter_conf *conf)
{
	if (conf->log)
		fprintf(fp, " log prefix \"%s permit \"", conf->table);
	fprintf(fp, " ct mark set ct mark | 0x%08x", conf->mark);
	if (conf->use_label)
		fprintf(fp, " ct label set %d", conf->label);
}

static void
describe_rules(FILE *fp, const struct filter_conf *conf, int chain)
{
	const char	*ip[2] = { "ip", "ip6" };
	char		 key[2][80], cls[16];
	int		 k;

	for (k = 0; k < 2; k++)
		snprintf(key[k], sizeof(key[k]), "%s saddr . %s daddr . "
		    "meta l4proto . th dport", ip[k], ip[k]);
	for (k = 0; k < 2; k++) {
		if (chain == 0)
			fprintf(fp, "\t\tdnat %s to %s map @rdr%d\n",
			    ip[k], key[k], k ? 6 : 4);
		else if (chain == 1)
			fprintf(fp, "\t\tsnat %s to %s map @snat%d\n"
			    "\t\tsnat %s to %s map @snatp%d\n", ip[k], key[k],
			    k ? 6 : 4, ip[k], key[k], k ? 6 : 4);
		else {
			fprintf(fp, "\t\tct state new %s @pass%d "
			    "delete @pass%d { %s }", key[k], k ? 6 : 4,
			    k ? 6 : 4, key[k]);
			describe_marks(fp, conf);
			fprintf(fp, " add @retry%d { %s . th sport timeout "
			    "%ds }\n", k ? 6 : 4, key[k], FILTER_RETRY_SECS);
			fprintf(fp, "\t\tct state new %s . th sport @retry%d",
			    key[k], k ? 6 : 4);
			describe_marks(fp, conf);
			fprintf(fp, "\n");
		}
		describe_range(fp, conf, chain, k);
	}
	if (chain == 2 && conf->prio != 0) {
		tc_class_str(conf->prio, cls, sizeof(cls));
		fprintf(fp, "\t\tct mark & 0x%08x == 0x%08x meta priority "
		    "set %s\n", conf->mark, conf->mark, cls);
	}
}

/*
 * The table filter_init() creates, as `nft list table' would print it,
 * then the admin's line.  `flags owner' is printed as a comment: loaded
 * with nft -f, an owned table would vanish as soon as nft exits.
 */
void
filter_describe(FILE *fp, const struct filter_conf *conf)
{
	static const char *chains[3][3] = {
		{ "rdr", "nat hook prerouting", "dstnat" },
		{ "nat", "nat hook postrouting", "srcnat" },
		{ "pass", "filter hook forward", "filter" }
	};
	char	 cls[16];
	int	 i, off = PRIO_OFFSET;

	fprintf(fp, "table inet %s {\n"
	    "\t# flags owner: pfhelper owns this table; the kernel deletes\n"
	    "\t# it when pfhelper exits.\n", conf->table);
	describe_sets(fp, AF_INET);
	describe_sets(fp, AF_INET6);
	for (i = 0; i < 3; i++) {
		fprintf(fp, "\tchain %s {\n\t\ttype %s priority %s",
		    chains[i][0], chains[i][1], chains[i][2]);
		if (off != 0)
			fprintf(fp, " %c %d", off < 0 ? '-' : '+', abs(off));
		fprintf(fp, "; policy accept;\n");
		describe_rules(fp, conf, i);
		fprintf(fp, "\t}%s\n", i < 2 ? "\n" : "");
	}
	if (conf->nconfine > 0) {
		fprintf(fp, "\n\t# The front ends' uids: nothing to this "
		    "host's own addresses.\n\tchain confine {\n\t\ttype "
		    "filter hook output priority filter");
		if (off != 0)
			fprintf(fp, " %c %d", off < 0 ? '-' : '+', abs(off));
		fprintf(fp, "; policy accept;\n");
		for (i = 0; i < conf->nconfine && i < FILTER_CONFINE_MAX; i++)
			fprintf(fp, "\t\tmeta skuid %u fib daddr type local "
			    "reject\n\t\tmeta skuid %u oif \"lo\" reject\n",
			    conf->confine_uid[i], conf->confine_uid[i]);
		fprintf(fp, "\t}\n");
	}
	fprintf(fp, "}\n"
	    "# Permits are elements with timeouts; a pass element is used\n"
	    "# once and marks its connection.  Add this line to your forward\n"
	    "# chain, before anything that drops:\n"
	    "#\tct mark and 0x%08x == 0x%08x accept\n",
	    conf->mark, conf->mark);
	if (conf->use_label)
		fprintf(fp, "# Each permitted connection also carries ct label "
		    "%d (-T):\n#\tct label %d counter\n", conf->label,
		    conf->label);
	if (conf->prio != 0) {
		tc_class_str(conf->prio, cls, sizeof(cls));
		fprintf(fp, "# Their packets get meta priority %s (-q), "
		    "for tc class %s.\n", cls, cls);
	}
}
