/* SPDX-License-Identifier: ISC */
/*
 * tftp_parse_test.c: table-driven tests of tftp-proxy/tftp_parse.c.
 * Every failing check prints a line with FAIL; the last line is
 * "N passed, M failed".
 */
#include "compat.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "tftp_parse.h"

/* A string literal and its length, NUL bytes inside included. */
#define S(x)	x, sizeof(x) - 1

struct req_test {
	const char	*in;
	size_t		 len;
	int		 ret;
	enum tftp_err	 err;
	uint16_t	 opcode;	/* checked if ret is 0 */
	const char	*file;
	const char	*mode;
	enum tftp_mode	 modeid;
	unsigned int	 nopts;
};

#define OK(in, op, file, mode, id, nopts) \
	{ S(in), 0, TFTP_ERR_NONE, op, file, mode, id, nopts }
#define BAD(in, err) \
	{ S(in), -1, err, 0, NULL, NULL, TFTP_MODE_NONE, 0 }

static const struct req_test req_tests[] = {
	/* Valid requests */
	OK("\0\1file\0octet\0", TFTP_RRQ, "file", "octet", TFTP_MODE_OCTET,
	    0),
	OK("\0\2file\0octet\0", TFTP_WRQ, "file", "octet", TFTP_MODE_OCTET,
	    0),
	OK("\0\1file\0OCTET\0", TFTP_RRQ, "file", "OCTET", TFTP_MODE_OCTET,
	    0),
	OK("\0\1file\0Octet\0", TFTP_RRQ, "file", "Octet", TFTP_MODE_OCTET,
	    0),
	OK("\0\1file\0netascii\0", TFTP_RRQ, "file", "netascii",
	    TFTP_MODE_NETASCII, 0),
	OK("\0\1file\0NetASCII\0", TFTP_RRQ, "file", "NetASCII",
	    TFTP_MODE_NETASCII, 0),
	OK("\0\2file\0NETASCII\0", TFTP_WRQ, "file", "NETASCII",
	    TFTP_MODE_NETASCII, 0),
	OK("\0\1file\0mail\0", TFTP_RRQ, "file", "mail", TFTP_MODE_MAIL, 0),
	OK("\0\2user\0MAIL\0", TFTP_WRQ, "user", "MAIL", TFTP_MODE_MAIL, 0),
	OK("\0\1/tftpboot/pxelinux.0\0octet\0", TFTP_RRQ,
	    "/tftpboot/pxelinux.0", "octet", TFTP_MODE_OCTET, 0),
	OK("\0\1a\0octet\0", TFTP_RRQ, "a", "octet", TFTP_MODE_OCTET, 0),
	OK("\0\1file with spaces.txt\0octet\0", TFTP_RRQ,
	    "file with spaces.txt", "octet", TFTP_MODE_OCTET, 0),
	OK("\0\1C:\\boot\\bcd\0octet\0", TFTP_RRQ, "C:\\boot\\bcd", "octet",
	    TFTP_MODE_OCTET, 0),
	OK("\0\1\xc3\xa9t\xc3\xa9\0octet\0", TFTP_RRQ, "\xc3\xa9t\xc3\xa9",
	    "octet", TFTP_MODE_OCTET, 0),
	OK("\0\1~!@#$%^&*()\0octet\0", TFTP_RRQ, "~!@#$%^&*()", "octet",
	    TFTP_MODE_OCTET, 0),
	OK("\0\1../../etc/passwd\0octet\0", TFTP_RRQ, "../../etc/passwd",
	    "octet", TFTP_MODE_OCTET, 0),
	OK("\0\1file\0octet\0blksize\0" "1428\0", TFTP_RRQ, "file", "octet",
	    TFTP_MODE_OCTET, 1),
	OK("\0\1file\0octet\0blksize\0" "1428\0tsize\0" "0\0timeout\0" "5\0",
	    TFTP_RRQ, "file", "octet", TFTP_MODE_OCTET, 3),
	OK("\0\2file\0octet\0tsize\0" "123456\0", TFTP_WRQ, "file", "octet",
	    TFTP_MODE_OCTET, 1),
	OK("\0\1file\0octet\0windowsize\0" "16\0", TFTP_RRQ, "file", "octet",
	    TFTP_MODE_OCTET, 1),
	OK("\0\1file\0octet\0BLKSIZE\0" "512\0", TFTP_RRQ, "file", "octet",
	    TFTP_MODE_OCTET, 1),
	OK("\0\1file\0octet\0x\0\0", TFTP_RRQ, "file", "octet",
	    TFTP_MODE_OCTET, 1),
	OK("\0\1file\0octet\0unknown\0whatever it is\0", TFTP_RRQ, "file",
	    "octet", TFTP_MODE_OCTET, 1),
	OK("\0\1file\0octet\0blksize\0" "1428\0blksize\0" "512\0", TFTP_RRQ,
	    "file", "octet", TFTP_MODE_OCTET, 2),
	OK("\0\1file\0octet\0opt\0\xc3\xa9\0", TFTP_RRQ, "file", "octet",
	    TFTP_MODE_OCTET, 1),
	/* Length */
	BAD("", TFTP_ERR_SHORT),
	BAD("\0", TFTP_ERR_SHORT),
	BAD("\1", TFTP_ERR_SHORT),
	BAD("\0\1", TFTP_ERR_SHORT),
	BAD("\0\2", TFTP_ERR_SHORT),
	/* Opcodes */
	BAD("\0\0file\0octet\0", TFTP_ERR_OPCODE),
	BAD("\0\3\0\1data", TFTP_ERR_OPCODE),
	BAD("\0\3file\0octet\0", TFTP_ERR_OPCODE),
	BAD("\0\4\0\1", TFTP_ERR_OPCODE),
	BAD("\0\5\0\1File not found\0", TFTP_ERR_OPCODE),
	BAD("\0\6blksize\0" "1428\0", TFTP_ERR_OPCODE),
	BAD("\0\7file\0octet\0", TFTP_ERR_OPCODE),
	BAD("\1\1file\0octet\0", TFTP_ERR_OPCODE),
	BAD("\1\0file\0octet\0", TFTP_ERR_OPCODE),
	BAD("\2\0file\0octet\0", TFTP_ERR_OPCODE),
	BAD("\xff\xff" "file\0octet\0", TFTP_ERR_OPCODE),
	BAD("\0\3", TFTP_ERR_OPCODE),
	BAD("\0\4", TFTP_ERR_OPCODE),
	/* File name */
	BAD("\0\1file", TFTP_ERR_FILE_UNTERM),
	BAD("\0\1f", TFTP_ERR_FILE_UNTERM),
	BAD("\0\1\0octet\0", TFTP_ERR_FILE_EMPTY),
	BAD("\0\1\0", TFTP_ERR_FILE_EMPTY),
	BAD("\0\1fi\nle\0octet\0", TFTP_ERR_FILE_CHAR),
	BAD("\0\1fi\rle\0octet\0", TFTP_ERR_FILE_CHAR),
	BAD("\0\1fi\tle\0octet\0", TFTP_ERR_FILE_CHAR),
	BAD("\0\1file\x7f\0octet\0", TFTP_ERR_FILE_CHAR),
	BAD("\0\1\x1b[2J\0octet\0", TFTP_ERR_FILE_CHAR),
	BAD("\0\1\x01\0octet\0", TFTP_ERR_FILE_CHAR),
	/* Mode */
	BAD("\0\1file\0", TFTP_ERR_MODE_MISSING),
	BAD("\0\1file\0octet", TFTP_ERR_MODE_UNTERM),
	BAD("\0\1file\0o", TFTP_ERR_MODE_UNTERM),
	BAD("\0\1file\0\0", TFTP_ERR_MODE),
	BAD("\0\1file\0binary\0", TFTP_ERR_MODE),
	BAD("\0\1file\0ascii\0", TFTP_ERR_MODE),
	BAD("\0\1file\0octe\0", TFTP_ERR_MODE),
	BAD("\0\1file\0octets\0", TFTP_ERR_MODE),
	BAD("\0\1file\0 octet\0", TFTP_ERR_MODE),
	BAD("\0\1file\0octet \0", TFTP_ERR_MODE),
	BAD("\0\1file\0net ascii\0", TFTP_ERR_MODE),
	BAD("\0\1file\0\xcf\x83" "ctet\0", TFTP_ERR_MODE),
	BAD("\0\1file\0mai\0", TFTP_ERR_MODE),
	BAD("\0\1file\0mailx\0", TFTP_ERR_MODE),
	/* Options */
	BAD("\0\1file\0octet\0blksize", TFTP_ERR_OPT_UNTERM),
	BAD("\0\1file\0octet\0blksize\0", TFTP_ERR_OPT_NOVAL),
	BAD("\0\1file\0octet\0blksize\0" "1428", TFTP_ERR_OPT_UNTERM),
	BAD("\0\1file\0octet\0\0", TFTP_ERR_OPT_EMPTY),
	BAD("\0\1file\0octet\0\0\0", TFTP_ERR_OPT_EMPTY),
	BAD("\0\1file\0octet\0\0" "1428\0", TFTP_ERR_OPT_EMPTY),
	BAD("\0\1file\0octet\0blk\nsize\0" "1\0", TFTP_ERR_OPT_CHAR),
	BAD("\0\1file\0octet\0blksize\0" "14\r28\0", TFTP_ERR_OPT_CHAR),
	BAD("\0\1file\0octet\0blksize\0\x7f\0", TFTP_ERR_OPT_CHAR),
	BAD("\0\1file\0octet\0blksize\0" "1428\0garbage",
	    TFTP_ERR_OPT_UNTERM),
	BAD("\0\1file\0octet\0blksize\0" "1428\0x", TFTP_ERR_OPT_UNTERM),
	BAD("\0\1file\0octet\0blksize\0" "1428\0\0", TFTP_ERR_OPT_EMPTY),
	BAD("\0\1file\0octet\0blksize\0" "1428\0tsize\0",
	    TFTP_ERR_OPT_NOVAL),
	BAD("\0\1file\0octet\0blksize\0" "1428\0tsize\0" "0",
	    TFTP_ERR_OPT_UNTERM),
};

