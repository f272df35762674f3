/* SPDX-License-Identifier: ISC */
/*
 * hostaddr.c: this host's addresses from rtnetlink.  See hostaddr.h.
 *
 * The list is the kernel's RTM_GETADDR dump, then every RTM_NEWADDR
 * and RTM_DELADDR notification.  A full socket buffer (ENOBUFS: some
 * notification is lost) or a dump the kernel marks inconsistent
 * (NLM_F_DUMP_INTR) starts a new dump; each dump marks what it saw,
 * and what it did not see goes at its end.
 */
#include "compat.h"

#include <sys/socket.h>
#include <sys/syscall.h>
#include <netinet/in.h>
#include <linux/capability.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/if_addr.h>

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "hostaddr.h"
#include "log.h"

#define HA_BUFSIZE	65536		/* one read: a dump part or more */
#define HA_RCVBUF	(1024 * 1024)	/* notifications queued at most */
#define HA_READS	64		/* reads per hostaddr_read() */
#define HA_OPEN_WAIT	5000		/* ms for the first dump */

struct ha_ent {
	struct pfh_addr	addr;
	struct pfh_addr	brd;
	uint32_t	ifindex;
	uint8_t		prefixlen;
	unsigned int	gen;		/* the dump that last saw it */
};

/* The lookup index: every address and broadcast address, sorted. */
struct ha_key {
	struct pfh_addr	addr;		/* zero beyond its length */
	int		type;		/* NET_LOCAL, NET_BROADCAST */
};

struct hostaddr {
	int		 fd;
	uint32_t	 lastseq;
	uint32_t	 dumpseq;	/* of the dump under way, 0: none */
	int		 dumpintr;	/* it was interrupted */
	unsigned int	 gen;
	int		 ready;		/* a first dump is complete */
	struct ha_ent	*ent;
	size_t		 n, cap;
	struct ha_key	*idx;		/* rebuilt after a change */
	size_t		 nidx;
	int		 stale;
	char		*buf;
};

static int	 parse_addr(const unsigned char *, size_t, struct ha_msg *);
static int	 dump_start(struct hostaddr *);
static void	 apply(struct hostaddr *, const struct ha_msg *);
static void	 apply_new(struct hostaddr *, const struct ha_msg *);
static void	 apply_del(struct hostaddr *, const struct ha_msg *);
static void	 dump_done(struct hostaddr *, const struct ha_msg *);
static void	 note(const struct hostaddr *, const struct pfh_addr *,
		    const char *);
static ssize_t	 take(struct hostaddr *);
static int	 ro_socket(void);
static int	 key_cmp(const void *, const void *);
static void	 key_set(struct ha_key *, const struct pfh_addr *, int);
static int	 reindex(struct hostaddr *);

/* The attributes of an ifaddrmsg at p (len bytes, header included). */
static int
parse_addr(const unsigned char *p, size_t len, struct ha_msg *m)
{
	struct ifaddrmsg	ifa;
	struct rtattr		rta;
	struct pfh_addr		*to, local, address;
	size_t			off, alen;

	if (len < NLMSG_LENGTH(sizeof(ifa)))
		return (-1);
	memcpy(&ifa, p + NLMSG_HDRLEN, sizeof(ifa));
	if ((alen = af_addr_len(ifa.ifa_family)) == 0) {
		m->type = HA_MSG_OTHER;
		return (1);
	}
	m->ifindex = ifa.ifa_index;
	m->prefixlen = ifa.ifa_prefixlen;
	memset(&local, 0, sizeof(local));
	memset(&address, 0, sizeof(address));
	for (off = NLMSG_SPACE(sizeof(ifa)); off + sizeof(rta) <= len;
	    off += RTA_ALIGN(rta.rta_len)) {
		memcpy(&rta, p + off, sizeof(rta));
		if (rta.rta_len < sizeof(rta) || rta.rta_len > len - off)
			return (-1);
		if (rta.rta_type == IFA_LOCAL)
			to = &local;
		else if (rta.rta_type == IFA_ADDRESS)
			to = &address;
		else if (rta.rta_type == IFA_BROADCAST)
			to = &m->brd;
		else
			continue;
		if (rta.rta_len != RTA_LENGTH(alen))
			return (-1);
		to->af = ifa.ifa_family;
		memcpy(to->addr, p + off + RTA_LENGTH(0), alen);
	}
	/* IFA_LOCAL is ours; IFA_ADDRESS is too, but for a peer's. */
	m->addr = local.af != 0 ? local : address;
	return (m->addr.af != 0 ? 1 : -1);
}

