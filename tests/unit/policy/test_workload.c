/*
 * type: workload. The good request: service account shop/web, token bound
 * to pod shop/web-7d9 on node-1, SANs spiffe://cluster.local/ns/shop/sa/web,
 * web.shop.svc, web.shop.svc.cluster.local, 10.0.0.5,
 * 10-0-0-5.shop.pod.cluster.local; CN web.shop.svc.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <string.h>

#include "fixture.h"

/* Table rows leave their trailing fields to the zero default. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#define APPROVE POLICY_APPROVE, POLICY_R_AUTO_APPROVED
#define DENY(r) POLICY_DENY, POLICY_R_##r

#define X_POD_NAME "authentication.kubernetes.io/pod-name"
#define X_POD_UID "authentication.kubernetes.io/pod-uid"
#define X_NODE_NAME "authentication.kubernetes.io/node-name"

/* Keep only the spiffe URI and one more SAN of the caller's choice. */
static void only_san(struct pt *t, enum csr_san_type type, const char *value)
{
	pt_clear_sans(t);
	pt_clear_subject(t);
	pt_add_san(t, CSR_SAN_URI, "spiffe://cluster.local/ns/shop/sa/web");
	if (value != NULL)
		pt_add_san(t, type, value);
}

static void no_pod_claims(struct pt *t)
{
	pt_set_extra(t, X_POD_NAME, NULL);
	pt_set_extra(t, X_POD_UID, NULL);
	pt_set_extra(t, X_NODE_NAME, NULL);
}

/* ---- requester ---- */

static void m_user(struct pt *t, const char *u)
{
	pt_str(&t->req->username, u);
}

static void m_user_plain(struct pt *t)
{
	m_user(t, "alice");
}

static void m_user_no_sa(struct pt *t)
{
	m_user(t, "system:serviceaccount:shop");
}

static void m_user_empty_ns(struct pt *t)
{
	m_user(t, "system:serviceaccount::web");
}

static void m_user_empty_sa(struct pt *t)
{
	m_user(t, "system:serviceaccount:shop:");
}

static void m_user_extra_colon(struct pt *t)
{
	m_user(t, "system:serviceaccount:shop:web:x");
}

static void m_user_upper_ns(struct pt *t)
{
	m_user(t, "system:serviceaccount:Shop:web");
}

static void m_user_node(struct pt *t)
{
	m_user(t, "system:node:node-1");
}

static void m_user_missing(struct pt *t)
{
	free(t->req->username);
	t->req->username = NULL;
}

static void m_no_claims(struct pt *t)
{
	no_pod_claims(t);
}

static void m_name_without_uid(struct pt *t)
{
	pt_set_extra(t, X_POD_UID, NULL);
}

static void m_uid_without_name(struct pt *t)
{
	pt_set_extra(t, X_POD_NAME, NULL);
}

static void m_two_uids(struct pt *t)
{
	pt_add_extra_value(t, X_POD_UID, "uid-web-2");
}

static void m_empty_pod_name(struct pt *t)
{
	pt_set_extra(t, X_POD_NAME, "");
}

static void m_bad_pod_name(struct pt *t)
{
	pt_set_extra(t, X_POD_NAME, "Web_7d9");
}

static void m_bad_node_claim(struct pt *t)
{
	pt_set_extra(t, X_NODE_NAME, "node 1");
}

/* ---- groups: what the API server gives a service account ---- */

static void m_groups_no_sa_group(struct pt *t)
{
	pt_set_groups(t, "system:serviceaccounts:shop", "system:authenticated", NULL);
}

static void m_groups_no_ns_group(struct pt *t)
{
	pt_set_groups(t, "system:serviceaccounts", "system:authenticated", NULL);
}

static void m_groups_other_ns_group(struct pt *t)
{
	pt_set_groups(t, "system:serviceaccounts", "system:serviceaccounts:other",
	              "system:authenticated", NULL);
}

static void m_groups_none(struct pt *t)
{
	pt_set_groups(t, NULL);
}

static void m_groups_only_sa_groups(struct pt *t)
{
	pt_set_groups(t, "system:serviceaccounts:shop", "system:serviceaccounts", NULL);
}

static void m_groups_prefix_only(struct pt *t)
{
	/* A group that merely starts like the one due is not it. */
	pt_set_groups(t, "system:serviceaccounts", "system:serviceaccounts:shop-eu",
	              "system:authenticated", NULL);
}

static void m_groups_not_sa_user(struct pt *t)
{
	m_user(t, "alice");
	pt_set_groups(t, "system:authenticated", NULL);
}

/* ---- namespaces ---- */

static void m_ns_not_included(struct pt *t)
{
	struct policy_rule *r = pt_rule(t);
	util_strv_free(&r->namespaces);
	util_strv_push(&r->namespaces, "team-*");
	util_strv_push(&r->namespaces, "payments");
}

static void m_ns_glob_included(struct pt *t)
{
	struct policy_rule *r = pt_rule(t);
	util_strv_free(&r->namespaces);
	util_strv_push(&r->namespaces, "team-*");
	util_strv_push(&r->namespaces, "sh*");
}

static void m_ns_excluded(struct pt *t)
{
	util_strv_push(&pt_rule(t)->exclude_namespaces, "sh?p");
}

static void m_ns_kube_system(struct pt *t)
{
	m_user(t, "system:serviceaccount:kube-system:web");
	pt_set_groups(t, "system:serviceaccounts", "system:serviceaccounts:kube-system",
	              "system:authenticated", NULL);
	pt_add_pod(t, "kube-system", "web-7d9", "uid-web-1", "web");
	only_san(t, CSR_SAN_URI, NULL);
	pt_clear_sans(t);
	pt_add_san(t, CSR_SAN_URI, "spiffe://cluster.local/ns/kube-system/sa/web");
}

/* ---- pod binding ---- */

static void m_unbound_spiffe_only(struct pt *t)
{
	pt_rule(t)->require_pod_binding = false;
	no_pod_claims(t);
	only_san(t, CSR_SAN_URI, NULL);
}

static void m_unbound_dns(struct pt *t)
{
	pt_rule(t)->require_pod_binding = false;
	no_pod_claims(t);
}

