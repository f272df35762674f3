/* SPDX-License-Identifier: ISC */
/*
 * worker.c: the worker's end of its channel to the privileged parent
 * (parent.c, fe_proto.h).  At start it reads, blocking, what it serves
 * with; then the channel lives in its event loop, where FEP_DRAIN
 * arrives and FEP_READY and FEP_PFH_LOST leave.
 */
#include "compat.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "fe_proto.h"
#include "log.h"
#include "parent.h"

#define WORKER_START_MS	10000

/* One message of the start: 1 for FEP_GO, 0 for another, -1 bad. */
static int
start_msg(struct fe_worker *w, struct imsg *imsg)
{
	int	fd = imsg_get_fd(imsg);

	switch (imsg_get_type(imsg)) {
	case FEP_LISTEN:
		if (fd == -1 || w->nlisten == FE_MAX_LISTEN)
			break;
		w->lfd[w->nlisten++] = fd;
		return (0);
	case FEP_PFH:
		if (fd == -1 || w->pfhfd != -1)
			break;
		w->pfhfd = fd;
		return (0);
	case FEP_GO:
		return (w->nlisten > 0 && w->pfhfd != -1 ? 1 : -1);
	}
	if (fd != -1)
		close(fd);
	log_warnx("parent: unexpected %s", fep_name(imsg_get_type(imsg)));
	return (-1);
}

int
worker_start(struct fe_worker *w)
{
	struct pollfd	 pfd = { w->iev.ibuf.fd, POLLIN, 0 };
	struct imsg	 imsg;
	ssize_t		 n;
	int		 rc = 0;

	w->pfhfd = -1;
	while (rc == 0) {
		if (poll(&pfd, 1, WORKER_START_MS) != 1 ||
		    (n = imsgbuf_read(&w->iev.ibuf)) == 0 ||
		    (n == -1 && errno != EAGAIN))
			return (-1);
		while (rc == 0 && (n = imsg_get(&w->iev.ibuf, &imsg)) > 0) {
			rc = start_msg(w, &imsg);
			imsg_free(&imsg);
		}
		if (n == -1)
			return (-1);
	}
	return (rc == 1 ? 0 : -1);
}

static void
worker_msg(struct fe_worker *w, struct imsg *imsg)
{
	struct fep_drain	 d;
	int			 fd;

	switch (imsg_get_type(imsg)) {
	case FEP_DRAIN:
		if (imsg_get_data(imsg, &d, sizeof(d)) == 0) {
			w->drain(d.secs, w->arg);
			return;
		}
		break;
	case FEP_END:
		w->gone(w->arg);
		return;
	case FEP_PFH:
		if ((fd = imsg_get_fd(imsg)) != -1) {
			w->newpfh(fd, w->arg);
			return;
		}
		break;
	}
	log_warnx("parent: unexpected %s", fep_name(imsg_get_type(imsg)));
}

static void
worker_dispatch(int fd, short ev, void *arg)
{
	struct fe_worker	*w = arg;
	struct imsg		 imsg;
	ssize_t			 n;

	if (ev & EV_READ) {
		n = imsgbuf_read(&w->iev.ibuf);
		if (n == 0 || (n == -1 && errno != EAGAIN)) {
			log_warnx("the parent is gone");
			imsgev_clear(&w->iev);
			w->gone(w->arg);
			return;
		}
		while ((n = imsg_get(&w->iev.ibuf, &imsg)) > 0) {
			worker_msg(w, &imsg);
			imsg_free(&imsg);
		}
	}
	if ((ev & EV_WRITE) && imsgbuf_write(&w->iev.ibuf) == -1 &&
	    errno != EAGAIN)
		log_warn("parent channel");
	imsgev_update(&w->iev);
}

void
worker_attach(struct fe_worker *w, struct event_base *base,
    void (*drain)(uint32_t, void *), void (*newpfh)(int, void *),
    void (*gone)(void *), void *arg)
{
	w->drain = drain;
	w->newpfh = newpfh;
	w->gone = gone;
	w->arg = arg;
	imsgev_set(&w->iev, base, worker_dispatch, w);
}

void
worker_ready(struct fe_worker *w)
{
	if (imsgev_compose(&w->iev, FEP_READY, 0, -1, NULL, 0) == -1)
		log_warn("parent channel");
}

void
worker_pfh_lost(struct fe_worker *w)
{
	if (imsgev_compose(&w->iev, FEP_PFH_LOST, 0, -1, NULL, 0) == -1)
		log_warn("parent channel");
}
