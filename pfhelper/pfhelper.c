/* SPDX-License-Identifier: ISC */
/*
 * pfhelper: the privileged broker.  Either a front end (ftp-proxy,
 * tftp-proxy) starts it with a socketpair on fd 3: pfhelper creates the
 * nftables table of the role the front end names in its HELLO, drops
 * everything but CAP_NET_ADMIN, serves that one peer and exits when the
 * peer goes away, taking the table with it.  Or it runs as a standing
 * service (-S, service.c) that owns every role's table and serves any
 * number of front ends over UNIX sockets.  -l prints a service's
 * status.
 */
#include "compat.h"

#include <sys/stat.h>

#include <err.h>
#include <pwd.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "addr.h"
#include "classify.h"
#include "ct.h"
#include "hostaddr.h"
#include "log.h"
#include "notify.h"
#include "pfh_client.h"
#include "pfhelper.h"
#include "privdrop.h"
#include "sandbox.h"

#define CAP_NET_ADMIN_BIT	12

static __dead void	usage(void);
static void		confine_users(struct filter_conf *);
struct opts {
	const char	*user;		/* -u */
	const char	*dir;		/* -s */
	int		 list;		/* -l */
	int		 describe;	/* -n */
	int		 debug;		/* -d */
	int		 level;		/* -D */
};

static void		start(struct pfh_conf *, const char *, int);
static struct ct	*confine(struct pfh_conf *, const char *);
static struct peer	*spawned(struct svc *);
static int		opt_limits(int, struct pfh_conf *);
static int		opt_table(int, struct filter_conf *);
static int		opt_run(int, struct pfh_conf *, struct opts *);

static __dead void
usage(void)
{
	extern char	*__progname;

	fprintf(stderr, "usage: %s [-CdnSv] [-c share] [-D level] "
	    "[-E low-high] [-M mark]\n\t[-m maxsessions] [-P port] "
	    "[-p maxpermits] [-q class] [-R address]\n\t[-r rate] "
	    "[-s dir] [-T label] [-t table] [-u user] [-W width]\n"
	    "       %s -l [-s dir]\n", __progname, __progname);
	exit(1);
}


static uint32_t
mark(const char *s)
{
	char		*end;
	unsigned long	 v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno != 0 || *end != '\0' || v == 0 || v > UINT32_MAX)
		errx(1, "mark must be a nonzero 32-bit value: %s", s);
	return ((uint32_t)v);
}

/* The front ends' uids, for the table's confine chain (filter.h). */
static void
confine_users(struct filter_conf *fc)
{
	static const char *const users[] = { FTP_PROXY_USER,
	    TFTP_PROXY_USER };
	struct passwd	*pw;
	size_t		 i;

	for (i = 0; i < nitems(users) && fc->nconfine < FILTER_CONFINE_MAX;
	    i++)
		if ((pw = getpwnam(users[i])) != NULL && pw->pw_uid != 0)
			fc->confine_uid[fc->nconfine++] = pw->pw_uid;
}

/* Both modes, as root: the chroot, logging, signals. */
static void
start(struct pfh_conf *conf, const char *user, int debug)
{
	char	why[256];

	/* The service makes its chroot, as the front ends do theirs. */
	why[0] = '\0';
	if (conf->service && (privdrop_mkdir(PROXY_CHROOT) == -1 ||
	    privdrop_check(user, PROXY_CHROOT, why, sizeof(why)) == -1))
		errx(1, "%s", *why ? why : "cannot create " PROXY_CHROOT);
	log_init(debug, LOG_DAEMON);
	log_procinit("pfhelper");
	signal(SIGPIPE, SIG_IGN);
	if (conf->service) {
		if (!debug && daemon(0, 0) == -1)
			fatal("daemon");
		return;
	}
	/*
	 * Leave the front end's process group: a ^C at its terminal is for
	 * the front end, which then closes the socket and we follow.
	 */
	(void)setsid();
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
}

/*
 * A spawned pfhelper's one peer, with its HELLO handled (and with it
 * the table made) while we are still root.  A peer dropped before that
 * is gone as any dropped peer (exit 0); no table is a failure to start.
 */
