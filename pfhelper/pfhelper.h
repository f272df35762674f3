/*
 * pfhelper.h: the privileged broker's logic, independent of the backend.
 */
#ifndef PFHELPER_H
#define PFHELPER_H

#include <stdint.h>

#include "filter.h"
#include "proto.h"

#define PFH_DEF_MAX_SESSIONS	10000
#define PFH_DEF_MAX_PERMITS	8	/* live permits per session */
/* Live permits in all; each pass set holds FILTER_PASS_MAX. */
#define PFH_PERMITS_MAX		FILTER_PASS_MAX
#define PFH_PORT_LO		49152	/* proxy ports pfhelper chooses */
#define PFH_PORT_HI		65535
#define PFH_DEF_RATE		20000	/* requests per second, 0: no limit */
#define PFH_RSERVER_MAX		16	/* -R servers */

struct pfh_conf {
	struct filter_conf	filter;
	uint32_t		max_sessions;
	uint32_t		max_permits;
	uint32_t		rate;
	int			ct_verify;	/* sessions must be in conntrack */
	struct pfh_addr		rserver[PFH_RSERVER_MAX]; /* -R: reverse mode */
	unsigned int		nrserver;
	uint16_t		rport;		/* -P */
};

/* validate.c: pure checks; 0, or -1 with a reason. */
int	validate_hello(const struct pfh_hello *, const char **);
int	validate_addr(const struct pfh_addr *, const char **);
int	validate_session(const struct pfh_session *, const char **);
int	validate_permit(const struct pfh_permit *, const char **);
int	validate_ctlookup(const struct pfh_ctlookup *, const char **);
int	validate_session_role(const struct pfh_conf *, uint32_t,
	    const struct pfh_session *, const char **);
int	validate_rserver_add(struct pfh_conf *, const char *);
int	validate_permit_fits(const struct pfh_session *,
	    const struct pfh_permit *, const char **);
/*
 * claims.c: the session's proxy address and its conntrack entry (from
 * the ct_check_orig() just done) against this host: NULL, or why not.
 */
const char *validate_claims(const struct pfh_conf *,
	    const struct pfh_session *);
/* The rdr, snat/snatp and pass elements of a permit. */
void	permit_elems(const struct pfh_session *, const struct pfh_permit *,
	    struct filter_elem[3]);

/* serve.c: serve one peer until it closes (0) or is dropped (-1). */
int	pfh_serve(int, const struct pfh_conf *);

#endif /* PFHELPER_H */
