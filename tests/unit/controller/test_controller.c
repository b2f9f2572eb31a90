/*
 * Unit tests of pkg/controller's pure parts: the work queue, the request
 * bodies, Go durations and the flags of `run`.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../../pkg/controller/controller.h"
#include "../../../pkg/controller/internal.h"
#include "../../../pkg/util/util.h"

/* ---------------------------------------------------------------- queue */

Test(controller_queue, empty)
{
	struct controller_queue *q = controller_queue_new(100, 30000);
	cr_assert_eq(controller_queue_len(q), 0);
	cr_assert_eq(controller_queue_next_due(q), -1);
	cr_assert_null(controller_queue_pop(q, 1000000));
	controller_queue_free(q);
	controller_queue_free(NULL);
}

Test(controller_queue, dedup)
{
	struct controller_queue *q = controller_queue_new(100, 30000);
	controller_queue_add(q, "a", 10);
	controller_queue_add(q, "a", 20);
	controller_queue_add(q, "b", 30);
	controller_queue_add(q, "a", 40);
	cr_assert_eq(controller_queue_len(q), 2);
	cr_assert(controller_queue_contains(q, "a"));
	char *k = controller_queue_pop(q, 100);
	cr_assert_str_eq(k, "a");
	free(k);
	cr_assert_not(controller_queue_contains(q, "a"));
	k = controller_queue_pop(q, 100);
	cr_assert_str_eq(k, "b");
	free(k);
	cr_assert_null(controller_queue_pop(q, 100));
	/* Once taken, a key can be queued again. */
	controller_queue_add(q, "a", 200);
	cr_assert_eq(controller_queue_len(q), 1);
	controller_queue_free(q);
}

Test(controller_queue, keeps_earlier_due_time)
{
	struct controller_queue *q = controller_queue_new(100, 30000);
	controller_queue_add_after(q, "a", 0, 5000);
	cr_assert_eq(controller_queue_next_due(q), 5000);
	controller_queue_add_after(q, "a", 0, 9000); /* later: ignored */
	cr_assert_eq(controller_queue_next_due(q), 5000);
	controller_queue_add_after(q, "a", 0, 1000); /* earlier: wins */
	cr_assert_eq(controller_queue_next_due(q), 1000);
	cr_assert_null(controller_queue_pop(q, 999));
	char *k = controller_queue_pop(q, 1000);
	cr_assert_str_eq(k, "a");
	free(k);
	controller_queue_free(q);
}

Test(controller_queue, ordering_by_due_time_then_fifo)
{
	struct controller_queue *q = controller_queue_new(100, 30000);
	controller_queue_add_after(q, "late", 0, 300);
	controller_queue_add_after(q, "first", 0, 100);
	controller_queue_add_after(q, "mid-1", 0, 200);
	controller_queue_add_after(q, "mid-2", 0, 200);
	controller_queue_add_after(q, "mid-3", 0, 200);
	controller_queue_add_after(q, "now", 0, 0);
	const char *want[] = {"now", "first", "mid-1", "mid-2", "mid-3", "late"};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		char *k = controller_queue_pop(q, 1000);
		cr_assert_not_null(k, "item %zu", i);
		cr_assert_str_eq(k, want[i]);
		free(k);
	}
	controller_queue_free(q);
}

Test(controller_queue, many_items_come_out_sorted)
{
	struct controller_queue *q = controller_queue_new(100, 30000);
	char key[32];
	/* A pseudo-random permutation of due times. */
	for (int i = 0; i < 1000; i++) {
		int due = (i * 7919) % 1000;
		snprintf(key, sizeof(key), "k%d", due);
		controller_queue_add_after(q, key, 0, due);
	}
	cr_assert_eq(controller_queue_len(q), 1000);
	int64_t last = -1;
	for (int i = 0; i < 1000; i++) {
		int64_t due = controller_queue_next_due(q);
		cr_assert_geq(due, last);
		last = due;
		char *k = controller_queue_pop(q, 5000);
		snprintf(key, sizeof(key), "k%lld", (long long)due);
		cr_assert_str_eq(k, key);
		free(k);
	}
	cr_assert_eq(controller_queue_len(q), 0);
	controller_queue_free(q);
}

Test(controller_queue, backoff_grows_and_caps)
{
	struct controller_queue *q = controller_queue_new(100, 30000);
	int64_t want[] = {100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 30000, 30000, 30000};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		cr_assert_eq(controller_queue_backoff(q, "a"), want[i]);
		int64_t d = controller_queue_add_rate_limited(q, "a", 0);
		cr_assert_eq(d, want[i], "retry %zu: %lld", i, (long long)d);
		cr_assert_eq(controller_queue_requeues(q, "a"), i + 1);
		char *k = controller_queue_pop(q, want[i]);
		cr_assert_str_eq(k, "a");
		free(k);
	}
	/* Far more failures than the cap needs: still capped, no overflow. */
	for (int i = 0; i < 100; i++) {
		controller_queue_add_rate_limited(q, "a", 0);
		free(controller_queue_pop(q, 30000));
	}
	cr_assert_eq(controller_queue_backoff(q, "a"), 30000);
	controller_queue_forget(q, "a");
	cr_assert_eq(controller_queue_requeues(q, "a"), 0);
	cr_assert_eq(controller_queue_add_rate_limited(q, "a", 0), 100);
	controller_queue_free(q);
}

