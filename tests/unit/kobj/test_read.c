/*
 * Object files: JSON or YAML, single objects, Lists and typed lists,
 * multi-document streams, and kobj_read_single.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "../../../pkg/config/config.h"
#include "../../../pkg/kobj/kobj.h"

#define ERRLEN 512

/* What the reader handed out: "kind/name" per object. */
struct seen {
	struct util_strv v;
	size_t stop_at; /* 1-based object at which the callback fails; 0 never */
};

static int collect(void *ctx, const char *kind, const json_t *obj, char *err, size_t errlen)
{
	struct seen *s = ctx;
	const char *name =
	    json_string_value(json_object_get(json_object_get(obj, "metadata"), "name"));
	char *line = util_xasprintf("%s/%s", kind, name ? name : "-");
	util_strv_push(&s->v, line);
	free(line);
	if (s->stop_at != 0 && s->v.n == s->stop_at) {
		snprintf(err, errlen, "stopped at %s", kind);
		return -1;
	}
	return 0;
}

static char *joined(const struct util_strv *v)
{
	struct util_buf b = {0};
	for (size_t i = 0; i < v->n; i++)
		util_buf_printf(&b, "%s%s", i ? " " : "", v->v[i]);
	return util_buf_take(&b);
}

static void expect_objects(const char *text, const char *want)
{
	struct seen s = {0};
	char err[ERRLEN] = "";
	cr_assert_eq(kobj_read_objects(text, strlen(text), "o", collect, &s, err, ERRLEN), 0, "%s",
	             err);
	char *got = joined(&s.v);
	cr_assert_str_eq(got, want, "input:\n%s", text);
	free(got);
	util_strv_free(&s.v);
}

static void expect_read_error(const char *text, const char *want)
{
	struct seen s = {0};
	char err[ERRLEN] = "";
	cr_assert_eq(kobj_read_objects(text, strlen(text), "o", collect, &s, err, ERRLEN), -1,
	             "accepted:\n%s", text);
	cr_assert_str_eq(err, want, "input:\n%s", text);
	util_strv_free(&s.v);
}

static void expect_file(const char *path, const char *want)
{
	char *buf = NULL;
	size_t len = 0;
	char err[ERRLEN] = "";
	struct seen s = {0};
	cr_assert_eq(util_read_file(path, CONFIG_MAX_FILE, &buf, &len, err, ERRLEN), 0, "%s", err);
	cr_assert_eq(kobj_read_objects(buf, len, path, collect, &s, err, ERRLEN), 0, "%s", err);
	char *got = joined(&s.v);
	cr_assert_str_eq(got, want);
	free(got);
	free(buf);
	util_strv_free(&s.v);
}

Test(kobj_read, files)
{
	expect_file("tests/testdata/objects/list.yaml",
	            "Pod/web-7d9 Service/web Service/web-headless Node/node-0");
	expect_file("tests/testdata/objects/podlist.json", "Pod/agent-0 Pod/agent-1");
	expect_file("tests/testdata/objects/multi.yaml",
	            "ConfigMap/settings Pod/db-0 Service/db Node/node-1");
	expect_file("tests/testdata/objects/pod.json", "Pod/solo");
}

Test(kobj_read, forms)
{
	/* single objects, JSON and YAML */
	expect_objects("{\"kind\":\"Node\",\"metadata\":{\"name\":\"n\"}}", "Node/n");
	expect_objects("  \n\t{\"kind\":\"Node\",\"metadata\":{\"name\":\"n\"}}\n", "Node/n");
	expect_objects("kind: Node\nmetadata: {name: n}\n", "Node/n");
	/* a JSON array of documents */
	expect_objects(
	    "[{\"kind\":\"Pod\",\"metadata\":{\"name\":\"a\"}},null,"
	    "{\"kind\":\"List\",\"items\":[{\"kind\":\"Node\",\"metadata\":{\"name\":\"b\"}}]}]",
	    "Pod/a Node/b");
	/* typed lists give their items a kind; an item's own kind wins */
	expect_objects(
	    "kind: ServiceList\nitems:\n- metadata: {name: s}\n- kind: Pod\n  metadata: {name: p}\n",
	    "Service/s Pod/p");
	/* a plain List gives no kind */
	expect_objects("kind: List\nitems:\n- metadata: {name: x}\n", "/x");
	/* objects without a kind, and objects with items that are not lists */
	expect_objects("metadata: {name: x}\n", "/x");
	expect_objects("kind: Thing\nitems: [1, 2]\nmetadata: {name: t}\n", "Thing/t");
	/* empty lists and empty input */
	expect_objects("kind: List\nitems: []\n", "");
	expect_objects("kind: PodList\nitems: null\n", "");
	expect_objects("kind: PodList\n", "");
	expect_objects("", "");
	expect_objects("---\n~\n---\n", "");
	/* lists are not flattened twice */
	expect_objects(
	    "kind: List\nitems:\n- kind: PodList\n  items: [{metadata: {name: inner}}]\n",
	    "PodList/-");
}

