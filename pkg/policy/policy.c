/*
 * policy: policy_decide() and the pieces every rule file shares (failures,
 * quoting, names, the usage and expiration checks).
 */
#include "policy_internal.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct util_buf *policy_fail(struct policy_eval *ev, enum policy_reason r)
{
	/* Doubling: a request may hold thousands of failing SANs. */
	if (ev->n_failures == ev->cap_failures) {
		ev->cap_failures = ev->cap_failures ? 2 * ev->cap_failures : 8;
		ev->failures =
		    util_xreallocarray(ev->failures, ev->cap_failures, sizeof(*ev->failures));
	}
	struct policy_failure *f = &ev->failures[ev->n_failures++];
	memset(f, 0, sizeof(*f));
	f->reason = r;
	return &f->text;
}

struct util_buf *policy_fail_obj(struct policy_eval *ev, enum policy_reason r)
{
	struct util_buf *b = policy_fail(ev, r);
	ev->failures[ev->n_failures - 1].on_objects = true;
	return b;
}

void policy_ran(struct policy_eval *ev, enum policy_reason r)
{
	ev->checked |= 1u << (unsigned)r;
}

void policy_ran_in_part(struct policy_eval *ev, enum policy_reason r)
{
	ev->partial |= 1u << (unsigned)r;
}

bool policy_checked(const struct policy_decision *d, enum policy_reason r)
{
	return (unsigned)r < 32 && (d->checked & (1u << (unsigned)r)) != 0;
}

/* Every failure rests on objects: a fresh read of them could overturn the
 * denial. One failure of the request itself makes it final. */
static bool policy_rests_on_objects(const struct policy_eval *ev)
{
	if (ev->n_failures == 0)
		return false;
	for (size_t i = 0; i < ev->n_failures; i++)
		if (!ev->failures[i].on_objects)
			return false;
	return true;
}

/* Code points that may hide or reorder text in a log or a terminal. */
static bool policy_cp_is_hidden(uint32_t cp)
{
	return (cp >= 0x80 && cp <= 0x9f) || cp == 0x200e || cp == 0x200f ||
	    (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0xfeff;
}

/*
 * Control characters become \xNN, invalid UTF-8 bytes too; code points that
 * hide or reorder text (C1 controls, bidi marks, line separators) become
 * \uNNNN; quotes and backslashes are escaped. At most POLICY_QUOTE_MAX bytes
 * of s are shown, then "...".
 */
static void policy_escape_body(struct util_buf *b, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t i = 0;
	if (s == NULL)
		n = 0;
	while (i < n) {
		unsigned char c = p[i];
		size_t len = 1;
		uint32_t cp = c;
		if (c >= 0x80)
			len = util_utf8_decode(p + i, n - i, &cp);
		if (i + (len ? len : 1) > POLICY_QUOTE_MAX)
			break;
		if (c == '"' || c == '\\') {
			util_buf_putc(b, '\\');
			util_buf_putc(b, (char)c);
		} else if (c < 0x20 || c == 0x7f || len == 0) {
			util_buf_printf(b, "\\x%02x", c);
		} else if (len > 1 && policy_cp_is_hidden(cp)) {
			util_buf_printf(b, "\\u%04x", (unsigned)cp);
		} else {
			util_buf_append(b, p + i, len);
		}
		i += len ? len : 1;
	}
	if (i < n)
		util_buf_puts(b, "...");
}

void policy_quote(struct util_buf *b, const char *s, size_t n)
{
	util_buf_putc(b, '"');
	policy_escape_body(b, s, n);
	util_buf_putc(b, '"');
}

void policy_escape(struct util_buf *b, const char *s, size_t n)
{
	policy_escape_body(b, s, n);
}

void policy_put_ip(struct util_buf *b, const unsigned char *ip, size_t len)
{
	char text[INET6_ADDRSTRLEN];
	int af = len == 4 ? AF_INET : AF_INET6;
	if ((len != 4 && len != 16) || inet_ntop(af, ip, text, sizeof(text)) == NULL) {
		util_buf_printf(b, "(malformed address of %zu bytes)", len);
		return;
	}
	util_buf_puts(b, text);
}

size_t policy_parse_ip(const char *text, unsigned char out[16])
{
	if (text == NULL)
		return 0;
	if (inet_pton(AF_INET, text, out) == 1)
		return 4;
	if (inet_pton(AF_INET6, text, out) == 1)
		return 16;
	return 0;
}

void policy_put_list(struct util_buf *b, const struct util_strv *sv)
{
	if (sv->n == 0) {
		util_buf_puts(b, "none");
		return;
	}
	for (size_t i = 0; i < sv->n && i < POLICY_LIST_MAX; i++) {
		if (i > 0)
			util_buf_puts(b, ", ");
		policy_escape(b, sv->v[i], strlen(sv->v[i]));
	}
	if (sv->n > POLICY_LIST_MAX)
		util_buf_printf(b, " and %zu more", sv->n - POLICY_LIST_MAX);
}

static unsigned char policy_lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c - 'A' + 'a') : c;
}

