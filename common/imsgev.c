/*
 * imsgev.c: libevent glue for an imsgbuf.
 */
#include "compat.h"

#include <event2/event.h>
#include <unistd.h>

#include "imsgev.h"
#include "log.h"

void
imsgev_set(struct imsgev *iev, struct event_base *base,
    void (*handler)(int, short, void *), void *data)
{
	iev->base = base;
	iev->handler = handler;
	iev->data = data;
	iev->events = 0;
	imsgev_update(iev);
}

void
imsgev_update(struct imsgev *iev)
{
	short	events = EV_READ;

	if (imsgbuf_queuelen(&iev->ibuf) > 0)
		events |= EV_WRITE;
	/*
	 * The event is not persistent: once it has fired it must be added
	 * again, or an idle channel would never see its peer's EOF.
	 */
	if (iev->events == events && event_initialized(&iev->ev) &&
	    event_pending(&iev->ev, events, NULL))
		return;
	if (iev->events != 0)
		event_del(&iev->ev);
	iev->events = events;
	event_assign(&iev->ev, iev->base, iev->ibuf.fd, events, iev->handler,
	    iev->data);
	event_add(&iev->ev, NULL);
}

int
imsgev_compose(struct imsgev *iev, uint32_t type, uint32_t id, int fd,
    const void *data, size_t len)
{
	int	rc;

	rc = imsg_compose(&iev->ibuf, type, id, 0, fd, data, len);
	if (rc != -1)
		imsgev_update(iev);
	return (rc);
}

void
imsgev_clear(struct imsgev *iev)
{
	if (iev->events != 0)
		event_del(&iev->ev);
	iev->events = 0;
	imsgbuf_clear(&iev->ibuf);
}
