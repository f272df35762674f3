/* SPDX-License-Identifier: ISC */
/*
 * telnet_test.c: table-driven tests of ftp-proxy/telnet.c and of
 * ftp_canon_cmd() (ftp-proxy/ftp_parse.c), alone and in the order
 * ftp-proxy applies them to a client line.  The spellings are those a
 * server that strips Telnet commands or splits at any blank (ProFTPD)
 * would read as a command the proxy must check.
 * Every failing check prints a line with FAIL; the last line is
 * "N passed, M failed".
 */
#include "compat.h"

#include <stdio.h>
#include <string.h>

#include "check.h"
#include "ftp_parse.h"
#include "telnet.h"

#define S(x)	x, sizeof(x) - 1

/* What a Synch (RFC 959 4.1.3) leaves: IAC IP, then IAC DM. */
#define TELNET_SYNCH	(TELNET_SEEN_IP | TELNET_SEEN_DM)

struct strip_test {
	const char	*in;
	size_t		 len;
	int		 ret;
	const char	*out;	/* when ret is 0 */
	size_t		 outlen;
	unsigned int	 seen;
};

struct canon_test {
	const char	*in;
	size_t		 len;
	const char	*out;	/* NULL: refused */
	size_t		 outlen;
	const char	*why;	/* a word of the refusal, or NULL */
};

/* A client line as received, then what ftp-proxy makes of it. */
struct line_test {
	const char	*in;
	size_t		 len;
	const char	*out;	/* NULL: refused with 500 */
	size_t		 outlen;
	enum ftp_verb	 verb;	/* when not refused */
	unsigned int	 seen;
};

static const struct strip_test strip_tests[] = {
	{ S(""), 0, S(""), 0 },
	{ S("NOOP"), 0, S("NOOP"), 0 },
	{ S("RETR a\xff\xff" "b"), 0, S("RETR a\xff" "b"), 0 },
	{ S("\xff\xff\xff\xff"), 0, S("\xff\xff"), 0 },
	{ S("\xff\xf4\xff\xf2" "ABOR"), 0, S("ABOR"), TELNET_SYNCH },
	{ S("\xff\xf4" "ABOR"), 0, S("ABOR"), TELNET_SEEN_IP },
	{ S("\xff\xf2" "ABOR"), 0, S("ABOR"), TELNET_SEEN_DM },
	{ S("\xff\xfb\x01PORT"), 0, S("PORT"), TELNET_SEEN_OTHER },
	{ S("\xff\xfc\xff" "PORT"), 0, S("PORT"), TELNET_SEEN_OTHER },
	{ S("\xff\xfd\x00PO\xff\xfe\x03RT"), 0, S("PORT"),
	    TELNET_SEEN_OTHER },
	{ S("US\xff\xf1" "ER"), 0, S("USER"), TELNET_SEEN_OTHER },
	{ S("\xff\xf5\xff\xf6\xff\xf7\xff\xf8\xff\xf9\xff\xf3X"), 0, S("X"),
	    TELNET_SEEN_OTHER },
	{ S("\xff\xf0X"), 0, S("X"), TELNET_SEEN_OTHER },
	{ S("\xff\xfa\x18\x00xterm\xff\xf0" "EPRT"), 0, S("EPRT"),
	    TELNET_SEEN_OTHER },
	{ S("\xff\xfa\x18\xff\xff\xff\xf0" "EPRT"), 0, S("EPRT"),
	    TELNET_SEEN_OTHER },
	{ S("\xff\xfa\xff\xf0"), 0, S(""), TELNET_SEEN_OTHER },
	{ S("\xff\x01Y"), 0, S("Y"), TELNET_SEEN_OTHER },
	{ S("\xff"), -1, NULL, 0, 0 },
	{ S("PORT\xff"), -1, NULL, 0, 0 },
	{ S("\xff\xfb"), -1, NULL, 0, 0 },
	{ S("\xff\xfa\x18xterm"), -1, NULL, 0, 0 },
	{ S("\xff\xfa\x18xterm\xff"), -1, NULL, 0, 0 },
	{ S("\xff\xfa\xff\xff\xf0"), -1, NULL, 0, 0 },
	{ S("\xff\xfa"), -1, NULL, 0, 0 },
};

