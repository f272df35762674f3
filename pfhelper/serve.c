/*
 * serve.c: serve one front end.  Every message is checked in order
 * (state, known type, exact size, every field, session ownership, then
 * what it asks for and the limits).  A protocol violation (framing,
 * type, size, padding, a descriptor, a session the peer does not own)
 * drops the peer; a well-formed request that fails a semantic check
 * (addresses, role, data ports, limits, the kernel's refusal) gets ERR
 * with an errno and a reason, and a log line: only that session is
 * affected.  Nothing reaches the backend before all checks pass.
 *
 * The peer is served without ever blocking on it: replies queue while
 * its socket is full, and its requests are not read while too many
 * replies wait (it is not reading them).
 */
#include "compat.h"

#include <sys/socket.h>
#include <sys/tree.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "addr.h"
#include "imsg.h"
#include "log.h"
#include "pfhelper.h"

/*
 * Every element key we put in the kernel has one owner here.  Keys are
 * shared between permits only in time (snat and pass keys carry the
 * target port, not the proxy port), so a key still owned by a live
 * permit is refused at once (the kernel would say EEXIST, and slowly),
 * and a permit only deletes the keys it still owns and that have not
 * timed out in the kernel already.
 */
struct elemkey {
	RB_ENTRY(elemkey)	 entry;
	struct filter_elem	 e;
	struct permit		*owner;
};

struct permit {
	TAILQ_ENTRY(permit)	 entry;
	struct pfh_permit	 p;
	struct session		*sess;
	struct elemkey		 k[3];
	int			 nkeys;		/* in the key tree */
	double			 expires;	/* monotonic seconds */
};

struct session {
	RB_ENTRY(session)	 entry;
	struct pfh_session	 s;
	TAILQ_HEAD(, permit)	 permits;
	uint32_t		 npermits;
};

RB_HEAD(session_tree, session);
RB_HEAD(key_tree, elemkey);

struct ctx {
	const struct pfh_conf	*conf;
	struct imsgbuf		 ibuf;
	struct session_tree	 sessions;
	struct key_tree		 keys;
	uint32_t		 nsessions;
	uint32_t		 npermits;	/* all sessions */
	int			 hello;
	uint32_t		 role;		/* PFH_ROLE_* from HELLO */
	double			 tokens;
	struct timespec		 last;
};

/* Outcome of a handler: reply sent and go on, or drop the peer. */
#define H_OK	0
#define H_DROP	-1

static int	session_cmp(struct session *, struct session *);
static int	dispatch(struct ctx *, struct imsg *);
static int	reply(struct ctx *, uint32_t, int, const char *);
static int	permit_apply(struct permit *, int);
static void	permit_free(struct ctx *, struct permit *);
static void	session_free(struct ctx *, struct session *);
static int	key_cmp(struct elemkey *, struct elemkey *);
static int	permit_add(struct ctx *, struct session *, struct pfh_permit *,
		    const char **);

#define PORT_TRIES	16	/* random proxy ports tried per permit */
#define OUT_MAX		4096	/* replies queued before we stop reading */

RB_GENERATE_STATIC(session_tree, session, entry, session_cmp)
RB_GENERATE_STATIC(key_tree, elemkey, entry, key_cmp)

static int
key_cmp(struct elemkey *a, struct elemkey *b)
{
	const struct filter_elem	*x = &a->e, *y = &b->e;
	int				 d;

	if (x->map != y->map)
		return (x->map < y->map ? -1 : 1);
	if (x->af != y->af)
		return (x->af < y->af ? -1 : 1);
	if (x->proto != y->proto)
		return (x->proto < y->proto ? -1 : 1);
	if (x->dport != y->dport)
		return (x->dport < y->dport ? -1 : 1);
	if ((d = memcmp(x->saddr, y->saddr, sizeof(x->saddr))) != 0)
		return (d);
	return (memcmp(x->daddr, y->daddr, sizeof(x->daddr)));
}

static double
now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec + ts.tv_nsec / 1e9);
}

static int
session_cmp(struct session *a, struct session *b)
{
	return (a->s.sid < b->s.sid ? -1 : a->s.sid > b->s.sid);
}

static struct session *
session_find(struct ctx *c, uint32_t sid)
{
	struct session	key;

	key.s.sid = sid;
	return (RB_FIND(session_tree, &c->sessions, &key));
}

static int
reply(struct ctx *c, uint32_t reqid, int error, const char *reason)
{
	if (proto_send_reply(&c->ibuf, reqid, error, reason, NULL, 0) == -1)
		return (H_DROP);
	return (H_OK);
}

