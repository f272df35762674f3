/* SPDX-License-Identifier: ISC */
/*
 * backend.h: the servers of ftp-proxy -R and which one a new session
 * goes to.  Pure state: no I/O, no clock; the caller passes the time.
 */
#ifndef BACKEND_H
#define BACKEND_H

#include <stdint.h>

#include "proto.h"

#define BACKEND_MAX		PFH_RSERVER_MAX	/* -R servers, names resolved */
#define BACKEND_DOWN_SECS	5	/* a down one is tried this often */

struct backend {
	struct pfh_addr	addr;
	uint16_t	port;
	int		down;
	uint32_t	active;		/* sessions it has now */
	double		retry_at;	/* down: when to try it again */
};

struct backend_set {
	struct backend	b[BACKEND_MAX];
	unsigned int	n;
	unsigned int	next;		/* ties go to the first from here */
};

/* 0 added, 1 already there, -1 full (errno ENOSPC). */
int	backend_add(struct backend_set *, const struct pfh_addr *, uint16_t);
/*
 * The backend for a new session of family af, not one of those in
 * tried (bit i: backend i): the up one with the fewest sessions, ties
 * in turn; with none up, a down one the same way.  Its count goes up.
 * -1 if there is none.
 */
int	backend_pick(struct backend_set *, uint8_t, uint32_t);
void	backend_release(struct backend_set *, int);
/* Did not answer (at time now): 1 if it was up until now, else 0. */
int	backend_failed(struct backend_set *, int, double);
/* Answered: 1 if it was down until now, else 0. */
int	backend_answered(struct backend_set *, int);
/*
 * A down backend due for a try in the background at time now, whose
 * next try is then BACKEND_DOWN_SECS away; -1 if none is due.
 */
int	backend_due(struct backend_set *, double);
/* How many are down. */
unsigned int backend_ndown(const struct backend_set *);

#endif /* BACKEND_H */
