/*
 * config: the YAML layer. libyaml's event API read into a small tree of
 * nodes that remembers line numbers and whether a scalar was plain (typed by
 * the YAML 1.2 core schema) or quoted (a string); YAML to JSON for object
 * files; and the typed readers whose errors name the file, line and key.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "../util/util.h"
#include "config.h"
#include "config_internal.h"

/* ---- the YAML tree ---- */

void config_ynode_free(struct config_ynode *n)
{
	if (n == NULL)
		return;
	if (n->kind == CONFIG_YNODE_SCALAR) {
		free(n->u.s.v);
	} else {
		for (size_t i = 0; i < n->u.c.n; i++)
			config_ynode_free(n->u.c.items[i]);
		free(n->u.c.items);
	}
	free(n);
}

void config_yreader_error(struct config_yreader *r, size_t line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(r->err, r->errlen, "%s:%zu: %s", r->filename, line, msg);
}

/* The 1-based line holding byte offset off of the input. */
static size_t yreader_line_of(const struct config_yreader *r, size_t off)
{
	size_t line = 1;
	for (size_t i = 0; i < off && i < r->len; i++)
		if (r->buf[i] == '\n')
			line++;
	return line;
}

static void yreader_syntax_error(struct config_yreader *r)
{
	const yaml_parser_t *p = &r->parser;
	const char *problem = p->problem ? p->problem : "invalid YAML";

	switch (p->error) {
	case YAML_MEMORY_ERROR:
		fprintf(stderr, "csr-approver: out of memory in the YAML parser\n");
		abort();
	case YAML_READER_ERROR:
		if (p->problem_value != -1)
			config_yreader_error(r, yreader_line_of(r, p->problem_offset), "%s (0x%x)",
			                     problem, (unsigned)p->problem_value);
		else
			config_yreader_error(r, yreader_line_of(r, p->problem_offset), "%s",
			                     problem);
		break;
	default:
		if (p->context != NULL)
			config_yreader_error(r, p->problem_mark.line + 1, "%s (%s at line %zu)",
			                     problem, p->context, p->context_mark.line + 1);
		else
			config_yreader_error(r, p->problem_mark.line + 1, "%s", problem);
		break;
	}
}

/* Accept only the tags that say nothing beyond the node's own kind. */
static bool ytag_ok(const yaml_char_t *tag, enum config_ynode_kind kind)
{
	const char *t = (const char *)tag;
	if (t == NULL || strcmp(t, "!") == 0)
		return true;
	switch (kind) {
	case CONFIG_YNODE_SCALAR:
		return strcmp(t, YAML_STR_TAG) == 0;
	case CONFIG_YNODE_SEQ:
		return strcmp(t, YAML_SEQ_TAG) == 0;
	case CONFIG_YNODE_MAP:
		return strcmp(t, YAML_MAP_TAG) == 0;
	}
	return false;
}

/* Hang n under the innermost open collection (or make it the root). On
 * failure n is freed. */
static int yreader_attach(struct config_yreader *r, struct config_ynode **stack, size_t depth,
                          struct config_ynode **root, struct config_ynode *n)
{
	if (depth == 0) {
		*root = n;
		return 0;
	}
	struct config_ynode *parent = stack[depth - 1];
	if (parent->kind == CONFIG_YNODE_MAP && parent->u.c.n % 2 == 0 &&
	    n->kind != CONFIG_YNODE_SCALAR) {
		config_yreader_error(r, n->line, "mapping keys must be scalars");
		config_ynode_free(n);
		return -1;
	}
	if (parent->u.c.n == parent->u.c.cap) {
		parent->u.c.cap = parent->u.c.cap ? parent->u.c.cap * 2 : 4;
		parent->u.c.items = util_xreallocarray(parent->u.c.items, parent->u.c.cap,
		                                       sizeof(*parent->u.c.items));
	}
	parent->u.c.items[parent->u.c.n++] = n;
	return 0;
}

