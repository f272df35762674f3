/* SPDX-License-Identifier: ISC */
/*
 * fuzz_ftp_cmd.c: libFuzzer target for ftp_parse_cmd(), and for
 * telnet_strip() and ftp_canon_cmd() as ftp-proxy applies them.  The
 * input is one command line.  Where a PORT or EPRT parses, what the
 * formatters make of it must parse back to the same address and port.
 * Where a line is accepted, its canonical form holds no control byte,
 * and the Telnet layer of it gives back the line the proxy parsed.
 *
 * clang -fsanitize=fuzzer,address,undefined -Icommon -Iftp-proxy \
 *     $(pkg-config --cflags libbsd-overlay) regress/fuzz/fuzz_ftp_cmd.c \
 *     ftp-proxy/ftp_parse.c ftp-proxy/telnet.c \
 *     $(pkg-config --libs libbsd-overlay)
 */
#include "compat.h"

#include <sys/socket.h>

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ftp_parse.h"
#include "telnet.h"

#define CHECK(x)	do { if (!(x)) abort(); } while (0)

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int	verb_is(const struct ftp_cmd *, const char *);
static void	canon(const uint8_t *, size_t);
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
	[FTP_CMD_AUTH] = "auth",
	[FTP_CMD_ABOR] = "abor"
};

/* Whether cmd's verb is name, ignoring case. */
static int
verb_is(const struct ftp_cmd *cmd, const char *name)
{
	return (cmd->verblen == strlen(name) &&
	    strncasecmp(cmd->verbstr, name, cmd->verblen) == 0);
}

/* Telnet out, canonical form; that form read back the same way. */
static void
canon(const uint8_t *data, size_t size)
{
	struct ftp_cmd	 a, b;
	const char	*why;
	char		*line, *out, *back;
	size_t		 len, blen, i;
	unsigned int	 seen, bseen;
	int		 n;

	if ((line = malloc(size + 1)) == NULL ||
	    (out = malloc(2 * size + 1)) == NULL)
		abort();
	memcpy(line, data, size);
	if (telnet_strip(line, size, &len, &seen) == -1) {
		free(line);
		free(out);
		return;
	}
	CHECK(len <= size);
	if ((n = ftp_canon_cmd(line, len, out, 2 * size + 1, &why)) == -1) {
		CHECK(why != NULL);
		free(line);
		free(out);
		return;
	}
	CHECK(why == NULL && (size_t)n <= 2 * len && out[n] == '\0');
	for (i = 0; i < (size_t)n; i++)
		CHECK((unsigned char)out[i] >= 0x20 && out[i] != 0x7f);
	for (i = 0; i < (size_t)n && out[i] != ' '; i++)
		CHECK(out[i] >= 'A' && out[i] <= 'Z');
	CHECK(i >= 1 && i <= FTP_VERB_MAX);
	if ((back = malloc((size_t)n + 1)) == NULL)
		abort();
	memcpy(back, out, (size_t)n);
	CHECK(telnet_strip(back, (size_t)n, &blen, &bseen) == 0 &&
	    bseen == 0);
	CHECK(blen == len || (blen + 1 == len && line[len - 1] == ' '));
	CHECK(strncasecmp(back, line, blen) == 0 &&
	    memcmp(back + i, line + i, blen - i) == 0);
	(void)ftp_parse_cmd(line, len, &a);
	(void)ftp_parse_cmd(back, blen, &b);
	CHECK(a.verb == b.verb && a.err == b.err);
	free(back);
	free(line);
	free(out);
}

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

	canon(data, size);
	r = ftp_parse_cmd(line, size, &c);
	CHECK(r == 0 || r == -1);
	CHECK(c.verbstr >= line && c.verbstr + c.verblen <= c.arg &&
	    c.arg + c.arglen <= line + size);
	CHECK((size_t)c.verb < nitems(names));
	if (c.verb != FTP_CMD_OTHER)
		CHECK(verb_is(&c, names[c.verb]));
	else
		for (v = 1; v < nitems(names); v++)
			CHECK(!verb_is(&c, names[v]));
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
