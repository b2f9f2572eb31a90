#include "fixture.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OID_EXT_REQ "1.2.840.113549.1.9.14"

void pt_str(char **field, const char *v)
{
	free(*field);
	*field = util_xstrdup(v);
}

/* ---- the in-memory cluster ---- */

static enum policy_found pt_get_pod(void *ctx, const char *ns, const char *name,
                                    const struct policy_pod **out)
{
	struct pt_world *w = ctx;
	for (size_t i = 0; i < w->n_pods; i++) {
		const struct policy_pod *p = w->pods[i];
		if ((w->sloppy_pods || strcmp(p->ns, ns) == 0) && strcmp(p->name, name) == 0) {
			*out = p;
			return POLICY_FOUND;
		}
	}
	return POLICY_NOT_FOUND;
}

static size_t pt_list_services(void *ctx, const char *ns, const struct policy_service *const **out)
{
	struct pt_world *w = ctx;
	size_t n = 0;
	free(w->svc_out);
	w->svc_out = util_xcalloc(w->n_svcs + 1, sizeof(*w->svc_out));
	for (size_t i = 0; i < w->n_svcs; i++)
		if (strcmp(w->svcs[i]->ns, ns) == 0)
			w->svc_out[n++] = w->svcs[i];
	*out = w->svc_out;
	return n;
}

static enum policy_found pt_get_node(void *ctx, const char *name, const struct policy_node **out)
{
	struct pt_world *w = ctx;
	for (size_t i = 0; i < w->n_nodes; i++) {
		if (strcmp(w->nodes[i]->name, name) == 0) {
			*out = w->nodes[i];
			return POLICY_FOUND;
		}
	}
	return POLICY_NOT_FOUND;
}

/* Run the review a decision asks for, as the controller does: note what
 * was asked, answer it from the world. */
static void pt_run_review(struct pt_world *w, const struct policy_sar *sar)
{
	w->sar_calls++;
	snprintf(w->sar_user, sizeof(w->sar_user), "%s", sar->user);
	snprintf(w->sar_subresource, sizeof(w->sar_subresource), "%s", sar->subresource);
	snprintf(w->sar_verb, sizeof(w->sar_verb), "%s", sar->verb);
	snprintf(w->sar_group, sizeof(w->sar_group), "%s", sar->group);
	snprintf(w->sar_resource, sizeof(w->sar_resource), "%s", sar->resource);
	w->sar_n_groups = sar->groups ? sar->groups->n : 0;
	w->sar_n_extra = sar->n_extra;
}

void pt_add_label(struct policy_labels *l, const char *key, const char *value)
{
	l->v = util_xreallocarray(l->v, l->n + 1, sizeof(*l->v));
	l->v[l->n].key = util_xstrdup(key);
	l->v[l->n].value = util_xstrdup(value);
	l->n++;
}

struct policy_pod *pt_add_pod(struct pt *t, const char *ns, const char *name, const char *uid,
                              const char *sa)
{
	struct policy_pod *p = util_xcalloc(1, sizeof(*p));
	p->ns = util_xstrdup(ns);
	p->name = util_xstrdup(name);
	p->uid = util_xstrdup(uid);
	p->service_account = util_xstrdup(sa);
	p->node_name = util_xstrdup("node-1");
	p->phase = util_xstrdup("Running");
	p->hostname = util_xstrdup("");
	p->subdomain = util_xstrdup("");
	t->w.pods = util_xreallocarray(t->w.pods, t->w.n_pods + 1, sizeof(*t->w.pods));
	t->w.pods[t->w.n_pods++] = p;
	return p;
}

struct policy_pod *pt_pod(struct pt *t, const char *ns, const char *name)
{
	for (size_t i = 0; i < t->w.n_pods; i++)
		if (strcmp(t->w.pods[i]->ns, ns) == 0 && strcmp(t->w.pods[i]->name, name) == 0)
			return t->w.pods[i];
	cr_assert_fail("fixture: no pod %s/%s", ns, name);
	return NULL;
}

