/* SPDX-License-Identifier: ISC */
/*
 * imsgev.c: libevent glue for an imsgbuf.
 *
 * The read event stays added, so it costs no system call per message.
 * A compose writes nothing at once: it makes the flush event active,
 * which runs after the callbacks of this round of the loop, so the
 * requests of many sessions that one epoll_wait woke go out in one
 * sendmsg; and EV_WRITE, with its epoll_ctl, is armed only for what
 * the socket would not take.
 */
#include "compat.h"

#include <event2/event.h>
#include <unistd.h>

#include "imsgev.h"
#include "log.h"

static void
imsgev_flush(int fd, short ev, void *arg)
{
	struct imsgev	*iev = arg;

	iev->flushing = 0;
	if (imsgbuf_queuelen(&iev->ibuf) > 0)
		iev->handler(iev->ibuf.fd, EV_WRITE, iev->data);
}

void
imsgev_set(struct imsgev *iev, struct event_base *base,
    void (*handler)(int, short, void *), void *data)
{
	iev->base = base;
	iev->handler = handler;
	iev->data = data;
	iev->flushing = 0;
	event_assign(&iev->rev, base, iev->ibuf.fd, EV_READ | EV_PERSIST,
	    handler, data);
	event_assign(&iev->wev, base, iev->ibuf.fd, EV_WRITE | EV_PERSIST,
	    handler, data);
	event_assign(&iev->flush, base, -1, 0, imsgev_flush, iev);
	event_add(&iev->rev, NULL);
	iev->events = EV_READ;
	imsgev_update(iev);
}

void
imsgev_update(struct imsgev *iev)
{
	int	queued = imsgbuf_queuelen(&iev->ibuf) > 0;

	if (iev->events == 0)
		return;		/* cleared */
	if (queued && !(iev->events & EV_WRITE) && !iev->flushing) {
		event_add(&iev->wev, NULL);
		iev->events |= EV_WRITE;
	} else if (!queued && (iev->events & EV_WRITE)) {
		event_del(&iev->wev);
		iev->events &= ~EV_WRITE;
	}
}

int
imsgev_compose(struct imsgev *iev, uint32_t type, uint32_t id, int fd,
    const void *data, size_t len)
{
	int	rc;

	rc = imsg_compose(&iev->ibuf, type, id, 0, fd, data, len);
	if (rc != -1 && iev->events != 0 && !(iev->events & EV_WRITE) &&
	    !iev->flushing) {
		iev->flushing = 1;
		event_active(&iev->flush, EV_WRITE, 1);
	}
	return (rc);
}

void
imsgev_clear(struct imsgev *iev)
{
	if (iev->events != 0) {
		event_del(&iev->rev);
		event_del(&iev->wev);
		event_del(&iev->flush);
	}
	iev->events = 0;
	iev->flushing = 0;
	imsgbuf_clear(&iev->ibuf);
}
