/* SPDX-License-Identifier: ISC */
/*
 * log_test: log_escape() turns untrusted protocol text into one safe,
 * printable, bounded line; logging preserves errno; a line on stderr
 * has the prefix its destination wants (the journal's stream: the
 * priority, no name twice), on every line of a message.
 */
#include "compat.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

static const struct {
	int		 fmt;
	int		 pri;
	size_t		 len;
	const char	*msg;
	const char	*want;
} fmts[] = {
	{ LOG_FMT_STDERR, LOG_INFO, 128, "hello", "prog[42]: hello\n" },
	{ LOG_FMT_JOURNAL, LOG_INFO, 128, "hello", "<6>hello\n" },
	{ LOG_FMT_JOURNAL, LOG_ERR, 128, "bad", "<3>bad\n" },
	{ LOG_FMT_JOURNAL, LOG_CRIT, 128, "fatal", "<2>fatal\n" },
	{ LOG_FMT_JOURNAL, LOG_DEBUG, 128, "dbg", "<7>dbg\n" },
	{ LOG_FMT_JOURNAL, LOG_DAEMON | LOG_NOTICE, 128, "fac", "<5>fac\n" },
	{ LOG_FMT_JOURNAL_NAMED, LOG_WARNING, 128, "w", "<4>prog: w\n" },
	/* Every line of a message has its prefix. */
	{ LOG_FMT_JOURNAL, LOG_ERR, 128, "a\nb", "<3>a\n<3>b\n" },
	{ LOG_FMT_JOURNAL, LOG_ERR, 128, "a\n", "<3>a\n" },
	{ LOG_FMT_STDERR, LOG_ERR, 128, "a\nb", "prog[42]: a\nprog[42]: b\n" },
	{ LOG_FMT_JOURNAL_NAMED, LOG_INFO, 128, "x\ny",
	    "<6>prog: x\n<6>prog: y\n" },
	{ LOG_FMT_JOURNAL, LOG_INFO, 128, "", "<6>\n" },
	/* Cut short: still one line, ending in a newline. */
	{ LOG_FMT_JOURNAL, LOG_INFO, 8, "truncated", "<6>tru\n" },
	{ LOG_FMT_STDERR, LOG_INFO, 6, "x", "prog\n" },
	{ LOG_FMT_JOURNAL, LOG_INFO, 9, "ab\ncd", "<6>ab\n" },
	{ LOG_FMT_JOURNAL, LOG_INFO, 10, "ab\ncd", "<6>ab\n" },
	{ LOG_FMT_JOURNAL, LOG_INFO, 12, "ab\ncd", "<6>ab\n" },
	{ LOG_FMT_JOURNAL, LOG_INFO, 13, "ab\ncd", "<6>ab\n<6>cd\n" },
	{ LOG_FMT_JOURNAL, LOG_INFO, 1, "x", "" },
};

static const struct {
	const char		*env;
	unsigned long long	 dev, ino;
	int			 want;
} streams[] = {
	{ "8:1234", 8, 1234, 1 },
	{ "64769:2097153", 64769, 2097153, 1 },
	{ "8:1235", 8, 1234, 0 },
	{ "9:1234", 8, 1234, 0 },
	{ "8:1234x", 8, 1234, 0 },
	{ "8:1234:5", 8, 1234, 0 },
	{ "8:", 8, 0, 0 },
	{ ":1234", 0, 1234, 0 },
	{ "8", 8, 0, 0 },
	{ "-8:1234", (unsigned long long)-8, 1234, 0 },
	{ " 8:1234", 8, 1234, 0 },
	{ "8: 1234", 8, 1234, 0 },
	{ "", 0, 0, 0 },
	{ NULL, 0, 0, 0 },
	{ "99999999999999999999:1", 0, 1, 0 },
};

/*
 * What log_warnx("x\ny") writes to stderr after log_init(1, ...), with
 * stderr a file and JOURNAL_STREAM naming it (or not: journal 0), and
 * SYSTEMD_EXEC_PID our pid (or not: unit 0).
 */
static const char *
logged(int journal, int unit)
{
	static char	buf[256];
	char		env[64], path[] = "/tmp/log_test.XXXXXX";
	struct stat	st;
	ssize_t		n;
	int		fd, saved;

	if ((fd = mkstemp(path)) == -1 || fstat(fd, &st) == -1)
		return ("(mkstemp)");
	unlink(path);
	snprintf(env, sizeof(env), "%llu:%llu",
	    (unsigned long long)st.st_dev,
	    (unsigned long long)st.st_ino + (journal ? 0 : 1));
	setenv("JOURNAL_STREAM", env, 1);
	snprintf(env, sizeof(env), "%ld", (long)getpid() + (unit ? 0 : 1));
	setenv("SYSTEMD_EXEC_PID", env, 1);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	dup2(fd, STDERR_FILENO);
	log_init(1, LOG_DAEMON);
	log_warnx("x\ny");
	dup2(saved, STDERR_FILENO);
	close(saved);
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	unsetenv("JOURNAL_STREAM");
	unsetenv("SYSTEMD_EXEC_PID");
	return (buf);
}

static void
test_format(void)
{
	char	buf[256];
	size_t	i, n;

	for (i = 0; i < nitems(fmts); i++) {
		n = log_format(buf, fmts[i].len, fmts[i].fmt, fmts[i].pri,
		    "prog", 42, fmts[i].msg);
		checkf(strcmp(buf, fmts[i].want) == 0 &&
		    n == strlen(fmts[i].want),
		    "log_format #%zu \"%s\": got \"%s\" (%zu)", i,
		    check_esc(fmts[i].want, strlen(fmts[i].want)),
		    check_esc(buf, strlen(buf)), n);
	}
	for (i = 0; i < nitems(streams); i++)
		checkf(log_journal_match(streams[i].env, streams[i].dev,
		    streams[i].ino) == streams[i].want,
		    "JOURNAL_STREAM \"%s\" vs %llu:%llu", streams[i].env ?
		    streams[i].env : "(unset)", streams[i].dev,
		    streams[i].ino);
}

/* In want, @ is our own "name[pid]: ", % our "name: ". */
static const struct {
	int		 journal, unit;
	const char	*want;
	const char	*what;
} outs[] = {
	{ 1, 1, "<3>x\n<3>y\n", "the unit's process on the journal" },
	{ 1, 0, "<3>%x\n<3>%y\n", "another process on the journal" },
	{ 0, 1, "@x\n@y\n", "JOURNAL_STREAM of another file: plain stderr" },
};

static void
test_stderr(void)
{
	char		 want[128], name[64], bare[64];
	extern char	*__progname;
	const char	*got, *t;
	size_t		 i, n;

	snprintf(name, sizeof(name), "%s[%ld]: ", __progname, (long)getpid());
	snprintf(bare, sizeof(bare), "%s: ", __progname);
	for (i = 0; i < nitems(outs); i++) {
		for (t = outs[i].want, n = 0; *t != '\0' &&
		    n < sizeof(want) - sizeof(name); t++)
			if (*t == '@' || *t == '%')
				n += strlcpy(want + n, *t == '@' ? name : bare,
				    sizeof(want) - n);
			else
				want[n++] = *t;
		want[n] = '\0';
		got = logged(outs[i].journal, outs[i].unit);
		checkf(strcmp(got, want) == 0, "%s: \"%s\"", outs[i].what,
		    check_esc(got, strlen(got)));
	}
}

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
	test_format();
	test_stderr();
	return (check_summary());
}
