/*
 * Fixtures for the policy tests: a policy set with one rule of each type,
 * a small cluster (pods, services, nodes) behind an in-memory
 * policy_lookup, and for each type a request that passes every rule. Each
 * test case mutates the good request and states the decision it expects.
 */
#ifndef CSR_APPROVER_TESTS_POLICY_FIXTURE_H
#define CSR_APPROVER_TESTS_POLICY_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>

#include "../../../pkg/policy/policy.h"

enum pt_base {
	PT_WORKLOAD,
	PT_SERVING,
	PT_CLIENT,
	PT_USER, /* type client: a person asking for their own client certificate */
};

#define PT_SIGNER_WORKLOAD "example.com/workload-mtls"
#define PT_SIGNER_SERVING "kubernetes.io/kubelet-serving"
#define PT_SIGNER_CLIENT "kubernetes.io/kube-apiserver-client-kubelet"
#define PT_SIGNER_USER "kubernetes.io/kube-apiserver-client"

struct pt_world {
	struct policy_pod **pods;
	size_t n_pods;
	struct policy_service **svcs;
	size_t n_svcs;
	struct policy_node **nodes;
	size_t n_nodes;
	const struct policy_service **svc_out; /* list_services answer */
	bool sloppy_pods; /* get_pod ignores the namespace (a broken cache) */
	enum policy_sar_answer sar_answer;
	int sar_calls;
	char sar_user[128];
	char sar_subresource[32];
	char sar_verb[32];
	char sar_group[64];
	char sar_resource[64];
	size_t sar_n_groups;
	size_t sar_n_extra;
};

struct pt {
	enum pt_base base;
	struct policy_set *set;
	struct policy_request *req;
	struct csr_info *info;
	const char *decode_error;
	struct pt_world w;
	struct policy_lookup lk;
	struct policy_decision d;
	int rc;
};

void pt_init(struct pt *t, enum pt_base base);
void pt_decide(struct pt *t);
void pt_fini(struct pt *t);

/* The rule the current request's signer selects (mutable). */
struct policy_rule *pt_rule(struct pt *t);
struct policy_rule *pt_rule_of(struct pt *t, const char *signer);

/* Replace an owned string. */
void pt_str(char **field, const char *v);

/* Request helpers. */
void pt_set_extra(struct pt *t, const char *key, const char *value); /* NULL value: remove */
void pt_add_extra_value(struct pt *t, const char *key, const char *value);
void pt_set_usages(struct pt *t, ...); /* NULL-terminated list */
void pt_set_groups(struct pt *t, ...); /* NULL-terminated list */

/* csr_info helpers. */
void pt_clear_sans(struct pt *t);
void pt_add_san(struct pt *t, enum csr_san_type type, const char *value); /* IP: text form */
void pt_add_san_raw(struct pt *t, enum csr_san_type type, const char *value, size_t len);
void pt_add_ip_raw(struct pt *t, const unsigned char *ip, size_t len);
void pt_clear_subject(struct pt *t);
struct csr_subject_attr *pt_add_subject(struct pt *t, enum csr_attr_kind kind,
                                        enum csr_str_type str_type, const char *value);
struct csr_subject_attr *pt_add_subject_raw(struct pt *t, enum csr_attr_kind kind, const char *oid,
                                            const char *name, enum csr_str_type str_type,
                                            const char *value, size_t len);
struct csr_subject_attr *pt_cn(struct pt *t); /* the first CN */
void pt_add_ext(struct pt *t, enum csr_ext_kind kind, const char *oid, const char *name,
                bool critical);
void pt_clear_exts(struct pt *t);
void pt_add_attr(struct pt *t, const char *oid, const char *name, bool ext_req);
void pt_set_eku(struct pt *t, ...); /* NULL-terminated OIDs */
void pt_drop_info(struct pt *t, const char *decode_error);

/* Cluster helpers. */
struct policy_pod *pt_pod(struct pt *t, const char *ns, const char *name);
struct policy_pod *pt_add_pod(struct pt *t, const char *ns, const char *name, const char *uid,
                              const char *sa);
struct policy_service *pt_add_service(struct pt *t, const char *ns, const char *name,
                                      const char *selector /* "k=v,k=v" or "" */);
struct policy_node *pt_node(struct pt *t, const char *name);
void pt_add_node_address(struct policy_node *n, const char *type, const char *address);
void pt_add_label(struct policy_labels *l, const char *key, const char *value);

/* A table row. */
#define PT_MISSING (1u << 0) /* expect missing_object */
#define PT_LEAVE (1u << 1) /* expect leave_pending */
#define PT_SAR_NONE (1u << 2) /* expect no SubjectAccessReview */
#define PT_SAR_ONE (1u << 3) /* expect exactly one SubjectAccessReview */

struct pt_case {
	const char *name;
	enum pt_base base;
	void (*mutate)(struct pt *t);
	enum policy_verdict verdict;
	enum policy_reason reason;
	const char *want1, *want2, *want3; /* substrings of the message, or NULL */
	const char *absent; /* a substring the message must not hold */
	unsigned flags;
	const char *subresource; /* NULL: not checked */
};

/* Run one row with Criterion expectations naming the row. */
void pt_run_case(const struct pt_case *c);

#endif
