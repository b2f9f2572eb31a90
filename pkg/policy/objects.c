/*
 * policy: the policy set, the identity objects and the request: defaults,
 * lookups and freeing.
 */
#include "policy.h"

#include <regex.h>
#include <stdlib.h>
#include <string.h>

static const char *const policy_default_usages[] = {
    "digital signature",
    "key encipherment",
    "client auth",
    "server auth",
};

void policy_rule_init(struct policy_rule *r, const char *cluster_domain)
{
	memset(r, 0, sizeof(*r));
	r->type = POLICY_TYPE_WORKLOAD;
	r->on_failure = POLICY_ON_FAILURE_DENY;
	util_strv_push(&r->namespaces, "*");
	r->trust_domain = util_xstrdup(cluster_domain ? cluster_domain : "cluster.local");
	r->require_pod_binding = true;
	r->allowed_names = POLICY_NAME_DEFAULT;
	r->keys = POLICY_KEY_DEFAULT;
	for (size_t i = 0; i < sizeof(policy_default_usages) / sizeof(policy_default_usages[0]);
	     i++)
		util_strv_push(&r->usages, policy_default_usages[i]);
	r->max_expiration_seconds = 86400;
	r->min_expiration_seconds = 600;
	r->max_sans = 32;
	r->issue.lifetime_seconds = 86400;
	r->issue.backdate_seconds = 300;
	r->issue.trust_bundle = true;
}

void policy_rule_set_type(struct policy_rule *r, enum policy_type type)
{
	r->type = type;
	/* A person's certificate cannot be revoked: short-lived by default. */
	if (type == POLICY_TYPE_CLIENT)
		r->max_expiration_seconds = 28800;
}

void policy_rule_clear(struct policy_rule *r)
{
	if (r == NULL)
		return;
	free(r->name);
	free(r->signer_name);
	util_strv_free(&r->namespaces);
	util_strv_free(&r->exclude_namespaces);
	free(r->trust_domain);
	util_strv_free(&r->usages);
	free(r->dns_name_regex);
	if (r->dns_name_re != NULL) {
		regfree(r->dns_name_re);
		free(r->dns_name_re);
	}
	free(r->ip_prefixes);
	free(r->issue.ca_cert_file);
	free(r->issue.ca_key_file);
	util_strv_free(&r->requester_users);
	util_strv_free(&r->requester_groups);
	util_strv_free(&r->allowed_groups);
	memset(r, 0, sizeof(*r));
}

void policy_set_free(struct policy_set *set)
{
	if (set == NULL)
		return;
	for (size_t i = 0; i < set->n_rules; i++)
		policy_rule_clear(&set->rules[i]);
	free(set->rules);
	free(set->cluster_domain);
	free(set);
}

const struct policy_rule *policy_set_find(const struct policy_set *set, const char *signer_name)
{
	if (set == NULL || signer_name == NULL)
		return NULL;
	for (size_t i = 0; i < set->n_rules; i++) {
		const struct policy_rule *r = &set->rules[i];
		if (r->signer_name != NULL && strcmp(r->signer_name, signer_name) == 0)
			return r;
	}
	return NULL;
}

void policy_labels_clear(struct policy_labels *l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].key);
		free(l->v[i].value);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

void policy_pod_free(struct policy_pod *p)
{
	if (p == NULL)
		return;
	free(p->ns);
	free(p->name);
	free(p->uid);
	free(p->service_account);
	free(p->node_name);
	free(p->phase);
	free(p->hostname);
	free(p->subdomain);
	util_strv_free(&p->ips);
	policy_labels_clear(&p->labels);
	free(p);
}

void policy_service_free(struct policy_service *s)
{
	if (s == NULL)
		return;
	free(s->ns);
	free(s->name);
	policy_labels_clear(&s->selector);
	free(s);
}

void policy_node_free(struct policy_node *n)
{
	if (n == NULL)
		return;
	free(n->name);
	free(n->uid);
	for (size_t i = 0; i < n->n_addresses; i++) {
		free(n->addresses[i].type);
		free(n->addresses[i].address);
	}
	free(n->addresses);
	free(n);
}

/*
 * Every key of the selector must be among the labels with the same value.
 * Should labels ever hold a key twice (they cannot in the API), every copy
 * must agree: a selector never matches on an ambiguity.
 */
