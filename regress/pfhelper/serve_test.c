/* SPDX-License-Identifier: ISC */
/*
 * serve_test: pfhelper's request handling against the fake backend.
 * Each case sends a sequence of messages over a real socketpair to
 * pfh_serve() and checks what a front end would see (replies, being
 * dropped) and what reached the packet filter.
 */
#include "compat.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <err.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "fake_filter.h"
#include "imsg.h"
#include "log.h"
#include "pfhelper.h"
#include "serve_one.h"

#define MAXMSG	16

struct msg {
	uint32_t	type;
	uint8_t		data[512];
	size_t		len;
	int		fd;
};

struct result {
	int		rc;		/* pfh_serve: 0 EOF, -1 dropped */
	int		nreplies;
	uint32_t	rtype[MAXMSG];
	struct pfh_reply r[MAXMSG];
};

static void
a4(struct pfh_addr *a, const char *s)
{
	memset(a, 0, sizeof(*a));
	a->af = strchr(s, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(a->af, s, a->addr) != 1)
		errx(1, "bad address %s", s);
}

static struct pfh_session
good_session(int v6, uint8_t proto)
{
	struct pfh_session	s;

	memset(&s, 0, sizeof(s));
	s.sid = 7;
	s.proto = proto;
	s.cport = 40000;
	s.dport = proto == IPPROTO_TCP ? 21 : 69;
	s.pport = 50000;
	s.sport = s.dport;
	s.timeout = proto == IPPROTO_UDP ? 30 : 0;
	a4(&s.client, v6 ? "2001:db8:1::10" : "192.0.2.10");
	a4(&s.dialled, v6 ? "2001:db8:2::10" : "198.51.100.10");
	a4(&s.proxy, v6 ? "2001:db8:2::1" : "198.51.100.1");
	a4(&s.server, v6 ? "2001:db8:2::10" : "198.51.100.10");
	s.local = s.dialled;		/* as TPROXY delivers it */
	s.lport = s.dport;
	return (s);
}

static struct pfh_permit
good_permit(uint8_t kind)
{
	struct pfh_permit	p;

	memset(&p, 0, sizeof(p));
	p.sid = 7;
	p.pid = 1;
	p.kind = kind;
	p.pport = 55000;
	p.tport = 45000;
	p.timeout = 30;
	return (p);
}

static struct msg
mk(uint32_t type, const void *data, size_t len)
{
	struct msg	m;

	memset(&m, 0, sizeof(m));
	m.type = type;
	m.fd = -1;
	memcpy(m.data, data, len);
	m.len = len;
	return (m);
}

static struct msg
hello_role(uint32_t role)
{
	struct pfh_hello	h = { .version = PFH_PROTO_VERSION,
				    .role = role };

	return (mk(PFH_HELLO, &h, sizeof(h)));
}

static struct msg
hello(void)
{
	return (hello_role(PFH_ROLE_FTP));
}

/* Send msgs, close our write side, serve, collect the replies. */
static struct result
run(const struct pfh_conf *conf, const struct msg *msgs, int n)
{
	struct imsgbuf	ib;
	struct imsg	imsg;
	struct result	res;
	int		sv[2], i;

	memset(&res, 0, sizeof(res));
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		err(1, "socketpair");
	if (imsgbuf_init(&ib, sv[0]) == -1)
		err(1, "imsgbuf_init");
	imsgbuf_allow_fdpass(&ib);
	for (i = 0; i < n; i++)
		if (imsg_compose(&ib, msgs[i].type, 100 + i, 0, msgs[i].fd,
		    msgs[i].data, msgs[i].len) == -1)
			err(1, "imsg_compose");
	if (imsgbuf_flush(&ib) == -1)
		err(1, "imsgbuf_flush");
	shutdown(sv[0], SHUT_WR);
	res.rc = pfh_serve(sv[1], conf);
	close(sv[1]);
	while (imsgbuf_read(&ib) == 1) {
		while (imsg_get(&ib, &imsg) > 0) {
			if (res.nreplies < MAXMSG) {
				res.rtype[res.nreplies] = imsg_get_type(&imsg);
				if (imsg_get_type(&imsg) != PFH_HELLO)
					proto_recv_reply(&imsg,
					    &res.r[res.nreplies]);
				res.nreplies++;
			}
			imsg_free(&imsg);
		}
	}
	imsgbuf_clear(&ib);
	close(sv[0]);
	return (res);
}

static struct pfh_conf
conf_default(void)
{
	struct pfh_conf	c;

	memset(&c, 0, sizeof(c));
	strlcpy(c.filter.table, "test", sizeof(c.filter.table));
	c.max_sessions = 100;
	c.max_permits = 4;
	c.rate = 0;
	c.ct_verify = 1;
	return (c);
}


#define SES(m)	((struct pfh_session *)(void *)(m)->data)
#define PER(m)	((struct pfh_permit *)(void *)(m)->data)
#define HEL(m)	((struct pfh_hello *)(void *)(m)->data)

static void m_len_short(struct msg *m) { m->len--; }
static void m_len_long(struct msg *m) { m->len++; }
static void m_len_zero(struct msg *m) { m->len = 0; }
static void m_type_unknown(struct msg *m) { m->type = 999; }
static void m_type_ok(struct msg *m) { m->type = PFH_OK; }
static void m_type_none(struct msg *m) { m->type = PFH_NONE; }
static void m_fd(struct msg *m) { m->fd = dup(0); }
static void h_version(struct msg *m) { HEL(m)->version = 99; }
static void h_role(struct msg *m) { HEL(m)->role = 3; }
static void h_skip(struct msg *m) { *m = mk(PFH_SESSION_START, "", 0); }
static void s_sid0(struct msg *m) { SES(m)->sid = 0; }
static void s_proto(struct msg *m) { SES(m)->proto = IPPROTO_ICMP; }
static void s_pad(struct msg *m) { SES(m)->pad = 1; }
static void s_pad2(struct msg *m) { SES(m)->pad2 = 1; }
static void s_laf7(struct msg *m) { SES(m)->local.af = 7; }
static void s_lport0(struct msg *m) { SES(m)->lport = 0; }
static void s_lmcast(struct msg *m) { a4(&SES(m)->local, "224.0.0.1"); }
static void s_lmixed(struct msg *m) { a4(&SES(m)->local, "2001:db8:2::1"); }
static void s_lclient(struct msg *m) { SES(m)->local = SES(m)->client; }
static void s_tcp_tmo(struct msg *m) { SES(m)->timeout = 5; }
static void s_cport0(struct msg *m) { SES(m)->cport = 0; }
static void s_sport0(struct msg *m) { SES(m)->sport = 0; }
static void s_af0(struct msg *m) { SES(m)->client.af = 0; }
static void s_af7(struct msg *m) { SES(m)->server.af = 7; }
static void s_mixed(struct msg *m) { a4(&SES(m)->server, "2001:db8:2::10"); }
static void s_mcast(struct msg *m) { a4(&SES(m)->client, "224.0.0.1"); }
static void s_bcast(struct msg *m) { a4(&SES(m)->server, "255.255.255.255"); }
static void s_loop(struct msg *m) { a4(&SES(m)->dialled, "127.0.0.1"); }
static void s_any(struct msg *m) { a4(&SES(m)->proxy, "0.0.0.0"); }
static void s_thisnet(struct msg *m) { a4(&SES(m)->client, "0.1.2.3"); }
static void s_trail(struct msg *m) { SES(m)->client.addr[9] = 1; }
static void s_apad(struct msg *m) { SES(m)->proxy.pad[0] = 1; }
static void s_same(struct msg *m) { SES(m)->server = SES(m)->client; }
static void s_v6mcast(struct msg *m) { *SES(m) = good_session(1, 6);
    a4(&SES(m)->client, "ff02::1"); }
static void s_v6loop(struct msg *m) { *SES(m) = good_session(1, 6);
    a4(&SES(m)->server, "::1"); }
static void s_v6any(struct msg *m) { *SES(m) = good_session(1, 6);
    a4(&SES(m)->proxy, "::"); }
