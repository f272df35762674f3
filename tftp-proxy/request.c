/* SPDX-License-Identifier: ISC */
/*
 * request.c: one TFTP request, from the datagram to the permit.
 *
 * A valid read or write request to an intercepted destination becomes
 * a session at pfhelper with one permit for the reply path (the server
 * answers from a new port to the port we sent from; that is redirected
 * to the client's port and sourced from the server the client asked
 * for), and then goes out byte for byte from a fresh socket, so every
 * option passes untouched.  After transwait seconds the session ends
 * and pfhelper removes the permit; a transfer under way goes on in
 * conntrack.  Anything else is dropped with a log line.
 *
 * Each request holds a slot of -m for transwait seconds, the time its
 * server may still be answering (a session replaced by a new request
 * from the same port keeps the old one's transfer going): one host may
 * take more than its share while slots are free, none once the last
 * quarter is in use (hostlimit.h).  A flood from one host is then
 * dropped here, cheaply, before it costs pfhelper or the server work.
 *
 * Nothing waits for pfhelper: the original destination of a redirected
 * request (CT_LOOKUP) and the session with its permit (SESSION_START,
 * one round trip) complete through callbacks while other requests go
 * on; the request waits in its session meanwhile.
 */
#include "compat.h"

#include <sys/socket.h>
#include <sys/tree.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/event_struct.h>

#include "addr.h"
#include "hostaddr.h"
#include "hostlimit.h"
#include "log.h"
#include "listen.h"
#include "pfh_client.h"
#include "tftp_parse.h"
#include "tftp_proxy.h"

#define READ_BURST	64	/* datagrams handled per wakeup */
#define PERMIT_SLACK	2	/* permit timeout past transwait, s */

/*
 * A forwarded request, found by client and server address and port:
 * one live request per client port.
 */
struct session {
	RB_ENTRY(session)	 entry;
	struct event		 timer;
	struct pfh_session	 s;
	struct pfh_calls	 calls;
	int			 started;	/* pfhelper has it */
	int			 fd;
	struct tp_dgram		 d;		/* the request */
	struct tftp_req		 req;
};

/* A redirected request waiting for its original destination. */
struct lookup {
	TAILQ_ENTRY(lookup)	 entry;
	struct pfh_calls	 calls;
	struct tp_dgram		 d;
};

/* A slot of -m: its host and when it is free again. */
struct slot {
	struct pfh_addr		 host;
	double			 expires;	/* monotonic seconds */
};

RB_HEAD(session_tree, session);
TAILQ_HEAD(lookup_list, lookup);

static struct session_tree	 sessions = RB_INITIALIZER(&sessions);
static struct lookup_list	 lookups = TAILQ_HEAD_INITIALIZER(lookups);
static unsigned int		 nsessions, nlookups;
static uint32_t			 last_sid;
static const struct tp_conf	*conf;
static struct pfh_client	*pfh;
static struct event_base	*evbase;
static struct hl_table		 hosts;		/* slots per host */
static struct slot		*slots;		/* a ring, oldest first */
static uint32_t			 slot_head, nslots;

static int		 session_cmp(struct session *, struct session *);
static void		 request_handle(const struct tp_dgram *);
static const char	*request_client(const struct tp_dgram *);
static const char	*request_dest(const struct pfh_addr *, uint16_t,
			    struct pfh_session *);
static double		 mono_now(void);
static void		 slots_expire(double);
static int		 host_admit(const struct tp_dgram *);
static void		 drop_flood(const struct tp_dgram *, const char *,
			    double);
static void		 lookup_start(const struct tp_dgram *);
static void		 lookup_done(const struct pfh_reply *, void *);
static void		 request_forward(const struct tp_dgram *,
			    const struct pfh_addr *, uint16_t);
static struct session	*session_new(const struct tp_dgram *,
			    const struct pfh_addr *, uint16_t);