struct policy_service *pt_add_service(struct pt *t, const char *ns, const char *name,
                                      const char *selector)
{
	struct policy_service *s = util_xcalloc(1, sizeof(*s));
	char *copy = util_xstrdup(selector);
	char *save = NULL;
	s->ns = util_xstrdup(ns);
	s->name = util_xstrdup(name);
	for (char *kv = strtok_r(copy, ",", &save); kv != NULL; kv = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(kv, '=');
		cr_assert_not_null(eq);
		*eq = '\0';
		pt_add_label(&s->selector, kv, eq + 1);
	}
	free(copy);
	t->w.svcs = util_xreallocarray(t->w.svcs, t->w.n_svcs + 1, sizeof(*t->w.svcs));
	t->w.svcs[t->w.n_svcs++] = s;
	return s;
}

void pt_add_node_address(struct policy_node *n, const char *type, const char *address)
{
	n->addresses = util_xreallocarray(n->addresses, n->n_addresses + 1, sizeof(*n->addresses));
	n->addresses[n->n_addresses].type = util_xstrdup(type);
	n->addresses[n->n_addresses].address = util_xstrdup(address);
	n->n_addresses++;
}

static struct policy_node *pt_add_node(struct pt *t, const char *name)
{
	struct policy_node *n = util_xcalloc(1, sizeof(*n));
	n->name = util_xstrdup(name);
	t->w.nodes = util_xreallocarray(t->w.nodes, t->w.n_nodes + 1, sizeof(*t->w.nodes));
	t->w.nodes[t->w.n_nodes++] = n;
	return n;
}

struct policy_node *pt_node(struct pt *t, const char *name)
{
	for (size_t i = 0; i < t->w.n_nodes; i++)
		if (strcmp(t->w.nodes[i]->name, name) == 0)
			return t->w.nodes[i];
	cr_assert_fail("fixture: no node %s", name);
	return NULL;
}

static void pt_world(struct pt *t)
{
	struct policy_pod *p;
	struct policy_node *n;

	p = pt_add_pod(t, "shop", "web-7d9", "uid-web-1", "web");
	util_strv_push(&p->ips, "10.0.0.5");
	util_strv_push(&p->ips, "fd00::5");
	pt_add_label(&p->labels, "app", "web");
	pt_add_label(&p->labels, "tier", "front");
	p = pt_add_pod(t, "other", "api-0", "uid-api-0", "api");
	util_strv_push(&p->ips, "10.0.1.7");
	pt_add_label(&p->labels, "app", "web");

	pt_add_service(t, "shop", "web", "app=web");
	pt_add_service(t, "shop", "db", "app=db");
	pt_add_service(t, "shop", "multi", "app=web,tier=back");
	pt_add_service(t, "shop", "web-hl", "");
	pt_add_service(t, "other", "web", "app=web");

	n = pt_add_node(t, "node-1");
	pt_add_node_address(n, "Hostname", "node-1");
	pt_add_node_address(n, "InternalIP", "192.168.1.10");
	pt_add_node_address(n, "ExternalIP", "203.0.113.7");
	pt_add_node_address(n, "InternalDNS", "node-1.internal");
	pt_add_node_address(n, "ExternalDNS", "node-1.example.com");
	n = pt_add_node(t, "node-2");
	pt_add_node_address(n, "Hostname", "node-2");
	pt_add_node_address(n, "InternalIP", "192.168.1.11");

	t->w.sar_answer = POLICY_SAR_ALLOWED;
	t->lk.ctx = &t->w;
	t->lk.get_pod = pt_get_pod;
	t->lk.list_services = pt_list_services;
	t->lk.get_node = pt_get_node;
}

/* ---- the policy set ---- */

static struct policy_rule *pt_push_rule(struct policy_set *set, const char *name,
                                        const char *signer, enum policy_type type)
{
	set->rules = util_xreallocarray(set->rules, set->n_rules + 1, sizeof(*set->rules));
	struct policy_rule *r = &set->rules[set->n_rules++];
	policy_rule_init(r, set->cluster_domain);
	r->name = util_xstrdup(name);
	r->signer_name = util_xstrdup(signer);
	policy_rule_set_type(r, type);
	return r;
}

static struct policy_set *pt_set(void)
{
	struct policy_set *set = util_xcalloc(1, sizeof(*set));
	struct policy_rule *r;
	set->cluster_domain = util_xstrdup("cluster.local");

	r = pt_push_rule(set, "workload-mtls", PT_SIGNER_WORKLOAD, POLICY_TYPE_WORKLOAD);
	util_strv_push(&r->exclude_namespaces, "kube-system");

