/*
 * policy: types kubelet-serving and kubelet-client, the two node
 * certificates. Serving names come from the Node object (or the operator's
 * dnsNameRegex and ipPrefixes); client certificates are approved on a
 * SubjectAccessReview, the check kube-controller-manager makes.
 */
#include "policy_internal.h"

#include <regex.h>
#include <stdlib.h>
#include <string.h>

#define NODE_PREFIX "system:node:"
#define NODES_GROUP "system:nodes"

static const char *const k_serving_usages[] = {"digital signature", "key encipherment",
                                               "server auth", NULL};
static const char *const k_client_usages[] = {"digital signature", "key encipherment",
                                              "client auth", NULL};

/* The NAME of "system:node:NAME" when well formed, else NULL. Borrowed. */
static const char *k_node_name(const char *s, size_t n)
{
	if (s == NULL || strlen(s) != n || !util_has_prefix(s, NODE_PREFIX))
		return NULL;
	s += strlen(NODE_PREFIX);
	return policy_is_dns_subdomain(s) ? s : NULL;
}

/*
 * Subject exactly CN=system:node:NAME, O=system:nodes. want_cn: the CN the
 * requester must use, or NULL when only the form can be checked. Returns
 * the node name of the CN (borrowed from info) or NULL.
 */
static const char *k_check_subject(struct policy_eval *ev, const char *want_cn)
{
	const struct csr_info *info = ev->info;
	const struct csr_subject_attr *cn = policy_subject_first(info, CSR_ATTR_CN);
	const char *name = NULL;
	size_t n_o = policy_subject_count(info, CSR_ATTR_O);
	struct util_buf *b;

	if (cn == NULL) {
		util_buf_puts(policy_fail(ev, POLICY_R_SUBJECT_NOT_ALLOWED),
		              "subject has no CN (want system:node:NAME)");
	} else if (want_cn != NULL && !policy_eq_n(cn->value, cn->value_len, want_cn)) {
		b = policy_fail(ev, POLICY_R_SUBJECT_NOT_ALLOWED);
		util_buf_puts(b, "subject CN ");
		policy_quote(b, cn->value, cn->value ? cn->value_len : 0);
		util_buf_printf(b, " is not \"%s\", the requester", want_cn);
	} else if ((name = k_node_name(cn->value, cn->value_len)) == NULL) {
		b = policy_fail(ev, POLICY_R_SUBJECT_NOT_ALLOWED);
		util_buf_puts(b, "subject CN ");
		policy_quote(b, cn->value, cn->value ? cn->value_len : 0);
		util_buf_puts(b, " is not of the form system:node:NAME");
	}

	if (n_o == 0)
		util_buf_puts(policy_fail(ev, POLICY_R_SUBJECT_NOT_ALLOWED),
		              "subject has no O (want O \"" NODES_GROUP "\")");
	else if (n_o > 1)
		util_buf_printf(
		    policy_fail(ev, POLICY_R_SUBJECT_NOT_ALLOWED),
		    "subject has %zu O attributes (want exactly one, \"" NODES_GROUP "\")", n_o);
	for (size_t i = 0; i < info->n_subject; i++) {
		const struct csr_subject_attr *a = &info->subject[i];
		if (a->kind != CSR_ATTR_O || policy_eq_n(a->value, a->value_len, NODES_GROUP) ||
		    policy_eq_n(a->value, a->value_len, "system:masters"))
			continue; /* system:masters: reported by the global rules */
		b = policy_fail(ev, POLICY_R_SUBJECT_NOT_ALLOWED);
		util_buf_puts(b, "subject O ");
		policy_quote(b, a->value, a->value ? a->value_len : 0);
		util_buf_puts(b, " is not allowed (only \"" NODES_GROUP "\")");
	}
	return name;
}

/* ---- kubelet-serving ---- */

static bool k_addr_type(const struct policy_node_address *a, const char *const *types)
{
	for (size_t i = 0; types[i] != NULL; i++)
		if (a->type != NULL && strcmp(a->type, types[i]) == 0)
			return true;
	return false;
}

static const char *const k_dns_types[] = {"Hostname", "InternalDNS", "ExternalDNS", NULL};
static const char *const k_ip_types[] = {"InternalIP", "ExternalIP", NULL};

