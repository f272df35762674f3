/* SPDX-License-Identifier: ISC */
/*
 * ftp_parse_test.c: table-driven tests of ftp-proxy/ftp_parse.c.
 * Every failing check prints a line with FAIL; the last line is
 * "N passed, M failed".
 */
#include "compat.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "ftp_parse.h"

/* A string literal and its length, NUL bytes inside included. */
#define S(x)	x, sizeof(x) - 1

struct cmd_test {
	const char	*in;
	size_t		 len;
	int		 ret;
	enum ftp_verb	 verb;
	enum ftp_err	 err;
	const char	*addr;	/* PORT/EPRT: ':' in it means IPv6 */
	uint16_t	 port;
	enum ftp_epsv	 epsv;
	const char	*arg;	/* NULL: not checked */
};

struct reply_step {
	const char	*line;
	size_t		 len;
	int		 ret;
	int		 code;
	int		 final;
};

#define MAXSTEPS	8
struct reply_test {
	const char		*name;
	struct reply_step	 step[MAXSTEPS];	/* ends at line NULL */
};

struct pasv_test {
	const char	*in;
	size_t		 len;
	int		 ret;
	const char	*addr;	/* 227 only */
	uint16_t	 port;
};

enum fmt_kind { F_227, F_229, F_PORT, F_EPRT, F_ADDR };

struct fmt_test {
	enum fmt_kind	 kind;
	int		 af;
	const char	*addr;
	uint16_t	 port;
	const char	*out;	/* NULL: the formatter must fail */
};

static void	 check_in(int, const char *, const char *, size_t,
		    const char *, ...)
		    __attribute__((__format__ (printf, 5, 6)));
static void	 mkhp(struct ftp_hostport *, const char *, uint16_t);
static void	 mkhp_af(struct ftp_hostport *, int, const char *, uint16_t);
static int	 str_eq(const char *, size_t, const char *);
static void	 test_pasv(const struct pasv_test *, size_t, int);
static int	 run_fmt(enum fmt_kind, char *, size_t,
		    const struct ftp_hostport *);
static void	 test_cmds(void);
static void	 test_eprt_delims(void);
static void	 test_replies(void);
static void	 test_227(void);
static void	 test_229(void);
static void	 test_229_delims(void);
static void	 test_fmt(void);
static void	 test_roundtrip(void);
static void	 test_ntop(void);
static void	 test_misc(void);
static uint32_t	 rnd(void);
static void	 rnd_hp(struct ftp_hostport *, int);

static uint32_t	 seed = 0x2428959;

