/*
 * policy: the decision rules of csr-approver, pure.
 *
 * Plain structs in (the policy set, the CSR's spec fields and its decoded
 * request, a lookup interface for the identity objects), a decision out.
 * No I/O, no allocation visible to callers beyond the decision they free,
 * no crypto, no network: the same function serves `csr-approver check` and
 * the live controller.
 *
 * Thread-safety: policy_decide() only reads its inputs; it may run on any
 * thread as long as the lookup callbacks allow it.
 */
#ifndef CSR_APPROVER_POLICY_H
#define CSR_APPROVER_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../csr/csr.h"
#include "../util/util.h"

/* ---- the policy set (filled by the config module) ---- */

enum policy_type {
	POLICY_TYPE_WORKLOAD,
	POLICY_TYPE_KUBELET_SERVING,
	POLICY_TYPE_KUBELET_CLIENT,
	POLICY_TYPE_CLIENT, /* a person's own client certificate (SPEC "type: client") */
};

enum policy_on_failure {
	POLICY_ON_FAILURE_DENY,
	POLICY_ON_FAILURE_LEAVE_PENDING,
};

/* allowedNames bits */
#define POLICY_NAME_SPIFFE (1u << 0)
#define POLICY_NAME_POD_IP (1u << 1)
#define POLICY_NAME_POD_DNS (1u << 2)
#define POLICY_NAME_HOSTNAME_DNS (1u << 3)
#define POLICY_NAME_SERVICE_DNS (1u << 4)
/* S and S.NS: accepted in the file; not in the default set, because a short
 * name can collide with a real domain (a namespace named corp). */
#define POLICY_NAME_SERVICE_SHORT_DNS (1u << 5)
#define POLICY_NAME_DEFAULT 0x1fu

/* keys bits */
#define POLICY_KEY_ECDSA_P256 (1u << 0)
#define POLICY_KEY_ECDSA_P384 (1u << 1)
#define POLICY_KEY_ED25519 (1u << 2)
#define POLICY_KEY_RSA_2048 (1u << 3)
#define POLICY_KEY_RSA_3072 (1u << 4)
#define POLICY_KEY_RSA_4096 (1u << 5)
#define POLICY_KEY_ECDSA_P521 (1u << 6) /* accepted in the file; not in the default set */
#define POLICY_KEY_DEFAULT 0x3fu

/* An IP prefix (CIDR). */
struct policy_prefix {
	unsigned char addr[16];
	size_t len; /* 4 or 16 */
	int bits; /* prefix length */
};

/* `issue:` of a workload policy (SPEC.md, "Issuing: the built-in
 * signer"). The policy module only carries it: the controller signs. */
struct policy_issue {
	bool enabled; /* the block is present */
	char *ca_cert_file, *ca_key_file; /* owned */
	int64_t lifetime_seconds; /* default 86400 */
	int64_t backdate_seconds; /* default 300 */
	bool trust_bundle; /* default true */
	bool require_policy; /* default false */
};

struct policy_rule {
	char *name; /* owned */
	char *signer_name; /* owned */
	enum policy_type type;
	enum policy_on_failure on_failure;
	struct util_strv namespaces; /* glob patterns; default ["*"] */
	struct util_strv exclude_namespaces;
	char *trust_domain; /* owned; default: the set's cluster domain */
	bool require_pod_binding; /* default true */
	uint32_t allowed_names; /* POLICY_NAME_* ; default POLICY_NAME_DEFAULT */
	uint32_t keys; /* POLICY_KEY_* ; default POLICY_KEY_DEFAULT */
	/* default: digital signature, key encipherment, client auth, server auth */
	struct util_strv usages;
	int64_t max_expiration_seconds; /* default 86400 */
	int64_t min_expiration_seconds; /* default 600 */
	int64_t max_sans; /* default 32 */
	char *dns_name_regex; /* owned; NULL or "" means none (kubelet-serving) */
	void *dns_name_re; /* owned compiled regex_t (POSIX ERE, anchored), or NULL */
	struct policy_prefix *ip_prefixes; /* owned array (kubelet-serving) */
	size_t n_ip_prefixes;
	struct policy_issue issue; /* workload only: the built-in signer */
	bool pod_certificates; /* also answer PodCertificateRequests (needs issue) */
	/* client: who may self-serve (spec.username matching a users glob, or
	 * one of spec.groups matching a groups glob; both empty: nobody), and
	 * the O values a certificate may carry (globs; empty: none). */
	struct util_strv requester_users;
	struct util_strv requester_groups;
	bool allow_service_accounts; /* default false */
	struct util_strv allowed_groups;
};

