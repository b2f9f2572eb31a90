/*
 * kobj: JSON text to jansson values, faster than json_loadb() on what the
 * API server sends, with the same result.
 *
 * jansson's parser reads its input a byte at a time through a callback
 * and copies each byte of a string on its own; reading the objects of a
 * LIST was 83 % of csr-approver's instructions at start-up (10,000 pods),
 * and the watch events 28 % of a burst's. This reader scans strings in
 * runs and builds the same values with jansson's own constructors, for the
 * plain JSON the API server writes: objects, arrays, strings (escapes and
 * UTF-8 checked as jansson checks them), integers, true, false, null. On
 * anything else (a real number, "\u0000", an integer out of range, nesting
 * past KOBJ_LOAD_MAX_DEPTH, invalid JSON) it stops and hands the whole
 * text to json_loadb(), whose answer, value or error, is then the answer:
 * what this reader accepts, jansson accepts as the same value; what it
 * does not, jansson judges. The fuzz targets that read API answers check
 * the first half of that on every input.
 */
#include "kobj.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/util.h"
#include "kobj_int.h"

/* Deeper values go to jansson (its own limit is 2048). */
#define KOBJ_LOAD_MAX_DEPTH 256

struct reader {
	const unsigned char *p, *end;
	int depth;
	struct util_buf sb; /* a string with escapes, decoded */
};

static void skip_ws(struct reader *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\n' || *r->p == '\r' || *r->p == '\t'))
		r->p++;
}