int
hostaddr_parse(const void *buf, size_t len, size_t *off, struct ha_msg *m)
{
	const unsigned char	*p = (const unsigned char *)buf + *off;
	struct nlmsghdr		 nh;
	size_t			 left = len - *off;
	int32_t			 err;

	memset(m, 0, sizeof(*m));
	if (*off >= len)
		return (0);
	*off = len;	/* unless all is well */
	if (left < sizeof(nh))
		return (-1);
	memcpy(&nh, p, sizeof(nh));
	if (nh.nlmsg_len < sizeof(nh) || nh.nlmsg_len > left)
		return (-1);
	m->seq = nh.nlmsg_seq;
	m->intr = (nh.nlmsg_flags & NLM_F_DUMP_INTR) != 0;
	switch (nh.nlmsg_type) {
	case NLMSG_DONE:
		m->type = HA_MSG_DONE;
		break;
	case NLMSG_ERROR:
		if (nh.nlmsg_len < NLMSG_LENGTH(sizeof(err)))
			return (-1);
		memcpy(&err, p + NLMSG_HDRLEN, sizeof(err));
		m->type = HA_MSG_ERROR;
		m->error = err < 0 ? -err : err;
		break;
	case RTM_NEWADDR:
	case RTM_DELADDR:
		m->type = nh.nlmsg_type == RTM_NEWADDR ? HA_MSG_NEW :
		    HA_MSG_DEL;
		if (parse_addr(p, nh.nlmsg_len, m) == -1)
			return (-1);
		break;
	default:
		m->type = HA_MSG_OTHER;
		break;
	}
	*off = len - left + NLMSG_ALIGN(nh.nlmsg_len);
	if (*off > len)
		*off = len;
	return (1);
}

static void
note(const struct hostaddr *h, const struct pfh_addr *a, const char *what)
{
	char	buf[ADDR_STRLEN];

	if (h->ready)
		log_info("%s %s one of this host's addresses",
		    addr_str(a, buf, sizeof(buf)), what);
}

static void
apply_new(struct hostaddr *h, const struct ha_msg *m)
{
	struct ha_ent	*e, *ne;
	size_t		 i;

	for (i = 0; i < h->n; i++) {
		e = &h->ent[i];
		if (e->ifindex == m->ifindex && e->prefixlen ==
		    m->prefixlen && addr_eq(&e->addr, &m->addr)) {
			if (!addr_eq(&e->brd, &m->brd))
				h->stale = 1;
			e->brd = m->brd;
			e->gen = h->gen;
			return;
		}
	}
	if (h->n == h->cap) {
		ne = reallocarray(h->ent, h->cap ? h->cap * 2 : 16,
		    sizeof(*ne));
		if (ne == NULL) {
			log_warn("this host's addresses");
			return;
		}
		h->ent = ne;
		h->cap = h->cap ? h->cap * 2 : 16;
	}
	h->stale = 1;
	e = &h->ent[h->n++];
	e->addr = m->addr;
	e->brd = m->brd;
	e->ifindex = m->ifindex;
	e->prefixlen = m->prefixlen;
	e->gen = h->gen;
	note(h, &e->addr, "is now");
}

static void
apply_del(struct hostaddr *h, const struct ha_msg *m)
{
	struct ha_ent	*e;
	size_t		 i;

	for (i = 0; i < h->n; i++) {
		e = &h->ent[i];
		if (e->ifindex == m->ifindex && e->prefixlen ==
		    m->prefixlen && addr_eq(&e->addr, &m->addr)) {
			note(h, &e->addr, "is no longer");
			*e = h->ent[--h->n];
			h->stale = 1;
			return;
		}
	}
}

/* The end of our dump: what it did not see is gone. */
static void
dump_done(struct hostaddr *h, const struct ha_msg *m)
{
	size_t	i;

	if (m->seq != h->dumpseq || h->dumpseq == 0)
		return;
	h->dumpseq = 0;
	if (h->dumpintr) {
		(void)dump_start(h);
		return;
	}
	for (i = 0; i < h->n; )
		if (h->ent[i].gen != h->gen) {
			note(h, &h->ent[i].addr, "is no longer");
			h->ent[i] = h->ent[--h->n];
			h->stale = 1;
		} else
			i++;
	h->ready = 1;
}

static void
apply(struct hostaddr *h, const struct ha_msg *m)
{
	if (m->intr && m->seq == h->dumpseq)
		h->dumpintr = 1;
	switch (m->type) {
	case HA_MSG_NEW:
		apply_new(h, m);
		break;
	case HA_MSG_DEL:
		apply_del(h, m);
		break;
	case HA_MSG_DONE:
		dump_done(h, m);
		break;
	case HA_MSG_ERROR:
		if (m->error != 0 && m->seq == h->dumpseq && m->seq != 0) {
			log_warnx("address list: %s", strerror(m->error));
			h->dumpseq = 0;
		}
		break;
	}
}