/*
 * Read the next document of the stream into a tree. Returns 1 with *rootp
 * (caller frees with config_ynode_free()), 0 at the end of the stream, -1 with an
 * error.
 */
int config_yreader_next(struct config_yreader *r, struct config_ynode **rootp)
{
	struct config_ynode *stack[CONFIG_MAX_DEPTH];
	size_t depth = 0;
	struct config_ynode *root = NULL;
	yaml_event_t ev;
	bool have_ev = false;
	int rc = -1;

	*rootp = NULL;
	r->nodes = 0;
	for (;;) {
		struct config_ynode *n = NULL;
		const yaml_char_t *anchor = NULL, *tag = NULL;
		enum config_ynode_kind kind;

		if (!yaml_parser_parse(&r->parser, &ev)) {
			yreader_syntax_error(r);
			goto out;
		}
		have_ev = true;
		size_t line = ev.start_mark.line + 1;
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			rc = 0;
			goto out;
		case YAML_DOCUMENT_END_EVENT:
			*rootp = root;
			root = NULL;
			rc = 1;
			goto out;
		case YAML_ALIAS_EVENT:
			config_yreader_error(r, line, "aliases are not supported");
			goto out;
		case YAML_SCALAR_EVENT:
			anchor = ev.data.scalar.anchor;
			tag = ev.data.scalar.tag;
			kind = CONFIG_YNODE_SCALAR;
			break;
		case YAML_SEQUENCE_START_EVENT:
			anchor = ev.data.sequence_start.anchor;
			tag = ev.data.sequence_start.tag;
			kind = CONFIG_YNODE_SEQ;
			break;
		case YAML_MAPPING_START_EVENT:
			anchor = ev.data.mapping_start.anchor;
			tag = ev.data.mapping_start.tag;
			kind = CONFIG_YNODE_MAP;
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			depth--;
			yaml_event_delete(&ev);
			have_ev = false;
			continue;
		default:
			yaml_event_delete(&ev);
			have_ev = false;
			continue;
		}

		if (anchor != NULL) {
			config_yreader_error(r, line, "anchors are not supported");
			goto out;
		}
		if (!ytag_ok(tag, kind)) {
			config_yreader_error(r, line, "tag %.64s is not supported",
			                     (const char *)tag);
			goto out;
		}
		if (++r->nodes > CONFIG_MAX_NODES) {
			config_yreader_error(r, line, "more than %d nodes in one document",
			                     CONFIG_MAX_NODES);
			goto out;
		}
		if (kind != CONFIG_YNODE_SCALAR && depth == CONFIG_MAX_DEPTH) {
			config_yreader_error(r, line, "nested deeper than %d levels",
			                     CONFIG_MAX_DEPTH);
			goto out;
		}
		n = util_xcalloc(1, sizeof(*n));
		n->kind = (unsigned char)kind;
		n->line = line > UINT32_MAX ? UINT32_MAX : (unsigned)line;
		if (kind == CONFIG_YNODE_SCALAR) {
			n->plain = tag == NULL && ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
			n->u.s.len = ev.data.scalar.length;
			n->u.s.v = util_xstrndup((const char *)ev.data.scalar.value, n->u.s.len);
		}
		if (yreader_attach(r, stack, depth, &root, n) != 0)
			goto out;
		if (kind != CONFIG_YNODE_SCALAR)
			stack[depth++] = n;
		yaml_event_delete(&ev);
		have_ev = false;
	}
out:
	if (have_ev)
		yaml_event_delete(&ev);
	config_ynode_free(root);
	return rc;
}

void config_yreader_open(struct config_yreader *r, const char *buf, size_t len,
                         const char *filename, char *err, size_t errlen)
{
	memset(r, 0, sizeof(*r));
	if (!yaml_parser_initialize(&r->parser)) {
		fprintf(stderr, "csr-approver: out of memory in the YAML parser\n");
		abort();
	}
	yaml_parser_set_input_string(&r->parser, (const unsigned char *)buf, len);
	r->buf = buf;
	r->len = len;
	r->filename = filename;
	r->err = err;
	r->errlen = errlen;
}

