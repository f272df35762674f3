/* SPDX-License-Identifier: ISC */
/*
 * fake_filter.c: the packet-filter seam without netfilter.  Calls are
 * recorded; a commit applies the queued batch to a live-element count,
 * or fails as told.
 */
#include "compat.h"

#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_filter.h"

struct fake_call	fake_calls[FAKE_MAX];
int			fake_ncalls;
int			fake_commit_errno;
int			fake_ct_present = 1;
uint16_t		fake_ct_osport;
double			fake_now = 1000;
int			fake_live;

static int		pending;	/* adds - deletes in this batch */
static int		open_batch;

static void
record(char op, const struct filter_elem *e, uint32_t timeout)
{
	if (fake_ncalls >= FAKE_MAX)
		return;
	fake_calls[fake_ncalls].op = op;
	if (e != NULL)
		fake_calls[fake_ncalls].elem = *e;
	fake_calls[fake_ncalls].timeout = timeout;
	fake_ncalls++;
}

void
fake_reset(void)
{
	memset(fake_calls, 0, sizeof(fake_calls));
	fake_ncalls = 0;
	fake_commit_errno = 0;
	fake_ct_present = 1;
	fake_ct_osport = 0;
	fake_live = 0;
	fake_now = 1000;
	pending = 0;
	open_batch = 0;
}

/* The time stands still until a test moves it on. */
double
fake_clock(void)
{
	return (fake_now);
}

int
fake_count(char op)
{
	int	i, n = 0;

	for (i = 0; i < fake_ncalls; i++)
		if (fake_calls[i].op == op)
			n++;
	return (n);
}

struct filter {
	int	 unused;
};

struct filter *
filter_new(void)
{
	return (calloc(1, sizeof(struct filter)));
}

int
filter_init(struct filter *f, const struct filter_conf *conf)
{
	return (0);
}

void
filter_close(struct filter *f)
{
	free(f);
}

void
filter_describe(FILE *f, const struct filter_conf *conf)
{
	fprintf(f, "table inet %s (fake)\n", conf->table);
}

int
filter_begin(struct filter *f)
{
	open_batch = 1;
	pending = 0;
	return (0);
}

int
filter_add(struct filter *f, const struct filter_elem *e, uint32_t timeout)
{
	if (!open_batch || timeout == 0) {
		errno = EINVAL;
		return (-1);
	}
	record('a', e, timeout);
	pending++;
	return (0);
}

int
filter_del(struct filter *f, const struct filter_elem *e)
{
	if (!open_batch) {
		errno = EINVAL;
		return (-1);
	}
	record('d', e, 0);
	pending--;
	return (0);
}

int
filter_commit(struct filter *f)
{
	open_batch = 0;
	record('c', NULL, 0);
	if (fake_commit_errno != 0) {
		errno = fake_commit_errno;
		return (-1);
	}
	fake_live += pending;
	return (0);
}

void
filter_rollback(struct filter *f)
{
	open_batch = 0;
	pending = 0;
}

int
ct_lookup_reply(struct ct *ct, uint8_t af, uint8_t proto,
    const uint8_t *rsrc, uint16_t rsport, const uint8_t *rdst, uint16_t rdport,
    uint8_t *odst, uint16_t *odport)
{
	if (!fake_ct_present) {
		errno = ENOENT;
		return (-1);
	}
	/* Answer 198.51.100.10:69 / 2001:db8:2::10 port 69. */
	memset(odst, 0, 16);
	if (af == AF_INET) {
		odst[0] = 198; odst[1] = 51; odst[2] = 100; odst[3] = 10;
	} else {
		odst[0] = 0x20; odst[1] = 0x01; odst[2] = 0x0d; odst[3] = 0xb8;
		odst[5] = 2; odst[15] = 0x10;
	}
	*odport = 69;
	return (0);
}

/* The connection found, its port as the proxy sees it (or as set). */
int
ct_check_reply(struct ct *ct, uint8_t af, uint8_t proto, const uint8_t *src,
    uint16_t sport, const uint8_t *dst, uint16_t dport, const uint8_t *local,
    uint16_t lport, uint16_t *osport)
{
	if (!fake_ct_present) {
		errno = ENOENT;
		return (-1);
	}
	if (osport != NULL)
		*osport = fake_ct_osport != 0 ? fake_ct_osport : sport;
	return (0);
}
