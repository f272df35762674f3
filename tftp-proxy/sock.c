/* SPDX-License-Identifier: ISC */
/*
 * sock.c: tftp-proxy's UDP sockets.  A listening socket comes from
 * inetd (fd 0), from socket activation (LISTEN_FDS) or is made here;
 * each reports every datagram's destination (IP_ORIGDSTADDR): the
 * original destination under TPROXY, our own address after a
 * `redirect'.  Requests go out on a fresh socket per request.
 */
#include "compat.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "log.h"
#include "listen.h"
#include "tftp_proxy.h"

#ifndef IP_RECVORIGDSTADDR
#define IP_RECVORIGDSTADDR	20
#endif
#ifndef IP_ORIGDSTADDR
#define IP_ORIGDSTADDR		IP_RECVORIGDSTADDR
#endif
#ifndef IPV6_RECVORIGDSTADDR
#define IPV6_RECVORIGDSTADDR	74
#endif
#ifndef IPV6_ORIGDSTADDR
#define IPV6_ORIGDSTADDR	IPV6_RECVORIGDSTADDR
#endif

#define LISTEN_FDS_START	3	/* sd_listen_fds(3) */

static int	sock_udp_family(int);
static int	sock_nullfd(int, const struct stat *);
static int	sock_dst(struct msghdr *, struct tp_dgram *);

/* The family of a UDP socket, or -1 if fd is anything else. */
static int
sock_udp_family(int fd)
{
	socklen_t	len;
	int		type, proto, dom;

	len = sizeof(type);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == -1 ||
	    type != SOCK_DGRAM)
		return (-1);
	len = sizeof(proto);
	if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &len) == -1 ||
	    proto != IPPROTO_UDP)
		return (-1);
	len = sizeof(dom);
	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &dom, &len) == -1 ||
	    (dom != AF_INET && dom != AF_INET6))
		return (-1);
	return (dom);
}

/* Point fd at /dev/null if it is the same file as sock (inetd's). */
static int
sock_nullfd(int fd, const struct stat *sock)
{
	struct stat	st;
	int		null;

	if (fstat(fd, &st) == 0 && (st.st_dev != sock->st_dev ||
	    st.st_ino != sock->st_ino))
		return (0);
	if ((null = open("/dev/null", O_RDWR)) == -1)
		return (-1);
	if (null != fd) {
		if (dup2(null, fd) == -1) {
			close(null);
			return (-1);
		}
		close(null);
	}
	return (0);
}

/*
 * inetd's `dgram udp wait' service: the socket is on fd 0 (and 1, 2).
 * Move it off the standard descriptors, so that neither our logging
 * nor pfhelper ever writes into it.  The new fd, or -1 if fd 0 is not
 * a UDP socket.
 */
int
sock_inetd(void)
{
	struct stat	sock;
	int		fd, i;

	if (sock_udp_family(STDIN_FILENO) == -1 ||
	    fstat(STDIN_FILENO, &sock) == -1)
		return (-1);
	if ((fd = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3)) == -1)
		return (-1);
	for (i = 0; i <= 2; i++)
		if (sock_nullfd(i, &sock) == -1) {
			close(fd);
			return (-1);
		}
	return (fd);
}

/*
 * Socket activation (sd_listen_fds(3)): LISTEN_PID is ours and
 * LISTEN_FDS sockets start at fd 3.  Their count, 0 if we were not
 * activated, -1 if the variables are wrong or a socket is not UDP.
 */
int
sock_activated(int *fds, int max)
{
	const char	*pid, *n, *errstr;
	long long	 v;
	int		 i, count;

	pid = getenv("LISTEN_PID");
	n = getenv("LISTEN_FDS");
	if (pid == NULL || n == NULL)
		return (0);
	v = strtonum(pid, 1, INT_MAX, &errstr);
	if (errstr != NULL || v != getpid())
		return (0);
	count = (int)strtonum(n, 1, max, &errstr);
	if (errstr != NULL) {
		log_warnx("LISTEN_FDS is %s: %s", errstr, n);
		return (-1);
	}
	for (i = 0; i < count; i++) {
		fds[i] = LISTEN_FDS_START + i;
		if (sock_udp_family(fds[i]) == -1) {
			log_warnx("activation fd %d is not a UDP socket",
			    fds[i]);
			return (-1);
		}
	}
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	return (count);
}

