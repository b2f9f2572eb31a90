/*
 * kube: a small Kubernetes API client on libcurl's multi interface and
 * jansson. The only module that includes curl.
 *
 * One client, one thread, non-blocking: requests are started, and
 * kube_client_run_once() waits (poll(2) on libcurl's sockets, the caller's
 * extra file descriptors and a wake-up eventfd, until libcurl's timer) and
 * drives transfers (curl_multi_socket_action), calling each request's callbacks
 * from inside it. Nothing blocks except that wait.
 *
 * Credentials: client certificate and key, and the CA, are handed to libcurl
 * as in-memory blobs (never written to files); bearer tokens come from the
 * kubeconfig or a token file that is re-read at least every minute and after
 * a 401 (which is retried once). TLS verification is always on.
 *
 * Connections: HTTP/2 when the server offers it (ALPN h2), every request
 * and watch multiplexed on one connection (a second one only to take over
 * from it); else HTTP/1.1 with a small pool: one connection per watch plus
 * KUBE_H1_REQUEST_CONNS for requests. Requests beyond the cap on requests in
 * flight wait in order for a slot; watches never wait behind requests, so
 * no cap can hold a request behind watches that never end. Until the first
 * answer tells which protocol the server speaks, one transfer runs at a
 * time.
 *
 * A 429 or 5xx answer with Retry-After (delta-seconds) is sent again after
 * that long, up to KUBE_RETRY_AFTER_MAX_TRIES times, before its callback
 * sees it; each attempt is counted by the observer and logged.
 *
 * Not thread-safe: one thread owns a client and its requests.
 */
#ifndef CSR_APPROVER_KUBE_H
#define CSR_APPROVER_KUBE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Cap on a whole (non-streaming) response body. */
#define KUBE_MAX_BODY (64 * 1024 * 1024)
/* Cap on the body of an error answer to a streaming request. */
#define KUBE_MAX_ERROR_BODY (64 * 1024)

/* Where the client connects and how it authenticates. */
struct kube_config {
	char *server; /* owned; "https://host:port" without trailing slash */
	char *ca_pem; /* owned; CA bundle PEM, or NULL for the system store */
	size_t ca_len;
	char *cert_pem; /* owned; client certificate PEM, or NULL */
	size_t cert_len;
	char *key_pem; /* owned; client key PEM, or NULL (wiped on free) */
	size_t key_len;
	char *token; /* owned; static bearer token, or NULL (wiped on free) */
	char *token_file; /* owned; file re-read for the token, or NULL */
	char *ca_file; /* owned; file ca_pem came from (re-read on TLS failure), or NULL */
	char *namespace; /* owned; in-cluster namespace or the context's, or NULL */
	char *source; /* owned; where this came from, for logs ("in-cluster", a path) */
};

/*
 * Load a configuration the way Kubernetes controllers do: kubeconfig_path
 * when given; else in-cluster (KUBERNETES_SERVICE_HOST/PORT, IPv6 bracketed,
 * the service-account token, ca.crt and namespace files); else $KUBECONFIG
 * (first file of the list); else ~/.kube/config. Kubeconfig: current-context
 * (or context_name when not NULL), its cluster (server,
 * certificate-authority[-data]) and user (client-certificate[-data],
 * client-key[-data], token, tokenFile). Unsupported auth (exec plugins,
 * auth-provider, username/password) is an error naming it.
 * Returns 0 and *out (caller frees with kube_config_free()), or -1 and err.
 */
int kube_config_load(const char *kubeconfig_path, const char *context_name,
                     struct kube_config **out, char *err, size_t errlen);
/* kube_config_load() with the in-cluster files read from sa_dir (NULL: the
 * default directory). */
int kube_config_load_sa(const char *kubeconfig_path, const char *context_name, const char *sa_dir,
                        struct kube_config **out, char *err, size_t errlen);