static const struct cmd_test cmd_tests[] = {
	/* PORT: valid forms */
	{ S("PORT 192,0,2,1,4,1"), 0, FTP_CMD_PORT, 0, "192.0.2.1", 1025,
	    FTP_EPSV_ANY, NULL },
	{ S("port 192,0,2,1,4,1"), 0, FTP_CMD_PORT, 0, "192.0.2.1", 1025,
	    FTP_EPSV_ANY, NULL },
	{ S("PoRt 192,0,2,1,4,1"), 0, FTP_CMD_PORT, 0, "192.0.2.1", 1025,
	    FTP_EPSV_ANY, NULL },
	{ S("  PORT 192,0,2,1,4,1  "), 0, FTP_CMD_PORT, 0, "192.0.2.1", 1025,
	    FTP_EPSV_ANY, NULL },
	{ S("PORT\t192,0,2,1,4,1"), 0, FTP_CMD_PORT, 0, "192.0.2.1", 1025,
	    FTP_EPSV_ANY, NULL },
	{ S("PORT 192,0,2,1,4,1\r"), 0, FTP_CMD_PORT, 0, "192.0.2.1", 1025,
	    FTP_EPSV_ANY, NULL },
	{ S("PORT     192,0,2,1,4,1\t "), 0, FTP_CMD_PORT, 0, "192.0.2.1", 1025,
	    FTP_EPSV_ANY, NULL },
	{ S("PORT 192, 0, 2, 1, 4, 1"), 0, FTP_CMD_PORT, 0, "192.0.2.1", 1025,
	    FTP_EPSV_ANY, NULL },
	{ S("PORT 192,  0,\t2,1,4,1"), 0, FTP_CMD_PORT, 0, "192.0.2.1", 1025,
	    FTP_EPSV_ANY, NULL },
	{ S("PORT 192,0,2,1,0,1"), 0, FTP_CMD_PORT, 0, "192.0.2.1", 1,
	    FTP_EPSV_ANY, NULL },
	{ S("PORT 0,0,0,0,255,255"), 0, FTP_CMD_PORT, 0, "0.0.0.0", 65535,
	    FTP_EPSV_ANY, NULL },
	{ S("PORT 255,255,255,255,1,0"), 0, FTP_CMD_PORT, 0, "255.255.255.255",
	    256, FTP_EPSV_ANY, NULL },
	{ S("PORT 010,001,002,003,000,021"), 0, FTP_CMD_PORT, 0, "10.1.2.3", 21,
	    FTP_EPSV_ANY, NULL },
	{ S("PORT 198,51,100,7,195,80"), 0, FTP_CMD_PORT, 0, "198.51.100.7",
	    50000, FTP_EPSV_ANY, NULL },
	/* PORT: malformed */
	{ S("PORT 256,0,2,1,4,1"), -1, FTP_CMD_PORT, FTP_ERR_ADDR, NULL, 0,
	    FTP_EPSV_ANY, NULL },
	{ S("PORT 192,0,2,256,4,1"), -1, FTP_CMD_PORT, FTP_ERR_ADDR, NULL, 0,
	    FTP_EPSV_ANY, NULL },
	{ S("PORT 192,0,2,1,256,1"), -1, FTP_CMD_PORT, FTP_ERR_PORT, NULL, 0,
	    FTP_EPSV_ANY, NULL },
	{ S("PORT 192,0,2,1,4,256"), -1, FTP_CMD_PORT, FTP_ERR_PORT, NULL, 0,
	    FTP_EPSV_ANY, NULL },
	{ S("PORT 192,0,2,1,4,999"), -1, FTP_CMD_PORT, FTP_ERR_PORT, NULL, 0,
	    FTP_EPSV_ANY, NULL },
	{ S("PORT 192,0,2,1,0,0"), -1, FTP_CMD_PORT, FTP_ERR_PORT, NULL, 0,
	    FTP_EPSV_ANY, NULL },
	{ S("PORT 192,0,2,1,000,000"), -1, FTP_CMD_PORT, FTP_ERR_PORT, NULL, 0,
	    FTP_EPSV_ANY, NULL },
	{ S("PORT 99999999999999999999,0,2,1,4,1"), -1, FTP_CMD_PORT,
	    FTP_ERR_ADDR, NULL, 0, FTP_EPSV_ANY, NULL },
	{ S("PORT 192,0,2,1,4,99999999999999999999"), -1, FTP_CMD_PORT,
	    FTP_ERR_PORT, NULL, 0, FTP_EPSV_ANY, NULL },
	{ S("PORT 4294967297,0,2,1,4,1"), -1, FTP_CMD_PORT, FTP_ERR_ADDR, NULL,
	    0, FTP_EPSV_ANY, NULL },
	{ S("PORT 0192,0,2,1,4,1"), -1, FTP_CMD_PORT, FTP_ERR_ADDR, NULL, 0,
	    FTP_EPSV_ANY, NULL },
	{ S("PORT 192,0,2,1,0004,1"), -1, FTP_CMD_PORT, FTP_ERR_PORT, NULL, 0,
	    FTP_EPSV_ANY, NULL },
	{ S("PORT -1,0,2,1,4,1"), -1, FTP_CMD_PORT, FTP_ERR_SYNTAX, NULL, 0,
	    FTP_EPSV_ANY, NULL },
	{ S("PORT +1,0,2,1,4,1"), -1, FTP_CMD_PORT, FTP_ERR_SYNTAX, NULL, 0,
	    FTP_EPSV_ANY, NULL },
	{ S("PORT 192,0,2,-1,4,1"), -1, FTP_CMD_PORT, FTP_ERR_SYNTAX, NULL, 0,
	    FTP_EPSV_ANY, NULL },
	{ S("PORT 192,0,2,1,4,-1"), -1, FTP_CMD_PORT, FTP_ERR_SYNTAX, NULL, 0,
	    FTP_EPSV_ANY, NULL },
	{ S("PORT 192,0,2,1,4"), -1, FTP_CMD_PORT, FTP_ERR_SYNTAX, NULL, 0,
	    FTP_EPSV_ANY, NULL },
	{ S("PORT 192,0,2,1"), -1, FTP_CMD_PORT, FTP_ERR_SYNTAX, NULL, 0,
	    FTP_EPSV_ANY, NULL },
	{ S("PORT 192,0,2,1,4,1,7"), -1, FTP_CMD_PORT, FTP_ERR_SYNTAX, NULL, 0,
	    FTP_EPSV_ANY, NULL },
	{ S("PORT 192,0,2,1,4,1,"), -1, FTP_CMD_PORT, FTP_ERR_SYNTAX, NULL, 0,
	    FTP_EPSV_ANY, NULL },
	{ S("PORT ,192,0,2,1,4,1"), -1, FTP_CMD_PORT, FTP_ERR_SYNTAX, NULL, 0,
	    FTP_EPSV_ANY, NULL },
	{ S("PORT 192,,0,2,1,4,1"), -1, FTP_CMD_PORT, FTP_ERR_SYNTAX, NULL, 0,
	    FTP_EPSV_ANY, NULL },
	{ S("PORT 192 ,0,2,1,4,1"), -1, FTP_CMD_PORT, FTP_ERR_SYNTAX, NULL, 0,
	    FTP_EPSV_ANY, NULL },
	{ S("PORT 192.0.2.1,4,1"), -1, FTP_CMD_PORT, FTP_ERR_SYNTAX, NULL, 0,
	    FTP_EPSV_ANY, NULL },
	{ S("PORT 192;0;2;1;4;1"), -1, FTP_CMD_PORT, FTP_ERR_SYNTAX, NULL, 0,
	    FTP_EPSV_ANY, NULL },
	{ S("PORT (192,0,2,1,4,1)"), -1, FTP_CMD_PORT, FTP_ERR_SYNTAX, NULL, 0,
	    FTP_EPSV_ANY, NULL },
	{ S("PORT 0x10,0,2,1,4,1"), -1, FTP_CMD_PORT, FTP_ERR_SYNTAX, NULL, 0,
	    FTP_EPSV_ANY, NULL },
	{ S("PORT 1e2,0,2,1,4,1"), -1, FTP_CMD_PORT, FTP_ERR_SYNTAX, NULL, 0,
	    FTP_EPSV_ANY, NULL },
	{ S("PORT"), -1, FTP_CMD_PORT, FTP_ERR_SYNTAX, NULL, 0, FTP_EPSV_ANY,
	    NULL },
	{ S("PORT    "), -1, FTP_CMD_PORT, FTP_ERR_SYNTAX, NULL, 0,
	    FTP_EPSV_ANY, NULL },
	{ S("PORT 192,0,2,1,4,1x"), -1, FTP_CMD_PORT, FTP_ERR_SYNTAX, NULL, 0,
	    FTP_EPSV_ANY, NULL },
	{ S("PORT 192,0,2,1,4,1 junk"), -1, FTP_CMD_PORT, FTP_ERR_SYNTAX, NULL,
	    0, FTP_EPSV_ANY, NULL },
	{ S("PORT 192,0,2,1,4,\0" "1"), -1, FTP_CMD_PORT, FTP_ERR_SYNTAX, NULL,
	    0, FTP_EPSV_ANY, NULL },
	{ S("PORT 192,0,2,1\0,4,1"), -1, FTP_CMD_PORT, FTP_ERR_SYNTAX, NULL, 0,
	    FTP_EPSV_ANY, NULL },
	{ S("PORT 192,0,2,1,4,1\0"), -1, FTP_CMD_PORT, FTP_ERR_SYNTAX, NULL, 0,
	    FTP_EPSV_ANY, NULL },
	{ S("PORT \xd9\xa1,0,2,1,4,1"), -1, FTP_CMD_PORT, FTP_ERR_SYNTAX, NULL,
	    0, FTP_EPSV_ANY, NULL },
	/* Not PORT */
	{ S("PORTX 192,0,2,1,4,1"), 0, FTP_CMD_OTHER, 0, NULL, 0, 0,
	    "192,0,2,1,4,1" },
	{ S("POR 192,0,2,1,4,1"), 0, FTP_CMD_OTHER, FTP_ERR_NONE, NULL, 0,
	    FTP_EPSV_ANY, NULL },
	{ S("XPORT 192,0,2,1,4,1"), 0, FTP_CMD_OTHER, FTP_ERR_NONE, NULL, 0,
	    FTP_EPSV_ANY, NULL },
	{ S("PO\0RT 192,0,2,1,4,1"), 0, FTP_CMD_OTHER, FTP_ERR_NONE, NULL, 0,
	    FTP_EPSV_ANY, NULL },
	{ S("PORT\0 192,0,2,1,4,1"), 0, FTP_CMD_OTHER, FTP_ERR_NONE, NULL, 0,
	    FTP_EPSV_ANY, NULL },
	/* EPRT: valid forms */
	{ S("EPRT |1|192.0.2.1|1025|"), 0, FTP_CMD_EPRT, 0, "192.0.2.1", 1025,
	    FTP_EPSV_ANY, NULL },
	{ S("eprt |1|192.0.2.1|1025|"), 0, FTP_CMD_EPRT, 0, "192.0.2.1", 1025,
	    FTP_EPSV_ANY, NULL },
	{ S("  EpRt   |1|192.0.2.1|1025|  \r"), 0, FTP_CMD_EPRT, 0, "192.0.2.1",
	    1025, FTP_EPSV_ANY, NULL },
	{ S("EPRT !1!192.0.2.1!1025!"), 0, FTP_CMD_EPRT, 0, "192.0.2.1", 1025,
	    FTP_EPSV_ANY, NULL },
	{ S("EPRT ~1~0.0.0.0~65535~"), 0, FTP_CMD_EPRT, 0, "0.0.0.0", 65535,
	    FTP_EPSV_ANY, NULL },
	{ S("EPRT |1|192.0.2.1|1|"), 0, FTP_CMD_EPRT, 0, "192.0.2.1", 1,
	    FTP_EPSV_ANY, NULL },
	{ S("EPRT |1|192.0.2.1|00021|"), 0, FTP_CMD_EPRT, 0, "192.0.2.1", 21,
	    FTP_EPSV_ANY, NULL },
	{ S("EPRT |2|2001:db8::1|1025|"), 0, FTP_CMD_EPRT, 0, "2001:db8::1",
	    1025, FTP_EPSV_ANY, NULL },
	{ S("EPRT |2|2001:DB8::1|1025|"), 0, FTP_CMD_EPRT, 0, "2001:db8::1",
	    1025, FTP_EPSV_ANY, NULL },
	{ S("EPRT |2|2001:0db8:0000:0000:0000:0000:0000:0001|1025|"), 0,
	    FTP_CMD_EPRT, 0, "2001:db8::1", 1025, FTP_EPSV_ANY, NULL },
	{ S("EPRT |2|2001:db8:1:0:0:0:0:2|5282|"), 0, FTP_CMD_EPRT, 0,
	    "2001:db8:1::2", 5282, FTP_EPSV_ANY, NULL },
	{ S("EPRT |2|::1|21|"), 0, FTP_CMD_EPRT, 0, "::1", 21, FTP_EPSV_ANY,
	    NULL },
	{ S("EPRT |2|::|21|"), 0, FTP_CMD_EPRT, 0, "::", 21, FTP_EPSV_ANY,
	    NULL },
	{ S("EPRT |2|2001:db8:2::|1025|"), 0, FTP_CMD_EPRT, 0, "2001:db8:2::",
	    1025, FTP_EPSV_ANY, NULL },
	{ S("EPRT |2|::ffff:192.0.2.1|1025|"), 0, FTP_CMD_EPRT, 0,
	    "::ffff:192.0.2.1", 1025, FTP_EPSV_ANY, NULL },
	{ S("EPRT |2|::FFFF:c000:0201|1025|"), 0, FTP_CMD_EPRT, 0,
	    "::ffff:192.0.2.1", 1025, FTP_EPSV_ANY, NULL },
	{ S("EPRT |2|1:2:3:4:5:6:192.0.2.1|1025|"), 0, FTP_CMD_EPRT, 0,
	    "1:2:3:4:5:6:c000:201", 1025, FTP_EPSV_ANY, NULL },
	{ S("EPRT #2#fe80::1:2:3:4#1025#"), 0, FTP_CMD_EPRT, 0, "fe80::1:2:3:4",
	    1025, FTP_EPSV_ANY, NULL },
	{ S("EPRT |2|ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff|65535|"), 0,
	    FTP_CMD_EPRT, 0, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535,
	    FTP_EPSV_ANY, NULL },
	/* EPRT: malformed address */
	{ S("EPRT |2|fe80::1%eth0|1025|"), -1, FTP_CMD_EPRT, FTP_ERR_ADDR, NULL,
	    0, FTP_EPSV_ANY, NULL },
	{ S("EPRT |2|2001:db8::1::2|1025|"), -1, FTP_CMD_EPRT, FTP_ERR_ADDR,
	    NULL, 0, FTP_EPSV_ANY, NULL },
	{ S("EPRT |2|2001:db8:0:0:0:0:0:0:1|1025|"), -1, FTP_CMD_EPRT,
	    FTP_ERR_ADDR, NULL, 0, FTP_EPSV_ANY, NULL },
	{ S("EPRT |2|12345::1|1025|"), -1, FTP_CMD_EPRT, FTP_ERR_ADDR, NULL, 0,
	    FTP_EPSV_ANY, NULL },
	{ S("EPRT |2|[2001:db8::1]|1025|"), -1, FTP_CMD_EPRT, FTP_ERR_ADDR,
	    NULL, 0, FTP_EPSV_ANY, NULL },
	{ S("EPRT |2|2001:db8::g|1025|"), -1, FTP_CMD_EPRT, FTP_ERR_ADDR, NULL,
	    0, FTP_EPSV_ANY, NULL },
	{ S("EPRT |2|192.0.2.1|1025|"), -1, FTP_CMD_EPRT, FTP_ERR_ADDR, NULL, 0,
	    FTP_EPSV_ANY, NULL },
	{ S("EPRT |2|::ffff:192.0.2.256|1025|"), -1, FTP_CMD_EPRT, FTP_ERR_ADDR,
	    NULL, 0, FTP_EPSV_ANY, NULL },
	{ S("EPRT |2||1025|"), -1, FTP_CMD_EPRT, FTP_ERR_ADDR, NULL, 0,
	    FTP_EPSV_ANY, NULL },
	{ S("EPRT |2|::1\0|1025|"), -1, FTP_CMD_EPRT, FTP_ERR_ADDR, NULL, 0,
	    FTP_EPSV_ANY, NULL },
	{ S("EPRT |2|0000:0000:0000:0000:0000:0000:0000:0000:0|1|"), -1,
	    FTP_CMD_EPRT, FTP_ERR_ADDR, NULL, 0, FTP_EPSV_ANY, NULL },
	{ S("EPRT |1|2001:db8::1|1025|"), -1, FTP_CMD_EPRT, FTP_ERR_ADDR, NULL,
	    0, FTP_EPSV_ANY, NULL },
	{ S("EPRT |1|::ffff:192.0.2.1|1025|"), -1, FTP_CMD_EPRT, FTP_ERR_ADDR,
	    NULL, 0, FTP_EPSV_ANY, NULL },
	{ S("EPRT |1|192.0.2|1025|"), -1, FTP_CMD_EPRT, FTP_ERR_ADDR, NULL, 0,
	    FTP_EPSV_ANY, NULL },
	{ S("EPRT |1|192.0.2.256|1025|"), -1, FTP_CMD_EPRT, FTP_ERR_ADDR, NULL,
	    0, FTP_EPSV_ANY, NULL },
	{ S("EPRT |1|192.0.2.1.5|1025|"), -1, FTP_CMD_EPRT, FTP_ERR_ADDR, NULL,
	    0, FTP_EPSV_ANY, NULL },
	{ S("EPRT |1|192.0.2.01|1025|"), -1, FTP_CMD_EPRT, FTP_ERR_ADDR, NULL,
	    0, FTP_EPSV_ANY, NULL },
	{ S("EPRT |1|0x7f.0.0.1|1025|"), -1, FTP_CMD_EPRT, FTP_ERR_ADDR, NULL,
	    0, FTP_EPSV_ANY, NULL },
	{ S("EPRT |1|3221225985|1025|"), -1, FTP_CMD_EPRT, FTP_ERR_ADDR, NULL,
	    0, FTP_EPSV_ANY, NULL },
	{ S("EPRT |1| 192.0.2.1|1025|"), -1, FTP_CMD_EPRT, FTP_ERR_ADDR, NULL,
	    0, FTP_EPSV_ANY, NULL },
	{ S("EPRT |1|192.0.2.1 |1025|"), -1, FTP_CMD_EPRT, FTP_ERR_ADDR, NULL,
	    0, FTP_EPSV_ANY, NULL },
	{ S("EPRT |1|192.0.2.1\0|1025|"), -1, FTP_CMD_EPRT, FTP_ERR_ADDR, NULL,
	    0, FTP_EPSV_ANY, NULL },
	{ S("EPRT |1|\0" "192.0.2.1|1025|"), -1, FTP_CMD_EPRT, FTP_ERR_ADDR,
	    NULL, 0, FTP_EPSV_ANY, NULL },
	{ S("EPRT |1|||1025|"), -1, FTP_CMD_EPRT, FTP_ERR_SYNTAX, NULL, 0,
	    FTP_EPSV_ANY, NULL },
	{ S("EPRT |1|192.0.2.1192.0.2.1192.0.2.1192.0.2.1192.0.2.1|1025|"), -1,
	    FTP_CMD_EPRT, FTP_ERR_ADDR, NULL, 0, FTP_EPSV_ANY, NULL },
	/* EPRT: malformed port */
	{ S("EPRT |1|192.0.2.1|0|"), -1, FTP_CMD_EPRT, FTP_ERR_PORT, NULL, 0,
	    FTP_EPSV_ANY, NULL },
	{ S("EPRT |1|192.0.2.1|00000|"), -1, FTP_CMD_EPRT, FTP_ERR_PORT, NULL,
	    0, FTP_EPSV_ANY, NULL },
	{ S("EPRT |1|192.0.2.1|65536|"), -1, FTP_CMD_EPRT, FTP_ERR_PORT, NULL,
	    0, FTP_EPSV_ANY, NULL },
	{ S("EPRT |1|192.0.2.1|000021|"), -1, FTP_CMD_EPRT, FTP_ERR_PORT, NULL,
	    0, FTP_EPSV_ANY, NULL },
	{ S("EPRT |1|192.0.2.1|99999999999999999999|"), -1, FTP_CMD_EPRT,
	    FTP_ERR_PORT, NULL, 0, FTP_EPSV_ANY, NULL },
	{ S("EPRT |1|192.0.2.1|4294968321|"), -1, FTP_CMD_EPRT, FTP_ERR_PORT,
	    NULL, 0, FTP_EPSV_ANY, NULL },
	{ S("EPRT |1|192.0.2.1|-1|"), -1, FTP_CMD_EPRT, FTP_ERR_PORT, NULL, 0,
	    FTP_EPSV_ANY, NULL },
	{ S("EPRT |1|192.0.2.1|+21|"), -1, FTP_CMD_EPRT, FTP_ERR_PORT, NULL, 0,
	    FTP_EPSV_ANY, NULL },
	{ S("EPRT |1|192.0.2.1||"), -1, FTP_CMD_EPRT, FTP_ERR_PORT, NULL, 0,
	    FTP_EPSV_ANY, NULL },
	{ S("EPRT |1|192.0.2.1|10 25|"), -1, FTP_CMD_EPRT, FTP_ERR_PORT, NULL,
	    0, FTP_EPSV_ANY, NULL },
	{ S("EPRT |1|192.0.2.1| 1025|"), -1, FTP_CMD_EPRT, FTP_ERR_PORT, NULL,
	    0, FTP_EPSV_ANY, NULL },
	{ S("EPRT |1|192.0.2.1|0x401|"), -1, FTP_CMD_EPRT, FTP_ERR_PORT, NULL,
	    0, FTP_EPSV_ANY, NULL },
	{ S("EPRT |1|192.0.2.1|1025\0|"), -1, FTP_CMD_EPRT, FTP_ERR_PORT, NULL,
	    0, FTP_EPSV_ANY, NULL },
	/* EPRT: network protocol */
	{ S("EPRT |3|192.0.2.1|1025|"), -1, FTP_CMD_EPRT, FTP_ERR_PROTO, NULL,
	    0, FTP_EPSV_ANY, NULL },
	{ S("EPRT |0|192.0.2.1|1025|"), -1, FTP_CMD_EPRT, FTP_ERR_PROTO, NULL,
	    0, FTP_EPSV_ANY, NULL },
	{ S("EPRT |01|192.0.2.1|1025|"), -1, FTP_CMD_EPRT, FTP_ERR_PROTO, NULL,
	    0, FTP_EPSV_ANY, NULL },
	{ S("EPRT |12|192.0.2.1|1025|"), -1, FTP_CMD_EPRT, FTP_ERR_PROTO, NULL,
	    0, FTP_EPSV_ANY, NULL },
	{ S("EPRT |99999999999999999999|192.0.2.1|1025|"), -1, FTP_CMD_EPRT,
	    FTP_ERR_PROTO, NULL, 0, FTP_EPSV_ANY, NULL },
	/* EPRT: structure */
	{ S("EPRT ||192.0.2.1|1025|"), -1, FTP_CMD_EPRT, FTP_ERR_SYNTAX, NULL,
	    0, FTP_EPSV_ANY, NULL },
	{ S("EPRT |a|192.0.2.1|1025|"), -1, FTP_CMD_EPRT, FTP_ERR_SYNTAX, NULL,
	    0, FTP_EPSV_ANY, NULL },
	{ S("EPRT | 1|192.0.2.1|1025|"), -1, FTP_CMD_EPRT, FTP_ERR_SYNTAX, NULL,
	    0, FTP_EPSV_ANY, NULL },
	{ S("EPRT |-1|192.0.2.1|1025|"), -1, FTP_CMD_EPRT, FTP_ERR_SYNTAX, NULL,
	    0, FTP_EPSV_ANY, NULL },
	{ S("EPRT |\0|192.0.2.1|1025|"), -1, FTP_CMD_EPRT, FTP_ERR_SYNTAX, NULL,
	    0, FTP_EPSV_ANY, NULL },
	{ S("EPRT"), -1, FTP_CMD_EPRT, FTP_ERR_SYNTAX, NULL, 0, FTP_EPSV_ANY,
	    NULL },
	{ S("EPRT   \t"), -1, FTP_CMD_EPRT, FTP_ERR_SYNTAX, NULL, 0,
	    FTP_EPSV_ANY, NULL },
	{ S("EPRT |"), -1, FTP_CMD_EPRT, FTP_ERR_SYNTAX, NULL, 0, FTP_EPSV_ANY,
	    NULL },
	{ S("EPRT ||||"), -1, FTP_CMD_EPRT, FTP_ERR_SYNTAX, NULL, 0,
	    FTP_EPSV_ANY, NULL },
	{ S("EPRT |1|192.0.2.1|1025"), -1, FTP_CMD_EPRT, FTP_ERR_SYNTAX, NULL,
	    0, FTP_EPSV_ANY, NULL },
	{ S("EPRT |1|192.0.2.1"), -1, FTP_CMD_EPRT, FTP_ERR_SYNTAX, NULL, 0,
	    FTP_EPSV_ANY, NULL },
	{ S("EPRT |1|192.0.2.1|1025||"), -1, FTP_CMD_EPRT, FTP_ERR_SYNTAX, NULL,
	    0, FTP_EPSV_ANY, NULL },
	{ S("EPRT |1|192.0.2.1|1025|x"), -1, FTP_CMD_EPRT, FTP_ERR_SYNTAX, NULL,
	    0, FTP_EPSV_ANY, NULL },
	{ S("EPRT |1|192.0.2.1|1025|\0"), -1, FTP_CMD_EPRT, FTP_ERR_SYNTAX,
	    NULL, 0, FTP_EPSV_ANY, NULL },
	{ S("EPRT |1|192.0.2.1|1025| |"), -1, FTP_CMD_EPRT, FTP_ERR_SYNTAX,
	    NULL, 0, FTP_EPSV_ANY, NULL },
	{ S("EPRT |1!192.0.2.1!1025|"), -1, FTP_CMD_EPRT, FTP_ERR_SYNTAX, NULL,
	    0, FTP_EPSV_ANY, NULL },
	{ S("EPRT 1|192.0.2.1|1025|"), -1, FTP_CMD_EPRT, FTP_ERR_SYNTAX, NULL,
	    0, FTP_EPSV_ANY, NULL },
	{ S("EPRT \x7f" "1\x7f" "192.0.2.1\x7f" "1025\x7f"), -1, FTP_CMD_EPRT,
	    FTP_ERR_SYNTAX, NULL, 0, FTP_EPSV_ANY, NULL },
	{ S("EPRT \x80" "1\x80" "192.0.2.1\x80" "1025\x80"), -1, FTP_CMD_EPRT,
	    FTP_ERR_SYNTAX, NULL, 0, FTP_EPSV_ANY, NULL },
	{ S("EPRT \x01" "1\x01" "192.0.2.1\x01" "1025\x01"), -1, FTP_CMD_EPRT,
	    FTP_ERR_SYNTAX, NULL, 0, FTP_EPSV_ANY, NULL },
	{ S("EPRT \0" "1\0" "192.0.2.1\0" "1025\0"), -1, FTP_CMD_EPRT,
	    FTP_ERR_SYNTAX, NULL, 0, FTP_EPSV_ANY, NULL },
	/* EPSV */
	{ S("EPSV"), 0, FTP_CMD_EPSV, 0, NULL, 0, FTP_EPSV_ANY, "" },
	{ S("epsv"), 0, FTP_CMD_EPSV, 0, NULL, 0, FTP_EPSV_ANY, NULL },
	{ S("EPSV  \r"), 0, FTP_CMD_EPSV, 0, NULL, 0, FTP_EPSV_ANY, "" },
	{ S("EPSV 1"), 0, FTP_CMD_EPSV, 0, NULL, 0, FTP_EPSV_INET, NULL },
	{ S("EPSV 2"), 0, FTP_CMD_EPSV, 0, NULL, 0, FTP_EPSV_INET6, NULL },
	{ S("EPSV ALL"), 0, FTP_CMD_EPSV, 0, NULL, 0, FTP_EPSV_ALL, NULL },
	{ S("epsv all"), 0, FTP_CMD_EPSV, 0, NULL, 0, FTP_EPSV_ALL, NULL },
	{ S("EpSv aLl"), 0, FTP_CMD_EPSV, 0, NULL, 0, FTP_EPSV_ALL, NULL },
	{ S("  EPSV   ALL  "), 0, FTP_CMD_EPSV, 0, NULL, 0, FTP_EPSV_ALL,
	    "ALL" },
	{ S("EPSV 3"), -1, FTP_CMD_EPSV, FTP_ERR_PROTO, NULL, 0, FTP_EPSV_ANY,
	    NULL },
	{ S("EPSV 0"), -1, FTP_CMD_EPSV, FTP_ERR_PROTO, NULL, 0, FTP_EPSV_ANY,
	    NULL },
	{ S("EPSV 01"), -1, FTP_CMD_EPSV, FTP_ERR_PROTO, NULL, 0, FTP_EPSV_ANY,
	    NULL },
	{ S("EPSV 99999999999999999999"), -1, FTP_CMD_EPSV, FTP_ERR_PROTO, NULL,
	    0, FTP_EPSV_ANY, NULL },
	{ S("EPSV ALLX"), -1, FTP_CMD_EPSV, FTP_ERR_SYNTAX, NULL, 0,
	    FTP_EPSV_ANY, NULL },
	{ S("EPSV AL"), -1, FTP_CMD_EPSV, FTP_ERR_SYNTAX, NULL, 0, FTP_EPSV_ANY,
	    NULL },
	{ S("EPSV 1 2"), -1, FTP_CMD_EPSV, FTP_ERR_SYNTAX, NULL, 0,
	    FTP_EPSV_ANY, NULL },
	{ S("EPSV -1"), -1, FTP_CMD_EPSV, FTP_ERR_SYNTAX, NULL, 0, FTP_EPSV_ANY,
	    NULL },
	{ S("EPSV |||1|"), -1, FTP_CMD_EPSV, FTP_ERR_SYNTAX, NULL, 0,
	    FTP_EPSV_ANY, NULL },
	{ S("EPSV A\0LL"), -1, FTP_CMD_EPSV, FTP_ERR_SYNTAX, NULL, 0,
	    FTP_EPSV_ANY, NULL },
	{ S("EPSV 1\0"), -1, FTP_CMD_EPSV, FTP_ERR_SYNTAX, NULL, 0,
	    FTP_EPSV_ANY, NULL },
	{ S("EPSV\0"), 0, FTP_CMD_OTHER, FTP_ERR_NONE, NULL, 0, FTP_EPSV_ANY,
	    NULL },
	{ S("EPSVALL"), 0, FTP_CMD_OTHER, FTP_ERR_NONE, NULL, 0, FTP_EPSV_ANY,
	    NULL },
	/* Other verbs */
	{ S("PASV"), 0, FTP_CMD_PASV, 0, NULL, 0, 0, "" },
	{ S("pasv"), 0, FTP_CMD_PASV, 0, NULL, 0, 0, "" },
	{ S(" PASV \r"), 0, FTP_CMD_PASV, 0, NULL, 0, 0, "" },
	{ S("PASV x"), 0, FTP_CMD_PASV, 0, NULL, 0, 0, "x" },
	{ S("LPRT 4,4,192,0,2,1,2,4,1"), 0, FTP_CMD_LPRT, FTP_ERR_NONE, NULL, 0,
	    FTP_EPSV_ANY, NULL },
	{ S("lpsv"), 0, FTP_CMD_LPSV, FTP_ERR_NONE, NULL, 0, FTP_EPSV_ANY,
	    NULL },
	{ S("USER anonymous"), 0, FTP_CMD_USER, 0, NULL, 0, 0, "anonymous" },
	{ S("user  ftp  "), 0, FTP_CMD_USER, 0, NULL, 0, 0, "ftp" },
	{ S("USER joe smith"), 0, FTP_CMD_USER, 0, NULL, 0, 0, "joe smith" },
	{ S("USER"), 0, FTP_CMD_USER, 0, NULL, 0, 0, "" },
	{ S("USER a\0b"), 0, FTP_CMD_USER, 0, NULL, 0, 0, NULL },
	{ S("PASS secret word"), 0, FTP_CMD_OTHER, 0, NULL, 0, 0,
	    "secret word" },
	{ S("QUIT"), 0, FTP_CMD_OTHER, 0, NULL, 0, 0, "" },
	{ S("Quit"), 0, FTP_CMD_OTHER, FTP_ERR_NONE, NULL, 0, FTP_EPSV_ANY,
	    NULL },
	{ S("AUTH TLS"), 0, FTP_CMD_AUTH, 0, NULL, 0, 0, "TLS" },
	{ S("RETR some file.txt"), 0, FTP_CMD_OTHER, 0, NULL, 0, 0,
	    "some file.txt" },
	{ S("NOOP"), 0, FTP_CMD_OTHER, 0, NULL, 0, 0, "" },
	{ S(""), 0, FTP_CMD_OTHER, 0, NULL, 0, 0, "" },
	{ S("   "), 0, FTP_CMD_OTHER, 0, NULL, 0, 0, "" },
	{ S("\r"), 0, FTP_CMD_OTHER, 0, NULL, 0, 0, "" },
	{ S("\0"), 0, FTP_CMD_OTHER, 0, NULL, 0, 0, "" },
	{ S("\0\0\0\0"), 0, FTP_CMD_OTHER, 0, NULL, 0, 0, "" },
	{ S("\xff\xf4\xff\xf2" "ABOR"), 0, FTP_CMD_OTHER, 0, NULL, 0, 0, "" },
	{ S("\xff\xff\xff"), 0, FTP_CMD_OTHER, FTP_ERR_NONE, NULL, 0,
	    FTP_EPSV_ANY, NULL },
};