static void m_unbound_node_claim_only(struct pt *t)
{
	/* A node claim alone does not make a pod binding. */
	pt_rule(t)->require_pod_binding = false;
	pt_set_extra(t, X_POD_NAME, NULL);
	pt_set_extra(t, X_POD_UID, NULL);
	only_san(t, CSR_SAN_URI, NULL);
}

static void m_optional_binding_present(struct pt *t)
{
	pt_rule(t)->require_pod_binding = false;
}

static void m_optional_binding_bad_uid(struct pt *t)
{
	pt_rule(t)->require_pod_binding = false;
	pt_set_extra(t, X_POD_UID, "uid-web-0");
}

static void m_pod_gone(struct pt *t)
{
	pt_set_extra(t, X_POD_NAME, "gone-1");
}

static void m_pod_other_ns(struct pt *t)
{
	/* api-0 exists, but in namespace other; the token's namespace is shop. */
	pt_set_extra(t, X_POD_NAME, "api-0");
	pt_set_extra(t, X_POD_UID, "uid-api-0");
}

static void m_no_get_pod(struct pt *t)
{
	t->lk.get_pod = NULL;
}

static void m_sloppy_lookup(struct pt *t)
{
	t->w.sloppy_pods = true;
	pt_set_extra(t, X_POD_NAME, "api-0");
	pt_set_extra(t, X_POD_UID, "uid-api-0");
}

static void m_pod_other_sa(struct pt *t)
{
	pt_str(&pt_pod(t, "shop", "web-7d9")->service_account, "admin");
}

static void m_pod_default_sa(struct pt *t)
{
	pt_str(&pt_pod(t, "shop", "web-7d9")->service_account, "");
}

static void m_pod_default_sa_match(struct pt *t)
{
	pt_str(&pt_pod(t, "shop", "web-7d9")->service_account, "");
	m_user(t, "system:serviceaccount:shop:default");
	pt_clear_sans(t);
	pt_add_san(t, CSR_SAN_URI, "spiffe://cluster.local/ns/shop/sa/default");
	pt_add_san(t, CSR_SAN_DNS, "web.shop.svc");
}

static void m_pod_deleting(struct pt *t)
{
	pt_pod(t, "shop", "web-7d9")->deleting = true;
}

static void m_pod_phase(struct pt *t, const char *phase)
{
	pt_str(&pt_pod(t, "shop", "web-7d9")->phase, phase);
}

static void m_pod_succeeded(struct pt *t)
{
	m_pod_phase(t, "Succeeded");
}

static void m_pod_failed(struct pt *t)
{
	m_pod_phase(t, "Failed");
}

static void m_pod_unknown_phase(struct pt *t)
{
	m_pod_phase(t, "");
}

static void m_pod_pending(struct pt *t)
{
	m_pod_phase(t, "Pending");
}

static void m_uid_mismatch(struct pt *t)
{
	pt_set_extra(t, X_POD_UID, "uid-web-0");
}

static void m_node_mismatch(struct pt *t)
{
	pt_set_extra(t, X_NODE_NAME, "node-2");
}

static void m_no_node_claim(struct pt *t)
{
	pt_set_extra(t, X_NODE_NAME, NULL);
}

static void m_pod_unscheduled(struct pt *t)
{
	pt_str(&pt_pod(t, "shop", "web-7d9")->node_name, "");
}

static void m_pod_unscheduled_no_claim(struct pt *t)
{
	m_pod_unscheduled(t);
	m_no_node_claim(t);
}

/* ---- SANs ---- */

static void m_no_sans(struct pt *t)
{
	pt_clear_sans(t);
	pt_clear_subject(t);
}

static void m_max_sans(struct pt *t)
{
	pt_rule(t)->max_sans = 3;
}

static void m_max_sans_exact(struct pt *t)
{
	pt_rule(t)->max_sans = 5;
}

static void m_1000_sans(struct pt *t)
{
	/* Every name the pod's own: only the count is wrong. */
	static const char *const names[] = {"web.shop.svc", "web.shop.svc.cluster.local",
	                                    "10-0-0-5.shop.pod.cluster.local"};
	for (int i = 5; i < 1000; i++)
		pt_add_san(t, CSR_SAN_DNS, names[i % 3]);
}

static void m_two_uris(struct pt *t)
{
	pt_add_san(t, CSR_SAN_URI, "spiffe://cluster.local/ns/shop/sa/web");
}

static void m_other_uri(struct pt *t)
{
	pt_clear_sans(t);
	pt_add_san(t, CSR_SAN_URI, "https://web.shop.svc/");
	pt_add_san(t, CSR_SAN_DNS, "web.shop.svc");
}

static void m_spiffe_other_td(struct pt *t)
{
	pt_clear_sans(t);
	pt_add_san(t, CSR_SAN_URI, "spiffe://example.org/ns/shop/sa/web");
	pt_add_san(t, CSR_SAN_DNS, "web.shop.svc");
}

static void m_trust_domain(struct pt *t)
{
	pt_str(&pt_rule(t)->trust_domain, "example.org");
	m_spiffe_other_td(t);
}

static void m_trust_domain_empty(struct pt *t)
{
	/* An empty trust domain falls back to the cluster domain. */
	pt_str(&pt_rule(t)->trust_domain, "");
}

static void m_spiffe_case(struct pt *t)
{
	pt_clear_sans(t);
	pt_add_san(t, CSR_SAN_URI, "spiffe://cluster.local/ns/shop/sa/WEB");
	pt_add_san(t, CSR_SAN_DNS, "web.shop.svc");
}

static void m_spiffe_other_sa(struct pt *t)
{
	pt_clear_sans(t);
	pt_add_san(t, CSR_SAN_URI, "spiffe://cluster.local/ns/shop/sa/admin");
	pt_add_san(t, CSR_SAN_DNS, "web.shop.svc");
}

static void m_spiffe_off(struct pt *t)
{
	pt_rule(t)->allowed_names &= ~POLICY_NAME_SPIFFE;
}

static void m_dns_other(struct pt *t)
{
	pt_add_san(t, CSR_SAN_DNS, "db.other.svc");
}

static void m_dns_upper(struct pt *t)
{
	pt_add_san(t, CSR_SAN_DNS, "WEB.Shop.SVC");
}