struct policy_set {
	char *cluster_domain; /* owned; default "cluster.local" */
	struct policy_rule *rules; /* owned array */
	size_t n_rules;
};

/* Fill r with the defaults of SPEC.md (name and signer left NULL, type
 * workload; policy_rule_set_type() sets another type and its defaults).
 * cluster_domain (NULL: "cluster.local") is copied into trust_domain. */
void policy_rule_init(struct policy_rule *r, const char *cluster_domain);
/* Set the type of a rule fresh from policy_rule_init(), with the defaults
 * that depend on it (client: maxExpirationSeconds 28800). Call it before
 * the keys of the file are applied, which may override those defaults. */
void policy_rule_set_type(struct policy_rule *r, enum policy_type type);
/* Free what a rule owns (not r itself). */
void policy_rule_clear(struct policy_rule *r);
/* Free a set and everything it owns; NULL does nothing. */
void policy_set_free(struct policy_set *set);
/* The rule for signer_name, or NULL. Borrowed from set. */
const struct policy_rule *policy_set_find(const struct policy_set *set, const char *signer_name);

/* ---- identity objects (slim copies of Pod, Service, Node) ---- */

struct policy_label {
	char *key; /* owned */
	char *value; /* owned */
};

struct policy_labels {
	struct policy_label *v; /* owned array */
	size_t n;
};

struct policy_pod {
	char *ns, *name, *uid; /* owned */
	char *service_account; /* owned; "" means "default" */
	char *node_name; /* owned; "" when not scheduled */
	char *phase; /* owned; "" when unknown */
	char *hostname, *subdomain; /* owned; "" when unset */
	bool deleting; /* metadata.deletionTimestamp set */
	/* spec.hostNetwork: the pod's IPs are its node's, so they name no pod. */
	bool host_network;
	struct util_strv ips; /* status.podIPs (else status.podIP), as text */
	struct policy_labels labels;
};

struct policy_service {
	char *ns, *name; /* owned */
	struct policy_labels selector; /* spec.selector; empty = none */
	/* spec.type ExternalName: the name is a DNS alias for something outside
	 * the cluster, so the Service gives its pods no name at all. */
	bool external_name;
};

struct policy_node_address {
	char *type; /* owned: Hostname, InternalIP, ExternalIP, InternalDNS, ExternalDNS */
	char *address; /* owned */
};

struct policy_node {
	char *name; /* owned */
	char *uid; /* owned; metadata.uid, "" when unknown */
	struct policy_node_address *addresses; /* owned array */
	size_t n_addresses;
};

void policy_labels_clear(struct policy_labels *l);
void policy_pod_free(struct policy_pod *p); /* NULL does nothing */
void policy_service_free(struct policy_service *s); /* NULL does nothing */
void policy_node_free(struct policy_node *n); /* NULL does nothing */
/* Does a non-empty selector match labels? (An empty selector matches nothing.) */
bool policy_selector_matches(const struct policy_labels *selector,
                             const struct policy_labels *labels);

/* ---- the request under judgement ---- */

struct policy_extra {
	char *key; /* owned */
	struct util_strv values;
};