static const struct reply_test reply_tests[] = {
	{ "single line", {
	    { S("220 Service ready"), 0, 220, 1 } } },
	{ "code only", {
	    { S("230"), 0, 230, 1 } } },
	{ "code and space", {
	    { S("230 "), 0, 230, 1 } } },
	{ "1xx then 2xx", {
	    { S("150 Opening BINARY mode data connection"), 0, 150, 1 },
	    { S("226 Transfer complete"), 0, 226, 1 } } },
	{ "back to back", {
	    { S("220 ready"), 0, 220, 1 },
	    { S("331 Password required"), 0, 331, 1 },
	    { S("230 Logged in"), 0, 230, 1 } } },
	{ "multi-line", {
	    { S("220-Welcome"), 0, 220, 0 },
	    { S("220-to the server"), 0, 220, 0 },
	    { S("220 ready"), 0, 220, 1 } } },
	{ "multi-line FEAT", {
	    { S("211-Features:"), 0, 211, 0 },
	    { S(" EPRT"), 0, 211, 0 },
	    { S(" EPSV"), 0, 211, 0 },
	    { S(" MDTM"), 0, 211, 0 },
	    { S(" UTF8"), 0, 211, 0 },
	    { S("211 End"), 0, 211, 1 } } },
	{ "multi-line, other codes inside", {
	    { S("220-first"), 0, 220, 0 },
	    { S("230 not the end"), 0, 220, 0 },
	    { S("221 nor this"), 0, 220, 0 },
	    { S("220x nor this"), 0, 220, 0 },
	    { S("2201 nor this"), 0, 220, 0 },
	    { S("220-nor this"), 0, 220, 0 },
	    { S("220 end"), 0, 220, 1 } } },
	{ "multi-line, anything inside", {
	    { S("250-"), 0, 250, 0 },
	    { S(""), 0, 250, 0 },
	    { S("\0\0"), 0, 250, 0 },
	    { S("   "), 0, 250, 0 },
	    { S("\xff garbage"), 0, 250, 0 },
	    { S("22"), 0, 250, 0 },
	    { S("250"), 0, 250, 1 } } },
	{ "multi-line then next reply", {
	    { S("230-Welcome"), 0, 230, 0 },
	    { S("230 Logged in"), 0, 230, 1 },
	    { S("200 Type set to I"), 0, 200, 1 } } },
	{ "multi-line 1xx then 2xx", {
	    { S("150-About to open"), 0, 150, 0 },
	    { S("150 data connection"), 0, 150, 1 },
	    { S("226-Transfer"), 0, 226, 0 },
	    { S("226 complete"), 0, 226, 1 } } },
	{ "multi-line 227", {
	    { S("227-Entering Passive Mode (192,0,2,1,4,1)"), 0, 227, 0 },
	    { S("227 OK"), 0, 227, 1 } } },
	{ "code 100 and 599", {
	    { S("100 lowest"), 0, 100, 1 },
	    { S("599 highest"), 0, 599, 1 } } },
	{ "bad: empty", {
	    { S(""), -1, 0, 0 } } },
	{ "bad: short code", {
	    { S("22"), -1, 0, 0 } } },
	{ "bad: four digits", {
	    { S("2200 ready"), -1, 0, 0 } } },
	{ "bad: letter in code", {
	    { S("22a ready"), -1, 0, 0 } } },
	{ "bad: code 099", {
	    { S("099 low"), -1, 0, 0 } } },
	{ "bad: code 600", {
	    { S("600 high"), -1, 0, 0 } } },
	{ "bad: code 000", {
	    { S("000"), -1, 0, 0 } } },
	{ "bad: leading space", {
	    { S(" 220 ready"), -1, 0, 0 } } },
	{ "bad: no separator", {
	    { S("220ready"), -1, 0, 0 } } },
	{ "bad: tab separator", {
	    { S("220\tready"), -1, 0, 0 } } },
	{ "bad: NUL separator", {
	    { S("220\0ready"), -1, 0, 0 } } },
	{ "bad: NUL first", {
	    { S("\0" "220 ready"), -1, 0, 0 } } },
	{ "bad: sign", {
	    { S("+220 ready"), -1, 0, 0 } } },
	{ "bad: words", {
	    { S("hello world"), -1, 0, 0 } } },
	{ "bad line leaves the state alone", {
	    { S("hello"), -1, 0, 0 },
	    { S("220 ready"), 0, 220, 1 } } },
	{ "bad line between replies", {
	    { S("220-a"), 0, 220, 0 },
	    { S("220 b"), 0, 220, 1 },
	    { S("junk"), -1, 0, 0 },
	    { S("331-c"), 0, 331, 0 },
	    { S("331 d"), 0, 331, 1 } } },
};

