/* SPDX-License-Identifier: ISC */
/*
 * compat.h: included first by every source file.  Linux only; libbsd's
 * overlay (pkg-config libbsd-overlay) supplies strlcpy, strtonum,
 * setproctitle, vis, sys/queue.h and sys/tree.h.
 */
#ifndef COMPAT_H
#define COMPAT_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

/* vis(3): the OpenBSD strnvis() argument order. */
#define LIBBSD_OPENBSD_VIS	1

#include <sys/types.h>
#include <sys/cdefs.h>
#include <stdint.h>

#ifndef __dead
#define __dead		__attribute__((__noreturn__))
#endif

#ifndef __unused
#define __unused	__attribute__((__unused__))
#endif

#ifndef nitems
#define nitems(a)	(sizeof(a) / sizeof((a)[0]))
#endif

/*
 * System users, one per program: the front ends parse hostile input and
 * must not share a uid with the helper that keeps CAP_NET_ADMIN, nor
 * with other packages (Debian's "proxy" is squid's too).  Created by
 * scripts/users.sh, `make install' and the package.
 */
#define FTP_PROXY_USER	"_ftp-proxy"
#define TFTP_PROXY_USER	"_tftp-proxy"
#define PFHELPER_USER	"_pfhelper"
#define PROXY_CHROOT	"/var/empty"

#endif /* COMPAT_H */
