/* SPDX-License-Identifier: ISC */
/*
 * pfhraw: a front end gone bad, for regress/integration/hostile.sh.
 * Where pfhctl speaks the protocol (and can only break it with
 * zero-filled payloads), pfhraw puts arbitrary bytes, messages and
 * descriptors on pfhelper's socket.
 *
 *	pfhraw [-p pfhelper] [-- pfhelper-args ...]
 *
 * Starts pfhelper (path from -p, else $PFHELPER) as a front end does,
 * with a socketpair on fd 3, but sends nothing by itself: not even the
 * HELLO.  Then reads one command per line from stdin and prints one
 * line per command:
 *
 *	hello [version [role]]	a HELLO (default: this version, FTP)
 *	msg <type> <payload>	one imsg of that type (name or number)
 *	fd <type> <payload>	the same, with /dev/null passed along
 *	bytes <hex>		raw bytes, no framing
 *	reply [ms]		the next message: "msg TYPE error reason",
 *				or "eof", or "timeout" (default 2000 ms)
 *	eof [ms]		"eof" once pfhelper has closed its end, else
 *				"open" (default 5000 ms)
 *	pid			pfhelper's pid
 *
 * A payload is hex (any length, "-" for none) or zN for N zero bytes.
 * Every message carries request id 1.  Write errors print "err EPIPE".
 * At EOF on stdin pfhraw closes its end, waits (5 s at most, then
 * SIGKILL) and prints how pfhelper ended: "exit N" or "signal N".
 */
#include "compat.h"

#include <sys/socket.h>
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imsg.h"
#include "proto.h"

#define MAXWORDS	8
#define MAXPAYLOAD	(MAX_IMSGSIZE * 2)

static struct imsgbuf	ibuf;
static pid_t		helper;
static int		sock = -1;

static __dead void	usage(void);
static int		payload(const char *, unsigned char *, size_t *);
static int		msgtype(const char *, uint32_t *);
static int		wait_in(int);
static void		c_send(char **, int, int);
static void		c_bytes(char **, int);
static void		c_reply(char **, int);
static void		c_eof(char **, int);
static void		c_hello(char **, int);
static void		run(char *);
static void		finish(void);

static __dead void
usage(void)
{
	fprintf(stderr, "usage: pfhraw [-p pfhelper] [-- pfhelper-args]\n");
	exit(1);
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	return (-1);
}

/* Hex, "-" or zN into buf (MAXPAYLOAD bytes). */
static int
payload(const char *s, unsigned char *buf, size_t *len)
{
	const char	*errstr;
	size_t		 i, n;
	int		 hi, lo;

	*len = 0;
	if (strcmp(s, "-") == 0)
		return (0);
	if (s[0] == 'z') {
		n = strtonum(s + 1, 0, MAXPAYLOAD, &errstr);
		if (errstr != NULL)
			return (-1);
		memset(buf, 0, n);
		*len = n;
		return (0);
	}
	n = strlen(s);
	if (n % 2 != 0 || n / 2 > MAXPAYLOAD)
		return (-1);
	for (i = 0; i < n / 2; i++) {
		if ((hi = hexval(s[2 * i])) == -1 ||
		    (lo = hexval(s[2 * i + 1])) == -1)
			return (-1);
		buf[i] = (unsigned char)(hi << 4 | lo);
	}
	*len = n / 2;
	return (0);
}

static int
msgtype(const char *s, uint32_t *type)
{
	const char	*errstr;
	uint32_t	 t;

	for (t = 1; t < PFH_MAX; t++)
		if (strcmp(s, proto_name(t)) == 0) {
			*type = t;
			return (0);
		}
	*type = strtonum(s, 0, UINT32_MAX, &errstr);
	return (errstr == NULL ? 0 : -1);
}

static int
wait_in(int ms)
{
	struct pollfd	pfd;
	int		rc;

	pfd.fd = sock;
	pfd.events = POLLIN;
	while ((rc = poll(&pfd, 1, ms)) == -1 && errno == EINTR)
		;
	return (rc);
}

