/*
 * PodCertificateRequest (certificates.k8s.io/v1) to struct policy_pcr:
 * every field, the stub's base64 and its cap, and hostile values.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../../pkg/kobj/kobj.h"

#define ERRLEN 512

/* base64 of the three bytes 0x30 0x03 0x02 */
#define STUB_B64 "MAMC"

static json_t *load(const char *text)
{
	json_error_t e;
	json_t *v = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
	cr_assert_not_null(v, "bad test JSON: %s: %s", e.text, text);
	return v;
}

static json_t *base_pcr(void)
{
	return load("{\"apiVersion\":\"certificates.k8s.io/v1\",\"kind\":\"PodCertificateRequest\","
	            "\"metadata\":{\"name\":\"web-0-abc\",\"namespace\":\"shop\",\"uid\":\"u-1\","
	            "\"resourceVersion\":\"99\"},"
	            "\"spec\":{\"signerName\":\"example.com/w\",\"podName\":\"web-0\","
	            "\"podUID\":\"pod-uid\",\"serviceAccountName\":\"web\","
	            "\"serviceAccountUID\":\"sa-uid\",\"nodeName\":\"node-1\","
	            "\"nodeUID\":\"node-uid\",\"maxExpirationSeconds\":86400,"
	            "\"stubPKCS10Request\":\"" STUB_B64 "\","
	            "\"unverifiedUserAnnotations\":{\"example.com/dns\":\"evil.example.com\"}}}");
}

/* Set (or, with value NULL, remove) the member at a dotted path. */
static void set_path(json_t *obj, const char *path, const char *value)
{
	char buf[128];
	snprintf(buf, sizeof(buf), "%s", path);
	char *dot, *key = buf;
	while ((dot = strchr(key, '.')) != NULL) {
		*dot = '\0';
		json_t *next = json_object_get(obj, key);
		if (!json_is_object(next)) {
			next = json_object();
			json_object_set_new(obj, key, next);
		}
		obj = next;
		key = dot + 1;
	}
	if (value == NULL)
		json_object_del(obj, key);
	else
		json_object_set_new(obj, key, load(value));
}

Test(kobj_pcr, full)
{
	char err[ERRLEN];
	json_t *obj = base_pcr();
	struct policy_pcr *p = kobj_pcr_from_json(obj, err, ERRLEN);

	cr_assert_not_null(p, "%s", err);
	cr_expect_str_eq(p->ns, "shop");
	cr_expect_str_eq(p->name, "web-0-abc");
	cr_expect_str_eq(p->uid, "u-1");
	cr_expect_str_eq(p->resource_version, "99");
	cr_expect_str_eq(p->signer_name, "example.com/w");
	cr_expect_str_eq(p->pod_name, "web-0");
	cr_expect_str_eq(p->pod_uid, "pod-uid");
	cr_expect_str_eq(p->service_account_name, "web");
	cr_expect_str_eq(p->service_account_uid, "sa-uid");
	cr_expect_str_eq(p->node_name, "node-1");
	cr_expect_str_eq(p->node_uid, "node-uid");
	cr_expect_eq(p->max_expiration_seconds, 86400);
	cr_assert_eq(p->stub_len, 3);
	cr_expect(memcmp(p->stub_der, "\x30\x03\x02", 3) == 0);
	cr_expect_not(p->issued || p->denied || p->failed || p->has_chain);
	policy_pcr_free(p);
	json_decref(obj);
}

Test(kobj_pcr, minimal_and_conditions)
{
	char err[ERRLEN];
	json_t *obj = base_pcr();
	struct policy_pcr *p;

	json_object_del(obj, "kind");
	json_object_del(obj, "apiVersion");
	set_path(obj, "spec.maxExpirationSeconds", NULL);
	set_path(obj, "spec.nodeUID", NULL);
	set_path(obj, "spec.serviceAccountUID", "null");
	set_path(obj, "status.conditions",
	         "[{\"type\":\"Issued\",\"status\":\"True\"},{\"type\":\"Denied\",\"status\":"
	         "\"False\"},{\"type\":\"Approved\",\"status\":\"True\"}]");
	set_path(obj, "status.certificateChain", "\"-----BEGIN CERTIFICATE-----\"");
	p = kobj_pcr_from_json(obj, err, ERRLEN);
	cr_assert_not_null(p, "%s", err);
	cr_expect_eq(p->max_expiration_seconds, 0);
	cr_expect_str_eq(p->node_uid, "");
	cr_expect_str_eq(p->service_account_uid, "");
	cr_expect(p->issued);
	cr_expect_not(p->denied);
	cr_expect_not(p->failed);
	cr_expect(p->has_chain);
	policy_pcr_free(p);

	set_path(obj, "status.conditions",
	         "[{\"type\":\"Denied\",\"status\":\"True\"},{\"type\":\"Failed\",\"status\":"
	         "\"True\"}]");
	set_path(obj, "status.certificateChain", "\"\"");
	p = kobj_pcr_from_json(obj, err, ERRLEN);
	cr_assert_not_null(p, "%s", err);
	cr_expect(p->denied && p->failed && !p->issued && !p->has_chain);
	policy_pcr_free(p);
	json_decref(obj);
}

