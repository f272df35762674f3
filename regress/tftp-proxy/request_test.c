/* SPDX-License-Identifier: ISC */
/*
 * request_test: tftp-proxy's requests (request.c) in a real libevent
 * loop, with fakes all round: a scripted pfhelper on a socketpair, a
 * fake network (each request's socket to its server is a socketpair;
 * what goes back to a client is recorded) and a fake clock.  A request
 * goes out once pfhelper holds its session and not if it refuses; its
 * session ends at transwait; a second request from the same client port
 * replaces the first; the -m slots come back as the clock goes on; and
 * when pfhelper goes away a request waits, is served by the next one,
 * or past the bound gets a TFTP ERROR.
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
#include <syslog.h>
#include <unistd.h>

#include <event2/event.h>

#include "check.h"
#include "hostaddr.h"
#include "imsg.h"
#include "log.h"
#include "pfh_client.h"
#include "tftp_parse.h"
#include "tftp_proxy.h"

#define MAXFAKE		16
#define TRANSWAIT	2

static struct event_base *base;
static double		 now = 1000;		/* the fake clock */

/* The fake network: the server's end of each request's socket. */
static int		 srvfd[MAXFAKE];
static int		 nconn;
/* What went back to clients. */
static uint8_t		 replied[MAXFAKE][64];
static size_t		 repliedlen[MAXFAKE];
static int		 nreplied;

/* The scripted pfhelper: what it read. */
struct req {
	uint32_t		 type;
	uint32_t		 id;
	struct pfh_session	 s;	/* PFH_SESSION_START */
	uint32_t		 endsid;	/* PFH_SESSION_END */
};

struct fix {
	struct tp_conf		 conf;
	struct pfh_client	 pfh;
	struct imsgbuf		 srv;
	int			 sfd;
	struct tp_requests	*rq;
	int			 nlost;
};

static double
fake_clock(void)
{
	return (now);
}

static int
fake_connect(const struct pfh_addr *dst, uint16_t port,
    const struct sockaddr_storage *src, socklen_t srclen,
    struct pfh_addr *me, uint16_t *myport)
{
	int	sv[2];

	if (nconn == MAXFAKE || socketpair(AF_UNIX, SOCK_DGRAM |
	    SOCK_NONBLOCK, 0, sv) == -1)
		return (-1);
	srvfd[nconn] = sv[1];
	memset(me, 0, sizeof(*me));
	me->af = AF_INET;
	memcpy(me->addr, "\xc6\x33\x64\x01", 4);	/* 198.51.100.1 */
	*myport = 40000 + nconn++;
	return (sv[0]);
}

static int
fake_reply(const struct tp_dgram *d, void *buf, size_t len)
{
	if (nreplied == MAXFAKE || len > sizeof(replied[0]))
		return (-1);
	memcpy(replied[nreplied], buf, len);
	repliedlen[nreplied++] = len;
	return (0);
}

static const struct tp_net fake_net = { fake_connect, fake_reply };

static void
lost(const char *why, void *arg)
{
	struct fix	*f = arg;

	f->nlost++;
}

/* As tftp-proxy.c's: a new pfhelper refused a session made again. */
static void
refused(uint32_t sid, const char *why, void *arg)
{
	struct fix	*f = arg;

	request_refused(f->rq, sid, why);
}

static void
spin(void)
{
	int	i;

	for (i = 0; i < 10; i++)
		event_base_loop(base, EVLOOP_NONBLOCK);
}

/* Collect every pending timer (no fd) of the base. */
static int
timer_of(const struct event_base *b, const struct event *ev, void *arg)
{
	struct event	**list = arg;
	int		  i;

	if (event_get_fd(ev) != -1 || (event_get_events(ev) & EV_SIGNAL))
		return (0);
	for (i = 0; i < MAXFAKE - 1 && list[i] != NULL; i++)
		;
	list[i] = (struct event *)(uintptr_t)ev;
	return (0);
}