struct policy_request {
	char *name; /* owned; metadata.name */
	char *uid; /* owned; metadata.uid */
	char *resource_version; /* owned; metadata.resourceVersion */
	char *signer_name; /* owned */
	char *username; /* owned; spec.username ("" if absent) */
	char *user_uid; /* owned; spec.uid */
	struct util_strv groups;
	struct policy_extra *extra; /* owned array */
	size_t n_extra;
	struct util_strv usages;
	bool has_expiration;
	int64_t expiration_seconds;
	bool approved, denied, failed; /* conditions present with status True */
	bool has_certificate; /* status.certificate set */
	char *request_pem; /* owned; spec.request decoded from base64 */
	size_t request_len;
	int64_t creation_unix; /* metadata.creationTimestamp, seconds; 0 unknown */
};

void policy_request_free(struct policy_request *r); /* NULL does nothing */
/* The first value of extra[key], or NULL. Borrowed. */
const char *policy_request_extra(const struct policy_request *r, const char *key);

/* ---- lookups ---- */

enum policy_found {
	POLICY_FOUND,
	POLICY_NOT_FOUND,
};

enum policy_sar_answer {
	POLICY_SAR_UNASKED, /* no answer yet: a decision that needs one says so */
	POLICY_SAR_ALLOWED,
	POLICY_SAR_DENIED,
};

/* A SubjectAccessReview the kubelet-client rules need answered. */
struct policy_sar {
	const char *user, *uid;
	const struct util_strv *groups;
	const struct policy_extra *extra;
	size_t n_extra;
	const char *verb; /* "create" */
	const char *group; /* "certificates.k8s.io" */
	const char *resource; /* "certificatesigningrequests" */
	const char *subresource; /* "selfnodeclient" or "nodeclient" */
};

/*
 * What a decision may read besides the request: the identity objects,
 * through read-only callbacks, and the answer to the SubjectAccessReview a
 * kubelet-client decision needs, when it has been asked. Pointers handed
 * out are borrowed and stay valid until policy_decide() returns. Any
 * callback may be NULL, meaning "never found". The callbacks must not
 * change anything the decision reads: policy_decide() is a pure function
 * of its inputs.
 */
struct policy_lookup {
	void *ctx;
	enum policy_found (*get_pod)(void *ctx, const char *ns, const char *name,
	                             const struct policy_pod **out);
	/* All Services of namespace ns: *out is an array of n pointers. */
	size_t (*list_services)(void *ctx, const char *ns,
	                        const struct policy_service *const **out);
	enum policy_found (*get_node)(void *ctx, const char *name, const struct policy_node **out);
	/* The uid of ServiceAccount ns/name (PodCertificateRequests only). */
	enum policy_found (*get_service_account_uid)(void *ctx, const char *ns, const char *name,
	                                             const char **uid);
	/* The answer to the review of certificatesigningrequests/
	 * authorization_for (NULL: the answer holds for any review, as in
	 * `check --authorize`). An answer for another subresource counts as
	 * not asked. */
	enum policy_sar_answer authorization;
	const char *authorization_for;
};

/* ---- the decision ---- */

enum policy_verdict {
	POLICY_SKIP, /* not ours, or already decided */
	POLICY_APPROVE,
	POLICY_DENY, /* with onFailure: leave-pending, see leave_pending */
	/* The decision needs the answer to the SubjectAccessReview in
	 * policy_decision.sar: run it, then decide again with the answer. */
	POLICY_NEEDS_AUTHORIZATION,
};

