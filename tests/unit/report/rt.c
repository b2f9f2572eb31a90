/*
 * Helpers for the report, audit and certificate tests (see rt.h).
 */
#include "rt.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../../pkg/config/config.h"
#include "../../../pkg/util/util.h"

char *rt_request(const char *cn, const char *sans, EVP_PKEY **key)
{
	EVP_PKEY *k = st_key(ST_P256);
	struct st_req_opts o = {.cn = cn, .sans = sans};
	size_t len = 0;
	char *pem = st_req(k, &o, false, &len);
	if (key != NULL)
		*key = k;
	else
		EVP_PKEY_free(k);
	return pem;
}

char *rt_request_der_b64(const char *sans)
{
	EVP_PKEY *k = st_key(ST_P256);
	struct st_req_opts o = {.sans = sans};
	size_t len = 0;
	char *der = st_req(k, &o, true, &len);
	char *b64 = util_base64_encode(der, len);
	free(der);
	EVP_PKEY_free(k);
	return b64;
}

struct signer_cert *rt_issue(const char *req_pem, int64_t lifetime)
{
	EVP_PKEY *cakey = st_key(ST_P256);
	struct st_cert_opts co = {.cn = "rt CA", .ca = true, .ku = "critical,keyCertSign,cRLSign"};
	X509 *ca = st_cert(&co, cakey, NULL, cakey);
	char *cert_pem = st_certs_pem(&ca, 1), *key_pem = st_key_pem(cakey);
	struct signer_ca *sca = NULL;
	struct signer_cert *out = NULL;
	struct util_strv usages = {0};
	char err[SIGNER_ERR_MAX];
	cr_assert_eq(signer_ca_parse(cert_pem, strlen(cert_pem), key_pem, strlen(key_pem), &sca,
	                             err, sizeof(err)),
	             0, "%s", err);
	util_strv_push(&usages, "client auth");
	util_strv_push(&usages, "server auth");
	struct signer_validity v = {.now = time(NULL), .lifetime = lifetime, .backdate = 60};
	cr_assert_eq(
	    signer_issue_csr(sca, req_pem, strlen(req_pem), &usages, 0, &v, &out, err, sizeof(err)),
	    0, "%s", err);
	util_strv_free(&usages);
	signer_ca_free(sca);
	free(cert_pem);
	free(key_pem);
	X509_free(ca);
	EVP_PKEY_free(cakey);
	return out;
}

static json_t *time_json(int64_t t)
{
	char buf[32];
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(buf);
}

char *rt_cond(const char *type, const char *reason, const char *message, int64_t at)
{
	json_t *c = json_object();
	json_object_set_new(c, "type", json_string(type));
	json_object_set_new(c, "status", json_string("True"));
	json_object_set_new(c, "reason", json_string(reason));
	json_object_set_new(c, "message", json_string(message));
	json_object_set_new(c, "lastUpdateTime", time_json(at));
	json_object_set_new(c, "lastTransitionTime", time_json(at));
	char *s = json_dumps(c, JSON_COMPACT);
	json_decref(c);
	return s;
}

static json_t *conds_json(const char *conditions)
{
	json_error_t e;
	json_t *a = conditions ? json_loads(conditions, 0, &e) : json_array();
	cr_assert_not_null(a, "conditions: %s", conditions);
	return a;
}

json_t *rt_csr(const char *name, const char *signer, const char *username, const char *pod,
               int64_t created, const char *req_pem, const char *conditions, const char *cert_pem)
{
	json_t *o = json_object(), *meta = json_object(), *spec = json_object(),
	       *status = json_object();
	char *b64 = util_base64_encode(req_pem, strlen(req_pem));
	json_object_set_new(meta, "name", json_string(name));
	json_object_set_new(meta, "uid",
	                    json_string("uid-"
	                                "x"));
	json_object_set_new(meta, "resourceVersion", json_string("1"));
	json_object_set_new(meta, "creationTimestamp", time_json(created));
	json_object_set_new(spec, "signerName", json_string(signer));
	json_object_set_new(spec, "username", json_string(username));
	json_object_set_new(spec, "uid", json_string("user-uid"));
	json_t *groups = json_array();
	json_array_append_new(groups, json_string("system:authenticated"));
	json_object_set_new(spec, "groups", groups);
	json_object_set_new(spec, "request", json_string(b64));
	json_t *usages = json_array();
	json_array_append_new(usages, json_string("client auth"));
	json_object_set_new(spec, "usages", usages);
	if (pod != NULL) {
		json_t *extra = json_object();
		json_t *pn = json_array(), *pu = json_array(), *nn = json_array();
		json_array_append_new(pn, json_string(pod));
		json_array_append_new(pu, json_string("pod-uid-1"));
		json_array_append_new(nn, json_string("node-1"));
		json_object_set_new(extra, "authentication.kubernetes.io/pod-name", pn);
		json_object_set_new(extra, "authentication.kubernetes.io/pod-uid", pu);
		json_object_set_new(extra, "authentication.kubernetes.io/node-name", nn);
		json_object_set_new(spec, "extra", extra);
	}
	json_object_set_new(status, "conditions", conds_json(conditions));
	if (cert_pem != NULL) {
		char *cb = util_base64_encode(cert_pem, strlen(cert_pem));
		json_object_set_new(status, "certificate", json_string(cb));
		free(cb);
	}
	json_object_set_new(o, "apiVersion", json_string("certificates.k8s.io/v1"));
	json_object_set_new(o, "kind", json_string("CertificateSigningRequest"));
	json_object_set_new(o, "metadata", meta);
	json_object_set_new(o, "spec", spec);
	json_object_set_new(o, "status", status);
	free(b64);
	return o;
}

json_t *rt_pcr(const char *ns, const char *name, const char *signer, const char *pod,
               int64_t created, const char *conditions, const char *chain_pem)
{
	json_t *o = json_object(), *meta = json_object(), *spec = json_object(),
	       *status = json_object();
	char *stub = rt_request_der_b64(NULL);
	json_object_set_new(meta, "namespace", json_string(ns));
	json_object_set_new(meta, "name", json_string(name));
	json_object_set_new(meta, "uid", json_string("pcr-uid"));
	json_object_set_new(meta, "creationTimestamp", time_json(created));
	json_object_set_new(spec, "signerName", json_string(signer));
	json_object_set_new(spec, "podName", json_string(pod));
	json_object_set_new(spec, "podUID", json_string("pod-uid-2"));
	json_object_set_new(spec, "serviceAccountName", json_string("web"));
	json_object_set_new(spec, "serviceAccountUID", json_string("sa-uid"));
	json_object_set_new(spec, "nodeName", json_string("node-2"));
	json_object_set_new(spec, "nodeUID", json_string("node-uid"));
	json_object_set_new(spec, "stubPKCS10Request", json_string(stub));
	json_object_set_new(status, "conditions", conds_json(conditions));
	if (chain_pem != NULL)
		json_object_set_new(status, "certificateChain", json_string(chain_pem));
	json_object_set_new(o, "metadata", meta);
	json_object_set_new(o, "spec", spec);
	json_object_set_new(o, "status", status);
	free(stub);
	return o;
}

struct policy_set *rt_policy_set(const char *yaml)
{
	char err[512];
	struct policy_set *set = config_parse(yaml, strlen(yaml), "policy.yaml", err, sizeof(err));
	cr_assert_not_null(set, "%s", err);
	return set;
}
