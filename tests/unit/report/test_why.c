/*
 * pkg/report, `why`: the record of one CSR or PodCertificateRequest
 * decided against objects read through a struct report_why_io that
 * answers from memory (no API server): what is read, the decision, the
 * checks and what the object carries now; and where the policy file comes
 * from.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../../pkg/config/config.h"
#include "../../../pkg/report/report.h"
#include "../../../pkg/util/util.h"
#include "rt.h"

#define W "example.com/workload"
#define KC "kubernetes.io/kube-apiserver-client-kubelet"
#define SPIFFE "URI:spiffe://cluster.local/ns/shop/sa/web"
#define CSRS "/apis/certificates.k8s.io/v1/certificatesigningrequests/"
#define PCRS "/apis/certificates.k8s.io/v1/namespaces/shop/podcertificaterequests/"
#define SARS "/apis/authorization.k8s.io/v1/subjectaccessreviews"

static const char policy_yaml[] = "policies:\n"
                                  "  - name: workload\n"
                                  "    signerName: " W "\n"
                                  "    type: workload\n"
                                  "    issue:\n"
                                  "      caCertFile: /nonexistent/tls.crt\n"
                                  "      caKeyFile: /nonexistent/tls.key\n"
                                  "    podCertificates: true\n"
                                  "  - name: kubelet-client\n"
                                  "    signerName: " KC "\n"
                                  "    type: kubelet-client\n";

static struct policy_set *load_set(void)
{
	return rt_policy_set(policy_yaml);
}

/* ---------------------------------------------------------------- the fake API */

struct answer {
	char *method, *path, *body;
	long status;
};

struct fake {
	struct answer a[16];
	size_t n;
	struct util_strv asked; /* "METHOD PATH", in order */
};

static void answer(struct fake *f, const char *method, const char *path, long status,
                   const char *body)
{
	cr_assert_lt(f->n, sizeof(f->a) / sizeof(f->a[0]));
	f->a[f->n++] =
	    (struct answer){util_xstrdup(method), util_xstrdup(path), util_xstrdup(body), status};
}

/* Answer GET path with obj (stolen). */
static void answer_obj(struct fake *f, const char *path, json_t *obj)
{
	char *s = json_dumps(obj, JSON_COMPACT);
	answer(f, "GET", path, 200, s);
	free(s);
	json_decref(obj);
}

static long fake_request(void *ctx, const char *method, const char *path, const char *body,
                         size_t body_len, char **resp, char *err, size_t errlen)
{
	struct fake *f = ctx;
	char *what = util_xasprintf("%s %s", method, path);
	(void)body;
	(void)body_len;
	(void)err;
	(void)errlen;
	util_strv_push(&f->asked, what);
	free(what);
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->a[i].method, method) == 0 && strcmp(f->a[i].path, path) == 0) {
			*resp = util_xstrdup(f->a[i].body);
			return f->a[i].status;
		}
	*resp = util_xstrdup("{\"kind\":\"Status\",\"code\":404,\"reason\":\"NotFound\"}");
	return 404;
}

static void fake_free(struct fake *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->a[i].method);
		free(f->a[i].path);
		free(f->a[i].body);
	}
	util_strv_free(&f->asked);
}

static bool was_asked(const struct fake *f, const char *prefix)
{
	for (size_t i = 0; i < f->asked.n; i++)
		if (strncmp(f->asked.v[i], prefix, strlen(prefix)) == 0)
			return true;
	return false;
}

/* ---------------------------------------------------------------- objects */

static json_t *load(const char *text)
{
	json_error_t e;
	json_t *o = json_loads(text, 0, &e);
	cr_assert_not_null(o, "%s: %s", e.text, text);
	return o;
}

/* The pod shop/NAME with uid, service account web, on node. */
static json_t *pod(const char *name, const char *uid, const char *node)
{
	char *text =
	    util_xasprintf("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\","
	                   "\"namespace\":\"shop\",\"uid\":\"%s\",\"labels\":{\"app\":\"web\"}},"
	                   "\"spec\":{\"serviceAccountName\":\"web\",\"nodeName\":\"%s\"},"
	                   "\"status\":{\"phase\":\"Running\",\"podIPs\":[{\"ip\":\"10.0.0.7\"}]}}",
	                   name, uid, node);
	json_t *o = load(text);
	free(text);
	return o;
}

