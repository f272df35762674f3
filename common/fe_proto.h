/* SPDX-License-Identifier: ISC */
/*
 * fe_proto.h: the channel between a front end's privileged parent and
 * its unprivileged worker (parent.c, worker.c).  One socketpair per
 * worker; the parent speaks first and passes descriptors, the worker
 * answers with what it needs.  Types are never renumbered: an old
 * worker still draining listens to a parent upgraded by a re-exec.
 */
#ifndef FE_PROTO_H
#define FE_PROTO_H

#include <stdint.h>

#define FEP_TYPES(X)							\
	X(FEP_LISTEN)	/* parent: fd, a listening socket */		\
	X(FEP_PFH)	/* parent: fd, pfhelper's channel, HELLO done */ \
	X(FEP_GO)	/* parent: all sent; serve */			\
	X(FEP_READY)	/* worker: accepting, sandboxed */		\
	X(FEP_DRAIN)	/* parent: struct fep_drain */			\
	X(FEP_PFH_LOST)	/* worker: pfhelper's channel went away */	\
	X(FEP_END)	/* parent: int signal; end all sessions, exit */

enum fep_type {
	FEP_NONE = 0,
#define FEP_ENUM(t)	t,
	FEP_TYPES(FEP_ENUM)
#undef FEP_ENUM
	FEP_MAX
};

/*
 * Stop accepting (the listeners stay open in the parent and in the
 * new worker), finish the sessions, and exit; after secs seconds end
 * those still live.
 */
struct fep_drain {
	uint32_t	secs;
};

const char	*fep_name(uint32_t);

#endif /* FE_PROTO_H */
