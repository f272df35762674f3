/* SPDX-License-Identifier: ISC */
/*
 * imsg.c: the imsg API of imsg_init(3) (current generation, imsgbuf_*),
 * written for Linux from the manual page.
 *
 * Wire format.  Each message is a struct imsg_hdr followed by its payload;
 * all fields are uint32_t in host byte order (both ends run on one host):
 *
 *	type	message type, opaque here
 *	len	header + payload in bytes; bit 31 (IMSG_FD_MARK) is set when
 *		a descriptor travels with the message
 *	peerid	the id argument of imsg_compose() (our request id)
 *	pid	the pid argument of imsg_compose()
 *
 * A len without the mark must lie in [IMSG_HEADER_SIZE, maxsize].  Anything
 * else breaks the stream for good: the read fails with ERANGE, and so does
 * imsg_get() once the messages received before the bad header are taken.
 * The receiver allocates one buffer of exactly len bytes per message, so a
 * peer cannot make us allocate more than maxsize for a message.
 *
 * Descriptors.  The sender passes a message's descriptor as SCM_RIGHTS on
 * the sendmsg() that carries the first byte of that message, and a
 * sendmsg() never carries bytes of an earlier message together with a
 * descriptor: it starts at a message with a descriptor or stops before one.
 * Linux may still hand the receiver the bytes of several sendmsg() calls in
 * one recvmsg(), so byte positions alone do not tell which message a
 * descriptor belongs to; the mark does.  The receiver queues descriptors in
 * arrival order and every marked header takes the oldest one.  A descriptor
 * arrives with the first byte of its header, so it is always queued by the
 * time that header is complete: a marked header with nothing queued is a
 * protocol error (EBADMSG).  Unless imsgbuf_allow_fdpass() was called, the
 * read has no room for descriptors: one sent anyway never becomes ours
 * (the kernel drops it and says MSG_CTRUNC) and the read fails with
 * EBADMSG.
 *
 * Outgoing messages are ibufs holding header and payload; rpos counts the
 * bytes already sent.  A queued descriptor is closed as soon as the first
 * byte of its message is sent, so a buffer with fd != -1 has rpos == 0.
 */
#include "compat.h"

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imsg.h"

#define IMSG_FD_MARK	0x80000000U
#define IMSGF_FDPASS	0x01		/* imsgbuf->flags */
#define IBUF_FD_VIEW	(-2)		/* fd of a read view: owns nothing */
#define MSGBUF_RSIZE	65536		/* bytes asked of one recvmsg() */
#define MSGBUF_MAXFDS	16		/* received, not yet claimed fds */
#define MSGBUF_CMSGFDS	4		/* fds accepted by one recvmsg() */
#define MSGBUF_IOV	64		/* buffers given to one sendmsg() */

TAILQ_HEAD(ibufq, ibuf);

struct msgbuf {
	struct ibufq		 wq;		/* messages to send */
	uint32_t		 wqlen;
	struct ibufq		 rq;		/* messages received whole */
	struct ibuf		*rcur;		/* message being received */
	unsigned char		 rhdr[IMSG_HEADER_SIZE]; /* header so far */
	size_t			 rhdrlen;
	int			 rfds[MSGBUF_MAXFDS];	/* ring of fds */
	size_t			 rfdhead;
	size_t			 rfdcount;
	int			 rerr;		/* errno: the stream broke */
	unsigned char		 rbuf[MSGBUF_RSIZE];
};

static int	ibuf_grow(struct ibuf *, size_t);
static void	ibufq_free(struct ibufq *);
static int	msgbuf_takefds(struct imsgbuf *, struct msghdr *);
static int	msgbuf_parse(struct imsgbuf *, const unsigned char *, size_t);
static int	msgbuf_newmsg(struct imsgbuf *);
static int	msgbuf_send(int, struct msgbuf *);
static void	msgbuf_drain(struct msgbuf *, size_t);

/*
 * ibuf: a byte buffer with a write end (wpos) and a read cursor (rpos).
 * A fixed buffer has max == size; a dynamic one grows up to max.  A read
 * view (imsg_get_ibuf) points into another buffer and has fd IBUF_FD_VIEW:
 * it cannot grow, hold a descriptor or be freed.
 */
