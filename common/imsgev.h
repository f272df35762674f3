/*
 * imsgev.h: an imsgbuf driven by libevent.  EV_READ is always armed;
 * EV_WRITE only while the write queue is not empty.
 */
#ifndef IMSGEV_H
#define IMSGEV_H

#include <event.h>

#include "imsg.h"

struct imsgev {
	struct imsgbuf	 ibuf;
	struct event	 ev;
	short		 events;
	void		(*handler)(int, short, void *);
	void		*data;
};

int	imsgev_init(struct imsgev *, int, void (*)(int, short, void *),
	    void *);
/* The same for an imsgbuf initialised already (iev->ibuf). */
void	imsgev_set(struct imsgev *, void (*)(int, short, void *), void *);
/* Re-arm after the queue changed. */
void	imsgev_update(struct imsgev *);
int	imsgev_compose(struct imsgev *, uint32_t, uint32_t, int,
	    const void *, size_t);
void	imsgev_clear(struct imsgev *);

#endif /* IMSGEV_H */