/*
 * Parse a kubeconfig (YAML or JSON) held in buf (len bytes). path names it
 * in messages and is the base for relative file names in it (NULL: the
 * current directory, and "kubeconfig" in messages); the files it names
 * (certificate-authority, client-certificate, client-key, tokenFile) are
 * read now and must be regular files. context_name as for
 * kube_config_load(). `insecure-skip-tls-verify: true`, exec plugins,
 * auth-provider, username/password, impersonation, proxy-url and
 * tls-server-name are refused. Errors name the file and the key, e.g.
 * "/k/config: users[admin].user.client-key-data: invalid base64".
 * Returns 0 and *out (caller frees with kube_config_free()), or -1 and err.
 */
int kube_config_parse(const char *buf, size_t len, const char *path, const char *context_name,
                      struct kube_config **out, char *err, size_t errlen);

/*
 * The in-cluster configuration alone: https://KUBERNETES_SERVICE_HOST:PORT
 * and the files of the service-account directory dir (NULL:
 * /var/run/secrets/kubernetes.io/serviceaccount).
 * The token and ca.crt must be readable; namespace is optional.
 * Returns 0 and *out (caller frees with kube_config_free()), or -1 and err.
 */
int kube_config_in_cluster(const char *dir, struct kube_config **out, char *err, size_t errlen);

void kube_config_free(struct kube_config *cfg); /* NULL does nothing */

/* Cap on a file a kubeconfig names (CA, certificate, key, token). */
#define KUBE_MAX_FILE (1024 * 1024)

/* ---- bearer tokens ---- */

/* A token file is re-read when the token in hand is older than this. */
#define KUBE_TOKEN_MAX_AGE_MS 60000
/* After a failed re-read the old token is kept and the file tried again
 * after this long. */
#define KUBE_TOKEN_RETRY_MS 10000

/*
 * Where a client's bearer token comes from: a static token, a file, or
 * both (the file wins once it has been read, the static token is the
 * fallback, as client-go does). Time is passed in (monotonic ms) so that
 * the reload rule is testable without waiting.
 */
struct kube_token_source;

/* token and file may be NULL (both NULL: no token). Copies both. The file
 * is first read by the first kube_token_source_get(). Caller frees with
 * kube_token_source_free(), which wipes the tokens. */
struct kube_token_source *kube_token_source_new(const char *token, const char *file);
void kube_token_source_free(struct kube_token_source *ts); /* NULL does nothing */

/*
 * The token to send at now_ms (borrowed: valid until the next call or the
 * free), or NULL when there is none. Re-reads the file when it was never
 * read, when the token is older than KUBE_TOKEN_MAX_AGE_MS, or after
 * kube_token_source_invalidate(). A failed re-read keeps the old token,
 * puts the reason in err (when not NULL) and retries after
 * KUBE_TOKEN_RETRY_MS; err is "" otherwise.
 */
const char *kube_token_source_get(struct kube_token_source *ts, int64_t now_ms, char *err,
                                  size_t errlen);
/* Force a re-read on the next get (after a 401). Returns true if there is a
 * file to re-read (so a retry may help). */
bool kube_token_source_invalidate(struct kube_token_source *ts);
/* Times the file was read successfully (for tests). */
uint64_t kube_token_source_reads(const struct kube_token_source *ts);

struct kube_client;
struct kube_request;

/* What a finished request gives its callback. All pointers are borrowed
 * for the duration of the callback. */
struct kube_response {
	long status; /* HTTP status, or 0 when the transfer failed */
	const char *body; /* the body (NUL-terminated), "" when none; for a
	                        * streaming request "" on 2xx, else the error body
	                        * (at most KUBE_MAX_ERROR_BODY bytes) */
	size_t body_len;
	const char *error; /* transport error text when status == 0, else the API
	                        * Status message for >= 400 (or a short body excerpt) */
	const char *reason; /* the API Status reason ("Conflict", "Expired", ...) or "" */
};

/* Called once when a request ends (success, HTTP error, transport error or
 * cancellation: status 0, error "cancelled"). The request is freed after
 * the callback returns. */