static struct peer *
spawned(struct svc *v)
{
	struct peer	*c;

	if ((c = peer_new(v, PFH_FD, 0, getppid())) == NULL)
		fatal("peer");
	if (peer_run(c, 1) == -1 || !peer_hello_done(c)) {
		if (peer_notable(c))
			fatalx("no table, no service");
		log_warnx("peer dropped before its HELLO was done");
		exit(0);
	}
	return (c);
}

/*
 * The tables (and the service's sockets) are up: open what else we
 * need, tell systemd, then chroot, drop to user with CAP_NET_ADMIN only
 * and enter the sandbox, which lets us create no socket.
 */
static struct ct *
confine(struct pfh_conf *conf, const char *user)
{
	struct ct	*ct;
	char		 why[256];

	if (conf->filter.nconfine == 0)
		log_warnx("no user %s or %s: the front ends may reach this "
		    "host's own addresses", FTP_PROXY_USER, TFTP_PROXY_USER);
	if ((ct = ct_open()) == NULL)
		fatal("conntrack netlink socket");
	if ((conf->hosts = hostaddr_open()) == NULL)
		fatal("this host's addresses (rtnetlink)");
	/* The chroot hides systemd's socket. */
	if (conf->service)
		notify_ready("serving");
	if (privdrop(user, PROXY_CHROOT, 1ULL << CAP_NET_ADMIN_BIT, why,
	    sizeof(why)) == -1)
		fatalx("%s", why);
	if (sandbox_enter(SANDBOX_HELPER) == -1)
		fatal("seccomp");
	return (ct);
}

/* -C, -c, -m, -P, -p, -R, -r, -W: what peers may ask for.  0: not one. */
static int
opt_limits(int ch, struct pfh_conf *cp)
{
	switch (ch) {
	case 'C':
		cp->ct_verify = 0;
		break;
	case 'c':
		cp->share = opt_num(optarg, 1, 100, "share");
		cp->share_hard = 1;
		break;
	case 'm':
		cp->max_sessions = opt_num(optarg, 1, 1000000, "max sessions");
		break;
	case 'P':
		cp->rs.port = opt_num(optarg, 1, 65535, "port");
		break;
	case 'p':
		cp->max_permits = opt_num(optarg, 1, 1024, "max permits");
		break;
	case 'R':
		if (validate_rserver_add(&cp->rs, optarg) == -1)
			errx(1, "bad server address list: %s", optarg);
		break;
	case 'r':
		cp->rate = opt_num(optarg, 0, 10000000, "rate");
		break;
	case 'W':
		cp->range_width = opt_num(optarg, 1, PFH_RANGE_WIDTH_MAX,
		    "range width");
		break;
	default:
		return (0);
	}
	return (1);
}

