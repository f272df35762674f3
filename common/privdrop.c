/* SPDX-License-Identifier: ISC */
/*
 * privdrop.c: chroot to an empty directory, become the unprivileged user,
 * keep at most the capabilities asked for, and set no_new_privs.
 */
#include "compat.h"

#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <linux/capability.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "privdrop.h"

static int	caps_set(uint64_t);
static int	caps_bound(uint64_t);

int
privdrop_mkdir(const char *dir)
{
	if (mkdir(dir, 0755) == -1 && errno != EEXIST)
		return (-1);
	return (0);
}

int
privdrop_check(const char *user, const char *dir, char *why, size_t whylen)
{
	struct stat	 st;

	if (getpwnam(user) == NULL) {
		snprintf(why, whylen, "unknown user %s", user);
		return (-1);
	}
	if (stat(dir, &st) == -1) {
		snprintf(why, whylen, "chroot directory %s: %s", dir,
		    strerror(errno));
		return (-1);
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(why, whylen, "%s is not a directory", dir);
		return (-1);
	}
	if (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		snprintf(why, whylen, "chroot directory %s must be owned by "
		    "root and not writable by group or others", dir);
		return (-1);
	}
	return (0);
}

/* Drop every capability outside keep from the bounding set. */
static int
caps_bound(uint64_t keep)
{
	int	cap;

	for (cap = 0; cap <= 63; cap++) {
		if (keep & (1ULL << cap))
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == -1) {
			if (errno == EINVAL)	/* past the kernel's last */
				break;
			return (-1);
		}
	}
	return (0);
}

/* Permitted = effective = keep; inheritable and ambient empty. */
static int
caps_set(uint64_t keep)
{
	struct __user_cap_header_struct	hdr;
	struct __user_cap_data_struct	data[2];

	memset(&hdr, 0, sizeof(hdr));
	memset(data, 0, sizeof(data));
	hdr.version = _LINUX_CAPABILITY_VERSION_3;
	hdr.pid = 0;
	data[0].effective = data[0].permitted = (uint32_t)keep;
	data[1].effective = data[1].permitted = (uint32_t)(keep >> 32);
	if (syscall(SYS_capset, &hdr, data) == -1)
		return (-1);
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == -1 &&
	    errno != EINVAL)
		return (-1);
	return (0);
}

int
privdrop(const char *user, const char *dir, uint64_t keep, char *why,
    size_t whylen)
{
	struct passwd	*pw;
	const char	*step;

	if (privdrop_check(user, dir, why, whylen) == -1) {
		errno = EPERM;
		return (-1);
	}
	pw = getpwnam(user);
	step = "chroot";
	if (chroot(dir) == -1)
		goto fail;
	step = "chdir";
	if (chdir("/") == -1)
		goto fail;
	step = "bounding set";
	if (caps_bound(keep) == -1)
		goto fail;
	step = "keepcaps";
	if (keep != 0 && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) == -1)
		goto fail;
	step = "setgroups";
	if (setgroups(1, &pw->pw_gid) == -1)
		goto fail;
	step = "setresgid";
	if (setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) == -1)
		goto fail;
	step = "setresuid";
	if (setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1)
		goto fail;
	step = "capabilities";
	if (caps_set(keep) == -1)
		goto fail;
	step = "keepcaps off";
	if (keep != 0 && prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) == -1)
		goto fail;
	step = "no_new_privs";
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		goto fail;
	return (0);
 fail:
	snprintf(why, whylen, "privilege drop (%s): %s", step,
	    strerror(errno));
	return (-1);
}