void config_yreader_close(struct config_yreader *r)
{
	yaml_parser_delete(&r->parser);
}

/* ---- scalars: the YAML 1.2 core schema ---- */

static bool ys_is_digits(const char *s, const char *set)
{
	if (*s == '\0')
		return false;
	for (; *s; s++)
		if (strchr(set, *s) == NULL)
			return false;
	return true;
}

static bool ys_is_int(const char *s)
{
	if (strncmp(s, "0o", 2) == 0)
		return ys_is_digits(s + 2, "01234567");
	if (strncmp(s, "0x", 2) == 0)
		return ys_is_digits(s + 2, "0123456789abcdefABCDEF");
	if (*s == '-' || *s == '+')
		s++;
	return ys_is_digits(s, "0123456789");
}

/* [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )? */
static bool ys_is_float(const char *s)
{
	size_t whole = 0, frac = 0;
	if (*s == '-' || *s == '+')
		s++;
	while (*s >= '0' && *s <= '9') {
		s++;
		whole++;
	}
	if (*s == '.') {
		s++;
		while (*s >= '0' && *s <= '9') {
			s++;
			frac++;
		}
		if (whole == 0 && frac == 0)
			return false;
	} else if (whole == 0) {
		return false;
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '-' || *s == '+')
			s++;
		if (!ys_is_digits(s, "0123456789"))
			return false;
		return true;
	}
	return *s == '\0';
}

static bool ys_in(const char *s, const char *const *set)
{
	for (; *set; set++)
		if (strcmp(s, *set) == 0)
			return true;
	return false;
}

static const char *const ys_nulls[] = {"", "~", "null", "Null", "NULL", NULL};
static const char *const ys_trues[] = {"true", "True", "TRUE", NULL};
static const char *const ys_falses[] = {"false", "False", "FALSE", NULL};

enum config_yscalar config_ys_type(const struct config_ynode *n)
{
	const char *s = n->u.s.v;
	if (!n->plain || strlen(s) != n->u.s.len)
		return CONFIG_YS_STRING;
	if (ys_in(s, ys_nulls))
		return CONFIG_YS_NULL;
	if (ys_in(s, ys_trues) || ys_in(s, ys_falses))
		return CONFIG_YS_BOOL;
	if (ys_is_int(s))
		return CONFIG_YS_INT;
	/* JSON has no infinity or NaN: .inf and .nan stay strings. */
	if (ys_is_float(s))
		return CONFIG_YS_FLOAT;
	return CONFIG_YS_STRING;
}

/* The value of a scalar typed CONFIG_YS_INT; -1 when it does not fit in 64 bits. */
int config_ys_int(const struct config_ynode *n, int64_t *out)
{
	const char *s = n->u.s.v;
	char *end = NULL;
	errno = 0;
	if (strncmp(s, "0o", 2) == 0 || strncmp(s, "0x", 2) == 0) {
		unsigned long long v = strtoull(s + 2, &end, s[1] == 'o' ? 8 : 16);
		if (errno != 0 || *end != '\0' || v > INT64_MAX)
			return -1;
		*out = (int64_t)v;
		return 0;
	}
	long long v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = (int64_t)v;
	return 0;
}