/* A workload CSR of system:serviceaccount:shop:web, bound to pod web-0
 * (rt_csr's claims: uid pod-uid-1, node node-1), with the groups a
 * service account has. */
static json_t *workload_csr(const char *name, const char *sans, const char *conds)
{
	char *req = rt_request(NULL, sans, NULL);
	json_t *o = rt_csr(name, W, "system:serviceaccount:shop:web", "web-0", time(NULL) - 60, req,
	                   conds, NULL);
	json_t *groups = json_array();
	json_array_append_new(groups, json_string("system:serviceaccounts"));
	json_array_append_new(groups, json_string("system:serviceaccounts:shop"));
	json_array_append_new(groups, json_string("system:authenticated"));
	json_object_set_new(json_object_get(o, "spec"), "groups", groups);
	free(req);
	return o;
}

static int why(struct fake *f, const struct policy_set *set, const char *name, json_t **rec,
               char *err, size_t errlen)
{
	const struct report_why_io io = {.ctx = f, .request = fake_request};
	return report_why_record(&io, set, name, rec, err, errlen);
}

static const char *str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "(absent)";
}

/* The result of the check of reason in rec's checks, or "(absent)". */
static const char *check_result(const json_t *rec, const char *reason)
{
	size_t i;
	const json_t *c;
	json_array_foreach(json_object_get(rec, "checks"), i, c)
	{
		if (strcmp(str(c, "reason"), reason) == 0)
			return str(c, "result");
	}
	return "(absent)";
}

/* ---------------------------------------------------------------- CSRs */

Test(why, csr_approved_with_what_was_read)
{
	struct fake f = {0};
	struct policy_set *set = load_set();
	json_t *rec = NULL;
	char err[1024] = "";
	answer_obj(&f, CSRS "csr-ok", workload_csr("csr-ok", SPIFFE, NULL));
	answer_obj(&f, "/api/v1/namespaces/shop/pods/web-0", pod("web-0", "pod-uid-1", "node-1"));
	answer(&f, "GET", "/api/v1/namespaces/shop/services", 200, "{\"items\":[]}");

	int rc = why(&f, set, "csr-ok", &rec, err, sizeof(err));
	cr_assert_eq(rc, 0, "%s", err);
	cr_assert_not_null(rec);
	cr_expect_str_eq(str(rec, "decision"), "approve");
	cr_expect_str_eq(str(rec, "reason"), "AutoApproved");
	cr_expect_str_eq(str(rec, "policy"), "workload");
	cr_expect_str_eq(str(rec, "csr"), "csr-ok");
	cr_expect_null(json_object_get(rec, "alreadyDecided"), "pending");
	cr_expect_str_eq(check_result(rec, "PodNotFound"), "pass");
	cr_expect_str_eq(check_result(rec, "SANNotAllowed"), "pass");
	const json_t *objs = json_object_get(rec, "objects");
	cr_assert_eq(json_array_size(objs), 2);
	cr_expect_str_eq(str(json_array_get(objs, 0), "kind"), "Pod");
	cr_expect_str_eq(str(json_array_get(objs, 1), "kind"), "ServiceList");
	cr_expect(!was_asked(&f, "POST"), "no SubjectAccessReview for a workload");
	json_decref(rec);
	policy_set_free(set);
	fake_free(&f);
}

Test(why, csr_not_found_and_bad_names)
{
	struct fake f = {0};
	struct policy_set *set = load_set();
	json_t *rec = NULL;
	char err[1024] = "";
	cr_expect_eq(why(&f, set, "nope", &rec, err, sizeof(err)), 2);
	cr_expect_null(rec);
	cr_expect_str_eq(err, "no such CertificateSigningRequest");
	static const char *const bad[] = {"", "/x", "ns/", "a/b/c"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_expect_eq(why(&f, set, bad[i], &rec, err, sizeof(err)), 2, "%s", bad[i]);
		cr_expect_null(rec);
	}
	policy_set_free(set);
	fake_free(&f);
}

/* ---------------------------------------------------------------- the policy file */

