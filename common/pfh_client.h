/* SPDX-License-Identifier: ISC */
/*
 * pfh_client.h: the front ends' side of the pfhelper protocol.
 *
 * After start-up every call is asynchronous and lives in the caller's
 * event loop (pfh_attach): a request is queued, EV_WRITE is armed while
 * anything is queued, and the reply completes the call through its
 * callback, matched by request id, in whatever order replies come.  A
 * reply with an errno is a refusal for that one call; pfhelper is lost
 * only on EOF or a protocol violation on the socket, which the lost
 * callback hears of once.
 */
#ifndef PFH_CLIENT_H
#define PFH_CLIENT_H

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/tree.h>

#include "imsg.h"
#include "imsgev.h"
#include "proto.h"

#define PFH_REPLY_TIMEOUT_MS	5000	/* start-up and test tools only */

/* A call's completion: r->error is 0, or an errno with r->reason. */
typedef void	(*pfh_done)(const struct pfh_reply *, void *);

struct pfh_call;
struct pfh_reg;
RB_HEAD(pfh_call_tree, pfh_call);
RB_HEAD(pfh_reg_tree, pfh_reg);

/* Any request's payload. */
union pfh_payload {
	struct pfh_session	 session;
	struct pfh_permit	 permit;
	struct pfh_ctlookup	 ctlookup;
	struct pfh_permit_del	 permit_del;
	struct pfh_session_end	 session_end;
};
/* The calls one owner (a session) has pending, to cancel them at once. */
TAILQ_HEAD(pfh_calls, pfh_call);

struct pfh_client {
	struct imsgev		 iev;
	pid_t			 pid;		/* pfhelper's, if we spawned it */
	uint32_t		 reqid;
	uint32_t		 npending;
	struct pfh_call_tree	 calls;
	void			(*lost)(const char *, void *);
	void			*lost_arg;
	int			 dead;
	char			 reason[PFH_REASON_MAX];	/* HELLO refused */
	/* pfh_keep: */
	int			 down;		/* lost; waiting, bounded */
	uint32_t		 bound;		/* seconds */
	struct event		 bound_ev;
	struct pfh_reg_tree	 regs;
	void			(*down_cb)(void *);
	void			(*refused)(uint32_t, const char *, void *);
};

/*
 * Fork and exec pfhelper (path, argv) with a socketpair on fd PFH_FD
 * (pfh_fork), then exchange HELLO (synchronously).  The front ends
 * start theirs through helper.c (pfh_fork, pfh_hello_opts); pfh_start
 * is the test tools' (regress/tools/pfhctl.c).
 */
int	pfh_start(struct pfh_client *, const char *, char *const [],
	    uint32_t);
int	pfh_fork(struct pfh_client *, const char *, char *const []);
/* Connect to a standing pfhelper's socket at path. */
int	pfh_connect(struct pfh_client *, const char *);
/*
 * A connected channel on fd (pfh_fork's, pfh_connect's, or a test's):
 * then pfh_hello exchanges HELLO synchronously, as at start-up; with
 * pfh_hello_opts the front end says more about itself (proto.h).  A
 * refusal: -1 with errno and the reason in c->reason.
 */
int	pfh_open(struct pfh_client *, int);
int	pfh_hello(struct pfh_client *, uint32_t);
int	pfh_hello_opts(struct pfh_client *, const struct pfh_hello *);

/*
 * Into base's event loop: from now on only the calls below.  lost(reason, arg) is called once if pfhelper goes away or
 * breaks the protocol; no callback of a pending call runs after it.
 */
void	pfh_attach(struct pfh_client *, struct event_base *,
	    void (*)(const char *, void *), void *);
/*
 * The typed calls: 0 when queued (done runs later, exactly once, unless
 * cancelled), -1 with errno if not even that.  owner may be NULL.
 */
int	pfh_session_start(struct pfh_client *, struct pfh_calls *,
	    const struct pfh_session *, pfh_done, void *);
int	pfh_permit_add(struct pfh_client *, struct pfh_calls *,
	    const struct pfh_permit *, pfh_done, void *);
int	pfh_ct_lookup(struct pfh_client *, struct pfh_calls *,
	    const struct pfh_ctlookup *, pfh_done, void *);
/* Ends nobody waits for: pfhelper never refuses a good one. */
int	pfh_permit_del(struct pfh_client *, uint32_t, uint32_t);
int	pfh_session_end(struct pfh_client *, uint32_t);
/*
 * The owner is going away: its pending calls complete silently.  A
 * session start still pending is ended at pfhelper once it succeeds.
 */
void	pfh_cancel(struct pfh_client *, struct pfh_calls *);
/*
 * Survive pfhelper's loss (after pfh_attach): keep every session and
 * permit pfhelper accepted, and every call (a new one waits); tell
 * down(arg) at once; lost() runs only if no pfh_reopen() comes within
 * bound seconds.  pfh_reopen: a new channel (HELLO done): every
 * session and every permit not expired is made again there, then the
 * waiting calls are sent.  A session the new pfhelper refuses goes to
 * refused(sid, reason, arg), and is forgotten here.
 */
void	pfh_keep(struct pfh_client *, uint32_t, void (*)(void *),
	    void (*)(uint32_t, const char *, void *));
int	pfh_reopen(struct pfh_client *, int);

/*
 * Close the channel and reap a pfhelper we spawned: it removes every
 * session and permit of ours, and with its table, when it sees EOF.
 */
void	pfh_stop(struct pfh_client *);

/*
 * Test tools only (it blocks; the front ends never call it): send one
 * request and wait for its reply.  0 on PFH_OK (reply filled), -1 with errno set from
 * the reply (reason in reply->reason) on PFH_ERR, or with errno
 * EPIPE/ETIMEDOUT/EBADMSG if pfhelper is gone or broken.
 */
int	pfh_request(struct pfh_client *, uint32_t, const void *, size_t,
	    struct pfh_reply *);
/* For pfh_request(): true if the failure means pfhelper is gone. */
int	pfh_fatal_errno(int);

/* A number option between min and max, or exit with a message. */
uint32_t opt_num(const char *, long long, long long, const char *);

#endif /* PFH_CLIENT_H */
