/*
 * types kubelet-serving and kubelet-client. The good serving request: node
 * node-1 asking for node-1, node-1.example.com and 192.168.1.10; the policy
 * also allows dnsNameRegex ^ip-[0-9-]+\.ec2\.internal$ and ipPrefixes
 * 10.20.0.0/16. The good client request: node-1 renewing its own
 * certificate (SubjectAccessReview allowed).
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"

/* Table rows leave their trailing fields to the zero default. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#define APPROVE POLICY_APPROVE, POLICY_R_AUTO_APPROVED
#define DENY(r) POLICY_DENY, POLICY_R_##r

static void set_cn(struct pt *t, const char *cn)
{
	pt_str(&pt_cn(t)->value, cn);
	pt_cn(t)->value_len = strlen(cn);
}

static void set_o(struct pt *t, const char *o)
{
	for (size_t i = 0; i < t->info->n_subject; i++) {
		struct csr_subject_attr *a = &t->info->subject[i];
		if (a->kind == CSR_ATTR_O) {
			pt_str(&a->value, o);
			a->value_len = strlen(o);
			return;
		}
	}
	cr_assert_fail("fixture: no O");
}

static void drop_o(struct pt *t)
{
	pt_clear_subject(t);
	pt_add_subject(t, CSR_ATTR_CN, CSR_STR_PRINTABLE, "system:node:node-1");
}

/* ---- kubelet-serving: requester, subject ---- */

static void m_user_plain(struct pt *t)
{
	pt_str(&t->req->username, "alice");
}

static void m_user_empty_node(struct pt *t)
{
	pt_str(&t->req->username, "system:node:");
}

static void m_user_sa(struct pt *t)
{
	pt_str(&t->req->username, "system:serviceaccount:kube-system:node-1");
}

static void m_no_nodes_group(struct pt *t)
{
	pt_set_groups(t, "system:authenticated", NULL);
}

static void m_cn_other_node(struct pt *t)
{
	set_cn(t, "system:node:node-2");
}

static void m_cn_missing(struct pt *t)
{
	pt_clear_subject(t);
	pt_add_subject(t, CSR_ATTR_O, CSR_STR_PRINTABLE, "system:nodes");
}

static void m_o_missing(struct pt *t)
{
	drop_o(t);
}

static void m_o_wrong(struct pt *t)
{
	set_o(t, "system:node");
}

static void m_o_masters(struct pt *t)
{
	set_o(t, "system:masters");
}

static void m_o_twice(struct pt *t)
{
	pt_add_subject(t, CSR_ATTR_O, CSR_STR_PRINTABLE, "system:nodes");
}

static void m_o_extra(struct pt *t)
{
	pt_add_subject(t, CSR_ATTR_O, CSR_STR_UTF8, "admins");
}

/* ---- kubelet-serving: node ---- */

static void m_unknown_node(struct pt *t)
{
	pt_str(&t->req->username, "system:node:node-9");
	set_cn(t, "system:node:node-9");
}

static void m_no_get_node(struct pt *t)
{
	t->lk.get_node = NULL;
}

static void m_unknown_node_regex_san(struct pt *t)
{
	m_unknown_node(t);
	pt_clear_sans(t);
	pt_add_san(t, CSR_SAN_DNS, "ip-10-0-0-1.ec2.internal");
}

/* ---- kubelet-serving: SANs ---- */

static void m_dns(struct pt *t, const char *name)
{
	pt_add_san(t, CSR_SAN_DNS, name);
}

static void m_ip(struct pt *t, const char *ip)
{
	pt_add_san(t, CSR_SAN_IP, ip);
}

static void m_foreign_dns(struct pt *t)
{
	m_dns(t, "node-2");
}

static void m_internal_dns(struct pt *t)
{
	m_dns(t, "node-1.internal");
}

static void m_dns_case(struct pt *t)
{
	m_dns(t, "NODE-1.Example.COM");
}

static void m_regex_dns(struct pt *t)
{
	m_dns(t, "ip-10-0-0-1.ec2.internal");
}

static void m_regex_prefix_only(struct pt *t)
{
	m_dns(t, "ip-10-0-0-1.ec2.internal.evil.com");
}

