#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../../pkg/util/util.h"

struct b64_case {
	char in[64];
	unsigned flags;
	size_t max;
	int rc;
	char out[32];
	size_t outlen;
};

static struct b64_case b64_cases[] = {
    {"", 0, 16, 0, "", 0},
    {"Zm9v", 0, 16, 0, "foo", 3},
    {"Zm8=", 0, 16, 0, "fo", 2},
    {"Zg==", 0, 16, 0, "f", 1},
    {"Zm9vYmFy", 0, 16, 0, "foobar", 6},
    {"Zm9v\nYmFy", 0, 16, -1, "", 0}, /* newline not skipped */
    {"Zm9v\r\nYmFy", UTIL_B64_SKIP_NEWLINES, 16, 0, "foobar", 6},
    {"Zm9v YmFy", UTIL_B64_SKIP_NEWLINES, 16, -1, "", 0}, /* space is not a newline */
    {"Zm9v YmFy\t", UTIL_B64_SKIP_SPACE, 16, 0, "foobar", 6},
    {"Zm9", 0, 16, -1, "", 0}, /* not a whole quantum */
    {"Z===", 0, 16, -1, "", 0}, /* three pads */
    {"Zg==Zg==", 0, 16, -1, "", 0}, /* data after padding */
    {"Zm=v", 0, 16, -1, "", 0}, /* padding inside */
    {"Zm9-", 0, 16, -1, "", 0}, /* URL alphabet refused */
    {"Zh==", 0, 16, 0, "f", 1}, /* non-zero bits under padding... */
    {"Zh==", UTIL_B64_CANONICAL, 16, -1, "", 0}, /* ...refused when canonical */
    {"Zm9=", UTIL_B64_CANONICAL, 16, -1, "", 0},
    {"Zm8=", UTIL_B64_CANONICAL, 16, 0, "fo", 2},
    {"Zm9vYmFy", 0, 5, -2, "", 0}, /* over the cap */
    {"Zm9vYmE=", 0, 5, 0, "fooba", 5}, /* exactly the cap */
    {"Zg==Zm9v", 0, 16, -1, "", 0}, /* whole quanta after padding */
    {"Zm\n9vYmFy\nZm9v", UTIL_B64_SKIP_NEWLINES, 16, 0, "foobarfoo", 9}, /* inside a quantum */
    {"Zm9vYm\x80y", 0, 16, -1, "", 0}, /* a high byte among digits */
};

ParameterizedTestParameters(util, base64)
{
	return cr_make_param_array(struct b64_case, b64_cases,
	                           sizeof(b64_cases) / sizeof(b64_cases[0]));
}

ParameterizedTest(struct b64_case *c, util, base64)
{
	char *out = NULL;
	size_t n = 99;
	int rc = util_base64_decode(c->in, strlen(c->in), c->flags, c->max, &out, &n);
	cr_assert_eq(rc, c->rc, "\"%s\" flags %u: rc %d, want %d", c->in, c->flags, rc, c->rc);
	if (rc == 0) {
		cr_assert_eq(n, c->outlen);
		cr_assert(memcmp(out, c->out, n) == 0);
		cr_assert_eq(out[n], '\0');
	} else {
		cr_assert_null(out);
	}
	free(out);
}

struct utf8_case {
	unsigned char in[8];
	size_t n;
	size_t len;
	uint32_t cp;
};

static struct utf8_case utf8_cases[] = {
    {{'a'}, 1, 1, 'a'},
    {{0xc3, 0xa9}, 2, 2, 0xe9},
    {{0xe2, 0x82, 0xac}, 3, 3, 0x20ac},
    {{0xf0, 0x9f, 0x98, 0x80}, 4, 4, 0x1f600},
    {{0xc3}, 1, 0, 0}, /* truncated */
    {{0xc0, 0xaf}, 2, 0, 0}, /* overlong '/' */
    {{0xe0, 0x80, 0xaf}, 3, 0, 0}, /* overlong */
    {{0xed, 0xa0, 0x80}, 3, 0, 0}, /* surrogate */
    {{0xf4, 0x90, 0x80, 0x80}, 4, 0, 0}, /* past U+10FFFF */
    {{0x80}, 1, 0, 0}, /* lone continuation */
    {{0xc2, 0x41}, 2, 0, 0}, /* bad continuation */
};

