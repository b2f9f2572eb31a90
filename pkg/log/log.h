/*
 * log: one line per event, JSON or logfmt, to stderr (or a chosen stream).
 *
 * The level and the sink are the process's only mutable globals besides
 * one-time library initialisation. Values are escaped, and values marked
 * untrusted (taken from a CSR or an API object) are truncated to
 * LOG_MAX_VALUE bytes. Never pass a token, a key or a whole CSR.
 *
 * Set the level, format and stream before starting other threads; after
 * that log_msg() may be called from any thread (each line is built in
 * memory and written with one stdio call, which stdio locks).
 */
#ifndef CSR_APPROVER_LOG_H
#define CSR_APPROVER_LOG_H

#include <stdio.h>

enum log_level {
	LOG_ERROR = 0,
	LOG_WARN = 1,
	LOG_INFO = 2,
	LOG_DEBUG = 3,
	LOG_TRACE = 4,
};

enum log_format {
	LOG_FORMAT_JSON,
	LOG_FORMAT_TEXT, /* logfmt: time=... level=... msg="..." key=value */
};

/* Longest value written, in bytes, before "..." is appended. */
#define LOG_MAX_VALUE 512

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
void log_set_format(enum log_format format);
/* Where lines go (borrowed; default stderr). */
void log_set_stream(FILE *f);
/* Parse "error|warn|info|debug|trace" or a number 0..4; returns 0 or -1. */
int log_parse_level(const char *s, enum log_level *out);
/* Parse "json|text"; returns 0 or -1. */
int log_parse_format(const char *s, enum log_format *out);
/* The flags every command shares: the value arg of -v or --log-level (flag
 * says which was given) and of --log-format. Return 0 with *out, or -1 with
 * "FLAG takes ..., not \"ARG\"" in err (arg cut at 64 bytes). -v=3 is
 * read as -v 3. */
int log_level_flag(const char *flag, const char *arg, enum log_level *out, char *err,
                   size_t errlen);
int log_format_flag(const char *arg, enum log_format *out, char *err, size_t errlen);

/*
 * Write one line at level if enabled. After msg come key/value string
 * pairs, ended by a NULL key. Use the macros below, which add the ending
 * themselves: log_info("decided", "csr", name, "decision", "approve").
 * A NULL value is written as null. Keys are trusted literals; values are
 * escaped and truncated.
 */
void log_msg(enum log_level level, const char *msg, ...);

#define LOG_END ((const char *)0)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__, LOG_END)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__, LOG_END)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__, LOG_END)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__, LOG_END)
#define log_trace(...) log_msg(LOG_TRACE, __VA_ARGS__, LOG_END)

#endif