/* Valid requests that are cut at every length below. */
static const struct {
	const char	*in;
	size_t		 len;
} trunc_tests[] = {
	{ S("\0\1file\0octet\0") },
	{ S("\0\2/srv/tftp/boot.img\0netascii\0") },
	{ S("\0\1pxelinux.0\0octet\0tsize\0" "0\0blksize\0" "1456\0") },
	{ S("\0\1f\0mail\0a\0\0b\0\0c\0" "1\0") },
};

static void	 check_in(int, const char *, const char *, size_t,
		    const char *, ...)
		    __attribute__((__format__ (printf, 5, 6)));
static int	 str_eq(const char *, size_t, const char *);
static int	 parse(const char *, size_t, struct tftp_req *);
static int	 sane(const char *, size_t, const struct tftp_req *);
static size_t	 put(char *, size_t, int, size_t);
static size_t	 build(char *, size_t, unsigned int, size_t);
static void	 test_table(void);
static void	 test_trunc(void);
static void	 test_trailing(void);
static void	 test_opcodes(void);
static void	 test_ctrl(void);
static void	 test_limits(void);
static void	 test_strerror(void);

/* A check about one input: what was tested, the input, and why. */
static void
check_in(int ok, const char *what, const char *in, size_t len,
    const char *fmt, ...)
{
	char	why[512];
	va_list	ap;

	if (ok) {
		check(1, what);
		return;
	}
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	checkf(0, "%s \"%s\": %s", what, check_esc(in, len), why);
}