Test(controller_queue, remove_drops_a_queued_item)
{
	/* A standby queues every pending CSR and never pops: what is removed
	 * when the CSR is gone must leave the queue, backoff and all. */
	struct controller_queue *q = controller_queue_new(100, 30000);
	char key[32];
	for (int i = 0; i < 1000; i++) {
		snprintf(key, sizeof(key), "csr-%d", i);
		if (i % 2 == 0)
			controller_queue_add(q, key, i);
		else
			controller_queue_add_rate_limited(q, key, i);
	}
	cr_assert_eq(controller_queue_len(q), 1000);
	for (int i = 0; i < 1000; i += 3) {
		snprintf(key, sizeof(key), "csr-%d", i);
		controller_queue_remove(q, key);
		cr_assert_not(controller_queue_contains(q, key));
		cr_assert_eq(controller_queue_requeues(q, key), 0);
	}
	cr_assert_eq(controller_queue_len(q), 1000 - 334);
	/* The heap is still in order: the rest come out by due time. */
	int64_t last = -1;
	size_t n = 0;
	char *k;
	while ((k = controller_queue_pop(q, 1000000)) != NULL) {
		int i = (int)strtol(k + 4, NULL, 10);
		cr_assert_neq(i % 3, 0, "%s was removed", k);
		int64_t due = i % 2 == 0 ? i : i + 100;
		cr_assert_geq(due, last);
		last = due;
		n++;
		free(k);
	}
	cr_assert_eq(n, 1000 - 334);
	cr_assert_eq(controller_queue_next_due(q), -1);
	controller_queue_remove(q, "never-seen");
	/* A removed key can come back. */
	controller_queue_add(q, "csr-0", 5);
	cr_assert(controller_queue_contains(q, "csr-0"));
	controller_queue_free(q);
}

Test(controller_queue, backoff_is_per_item)
{
	struct controller_queue *q = controller_queue_new(100, 30000);
	controller_queue_add_rate_limited(q, "a", 0);
	free(controller_queue_pop(q, 100));
	controller_queue_add_rate_limited(q, "a", 0);
	cr_assert_eq(controller_queue_add_rate_limited(q, "b", 0), 100);
	cr_assert_eq(controller_queue_requeues(q, "a"), 2);
	cr_assert_eq(controller_queue_requeues(q, "b"), 1);
	/* "a" is due at 200, "b" at 100. */
	char *k = controller_queue_pop(q, 150);
	cr_assert_str_eq(k, "b");
	free(k);
	cr_assert_null(controller_queue_pop(q, 150));
	k = controller_queue_pop(q, 200);
	cr_assert_str_eq(k, "a");
	free(k);
	controller_queue_free(q);
}

Test(controller_queue, immediate_add_overrides_backoff)
{
	struct controller_queue *q = controller_queue_new(100, 30000);
	for (int i = 0; i < 5; i++) {
		controller_queue_add_rate_limited(q, "a", 0);
		free(controller_queue_pop(q, 100000));
	}
	controller_queue_add_rate_limited(q, "a", 0); /* due at 3200 */
	cr_assert_eq(controller_queue_next_due(q), 3200);
	controller_queue_add(q, "a", 10); /* a watch event: now */
	cr_assert_eq(controller_queue_next_due(q), 10);
	cr_assert_eq(controller_queue_len(q), 1);
	controller_queue_free(q);
}

/* ---------------------------------------------------------------- bodies */

static const char *csr_json =
    "{\"kind\":\"CertificateSigningRequest\",\"apiVersion\":\"certificates.k8s.io/v1\","
    "\"metadata\":{\"name\":\"csr-1\",\"uid\":\"u-1\",\"resourceVersion\":\"4821\","
    "\"labels\":{\"app\":\"web\"},\"annotations\":{\"note\":\"keep me\"},"
    "\"finalizers\":[\"example.com/hold\"],\"creationTimestamp\":\"2026-07-25T10:00:00Z\"},"
    "\"spec\":{\"request\":\"LS0t\",\"signerName\":\"example.com/x\","
    "\"usages\":[\"client auth\"],\"username\":\"alice\"},"
    "\"status\":{}}";

static json_t *load(const char *s)
{
	json_error_t e;
	json_t *j = json_loads(s, 0, &e);
	cr_assert_not_null(j, "%s", e.text);
	return j;
}

/* managedFields stay out of the approval and status bodies (the
 * subresources take them from the stored object); the rest of metadata is
 * sent as read, and the object read keeps them. */
Test(controller_body, writes_leave_managed_fields_out)
{
	json_t *in = load(csr_json);
	json_t *md = json_object_get(in, "metadata");
	json_t *want = json_deep_copy(md);
	json_object_set_new(md, "managedFields",
	                    json_pack("[{s:s, s:s, s:{}}]", "manager", "kubelet", "operation",
	                              "Update", "fieldsV1"));
	char *bodies[2] = {
	    controller_approval_body(in, "Approved", "AutoApproved", "ok", 1785000000),
	    controller_certificate_body(in, "-----BEGIN CERTIFICATE-----\n"),
	};
	for (size_t i = 0; i < 2; i++) {
		cr_assert_not_null(bodies[i]);
		json_t *out = load(bodies[i]);
		cr_assert(json_equal(json_object_get(out, "metadata"), want), "body %zu", i);
		json_decref(out);
		free(bodies[i]);
	}
	cr_assert_not_null(json_object_get(md, "managedFields"));
	json_decref(want);
	json_decref(in);
}