static void s_v6ll(struct msg *m) { *SES(m) = good_session(1, 6);
    a4(&SES(m)->client, "fe80::1"); }
static void s_v6mapped(struct msg *m) { *SES(m) = good_session(1, 6);
    a4(&SES(m)->client, "::ffff:192.0.2.10"); }
static void s_udp_ftp(struct msg *m) { SES(m)->proto = IPPROTO_UDP; }
static void s_other_server(struct msg *m) {
    a4(&SES(m)->server, "198.51.100.20"); }
static void s_other_sport(struct msg *m) { SES(m)->sport = 2121; }
static void p_sid0(struct msg *m) { PER(m)->sid = 0; }
static void p_pid0(struct msg *m) { PER(m)->pid = 0; }
static void p_kind0(struct msg *m) { PER(m)->kind = 0; }
static void p_kind3(struct msg *m) { PER(m)->kind = 3; }
static void p_kind4(struct msg *m) { PER(m)->kind = 4; }
static void p_flags(struct msg *m) { PER(m)->flags = 0x80; }
static void p_port20pasv(struct msg *m) { PER(m)->flags = PFH_F_PORT20; }
static void p_pport(struct msg *m) { PER(m)->pport = 1023; }
static void p_tport0(struct msg *m) { PER(m)->tport = 0; }
static void p_tport80(struct msg *m) { PER(m)->tport = 80; }
static void p_tmo0(struct msg *m) { PER(m)->timeout = 0; }
static void p_tmobig(struct msg *m) { PER(m)->timeout = PFH_TIMEOUT_MAX + 1; }
static void p_foreign(struct msg *m) { PER(m)->sid = 8; }
static void p_end_foreign(struct msg *m) {
	struct pfh_session_end	e = { 8 };

	*m = mk(PFH_SESSION_END, &e, sizeof(e));
}
static void p_del_foreign(struct msg *m) {
	struct pfh_permit_del	d = { 9, 1 };

	*m = mk(PFH_PERMIT_DEL, &d, sizeof(d));
}
static void p_ct_bad(struct msg *m) {
	struct pfh_ctlookup	c;

	memset(&c, 0, sizeof(c));
	c.proto = IPPROTO_UDP;
	c.cport = 40000;
	c.lport = 6969;
	a4(&c.client, "192.0.2.10");
	a4(&c.local, "224.0.0.9");
	*m = mk(PFH_CT_LOOKUP, &c, sizeof(c));
}

static void p_ct_ftp(struct msg *m) {
	p_ct_bad(m);
	a4(&((struct pfh_ctlookup *)(void *)m->data)->local, "192.0.2.1");
}

enum target { T_HELLO, T_SESSION, T_PERMIT };

static const struct bad_case {
	const char	*name;
	enum target	 target;
	void		(*mut)(struct msg *);
} bad_cases[] = {
	{ "hello short", T_HELLO, m_len_short },
	{ "hello long", T_HELLO, m_len_long },
	{ "hello version", T_HELLO, h_version },
	{ "hello role", T_HELLO, h_role },
	{ "no hello first", T_HELLO, h_skip },
	{ "hello with fd", T_HELLO, m_fd },
	{ "unknown type", T_SESSION, m_type_unknown },
	{ "reply type from peer", T_SESSION, m_type_ok },
	{ "type 0", T_SESSION, m_type_none },
	{ "session short", T_SESSION, m_len_short },
	{ "session long", T_SESSION, m_len_long },
	{ "session empty", T_SESSION, m_len_zero },
	{ "session with fd", T_SESSION, m_fd },
	{ "session id 0", T_SESSION, s_sid0 },
	{ "session proto icmp", T_SESSION, s_proto },
	{ "session padding", T_SESSION, s_pad },
	{ "session padding after the local port", T_SESSION, s_pad2 },
	{ "session local address family 7", T_SESSION, s_laf7 },
	{ "TCP session with a permit timeout", T_SESSION, s_tcp_tmo },
	{ "session af 0", T_SESSION, s_af0 },
	{ "session af 7", T_SESSION, s_af7 },
	{ "session ipv4 trailing bytes", T_SESSION, s_trail },
	{ "session addr padding", T_SESSION, s_apad },
	{ "UDP session without a permit timeout", T_SESSION, s_udp_ftp },
	{ "permit short", T_PERMIT, m_len_short },
	{ "permit long", T_PERMIT, m_len_long },
	{ "permit with fd", T_PERMIT, m_fd },
	{ "permit session 0", T_PERMIT, p_sid0 },
	{ "permit id 0", T_PERMIT, p_pid0 },
	{ "permit kind 0", T_PERMIT, p_kind0 },
	{ "permit kind 3", T_PERMIT, p_kind3 },
	{ "permit kind 4, past the table", T_PERMIT, p_kind4 },
	{ "permit unknown flag", T_PERMIT, p_flags },
	{ "permit port 20 on passive", T_PERMIT, p_port20pasv },
	{ "permit proxy port 1023", T_PERMIT, p_pport },
	{ "permit timeout 0", T_PERMIT, p_tmo0 },
	{ "permit timeout too long", T_PERMIT, p_tmobig },
	{ "permit foreign session", T_PERMIT, p_foreign },
	{ "end foreign session", T_PERMIT, p_end_foreign },
	{ "delete in foreign session", T_PERMIT, p_del_foreign },
	{ "ct lookup from an FTP front end", T_PERMIT, p_ct_ftp },
};

/*
 * Well-formed requests that ask for something not allowed: an error
 * reply for that session, the peer is served on (DESIGN.md s.2).
 */
static const struct bad_case refused_cases[] = {
	{ "session client port 0", T_SESSION, s_cport0 },
	{ "session local port 0", T_SESSION, s_lport0 },
	{ "session multicast local address", T_SESSION, s_lmcast },
	{ "session local address of another family", T_SESSION, s_lmixed },
	{ "session local address is the client", T_SESSION, s_lclient },
	{ "session server port 0", T_SESSION, s_sport0 },
	{ "session mixed families", T_SESSION, s_mixed },
	{ "session multicast client", T_SESSION, s_mcast },
	{ "session broadcast server", T_SESSION, s_bcast },
	{ "session loopback", T_SESSION, s_loop },
	{ "session unspecified", T_SESSION, s_any },
	{ "session this-network", T_SESSION, s_thisnet },
	{ "session client is server", T_SESSION, s_same },
	{ "session v6 multicast", T_SESSION, s_v6mcast },
	{ "session v6 loopback", T_SESSION, s_v6loop },
	{ "session v6 unspecified", T_SESSION, s_v6any },
	{ "session v6 mapped", T_SESSION, s_v6mapped },
	{ "session v6 link-local", T_SESSION, s_v6ll },
	{ "server not the destination", T_SESSION, s_other_server },
	{ "server port not the destination's", T_SESSION, s_other_sport },
	{ "permit target port 0", T_PERMIT, p_tport0 },
	{ "permit target port 80", T_PERMIT, p_tport80 },
};

/*
 * A refused request, then a good session (id 9) with a permit: the
 * refusal is an error reply and the good session is served.
 */