ParameterizedTestParameters(util, utf8)
{
	return cr_make_param_array(struct utf8_case, utf8_cases,
	                           sizeof(utf8_cases) / sizeof(utf8_cases[0]));
}

ParameterizedTest(struct utf8_case *c, util, utf8)
{
	uint32_t cp = 0;
	size_t len = util_utf8_decode(c->in, c->n, &cp);
	cr_assert_eq(len, c->len);
	if (len) {
		cr_assert_eq(cp, c->cp);
		struct util_buf b = {0};
		util_buf_put_utf8(&b, cp);
		cr_assert_eq(b.len, c->n);
		cr_assert(memcmp(b.data, c->in, c->n) == 0);
		util_buf_reset(&b);
	}
}

Test(util, json_escape)
{
	struct util_buf b = {0};
	const char in[] = "a\"b\\c\n\x01\x7f\xc3\xa9\xff";
	util_buf_json_escape(&b, in, sizeof(in) - 1);
	cr_assert_str_eq(util_buf_str(&b), "a\\\"b\\\\c\\n\\u0001\\u007f\xc3\xa9\\ufffd");
	util_buf_reset(&b);
	/* An embedded NUL is escaped, not a terminator. */
	util_buf_json_escape(&b, "x\0y", 3);
	cr_assert_str_eq(util_buf_str(&b), "x\\u0000y");
	util_buf_reset(&b);
}

Test(util, buf_printf_and_take)
{
	struct util_buf b = {0};
	cr_assert_str_eq(util_buf_str(&b), "");
	for (int i = 0; i < 1000; i++)
		util_buf_printf(&b, "%d,", i);
	cr_assert_eq(strncmp(b.data, "0,1,2,", 6), 0);
	char *s = util_buf_take(&b);
	cr_assert_null(b.data);
	cr_assert_eq(b.len, 0);
	cr_assert_eq(strlen(s), 3890);
	free(s);
	char *e = util_buf_take(&b);
	cr_assert_str_eq(e, "");
	free(e);
}

Test(util, parse_int64)
{
	int64_t v;
	cr_assert_eq(util_parse_int64("42", 0, 100, &v), 0);
	cr_assert_eq(v, 42);
	cr_assert_eq(util_parse_int64("-1", 0, 100, &v), -1);
	cr_assert_eq(util_parse_int64("101", 0, 100, &v), -1);
	cr_assert_eq(util_parse_int64("4x", 0, 100, &v), -1);
	cr_assert_eq(util_parse_int64("", 0, 100, &v), -1);
	cr_assert_eq(util_parse_int64(NULL, 0, 100, &v), -1);
	cr_assert_eq(util_parse_int64("99999999999999999999", INT64_MIN, INT64_MAX, &v), -1);
}

Test(util, strings)
{
	cr_assert(util_strcaseeq("Web.Shop.SVC", "web.shop.svc"));
	cr_assert_not(util_strcaseeq("web", "webs"));
	cr_assert(util_has_prefix("system:node:a", "system:node:"));
	cr_assert_not(util_has_prefix("system:no", "system:node:"));
	cr_assert(util_glob_match("team-*", "team-a"));
	cr_assert_not(util_glob_match("team-*", "kube-system"));
	cr_assert(util_glob_match("*", "anything"));
	struct util_strv sv = {0};
	util_strv_push(&sv, "a");
	util_strv_push(&sv, "b");
	cr_assert(util_strv_contains(&sv, "b"));
	cr_assert_not(util_strv_contains(&sv, "c"));
	util_strv_free(&sv);
	cr_assert_eq(sv.n, 0);
	util_strv_free(NULL);
}

Test(util, read_file_caps)
{
	char path[] = "/tmp/csr-approver-util-XXXXXX";
	int fd = mkstemp(path);
	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, "0123456789", 10), 10);
	close(fd);
	char *buf = NULL;
	size_t len = 0;
	char err[256];
	cr_assert_eq(util_read_file(path, 10, &buf, &len, err, sizeof(err)), 0);
	cr_assert_eq(len, 10);
	cr_assert_str_eq(buf, "0123456789");
	free(buf);
	cr_assert_eq(util_read_file(path, 9, &buf, &len, err, sizeof(err)), -1);
	cr_assert_null(buf);
	cr_assert(strstr(err, "larger than 9 bytes") != NULL, "%s", err);
	unlink(path);
	cr_assert_eq(util_read_file(path, 10, &buf, &len, err, sizeof(err)), -1);
	cr_assert(strstr(err, "No such file") != NULL, "%s", err);
}

