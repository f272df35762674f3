/* SPDX-License-Identifier: ISC */
/*
 * fuzz_imsg.c: libFuzzer target for imsg framing.  The input is what a
 * hostile peer writes on the socket, in pieces whose sizes come from the
 * input itself; every message handed out must lie within the limits.
 */
#include "compat.h"

#include <sys/socket.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imsg.h"

#define CHECK(x)	do { if (!(x)) abort(); } while (0)

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
drain(struct imsgbuf *ib)
{
	struct imsg	imsg;
	ssize_t		n;

	while ((n = imsg_get(ib, &imsg)) > 0) {
		CHECK((size_t)n >= IMSG_HEADER_SIZE);
		CHECK((size_t)n <= MAX_IMSGSIZE);
		CHECK(imsg_get_len(&imsg) == (size_t)n - IMSG_HEADER_SIZE);
		CHECK(imsg_get_fd(&imsg) == -1);
		imsg_free(&imsg);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imsgbuf	ib;
	size_t		off = 0, chunk;
	int		sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == -1)
		return (0);
	if (imsgbuf_init(&ib, sv[1]) == -1)
		abort();
	while (off < size) {
		chunk = 1 + data[off] % 64;
		off++;
		if (chunk > size - off)
			chunk = size - off;
		if (chunk == 0 || write(sv[0], data + off, chunk) == -1)
			break;
		off += chunk;
		if (imsgbuf_read(&ib) == -1)
			break;
		drain(&ib);
	}
	close(sv[0]);
	(void)imsgbuf_read(&ib);
	drain(&ib);
	imsgbuf_clear(&ib);
	close(sv[1]);
	return (0);
}
