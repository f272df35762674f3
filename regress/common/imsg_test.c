/* SPDX-License-Identifier: ISC */
/*
 * imsg_test.c: common/imsg.c over real AF_UNIX socketpairs.
 *
 * Prints one FAIL line per failed check and ends with "N passed, M failed".
 * Frames written by hand follow the wire format described in imsg.c.
 */
#include "compat.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "imsg.h"

#define FD_MARK		0x80000000U	/* len bit 31: an fd comes along */
#define HDR		IMSG_HEADER_SIZE
#define MAXPAYLOAD	(MAX_IMSGSIZE - IMSG_HEADER_SIZE)
#define NMANY		500

struct pair {
	int		 sv[2];
	struct imsgbuf	 a;		/* on sv[0] */
	struct imsgbuf	 b;		/* on sv[1] */
};

static const char	*cur = "";

#define CHECK(c)		check_at((c), __LINE__, "%s", #c)
#define CHECKF(c, ...)		check_at((c), __LINE__, __VA_ARGS__)

static void	check_at(int, int, const char *, ...)
		    __attribute__((__format__ (printf, 3, 4)));
static int	count_fds(void);
static void	pair_open(struct pair *, int);
static void	pair_close(struct pair *);
static void	mkpipe(int[2]);
static void	fill(unsigned char *, size_t, unsigned int);
static ssize_t	pump(struct imsgbuf *, struct imsgbuf *, struct imsg *);
static ssize_t	sendraw(int, const void *, size_t, int);
static void	rawhdr(unsigned char *, uint32_t, uint32_t, uint32_t);
static int	through_pipe(int, int, unsigned char);
static int	pipe_eof(int);

/* A check in the test cur, at a line of this file. */
static void
check_at(int ok, int line, const char *fmt, ...)
{
	char	 why[512];
	va_list	 ap;

	if (ok) {
		check(1, cur);
		return;
	}
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	checkf(0, "%s (line %d): %s", cur, line, why);
}

/* The test may use /proc; the library must not. */
static int
count_fds(void)
{
	DIR	*d;
	int	 n = 0;

	if ((d = opendir("/proc/self/fd")) == NULL)
		return (-1);
	while (readdir(d) != NULL)
		n++;
	closedir(d);
	return (n);
}

static void
pair_open(struct pair *p, int nonblock)
{
	int	 type = SOCK_STREAM | SOCK_CLOEXEC;

	if (nonblock)
		type |= SOCK_NONBLOCK;
	if (socketpair(AF_UNIX, type, 0, p->sv) == -1 ||
	    imsgbuf_init(&p->a, p->sv[0]) == -1 ||
	    imsgbuf_init(&p->b, p->sv[1]) == -1) {
		perror("pair_open");
		exit(2);
	}
}

static void
pair_close(struct pair *p)
{
	imsgbuf_clear(&p->a);
	imsgbuf_clear(&p->b);
	if (p->sv[0] != -1)
		close(p->sv[0]);
	if (p->sv[1] != -1)
		close(p->sv[1]);
}

/* A pipe whose read end does not block: a leaked write end shows. */
static void
mkpipe(int p[2])
{
	if (pipe2(p, O_CLOEXEC) == -1 ||
	    fcntl(p[0], F_SETFL, O_NONBLOCK) == -1) {
		perror("pipe");
		exit(2);
	}
}

static void
fill(unsigned char *p, size_t len, unsigned int seed)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		p[i] = (unsigned char)(seed * 31 + i * 7 + (i >> 8));
}

/*
 * Move bytes from tx (may be NULL) to rx until rx has a message: the
 * imsg_get() result, 0 on EOF or after 2 s of silence, -1 on error.
 */
static ssize_t
pump(struct imsgbuf *tx, struct imsgbuf *rx, struct imsg *imsg)
{
	struct pollfd	 pfd;
	ssize_t		 n;
	int		 i, r;

	for (i = 0; i < 100000; i++) {
		if ((n = imsg_get(rx, imsg)) != 0)
			return (n);
		if (tx != NULL && imsgbuf_write(tx) == -1)
			return (-1);
		pfd.fd = rx->fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 2000) <= 0)
			return (0);
		if ((r = imsgbuf_read(rx)) == -1)
			return (-1);
		if (r == 0)
			return (imsg_get(rx, imsg));
	}
	return (0);
}

