/* SPDX-License-Identifier: ISC */
/*
 * check.c: the counting and reporting of the unit tests (check.h).
 */
#include <stdarg.h>
#include <stdio.h>

#include "check.h"

static int	npassed, nfailed;

int
vcheckf(int ok, const char *fmt, va_list ap)
{
	if (ok) {
		npassed++;
		return (1);
	}
	nfailed++;
	printf("FAIL: ");
	vprintf(fmt, ap);
	printf("\n");
	return (0);
}

int
checkf(int ok, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	ok = vcheckf(ok, fmt, ap);
	va_end(ap);
	return (ok);
}

int
check(int ok, const char *what)
{
	return (checkf(ok, "%s", what));
}

int
check_summary(void)
{
	printf("%d passed, %d failed\n", npassed, nfailed);
	return (nfailed > 0);
}

const char *
check_esc(const void *buf, size_t len)
{
	static char		 out[4][1024];
	static unsigned int	 next;
	const unsigned char	*p = buf;
	char			*o = out[next++ % 4];
	size_t			 i, n = 0;

	if (buf == NULL)
		return ("(null)");
	for (i = 0; i < len && n + 5 < sizeof(out[0]); i++) {
		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\' &&
		    p[i] != '"')
			o[n++] = (char)p[i];
		else
			n += (size_t)snprintf(o + n, sizeof(out[0]) - n,
			    "\\x%02x", p[i]);
	}
	o[n] = '\0';
	return (o);
}
