/* SPDX-License-Identifier: ISC */
/*
 * notify_test: notify_ready() sends systemd's readiness message to the
 * datagram socket named by NOTIFY_SOCKET, unsets the variable, and does
 * nothing without it.  The socket is ours, in a temporary directory.
 */
#include "compat.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <err.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "notify.h"

/* What arrives on fd within 1 s, NUL terminated; -1 if nothing. */
static ssize_t
receive(int fd, char *buf, size_t len)
{
	struct pollfd	pfd = { fd, POLLIN, 0 };
	ssize_t		n;

	if (poll(&pfd, 1, 1000) != 1)
		return (-1);
	if ((n = recv(fd, buf, len - 1, 0)) == -1)
		return (-1);
	buf[n] = '\0';
	return (n);
}

int
main(void)
{
	struct sockaddr_un	sun;
	char			dir[] = "/tmp/notify_test.XXXXXX", buf[512];
	int			fd;

	if (mkdtemp(dir) == NULL)
		err(1, "mkdtemp");
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/notify", dir);
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		err(1, "notify socket");

	unsetenv("NOTIFY_SOCKET");
	notify_ready("nothing");
	check(receive(fd, buf, sizeof(buf)) == -1,
	    "without NOTIFY_SOCKET nothing is sent");

	setenv("NOTIFY_SOCKET", sun.sun_path, 1);
	notify_ready("listening");
	check(receive(fd, buf, sizeof(buf)) > 0 &&
	    strcmp(buf, "READY=1\nSTATUS=listening") == 0,
	    "READY=1 and the status arrive");
	check(getenv("NOTIFY_SOCKET") == NULL, "NOTIFY_SOCKET is unset");
	notify_ready("again");
	check(receive(fd, buf, sizeof(buf)) == -1, "a second call sends nothing");

	close(fd);
	unlink(sun.sun_path);
	rmdir(dir);
	return (check_summary());
}
