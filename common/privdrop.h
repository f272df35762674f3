/* SPDX-License-Identifier: ISC */
/*
 * privdrop.h: leave root for good.
 */
#ifndef PRIVDROP_H
#define PRIVDROP_H

#include <stdint.h>

/* Capability bits to keep across the drop (pfhelper: CAP_NET_ADMIN). */
#define PRIVDROP_KEEP_NONE	0ULL

/* Create dir (0755, root) if it does not exist.  0 or -1. */
int	privdrop_mkdir(const char *dir);
/*
 * Check that user exists and that dir is a directory owned by root and
 * not writable by group or others.  0, or -1 with a message in why.
 */
int	privdrop_check(const char *user, const char *dir, char *why,
	    size_t whylen);
/*
 * chroot(dir), chdir("/"), setgroups/setresgid/setresuid to user, keep
 * only the capabilities in keep (a mask of 1ULL << CAP_X), and set
 * no_new_privs.  0, or -1 with errno and a message in why.
 */
int	privdrop(const char *user, const char *dir, uint64_t keep,
	    char *why, size_t whylen);

#endif /* PRIVDROP_H */
