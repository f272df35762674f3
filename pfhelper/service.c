/* SPDX-License-Identifier: ISC */
/*
 * service.c: pfhelper -S, one broker for every front end.  It listens
 * on UNIX sockets in a root-only directory, one per role (the role of a
 * peer is the socket it came through), and on a control socket that
 * gives the status view (pfhelper -l).  Only root may connect
 * (SO_PEERCRED at accept); a front end connects while it is still
 * root, so a compromised one can neither open a second connection nor
 * choose another role.
 *
 * Both loops here (the service's, and a spawned pfhelper's one peer)
 * end on a signal the same way: the signals are blocked but while
 * ppoll(2) waits, so one that comes between the check of quit and the
 * wait is not lost.
 */
#include "compat.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "pfhelper.h"

#define CTL_MAX		8		/* status readers at once */
#define CTL_TIMEOUT_MS	5000		/* pfhelper -l gives up */
#define NLISTEN		(PFH_NROLES + 1)	/* role sockets, control */
#define SPAWNED_GRACE_MS 2000		/* a spawned pfhelper's wait, below */

/* A status reader: the view, written out as it reads. */
struct ctl {
	int		 fd;
	char		*buf;
	size_t		 len, off;
};

static volatile sig_atomic_t	quit;
static const int	service_sigs[] = { SIGTERM, SIGINT, SIGHUP };
static const int	spawned_sigs[] = { SIGTERM };

static void	on_signal(int);
static void	sig_catch(const int *, size_t, sigset_t *);
static int	ms_until(const struct timespec *);
static int	wait_io(struct pollfd *, nfds_t, int, const sigset_t *);
static int	sock_path(const char *, const char *, struct sockaddr_un *);
static int	sock_listen(const char *, const char *);
static int	accept_peer(int, struct ucred *);
static void	ctl_start(struct svc *, struct ctl *, int);
static int	ctl_write(struct ctl *);
static void	ctl_clear(struct ctl *);
static void	ctl_end(struct ctl *);

static void
on_signal(int sig)
{
	quit = sig;
}

/*
 * Catch sigs with on_signal() and block them; *wait_mask is the mask
 * to wait with, where they are not blocked.
 */
static void
sig_catch(const int *sigs, size_t n, sigset_t *wait_mask)
{
	struct sigaction	sa;
	sigset_t		block;
	size_t			i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigemptyset(&block);
	for (i = 0; i < n; i++) {
		sigaddset(&block, sigs[i]);
		if (sigaction(sigs[i], &sa, NULL) == -1)
			fatal("sigaction");
	}
	if (sigprocmask(SIG_BLOCK, &block, wait_mask) == -1)
		fatal("sigprocmask");
	for (i = 0; i < n; i++)
		sigdelset(wait_mask, sigs[i]);
}

/* Milliseconds from now to end (CLOCK_MONOTONIC), 0 if past. */
static int
ms_until(const struct timespec *end)
{
	struct timespec	t;
	long long	ms;

	clock_gettime(CLOCK_MONOTONIC, &t);
	ms = (end->tv_sec - t.tv_sec) * 1000LL +
	    (end->tv_nsec - t.tv_nsec) / 1000000;
	return (ms > 0 ? (int)ms : 0);
}

/* ppoll(2) for ms (-1: no limit) with mask: its count, 0 on a signal. */
static int
wait_io(struct pollfd *pfd, nfds_t n, int ms, const sigset_t *mask)
{
	struct timespec	ts;
	int		r;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	r = ppoll(pfd, n, ms < 0 ? NULL : &ts, mask);
	if (r == -1 && errno == EINTR)
		return (0);
	if (r == -1)
		log_warn("poll");
	return (r);
}

static int
sock_path(const char *dir, const char *name, struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if ((size_t)snprintf(sun->sun_path, sizeof(sun->sun_path), "%s/%s",
	    dir, name) >= sizeof(sun->sun_path)) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	return (0);
}

/*
 * A socket dir/name.  One that answers belongs to a running service:
 * refuse; a stale one (ECONNREFUSED) is replaced.
 */
static int
sock_listen(const char *dir, const char *name)
{
	struct sockaddr_un	sun;
	struct stat		st;
	int			fd;

	if (sock_path(dir, name, &sun) == -1)
		return (-1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return (-1);
	if (lstat(sun.sun_path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			log_warnx("%s: not a socket", sun.sun_path);
			goto fail;
		}
		if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
			log_warnx("%s: a pfhelper service runs already",
			    sun.sun_path);
			goto fail;
		}
		if (unlink(sun.sun_path) == -1)
			goto fail;
		close(fd);
		if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
			return (-1);
	}
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    chmod(sun.sun_path, 0600) == -1 || listen(fd, 64) == -1)
		goto fail;
	return (fd);
 fail:
	close(fd);
	return (-1);
}