Test(why, no_policy_file_skips_every_csr)
{
	struct fake f = {0};
	json_t *rec = NULL;
	char err[1024] = "", *note = NULL;
	size_t note_len = 0;
	FILE *nf = open_memstream(&note, &note_len);
	unsetenv("CSR_APPROVER_CONFIG");
	struct policy_set *set =
	    report_policy_load(NULL, "/nonexistent/policy.yaml", "why", nf, err, sizeof(err));
	fclose(nf);
	cr_assert_not_null(set, "no file is no policies, not an error: %s", err);
	cr_expect_eq(set->n_rules, 0);
	cr_expect_str_eq(note,
	                 "csr-approver why: no policy file found (--config, $CSR_APPROVER_CONFIG, "
	                 "/nonexistent/policy.yaml): no policies, so every CSR is skipped\n");

	answer_obj(&f, CSRS "csr-ok", workload_csr("csr-ok", SPIFFE, NULL));
	cr_expect_eq(why(&f, set, "csr-ok", &rec, err, sizeof(err)), 3, "%s", err);
	cr_assert_not_null(rec);
	cr_expect_str_eq(str(rec, "decision"), "skip");
	cr_expect_str_eq(str(rec, "reason"), "NoPolicy");
	cr_expect(json_is_null(json_object_get(rec, "policy")));
	cr_expect_eq(json_array_size(json_object_get(rec, "objects")), 0, "nothing else read");
	json_decref(rec);
	policy_set_free(set);
	free(note);
	fake_free(&f);
}

Test(why, the_policy_file_flag_then_env_then_default)
{
	char tmp[] = "/tmp/why-policy-XXXXXX";
	int fd = mkstemp(tmp);
	cr_assert_geq(fd, 0);
	close(fd);
	unsetenv("CSR_APPROVER_CONFIG");
	cr_expect_null(report_policy_path(NULL, "/nonexistent/policy.yaml"));
	cr_expect_str_eq(report_policy_path(NULL, tmp), tmp);
	setenv("CSR_APPROVER_CONFIG", "/from/env.yaml", 1);
	cr_expect_str_eq(report_policy_path(NULL, tmp), "/from/env.yaml");
	cr_expect_str_eq(report_policy_path("/from/flag.yaml", tmp), "/from/flag.yaml");
	setenv("CSR_APPROVER_CONFIG", "", 1);
	cr_expect_str_eq(report_policy_path(NULL, tmp), tmp, "an empty variable is unset");
	unlink(tmp);
}

/* ---------------------------------------------------------------- PodCertificateRequests */

/* ServiceAccount shop/web and Node node-2 with these uids (rt_pcr names
 * sa-uid and node-uid), answered. */
static void answer_ids(struct fake *f, const char *sa_uid, const char *node_uid)
{
	char *sa = util_xasprintf("{\"apiVersion\":\"v1\",\"kind\":\"ServiceAccount\","
	                          "\"metadata\":{\"name\":\"web\",\"namespace\":\"shop\","
	                          "\"uid\":\"%s\"}}",
	                          sa_uid);
	char *node = util_xasprintf("{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":"
	                            "{\"name\":\"node-2\",\"uid\":\"%s\"},\"status\":{}}",
	                            node_uid);
	answer(f, "GET", "/api/v1/namespaces/shop/serviceaccounts/web", 200, sa);
	answer(f, "GET", "/api/v1/nodes/node-2", 200, node);
	free(sa);
	free(node);
}

/* The PodCertificateRequest shop/NAME of pod web-1 (rt_pcr: uid pod-uid-2,
 * node node-2), that pod, its service account and its node, answered. */
static void answer_pcr(struct fake *f, const char *name, const char *conds, const char *chain)
{
	char *path = util_xasprintf(PCRS "%s", name);
	answer_obj(f, path, rt_pcr("shop", name, W, "web-1", time(NULL) - 60, conds, chain));
	answer_obj(f, "/api/v1/namespaces/shop/pods/web-1", pod("web-1", "pod-uid-2", "node-2"));
	answer(f, "GET", "/api/v1/namespaces/shop/services", 200, "{\"items\":[]}");
	answer_ids(f, "sa-uid", "node-uid");
	free(path);
}