static void
run_refused_cases(void)
{
	struct pfh_conf		conf = conf_default();
	struct pfh_session	s = good_session(0, IPPROTO_TCP), g;
	struct pfh_permit	p = good_permit(PFH_PASSIVE), gp;
	struct msg		msgs[6], *bad;
	struct result		r;
	size_t			i;
	int			n;

	g = s;
	g.sid = 9;
	gp = p;
	gp.sid = 9;
	gp.pport = 0;
	for (i = 0; i < nitems(refused_cases); i++) {
		n = 0;
		msgs[n++] = hello();
		msgs[n++] = mk(PFH_SESSION_START, &s, sizeof(s));
		if (refused_cases[i].target == T_PERMIT)
			msgs[n++] = mk(PFH_PERMIT_ADD, &p, sizeof(p));
		bad = &msgs[n - 1];
		refused_cases[i].mut(bad);
		msgs[n++] = mk(PFH_SESSION_START, &g, sizeof(g));
		msgs[n++] = mk(PFH_PERMIT_ADD, &gp, sizeof(gp));
		fake_reset();
		r = run(&conf, msgs, n);
		checkf(r.rc == 0, "%s: peer not dropped",
		    refused_cases[i].name);
		checkf(r.nreplies == n && r.rtype[n - 3] == PFH_ERR &&
		    r.r[n - 3].error != 0 && r.r[n - 3].reason[0] != '\0',
		    "%s: error reply with a reason", refused_cases[i].name);
		checkf(r.rtype[n - 2] == PFH_OK && r.rtype[n - 1] == PFH_OK &&
		    fake_count('a') == 3,
		    "%s: the next session is served, only its permit added",
		    refused_cases[i].name);
		checkf(serve_end.live == 3 && fake_live == 0, "%s: %s",
		    refused_cases[i].name, "while connected only the good "
		    "permit's 3 elements live, deleted at EOF");
	}
}

/* A fresh peer with a good sequence is served after every drop. */
static void
run_good_after(const char *name)
{
	struct pfh_conf		conf = conf_default();
	struct pfh_session	s = good_session(0, IPPROTO_TCP);
	struct pfh_permit	p = good_permit(PFH_PASSIVE);
	struct msg		msgs[3];
	struct result		r;

	msgs[0] = hello();
	msgs[1] = mk(PFH_SESSION_START, &s, sizeof(s));
	msgs[2] = mk(PFH_PERMIT_ADD, &p, sizeof(p));
	fake_reset();
	r = run(&conf, msgs, 3);
	checkf(r.rc == 0 && r.nreplies == 3 && r.rtype[2] == PFH_OK &&
	    fake_count('a') == 3, "%s: next peer served", name);
}

static void
run_bad_cases(void)
{
	struct pfh_conf		conf = conf_default();
	struct pfh_session	s = good_session(0, IPPROTO_TCP);
	struct pfh_permit	p = good_permit(PFH_PASSIVE);
	struct msg		msgs[3];
	struct result		r;
	size_t			i;

	for (i = 0; i < nitems(bad_cases); i++) {
		msgs[0] = hello();
		msgs[1] = mk(PFH_SESSION_START, &s, sizeof(s));
		msgs[2] = mk(PFH_PERMIT_ADD, &p, sizeof(p));
		bad_cases[i].mut(&msgs[bad_cases[i].target]);
		fake_reset();
		r = run(&conf, msgs, 3);
		checkf(r.rc == -1, "%s: peer dropped", bad_cases[i].name);
		checkf(fake_count('a') == 0, "%s: nothing added",
		    bad_cases[i].name);
		checkf(fake_ncalls == 0, "%s: no call to the packet filter",
		    bad_cases[i].name);
		checkf(r.nreplies <= (int)bad_cases[i].target,
		    "%s: no reply to the bad message", bad_cases[i].name);
		if (msgs[bad_cases[i].target].fd != -1)
			close(msgs[bad_cases[i].target].fd);
		run_good_after(bad_cases[i].name);
	}
}

static int
elem_is(const struct filter_elem *e, enum filter_map map, uint8_t proto,
    const struct pfh_addr *sa, const struct pfh_addr *da, uint16_t dport,
    const struct pfh_addr *to, uint16_t toport)
{
	return (e->map == map && e->proto == proto && e->af == sa->af &&
	    memcmp(e->saddr, sa->addr, 16) == 0 &&
	    memcmp(e->daddr, da->addr, 16) == 0 && e->dport == dport &&
	    (to == NULL || memcmp(e->to, to->addr, 16) == 0) &&
	    e->toport == toport);
}

static struct result
run3(struct pfh_conf *conf, struct pfh_session *s, struct pfh_permit *p,
    struct msg *extra)
{
	struct msg	msgs[4];
	int		n = 3;

	msgs[0] = hello_role(s->proto == IPPROTO_UDP ? PFH_ROLE_TFTP :
	    PFH_ROLE_FTP);
	msgs[1] = mk(PFH_SESSION_START, s, sizeof(*s));
	msgs[2] = mk(PFH_PERMIT_ADD, p, sizeof(*p));
	if (extra != NULL)
		msgs[n++] = *extra;
	fake_reset();
	return (run(conf, msgs, n));
}

static void
good_passive(void)
{
	struct pfh_conf		conf = conf_default();
	struct pfh_session	s = good_session(0, IPPROTO_TCP);
	struct pfh_permit	p = good_permit(PFH_PASSIVE);
	struct result		r;
	const char		*n = "passive v4";

	r = run3(&conf, &s, &p, NULL);
	checkf(r.rc == 0 && r.nreplies == 3 && r.rtype[1] == PFH_OK &&
	    r.rtype[2] == PFH_OK, "%s: replies OK", n);
	checkf(fake_count('a') == 3 && fake_count('c') >= 1, "%s: 3 adds", n);
	checkf(elem_is(&fake_calls[0].elem, FE_RDR, IPPROTO_TCP, &s.client,
	    &s.dialled, 55000, &s.server, 45000), "%s: rdr element", n);
	checkf(elem_is(&fake_calls[1].elem, FE_SNAT, IPPROTO_TCP, &s.client,
	    &s.server, 45000, &s.proxy, 0), "%s: snat element", n);
	checkf(elem_is(&fake_calls[2].elem, FE_PASS, IPPROTO_TCP, &s.client,
	    &s.server, 45000, NULL, 0), "%s: pass element", n);
	checkf(fake_calls[0].timeout == 30000, "%s: timeout in ms", n);
	/* The peer went away: pfh_serve() removed what it had added. */
	checkf(fake_count('d') == 3 && fake_live == 0, "%s: cleanup at EOF", n);
}

static void
good_active(void)
{
	struct pfh_conf		conf = conf_default();
	struct pfh_session	s = good_session(1, IPPROTO_TCP);
	struct pfh_permit	p = good_permit(PFH_ACTIVE);
	struct result		r;
	const char		*n = "active v6 port 20";

	p.flags = PFH_F_PORT20;
	r = run3(&conf, &s, &p, NULL);
	checkf(r.rc == 0 && r.rtype[2] == PFH_OK, "%s: reply OK", n);
	checkf(elem_is(&fake_calls[0].elem, FE_RDR, IPPROTO_TCP, &s.server,
	    &s.proxy, 55000, &s.client, 45000), "%s: rdr element", n);
	checkf(elem_is(&fake_calls[1].elem, FE_SNATP, IPPROTO_TCP, &s.server,
	    &s.client, 45000, &s.dialled, 20), "%s: snatp element", n);
	checkf(elem_is(&fake_calls[2].elem, FE_PASS, IPPROTO_TCP, &s.server,
	    &s.client, 45000, NULL, 0), "%s: pass element", n);
}

