/* SPDX-License-Identifier: ISC */
/*
 * notify.c: readiness for systemd's Type=notify, through libsystemd's
 * sd_notify(3).  Outside systemd (NOTIFY_SOCKET unset: inetd, a shell,
 * the tests) it does nothing.
 *
 * sd_notify() opens an AF_UNIX datagram socket and sends to the path in
 * NOTIFY_SOCKET, usually /run/systemd/notify: call it while still root
 * and before the chroot, which hides that path.
 */
#include "compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-daemon.h>

#include "log.h"
#include "notify.h"

void
notify_ready(const char *status)
{
	char	msg[256];
	int	rc;

	if (getenv("NOTIFY_SOCKET") == NULL)
		return;
	snprintf(msg, sizeof(msg), "READY=1\nSTATUS=%s", status);
	/* 1: unset NOTIFY_SOCKET, so nothing started later inherits it. */
	if ((rc = sd_notify(1, msg)) < 0)
		log_warnx("sd_notify: %s", strerror(-rc));
}
