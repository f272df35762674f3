/* SPDX-License-Identifier: ISC */
/*
 * addr.c: conversions and classification of addresses.
 */
#include "compat.h"

#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"

size_t
addr_len(const struct pfh_addr *a)
{
	return (af_addr_len(a->af));
}

size_t
af_addr_len(int af)
{
	if (af == AF_INET)
		return (4);
	if (af == AF_INET6)
		return (16);
	return (0);
}

int
addr_from_sa(const struct sockaddr *sa, struct pfh_addr *a, uint16_t *port)
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;

	memset(a, 0, sizeof(*a));
	switch (sa->sa_family) {
	case AF_INET:
		sin = (const struct sockaddr_in *)(const void *)sa;
		a->af = AF_INET;
		memcpy(a->addr, &sin->sin_addr, 4);
		if (port != NULL)
			*port = ntohs(sin->sin_port);
		return (0);
	case AF_INET6:
		sin6 = (const struct sockaddr_in6 *)(const void *)sa;
		/* An IPv4-mapped address is IPv4 (dual-stack listener). */
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			a->af = AF_INET;
			memcpy(a->addr, &sin6->sin6_addr.s6_addr[12], 4);
		} else {
			a->af = AF_INET6;
			memcpy(a->addr, &sin6->sin6_addr, 16);
		}
		if (port != NULL)
			*port = ntohs(sin6->sin6_port);
		return (0);
	}
	errno = EAFNOSUPPORT;
	return (-1);
}

int
addr_to_sa(const struct pfh_addr *a, uint16_t port,
    struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in	*sin;
	struct sockaddr_in6	*sin6;

	memset(ss, 0, sizeof(*ss));
	switch (a->af) {
	case AF_INET:
		sin = (struct sockaddr_in *)ss;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, a->addr, 4);
		*len = sizeof(*sin);
		return (0);
	case AF_INET6:
		sin6 = (struct sockaddr_in6 *)ss;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		memcpy(&sin6->sin6_addr, a->addr, 16);
		*len = sizeof(*sin6);
		return (0);
	}
	errno = EAFNOSUPPORT;
	return (-1);
}

int
addr_eq(const struct pfh_addr *a, const struct pfh_addr *b)
{
	size_t	len = addr_len(a);

	return (len != 0 && a->af == b->af &&
	    memcmp(a->addr, b->addr, len) == 0);
}

int
addr_is_unicast_host(const struct pfh_addr *a)
{
	struct in6_addr	in6;
	const uint8_t	*p = a->addr;
	static const uint8_t zero[16];

	if (a->af == AF_INET) {
		if (p[0] == 0 || p[0] == 127 || p[0] >= 224)
			return (0);	/* this net, loopback, mcast, bcast */
		return (memcmp(p + 4, zero, 12) == 0);
	}
	if (a->af != AF_INET6)
		return (0);
	memcpy(&in6, p, 16);
	if (IN6_IS_ADDR_UNSPECIFIED(&in6) || IN6_IS_ADDR_LOOPBACK(&in6) ||
	    IN6_IS_ADDR_MULTICAST(&in6) || IN6_IS_ADDR_V4MAPPED(&in6) ||
	    IN6_IS_ADDR_V4COMPAT(&in6) || IN6_IS_ADDR_LINKLOCAL(&in6))
		return (0);	/* link-local: no scope on the wire */
	return (1);
}

const char *
addr_str(const struct pfh_addr *a, char *buf, size_t len)
{
	if ((a->af != AF_INET && a->af != AF_INET6) ||
	    inet_ntop(a->af, a->addr, buf, len) == NULL)
		strlcpy(buf, "?", len);
	return (buf);
}

const char *
addr_port_str(const struct pfh_addr *a, uint16_t port, char *buf,
    size_t len)
{
	char	tmp[INET6_ADDRSTRLEN];

	addr_str(a, tmp, sizeof(tmp));
	if (a->af == AF_INET6)
		snprintf(buf, len, "[%s]:%u", tmp, port);
	else
		snprintf(buf, len, "%s:%u", tmp, port);
	return (buf);
}

int
addr_parse(const char *s, struct pfh_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, a->addr) == 1) {
		a->af = AF_INET;
		return (0);
	}
	if (inet_pton(AF_INET6, s, a->addr) == 1) {
		a->af = AF_INET6;
		return (0);
	}
	errno = EINVAL;
	return (-1);
}
