/*
 * report: what `csr-approver why` prints: the checks of a decision, in rule
 * order, with what each verifies; the condition an object carries now; the
 * record as text.
 */
#include "internal.h"

#include <stdio.h>
#include <string.h>

/* ---------------------------------------------------------------- the checks */

/* What each reason's checks verify, in rule order: for a CSR, and for a
 * PodCertificateRequest (NULL: that kind has no such check). */
struct why_check {
	enum policy_reason reason;
	const char *csr, *pcr;
};

static const struct why_check why_checks[] = {
    {POLICY_R_INVALID_REQUEST,
     "the request decodes: one PEM block, strict DER, PKCS#10 v1, only an extensionRequest",
     "spec.stubPKCS10Request decodes (strict DER, PKCS#10 v1) and the names and uids of "
     "the request are well-formed"},
    {POLICY_R_SIGNATURE_INVALID, "the self-signature verifies with the embedded key",
     "the stub's self-signature verifies with its key"},
    {POLICY_R_SIGNATURE_ALGORITHM_NOT_ALLOWED,
     "the signature algorithm is SHA-256 or stronger and matches the key", NULL},
    {POLICY_R_KEY_NOT_ALLOWED, "the key type, size and curve are within keys", NULL},
    {POLICY_R_UNSUPPORTED_KEY_TYPE, NULL, "the stub's key type, size and curve are within keys"},
    {POLICY_R_EXTENSION_NOT_ALLOWED,
     "only subjectAltName, keyUsage, extendedKeyUsage and basicConstraints CA:FALSE", NULL},
    {POLICY_R_SUBJECT_NOT_ALLOWED, "the subject holds only the CN and O the type allows", NULL},
    {POLICY_R_REQUESTER_NOT_ALLOWED,
     "the requester (spec.username, groups, token claims) has the type's form", NULL},
    {POLICY_R_NAMESPACE_NOT_ALLOWED, "the namespace is within namespaces, not excluded",
     "the namespace is within namespaces, not excluded"},
    {POLICY_R_POD_NOT_FOUND, "the pod named by the token exists", "the pod spec.podName exists"},
    {POLICY_R_POD_MISMATCH, "the pod's uid, service account, node, phase and deletion state match",
     "the pod's uid, service account, node, phase and deletion state match, and the node's "
     "uid is spec.nodeUID"},
    {POLICY_R_NODE_NOT_FOUND, "the node exists", NULL},
    {POLICY_R_SAN_NOT_ALLOWED, "every SAN is a name the requester owns",
     "allowedNames gives the pod at least one name, and at most maxSANs"},
    {POLICY_R_USAGE_NOT_ALLOWED, "spec.usages are within the allowed set", NULL},
    {POLICY_R_EXPIRATION_NOT_ALLOWED, "spec.expirationSeconds is within [min, max]",
     "spec.maxExpirationSeconds is not negative"},
    {POLICY_R_NOT_AUTHORIZED,
     "a SubjectAccessReview allows the requester certificatesigningrequests/"
     "(self)nodeclient",
     "the policy answers PodCertificateRequests (type workload, issue:, podCertificates: "
     "true)"},
};
#define N_CHECKS (sizeof(why_checks) / sizeof(why_checks[0]))

/* Does a policy type run the checks of reason on a CSR? */
static bool type_checks(enum policy_type t, enum policy_reason r)
{
	switch (r) {
	case POLICY_R_NAMESPACE_NOT_ALLOWED:
	case POLICY_R_POD_NOT_FOUND:
	case POLICY_R_POD_MISMATCH:
		return t == POLICY_TYPE_WORKLOAD;
	case POLICY_R_NODE_NOT_FOUND:
		return t == POLICY_TYPE_KUBELET_SERVING;
	case POLICY_R_NOT_AUTHORIZED:
		return t == POLICY_TYPE_KUBELET_CLIENT;
	default:
		return true;
	}
}

json_t *report_why_checks(enum report_kind kind, const struct policy_rule *rule,
                          const struct policy_decision *d)
{
	json_t *a = json_array();
	if (rule == NULL || d->verdict == POLICY_SKIP)
		return a;
	for (size_t i = 0; i < N_CHECKS; i++) {
		const struct why_check *wc = &why_checks[i];
		const char *what = kind == REPORT_PCR ? wc->pcr : wc->csr;
		if (what == NULL || (kind == REPORT_CSR && !type_checks(rule->type, wc->reason)))
			continue;
		json_t *c = json_object(), *details = json_array();
		bool failed = false;
		for (size_t k = 0; k < d->n_failed; k++)
			if (d->failed[k].reason == wc->reason) {
				failed = true;
				json_array_append_new(details, json_string(d->failed[k].text));
			}
		/* What the decision did not judge (an earlier failure made it
		 * moot, or it lacked what it needs) is not a pass. */
		const char *result = failed         ? "fail"
		    : policy_checked(d, wc->reason) ? "pass"
		                                    : "not-run";
		json_object_set_new(c, "check", json_string(what));
		json_object_set_new(c, "reason", json_string(policy_reason_name(wc->reason)));
		json_object_set_new(c, "result", json_string(result));
		json_object_set_new(c, "details", details);
		json_array_append_new(a, c);
	}
	return a;
}

