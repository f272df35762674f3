/* SPDX-License-Identifier: ISC */
/*
 * parent.c: a front end's privileged parent, in the shape of OpenBSD's
 * privilege-separated daemons (relayd, httpd).
 *
 * Processes.  The parent stays root, outside the chroot, and parses no
 * network input: it holds the listening sockets and the right to reach
 * pfhelper (the service's socket, or spawning a pfhelper of its own),
 * and it can re-execute its binary.  It forks a worker, which chroots,
 * drops to the unprivileged user and enters the seccomp filter, then
 * gets from the parent over imsg (fe_proto.h) everything it serves
 * with: a dup of each listener (FEP_LISTEN) and pfhelper's channel,
 * HELLO done (FEP_PFH), then FEP_GO.  The worker answers FEP_READY
 * once it accepts.
 *
 * Reload (SIGHUP).  The parent re-executes its binary by path, so an
 * upgraded binary takes over, with the listeners and each worker's
 * channel left open across the exec and named in FE_PARENT_ENV.  The
 * new image starts a new worker on the same listeners; once that one
 * is READY, every older worker gets FEP_DRAIN: it stops accepting,
 * closes its copies of the listeners and exits when its last session
 * ends, or ends those still live after the drain time.  The listening
 * sockets never close (the parent holds them throughout), so a
 * connection in the accept queue waits there for whichever worker
 * accepts next, and none is refused.  The pid stays the same (systemd's
 * MAINPID).  What the parent knew of each worker crosses the exec with
 * it: whether it drains, whether it is the one accepting, and whether
 * it waits for a new pfhelper channel (the new image reaches pfhelper
 * for it, as the old one was doing).  If pfhelper cannot be reached
 * for the new worker (the service is restarting), the accepting worker
 * goes on accepting and the new image tries again, backing off; the
 * old worker drains only once the new one is READY.
 * A spawned pfhelper's table belongs to its worker's
 * channel: a new worker's pfhelper takes the first table index no live
 * worker's pfhelper holds ("ftp-proxy", then "ftp-proxy-1", ...).
 *
 * Several workers.  Nothing here assumes one: each worker has its own
 * channel, its own dup of every listener and its own pfhelper channel
 * (a service peer, or a spawned pfhelper with its own table).  Running
 * N workers at once is a loop around start_worker(): all of them wait
 * on the same listening sockets, and the kernel hands each connection
 * to one accept(); with SO_REUSEPORT the parent would instead open one
 * listener per worker per address and send each worker its own.
 * Sessions and permits are a worker's own, so nothing else changes.
 *
 * SIGTERM and SIGINT go on to every worker (FEP_END: the parent may lack
 * CAP_KILL to signal them); the parent waits for them
 * (and for spawned pfhelpers, which follow their worker) and exits
 * with the status of the worker it started last.  If that worker dies
 * by itself, the parent ends the others and exits with its status.
 */
#include "compat.h"

#include <sys/queue.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fe_proto.h"
#include "log.h"
#include "notify.h"
#include "parent.h"
#include "privdrop.h"
#include "sandbox.h"

#define FE_PARENT_ENV	"FE_PARENT_STATE"
#define FE_MAX_WORKERS	16
#define PFH_BACKOFF_MIN	50	/* ms, doubling */
#define PFH_BACKOFF_MAX	1000

static const char *const fep_names[] = {
	[FEP_NONE] = "FEP_NONE",
#define FEP_NAME(t)	[t] = #t,
	FEP_TYPES(FEP_NAME)
#undef FEP_NAME
};

struct wk {
	LIST_ENTRY(wk)	 entry;
	struct imsgev	 iev;
	struct event	 retry;		/* reaching pfhelper again */
	uint32_t	 backoff;	/* ms */
	pid_t		 pid;
	int		 table;		/* spawned pfhelper's index, or -1 */
	int		 ready;
	int		 draining;
};

struct parent {
	const struct fe_parent_ops *ops;
	char		**argv;
	char		 self[PATH_MAX];
	int		 lfd[FE_MAX_LISTEN];
	int		 nlisten;
	struct event_base *base;
	struct event	 sig[4];
	LIST_HEAD(, wk)	 workers;
	struct wk	*cur;		/* the one started last */
	struct event	 start_ev;	/* starting a worker again */
	uint32_t	 backoff;	/* ms */
	int		 ending;	/* signal passed on, or -1: exit */
	int		 rc;
};

