/* SPDX-License-Identifier: ISC */
/*
 * backend.c: the choice of a server for each new session of ftp-proxy
 * -R: fewest active sessions first, ties in turn (round robin), and
 * servers that did not answer left aside until a try in the background
 * finds them answering again.  State in, choice out: no I/O here.
 */
#include "compat.h"

#include <errno.h>
#include <string.h>

#include "addr.h"
#include "backend.h"

int
backend_add(struct backend_set *set, const struct pfh_addr *a, uint16_t port)
{
	unsigned int	i;

	for (i = 0; i < set->n; i++)
		if (addr_eq(&set->b[i].addr, a) && set->b[i].port == port)
			return (1);
	if (set->n >= BACKEND_MAX) {
		errno = ENOSPC;
		return (-1);
	}
	memset(&set->b[set->n], 0, sizeof(set->b[set->n]));
	set->b[set->n].addr = *a;
	set->b[set->n].port = port;
	set->n++;
	return (0);
}

/* The best of the candidates up (or down): -1 if none. */
static int
pick_among(const struct backend_set *set, uint8_t af, uint32_t tried,
    int down)
{
	unsigned int	k, i;
	int		best = -1;

	for (k = 0; k < set->n; k++) {
		i = (set->next + k) % set->n;
		if (set->b[i].addr.af != af || (tried & (1U << i)) ||
		    set->b[i].down != down)
			continue;
		/* Strictly fewer: among equals the first in turn wins. */
		if (best == -1 || set->b[i].active < set->b[best].active)
			best = (int)i;
	}
	return (best);
}

int
backend_pick(struct backend_set *set, uint8_t af, uint32_t tried)
{
	int	i;

	if (set->n == 0)
		return (-1);
	if ((i = pick_among(set, af, tried, 0)) == -1 &&
	    (i = pick_among(set, af, tried, 1)) == -1)
		return (-1);
	set->b[i].active++;
	set->next = ((unsigned int)i + 1) % set->n;
	return (i);
}

void
backend_release(struct backend_set *set, int i)
{
	if (i >= 0 && (unsigned int)i < set->n && set->b[i].active > 0)
		set->b[i].active--;
}

int
backend_failed(struct backend_set *set, int i, double now)
{
	struct backend	*b;

	if (i < 0 || (unsigned int)i >= set->n)
		return (0);
	b = &set->b[i];
	b->retry_at = now + BACKEND_DOWN_SECS;
	if (b->down)
		return (0);
	b->down = 1;
	return (1);
}

int
backend_answered(struct backend_set *set, int i)
{
	if (i < 0 || (unsigned int)i >= set->n || !set->b[i].down)
		return (0);
	set->b[i].down = 0;
	return (1);
}

int
backend_due(struct backend_set *set, double now)
{
	unsigned int	i;

	for (i = 0; i < set->n; i++)
		if (set->b[i].down && set->b[i].retry_at <= now) {
			set->b[i].retry_at = now + BACKEND_DOWN_SECS;
			return ((int)i);
		}
	return (-1);
}

unsigned int
backend_ndown(const struct backend_set *set)
{
	unsigned int	i, n = 0;

	for (i = 0; i < set->n; i++)
		n += set->b[i].down != 0;
	return (n);
}