	r = pt_push_rule(set, "kubelet-serving", PT_SIGNER_SERVING, POLICY_TYPE_KUBELET_SERVING);
	r->dns_name_regex = util_xstrdup("^ip-[0-9-]+\\.ec2\\.internal$");
	r->dns_name_re = util_xmalloc(sizeof(regex_t));
	cr_assert_eq(regcomp(r->dns_name_re, r->dns_name_regex, REG_EXTENDED), 0);
	r->ip_prefixes = util_xcalloc(1, sizeof(*r->ip_prefixes));
	r->n_ip_prefixes = 1;
	r->ip_prefixes[0].len = 4;
	r->ip_prefixes[0].bits = 16;
	r->ip_prefixes[0].addr[0] = 10;
	r->ip_prefixes[0].addr[1] = 20;

	pt_push_rule(set, "kubelet-client", PT_SIGNER_CLIENT, POLICY_TYPE_KUBELET_CLIENT);

	r = pt_push_rule(set, "self-service", PT_SIGNER_USER, POLICY_TYPE_CLIENT);
	util_strv_push(&r->requester_users, "*@example.com");
	util_strv_push(&r->requester_groups, "oncall");
	util_strv_push(&r->requester_groups, "team-*");
	util_strv_push(&r->allowed_groups, "developers");
	util_strv_push(&r->allowed_groups, "sre-*");
	return set;
}

struct policy_rule *pt_rule_of(struct pt *t, const char *signer)
{
	for (size_t i = 0; i < t->set->n_rules; i++)
		if (strcmp(t->set->rules[i].signer_name, signer) == 0)
			return &t->set->rules[i];
	cr_assert_fail("fixture: no rule for %s", signer);
	return NULL;
}

struct policy_rule *pt_rule(struct pt *t)
{
	return pt_rule_of(t, t->req->signer_name);
}

/* ---- the request ---- */

static void pt_strv_set(struct util_strv *sv, va_list ap)
{
	const char *s;
	util_strv_free(sv);
	while ((s = va_arg(ap, const char *)) != NULL)
		util_strv_push(sv, s);
}

void pt_set_usages(struct pt *t, ...)
{
	va_list ap;
	va_start(ap, t);
	pt_strv_set(&t->req->usages, ap);
	va_end(ap);
}

void pt_set_groups(struct pt *t, ...)
{
	va_list ap;
	va_start(ap, t);
	pt_strv_set(&t->req->groups, ap);
	va_end(ap);
}

static struct policy_extra *pt_find_extra(struct pt *t, const char *key)
{
	for (size_t i = 0; i < t->req->n_extra; i++)
		if (strcmp(t->req->extra[i].key, key) == 0)
			return &t->req->extra[i];
	return NULL;
}

void pt_set_extra(struct pt *t, const char *key, const char *value)
{
	struct policy_request *r = t->req;
	struct policy_extra *e = pt_find_extra(t, key);
	if (e != NULL) {
		util_strv_free(&e->values);
		if (value != NULL) {
			util_strv_push(&e->values, value);
			return;
		}
		free(e->key);
		size_t i = (size_t)(e - r->extra);
		memmove(&r->extra[i], &r->extra[i + 1], (r->n_extra - i - 1) * sizeof(*r->extra));
		r->n_extra--;
		return;
	}
	if (value == NULL)
		return;
	r->extra = util_xreallocarray(r->extra, r->n_extra + 1, sizeof(*r->extra));
	e = &r->extra[r->n_extra++];
	memset(e, 0, sizeof(*e));
	e->key = util_xstrdup(key);
	util_strv_push(&e->values, value);
}

void pt_add_extra_value(struct pt *t, const char *key, const char *value)
{
	struct policy_extra *e = pt_find_extra(t, key);
	cr_assert_not_null(e);
	util_strv_push(&e->values, value);
}

/* ---- csr_info ---- */

