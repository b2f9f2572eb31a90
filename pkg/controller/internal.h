/*
 * controller internals shared by the files of pkg/controller; not part of
 * its API.
 *
 * The path of a CSR, one file per step:
 *
 *   informers (watch)            controller.c  start, loop, readiness, shutdown
 *     -> identity caches          identity.c    Pods, Services, Nodes; live reads
 *     -> CSR store and state      store.c       one entry per pending CSR, its state
 *     -> work queue               queue.c
 *     -> decode, policy, act      reconcile.c
 *     -> API requests             api.c         approval, re-read, review, Event
 *     -> log, metric              api.c (on the write's answer)
 */
#ifndef CSR_APPROVER_CONTROLLER_INTERNAL_H
#define CSR_APPROVER_CONTROLLER_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../policy/policy.h"
#include "../report/report.h"
#include "../watch/watch.h"
#include "controller.h"

struct audit_log;
struct cache;
struct httpd;
struct inventory;
struct identity_delay;
struct kube_client;
struct kube_config;
struct leader;
struct metrics;
struct signer_ca;

/* ---- string map ---- */

/* A string-keyed hash map of borrowed values (keys are copied). */
struct controller_map_ent {
	char *key; /* owned */
	void *val; /* borrowed */
	struct controller_map_ent *next;
};

struct controller_map {
	struct controller_map_ent **buckets; /* owned */
	size_t n_buckets;
	size_t n;
};

/* Value of key, or NULL. */
void *controller_map_get(const struct controller_map *m, const char *key);
/* Insert or replace; returns the value replaced, or NULL. */
void *controller_map_put(struct controller_map *m, const char *key, void *val);
/* Remove; returns the value removed, or NULL. */
void *controller_map_remove(struct controller_map *m, const char *key);
/* Call cb for every entry; cb must not change the map. */
void controller_map_foreach(const struct controller_map *m,
                            void (*cb)(void *ud, const char *key, void *val), void *ud);
/* Remove everything, calling free_val (may be NULL) on each value. */
void controller_map_clear(struct controller_map *m, void (*free_val)(void *val));

/* ---- the resources watched ---- */

enum res {
	RES_CSR,
	RES_PCR, /* PodCertificateRequests: only when a policy has podCertificates */
	RES_POD,
	RES_SVC,
	RES_NODE,
	RES_N,
};

extern const char *const controller_res_names[RES_N];

/* ---- the state of one CSR ---- */

/*
 * Where a pending CSR of a configured signer stands. Every change goes
 * through store_set_state(), which holds the table of allowed transitions
 * and the counters that follow from the state.
 */
enum csr_state {
	CSR_ST_PENDING, /* to decide when the queue says so; nothing in flight */
	CSR_ST_AUTHORIZING, /* a SubjectAccessReview is in flight */
	CSR_ST_READING, /* live reads of the objects a denial rests on are in flight */
	CSR_ST_WAITING, /* an object the decision needs is missing: retried with backoff */
	CSR_ST_HELD, /* decided; the write is held back (test builds: --write-delay) */
	CSR_ST_WRITING, /* the approval write is in flight */
	CSR_ST_REREADING, /* a GET after a write conflict is in flight */
	CSR_ST_NOTED, /* leave-pending or dry run reported for this resourceVersion */
	CSR_ST_DONE, /* decided by this process: a tombstone until the watch shows it */
	CSR_ST_N,
};

const char *store_state_name(enum csr_state s);

/* What a write in flight carries. */
enum csr_write {
	CSR_WRITE_DECISION, /* Approved or Denied, through the approval subresource */
	CSR_WRITE_CERTIFICATE, /* status.certificate, through the status subresource */
	CSR_WRITE_FAILED, /* the Failed condition, through the status subresource */
};

/* Objects read live from the API server for one decision. Owned. */
struct live_objs {
	char *pod_ns, *pod_name; /* the pod asked for; NULL when none */
	struct policy_pod *pod; /* NULL: not found */
	char *svc_ns; /* the namespace whose Services were listed; NULL when none */
	struct policy_service **svcs;
	size_t n_svcs;
	char *node_name; /* NULL when none */
	struct policy_node *node; /* NULL: not found */
	char *sa_ns, *sa_name; /* the ServiceAccount asked for (PCRs); NULL when none */
	char *sa_uid; /* its uid; NULL: not found */
	bool uncached_only; /* only what no cache holds was read (identity_read_uncached) */
	unsigned reads_left; /* requests still in flight */
	bool failed; /* one of them did not answer */
};

void live_objs_free(struct live_objs *l); /* NULL does nothing */

