/* SPDX-License-Identifier: ISC */
/*
 * imsgev.h: an imsgbuf driven by libevent 2 (on the base it is given).
 * EV_READ is armed from imsgev_set to imsgev_clear.  What is composed
 * is written once the callbacks running now are done, everything
 * composed meanwhile in one write; EV_WRITE is armed only while the
 * socket has not taken it all.
 */
#ifndef IMSGEV_H
#define IMSGEV_H

#include <event2/event.h>
#include <event2/event_struct.h>

#include "imsg.h"

struct imsgev {
	struct imsgbuf	 ibuf;
	struct event_base *base;
	struct event	 rev;		/* EV_READ, persistent */
	struct event	 wev;		/* EV_WRITE, persistent, while armed */
	struct event	 flush;		/* made active by a compose */
	short		 events;	/* what is armed */
	int		 flushing;	/* flush active */
	void		(*handler)(int, short, void *);
	void		*data;
};

/*
 * Into base's loop, with handler(fd, events, data) for what fires: an
 * imsgbuf initialised already (iev->ibuf).  The handler writes the
 * queue on EV_WRITE (also when a flush calls it) and then calls
 * imsgev_update.
 */
void	imsgev_set(struct imsgev *, struct event_base *,
	    void (*)(int, short, void *), void *);
/* Arm EV_WRITE, or disarm it, after the queue changed. */
void	imsgev_update(struct imsgev *);
int	imsgev_compose(struct imsgev *, uint32_t, uint32_t, int,
	    const void *, size_t);
void	imsgev_clear(struct imsgev *);

#endif /* IMSGEV_H */
