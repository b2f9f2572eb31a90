/*
 * Kubernetes objects to slim structs: CertificateSigningRequest, Pod,
 * Service, Node, each good field and each bad one.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdlib.h>
#include <string.h>

#include "../../../pkg/config/config.h"
#include "../../../pkg/kobj/kobj.h"

#define ERRLEN 512

/* base64 of "-----BEGIN CERTIFICATE REQUEST-----\nMIIBAA==\n-----END CERTIFICATE REQUEST-----\n" */
#define PEM_B64                                                                                        \
	"LS0tLS1CRUdJTiBDRVJUSUZJQ0FURSBSRVFVRVNULS0tLS0KTUlJQkFBPT0KLS0tLS1FTkQgQ0VSVElGSUNBVEUgUkVR" \
	"VUVTVC0tLS0tCg=="
#define PEM "-----BEGIN CERTIFICATE REQUEST-----\nMIIBAA==\n-----END CERTIFICATE REQUEST-----\n"

static json_t *load(const char *text)
{
	json_error_t e;
	json_t *v = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
	cr_assert_not_null(v, "bad test JSON: %s: %s", e.text, text);
	return v;
}

static json_t *base_csr(void)
{
	return load(
	    "{\"apiVersion\":\"certificates.k8s.io/v1\",\"kind\":\"CertificateSigningRequest\","
	    "\"metadata\":{\"name\":\"csr-1\"},"
	    "\"spec\":{\"request\":\"" PEM_B64 "\",\"signerName\":\"example.com/w\"}}");
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

Test(kobj, csr_full)
{
	char err[ERRLEN] = "";
	char *buf = NULL;
	size_t len = 0;
	cr_assert_eq(util_read_file("tests/testdata/objects/csr.yaml", CONFIG_MAX_FILE, &buf, &len,
	                            err, ERRLEN),
	             0, "%s", err);
	json_t *obj = kobj_read_single(buf, len, "csr.yaml", err, ERRLEN);
	free(buf);
	cr_assert_not_null(obj, "%s", err);
	struct policy_request *r = kobj_request_from_json(obj, err, ERRLEN);
	json_decref(obj);
	cr_assert_not_null(r, "%s", err);

	cr_assert_str_eq(r->name, "csr-7x2kq");
	cr_assert_str_eq(r->uid, "7d8e2c1a-3b4f-4e5d-9a6b-1c2d3e4f5a6b");
	cr_assert_str_eq(r->resource_version, "48213");
	cr_assert_eq(r->creation_unix, 1784973600);
	cr_assert_str_eq(r->signer_name, "example.com/workload-mtls");
	cr_assert_str_eq(r->username, "system:serviceaccount:shop:web");
	cr_assert_str_eq(r->user_uid, "5b0e0d57-6c1b-4f0e-8f3a-0e9d1c2b3a41");
	cr_assert_eq(r->groups.n, 3);
	cr_assert_str_eq(r->groups.v[1], "system:serviceaccounts:shop");
	cr_assert_eq(r->n_extra, 4);
	cr_assert_str_eq(policy_request_extra(r, "authentication.kubernetes.io/pod-name"),
	                 "web-7d9");
	cr_assert_str_eq(policy_request_extra(r, "authentication.kubernetes.io/node-name"),
	                 "node-0");
	cr_assert_eq(r->usages.n, 2);
	cr_assert_str_eq(r->usages.v[0], "digital signature");
	cr_assert(r->has_expiration);
	cr_assert_eq(r->expiration_seconds, 3600);
	cr_assert_not(r->approved || r->denied || r->failed || r->has_certificate);
	cr_assert_eq(r->request_len, strlen(PEM));
	cr_assert_str_eq(r->request_pem, PEM);
	policy_request_free(r);
}

Test(kobj, csr_minimal_and_conditions)
{
	char err[ERRLEN] = "";
	json_t *obj = base_csr();
	struct policy_request *r = kobj_request_from_json(obj, err, ERRLEN);
	cr_assert_not_null(r, "%s", err);
	cr_assert_str_eq(r->username, "");
	cr_assert_str_eq(r->user_uid, "");
	cr_assert_str_eq(r->uid, "");
	cr_assert_eq(r->groups.n, 0);
	cr_assert_eq(r->n_extra, 0);
	cr_assert_eq(r->usages.n, 0);
	cr_assert_not(r->has_expiration);
	cr_assert_eq(r->creation_unix, 0);
	policy_request_free(r);

	set_path(
	    obj, "status.conditions",
	    "[{\"type\":\"Denied\",\"status\":\"True\"},{\"type\":\"Approved\",\"status\":\"False\"},"
	    "{\"type\":\"Failed\",\"status\":\"True\"}]");
	set_path(obj, "status.certificate", "\"LS0t\"");
	set_path(obj, "metadata.creationTimestamp", "null");
	set_path(obj, "spec.expirationSeconds", "null");
	set_path(obj, "spec.extra", "{\"k\":null}");
	r = kobj_request_from_json(obj, err, ERRLEN);
	cr_assert_not_null(r, "%s", err);
	cr_assert_not(r->approved);
	cr_assert(r->denied);
	cr_assert(r->failed);
	cr_assert(r->has_certificate);
	cr_assert_not(r->has_expiration);
	cr_assert_eq(r->n_extra, 1);
	cr_assert_eq(r->extra[0].values.n, 0);
	cr_assert_null(policy_request_extra(r, "k"));
	policy_request_free(r);

	/* kind and apiVersion may be left out (items of a typed list). */
	set_path(obj, "kind", NULL);
	set_path(obj, "apiVersion", NULL);
	set_path(obj, "status.conditions", "[{\"type\":\"Approved\",\"status\":\"True\"}]");
	r = kobj_request_from_json(obj, err, ERRLEN);
	cr_assert_not_null(r, "%s", err);
	cr_assert(r->approved);
	policy_request_free(r);
	json_decref(obj);
}

Test(kobj, creation_timestamps)
{
	static const struct {
		const char *ts;
		long long secs;
	} good[] = {
	    {"1970-01-01T00:00:00Z", 0},
	    {"2026-07-25T10:00:00Z", 1784973600},
	    {"2026-07-25T12:00:00+02:00", 1784973600},
	    {"2026-07-25T09:30:00-00:30", 1784973600},
	    {"2026-07-25T10:00:00.123456789Z", 1784973600},
	    {"2024-02-29T00:00:00Z", 1709164800},
	};
	static const char *const bad[] = {
	    "2026-07-25",
	    "2026-07-25 10:00:00Z",
	    "2026-07-25T10:00:00",
	    "2026-13-01T00:00:00Z",
	    "2023-02-29T00:00:00Z",
	    "2026-07-25T24:00:00Z",
	    "2026-07-25T10:00:60Z",
	    "2026-07-25T10:00:00.Z",
	    "2026-07-25T10:00:00+0200",
	    "2026-07-25T10:00:00Zjunk",
	    "2026-07-25t10:00:00z",
	    "yesterday",
	};
	char err[ERRLEN], val[64];
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		json_t *obj = base_csr();
		snprintf(val, sizeof(val), "\"%s\"", good[i].ts);
		set_path(obj, "metadata.creationTimestamp", val);
		struct policy_request *r = kobj_request_from_json(obj, err, ERRLEN);
		cr_assert_not_null(r, "%s: %s", good[i].ts, err);
		cr_assert_eq(r->creation_unix, good[i].secs, "%s", good[i].ts);
		policy_request_free(r);
		json_decref(obj);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *obj = base_csr();
		char want[128];
		snprintf(val, sizeof(val), "\"%s\"", bad[i]);
		set_path(obj, "metadata.creationTimestamp", val);
		cr_assert_null(kobj_request_from_json(obj, err, ERRLEN), "%s", bad[i]);
		snprintf(want, sizeof(want),
		         "metadata.creationTimestamp: expected an RFC 3339 time, got \"%s\"",
		         bad[i]);
		cr_assert_str_eq(err, want);
		json_decref(obj);
	}
}