struct csr_entry {
	/* owned: the store key: the CSR's name, or "pcr/NS/NAME" for a
	 * PodCertificateRequest (a CSR name cannot hold '/') */
	char *name;
	bool pcr; /* a PodCertificateRequest (pcr.c), not a CSR */
	char *pcr_ns, *pcr_name; /* owned: the PCR's namespace and name; NULL for a CSR */
	uint64_t serial; /* tells this entry from a later one of the same name */
	enum csr_state state;
	json_t *obj; /* owned reference: the pending CSR as last read; NULL when DONE */
	char *rv; /* owned: obj's resourceVersion */
	char *uid; /* owned */
	char *signer; /* owned */
	unsigned list_gen; /* the CSR list generation that last saw it */
	int64_t first_seen_ms; /* first seen pending: start of the decision duration */
	/* The watch showed it decided while a request about it was in flight:
	 * the request's answer ends the entry. */
	bool decided_elsewhere;
	bool approved_here; /* this process's approval write of this CSR (this uid) succeeded */
	/* The SubjectAccessReview answer, valid for resourceVersion sar_rv. */
	enum policy_sar_answer sar_answer;
	char *sar_rv, *sar_sub; /* owned */
	/* The objects the last decision read (what a live read fetches). */
	char *read_pod_ns, *read_pod_name, *read_svc_ns, *read_node; /* owned */
	char *read_sa_ns, *read_sa_name; /* owned; a PCR's ServiceAccount */
	/* The last decision asked for a ServiceAccount no live read had
	 * fetched: it is not cached, so "not found" there means "not read". */
	bool sa_unread;
	struct live_objs *live; /* owned: live reads for rv, NULL when none */
	char *live_rv; /* owned */
	/* The write in flight (HELD, WRITING, REREADING). */
	enum csr_write w_kind;
	/* A decision write got no answer (the connection died): it may have
	 * taken, and the watch may show it. */
	bool w_uncertain;
	enum policy_verdict w_verdict;
	const char *w_reason; /* static */
	const char *w_policy; /* borrowed from the policy set */
	char *w_message; /* owned */
	char *w_requester; /* owned */
	char *w_body; /* owned: the held write's body (HELD) */
	int64_t w_due_ms; /* when the held write goes out */
	char *noted_rv; /* owned: the resourceVersion NOTED is for */
};

/* ---- the controller ---- */

struct controller {
	struct controller_options opt;
	struct policy_set *set; /* owned */
	char *identity; /* owned */
	struct kube_config *cfg; /* owned */
	struct kube_client *client; /* owned */
	struct watch_informer *inf[RES_N];
	bool want[RES_N];
	struct cache *cache[RES_N]; /* index RES_POD..RES_NODE */
	struct policy_lookup lk[RES_N];
	uint64_t restarts_seen[RES_N];
	uint64_t relists_seen[RES_N];
	bool listed_once[RES_N];
	bool trim_heap; /* an identity LIST ended: identity_trim_heap() */
	struct identity_delay *delayed; /* owned: test builds' --identity-event-delay */
	struct issuer *issuers; /* owned array: one per policy with `issue:` */
	size_t n_issuers;
	struct controller_map store; /* name -> struct csr_entry */
	unsigned csr_gen;
	unsigned pcr_gen; /* the PCR list generation */
	uint64_t serial;
	size_t n_state[CSR_ST_N]; /* entries per state */
	size_t others_inflight; /* Events, reviews, re-reads, live reads */
	struct controller_queue *queue;
	struct metrics *metrics;
	struct httpd *httpd; /* NULL when both addresses are "0" */
	struct leader *leader; /* NULL without --leader-elect */
	char *lease_ns; /* owned */
	bool synced;
	bool stopping;
	bool releasing; /* shutting down: the lease release is in flight */
	bool leading;
	int64_t stop_deadline_ms;
	int64_t last_gauges_ms;
	int sigfd;
	struct inventory *inv; /* owned: every CSR (and PCR) seen, for the governance metrics */
	struct audit_log *audit; /* owned; NULL without --audit-log */
};

/* ---- store.c: the CSR store ---- */

/* Move e to state s (a transition the table allows; others are logged as a
 * bug and refused). Returns 0, or -1 when refused. */
