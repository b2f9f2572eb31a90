/*
 * The policy set, the identity objects and the request: defaults, lookups,
 * names, freeing (leaks show under `make asan`).
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"

Test(policy_objects, rule_defaults)
{
	struct policy_rule r;
	policy_rule_init(&r, "corp.local");
	cr_expect_null(r.name);
	cr_expect_null(r.signer_name);
	cr_expect_eq(r.type, POLICY_TYPE_WORKLOAD);
	cr_expect_eq(r.on_failure, POLICY_ON_FAILURE_DENY);
	cr_expect_eq(r.namespaces.n, 1);
	cr_expect_str_eq(r.namespaces.v[0], "*");
	cr_expect_eq(r.exclude_namespaces.n, 0);
	cr_expect_str_eq(r.trust_domain, "corp.local");
	cr_expect(r.require_pod_binding);
	cr_expect_eq(r.allowed_names, POLICY_NAME_DEFAULT);
	cr_expect_eq(r.keys, POLICY_KEY_DEFAULT);
	cr_expect_eq(r.keys & POLICY_KEY_ECDSA_P521, 0);
	cr_expect_eq(r.usages.n, 4);
	cr_expect(util_strv_contains(&r.usages, "digital signature"));
	cr_expect(util_strv_contains(&r.usages, "key encipherment"));
	cr_expect(util_strv_contains(&r.usages, "client auth"));
	cr_expect(util_strv_contains(&r.usages, "server auth"));
	cr_expect_eq(r.max_expiration_seconds, 86400);
	cr_expect_eq(r.min_expiration_seconds, 600);
	cr_expect_eq(r.max_sans, 32);
	cr_expect_null(r.dns_name_regex);
	cr_expect_null(r.dns_name_re);
	cr_expect_null(r.ip_prefixes);
	cr_expect_eq(r.n_ip_prefixes, 0);
	policy_rule_clear(&r);
	cr_expect_null(r.trust_domain);
	cr_expect_eq(r.usages.n, 0);
}

Test(policy_objects, rule_default_trust_domain)
{
	struct policy_rule r;
	policy_rule_init(&r, NULL);
	cr_expect_str_eq(r.trust_domain, "cluster.local");
	policy_rule_clear(&r);
}

Test(policy_objects, rule_clear_frees_regex)
{
	struct policy_rule r;
	policy_rule_init(&r, "cluster.local");
	r.name = util_xstrdup("n");
	r.signer_name = util_xstrdup("s");
	r.dns_name_regex = util_xstrdup("^a+$");
	r.dns_name_re = util_xmalloc(sizeof(regex_t));
	cr_assert_eq(regcomp(r.dns_name_re, r.dns_name_regex, REG_EXTENDED | REG_NOSUB), 0);
	r.ip_prefixes = util_xcalloc(2, sizeof(*r.ip_prefixes));
	r.n_ip_prefixes = 2;
	util_strv_push(&r.exclude_namespaces, "kube-*");
	policy_rule_clear(&r);
	cr_expect_null(r.dns_name_re);
	cr_expect_null(r.ip_prefixes);
	policy_rule_clear(&r); /* twice is harmless */
	policy_rule_clear(NULL);
}

static struct policy_set *set_of(const char *const *signers, size_t n)
{
	struct policy_set *set = util_xcalloc(1, sizeof(*set));
	set->cluster_domain = util_xstrdup("cluster.local");
	set->rules = util_xcalloc(n, sizeof(*set->rules));
	set->n_rules = n;
	for (size_t i = 0; i < n; i++) {
		policy_rule_init(&set->rules[i], set->cluster_domain);
		set->rules[i].name = util_xasprintf("rule-%zu", i);
		set->rules[i].signer_name = util_xstrdup(signers[i]);
	}
	return set;
}