static const char	*session_open(struct session *, int *);
static void		 session_started(const struct pfh_reply *, void *);
static void		 session_end(struct session *);
static void		 session_timeout(int, short, void *);
static void		 log_request(const struct session *);
static void		 drop(const struct tp_dgram *, const char *);
static void		 drop_err(const struct tp_dgram *, const char *, int);

RB_GENERATE_STATIC(session_tree, session, entry, session_cmp)

static int
session_cmp(struct session *a, struct session *b)
{
	int	rc;

	if (a->s.cport != b->s.cport)
		return (a->s.cport < b->s.cport ? -1 : 1);
	if (a->s.sport != b->s.sport)
		return (a->s.sport < b->s.sport ? -1 : 1);
	if ((rc = memcmp(&a->s.client, &b->s.client,
	    sizeof(a->s.client))) != 0)
		return (rc);
	return (memcmp(&a->s.server, &b->s.server, sizeof(a->s.server)));
}

void
request_init(const struct tp_conf *c, struct pfh_client *p,
    struct event_base *base)
{
	conf = c;
	pfh = p;
	evbase = base;
	hl_init(&hosts, c->max_sessions, 0);
	if ((slots = calloc(c->max_sessions, sizeof(*slots))) == NULL)
		fatal("request slots");
}

unsigned int
request_count(void)
{
	return (nsessions + nlookups);
}

static void
lookup_free(struct lookup *l)
{
	pfh_cancel(pfh, &l->calls);
	TAILQ_REMOVE(&lookups, l, entry);
	nlookups--;
	free(l);
}

/* At exit: closing pfhelper's channel then ends the sessions there. */
void
request_end_all(void)
{
	struct session	*sess;
	struct lookup	*l;

	while ((l = TAILQ_FIRST(&lookups)) != NULL)
		lookup_free(l);
	while ((sess = RB_MIN(session_tree, &sessions)) != NULL)
		session_end(sess);
}

/* Handle what is queued on a listening socket, a bounded burst. */
void
request_read(int fd)
{
	struct tp_dgram	d;
	int		i;

	for (i = 0; i < READ_BURST; i++) {
		memset(&d, 0, sizeof(d));
		if (sock_recv(fd, &d) == 0) {
			request_handle(&d);
			continue;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return;
		if (errno == ENOMSG)
			drop(&d, "no destination address");
		else if (errno == EAFNOSUPPORT)
			log_warnx("datagram from an unknown address family");
		else {
			log_warn("recvmsg");
			return;
		}
	}
}

static void
request_handle(const struct tp_dgram *d)
{
	struct tftp_req	 req;
	const char	*why;
	char		 buf[ADDR_STRLEN];

	if (tftp_parse_request(d->buf, d->len, &req) == -1) {
		drop(d, tftp_strerror(req.err));
		return;
	}
	if ((why = request_client(d)) != NULL) {
		drop(d, why);
		return;
	}
	if (host_admit(d) == -1)
		return;
	if (d->to.af != d->from.af) {
		drop(d, "address families differ");
		return;
	}
	if (!addr_is_unicast_host(&d->to)) {
		drop(d, "sent to a broadcast or multicast address");
		return;
	}
	/*
	 * Sent anywhere but to us: TPROXY delivered it with its destination
	 * intact.  Sent to one of our own addresses: a `redirect' (conntrack
	 * knows the original destination; pfhelper asks it), or not
	 * intercepted at all, which is refused: we are no open relay.
	 */
	switch (hostaddr_type(conf->hosts, &d->to)) {
	case NET_BROADCAST:
		drop(d, "sent to a broadcast address");
		return;
	case NET_REMOTE:	/* (reverse mode: the -R server still) */
		log_debug("original destination %s (TPROXY)",
		    addr_port_str(&d->to, d->tport, buf, sizeof(buf)));
		request_forward(d, &d->to, d->tport);
		return;
	}
	lookup_start(d);
}

/* The client's own checks (the rest come with the destination). */
static const char *
request_client(const struct tp_dgram *d)
{
	if (conf->family != AF_UNSPEC && d->from.af != conf->family)
		return ("address family not served (-4/-6)");
	if (!addr_is_unicast_host(&d->from))
		return ("client is not a unicast host");
	if (!proto_data_port_ok(d->fport))
		return ("client port below " PFH_DATA_PORT_MIN_S);
	return (NULL);
}

static double
mono_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec + ts.tv_nsec / 1e9);
}

