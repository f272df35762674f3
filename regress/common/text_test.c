/* SPDX-License-Identifier: ISC */
/*
 * text_test: mem_caseeq() compares a counted string with a word,
 * ignoring ASCII case and nothing else.
 */
#include "compat.h"

#include <stdio.h>
#include <string.h>

#include "check.h"
#include "text.h"

static const struct {
	const char	*s;
	size_t		 len;	/* (size_t)-1: strlen(s) */
	const char	*word;
	int		 want;
} cases[] = {
	{ "octet", -1, "octet", 1 },
	{ "OcTeT", -1, "octet", 1 },
	{ "EPSV", -1, "epsv", 1 },
	{ "all", -1, "ALL", 1 },
	{ "octets", 5, "octet", 1 },	/* only len bytes count */
	{ "octet", 4, "octet", 0 },	/* a prefix of the word */
	{ "octets", -1, "octet", 0 },	/* longer than the word */
	{ "", 0, "", 1 },
	{ "", 0, "a", 0 },
	{ "a", 1, "", 0 },
	{ "1", -1, "1", 1 },
	{ "2", -1, "1", 0 },
	{ "@", -1, "`", 0 },		/* '@' + 32 is '`': not a letter */
	{ "[", -1, "{", 0 },
	{ "\xc9", -1, "\xe9", 0 },	/* no Latin-1 case */
	{ "oc\0et", 5, "oc", 0 },	/* a NUL inside s is a byte */
};

int
main(void)
{
	size_t	i, len;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		len = cases[i].len == (size_t)-1 ? strlen(cases[i].s) :
		    cases[i].len;
		checkf(mem_caseeq(cases[i].s, len, cases[i].word) ==
		    cases[i].want, "mem_caseeq(%s, %zu, %s) != %d",
		    check_esc(cases[i].s, len), len, cases[i].word,
		    cases[i].want);
	}
	return (check_summary());
}
