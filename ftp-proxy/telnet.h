/* SPDX-License-Identifier: ISC */
/*
 * telnet.h: the Telnet layer of an FTP control line (RFC 854, RFC 959
 * section 4.1.3).  Pure: no globals, no I/O, no allocation.
 */
#ifndef TELNET_H
#define TELNET_H

#include <stddef.h>

#define TELNET_IAC	255
#define TELNET_DONT	254
#define TELNET_DO	253
#define TELNET_WONT	252
#define TELNET_WILL	251
#define TELNET_SB	250
#define TELNET_IP	244
#define TELNET_DM	242
#define TELNET_SE	240

/* What telnet_strip() removed, in telnet_strip()'s *seen. */
#define TELNET_SEEN_IP		0x01	/* IAC IP */
#define TELNET_SEEN_DM		0x02	/* IAC DM */
#define TELNET_SEEN_OTHER	0x04	/* any other command or option */

/*
 * Remove the Telnet commands from buf[0..len), in place, and set *newlen
 * to what is left.  IAC IAC becomes the data byte 255; IAC WILL, WONT,
 * DO or DONT and its option byte, IAC SB ... IAC SE, and every other
 * IAC and the byte after it (IP, AO, AYT, DM, NOP, GA, EC, EL, BRK, SE
 * and the unassigned codes) are removed.  *seen gets the TELNET_SEEN_*
 * bits of what was removed.  Returns 0, or -1 if buf ends inside a
 * command (a lone IAC, IAC WILL without its option, SB without SE):
 * buf is then undefined.
 */
int	telnet_strip(char *buf, size_t len, size_t *newlen, unsigned int *seen);

#endif /* TELNET_H */