int store_set_state(struct controller *c, struct csr_entry *e, enum csr_state s);
/* Is a request about e in flight (its answer decides what comes next)? */
bool store_busy(const struct csr_entry *e);
/* Remove the entry of name (and forget its backoff); absent is fine. */
void store_remove(struct controller *c, const char *name);
/* Decided by this process: keep the name as a tombstone, drop the object. */
void store_tombstone(struct controller *c, struct csr_entry *e);
/* Replace e's object with obj (a new reference is taken). */
void store_set_object(struct csr_entry *e, json_t *obj);
/* Free every entry. */
void store_clear(struct controller *c);
/* Does the CSR carry an Approved, Denied or Failed condition? */
bool store_csr_is_decided(const json_t *obj);
/* Whether CSR obj still asks something of this process: undecided, or
 * Approved without a certificate under a signer it issues for. */
bool store_csr_open(const struct controller *c, const json_t *obj, const char *signer);
/* A string member obj[a][b] (b may be NULL), or NULL. Borrowed. */
const char *controller_json_str(const json_t *obj, const char *a, const char *b);
/* Remove the entries of one kind (PCRs or CSRs) that the list that just
 * ended did not show. */
void store_sweep(struct controller *c, bool pcr);
/* Requeue every WAITING entry (an identity object arrived). */
void store_requeue_waiting(struct controller *c);
/* With send, start the held writes that are due. Returns the earliest due
 * time of those left (all of them without send), or -1. */
int64_t store_release_held(struct controller *c, int64_t now, bool send);

extern const struct watch_informer_ops store_csr_ops;

/* ---- identity.c: Pods, Services, Nodes ---- */

/* The informer callbacks of each identity resource (index RES_POD..). */
const struct watch_informer_ops *identity_ops(enum res r);
/* Fill *l with lookups over the caches, overlaid by e's live reads when
 * they are for its current resourceVersion, and recording in e what was
 * read. ctx must stay valid while *l is used. */
struct identity_read_ctx {
	struct controller *c;
	struct csr_entry *e;
};
void identity_lookup(struct identity_read_ctx *ctx, struct policy_lookup *l);
/* Start live reads of what e's last decision read. Returns 0 (e is
 * READING), or -1 when none could be started. */
int identity_read_live(struct controller *c, struct csr_entry *e);
/* Read live only what the last decision asked for and no cache holds: a
 * PCR's ServiceAccount, and its Node when Nodes are not watched. As
 * identity_read_live() otherwise; the decision on what was read may still
 * need the full read before a denial on objects. */
int identity_read_uncached(struct controller *c, struct csr_entry *e);
/* Apply the identity events held back by --identity-event-delay that are
 * due; returns the next due time, or -1. */
int64_t identity_apply_delayed(struct controller *c, int64_t now);
/* After a LIST of an identity cache ended, give the memory its pages took
 * back to the system. Call from the loop, outside the client's callbacks
 * (the last page's text is freed only once its callback returns). */
void identity_trim_heap(struct controller *c);
void identity_delay_free(struct identity_delay *d); /* NULL does nothing */

/* ---- api.c: requests to the API server ---- */

enum api_subresource {
	API_APPROVAL,
	API_STATUS,
};

/* PUT body (owned by the callee) to e's approval or status subresource: e
 * becomes WRITING, or PENDING with a backoff when the request cannot start.
 * e->w_kind and the w_ fields say what it carries. */
void api_write(struct controller *c, struct csr_entry *e, enum api_subresource sub, char *body);
/* e's decision write went unanswered and obj (the CSR as the watch shows
 * it) carries exactly the condition it wrote: record the decision (log
 * line, metric, audit line, Event) and return true. */
bool api_confirm_decision(struct controller *c, struct csr_entry *e, const json_t *obj);
/* Re-read e after a write conflict. */
void api_reread(struct controller *c, struct csr_entry *e);
/* Ask sar for e (e becomes AUTHORIZING). Returns 0, or -1 when the request
 * could not be started. */
int api_review(struct controller *c, struct csr_entry *e, const struct policy_sar *sar);
/* Record an Event on e's CSR. */
void api_post_event(struct controller *c, const struct csr_entry *e, const char *type,
                    const char *reason, const char *message);
/* One log line for a decision; seconds < 0 leaves the duration out. */
void api_log_decision(const char *msg, const struct csr_entry *e, const char *requester,
                      const char *policy, const char *decision, const char *reason,
                      const char *message, double seconds);

/* ---- sign.c: the built-in signer ---- */

/* Load the issuing CA of every policy with `issue:` (a CA that does not
 * load is logged and retried; CSRs meanwhile get Failed/SignerError). */
void sign_setup(struct controller *c);
void sign_free(struct controller *c);
/* Does a policy issue for signer? */
bool sign_issues(const struct controller *c, const char *signer);
/* Re-read CA files that changed; publish trust bundles when leading.
 * Returns when it wants to run next, or -1. */