struct ibuf *
ibuf_open(size_t len)
{
	struct ibuf	*buf;

	if ((buf = calloc(1, sizeof(*buf))) == NULL)
		return (NULL);
	if (len > 0 && (buf->buf = malloc(len)) == NULL) {
		free(buf);
		return (NULL);
	}
	buf->size = buf->max = len;
	buf->fd = -1;
	return (buf);
}

struct ibuf *
ibuf_dynamic(size_t len, size_t max)
{
	struct ibuf	*buf;

	if (max < len) {
		errno = EINVAL;
		return (NULL);
	}
	if ((buf = ibuf_open(len)) == NULL)
		return (NULL);
	buf->max = max;
	return (buf);
}

/* Make room for len more bytes at wpos. */
static int
ibuf_grow(struct ibuf *buf, size_t len)
{
	unsigned char	*p;
	size_t		 need, nsize;

	if (buf->fd == IBUF_FD_VIEW) {
		errno = EINVAL;
		return (-1);
	}
	if (len > buf->max - buf->wpos) {
		errno = ERANGE;
		return (-1);
	}
	need = buf->wpos + len;
	if (need <= buf->size)
		return (0);
	nsize = buf->size < buf->max / 2 ? buf->size * 2 : buf->max;
	if (nsize < need)
		nsize = need;
	if ((p = realloc(buf->buf, nsize)) == NULL)
		return (-1);
	buf->buf = p;
	buf->size = nsize;
	return (0);
}

void *
ibuf_reserve(struct ibuf *buf, size_t len)
{
	void	*p;

	if (ibuf_grow(buf, len) == -1)
		return (NULL);
	if (buf->buf == NULL) {
		errno = EINVAL;
		return (NULL);
	}
	p = buf->buf + buf->wpos;
	buf->wpos += len;
	return (p);
}

int
ibuf_add(struct ibuf *buf, const void *data, size_t len)
{
	void	*p;

	if (len == 0)
		return (ibuf_grow(buf, 0));
	if ((p = ibuf_reserve(buf, len)) == NULL)
		return (-1);
	memcpy(p, data, len);
	return (0);
}

void *
ibuf_data(const struct ibuf *buf)
{
	if (buf->buf == NULL)
		return (NULL);
	return (buf->buf + buf->rpos);
}

size_t
ibuf_size(const struct ibuf *buf)
{
	return (buf->wpos - buf->rpos);
}

int
ibuf_get(struct ibuf *buf, void *data, size_t len)
{
	if (len > ibuf_size(buf)) {
		errno = EBADMSG;
		return (-1);
	}
	if (len > 0)
		memcpy(data, buf->buf + buf->rpos, len);
	buf->rpos += len;
	return (0);
}

void
ibuf_free(struct ibuf *buf)
{
	int	 saved_errno;

	if (buf == NULL || buf->fd == IBUF_FD_VIEW)
		return;
	saved_errno = errno;
	if (buf->fd >= 0)
		close(buf->fd);
	free(buf->buf);
	free(buf);
	errno = saved_errno;
}

int
ibuf_fd_get(struct ibuf *buf)
{
	int	 fd;

	if (buf == NULL || buf->fd == IBUF_FD_VIEW)
		return (-1);
	fd = buf->fd;
	buf->fd = -1;
	return (fd);
}

/* Give buf the descriptor fd (or -1); a read view takes none. */
void
ibuf_fd_set(struct ibuf *buf, int fd)
{
	if (buf->fd == IBUF_FD_VIEW)
		return;
	if (buf->fd >= 0)
		close(buf->fd);
	buf->fd = fd < 0 ? -1 : fd;
}

/* imsgbuf */

int
imsgbuf_init(struct imsgbuf *imsgbuf, int fd)
{
	struct msgbuf	*mb;

	if ((mb = calloc(1, sizeof(*mb))) == NULL)
		return (-1);
	TAILQ_INIT(&mb->wq);
	TAILQ_INIT(&mb->rq);
	imsgbuf->w = mb;
	imsgbuf->pid = getpid();
	imsgbuf->maxsize = MAX_IMSGSIZE;
	imsgbuf->fd = fd;
	imsgbuf->flags = 0;
	return (0);
}