/* Time passes for libevent: every pending timer fires now. */
static void
fire_timers(void)
{
	struct event	*list[MAXFAKE];
	int		 i;

	memset(list, 0, sizeof(list));
	event_base_foreach_event(base, timer_of, list);
	for (i = 0; i < MAXFAKE && list[i] != NULL; i++)
		event_active(list[i], EV_TIMEOUT, 0);
	spin();
}

static void
srv_open(struct fix *f)
{
	int	sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		err(1, "socketpair");
	if (fcntl(sv[1], F_SETFL, O_NONBLOCK) == -1 ||
	    imsgbuf_init(&f->srv, sv[1]) == -1)
		err(1, "srv");
	f->sfd = sv[1];
	if (f->pfh.down) {
		if (pfh_reopen(&f->pfh, sv[0]) == -1)
			err(1, "pfh_reopen");
		return;
	}
	if (pfh_open(&f->pfh, sv[0]) == -1)
		err(1, "pfh_open");
	pfh_attach(&f->pfh, base, lost, f);
}

static void
srv_close(struct fix *f)
{
	imsgbuf_clear(&f->srv);
	close(f->sfd);
	f->sfd = -1;
}

/* What the client sent pfhelper since the last call. */
static int
srv_read(struct fix *f, struct req *r, int max)
{
	struct imsg	imsg;
	int		n = 0;

	spin();
	if (imsgbuf_read(&f->srv) == -1 && errno != EAGAIN)
		err(1, "srv read");
	while (n < max && imsg_get(&f->srv, &imsg) > 0) {
		memset(&r[n], 0, sizeof(r[n]));
		r[n].type = imsg_get_type(&imsg);
		r[n].id = imsg_get_id(&imsg);
		if (r[n].type == PFH_SESSION_START)
			(void)imsg_get_data(&imsg, &r[n].s, sizeof(r[n].s));
		else if (r[n].type == PFH_SESSION_END)
			(void)imsg_get_data(&imsg, &r[n].endsid,
			    sizeof(r[n].endsid));
		imsg_free(&imsg);
		n++;
	}
	return (n);
}

static void
srv_reply(struct fix *f, uint32_t id, int error)
{
	if (proto_send_reply(&f->srv, id, error, error ? "refused" : NULL,
	    NULL, 0) == -1 || imsgbuf_flush(&f->srv) == -1)
		err(1, "reply");
	spin();
}

static void
setup(struct fix *f, uint32_t max)
{
	memset(f, 0, sizeof(*f));
	f->conf.family = AF_UNSPEC;
	f->conf.transwait = TRANSWAIT;
	f->conf.max_sessions = max;
	if ((f->conf.hosts = hostaddr_new()) == NULL)
		err(1, "hostaddr");
	srv_open(f);
	f->rq = request_new(&f->conf, &f->pfh, base, &fake_net, fake_clock);
	nconn = nreplied = 0;
}

static void
teardown(struct fix *f)
{
	int	i;

	request_free(f->rq);
	pfh_stop(&f->pfh);
	if (f->sfd != -1)
		srv_close(f);
	hostaddr_close(f->conf.hosts);
	for (i = 0; i < nconn; i++)
		close(srvfd[i]);
}

/*
 * An RRQ for file from 192.0.2.<host>:cport to 198.51.100.10:69, as
 * TPROXY delivers it (its destination intact: no conntrack lookup).
 */
static void
request(struct fix *f, int host, uint16_t cport, const char *file)
{
	struct tp_dgram	d;
	size_t		n = strlen(file);

	memset(&d, 0, sizeof(d));
	d.buf[1] = TFTP_RRQ;
	memcpy(d.buf + 2, file, n + 1);
	memcpy(d.buf + 3 + n, "octet", 6);
	d.len = n + 9;
	d.from.af = d.to.af = AF_INET;
	memcpy(d.from.addr, "\xc0\x00\x02", 3);
	d.from.addr[3] = host;
	d.fport = cport;
	memcpy(d.to.addr, "\xc6\x33\x64\x0a", 4);
	d.tport = TFTP_PORT;
	d.lfd = -1;
	request_handle(f->rq, &d);
}

