/* SPDX-License-Identifier: ISC */
/*
 * pump.h: a session's line pump (pump.c): the lines of both sides to
 * the FTP relay (ftp_relay.c) and its actions carried out, long server
 * lines, client lines that are too long, the Telnet Synch, back
 * pressure, the order of FINs, and FTP over TLS's byte relay.
 *
 * The pump reaches the sides only through their conns, pfhelper only
 * through ctx->pfh, the clock through ctx->clock, and it ends a session
 * only through ctx->end (session.c's, the session's life, sets it), so
 * that a unit test drives it over socket pairs with a fake pfhelper.
 */
#ifndef PUMP_H
#define PUMP_H

#include "proxy.h"

/* Bytes came from a side, it may be written again, or its EOF. */
void	pump_read(struct ftp_session *, int);
void	pump_write(struct ftp_session *, int);
void	pump_eof(struct ftp_session *, int, short);
/* The relay may take lines again: soon (a zero timer), not now. */
void	pump_resume(struct ftp_session *);
/* s->resume's callback, arg the session. */
void	pump_resume_cb(int, short, void *);
/* Carry out the relay's answer: 0, or -1 when the session is gone. */
int	pump_do(struct ftp_session *, struct fr_out *);
/* Implicit FTP over TLS at the session's start: 0, or -1 (gone). */
int	pump_implicit(struct ftp_session *);
void	pump_send(struct side *, const char *, size_t);
/* A reply of the proxy's own to the client, CRLF added. */
void	pump_reply(struct ftp_session *, const char *, ...)
	    __attribute__((__format__ (printf, 2, 3)));
/* (Re)arm the session's one timer: connect, idle or close. */
void	pump_timer(struct ftp_session *, uint32_t);

#endif /* PUMP_H */