static int
str_eq(const char *s, size_t len, const char *want)
{
	return (s != NULL && strlen(want) == len && memcmp(s, want, len) == 0);
}

/*
 * Parse from a heap copy of exactly len bytes, so that a read past the
 * end shows under valgrind and ASan.
 */
static int
parse(const char *in, size_t len, struct tftp_req *req)
{
	uint8_t	*copy;
	int	 r;

	if ((copy = malloc(len > 0 ? len : 1)) == NULL) {
		perror("malloc");
		exit(2);
	}
	memcpy(copy, in, len);
	r = tftp_parse_request(copy, len, req);
	/* Pointers into the copy: rebase them onto in. */
	if (req->file != NULL)
		req->file = in + (req->file - (const char *)copy);
	if (req->mode != NULL)
		req->mode = in + (req->mode - (const char *)copy);
	if (req->opts != NULL)
		req->opts = in + (req->opts - (const char *)copy);
	free(copy);
	return (r);
}

/* Invariants of a successful parse. */
static int
sane(const char *in, size_t len, const struct tftp_req *r)
{
	return (r->err == TFTP_ERR_NONE && r->file == in + 2 &&
	    r->filelen >= 1 && r->filelen <= TFTP_FILE_MAX &&
	    r->file[r->filelen] == '\0' &&
	    r->mode == r->file + r->filelen + 1 &&
	    r->mode[r->modelen] == '\0' &&
	    r->opts == r->mode + r->modelen + 1 &&
	    r->opts + r->optslen == in + len &&
	    r->nopts <= TFTP_OPT_MAX && len <= TFTP_REQ_MAX &&
	    (r->optslen == 0 || in[len - 1] == '\0'));
}

