/* SPDX-License-Identifier: ISC */
/*
 * privdrop_test: as root, a forked child drops privileges; the parent
 * reads what the kernel says about it (/proc/PID/status and root) and
 * what the child reports, and checks each against the expectation.
 */
#include "compat.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "privdrop.h"

/* Value of a "Key:\tvalue" line of /proc/PID/status, or "". */
static void
status_field(pid_t pid, const char *key, char *out, size_t outlen)
{
	char	 path[64], line[256];
	FILE	*f;
	size_t	 klen = strlen(key);

	out[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
			line[strcspn(line, "\n")] = '\0';
			strlcpy(out, line + klen + 1 + strspn(line + klen + 1,
			    " \t"), outlen);
			break;
		}
	}
	fclose(f);
}

struct report {
	uid_t	ruid, euid, suid;
	gid_t	rgid, egid, sgid;
	int	rc;
	int	setuid0;	/* setuid(0) after the drop: must fail */
	int	ngroups;
	char	why[256];
};

static void
child(int wfd, const char *dir, uint64_t keep)
{
	struct report	r;
	char		c;

	memset(&r, 0, sizeof(r));
	r.rc = privdrop("proxy", dir, keep, r.why, sizeof(r.why));
	getresuid(&r.ruid, &r.euid, &r.suid);
	getresgid(&r.rgid, &r.egid, &r.sgid);
	r.ngroups = getgroups(0, NULL);
	r.setuid0 = setuid(0);
	if (write(wfd, &r, sizeof(r)) != sizeof(r))
		_exit(2);
	/* Wait until the parent has looked at us. */
	(void)read(wfd, &c, 1);
	_exit(0);
}

static void
run_drop(const char *dir, uint64_t keep, const char *capeff)
{
	struct passwd	*pw = getpwnam("proxy");
	struct report	 r;
	char		 buf[128], path[64], root[PATH_MAX];
	int		 sv[2], status;
	ssize_t		 n;
	pid_t		 pid;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		err(1, "socketpair");
	if ((pid = fork()) == -1)
		err(1, "fork");
	if (pid == 0) {
		close(sv[0]);
		child(sv[1], dir, keep);
	}
	close(sv[1]);
	n = read(sv[0], &r, sizeof(r));
	check(n == sizeof(r), "child report");
	check(r.rc == 0, r.why);
	check(pw != NULL && r.ruid == pw->pw_uid && r.euid == pw->pw_uid &&
	    r.suid == pw->pw_uid, "real/effective/saved uid are proxy's");
	check(pw != NULL && r.rgid == pw->pw_gid && r.egid == pw->pw_gid &&
	    r.sgid == pw->pw_gid, "real/effective/saved gid are proxy's");
	check(r.ngroups == 1, "exactly one supplementary group");
	check(r.setuid0 == -1, "setuid(0) fails after the drop");
	snprintf(path, sizeof(path), "/proc/%d/root", (int)pid);
	n = readlink(path, root, sizeof(root) - 1);
	root[n > 0 ? n : 0] = '\0';
	check(strcmp(root, dir) == 0, "root directory is the chroot");
	status_field(pid, "NoNewPrivs", buf, sizeof(buf));
	check(strcmp(buf, "1") == 0, "no_new_privs is set");
	status_field(pid, "CapEff", buf, sizeof(buf));
	check(strcmp(buf, capeff) == 0, "effective capabilities");
	status_field(pid, "CapPrm", buf, sizeof(buf));
	check(strcmp(buf, capeff) == 0, "permitted capabilities");
	status_field(pid, "CapBnd", buf, sizeof(buf));
	check(strcmp(buf, capeff) == 0, "bounding set");
	(void)write(sv[0], "x", 1);
	waitpid(pid, &status, 0);
	check(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child exit");
	close(sv[0]);
}

static void
run_refusals(const char *dir)
{
	char	why[256], bad[PATH_MAX];

	check(privdrop_check("no-such-user-xyz", dir, why, sizeof(why)) == -1
	    && strstr(why, "unknown user") != NULL, "missing user refused");
	snprintf(bad, sizeof(bad), "%s/writable", dir);
	if (mkdir(bad, 0777) == -1 || chmod(bad, 0777) == -1)
		err(1, "mkdir %s", bad);
	check(privdrop_check("proxy", bad, why, sizeof(why)) == -1 &&
	    strstr(why, "not writable") != NULL, "writable dir refused");
	rmdir(bad);
	snprintf(bad, sizeof(bad), "%s/missing", dir);
	check(privdrop_check("proxy", bad, why, sizeof(why)) == -1,
	    "missing dir refused");
	check(privdrop_check("proxy", dir, why, sizeof(why)) == 0,
	    "good dir accepted");
}

int
main(void)
{
	char	dir[] = "/tmp/privdrop.XXXXXX";

	if (geteuid() != 0) {
		check(0, "privdrop_test: needs root");
		return (check_summary());
	}
	if (mkdtemp(dir) == NULL || chmod(dir, 0755) == -1)
		err(1, "mkdtemp");
	run_refusals(dir);
	run_drop(dir, PRIVDROP_KEEP_NONE, "0000000000000000");
	/* CAP_NET_ADMIN is bit 12. */
	run_drop(dir, 1ULL << 12, "0000000000001000");
	rmdir(dir);
	return (check_summary());
}