Test(controller_body, approval_appends_condition_and_keeps_metadata)
{
	json_t *in = load(csr_json);
	char *body = controller_approval_body(in, "Approved", "AutoApproved",
	                                      "csr-approver: policy p: ok", 1785000000);
	cr_assert_not_null(body);
	json_t *out = load(body);
	cr_assert_str_eq(json_string_value(json_object_get(out, "kind")),
	                 "CertificateSigningRequest");
	cr_assert_str_eq(json_string_value(json_object_get(out, "apiVersion")),
	                 "certificates.k8s.io/v1");
	/* metadata and spec exactly as read */
	cr_assert(json_equal(json_object_get(out, "metadata"), json_object_get(in, "metadata")));
	cr_assert(json_equal(json_object_get(out, "spec"), json_object_get(in, "spec")));
	json_t *conds = json_object_get(json_object_get(out, "status"), "conditions");
	cr_assert_eq(json_array_size(conds), 1);
	json_t *c = json_array_get(conds, 0);
	cr_assert_str_eq(json_string_value(json_object_get(c, "type")), "Approved");
	cr_assert_str_eq(json_string_value(json_object_get(c, "status")), "True");
	cr_assert_str_eq(json_string_value(json_object_get(c, "reason")), "AutoApproved");
	cr_assert_str_eq(json_string_value(json_object_get(c, "message")),
	                 "csr-approver: policy p: ok");
	cr_assert_str_eq(json_string_value(json_object_get(c, "lastUpdateTime")),
	                 "2026-07-25T17:20:00Z");
	/* the input is untouched */
	cr_assert_null(json_object_get(json_object_get(in, "status"), "conditions"));
	json_decref(out);
	json_decref(in);
	free(body);
}

Test(controller_body, approval_keeps_existing_conditions)
{
	json_t *in =
	    load("{\"metadata\":{\"name\":\"x\",\"resourceVersion\":\"7\"},\"spec\":{},"
	         "\"status\":{\"conditions\":[{\"type\":\"Custom\",\"status\":\"True\"}]}}");
	char *body = controller_approval_body(in, "Denied", "PodNotFound", "gone", 0);
	json_t *out = load(body);
	/* list items carry no kind/apiVersion: the body must */
	cr_assert_str_eq(json_string_value(json_object_get(out, "kind")),
	                 "CertificateSigningRequest");
	json_t *conds = json_object_get(json_object_get(out, "status"), "conditions");
	cr_assert_eq(json_array_size(conds), 2);
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(conds, 0), "type")),
	                 "Custom");
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(conds, 1), "type")),
	                 "Denied");
	cr_assert_str_eq(
	    json_string_value(json_object_get(json_array_get(conds, 1), "lastUpdateTime")),
	    "1970-01-01T00:00:00Z");
	cr_assert_str_eq(
	    json_string_value(json_object_get(json_object_get(out, "metadata"), "resourceVersion")),
	    "7");
	/* the input is untouched: its conditions, its lack of kind */
	cr_assert_eq(json_array_size(json_object_get(json_object_get(in, "status"), "conditions")),
	             1);
	cr_assert_null(json_object_get(in, "kind"));
	json_decref(out);
	json_decref(in);
	free(body);
}

Test(controller_body, approval_without_status)
{
	json_t *in = load("{\"metadata\":{\"name\":\"x\"},\"spec\":{}}");
	char *body = controller_approval_body(in, "Approved", "AutoApproved", "m", 0);
	json_t *out = load(body);
	cr_assert_eq(json_array_size(json_object_get(json_object_get(out, "status"), "conditions")),
	             1);
	json_decref(out);
	json_decref(in);
	free(body);
}

Test(controller_body, approval_refuses_malformed)
{
	const char *bad[] = {
	    "[]",
	    "{\"spec\":{}}",
	    "{\"metadata\":{\"name\":3}}",
	    "{\"metadata\":{\"name\":\"x\"},\"status\":[]}",
	    "{\"metadata\":{\"name\":\"x\"},\"status\":{\"conditions\":{}}}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *in = load(bad[i]);
		char *body = controller_approval_body(in, "Approved", "AutoApproved", "m", 0);
		cr_assert_null(body, "%s", bad[i]);
		json_decref(in);
	}
	cr_assert_null(controller_approval_body(NULL, "Approved", "AutoApproved", "m", 0));
}

/* The issuing write: the object as read, status.certificate the base64 of
 * the PEM, conditions untouched. */
Test(controller_body, certificate)
{
	json_t *in =
	    load("{\"metadata\":{\"name\":\"x\",\"resourceVersion\":\"9\"},\"spec\":{},"
	         "\"status\":{\"conditions\":[{\"type\":\"Approved\",\"status\":\"True\"}]}}");
	static const char pem[] = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
	char *body = controller_certificate_body(in, pem);
	cr_assert_not_null(body);
	json_t *out = load(body);
	cr_assert_str_eq(json_string_value(json_object_get(out, "kind")),
	                 "CertificateSigningRequest");
	cr_assert(json_equal(json_object_get(out, "metadata"), json_object_get(in, "metadata")));
	json_t *st = json_object_get(out, "status");
	cr_assert(json_equal(json_object_get(st, "conditions"),
	                     json_object_get(json_object_get(in, "status"), "conditions")));
	const char *b64 = json_string_value(json_object_get(st, "certificate"));
	cr_assert_not_null(b64);
	char *dec = NULL;
	size_t n = 0;
	cr_assert_eq(util_base64_decode(b64, strlen(b64), 0, 4096, &dec, &n), 0);
	cr_assert_eq(n, strlen(pem));
	cr_assert_eq(memcmp(dec, pem, n), 0);
	free(dec);
	json_decref(out);
	free(body);
	cr_assert_null(controller_certificate_body(in, NULL));
	json_decref(in);
	json_t *bad = load("{\"spec\":{}}");
	cr_assert_null(controller_certificate_body(bad, pem));
	json_decref(bad);
}

