/*
 * The watch framer fed the same stream split at every byte offset, in
 * 1-byte chunks and in three pieces must give exactly the same lines; and
 * its limits: empty lines, the line cap, a callback that stops, reset.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../../pkg/util/util.h"
#include "../../../pkg/watch/watch.h"

/* Lines seen, joined with '|' after their length: "5:abcde|". */
struct seen {
	struct util_buf b;
	int n;
	int stop_after; /* return -1 on this line (1-based), 0: never */
};

static int collect(void *ud, const char *line, size_t len)
{
	struct seen *s = ud;
	cr_assert_gt(len, 0, "empty lines are skipped");
	cr_assert_null(memchr(line, '\n', len));
	s->n++;
	util_buf_printf(&s->b, "%zu:", len);
	util_buf_append(&s->b, line, len);
	util_buf_putc(&s->b, '|');
	return s->stop_after == s->n ? -1 : 0;
}

static char *stream(size_t *len)
{
	struct util_buf b = {0};
	util_buf_puts(&b,
	              "{\"type\":\"ADDED\",\"object\":{\"kind\":\"ConfigMap\",\"metadata\":"
	              "{\"name\":\"a\",\"resourceVersion\":\"10\"}}}\n");
	util_buf_puts(&b,
	              "{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{\"name\":\"\xc3\xa9\","
	              "\"resourceVersion\":\"11\"},\"data\":{\"k\":\"line\\nbreak\"}}}\n");
	util_buf_puts(&b, "\n"); /* an empty line between events */
	/* One event longer than the framer's first buffer. */
	util_buf_puts(&b, "{\"type\":\"MODIFIED\",\"object\":{\"data\":{\"big\":\"");
	for (int i = 0; i < 9000; i++)
		util_buf_putc(&b, (char)('a' + i % 26));
	util_buf_puts(&b, "\"}}}\n");
	util_buf_puts(&b,
	              "{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{\"resourceVersion\":"
	              "\"12\"}}}\n");
	util_buf_puts(&b, "{\"type\":\"DELETED\",\"object\":{}}\n");
	*len = b.len;
	return util_buf_take(&b);
}

static char *frame_whole(const char *s, size_t len)
{
	struct seen out = {0};
	struct watch_framer *f = watch_framer_new(WATCH_MAX_LINE);
	cr_assert_eq(watch_framer_feed(f, s, len, collect, &out), 0);
	cr_assert_eq(out.n, 5);
	watch_framer_free(f);
	return util_buf_take(&out.b);
}

Test(watch_framer, every_split_point)
{
	size_t len;
	char *s = stream(&len);
	char *want = frame_whole(s, len);
	struct watch_framer *f = watch_framer_new(WATCH_MAX_LINE);

	for (size_t cut = 0; cut <= len; cut++) {
		struct seen out = {0};
		cr_assert_eq(watch_framer_feed(f, s, cut, collect, &out), 0);
		cr_assert_eq(watch_framer_feed(f, s + cut, len - cut, collect, &out), 0);
		cr_assert_str_eq(util_buf_str(&out.b), want, "split at %zu", cut);
		util_buf_reset(&out.b);
	}
	watch_framer_free(f);
	free(want);
	free(s);
}

Test(watch_framer, three_pieces)
{
	size_t len;
	char *s = stream(&len);
	char *want = frame_whole(s, len);
	struct watch_framer *f = watch_framer_new(WATCH_MAX_LINE);

	/* Cuts around the line ends (where carrying matters), every pair. */
	for (size_t a = 0; a <= len; a += (a % 97 == 0 || s[a] == '\n') ? 1 : 37) {
		for (size_t b = a; b <= len; b += 53) {
			struct seen out = {0};
			cr_assert_eq(watch_framer_feed(f, s, a, collect, &out), 0);
			cr_assert_eq(watch_framer_feed(f, s + a, b - a, collect, &out), 0);
			cr_assert_eq(watch_framer_feed(f, s + b, len - b, collect, &out), 0);
			cr_assert_str_eq(util_buf_str(&out.b), want, "cuts at %zu, %zu", a, b);
			util_buf_reset(&out.b);
		}
	}
	watch_framer_free(f);
	free(want);
	free(s);
}

Test(watch_framer, one_byte_chunks)
{
	size_t len;
	char *s = stream(&len);
	char *want = frame_whole(s, len);
	struct watch_framer *f = watch_framer_new(WATCH_MAX_LINE);
	struct seen out = {0};

	for (size_t i = 0; i < len; i++)
		cr_assert_eq(watch_framer_feed(f, s + i, 1, collect, &out), 0);
	cr_assert_str_eq(util_buf_str(&out.b), want);
	util_buf_reset(&out.b);
	watch_framer_free(f);
	free(want);
	free(s);
}

