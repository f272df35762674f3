/* SPDX-License-Identifier: ISC */
/*
 * pfh_client.c: start pfhelper and talk to it.
 */
#include "compat.h"

#include <sys/socket.h>
#include <sys/un.h>
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

static int	pfh_call(struct pfh_client *, struct pfh_calls *, uint32_t,
	    uint32_t, const void *, size_t, pfh_done, void *);

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

/*
 * A call waiting for its reply.  Cancelled calls stay until the reply
 * comes (it must still be matched), with no callback.
 */
struct pfh_call {
	RB_ENTRY(pfh_call)	 entry;
	TAILQ_ENTRY(pfh_call)	 owned;
	struct pfh_calls	*owner;
	uint32_t		 id;
	uint32_t		 type;
	uint32_t		 sid;
	pfh_done		 done;
	void			*arg;
	int			 end_on_ok;	/* cancelled SESSION_START */
};

static int
call_cmp(struct pfh_call *a, struct pfh_call *b)
{
	return (a->id < b->id ? -1 : a->id > b->id);
}

RB_GENERATE_STATIC(pfh_call_tree, pfh_call, entry, call_cmp)

/* Wait (start-up, tools) for the message with this id. */
static int
wait_reply(struct pfh_client *c, uint32_t id, struct imsg *imsg)
{
	struct imsgbuf	*ib = &c->iev.ibuf;
	struct pollfd	 pfd;
	ssize_t		 n;
	int		 rc;

	for (;;) {
		if ((n = imsg_get(ib, imsg)) == -1)
			return (-1);
		if (n > 0) {
			if (imsg_get_id(imsg) == id)
				return (0);
			imsg_free(imsg);
			errno = EBADMSG;
			return (-1);
		}
		pfd.fd = ib->fd;
		pfd.events = POLLIN;
		rc = poll(&pfd, 1, PFH_REPLY_TIMEOUT_MS);
		if (rc == -1 && errno == EINTR)
			continue;
		if (rc == 0)
			errno = ETIMEDOUT;
		if (rc <= 0)
			return (-1);
		if ((rc = imsgbuf_read(ib)) == -1)
			return (-1);
		if (rc == 0) {
			errno = EPIPE;
			return (-1);
		}
	}
}

int
pfh_open(struct pfh_client *c, int fd)
{
	memset(c, 0, sizeof(c[0]));
	RB_INIT(&c->calls);
	/* Non-blocking: the event loop reads and writes it later. */
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == -1 ||
	    imsgbuf_init(&c->iev.ibuf, fd) == -1)
		return (-1);
	return (0);
}

int
pfh_hello(struct pfh_client *c, uint32_t role)
{
	struct pfh_hello	h;

	memset(&h, 0, sizeof(h));
	h.role = role;
	return (pfh_hello_opts(c, &h));
}

int
pfh_hello_opts(struct pfh_client *c, const struct pfh_hello *opts)
{
	struct pfh_hello	h = *opts;
	struct pfh_reply	r;
	struct imsg		imsg;

	h.version = PFH_PROTO_VERSION;
	c->reason[0] = '\0';
	if (proto_send_hello(&c->iev.ibuf, 0, &h) == -1 ||
	    imsgbuf_flush(&c->iev.ibuf) == -1 ||
	    wait_reply(c, 0, &imsg) == -1)
		return (-1);
	if (imsg_get_type(&imsg) == PFH_ERR &&
	    proto_recv_reply(&imsg, &r) == 0 && r.error != 0) {
		imsg_free(&imsg);
		strlcpy(c->reason, r.reason, sizeof(c->reason));
		errno = r.error;
		return (-1);
	}
	if (proto_recv_hello(&imsg, &h) == -1 ||
	    h.version != PFH_PROTO_VERSION) {
		imsg_free(&imsg);
		errno = EPROTO;
		return (-1);
	}
	imsg_free(&imsg);
	return (0);
}

int
pfh_connect(struct pfh_client *c, const char *path)
{
	struct sockaddr_un	sun;
	int			fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return (-1);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    pfh_open(c, fd) == -1) {
		close(fd);
		return (-1);
	}
	return (0);
}