Test(kobj, base64)
{
	static const struct {
		const char *b64;
		const char *plain; /* NULL: invalid */
	} cases[] = {
	    {"", ""},
	    {"YQ==", "a"},
	    {"YWI=", "ab"},
	    {"YWJj", "abc"},
	    {"YWJj\nZGVm\r\n", "abcdef"},
	    {"YR==", "a"}, /* unused bits are not checked, as in Go */
	    {"YQ", NULL},
	    {"YQ=", NULL},
	    {"YQ===", NULL},
	    {"Y===", NULL},
	    {"=YQ=", NULL},
	    {"YQ==YQ==", NULL},
	    {"YQ=a", NULL},
	    {"YW Jj", NULL},
	    {"YW-j", NULL},
	    {"YW_j", NULL},
	    {"YWJj\t", NULL},
	};
	char err[ERRLEN];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *obj = base_csr();
		json_object_set_new(json_object_get(obj, "spec"), "request",
		                    json_string(cases[i].b64));
		struct policy_request *r = kobj_request_from_json(obj, err, ERRLEN);
		if (cases[i].plain == NULL) {
			cr_assert_null(r, "accepted \"%s\"", cases[i].b64);
			cr_assert_str_eq(err, "spec.request: not valid base64");
		} else {
			cr_assert_not_null(r, "\"%s\": %s", cases[i].b64, err);
			cr_assert_eq(r->request_len, strlen(cases[i].plain));
			cr_assert_str_eq(r->request_pem, cases[i].plain);
		}
		policy_request_free(r);
		json_decref(obj);
	}
}

