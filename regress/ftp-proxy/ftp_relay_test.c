/* SPDX-License-Identifier: ISC */
/*
 * ftp_relay_test.c: dialogues through ftp-proxy/ftp_relay.c.  Each step
 * feeds the relay a client line, a server line or a permit's answer;
 * what it answers is written out one action a line and compared with
 * the table, and so is which sides it takes lines from afterwards.
 * Every failing check prints a line with FAIL; the last line is
 * "N passed, M failed".
 */
#include "compat.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "check.h"
#include "ftp_relay.h"

/* The addresses of the session: forward mode, the client dialled SRV. */
#define CLI4	"192.0.2.10"
#define SRV4	"198.51.100.20"
#define EXT4	"198.51.100.1"		/* ours, toward the server */
#define CLI6	"2001:db8:1::10"
#define SRV6	"2001:db8:2::20"
#define EXT6	"2001:db8:2::1"

enum step_kind {
	END = 0,
	CLI,		/* a client line */
	SRV,		/* a server line */
	HEAD,		/* the head of a long server line */
	PERMIT,		/* the answer to the permit in flight (0: refused) */
	LONG,		/* a client line that was too long */
	AT,		/* the clock moves to port seconds */
	IMPL		/* implicit TLS: ftp_relay_implicit() */
};

struct step {
	enum step_kind	 kind;
	const char	*in;
	uint16_t	 port;	/* PERMIT, AT */
	const char	*want;	/* the actions; "refused": the call said -1 */
	const char	*ready;	/* after: "cs", "c-", "-s", "--"; NULL */
	size_t		 len;	/* of in, if it has a NUL; else 0 */
};

struct dialogue {
	const char	*name;
	int		 v6;
	int		 anon;
	int		 port20;
	struct step	 steps[20];
};

#define GREET	{ SRV, "220 Hello", 0, ">c 220 Hello\r\n", "cs", 0 }
#define P227	"227 Entering Passive Mode (198,51,100,20,19,137)"
#define R227	">c 227 Entering Passive Mode (198,51,100,20,195,80)\r\n"
#define ASK227	"ask passive 5001 #1\n"
#define LOG227	"log info passive: client " CLI4 " to proxy port 50000 -> " \
		"server port 5001\n"
#define NOCONN	"425 Proxy cannot open the data connection\r\n"
#define NOAUTH	"log notice AUTH TLS refused: FTP over TLS needs -E\n"
#define LOGTLS	"log info TLS: client " CLI4 ", server data ports " \
		"50000-50099; relaying bytes from now on\n"