static int hex4(const unsigned char *p, uint32_t *out)
{
	uint32_t v = 0;
	for (int i = 0; i < 4; i++) {
		unsigned char c = p[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (uint32_t)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

/* The escape after a backslash at r->p, decoded into r->sb. "\u0000" and
 * unpaired surrogates are left to jansson (it refuses them). */
static int read_escape(struct reader *r)
{
	uint32_t cp, lo;

	if (r->p >= r->end)
		return -1;
	unsigned char c = *r->p++;
	const char *k = memchr(KOBJ_JSON_ESC_LETTERS, c, KOBJ_JSON_ESC_N);
	if (k != NULL) {
		util_buf_putc(&r->sb, KOBJ_JSON_ESC_BYTES[k - KOBJ_JSON_ESC_LETTERS]);
		return 0;
	}
	if (c != 'u')
		return -1;
	if (r->end - r->p < 4 || hex4(r->p, &cp) != 0 || cp == 0)
		return -1;
	r->p += 4;
	if (cp >= 0xdc00 && cp <= 0xdfff)
		return -1;
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (r->end - r->p < 6 || r->p[0] != '\\' || r->p[1] != 'u' ||
		    hex4(r->p + 2, &lo) != 0 || lo < 0xdc00 || lo > 0xdfff)
			return -1;
		r->p += 6;
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
	}
	util_buf_put_utf8(&r->sb, cp);
	return 0;
}

/* The string whose opening quote is at r->p: *s and *n point into the input
 * when it has no escape, else into r->sb (valid until the next string). */
static int read_string(struct reader *r, const char **s, size_t *n)
{
	const unsigned char *start = ++r->p;

	while (r->p < r->end) {
		unsigned char c = *r->p;
		if (c == '"') {
			*s = (const char *)start;
			*n = (size_t)(r->p - start);
			r->p++;
			return 0;
		}
		if (c == '\\')
			break;
		if (c < 0x20)
			return -1;
		if (c >= 0x80) {
			size_t l = util_utf8_decode(r->p, (size_t)(r->end - r->p), NULL);
			if (l == 0)
				return -1;
			r->p += l;
		} else {
			r->p++;
		}
	}
	if (r->p >= r->end)
		return -1;
	r->sb.len = 0;
	util_buf_append(&r->sb, start, (size_t)(r->p - start));
	while (r->p < r->end) {
		const unsigned char *run = r->p;
		while (r->p < r->end && *r->p >= 0x20 && *r->p < 0x80 && *r->p != '"' &&
		       *r->p != '\\')
			r->p++;
		util_buf_append(&r->sb, run, (size_t)(r->p - run));
		if (r->p >= r->end)
			return -1;
		unsigned char c = *r->p;
		if (c == '"') {
			r->p++;
			*s = r->sb.data ? r->sb.data : "";
			*n = r->sb.len;
			return 0;
		}
		if (c == '\\') {
			r->p++;
			if (read_escape(r) != 0)
				return -1;
		} else if (c < 0x20) {
			return -1;
		} else {
			size_t l = util_utf8_decode(r->p, (size_t)(r->end - r->p), NULL);
			if (l == 0)
				return -1;
			util_buf_append(&r->sb, r->p, l);
			r->p += l;
		}
	}
	return -1;
}

/* An integer in JSON's grammar that fits json_int_t; a fraction or an
 * exponent (a real) is left to jansson. */
static json_t *read_integer(struct reader *r)
{
	bool neg = false;
	uint64_t v = 0, limit;

	if (*r->p == '-') {
		neg = true;
		r->p++;
	}
	if (r->p >= r->end || *r->p < '0' || *r->p > '9')
		return NULL;
	limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	if (*r->p == '0') {
		r->p++;
	} else {
		while (r->p < r->end && *r->p >= '0' && *r->p <= '9') {
			unsigned d = (unsigned)(*r->p - '0');
			if (v > (limit - d) / 10)
				return NULL;
			v = v * 10 + d;
			r->p++;
		}
	}
	if (r->p < r->end && (*r->p == '.' || *r->p == 'e' || *r->p == 'E'))
		return NULL;
	if (neg)
		return json_integer(v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(json_int_t)v);
	return json_integer((json_int_t)v);
}

static json_t *read_value(struct reader *r);

static json_t *read_object(struct reader *r)
{
	json_t *obj = json_object();
	char *owned = NULL;

	r->p++;
	skip_ws(r);
	if (r->p < r->end && *r->p == '}') {
		r->p++;
		return obj;
	}
	for (;;) {
		const char *key;
		size_t klen;
		json_t *v;

		if (r->p >= r->end || *r->p != '"' || read_string(r, &key, &klen) != 0)
			goto fail;
		/* A decoded key lives in r->sb, which the value may reuse. */
		if (key == r->sb.data) {
			owned = util_xstrndup(key, klen);
			key = owned;
		}
		skip_ws(r);
		if (r->p >= r->end || *r->p != ':')
			goto fail;
		r->p++;
		if ((v = read_value(r)) == NULL)
			goto fail;
		/* The last of duplicate keys wins, in the place of the first, as
		 * in jansson. */
		if (json_object_setn_new_nocheck(obj, key, klen, v) != 0)
			goto fail;
		free(owned);
		owned = NULL;
		skip_ws(r);
		if (r->p < r->end && *r->p == ',') {
			r->p++;
			skip_ws(r);
			continue;
		}
		if (r->p < r->end && *r->p == '}') {
			r->p++;
			return obj;
		}
		goto fail;
	}
fail:
	free(owned);
	json_decref(obj);
	return NULL;
}

static json_t *read_array(struct reader *r)
{
	json_t *arr = json_array();

	r->p++;
	skip_ws(r);
	if (r->p < r->end && *r->p == ']') {
		r->p++;
		return arr;
	}
	for (;;) {
		json_t *v = read_value(r);
		if (v == NULL || json_array_append_new(arr, v) != 0)
			break;
		skip_ws(r);
		if (r->p < r->end && *r->p == ',') {
			r->p++;
			continue;
		}
		if (r->p < r->end && *r->p == ']') {
			r->p++;
			return arr;
		}
		break;
	}
	json_decref(arr);
	return NULL;
}

static json_t *read_literal(struct reader *r, const char *word, json_t *v)
{
	size_t n = strlen(word);
	if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n) != 0)
		return NULL;
	r->p += n;
	return v;
}

