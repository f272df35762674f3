/* SPDX-License-Identifier: ISC */
/*
 * text.h: text helpers of the pure parsers (no I/O, no globals).
 */
#ifndef TEXT_H
#define TEXT_H

#include <stddef.h>

/*
 * s[0..len) (not NUL-terminated) equals the NUL-terminated word,
 * ignoring ASCII case only (no locale): 1 or 0.
 */
int	mem_caseeq(const char *, size_t, const char *);

#endif /* TEXT_H */