static void	 wk_dispatch(int, short, void *);
static struct wk *wk_add(struct parent *, int, pid_t, int);
static int	 start_worker(struct parent *, int);
static void	 start_again(int, short, void *);
static __dead void worker_child(struct parent *, int);
static void	 reexec(struct parent *);
static void	 inherit(struct parent *);
static void	 on_signal(int, short, void *);
static void	 reap(struct parent *);
static void	 pass_on(struct parent *, int);
static void	 pfh_again(int, short, void *);
static int	 free_table(struct parent *);

const char *
fep_name(uint32_t type)
{
	if (type >= nitems(fep_names) || fep_names[type] == NULL)
		return ("unknown");
	return (fep_names[type]);
}

/*
 * FE_PARENT_ENV: "l=FD,FD w=PID.FD.TABLE.FLAGS,PID.FD.TABLE.FLAGS"
 * (an older image wrote no FLAGS: none).
 */
#define WK_WAITS	0x1	/* for a pfhelper channel */
#define WK_DRAINING	0x2
#define WK_CUR		0x4	/* the one accepting */
static int
env_ints(const char *s, const char *key, char *out, size_t len)
{
	const char	*p;
	size_t		 n;

	if (s == NULL || (p = strstr(s, key)) == NULL)
		return (-1);
	p += strlen(key);
	n = strcspn(p, " ");
	if (n >= len)
		return (-1);
	memcpy(out, p, n);
	out[n] = '\0';
	return (0);
}

int
parent_listeners(int *fds, int max)
{
	char	 buf[256], *p = buf, *t;
	int	 n = 0;

	if (env_ints(getenv(FE_PARENT_ENV), "l=", buf, sizeof(buf)) == -1)
		return (0);
	while ((t = strsep(&p, ",")) != NULL && n < max)
		if ((fds[n] = strtonum(t, 3, INT_MAX, NULL)) != 0)
			n++;
	return (n);
}

/* The workers an earlier image of ours started: still ours to drain. */
static void
inherit(struct parent *pp)
{
	char		 buf[640], *p = buf, *t, *f[4];
	long long	 v[4];
	struct wk	*w;
	int		 i;

	if (env_ints(getenv(FE_PARENT_ENV), "w=", buf, sizeof(buf)) == -1)
		return;
	while ((t = strsep(&p, ",")) != NULL) {
		for (i = 0; i < 4; i++)
			if ((f[i] = strsep(&t, ".")) == NULL)
				break;
		if (i < 3)
			continue;
		if (i == 3)
			f[3] = "0";
		v[0] = strtonum(f[0], 1, INT_MAX, NULL);
		v[1] = strtonum(f[1], 3, INT_MAX, NULL);
		v[2] = strtonum(f[2], -1, FE_MAX_WORKERS, NULL);
		v[3] = strtonum(f[3], 0, WK_WAITS | WK_DRAINING | WK_CUR,
		    NULL);
		if (v[0] == 0 || v[1] == 0)
			continue;
		(void)fcntl(v[1], F_SETFD, FD_CLOEXEC);
		w = wk_add(pp, v[1], v[0], v[2]);
		w->draining = (v[3] & WK_DRAINING) != 0;
		if (v[3] & WK_CUR)
			pp->cur = w;
		if (v[3] & WK_WAITS) {
			/* The old image was reaching pfhelper for it. */
			log_info("worker %ld waits for pfhelper: reaching it "
			    "again", (long)w->pid);
			w->backoff = PFH_BACKOFF_MIN;
			pfh_again(-1, 0, w);
		}
	}
}

static struct wk *
wk_add(struct parent *pp, int fd, pid_t pid, int table)
{
	struct wk	*w;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		fatal("worker");
	if (imsgbuf_init(&w->iev.ibuf, fd) == -1)
		fatal("worker channel");
	w->pid = pid;
	w->table = table;
	imsgev_set(&w->iev, pp->base, wk_dispatch, w);
	w->iev.data = w;
	LIST_INSERT_HEAD(&pp->workers, w, entry);
	return (w);
}

/* Waiting for a pfhelper channel: pfh_again's backoff is running. */
static int
wk_waits(struct wk *w)
{
	return (evtimer_initialized(&w->retry) &&
	    evtimer_pending(&w->retry, NULL));
}

static void
wk_free(struct wk *w)
{
	LIST_REMOVE(w, entry);
	if (evtimer_initialized(&w->retry))
		evtimer_del(&w->retry);
	imsgev_clear(&w->iev);
	imsgbuf_clear(&w->iev.ibuf);
	close(w->iev.ibuf.fd);
	free(w);
}