static void m_svc_no_selector(struct pt *t)
{
	pt_add_san(t, CSR_SAN_DNS, "web-hl.shop.svc");
}

static void m_svc_other_ns(struct pt *t)
{
	pt_add_san(t, CSR_SAN_DNS, "web.other.svc");
}

static void m_svc_not_selecting(struct pt *t)
{
	pt_add_san(t, CSR_SAN_DNS, "db.shop.svc");
}

static void m_svc_partial_selector(struct pt *t)
{
	pt_add_san(t, CSR_SAN_DNS, "multi.shop.svc");
}

static void m_svc_all_forms(struct pt *t)
{
	only_san(t, CSR_SAN_DNS, "web");
	pt_add_san(t, CSR_SAN_DNS, "web.shop");
	pt_add_san(t, CSR_SAN_DNS, "web.shop.svc");
	pt_add_san(t, CSR_SAN_DNS, "web.shop.svc.cluster.local");
}

static void m_svc_short_default(struct pt *t)
{
	m_svc_all_forms(t);
}

static void m_svc_short_name(struct pt *t)
{
	only_san(t, CSR_SAN_DNS, "web");
}

static void m_svc_short_ns(struct pt *t)
{
	only_san(t, CSR_SAN_DNS, "web.shop");
}

static void m_svc_all_forms_short(struct pt *t)
{
	pt_rule(t)->allowed_names |= POLICY_NAME_SERVICE_SHORT_DNS;
	m_svc_all_forms(t);
}

static void m_svc_short_only(struct pt *t)
{
	struct policy_rule *r = pt_rule(t);
	r->allowed_names =
	    (r->allowed_names & ~POLICY_NAME_SERVICE_DNS) | POLICY_NAME_SERVICE_SHORT_DNS;
	only_san(t, CSR_SAN_DNS, "web");
	pt_add_san(t, CSR_SAN_DNS, "WEB.shop");
}

static void m_svc_short_only_long_name(struct pt *t)
{
	m_svc_short_only(t);
	pt_add_san(t, CSR_SAN_DNS, "web.shop.svc");
}

static void m_svc_short_not_selecting(struct pt *t)
{
	pt_rule(t)->allowed_names |= POLICY_NAME_SERVICE_SHORT_DNS;
	only_san(t, CSR_SAN_DNS, "db");
	pt_add_san(t, CSR_SAN_DNS, "web-hl.shop");
}

static void m_svc_dns_off(struct pt *t)
{
	pt_rule(t)->allowed_names &= ~POLICY_NAME_SERVICE_DNS;
}

/* An ExternalName Service selecting the pod (the API keeps a selector set
 * there, though nothing uses it). */
static void add_external(struct pt *t, const char *name, const char *selector)
{
	pt_add_service(t, "shop", name, selector)->external_name = true;
}

static void m_svc_external_name(struct pt *t)
{
	add_external(t, "ext", "app=web");
	only_san(t, CSR_SAN_DNS, "ext.shop.svc");
}

static void m_svc_external_name_full(struct pt *t)
{
	add_external(t, "ext", "app=web");
	only_san(t, CSR_SAN_DNS, "ext.shop.svc.cluster.local");
}

static void m_svc_external_name_short(struct pt *t)
{
	pt_rule(t)->allowed_names |= POLICY_NAME_SERVICE_SHORT_DNS;
	add_external(t, "ext", "app=web");
	only_san(t, CSR_SAN_DNS, "ext");
	pt_add_san(t, CSR_SAN_DNS, "ext.shop");
}

static void m_svc_external_name_other_ok(struct pt *t)
{
	/* The alias does not spoil the pod's other Services. */
	add_external(t, "ext", "app=web");
	only_san(t, CSR_SAN_DNS, "web.shop.svc");
}

static void m_hostname_external_name(struct pt *t)
{
	add_external(t, "ext-hl", "");
	pt_str(&pt_pod(t, "shop", "web-7d9")->subdomain, "ext-hl");
	only_san(t, CSR_SAN_DNS, "web-7d9.ext-hl.shop.svc.cluster.local");
}

static void m_cluster_domain(struct pt *t)
{
	pt_str(&t->set->cluster_domain, "corp.local");
	pt_str(&pt_rule(t)->trust_domain, "cluster.local");
	only_san(t, CSR_SAN_DNS, "web.shop.svc.corp.local");
	pt_add_san(t, CSR_SAN_DNS, "10-0-0-5.shop.pod.corp.local");
}

static void m_cluster_domain_old_name(struct pt *t)
{
	pt_str(&t->set->cluster_domain, "corp.local");
	pt_str(&pt_rule(t)->trust_domain, "cluster.local");
}

static void m_hostname(struct pt *t)
{
	pt_str(&pt_pod(t, "shop", "web-7d9")->subdomain, "web-hl");
	only_san(t, CSR_SAN_DNS, "web-7d9.web-hl.shop.svc.cluster.local");
}

static void m_hostname_explicit(struct pt *t)
{
	struct policy_pod *p = pt_pod(t, "shop", "web-7d9");
	pt_str(&p->subdomain, "web-hl");
	pt_str(&p->hostname, "web-0");
	only_san(t, CSR_SAN_DNS, "web-0.web-hl.shop.svc.cluster.local");
}

static void m_hostname_pod_name_after_rename(struct pt *t)
{
	/* With spec.hostname set, the pod name is not a hostname. */
	struct policy_pod *p = pt_pod(t, "shop", "web-7d9");
	pt_str(&p->subdomain, "web-hl");
	pt_str(&p->hostname, "web-0");
	only_san(t, CSR_SAN_DNS, "web-7d9.web-hl.shop.svc.cluster.local");
}

static void m_hostname_no_service(struct pt *t)
{
	pt_str(&pt_pod(t, "shop", "web-7d9")->subdomain, "nosuch");
	only_san(t, CSR_SAN_DNS, "web-7d9.nosuch.shop.svc.cluster.local");
}

static void m_hostname_no_subdomain(struct pt *t)
{
	only_san(t, CSR_SAN_DNS, "web-7d9.web-hl.shop.svc.cluster.local");
}

