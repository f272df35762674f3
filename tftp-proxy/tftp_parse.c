/* SPDX-License-Identifier: ISC */
/*
 * tftp_parse.c: a pure parser for TFTP read and write requests.
 * See tftp_parse.h for the contract.
 */
#include "compat.h"

#include <string.h>

#include "text.h"
#include "tftp_parse.h"

static int	 get_str(const uint8_t *, size_t, size_t *, const char **,
		    size_t *);
static int	 has_ctrl(const char *, size_t);
static enum tftp_mode
		 mode_id(const char *, size_t);
static int	 parse_opts(const uint8_t *, size_t, size_t,
		    struct tftp_req *);

static const char *const tftp_errstr[] = {
	[TFTP_ERR_NONE] = "no error",
	[TFTP_ERR_SHORT] = "truncated request",
	[TFTP_ERR_LONG] = "request too long",
	[TFTP_ERR_OPCODE] = "not a read or write request",
	[TFTP_ERR_FILE_UNTERM] = "unterminated file name",
	[TFTP_ERR_FILE_EMPTY] = "empty file name",
	[TFTP_ERR_FILE_LONG] = "file name too long",
	[TFTP_ERR_FILE_CHAR] = "control character in file name",
	[TFTP_ERR_MODE_MISSING] = "missing mode",
	[TFTP_ERR_MODE_UNTERM] = "unterminated mode",
	[TFTP_ERR_MODE] = "bad mode",
	[TFTP_ERR_OPT_UNTERM] = "unterminated option",
	[TFTP_ERR_OPT_EMPTY] = "empty option name",
	[TFTP_ERR_OPT_CHAR] = "control character in option",
	[TFTP_ERR_OPT_NOVAL] = "option without value",
	[TFTP_ERR_OPT_MANY] = "too many options"
};

/*
 * The NUL-terminated string at buf[*pos]: *s and *slen (without the
 * NUL), *pos moved past the NUL.  -1 if no NUL follows.
 */
static int
get_str(const uint8_t *buf, size_t len, size_t *pos, const char **s,
    size_t *slen)
{
	const uint8_t	*nul;

	if (*pos >= len ||
	    (nul = memchr(buf + *pos, '\0', len - *pos)) == NULL)
		return (-1);
	*s = (const char *)(buf + *pos);
	*slen = (size_t)(nul - (buf + *pos));
	*pos += *slen + 1;
	return (0);
}

static int
has_ctrl(const char *s, size_t len)
{
	size_t		i;
	unsigned char	c;

	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f)
			return (1);
	}
	return (0);
}

static enum tftp_mode
mode_id(const char *s, size_t len)
{
	if (mem_caseeq(s, len, "netascii"))
		return (TFTP_MODE_NETASCII);
	if (mem_caseeq(s, len, "octet"))
		return (TFTP_MODE_OCTET);
	if (mem_caseeq(s, len, "mail"))
		return (TFTP_MODE_MAIL);
	return (TFTP_MODE_NONE);
}

/* Name/value pairs from buf[pos] to the end. */
static int
parse_opts(const uint8_t *buf, size_t len, size_t pos, struct tftp_req *req)
{
	const char	*s;
	size_t		 slen;

	req->opts = (const char *)(buf + pos);
	req->optslen = len - pos;
	while (pos < len) {
		if (req->nopts == TFTP_OPT_MAX)
			return (TFTP_ERR_OPT_MANY);
		if (get_str(buf, len, &pos, &s, &slen) == -1)
			return (TFTP_ERR_OPT_UNTERM);
		if (slen == 0)
			return (TFTP_ERR_OPT_EMPTY);
		if (has_ctrl(s, slen))
			return (TFTP_ERR_OPT_CHAR);
		if (pos == len)
			return (TFTP_ERR_OPT_NOVAL);
		if (get_str(buf, len, &pos, &s, &slen) == -1)
			return (TFTP_ERR_OPT_UNTERM);
		if (has_ctrl(s, slen))
			return (TFTP_ERR_OPT_CHAR);
		req->nopts++;
	}
	return (TFTP_ERR_NONE);
}

int
tftp_parse_request(const uint8_t *buf, size_t len, struct tftp_req *req)
{
	size_t	pos = 2;

	memset(req, 0, sizeof(*req));
	if (len < 2) {
		req->err = TFTP_ERR_SHORT;
		return (-1);
	}
	req->opcode = (uint16_t)(buf[0] << 8 | buf[1]);
	if (req->opcode != TFTP_RRQ && req->opcode != TFTP_WRQ)
		req->err = TFTP_ERR_OPCODE;
	else if (len > TFTP_REQ_MAX)
		req->err = TFTP_ERR_LONG;
	else if (len == pos)
		req->err = TFTP_ERR_SHORT;
	else if (get_str(buf, len, &pos, &req->file, &req->filelen) == -1)
		req->err = TFTP_ERR_FILE_UNTERM;
	else if (req->filelen == 0)
		req->err = TFTP_ERR_FILE_EMPTY;
	else if (req->filelen > TFTP_FILE_MAX)
		req->err = TFTP_ERR_FILE_LONG;
	else if (has_ctrl(req->file, req->filelen))
		req->err = TFTP_ERR_FILE_CHAR;
	else if (pos == len)
		req->err = TFTP_ERR_MODE_MISSING;
	else if (get_str(buf, len, &pos, &req->mode, &req->modelen) == -1)
		req->err = TFTP_ERR_MODE_UNTERM;
	else if ((req->modeid = mode_id(req->mode, req->modelen)) ==
	    TFTP_MODE_NONE)
		req->err = TFTP_ERR_MODE;
	else
		req->err = parse_opts(buf, len, pos, req);
	return (req->err == TFTP_ERR_NONE ? 0 : -1);
}

const char *
tftp_strerror(enum tftp_err err)
{
	if ((size_t)err >= nitems(tftp_errstr) || tftp_errstr[err] == NULL)
		return ("unknown error");
	return (tftp_errstr[err]);
}

size_t
tftp_error(uint8_t *buf, size_t len, uint16_t code, const char *msg)
{
	size_t	n = strlen(msg);

	if (len < 5)
		return (0);
	if (n > len - 5)
		n = len - 5;
	buf[0] = 0;
	buf[1] = TFTP_ERROR;
	buf[2] = code >> 8;
	buf[3] = code & 0xff;
	memcpy(buf + 4, msg, n);
	buf[4 + n] = '\0';
	return (n + 5);
}
