/* SPDX-License-Identifier: ISC */
/*
 * tftp-proxy: a TFTP proxy for nftables, after OpenBSD's tftp-proxy(8).
 * Runs from inetd (`dgram udp wait', the socket on fd 0), from socket
 * activation (LISTEN_FDS), or as a standalone daemon.  Starts as root,
 * connects to the pfhelper service (or spawns a pfhelper of its own),
 * then chroots and drops to the unprivileged user before it reads a
 * request.  Standalone or activated, a privileged parent does the
 * first part and a worker the rest (common/parent.c), so that SIGHUP
 * reloads without cutting a transfer: the old worker keeps its
 * requests' permits until they end.  From inetd there is no parent:
 * inetd waits for the process it started, and a reload is inetd's.
 */
#include "compat.h"

#include <sys/socket.h>
#include <netinet/in.h>

#include <err.h>
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/event_struct.h>

#include "addr.h"
#include "frontend.h"
#include "helper.h"
#include "log.h"
#include "listen.h"
#include "parent.h"
#include "pfh_client.h"
#include "sandbox.h"
#include "tftp_proxy.h"

/*
 * Started by inetd or by socket activation, we exit once no request
 * came for this long and every permit is gone, so that the socket goes
 * back to whoever gave it to us.
 */
#define IDLE_EXIT	5	/* seconds */
#define MODE_ENV	"TFTP_PROXY_MODE"	/* across a reload */

enum tp_mode {
	MODE_STANDALONE,
	MODE_INETD,
	MODE_ACTIVATED
};

/* The process: its configuration, its pfhelper, its loop and sockets. */
struct tftp_proxy {
	struct tp_conf		 conf;
	struct pfh_client	 pfh;
	struct helper_opts	 helper;
	struct tp_requests	*reqs;
	struct event_base	*evbase;
	struct fe_loop		 loop;
	struct event		 idle_ev;
	struct fe_worker	*worker;	/* under a parent, else NULL */
	int			 listen_fd[FE_MAX_LISTEN];
	int			 nlisten;
	enum tp_mode		 mode;
	int			 drain_on_exit;
	int			 level;
	int			 draining;
	uint32_t		 pfh_wait;	/* -W, seconds */
};

static __dead void	 usage(void);
static void		 parse_args(struct tftp_proxy *, int, char *[],
			    int *);
static void		 source_addr(struct tp_conf *, const char *);
static void		 reverse_server(struct tp_conf *, const char *);
static void		 find_listeners(struct tftp_proxy *);
static int		 start_pfhelper(int, int, pid_t *, void *);
static void		 drain(int, void *);
static void		 run(struct tftp_proxy *);
static void		 listen_cb(int, short, void *);
static void		 idle_arm(struct tftp_proxy *, int);
static void		 idle_cb(int, short, void *);
static void		 pfh_gone(const char *, void *);
static void		 sig_end(int, short, void *);

static __dead void
usage(void)
{
	extern char	*__progname;

	fprintf(stderr, "usage: %s [-46dSv] [-a address] [-l address] "
	    "[-m maxsessions] [-p port]\n\t[-R server] [-s dir] "
	    "[-W wait] [-w transwait]\n", __progname);
	exit(1);
}

/* -a: at most one source address per family. */
static void
source_addr(struct tp_conf *conf, const char *s)
{
	struct pfh_addr	a;

	if (addr_parse(s, &a) == -1)
		errx(1, "-a needs a numeric address: %s", s);
	if (a.af == AF_INET) {
		if (conf->src4len != 0)
			errx(1, "-a: one IPv4 address only");
		addr_to_sa(&a, 0, &conf->src4, &conf->src4len);
	} else {
		if (conf->src6len != 0)
			errx(1, "-a: one IPv6 address only");
		addr_to_sa(&a, 0, &conf->src6, &conf->src6len);
	}
}

/*
 * -R: the TFTP server behind us (reverse mode), a name or an address;
 * repeated, or a name with both, for one server per family.
 */
static void
reverse_server(struct tp_conf *conf, const char *host)
{
	struct addrinfo	 hints, *res, *ai;
	struct pfh_addr	 a, *r;
	uint16_t	 port;
	int		 e;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_DGRAM;
	if ((e = getaddrinfo(host, NULL, &hints, &res)) != 0)
		errx(1, "-R %s: %s", host, gai_strerror(e));
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if (addr_from_sa(ai->ai_addr, &a, &port) == -1)
			continue;
		r = a.af == AF_INET6 ? &conf->rserver6 : &conf->rserver4;
		if (r->af == 0)
			*r = a;
	}
	freeaddrinfo(res);
	conf->reverse = 1;
}