static void
good_tftp(void)
{
	struct pfh_conf		conf = conf_default();
	struct pfh_session	s = good_session(0, IPPROTO_UDP);
	struct pfh_permit	p = good_permit(PFH_ACTIVE);
	struct msg		msgs[3];
	struct result		r;
	const char		*n = "tftp reply path";

	msgs[0] = hello_role(PFH_ROLE_TFTP);
	msgs[1] = mk(PFH_SESSION_START, &s, sizeof(s));
	fake_reset();
	r = run(&conf, msgs, 2);
	checkf(r.rc == 0 && r.nreplies == 2 && r.rtype[1] == PFH_OK,
	    "%s: one request, one reply OK", n);
	checkf(fake_count('a') == 3 && fake_calls[0].timeout == 30000,
	    "%s: the permit came with the session", n);
	checkf(elem_is(&fake_calls[0].elem, FE_RDR, IPPROTO_UDP, &s.server,
	    &s.proxy, s.pport, &s.client, s.cport), "%s: rdr element", n);
	checkf(elem_is(&fake_calls[1].elem, FE_SNAT, IPPROTO_UDP, &s.server,
	    &s.client, s.cport, &s.dialled, 0), "%s: snat element", n);
	p.pport = 0;
	msgs[2] = mk(PFH_PERMIT_ADD, &p, sizeof(p));
	fake_reset();
	r = run(&conf, msgs, 3);
	checkf(r.rc == -1 && fake_count('a') == 3,
	    "%s: a second permit on a UDP session dropped", n);
	/* NAT rewrote the client's port: the data go to its own one. */
	fake_reset();
	fake_ct_osport = 41000;
	r = run(&conf, msgs, 2);
	checkf(r.rc == 0 && r.rtype[1] == PFH_OK && elem_is(&fake_calls[0].elem,
	    FE_RDR, IPPROTO_UDP, &s.server, &s.proxy, s.pport, &s.client,
	    41000) && elem_is(&fake_calls[2].elem, FE_PASS, IPPROTO_UDP,
	    &s.server, &s.client, 41000, NULL, 0),
	    "%s: client port remapped: the permit reaches its own port", n);
	s.cport = 1000;
	msgs[1] = mk(PFH_SESSION_START, &s, sizeof(s));
	fake_reset();
	r = run(&conf, msgs, 2);
	checkf(r.rc == 0 && r.rtype[1] == PFH_ERR && fake_count('a') == 0 &&
	    fake_live == 0, "%s: client port below 1024: refused, no session",
	    n);
}

/* pfhelper chooses the proxy port and names it in the reply. */
static void
good_chosen_port(void)
{
	struct pfh_conf		conf = conf_default();
	struct pfh_session	s = good_session(0, IPPROTO_TCP);
	struct pfh_permit	p = good_permit(PFH_PASSIVE);
	struct msg		msgs[4];
	struct result		r;
	const char		*n = "chosen port";

	p.pport = 0;
	msgs[0] = hello();
	msgs[1] = mk(PFH_SESSION_START, &s, sizeof(s));
	msgs[2] = mk(PFH_PERMIT_ADD, &p, sizeof(p));
	p.pid = 2;
	p.tport++;
	msgs[3] = mk(PFH_PERMIT_ADD, &p, sizeof(p));
	fake_reset();
	r = run(&conf, msgs, 4);
	checkf(r.rc == 0 && r.rtype[2] == PFH_OK && r.rtype[3] == PFH_OK,
	    "%s: replies OK", n);
	checkf(r.r[2].port >= PFH_PORT_LO && r.r[3].port >= PFH_PORT_LO &&
	    r.r[2].port != r.r[3].port, "%s: two ports in the range", n);
	checkf(fake_calls[0].elem.dport == r.r[2].port &&
	    fake_calls[4].elem.dport == r.r[3].port,
	    "%s: the rdr elements use the ports named", n);
}

static void
good_end_and_del(void)
{
	struct pfh_conf		conf = conf_default();
	struct pfh_session	s = good_session(0, IPPROTO_TCP);
	struct pfh_permit	p = good_permit(PFH_PASSIVE);
	struct pfh_session_end	e = { 7 };
	struct pfh_permit_del	d = { 7, 1 }, dx = { 7, 2 };
	struct msg		m;
	struct result		r;

	m = mk(PFH_SESSION_END, &e, sizeof(e));
	r = run3(&conf, &s, &p, &m);
	check(r.rc == 0 && r.nreplies == 4 && r.rtype[3] == PFH_OK &&
	    serve_end.dels == 3 && serve_end.live == 0,
	    "session end: elements deleted before the peer went");
	m = mk(PFH_PERMIT_DEL, &d, sizeof(d));
	r = run3(&conf, &s, &p, &m);
	check(r.rc == 0 && r.rtype[3] == PFH_OK && serve_end.dels == 3 &&
	    serve_end.live == 0,
	    "permit delete: elements deleted before the peer went");
	m = mk(PFH_PERMIT_DEL, &dx, sizeof(dx));
	r = run3(&conf, &s, &p, &m);
	check(r.rc == 0 && r.rtype[3] == PFH_ERR && r.r[3].error == ENOENT,
	    "permit delete unknown: ENOENT, not dropped");
}

static void
good_ctlookup(void)
{
	struct pfh_conf		conf = conf_default();
	struct pfh_ctlookup	c;
	struct msg		msgs[2];
	struct result		r;
	struct pfh_addr		want;

	memset(&c, 0, sizeof(c));
	c.proto = IPPROTO_UDP;
	c.cport = 40000;
	c.lport = 6969;
	a4(&c.client, "192.0.2.10");
	a4(&c.local, "192.0.2.1");
	a4(&want, "198.51.100.10");
	msgs[0] = hello_role(PFH_ROLE_TFTP);
	msgs[1] = mk(PFH_CT_LOOKUP, &c, sizeof(c));
	fake_reset();
	r = run(&conf, msgs, 2);
	check(r.rc == 0 && r.rtype[1] == PFH_OK && r.r[1].port == 69 &&
	    memcmp(r.r[1].addr.addr, want.addr, 16) == 0,
	    "ct lookup: original destination returned");
	fake_reset();
	fake_ct_present = 0;
	r = run(&conf, msgs, 2);
	check(r.rc == 0 && r.rtype[1] == PFH_ERR && r.r[1].error == ENOENT,
	    "ct lookup missing: ENOENT");
	p_ct_bad(&msgs[1]);
	fake_reset();
	r = run(&conf, msgs, 2);
	check(r.rc == 0 && r.nreplies == 2 && r.rtype[1] == PFH_ERR,
	    "ct lookup multicast: refused, not dropped");
}

/* -R with a list of servers: any of them, on -P's port, and no other. */
static void
good_reverse_list(struct pfh_session *s, struct pfh_permit *p)
{
	struct pfh_conf		conf = conf_default();
	struct pfh_session	u = *s;
	struct msg		msgs[2];
	struct result		r;

	check(validate_rserver_add(&conf.rs, "192.0.2.9,,192.0.2.10") == -1 &&
	    validate_rserver_add(&conf.rs, "192.0.2.9,") == -1 &&
	    validate_rserver_add(&conf.rs, "192.0.2.x") == -1,
	    "reverse -R list: bad lists refused");
	conf = conf_default();
	check(validate_rserver_add(&conf.rs, "192.0.2.9,2001:db8:1::10") == 0 &&
	    validate_rserver_add(&conf.rs, "192.0.2.10") == 0 && conf.rs.n == 3,
	    "reverse -R list: three servers");
	conf.rs.port = 21;
	r = run3(&conf, s, p, NULL);
	check(r.rc == 0 && r.rtype[2] == PFH_OK && fake_count('a') == 3,
	    "reverse -R list: the third one served");
	conf.rs.port = 2121;
	r = run3(&conf, s, p, NULL);
	check(r.rtype[1] == PFH_ERR && fake_count('a') == 0,
	    "reverse -R list: another port refused");
	conf.rs.port = 69;
	u.proto = IPPROTO_UDP;
	u.sport = 69;
	u.timeout = 30;
	msgs[0] = hello_role(PFH_ROLE_TFTP);
	msgs[1] = mk(PFH_SESSION_START, &u, sizeof(u));
	fake_reset();
	r = run(&conf, msgs, 2);
	check(r.rc == 0 && r.rtype[1] == PFH_OK && fake_count('a') == 3 &&
	    elem_is(&fake_calls[1].elem, FE_SNAT, IPPROTO_UDP, &u.server,
	    &u.client, u.cport, &u.dialled, 0),
	    "reverse TFTP: served, replies sourced from the address dialled");
	a4(&u.server, "192.0.2.11");
	msgs[1] = mk(PFH_SESSION_START, &u, sizeof(u));
	fake_reset();
	r = run(&conf, msgs, 2);
	check(r.rtype[1] == PFH_ERR && fake_count('a') == 0,
	    "reverse TFTP: a server not listed refused");
}

