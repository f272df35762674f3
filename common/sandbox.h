/*
 * sandbox.h: the network processes' seccomp allow-list.
 */
#ifndef SANDBOX_H
#define SANDBOX_H

/*
 * Enter the seccomp filter: the calls a libevent network process makes
 * after its privilege drop, and nothing else.  Anything else, or
 * another architecture, kills the process.  0, or -1 with errno.
 */
int	sandbox_enter(void);

#endif /* SANDBOX_H */
