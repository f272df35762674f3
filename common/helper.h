/* SPDX-License-Identifier: ISC */
/*
 * helper.h: how a front end gets its pfhelper: the standing service's
 * socket for its role if there is one, else a pfhelper of its own, as
 * root, before the privilege drop; and the options both front ends
 * have.  The rest of their common skeleton is frontend.h.
 */
#ifndef HELPER_H
#define HELPER_H

#include "pfh_client.h"

struct helper_opts {
	uint32_t	 role;		/* PFH_ROLE_* */
	int		 family;	/* -4, -6; AF_UNSPEC (0): both */
	const char	*dir;		/* -s: the service's; NULL: default */
	int		 require;	/* -S: the service, or exit */
	int		 debug;		/* -d: ours, and pfhelper -d */
	int		 level;		/* pfhelper -D */
	int		 table;		/* spawned: n > 0, table "role-n" */
	struct pfh_hello hello;		/* what the front end asks for */
};

/*
 * The options both front ends have, -4, -6, -d, -S and -s, for their
 * getopt loops: 1 if ch was one of them.
 */
int		 helper_option(struct helper_opts *, int, char *);
/* Connected (HELLO done), or exits with a message. */
void		 helper_open(struct pfh_client *, const struct helper_opts *);
/* The same, or with soft -1 and a log line (a reconnection, parent.c). */
int		 helper_try(struct pfh_client *, const struct helper_opts *,
		    int);
/*
 * For a privileged parent (parent.h's pfh): helper_try's channel as a
 * bare fd, with a spawned pfhelper's table index and its pid in *pid.
 */
int		 helper_fd(struct helper_opts *, int, int, pid_t *);
/* The pfhelper binary a front end starts (helper_path.c). */
const char	*helper_path(void);

#endif /* HELPER_H */
