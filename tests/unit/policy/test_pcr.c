/*
 * PodCertificateRequests: policy_decide_pcr(). The good request: pod
 * shop/web-7d9 (uid uid-web-1, service account web, on node-1, Running,
 * IPs 10.0.0.5 and fd00::5, selected by Service shop/web) under the
 * workload rule with issue: and podCertificates, an ECDSA P-256 stub whose
 * self-signature verifies.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../../pkg/util/util.h"
#include "fixture.h"

/* Table rows leave their trailing fields to the zero default. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

struct pcr_t {
	struct pt t; /* the cluster, the set and a good stub (t.info) */
	struct policy_pcr *pcr;
	const char *stub_error;
	struct policy_names names;
	int rc;
};

/* The uid of ServiceAccount shop/web; NULL: it does not exist. */
static const char *sa_web_uid;

static enum policy_found get_sa_uid(void *ctx, const char *ns, const char *name, const char **uid)
{
	(void)ctx;
	if (sa_web_uid == NULL || strcmp(ns, "shop") != 0 || strcmp(name, "web") != 0)
		return POLICY_NOT_FOUND;
	*uid = sa_web_uid;
	return POLICY_FOUND;
}

static void pcr_init(struct pcr_t *c)
{
	struct policy_rule *r;
	struct policy_pcr *p;

	memset(c, 0, sizeof(*c));
	pt_init(&c->t, PT_WORKLOAD);
	r = pt_rule_of(&c->t, PT_SIGNER_WORKLOAD);
	r->pod_certificates = true;
	r->issue.enabled = true;
	p = util_xcalloc(1, sizeof(*p));
	p->ns = util_xstrdup("shop");
	p->name = util_xstrdup("web-7d9-pcr-1");
	p->uid = util_xstrdup("pcr-uid");
	p->resource_version = util_xstrdup("7");
	p->signer_name = util_xstrdup(PT_SIGNER_WORKLOAD);
	p->pod_name = util_xstrdup("web-7d9");
	p->pod_uid = util_xstrdup("uid-web-1");
	p->service_account_name = util_xstrdup("web");
	p->service_account_uid = util_xstrdup("sa-uid");
	p->node_name = util_xstrdup("node-1");
	p->node_uid = util_xstrdup("node-uid-1");
	p->max_expiration_seconds = 86400;
	c->pcr = p;
	pt_str(&pt_node(&c->t, "node-1")->uid, "node-uid-1");
	sa_web_uid = "sa-uid";
	c->t.lk.get_service_account_uid = get_sa_uid;
}

static void pcr_decide(struct pcr_t *c)
{
	policy_decision_clear(&c->t.d);
	c->rc = policy_decide_pcr(c->t.set, c->pcr, c->t.info, c->stub_error, &c->t.lk, &c->t.d,
	                          &c->names);
}

static void pcr_fini(struct pcr_t *c)
{
	policy_names_clear(&c->names);
	policy_pcr_free(c->pcr);
	pt_fini(&c->t);
}

/* ---- the table ---- */

struct pcr_case {
	const char *name;
	void (*mutate)(struct pcr_t *c);
	enum policy_verdict verdict;
	enum policy_reason reason;
	const char *want1, *want2;
	bool rests_on_objects;
	bool missing;
};

static void m_none(struct pcr_t *c)
{
	(void)c;
}

static void m_issued(struct pcr_t *c)
{
	c->pcr->issued = true;
}

static void m_denied(struct pcr_t *c)
{
	c->pcr->denied = true;
}

static void m_chain(struct pcr_t *c)
{
	c->pcr->has_chain = true;
}

static void m_other_signer(struct pcr_t *c)
{
	pt_str(&c->pcr->signer_name, "example.com/other");
}

static void m_no_pod_certificates(struct pcr_t *c)
{
	pt_rule_of(&c->t, PT_SIGNER_WORKLOAD)->pod_certificates = false;
}

static void m_not_workload(struct pcr_t *c)
{
	pt_str(&c->pcr->signer_name, PT_SIGNER_SERVING);
	pt_rule_of(&c->t, PT_SIGNER_SERVING)->pod_certificates = true;
}