bool policy_caseeq_n(const char *a, size_t an, const char *b, size_t bn)
{
	if (an != bn)
		return false;
	for (size_t i = 0; i < an; i++)
		if (policy_lower((unsigned char)a[i]) != policy_lower((unsigned char)b[i]))
			return false;
	return true;
}

bool policy_eq_n(const char *value, size_t n, const char *s)
{
	return value != NULL && s != NULL && strlen(s) == n && memcmp(value, s, n) == 0;
}

static bool policy_label_ok(const char *s, size_t n)
{
	if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
			return false;
	}
	return true;
}

bool policy_is_dns_label(const char *s)
{
	return s != NULL && policy_label_ok(s, strlen(s));
}

bool policy_is_dns_subdomain(const char *s)
{
	if (s == NULL)
		return false;
	size_t n = strlen(s);
	if (n == 0 || n > 253)
		return false;
	const char *p = s;
	for (;;) {
		const char *dot = memchr(p, '.', n - (size_t)(p - s));
		size_t len = dot ? (size_t)(dot - p) : n - (size_t)(p - s);
		if (!policy_label_ok(p, len))
			return false;
		if (dot == NULL)
			return true;
		p = dot + 1;
	}
}

size_t policy_subject_count(const struct csr_info *info, enum csr_attr_kind kind)
{
	size_t n = 0;
	for (size_t i = 0; info != NULL && i < info->n_subject; i++)
		if (info->subject[i].kind == kind)
			n++;
	return n;
}

const struct csr_subject_attr *policy_subject_first(const struct csr_info *info,
                                                    enum csr_attr_kind kind)
{
	for (size_t i = 0; info != NULL && i < info->n_subject; i++)
		if (info->subject[i].kind == kind)
			return &info->subject[i];
	return NULL;
}

static bool policy_in_list(const char *const *list, const char *s)
{
	for (size_t i = 0; list[i] != NULL; i++)
		if (strcmp(list[i], s) == 0)
			return true;
	return false;
}

