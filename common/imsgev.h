/*
 * imsgev.h: an imsgbuf driven by libevent 2 (on the base it is given).
 * EV_READ is always armed; EV_WRITE only while the write queue is not
 * empty.
 */
#ifndef IMSGEV_H
#define IMSGEV_H

#include <event2/event.h>
#include <event2/event_struct.h>

#include "imsg.h"

struct imsgev {
	struct imsgbuf	 ibuf;
	struct event_base *base;
	struct event	 ev;
	short		 events;
	void		(*handler)(int, short, void *);
	void		*data;
};

/*
 * Into base's loop, with handler(fd, events, data) for what fires: an
 * imsgbuf initialised already (iev->ibuf).
 */
void	imsgev_set(struct imsgev *, struct event_base *,
	    void (*)(int, short, void *), void *);
/* Re-arm after the queue changed. */
void	imsgev_update(struct imsgev *);
int	imsgev_compose(struct imsgev *, uint32_t, uint32_t, int,
	    const void *, size_t);
void	imsgev_clear(struct imsgev *);

#endif /* IMSGEV_H */