void
imsgbuf_allow_fdpass(struct imsgbuf *imsgbuf)
{
	imsgbuf->flags |= IMSGF_FDPASS;
}

/*
 * Read what the socket has: 1 when data was read or none was ready (EAGAIN,
 * EINTR), 0 at end of file, -1 on error.  Complete messages wait for
 * imsg_get(); a broken stream stays broken (rerr).
 */
int
imsgbuf_read(struct imsgbuf *imsgbuf)
{
	struct msgbuf	*mb = imsgbuf->w;
	union {
		struct cmsghdr	hdr;
		unsigned char	buf[CMSG_SPACE(sizeof(int) * MSGBUF_CMSGFDS)];
	} cmsgbuf;
	struct msghdr	 msg;
	struct iovec	 iov;
	ssize_t		 n;

	if (mb == NULL) {
		errno = EINVAL;
		return (-1);
	}
	if (mb->rerr != 0) {
		errno = mb->rerr;
		return (-1);
	}
	memset(&msg, 0, sizeof(msg));
	memset(&cmsgbuf, 0, sizeof(cmsgbuf));
	iov.iov_base = mb->rbuf;
	iov.iov_len = sizeof(mb->rbuf);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (imsgbuf->flags & IMSGF_FDPASS) {
		msg.msg_control = cmsgbuf.buf;
		msg.msg_controllen = sizeof(cmsgbuf.buf);
	}
	if ((n = recvmsg(imsgbuf->fd, &msg, MSG_CMSG_CLOEXEC)) == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return (1);
		return (-1);
	}
	if (msgbuf_takefds(imsgbuf, &msg) == -1 ||
	    msgbuf_parse(imsgbuf, mb->rbuf, (size_t)n) == -1) {
		mb->rerr = errno;
		return (-1);
	}
	return (n == 0 ? 0 : 1);
}

/* Queue the descriptors that came with a recvmsg(); close refused ones. */
static int
msgbuf_takefds(struct imsgbuf *imsgbuf, struct msghdr *msg)
{
	struct msgbuf	*mb = imsgbuf->w;
	struct cmsghdr	*cm;
	size_t		 i, nfd;
	int		 fd, bad;

	bad = (msg->msg_flags & MSG_CTRUNC) != 0;
	for (cm = CMSG_FIRSTHDR(msg); cm != NULL; cm = CMSG_NXTHDR(msg, cm)) {
		if (cm->cmsg_level != SOL_SOCKET ||
		    cm->cmsg_type != SCM_RIGHTS)
			continue;
		nfd = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < nfd; i++) {
			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int),
			    sizeof(fd));
			if (bad || (imsgbuf->flags & IMSGF_FDPASS) == 0 ||
			    mb->rfdcount == MSGBUF_MAXFDS) {
				close(fd);
				bad = 1;
				continue;
			}
			mb->rfds[(mb->rfdhead + mb->rfdcount) %
			    MSGBUF_MAXFDS] = fd;
			mb->rfdcount++;
		}
	}
	if (bad) {
		errno = EBADMSG;
		return (-1);
	}
	return (0);
}

/* Cut n received bytes into messages: header first, then the payload. */
static int
msgbuf_parse(struct imsgbuf *imsgbuf, const unsigned char *p, size_t n)
{
	struct msgbuf	*mb = imsgbuf->w;
	struct ibuf	*cur;
	size_t		 take;

	while (n > 0) {
		if ((cur = mb->rcur) == NULL) {
			take = IMSG_HEADER_SIZE - mb->rhdrlen;
			if (take > n)
				take = n;
			memcpy(mb->rhdr + mb->rhdrlen, p, take);
			mb->rhdrlen += take;
			if (mb->rhdrlen == IMSG_HEADER_SIZE &&
			    msgbuf_newmsg(imsgbuf) == -1)
				return (-1);
		} else {
			take = cur->size - cur->wpos;
			if (take > n)
				take = n;
			memcpy(cur->buf + cur->wpos, p, take);
			cur->wpos += take;
		}
		p += take;
		n -= take;
		if ((cur = mb->rcur) != NULL && cur->wpos == cur->size) {
			TAILQ_INSERT_TAIL(&mb->rq, cur, entry);
			mb->rcur = NULL;
		}
	}
	return (0);
}