Test(why, pcr_issued_is_not_pending)
{
	struct fake f = {0};
	struct policy_set *set = load_set();
	json_t *rec = NULL;
	char err[1024] = "";
	char *issued = rt_cond("Issued", "Issued", "csr-approver: policy workload: issued serial 1",
	                       time(NULL) - 30);
	char *conds = util_xasprintf("[%s]", issued);
	answer_pcr(&f, "pcr-1", conds,
	           "-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n");

	cr_assert_eq(why(&f, set, "shop/pcr-1", &rec, err, sizeof(err)), 0, "%s", err);
	const json_t *now = json_object_get(rec, "alreadyDecided");
	cr_assert_not_null(now, "an issued PodCertificateRequest is not pending");
	cr_expect_str_eq(str(now, "type"), "Issued");
	cr_expect_str_eq(str(now, "reason"), "Issued");
	cr_expect_str_eq(str(now, "decidedBy"), "csr-approver/workload");
	cr_expect(json_is_true(json_object_get(now, "certificate")), "certificateChain is set");
	json_decref(rec);
	free(conds);
	free(issued);
	policy_set_free(set);
	fake_free(&f);
}

Test(why, pcr_denied_and_csr_conditions_are_not_a_pcrs)
{
	struct fake f = {0};
	struct policy_set *set = load_set();
	json_t *rec = NULL;
	char err[1024] = "";
	char *approved = rt_cond("Approved", "AutoApproved", "x", time(NULL) - 40);
	char *denied = rt_cond("Denied", "PodMismatch", "someone else", time(NULL) - 30);
	char *conds = util_xasprintf("[%s,%s]", approved, denied);
	answer_pcr(&f, "pcr-2", conds, NULL);

	cr_assert_eq(why(&f, set, "shop/pcr-2", &rec, err, sizeof(err)), 0, "%s", err);
	const json_t *now = json_object_get(rec, "alreadyDecided");
	cr_assert_not_null(now);
	cr_expect_str_eq(str(now, "type"), "Denied", "Approved is no condition of a PCR");
	cr_expect_str_eq(str(now, "decidedBy"), "other/PodMismatch");
	cr_expect(json_is_false(json_object_get(now, "certificate")));
	json_decref(rec);
	free(conds);
	free(approved);
	free(denied);
	policy_set_free(set);
	fake_free(&f);
}

/* The first n keys of rec, comma-separated, into buf. */
static const char *keys(const json_t *rec, size_t n, char *buf, size_t len)
{
	size_t used = 0;
	buf[0] = '\0';
	for (void *it = json_object_iter((json_t *)rec); it != NULL && n > 0;
	     it = json_object_iter_next((json_t *)rec, it), n--)
		used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? "," : "",
		                         json_object_iter_key(it));
	return buf;
}

Test(why, pcr_record_has_csr_and_checks)
{
	struct fake f = {0};
	struct policy_set *set = load_set();
	json_t *rec = NULL;
	char err[1024] = "", kb[256];
	/* The pod has another uid than the PCR names: PodMismatch. */
	answer_obj(&f, PCRS "pcr-3",
	           rt_pcr("shop", "pcr-3", W, "web-1", time(NULL) - 60, NULL, NULL));
	answer_obj(&f, "/api/v1/namespaces/shop/pods/web-1", pod("web-1", "other-uid", "node-2"));

	cr_assert_eq(why(&f, set, "shop/pcr-3", &rec, err, sizeof(err)), 1, "%s", err);
	cr_expect_str_eq(str(rec, "reason"), "PodMismatch");
	cr_expect_str_eq(keys(rec, 6, kb, sizeof(kb)), "decision,reason,message,policy,csr,pcr");
	cr_expect_str_eq(str(rec, "csr"), "shop/pcr-3");
	cr_expect_str_eq(str(rec, "pcr"), "shop/pcr-3");
	const json_t *checks = json_object_get(rec, "checks");
	cr_assert(json_array_size(checks) > 0, "a PCR's record lists its checks");
	cr_expect_str_eq(check_result(rec, "PodMismatch"), "fail");
	cr_expect_str_eq(check_result(rec, "PodNotFound"), "pass");
	cr_expect_str_eq(check_result(rec, "SignatureInvalid"), "pass");
	cr_expect_str_eq(check_result(rec, "UnsupportedKeyType"), "pass");
	cr_expect_str_eq(check_result(rec, "UsageNotAllowed"), "(absent)", "a PCR has no usages");
	cr_expect_str_eq(check_result(rec, "RequesterNotAllowed"), "(absent)");
	size_t i;
	const json_t *c;
	json_array_foreach(checks, i, c)
	{
		if (strcmp(str(c, "reason"), "PodMismatch") == 0)
			cr_expect(strstr(json_string_value(
			                     json_array_get(json_object_get(c, "details"), 0)),
			                 "other-uid") != NULL);
	}
	json_decref(rec);
	policy_set_free(set);
	fake_free(&f);
}

