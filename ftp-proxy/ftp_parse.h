/* SPDX-License-Identifier: ISC */
/*
 * ftp_parse.h: pure parsers and formatters for the FTP control channel
 * (RFC 959, RFC 2428).  No globals, no I/O, no allocation, no logging:
 * every function works on the buffer it is given, with an explicit
 * length, and is safe on any bytes, NUL included.
 *
 * Lines are passed without their CR/LF.  Pointers returned in the
 * structs below point into the caller's line and live as long as it.
 */
#ifndef FTP_PARSE_H
#define FTP_PARSE_H

#include <sys/socket.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Longest line ftp_fmt_*() produce, CR LF and NUL included:
 * "EPRT |2|" + 39 address chars + "|65535|\r\n" is 63.
 */
#define FTP_FMT_MAX	80

/* Client commands the proxy must recognise. */
enum ftp_verb {
	FTP_CMD_OTHER = 0,	/* anything else: relayed, canonical */
	FTP_CMD_PORT,
	FTP_CMD_EPRT,
	FTP_CMD_PASV,
	FTP_CMD_EPSV,
	FTP_CMD_LPRT,		/* RFC 1639: not rewritable, refuse */
	FTP_CMD_LPSV,		/* RFC 1639: not rewritable, refuse */
	FTP_CMD_USER,
	FTP_CMD_AUTH,
	FTP_CMD_ABOR		/* relayed after a Synch of ours */
};

/*
 * Why a parse failed.  ftp_strerror() gives the text for a 501 reply;
 * FTP_ERR_PROTO asks for "522 Network protocol not supported, use (1,2)".
 */
enum ftp_err {
	FTP_ERR_NONE = 0,
	FTP_ERR_SYNTAX,		/* "syntax error in arguments" */
	FTP_ERR_ADDR,		/* "bad address" */
	FTP_ERR_PORT,		/* "bad port" */
	FTP_ERR_PROTO		/* "unsupported network protocol" */
};

/*
 * The argument of EPSV (RFC 2428 section 3).  FTP_EPSV_INET and
 * FTP_EPSV_INET6 equal the RFC 2428 network protocol numbers.
 */
enum ftp_epsv {
	FTP_EPSV_ANY = 0,	/* no argument */
	FTP_EPSV_INET = 1,	/* "1" */
	FTP_EPSV_INET6 = 2,	/* "2" */
	FTP_EPSV_ALL = 3	/* "ALL", any case */
};

/* An address and port as announced on the control channel. */
struct ftp_hostport {
	int		af;	/* AF_INET or AF_INET6 */
	uint8_t		addr[16]; /* network order, IPv4 in first 4 */
	uint16_t	port;	/* host order */
};

/*
 * A client command line, split and (for PORT, EPRT, EPSV) parsed.
 * verbstr/verblen: the verb as sent.  arg/arglen: the argument with
 * blanks trimmed at both ends (for USER, the user name).
 */
struct ftp_cmd {
	enum ftp_verb		 verb;
	enum ftp_err		 err;	/* why parsing failed */
	const char		*verbstr;
	size_t			 verblen;
	const char		*arg;
	size_t			 arglen;
	struct ftp_hostport	 hp;	/* PORT, EPRT */
	enum ftp_epsv		 epsv;	/* EPSV */
};

/*
 * State of the server's reply stream; zero-initialise before the first
 * line.  Only ftp_reply_line() changes it.
 */
struct ftp_reply_state {
	int		code;	/* open multi-line reply, or 0 */
	unsigned int	lines;	/* lines of the current reply */
};

/*
 * Split a client command line into verb and argument and parse the
 * argument of PORT, EPRT and EPSV into cmd (which is overwritten).
 * Blanks (space, tab, CR) before the verb, between verb and argument
 * and at the end of the line are skipped.  The verb is the run of
 * non-blank bytes and is matched case-insensitively and exactly
 * ("PORTX" is FTP_CMD_OTHER).
 *
 *  PORT h1,h2,h3,h4,p1,p2	six decimal numbers 0-255 of at most three
 *				digits, no sign; blanks are allowed after a
 *				comma, nowhere else; port p1*256+p2 != 0.
 *  EPRT <d>af<d>addr<d>port<d>	d one byte 33-126, the same four times;
 *				af 1 (IPv4, dotted quad) or 2 (IPv6, any
 *				inet_pton(3) form); port 1-65535.
 *  EPSV [1 | 2 | ALL]		FTP_EPSV_*.
 *
 * Other verbs only get verb, verbstr and arg (no argument checks: the
 * server judges PASV's or USER's argument).
 *
 * Returns 0 if the line was split and, for PORT, EPRT and EPSV, the
 * argument is well-formed.  Returns -1 with cmd->err set otherwise:
 * FTP_ERR_PROTO for EPRT with an af, or EPSV with a number, other
 * than 1 and 2 (reply 522); FTP_ERR_ADDR, FTP_ERR_PORT or
 * FTP_ERR_SYNTAX otherwise (reply 501).
 */