/* A front end's HELLO names its -R servers: any of them, no other. */
static void
good_reverse_hello(const struct pfh_session *s)
{
	struct pfh_conf		conf = conf_default();
	struct pfh_hello	h = { .version = PFH_PROTO_VERSION,
				    .role = PFH_ROLE_FTP };
	struct pfh_session	u = *s;
	struct msg		msgs[2];
	struct result		r;

	a4(&h.rserver[0], "192.0.2.9");
	h.rserver[1] = s->server;
	h.nrserver = 2;
	h.rport = s->sport;
	msgs[0] = mk(PFH_HELLO, &h, sizeof(h));
	msgs[1] = mk(PFH_SESSION_START, &u, sizeof(u));
	fake_reset();
	r = run(&conf, msgs, 2);
	check(r.rc == 0 && r.rtype[1] == PFH_OK,
	    "reverse HELLO list: its second server served");
	a4(&u.server, "192.0.2.11");
	msgs[1] = mk(PFH_SESSION_START, &u, sizeof(u));
	r = run(&conf, msgs, 2);
	check(r.rc == 0 && r.rtype[1] == PFH_ERR && r.r[1].error == EPERM,
	    "reverse HELLO list: a server it did not name refused");
	h.nrserver = 1;
	msgs[0] = mk(PFH_HELLO, &h, sizeof(h));
	r = run(&conf, msgs, 1);
	check(r.rc == -1,
	    "reverse HELLO list: an address past nrserver: dropped");
	h.nrserver = PFH_RSERVER_MAX + 1;
	msgs[0] = mk(PFH_HELLO, &h, sizeof(h));
	r = run(&conf, msgs, 1);
	check(r.rc == -1, "reverse HELLO list: too many servers: dropped");
}

static void
good_reverse(void)
{
	struct pfh_conf		conf = conf_default();
	struct pfh_session	s = good_session(0, IPPROTO_TCP);
	struct pfh_permit	p = good_permit(PFH_PASSIVE);
	struct result		r;

	/* The client dialled the firewall; -R names the inside server. */
	a4(&s.dialled, "198.51.100.1");
	a4(&s.server, "192.0.2.10");
	a4(&s.proxy, "192.0.2.1");
	a4(&s.client, "198.51.100.10");
	s.local = s.dialled;
	r = run3(&conf, &s, &p, NULL);
	/* (Its permit then names a session the peer does not have.) */
	check(r.rtype[1] == PFH_ERR && r.r[1].error == EPERM &&
	    fake_count('a') == 0, "reverse without -R: refused");
	a4(&conf.rs.a[0], "192.0.2.10");
	conf.rs.n = 1;
	conf.rs.port = 21;
	r = run3(&conf, &s, &p, NULL);
	check(r.rc == 0 && r.rtype[2] == PFH_OK && fake_count('a') == 3,
	    "reverse with -R: served");
	good_reverse_list(&s, &p);
	good_reverse_hello(&s);
}

static void
run_good_cases(void)
{
	good_reverse();
	good_passive();
	good_active();
	good_tftp();
	good_chosen_port();
	good_end_and_del();
	good_ctlookup();
}

/* Range permits (FTP over TLS, ftp-proxy -E). */
static struct msg
hello_tls(uint16_t lo, uint16_t hi)
{
	struct pfh_hello	h = { .version = PFH_PROTO_VERSION,
				    .role = PFH_ROLE_FTP, .tls_lo = lo,
				    .tls_hi = hi };

	return (mk(PFH_HELLO, &h, sizeof(h)));
}

static struct pfh_permit
range_permit(uint32_t sid, uint16_t lo, uint16_t hi)
{
	struct pfh_permit	p;

	memset(&p, 0, sizeof(p));
	p.sid = sid;
	p.pid = 1;
	p.kind = PFH_RANGE;
	p.tport = lo;
	p.thigh = hi;
	return (p);
}

/* hello, the sessions s[0..ns), then a range permit in each. */
static struct result
run_ranges(const struct pfh_conf *conf, struct msg h,
    const struct pfh_session *s, int ns, uint16_t lo, uint16_t hi)
{
	struct msg		msgs[MAXMSG];
	struct pfh_permit	p;
	int			i, n = 0;

	msgs[n++] = h;
	for (i = 0; i < ns; i++)
		msgs[n++] = mk(PFH_SESSION_START, &s[i], sizeof(s[i]));
	for (i = 0; i < ns; i++) {
		p = range_permit(s[i].sid, lo, hi);
		msgs[n++] = mk(PFH_PERMIT_ADD, &p, sizeof(p));
	}
	fake_reset();
	return (run(conf, msgs, n));
}

static void
range_forward(void)
{
	struct pfh_conf		conf = conf_default();
	struct pfh_session	s = good_session(0, IPPROTO_TCP);
	struct result		r;

	r = run_ranges(&conf, hello_tls(50000, 50099), &s, 1, 50000, 50099);
	check(r.rc == 0 && r.nreplies == 3 && r.rtype[2] == PFH_OK &&
	    r.r[2].port == 50000, "range forward: OK, the reply names low");
	check(serve_end.live == 2 && fake_count('a') == 2 &&
	    elem_is(&fake_calls[0].elem, FE_TSNAT, IPPROTO_TCP, &s.client,
	    &s.server, 0, &s.proxy, 0) &&
	    elem_is(&fake_calls[1].elem, FE_TPASS, IPPROTO_TCP, &s.client,
	    &s.server, 0, NULL, 0), "range forward: snat and pass, C . S");
	check(fake_calls[0].timeout == FILTER_NO_TIMEOUT &&
	    fake_calls[1].timeout == FILTER_NO_TIMEOUT,
	    "range forward: no timeout (the session's life)");
	check(fake_count('d') == 2 && fake_live == 0,
	    "range forward: deleted when the peer went");
	r = run_ranges(&conf, hello_tls(50000, 50099), &s, 1, 50000, 50100);
	check(r.rtype[2] == PFH_ERR && r.r[2].error == EPERM &&
	    fake_count('a') == 0, "range other than -E's: refused");
	r = run_ranges(&conf, hello(), &s, 1, 50000, 50099);
	check(r.rc == 0 && r.rtype[2] == PFH_ERR && r.r[2].error == EPERM &&
	    fake_count('a') == 0, "range without -E in HELLO: refused");
}

static void
range_reverse(void)
{
	struct pfh_conf		conf = conf_default();
	struct pfh_session	s = good_session(0, IPPROTO_TCP);
	struct result		r;

	a4(&s.dialled, "198.51.100.1");
	a4(&s.server, "192.0.2.10");
	a4(&s.proxy, "192.0.2.1");
	a4(&s.client, "198.51.100.10");
	s.local = s.dialled;
	a4(&conf.rs.a[0], "192.0.2.10");
	conf.rs.n = 1;
	conf.rs.port = 21;
	r = run_ranges(&conf, hello_tls(50000, 50099), &s, 1, 50000, 50099);
	check(r.rc == 0 && r.rtype[2] == PFH_OK && fake_count('a') == 3 &&
	    elem_is(&fake_calls[0].elem, FE_TRDR, IPPROTO_TCP, &s.client,
	    &s.dialled, 0, &s.server, 0) &&
	    elem_is(&fake_calls[1].elem, FE_TSNAT, IPPROTO_TCP, &s.client,
	    &s.server, 0, &s.proxy, 0),
	    "range reverse: C . D -> S (port kept), snat, pass");
}