static void m_regex_suffix_only(struct pt *t)
{
	m_dns(t, "xip-10-0-0-1.ec2.internal");
}

static void m_regex_unanchored(struct pt *t)
{
	/* An expression compiled without anchors still has to match the whole
	 * name. */
	struct policy_rule *r = pt_rule(t);
	regfree(r->dns_name_re);
	cr_assert_eq(regcomp(r->dns_name_re, "ip-[0-9-]+\\.ec2\\.internal", REG_EXTENDED), 0);
	m_dns(t, "evil.ip-10-0-0-1.ec2.internal");
}

static void m_no_regex(struct pt *t)
{
	struct policy_rule *r = pt_rule(t);
	regfree(r->dns_name_re);
	free(r->dns_name_re);
	r->dns_name_re = NULL;
	m_dns(t, "ip-10-0-0-1.ec2.internal");
}

static void m_foreign_ip(struct pt *t)
{
	m_ip(t, "192.168.1.11");
}

static void m_external_ip(struct pt *t)
{
	m_ip(t, "203.0.113.7");
}

static void m_prefix_ip(struct pt *t)
{
	m_ip(t, "10.20.3.4");
}

static void m_outside_prefix(struct pt *t)
{
	m_ip(t, "10.21.0.1");
}

static void m_prefix_20(struct pt *t, const char *ip)
{
	struct policy_rule *r = pt_rule(t);
	r->ip_prefixes[0].bits = 20;
	r->ip_prefixes[0].addr[2] = 16;
	m_ip(t, ip);
}

static void m_prefix_20_in(struct pt *t)
{
	m_prefix_20(t, "10.20.31.255");
}

static void m_prefix_20_out(struct pt *t)
{
	m_prefix_20(t, "10.20.32.0");
}

static void m_prefix_v6(struct pt *t)
{
	struct policy_rule *r = pt_rule(t);
	r->ip_prefixes = realloc(r->ip_prefixes, 2 * sizeof(*r->ip_prefixes));
	memset(&r->ip_prefixes[1], 0, sizeof(r->ip_prefixes[1]));
	r->ip_prefixes[1].len = 16;
	r->ip_prefixes[1].bits = 48;
	r->ip_prefixes[1].addr[0] = 0x20;
	r->ip_prefixes[1].addr[1] = 0x01;
	r->ip_prefixes[1].addr[2] = 0x0d;
	r->ip_prefixes[1].addr[3] = 0xb8;
	r->n_ip_prefixes = 2;
	m_ip(t, "2001:db8:0:1::7");
}

static void m_prefix_v6_outside(struct pt *t)
{
	m_prefix_v6(t);
	m_ip(t, "2001:db8:1::7");
}

static void m_prefix_family(struct pt *t)
{
	/* An IPv4 prefix never covers an IPv6 address. */
	m_ip(t, "a14::1");
}

static void m_ip_listed_as_hostname(struct pt *t)
{
	/* Only InternalIP and ExternalIP addresses are IP SAN material. */
	pt_add_node_address(pt_node(t, "node-1"), "Hostname", "192.168.1.99");
	m_ip(t, "192.168.1.99");
}

static void m_dns_listed_as_ip(struct pt *t)
{
	pt_add_node_address(pt_node(t, "node-1"), "InternalIP", "other.example.com");
	m_dns(t, "other.example.com");
}

static void m_serving_uri(struct pt *t)
{
	pt_add_san(t, CSR_SAN_URI, "spiffe://cluster.local/node/node-1");
}

static void m_serving_email(struct pt *t)
{
	pt_add_san(t, CSR_SAN_EMAIL, "node-1@example.com");
}

static void m_serving_no_san(struct pt *t)
{
	pt_clear_sans(t);
}

static void m_serving_max_sans(struct pt *t)
{
	pt_rule(t)->max_sans = 2;
}

static void m_serving_1000_sans(struct pt *t)
{
	/* Every name the node's own: only the count is wrong. */
	for (int i = 3; i < 1000; i++)
		pt_add_san(t, CSR_SAN_DNS, i % 2 ? "node-1" : "node-1.example.com");
}

static void m_serving_count_first(struct pt *t)
{
	pt_rule(t)->max_sans = 2;
	m_ip(t, "127.0.0.1");
}

