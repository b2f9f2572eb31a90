/*
 * controller: `csr-approver run`. Watches CertificateSigningRequests (and
 * the Pods, Services and Nodes the policies look at), decides each pending
 * CSR of a configured signer with pkg/policy, and writes the Approved or
 * Denied condition through the approval subresource.
 *
 * One thread, one loop, nothing blocks but the wait in
 * kube_client_run_once(): informers, SubjectAccessReviews, approval writes
 * and Events are all asynchronous requests on one kube client, and a work
 * queue keyed by CSR name (de-duplicated, with per-item exponential
 * backoff, the pattern of client-go's workqueue) says what to look at next.
 *
 * Besides the controller itself this header exposes its pure parts, so that
 * they can be tested without an API server: the work queue, the builders of
 * the request bodies, Go-style durations, and the `run` flags.
 *
 * Not thread-safe: everything here belongs to the thread that runs the loop.
 */
#ifndef CSR_APPROVER_CONTROLLER_H
#define CSR_APPROVER_CONTROLLER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "../log/log.h"
#include "../policy/policy.h"

/* ---- the work queue ---- */

/* Retry backoff of the queue: first retry after this, doubling per
 * consecutive failure of the same item, capped. */
#define CONTROLLER_QUEUE_BASE_MS 100
#define CONTROLLER_QUEUE_MAX_MS 30000

struct controller_queue;

/* A new empty queue whose rate-limited retries start at base_ms and double
 * up to max_ms. Caller frees with controller_queue_free(). */
struct controller_queue *controller_queue_new(int64_t base_ms, int64_t max_ms);
void controller_queue_free(struct controller_queue *q); /* NULL does nothing */

/*
 * Queue key to be processed at now_ms + delay_ms (delay_ms <= 0: now). An
 * item already queued is not duplicated: it keeps the earlier of its due
 * time and the new one. key is copied.
 */
void controller_queue_add_after(struct controller_queue *q, const char *key, int64_t now_ms,
                                int64_t delay_ms);
/* controller_queue_add_after() with no delay. */
void controller_queue_add(struct controller_queue *q, const char *key, int64_t now_ms);
/*
 * Queue key after its own backoff: base_ms * 2^n, capped at max_ms, where n
 * counts the rate-limited adds since the last controller_queue_forget().
 * Returns the delay chosen (ms).
 */
int64_t controller_queue_add_rate_limited(struct controller_queue *q, const char *key,
                                          int64_t now_ms);
/* The delay the next rate-limited add of key would get, without adding. */
int64_t controller_queue_backoff(const struct controller_queue *q, const char *key);
/* Reset key's backoff (after a success, or when it is gone). */
void controller_queue_forget(struct controller_queue *q, const char *key);
/* Drop key altogether: out of the queue if queued, its backoff with it
 * (the object is gone: nothing about it is left to do). Unknown keys are
 * ignored. */
void controller_queue_remove(struct controller_queue *q, const char *key);
/* How many rate-limited adds key has had since it was last forgotten. */
unsigned controller_queue_requeues(const struct controller_queue *q, const char *key);
/* Take the item due first if it is due at now_ms: returns its key (caller
 * frees) and removes it from the queue; NULL when nothing is due. Items
 * due at the same time come out in the order they were added. */
char *controller_queue_pop(struct controller_queue *q, int64_t now_ms);
/* Is key queued? */
bool controller_queue_contains(const struct controller_queue *q, const char *key);
/* When the first item is due (ms), or -1 when the queue is empty. */
int64_t controller_queue_next_due(const struct controller_queue *q);
/* Number of queued items. */
size_t controller_queue_len(const struct controller_queue *q);

/* ---- request bodies ---- */

/*
 * The body of PUT .../certificatesigningrequests/NAME/approval: csr (a
 * CertificateSigningRequest as read; borrowed) copied whole (metadata with
 * its resourceVersion, labels, annotations, finalizers; spec; status), with
 * apiVersion and kind set and one condition appended to status.conditions:
 * {type (Approved or Denied), status "True", reason, message,
 * lastUpdateTime}. Returns a new JSON text (caller frees), or NULL when csr
 * is not an object with metadata.name or status.conditions is not a list.
 */
char *controller_approval_body(const json_t *csr, const char *type, const char *reason,
                               const char *message, time_t now);

/*
 * The body of PUT .../certificatesigningrequests/NAME/status that issues
 * cert_pem: csr (borrowed) copied whole, with apiVersion and kind set and
 * status.certificate the base64 of cert_pem. Returns a new JSON text (caller
 * frees), or NULL when csr is not an object with metadata.name.
 */