/* Write raw bytes, passing fd (if not -1) with the first one. */
static ssize_t
sendraw(int s, const void *data, size_t len, int fd)
{
	union {
		struct cmsghdr	hdr;
		unsigned char	buf[CMSG_SPACE(sizeof(int))];
	} cmsgbuf;
	struct msghdr	 msg;
	struct cmsghdr	*cm;
	struct iovec	 iov;

	memset(&msg, 0, sizeof(msg));
	memset(&cmsgbuf, 0, sizeof(cmsgbuf));
	iov.iov_base = (void *)(uintptr_t)data;
	iov.iov_len = len;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (fd != -1) {
		msg.msg_control = cmsgbuf.buf;
		msg.msg_controllen = sizeof(cmsgbuf.buf);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	return (sendmsg(s, &msg, MSG_NOSIGNAL));
}

static void
rawhdr(unsigned char *p, uint32_t type, uint32_t len, uint32_t id)
{
	struct imsg_hdr	 h;

	h.type = type;
	h.len = len;
	h.peerid = id;
	h.pid = 99;
	memcpy(p, &h, sizeof(h));
}

/*
 * Write c through wfd and close it; rfd must then give c and EOF, which
 * proves that no other copy of the write end is left open anywhere.
 */
static int
through_pipe(int wfd, int rfd, unsigned char c)
{
	unsigned char	 got[2];

	if (write(wfd, &c, 1) != 1)
		return (0);
	close(wfd);
	if (read(rfd, got, sizeof(got)) != 1 || got[0] != c)
		return (0);
	return (read(rfd, got, sizeof(got)) == 0);
}

/* True when every write end of the pipe is closed. */
static int
pipe_eof(int rfd)
{
	unsigned char	 c;

	return (read(rfd, &c, 1) == 0);
}

/* Payloads of many sizes, one at a time and all queued at once. */
static void
test_roundtrip(void)
{
	static const size_t sizes[] = { 0, 1, 2, 3, 7, 15, 16, 17, 31, 255,
	    256, 1000, 1023, 4095, 4096, 4097, 8191, MAXPAYLOAD - 1,
	    MAXPAYLOAD };
	static unsigned char	 out[MAXPAYLOAD], in[MAXPAYLOAD];
	struct pair		 p;
	struct imsg		 im;
	ssize_t			 n;
	size_t			 i, len;
	int			 batch, ok;

	cur = "roundtrip";
	for (batch = 0; batch < 2; batch++) {
		pair_open(&p, 1);
		for (i = 0; i < nitems(sizes); i++) {
			fill(out, sizes[i], i);
			CHECK(imsg_compose(&p.a, 100 + i, 7000 + i, 4000 + i,
			    -1, out, sizes[i]) == 1);
			if (batch)
				continue;
			CHECK(imsgbuf_queuelen(&p.a) == 1);
			CHECK(imsgbuf_write(&p.a) == 0);
			CHECK(imsgbuf_queuelen(&p.a) == 0);
		}
		if (batch)
			CHECK(imsgbuf_queuelen(&p.a) == nitems(sizes));
		for (i = 0; i < nitems(sizes); i++) {
			len = sizes[i];
			fill(out, len, i);
			n = pump(&p.a, &p.b, &im);
			ok = n == (ssize_t)(len + HDR) &&
			    imsg_get_type(&im) == 100 + i &&
			    imsg_get_id(&im) == 7000 + i &&
			    im.hdr.pid == (uint32_t)(4000 + i) &&
			    imsg_get_len(&im) == len &&
			    im.hdr.len == len + HDR &&
			    (len == 0) == (im.data == NULL) &&
			    (len == 0 || memcmp(im.data, out, len) == 0) &&
			    (len == 0 || (imsg_get_data(&im, in, len) == 0 &&
			    memcmp(in, out, len) == 0)) &&
			    imsg_get_fd(&im) == -1;
			CHECKF(ok, "batch %d size %zu: n %zd", batch, len, n);
			if (n > 0)
				imsg_free(&im);
		}
		CHECK(imsgbuf_queuelen(&p.a) == 0);
		CHECK(imsg_get(&p.b, &im) == 0);
		pair_close(&p);
	}
}

/* imsg_get_data and the imsg_get_ibuf reader check sizes. */
static void
test_reader(void)
{
	struct pair	 p;
	struct imsg	 im;
	struct ibuf	 rb;
	unsigned char	 pay[11] = "0123456789", buf[16];
	uint32_t	 u32;
	uint16_t	 u16;

	cur = "reader";
	pair_open(&p, 1);
	CHECK(imsg_compose(&p.a, 1, 0, 0, -1, pay, sizeof(pay)) == 1);
	CHECK(imsg_compose(&p.a, 2, 0, 0, -1, NULL, 0) == 1);
	CHECK(pump(&p.a, &p.b, &im) == (ssize_t)(HDR + sizeof(pay)));
	errno = 0;
	CHECK(imsg_get_data(&im, buf, 10) == -1 && errno == EBADMSG);
	errno = 0;
	CHECK(imsg_get_data(&im, buf, 12) == -1 && errno == EBADMSG);
	CHECK(imsg_get_data(&im, buf, 0) == -1);
	CHECK(imsg_get_data(&im, buf, 11) == 0 && memcmp(buf, pay, 11) == 0);
	/* imsg_get_data does not consume: again. */
	CHECK(imsg_get_data(&im, buf, 11) == 0);
	CHECK(imsg_get_ibuf(&im, &rb) == 0);
	CHECK(ibuf_size(&rb) == 11);
	CHECK(ibuf_get(&rb, &u32, sizeof(u32)) == 0 &&
	    memcmp(&u32, "0123", 4) == 0);
	CHECK(ibuf_get(&rb, &u16, sizeof(u16)) == 0 &&
	    memcmp(&u16, "45", 2) == 0);
	CHECK(ibuf_size(&rb) == 5);
	errno = 0;
	CHECK(ibuf_get(&rb, buf, 6) == -1 && errno == EBADMSG);
	CHECK(ibuf_size(&rb) == 5);
	CHECK(ibuf_get(&rb, buf, 1) == 0 && buf[0] == '6');
	CHECK(ibuf_get(&rb, buf, 4) == 0 && memcmp(buf, "789", 4) == 0);
	CHECK(ibuf_size(&rb) == 0 && ibuf_get(&rb, buf, 1) == -1);
	CHECK(ibuf_add(&rb, "x", 1) == -1);
	CHECK(ibuf_fd_get(&rb) == -1);
	ibuf_free(&rb);		/* a view: must be a no-op */
	imsg_free(&im);
	CHECK(pump(&p.a, &p.b, &im) == (ssize_t)HDR);
	CHECK(im.data == NULL && imsg_get_len(&im) == 0);
	errno = 0;
	CHECK(imsg_get_data(&im, buf, 4) == -1 && errno == EBADMSG);
	CHECK(imsg_get_ibuf(&im, &rb) == 0 && ibuf_size(&rb) == 0);
	CHECK(ibuf_get(&rb, buf, 1) == -1 && errno == EBADMSG);
	imsg_free(&im);
	imsg_free(&im);		/* twice is harmless */
	pair_close(&p);
}

/* Sizes at and over the limit. */
static void
test_maxsize(void)
{
	static unsigned char	 big[MAXPAYLOAD + 1];
	struct pair		 p;
	struct imsg		 im;
	struct ibuf		*m;

	cur = "maxsize";
	pair_open(&p, 1);
	CHECK(p.a.maxsize == MAX_IMSGSIZE);
	errno = 0;
	CHECK(imsg_compose(&p.a, 1, 0, 0, -1, big, MAXPAYLOAD + 1) == -1 &&
	    errno == ERANGE);
	errno = 0;
	CHECK(imsg_compose(&p.a, 1, 0, 0, -1, big, SIZE_MAX) == -1 &&
	    errno == ERANGE);
	errno = 0;
	CHECK(imsg_create(&p.a, 1, 0, 0, MAXPAYLOAD + 1) == NULL &&
	    errno == ERANGE);
	/* imsg_add past the limit fails and frees the message. */
	CHECK((m = imsg_create(&p.a, 1, 0, 0, 0)) != NULL);
	CHECK(imsg_add(m, big, MAXPAYLOAD) == MAXPAYLOAD);
	CHECK(imsg_add(m, big, 1) == -1);
	CHECK(imsgbuf_queuelen(&p.a) == 0);

	/* The largest message goes through. */
	fill(big, MAXPAYLOAD, 5);
	CHECK(imsg_compose(&p.a, 1, 0, 0, -1, big, MAXPAYLOAD) == 1);
	CHECK(pump(&p.a, &p.b, &im) == MAX_IMSGSIZE);
	imsg_free(&im);
	pair_close(&p);
}

/* imsg_create/imsg_add/imsg_close. */
static void
test_compose(void)
{
	struct pair	 p;
	struct imsg	 im;
	struct ibuf	*m;

	cur = "compose";
	pair_open(&p, 1);
	CHECK((m = imsg_create(&p.a, 10, 11, 12, 2)) != NULL);
	CHECK(imsg_add(m, "12", 2) == 2);
	CHECK(imsg_add(m, "3456", 4) == 4);	/* past the hint */
	imsg_close(&p.a, m);
	CHECK(imsg_add(NULL, "x", 1) == -1);
	imsg_close(&p.a, NULL);
	CHECK(imsgbuf_queuelen(&p.a) == 1);

	CHECK(pump(&p.a, &p.b, &im) == (ssize_t)HDR + 6 &&
	    imsg_get_type(&im) == 10 && imsg_get_id(&im) == 11 &&
	    im.hdr.pid == 12 && memcmp(im.data, "123456", 6) == 0);
	imsg_free(&im);
	pair_close(&p);
}

/* Plain ibufs: fixed and dynamic limits, the cursor, descriptors. */
static void
test_ibuf(void)
{
	struct ibuf	*b;
	unsigned char	 c[16];
	int		 pp[2];

	cur = "ibuf";
	CHECK((b = ibuf_open(4)) != NULL);
	CHECK(ibuf_add(b, "abcd", 4) == 0);
	errno = 0;
	CHECK(ibuf_add(b, "e", 1) == -1 && errno == ERANGE);
	CHECK(ibuf_size(b) == 4 && memcmp(ibuf_data(b), "abcd", 4) == 0);
	CHECK(ibuf_get(b, c, 2) == 0 && ibuf_size(b) == 2);
	CHECK(memcmp(ibuf_data(b), "cd", 2) == 0);
	CHECK(ibuf_get(b, c, 3) == -1 && ibuf_get(b, c, 2) == 0);
	ibuf_free(b);

	CHECK(ibuf_dynamic(5, 4) == NULL);
	CHECK((b = ibuf_dynamic(2, 10)) != NULL);
	CHECK(ibuf_add(b, "0123456", 7) == 0);
	CHECK(ibuf_reserve(b, 4) == NULL && errno == ERANGE);
	CHECK(ibuf_reserve(b, 3) != NULL);
	CHECK(ibuf_size(b) == 10 && memcmp(ibuf_data(b), "0123456", 7) == 0);
	CHECK(ibuf_fd_get(b) == -1);
	mkpipe(pp);
	ibuf_fd_set(b, pp[1]);
	CHECK(ibuf_fd_get(b) == pp[1] && ibuf_fd_get(b) == -1);
	ibuf_fd_set(b, pp[1]);
	ibuf_free(b);		/* closes the fd */
	CHECK(pipe_eof(pp[0]));
	close(pp[0]);
	ibuf_free(NULL);
}

/* A passed descriptor works; imsg_free closes one not taken. */
static void
test_fdpass(void)
{
	struct pair	 p;
	struct imsg	 im;
	int		 pp[2], fd, flags;

	cur = "fdpass";
	pair_open(&p, 1);
	imsgbuf_allow_fdpass(&p.b);
	mkpipe(pp);
	CHECK(imsg_compose(&p.a, 1, 2, 3, pp[1], "x", 1) == 1);
	CHECK(pump(&p.a, &p.b, &im) == (ssize_t)HDR + 1);
	CHECK((fd = imsg_get_fd(&im)) >= 0);
	CHECK(imsg_get_fd(&im) == -1);
	flags = fd >= 0 ? fcntl(fd, F_GETFD) : -1;
	CHECK(flags != -1 && (flags & FD_CLOEXEC));
	/* Sender's copy is gone, ours works and is the only one. */
	CHECK(fd >= 0 && through_pipe(fd, pp[0], 'h'));
	imsg_free(&im);
	close(pp[0]);

	/* Not taken: imsg_free closes it. */
	mkpipe(pp);
	CHECK(imsg_compose(&p.a, 1, 2, 3, pp[1], NULL, 0) == 1);
	CHECK(pump(&p.a, &p.b, &im) == (ssize_t)HDR);
	imsg_free(&im);
	CHECK(pipe_eof(pp[0]));
	close(pp[0]);

	/* Sent with imsgbuf_flush on a blocking socket. */
	mkpipe(pp);
	CHECK(fcntl(p.sv[0], F_SETFL, 0) == 0);
	CHECK(imsg_compose(&p.a, 4, 0, 0, pp[1], "y", 1) == 1);
	CHECK(imsgbuf_flush(&p.a) == 0 && imsgbuf_queuelen(&p.a) == 0);
	CHECK(pump(NULL, &p.b, &im) == (ssize_t)HDR + 1);
	CHECK((fd = imsg_get_fd(&im)) >= 0 && through_pipe(fd, pp[0], 'f'));
	imsg_free(&im);
	close(pp[0]);
	pair_close(&p);
}

/* Without imsgbuf_allow_fdpass a descriptor is closed, never delivered. */
static void
test_fdrefused(void)
{
	struct pair	 p;
	struct imsg	 im;
	int		 pp[2];

	cur = "fdrefused";
	pair_open(&p, 1);
	mkpipe(pp);
	CHECK(imsg_compose(&p.a, 1, 0, 0, pp[1], "z", 1) == 1);
	CHECK(imsgbuf_write(&p.a) == 0 && imsgbuf_queuelen(&p.a) == 0);
	errno = 0;
	CHECK(imsgbuf_read(&p.b) == -1 && errno == EBADMSG);
	errno = 0;
	CHECK(imsg_get(&p.b, &im) == -1 && errno == EBADMSG);
	CHECK(imsgbuf_read(&p.b) == -1);
	CHECK(pipe_eof(pp[0]));
	close(pp[0]);
	pair_close(&p);
}

/*
 * Frames written by hand one byte at a time, one with a descriptor on
 * its first byte; the receiver reads and tries imsg_get after each byte.
 */
static void
test_bytewise(void)
{
	static const size_t	 plen[] = { 0, 5, 300, 1, 17 };
	unsigned char		 frame[HDR + 300], out[300];
	struct pair		 p;
	struct imsg		 im;
	size_t			 i, j, flen;
	ssize_t			 n;
	int			 pp[2], errs = 0, fd;

	cur = "bytewise";
	pair_open(&p, 1);
	imsgbuf_allow_fdpass(&p.b);
	mkpipe(pp);
	for (i = 0; i < nitems(plen); i++) {
		flen = HDR + plen[i];
		rawhdr(frame, 50 + i, flen | (i == 2 ? FD_MARK : 0), i);
		fill(frame + HDR, plen[i], i);
		for (j = 0; j < flen; j++) {
			if (sendraw(p.sv[0], frame + j, 1,
			    i == 2 && j == 0 ? pp[1] : -1) != 1)
				errs++;
			if (imsgbuf_read(&p.b) != 1)
				errs++;
			n = imsg_get(&p.b, &im);
			if (j + 1 < flen) {
				if (n != 0)
					errs++;
				continue;
			}
			fill(out, plen[i], i);
			CHECKF(n == (ssize_t)flen && imsg_get_type(&im) ==
			    50 + i && imsg_get_id(&im) == i &&
			    im.hdr.pid == 99 &&
			    (plen[i] == 0 || memcmp(im.data, out,
			    plen[i]) == 0), "frame %zu", i);
			fd = imsg_get_fd(&im);
			CHECKF((i == 2) == (fd >= 0), "fd on frame %zu", i);
			if (fd >= 0) {
				close(pp[1]);
				CHECK(through_pipe(fd, pp[0], 'b'));
			}
			imsg_free(&im);
		}
	}
	CHECKF(errs == 0, "%d byte steps went wrong", errs);
	CHECK(imsg_get(&p.b, &im) == 0);
	close(pp[0]);
	pair_close(&p);
}

/* A small send buffer: writes are cut and resumed, fds still right. */
static void
test_partial_write(void)
{
	static unsigned char	 out[MAXPAYLOAD];
	struct pair		 p;
	struct imsg		 im;
	int			 pipes[40][2], sz = 4096, i, errs = 0, fd;
	int			 got = 0, hasfd, tries;
	ssize_t			 n;

	cur = "partial_write";
	pair_open(&p, 1);
	imsgbuf_allow_fdpass(&p.b);
	CHECK(setsockopt(p.sv[0], SOL_SOCKET, SO_SNDBUF, &sz,
	    sizeof(sz)) == 0);
	CHECK(setsockopt(p.sv[1], SOL_SOCKET, SO_RCVBUF, &sz,
	    sizeof(sz)) == 0);
	for (i = 0; i < 40; i++) {
		hasfd = i % 7 == 3;
		if (hasfd)
			mkpipe(pipes[i]);
		fill(out, MAXPAYLOAD - i, i);
		if (imsg_compose(&p.a, 1, i, 0, hasfd ? pipes[i][1] : -1,
		    out, MAXPAYLOAD - i) != 1)
			errs++;
	}
	CHECK(imsgbuf_write(&p.a) == 0);
	CHECK(imsgbuf_queuelen(&p.a) > 0);
	for (tries = 0; got < 40 && tries < 100000; tries++) {
		if (imsgbuf_write(&p.a) == -1 || imsgbuf_read(&p.b) == -1) {
			errs++;
			break;
		}
		while ((n = imsg_get(&p.b, &im)) > 0) {
			i = got++;
			fill(out, MAXPAYLOAD - i, i);
			if (n != MAX_IMSGSIZE - i ||
			    imsg_get_id(&im) != (uint32_t)i ||
			    memcmp(im.data, out, MAXPAYLOAD - i) != 0)
				errs++;
			fd = imsg_get_fd(&im);
			if ((i % 7 == 3) != (fd >= 0))
				errs++;
			else if (fd >= 0) {
				if (!through_pipe(fd, pipes[i][0], 'p'))
					errs++;
				close(pipes[i][0]);
			}
			imsg_free(&im);
		}
		if (n == -1)
			errs++;
	}
	CHECKF(got == 40 && errs == 0, "got %d, %d errors", got, errs);
	CHECK(imsgbuf_queuelen(&p.a) == 0);
	pair_close(&p);
}

/* Bad lengths end the stream with an error; earlier messages survive. */
static void
test_badframes(void)
{
	static const struct {
		const char	*name;
		uint32_t	 len;
		int		 err;
	} bad[] = {
		{ "len 0", 0, ERANGE },
		{ "len header - 1", HDR - 1, ERANGE },
		{ "len max + 1", MAX_IMSGSIZE + 1, ERANGE },
		{ "len 2^31 - 1", 0x7fffffffU, ERANGE },
		{ "len 2^32 - 1", 0xffffffffU, ERANGE },
		{ "mark, len 0", FD_MARK, ERANGE },
		{ "mark without fd", FD_MARK | (HDR + 4), EBADMSG },
	};
	unsigned char	 buf[HDR + 4 + HDR + 64];
	struct pair	 p;
	struct imsg	 im;
	size_t		 i, j;
	int		 r, ok, bytewise;

	cur = "badframes";
	for (bytewise = 0; bytewise < 2; bytewise++) {
		for (i = 0; i < nitems(bad); i++) {
			pair_open(&p, 1);
			imsgbuf_allow_fdpass(&p.b);
			memset(buf, 'j', sizeof(buf));
			rawhdr(buf, 1, HDR + 4, 0);
			rawhdr(buf + HDR + 4, 2, bad[i].len, 0);
			if (!bytewise)
				sendraw(p.sv[0], buf, sizeof(buf), -1);
			r = 1;
			for (j = 0; bytewise && j < HDR + 4 + HDR; j++) {
				sendraw(p.sv[0], buf + j, 1, -1);
				if ((r = imsgbuf_read(&p.b)) != 1)
					break;
			}
			if (!bytewise)
				r = imsgbuf_read(&p.b);
			ok = r == -1 && errno == bad[i].err &&
			    (!bytewise || j == HDR + 4 + HDR - 1);
			CHECKF(ok, "%s%s: read %d, %s", bad[i].name,
			    bytewise ? " (bytewise)" : "", r, strerror(errno));
			CHECKF(imsg_get(&p.b, &im) == (ssize_t)HDR + 4 &&
			    imsg_get_type(&im) == 1, "%s: good one first",
			    bad[i].name);
			imsg_free(&im);
			errno = 0;
			CHECKF(imsg_get(&p.b, &im) == -1 &&
			    errno == bad[i].err, "%s: imsg_get", bad[i].name);
			CHECKF(imsgbuf_read(&p.b) == -1 && imsg_get(&p.b,
			    &im) == -1, "%s: stays broken", bad[i].name);
			pair_close(&p);
		}
	}
}

/* EOF with a partial header or payload delivers nothing. */
static void
test_eof(void)
{
	static const struct {
		const char	*name;
		size_t		 sent;	/* bytes of a 100-byte payload frame */
		int		 whole;	/* a complete frame before it */
	} t[] = {
		{ "nothing", 0, 0 },
		{ "1 byte of header", 1, 0 },
		{ "header - 1", HDR - 1, 0 },
		{ "header only", HDR, 0 },
		{ "half the payload", HDR + 50, 0 },
		{ "all but one", HDR + 99, 0 },
		{ "whole, then half a header", 8, 1 },
	};
	unsigned char	 buf[HDR + 8 + HDR + 100];
	struct pair	 p;
	struct imsg	 im;
	size_t		 i, off;
	int		 r, n, reads;

	cur = "eof";
	for (i = 0; i < nitems(t); i++) {
		pair_open(&p, 1);
		off = 0;
		if (t[i].whole) {
			rawhdr(buf, 1, HDR + 8, 0);
			memcpy(buf + HDR, "complete", 8);
			off = HDR + 8;
		}
		rawhdr(buf + off, 2, HDR + 100, 0);
		memset(buf + off + HDR, 'e', 100);
		if (off + t[i].sent > 0)
			sendraw(p.sv[0], buf, off + t[i].sent, -1);
		close(p.sv[0]);
		p.sv[0] = -1;
		for (reads = 0; reads < 10; reads++)
			if ((r = imsgbuf_read(&p.b)) != 1)
				break;
		CHECKF(r == 0, "%s: read %d", t[i].name, r);
		n = 0;
		while (imsg_get(&p.b, &im) > 0) {
			n++;
			imsg_free(&im);
		}
		CHECKF(n == t[i].whole, "%s: %d delivered", t[i].name, n);
		CHECKF(imsg_get(&p.b, &im) == 0, "%s: imsg_get", t[i].name);
		pair_close(&p);
	}
}

/* A child queues NMANY messages and flushes; all arrive in order. */
static void
test_many(void)
{
	static unsigned char	 out[300];
	struct pair		 p;
	struct imsgbuf		 w;
	struct imsg		 im;
	pid_t			 pid;
	int			 i, errs = 0, got = 0, status;
	ssize_t			 n;

	cur = "many";
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p.sv) == -1)
		exit(2);
	fflush(stdout);
	if ((pid = fork()) == -1)
		exit(2);
	if (pid == 0) {
		close(p.sv[1]);
		if (imsgbuf_init(&w, p.sv[0]) == -1)
			_exit(3);
		for (i = 0; i < NMANY; i++) {
			fill(out, i % 300, i);
			if (imsg_compose(&w, 2000 + i, i, 0, -1, out,
			    i % 300) != 1)
				errs++;
		}
		if (imsgbuf_queuelen(&w) != NMANY)
			errs++;
		if (imsgbuf_flush(&w) == -1 || imsgbuf_queuelen(&w) != 0)
			errs++;
		imsgbuf_clear(&w);
		close(p.sv[0]);
		_exit(errs == 0 ? 0 : 1);
	}
	close(p.sv[0]);
	if (imsgbuf_init(&p.b, p.sv[1]) == -1)
		exit(2);
	while ((n = pump(NULL, &p.b, &im)) > 0) {
		fill(out, got % 300, got);
		if (n != (ssize_t)HDR + got % 300 ||
		    imsg_get_type(&im) != 2000 + (uint32_t)got ||
		    imsg_get_id(&im) != (uint32_t)got ||
		    (got % 300 && memcmp(im.data, out, got % 300) != 0))
			errs++;
		got++;
		imsg_free(&im);
	}
	CHECKF(got == NMANY && errs == 0, "got %d of %d, %d errors", got,
	    NMANY, errs);
	CHECK(n == 0);
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	    WEXITSTATUS(status) == 0);
	imsgbuf_clear(&p.b);
	close(p.sv[1]);
}

