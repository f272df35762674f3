/* SPDX-License-Identifier: ISC */
/*
 * ftp_parse.c: pure parsers and formatters for the FTP control channel.
 * See ftp_parse.h for the contract of each function.
 */
#include "compat.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <string.h>

#include "ftp_parse.h"
#include "text.h"

/* Results of get_num(). */
#define NUM_OK		0
#define NUM_NONE	-1	/* no digit at all */
#define NUM_RANGE	-2	/* too many digits or too large */

static int	 is_blank(char);
static int	 is_digit(char);
static int	 get_num(const char *, size_t, size_t *, size_t, unsigned int,
		    unsigned int *);
static int	 get_six(const char *, size_t, size_t *,
		    struct ftp_hostport *, enum ftp_err *);
static int	 get_port_field(const char *, size_t, uint16_t *);
static int	 parse_port(struct ftp_cmd *);
static int	 parse_eprt(struct ftp_cmd *);
static int	 parse_eprt_af(const char *, size_t, int *, enum ftp_err *);
static int	 parse_eprt_addr(const char *, size_t, struct ftp_hostport *);
static int	 parse_epsv(struct ftp_cmd *);
static int	 reply_code(const char *, size_t, int *);
static int	 fmt_inet6(char *, size_t, const uint8_t *);
static int	 fmt_ret(int, size_t);

static const struct {
	const char	*name;
	enum ftp_verb	 verb;
} verbs[] = {
	{ "PORT", FTP_CMD_PORT },
	{ "EPRT", FTP_CMD_EPRT },
	{ "PASV", FTP_CMD_PASV },
	{ "EPSV", FTP_CMD_EPSV },
	{ "LPRT", FTP_CMD_LPRT },
	{ "LPSV", FTP_CMD_LPSV },
	{ "USER", FTP_CMD_USER },
	{ "AUTH", FTP_CMD_AUTH },
	{ "ABOR", FTP_CMD_ABOR }
};