/* The uids a PCR names are read (GET serviceaccounts, nodes) and checked. */
Test(why, pcr_service_account_and_node_uids)
{
	struct fake f = {0};
	struct policy_set *set = load_set();
	json_t *rec = NULL;
	char err[1024] = "";
	answer_obj(&f, PCRS "pcr-4",
	           rt_pcr("shop", "pcr-4", W, "web-1", time(NULL) - 60, NULL, NULL));
	answer_obj(&f, "/api/v1/namespaces/shop/pods/web-1", pod("web-1", "pod-uid-2", "node-2"));
	answer(&f, "GET", "/api/v1/namespaces/shop/services", 200, "{\"items\":[]}");
	answer_ids(&f, "sa-uid-OTHER", "node-uid");

	cr_assert_eq(why(&f, set, "shop/pcr-4", &rec, err, sizeof(err)), 1, "%s", err);
	cr_expect_str_eq(str(rec, "reason"), "PodMismatch");
	cr_expect(strstr(str(rec, "message"),
	                 "service account shop/web has uid \"sa-uid-OTHER\"") != NULL,
	          "%s", str(rec, "message"));
	cr_expect(util_strv_contains(&f.asked, "GET /api/v1/namespaces/shop/serviceaccounts/web"));
	cr_expect(util_strv_contains(&f.asked, "GET /api/v1/nodes/node-2"));
	size_t i;
	const json_t *o;
	bool sa_listed = false;
	json_array_foreach(json_object_get(rec, "objects"), i, o)
	{
		if (strcmp(str(o, "kind"), "ServiceAccount") == 0) {
			sa_listed = true;
			cr_expect_str_eq(str(o, "uid"), "sa-uid-OTHER");
		}
	}
	cr_expect(sa_listed, "the ServiceAccount read is among the objects");
	json_decref(rec);
	policy_set_free(set);
	fake_free(&f);
}

Test(why, csr_record_keys_in_checks_order)
{
	struct fake f = {0};
	struct policy_set *set = load_set();
	json_t *rec = NULL;
	char err[1024] = "", kb[256];
	answer_obj(&f, CSRS "csr-k", workload_csr("csr-k", SPIFFE, NULL));
	cr_assert_eq(why(&f, set, "csr-k", &rec, err, sizeof(err)), 1, "%s", err);
	cr_expect_str_eq(keys(rec, 5, kb, sizeof(kb)), "decision,reason,message,policy,csr");
	json_decref(rec);
	policy_set_free(set);
	fake_free(&f);
}

/* ---------------------------------------------------------------- checks never run */

Test(why, requester_denied_before_any_pod_was_read)
{
	struct fake f = {0};
	struct policy_set *set = load_set();
	json_t *rec = NULL;
	char err[1024] = "";
	/* Not a service account: denied as RequesterNotAllowed before any
	 * namespace or pod could be judged. */
	json_t *o = workload_csr("csr-alice", SPIFFE, NULL);
	json_object_set_new(json_object_get(o, "spec"), "username", json_string("alice"));
	answer_obj(&f, CSRS "csr-alice", o);

	cr_assert_eq(why(&f, set, "csr-alice", &rec, err, sizeof(err)), 1, "%s", err);
	cr_expect_str_eq(str(rec, "reason"), "RequesterNotAllowed");
	cr_expect(!was_asked(&f, "GET /api/v1/namespaces/shop/pods"), "no pod was read");
	cr_expect_str_eq(check_result(rec, "InvalidRequest"), "pass");
	cr_expect_str_eq(check_result(rec, "SignatureInvalid"), "pass");
	cr_expect_str_eq(check_result(rec, "RequesterNotAllowed"), "fail");
	cr_expect_str_eq(check_result(rec, "NamespaceNotAllowed"), "not-run");
	cr_expect_str_eq(check_result(rec, "PodNotFound"), "not-run");
	cr_expect_str_eq(check_result(rec, "PodMismatch"), "not-run");
	/* Without a service account there is no SPIFFE ID to compare with. */
	cr_expect_str_eq(check_result(rec, "SANNotAllowed"), "not-run");
	/* These do not depend on the requester, and ran. */
	cr_expect_str_eq(check_result(rec, "UsageNotAllowed"), "pass");
	cr_expect_str_eq(check_result(rec, "ExpirationNotAllowed"), "pass");
	json_decref(rec);
	policy_set_free(set);
	fake_free(&f);
}

