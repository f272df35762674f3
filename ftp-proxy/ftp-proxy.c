/* SPDX-License-Identifier: ISC */
/*
 * ftp-proxy: an FTP proxy for nftables, after OpenBSD's ftp-proxy(8).
 * Starts as root and listens; then a privileged parent (common/parent.c)
 * connects to the pfhelper service (or spawns a pfhelper of its own)
 * and hands both to a worker, which chroots and drops to the
 * unprivileged user before it reads a byte from the network.
 */
#include "compat.h"

#include <sys/resource.h>
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

#include "addr.h"
#include "classify.h"
#include "frontend.h"
#include "helper.h"
#include "log.h"
#include "listen.h"
#include "parent.h"
#include "proxy.h"
#include "sandbox.h"

#define FD_RESERVE	32	/* descriptors beside the sessions' */

/* The process: main's, lent to the parent and the worker (ops.arg). */
struct ftp_proc {
	struct proxy_conf	 conf;
	struct helper_opts	 helper;
	int			 listen_fd[FE_MAX_LISTEN];
	int			 nlisten;
	uint32_t		 drain;		/* -w */
	uint32_t		 pfh_wait;	/* -W */
	int			 level;		/* -D */
	/* In the worker: */
	struct fe_worker	*me;
	struct pfh_client	 pfh;
	struct fe_loop		 loop;
	struct ftp_ctx		 ctx;		/* its sessions */
};

static __dead void
usage(void)
{
	extern char	*__progname;

	fprintf(stderr, "usage: %s [-46AdrSv] [-a address] [-b address] "
	    "[-D level] [-E low-high]\n"
	    "\t[-I port] [-M maxperhost] [-m maxsessions] [-P port] [-p port] "
	    "[-q queue]\n\t[-R address] [-s dir] [-T tag] [-t timeout] "
	    "[-W wait] [-w drain]\n", __progname);
	exit(1);
}

static void
resolve(const char *host, uint16_t port, int family,
    struct sockaddr_storage *ss, socklen_t *len, const char *what)
{
	struct addrinfo	hints, *res;
	char		portstr[8];
	int		e;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(portstr, sizeof(portstr), "%u", port);
	if ((e = getaddrinfo(host, portstr, &hints, &res)) != 0)
		errx(1, "%s %s: %s", what, host, gai_strerror(e));
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
}

/*
 * End every session and leave; closing pfhelper's channel (pfh_stop)
 * ends them there too, with their permits and the table.
 */
static void
sig_end(int sig, short ev, void *arg)
{
	struct ftp_proc	*p = arg;

	log_info("%s: ending all sessions", strsignal(sig));
	session_end_all(&p->ctx);
	event_base_loopexit(p->loop.base, NULL);
}


/*
 * -R: every address of host (of -4/-6's family) is a server of its
 * own; several -R add up.  Duplicates count once.
 */
static void
add_servers(struct proxy_conf *conf, const char *host, uint16_t port)
{
	struct addrinfo	 hints, *res, *ai;
	struct pfh_addr	 a;
	uint16_t	 p;
	char		 portstr[8];
	int		 e;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = conf->family;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(portstr, sizeof(portstr), "%u", port);
	if ((e = getaddrinfo(host, portstr, &hints, &res)) != 0)
		errx(1, "server address %s: %s", host, gai_strerror(e));
	for (ai = res; ai != NULL; ai = ai->ai_next)
		if (addr_from_sa(ai->ai_addr, &a, &p) == 0 &&
		    backend_add(&conf->backends, &a, p) == -1)
			errx(1, "-R: at most %d servers", BACKEND_MAX);
	freeaddrinfo(res);
}