void pt_add_san_raw(struct pt *t, enum csr_san_type type, const char *value, size_t len)
{
	struct csr_info *info = t->info;
	info->sans = util_xreallocarray(info->sans, info->n_sans + 1, sizeof(*info->sans));
	struct csr_san *s = &info->sans[info->n_sans++];
	memset(s, 0, sizeof(*s));
	s->type = type;
	s->value = util_xstrndup(value, len);
	s->value_len = len;
	s->has_nul = memchr(value, '\0', len) != NULL;
	if (type == CSR_SAN_IP) {
		if (inet_pton(AF_INET, s->value, s->ip) == 1)
			s->ip_len = 4;
		else if (inet_pton(AF_INET6, s->value, s->ip) == 1)
			s->ip_len = 16;
		else
			cr_assert_fail("fixture: bad IP %s", s->value);
		s->has_nul = false;
	}
}

void pt_add_san(struct pt *t, enum csr_san_type type, const char *value)
{
	pt_add_san_raw(t, type, value, strlen(value));
}

void pt_add_ip_raw(struct pt *t, const unsigned char *ip, size_t len)
{
	struct csr_info *info = t->info;
	info->sans = util_xreallocarray(info->sans, info->n_sans + 1, sizeof(*info->sans));
	struct csr_san *s = &info->sans[info->n_sans++];
	memset(s, 0, sizeof(*s));
	s->type = CSR_SAN_IP;
	s->value = util_xstrdup("(raw)");
	s->value_len = 5;
	memcpy(s->ip, ip, len > 16 ? 16 : len);
	s->ip_len = len;
}

void pt_clear_sans(struct pt *t)
{
	for (size_t i = 0; i < t->info->n_sans; i++)
		free(t->info->sans[i].value);
	free(t->info->sans);
	t->info->sans = NULL;
	t->info->n_sans = 0;
}

struct csr_subject_attr *pt_add_subject_raw(struct pt *t, enum csr_attr_kind kind, const char *oid,
                                            const char *name, enum csr_str_type str_type,
                                            const char *value, size_t len)
{
	struct csr_info *info = t->info;
	info->subject =
	    util_xreallocarray(info->subject, info->n_subject + 1, sizeof(*info->subject));
	struct csr_subject_attr *a = &info->subject[info->n_subject++];
	memset(a, 0, sizeof(*a));
	a->kind = kind;
	snprintf(a->oid, sizeof(a->oid), "%s", oid);
	snprintf(a->name, sizeof(a->name), "%s", name);
	a->str_type = str_type;
	a->value = util_xstrndup(value, len);
	a->value_len = len;
	a->has_nul = memchr(value, '\0', len) != NULL;
	return a;
}

struct csr_subject_attr *pt_add_subject(struct pt *t, enum csr_attr_kind kind,
                                        enum csr_str_type str_type, const char *value)
{
	const char *oid = kind == CSR_ATTR_CN ? "2.5.4.3"
	    : kind == CSR_ATTR_O              ? "2.5.4.10"
	                                      : "2.5.4.11";
	const char *name = kind == CSR_ATTR_CN ? "CN" : kind == CSR_ATTR_O ? "O" : "OU";
	return pt_add_subject_raw(t, kind, oid, name, str_type, value, strlen(value));
}

struct csr_subject_attr *pt_cn(struct pt *t)
{
	for (size_t i = 0; i < t->info->n_subject; i++)
		if (t->info->subject[i].kind == CSR_ATTR_CN)
			return &t->info->subject[i];
	cr_assert_fail("fixture: no CN");
	return NULL;
}

void pt_clear_subject(struct pt *t)
{
	for (size_t i = 0; i < t->info->n_subject; i++)
		free(t->info->subject[i].value);
	free(t->info->subject);
	t->info->subject = NULL;
	t->info->n_subject = 0;
}

void pt_add_ext(struct pt *t, enum csr_ext_kind kind, const char *oid, const char *name,
                bool critical)
{
	struct csr_info *info = t->info;
	info->exts = util_xreallocarray(info->exts, info->n_exts + 1, sizeof(*info->exts));
	struct csr_extension *e = &info->exts[info->n_exts++];
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	snprintf(e->oid, sizeof(e->oid), "%s", oid);
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->critical = critical;
}

void pt_clear_exts(struct pt *t)
{
	free(t->info->exts);
	t->info->exts = NULL;
	t->info->n_exts = 0;
	t->info->has_key_usage = false;
	t->info->key_usage = 0;
	t->info->has_ext_key_usage = false;
	free(t->info->eku_oids);
	t->info->eku_oids = NULL;
	t->info->n_eku = 0;
	t->info->has_basic_constraints = false;
	t->info->basic_constraints_ca = false;
}

