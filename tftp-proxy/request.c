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
 */
#include "compat.h"

#include <sys/socket.h>
#include <sys/tree.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event.h>

#include "addr.h"
#include "log.h"
#include "pfh_client.h"
#include "tftp_parse.h"
#include "tftp_proxy.h"

#define READ_BURST	64	/* datagrams handled per wakeup */
#define PERMIT_ID	1	/* the one permit of a session */
#define PERMIT_SLACK	2	/* permit timeout past transwait, s */
#define PORT_MIN	1024	/* pfhelper's lowest data port */

/*
 * A forwarded request, found by client and server address and port:
 * one live request per client port.
 */
struct session {
	RB_ENTRY(session)	 entry;
	struct event		 timer;
	struct pfh_session	 s;
	int			 fd;
	size_t			 reqlen;
	uint8_t			 req[TFTP_REQ_MAX];
};

RB_HEAD(session_tree, session);

static struct session_tree	 sessions = RB_INITIALIZER(&sessions);
static unsigned int		 nsessions;
static uint32_t			 last_sid;
static const struct tp_conf	*conf;
static struct pfh_client	*pfh;

static int		 session_cmp(struct session *, struct session *);
static void		 request_handle(const struct tp_dgram *);
static const char	*request_dest(const struct tp_dgram *,
			    struct pfh_session *);
static const char	*orig_dst(const struct tp_dgram *, struct pfh_addr *,
			    uint16_t *);
static void		 request_forward(const struct tp_dgram *,
			    const struct tftp_req *, const struct pfh_session *);
static int		 session_begin(struct session *,
			    const struct tp_dgram *);
static void		 session_end(struct session *);
static void		 session_timeout(int, short, void *);
static void		 log_request(const struct session *,
			    const struct tftp_req *);
static void		 drop(const struct tp_dgram *, const char *);
static int		 pfh_call(uint32_t, const void *, size_t,
			    struct pfh_reply *);

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
request_init(const struct tp_conf *c, struct pfh_client *p)
{
	conf = c;
	pfh = p;
}

unsigned int
request_count(void)
{
	return (nsessions);
}

void
request_end_all(void)
{
	struct session	*sess;

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
	struct tftp_req		 req;
	struct session		 key, *sess;
	const char		*why;

	if (tftp_parse_request(d->buf, d->len, &req) == -1) {
		drop(d, tftp_strerror(req.err));
		return;
	}
	if ((why = request_dest(d, &key.s)) != NULL) {
		drop(d, why);
		return;
	}
	/*
	 * Again from the same client port: a retransmission, or a new
	 * transfer.  We cannot tell whether the first answer got through
	 * (the kernel used the permit), so, as a server reached directly
	 * would, treat it as a new request: the old permit goes (a transfer
	 * under way keeps its conntrack entry) and a new one comes from a
	 * new proxy port.
	 */
	if ((sess = RB_FIND(session_tree, &sessions, &key)) != NULL) {
		if (conf->verbose)
			log_info("session %u: new request from the same port",
			    sess->s.sid);
		session_end(sess);
	}
	request_forward(d, &req, &key.s);
}

/*
 * The session's client and server (the original destination), after
 * every check pfhelper would make (a message it refuses as malformed
 * ends our connection to it).  NULL, or why the request is refused.
 */
static const char *
request_dest(const struct tp_dgram *d, struct pfh_session *s)
{
	const char	*why;

	memset(s, 0, sizeof(*s));
	if (conf->family != AF_UNSPEC && d->from.af != conf->family)
		return ("address family not served (-4/-6)");
	if (!addr_is_unicast_host(&d->from))
		return ("client is not a unicast host");
	if (d->fport < PORT_MIN)
		return ("client port below 1024");
	s->client = d->from;
	s->cport = d->fport;
	if ((why = orig_dst(d, &s->dialled, &s->dport)) != NULL)
		return (why);
	if (s->dialled.af != s->client.af)
		return ("address families differ");
	if (!addr_is_unicast_host(&s->dialled))
		return ("destination is not a unicast host");
	if (s->dport == 0)
		return ("destination port 0");
	if (addr_eq(&s->dialled, &s->client))
		return ("destination is the client");
	switch (sock_addr_type(&s->dialled)) {
	case ADDR_LOCAL:
		return ("destination is this host");
	case ADDR_BROADCAST:
		return ("destination is a broadcast address");
	}
	s->server = s->dialled;
	s->sport = s->dport;
	return (NULL);
}

/*
 * Where the client sent the request.  Sent to one of our own
 * addresses: either a `redirect' (conntrack knows the original
 * destination; pfhelper asks it) or not intercepted at all, which is
 * refused: we are no open relay.  Sent anywhere else: TPROXY delivered
 * it with its destination intact.
 */