/* A short, one-line, quoted rendering of a node for messages. */
void config_ydescribe(const struct config_ynode *n, char *out, size_t outlen)
{
	if (n->kind == CONFIG_YNODE_SEQ) {
		snprintf(out, outlen, "a sequence");
		return;
	}
	if (n->kind == CONFIG_YNODE_MAP) {
		snprintf(out, outlen, "a mapping");
		return;
	}
	enum config_yscalar t = config_ys_type(n);
	struct util_buf b = {0};
	size_t len = n->u.s.len;
	bool cut = false;
	if (len > 64) {
		len = 64;
		/* Do not split a UTF-8 sequence. */
		while (len > 0 && ((unsigned char)n->u.s.v[len] & 0xc0) == 0x80)
			len--;
		cut = true;
	}
	if (t == CONFIG_YS_STRING)
		util_buf_putc(&b, '"');
	util_buf_json_escape(&b, n->u.s.v, len);
	if (cut)
		util_buf_puts(&b, "...");
	if (t == CONFIG_YS_STRING)
		util_buf_putc(&b, '"');
	if (t == CONFIG_YS_NULL && n->u.s.len == 0)
		util_buf_puts(&b, "null");
	snprintf(out, outlen, "%s", util_buf_str(&b));
	util_buf_reset(&b);
}

/* ---- YAML to JSON ---- */

static json_t *yjson_node(struct config_yreader *r, const struct config_ynode *n)
{
	json_t *v = NULL;

	if (n->kind == CONFIG_YNODE_SEQ) {
		v = json_array();
		for (size_t i = 0; i < n->u.c.n; i++) {
			json_t *item = yjson_node(r, n->u.c.items[i]);
			if (item == NULL)
				goto fail;
			json_array_append_new(v, item);
		}
		return v;
	}
	if (n->kind == CONFIG_YNODE_MAP) {
		v = json_object();
		for (size_t i = 0; i + 1 < n->u.c.n; i += 2) {
			const struct config_ynode *k = n->u.c.items[i];
			if (strlen(k->u.s.v) != k->u.s.len) {
				config_yreader_error(r, k->line, "NUL byte in a mapping key");
				goto fail;
			}
			if (json_object_getn(v, k->u.s.v, k->u.s.len) != NULL) {
				char d[128];
				config_ydescribe(k, d, sizeof(d));
				config_yreader_error(r, k->line, "duplicate key %s", d);
				goto fail;
			}
			json_t *item = yjson_node(r, n->u.c.items[i + 1]);
			if (item == NULL)
				goto fail;
			if (json_object_setn_new(v, k->u.s.v, k->u.s.len, item) != 0) {
				config_yreader_error(r, k->line, "invalid mapping key");
				goto fail;
			}
		}
		return v;
	}

	int64_t iv;
	switch (config_ys_type(n)) {
	case CONFIG_YS_NULL:
		return json_null();
	case CONFIG_YS_BOOL:
		return json_boolean(ys_in(n->u.s.v, ys_trues));
	case CONFIG_YS_INT:
		if (config_ys_int(n, &iv) != 0) {
			config_yreader_error(r, n->line, "integer out of range");
			return NULL;
		}
		return json_integer((json_int_t)iv);
	case CONFIG_YS_FLOAT: {
		double d = strtod(n->u.s.v, NULL);
		v = isinf(d) ? NULL : json_real(d);
		if (v == NULL)
			config_yreader_error(r, n->line, "number out of range");
		return v;
	}
	case CONFIG_YS_STRING:
		if (strlen(n->u.s.v) != n->u.s.len) {
			config_yreader_error(r, n->line, "NUL byte in a string");
			return NULL;
		}
		v = json_stringn(n->u.s.v, n->u.s.len);
		if (v == NULL)
			config_yreader_error(r, n->line, "string is not valid UTF-8");
		return v;
	}
	return NULL;
fail:
	json_decref(v);
	return NULL;
}

bool config_ynode_is_null(const struct config_ynode *n)
{
	return n->kind == CONFIG_YNODE_SCALAR && config_ys_type(n) == CONFIG_YS_NULL;
}

