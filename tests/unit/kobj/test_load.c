/*
 * kobj_loadb(): jansson's answer, value or error, on every input; its own
 * reader (kobj_loadb_fast) takes the plain JSON the API server writes and
 * leaves the rest to jansson.
 */
#include <criterion/criterion.h>
#include <glob.h>
#include <stdlib.h>
#include <string.h>

#include "../../../pkg/kobj/kobj.h"
#include "../../../pkg/kobj/kobj_int.h"
#include "../../../pkg/util/util.h"

#ifndef TESTDATA_DIR
#define TESTDATA_DIR "tests/testdata"
#endif

/* kobj_loadb() answers as json_loadb(); returns whether its own reader
 * took the text. */
static bool same_answer(const char *buf, size_t len, size_t flags)
{
	json_error_t je, ke;
	size_t used = 0;
	json_t *ref = json_loadb(buf, len, flags, &je);
	json_t *got = kobj_loadb(buf, len, flags, &ke);
	json_t *fast = kobj_loadb_fast(buf, len, flags, &used);

	cr_assert_eq(got == NULL, ref == NULL, "%.*s: %s", (int)len, buf, je.text);
	if (ref != NULL) {
		char *a = json_dumps(got, JSON_COMPACT | JSON_ENCODE_ANY);
		char *b = json_dumps(ref, JSON_COMPACT | JSON_ENCODE_ANY);
		cr_assert_str_eq(a, b, "%.*s", (int)len, buf);
		cr_assert_eq(ke.position, je.position, "%.*s: position", (int)len, buf);
		free(a);
		free(b);
	} else {
		cr_assert_str_eq(ke.text, je.text, "%.*s", (int)len, buf);
		cr_assert_null(fast, "%.*s: read what jansson refuses", (int)len, buf);
	}
	json_decref(fast);
	json_decref(got);
	json_decref(ref);
	return fast != NULL;
}

Test(kobj_load, the_test_data_read_by_its_own_reader)
{
	glob_t g;
	size_t n = 0;
	cr_assert_eq(glob(TESTDATA_DIR "/*/*.json", 0, NULL, &g), 0);
	for (size_t i = 0; i < g.gl_pathc; i++) {
		char *buf = NULL;
		size_t len = 0;
		char err[256];
		cr_assert_eq(util_read_file(g.gl_pathv[i], 8 << 20, &buf, &len, err, sizeof(err)),
		             0, "%s", err);
		json_error_t je;
		json_t *ref = json_loadb(buf, len, 0, &je);
		if (ref != NULL && (json_is_object(ref) || json_is_array(ref))) {
			cr_assert(same_answer(buf, len, 0), "%s: left to jansson", g.gl_pathv[i]);
			n++;
		}
		json_decref(ref);
		free(buf);
	}
	globfree(&g);
	cr_assert_gt(n, 20, "only %zu JSON files read", n);
}

Test(kobj_load, plain_json_by_its_own_reader)
{
	static const char *in[] = {
	    "{}",
	    "[]",
	    " \t\r\n{ \"a\" : [ 1 , -2 , 0 , -0 , true , false , null , \"\" ] } \n",
	    "{\"a\":1,\"b\":2,\"a\":3}", /* the last wins, in the first's place */
	    "{\"big\":9223372036854775807,\"small\":-9223372036854775808}",
	    "{\"esc\":\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u00e9 \\u4e2d \\ud83d\\ude00\"}",
	    "{\"\\u006bey\":\"escaped key\",\"key\":\"plain\"}",
	    "{\"utf8\":\"caf\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x98\x80\",\"del\":\"\x7f\"}",
	    "[[[[[[[[[[{\"deep\":[[]]}]]]]]]]]]]",
	};
	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++)
		cr_assert(same_answer(in[i], strlen(in[i]), 0), "%s: left to jansson", in[i]);
}