/* Free the slots whose time is up (all last transwait: oldest first). */
static void
slots_expire(double t)
{
	struct slot	*sl;

	while (nslots > 0 && (sl = &slots[slot_head])->expires <= t) {
		hl_del(&hosts, &sl->host);
		slot_head = (slot_head + 1) % conf->max_sessions;
		nslots--;
	}
}

/*
 * A slot for the request d, or -1 and d is dropped: -m are taken, or
 * its host holds its share and the last quarter is in use.
 */
static int
host_admit(const struct tp_dgram *d)
{
	struct slot	*sl;
	double		 t = mono_now();
	int		 v;

	slots_expire(t);
	if (nslots >= conf->max_sessions) {
		drop_flood(d, "all -m slots taken", t);
		return (-1);
	}
	if ((v = hl_add(&hosts, &d->from)) != HL_OK) {
		if (v == -1)
			drop_err(d, "per-host count", errno);
		else
			drop_flood(d, "its host holds its share of -m", t);
		return (-1);
	}
	sl = &slots[(slot_head + nslots) % conf->max_sessions];
	sl->host = d->from;
	sl->expires = t + conf->transwait;
	nslots++;
	return (0);
}

static void
lookup_start(const struct tp_dgram *d)
{
	struct pfh_ctlookup	 m;
	struct lookup		*l;

	if ((l = calloc(1, sizeof(*l))) == NULL) {
		drop(d, "out of memory");
		return;
	}
	TAILQ_INIT(&l->calls);
	l->d = *d;
	memset(&m, 0, sizeof(m));
	m.proto = IPPROTO_UDP;
	m.cport = d->fport;
	m.lport = d->tport;
	m.client = d->from;
	m.local = d->to;
	if (pfh_ct_lookup(pfh, &l->calls, &m, lookup_done, l) == -1) {
		drop_err(d, "cannot ask pfhelper", errno);
		free(l);
		return;
	}
	TAILQ_INSERT_TAIL(&lookups, l, entry);
	nlookups++;
}

static void
lookup_done(const struct pfh_reply *r, void *arg)
{
	struct lookup	*l = arg;
	char		 buf[ADDR_STRLEN];

	if (r->error != 0)
		drop(&l->d, "not intercepted (no conntrack entry)");
	else if (r->addr.af != l->d.to.af)
		drop(&l->d, "conntrack answer of another family");
	else if (!conf->reverse && addr_eq(&r->addr, &l->d.to) &&
	    r->port == l->d.tport)
		drop(&l->d, "not intercepted (sent to the proxy itself)");
	else {
		log_debug("original destination %s (conntrack)",
		    addr_port_str(&r->addr, r->port, buf, sizeof(buf)));
		request_forward(&l->d, &r->addr, r->port);
	}
	lookup_free(l);
}

/*
 * Reverse mode (-R): the client dialled this host (straight to our
 * socket, or redirected to it) and the server is -R's of its family.
 * The reply then reaches the client from the address it dialled.
 */
static const char *
request_reverse(struct pfh_session *s)
{
	const struct pfh_addr	*r = s->client.af == AF_INET6 ?
				    &conf->rserver6 : &conf->rserver4;

	if (hostaddr_type(conf->hosts, &s->dialled) == NET_BROADCAST)
		return ("destination is a broadcast address");
	if (r->af == 0)
		return ("no -R server of the client's address family");
	s->server = *r;
	s->sport = TFTP_PORT;
	return (NULL);
}

/*
 * The session's server: the original destination, after the checks
 * pfhelper makes too (reverse mode: -R's server).  NULL, or why the
 * request is refused.
 */
