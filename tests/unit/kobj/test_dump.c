/*
 * kobj_dumps(): byte for byte what json_dumps(JSON_COMPACT) writes, on the
 * objects of the test data and on every kind of value and escape.
 */
#include <criterion/criterion.h>
#include <glob.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../../pkg/kobj/kobj.h"

#ifndef TESTDATA_DIR
#define TESTDATA_DIR "tests/testdata"
#endif

static void same_as_jansson(const json_t *v, const char *what)
{
	char *ours = kobj_dumps(v);
	char *theirs = json_dumps(v, JSON_COMPACT);
	cr_assert_not_null(theirs, "%s: jansson writes it", what);
	cr_assert_not_null(ours, "%s: written", what);
	cr_assert_str_eq(ours, theirs, "%s", what);
	free(ours);
	free(theirs);
}

Test(kobj_dump, the_test_data_as_jansson_writes_it)
{
	glob_t g;
	size_t n = 0;
	cr_assert_eq(glob(TESTDATA_DIR "/*/*.json", 0, NULL, &g), 0);
	for (size_t i = 0; i < g.gl_pathc; i++) {
		json_error_t e;
		json_t *v = json_load_file(g.gl_pathv[i], 0, &e);
		if (v == NULL || (!json_is_object(v) && !json_is_array(v))) {
			json_decref(v);
			continue;
		}
		same_as_jansson(v, g.gl_pathv[i]);
		json_decref(v);
		n++;
	}
	globfree(&g);
	cr_assert_gt(n, 20, "only %zu JSON files read", n);
}

Test(kobj_dump, every_kind_of_value_and_escape)
{
	char controls[32];
	for (int c = 1; c < 32; c++)
		controls[c - 1] = (char)c;
	controls[31] = '\0';
	json_t *v = json_object();
	json_object_set_new(v, "zeta", json_string("first key set, first written"));
	json_object_set_new(v, "alpha", json_string(""));
	json_object_set_new(v, "controls", json_string(controls));
	json_object_set_new(v, "quote \"and\" \\ backslash / slash \x7f del",
	                    json_string("\"\\/\x7f"));
	json_object_set_new(v, "utf8",
	                    json_string("caf\xc3\xa9 \xe6\xbc\xa2 \xf0\x9f\x98\x80 end"));
	json_object_set_new(v, "nul", json_stringn("a\0b", 3));
	json_object_setn_new(v, "key\0with nul", 12, json_true());
	json_object_set_new(v, "ints",
	                    json_pack("[I,I,I,I]", (json_int_t)0, (json_int_t)-1,
	                              (json_int_t)INT64_MAX, (json_int_t)INT64_MIN));
	json_object_set_new(v, "reals", json_pack("[f,f,f]", 1.5, 1e300, 2.0));
	json_object_set_new(v, "literals", json_pack("[b,b,n]", 1, 0));
	json_object_set_new(v, "empty", json_pack("{s:{},s:[],s:[[],{}]}", "o", "a", "n"));
	json_object_set_new(v, "deep", json_pack("[[[{s:[{s:s}]}]]]", "a", "b", "c"));
	same_as_jansson(v, "all kinds");
	json_t *arr = json_pack("[O,O]", v, json_object_get(v, "empty"));
	same_as_jansson(arr, "an array at the top");
	json_decref(arr);
	json_decref(v);
}

Test(kobj_dump, what_jansson_refuses_is_refused)
{
	json_t *s = json_string("x");
	cr_assert_null(kobj_dumps(s), "a string alone");
	cr_assert_null(json_dumps(s, JSON_COMPACT));
	json_decref(s);
	cr_assert_null(kobj_dumps(NULL));
	/* A string that is not UTF-8 (only json_stringn_nocheck makes one). */
	const char *bad[] = {"\xff", "a\xc3", "\xed\xa0\x80", "\xc0\xaf"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *o = json_pack("{s:o}", "k", json_stringn_nocheck(bad[i], strlen(bad[i])));
		cr_assert_null(json_dumps(o, JSON_COMPACT), "jansson: case %zu", i);
		cr_assert_null(kobj_dumps(o), "case %zu", i);
		json_decref(o);
	}
}
