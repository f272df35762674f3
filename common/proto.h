/* SPDX-License-Identifier: ISC */
/*
 * proto.h: the one protocol between a front end (ftp-proxy, tftp-proxy)
 * and pfhelper.  Every request carries a request id in the imsg header's
 * peerid field and gets exactly one reply, PFH_OK or PFH_ERR, both with
 * a struct pfh_reply and the same request id.
 *
 * Bump PFH_PROTO_VERSION whenever a message or a struct changes.
 */
#ifndef PROTO_H
#define PROTO_H

#include <stddef.h>
#include <stdint.h>

#define PFH_PROTO_VERSION	5
#define PFH_FD			3	/* pfhelper finds its peer here */

/*
 * The messages: one list, from which everything per message is
 * generated: the enum, the name table (proto_name()), the typed frame
 * proto_msg_N(), the send/receive pair proto_send_N/proto_recv_N
 * (proto.c) and, in pfhelper, the validator validate_N (pfhelper.h)
 * that its handlers receive through (serve.c).  X(type, N, payload):
 * a message; R(type): a reply, a struct pfh_reply (PFH_OK, PFH_ERR:
 * proto_send_reply, proto_recv_reply).
 */
#define PFH_IMSG_TYPES(X, R)						\
	X(PFH_HELLO, hello, struct pfh_hello)	/* both ways */		\
	R(PFH_OK)							\
	R(PFH_ERR)							\
	X(PFH_SESSION_START, session, struct pfh_session)		\
	X(PFH_SESSION_END, session_end, struct pfh_session_end)		\
	X(PFH_PERMIT_ADD, permit, struct pfh_permit)			\
	X(PFH_PERMIT_DEL, permit_del, struct pfh_permit_del)		\
	X(PFH_CT_LOOKUP, ctlookup, struct pfh_ctlookup)

/* For the columns a generator does not use. */
#define PFH_NOMSG(t)

enum pfh_imsg_type {
	PFH_NONE = 0,
#define PFH_ENUM(t, ...)	t,
	PFH_IMSG_TYPES(PFH_ENUM, PFH_ENUM)
#undef PFH_ENUM
	PFH_MAX
};

const char	*proto_name(uint32_t);

/* An address on the wire: family plus 16 bytes, IPv4 in the first 4. */
struct pfh_addr {
	uint8_t		af;		/* AF_INET or AF_INET6 */
	uint8_t		pad[3];		/* zero */
	uint8_t		addr[16];	/* network byte order */
};

#define PFH_ROLE_FTP	1
#define PFH_ROLE_TFTP	2

/*
 * A standing pfhelper (pfhelper -S) listens in this directory on one
 * socket per role, named here, and on a control socket (pfhelper -l).
 */
#define PFH_SOCKDIR		"/run/pfhelper"
#define PFH_SOCK_FTP		"ftp"
#define PFH_SOCK_TFTP		"tftp"
#define PFH_SOCK_CONTROL	"control"

/*
 * HELLO opens every connection, sent by the front end while it is
 * still root (before its privilege drop), so what it says about itself
 * is trusted: its role (a standing service takes the role from the
 * socket and holds HELLO to it), its own session limit, the -R servers
 * it is held to (nrserver of them, all on rport; the rest of rserver[]
 * zero), and the table-wide options it wants (pass-chain log, ct label,
 * tc class), and the server data ports of its TLS sessions (-E: tls_lo
 * to tls_hi, the range of every PFH_RANGE permit it will ask for; 0 0:
 * none).  Zero means "none" or "pfhelper's default".  pfhelper
 * answers with a HELLO (its version, the rest zero), or with PFH_ERR
 * and a reason when it will not serve this peer.
 */
#define PFH_RSERVER_MAX	16		/* -R servers of one front end */
#define PFH_H_LOG	0x01		/* nft log on each permit use */
#define PFH_H_MANY	0x02		/* one of several at once (inetd) */