static const char *
request_dest(const struct pfh_addr *o, uint16_t oport, struct pfh_session *s)
{
	s->dialled = *o;
	s->dport = oport;
	if (s->dialled.af != s->client.af)
		return ("address families differ");
	if (!addr_is_unicast_host(&s->dialled))
		return ("destination is not a unicast host");
	if (s->dport == 0)
		return ("destination port 0");
	if (addr_eq(&s->dialled, &s->client))
		return ("destination is the client");
	if (conf->reverse)
		return (request_reverse(s));
	switch (hostaddr_type(conf->hosts, &s->dialled)) {
	case NET_LOCAL:
		return ("destination is this host");
	case NET_BROADCAST:
		return ("destination is a broadcast address");
	}
	s->server = s->dialled;
	s->sport = s->dport;
	return (NULL);
}

/* A session for the request d to o:oport, or NULL (d is dropped). */
static struct session *
session_new(const struct tp_dgram *d, const struct pfh_addr *o,
    uint16_t oport)
{
	struct session	*sess;
	const char	*why;

	if ((sess = calloc(1, sizeof(*sess))) == NULL) {
		drop(d, "out of memory");
		return (NULL);
	}
	TAILQ_INIT(&sess->calls);
	evtimer_assign(&sess->timer, evbase, session_timeout, sess);
	sess->d = *d;
	/* The request as parsed, pointing into our copy. */
	(void)tftp_parse_request(sess->d.buf, sess->d.len, &sess->req);
	sess->s.client = d->from;
	sess->s.cport = d->fport;
	sess->s.local = d->to;		/* where the request arrived */
	sess->s.lport = d->tport;
	sess->fd = -1;
	if ((why = request_dest(o, oport, &sess->s)) != NULL) {
		drop(d, why);
		free(sess);
		return (NULL);
	}
	return (sess);
}

/*
 * The session's socket to its server (from -a's address of its family)
 * and its id.  NULL, or why not (and no socket; *err an errno, or 0).
 */
static const char *
session_open(struct session *sess, int *err)
{
	const struct sockaddr_storage	*src = &conf->src4;
	socklen_t			 srclen = conf->src4len;
	const char			*why;

	if (sess->s.client.af == AF_INET6) {
		src = &conf->src6;
		srclen = conf->src6len;
	}
	*err = 0;
	sess->fd = sock_connect(&sess->s.server, sess->s.sport, src, srclen,
	    &sess->s.proxy, &sess->s.pport);
	if (sess->fd == -1 && errno == EACCES)
		return ("destination is a broadcast address");
	if (sess->fd == -1) {
		*err = errno;
		return ("no socket to the server");
	}
	if (++last_sid == 0)
		last_sid = 1;
	sess->s.sid = last_sid;
	sess->s.proto = IPPROTO_UDP;
	sess->s.timeout = conf->transwait + PERMIT_SLACK;
	if ((why = proto_session_check(&sess->s)) == NULL &&
	    !proto_data_port_ok(sess->s.pport))
		why = "no usable source address and port (-a)";
	if (why != NULL) {
		close(sess->fd);
		sess->fd = -1;
	}
	return (why);
}

/*
 * A request with its destination: a session, started at pfhelper with
 * its permit; the request goes out once that is done.
 */
static void
request_forward(const struct tp_dgram *d, const struct pfh_addr *o,
    uint16_t oport)
{
	struct session	*sess, *old;
	const char	*why;
	int		 err;

	if ((sess = session_new(d, o, oport)) == NULL)
		return;
	/*
	 * Again from the same client port: a retransmission, or a new
	 * transfer.  We cannot tell whether the first answer got through
	 * (the kernel used the permit), so, as a server reached directly
	 * would, treat it as a new request: the old permit goes (a transfer
	 * under way keeps its conntrack entry) and a new one comes from a
	 * new proxy port.
	 */
	if ((old = RB_FIND(session_tree, &sessions, sess)) != NULL) {
		if (conf->verbose)
			log_info("session %u: new request from the same port",
			    old->s.sid);
		session_end(old);
	}
	if ((why = session_open(sess, &err)) != NULL) {
		drop_err(d, why, err);
		free(sess);
		return;
	}
	if (pfh_session_start(pfh, &sess->calls, &sess->s, session_started,
	    sess) == -1) {
		drop_err(d, "cannot ask pfhelper", errno);
		close(sess->fd);
		free(sess);
		return;
	}
	RB_INSERT(session_tree, &sessions, sess);
	nsessions++;
}

