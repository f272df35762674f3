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

static struct tp_conf	 conf;
static struct pfh_client pfh;
static struct helper_opts helper = { .role = PFH_ROLE_TFTP };
static struct event_base *evbase;
static struct fe_loop	 loop;
static struct event	 idle_ev;
static int		 listen_fd[FE_MAX_LISTEN];
static int		 nlisten;
static enum tp_mode	 mode;
static int		 drain_on_exit;
static int		 level = LOG_NOTICE;
static int		 draining;

static __dead void	 usage(void);
static void		 parse_args(int, char *[], int *);
static void		 source_addr(const char *);
static void		 reverse_server(const char *);
static void		 find_listeners(void);
static int		 start_pfhelper(int, int, pid_t *, void *);
static void		 drain(void);
static void		 run(struct fe_worker *);
static void		 listen_cb(int, short, void *);
static void		 idle_arm(int);
static void		 idle_cb(int, short, void *);
static void		 pfh_gone(const char *, void *);
static void		 sig_end(int, short, void *);

static __dead void
usage(void)
{
	extern char	*__progname;

	fprintf(stderr, "usage: %s [-46dSv] [-a address] [-l address] "
	    "[-m maxsessions] [-p port]\n\t[-R server] [-s dir] "
	    "[-w transwait]\n", __progname);
	exit(1);
}

/* -a: at most one source address per family. */
static void
source_addr(const char *s)
{
	struct pfh_addr	a;

	if (addr_parse(s, &a) == -1)
		errx(1, "-a needs a numeric address: %s", s);
	if (a.af == AF_INET) {
		if (conf.src4len != 0)
			errx(1, "-a: one IPv4 address only");
		addr_to_sa(&a, 0, &conf.src4, &conf.src4len);
	} else {
		if (conf.src6len != 0)
			errx(1, "-a: one IPv6 address only");
		addr_to_sa(&a, 0, &conf.src6, &conf.src6len);
	}
}

/*
 * -R: the TFTP server behind us (reverse mode), a name or an address;
 * repeated, or a name with both, for one server per family.
 */
static void
reverse_server(const char *host)
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
		r = a.af == AF_INET6 ? &conf.rserver6 : &conf.rserver4;
		if (r->af == 0)
			*r = a;
	}
	freeaddrinfo(res);
	conf.reverse = 1;
}

