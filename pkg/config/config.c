/*
 * config: the policy file and YAML object files, read with libyaml's event
 * API into a small tree of nodes that remembers line numbers and whether a
 * scalar was plain (typed by the YAML 1.2 core schema) or quoted (a string).
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "../util/util.h"

/* ---- the YAML tree ---- */

enum ynode_kind {
	YNODE_SCALAR,
	YNODE_SEQ,
	YNODE_MAP,
};

struct ynode {
	unsigned char kind;
	bool plain; /* plain scalar without a tag: typed by the core schema */
	unsigned line; /* 1-based */
	union {
		struct {
			char *v; /* owned, NUL-terminated (may hold NULs before len) */
			size_t len;
		} s;
		struct {
			struct ynode **items; /* owned; a mapping holds key, value, key, ... */
			size_t n, cap;
		} c;
	} u;
};

static void ynode_free(struct ynode *n)
{
	if (n == NULL)
		return;
	if (n->kind == YNODE_SCALAR) {
		free(n->u.s.v);
	} else {
		for (size_t i = 0; i < n->u.c.n; i++)
			ynode_free(n->u.c.items[i]);
		free(n->u.c.items);
	}
	free(n);
}

struct yreader {
	yaml_parser_t parser;
	const char *buf;
	size_t len;
	const char *filename;
	char *err;
	size_t errlen;
	size_t nodes; /* in the current document */
};

