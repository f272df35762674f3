/* SPDX-License-Identifier: ISC */
/*
 * pfhelper.h: the privileged broker's logic, independent of the backend.
 */
#ifndef PFHELPER_H
#define PFHELPER_H

#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>

#include "filter.h"
#include "proto.h"

#define PFH_DEF_MAX_SESSIONS	10000
#define PFH_DEF_MAX_PERMITS	8	/* live permits per session */
/* Live permits in all; each pass set holds FILTER_PASS_MAX. */
#define PFH_PERMITS_MAX		FILTER_PASS_MAX
#define PFH_PORT_LO		49152	/* proxy ports pfhelper chooses */
#define PFH_PORT_HI		65535
#define PFH_DEF_RATE		20000	/* requests per second, 0: no limit */
#define PFH_DEF_SHARE		50	/* -S: percent of a limit per peer */
#define PFH_MAX_PEERS		256	/* -S: front ends at once */

#define PFH_NROLES	2

/* roles.c: what each kind of front end is and may ask for. */
struct pfh_role {
	uint32_t	 id;		/* PFH_ROLE_* */
	const char	*name;		/* logs, status, socket name */
	const char	*table;		/* default table name */
	uint8_t		 proto;		/* its sessions' protocol */
	int		 permits;	/* data permits beyond the session's */
	int		 ctlookup;	/* original destination lookups */
	int		 reverse;	/* may be held to a -R server */
	int		 table_opts;	/* pass-chain log, label, class */
	int		 tls;		/* range permits (PFH_RANGE) */
	uint16_t	 rport;		/* -R's default port */
};

const struct pfh_role	*role_get(uint32_t);
const struct pfh_role	*role_at(int);	/* 0 .. PFH_NROLES - 1 */

/* The -R servers a peer is held to (reverse mode), all on one port. */
struct pfh_rservers {
	struct pfh_addr		a[PFH_RSERVER_MAX];
	unsigned int		n;
	uint16_t		port;
};

struct hostaddr;

struct pfh_conf {
	struct filter_conf	filter;
	uint32_t		max_sessions;
	uint32_t		max_permits;
	uint32_t		rate;
	int			ct_verify;	/* not -C: check conntrack */
	struct pfh_rservers	rs;		/* -R, -P: for a peer without */
	uint32_t		share;		/* % of a limit per peer */
	int			share_hard;	/* -c: even while idle */
	int			service;	/* -S: a standing service */
	uint32_t		range_width;	/* -W: a range's ports, most */
	struct hostaddr		*hosts;		/* this host's addresses */
};

/*
 * validate.c: pure checks; 0, or -1 with a reason.  The form of every
 * message of the list (proto.h), validate_N: a violation drops the peer.
 */
#define VALIDATE_DECL(t, name, st)					\
int	validate_##name(const st *, const char **);
PFH_IMSG_TYPES(VALIDATE_DECL, PFH_NOMSG)
#undef VALIDATE_DECL
int	validate_session_role(const struct pfh_role *,
	    const struct pfh_rservers *, const struct pfh_session *,
	    const char **);
int	validate_rserver_add(struct pfh_rservers *, const char *);
int	validate_permit_fits(const struct pfh_role *,
	    const struct pfh_permit *, const char **);
/*
 * claims.c: the session's proxy address, and where its connection was
 * delivered (local:lport, the reply source of its conntrack entry once
 * ct_check_reply() found it; ct 0: not checked, -C), against this
 * host: NULL, or why not.
 */
const char *validate_claims(const struct pfh_conf *,
	    const struct pfh_session *, int ct);
/*
 * elems.c: the permit kinds (PFH_PASSIVE, ...), one row each: what a
 * permit of the kind may carry, what it is in the kernel (its
 * elements), its name in the logs and in pfhelper -l.
 *   single port (span 0): the proxy port pport (0: pfhelper picks
 *     one) leads to tport, for timeout seconds (1 .. PFH_TIMEOUT_MAX).
 *   span: the ports tport .. thigh, the table's -E range, for the
 *     session's life (pport 0, timeout 0), one per session; a permit
 *     whose elements a live permit of its kind holds shares them.
 */
struct pfh_kind {
	uint8_t		 id;		/* PFH_PASSIVE, ... */
	const char	*name;		/* logs, pfhelper -l */
	uint8_t		 flags;		/* the PFH_F_* it may carry */
	int		 span;		/* a port range (above) */
	int		 tls;		/* only in a role with -E (tls) */
	/* Its rdr, snat/snatp and pass elements: how many (<= 3). */
	int		(*elems)(const struct pfh_session *,
			    const struct pfh_permit *, struct filter_elem[3]);
};

const struct pfh_kind	*kind_get(uint8_t);	/* NULL: no such kind */
/*
 * The elements of a checked permit: how many (3, or 2 for a forward
 * range permit, which needs no rdr).
 */
int	permit_elems(const struct pfh_session *, const struct pfh_permit *,
	    struct filter_elem[3]);

/*
 * serve.c: the peers of one pfhelper, each with its own sessions and
 * permits, under limits common to all (a peer may take conf->share
 * percent of each).  A spawned pfhelper has one peer and makes its
 * role's table at its HELLO; a standing service makes every role's
 * table first (svc_tables) and gives each peer the role of the socket
 * it came through.
 */
struct svc;
struct peer;

struct svc	*svc_new(const struct pfh_conf *);
struct ct;
/* Its conntrack socket (ct.h), before the first SESSION_START. */
void		 svc_ct(struct svc *, struct ct *);
/* Its clock (clock.h), clock_mono unless a test says; before any peer. */
void		 svc_clock(struct svc *, double (*)(void));
int		 svc_tables(struct svc *);
void		 svc_free(struct svc *);
/* The status view (pfhelper -l): peers, sessions, permits, counters. */
void		 svc_status(struct svc *, FILE *);
/* role 0: from its HELLO (spawned); pid for the logs and the status. */
struct peer	*peer_new(struct svc *, int, uint32_t, pid_t);
int		 peer_fd(const struct peer *);
pid_t		 peer_pid(const struct peer *);
int		 peer_hello_done(const struct peer *);
/* Its HELLO was good, but its role's table could not be made. */
int		 peer_notable(const struct peer *);
/* POLLIN and/or POLLOUT: what the peer's socket should be polled for. */
short		 peer_events(struct peer *);
/* After poll: 0 go on, 1 EOF, -1 dropped; then peer_free(). */
int		 peer_io(struct peer *, short);
/* Remove exactly this peer's sessions and permits, and close it. */
void		 peer_free(struct peer *, int);
/* Serve one peer on fd until EOF (0) or a violation (-1). */
int		 peer_run(struct peer *, int);

/* service.c: pfhelper -S and pfhelper -l. */
int		 service_open(const char *, int [PFH_NROLES + 1]);
int		 service_run(struct svc *, int [PFH_NROLES + 1]);
int		 service_status(const char *);
int		 spawned_run(struct peer *);

#endif /* PFHELPER_H */
