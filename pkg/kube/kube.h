/*
 * kube: a small Kubernetes API client on libcurl's multi interface and
 * jansson. The only module that includes curl.
 *
 * One client, one thread, non-blocking: requests are started, and
 * kube_client_run_once() waits (curl_multi_poll, plus the caller's extra
 * file descriptors) and drives transfers, calling each request's callbacks
 * from inside it. Nothing blocks except that wait.
 *
 * Credentials: client certificate and key, and the CA, are handed to libcurl
 * as in-memory blobs (never written to files); bearer tokens come from the
 * kubeconfig or a token file that is re-read at least every minute and after
 * a 401 (which is retried once). TLS verification is always on.
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

/* Where the client connects and how it authenticates. */
struct kube_config {
	char *server;         /* owned; "https://host:port" without trailing slash */
	char *ca_pem;         /* owned; CA bundle PEM, or NULL for the system store */
	size_t ca_len;
	char *cert_pem;       /* owned; client certificate PEM, or NULL */
	size_t cert_len;
	char *key_pem;        /* owned; client key PEM, or NULL (wiped on free) */
	size_t key_len;
	char *token;          /* owned; static bearer token, or NULL (wiped on free) */
	char *token_file;     /* owned; file re-read for the token, or NULL */
	char *ca_file;        /* owned; file ca_pem came from (re-read on TLS failure), or NULL */
	char *namespace;      /* owned; in-cluster namespace or the context's, or NULL */
	char *source;         /* owned; where this came from, for logs ("in-cluster", a path) */
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
void kube_config_free(struct kube_config *cfg); /* NULL does nothing */

struct kube_client;
struct kube_request;

/* What a finished request gives its callback. All pointers are borrowed
 * for the duration of the callback. */
struct kube_response {
	long status;           /* HTTP status, or 0 when the transfer failed */
	const char *body;      /* the body (NUL-terminated), "" when streamed or none */
	size_t body_len;
	const char *error;     /* transport error text when status == 0, else the API
	                        * Status message for >= 400 (or a short body excerpt) */
	const char *reason;    /* the API Status reason ("Conflict", "Expired", ...) or "" */
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

/* Cancel a running request: its done_cb runs (status 0, "cancelled") before
 * this returns. */
void kube_request_cancel(struct kube_request *r);

/*
 * Wait up to timeout_ms for network activity or readiness of one of the
 * extra fds (each polled for input; revents written back into fds), drive
 * transfers and call finished requests' callbacks. Returns 0, or -1 on a
 * libcurl failure. Returns early when kube_client_wakeup() is called.
 */
struct kube_pollfd {
	int fd;
	short events;   /* POLLIN etc. */
	short revents;  /* set on return */
};
int kube_client_run_once(struct kube_client *c, struct kube_pollfd *fds, size_t nfds, int timeout_ms);

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
		       const char *body, size_t body_len, const char *content_type, char **resp_body,
		       char *err, size_t errlen);

/* Percent-escape s for a URL query value or path segment. Caller frees. */
char *kube_escape(const char *s);

/* Counts of API requests by verb/resource/code, for metrics: called after
 * every request that got an HTTP answer. May be NULL. */
typedef void (*kube_observe_cb)(void *ud, const char *verb, const char *resource, long code);
void kube_client_set_observer(struct kube_client *c, kube_observe_cb cb, void *ud);

/* libcurl's version string, for `csr-approver version`. */
const char *kube_library_version(void);

#endif
