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

void
hl_init(struct hl_table *t, uint32_t limit)
{
	RB_INIT(&t->hosts);
	t->limit = limit > 0 ? limit : 1;
	t->nhosts = 0;
}

int
hl_add(struct hl_table *t, const struct pfh_addr *a)
{
	struct hl_host	 k, *h;

	if (hl_key(a, &k) == -1)
		return (-1);
	if ((h = RB_FIND(hl_tree, &t->hosts, &k)) != NULL) {
		if (h->n >= t->limit) {
			errno = EUSERS;
			return (-1);
		}
		h->n++;
		return (0);
	}
	if ((h = malloc(sizeof(*h))) == NULL)
		return (-1);
	*h = k;
	h->n = 1;
	RB_INSERT(hl_tree, &t->hosts, h);
	t->nhosts++;
	return (0);
}

void
hl_del(struct hl_table *t, const struct pfh_addr *a)
{
	struct hl_host	 k, *h;

	if (hl_key(a, &k) == -1 ||
	    (h = RB_FIND(hl_tree, &t->hosts, &k)) == NULL)
		return;
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
}