static const struct dialogue dialogues[] = {
	{ "pipelined commands, in order", 0, 0, 0, {
	    GREET,
	    { CLI, "USER ftp", 0, ">s USER ftp\r\n", "cs", 0 },
	    { CLI, "PASS x@", 0, ">s PASS x@\r\n", "cs", 0 },
	    { CLI, "SYST", 0, ">s SYST\r\n", "cs", 0 },
	    { SRV, "331 Password", 0, ">c 331 Password\r\n", "cs", 0 },
	    { SRV, "230 In", 0, ">c 230 In\r\n", "cs", 0 },
	    { SRV, "215 UNIX", 0, ">c 215 UNIX\r\n", "cs", 0 } } },
	{ "our replies wait for the greeting and earlier replies", 0, 0, 0, {
	    { CLI, "NOOP", 0, ">s NOOP\r\n", "cs", 0 },
	    { CLI, "LPSV", 0, "", "cs", 0 },
	    { CLI, "AUTH TLS", 0, NOAUTH, "cs", 0 },
	    { SRV, "220-Hello", 0, ">c 220-Hello\r\n", "cs", 0 },
	    { SRV, "220 there", 0, ">c 220 there\r\n", "cs", 0 },
	    { SRV, "200 NOOP ok", 0, ">c 200 NOOP ok\r\n"
		">c 502 LPRT and LPSV are not supported, use EPRT or EPSV\r\n"
		">c 502 AUTH is not supported by the proxy\r\n", "cs", 0 },
	    { CLI, "LPRT 1,2", 0, ">c 502 LPRT and LPSV are not supported, "
		"use EPRT or EPSV\r\n", "cs", 0 } } },
	{ "PASV: the 227 waits for its permit", 0, 0, 0, {
	    GREET,
	    { CLI, "PASV", 0, ">s PASV\r\n", "cs", 0 },
	    { SRV, P227, 0, ASK227, "c-", 0 },
	    { PERMIT, NULL, 50000, LOG227 R227 "resume\n", "cs", 0 } } },
	{ "a 421 queued behind a pending 227", 0, 0, 0, {
	    GREET,
	    { CLI, "PASV", 0, ">s PASV\r\n", "cs", 0 },
	    { SRV, P227, 0, ASK227, "c-", 0 },
	    { SRV, "421 Bye", 0, "refused", "c-", 0 },
	    { CLI, "NOOP", 0, ">s NOOP\r\n", "c-", 0 },
	    { CLI, "LPSV", 0, "", "c-", 0 },
	    { PERMIT, NULL, 50000, LOG227 R227 "resume\n", "cs", 0 },
	    { SRV, "200 NOOP ok", 0, ">c 200 NOOP ok\r\n"
		">c 502 LPRT and LPSV are not supported, use EPRT or EPSV\r\n",
		"cs", 0 },
	    { SRV, "421 Bye", 0, ">c 421 Bye\r\n", "cs", 0 } } },
	{ "a refused passive permit: 425", 0, 0, 0, {
	    GREET,
	    { CLI, "PASV", 0, ">s PASV\r\n", "cs", 0 },
	    { SRV, P227, 0, ASK227, "c-", 0 },
	    { PERMIT, NULL, 0, ">c " NOCONN "resume\n", "cs", 0 },
	    { PERMIT, NULL, 0, "refused", "cs", 0 },
	    { SRV, "200 next", 0, ">c 200 next\r\n", "cs", 0 } } },
	{ "a refused active permit: 425", 0, 0, 0, {
	    GREET,
	    { CLI, "PORT 192,0,2,10,4,1", 0, "ask active 1025 #1\n", "-s", 0 },
	    { CLI, "NOOP", 0, "refused", "-s", 0 },
	    { PERMIT, NULL, 0, ">c " NOCONN "resume\n", "cs", 0 },
	    { CLI, "NOOP", 0, ">s NOOP\r\n", "cs", 0 } } },
	{ "a port below 1024 from pfhelper is a refusal", 0, 0, 0, {
	    GREET,
	    { CLI, "PASV", 0, ">s PASV\r\n", "cs", 0 },
	    { SRV, P227, 0, ASK227, "c-", 0 },
	    { PERMIT, NULL, 80, "log err pfhelper chose port 80\n>c " NOCONN
		"resume\n", "cs", 0 } } },
	{ "PORT rewritten, -r", 0, 0, 1, {
	    GREET,
	    { CLI, "port 192,0,2,10,4,1", 0, "ask active 1025 #1\n", "-s",
		0 },
	    { PERMIT, NULL, 40000, "log info active: server " SRV4 " to proxy "
		"port 40000 -> client port 1025 (from port 20)\n"
		">s PORT 198,51,100,1,156,64\r\nresume\n", "cs", 0 },
	    { SRV, "200 PORT ok", 0, ">c 200 PORT ok\r\n", "cs", 0 },
	    /* The next permit replaces this one. */
	    { CLI, "EPRT |1|192.0.2.10|1026|", 0, "drop #1\n"
		"ask active 1026 #2\n", "-s", 0 },
	    { PERMIT, NULL, 40001, "log info active: server " SRV4 " to proxy "
		"port 40001 -> client port 1026 (from port 20)\n"
		">s EPRT |1|198.51.100.1|40001|\r\nresume\n", "cs", 0 } } },
	{ "bounce PORT and EPRT, low ports", 0, 0, 0, {
	    GREET,
	    { CLI, "PORT 203,0,113,5,4,1", 0, "log notice PORT to a third host "
		"refused (bounce)\n>c 501 PORT: the address must be your "
		"own\r\n", "cs", 0 },
	    { CLI, "EPRT |1|198.51.100.20|2000|", 0, "log notice EPRT to a "
		"third host refused (bounce)\n>c 501 EPRT: the address must "
		"be your own\r\n", "cs", 0 },
	    { CLI, "EPRT |2|" CLI6 "|2000|", 0, ">c 522 Network protocol not "
		"supported, use (1)\r\n", "cs", 0 },
	    { CLI, "PORT 192,0,2,10,0,21", 0, "log notice PORT to port 21 "
		"refused\n>c 501 PORT: ports below 1024 are refused\r\n", "cs",
		0 },
	    { CLI, "PORT 192,0,2,10,300,1", 0, ">c 501 PORT: bad port\r\n",
		"cs", 0 },
	    { CLI, "EPRT |1|::ffff:192.0.2.10|2000|", 0, ">c 501 EPRT: bad "
		"address\r\n", "cs", 0 },
	    { SRV, "200 stray", 0, ">c 200 stray\r\n", "cs", 0 } } },
	{ "EPSV ALL", 0, 0, 0, {
	    GREET,
	    { CLI, "epsv all", 0, ">s EPSV ALL\r\n", "cs", 0 },
	    { SRV, "200 EPSV ALL ok", 0, ">c 200 EPSV ALL ok\r\n", "cs", 0 },
	    { CLI, "PORT 192,0,2,10,4,1", 0, ">c 501 PORT not allowed after "
		"EPSV ALL\r\n", "cs", 0 },
	    { CLI, "EPRT |1|192.0.2.10|2000|", 0, ">c 501 EPRT not allowed "
		"after EPSV ALL\r\n", "cs", 0 },
	    { CLI, "PASV", 0, ">c 501 PASV not allowed after EPSV ALL\r\n",
		"cs", 0 },
	    { CLI, "EPSV 2", 0, ">c 522 Network protocol not supported, use "
		"(1)\r\n", "cs", 0 },
	    { CLI, "EPSV", 0, ">s EPSV\r\n", "cs", 0 },
	    { SRV, "229 Entering Extended Passive Mode (|||6000|)", 0,
		"ask passive 6000 #1\n", "c-", 0 },
	    { PERMIT, NULL, 50001, "log info passive: client " CLI4 " to proxy "
		"port 50001 -> server port 6000\n>c 229 Entering Extended "
		"Passive Mode (|||50001|)\r\nresume\n", "cs", 0 } } },
	{ "multi-line 227, the address on the first line", 0, 0, 0, {
	    GREET,
	    { CLI, "PASV", 0, ">s PASV\r\n", "cs", 0 },
	    { SRV, "227-Entering Passive Mode (198,51,100,20,19,137)", 0,
		ASK227, "c-", 0 },
	    { PERMIT, NULL, 50000, LOG227 ">c 227-Entering Passive Mode "
		"(198,51,100,20,195,80)\r\nresume\n", "cs", 0 },
	    { SRV, "more text", 0, ">c more text\r\n", "cs", 0 },
	    { SRV, "227 ok", 0, R227, "cs", 0 } } },
	{ "multi-line 227, the address on the last line", 0, 0, 0, {
	    GREET,
	    { CLI, "PASV", 0, ">s PASV\r\n", "cs", 0 },
	    { SRV, "227-Here it comes", 0, ">c 227-Here it comes\r\n", "cs",
		0 },
	    { SRV, P227, 0, ASK227, "c-", 0 },
	    { PERMIT, NULL, 50000, LOG227 R227 "resume\n", "cs", 0 },
	    { SRV, "200 next", 0, ">c 200 next\r\n", "cs", 0 } } },
	{ "multi-line 227 without an address", 0, 0, 0, {
	    GREET,
	    { CLI, "PASV", 0, ">s PASV\r\n", "cs", 0 },
	    { SRV, "227-no", 0, ">c 227-no\r\n", "cs", 0 },
	    { SRV, "227 address", 0, "log err malformed passive reply: 227 "
		"address\n>c 227 Malformed passive reply from server\r\n",
		"cs", 0 },
	    { CLI, "PASV", 0, ">s PASV\r\n", "cs", 0 },
	    { SRV, "227 (198,51,100,20,0,21)", 0, "log notice server data "
		"port 21 refused\n>c 425 Server data port below 1024 "
		"refused\r\n", "cs", 0 },
	    { CLI, "PASV", 0, ">s PASV\r\n", "cs", 0 },
	    /* The first line refused: 425, and the rest is dropped. */
	    { SRV, "227-(198,51,100,20,0,21)", 0, "log notice server data "
		"port 21 refused\n>c 425 Server data port below 1024 "
		"refused\r\n", "cs", 0 },
	    { SRV, "227-(198,51,100,20,19,137)", 0, "", "cs", 0 },
	    { SRV, "227 end", 0, "", "cs", 0 },
	    { SRV, "200 next", 0, ">c 200 next\r\n", "cs", 0 } } },
	{ "multi-line replies of other codes", 0, 0, 0, {
	    { SRV, "220-Welcome", 0, ">c 220-Welcome\r\n", "cs", 0 },
	    { SRV, "227 not an answer yet", 0, ">c 227 not an answer yet\r\n",
		"cs", 0 },
	    { SRV, "220 go", 0, ">c 220 go\r\n", "cs", 0 },
	    { CLI, "FEAT", 0, ">s FEAT\r\n", "cs", 0 },
	    { SRV, "211-Features:", 0, ">c 211-Features:\r\n", "cs", 0 },
	    { SRV, " EPSV", 0, ">c  EPSV\r\n", "cs", 0 },
	    { SRV, "211 End", 0, ">c 211 End\r\n", "cs", 0 } } },
	{ "ABOR after a Synch", 0, 0, 0, {
	    GREET,
	    { CLI, "RETR big", 0, ">s RETR big\r\n", "cs", 0 },
	    { SRV, "150 Opening", 0, ">c 150 Opening\r\n", "cs", 0 },
	    { CLI, "\xff\xf4\xff\xf2" "ABOR", 0, "log debug Telnet commands "
		"removed\nsynch\n>s ABOR\r\n", "cs", 0 },
	    { CLI, "abor", 0, "synch\n>s ABOR\r\n", "cs", 0 } } },
	{ "the canonical command, Telnet and control bytes", 0, 0, 0, {
	    GREET,
	    { CLI, "retr a  b ", 0, ">s RETR a  b \r\n", "cs", 0 },
	    { SRV, "550 No", 0, ">c 550 No\r\n", "cs", 0 },
	    { CLI, "RE\xff\xff", 0, "log notice command refused (Command "
		"name must be letters): RE\\377\n>c 500 Command name must be "
		"letters\r\n", "cs", 0 },
	    { CLI, "CWD a\xff\xff", 0, ">s CWD a\xff\xff\r\n", "cs", 0 },
	    { SRV, "250 Yes", 0, ">c 250 Yes\r\n", "cs", 0 },
	    { CLI, "NOOP\xff", 0, "log notice command refused (Telnet command "
		"cut short): NOOP\\377\n>c 500 Telnet command cut short\r\n",
		"cs", 0 },
	    { CLI, "USER\tjoe", 0, "log notice command refused (TAB in the "
		"command line): USER\\tjoe\n>c 500 TAB in the command "
		"line\r\n", "cs", 0 },
	    { CLI, "PO\xff\xf1RT 192,0,2,10,4,1", 0, "log debug Telnet "
		"commands removed\nask active 1025 #1\n", "-s", 0 } } },
	{ "-A: anonymous logins only", 0, 1, 0, {
	    GREET,
	    { CLI, "USER joe", 0, "log notice non-anonymous login refused: "
		"USER joe\n>c 530 Only anonymous logins are allowed\r\n", "cs",
		0 },
	    { CLI, "USER ftp ", 0, "log notice non-anonymous login refused: "
		"USER ftp \n>c 530 Only anonymous logins are allowed\r\n",
		"cs", 0 },
	    { CLI, "USER Anonymous", 0, ">s USER Anonymous\r\n", "cs", 0 } } },
	{ "a second permit waits behind the first", 0, 0, 0, {
	    GREET,
	    { CLI, "PASV", 0, ">s PASV\r\n", "cs", 0 },
	    { CLI, "PORT 192,0,2,10,4,1", 0, "ask active 1025 #1\n", "-s", 0 },
	    { SRV, P227, 0, "", "--", 0 },
	    { PERMIT, NULL, 40000, "log info active: server " SRV4 " to proxy "
		"port 40000 -> client port 1025\n"
		">s PORT 198,51,100,1,156,64\r\nresume\n"
		"drop #1\nask passive 5001 #2\n", "c-", 0 },
	    { PERMIT, NULL, 50000, LOG227 R227 "resume\n", "cs", 0 },
	    { SRV, "200 PORT ok", 0, ">c 200 PORT ok\r\n", "cs", 0 } } },
	{ "bad server lines end the session", 0, 0, 0, {
	    { SRV, "Hello", 0, "log err bad reply from the server: Hello\n"
		">c 421 Bad reply from the server\r\nclose bad server reply\n",
		NULL, 0 } } },
	{ "a NUL byte in a server line", 0, 0, 0, {
	    GREET,
	    { SRV, "200 a\0b", 0, "log err NUL byte in a server line\n"
		">c 500 NUL byte in the control connection\r\n"
		"close NUL byte\n", NULL, 7 } } },
	{ "long lines", 0, 0, 0, {
	    GREET,
	    { LONG, NULL, 0, "log notice client line too long, discarded\n"
		">c 500 Line too long\r\n", "cs", 0 },
	    { CLI, "PASV", 0, ">s PASV\r\n", "cs", 0 },
	    { LONG, NULL, 0, "log notice client line too long, discarded\n",
		"cs", 0 },
	    /* The head of a long 227 is rewritten; its rest is dropped. */
	    { HEAD, P227, 0, ASK227, "c-", 0 },
	    { PERMIT, NULL, 50000, LOG227 R227 ">c 500 Line too long\r\n"
		"resume\n", "cs", 0 },
	    { HEAD, "250-a long line", 0, ">c 250-a long line\nstreamed\n",
		"cs", 0 } } },
	{ "IPv6: EPSV and EPRT, PASV and PORT refused", 1, 0, 0, {
	    GREET,
	    { CLI, "PASV", 0, ">c 500 PASV is for IPv4, use EPSV\r\n", "cs",
		0 },
	    { CLI, "PORT 192,0,2,10,4,1", 0, ">c 500 PORT is for IPv4, use "
		"EPRT\r\n", "cs", 0 },
	    { CLI, "EPSV 1", 0, ">c 522 Network protocol not supported, use "
		"(2)\r\n", "cs", 0 },
	    { CLI, "EPRT |3|x|1|", 0, ">c 522 Network protocol not supported, "
		"use (2)\r\n", "cs", 0 },
	    { CLI, "EPRT |2|" CLI6 "|5000|", 0, "ask active 5000 #1\n", "-s",
		0 },
	    { PERMIT, NULL, 40000, "log info active: server " SRV6 " to proxy "
		"port 40000 -> client port 5000\n>s EPRT |2|" EXT6
		"|40000|\r\nresume\n", "cs", 0 },
	    { SRV, "200 ok", 0, ">c 200 ok\r\n", "cs", 0 },
	    { CLI, "EPSV 2", 0, ">s EPSV\r\n", "cs", 0 },
	    { SRV, "229 Entering Extended Passive Mode (|||6000|)", 0,
		"drop #1\nask passive 6000 #2\n", "c-", 0 },
	    { PERMIT, NULL, 50001, "log info passive: client " CLI6 " to proxy "
		"port 50001 -> server port 6000\n>c 229 Entering Extended "
		"Passive Mode (|||50001|)\r\nresume\n", "cs", 0 } } },
};