int config_yaml_to_json(const char *buf, size_t len, const char *filename, json_t **docs, char *err,
                        size_t errlen)
{
	struct config_yreader r;
	struct config_ynode *root = NULL;
	json_t *out = json_array();
	int rc = -1;

	*docs = NULL;
	if (len > CONFIG_MAX_FILE) {
		snprintf(err, errlen, "%s: larger than %d bytes", filename, CONFIG_MAX_FILE);
		json_decref(out);
		return -1;
	}
	config_yreader_open(&r, buf, len, filename, err, errlen);
	for (;;) {
		int n = config_yreader_next(&r, &root);
		if (n < 0)
			goto out;
		if (n == 0)
			break;
		if (!config_ynode_is_null(root)) {
			json_t *doc = yjson_node(&r, root);
			if (doc == NULL)
				goto out;
			json_array_append_new(out, doc);
		}
		config_ynode_free(root);
		root = NULL;
	}
	*docs = out;
	out = NULL;
	rc = 0;
out:
	config_ynode_free(root);
	json_decref(out);
	config_yreader_close(&r);
	return rc;
}
/* ---- typed values, with "FILE:LINE: path: what" errors ---- */

void config_error(struct config_ctx *c, const struct config_ynode *at, const char *path,
                  const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(c->err, c->errlen, "%s:%u: %s%s%s", c->filename, at->line, path, *path ? ": " : "",
	         msg);
}

bool config_ykey_is(const struct config_ynode *k, const char *name)
{
	return k->u.s.len == strlen(name) && memcmp(k->u.s.v, name, k->u.s.len) == 0;
}

int config_expect(struct config_ctx *c, const struct config_ynode *n, const char *path,
                  const char *what)
{
	char d[128];
	config_ydescribe(n, d, sizeof(d));
	config_error(c, n, path, "expected %s, got %s", what, d);
	return -1;
}

/* A key is named as a string, even one that reads as a number. */
int config_unknown_key(struct config_ctx *c, const struct config_ynode *k, const char *path)
{
	char d[128];
	config_ydescribe(k, d, sizeof(d));
	if (d[0] != '"')
		snprintf(d, sizeof(d), "\"%.64s\"", k->u.s.v);
	config_error(c, k, path, "unknown key %s", d);
	return -1;
}

/* A string scalar; *out is borrowed from n. */
int config_string(struct config_ctx *c, const struct config_ynode *n, const char *path,
                  const char **out)
{
	if (n->kind != CONFIG_YNODE_SCALAR || config_ys_type(n) != CONFIG_YS_STRING)
		return config_expect(c, n, path, "a string");
	if (strlen(n->u.s.v) != n->u.s.len) {
		config_error(c, n, path, "contains a NUL byte");
		return -1;
	}
	*out = n->u.s.v;
	return 0;
}

int config_bool(struct config_ctx *c, const struct config_ynode *n, const char *path, bool *out)
{
	if (n->kind != CONFIG_YNODE_SCALAR || config_ys_type(n) != CONFIG_YS_BOOL)
		return config_expect(c, n, path, "true or false");
	*out = ys_in(n->u.s.v, ys_trues);
	return 0;
}

int config_int(struct config_ctx *c, const struct config_ynode *n, const char *path, int64_t min,
               int64_t max, int64_t *out)
{
	int64_t v;
	if (n->kind != CONFIG_YNODE_SCALAR || config_ys_type(n) != CONFIG_YS_INT ||
	    config_ys_int(n, &v) != 0)
		return config_expect(c, n, path, "an integer");
	if (v < min || v > max) {
		config_error(c, n, path, "must be between %lld and %lld, got %lld", (long long)min,
		             (long long)max, (long long)v);
		return -1;
	}
	*out = v;
	return 0;
}

int config_seq(struct config_ctx *c, const struct config_ynode *n, const char *path, bool nonempty)
{
	if (n->kind != CONFIG_YNODE_SEQ)
		return config_expect(c, n, path, "a sequence");
	if (nonempty && n->u.c.n == 0) {
		config_error(c, n, path, "must not be empty");
		return -1;
	}
	return 0;
}

const char *config_library_version(void)
{
	return yaml_get_version_string();
}