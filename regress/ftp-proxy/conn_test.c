/* SPDX-License-Identifier: ISC */
/*
 * conn_test.c: ftp-proxy/conn.c over AF_UNIX socket pairs (no network):
 * a write with nothing queued is on the wire before the loop runs and
 * arms nothing; a backlog arms EV_WRITE, arrives whole and in order,
 * and ends with one write callback; reads, EOF, a connect, a connect
 * that fails at once, and a write to a closed peer.  The last line is
 * "N passed, M failed".
 */
#include "compat.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "conn.h"

#define BIG	(4 * 1024 * 1024)

static struct event_base *base;
static int	nread, nwrite, nevent;
static short	lastwhat;
static int	lasterr;

static void
on_read(struct conn *c, void *arg)
{
	nread++;
}

static void
on_write(struct conn *c, void *arg)
{
	nwrite++;
}

static void
on_event(struct conn *c, short what, void *arg)
{
	nevent++;
	lastwhat = what;
	lasterr = errno;
}

static void
reset(void)
{
	nread = nwrite = nevent = 0;
	lastwhat = 0;
	lasterr = 0;
}

static struct conn *
pair(int *peer)
{
	struct conn	*c;
	int		 sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == -1)
		err(1, "socketpair");
	if ((c = conn_new(base, sv[0], on_read, on_write, on_event,
	    NULL)) == NULL)
		err(1, "conn_new");
	*peer = sv[1];
	return (c);
}

static void
loop_once(void)
{
	event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
}

static void
test_write(void)
{
	struct conn	*c;
	char		 buf[64];
	int		 peer;
	ssize_t		 n;

	reset();
	c = pair(&peer);
	check(conn_write(c, "220 hello\r\n", 11) == 0, "write queued");
	n = recv(peer, buf, sizeof(buf), MSG_DONTWAIT);
	check(n == 11 && memcmp(buf, "220 hello\r\n", 11) == 0,
	    "a write with nothing queued is sent before the loop runs");
	check(!c->warmed && conn_queued(c) == 0, "and arms no EV_WRITE");
	loop_once();
	check(nwrite == 0 && nevent == 0, "no callback for a direct send");
	conn_free(c);
	close(peer);
}

static void
test_backlog(void)
{
	struct conn	*c;
	static char	 out[BIG], in[BIG];
	size_t		 got = 0;
	ssize_t		 n;
	int		 peer, i, fl;

	reset();
	for (i = 0; i < BIG; i++)
		out[i] = (char)(i * 7 + i / 4096);
	c = pair(&peer);
	conn_write(c, out, BIG / 2);
	check(conn_queued(c) > 0 && c->warmed,
	    "what the socket does not take is queued, EV_WRITE armed");
	conn_write(c, out + BIG / 2, BIG / 2);
	fl = fcntl(peer, F_GETFL);
	fcntl(peer, F_SETFL, fl | O_NONBLOCK);
	for (i = 0; i < 100000 && got < BIG; i++) {
		loop_once();
		while ((n = read(peer, in + got, BIG - got)) > 0)
			got += (size_t)n;
	}
	loop_once();
	check(got == BIG && memcmp(in, out, BIG) == 0,
	    "the backlog arrives whole and in order");
	check(nwrite == 1, "one write callback once the queue is empty");
	check(!c->warmed && conn_queued(c) == 0, "then EV_WRITE is disarmed");
	conn_free(c);
	close(peer);
}

static void
test_read_eof(void)
{
	struct conn	*c;
	char		 buf[16];
	int		 peer;

	reset();
	c = pair(&peer);
	write(peer, "USER x\r\n", 8);
	loop_once();
	check(nread == 0, "nothing read while reading is off");
	conn_read(c, 1);
	loop_once();
	check(nread == 1 && evbuffer_get_length(conn_input(c)) == 8,
	    "read callback with the bytes in the input");
	evbuffer_remove(conn_input(c), buf, sizeof(buf));
	shutdown(peer, SHUT_WR);
	loop_once();
	check(nevent == 1 && lastwhat == (BEV_EVENT_READING | BEV_EVENT_EOF),
	    "the peer's FIN: an EOF event");
	check(!c->rarmed, "and reading stops");
	conn_free(c);
	close(peer);
}

static void
test_connect(void)
{
	struct sockaddr_un	 sun;
	struct conn		*c;
	char			 dir[] = "/tmp/conn_test.XXXXXX", buf[8];
	int			 l, fd, a;

	reset();
	if (mkdtemp(dir) == NULL)
		err(1, "mkdtemp");
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/s", dir);
	if ((l = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0)) == -1 ||
	    bind(l, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    listen(l, 4) == -1)
		err(1, "listen");
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0)) == -1)
		err(1, "socket");
	c = conn_new(base, fd, on_read, on_write, on_event, NULL);
	check(conn_connect(c, (struct sockaddr *)&sun, sizeof(sun)) == 0,
	    "connect started");
	conn_write(c, "QUIT\r\n", 6);
	check(conn_queued(c) == 6, "a write while connecting is queued");
	loop_once();
	check(nevent == 1 && lastwhat == BEV_EVENT_CONNECTED,
	    "connected event");
	loop_once();
	a = accept(l, NULL, NULL);
	check(a != -1 && recv(a, buf, sizeof(buf), MSG_DONTWAIT) == 6 &&
	    memcmp(buf, "QUIT\r\n", 6) == 0, "then the queue goes out");
	conn_free(c);
	if (a != -1)
		close(a);

	unlink(sun.sun_path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0)) == -1)
		err(1, "socket");
	c = conn_new(base, fd, on_read, on_write, on_event, NULL);
	check(conn_connect(c, (struct sockaddr *)&sun, sizeof(sun)) == -1 &&
	    errno == ENOENT, "a connect that fails at once: -1, errno");
	conn_free(c);
	close(l);
	rmdir(dir);
}

static void
test_write_error(void)
{
	struct conn	*c;
	int		 peer;

	reset();
	c = pair(&peer);
	close(peer);
	check(conn_write(c, "226 done\r\n", 10) == 0 && conn_queued(c) == 10,
	    "a write to a closed peer is queued");
	loop_once();
	check(nevent == 1 && (lastwhat & BEV_EVENT_ERROR) &&
	    (lastwhat & BEV_EVENT_WRITING) && lasterr == EPIPE,
	    "and reported by the event callback, EPIPE");
	conn_free(c);
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	alarm(30);		/* a broken conn.c fails, never hangs */
	if ((base = event_base_new()) == NULL)
		errx(1, "event_base_new");
	test_write();
	test_backlog();
	test_read_eof();
	test_connect();
	test_write_error();
	event_base_free(base);
	return (check_summary());
}