void policy_check_usages(struct policy_eval *ev, const char *const *fixed, const char *required,
                         const char *type_name)
{
	const struct util_strv *u = &ev->req->usages;
	policy_ran(ev, POLICY_R_USAGE_NOT_ALLOWED);
	if (u->n == 0) {
		util_buf_puts(policy_fail(ev, POLICY_R_USAGE_NOT_ALLOWED), "spec.usages is empty");
		return;
	}
	for (size_t i = 0; i < u->n; i++) {
		const char *s = u->v[i] ? u->v[i] : "";
		struct util_buf *b;
		if (fixed != NULL && !policy_in_list(fixed, s)) {
			b = policy_fail(ev, POLICY_R_USAGE_NOT_ALLOWED);
			util_buf_puts(b, "usage ");
			policy_quote(b, s, strlen(s));
			util_buf_printf(b, " is not allowed for %s (allowed: ", type_name);
			for (size_t j = 0; fixed[j] != NULL; j++)
				util_buf_printf(b, "%s%s", j ? ", " : "", fixed[j]);
			util_buf_putc(b, ')');
		} else if (!util_strv_contains(&ev->rule->usages, s)) {
			b = policy_fail(ev, POLICY_R_USAGE_NOT_ALLOWED);
			util_buf_puts(b, "usage ");
			policy_quote(b, s, strlen(s));
			util_buf_puts(b, " is not in usages of this policy (allowed: ");
			policy_put_list(b, &ev->rule->usages);
			util_buf_putc(b, ')');
		}
	}
	if (required != NULL && !util_strv_contains(u, required))
		util_buf_printf(policy_fail(ev, POLICY_R_USAGE_NOT_ALLOWED),
		                "spec.usages lacks \"%s\", which %s requires", required, type_name);
}

void policy_check_expiration(struct policy_eval *ev)
{
	const struct policy_rule *r = ev->rule;
	int64_t e = ev->req->expiration_seconds;
	policy_ran(ev, POLICY_R_EXPIRATION_NOT_ALLOWED);
	if (!ev->req->has_expiration)
		return;
	if (e < r->min_expiration_seconds || e > r->max_expiration_seconds)
		util_buf_printf(policy_fail(ev, POLICY_R_EXPIRATION_NOT_ALLOWED),
		                "spec.expirationSeconds %lld is outside [%lld, %lld]", (long long)e,
		                (long long)r->min_expiration_seconds,
		                (long long)r->max_expiration_seconds);
}

void policy_check_max_sans(struct policy_eval *ev)
{
	size_t n = ev->info ? ev->info->n_sans : 0;
	if (ev->rule->max_sans < 0 || (uint64_t)n > (uint64_t)ev->rule->max_sans)
		util_buf_printf(policy_fail(ev, POLICY_R_SAN_NOT_ALLOWED),
		                "%zu SANs, more than maxSANs %lld", n,
		                (long long)ev->rule->max_sans);
}

/* ---- policy_decide ---- */

/* No objects, and every review answered "denied". */
static const struct policy_lookup policy_no_lookup = {.authorization = POLICY_SAR_DENIED};

static void policy_eval_free(struct policy_eval *ev)
{
	for (size_t i = 0; i < ev->n_failures; i++)
		util_buf_reset(&ev->failures[i].text);
	free(ev->failures);
	free(ev->san_ok);
	util_buf_reset(&ev->summary);
}

/* Stable, so that the message keeps the order the checks ran in within one
 * reason; the first entry gives the decision its reason. One pass per
 * reason: linear in the failures, however many SANs failed. */
static void policy_sort_failures(struct policy_eval *ev)
{
	struct policy_failure *sorted;
	size_t n = 0;
	int lo, hi;

	if (ev->n_failures < 2)
		return;
	lo = hi = (int)ev->failures[0].reason;
	for (size_t i = 1; i < ev->n_failures; i++) {
		int r = (int)ev->failures[i].reason;
		lo = r < lo ? r : lo;
		hi = r > hi ? r : hi;
	}
	sorted = util_xreallocarray(NULL, ev->n_failures, sizeof(*sorted));
	for (int r = lo; r <= hi; r++)
		for (size_t i = 0; i < ev->n_failures; i++)
			if ((int)ev->failures[i].reason == r)
				sorted[n++] = ev->failures[i];
	free(ev->failures);
	ev->failures = sorted;
	ev->cap_failures = ev->n_failures;
}

/* Cut the message to POLICY_MESSAGE_MAX bytes, on a UTF-8 boundary, ending
 * in "...". */