/* A header is complete: check it and allocate exactly its message. */
static int
msgbuf_newmsg(struct imsgbuf *imsgbuf)
{
	struct msgbuf	*mb = imsgbuf->w;
	struct imsg_hdr	 hdr;
	struct ibuf	*buf;
	uint32_t	 len;

	memcpy(&hdr, mb->rhdr, sizeof(hdr));
	len = hdr.len & ~IMSG_FD_MARK;
	if (len < IMSG_HEADER_SIZE || len > imsgbuf->maxsize) {
		errno = ERANGE;
		return (-1);
	}
	if ((hdr.len & IMSG_FD_MARK) != 0 && mb->rfdcount == 0) {
		errno = EBADMSG;
		return (-1);
	}
	if ((buf = ibuf_open(len)) == NULL)
		return (-1);
	memcpy(buf->buf, mb->rhdr, IMSG_HEADER_SIZE);
	buf->wpos = IMSG_HEADER_SIZE;
	if ((hdr.len & IMSG_FD_MARK) != 0) {
		buf->fd = mb->rfds[mb->rfdhead];
		mb->rfdhead = (mb->rfdhead + 1) % MSGBUF_MAXFDS;
		mb->rfdcount--;
	}
	mb->rcur = buf;
	mb->rhdrlen = 0;
	return (0);
}

/* Send as much as the socket takes: 0 (even if some is left), -1 error. */
int
imsgbuf_write(struct imsgbuf *imsgbuf)
{
	struct msgbuf	*mb = imsgbuf->w;
	int		 rv;

	if (mb == NULL) {
		errno = EINVAL;
		return (-1);
	}
	while (!TAILQ_EMPTY(&mb->wq)) {
		if ((rv = msgbuf_send(imsgbuf->fd, mb)) == -1)
			return (-1);
		if (rv == 0)
			break;
	}
	return (0);
}

/* Send everything; on a non-blocking socket wait with poll(2). */
int
imsgbuf_flush(struct imsgbuf *imsgbuf)
{
	struct pollfd	 pfd;
	int		 rv;

	if (imsgbuf->w == NULL) {
		errno = EINVAL;
		return (-1);
	}
	while (!TAILQ_EMPTY(&imsgbuf->w->wq)) {
		if ((rv = msgbuf_send(imsgbuf->fd, imsgbuf->w)) == -1)
			return (-1);
		if (rv == 1)
			continue;
		pfd.fd = imsgbuf->fd;
		pfd.events = POLLOUT;
		pfd.revents = 0;
		if (poll(&pfd, 1, -1) == -1 && errno != EINTR)
			return (-1);
	}
	return (0);
}

/*
 * One sendmsg() from the head of the queue: 1 when bytes went out, 0 when
 * the socket is full, -1 on error.  A descriptor goes only with the first
 * buffer of a call, so the call stops before the next message that has one.
 */
static int
msgbuf_send(int sock, struct msgbuf *mb)
{
	union {
		struct cmsghdr	hdr;
		unsigned char	buf[CMSG_SPACE(sizeof(int))];
	} cmsgbuf;
	struct iovec	 iov[MSGBUF_IOV];
	struct msghdr	 msg;
	struct cmsghdr	*cm;
	struct ibuf	*buf, *first;
	ssize_t		 n;
	int		 niov = 0;

	memset(&msg, 0, sizeof(msg));
	first = TAILQ_FIRST(&mb->wq);
	TAILQ_FOREACH(buf, &mb->wq, entry) {
		if (niov == MSGBUF_IOV || (buf != first && buf->fd >= 0))
			break;
		iov[niov].iov_base = buf->buf + buf->rpos;
		iov[niov].iov_len = buf->wpos - buf->rpos;
		niov++;
	}
	msg.msg_iov = iov;
	msg.msg_iovlen = niov;
	if (first->fd >= 0) {
		memset(&cmsgbuf, 0, sizeof(cmsgbuf));
		msg.msg_control = cmsgbuf.buf;
		msg.msg_controllen = sizeof(cmsgbuf.buf);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &first->fd, sizeof(int));
	}
	while ((n = sendmsg(sock, &msg, MSG_NOSIGNAL)) == -1) {
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == ENOBUFS)
			return (0);
		return (-1);
	}
	if (first->fd >= 0) {
		close(first->fd);
		first->fd = -1;
	}
	msgbuf_drain(mb, (size_t)n);
	return (1);
}