/* The first session ends: the second keeps the elements, then ends. */
static void
range_share_order(const struct pfh_conf *conf, const struct pfh_session *s)
{
	struct pfh_session_end	e1 = { s[0].sid }, e2 = { s[1].sid };
	struct pfh_permit	p1 = range_permit(s[0].sid, 50000, 50099);
	struct pfh_permit	p2 = range_permit(s[1].sid, 50000, 50099);
	struct msg		msgs[7];
	struct result		r;

	msgs[0] = hello_tls(50000, 50099);
	msgs[1] = mk(PFH_SESSION_START, &s[0], sizeof(s[0]));
	msgs[2] = mk(PFH_SESSION_START, &s[1], sizeof(s[1]));
	msgs[3] = mk(PFH_PERMIT_ADD, &p1, sizeof(p1));
	msgs[4] = mk(PFH_PERMIT_ADD, &p2, sizeof(p2));
	msgs[5] = mk(PFH_SESSION_END, &e1, sizeof(e1));
	fake_reset();
	r = run(conf, msgs, 6);
	check(r.rtype[5] == PFH_OK && serve_end.live == 2 &&
	    serve_end.dels == 0 && fake_live == 0,
	    "range: the host session ends, its guest keeps the elements");
	msgs[6] = mk(PFH_SESSION_END, &e2, sizeof(e2));
	fake_reset();
	r = run(conf, msgs, 7);
	check(r.rtype[6] == PFH_OK && serve_end.live == 0 &&
	    serve_end.dels == 2, "range: the last session deletes them");
}

static void
range_limits(void)
{
	struct pfh_conf		conf = conf_default();
	struct pfh_session	s[2];
	struct pfh_session_end	e = { 7 };
	struct pfh_permit	p = range_permit(7, 50000, 50099);
	struct msg		msgs[6];
	struct result		r;

	s[0] = s[1] = good_session(0, IPPROTO_TCP);
	s[1].sid = 8;
	s[1].cport = 40001;
	r = run_ranges(&conf, hello_tls(50000, 50099), s, 2, 50000, 50099);
	check(r.rtype[3] == PFH_OK && r.rtype[4] == PFH_OK &&
	    fake_count('a') == 2 && serve_end.live == 2 &&
	    fake_count('d') == 2 && fake_live == 0,
	    "range: two sessions of one client and server share the elements");
	range_share_order(&conf, s);
	s[1].proxy.addr[3]++;
	r = run_ranges(&conf, hello_tls(50000, 50099), s, 2, 50000, 50099);
	check(r.rtype[3] == PFH_OK && r.rtype[4] == PFH_ERR &&
	    r.r[4].error == EEXIST && fake_count('a') == 2,
	    "range: same client and server, other elements: refused");
	s[1].proxy.addr[3]--;
	msgs[0] = hello_tls(50000, 50099);
	msgs[1] = mk(PFH_SESSION_START, &s[0], sizeof(s[0]));
	msgs[2] = mk(PFH_PERMIT_ADD, &p, sizeof(p));
	msgs[3] = mk(PFH_SESSION_END, &e, sizeof(e));
	msgs[4] = mk(PFH_SESSION_START, &s[1], sizeof(s[1]));
	p.sid = 8;
	msgs[5] = mk(PFH_PERMIT_ADD, &p, sizeof(p));
	fake_reset();
	r = run(&conf, msgs, 6);
	check(r.rtype[2] == PFH_OK && r.rtype[5] == PFH_OK &&
	    fake_count('d') == 4 && serve_end.dels == 2,
	    "range: gone with its session, then the next one's");
	msgs[2] = mk(PFH_PERMIT_ADD, &p, sizeof(p));
	p.sid = 7;
	msgs[2] = mk(PFH_PERMIT_ADD, &p, sizeof(p));
	msgs[3] = msgs[2];
	PER(&msgs[3])->pid = 2;
	fake_reset();
	r = run(&conf, msgs, 4);
	check(r.rtype[2] == PFH_OK && r.rtype[3] == PFH_ERR &&
	    r.r[3].error == EEXIST, "range: one per session");
	conf.max_permits = 1;
	msgs[3] = mk(PFH_PERMIT_ADD, &p, sizeof(p));
	p = good_permit(PFH_PASSIVE);
	msgs[2] = mk(PFH_PERMIT_ADD, &p, sizeof(p));
	PER(&msgs[3])->pid = 2;
	fake_reset();
	r = run(&conf, msgs, 4);
	check(r.rtype[2] == PFH_OK && r.rtype[3] == PFH_ERR &&
	    r.r[3].error == ENOSPC, "range: counted against -p");
}

static void
range_hello(void)
{
	struct pfh_conf		conf = conf_default();
	struct msg		m;
	struct result		r;

	m = hello_tls(50000, 50000 + PFH_RANGE_WIDTH_DEF);
	r = run(&conf, &m, 1);
	check(r.rc == -1 && r.nreplies == 1 && r.rtype[0] == PFH_ERR,
	    "range wider than the cap: HELLO refused");
	conf.range_width = PFH_RANGE_WIDTH_DEF + 1;
	r = run(&conf, &m, 1);
	check(r.rc == 0 && r.rtype[0] == PFH_HELLO, "-W: a wider cap");
	m = hello_tls(1023, 2000);
	r = run(&conf, &m, 1);
	check(r.rc == -1 && r.nreplies == 0, "range below 1024: dropped");
	m = hello_tls(3000, 2000);
	r = run(&conf, &m, 1);
	check(r.rc == -1 && r.nreplies == 0, "range backwards: dropped");
	m = hello_tls(50000, 50010);
	HEL(&m)->role = PFH_ROLE_TFTP;
	r = run(&conf, &m, 1);
	check(r.rc == -1 && r.nreplies == 0, "range for TFTP: dropped");
}

static void
run_range_cases(void)
{
	range_forward();
	range_reverse();
	range_limits();
	range_hello();
}

/* Sessions sid 1..n, then permits 1..np in session 1. */
static struct result
run_many(struct pfh_conf *conf, int n, int np, int ct)
{
	struct msg		msgs[MAXMSG];
	struct pfh_session	s = good_session(0, IPPROTO_TCP);
	struct pfh_permit	p = good_permit(PFH_PASSIVE);
	int			i, k = 0;

	msgs[k++] = hello();
	for (i = 1; i <= n; i++) {
		s.sid = i;
		msgs[k++] = mk(PFH_SESSION_START, &s, sizeof(s));
	}
	for (i = 1; i <= np; i++) {
		p.sid = 1;
		p.pid = i;
		p.pport = 50000 + i;
		p.tport = 45000 + i;
		msgs[k++] = mk(PFH_PERMIT_ADD, &p, sizeof(p));
	}
	fake_reset();
	fake_ct_present = ct;
	return (run(conf, msgs, k));
}

static void
limit_counts(void)
{
	struct pfh_conf		conf = conf_default();
	struct pfh_session	s = good_session(0, IPPROTO_TCP);
	struct pfh_permit	p = good_permit(PFH_PASSIVE);
	struct result		r;
	struct msg		m;

	conf.max_sessions = 2;
	r = run_many(&conf, 3, 0, 1);
	check(r.rc == 0 && r.rtype[2] == PFH_OK && r.rtype[3] == PFH_ERR &&
	    r.r[3].error == ENOSPC, "session limit: ENOSPC, not dropped");
	conf = conf_default();
	conf.max_permits = 2;
	r = run_many(&conf, 1, 3, 1);
	check(r.rc == 0 && r.rtype[3] == PFH_OK && r.rtype[4] == PFH_ERR &&
	    r.r[4].error == ENOSPC && fake_count('a') == 6,
	    "permit limit: ENOSPC after two permits");
	conf = conf_default();
	conf.rate = 3;
	r = run_many(&conf, 5, 0, 1);
	check(r.rc == 0 && r.rtype[3] == PFH_OK && r.rtype[4] == PFH_ERR &&
	    r.r[4].error == EAGAIN, "rate limit: EAGAIN past the burst");
	conf = conf_default();
	r = run_many(&conf, 1, 0, 0);
	check(r.rc == 0 && r.rtype[1] == PFH_ERR && r.r[1].error == EPERM,
	    "unknown connection: EPERM when conntrack has no such session");
	conf.ct_verify = 0;
	r = run_many(&conf, 1, 0, 0);
	check(r.rc == 0 && r.rtype[1] == PFH_OK,
	    "ct verify off: session accepted");
	conf = conf_default();
	m = mk(PFH_SESSION_START, &s, sizeof(s));
	r = run3(&conf, &s, &p, &m);
	check(r.rc == 0 && r.rtype[3] == PFH_ERR && r.r[3].error == EEXIST,
	    "duplicate session: EEXIST");
	m = mk(PFH_PERMIT_ADD, &p, sizeof(p));
	r = run3(&conf, &s, &p, &m);
	check(r.rc == 0 && r.rtype[3] == PFH_ERR && r.r[3].error == EEXIST &&
	    fake_count('a') == 3, "duplicate permit: EEXIST");
}