static void
test_table(void)
{
	const struct req_test	*t;
	struct tftp_req		 r;
	size_t			 i;
	int			 ret, ok;

	for (i = 0; i < nitems(req_tests); i++) {
		t = &req_tests[i];
		ret = parse(t->in, t->len, &r);
		ok = ret == t->ret && r.err == t->err;
		if (ok && ret == 0)
			ok = sane(t->in, t->len, &r) && r.opcode == t->opcode &&
			    str_eq(r.file, r.filelen, t->file) &&
			    str_eq(r.mode, r.modelen, t->mode) &&
			    r.modeid == t->modeid && r.nopts == t->nopts;
		check_in(ok, "request", t->in, t->len,
		    "ret %d err %d (%s) opcode %u modeid %d nopts %u", ret,
		    r.err, tftp_strerror(r.err), r.opcode, r.modeid, r.nopts);
	}
}

/*
 * Every prefix of a valid request fails, except those that end right
 * after the mode or after a complete option (shorter valid requests).
 */
static void
test_trunc(void)
{
	struct tftp_req	 r, full;
	const char	*in;
	size_t		 i, k, len, n, nuls, optoff;
	int		 ret, want;

	for (i = 0; i < nitems(trunc_tests); i++) {
		in = trunc_tests[i].in;
		len = trunc_tests[i].len;
		ret = parse(in, len, &full);
		check_in(ret == 0 && sane(in, len, &full), "truncated: full",
		    in, len, "%s", tftp_strerror(full.err));
		optoff = len - full.optslen;
		for (n = 0; n < len; n++) {
			want = -1;
			if (n >= optoff) {
				for (k = optoff, nuls = 0; k < n; k++)
					nuls += in[k] == '\0';
				if (nuls % 2 == 0 &&
				    (n == optoff || in[n - 1] == '\0'))
					want = 0;
			}
			ret = parse(in, n, &r);
			check_in(ret == want && (ret == -1 || sane(in, n, &r)),
			    "truncated", in, n, "ret %d err %s", ret,
			    tftp_strerror(r.err));
		}
	}
}

/* A valid request plus one byte (NUL or not) is not valid. */
static void
test_trailing(void)
{
	static const char	 extra[] = { 'x', '\0', '\n', '\xff' };
	char			 buf[TFTP_REQ_MAX + 2];
	struct tftp_req		 r;
	size_t			 i, e, len;
	int			 ret;

	for (i = 0; i < nitems(req_tests); i++) {
		if (req_tests[i].ret != 0)
			continue;
		len = req_tests[i].len;
		memcpy(buf, req_tests[i].in, len);
		for (e = 0; e < nitems(extra); e++) {
			buf[len] = extra[e];
			ret = parse(buf, len + 1, &r);
			check_in(ret == -1 && (r.err == TFTP_ERR_OPT_UNTERM ||
			    r.err == TFTP_ERR_OPT_EMPTY), "trailing byte", buf,
			    len + 1, "ret %d err %s", ret,
			    tftp_strerror(r.err));
		}
	}
}