/* What server socket i received: the request's bytes, or -1. */
static ssize_t
at_server(int i, uint8_t *buf, size_t len)
{
	if (i >= nconn)
		return (-1);
	return (recv(srvfd[i], buf, len, MSG_DONTWAIT));
}

static void
test_served(void)
{
	struct fix	f;
	struct req	r[4];
	uint8_t		buf[64];
	ssize_t		n;

	setup(&f, 8);
	request(&f, 10, 40100, "boot.img");
	checkf(srv_read(&f, r, 4) == 1 && r[0].type == PFH_SESSION_START,
	    "served: one SESSION_START");
	checkf(r[0].s.proto == IPPROTO_UDP && r[0].s.cport == 40100 &&
	    r[0].s.sport == TFTP_PORT && r[0].s.pport == 40000 &&
	    r[0].s.timeout == TRANSWAIT + 2 && r[0].s.lport == TFTP_PORT,
	    "served: the session's ports and timeout");
	check(at_server(0, buf, sizeof(buf)) == -1,
	    "served: nothing goes out before pfhelper holds the session");
	srv_reply(&f, r[0].id, 0);
	n = at_server(0, buf, sizeof(buf));
	checkf(n == 17 && memcmp(buf + 2, "boot.img", 9) == 0,
	    "served: the request goes out byte for byte (%zd)", n);
	check(request_count(f.rq) == 1, "served: one request live");
	teardown(&f);
}

static void
test_refused(void)
{
	struct fix	f;
	struct req	r[4];
	uint8_t		buf[64];

	setup(&f, 8);
	request(&f, 10, 40100, "f");
	check(srv_read(&f, r, 4) == 1, "refused: SESSION_START");
	srv_reply(&f, r[0].id, EPERM);
	check(at_server(0, buf, sizeof(buf)) == -1,
	    "refused: the request never goes out");
	check(request_count(f.rq) == 0, "refused: the request is gone");
	check(srv_read(&f, r, 4) == 0, "refused: no SESSION_END for it");
	check(nreplied == 0, "refused: dropped, nothing to the client");
	teardown(&f);
}

static void
test_timeout(void)
{
	struct fix	f;
	struct req	r[4];

	setup(&f, 8);
	request(&f, 10, 40100, "f");
	check(srv_read(&f, r, 4) == 1, "timeout: SESSION_START");
	srv_reply(&f, r[0].id, 0);
	fire_timers();
	checkf(srv_read(&f, r, 4) == 1 && r[0].type == PFH_SESSION_END &&
	    r[0].endsid == 1, "timeout: the session ends at transwait");
	check(request_count(f.rq) == 0, "timeout: the request is gone");
	teardown(&f);
}

static void
test_again(void)
{
	struct fix	f;
	struct req	r[4];
	uint8_t		buf[64];
	int		n;

	setup(&f, 8);
	request(&f, 10, 40100, "f");
	check(srv_read(&f, r, 4) == 1, "again: SESSION_START");
	srv_reply(&f, r[0].id, 0);
	request(&f, 10, 40100, "f");
	n = srv_read(&f, r, 4);
	checkf(n == 2 && r[0].type == PFH_SESSION_END && r[0].endsid == 1 &&
	    r[1].type == PFH_SESSION_START && r[1].s.sid == 2 &&
	    r[1].s.pport == 40001,
	    "again: the same port: the old session ends, a new one starts "
	    "from a new port (%d)", n);
	check(request_count(f.rq) == 1, "again: one request live");
	srv_reply(&f, r[1].id, 0);
	check(at_server(1, buf, sizeof(buf)) > 0,
	    "again: the new request goes out");
	request(&f, 10, 40101, "f");
	n = srv_read(&f, r, 4);
	check(n == 1 && r[0].type == PFH_SESSION_START,
	    "again: another port is another request");
	check(request_count(f.rq) == 2, "again: two requests live");
	teardown(&f);
}