/* The stub is capped once decoded; the cap itself is accepted. */
Test(kobj_pcr, stub_cap)
{
	char err[ERRLEN];
	json_t *obj = base_pcr();
	size_t n = POLICY_PCR_MAX_STUB;
	char *raw = calloc(1, n + 3);
	char *b64;
	struct policy_pcr *p;

	cr_assert_not_null(raw);
	b64 = util_base64_encode(raw, n);
	json_object_set_new(json_object_get(obj, "spec"), "stubPKCS10Request", json_string(b64));
	free(b64);
	p = kobj_pcr_from_json(obj, err, ERRLEN);
	cr_assert_not_null(p, "%s", err);
	cr_expect_eq(p->stub_len, n);
	policy_pcr_free(p);

	b64 = util_base64_encode(raw, n + 3);
	json_object_set_new(json_object_get(obj, "spec"), "stubPKCS10Request", json_string(b64));
	free(b64);
	cr_expect_null(kobj_pcr_from_json(obj, err, ERRLEN));
	cr_expect(strstr(err, "spec.stubPKCS10Request: larger than") != NULL, "%s", err);
	free(raw);
	json_decref(obj);
}

Test(kobj_pcr, bad_fields)
{
	static const struct {
		const char *path, *value, *err;
	} bad[] = {
	    {"kind", "\"CertificateSigningRequest\"",
	     "kind: expected PodCertificateRequest, got \"CertificateSigningRequest\""},
	    {"kind", "7", "kind: expected a string"},
	    {"apiVersion", "\"certificates.k8s.io/v1beta1\"",
	     "apiVersion: expected certificates.k8s.io/v1, got \"certificates.k8s.io/v1beta1\""},
	    {"metadata", "[]", "metadata: expected an object"},
	    {"metadata.name", NULL, "metadata.name: required"},
	    {"metadata.namespace", "\"\"", "metadata.namespace: required"},
	    {"metadata.namespace", "\"a\\u0000b\"", "metadata.namespace: contains a NUL byte"},
	    {"metadata.uid", "1", "metadata.uid: expected a string"},
	    {"spec", "\"x\"", "spec: expected an object"},
	    {"spec.signerName", NULL, "spec.signerName: required"},
	    {"spec.podName", NULL, "spec.podName: required"},
	    {"spec.podUID", "{}", "spec.podUID: expected a string"},
	    {"spec.serviceAccountName", "\"\"", "spec.serviceAccountName: required"},
	    {"spec.serviceAccountUID", "[]", "spec.serviceAccountUID: expected a string"},
	    {"spec.nodeName", NULL, "spec.nodeName: required"},
	    {"spec.nodeUID", "true", "spec.nodeUID: expected a string"},
	    {"spec.maxExpirationSeconds", "\"86400\"",
	     "spec.maxExpirationSeconds: expected a positive integer"},
	    {"spec.maxExpirationSeconds", "0",
	     "spec.maxExpirationSeconds: expected a positive integer"},
	    {"spec.maxExpirationSeconds", "-5",
	     "spec.maxExpirationSeconds: expected a positive integer"},
	    {"spec.maxExpirationSeconds", "1.5",
	     "spec.maxExpirationSeconds: expected a positive integer"},
	    {"spec.stubPKCS10Request", NULL, "spec.stubPKCS10Request: required"},
	    {"spec.stubPKCS10Request", "\"\"", "spec.stubPKCS10Request: required"},
	    {"spec.stubPKCS10Request", "5", "spec.stubPKCS10Request: expected a base64 string"},
	    {"spec.stubPKCS10Request", "\"MAM\"", "spec.stubPKCS10Request: not valid base64"},
	    {"spec.stubPKCS10Request", "\"MA*C\"", "spec.stubPKCS10Request: not valid base64"},
	    {"status", "1", "status: expected an object"},
	    {"status.conditions", "{}", "status.conditions: expected an array of objects"},
	    {"status.conditions", "[\"Issued\"]",
	     "status.conditions: expected an array of objects"},
	    {"status.conditions", "[{\"type\":1}]", "status.conditions[0].type: expected a string"},
	    {"status.certificateChain", "[]", "status.certificateChain: expected a string"},
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char err[ERRLEN] = "";
		json_t *obj = base_pcr();
		set_path(obj, bad[i].path, bad[i].value);
		struct policy_pcr *p = kobj_pcr_from_json(obj, err, ERRLEN);
		cr_expect_null(p, "[%s] accepted", bad[i].path);
		cr_expect_str_eq(err, bad[i].err, "[%s]", bad[i].path);
		policy_pcr_free(p);
		json_decref(obj);
	}
}

Test(kobj_pcr, not_an_object)
{
	char err[ERRLEN];
	json_t *v = load("[1]");
	cr_expect_null(kobj_pcr_from_json(v, err, ERRLEN));
	cr_expect_str_eq(err, "expected an object");
	cr_expect_null(kobj_pcr_from_json(NULL, err, ERRLEN));
	json_decref(v);
}
