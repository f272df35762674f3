/* SPDX-License-Identifier: ISC */
/*
 * fuzz_ftp_relay.c: libFuzzer target for ftp-proxy/ftp_relay.c.  The
 * input is split at LF into records; the first byte of each says what
 * it is (its low 3 bits: a client line, a server line, the head of a
 * long server line, a permit granted on the port in the next two bytes,
 * a permit refused, a client line too long) and how far the clock moves
 * (the high bits, in 1/8 s); the rest is the line.  The first byte of
 * the input picks IPv4 or IPv6 and -A.
 *
 * Whatever comes: nothing overflows; a side that is not ready refuses
 * the line and does nothing; one permit is asked for at a time, for a
 * port >= 1024, and answered once; the server only ever gets complete
 * lines in canonical form (ftp_canon_cmd()), without control characters,
 * and any PORT or EPRT it gets names the proxy's address; a close is
 * the last action.
 *
 * clang -fsanitize=fuzzer,address,undefined -Icommon -Iftp-proxy \
 *     $(pkg-config --cflags libbsd-overlay) regress/fuzz/fuzz_ftp_relay.c \
 *     ftp-proxy/ftp_relay.c ftp-proxy/ftp_parse.c ftp-proxy/telnet.c \
 *     common/addr.c common/log.c common/proto.c common/imsg.c \
 *     $(pkg-config --libs libbsd-overlay)
 */
#include "compat.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdlib.h>
#include <string.h>

#include "ftp_relay.h"
#include "telnet.h"

#define CHECK(x)	do { if (!(x)) abort(); } while (0)

enum op {
	OP_CLIENT,
	OP_SERVER,
	OP_HEAD,
	OP_GRANT,
	OP_REFUSE,
	OP_TOO_LONG,
	OP_NOPS
};

struct state {
	struct ftp_relay	relay;
	struct fr_conf		conf;
	int			inflight;	/* a permit asked for */
	int			closed;
	double			now;
};

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct fr_out	out;

static void
mkaddr(struct pfh_addr *a, const char *s)
{
	memset(a, 0, sizeof(*a));
	a->af = strchr(s, ':') != NULL ? AF_INET6 : AF_INET;
	CHECK(inet_pton(a->af, s, a->addr) == 1);
}

/* A PORT or EPRT to the server names the proxy's own address. */
static void
check_active(const struct state *st, const char *line, size_t len)
{
	struct ftp_cmd	cmd;

	if (ftp_parse_cmd(line, len, &cmd) == -1 ||
	    (cmd.verb != FTP_CMD_PORT && cmd.verb != FTP_CMD_EPRT)) {
		CHECK(cmd.verb != FTP_CMD_PORT && cmd.verb != FTP_CMD_EPRT);
		return;
	}
	CHECK(cmd.hp.af == st->conf.to_server.af);
	CHECK(memcmp(cmd.hp.addr, st->conf.to_server.addr,
	    cmd.hp.af == AF_INET ? 4 : 16) == 0);
	CHECK(cmd.hp.port >= PFH_DATA_PORT_MIN);
}

/*
 * A line to the server is in canonical form: what a server that strips
 * Telnet commands reads of it, made canonical again, is the line.
 */
static void
check_canonical(const char *line, size_t len)
{
	static char	copy[2 * FTP_CMD_MAX + 2], again[2 * FTP_CMD_MAX + 2];
	const char	*why;
	unsigned int	 seen;
	size_t		 n;
	int		 r;

	CHECK(len <= sizeof(copy));
	memcpy(copy, line, len);
	CHECK(telnet_strip(copy, len, &n, &seen) == 0 && seen == 0);
	r = ftp_canon_cmd(copy, n, again, sizeof(again), &why);
	CHECK(r >= 0 && (size_t)r == len && memcmp(again, line, len) == 0);
}

/* What went to the server in one call: whole, clean lines. */
static void
check_server_bytes(const struct state *st, const char *buf, size_t len)
{
	size_t	i, start = 0;

	for (i = 0; i < len; i++) {
		if (buf[i] == '\r') {
			CHECK(i + 1 < len && buf[i + 1] == '\n');
			CHECK(i > start);
			check_canonical(buf + start, i - start);
			check_active(st, buf + start, i - start);
			start = i + 2;
			i++;
			continue;
		}
		CHECK((unsigned char)buf[i] >= 0x20 && buf[i] != 0x7f);
	}
	CHECK(start == len);
}

