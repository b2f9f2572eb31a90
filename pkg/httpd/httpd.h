/*
 * httpd: the metrics and health endpoints, on libmicrohttpd (its own
 * thread, so a slow scrape never stalls the controller loop).
 *
 *   GET /metrics   Prometheus text format (text/plain; version=0.0.4)
 *   GET /healthz   200 "ok" while the process lives
 *   GET /readyz    200 "ok" once ready (caches synced), else 503 "not ready",
 *                  with what it waits for when the caller said it
 *                  ("not ready: caches not synced yet: pods, nodes")
 *
 * Two listeners may share one server object: metrics on one address,
 * probes on another, as --metrics-bind-address and
 * --health-probe-bind-address say (each serves all three paths). Start with
 * the first, add the second with httpd_add_listener(); readiness is shared.
 *
 * Other methods than GET and HEAD get 405 (with Allow: GET, HEAD), other
 * paths 404. A server without metrics (m NULL) answers /metrics with 404.
 *
 * Addresses: ":PORT" is every interface, IPv6 and IPv4 (one dual-stack
 * socket, or IPv4 alone where the host has no IPv6); "[::]:PORT" the
 * same; "0.0.0.0:PORT" IPv4 only; "HOST:PORT" with a literal address or a
 * name resolved once (first answer). IPv6 literals go in brackets. The
 * value "0" of the flags (disabled) is for the caller to handle: it is not
 * an address here.
 *
 * Threads: httpd_start, httpd_add_listener and httpd_stop from one thread
 * (the main one); httpd_set_ready, httpd_set_not_ready and httpd_ready from
 * any thread. Requests
 * are served on libmicrohttpd's threads, one per listener; they call
 * metrics_render() and, for libmicrohttpd's own rare errors, log_warn().
 */
#ifndef CSR_APPROVER_HTTPD_H
#define CSR_APPROVER_HTTPD_H

#include <stdbool.h>
#include <stddef.h>

#include "../metrics/metrics.h"

struct httpd;

#define HTTPD_MAX_LISTENERS 4
#define HTTPD_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/*
 * Start listening on addr: ":8080", "127.0.0.1:8080", "[::1]:8080",
 * "0.0.0.0:0" (port 0 picks a free port; see httpd_port()). m is borrowed
 * and must outlive the server. Returns NULL with err on a bad address or a
 * bind failure.
 */
struct httpd *httpd_start(const char *addr, struct metrics *m, char *err, size_t errlen);
/*
 * Listen on another address with the same handlers and readiness. An
 * address already listened on (same string) is not opened twice. Returns
 * the bound port, or -1 with err (the server keeps its other listeners).
 */
int httpd_add_listener(struct httpd *h, const char *addr, char *err, size_t errlen);
/* Stop and free; NULL does nothing. */
void httpd_stop(struct httpd *h);
/* The bound port of the first listener. */
int httpd_port(const struct httpd *h);
/* Longest reason /readyz gives, in bytes; longer ones are cut. */
#define HTTPD_MAX_REASON 256

/* Set readiness (thread-safe). Either way the reason of
 * httpd_set_not_ready() is forgotten. */
void httpd_set_ready(struct httpd *h, bool ready);
/* Not ready, and why (copied; thread-safe): /readyz answers 503
 * "not ready: WHY". A short, plain text naming what is awaited. */
void httpd_set_not_ready(struct httpd *h, const char *why);
/* Current readiness (thread-safe). */
bool httpd_ready(const struct httpd *h);

/*
 * Split addr into host ("" for ":PORT", brackets removed for IPv6) and
 * port. Returns 0, or -1 with err for a missing port, a port outside
 * 0-65535, or an IPv6 address without brackets. host needs hostlen bytes.
 */
int httpd_parse_addr(const char *addr, char *host, size_t hostlen, int *port, char *err,
                     size_t errlen);

/* libmicrohttpd's version, for `csr-approver version`. */
const char *httpd_library_version(void);

#endif
