/*
 * Private to the kube module: helpers shared by its source files. Not part
 * of the API (that is kube.h).
 */
#ifndef CSR_APPROVER_KUBE_INT_H
#define CSR_APPROVER_KUBE_INT_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../util/util.h"
#include "kube.h"

struct pollfd;

#define KUBE_CONNECT_TIMEOUT_MS 10000L
#define KUBE_DEFAULT_TIMEOUT_MS 30000L
/* Longest excerpt of a body that is not a Status, in an error message. */
#define KUBE_EXCERPT 200
/* HTTP/2: connections at most, the one in use and one to take over from it
 * (after a GOAWAY, or when a new CA bundle needs a new handshake while the
 * old connection still carries watches). */
#define KUBE_H2_MAX_CONNS 2
/* HTTP/2: streams libcurl puts on one connection; requests in flight plus
 * watches stay below it, so that a burst never needs a second connection. */
#define KUBE_H2_MAX_STREAMS 100
/* HTTP/1.1: requests (not watches) in flight at most, each on its own
 * connection; every watch holds one more. */
#define KUBE_H1_REQUEST_CONNS 4
/* Easy handles kept for the next requests. */
#define KUBE_SPARE_HANDLES 16
/* A deferred request that has waited this long (ms) goes before the other
 * waiting requests: under a backlog that never clears, Events are late,
 * not held without end. Longer than a burst of thousands of CSRs takes to
 * decide (5,000 in 12 s on two cores), so that their Events follow the
 * burst instead of taking the API server's time from it; in a cluster
 * that is not in such a burst they go at once, in the gaps between other
 * requests. */
#define KUBE_DEFER_MAX_MS 30000
/* While other requests are in flight or waiting, deferred requests that
 * waited KUBE_DEFER_MAX_MS hold at most one slot in KUBE_DEFER_TRICKLE_DIV:
 * they trickle out, and the rest follow when the other requests are done. */
#define KUBE_DEFER_TRICKLE_DIV 8
/* libcurl's receive buffer for a LIST page (its largest, CURL_MAX_READ_SIZE). */
#define KUBE_LIST_BUFFER (512L * 1024)

/* What the API server was last seen to speak. */
enum kube_proto { KUBE_PROTO_UNKNOWN, KUBE_PROTO_H1, KUBE_PROTO_H2 };

/* Requests waiting for a slot, oldest first. */
struct kube_fifo {
	struct kube_request *head, *tail;
};

/* A header list several requests share (the token changes once a minute
 * at most; the list is built again then). Holds the Authorization header:
 * wiped when the last reference goes. */
struct kube_hdrs {
	unsigned refs;
	struct curl_slist *list;
};

struct kube_request {
	struct kube_client *c;
	struct kube_request *prev, *next; /* every live request */
	struct kube_request *qnext; /* kube_fifo link while queued */
	struct kube_request *znext; /* zombie list link */
	CURL *easy;
	unsigned easy_gen; /* c->handle_gen when the handle was set up */
	struct curl_slist *headers; /* own list (an unusual Content-Type), or NULL */
	struct kube_hdrs *hdrs; /* a shared list (one reference), or NULL */
	char *method;
	char *path;
	char *url;
	char *body; /* owned copy of the request body, or NULL */
	size_t body_len;
	char *content_type;
	kube_done_cb done_cb;
	kube_data_cb data_cb;
	void *ud;
	struct util_buf resp; /* body, or the error body of a stream */
	long stream_status; /* streaming: HTTP status seen at the first body bytes */
	bool observed; /* this attempt is counted already (a stream, when it started) */
	bool streaming;
	bool deferred; /* waits behind other requests (kube_request_start_deferred) */
	bool urgent; /* waits behind none (kube_request_start_urgent): admitted as a stream */
	int64_t queued_at; /* monotonic ms: when a deferred request began to wait */
	bool queued; /* waiting in a kube_fifo for a slot */
	bool admitted; /* holds a slot (counted in plain_admitted/streams_admitted) */
	/* Streams and urgent requests are counted in streams_admitted. */
	bool in_multi; /* added to the multi handle */
	bool finishing; /* done_cb running or run */
	bool zombie; /* finished; to be freed */
	bool aborted; /* data_cb returned -1 */
	bool too_big;
	bool retried_auth;
	bool retried_ca;
	bool h1_stream; /* a stream running over HTTP/1.1 (counted in h1_streams) */
	bool list_buffer; /* a LIST: its handle has KUBE_LIST_BUFFER, not kept as a spare */
	bool waiting; /* detached until retry_at: the server asked to retry later */
	bool gated; /* the write gate kept it from going out */
	unsigned int retries_after; /* attempts sent again after a Retry-After */
	int64_t retry_at; /* monotonic ms */
	char verb[16];
	char resource[160];
	char errbuf[CURL_ERROR_SIZE];
};

