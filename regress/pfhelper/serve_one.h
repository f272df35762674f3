/* SPDX-License-Identifier: ISC */
/*
 * serve_one.h: serve one peer with the fake packet filter (tests).
 */
#ifndef SERVE_ONE_H
#define SERVE_ONE_H

#include "pfhelper.h"

/* The fake filter when pfh_serve()'s peer went, before its teardown. */
struct serve_end {
	int	live;		/* fake_live */
	int	ncalls;		/* fake_ncalls */
	int	dels;		/* fake_count('d') */
};
extern struct serve_end	serve_end;

/* Serve one peer on fd until EOF (0) or a violation (-1), then free it. */
int	pfh_serve(int, const struct pfh_conf *);

#endif /* SERVE_ONE_H */