static int
dump_start(struct hostaddr *h)
{
	struct {
		struct nlmsghdr		nh;
		struct ifaddrmsg	ifa;
	} req;
	struct sockaddr_nl	sa;

	memset(&req, 0, sizeof(req));
	memset(&sa, 0, sizeof(sa));
	sa.nl_family = AF_NETLINK;
	if (++h->lastseq == 0)
		h->lastseq = 1;
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(req.ifa));
	req.nh.nlmsg_type = RTM_GETADDR;
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.nh.nlmsg_seq = h->lastseq;
	req.ifa.ifa_family = AF_UNSPEC;
	if (sendto(h->fd, &req, req.nh.nlmsg_len, 0, (struct sockaddr *)&sa,
	    sizeof(sa)) == -1)
		return (-1);
	h->dumpseq = h->lastseq;
	h->dumpintr = 0;
	h->gen++;
	return (0);
}

/* One datagram from the kernel into h->buf: its size, 0, or -1. */
static ssize_t
take(struct hostaddr *h)
{
	struct sockaddr_nl	sa;
	socklen_t		salen;
	ssize_t			r;

	for (;;) {
		salen = sizeof(sa);
		r = recvfrom(h->fd, h->buf, HA_BUFSIZE, MSG_DONTWAIT,
		    (struct sockaddr *)&sa, &salen);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1 && errno == ENOBUFS) {
			log_info("address notifications lost: listing again");
			if (dump_start(h) == -1)
				return (-1);
			continue;
		}
		if (r > 0 && (salen < sizeof(sa) || sa.nl_pid != 0))
			continue;	/* not the kernel's */
		return (r == -1 && (errno == EAGAIN || errno ==
		    EWOULDBLOCK) ? 0 : r);
	}
}

void
hostaddr_feed(struct hostaddr *h, const void *buf, size_t len)
{
	struct ha_msg	m;
	size_t		off = 0;

	while (hostaddr_parse(buf, len, &off, &m) == 1)
		apply(h, &m);
}

int
hostaddr_read(struct hostaddr *h)
{
	ssize_t	r;
	int	i;

	if (h->fd == -1)
		return (0);
	for (i = 0; i < HA_READS; i++) {
		if ((r = take(h)) <= 0)
			return (r == 0 ? 0 : -1);
		hostaddr_feed(h, h->buf, (size_t)r);
	}
	return (0);
}

struct hostaddr *
hostaddr_new(void)
{
	struct hostaddr	*h;

	if ((h = calloc(1, sizeof(*h))) == NULL)
		return (NULL);
	h->fd = -1;
	h->stale = 1;
	if ((h->buf = malloc(HA_BUFSIZE)) == NULL) {
		free(h);
		return (NULL);
	}
	return (h);
}

/*
 * The kernel lets a netlink socket change routes and addresses only
 * if whoever opened it had CAP_NET_ADMIN then, and whoever sends has
 * it now.  pfhelper keeps that capability, so the socket is opened
 * with none in effect: it can list and listen, and never change a
 * thing, whoever holds it.
 */
static int
ro_socket(void)
{
	struct __user_cap_header_struct	hdr;
	struct __user_cap_data_struct	data[2], none[2];
	int				fd, saved;

	memset(&hdr, 0, sizeof(hdr));
	hdr.version = _LINUX_CAPABILITY_VERSION_3;
	if (syscall(SYS_capget, &hdr, data) == -1)
		return (-1);
	memcpy(none, data, sizeof(none));
	none[0].effective = none[1].effective = 0;
	if (syscall(SYS_capset, &hdr, none) == -1)
		return (-1);
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    NETLINK_ROUTE);
	saved = errno;
	if (syscall(SYS_capset, &hdr, data) == -1) {
		saved = errno;
		if (fd != -1)
			close(fd);
		fd = -1;
	}
	errno = saved;
	return (fd);
}