/* A well-formed request refused: that session only. */
static int
refuse(struct ctx *c, uint32_t reqid, uint32_t sid, int error,
    const char *why)
{
	logit(LOG_NOTICE, "session %u: refused: %s", sid, why);
	return (reply(c, reqid, error, why));
}

static int
drop(const char *what, const char *why)
{
	log_warnx("dropping peer: %s: %s", what, why);
	return (H_DROP);
}

/* Token bucket: conf->rate requests per second, burst of one second. */
static int
rate_ok(struct ctx *c)
{
	struct timespec	now;
	double		dt;

	if (c->conf->rate == 0)
		return (1);
	clock_gettime(CLOCK_MONOTONIC, &now);
	dt = (now.tv_sec - c->last.tv_sec) +
	    (now.tv_nsec - c->last.tv_nsec) / 1e9;
	c->last = now;
	c->tokens += dt * c->conf->rate;
	if (c->tokens > c->conf->rate)
		c->tokens = c->conf->rate;
	if (c->tokens < 1)
		return (0);
	c->tokens -= 1;
	return (1);
}

/*
 * Add (add = 1) the permit's three elements in one batch, or delete
 * those it still owns.  An expired permit's elements are gone already.
 */
static int
permit_apply(struct permit *p, int add)
{
	uint32_t	ms = p->p.timeout * 1000U;
	int		i, n = 0, rc = 0;

	if (!add && p->expires <= now())
		return (0);
	if (filter_begin() == -1)
		return (-1);
	for (i = 0; i < 3 && rc == 0; i++) {
		if (!add && p->k[i].owner != p)
			continue;
		rc = add ? filter_add(&p->k[i].e, ms) : filter_del(&p->k[i].e);
		n++;
	}
	if (rc == -1 || n == 0) {
		filter_rollback();
		return (rc);
	}
	return (filter_commit());
}

/*
 * snat and pass keys name the target (client.server.proto.port), so a
 * later permit for the same data connection (the server hands out a
 * port again once the first connection is made) needs the same element
 * with the same value: it takes the key over.  rdr keys carry the proxy
 * port and are never shared.
 */
static int
key_shareable(const struct filter_elem *a, const struct filter_elem *b)
{
	return (a->map != FE_RDR && memcmp(a->to, b->to, sizeof(a->to)) == 0 &&
	    a->toport == b->toport);
}

/*
 * Whether the permit's keys are free: a key owned by an expired permit
 * is freed with it; one owned by a live permit is shared (see above) or
 * a conflict.
 */
static int
permit_keys_free(struct ctx *c, struct permit *p)
{
	struct elemkey	*k;
	int		 i;

	for (i = 0; i < 3; i++) {
		if ((k = RB_FIND(key_tree, &c->keys, &p->k[i])) == NULL)
			continue;
		if (k->owner->expires <= now())
			permit_free(c, k->owner);
		else if (key_shareable(&k->e, &p->k[i].e))
			p->k[i].e.shared = 1;
		else
			return (0);
	}
	return (1);
}

/* Own the permit's keys, taking shared ones over from their owner. */
static void
permit_keys_insert(struct ctx *c, struct permit *p)
{
	struct elemkey	*k;
	int		 i;

	for (i = 0; i < 3; i++) {
		if ((k = RB_FIND(key_tree, &c->keys, &p->k[i])) != NULL) {
			RB_REMOVE(key_tree, &c->keys, k);
			k->owner = NULL;	/* its permit leaves it be */
		}
		p->k[i].owner = p;
		RB_INSERT(key_tree, &c->keys, &p->k[i]);
	}
	p->nkeys = 3;
}

/* Forget the permits of a session that the kernel has timed out. */
static void
session_expire(struct ctx *c, struct session *s)
{
	struct permit	*p, *next;
	double		 t = now();

	for (p = TAILQ_FIRST(&s->permits); p != NULL; p = next) {
		next = TAILQ_NEXT(p, entry);
		if (p->expires <= t)
			permit_free(c, p);
	}
}

