/*
 * policy: type workload. The identity comes from the API server (the
 * service account in spec.username, the pod claims of its token in
 * spec.extra), checked against the pod in the cluster; the names a workload
 * may ask for derive from that pod, never from the request itself.
 */
#include "policy_internal.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define EXTRA_POD_NAME "authentication.kubernetes.io/pod-name"
#define EXTRA_POD_UID "authentication.kubernetes.io/pod-uid"
#define EXTRA_NODE_NAME "authentication.kubernetes.io/node-name"
#define SA_PREFIX "system:serviceaccount:"

/* What the pod binding established. */
enum w_pod_state {
	W_POD_NONE, /* no pod claims and none required: spiffe only */
	W_POD_OK, /* the pod exists and matches every claim */
	W_POD_UNKNOWN, /* claims missing, malformed, or the pod not found or not
	                * matching: the request is denied already, and its DNS
	                * and IP SANs cannot be judged */
};

struct w_ip {
	unsigned char addr[16];
	size_t len;
};

/* The kinds of DNS names, in the order a pod certificate lists them. */
enum w_kind {
	W_KIND_POD_DNS,
	W_KIND_HOSTNAME_DNS,
	W_KIND_SERVICE_DNS,
	W_KIND_SERVICE_SHORT_DNS,
	W_N_KINDS,
};

struct w_state {
	char *ns, *sa; /* owned; NULL when the username is not a service account */
	/* Who names the pod, for messages: NULL for a CSR (the requester's
	 * token), else e.g. "the PodCertificateRequest". Borrowed. */
	const char *who;
	const char *pod_name, *pod_uid, *node_claim; /* borrowed from the request */
	enum w_pod_state pod_state;
	const struct policy_pod *pod;
	char *spiffe; /* owned */
	struct util_strv dns;
	struct util_strv by_kind[W_N_KINDS]; /* the names of dns, by kind */
	struct w_ip *ips; /* owned */
	size_t n_ips;
	struct util_strv ip_text;
};

static void w_state_free(struct w_state *w)
{
	free(w->ns);
	free(w->sa);
	free(w->spiffe);
	util_strv_free(&w->dns);
	for (size_t i = 0; i < W_N_KINDS; i++)
		util_strv_free(&w->by_kind[i]);
	free(w->ips);
	util_strv_free(&w->ip_text);
}

static const char *w_cluster_domain(const struct policy_eval *ev)
{
	const char *cd = ev->set ? ev->set->cluster_domain : NULL;
	return cd && *cd ? cd : "cluster.local";
}

/* ---- RequesterNotAllowed ---- */

static void w_parse_username(struct policy_eval *ev, struct w_state *w)
{
	const char *u = ev->req->username ? ev->req->username : "";
	const char *rest, *colon;
	struct util_buf *b;

	if (util_has_prefix(u, SA_PREFIX)) {
		rest = u + strlen(SA_PREFIX);
		colon = strchr(rest, ':');
		if (colon != NULL && strchr(colon + 1, ':') == NULL) {
			char *ns = util_xstrndup(rest, (size_t)(colon - rest));
			char *sa = util_xstrdup(colon + 1);
			if (policy_is_dns_label(ns) && policy_is_dns_subdomain(sa)) {
				w->ns = ns;
				w->sa = sa;
				return;
			}
			free(ns);
			free(sa);
		}
	}
	b = policy_fail(ev, POLICY_R_REQUESTER_NOT_ALLOWED);
	util_buf_puts(b, "spec.username ");
	policy_quote(b, u, strlen(u));
	util_buf_puts(b, " is not a service account (want system:serviceaccount:NAMESPACE:NAME)");
}

/*
 * The API server puts every service account's requests in the groups
 * system:serviceaccounts and system:serviceaccounts:NS. A username of that
 * form without them was not authenticated as a service account (a user
 * impersonating the name, say), so it is no service account's request.
 */