Test(controller_body, sar)
{
	struct util_strv groups = {0};
	util_strv_push(&groups, "system:nodes");
	util_strv_push(&groups, "system:authenticated");
	struct policy_extra extra[1] = {{.key = (char *)"scopes"}};
	util_strv_push(&extra[0].values, "a");
	struct policy_sar sar = {
	    .user = "system:node:n1",
	    .uid = "uid-1",
	    .groups = &groups,
	    .extra = extra,
	    .n_extra = 1,
	    .verb = "create",
	    .group = "certificates.k8s.io",
	    .resource = "certificatesigningrequests",
	    .subresource = "selfnodeclient",
	};
	char *body = controller_sar_body(&sar);
	json_t *out = load(body);
	cr_assert_str_eq(json_string_value(json_object_get(out, "kind")), "SubjectAccessReview");
	json_t *spec = json_object_get(out, "spec");
	cr_assert_str_eq(json_string_value(json_object_get(spec, "user")), "system:node:n1");
	cr_assert_str_eq(json_string_value(json_object_get(spec, "uid")), "uid-1");
	cr_assert_eq(json_array_size(json_object_get(spec, "groups")), 2);
	cr_assert_str_eq(json_string_value(json_array_get(
	                     json_object_get(json_object_get(spec, "extra"), "scopes"), 0)),
	                 "a");
	json_t *ra = json_object_get(spec, "resourceAttributes");
	cr_assert_str_eq(json_string_value(json_object_get(ra, "verb")), "create");
	cr_assert_str_eq(json_string_value(json_object_get(ra, "group")), "certificates.k8s.io");
	cr_assert_str_eq(json_string_value(json_object_get(ra, "resource")),
	                 "certificatesigningrequests");
	cr_assert_str_eq(json_string_value(json_object_get(ra, "subresource")), "selfnodeclient");
	json_decref(out);
	free(body);
	util_strv_free(&groups);
	util_strv_free(&extra[0].values);
}

Test(controller_body, sar_parse)
{
	bool allowed = false;
	const char *yes = "{\"kind\":\"SubjectAccessReview\",\"status\":{\"allowed\":true}}";
	const char *no =
	    "{\"kind\":\"SubjectAccessReview\",\"status\":{\"allowed\":false,\"reason\":\"x\"}}";
	const char *omitted = "{\"kind\":\"SubjectAccessReview\",\"status\":{}}";
	cr_assert_eq(controller_sar_parse(yes, strlen(yes), &allowed), 0);
	cr_assert(allowed);
	cr_assert_eq(controller_sar_parse(no, strlen(no), &allowed), 0);
	cr_assert_not(allowed);
	allowed = true;
	cr_assert_eq(controller_sar_parse(omitted, strlen(omitted), &allowed), 0);
	cr_assert_not(allowed);
	cr_assert_eq(controller_sar_parse("nope", 4, &allowed), -1);
	cr_assert_eq(controller_sar_parse("{}", 2, &allowed), -1);
	const char *s = "{\"status\":{\"allowed\":\"yes\"}}";
	cr_assert_eq(controller_sar_parse(s, strlen(s), &allowed), -1);
}

/* A reader of the protobuf wire format for the tests: the value of field
 * path[0] of msg, then of field path[1] inside it, and so on (first
 * occurrence each). Length-delimited fields give their bytes (*len), varint
 * fields their value (*v). A malformed message fails the test; NULL when a
 * field is absent. */
static const unsigned char *pb_varint(const unsigned char *p, const unsigned char *end, uint64_t *v)
{
	*v = 0;
	for (unsigned shift = 0; shift < 64; shift += 7) {
		cr_assert_lt(p, end, "varint runs past the end");
		*v |= (uint64_t)(*p & 0x7f) << shift;
		if ((*p++ & 0x80) == 0)
			return p;
	}
	cr_assert_fail("varint over 10 bytes");
	return NULL;
}

static const unsigned char *pb_at(const void *msg, size_t n, const unsigned *path, size_t depth,
                                  size_t *len, uint64_t *v)
{
	const unsigned char *p = msg, *end = p + n;
	for (size_t d = 0; d < depth; d++) {
		const unsigned char *hit = NULL;
		while (p < end && hit == NULL) {
			uint64_t key, val;
			p = pb_varint(p, end, &key);
			if ((key & 7) == 0) {
				p = pb_varint(p, end, &val);
				if (key >> 3 == path[d]) {
					*v = val;
					cr_assert_eq(d + 1, depth, "varint field %u has no fields",
					             path[d]);
					return p;
				}
			} else {
				cr_assert_eq(key & 7, 2, "wire type %u", (unsigned)(key & 7));
				p = pb_varint(p, end, &val);
				cr_assert_leq(val, (uint64_t)(end - p), "field runs past the end");
				if (key >> 3 == path[d]) {
					hit = p;
					end = p + val;
				}
				p += val;
			}
		}
		if (hit == NULL)
			return NULL;
		p = hit;
	}
	*len = (size_t)(end - p);
	return p;
}

/* The string at path ("" when absent), in a buffer the test owns. */
#define PB_STR(body, n, out, ...)                                                                  \
	pb_str(body, n, out, sizeof(out), (const unsigned[]){__VA_ARGS__},                         \
	       sizeof((const unsigned[]){__VA_ARGS__}) / sizeof(unsigned))