static int
h_session_start(struct ctx *c, struct imsg *imsg, uint32_t reqid)
{
	struct pfh_session	 m;
	struct pfh_permit	 p;
	struct session		*s;
	const char		*why;
	char			 a[ADDR_STRLEN], b[ADDR_STRLEN];
	int			 error;

	if (proto_recv_session(imsg, &m) == -1)
		return (drop("SESSION_START", "bad size"));
	if (validate_session(&m, &why) == -1)
		return (drop("SESSION_START", why));
	if ((why = proto_session_check(&m)) != NULL ||
	    validate_session_role(c->conf, c->role, &m, &why) == -1)
		return (refuse(c, reqid, m.sid, EPERM, why));
	if (session_find(c, m.sid) != NULL)
		return (reply(c, reqid, EEXIST, "session id in use"));
	if (c->nsessions >= c->conf->max_sessions)
		return (refuse(c, reqid, m.sid, ENOSPC, "too many sessions"));
	if (!rate_ok(c))
		return (reply(c, reqid, EAGAIN, "request rate limit"));
	if (c->conf->ct_verify && ct_check_orig(m.client.af, m.proto,
	    m.client.addr, m.cport, m.dialled.addr, m.dport) == -1) {
		log_warnx("session %u: no such connection %s -> %s", m.sid,
		    addr_port_str(&m.client, m.cport, a, sizeof(a)),
		    addr_port_str(&m.dialled, m.dport, b, sizeof(b)));
		return (reply(c, reqid, EPERM, "no such connection"));
	}
	if ((why = validate_claims(c->conf, &m)) != NULL) {
		log_warnx("session %u: %s", m.sid, why);
		return (reply(c, reqid, EPERM, why));
	}
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return (reply(c, reqid, ENOMEM, "out of memory"));
	s->s = m;
	TAILQ_INIT(&s->permits);
	RB_INSERT(session_tree, &c->sessions, s);
	c->nsessions++;
	if (m.proto == IPPROTO_UDP) {
		/* The reply path, with the session: one round trip. */
		memset(&p, 0, sizeof(p));
		p.sid = m.sid;
		p.pid = PFH_UDP_PERMIT;
		p.kind = PFH_ACTIVE;
		p.pport = m.pport;
		p.tport = m.cport;
		p.timeout = m.timeout;
		if ((error = permit_add(c, s, &p, &why)) != 0) {
			session_free(c, s);
			return (refuse(c, reqid, m.sid, error, why));
		}
	}
	log_debug("session %u: start %s -> %s", m.sid,
	    addr_port_str(&m.client, m.cport, a, sizeof(a)),
	    addr_port_str(&m.server, m.sport, b, sizeof(b)));
	return (reply(c, reqid, 0, NULL));
}

static int
h_session_end(struct ctx *c, struct imsg *imsg, uint32_t reqid)
{
	struct pfh_session_end	 m;
	struct session		*s;

	if (proto_recv_session_end(imsg, &m) == -1)
		return (drop("SESSION_END", "bad size"));
	if ((s = session_find(c, m.sid)) == NULL)
		return (drop("SESSION_END", "not this peer's session"));
	session_free(c, s);
	return (reply(c, reqid, 0, NULL));
}

static struct permit *
permit_find(struct session *s, uint32_t pid)
{
	struct permit	*p;

	TAILQ_FOREACH(p, &s->permits, entry)
		if (p->p.pid == pid)
			return (p);
	return (NULL);
}

/* A permit with its elements still to be made (permit_pick_port). */
static struct permit *
permit_new(struct session *s, const struct pfh_permit *m)
{
	struct permit	*p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return (NULL);
	p->p = *m;
	p->sess = s;
	/* A margin so that we never count on an element the kernel lost. */
	p->expires = now() + m->timeout - 0.5;
	return (p);
}

/*
 * A proxy port whose rdr key nobody holds, when the peer left pport 0
 * (else the port asked for, if free).  0, or -1 if none was found in a
 * few tries.
 */
static int
permit_pick_port(struct ctx *c, struct permit *p)
{
	struct filter_elem	 e[3];
	int			 i, j;

	int			 choose = p->p.pport == 0;

	for (i = 0; i < PORT_TRIES; i++) {
		if (choose)
			p->p.pport = PFH_PORT_LO + arc4random_uniform(
			    PFH_PORT_HI - PFH_PORT_LO + 1);
		permit_elems(&p->sess->s, &p->p, e);
		for (j = 0; j < 3; j++)
			p->k[j].e = e[j];
		if (permit_keys_free(c, p))
			return (0);
		if (!choose)
			break;
	}
	return (-1);
}

/*
 * Add a checked permit to session s: 0 (m->pport says which port), or
 * an errno with the reason in why.
 */
