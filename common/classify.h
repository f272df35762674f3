/* SPDX-License-Identifier: ISC */
/*
 * classify.h: the Linux forms of OpenBSD ftp-proxy's -T tag and -q
 * queue, parsed the same way by ftp-proxy and pfhelper.
 */
#ifndef CLASSIFY_H
#define CLASSIFY_H

#include <stddef.h>
#include <stdint.h>

#define CT_LABEL_MAX	127	/* conntrack labels are bits 0-127 */
#define CT_LABEL_NONE	(-1)

/*
 * A conntrack label bit, "0" to "127" in decimal.  0 and sets *label,
 * or -1.
 */
int	ct_label_parse(const char *, int *);

/*
 * A tc class id "major:minor", each 0-ffff in hexadecimal as tc(8) and
 * nft(8) write them, into a meta priority value (major << 16 | minor).
 * 0:0 (none) and ffff:ffff (root) are refused: they classify nothing.
 * 0 and sets *prio, or -1.
 */
int	tc_class_parse(const char *, uint32_t *);

/* The "major:minor" text of a meta priority value, as nft prints it. */
int	tc_class_str(uint32_t, char *, size_t);

#endif /* CLASSIFY_H */