struct pfh_hello {
	uint32_t	version;	/* PFH_PROTO_VERSION */
	uint32_t	role;		/* PFH_ROLE_* */
	uint32_t	max_sessions;	/* 0: pfhelper's */
	uint32_t	prio;		/* tc class (meta priority), 0: none */
	uint16_t	label;		/* ct label bit + 1, 0: none */
	uint16_t	rport;		/* -R servers' port */
	uint8_t		flags;		/* PFH_H_* */
	uint8_t		nrserver;	/* -R servers, 0: none */
	uint8_t		pad[2];		/* zero */
	uint16_t	tls_lo;		/* -E low, 0: none */
	uint16_t	tls_hi;		/* -E high */
	struct pfh_addr	rserver[PFH_RSERVER_MAX];
};

/*
 * A session is one intercepted control connection (FTP) or one request
 * (TFTP).  All four addresses have one family; ports in host order.
 *   client:  C, the host that started it
 *   dialled: D, the address C dialled (original destination, or the
 *            proxy's own address in reverse mode)
 *   proxy:   P, the proxy's own address toward the server
 *   server:  S, the server the proxy talks to
 *   local:   L, where C reached the proxy (the accepted socket's local
 *            end, or where the request arrived): with lport, the
 *            source of the connection's reply tuple (pfhelper's
 *            conntrack check asks for L:lport -> C:cport)
 */
struct pfh_session {
	uint32_t	sid;		/* chosen by the front end, != 0 */
	uint8_t		proto;		/* IPPROTO_TCP (FTP) or IPPROTO_UDP */
	uint8_t		pad;		/* zero */
	uint16_t	timeout;	/* UDP: see below; TCP: 0 */
	uint16_t	cport;
	uint16_t	dport;
	uint16_t	pport;
	uint16_t	sport;
	struct pfh_addr	client;
	struct pfh_addr	dialled;
	struct pfh_addr	proxy;
	struct pfh_addr	server;
	struct pfh_addr	local;
	uint16_t	lport;
	uint16_t	pad2;		/* zero */
};

/*
 * A UDP (TFTP) session has exactly one permit, the reply path (PFH_ACTIVE
 * from the server to P:pport, reaching C:cport): pfhelper adds it with
 * the session, for timeout seconds, so that a request costs one round
 * trip.  Its permit id is PFH_UDP_PERMIT.
 */
#define PFH_UDP_PERMIT	1

/* Data ports, ours and the peers': never below this one. */
#define FTP_PORT		21	/* the well-known ports: -R's defaults */
#define FTPS_PORT		990	/* implicit FTP over TLS (-E) */
#define TFTP_PORT		69
#define PFH_DATA_PORT_MIN	1024
/* The same in text, for messages: "port below " PFH_DATA_PORT_MIN_S. */
#define PFH_STR_(x)		#x
#define PFH_STR(x)		PFH_STR_(x)
#define PFH_DATA_PORT_MIN_S	PFH_STR(PFH_DATA_PORT_MIN)

struct pfh_session_end {
	uint32_t	sid;
};

/*
 * A data permit.  pfhelper derives every address from the session:
 *   PFH_PASSIVE (PASV/EPSV, forward or reverse; TCP only):
 *     C connects to D:pport and reaches S:tport, sourced from P.
 *   PFH_ACTIVE (PORT/EPRT; TFTP replies):
 *     S connects to P:pport and reaches C:tport, sourced from D
 *     (from D port 20 with PFH_F_PORT20, TCP only).
 *   PFH_RANGE (a TLS session, TCP only; FTP over TLS, where nobody in
 *     the middle can read the data ports): C connects to D on any
 *     port tport .. thigh and reaches S on the same port, sourced
 *     from P.  One per session and per (C, S) at a time, for the
 *     session's life (timeout 0, pport 0); the range must be the
 *     front end's HELLO range.  The reply names tport.
 * The front ends leave pport 0: pfhelper owns the element keys, picks a
 * free proxy port and names it in the reply.  A port asked for (test
 * tools) is used if it is free, else refused with EEXIST.
 */
#define PFH_PASSIVE	1
#define PFH_ACTIVE	2
#define PFH_RANGE	3

/* A range's width (ports in it): pfhelper's cap, unless -W says. */
#define PFH_RANGE_WIDTH_DEF	1000
#define PFH_RANGE_WIDTH_MAX	64512	/* 1024 .. 65535 */

