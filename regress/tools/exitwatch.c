/* SPDX-License-Identifier: ISC */
/*
 * exitwatch: run a program and record how it and every process it
 * leaves behind ended, for tests that must tell a clean exit from a
 * kill by seccomp (SIGSYS) in processes whose parent is not the test:
 * pfhelper is ftp-proxy's child, a daemon is init's.
 *
 *	EXITWATCH_PROG=/path/to/prog EXITWATCH_FILE=/path/to/log \
 *	    exitwatch [args ...]
 *
 * Becomes a child subreaper, forks, execs EXITWATCH_PROG with
 * exitwatch's own argv (argv[0] included, so that it can stand in for a
 * program started by path, as $PFHELPER is), descriptors untouched,
 * and waits for every descendant that ends up its child (the program,
 * and whatever the program's own children outlive their parent, such
 * as a daemon(3) child or the pfhelper of a killed ftp-proxy).  For
 * each it appends one line to EXITWATCH_FILE:
 *	<pid> exit <status>
 *	<pid> signal <number> SIG<NAME>
 * and at the end exits as the program did (its status, or 128 +
 * signal).  SIGHUP, SIGINT and SIGTERM are passed on to the program
 * while it runs.
 *
 * One exitwatch may stand in for another's program's child: the
 * program gets EXITWATCH_NEXT_PROG and EXITWATCH_NEXT_FILE, if set, as
 * its EXITWATCH_PROG and EXITWATCH_FILE (else neither).
 */
#include "compat.h"

#include <sys/prctl.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t	child;

static void
pass_on(int sig)
{
	if (child > 0)
		kill(child, sig);
}

static int
record(const char *file, pid_t pid, int status)
{
	const char	*name;
	char		 line[128];
	int		 fd, n;

	if (WIFSIGNALED(status)) {
		name = sigabbrev_np(WTERMSIG(status));
		n = snprintf(line, sizeof(line), "%ld signal %d SIG%s\n",
		    (long)pid, WTERMSIG(status), name ? name : "?");
	} else
		n = snprintf(line, sizeof(line), "%ld exit %d\n", (long)pid,
		    WEXITSTATUS(status));
	if ((fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0644)) == -1 || n <= 0 || write(fd, line, (size_t)n) != n) {
		fprintf(stderr, "exitwatch: %s: %s\n", file, strerror(errno));
		if (fd != -1)
			close(fd);
		return (-1);
	}
	close(fd);
	return (0);
}

/* In the child: the next level's variables become ours. */
static int
next_env(void)
{
	const char	*np = getenv("EXITWATCH_NEXT_PROG");
	const char	*nf = getenv("EXITWATCH_NEXT_FILE");

	if (np != NULL && nf != NULL)
		return (setenv("EXITWATCH_PROG", np, 1) == -1 ||
		    setenv("EXITWATCH_FILE", nf, 1) == -1 ||
		    unsetenv("EXITWATCH_NEXT_PROG") == -1 ||
		    unsetenv("EXITWATCH_NEXT_FILE") == -1 ? -1 : 0);
	return (unsetenv("EXITWATCH_PROG") == -1 ||
	    unsetenv("EXITWATCH_FILE") == -1 ? -1 : 0);
}

int
main(int argc, char *argv[])
{
	char		*prog = getenv("EXITWATCH_PROG");
	char		*file = getenv("EXITWATCH_FILE");
	pid_t		 pid, p;
	int		 status, rc = 127, st;

	if (argc < 1 || prog == NULL || file == NULL) {
		fprintf(stderr, "exitwatch: set EXITWATCH_PROG and "
		    "EXITWATCH_FILE\n");
		return (127);
	}
	/* Our own copies: the child rewrites the variables. */
	if ((prog = strdup(prog)) == NULL || (file = strdup(file)) == NULL)
		return (127);
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == -1) {
		fprintf(stderr, "exitwatch: subreaper: %s\n", strerror(errno));
		return (127);
	}
	switch (pid = fork()) {
	case -1:
		fprintf(stderr, "exitwatch: fork: %s\n", strerror(errno));
		return (127);
	case 0:
		if (next_env() == -1)
			_exit(127);
		execv(prog, argv);
		fprintf(stderr, "exitwatch: %s: %s\n", prog, strerror(errno));
		_exit(127);
	}
	child = pid;
	signal(SIGHUP, pass_on);
	signal(SIGINT, pass_on);
	signal(SIGTERM, pass_on);
	/* Hold no descriptor of the program's: its peers see it alone. */
	closefrom(3);
	for (;;) {
		if ((p = waitpid(-1, &status, 0)) == -1) {
			if (errno == EINTR)
				continue;
			break;		/* ECHILD: all gone */
		}
		if (record(file, p, status) == -1)
			st = 127;
		else
			st = WIFSIGNALED(status) ? 128 + WTERMSIG(status) :
			    WEXITSTATUS(status);
		if (p == pid) {
			child = 0;
			rc = st;
		}
	}
	free(prog);
	free(file);
	return (rc);
}