static void m_excluded_ns(struct pcr_t *c)
{
	pt_str(&c->pcr->ns, "kube-system");
	pt_add_pod(&c->t, "kube-system", "web-7d9", "uid-web-1", "web");
}

static void m_no_pod(struct pcr_t *c)
{
	pt_str(&c->pcr->pod_name, "gone-0");
}

static void m_pod_uid(struct pcr_t *c)
{
	pt_str(&c->pcr->pod_uid, "uid-web-OLD");
}

static void m_sa(struct pcr_t *c)
{
	pt_str(&c->pcr->service_account_name, "admin");
}

static void m_node(struct pcr_t *c)
{
	pt_str(&c->pcr->node_name, "node-2");
}

static void m_node_uid(struct pcr_t *c)
{
	pt_str(&pt_node(&c->t, "node-1")->uid, "node-uid-OTHER");
}

static void m_node_gone(struct pcr_t *c)
{
	c->t.lk.get_node = NULL;
}

static void m_node_no_uid(struct pcr_t *c)
{
	pt_str(&pt_node(&c->t, "node-1")->uid, "");
}

static void m_sa_uid(struct pcr_t *c)
{
	(void)c;
	sa_web_uid = "sa-uid-OTHER";
}

static void m_sa_gone(struct pcr_t *c)
{
	(void)c;
	sa_web_uid = NULL;
}

static void m_no_sa_lookup(struct pcr_t *c)
{
	c->t.lk.get_service_account_uid = NULL;
}

static void m_bad_sa_uid(struct pcr_t *c)
{
	pt_str(&c->pcr->service_account_uid, "");
}

static void m_bad_node_uid(struct pcr_t *c)
{
	pt_str(&c->pcr->node_uid, "node uid");
}

static void m_deleting(struct pcr_t *c)
{
	pt_pod(&c->t, "shop", "web-7d9")->deleting = true;
}

static void m_succeeded(struct pcr_t *c)
{
	pt_str(&pt_pod(&c->t, "shop", "web-7d9")->phase, "Succeeded");
}

static void m_bad_pod_name(struct pcr_t *c)
{
	pt_str(&c->pcr->pod_name, "../x");
}

static void m_bad_ns(struct pcr_t *c)
{
	pt_str(&c->pcr->ns, "Shop");
}

static void m_bad_sa(struct pcr_t *c)
{
	pt_str(&c->pcr->service_account_name, "web\n");
}

static void m_bad_uid(struct pcr_t *c)
{
	pt_str(&c->pcr->pod_uid, "");
}

static void m_stub_undecodable(struct pcr_t *c)
{
	pt_drop_info(&c->t, "DER does not decode");
	c->stub_error = "DER does not decode";
}

static void m_stub_bad_sig(struct pcr_t *c)
{
	c->t.info->sig.verified = false;
}

static void m_keys_p384(struct pcr_t *c)
{
	pt_rule_of(&c->t, PT_SIGNER_WORKLOAD)->keys = POLICY_KEY_ECDSA_P384;
}

static void m_key_rsa1024(struct pcr_t *c)
{
	struct csr_key *k = &c->t.info->key;
	memset(k, 0, sizeof(*k));
	k->type = CSR_KEY_RSA;
	k->bits = 1024;
	k->rsa_e_65537 = true;
}

static void m_key_secp256k1(struct pcr_t *c)
{
	snprintf(c->t.info->key.ec_curve, sizeof(c->t.info->key.ec_curve), "secp256k1");
}

static void m_key_ed448(struct pcr_t *c)
{
	c->t.info->key.type = CSR_KEY_ED448;
}

static void m_no_names(struct pcr_t *c)
{
	pt_rule_of(&c->t, PT_SIGNER_WORKLOAD)->allowed_names = 0;
}

static void m_max_sans(struct pcr_t *c)
{
	pt_rule_of(&c->t, PT_SIGNER_WORKLOAD)->max_sans = 2;
}

static void m_negative_expiration(struct pcr_t *c)
{
	c->pcr->max_expiration_seconds = -1;
}

#define ISSUE POLICY_APPROVE, POLICY_R_AUTO_APPROVED
#define DENY(r) POLICY_DENY, POLICY_R_##r
#define SKIP(r) POLICY_SKIP, POLICY_R_##r

