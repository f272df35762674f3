/* SPDX-License-Identifier: ISC */
/*
 * serve.c: serve the front ends.  Every message is checked in order
 * (state, known type, exact size, every field, session ownership, then
 * what it asks for and the limits).  A protocol violation (framing,
 * type, size, padding, a descriptor, a session the peer does not own)
 * drops the peer; a well-formed request that fails a semantic check
 * (addresses, role, data ports, limits, the kernel's refusal) gets ERR
 * with an errno and a reason, and a log line: only that session is
 * affected.  Nothing reaches the backend before all checks pass.
 *
 * A peer is served without ever blocking on it: replies queue while
 * its socket is full, and its requests are not read while too many
 * replies wait (it is not reading them).
 *
 * Everything belongs to a peer (sessions, permits, its rate bucket);
 * element keys and the limits are common to all peers of this
 * pfhelper, each peer taking at most conf->share percent of a limit.
 */
#include "compat.h"

#include <sys/socket.h>
#include <sys/tree.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "clock.h"
#include "ct.h"
#include "hostlimit.h"
#include "imsg.h"
#include "log.h"
#include "pfhelper.h"

/*
 * Every element key we put in the kernel has one owner here.  Range
 * permits (TLS sessions) of the same client, server and addresses share
 * one set of elements: the first holds them, the others are its guests,
 * and when it goes the first guest takes them over; the last one
 * deletes them.  Other keys are shared between permits only in time
 * (snat and pass keys carry the target port, not the proxy port), so a
 * key still owned by a live permit is refused at once (the kernel would
 * say EEXIST, and slowly), and a permit only deletes the keys it still
 * owns and that have not timed out in the kernel already.
 */
struct elemkey {
	RB_ENTRY(elemkey)	 entry;
	struct filter_elem	 e;
	struct permit		*owner;
};

struct permit {
	TAILQ_ENTRY(permit)	 entry;
	struct pfh_permit	 p;
	const struct pfh_kind	*kind;		/* of p.kind */
	struct psession		*sess;
	struct elemkey		 k[3];
	int			 nelems;	/* of k[] (permit_elems) */
	int			 nkeys;		/* in the key tree */
	double			 expires;	/* monotonic seconds */
	/* Span permits: the one whose elements this one shares. */
	struct permit		*host;
	TAILQ_HEAD(, permit)	 guests;	/* those sharing ours */
	TAILQ_ENTRY(permit)	 gentry;
};

/* A peer's session: pfhelper's record of a front end's session. */
struct psession {
	RB_ENTRY(psession)	 entry;
	struct pfh_session	 s;
	struct peer		*peer;
	TAILQ_HEAD(, permit)	 permits;
	uint32_t		 npermits;
	double			 started;
};

RB_HEAD(psession_tree, psession);
RB_HEAD(key_tree, elemkey);

/* A token bucket: rate per second, a burst of one second. */
struct bucket {
	uint32_t		 rate;		/* 0: no limit */
	double			 tokens;
	double			 last;
};

#define NREASONS	32

struct counters {
	uint64_t		 peers;		/* connected since start */
	uint64_t		 dropped;	/* for a protocol violation */
	uint64_t		 sessions;
	uint64_t		 permits;
	uint64_t		 refused;
	struct {
		char		 why[64];
		uint64_t	 n;
	}			 reason[NREASONS];
};

struct svc {
	const struct pfh_conf	*conf;
	struct key_tree		 keys;
	int			 table[PFH_NROLES];	/* filter index or -1 */
	struct filter_conf	 fconf[PFH_NROLES];
	TAILQ_HEAD(, peer)	 peers;
	uint32_t		 npeers;
	uint32_t		 nsessions;	/* all peers */
	uint32_t		 npermits;	/* all peers */
	struct bucket		 rate;
	struct counters		 st;
	double			 started;
	clock_fn		 clock;		/* clock_mono, or a test's */
	struct ct		*ct;		/* conntrack (svc_ct) */
	struct filter		*filter;	/* the backend's state */
};

struct peer {
	TAILQ_ENTRY(peer)	 entry;
	struct svc		*svc;
	struct imsgbuf		 ibuf;
	struct psession_tree	 sessions;
	uint32_t		 nsessions;
	uint32_t		 npermits;	/* all its sessions */
	uint32_t		 max_sessions;	/* its own -m */
	int			 hello;
	int			 notable;	/* no table could be made */
	const struct pfh_role	*role;		/* socket's, or from HELLO */
	pid_t			 pid;
	struct pfh_rservers	 rs;		/* -R, the HELLO's or conf's */
	struct bucket		 rate;
};

/* A role's index in svc's arrays. */
#define RIDX(r)	((int)((r) - role_at(0)))

/* Outcome of a handler: reply sent and go on, or drop the peer. */
#define H_OK	0
#define H_DROP	-1

static int	session_cmp(struct psession *, struct psession *);
static int	dispatch(struct peer *, struct imsg *);
static int	reply(struct peer *, uint32_t, int, const char *);
static int	permit_apply(struct permit *, int);
static void	permit_free(struct peer *, struct permit *);
static void	session_free(struct peer *, struct psession *);
static int	key_cmp(struct elemkey *, struct elemkey *);
static int	permit_add(struct peer *, struct psession *,
		    struct pfh_permit *, const char **);
static int	range_share(struct peer *, struct permit *);
static void	range_handoff(struct svc *, struct permit *);

#define PORT_TRIES	16	/* random proxy ports tried per permit */
#define OUT_MAX		4096	/* replies queued before we stop reading */
#define HELLO_WAIT_MS	5000	/* a spawned pfhelper waits for its HELLO */