static const struct canon_test canon_tests[] = {
	{ S("NOOP"), S("NOOP"), NULL },
	{ S("noop"), S("NOOP"), NULL },
	{ S("uSeR ftp"), S("USER ftp"), NULL },
	{ S("PORT 192,0,2,10,4,1"), S("PORT 192,0,2,10,4,1"), NULL },
	{ S("RETR a file name "), S("RETR a file name "), NULL },
	{ S("RETR x\xc3\xa9"), S("RETR x\xc3\xa9"), NULL },
	{ S("RETR \xff"), S("RETR \xff\xff"), NULL },
	{ S("PASV "), S("PASV"), NULL },
	{ S("CWD"), S("CWD"), NULL },
	{ S("A"), S("A"), NULL },
	{ S(""), NULL, 0, "Empty" },
	{ S(" "), NULL, 0, "before" },
	{ S(" PORT 1,2,3,4,5,6"), NULL, 0, "before" },
	{ S("PORT  1,2,3,4,5,6"), NULL, 0, "More than one" },
	{ S("USER  ftp"), NULL, 0, "More than one" },
	{ S("PASV  "), NULL, 0, "More than one" },
	{ S("PORT\t1,2,3,4,5,6"), NULL, 0, "TAB" },
	{ S("PORT\v1,2,3,4,5,6"), NULL, 0, "Control" },
	{ S("PORT\f1,2,3,4,5,6"), NULL, 0, "Control" },
	{ S("\vPORT 1,2,3,4,5,6"), NULL, 0, "Control" },
	{ S("NOOP\rPORT 1,2,3,4,5,6"), NULL, 0, "CR" },
	{ S("NOOP\r"), NULL, 0, "CR" },
	{ S("USER a\0b"), NULL, 0, "NUL" },
	{ S("USER ftp\n"), NULL, 0, "Control" },
	{ S("USER ftp\x7f"), NULL, 0, "Control" },
	{ S("USER ftp\x1b[A"), NULL, 0, "Control" },
	{ S("PORTX 1"), NULL, 0, "too long" },
	{ S("PO3T 1"), NULL, 0, "letters" },
	{ S("\xc3\xa9TE"), NULL, 0, "letters" },
	{ S("P-RT"), NULL, 0, "letters" },
};

static const struct line_test line_tests[] = {
	/* The spellings: each becomes a PORT, EPRT or USER. */
	{ S("\xff\xf4\xff\xf2PORT 192,0,2,99,4,1"),
	    S("PORT 192,0,2,99,4,1"), FTP_CMD_PORT, TELNET_SYNCH },
	{ S("\xff\xf4PORT 192,0,2,99,4,1"), S("PORT 192,0,2,99,4,1"),
	    FTP_CMD_PORT, TELNET_SEEN_IP },
	{ S("\xff\xfb\x01PORT 192,0,2,99,4,1"), S("PORT 192,0,2,99,4,1"),
	    FTP_CMD_PORT, TELNET_SEEN_OTHER },
	{ S("\xff\xf4\xff\xf2" "EPRT |1|192.0.2.99|1025|"),
	    S("EPRT |1|192.0.2.99|1025|"), FTP_CMD_EPRT, TELNET_SYNCH },
	{ S("\xff\xfd\x03USER joe"), S("USER joe"), FTP_CMD_USER,
	    TELNET_SEEN_OTHER },
	{ S("U\xff\xf1SER joe"), S("USER joe"), FTP_CMD_USER,
	    TELNET_SEEN_OTHER },
	{ S("\xff\xf4\xff\xf2" "ABOR"), S("ABOR"), FTP_CMD_ABOR,
	    TELNET_SYNCH },
	{ S("abor"), S("ABOR"), FTP_CMD_ABOR, 0 },
	/* ... or is refused. */
	{ S("PORT\v192,0,2,99,4,1"), NULL, 0, 0, 0 },
	{ S("EPRT\f|1|192.0.2.99|1025|"), NULL, 0, 0, 0 },
	{ S("USER\vjoe"), NULL, 0, 0, 0 },
	{ S("NOOP\v\xff\xf4PORT 192,0,2,99,4,1"), NULL, 0, 0, 0 },
	{ S("\xff\xf4 PORT 192,0,2,99,4,1"), NULL, 0, 0, 0 },
	{ S("\xff\xfb\x0bPORT 192,0,2,99,4,1"), S("PORT 192,0,2,99,4,1"),
	    FTP_CMD_PORT, TELNET_SEEN_OTHER },
	{ S("\xff\xfd\x0d" "NOOP"), S("NOOP"), FTP_CMD_OTHER,
	    TELNET_SEEN_OTHER },
	{ S("PORT \xff\xff"), S("PORT \xff\xff"), FTP_CMD_PORT, 0 },
	{ S("\xff\xf4"), NULL, 0, 0, 0 },
	{ S("USER joe\xff"), NULL, 0, 0, 0 },
};

