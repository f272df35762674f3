/* SPDX-License-Identifier: ISC */
/*
 * log_test: log_escape() turns untrusted protocol text into one safe,
 * printable, bounded line; logging preserves errno.
 */
#include "compat.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "log.h"

static const struct {
	const char	*in;
	size_t		 len;
	size_t		 dstlen;
	const char	*want;
} cases[] = {
	{ "USER ftp", 8, 64, "USER ftp" },
	{ "a\r\nb", 4, 64, "a\\r\\nb" },
	{ "nul\0here", 8, 64, "nul\\0here" },
	{ "\x1b[31mred", 8, 64, "\\033[31mred" },
	{ "tab\there", 8, 64, "tab\\there" },
	{ "\xff\xfe", 2, 64, "\\377\\376" },
	{ "truncate me", 11, 6, "trunc" },
	{ "", 0, 8, "" },
	{ "len limits src", 3, 64, "len" },
	{ "\x7f", 1, 64, "\\177" },
};

int
main(void)
{
	char	buf[LOG_ESCAPE_MAX], big[4096];
	size_t	i;

	for (i = 0; i < nitems(cases); i++) {
		log_escape(cases[i].in, cases[i].len, buf, cases[i].dstlen);
		if (strcmp(buf, cases[i].want) != 0)
			printf("  got \"%.64s\" want \"%.64s\"\n", buf,
			    cases[i].want);
		check(strcmp(buf, cases[i].want) == 0, cases[i].in);
	}
	/* Very long input: bounded, NUL-terminated, no overflow. */
	memset(big, '\n', sizeof(big));
	log_escape(big, sizeof(big), buf, sizeof(buf));
	check(strlen(buf) < sizeof(buf) && buf[0] == '\\',
	    "long input bounded");
	/* Logging keeps errno. */
	log_init(1, LOG_DAEMON);
	log_setverbose(LOG_DEBUG);
	errno = EADDRINUSE;
	log_debug("log_test: a debug line");
	log_warn("log_test: a warning");
	check(errno == EADDRINUSE, "errno preserved");
	log_setverbose(99);
	check(log_getverbose() == LOG_DEBUG, "verbosity clamped");
	return (check_summary());
}