static const char *pb_str(const char *body, size_t n, char *out, size_t outlen,
                          const unsigned *path, size_t depth)
{
	size_t len = 0;
	uint64_t v = 0;
	const unsigned char *p = pb_at(body, n, path, depth, &len, &v);
	cr_assert_lt(len, outlen);
	memcpy(out, p ? (const char *)p : "", p ? len : 0);
	out[p ? len : 0] = '\0';
	return out;
}

/* The Event inside the envelope: magic, TypeMeta v1/Event, raw. */
static const char *event_raw(const char *body, size_t n, size_t *len)
{
	char buf[64];
	uint64_t v;
	cr_assert_gt(n, 4);
	cr_assert_eq(memcmp(body, "k8s\0", 4), 0, "no protobuf magic");
	cr_assert_str_eq(PB_STR(body + 4, n - 4, buf, 1, 1), "v1");
	cr_assert_str_eq(PB_STR(body + 4, n - 4, buf, 1, 2), "Event");
	const unsigned char *raw = pb_at(body + 4, n - 4, (const unsigned[]){2}, 1, len, &v);
	cr_assert_not_null(raw);
	return (const char *)raw;
}

/* Field numbers: core/v1 Event 1 metadata (ObjectMeta 2 generateName, 3
 * namespace), 2 involvedObject (ObjectReference 1 kind, 3 name, 4 uid, 5
 * apiVersion), 3 reason, 4 message, 5 source (1 component), 6/7 first/last
 * timestamp (Time 1 seconds), 8 count, 9 type, 14 reportingComponent, 15
 * reportingInstance. */
Test(controller_body, event)
{
	char longmsg[3000], buf[2048];
	size_t n, len;
	uint64_t v = 0;
	memset(longmsg, 'x', sizeof(longmsg) - 1);
	longmsg[sizeof(longmsg) - 1] = '\0';
	struct controller_event ev = {
	    .csr_name = "csr-1",
	    .csr_uid = "u-1",
	    .type = "Warning",
	    .reason = "PodNotFound",
	    .message = longmsg,
	    .instance = "host_abcd",
	};
	char *body = controller_event_body(&ev, 1785000000, &n);
	const char *e = event_raw(body, n, &len);
	cr_assert_str_eq(PB_STR(e, len, buf, 1, 2), "csr-1.");
	cr_assert_str_eq(PB_STR(e, len, buf, 1, 3), "default");
	cr_assert_str_eq(PB_STR(e, len, buf, 2, 1), "CertificateSigningRequest");
	cr_assert_str_eq(PB_STR(e, len, buf, 2, 5), "certificates.k8s.io/v1");
	cr_assert_str_eq(PB_STR(e, len, buf, 2, 3), "csr-1");
	cr_assert_str_eq(PB_STR(e, len, buf, 2, 4), "u-1");
	cr_assert_str_eq(PB_STR(e, len, buf, 9), "Warning");
	cr_assert_str_eq(PB_STR(e, len, buf, 3), "PodNotFound");
	cr_assert_eq(strlen(PB_STR(e, len, buf, 4)), 1024);
	cr_assert_str_eq(PB_STR(e, len, buf, 5, 1), "csr-approver");
	cr_assert_str_eq(PB_STR(e, len, buf, 14), "csr-approver");
	cr_assert_str_eq(PB_STR(e, len, buf, 15), "host_abcd");
	cr_assert_not_null(pb_at(e, len, (const unsigned[]){6, 1}, 2, &n, &v));
	cr_assert_eq(v, 1785000000);
	v = 0;
	cr_assert_not_null(pb_at(e, len, (const unsigned[]){7, 1}, 2, &n, &v));
	cr_assert_eq(v, 1785000000);
	cr_assert_not_null(pb_at(e, len, (const unsigned[]){8}, 1, &n, &v));
	cr_assert_eq(v, 1);
	free(body);
}

/* What a message may hold: quotes, control characters, multi-byte UTF-8
 * cut on a whole character, invalid bytes sent as U+FFFD and counted so;
 * no uid, no type. */
Test(controller_body, event_text)
{
	char msg[1100], buf[2048];
	size_t n, len;
	uint64_t v;
	struct controller_event ev = {.csr_name = "csr-2", .reason = "Approved", .message = msg};
	snprintf(msg, sizeof(msg), "name \"a\\b\"\n\ttab \x01 caf\xc3\xa9 bad \xff end");
	char *body = controller_event_body(&ev, 1785000000, &n);
	const char *e = event_raw(body, n, &len);
	cr_assert_str_eq(PB_STR(e, len, buf, 4),
	                 "name \"a\\b\"\n\ttab \x01 caf\xc3\xa9 bad \xef\xbf\xbd end");
	cr_assert_str_eq(PB_STR(e, len, buf, 9), "Normal");
	cr_assert_null(pb_at(e, len, (const unsigned[]){2, 4}, 2, &n, &v));
	cr_assert_null(pb_at(e, len, (const unsigned[]){15}, 1, &n, &v));
	free(body);
	/* 1,023 ASCII bytes then "é": the é does not fit whole. */
	memset(msg, 'x', 1023);
	snprintf(msg + 1023, sizeof(msg) - 1023, "\xc3\xa9yy");
	body = controller_event_body(&ev, 1785000000, &n);
	e = event_raw(body, n, &len);
	cr_assert_eq(strlen(PB_STR(e, len, buf, 4)), 1023);
	free(body);
	/* Invalid bytes count as the three bytes of U+FFFD. */
	memset(msg, '\xff', 1000);
	msg[1000] = '\0';
	body = controller_event_body(&ev, 1785000000, &n);
	e = event_raw(body, n, &len);
	cr_assert_str_eq(PB_STR(e, len, buf, 4) + 1020, "\xef\xbf\xbd");
	cr_assert_eq(strlen(buf), 1023);
	free(body);
}

