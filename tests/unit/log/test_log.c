#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "../../../pkg/log/log.h"

/* Capture one log call's output. */
static char *capture(enum log_format fmt, void (*emit)(void))
{
	static char buf[8192];
	FILE *f = fmemopen(buf, sizeof(buf), "w");
	cr_assert_not_null(f);
	log_set_format(fmt);
	log_set_stream(f);
	emit();
	fclose(f);
	log_set_stream(NULL);
	return buf;
}

static void emit_decision(void)
{
	const char *absent = NULL;
	log_info("decided", "csr", "csr-1", "decision", "deny", "message", "DNS SAN \"a\nb\" \x01",
	         "none", absent);
}

Test(log, json_line_escapes_values)
{
	log_set_level(LOG_INFO);
	char *out = capture(LOG_FORMAT_JSON, emit_decision);
	cr_assert_eq(strchr(out, '\n'), out + strlen(out) - 1, "not one line: %s", out);
	json_t *o = json_loads(out, 0, NULL);
	cr_assert_not_null(o, "not JSON: %s", out);
	cr_assert_str_eq(json_string_value(json_object_get(o, "level")), "info");
	cr_assert_str_eq(json_string_value(json_object_get(o, "msg")), "decided");
	cr_assert_str_eq(json_string_value(json_object_get(o, "csr")), "csr-1");
	cr_assert_str_eq(json_string_value(json_object_get(o, "message")), "DNS SAN \"a\nb\" \x01");
	cr_assert(json_is_null(json_object_get(o, "none")));
	cr_assert_not_null(json_object_get(o, "ts"));
	json_decref(o);
}

Test(log, text_is_logfmt)
{
	log_set_level(LOG_INFO);
	char *out = capture(LOG_FORMAT_TEXT, emit_decision);
	cr_assert(strstr(out, " level=info msg=\"decided\" csr=csr-1 decision=deny ") != NULL, "%s",
	          out);
	cr_assert(strstr(out, "message=\"DNS SAN \\\"a\\nb\\\" \\u0001\"") != NULL, "%s", out);
	cr_assert(strstr(out, "none=null") != NULL, "%s", out);
}

static void emit_debug(void)
{
	log_debug("hidden", "k", "v");
}

Test(log, level_filters)
{
	log_set_level(LOG_INFO);
	char *out = capture(LOG_FORMAT_JSON, emit_debug);
	cr_assert_str_empty(out);
	log_set_level(LOG_DEBUG);
	out = capture(LOG_FORMAT_JSON, emit_debug);
	cr_assert(strstr(out, "\"msg\":\"hidden\"") != NULL, "%s", out);
	log_set_level(LOG_INFO);
}

static void emit_long(void)
{
	char v[LOG_MAX_VALUE * 2];
	memset(v, 'x', sizeof(v) - 1);
	v[sizeof(v) - 1] = '\0';
	log_info("long", "v", v);
}

Test(log, long_values_truncated)
{
	log_set_level(LOG_INFO);
	char *out = capture(LOG_FORMAT_JSON, emit_long);
	json_t *o = json_loads(out, 0, NULL);
	cr_assert_not_null(o, "%s", out);
	const char *v = json_string_value(json_object_get(o, "v"));
	cr_assert_eq(strlen(v), LOG_MAX_VALUE + 3);
	cr_assert_str_eq(v + LOG_MAX_VALUE, "...");
	json_decref(o);
}

Test(log, parse_level_and_format)
{
	enum log_level l;
	enum log_format f;
	cr_assert_eq(log_parse_level("debug", &l), 0);
	cr_assert_eq(l, LOG_DEBUG);
	cr_assert_eq(log_parse_level("4", &l), 0);
	cr_assert_eq(l, LOG_TRACE);
	cr_assert_eq(log_parse_level("5", &l), -1);
	cr_assert_eq(log_parse_level("loud", &l), -1);
	cr_assert_eq(log_parse_format("text", &f), 0);
	cr_assert_eq(f, LOG_FORMAT_TEXT);
	cr_assert_eq(log_parse_format("xml", &f), -1);
}

/* The flags every command shares. */
Test(log, flags)
{
	enum log_level l = LOG_INFO;
	enum log_format f = LOG_FORMAT_JSON;
	char err[256] = "";
	cr_assert_eq(log_level_flag("-v", "=3", &l, err, sizeof(err)), 0);
	cr_assert_eq(l, LOG_DEBUG);
	cr_assert_eq(log_level_flag("--log-level", "trace", &l, err, sizeof(err)), 0);
	cr_assert_eq(l, LOG_TRACE);
	cr_assert_eq(log_level_flag("--log-level", "loud", &l, err, sizeof(err)), -1);
	cr_assert_str_eq(err,
	                 "--log-level takes error, warn, info, debug, trace or 0..4, not "
	                 "\"loud\"");
	cr_assert_eq(log_level_flag("--log-level", "=3", &l, err, sizeof(err)), -1,
	             "only -v reads -v=3");
	cr_assert_eq(log_format_flag("text", &f, err, sizeof(err)), 0);
	cr_assert_eq(f, LOG_FORMAT_TEXT);
	cr_assert_eq(log_format_flag("xml", &f, err, sizeof(err)), -1);
	cr_assert_str_eq(err, "--log-format takes json or text, not \"xml\"");
}