static int
permit_add(struct ctx *c, struct session *s, struct pfh_permit *m,
    const char **why)
{
	struct permit	*p;
	int		 error;

	*why = NULL;
	if (!proto_data_port_ok(m->tport)) {
		*why = "data port below 1024";
		return (EPERM);
	}
	session_expire(c, s);
	if (permit_find(s, m->pid) != NULL) {
		*why = "permit id in use";
		return (EEXIST);
	}
	if (s->npermits >= c->conf->max_permits) {
		*why = "too many permits";
		return (ENOSPC);
	}
	if (c->npermits >= PFH_PERMITS_MAX) {
		*why = "permit table full";
		return (ENOSPC);
	}
	if ((p = permit_new(s, m)) == NULL) {
		*why = "out of memory";
		return (ENOMEM);
	}
	if (permit_pick_port(c, p) == -1) {
		free(p);
		*why = "no free proxy port, or data connection in use";
		return (EEXIST);
	}
	if (permit_apply(p, 1) == -1) {
		error = errno ? errno : EIO;
		free(p);
		*why = "packet filter refused";
		return (error);
	}
	permit_keys_insert(c, p);
	TAILQ_INSERT_TAIL(&s->permits, p, entry);
	s->npermits++;
	c->npermits++;
	m->pport = p->p.pport;
	log_debug("session %u: permit %u %s port %u -> %u", m->sid, m->pid,
	    m->kind == PFH_PASSIVE ? "passive" : "active", m->pport, m->tport);
	return (0);
}

static int
h_permit_add(struct ctx *c, struct imsg *imsg, uint32_t reqid)
{
	struct pfh_permit	 m;
	struct session		*s;
	const char		*why;
	int			 error;

	if (proto_recv_permit(imsg, &m) == -1)
		return (drop("PERMIT_ADD", "bad size"));
	if (validate_permit(&m, &why) == -1)
		return (drop("PERMIT_ADD", why));
	if ((s = session_find(c, m.sid)) == NULL)
		return (drop("PERMIT_ADD", "not this peer's session"));
	if (validate_permit_fits(&s->s, &m, &why) == -1)
		return (drop("PERMIT_ADD", why));
	if (!rate_ok(c))
		return (reply(c, reqid, EAGAIN, "request rate limit"));
	if ((error = permit_add(c, s, &m, &why)) != 0)
		return (refuse(c, reqid, m.sid, error, why));
	if (proto_send_reply(&c->ibuf, reqid, 0, NULL, NULL, m.pport) == -1)
		return (H_DROP);
	return (H_OK);
}

static void
permit_free(struct ctx *c, struct permit *p)
{
	struct session	*s = p->sess;
	int		 i;

	if (permit_apply(p, 0) == -1)
		log_warn("session %u: delete permit %u", s->s.sid, p->p.pid);
	for (i = 0; i < p->nkeys; i++)
		if (p->k[i].owner == p)
			RB_REMOVE(key_tree, &c->keys, &p->k[i]);
	TAILQ_REMOVE(&s->permits, p, entry);
	s->npermits--;
	c->npermits--;
	free(p);
}

static int
h_permit_del(struct ctx *c, struct imsg *imsg, uint32_t reqid)
{
	struct pfh_permit_del	 m;
	struct session		*s;
	struct permit		*p;

	if (proto_recv_permit_del(imsg, &m) == -1)
		return (drop("PERMIT_DEL", "bad size"));
	if ((s = session_find(c, m.sid)) == NULL)
		return (drop("PERMIT_DEL", "not this peer's session"));
	if ((p = permit_find(s, m.pid)) == NULL)
		return (reply(c, reqid, ENOENT, "no such permit"));
	permit_free(c, p);
	return (reply(c, reqid, 0, NULL));
}

static int
h_ctlookup(struct ctx *c, struct imsg *imsg, uint32_t reqid)
{
	struct pfh_ctlookup	m;
	struct pfh_addr		orig;
	uint16_t		oport;
	const char		*why;

	if (proto_recv_ctlookup(imsg, &m) == -1)
		return (drop("CT_LOOKUP", "bad size"));
	if (c->role != PFH_ROLE_TFTP)
		return (drop("CT_LOOKUP", "only for tftp-proxy"));
	if (validate_ctlookup(&m, &why) == -1)
		return (drop("CT_LOOKUP", why));
	if (!addr_is_unicast_host(&m.client) || !addr_is_unicast_host(&m.local))
		return (refuse(c, reqid, 0, EPERM, "not a unicast host"));
	if (!rate_ok(c))
		return (reply(c, reqid, EAGAIN, "request rate limit"));
	memset(&orig, 0, sizeof(orig));
	orig.af = m.client.af;
	if (ct_lookup_reply(m.client.af, m.proto, m.local.addr, m.lport,
	    m.client.addr, m.cport, orig.addr, &oport) == -1)
		return (reply(c, reqid, errno ? errno : ENOENT,
		    "no conntrack entry"));
	if (proto_send_reply(&c->ibuf, reqid, 0, NULL, &orig, oport) == -1)
		return (H_DROP);
	return (H_OK);
}

