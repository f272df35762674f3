/* SPDX-License-Identifier: ISC */
/*
 * tftp_parse.h: a pure parser for TFTP read and write requests (RFC 1350
 * with the option extension of RFC 2347).  No globals, no I/O, no
 * allocation, no logging; safe on any bytes.
 *
 * The proxy forwards a request byte for byte, so options are checked
 * for form only, never interpreted.
 */
#ifndef TFTP_PARSE_H
#define TFTP_PARSE_H

#include <stddef.h>
#include <stdint.h>

/* Opcodes (RFC 1350, RFC 2347). */
#define TFTP_RRQ	1
#define TFTP_WRQ	2
#define TFTP_DATA	3
#define TFTP_ACK	4
#define TFTP_ERROR	5
#define TFTP_OACK	6

#define TFTP_REQ_MAX	512	/* longest request, options included */
#define TFTP_FILE_MAX	255	/* longest file name */
#define TFTP_OPT_MAX	32	/* most options in one request */

enum tftp_mode {
	TFTP_MODE_NONE = 0,
	TFTP_MODE_NETASCII,
	TFTP_MODE_OCTET,
	TFTP_MODE_MAIL
};

enum tftp_err {
	TFTP_ERR_NONE = 0,
	TFTP_ERR_SHORT,		/* "truncated request" */
	TFTP_ERR_LONG,		/* "request too long" */
	TFTP_ERR_OPCODE,	/* "not a read or write request" */
	TFTP_ERR_FILE_UNTERM,	/* "unterminated file name" */
	TFTP_ERR_FILE_EMPTY,	/* "empty file name" */
	TFTP_ERR_FILE_LONG,	/* "file name too long" */
	TFTP_ERR_FILE_CHAR,	/* "control character in file name" */
	TFTP_ERR_MODE_MISSING,	/* "missing mode" */
	TFTP_ERR_MODE_UNTERM,	/* "unterminated mode" */
	TFTP_ERR_MODE,		/* "bad mode" */
	TFTP_ERR_OPT_UNTERM,	/* "unterminated option" */
	TFTP_ERR_OPT_EMPTY,	/* "empty option name" */
	TFTP_ERR_OPT_CHAR,	/* "control character in option" */
	TFTP_ERR_OPT_NOVAL,	/* "option without value" */
	TFTP_ERR_OPT_MANY	/* "too many options" */
};

/*
 * A parsed request.  file and mode point into the caller's buffer,
 * where each is NUL-terminated; opts/optslen cover all options, NULs
 * included (opts is buf + len when there are none).
 */
struct tftp_req {
	uint16_t	 opcode;	/* TFTP_RRQ or TFTP_WRQ */
	const char	*file;
	size_t		 filelen;	/* 1..TFTP_FILE_MAX */
	const char	*mode;		/* as sent */
	size_t		 modelen;
	enum tftp_mode	 modeid;
	const char	*opts;
	size_t		 optslen;
	unsigned int	 nopts;		/* name/value pairs */
	enum tftp_err	 err;		/* why parsing failed */
};

/*
 * Parse an RRQ or WRQ datagram of len bytes: a 2-byte opcode (network
 * order), the file name and the mode, each NUL-terminated, then zero or
 * more options, each a name and a value, each NUL-terminated.
 *
 *  - at most TFTP_REQ_MAX bytes;
 *  - file name 1..TFTP_FILE_MAX bytes, no control characters (0x01-0x1f,
 *    0x7f); other bytes, 8-bit ones included, are left to the server;
 *  - mode "netascii", "octet" or "mail", in any case;
 *  - option names non-empty; names and values without control
 *    characters; values may be empty; at most TFTP_OPT_MAX options;
 *  - nothing may follow the last NUL.
 *
 * Returns 0 and fills req (overwritten), or -1 with req->err set; on
 * failure req->opcode is still set if len >= 2, other fields may be.
 */
int		 tftp_parse_request(const uint8_t *buf, size_t len,
		    struct tftp_req *req);

/*
 * An ERROR packet (RFC 1350) with code and msg (cut to fit) into buf of
 * size len: its length, or 0 if len cannot hold one.
 */
size_t		 tftp_error(uint8_t *buf, size_t len, uint16_t code,
		    const char *msg);

/* Text for an enum tftp_err, never NULL. */
const char	*tftp_strerror(enum tftp_err err);

#endif /* TFTP_PARSE_H */
