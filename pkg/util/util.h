/*
 * util: memory helpers that abort on exhaustion, a growable string buffer,
 * and small string routines shared by every module.
 *
 * Internal allocations never fail from a caller's point of view: on
 * out-of-memory the process logs one line to stderr and aborts. Sizes that
 * come from outside (a CSR, a watch line, a file) must be checked against a
 * cap by the caller before they reach these functions.
 *
 * All functions are safe to call from any thread; a struct util_buf is not
 * shared between threads.
 */
#ifndef CSR_APPROVER_UTIL_H
#define CSR_APPROVER_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Block SIGTERM and SIGINT (and SIGHUP with hup) in this thread and the
 * threads it starts, ignore SIGPIPE, and return a non-blocking signalfd
 * that reads them, or -1 with errno. Call before any thread starts: a
 * thread that does not block SIGTERM would take it and die of it. */
int util_signalfd(bool hup);

/* The monotonic clock in milliseconds: every timer, backoff and lease of
 * csr-approver is judged on it. Any thread. */
int64_t util_now_ms(void);

/* Allocate n bytes; never returns NULL. Caller frees with free(). */
void *util_xmalloc(size_t n);
/* Allocate n zeroed elements of size sz; never returns NULL (overflow aborts). */
void *util_xcalloc(size_t n, size_t sz);
/* Resize p to n elements of size sz; never returns NULL (overflow aborts). */
void *util_xreallocarray(void *p, size_t n, size_t sz);
/* Copy s (may be NULL, giving NULL). Caller frees with free(). */
char *util_xstrdup(const char *s);
/* Copy n bytes of s and terminate. Caller frees with free(). */
char *util_xstrndup(const char *s, size_t n);
/* printf into a new string. Caller frees with free(). */
char *util_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A growable byte buffer, always NUL-terminated after the last byte. */
struct util_buf {
	char *data; /* owned; NULL until the first append */
	size_t len;
	size_t cap;
};

/* Append n bytes. */
void util_buf_append(struct util_buf *b, const void *p, size_t n);
/* Append a C string. */
void util_buf_puts(struct util_buf *b, const char *s);
/* Append one byte. */
void util_buf_putc(struct util_buf *b, char c);
/* Make room for extra more bytes at once (a text of known size). */
void util_buf_reserve(struct util_buf *b, size_t extra);
/* Append formatted text. */
void util_buf_printf(struct util_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void util_buf_vprintf(struct util_buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* Append s as the body of a JSON string (without quotes), escaping control
 * characters, quotes, backslashes and invalid UTF-8 (as U+FFFD). */
void util_buf_json_escape(struct util_buf *b, const char *s, size_t n);
/* The contents as a C string ("" when empty); borrowed from b. */
const char *util_buf_str(const struct util_buf *b);
/* Hand the contents to the caller (who frees with free()) and reset b. */
char *util_buf_take(struct util_buf *b);
/* Drop the contents, keeping nothing. */
void util_buf_reset(struct util_buf *b);

/* Read a whole file (or stdin for "-") of at most max bytes. Returns 0 and a
 * NUL-terminated buffer the caller frees with free(); -1 with errno-style
 * text in err (errlen bytes) when unreadable or larger than max. */
int util_read_file(const char *path, size_t max, char **out, size_t *outlen, char *err,
                   size_t errlen);

/* Base64 decoding flags. */
#define UTIL_B64_SKIP_NEWLINES 1u /* '\r' and '\n' are skipped, as Go's StdEncoding does */
#define UTIL_B64_SKIP_SPACE 2u /* ' ' and '\t' are skipped too */
#define UTIL_B64_CANONICAL 4u /* the bits under the padding must be zero */

/*
 * Decode standard base64 (RFC 4648 alphabet, padding required) of len bytes
 * at s. Nothing may follow a padded quantum. Returns 0 with *out (a new
 * NUL-terminated buffer of *outlen bytes, caller frees with free()); -1 when
 * s is not base64 of that form; -2 when the result would exceed max bytes.
 * On failure nothing is allocated, and any partly decoded bytes are wiped
 * (the input may be key material).
 */
int util_base64_decode(const char *s, size_t len, unsigned flags, size_t max, char **out,
                       size_t *outlen);
/* The value of one base64 character, or -1. */
int util_base64_value(unsigned char c);
/* Standard base64 with padding of len bytes at data: a new NUL-terminated
 * string (caller frees with free()). */
char *util_base64_encode(const void *data, size_t len);

/* Decode the UTF-8 sequence at s (n > 0 bytes available): returns its
 * length, 1 to 4, and the code point in *cp (when cp is not NULL); 0 when
 * the bytes there are not valid UTF-8 (truncated, overlong forms,
 * surrogates and code points past U+10FFFF included). */
size_t util_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);
/* Append code point cp (at most U+10FFFF, no surrogate) as UTF-8. */
void util_buf_put_utf8(struct util_buf *b, uint32_t cp);

/* The Protocol Buffers wire format, writing (pb.c): a varint; a varint
 * field; a length-delimited field (bytes, or a nested message written to a
 * buffer of its own first); a string field, its invalid UTF-8 replaced by
 * U+FFFD as util_buf_json_escape() does, and nothing at all when n is 0
 * (what a decoder reads for an absent field). */
void util_pb_varint(struct util_buf *b, uint64_t v);
void util_pb_uint(struct util_buf *b, unsigned field, uint64_t v);
void util_pb_bytes(struct util_buf *b, unsigned field, const void *p, size_t n);
void util_pb_text(struct util_buf *b, unsigned field, const char *s, size_t n);

/* ASCII case-insensitive equality of two NUL-terminated strings. */
bool util_strcaseeq(const char *a, const char *b);
/* Does s start with prefix? */
bool util_has_prefix(const char *s, const char *prefix);
/* Shell-style glob match (*, ? and [...] as fnmatch without flags). */
bool util_glob_match(const char *pattern, const char *s);
/* Parse a decimal integer in [min, max]; the whole string must be used.
 * Returns 0 or -1. */
int util_parse_int64(const char *s, int64_t min, int64_t max, int64_t *out);

/*
 * Parse a Go duration ("15s", "500ms", "1m30s", "1.5h", "0"): a sequence of
 * decimal numbers, each with an optional fraction and a unit of ns, us (or
 * µs), ms, s, m, h. Negative values are refused. Sub-millisecond remainders
 * round down. Returns 0 with *ms, or -1.
 */
int util_parse_duration(const char *s, int64_t *ms);

/* A list of owned strings. */
struct util_strv {
	char **v; /* owned, each owned */
	size_t n;
};
void util_strv_push(struct util_strv *sv, const char *s); /* copies s */
bool util_strv_contains(const struct util_strv *sv, const char *s);
void util_strv_free(struct util_strv *sv); /* frees contents; sv itself is not freed */

#endif
