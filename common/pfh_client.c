/*
 * pfh_client.c: start pfhelper and talk to it.
 */
#include "compat.h"

#include <sys/socket.h>
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "pfh_client.h"

static __dead void
child(int fd, const char *path, char *const argv[])
{
	if (fd != PFH_FD) {
		if (dup2(fd, PFH_FD) == -1)
			_exit(127);
		close(fd);
	} else if (fcntl(fd, F_SETFD, 0) == -1)
		_exit(127);
	/* The privileged helper gets its peer and stdio, nothing else. */
	closefrom(PFH_FD + 1);
	execv(path, argv);
	fprintf(stderr, "cannot execute %s: %s\n", path, strerror(errno));
	_exit(127);
}

/* A reply to a pfh_send() request: drop it, noting a refusal. */
static int
discard(struct pfh_client *c, struct imsg *imsg)
{
	struct pfh_reply	r;

	if (c->pending == 0) {
		imsg_free(imsg);
		errno = EBADMSG;
		return (-1);
	}
	c->pending--;
	if (proto_recv_reply(imsg, &r) == 0 && r.error != 0)
		log_debug("pfhelper refused request %u: %s",
		    imsg_get_id(imsg), r.reason);
	imsg_free(imsg);
	return (0);
}

/* Wait for a message with this id, dropping pending replies before it. */
static int
wait_reply(struct pfh_client *c, uint32_t id, struct imsg *imsg)
{
	struct pollfd	pfd;
	ssize_t		n;
	int		rc;

	for (;;) {
		if ((n = imsg_get(&c->ibuf, imsg)) == -1)
			return (-1);
		if (n > 0) {
			if (imsg_get_id(imsg) == id)
				return (0);
			if (discard(c, imsg) == -1)
				return (-1);
			continue;
		}
		pfd.fd = c->ibuf.fd;
		pfd.events = POLLIN;
		rc = poll(&pfd, 1, PFH_REPLY_TIMEOUT_MS);
		if (rc == -1 && errno == EINTR)
			continue;
		if (rc == 0)
			errno = ETIMEDOUT;
		if (rc <= 0)
			return (-1);
		if ((rc = imsgbuf_read(&c->ibuf)) == -1)
			return (-1);
		if (rc == 0) {
			errno = EPIPE;
			return (-1);
		}
	}
}

int
pfh_start(struct pfh_client *c, const char *path, char *const argv[],
    uint32_t role)
{
	struct pfh_hello	h = { PFH_PROTO_VERSION, role };
	struct imsg		imsg;
	int			sv[2];

	memset(c, 0, sizeof(c[0]));
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
		return (-1);
	switch (c->pid = fork()) {
	case -1:
		close(sv[0]);
		close(sv[1]);
		return (-1);
	case 0:
		close(sv[0]);
		child(sv[1], path, argv);
	}
	close(sv[1]);
	/*
	 * Non-blocking: an event loop may find the socket readable after a
	 * synchronous request has already read what was there.  Waits are
	 * done with poll(2).
	 */
	if (fcntl(sv[0], F_SETFL, O_NONBLOCK) == -1 ||
	    imsgbuf_init(&c->ibuf, sv[0]) == -1 ||
	    proto_send_hello(&c->ibuf, 0, &h) == -1 ||
	    imsgbuf_flush(&c->ibuf) == -1 || wait_reply(c, 0, &imsg) == -1)
		goto fail;
	if (proto_recv_hello(&imsg, &h) == -1 ||
	    h.version != PFH_PROTO_VERSION) {
		imsg_free(&imsg);
		errno = EPROTO;
		goto fail;
	}
	imsg_free(&imsg);
	return (0);
 fail:
	pfh_stop(c);
	return (-1);
}