struct kube_client {
	CURLM *multi;
	const struct kube_config *cfg; /* borrowed */
	char *ca_pem; /* owned copy: replaced when the CA file changes */
	size_t ca_len;
	struct kube_token_source *ts;
	long timeout_ms;
	struct kube_request *reqs; /* every live request, zombies included */
	struct kube_request *zombies; /* finished inside a transfer step */
	struct kube_fifo wait_plain; /* requests waiting for a slot, in order */
	struct kube_fifo wait_stream; /* streams and urgent requests waiting for the protocol */
	struct kube_fifo wait_deferred; /* deferred requests waiting for a slot, in order */
	size_t live; /* requests neither finishing nor finished */
	size_t plain_admitted; /* requests (not streams) holding a slot */
	size_t streams_admitted;
	size_t deferred_admitted; /* of plain_admitted, the deferred ones */
	size_t h1_streams; /* admitted streams running over HTTP/1.1 */
	size_t max_in_flight; /* cap on plain_admitted over HTTP/2 */
	bool log_protocol_info; /* the protocol line at info, not debug */
	size_t n_waiting; /* requests parked after a Retry-After */
	long conn_cap; /* CURLMOPT_MAX_HOST_CONNECTIONS as last set */
	enum kube_http_version http; /* what to offer */
	enum kube_proto proto; /* what was negotiated last */
	CURL *spare[KUBE_SPARE_HANDLES]; /* set-up easy handles to reuse */
	size_t n_spare;
	unsigned handle_gen; /* bumped when the CA changes: older handles are dropped */
	bool in_perform; /* inside a transfer step: libcurl callbacks may run */
	/* libcurl's sockets and timer (multi_socket API: told which socket is
	 * ready; libcurl 7.88 still polls the socket once for each other
	 * transfer on it, hence the read coalescing). */
	struct kube_sock {
		curl_socket_t fd;
		int what; /* CURL_POLL_IN, _OUT or _INOUT */
	} * socks;
	size_t n_socks, cap_socks;
	int64_t timer_due_ms; /* util_now_ms() when libcurl wants its timeout; -1: none */
	int wake_fd; /* eventfd that kube_client_wakeup() writes */
	struct pollfd *pfds; /* kube_client_run_once()'s poll set, kept between calls */
	size_t cap_pfds;
	int64_t coalesce_ms; /* read coalescing window; 0: off */
	int64_t last_sock_step_ms; /* util_now_ms() of the last socket step; 0: none */
	bool in_dispatch; /* draining finished transfers */
	bool admitting; /* inside kube_client_admit() */
	bool closing;
	kube_observe_cb observe;
	void *observe_ud;
	kube_conn_cb conn_cb;
	void *conn_ud;
	kube_gate_cb gate_cb;
	void *gate_ud;
	uint64_t conns_opened;
	char *user_agent;
	struct kube_hdrs *hdrs[2]; /* shared header lists: [0] no body, [1] a JSON body */
	char *hdr_token; /* the token hdrs were built with, or NULL (wiped on free) */
};

/* ---- kuberequest.c: one attempt's easy handle ---- */

/* Give r an easy handle (a spare one or a new one) set up for its method,
 * URL, body and the current token. Returns 0, or -1 with err. */
int kube_request_setup(struct kube_request *r, char *err, size_t errlen);
/* Take r's easy handle out of the multi handle and keep it as a spare (or
 * free it). */
void kube_request_detach(struct kube_request *r);
/* Free the spare handles and cached header lists (at client free, and
 * after a CA change for the handles). */
void kube_client_drop_spares(struct kube_client *c);
void kube_client_drop_headers(struct kube_client *c);

/* ---- kubeclient.c ---- */

/* Note the protocol easy's connection speaks (log it when it changes, and
 * let the caps follow it); returns it (UNKNOWN: no connection). Safe inside
 * a transfer step. */
enum kube_proto kube_client_note_proto(struct kube_client *c, CURL *easy);

/* ---- kubeclassify.c ---- */

/* A printable excerpt of a body that is not a Status, into out. */
void kube_excerpt(const char *body, size_t len, long status, char *out, size_t outlen);

/*
 * Read a whole file of at most max bytes into a NUL-terminated buffer the
 * caller frees with kube_wipe_free(*out, *outlen). regular_only refuses
 * anything but a regular file (no FIFO or device can block or flood the
 * reader). Errors are "PATH: why". Partial reads are wiped. Returns 0 or -1.
 */
int kube_read_file(const char *path, bool regular_only, size_t max, char **out, size_t *outlen,
                   char *err, size_t errlen);

/* Wipe n bytes of p (NULL does nothing), then free it. */
void kube_wipe_free(void *p, size_t n);

/* Wipe and free a NUL-terminated string (NULL does nothing). */
void kube_wipe_str(char *s);

/*
 * Turn the contents of a token file or a token value into a token that can
 * be sent in a header: surrounding whitespace trimmed, then every byte must
 * be printable ASCII without spaces. Returns a new string (caller frees with
 * kube_wipe_str()), or NULL with the reason in err.
 */
char *kube_token_clean(const char *s, size_t len, char *err, size_t errlen);

/* ---- kubeclient.c: what the loop (kubeloop.c) calls after each step ---- */

/* How long a wait may last (ms, at most timeout_ms) before a request
 * parked after a Retry-After is due. */
int kube_client_retry_wait(const struct kube_client *c, int timeout_ms);
/* Start the parked requests that are due. */
void kube_client_retry_due(struct kube_client *c);
/* Settle the requests that finished inside the step (zombies). */
void kube_client_sweep(struct kube_client *c);
/* Call the callbacks of finished transfers. */
void kube_client_dispatch(struct kube_client *c);
/* Give waiting requests the slots that are free. */
void kube_client_admit(struct kube_client *c);

/* ---- kubeloop.c: libcurl's socket and timer callbacks (userp: the client) ---- */

int kube_socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp);
int kube_timer_cb(CURLM *multi, long timeout_ms, void *userp);

#endif