/* ---------------------------------------------------------------- durations */

/* Parameters are copied into the test's process: arrays, not pointers. */
struct dur_case {
	char in[32];
	int rc;
	int64_t ms;
};

static struct dur_case dur_cases[] = {
    {"15s", 0, 15000},
    {"10s", 0, 10000},
    {"2s", 0, 2000},
    {"500ms", 0, 500},
    {"1m", 0, 60000},
    {"1m30s", 0, 90000},
    {"1h", 0, 3600000},
    {"1.5s", 0, 1500},
    {".5s", 0, 500},
    {"1.5h", 0, 5400000},
    {"2h45m10s", 0, 9910000},
    {"0", 0, 0},
    {"0s", 0, 0},
    {"+3s", 0, 3000},
    {"1500us", 0, 1},
    {"1500\xc2\xb5s", 0, 1},
    {"2000000ns", 0, 2},
    {"1ms500us", 0, 1},
    {"", -1, 0},
    {"s", -1, 0},
    {"10", -1, 0},
    {"-1s", -1, 0},
    {"1x", -1, 0},
    {"1s ", -1, 0},
    {" 1s", -1, 0},
    {"1.s", 0, 1000},
    {".s", -1, 0},
    {"1d", -1, 0},
    {"99999999999999h", -1, 0},
    {"+", -1, 0},
};

ParameterizedTestParameters(controller_duration, table)
{
	return cr_make_param_array(struct dur_case, dur_cases,
	                           sizeof(dur_cases) / sizeof(dur_cases[0]));
}

ParameterizedTest(struct dur_case *tc, controller_duration, table)
{
	int64_t ms = -42;
	int rc = controller_parse_duration(tc->in, &ms);
	cr_assert_eq(rc, tc->rc, "\"%s\": rc %d, want %d", tc->in, rc, tc->rc);
	if (rc == 0)
		cr_assert_eq(ms, tc->ms, "\"%s\": %lld ms, want %lld", tc->in, (long long)ms,
		             (long long)tc->ms);
}

/* ---------------------------------------------------------------- flags */

static int parse(struct controller_options *o, char *err, size_t errlen, ...)
{
	char *argv[32];
	int argc = 0;
	va_list ap;
	va_start(ap, errlen);
	argv[argc++] = (char *)"run";
	for (const char *a; (a = va_arg(ap, const char *)) != NULL && argc < 31;)
		argv[argc++] = (char *)a;
	va_end(ap);
	argv[argc] = NULL;
	controller_options_init(o);
	err[0] = '\0';
	return controller_options_parse(o, argc, argv, err, errlen);
}

Test(controller_flags, defaults)
{
	struct controller_options o;
	char err[256];
	cr_assert_eq(parse(&o, err, sizeof(err), NULL), 0, "%s", err);
	cr_assert_null(o.kubeconfig);
	cr_assert_null(o.config_path);
	cr_assert_not(o.leader_elect);
	cr_assert_not(o.dry_run);
	cr_assert_eq(o.lease_duration_ms, 15000);
	cr_assert_eq(o.renew_deadline_ms, 10000);
	cr_assert_eq(o.retry_period_ms, 2000);
	cr_assert_str_eq(o.metrics_addr, ":8080");
	cr_assert_str_eq(o.probe_addr, ":8081");
	cr_assert_str_eq(o.lease_name, "csr-approver");
	cr_assert_eq(o.log_format, LOG_FORMAT_JSON);
	cr_assert_eq(o.log_level, LOG_INFO);
	cr_assert_eq(o.missing_object_retry_ms, 30000);
	cr_assert_eq(o.write_delay_ms, 0);
	cr_assert_null(o.audit_log);
}

Test(controller_flags, audit_log)
{
	struct controller_options o;
	char err[256];
	cr_assert_eq(
	    parse(&o, err, sizeof(err), "--audit-log", "/var/log/csr-approver.jsonl", NULL), 0,
	    "%s", err);
	cr_assert_str_eq(o.audit_log, "/var/log/csr-approver.jsonl");
	cr_assert_eq(parse(&o, err, sizeof(err), "--audit-log=-", NULL), 0, "%s", err);
	cr_assert_str_eq(o.audit_log, "-");
	cr_assert_eq(parse(&o, err, sizeof(err), "--audit-log=", NULL), -1);
	cr_expect_str_eq(err, "--audit-log needs a file name, or - for stdout");
	cr_assert_eq(parse(&o, err, sizeof(err), "--audit-log", NULL), -1);
	cr_expect(strstr(err, "needs a value") != NULL, "%s", err);

	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	controller_usage(f);
	fclose(f);
	cr_expect(strstr(text, "--audit-log FILE|-") != NULL);
	cr_expect(strstr(text, "SIGHUP") != NULL);
	free(text);
}