static void
parse_args(int argc, char *argv[], int *listen_set)
{
	int		 ch;

	while ((ch = getopt(argc, argv, "46a:dl:m:p:R:Ss:vw:")) != -1) {
		if (helper_option(&helper, ch, optarg))
			continue;
		switch (ch) {
		case 'a':
			source_addr(optarg);
			break;
		case 'l':
			conf.listen_addr = optarg;
			*listen_set = 1;
			break;
		case 'm':
			conf.max_sessions = opt_num(optarg, 1,
			    TP_SESSIONS_MAX, "max sessions");
			break;
		case 'p':
			conf.listen_port = opt_num(optarg, 1, 65535, "port");
			*listen_set = 1;
			break;
		case 'R':
			reverse_server(optarg);
			break;
		case 'v':
			conf.verbose++;
			break;
		case 'w':
			conf.transwait = opt_num(optarg, 1, TP_TRANSWAIT_MAX,
			    "transwait");
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	conf.family = helper.family;
}

/*
 * Who gave us our socket: socket activation, inetd (a UDP socket on
 * fd 0), or nobody (standalone: made later, after the checks).
 */
static void
find_listeners(void)
{
	const char	*m;
	int		 fd;

	/* A reload: the parent's listeners, and the mode they came in. */
	if ((nlisten = parent_listeners(listen_fd, FE_MAX_LISTEN)) > 0) {
		m = getenv(MODE_ENV);
		mode = m != NULL && strcmp(m, "activated") == 0 ?
		    MODE_ACTIVATED : MODE_STANDALONE;
		return;
	}
	if ((nlisten = sock_activated(listen_fd, FE_MAX_LISTEN)) == -1)
		errx(1, "bad socket activation (LISTEN_FDS)");
	if (nlisten > 0)
		mode = MODE_ACTIVATED;
	else if ((fd = sock_inetd()) != -1) {
		mode = MODE_INETD;
		listen_fd[nlisten++] = fd;
	} else
		mode = MODE_STANDALONE;
	if (mode != MODE_STANDALONE) {
		drain_on_exit = 1;
		atexit(drain);
	}
}

/*
 * Should we die before serving a socket we were given: discard what is
 * queued, or inetd (or systemd) would start us again at once for the
 * same datagrams.
 */
static void
drain(void)
{
	char	buf[16];
	int	i, n;

	if (!drain_on_exit)
		return;
	for (i = 0; i < nlisten; i++)
		for (n = 0; n < 1024; n++)
			if (recv(listen_fd[i], buf, sizeof(buf),
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
	struct pfh_hello	*h = &helper.hello;

	/* -R: one server per family, on port 69. */
	h->nrserver = 0;
	if (conf.rserver4.af != 0)
		h->rserver[h->nrserver++] = conf.rserver4;
	if (conf.rserver6.af != 0)
		h->rserver[h->nrserver++] = conf.rserver6;
	if (h->nrserver != 0)
		h->rport = TFTP_PORT;
	if (mode == MODE_INETD)
		helper.hello.flags |= PFH_H_MANY;
	helper.level = level;
	if (mode == MODE_INETD) {
		helper_open(&pfh, &helper);
		return (0);
	}
	return (helper_fd(&helper, table, soft, pid));
}

/* An old worker after a reload: leave once the last request ends. */
static void
worker_drain(uint32_t secs, void *arg)
{
	log_info("draining: no new request, %u live", request_count());
	fe_loop_close(&loop);
	draining = 1;
	idle_arm(0);
}

/* The parent ends us, or is gone. */
static void
worker_orphan(void *arg)
{
	sig_end(SIGTERM, 0, NULL);
}

static void
worker_pfh_new(int fd, void *arg)
{
	close(fd);
}

/* Standalone or activated: the worker, chrooted and unprivileged. */
static void
worker(struct fe_worker *w, void *arg)
{
	int	i;

	if (worker_start(w) == -1)
		fatalx("nothing to serve from the parent");
	if (pfh_open(&pfh, w->pfhfd) == -1)
		fatal("pfhelper channel");
	conf.hosts = fe_hosts_open();	/* before the sandbox */
	for (i = 0; i < w->nlisten; i++)
		listen_fd[i] = w->lfd[i];
	nlisten = w->nlisten;
	run(w);
	request_end_all();
	pfh_stop(&pfh);
	log_debug("exiting");
	exit(0);
}

int
main(int argc, char *argv[])
{
	struct fe_parent_ops	 ops = { TFTP_PROXY_USER, start_pfhelper,
	    worker, NULL, FE_DRAIN_DEFAULT };
	char			 why[256];
	int			 debug, listen_set = 0, i;
	pid_t			 pid;

	conf.family = AF_UNSPEC;
	conf.listen_port = TP_PORT_DEFAULT;
	conf.transwait = TP_TRANSWAIT_DEFAULT;
	conf.max_sessions = TP_SESSIONS_DEFAULT;
	parse_args(argc, argv, &listen_set);
	debug = helper.debug;
	/* -d logs each request to stderr, as -v does to syslog. */
	if (debug || conf.verbose)
		level = conf.verbose > 1 ? LOG_DEBUG : LOG_INFO;
	if (debug && conf.verbose == 0)
		conf.verbose = 1;

	find_listeners();
	log_init(debug || mode == MODE_STANDALONE, LOG_DAEMON);
	log_setverbose(level);
	if (mode != MODE_STANDALONE && listen_set)
		log_warnx("-l and -p do not apply: the socket was given");
	if (geteuid() != 0)
		fatalx("need root privileges");
	if (fe_check(TFTP_PROXY_USER, why, sizeof(why)) == -1)
		fatalx("%s", why);
	if (mode == MODE_STANDALONE && nlisten == 0) {
		if ((nlisten = net_listen(conf.listen_addr, conf.listen_port,
		    conf.family, SOCK_DGRAM, listen_fd, FE_MAX_LISTEN)) <= 0)
			fatalx("cannot listen on port %u", conf.listen_port);
		if (!debug) {
			if (daemon(0, 0) == -1)
				fatal("daemon");
			log_init(0, LOG_DAEMON);
		}
	}
	for (i = 0; i < nlisten; i++)
		if (sock_setup(listen_fd[i]) == -1)
			fatal("listening socket (fd %d)", listen_fd[i]);
	signal(SIGPIPE, SIG_IGN);
	if (mode != MODE_INETD) {
		drain_on_exit = 0;
		if (setenv(MODE_ENV, mode == MODE_ACTIVATED ? "activated" :
		    "standalone", 1) == -1)
			fatal("setenv");
		parent_run(&ops, argv, listen_fd, nlisten);
	}
	(void)start_pfhelper(0, 0, &pid, NULL);
	conf.hosts = fe_hosts_open();
	fe_drop(TFTP_PROXY_USER);
	run(NULL);
	request_end_all();
	pfh_stop(&pfh);
	log_debug("exiting");
	return (0);
}

static void
run(struct fe_worker *w)
{
	fe_loop_init(&loop, listen_fd, nlisten, listen_cb, &pfh, pfh_gone,
	    sig_end);
	fe_hosts(&loop, conf.hosts);
	evbase = loop.base;
	if (w != NULL) {
		fe_loop_nohup(&loop);
		worker_attach(w, evbase, worker_drain, worker_pfh_new,
		    worker_orphan, NULL);
	}
	request_init(&conf, &pfh, evbase);
	evtimer_assign(&idle_ev, evbase, idle_cb, NULL);
	idle_arm(IDLE_EXIT);
	if (sandbox_enter(SANDBOX_NET) == -1)
		fatal("seccomp");
	drain_on_exit = 0;
	log_info("serving %d socket%s (%s), transwait %u s", nlisten,
	    nlisten == 1 ? "" : "s", mode == MODE_INETD ? "inetd" :
	    mode == MODE_ACTIVATED ? "socket activation" : "standalone",
	    conf.transwait);
	if (w != NULL)
		worker_ready(w);
	event_base_dispatch(evbase);
}

static void
listen_cb(int fd, short ev, void *arg)
{
	request_read(fd);
	idle_arm(IDLE_EXIT);
}

/* A standalone daemon never idles out, but when it drains. */
static void
idle_arm(int secs)
{
	struct timeval	tv;

	if (mode == MODE_STANDALONE && !draining)
		return;
	tv.tv_sec = secs;
	tv.tv_usec = 0;
	evtimer_add(&idle_ev, &tv);
}

static void
idle_cb(int fd, short ev, void *arg)
{
	if (request_count() > 0) {
		idle_arm(1);
		return;
	}
	if (draining)
		log_info("drained: the last request ended");
	else
		log_debug("no request for %d seconds", IDLE_EXIT);
	event_base_loopexit(evbase, NULL);
}

/* pfhelper is gone (EOF) or broke the protocol: so are we. */
static void
pfh_gone(const char *why, void *arg)
{
	fatalx("pfhelper went away: %s", why);
}

static void
sig_end(int sig, short ev, void *arg)
{
	log_info("%s: ending", strsignal(sig));
	event_base_loopexit(evbase, NULL);
}
