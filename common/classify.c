/* SPDX-License-Identifier: ISC */
/*
 * classify.c: parse the tag and queue options (see classify.h).
 */
#include "compat.h"

#include <stdio.h>
#include <string.h>

#include "classify.h"

static int
hex16(const char *s, size_t len, uint32_t *v)
{
	size_t	i;
	int	c;

	if (len == 0 || len > 4)
		return (-1);
	*v = 0;
	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (c >= '0' && c <= '9')
			c -= '0';
		else if (c >= 'a' && c <= 'f')
			c -= 'a' - 10;
		else if (c >= 'A' && c <= 'F')
			c -= 'A' - 10;
		else
			return (-1);
		*v = *v << 4 | (uint32_t)c;
	}
	return (0);
}

int
ct_label_parse(const char *s, int *label)
{
	size_t	len = strlen(s), i;
	int	v = 0;

	if (len == 0 || len > 3 || (len > 1 && s[0] == '0'))
		return (-1);
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return (-1);
		v = v * 10 + (s[i] - '0');
	}
	if (v > CT_LABEL_MAX)
		return (-1);
	*label = v;
	return (0);
}

int
tc_class_parse(const char *s, uint32_t *prio)
{
	const char	*colon = strchr(s, ':');
	uint32_t	 major, minor;

	if (colon == NULL ||
	    hex16(s, (size_t)(colon - s), &major) == -1 ||
	    hex16(colon + 1, strlen(colon + 1), &minor) == -1)
		return (-1);
	if ((major == 0 && minor == 0) ||
	    (major == 0xffff && minor == 0xffff))
		return (-1);
	*prio = major << 16 | minor;
	return (0);
}

int
tc_class_str(uint32_t prio, char *buf, size_t len)
{
	return (snprintf(buf, len, "%x:%x", prio >> 16, prio & 0xffff));
}