struct hostaddr *
hostaddr_open(void)
{
	struct hostaddr		*h;
	struct sockaddr_nl	 sa;
	struct pollfd		 pfd;
	int			 size = HA_RCVBUF, saved, i, r;

	if ((h = hostaddr_new()) == NULL)
		return (NULL);
	if ((h->fd = ro_socket()) == -1)
		goto fail;
	/* As root, past net.core.rmem_max; else what it allows. */
	if (setsockopt(h->fd, SOL_SOCKET, SO_RCVBUFFORCE, &size,
	    sizeof(size)) == -1)
		(void)setsockopt(h->fd, SOL_SOCKET, SO_RCVBUF, &size,
		    sizeof(size));
	memset(&sa, 0, sizeof(sa));
	sa.nl_family = AF_NETLINK;
	sa.nl_groups = RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR;
	if (bind(h->fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    dump_start(h) == -1)
		goto fail;
	pfd.fd = h->fd;
	pfd.events = POLLIN;
	for (i = 0; i < HA_READS; i++) {
		if (hostaddr_read(h) == -1)
			goto fail;
		if (h->ready || h->dumpseq == 0)
			break;	/* done, or the kernel refused it */
		if ((r = poll(&pfd, 1, HA_OPEN_WAIT)) <= 0)
			break;
	}
	if (h->ready)
		return (h);
	errno = ETIMEDOUT;
 fail:
	saved = errno;
	hostaddr_close(h);
	errno = saved;
	return (NULL);
}

void
hostaddr_close(struct hostaddr *h)
{
	if (h == NULL)
		return;
	if (h->fd != -1)
		close(h->fd);
	free(h->ent);
	free(h->idx);
	free(h->buf);
	free(h);
}

int
hostaddr_fd(const struct hostaddr *h)
{
	return (h->fd);
}

size_t
hostaddr_count(const struct hostaddr *h)
{
	return (h->n);
}

static void
key_set(struct ha_key *k, const struct pfh_addr *a, int type)
{
	memset(k, 0, sizeof(*k));
	k->addr.af = a->af;
	memcpy(k->addr.addr, a->addr, addr_len(a));
	k->type = type;
}

/* By address, then a local address before a broadcast one. */
static int
key_cmp(const void *a, const void *b)
{
	const struct ha_key	*x = a, *y = b;
	int			 c;

	if ((c = memcmp(&x->addr, &y->addr, sizeof(x->addr))) != 0)
		return (c);
	return (x->type - y->type);
}

static int
reindex(struct hostaddr *h)
{
	struct ha_key	*k;
	size_t		 i, n = 0;

	if ((k = reallocarray(h->idx, h->n ? h->n * 2 : 1,
	    sizeof(*k))) == NULL)
		return (-1);
	h->idx = k;
	for (i = 0; i < h->n; i++) {
		key_set(&k[n++], &h->ent[i].addr, NET_LOCAL);
		if (h->ent[i].brd.af != 0)
			key_set(&k[n++], &h->ent[i].brd, NET_BROADCAST);
	}
	qsort(k, n, sizeof(*k), key_cmp);
	h->nidx = n;
	h->stale = 0;
	return (0);
}

int
hostaddr_type(struct hostaddr *h, const struct pfh_addr *a)
{
	if (h == NULL)
		return (-1);
	(void)hostaddr_read(h);
	return (hostaddr_lookup(h, a));
}

int
hostaddr_lookup(struct hostaddr *h, const struct pfh_addr *a)
{
	static const uint8_t	 bcast[4] = { 255, 255, 255, 255 };
	static const uint8_t	 any[16];
	static const uint8_t	 lo6[16] = { [15] = 1 };
	const struct ha_ent	*e;
	struct ha_key		 key, *k;
	struct pfh_addr		 v4;
	struct in6_addr		 in6;
	size_t			 i, len;

	if (h == NULL)
		return (-1);
	if ((len = addr_len(a)) == 0)
		return (NET_REMOTE);
	/* a->addr has no alignment: the macro reads it as 32-bit words. */
	memcpy(&in6, a->addr, sizeof(in6));
	if (a->af == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&in6)) {
		memset(&v4, 0, sizeof(v4));
		v4.af = AF_INET;
		memcpy(v4.addr, a->addr + 12, 4);
		return (hostaddr_lookup(h, &v4));
	}
	if (memcmp(a->addr, any, len) == 0 || (a->af == AF_INET ?
	    a->addr[0] == 127 : memcmp(a->addr, lo6, 16) == 0))
		return (NET_LOCAL);
	if (a->af == AF_INET && memcmp(a->addr, bcast, 4) == 0)
		return (NET_BROADCAST);
	if (!h->stale || reindex(h) == 0) {
		/* The first of its keys: NET_LOCAL, if it is one. */
		key_set(&key, a, NET_LOCAL);
		if ((k = bsearch(&key, h->idx, h->nidx, sizeof(key),
		    key_cmp)) != NULL)
			return (k->type);
		key.type = NET_BROADCAST;
		return (bsearch(&key, h->idx, h->nidx, sizeof(key),
		    key_cmp) != NULL ? NET_BROADCAST : NET_REMOTE);
	}
	for (i = 0; i < h->n; i++) {	/* no memory for the index */
		e = &h->ent[i];
		if (addr_eq(&e->addr, a))
			return (NET_LOCAL);
		if (e->brd.af != 0 && addr_eq(&e->brd, a))
			return (NET_BROADCAST);
	}
	return (NET_REMOTE);
}
