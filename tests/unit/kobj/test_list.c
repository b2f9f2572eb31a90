/*
 * kobj_list_each: a LIST answer read item by item, checked against what
 * json_loadb() makes of the whole, and refused where it is not a list.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../../pkg/kobj/kobj.h"

#define ERRLEN 256

struct seen {
	json_t *items; /* copies of the items, in order */
};

static void on_item(void *ctx, const json_t *item)
{
	struct seen *s = ctx;
	cr_assert(json_is_object(item));
	json_array_append_new(s->items, json_deep_copy(item));
}

static int run(const char *text, struct seen *s, json_t **meta, char *err)
{
	s->items = json_array();
	err[0] = '\0';
	return kobj_list_each(text, strlen(text), on_item, s, meta, err, ERRLEN);
}

Test(kobj_list, items_one_by_one_as_a_whole_parse_gives_them)
{
	const char *text =
	    "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"42\","
	    "\"continue\":\"tok\"},\"items\":[{\"metadata\":{\"name\":\"a\",\"labels\":{\"x\":"
	    "\"y\"}},\"spec\":{\"n\":[1,2.5,true,null]}},\n {\"metadata\":{\"name\":\"b\\u00e9\"}}"
	    " ] }\n";
	struct seen s;
	json_t *meta = NULL;
	char err[ERRLEN];
	cr_assert_eq(run(text, &s, &meta, err), 0, "%s", err);
	json_t *whole = json_loads(text, 0, NULL);
	cr_assert_not_null(whole);
	cr_assert(json_equal(s.items, json_object_get(whole, "items")));
	cr_assert(json_equal(meta, json_object_get(whole, "metadata")));
	cr_assert_str_eq(json_string_value(json_object_get(meta, "continue")), "tok");
	json_decref(meta);
	/* the metadata alone, without the items */
	cr_assert_eq(kobj_list_meta(text, strlen(text), &meta, err, ERRLEN), 0, "%s", err);
	cr_assert(json_equal(meta, json_object_get(whole, "metadata")));
	json_decref(whole);
	json_decref(meta);
	json_decref(s.items);
}

Test(kobj_list, metadata_after_the_items)
{
	struct seen s;
	json_t *meta = NULL;
	char err[ERRLEN];
	cr_assert_eq(
	    run("{\"items\":[{\"a\":1},{\"b\":2}],\"metadata\":{\"resourceVersion\":\"7\"}}", &s,
	        &meta, err),
	    0, "%s", err);
	cr_assert_eq(json_array_size(s.items), 2);
	cr_assert_str_eq(json_string_value(json_object_get(meta, "resourceVersion")), "7");
	json_decref(meta);
	json_decref(s.items);
	/* read ahead of the items, it is not there */
	meta = (json_t *)1;
	cr_assert_eq(
	    kobj_list_meta("{\"items\":[{\"a\":1}],\"metadata\":{}}", 30, &meta, err, ERRLEN), 0,
	    "%s", err);
	cr_assert_null(meta);
}

Test(kobj_list, empty_null_absent_and_odd_items)
{
	static const char *const ok[] = {
	    "{}",
	    " { } ",
	    "{\"items\":null}",
	    "{\"items\":[]}",
	    "{\"items\": [ ] ,\"metadata\":null}",
	    "{\"kind\":\"List\",\"items\":[1,\"x\",[],null]}",
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct seen s;
		json_t *meta = (json_t *)1;
		char err[ERRLEN];
		cr_assert_eq(run(ok[i], &s, &meta, err), 0, "%s: %s", ok[i], err);
		cr_assert_eq(json_array_size(s.items), 0, "%s", ok[i]);
		cr_assert_null(meta, "%s", ok[i]);
		json_decref(s.items);
	}
}

Test(kobj_list, refused)
{
	static const struct {
		const char *text, *err;
		size_t items; /* handed over before the error */
	} bad[] = {
	    {"", "at byte 0: expected an object", 0},
	    {"[]", "at byte 0: expected an object", 0},
	    {"{\"items\":{}}", "at byte 9: items: expected an array", 0},
	    {"{\"items\":[{\"a\":1}", "at byte 17: expected ',' or ']' in items", 1},
	    {"{\"items\":[{\"a\":1},{\"b\":", NULL, 1},
	    {"{\"items\":[{\"a\":1} {\"b\":2}]}", "at byte 18: expected ',' or ']' in items", 1},
	    {"{\"items\":[],\"items\":[]}", "at byte 12: items twice", 0},
	    {"{\"metadata\":{},\"metadata\":{}}", "at byte 15: metadata twice", 0},
	    {"{\"metadata\":[]}", "at byte 1: metadata: expected an object", 0},
	    {"{\"items\":[]} x", "at byte 13: data after the end", 0},
	    {"{\"items\":[]}{}", "at byte 12: data after the end", 0},
	    {"{items:[]}", "at byte 1: expected a member name", 0},
	    {"{\"items\"[]}", "at byte 8: expected ':'", 0},
	    {"{\"a\":1 \"b\":2}", "at byte 7: expected ',' or '}'", 0},
	    {"{\"a\":tru}", NULL, 0},
	    {"{\"items\":[{\"a\":\"\\u0000\"}]}", NULL, 0},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct seen s;
		json_t *meta = (json_t *)1;
		char err[ERRLEN];
		cr_assert_eq(run(bad[i].text, &s, &meta, err), -1, "%s", bad[i].text);
		cr_assert_null(meta, "%s", bad[i].text);
		cr_assert_neq(err[0], '\0', "%s", bad[i].text);
		if (bad[i].err != NULL)
			cr_assert_str_eq(err, bad[i].err, "%s", bad[i].text);
		else
			cr_assert(strncmp(err, "at byte ", 8) == 0, "%s: %s", bad[i].text, err);
		cr_assert_eq(json_array_size(s.items), bad[i].items, "%s", bad[i].text);
		json_decref(s.items);
	}
}