/* pfhelper's answer: the request goes out, or the session ends. */
static void
session_started(const struct pfh_reply *r, void *arg)
{
	struct session	*sess = arg;
	struct timeval	 tv;

	if (r->error != 0) {
		drop(&sess->d, r->reason);
		session_end(sess);
		return;
	}
	sess->started = 1;
	if (send(sess->fd, sess->d.buf, sess->d.len, 0) == -1) {
		log_warn("session %u: send", sess->s.sid);
		session_end(sess);
		return;
	}
	log_request(sess);
	tv.tv_sec = conf->transwait;
	tv.tv_usec = 0;
	evtimer_add(&sess->timer, &tv);
}

/*
 * End a session: pfhelper removes its permit (a start still pending is
 * ended there once it succeeds).
 */
static void
session_end(struct session *sess)
{
	evtimer_del(&sess->timer);
	pfh_cancel(pfh, &sess->calls);
	if (sess->started && pfh_session_end(pfh, sess->s.sid) == -1)
		log_warn("session %u: pfhelper", sess->s.sid);
	log_debug("session %u: ended", sess->s.sid);
	close(sess->fd);
	RB_REMOVE(session_tree, &sessions, sess);
	nsessions--;
	free(sess);
}

static void
session_timeout(int fd, short ev, void *arg)
{
	session_end(arg);
}

static void
log_request(const struct session *sess)
{
	const struct tftp_req	*req = &sess->req;
	char	c[ADDR_STRLEN], s[ADDR_STRLEN], p[ADDR_STRLEN];
	char	file[LOG_ESCAPE_MAX];

	if (!conf->verbose)
		return;
	log_info("%s -> %s via %s: %s \"%s\" %s, %u option%s (session %u)",
	    addr_port_str(&sess->s.client, sess->s.cport, c, sizeof(c)),
	    addr_port_str(&sess->s.server, sess->s.sport, s, sizeof(s)),
	    addr_port_str(&sess->s.proxy, sess->s.pport, p, sizeof(p)),
	    req->opcode == TFTP_RRQ ? "RRQ" : "WRQ",
	    log_escape(req->file, req->filelen, file, sizeof(file)),
	    req->mode, req->nopts, req->nopts == 1 ? "" : "s",
	    sess->s.sid);
}

/*
 * Refused for want of a slot: logged as any drop, but at most once a
 * second, with the number since (a flood must not become one of log
 * lines).
 */
static void
drop_flood(const struct tp_dgram *d, const char *why, double t)
{
	static double	last = -1;
	static uint64_t	n;
	char		c[ADDR_STRLEN];

	if (last >= 0 && t - last < 1) {
		n++;
		return;
	}
	if (n > 0)
		log_warnx("dropped %llu more requests without a slot of -m "
		    "in %.1f s, the last from %s", (unsigned long long)n,
		    t - last, addr_str(&d->from, c, sizeof(c)));
	drop(d, why);
	last = t;
	n = 0;
}

static void
drop(const struct tp_dgram *d, const char *why)
{
	drop_err(d, why, 0);
}

/* The same, with the errno err (0: none) after the why. */
static void
drop_err(const struct tp_dgram *d, const char *why, int err)
{
	char	c[ADDR_STRLEN], t[ADDR_STRLEN];

	log_warnx("dropped request from %s to %s: %s%s%s",
	    addr_port_str(&d->from, d->fport, c, sizeof(c)),
	    addr_port_str(&d->to, d->tport, t, sizeof(t)), why,
	    err ? ": " : "", err ? strerror(err) : "");
}

