/* SPDX-License-Identifier: ISC */
/*
 * telnet.c: remove the Telnet commands from an FTP control line.
 * See telnet.h.
 */
#include "compat.h"

#include "telnet.h"

int
telnet_strip(char *buf, size_t len, size_t *newlen, unsigned int *seen)
{
	const unsigned char	*in = (const unsigned char *)buf;
	size_t			 i, o;
	unsigned char		 c;

	*seen = 0;
	for (i = o = 0; i < len; i++) {
		if (in[i] != TELNET_IAC) {
			buf[o++] = (char)in[i];
			continue;
		}
		if (++i == len)
			return (-1);
		switch (c = in[i]) {
		case TELNET_IAC:
			buf[o++] = (char)TELNET_IAC;
			break;
		case TELNET_WILL:
		case TELNET_WONT:
		case TELNET_DO:
		case TELNET_DONT:
			if (++i == len)
				return (-1);
			*seen |= TELNET_SEEN_OTHER;
			break;
		case TELNET_SB:
			/* Up to IAC SE; IAC IAC inside is data of the SB. */
			for (i++; i + 1 < len; i++) {
				if (in[i] != TELNET_IAC)
					continue;
				if (in[i + 1] == TELNET_SE)
					break;
				i++;
			}
			if (i + 1 >= len)
				return (-1);
			i++;
			*seen |= TELNET_SEEN_OTHER;
			break;
		case TELNET_IP:
			*seen |= TELNET_SEEN_IP;
			break;
		case TELNET_DM:
			*seen |= TELNET_SEEN_DM;
			break;
		default:
			*seen |= TELNET_SEEN_OTHER;
			break;
		}
	}
	*newlen = o;
	return (0);
}
