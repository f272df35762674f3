/*
 * imsgev_test: EV_WRITE is armed only while messages wait to be
 * written, and what is queued arrives, in order, through the loop of
 * the event base it was given (no global base exists here).
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

static struct imsgev	sender, receiver;
static struct event_base *base;
static int		got, in_order = 1, saw_write_armed;

static void
send_cb(int fd, short ev, void *arg)
{
	if (ev & EV_WRITE) {
		saw_write_armed = 1;
		if (imsgbuf_write(&sender.ibuf) == -1)
			err(1, "imsgbuf_write");
	}
	imsgev_update(&sender);
}

static void
recv_cb(int fd, short ev, void *arg)
{
	struct imsg	imsg;
	uint32_t	v;

	if (imsgbuf_read(&receiver.ibuf) != 1) {
		event_base_loopexit(base, NULL);
		return;
	}
	while (imsg_get(&receiver.ibuf, &imsg) > 0) {
		if (imsg_get_data(&imsg, &v, sizeof(v)) == -1 ||
		    v != (uint32_t)got)
			in_order = 0;
		got++;
		imsg_free(&imsg);
	}
	if (got == NMSG || got == NMSG + 1)
		event_base_loopexit(base, NULL);
	imsgev_update(&receiver);	/* as the daemons' handlers do */
}

int
main(void)
{
	struct timeval	tv = { 5, 0 };
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
	check(event_get_base(&sender.ev) == base &&
	    event_get_base(&receiver.ev) == base, "armed on the base given");
	check(sender.events == EV_READ, "idle: EV_READ only");
	for (i = 0; i < NMSG; i++)
		if (imsgev_compose(&sender, 1, i, -1, &i, sizeof(i)) == -1)
			err(1, "compose");
	check(sender.events == (EV_READ | EV_WRITE),
	    "queue not empty: EV_WRITE armed");
	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
	check(got == NMSG, "every message arrived");
	check(in_order, "in order");
	check(saw_write_armed, "written from the EV_WRITE callback");
	check(imsgbuf_queuelen(&sender.ibuf) == 0, "queue drained");
	check(sender.events == EV_READ, "drained: EV_WRITE disarmed");
	/*
	 * A later message, after the reader's event fired with nothing to
	 * change in what it waits for: it must still be waiting (a
	 * non-persistent event is not pending once it fired).
	 */
	i = NMSG;
	if (imsgev_compose(&sender, 1, i, -1, &i, sizeof(i)) == -1)
		err(1, "compose");
	tv.tv_sec = 2;
	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
	check(got == NMSG + 1, "a later message arrives too");
	imsgev_clear(&sender);
	imsgev_clear(&receiver);
	close(sv[0]);
	close(sv[1]);
	event_base_free(base);
	return (check_summary());
}