static void yreader_error(struct yreader *r, size_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void yreader_error(struct yreader *r, size_t line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(r->err, r->errlen, "%s:%zu: %s", r->filename, line, msg);
}

/* The 1-based line holding byte offset off of the input. */
static size_t yreader_line_of(const struct yreader *r, size_t off)
{
	size_t line = 1;
	for (size_t i = 0; i < off && i < r->len; i++)
		if (r->buf[i] == '\n')
			line++;
	return line;
}

static void yreader_syntax_error(struct yreader *r)
{
	const yaml_parser_t *p = &r->parser;
	const char *problem = p->problem ? p->problem : "invalid YAML";

	switch (p->error) {
	case YAML_MEMORY_ERROR:
		fprintf(stderr, "csr-approver: out of memory in the YAML parser\n");
		abort();
	case YAML_READER_ERROR:
		if (p->problem_value != -1)
			yreader_error(r, yreader_line_of(r, p->problem_offset), "%s (0x%x)",
			              problem, (unsigned)p->problem_value);
		else
			yreader_error(r, yreader_line_of(r, p->problem_offset), "%s", problem);
		break;
	default:
		if (p->context != NULL)
			yreader_error(r, p->problem_mark.line + 1, "%s (%s at line %zu)", problem,
			              p->context, p->context_mark.line + 1);
		else
			yreader_error(r, p->problem_mark.line + 1, "%s", problem);
		break;
	}
}

/* Accept only the tags that say nothing beyond the node's own kind. */
static bool ytag_ok(const yaml_char_t *tag, enum ynode_kind kind)
{
	const char *t = (const char *)tag;
	if (t == NULL || strcmp(t, "!") == 0)
		return true;
	switch (kind) {
	case YNODE_SCALAR:
		return strcmp(t, YAML_STR_TAG) == 0;
	case YNODE_SEQ:
		return strcmp(t, YAML_SEQ_TAG) == 0;
	case YNODE_MAP:
		return strcmp(t, YAML_MAP_TAG) == 0;
	}
	return false;
}

/* Hang n under the innermost open collection (or make it the root). On
 * failure n is freed. */
static int yreader_attach(struct yreader *r, struct ynode **stack, size_t depth,
                          struct ynode **root, struct ynode *n)
{
	if (depth == 0) {
		*root = n;
		return 0;
	}
	struct ynode *parent = stack[depth - 1];
	if (parent->kind == YNODE_MAP && parent->u.c.n % 2 == 0 && n->kind != YNODE_SCALAR) {
		yreader_error(r, n->line, "mapping keys must be scalars");
		ynode_free(n);
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
 * (caller frees with ynode_free()), 0 at the end of the stream, -1 with an
 * error.
 */
static int yreader_next(struct yreader *r, struct ynode **rootp)
{
	struct ynode *stack[CONFIG_MAX_DEPTH];
	size_t depth = 0;
	struct ynode *root = NULL;
	yaml_event_t ev;
	bool have_ev = false;
	int rc = -1;

	*rootp = NULL;
	r->nodes = 0;
	for (;;) {
		struct ynode *n = NULL;
		const yaml_char_t *anchor = NULL, *tag = NULL;
		enum ynode_kind kind;

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
			yreader_error(r, line, "aliases are not supported");
			goto out;
		case YAML_SCALAR_EVENT:
			anchor = ev.data.scalar.anchor;
			tag = ev.data.scalar.tag;
			kind = YNODE_SCALAR;
			break;
		case YAML_SEQUENCE_START_EVENT:
			anchor = ev.data.sequence_start.anchor;
			tag = ev.data.sequence_start.tag;
			kind = YNODE_SEQ;
			break;
		case YAML_MAPPING_START_EVENT:
			anchor = ev.data.mapping_start.anchor;
			tag = ev.data.mapping_start.tag;
			kind = YNODE_MAP;
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
			yreader_error(r, line, "anchors are not supported");
			goto out;
		}
		if (!ytag_ok(tag, kind)) {
			yreader_error(r, line, "tag %.64s is not supported", (const char *)tag);
			goto out;
		}
		if (++r->nodes > CONFIG_MAX_NODES) {
			yreader_error(r, line, "more than %d nodes in one document",
			              CONFIG_MAX_NODES);
			goto out;
		}
		if (kind != YNODE_SCALAR && depth == CONFIG_MAX_DEPTH) {
			yreader_error(r, line, "nested deeper than %d levels", CONFIG_MAX_DEPTH);
			goto out;
		}
		n = util_xcalloc(1, sizeof(*n));
		n->kind = (unsigned char)kind;
		n->line = line > UINT32_MAX ? UINT32_MAX : (unsigned)line;
		if (kind == YNODE_SCALAR) {
			n->plain = tag == NULL && ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
			n->u.s.len = ev.data.scalar.length;
			n->u.s.v = util_xstrndup((const char *)ev.data.scalar.value, n->u.s.len);
		}
		if (yreader_attach(r, stack, depth, &root, n) != 0)
			goto out;
		if (kind != YNODE_SCALAR)
			stack[depth++] = n;
		yaml_event_delete(&ev);
		have_ev = false;
	}
out:
	if (have_ev)
		yaml_event_delete(&ev);
	ynode_free(root);
	return rc;
}

static void yreader_open(struct yreader *r, const char *buf, size_t len, const char *filename,
                         char *err, size_t errlen)
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

static void yreader_close(struct yreader *r)
{
	yaml_parser_delete(&r->parser);
}

/* ---- scalars: the YAML 1.2 core schema ---- */

enum yscalar {
	YS_STRING,
	YS_NULL,
	YS_BOOL,
	YS_INT,
	YS_FLOAT,
};

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

static enum yscalar ys_type(const struct ynode *n)
{
	const char *s = n->u.s.v;
	if (!n->plain || strlen(s) != n->u.s.len)
		return YS_STRING;
	if (ys_in(s, ys_nulls))
		return YS_NULL;
	if (ys_in(s, ys_trues) || ys_in(s, ys_falses))
		return YS_BOOL;
	if (ys_is_int(s))
		return YS_INT;
	/* JSON has no infinity or NaN: .inf and .nan stay strings. */
	if (ys_is_float(s))
		return YS_FLOAT;
	return YS_STRING;
}

/* The value of a scalar typed YS_INT; -1 when it does not fit in 64 bits. */
static int ys_int(const struct ynode *n, int64_t *out)
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
static void ydescribe(const struct ynode *n, char *out, size_t outlen)
{
	if (n->kind == YNODE_SEQ) {
		snprintf(out, outlen, "a sequence");
		return;
	}
	if (n->kind == YNODE_MAP) {
		snprintf(out, outlen, "a mapping");
		return;
	}
	enum yscalar t = ys_type(n);
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
	if (t == YS_STRING)
		util_buf_putc(&b, '"');
	util_buf_json_escape(&b, n->u.s.v, len);
	if (cut)
		util_buf_puts(&b, "...");
	if (t == YS_STRING)
		util_buf_putc(&b, '"');
	if (t == YS_NULL && n->u.s.len == 0)
		util_buf_puts(&b, "null");
	snprintf(out, outlen, "%s", util_buf_str(&b));
	util_buf_reset(&b);
}

/* ---- YAML to JSON ---- */

static json_t *yjson_node(struct yreader *r, const struct ynode *n)
{
	json_t *v = NULL;

	if (n->kind == YNODE_SEQ) {
		v = json_array();
		for (size_t i = 0; i < n->u.c.n; i++) {
			json_t *item = yjson_node(r, n->u.c.items[i]);
			if (item == NULL)
				goto fail;
			json_array_append_new(v, item);
		}
		return v;
	}
	if (n->kind == YNODE_MAP) {
		v = json_object();
		for (size_t i = 0; i + 1 < n->u.c.n; i += 2) {
			const struct ynode *k = n->u.c.items[i];
			if (strlen(k->u.s.v) != k->u.s.len) {
				yreader_error(r, k->line, "NUL byte in a mapping key");
				goto fail;
			}
			if (json_object_getn(v, k->u.s.v, k->u.s.len) != NULL) {
				char d[128];
				ydescribe(k, d, sizeof(d));
				yreader_error(r, k->line, "duplicate key %s", d);
				goto fail;
			}
			json_t *item = yjson_node(r, n->u.c.items[i + 1]);
			if (item == NULL)
				goto fail;
			if (json_object_setn_new(v, k->u.s.v, k->u.s.len, item) != 0) {
				yreader_error(r, k->line, "invalid mapping key");
				goto fail;
			}
		}
		return v;
	}

	int64_t iv;
	switch (ys_type(n)) {
	case YS_NULL:
		return json_null();
	case YS_BOOL:
		return json_boolean(ys_in(n->u.s.v, ys_trues));
	case YS_INT:
		if (ys_int(n, &iv) != 0) {
			yreader_error(r, n->line, "integer out of range");
			return NULL;
		}
		return json_integer((json_int_t)iv);
	case YS_FLOAT: {
		double d = strtod(n->u.s.v, NULL);
		v = isinf(d) ? NULL : json_real(d);
		if (v == NULL)
			yreader_error(r, n->line, "number out of range");
		return v;
	}
	case YS_STRING:
		if (strlen(n->u.s.v) != n->u.s.len) {
			yreader_error(r, n->line, "NUL byte in a string");
			return NULL;
		}
		v = json_stringn(n->u.s.v, n->u.s.len);
		if (v == NULL)
			yreader_error(r, n->line, "string is not valid UTF-8");
		return v;
	}
	return NULL;
fail:
	json_decref(v);
	return NULL;
}

static bool ynode_is_null(const struct ynode *n)
{
	return n->kind == YNODE_SCALAR && ys_type(n) == YS_NULL;
}

int config_yaml_to_json(const char *buf, size_t len, const char *filename, json_t **docs, char *err,
                        size_t errlen)
{
	struct yreader r;
	struct ynode *root = NULL;
	json_t *out = json_array();
	int rc = -1;

	*docs = NULL;
	if (len > CONFIG_MAX_FILE) {
		snprintf(err, errlen, "%s: larger than %d bytes", filename, CONFIG_MAX_FILE);
		json_decref(out);
		return -1;
	}
	yreader_open(&r, buf, len, filename, err, errlen);
	for (;;) {
		int n = yreader_next(&r, &root);
		if (n < 0)
			goto out;
		if (n == 0)
			break;
		if (!ynode_is_null(root)) {
			json_t *doc = yjson_node(&r, root);
			if (doc == NULL)
				goto out;
			json_array_append_new(out, doc);
		}
		ynode_free(root);
		root = NULL;
	}
	*docs = out;
	out = NULL;
	rc = 0;
out:
	ynode_free(root);
	json_decref(out);
	yreader_close(&r);
	return rc;
}

/* ---- the policy file ---- */

struct cfg {
	const char *filename;
	char *err;
	size_t errlen;
	struct policy_set *set;
};

static void cfg_error(struct cfg *c, const struct ynode *at, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void cfg_error(struct cfg *c, const struct ynode *at, const char *path, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(c->err, c->errlen, "%s:%u: %s%s%s", c->filename, at->line, path, *path ? ": " : "",
	         msg);
}

static bool ykey_is(const struct ynode *k, const char *name)
{
	return k->u.s.len == strlen(name) && memcmp(k->u.s.v, name, k->u.s.len) == 0;
}

static int cfg_expect(struct cfg *c, const struct ynode *n, const char *path, const char *what)
{
	char d[128];
	ydescribe(n, d, sizeof(d));
	cfg_error(c, n, path, "expected %s, got %s", what, d);
	return -1;
}

/* A key is named as a string, even one that reads as a number. */
static int cfg_unknown_key(struct cfg *c, const struct ynode *k, const char *path)
{
	char d[128];
	ydescribe(k, d, sizeof(d));
	if (d[0] != '"')
		snprintf(d, sizeof(d), "\"%.64s\"", k->u.s.v);
	cfg_error(c, k, path, "unknown key %s", d);
	return -1;
}

/* A string scalar; *out is borrowed from n. */
static int cfg_string(struct cfg *c, const struct ynode *n, const char *path, const char **out)
{
	if (n->kind != YNODE_SCALAR || ys_type(n) != YS_STRING)
		return cfg_expect(c, n, path, "a string");
	if (strlen(n->u.s.v) != n->u.s.len) {
		cfg_error(c, n, path, "contains a NUL byte");
		return -1;
	}
	*out = n->u.s.v;
	return 0;
}

static int cfg_bool(struct cfg *c, const struct ynode *n, const char *path, bool *out)
{
	if (n->kind != YNODE_SCALAR || ys_type(n) != YS_BOOL)
		return cfg_expect(c, n, path, "true or false");
	*out = ys_in(n->u.s.v, ys_trues);
	return 0;
}

static int cfg_int(struct cfg *c, const struct ynode *n, const char *path, int64_t min, int64_t max,
                   int64_t *out)
{
	int64_t v;
	if (n->kind != YNODE_SCALAR || ys_type(n) != YS_INT || ys_int(n, &v) != 0)
		return cfg_expect(c, n, path, "an integer");
	if (v < min || v > max) {
		cfg_error(c, n, path, "must be between %lld and %lld, got %lld", (long long)min,
		          (long long)max, (long long)v);
		return -1;
	}
	*out = v;
	return 0;
}

static int cfg_seq(struct cfg *c, const struct ynode *n, const char *path, bool nonempty)
{
	if (n->kind != YNODE_SEQ)
		return cfg_expect(c, n, path, "a sequence");
	if (nonempty && n->u.c.n == 0) {
		cfg_error(c, n, path, "must not be empty");
		return -1;
	}
	return 0;
}

/* An RFC 1123 label: [a-z0-9]([-a-z0-9]*[a-z0-9])?, at most max bytes. */
static bool cfg_is_label(const char *s, size_t n, size_t max)
{
	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
		if (!alnum && !(ch == '-' && i > 0 && i + 1 < n))
			return false;
	}
	return true;
}

/* Labels of at most label_max bytes separated by dots, at most 253 bytes in
 * all; *n_labels counts them. */
static bool cfg_is_dotted(const char *s, size_t label_max, size_t *n_labels)
{
	size_t len = strlen(s);
	*n_labels = 0;
	if (len == 0 || len > 253)
		return false;
	for (;;) {
		const char *dot = strchr(s, '.');
		size_t n = dot ? (size_t)(dot - s) : strlen(s);
		if (!cfg_is_label(s, n, label_max))
			return false;
		(*n_labels)++;
		if (dot == NULL)
			return true;
		s = dot + 1;
	}
}

/* A DNS-1123 subdomain, the form Kubernetes uses for names. */
static bool cfg_is_dns_name(const char *s)
{
	size_t n;
	return cfg_is_dotted(s, 63, &n);
}

/* A signer name as Kubernetes validates it (ValidateSignerName): a domain
 * of at least two DNS labels, one '/', a path of dot-separated DNS-1123
 * names; at most 571 bytes. */
static const char *cfg_signer_problem(const char *s)
{
	const char *slash = strchr(s, '/');
	size_t n;
	if (slash == NULL || strchr(slash + 1, '/') != NULL)
		return "must be a fully qualified domain and path of the form 'example.com/signer-name'";
	if (strlen(s) > 253 + 253 + 63 + 1 + 1)
		return "is longer than 571 bytes";
	char *domain = util_xstrndup(s, (size_t)(slash - s));
	bool ok = cfg_is_dotted(domain, 63, &n);
	free(domain);
	if (!ok)
		return "the domain must be lowercase DNS labels separated by dots";
	if (n < 2)
		return "the domain must have at least two labels separated by dots";
	const char *path = slash + 1;
	if (*path == '\0')
		return "the path after '/' must not be empty";
	for (;;) {
		const char *dot = strchr(path, '.');
		size_t len = dot ? (size_t)(dot - path) : strlen(path);
		if (!cfg_is_label(path, len, 253))
			return "the path must be lowercase letters, digits, '-' and '.', each part starting and ending with a letter or digit";
		if (dot == NULL)
			break;
		path = dot + 1;
	}
	return NULL;
}

static bool cfg_is_policy_name(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 63)
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

/* A SPIFFE trust domain: lowercase letters, digits, '.', '-', '_'. */
static bool cfg_is_trust_domain(const char *s)
{
	size_t n = strlen(s);
	return n > 0 && n <= 255 && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789.-_") == n;
}

/* Usages a CertificateSigningRequest may carry (certificates.k8s.io/v1). */
static const char *const cfg_usages[] = {
    "signing",
    "digital signature",
    "content commitment",
    "key encipherment",
    "key agreement",
    "data encipherment",
    "cert sign",
    "crl sign",
    "encipher only",
    "decipher only",
    "any",
    "server auth",
    "client auth",
    "code signing",
    "email protection",
    "s/mime",
    "ipsec end system",
    "ipsec tunnel",
    "ipsec user",
    "timestamping",
    "ocsp signing",
    "microsoft sgc",
    "netscape sgc",
    NULL,
};

struct cfg_flag {
	const char *name;
	uint32_t bit;
};

static const struct cfg_flag cfg_names[] = {
    {"spiffe", POLICY_NAME_SPIFFE},
    {"podIP", POLICY_NAME_POD_IP},
    {"podDNS", POLICY_NAME_POD_DNS},
    {"hostnameDNS", POLICY_NAME_HOSTNAME_DNS},
    {"serviceDNS", POLICY_NAME_SERVICE_DNS},
    {"serviceShortDNS", POLICY_NAME_SERVICE_SHORT_DNS},
    {NULL, 0},
};

static const struct cfg_flag cfg_keys[] = {
    {"ecdsa-p256", POLICY_KEY_ECDSA_P256}, {"ecdsa-p384", POLICY_KEY_ECDSA_P384},
    {"ecdsa-p521", POLICY_KEY_ECDSA_P521}, {"ed25519", POLICY_KEY_ED25519},
    {"rsa-2048", POLICY_KEY_RSA_2048},     {"rsa-3072", POLICY_KEY_RSA_3072},
    {"rsa-4096", POLICY_KEY_RSA_4096},     {NULL, 0},
};

/* A non-empty sequence of distinct names from table, as bits. */
static int cfg_flags(struct cfg *c, const struct ynode *n, const char *path,
                     const struct cfg_flag *table, const char *what, uint32_t *out)
{
	char ipath[200];
	uint32_t bits = 0;

	if (cfg_seq(c, n, path, true) != 0)
		return -1;
	for (size_t i = 0; i < n->u.c.n; i++) {
		const struct ynode *item = n->u.c.items[i];
		const char *s;
		const struct cfg_flag *f;
		snprintf(ipath, sizeof(ipath), "%s[%zu]", path, i);
		if (cfg_string(c, item, ipath, &s) != 0)
			return -1;
		for (f = table; f->name; f++)
			if (strcmp(f->name, s) == 0)
				break;
		if (f->name == NULL) {
			struct util_buf b = {0};
			for (f = table; f->name; f++)
				util_buf_printf(&b, "%s%s", f == table ? "" : ", ", f->name);
			char d[128];
			ydescribe(item, d, sizeof(d));
			cfg_error(c, item, ipath, "unknown %s %s (expected one of %s)", what, d,
			          util_buf_str(&b));
			util_buf_reset(&b);
			return -1;
		}
		if (bits & f->bit) {
			cfg_error(c, item, ipath, "duplicate %s \"%s\"", what, f->name);
			return -1;
		}
		bits |= f->bit;
	}
	*out = bits;
	return 0;
}

/* A sequence of strings into sv (replacing what it held). check, when
 * set, names what is wrong with one string or returns NULL. */
static int cfg_strings(struct cfg *c, const struct ynode *n, const char *path, bool nonempty,
                       const char *(*check)(const char *s, const struct util_strv *seen),
                       struct util_strv *sv)
{
	char ipath[200];
	struct util_strv tmp = {0};

	if (cfg_seq(c, n, path, nonempty) != 0)
		return -1;
	for (size_t i = 0; i < n->u.c.n; i++) {
		const char *s, *problem;
		snprintf(ipath, sizeof(ipath), "%s[%zu]", path, i);
		if (cfg_string(c, n->u.c.items[i], ipath, &s) != 0)
			goto fail;
		if (check != NULL && (problem = check(s, &tmp)) != NULL) {
			char d[128];
			ydescribe(n->u.c.items[i], d, sizeof(d));
			cfg_error(c, n->u.c.items[i], ipath, "%s %s", d, problem);
			goto fail;
		}
		util_strv_push(&tmp, s);
	}
	util_strv_free(sv);
	*sv = tmp;
	return 0;
fail:
	util_strv_free(&tmp);
	return -1;
}

static const char *cfg_check_pattern(const char *s, const struct util_strv *seen)
{
	(void)seen;
	return *s == '\0' ? "is empty: a namespace pattern matches at least one character" : NULL;
}

static const char *cfg_check_usage(const char *s, const struct util_strv *seen)
{
	if (!ys_in(s, cfg_usages))
		return "is not a Kubernetes key usage";
	if (util_strv_contains(seen, s))
		return "is listed twice";
	return NULL;
}

/*
 * A regex compiled as ^(re)$ is anchored only if re's parentheses balance:
 * glibc takes an unmatched ')' as a literal, so "a)|(b" would otherwise
 * turn into two unanchored branches. The same walk bounds the size of the
 * compiled pattern, which bounded repetitions multiply ((a{100}){100}...).
 */
#define CFG_RE_MAX_LEN 1024
#define CFG_RE_MAX_COST 10000
#define CFG_RE_MAX_NEST 32

static unsigned long long cfg_sat_add(unsigned long long a, unsigned long long b)
{
	unsigned long long s = a + b;
	return s < a || s > CFG_RE_MAX_COST + 1 ? CFG_RE_MAX_COST + 1 : s;
}

static unsigned long long cfg_sat_mul(unsigned long long a, unsigned long long b)
{
	if (a != 0 && b > (CFG_RE_MAX_COST + 1) / a)
		return CFG_RE_MAX_COST + 1;
	return a * b;
}

/* The length of the bracket expression starting at re[0] == '[', or 0 when
 * it does not end. */
static size_t cfg_re_bracket(const char *re)
{
	size_t j = 1;
	if (re[j] == '^')
		j++;
	if (re[j] == ']')
		j++;
	while (re[j] != '\0' && re[j] != ']') {
		if (re[j] == '[' && (re[j + 1] == ':' || re[j + 1] == '.' || re[j + 1] == '=')) {
			char close = re[j + 1];
			j += 2;
			while (re[j] != '\0' && !(re[j] == close && re[j + 1] == ']'))
				j++;
			if (re[j] == '\0')
				return 0;
			j += 2;
		} else {
			j++;
		}
	}
	return re[j] == ']' ? j + 1 : 0;
}

/* Parse an interval {m}, {m,} or {m,n} at re; returns its length (0 if it
 * is not one) and its largest count in *max. */
static size_t cfg_re_interval(const char *re, unsigned long long *max)
{
	unsigned long long m = 0, n = 0;
	size_t i = 1, digits = 0;
	while (re[i] >= '0' && re[i] <= '9' && digits < 6) {
		m = m * 10 + (unsigned long long)(re[i++] - '0');
		digits++;
	}
	if (digits == 0)
		return 0;
	n = m;
	if (re[i] == ',') {
		i++;
		digits = 0;
		n = 0;
		while (re[i] >= '0' && re[i] <= '9' && digits < 6) {
			n = n * 10 + (unsigned long long)(re[i++] - '0');
			digits++;
		}
		if (digits == 0)
			n = m + 1;
	}
	if (re[i] != '}')
		return 0;
	*max = n > m ? n : m;
	return i + 1;
}

static const char *cfg_regex_problem(const char *re)
{
	struct {
		unsigned long long total, last;
	} st[CFG_RE_MAX_NEST + 1];
	size_t d = 0;

	if (strlen(re) > CFG_RE_MAX_LEN)
		return "is longer than 1024 bytes";
	st[0].total = st[0].last = 0;
	for (size_t i = 0; re[i] != '\0'; i++) {
		char ch = re[i];
		unsigned long long max;
		size_t n;
		switch (ch) {
		case '\\':
			if (re[i + 1] == '\0')
				return "ends with a backslash";
			i++;
			st[d].last = 1;
			st[d].total = cfg_sat_add(st[d].total, 1);
			break;
		case '[':
			n = cfg_re_bracket(re + i);
			if (n == 0)
				return "has an unterminated bracket expression";
			i += n - 1;
			st[d].last = 1;
			st[d].total = cfg_sat_add(st[d].total, 1);
			break;
		case '(':
			if (d == CFG_RE_MAX_NEST)
				return "nests parentheses too deeply";
			d++;
			st[d].total = st[d].last = 0;
			break;
		case ')':
			if (d == 0)
				return "has an unmatched ')'";
			max = st[d].total ? st[d].total : 1;
			d--;
			st[d].last = max;
			st[d].total = cfg_sat_add(st[d].total, max);
			break;
		case '|':
			st[d].last = 0;
			break;
		case '+':
			st[d].total = cfg_sat_add(st[d].total, st[d].last);
			break;
		case '{':
			n = cfg_re_interval(re + i, &max);
			if (n == 0) {
				st[d].last = 1;
				st[d].total = cfg_sat_add(st[d].total, 1);
				break;
			}
			i += n - 1;
			if (max > 1)
				st[d].total =
				    cfg_sat_add(st[d].total, cfg_sat_mul(st[d].last, max - 1));
			st[d].last = cfg_sat_mul(st[d].last, max ? max : 1);
			break;
		case '*':
		case '?':
		case '^':
		case '$':
			break;
		default:
			st[d].last = 1;
			st[d].total = cfg_sat_add(st[d].total, 1);
			break;
		}
		if (st[d].total > CFG_RE_MAX_COST || st[d].last > CFG_RE_MAX_COST)
			return "is too complex (repetitions expand beyond 10000 elements)";
	}
	if (d != 0)
		return "has an unmatched '('";
	return NULL;
}

static int cfg_regex(struct cfg *c, const struct ynode *n, const char *path, struct policy_rule *r)
{
	const char *s, *problem;
	regex_t *re = NULL;
	char *wrapped = NULL;
	int rc = -1, e;

	if (cfg_string(c, n, path, &s) != 0)
		return -1;
	if (*s == '\0')
		return 0; /* none */
	if ((problem = cfg_regex_problem(s)) != NULL) {
		cfg_error(c, n, path, "invalid regex: %s", problem);
		goto out;
	}
	/* DNS names compare case-insensitively: so does the regex. */
	wrapped = util_xasprintf("^(%s)$", s);
	re = util_xmalloc(sizeof(*re));
	e = regcomp(re, wrapped, REG_EXTENDED | REG_NOSUB | REG_ICASE);
	if (e != 0) {
		char msg[128];
		regerror(e, re, msg, sizeof(msg));
		cfg_error(c, n, path, "invalid regex: %s", msg);
		free(re);
		re = NULL;
		goto out;
	}
	free(r->dns_name_regex);
	r->dns_name_regex = util_xstrdup(s);
	r->dns_name_re = re;
	re = NULL;
	rc = 0;
out:
	free(wrapped);
	return rc;
}

static int cfg_prefix(struct cfg *c, const struct ynode *n, const char *path,
                      struct policy_prefix *p)
{
	const char *s;
	char addr[64];
	char d[128];
	const char *slash;
	int af, max, bits = 0;

	if (cfg_string(c, n, path, &s) != 0)
		return -1;
	ydescribe(n, d, sizeof(d));
	slash = strchr(s, '/');
	if (slash == NULL || (size_t)(slash - s) >= sizeof(addr)) {
		cfg_error(c, n, path, "expected a CIDR such as 10.0.0.0/8 or fd00::/8, got %s", d);
		return -1;
	}
	memcpy(addr, s, (size_t)(slash - s));
	addr[slash - s] = '\0';
	af = strchr(addr, ':') ? AF_INET6 : AF_INET;
	max = af == AF_INET6 ? 128 : 32;
	memset(p, 0, sizeof(*p));
	p->len = af == AF_INET6 ? 16 : 4;
	if (inet_pton(af, addr, p->addr) != 1) {
		cfg_error(c, n, path, "invalid CIDR %s: bad address", d);
		return -1;
	}
	const char *b = slash + 1;
	size_t nd = strspn(b, "0123456789");
	if (nd == 0 || nd > 3 || b[nd] != '\0' || (b[0] == '0' && nd > 1)) {
		cfg_error(c, n, path, "invalid CIDR %s: bad prefix length", d);
		return -1;
	}
	for (size_t i = 0; i < nd; i++)
		bits = bits * 10 + (b[i] - '0');
	if (bits > max) {
		cfg_error(c, n, path, "invalid CIDR %s: prefix length above %d", d, max);
		return -1;
	}
	p->bits = bits;
	unsigned char net[16];
	bool host = false;
	for (size_t i = 0; i < p->len; i++) {
		int keep = bits - (int)i * 8;
		unsigned char mask = keep >= 8 ? 0xff
		    : keep <= 0                ? 0
		                               : (unsigned char)(0xff << (8 - keep));
		net[i] = p->addr[i] & mask;
		host |= net[i] != p->addr[i];
	}
	if (host) {
		char text[INET6_ADDRSTRLEN];
		inet_ntop(af, net, text, sizeof(text));
		cfg_error(c, n, path, "invalid CIDR %s: host bits are set (the network is %s/%d)",
		          d, text, bits);
		return -1;
	}
	return 0;
}

enum cfg_pkey {
	PK_NAME,
	PK_SIGNER,
	PK_TYPE,
	PK_ON_FAILURE,
	PK_NAMESPACES,
	PK_EXCLUDE,
	PK_TRUST,
	PK_REQUIRE_POD,
	PK_ALLOWED_NAMES,
	PK_KEYS,
	PK_USAGES,
	PK_MAX_EXP,
	PK_MIN_EXP,
	PK_MAX_SANS,
	PK_DNS_REGEX,
	PK_IP_PREFIXES,
	PK_COUNT,
};

#define T_W (1u << POLICY_TYPE_WORKLOAD)
#define T_S (1u << POLICY_TYPE_KUBELET_SERVING)
#define T_C (1u << POLICY_TYPE_KUBELET_CLIENT)

/* Each key and the types whose rules read it. A key the type ignores is an
 * error, so that no one believes a rule is in force when it is not: the
 * kubelet types have no namespaces, pods or SPIFFE names; kubelet-client
 * allows no SAN at all; only kubelet-serving has dnsNameRegex and
 * ipPrefixes. usages narrows the type's fixed usages further. */
static const struct {
	const char *name;
	unsigned types;
} cfg_pkeys[PK_COUNT] = {
    [PK_NAME] = {"name", T_W | T_S | T_C},
    [PK_SIGNER] = {"signerName", T_W | T_S | T_C},
    [PK_TYPE] = {"type", T_W | T_S | T_C},
    [PK_ON_FAILURE] = {"onFailure", T_W | T_S | T_C},
    [PK_NAMESPACES] = {"namespaces", T_W},
    [PK_EXCLUDE] = {"excludeNamespaces", T_W},
    [PK_TRUST] = {"trustDomain", T_W},
    [PK_REQUIRE_POD] = {"requirePodBinding", T_W},
    [PK_ALLOWED_NAMES] = {"allowedNames", T_W},
    [PK_KEYS] = {"keys", T_W | T_S | T_C},
    [PK_USAGES] = {"usages", T_W | T_S | T_C},
    [PK_MAX_EXP] = {"maxExpirationSeconds", T_W | T_S | T_C},
    [PK_MIN_EXP] = {"minExpirationSeconds", T_W | T_S | T_C},
    [PK_MAX_SANS] = {"maxSANs", T_W | T_S},
    [PK_DNS_REGEX] = {"dnsNameRegex", T_S},
    [PK_IP_PREFIXES] = {"ipPrefixes", T_S},
};

static const char *const cfg_type_names[] = {
    [POLICY_TYPE_WORKLOAD] = "workload",
    [POLICY_TYPE_KUBELET_SERVING] = "kubelet-serving",
    [POLICY_TYPE_KUBELET_CLIENT] = "kubelet-client",
};

/* The largest expirationSeconds the API accepts (an int32). */
#define CFG_MAX_EXPIRATION INT32_MAX

static int cfg_policy_value(struct cfg *c, struct policy_rule *r, enum cfg_pkey k,
                            const struct ynode *v, const char *path)
{
	const char *s;

	switch (k) {
	case PK_NAME:
		if (cfg_string(c, v, path, &s) != 0)
			return -1;
		if (!cfg_is_policy_name(s)) {
			char d[128];
			ydescribe(v, d, sizeof(d));
			cfg_error(c, v, path,
			          "invalid name %s: use 1 to 63 lowercase letters, digits and '-'",
			          d);
			return -1;
		}
		r->name = util_xstrdup(s);
		return 0;
	case PK_SIGNER: {
		const char *problem;
		if (cfg_string(c, v, path, &s) != 0)
			return -1;
		if ((problem = cfg_signer_problem(s)) != NULL) {
			char d[128];
			ydescribe(v, d, sizeof(d));
			cfg_error(c, v, path, "invalid signer name %s: %s", d, problem);
			return -1;
		}
		r->signer_name = util_xstrdup(s);
		return 0;
	}
	case PK_TYPE:
		return 0; /* read first, by cfg_policy() */
	case PK_ON_FAILURE:
		if (cfg_string(c, v, path, &s) != 0)
			return -1;
		if (strcmp(s, "deny") == 0) {
			r->on_failure = POLICY_ON_FAILURE_DENY;
		} else if (strcmp(s, "leave-pending") == 0) {
			r->on_failure = POLICY_ON_FAILURE_LEAVE_PENDING;
		} else {
			char d[128];
			ydescribe(v, d, sizeof(d));
			cfg_error(c, v, path, "expected deny or leave-pending, got %s", d);
			return -1;
		}
		return 0;
	case PK_NAMESPACES:
		return cfg_strings(c, v, path, true, cfg_check_pattern, &r->namespaces);
	case PK_EXCLUDE:
		return cfg_strings(c, v, path, false, cfg_check_pattern, &r->exclude_namespaces);
	case PK_TRUST:
		if (cfg_string(c, v, path, &s) != 0)
			return -1;
		if (!cfg_is_trust_domain(s)) {
			char d[128];
			ydescribe(v, d, sizeof(d));
			cfg_error(
			    c, v, path,
			    "invalid trust domain %s: use lowercase letters, digits, '.', '-' and '_'",
			    d);
			return -1;
		}
		free(r->trust_domain);
		r->trust_domain = util_xstrdup(s);
		return 0;
	case PK_REQUIRE_POD:
		return cfg_bool(c, v, path, &r->require_pod_binding);
	case PK_ALLOWED_NAMES:
		return cfg_flags(c, v, path, cfg_names, "name", &r->allowed_names);
	case PK_KEYS:
		return cfg_flags(c, v, path, cfg_keys, "key", &r->keys);
	case PK_USAGES:
		return cfg_strings(c, v, path, true, cfg_check_usage, &r->usages);
	case PK_MAX_EXP:
		return cfg_int(c, v, path, 600, CFG_MAX_EXPIRATION, &r->max_expiration_seconds);
	case PK_MIN_EXP:
		return cfg_int(c, v, path, 600, CFG_MAX_EXPIRATION, &r->min_expiration_seconds);
	case PK_MAX_SANS:
		return cfg_int(c, v, path, 1, CSR_MAX_SANS, &r->max_sans);
	case PK_DNS_REGEX:
		return cfg_regex(c, v, path, r);
	case PK_IP_PREFIXES: {
		char ipath[200];
		struct policy_prefix *p = NULL;
		if (cfg_seq(c, v, path, false) != 0)
			return -1;
		if (v->u.c.n > 0)
			p = util_xcalloc(v->u.c.n, sizeof(*p));
		for (size_t i = 0; i < v->u.c.n; i++) {
			snprintf(ipath, sizeof(ipath), "%s[%zu]", path, i);
			if (cfg_prefix(c, v->u.c.items[i], ipath, &p[i]) != 0) {
				free(p);
				return -1;
			}
		}
		free(r->ip_prefixes);
		r->ip_prefixes = p;
		r->n_ip_prefixes = v->u.c.n;
		return 0;
	}
	case PK_COUNT:
		break;
	}
	return -1;
}

static int cfg_policy(struct cfg *c, size_t idx, const struct ynode *m)
{
	char base[48], path[160];
	const struct ynode *vals[PK_COUNT] = {0};
	const struct ynode *keys[PK_COUNT] = {0};
	/* Keys in file order: at most PK_COUNT, since unknown and duplicate keys
	 * are errors. */
	enum cfg_pkey order[PK_COUNT];
	size_t n_order = 0;
	enum policy_type type = POLICY_TYPE_WORKLOAD;
	const char *s;

	snprintf(base, sizeof(base), "policies[%zu]", idx);
	if (m->kind != YNODE_MAP)
		return cfg_expect(c, m, base, "a mapping");
	for (size_t i = 0; i + 1 < m->u.c.n; i += 2) {
		const struct ynode *k = m->u.c.items[i];
		size_t j;
		for (j = 0; j < PK_COUNT; j++)
			if (ykey_is(k, cfg_pkeys[j].name))
				break;
		if (j == PK_COUNT)
			return cfg_unknown_key(c, k, base);
		if (keys[j] != NULL) {
			snprintf(path, sizeof(path), "%s.%s", base, cfg_pkeys[j].name);
			cfg_error(c, k, path, "duplicate key (first at line %u)", keys[j]->line);
			return -1;
		}
		keys[j] = k;
		vals[j] = m->u.c.items[i + 1];
		order[n_order++] = (enum cfg_pkey)j;
	}
	static const enum cfg_pkey required[] = {PK_NAME, PK_SIGNER, PK_TYPE};
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		if (vals[required[i]] == NULL) {
			cfg_error(c, m, base, "missing required key \"%s\"",
			          cfg_pkeys[required[i]].name);
			return -1;
		}
	}
	snprintf(path, sizeof(path), "%s.type", base);
	if (cfg_string(c, vals[PK_TYPE], path, &s) != 0)
		return -1;
	size_t t;
	for (t = 0; t < sizeof(cfg_type_names) / sizeof(cfg_type_names[0]); t++)
		if (strcmp(s, cfg_type_names[t]) == 0)
			break;
	if (t == sizeof(cfg_type_names) / sizeof(cfg_type_names[0])) {
		char d[128];
		ydescribe(vals[PK_TYPE], d, sizeof(d));
		cfg_error(c, vals[PK_TYPE], path,
		          "expected workload, kubelet-serving or kubelet-client, got %s", d);
		return -1;
	}
	type = (enum policy_type)t;

	struct policy_rule *r = &c->set->rules[c->set->n_rules++];
	memset(r, 0, sizeof(*r));
	r->type = type;
	policy_rule_init(r, c->set->cluster_domain);
	r->type = type;

	/* In file order, so that the first error reported is the first in the file. */
	for (size_t i = 0; i < n_order; i++) {
		enum cfg_pkey k = order[i];
		snprintf(path, sizeof(path), "%s.%s", base, cfg_pkeys[k].name);
		if (!(cfg_pkeys[k].types & (1u << type))) {
			cfg_error(c, keys[k], path, "key is not valid for type %s",
			          cfg_type_names[type]);
			return -1;
		}
		if (cfg_policy_value(c, r, k, vals[k], path) != 0)
			return -1;
	}

	if (r->min_expiration_seconds > r->max_expiration_seconds) {
		const struct ynode *at = keys[PK_MIN_EXP] ? keys[PK_MIN_EXP]
		    : keys[PK_MAX_EXP]                    ? keys[PK_MAX_EXP]
		                                          : m;
		cfg_error(c, at, base,
		          "minExpirationSeconds (%lld) is greater than maxExpirationSeconds (%lld)",
		          (long long)r->min_expiration_seconds,
		          (long long)r->max_expiration_seconds);
		return -1;
	}
	for (size_t i = 0; i + 1 < c->set->n_rules; i++) {
		const struct policy_rule *o = &c->set->rules[i];
		if (strcmp(o->name, r->name) == 0) {
			snprintf(path, sizeof(path), "%s.name", base);
			cfg_error(c, vals[PK_NAME], path,
			          "duplicate name \"%s\" (also policies[%zu])", r->name, i);
			return -1;
		}
		if (strcmp(o->signer_name, r->signer_name) == 0) {
			snprintf(path, sizeof(path), "%s.signerName", base);
			cfg_error(
			    c, vals[PK_SIGNER], path,
			    "duplicate signerName \"%s\" (also policies[%zu]): one policy per signer",
			    r->signer_name, i);
			return -1;
		}
	}
	return 0;
}

static int cfg_top(struct cfg *c, const struct ynode *root)
{
	const struct ynode *cd = NULL, *pol = NULL, *cd_key = NULL, *pol_key = NULL;
	const char *s;

	if (root->kind != YNODE_MAP)
		return cfg_expect(c, root, "", "a mapping at the top level");
	for (size_t i = 0; i + 1 < root->u.c.n; i += 2) {
		const struct ynode *k = root->u.c.items[i];
		const struct ynode **slot, **kslot;
		const char *name;
		if (ykey_is(k, "clusterDomain")) {
			slot = &cd;
			kslot = &cd_key;
			name = "clusterDomain";
		} else if (ykey_is(k, "policies")) {
			slot = &pol;
			kslot = &pol_key;
			name = "policies";
		} else {
			return cfg_unknown_key(c, k, "");
		}
		if (*slot != NULL) {
			cfg_error(c, k, name, "duplicate key (first at line %u)", (*kslot)->line);
			return -1;
		}
		*slot = root->u.c.items[i + 1];
		*kslot = k;
	}
	/* clusterDomain first: it is the default trustDomain of every policy,
	 * wherever it stands in the file. */
	if (cd != NULL) {
		if (cfg_string(c, cd, "clusterDomain", &s) != 0)
			return -1;
		if (!cfg_is_dns_name(s)) {
			char d[128];
			ydescribe(cd, d, sizeof(d));
			cfg_error(c, cd, "clusterDomain",
			          "invalid DNS name %s: use lowercase labels separated by dots", d);
			return -1;
		}
		free(c->set->cluster_domain);
		c->set->cluster_domain = util_xstrdup(s);
	}
	if (pol == NULL)
		return 0;
	if (cfg_seq(c, pol, "policies", false) != 0)
		return -1;
	if (pol->u.c.n > 0)
		c->set->rules = util_xcalloc(pol->u.c.n, sizeof(*c->set->rules));
	for (size_t i = 0; i < pol->u.c.n; i++)
		if (cfg_policy(c, i, pol->u.c.items[i]) != 0)
			return -1;
	return 0;
}

struct policy_set *config_parse(const char *buf, size_t len, const char *filename, char *err,
                                size_t errlen)
{
	struct yreader r;
	struct ynode *root = NULL, *extra = NULL;
	struct cfg c = {filename, err, errlen, NULL};
	struct policy_set *set = NULL;
	int n;

	if (len > CONFIG_MAX_FILE) {
		snprintf(err, errlen, "%s: larger than %d bytes", filename, CONFIG_MAX_FILE);
		return NULL;
	}
	yreader_open(&r, buf, len, filename, err, errlen);
	c.set = util_xcalloc(1, sizeof(*c.set));
	c.set->cluster_domain = util_xstrdup("cluster.local");
	n = yreader_next(&r, &root);
	if (n < 0)
		goto out;
	if (n == 1) {
		n = yreader_next(&r, &extra);
		if (n < 0)
			goto out;
		if (n == 1) {
			yreader_error(&r, extra->line, "expected a single YAML document");
			goto out;
		}
		if (!ynode_is_null(root) && cfg_top(&c, root) != 0)
			goto out;
	}
	set = c.set;
	c.set = NULL;
out:
	policy_set_free(c.set);
	ynode_free(root);
	ynode_free(extra);
	yreader_close(&r);
	return set;
}

struct policy_set *config_load_file(const char *path, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0;
	struct policy_set *set;

	if (util_read_file(path, CONFIG_MAX_FILE, &buf, &len, err, errlen) != 0)
		return NULL;
	set = config_parse(buf, len, strcmp(path, "-") == 0 ? "<stdin>" : path, err, errlen);
	free(buf);
	return set;
}

const char *config_library_version(void)
{
	return yaml_get_version_string();
}