static const struct pcr_case pcr_cases[] = {
    {"good", m_none, ISSUE, "pod shop/web-7d9 (uid uid-web-1) on node node-1"},
    {"issued already", m_issued, SKIP(ALREADY_DECIDED), "already issued"},
    {"denied already", m_denied, SKIP(ALREADY_DECIDED), "already denied"},
    {"chain without condition", m_chain, SKIP(ALREADY_DECIDED)},
    {"another signer", m_other_signer, SKIP(NO_POLICY), "example.com/other"},
    {"podCertificates off", m_no_pod_certificates, SKIP(NO_POLICY)},
    {"not a workload rule", m_not_workload, DENY(NOT_AUTHORIZED), "podCertificates: true"},
    {"excluded namespace", m_excluded_ns, DENY(NAMESPACE_NOT_ALLOWED), "kube-system"},
    {"pod missing", m_no_pod, DENY(POD_NOT_FOUND), "shop/gone-0", NULL, true, true},
    {"pod uid", m_pod_uid, DENY(POD_MISMATCH), "uid-web-OLD", NULL, true},
    {"service account", m_sa, DENY(POD_MISMATCH), "runs as service account \"web\"", NULL, true},
    {"node", m_node, DENY(POD_MISMATCH), "is on node \"node-1\"", NULL, true},
    {"node uid", m_node_uid, DENY(POD_MISMATCH), "node-uid-OTHER", "node-uid-1", true},
    {"node without uid", m_node_no_uid, DENY(POD_MISMATCH), "node node-1 has uid \"\"", NULL, true},
    {"node not found", m_node_gone, DENY(POD_MISMATCH),
     "node node-1, named by the PodCertificateRequest, does not exist", NULL, true},
    {"service account uid", m_sa_uid, DENY(POD_MISMATCH),
     "service account shop/web has uid \"sa-uid-OTHER\"", "names \"sa-uid\"", true},
    {"service account not found", m_sa_gone, DENY(POD_MISMATCH),
     "service account shop/web, named by the PodCertificateRequest, does not exist", NULL, true},
    {"service account never looked up", m_no_sa_lookup, DENY(POD_MISMATCH),
     "service account shop/web", NULL, true},
    {"empty service account uid", m_bad_sa_uid, DENY(INVALID_REQUEST), "spec.serviceAccountUID"},
    {"malformed node uid", m_bad_node_uid, DENY(INVALID_REQUEST), "spec.nodeUID"},
    {"pod deleting", m_deleting, DENY(POD_MISMATCH), "is being deleted", NULL, true},
    {"pod succeeded", m_succeeded, DENY(POD_MISMATCH), "\"Succeeded\"", NULL, true},
    {"malformed pod name", m_bad_pod_name, DENY(INVALID_REQUEST), "spec.podName"},
    {"malformed namespace", m_bad_ns, DENY(INVALID_REQUEST), "metadata.namespace"},
    {"malformed service account", m_bad_sa, DENY(INVALID_REQUEST), "spec.serviceAccountName",
     "\\x0a"},
    {"empty pod uid", m_bad_uid, DENY(INVALID_REQUEST), "spec.podUID"},
    {"stub does not decode", m_stub_undecodable, DENY(INVALID_REQUEST),
     "spec.stubPKCS10Request does not decode: DER does not decode"},
    {"stub signature", m_stub_bad_sig, DENY(SIGNATURE_INVALID), "self-signature"},
    {"key not in keys", m_keys_p384, DENY(UNSUPPORTED_KEY_TYPE), "\"prime256v1\""},
    {"rsa 1024", m_key_rsa1024, DENY(UNSUPPORTED_KEY_TYPE), "RSA 1024-bit key"},
    {"secp256k1", m_key_secp256k1, DENY(UNSUPPORTED_KEY_TYPE), "secp256k1"},
    {"ed448", m_key_ed448, DENY(UNSUPPORTED_KEY_TYPE)},
    {"no allowed names", m_no_names, DENY(SAN_NOT_ALLOWED), "no name"},
    {"more names than maxSANs", m_max_sans, DENY(SAN_NOT_ALLOWED), "more than maxSANs (2)", NULL,
     true},
    {"negative max expiration", m_negative_expiration, DENY(EXPIRATION_NOT_ALLOWED)},
};

