/*
 * util: the writing half of the Protocol Buffers wire format, as much as a
 * request body in the Kubernetes protobuf encoding needs (varints and
 * length-delimited fields; field numbers are those of the API's
 * generated.proto).
 */
#include <string.h>

#include "util.h"

void util_pb_varint(struct util_buf *b, uint64_t v)
{
	unsigned char out[10];
	size_t n = 0;
	while (v >= 0x80) {
		out[n++] = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	out[n++] = (unsigned char)v;
	util_buf_append(b, out, n);
}

void util_pb_uint(struct util_buf *b, unsigned field, uint64_t v)
{
	util_pb_varint(b, (uint64_t)field << 3); /* wire type 0 */
	util_pb_varint(b, v);
}

void util_pb_bytes(struct util_buf *b, unsigned field, const void *p, size_t n)
{
	util_pb_varint(b, (uint64_t)field << 3 | 2);
	util_pb_varint(b, n);
	util_buf_append(b, p, n);
}

void util_pb_text(struct util_buf *b, unsigned field, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	struct util_buf t = {0};
	size_t i = 0, l;

	if (n == 0)
		return;
	/* Valid UTF-8 (nearly always): as it is. */
	while (i < n && (l = util_utf8_decode(p + i, n - i, NULL)) > 0)
		i += l;
	if (i == n) {
		util_pb_bytes(b, field, s, n);
		return;
	}
	util_buf_reserve(&t, n + 8);
	util_buf_append(&t, s, i);
	while (i < n) {
		l = util_utf8_decode(p + i, n - i, NULL);
		if (l == 0) {
			util_buf_put_utf8(&t, 0xfffd);
			i++;
		} else {
			util_buf_append(&t, p + i, l);
			i += l;
		}
	}
	util_pb_bytes(b, field, t.data, t.len);
	util_buf_reset(&t);
}