Test(kobj, base64_size_cap)
{
	char err[ERRLEN];
	/* KOBJ_MAX_REQUEST bytes decode (for the decoder to refuse as too large
	 * for a CSR); one more is refused here. */
	for (size_t extra = 0; extra <= 1; extra++) {
		size_t n = KOBJ_MAX_REQUEST + extra;
		size_t enc = (n + 2) / 3 * 4;
		char *raw = malloc(n);
		char *b64 = malloc(enc + 1);
		memset(raw, 'A', n);
		static const char tbl[] =
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
		size_t o = 0;
		for (size_t i = 0; i < n; i += 3) {
			unsigned v = (unsigned char)raw[i] << 16;
			if (i + 1 < n)
				v |= (unsigned char)raw[i + 1] << 8;
			if (i + 2 < n)
				v |= (unsigned char)raw[i + 2];
			b64[o++] = tbl[(v >> 18) & 63];
			b64[o++] = tbl[(v >> 12) & 63];
			b64[o++] = i + 1 < n ? tbl[(v >> 6) & 63] : '=';
			b64[o++] = i + 2 < n ? tbl[v & 63] : '=';
		}
		b64[o] = '\0';
		json_t *obj = base_csr();
		json_object_set_new(json_object_get(obj, "spec"), "request", json_string(b64));
		struct policy_request *r = kobj_request_from_json(obj, err, ERRLEN);
		if (extra == 0) {
			cr_assert_not_null(r, "%s", err);
			cr_assert_eq(r->request_len, KOBJ_MAX_REQUEST);
		} else {
			cr_assert_null(r);
			cr_assert_str_eq(err,
			                 "spec.request: larger than 4194304 bytes once decoded");
		}
		policy_request_free(r);
		json_decref(obj);
		free(raw);
		free(b64);
	}
}

struct bad_field {
	const char *path;
	const char *value; /* JSON, or NULL to remove the member */
	const char *err;
};