static void m_hostname_off(struct pt *t)
{
	m_hostname(t);
	pt_rule(t)->allowed_names &= ~POLICY_NAME_HOSTNAME_DNS;
}

static void m_pod_dns_v6(struct pt *t)
{
	only_san(t, CSR_SAN_DNS, "fd00--5.shop.pod.cluster.local");
}

static void m_pod_dns_wrong(struct pt *t)
{
	only_san(t, CSR_SAN_DNS, "10-0-0-6.shop.pod.cluster.local");
}

static void m_pod_dns_other_ns(struct pt *t)
{
	only_san(t, CSR_SAN_DNS, "10-0-0-5.other.pod.cluster.local");
}

static void m_pod_dns_off(struct pt *t)
{
	pt_rule(t)->allowed_names &= ~POLICY_NAME_POD_DNS;
}

static void m_pod_ip_v6(struct pt *t)
{
	only_san(t, CSR_SAN_IP, "fd00::5");
}

static void m_pod_ip_v6_long_text(struct pt *t)
{
	/* The pod's IP is written differently from the SAN's; they are one
	 * address. */
	struct policy_pod *p = pt_pod(t, "shop", "web-7d9");
	util_strv_free(&p->ips);
	util_strv_push(&p->ips, "fd00:0:0:0:0:0:0:5");
	only_san(t, CSR_SAN_IP, "fd00::5");
	pt_add_san(t, CSR_SAN_DNS, "fd00--5.shop.pod.cluster.local");
}

static void m_pod_ip_wrong(struct pt *t)
{
	pt_add_san(t, CSR_SAN_IP, "10.0.0.6");
}

static void m_pod_ip_other_pod(struct pt *t)
{
	pt_add_san(t, CSR_SAN_IP, "10.0.1.7");
}

static void m_pod_ip_off(struct pt *t)
{
	pt_rule(t)->allowed_names &= ~POLICY_NAME_POD_IP;
}

static void m_pod_no_ips(struct pt *t)
{
	util_strv_free(&pt_pod(t, "shop", "web-7d9")->ips);
}

static void m_host_network(struct pt *t)
{
	pt_pod(t, "shop", "web-7d9")->host_network = true;
}

static void m_host_network_ip(struct pt *t)
{
	m_host_network(t);
	only_san(t, CSR_SAN_IP, "10.0.0.5");
}

static void m_host_network_pod_dns(struct pt *t)
{
	m_host_network(t);
	only_san(t, CSR_SAN_DNS, "10-0-0-5.shop.pod.cluster.local");
}

static void m_host_network_service(struct pt *t)
{
	m_host_network(t);
	only_san(t, CSR_SAN_DNS, "web.shop.svc");
	pt_add_san(t, CSR_SAN_DNS, "web.shop.svc.cluster.local");
}

static void m_host_network_no_ips(struct pt *t)
{
	/* Waiting for the status gives such a pod nothing: not a missing object. */
	m_host_network_ip(t);
	util_strv_free(&pt_pod(t, "shop", "web-7d9")->ips);
}

static void m_email(struct pt *t)
{
	pt_add_san(t, CSR_SAN_EMAIL, "web@shop.svc");
}

/* ---- subject ---- */

static void m_cn_not_san(struct pt *t)
{
	pt_str(&pt_cn(t)->value, "api.shop.svc");
	pt_cn(t)->value_len = strlen("api.shop.svc");
}

static void m_cn_upper(struct pt *t)
{
	pt_str(&pt_cn(t)->value, "WEB.SHOP.SVC");
}

static void m_cn_is_spiffe(struct pt *t)
{
	const char *id = "spiffe://cluster.local/ns/shop/sa/web";
	pt_str(&pt_cn(t)->value, id);
	pt_cn(t)->value_len = strlen(id);
}

static void m_no_cn(struct pt *t)
{
	pt_clear_subject(t);
}

/* ---- usages, expiration ---- */

static void m_no_usages(struct pt *t)
{
	pt_set_usages(t, NULL);
}

static void m_code_signing(struct pt *t)
{
	pt_set_usages(t, "digital signature", "code signing", NULL);
}

static void m_usages_restricted(struct pt *t)
{
	struct policy_rule *r = pt_rule(t);
	util_strv_free(&r->usages);
	util_strv_push(&r->usages, "digital signature");
	util_strv_push(&r->usages, "client auth");
}

static void m_exp(struct pt *t, int64_t s)
{
	t->req->has_expiration = true;
	t->req->expiration_seconds = s;
}

static void m_exp_599(struct pt *t)
{
	m_exp(t, 599);
}

static void m_exp_600(struct pt *t)
{
	m_exp(t, 600);
}

static void m_exp_86400(struct pt *t)
{
	m_exp(t, 86400);
}

static void m_exp_86401(struct pt *t)
{
	m_exp(t, 86401);
}

static void m_exp_negative(struct pt *t)
{
	m_exp(t, -1);
}

static void m_exp_unset(struct pt *t)
{
	t->req->has_expiration = false;
	t->req->expiration_seconds = 999999999;
}

static void m_exp_custom_bounds(struct pt *t)
{
	pt_rule(t)->max_expiration_seconds = 3599;
}

/* ---- onFailure, several failures ---- */

static void m_leave_pending(struct pt *t)
{
	pt_rule(t)->on_failure = POLICY_ON_FAILURE_LEAVE_PENDING;
	m_uid_mismatch(t);
}

static void m_leave_pending_good(struct pt *t)
{
	pt_rule(t)->on_failure = POLICY_ON_FAILURE_LEAVE_PENDING;
}

static void m_leave_pending_missing(struct pt *t)
{
	pt_rule(t)->on_failure = POLICY_ON_FAILURE_LEAVE_PENDING;
	m_pod_gone(t);
}

static void m_many(struct pt *t)
{
	t->info->sig.hash = CSR_HASH_SHA1;
	pt_add_san(t, CSR_SAN_DNS, "*.shop.svc");
	pt_set_usages(t, NULL);
	m_pod_deleting(t);
}

static void m_missing_and_usage(struct pt *t)
{
	m_pod_gone(t);
	m_no_usages(t);
}

static void m_undecodable_unbound(struct pt *t)
{
	pt_drop_info(t, "trailing bytes after the DER");
	no_pod_claims(t);
}