Test(pcr, table)
{
	for (size_t i = 0; i < sizeof(pcr_cases) / sizeof(pcr_cases[0]); i++) {
		const struct pcr_case *k = &pcr_cases[i];
		struct pcr_t c;
		const char *want[2] = {k->want1, k->want2};

		pcr_init(&c);
		k->mutate(&c);
		pcr_decide(&c);
		const char *msg = c.t.d.message ? c.t.d.message : "(null)";
		cr_expect_eq(c.rc, 0, "[%s] rc %d", k->name, c.rc);
		cr_expect_eq(c.t.d.verdict, k->verdict, "[%s] verdict %s (message: %s)", k->name,
		             policy_verdict_name(c.t.d.verdict), msg);
		cr_expect_eq(c.t.d.reason, k->reason, "[%s] reason %s, want %s (message: %s)",
		             k->name, policy_reason_name(c.t.d.reason),
		             policy_reason_name(k->reason), msg);
		for (size_t j = 0; j < 2; j++)
			if (want[j] != NULL)
				cr_expect(strstr(msg, want[j]) != NULL,
				          "[%s] message lacks \"%s\": %s", k->name, want[j], msg);
		if (k->verdict == POLICY_DENY) {
			cr_expect_eq(c.t.d.rests_on_objects, k->rests_on_objects,
			             "[%s] rests_on_objects %d", k->name, c.t.d.rests_on_objects);
			cr_expect_eq(c.t.d.missing_object, k->missing, "[%s] missing_object %d",
			             k->name, c.t.d.missing_object);
			cr_expect_not(c.t.d.leave_pending, "[%s] leave_pending", k->name);
		}
		if (k->verdict != POLICY_APPROVE)
			cr_expect_eq(c.names.values.n, 0, "[%s] %zu names on a %s", k->name,
			             c.names.values.n, policy_verdict_name(k->verdict));
		else
			cr_expect_gt(c.names.values.n, 0, "[%s] no names", k->name);
		pcr_fini(&c);
	}
}

/* The names: SPIFFE first, then podIP, podDNS, hostnameDNS, serviceDNS,
 * serviceShortDNS; Services of other namespaces and not selecting the pod
 * give none. */
Test(pcr, names_in_order)
{
	struct pcr_t c;
	struct policy_pod *pod;
	static const struct {
		enum policy_name_type type;
		const char *value;
	} want[] = {
	    {POLICY_NAME_TYPE_URI, "spiffe://cluster.local/ns/shop/sa/web"},
	    {POLICY_NAME_TYPE_IP, "10.0.0.5"},
	    {POLICY_NAME_TYPE_IP, "fd00::5"},
	    {POLICY_NAME_TYPE_DNS, "10-0-0-5.shop.pod.cluster.local"},
	    {POLICY_NAME_TYPE_DNS, "fd00--5.shop.pod.cluster.local"},
	    {POLICY_NAME_TYPE_DNS, "web-0.web-hl.shop.svc.cluster.local"},
	    {POLICY_NAME_TYPE_DNS, "web.shop.svc"},
	    {POLICY_NAME_TYPE_DNS, "web.shop.svc.cluster.local"},
	    {POLICY_NAME_TYPE_DNS, "web"},
	    {POLICY_NAME_TYPE_DNS, "web.shop"},
	};

	pcr_init(&c);
	pt_rule_of(&c.t, PT_SIGNER_WORKLOAD)->allowed_names =
	    POLICY_NAME_DEFAULT | POLICY_NAME_SERVICE_SHORT_DNS;
	pod = pt_pod(&c.t, "shop", "web-7d9");
	pt_str(&pod->hostname, "web-0");
	pt_str(&pod->subdomain, "web-hl");
	pcr_decide(&c);
	cr_assert_eq(c.t.d.verdict, POLICY_APPROVE, "%s", c.t.d.message);
	cr_assert_eq(c.names.values.n, sizeof(want) / sizeof(want[0]), "%zu names",
	             c.names.values.n);
	for (size_t i = 0; i < c.names.values.n; i++) {
		cr_expect_str_eq(c.names.values.v[i], want[i].value, "name %zu", i);
		cr_expect_eq(c.names.types[i], want[i].type, "type of %s", want[i].value);
	}
	pcr_fini(&c);
}