json_t *report_why_current(const json_t *obj, enum report_kind kind)
{
	/* The conditions that decide each kind, and where its certificate is. */
	static const char *const csr_types[] = {"Approved", "Denied", "Failed", NULL};
	static const char *const pcr_types[] = {"Issued", "Denied", "Failed", NULL};
	const char *const *types = kind == REPORT_PCR ? pcr_types : csr_types;
	const json_t *status = json_object_get(obj, "status");
	const json_t *c;
	size_t i;
	json_array_foreach(json_object_get(status, "conditions"), i, c)
	{
		const char *type = json_string_value(json_object_get(c, "type"));
		const char *st = json_string_value(json_object_get(c, "status"));
		size_t k = 0;
		if (type == NULL || (st != NULL && strcmp(st, "True") != 0))
			continue;
		while (types[k] != NULL && strcmp(type, types[k]) != 0)
			k++;
		if (types[k] == NULL)
			continue;
		json_t *o = json_object();
		struct report_decision rd;
		char by[REPORT_MAX_FIELD + 16];
		report_decision_read(status, kind, &rd);
		json_object_set_new(o, "type", json_string(type));
		json_object_set(o, "reason", json_object_get(c, "reason"));
		json_object_set(o, "message", json_object_get(c, "message"));
		json_object_set_new(o, "decidedBy",
		                    json_string(report_by_text(&rd, by, sizeof(by))));
		const char *cert = json_string_value(json_object_get(
		    status, kind == REPORT_PCR ? "certificateChain" : "certificate"));
		json_object_set_new(o, "certificate",
		                    json_boolean(cert != NULL && cert[0] != '\0'));
		return o;
	}
	return NULL;
}

/* A string member, "" when absent. */
static const char *sget(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

void report_why_print(const json_t *rec)
{
	const char *s;
	size_t i;
	const json_t *v, *c;
	if (json_object_get(rec, "pcr") != NULL)
		printf("PodCertificateRequest %s\n", sget(rec, "pcr"));
	else
		printf("CSR %s\n", sget(rec, "csr"));
	printf("  signer:    %s\n", sget(rec, "signerName"));
	printf("  requester: %s\n", sget(rec, "requester"));
	s = json_string_value(json_object_get(rec, "policy"));
	printf("  policy:    %s\n", s ? s : "(none: no policy for this signer)");
	if ((v = json_object_get(rec, "alreadyDecided")) != NULL) {
		const char *m = json_string_value(json_object_get(v, "message"));
		printf("  now:       %s (%s) by %s%s\n", sget(v, "type"), sget(v, "reason"),
		       sget(v, "decidedBy"),
		       json_is_true(json_object_get(v, "certificate")) ? ", certificate issued"
		                                                       : "");
		if (m != NULL)
			printf("             %s\n", m);
	} else {
		printf("  now:       pending\n");
	}
	printf("\ndecision: %s (%s)\n  %s\n", sget(rec, "decision"), sget(rec, "reason"),
	       sget(rec, "message"));
	if (json_array_size(json_object_get(rec, "names")) > 0) {
		printf("\nnames the certificate would carry:\n");
		json_array_foreach(json_object_get(rec, "names"), i, v)
		{
			printf("  %s\n", json_is_string(v) ? json_string_value(v) : "");
		}
	}
	if (json_array_size(json_object_get(rec, "checks")) > 0)
		printf("\nchecks:\n");
	json_array_foreach(json_object_get(rec, "checks"), i, c)
	{
		const char *res = sget(c, "result");
		printf("  %-7s %s [%s]\n",
		       strcmp(res, "fail") == 0       ? "FAIL"
		           : strcmp(res, "pass") == 0 ? "pass"
		                                      : "not run",
		       sget(c, "check"), sget(c, "reason"));
		size_t k;
		json_array_foreach(json_object_get(c, "details"), k, v)
		{
			printf("          - %s\n", json_is_string(v) ? json_string_value(v) : "");
		}
	}
	if (json_array_size(json_object_get(rec, "objects")) > 0)
		printf("\nread from the cluster:\n");
	json_array_foreach(json_object_get(rec, "objects"), i, c)
	{
		const char *kind = sget(c, "kind");
		const char *name = sget(c, "name");
		bool found = json_is_true(json_object_get(c, "found"));
		if (strcmp(kind, "ServiceList") == 0)
			printf("  services in %s: %lld\n", name,
			       (long long)json_integer_value(json_object_get(c, "count")));
		else if (strcmp(kind, "SubjectAccessReview") == 0)
			printf("  SubjectAccessReview of certificatesigningrequests/%s: %s\n", name,
			       json_is_true(json_object_get(c, "allowed")) ? "allowed" : "denied");
		else if (found)
			printf("  %s %s: found (uid %s)\n", kind, name, sget(c, "uid"));
		else
			printf("  %s %s: not found\n", kind, name);
	}
}
