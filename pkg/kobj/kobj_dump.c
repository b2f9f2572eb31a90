/*
 * kobj: compact JSON text of a jansson value, as json_dumps(JSON_COMPACT)
 * writes it. jansson decodes every string of a value code point by code
 * point as it writes it; the bodies csr-approver sends carry long base64
 * strings (spec.request, status.certificate), which are copied here in
 * runs, only escapes and non-ASCII bytes looked at one by one.
 */
#include "kobj.h"

#include <stdlib.h>
#include <string.h>

#include "../util/util.h"
#include "kobj_int.h"

/* Escape as jansson does without flags: '"', '\\' and the controls below
 * 0x20 (the short forms where JSON has one, else \u00XX in upper case);
 * '/', DEL and non-ASCII as they are. Returns -1 on bytes that are not
 * UTF-8, where json_dumps() fails too. */
static int dump_string(struct util_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = (const unsigned char *)s;
	size_t run = 0, i = 0;

	util_buf_putc(b, '"');
	while (i < n) {
		unsigned char c = p[i];
		if (c >= 0x80) {
			size_t l = util_utf8_decode(p + i, n - i, NULL);
			if (l == 0)
				return -1;
			i += l;
			continue;
		}
		if (c >= 0x20 && c != '"' && c != '\\') {
			i++;
			continue;
		}
		util_buf_append(b, p + run, i - run);
		/* '/' never comes here: jansson writes it as it is. */
		const char *k = memchr(KOBJ_JSON_ESC_BYTES, c, KOBJ_JSON_ESC_N);
		if (k != NULL) {
			const char e[2] = {'\\', KOBJ_JSON_ESC_LETTERS[k - KOBJ_JSON_ESC_BYTES]};
			util_buf_append(b, e, sizeof(e));
		} else {
			const char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0x0f]};
			util_buf_append(b, u, sizeof(u));
		}
		run = ++i;
	}
	util_buf_append(b, p + run, n - run);
	util_buf_putc(b, '"');
	return 0;
}

static int dump_value(struct util_buf *b, const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		bool first = true;
		util_buf_putc(b, '{');
		for (void *it = json_object_iter((json_t *)v); it != NULL;
		     it = json_object_iter_next((json_t *)v, it)) {
			if (!first)
				util_buf_putc(b, ',');
			first = false;
			if (dump_string(b, json_object_iter_key(it),
			                json_object_iter_key_len(it)) != 0)
				return -1;
			util_buf_putc(b, ':');
			if (dump_value(b, json_object_iter_value(it)) != 0)
				return -1;
		}
		util_buf_putc(b, '}');
		return 0;
	}
	case JSON_ARRAY:
		util_buf_putc(b, '[');
		for (size_t i = 0; i < json_array_size(v); i++) {
			if (i > 0)
				util_buf_putc(b, ',');
			if (dump_value(b, json_array_get(v, i)) != 0)
				return -1;
		}
		util_buf_putc(b, ']');
		return 0;
	case JSON_STRING:
		return dump_string(b, json_string_value(v), json_string_length(v));
	case JSON_INTEGER:
		util_buf_printf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return 0;
	case JSON_REAL: {
		/* jansson's own text: its precision and its ".0". */
		char *t = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
		if (t == NULL)
			return -1;
		util_buf_puts(b, t);
		free(t);
		return 0;
	}
	case JSON_TRUE:
		util_buf_append(b, "true", 4);
		return 0;
	case JSON_FALSE:
		util_buf_append(b, "false", 5);
		return 0;
	case JSON_NULL:
		util_buf_append(b, "null", 4);
		return 0;
	}
	return -1;
}

char *kobj_dumps(const json_t *v)
{
	struct util_buf b = {0};

	if (!json_is_object(v) && !json_is_array(v))
		return NULL;
	if (dump_value(&b, v) != 0) {
		util_buf_reset(&b);
		return NULL;
	}
	return util_buf_take(&b);
}