int64_t sign_tick(struct controller *c, int64_t now, bool leading);
/* This instance just became leader: publish every bundle once. */
void sign_leading(struct controller *c);
/* requirePolicy: is e approved by someone else, so that the policy decides
 * first? */
bool sign_needs_policy(const struct controller *c, const struct csr_entry *e);
/* Sign the Approved CSR of e (req is its request) and write the
 * certificate, or Failed/SignerError with the cause. */
void sign_csr(struct controller *c, struct csr_entry *e, const struct policy_request *req);
/* Write the Failed condition on e with reason and message. */
void sign_fail(struct controller *c, struct csr_entry *e, const char *reason, const char *message,
               const char *requester);

/* The CA of the policy that issues for signer, or NULL with *error (may
 * be NULL) saying why it does not load (when a policy issues). Borrowed. */
const struct signer_ca *sign_ca(const struct controller *c, const char *signer, const char **error);

/* ---- pcr.c: PodCertificateRequests ---- */

/* Does a policy of set answer PodCertificateRequests? */
bool pcr_wanted(const struct policy_set *set);
/* The field selector of the PCR informer: spec.signerName=X when exactly
 * one policy has podCertificates, else NULL. Caller frees. */
char *pcr_selector(const struct policy_set *set);
extern const struct watch_informer_ops pcr_ops;
/* Decide, issue or deny the PCR of e, and write its status. */
void pcr_reconcile(struct controller *c, struct csr_entry *e);
/* Does the PCR carry an Issued, Denied or Failed condition, or a chain? */
bool pcr_is_decided(const json_t *obj);
/* The status write of e took (resp: its answer): the log line, the metric
 * and the audit line, then e ends. */
void pcr_write_succeeded(struct controller *c, struct csr_entry *e,
                         const struct kube_response *resp);

/* ---- inventory.c: every request seen, for the governance metrics ---- */

struct inventory *inventory_new(void);
void inventory_free(struct inventory *inv); /* NULL does nothing */
/* The informer callbacks of a kind (CSRs from store.c; PCRs from their
 * informer): a LIST begins, an object (not DELETED) is seen, one is
 * DELETED, the LIST ends (what it did not show is dropped). */
void inventory_list_begin(struct controller *c, enum report_kind kind);
void inventory_observe(struct controller *c, enum report_kind kind, const json_t *obj);
void inventory_delete(struct controller *c, enum report_kind kind, const json_t *obj);
void inventory_list_end(struct controller *c, enum report_kind kind);
/* Compute the inventory gauges at now (Unix s) into c->metrics; nothing
 * to do when no entry changed since the last time and no gauge moves with
 * time alone before now. */
void inventory_publish(struct controller *c, int64_t now);
/* When, after now (Unix s), time alone moves an entry in the gauges: a
 * pending request (created > 0) reaching the next age bucket, or the
 * certificate of a request under a policy (managed) entering the 7-day
 * or 24-hour window or expiring. INT64_MAX: never. */
int64_t inventory_next_change(int64_t created, bool pending, bool managed, int64_t not_after,
                              int64_t now);

/* ---- auditlog.c: --audit-log ---- */

/* Open --audit-log when set. Returns 0, or -1 with err. */
int auditlog_open(struct controller *c, char *err, size_t errlen);
void auditlog_close(struct controller *c);
/* SIGHUP: open the path again (logrotate moved the file). */
void auditlog_reopen(struct controller *c);
/* One line about e: event "decision" or "issuance"; decision "approve",
 * "deny", "leave-pending", "fail" or "issue". body (body_len bytes) is the
 * object the write returned (NULL: e->obj is read). Does nothing without
 * --audit-log. */
void auditlog_csr(struct controller *c, const struct csr_entry *e, const char *event,
                  const char *decision, const char *reason, const char *message, const char *policy,
                  const char *body, size_t body_len, bool dry_run);
/* The same for the PodCertificateRequest of e (its body as the status
 * write returned it; NULL: e->obj): the requester is the pod's node. */
void auditlog_pcr(struct controller *c, const struct csr_entry *e, const char *event,
                  const char *decision, const char *reason, const char *message, const char *policy,
                  const char *body, size_t body_len);

/* ---- reconcile.c ---- */

/* Decide the CSR of name (or, for a key "pcr/NS/NAME", the PCR) and act on
 * the decision. */
void reconcile(struct controller *c, const char *name);
/* A denial resting on an object that is not there yet: back off (at most
 * --missing-object-timeout after e was first seen). Returns true while
 * waiting. */
bool reconcile_wait_for_object(struct controller *c, struct csr_entry *e,
                               const struct policy_decision *d, int64_t now);

#endif