/* The options that only set a number or flag: 1 if ch was one of them. */
static int
conf_option(struct ftp_proc *p, int ch, const char *arg)
{
	struct proxy_conf	*conf = &p->conf;
	uint32_t		 prio;
	int			 label;

	switch (ch) {
	case 'A':
		conf->anon_only = 1;
		return (1);
	case 'b':
		conf->listen_addr = arg;
		return (1);
	case 'E':
		if (proto_range_parse(arg, &conf->tls_lo, &conf->tls_hi) == -1)
			errx(1, "-E: the server data ports of TLS sessions, "
			    "low-high, from %d: %s", PFH_DATA_PORT_MIN, arg);
		return (1);
	case 'I':
		conf->tls_port = opt_num(arg, 1, 65535, "port");
		return (1);
	case 'M':
		conf->max_per_host = opt_num(arg, 1, FTP_MAX_SESSIONS,
		    "max sessions per host");
		return (1);
	case 'm':
		conf->max_sessions = opt_num(arg, 1, FTP_MAX_SESSIONS,
		    "max sessions");
		return (1);
	case 'p':
		conf->listen_port = opt_num(arg, 1, 65535, "port");
		return (1);
	case 'q':
		if (tc_class_parse(arg, &prio) == -1)
			errx(1, "-q: a tc class major:minor in hex, "
			    "such as 1:10: %s", arg);
		conf->queue = arg;
		return (1);
	case 'r':
		conf->port20 = 1;
		return (1);
	case 'T':
		if (ct_label_parse(arg, &label) == -1)
			errx(1, "-T: a ct label bit, 0 to %d: %s",
			    CT_LABEL_MAX, arg);
		conf->tag = arg;
		return (1);
	case 't':
		conf->idle_timeout = opt_num(arg, 1, FTP_IDLE_MAX, "timeout");
		return (1);
	case 'v':
		conf->verbose = 1;
		return (1);
	case 'W':
		p->pfh_wait = opt_num(arg, 0, PFH_TIMEOUT_MAX, "pfhelper wait");
		return (1);
	case 'w':
		p->drain = opt_num(arg, 0, FE_DRAIN_MAX, "drain time");
		return (1);
	}
	return (0);
}

