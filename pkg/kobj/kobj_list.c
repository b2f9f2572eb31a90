/*
 * kobj: LIST answers read item by item (kobj_list_each, kobj_list_meta), so
 * that a page of objects is never held as one jansson tree.
 */
#include "kobj.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/util.h"
#include "kobj_int.h"

static size_t kobj_skip_ws(const char *buf, size_t len, size_t i)
{
	while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' || buf[i] == '\n'))
		i++;
	return i;
}

/* One JSON value at buf[*pos], with *pos moved past it. NULL with err on
 * invalid JSON. Duplicate keys inside are taken as json_loadb() takes them
 * for a whole answer (the last wins). */
static json_t *kobj_value_at(const char *buf, size_t len, size_t *pos, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *v =
	    kobj_loadb(buf + *pos, len - *pos, JSON_DISABLE_EOF_CHECK | JSON_DECODE_ANY, &jerr);
	if (v == NULL) {
		kobj_error(err, errlen, "at byte %zu: %s", *pos + (size_t)jerr.position, jerr.text);
		return NULL;
	}
	*pos += (size_t)jerr.position;
	return v;
}

/* Expect byte c at buf[*pos] (after blanks) and step over it. */
static int kobj_expect(const char *buf, size_t len, size_t *pos, char c, const char *what,
                       char *err, size_t errlen)
{
	*pos = kobj_skip_ws(buf, len, *pos);
	if (*pos >= len || buf[*pos] != c)
		return kobj_error(err, errlen, "at byte %zu: expected %s", *pos, what);
	(*pos)++;
	return 0;
}

/* The items array at buf[*pos]: each item parsed, handed over, freed. */
static int kobj_list_items(const char *buf, size_t len, size_t *pos, kobj_item_cb cb, void *ctx,
                           char *err, size_t errlen)
{
	size_t i = kobj_skip_ws(buf, len, *pos);

	if (len - i >= 4 && memcmp(buf + i, "null", 4) == 0) {
		*pos = i + 4;
		return 0;
	}
	if (i >= len || buf[i] != '[')
		return kobj_error(err, errlen, "at byte %zu: items: expected an array", i);
	*pos = kobj_skip_ws(buf, len, i + 1);
	if (*pos < len && buf[*pos] == ']') {
		(*pos)++;
		return 0;
	}
	for (;;) {
		json_t *item = kobj_value_at(buf, len, pos, err, errlen);
		if (item == NULL)
			return -1;
		if (json_is_object(item) && cb != NULL)
			cb(ctx, item);
		json_decref(item);
		*pos = kobj_skip_ws(buf, len, *pos);
		if (*pos < len && buf[*pos] == ',') {
			(*pos)++;
			continue;
		}
		return kobj_expect(buf, len, pos, ']', "',' or ']' in items", err, errlen);
	}
}

/* kobj_list_each(), or with meta_only kobj_list_meta(): stop at the
 * metadata or at the items, whichever comes first. */
static int kobj_list_read(const char *buf, size_t len, bool meta_only, kobj_item_cb item_cb,
                          void *ctx, json_t **meta, char *err, size_t errlen)
{
	json_t *key = NULL, *v = NULL;
	bool seen_items = false, seen_meta = false;
	size_t pos = 0;
	int rc = -1;

	*meta = NULL;
	/* No JSON text holds a NUL byte (RFC 8259), and jansson reads one
	 * inconsistently: reading one value at a time (JSON_DISABLE_EOF_CHECK)
	 * it took {"e":{"a":null<NUL>} for a whole object, so that the
	 * answer's last '}' closed the list, where a whole parse refuses the
	 * same bytes. Refused here, wherever it is. */
	const char *nul = memchr(buf, '\0', len);
	if (nul != NULL) {
		kobj_error(err, errlen, "at byte %zu: a NUL byte", (size_t)(nul - buf));
		goto out;
	}
	if (kobj_expect(buf, len, &pos, '{', "an object", err, errlen) != 0)
		goto out;
	pos = kobj_skip_ws(buf, len, pos);
	if (pos < len && buf[pos] == '}') {
		pos++;
		goto end;
	}
	for (;;) {
		size_t at = kobj_skip_ws(buf, len, pos);
		if (at >= len || buf[at] != '"') {
			kobj_error(err, errlen, "at byte %zu: expected a member name", at);
			goto out;
		}
		pos = at;
		if ((key = kobj_value_at(buf, len, &pos, err, errlen)) == NULL ||
		    kobj_expect(buf, len, &pos, ':', "':'", err, errlen) != 0)
			goto out;
		if (meta_only && strcmp(json_string_value(key), "items") == 0) {
			rc = 0;
			goto out;
		}
		if (strcmp(json_string_value(key), "items") == 0) {
			if (seen_items) {
				kobj_error(err, errlen, "at byte %zu: items twice", at);
				goto out;
			}
			seen_items = true;
			if (kobj_list_items(buf, len, &pos, item_cb, ctx, err, errlen) != 0)
				goto out;
		} else {
			if ((v = kobj_value_at(buf, len, &pos, err, errlen)) == NULL)
				goto out;
			if (strcmp(json_string_value(key), "metadata") == 0) {
				if (seen_meta) {
					kobj_error(err, errlen, "at byte %zu: metadata twice", at);
					goto out;
				}
				seen_meta = true;
				if (!json_is_null(v) && !json_is_object(v)) {
					kobj_error(err, errlen,
					           "at byte %zu: metadata: expected an object", at);
					goto out;
				}
				if (json_is_object(v)) {
					*meta = v;
					v = NULL;
				}
				if (meta_only) {
					rc = 0;
					goto out;
				}
			}
			json_decref(v);
			v = NULL;
		}
		json_decref(key);
		key = NULL;
		pos = kobj_skip_ws(buf, len, pos);
		if (pos < len && buf[pos] == ',') {
			pos++;
			continue;
		}
		if (kobj_expect(buf, len, &pos, '}', "',' or '}'", err, errlen) != 0)
			goto out;
		break;
	}
end:
	pos = kobj_skip_ws(buf, len, pos);
	if (pos < len) {
		kobj_error(err, errlen, "at byte %zu: data after the end", pos);
		goto out;
	}
	rc = 0;
out:
	json_decref(key);
	json_decref(v);
	if (rc != 0) {
		json_decref(*meta);
		*meta = NULL;
	}
	return rc;
}

int kobj_list_each(const char *buf, size_t len, kobj_item_cb cb, void *ctx, json_t **meta,
                   char *err, size_t errlen)
{
	return kobj_list_read(buf, len, false, cb, ctx, meta, err, errlen);
}

int kobj_list_meta(const char *buf, size_t len, json_t **meta, char *err, size_t errlen)
{
	return kobj_list_read(buf, len, true, NULL, NULL, meta, err, errlen);
}