/* Every opcode in front of an otherwise valid request. */
static void
test_opcodes(void)
{
	static const char	 body[] = "file\0octet";
	char			 buf[64];
	struct tftp_req		 r;
	unsigned int		 op;
	int			 ret;

	for (op = 0; op <= 0xffff; op++) {
		if (op > 32 && (op & 0xff) != 0 && op != 0xffff)
			continue;
		buf[0] = (char)(op >> 8);
		buf[1] = (char)(op & 0xff);
		memcpy(buf + 2, body, sizeof(body));
		ret = parse(buf, 2 + sizeof(body), &r);
		if (op == TFTP_RRQ || op == TFTP_WRQ)
			check_in(ret == 0 && r.opcode == op &&
			    sane(buf, 2 + sizeof(body), &r), "opcode", buf,
			    2 + sizeof(body), "op %u ret %d", op, ret);
		else
			check_in(ret == -1 && r.err == TFTP_ERR_OPCODE &&
			    r.opcode == op, "opcode", buf, 2 + sizeof(body),
			    "op %u ret %d err %s", op, ret,
			    tftp_strerror(r.err));
	}
}

/*
 * Each byte value inside the file name, an option name and an option
 * value: control characters fail, all others pass.
 */
static void
test_ctrl(void)
{
	static const struct {
		const char	*fmt;	/* '#' is the byte under test */
		size_t		 len;
		enum tftp_err	 err;
	} where[] = {
		{ S("\0\1a#b\0octet\0"), TFTP_ERR_FILE_CHAR },
		{ S("\0\1a\0octet\0o#t\0v\0"), TFTP_ERR_OPT_CHAR },
		{ S("\0\1a\0octet\0opt\0v#\0"), TFTP_ERR_OPT_CHAR },
	};
	char		buf[64];
	struct tftp_req	r;
	size_t		w;
	int		c, ret, ctrl;

	for (w = 0; w < nitems(where); w++) {
		for (c = 1; c <= 255; c++) {
			memcpy(buf, where[w].fmt, where[w].len);
			*(char *)memchr(buf, '#', where[w].len) = (char)c;
			ctrl = c < 0x20 || c == 0x7f;
			ret = parse(buf, where[w].len, &r);
			check_in(ctrl ? ret == -1 && r.err == where[w].err :
			    ret == 0 && sane(buf, where[w].len, &r),
			    "byte in string", buf, where[w].len,
			    "byte 0x%02x ret %d err %s", c, ret,
			    tftp_strerror(r.err));
		}
	}
}

/* n bytes c and a NUL at buf[off]; returns the new offset. */
static size_t
put(char *buf, size_t off, int c, size_t n)
{
	memset(buf + off, c, n);
	buf[off + n] = '\0';
	return (off + n + 1);
}

/* A request: file name of flen 'f's, octet, nopts options of vlen. */
static size_t
build(char *buf, size_t flen, unsigned int nopts, size_t vlen)
{
	size_t		off;
	unsigned int	i;

	buf[0] = 0;
	buf[1] = TFTP_RRQ;
	off = put(buf, 2, 'f', flen);
	memcpy(buf + off, "octet", 6);
	off += 6;
	for (i = 0; i < nopts; i++) {
		off = put(buf, off, 'o', 1);
		off = put(buf, off, 'v', vlen);
	}
	return (off);
}