static void
parse_args(struct tftp_proxy *tp, int argc, char *argv[], int *listen_set)
{
	struct tp_conf	*conf = &tp->conf;
	int		 ch;

	while ((ch = getopt(argc, argv, "46a:dl:m:p:R:Ss:vW:w:")) != -1) {
		if (helper_option(&tp->helper, ch, optarg))
			continue;
		switch (ch) {
		case 'a':
			source_addr(conf, optarg);
			break;
		case 'l':
			conf->listen_addr = optarg;
			*listen_set = 1;
			break;
		case 'm':
			conf->max_sessions = opt_num(optarg, 1,
			    TP_SESSIONS_MAX, "max sessions");
			break;
		case 'p':
			conf->listen_port = opt_num(optarg, 1, 65535, "port");
			*listen_set = 1;
			break;
		case 'R':
			reverse_server(conf, optarg);
			break;
		case 'W':
			tp->pfh_wait = opt_num(optarg, 0, PFH_TIMEOUT_MAX,
			    "pfhelper wait");
			break;
		case 'v':
			conf->verbose++;
			break;
		case 'w':
			conf->transwait = opt_num(optarg, 1, TP_TRANSWAIT_MAX,
			    "transwait");
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	conf->family = tp->helper.family;
}

/*
 * Who gave us our socket: socket activation, inetd (a UDP socket on
 * fd 0), or nobody (standalone: made later, after the checks).
 */
static void
find_listeners(struct tftp_proxy *tp)
{
	const char	*m;
	int		 fd;

	/* A reload: the parent's listeners, and the mode they came in. */
	if ((tp->nlisten = parent_listeners(tp->listen_fd,
	    FE_MAX_LISTEN)) > 0) {
		m = getenv(MODE_ENV);
		tp->mode = m != NULL && strcmp(m, "activated") == 0 ?
		    MODE_ACTIVATED : MODE_STANDALONE;
		return;
	}
	if ((tp->nlisten = sock_activated(tp->listen_fd,
	    FE_MAX_LISTEN)) == -1)
		errx(1, "bad socket activation (LISTEN_FDS)");
	if (tp->nlisten > 0)
		tp->mode = MODE_ACTIVATED;
	else if ((fd = sock_inetd()) != -1) {
		tp->mode = MODE_INETD;
		tp->listen_fd[tp->nlisten++] = fd;
	} else
		tp->mode = MODE_STANDALONE;
	if (tp->mode != MODE_STANDALONE) {
		tp->drain_on_exit = 1;
		on_exit(drain, tp);
	}
}

/*
 * Should we die before serving a socket we were given: discard what is
 * queued, or inetd (or systemd) would start us again at once for the
 * same datagrams.
 */
static void
drain(int status, void *arg)
{
	struct tftp_proxy	*tp = arg;
	char			 buf[16];
	int			 i, n;

	if (!tp->drain_on_exit)
		return;
	for (i = 0; i < tp->nlisten; i++)
		for (n = 0; n < 1024; n++)
			if (recv(tp->listen_fd[i], buf, sizeof(buf),
			    MSG_DONTWAIT) == -1 && errno != EINTR)
				break;
}

/*
 * Our pfhelper: the service's, else one of our own, told our -R
 * servers and, from inetd, that we are one of several at once (inetd
 * runs one of us per address family).  As root, before the drop.
 */
static int
start_pfhelper(int table, int soft, pid_t *pid, void *arg)
{
	struct tftp_proxy	*tp = arg;
	struct pfh_hello	*h = &tp->helper.hello;

	/* -R: one server per family, on port 69. */
	h->nrserver = 0;
	if (tp->conf.rserver4.af != 0)
		h->rserver[h->nrserver++] = tp->conf.rserver4;
	if (tp->conf.rserver6.af != 0)
		h->rserver[h->nrserver++] = tp->conf.rserver6;
	if (h->nrserver != 0)
		h->rport = TFTP_PORT;
	if (tp->mode == MODE_INETD)
		h->flags |= PFH_H_MANY;
	tp->helper.level = tp->level;
	if (tp->mode == MODE_INETD) {
		helper_open(&tp->pfh, &tp->helper);
		return (0);
	}
	return (helper_fd(&tp->helper, table, soft, pid));
}

/* An old worker after a reload: leave once the last request ends. */
static void
worker_drain(uint32_t secs, void *arg)
{
	struct tftp_proxy	*tp = arg;

	log_info("draining: no new request, %u live",
	    request_count(tp->reqs));
	fe_loop_close(&tp->loop);
	tp->draining = 1;
	idle_arm(tp, 0);
}

/* The parent ends us, or is gone. */
static void
worker_orphan(void *arg)
{
	sig_end(SIGTERM, 0, arg);
}

/*
 * pfhelper went away: requests wait (pfh_keep) while the parent
 * reaches another, then go on; transfers under way go on meanwhile.
 */
static void
worker_pfh_down(void *arg)
{
	struct tftp_proxy	*tp = arg;

	worker_pfh_lost(tp->worker);
}

static void
worker_pfh_new(int fd, void *arg)
{
	struct tftp_proxy	*tp = arg;

	if (pfh_reopen(&tp->pfh, fd) == -1)
		log_warnx("a new pfhelper channel nobody waits for");
}

/* The new pfhelper refused a transfer's session made again. */
static void
worker_refused(uint32_t sid, const char *why, void *arg)
{
	struct tftp_proxy	*tp = arg;

	request_refused(tp->reqs, sid, why);
}

/* Standalone or activated: the worker, chrooted and unprivileged. */
static void
worker(struct fe_worker *w, void *arg)
{
	struct tftp_proxy	*tp = arg;
	int			 i;

	if (worker_start(w) == -1)
		fatalx("nothing to serve from the parent");
	if (pfh_open(&tp->pfh, w->pfhfd) == -1)
		fatal("pfhelper channel");
	tp->conf.hosts = fe_hosts_open();	/* before the sandbox */
	for (i = 0; i < w->nlisten; i++)
		tp->listen_fd[i] = w->lfd[i];
	tp->nlisten = w->nlisten;
	tp->worker = w;
	run(tp);
	request_end_all(tp->reqs);
	pfh_stop(&tp->pfh);
	log_debug("exiting");
	exit(0);
}

/* -d logs each request to stderr, as -v does to syslog. */
static void
set_level(struct tftp_proxy *tp)
{
	if (tp->helper.debug || tp->conf.verbose)
		tp->level = tp->conf.verbose > 1 ? LOG_DEBUG : LOG_INFO;
	if (tp->helper.debug && tp->conf.verbose == 0)
		tp->conf.verbose = 1;
}

/* Standalone, and no listeners inherited: ours, then a daemon. */
static void
listen_standalone(struct tftp_proxy *tp)
{
	struct tp_conf	*conf = &tp->conf;

	if ((tp->nlisten = net_listen(conf->listen_addr, conf->listen_port,
	    conf->family, SOCK_DGRAM, tp->listen_fd, FE_MAX_LISTEN)) <= 0)
		fatalx("cannot listen on port %u", conf->listen_port);
	if (!tp->helper.debug) {
		if (daemon(0, 0) == -1)
			fatal("daemon");
		log_init(0, LOG_DAEMON);
	}
}

int
main(int argc, char *argv[])
{
	static struct tftp_proxy tp = {
		.helper = { .role = PFH_ROLE_TFTP },
		.conf = { .family = AF_UNSPEC,
		    .listen_port = TP_PORT_DEFAULT,
		    .transwait = TP_TRANSWAIT_DEFAULT,
		    .max_sessions = TP_SESSIONS_DEFAULT },
		.level = LOG_NOTICE,
		.pfh_wait = TP_PFH_WAIT_DEFAULT
	};
	struct fe_parent_ops	 ops = { TFTP_PROXY_USER, start_pfhelper,
	    worker, &tp, FE_DRAIN_DEFAULT };
	char			 why[256];
	int			 listen_set = 0, i;
	pid_t			 pid;

	parse_args(&tp, argc, argv, &listen_set);
	set_level(&tp);
	find_listeners(&tp);
	log_init(tp.helper.debug || tp.mode == MODE_STANDALONE, LOG_DAEMON);
	log_setverbose(tp.level);
	if (tp.mode != MODE_STANDALONE && listen_set)
		log_warnx("-l and -p do not apply: the socket was given");
	if (geteuid() != 0)
		fatalx("need root privileges");
	if (fe_check(TFTP_PROXY_USER, why, sizeof(why)) == -1)
		fatalx("%s", why);
	if (tp.mode == MODE_STANDALONE && tp.nlisten == 0)
		listen_standalone(&tp);
	for (i = 0; i < tp.nlisten; i++)
		if (sock_setup(tp.listen_fd[i]) == -1)
			fatal("listening socket (fd %d)", tp.listen_fd[i]);
	signal(SIGPIPE, SIG_IGN);
	if (tp.mode != MODE_INETD) {
		tp.drain_on_exit = 0;
		if (setenv(MODE_ENV, tp.mode == MODE_ACTIVATED ?
		    "activated" : "standalone", 1) == -1)
			fatal("setenv");
		parent_run(&ops, argv, tp.listen_fd, tp.nlisten);
	}
	(void)start_pfhelper(0, 0, &pid, &tp);
	tp.conf.hosts = fe_hosts_open();
	fe_drop(TFTP_PROXY_USER);
	run(&tp);
	request_end_all(tp.reqs);
	pfh_stop(&tp.pfh);
	log_debug("exiting");
	return (0);
}

static void
run(struct tftp_proxy *tp)
{
	fe_loop_init(&tp->loop, tp->listen_fd, tp->nlisten, listen_cb, tp,
	    &tp->pfh, pfh_gone, sig_end, tp);
	fe_hosts(&tp->loop, tp->conf.hosts);
	tp->evbase = tp->loop.base;
	if (tp->worker != NULL) {
		fe_loop_nohup(&tp->loop);
		pfh_keep(&tp->pfh, tp->pfh_wait, worker_pfh_down,
		    worker_refused);
		worker_attach(tp->worker, tp->evbase, worker_drain,
		    worker_pfh_new, worker_orphan, tp);
	}
	tp->reqs = request_new(&tp->conf, &tp->pfh, tp->evbase,
	    &tp_net_sock, clock_mono);
	evtimer_assign(&tp->idle_ev, tp->evbase, idle_cb, tp);
	idle_arm(tp, IDLE_EXIT);
	if (sandbox_enter(SANDBOX_NET) == -1)
		fatal("seccomp");
	tp->drain_on_exit = 0;
	log_info("serving %d socket%s (%s), transwait %u s", tp->nlisten,
	    tp->nlisten == 1 ? "" : "s", tp->mode == MODE_INETD ? "inetd" :
	    tp->mode == MODE_ACTIVATED ? "socket activation" : "standalone",
	    tp->conf.transwait);
	if (tp->worker != NULL)
		worker_ready(tp->worker);
	event_base_dispatch(tp->evbase);
}

static void
listen_cb(int fd, short ev, void *arg)
{
	struct tftp_proxy	*tp = arg;

	request_read(tp->reqs, fd);
	idle_arm(tp, IDLE_EXIT);
}

/* A standalone daemon never idles out, but when it drains. */
static void
idle_arm(struct tftp_proxy *tp, int secs)
{
	struct timeval	tv;

	if (tp->mode == MODE_STANDALONE && !tp->draining)
		return;
	tv.tv_sec = secs;
	tv.tv_usec = 0;
	evtimer_add(&tp->idle_ev, &tv);
}

static void
idle_cb(int fd, short ev, void *arg)
{
	struct tftp_proxy	*tp = arg;

	if (request_count(tp->reqs) > 0) {
		idle_arm(tp, 1);
		return;
	}
	if (tp->draining)
		log_info("drained: the last request ended");
	else
		log_debug("no request for %d seconds", IDLE_EXIT);
	event_base_loopexit(tp->evbase, NULL);
}

/*
 * pfhelper is gone (EOF) or broke the protocol, and under a parent no
 * new one came within -W: so are we.  Under a parent, the requests
 * that waited for it hear so (an ERROR each); from inetd they do not:
 * their clients' next try starts a new tftp-proxy.
 */
static void
pfh_gone(const char *why, void *arg)
{
	struct tftp_proxy	*tp = arg;

	if (tp->worker != NULL)
		request_abandon(tp->reqs, why);
	fatalx("pfhelper went away: %s", why);
}

static void
sig_end(int sig, short ev, void *arg)
{
	struct tftp_proxy	*tp = arg;

	log_info("%s: ending", strsignal(sig));
	event_base_loopexit(tp->evbase, NULL);
}