Test(util_duration, go_forms)
{
	int64_t ms = -1;
	cr_assert_eq(util_parse_duration("1m30s", &ms), 0);
	cr_assert_eq(ms, 90000);
	cr_assert_eq(util_parse_duration("1.5h", &ms), 0);
	cr_assert_eq(ms, 5400000);
	cr_assert_eq(util_parse_duration("0", &ms), 0);
	cr_assert_eq(ms, 0);
	cr_assert_eq(util_parse_duration("250ms", &ms), 0);
	cr_assert_eq(ms, 250);
	cr_assert_eq(util_parse_duration("10", &ms), -1);
	cr_assert_eq(util_parse_duration("-1s", &ms), -1);
	cr_assert_eq(util_parse_duration("1d", &ms), -1);
	cr_assert_eq(util_parse_duration("", &ms), -1);
	cr_assert_eq(util_parse_duration(NULL, &ms), -1);
}

/* RFC 4648's test vectors, and every length round-trips through the decoder. */
Test(util, base64_encode)
{
	static const char *const vec[][2] = {
	    {"", ""},
	    {"f", "Zg=="},
	    {"fo", "Zm8="},
	    {"foo", "Zm9v"},
	    {"foob", "Zm9vYg=="},
	    {"fooba", "Zm9vYmE="},
	    {"foobar", "Zm9vYmFy"},
	};
	for (size_t i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		char *e = util_base64_encode(vec[i][0], strlen(vec[i][0]));
		cr_expect_str_eq(e, vec[i][1]);
		free(e);
	}
	unsigned char bytes[64];
	for (size_t i = 0; i < sizeof(bytes); i++)
		bytes[i] = (unsigned char)(i * 37 + 255);
	for (size_t n = 0; n <= sizeof(bytes); n++) {
		char *e = util_base64_encode(bytes, n);
		char *d = NULL;
		size_t dl = 0;
		cr_assert_eq(util_base64_decode(e, strlen(e), UTIL_B64_CANONICAL, 1024, &d, &dl), 0,
		             "length %zu", n);
		cr_expect_eq(dl, n);
		cr_expect_eq(memcmp(d, bytes, n), 0, "length %zu", n);
		free(d);
		free(e);
	}
}

/* Varints: 7 bits a byte, low first, the high bit set on all but the last
 * (protobuf encoding guide's own examples: 1, 150, 300). */
Test(util_pb, varint)
{
	static const struct {
		uint64_t v;
		size_t n;
		const char *bytes;
	} cases[] = {
	    {0, 1, "\x00"},
	    {1, 1, "\x01"},
	    {127, 1, "\x7f"},
	    {128, 2, "\x80\x01"},
	    {150, 2, "\x96\x01"},
	    {300, 2, "\xac\x02"},
	    {1785000000, 5, "\xc0\xe0\x93\xd3\x06"},
	    {UINT64_MAX, 10, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct util_buf b = {0};
		util_pb_varint(&b, cases[i].v);
		cr_assert_eq(b.len, cases[i].n, "%llu", (unsigned long long)cases[i].v);
		cr_assert_eq(memcmp(b.data, cases[i].bytes, b.len), 0, "%llu",
		             (unsigned long long)cases[i].v);
		util_buf_reset(&b);
	}
}

/* Fields: key (field << 3 | wire type), then the value; a string that is
 * not UTF-8 goes with U+FFFD for each bad byte; an empty one not at all. */
Test(util_pb, fields)
{
	struct util_buf b = {0};
	util_pb_uint(&b, 8, 1);
	util_pb_text(&b, 3, "ok", 2);
	util_pb_text(&b, 4, "", 0);
	util_pb_bytes(&b, 20, "\x00\x01", 2);
	util_pb_text(&b, 1,
	             "a\xff"
	             "b",
	             3);
	const char want[] = "\x40\x01"
	                    "\x1a\x02ok"
	                    "\xa2\x01\x02\x00\x01"
	                    "\x0a\x05"
	                    "a\xef\xbf\xbd"
	                    "b";
	cr_assert_eq(b.len, sizeof(want) - 1);
	cr_assert_eq(memcmp(b.data, want, b.len), 0);
	util_buf_reset(&b);
}