Test(kobj_list, metadata_ahead_of_the_items)
{
	static const struct {
		const char *text, *rv; /* rv NULL: no metadata before the items */
		int rc;
	} cases[] = {
	    {"{\"kind\":\"PodList\",\"metadata\":{\"resourceVersion\":\"5\"},\"items\":[", "5", 0},
	    {"{\"metadata\":{\"resourceVersion\":\"6\"}", "6", 0},
	    {"{\"metadata\":null,\"items\":[]}", NULL, 0},
	    {"{\"items\":[],\"metadata\":{\"resourceVersion\":\"7\"}}", NULL, 0},
	    {"{}", NULL, 0},
	    {"{\"kind\":\"PodList\"}", NULL, 0},
	    {"[]", NULL, -1},
	    {"{\"metadata\":[]}", NULL, -1},
	    {"{\"metadata\":{\"resourceVersion\":", NULL, -1},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *meta = (json_t *)1;
		char err[ERRLEN] = "";
		const char *t = cases[i].text;
		cr_assert_eq(kobj_list_meta(t, strlen(t), &meta, err, ERRLEN), cases[i].rc, "%s",
		             t);
		if (cases[i].rc != 0) {
			cr_assert_null(meta, "%s", t);
			cr_assert_neq(err[0], '\0', "%s", t);
			continue;
		}
		if (cases[i].rv == NULL) {
			cr_assert_null(meta, "%s", t);
			continue;
		}
		cr_assert_str_eq(json_string_value(json_object_get(meta, "resourceVersion")),
		                 cases[i].rv, "%s", t);
		json_decref(meta);
	}
}

Test(kobj_list, not_nul_terminated)
{
	/* The answer's bytes end where len says, whatever follows. */
	const char text[] = "{\"items\":[{\"a\":1}]}GARBAGE";
	struct seen s = {json_array()};
	json_t *meta = NULL;
	char err[ERRLEN];
	cr_assert_eq(kobj_list_each(text, strlen(text) - 7, on_item, &s, &meta, err, ERRLEN), 0,
	             "%s", err);
	cr_assert_eq(json_array_size(s.items), 1);
	/* cut inside the item */
	cr_assert_eq(kobj_list_each(text, 14, on_item, &s, &meta, err, ERRLEN), -1);
	cr_assert_eq(json_array_size(s.items), 1);
	json_decref(s.items);
}

/* A NUL byte anywhere is refused, by both readers: no JSON text holds one,
 * and jansson reads one inconsistently (reading one value at a time it took
 * the first of these for a list whose member "e" ended at the NUL, which a
 * whole parse refuses: found by fuzz_list). */
Test(kobj_list, nul_byte)
{
	static const struct {
		const char *text;
		size_t len, at;
	} bad[] = {
	    {"{\"e\": \r{\"metadat}a\":null\0}", 26, 24},
	    {"{\"items\":[{\"a\":1\0}]}", 20, 16},
	    {"{\"metadata\":{}\0,\"items\":[]}", 27, 14},
	    {"{\"items\":[]}\0", 13, 12},
	    {"\0{\"items\":[]}", 13, 0},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct seen s = {json_array()};
		json_t *meta = (json_t *)1, *ahead = (json_t *)1;
		char err[ERRLEN], want[64];
		snprintf(want, sizeof(want), "at byte %zu: a NUL byte", bad[i].at);
		cr_assert_eq(
		    kobj_list_each(bad[i].text, bad[i].len, on_item, &s, &meta, err, ERRLEN), -1,
		    "case %zu", i);
		cr_assert_null(meta);
		cr_assert_str_eq(err, want, "case %zu", i);
		cr_assert_eq(json_array_size(s.items), 0, "case %zu", i);
		cr_assert_eq(kobj_list_meta(bad[i].text, bad[i].len, &ahead, err, ERRLEN), -1,
		             "case %zu", i);
		cr_assert_null(ahead);
		cr_assert_str_eq(err, want, "case %zu", i);
		json_decref(s.items);
	}
}
