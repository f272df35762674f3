/* SPDX-License-Identifier: ISC */
/*
 * frontend.h: the skeleton both front ends' mains share, beside
 * helper.h (their pfhelper): the checks before the privilege drop, the
 * drop itself, and the event loop they run in.
 */
#ifndef FRONTEND_H
#define FRONTEND_H

#include <stddef.h>

#include <event2/event.h>
#include <event2/event_struct.h>

#include "pfh_client.h"

#define FE_MAX_LISTEN	8	/* listening sockets of one front end */

/*
 * As root, before anything else: the chroot directory exists, and user
 * can be dropped to.  0, or -1 with why filled.
 */
int	fe_check(const char *, char *, size_t);
/*
 * Listening, pfhelper and its table are up: tell systemd (the chroot
 * hides it from then on), chroot and drop to user for good, or exit.
 */
void	fe_drop(const char *);

/* One event base, the listening sockets, pfhelper, and the signals. */
struct fe_loop {
	struct event_base	*base;
	struct event		 listen[FE_MAX_LISTEN];
	int			 nlisten;
	struct event		 sig[3];	/* SIGHUP, SIGINT, SIGTERM */
	struct event		 hosts;		/* address changes */
};

/*
 * A new base with a persistent EV_READ event calling accept(fd, ev,
 * accept_arg) on each of the n fds, pfhelper's channel on it (lost(why,
 * arg), as for pfh_attach), and sig(signo, ev, arg) for SIGHUP, SIGINT
 * and SIGTERM.  Exits if there is no base.
 */
void	fe_loop_init(struct fe_loop *, const int *, int,
	    event_callback_fn, void *, struct pfh_client *,
	    void (*)(const char *, void *), event_callback_fn, void *);
/*
 * This host's addresses: opened as root before fe_drop() (fatal if it
 * cannot be), then followed from the loop.
 */
struct hostaddr	*fe_hosts_open(void);
void	fe_hosts(struct fe_loop *, struct hostaddr *);

/*
 * A worker under a privileged parent (parent.c): SIGHUP is the
 * parent's (a reload), ignored here; and a draining worker's end of
 * accepting (its copies of the listeners close, the parent's stay).
 */
void	fe_loop_nohup(struct fe_loop *);
void	fe_loop_close(struct fe_loop *);

#endif /* FRONTEND_H */