Test(controller_flags, every_flag)
{
	struct controller_options o;
	char err[256];
	int rc =
	    parse(&o, err, sizeof(err), "--kubeconfig", "/k/config", "--context=ctx", "--config",
	          "policy.yaml", "--leader-elect", "--leader-elect-namespace", "kube-system",
	          "--leader-elect-resource-name=approver", "--leader-elect-lease-duration=30s",
	          "--leader-elect-renew-deadline", "20s", "--leader-elect-retry-period=5s",
	          "--metrics-bind-address=0", "--health-probe-bind-address", "127.0.0.1:9000",
	          "--dry-run", "--log-format=text", "-v", "3", "--identity", "me",
	          "--missing-object-timeout=5s", NULL);
	cr_assert_eq(rc, 0, "%s", err);
	cr_assert_str_eq(o.kubeconfig, "/k/config");
	cr_assert_str_eq(o.context, "ctx");
	cr_assert_str_eq(o.config_path, "policy.yaml");
	cr_assert(o.leader_elect);
	cr_assert_str_eq(o.lease_namespace, "kube-system");
	cr_assert_str_eq(o.lease_name, "approver");
	cr_assert_eq(o.lease_duration_ms, 30000);
	cr_assert_eq(o.renew_deadline_ms, 20000);
	cr_assert_eq(o.retry_period_ms, 5000);
	cr_assert_str_eq(o.metrics_addr, "0");
	cr_assert_str_eq(o.probe_addr, "127.0.0.1:9000");
	cr_assert(o.dry_run);
	cr_assert_eq(o.log_format, LOG_FORMAT_TEXT);
	cr_assert_eq(o.log_level, LOG_DEBUG);
	cr_assert_str_eq(o.identity, "me");
	cr_assert_eq(o.write_delay_ms, 0);
	cr_assert_eq(o.missing_object_retry_ms, 5000);
}

/* The release build has no fault-making flags, and the documented
 * --missing-object-timeout stays within its bounds. */
Test(controller_flags, no_test_hooks_and_bounded_wait)
{
	struct controller_options o;
	char err[256];
	cr_assert_eq(parse(&o, err, sizeof(err), "--write-delay=2s", NULL), -1);
	cr_expect_str_eq(err, "unknown flag --write-delay=2s");
	cr_assert_eq(parse(&o, err, sizeof(err), "--identity-event-delay=2s", NULL), -1);
	cr_expect_str_eq(err, "unknown flag --identity-event-delay=2s");
	cr_assert_eq(parse(&o, err, sizeof(err), "--missing-object-timeout=500ms", NULL), -1);
	cr_expect_str_eq(err, "--missing-object-timeout must be between 1s and 10m");
	cr_assert_eq(parse(&o, err, sizeof(err), "--missing-object-timeout=11m", NULL), -1);
	cr_assert_eq(parse(&o, err, sizeof(err), "--missing-object-timeout=10m", NULL), 0, "%s",
	             err);
	cr_expect_eq(o.missing_object_retry_ms, 600000);
}

/* The connection flags: defaults, bounds, the two protocols. */
Test(controller_flags, api_connection)
{
	struct controller_options o;
	char err[256];
	cr_assert_eq(parse(&o, err, sizeof(err), NULL), 0, "%s", err);
	cr_expect_eq(o.api_max_in_flight, 32);
	cr_expect_not(o.api_http1);
	cr_assert_eq(parse(&o, err, sizeof(err), "--api-max-requests-in-flight=64",
	                   "--api-http-version=1.1", NULL),
	             0, "%s", err);
	cr_expect_eq(o.api_max_in_flight, 64);
	cr_expect(o.api_http1);
	cr_assert_eq(parse(&o, err, sizeof(err), "--api-http-version", "2", NULL), 0, "%s", err);
	cr_expect_not(o.api_http1);
	const char *bad[] = {"0", "65", "-1", "8x", ""};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char flag[64];
		snprintf(flag, sizeof(flag), "--api-max-requests-in-flight=%s", bad[i]);
		cr_assert_eq(parse(&o, err, sizeof(err), flag, NULL), -1, "%s", flag);
		cr_expect(strstr(err, "--api-max-requests-in-flight takes a number from 1 to 64") !=
		              NULL,
		          "%s", err);
	}
	cr_assert_eq(parse(&o, err, sizeof(err), "--api-http-version=2.0", NULL), -1);
	cr_expect_str_eq(err, "--api-http-version takes 2 or 1.1, not \"2.0\"");
}

/* --api-read-coalescing: a duration from 0 (off) to 50ms, 2ms by default. */
Test(controller_flags, api_read_coalescing)
{
	struct controller_options o;
	char err[256];
	cr_assert_eq(parse(&o, err, sizeof(err), NULL), 0, "%s", err);
	cr_expect_eq(o.api_read_coalesce_ms, 2);
	cr_assert_eq(parse(&o, err, sizeof(err), "--api-read-coalescing=0", NULL), 0, "%s", err);
	cr_expect_eq(o.api_read_coalesce_ms, 0);
	cr_assert_eq(parse(&o, err, sizeof(err), "--api-read-coalescing", "50ms", NULL), 0, "%s",
	             err);
	cr_expect_eq(o.api_read_coalesce_ms, 50);
	cr_assert_eq(parse(&o, err, sizeof(err), "--api-read-coalescing=51ms", NULL), -1);
	cr_expect_str_eq(err, "--api-read-coalescing must be between 0 and 50ms");
	cr_assert_eq(parse(&o, err, sizeof(err), "--api-read-coalescing=2", NULL), -1);
	cr_expect(strstr(err, "--api-read-coalescing takes a duration") != NULL, "%s", err);
}