/*
 * The directory (made 0700 if missing; else it must be root's and
 * nobody else's) and its sockets: fds[i] for role_at(i), then the
 * control socket.  Called as root, before the privilege drop.
 */
int
service_open(const char *dir, int fds[NLISTEN])
{
	struct stat	st;
	int		i;

	if (mkdir(dir, 0700) == -1 && errno != EEXIST)
		return (-1);
	if (lstat(dir, &st) == -1)
		return (-1);
	if (!S_ISDIR(st.st_mode) || st.st_uid != 0 ||
	    (st.st_mode & 077) != 0) {
		log_warnx("%s: must be a directory of root's, mode 0700", dir);
		errno = EPERM;
		return (-1);
	}
	for (i = 0; i < NLISTEN; i++) {
		fds[i] = sock_listen(dir, i < PFH_NROLES ? role_at(i)->name :
		    PFH_SOCK_CONTROL);
		if (fds[i] == -1) {
			while (i-- > 0)
				close(fds[i]);
			return (-1);
		}
	}
	return (0);
}

/* A connection from root, or -1 (refused and logged). */
static int
accept_peer(int lfd, struct ucred *uc)
{
	socklen_t	len = sizeof(*uc);
	int		fd;

	if ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) ==
	    -1) {
		if (errno != EAGAIN && errno != EINTR &&
		    errno != ECONNABORTED)
			log_warn("accept");
		return (-1);
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, uc, &len) == -1 ||
	    len != sizeof(*uc)) {
		log_warn("SO_PEERCRED");
		close(fd);
		return (-1);
	}
	if (uc->uid != 0) {
		log_warnx("refused pid %ld: uid %ld is not root",
		    (long)uc->pid, (long)uc->uid);
		close(fd);
		return (-1);
	}
	return (fd);
}

static void
ctl_start(struct svc *v, struct ctl *c, int fd)
{
	FILE	*fp;

	c->fd = fd;
	if ((fp = open_memstream(&c->buf, &c->len)) == NULL) {
		ctl_end(c);
		return;
	}
	svc_status(v, fp);
	if (fclose(fp) != 0)
		ctl_end(c);
}

/* 1 when all is written, 0 to go on, -1 on error. */
static int
ctl_write(struct ctl *c)
{
	ssize_t	n;

	while (c->off < c->len) {
		n = write(c->fd, c->buf + c->off, c->len - c->off);
		if (n == -1)
			return (errno == EAGAIN || errno == EINTR ? 0 : -1);
		c->off += n;
	}
	return (1);
}

/* A free slot: what service_run() starts with and ctl_end() leaves. */
static void
ctl_clear(struct ctl *c)
{
	c->fd = -1;
	c->buf = NULL;
	c->len = c->off = 0;
}

static void
ctl_end(struct ctl *c)
{
	if (c->fd != -1)
		close(c->fd);
	free(c->buf);
	ctl_clear(c);
}

/* A role socket's new peer. */
static void
peer_accept(struct svc *v, int lfd, int role_idx, struct peer **peers,
    int *npeers)
{
	const struct pfh_role	*r = role_at(role_idx);
	struct ucred		 uc;
	int			 fd;

	if ((fd = accept_peer(lfd, &uc)) == -1)
		return;
	if (*npeers == PFH_MAX_PEERS) {
		log_warnx("refused pid %ld (%s): %d peers already",
		    (long)uc.pid, r->name, PFH_MAX_PEERS);
		close(fd);
		return;
	}
	if ((peers[*npeers] = peer_new(v, fd, r->id, uc.pid)) == NULL) {
		log_warn("peer pid %ld", (long)uc.pid);
		close(fd);
		return;
	}
	(*npeers)++;
	log_info("peer pid %ld connected (%s role)", (long)uc.pid, r->name);
}

static void
ctl_accept(struct svc *v, int lfd, struct ctl *ctl)
{
	struct ucred	uc;
	int		fd, i;

	if ((fd = accept_peer(lfd, &uc)) == -1)
		return;
	for (i = 0; i < CTL_MAX && ctl[i].fd != -1; i++)
		;
	if (i == CTL_MAX) {
		close(fd);
		return;
	}
	ctl_start(v, &ctl[i], fd);
}

static void
peer_gone(struct peer **peers, int *npeers, int i, int rc)
{
	int	fd = peer_fd(peers[i]);

	log_info("peer pid %ld %s", (long)peer_pid(peers[i]),
	    rc == -1 ? "dropped" : "gone");
	peer_free(peers[i], rc == -1);
	close(fd);
	peers[i] = peers[--(*npeers)];
}