bool policy_selector_matches(const struct policy_labels *selector,
                             const struct policy_labels *labels)
{
	if (selector == NULL || labels == NULL || selector->n == 0)
		return false;
	for (size_t i = 0; i < selector->n; i++) {
		const struct policy_label *want = &selector->v[i];
		bool seen = false;
		if (want->key == NULL || want->value == NULL)
			return false;
		for (size_t j = 0; j < labels->n; j++) {
			const struct policy_label *have = &labels->v[j];
			if (have->key == NULL || strcmp(have->key, want->key) != 0)
				continue;
			if (have->value == NULL || strcmp(have->value, want->value) != 0)
				return false;
			seen = true;
		}
		if (!seen)
			return false;
	}
	return true;
}

void policy_request_free(struct policy_request *r)
{
	if (r == NULL)
		return;
	free(r->name);
	free(r->uid);
	free(r->resource_version);
	free(r->signer_name);
	free(r->username);
	free(r->user_uid);
	util_strv_free(&r->groups);
	for (size_t i = 0; i < r->n_extra; i++) {
		free(r->extra[i].key);
		util_strv_free(&r->extra[i].values);
	}
	free(r->extra);
	util_strv_free(&r->usages);
	free(r->request_pem);
	free(r);
}

const char *policy_request_extra(const struct policy_request *r, const char *key)
{
	if (r == NULL || key == NULL)
		return NULL;
	for (size_t i = 0; i < r->n_extra; i++) {
		const struct policy_extra *e = &r->extra[i];
		if (e->key != NULL && strcmp(e->key, key) == 0)
			return e->values.n > 0 ? e->values.v[0] : NULL;
	}
	return NULL;
}

void policy_decision_clear(struct policy_decision *d)
{
	if (d == NULL)
		return;
	free(d->message);
	for (size_t i = 0; i < d->n_failed; i++)
		free(d->failed[i].text);
	free(d->failed);
	memset(d, 0, sizeof(*d));
}

const char *policy_reason_name(enum policy_reason r)
{
	switch (r) {
	case POLICY_R_NONE:
		return "";
	case POLICY_R_AUTO_APPROVED:
		return "AutoApproved";
	case POLICY_R_INVALID_REQUEST:
		return "InvalidRequest";
	case POLICY_R_SIGNATURE_INVALID:
		return "SignatureInvalid";
	case POLICY_R_SIGNATURE_ALGORITHM_NOT_ALLOWED:
		return "SignatureAlgorithmNotAllowed";
	case POLICY_R_KEY_NOT_ALLOWED:
		return "KeyNotAllowed";
	case POLICY_R_EXTENSION_NOT_ALLOWED:
		return "ExtensionNotAllowed";
	case POLICY_R_SUBJECT_NOT_ALLOWED:
		return "SubjectNotAllowed";
	case POLICY_R_REQUESTER_NOT_ALLOWED:
		return "RequesterNotAllowed";
	case POLICY_R_NAMESPACE_NOT_ALLOWED:
		return "NamespaceNotAllowed";
	case POLICY_R_POD_NOT_FOUND:
		return "PodNotFound";
	case POLICY_R_POD_MISMATCH:
		return "PodMismatch";
	case POLICY_R_NODE_NOT_FOUND:
		return "NodeNotFound";
	case POLICY_R_SAN_NOT_ALLOWED:
		return "SANNotAllowed";
	case POLICY_R_USAGE_NOT_ALLOWED:
		return "UsageNotAllowed";
	case POLICY_R_EXPIRATION_NOT_ALLOWED:
		return "ExpirationNotAllowed";
	case POLICY_R_NOT_AUTHORIZED:
		return "NotAuthorized";
	case POLICY_R_ALREADY_DECIDED:
		return "AlreadyDecided";
	case POLICY_R_NO_POLICY:
		return "NoPolicy";
	case POLICY_R_UNSUPPORTED_KEY_TYPE:
		return "UnsupportedKeyType";
	}
	return "Unknown";
}

const char *policy_verdict_name(enum policy_verdict v)
{
	switch (v) {
	case POLICY_SKIP:
		return "skip";
	case POLICY_APPROVE:
		return "approve";
	case POLICY_DENY:
		return "deny";
	case POLICY_NEEDS_AUTHORIZATION:
		return "needs-authorization";
	}
	return "unknown";
}

void policy_pcr_free(struct policy_pcr *p)
{
	if (p == NULL)
		return;
	free(p->ns);
	free(p->name);
	free(p->uid);
	free(p->resource_version);
	free(p->signer_name);
	free(p->pod_name);
	free(p->pod_uid);
	free(p->service_account_name);
	free(p->service_account_uid);
	free(p->node_name);
	free(p->node_uid);
	free(p->stub_der);
	free(p);
}

void policy_names_clear(struct policy_names *n)
{
	if (n == NULL)
		return;
	free(n->types);
	n->types = NULL;
	util_strv_free(&n->values);
}