char *controller_certificate_body(const json_t *csr, const char *cert_pem);

/*
 * The body of POST /apis/authorization.k8s.io/v1/subjectaccessreviews
 * asking whether sar's user may do what it describes. Caller frees.
 */
char *controller_sar_body(const struct policy_sar *sar);

/* Parse a SubjectAccessReview response: 0 with *allowed, -1 if malformed. */
int controller_sar_parse(const char *body, size_t len, bool *allowed);

/* What an Event on a CSR says. All strings borrowed. */
struct controller_event {
	const char *csr_name, *csr_uid;
	const char *type; /* "Normal" or "Warning" */
	const char *reason, *message;
	const char *instance; /* reportingInstance: this process's identity */
};

/* The body of POST /api/v1/namespaces/default/events (core/v1 Event on a
 * cluster-scoped CertificateSigningRequest), CONTROLLER_EVENT_CONTENT_TYPE:
 * *len bytes, not a C string. Caller frees. */
#define CONTROLLER_EVENT_CONTENT_TYPE "application/vnd.kubernetes.protobuf"
char *controller_event_body(const struct controller_event *ev, time_t now, size_t *len);

/* RFC 3339 UTC with seconds ("2026-07-25T10:00:00Z") into buf (>= 21 bytes). */
void controller_format_time(time_t t, char *buf, size_t len);

/* ---- run flags ---- */

/* util_parse_duration(), under the name the controller's callers know. */
int controller_parse_duration(const char *s, int64_t *ms);

struct controller_options {
	const char *kubeconfig; /* borrowed from argv; NULL: default lookup */
	const char *context; /* kubeconfig context; NULL: current-context */
	const char *config_path; /* the policy file; NULL: no policies */
	bool leader_elect;
	const char *lease_namespace; /* NULL: the config's namespace, else "default" */
	const char *lease_name; /* default "csr-approver" */
	int64_t lease_duration_ms; /* 15 s */
	int64_t renew_deadline_ms; /* 10 s */
	int64_t retry_period_ms; /* 2 s */
	const char *metrics_addr; /* ":8080"; "0" disables */
	const char *probe_addr; /* ":8081"; "0" disables */
	bool dry_run;
	enum log_format log_format; /* json */
	enum log_level log_level; /* info */
	const char *identity; /* NULL: hostname_random */
	int64_t missing_object_retry_ms; /* how long an absent object is waited for (30 s) */
	/* Test binary only (CSR_APPROVER_TEST_HOOKS); 0 in the release binary. */
	int64_t write_delay_ms; /* hold each approval write this long */
	int64_t identity_event_delay_ms; /* apply Pod/Service/Node events this late */
	int64_t bundle_resync_ms; /* trust bundles read again this often (0: 5 min) */
	const char *version; /* for build_info; NULL: "dev" */
	const char *audit_log; /* --audit-log FILE, "-" for stdout; NULL: none */
	long api_max_in_flight; /* API requests (not watches) in flight at most (32) */
	bool api_http1; /* --api-http-version=1.1: never offer HTTP/2 */
	int64_t api_read_coalesce_ms; /* --api-read-coalescing (2 ms; 0: off) */
};

/* The defaults of SPEC.md. */
void controller_options_init(struct controller_options *o);

/*
 * Parse the flags of `run` (argv[0] is "run"). Strings in *o borrow from
 * argv. Returns 0, 1 when --help was asked (usage printed to stdout), or -1
 * with a one-line message in err (bad flag, bad value, durations that break
 * lease > renew deadline > 1.2 x retry period).
 */
int controller_options_parse(struct controller_options *o, int argc, char **argv, char *err,
                             size_t errlen);

/* The usage text of `run`. */
void controller_usage(FILE *f);

/* ---- the controller ---- */

struct controller;

/*
 * A controller for the policy set (ownership passes to the controller) and
 * options (copied; the strings they point to must outlive the controller).
 * Loads the kube configuration and starts the metrics and probe listeners.
 * Returns NULL with err when that fails.
 */
struct controller *controller_new(const struct controller_options *o, struct policy_set *set,
                                  char *err, size_t errlen);
void controller_free(struct controller *c); /* NULL does nothing */

/*
 * Run until SIGTERM or SIGINT (which this blocks and reads through a
 * signalfd): list and watch, decide, write. On a signal it stops taking
 * new work, lets the writes in flight finish (at most 10 s), releases the
 * lease when it holds it, and returns 0. Returns 1 when it must stop
 * deciding (leadership lost, or the loop failed).
 */
int controller_run(struct controller *c);

#endif
