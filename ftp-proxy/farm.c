/* SPDX-License-Identifier: ISC */
/*
 * farm.c: the servers of -R at work.  backend.c chooses the server of
 * each new session; here a session's failure to reach one marks it
 * down (logged), and a down server is tried in the background every
 * BACKEND_DOWN_SECS until it answers again (logged too).  A try is a
 * TCP connect that is closed at once.
 */
#include "compat.h"

#include <sys/socket.h>

#include <errno.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/event_struct.h>

#include "addr.h"
#include "backend.h"
#include "clock.h"
#include "log.h"
#include "proxy.h"

static void	probe_tick(int, short, void *);
static void	probe_start(struct ftp_ctx *, int);
static void	probe_done(int, short, void *);

static const char *
backend_name(const struct proxy_conf *conf, int i, char *buf, size_t len)
{
	const struct backend	*b = &conf->backends.b[i];

	return (addr_port_str(&b->addr, b->port, buf, len));
}

void
farm_init(struct ftp_ctx *ctx)
{
	int	i;

	for (i = 0; i < BACKEND_MAX; i++) {
		ctx->probes[i].ctx = ctx;
		ctx->probes[i].fd = -1;
	}
	evtimer_assign(&ctx->probe_timer, ctx->evbase, probe_tick, ctx);
}

int
farm_pick_at(struct ftp_session *s, int i)
{
	struct proxy_conf	*conf = s->ctx->conf;
	const struct backend	*b;

	if (i < 0 || (unsigned int)i >= conf->backends.n ||
	    (s->tried & (1U << i)))
		return (-1);
	b = &conf->backends.b[i];
	if (b->addr.af != s->client.addr.af)
		return (-1);
	conf->backends.b[i].active++;
	s->backend = i + 1;
	s->target = b->addr;
	s->tport = session_implicit(conf, s) ? FTP_TLS_PORT : b->port;
	return (0);
}

int
farm_pick(struct ftp_session *s)
{
	struct proxy_conf	*conf = s->ctx->conf;
	const struct backend	*b;
	int			 i;

	i = backend_pick(&conf->backends, s->client.addr.af, s->tried);
	if (i == -1)
		return (-1);
	b = &conf->backends.b[i];
	s->backend = i + 1;
	s->target = b->addr;
	s->tport = session_implicit(conf, s) ? FTP_TLS_PORT : b->port;
	return (0);
}

void
farm_release(struct ftp_session *s)
{
	if (s->backend == 0)
		return;
	backend_release(&s->ctx->conf->backends, s->backend - 1);
	s->backend = 0;
}

/*
 * The session's server did not answer (why; err, an errno, or 0): down,
 * and not this session's.
 */
void
farm_failed(struct ftp_session *s, const char *why, int err)
{
	struct ftp_ctx	*ctx = s->ctx;
	struct timeval	 tv = { 1, 0 };
	char		 buf[ADDR_STRLEN];
	int		 i = s->backend - 1;

	if (i < 0)
		return;
	s->tried |= 1U << i;
	if (backend_failed(&ctx->conf->backends, i, ctx->clock()))
		log_warnx("server %s is down (%s%s%s); tried again every %d s",
		    backend_name(ctx->conf, i, buf, sizeof(buf)), why,
		    err ? ": " : "", err ? strerror(err) : "",
		    BACKEND_DOWN_SECS);
	farm_release(s);
	if (!evtimer_pending(&ctx->probe_timer, NULL))
		evtimer_add(&ctx->probe_timer, &tv);
}

static void
farm_up(struct proxy_conf *conf, int i, const char *how)
{
	char	buf[ADDR_STRLEN];

	if (backend_answered(&conf->backends, i))
		logit(LOG_NOTICE, "server %s is up again (%s)",
		    backend_name(conf, i, buf, sizeof(buf)), how);
}

void
farm_answered(struct ftp_session *s)
{
	if (s->backend != 0)
		farm_up(s->ctx->conf, s->backend - 1, "a session reached it");
}

const char *
farm_name(const struct ftp_session *s, char *buf, size_t len)
{
	if (s->backend == 0)
		return ("none");
	return (backend_name(s->ctx->conf, s->backend - 1, buf, len));
}

/* Each second while a server is down: the tries that are due. */
static void
probe_tick(int fd, short ev, void *arg)
{
	struct ftp_ctx		*ctx = arg;
	struct backend_set	*bs = &ctx->conf->backends;
	struct timeval		 tv = { 1, 0 };
	double			 now = ctx->clock();
	int			 i, n;

	for (n = 0; n < BACKEND_MAX && (i = backend_due(bs, now)) != -1; n++)
		probe_start(ctx, i);
	if (backend_ndown(bs) > 0)
		evtimer_add(&ctx->probe_timer, &tv);
}

static void
probe_start(struct ftp_ctx *ctx, int i)
{
	const struct proxy_conf	*conf = ctx->conf;
	struct sockaddr_storage	 ss;
	struct timeval		 tv = { FTP_BACKEND_TIMEOUT, 0 };
	struct farm_probe	*p = &ctx->probes[i];
	const struct backend	*b = &conf->backends.b[i];
	socklen_t		 len;

	if (p->fd != -1 || addr_to_sa(&b->addr, b->port, &ss, &len) == -1)
		return;
	p->fd = ctx->net->socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (p->fd == -1)
		return;
	if ((conf->srclen != 0 && conf->src.ss_family == ss.ss_family &&
	    bind(p->fd, (const struct sockaddr *)&conf->src,
	    conf->srclen) == -1) ||
	    (ctx->net->dial(p->fd, (struct sockaddr *)&ss, len) == -1 &&
	    errno != EINPROGRESS)) {
		close(p->fd);
		p->fd = -1;
		return;
	}
	p->idx = i;
	event_assign(&p->ev, ctx->evbase, p->fd, EV_WRITE, probe_done, p);
	event_add(&p->ev, &tv);
}

static void
probe_done(int fd, short ev, void *arg)
{
	struct farm_probe	*p = arg;
	char			 buf[ADDR_STRLEN];
	socklen_t		 len = sizeof(int);
	int			 error = ETIMEDOUT;

	if ((ev & EV_WRITE) && getsockopt(fd, SOL_SOCKET, SO_ERROR, &error,
	    &len) == -1)
		error = errno;
	close(p->fd);
	p->fd = -1;
	if (error == 0)
		farm_up(p->ctx->conf, p->idx, "it answered a try");
	else
		log_debug("server %s: still down: %s",
		    backend_name(p->ctx->conf, p->idx, buf, sizeof(buf)),
		    strerror(error));
}
