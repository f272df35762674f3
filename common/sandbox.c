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
 * A front end's privileged parent (parent.c) on top of the above: what
 * it does itself (fork workers, spawn pfhelper, connect to the
 * service, signal and reap its children, re-execute its binary), and
 * what its children do before their own filters, which stack on this
 * one: the worker's privilege drop, pfhelper's start (netlink sockets,
 * /proc/net, its drop keeping CAP_NET_ADMIN) and the re-executed
 * image's start (the dynamic loader, the user's lookup).  No mount,
 * ptrace, module, BPF, namespace or keyring call, none that writes a
 * file but the chroot's mkdir.
 */
static const char *const parent_allowed[] = {
	"openat", "open", "pread64", "access", "faccessat", "faccessat2",
	"readlink", "readlinkat", "getdents64", "mkdir", "mkdirat",
	"umask", "fstatfs", "statfs", "uname", "sysinfo", "getcwd",
	"execve", "clone", "clone3", "fork", "vfork", "kill", "tgkill",
	"waitid", "getppid", "setsid", "getpgrp", "setpgid",
	"socketpair", "pipe", "pipe2", "dup", "dup2", "dup3",
	"close_range", "prlimit64", "getrlimit", "setrlimit",
	"arch_prctl", "set_tid_address", "set_robust_list", "rseq",
	"sched_getaffinity", "getresuid", "getresgid",
	"chroot", "chdir", "fchdir", "setgroups", "setresuid",
	"setresgid", "setuid", "setgid", "capget", "capset", "prctl",
	"seccomp", "socket",
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

	if (kind == SANDBOX_PARENT)
		return (0);	/* in parent_allowed */
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
	for (i = 0; kind == SANDBOX_PARENT && i < nitems(parent_allowed);
	    i++) {
		nr = seccomp_syscall_resolve_name(parent_allowed[i]);
		if (nr == __NR_SCMP_ERROR)
			continue;
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