void pt_add_attr(struct pt *t, const char *oid, const char *name, bool ext_req)
{
	struct csr_info *info = t->info;
	info->attrs = util_xreallocarray(info->attrs, info->n_attrs + 1, sizeof(*info->attrs));
	struct csr_attribute *a = &info->attrs[info->n_attrs++];
	memset(a, 0, sizeof(*a));
	snprintf(a->oid, sizeof(a->oid), "%s", oid);
	snprintf(a->name, sizeof(a->name), "%s", name);
	a->is_extension_request = ext_req;
}

void pt_set_eku(struct pt *t, ...)
{
	va_list ap;
	const char *oid;
	struct csr_info *info = t->info;
	free(info->eku_oids);
	info->eku_oids = NULL;
	info->n_eku = 0;
	info->has_ext_key_usage = true;
	va_start(ap, t);
	while ((oid = va_arg(ap, const char *)) != NULL) {
		info->eku_oids = util_xreallocarray(info->eku_oids, info->n_eku + 1, 64);
		snprintf(info->eku_oids[info->n_eku++], 64, "%s", oid);
	}
	va_end(ap);
}

void pt_drop_info(struct pt *t, const char *decode_error)
{
	csr_info_free(t->info);
	t->info = NULL;
	t->decode_error = decode_error;
}

/* An ECDSA P-256 request signed with SHA-256, one extensionRequest. */
static void pt_good_crypto(struct pt *t)
{
	struct csr_info *info = t->info;
	info->version = 0;
	info->key.type = CSR_KEY_EC;
	info->key.bits = 256;
	info->key.ec_named_curve = true;
	snprintf(info->key.ec_curve, sizeof(info->key.ec_curve), "prime256v1");
	snprintf(info->key.alg_oid, sizeof(info->key.alg_oid), "1.2.840.10045.2.1");
	snprintf(info->sig.alg_oid, sizeof(info->sig.alg_oid), "1.2.840.10045.4.3.2");
	snprintf(info->sig.alg_name, sizeof(info->sig.alg_name), "ecdsa-with-SHA256");
	info->sig.scheme = CSR_SIG_ECDSA;
	info->sig.hash = CSR_HASH_SHA256;
	info->sig.params_ok = true;
	info->sig.matches_key = true;
	info->sig.verified = true;
	pt_add_attr(t, OID_EXT_REQ, "extensionRequest", true);
}

static void pt_good_workload(struct pt *t)
{
	struct policy_request *r = t->req;
	r->signer_name = util_xstrdup(PT_SIGNER_WORKLOAD);
	r->username = util_xstrdup("system:serviceaccount:shop:web");
	r->user_uid = util_xstrdup("u-web");
	pt_set_groups(t, "system:serviceaccounts", "system:serviceaccounts:shop",
	              "system:authenticated", NULL);
	pt_set_extra(t, "authentication.kubernetes.io/credential-id", "JTI=7b0f");
	pt_set_extra(t, "authentication.kubernetes.io/node-name", "node-1");
	pt_set_extra(t, "authentication.kubernetes.io/pod-name", "web-7d9");
	pt_set_extra(t, "authentication.kubernetes.io/pod-uid", "uid-web-1");
	pt_set_usages(t, "digital signature", "key encipherment", "server auth", "client auth",
	              NULL);
	r->has_expiration = true;
	r->expiration_seconds = 3600;

	pt_add_subject(t, CSR_ATTR_CN, CSR_STR_UTF8, "web.shop.svc");
	pt_add_ext(t, CSR_EXT_SAN, "2.5.29.17", "subjectAltName", false);
	pt_add_ext(t, CSR_EXT_KEY_USAGE, "2.5.29.15", "keyUsage", true);
	pt_add_ext(t, CSR_EXT_EXT_KEY_USAGE, "2.5.29.37", "extendedKeyUsage", false);
	pt_add_ext(t, CSR_EXT_BASIC_CONSTRAINTS, "2.5.29.19", "basicConstraints", true);
	t->info->has_key_usage = true;
	t->info->key_usage = CSR_KU_DIGITAL_SIGNATURE | CSR_KU_KEY_ENCIPHERMENT;
	pt_set_eku(t, "1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2", NULL);
	t->info->has_basic_constraints = true;
	t->info->basic_constraints_ca = false;
	pt_add_san(t, CSR_SAN_URI, "spiffe://cluster.local/ns/shop/sa/web");
	pt_add_san(t, CSR_SAN_DNS, "web.shop.svc");
	pt_add_san(t, CSR_SAN_DNS, "web.shop.svc.cluster.local");
	pt_add_san(t, CSR_SAN_IP, "10.0.0.5");
	pt_add_san(t, CSR_SAN_DNS, "10-0-0-5.shop.pod.cluster.local");
}