typedef void (*kube_done_cb)(void *ud, const struct kube_response *resp);
/* For streaming requests: called with each chunk of body bytes as they
 * arrive on a 2xx response. Return 0 to go on, -1 to abort the transfer
 * (done_cb then gets status 0, error "aborted"). */
typedef int (*kube_data_cb)(void *ud, const char *data, size_t len);

/* A new client for cfg (borrowed: it must outlive the client). Returns NULL
 * with err when libcurl cannot be set up. Caller frees with
 * kube_client_free(), which cancels every request still running. */
struct kube_client *kube_client_new(const struct kube_config *cfg, char *err, size_t errlen);
void kube_client_free(struct kube_client *c);

/* Set the per-request timeout for non-streaming requests (default 30 s). */
void kube_client_set_timeout_ms(struct kube_client *c, long ms);

/* Requests (not watches) in flight at most over HTTP/2: the next ones wait
 * in order, none is dropped. Default and bounds below; 0 gives the
 * default, larger values are clamped. Over HTTP/1.1 the cap is
 * KUBE_H1_REQUEST_CONNS, or this one when smaller. */
#define KUBE_DEFAULT_MAX_IN_FLIGHT 32
#define KUBE_MAX_MAX_IN_FLIGHT 64
void kube_client_set_max_in_flight(struct kube_client *c, size_t n);

/* Read coalescing: when the connection wakes the loop again within this
 * many milliseconds of its last step, the loop holds it until the window
 * has passed (the caller's fds and kube_client_wakeup() still end the wait
 * at once), so that one step reads what several responses and watch events
 * brought. libcurl runs every transfer on the connection for each step and
 * polls each again: in a stream of 3,000 CSRs a window of 2 ms took the
 * steps from about 4.3 to 1.7 per decision and the controller's CPU per
 * decision down by 7 to 20 % (docs/benchmarks.md). A quiet
 * connection is never held: only a wake-up within the window of the last
 * one is. 0 turns it off; values above the maximum are clamped. */
#define KUBE_DEFAULT_READ_COALESCE_MS 2
#define KUBE_MAX_READ_COALESCE_MS 50
void kube_client_set_read_coalescing(struct kube_client *c, int64_t ms);
/* How long to hold a wake-up of the connection at now_ms when its last
 * step was at last_ms (0: none yet), with a window of window_ms: 0 when it
 * need not wait. */
int kube_coalesce_wait_ms(int64_t now_ms, int64_t last_ms, int64_t window_ms);

/* Log the protocol the API server speaks at info level (a long-running
 * controller wants it in its log) instead of debug (the default: one-shot
 * commands such as report and why keep stderr for what the user asked). */
void kube_client_set_log_protocol(struct kube_client *c, bool info);

/* What the client offers the server. */
enum kube_http_version {
	KUBE_HTTP_AUTO = 0, /* HTTP/2 when the server offers it, else HTTP/1.1 */
	KUBE_HTTP_1_1, /* HTTP/1.1 only (the connection pool) */
};
/* Choose before the first request (later calls affect new connections
 * only). */
void kube_client_set_http_version(struct kube_client *c, enum kube_http_version v);

/* The protocol the last answer came in: "HTTP/2", "HTTP/1.1", or "" before
 * any answer. Static string. */
const char *kube_client_protocol(const struct kube_client *c);

/* Called each time the client opens a connection (a TCP socket) to the API
 * server, on the client's thread. May be NULL. */
typedef void (*kube_conn_cb)(void *ud);
void kube_client_set_conn_observer(struct kube_client *c, kube_conn_cb cb, void *ud);
/* Connections opened so far. */
uint64_t kube_client_connections_opened(const struct kube_client *c);

/*
 * A write gate, asked just before each request whose method is not GET
 * goes out: at its first send, when it leaves the queue for a slot, and at
 * each send again (a Retry-After, a 401, a CA change). Returning false
 * keeps it unsent: it ends with status 0, reason KUBE_REASON_NOT_SENT
 * (done_cb), or kube_request_start() returns NULL when it would have gone
 * at once. It must not start or cancel requests. NULL (the default) lets
 * everything through.
 */