int		 ftp_parse_cmd(const char *line, size_t len,
		    struct ftp_cmd *cmd);

/*
 * The one spelling of a client command that is relayed (RFC 959 5.3):
 * the Telnet commands already removed (telnet.h), line[0..len) must be
 * a verb of one to FTP_VERB_MAX ASCII letters, then either the end of
 * the line or one SP and an argument.  No byte may be a control
 * character (0-31, 127: NUL, TAB, VT, FF, CR, LF...); no other blank
 * may precede the verb or separate it from the argument.  A single SP
 * with nothing after it is dropped.  The argument is taken as it is,
 * inner and trailing spaces included.
 *
 * Writes the canonical line, the verb in upper case, SP and the
 * argument with every byte 255 doubled (Telnet IAC IAC), no CR LF,
 * NUL-terminated, to buf.  Returns its length, or -1 with *why set to
 * the text of a 500 reply (a line that does not fit in size bytes is
 * "too long").  buf needs 2 * len + 1 bytes at most.
 */
#define FTP_VERB_MAX	4
int		 ftp_canon_cmd(const char *line, size_t len, char *buf,
		    size_t size, const char **why);

/*
 * Feed one server reply line.  The first line of a reply must start
 * with a code 100-599 followed by a space, '-' or the end of the line;
 * '-' opens an RFC 959 multi-line reply, which ends with a line that
 * starts with the same code followed by a space or the end of the line.
 * Lines in between may hold anything.
 *
 * Sets *code to the reply's code and *final to 1 if the line ends the
 * reply (0 otherwise).  1xx replies are complete replies too; the
 * caller knows another reply follows.  Returns 0, or -1 if the line is
 * not a valid first line (st is then unchanged).
 */
int		 ftp_reply_line(struct ftp_reply_state *st, const char *line,
		    size_t len, int *code, int *final);

/*
 * Parse a "227 Entering Passive Mode (h1,h2,h3,h4,p1,p2)" line (the
 * line must begin "227 " or "227-").  Tolerant of the text: the six
 * numbers are the first comma-separated run of numbers after the code,
 * with or without parentheses, followed by anything but a comma.  The
 * numbers follow the PORT rules above.  Returns 0 and fills hp
 * (AF_INET), or -1: no such run, a sign before it, a number > 255 or
 * longer than three digits, fewer or more than six numbers, port 0.
 */
int		 ftp_parse_227(const char *line, size_t len,
		    struct ftp_hostport *hp);

/*
 * Parse a "229 Entering Extended Passive Mode (|||port|)" line (the line
 * must begin "229 " or "229-"): after the first '(' come three equal
 * delimiters (any byte 33-126), the port 1-65535 in decimal and the
 * delimiter again; what follows is ignored.  Returns 0 and sets *port,
 * or -1.
 */
int		 ftp_parse_229(const char *line, size_t len, uint16_t *port);

/*
 * Formatters.  Each writes a complete line, CR LF included, and a NUL
 * to buf and returns the line's length without the NUL, or -1 if it
 * does not fit in size bytes or hp cannot be expressed (wrong address
 * family, port 0).  What they write parses back to the same values.
 *
 *  ftp_fmt_227	 "227 Entering Passive Mode (a,b,c,d,p1,p2)\r\n"; AF_INET
 *  ftp_fmt_229	 "229 Entering Extended Passive Mode (|||port|)\r\n"
 *  ftp_fmt_port "PORT a,b,c,d,p1,p2\r\n"; AF_INET
 *  ftp_fmt_eprt "EPRT |1|a.b.c.d|port|\r\n" or "EPRT |2|addr6|port|\r\n"
 *		 with addr6 in RFC 5952 form
 */
int		 ftp_fmt_227(char *buf, size_t size,
		    const struct ftp_hostport *hp);
int		 ftp_fmt_229(char *buf, size_t size, uint16_t port);
int		 ftp_fmt_port(char *buf, size_t size,
		    const struct ftp_hostport *hp);
int		 ftp_fmt_eprt(char *buf, size_t size,
		    const struct ftp_hostport *hp);

/*
 * Write hp's address alone, NUL-terminated: dotted quad, or RFC 5952
 * text for IPv6 (lower case, longest run of two or more zero groups
 * compressed, the first if tied, "::ffff:a.b.c.d" for IPv4-mapped).
 * Returns the length, or -1 if it does not fit or af is unknown.
 */
int		 ftp_fmt_addr(char *buf, size_t size,
		    const struct ftp_hostport *hp);

/*
 * If hp is an IPv4-mapped IPv6 address (::ffff:a.b.c.d), turn it into
 * the AF_INET address a.b.c.d and return 1; otherwise return 0.
 */
int		 ftp_hostport_unmap(struct ftp_hostport *hp);

/* Equal family, address and port. */
int		 ftp_hostport_eq(const struct ftp_hostport *a,
		    const struct ftp_hostport *b);

/* Text for an enum ftp_err, never NULL. */
const char	*ftp_strerror(enum ftp_err err);

#endif /* FTP_PARSE_H */