/*
 * Descriptors on some messages, in one write: each lands on its own
 * message (which the payload names) and nowhere else.
 */
static void
test_interleaved(void)
{
	static const char	 pat[] = "pffppfpfffpppfp";
	struct pair		 p;
	struct imsg		 im;
	int			 pipes[sizeof(pat)][2], i, fd, errs = 0;
	int			 got = 0;
	uint32_t		 idx;

	cur = "interleaved";
	pair_open(&p, 1);
	imsgbuf_allow_fdpass(&p.b);
	for (i = 0; pat[i] != '\0'; i++) {
		idx = i;
		if (pat[i] == 'f')
			mkpipe(pipes[i]);
		CHECK(imsg_compose(&p.a, 1, i, 0, pat[i] == 'f' ?
		    pipes[i][1] : -1, &idx, sizeof(idx)) == 1);
	}
	CHECK(imsgbuf_write(&p.a) == 0 && imsgbuf_queuelen(&p.a) == 0);
	while (pump(NULL, &p.b, &im) > 0) {
		i = got++;
		if (imsg_get_data(&im, &idx, sizeof(idx)) == -1 ||
		    idx != (uint32_t)i || imsg_get_id(&im) != idx)
			errs++;
		fd = imsg_get_fd(&im);
		if (pat[i] == 'f') {
			CHECKF(fd >= 0 && through_pipe(fd, pipes[i][0],
			    'a' + i), "message %d: its own fd", i);
			close(pipes[i][0]);
		} else {
			CHECKF(fd == -1, "message %d: no fd", i);
			if (fd >= 0)
				close(fd);
		}
		imsg_free(&im);
		if (got == (int)sizeof(pat) - 1)
			break;
	}
	CHECKF(got == (int)sizeof(pat) - 1 && errs == 0, "got %d, %d errors",
	    got, errs);
	pair_close(&p);
}

