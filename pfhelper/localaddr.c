/* SPDX-License-Identifier: ISC */
/*
 * localaddr.c: this host's own addresses.  See localaddr.h.
 */
#include "compat.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "localaddr.h"

#define READ_MAX	(8 * 1024 * 1024)	/* a fib_trie of a big router */

static int	 add(struct pfh_addr *, size_t *, size_t, int, const void *);
static int	 hexval(char);
static char	*slurp(int, size_t *);
static void	 refresh(void);

static int		 fib_fd = -1, inet6_fd = -1;
static struct pfh_addr	 cache[LOCALADDR_MAX];
static size_t		 ncache;
static time_t		 last;

static int
add(struct pfh_addr *out, size_t *n, size_t max, int af, const void *addr)
{
	struct pfh_addr	a;
	size_t		i;

	memset(&a, 0, sizeof(a));
	a.af = (uint8_t)af;
	memcpy(a.addr, addr, af == AF_INET ? 4 : 16);
	for (i = 0; i < *n; i++)
		if (addr_eq(&out[i], &a))
			return (0);
	if (*n >= max)
		return (0);
	out[(*n)++] = a;
	return (1);
}

/*
 * fib_trie: "|-- a.b.c.d" then, indented, "/32 host LOCAL" for an
 * address of this host (other prefix lengths: local routes, such as
 * 127.0.0.0/8, not addresses).
 */
size_t
localaddr_parse_fib(const char *buf, size_t len, struct pfh_addr *out,
    size_t *n, size_t max)
{
	const char	*p = buf, *end = buf + len, *nl, *s;
	char		 leaf[INET_ADDRSTRLEN];
	struct in_addr	 in;
	size_t		 added = 0, l;
	int		 have = 0;

	for (; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		for (s = p; s < nl && *s == ' '; s++)
			;
		l = (size_t)(nl - s);
		if (l > 4 && memcmp(s, "|-- ", 4) == 0) {
			have = l - 4 < sizeof(leaf);
			if (have) {
				memcpy(leaf, s + 4, l - 4);
				leaf[l - 4] = '\0';
				have = inet_pton(AF_INET, leaf, &in) == 1;
			}
		} else if (have && l >= 14 && memcmp(s, "/32 host LOCAL",
		    14) == 0) {
			added += (size_t)add(out, n, max, AF_INET, &in);
			have = 0;
		}
		if (nl == end)
			break;
	}
	return (added);
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	return (-1);
}

/* if_inet6: 32 hex digits, then index, prefix, scope, flags, name. */
size_t
localaddr_parse_inet6(const char *buf, size_t len, struct pfh_addr *out,
    size_t *n, size_t max)
{
	const char	*p = buf, *end = buf + len, *nl;
	uint8_t		 a[16];
	size_t		 added = 0, i;
	int		 hi, lo;

	for (; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		if (nl - p > 32 && p[32] == ' ') {
			for (i = 0; i < 16; i++) {
				if ((hi = hexval(p[2 * i])) == -1 ||
				    (lo = hexval(p[2 * i + 1])) == -1)
					break;
				a[i] = (uint8_t)(hi << 4 | lo);
			}
			if (i == 16)
				added += (size_t)add(out, n, max, AF_INET6, a);
		}
		if (nl == end)
			break;
	}
	return (added);
}

int
localaddr_init(void)
{
	if ((fib_fd = open("/proc/net/fib_trie", O_RDONLY | O_CLOEXEC)) ==
	    -1 || (inet6_fd = open("/proc/net/if_inet6", O_RDONLY |
	    O_CLOEXEC)) == -1) {
		if (fib_fd != -1)
			close(fib_fd);
		fib_fd = -1;
		/* No IPv6 in this kernel: IPv4 only. */
		if (errno == ENOENT && (fib_fd = open("/proc/net/fib_trie",
		    O_RDONLY | O_CLOEXEC)) != -1)
			goto ok;
		return (-1);
	}
 ok:
	last = 0;
	refresh();
	return (0);
}

/* The whole of a /proc file, from its start; NULL on failure. */
static char *
slurp(int fd, size_t *len)
{
	char	*buf = NULL, *nb;
	size_t	 size = 0, used = 0;
	ssize_t	 r;

	if (lseek(fd, 0, SEEK_SET) == -1)
		return (NULL);
	for (;;) {
		if (used == size) {
			if (size >= READ_MAX || (nb = realloc(buf,
			    size ? size * 2 : 16384)) == NULL)
				break;
			buf = nb;
			size = size ? size * 2 : 16384;
		}
		if ((r = read(fd, buf + used, size - used)) <= 0)
			break;
		used += (size_t)r;
	}
	*len = used;
	return (buf);
}

static void
refresh(void)
{
	char	*buf;
	size_t	 len, n = 0;

	last = time(NULL);
	if ((buf = slurp(fib_fd, &len)) != NULL) {
		localaddr_parse_fib(buf, len, cache, &n, LOCALADDR_MAX);
		free(buf);
	}
	if (inet6_fd != -1 && (buf = slurp(inet6_fd, &len)) != NULL) {
		localaddr_parse_inet6(buf, len, cache, &n, LOCALADDR_MAX);
		free(buf);
	}
	if (n > 0)
		ncache = n;
}

int
localaddr_is_local(const struct pfh_addr *a)
{
	size_t	i;
	int	again;

	if (fib_fd == -1)
		return (-1);
	for (again = 0; again < 2; again++) {
		for (i = 0; i < ncache; i++)
			if (addr_eq(&cache[i], a))
				return (1);
		if (again || time(NULL) - last < LOCALADDR_REFRESH)
			break;
		refresh();
	}
	return (0);
}
