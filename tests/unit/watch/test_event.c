/*
 * One watch line: the five event types, and every way a line can be wrong.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "../../../pkg/util/util.h"
#include "../../../pkg/watch/watch.h"

static const struct {
	const char *line;
	enum watch_event_type type;
} good[] = {
    {"{\"type\":\"ADDED\",\"object\":{\"kind\":\"Pod\",\"metadata\":{\"name\":\"a\"}}}",
     WATCH_ADDED},
    {"{\"type\":\"MODIFIED\",\"object\":{}}", WATCH_MODIFIED},
    {"{\"object\":{\"metadata\":{}},\"type\":\"DELETED\"}", WATCH_DELETED},
    {"{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{\"resourceVersion\":\"5\"}}}",
     WATCH_BOOKMARK},
    {"{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"code\":410,\"reason\":\"Expired\"}}",
     WATCH_ERROR},
    {"  {\"type\":\"ADDED\",\"object\":{}}  ", WATCH_ADDED},
};

Test(watch_event, types)
{
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		enum watch_event_type t = (enum watch_event_type) - 1;
		json_t *obj = NULL;
		char err[256] = "";
		int rc = watch_event_parse(good[i].line, strlen(good[i].line), &t, &obj, err,
		                           sizeof(err));
		cr_assert_eq(rc, 0, "%s: %s", good[i].line, err);
		cr_assert_eq(t, good[i].type, "%s", good[i].line);
		cr_assert(json_is_object(obj));
		json_decref(obj);
	}
}

Test(watch_event, object_outlives_line)
{
	char line[] = "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"keep\"}}}";
	enum watch_event_type t;
	json_t *obj = NULL;
	char err[64];
	cr_assert_eq(watch_event_parse(line, strlen(line), &t, &obj, err, sizeof(err)), 0);
	memset(line, 'x', sizeof(line) - 1);
	cr_assert_str_eq(
	    json_string_value(json_object_get(json_object_get(obj, "metadata"), "name")), "keep");
	cr_assert_eq(obj->refcount, 1, "the caller holds the only reference");
	json_decref(obj);
}

Test(watch_event, length_not_nul)
{
	/* The line is given by length; what follows is not part of it. */
	const char *buf = "{\"type\":\"ADDED\",\"object\":{}}\n{\"type\":";
	enum watch_event_type t;
	json_t *obj = NULL;
	char err[64];
	cr_assert_eq(watch_event_parse(buf, 28, &t, &obj, err, sizeof(err)), 0, "%s", err);
	json_decref(obj);
}

static const struct {
	const char *line;
	const char *err;
} bad[] = {
    {"", "not JSON"},
    {"{", "not JSON"},
    {"{\"type\":\"ADDED\",\"object\":{}} trailing", "not JSON"},
    {"{\"type\":\"ADDED\",\"object\":{}}{}", "not JSON"},
    {"[{\"type\":\"ADDED\"}]", "not a JSON object"},
    {"\"ADDED\"", "not JSON"},
    {"{\"object\":{}}", "no type"},
    {"{\"type\":7,\"object\":{}}", "no type"},
    {"{\"type\":\"added\",\"object\":{}}", "unknown type \"added\""},
    {"{\"type\":\"REPLACED\",\"object\":{}}", "unknown type \"REPLACED\""},
    {"{\"type\":\"ADDED\"}", "watch event ADDED has no object"},
    {"{\"type\":\"ADDED\",\"object\":null}", "has no object"},
    {"{\"type\":\"ADDED\",\"object\":[1]}", "has no object"},
    {"{\"type\":\"ADDED\",\"object\":\"x\"}", "has no object"},
    {"{\"type\":\"ADDED\",\"object\":{\"a\":\"\xff\"}}", "not JSON"},
};

Test(watch_event, errors)
{
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		enum watch_event_type t = WATCH_ADDED;
		json_t *obj = (json_t *)1;
		char err[256] = "";
		int rc =
		    watch_event_parse(bad[i].line, strlen(bad[i].line), &t, &obj, err, sizeof(err));
		cr_assert_eq(rc, -1, "%s", bad[i].line);
		cr_assert_null(obj, "%s", bad[i].line);
		cr_assert_not_null(strstr(err, bad[i].err), "%s: got \"%s\", want \"%s\"",
		                   bad[i].line, err, bad[i].err);
	}
}

Test(watch_event, embedded_nul_refused)
{
	static const char line[] = "{\"type\":\"ADDED\",\"object\":{\"a\":\"x\0y\"}}";
	enum watch_event_type t;
	json_t *obj = NULL;
	char err[256];
	cr_assert_eq(watch_event_parse(line, sizeof(line) - 1, &t, &obj, err, sizeof(err)), -1);
	cr_assert_null(obj);
}

Test(watch_event, now_is_monotonic)
{
	int64_t a = util_now_ms();
	int64_t b = util_now_ms();
	cr_assert_geq(b, a);
	cr_assert_gt(a, 0);
}