static void w_check_groups(struct policy_eval *ev, const struct w_state *w)
{
	const struct util_strv *g = &ev->req->groups;
	char *ns_group = util_xasprintf("system:serviceaccounts:%s", w->ns);

	if (!util_strv_contains(g, "system:serviceaccounts"))
		util_buf_puts(policy_fail(ev, POLICY_R_REQUESTER_NOT_ALLOWED),
		              "spec.groups lacks \"system:serviceaccounts\", which every service "
		              "account's request carries");
	if (!util_strv_contains(g, ns_group))
		util_buf_printf(policy_fail(ev, POLICY_R_REQUESTER_NOT_ALLOWED),
		                "spec.groups lacks \"%s\", which every request of a service "
		                "account of namespace %s carries",
		                ns_group, w->ns);
	free(ns_group);
}

/*
 * One claim of spec.extra: 0 when absent, 1 with *out when present once
 * with one value that passes valid(), -1 (and a failure) otherwise.
 */
static int w_claim(struct policy_eval *ev, const char *key, bool (*valid)(const char *),
                   const char **out)
{
	const struct policy_request *req = ev->req;
	size_t n_values = 0;
	const char *value = NULL;
	struct util_buf *b;

	*out = NULL;
	for (size_t i = 0; i < req->n_extra; i++) {
		const struct policy_extra *e = &req->extra[i];
		if (e->key == NULL || strcmp(e->key, key) != 0)
			continue;
		n_values += e->values.n;
		if (e->values.n > 0 && value == NULL)
			value = e->values.v[0];
		if (e->values.n == 0)
			n_values += 2; /* a key without values is malformed too */
	}
	if (n_values == 0)
		return 0;
	if (n_values == 1 && value != NULL && valid(value)) {
		*out = value;
		return 1;
	}
	b = policy_fail(ev, POLICY_R_REQUESTER_NOT_ALLOWED);
	util_buf_printf(b, "spec.extra[\"%s\"] ", key);
	if (n_values != 1) {
		util_buf_puts(b, "does not hold exactly one value");
	} else {
		util_buf_puts(b, "value ");
		policy_quote(b, value ? value : "", value ? strlen(value) : 0);
		util_buf_puts(b, " is malformed");
	}
	return -1;
}

static bool w_uid_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 128)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return false;
	return true;
}

/* ---- NamespaceNotAllowed ---- */

static void w_check_namespace(struct policy_eval *ev, const struct w_state *w)
{
	const struct policy_rule *r = ev->rule;
	bool included = false;
	struct util_buf *b;

	policy_ran(ev, POLICY_R_NAMESPACE_NOT_ALLOWED);
	for (size_t i = 0; i < r->namespaces.n && !included; i++)
		included = util_glob_match(r->namespaces.v[i], w->ns);
	if (!included) {
		b = policy_fail(ev, POLICY_R_NAMESPACE_NOT_ALLOWED);
		util_buf_printf(b, "namespace \"%s\" is not in namespaces of this policy (", w->ns);
		policy_put_list(b, &r->namespaces);
		util_buf_putc(b, ')');
	}
	for (size_t i = 0; i < r->exclude_namespaces.n; i++) {
		if (!util_glob_match(r->exclude_namespaces.v[i], w->ns))
			continue;
		b = policy_fail(ev, POLICY_R_NAMESPACE_NOT_ALLOWED);
		util_buf_printf(b, "namespace \"%s\" is excluded by excludeNamespaces pattern ",
		                w->ns);
		policy_quote(b, r->exclude_namespaces.v[i], strlen(r->exclude_namespaces.v[i]));
		break;
	}
}

/* ---- the pod binding: PodNotFound, PodMismatch ---- */

