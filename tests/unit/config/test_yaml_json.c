/*
 * YAML to JSON: core-schema typing of plain scalars, documents, and the
 * refusals that protect against hostile input.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "../../../pkg/config/config.h"
#include "../../../pkg/util/util.h"

#define ERRLEN 512

/* Convert and dump compactly with sorted keys; NULL on error (err set). */
static char *to_json(const char *yaml, char *err)
{
	json_t *docs = NULL;
	err[0] = '\0';
	if (config_yaml_to_json(yaml, strlen(yaml), "o.yaml", &docs, err, ERRLEN) != 0) {
		cr_assert_null(docs);
		return NULL;
	}
	char *s = json_dumps(docs, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	json_decref(docs);
	return s;
}

static void expect_json(const char *yaml, const char *want)
{
	char err[ERRLEN];
	char *got = to_json(yaml, err);
	cr_assert_not_null(got, "%s", err);
	cr_assert_str_eq(got, want, "input:\n%s", yaml);
	free(got);
}

static void expect_error(const char *yaml, const char *want)
{
	char err[ERRLEN];
	char *got = to_json(yaml, err);
	cr_assert_null(got, "accepted:\n%s", yaml);
	cr_assert_str_eq(err, want, "input:\n%s", yaml);
}

Test(yaml_json, nulls)
{
	expect_json("[~, null, Null, NULL, ]", "[[null,null,null,null]]");
	expect_json("a:\nb: ~\n", "[{\"a\":null,\"b\":null}]");
	expect_json("[nULL, 'null', \"~\"]", "[[\"nULL\",\"null\",\"~\"]]");
}

Test(yaml_json, booleans)
{
	expect_json("[true, True, TRUE, false, False, FALSE]",
	            "[[true,true,true,false,false,false]]");
	/* YAML 1.1 spellings are strings in 1.2, and so are quoted ones. */
	expect_json("[yes, no, on, off, y, n, tRUE, 'true']",
	            "[[\"yes\",\"no\",\"on\",\"off\",\"y\",\"n\",\"tRUE\",\"true\"]]");
}

Test(yaml_json, integers)
{
	expect_json("[0, 42, -7, +5, 007, 0x1F, 0o17, 9223372036854775807, -9223372036854775808]",
	            "[[0,42,-7,5,7,31,15,9223372036854775807,-9223372036854775808]]");
	expect_json("['42', \"42\", 0b101, 0x, 0o8, 1_000, 12abc]",
	            "[[\"42\",\"42\",\"0b101\",\"0x\",\"0o8\",\"1_000\",\"12abc\"]]");
	expect_error("a: 1\nb: 9223372036854775808\n", "o.yaml:2: integer out of range");
	expect_error("a: 0xffffffffffffffff\n", "o.yaml:1: integer out of range");
}

Test(yaml_json, floats)
{
	expect_json("[1.5, -0.25, .5, 2., 1e3, 6.02E+23]", "[[1.5,-0.25,0.5,2.0,1000.0,6.02e23]]");
	/* JSON has no infinity or NaN. */
	expect_json("[.inf, -.Inf, .nan, 1.2.3, .]",
	            "[[\".inf\",\"-.Inf\",\".nan\",\"1.2.3\",\".\"]]");
	expect_error("x: 1e999\n", "o.yaml:1: number out of range");
}

Test(yaml_json, strings)
{
	expect_json(
	    "a: |\n  line one\n  line two\nb: >\n  folded\n  text\nc: 'it''s'\nd: \"\\u00e9\\t\"\n",
	    "[{\"a\":\"line one\\nline two\\n\",\"b\":\"folded text\\n\",\"c\":\"it's\","
	    "\"d\":\"\xc3\xa9\\t\"}]");
	expect_json("v: !!str 42\nw: ! 43\n", "[{\"v\":\"42\",\"w\":\"43\"}]");
	expect_json("2026-07-25T10:00:00Z: x\n1: y\n",
	            "[{\"1\":\"y\",\"2026-07-25T10:00:00Z\":\"x\"}]");
}

Test(yaml_json, documents)
{
	expect_json("", "[]");
	expect_json("# nothing\n", "[]");
	expect_json("---\n---\n", "[]");
	expect_json("a: 1\n---\n---\nb: 2\n--- ~\n...\n--- [3]\n", "[{\"a\":1},{\"b\":2},[3]]");
	expect_json("{\"kind\": \"Pod\", \"metadata\": {\"name\": \"x\"}}",
	            "[{\"kind\":\"Pod\",\"metadata\":{\"name\":\"x\"}}]");
	expect_json("--- 5\n--- text\n", "[5,\"text\"]");
}

Test(yaml_json, refusals)
{
	expect_error("a: &x 1\nb: *x\n", "o.yaml:1: anchors are not supported");
	expect_error("a: 1\nb: *x\n", "o.yaml:2: aliases are not supported");
	expect_error("- &list [1]\n", "o.yaml:1: anchors are not supported");
	expect_error("a: 1\nb: 2\na: 3\n", "o.yaml:3: duplicate key \"a\"");
	expect_error("m:\n  k: 1\n  \"k\": 2\n", "o.yaml:3: duplicate key \"k\"");
	expect_error("? [a, b]\n: c\n", "o.yaml:1: mapping keys must be scalars");
	expect_error("a: !!binary aGk=\n",
	             "o.yaml:1: tag tag:yaml.org,2002:binary is not supported");
	expect_error("a: !!set {x}\n", "o.yaml:1: tag tag:yaml.org,2002:set is not supported");
	expect_error("a: \"x\\0y\"\n", "o.yaml:1: NUL byte in a string");
	expect_error("\"k\\0\": 1\n", "o.yaml:1: NUL byte in a mapping key");
	expect_error(
	    "a: [1, 2\nb: 3\n",
	    "o.yaml:2: did not find expected ',' or ']' (while parsing a flow sequence at line 1)");
	expect_error(
	    "a: \"\\xff\\uD800\"\n",
	    "o.yaml:1: found invalid Unicode character escape code (while parsing a quoted scalar at line 1)");
}

Test(yaml_json, depth_cap)
{
	struct util_buf b = {0};
	char err[ERRLEN];
	for (int i = 0; i < CONFIG_MAX_DEPTH; i++)
		util_buf_putc(&b, '[');
	for (int i = 0; i < CONFIG_MAX_DEPTH; i++)
		util_buf_putc(&b, ']');
	char *ok = to_json(util_buf_str(&b), err);
	cr_assert_not_null(ok, "%s", err);
	free(ok);
	util_buf_reset(&b);

	for (int i = 0; i <= CONFIG_MAX_DEPTH; i++)
		util_buf_putc(&b, '[');
	for (int i = 0; i <= CONFIG_MAX_DEPTH; i++)
		util_buf_putc(&b, ']');
	cr_assert_null(to_json(util_buf_str(&b), err));
	cr_assert_str_eq(err, "o.yaml:1: nested deeper than 64 levels");
	util_buf_reset(&b);

	/* Deep nesting that libyaml itself reads before giving up. */
	for (int i = 0; i < 100000; i++)
		util_buf_putc(&b, '[');
	cr_assert_null(to_json(util_buf_str(&b), err));
	cr_assert_str_eq(err, "o.yaml:1: nested deeper than 64 levels");
	util_buf_reset(&b);
}

Test(yaml_json, node_cap)
{
	struct util_buf b = {0};
	char err[ERRLEN];
	util_buf_putc(&b, '[');
	for (int i = 0; i < CONFIG_MAX_NODES; i++)
		util_buf_puts(&b, "1,");
	util_buf_puts(&b, "1]");
	cr_assert_null(to_json(util_buf_str(&b), err));
	cr_assert_str_eq(err, "o.yaml:1: more than 1000000 nodes in one document");
	util_buf_reset(&b);
}