/* EAGAIN, EPIPE, a cleared imsgbuf, and queued fds closed by clear. */
static void
test_errors(void)
{
	unsigned char	 hdr[HDR];
	struct pair	 p;
	struct imsg	 im;
	int		 pp[2];

	cur = "errors";
	pair_open(&p, 1);
	CHECK(imsgbuf_read(&p.b) == 1);		/* EAGAIN is no error */
	CHECK(imsg_get(&p.b, &im) == 0);
	CHECK(imsgbuf_write(&p.a) == 0);	/* nothing queued */
	CHECK(imsgbuf_flush(&p.a) == 0);

	/* Queued fds on both sides are closed by imsgbuf_clear. */
	mkpipe(pp);
	CHECK(imsg_compose(&p.a, 1, 0, 0, pp[1], NULL, 0) == 1);
	imsgbuf_clear(&p.a);
	CHECK(pipe_eof(pp[0]));
	close(pp[0]);
	CHECK(imsgbuf_queuelen(&p.a) == 0);
	errno = 0;
	CHECK(imsgbuf_read(&p.a) == -1 && errno == EINVAL);
	CHECK(imsg_get(&p.a, &im) == -1);
	imsgbuf_clear(&p.a);			/* twice is harmless */

	imsgbuf_allow_fdpass(&p.b);
	mkpipe(pp);
	rawhdr(hdr, 1, FD_MARK | (HDR + 4), 0);
	CHECK(sendraw(p.sv[0], hdr, 3, pp[1]) == 3);
	close(pp[1]);
	CHECK(imsgbuf_read(&p.b) == 1 && imsg_get(&p.b, &im) == 0);
	imsgbuf_clear(&p.b);
	CHECK(pipe_eof(pp[0]));
	close(pp[0]);
	pair_close(&p);

	/* The peer is gone: EPIPE, and no SIGPIPE. */
	pair_open(&p, 1);
	close(p.sv[1]);
	p.sv[1] = -1;
	CHECK(imsg_compose(&p.a, 1, 0, 0, -1, "x", 1) == 1);
	errno = 0;
	CHECK(imsgbuf_write(&p.a) == -1 && errno == EPIPE);
	CHECK(imsgbuf_flush(&p.a) == -1);
	CHECK(imsgbuf_queuelen(&p.a) == 1);
	CHECK(imsgbuf_read(&p.a) == 0);
	pair_close(&p);
}

int
main(void)
{
	int	 before, after;

	setvbuf(stdout, NULL, _IOLBF, 0);
	before = count_fds();
	test_ibuf();
	test_roundtrip();
	test_reader();
	test_maxsize();
	test_compose();
	test_fdpass();
	test_fdrefused();
	test_bytewise();
	test_partial_write();
	test_badframes();
	test_eof();
	test_many();
	test_interleaved();
	test_errors();
	after = count_fds();
	cur = "main";
	CHECKF(before > 0 && before == after, "fds: %d before, %d after",
	    before, after);
	return (check_summary());
}
