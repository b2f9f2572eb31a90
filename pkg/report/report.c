/*
 * report: objects to rows, rows to findings (see report.h). Rendering is
 * in render.c, the commands in report_cmd.c and why.c.
 */
#include "report.h"
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../csr/csr.h"
#include "../kobj/kobj.h"

#define CLAIM_POD_NAME "authentication.kubernetes.io/pod-name"
#define CLAIM_POD_UID "authentication.kubernetes.io/pod-uid"
#define CLAIM_NODE_NAME "authentication.kubernetes.io/node-name"
#define SA_PREFIX "system:serviceaccount:"
#define NODE_PREFIX "system:node:"
#define OUR_PREFIX "csr-approver: policy "

/* ---------------------------------------------------------------- strings */

char *report_field(const char *s)
{
	size_t n;
	if (s == NULL)
		return NULL;
	n = strlen(s);
	if (n <= REPORT_MAX_FIELD)
		return util_xstrdup(s);
	n = REPORT_MAX_FIELD - 3;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return util_xasprintf("%.*s...", (int)n, s);
}

void report_ascii(char *dst, size_t len, const char *s, size_t n)
{
	size_t o = 0;
	if (len == 0)
		return;
	for (size_t i = 0; s != NULL && i < n && o + 1 < len; i++) {
		unsigned char c = (unsigned char)s[i];
		dst[o++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	dst[o] = '\0';
}

/* obj[a][b] as a string, or NULL. */
static const char *jget(const json_t *obj, const char *a, const char *b)
{
	const json_t *v = json_object_get(obj, a);
	if (b != NULL)
		v = json_object_get(v, b);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

static int64_t jtime(const json_t *obj, const char *key)
{
	const char *s = jget(obj, key, NULL);
	int64_t t = 0;
	if (s == NULL || kobj_parse_time(s, &t) != 0)
		return 0;
	return t;
}

/* ---------------------------------------------------------------- decisions */

const char *report_state_name(enum report_state s)
{
	switch (s) {
	case REPORT_PENDING:
		return "Pending";
	case REPORT_APPROVED:
		return "Approved";
	case REPORT_ISSUED:
		return "Issued";
	case REPORT_DENIED:
		return "Denied";
	case REPORT_FAILED:
		return "Failed";
	}
	return "Unknown";
}

const char *report_by_text(const struct report_decision *d, char *buf, size_t len)
{
	switch (d->by) {
	case REPORT_BY_POLICY:
		snprintf(buf, len, "csr-approver/%s", d->by_name);
		break;
	case REPORT_BY_PERSON:
		snprintf(buf, len, "kubectl");
		break;
	case REPORT_BY_OTHER:
		snprintf(buf, len, "other/%s", d->by_name);
		break;
	default:
		snprintf(buf, len, "%s", "");
		break;
	}
	return buf;
}

static bool cond_true(const json_t *cond)
{
	const char *st = jget(cond, "status", NULL);
	/* Conditions of a CSR before status was required have none. */
	return st == NULL || strcmp(st, "True") == 0;
}

/* Is the condition csr-approver's? Then *name gets the policy. */
static bool cond_ours(const json_t *cond, const char *type, char *name, size_t len)
{
	const char *msg = jget(cond, "message", NULL);
	const char *reason = jget(cond, "reason", NULL);
	if (msg == NULL || strncmp(msg, OUR_PREFIX, strlen(OUR_PREFIX)) != 0)
		return false;
	/* Only csr-approver writes AutoApproved with this message; a person's
	 * `kubectl certificate approve` has reason KubectlApprove. */
	if (strcmp(type, "Approved") == 0 &&
	    (reason == NULL || strcmp(reason, "AutoApproved") != 0))
		return false;
	const char *p = msg + strlen(OUR_PREFIX);
	const char *end = strchr(p, ':');
	if (end == NULL || end == p)
		return false;
	report_ascii(name, len, p, (size_t)(end - p));
	return true;
}

static void decided_by(const json_t *cond, const char *type, struct report_decision *d)
{
	const char *reason = jget(cond, "reason", NULL);
	report_ascii(d->reason, sizeof(d->reason), reason, reason ? strlen(reason) : 0);
	d->at = jtime(cond, "lastUpdateTime");
	if (d->at == 0)
		d->at = jtime(cond, "lastTransitionTime");
	if (cond_ours(cond, type, d->by_name, sizeof(d->by_name))) {
		d->by = REPORT_BY_POLICY;
	} else if (reason != NULL &&
	           (strcmp(reason, "KubectlApprove") == 0 || strcmp(reason, "KubectlDeny") == 0)) {
		d->by = REPORT_BY_PERSON;
		snprintf(d->by_name, sizeof(d->by_name), "kubectl");
	} else {
		d->by = REPORT_BY_OTHER;
		if (d->reason[0] != '\0')
			snprintf(d->by_name, sizeof(d->by_name), "%s", d->reason);
		else
			snprintf(d->by_name, sizeof(d->by_name), "unknown");
	}
}

void report_decision_read(const json_t *status, enum report_kind kind, struct report_decision *out)
{
	const json_t *conds = json_object_get(status, "conditions");
	const json_t *cond, *approved = NULL, *denied = NULL, *failed = NULL, *issued = NULL;
	size_t i;

	memset(out, 0, sizeof(*out));
	out->state = REPORT_PENDING;
	json_array_foreach(conds, i, cond)
	{
		const char *t = jget(cond, "type", NULL);
		if (t == NULL || !cond_true(cond))
			continue;
		if (strcmp(t, "Approved") == 0 && approved == NULL)
			approved = cond;
		else if (strcmp(t, "Denied") == 0 && denied == NULL)
			denied = cond;
		else if (strcmp(t, "Failed") == 0 && failed == NULL)
			failed = cond;
		else if (strcmp(t, "Issued") == 0 && issued == NULL)
			issued = cond;
	}
	const char *cert =
	    jget(status, kind == REPORT_CSR ? "certificate" : "certificateChain", NULL);
	bool has_cert = cert != NULL && cert[0] != '\0';
	if (kind == REPORT_CSR) {
		/* Who decided is who approved or denied; a signer's Failed
		 * comes after an approval. */
		const json_t *d = denied ? denied : approved ? approved : failed;
		if (d == NULL)
			return;
		decided_by(d, d == denied ? "Denied" : d == approved ? "Approved" : "Failed", out);
		snprintf(out->decision, sizeof(out->decision), "%s",
		         d == denied         ? "deny"
		             : d == approved ? "approve"
		                             : "fail");
		out->state = denied ? REPORT_DENIED
		    : failed        ? REPORT_FAILED
		    : has_cert      ? REPORT_ISSUED
		                    : REPORT_APPROVED;
		return;
	}
	const json_t *d = issued ? issued : denied ? denied : failed;
	if (d == NULL) {
		if (has_cert)
			out->state = REPORT_ISSUED;
		return;
	}
	decided_by(d, d == issued ? "Issued" : d == denied ? "Denied" : "Failed", out);
	snprintf(out->decision, sizeof(out->decision), "%s",
	         d == issued       ? "approve"
	             : d == denied ? "deny"
	                           : "fail");
	out->state = d == issued ? REPORT_ISSUED : d == denied ? REPORT_DENIED : REPORT_FAILED;
}

/* ---------------------------------------------------------------- findings words */

static const char *const finding_words[] = {"pending", "unmanaged", "foreign", "expiring"};

const char *report_finding_name(unsigned bit)
{
	for (unsigned i = 0; i < 4; i++)
		if (bit == 1u << i)
			return finding_words[i];
	return "?";
}

int report_parse_findings(const char *s, unsigned *out, char *err, size_t errlen)
{
	unsigned mask = 0;
	const char *p = s;
	*out = 0;
	if (strcmp(s, "all") == 0) {
		*out = REPORT_F_ALL;
		return 0;
	}
	if (strcmp(s, "none") == 0 || s[0] == '\0')
		return 0;
	while (*p != '\0') {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		unsigned i = 0;
		for (; i < 4; i++)
			if (strlen(finding_words[i]) == n && strncmp(p, finding_words[i], n) == 0)
				break;
		if (i == 4) {
			snprintf(
			    err, errlen,
			    "unknown finding \"%.*s\" (want pending, unmanaged, foreign, expiring, "
			    "all or none)",
			    (int)(n > 64 ? 64 : n), p);
			return -1;
		}
		mask |= 1u << i;
		p += n;
		if (*p == ',')
			p++;
	}
	*out = mask;
	return 0;
}

/* ---------------------------------------------------------------- rows */

struct report *report_new(const struct report_options *o)
{
	struct report *r = util_xcalloc(1, sizeof(*r));
	r->opt = *o;
	return r;
}

static void row_clear(struct report_row *w)
{
	free(w->name);
	free(w->uid);
	free(w->signer);
	free(w->policy);
	free(w->requester);
	free(w->requester_uid);
	util_strv_free(&w->groups);
	free(w->pod);
	free(w->pod_uid);
	free(w->node);
	free(w->service_account);
	util_strv_free(&w->names);
	free(w->key_type);
	free(w->problem);
	free(w->serial);
}

void report_free(struct report *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->n; i++)
		row_clear(&r->rows[i]);
	free(r->rows);
	util_strv_free(&r->notes);
	free(r);
}

void report_note(struct report *r, const char *why)
{
	util_strv_push(&r->notes, why);
}

size_t report_rows(const struct report *r)
{
	return r->n;
}

const struct report_row *report_row(const struct report *r, size_t i)
{
	return i < r->n ? &r->rows[i] : NULL;
}

unsigned report_findings(const struct report *r)
{
	unsigned f = 0;
	for (size_t i = 0; i < r->n; i++)
		f |= r->rows[i].findings;
	return f;
}

static void add_name(struct report_row *w, const char *prefix, const char *v, size_t n)
{
	char buf[REPORT_MAX_FIELD];
	w->n_names_total++;
	if (w->names.n >= REPORT_MAX_NAMES)
		return;
	size_t p = strlen(prefix);
	memcpy(buf, prefix, p);
	report_ascii(buf + p, sizeof(buf) - p, v, n);
	util_strv_push(&w->names, buf);
}

/* The SANs and key of a PEM request. */
static void read_request(struct report_row *w, const char *pem, size_t len)
{
	struct csr_info *info = NULL;
	char err[256], kt[32];
	if (csr_parse(pem, len, &info, err, sizeof(err)) != 0) {
		w->problem = util_xasprintf("the request does not decode: %s", err);
		return;
	}
	for (size_t i = 0; i < info->n_sans; i++) {
		const struct csr_san *s = &info->sans[i];
		switch (s->type) {
		case CSR_SAN_DNS:
		case CSR_SAN_IP:
		case CSR_SAN_URI:
			add_name(w, "", s->value, s->value_len);
			break;
		default: {
			char pfx[32];
			snprintf(pfx, sizeof(pfx), "%s:", csr_san_type_name(s->type));
			add_name(w, pfx, s->value, s->value_len);
			break;
		}
		}
	}
	w->key_type = util_xstrdup(csr_key_text(&info->key, kt, sizeof(kt)));
	csr_info_free(info);
}

static void read_certificate(struct report_row *w, const char *pem, size_t len, bool names)
{
	struct csr_cert cert;
	char err[256];
	if (csr_cert_parse(pem, len, &cert, err, sizeof(err)) != 0) {
		free(w->problem);
		w->problem = util_xasprintf("the certificate does not decode: %s", err);
		return;
	}
	w->serial = util_xstrdup(cert.serial);
	w->not_before = cert.not_before;
	w->not_after = cert.not_after;
	if (names)
		for (size_t i = 0; i < cert.sans.n; i++)
			add_name(w, "", cert.sans.v[i], strlen(cert.sans.v[i]));
	csr_cert_clear(&cert);
}

/* A base64 member decoded, at most max bytes; NULL when absent or bad. */
static char *b64_member(const json_t *obj, const char *key, size_t max, size_t *len)
{
	const json_t *v = json_object_get(obj, key);
	char *out = NULL;
	if (!json_is_string(v) || json_string_length(v) == 0)
		return NULL;
	if (util_base64_decode(json_string_value(v), json_string_length(v), UTIL_B64_SKIP_NEWLINES,
	                       max, &out, len) != 0)
		return NULL;
	return out;
}

/* DER to PEM, for the decoder that takes PEM. */
static char *der_to_pem(const char *der, size_t len, const char *label)
{
	char *b64 = util_base64_encode(der, len);
	struct util_buf b = {0};
	util_buf_printf(&b, "-----BEGIN %s-----\n", label);
	for (size_t i = 0, n = strlen(b64); i < n; i += 64)
		util_buf_printf(&b, "%.*s\n", (int)(n - i < 64 ? n - i : 64), b64 + i);
	util_buf_printf(&b, "-----END %s-----\n", label);
	free(b64);
	return util_buf_take(&b);
}

static const char *extra_first(const json_t *spec, const char *key)
{
	const json_t *v = json_object_get(json_object_get(spec, "extra"), key);
	v = json_array_get(v, 0);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

static void fill_csr(struct report_row *w, const json_t *obj)
{
	const json_t *spec = json_object_get(obj, "spec");
	const json_t *status = json_object_get(obj, "status");
	const json_t *g;
	size_t i, len = 0;
	char *pem;

	w->signer = report_field(jget(spec, "signerName", NULL));
	w->requester = report_field(jget(spec, "username", NULL));
	w->requester_uid = report_field(jget(spec, "uid", NULL));
	json_array_foreach(json_object_get(spec, "groups"), i, g)
	{
		if (json_is_string(g) && w->groups.n < REPORT_MAX_NAMES) {
			char *f = report_field(json_string_value(g));
			util_strv_push(&w->groups, f);
			free(f);
		}
	}
	const char *user = w->requester ? w->requester : "";
	const char *pod = extra_first(spec, CLAIM_POD_NAME);
	const char *node = extra_first(spec, CLAIM_NODE_NAME);
	if (strncmp(user, SA_PREFIX, strlen(SA_PREFIX)) == 0) {
		const char *ns = user + strlen(SA_PREFIX);
		const char *colon = strchr(ns, ':');
		if (colon != NULL) {
			w->service_account =
			    util_xasprintf("%.*s/%s", (int)(colon - ns), ns, colon + 1);
			if (pod != NULL) {
				char *p = util_xasprintf("%.*s/%s", (int)(colon - ns), ns, pod);
				w->pod = report_field(p);
				free(p);
				w->pod_uid = report_field(extra_first(spec, CLAIM_POD_UID));
			}
		}
	} else if (strncmp(user, NODE_PREFIX, strlen(NODE_PREFIX)) == 0) {
		node = user + strlen(NODE_PREFIX);
	}
	w->node = report_field(node);
	pem = b64_member(spec, "request", CSR_MAX_PEM, &len);
	if (pem != NULL)
		read_request(w, pem, len);
	else
		w->problem = util_xstrdup("spec.request is missing, not base64 or too large");
	free(pem);
	report_decision_read(status, REPORT_CSR, &w->decision);
	w->issued = w->decision.state == REPORT_ISSUED;
	pem = b64_member(status, "certificate", CSR_MAX_CERT_PEM, &len);
	if (pem != NULL)
		read_certificate(w, pem, len, false);
	free(pem);
}

static void fill_pcr(struct report_row *w, const json_t *obj)
{
	const json_t *spec = json_object_get(obj, "spec");
	const json_t *status = json_object_get(obj, "status");
	const char *ns = jget(obj, "metadata", "namespace");
	const char *node = jget(spec, "nodeName", NULL);
	const char *pod = jget(spec, "podName", NULL);
	const char *sa = jget(spec, "serviceAccountName", NULL);
	size_t len = 0;
	char *der, *tmp;

	w->signer = report_field(jget(spec, "signerName", NULL));
	if (node != NULL) {
		tmp = util_xasprintf(NODE_PREFIX "%s", node);
		w->requester = report_field(tmp);
		free(tmp);
		util_strv_push(&w->groups, "system:nodes");
		util_strv_push(&w->groups, "system:authenticated");
	}
	w->requester_uid = report_field(jget(spec, "nodeUID", NULL));
	w->node = report_field(node);
	if (pod != NULL) {
		tmp = util_xasprintf("%s/%s", ns ? ns : "", pod);
		w->pod = report_field(tmp);
		free(tmp);
	}
	w->pod_uid = report_field(jget(spec, "podUID", NULL));
	if (sa != NULL) {
		tmp = util_xasprintf("%s/%s", ns ? ns : "", sa);
		w->service_account = report_field(tmp);
		free(tmp);
	}
	/* The key: v1beta1 and v1 carry a stub PKCS#10 request (DER). */
	der = b64_member(spec, "stubPKCS10Request", CSR_MAX_PEM, &len);
	if (der != NULL) {
		struct csr_info *info = NULL;
		char err[256], kt[32];
		char *pem = der_to_pem(der, len, "CERTIFICATE REQUEST");
		if (csr_parse(pem, strlen(pem), &info, err, sizeof(err)) == 0)
			w->key_type = util_xstrdup(csr_key_text(&info->key, kt, sizeof(kt)));
		else
			w->problem = util_xasprintf("the stub request does not decode: %s", err);
		csr_info_free(info);
		free(pem);
	}
	free(der);
	report_decision_read(status, REPORT_PCR, &w->decision);
	w->issued = w->decision.state == REPORT_ISSUED;
	const char *chain = jget(status, "certificateChain", NULL);
	if (chain != NULL && chain[0] != '\0') {
		size_t n = strlen(chain);
		read_certificate(w, chain, n > CSR_MAX_CERT_PEM ? CSR_MAX_CERT_PEM + 1 : n, true);
	}
}

int report_add(struct report *r, enum report_kind kind, const json_t *obj, char *err, size_t errlen)
{
	const char *name = jget(obj, "metadata", "name");
	struct report_row *w;

	if (!json_is_object(obj) || name == NULL) {
		snprintf(err, errlen, "an object without metadata.name");
		return -1;
	}
	if (r->n >= REPORT_MAX_ROWS) {
		snprintf(err, errlen, "more than %d objects: the rest is left out",
		         REPORT_MAX_ROWS);
		return -1;
	}
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 64;
		r->rows = util_xreallocarray(r->rows, r->cap, sizeof(*r->rows));
	}
	w = &r->rows[r->n++];
	memset(w, 0, sizeof(*w));
	w->kind = kind;
	if (kind == REPORT_PCR) {
		const char *ns = jget(obj, "metadata", "namespace");
		char *full = util_xasprintf("%s/%s", ns ? ns : "", name);
		w->name = report_field(full);
		free(full);
	} else {
		w->name = report_field(name);
	}
	w->uid = report_field(jget(obj, "metadata", "uid"));
	w->created = jtime(json_object_get(obj, "metadata"), "creationTimestamp");
	if (kind == REPORT_CSR)
		fill_csr(w, obj);
	else
		fill_pcr(w, obj);
	if (w->signer == NULL)
		w->signer = util_xstrdup("");
	return 0;
}

/* ---------------------------------------------------------------- classification */

/* The policy covering row w: from the set, or inferred from the rows. */
static const char *policy_for(const struct report *r, const struct report_row *w)
{
	if (r->opt.set != NULL) {
		const struct policy_rule *rule = policy_set_find(r->opt.set, w->signer);
		if (rule == NULL || (w->kind == REPORT_PCR && !rule->pod_certificates))
			return NULL;
		return rule->name;
	}
	for (size_t i = 0; i < r->n; i++) {
		const struct report_row *o = &r->rows[i];
		if (o->kind == w->kind && o->decision.by == REPORT_BY_POLICY &&
		    strcmp(o->signer, w->signer) == 0)
			return o->decision.by_name;
	}
	return NULL;
}

static int row_cmp(const void *a, const void *b)
{
	const struct report_row *x = a, *y = b;
	int c;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	if ((c = strcmp(x->signer, y->signer)) != 0)
		return c;
	return strcmp(x->name, y->name);
}

void report_finish(struct report *r)
{
	const struct report_options *o = &r->opt;
	for (size_t i = 0; i < r->n; i++) {
		struct report_row *w = &r->rows[i];
		const char *p = policy_for(r, w);
		w->policy = p ? util_xstrdup(p) : NULL;
	}
	for (size_t i = 0; i < r->n; i++) {
		struct report_row *w = &r->rows[i];
		w->findings = 0;
		if (w->decision.state == REPORT_PENDING && w->created > 0 &&
		    o->now - w->created >= o->pending_over)
			w->findings |= REPORT_F_PENDING;
		if (w->policy == NULL)
			w->findings |= REPORT_F_UNMANAGED;
		else if (w->decision.by == REPORT_BY_PERSON || w->decision.by == REPORT_BY_OTHER)
			w->findings |= REPORT_F_FOREIGN;
		if (w->not_after > o->now && w->not_after <= o->now + o->expiring)
			w->findings |= REPORT_F_EXPIRING;
	}
	if (r->n > 1)
		qsort(r->rows, r->n, sizeof(*r->rows), row_cmp);
	r->finished = true;
}