static struct parent	*the_parent;	/* for wk_dispatch only */

/* READY from the new worker: every older one drains. */
static void
wk_ready(struct parent *pp, struct wk *w)
{
	struct fep_drain	 d = { pp->ops->drain };
	struct wk		*o;

	w->ready = 1;
	notify_ready("listening");
	LIST_FOREACH(o, &pp->workers, entry) {
		if (o == w || o->draining)
			continue;
		log_info("worker %ld drains (at most %u s)", (long)o->pid,
		    d.secs);
		o->draining = 1;
		imsgev_compose(&o->iev, FEP_DRAIN, 0, -1, &d, sizeof(d));
	}
}

static void
wk_dispatch(int fd, short ev, void *arg)
{
	struct wk	*w = arg;
	struct imsg	 imsg;
	ssize_t		 n;

	if (ev & EV_READ) {
		n = imsgbuf_read(&w->iev.ibuf);
		if (n == 0 || (n == -1 && errno != EAGAIN)) {
			/* Its exit (SIGCHLD) is what counts. */
			imsgev_clear(&w->iev);
			return;
		}
		while ((n = imsg_get(&w->iev.ibuf, &imsg)) > 0) {
			switch (imsg_get_type(&imsg)) {
			case FEP_READY:
				wk_ready(the_parent, w);
				break;
			case FEP_PFH_LOST:
				log_warnx("worker %ld lost pfhelper: "
				    "reaching it again", (long)w->pid);
				w->backoff = PFH_BACKOFF_MIN;
				if (evtimer_initialized(&w->retry))
					evtimer_del(&w->retry);
				pfh_again(-1, 0, w);
				break;
			default:
				log_warnx("worker %ld: unexpected %s",
				    (long)w->pid,
				    fep_name(imsg_get_type(&imsg)));
			}
			imsg_free(&imsg);
		}
	}
	if ((ev & EV_WRITE) && imsgbuf_write(&w->iev.ibuf) == -1 &&
	    errno != EAGAIN)
		log_warn("worker %ld channel", (long)w->pid);
	imsgev_update(&w->iev);
}

/*
 * A new pfhelper channel for worker w, whose pfhelper went away: the
 * service's again (it restarts), or a pfhelper of its own in the
 * table index its old one had (the kernel removed that table with
 * it).  Until it works, again after a backoff; the worker's own bound
 * (-W) says when its sessions stop waiting.
 */
static void
pfh_again(int fd, short ev, void *arg)
{
	struct wk	*w = arg;
	struct timeval	 tv;
	pid_t		 hpid;
	int		 pfd, table;

	table = w->table >= 0 ? w->table : free_table(the_parent);
	if ((pfd = the_parent->ops->pfh(table, 1, &hpid,
	    the_parent->ops->arg)) != -1) {
		w->table = hpid > 0 ? table : -1;
		if (imsgev_compose(&w->iev, FEP_PFH, 0, pfd, NULL, 0) == -1)
			log_warn("worker %ld channel", (long)w->pid);
		else
			log_info("worker %ld: a new pfhelper channel",
			    (long)w->pid);
		return;
	}
	tv.tv_sec = w->backoff / 1000;
	tv.tv_usec = (w->backoff % 1000) * 1000;
	if (w->backoff < PFH_BACKOFF_MAX)
		w->backoff *= 2;
	evtimer_assign(&w->retry, w->iev.base, pfh_again, w);
	evtimer_add(&w->retry, &tv);
}

/* The first table index no live worker's spawned pfhelper holds. */
static int
free_table(struct parent *pp)
{
	struct wk	*w;
	int		 t;

	for (t = 0; t < FE_MAX_WORKERS; t++) {
		LIST_FOREACH(w, &pp->workers, entry)
			if (w->table == t)
				break;
		if (w == NULL)
			return (t);
	}
	fatalx("too many workers");
}

/*
 * A new worker, with pfhelper's channel.  Without one: with soft (a
 * worker still accepts), -1; else exit.
 */
