/* SPDX-License-Identifier: ISC */
/*
 * text.c: text helpers of the pure parsers.
 */
#include "compat.h"

#include "text.h"

static char	ascii_lower(char);

static char
ascii_lower(char c)
{
	if (c >= 'A' && c <= 'Z')
		return (c - 'A' + 'a');
	return (c);
}

int
mem_caseeq(const char *s, size_t len, const char *word)
{
	size_t	i;

	for (i = 0; i < len; i++)
		if (word[i] == '\0' || ascii_lower(s[i]) !=
		    ascii_lower(word[i]))
			return (0);
	return (word[len] == '\0');
}
