#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../util/util.h"

static enum log_level log_level_cur = LOG_INFO;
static enum log_format log_format_cur = LOG_FORMAT_JSON;
static FILE *log_stream;

static const char *const log_level_names[] = {"error", "warn", "info", "debug", "trace"};

void log_set_level(enum log_level level)
{
	log_level_cur = level;
}

enum log_level log_get_level(void)
{
	return log_level_cur;
}

void log_set_format(enum log_format format)
{
	log_format_cur = format;
}

void log_set_stream(FILE *f)
{
	log_stream = f;
}

int log_parse_level(const char *s, enum log_level *out)
{
	for (size_t i = 0; i < sizeof(log_level_names) / sizeof(log_level_names[0]); i++) {
		if (strcmp(s, log_level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	int64_t v;
	if (util_parse_int64(s, 0, LOG_TRACE, &v) == 0) {
		*out = (enum log_level)v;
		return 0;
	}
	return -1;
}

int log_parse_format(const char *s, enum log_format *out)
{
	if (strcmp(s, "json") == 0)
		*out = LOG_FORMAT_JSON;
	else if (strcmp(s, "text") == 0)
		*out = LOG_FORMAT_TEXT;
	else
		return -1;
	return 0;
}

/* Append a value, escaped, truncated at LOG_MAX_VALUE bytes. */
static void log_put_value(struct util_buf *b, const char *v)
{
	size_t n = strlen(v);
	bool cut = n > LOG_MAX_VALUE;
	if (cut) {
		n = LOG_MAX_VALUE;
		/* Do not split a UTF-8 sequence. */
		while (n > 0 && ((unsigned char)v[n] & 0xc0) == 0x80)
			n--;
	}
	util_buf_putc(b, '"');
	util_buf_json_escape(b, v, n);
	if (cut)
		util_buf_puts(b, "...");
	util_buf_putc(b, '"');
}

/* logfmt values need quotes only when they hold spaces, quotes or '='. */
static bool log_needs_quotes(const char *v)
{
	if (*v == '\0')
		return true;
	for (const unsigned char *p = (const unsigned char *)v; *p; p++)
		if (*p <= ' ' || *p == '"' || *p == '=' || *p == '\\' || *p >= 0x7f)
			return true;
	return strlen(v) > LOG_MAX_VALUE;
}

void log_msg(enum log_level level, const char *msg, ...)
{
	if (level > log_level_cur)
		return;
	struct util_buf b = {0};
	char ts[40];
	struct timespec now;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	size_t tl = strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(ts + tl, sizeof(ts) - tl, ".%06ldZ", now.tv_nsec / 1000);
	bool json = log_format_cur == LOG_FORMAT_JSON;

	/* A decision's line is 300 to 500 bytes: one allocation. Keys and
	 * fixed text are appended, not formatted (a line per decision). */
	util_buf_reserve(&b, 512);
	util_buf_puts(&b, json ? "{\"ts\":\"" : "time=");
	util_buf_puts(&b, ts);
	util_buf_puts(&b, json ? "\",\"level\":\"" : " level=");
	util_buf_puts(&b, log_level_names[level]);
	util_buf_puts(&b, json ? "\",\"msg\":" : " msg=");
	log_put_value(&b, msg);
	va_list ap;
	va_start(ap, msg);
	for (;;) {
		const char *k = va_arg(ap, const char *);
		if (k == NULL)
			break;
		const char *v = va_arg(ap, const char *);
		util_buf_puts(&b, json ? ",\"" : " ");
		util_buf_puts(&b, k);
		util_buf_puts(&b, json ? "\":" : "=");
		if (json) {
			if (v == NULL)
				util_buf_puts(&b, "null");
			else
				log_put_value(&b, v);
		} else {
			if (v == NULL)
				util_buf_puts(&b, "null");
			else if (log_needs_quotes(v))
				log_put_value(&b, v);
			else
				util_buf_puts(&b, v);
		}
	}
	va_end(ap);
	util_buf_puts(&b, json ? "}\n" : "\n");
	FILE *f = log_stream ? log_stream : stderr;
	fwrite(b.data, 1, b.len, f);
	fflush(f);
	util_buf_reset(&b);
}

int log_level_flag(const char *flag, const char *arg, enum log_level *out, char *err, size_t errlen)
{
	if (strcmp(flag, "-v") == 0 && arg[0] == '=')
		arg++;
	if (log_parse_level(arg, out) == 0)
		return 0;
	snprintf(err, errlen, "%s takes error, warn, info, debug, trace or 0..4, not \"%.64s\"",
	         flag, arg);
	return -1;
}

int log_format_flag(const char *arg, enum log_format *out, char *err, size_t errlen)
{
	if (log_parse_format(arg, out) == 0)
		return 0;
	snprintf(err, errlen, "--log-format takes json or text, not \"%.64s\"", arg);
	return -1;
}