static char *policy_cap_message(struct util_buf *b)
{
	if (b->len > POLICY_MESSAGE_MAX) {
		size_t cut = POLICY_MESSAGE_MAX - 3;
		while (cut > 0 && ((unsigned char)b->data[cut] & 0xc0) == 0x80)
			cut--;
		b->len = cut;
		b->data[cut] = '\0';
		util_buf_puts(b, "...");
	}
	return util_buf_take(b);
}

static void policy_put_prefix(struct util_buf *b, const struct policy_rule *rule)
{
	const char *name = rule->name ? rule->name : "";
	util_buf_puts(b, "csr-approver: policy ");
	policy_escape(b, name, strlen(name));
	util_buf_puts(b, ": ");
}

/* The review the kubelet-client rules need, borrowing from the request. */
static void policy_make_sar(const struct policy_eval *ev, struct policy_sar *sar)
{
	const struct policy_request *req = ev->req;
	*sar = (struct policy_sar){
	    .user = req->username ? req->username : "",
	    .uid = req->user_uid ? req->user_uid : "",
	    .groups = &req->groups,
	    .extra = req->extra,
	    .n_extra = req->n_extra,
	    .verb = "create",
	    .group = "certificates.k8s.io",
	    .resource = "certificatesigningrequests",
	    .subresource = ev->sar_subresource,
	};
}

/* The answer the lookup holds for this decision's review. */
static enum policy_sar_answer policy_sar_answer_for(const struct policy_eval *ev)
{
	const char *for_sub = ev->lookup->authorization_for;
	if (for_sub != NULL &&
	    (ev->sar_subresource == NULL || strcmp(for_sub, ev->sar_subresource) != 0))
		return POLICY_SAR_UNASKED;
	return ev->lookup->authorization;
}

/* The failures, sorted, into out->failed. */
static void policy_copy_failed(const struct policy_eval *ev, struct policy_decision *out)
{
	if (ev->n_failures > 0)
		out->failed = util_xcalloc(ev->n_failures, sizeof(*out->failed));
	for (size_t i = 0; i < ev->n_failures; i++) {
		out->failed[i].reason = ev->failures[i].reason;
		out->failed[i].text = util_xstrdup(util_buf_str(&ev->failures[i].text));
		out->n_failed++;
	}
}

static const char *policy_decided_state(const struct policy_request *req)
{
	if (req->approved)
		return "approved";
	if (req->denied)
		return "denied";
	if (req->failed)
		return "failed";
	return "issued";
}