static void
parse_args(struct ftp_proc *p, int argc, char *argv[])
{
	struct proxy_conf	*conf = &p->conf;
	const char		*rhosts[BACKEND_MAX], *saddr = NULL;
	int			 nr = 0, ch;
	uint16_t		 rport = FTP_PORT;

	while ((ch = getopt(argc, argv,
	    "46Aa:b:D:dE:I:M:m:P:p:q:R:rSs:T:t:vW:w:")) !=
	    -1) {
		if (helper_option(&p->helper, ch, optarg) ||
		    conf_option(p, ch, optarg))
			continue;
		switch (ch) {
		case 'a':
			saddr = optarg;
			break;
		case 'D':
			p->level = opt_num(optarg, LOG_EMERG, LOG_DEBUG,
			    "log level");
			break;
		case 'P':
			rport = opt_num(optarg, 1, 65535, "port");
			break;
		case 'R':
			if (nr == BACKEND_MAX)
				errx(1, "-R: at most %d servers", BACKEND_MAX);
			rhosts[nr++] = optarg;
			conf->reverse = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	conf->family = p->helper.family;
	for (ch = 0; ch < nr; ch++)
		add_servers(conf, rhosts[ch], rport);
	if (conf->reverse && conf->backends.n == 0)
		errx(1, "-R: no server address of the family asked for");
	if (conf->tls_port != 0 && (!conf->reverse || conf->tls_lo == 0 ||
	    conf->tls_port == conf->listen_port))
		errx(1, "-I: implicit FTP over TLS needs -R and -E, "
		    "on a port other than -p's");
	if (saddr != NULL)
		resolve(saddr, 0, conf->family, &conf->src, &conf->srclen,
		    "source address");
}

/* -I: the sockets of implicit FTP over TLS, beside -p's. */
static void
implicit_listen(struct ftp_proc *p)
{
	const struct proxy_conf	*conf = &p->conf;
	int			 n;

	n = net_listen(conf->listen_addr, conf->tls_port, conf->family,
	    SOCK_STREAM, p->listen_fd + p->nlisten,
	    FE_MAX_LISTEN - p->nlisten);
	if (n <= 0)
		fatalx("cannot listen on port %u (-I)", conf->tls_port);
	p->nlisten += n;
}

/*
 * Each session holds two descriptors.  Raise the limit for -m while we
 * are root (seccomp refuses setrlimit later), or lower -m to fit.
 */
static void
fd_limit(struct proxy_conf *conf)
{
	struct rlimit	rl;
	rlim_t		want = 2 * (rlim_t)conf->max_sessions + FD_RESERVE;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		err(1, "getrlimit");
	if (rl.rlim_cur >= want)
		return;
	if (rl.rlim_max < want) {
		struct rlimit	up = { want, want };

		if (setrlimit(RLIMIT_NOFILE, &up) == 0)
			return;
	}
	rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
		err(1, "setrlimit");
	if (rl.rlim_cur < want) {
		if (rl.rlim_cur < FD_RESERVE + 2)
			errx(1, "only %llu descriptors, need %d at least",
			    (unsigned long long)rl.rlim_cur, FD_RESERVE + 2);
		conf->max_sessions = (rl.rlim_cur - FD_RESERVE) / 2;
		warnx("only %llu descriptors: at most %u sessions",
		    (unsigned long long)rl.rlim_cur, conf->max_sessions);
	}
}

/*
 * Our pfhelper, told what we are: our -m, the -R servers it holds us
 * to (or else the destination), -v, -T and -q, which its pass chain
 * carries out, and -E, the range its range permits' rules check
 * (ftp-proxy(8)).  In the parent, as root, for each worker: its
 * channel's fd (parent.h).
 */
static int
open_pfhelper(int table, int soft, pid_t *pid, void *arg)
{
	struct ftp_proc		*p = arg;
	const struct proxy_conf	*conf = &p->conf;
	struct pfh_hello	*h = &p->helper.hello;
	uint32_t		 prio;
	unsigned int		 i;
	int			 label;

	h->max_sessions = conf->max_sessions;
	if (conf->verbose)
		h->flags |= PFH_H_LOG;
	/* All of -R's servers are on one port (-P). */
	for (i = 0; conf->reverse && i < conf->backends.n; i++) {
		h->rserver[i] = conf->backends.b[i].addr;
		h->rport = conf->backends.b[i].port;
	}
	h->nrserver = conf->backends.n;
	if (conf->tag != NULL && ct_label_parse(conf->tag, &label) == 0)
		h->label = label + 1;
	if (conf->queue != NULL && tc_class_parse(conf->queue, &prio) == 0)
		h->prio = prio;
	h->tls_lo = conf->tls_lo;
	h->tls_hi = conf->tls_hi;
	p->helper.level = p->level;
	return (helper_fd(&p->helper, table, soft, pid));
}

/*
 * -M is a hard cap, at most -m; without it (0) a host's share applies
 * only under pressure (hostlimit.h).
 */
static void
per_host_limit(struct proxy_conf *conf)
{
	if (conf->max_per_host > conf->max_sessions)
		conf->max_per_host = conf->max_sessions;
}

/* The old worker's end: stop accepting, finish the sessions. */
static void
worker_drain(uint32_t secs, void *arg)
{
	struct ftp_proc	*p = arg;

	log_info("draining: no new session, at most %u s for %u live",
	    secs, session_count(&p->ctx));
	fe_loop_close(&p->loop);
	session_drain(&p->ctx, secs);
}

/* pfhelper went away: ask the parent for another (pfh_keep). */
static void
worker_pfh_down(void *arg)
{
	struct ftp_proc	*p = arg;

	worker_pfh_lost(p->me);
}

static void
worker_pfh_new(int fd, void *arg)
{
	struct ftp_proc	*p = arg;

	if (pfh_reopen(&p->pfh, fd) == -1)
		log_warnx("a new pfhelper channel nobody waits for");
}

/* The parent ends us, or is gone: end every session and exit. */
static void
worker_orphan(void *arg)
{
	sig_end(SIGTERM, 0, arg);
}

/* pfh_attach's lost and pfh_keep's refused, with the process as arg. */
static void
worker_lost(const char *why, void *arg)
{
	struct ftp_proc	*p = arg;

	pfh_lost(why, &p->ctx);
}

static void
worker_refused(uint32_t sid, const char *why, void *arg)
{
	struct ftp_proc	*p = arg;

	session_refused(sid, why, &p->ctx);
}

/* The worker's sessions: the system's sockets, pfhelper's channel. */
static void
worker_ctx(struct ftp_proc *p)
{
	struct ftp_ctx	*ctx = &p->ctx;

	ctx->conf = &p->conf;
	ctx->evbase = p->loop.base;
	ctx->pfh = &ftp_pfh_client;
	ctx->pfh_arg = &p->pfh;
	ctx->net = &ftp_net_sys;
	ctx->clock = clock_mono;
	session_init(ctx);
}

/* Unprivileged and confined: accept sessions until a signal ends us. */
static void
worker(struct fe_worker *w, void *arg)
{
	struct ftp_proc	*p = arg;

	if (worker_start(w) == -1)
		fatalx("nothing to serve from the parent");
	if (pfh_open(&p->pfh, w->pfhfd) == -1)
		fatal("pfhelper channel");
	p->conf.hosts = fe_hosts_open();	/* before the sandbox */
	fe_loop_init(&p->loop, w->lfd, w->nlisten, session_accept, &p->ctx,
	    &p->pfh, worker_lost, sig_end, p);
	fe_loop_nohup(&p->loop);
	fe_hosts(&p->loop, p->conf.hosts);
	p->me = w;
	pfh_keep(&p->pfh, p->pfh_wait, worker_pfh_down, worker_refused);
	worker_attach(w, p->loop.base, worker_drain, worker_pfh_new,
	    worker_orphan, p);
	worker_ctx(p);
	log_info("listening on port %u%s", p->conf.listen_port,
	    p->conf.reverse ? " (reverse mode)" : "");
	if (sandbox_enter(SANDBOX_NET) == -1)
		fatal("seccomp");
	worker_ready(w);
	event_base_dispatch(p->loop.base);
	pfh_stop(&p->pfh);
	log_info("exiting");
	exit(0);
}

int
main(int argc, char *argv[])
{
	struct ftp_proc		 proc;
	struct fe_parent_ops	 ops = { FTP_PROXY_USER, open_pfhelper,
	    worker, &proc, 0 };
	struct ftp_proc		*p = &proc;
	char			 why[256];

	memset(p, 0, sizeof(*p));
	p->helper.role = PFH_ROLE_FTP;
	p->drain = FE_DRAIN_DEFAULT;
	p->pfh_wait = FTP_PFH_WAIT;
	p->level = LOG_NOTICE;
	/* Nothing inherited leaks on, but a reload's listeners. */
	if ((p->nlisten = parent_listeners(p->listen_fd, FE_MAX_LISTEN)) == 0)
		closefrom(STDERR_FILENO + 1);
	p->conf.family = AF_UNSPEC;
	p->conf.listen_port = FTP_LISTEN_PORT;
	p->conf.max_sessions = FTP_SESSIONS_DEFAULT;
	p->conf.idle_timeout = FTP_IDLE_MAX;
	parse_args(p, argc, argv);
	if (geteuid() != 0)
		errx(1, "need root privileges");
	if (fe_check(FTP_PROXY_USER, why, sizeof(why)) == -1)
		errx(1, "%s", why);
	fd_limit(&p->conf);
	per_host_limit(&p->conf);
	log_init(p->helper.debug, LOG_DAEMON);
	log_setverbose(p->level);
	if (p->nlisten == 0) {
		p->nlisten = net_listen(p->conf.listen_addr,
		    p->conf.listen_port, p->conf.family, SOCK_STREAM,
		    p->listen_fd, FE_MAX_LISTEN);
		if (p->nlisten <= 0)
			fatalx("cannot listen on port %u",
			    p->conf.listen_port);
		if (p->conf.tls_port != 0)
			implicit_listen(p);
		if (!p->helper.debug && daemon(0, 0) == -1)
			err(1, "daemon");
	}
	signal(SIGPIPE, SIG_IGN);
	ops.drain = p->drain;
	parent_run(&ops, argv, p->listen_fd, p->nlisten);
}
