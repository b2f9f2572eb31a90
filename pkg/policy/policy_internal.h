/*
 * policy internals shared by the files of pkg/policy; not part of its API.
 *
 * A decision is evaluated in one struct policy_eval: the inputs (borrowed),
 * the failures found so far (every check runs; none stops the others) and
 * what the type rules learnt about the requester for the approve message.
 */
#ifndef CSR_APPROVER_POLICY_INTERNAL_H
#define CSR_APPROVER_POLICY_INTERNAL_H

#include "policy.h"

/* Longest string taken from a request or an object that a message quotes. */
#define POLICY_QUOTE_MAX 128
/* How many allowed names a message lists before "and N more". */
#define POLICY_LIST_MAX 6

struct policy_failure {
	enum policy_reason reason;
	bool on_objects; /* decided by a Pod, Service or Node the cache may hold stale */
	struct util_buf text;
};

struct policy_eval {
	const struct policy_set *set;
	const struct policy_rule *rule;
	const struct policy_request *req;
	const struct csr_info *info; /* NULL when the request did not decode */
	const struct policy_lookup *lookup;

	struct policy_failure *failures; /* owned array of cap_failures */
	size_t n_failures, cap_failures;
	bool missing_object;

	/* Per SAN of info: false when a global rule already rejected it, so
	 * that the type rules do not report the same SAN twice. Owned. */
	bool *san_ok;

	/* The approve message's account of what was verified. */
	struct util_buf summary;
	/* kubelet-client: the SubjectAccessReview is still to be asked, and
	 * with which subresource. */
	bool sar_wanted;
	const char *sar_subresource;

	/* Checks judged, and checks judged only in part (bits 1u << reason):
	 * policy_decision.checked is the first without the second. */
	uint32_t checked, partial;
};

/* The check of reason r ran (it may have failed). */
void policy_ran(struct policy_eval *ev, enum policy_reason r);
/* The check of reason r left part of what it covers unjudged. */
void policy_ran_in_part(struct policy_eval *ev, enum policy_reason r);

/* Start a new failure of reason r; returns the buffer its text goes to. */
struct util_buf *policy_fail(struct policy_eval *ev, enum policy_reason r);
/* The same for a failure that rests on cluster state (a Pod, a Service, a
 * Node), not on the request alone: a live read may overturn it. */
struct util_buf *policy_fail_obj(struct policy_eval *ev, enum policy_reason r);

/* Append s (n bytes) in double quotes, escaped and truncated (see policy.c). */
void policy_quote(struct util_buf *b, const char *s, size_t n);
/* The same without the quotes, for names from the cluster (pod names,
 * namespaces) that are validated before they get here. */
void policy_escape(struct util_buf *b, const char *s, size_t n);
/* Append an IP address (len 4 or 16) in its canonical text form. */
void policy_put_ip(struct util_buf *b, const unsigned char *ip, size_t len);
/* Parse text as an IPv4 or IPv6 address into out; returns its length (4
 * or 16) or 0 when it is not an address. */
size_t policy_parse_ip(const char *text, unsigned char out[16]);
/* Append the names of a strv joined by ", ", at most POLICY_LIST_MAX. */
void policy_put_list(struct util_buf *b, const struct util_strv *sv);

/* ASCII case-insensitive equality of two byte strings. */
bool policy_caseeq_n(const char *a, size_t an, const char *b, size_t bn);
/* Equality of a byte string (value, n) with a C string. */
bool policy_eq_n(const char *value, size_t n, const char *s);
/* RFC 1123 label (lowercase alphanumerics and '-', at most 63 bytes), the
 * form of a namespace name. */
bool policy_is_dns_label(const char *s);
/* RFC 1123 subdomain (dot-separated labels, at most 253 bytes), the form of
 * pod, service account and node names. */
bool policy_is_dns_subdomain(const char *s);

/* Counting helpers over the subject. */
size_t policy_subject_count(const struct csr_info *info, enum csr_attr_kind kind);
const struct csr_subject_attr *policy_subject_first(const struct csr_info *info,
                                                    enum csr_attr_kind kind);

/* The usages checks shared by every type: spec.usages non-empty, each in
 * rule->usages and, when fixed is not NULL, in fixed; required (may be
 * NULL) present. type_name names the set for messages. */
void policy_check_usages(struct policy_eval *ev, const char *const *fixed, const char *required,
                         const char *type_name);
/* spec.expirationSeconds, when set, within [min, max]. */
void policy_check_expiration(struct policy_eval *ev);
/* Number of SANs within maxSANs (run by the global rules for every type
 * that takes SANs; kubelet-client and client take none). */
void policy_check_max_sans(struct policy_eval *ev);

/* The identity a PodCertificateRequest states (borrowed strings; the
 * names must be valid Kubernetes names: see rules_pcr.c). */
struct policy_workload_ids {
	const char *ns, *service_account, *service_account_uid, *pod_name, *pod_uid, *node_name,
	    *node_uid;
};

/*
 * The workload rules of one pod, for PodCertificateRequests: the namespace
 * (NamespaceNotAllowed), the pod binding (PodNotFound, PodMismatch, on
 * objects: a live read may overturn them), the service account's and the
 * node's uids (PodMismatch, on objects). When the pod binding holds and names is not
 * NULL, appends the pod's names by the rule's allowedNames: the SPIFFE ID,
 * then podIP, podDNS, hostnameDNS, serviceDNS, serviceShortDNS. */
void policy_workload_pod(struct policy_eval *ev, const struct policy_workload_ids *ids,
                         struct policy_names *names);

/* The rules, in SPEC order. */
void policy_rules_global(struct policy_eval *ev);
void policy_rules_workload(struct policy_eval *ev);
void policy_rules_kubelet_serving(struct policy_eval *ev);
void policy_rules_kubelet_client(struct policy_eval *ev);
void policy_rules_client(struct policy_eval *ev);
/* A PodCertificateRequest (ev->req is NULL, ev->info the stub or NULL with
 * stub_error); names as policy_workload_pod(). */
void policy_rules_pcr(struct policy_eval *ev, const struct policy_pcr *pcr, const char *stub_error,
                      struct policy_names *names);

#endif
