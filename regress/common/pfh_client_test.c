/* SPDX-License-Identifier: ISC */
/*
 * pfh_client_test: the front ends' asynchronous pfhelper calls, against
 * a scripted pfhelper on the other end of a real socketpair, in a real
 * libevent loop: replies out of order, refusals (any errno) for one
 * call only, replies for a cancelled (freed) session, a start that
 * succeeds after its session is gone (ended at once), a reply nobody
 * asked for, EOF with calls pending.
 */
#include "compat.h"

#include <sys/socket.h>
#include <netinet/in.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "check.h"
#include "imsg.h"
#include "log.h"
#include "pfh_client.h"

/* What the callbacks saw, in order. */
struct seen {
	int	n;
	int	tag[16];
	int	error[16];
	int	port[16];
};

static struct seen	seen;
static int		nlost;
static struct event_base *base;
static char		lostwhy[128];

struct tag {
	int	id;
};

static void
done(const struct pfh_reply *r, void *arg)
{
	struct tag	*t = arg;

	if (seen.n < 16) {
		seen.tag[seen.n] = t->id;
		seen.error[seen.n] = r->error;
		seen.port[seen.n] = r->port;
		seen.n++;
	}
}

static void
lost(const char *why, void *arg)
{
	nlost++;
	strlcpy(lostwhy, why, sizeof(lostwhy));
}

static void
spin(void)
{
	int	i;

	for (i = 0; i < 10; i++)
		event_base_loop(base, EVLOOP_NONBLOCK);
}

/* The scripted pfhelper: read the requests the client sent. */
static int
srv_read(struct imsgbuf *ib, uint32_t *types, uint32_t *ids, int max)
{
	struct imsg	imsg;
	int		n = 0;

	spin();
	if (imsgbuf_read(ib) == -1)
		err(1, "read");
	while (n < max && imsg_get(ib, &imsg) > 0) {
		types[n] = imsg_get_type(&imsg);
		ids[n] = imsg_get_id(&imsg);
		n++;
		imsg_free(&imsg);
	}
	return (n);
}

static void
srv_reply(struct imsgbuf *ib, uint32_t id, int error, uint16_t port)
{
	if (proto_send_reply(ib, id, error, error ? "refused" : NULL, NULL,
	    port) == -1 || imsgbuf_flush(ib) == -1)
		err(1, "reply");
}

static void
setup(struct pfh_client *c, struct imsgbuf *srv, int *sfd)
{
	int	sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		err(1, "socketpair");
	if (fcntl(sv[1], F_SETFL, O_NONBLOCK) == -1 ||
	    pfh_open(c, sv[0]) == -1 || imsgbuf_init(srv, sv[1]) == -1)
		err(1, "open");
	pfh_attach(c, base, lost, NULL);
	*sfd = sv[1];
	memset(&seen, 0, sizeof(seen));
	nlost = 0;
}

static void
teardown(struct pfh_client *c, struct imsgbuf *srv, int sfd)
{
	pfh_stop(c);
	imsgbuf_clear(srv);
	close(sfd);
}

static struct pfh_session
session(uint32_t sid)
{
	struct pfh_session	s;

	memset(&s, 0, sizeof(s));
	s.sid = sid;
	s.proto = IPPROTO_TCP;
	return (s);
}

static struct pfh_permit
permit(uint32_t sid, uint32_t pid)
{
	struct pfh_permit	p;

	memset(&p, 0, sizeof(p));
	p.sid = sid;
	p.pid = pid;
	p.kind = PFH_PASSIVE;
	p.tport = 40000;
	p.timeout = 60;
	return (p);
}

/* Three calls answered 3, 1, 2; two refused with errnos of any kind. */
static void
out_of_order(void)
{
	struct pfh_client	c;
	struct imsgbuf		srv;
	struct pfh_calls	owner = TAILQ_HEAD_INITIALIZER(owner);
	struct pfh_session	s = session(1);
	struct pfh_permit	p = permit(1, 1);
	struct pfh_ctlookup	l;
	struct tag		t1 = { 1 }, t2 = { 2 }, t3 = { 3 };
	uint32_t		types[8], ids[8];
	int			sfd, n;

	memset(&l, 0, sizeof(l));
	setup(&c, &srv, &sfd);
	check(pfh_session_start(&c, &owner, &s, done, &t1) == 0 &&
	    pfh_permit_add(&c, &owner, &p, done, &t2) == 0 &&
	    pfh_ct_lookup(&c, NULL, &l, done, &t3) == 0, "calls queued");
	check(c.npending == 3, "three pending");
	n = srv_read(&srv, types, ids, 8);
	check(n == 3 && types[0] == PFH_SESSION_START &&
	    types[1] == PFH_PERMIT_ADD && types[2] == PFH_CT_LOOKUP,
	    "the requests went out, in order, from the event loop");
	check(n == 3 && ids[0] != ids[1] && ids[1] != ids[2], "distinct ids");
	srv_reply(&srv, ids[2], ETIMEDOUT, 0);
	srv_reply(&srv, ids[0], 0, 0);
	srv_reply(&srv, ids[1], 0, 51234);
	spin();
	check(seen.n == 3 && seen.tag[0] == 3 && seen.tag[1] == 1 &&
	    seen.tag[2] == 2, "completed in the order the replies came");
	check(seen.error[0] == ETIMEDOUT && seen.error[1] == 0 &&
	    seen.port[2] == 51234, "errno and port reach the callback");
	check(nlost == 0, "ETIMEDOUT is a refusal, not a lost pfhelper");
	check(c.npending == 0 && TAILQ_EMPTY(&owner), "nothing pending");
	/* Every kind of errno is a refusal of that call only. */
	check(pfh_permit_add(&c, NULL, &p, done, &t2) == 0 &&
	    pfh_permit_add(&c, NULL, &p, done, &t2) == 0 &&
	    pfh_permit_add(&c, NULL, &p, done, &t2) == 0, "more calls");
	n = srv_read(&srv, types, ids, 8);
	srv_reply(&srv, ids[0], EPROTO, 0);
	srv_reply(&srv, ids[1], ENOBUFS, 0);
	srv_reply(&srv, ids[2], EPIPE, 0);
	spin();
	check(n == 3 && seen.n == 6 && seen.error[3] == EPROTO &&
	    seen.error[4] == ENOBUFS && seen.error[5] == EPIPE && nlost == 0,
	    "EPROTO, ENOBUFS, EPIPE in a reply: refusals");
	teardown(&c, &srv, sfd);
}