static const struct bad_field bad_csr_fields[] = {
    {"kind", "\"Pod\"", "kind: expected CertificateSigningRequest, got \"Pod\""},
    {"kind", "5", "kind: expected a string"},
    {"apiVersion", "\"certificates.k8s.io/v1beta1\"",
     "apiVersion: expected certificates.k8s.io/v1, got \"certificates.k8s.io/v1beta1\""},
    {"apiVersion", "[]", "apiVersion: expected certificates.k8s.io/v1"},
    {"metadata", "[]", "metadata: expected an object"},
    {"metadata", NULL, "metadata.name: required"},
    {"metadata.name", NULL, "metadata.name: required"},
    {"metadata.name", "\"\"", "metadata.name: required"},
    {"metadata.name", "7", "metadata.name: expected a string"},
    {"metadata.name", "\"a\\u0000b\"", "metadata.name: contains a NUL byte"},
    {"metadata.uid", "{}", "metadata.uid: expected a string"},
    {"metadata.resourceVersion", "48213", "metadata.resourceVersion: expected a string"},
    {"metadata.creationTimestamp", "0", "metadata.creationTimestamp: expected a string"},
    {"spec", "\"x\"", "spec: expected an object"},
    {"spec", NULL, "spec.request: required"},
    {"spec.request", NULL, "spec.request: required"},
    {"spec.request", "[1]", "spec.request: expected a base64 string"},
    {"spec.request", "\"not base64!\"", "spec.request: not valid base64"},
    {"spec.signerName", NULL, "spec.signerName: required"},
    {"spec.signerName", "true", "spec.signerName: expected a string"},
    {"spec.username", "[\"a\"]", "spec.username: expected a string"},
    {"spec.uid", "1", "spec.uid: expected a string"},
    {"spec.groups", "\"system:nodes\"", "spec.groups: expected an array of strings"},
    {"spec.groups", "[\"a\", 1]", "spec.groups: expected an array of strings"},
    {"spec.groups", "[null]", "spec.groups: expected an array of strings"},
    {"spec.extra", "[]", "spec.extra: expected a map of string arrays"},
    {"spec.extra", "{\"k\": \"v\"}", "spec.extra: expected a map of string arrays"},
    {"spec.extra", "{\"k\": [1]}", "spec.extra: expected a map of string arrays"},
    {"spec.usages", "\"client auth\"", "spec.usages: expected an array of strings"},
    {"spec.usages", "[\"client auth\", {}]", "spec.usages: expected an array of strings"},
    {"spec.expirationSeconds", "\"3600\"", "spec.expirationSeconds: expected an integer"},
    {"spec.expirationSeconds", "3600.5", "spec.expirationSeconds: expected an integer"},
    {"status", "1", "status: expected an object"},
    {"status.conditions", "{}", "status.conditions: expected an array of objects"},
    {"status.conditions", "[\"Approved\"]", "status.conditions: expected an array of objects"},
    {"status.conditions", "[{\"type\":\"Approved\",\"status\":true}]",
     "status.conditions[0].status: expected a string"},
    {"status.conditions", "[{\"status\":\"True\"},{\"type\":1}]",
     "status.conditions[1].type: expected a string"},
    {"status.certificate", "{}", "status.certificate: expected a base64 string"},
};

#define N_BAD_CSR (sizeof(bad_csr_fields) / sizeof(bad_csr_fields[0]))

/* Parameters cross into the test process by value: pass indices. */
ParameterizedTestParameters(kobj, csr_bad_field)
{
	static size_t idx[N_BAD_CSR];
	for (size_t i = 0; i < N_BAD_CSR; i++)
		idx[i] = i;
	return cr_make_param_array(size_t, idx, N_BAD_CSR);
}

ParameterizedTest(size_t *i, kobj, csr_bad_field)
{
	const struct bad_field *c = &bad_csr_fields[*i];
	char err[ERRLEN] = "";
	json_t *obj = base_csr();
	set_path(obj, c->path, c->value);
	struct policy_request *r = kobj_request_from_json(obj, err, ERRLEN);
	cr_assert_null(r, "accepted %s = %s", c->path, c->value ? c->value : "(removed)");
	cr_assert_str_eq(err, c->err, "%s = %s", c->path, c->value ? c->value : "(removed)");
	json_decref(obj);
}

Test(kobj, csr_not_an_object)
{
	char err[ERRLEN];
	json_t *v = load("[]");
	cr_assert_null(kobj_request_from_json(v, err, ERRLEN));
	cr_assert_str_eq(err, "expected an object");
	cr_assert_null(kobj_pod_from_json(v, err, ERRLEN));
	cr_assert_null(kobj_service_from_json(v, err, ERRLEN));
	cr_assert_null(kobj_node_from_json(v, err, ERRLEN));
	json_decref(v);
}