int
pfh_start(struct pfh_client *c, const char *path, char *const argv[],
    uint32_t role)
{
	if (pfh_fork(c, path, argv) == -1)
		return (-1);
	if (pfh_hello(c, role) == -1) {
		pfh_stop(c);
		return (-1);
	}
	return (0);
}

int
pfh_fork(struct pfh_client *c, const char *path, char *const argv[])
{
	pid_t	pid;
	int	sv[2];

	memset(c, 0, sizeof(c[0]));
	RB_INIT(&c->calls);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
		return (-1);
	switch (pid = fork()) {
	case -1:
		close(sv[0]);
		close(sv[1]);
		return (-1);
	case 0:
		close(sv[0]);
		child(sv[1], path, argv);
	}
	close(sv[1]);
	if (pfh_open(c, sv[0]) == -1) {
		close(sv[0]);
		c->iev.ibuf.fd = -1;
		c->pid = pid;
		pfh_stop(c);
		return (-1);
	}
	c->pid = pid;
	return (0);
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
	if (imsg_compose(&c->iev.ibuf, type, id, 0, -1, data, len) == -1 ||
	    imsgbuf_flush(&c->iev.ibuf) == -1 ||
	    wait_reply(c, id, &imsg) == -1)
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
pfh_fatal_errno(int e)
{
	return (e == EPIPE || e == EBADMSG || e == ECONNRESET);
}

/* pfhelper is gone or broke the protocol: say so once, then nothing. */
static void
pfh_lose(struct pfh_client *c, const char *why, int err)
{
	char	msg[PFH_REASON_MAX + 64];

	if (c->dead)
		return;
	c->dead = 1;
	imsgev_clear(&c->iev);
	if (err != 0) {
		snprintf(msg, sizeof(msg), "%s: %s", why, strerror(err));
		why = msg;
	}
	if (c->lost != NULL)
		c->lost(why, c->lost_arg);
}

static void
call_free(struct pfh_client *c, struct pfh_call *call)
{
	RB_REMOVE(pfh_call_tree, &c->calls, call);
	if (call->owner != NULL)
		TAILQ_REMOVE(call->owner, call, owned);
	c->npending--;
	free(call);
}

/* One reply: complete its call. */
static int
pfh_complete(struct pfh_client *c, struct imsg *imsg)
{
	struct pfh_call		 key, *call;
	struct pfh_reply	 r;
	pfh_done		 done;
	void			*arg;
	uint32_t		 sid;
	int			 end;

	key.id = imsg_get_id(imsg);
	if ((call = RB_FIND(pfh_call_tree, &c->calls, &key)) == NULL) {
		pfh_lose(c, "pfhelper sent a reply nobody asked for", 0);
		return (-1);
	}
	if (imsg_get_fd(imsg) != -1 || proto_recv_reply(imsg, &r) == -1) {
		pfh_lose(c, "malformed reply from pfhelper", 0);
		return (-1);
	}
	done = call->done;
	arg = call->arg;
	sid = call->sid;
	end = call->end_on_ok && r.error == 0;
	if (done == NULL && r.error != 0 && !call->end_on_ok)
		log_debug("pfhelper refused %s %u: %s", proto_name(call->type),
		    key.id, r.reason);
	call_free(c, call);
	if (end)
		(void)pfh_session_end(c, sid);
	if (done != NULL)
		done(&r, arg);
	return (0);
}

static void
pfh_dispatch(int fd, short ev, void *arg)
{
	struct pfh_client	*c = arg;
	struct imsg		 imsg;
	ssize_t			 n;
	int			 rc;

	if (ev & EV_READ) {
		if ((n = imsgbuf_read(&c->iev.ibuf)) == -1 && errno != EAGAIN) {
			pfh_lose(c, "cannot read from pfhelper", errno);
			return;
		}
		if (n == 0) {
			pfh_lose(c, "pfhelper closed the connection", 0);
			return;
		}
		while (!c->dead) {
			if ((n = imsg_get(&c->iev.ibuf, &imsg)) == -1) {
				pfh_lose(c, "bad message from pfhelper", 0);
				return;
			}
			if (n == 0)
				break;
			rc = pfh_complete(c, &imsg);
			imsg_free(&imsg);
			if (rc == -1)
				return;
		}
	}
	if (c->dead)
		return;
	if ((ev & EV_WRITE) && imsgbuf_write(&c->iev.ibuf) == -1 &&
	    errno != EAGAIN) {
		pfh_lose(c, "cannot write to pfhelper", errno);
		return;
	}
	imsgev_update(&c->iev);
}

void
pfh_attach(struct pfh_client *c, struct event_base *base,
    void (*lost)(const char *, void *), void *arg)
{
	c->lost = lost;
	c->lost_arg = arg;
	imsgev_set(&c->iev, base, pfh_dispatch, c);
}

/* Queue a request; with done or owner, remember it as a call. */
static int
pfh_call(struct pfh_client *c, struct pfh_calls *owner, uint32_t type,
    uint32_t sid, const void *data, size_t len, pfh_done done, void *arg)
{
	struct pfh_call	*call;

	if (c->dead) {
		errno = EPIPE;
		return (-1);
	}
	if ((call = calloc(1, sizeof(*call))) == NULL)
		return (-1);
	do {
		if (++c->reqid == 0)
			c->reqid = 1;
		call->id = c->reqid;
	} while (RB_FIND(pfh_call_tree, &c->calls, call) != NULL);
	if (imsgev_compose(&c->iev, type, call->id, -1, data, len) == -1) {
		free(call);
		return (-1);
	}
	call->type = type;
	call->sid = sid;
	call->done = done;
	call->arg = arg;
	call->owner = owner;
	if (owner != NULL)
		TAILQ_INSERT_TAIL(owner, call, owned);
	RB_INSERT(pfh_call_tree, &c->calls, call);
	c->npending++;
	return (0);
}

int
pfh_session_start(struct pfh_client *c, struct pfh_calls *owner,
    const struct pfh_session *m, pfh_done done, void *arg)
{
	struct proto_msg	pm = proto_msg_session(m);

	return (pfh_call(c, owner, pm.type, m->sid, pm.data, pm.len, done,
	    arg));
}

int
pfh_permit_add(struct pfh_client *c, struct pfh_calls *owner,
    const struct pfh_permit *m, pfh_done done, void *arg)
{
	struct proto_msg	pm = proto_msg_permit(m);

	return (pfh_call(c, owner, pm.type, m->sid, pm.data, pm.len, done,
	    arg));
}

int
pfh_ct_lookup(struct pfh_client *c, struct pfh_calls *owner,
    const struct pfh_ctlookup *m, pfh_done done, void *arg)
{
	struct proto_msg	pm = proto_msg_ctlookup(m);

	return (pfh_call(c, owner, pm.type, 0, pm.data, pm.len, done, arg));
}

int
pfh_permit_del(struct pfh_client *c, uint32_t sid, uint32_t pid)
{
	struct pfh_permit_del	m = { sid, pid };
	struct proto_msg	pm = proto_msg_permit_del(&m);

	return (pfh_call(c, NULL, pm.type, sid, pm.data, pm.len, NULL,
	    NULL));
}

int
pfh_session_end(struct pfh_client *c, uint32_t sid)
{
	struct pfh_session_end	m = { sid };
	struct proto_msg	pm = proto_msg_session_end(&m);

	return (pfh_call(c, NULL, pm.type, sid, pm.data, pm.len, NULL,
	    NULL));
}

void
pfh_cancel(struct pfh_client *c, struct pfh_calls *owner)
{
	struct pfh_call	*call;

	while ((call = TAILQ_FIRST(owner)) != NULL) {
		TAILQ_REMOVE(owner, call, owned);
		call->owner = NULL;
		call->done = NULL;
		call->arg = NULL;
		call->end_on_ok = call->type == PFH_SESSION_START;
	}
}

void
pfh_stop(struct pfh_client *c)
{
	struct pfh_call	*call;
	int		 status;

	imsgev_clear(&c->iev);
	if (c->iev.ibuf.fd > 0) {
		close(c->iev.ibuf.fd);
		c->iev.ibuf.fd = -1;
	}
	c->dead = 1;
	while ((call = RB_ROOT(&c->calls)) != NULL)
		call_free(c, call);
	if (c->pid > 0) {
		/* pfhelper exits when its peer closes; reap it. */
		if (waitpid(c->pid, &status, 0) == -1 && errno != ECHILD)
			log_warn("waitpid pfhelper");
		c->pid = 0;
	}
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
