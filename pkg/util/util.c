#include "util.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>

static void util_oom(size_t n)
{
	/* One line, then abort: a controller short of memory must not limp on. */
	fprintf(stderr, "csr-approver: out of memory allocating %zu bytes\n", n);
	abort();
}

void *util_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (p == NULL)
		util_oom(n);
	return p;
}

void *util_xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz ? sz : 1);
	if (p == NULL)
		util_oom(n * sz);
	return p;
}

void *util_xreallocarray(void *p, size_t n, size_t sz)
{
	if (sz != 0 && n > SIZE_MAX / sz)
		util_oom(SIZE_MAX);
	void *q = realloc(p, n * sz != 0 ? n * sz : 1);
	if (q == NULL)
		util_oom(n * sz);
	return q;
}

char *util_xstrdup(const char *s)
{
	if (s == NULL)
		return NULL;
	return util_xstrndup(s, strlen(s));
}

char *util_xstrndup(const char *s, size_t n)
{
	char *p = util_xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *util_xasprintf(const char *fmt, ...)
{
	struct util_buf b = {0};
	va_list ap;
	va_start(ap, fmt);
	util_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	return util_buf_take(&b);
}

void util_buf_reserve(struct util_buf *b, size_t extra)
{
	if (extra > SIZE_MAX - b->len - 1)
		util_oom(SIZE_MAX);
	size_t need = b->len + extra + 1;
	if (need <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	b->data = util_xreallocarray(b->data, cap, 1);
	b->cap = cap;
}

void util_buf_append(struct util_buf *b, const void *p, size_t n)
{
	util_buf_reserve(b, n);
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void util_buf_puts(struct util_buf *b, const char *s)
{
	util_buf_append(b, s, strlen(s));
}

void util_buf_putc(struct util_buf *b, char c)
{
	util_buf_append(b, &c, 1);
}

void util_buf_vprintf(struct util_buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	va_copy(cp, ap);
	int n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return;
	util_buf_reserve(b, (size_t)n);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

void util_buf_printf(struct util_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	util_buf_vprintf(b, fmt, ap);
	va_end(ap);
}

size_t util_utf8_decode(const unsigned char *s, size_t n, uint32_t *cpout)
{
	unsigned char c = s[0];
	size_t len;
	uint32_t cp;
	if (c < 0x80) {
		if (cpout)
			*cpout = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	if (cpout)
		*cpout = cp;
	return len;
}

void util_buf_put_utf8(struct util_buf *b, uint32_t cp)
{
	unsigned char s[4];
	size_t n;
	if (cp < 0x80) {
		s[0] = (unsigned char)cp;
		n = 1;
	} else if (cp < 0x800) {
		s[0] = (unsigned char)(0xc0 | (cp >> 6));
		s[1] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		s[0] = (unsigned char)(0xe0 | (cp >> 12));
		s[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		s[2] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		s[0] = (unsigned char)(0xf0 | (cp >> 18));
		s[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
		s[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		s[3] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	util_buf_append(b, s, n);
}

void util_buf_json_escape(struct util_buf *b, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	while (i < n) {
		/* A run of printable ASCII that needs no escape goes in at once. */
		size_t j = i;
		while (j < n && p[j] >= 0x20 && p[j] < 0x7f && p[j] != '"' && p[j] != '\\')
			j++;
		if (j > i) {
			util_buf_append(b, p + i, j - i);
			i = j;
			continue;
		}
		unsigned char c = p[i];
		if (c == '"' || c == '\\') {
			util_buf_putc(b, '\\');
			util_buf_putc(b, (char)c);
			i++;
		} else if (c == '\n') {
			util_buf_puts(b, "\\n");
			i++;
		} else if (c == '\t') {
			util_buf_puts(b, "\\t");
			i++;
		} else if (c == '\r') {
			util_buf_puts(b, "\\r");
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			util_buf_printf(b, "\\u%04x", c);
			i++;
		} else {
			size_t l = util_utf8_decode(p + i, n - i, NULL);
			if (l == 0) {
				util_buf_puts(b, "\\ufffd");
				i++;
			} else {
				util_buf_append(b, p + i, l);
				i += l;
			}
		}
	}
}

const char *util_buf_str(const struct util_buf *b)
{
	return b->data ? b->data : "";
}

char *util_buf_take(struct util_buf *b)
{
	char *p = b->data ? b->data : util_xstrdup("");
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

void util_buf_reset(struct util_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

int util_read_file(const char *path, size_t max, char **out, size_t *outlen, char *err,
                   size_t errlen)
{
	int rc = -1;
	FILE *f = NULL;
	struct util_buf b = {0};
	bool is_stdin = strcmp(path, "-") == 0;

	*out = NULL;
	if (outlen)
		*outlen = 0;
	f = is_stdin ? stdin : fopen(path, "rb");
	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	for (;;) {
		char chunk[16384];
		size_t n = fread(chunk, 1, sizeof(chunk), f);
		if (n > 0) {
			if (b.len + n > max) {
				snprintf(err, errlen, "%s: larger than %zu bytes",
				         is_stdin ? "<stdin>" : path, max);
				goto out;
			}
			util_buf_append(&b, chunk, n);
		}
		if (n < sizeof(chunk)) {
			if (ferror(f)) {
				snprintf(err, errlen, "%s: read error: %s",
				         is_stdin ? "<stdin>" : path, strerror(errno));
				goto out;
			}
			break;
		}
	}
	if (outlen)
		*outlen = b.len;
	*out = util_buf_take(&b);
	rc = 0;
out:
	if (f != NULL && !is_stdin)
		fclose(f);
	util_buf_reset(&b);
	return rc;
}

bool util_strcaseeq(const char *a, const char *b)
{
	for (;; a++, b++) {
		unsigned char x = (unsigned char)*a, y = (unsigned char)*b;
		if (x >= 'A' && x <= 'Z')
			x = (unsigned char)(x - 'A' + 'a');
		if (y >= 'A' && y <= 'Z')
			y = (unsigned char)(y - 'A' + 'a');
		if (x != y)
			return false;
		if (x == '\0')
			return true;
	}
}

bool util_has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool util_glob_match(const char *pattern, const char *s)
{
	return fnmatch(pattern, s, 0) == 0;
}

int util_parse_int64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	char *end = NULL;
	long long v;
	if (s == NULL || *s == '\0')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return -1;
	*out = (int64_t)v;
	return 0;
}

int util_parse_duration(const char *s, int64_t *ms)
{
	static const struct {
		const char *name;
		int64_t ns;
	} units[] = {
	    {"ns", 1LL},
	    {"us", 1000LL},
	    {"\xc2\xb5s", 1000LL}, /* U+00B5 micro sign */
	    {"\xce\xbcs", 1000LL}, /* U+03BC Greek mu */
	    {"ms", 1000000LL},
	    {"s", 1000000000LL},
	    {"m", 60LL * 1000000000LL},
	    {"h", 3600LL * 1000000000LL},
	};
	/* Go's limit: about 290 years in nanoseconds. */
	const long double max_ns = 9.2e18L;
	long double total = 0;
	const char *p = s;

	if (s == NULL || *s == '\0')
		return -1;
	if (*p == '+')
		p++;
	if (strcmp(p, "0") == 0) {
		*ms = 0;
		return 0;
	}
	if (*p == '\0')
		return -1;
	while (*p != '\0') {
		long double v = 0, scale = 1;
		bool digits = false;
		while (*p >= '0' && *p <= '9') {
			v = v * 10 + (*p - '0');
			p++;
			digits = true;
			if (v > max_ns)
				return -1;
		}
		if (*p == '.') {
			p++;
			while (*p >= '0' && *p <= '9') {
				scale /= 10;
				v += (*p - '0') * scale;
				p++;
				digits = true;
			}
		}
		if (!digits)
			return -1;
		size_t best = 0;
		int64_t unit = 0;
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			size_t n = strlen(units[i].name);
			if (n > best && strncmp(p, units[i].name, n) == 0) {
				best = n;
				unit = units[i].ns;
			}
		}
		if (best == 0)
			return -1;
		p += best;
		total += v * unit;
		if (total > max_ns)
			return -1;
	}
	*ms = (int64_t)(total / 1000000.0L);
	return 0;
}

void util_strv_push(struct util_strv *sv, const char *s)
{
	sv->v = util_xreallocarray(sv->v, sv->n + 1, sizeof(*sv->v));
	sv->v[sv->n++] = util_xstrdup(s);
}

bool util_strv_contains(const struct util_strv *sv, const char *s)
{
	for (size_t i = 0; i < sv->n; i++)
		if (strcmp(sv->v[i], s) == 0)
			return true;
	return false;
}

void util_strv_free(struct util_strv *sv)
{
	if (sv == NULL)
		return;
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = 0;
}

/* The value of each byte as a base64 digit, -1 when it is not one. */
static const signed char util_b64_tab[256] = {
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 62, -1, -1, -1, 63,
    52, 53, 54, 55, 56, 57, 58, 59, 60, 61, -1, -1, -1, -1, -1, -1, -1, 0,  1,  2,  3,  4,  5,  6,
    7,  8,  9,  10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, -1, -1, -1, -1, -1,
    -1, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48,
    49, 50, 51, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
};

int util_base64_value(unsigned char c)
{
	return util_b64_tab[c];
}

static bool util_base64_skip(unsigned char c, unsigned flags)
{
	if ((flags & (UTIL_B64_SKIP_NEWLINES | UTIL_B64_SKIP_SPACE)) && (c == '\r' || c == '\n'))
		return true;
	return (flags & UTIL_B64_SKIP_SPACE) && (c == ' ' || c == '\t');
}

int util_base64_decode(const char *s, size_t len, unsigned flags, size_t max, char **out,
                       size_t *outlen)
{
	size_t chars = 0;
	for (size_t i = 0; i < len; i++)
		if (!util_base64_skip((unsigned char)s[i], flags))
			chars++;
	if (chars % 4 != 0)
		return -1;
	if (chars / 4 * 3 > max + 2)
		return -2;

	size_t cap = chars / 4 * 3 + 1;
	unsigned char *buf = util_xmalloc(cap);
	size_t n = 0, q = 0, pad = 0;
	bool done = false; /* a padded quantum ended the data */
	uint32_t acc = 0;
	int rc = -1;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		int v = 0;
		/* Four digits in a row, the bulk of any input: at once. */
		if (q == 0 && !done && len - i >= 4) {
			const unsigned char *u = (const unsigned char *)s + i;
			int a = util_b64_tab[u[0]], b = util_b64_tab[u[1]], d = util_b64_tab[u[2]],
			    e = util_b64_tab[u[3]];
			if ((a | b | d | e) >= 0) {
				acc = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)d << 6 |
				    (uint32_t)e;
				buf[n++] = (unsigned char)(acc >> 16);
				buf[n++] = (unsigned char)(acc >> 8);
				buf[n++] = (unsigned char)acc;
				acc = 0;
				i += 3;
				continue;
			}
		}
		if (util_base64_skip(c, flags))
			continue;
		if (done)
			goto out;
		if (c == '=') {
			/* Padding only in the last one or two places of a quantum. */
			if (q < 2)
				goto out;
			pad++;
		} else if (pad > 0 || (v = util_base64_value(c)) < 0) {
			goto out;
		}
		acc = (acc << 6) | (uint32_t)v;
		if (++q == 4) {
			if ((flags & UTIL_B64_CANONICAL) &&
			    ((pad == 1 && (acc & 0xff)) || (pad == 2 && (acc & 0xffff))))
				goto out;
			buf[n++] = (unsigned char)(acc >> 16);
			buf[n++] = (unsigned char)(acc >> 8);
			buf[n++] = (unsigned char)acc;
			n -= pad;
			done = pad > 0;
			acc = 0;
			q = 0;
		}
	}
	if (n > max) {
		rc = -2;
		goto out;
	}
	buf[n] = '\0';
	*out = (char *)buf;
	*outlen = n;
	buf = NULL;
	rc = 0;
out:
	if (buf != NULL) {
		explicit_bzero(buf, cap);
		free(buf);
	}
	return rc;
}

int64_t util_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

char *util_base64_encode(const void *data, size_t len)
{
	static const char tbl[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *p = data;
	char *out = util_xmalloc(((len + 2) / 3) * 4 + 1);
	size_t o = 0;
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < len)
			v |= p[i + 2];
		out[o++] = tbl[(v >> 18) & 63];
		out[o++] = tbl[(v >> 12) & 63];
		out[o++] = i + 1 < len ? tbl[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < len ? tbl[v & 63] : '=';
	}
	out[o] = '\0';
	return out;
}

int util_signalfd(bool hup)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (hup)
		sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) != 0)
		return -1;
	signal(SIGPIPE, SIG_IGN);
	return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}