Test(kobj, pod_full)
{
	char err[ERRLEN];
	json_t *obj = load(
	    "{\"apiVersion\":\"v1\",\"kind\":\"Pod\","
	    "\"metadata\":{\"name\":\"web-7d9\",\"namespace\":\"shop\",\"uid\":\"u1\","
	    "\"labels\":{\"app\":\"web\",\"tier\":\"front\"},\"annotations\":{\"a\":\"b\"}},"
	    "\"spec\":{\"serviceAccountName\":\"web\",\"serviceAccount\":\"old\",\"nodeName\":\"node-0\","
	    "\"hostname\":\"web-0\",\"subdomain\":\"web-headless\",\"hostNetwork\":false,"
	    "\"containers\":[{\"name\":\"c\"}]},"
	    "\"status\":{\"phase\":\"Running\",\"podIP\":\"10.0.0.1\","
	    "\"podIPs\":[{\"ip\":\"10.0.0.1\"},{\"ip\":\"fd00::1\"}]}}");
	struct policy_pod *p = kobj_pod_from_json(obj, err, ERRLEN);
	cr_assert_not_null(p, "%s", err);
	cr_assert_str_eq(p->ns, "shop");
	cr_assert_str_eq(p->name, "web-7d9");
	cr_assert_str_eq(p->uid, "u1");
	cr_assert_str_eq(p->service_account, "web");
	cr_assert_str_eq(p->node_name, "node-0");
	cr_assert_str_eq(p->phase, "Running");
	cr_assert_str_eq(p->hostname, "web-0");
	cr_assert_str_eq(p->subdomain, "web-headless");
	cr_assert_not(p->deleting);
	cr_assert_not(p->host_network);
	cr_assert_eq(p->ips.n, 2);
	cr_assert_str_eq(p->ips.v[1], "fd00::1");
	cr_assert_eq(p->labels.n, 2);
	cr_assert_str_eq(p->labels.v[0].key, "app");
	cr_assert_str_eq(p->labels.v[0].value, "web");
	policy_pod_free(p);
	json_decref(obj);
}

Test(kobj, pod_fallbacks_and_defaults)
{
	char err[ERRLEN];
	json_t *obj = load("{\"metadata\":{\"name\":\"a\",\"namespace\":\"n\","
	                   "\"deletionTimestamp\":\"2026-07-25T10:00:00Z\"},"
	                   "\"spec\":{\"serviceAccount\":\"legacy\"},"
	                   "\"status\":{\"podIP\":\"10.1.2.3\",\"podIPs\":[]}}");
	struct policy_pod *p = kobj_pod_from_json(obj, err, ERRLEN);
	cr_assert_not_null(p, "%s", err);
	cr_assert_str_eq(p->service_account, "legacy");
	cr_assert(p->deleting);
	cr_assert_eq(p->ips.n, 1);
	cr_assert_str_eq(p->ips.v[0], "10.1.2.3");
	cr_assert_str_eq(p->uid, "");
	cr_assert_str_eq(p->node_name, "");
	cr_assert_str_eq(p->phase, "");
	cr_assert_str_eq(p->hostname, "");
	cr_assert_str_eq(p->subdomain, "");
	cr_assert_not(p->host_network);
	cr_assert_eq(p->labels.n, 0);
	policy_pod_free(p);
	json_decref(obj);

	obj =
	    load("{\"metadata\":{\"name\":\"a\",\"namespace\":\"n\",\"deletionTimestamp\":null}}");
	p = kobj_pod_from_json(obj, err, ERRLEN);
	cr_assert_not_null(p, "%s", err);
	cr_assert_str_eq(p->service_account, "");
	cr_assert_not(p->deleting);
	cr_assert_eq(p->ips.n, 0);
	policy_pod_free(p);
	json_decref(obj);
}

static const struct bad_field bad_pod_fields[] = {
    {"kind", "\"Service\"", "kind: expected Pod, got \"Service\""},
    {"metadata.name", NULL, "metadata.name: required"},
    {"metadata.namespace", NULL, "metadata.namespace: required"},
    {"metadata.namespace", "\"\"", "metadata.namespace: required"},
    {"metadata.labels", "[]", "metadata.labels: expected a map of strings"},
    {"metadata.labels", "{\"a\":1}", "metadata.labels: expected a map of strings"},
    {"metadata.deletionTimestamp", "true", "metadata.deletionTimestamp: expected a string"},
    {"spec", "[]", "spec: expected an object"},
    {"spec.serviceAccountName", "1", "spec.serviceAccountName: expected a string"},
    {"spec.nodeName", "{}", "spec.nodeName: expected a string"},
    {"spec.hostname", "[]", "spec.hostname: expected a string"},
    {"spec.subdomain", "false", "spec.subdomain: expected a string"},
    {"spec.hostNetwork", "\"true\"", "spec.hostNetwork: expected a boolean"},
    {"spec.hostNetwork", "1", "spec.hostNetwork: expected a boolean"},
    {"status.phase", "1", "status.phase: expected a string"},
    {"status.podIPs", "\"10.0.0.1\"", "status.podIPs: expected an array of objects"},
    {"status.podIPs", "[\"10.0.0.1\"]", "status.podIPs: expected an array of objects"},
    {"status.podIPs", "[{\"ip\":\"10.0.0.1\"},{}]", "status.podIPs[1].ip: required"},
    {"status.podIP", "[]", "status.podIP: expected a string"},
};