int policy_decide(const struct policy_set *set, const struct policy_request *req,
                  const struct csr_info *info, const char *decode_error,
                  const struct policy_lookup *lookup, struct policy_decision *out)
{
	struct policy_eval ev = {0};
	struct util_buf msg = {0};
	const struct policy_rule *rule;

	if (out == NULL)
		return -1;
	memset(out, 0, sizeof(*out));
	if (req == NULL)
		return -1;

	out->verdict = POLICY_SKIP;
	/* A certificate without a condition is not a state the API leads to;
	 * either way there is nothing left to decide. */
	if (req->approved || req->denied || req->failed || req->has_certificate) {
		out->reason = POLICY_R_ALREADY_DECIDED;
		out->message =
		    util_xasprintf("csr-approver: already %s", policy_decided_state(req));
		return 0;
	}
	rule = policy_set_find(set, req->signer_name);
	if (rule == NULL) {
		const char *s = req->signer_name ? req->signer_name : "";
		out->reason = POLICY_R_NO_POLICY;
		util_buf_puts(&msg, "csr-approver: no policy for signerName ");
		policy_quote(&msg, s, strlen(s));
		out->message = policy_cap_message(&msg);
		return 0;
	}

	out->policy = rule->name;
	ev.set = set;
	ev.rule = rule;
	ev.req = req;
	ev.info = info;
	ev.lookup = lookup ? lookup : &policy_no_lookup;
	if (info != NULL && info->n_sans > 0) {
		ev.san_ok = util_xcalloc(info->n_sans, sizeof(*ev.san_ok));
		for (size_t i = 0; i < info->n_sans; i++)
			ev.san_ok[i] = true;
	}

	policy_ran(&ev, POLICY_R_INVALID_REQUEST);
	if (info == NULL) {
		struct util_buf *b = policy_fail(&ev, POLICY_R_INVALID_REQUEST);
		util_buf_puts(b, "the request does not decode: ");
		if (decode_error != NULL)
			policy_escape(b, decode_error, strlen(decode_error));
		else
			util_buf_puts(b, "no reason given");
	} else {
		policy_rules_global(&ev);
	}

	switch (rule->type) {
	case POLICY_TYPE_WORKLOAD:
		policy_rules_workload(&ev);
		break;
	case POLICY_TYPE_KUBELET_SERVING:
		policy_rules_kubelet_serving(&ev);
		break;
	case POLICY_TYPE_KUBELET_CLIENT:
		policy_rules_kubelet_client(&ev);
		break;
	case POLICY_TYPE_CLIENT:
		policy_rules_client(&ev);
		break;
	default:
		util_buf_printf(policy_fail(&ev, POLICY_R_NOT_AUTHORIZED),
		                "policy type %d is not supported", (int)rule->type);
		break;
	}

	/* The review costs an API call: it is asked only for a request that
	 * passed the rest. An answer already known (check --authorize, or one
	 * asked for this resourceVersion) is a check like the others: a
	 * denial names it with the rest of what failed. */
	enum policy_sar_answer known =
	    ev.sar_wanted ? policy_sar_answer_for(&ev) : POLICY_SAR_UNASKED;
	if (ev.sar_wanted && (ev.n_failures == 0 || known != POLICY_SAR_UNASKED)) {
		enum policy_sar_answer a = known;
		if (a == POLICY_SAR_UNASKED) {
			out->verdict = POLICY_NEEDS_AUTHORIZATION;
			out->reason = POLICY_R_NONE;
			policy_make_sar(&ev, &out->sar);
			policy_put_prefix(&msg, rule);
			util_buf_printf(&msg,
			                "waiting for the SubjectAccessReview of "
			                "certificatesigningrequests/%s",
			                ev.sar_subresource);
			out->message = policy_cap_message(&msg);
			goto out;
		}
		policy_ran(&ev, POLICY_R_NOT_AUTHORIZED);
		if (a == POLICY_SAR_ALLOWED) {
			util_buf_printf(&ev.summary,
			                " authorized for certificatesigningrequests/%s by "
			                "SubjectAccessReview",
			                ev.sar_subresource);
		} else {
			const char *u = ev.req->username ? ev.req->username : "";
			struct util_buf *b = policy_fail(&ev, POLICY_R_NOT_AUTHORIZED);
			util_buf_puts(b, "the SubjectAccessReview denies ");
			policy_quote(b, u, strlen(u));
			util_buf_printf(b, " create on certificatesigningrequests/%s",
			                ev.sar_subresource);
		}
	}

	out->checked = ev.checked & ~ev.partial;
	policy_put_prefix(&msg, rule);
	if (ev.n_failures == 0 && info != NULL) {
		out->verdict = POLICY_APPROVE;
		out->reason = POLICY_R_AUTO_APPROVED;
		util_buf_puts(&msg, util_buf_str(&ev.summary));
	} else {
		policy_sort_failures(&ev);
		out->verdict = POLICY_DENY;
		out->reason = ev.n_failures ? ev.failures[0].reason : POLICY_R_INVALID_REQUEST;
		out->leave_pending = rule->on_failure == POLICY_ON_FAILURE_LEAVE_PENDING;
		out->missing_object = ev.missing_object;
		out->rests_on_objects = policy_rests_on_objects(&ev);
		policy_copy_failed(&ev, out);
		for (size_t i = 0; i < ev.n_failures; i++) {
			if (i > 0)
				util_buf_puts(&msg, "; ");
			util_buf_puts(&msg, util_buf_str(&ev.failures[i].text));
			if (msg.len > POLICY_MESSAGE_MAX)
				break;
		}
	}
	out->message = policy_cap_message(&msg);
out:
	util_buf_reset(&msg);
	policy_eval_free(&ev);
	return 0;
}