Test(kobj_read, errors)
{
	expect_read_error("- a\n- b\n", "o: document 1: expected an object, got an array");
	expect_read_error("kind: Pod\n---\n42\n",
	                  "o: document 2: expected an object, got a number");
	expect_read_error("[1]", "o: document 1: expected an object, got a number");
	expect_read_error("kind: List\nitems: {a: b}\n",
	                  "o: document 1: List: items: expected an array");
	expect_read_error("kind: PodList\nitems: [{}, x]\n",
	                  "o: document 1: PodList: items[1]: expected an object, got a string");
	expect_read_error("{\"kind\": \"Pod\",\n \"kind\": \"Node\"}",
	                  "o:2: duplicate object key near '\"kind\"'");
	expect_read_error("{\"kind\": \"Pod\"}\n{\"kind\": \"Node\"}",
	                  "o:2: end of file expected near '{'");
	expect_read_error("{\"a\": \"\\u0000\"}",
	                  "o:1: \\u0000 is not allowed without JSON_ALLOW_NUL near '\"\\u0000\"'");
	expect_read_error("kind: Pod\nmetadata: &m {}\n", "o:2: anchors are not supported");
	expect_read_error("kind: Pod\nkind: Node\n", "o:2: duplicate key \"kind\"");
	/* the callback stops the reader with its own message */
	struct seen s = {.stop_at = 2};
	char err[ERRLEN];
	const char *text = "kind: List\nitems: [{kind: A}, {kind: B}, {kind: C}]\n";
	cr_assert_eq(kobj_read_objects(text, strlen(text), "o", collect, &s, err, ERRLEN), -1);
	cr_assert_str_eq(err, "stopped at B");
	cr_assert_eq(s.v.n, 2);
	util_strv_free(&s.v);
}

static int count_cb(void *ctx, const char *kind, const json_t *obj, char *err, size_t errlen)
{
	(void)kind;
	(void)obj;
	(void)err;
	(void)errlen;
	(*(size_t *)ctx)++;
	return 0;
}

Test(kobj_read, object_cap)
{
	struct util_buf b = {0};
	char err[ERRLEN];
	size_t n = 0;
	util_buf_puts(&b, "{\"kind\":\"List\",\"items\":[");
	for (size_t i = 0; i <= KOBJ_MAX_OBJECTS; i++)
		util_buf_puts(&b, i ? ",{}" : "{}");
	util_buf_puts(&b, "]}");
	cr_assert_eq(kobj_read_objects(b.data, b.len, "big.json", count_cb, &n, err, ERRLEN), -1);
	cr_assert_str_eq(err, "big.json: more than 200000 objects");
	cr_assert_eq(n, KOBJ_MAX_OBJECTS);
	util_buf_reset(&b);

	cr_assert_eq(
	    kobj_read_objects("", (size_t)CONFIG_MAX_FILE + 1, "huge", count_cb, &n, err, ERRLEN),
	    -1);
	cr_assert_str_eq(err, "huge: larger than 8388608 bytes");
}

static void expect_single_error(const char *text, const char *want)
{
	char err[ERRLEN] = "";
	json_t *obj = kobj_read_single(text, strlen(text), "c.yaml", err, ERRLEN);
	cr_assert_null(obj, "accepted:\n%s", text);
	cr_assert_str_eq(err, want);
}

Test(kobj_read, single)
{
	char err[ERRLEN] = "";
	char *buf = NULL;
	size_t len = 0;
	cr_assert_eq(util_read_file("tests/testdata/objects/csr-list.json", CONFIG_MAX_FILE, &buf,
	                            &len, err, ERRLEN),
	             0, "%s", err);
	json_t *obj = kobj_read_single(buf, len, "csr-list.json", err, ERRLEN);
	free(buf);
	cr_assert_not_null(obj, "%s", err);
	struct policy_request *r = kobj_request_from_json(obj, err, ERRLEN);
	json_decref(obj);
	cr_assert_not_null(r, "%s", err);
	cr_assert_str_eq(r->name, "csr-approved");
	cr_assert(r->approved);
	cr_assert(r->has_certificate);
	policy_request_free(r);

	/* kindless items of a CertificateSigningRequestList */
	const char *text = "kind: CertificateSigningRequestList\nitems:\n- metadata: {name: a}\n";
	obj = kobj_read_single(text, strlen(text), "c.yaml", err, ERRLEN);
	cr_assert_not_null(obj, "%s", err);
	json_decref(obj);

	expect_single_error("", "c.yaml: no CertificateSigningRequest found");
	expect_single_error("kind: List\nitems: []\n",
	                    "c.yaml: no CertificateSigningRequest found");
	expect_single_error(
	    "kind: CertificateSigningRequest\n---\nkind: CertificateSigningRequest\n",
	    "c.yaml: expected one CertificateSigningRequest, found 2 objects");
	expect_single_error("kind: Pod\nmetadata: {name: p, namespace: shop}\n",
	                    "c.yaml: expected a CertificateSigningRequest, got Pod shop/p");
	expect_single_error(
	    "kind: List\nitems: [{kind: CertificateSigningRequest}, {kind: Node}]\n",
	    "c.yaml: expected a CertificateSigningRequest, got Node");
	/* what inspect and check say about files that are not a CSR object */
	expect_single_error("clusterDomain: x\npolicies: []\n",
	                    "c.yaml: expected a CertificateSigningRequest, got an object "
	                    "without kind or spec (keys: clusterDomain, policies)");
	expect_single_error("{}",
	                    "c.yaml: expected a CertificateSigningRequest, got an object "
	                    "without kind or spec (keys: none)");
	expect_single_error("this is not a certificate request\n",
	                    "c.yaml: document 1: expected an object, got a string: \"this is "
	                    "not a certificate request\"");
	expect_single_error(
	    "kind: [\n",
	    "c.yaml:2: did not find expected node content (while parsing a flow node at line 2)");
}