/* A session freed with calls pending: no callback; its start ended. */
static void
cancelled(void)
{
	struct pfh_client	c;
	struct imsgbuf		srv;
	struct pfh_calls	owner = TAILQ_HEAD_INITIALIZER(owner);
	struct pfh_session	s = session(5);
	struct pfh_permit	p = permit(5, 1);
	struct tag		t = { 5 };
	uint32_t		types[8], ids[8];
	int			sfd, n;

	setup(&c, &srv, &sfd);
	pfh_session_start(&c, &owner, &s, done, &t);
	pfh_permit_add(&c, &owner, &p, done, &t);
	n = srv_read(&srv, types, ids, 8);
	pfh_cancel(&c, &owner);
	check(TAILQ_EMPTY(&owner), "owner list emptied");
	srv_reply(&srv, ids[1], 0, 50000);
	srv_reply(&srv, ids[0], 0, 0);
	spin();
	check(n == 2 && seen.n == 0, "no callback for a freed session");
	check(nlost == 0, "replies for cancelled calls are expected");
	n = srv_read(&srv, types, ids, 8);
	check(n == 1 && types[0] == PFH_SESSION_END,
	    "a start that succeeded after its session left is ended");
	srv_reply(&srv, ids[0], 0, 0);
	spin();
	check(nlost == 0 && c.npending == 0, "the end's reply absorbed");
	/* A refused start of a freed session: nothing to end. */
	pfh_session_start(&c, &owner, &s, done, &t);
	n = srv_read(&srv, types, ids, 8);
	pfh_cancel(&c, &owner);
	srv_reply(&srv, ids[0], EPERM, 0);
	spin();
	n = srv_read(&srv, types, ids, 8);
	check(n == 0 && seen.n == 0 && nlost == 0,
	    "a refused start of a freed session is not ended");
	teardown(&c, &srv, sfd);
}

/* pfhelper breaks the protocol or goes away: lost, once, no callbacks. */
static void
lost_cases(void)
{
	struct pfh_client	c;
	struct imsgbuf		srv;
	struct pfh_session	s = session(7);
	struct tag		t = { 7 };
	uint32_t		types[8], ids[8];
	int			sfd, n;

	setup(&c, &srv, &sfd);
	pfh_session_start(&c, NULL, &s, done, &t);
	n = srv_read(&srv, types, ids, 8);
	srv_reply(&srv, ids[0] + 100, 0, 0);
	spin();
	check(n == 1 && nlost == 1 && seen.n == 0,
	    "a reply nobody asked for: pfhelper lost");
	check(pfh_session_start(&c, NULL, &s, done, &t) == -1,
	    "no call after that");
	teardown(&c, &srv, sfd);

	setup(&c, &srv, &sfd);
	pfh_session_start(&c, NULL, &s, done, &t);
	s.sid = 8;
	pfh_session_start(&c, NULL, &s, done, &t);
	n = srv_read(&srv, types, ids, 8);
	imsgbuf_clear(&srv);
	close(sfd);
	spin();
	check(n == 2 && nlost == 1 && seen.n == 0,
	    "EOF with two calls pending: lost once, no callback");
	check(strstr(lostwhy, "closed") != NULL, "the reason says EOF");
	pfh_stop(&c);

	setup(&c, &srv, &sfd);
	pfh_session_start(&c, NULL, &s, done, &t);
	n = srv_read(&srv, types, ids, 8);
	if (imsg_compose(&srv, PFH_OK, ids[0], 0, -1, "x", 1) == -1 ||
	    imsgbuf_flush(&srv) == -1)
		err(1, "compose");
	spin();
	check(nlost == 1 && seen.n == 0, "a malformed reply: lost");
	teardown(&c, &srv, sfd);
}

int
main(void)
{
	log_init(1, LOG_DAEMON);
	log_setverbose(LOG_CRIT);
	if ((base = event_base_new()) == NULL)
		return (1);
	out_of_order();
	cancelled();
	lost_cases();
	return (check_summary());
}
