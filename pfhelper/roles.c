/* SPDX-License-Identifier: ISC */
/*
 * roles.c: everything pfhelper knows about its front ends, in one
 * table.  A role says which protocol its sessions use, what it may ask
 * for beyond a session, which table it gets by default and the name of
 * its socket under a standing service.  Nothing else in pfhelper knows
 * FTP from TFTP.
 */
#include "compat.h"

#include <netinet/in.h>

#include <stddef.h>

#include "pfhelper.h"

static const struct pfh_role roles[PFH_NROLES] = {
	{
		.id = PFH_ROLE_FTP,
		.name = PFH_SOCK_FTP,
		.table = "ftp-proxy",
		.proto = IPPROTO_TCP,
		.permits = 1,		/* data connections, PORT and PASV */
		.ctlookup = 0,
		.reverse = 1,		/* -R: a server behind the firewall */
		.table_opts = 1,	/* -v, -T, -q of ftp-proxy */
		.tls = 1,		/* -E: range permits, FTP over TLS */
		.rport = FTP_PORT,	/* -R's default port */
	},
	{
		.id = PFH_ROLE_TFTP,
		.name = PFH_SOCK_TFTP,
		.table = "tftp-proxy",
		.proto = IPPROTO_UDP,
		.permits = 0,		/* the reply path, with the session */
		.ctlookup = 1,		/* original destination of a request */
		.reverse = 1,		/* -R: a TFTP server behind us */
		.table_opts = 0,
		.tls = 0,
		.rport = TFTP_PORT,
	},
};

const struct pfh_role *
role_get(uint32_t id)
{
	size_t	i;

	for (i = 0; i < nitems(roles); i++)
		if (roles[i].id == id)
			return (&roles[i]);
	return (NULL);
}

const struct pfh_role *
role_at(int i)
{
	return (i >= 0 && i < PFH_NROLES ? &roles[i] : NULL);
}