static json_t *read_value(struct reader *r)
{
	json_t *v = NULL;
	const char *s;
	size_t n;

	skip_ws(r);
	if (r->p >= r->end)
		return NULL;
	switch (*r->p) {
	case '{':
	case '[':
		if (++r->depth > KOBJ_LOAD_MAX_DEPTH)
			return NULL;
		v = *r->p == '{' ? read_object(r) : read_array(r);
		r->depth--;
		break;
	case '"':
		if (read_string(r, &s, &n) == 0)
			v = json_stringn_nocheck(s, n);
		break;
	case 't':
		v = read_literal(r, "true", json_true());
		break;
	case 'f':
		v = read_literal(r, "false", json_false());
		break;
	case 'n':
		v = read_literal(r, "null", json_null());
		break;
	default:
		if (*r->p == '-' || (*r->p >= '0' && *r->p <= '9'))
			v = read_integer(r);
		break;
	}
	/* What follows a value must end it: a letter after "true" or a digit
	 * after an integer makes one invalid token for jansson. */
	if (v != NULL && r->p < r->end && *r->p != ',' && *r->p != '}' && *r->p != ']' &&
	    *r->p != ' ' && *r->p != '\n' && *r->p != '\r' && *r->p != '\t') {
		json_decref(v);
		v = NULL;
	}
	return v;
}

json_t *kobj_loadb_fast(const char *buf, size_t len, size_t flags, size_t *used)
{
	struct reader r = {0};
	json_t *v = NULL;

	if (buf == NULL || (flags & ~(size_t)(JSON_DISABLE_EOF_CHECK | JSON_DECODE_ANY)) != 0)
		return NULL;
	r.p = (const unsigned char *)buf;
	r.end = r.p + len;
	skip_ws(&r);
	if (r.p < r.end && (*r.p == '{' || *r.p == '['))
		v = read_value(&r);
	util_buf_reset(&r.sb);
	if (v == NULL)
		return NULL;
	/* Read to the end unless told to stop after the value, as jansson
	 * counts it. */
	if (!(flags & JSON_DISABLE_EOF_CHECK)) {
		skip_ws(&r);
		if (r.p != r.end) {
			json_decref(v);
			return NULL;
		}
	}
	*used = (size_t)(r.p - (const unsigned char *)buf);
	return v;
}

json_t *kobj_loadb(const char *buf, size_t len, size_t flags, json_error_t *err)
{
	size_t used = 0;
	json_t *v = kobj_loadb_fast(buf, len, flags, &used);

	if (v == NULL) {
		json_error_t jerr;
		if (err == NULL)
			err = &jerr;
		v = json_loadb(buf, len, flags, err);
		/* No JSON text holds a NUL byte, yet jansson's reader steps over
		 * one after a number or a literal ({"a":1<NUL>} reads as
		 * {"a":1}). Refuse it wherever the value was read from: in the
		 * whole text, or, stopping after the value, before the end
		 * jansson gives (its count leaves the skipped NULs out, so the
		 * first one read lies before it). The fast reader never takes a
		 * NUL. */
		const char *nul = v != NULL ? memchr(buf, '\0', len) : NULL;
		if (nul != NULL &&
		    ((flags & JSON_DISABLE_EOF_CHECK) == 0 ||
		     (size_t)(nul - buf) < (size_t)err->position)) {
			size_t at = (size_t)(nul - buf), line_start = 0;
			json_decref(v);
			v = NULL;
			err->line = 1;
			for (size_t i = 0; i < at; i++)
				if (buf[i] == '\n') {
					err->line++;
					line_start = i + 1;
				}
			err->column = (int)(at - line_start + 1);
			err->position = (int)at;
			snprintf(err->text, sizeof(err->text), "a NUL byte at byte %zu", at);
		}
		return v;
	}
	if (err != NULL) {
		memset(err, 0, sizeof(*err));
		snprintf(err->source, sizeof(err->source), "<buffer>");
		err->line = -1;
		err->column = -1;
		err->position = (int)used;
	}
	return v;
}