/* -E, -M, -q, -T, -t, -v: the table.  0: not one of them. */
static int
opt_table(int ch, struct filter_conf *fc)
{
	switch (ch) {
	case 'E':
		if (proto_range_parse(optarg, &fc->tls_lo, &fc->tls_hi) == -1)
			errx(1, "-E: a range of ports low-high, from %d: %s",
			    PFH_DATA_PORT_MIN, optarg);
		break;
	case 'M':
		fc->mark = mark(optarg);
		break;
	case 'q':
		if (tc_class_parse(optarg, &fc->prio) == -1)
			errx(1, "class must be major:minor in hex, "
			    "as tc writes it: %s", optarg);
		break;
	case 'T':
		if (ct_label_parse(optarg, &fc->label) == -1)
			errx(1, "label must be a ct label bit, 0 to "
			    "%d: %s", CT_LABEL_MAX, optarg);
		fc->use_label = 1;
		break;
	case 't':
		if (strlen(optarg) == 0 || strlcpy(fc->table, optarg,
		    sizeof(fc->table)) >= sizeof(fc->table) ||
		    strspn(optarg, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") !=
		    strlen(optarg))
			errx(1, "bad table name: %s", optarg);
		break;
	case 'v':
		fc->log = 1;
		break;
	default:
		return (0);
	}
	return (1);
}

/* -D, -d, -l, -n, -S, -s, -u: how pfhelper runs.  0: not one. */
static int
opt_run(int ch, struct pfh_conf *cp, struct opts *o)
{
	switch (ch) {
	case 'D':
		o->level = opt_num(optarg, LOG_EMERG, LOG_DEBUG, "log level");
		break;
	case 'd':
		o->debug = 1;
		break;
	case 'l':
		o->list = 1;
		break;
	case 'n':
		o->describe = 1;
		break;
	case 'S':
		cp->service = 1;
		break;
	case 's':
		o->dir = optarg;
		break;
	case 'u':
		o->user = optarg;
		break;
	default:
		return (0);
	}
	return (1);
}

/* The defaults, then the options, into conf and o. */
static void
parse_args(int argc, char *argv[], struct pfh_conf *cp, struct opts *o)
{
	int	ch;

	memset(cp, 0, sizeof(*cp));
	cp->filter.mark = FILTER_MARK_DEFAULT;
	cp->max_sessions = PFH_DEF_MAX_SESSIONS;
	cp->max_permits = PFH_DEF_MAX_PERMITS;
	cp->rate = PFH_DEF_RATE;
	cp->ct_verify = 1;
	while ((ch = getopt(argc, argv,
	    "Cc:dD:E:lM:m:nP:p:q:R:r:Ss:T:t:u:vW:")) != -1)
		if (!opt_limits(ch, cp) && !opt_table(ch, &cp->filter) &&
		    !opt_run(ch, cp, o))
			usage();
	if (optind != argc)
		usage();
}

int
main(int argc, char *argv[])
{
	struct pfh_conf	 conf;
	struct stat	 st;
	struct svc	*v;
	struct ct	*ct;
	struct peer	*peer = NULL;
	struct opts	 o = { PFHELPER_USER, PFH_SOCKDIR, 0, 0, 0,
			    LOG_NOTICE };
	int		 fds[PFH_NROLES + 1], rc;

	parse_args(argc, argv, &conf, &o);
	if (o.list) {
		if (service_status(o.dir) == -1)
			err(1, "%s/%s", o.dir, PFH_SOCK_CONTROL);
		return (0);
	}
	if (conf.service && (conf.filter.table[0] != '\0' ||
	    conf.rs.n != 0))
		errx(1, "-t and -R do not apply to -S: each role has its "
		    "table, each front end its -R");
	if (conf.share == 0)
		conf.share = conf.service ? PFH_DEF_SHARE : 100;

	confine_users(&conf.filter);
	if (o.describe) {
		if (conf.filter.table[0] == '\0')
			strlcpy(conf.filter.table, role_at(0)->table,
			    sizeof(conf.filter.table));
		filter_describe(stdout, &conf.filter);
		return (0);
	}
	if (!conf.service && (fstat(PFH_FD, &st) == -1 ||
	    !S_ISSOCK(st.st_mode)))
		errx(1, "no peer on fd %d: pfhelper is started by ftp-proxy "
		    "or tftp-proxy, or runs as a service with -S", PFH_FD);
	if (geteuid() != 0)
		errx(1, "must be started as root");

	start(&conf, o.user, o.debug);
	log_setverbose(o.level);
	if ((v = svc_new(&conf)) == NULL)
		fatal("svc_new");
	if (!conf.service)
		peer = spawned(v);
	else if (service_open(o.dir, fds) == -1)
		fatal("%s: cannot listen", o.dir);
	else if (svc_tables(v) == -1)
		fatalx("cannot create the tables");
	ct = confine(&conf, o.user);
	svc_ct(v, ct);

	if (conf.service)
		rc = service_run(v, fds);
	else if ((rc = spawned_run(peer)) == -1)
		log_warnx("peer dropped; removing the table");
	svc_free(v);		/* and its filter: the tables go */
	ct_close(ct);
	hostaddr_close(conf.hosts);
	return (conf.service && rc == -1 ? 1 : 0);
}