#define KUBE_REASON_NOT_SENT "NotSent"
typedef bool (*kube_gate_cb)(void *ud, const char *method, const char *path);
void kube_client_set_write_gate(struct kube_client *c, kube_gate_cb cb, void *ud);

/*
 * Start a request. method "GET", "POST", "PUT", "PATCH", "DELETE"; path
 * begins with "/" and is appended to the server URL (callers escape query
 * values with kube_escape()); body (may be NULL) is copied and sent with
 * content_type (NULL: application/json). data_cb non-NULL makes it a
 * streaming request (no body cap; no overall timeout, only a connect
 * timeout). Returns the request handle (owned by the client; valid until
 * done_cb returns), or NULL if it could not be started (done_cb not called).
 */
struct kube_request *kube_request_start(struct kube_client *c, const char *method, const char *path,
                                        const char *body, size_t body_len, const char *content_type,
                                        kube_done_cb done_cb, kube_data_cb data_cb, void *ud);

/*
 * As kube_request_start() (not streaming), for a request that may wait:
 * it is sent only when no other request is in flight or waits for a slot,
 * and such requests hold at most half the slots
 * (--api-max-requests-in-flight) at a time. One that has waited 5 s goes
 * before the others, but while other requests run such late ones hold at
 * most one slot in KUBE_DEFER_TRICKLE_DIV. Events go this way, so that in a
 * burst the API server's time goes to the decisions first. Nothing is
 * dropped: it waits in order with the other deferred requests.
 */
struct kube_request *kube_request_start_deferred(struct kube_client *c, const char *method,
                                                 const char *path, const char *body,
                                                 size_t body_len, const char *content_type,
                                                 kube_done_cb done_cb, void *ud);

/*
 * As kube_request_start() (not streaming), for a request that must not wait
 * behind the others: the leader elector's. Once the protocol is known it
 * starts at once, taking a slot as a watch does, over the cap
 * (--api-max-requests-in-flight); before, it goes first. A lease renewal
 * queued behind a backlog of thousands of writes (a controller that starts
 * to a cluster full of pending CSRs) would wait past the renew deadline.
 */
struct kube_request *kube_request_start_urgent(struct kube_client *c, const char *method,
                                               const char *path, const char *body, size_t body_len,
                                               const char *content_type, kube_done_cb done_cb,
                                               void *ud);

/* Cancel a running request: its done_cb runs (status 0, "cancelled") before
 * this returns, and the handle is invalid afterwards. Calling it from the
 * request's own done_cb does nothing.
 *
 * Both kube_request_start() and kube_request_cancel() may be called from
 * inside any callback (data_cb, done_cb, and so from informer callbacks):
 * where libcurl forbids changing its handles, the client defers the change
 * until the transfer step returns. */
void kube_request_cancel(struct kube_request *r);

/*
 * Wait up to timeout_ms for network activity or readiness of one of the
 * extra fds (each polled for input; revents written back into fds), drive
 * transfers and call finished requests' callbacks. Returns 0, or -1 on a
 * libcurl failure. Returns early when kube_client_wakeup() is called.
 */
struct kube_pollfd {
	int fd;
	short events; /* POLLIN etc. */
	short revents; /* set on return */
};
int kube_client_run_once(struct kube_client *c, struct kube_pollfd *fds, size_t nfds,
                         int timeout_ms);

/* Make a concurrent kube_client_run_once() return early (safe from a signal
 * handler or another thread). */
void kube_client_wakeup(struct kube_client *c);

/* Number of requests in flight. */
size_t kube_client_active(const struct kube_client *c);

/*
 * Convenience for commands and tests: run one request to completion,
 * blocking on this client's loop. *body gets the response body (caller
 * frees) when not NULL. Returns the HTTP status (0 on transport error, with
 * err filled).
 */