static const char *policy_pcr_state(const struct policy_pcr *pcr)
{
	if (pcr->issued)
		return "issued";
	if (pcr->denied)
		return "denied";
	if (pcr->failed)
		return "failed";
	return "issued";
}

int policy_decide_pcr(const struct policy_set *set, const struct policy_pcr *pcr,
                      const struct csr_info *stub_info, const char *stub_error,
                      const struct policy_lookup *lookup, struct policy_decision *out,
                      struct policy_names *out_names)
{
	struct policy_eval ev = {0};
	struct policy_names names = {0};
	struct util_buf msg = {0};
	const struct policy_rule *rule;

	if (out_names != NULL)
		policy_names_clear(out_names);
	if (out == NULL)
		return -1;
	memset(out, 0, sizeof(*out));
	if (pcr == NULL)
		return -1;

	out->verdict = POLICY_SKIP;
	if (pcr->issued || pcr->denied || pcr->failed || pcr->has_chain) {
		out->reason = POLICY_R_ALREADY_DECIDED;
		out->message = util_xasprintf("csr-approver: already %s", policy_pcr_state(pcr));
		return 0;
	}
	rule = policy_set_find(set, pcr->signer_name);
	if (rule == NULL || !rule->pod_certificates) {
		const char *s = pcr->signer_name ? pcr->signer_name : "";
		out->reason = POLICY_R_NO_POLICY;
		util_buf_puts(&msg, "csr-approver: no policy with podCertificates for signerName ");
		policy_quote(&msg, s, strlen(s));
		out->message = policy_cap_message(&msg);
		return 0;
	}

	out->policy = rule->name;
	ev.set = set;
	ev.rule = rule;
	ev.info = stub_info;
	ev.lookup = lookup ? lookup : &policy_no_lookup;
	policy_rules_pcr(&ev, pcr, stub_error, &names);

	out->checked = ev.checked & ~ev.partial;
	policy_put_prefix(&msg, rule);
	if (ev.n_failures == 0 && stub_info != NULL && names.values.n > 0) {
		out->verdict = POLICY_APPROVE;
		out->reason = POLICY_R_AUTO_APPROVED;
		util_buf_puts(&msg, util_buf_str(&ev.summary));
		util_buf_printf(&msg, ", %zu name%s", names.values.n,
		                names.values.n == 1 ? "" : "s");
		if (out_names != NULL) {
			*out_names = names;
			memset(&names, 0, sizeof(names));
		}
	} else {
		if (ev.n_failures == 0)
			util_buf_puts(policy_fail(&ev, POLICY_R_SAN_NOT_ALLOWED),
			              "allowedNames gives the pod no name");
		policy_sort_failures(&ev);
		out->verdict = POLICY_DENY;
		out->reason = ev.failures[0].reason;
		out->missing_object = ev.missing_object;
		out->rests_on_objects = policy_rests_on_objects(&ev);
		policy_copy_failed(&ev, out);
		for (size_t i = 0; i < ev.n_failures; i++) {
			if (i > 0)
				util_buf_puts(&msg, "; ");
			util_buf_puts(&msg, util_buf_str(&ev.failures[i].text));
			if (msg.len > POLICY_MESSAGE_MAX)
				break;
		}
	}
	out->message = policy_cap_message(&msg);
	util_buf_reset(&msg);
	policy_names_clear(&names);
	policy_eval_free(&ev);
	return 0;
}