Test(watch_framer, empty_lines_and_empty_feeds)
{
	struct watch_framer *f = watch_framer_new(64);
	struct seen out = {0};
	cr_assert_eq(watch_framer_feed(f, "", 0, collect, &out), 0);
	cr_assert_eq(watch_framer_feed(f, "\n\n\n", 3, collect, &out), 0);
	cr_assert_eq(out.n, 0);
	cr_assert_eq(watch_framer_feed(f, "a\n\nb", 4, collect, &out), 0);
	cr_assert_eq(watch_framer_feed(f, "", 0, collect, &out), 0);
	cr_assert_eq(watch_framer_feed(f, "\n", 1, collect, &out), 0);
	cr_assert_str_eq(util_buf_str(&out.b), "1:a|1:b|");
	util_buf_reset(&out.b);
	watch_framer_free(f);
}

Test(watch_framer, partial_line_is_held)
{
	struct watch_framer *f = watch_framer_new(64);
	struct seen out = {0};
	cr_assert_eq(watch_framer_feed(f, "{\"partial", 9, collect, &out), 0);
	cr_assert_eq(out.n, 0, "no newline, no line");
	watch_framer_reset(f);
	cr_assert_eq(watch_framer_feed(f, "x\n", 2, collect, &out), 0);
	cr_assert_str_eq(util_buf_str(&out.b), "1:x|", "reset dropped the partial line");
	util_buf_reset(&out.b);
	watch_framer_free(f);
}

Test(watch_framer, line_cap)
{
	struct watch_framer *f = watch_framer_new(8);
	struct seen out = {0};
	/* Exactly the cap is fine, in one piece or carried. */
	cr_assert_eq(watch_framer_feed(f, "12345678\n", 9, collect, &out), 0);
	cr_assert_eq(watch_framer_feed(f, "1234", 4, collect, &out), 0);
	cr_assert_eq(watch_framer_feed(f, "5678\n", 5, collect, &out), 0);
	cr_assert_eq(out.n, 2);
	/* One more byte is an overflow, seen before the newline arrives. */
	cr_assert_eq(watch_framer_feed(f, "123456789", 9, collect, &out), -1);
	cr_assert_eq(out.n, 2);
	/* The framer was reset: the rest of the long line is a new line. */
	cr_assert_eq(watch_framer_feed(f, "ok\n", 3, collect, &out), 0);
	cr_assert_eq(out.n, 3);
	/* Carried bytes count: 5 + 4 > 8. */
	cr_assert_eq(watch_framer_feed(f, "12345", 5, collect, &out), 0);
	cr_assert_eq(watch_framer_feed(f, "6789\n", 5, collect, &out), -1);
	cr_assert_eq(watch_framer_feed(f, "z\n", 2, collect, &out), 0);
	cr_assert_str_eq(util_buf_str(&out.b), "8:12345678|8:12345678|2:ok|1:z|");
	util_buf_reset(&out.b);
	watch_framer_free(f);
}

Test(watch_framer, overflow_after_good_lines)
{
	struct watch_framer *f = watch_framer_new(4);
	struct seen out = {0};
	cr_assert_eq(watch_framer_feed(f, "ab\ncd\nefghij\nkl\n", 16, collect, &out), -1);
	cr_assert_str_eq(util_buf_str(&out.b), "2:ab|2:cd|", "lines before the overflow delivered");
	util_buf_reset(&out.b);
	watch_framer_free(f);
}

Test(watch_framer, callback_stops)
{
	struct watch_framer *f = watch_framer_new(64);
	struct seen out = {.stop_after = 2};
	cr_assert_eq(watch_framer_feed(f, "a\nb\nc\npart", 10, collect, &out), -1);
	cr_assert_eq(out.n, 2, "nothing after the stop");
	/* After a stop the framer starts clean: "part" was dropped. */
	out.stop_after = 0;
	cr_assert_eq(watch_framer_feed(f, "d\n", 2, collect, &out), 0);
	cr_assert_str_eq(util_buf_str(&out.b), "1:a|1:b|1:d|");
	util_buf_reset(&out.b);
	watch_framer_free(f);
	watch_framer_free(NULL);
}

Test(watch_framer, huge_line_memory_returned)
{
	struct watch_framer *f = watch_framer_new(1 << 20);
	struct seen out = {0};
	char *big = malloc(300000);
	memset(big, 'x', 300000);
	cr_assert_eq(watch_framer_feed(f, big, 300000, collect, &out), 0);
	cr_assert_eq(watch_framer_feed(f, "\n", 1, collect, &out), 0);
	cr_assert_eq(out.n, 1);
	watch_framer_reset(f);
	cr_assert_eq(watch_framer_feed(f, "y\n", 2, collect, &out), 0);
	cr_assert_eq(out.n, 2);
	free(big);
	util_buf_reset(&out.b);
	watch_framer_free(f);
}