static void m_serving_loopback(struct pt *t)
{
	m_ip(t, "127.0.0.1");
}

/* ---- usages, expiration (both types) ---- */

static void m_serving_client_auth(struct pt *t)
{
	pt_set_usages(t, "digital signature", "key encipherment", "server auth", "client auth",
	              NULL);
}

static void m_serving_no_server_auth(struct pt *t)
{
	pt_set_usages(t, "digital signature", "key encipherment", NULL);
}

static void m_serving_minimal_usages(struct pt *t)
{
	pt_set_usages(t, "digital signature", "server auth", NULL);
}

static void m_serving_rule_usages(struct pt *t)
{
	/* The policy's usages restrict further. */
	struct policy_rule *r = pt_rule(t);
	util_strv_free(&r->usages);
	util_strv_push(&r->usages, "digital signature");
	util_strv_push(&r->usages, "server auth");
}

static void m_exp_599(struct pt *t)
{
	t->req->has_expiration = true;
	t->req->expiration_seconds = 599;
}

static void m_serving_leave_pending(struct pt *t)
{
	pt_rule(t)->on_failure = POLICY_ON_FAILURE_LEAVE_PENDING;
	m_foreign_dns(t);
}

static const struct pt_case serving_cases[] = {
    {"good", PT_SERVING, NULL, APPROVE,
     "csr-approver: policy kubelet-serving: node node-1, 3 SANs"},
    {"requester not a node", PT_SERVING, m_user_plain, DENY(REQUESTER_NOT_ALLOWED),
     "spec.username \"alice\" is not a node (want system:node:NAME)", NULL, NULL, "subject CN"},
    {"requester system:node:", PT_SERVING, m_user_empty_node, DENY(REQUESTER_NOT_ALLOWED),
     "\"system:node:\" is not a node"},
    {"service account as requester", PT_SERVING, m_user_sa, DENY(REQUESTER_NOT_ALLOWED),
     "is not a node"},
    {"no system:nodes group", PT_SERVING, m_no_nodes_group, DENY(REQUESTER_NOT_ALLOWED),
     "spec.groups lacks \"system:nodes\""},
    {"CN of another node", PT_SERVING, m_cn_other_node, DENY(SUBJECT_NOT_ALLOWED),
     "subject CN \"system:node:node-2\" is not \"system:node:node-1\", the requester"},
    {"no CN", PT_SERVING, m_cn_missing, DENY(SUBJECT_NOT_ALLOWED), "subject has no CN"},
    {"no O", PT_SERVING, m_o_missing, DENY(SUBJECT_NOT_ALLOWED),
     "subject has no O (want O \"system:nodes\")"},
    {"wrong O", PT_SERVING, m_o_wrong, DENY(SUBJECT_NOT_ALLOWED),
     "subject O \"system:node\" is not allowed (only \"system:nodes\")"},
    {"O=system:masters", PT_SERVING, m_o_masters, DENY(SUBJECT_NOT_ALLOWED),
     "subject O \"system:masters\" is not allowed", NULL, NULL, "(only"},
    {"O twice", PT_SERVING, m_o_twice, DENY(SUBJECT_NOT_ALLOWED), "subject has 2 O attributes"},
    {"a second O", PT_SERVING, m_o_extra, DENY(SUBJECT_NOT_ALLOWED),
     "subject O \"admins\" is not allowed"},
    {"unknown node", PT_SERVING, m_unknown_node, DENY(NODE_NOT_FOUND),
     "node \"node-9\" does not exist", NULL, NULL, "is not an address", PT_MISSING},
    {"no node lookup", PT_SERVING, m_no_get_node, DENY(NODE_NOT_FOUND), "does not exist", NULL,
     NULL, NULL, PT_MISSING},
    {"unknown node, regex name", PT_SERVING, m_unknown_node_regex_san, DENY(NODE_NOT_FOUND),
     "does not exist", NULL, NULL, "SAN", PT_MISSING},
    {"DNS of another node", PT_SERVING, m_foreign_dns, DENY(SAN_NOT_ALLOWED),
     "DNS SAN \"node-2\" is not an address of node node-1 (allowed: node-1, node-1.internal, "
     "node-1.example.com; or matching dnsNameRegex \"^ip-[0-9-]+\\\\.ec2\\\\.internal$\")"},
    {"InternalDNS", PT_SERVING, m_internal_dns, APPROVE},
    {"DNS in another case", PT_SERVING, m_dns_case, APPROVE},
    {"dnsNameRegex", PT_SERVING, m_regex_dns, APPROVE},
    {"dnsNameRegex prefix only", PT_SERVING, m_regex_prefix_only, DENY(SAN_NOT_ALLOWED),
     "\"ip-10-0-0-1.ec2.internal.evil.com\" is not an address"},
    {"dnsNameRegex suffix only", PT_SERVING, m_regex_suffix_only, DENY(SAN_NOT_ALLOWED),
     "\"xip-10-0-0-1.ec2.internal\" is not an address"},
    {"unanchored dnsNameRegex", PT_SERVING, m_regex_unanchored, DENY(SAN_NOT_ALLOWED),
     "\"evil.ip-10-0-0-1.ec2.internal\" is not an address"},
    {"no dnsNameRegex", PT_SERVING, m_no_regex, DENY(SAN_NOT_ALLOWED),
     "\"ip-10-0-0-1.ec2.internal\" is not an address", NULL, NULL, "dnsNameRegex"},
    {"IP of another node", PT_SERVING, m_foreign_ip, DENY(SAN_NOT_ALLOWED),
     "IP SAN 192.168.1.11 is not an address of node node-1 (allowed: 192.168.1.10, "
     "203.0.113.7; or inside the 1 ipPrefixes)"},
    {"ExternalIP", PT_SERVING, m_external_ip, APPROVE},
    {"IP in ipPrefixes", PT_SERVING, m_prefix_ip, APPROVE},
    {"IP outside ipPrefixes", PT_SERVING, m_outside_prefix, DENY(SAN_NOT_ALLOWED),
     "IP SAN 10.21.0.1 is not an address"},
    {"IP in a /20", PT_SERVING, m_prefix_20_in, APPROVE},
    {"IP outside a /20", PT_SERVING, m_prefix_20_out, DENY(SAN_NOT_ALLOWED),
     "10.20.32.0 is not an address"},
    {"IPv6 prefix", PT_SERVING, m_prefix_v6, APPROVE},
    {"outside an IPv6 prefix", PT_SERVING, m_prefix_v6_outside, DENY(SAN_NOT_ALLOWED),
     "2001:db8:1::7 is not an address"},
    {"IPv6 address against an IPv4 prefix", PT_SERVING, m_prefix_family, DENY(SAN_NOT_ALLOWED),
     "a14::1 is not an address"},
    {"IP listed as a Hostname address", PT_SERVING, m_ip_listed_as_hostname, DENY(SAN_NOT_ALLOWED),
     "192.168.1.99 is not an address"},
    {"DNS name listed as an InternalIP", PT_SERVING, m_dns_listed_as_ip, DENY(SAN_NOT_ALLOWED),
     "\"other.example.com\" is not an address"},
    {"URI SAN", PT_SERVING, m_serving_uri, DENY(SAN_NOT_ALLOWED),
     "URI SAN \"spiffe://cluster.local/node/node-1\" is not allowed in a kubelet-serving"},
    {"email SAN", PT_SERVING, m_serving_email, DENY(SAN_NOT_ALLOWED), "email SAN"},
    {"no SAN", PT_SERVING, m_serving_no_san, DENY(SAN_NOT_ALLOWED), "the request holds no SAN"},
    {"1000 of the node's own names", PT_SERVING, m_serving_1000_sans, DENY(SAN_NOT_ALLOWED),
     "csr-approver: policy kubelet-serving: 1000 SANs, more than maxSANs 32", NULL, NULL,
     "is not an address"},
    {"the count before the SANs' own failures", PT_SERVING, m_serving_count_first,
     DENY(SAN_NOT_ALLOWED),
     "csr-approver: policy kubelet-serving: 4 SANs, more than maxSANs 2; IP SAN 127.0.0.1 is a "
     "loopback address"},
    {"more SANs than maxSANs", PT_SERVING, m_serving_max_sans, DENY(SAN_NOT_ALLOWED),
     "3 SANs, more than maxSANs 2"},
    {"loopback IP", PT_SERVING, m_serving_loopback, DENY(SAN_NOT_ALLOWED),
     "127.0.0.1 is a loopback address", NULL, NULL, "is not an address"},
    {"client auth", PT_SERVING, m_serving_client_auth, DENY(USAGE_NOT_ALLOWED),
     "usage \"client auth\" is not allowed for kubelet-serving (allowed: digital signature, "
     "key encipherment, server auth)"},
    {"no server auth", PT_SERVING, m_serving_no_server_auth, DENY(USAGE_NOT_ALLOWED),
     "spec.usages lacks \"server auth\", which kubelet-serving requires"},
    {"digital signature and server auth", PT_SERVING, m_serving_minimal_usages, APPROVE},
    {"usages restricted by the policy", PT_SERVING, m_serving_rule_usages, DENY(USAGE_NOT_ALLOWED),
     "usage \"key encipherment\" is not in usages of this policy"},
    {"expiration 599", PT_SERVING, m_exp_599, DENY(EXPIRATION_NOT_ALLOWED), "599"},
    {"leave-pending", PT_SERVING, m_serving_leave_pending, DENY(SAN_NOT_ALLOWED), "node-2", NULL,
     NULL, NULL, PT_LEAVE},
};

