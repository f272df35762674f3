/* SPDX-License-Identifier: ISC */
/*
 * hostaddr_cost: what one "is this address ours" decision costs, three
 * ways, for the address given (run it in a test namespace):
 *   cache   hostaddr_type(): the notified list, after taking what the
 *           socket has queued (one recvfrom(2) that finds nothing);
 *   route   an RTM_GETROUTE request per decision (is it RTN_LOCAL);
 *   bind    the bind() probe it replaced (socket, bind, close).
 *   hostaddr_cost ADDR [N]
 * With -w, as root: that hostaddr's socket cannot add IPv4 ADDR to lo
 * (exit 0 if the kernel says EPERM).
 *   hostaddr_cost -w ADDR
 */
#include "compat.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/if_addr.h>
#include <net/if.h>

#include <err.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "hostaddr.h"

static double
now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec + ts.tv_nsec / 1e9);
}

static int
route_type(int fd, const struct pfh_addr *a, uint32_t seq)
{
	struct {
		struct nlmsghdr	nh;
		struct rtmsg	rt;
		char		attr[64];
	} req;
	struct rtattr	*rta;
	char		 buf[4096];
	struct rtmsg	*rt;
	size_t		 alen = addr_len(a);

	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(req.rt));
	req.nh.nlmsg_type = RTM_GETROUTE;
	req.nh.nlmsg_flags = NLM_F_REQUEST;
	req.nh.nlmsg_seq = seq;
	req.rt.rtm_family = a->af;
	req.rt.rtm_dst_len = (unsigned char)(alen * 8);
	rta = (struct rtattr *)((char *)&req + NLMSG_ALIGN(req.nh.nlmsg_len));
	rta->rta_type = RTA_DST;
	rta->rta_len = RTA_LENGTH(alen);
	memcpy(RTA_DATA(rta), a->addr, alen);
	req.nh.nlmsg_len = NLMSG_ALIGN(req.nh.nlmsg_len) + RTA_LENGTH(alen);
	if (send(fd, &req, req.nh.nlmsg_len, 0) == -1 ||
	    recv(fd, buf, sizeof(buf), 0) < (ssize_t)NLMSG_LENGTH(sizeof(*rt)))
		return (-1);
	if (((struct nlmsghdr *)buf)->nlmsg_type != RTM_NEWROUTE)
		return (NET_REMOTE);	/* an error: unreachable */
	rt = NLMSG_DATA((struct nlmsghdr *)buf);
	return (rt->rtm_type == RTN_LOCAL ? NET_LOCAL :
	    rt->rtm_type == RTN_BROADCAST ? NET_BROADCAST : NET_REMOTE);
}

static int
bind_type(const struct pfh_addr *a)
{
	struct sockaddr_storage	ss;
	socklen_t		len;
	int			fd, r;

	addr_to_sa(a, 0, &ss, &len);
	if ((fd = socket(a->af, SOCK_DGRAM, 0)) == -1)
		return (-1);
	r = bind(fd, (struct sockaddr *)&ss, len) == 0;
	close(fd);
	return (r ? NET_LOCAL : NET_REMOTE);
}

/* RTM_NEWADDR a/32 on lo through fd: the kernel's errno, 0 if done. */
static int
try_add(int fd, const struct pfh_addr *a)
{
	struct {
		struct nlmsghdr		nh;
		struct ifaddrmsg	ifa;
		struct rtattr		rta;
		uint8_t			addr[4];
	} req;
	char			 buf[1024];
	struct nlmsgerr		*e;
	ssize_t			 r;

	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = sizeof(req);
	req.nh.nlmsg_type = RTM_NEWADDR;
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE;
	req.nh.nlmsg_seq = 4242;
	req.ifa.ifa_family = AF_INET;
	req.ifa.ifa_prefixlen = 32;
	req.ifa.ifa_index = if_nametoindex("lo");
	req.rta.rta_type = IFA_LOCAL;
	req.rta.rta_len = RTA_LENGTH(4);
	memcpy(req.addr, a->addr, 4);
	if (send(fd, &req, sizeof(req), 0) == -1)
		return (errno);
	for (;;) {	/* the ack, past any notification */
		if ((r = recv(fd, buf, sizeof(buf), 0)) == -1)
			return (errno);
		if (((struct nlmsghdr *)buf)->nlmsg_type == NLMSG_ERROR &&
		    ((struct nlmsghdr *)buf)->nlmsg_seq == 4242)
			break;
	}
	e = NLMSG_DATA((struct nlmsghdr *)buf);
	return (-e->error);
}

int
main(int argc, char *argv[])
{
	struct hostaddr	*h;
	struct pfh_addr	 a;
	double		 t;
	long		 i, n = argc > 2 ? atol(argv[2]) : 100000;
	int		 fd, r = 0;

	if (argc == 3 && strcmp(argv[1], "-w") == 0) {
		if (addr_parse(argv[2], &a) == -1 || a.af != AF_INET ||
		    (h = hostaddr_open()) == NULL)
			errx(1, "usage: hostaddr_cost -w ipv4-address");
		r = try_add(hostaddr_fd(h), &a);
		printf("adding %s through the socket: %s\n", argv[2],
		    r == 0 ? "done" : strerror(r));
		return (r != EPERM);
	}
	if (argc < 2 || addr_parse(argv[1], &a) == -1 || n <= 0)
		errx(1, "usage: hostaddr_cost address [n]");
	if ((h = hostaddr_open()) == NULL)
		err(1, "hostaddr_open");
	if ((fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC,
	    NETLINK_ROUTE)) == -1)
		err(1, "netlink");
	printf("%zu addresses; %s is %d (cache), %d (route), %d (bind)\n",
	    hostaddr_count(h), argv[1], hostaddr_type(h, &a),
	    route_type(fd, &a, 1), bind_type(&a));
	t = now();
	for (i = 0; i < n; i++)
		r += hostaddr_type(h, &a);
	printf("cache %.0f ns\n", (now() - t) / n * 1e9);
	t = now();
	for (i = 0; i < n; i++)
		r += route_type(fd, &a, (uint32_t)i + 2);
	printf("route %.0f ns\n", (now() - t) / n * 1e9);
	t = now();
	for (i = 0; i < n; i++)
		r += bind_type(&a);
	printf("bind  %.0f ns\n", (now() - t) / n * 1e9);
	hostaddr_close(h);
	return (r < 0);
}