/* FTP over TLS: -E, the AUTH exchange, the range permit, the switch. */
static const struct dialogue tls_dialogues[] = {
	{ "AUTH without -E: 502, logged, no permit", 0, 0, 0, {
	    GREET,
	    { CLI, "AUTH TLS", 0, NOAUTH
		">c 502 AUTH is not supported by the proxy\r\n", "cs", 0 },
	    { CLI, "USER ftp", 0, ">s USER ftp\r\n", "cs", 0 } } },
	{ "AUTH TLS, 234: the range permit, then a byte relay", 0, 0, 0, {
	    GREET,
	    { CLI, "AUTH TLS", 0, ">s AUTH TLS\r\n", "-s", 0 },
	    { SRV, "234 Proceed with negotiation.", 0,
		"ask range 50000-50099 #1\n", "--", 0 },
	    { PERMIT, NULL, 50000, LOGTLS
		">c 234 Proceed with negotiation.\r\ntls\n", "--", 0 },
	    { SRV, "227 Entering Passive Mode (1,2,3,4,5,6)", 0, "refused",
		"--", 0 },
	    { CLI, "PORT 192,0,2,10,4,1", 0, "refused", "--", 0 } } },
	{ "AUTH SSL and TLS-C too, any case", 0, 0, 0, {
	    GREET,
	    { CLI, "auth ssl", 0, ">s AUTH ssl\r\n", "-s", 0 },
	    { SRV, "234 Go", 0, "ask range 50000-50099 #1\n", "--", 0 },
	    { PERMIT, NULL, 50000, LOGTLS ">c 234 Go\r\ntls\n", "--",
		0 } } },
	{ "AUTH TLS-C", 0, 0, 0, {
	    GREET,
	    { CLI, "AUTH TLS-C", 0, ">s AUTH TLS-C\r\n", "-s", 0 } } },
	{ "the server refuses AUTH: on in clear, parsed", 0, 0, 0, {
	    GREET,
	    { CLI, "AUTH TLS", 0, ">s AUTH TLS\r\n", "-s", 0 },
	    { SRV, "530-Not", 0, ">c 530-Not\r\n", "-s", 0 },
	    { SRV, "530 here", 0, ">c 530 here\r\nresume\n", "cs", 0 },
	    { CLI, "PASV", 0, ">s PASV\r\n", "cs", 0 },
	    { SRV, P227, 0, ASK227, "c-", 0 },
	    { PERMIT, NULL, 50000, LOG227 R227 "resume\n", "cs", 0 } } },
	{ "the range permit refused: 421, the end", 0, 0, 0, {
	    GREET,
	    { CLI, "AUTH TLS", 0, ">s AUTH TLS\r\n", "-s", 0 },
	    { SRV, "234 Go", 0, "ask range 50000-50099 #1\n", "--", 0 },
	    { PERMIT, NULL, 0, "log err TLS: no range permit for the data "
		"connections\n>c 421 Proxy cannot permit the data connections "
		"of a TLS session\r\nclose no range permit\n", "-s", 0 } } },
	{ "implicit TLS: no greeting, no 234, the permit, then bytes", 0, 0,
	    0, {
	    { IMPL, NULL, 0, "ask range 50000-50099 #1\n", "--", 0 },
	    { PERMIT, NULL, 50000, LOGTLS "tls\n", "--", 0 },
	    { SRV, "220 Hello", 0, "refused", "--", 0 } } },
	{ "implicit TLS, the permit refused: closed, nothing in clear", 0, 0,
	    0, {
	    { IMPL, NULL, 0, "ask range 50000-50099 #1\n", "--", 0 },
	    { PERMIT, NULL, 0, "log err TLS: no range permit for the data "
		"connections\nclose no range permit\n", "-s", 0 } } },
	{ "other mechanisms: 504, not relayed", 0, 0, 0, {
	    GREET,
	    { CLI, "AUTH GSSAPI", 0, ">c 504 AUTH GSSAPI is not supported by "
		"the proxy\r\n", "cs", 0 },
	    { CLI, "AUTH TLSX", 0, ">c 504 AUTH TLSX is not supported by "
		"the proxy\r\n", "cs", 0 } } },
	{ "AUTH waits behind pipelined commands; a live permit goes", 0, 0,
	    0, {
	    GREET,
	    { CLI, "PASV", 0, ">s PASV\r\n", "cs", 0 },
	    { SRV, P227, 0, ASK227, "c-", 0 },
	    { PERMIT, NULL, 50000, LOG227 R227 "resume\n", "cs", 0 },
	    { CLI, "NOOP", 0, ">s NOOP\r\n", "cs", 0 },
	    { CLI, "AUTH TLS", 0, ">s AUTH TLS\r\n", "-s", 0 },
	    { SRV, "200 OK", 0, ">c 200 OK\r\n", "-s", 0 },
	    { SRV, "234 Go", 0, "drop #1\nask range 50000-50099 #2\n", "--",
		0 },
	    { PERMIT, NULL, 50000, LOGTLS ">c 234 Go\r\ntls\n", "--",
		0 } } },
};