Test(why, pod_not_found_leaves_its_names_unjudged)
{
	struct fake f = {0};
	struct policy_set *set = load_set();
	json_t *rec = NULL;
	char err[1024] = "";
	answer_obj(&f, CSRS "csr-gone", workload_csr("csr-gone", SPIFFE ",DNS:web.shop.svc", NULL));

	cr_assert_eq(why(&f, set, "csr-gone", &rec, err, sizeof(err)), 1, "%s", err);
	cr_expect_str_eq(str(rec, "reason"), "PodNotFound");
	cr_expect_str_eq(check_result(rec, "NamespaceNotAllowed"), "pass");
	cr_expect_str_eq(check_result(rec, "PodNotFound"), "fail");
	cr_expect_str_eq(check_result(rec, "PodMismatch"), "not-run", "no pod to compare");
	cr_expect_str_eq(check_result(rec, "SANNotAllowed"), "not-run",
	                 "a DNS SAN cannot be judged without the pod");
	json_decref(rec);
	policy_set_free(set);
	fake_free(&f);
}

/* A kubelet client CSR of node-1 for itself, usages as given. */
static json_t *kubelet_client_csr(const char *name, const char *o_value, const char *usage)
{
	EVP_PKEY *k = st_key(ST_P256);
	struct st_req_opts ro = {.cn = "system:node:node-1", .o = o_value};
	size_t len = 0;
	char *req = st_req(k, &ro, false, &len);
	json_t *o = rt_csr(name, KC, "system:node:node-1", NULL, time(NULL) - 60, req, NULL, NULL);
	json_t *usages = json_array();
	json_array_append_new(usages, json_string("digital signature"));
	json_array_append_new(usages, json_string(usage));
	json_object_set_new(json_object_get(o, "spec"), "usages", usages);
	free(req);
	EVP_PKEY_free(k);
	return o;
}

Test(why, no_review_after_an_earlier_failure)
{
	struct fake f = {0};
	struct policy_set *set = load_set();
	json_t *rec = NULL;
	char err[1024] = "";
	answer_obj(&f, CSRS "kc-bad", kubelet_client_csr("kc-bad", "system:nodes", "server auth"));

	cr_assert_eq(why(&f, set, "kc-bad", &rec, err, sizeof(err)), 1, "%s", err);
	cr_expect_str_eq(str(rec, "reason"), "UsageNotAllowed");
	cr_expect(!was_asked(&f, "POST " SARS), "no SubjectAccessReview was asked");
	cr_expect_str_eq(check_result(rec, "UsageNotAllowed"), "fail");
	cr_expect_str_eq(check_result(rec, "NotAuthorized"), "not-run");
	json_decref(rec);
	policy_set_free(set);
	fake_free(&f);
}

Test(why, the_review_asked_passes)
{
	struct fake f = {0};
	struct policy_set *set = load_set();
	json_t *rec = NULL;
	char err[1024] = "";
	answer_obj(&f, CSRS "kc-ok", kubelet_client_csr("kc-ok", "system:nodes", "client auth"));
	answer(&f, "POST", SARS, 201,
	       "{\"kind\":\"SubjectAccessReview\",\"apiVersion\":\"authorization.k8s.io/v1\","
	       "\"status\":{\"allowed\":true}}");

	cr_assert_eq(why(&f, set, "kc-ok", &rec, err, sizeof(err)), 0, "%s", err);
	cr_expect(was_asked(&f, "POST " SARS));
	size_t i;
	const json_t *c;
	json_array_foreach(json_object_get(rec, "checks"), i, c)
	{
		cr_expect_str_eq(str(c, "result"), "pass", "%s", str(c, "reason"));
	}
	cr_expect_str_eq(check_result(rec, "NotAuthorized"), "pass");
	json_decref(rec);
	policy_set_free(set);
	fake_free(&f);
}