/*
 * Make a listening socket ours: close-on-exec, non-blocking, every
 * datagram with its destination, and transparent (TPROXY delivers only
 * to such sockets; that takes CAP_NET_ADMIN, so it is done as root and
 * may fail harmlessly).  IPv4 datagrams on a dual-stack IPv6 socket
 * carry their IPv4 control messages, hence IP_RECVORIGDSTADDR there too.
 */
int
sock_setup(int fd)
{
	int	af, fl, on = 1;

	if ((af = sock_udp_family(fd)) == -1) {
		errno = ENOTSOCK;
		return (-1);
	}
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) == -1 ||
	    (fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1)
		return (-1);
	if (setsockopt(fd, IPPROTO_IP, IP_RECVORIGDSTADDR, &on,
	    sizeof(on)) == -1 && af == AF_INET)
		return (-1);
	if (af == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_RECVORIGDSTADDR, &on, sizeof(on)) == -1)
		return (-1);
	if (net_transparent(fd, af) == -1)
		log_debug("fd %d: not transparent: %s", fd, strerror(errno));
	return (0);
}

/* The destination from the control messages. 0, or -1. */
static int
sock_dst(struct msghdr *msg, struct tp_dgram *d)
{
	struct cmsghdr		*cm;
	struct sockaddr_storage	 ss;
	size_t			 len;

	for (cm = CMSG_FIRSTHDR(msg); cm != NULL; cm = CMSG_NXTHDR(msg, cm)) {
		len = cm->cmsg_len - CMSG_LEN(0);
		if (!((cm->cmsg_level == IPPROTO_IP &&
		    cm->cmsg_type == IP_ORIGDSTADDR &&
		    len >= sizeof(struct sockaddr_in)) ||
		    (cm->cmsg_level == IPPROTO_IPV6 &&
		    cm->cmsg_type == IPV6_ORIGDSTADDR &&
		    len >= sizeof(struct sockaddr_in6))))
			continue;
		if (len > sizeof(ss))
			len = sizeof(ss);
		memset(&ss, 0, sizeof(ss));
		memcpy(&ss, CMSG_DATA(cm), len);
		return (addr_from_sa((struct sockaddr *)&ss, &d->to,
		    &d->tport));
	}
	errno = ENOMSG;
	return (-1);
}

/*
 * Receive one datagram.  0; or -1 with errno EAGAIN when there is none,
 * ENOMSG when it came without its destination, or another error.
 * IPv4-mapped addresses (dual-stack socket) come back as IPv4.
 */
int
sock_recv(int fd, struct tp_dgram *d)
{
	struct sockaddr_storage	 from;
	struct msghdr		 msg;
	struct iovec		 iov;
	union {
		struct cmsghdr	 hdr;
		uint8_t		 buf[CMSG_SPACE(sizeof(struct sockaddr_in6)) +
				    CMSG_SPACE(sizeof(struct sockaddr_in))];
	}			 cbuf;
	ssize_t			 n;

	memset(&msg, 0, sizeof(msg));
	iov.iov_base = d->buf;
	iov.iov_len = sizeof(d->buf);
	msg.msg_name = &from;
	msg.msg_namelen = sizeof(from);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cbuf.buf;
	msg.msg_controllen = sizeof(cbuf.buf);
	if ((n = recvmsg(fd, &msg, MSG_DONTWAIT)) == -1)
		return (-1);
	d->len = (size_t)n;
	if (msg.msg_flags & MSG_TRUNC)
		d->len = sizeof(d->buf) + 1;
	d->lfd = fd;
	if (addr_from_sa((struct sockaddr *)&from, &d->from, &d->fport) == -1)
		return (-1);
	return (sock_dst(&msg, d));
}

/*
 * A socket for one forwarded request: bound to src (if srclen is not
 * 0, port 0) or left to the kernel, connected to dst port, its own
 * address in me and myport.  Connecting also refuses a broadcast
 * destination (EACCES: we never set SO_BROADCAST).  The fd, or -1.
 */