static void
mkaddr(struct pfh_addr *a, const char *s)
{
	memset(a, 0, sizeof(*a));
	a->af = strchr(s, ':') != NULL ? AF_INET6 : AF_INET;
	if (inet_pton(a->af, s, a->addr) != 1)
		checkf(0, "test table: bad address %s", s);
}

static void
relay_new(struct ftp_relay *r, int v6, int anon, int port20, int tls)
{
	struct fr_conf	c;

	memset(&c, 0, sizeof(c));
	mkaddr(&c.client, v6 ? CLI6 : CLI4);
	mkaddr(&c.server, v6 ? SRV6 : SRV4);
	mkaddr(&c.to_client, v6 ? SRV6 : SRV4);
	mkaddr(&c.to_server, v6 ? EXT6 : EXT4);
	c.anon_only = anon;
	c.port20 = port20;
	if (tls) {
		c.tls_lo = 50000;
		c.tls_hi = 50099;
	}
	ftp_relay_init(r, &c);
}

static const char *
prio_name(int prio)
{
	switch (prio) {
	case LOG_ERR:
		return ("err");
	case LOG_NOTICE:
		return ("notice");
	case LOG_INFO:
		return ("info");
	case LOG_DEBUG:
		return ("debug");
	}
	return ("?");
}

