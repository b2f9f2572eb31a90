/*
 * metrics: the counters and gauges of SPEC.md, rendered in the Prometheus
 * text exposition format (version 0.0.4).
 *
 *   csr_approver_decisions_total{policy,decision,reason}       counter
 *   csr_approver_decision_duration_seconds                     histogram
 *   csr_approver_api_requests_total{verb,resource,code}        counter
 *   csr_approver_api_connections_opened_total                  counter
 *   csr_approver_watch_restarts_total{resource}                counter
 *   csr_approver_cache_objects{resource}                       gauge
 *   csr_approver_is_leader                                     gauge
 *   csr_approver_ready                                         gauge
 *   csr_approver_build_info{version}                           gauge (1)
 *   csr_approver_pending{signer,age}                           gauge
 *   csr_approver_unmanaged{signer}                             gauge
 *   csr_approver_foreign_decisions_total{signer,decision}      counter
 *   csr_approver_certificates_issued_total{policy,kind}        counter
 *   csr_approver_certificate_expiry_earliest_timestamp_seconds{policy}  gauge
 *   csr_approver_certificates_expiring{policy,within}          gauge
 *   csr_approver_audit_write_failures_total                    counter
 *   process_cpu_seconds_total, process_resident_memory_bytes,
 *   process_virtual_memory_bytes, process_open_fds, process_max_fds,
 *   process_start_time_seconds                                 (from /proc)
 *
 * Thread-safety: every function may be called from any thread; a mutex
 * guards the registry (the controller updates it, the HTTP server's thread
 * renders it).
 *
 * Series are created on first use. Each labelled family holds at most
 * METRICS_MAX_SERIES label sets; updates to further label sets are dropped
 * (label values come from the policy file and from code, so the bound is
 * a guard, not a limit met in practice). A NULL label value counts as "".
 * Output is stable: families in the order above, series sorted by their
 * label values.
 */
#ifndef CSR_APPROVER_METRICS_H
#define CSR_APPROVER_METRICS_H

#include <stdbool.h>
#include <stddef.h>

struct metrics;

#define METRICS_MAX_SERIES 1000

/* A new registry; version goes into build_info. Caller frees with
 * metrics_free(). */
struct metrics *metrics_new(const char *version);
void metrics_free(struct metrics *m); /* NULL does nothing */

/* One decision. seconds < 0 means no duration to observe (e.g. dry run). */
void metrics_decision(struct metrics *m, const char *policy, const char *decision,
                      const char *reason, double seconds);
/* One API request that got an HTTP answer (code 0: transport failure; the
 * code label is then "0"). */
void metrics_api_request(struct metrics *m, const char *verb, const char *resource, long code);
/* One connection (TCP socket) opened to the API server. */
void metrics_api_connection_opened(struct metrics *m);
void metrics_watch_restart(struct metrics *m, const char *resource);
void metrics_set_cache_objects(struct metrics *m, const char *resource, double n);
void metrics_set_leader(struct metrics *m, bool leader);
/* csr_approver_ready: 1 once the caches have synced (as /readyz), 0 before
 * and while shutting down. */
void metrics_set_ready(struct metrics *m, bool ready);

/* ---- governance (SPEC.md, "Governance") ---- */

/* n CSRs of a signer csr-approver decides were decided by someone else
 * (decision "approve", "deny" or "fail"); n 0 creates the series at 0, so
 * that increase() sees the first one. */
void metrics_foreign_decisions(struct metrics *m, const char *signer, const char *decision,
                               double n);
/* A certificate issued by the built-in signer (kind "csr" or "pcr"); n 0
 * creates the series at 0. */
void metrics_certificates_issued(struct metrics *m, const char *policy, const char *kind, double n);
/* An audit line that could not be written. */
void metrics_audit_failure(struct metrics *m);

/* Pending CSRs of one signer by age: lt1m, lt15m, lt1h, ge1h. */
#define METRICS_AGE_BUCKETS 4
extern const char *const metrics_age_bucket_names[METRICS_AGE_BUCKETS];
struct metrics_pending {
	const char *signer; /* borrowed */
	double n[METRICS_AGE_BUCKETS];
};
struct metrics_count {
	const char *label; /* borrowed */
	double n;
};
/* Certificates of one policy's signer that have not expired yet. */
struct metrics_expiry {
	const char *policy; /* borrowed */
	bool has_earliest; /* false: no such certificate (no earliest series) */
	double earliest; /* the earliest notAfter, Unix seconds */
	double within_24h, within_7d;
};
/* The inventory gauges, replaced whole (series absent from inv go away). */
struct metrics_inventory {
	const struct metrics_pending *pending;
	size_t n_pending;
	const struct metrics_count *unmanaged; /* label: the signer */
	size_t n_unmanaged;
	const struct metrics_expiry *expiry;
	size_t n_expiry;
};
void metrics_set_inventory(struct metrics *m, const struct metrics_inventory *inv);

/* The value of decisions_total for one label set (0 when never seen). */
double metrics_decisions(struct metrics *m, const char *policy, const char *decision,
                         const char *reason);

/* Render everything. Returns a new string the caller frees with free().
 * The process_* figures are read from /proc at each call; one that cannot
 * be read is left out. */
char *metrics_render(struct metrics *m);

/* Read process_* from root (a /proc tree; "/proc" by default) instead;
 * NULL leaves the process_* figures out. For tests. root is copied. */
void metrics_set_proc_root(struct metrics *m, const char *root);

/* The process_* figures, as read from a /proc tree. */
struct metrics_process {
	bool have_stat; /* cpu_seconds, virtual_memory_bytes (self/stat) */
	bool have_rss; /* self/status VmRSS */
	bool have_start_time; /* self/stat starttime + btime of stat */
	bool have_max_fds; /* self/limits "Max open files" soft limit */
	bool have_open_fds; /* entries of self/fd */
	double cpu_seconds;
	double virtual_memory_bytes;
	double resident_memory_bytes;
	double start_time_seconds;
	double max_fds;
	double open_fds;
};

/* Fill p from the /proc tree at root (root/self/stat, root/self/status,
 * root/self/limits, root/self/fd, root/stat). Returns 0 when at least one
 * figure was read, else -1. */
int metrics_read_process(const char *root, struct metrics_process *p);

/* Format a sample value as the text format writes it: the shortest decimal
 * that reads back as v, or +Inf, -Inf, NaN. out needs 32 bytes. */
void metrics_format_value(char *out, size_t outlen, double v);

#endif
