/* SPDX-License-Identifier: ISC */
/*
 * fuzz_ftp_reply.c: libFuzzer target for ftp_reply_line(),
 * ftp_parse_227() and ftp_parse_229().  The input is split at LF into
 * server reply lines.  Where a 227 or 229 parses, what the formatter
 * makes of it must parse back to the same values.
 *
 * clang -fsanitize=fuzzer,address,undefined -Icommon -Iftp-proxy \
 *     $(pkg-config --cflags libbsd-overlay) regress/fuzz/fuzz_ftp_reply.c \
 *     ftp-proxy/ftp_parse.c $(pkg-config --libs libbsd-overlay)
 */
#include "compat.h"

#include <sys/socket.h>

#include <stdlib.h>
#include <string.h>

#include "ftp_parse.h"

#define CHECK(x)	do { if (!(x)) abort(); } while (0)

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void	one_line(struct ftp_reply_state *, const char *, size_t);

static void
one_line(struct ftp_reply_state *st, const char *line, size_t len)
{
	struct ftp_reply_state	 before = *st;
	struct ftp_hostport	 hp, back;
	char			 buf[FTP_FMT_MAX];
	uint16_t		 port, port2;
	int			 r, n, code, final;

	r = ftp_reply_line(st, line, len, &code, &final);
	CHECK(r == 0 || r == -1);
	if (r == -1)
		CHECK(before.code == 0 && st->code == before.code &&
		    st->lines == before.lines);
	else {
		CHECK(code >= 100 && code <= 599);
		CHECK(final == 0 || final == 1);
		CHECK(final == 1 ? st->code == 0 : st->code == code);
		CHECK(before.code == 0 || before.code == code);
	}

	if (ftp_parse_227(line, len, &hp) == 0) {
		CHECK(len > 3 && memcmp(line, "227", 3) == 0);
		CHECK(hp.af == AF_INET && hp.port != 0);
		n = ftp_fmt_227(buf, sizeof(buf), &hp);
		CHECK(n > 2 && buf[n - 1] == '\n' && buf[n - 2] == '\r');
		CHECK(ftp_parse_227(buf, (size_t)n - 2, &back) == 0);
		CHECK(ftp_hostport_eq(&hp, &back));
	}
	if (ftp_parse_229(line, len, &port) == 0) {
		CHECK(len > 3 && memcmp(line, "229", 3) == 0 && port != 0);
		n = ftp_fmt_229(buf, sizeof(buf), port);
		CHECK(n > 2 && buf[n - 1] == '\n' && buf[n - 2] == '\r');
		CHECK(ftp_parse_229(buf, (size_t)n - 2, &port2) == 0);
		CHECK(port == port2);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ftp_reply_state	 st;
	const char		*p = (const char *)data, *end = p + size;
	const char		*nl;

	memset(&st, 0, sizeof(st));
	while (p < end) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		one_line(&st, p, (size_t)(nl - p));
		p = nl + 1;
	}
	return (0);
}
