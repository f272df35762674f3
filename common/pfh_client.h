/*
 * pfh_client.h: the front ends' side of the pfhelper protocol.
 * Requests are synchronous: pfhelper is local and answers in tens of
 * microseconds, as OpenBSD's ftp-proxy's ioctls on /dev/pf do.
 */
#ifndef PFH_CLIENT_H
#define PFH_CLIENT_H

#include <sys/types.h>

#include "imsg.h"
#include "proto.h"

#define PFH_REPLY_TIMEOUT_MS	5000

struct pfh_client {
	struct imsgbuf	ibuf;
	pid_t		pid;		/* pfhelper's pid */
	uint32_t	reqid;
	uint32_t	pending;	/* pfh_send() replies not read yet */
};

/*
 * Fork and exec pfhelper (path, argv) with a socketpair on fd PFH_FD,
 * then exchange HELLO.  Called as root, before the privilege drop.
 */
int	pfh_start(struct pfh_client *, const char *, char *const [],
	    uint32_t);
/*
 * pfh_start() with the installed pfhelper (or the one named by the
 * environment variable PFHELPER), table, log level, -d when debug, and
 * the NULL-terminated extra arguments.  Exits with a message on failure.
 */
void	pfh_spawn(struct pfh_client *, uint32_t, const char *, int, int,
	    const char *const []);
/* The same, but -1 with errno instead of exiting. */
int	pfh_spawn_try(struct pfh_client *, uint32_t, const char *, int, int,
	    const char *const []);
/*
 * Send one request and wait for its reply.  0 on PFH_OK (reply filled),
 * -1 with errno set from the reply (reason in reply->reason) on PFH_ERR,
 * or with errno EPIPE/ETIMEDOUT/EBADMSG if pfhelper is gone or broken.
 */
int	pfh_request(struct pfh_client *, uint32_t, const void *, size_t,
	    struct pfh_reply *);
/*
 * Send a request whose reply nobody waits for (ending a permit or a
 * session: pfhelper never refuses those for a good request).  Its reply
 * is read and dropped later, by pfh_drain() or the next pfh_request().
 * 0, or -1 with errno if pfhelper is gone.
 */
int	pfh_send(struct pfh_client *, uint32_t, const void *, size_t);
/*
 * The pfhelper socket is readable: read and drop the pending replies.
 * 0, or -1 with errno (EPIPE: pfhelper is gone; EBADMSG: a reply
 * nobody asked for).
 */
int	pfh_drain(struct pfh_client *);
/* True if the last failure means pfhelper itself is gone. */
int	pfh_fatal_errno(int);
void	pfh_stop(struct pfh_client *);

/* A number option between min and max, or exit with a message. */
uint32_t opt_num(const char *, long long, long long, const char *);

#endif /* PFH_CLIENT_H */
