/* SPDX-License-Identifier: ISC */
/*
 * parent.h: a front end's privileged parent and its worker's side of
 * their channel (fe_proto.h).  parent.c says what each one does.
 */
#ifndef PARENT_H
#define PARENT_H

#include <sys/types.h>
#include <stdint.h>

#include <event2/event.h>

#include "frontend.h"
#include "imsgev.h"

#define FE_DRAIN_DEFAULT	300	/* seconds an old worker may drain */
#define FE_DRAIN_MAX		86400

/* The worker's end of the channel, in the worker. */
struct fe_worker {
	struct imsgev	 iev;
	int		 lfd[FE_MAX_LISTEN];
	int		 nlisten;
	int		 pfhfd;		/* pfhelper's channel, or -1 */
	void		(*drain)(uint32_t, void *);
	void		(*gone)(void *);
	void		(*newpfh)(int, void *);
	void		*arg;
};

struct fe_parent_ops {
	const char	*user;		/* the worker drops to */
	/*
	 * As root, in the parent: pfhelper's channel with HELLO done (the
	 * service's, or a pfhelper spawned with table index table: 0 the
	 * role's own table, n > 0 that name with "-n"), its pid in *pid
	 * if spawned (else 0).  The fd; or, at start (soft 0), exit.  With
	 * soft (a reconnection), -1 and a log line.
	 */
	int		(*pfh)(int, int, pid_t *, void *);
	/* In the worker, chrooted and unprivileged: serve, never return. */
	void		(*worker)(struct fe_worker *, void *);
	void		*arg;
	uint32_t	 drain;		/* seconds: an old worker's bound */
};

/*
 * Listeners a re-executed parent inherited (FE_PARENT_ENV): how many
 * went into fds (at most max), 0 on a first start.
 */
int	parent_listeners(int *, int);
/* Run the parent: start a worker on fds and never return. */
__dead void parent_run(const struct fe_parent_ops *, char *[], const int *,
	    int);

/*
 * The worker: read the parent's descriptors until FEP_GO (blocking, at
 * start), 0 or -1; then into base's loop with drain(secs, arg) for
 * FEP_DRAIN, newpfh(fd, arg) for a new pfhelper channel after
 * worker_pfh_lost(), and gone(arg) for FEP_END (SIGTERM or SIGINT to
 * the parent) or if the parent goes away: end every session and exit.
 */
int	worker_start(struct fe_worker *);
void	worker_attach(struct fe_worker *, struct event_base *,
	    void (*)(uint32_t, void *), void (*)(int, void *),
	    void (*)(void *), void *);
/* Tell the parent: accepting now; pfhelper's channel is lost. */
void	worker_ready(struct fe_worker *);
void	worker_pfh_lost(struct fe_worker *);

#endif /* PARENT_H */
