/* SPDX-License-Identifier: ISC */
/*
 * check.h: what every unit test does with a result.  A check that
 * fails prints one line starting with FAIL; check_summary() prints the
 * last line, "N passed, M failed", that regress/run.sh reads, and
 * returns the exit status.
 */
#ifndef CHECK_H
#define CHECK_H

#include <stdarg.h>
#include <stddef.h>

/* Count ok; if it is 0, print "FAIL: what".  Returns ok. */
int		 check(int ok, const char *what);
/* The same with a printf(3) format: "FAIL: " and the text. */
int		 checkf(int ok, const char *fmt, ...)
		    __attribute__((__format__ (printf, 2, 3)));
int		 vcheckf(int ok, const char *fmt, va_list ap)
		    __attribute__((__format__ (printf, 2, 0)));
/* Print "N passed, M failed"; 0 if nothing failed, else 1. */
int		 check_summary(void);
/*
 * A printable form of len bytes (\xNN for the others, " and \ too), in
 * one of four static buffers: at most four uses in one printf.
 */
const char	*check_esc(const void *buf, size_t len);

#endif /* CHECK_H */