/* The actions as text, one a line. */
static void
render(const struct fr_out *out, char *buf, size_t size)
{
	const struct fr_action	*a;
	size_t			 i, n = 0;
	int			 len = (int)size;

	buf[0] = '\0';
	for (i = 0; i < out->n && n < size; i++, n = strlen(buf)) {
		a = &out->a[i];
		len = (int)a->len;
		switch (a->type) {
		case FR_TO_CLIENT:
		case FR_TO_SERVER:
			snprintf(buf + n, size - n, ">%c %.*s%s",
			    a->type == FR_TO_CLIENT ? 'c' : 's', len, a->data,
			    len > 0 && a->data[len - 1] == '\n' ? "" : "\n");
			break;
		case FR_SYNCH:
			snprintf(buf + n, size - n, "synch\n");
			break;
		case FR_PERMIT_ASK:
			if (a->kind == PFH_RANGE)
				snprintf(buf + n, size - n, "ask range %u-%u "
				    "#%u\n", a->tport, a->thigh, a->pid);
			else
				snprintf(buf + n, size - n, "ask %s %u #%u\n",
				    a->kind == PFH_PASSIVE ? "passive" :
				    "active", a->tport, a->pid);
			break;
		case FR_TLS:
			snprintf(buf + n, size - n, "tls\n");
			break;
		case FR_PERMIT_DROP:
			snprintf(buf + n, size - n, "drop #%u\n", a->pid);
			break;
		case FR_RESUME:
			snprintf(buf + n, size - n, "resume\n");
			break;
		case FR_LOG:
			snprintf(buf + n, size - n, "log %s %.*s\n",
			    prio_name(a->prio), len, a->data);
			break;
		case FR_CLOSE:
			snprintf(buf + n, size - n, "close %.*s\n", len,
			    a->data);
			break;
		}
	}
	n = strlen(buf);
	if (out->streamed)
		snprintf(buf + n, size - n, "streamed\n");
	if (out->overflow)
		snprintf(buf + strlen(buf), size - strlen(buf), "OVERFLOW\n");
}