/* ---- kubelet-client ---- */

static void m_bootstrap(struct pt *t)
{
	pt_str(&t->req->username, "system:bootstrap:abc123");
	pt_set_groups(t, "system:bootstrappers", "system:bootstrappers:kubeadm:default-node-token",
	              "system:authenticated", NULL);
}

static void m_other_node_requester(struct pt *t)
{
	pt_str(&t->req->username, "system:node:node-2");
}

static void m_sar_denied(struct pt *t)
{
	t->w.sar_answer = POLICY_SAR_DENIED;
}

static void m_sar_pending(struct pt *t)
{
	t->w.sar_answer = POLICY_SAR_UNASKED;
}

/* A lookup that already holds "denied" for any review (as `check` does
 * without --authorize allow): no review is asked. */
static void m_no_authorize(struct pt *t)
{
	t->lk.authorization = POLICY_SAR_DENIED;
}

static void m_client_san(struct pt *t)
{
	pt_add_ext(t, CSR_EXT_SAN, "2.5.29.17", "subjectAltName", false);
	pt_add_san(t, CSR_SAN_DNS, "node-1");
}

static void m_client_40_sans(struct pt *t)
{
	pt_add_ext(t, CSR_EXT_SAN, "2.5.29.17", "subjectAltName", false);
	for (int i = 0; i < 40; i++)
		pt_add_san(t, CSR_SAN_DNS, "node-1");
}