/* Reasons of SPEC.md, in rule order. */
enum policy_reason {
	POLICY_R_NONE,
	POLICY_R_AUTO_APPROVED,
	POLICY_R_INVALID_REQUEST,
	POLICY_R_SIGNATURE_INVALID,
	POLICY_R_SIGNATURE_ALGORITHM_NOT_ALLOWED,
	POLICY_R_KEY_NOT_ALLOWED,
	POLICY_R_EXTENSION_NOT_ALLOWED,
	POLICY_R_SUBJECT_NOT_ALLOWED,
	POLICY_R_REQUESTER_NOT_ALLOWED,
	POLICY_R_NAMESPACE_NOT_ALLOWED,
	POLICY_R_POD_NOT_FOUND,
	POLICY_R_POD_MISMATCH,
	POLICY_R_NODE_NOT_FOUND,
	POLICY_R_SAN_NOT_ALLOWED,
	POLICY_R_USAGE_NOT_ALLOWED,
	POLICY_R_EXPIRATION_NOT_ALLOWED,
	POLICY_R_NOT_AUTHORIZED,
	/* skip reasons (not conditions; for logs and `check`) */
	POLICY_R_ALREADY_DECIDED,
	POLICY_R_NO_POLICY,
	/* PodCertificateRequests: the stub's key is not in keys (a condition
	 * reason; last, so that the order of the reasons above is unchanged). */
	POLICY_R_UNSUPPORTED_KEY_TYPE,
};

/* Longest decision message, in bytes, "..." included: Kubernetes condition
 * messages should stay short. */
#define POLICY_MESSAGE_MAX 1024

/* One failed check of a denial. */
struct policy_failed_check {
	enum policy_reason reason;
	char *text; /* owned: the check's part of the message, uncut */
};

struct policy_decision {
	enum policy_verdict verdict;
	enum policy_reason reason;
	/* Owned. Approve: "csr-approver: policy NAME: <what was verified>";
	 * deny: "csr-approver: policy NAME: <check>; <check>; ..." naming every
	 * failed check, the one giving the reason first; pending: what is
	 * awaited; skip: "csr-approver: already approved", "csr-approver: no
	 * policy for signerName ...". Strings from the request are quoted,
	 * escaped and cut to 128 bytes; the whole to POLICY_MESSAGE_MAX. */
	char *message;
	const char *policy; /* borrowed from the set; NULL when no policy applied */
	bool leave_pending; /* deny under onFailure: leave-pending: write nothing */
	/* The denial rests (also) on an object that was not found; a live
	 * controller retries for a while before writing it (a lagging watch must
	 * never deny a good request). */
	bool missing_object;
	/* The denial rests on cluster state alone (every failed check read a
	 * Pod, a Service or a Node; none is decided by the request itself): a
	 * controller whose cache may be stale reads those objects live and
	 * decides again before writing it. */
	bool rests_on_objects;
	/* With POLICY_NEEDS_AUTHORIZATION: the review to run. Its pointers
	 * borrow from the request given to policy_decide(). */
	struct policy_sar sar;
	/* Deny: every failed check, in the order of the message (owned array;
	 * `csr-approver why` lists them one by one). */
	struct policy_failed_check *failed;
	size_t n_failed;
	/* The checks that were judged, failed or not: bit 1u << reason. A check
	 * that never ran (the pod after the requester failed to name one, the
	 * SubjectAccessReview after any other failure, everything the request
	 * holds when it does not decode) or could judge only part of what it
	 * covers (SANs without the pod or node that gives the names) is not
	 * here, unless it failed. Read with policy_checked(). */
	uint32_t checked;
};

/* Was the check of reason r judged in decision d (see checked)? */
bool policy_checked(const struct policy_decision *d, enum policy_reason r);

/* "AutoApproved", "InvalidRequest", ... ; skip reasons: "AlreadyDecided",
 * "NoPolicy". */
const char *policy_reason_name(enum policy_reason r);
/* "approve", "deny", "skip", "needs-authorization" */
const char *policy_verdict_name(enum policy_verdict v);