static bool w_streq(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

static void w_check_pod(struct policy_eval *ev, struct w_state *w)
{
	const struct policy_lookup *lk = ev->lookup;
	const struct policy_pod *pod = NULL;
	enum policy_found found = POLICY_NOT_FOUND;
	struct util_buf *b;
	size_t before = ev->n_failures;

	policy_ran(ev, POLICY_R_POD_NOT_FOUND);
	if (lk->get_pod != NULL)
		found = lk->get_pod(lk->ctx, w->ns, w->pod_name, &pod);
	if (found != POLICY_FOUND || pod == NULL) {
		util_buf_printf(policy_fail_obj(ev, POLICY_R_POD_NOT_FOUND),
		                "pod %s/%s named by %s does not exist", w->ns, w->pod_name,
		                w->who ? w->who : "the requester's token");
		ev->missing_object = true;
		return;
	}
	policy_ran(ev, POLICY_R_POD_MISMATCH);
	if (!w_streq(pod->ns, w->ns) || !w_streq(pod->name, w->pod_name)) {
		b = policy_fail_obj(ev, POLICY_R_POD_MISMATCH);
		util_buf_printf(b, "the cluster returned pod ");
		policy_quote(b, pod->ns ? pod->ns : "", pod->ns ? strlen(pod->ns) : 0);
		util_buf_putc(b, '/');
		policy_quote(b, pod->name ? pod->name : "", pod->name ? strlen(pod->name) : 0);
		util_buf_printf(b, " for %s/%s", w->ns, w->pod_name);
		return;
	}
	if (!w_streq(pod->uid, w->pod_uid)) {
		b = policy_fail_obj(ev, POLICY_R_POD_MISMATCH);
		util_buf_printf(b, "pod %s/%s has uid ", w->ns, w->pod_name);
		policy_quote(b, pod->uid ? pod->uid : "", pod->uid ? strlen(pod->uid) : 0);
		util_buf_printf(b, ", %s names ", w->who ? w->who : "the token");
		policy_quote(b, w->pod_uid, strlen(w->pod_uid));
	}
	const char *pod_sa =
	    pod->service_account && *pod->service_account ? pod->service_account : "default";
	if (strcmp(pod_sa, w->sa) != 0) {
		b = policy_fail_obj(ev, POLICY_R_POD_MISMATCH);
		util_buf_printf(b, "pod %s/%s runs as service account ", w->ns, w->pod_name);
		policy_quote(b, pod_sa, strlen(pod_sa));
		util_buf_printf(b, ", %s \"%s\"",
		                w->who ? "the PodCertificateRequest names" : "the requester is",
		                w->sa);
	}
	if (pod->deleting)
		util_buf_printf(policy_fail_obj(ev, POLICY_R_POD_MISMATCH),
		                "pod %s/%s is being deleted", w->ns, w->pod_name);
	if (!w_streq(pod->phase, "Pending") && !w_streq(pod->phase, "Running")) {
		const char *ph = pod->phase ? pod->phase : "";
		b = policy_fail_obj(ev, POLICY_R_POD_MISMATCH);
		util_buf_printf(b, "pod %s/%s is in phase ", w->ns, w->pod_name);
		policy_quote(b, ph, strlen(ph));
		util_buf_puts(b, " (want Pending or Running)");
	}
	if (w->node_claim != NULL && !w_streq(pod->node_name, w->node_claim)) {
		const char *nn = pod->node_name ? pod->node_name : "";
		b = policy_fail_obj(ev, POLICY_R_POD_MISMATCH);
		util_buf_printf(b, "pod %s/%s is on node ", w->ns, w->pod_name);
		policy_quote(b, nn, strlen(nn));
		util_buf_printf(b, ", %s names node \"%s\"", w->who ? w->who : "the token",
		                w->node_claim);
	}
	if (ev->n_failures == before) {
		w->pod = pod;
		w->pod_state = W_POD_OK;
	}
}

/* ---- the names the requester may ask for ---- */

static void w_add_pod_dns(struct w_state *w, const char *cd)
{
	for (size_t i = 0; i < w->n_ips; i++) {
		const unsigned char *a = w->ips[i].addr;
		if (w->ips[i].len == 4) {
			char *s = util_xasprintf("%u-%u-%u-%u.%s.pod.%s", a[0], a[1], a[2], a[3],
			                         w->ns, cd);
			util_strv_push(&w->dns, s);
			util_strv_push(&w->by_kind[W_KIND_POD_DNS], s);
			free(s);
		} else {
			char text[INET6_ADDRSTRLEN];
			if (inet_ntop(AF_INET6, a, text, sizeof(text)) == NULL)
				continue;
			for (char *p = text; *p; p++)
				if (*p == ':')
					*p = '-';
			char *s = util_xasprintf("%s.%s.pod.%s", text, w->ns, cd);
			util_strv_push(&w->dns, s);
			util_strv_push(&w->by_kind[W_KIND_POD_DNS], s);
			free(s);
		}
	}
}

/* Append the name a[.b[.c[.d]]] to w->dns and to its kind's list. */
static void w_push_name(struct w_state *w, enum w_kind kind, const char *a, const char *b,
                        const char *c, const char *d)
{
	struct util_buf n = {0};
	util_buf_puts(&n, a);
	if (b != NULL)
		util_buf_printf(&n, ".%s", b);
	if (c != NULL)
		util_buf_printf(&n, ".%s", c);
	if (d != NULL)
		util_buf_printf(&n, ".%s", d);
	util_strv_push(&w->dns, util_buf_str(&n));
	util_strv_push(&w->by_kind[kind], util_buf_str(&n));
	util_buf_reset(&n);
}

/* Does Service s of the pod's namespace give the pod names? An ExternalName
 * Service is a DNS alias for something outside the cluster: it gives none,
 * neither serviceDNS nor hostnameDNS names (SPEC.md names the exception for
 * serviceDNS only; a hostname under an alias is no more the pod's). */
static bool w_service_usable(const struct w_state *w, const struct policy_service *s)
{
	return s != NULL && s->name != NULL && w_streq(s->ns, w->ns) && !s->external_name;
}

static void w_collect_names(struct policy_eval *ev, struct w_state *w)
{
	const struct policy_rule *r = ev->rule;
	const struct policy_lookup *lk = ev->lookup;
	const struct policy_pod *pod = w->pod;
	const char *cd = w_cluster_domain(ev);
	const struct policy_service *const *svcs = NULL;
	size_t n_svcs = 0;
	const uint32_t svc_names = POLICY_NAME_SERVICE_DNS | POLICY_NAME_SERVICE_SHORT_DNS;

	/* A hostNetwork pod's IPs are its node's: they name the node and every
	 * other hostNetwork pod on it, so neither podIP nor podDNS names. */
	for (size_t i = 0; !pod->host_network && i < pod->ips.n; i++) {
		unsigned char a[16];
		size_t len = policy_parse_ip(pod->ips.v[i], a);
		if (len == 0)
			continue;
		w->ips = util_xreallocarray(w->ips, w->n_ips + 1, sizeof(*w->ips));
		memcpy(w->ips[w->n_ips].addr, a, len);
		w->ips[w->n_ips].len = len;
		w->n_ips++;
		struct util_buf t = {0};
		policy_put_ip(&t, a, len);
		util_strv_push(&w->ip_text, util_buf_str(&t));
		util_buf_reset(&t);
	}

	if (r->allowed_names & (svc_names | POLICY_NAME_HOSTNAME_DNS) &&
	    lk->list_services != NULL) {
		n_svcs = lk->list_services(lk->ctx, w->ns, &svcs);
		if (svcs == NULL)
			n_svcs = 0;
	}
	for (size_t i = 0; (r->allowed_names & svc_names) && i < n_svcs; i++) {
		const struct policy_service *s = svcs[i];
		if (!w_service_usable(w, s) || !policy_selector_matches(&s->selector, &pod->labels))
			continue;
		if (r->allowed_names & POLICY_NAME_SERVICE_DNS) {
			w_push_name(w, W_KIND_SERVICE_DNS, s->name, w->ns, "svc", NULL);
			w_push_name(w, W_KIND_SERVICE_DNS, s->name, w->ns, "svc", cd);
		}
		if (r->allowed_names & POLICY_NAME_SERVICE_SHORT_DNS) {
			w_push_name(w, W_KIND_SERVICE_SHORT_DNS, s->name, NULL, NULL, NULL);
			w_push_name(w, W_KIND_SERVICE_SHORT_DNS, s->name, w->ns, NULL, NULL);
		}
	}
	if ((r->allowed_names & POLICY_NAME_HOSTNAME_DNS) && pod->subdomain && *pod->subdomain) {
		for (size_t i = 0; i < n_svcs; i++) {
			const struct policy_service *s = svcs[i];
			if (!w_service_usable(w, s) || !w_streq(s->name, pod->subdomain))
				continue;
			const char *host =
			    pod->hostname && *pod->hostname ? pod->hostname : pod->name;
			char *svc = util_xasprintf("%s.svc", w->ns);
			w_push_name(w, W_KIND_HOSTNAME_DNS, host, pod->subdomain, svc, cd);
			free(svc);
			break;
		}
	}
	if (r->allowed_names & POLICY_NAME_POD_DNS)
		w_add_pod_dns(w, cd);
}

/* ---- SANNotAllowed ---- */

static bool w_ip_allowed(const struct w_state *w, const struct csr_san *s)
{
	for (size_t i = 0; i < w->n_ips; i++)
		if (w->ips[i].len == s->ip_len && memcmp(w->ips[i].addr, s->ip, s->ip_len) == 0)
			return true;
	return false;
}

static bool w_dns_allowed(const struct w_state *w, const struct csr_san *s)
{
	for (size_t i = 0; i < w->dns.n; i++)
		if (policy_caseeq_n(w->dns.v[i], strlen(w->dns.v[i]), s->value, s->value_len))
			return true;
	return false;
}

/*
 * A pod without IPs yet (its status not written, or not seen by a lagging
 * watch) cannot give the names that derive from them: say so, and mark the
 * denial as resting on an object that may still arrive, so a live
 * controller waits for the status instead of denying a good request. A
 * hostNetwork pod never gives them: say that instead.
 */
static void w_note_no_ips(struct policy_eval *ev, const struct w_state *w, struct util_buf *b)
{
	if (w->pod == NULL)
		return;
	/* Waiting changes nothing here: no status will give such a pod names. */
	if (w->pod->host_network) {
		util_buf_puts(b, " (the pod uses the host network: its IPs are its node's)");
		return;
	}
	if (w->pod->ips.n > 0)
		return;
	util_buf_puts(b, " (the pod has no IP yet)");
	ev->missing_object = true;
}

static void w_check_sans(struct policy_eval *ev, const struct w_state *w)
{
	const struct csr_info *info = ev->info;
	const uint32_t names = ev->rule->allowed_names;
	size_t n_uri = 0;
	bool dns_listed = false, ip_listed = false;
	struct util_buf *b;

	if (info->n_sans == 0)
		util_buf_puts(policy_fail(ev, POLICY_R_SAN_NOT_ALLOWED),
		              "the request holds no SAN (at least one is required)");
	for (size_t i = 0; i < info->n_sans; i++)
		if (info->sans[i].type == CSR_SAN_URI)
			n_uri++;
	if (n_uri > 1)
		util_buf_printf(policy_fail(ev, POLICY_R_SAN_NOT_ALLOWED),
		                "%zu URI SANs (at most one)", n_uri);

	for (size_t i = 0; i < info->n_sans; i++) {
		const struct csr_san *s = &info->sans[i];
		if (!ev->san_ok[i])
			continue;
		if (s->type == CSR_SAN_URI) {
			if (!(names & POLICY_NAME_SPIFFE)) {
				b = policy_fail(ev, POLICY_R_SAN_NOT_ALLOWED);
				util_buf_puts(b, "URI SAN ");
				policy_quote(b, s->value, s->value_len);
				util_buf_puts(b, " is not allowed (spiffe is not in allowedNames)");
			} else if (w->spiffe == NULL) {
				/* No service account: no SPIFFE ID to compare with. */
				policy_ran_in_part(ev, POLICY_R_SAN_NOT_ALLOWED);
			} else if (!policy_eq_n(s->value, s->value_len, w->spiffe)) {
				b = policy_fail(ev, POLICY_R_SAN_NOT_ALLOWED);
				util_buf_puts(b, "URI SAN ");
				policy_quote(b, s->value, s->value_len);
				util_buf_printf(
				    b, " is not the SPIFFE ID of the requester (allowed: %s)",
				    w->spiffe);
			}
			continue;
		}
		if (s->type != CSR_SAN_DNS && s->type != CSR_SAN_IP)
			continue; /* rejected by the global rules */
		if (w->pod_state == W_POD_UNKNOWN) {
			/* The pod gives the names: without it, not judged. */
			policy_ran_in_part(ev, POLICY_R_SAN_NOT_ALLOWED);
			continue;
		}
		b = NULL;
		if (w->pod_state == W_POD_NONE) {
			b = policy_fail(ev, POLICY_R_SAN_NOT_ALLOWED);
			util_buf_printf(b, "%s SAN ", s->type == CSR_SAN_DNS ? "DNS" : "IP");
			if (s->type == CSR_SAN_DNS)
				policy_quote(b, s->value, s->value_len);
			else
				policy_put_ip(b, s->ip, s->ip_len);
			util_buf_puts(b,
			              " is not allowed: without a pod-bound token only the spiffe "
			              "name is");
		} else if (s->type == CSR_SAN_DNS && !w_dns_allowed(w, s)) {
			b = policy_fail_obj(ev, POLICY_R_SAN_NOT_ALLOWED);
			util_buf_puts(b, "DNS SAN ");
			policy_quote(b, s->value, s->value_len);
			util_buf_printf(b, " is not a name of pod %s/%s", w->ns, w->pod_name);
			w_note_no_ips(ev, w, b);
			if (!dns_listed) {
				util_buf_puts(b, " (allowed: ");
				policy_put_list(b, &w->dns);
				util_buf_putc(b, ')');
				dns_listed = true;
			}
		} else if (s->type == CSR_SAN_IP && !(names & POLICY_NAME_POD_IP)) {
			b = policy_fail(ev, POLICY_R_SAN_NOT_ALLOWED);
			util_buf_puts(b, "IP SAN ");
			policy_put_ip(b, s->ip, s->ip_len);
			util_buf_puts(b, " is not allowed (podIP is not in allowedNames)");
		} else if (s->type == CSR_SAN_IP && !w_ip_allowed(w, s)) {
			b = policy_fail_obj(ev, POLICY_R_SAN_NOT_ALLOWED);
			util_buf_puts(b, "IP SAN ");
			policy_put_ip(b, s->ip, s->ip_len);
			util_buf_printf(b, " is not an IP of pod %s/%s", w->ns, w->pod_name);
			w_note_no_ips(ev, w, b);
			if (!ip_listed) {
				util_buf_puts(b, " (allowed: ");
				policy_put_list(b, &w->ip_text);
				util_buf_putc(b, ')');
				ip_listed = true;
			}
		}
	}
}

/* ---- SubjectNotAllowed: the CN is one of the requested DNS SANs ---- */

static void w_check_cn(struct policy_eval *ev)
{
	const struct csr_info *info = ev->info;
	const struct csr_subject_attr *cn = policy_subject_first(info, CSR_ATTR_CN);
	struct util_buf *b;

	if (cn == NULL)
		return;
	for (size_t i = 0; i < info->n_sans; i++) {
		const struct csr_san *s = &info->sans[i];
		if (s->type == CSR_SAN_DNS && cn->value != NULL &&
		    policy_caseeq_n(s->value, s->value_len, cn->value, cn->value_len))
			return;
	}
	b = policy_fail(ev, POLICY_R_SUBJECT_NOT_ALLOWED);
	util_buf_puts(b, "subject CN ");
	policy_quote(b, cn->value, cn->value ? cn->value_len : 0);
	util_buf_puts(b, " is not one of the requested DNS SANs");
}

void policy_rules_workload(struct policy_eval *ev)
{
	struct w_state w = {0};
	const char *td;
	int pn, pu, nn;

	policy_ran(ev, POLICY_R_REQUESTER_NOT_ALLOWED);
	w_parse_username(ev, &w);
	if (w.ns != NULL) {
		w_check_groups(ev, &w);
		w_check_namespace(ev, &w);
	}

	pn = w_claim(ev, EXTRA_POD_NAME, policy_is_dns_subdomain, &w.pod_name);
	pu = w_claim(ev, EXTRA_POD_UID, w_uid_ok, &w.pod_uid);
	nn = w_claim(ev, EXTRA_NODE_NAME, policy_is_dns_subdomain, &w.node_claim);
	if (pn == 0 && pu == 0) {
		w.pod_state = W_POD_NONE;
		if (ev->rule->require_pod_binding) {
			w.pod_state = W_POD_UNKNOWN;
			util_buf_puts(
			    policy_fail(ev, POLICY_R_REQUESTER_NOT_ALLOWED),
			    "the requester's token is not bound to a pod (spec.extra lacks "
			    "the pod-name and pod-uid claims) and the policy requires "
			    "requirePodBinding");
		}
	} else {
		w.pod_state = W_POD_UNKNOWN;
		if (pn == 0 || pu == 0)
			util_buf_printf(policy_fail(ev, POLICY_R_REQUESTER_NOT_ALLOWED),
			                "the requester's token has a %s claim without a %s claim",
			                pn == 0 ? "pod-uid" : "pod-name",
			                pn == 0 ? "pod-name" : "pod-uid");
		if (pn == 1 && pu == 1 && nn >= 0 && w.ns != NULL)
			w_check_pod(ev, &w);
	}

	if (w.ns != NULL) {
		td = ev->rule->trust_domain && *ev->rule->trust_domain ? ev->rule->trust_domain
		                                                       : w_cluster_domain(ev);
		w.spiffe = util_xasprintf("spiffe://%s/ns/%s/sa/%s", td, w.ns, w.sa);
	}
	if (w.pod_state == W_POD_OK)
		w_collect_names(ev, &w);

	if (ev->info != NULL) {
		w_check_sans(ev, &w);
		w_check_cn(ev);
	}
	policy_check_usages(ev, NULL, NULL, "workload");
	policy_check_expiration(ev);

	if (w.ns != NULL) {
		size_t n = ev->info ? ev->info->n_sans : 0;
		util_buf_printf(&ev->summary, "service account %s/%s", w.ns, w.sa);
		if (w.pod_state == W_POD_OK) {
			util_buf_printf(&ev->summary, ", pod %s/%s (uid ", w.ns, w.pod_name);
			policy_escape(&ev->summary, w.pod_uid, strlen(w.pod_uid));
			util_buf_putc(&ev->summary, ')');
		} else
			util_buf_puts(&ev->summary, " (no pod binding)");
		util_buf_printf(&ev->summary, ", %zu SAN%s", n, n == 1 ? "" : "s");
	}
	w_state_free(&w);
}

/* ---- PodCertificateRequests ---- */

static void w_names_push(struct policy_names *n, enum policy_name_type type, const char *value)
{
	n->types = util_xreallocarray(n->types, n->values.n + 1, sizeof(*n->types));
	n->types[n->values.n] = type;
	util_strv_push(&n->values, value);
}

/* The PodCertificateRequest's uids: its node (spec.nodeName) and service
 * account (spec.serviceAccountName) must exist with the uids it names.
 * Both rest on objects: a cache that lags, or a ServiceAccount never
 * cached, is settled by the live read before any denial. */
static void w_check_pcr_uids(struct policy_eval *ev, const struct w_state *w,
                             const struct policy_workload_ids *ids)
{
	const struct policy_lookup *lk = ev->lookup;
	const struct policy_node *node = NULL;
	const char *uid = NULL;
	struct util_buf *b;

	if (lk->get_node == NULL || lk->get_node(lk->ctx, w->node_claim, &node) != POLICY_FOUND ||
	    node == NULL) {
		b = policy_fail_obj(ev, POLICY_R_POD_MISMATCH);
		util_buf_printf(b, "node %s, named by the PodCertificateRequest, does not exist",
		                w->node_claim);
	} else if (node->uid == NULL || strcmp(node->uid, ids->node_uid) != 0) {
		b = policy_fail_obj(ev, POLICY_R_POD_MISMATCH);
		util_buf_printf(b, "node %s has uid ", w->node_claim);
		policy_quote(b, node->uid ? node->uid : "", node->uid ? strlen(node->uid) : 0);
		util_buf_puts(b, ", the PodCertificateRequest names ");
		policy_quote(b, ids->node_uid, strlen(ids->node_uid));
	}

	if (lk->get_service_account_uid == NULL ||
	    lk->get_service_account_uid(lk->ctx, w->ns, w->sa, &uid) != POLICY_FOUND ||
	    uid == NULL) {
		b = policy_fail_obj(ev, POLICY_R_POD_MISMATCH);
		util_buf_printf(b,
		                "service account %s/%s, named by the PodCertificateRequest, does "
		                "not exist",
		                w->ns, w->sa);
	} else if (strcmp(uid, ids->service_account_uid) != 0) {
		b = policy_fail_obj(ev, POLICY_R_POD_MISMATCH);
		util_buf_printf(b, "service account %s/%s has uid ", w->ns, w->sa);
		policy_quote(b, uid, strlen(uid));
		util_buf_puts(b, ", the PodCertificateRequest names ");
		policy_quote(b, ids->service_account_uid, strlen(ids->service_account_uid));
	}
}

void policy_workload_pod(struct policy_eval *ev, const struct policy_workload_ids *ids,
                         struct policy_names *names)
{
	struct w_state w = {0};
	const struct policy_rule *r = ev->rule;
	const char *td;

	w.who = "the PodCertificateRequest";
	w.ns = util_xstrdup(ids->ns);
	w.sa = util_xstrdup(ids->service_account);
	w.pod_name = ids->pod_name;
	w.pod_uid = ids->pod_uid;
	w.node_claim = ids->node_name;
	w.pod_state = W_POD_UNKNOWN;

	w_check_namespace(ev, &w);
	w_check_pod(ev, &w);
	w_check_pcr_uids(ev, &w, ids);

	td = r->trust_domain && *r->trust_domain ? r->trust_domain : w_cluster_domain(ev);
	w.spiffe = util_xasprintf("spiffe://%s/ns/%s/sa/%s", td, w.ns, w.sa);
	if (w.pod_state == W_POD_OK) {
		w_collect_names(ev, &w);
		/* The pod's names are known: how many there are is judged. */
		policy_ran(ev, POLICY_R_SAN_NOT_ALLOWED);
	}

	if (names != NULL && w.pod_state == W_POD_OK) {
		if (r->allowed_names & POLICY_NAME_SPIFFE)
			w_names_push(names, POLICY_NAME_TYPE_URI, w.spiffe);
		for (size_t i = 0; (r->allowed_names & POLICY_NAME_POD_IP) && i < w.ip_text.n; i++)
			w_names_push(names, POLICY_NAME_TYPE_IP, w.ip_text.v[i]);
		for (size_t k = 0; k < W_N_KINDS; k++)
			for (size_t i = 0; i < w.by_kind[k].n; i++)
				w_names_push(names, POLICY_NAME_TYPE_DNS, w.by_kind[k].v[i]);
	}
	if (w.pod_state == W_POD_OK) {
		util_buf_printf(&ev->summary, "service account %s/%s, pod %s/%s (uid ", w.ns, w.sa,
		                w.ns, w.pod_name);
		policy_escape(&ev->summary, w.pod_uid, strlen(w.pod_uid));
		util_buf_printf(&ev->summary, ") on node %s", w.node_claim);
	}
	w_state_free(&w);
}