static void m_client_cn_bare(struct pt *t)
{
	set_cn(t, "node-1");
}

static void m_client_cn_empty_name(struct pt *t)
{
	set_cn(t, "system:node:");
}

static void m_client_cn_bad_name(struct pt *t)
{
	set_cn(t, "system:node:Node_1");
}

static void m_client_server_auth(struct pt *t)
{
	pt_set_usages(t, "digital signature", "key encipherment", "client auth", "server auth",
	              NULL);
}

static void m_client_no_client_auth(struct pt *t)
{
	pt_set_usages(t, "digital signature", "key encipherment", NULL);
}

static void m_client_minimal_usages(struct pt *t)
{
	pt_set_usages(t, "digital signature", "client auth", NULL);
}

static void m_client_empty_user(struct pt *t)
{
	pt_str(&t->req->username, "");
}

static void m_client_leave_pending(struct pt *t)
{
	pt_rule(t)->on_failure = POLICY_ON_FAILURE_LEAVE_PENDING;
	t->w.sar_answer = POLICY_SAR_DENIED;
}

static void m_client_no_extensions(struct pt *t)
{
	pt_clear_exts(t);
	free(t->info->attrs);
	t->info->attrs = NULL;
	t->info->n_attrs = 0;
}

static void m_client_undecodable(struct pt *t)
{
	pt_drop_info(t, "bad DER");
}

static void m_client_sha1(struct pt *t)
{
	t->info->sig.hash = CSR_HASH_SHA1;
}