Test(policy_objects, set_find_exact)
{
	static const char *const signers[] = {"example.com/a", "example.com/b",
	                                      "kubernetes.io/kubelet-serving"};
	struct policy_set *set = set_of(signers, 3);
	const struct policy_rule *r;

	r = policy_set_find(set, "example.com/b");
	cr_assert_not_null(r);
	cr_expect_str_eq(r->name, "rule-1");
	cr_expect_eq(policy_set_find(set, "kubernetes.io/kubelet-serving"), &set->rules[2]);
	cr_expect_null(policy_set_find(set, "example.com/B"));
	cr_expect_null(policy_set_find(set, "example.com/"));
	cr_expect_null(policy_set_find(set, "example.com/a/"));
	cr_expect_null(policy_set_find(set, "example.com/*"));
	cr_expect_null(policy_set_find(set, ""));
	cr_expect_null(policy_set_find(set, NULL));
	cr_expect_null(policy_set_find(NULL, "example.com/a"));
	policy_set_free(set);
	policy_set_free(NULL);
}

struct selector_case {
	const char *name;
	const char *selector; /* "k=v,k=v" */
	const char *labels;
	bool want;
};

static const struct selector_case selector_cases[] = {
    {"one key matching", "app=web", "app=web,tier=front", true},
    {"two keys matching", "app=web,tier=front", "tier=front,app=web", true},
    {"value differs", "app=web", "app=db", false},
    {"key missing", "app=web,tier=back", "app=web", false},
    {"empty selector", "", "app=web", false},
    {"empty selector, no labels", "", "", false},
    {"no labels", "app=web", "", false},
    {"value case differs", "app=web", "app=Web", false},
    {"empty value matches empty value", "app=", "app=", true},
    {"empty value does not match a value", "app=", "app=web", false},
    {"duplicate label disagreeing", "app=web", "app=web,app=db", false},
};

