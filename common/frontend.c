/* SPDX-License-Identifier: ISC */
/*
 * frontend.c: the front ends' common skeleton.
 */
#include "compat.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "frontend.h"
#include "hostaddr.h"
#include "log.h"
#include "notify.h"
#include "privdrop.h"

static const int	fe_signals[] = { SIGHUP, SIGINT, SIGTERM };

static void	fe_hosts_cb(int, short, void *);

int
fe_check(const char *user, char *why, size_t whylen)
{
	if (privdrop_mkdir(PROXY_CHROOT) == -1) {
		strlcpy(why, "cannot create " PROXY_CHROOT, whylen);
		return (-1);
	}
	return (privdrop_check(user, PROXY_CHROOT, why, whylen));
}

void
fe_drop(const char *user)
{
	char	why[256];

	notify_ready("listening");
	if (privdrop(user, PROXY_CHROOT, PRIVDROP_KEEP_NONE, why,
	    sizeof(why)) == -1)
		fatalx("%s", why);
}

void
fe_loop_init(struct fe_loop *l, const int *fds, int n,
    event_callback_fn accept_cb, void *accept_arg, struct pfh_client *pfh,
    void (*lost)(const char *, void *), event_callback_fn sig_cb, void *arg)
{
	size_t	i;
	int	j;

	if (n > FE_MAX_LISTEN)
		fatalx("%d listening sockets, at most %d", n, FE_MAX_LISTEN);
	if ((l->base = event_base_new()) == NULL)
		fatalx("event_base_new");
	for (j = 0; j < n; j++) {
		event_assign(&l->listen[j], l->base, fds[j],
		    EV_READ | EV_PERSIST, accept_cb, accept_arg);
		event_add(&l->listen[j], NULL);
	}
	l->nlisten = n;
	pfh_attach(pfh, l->base, lost, arg);
	for (i = 0; i < nitems(fe_signals); i++) {
		evsignal_assign(&l->sig[i], l->base, fe_signals[i], sig_cb,
		    arg);
		evsignal_add(&l->sig[i], NULL);
	}
}

void
fe_loop_nohup(struct fe_loop *l)
{
	evsignal_del(&l->sig[0]);
	signal(SIGHUP, SIG_IGN);
}

void
fe_loop_close(struct fe_loop *l)
{
	int	j;

	for (j = 0; j < l->nlisten; j++) {
		event_del(&l->listen[j]);
		close(event_get_fd(&l->listen[j]));
	}
	l->nlisten = 0;
}

struct hostaddr *
fe_hosts_open(void)
{
	struct hostaddr	*h;

	if ((h = hostaddr_open()) == NULL)
		fatal("this host's addresses (rtnetlink)");
	return (h);
}

static void
fe_hosts_cb(int fd, short ev, void *arg)
{
	if (hostaddr_read(arg) == -1)
		fatal("this host's addresses (rtnetlink)");
}

void
fe_hosts(struct fe_loop *l, struct hostaddr *h)
{
	event_assign(&l->hosts, l->base, hostaddr_fd(h), EV_READ | EV_PERSIST,
	    fe_hosts_cb, h);
	event_add(&l->hosts, NULL);
}
