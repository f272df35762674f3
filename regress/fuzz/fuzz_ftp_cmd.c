/*
 * fuzz_ftp_cmd.c: libFuzzer target for ftp_parse_cmd().  The input is
 * one command line.  Where a PORT or EPRT parses, what the formatters
 * make of it must parse back to the same address and port.
 *
 * clang -fsanitize=fuzzer,address,undefined -Icommon -Iftp-proxy \
 *     $(pkg-config --cflags libbsd-overlay) regress/fuzz/fuzz_ftp_cmd.c \
 *     ftp-proxy/ftp_parse.c $(pkg-config --libs libbsd-overlay)
 */
#include "compat.h"

#include <sys/socket.h>

#include <stdlib.h>
#include <string.h>

#include "ftp_parse.h"

#define CHECK(x)	do { if (!(x)) abort(); } while (0)

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void	reparse(const char *, int, enum ftp_verb,
		    const struct ftp_hostport *);

/* Verb names by enum ftp_verb, in lower case: the match ignores case. */
static const char *const names[] = {
	[FTP_CMD_OTHER] = "",
	[FTP_CMD_PORT] = "port",
	[FTP_CMD_EPRT] = "eprt",
	[FTP_CMD_PASV] = "pasv",
	[FTP_CMD_EPSV] = "epsv",
	[FTP_CMD_LPRT] = "lprt",
	[FTP_CMD_LPSV] = "lpsv",
	[FTP_CMD_USER] = "user",
	[FTP_CMD_PASS] = "pass",
	[FTP_CMD_QUIT] = "quit",
	[FTP_CMD_AUTH] = "auth"
};

/* buf holds n bytes ending in CR LF: without them it parses to hp. */
static void
reparse(const char *buf, int n, enum ftp_verb verb,
    const struct ftp_hostport *hp)
{
	struct ftp_cmd	c;

	CHECK(n > 2 && n < FTP_FMT_MAX);
	CHECK(buf[n - 2] == '\r' && buf[n - 1] == '\n' && buf[n] == '\0');
	CHECK(ftp_parse_cmd(buf, (size_t)n - 2, &c) == 0);
	CHECK(c.verb == verb && ftp_hostport_eq(&c.hp, hp));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char		*line = (const char *)data;
	struct ftp_cmd		 c;
	struct ftp_hostport	 hp;
	char			 buf[FTP_FMT_MAX];
	size_t			 v;
	int			 r;

	r = ftp_parse_cmd(line, size, &c);
	CHECK(r == 0 || r == -1);
	CHECK(c.verbstr >= line && c.verbstr + c.verblen <= c.arg &&
	    c.arg + c.arglen <= line + size);
	CHECK((size_t)c.verb < nitems(names));
	if (c.verb != FTP_CMD_OTHER)
		CHECK(ftp_verb_eq(&c, names[c.verb]));
	else
		for (v = 1; v < nitems(names); v++)
			CHECK(!ftp_verb_eq(&c, names[v]));
	if (r == -1) {
		CHECK(c.err != FTP_ERR_NONE);
		CHECK(c.verb == FTP_CMD_PORT || c.verb == FTP_CMD_EPRT ||
		    c.verb == FTP_CMD_EPSV);
		CHECK(ftp_strerror(c.err) != NULL);
		return (0);
	}
	CHECK(c.err == FTP_ERR_NONE);
	if (c.verb != FTP_CMD_PORT && c.verb != FTP_CMD_EPRT)
		return (0);

	CHECK(c.hp.port != 0);
	CHECK(c.hp.af == AF_INET || c.hp.af == AF_INET6);
	reparse(buf, ftp_fmt_eprt(buf, sizeof(buf), &c.hp), FTP_CMD_EPRT,
	    &c.hp);
	if (c.hp.af == AF_INET) {
		reparse(buf, ftp_fmt_port(buf, sizeof(buf), &c.hp),
		    FTP_CMD_PORT, &c.hp);
		r = ftp_fmt_227(buf, sizeof(buf), &c.hp);
		CHECK(r > 2 && ftp_parse_227(buf, (size_t)r - 2, &hp) == 0 &&
		    ftp_hostport_eq(&hp, &c.hp));
	} else {
		CHECK(ftp_fmt_port(buf, sizeof(buf), &c.hp) == -1);
		hp = c.hp;
		if (ftp_hostport_unmap(&hp))
			reparse(buf, ftp_fmt_port(buf, sizeof(buf), &hp),
			    FTP_CMD_PORT, &hp);
	}
	return (0);
}