static const struct pasv_test p227_tests[] = {
	{ S("227 Entering Passive Mode (192,0,2,1,4,1)"), 0, "192.0.2.1",
	    1025 },
	{ S("227 Entering Passive Mode (192,0,2,1,4,1)."), 0, "192.0.2.1",
	    1025 },
	{ S("227 Entering Passive Mode 192,0,2,1,4,1"), 0, "192.0.2.1", 1025 },
	{ S("227 Entering Passive Mode (192,0,2,1,4,1"), 0, "192.0.2.1", 1025 },
	{ S("227 =192,0,2,1,4,1"), 0, "192.0.2.1", 1025 },
	{ S("227 192,0,2,1,4,1"), 0, "192.0.2.1", 1025 },
	{ S("227-192,0,2,1,4,1"), 0, "192.0.2.1", 1025 },
	{ S("227 Entering Passive Mode (192, 0, 2, 1, 4, 1)"), 0, "192.0.2.1",
	    1025 },
	{ S("227 Entering Passive Mode v2 (192,0,2,1,4,1)"), 0, "192.0.2.1",
	    1025 },
	{ S("227 Entering Passive Mode (198,51,100,7,255,255) ok"), 0,
	    "198.51.100.7", 65535 },
	{ S("227-Entering Passive Mode (192,0,2,1,4,1)"), 0, "192.0.2.1",
	    1025 },
	{ S("227 (0,0,0,0,0,1)"), 0, "0.0.0.0", 1 },
	{ S("227 Entering Passive Mode (010,000,002,001,004,001)"), 0,
	    "10.0.2.1", 1025 },
	{ S("227 Passive 192,0,2,1,4,1 not 198,51,100,1,1,1"), 0, "192.0.2.1",
	    1025 },
	{ S("227 Entering Passive Mode (192,0,2,1,4,1)\0junk"), 0, "192.0.2.1",
	    1025 },
	{ S("227 Entering Passive Mode (256,0,2,1,4,1)"), -1, NULL, 0 },
	{ S("227 Entering Passive Mode (192,0,2,1,4,256)"), -1, NULL, 0 },
	{ S("227 Entering Passive Mode (192,0,2,1,256,0)"), -1, NULL, 0 },
	{ S("227 Entering Passive Mode (192,0,2,1,0,0)"), -1, NULL, 0 },
	{ S("227 Entering Passive Mode (192,0,2,1,4)"), -1, NULL, 0 },
	{ S("227 Entering Passive Mode (192,0,2,1)"), -1, NULL, 0 },
	{ S("227 Entering Passive Mode (192,0,2,1,4,1,7)"), -1, NULL, 0 },
	{ S("227 Entering Passive Mode (192,0,2,1,4,)"), -1, NULL, 0 },
	{ S("227 Entering Passive Mode (192,0,2,1,4,1,)"), -1, NULL, 0 },
	{ S("227 Entering Passive Mode (99999999999999999999,0,2,1,4,1)"), -1,
	    NULL, 0 },
	{ S("227 Entering Passive Mode (192,0,2,1,4,99999999999999999999)"), -1,
	    NULL, 0 },
	{ S("227 Entering Passive Mode (1234,0,2,1,4,1)"), -1, NULL, 0 },
	{ S("227 Entering Passive Mode (0192,0,2,1,4,1)"), -1, NULL, 0 },
	{ S("227 Entering Passive Mode (-1,0,2,1,4,1)"), -1, NULL, 0 },
	{ S("227 Entering Passive Mode (+1,0,2,1,4,1)"), -1, NULL, 0 },
	{ S("227 Entering Passive Mode (192,0,2,-1,4,1)"), -1, NULL, 0 },
	{ S("227 Entering Passive Mode (192,0,2,\0" "1,4,1)"), -1, NULL, 0 },
	{ S("227 Entering Passive Mode (192.0.2.1,4,1)"), -1, NULL, 0 },
	{ S("227 Entering Passive Mode (192 ,0,2,1,4,1)"), -1, NULL, 0 },
	{ S("227 Entering Passive Mode"), -1, NULL, 0 },
	{ S("227 Entering Passive Mode ()"), -1, NULL, 0 },
	{ S("227 Entering Passive Mode (a,b,c,d,e,f)"), -1, NULL, 0 },
	{ S("228 Entering Passive Mode (192,0,2,1,4,1)"), -1, NULL, 0 },
	{ S("227Entering Passive Mode (192,0,2,1,4,1)"), -1, NULL, 0 },
	{ S("2270 (192,0,2,1,4,1)"), -1, NULL, 0 },
	{ S(" 227 (192,0,2,1,4,1)"), -1, NULL, 0 },
	{ S("227"), -1, NULL, 0 },
	{ S("227 "), -1, NULL, 0 },
	{ S(""), -1, NULL, 0 },
	{ S("\0"), -1, NULL, 0 },
};

