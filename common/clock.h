/* SPDX-License-Identifier: ISC */
/*
 * clock.h: the one monotonic clock of the three programs, in seconds.
 * Code that keeps time takes it as a function (a clock_fn), so that a
 * test can hand it a fake one.
 */
#ifndef CLOCK_H
#define CLOCK_H

#include <time.h>

typedef double	(*clock_fn)(void);

static inline double
clock_mono(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec + ts.tv_nsec / 1e9);
}

#endif /* CLOCK_H */