#define N_BAD_POD (sizeof(bad_pod_fields) / sizeof(bad_pod_fields[0]))

ParameterizedTestParameters(kobj, pod_bad_field)
{
	static size_t idx[N_BAD_POD];
	for (size_t i = 0; i < N_BAD_POD; i++)
		idx[i] = i;
	return cr_make_param_array(size_t, idx, N_BAD_POD);
}

ParameterizedTest(size_t *i, kobj, pod_bad_field)
{
	const struct bad_field *c = &bad_pod_fields[*i];
	char err[ERRLEN] = "";
	json_t *obj = load("{\"kind\":\"Pod\",\"metadata\":{\"name\":\"a\",\"namespace\":\"n\"}}");
	set_path(obj, c->path, c->value);
	struct policy_pod *p = kobj_pod_from_json(obj, err, ERRLEN);
	cr_assert_null(p, "accepted %s", c->path);
	cr_assert_str_eq(err, c->err);
	json_decref(obj);
}

Test(kobj, pod_host_network)
{
	char err[ERRLEN];
	json_t *obj = load("{\"metadata\":{\"name\":\"a\",\"namespace\":\"n\"},"
	                   "\"spec\":{\"hostNetwork\":true,\"nodeName\":\"node-1\"},"
	                   "\"status\":{\"podIP\":\"192.168.1.10\"}}");
	struct policy_pod *p = kobj_pod_from_json(obj, err, ERRLEN);
	cr_assert_not_null(p, "%s", err);
	cr_assert(p->host_network);
	cr_assert_eq(p->ips.n, 1, "the IPs are kept; the policy gives them no names");
	policy_pod_free(p);
	set_path(obj, "spec.hostNetwork", "null");
	p = kobj_pod_from_json(obj, err, ERRLEN);
	cr_assert_not_null(p, "%s", err);
	cr_assert_not(p->host_network);
	policy_pod_free(p);
	json_decref(obj);
}

struct svc_type_case {
	const char *type; /* JSON, NULL: absent */
	bool external_name;
	const char *err; /* NULL: accepted */
};

static const struct svc_type_case svc_type_cases[] = {
    {NULL, false, NULL},
    {"null", false, NULL},
    {"\"ClusterIP\"", false, NULL},
    {"\"NodePort\"", false, NULL},
    {"\"LoadBalancer\"", false, NULL},
    {"\"ExternalName\"", true, NULL},
    {"\"externalname\"", false, NULL}, /* the API's enum is case-sensitive */
    {"1", false, "spec.type: expected a string"},
    {"\"External\\u0000Name\"", false, "spec.type: contains a NUL byte"},
};

#define N_SVC_TYPE (sizeof(svc_type_cases) / sizeof(svc_type_cases[0]))

ParameterizedTestParameters(kobj, service_type)
{
	static size_t idx[N_SVC_TYPE];
	for (size_t i = 0; i < N_SVC_TYPE; i++)
		idx[i] = i;
	return cr_make_param_array(size_t, idx, N_SVC_TYPE);
}

ParameterizedTest(size_t *i, kobj, service_type)
{
	const struct svc_type_case *c = &svc_type_cases[*i];
	char err[ERRLEN] = "";
	json_t *obj = load("{\"kind\":\"Service\",\"metadata\":{\"name\":\"web\",\"namespace\":"
	                   "\"shop\"},\"spec\":{\"selector\":{\"app\":\"web\"},"
	                   "\"externalName\":\"web.example.com\"}}");
	if (c->type != NULL)
		set_path(obj, "spec.type", c->type);
	struct policy_service *s = kobj_service_from_json(obj, err, ERRLEN);
	if (c->err != NULL) {
		cr_assert_null(s, "accepted spec.type %s", c->type);
		cr_assert_str_eq(err, c->err);
	} else {
		cr_assert_not_null(s, "spec.type %s: %s", c->type ? c->type : "absent", err);
		cr_assert_eq(s->external_name, c->external_name, "spec.type %s",
		             c->type ? c->type : "absent");
		cr_assert_eq(s->selector.n, 1);
	}
	policy_service_free(s);
	json_decref(obj);
}