/* Forget n sent bytes from the head of the queue. */
static void
msgbuf_drain(struct msgbuf *mb, size_t n)
{
	struct ibuf	*buf;
	size_t		 left;

	while (n > 0 && (buf = TAILQ_FIRST(&mb->wq)) != NULL) {
		left = buf->wpos - buf->rpos;
		if (n < left) {
			buf->rpos += n;
			return;
		}
		n -= left;
		TAILQ_REMOVE(&mb->wq, buf, entry);
		mb->wqlen--;
		ibuf_free(buf);
	}
}

uint32_t
imsgbuf_queuelen(struct imsgbuf *imsgbuf)
{
	if (imsgbuf->w == NULL)
		return (0);
	return (imsgbuf->w->wqlen);
}

static void
ibufq_free(struct ibufq *q)
{
	struct ibuf	*buf;

	while ((buf = TAILQ_FIRST(q)) != NULL) {
		TAILQ_REMOVE(q, buf, entry);
		ibuf_free(buf);
	}
}

/* Free all the imsgbuf holds; it must be initialised again before use. */
void
imsgbuf_clear(struct imsgbuf *imsgbuf)
{
	struct msgbuf	*mb = imsgbuf->w;
	int		 saved_errno;

	if (mb == NULL)
		return;
	saved_errno = errno;
	ibufq_free(&mb->wq);
	ibufq_free(&mb->rq);
	ibuf_free(mb->rcur);
	while (mb->rfdcount > 0) {
		close(mb->rfds[mb->rfdhead]);
		mb->rfdhead = (mb->rfdhead + 1) % MSGBUF_MAXFDS;
		mb->rfdcount--;
	}
	free(mb);
	imsgbuf->w = NULL;
	errno = saved_errno;
}

/* imsg: receiving */

/*
 * Take the next whole message: its length (header included), 0 when none
 * is complete, -1 once the stream is broken and nothing is left before
 * the break.  imsg->buf owns payload and descriptor until imsg_free().
 */
ssize_t
imsg_get(struct imsgbuf *imsgbuf, struct imsg *imsg)
{
	struct msgbuf	*mb = imsgbuf->w;
	struct ibuf	*buf;

	if (mb == NULL) {
		errno = EINVAL;
		return (-1);
	}
	if ((buf = TAILQ_FIRST(&mb->rq)) == NULL) {
		if (mb->rerr != 0) {
			errno = mb->rerr;
			return (-1);
		}
		return (0);
	}
	TAILQ_REMOVE(&mb->rq, buf, entry);
	memcpy(&imsg->hdr, buf->buf, sizeof(imsg->hdr));
	imsg->hdr.len &= ~IMSG_FD_MARK;
	buf->rpos = IMSG_HEADER_SIZE;
	imsg->buf = buf;
	imsg->data = ibuf_size(buf) > 0 ? ibuf_data(buf) : NULL;
	return ((ssize_t)imsg->hdr.len);
}

/* A read view of the payload; it shares memory with imsg. */
int
imsg_get_ibuf(struct imsg *imsg, struct ibuf *ibuf)
{
	if (imsg->buf == NULL) {
		errno = EBADMSG;
		return (-1);
	}
	memset(ibuf, 0, sizeof(*ibuf));
	ibuf->buf = ibuf_data(imsg->buf);
	ibuf->size = ibuf->max = ibuf->wpos = ibuf_size(imsg->buf);
	ibuf->fd = IBUF_FD_VIEW;
	return (0);
}

