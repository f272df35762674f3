/* SPDX-License-Identifier: ISC */
/*
 * pfh_seeds.c: the seed inputs of fuzz_pfh_serve, written into the
 * directory named by the argument (scripts/fuzz.sh runs it before the
 * target).  Each is the byte stream of a front end that does things
 * right: a HELLO of the current PFH_PROTO_VERSION, then sessions,
 * permits, deletes, ends and lookups, so that the fuzzer starts from
 * inputs that reach serve.c's handlers and not only its HELLO check.
 * Built from common/proto.h's structs and imsg.h's header: a protocol
 * change changes the seeds with it.
 */
#include "compat.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imsg.h"
#include "proto.h"

#define SEED_MAX	8192

struct seed {
	unsigned char	buf[SEED_MAX];
	size_t		len;
	uint32_t	reqid;
};

static void
put(struct seed *s, uint32_t type, const void *data, size_t len)
{
	struct imsg_hdr	h;

	if (s->len + sizeof(h) + len > sizeof(s->buf))
		errx(1, "seed too long");
	memset(&h, 0, sizeof(h));
	h.type = type;
	h.len = sizeof(h) + len;
	h.peerid = ++s->reqid;
	memcpy(s->buf + s->len, &h, sizeof(h));
	memcpy(s->buf + s->len + sizeof(h), data, len);
	s->len += sizeof(h) + len;
}

static void
addr(struct pfh_addr *a, const char *text)
{
	memset(a, 0, sizeof(*a));
	a->af = strchr(text, ':') != NULL ? AF_INET6 : AF_INET;
	if (inet_pton(a->af, text, a->addr) != 1)
		errx(1, "bad address %s", text);
}

static void
hello(struct seed *s, uint32_t role, uint16_t tls_lo, uint16_t tls_hi)
{
	struct pfh_hello	h;

	memset(&h, 0, sizeof(h));
	h.version = PFH_PROTO_VERSION;
	h.role = role;
	h.tls_lo = tls_lo;
	h.tls_hi = tls_hi;
	put(s, PFH_HELLO, &h, sizeof(h));
}

/* A session as a forward front end sees it (v6: the IPv6 topology). */
static void
session(struct seed *s, uint32_t sid, int v6, uint8_t proto)
{
	struct pfh_session	m;

	memset(&m, 0, sizeof(m));
	m.sid = sid;
	m.proto = proto;
	m.timeout = proto == IPPROTO_UDP ? 30 : 0;
	m.cport = 40000 + sid;
	m.dport = proto == IPPROTO_UDP ? TFTP_PORT : FTP_PORT;
	m.pport = 50000 + sid;
	m.sport = m.dport;
	addr(&m.client, v6 ? "2001:db8:1::10" : "192.0.2.10");
	addr(&m.dialled, v6 ? "2001:db8:2::10" : "198.51.100.10");
	addr(&m.proxy, v6 ? "2001:db8:2::1" : "198.51.100.1");
	addr(&m.server, v6 ? "2001:db8:2::10" : "198.51.100.10");
	addr(&m.local, v6 ? "2001:db8:1::1" : "192.0.2.1");
	m.lport = 8021;
	put(s, PFH_SESSION_START, &m, sizeof(m));
}

static void
permit(struct seed *s, uint32_t sid, uint32_t pid, uint8_t kind,
    uint8_t flags, uint16_t tport, uint16_t thigh, uint16_t timeout)
{
	struct pfh_permit	m;

	memset(&m, 0, sizeof(m));
	m.sid = sid;
	m.pid = pid;
	m.kind = kind;
	m.flags = flags;
	m.tport = tport;
	m.thigh = thigh;
	m.timeout = timeout;
	put(s, PFH_PERMIT_ADD, &m, sizeof(m));
}

static void
permit_del(struct seed *s, uint32_t sid, uint32_t pid)
{
	struct pfh_permit_del	m = { sid, pid };

	put(s, PFH_PERMIT_DEL, &m, sizeof(m));
}

static void
session_end(struct seed *s, uint32_t sid)
{
	struct pfh_session_end	m = { sid };

	put(s, PFH_SESSION_END, &m, sizeof(m));
}

static void
ctlookup(struct seed *s)
{
	struct pfh_ctlookup	m;

	memset(&m, 0, sizeof(m));
	m.proto = IPPROTO_UDP;
	m.cport = 40001;
	m.lport = 6969;
	addr(&m.client, "192.0.2.10");
	addr(&m.local, "192.0.2.1");
	put(s, PFH_CT_LOOKUP, &m, sizeof(m));
}

static void
save(const char *dir, const char *name, const struct seed *s)
{
	char	 path[1024];
	FILE	*fp;

	(void)snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fp = fopen(path, "w")) == NULL)
		err(1, "%s", path);
	if (fwrite(s->buf, 1, s->len, fp) != s->len || fclose(fp) == EOF)
		err(1, "%s", path);
}

int
main(int argc, char *argv[])
{
	struct seed	s;

	if (argc != 2)
		errx(2, "usage: pfh_seeds directory");

	/* FTP, passive then active (port 20) in IPv4, deleted, ended. */
	memset(&s, 0, sizeof(s));
	hello(&s, PFH_ROLE_FTP, 0, 0);
	session(&s, 1, 0, IPPROTO_TCP);
	permit(&s, 1, 1, PFH_PASSIVE, 0, 40001, 0, 30);
	permit(&s, 1, 2, PFH_ACTIVE, PFH_F_PORT20, 51000, 0, 30);
	permit_del(&s, 1, 1);
	session_end(&s, 1);
	save(argv[1], "seed_ftp4", &s);

	/* FTP in IPv6, two sessions, one left for the teardown. */
	memset(&s, 0, sizeof(s));
	hello(&s, PFH_ROLE_FTP, 0, 0);
	session(&s, 1, 1, IPPROTO_TCP);
	session(&s, 2, 1, IPPROTO_TCP);
	permit(&s, 1, 1, PFH_ACTIVE, 0, 51000, 0, 60);
	permit(&s, 2, 1, PFH_PASSIVE, 0, 40002, 0, 60);
	session_end(&s, 1);
	save(argv[1], "seed_ftp6", &s);

	/* FTP over TLS: the HELLO's range, a range permit, deleted. */
	memset(&s, 0, sizeof(s));
	hello(&s, PFH_ROLE_FTP, 50100, 50199);
	session(&s, 1, 0, IPPROTO_TCP);
	permit(&s, 1, 1, PFH_RANGE, 0, 50100, 50199, 0);
	permit_del(&s, 1, 1);
	session_end(&s, 1);
	save(argv[1], "seed_ftps", &s);

	/* TFTP: a request's session (its reply permit comes with it). */
	memset(&s, 0, sizeof(s));
	hello(&s, PFH_ROLE_TFTP, 0, 0);
	ctlookup(&s);
	session(&s, 1, 0, IPPROTO_UDP);
	session(&s, 2, 1, IPPROTO_UDP);
	session_end(&s, 1);
	save(argv[1], "seed_tftp", &s);
	return (0);
}