static void pt_good_node(struct pt *t, const char *signer, const char *eku)
{
	struct policy_request *r = t->req;
	r->signer_name = util_xstrdup(signer);
	r->username = util_xstrdup("system:node:node-1");
	r->user_uid = util_xstrdup("u-node-1");
	pt_set_groups(t, "system:nodes", "system:authenticated", NULL);
	pt_add_subject(t, CSR_ATTR_O, CSR_STR_PRINTABLE, "system:nodes");
	pt_add_subject(t, CSR_ATTR_CN, CSR_STR_PRINTABLE, "system:node:node-1");
	pt_add_ext(t, CSR_EXT_KEY_USAGE, "2.5.29.15", "keyUsage", true);
	pt_add_ext(t, CSR_EXT_EXT_KEY_USAGE, "2.5.29.37", "extendedKeyUsage", false);
	t->info->has_key_usage = true;
	t->info->key_usage = CSR_KU_DIGITAL_SIGNATURE | CSR_KU_KEY_ENCIPHERMENT;
	pt_set_eku(t, eku, NULL);
}

/* alice@example.com, in developers and sre-db, asks with kubectl for a
 * certificate of her own name and group developers, for an hour. */
static void pt_good_user(struct pt *t)
{
	struct policy_request *r = t->req;
	r->signer_name = util_xstrdup(PT_SIGNER_USER);
	r->username = util_xstrdup("alice@example.com");
	r->user_uid = util_xstrdup("u-alice");
	pt_set_groups(t, "developers", "sre-db", "system:authenticated", NULL);
	pt_set_extra(t, "authentication.kubernetes.io/credential-id", "X509SHA256=ab12");
	pt_set_usages(t, "digital signature", "key encipherment", "client auth", NULL);
	r->has_expiration = true;
	r->expiration_seconds = 3600;
	pt_add_subject(t, CSR_ATTR_O, CSR_STR_UTF8, "developers");
	pt_add_subject(t, CSR_ATTR_CN, CSR_STR_UTF8, "alice@example.com");
	pt_add_ext(t, CSR_EXT_EXT_KEY_USAGE, "2.5.29.37", "extendedKeyUsage", false);
	pt_set_eku(t, "1.3.6.1.5.5.7.3.2", NULL);
}

void pt_init(struct pt *t, enum pt_base base)
{
	memset(t, 0, sizeof(*t));
	t->base = base;
	t->set = pt_set();
	pt_world(t);
	t->req = util_xcalloc(1, sizeof(*t->req));
	t->req->name = util_xstrdup("csr-1");
	t->req->uid = util_xstrdup("0b0c");
	t->req->resource_version = util_xstrdup("42");
	t->info = util_xcalloc(1, sizeof(*t->info));
	pt_good_crypto(t);
	switch (base) {
	case PT_WORKLOAD:
		pt_good_workload(t);
		break;
	case PT_SERVING:
		pt_good_node(t, PT_SIGNER_SERVING, "1.3.6.1.5.5.7.3.1");
		pt_add_ext(t, CSR_EXT_SAN, "2.5.29.17", "subjectAltName", false);
		pt_add_san(t, CSR_SAN_DNS, "node-1");
		pt_add_san(t, CSR_SAN_DNS, "node-1.example.com");
		pt_add_san(t, CSR_SAN_IP, "192.168.1.10");
		pt_set_usages(t, "digital signature", "key encipherment", "server auth", NULL);
		break;
	case PT_CLIENT:
		pt_good_node(t, PT_SIGNER_CLIENT, "1.3.6.1.5.5.7.3.2");
		pt_set_usages(t, "digital signature", "key encipherment", "client auth", NULL);
		break;
	case PT_USER:
		pt_good_user(t);
		break;
	}
}