static int
feed(struct ftp_relay *r, const struct step *st, double now,
    struct fr_out *out)
{
	char	line[FTP_LINE_MAX];
	size_t	len;

	memset(out, 0, sizeof(*out));
	len = st->in == NULL ? 0 : st->len ? st->len : strlen(st->in);
	if (len > sizeof(line))
		len = sizeof(line);
	if (st->in != NULL)
		memcpy(line, st->in, len);
	switch (st->kind) {
	case CLI:
		return (ftp_relay_client(r, line, len, now, out));
	case SRV:
	case HEAD:
		return (ftp_relay_server(r, line, len, st->kind == HEAD, now,
		    out));
	case PERMIT:
		return (ftp_relay_permit(r, st->port, out));
	case LONG:
		ftp_relay_client_too_long(r, out);
		return (0);
	case IMPL:
		ftp_relay_implicit(r, now, out);
		return (0);
	default:
		return (0);
	}
}

/* tls: the relay has -E 50000-50099. */
static void
test_dialogue(const struct dialogue *d, int tls)
{
	static struct fr_out	 out;
	static char		 got[FR_OUT_MAX + 1024];
	const struct step	*st;
	struct ftp_relay	 r;
	char			 ready[3];
	double			 now = 1000;
	size_t			 i;
	int			 rc;

	relay_new(&r, d->v6, d->anon, d->port20, tls);
	for (i = 0; i < nitems(d->steps) && d->steps[i].kind != END; i++) {
		st = &d->steps[i];
		if (st->kind == AT) {
			now = 1000 + st->port;
			continue;
		}
		rc = feed(&r, st, now, &out);
		if (rc == -1)
			strlcpy(got, out.n == 0 ? "refused" : "refused, yet "
			    "actions", sizeof(got));
		else
			render(&out, got, sizeof(got));
		checkf(strcmp(got, st->want) == 0, "%s, step %zu:\n"
		    "  want \"%s\"\n  got  \"%s\"", d->name, i,
		    check_esc(st->want, strlen(st->want)),
		    check_esc(got, strlen(got)));
		if (st->ready == NULL)
			continue;
		ready[0] = ftp_relay_ready(&r, FR_CLIENT) ? 'c' : '-';
		ready[1] = ftp_relay_ready(&r, FR_SERVER) ? 's' : '-';
		ready[2] = '\0';
		checkf(strcmp(ready, st->ready) == 0, "%s, step %zu: ready "
		    "\"%s\", want \"%s\"", d->name, i, ready, st->ready);
	}
	ftp_relay_clear(&r);
}