Test(controller_flags, booleans_and_levels)
{
	struct controller_options o;
	char err[256];
	cr_assert_eq(parse(&o, err, sizeof(err), "--dry-run=false", "--leader-elect=true", NULL),
	             0);
	cr_assert_not(o.dry_run);
	cr_assert(o.leader_elect);
	cr_assert_eq(parse(&o, err, sizeof(err), "-v=4", NULL), 0, "%s", err);
	cr_assert_eq(o.log_level, LOG_TRACE);
	cr_assert_eq(parse(&o, err, sizeof(err), "--log-level", "warn", NULL), 0);
	cr_assert_eq(o.log_level, LOG_WARN);
	cr_assert_eq(parse(&o, err, sizeof(err), "-v2", NULL), 0);
	cr_assert_eq(o.log_level, LOG_INFO);
}

Test(controller_flags, help)
{
	struct controller_options o;
	char err[256];
	FILE *saved = stdout;
	stdout = fopen("/dev/null", "w");
	int rc = parse(&o, err, sizeof(err), "--help", NULL);
	fclose(stdout);
	stdout = saved;
	cr_assert_eq(rc, 1);
}

struct bad_flags {
	char a[48], b[48]; /* b "" for none */
	char want[48]; /* substring of the message */
};

static struct bad_flags bad_cases[] = {
    {"--nope", "", "unknown flag --nope"},
    {"-x", "", "unknown flag -x"},
    {"--kubeconfig", "", "needs a value"},
    {"--dry-run=maybe", "", "--dry-run"},
    {"--leader-elect=yes", "", "--leader-elect"},
    {"--log-format=xml", "", "--log-format"},
    {"-v", "loud", "-v"},
    {"--log-level=9", "", "--log-level"},
    {"--leader-elect-lease-duration=15", "", "duration"},
    {"--leader-elect-retry-period=fast", "", "duration"},
    {"extra", "", "unexpected argument"},
    {"--identity=", "", "--identity"},
    /* lease > renew deadline > 1.2 x retry period, when electing */
    {"--leader-elect", "--leader-elect-renew-deadline=15s", "greater than --leader-elect-renew"},
    {"--leader-elect", "--leader-elect-retry-period=9s", "1.2"},
    {"--leader-elect", "--leader-elect-retry-period=0", "positive"},
};

ParameterizedTestParameters(controller_flags, refused)
{
	return cr_make_param_array(struct bad_flags, bad_cases,
	                           sizeof(bad_cases) / sizeof(bad_cases[0]));
}

ParameterizedTest(struct bad_flags *tc, controller_flags, refused)
{
	struct controller_options o;
	char err[256];
	int rc = parse(&o, err, sizeof(err), tc->a, tc->b[0] ? tc->b : NULL, NULL);
	cr_assert_eq(rc, -1, "%s %s accepted", tc->a, tc->b);
	cr_assert_not_null(strstr(err, tc->want), "%s: message \"%s\" lacks \"%s\"", tc->a, err,
	                   tc->want);
}

Test(controller_flags, lease_checks_only_when_electing)
{
	struct controller_options o;
	char err[256];
	cr_assert_eq(parse(&o, err, sizeof(err), "--leader-elect-renew-deadline=20s", NULL), 0);
	/* 10s > 1.2 x 8s = 9.6s: accepted */
	cr_assert_eq(
	    parse(&o, err, sizeof(err), "--leader-elect", "--leader-elect-retry-period=8s", NULL),
	    0, "%s", err);
	/* 10s > 1.2 x 8.5s = 10.2s: refused */
	cr_assert_eq(parse(&o, err, sizeof(err), "--leader-elect",
	                   "--leader-elect-retry-period=8500ms", NULL),
	             -1);
}

/* ---------------------------------------------------------------- inventory */

/* When time alone moves an entry in the governance gauges: the gauges are
 * computed again then, and otherwise only when an entry changed. */
Test(controller_inventory, next_change)
{
	const int64_t now = 1785000000, day = 86400;
	/* Pending: the next age bucket (1 min, 15 min, 1 h), then never. */
	cr_expect_eq(inventory_next_change(now - 10, true, true, 0, now), now + 50);
	cr_expect_eq(inventory_next_change(now - 60, true, true, 0, now), now - 60 + 900);
	cr_expect_eq(inventory_next_change(now - 1000, true, false, 0, now), now - 1000 + 3600);
	cr_expect_eq(inventory_next_change(now - 3600, true, false, 0, now), INT64_MAX);
	cr_expect_eq(inventory_next_change(0, true, true, 0, now), INT64_MAX, "no creation time");
	cr_expect_eq(inventory_next_change(now - 10, false, false, 0, now), INT64_MAX);
	/* Issued under a policy: 7 days before notAfter, 24 h before, notAfter. */
	cr_expect_eq(inventory_next_change(now, false, true, now + 30 * day, now), now + 23 * day);
	cr_expect_eq(inventory_next_change(now, false, true, now + 7 * day, now), now + 6 * day);
	cr_expect_eq(inventory_next_change(now, false, true, now + 3600, now), now + 3600);
	cr_expect_eq(inventory_next_change(now, false, true, now, now), INT64_MAX, "expired");
	cr_expect_eq(inventory_next_change(now, false, false, now + 3600, now), INT64_MAX,
	             "no policy: not in the expiry gauges");
	/* Both: the earlier. */
	cr_expect_eq(inventory_next_change(now - 30, true, true, now + 3600, now), now + 30);
	cr_expect_eq(inventory_next_change(now - 30, true, true, now + 10, now), now + 10);
}