/*
 * Another session's live permit holds the same data connection:
 * with the same values the keys are shared (and not deleted by
 * the first session's end), with another value it is EEXIST.
 */
static void
limit_shared_keys(void)
{
	struct pfh_conf		conf = conf_default();
	struct pfh_session	s = good_session(0, IPPROTO_TCP);
	struct pfh_permit	p = good_permit(PFH_PASSIVE);
	struct result		r;
	struct msg		msgs[6];
	struct pfh_session	s2 = s;
	struct pfh_permit	p2 = p;
	struct pfh_session_end	e = { 7 };

	s2.sid = 8;
	p2.sid = 8;
	p2.pport = p.pport + 1;
	msgs[0] = hello();
	msgs[1] = mk(PFH_SESSION_START, &s, sizeof(s));
	msgs[2] = mk(PFH_SESSION_START, &s2, sizeof(s2));
	msgs[3] = mk(PFH_PERMIT_ADD, &p, sizeof(p));
	msgs[4] = mk(PFH_PERMIT_ADD, &p2, sizeof(p2));
	msgs[5] = mk(PFH_SESSION_END, &e, sizeof(e));
	fake_reset();
	r = run(&conf, msgs, 6);
	check(r.rc == 0 && r.rtype[4] == PFH_OK && fake_count('a') == 6,
	    "shared key: the second permit is served");
	check(fake_calls[5].elem.shared && fake_calls[6].elem.shared &&
	    !fake_calls[4].elem.shared,
	    "shared key: snat and pass added as shared, rdr not");
	check(fake_count('d') == 4 && fake_calls[8].op == 'd' &&
	    fake_calls[8].elem.map == FE_RDR,
	    "shared key: the first session's end deletes only its rdr");
	a4(&s2.proxy, "198.51.100.2");
	msgs[2] = mk(PFH_SESSION_START, &s2, sizeof(s2));
	fake_reset();
	r = run(&conf, msgs, 5);
	check(r.rc == 0 && r.rtype[4] == PFH_ERR &&
	    r.r[4].error == EEXIST && fake_count('a') == 3 &&
	    fake_count('c') == 2,
	    "key with another value: EEXIST without asking the kernel");
}

/*
 * The kernel refuses the batch (netlink timeout, no buffer space,
 * a stale element, no permission): an error reply with that errno
 * for that session, nothing kept, the peer served on.
 */
static void
limit_commit_fails(void)
{
	struct pfh_conf		conf = conf_default();
	struct pfh_session	s = good_session(0, IPPROTO_TCP);
	struct pfh_permit	p = good_permit(PFH_PASSIVE);
	struct result		r;
	static const int	errs[] = { ETIMEDOUT, ENOBUFS, EEXIST,
				    EPERM, EPROTO };
	struct msg		msgs[3];
	size_t			i;

	msgs[0] = hello();
	msgs[1] = mk(PFH_SESSION_START, &s, sizeof(s));
	msgs[2] = mk(PFH_PERMIT_ADD, &p, sizeof(p));
	for (i = 0; i < nitems(errs); i++) {
		fake_reset();
		fake_commit_errno = errs[i];
		r = run(&conf, msgs, 3);
		checkf(r.rc == 0 && r.rtype[2] == PFH_ERR &&
		    r.r[2].error == errs[i] && fake_live == 0 &&
		    fake_count('d') == 0, "%s: commit fails: that errno, "
		    "nothing kept (no delete at EOF), not dropped",
		    strerror(errs[i]));
	}
}

static void
limit_frames(void)
{
	struct pfh_conf		conf = conf_default();
	int			sv[2];
	struct imsg_hdr		h = { PFH_HELLO, 3, 0, 0 };

	/* A header shorter than itself. */
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		err(1, "socketpair");
	(void)write(sv[0], &h, sizeof(h));
	shutdown(sv[0], SHUT_WR);
	fake_reset();
	check(pfh_serve(sv[1], &conf) == -1 && fake_count('a') == 0,
	    "bad frame length: peer dropped");
	close(sv[0]);
	close(sv[1]);
	h.len = 1 << 30;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		err(1, "socketpair");
	(void)write(sv[0], &h, sizeof(h));
	shutdown(sv[0], SHUT_WR);
	check(pfh_serve(sv[1], &conf) == -1, "huge frame length: peer dropped");
	close(sv[0]);
	close(sv[1]);
}

static void
run_limit_cases(void)
{
	limit_counts();
	limit_shared_keys();
	limit_commit_fails();
	limit_frames();
}

/*
 * A standing service's peers: the socket's role holds, and each
 * peer's end removes exactly its own sessions and permits.
 */
struct speer {
	struct imsgbuf	 ib;
	struct peer	*p;
	int		 sv[2];
	int		 rc;
};

static void
speer_open(struct speer *sp, struct svc *v, uint32_t role, pid_t pid)
{
	memset(sp, 0, sizeof(*sp));
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sp->sv) == -1)
		err(1, "socketpair");
	if (imsgbuf_init(&sp->ib, sp->sv[0]) == -1)
		err(1, "imsgbuf_init");
	if ((sp->p = peer_new(v, sp->sv[1], role, pid)) == NULL)
		err(1, "peer_new");
}

/* Send msgs and let the peer handle them; the last reply's type. */
static uint32_t
speer_send(struct speer *sp, const struct msg *msgs, int n,
    struct pfh_reply *r)
{
	struct imsg	imsg;
	uint32_t	type = PFH_NONE;
	int		i;

	for (i = 0; i < n; i++)
		if (imsg_compose(&sp->ib, msgs[i].type, 100 + i, 0, -1,
		    msgs[i].data, msgs[i].len) == -1)
			err(1, "imsg_compose");
	if (imsgbuf_flush(&sp->ib) == -1)
		err(1, "imsgbuf_flush");
	sp->rc = peer_io(sp->p, POLLIN);
	if (imsgbuf_read(&sp->ib) <= 0)
		return (type);
	while (imsg_get(&sp->ib, &imsg) > 0) {
		type = imsg_get_type(&imsg);
		if (type != PFH_HELLO && r != NULL)
			proto_recv_reply(&imsg, r);
		imsg_free(&imsg);
	}
	return (type);
}

static void
speer_close(struct speer *sp)
{
	peer_free(sp->p, sp->rc == -1);
	imsgbuf_clear(&sp->ib);
	close(sp->sv[0]);
	close(sp->sv[1]);
}

/* What pfhelper -l would print; free() it. */
static char *
status_of(struct svc *v)
{
	char	*st = NULL;
	size_t	 len = 0;
	FILE	*fp;

	if ((fp = open_memstream(&st, &len)) == NULL)
		err(1, "open_memstream");
	svc_status(v, fp);
	fclose(fp);
	return (st);
}