static int
start_worker(struct parent *pp, int soft)
{
	struct wk	*w;
	pid_t		 pid, hpid;
	int		 sv[2], pfd, table, i;

	table = free_table(pp);
	if ((pfd = pp->ops->pfh(table, soft, &hpid, pp->ops->arg)) == -1) {
		if (soft)
			return (-1);
		fatalx("no pfhelper for a new worker");
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
		fatal("socketpair");
	switch (pid = fork()) {
	case -1:
		fatal("fork");
	case 0:
		close(sv[0]);
		close(pfd);
		worker_child(pp, sv[1]);
	}
	close(sv[1]);
	w = wk_add(pp, sv[0], pid, hpid > 0 ? table : -1);
	pp->cur = w;
	for (i = 0; i < pp->nlisten; i++)
		if (imsgev_compose(&w->iev, FEP_LISTEN, 0, dup(pp->lfd[i]),
		    NULL, 0) == -1)
			fatal("listener to worker");
	if (imsgev_compose(&w->iev, FEP_PFH, 0, pfd, NULL, 0) == -1 ||
	    imsgev_compose(&w->iev, FEP_GO, 0, -1, NULL, 0) == -1)
		fatal("worker channel");
	log_info("worker %ld started", (long)pid);
	return (0);
}

/*
 * After a reload with pfhelper away: the worker that accepts goes on,
 * and the new one starts once pfhelper answers (backing off).
 */
static void
start_again(int fd, short ev, void *arg)
{
	struct parent	*pp = arg;
	struct timeval	 tv;

	if (pp->ending != 0)
		return;
	if (pp->cur == NULL) {
		(void)start_worker(pp, 0);
		return;
	}
	if (start_worker(pp, 1) == 0)
		return;
	if (pp->backoff == 0) {
		log_warnx("no pfhelper for a new worker: worker %ld goes on "
		    "accepting; trying again", (long)pp->cur->pid);
		pp->backoff = PFH_BACKOFF_MIN;
	}
	tv.tv_sec = pp->backoff / 1000;
	tv.tv_usec = (pp->backoff % 1000) * 1000;
	if (pp->backoff < PFH_BACKOFF_MAX)
		pp->backoff *= 2;
	evtimer_add(&pp->start_ev, &tv);
}

/*
 * The child: nothing of the parent's but its channel (the rest comes
 * over it), then chroot, drop and the front end's worker.
 */
static __dead void
worker_child(struct parent *pp, int fd)
{
	struct fe_worker	 w;
	struct wk		*o;
	char			 why[256];
	int			 i;

	for (i = 0; i < pp->nlisten; i++)
		close(pp->lfd[i]);
	LIST_FOREACH(o, &pp->workers, entry)
		close(o->iev.ibuf.fd);
	memset(&w, 0, sizeof(w));
	if (imsgbuf_init(&w.iev.ibuf, fd) == -1)
		fatal("parent channel");
	imsgbuf_allow_fdpass(&w.iev.ibuf);
	/* The parent's handlers are not ours (its base stays unused). */
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGHUP, SIG_IGN);	/* a reload is the parent's */
	if (privdrop(pp->ops->user, PROXY_CHROOT, PRIVDROP_KEEP_NONE, why,
	    sizeof(why)) == -1)
		fatalx("%s", why);
	pp->ops->worker(&w, pp->ops->arg);
	exit(0);
}

/* Flush what is queued to the workers, blocking: before exec. */
static void
flush_all(struct parent *pp)
{
	struct wk	*w;

	LIST_FOREACH(w, &pp->workers, entry)
		(void)imsgbuf_flush(&w->iev.ibuf);
}

static void
reexec(struct parent *pp)
{
	char		 env[1024], num[48];
	struct wk	*w;
	int		 i;

	strlcpy(env, "l=", sizeof(env));
	for (i = 0; i < pp->nlisten; i++) {
		snprintf(num, sizeof(num), "%s%d", i ? "," : "", pp->lfd[i]);
		strlcat(env, num, sizeof(env));
		(void)fcntl(pp->lfd[i], F_SETFD, 0);
	}
	strlcat(env, " w=", sizeof(env));
	LIST_FOREACH(w, &pp->workers, entry) {
		snprintf(num, sizeof(num), "%s%ld.%d.%d.%d",
		    w == LIST_FIRST(&pp->workers) ? "" : ",", (long)w->pid,
		    w->iev.ibuf.fd, w->table, (wk_waits(w) ? WK_WAITS : 0) |
		    (w->draining ? WK_DRAINING : 0) |
		    (w == pp->cur ? WK_CUR : 0));
		if (strlcat(env, num, sizeof(env)) >= sizeof(env))
			fatalx("too many workers to re-execute");
		(void)fcntl(w->iev.ibuf.fd, F_SETFD, 0);
	}
	flush_all(pp);
	if (setenv(FE_PARENT_ENV, env, 1) == -1)
		fatal("setenv");
	log_info("SIGHUP: re-executing %s", pp->self);
	execv(pp->self, pp->argv);
	log_warn("cannot re-execute %s: the running image goes on",
	    pp->self);
	for (i = 0; i < pp->nlisten; i++)
		(void)fcntl(pp->lfd[i], F_SETFD, FD_CLOEXEC);
	LIST_FOREACH(w, &pp->workers, entry)
		(void)fcntl(w->iev.ibuf.fd, F_SETFD, FD_CLOEXEC);
	unsetenv(FE_PARENT_ENV);
}