static const uint8_t v4mapped[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

static int
is_blank(char c)
{
	return (c == ' ' || c == '\t' || c == '\r');
}

static int
is_digit(char c)
{
	return (c >= '0' && c <= '9');
}

/*
 * Read a decimal number at s[*pos]: at least one digit, at most maxdig
 * digits, value at most maxval.  Consumes every digit there, so a
 * number is never split; never overflows.  Advances *pos on NUM_OK.
 */
static int
get_num(const char *s, size_t len, size_t *pos, size_t maxdig,
    unsigned int maxval, unsigned int *val)
{
	size_t		i, n;
	unsigned int	v = 0;

	for (i = *pos, n = 0; i < len && is_digit(s[i]); i++, n++)
		if (n < maxdig)
			v = v * 10 + (unsigned int)(s[i] - '0');
	if (n == 0)
		return (NUM_NONE);
	if (n > maxdig || v > maxval)
		return (NUM_RANGE);
	*pos = i;
	*val = v;
	return (NUM_OK);
}

/*
 * Six comma-separated numbers 0-255 at s[*pos] (blanks allowed after
 * each comma) into an AF_INET hp.  Stops after the sixth number.
 */
static int
get_six(const char *s, size_t len, size_t *pos, struct ftp_hostport *hp,
    enum ftp_err *err)
{
	unsigned int	v[6];
	size_t		i = *pos;
	int		n, r;

	for (n = 0; n < 6; n++) {
		if (n > 0) {
			if (i >= len || s[i] != ',') {
				*err = FTP_ERR_SYNTAX;
				return (-1);
			}
			for (i++; i < len && is_blank(s[i]); i++)
				;
		}
		if ((r = get_num(s, len, &i, 3, 255, &v[n])) != NUM_OK) {
			if (r == NUM_NONE)
				*err = FTP_ERR_SYNTAX;
			else
				*err = n < 4 ? FTP_ERR_ADDR : FTP_ERR_PORT;
			return (-1);
		}
	}
	if (v[4] == 0 && v[5] == 0) {
		*err = FTP_ERR_PORT;
		return (-1);
	}
	memset(hp, 0, sizeof(*hp));
	hp->af = AF_INET;
	for (n = 0; n < 4; n++)
		hp->addr[n] = (uint8_t)v[n];
	hp->port = (uint16_t)(v[4] * 256 + v[5]);
	*pos = i;
	return (0);
}

/* The whole of s[0..len) is a port 1-65535 of at most five digits. */
static int
get_port_field(const char *s, size_t len, uint16_t *port)
{
	size_t		i = 0;
	unsigned int	v;

	if (get_num(s, len, &i, 5, 65535, &v) != NUM_OK || i != len ||
	    v == 0)
		return (-1);
	*port = (uint16_t)v;
	return (0);
}

static int
parse_port(struct ftp_cmd *cmd)
{
	size_t	pos = 0;

	if (get_six(cmd->arg, cmd->arglen, &pos, &cmd->hp, &cmd->err) == -1)
		return (-1);
	if (pos != cmd->arglen) {
		cmd->err = FTP_ERR_SYNTAX;
		return (-1);
	}
	return (0);
}

static int
parse_eprt_af(const char *s, size_t len, int *af, enum ftp_err *err)
{
	size_t	i;

	for (i = 0; i < len; i++)
		if (!is_digit(s[i]))
			break;
	if (len == 0 || i != len) {
		*err = FTP_ERR_SYNTAX;
		return (-1);
	}
	if (len == 1 && s[0] == '1')
		*af = AF_INET;
	else if (len == 1 && s[0] == '2')
		*af = AF_INET6;
	else {
		*err = FTP_ERR_PROTO;
		return (-1);
	}
	return (0);
}

/* inet_pton(3) on s[0..len) for hp->af; NUL bytes are not accepted. */
static int
parse_eprt_addr(const char *s, size_t len, struct ftp_hostport *hp)
{
	char	buf[INET6_ADDRSTRLEN];

	if (len == 0 || len >= sizeof(buf) || memchr(s, '\0', len) != NULL)
		return (-1);
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (inet_pton(hp->af, buf, hp->addr) != 1)
		return (-1);
	return (0);
}

/*
 * <d>af<d>addr<d>port<d>: a field ends at the next delimiter, so the
 * fields cannot contain it and the split is unambiguous.
 */
static int
parse_eprt(struct ftp_cmd *cmd)
{
	const char	*s = cmd->arg, *f[4];
	size_t		 len = cmd->arglen, flen[3], i, n;
	char		 d;

	if (len == 0 || s[0] < 33 || s[0] > 126)
		goto syntax;
	d = s[0];
	f[0] = s + 1;
	for (i = 1, n = 0; i < len && n < 3; i++) {
		if (s[i] == d) {
			flen[n] = (size_t)(s + i - f[n]);
			f[++n] = s + i + 1;
		}
	}
	if (n != 3 || f[3] != s + len)
		goto syntax;
	memset(&cmd->hp, 0, sizeof(cmd->hp));
	if (parse_eprt_af(f[0], flen[0], &cmd->hp.af, &cmd->err) == -1)
		return (-1);
	if (parse_eprt_addr(f[1], flen[1], &cmd->hp) == -1) {
		cmd->err = FTP_ERR_ADDR;
		return (-1);
	}
	if (get_port_field(f[2], flen[2], &cmd->hp.port) == -1) {
		cmd->err = FTP_ERR_PORT;
		return (-1);
	}
	return (0);
 syntax:
	cmd->err = FTP_ERR_SYNTAX;
	return (-1);
}

static int
parse_epsv(struct ftp_cmd *cmd)
{
	size_t	i;

	if (cmd->arglen == 0)
		cmd->epsv = FTP_EPSV_ANY;
	else if (mem_caseeq(cmd->arg, cmd->arglen, "1"))
		cmd->epsv = FTP_EPSV_INET;
	else if (mem_caseeq(cmd->arg, cmd->arglen, "2"))
		cmd->epsv = FTP_EPSV_INET6;
	else if (mem_caseeq(cmd->arg, cmd->arglen, "ALL"))
		cmd->epsv = FTP_EPSV_ALL;
	else {
		for (i = 0; i < cmd->arglen; i++)
			if (!is_digit(cmd->arg[i]))
				break;
		cmd->err = i == cmd->arglen ? FTP_ERR_PROTO : FTP_ERR_SYNTAX;
		return (-1);
	}
	return (0);
}

int
ftp_parse_cmd(const char *line, size_t len, struct ftp_cmd *cmd)
{
	size_t	i, v;

	memset(cmd, 0, sizeof(*cmd));
	for (i = 0; i < len && is_blank(line[i]); i++)
		;
	cmd->verbstr = line + i;
	for (; i < len && !is_blank(line[i]); i++)
		;
	cmd->verblen = (size_t)(line + i - cmd->verbstr);
	for (; i < len && is_blank(line[i]); i++)
		;
	cmd->arg = line + i;
	cmd->arglen = len - i;
	while (cmd->arglen > 0 && is_blank(cmd->arg[cmd->arglen - 1]))
		cmd->arglen--;

	cmd->verb = FTP_CMD_OTHER;
	for (v = 0; v < nitems(verbs); v++)
		if (mem_caseeq(cmd->verbstr, cmd->verblen, verbs[v].name))
			cmd->verb = verbs[v].verb;

	switch (cmd->verb) {
	case FTP_CMD_PORT:
		return (parse_port(cmd));
	case FTP_CMD_EPRT:
		return (parse_eprt(cmd));
	case FTP_CMD_EPSV:
		return (parse_epsv(cmd));
	default:
		return (0);
	}
}

/* Why a byte may not appear in a command line, or NULL. */
static const char *
ctl_why(unsigned char c)
{
	if (c == '\0')
		return ("NUL byte in the command line");
	if (c == '\r')
		return ("Bare CR in the command line");
	if (c == '\t')
		return ("TAB in the command line");
	if (c < 0x20 || c == 0x7f)
		return ("Control character in the command line");
	return (NULL);
}

int
ftp_canon_cmd(const char *line, size_t len, char *buf, size_t size,
    const char **why)
{
	const unsigned char	*u = (const unsigned char *)line;
	size_t			 i, o, v;

	for (i = 0; i < len; i++)
		if ((*why = ctl_why(u[i])) != NULL)
			return (-1);
	for (v = 0; v < len && u[v] != ' '; v++)
		if (!((u[v] >= 'A' && u[v] <= 'Z') ||
		    (u[v] >= 'a' && u[v] <= 'z'))) {
			*why = "Command name must be letters";
			return (-1);
		}
	if (v == 0) {
		*why = len == 0 ? "Empty command line" :
		    "Space before the command name";
		return (-1);
	}
	if (v > FTP_VERB_MAX) {
		*why = "Command name too long";
		return (-1);
	}
	if (v + 1 < len && u[v + 1] == ' ') {
		*why = "More than one space after the command name";
		return (-1);
	}
	*why = "Line too long";
	for (i = o = 0; i < len; i++) {
		if (i == v && i + 1 == len)
			break;		/* a lone SP after the verb */
		if (o + (u[i] == 0xff ? 2 : 1) >= size)
			return (-1);
		buf[o++] = i < v && u[i] >= 'a' ? (char)(u[i] - 'a' + 'A') :
		    line[i];
		if (u[i] == 0xff)
			buf[o++] = line[i];
	}
	if (o >= size)
		return (-1);	/* size 0 */
	buf[o] = '\0';
	*why = NULL;
	return ((int)o);
}

/* A reply code 100-599 in the first three bytes. */
static int
reply_code(const char *line, size_t len, int *code)
{
	if (len < 3 || line[0] < '1' || line[0] > '5' ||
	    !is_digit(line[1]) || !is_digit(line[2]))
		return (-1);
	*code = (line[0] - '0') * 100 + (line[1] - '0') * 10 +
	    (line[2] - '0');
	return (0);
}

int
ftp_reply_line(struct ftp_reply_state *st, const char *line, size_t len,
    int *code, int *final)
{
	int	c;

	*final = 0;
	if (st->code != 0) {
		/* Inside a multi-line reply: only "code " or "code" ends it. */
		*code = st->code;
		st->lines++;
		if (reply_code(line, len, &c) == 0 && c == st->code &&
		    (len == 3 || line[3] == ' ')) {
			st->code = 0;
			*final = 1;
		}
		return (0);
	}
	if (reply_code(line, len, &c) == -1 ||
	    (len > 3 && line[3] != ' ' && line[3] != '-')) {
		*code = 0;
		return (-1);
	}
	*code = c;
	st->lines = 1;
	if (len > 3 && line[3] == '-')
		st->code = c;
	else
		*final = 1;
	return (0);
}

int
ftp_parse_227(const char *line, size_t len, struct ftp_hostport *hp)
{
	enum ftp_err	err;
	size_t		i, j;

	if (len < 4 || memcmp(line, "227", 3) != 0 ||
	    (line[3] != ' ' && line[3] != '-'))
		return (-1);
	for (i = 4; i < len; i++) {
		if (!is_digit(line[i]) || is_digit(line[i - 1]))
			continue;
		for (j = i; j < len && is_digit(line[j]); j++)
			;
		if (j == len || line[j] != ',')
			continue;
		/* The first comma-separated run decides; it has no sign. */
		if (i > 4 && (line[i - 1] == '-' || line[i - 1] == '+'))
			return (-1);
		if (get_six(line, len, &i, hp, &err) == -1)
			return (-1);
		if (i < len && line[i] == ',')
			return (-1);
		return (0);
	}
	return (-1);
}

int
ftp_parse_229(const char *line, size_t len, uint16_t *port)
{
	const char	*p;
	size_t		 i, start;
	char		 d;

	if (len < 4 || memcmp(line, "229", 3) != 0 ||
	    (line[3] != ' ' && line[3] != '-'))
		return (-1);
	if ((p = memchr(line, '(', len)) == NULL)
		return (-1);
	i = (size_t)(p - line) + 1;
	if (len - i < 5)
		return (-1);
	d = line[i];
	if (d < 33 || d > 126 || line[i + 1] != d || line[i + 2] != d)
		return (-1);
	start = i + 3;
	for (i = start; i < len && line[i] != d; i++)
		;
	if (i == len)
		return (-1);
	return (get_port_field(line + start, i - start, port));
}

/* snprintf(3) result to formatter result. */
static int
fmt_ret(int r, size_t size)
{
	if (r < 0 || (size_t)r >= size)
		return (-1);
	return (r);
}

/* RFC 5952 text of an IPv6 address. */
static int
fmt_inet6(char *buf, size_t size, const uint8_t *a)
{
	char		 tmp[INET6_ADDRSTRLEN], *p = tmp;
	unsigned int	 w[8];
	int		 i, best = -1, bestlen = 0, cur = -1, mapped, last;

	for (i = 0; i < 8; i++) {
		w[i] = (unsigned int)a[2 * i] << 8 | a[2 * i + 1];
		if (w[i] != 0)
			cur = -1;
		else {
			if (cur == -1)
				cur = i;
			if (i - cur + 1 > bestlen) {
				best = cur;
				bestlen = i - cur + 1;
			}
		}
	}
	if (bestlen < 2)
		best = -1;
	mapped = memcmp(a, v4mapped, sizeof(v4mapped)) == 0;
	last = mapped ? 6 : 8;
	for (i = 0; i < last; i++) {
		if (i == best) {
			p += sprintf(p, "::");
			i += bestlen - 1;
			continue;
		}
		if (i > 0 && i != best + bestlen)
			*p++ = ':';
		p += sprintf(p, "%x", w[i]);
	}
	if (mapped)
		sprintf(p, ":%u.%u.%u.%u", a[12], a[13], a[14], a[15]);
	return (fmt_ret(snprintf(buf, size, "%s", tmp), size));
}

int
ftp_fmt_addr(char *buf, size_t size, const struct ftp_hostport *hp)
{
	const uint8_t	*a = hp->addr;

	if (hp->af == AF_INET)
		return (fmt_ret(snprintf(buf, size, "%u.%u.%u.%u",
		    a[0], a[1], a[2], a[3]), size));
	if (hp->af == AF_INET6)
		return (fmt_inet6(buf, size, a));
	return (-1);
}

int
ftp_fmt_227(char *buf, size_t size, const struct ftp_hostport *hp)
{
	const uint8_t	*a = hp->addr;

	if (hp->af != AF_INET || hp->port == 0)
		return (-1);
	return (fmt_ret(snprintf(buf, size,
	    "227 Entering Passive Mode (%u,%u,%u,%u,%u,%u)\r\n",
	    a[0], a[1], a[2], a[3], hp->port >> 8, hp->port & 0xff), size));
}

int
ftp_fmt_229(char *buf, size_t size, uint16_t port)
{
	if (port == 0)
		return (-1);
	return (fmt_ret(snprintf(buf, size,
	    "229 Entering Extended Passive Mode (|||%u|)\r\n", port), size));
}

int
ftp_fmt_port(char *buf, size_t size, const struct ftp_hostport *hp)
{
	const uint8_t	*a = hp->addr;

	if (hp->af != AF_INET || hp->port == 0)
		return (-1);
	return (fmt_ret(snprintf(buf, size, "PORT %u,%u,%u,%u,%u,%u\r\n",
	    a[0], a[1], a[2], a[3], hp->port >> 8, hp->port & 0xff), size));
}

int
ftp_fmt_eprt(char *buf, size_t size, const struct ftp_hostport *hp)
{
	char	addr[INET6_ADDRSTRLEN];

	if ((hp->af != AF_INET && hp->af != AF_INET6) || hp->port == 0 ||
	    ftp_fmt_addr(addr, sizeof(addr), hp) == -1)
		return (-1);
	return (fmt_ret(snprintf(buf, size, "EPRT |%d|%s|%u|\r\n",
	    hp->af == AF_INET ? 1 : 2, addr, hp->port), size));
}

int
ftp_hostport_unmap(struct ftp_hostport *hp)
{
	if (hp->af != AF_INET6 ||
	    memcmp(hp->addr, v4mapped, sizeof(v4mapped)) != 0)
		return (0);
	memmove(hp->addr, hp->addr + 12, 4);
	memset(hp->addr + 4, 0, sizeof(hp->addr) - 4);
	hp->af = AF_INET;
	return (1);
}

int
ftp_hostport_eq(const struct ftp_hostport *a, const struct ftp_hostport *b)
{
	size_t	n;

	if (a->af != b->af || a->port != b->port)
		return (0);
	n = a->af == AF_INET ? 4 : sizeof(a->addr);
	return (memcmp(a->addr, b->addr, n) == 0);
}

const char *
ftp_strerror(enum ftp_err err)
{
	switch (err) {
	case FTP_ERR_NONE:
		return ("no error");
	case FTP_ERR_SYNTAX:
		return ("syntax error in arguments");
	case FTP_ERR_ADDR:
		return ("bad address");
	case FTP_ERR_PORT:
		return ("bad port");
	case FTP_ERR_PROTO:
		return ("unsupported network protocol");
	}
	return ("unknown error");
}
