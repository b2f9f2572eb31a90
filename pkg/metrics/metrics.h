/*
 * metrics: the counters and gauges of SPEC.md, rendered in the Prometheus
 * text exposition format (version 0.0.4).
 *
 *   csr_approver_decisions_total{policy,decision,reason}       counter
 *   csr_approver_decision_duration_seconds                     histogram
 *   csr_approver_api_requests_total{verb,resource,code}        counter
 *   csr_approver_watch_restarts_total{resource}                counter
 *   csr_approver_cache_objects{resource}                       gauge
 *   csr_approver_is_leader                                     gauge
 *   csr_approver_build_info{version}                           gauge (1)
 *   process_cpu_seconds_total, process_resident_memory_bytes,
 *   process_virtual_memory_bytes, process_open_fds, process_max_fds,
 *   process_start_time_seconds                                 (from /proc)
 *
 * Thread-safety: every function may be called from any thread; a mutex
 * guards the registry (the controller updates it, the HTTP server's thread
 * renders it).
 */
#ifndef CSR_APPROVER_METRICS_H
#define CSR_APPROVER_METRICS_H

#include <stdbool.h>
#include <stddef.h>

struct metrics;

/* A new registry; version goes into build_info. Caller frees with
 * metrics_free(). */
struct metrics *metrics_new(const char *version);
void metrics_free(struct metrics *m); /* NULL does nothing */

/* One decision. seconds < 0 means no duration to observe (e.g. dry run). */
void metrics_decision(struct metrics *m, const char *policy, const char *decision,
		      const char *reason, double seconds);
/* One API request that got an HTTP answer (code 0: transport failure). */
void metrics_api_request(struct metrics *m, const char *verb, const char *resource, long code);
void metrics_watch_restart(struct metrics *m, const char *resource);
void metrics_set_cache_objects(struct metrics *m, const char *resource, double n);
void metrics_set_leader(struct metrics *m, bool leader);

/* The value of decisions_total for one label set (0 when never seen). */
double metrics_decisions(struct metrics *m, const char *policy, const char *decision,
			 const char *reason);

/* Render everything. Returns a new string the caller frees with free(). */
char *metrics_render(struct metrics *m);

#endif