static void
check_nth(int ok, const char *what, size_t n, const char *detail)
{
	checkf(ok, "%s #%zu: %s", what, n, detail);
}

static void
test_strip(void)
{
	const struct strip_test	*t;
	char			 buf[256];
	size_t			 i, len;
	unsigned int		 seen;
	int			 r;

	for (i = 0; i < nitems(strip_tests); i++) {
		t = &strip_tests[i];
		memcpy(buf, t->in, t->len);
		len = 12345;
		r = telnet_strip(buf, t->len, &len, &seen);
		check_nth(r == t->ret, "strip", i, "return value");
		if (r != 0 || t->ret != 0)
			continue;
		check_nth(len == t->outlen && memcmp(buf, t->out, len) == 0,
		    "strip", i, "output");
		check_nth(seen == t->seen, "strip", i, "seen bits");
	}
}

static void
test_canon(void)
{
	const struct canon_test	*t;
	const char		*why;
	char			 buf[256], small[8];
	size_t			 i;
	int			 r;

	for (i = 0; i < nitems(canon_tests); i++) {
		t = &canon_tests[i];
		why = "unset";
		r = ftp_canon_cmd(t->in, t->len, buf, sizeof(buf), &why);
		if (t->out == NULL) {
			check_nth(r == -1 && why != NULL && strstr(why, t->why) !=
			    NULL, "canon", i, why != NULL ? why : "no reason");
			continue;
		}
		check_nth(r == (int)t->outlen && memcmp(buf, t->out, t->outlen) ==
		    0 && buf[r] == '\0' && why == NULL, "canon", i, "output");
	}
	r = ftp_canon_cmd(S("RETR 1234"), small, sizeof(small), &why);
	check_nth(r == -1 && why != NULL && strstr(why, "long") != NULL, "canon",
	    0, "too long for the buffer");
	r = ftp_canon_cmd(S("RETR 12"), small, sizeof(small), &why);
	check_nth(r == 7 && strcmp(small, "RETR 12") == 0, "canon", 1,
	    "exactly fits");
	r = ftp_canon_cmd(S("RETR \xff\xff"), small, sizeof(small), &why);
	check_nth(r == -1, "canon", 2, "doubled IAC does not fit");
}

/* The order of ftp_relay_client(): Telnet, canonical form, parse. */
static void
test_lines(void)
{
	const struct line_test	*t;
	struct ftp_cmd		 cmd;
	const char		*why;
	char			 line[256], buf[512];
	size_t			 i, len;
	unsigned int		 seen;
	int			 r;

	for (i = 0; i < nitems(line_tests); i++) {
		t = &line_tests[i];
		memcpy(line, t->in, t->len);
		r = telnet_strip(line, t->len, &len, &seen);
		if (r == 0)
			r = ftp_canon_cmd(line, len, buf, sizeof(buf), &why);
		if (t->out == NULL) {
			check_nth(r == -1, "line", i, "not refused");
			continue;
		}
		check_nth(r == (int)t->outlen && memcmp(buf, t->out, t->outlen) ==
		    0, "line", i, "canonical line");
		if (r == -1)
			continue;
		(void)ftp_parse_cmd(line, len, &cmd);
		check_nth(cmd.verb == t->verb, "line", i, "verb");
		check_nth(seen == t->seen, "line", i, "seen bits");
	}
}

int
main(void)
{
	test_strip();
	test_canon();
	test_lines();
	return (check_summary());
}