int
sock_connect(const struct pfh_addr *dst, uint16_t port,
    const struct sockaddr_storage *src, socklen_t srclen,
    struct pfh_addr *me, uint16_t *myport)
{
	struct sockaddr_storage	ss;
	socklen_t		len;
	int			fd, saved;

	if (addr_to_sa(dst, port, &ss, &len) == -1)
		return (-1);
	fd = socket(dst->af, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return (-1);
	if (srclen != 0 && bind(fd, (const struct sockaddr *)src,
	    srclen) == -1)
		goto fail;
	if (connect(fd, (struct sockaddr *)&ss, len) == -1)
		goto fail;
	len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1 ||
	    addr_from_sa((struct sockaddr *)&ss, me, myport) == -1)
		goto fail;
	return (fd);
 fail:
	saved = errno;
	close(fd);
	errno = saved;
	return (-1);
}

/* The client of d as a socket of family af wants it (v4-mapped). */
static int
sock_client(const struct tp_dgram *d, int af, struct sockaddr_storage *ss,
    socklen_t *len)
{
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;

	if (d->from.af == af)
		return (addr_to_sa(&d->from, d->fport, ss, len));
	if (af != AF_INET6 || d->from.af != AF_INET) {
		errno = EAFNOSUPPORT;
		return (-1);
	}
	memset(sin6, 0, sizeof(*sin6));
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(d->fport);
	sin6->sin6_addr.s6_addr[10] = 0xff;
	sin6->sin6_addr.s6_addr[11] = 0xff;
	memcpy(&sin6->sin6_addr.s6_addr[12], d->from.addr, 4);
	*len = sizeof(*sin6);
	return (0);
}

/* One control message, the only one in msg's buffer. */
static void
sock_cmsg(struct msghdr *msg, int level, int type, const void *data,
    size_t len)
{
	struct cmsghdr	*cm = CMSG_FIRSTHDR(msg);

	cm->cmsg_level = level;
	cm->cmsg_type = type;
	cm->cmsg_len = CMSG_LEN(len);
	memcpy(CMSG_DATA(cm), data, len);
	msg->msg_controllen = CMSG_SPACE(len);
}

/*
 * A datagram to the client of the request d, on the socket d came on,
 * from the address d was sent to: our own after a `redirect' (conntrack
 * turns it back into the original destination), or under TPROXY the
 * original destination itself, which a transparent socket may send
 * from.  As any server's first answer, it comes from a port of ours.
 */
int
sock_reply(const struct tp_dgram *d, void *buf, size_t len)
{
	struct sockaddr_storage	 ss;
	struct msghdr		 msg;
	struct iovec		 iov;
	struct in_pktinfo	 pi;
	struct in6_pktinfo	 pi6;
	union {
		struct cmsghdr	 hdr;
		uint8_t		 buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
	}			 cbuf;
	socklen_t		 sslen;
	int			 af;

	if ((af = sock_udp_family(d->lfd)) == -1 ||
	    sock_client(d, af, &ss, &sslen) == -1)
		return (-1);
	memset(&msg, 0, sizeof(msg));
	memset(&cbuf, 0, sizeof(cbuf));
	iov.iov_base = buf;
	iov.iov_len = len;
	msg.msg_name = &ss;
	msg.msg_namelen = sslen;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cbuf.buf;
	msg.msg_controllen = sizeof(cbuf.buf);
	memset(&pi, 0, sizeof(pi));
	memset(&pi6, 0, sizeof(pi6));
	if (d->to.af == AF_INET) {
		memcpy(&pi.ipi_spec_dst, d->to.addr, 4);
		sock_cmsg(&msg, IPPROTO_IP, IP_PKTINFO, &pi, sizeof(pi));
	} else {
		memcpy(&pi6.ipi6_addr, d->to.addr, 16);
		sock_cmsg(&msg, IPPROTO_IPV6, IPV6_PKTINFO, &pi6, sizeof(pi6));
	}
	return (sendmsg(d->lfd, &msg, MSG_DONTWAIT) == -1 ? -1 : 0);
}
