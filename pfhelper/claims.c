/* SPDX-License-Identifier: ISC */
/*
 * claims.c: what a front end says about a session that pfhelper can
 * check against the host itself, after the pure checks of validate.c
 * and the conntrack lookup: the proxy address is one of this host's
 * own, and the control connection was delivered to the proxy (a
 * redirect makes the reply come from an address of this host; TPROXY
 * and no NAT from the very destination the client dialled).
 */
#include "compat.h"

#include "addr.h"
#include "hostaddr.h"
#include "pfhelper.h"

const char *
validate_claims(const struct pfh_conf *conf, const struct pfh_session *s,
    const struct pfh_addr *r, uint16_t rport)
{
	if (hostaddr_type(conf->hosts, &s->proxy) == NET_REMOTE)
		return ("proxy address is not one of this host's");
	if (r == NULL)
		return (NULL);
	if ((addr_eq(r, &s->dialled) && rport == s->dport) ||
	    hostaddr_type(conf->hosts, r) != NET_REMOTE)
		return (NULL);
	return ("connection not delivered to the proxy");
}
