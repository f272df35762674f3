/* SPDX-License-Identifier: ISC */
/*
 * claims.c: what a front end says about a session that pfhelper can
 * check against the host itself, after the pure checks of validate.c
 * and the conntrack lookup:
 *   - the proxy address (toward the server) is one of this host's own;
 *   - with the conntrack check (ct, not -C): the control connection
 *     was delivered to the proxy.  serve.c has found the entry whose
 *     reply tuple is exactly local:lport -> client:cport (ct.h,
 *     ct_check_reply()), so local:lport is that entry's reply source,
 *     where the kernel delivered the connection; it must be an address
 *     of this host (a redirect), or the very dialled:dport (TPROXY, no
 *     NAT).  A DNAT elsewhere (another host's port) is refused.
 * Both answers come from one read of the address list (one recvfrom
 * per session, not two).
 */
#include "compat.h"

#include "addr.h"
#include "hostaddr.h"
#include "pfhelper.h"

const char *
validate_claims(const struct pfh_conf *conf, const struct pfh_session *s,
    int ct)
{
	if (hostaddr_type(conf->hosts, &s->proxy) == NET_REMOTE)
		return ("proxy address is not one of this host's");
	if (!ct)
		return (NULL);
	if ((addr_eq(&s->local, &s->dialled) && s->lport == s->dport) ||
	    hostaddr_lookup(conf->hosts, &s->local) != NET_REMOTE)
		return (NULL);
	return ("connection not delivered to the proxy");
}