/* allowedNames narrows the names; the trust domain shapes the SPIFFE ID. */
Test(pcr, names_by_allowed_names)
{
	struct pcr_t c;
	struct policy_rule *r;

	pcr_init(&c);
	r = pt_rule_of(&c.t, PT_SIGNER_WORKLOAD);
	r->allowed_names = POLICY_NAME_SPIFFE | POLICY_NAME_SERVICE_DNS;
	pt_str(&r->trust_domain, "prod.example");
	pcr_decide(&c);
	cr_assert_eq(c.t.d.verdict, POLICY_APPROVE, "%s", c.t.d.message);
	cr_assert_eq(c.names.values.n, 3);
	cr_expect_str_eq(c.names.values.v[0], "spiffe://prod.example/ns/shop/sa/web");
	cr_expect_str_eq(c.names.values.v[1], "web.shop.svc");
	cr_expect_str_eq(c.names.values.v[2], "web.shop.svc.cluster.local");
	pcr_fini(&c);
}

/* A hostNetwork pod's IPs are its node's: no podIP or podDNS names. */
Test(pcr, host_network_pod_gets_no_ip_names)
{
	struct pcr_t c;

	pcr_init(&c);
	pt_pod(&c.t, "shop", "web-7d9")->host_network = true;
	pcr_decide(&c);
	cr_assert_eq(c.t.d.verdict, POLICY_APPROVE, "%s", c.t.d.message);
	for (size_t i = 0; i < c.names.values.n; i++) {
		cr_expect_neq(c.names.types[i], POLICY_NAME_TYPE_IP, "%s", c.names.values.v[i]);
		cr_expect(strstr(c.names.values.v[i], ".pod.") == NULL, "%s", c.names.values.v[i]);
	}
	pcr_fini(&c);
}

/* Every failure is reported, the first reason in SPEC order giving it. */
Test(pcr, every_failure_reported)
{
	struct pcr_t c;

	pcr_init(&c);
	m_keys_p384(&c);
	m_excluded_ns(&c);
	m_stub_bad_sig(&c);
	pcr_decide(&c);
	cr_assert_eq(c.t.d.verdict, POLICY_DENY);
	cr_expect_eq(c.t.d.reason, POLICY_R_SIGNATURE_INVALID, "%s",
	             policy_reason_name(c.t.d.reason));
	cr_expect(strstr(c.t.d.message, "kube-system") != NULL, "%s", c.t.d.message);
	cr_expect(strstr(c.t.d.message, "not in keys") != NULL, "%s", c.t.d.message);
	cr_expect_not(c.t.d.rests_on_objects);
	pcr_fini(&c);
}

Test(pcr, null_arguments)
{
	struct policy_decision d;
	struct policy_names names = {0};

	cr_expect_eq(policy_decide_pcr(NULL, NULL, NULL, NULL, NULL, &d, &names), -1);
	cr_expect_eq(d.verdict, POLICY_SKIP);
	cr_expect_null(d.message);
	cr_expect_eq(policy_decide_pcr(NULL, NULL, NULL, NULL, NULL, NULL, NULL), -1);
	cr_expect_str_eq(policy_reason_name(POLICY_R_UNSUPPORTED_KEY_TYPE), "UnsupportedKeyType");
}

/* An empty set, a NULL lookup: no policy. */
Test(pcr, no_lookup_no_set)
{
	struct pcr_t c;

	pcr_init(&c);
	c.rc = policy_decide_pcr(NULL, c.pcr, c.t.info, NULL, NULL, &c.t.d, &c.names);
	cr_expect_eq(c.rc, 0);
	cr_expect_eq(c.t.d.verdict, POLICY_SKIP);
	cr_expect_eq(c.t.d.reason, POLICY_R_NO_POLICY);
	policy_decision_clear(&c.t.d);
	c.rc = policy_decide_pcr(c.t.set, c.pcr, c.t.info, NULL, NULL, &c.t.d, &c.names);
	cr_expect_eq(c.t.d.verdict, POLICY_DENY);
	cr_expect_eq(c.t.d.reason, POLICY_R_POD_NOT_FOUND);
	pcr_fini(&c);
}
