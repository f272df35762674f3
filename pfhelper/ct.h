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
 * ct_check_reply(): 0 if the connection a proxy accepted as local:lport
 * from src:sport exists with src dialling dst:dport: one entry whose
 * reply tuple is local:lport -> src:sport and whose original tuple is
 * src:(any port) -> dst:dport, by proto.  Its original source port
 * (NAT may have rewritten the client's port, see ct_netlink.c) in
 * *osport (may be NULL).  -1 with errno ENOENT if not (or another
 * errno on failure).
 *
 * ct_open(): a conntrack socket, opened now (pfhelper: before its
 * sandbox, which lets it create no socket), with all that goes with it
 * (request numbers): NULL if it cannot be had.  Every
 * call takes it; ct_close() closes and frees it.
 */
#ifndef CT_H
#define CT_H

#include <stdint.h>

struct ct;

struct ct	*ct_open(void);
void		 ct_close(struct ct *);
int		 ct_lookup_reply(struct ct *, uint8_t af, uint8_t proto,
		    const uint8_t *rsrc, uint16_t rsport, const uint8_t *rdst,
		    uint16_t rdport, uint8_t *odst, uint16_t *odport);
int		 ct_check_reply(struct ct *, uint8_t af, uint8_t proto,
		    const uint8_t *src, uint16_t sport, const uint8_t *dst,
		    uint16_t dport, const uint8_t *local, uint16_t lport,
		    uint16_t *osport);

#endif /* CT_H */
