/* SPDX-License-Identifier: ISC */
/*
 * sandbox.h: the network processes' seccomp allow-list.
 */
#ifndef SANDBOX_H
#define SANDBOX_H

#define SANDBOX_NET	1	/* ftp-proxy, tftp-proxy: new IP sockets */
#define SANDBOX_HELPER	2	/* pfhelper: no new socket */
#define SANDBOX_PARENT	3	/* a front end's parent: see sandbox.c */

/*
 * Enter the seccomp filter: the calls these processes make after their
 * privilege drop, and nothing else.  socket(2): SANDBOX_NET may create
 * AF_INET and AF_INET6 sockets, AF_UNIX fails with EACCES; SANDBOX_HELPER
 * gets EACCES for every socket.  Anything else, or another
 * architecture, kills the process.  0, or -1 with errno.
 */
int	sandbox_enter(int kind);

#endif /* SANDBOX_H */
