/* SPDX-License-Identifier: ISC */
/*
 * serve_one.c: one peer served on fd until EOF or a violation, its
 * sessions and permits removed after: the unit tests' and the fuzz
 * target's way into serve.c.  What the fake packet filter held when
 * the peer went, before that teardown, is kept in serve_end: a test of
 * what a request did must not count what the teardown did.  (pfhelper itself runs a spawned peer in
 * two steps, its HELLO before the privilege drop: pfhelper.c.)
 */
#include "compat.h"

#include <unistd.h>

#include "fake_filter.h"
#include "pfhelper.h"
#include "serve_one.h"

struct serve_end	serve_end;

int
pfh_serve(int fd, const struct pfh_conf *conf)
{
	struct svc	*v;
	struct peer	*c;
	int		 rc;

	if ((v = svc_new(conf)) == NULL)
		return (-1);
	svc_clock(v, fake_clock);
	if ((c = peer_new(v, fd, 0, getppid())) == NULL) {
		svc_free(v);
		return (-1);
	}
	rc = peer_run(c, 0);
	serve_end.live = fake_live;
	serve_end.ncalls = fake_ncalls;
	serve_end.dels = fake_count('d');
	peer_free(c, rc == -1);
	svc_free(v);
	return (rc);
}
