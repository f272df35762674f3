/*
 * sandbox.h: the network processes' seccomp allow-list.
 */
#ifndef SANDBOX_H
#define SANDBOX_H

#define SANDBOX_NET	1	/* ftp-proxy, tftp-proxy: IP sockets */
#define SANDBOX_HELPER	2	/* pfhelper: netlink sockets */

/*
 * Enter the seccomp filter: the calls these processes make after their
 * privilege drop, and nothing else; socket(2) only for the domains of
 * kind.  Anything else, or another architecture, kills the process.
 * 0, or -1 with errno.
 */
int	sandbox_enter(int kind);

#endif /* SANDBOX_H */
