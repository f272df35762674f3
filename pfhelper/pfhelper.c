/*
 * pfhelper: the privileged broker.  A front end (ftp-proxy, tftp-proxy)
 * starts it with a socketpair on fd 3; pfhelper creates its nftables
 * table, drops everything but CAP_NET_ADMIN, serves that one peer and
 * exits when the peer goes away, taking the table with it.
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
#include "localaddr.h"
#include "log.h"
#include "pfh_client.h"
#include "pfhelper.h"
#include "privdrop.h"
#include "sandbox.h"

#define CAP_NET_ADMIN_BIT	12

static __dead void	usage(void);
static void		confine_users(struct filter_conf *);

static __dead void
usage(void)
{
	extern char	*__progname;

	fprintf(stderr, "usage: %s [-Cdnv] [-D level] [-M mark] "
	    "[-m maxsessions] [-P port] [-p maxpermits]\n"
	    "\t[-q class] [-R address] [-r rate] [-T label] [-t table] "
	    "[-u user]\n", __progname);
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

int
main(int argc, char *argv[])
{
	struct pfh_conf	 conf;
	struct stat	 st;
	const char	*user = PFHELPER_USER;
	char		 why[256];
	int		 ch, debug = 0, describe = 0, level = LOG_NOTICE;

	memset(&conf, 0, sizeof(conf));
	strlcpy(conf.filter.table, "ftp-proxy", sizeof(conf.filter.table));
	conf.filter.mark = FILTER_MARK_DEFAULT;
	conf.max_sessions = PFH_DEF_MAX_SESSIONS;
	conf.max_permits = PFH_DEF_MAX_PERMITS;
	conf.rate = PFH_DEF_RATE;
	conf.ct_verify = 1;

	while ((ch = getopt(argc, argv, "CdD:M:m:nP:p:q:R:r:T:t:u:v")) != -1) {
		switch (ch) {
		case 'C':
			conf.ct_verify = 0;
			break;
		case 'd':
			debug = 1;
			break;
		case 'D':
			level = opt_num(optarg, LOG_EMERG, LOG_DEBUG, "log level");
			break;
		case 'M':
			conf.filter.mark = mark(optarg);
			break;
		case 'm':
			conf.max_sessions = opt_num(optarg, 1, 1000000,
			    "max sessions");
			break;
		case 'n':
			describe = 1;
			break;
		case 'P':
			conf.rport = opt_num(optarg, 1, 65535, "port");
			break;
		case 'q':
			if (tc_class_parse(optarg, &conf.filter.prio) == -1)
				errx(1, "class must be major:minor in hex, "
				    "as tc writes it: %s", optarg);
			break;
		case 'R':
			if (validate_rserver_add(&conf, optarg) == -1)
				errx(1, "bad server address list: %s", optarg);
			break;
		case 'p':
			conf.max_permits = opt_num(optarg, 1, 1024, "max permits");
			break;
		case 'r':
			conf.rate = opt_num(optarg, 0, 10000000, "rate");
			break;
		case 'T':
			if (ct_label_parse(optarg, &conf.filter.label) == -1)
				errx(1, "label must be a ct label bit, 0 to "
				    "%d: %s", CT_LABEL_MAX, optarg);
			conf.filter.use_label = 1;
			break;
		case 't':
			if (strlen(optarg) == 0 || strlcpy(conf.filter.table,
			    optarg, sizeof(conf.filter.table)) >=
			    sizeof(conf.filter.table) ||
			    strspn(optarg, "abcdefghijklmnopqrstuvwxyz"
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") !=
			    strlen(optarg))
				errx(1, "bad table name: %s", optarg);
			break;
		case 'u':
			user = optarg;
			break;
		case 'v':
			conf.filter.log = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (conf.nrserver != 0 && conf.rport == 0)
		conf.rport = 21;

	confine_users(&conf.filter);
	if (describe) {
		filter_describe(stdout, &conf.filter);
		return (0);
	}
	if (fstat(PFH_FD, &st) == -1 || !S_ISSOCK(st.st_mode))
		errx(1, "no peer on fd %d: pfhelper is started by ftp-proxy "
		    "or tftp-proxy", PFH_FD);
	if (geteuid() != 0)
		errx(1, "must be started as root");

	log_init(debug, LOG_DAEMON);
	log_setverbose(level);
	log_procinit("pfhelper");
	signal(SIGPIPE, SIG_IGN);
	/*
	 * Leave the front end's process group: a ^C at its terminal is for
	 * the front end, which then closes the socket and we follow.
	 */
	(void)setsid();
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);

	if (filter_init(&conf.filter) == -1)
		fatal("cannot create table inet %s", conf.filter.table);
	if (conf.filter.nconfine == 0)
		log_warnx("no user %s or %s: the front ends may reach this "
		    "host's own addresses", FTP_PROXY_USER, TFTP_PROXY_USER);
	/* Every socket pfhelper uses exists before the sandbox. */
	if (ct_init() == -1)
		fatal("conntrack netlink socket");
	if (localaddr_init() == -1)
		fatal("/proc/net: this host's addresses");
	if (privdrop(user, PROXY_CHROOT, 1ULL << CAP_NET_ADMIN_BIT, why,
	    sizeof(why)) == -1)
		fatalx("%s", why);
	if (sandbox_enter(SANDBOX_HELPER) == -1)
		fatal("seccomp");
	log_info("serving table inet %s", conf.filter.table);

	if (pfh_serve(PFH_FD, &conf) == -1)
		log_warnx("peer dropped; removing the table");
	filter_close();
	return (0);
}