/* Each socket's role holds: what the other role may do is refused. */
static void
service_roles(struct svc *v)
{
	struct speer		 t;
	struct pfh_session	 s = good_session(0, IPPROTO_TCP);
	struct pfh_permit	 p = good_permit(PFH_PASSIVE);
	struct pfh_reply	 r;
	struct msg		 m[3];

	/* A front end on the TFTP socket cannot say it is an FTP one. */
	speer_open(&t, v, PFH_ROLE_TFTP, 4242);
	m[0] = hello_role(PFH_ROLE_FTP);
	speer_send(&t, m, 1, NULL);
	check(t.rc == -1,
	    "service: FTP HELLO on the TFTP socket: peer dropped");
	speer_close(&t);
	/* Nor, as a TFTP peer, get a TCP session (the FTP role's). */
	speer_open(&t, v, PFH_ROLE_TFTP, 4242);
	m[0] = hello_role(PFH_ROLE_TFTP);
	m[1] = mk(PFH_SESSION_START, &s, sizeof(s));
	check(speer_send(&t, m, 2, &r) == PFH_ERR && r.error == EPERM &&
	    fake_count('a') == 0, "service: TCP session on the TFTP socket: "
	    "refused with EPERM, nothing added");
	/* Nor a permit for it. */
	m[0] = mk(PFH_PERMIT_ADD, &p, sizeof(p));
	speer_send(&t, m, 1, NULL);
	check(t.rc == -1 && fake_count('a') == 0,
	    "service: permit on the TFTP socket: peer dropped, none added");
	speer_close(&t);
	/* A conntrack lookup is the TFTP role's only. */
	speer_open(&t, v, PFH_ROLE_FTP, 4242);
	m[0] = hello_role(PFH_ROLE_FTP);
	p_ct_ftp(&m[1]);
	speer_send(&t, m, 2, NULL);
	check(t.rc == -1, "service: CT_LOOKUP on the FTP socket: peer dropped");
	speer_close(&t);
}

/* Two peers, each with its own sessions and permits. */
static void
service_peers(struct svc *v)
{
	struct speer		 a, b;
	struct pfh_session	 s = good_session(0, IPPROTO_TCP);
	struct pfh_permit	 p = good_permit(PFH_PASSIVE);
	struct pfh_reply	 r;
	struct msg		 m[3];
	char			*st;

	/* Two FTP peers, each a session (same sid) and a permit. */
	speer_open(&a, v, PFH_ROLE_FTP, 4242);
	speer_open(&b, v, PFH_ROLE_FTP, 4343);
	m[0] = hello_role(PFH_ROLE_FTP);
	m[1] = mk(PFH_SESSION_START, &s, sizeof(s));
	m[2] = mk(PFH_PERMIT_ADD, &p, sizeof(p));
	check(speer_send(&a, m, 3, &r) == PFH_OK && r.error == 0,
	    "service: peer A: session and permit");
	p.pport = 0;
	p.tport++;	/* else B shares A's snat and pass keys */
	m[2] = mk(PFH_PERMIT_ADD, &p, sizeof(p));
	check(speer_send(&b, m, 3, &r) == PFH_OK && r.error == 0,
	    "service: peer B, same session id: session and permit");
	check(fake_live == 6, "service: two permits: 6 elements live");
	st = status_of(v);
	checkf(strstr(st, "2 peers, 2 sessions, 2 permits") != NULL &&
	    strstr(st, "peer ftp pid 4242: 1 sessions, 1 permits") != NULL &&
	    strstr(st, "refused 1: session not over UDP in this role") !=
	    NULL && strstr(st, "peers dropped 3,") != NULL,
	    "service: status: %s", st);
	free(st);
	speer_close(&a);
	check(fake_live == 3,
	    "service: peer A gone: exactly its 3 elements deleted");
	speer_close(&b);
	check(fake_live == 0, "service: peer B gone: the rest deleted");
}

/*
 * B takes over the keys of A's expired permit: A loses the permit from
 * its own count, not B.
 */
static void
service_takeover(struct svc *v)
{
	struct speer		 a, b;
	struct pfh_session	 s = good_session(0, IPPROTO_TCP);
	struct pfh_permit	 p = good_permit(PFH_PASSIVE);
	struct pfh_reply	 r;
	struct msg		 m[3];
	char			*st;

	m[0] = hello_role(PFH_ROLE_FTP);
	m[1] = mk(PFH_SESSION_START, &s, sizeof(s));
	speer_open(&a, v, PFH_ROLE_FTP, 4242);
	speer_open(&b, v, PFH_ROLE_FTP, 4343);
	p.timeout = 1;		/* expires after 0.5 s (pfhelper's margin) */
	m[2] = mk(PFH_PERMIT_ADD, &p, sizeof(p));
	speer_send(&a, m, 3, &r);
	fake_now += 0.6;
	p.timeout = 30;
	m[2] = mk(PFH_PERMIT_ADD, &p, sizeof(p));
	check(speer_send(&b, m, 3, &r) == PFH_OK && r.error == 0,
	    "service: B takes A's expired keys: permit added");
	st = status_of(v);
	checkf(strstr(st, "peer ftp pid 4242: 1 sessions, 0 permits") != NULL &&
	    strstr(st, "peer ftp pid 4343: 1 sessions, 1 permits") != NULL &&
	    strstr(st, "2 sessions, 1 permits") != NULL,
	    "service: counts after the takeover: %s", st);
	free(st);
	speer_close(&a);
	speer_close(&b);
}

/*
 * Two peers under -m 8 (rate 8/s for the second kind), share 50%: how
 * many of 7 sessions the first gets, then of 3 the second.
 */
static void
service_share_run(int hard, uint32_t max, uint32_t rate, int *na, int *nb)
{
	struct pfh_conf		 conf = conf_default();
	struct pfh_session	 s = good_session(0, IPPROTO_TCP);
	struct pfh_reply	 r;
	struct speer		 p[2];
	struct msg		 m;
	struct svc		*v;
	int			 i, k, *n[2] = { na, nb };

	fake_reset();
	conf.filter.table[0] = '\0';
	conf.service = 1;
	conf.share = 50;
	conf.share_hard = hard;
	conf.max_sessions = max;
	conf.rate = rate;
	if ((v = svc_new(&conf)) == NULL || svc_tables(v) == -1)
		errx(1, "svc");
	svc_clock(v, fake_clock);
	for (k = 0; k < 2; k++) {
		speer_open(&p[k], v, PFH_ROLE_FTP, 4242 + k);
		m = hello_role(PFH_ROLE_FTP);
		speer_send(&p[k], &m, 1, NULL);
	}
	for (k = 0; k < 2; k++)
		for (i = 1, *n[k] = 0; i <= (k == 0 ? 7 : 3); i++) {
			s.sid = i;
			m = mk(PFH_SESSION_START, &s, sizeof(s));
			if (speer_send(&p[k], &m, 1, &r) == PFH_OK &&
			    r.error == 0)
				(*n[k])++;
		}
	for (k = 0; k < 2; k++)
		speer_close(&p[k]);
	svc_free(v);
}

/*
 * A peer's share (-c) is a hard cap only when the admin gave it: by
 * default a peer takes more while the limit has room, and no more than
 * its share once the last quarter is in use, so the other still gets
 * the rest.  The same for the request rate.
 */
static void
service_shares(void)
{
	int	a, b;

	service_share_run(0, 8, 0, &a, &b);
	checkf(a == 6 && b == 2, "share, default: sessions beyond it while "
	    "idle, 6 of -m 8, the other peer the last 2 (%d, %d)", a, b);
	service_share_run(1, 8, 0, &a, &b);
	checkf(a == 4 && b == 3, "share, -c 50: a hard cap of 4 sessions "
	    "(%d, %d)", a, b);
	service_share_run(0, 100, 8, &a, &b);
	checkf(a == 6 && b == 2, "rate share, default: past its bucket while "
	    "the common one is under 3/4 spent (%d, %d)", a, b);
	service_share_run(1, 100, 8, &a, &b);
	checkf(a == 4 && b == 3, "rate share, -c 50: its bucket of 4/s is a "
	    "hard cap (%d, %d)", a, b);
}

static void
run_service_cases(void)
{
	struct pfh_conf		 conf = conf_default();
	struct svc		*v;

	fake_reset();
	conf.filter.table[0] = '\0';
	conf.service = 1;
	conf.share = 50;
	if ((v = svc_new(&conf)) == NULL || svc_tables(v) == -1)
		errx(1, "svc");
	svc_clock(v, fake_clock);
	service_roles(v);
	service_peers(v);
	service_takeover(v);
	svc_free(v);
	service_shares();
}

int
main(void)
{
	log_init(1, LOG_DAEMON);
	log_setverbose(LOG_CRIT);
	run_bad_cases();
	run_refused_cases();
	run_good_cases();
	run_limit_cases();
	run_range_cases();
	run_service_cases();
	return (check_summary());
}
