/*
 * The watch framer and event parser: pure functions of their input, no I/O.
 */
#include "watch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../kobj/kobj.h"
#include "../util/util.h"

/* A buffer grown for one huge line is given back on reset beyond this. */
#define WATCH_KEEP_BUF (64 * 1024)

struct watch_framer {
	size_t max;
	char *buf; /* the partial line carried over */
	size_t len;
	size_t cap;
};

struct watch_framer *watch_framer_new(size_t max_line)
{
	struct watch_framer *f = util_xcalloc(1, sizeof(*f));
	f->max = max_line ? max_line : WATCH_MAX_LINE;
	return f;
}

void watch_framer_free(struct watch_framer *f)
{
	if (f == NULL)
		return;
	free(f->buf);
	free(f);
}

void watch_framer_reset(struct watch_framer *f)
{
	f->len = 0;
	if (f->cap > WATCH_KEEP_BUF) {
		free(f->buf);
		f->buf = NULL;
		f->cap = 0;
	}
}

/* Append to the carried line; the caller has checked the cap. */
static void watch_framer_carry(struct watch_framer *f, const char *p, size_t n)
{
	if (f->len + n + 1 > f->cap) {
		size_t cap = f->cap ? f->cap : 4096;
		while (cap < f->len + n + 1)
			cap = cap > SIZE_MAX / 2 ? f->len + n + 1 : cap * 2;
		if (cap > f->max + 1)
			cap = f->max + 1;
		f->buf = util_xreallocarray(f->buf, cap, 1);
		f->cap = cap;
	}
	memcpy(f->buf + f->len, p, n);
	f->len += n;
	f->buf[f->len] = '\0';
}

int watch_framer_feed(struct watch_framer *f, const char *data, size_t len, watch_line_cb cb,
                      void *ud)
{
	size_t i = 0;

	while (i < len) {
		const char *nl = memchr(data + i, '\n', len - i);
		size_t seg = nl ? (size_t)(nl - (data + i)) : len - i;
		const char *line;
		size_t n;

		/* Checked before copying: an endless line never grows the buffer
		 * past the cap. */
		if (seg > f->max - f->len) {
			watch_framer_reset(f);
			return -1;
		}
		if (nl == NULL) {
			watch_framer_carry(f, data + i, seg);
			return 0;
		}
		if (f->len == 0) {
			/* The common case: the whole line is in this chunk. */
			line = data + i;
			n = seg;
		} else {
			watch_framer_carry(f, data + i, seg);
			line = f->buf;
			n = f->len;
		}
		i += seg + 1;
		if (n == 0)
			continue;
		int rc = cb(ud, line, n);
		f->len = 0;
		if (rc != 0) {
			watch_framer_reset(f);
			return -1;
		}
	}
	return 0;
}

static const struct {
	const char *name;
	enum watch_event_type type;
} watch_types[] = {
    {"ADDED", WATCH_ADDED},       {"MODIFIED", WATCH_MODIFIED}, {"DELETED", WATCH_DELETED},
    {"BOOKMARK", WATCH_BOOKMARK}, {"ERROR", WATCH_ERROR},
};

int watch_event_parse(const char *line, size_t len, enum watch_event_type *type, json_t **object,
                      char *err, size_t errlen)
{
	json_t *root = NULL;
	json_error_t jerr;
	const json_t *t, *o;
	const char *ts;
	int rc = -1;

	*object = NULL;
	root = kobj_loadb(line, len, 0, &jerr);
	if (root == NULL) {
		snprintf(err, errlen, "watch event is not JSON: %s (column %d)", jerr.text,
		         jerr.column);
		goto out;
	}
	if (!json_is_object(root)) {
		snprintf(err, errlen, "watch event is not a JSON object");
		goto out;
	}
	t = json_object_get(root, "type");
	if (!json_is_string(t)) {
		snprintf(err, errlen, "watch event has no type");
		goto out;
	}
	ts = json_string_value(t);
	size_t k;
	for (k = 0; k < sizeof(watch_types) / sizeof(watch_types[0]); k++)
		if (strcmp(ts, watch_types[k].name) == 0)
			break;
	if (k == sizeof(watch_types) / sizeof(watch_types[0])) {
		snprintf(err, errlen, "watch event has an unknown type \"%.32s\"", ts);
		goto out;
	}
	o = json_object_get(root, "object");
	if (!json_is_object(o)) {
		snprintf(err, errlen, "watch event %s has no object", watch_types[k].name);
		goto out;
	}
	*type = watch_types[k].type;
	*object = json_incref((json_t *)o);
	rc = 0;
out:
	json_decref(root);
	return rc;
}
