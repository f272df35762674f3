/* SPDX-License-Identifier: ISC */
/*
 * ct.h: conntrack, the one interface to it (ct_netlink.c over
 * ctnetlink; regress/pfhelper/fake_filter.c in unit tests).  Nothing
 * else in pfhelper knows ctnetlink.  Addresses are 4 or 16 bytes by
 * af, network order; ports host order.
 *
 * ct_lookup_reply(): find the connection whose reply tuple is
 * rsrc:rsport -> rdst:rdport (for a redirected request: the proxy's
 * local address and port -> the client) and return the original
 * destination in odst/odport.  -1 with errno ENOENT if there is none.
 *
 * ct_check_orig(): 0 if the connection a proxy sees as src:sport ->
 * dst:dport exists: its original tuple is that one, and its replies
 * go to src:sport; or, where NAT rewrote the client's port (see
 * ct_netlink.c), its original tuple is that one but for the source
 * port, and its replies go to src:sport.  -1 with errno ENOENT if not
 * (or another errno on failure).
 *
 * ct_last_reply(): the reply tuple's source of the connection the last
 * successful ct_check_orig() found (where a redirect delivered it);
 * -1 with ENOENT if that failed.
 *
 * ct_init(): open the conntrack socket now (pfhelper: before its
 * sandbox, which lets it create no socket); else the first lookup does.
 */
#ifndef CT_H
#define CT_H

#include <stdint.h>

int	ct_init(void);
int	ct_last_reply(uint8_t *rsrc, uint16_t *rsport);
int	ct_lookup_reply(uint8_t af, uint8_t proto, const uint8_t *rsrc,
	    uint16_t rsport, const uint8_t *rdst, uint16_t rdport,
	    uint8_t *odst, uint16_t *odport);
int	ct_check_orig(uint8_t af, uint8_t proto, const uint8_t *src,
	    uint16_t sport, const uint8_t *dst, uint16_t dport);

#endif /* CT_H */
