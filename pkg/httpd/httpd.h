/*
 * httpd: the metrics and health endpoints, on libmicrohttpd (its own
 * thread, so a slow scrape never stalls the controller loop).
 *
 *   GET /metrics   Prometheus text format (text/plain; version=0.0.4)
 *   GET /healthz   200 "ok" while the process lives
 *   GET /readyz    200 "ok" once ready (caches synced), else 503
 *
 * Two listeners may share one server object: metrics on one address,
 * probes on another, as --metrics-bind-address and
 * --health-probe-bind-address say (each serves all three paths).
 */
#ifndef CSR_APPROVER_HTTPD_H
#define CSR_APPROVER_HTTPD_H

#include <stdbool.h>

#include "../metrics/metrics.h"

struct httpd;

/*
 * Start listening on addr: ":8080", "127.0.0.1:8080", "[::1]:8080",
 * "0.0.0.0:0" (port 0 picks a free port; see httpd_port()). m is borrowed
 * and must outlive the server. Returns NULL with err on a bad address or a
 * bind failure.
 */
struct httpd *httpd_start(const char *addr, struct metrics *m, char *err, size_t errlen);
/* Stop and free; NULL does nothing. */
void httpd_stop(struct httpd *h);
/* The bound port. */
int httpd_port(const struct httpd *h);
/* Set readiness (thread-safe). */
void httpd_set_ready(struct httpd *h, bool ready);

#endif
