/* SPDX-License-Identifier: ISC */
/*
 * imsgev_test: what is composed goes out in one write once the running
 * callbacks are done, EV_WRITE is armed only while the socket holds
 * back part of the queue, and everything arrives, in order, through the
 * loop of the event base it was given (no global base exists here).
 */
#include "compat.h"

#include <sys/socket.h>

#include <err.h>
#include <event2/event.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "imsgev.h"

#define NMSG	200
#define NBIG	400		/* of BIGLEN: more than a socketpair holds */
#define BIGLEN	8192

static struct imsgev	sender, receiver;
static struct event_base *base;
static int		got, in_order = 1, writes, armed_seen;
static int		want;

static void
send_cb(int fd, short ev, void *arg)
{
	if (ev & EV_WRITE) {
		writes++;
		if (imsgbuf_write(&sender.ibuf) == -1)
			err(1, "imsgbuf_write");
	}
	imsgev_update(&sender);
	if (sender.events & EV_WRITE)
		armed_seen = 1;
}

static void
recv_cb(int fd, short ev, void *arg)
{
	struct imsg	imsg;

	if (imsgbuf_read(&receiver.ibuf) != 1) {
		event_base_loopexit(base, NULL);
		return;
	}
	while (imsg_get(&receiver.ibuf, &imsg) > 0) {
		if (imsg_get_id(&imsg) != (uint32_t)got)
			in_order = 0;
		got++;
		imsg_free(&imsg);
	}
	if (got == want)
		event_base_loopexit(base, NULL);
	imsgev_update(&receiver);	/* as the daemons' handlers do */
}

static void
compose(uint32_t i, size_t len)
{
	static char	buf[BIGLEN];

	memcpy(buf, &i, sizeof(i));
	if (imsgev_compose(&sender, 1, i, -1, buf, len) == -1)
		err(1, "compose");
}

static void
run(int n, int secs)
{
	struct timeval	tv = { secs, 0 };

	want = n;
	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

int
main(void)
{
	int		sv[2];
	uint32_t	i;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == -1)
		err(1, "socketpair");
	if ((base = event_base_new()) == NULL)
		errx(1, "event_base_new");
	memset(&sender, 0, sizeof(sender));
	memset(&receiver, 0, sizeof(receiver));
	if (imsgbuf_init(&sender.ibuf, sv[0]) == -1 ||
	    imsgbuf_init(&receiver.ibuf, sv[1]) == -1)
		err(1, "imsgbuf_init");
	imsgev_set(&sender, base, send_cb, NULL);
	imsgev_set(&receiver, base, recv_cb, NULL);
	check(event_get_base(&sender.rev) == base &&
	    event_get_base(&receiver.rev) == base, "armed on the base given");
	check(sender.events == EV_READ, "idle: EV_READ only");
	check(event_get_events(&receiver.rev) & EV_PERSIST,
	    "the read event is persistent: no epoll_ctl per message");

	for (i = 0; i < NMSG; i++)
		compose(i, sizeof(i));
	check(imsgbuf_queuelen(&sender.ibuf) == NMSG && writes == 0,
	    "a compose writes nothing at once");
	check(sender.events == EV_READ, "nor arms EV_WRITE");
	run(NMSG, 5);
	check(got == NMSG, "every message arrived");
	check(in_order, "in order");
	check(writes == 1, "200 messages in one write");
	check(!armed_seen, "EV_WRITE never armed for what the socket took");
	check(imsgbuf_queuelen(&sender.ibuf) == 0, "queue drained");

	/* More than the socket takes: the rest waits for EV_WRITE. */
	event_del(&receiver.rev);
	for (i = NMSG; i < NMSG + NBIG; i++)
		compose(i, BIGLEN);
	event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	check(imsgbuf_queuelen(&sender.ibuf) > 0 &&
	    sender.events == (EV_READ | EV_WRITE),
	    "backlog: EV_WRITE armed");
	event_add(&receiver.rev, NULL);
	run(NMSG + NBIG, 5);
	check(got == NMSG + NBIG && in_order, "the backlog arrived in order");
	check(sender.events == EV_READ, "drained: EV_WRITE disarmed");

	/* A later message, long after the reader's event fired. */
	compose(NMSG + NBIG, sizeof(i));
	run(NMSG + NBIG + 1, 2);
	check(got == NMSG + NBIG + 1, "a later message arrives too");

	imsgev_clear(&sender);
	check(sender.events == 0 && !event_pending(&sender.rev, EV_READ,
	    NULL), "cleared: nothing armed");
	imsgev_clear(&receiver);
	close(sv[0]);
	close(sv[1]);
	event_base_free(base);
	return (check_summary());
}