static bool k_node_has_dns(const struct policy_node *node, const struct csr_san *s)
{
	for (size_t i = 0; i < node->n_addresses; i++) {
		const struct policy_node_address *a = &node->addresses[i];
		if (a->address != NULL && k_addr_type(a, k_dns_types) &&
		    policy_caseeq_n(a->address, strlen(a->address), s->value, s->value_len))
			return true;
	}
	return false;
}

static bool k_node_has_ip(const struct policy_node *node, const struct csr_san *s)
{
	for (size_t i = 0; i < node->n_addresses; i++) {
		const struct policy_node_address *a = &node->addresses[i];
		unsigned char ip[16];
		size_t len;
		if (!k_addr_type(a, k_ip_types))
			continue;
		len = policy_parse_ip(a->address, ip);
		if (len != 0 && len == s->ip_len && memcmp(ip, s->ip, len) == 0)
			return true;
	}
	return false;
}

static bool k_regex_matches(const struct policy_rule *r, const struct csr_san *s)
{
	regmatch_t m[1] = {{-1, -1}};
	if (r->dns_name_re == NULL || s->value == NULL || strlen(s->value) != s->value_len)
		return false;
	if (regexec(r->dns_name_re, s->value, 1, m, 0) != 0)
		return false;
	/* The config module anchors the expression; insist on a whole match all
	 * the same, when the match offsets were reported. */
	if (m[0].rm_so == -1)
		return true;
	return m[0].rm_so == 0 && (size_t)m[0].rm_eo == s->value_len;
}

static bool k_in_prefixes(const struct policy_rule *r, const struct csr_san *s)
{
	for (size_t i = 0; i < r->n_ip_prefixes; i++) {
		const struct policy_prefix *p = &r->ip_prefixes[i];
		int bits = p->bits;
		size_t full;
		if (p->len != s->ip_len || bits < 0 || (size_t)bits > p->len * 8)
			continue;
		full = (size_t)bits / 8;
		if (memcmp(p->addr, s->ip, full) != 0)
			continue;
		if (bits % 8 != 0) {
			unsigned char mask = (unsigned char)(0xff << (8 - bits % 8));
			if ((p->addr[full] & mask) != (s->ip[full] & mask))
				continue;
		}
		return true;
	}
	return false;
}

static void k_put_node_addresses(struct util_buf *b, const struct policy_node *node,
                                 const char *const *types)
{
	struct util_strv sv = {0};
	for (size_t i = 0; i < node->n_addresses; i++)
		if (node->addresses[i].address != NULL && k_addr_type(&node->addresses[i], types))
			util_strv_push(&sv, node->addresses[i].address);
	policy_put_list(b, &sv);
	util_strv_free(&sv);
}

static void k_check_serving_sans(struct policy_eval *ev, const char *name,
                                 const struct policy_node *node)
{
	const struct csr_info *info = ev->info;
	const struct policy_rule *r = ev->rule;
	struct util_buf *b;

	if (info->n_sans == 0)
		util_buf_puts(policy_fail(ev, POLICY_R_SAN_NOT_ALLOWED),
		              "the request holds no SAN (at least one DNS or IP SAN is required)");
	for (size_t i = 0; i < info->n_sans; i++) {
		const struct csr_san *s = &info->sans[i];
		if (!ev->san_ok[i])
			continue;
		if (s->type == CSR_SAN_URI) {
			b = policy_fail(ev, POLICY_R_SAN_NOT_ALLOWED);
			util_buf_puts(b, "URI SAN ");
			policy_quote(b, s->value, s->value_len);
			util_buf_puts(b, " is not allowed in a kubelet-serving certificate");
		} else if (s->type == CSR_SAN_DNS) {
			if (k_regex_matches(r, s) || (node != NULL && k_node_has_dns(node, s)))
				continue;
			if (node == NULL) {
				/* Without the node, judged once it is found. */
				policy_ran_in_part(ev, POLICY_R_SAN_NOT_ALLOWED);
				continue;
			}
			b = policy_fail_obj(ev, POLICY_R_SAN_NOT_ALLOWED);
			util_buf_puts(b, "DNS SAN ");
			policy_quote(b, s->value, s->value_len);
			util_buf_printf(b, " is not an address of node %s (allowed: ", name);
			k_put_node_addresses(b, node, k_dns_types);
			if (r->dns_name_re != NULL && r->dns_name_regex != NULL) {
				util_buf_puts(b, "; or matching dnsNameRegex ");
				policy_quote(b, r->dns_name_regex, strlen(r->dns_name_regex));
			}
			util_buf_putc(b, ')');
		} else if (s->type == CSR_SAN_IP) {
			if (k_in_prefixes(r, s) || (node != NULL && k_node_has_ip(node, s)))
				continue;
			if (node == NULL) {
				policy_ran_in_part(ev, POLICY_R_SAN_NOT_ALLOWED);
				continue;
			}
			b = policy_fail_obj(ev, POLICY_R_SAN_NOT_ALLOWED);
			util_buf_puts(b, "IP SAN ");
			policy_put_ip(b, s->ip, s->ip_len);
			util_buf_printf(b, " is not an address of node %s (allowed: ", name);
			k_put_node_addresses(b, node, k_ip_types);
			if (r->n_ip_prefixes > 0)
				util_buf_printf(b, "; or inside the %zu ipPrefixes",
				                r->n_ip_prefixes);
			util_buf_putc(b, ')');
		}
	}
}