static const struct pasv_test p229_tests[] = {
	{ S("229 Entering Extended Passive Mode (|||6446|)"), 0, NULL, 6446 },
	{ S("229 Entering Extended Passive Mode (|||6446|)."), 0, NULL, 6446 },
	{ S("229-Entering Extended Passive Mode (|||6446|)"), 0, NULL, 6446 },
	{ S("229 Entering Extended Passive Mode (!!!6446!)"), 0, NULL, 6446 },
	{ S("229 Entering Extended Passive Mode (###00021#)"), 0, NULL, 21 },
	{ S("229 (|||1|)"), 0, NULL, 1 },
	{ S("229 (|||65535|)"), 0, NULL, 65535 },
	{ S("229 (|||6446|"), 0, NULL, 6446 },
	{ S("229 Extended (here) (|||6446|)"), -1, NULL, 0 },
	{ S("229 Entering Extended Passive Mode (|||0|)"), -1, NULL, 0 },
	{ S("229 Entering Extended Passive Mode (|||00000|)"), -1, NULL, 0 },
	{ S("229 Entering Extended Passive Mode (|||65536|)"), -1, NULL, 0 },
	{ S("229 Entering Extended Passive Mode (|||000021|)"), -1, NULL, 0 },
	{ S("229 Entering Extended Passive Mode (|||99999999999999999999|)"),
	    -1, NULL, 0 },
	{ S("229 Entering Extended Passive Mode (|||-1|)"), -1, NULL, 0 },
	{ S("229 Entering Extended Passive Mode (|||+1|)"), -1, NULL, 0 },
	{ S("229 Entering Extended Passive Mode (||| 6446|)"), -1, NULL, 0 },
	{ S("229 Entering Extended Passive Mode (|||64 46|)"), -1, NULL, 0 },
	{ S("229 Entering Extended Passive Mode (||||)"), -1, NULL, 0 },
	{ S("229 Entering Extended Passive Mode (||6446|)"), -1, NULL, 0 },
	{ S("229 Entering Extended Passive Mode (|1|192.0.2.1|6446|)"), -1,
	    NULL, 0 },
	{ S("229 Entering Extended Passive Mode (|||6446)"), -1, NULL, 0 },
	{ S("229 Entering Extended Passive Mode (|||6446!)"), -1, NULL, 0 },
	{ S("229 Entering Extended Passive Mode (|||6446"), -1, NULL, 0 },
	{ S("229 Entering Extended Passive Mode (|||"), -1, NULL, 0 },
	{ S("229 Entering Extended Passive Mode ("), -1, NULL, 0 },
	{ S("229 Entering Extended Passive Mode |||6446|"), -1, NULL, 0 },
	{ S("229 Entering Extended Passive Mode ( |||6446|)"), -1, NULL, 0 },
	{ S("229 Entering Extended Passive Mode (   6446 )"), -1, NULL, 0 },
	{ S("229 Entering Extended Passive Mode (\x7f\x7f\x7f" "6446\x7f)"), -1,
	    NULL, 0 },
	{ S("229 Entering Extended Passive Mode (\x80\x80\x80" "6446\x80)"), -1,
	    NULL, 0 },
	{ S("229 Entering Extended Passive Mode (|||\0" "6446|)"), -1, NULL,
	    0 },
	{ S("229 Entering Extended Passive Mode (\0\0\0" "6446\0)"), -1, NULL,
	    0 },
	{ S("228 Entering Extended Passive Mode (|||6446|)"), -1, NULL, 0 },
	{ S("229Entering Extended Passive Mode (|||6446|)"), -1, NULL, 0 },
	{ S("229"), -1, NULL, 0 },
	{ S(""), -1, NULL, 0 },
};