/* Serve until SIGTERM, SIGINT or SIGHUP: 0, or -1 if poll fails. */
int
service_run(struct svc *v, int lfd[NLISTEN])
{
	struct pollfd	 pfd[NLISTEN + CTL_MAX + PFH_MAX_PEERS];
	struct peer	*peers[PFH_MAX_PEERS];
	struct ctl	 ctl[CTL_MAX];
	sigset_t	 mask;
	int		 npeers = 0, i, n, rc;

	for (i = 0; i < CTL_MAX; i++)
		ctl_clear(&ctl[i]);
	sig_catch(service_sigs, nitems(service_sigs), &mask);
	while (!quit) {
		for (i = 0; i < NLISTEN; i++) {
			pfd[i].fd = lfd[i];
			pfd[i].events = POLLIN;
		}
		for (i = 0; i < CTL_MAX; i++) {
			pfd[NLISTEN + i].fd = ctl[i].fd;
			pfd[NLISTEN + i].events = POLLOUT;
		}
		n = NLISTEN + CTL_MAX;
		for (i = 0; i < npeers; i++) {
			pfd[n + i].fd = peer_fd(peers[i]);
			pfd[n + i].events = peer_events(peers[i]);
		}
		if ((rc = wait_io(pfd, n + npeers, -1, &mask)) == -1)
			return (-1);
		if (rc == 0)
			continue;
		/* Peers first, from the last: peer_gone() moves the last. */
		for (i = npeers - 1; i >= 0; i--)
			if (pfd[n + i].revents != 0 &&
			    (rc = peer_io(peers[i], pfd[n + i].revents)) != 0)
				peer_gone(peers, &npeers, i, rc);
		for (i = 0; i < CTL_MAX; i++)
			if (ctl[i].fd != -1 && pfd[NLISTEN + i].revents != 0 &&
			    ctl_write(&ctl[i]) != 0)
				ctl_end(&ctl[i]);
		for (i = 0; i < PFH_NROLES; i++)
			if (pfd[i].revents & POLLIN)
				peer_accept(v, lfd[i], i, peers, &npeers);
		if (pfd[PFH_NROLES].revents & POLLIN)
			ctl_accept(v, lfd[PFH_NROLES], ctl);
	}
	log_info("%s: ending %d peers", strsignal(quit), npeers);
	while (npeers > 0)
		peer_gone(peers, &npeers, npeers - 1, 0);
	for (i = 0; i < CTL_MAX; i++)
		ctl_end(&ctl[i]);
	return (0);
}

/*
 * A spawned pfhelper's one peer, until it goes (0) or is dropped (-1).
 * SIGTERM (the front end's own end, `systemctl stop' signals its whole
 * cgroup) gives the front end SPAWNED_GRACE_MS to end its sessions and
 * close: were we to go first, it would see its helper lost and exit 1.
 * Then we end, with status 0, whatever is still live.
 */
int
spawned_run(struct peer *c)
{
	struct pollfd	pfd;
	struct timespec	end;
	sigset_t	mask;
	int		ms = -1, r, rc = 0;

	sig_catch(spawned_sigs, nitems(spawned_sigs), &mask);
	while (rc == 0) {
		if (quit && ms == -1) {
			log_info("%s: waiting for the front end to close",
			    strsignal(quit));
			clock_gettime(CLOCK_MONOTONIC, &end);
			end.tv_sec += SPAWNED_GRACE_MS / 1000;
		}
		if (quit && (ms = ms_until(&end)) == 0) {
			log_info("the front end is still there: ending");
			break;
		}
		pfd.fd = peer_fd(c);
		pfd.events = peer_events(c);
		pfd.revents = 0;
		if ((r = wait_io(&pfd, 1, ms, &mask)) == -1)
			return (-1);
		if (r > 0)
			rc = peer_io(c, pfd.revents);
	}
	return (rc == -1 ? -1 : 0);
}

/* pfhelper -l: print the service's status view. */
int
service_status(const char *dir)
{
	struct sockaddr_un	 sun;
	struct pollfd		 pfd;
	char			 buf[8192];
	ssize_t			 n;
	int			 fd;

	if (sock_path(dir, PFH_SOCK_CONTROL, &sun) == -1 ||
	    (fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return (-1);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		close(fd);
		return (-1);
	}
	pfd.fd = fd;
	pfd.events = POLLIN;
	for (;;) {
		if (poll(&pfd, 1, CTL_TIMEOUT_MS) <= 0) {
			if (errno == EINTR)
				continue;
			errno = ETIMEDOUT;
			break;
		}
		if ((n = read(fd, buf, sizeof(buf))) <= 0) {
			close(fd);
			return (n == 0 ? 0 : -1);
		}
		fwrite(buf, 1, n, stdout);
	}
	close(fd);
	return (-1);
}
