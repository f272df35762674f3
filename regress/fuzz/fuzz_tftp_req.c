/* SPDX-License-Identifier: ISC */
/*
 * fuzz_tftp_req.c: libFuzzer target for tftp_parse_request().  Where a
 * request parses, the fields must describe the datagram exactly:
 * rebuilt from them it is byte for byte the input, and it parses again
 * to the same values.
 *
 * clang -fsanitize=fuzzer,address,undefined -Icommon -Itftp-proxy \
 *     $(pkg-config --cflags libbsd-overlay) regress/fuzz/fuzz_tftp_req.c \
 *     tftp-proxy/tftp_parse.c $(pkg-config --libs libbsd-overlay)
 */
#include "compat.h"

#include <stdlib.h>
#include <string.h>

#include "tftp_parse.h"

#define CHECK(x)	do { if (!(x)) abort(); } while (0)

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static size_t	rebuild(uint8_t *, const struct tftp_req *);

/* The request from its fields; returns its length. */
static size_t
rebuild(uint8_t *buf, const struct tftp_req *r)
{
	size_t	n = 0;

	buf[n++] = (uint8_t)(r->opcode >> 8);
	buf[n++] = (uint8_t)r->opcode;
	memcpy(buf + n, r->file, r->filelen);
	n += r->filelen;
	buf[n++] = '\0';
	memcpy(buf + n, r->mode, r->modelen);
	n += r->modelen;
	buf[n++] = '\0';
	memcpy(buf + n, r->opts, r->optslen);
	return (n + r->optslen);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tftp_req	 r, r2;
	uint8_t		 buf[TFTP_REQ_MAX];
	size_t		 i, n, nuls;

	if (tftp_parse_request(data, size, &r) == -1) {
		CHECK(r.err != TFTP_ERR_NONE);
		CHECK(tftp_strerror(r.err) != NULL);
		return (0);
	}
	CHECK(r.err == TFTP_ERR_NONE && size <= TFTP_REQ_MAX);
	CHECK(r.opcode == TFTP_RRQ || r.opcode == TFTP_WRQ);
	CHECK(r.filelen >= 1 && r.filelen <= TFTP_FILE_MAX);
	CHECK(r.modeid != TFTP_MODE_NONE && r.nopts <= TFTP_OPT_MAX);
	CHECK(memchr(r.file, '\0', r.filelen) == NULL);
	CHECK(memchr(r.mode, '\0', r.modelen) == NULL);
	for (i = 0, nuls = 0; i < r.optslen; i++)
		nuls += r.opts[i] == '\0';
	CHECK(nuls == 2 * r.nopts);
	CHECK(r.optslen == 0 || r.opts[r.optslen - 1] == '\0');

	n = rebuild(buf, &r);
	CHECK(n == size && memcmp(buf, data, size) == 0);
	CHECK(tftp_parse_request(buf, n, &r2) == 0);
	CHECK(r2.opcode == r.opcode && r2.filelen == r.filelen &&
	    r2.modelen == r.modelen && r2.modeid == r.modeid &&
	    r2.optslen == r.optslen && r2.nopts == r.nopts);
	return (0);
}
