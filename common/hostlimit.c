/* SPDX-License-Identifier: ISC */
/*
 * hostlimit.c: sessions per client host.  See hostlimit.h.
 */
#include "compat.h"

#include <sys/socket.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hostlimit.h"

static int	hl_cmp(const struct hl_host *, const struct hl_host *);
static int	hl_key(const struct pfh_addr *, struct hl_host *);

RB_PROTOTYPE_STATIC(hl_tree, hl_host, entry, hl_cmp)
RB_GENERATE_STATIC(hl_tree, hl_host, entry, hl_cmp)

static int
hl_cmp(const struct hl_host *a, const struct hl_host *b)
{
	if (a->af != b->af)
		return (a->af < b->af ? -1 : 1);
	return (memcmp(a->key, b->key, sizeof(a->key)));
}

/* The host of a: the whole IPv4 address, or the IPv6 /64. */
static int
hl_key(const struct pfh_addr *a, struct hl_host *h)
{
	memset(h, 0, sizeof(*h));
	h->af = a->af;
	if (a->af == AF_INET)
		memcpy(h->key, a->addr, 4);
	else if (a->af == AF_INET6)
		memcpy(h->key, a->addr, 8);
	else {
		errno = EAFNOSUPPORT;
		return (-1);
	}
	return (0);
}

uint32_t
hl_reserve_from(uint32_t max)
{
	return (max - (max + 3) / 4);
}

uint32_t
hl_share(uint32_t max, uint32_t nhosts)
{
	uint32_t	n = max / (nhosts + 1);

	return (n > 0 ? n : 1);
}

enum hl_verdict
hl_verdict(uint32_t max, uint32_t cap, uint32_t used, uint32_t held,
    uint32_t nhosts)
{
	if (cap != 0)
		return (held >= cap ? HL_CAP : HL_OK);
	if (used < hl_reserve_from(max))
		return (HL_OK);
	if (held == 0)
		nhosts++;
	return (held >= hl_share(max, nhosts) ? HL_SHARE : HL_OK);
}

void
hl_init(struct hl_table *t, uint32_t max, uint32_t cap)
{
	RB_INIT(&t->hosts);
	t->max = max > 0 ? max : 1;
	t->cap = cap;
	t->nhosts = 0;
	t->used = 0;
}

int
hl_add(struct hl_table *t, const struct pfh_addr *a)
{
	struct hl_host	 k, *h;
	enum hl_verdict	 v;

	if (hl_key(a, &k) == -1)
		return (-1);
	h = RB_FIND(hl_tree, &t->hosts, &k);
	v = hl_verdict(t->max, t->cap, t->used, h != NULL ? h->n : 0,
	    t->nhosts);
	if (v != HL_OK)
		return (v);
	if (h == NULL) {
		if ((h = malloc(sizeof(*h))) == NULL)
			return (-1);
		*h = k;
		h->n = 0;
		RB_INSERT(hl_tree, &t->hosts, h);
		t->nhosts++;
	}
	h->n++;
	t->used++;
	return (HL_OK);
}

void
hl_del(struct hl_table *t, const struct pfh_addr *a)
{
	struct hl_host	 k, *h;

	if (hl_key(a, &k) == -1 ||
	    (h = RB_FIND(hl_tree, &t->hosts, &k)) == NULL)
		return;
	t->used--;
	if (--h->n > 0)
		return;
	RB_REMOVE(hl_tree, &t->hosts, h);
	t->nhosts--;
	free(h);
}

uint32_t
hl_count(struct hl_table *t, const struct pfh_addr *a)
{
	struct hl_host	 k, *h;

	if (hl_key(a, &k) == -1)
		return (0);
	h = RB_FIND(hl_tree, &t->hosts, &k);
	return (h == NULL ? 0 : h->n);
}

void
hl_clear(struct hl_table *t)
{
	struct hl_host	*h, *next;

	RB_FOREACH_SAFE(h, hl_tree, &t->hosts, next) {
		RB_REMOVE(hl_tree, &t->hosts, h);
		free(h);
	}
	t->nhosts = 0;
	t->used = 0;
}