/*
 * Decide req under set. info is the decoded request, or NULL when decoding
 * failed, in which case decode_error says why (InvalidRequest; such a
 * request is never approved). lookup supplies the identity objects (NULL:
 * nothing is found, every review denied). set NULL is an empty set. Every
 * check runs; the reason is the first failure in the order of enum
 * policy_reason. A kubelet-client decision whose other checks all passed
 * and whose lookup holds no answer for its review returns
 * POLICY_NEEDS_AUTHORIZATION with the review in out->sar; a NULL lookup
 * answers every review "denied". Fills *out (caller releases with
 * policy_decision_clear()). Returns 0; -1 only when req or out is NULL
 * (*out, if given, is then a skip without message).
 */
int policy_decide(const struct policy_set *set, const struct policy_request *req,
                  const struct csr_info *info, const char *decode_error,
                  const struct policy_lookup *lookup, struct policy_decision *out);

void policy_decision_clear(struct policy_decision *d);

/* ---- PodCertificateRequests (SPEC.md, "PodCertificateRequests") ---- */

/* Cap on spec.stubPKCS10Request once decoded (a DER PKCS#10 of any key
 * the API server allows is a few KiB at most). */
#define POLICY_PCR_MAX_STUB (64 * 1024)

/* A PodCertificateRequest (certificates.k8s.io/v1), the fields the rules
 * read. spec.unverifiedUserAnnotations is deliberately not kept: nothing
 * the pod's author writes may reach a certificate. */
struct policy_pcr {
	char *ns, *name, *uid, *resource_version; /* owned; metadata */
	char *signer_name; /* owned */
	char *pod_name, *pod_uid; /* owned */
	char *service_account_name, *service_account_uid; /* owned */
	char *node_name, *node_uid; /* owned */
	int64_t max_expiration_seconds; /* 0 when absent (the API server defaults it) */
	unsigned char *stub_der; /* owned; spec.stubPKCS10Request decoded */
	size_t stub_len;
	bool issued, denied, failed; /* conditions present with status True */
	bool has_chain; /* status.certificateChain set */
};

void policy_pcr_free(struct policy_pcr *p); /* NULL does nothing */

enum policy_name_type {
	POLICY_NAME_TYPE_DNS,
	POLICY_NAME_TYPE_IP, /* text form */
	POLICY_NAME_TYPE_URI,
};

/* The names a pod certificate carries, in order. */
struct policy_names {
	enum policy_name_type *types; /* owned array of n */
	struct util_strv values;
};

void policy_names_clear(struct policy_names *n);

/*
 * Decide a PodCertificateRequest under set: the rule of its signerName
 * must be a workload rule with podCertificates; then the namespace, the
 * pod (spec.podName exists with spec.podUID, runs as
 * spec.serviceAccountName, is bound to spec.nodeName, not deleting,
 * Pending or Running), the service account (it exists with uid
 * spec.serviceAccountUID), the node (it exists with uid spec.nodeUID) and
 * the stub (stub_info is its decoding, NULL with stub_error when that
 * failed: InvalidRequest; its self-signature must verify: SignatureInvalid;
 * its key must be in keys: UnsupportedKeyType). A service account or node
 * that is not found, or has another uid, is PodMismatch, on objects: the
 * API server's NodeRestriction checks these uids for a kubelet's request,
 * but a request from anyone else is checked nowhere else.
 * The verdict is POLICY_APPROVE (meaning: issue) with, in *out_names, the
 * pod's names by allowedNames: the SPIFFE ID first, then podIP, podDNS,
 * hostnameDNS, serviceDNS, serviceShortDNS names; or a denial (reasons,
 * flags and failed as policy_decide(); leave_pending is never set: a PCR has no
 * pending state to keep for a person) or a skip (decided already, no
 * policy). out_names may be NULL; it is cleared first and filled only on
 * approve (caller clears with policy_names_clear()). Returns 0; -1 when
 * pcr or out is NULL.
 */
int policy_decide_pcr(const struct policy_set *set, const struct policy_pcr *pcr,
                      const struct csr_info *stub_info, const char *stub_error,
                      const struct policy_lookup *lookup, struct policy_decision *out,
                      struct policy_names *out_names);

#endif