/*
 * SIGTERM or SIGINT for every worker: over its channel, since a parent
 * without CAP_KILL (systemd's bounding set) cannot signal another uid.
 */
static void
pass_on(struct parent *pp, int sig)
{
	struct wk	*w;

	LIST_FOREACH(w, &pp->workers, entry)
		if (imsgev_compose(&w->iev, FEP_END, 0, -1, &sig,
		    sizeof(sig)) == -1)
			(void)kill(w->pid, sig);
}

static void
on_signal(int sig, short ev, void *arg)
{
	struct parent	*pp = arg;

	switch (sig) {
	case SIGHUP:
		if (pp->ending == 0)
			reexec(pp);
		break;
	case SIGCHLD:
		reap(pp);
		break;
	default:
		log_info("%s: ending the workers", strsignal(sig));
		pp->ending = sig;
		pass_on(pp, sig);
	}
}

/* A worker (or a spawned pfhelper, which needs nothing) has exited. */
static void
reap(struct parent *pp)
{
	struct wk	*w;
	pid_t		 pid;
	int		 status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		LIST_FOREACH(w, &pp->workers, entry)
			if (w->pid == pid)
				break;
		if (w == NULL)
			continue;
		if (w == pp->cur) {
			pp->rc = WIFEXITED(status) ? WEXITSTATUS(status) :
			    128 + WTERMSIG(status);
			pp->cur = NULL;
			if (pp->ending == 0) {
				log_warnx("worker %ld exited (status %d): "
				    "ending", (long)pid, pp->rc);
				pp->ending = SIGTERM;
				pass_on(pp, SIGTERM);
			}
		} else
			log_info("old worker %ld exited", (long)pid);
		wk_free(w);
	}
	if (pp->ending != 0 && LIST_EMPTY(&pp->workers))
		event_base_loopexit(pp->base, NULL);
}

void
parent_run(const struct fe_parent_ops *ops, char *argv[], const int *fds,
    int n)
{
	static const int	 sigs[] = { SIGHUP, SIGTERM, SIGINT, SIGCHLD };
	struct parent		 pp;
	ssize_t			 len;
	int			 i;

	memset(&pp, 0, sizeof(pp));
	pp.ops = ops;
	pp.argv = argv;
	LIST_INIT(&pp.workers);
	if ((len = readlink("/proc/self/exe", pp.self,
	    sizeof(pp.self) - 1)) == -1)
		fatal("/proc/self/exe");
	pp.self[len] = '\0';
	/* An upgrade replaced the file: run the new one by its name. */
	if (len > 10 && strcmp(pp.self + len - 10, " (deleted)") == 0)
		pp.self[len - 10] = '\0';
	memcpy(pp.lfd, fds, n * sizeof(fds[0]));
	pp.nlisten = n;
	if ((pp.base = event_base_new()) == NULL)
		fatalx("event_base_new");
	the_parent = &pp;
	for (i = 0; i < (int)nitems(sigs); i++) {
		evsignal_assign(&pp.sig[i], pp.base, sigs[i], on_signal, &pp);
		evsignal_add(&pp.sig[i], NULL);
	}
	evtimer_assign(&pp.start_ev, pp.base, start_again, &pp);
	inherit(&pp);
	unsetenv(FE_PARENT_ENV);
	if (sandbox_enter(SANDBOX_PARENT) == -1)
		fatal("seccomp");
	start_again(-1, 0, &pp);
	reap(&pp);	/* what exited while we were not looking */
	event_base_dispatch(pp.base);
	while (waitpid(-1, NULL, 0) > 0)
		;	/* the spawned pfhelpers, which follow their worker */
	log_info("exiting");
	exit(pp.rc);
}
