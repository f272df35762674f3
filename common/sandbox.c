/* SPDX-License-Identifier: ISC */
/*
 * sandbox.c: the seccomp allow-list of ftp-proxy, tftp-proxy and
 * pfhelper, in the manner of OpenSSH's sandbox-seccomp-filter.c:
 * architecture checked, default kill, and only the calls a chrooted,
 * unprivileged process needs to relay sockets, talk to its peer over
 * imsg or netlink, and log.
 */
#include "compat.h"

#include <sys/socket.h>

#include <errno.h>
#include <stddef.h>
#include <unistd.h>

#include <seccomp.h>

#include "log.h"
#include "sandbox.h"

static const char *const allowed[] = {
	/* memory */
	"brk", "mmap", "munmap", "mremap", "mprotect", "madvise",
	/* descriptors and sockets */
	"read", "readv", "write", "writev", "close", "fcntl", "ioctl",
	"bind", "connect", "listen", "accept", "accept4",
	"getsockname", "getpeername", "getsockopt", "setsockopt",
	"sendto", "recvfrom", "sendmsg", "recvmsg", "shutdown",
	"fstat", "newfstatat", "statx", "lseek",
	/* event loop */
	"epoll_create", "epoll_create1", "epoll_ctl", "epoll_wait",
	"epoll_pwait", "epoll_pwait2", "poll", "ppoll", "select",
	"pselect6",
	/* time, randomness, identity */
	"clock_gettime", "clock_getres", "gettimeofday", "time",
	"nanosleep", "clock_nanosleep", "getrandom", "getpid", "gettid",
	"getuid", "geteuid", "getgid", "getegid",
	/* signals, threads' plumbing in libc, exit */
	"rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "sigreturn",
	"futex", "sched_yield", "restart_syscall", "sigaltstack",
	"wait4", "exit", "exit_group",
};

/*
 * socket(2): the front ends create IP sockets only.  A new AF_UNIX
 * socket (an abstract or filesystem socket of the firewall's own
 * services) fails with EACCES rather than killing: syslog(3) reopens
 * /dev/log that way after an error.  Anything that needs one (the
 * libc syslog's first socket, sd_notify) must open it before
 * sandbox_enter().  pfhelper creates no socket at all: its netlink
 * sockets (filter, conntrack, and the address list of hostaddr.c,
 * opened without CAP_NET_ADMIN in effect so that it cannot change
 * routes or addresses) and its peer exist before; socket() fails with
 * EACCES.  Any other domain kills.  Signals go to self only.
 */
static int
add_narrow(scmp_filter_ctx ctx, int kind)
{
	static const int	net[] = { AF_INET, AF_INET6 };
	size_t			i;
	int			rc;

	if (kind == SANDBOX_HELPER)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES),
		    SCMP_SYS(socket), 0);
	else {
		for (i = 0, rc = 0; i < nitems(net) && rc == 0; i++)
			rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW,
			    SCMP_SYS(socket), 1, SCMP_A0(SCMP_CMP_EQ,
			    (scmp_datum_t)net[i]));
		if (rc == 0)
			rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES),
			    SCMP_SYS(socket), 1, SCMP_A0(SCMP_CMP_EQ,
			    (scmp_datum_t)AF_UNIX));
	}
	if (rc != 0)
		return (rc);
	if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
	    SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid()))) != 0)
		return (rc);
	return (0);
}

int
sandbox_enter(int kind)
{
	scmp_filter_ctx	ctx;
	size_t		i;
	int		nr, rc;

	if ((ctx = seccomp_init(SCMP_ACT_KILL_PROCESS)) == NULL) {
		errno = ENOMEM;
		return (-1);
	}
	/* A foreign architecture's calls are killed, not reinterpreted. */
	if ((rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
	    SCMP_ACT_KILL_PROCESS)) != 0)
		goto fail;
	for (i = 0; i < nitems(allowed); i++) {
		nr = seccomp_syscall_resolve_name(allowed[i]);
		if (nr == __NR_SCMP_ERROR)
			continue;	/* not on this architecture */
		if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0)) != 0)
			goto fail;
	}
	if ((rc = add_narrow(ctx, kind)) != 0 ||
	    (rc = seccomp_load(ctx)) != 0)
		goto fail;
	seccomp_release(ctx);
	return (0);
 fail:
	seccomp_release(ctx);
	errno = -rc;
	return (-1);
}