static void
check_out(struct state *st)
{
	static char		 sbuf[FR_OUT_MAX];
	const struct fr_action	*a;
	size_t			 i, slen = 0;

	CHECK(!out.overflow && out.n <= FR_ACTIONS_MAX);
	for (i = 0; i < out.n; i++) {
		a = &out.a[i];
		CHECK(a->len == 0 || a->data != NULL);
		switch (a->type) {
		case FR_TO_SERVER:
			CHECK(slen + a->len <= sizeof(sbuf));
			memcpy(sbuf + slen, a->data, a->len);
			slen += a->len;
			break;
		case FR_TO_CLIENT:
			CHECK(a->len > 0);
			break;
		case FR_PERMIT_ASK:
			CHECK(!st->inflight);
			CHECK(a->kind == PFH_PASSIVE || a->kind == PFH_ACTIVE);
			CHECK(a->tport >= PFH_DATA_PORT_MIN && a->pid != 0);
			st->inflight = 1;
			break;
		case FR_PERMIT_DROP:
			CHECK(a->pid != 0);
			break;
		case FR_LOG:
			CHECK(a->len < 256);
			break;
		case FR_CLOSE:
			CHECK(i == out.n - 1);
			st->closed = 1;
			break;
		case FR_SYNCH:
		case FR_RESUME:
			break;
		default:
			abort();
		}
	}
	check_server_bytes(st, sbuf, slen);
}

static void
one_record(struct state *st, const uint8_t *p, size_t len)
{
	char		line[FTP_CMD_MAX];
	enum fr_side	side;
	unsigned int	op;
	uint16_t	port;
	int		rc, ready;

	if (len == 0)
		return;
	op = (p[0] & 7) % OP_NOPS;
	st->now += (p[0] >> 3) / 8.0;
	p++;
	len--;
	if (len > sizeof(line))
		len = sizeof(line);
	memcpy(line, p, len);
	if (op == OP_HEAD && len == 0)
		op = OP_SERVER;		/* session.c's heads are long */
	side = op == OP_CLIENT || op == OP_TOO_LONG ? FR_CLIENT : FR_SERVER;
	ready = ftp_relay_ready(&st->relay, side);
	switch (op) {
	case OP_CLIENT:
		rc = ftp_relay_client(&st->relay, line, len, st->now, &out);
		break;
	case OP_SERVER:
	case OP_HEAD:
		rc = ftp_relay_server(&st->relay, line, len, op == OP_HEAD,
		    st->now, &out);
		break;
	case OP_GRANT:
	case OP_REFUSE:
		port = len >= 2 ? (uint16_t)(p[0] << 8 | p[1]) : 0;
		rc = ftp_relay_permit(&st->relay, op == OP_GRANT ? port : 0,
		    &out);
		CHECK((rc == 0) == (st->inflight == 1));
		if (rc == 0)
			st->inflight = 0;
		ready = 1;
		break;
	default:
		if (!ready)
			return;	/* the caller holds the client meanwhile */
		ftp_relay_client_too_long(&st->relay, &out);
		rc = 0;
		break;
	}
	CHECK(rc == 0 || rc == -1);
	if (op != OP_GRANT && op != OP_REFUSE)
		CHECK(ready ? rc == 0 : rc == -1);
	if (rc == -1) {
		CHECK(out.n == 0);
		return;
	}
	check_out(st);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct state	 st;
	const uint8_t		*p = data, *end = data + size, *nl;
	int			 v6;

	if (size == 0)
		return (0);
	memset(&st, 0, sizeof(st));
	v6 = data[0] & 1;
	mkaddr(&st.conf.client, v6 ? "2001:db8:1::10" : "192.0.2.10");
	mkaddr(&st.conf.server, v6 ? "2001:db8:2::20" : "198.51.100.20");
	mkaddr(&st.conf.to_client, v6 ? "2001:db8:2::20" : "198.51.100.20");
	mkaddr(&st.conf.to_server, v6 ? "2001:db8:2::1" : "198.51.100.1");
	st.conf.anon_only = (data[0] & 2) != 0;
	st.conf.port20 = (data[0] & 4) != 0;
	ftp_relay_init(&st.relay, &st.conf);
	st.now = 1;
	p++;
	while (p < end && !st.closed) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		one_record(&st, p, (size_t)(nl - p));
		p = nl + 1;
	}
	ftp_relay_clear(&st.relay);
	return (0);
}