Test(kobj_load, the_rest_left_to_jansson)
{
	static const char *in[] = {
	    "",
	    "   ",
	    "\"a string alone\"",
	    "42",
	    "{\"real\":1.5}",
	    "{\"exp\":1e3}",
	    "{\"too big\":9223372036854775808}",
	    "{\"too small\":-9223372036854775809}",
	    "{\"leading zero\":01}",
	    "{\"minus\":-}",
	    "{\"nul\":\"\\u0000\"}",
	    "{\"lone high\":\"\\ud800\"}",
	    "{\"lone low\":\"\\udc00x\"}",
	    "{\"bad escape\":\"\\x\"}",
	    "{\"short u\":\"\\u12\"}",
	    "{\"raw control\":\"a\tb\"}",
	    "{\"overlong\":\"\xc0\xaf\"}",
	    "{\"surrogate in utf8\":\"\xed\xa0\x80\"}",
	    "{\"cut\":\"\xe4\xb8\"}",
	    "{\"trailing comma\":1,}",
	    "[1,2,]",
	    "{\"no colon\" 1}",
	    "{1:2}",
	    "{\"a\":tru}",
	    "{\"a\":truex}",
	    "{\"a\":1x}",
	    "{\"a\":1} x",
	    "{\"unclosed\":[1,2}",
	    "{\"a\":\"unterminated}",
	    "\xef\xbb\xbf{}",
	};
	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++)
		cr_assert_not(same_answer(in[i], strlen(in[i]), 0), "%s: read by its own reader",
		              in[i]);
	/* nesting past its limit (jansson's own is 2048) */
	char deep[2 * 300 + 1];
	memset(deep, '[', 300);
	memset(deep + 300, ']', 300);
	deep[600] = '\0';
	cr_assert_not(same_answer(deep, 600, 0), "300 deep");
}

/* The items of a LIST are read one at a time: the reader stops after the
 * value and says how far it read, as jansson does. */
Test(kobj_load, stops_after_the_value_when_asked)
{
	const size_t flags = JSON_DISABLE_EOF_CHECK | JSON_DECODE_ANY;
	static const char *in[] = {
	    "{\"a\":1},{\"b\":2}]",
	    "  [1,2] , [3]",
	    "{\"a\":[1,{\"b\":null}]}]",
	};
	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++)
		cr_assert(same_answer(in[i], strlen(in[i]), flags), "%s: left to jansson", in[i]);
	cr_assert_not(same_answer("{\"a\":1} trailing", 16, 0), "no stop without the flag");
	cr_assert_not(same_answer("17,", 3, flags), "a number alone is jansson's");
}

/* No JSON text holds a NUL byte. jansson steps over one after a number or a
 * literal; kobj_loadb() refuses it wherever the value was read from, and
 * says where it is. */
Test(kobj_load, a_nul_byte_is_refused)
{
	static const struct {
		const char *in;
		size_t len, flags, at;
	} bad[] = {
	    {"{\"a\":1\0}", 8, 0, 6},
	    {"{\"a\":1.5\0}", 10, 0, 8},
	    {"[true\0]", 7, 0, 5},
	    {"[1,\n null\0]", 11, 0, 9},
	    {"{\"a\":1\0}", 8, JSON_DISABLE_EOF_CHECK | JSON_DECODE_ANY, 6},
	    {"{\"a\":[1\0]},{}", 13, JSON_DISABLE_EOF_CHECK | JSON_DECODE_ANY, 7},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_error_t je, ke;
		json_t *ref = json_loadb(bad[i].in, bad[i].len, bad[i].flags, &je);
		json_t *got = kobj_loadb(bad[i].in, bad[i].len, bad[i].flags, &ke);
		char want[64];
		snprintf(want, sizeof(want), "a NUL byte at byte %zu", bad[i].at);
		/* jansson itself takes these: the refusal is kobj_loadb()'s */
		cr_assert_not_null(ref, "case %zu: jansson refuses it (%s)", i, je.text);
		cr_assert_null(got, "case %zu: a NUL byte read", i);
		cr_assert_str_eq(ke.text, want, "case %zu", i);
		cr_assert_eq(ke.position, (int)bad[i].at, "case %zu", i);
		json_decref(ref);
	}
	json_error_t ke;
	json_t *v = kobj_loadb("[1,\n null\0]", 11, 0, &ke);
	cr_assert_null(v);
	cr_assert_eq(ke.line, 2, "line of the NUL");
	cr_assert_eq(ke.column, 6, "column of the NUL");
	/* After the value, when told to stop there, a NUL is not the value's. */
	json_t *after =
	    kobj_loadb("{\"a\":1}\0x", 9, JSON_DISABLE_EOF_CHECK | JSON_DECODE_ANY, &ke);
	cr_assert_not_null(after, "a NUL after the value: %s", ke.text);
	cr_assert_eq(ke.position, 7);
	json_decref(after);
	(void)same_answer("{\"a\":1}\0x", 9, JSON_DISABLE_EOF_CHECK | JSON_DECODE_ANY);
	/* Where jansson refuses one itself, its error stands. */
	cr_assert_not(same_answer("[1,\0 2]", 7, 0), "jansson's refusal");
	cr_assert_not(same_answer("[\"x\"\0]", 6, 0), "jansson's refusal");
	cr_assert_not(same_answer("{\"a\":1}\0", 8, 0), "jansson's refusal");
}