/* One PORT and its permit; 1 if a permit was asked for. */
static int
one_port(struct ftp_relay *r, double now, struct fr_out *out)
{
	char	line[] = "PORT 192,0,2,10,4,1";
	int	asked;

	ftp_relay_client(r, line, strlen(line), now, out);
	asked = out->n > 0 && out->a[out->n - 1].type == FR_PERMIT_ASK;
	if (asked)
		ftp_relay_permit(r, 40000, out);
	ftp_relay_server(r, "200 ok", 6, 0, now, out);
	return (asked);
}

/*
 * FTP_PERMIT_BURST permits at once, then 425 (logged once), then
 * FTP_PERMIT_RATE a second.
 */
static void
test_rate(void)
{
	static struct fr_out	out;
	struct ftp_relay	r;
	char			line[] = "PORT 192,0,2,10,4,1";
	char			got[512];
	int			i, n = 0;

	relay_new(&r, 0, 0, 0, 0);
	ftp_relay_server(&r, "220 hi", 6, 0, 0, &out);
	for (i = 0; i < FTP_PERMIT_BURST; i++)
		n += one_port(&r, 5, &out);
	checkf(n == FTP_PERMIT_BURST, "rate: %d of a burst of %d", n,
	    FTP_PERMIT_BURST);
	ftp_relay_client(&r, line, strlen(line), 5, &out);
	render(&out, got, sizeof(got));
	checkf(strcmp(got, "log notice more than 100 data connections per "
	    "second: refused\n>c " NOCONN) == 0, "rate: over the burst: %s",
	    check_esc(got, strlen(got)));
	ftp_relay_server(&r, "200 ok", 6, 0, 5, &out);
	ftp_relay_client(&r, line, strlen(line), 5, &out);
	render(&out, got, sizeof(got));
	checkf(strcmp(got, ">c " NOCONN) == 0, "rate: logged once: %s",
	    check_esc(got, strlen(got)));
	ftp_relay_server(&r, "200 ok", 6, 0, 5, &out);
	for (i = n = 0; i < FTP_PERMIT_RATE; i++)
		n += one_port(&r, 5.5, &out);
	checkf(n == FTP_PERMIT_RATE / 2, "rate: %d in 0.5 s, want %d", n,
	    FTP_PERMIT_RATE / 2);
	for (i = n = 0; i < 2 * FTP_PERMIT_BURST; i++)
		n += one_port(&r, 100, &out);
	checkf(n == FTP_PERMIT_BURST, "rate: %d after a pause, want %d", n,
	    FTP_PERMIT_BURST);
	ftp_relay_clear(&r);
}