static void m_client_o_wrong(struct pt *t)
{
	set_o(t, "system:nodes:extra");
}

static void m_client_no_o(struct pt *t)
{
	drop_o(t);
}

static const struct pt_case client_cases[] = {
    {"node renewing", PT_CLIENT, NULL, APPROVE,
     "csr-approver: policy kubelet-client: node node-1, requester \"system:node:node-1\" "
     "authorized for certificatesigningrequests/selfnodeclient by SubjectAccessReview",
     NULL, NULL, NULL, PT_SAR_ONE, "selfnodeclient"},
    {"bootstrap token", PT_CLIENT, m_bootstrap, APPROVE, "nodeclient", NULL, NULL, NULL, PT_SAR_ONE,
     "nodeclient"},
    {"another node asking", PT_CLIENT, m_other_node_requester, APPROVE, NULL, NULL, NULL, NULL,
     PT_SAR_ONE, "nodeclient"},
    {"SubjectAccessReview denies", PT_CLIENT, m_sar_denied, DENY(NOT_AUTHORIZED),
     "the SubjectAccessReview denies \"system:node:node-1\" create on "
     "certificatesigningrequests/selfnodeclient",
     NULL, NULL, NULL, PT_SAR_ONE},
    {"SubjectAccessReview pending", PT_CLIENT, m_sar_pending, POLICY_NEEDS_AUTHORIZATION,
     POLICY_R_NONE,
     "waiting for the SubjectAccessReview of certificatesigningrequests/selfnodeclient", NULL, NULL,
     NULL, PT_SAR_ONE},
    {"no authorizer", PT_CLIENT, m_no_authorize, DENY(NOT_AUTHORIZED), "denies"},
    {"SAN", PT_CLIENT, m_client_san, DENY(SAN_NOT_ALLOWED),
     "a kubelet-client request may hold no SAN (found 1)", NULL, NULL, NULL, PT_SAR_NONE},
    {"40 SANs: no SAN at all, not maxSANs", PT_CLIENT, m_client_40_sans, DENY(SAN_NOT_ALLOWED),
     "a kubelet-client request may hold no SAN (found 40)", NULL, NULL, "maxSANs", PT_SAR_NONE},
    {"CN without prefix", PT_CLIENT, m_client_cn_bare, DENY(SUBJECT_NOT_ALLOWED),
     "subject CN \"node-1\" is not of the form system:node:NAME", NULL, NULL, NULL, PT_SAR_NONE},
    {"CN with an empty node name", PT_CLIENT, m_client_cn_empty_name, DENY(SUBJECT_NOT_ALLOWED),
     "is not of the form"},
    {"CN with an invalid node name", PT_CLIENT, m_client_cn_bad_name, DENY(SUBJECT_NOT_ALLOWED),
     "is not of the form"},
    {"wrong O", PT_CLIENT, m_client_o_wrong, DENY(SUBJECT_NOT_ALLOWED),
     "subject O \"system:nodes:extra\" is not allowed"},
    {"no O", PT_CLIENT, m_client_no_o, DENY(SUBJECT_NOT_ALLOWED), "subject has no O"},
    {"server auth", PT_CLIENT, m_client_server_auth, DENY(USAGE_NOT_ALLOWED),
     "usage \"server auth\" is not allowed for kubelet-client", NULL, NULL, NULL, PT_SAR_NONE},
    {"no client auth", PT_CLIENT, m_client_no_client_auth, DENY(USAGE_NOT_ALLOWED),
     "lacks \"client auth\""},
    {"digital signature and client auth", PT_CLIENT, m_client_minimal_usages, APPROVE, NULL, NULL,
     NULL, NULL, PT_SAR_ONE},
    {"expiration 599", PT_CLIENT, m_exp_599, DENY(EXPIRATION_NOT_ALLOWED), "599", NULL, NULL, NULL,
     PT_SAR_NONE},
    {"empty username", PT_CLIENT, m_client_empty_user, DENY(REQUESTER_NOT_ALLOWED),
     "spec.username is empty", NULL, NULL, NULL, PT_SAR_NONE},
    {"leave-pending", PT_CLIENT, m_client_leave_pending, DENY(NOT_AUTHORIZED), "denies", NULL, NULL,
     NULL, PT_LEAVE | PT_SAR_ONE},
    {"no extensionRequest at all", PT_CLIENT, m_client_no_extensions, APPROVE},
    {"undecodable", PT_CLIENT, m_client_undecodable, DENY(INVALID_REQUEST), "bad DER", NULL, NULL,
     NULL, PT_SAR_NONE},
    {"SHA-1", PT_CLIENT, m_client_sha1, DENY(SIGNATURE_ALGORITHM_NOT_ALLOWED), "SHA-1", NULL, NULL,
     NULL, PT_SAR_NONE},
};

