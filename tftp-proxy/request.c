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
 * on; the request waits in its session meanwhile.  If pfhelper goes
 * away (a worker under tftp-proxy's parent keeps its calls, pfh_keep)
 * the request waits for the next one; if none comes in time, its
 * client gets a TFTP ERROR (request_abandon).
 *
 * A process's requests live in one struct tp_requests, which reaches
 * sockets through struct tp_net and the time through a clock_fn, so
 * that regress/tftp-proxy/request_test.c runs it on fakes.
 */
#include "compat.h"

#include <sys/socket.h>
#include <sys/tree.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/event_struct.h>

#include "addr.h"
#include "clock.h"
#include "hostaddr.h"
#include "hostlimit.h"
#include "log.h"
#include "listen.h"
#include "pfh_client.h"
#include "tftp_parse.h"
#include "tftp_proxy.h"

#define READ_BURST	64	/* datagrams handled per wakeup */
#define PERMIT_SLACK	2	/* permit timeout past transwait, s */
#define TFTP_ERR_MAX	64	/* an ERROR we send */
#define ERR_NO_PFH	"proxy lost its packet filter helper"

/*
 * A forwarded request, found by client and server address and port:
 * one live request per client port.
 */
struct tftp_xfer {
	RB_ENTRY(tftp_xfer)	 entry;
	struct event		 timer;
	struct pfh_session	 s;
	struct pfh_calls	 calls;
	struct tp_requests	*rq;
	int			 started;	/* pfhelper has it */
	int			 fd;
	struct tp_dgram		 d;		/* the request */
	struct tftp_req		 req;
};

/* A redirected request waiting for its original destination. */
struct lookup {
	TAILQ_ENTRY(lookup)	 entry;
	struct tp_requests	*rq;
	struct pfh_calls	 calls;
	struct tp_dgram		 d;
};

/* A slot of -m: its host and when it is free again. */
struct slot {
	struct pfh_addr		 host;
	double			 expires;	/* monotonic seconds */
};

RB_HEAD(xfer_tree, tftp_xfer);
TAILQ_HEAD(lookup_list, lookup);

/* The requests of one process, and what they reach the world through. */
struct tp_requests {
	const struct tp_conf	*conf;
	struct pfh_client	*pfh;
	struct event_base	*evbase;
	struct tp_net		 net;
	clock_fn		 clock;
	struct xfer_tree	 xfers;
	struct lookup_list	 lookups;
	unsigned int		 nxfers, nlookups;
	uint32_t		 last_sid;
	struct hl_table		 hosts;		/* slots per host */
	struct slot		*slots;		/* a ring, oldest first */
	uint32_t		 slot_head, nslots;
	double			 flood_last;	/* drop_flood() */
	uint64_t		 flood_n;
};

static int		 xfer_cmp(struct tftp_xfer *, struct tftp_xfer *);
static const char	*request_client(struct tp_requests *,
			    const struct tp_dgram *);
static const char	*request_dest(struct tp_requests *,
			    const struct pfh_addr *, uint16_t,
			    struct pfh_session *);
static void		 slots_expire(struct tp_requests *, double);
static int		 host_admit(struct tp_requests *,
			    const struct tp_dgram *);
static void		 drop_flood(struct tp_requests *,
			    const struct tp_dgram *, const char *, double);
static void		 lookup_start(struct tp_requests *,
			    const struct tp_dgram *);
static void		 lookup_done(const struct pfh_reply *, void *);
static void		 request_forward(struct tp_requests *,
			    const struct tp_dgram *, const struct pfh_addr *,
			    uint16_t);
static struct tftp_xfer	*xfer_new(struct tp_requests *,
			    const struct tp_dgram *, const struct pfh_addr *,
			    uint16_t);
static const char	*xfer_open(struct tftp_xfer *, int *);
static void		 xfer_started(const struct pfh_reply *, void *);
static void		 xfer_end(struct tftp_xfer *);
static void		 xfer_timeout(int, short, void *);
static void		 log_request(const struct tftp_xfer *);
static void		 drop(const struct tp_dgram *, const char *);
static void		 drop_err(const struct tp_dgram *, const char *, int);

RB_GENERATE_STATIC(xfer_tree, tftp_xfer, entry, xfer_cmp)

static int
xfer_cmp(struct tftp_xfer *a, struct tftp_xfer *b)
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

/* sock.c's, for the daemon. */
const struct tp_net tp_net_sock = { sock_connect, sock_reply };

struct tp_requests *
request_new(const struct tp_conf *c, struct pfh_client *p,
    struct event_base *base, const struct tp_net *net, clock_fn clock)
{
	struct tp_requests	*rq;

	if ((rq = calloc(1, sizeof(*rq))) == NULL ||
	    (rq->slots = calloc(c->max_sessions, sizeof(*rq->slots))) == NULL)
		fatal("request slots");
	rq->conf = c;
	rq->pfh = p;
	rq->evbase = base;
	rq->net = *net;
	rq->clock = clock;
	RB_INIT(&rq->xfers);
	TAILQ_INIT(&rq->lookups);
	hl_init(&rq->hosts, c->max_sessions, 0);
	rq->flood_last = -1;
	return (rq);
}

unsigned int
request_count(const struct tp_requests *rq)
{
	return (rq->nxfers + rq->nlookups);
}

static void
lookup_free(struct tp_requests *rq, struct lookup *l)
{
	pfh_cancel(rq->pfh, &l->calls);
	TAILQ_REMOVE(&rq->lookups, l, entry);
	rq->nlookups--;
	free(l);
}

/* At exit: closing pfhelper's channel then ends the sessions there. */
void
request_end_all(struct tp_requests *rq)
{
	struct tftp_xfer	*x;
	struct lookup		*l;

	while ((l = TAILQ_FIRST(&rq->lookups)) != NULL)
		lookup_free(rq, l);
	while ((x = RB_MIN(xfer_tree, &rq->xfers)) != NULL)
		xfer_end(x);
}

void
request_free(struct tp_requests *rq)
{
	request_end_all(rq);
	hl_clear(&rq->hosts);
	free(rq->slots);
	free(rq);
}

/* Handle what is queued on a listening socket, a bounded burst. */
void
request_read(struct tp_requests *rq, int fd)
{
	struct tp_dgram	d;
	int		i;

	for (i = 0; i < READ_BURST; i++) {
		memset(&d, 0, sizeof(d));
		if (sock_recv(fd, &d) == 0) {
			request_handle(rq, &d);
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

void
request_handle(struct tp_requests *rq, const struct tp_dgram *d)
{
	struct tftp_req	 req;
	const char	*why;
	char		 buf[ADDR_STRLEN];

	if (tftp_parse_request(d->buf, d->len, &req) == -1) {
		drop(d, tftp_strerror(req.err));
		return;
	}
	if ((why = request_client(rq, d)) != NULL) {
		drop(d, why);
		return;
	}
	if (host_admit(rq, d) == -1)
		return;
	if (rq->pfh->down)
		log_info("request from %s waits for pfhelper",
		    addr_port_str(&d->from, d->fport, buf, sizeof(buf)));
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
	switch (hostaddr_type(rq->conf->hosts, &d->to)) {
	case NET_BROADCAST:
		drop(d, "sent to a broadcast address");
		return;
	case NET_REMOTE:	/* (reverse mode: the -R server still) */
		log_debug("original destination %s (TPROXY)",
		    addr_port_str(&d->to, d->tport, buf, sizeof(buf)));
		request_forward(rq, d, &d->to, d->tport);
		return;
	}
	lookup_start(rq, d);
}

/* The client's own checks (the rest come with the destination). */
static const char *
request_client(struct tp_requests *rq, const struct tp_dgram *d)
{
	if (rq->conf->family != AF_UNSPEC && d->from.af != rq->conf->family)
		return ("address family not served (-4/-6)");
	if (!addr_is_unicast_host(&d->from))
		return ("client is not a unicast host");
	if (!proto_data_port_ok(d->fport))
		return ("client port below " PFH_DATA_PORT_MIN_S);
	return (NULL);
}

/* Free the slots whose time is up (all last transwait: oldest first). */
static void
slots_expire(struct tp_requests *rq, double t)
{
	struct slot	*sl;

	while (rq->nslots > 0 &&
	    (sl = &rq->slots[rq->slot_head])->expires <= t) {
		hl_del(&rq->hosts, &sl->host);
		rq->slot_head = (rq->slot_head + 1) % rq->conf->max_sessions;
		rq->nslots--;
	}
}

/*
 * A slot for the request d, or -1 and d is dropped: -m are taken, or
 * its host holds its share and the last quarter is in use.
 */
static int
host_admit(struct tp_requests *rq, const struct tp_dgram *d)
{
	struct slot	*sl;
	double		 t = rq->clock();
	uint32_t	 max = rq->conf->max_sessions;
	int		 v;

	slots_expire(rq, t);
	if (rq->nslots >= max) {
		drop_flood(rq, d, "all -m slots taken", t);
		return (-1);
	}
	if ((v = hl_add(&rq->hosts, &d->from)) != HL_OK) {
		if (v == -1)
			drop_err(d, "per-host count", errno);
		else
			drop_flood(rq, d, "its host holds its share of -m", t);
		return (-1);
	}
	sl = &rq->slots[(rq->slot_head + rq->nslots) % max];
	sl->host = d->from;
	sl->expires = t + rq->conf->transwait;
	rq->nslots++;
	return (0);
}

static void
lookup_start(struct tp_requests *rq, const struct tp_dgram *d)
{
	struct pfh_ctlookup	 m;
	struct lookup		*l;

	if ((l = calloc(1, sizeof(*l))) == NULL) {
		drop(d, "out of memory");
		return;
	}
	TAILQ_INIT(&l->calls);
	l->rq = rq;
	l->d = *d;
	memset(&m, 0, sizeof(m));
	m.proto = IPPROTO_UDP;
	m.cport = d->fport;
	m.lport = d->tport;
	m.client = d->from;
	m.local = d->to;
	if (pfh_ct_lookup(rq->pfh, &l->calls, &m, lookup_done, l) == -1) {
		drop_err(d, "cannot ask pfhelper", errno);
		free(l);
		return;
	}
	TAILQ_INSERT_TAIL(&rq->lookups, l, entry);
	rq->nlookups++;
}

static void
lookup_done(const struct pfh_reply *r, void *arg)
{
	struct lookup		*l = arg;
	struct tp_requests	*rq = l->rq;
	char			 buf[ADDR_STRLEN];

	if (r->error != 0)
		drop(&l->d, "not intercepted (no conntrack entry)");
	else if (r->addr.af != l->d.to.af)
		drop(&l->d, "conntrack answer of another family");
	else if (!rq->conf->reverse && addr_eq(&r->addr, &l->d.to) &&
	    r->port == l->d.tport)
		drop(&l->d, "not intercepted (sent to the proxy itself)");
	else {
		log_debug("original destination %s (conntrack)",
		    addr_port_str(&r->addr, r->port, buf, sizeof(buf)));
		request_forward(rq, &l->d, &r->addr, r->port);
	}
	lookup_free(rq, l);
}

/*
 * Reverse mode (-R): the client dialled this host (straight to our
 * socket, or redirected to it) and the server is -R's of its family.
 * The reply then reaches the client from the address it dialled.
 */
static const char *
request_reverse(struct tp_requests *rq, struct pfh_session *s)
{
	const struct pfh_addr	*r = s->client.af == AF_INET6 ?
				    &rq->conf->rserver6 : &rq->conf->rserver4;

	if (hostaddr_type(rq->conf->hosts, &s->dialled) == NET_BROADCAST)
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
request_dest(struct tp_requests *rq, const struct pfh_addr *o,
    uint16_t oport, struct pfh_session *s)
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
	if (rq->conf->reverse)
		return (request_reverse(rq, s));
	switch (hostaddr_type(rq->conf->hosts, &s->dialled)) {
	case NET_LOCAL:
		return ("destination is this host");
	case NET_BROADCAST:
		return ("destination is a broadcast address");
	}
	s->server = s->dialled;
	s->sport = s->dport;
	return (NULL);
}

/* A transfer for the request d to o:oport, or NULL (d is dropped). */
static struct tftp_xfer *
xfer_new(struct tp_requests *rq, const struct tp_dgram *d,
    const struct pfh_addr *o, uint16_t oport)
{
	struct tftp_xfer	*x;
	const char		*why;

	if ((x = calloc(1, sizeof(*x))) == NULL) {
		drop(d, "out of memory");
		return (NULL);
	}
	TAILQ_INIT(&x->calls);
	x->rq = rq;
	evtimer_assign(&x->timer, rq->evbase, xfer_timeout, x);
	x->d = *d;
	/* The request as parsed, pointing into our copy. */
	(void)tftp_parse_request(x->d.buf, x->d.len, &x->req);
	x->s.client = d->from;
	x->s.cport = d->fport;
	x->s.local = d->to;		/* where the request arrived */
	x->s.lport = d->tport;
	x->fd = -1;
	if ((why = request_dest(rq, o, oport, &x->s)) != NULL) {
		drop(d, why);
		free(x);
		return (NULL);
	}
	return (x);
}

/*
 * The transfer's socket to its server (from -a's address of its
 * family) and its session id.  NULL, or why not (and no socket; *err
 * an errno, or 0).
 */
static const char *
xfer_open(struct tftp_xfer *x, int *err)
{
	struct tp_requests		*rq = x->rq;
	const struct sockaddr_storage	*src = &rq->conf->src4;
	socklen_t			 srclen = rq->conf->src4len;
	const char			*why;

	if (x->s.client.af == AF_INET6) {
		src = &rq->conf->src6;
		srclen = rq->conf->src6len;
	}
	*err = 0;
	x->fd = rq->net.connect(&x->s.server, x->s.sport, src, srclen,
	    &x->s.proxy, &x->s.pport);
	if (x->fd == -1 && errno == EACCES)
		return ("destination is a broadcast address");
	if (x->fd == -1) {
		*err = errno;
		return ("no socket to the server");
	}
	if (++rq->last_sid == 0)
		rq->last_sid = 1;
	x->s.sid = rq->last_sid;
	x->s.proto = IPPROTO_UDP;
	x->s.timeout = rq->conf->transwait + PERMIT_SLACK;
	if ((why = proto_session_check(&x->s)) == NULL &&
	    !proto_data_port_ok(x->s.pport))
		why = "no usable source address and port (-a)";
	if (why != NULL) {
		close(x->fd);
		x->fd = -1;
	}
	return (why);
}

/*
 * A request with its destination: a session, started at pfhelper with
 * its permit; the request goes out once that is done.
 */
static void
request_forward(struct tp_requests *rq, const struct tp_dgram *d,
    const struct pfh_addr *o, uint16_t oport)
{
	struct tftp_xfer	*x, *old;
	const char		*why;
	int			 err;

	if ((x = xfer_new(rq, d, o, oport)) == NULL)
		return;
	/*
	 * Again from the same client port: a retransmission, or a new
	 * transfer.  We cannot tell whether the first answer got through
	 * (the kernel used the permit), so, as a server reached directly
	 * would, treat it as a new request: the old permit goes (a transfer
	 * under way keeps its conntrack entry) and a new one comes from a
	 * new proxy port.
	 */
	if ((old = RB_FIND(xfer_tree, &rq->xfers, x)) != NULL) {
		if (rq->conf->verbose)
			log_info("session %u: new request from the same port",
			    old->s.sid);
		xfer_end(old);
	}
	if ((why = xfer_open(x, &err)) != NULL) {
		drop_err(d, why, err);
		free(x);
		return;
	}
	if (pfh_session_start(rq->pfh, &x->calls, &x->s, xfer_started,
	    x) == -1) {
		drop_err(d, "cannot ask pfhelper", errno);
		close(x->fd);
		free(x);
		return;
	}
	RB_INSERT(xfer_tree, &rq->xfers, x);
	rq->nxfers++;
}

/* pfhelper's answer: the request goes out, or the transfer ends. */
static void
xfer_started(const struct pfh_reply *r, void *arg)
{
	struct tftp_xfer	*x = arg;
	struct timeval		 tv;

	if (r->error != 0) {
		drop(&x->d, r->reason);
		xfer_end(x);
		return;
	}
	x->started = 1;
	if (send(x->fd, x->d.buf, x->d.len, 0) == -1) {
		log_warn("session %u: send", x->s.sid);
		xfer_end(x);
		return;
	}
	log_request(x);
	tv.tv_sec = x->rq->conf->transwait;
	tv.tv_usec = 0;
	evtimer_add(&x->timer, &tv);
}

/*
 * End a transfer's session: pfhelper removes its permit (a start still
 * pending is ended there once it succeeds).
 */
static void
xfer_end(struct tftp_xfer *x)
{
	struct tp_requests	*rq = x->rq;

	evtimer_del(&x->timer);
	pfh_cancel(rq->pfh, &x->calls);
	if (x->started && pfh_session_end(rq->pfh, x->s.sid) == -1)
		log_warn("session %u: pfhelper", x->s.sid);
	log_debug("session %u: ended", x->s.sid);
	close(x->fd);
	RB_REMOVE(xfer_tree, &rq->xfers, x);
	rq->nxfers--;
	free(x);
}

void
request_refused(struct tp_requests *rq, uint32_t sid, const char *why)
{
	struct tftp_xfer	*x;

	RB_FOREACH(x, xfer_tree, &rq->xfers)
		if (x->s.sid == sid)
			break;
	if (x == NULL)
		return;
	log_warnx("session %u: the new pfhelper refused it: %s", sid,
	    why[0] != '\0' ? why : "no reason");
	x->started = 0;		/* nothing of it at pfhelper */
	xfer_end(x);
}

/* The client of d hears that its request cannot be served. */
static void
abandon(struct tp_requests *rq, const struct tp_dgram *d, const char *why)
{
	uint8_t	buf[TFTP_ERR_MAX];
	size_t	n;

	n = tftp_error(buf, sizeof(buf), 0, ERR_NO_PFH);
	if (rq->net.reply(d, buf, n) == -1)
		drop_err(d, "no ERROR sent to the client", errno);
	drop(d, why);
}

void
request_abandon(struct tp_requests *rq, const char *why)
{
	struct tftp_xfer	*x, *next;
	struct lookup		*l;
	char			 msg[128];

	snprintf(msg, sizeof(msg), "pfhelper went away (%s)", why);
	while ((l = TAILQ_FIRST(&rq->lookups)) != NULL) {
		abandon(rq, &l->d, msg);
		lookup_free(rq, l);
	}
	RB_FOREACH_SAFE(x, xfer_tree, &rq->xfers, next) {
		if (x->started)
			continue;
		abandon(rq, &x->d, msg);
		xfer_end(x);
	}
}

static void
xfer_timeout(int fd, short ev, void *arg)
{
	xfer_end(arg);
}

static void
log_request(const struct tftp_xfer *x)
{
	const struct tftp_req	*req = &x->req;
	char	c[ADDR_STRLEN], s[ADDR_STRLEN], p[ADDR_STRLEN];
	char	file[LOG_ESCAPE_MAX];

	if (!x->rq->conf->verbose)
		return;
	log_info("%s -> %s via %s: %s \"%s\" %s, %u option%s (session %u)",
	    addr_port_str(&x->s.client, x->s.cport, c, sizeof(c)),
	    addr_port_str(&x->s.server, x->s.sport, s, sizeof(s)),
	    addr_port_str(&x->s.proxy, x->s.pport, p, sizeof(p)),
	    req->opcode == TFTP_RRQ ? "RRQ" : "WRQ",
	    log_escape(req->file, req->filelen, file, sizeof(file)),
	    req->mode, req->nopts, req->nopts == 1 ? "" : "s",
	    x->s.sid);
}

/*
 * Refused for want of a slot: logged as any drop, but at most once a
 * second, with the number since (a flood must not become one of log
 * lines).
 */
static void
drop_flood(struct tp_requests *rq, const struct tp_dgram *d,
    const char *why, double t)
{
	char	c[ADDR_STRLEN];

	if (rq->flood_last >= 0 && t - rq->flood_last < 1) {
		rq->flood_n++;
		return;
	}
	if (rq->flood_n > 0)
		log_warnx("dropped %llu more requests without a slot of -m "
		    "in %.1f s, the last from %s",
		    (unsigned long long)rq->flood_n, t - rq->flood_last,
		    addr_str(&d->from, c, sizeof(c)));
	drop(d, why);
	rq->flood_last = t;
	rq->flood_n = 0;
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