static void
test_slots(void)
{
	struct fix	f;
	struct req	r[4];

	setup(&f, 2);
	request(&f, 10, 40100, "f");
	request(&f, 11, 40100, "f");
	request(&f, 12, 40100, "f");
	check(srv_read(&f, r, 4) == 2, "slots: -m 2: a third is dropped");
	now += TRANSWAIT - 0.5;
	request(&f, 12, 40100, "f");
	check(srv_read(&f, r, 4) == 0, "slots: still taken before transwait");
	now += 0.5;
	request(&f, 12, 40100, "f");
	check(srv_read(&f, r, 4) == 1, "slots: free again after transwait");
	teardown(&f);
}

/*
 * A fixture kept across pfhelper's loss (pfh_keep), with one transfer
 * live (session 1, from 192.0.2.10:40100) when pfhelper goes away.
 */
static void
live_then_lost(struct fix *f, const char *what)
{
	struct req	r[4];
	uint8_t		buf[64];

	setup(f, 8);
	pfh_keep(&f->pfh, 10, NULL, refused);
	request(f, 10, 40100, "live");
	checkf(srv_read(f, r, 4) == 1, "%s: SESSION_START", what);
	srv_reply(f, r[0].id, 0);
	(void)at_server(0, buf, sizeof(buf));
	srv_close(f);
	spin();
	checkf(f->pfh.down && f->nlost == 0, "%s: pfhelper lost, kept", what);
}

/* pfhelper goes away with a transfer live and a request waiting. */
static void
test_pfh_down(void)
{
	struct fix	f;
	struct req	r[4];
	uint8_t		buf[64];
	int		n;

	live_then_lost(&f, "down");
	request(&f, 11, 40100, "waits");
	check(request_count(f.rq) == 2, "down: the new request waits");
	check(at_server(1, buf, sizeof(buf)) == -1,
	    "down: and does not go out yet");
	srv_open(&f);
	n = srv_read(&f, r, 4);
	checkf(n == 2 && r[0].type == PFH_SESSION_START && r[0].s.sid == 1 &&
	    r[1].type == PFH_SESSION_START && r[1].s.sid == 2,
	    "down: the new pfhelper: the live session again, then the new "
	    "one (%d)", n);
	srv_reply(&f, r[0].id, 0);
	srv_reply(&f, r[1].id, 0);
	check(at_server(1, buf, sizeof(buf)) > 0,
	    "down: the request that waited goes out");
	check(request_count(f.rq) == 2, "down: both requests live");
	teardown(&f);
}

/* No new pfhelper in time: the waiting request's client is told. */
static void
test_abandon(void)
{
	struct fix	f;
	uint8_t		buf[64];

	live_then_lost(&f, "abandon");
	request(&f, 11, 40100, "waits");
	request_abandon(f.rq, "no new pfhelper in time");
	checkf(nreplied == 1 && repliedlen[0] > 5 && replied[0][1] ==
	    TFTP_ERROR && replied[0][3] == 0 && memcmp(replied[0] + 4,
	    "proxy lost its packet filter helper", 36) == 0,
	    "abandon: the waiting request's client gets an ERROR (%d)",
	    nreplied);
	check(request_count(f.rq) == 1,
	    "abandon: the live transfer stays, the waiting request goes");
	check(at_server(1, buf, sizeof(buf)) == -1,
	    "abandon: the request never goes out");
	teardown(&f);
}

/* The new pfhelper refuses a live session: that transfer ends. */
static void
test_refused_again(void)
{
	struct fix	f;
	struct req	r[4];

	live_then_lost(&f, "again refused");
	srv_open(&f);
	check(srv_read(&f, r, 4) == 1, "again refused: made again");
	srv_reply(&f, r[0].id, EPERM);
	check(request_count(f.rq) == 0, "again refused: the transfer ends");
	check(srv_read(&f, r, 4) == 0,
	    "again refused: no SESSION_END for what pfhelper does not hold");
	teardown(&f);
}

int
main(void)
{
	log_init(1, LOG_DAEMON);
	log_setverbose(LOG_CRIT);
	if ((base = event_base_new()) == NULL)
		errx(1, "event_base_new");
	test_served();
	test_refused();
	test_timeout();
	test_again();
	test_slots();
	test_pfh_down();
	test_abandon();
	test_refused_again();
	event_base_free(base);
	return (check_summary());
}