void policy_rules_kubelet_serving(struct policy_eval *ev)
{
	const struct policy_request *req = ev->req;
	const struct policy_lookup *lk = ev->lookup;
	const char *u = req->username ? req->username : "";
	const char *name = k_node_name(u, strlen(u));
	const struct policy_node *node = NULL;
	struct util_buf *b;

	policy_ran(ev, POLICY_R_REQUESTER_NOT_ALLOWED);
	if (name == NULL) {
		b = policy_fail(ev, POLICY_R_REQUESTER_NOT_ALLOWED);
		util_buf_puts(b, "spec.username ");
		policy_quote(b, u, strlen(u));
		util_buf_puts(b, " is not a node (want system:node:NAME)");
	}
	if (!util_strv_contains(&req->groups, NODES_GROUP))
		util_buf_puts(policy_fail(ev, POLICY_R_REQUESTER_NOT_ALLOWED),
		              "spec.groups lacks \"" NODES_GROUP "\"");
	if (ev->info != NULL)
		k_check_subject(ev, name ? u : NULL);

	if (name != NULL) {
		enum policy_found found = POLICY_NOT_FOUND;
		policy_ran(ev, POLICY_R_NODE_NOT_FOUND);
		if (lk->get_node != NULL)
			found = lk->get_node(lk->ctx, name, &node);
		if (found != POLICY_FOUND || node == NULL || node->name == NULL ||
		    strcmp(node->name, name) != 0) {
			util_buf_printf(policy_fail_obj(ev, POLICY_R_NODE_NOT_FOUND),
			                "node \"%s\" does not exist", name);
			ev->missing_object = true;
			node = NULL;
		}
	}
	if (ev->info != NULL)
		k_check_serving_sans(ev, name, node);
	policy_check_usages(ev, k_serving_usages, "server auth", "kubelet-serving");
	policy_check_expiration(ev);

	if (name != NULL) {
		size_t n = ev->info ? ev->info->n_sans : 0;
		util_buf_printf(&ev->summary, "node %s, %zu SAN%s", name, n, n == 1 ? "" : "s");
	}
}

/* ---- kubelet-client ---- */

void policy_rules_kubelet_client(struct policy_eval *ev)
{
	const struct policy_request *req = ev->req;
	const char *u = req->username ? req->username : "";
	const char *name = NULL;
	bool self = false;

	/* Any requester may ask (a bootstrap token, the node itself); the
	 * SubjectAccessReview decides. */
	policy_ran(ev, POLICY_R_REQUESTER_NOT_ALLOWED);
	if (*u == '\0')
		util_buf_puts(policy_fail(ev, POLICY_R_REQUESTER_NOT_ALLOWED),
		              "spec.username is empty");
	if (ev->info != NULL) {
		const struct csr_subject_attr *cn;
		name = k_check_subject(ev, NULL);
		cn = policy_subject_first(ev->info, CSR_ATTR_CN);
		self = cn != NULL && policy_eq_n(cn->value, cn->value_len, u);
		if (ev->info->n_sans > 0)
			util_buf_printf(policy_fail(ev, POLICY_R_SAN_NOT_ALLOWED),
			                "a kubelet-client request may hold no SAN (found %zu)",
			                ev->info->n_sans);
	}
	policy_check_usages(ev, k_client_usages, "client auth", "kubelet-client");
	policy_check_expiration(ev);

	ev->sar_wanted = ev->info != NULL;
	ev->sar_subresource = self ? "selfnodeclient" : "nodeclient";
	if (name != NULL) {
		util_buf_printf(&ev->summary, "node %s, requester ", name);
		policy_quote(&ev->summary, u, strlen(u));
	}
}