#define PFH_F_PORT20	0x01

#define PFH_TIMEOUT_MAX	3600		/* seconds */

struct pfh_permit {
	uint32_t	sid;
	uint32_t	pid;		/* permit id, unique in the session */
	uint8_t		kind;		/* PFH_PASSIVE, PFH_ACTIVE, PFH_RANGE */
	uint8_t		flags;		/* PFH_F_* */
	uint16_t	pport;		/* 0: pfhelper chooses; reply.port */
	uint16_t	tport;		/* target port, >= PFH_DATA_PORT_MIN */
	uint16_t	timeout;	/* seconds, 1 .. PFH_TIMEOUT_MAX */
	uint16_t	thigh;		/* PFH_RANGE: the last port; else 0 */
	uint16_t	pad;		/* zero */
};

struct pfh_permit_del {
	uint32_t	sid;
	uint32_t	pid;
};

/*
 * The original destination of a redirected UDP request: the conntrack
 * entry whose reply tuple is local:lport -> client:cport.  The reply's
 * addr and port carry the answer.
 */
struct pfh_ctlookup {
	uint8_t		proto;		/* IPPROTO_UDP or IPPROTO_TCP */
	uint8_t		pad;
	uint16_t	cport;
	uint16_t	lport;
	uint16_t	pad2;
	struct pfh_addr	client;
	struct pfh_addr	local;
};

#define PFH_REASON_MAX	128

struct pfh_reply {
	int32_t		error;		/* 0 or an errno value */
	uint16_t	port;		/* CT_LOOKUP answer; PERMIT_ADD: pport */
	uint16_t	pad;
	struct pfh_addr	addr;		/* PFH_CT_LOOKUP answer */
	char		reason[PFH_REASON_MAX];	/* NUL-terminated */
};

struct imsgbuf;
struct imsg;

/*
 * A message framed, its type and size from the list: what a sender
 * that queues messages its own way (pfh_client.c) hands on.
 */
struct proto_msg {
	uint32_t	 type;
	const void	*data;
	size_t		 len;
};

/*
 * Marshalling (proto.c): proto_msg_N frames, send 0/-1; recv 0, or
 * -1/EBADMSG on another type or a bad size.
 */
#define PROTO_DECL(t, name, st)						\
static inline struct proto_msg						\
proto_msg_##name(const st *m)						\
{									\
	struct proto_msg	pm = { t, m, sizeof(*m) };		\
									\
	return (pm);							\
}									\
int	proto_send_##name(struct imsgbuf *, uint32_t, const st *);	\
int	proto_recv_##name(struct imsg *, st *);
PFH_IMSG_TYPES(PROTO_DECL, PFH_NOMSG)
#undef PROTO_DECL

/*
 * "Why" strings, the one convention of the three programs: a check
 * returns NULL or why not, and a session or request ends with why, as
 * a phrase in lower case (proper names aside: Telnet, IPv6, -R) with no
 * trailing period and no errno text in it, e.g. "destination port 0".
 * Where an errno is the cause, the why names what failed and the errno
 * follows it in the log line ("no socket to the server: Permission
 * denied").  Text a client reads in an FTP reply ("500 Line too long")
 * is reply text, not a why: capitalised, as FTP servers write it.
 */

/*
 * The semantic checks of a session, made by the front end before it asks
 * and by pfhelper when it is asked (one function, so the two never
 * drift): every address a unicast host of one family, ports not 0, the
 * client not the server.  NULL, or why not.
 */
const char	*proto_session_check(const struct pfh_session *);
/* A peer's data port that a permit may lead to. */
int		 proto_data_port_ok(uint16_t);
/* -E's "low-high": 0, or -1 if it is not a range of data ports. */
int		 proto_range_parse(const char *, uint16_t *, uint16_t *);

int	proto_send_reply(struct imsgbuf *, uint32_t, int, const char *,
	    const struct pfh_addr *, uint16_t);
int	proto_recv_reply(struct imsg *, struct pfh_reply *);

#endif /* PROTO_H */