static const char *
orig_dst(const struct tp_dgram *d, struct pfh_addr *o, uint16_t *oport)
{
	struct pfh_ctlookup	l;
	struct pfh_reply	r;
	char			buf[ADDR_STRLEN];

	if (d->to.af != d->from.af)
		return ("address families differ");
	if (!addr_is_unicast_host(&d->to))
		return ("sent to a broadcast or multicast address");
	switch (sock_addr_type(&d->to)) {
	case ADDR_BROADCAST:
		return ("sent to a broadcast address");
	case ADDR_REMOTE:
		*o = d->to;
		*oport = d->tport;
		log_debug("original destination %s (TPROXY)",
		    addr_port_str(o, *oport, buf, sizeof(buf)));
		return (NULL);
	}
	memset(&l, 0, sizeof(l));
	l.proto = IPPROTO_UDP;
	l.cport = d->fport;
	l.lport = d->tport;
	l.client = d->from;
	l.local = d->to;
	if (pfh_call(PFH_CT_LOOKUP, &l, sizeof(l), &r) == -1)
		return ("not intercepted (no conntrack entry)");
	if (r.addr.af != d->to.af)
		return ("conntrack answer of another family");
	if (addr_eq(&r.addr, &d->to) && r.port == d->tport)
		return ("not intercepted (sent to the proxy itself)");
	*o = r.addr;
	*oport = r.port;
	log_debug("original destination %s (conntrack)",
	    addr_port_str(o, *oport, buf, sizeof(buf)));
	return (NULL);
}

static void
request_forward(const struct tp_dgram *d, const struct tftp_req *req,
    const struct pfh_session *s)
{
	const struct sockaddr_storage	*src = &conf->src4;
	socklen_t			 srclen = conf->src4len;
	struct session			*sess;
	struct timeval			 tv;

	if (s->client.af == AF_INET6) {
		src = &conf->src6;
		srclen = conf->src6len;
	}
	if ((sess = calloc(1, sizeof(*sess))) == NULL) {
		log_warn("session");
		return;
	}
	evtimer_set(&sess->timer, session_timeout, sess);
	sess->s = *s;
	sess->reqlen = d->len;
	memcpy(sess->req, d->buf, d->len);
	sess->fd = sock_connect(&s->server, s->sport, src, srclen,
	    &sess->s.proxy, &sess->s.pport);
	if (sess->fd == -1) {
		drop(d, errno == EACCES ? "destination is a broadcast address" :
		    strerror(errno));
		free(sess);
		return;
	}
	if (session_begin(sess, d) == -1)
		return;
	if (send(sess->fd, d->buf, d->len, 0) == -1) {
		log_warn("session %u: send", sess->s.sid);
		session_end(sess);
		return;
	}
	log_request(sess, req);
	tv.tv_sec = conf->transwait;
	tv.tv_usec = 0;
	evtimer_add(&sess->timer, &tv);
}

/*
 * Start the session and add its permit at pfhelper.  0; or -1 with the
 * session gone (and a log line).
 */
static int
session_begin(struct session *sess, const struct tp_dgram *d)
{
	struct pfh_permit	p;
	struct pfh_reply	r;

	if (!addr_is_unicast_host(&sess->s.proxy) ||
	    sess->s.pport < PORT_MIN) {
		drop(d, "no usable source address and port (-a)");
		goto fail;
	}
	if (++last_sid == 0)
		last_sid = 1;
	sess->s.sid = last_sid;
	sess->s.proto = IPPROTO_UDP;
	if (pfh_call(PFH_SESSION_START, &sess->s, sizeof(sess->s), &r) == -1) {
		drop(d, r.reason);
		goto fail;
	}
	RB_INSERT(session_tree, &sessions, sess);
	nsessions++;

	memset(&p, 0, sizeof(p));
	p.sid = sess->s.sid;
	p.pid = PERMIT_ID;
	p.kind = PFH_ACTIVE;
	p.pport = sess->s.pport;
	p.tport = sess->s.cport;
	p.timeout = conf->transwait + PERMIT_SLACK;
	if (pfh_call(PFH_PERMIT_ADD, &p, sizeof(p), &r) == -1) {
		drop(d, r.reason);
		session_end(sess);
		return (-1);
	}
	return (0);
 fail:
	close(sess->fd);
	free(sess);
	return (-1);
}

/* End a started session: pfhelper removes its permit. */
static void
session_end(struct session *sess)
{
	struct pfh_session_end	e;

	evtimer_del(&sess->timer);
	memset(&e, 0, sizeof(e));
	e.sid = sess->s.sid;
	/* Nothing waits for the reply: ending a session cannot fail. */
	if (pfh_send(pfh, PFH_SESSION_END, &e, sizeof(e)) == -1)
		fatal("pfhelper (%s)", proto_name(PFH_SESSION_END));
	log_debug("session %u: ended", e.sid);
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
log_request(const struct session *sess, const struct tftp_req *req)
{
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

static void
drop(const struct tp_dgram *d, const char *why)
{
	char	c[ADDR_STRLEN], t[ADDR_STRLEN];

	log_warnx("dropped request from %s to %s: %s",
	    addr_port_str(&d->from, d->fport, c, sizeof(c)),
	    addr_port_str(&d->to, d->tport, t, sizeof(t)), why);
}

/* A request to pfhelper; if pfhelper is gone, so are we. */
static int
pfh_call(uint32_t type, const void *msg, size_t len, struct pfh_reply *r)
{
	if (pfh_request(pfh, type, msg, len, r) == 0)
		return (0);
	if (pfh_fatal_errno(errno))
		fatal("pfhelper (%s)", proto_name(type));
	if (r->reason[0] == '\0')
		strlcpy(r->reason, strerror(errno), sizeof(r->reason));
	return (-1);
}
