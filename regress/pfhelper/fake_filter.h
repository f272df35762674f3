/* SPDX-License-Identifier: ISC */
/*
 * fake_filter.h: a backend for unit tests; it records every call.
 */
#ifndef FAKE_FILTER_H
#define FAKE_FILTER_H

#include "ct.h"
#include "filter.h"

#define FAKE_MAX	256

struct fake_call {
	char			op;	/* 'a' add, 'd' delete, 'c' commit */
	struct filter_elem	elem;
	uint32_t		timeout;
};

extern struct fake_call	fake_calls[FAKE_MAX];
extern int		fake_ncalls;
extern int		fake_commit_errno;	/* commit fails with this */
extern int		fake_ct_present;	/* ct_check_reply answer */
extern uint16_t		fake_ct_osport;		/* its port before NAT, 0: none */
extern int		fake_live;		/* elements added - deleted */
extern double		fake_now;		/* fake_clock's time */

double	fake_clock(void);	/* svc_clock(): no test sleeps */

void	fake_reset(void);
int	fake_count(char);

#endif /* FAKE_FILTER_H */