long kube_request_sync(struct kube_client *c, const char *method, const char *path,
                       const char *body, size_t body_len, const char *content_type,
                       char **resp_body, char *err, size_t errlen);

/* Percent-escape s for a URL query value or path segment. Caller frees. */
char *kube_escape(const char *s);

/* Counts of API requests by verb/resource/code, for metrics: called once
 * per attempt (a 401 that is retried counts as one attempt), with the names
 * kube_classify() gives and the HTTP status, 0 when no HTTP answer came
 * (connection refused, timeout, TLS failure; a request cancelled by the
 * caller before any answer is not counted). Plain
 * requests are counted when they finish; streams (watches) when their
 * answer starts, so that a watch open for minutes is counted at once.
 * Runs on the thread that runs the client. May be NULL. */
typedef void (*kube_observe_cb)(void *ud, const char *verb, const char *resource, long code);
void kube_client_set_observer(struct kube_client *c, kube_observe_cb cb, void *ud);

/*
 * Names for a request in metrics, a small fixed vocabulary:
 *  - verb: "WATCH" when the query has watch=1 or watch=true; "LIST" for a
 *    GET on a collection (/api/v1/pods, /api/v1/namespaces/NS/pods,
 *    /apis/G/V/RES); "GET" for a GET on an object or a non-resource path;
 *    else the method in capitals ("POST", "PUT", "PATCH", "DELETE").
 *  - resource: the resource segment of an API path ("pods",
 *    "certificatesigningrequests", "namespaces"), with the subresource after
 *    a slash ("certificatesigningrequests/approval"); "discovery" for /api,
 *    /apis and /apis/G[/V]; the first segment for other paths ("version",
 *    "healthz", "openapi"); "" for "/". Never a name or a namespace.
 * Writes NUL-terminated strings, truncated to the buffer sizes.
 */
void kube_classify(const char *method, const char *path, char *verb, size_t verblen, char *resource,
                   size_t reslen);

/*
 * Read a Kubernetes API Status object ({"kind":"Status",...}) from a
 * response body. Returns 0 when body is a Status, copying its message and
 * reason (each "" when absent) and *code (0 when absent), and setting
 * *too_large when details.causes names ResourceVersionTooLarge; -1 when it
 * is not a Status (nothing written). Any pointer may be NULL.
 */
int kube_status_parse(const char *body, size_t len, char *message, size_t msglen, char *reason,
                      size_t reasonlen, long *code, bool *too_large);
/* The same for a Status already parsed (an ERROR watch event's object). */
int kube_status_read(const json_t *obj, char *message, size_t msglen, char *reason,
                     size_t reasonlen, long *code, bool *too_large);

/* ---- Retry-After ---- */

/* Answers with Retry-After sent again at most this many times (client-go's
 * figure), and never waited for longer than this each. */
#define KUBE_RETRY_AFTER_MAX_TRIES 10
#define KUBE_RETRY_AFTER_MAX_MS 60000

/*
 * Read a Retry-After value of len bytes (not NUL-terminated; may be NULL):
 * delta-seconds between optional spaces and tabs. Returns 0 with *ms (capped
 * at KUBE_RETRY_AFTER_MAX_MS), or -1 for anything else (empty, a sign, a
 * fraction, an HTTP-date). Pure; any thread.
 */
int kube_retry_after_parse(const char *value, size_t len, int64_t *ms);

/*
 * Whether an answer of HTTP status with Retry-After value (len bytes; NULL
 * when absent) is to be sent again, having been sent again attempts times
 * already: a 429 or 5xx, a valid value, attempts below
 * KUBE_RETRY_AFTER_MAX_TRIES. Returns true with *delay_ms. Pure; any thread.
 */
bool kube_retry_after_delay(long status, const char *value, size_t len, unsigned int attempts,
                            int64_t *delay_ms);

/* libcurl's version string, for `csr-approver version`. */
const char *kube_library_version(void);

#endif
