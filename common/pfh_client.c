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
static void	reg_add(struct pfh_client *, uint32_t, uint32_t,
		    const void *, size_t);
static void	reg_del(struct pfh_client *, uint32_t, uint32_t);
static int	reg_has(struct pfh_client *, uint32_t);

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
	int			 sent;		/* to the pfhelper of now */
	size_t			 len;
	union pfh_payload	 data;		/* to send it again */
};

/*
 * What pfhelper holds of ours (pfh_keep): each session it accepted
 * (pid 0) and each permit, with when it was made, to make them again
 * at a new pfhelper (pfh_reopen).
 */
struct pfh_reg {
	RB_ENTRY(pfh_reg)	 entry;
	uint32_t		 sid;
	uint32_t		 pid;
	struct timespec		 made;
	union pfh_payload	 data;
};

static int
reg_cmp(struct pfh_reg *a, struct pfh_reg *b)
{
	if (a->sid != b->sid)
		return (a->sid < b->sid ? -1 : 1);
	return (a->pid < b->pid ? -1 : a->pid > b->pid);
}

RB_GENERATE_STATIC(pfh_reg_tree, pfh_reg, entry, reg_cmp)

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

static void	bound_over(int, short, void *);

/*
 * pfhelper is gone or broke the protocol: say so once, then nothing;
 * or, kept (pfh_keep), wait for another, bounded.
 */
static void
pfh_lose(struct pfh_client *c, const char *why, int err)
{
	char		 msg[PFH_REASON_MAX + 64];
	struct timeval	 tv = { c->bound, 0 };
	struct pfh_call	*call;

	if (c->dead || c->down)
		return;
	imsgev_clear(&c->iev);
	if (err != 0) {
		snprintf(msg, sizeof(msg), "%s: %s", why, strerror(err));
		why = msg;
	}
	if (c->bound > 0) {
		log_warnx("lost pfhelper: %s; sessions wait for another "
		    "(at most %u s)", why, c->bound);
		c->down = 1;
		imsgbuf_clear(&c->iev.ibuf);
		close(c->iev.ibuf.fd);
		c->iev.ibuf.fd = -1;
		RB_FOREACH(call, pfh_call_tree, &c->calls)
			call->sent = 0;
		evtimer_assign(&c->bound_ev, c->iev.base, bound_over, c);
		evtimer_add(&c->bound_ev, &tv);
		if (c->down_cb != NULL)
			c->down_cb(c->lost_arg);
		return;
	}
	c->dead = 1;
	if (c->lost != NULL)
		c->lost(why, c->lost_arg);
}