#define N_SERVING (sizeof(serving_cases) / sizeof(serving_cases[0]))
#define N_CLIENT (sizeof(client_cases) / sizeof(client_cases[0]))

ParameterizedTestParameters(policy_kubelet, serving)
{
	static size_t idx[N_SERVING];
	for (size_t i = 0; i < N_SERVING; i++)
		idx[i] = i;
	return cr_make_param_array(size_t, idx, N_SERVING);
}

ParameterizedTest(size_t *i, policy_kubelet, serving)
{
	pt_run_case(&serving_cases[*i]);
}

ParameterizedTestParameters(policy_kubelet, client)
{
	static size_t idx[N_CLIENT];
	for (size_t i = 0; i < N_CLIENT; i++)
		idx[i] = i;
	return cr_make_param_array(size_t, idx, N_CLIENT);
}

ParameterizedTest(size_t *i, policy_kubelet, client)
{
	pt_run_case(&client_cases[*i]);
}

/* The review carries the requester's identity, as kube-controller-manager's. */
Test(policy_kubelet, sar_fields)
{
	struct pt t;
	pt_init(&t, PT_CLIENT);
	pt_set_groups(&t, "system:nodes", "system:authenticated", "extra-group", NULL);
	pt_set_extra(&t, "authentication.kubernetes.io/credential-id", "X509SHA256=ab");
	pt_decide(&t);
	cr_assert_eq(t.d.verdict, POLICY_APPROVE, "%s", t.d.message);
	cr_expect_eq(t.w.sar_calls, 1);
	cr_expect_str_eq(t.w.sar_user, "system:node:node-1");
	cr_expect_str_eq(t.w.sar_verb, "create");
	cr_expect_str_eq(t.w.sar_group, "certificates.k8s.io");
	cr_expect_str_eq(t.w.sar_resource, "certificatesigningrequests");
	cr_expect_str_eq(t.w.sar_subresource, "selfnodeclient");
	cr_expect_eq(t.w.sar_n_groups, 3);
	cr_expect_eq(t.w.sar_n_extra, 1);
	pt_fini(&t);
}

/* A denial names every failed check: a review answer already known (as
 * `check --authorize deny` gives it) is among them; one not asked yet is
 * not asked for a request that fails anyway. */
Test(policy_kubelet, known_review_answer_in_a_denial)
{
	struct pt t;
	pt_init(&t, PT_CLIENT);
	m_client_san(&t);
	t.lk.authorization = POLICY_SAR_DENIED;
	pt_decide(&t);
	cr_assert_eq(t.d.verdict, POLICY_DENY, "%s", t.d.message);
	cr_expect_eq(t.d.reason, POLICY_R_SAN_NOT_ALLOWED, "the first failure in rule order");
	cr_expect(strstr(t.d.message, "the SubjectAccessReview denies") != NULL, "%s", t.d.message);
	cr_expect(policy_checked(&t.d, POLICY_R_NOT_AUTHORIZED));
	pt_fini(&t);

	pt_init(&t, PT_CLIENT);
	m_client_san(&t);
	t.w.sar_answer = POLICY_SAR_DENIED;
	pt_decide(&t);
	cr_assert_eq(t.d.verdict, POLICY_DENY, "%s", t.d.message);
	cr_expect_eq(t.w.sar_calls, 0, "no review asked for a request that fails anyway");
	cr_expect(strstr(t.d.message, "SubjectAccessReview") == NULL, "%s", t.d.message);
	cr_expect_not(policy_checked(&t.d, POLICY_R_NOT_AUTHORIZED));
	pt_fini(&t);
}
