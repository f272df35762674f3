/* SPDX-License-Identifier: ISC */
/*
 * fuzz_pfh_serve.c: libFuzzer target for pfhelper's request handling
 * (framing, validation, state) over a socketpair, with the fake packet
 * filter.  The input is the byte stream a compromised front end sends;
 * whatever reaches the packet filter must be a permit pfhelper would
 * allow: unicast hosts, data ports >= 1024 (a TLS range's elements: no
 * port, the range is in the rules), a timeout.  Its seeds come from
 * pfh_seeds.c (scripts/fuzz.sh).
 */
#include "compat.h"

#include <sys/socket.h>
#include <netinet/in.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "fake_filter.h"
#include "log.h"
#include "pfhelper.h"
#include "serve_one.h"

#define CHECK(x)	do { if (!(x)) abort(); } while (0)

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
unicast(uint8_t af, const uint8_t *a)
{
	struct pfh_addr	p;

	memset(&p, 0, sizeof(p));
	p.af = af;
	memcpy(p.addr, a, 16);
	return (addr_is_unicast_host(&p));
}

static void
check_calls(void)
{
	const struct filter_elem	*e;
	int				 i;

	for (i = 0; i < fake_ncalls; i++) {
		if (fake_calls[i].op != 'a')
			continue;
		e = &fake_calls[i].elem;
		CHECK(fake_calls[i].timeout > 0);
		CHECK(e->af == AF_INET || e->af == AF_INET6);
		CHECK(e->proto == IPPROTO_TCP || e->proto == IPPROTO_UDP);
		CHECK(unicast(e->af, e->saddr) && unicast(e->af, e->daddr));
		if (e->map == FE_TRDR || e->map == FE_TSNAT ||
		    e->map == FE_TPASS) {
			/* A range permit's: its ports are the rule's. */
			CHECK(e->dport == 0 && e->proto == IPPROTO_TCP);
			if (e->map != FE_TPASS)
				CHECK(unicast(e->af, e->to));
			continue;
		}
		CHECK(e->dport >= 1024);
		if (e->map == FE_RDR)
			CHECK(e->toport >= 1024 && unicast(e->af, e->to));
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int	 init;
	struct pfh_conf	 conf;
	int		 sv[2];

	if (!init) {
		log_init(1, LOG_DAEMON);
		log_setverbose(LOG_EMERG);
		init = 1;
	}
	if (size > 65536)
		return (0);
	memset(&conf, 0, sizeof(conf));
	conf.max_sessions = 16;
	conf.max_permits = 4;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		return (0);
	fake_reset();
	fake_ct_present = size & 1;
	(void)write(sv[0], data, size);
	shutdown(sv[0], SHUT_WR);
	(void)pfh_serve(sv[1], &conf);
	check_calls();
	CHECK(fake_live == 0);
	close(sv[0]);
	close(sv[1]);
	return (0);
}