/* Copy a payload of exactly len bytes. */
int
imsg_get_data(struct imsg *imsg, void *data, size_t len)
{
	struct ibuf	 view;

	if (len == 0) {
		errno = EINVAL;
		return (-1);
	}
	if (imsg_get_ibuf(imsg, &view) == -1)
		return (-1);
	if (ibuf_size(&view) != len) {
		errno = EBADMSG;
		return (-1);
	}
	return (ibuf_get(&view, data, len));
}

int
imsg_get_fd(struct imsg *imsg)
{
	return (ibuf_fd_get(imsg->buf));
}

uint32_t
imsg_get_id(struct imsg *imsg)
{
	return (imsg->hdr.peerid);
}

size_t
imsg_get_len(struct imsg *imsg)
{
	if (imsg->buf == NULL)
		return (0);
	return (ibuf_size(imsg->buf));
}

uint32_t
imsg_get_type(struct imsg *imsg)
{
	return (imsg->hdr.type);
}

void
imsg_free(struct imsg *imsg)
{
	ibuf_free(imsg->buf);
	imsg->buf = NULL;
	imsg->data = NULL;
}

/* imsg: sending */

/*
 * Queue a message; fd (or -1) is passed with it and closed once sent.  On
 * failure nothing is queued and the caller still owns fd.
 */
int
imsg_compose(struct imsgbuf *imsgbuf, uint32_t type, uint32_t id, pid_t pid,
    int fd, const void *data, size_t datalen)
{
	struct ibuf	*buf;

	if ((buf = imsg_create(imsgbuf, type, id, pid, datalen)) == NULL)
		return (-1);
	if (imsg_add(buf, data, datalen) == -1)
		return (-1);
	ibuf_fd_set(buf, fd);
	imsg_close(imsgbuf, buf);
	return (1);
}

/*
 * Start a message with room for datalen bytes of payload; imsg_add() may
 * go further, up to the imsgbuf's maxsize.  len is set by imsg_close().
 */
struct ibuf *
imsg_create(struct imsgbuf *imsgbuf, uint32_t type, uint32_t id, pid_t pid,
    size_t datalen)
{
	struct imsg_hdr	 hdr;
	struct ibuf	*buf;

	if (datalen > imsgbuf->maxsize - IMSG_HEADER_SIZE) {
		errno = ERANGE;
		return (NULL);
	}
	memset(&hdr, 0, sizeof(hdr));
	hdr.type = type;
	hdr.peerid = id;
	hdr.pid = (uint32_t)pid;
	buf = ibuf_dynamic(IMSG_HEADER_SIZE + datalen, imsgbuf->maxsize);
	if (buf == NULL)
		return (NULL);
	if (ibuf_add(buf, &hdr, sizeof(hdr)) == -1) {
		ibuf_free(buf);
		return (NULL);
	}
	return (buf);
}

/* Append to a message; on failure the message is freed. */
int
imsg_add(struct ibuf *msg, const void *data, size_t datalen)
{
	if (msg == NULL) {
		errno = EINVAL;
		return (-1);
	}
	if (datalen > 0 && ibuf_add(msg, data, datalen) == -1) {
		ibuf_free(msg);
		return (-1);
	}
	return (datalen > INT_MAX ? INT_MAX : (int)datalen);
}

/* Fill in len (and the fd mark) and queue the message for writing. */
void
imsg_close(struct imsgbuf *imsgbuf, struct ibuf *msg)
{
	struct msgbuf	*mb = imsgbuf->w;
	struct imsg_hdr	 hdr;

	if (msg == NULL)
		return;
	if (mb == NULL || msg->fd == IBUF_FD_VIEW ||
	    msg->wpos < IMSG_HEADER_SIZE || msg->wpos > imsgbuf->maxsize) {
		ibuf_free(msg);
		return;
	}
	memcpy(&hdr, msg->buf, sizeof(hdr));
	hdr.len = (uint32_t)msg->wpos;
	if (msg->fd >= 0)
		hdr.len |= IMSG_FD_MARK;
	memcpy(msg->buf, &hdr, sizeof(hdr));
	msg->rpos = 0;
	TAILQ_INSERT_TAIL(&mb->wq, msg, entry);
	mb->wqlen++;
}