void pt_decide(struct pt *t)
{
	policy_decision_clear(&t->d);
	t->rc = policy_decide(t->set, t->req, t->info, t->decode_error, &t->lk, &t->d);
	/* A decision that needs a review gets it, and is made again with the
	 * answer (an unanswered review leaves the first decision standing). */
	if (t->rc != 0 || t->d.verdict != POLICY_NEEDS_AUTHORIZATION)
		return;
	pt_run_review(&t->w, &t->d.sar);
	if (t->w.sar_answer == POLICY_SAR_UNASKED)
		return;
	struct policy_lookup answered = t->lk;
	char sub[32];
	snprintf(sub, sizeof(sub), "%s", t->d.sar.subresource ? t->d.sar.subresource : "");
	answered.authorization = t->w.sar_answer;
	answered.authorization_for = sub;
	policy_decision_clear(&t->d);
	t->rc = policy_decide(t->set, t->req, t->info, t->decode_error, &answered, &t->d);
}

void pt_fini(struct pt *t)
{
	policy_decision_clear(&t->d);
	policy_set_free(t->set);
	policy_request_free(t->req);
	csr_info_free(t->info);
	for (size_t i = 0; i < t->w.n_pods; i++)
		policy_pod_free(t->w.pods[i]);
	free(t->w.pods);
	for (size_t i = 0; i < t->w.n_svcs; i++)
		policy_service_free(t->w.svcs[i]);
	free(t->w.svcs);
	for (size_t i = 0; i < t->w.n_nodes; i++)
		policy_node_free(t->w.nodes[i]);
	free(t->w.nodes);
	free(t->w.svc_out);
	memset(t, 0, sizeof(*t));
}

void pt_run_case(const struct pt_case *c)
{
	struct pt t;
	const char *want[3] = {c->want1, c->want2, c->want3};

	pt_init(&t, c->base);
	if (c->mutate != NULL)
		c->mutate(&t);
	pt_decide(&t);
	const char *msg = t.d.message ? t.d.message : "(null)";

	cr_expect_eq(t.rc, 0, "[%s] policy_decide returned %d", c->name, t.rc);
	cr_expect_eq(t.d.verdict, c->verdict, "[%s] verdict %s, want %s (message: %s)", c->name,
	             policy_verdict_name(t.d.verdict), policy_verdict_name(c->verdict), msg);
	cr_expect_eq(t.d.reason, c->reason, "[%s] reason %s, want %s (message: %s)", c->name,
	             policy_reason_name(t.d.reason), policy_reason_name(c->reason), msg);
	for (size_t i = 0; i < 3; i++)
		if (want[i] != NULL)
			cr_expect(strstr(msg, want[i]) != NULL, "[%s] message lacks \"%s\": %s",
			          c->name, want[i], msg);
	if (c->absent != NULL)
		cr_expect(strstr(msg, c->absent) == NULL, "[%s] message holds \"%s\": %s", c->name,
		          c->absent, msg);
	cr_expect_eq(t.d.missing_object, (c->flags & PT_MISSING) != 0, "[%s] missing_object %d",
	             c->name, t.d.missing_object);
	cr_expect_eq(t.d.leave_pending, (c->flags & PT_LEAVE) != 0, "[%s] leave_pending %d",
	             c->name, t.d.leave_pending);
	if (t.d.verdict != POLICY_SKIP) {
		cr_expect(t.d.policy != NULL && strcmp(t.d.policy, pt_rule(&t)->name) == 0,
		          "[%s] policy %s", c->name, t.d.policy ? t.d.policy : "(null)");
		cr_expect(strncmp(msg, "csr-approver: policy ", 21) == 0, "[%s] message prefix: %s",
		          c->name, msg);
	}
	cr_expect(strlen(msg) <= POLICY_MESSAGE_MAX, "[%s] message of %zu bytes", c->name,
	          strlen(msg));
	if (c->flags & (PT_SAR_NONE | PT_SAR_ONE))
		cr_expect_eq(t.w.sar_calls, (c->flags & PT_SAR_ONE) ? 1 : 0,
		             "[%s] %d SubjectAccessReviews", c->name, t.w.sar_calls);
	if (c->subresource != NULL)
		cr_expect_str_eq(t.w.sar_subresource, c->subresource, "[%s] subresource %s",
		                 c->name, t.w.sar_subresource);
	pt_fini(&t);
}