/* FTP_PIPELINE commands out: the client waits for a reply. */
static void
test_pipeline(void)
{
	static struct fr_out	out;
	struct ftp_relay	r;
	char			line[] = "NOOP", lpsv[] = "LPSV";
	int			i, n = 0, resumed = 0;
	size_t			j;

	relay_new(&r, 0, 0, 0, 0);
	for (i = 0; i < 2 * FTP_PIPELINE && ftp_relay_ready(&r, FR_CLIENT);
	    i++) {
		ftp_relay_client(&r, i % 2 ? lpsv : line, 4, 0, &out);
		strlcpy(line, "NOOP", sizeof(line));
		strlcpy(lpsv, "LPSV", sizeof(lpsv));
	}
	checkf(i == FTP_PIPELINE, "pipeline: %d lines taken, want %d", i,
	    FTP_PIPELINE);
	checkf(ftp_relay_client(&r, line, 4, 0, &out) == -1 && out.n == 0,
	    "pipeline: a line past the queue is refused");
	ftp_relay_server(&r, "220 hi", 6, 0, 0, &out);
	check(!ftp_relay_ready(&r, FR_CLIENT), "pipeline: the greeting "
	    "answers no command");
	ftp_relay_server(&r, "200 ok", 6, 0, 0, &out);
	for (j = 0; j < out.n; j++) {
		n += out.a[j].type == FR_TO_CLIENT;
		resumed += out.a[j].type == FR_RESUME;
	}
	checkf(n == 2 && resumed == 1 && ftp_relay_ready(&r, FR_CLIENT),
	    "pipeline: a reply lets our 502 out and the client on (%d, %d)",
	    n, resumed);
	ftp_relay_clear(&r);
}

/* A 1xx reply: a transfer runs until its completion. */
static void
test_transfer(void)
{
	static struct fr_out	out;
	struct ftp_relay	r;
	char			line[] = "RETR x";

	relay_new(&r, 0, 0, 0, 0);
	ftp_relay_server(&r, "220 hi", 6, 0, 0, &out);
	ftp_relay_client(&r, line, strlen(line), 0, &out);
	check(!ftp_relay_transfer(&r), "transfer: none yet");
	ftp_relay_server(&r, "150 Opening", 11, 0, 0, &out);
	check(ftp_relay_transfer(&r), "transfer: a 150 starts one");
	ftp_relay_server(&r, "226-Done", 8, 0, 0, &out);
	check(ftp_relay_transfer(&r), "transfer: not over before its end");
	ftp_relay_server(&r, "226 Done", 8, 0, 0, &out);
	check(!ftp_relay_transfer(&r), "transfer: a 226 ends it");
	ftp_relay_clear(&r);
}

int
main(void)
{
	size_t	i;

	for (i = 0; i < nitems(dialogues); i++)
		test_dialogue(&dialogues[i], 0);
	for (i = 0; i < nitems(tls_dialogues); i++)
		test_dialogue(&tls_dialogues[i], i > 0);
	test_rate();
	test_pipeline();
	test_transfer();
	return (check_summary());
}