/* No new pfhelper in time: lost for good. */
static void
bound_over(int fd, short ev, void *arg)
{
	struct pfh_client	*c = arg;

	c->down = 0;
	c->dead = 1;
	if (c->lost != NULL)
		c->lost("no new pfhelper in time", c->lost_arg);
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

static void	send_waiting(struct pfh_client *, uint32_t);

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
	if (r.error == 0 && call->type == PFH_SESSION_START)
		reg_add(c, sid, 0, &call->data, call->len);
	else if (r.error == 0 && call->type == PFH_PERMIT_ADD) {
		/* A range's reply names its first port, not a proxy port. */
		if (call->data.permit.kind != PFH_RANGE)
			call->data.permit.pport = r.port;
		reg_add(c, sid, call->data.permit.pid, &call->data,
		    call->len);
	}
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
		while (!c->dead && !c->down) {
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
	if (c->dead || c->down)
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
	if (len > sizeof(call->data)) {
		free(call);
		errno = EMSGSIZE;
		return (-1);
	}
	memcpy(&call->data, data, len);
	call->len = len;
	/* While pfhelper is down the call waits, unsent (pfh_reopen). */
	if (!c->down) {
		if (imsgev_compose(&c->iev, type, call->id, -1, data,
		    len) == -1) {
			free(call);
			return (-1);
		}
		call->sent = 1;
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

	reg_del(c, sid, pid);
	if (!reg_has(c, sid))
		return (0);	/* not pfhelper's (any more) */
	return (pfh_call(c, NULL, pm.type, sid, pm.data, pm.len, NULL,
	    NULL));
}

int
pfh_session_end(struct pfh_client *c, uint32_t sid)
{
	struct pfh_session_end	m = { sid };
	struct proto_msg	pm = proto_msg_session_end(&m);

	if (!reg_has(c, sid))
		return (0);	/* a new pfhelper refused it again */
	reg_del(c, sid, UINT32_MAX);
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

static void
reg_add(struct pfh_client *c, uint32_t sid, uint32_t pid, const void *data,
    size_t len)
{
	struct pfh_reg	*g, *old;

	if (c->bound == 0 || (g = calloc(1, sizeof(*g))) == NULL)
		return;
	g->sid = sid;
	g->pid = pid;
	clock_gettime(CLOCK_MONOTONIC, &g->made);
	memcpy(&g->data, data, len);
	if ((old = RB_INSERT(pfh_reg_tree, &c->regs, g)) != NULL) {
		old->made = g->made;
		old->data = g->data;
		free(g);
	}
}

/* One entry; with pid UINT32_MAX the session and all its permits. */
static void
reg_del(struct pfh_client *c, uint32_t sid, uint32_t pid)
{
	struct pfh_reg	 key, *g, *next;

	key.sid = sid;
	key.pid = pid == UINT32_MAX ? 0 : pid;
	for (g = RB_NFIND(pfh_reg_tree, &c->regs, &key); g != NULL &&
	    g->sid == sid; g = next) {
		next = RB_NEXT(pfh_reg_tree, &c->regs, g);
		if (pid != UINT32_MAX && g->pid != pid)
			break;
		RB_REMOVE(pfh_reg_tree, &c->regs, g);
		free(g);
	}
}

/* Whether pfhelper holds session sid (always, unless kept). */
static int
reg_has(struct pfh_client *c, uint32_t sid)
{
	struct pfh_reg	key;

	if (c->bound == 0)
		return (1);
	key.sid = sid;
	key.pid = 0;
	return (RB_FIND(pfh_reg_tree, &c->regs, &key) != NULL);
}

void
pfh_keep(struct pfh_client *c, uint32_t bound, void (*down)(void *),
    void (*refused)(uint32_t, const char *, void *))
{
	RB_INIT(&c->regs);
	c->bound = bound;
	c->down_cb = down;
	c->refused = refused;
}

/*
 * Send what waited for session sid (0: what waits for no session):
 * its permits not expired, made again, and its calls not sent yet.
 * pfhelper must hold the session first: a permit of a session it does
 * not hold is a protocol violation.
 */
static void
send_waiting(struct pfh_client *c, uint32_t sid)
{
	struct pfh_reg		 key, *g;
	struct pfh_call		*call;
	struct pfh_permit	 p;
	struct timespec		 now;
	time_t			 age;

	clock_gettime(CLOCK_MONOTONIC, &now);
	key.sid = sid;
	key.pid = 1;
	for (g = RB_NFIND(pfh_reg_tree, &c->regs, &key);
	    sid != 0 && g != NULL && g->sid == sid;
	    g = RB_NEXT(pfh_reg_tree, &c->regs, g)) {
		p = g->data.permit;
		age = now.tv_sec - g->made.tv_sec;
		/* timeout 0: the session's life (PFH_RANGE). */
		if (p.timeout != 0 && age >= p.timeout)
			continue;	/* expired with the old pfhelper */
		if (p.timeout != 0)
			p.timeout -= age;
		(void)pfh_call(c, NULL, PFH_PERMIT_ADD, sid, &p, sizeof(p),
		    NULL, NULL);
	}
	RB_FOREACH(call, pfh_call_tree, &c->calls) {
		if (call->sent || (sid != 0 ? call->sid != sid :
		    call->type == PFH_PERMIT_ADD))
			continue;
		if (imsgev_compose(&c->iev, call->type, call->id, -1,
		    &call->data, call->len) == 0)
			call->sent = 1;
	}
}

/* Forget the calls of session sid that were never sent. */
static void
drop_waiting(struct pfh_client *c, uint32_t sid)
{
	struct pfh_call	*call, *next;

	RB_FOREACH_SAFE(call, pfh_call_tree, &c->calls, next)
		if (!call->sent && call->sid == sid)
			call_free(c, call);
}

struct remake {
	struct pfh_client	*c;
	uint32_t		 sid;
};

/* The new pfhelper's answer to a session made again. */
static void
remade(const struct pfh_reply *r, void *arg)
{
	struct remake		*m = arg;
	struct pfh_client	*c = m->c;
	uint32_t		 sid = m->sid;

	free(m);
	if (r->error == 0) {
		send_waiting(c, sid);
		return;
	}
	reg_del(c, sid, UINT32_MAX);
	drop_waiting(c, sid);
	if (c->refused != NULL)
		c->refused(sid, r->reason, c->lost_arg);
}

int
pfh_reopen(struct pfh_client *c, int fd)
{
	struct pfh_call	*call, *next;
	struct pfh_reg	*g;
	struct remake	*m;
	int		 n = 0;

	if (!c->down || fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) |
	    O_NONBLOCK) == -1 || imsgbuf_init(&c->iev.ibuf, fd) == -1) {
		close(fd);
		return (-1);
	}
	evtimer_del(&c->bound_ev);
	c->down = 0;
	imsgev_set(&c->iev, c->iev.base, pfh_dispatch, c);
	/* Ends and deletes that waited are moot: nothing of it is there. */
	RB_FOREACH_SAFE(call, pfh_call_tree, &c->calls, next)
		if (!call->sent && (call->type == PFH_SESSION_END ||
		    call->type == PFH_PERMIT_DEL))
			call_free(c, call);
	RB_FOREACH(g, pfh_reg_tree, &c->regs) {
		if (g->pid != 0 || (m = malloc(sizeof(*m))) == NULL)
			continue;
		m->c = c;
		m->sid = g->sid;
		if (pfh_call(c, NULL, PFH_SESSION_START, g->sid,
		    &g->data.session, sizeof(g->data.session), remade,
		    m) == -1)
			free(m);
		n++;
	}
	send_waiting(c, 0);
	log_info("a new pfhelper: %d sessions made again, %u calls pending",
	    n, c->npending);
	return (0);
}

void
pfh_stop(struct pfh_client *c)
{
	struct pfh_call	*call;
	struct pfh_reg	*g;
	int		 status;

	imsgev_clear(&c->iev);
	if (c->iev.ibuf.fd > 0) {
		close(c->iev.ibuf.fd);
		c->iev.ibuf.fd = -1;
	}
	c->dead = 1;
	while ((call = RB_ROOT(&c->calls)) != NULL)
		call_free(c, call);
	while (c->bound > 0 && (g = RB_ROOT(&c->regs)) != NULL) {
		RB_REMOVE(pfh_reg_tree, &c->regs, g);
		free(g);
	}
	if (c->bound > 0 && c->down)
		evtimer_del(&c->bound_ev);
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
