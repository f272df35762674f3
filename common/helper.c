/* SPDX-License-Identifier: ISC */
/*
 * helper.c: connect to the standing pfhelper or start one of our own.
 */
#include "compat.h"

#include <sys/socket.h>

#include <err.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "helper.h"
#include "log.h"

static int	helper_service(struct pfh_client *, const struct helper_opts *,
		    const char *, int);
static int	helper_spawn(struct pfh_client *, const struct helper_opts *,
		    int);

/*
 * The service's socket for our role: 0 when it serves us; -1 when
 * there is none (or, without -S, when it will not serve us: then we
 * start our own, as without a service).
 */
static int
helper_service(struct pfh_client *c, const struct helper_opts *o,
    const char *path, int soft)
{
	struct pfh_hello	h = o->hello;
	int			e;

	h.role = o->role;
	if (pfh_connect(c, path) == -1) {
		if (o->require && soft)
			return (-1);
		if (o->require)
			err(1, "no pfhelper service at %s", path);
		if (errno != ENOENT && errno != ECONNREFUSED)
			log_warn("pfhelper service at %s", path);
		return (-1);
	}
	if (pfh_hello_opts(c, &h) == 0) {
		log_info("pfhelper service at %s serves us", path);
		return (0);
	}
	e = errno;
	if (o->require && soft) {
		log_warnx("pfhelper service at %s: %s", path,
		    c->reason[0] != '\0' ? c->reason : strerror(e));
		pfh_stop(c);
		return (-1);
	}
	if (o->require)
		errx(1, "pfhelper service at %s: %s", path,
		    c->reason[0] != '\0' ? c->reason : strerror(e));
	log_warnx("pfhelper service at %s will not serve us (%s); "
	    "starting our own", path,
	    c->reason[0] != '\0' ? c->reason : strerror(e));
	pfh_stop(c);
	return (-1);
}

static int
helper_spawn(struct pfh_client *c, const struct helper_opts *o, int soft)
{
	struct pfh_hello	 h = o->hello;
	const char		*argv[8];
	char			 lvl[8], table[32];
	int			 n = 0;

	h.role = o->role;
	snprintf(lvl, sizeof(lvl), "%d", o->level);
	argv[n++] = "pfhelper";
	argv[n++] = "-D";
	argv[n++] = lvl;
	if (o->debug)
		argv[n++] = "-d";
	if (o->table > 0) {	/* beside an older worker's (parent.c) */
		snprintf(table, sizeof(table), "%s-%d", o->role ==
		    PFH_ROLE_TFTP ? "tftp-proxy" : "ftp-proxy", o->table);
		argv[n++] = "-t";
		argv[n++] = table;
	}
	argv[n] = NULL;
	/* execv(3) takes char *const []; nothing writes to these. */
	if (pfh_fork(c, helper_path(), (char *const *)(uintptr_t)argv) == -1) {
		if (soft) {
			log_warn("cannot start pfhelper (%s)", helper_path());
			return (-1);
		}
		err(1, "cannot start pfhelper (%s)", helper_path());
	}
	if (pfh_hello_opts(c, &h) == -1) {
		if (soft) {
			log_warnx("pfhelper (%s): %s", helper_path(),
			    c->reason[0] != '\0' ? c->reason :
			    strerror(errno));
			pfh_stop(c);
			return (-1);
		}
		if (c->reason[0] != '\0')
			errx(1, "pfhelper (%s): %s", helper_path(), c->reason);
		err(1, "cannot start pfhelper (%s)", helper_path());
	}
	return (0);
}

int
helper_option(struct helper_opts *o, int ch, char *arg)
{
	switch (ch) {
	case '4':
		o->family = AF_INET;
		return (1);
	case '6':
		o->family = AF_INET6;
		return (1);
	case 'd':
		o->debug = 1;
		return (1);
	case 'S':
		o->require = 1;
		return (1);
	case 's':
		o->dir = arg;
		return (1);
	}
	return (0);
}

int
helper_try(struct pfh_client *c, const struct helper_opts *o, int soft)
{
	char	path[256];

	if ((size_t)snprintf(path, sizeof(path), "%s/%s",
	    o->dir != NULL ? o->dir : PFH_SOCKDIR,
	    o->role == PFH_ROLE_TFTP ? PFH_SOCK_TFTP : PFH_SOCK_FTP) >=
	    sizeof(path))
		errx(1, "-s: directory name too long");
	if (helper_service(c, o, path, soft) == 0)
		return (0);
	if (o->require)
		return (-1);
	return (helper_spawn(c, o, soft));
}

void
helper_open(struct pfh_client *c, const struct helper_opts *o)
{
	(void)helper_try(c, o, 0);
}

int
helper_fd(struct helper_opts *o, int table, int soft, pid_t *pid)
{
	struct pfh_client	c;
	int			fd;

	o->table = table;
	if (helper_try(&c, o, soft) == -1)
		return (-1);
	*pid = c.pid;
	fd = c.iev.ibuf.fd;
	imsgbuf_clear(&c.iev.ibuf);
	return (fd);
}