RB_GENERATE_STATIC(psession_tree, psession, entry, session_cmp)
RB_GENERATE_STATIC(key_tree, elemkey, entry, key_cmp)

static int
key_cmp(struct elemkey *a, struct elemkey *b)
{
	const struct filter_elem	*x = &a->e, *y = &b->e;
	int				 d;

	if (x->table != y->table)
		return (x->table < y->table ? -1 : 1);
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

/* The time on the service's clock (svc_clock), monotonic seconds. */
static double
now(const struct svc *v)
{
	return (v->clock());
}

static int
session_cmp(struct psession *a, struct psession *b)
{
	return (a->s.sid < b->s.sid ? -1 : a->s.sid > b->s.sid);
}

static struct psession *
session_find(struct peer *c, uint32_t sid)
{
	struct psession	key;

	key.s.sid = sid;
	return (RB_FIND(psession_tree, &c->sessions, &key));
}

/* Refusals by reason, for the status view. */
static void
count_refusal(struct counters *st, const char *why)
{
	size_t	i;

	st->refused++;
	if (why == NULL)
		why = "(no reason)";
	for (i = 0; i < NREASONS && st->reason[i].why[0] != '\0'; i++)
		if (strncmp(st->reason[i].why, why,
		    sizeof(st->reason[i].why) - 1) == 0)
			break;
	if (i == NREASONS)
		i = NREASONS - 1;	/* the rest, counted together */
	if (st->reason[i].why[0] == '\0')
		strlcpy(st->reason[i].why, i == NREASONS - 1 ? "(other)" : why,
		    sizeof(st->reason[i].why));
	st->reason[i].n++;
}

static int
reply(struct peer *c, uint32_t reqid, int error, const char *reason)
{
	if (error != 0)
		count_refusal(&c->svc->st, reason);
	if (proto_send_reply(&c->ibuf, reqid, error, reason, NULL, 0) == -1)
		return (H_DROP);
	return (H_OK);
}

/* A well-formed request refused: that session only. */
static int
refuse(struct peer *c, uint32_t reqid, uint32_t sid, int error,
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

/*
 * Receive message N of the list (proto.h): its exact size, then its
 * form (validate_N).  H_OK, or the peer is dropped (H_DROP).
 */
#define SERVE_RECV(t, name, st)						\
static int								\
recv_##name(struct imsg *imsg, st *m)					\
{									\
	const char	*why;						\
									\
	if (proto_recv_##name(imsg, m) == -1)				\
		return (drop(proto_name(t) + 4, "bad size"));		\
	if (validate_##name(m, &why) == -1)				\
		return (drop(proto_name(t) + 4, why));			\
	return (H_OK);							\
}
PFH_IMSG_TYPES(SERVE_RECV, PFH_NOMSG)
#undef SERVE_RECV

/* A peer's share of a limit: conf->share percent (0: all), at least 1. */
static uint32_t
share(const struct svc *v, uint32_t limit)
{
	uint32_t	pct = v->conf->share != 0 ? v->conf->share : 100;
	uint64_t	n = (uint64_t)limit * pct / 100;

	return (n == 0 ? 1 : n > limit ? limit : (uint32_t)n);
}

/*
 * Whether the shares of a limit hold: -c made them a hard cap, or the
 * limit is under pressure (used, by all peers, reaches its last
 * quarter).  While the limit has room a peer takes what it needs
 * (hostlimit.h: the front ends' hosts are treated alike).
 */
static int
shares_hold(const struct svc *v, uint32_t used, uint32_t limit)
{
	return (v->conf->share_hard || used >= hl_reserve_from(limit));
}

/* Whether a peer holding held of a limit may not take one more. */
static int
over_share(const struct svc *v, uint32_t used, uint32_t limit,
    uint32_t held)
{
	return (held >= share(v, limit) && shares_hold(v, used, limit));
}

static void
bucket_init(struct bucket *b, uint32_t rate, double t)
{
	b->rate = rate;
	b->tokens = rate;
	b->last = t;
}

static void
bucket_fill(struct bucket *b, double t)
{
	b->tokens += (t - b->last) * b->rate;
	b->last = t;
	if (b->tokens > b->rate)
		b->tokens = b->rate;
}

/*
 * The common bucket (conf->rate) and the peer's (its share of it): a
 * peer whose bucket is empty goes on while the common one is less than
 * three quarters spent (shares_hold()).
 */
static int
rate_ok(struct peer *c)
{
	struct bucket	*g = &c->svc->rate, *p = &c->rate;
	double		 t;

	if (g->rate == 0)
		return (1);
	t = now(c->svc);
	bucket_fill(g, t);
	bucket_fill(p, t);
	if (g->tokens < 1 || (p->tokens < 1 &&
	    shares_hold(c->svc, g->rate - (uint32_t)g->tokens, g->rate)))
		return (0);
	g->tokens -= 1;
	if (p->tokens >= 1)
		p->tokens -= 1;
	return (1);
}

/*
 * Add (add = 1) the permit's three elements in one batch, or delete
 * those it still owns.  An expired permit's elements are gone already.
 */
static int
permit_apply(struct permit *p, int add)
{
	struct filter	*f = p->sess->peer->svc->filter;
	uint32_t	 ms = p->p.timeout * 1000U;
	int		 i, n = 0, rc = 0;

	if (p->kind->span)
		ms = FILTER_NO_TIMEOUT;		/* the session's life */
	if (!add && p->expires <= now(p->sess->peer->svc))
		return (0);
	if (filter_begin(f) == -1)
		return (-1);
	for (i = 0; i < p->nelems && rc == 0; i++) {
		if (!add && p->k[i].owner != p)
			continue;
		rc = add ? filter_add(f, &p->k[i].e, ms) :
		    filter_del(f, &p->k[i].e);
		n++;
	}
	if (rc == -1 || n == 0) {
		filter_rollback(f);
		return (rc);
	}
	return (filter_commit(f));
}

/*
 * snat and pass keys name the target (client.server.proto.port), so a
 * later permit for the same data connection (the server hands out a
 * port again once the first connection is made) needs the same element
 * with the same value: it takes the key over.  rdr keys carry the proxy
 * port and are never shared, nor are a range permit's: one per client
 * and server at a time.
 */
static int
key_shareable(const struct filter_elem *a, const struct filter_elem *b)
{
	return ((a->map == FE_SNAT || a->map == FE_SNATP ||
	    a->map == FE_PASS) && memcmp(a->to, b->to, sizeof(a->to)) == 0 &&
	    a->toport == b->toport);
}

/*
 * Whether the permit's keys are free: a key owned by an expired permit
 * is freed with it; one owned by a live permit is shared (see above) or
 * a conflict.
 */
static int
permit_keys_free(struct peer *c, struct permit *p)
{
	struct elemkey	*k;
	int		 i;

	for (i = 0; i < p->nelems; i++) {
		if ((k = RB_FIND(key_tree, &c->svc->keys, &p->k[i])) == NULL)
			continue;
		if (k->owner->expires <= now(c->svc))
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
permit_keys_insert(struct peer *c, struct permit *p)
{
	struct elemkey	*k;
	int		 i;

	for (i = 0; i < p->nelems; i++) {
		if ((k = RB_FIND(key_tree, &c->svc->keys, &p->k[i])) != NULL) {
			RB_REMOVE(key_tree, &c->svc->keys, k);
			k->owner = NULL;	/* its permit leaves it be */
		}
		p->k[i].owner = p;
		RB_INSERT(key_tree, &c->svc->keys, &p->k[i]);
	}
	p->nkeys = p->nelems;
}

/* Forget the permits of a session that the kernel has timed out. */
static void
session_expire(struct peer *c, struct psession *s)
{
	struct permit	*p, *next;
	double		 t = now(c->svc);

	for (p = TAILQ_FIRST(&s->permits); p != NULL; p = next) {
		next = TAILQ_NEXT(p, entry);
		if (p->expires <= t)
			permit_free(c, p);
	}
}

/* A checked session, the peer's now. */
static struct psession *
session_new(struct peer *c, const struct pfh_session *m)
{
	struct psession	*s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return (NULL);
	s->s = *m;
	s->peer = c;
	s->started = now(c->svc);
	TAILQ_INIT(&s->permits);
	RB_INSERT(psession_tree, &c->sessions, s);
	c->nsessions++;
	c->svc->nsessions++;
	c->svc->st.sessions++;
	return (s);
}

static int
h_session(struct peer *c, struct imsg *imsg, uint32_t reqid)
{
	struct pfh_session	 m;
	struct pfh_permit	 p;
	uint16_t		 oport = 0;	/* before NAT, conntrack */
	struct psession		*s;
	const char		*why;
	char			 a[ADDR_STRLEN], b[ADDR_STRLEN];
	int			 error;

	if (recv_session(imsg, &m) == H_DROP)
		return (H_DROP);
	if ((why = proto_session_check(&m)) != NULL ||
	    validate_session_role(c->role, &c->rs, &m, &why) == -1)
		return (refuse(c, reqid, m.sid, EPERM, why));
	if (session_find(c, m.sid) != NULL)
		return (reply(c, reqid, EEXIST, "session id in use"));
	if (c->svc->nsessions >= c->svc->conf->max_sessions)
		return (refuse(c, reqid, m.sid, ENOSPC, "too many sessions"));
	if (c->nsessions >= c->max_sessions ||
	    over_share(c->svc, c->svc->nsessions, c->svc->conf->max_sessions,
	    c->nsessions))
		return (refuse(c, reqid, m.sid, ENOSPC,
		    "too many sessions for this front end"));
	if (!rate_ok(c))
		return (reply(c, reqid, EAGAIN, "request rate limit"));
	if (c->svc->conf->ct_verify && ct_check_reply(c->svc->ct,
	    m.client.af, m.proto, m.client.addr, m.cport, m.dialled.addr,
	    m.dport, m.local.addr, m.lport, &oport) == -1) {
		error = errno;
		log_warnx("session %u: no such connection %s -> %s (%s)",
		    m.sid, addr_port_str(&m.client, m.cport, a, sizeof(a)),
		    addr_port_str(&m.dialled, m.dport, b, sizeof(b)),
		    strerror(error));
		return (reply(c, reqid, EPERM, "no such connection"));
	}
	if ((why = validate_claims(c->svc->conf, &m,
	    c->svc->conf->ct_verify)) != NULL) {
		log_warnx("session %u: %s", m.sid, why);
		return (reply(c, reqid, EPERM, why));
	}
	if ((s = session_new(c, &m)) == NULL)
		return (reply(c, reqid, ENOMEM, "out of memory"));
	if (m.proto == IPPROTO_UDP) {
		/* The reply path, with the session: one round trip. */
		memset(&p, 0, sizeof(p));
		p.sid = m.sid;
		p.pid = PFH_UDP_PERMIT;
		p.kind = PFH_ACTIVE;
		p.pport = m.pport;
		/*
		 * To the client's own port: where NAT rewrote it (see
		 * ct_netlink.c), the proxy saw another one, and the server's
		 * data, DNATed to that one, would reach no socket.
		 */
		p.tport = oport != 0 ? oport : m.cport;
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
h_session_end(struct peer *c, struct imsg *imsg, uint32_t reqid)
{
	struct pfh_session_end	 m;
	struct psession		*s;

	if (recv_session_end(imsg, &m) == H_DROP)
		return (H_DROP);
	if ((s = session_find(c, m.sid)) == NULL)
		return (drop("SESSION_END", "not this peer's session"));
	session_free(c, s);
	return (reply(c, reqid, 0, NULL));
}

static struct permit *
permit_find(struct psession *s, uint32_t pid)
{
	struct permit	*p;

	TAILQ_FOREACH(p, &s->permits, entry)
		if (p->p.pid == pid)
			return (p);
	return (NULL);
}

/* A permit with its elements still to be made (permit_pick_port). */
static struct permit *
permit_new(struct psession *s, const struct pfh_permit *m)
{
	struct permit	*p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return (NULL);
	p->p = *m;
	p->kind = kind_get(m->kind);
	p->sess = s;
	TAILQ_INIT(&p->guests);
	/* A margin so that we never count on an element the kernel lost. */
	p->expires = now(s->peer->svc) + m->timeout - 0.5;
	if (p->kind->span)
		p->expires = HUGE_VAL;		/* until its session ends */
	return (p);
}

/*
 * A proxy port whose rdr key nobody holds, when the peer left pport 0
 * (else the port asked for, if free).  0, or -1 if none was found in a
 * few tries.
 */
static int
permit_pick_port(struct peer *c, struct permit *p)
{
	struct filter_elem	 e[3];
	int			 i, j;
	int			 choose = p->p.pport == 0 && !p->kind->span;

	for (i = 0; i < PORT_TRIES; i++) {
		if (choose)
			p->p.pport = PFH_PORT_LO + arc4random_uniform(
			    PFH_PORT_HI - PFH_PORT_LO + 1);
		p->nelems = permit_elems(&p->sess->s, &p->p, e);
		for (j = 0; j < p->nelems; j++) {
			e[j].table = c->svc->table[RIDX(c->role)];
			p->k[j].e = e[j];
		}
		if (permit_keys_free(c, p))
			return (0);
		if (!choose)
			break;
	}
	return (-1);
}

/*
 * A span permit: the peer's -E range (the one its table's rules
 * check), one per session.  0, or an errno with why.
 */
static int
range_ok(struct peer *c, struct psession *s, const struct pfh_permit *m,
    const char **why)
{
	const struct filter_conf	*fc = &c->svc->fconf[RIDX(c->role)];
	const struct permit		*p;

	if (s->s.proto != IPPROTO_TCP || fc->tls_lo == 0 ||
	    m->tport != fc->tls_lo || m->thigh != fc->tls_hi) {
		*why = "range is not the table's -E range";
		return (EPERM);
	}
	TAILQ_FOREACH(p, &s->permits, entry)
		if (p->kind->span) {
			*why = "one range permit per session";
			return (EEXIST);
		}
	return (0);
}

/*
 * Add a checked permit to session s: 0 (m->pport says which port), or
 * an errno with the reason in why.
 */
static int
permit_add(struct peer *c, struct psession *s, struct pfh_permit *m,
    const char **why)
{
	const struct pfh_kind	*k = kind_get(m->kind);
	struct permit		*p;
	int			 error;

	*why = NULL;
	if (!proto_data_port_ok(m->tport)) {
		*why = "data port below " PFH_DATA_PORT_MIN_S;
		return (EPERM);
	}
	if (k->span && (error = range_ok(c, s, m, why)) != 0)
		return (error);
	session_expire(c, s);
	if (permit_find(s, m->pid) != NULL) {
		*why = "permit id in use";
		return (EEXIST);
	}
	if (s->npermits >= c->svc->conf->max_permits) {
		*why = "too many permits";
		return (ENOSPC);
	}
	if (c->svc->npermits >= PFH_PERMITS_MAX) {
		*why = "permit table full";
		return (ENOSPC);
	}
	if (over_share(c->svc, c->svc->npermits, PFH_PERMITS_MAX,
	    c->npermits)) {
		*why = "too many permits for this front end";
		return (ENOSPC);
	}
	if ((p = permit_new(s, m)) == NULL) {
		*why = "out of memory";
		return (ENOMEM);
	}
	if (permit_pick_port(c, p) == -1) {
		if (!k->span || !range_share(c, p)) {
			free(p);
			*why = k->span ? "a range permit for "
			    "this client with another server or address is "
			    "live" :
			    "no free proxy port, or data connection in use";
			return (EEXIST);
		}
	} else if (permit_apply(p, 1) == -1) {
		error = errno ? errno : EIO;
		free(p);
		*why = "packet filter refused";
		return (error);
	} else
		permit_keys_insert(c, p);
	TAILQ_INSERT_TAIL(&s->permits, p, entry);
	s->npermits++;
	c->npermits++;
	c->svc->npermits++;
	c->svc->st.permits++;
	m->pport = k->span ? m->tport : p->p.pport;
	log_debug("session %u: permit %u %s port %u -> %u", m->sid, m->pid,
	    k->name, m->pport, k->span ? m->thigh : m->tport);
	return (0);
}

static int
h_permit(struct peer *c, struct imsg *imsg, uint32_t reqid)
{
	struct pfh_permit	 m;
	struct psession		*s;
	const char		*why;
	int			 error;

	if (recv_permit(imsg, &m) == H_DROP)
		return (H_DROP);
	if ((s = session_find(c, m.sid)) == NULL)
		return (drop("PERMIT_ADD", "not this peer's session"));
	if (validate_permit_fits(c->role, &m, &why) == -1)
		return (drop("PERMIT_ADD", why));
	if (!rate_ok(c))
		return (reply(c, reqid, EAGAIN, "request rate limit"));
	if ((error = permit_add(c, s, &m, &why)) != 0)
		return (refuse(c, reqid, m.sid, error, why));
	if (proto_send_reply(&c->ibuf, reqid, 0, NULL, NULL, m.pport) == -1)
		return (H_DROP);
	return (H_OK);
}

/*
 * A range permit whose elements a live range permit holds already, the
 * same ones (client, server, the addresses between): it shares them.
 * 1 if it does; else they conflict (0).
 */
static int
range_share(struct peer *c, struct permit *p)
{
	struct elemkey	*k;
	struct permit	*h;
	int		 i;

	if ((k = RB_FIND(key_tree, &c->svc->keys,
	    &p->k[p->nelems - 1])) == NULL || (h = k->owner) == NULL ||
	    h->kind != p->kind || h->nelems != p->nelems)
		return (0);
	for (i = 0; i < p->nelems; i++)
		if (memcmp(&h->k[i].e, &p->k[i].e, sizeof(p->k[i].e)) != 0)
			return (0);
	p->host = h;
	TAILQ_INSERT_TAIL(&h->guests, p, gentry);
	return (1);
}

/* Range permit p goes: its first guest takes its elements over. */
static void
range_handoff(struct svc *v, struct permit *p)
{
	struct permit	*g, *o;
	int		 i;

	g = TAILQ_FIRST(&p->guests);
	TAILQ_REMOVE(&p->guests, g, gentry);
	g->host = NULL;
	while ((o = TAILQ_FIRST(&p->guests)) != NULL) {
		TAILQ_REMOVE(&p->guests, o, gentry);
		o->host = g;
		TAILQ_INSERT_TAIL(&g->guests, o, gentry);
	}
	for (i = 0; i < p->nkeys; i++) {
		if (p->k[i].owner != p)
			continue;
		RB_REMOVE(key_tree, &v->keys, &p->k[i]);
		g->k[i].e = p->k[i].e;
		g->k[i].owner = g;
		RB_INSERT(key_tree, &v->keys, &g->k[i]);
		p->k[i].owner = NULL;
	}
	g->nkeys = p->nkeys;
	p->nkeys = 0;
}

/* Free a permit of any peer's (c may be another peer, taking its keys). */
static void
permit_free(struct peer *c, struct permit *p)
{
	struct psession	*s = p->sess;
	int		 i;

	c = s->peer;

	if (p->host != NULL)
		TAILQ_REMOVE(&p->host->guests, p, gentry);
	else if (!TAILQ_EMPTY(&p->guests))
		range_handoff(c->svc, p);
	if (permit_apply(p, 0) == -1)
		log_warn("session %u: delete permit %u", s->s.sid, p->p.pid);
	for (i = 0; i < p->nkeys; i++)
		if (p->k[i].owner == p)
			RB_REMOVE(key_tree, &c->svc->keys, &p->k[i]);
	TAILQ_REMOVE(&s->permits, p, entry);
	s->npermits--;
	c->npermits--;
	c->svc->npermits--;
	free(p);
}

static int
h_permit_del(struct peer *c, struct imsg *imsg, uint32_t reqid)
{
	struct pfh_permit_del	 m;
	struct psession		*s;
	struct permit		*p;

	if (recv_permit_del(imsg, &m) == H_DROP)
		return (H_DROP);
	if ((s = session_find(c, m.sid)) == NULL)
		return (drop("PERMIT_DEL", "not this peer's session"));
	if ((p = permit_find(s, m.pid)) == NULL)
		return (reply(c, reqid, ENOENT, "no such permit"));
	permit_free(c, p);
	return (reply(c, reqid, 0, NULL));
}

static int
h_ctlookup(struct peer *c, struct imsg *imsg, uint32_t reqid)
{
	struct pfh_ctlookup	m;
	struct pfh_addr		orig;
	uint16_t		oport;

	if (recv_ctlookup(imsg, &m) == H_DROP)
		return (H_DROP);
	if (!c->role->ctlookup)
		return (drop("CT_LOOKUP", "not in this role"));
	if (!addr_is_unicast_host(&m.client) || !addr_is_unicast_host(&m.local))
		return (refuse(c, reqid, 0, EPERM, "not a unicast host"));
	if (!rate_ok(c))
		return (reply(c, reqid, EAGAIN, "request rate limit"));
	memset(&orig, 0, sizeof(orig));
	orig.af = m.client.af;
	if (ct_lookup_reply(c->svc->ct, m.client.af, m.proto, m.local.addr,
	    m.lport, m.client.addr, m.cport, orig.addr, &oport) == -1)
		return (reply(c, reqid, errno ? errno : ENOENT,
		    "no conntrack entry"));
	if (proto_send_reply(&c->ibuf, reqid, 0, NULL, &orig, oport) == -1)
		return (H_DROP);
	return (H_OK);
}

/* The table-wide options a peer asks for, in filter_conf's terms. */
static void
hello_opts(const struct pfh_role *r, const struct pfh_hello *m,
    struct filter_conf *fc)
{
	if (!r->table_opts)
		return;
	if (m->flags & PFH_H_LOG)
		fc->log = 1;
	if (m->label != 0) {
		fc->use_label = 1;
		fc->label = m->label - 1;
	}
	if (m->prio != 0)
		fc->prio = m->prio;
	fc->tls_lo = m->tls_lo;
	fc->tls_hi = m->tls_hi;
}

/*
 * A spawned pfhelper makes its one table at the HELLO: the role's
 * name (or -t's), else, if that is taken (a service or another
 * instance has it) or the front end is one of several at once
 * (PFH_H_MANY: inetd runs one per address family), the name with the
 * front end's pid.
 */
static const char *
table_make(struct svc *v, const struct pfh_role *r, const struct pfh_hello *m)
{
	struct filter_conf	*fc = &v->fconf[RIDX(r)];
	int			 t;

	*fc = v->conf->filter;
	hello_opts(r, m, fc);
	if (fc->table[0] == '\0')
		strlcpy(fc->table, r->table, sizeof(fc->table));
	if (v->conf->filter.table[0] != '\0')
		t = filter_init(v->filter, fc);
	else if ((m->flags & PFH_H_MANY) ||
	    (t = filter_init(v->filter, fc)) == -1) {
		if (!(m->flags & PFH_H_MANY))
			log_info("table inet %s is taken", r->table);
		snprintf(fc->table, sizeof(fc->table), "%s-%ld", r->table,
		    (long)getppid());
		t = filter_init(v->filter, fc);
	}
	if (t == -1)
		return ("cannot create the table");
	v->table[RIDX(r)] = t;
	log_info("serving table inet %s", fc->table);
	return (NULL);
}

/* A standing service's table must be what the peer asks for. */
static const char *
table_fits(struct svc *v, const struct pfh_role *r, const struct pfh_hello *m)
{
	struct filter_conf	want = v->fconf[RIDX(r)];

	want.log = 0;
	want.use_label = 0;
	want.label = 0;
	want.prio = 0;
	hello_opts(r, m, &want);
	if (want.log != v->fconf[RIDX(r)].log ||
	    want.use_label != v->fconf[RIDX(r)].use_label ||
	    want.label != v->fconf[RIDX(r)].label ||
	    want.prio != v->fconf[RIDX(r)].prio)
		return ("the service's table has other options (log, "
		    "label, class)");
	/* A front end without -E asks for no range permit. */
	if (m->tls_lo != 0 && (m->tls_lo != v->fconf[RIDX(r)].tls_lo ||
	    m->tls_hi != v->fconf[RIDX(r)].tls_hi))
		return ("the service's table has another -E range");
	return (NULL);
}

/* The peer's own limits and -R server. */
static void
hello_peer(struct peer *c, const struct pfh_hello *m)
{
	const struct pfh_conf	*conf = c->svc->conf;

	c->max_sessions = conf->max_sessions;	/* and its share */
	if (m->max_sessions != 0 && m->max_sessions < c->max_sessions)
		c->max_sessions = m->max_sessions;
	if (m->nrserver != 0) {
		memcpy(c->rs.a, m->rserver, m->nrserver * sizeof(c->rs.a[0]));
		c->rs.n = m->nrserver;
		c->rs.port = m->rport != 0 ? m->rport : c->role->rport;
	} else if (c->role->reverse && conf->rs.n != 0) {
		c->rs = conf->rs;
		if (c->rs.port == 0)
			c->rs.port = c->role->rport;
	}
}

/* The widest range permit, in ports. */
static uint32_t
range_width(const struct pfh_conf *conf)
{
	return (conf->range_width != 0 ? conf->range_width :
	    PFH_RANGE_WIDTH_DEF);
}

static int
h_hello(struct peer *c, struct imsg *imsg, uint32_t reqid)
{
	struct pfh_hello	 m;
	const struct pfh_role	*r;
	const char		*why;

	if (recv_hello(imsg, &m) == H_DROP)
		return (H_DROP);
	r = role_get(m.role);
	if (c->role != NULL && c->role != r)
		return (drop("HELLO", "not the role of this socket"));
	c->role = r;
	why = NULL;
	if (m.tls_lo != 0 && (uint32_t)(m.tls_hi - m.tls_lo) >=
	    range_width(c->svc->conf))
		why = "-E range wider than pfhelper's -W";
	else if (c->svc->table[RIDX(r)] == -1)
		why = c->svc->conf->service ? "no table for this role" :
		    table_make(c->svc, r, &m);
	else
		why = table_fits(c->svc, r, &m);
	if (why != NULL) {
		c->notable = c->svc->table[RIDX(r)] == -1;
		log_warnx("peer pid %ld (%s): %s", (long)c->pid, r->name, why);
		(void)proto_send_reply(&c->ibuf, 0, EPERM, why, NULL, 0);
		return (H_DROP);
	}
	c->hello = 1;
	hello_peer(c, &m);
	memset(&m, 0, sizeof(m));
	m.version = PFH_PROTO_VERSION;
	m.role = r->id;
	if (proto_send_hello(&c->ibuf, 0, &m) == -1)
		return (H_DROP);
	return (H_OK);
}

/* Message N of the list (proto.h) goes to h_N. */
static int (*const handlers[])(struct peer *, struct imsg *, uint32_t) = {
#define H_ROW(t, name, st)	[t] = h_##name,
	PFH_IMSG_TYPES(H_ROW, PFH_NOMSG)
#undef H_ROW
};

static int
dispatch(struct peer *c, struct imsg *imsg)
{
	uint32_t	type = imsg_get_type(imsg);
	uint32_t	reqid = imsg_get_id(imsg);

	if (!c->hello)
		return (type == PFH_HELLO ? h_hello(c, imsg, reqid) :
		    drop(proto_name(type), "no HELLO first"));
	/* HELLO once; replies never come this way. */
	if (type == PFH_HELLO || type >= nitems(handlers) ||
	    handlers[type] == NULL)
		return (drop(proto_name(type), "unexpected message type"));
	return (handlers[type](c, imsg, reqid));
}

static void
session_free(struct peer *c, struct psession *s)
{
	struct permit	*p;

	while ((p = TAILQ_FIRST(&s->permits)) != NULL)
		permit_free(c, p);
	RB_REMOVE(psession_tree, &c->sessions, s);
	c->nsessions--;
	c->svc->nsessions--;
	free(s);
}

/*
 * Read what is there and handle every complete message.  pfhelper takes
 * no descriptor (no imsgbuf_allow_fdpass()): the read that brings one
 * closes it and fails, and the peer is dropped, so no message handed to
 * dispatch() carries one.
 */
static int
serve_read(struct peer *c)
{
	struct imsg	imsg;
	ssize_t		n;
	int		rc;

	/* EAGAIN and EINTR are 1, nothing read. */
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

struct svc *
svc_new(const struct pfh_conf *conf)
{
	struct svc	*v;
	int		 i;

	if ((v = calloc(1, sizeof(*v))) == NULL)
		return (NULL);
	if ((v->filter = filter_new()) == NULL) {
		free(v);
		return (NULL);
	}
	v->conf = conf;
	RB_INIT(&v->keys);
	TAILQ_INIT(&v->peers);
	for (i = 0; i < PFH_NROLES; i++)
		v->table[i] = -1;
	v->clock = clock_mono;
	v->started = now(v);
	bucket_init(&v->rate, conf->rate, v->started);
	return (v);
}

/*
 * The clock that times permits, sessions and the rate buckets (a
 * test's fake one); before any peer.
 */
void
svc_clock(struct svc *v, clock_fn clock)
{
	v->clock = clock;
	v->started = now(v);
	bucket_init(&v->rate, v->conf->rate, v->started);
}

/* The conntrack socket its checks and lookups use (ct.h). */
void
svc_ct(struct svc *v, struct ct *ct)
{
	v->ct = ct;
}

/* A standing service: every role's table, named after the role. */
int
svc_tables(struct svc *v)
{
	const struct pfh_role	*r;
	struct filter_conf	*fc;
	int			 i;

	for (i = 0; i < PFH_NROLES; i++) {
		r = role_at(i);
		fc = &v->fconf[i];
		*fc = v->conf->filter;
		strlcpy(fc->table, r->table, sizeof(fc->table));
		if (!r->table_opts) {
			fc->log = fc->use_label = fc->label = 0;
			fc->prio = 0;
		}
		if (!r->tls)
			fc->tls_lo = fc->tls_hi = 0;
		if ((v->table[i] = filter_init(v->filter, fc)) == -1) {
			log_warn("cannot create table inet %s", fc->table);
			return (-1);
		}
		log_info("serving table inet %s (%s role)", fc->table,
		    r->name);
	}
	return (0);
}

void
svc_free(struct svc *v)
{
	struct peer	*c;

	while ((c = TAILQ_FIRST(&v->peers)) != NULL)
		peer_free(c, 0);
	filter_close(v->filter);
	free(v);
}

struct peer *
peer_new(struct svc *v, int fd, uint32_t role, pid_t pid)
{
	struct peer	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return (NULL);
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == -1 ||
	    imsgbuf_init(&c->ibuf, fd) == -1) {
		free(c);
		return (NULL);
	}
	c->svc = v;
	c->role = role != 0 ? role_get(role) : NULL;
	c->pid = pid;
	RB_INIT(&c->sessions);
	bucket_init(&c->rate, share(v, v->conf->rate), now(v));
	TAILQ_INSERT_TAIL(&v->peers, c, entry);
	v->npeers++;
	v->st.peers++;
	return (c);
}

int
peer_fd(const struct peer *c)
{
	return (c->ibuf.fd);
}

pid_t
peer_pid(const struct peer *c)
{
	return (c->pid);
}

int
peer_hello_done(const struct peer *c)
{
	return (c->hello);
}

int
peer_notable(const struct peer *c)
{
	return (c->notable);
}

short
peer_events(struct peer *c)
{
	short	ev = 0;

	/* A peer that does not read its replies is not read either. */
	if (imsgbuf_queuelen(&c->ibuf) < OUT_MAX)
		ev |= POLLIN;
	if (imsgbuf_queuelen(&c->ibuf) > 0)
		ev |= POLLOUT;
	return (ev);
}

int
peer_io(struct peer *c, short revents)
{
	int	rc = H_OK;

	if (revents & (POLLIN | POLLHUP | POLLERR))
		rc = serve_read(c);
	if (rc == H_OK && imsgbuf_write(&c->ibuf) == -1) {
		if (errno == EPIPE || errno == ECONNRESET)
			rc = 1;	/* gone: as EOF */
		else if (errno != EAGAIN) {
			log_warn("write to peer");
			rc = H_DROP;
		}
	}
	/* The replies before a violation, if we can. */
	if (rc == H_DROP)
		(void)imsgbuf_write(&c->ibuf);
	return (rc);
}

void
peer_free(struct peer *c, int dropped)
{
	struct psession	*s;
	struct svc	*v = c->svc;

	if (dropped)
		v->st.dropped++;
	while ((s = RB_ROOT(&c->sessions)) != NULL)
		session_free(c, s);
	imsgbuf_clear(&c->ibuf);
	TAILQ_REMOVE(&v->peers, c, entry);
	v->npeers--;
	free(c);
}

/*
 * Serve one peer until EOF (0) or a violation (-1); with until_hello,
 * return 0 as soon as its HELLO is handled (a spawned pfhelper makes
 * its table there, before its privilege drop).  The descriptor stays
 * open: peer_free() closes nothing but our side's buffers.
 */
int
peer_run(struct peer *c, int until_hello)
{
	struct pollfd	pfd;
	int		n, rc = H_OK;

	while (rc == H_OK && !(until_hello && c->hello)) {
		pfd.fd = c->ibuf.fd;
		pfd.events = peer_events(c);
		pfd.revents = 0;
		n = poll(&pfd, 1, until_hello ? HELLO_WAIT_MS : -1);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)	/* no HELLO in time, or poll failed */
			return (-1);
		rc = peer_io(c, pfd.revents);
	}
	return (rc == H_DROP ? -1 : 0);
}

/* The status view: one line per peer, session and permit, counters. */

/* A span permit: C . S, ports, for the session's life. */
static void
status_range(FILE *fp, const struct permit *p)
{
	const struct pfh_session	*s = &p->sess->s;
	char				 sa[ADDR_STRLEN], sb[ADDR_STRLEN];
	char				 sd[ADDR_STRLEN];

	fprintf(fp, "  permit %u.%u %s in %s: %s . %s . tcp . %u-%u "
	    "via %s, for the session\n", s->sid, p->p.pid, p->kind->name,
	    p->sess->peer->svc->fconf[RIDX(p->sess->peer->role)].table,
	    addr_str(&s->client, sa, sizeof(sa)),
	    addr_str(&s->server, sb, sizeof(sb)), p->p.tport, p->p.thigh,
	    addr_str(&s->dialled, sd, sizeof(sd)));
}

static void
status_permit(FILE *fp, const struct permit *p, double t)
{
	const struct filter_elem	*e = &p->k[0].e;	/* rdr */
	struct pfh_addr			 a, b, to;
	char				 sa[ADDR_STRLEN], sb[ADDR_STRLEN];
	char				 st[ADDR_STRLEN];

	memset(&a, 0, sizeof(a));
	a.af = e->af;
	b = to = a;
	memcpy(a.addr, e->saddr, sizeof(a.addr));
	memcpy(b.addr, e->daddr, sizeof(b.addr));
	memcpy(to.addr, e->to, sizeof(to.addr));
	/* The rdr element as `nft list map' prints it. */
	fprintf(fp, "  permit %u.%u %s in %s: %s . %s . %s . %u : %s . %u, "
	    "%.0f s left\n", p->sess->s.sid, p->p.pid,
	    p->kind->name,
	    p->sess->peer->svc->fconf[RIDX(p->sess->peer->role)].table,
	    addr_str(&a, sa, sizeof(sa)), addr_str(&b, sb, sizeof(sb)),
	    p->sess->s.proto == IPPROTO_TCP ? "tcp" : "udp", e->dport,
	    addr_str(&to, st, sizeof(st)), e->toport,
	    p->expires - t > 0 ? p->expires - t : 0);
}

static void
status_peer(FILE *fp, struct peer *c, double t)
{
	struct psession		*s;
	const struct permit	*p;
	char			 a[ADDR_STRLEN + 8], b[ADDR_STRLEN + 8];

	fprintf(fp, "peer %s pid %ld: %u sessions, %u permits\n",
	    c->role != NULL ? c->role->name : "-", (long)c->pid,
	    c->nsessions, c->npermits);
	RB_FOREACH(s, psession_tree, &c->sessions) {
		fprintf(fp, " session %u %s: %s -> %s, %.0f s\n", s->s.sid,
		    s->s.proto == IPPROTO_TCP ? "tcp" : "udp",
		    addr_port_str(&s->s.client, s->s.cport, a, sizeof(a)),
		    addr_port_str(&s->s.server, s->s.sport, b, sizeof(b)),
		    t - s->started);
		TAILQ_FOREACH(p, &s->permits, entry)
			if (p->kind->span)
				status_range(fp, p);
			else if (p->expires > t)
				status_permit(fp, p, t);
	}
}

void
svc_status(struct svc *v, FILE *fp)
{
	struct peer		*c;
	double			 t = now(v);
	size_t			 i;

	fprintf(fp, "pfhelper: up %.0f s, %u peers, %u sessions, "
	    "%u permits\n", t - v->started, v->npeers, v->nsessions,
	    v->npermits);
	for (i = 0; i < PFH_NROLES; i++)
		if (v->table[i] != -1)
			fprintf(fp, "table inet %s (%s)\n", v->fconf[i].table,
			    role_at(i)->name);
	TAILQ_FOREACH(c, &v->peers, entry)
		status_peer(fp, c, t);
	fprintf(fp, "counters: peers %llu, peers dropped %llu, "
	    "sessions %llu, permits %llu, refused %llu\n",
	    (unsigned long long)v->st.peers,
	    (unsigned long long)v->st.dropped,
	    (unsigned long long)v->st.sessions,
	    (unsigned long long)v->st.permits,
	    (unsigned long long)v->st.refused);
	for (i = 0; i < NREASONS && v->st.reason[i].why[0] != '\0'; i++)
		fprintf(fp, "refused %llu: %s\n",
		    (unsigned long long)v->st.reason[i].n, v->st.reason[i].why);
}