static const struct pt_case workload_cases[] = {
    {"good", PT_WORKLOAD, NULL, APPROVE,
     "csr-approver: policy workload-mtls: service account shop/web, pod shop/web-7d9 (uid "
     "uid-web-1), 5 SANs"},

    {"username not a service account", PT_WORKLOAD, m_user_plain, DENY(REQUESTER_NOT_ALLOWED),
     "spec.username \"alice\" is not a service account"},
    {"username without SA", PT_WORKLOAD, m_user_no_sa, DENY(REQUESTER_NOT_ALLOWED),
     "is not a service account"},
    {"username with an empty namespace", PT_WORKLOAD, m_user_empty_ns, DENY(REQUESTER_NOT_ALLOWED),
     "is not a service account"},
    {"username with an empty SA", PT_WORKLOAD, m_user_empty_sa, DENY(REQUESTER_NOT_ALLOWED),
     "is not a service account"},
    {"username with a further colon", PT_WORKLOAD, m_user_extra_colon, DENY(REQUESTER_NOT_ALLOWED),
     "\"system:serviceaccount:shop:web:x\""},
    {"username with an invalid namespace", PT_WORKLOAD, m_user_upper_ns,
     DENY(REQUESTER_NOT_ALLOWED), "is not a service account"},
    {"node as requester", PT_WORKLOAD, m_user_node, DENY(REQUESTER_NOT_ALLOWED),
     "\"system:node:node-1\" is not a service account", NULL, NULL, "SPIFFE"},
    {"no username", PT_WORKLOAD, m_user_missing, DENY(REQUESTER_NOT_ALLOWED),
     "spec.username \"\" is not"},
    {"token not bound to a pod", PT_WORKLOAD, m_no_claims, DENY(REQUESTER_NOT_ALLOWED),
     "not bound to a pod", NULL, NULL, "is not a name of pod"},
    {"pod-name without pod-uid", PT_WORKLOAD, m_name_without_uid, DENY(REQUESTER_NOT_ALLOWED),
     "has a pod-name claim without a pod-uid claim"},
    {"pod-uid without pod-name", PT_WORKLOAD, m_uid_without_name, DENY(REQUESTER_NOT_ALLOWED),
     "has a pod-uid claim without a pod-name claim"},
    {"two pod-uid values", PT_WORKLOAD, m_two_uids, DENY(REQUESTER_NOT_ALLOWED),
     "spec.extra[\"authentication.kubernetes.io/pod-uid\"] does not hold exactly one value"},
    {"empty pod-name", PT_WORKLOAD, m_empty_pod_name, DENY(REQUESTER_NOT_ALLOWED),
     "value \"\" is malformed"},
    {"malformed pod-name", PT_WORKLOAD, m_bad_pod_name, DENY(REQUESTER_NOT_ALLOWED),
     "value \"Web_7d9\" is malformed"},
    {"malformed node-name", PT_WORKLOAD, m_bad_node_claim, DENY(REQUESTER_NOT_ALLOWED),
     "node-name\"] value \"node 1\" is malformed"},

    {"groups without system:serviceaccounts", PT_WORKLOAD, m_groups_no_sa_group,
     DENY(REQUESTER_NOT_ALLOWED),
     "spec.groups lacks \"system:serviceaccounts\", which every service account's request "
     "carries",
     NULL, NULL, "system:serviceaccounts:shop\""},
    {"groups without the namespace's group", PT_WORKLOAD, m_groups_no_ns_group,
     DENY(REQUESTER_NOT_ALLOWED),
     "spec.groups lacks \"system:serviceaccounts:shop\", which every request of a service "
     "account of namespace shop carries",
     NULL, NULL, "lacks \"system:serviceaccounts\""},
    {"groups of another namespace", PT_WORKLOAD, m_groups_other_ns_group,
     DENY(REQUESTER_NOT_ALLOWED), "lacks \"system:serviceaccounts:shop\""},
    {"no groups", PT_WORKLOAD, m_groups_none, DENY(REQUESTER_NOT_ALLOWED),
     "lacks \"system:serviceaccounts\"", "lacks \"system:serviceaccounts:shop\""},
    {"group of a namespace with the same prefix", PT_WORKLOAD, m_groups_prefix_only,
     DENY(REQUESTER_NOT_ALLOWED), "lacks \"system:serviceaccounts:shop\""},
    {"both groups, nothing else", PT_WORKLOAD, m_groups_only_sa_groups, APPROVE},
    {"no group check for a non-service-account", PT_WORKLOAD, m_groups_not_sa_user,
     DENY(REQUESTER_NOT_ALLOWED), "\"alice\" is not a service account", NULL, NULL, "spec.groups"},

    {"namespace not included", PT_WORKLOAD, m_ns_not_included, DENY(NAMESPACE_NOT_ALLOWED),
     "namespace \"shop\" is not in namespaces of this policy (team-*, payments)"},
    {"namespace matched by a glob", PT_WORKLOAD, m_ns_glob_included, APPROVE},
    {"namespace excluded", PT_WORKLOAD, m_ns_excluded, DENY(NAMESPACE_NOT_ALLOWED),
     "namespace \"shop\" is excluded by excludeNamespaces pattern \"sh?p\""},
    {"kube-system excluded", PT_WORKLOAD, m_ns_kube_system, DENY(NAMESPACE_NOT_ALLOWED),
     "\"kube-system\" is excluded"},

    {"no binding, spiffe only", PT_WORKLOAD, m_unbound_spiffe_only, APPROVE,
     "service account shop/web (no pod binding), 1 SAN"},
    {"no binding, DNS SAN", PT_WORKLOAD, m_unbound_dns, DENY(SAN_NOT_ALLOWED),
     "DNS SAN \"web.shop.svc\" is not allowed: without a pod-bound token only the spiffe",
     "IP SAN 10.0.0.5 is not allowed: without a pod-bound token"},
    {"no binding, node claim alone", PT_WORKLOAD, m_unbound_node_claim_only, APPROVE,
     "(no pod binding)"},
    {"optional binding present and good", PT_WORKLOAD, m_optional_binding_present, APPROVE,
     "pod shop/web-7d9"},
    {"optional binding present, wrong uid", PT_WORKLOAD, m_optional_binding_bad_uid,
     DENY(POD_MISMATCH), "has uid \"uid-web-1\", the token names \"uid-web-0\""},
    {"pod not found", PT_WORKLOAD, m_pod_gone, DENY(POD_NOT_FOUND),
     "pod shop/gone-1 named by the requester's token does not exist", NULL, NULL,
     "is not a name of pod", PT_MISSING},
    {"pod of another namespace", PT_WORKLOAD, m_pod_other_ns, DENY(POD_NOT_FOUND),
     "pod shop/api-0 named by the requester's token does not exist", NULL, NULL, NULL, PT_MISSING},
    {"no pod lookup", PT_WORKLOAD, m_no_get_pod, DENY(POD_NOT_FOUND), "does not exist", NULL, NULL,
     NULL, PT_MISSING},
    {"lookup returns another namespace's pod", PT_WORKLOAD, m_sloppy_lookup, DENY(POD_MISMATCH),
     "the cluster returned pod \"other\"/\"api-0\" for shop/api-0"},
    {"pod of another service account", PT_WORKLOAD, m_pod_other_sa, DENY(POD_MISMATCH),
     "pod shop/web-7d9 runs as service account \"admin\", the requester is \"web\"", NULL, NULL,
     "is not a name of pod"},
    {"pod of the default service account", PT_WORKLOAD, m_pod_default_sa, DENY(POD_MISMATCH),
     "runs as service account \"default\""},
    {"default service account", PT_WORKLOAD, m_pod_default_sa_match, APPROVE,
     "service account shop/default"},
    {"deleted pod", PT_WORKLOAD, m_pod_deleting, DENY(POD_MISMATCH),
     "pod shop/web-7d9 is being deleted"},
    {"Succeeded pod", PT_WORKLOAD, m_pod_succeeded, DENY(POD_MISMATCH),
     "pod shop/web-7d9 is in phase \"Succeeded\" (want Pending or Running)"},
    {"Failed pod", PT_WORKLOAD, m_pod_failed, DENY(POD_MISMATCH), "phase \"Failed\""},
    {"pod of unknown phase", PT_WORKLOAD, m_pod_unknown_phase, DENY(POD_MISMATCH), "phase \"\""},
    {"Pending pod", PT_WORKLOAD, m_pod_pending, APPROVE},
    {"uid mismatch", PT_WORKLOAD, m_uid_mismatch, DENY(POD_MISMATCH),
     "pod shop/web-7d9 has uid \"uid-web-1\", the token names \"uid-web-0\""},
    {"node-name claim mismatch", PT_WORKLOAD, m_node_mismatch, DENY(POD_MISMATCH),
     "pod shop/web-7d9 is on node \"node-1\", the token names node \"node-2\""},
    {"no node-name claim", PT_WORKLOAD, m_no_node_claim, APPROVE},
    {"node claim, pod unscheduled", PT_WORKLOAD, m_pod_unscheduled, DENY(POD_MISMATCH),
     "is on node \"\""},
    {"no node claim, pod unscheduled", PT_WORKLOAD, m_pod_unscheduled_no_claim, APPROVE},

    {"no SAN", PT_WORKLOAD, m_no_sans, DENY(SAN_NOT_ALLOWED),
     "the request holds no SAN (at least one is required)"},
    {"more SANs than maxSANs", PT_WORKLOAD, m_max_sans, DENY(SAN_NOT_ALLOWED),
     "5 SANs, more than maxSANs 3"},
    {"exactly maxSANs", PT_WORKLOAD, m_max_sans_exact, APPROVE},
    {"1000 of the pod's own names", PT_WORKLOAD, m_1000_sans, DENY(SAN_NOT_ALLOWED),
     "csr-approver: policy workload-mtls: 1000 SANs, more than maxSANs 32", NULL, NULL,
     "is not a name"},
    {"two URI SANs", PT_WORKLOAD, m_two_uris, DENY(SAN_NOT_ALLOWED), "2 URI SANs (at most one)"},
    {"URI other than spiffe", PT_WORKLOAD, m_other_uri, DENY(SAN_NOT_ALLOWED),
     "URI SAN \"https://web.shop.svc/\" is not the SPIFFE ID of the requester (allowed: "
     "spiffe://cluster.local/ns/shop/sa/web)"},
    {"spiffe of another trust domain", PT_WORKLOAD, m_spiffe_other_td, DENY(SAN_NOT_ALLOWED),
     "\"spiffe://example.org/ns/shop/sa/web\" is not the SPIFFE ID"},
    {"spiffe of the configured trust domain", PT_WORKLOAD, m_trust_domain, APPROVE},
    {"empty trust domain", PT_WORKLOAD, m_trust_domain_empty, APPROVE},
    {"spiffe differing in case", PT_WORKLOAD, m_spiffe_case, DENY(SAN_NOT_ALLOWED),
     "sa/WEB\" is not the SPIFFE ID"},
    {"spiffe of another service account", PT_WORKLOAD, m_spiffe_other_sa, DENY(SAN_NOT_ALLOWED),
     "sa/admin\" is not the SPIFFE ID"},
    {"spiffe not in allowedNames", PT_WORKLOAD, m_spiffe_off, DENY(SAN_NOT_ALLOWED),
     "(spiffe is not in allowedNames)"},
    {"DNS of another service", PT_WORKLOAD, m_dns_other, DENY(SAN_NOT_ALLOWED),
     "DNS SAN \"db.other.svc\" is not a name of pod shop/web-7d9 (allowed: web.shop.svc, "
     "web.shop.svc.cluster.local, "},
    {"DNS in another case", PT_WORKLOAD, m_dns_upper, APPROVE},
    {"service without selector", PT_WORKLOAD, m_svc_no_selector, DENY(SAN_NOT_ALLOWED),
     "\"web-hl.shop.svc\" is not a name of pod"},
    {"service of another namespace", PT_WORKLOAD, m_svc_other_ns, DENY(SAN_NOT_ALLOWED),
     "\"web.other.svc\" is not a name of pod"},
    {"service selecting other pods", PT_WORKLOAD, m_svc_not_selecting, DENY(SAN_NOT_ALLOWED),
     "\"db.shop.svc\" is not a name"},
    {"service selector matching in part", PT_WORKLOAD, m_svc_partial_selector,
     DENY(SAN_NOT_ALLOWED), "\"multi.shop.svc\" is not a name"},
    {"serviceDNS: the short forms are not its names", PT_WORKLOAD, m_svc_short_default,
     DENY(SAN_NOT_ALLOWED),
     "DNS SAN \"web\" is not a name of pod shop/web-7d9 (allowed: web.shop.svc, ",
     "DNS SAN \"web.shop\" is not a name of pod shop/web-7d9", NULL, "\"web.shop.svc\" is not"},
    {"serviceDNS: the name S alone", PT_WORKLOAD, m_svc_short_name, DENY(SAN_NOT_ALLOWED),
     "DNS SAN \"web\" is not a name"},
    {"serviceDNS: the name S.NS alone", PT_WORKLOAD, m_svc_short_ns, DENY(SAN_NOT_ALLOWED),
     "DNS SAN \"web.shop\" is not a name"},
    {"serviceShortDNS with serviceDNS: all four forms", PT_WORKLOAD, m_svc_all_forms_short, APPROVE,
     "5 SANs"},
    {"serviceShortDNS alone: S and S.NS", PT_WORKLOAD, m_svc_short_only, APPROVE, "3 SANs"},
    {"serviceShortDNS alone: not S.NS.svc", PT_WORKLOAD, m_svc_short_only_long_name,
     DENY(SAN_NOT_ALLOWED), "DNS SAN \"web.shop.svc\" is not a name", "(allowed: web, web.shop, "},
    {"serviceShortDNS: Services that do not select the pod", PT_WORKLOAD, m_svc_short_not_selecting,
     DENY(SAN_NOT_ALLOWED), "DNS SAN \"db\" is not a name",
     "DNS SAN \"web-hl.shop\" is not a name"},
    {"ExternalName Service: S.NS.svc", PT_WORKLOAD, m_svc_external_name, DENY(SAN_NOT_ALLOWED),
     "DNS SAN \"ext.shop.svc\" is not a name of pod shop/web-7d9", NULL, NULL, "allowed: ext"},
    {"ExternalName Service: S.NS.svc.CD", PT_WORKLOAD, m_svc_external_name_full,
     DENY(SAN_NOT_ALLOWED), "\"ext.shop.svc.cluster.local\" is not a name"},
    {"ExternalName Service: short names", PT_WORKLOAD, m_svc_external_name_short,
     DENY(SAN_NOT_ALLOWED), "DNS SAN \"ext\" is not a name", "DNS SAN \"ext.shop\" is not a name"},
    {"ExternalName Service beside a real one", PT_WORKLOAD, m_svc_external_name_other_ok, APPROVE},
    {"hostnameDNS under an ExternalName Service", PT_WORKLOAD, m_hostname_external_name,
     DENY(SAN_NOT_ALLOWED), "\"web-7d9.ext-hl.shop.svc.cluster.local\" is not a name"},
    {"serviceDNS not in allowedNames", PT_WORKLOAD, m_svc_dns_off, DENY(SAN_NOT_ALLOWED),
     "\"web.shop.svc\" is not a name of pod shop/web-7d9 (allowed: "
     "10-0-0-5.shop.pod.cluster.local, fd00--5.shop.pod.cluster.local)"},
    {"cluster domain", PT_WORKLOAD, m_cluster_domain, APPROVE},
    {"names of the old cluster domain", PT_WORKLOAD, m_cluster_domain_old_name,
     DENY(SAN_NOT_ALLOWED), "\"web.shop.svc.cluster.local\" is not a name",
     "\"10-0-0-5.shop.pod.cluster.local\" is not a name"},
    {"hostnameDNS from the pod name", PT_WORKLOAD, m_hostname, APPROVE},
    {"hostnameDNS from spec.hostname", PT_WORKLOAD, m_hostname_explicit, APPROVE},
    {"hostnameDNS: the pod name when spec.hostname is set", PT_WORKLOAD,
     m_hostname_pod_name_after_rename, DENY(SAN_NOT_ALLOWED), "is not a name of pod"},
    {"hostnameDNS without its service", PT_WORKLOAD, m_hostname_no_service, DENY(SAN_NOT_ALLOWED),
     "\"web-7d9.nosuch.shop.svc.cluster.local\" is not a name"},
    {"hostnameDNS without a subdomain", PT_WORKLOAD, m_hostname_no_subdomain, DENY(SAN_NOT_ALLOWED),
     "is not a name of pod"},
    {"hostnameDNS not in allowedNames", PT_WORKLOAD, m_hostname_off, DENY(SAN_NOT_ALLOWED),
     "is not a name of pod"},
    {"podDNS IPv6", PT_WORKLOAD, m_pod_dns_v6, APPROVE},
    {"podDNS of another IP", PT_WORKLOAD, m_pod_dns_wrong, DENY(SAN_NOT_ALLOWED),
     "\"10-0-0-6.shop.pod.cluster.local\" is not a name"},
    {"podDNS of another namespace", PT_WORKLOAD, m_pod_dns_other_ns, DENY(SAN_NOT_ALLOWED),
     "\"10-0-0-5.other.pod.cluster.local\" is not a name"},
    {"podDNS not in allowedNames", PT_WORKLOAD, m_pod_dns_off, DENY(SAN_NOT_ALLOWED),
     "\"10-0-0-5.shop.pod.cluster.local\" is not a name"},
    {"podIP IPv6", PT_WORKLOAD, m_pod_ip_v6, APPROVE},
    {"podIP compared as addresses", PT_WORKLOAD, m_pod_ip_v6_long_text, APPROVE},
    {"IP not of the pod", PT_WORKLOAD, m_pod_ip_wrong, DENY(SAN_NOT_ALLOWED),
     "IP SAN 10.0.0.6 is not an IP of pod shop/web-7d9 (allowed: 10.0.0.5, fd00::5)"},
    {"IP of another pod", PT_WORKLOAD, m_pod_ip_other_pod, DENY(SAN_NOT_ALLOWED),
     "IP SAN 10.0.1.7 is not an IP of pod"},
    {"podIP not in allowedNames", PT_WORKLOAD, m_pod_ip_off, DENY(SAN_NOT_ALLOWED),
     "IP SAN 10.0.0.5 is not allowed (podIP is not in allowedNames)"},
    /* A pod whose status has not arrived: denied, but as resting on an
     * object that may still come, so a live controller waits for it. */
    {"pod without IPs", PT_WORKLOAD, m_pod_no_ips, DENY(SAN_NOT_ALLOWED),
     "IP SAN 10.0.0.5 is not an IP of pod shop/web-7d9 (the pod has no IP yet) (allowed: none)",
     "\"10-0-0-5.shop.pod.cluster.local\" is not a name of pod shop/web-7d9 (the pod has no IP yet)",
     NULL, NULL, PT_MISSING},
    {"hostNetwork pod: its IP", PT_WORKLOAD, m_host_network_ip, DENY(SAN_NOT_ALLOWED),
     "IP SAN 10.0.0.5 is not an IP of pod shop/web-7d9 (the pod uses the host network: its IPs "
     "are its node's) (allowed: none)"},
    {"hostNetwork pod: its pod DNS name", PT_WORKLOAD, m_host_network_pod_dns,
     DENY(SAN_NOT_ALLOWED),
     "\"10-0-0-5.shop.pod.cluster.local\" is not a name of pod shop/web-7d9 (the pod uses the "
     "host network: its IPs are its node's)",
     NULL, NULL, "10-0-0-5.shop.pod.cluster.local,"},
    {"hostNetwork pod: the good request", PT_WORKLOAD, m_host_network, DENY(SAN_NOT_ALLOWED),
     "IP SAN 10.0.0.5 is not an IP of pod", "\"10-0-0-5.shop.pod.cluster.local\" is not a name"},
    {"hostNetwork pod: spiffe and Service names", PT_WORKLOAD, m_host_network_service, APPROVE},
    {"hostNetwork pod without IPs yet", PT_WORKLOAD, m_host_network_no_ips, DENY(SAN_NOT_ALLOWED),
     "(the pod uses the host network: its IPs are its node's)", NULL, NULL, "no IP yet"},
    {"email SAN", PT_WORKLOAD, m_email, DENY(SAN_NOT_ALLOWED), "email SAN \"web@shop.svc\""},

    {"CN not among the DNS SANs", PT_WORKLOAD, m_cn_not_san, DENY(SUBJECT_NOT_ALLOWED),
     "subject CN \"api.shop.svc\" is not one of the requested DNS SANs"},
    {"CN in another case", PT_WORKLOAD, m_cn_upper, APPROVE},
    {"CN equal to the URI SAN", PT_WORKLOAD, m_cn_is_spiffe, DENY(SUBJECT_NOT_ALLOWED),
     "is not one of the requested DNS SANs"},
    {"no CN", PT_WORKLOAD, m_no_cn, APPROVE},

    {"no usages", PT_WORKLOAD, m_no_usages, DENY(USAGE_NOT_ALLOWED), "spec.usages is empty"},
    {"code signing", PT_WORKLOAD, m_code_signing, DENY(USAGE_NOT_ALLOWED),
     "usage \"code signing\" is not in usages of this policy (allowed: digital signature, "
     "key encipherment, client auth, server auth)"},
    {"usage outside a restricted list", PT_WORKLOAD, m_usages_restricted, DENY(USAGE_NOT_ALLOWED),
     "usage \"key encipherment\" is not in usages", "usage \"server auth\" is not in usages"},
    {"expiration 599", PT_WORKLOAD, m_exp_599, DENY(EXPIRATION_NOT_ALLOWED),
     "spec.expirationSeconds 599 is outside [600, 86400]"},
    {"expiration 600", PT_WORKLOAD, m_exp_600, APPROVE},
    {"expiration 86400", PT_WORKLOAD, m_exp_86400, APPROVE},
    {"expiration 86401", PT_WORKLOAD, m_exp_86401, DENY(EXPIRATION_NOT_ALLOWED),
     "86401 is outside"},
    {"negative expiration", PT_WORKLOAD, m_exp_negative, DENY(EXPIRATION_NOT_ALLOWED),
     "-1 is outside"},
    {"no expiration", PT_WORKLOAD, m_exp_unset, APPROVE},
    {"expiration above a custom maximum", PT_WORKLOAD, m_exp_custom_bounds,
     DENY(EXPIRATION_NOT_ALLOWED), "3600 is outside [600, 3599]"},

    {"leave-pending", PT_WORKLOAD, m_leave_pending, DENY(POD_MISMATCH), "has uid", NULL, NULL, NULL,
     PT_LEAVE},
    {"leave-pending, good request", PT_WORKLOAD, m_leave_pending_good, APPROVE},
    {"leave-pending, missing pod", PT_WORKLOAD, m_leave_pending_missing, DENY(POD_NOT_FOUND),
     "does not exist", NULL, NULL, NULL, PT_LEAVE | PT_MISSING},
    {"several failures", PT_WORKLOAD, m_many, DENY(SIGNATURE_ALGORITHM_NOT_ALLOWED),
     "uses hash SHA-1", "\"*.shop.svc\" is a wildcard", "spec.usages is empty",
     "is not a name of pod"},
    {"missing pod and a bad usage list", PT_WORKLOAD, m_missing_and_usage, DENY(POD_NOT_FOUND),
     "does not exist", "spec.usages is empty", NULL, NULL, PT_MISSING},
    {"undecodable and unbound", PT_WORKLOAD, m_undecodable_unbound, DENY(INVALID_REQUEST),
     "trailing bytes after the DER", "not bound to a pod", NULL, "SAN"},
};

#define N_WORKLOAD (sizeof(workload_cases) / sizeof(workload_cases[0]))

ParameterizedTestParameters(policy_workload, rules)
{
	static size_t idx[N_WORKLOAD];
	for (size_t i = 0; i < N_WORKLOAD; i++)
		idx[i] = i;
	return cr_make_param_array(size_t, idx, N_WORKLOAD);
}

ParameterizedTest(size_t *i, policy_workload, rules)
{
	pt_run_case(&workload_cases[*i]);
}