static void
test_limits(void)
{
	static const struct {
		size_t		flen;
		unsigned int	nopts;
		size_t		vlen;
		size_t		len;	/* expected length */
		int		ret;
		enum tftp_err	err;
	} lim[] = {
		{ 255, 0, 0, 264, 0, TFTP_ERR_NONE },
		{ 256, 0, 0, 265, -1, TFTP_ERR_FILE_LONG },
		{ 500, 0, 0, 509, -1, TFTP_ERR_FILE_LONG },
		{ 503, 0, 0, 512, -1, TFTP_ERR_FILE_LONG },
		{ 504, 0, 0, 513, -1, TFTP_ERR_LONG },
		{ 1, 1, 499, 512, 0, TFTP_ERR_NONE },
		{ 1, 1, 500, 513, -1, TFTP_ERR_LONG },
		{ 1, 1, 501, 514, -1, TFTP_ERR_LONG },
		{ 1, 1, 1011, 1024, -1, TFTP_ERR_LONG },
		{ 1, 1, 65522, 65535, -1, TFTP_ERR_LONG },
		{ 255, 1, 245, 512, 0, TFTP_ERR_NONE },
		{ 255, 1, 246, 513, -1, TFTP_ERR_LONG },
		{ 1, TFTP_OPT_MAX, 1, 10 + 4 * TFTP_OPT_MAX, 0,
		    TFTP_ERR_NONE },
		{ 1, TFTP_OPT_MAX, 0, 10 + 3 * TFTP_OPT_MAX, 0,
		    TFTP_ERR_NONE },
		{ 1, TFTP_OPT_MAX + 1, 1, 14 + 4 * TFTP_OPT_MAX, -1,
		    TFTP_ERR_OPT_MANY },
		{ 1, 100, 1, 410, -1, TFTP_ERR_OPT_MANY },
	};
	static char	buf[70000];
	struct tftp_req	r;
	size_t		i, len;
	int		ret;

	for (i = 0; i < nitems(lim); i++) {
		len = build(buf, lim[i].flen, lim[i].nopts, lim[i].vlen);
		ret = parse(buf, len, &r);
		check_in(len == lim[i].len && ret == lim[i].ret &&
		    r.err == lim[i].err && (ret == -1 || (sane(buf, len, &r) &&
		    r.nopts == lim[i].nopts)), "limits", buf,
		    len < 64 ? len : 64, "row %zu len %zu ret %d err %s", i,
		    len, ret, tftp_strerror(r.err));
	}
}

static void
test_strerror(void)
{
	const char	*s, *t;
	int		 e, f, ok;

	for (e = TFTP_ERR_NONE; e <= TFTP_ERR_OPT_MANY; e++) {
		s = tftp_strerror(e);
		ok = s != NULL && *s != '\0' && strcmp(s, "unknown error") != 0;
		for (f = TFTP_ERR_NONE; ok && f < e; f++) {
			t = tftp_strerror(f);
			ok = strcmp(s, t) != 0;
		}
		check_in(ok, "strerror", "", 0, "error %d: %s", e, s);
	}
	check_in(strcmp(tftp_strerror(TFTP_ERR_OPT_MANY + 1),
	    "unknown error") == 0, "strerror", "", 0, "out of range");
	check_in(strcmp(tftp_strerror(-1), "unknown error") == 0, "strerror",
	    "", 0, "negative");
}

/* ERROR packets as RFC 1350 lays them out, cut to the buffer. */
static void
test_error(void)
{
	static const struct {
		size_t		 len;	/* buffer */
		uint16_t	 code;
		const char	*msg;
		size_t		 want;	/* bytes, 0: none */
		const char	*pkt;
	} t[] = {
		{ 64, 0, "proxy lost its packet filter helper", 40,
		    "\0\5\0\0proxy lost its packet filter helper" },
		{ 64, 0x0102, "x", 6, "\0\5\1\2x" },
		{ 64, 3, "", 5, "\0\5\0\3" },
		{ 8, 1, "abcdef", 8, "\0\5\0\1abc" },	/* cut, NUL kept */
		{ 8, 1, "abcd", 8, "\0\5\0\1abc" },	/* one too long */
		{ 9, 1, "abcd", 9, "\0\5\0\1abcd" },	/* just fits */
		{ 5, 1, "abc", 5, "\0\5\0\1" },
		{ 4, 1, "abc", 0, "" },			/* no room */
		{ 0, 1, "abc", 0, "" },
	};
	uint8_t	 buf[64];
	size_t	 i, n;

	for (i = 0; i < nitems(t); i++) {
		memset(buf, 0xaa, sizeof(buf));
		n = tftp_error(buf, t[i].len, t[i].code, t[i].msg);
		check_in(n == t[i].want && (n == 0 ||
		    (memcmp(buf, t[i].pkt, n - 1) == 0 && buf[n - 1] == 0)) &&
		    (t[i].len >= sizeof(buf) || buf[t[i].len] == 0xaa),
		    "error packet", t[i].msg, strlen(t[i].msg),
		    "row %zu: %zu bytes, want %zu", i, n, t[i].want);
	}
}

int
main(void)
{
	test_table();
	test_trunc();
	test_trailing();
	test_opcodes();
	test_ctrl();
	test_limits();
	test_strerror();
	test_error();
	return (check_summary());
}