static void
flush_out(void)
{
	if (imsgbuf_flush(&ibuf) == -1)
		printf("err %s\n", strerrorname_np(errno) ? strerrorname_np(errno) :
		    "write");
	else
		printf("ok\n");
}

/* msg|fd <type> <payload> */
static void
c_send(char **w, int n, int withfd)
{
	static unsigned char	buf[MAXPAYLOAD];
	size_t			len;
	uint32_t		type;
	int			fd = -1;

	if (n != 3 || msgtype(w[1], &type) == -1 ||
	    payload(w[2], buf, &len) == -1) {
		printf("err EINVAL usage: %s type payload\n", w[0]);
		return;
	}
	if (withfd && (fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1) {
		printf("err %s\n", strerrorname_np(errno));
		return;
	}
	/* imsg_compose() refuses oversized messages: frame them by hand. */
	if (len + IMSG_HEADER_SIZE > MAX_IMSGSIZE) {
		struct imsg_hdr	h = { type, IMSG_HEADER_SIZE + len, 1, 0 };

		if (fd != -1)
			close(fd);
		if (write(sock, &h, sizeof(h)) != (ssize_t)sizeof(h) ||
		    write(sock, buf, len) != (ssize_t)len)
			printf("err %s\n", strerrorname_np(errno));
		else
			printf("ok\n");
		return;
	}
	if (imsg_compose(&ibuf, type, 1, 0, fd, buf, len) == -1) {
		printf("err %s\n", strerrorname_np(errno));
		return;
	}
	flush_out();
}

static void
c_bytes(char **w, int n)
{
	static unsigned char	buf[MAXPAYLOAD];
	size_t			len;

	if (n != 2 || payload(w[1], buf, &len) == -1) {
		printf("err EINVAL usage: bytes hex\n");
		return;
	}
	if (write(sock, buf, len) != (ssize_t)len)
		printf("err %s\n", strerrorname_np(errno));
	else
		printf("ok\n");
}

static void
c_hello(char **w, int n)
{
	struct pfh_hello	h = { .version = PFH_PROTO_VERSION,
	    .role = PFH_ROLE_FTP };
	const char		*errstr = NULL;

	if (n > 1)
		h.version = strtonum(w[1], 0, UINT32_MAX, &errstr);
	if (errstr == NULL && n > 2)
		h.role = strtonum(w[2], 0, UINT32_MAX, &errstr);
	if (errstr != NULL || n > 3) {
		printf("err EINVAL usage: hello [version [role]]\n");
		return;
	}
	if (imsg_compose(&ibuf, PFH_HELLO, 0, 0, -1, &h, sizeof(h)) == -1) {
		printf("err %s\n", strerrorname_np(errno));
		return;
	}
	flush_out();
}

static int
ms_arg(char **w, int n, int def)
{
	const char	*errstr;
	int		 ms;

	if (n < 2)
		return (def);
	ms = strtonum(w[1], 0, 60000, &errstr);
	return (errstr == NULL ? ms : def);
}

static void
c_reply(char **w, int n)
{
	struct pfh_reply	r;
	struct imsg		imsg;
	ssize_t			got;
	int			ms = ms_arg(w, n, 2000);

	for (;;) {
		if ((got = imsg_get(&ibuf, &imsg)) == -1) {
			printf("err %s\n", strerrorname_np(errno));
			return;
		}
		if (got > 0)
			break;
		if (wait_in(ms) <= 0) {
			printf("timeout\n");
			return;
		}
		if ((got = imsgbuf_read(&ibuf)) == -1) {
			printf("eof\n");	/* reset: gone as well */
			return;
		}
		if (got == 0) {
			printf("eof\n");
			return;
		}
	}
	if (imsg_get_type(&imsg) == PFH_HELLO)
		printf("msg PFH_HELLO\n");
	else if (proto_recv_reply(&imsg, &r) == 0)
		printf("msg %s %s %s\n", proto_name(imsg_get_type(&imsg)),
		    r.error ? strerrorname_np(r.error) : "0", r.reason);
	else
		printf("msg %s malformed\n", proto_name(imsg_get_type(&imsg)));
	imsg_free(&imsg);
}

/* Whether pfhelper closes its end within ms, what it sends discarded. */
static void
c_eof(char **w, int n)
{
	char	buf[4096];
	int	ms = ms_arg(w, n, 5000), i;
	ssize_t	r;

	for (i = 0; i < ms / 50 + 1; i++) {
		if (wait_in(50) <= 0)
			continue;
		if ((r = read(sock, buf, sizeof(buf))) == 0 ||
		    (r == -1 && errno != EINTR && errno != EAGAIN)) {
			printf("eof\n");
			return;
		}
	}
	printf("open\n");
}

static void
run(char *line)
{
	char	*w[MAXWORDS + 1], *p, *s;
	int	 n = 0;

	for (p = line; (s = strsep(&p, " \t\r\n")) != NULL;) {
		if (*s == '\0')
			continue;
		if (n == MAXWORDS) {
			printf("err E2BIG too many words\n");
			return;
		}
		w[n++] = s;
	}
	if (n == 0 || w[0][0] == '#')
		return;
	if (strcmp(w[0], "msg") == 0)
		c_send(w, n, 0);
	else if (strcmp(w[0], "fd") == 0)
		c_send(w, n, 1);
	else if (strcmp(w[0], "bytes") == 0)
		c_bytes(w, n);
	else if (strcmp(w[0], "hello") == 0)
		c_hello(w, n);
	else if (strcmp(w[0], "reply") == 0)
		c_reply(w, n);
	else if (strcmp(w[0], "eof") == 0)
		c_eof(w, n);
	else if (strcmp(w[0], "pid") == 0)
		printf("ok %ld\n", (long)helper);
	else
		printf("err EINVAL unknown command %s\n", w[0]);
}

/* Close our end; report how pfhelper ended. */
static void
finish(void)
{
	int	status, i;
	pid_t	p = 0;

	close(sock);
	for (i = 0; i < 100; i++) {
		if ((p = waitpid(helper, &status, WNOHANG)) != 0)
			break;
		usleep(50000);
	}
	if (p == 0) {
		kill(helper, SIGKILL);
		p = waitpid(helper, &status, 0);
		printf("timeout ");
	}
	if (p == -1)
		printf("err %s\n", strerrorname_np(errno));
	else if (WIFSIGNALED(status))
		printf("signal %d\n", WTERMSIG(status));
	else
		printf("exit %d\n", WEXITSTATUS(status));
}

int
main(int argc, char *argv[])
{
	char		*hargv[34], *line = NULL;
	const char	*path;
	size_t		 linesz = 0;
	int		 ch, i, sv[2];

	if ((path = getenv("PFHELPER")) == NULL)
		path = PFHELPER_PATH;
	while ((ch = getopt(argc, argv, "p:")) != -1) {
		switch (ch) {
		case 'p':
			path = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc > 32)
		usage();
	hargv[0] = "pfhelper";
	for (i = 0; i < argc; i++)
		hargv[i + 1] = argv[i];
	hargv[argc + 1] = NULL;

	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
		err(1, "socketpair");
	switch (helper = fork()) {
	case -1:
		err(1, "fork");
	case 0:
		if (dup2(sv[1], PFH_FD) == -1)
			_exit(127);
		closefrom(PFH_FD + 1);
		execv(path, hargv);
		_exit(127);
	}
	close(sv[1]);
	sock = sv[0];
	if (imsgbuf_init(&ibuf, sock) == -1)
		err(1, "imsgbuf_init");
	while (getline(&line, &linesz, stdin) != -1)
		run(line);
	free(line);
	finish();
	return (0);
}