Test(kobj, service)
{
	char err[ERRLEN];
	json_t *obj =
	    load("{\"kind\":\"Service\",\"metadata\":{\"name\":\"web\",\"namespace\":\"shop\"},"
	         "\"spec\":{\"selector\":{\"app\":\"web\"},\"ports\":[{\"port\":443}]}}");
	struct policy_service *s = kobj_service_from_json(obj, err, ERRLEN);
	cr_assert_not_null(s, "%s", err);
	cr_assert_str_eq(s->ns, "shop");
	cr_assert_str_eq(s->name, "web");
	cr_assert_eq(s->selector.n, 1);
	cr_assert_str_eq(s->selector.v[0].key, "app");
	cr_assert_str_eq(s->selector.v[0].value, "web");
	policy_service_free(s);

	set_path(obj, "spec.selector", NULL);
	s = kobj_service_from_json(obj, err, ERRLEN);
	cr_assert_not_null(s, "%s", err);
	cr_assert_eq(s->selector.n, 0);
	policy_service_free(s);

	set_path(obj, "spec.selector", "{\"app\":[\"web\"]}");
	cr_assert_null(kobj_service_from_json(obj, err, ERRLEN));
	cr_assert_str_eq(err, "spec.selector: expected a map of strings");
	set_path(obj, "spec.selector", NULL);
	set_path(obj, "metadata.namespace", NULL);
	cr_assert_null(kobj_service_from_json(obj, err, ERRLEN));
	cr_assert_str_eq(err, "metadata.namespace: required");
	set_path(obj, "kind", "\"Node\"");
	cr_assert_null(kobj_service_from_json(obj, err, ERRLEN));
	cr_assert_str_eq(err, "kind: expected Service, got \"Node\"");
	json_decref(obj);
}

Test(kobj, node)
{
	char err[ERRLEN];
	json_t *obj =
	    load("{\"kind\":\"Node\",\"metadata\":{\"name\":\"node-0\"},"
	         "\"status\":{\"addresses\":[{\"type\":\"InternalIP\",\"address\":\"172.18.0.2\"},"
	         "{\"type\":\"Hostname\",\"address\":\"node-0\"}]}}");
	struct policy_node *n = kobj_node_from_json(obj, err, ERRLEN);
	cr_assert_not_null(n, "%s", err);
	cr_assert_str_eq(n->name, "node-0");
	cr_assert_str_eq(n->uid, "");
	cr_assert_eq(n->n_addresses, 2);
	cr_assert_str_eq(n->addresses[0].type, "InternalIP");
	cr_assert_str_eq(n->addresses[0].address, "172.18.0.2");
	cr_assert_str_eq(n->addresses[1].type, "Hostname");
	policy_node_free(n);

	set_path(obj, "status.addresses", "[]");
	set_path(obj, "metadata.uid", "\"node-uid-0\"");
	n = kobj_node_from_json(obj, err, ERRLEN);
	cr_assert_not_null(n, "%s", err);
	cr_assert_eq(n->n_addresses, 0);
	cr_assert_str_eq(n->uid, "node-uid-0");
	policy_node_free(n);

	static const struct {
		const char *path, *value, *err;
	} bad[] = {
	    {"status.addresses", "{}", "status.addresses: expected an array of objects"},
	    {"status.addresses", "[1]", "status.addresses: expected an array of objects"},
	    {"status.addresses", "[{\"type\":\"InternalIP\"}]",
	     "status.addresses[0].address: required"},
	    {"status.addresses",
	     "[{\"type\":\"A\",\"address\":\"b\"},{\"type\":2,\"address\":\"c\"}]",
	     "status.addresses[1].type: expected a string"},
	    {"metadata.name", NULL, "metadata.name: required"},
	    {"kind", "\"Pod\"", "kind: expected Node, got \"Pod\""},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		set_path(obj, bad[i].path, bad[i].value);
		cr_assert_null(kobj_node_from_json(obj, err, ERRLEN), "%s", bad[i].path);
		cr_assert_str_eq(err, bad[i].err);
	}
	json_decref(obj);
}