static void labels_of(struct policy_labels *l, const char *spec)
{
	char *copy = util_xstrdup(spec);
	char *save = NULL;
	for (char *kv = strtok_r(copy, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(kv, '=');
		*eq = '\0';
		pt_add_label(l, kv, eq + 1);
	}
	free(copy);
}

#define N_SELECTOR (sizeof(selector_cases) / sizeof(selector_cases[0]))

ParameterizedTestParameters(policy_objects, selector)
{
	static size_t idx[N_SELECTOR];
	for (size_t i = 0; i < N_SELECTOR; i++)
		idx[i] = i;
	return cr_make_param_array(size_t, idx, N_SELECTOR);
}

ParameterizedTest(size_t *i, policy_objects, selector)
{
	const struct selector_case *c = &selector_cases[*i];
	struct policy_labels sel = {0}, labels = {0};
	labels_of(&sel, c->selector);
	labels_of(&labels, c->labels);
	cr_expect_eq(policy_selector_matches(&sel, &labels), c->want, "[%s]", c->name);
	policy_labels_clear(&sel);
	policy_labels_clear(&labels);
}

Test(policy_objects, selector_null)
{
	struct policy_labels l = {0};
	pt_add_label(&l, "app", "web");
	cr_expect_not(policy_selector_matches(NULL, &l));
	cr_expect_not(policy_selector_matches(&l, NULL));
	cr_expect(policy_selector_matches(&l, &l));
	policy_labels_clear(&l);
	policy_labels_clear(NULL);
}

Test(policy_objects, request_extra)
{
	struct policy_request *r = util_xcalloc(1, sizeof(*r));
	r->extra = util_xcalloc(3, sizeof(*r->extra));
	r->n_extra = 3;
	r->extra[0].key = util_xstrdup("a");
	util_strv_push(&r->extra[0].values, "1");
	util_strv_push(&r->extra[0].values, "2");
	r->extra[1].key = util_xstrdup("empty");
	r->extra[2].key = util_xstrdup("b");
	util_strv_push(&r->extra[2].values, "3");
	r->username = util_xstrdup("u");
	util_strv_push(&r->groups, "g");
	util_strv_push(&r->usages, "client auth");
	r->request_pem = util_xstrdup("-----BEGIN");

	cr_expect_str_eq(policy_request_extra(r, "a"), "1");
	cr_expect_str_eq(policy_request_extra(r, "b"), "3");
	cr_expect_null(policy_request_extra(r, "empty"));
	cr_expect_null(policy_request_extra(r, "A"));
	cr_expect_null(policy_request_extra(r, NULL));
	cr_expect_null(policy_request_extra(NULL, "a"));
	policy_request_free(r);
	policy_request_free(NULL);
}

Test(policy_objects, object_free)
{
	struct policy_pod *p = util_xcalloc(1, sizeof(*p));
	p->ns = util_xstrdup("shop");
	p->name = util_xstrdup("web");
	util_strv_push(&p->ips, "10.0.0.5");
	pt_add_label(&p->labels, "app", "web");
	policy_pod_free(p);
	policy_pod_free(NULL);

	struct policy_service *s = util_xcalloc(1, sizeof(*s));
	s->name = util_xstrdup("web");
	pt_add_label(&s->selector, "app", "web");
	policy_service_free(s);
	policy_service_free(NULL);

	struct policy_node *n = util_xcalloc(1, sizeof(*n));
	n->name = util_xstrdup("node-1");
	pt_add_node_address(n, "InternalIP", "10.0.0.1");
	policy_node_free(n);
	policy_node_free(NULL);

	struct policy_decision d = {.message = util_xstrdup("x"), .verdict = POLICY_DENY};
	policy_decision_clear(&d);
	cr_expect_null(d.message);
	cr_expect_eq(d.verdict, POLICY_SKIP);
	policy_decision_clear(NULL);
}

Test(policy_objects, reason_names)
{
	static const struct {
		enum policy_reason r;
		const char *name;
	} names[] = {
	    {POLICY_R_NONE, ""},
	    {POLICY_R_AUTO_APPROVED, "AutoApproved"},
	    {POLICY_R_INVALID_REQUEST, "InvalidRequest"},
	    {POLICY_R_SIGNATURE_INVALID, "SignatureInvalid"},
	    {POLICY_R_SIGNATURE_ALGORITHM_NOT_ALLOWED, "SignatureAlgorithmNotAllowed"},
	    {POLICY_R_KEY_NOT_ALLOWED, "KeyNotAllowed"},
	    {POLICY_R_EXTENSION_NOT_ALLOWED, "ExtensionNotAllowed"},
	    {POLICY_R_SUBJECT_NOT_ALLOWED, "SubjectNotAllowed"},
	    {POLICY_R_REQUESTER_NOT_ALLOWED, "RequesterNotAllowed"},
	    {POLICY_R_NAMESPACE_NOT_ALLOWED, "NamespaceNotAllowed"},
	    {POLICY_R_POD_NOT_FOUND, "PodNotFound"},
	    {POLICY_R_POD_MISMATCH, "PodMismatch"},
	    {POLICY_R_NODE_NOT_FOUND, "NodeNotFound"},
	    {POLICY_R_SAN_NOT_ALLOWED, "SANNotAllowed"},
	    {POLICY_R_USAGE_NOT_ALLOWED, "UsageNotAllowed"},
	    {POLICY_R_EXPIRATION_NOT_ALLOWED, "ExpirationNotAllowed"},
	    {POLICY_R_NOT_AUTHORIZED, "NotAuthorized"},
	    {POLICY_R_ALREADY_DECIDED, "AlreadyDecided"},
	    {POLICY_R_NO_POLICY, "NoPolicy"},
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		cr_expect_str_eq(policy_reason_name(names[i].r), names[i].name);
	/* SPEC's reason table is in rule order, and so is the enum. */
	for (size_t i = 2; i + 2 < sizeof(names) / sizeof(names[0]); i++)
		cr_expect_lt(names[i - 1].r, names[i].r);
	cr_expect_str_eq(policy_reason_name((enum policy_reason)999), "Unknown");
}

Test(policy_objects, verdict_names)
{
	cr_expect_str_eq(policy_verdict_name(POLICY_SKIP), "skip");
	cr_expect_str_eq(policy_verdict_name(POLICY_APPROVE), "approve");
	cr_expect_str_eq(policy_verdict_name(POLICY_DENY), "deny");
	cr_expect_str_eq(policy_verdict_name(POLICY_NEEDS_AUTHORIZATION), "needs-authorization");
	cr_expect_str_eq(policy_verdict_name((enum policy_verdict)9), "unknown");
}