static int
h_hello(struct ctx *c, struct imsg *imsg)
{
	struct pfh_hello	m;
	const char		*why;

	if (proto_recv_hello(imsg, &m) == -1)
		return (drop("HELLO", "bad size"));
	if (validate_hello(&m, &why) == -1)
		return (drop("HELLO", why));
	c->hello = 1;
	c->role = m.role;
	m.version = PFH_PROTO_VERSION;
	if (proto_send_hello(&c->ibuf, 0, &m) == -1)
		return (H_DROP);
	return (H_OK);
}

static int
dispatch(struct ctx *c, struct imsg *imsg)
{
	uint32_t	type = imsg_get_type(imsg);
	uint32_t	reqid = imsg_get_id(imsg);

	if (imsg_get_fd(imsg) != -1)
		return (drop(proto_name(type), "unexpected descriptor"));
	if (!c->hello)
		return (type == PFH_HELLO ? h_hello(c, imsg) :
		    drop(proto_name(type), "no HELLO first"));
	switch (type) {
	case PFH_SESSION_START:
		return (h_session_start(c, imsg, reqid));
	case PFH_SESSION_END:
		return (h_session_end(c, imsg, reqid));
	case PFH_PERMIT_ADD:
		return (h_permit_add(c, imsg, reqid));
	case PFH_PERMIT_DEL:
		return (h_permit_del(c, imsg, reqid));
	case PFH_CT_LOOKUP:
		return (h_ctlookup(c, imsg, reqid));
	}
	return (drop(proto_name(type), "unexpected message type"));
}

static void
session_free(struct ctx *c, struct session *s)
{
	struct permit	*p;

	while ((p = TAILQ_FIRST(&s->permits)) != NULL)
		permit_free(c, p);
	RB_REMOVE(session_tree, &c->sessions, s);
	c->nsessions--;
	free(s);
}

/* Read what is there and handle every complete message. */
static int
serve_read(struct ctx *c)
{
	struct imsg	imsg;
	ssize_t		n;
	int		rc;

	if ((n = imsgbuf_read(&c->ibuf)) == -1) {
		log_warn("read from peer");
		return (H_DROP);
	}
	if (n == 0)
		return (1);	/* EOF */
	for (;;) {
		if ((n = imsg_get(&c->ibuf, &imsg)) == -1)
			return (drop("framing", "bad imsg header"));
		if (n == 0)
			return (H_OK);
		rc = dispatch(c, &imsg);
		imsg_free(&imsg);
		if (rc == H_DROP)
			return (H_DROP);
	}
}

int
pfh_serve(int fd, const struct pfh_conf *conf)
{
	struct ctx	 c;
	struct session	*s;
	struct pollfd	 pfd;
	int		 rc = H_OK;

	memset(&c, 0, sizeof(c));
	c.conf = conf;
	c.tokens = conf->rate;
	clock_gettime(CLOCK_MONOTONIC, &c.last);
	RB_INIT(&c.sessions);
	RB_INIT(&c.keys);
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == -1 ||
	    imsgbuf_init(&c.ibuf, fd) == -1)
		return (-1);
	while (rc == H_OK) {
		pfd.fd = fd;
		pfd.events = 0;
		pfd.revents = 0;
		/* A peer that does not read its replies is not read either. */
		if (imsgbuf_queuelen(&c.ibuf) < OUT_MAX)
			pfd.events |= POLLIN;
		if (imsgbuf_queuelen(&c.ibuf) > 0)
			pfd.events |= POLLOUT;
		if (poll(&pfd, 1, -1) == -1) {
			if (errno == EINTR)
				continue;
			rc = H_DROP;
			break;
		}
		if (pfd.revents & (POLLIN | POLLHUP | POLLERR))
			rc = serve_read(&c);
		if (rc == H_OK && imsgbuf_write(&c.ibuf) == -1) {
			if (errno == EPIPE || errno == ECONNRESET)
				rc = 1;	/* gone: as EOF */
			else {
				log_warn("write to peer");
				rc = H_DROP;
			}
		}
	}
	if (rc == H_DROP)	/* the replies before the violation, if we can */
		(void)imsgbuf_write(&c.ibuf);
	while ((s = RB_ROOT(&c.sessions)) != NULL)
		session_free(&c, s);
	imsgbuf_clear(&c.ibuf);
	return (rc == H_DROP ? -1 : 0);
}