int
pfh_request(struct pfh_client *c, uint32_t type, const void *data,
    size_t len, struct pfh_reply *r)
{
	struct imsg	imsg;
	uint32_t	id;

	memset(r, 0, sizeof(*r));
	if (++c->reqid == 0)
		c->reqid = 1;
	id = c->reqid;
	if (imsg_compose(&c->ibuf, type, id, 0, -1, data, len) == -1 ||
	    imsgbuf_flush(&c->ibuf) == -1 || wait_reply(c, id, &imsg) == -1)
		return (-1);
	if (proto_recv_reply(&imsg, r) == -1) {
		imsg_free(&imsg);
		errno = EBADMSG;
		return (-1);
	}
	imsg_free(&imsg);
	if (r->error != 0) {
		errno = r->error;
		return (-1);
	}
	return (0);
}

int
pfh_send(struct pfh_client *c, uint32_t type, const void *data, size_t len)
{
	if (++c->reqid == 0)
		c->reqid = 1;
	if (imsg_compose(&c->ibuf, type, c->reqid, 0, -1, data, len) == -1 ||
	    imsgbuf_flush(&c->ibuf) == -1)
		return (-1);
	c->pending++;
	return (0);
}

int
pfh_drain(struct pfh_client *c)
{
	struct imsg	imsg;
	ssize_t		n;

	if ((n = imsgbuf_read(&c->ibuf)) == -1)
		return (-1);
	if (n == 0) {
		errno = EPIPE;
		return (-1);
	}
	while ((n = imsg_get(&c->ibuf, &imsg)) > 0)
		if (discard(c, &imsg) == -1)
			return (-1);
	return (n == -1 ? -1 : 0);
}

/* Before closing: read the replies still owed, for a second at most. */
static void
settle(struct pfh_client *c)
{
	struct pollfd	pfd;
	int		i;

	for (i = 0; i < 10 && c->pending > 0; i++) {
		pfd.fd = c->ibuf.fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		if (pfh_drain(c) == -1)
			break;
	}
}

int
pfh_fatal_errno(int e)
{
	return (e == EPIPE || e == ETIMEDOUT || e == EBADMSG ||
	    e == ECONNRESET || e == EPROTO);
}

void
pfh_stop(struct pfh_client *c)
{
	int	status;

	if (c->ibuf.fd > 0) {
		settle(c);
		imsgbuf_clear(&c->ibuf);
		close(c->ibuf.fd);
		c->ibuf.fd = -1;
	}
	if (c->pid > 0) {
		/* pfhelper exits when its peer closes; reap it. */
		if (waitpid(c->pid, &status, 0) == -1 && errno != ECHILD)
			log_warn("waitpid pfhelper");
		c->pid = 0;
	}
}

int
pfh_spawn_try(struct pfh_client *c, uint32_t role, const char *table,
    int debug, int level, const char *const extra[])
{
	const char	*path = getenv("PFHELPER");
	const char	*argv[16];
	char		 lvl[8];
	int		 n = 0;

	if (path == NULL || *path == '\0')
		path = PFHELPER_PATH;
	snprintf(lvl, sizeof(lvl), "%d", level);
	argv[n++] = "pfhelper";
	argv[n++] = "-t";
	argv[n++] = table;
	argv[n++] = "-D";
	argv[n++] = lvl;
	if (debug)
		argv[n++] = "-d";
	while (extra != NULL && *extra != NULL && n < (int)nitems(argv) - 1)
		argv[n++] = *extra++;
	argv[n] = NULL;
	/* execv(3) takes char *const []; nothing writes to these. */
	return (pfh_start(c, path, (char *const *)(uintptr_t)argv, role));
}

void
pfh_spawn(struct pfh_client *c, uint32_t role, const char *table, int debug,
    int level, const char *const extra[])
{
	const char	*path = getenv("PFHELPER");

	if (pfh_spawn_try(c, role, table, debug, level, extra) == -1)
		err(1, "cannot start pfhelper (%s)", path != NULL &&
		    *path != '\0' ? path : PFHELPER_PATH);
}

uint32_t
opt_num(const char *s, long long min, long long max, const char *what)
{
	const char	*errstr;
	long long	 v;

	v = strtonum(s, min, max, &errstr);
	if (errstr != NULL)
		errx(1, "%s is %s: %s", what, errstr, s);
	return ((uint32_t)v);
}