static const struct fmt_test fmt_tests[] = {
	{ F_227, AF_INET, "192.0.2.1", 1025,
	    "227 Entering Passive Mode (192,0,2,1,4,1)\r\n" },
	{ F_227, AF_INET, "0.0.0.0", 65535,
	    "227 Entering Passive Mode (0,0,0,0,255,255)\r\n" },
	{ F_227, AF_INET, "255.255.255.255", 256,
	    "227 Entering Passive Mode (255,255,255,255,1,0)\r\n" },
	{ F_227, AF_INET, "198.51.100.7", 1,
	    "227 Entering Passive Mode (198,51,100,7,0,1)\r\n" },
	{ F_227, AF_INET6, "2001:db8::1", 1025, NULL },
	{ F_227, AF_INET, "192.0.2.1", 0, NULL },
	{ F_227, 0, "192.0.2.1", 1025, NULL },
	{ F_229, 0, NULL, 6446,
	    "229 Entering Extended Passive Mode (|||6446|)\r\n" },
	{ F_229, 0, NULL, 1,
	    "229 Entering Extended Passive Mode (|||1|)\r\n" },
	{ F_229, 0, NULL, 65535,
	    "229 Entering Extended Passive Mode (|||65535|)\r\n" },
	{ F_229, 0, NULL, 0, NULL },
	{ F_PORT, AF_INET, "192.0.2.1", 1025, "PORT 192,0,2,1,4,1\r\n" },
	{ F_PORT, AF_INET, "10.0.0.255", 65535,
	    "PORT 10,0,0,255,255,255\r\n" },
	{ F_PORT, AF_INET6, "2001:db8::1", 1025, NULL },
	{ F_PORT, AF_INET, "192.0.2.1", 0, NULL },
	{ F_EPRT, AF_INET, "192.0.2.1", 1025, "EPRT |1|192.0.2.1|1025|\r\n" },
	{ F_EPRT, AF_INET, "0.0.0.0", 65535, "EPRT |1|0.0.0.0|65535|\r\n" },
	{ F_EPRT, AF_INET6, "2001:db8::1", 1025,
	    "EPRT |2|2001:db8::1|1025|\r\n" },
	{ F_EPRT, AF_INET6, "2001:DB8:0:0:0:0:0:1", 21,
	    "EPRT |2|2001:db8::1|21|\r\n" },
	{ F_EPRT, AF_INET6, "::ffff:192.0.2.1", 1025,
	    "EPRT |2|::ffff:192.0.2.1|1025|\r\n" },
	{ F_EPRT, AF_INET6, "1111:2222:3333:4444:5555:6666:7777:8888", 65535,
	    "EPRT |2|1111:2222:3333:4444:5555:6666:7777:8888|65535|\r\n" },
	{ F_EPRT, AF_INET6, "2001:db8::1", 0, NULL },
	{ F_EPRT, 0, "2001:db8::1", 1025, NULL },
	{ F_EPRT, 99, "2001:db8::1", 1025, NULL },
	/* RFC 5952 text */
	{ F_ADDR, AF_INET, "192.0.2.1", 0, "192.0.2.1" },
	{ F_ADDR, AF_INET, "0.0.0.0", 0, "0.0.0.0" },
	{ F_ADDR, AF_INET, "255.255.255.255", 0, "255.255.255.255" },
	{ F_ADDR, AF_INET6, "2001:0db8:0000:0000:0000:0000:0000:0001", 0,
	    "2001:db8::1" },
	{ F_ADDR, AF_INET6, "2001:db8:0:0:1:0:0:1", 0, "2001:db8::1:0:0:1" },
	{ F_ADDR, AF_INET6, "2001:db8:0:1:1:1:1:1", 0,
	    "2001:db8:0:1:1:1:1:1" },
	{ F_ADDR, AF_INET6, "2001:0:0:1:0:0:0:1", 0, "2001:0:0:1::1" },
	{ F_ADDR, AF_INET6, "1:0:0:0:2:0:0:0", 0, "1::2:0:0:0" },
	{ F_ADDR, AF_INET6, "1:0:0:2:0:0:0:3", 0, "1:0:0:2::3" },
	{ F_ADDR, AF_INET6, "0:1:0:1:0:1:0:1", 0, "0:1:0:1:0:1:0:1" },
	{ F_ADDR, AF_INET6, "::", 0, "::" },
	{ F_ADDR, AF_INET6, "::1", 0, "::1" },
	{ F_ADDR, AF_INET6, "1::", 0, "1::" },
	{ F_ADDR, AF_INET6, "1:0:0:0:0:0:0:0", 0, "1::" },
	{ F_ADDR, AF_INET6, "0:0:0:0:0:0:0:1", 0, "::1" },
	{ F_ADDR, AF_INET6, "1:2:3:4:5:6:7:0", 0, "1:2:3:4:5:6:7:0" },
	{ F_ADDR, AF_INET6, "0:2:3:4:5:6:7:8", 0, "0:2:3:4:5:6:7:8" },
	{ F_ADDR, AF_INET6, "1:2:3:4:5:6:0:0", 0, "1:2:3:4:5:6::" },
	{ F_ADDR, AF_INET6, "2001:DB8::ABCD", 0, "2001:db8::abcd" },
	{ F_ADDR, AF_INET6, "fe80::0001:0002", 0, "fe80::1:2" },
	{ F_ADDR, AF_INET6, "::ffff:192.0.2.1", 0, "::ffff:192.0.2.1" },
	{ F_ADDR, AF_INET6, "::ffff:c000:201", 0, "::ffff:192.0.2.1" },
	{ F_ADDR, AF_INET6, "::ffff:0:0", 0, "::ffff:0.0.0.0" },
	{ F_ADDR, AF_INET6, "::192.0.2.1", 0, "::c000:201" },
	{ F_ADDR, AF_INET6, "::1:ffff:192.0.2.1", 0, "::1:ffff:c000:201" },
	{ F_ADDR, AF_INET6, "64:ff9b::192.0.2.1", 0, "64:ff9b::c000:201" },
	{ F_ADDR, AF_INET6, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 0,
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff" },
	{ F_ADDR, 0, "192.0.2.1", 0, NULL },
};

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

static void
mkhp_af(struct ftp_hostport *hp, int af, const char *addr, uint16_t port)
{
	memset(hp, 0, sizeof(*hp));
	hp->af = af;
	hp->port = port;
	if (addr != NULL &&
	    inet_pton(strchr(addr, ':') != NULL ? AF_INET6 : AF_INET, addr,
	    hp->addr) != 1)
		checkf(0, "test table: bad address %s", addr);
}

static void
mkhp(struct ftp_hostport *hp, const char *addr, uint16_t port)
{
	mkhp_af(hp, strchr(addr, ':') != NULL ? AF_INET6 : AF_INET, addr,
	    port);
}

static int
str_eq(const char *s, size_t len, const char *want)
{
	return (strlen(want) == len && memcmp(s, want, len) == 0);
}

static void
test_cmds(void)
{
	const struct cmd_test	*t;
	struct ftp_cmd		 c;
	struct ftp_hostport	 want;
	size_t			 i;
	int			 r, ok;

	for (i = 0; i < nitems(cmd_tests); i++) {
		t = &cmd_tests[i];
		r = ftp_parse_cmd(t->in, t->len, &c);
		ok = r == t->ret && c.verb == t->verb && c.err == t->err;
		if (ok && r == 0 && t->addr != NULL) {
			mkhp(&want, t->addr, t->port);
			ok = ftp_hostport_eq(&c.hp, &want);
		}
		if (ok && r == 0 && t->verb == FTP_CMD_EPSV)
			ok = c.epsv == t->epsv;
		if (ok && t->arg != NULL)
			ok = str_eq(c.arg, c.arglen, t->arg);
		/* Pointers stay inside the line. */
		if (ok)
			ok = c.verbstr >= t->in && c.arg >= c.verbstr &&
			    c.arg + c.arglen <= t->in + t->len;
		check_in(ok, "cmd", t->in, t->len,
		    "ret %d verb %d err %d (%s) port %u epsv %d arg \"%.*s\"",
		    r, c.verb, c.err, ftp_strerror(c.err), c.hp.port, c.epsv,
		    (int)c.arglen, c.arg);
	}
}

/* Every delimiter 33-126 for IPv4 and IPv6 EPRT. */
static void
test_eprt_delims(void)
{
	static const char *const fields[][3] = {
		{ "1", "192.0.2.1", "1025" },
		{ "2", "2001:db8::1", "1025" },
	};
	struct ftp_cmd		 c;
	struct ftp_hostport	 want;
	char			 line[128];
	size_t			 f;
	int			 d, n, r, clash, ok;

	for (f = 0; f < nitems(fields); f++) {
		mkhp(&want, fields[f][1], 1025);
		for (d = 33; d <= 126; d++) {
			n = snprintf(line, sizeof(line), "EPRT %c%s%c%s%c%s%c",
			    d, fields[f][0], d, fields[f][1], d, fields[f][2],
			    d);
			clash = strchr(fields[f][0], d) != NULL ||
			    strchr(fields[f][1], d) != NULL ||
			    strchr(fields[f][2], d) != NULL;
			r = ftp_parse_cmd(line, (size_t)n, &c);
			if (clash)
				ok = r == -1;
			else
				ok = r == 0 && ftp_hostport_eq(&c.hp, &want);
			check_in(ok, "eprt delimiter", line, (size_t)n,
			    "ret %d err %s", r, ftp_strerror(c.err));
		}
	}
}

static void
test_replies(void)
{
	const struct reply_test	*t;
	const struct reply_step	*s;
	struct ftp_reply_state	 st;
	size_t			 i, j;
	int			 r, code, final;

	for (i = 0; i < nitems(reply_tests); i++) {
		t = &reply_tests[i];
		memset(&st, 0, sizeof(st));
		for (j = 0; j < MAXSTEPS && t->step[j].line != NULL; j++) {
			s = &t->step[j];
			code = final = -2;
			r = ftp_reply_line(&st, s->line, s->len, &code, &final);
			check_in(r == s->ret && (r == -1 ||
			    (code == s->code && final == s->final)),
			    t->name, s->line, s->len,
			    "step %zu: ret %d code %d final %d", j, r, code,
			    final);
		}
	}
	/* The line counter. */
	memset(&st, 0, sizeof(st));
	ftp_reply_line(&st, S("211-a"), &code, &final);
	ftp_reply_line(&st, S(" b"), &code, &final);
	ftp_reply_line(&st, S("211 c"), &code, &final);
	check_in(st.lines == 3 && st.code == 0, "reply lines", S("211-a"),
	    "lines %u code %d", st.lines, st.code);
	ftp_reply_line(&st, S("200 d"), &code, &final);
	check_in(st.lines == 1, "reply lines", S("200 d"), "lines %u",
	    st.lines);
}

static void
test_pasv(const struct pasv_test *tests, size_t n, int is227)
{
	const struct pasv_test	*t;
	struct ftp_hostport	 hp, want;
	uint16_t		 port;
	size_t			 i;
	int			 r, ok;

	for (i = 0; i < n; i++) {
		t = &tests[i];
		memset(&hp, 0, sizeof(hp));
		port = 0;
		if (is227)
			r = ftp_parse_227(t->in, t->len, &hp);
		else
			r = ftp_parse_229(t->in, t->len, &port);
		ok = r == t->ret;
		if (ok && r == 0 && is227) {
			mkhp(&want, t->addr, t->port);
			ok = ftp_hostport_eq(&hp, &want);
			port = hp.port;
		} else if (ok && r == 0)
			ok = port == t->port;
		check_in(ok, is227 ? "227" : "229", t->in, t->len,
		    "ret %d port %u", r, port);
	}
}

static void
test_227(void)
{
	test_pasv(p227_tests, nitems(p227_tests), 1);
}

static void
test_229(void)
{
	test_pasv(p229_tests, nitems(p229_tests), 0);
}

/* Every delimiter 33-126 in a 229 reply. */
static void
test_229_delims(void)
{
	char		line[128];
	uint16_t	port;
	int		d, n, r, ok;

	for (d = 33; d <= 126; d++) {
		n = snprintf(line, sizeof(line),
		    "229 Entering Extended Passive Mode (%c%c%c6446%c)",
		    d, d, d, d);
		port = 0;
		r = ftp_parse_229(line, (size_t)n, &port);
		/* A delimiter that is part of the port cannot carry it. */
		if (d == '4' || d == '6')
			ok = r == -1 || port != 6446;
		else
			ok = r == 0 && port == 6446;
		check_in(ok, "229 delimiter", line, (size_t)n, "ret %d port %u",
		    r, port);
	}
}

static int
run_fmt(enum fmt_kind kind, char *buf, size_t size,
    const struct ftp_hostport *hp)
{
	switch (kind) {
	case F_227:
		return (ftp_fmt_227(buf, size, hp));
	case F_229:
		return (ftp_fmt_229(buf, size, hp->port));
	case F_PORT:
		return (ftp_fmt_port(buf, size, hp));
	case F_EPRT:
		return (ftp_fmt_eprt(buf, size, hp));
	case F_ADDR:
		return (ftp_fmt_addr(buf, size, hp));
	}
	return (-1);
}

/* Each formatter: the text, and -1 (no overflow) when one byte short. */
static void
test_fmt(void)
{
	const struct fmt_test	*t;
	struct ftp_hostport	 hp;
	char			 buf[FTP_FMT_MAX], small[FTP_FMT_MAX + 8];
	size_t			 i, len;
	int			 r, rs, r0, ok;

	for (i = 0; i < nitems(fmt_tests); i++) {
		t = &fmt_tests[i];
		mkhp_af(&hp, t->af, t->addr, t->port);
		memset(buf, 'X', sizeof(buf));
		r = run_fmt(t->kind, buf, sizeof(buf), &hp);
		if (t->out == NULL) {
			check_in(r == -1, "fmt", t->addr, t->addr ?
			    strlen(t->addr) : 0, "kind %d ret %d", t->kind, r);
			continue;
		}
		len = strlen(t->out);
		ok = r >= 0 && (size_t)r == len && strcmp(buf, t->out) == 0;
		memset(small, 'X', sizeof(small));
		rs = run_fmt(t->kind, small, len, &hp);
		ok = ok && rs == -1 && small[len] == 'X';
		rs = run_fmt(t->kind, small, len + 1, &hp);
		ok = ok && rs == r && small[len + 1] == 'X';
		r0 = run_fmt(t->kind, small, 0, &hp);
		ok = ok && r0 == -1;
		check_in(ok, "fmt", t->out, len, "kind %d ret %d got \"%s\"",
		    t->kind, r, r >= 0 ? check_esc(buf, (size_t)r) : "");
	}
}

static uint32_t
rnd(void)
{
	seed = seed * 1103515245 + 12345;
	return (seed >> 8);
}

/* Random address, with runs of zeros often enough to test "::". */
static void
rnd_hp(struct ftp_hostport *hp, int af)
{
	int	i, w;

	memset(hp, 0, sizeof(*hp));
	hp->af = af;
	for (i = 0; i < (af == AF_INET ? 4 : 16); i += 2) {
		switch (rnd() % 4) {
		case 0:
		case 1:
			w = 0;
			break;
		case 2:
			w = (int)(rnd() % 16);
			break;
		default:
			w = (int)(rnd() & 0xffff);
			break;
		}
		hp->addr[i] = (uint8_t)(w >> 8);
		hp->addr[i + 1] = (uint8_t)w;
	}
	if (af == AF_INET6 && rnd() % 8 == 0)
		memcpy(hp->addr, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12);
	hp->port = (uint16_t)(1 + rnd() % 65535);
}

/* Format, strip CR LF, parse: the same hostport. */
static void
test_roundtrip(void)
{
	struct ftp_hostport	 hp, back;
	struct ftp_cmd		 c;
	char			 buf[FTP_FMT_MAX];
	uint16_t		 port;
	int			 i, n, ok;

	for (i = 0; i < 64; i++) {
		rnd_hp(&hp, AF_INET);
		n = ftp_fmt_port(buf, sizeof(buf), &hp);
		ok = n > 2 && ftp_parse_cmd(buf, (size_t)n - 2, &c) == 0 &&
		    c.verb == FTP_CMD_PORT && ftp_hostport_eq(&c.hp, &hp);
		n = ftp_fmt_eprt(buf, sizeof(buf), &hp);
		ok = ok && n > 2 &&
		    ftp_parse_cmd(buf, (size_t)n - 2, &c) == 0 &&
		    c.verb == FTP_CMD_EPRT && ftp_hostport_eq(&c.hp, &hp);
		n = ftp_fmt_227(buf, sizeof(buf), &hp);
		ok = ok && n > 2 &&
		    ftp_parse_227(buf, (size_t)n - 2, &back) == 0 &&
		    ftp_hostport_eq(&back, &hp);
		n = ftp_fmt_229(buf, sizeof(buf), hp.port);
		ok = ok && n > 2 &&
		    ftp_parse_229(buf, (size_t)n - 2, &port) == 0 &&
		    port == hp.port;
		check_in(ok, "round trip v4", buf, n > 0 ? (size_t)n : 0,
		    "iteration %d", i);

		rnd_hp(&hp, AF_INET6);
		n = ftp_fmt_eprt(buf, sizeof(buf), &hp);
		ok = n > 2 && ftp_parse_cmd(buf, (size_t)n - 2, &c) == 0 &&
		    c.verb == FTP_CMD_EPRT && ftp_hostport_eq(&c.hp, &hp);
		check_in(ok, "round trip v6", buf, n > 0 ? (size_t)n : 0,
		    "iteration %d", i);
	}
}

/*
 * Our RFC 5952 text against inet_ntop(3), where they agree on what to
 * write (glibc writes "::a.b.c.d" for the deprecated IPv4-compatible
 * form; RFC 5952 keeps hex there).
 */
static void
test_ntop(void)
{
	struct ftp_hostport	 hp;
	char			 ours[INET6_ADDRSTRLEN];
	char			 libc[INET6_ADDRSTRLEN];
	int			 i, n, ok;

	for (i = 0; i < 64; i++) {
		rnd_hp(&hp, AF_INET6);
		if (memcmp(hp.addr, "\0\0\0\0\0\0\0\0\0\0\0\0", 12) == 0)
			continue;
		n = ftp_fmt_addr(ours, sizeof(ours), &hp);
		ok = n > 0 && inet_ntop(AF_INET6, hp.addr, libc,
		    sizeof(libc)) != NULL && strcmp(ours, libc) == 0;
		check_in(ok, "ntop", ours, n > 0 ? (size_t)n : 0, "libc %s",
		    libc);
	}
}

static void
test_misc(void)
{
	struct ftp_hostport	hp, want;
	int			e;

	for (e = FTP_ERR_NONE; e <= FTP_ERR_PROTO; e++)
		check_in(ftp_strerror(e) != NULL && *ftp_strerror(e) != '\0',
		    "strerror", "", 0, "error %d", e);
	check_in(strcmp(ftp_strerror(FTP_ERR_PROTO),
	    "unsupported network protocol") == 0, "strerror", "", 0, "PROTO");
	check_in(ftp_strerror(1000) != NULL, "strerror", "", 0, "1000");

	mkhp(&hp, "::ffff:192.0.2.1", 21);
	mkhp(&want, "192.0.2.1", 21);
	check_in(ftp_hostport_unmap(&hp) == 1 && ftp_hostport_eq(&hp, &want) &&
	    memcmp(hp.addr + 4, "\0\0\0\0\0\0\0\0\0\0\0\0", 12) == 0,
	    "unmap", S("::ffff:192.0.2.1"), "af %d", hp.af);
	check_in(ftp_hostport_unmap(&hp) == 0 && ftp_hostport_eq(&hp, &want),
	    "unmap", S("192.0.2.1"), "af %d", hp.af);
	mkhp(&hp, "::1:ffff:192.0.2.1", 21);
	check_in(ftp_hostport_unmap(&hp) == 0 && hp.af == AF_INET6, "unmap",
	    S("::1:ffff:192.0.2.1"), "af %d", hp.af);
	mkhp(&hp, "::192.0.2.1", 21);
	check_in(ftp_hostport_unmap(&hp) == 0 && hp.af == AF_INET6, "unmap",
	    S("::192.0.2.1"), "af %d", hp.af);

	mkhp(&hp, "192.0.2.1", 21);
	mkhp(&want, "192.0.2.1", 20);
	check_in(!ftp_hostport_eq(&hp, &want), "eq", S("port"), "equal");
	mkhp(&want, "192.0.2.2", 21);
	check_in(!ftp_hostport_eq(&hp, &want), "eq", S("addr"), "equal");
	mkhp(&want, "::ffff:192.0.2.1", 21);
	check_in(!ftp_hostport_eq(&hp, &want), "eq", S("af"), "equal");
}

int
main(void)
{
	test_cmds();
	test_eprt_delims();
	test_replies();
	test_227();
	test_229();
	test_229_delims();
	test_fmt();
	test_roundtrip();
	test_ntop();
	test_misc();
	return (check_summary());
}
