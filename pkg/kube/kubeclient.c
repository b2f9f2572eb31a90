/*
 * kube: the transfer loop. libcurl multi, driven by kube_client_run_once();
 * requests wait for a slot in order (kube_client_admit()), finished
 * transfers are drained in one place (kube_client_dispatch()).
 *
 * libcurl forbids adding or removing handles from inside its callbacks,
 * yet owners start requests from informer callbacks, which run inside a
 * transfer step (curl_multi_socket_action()). So while a step runs, new
 * requests only queue and finished ones are kept as zombies; both are
 * settled right after the step (kube_client_sweep(), kube_client_admit()).
 *
 * The wait itself and libcurl's sockets and timer are in kubeloop.c.
 *
 * Slots: over HTTP/2 every transfer is a stream of one connection, and
 * requests in flight are capped (max_in_flight) so that a burst of writes
 * neither floods the API server nor needs a second connection. Over
 * HTTP/1.1 each transfer holds a connection: requests get
 * KUBE_H1_REQUEST_CONNS slots, watches are admitted at once, and libcurl's
 * connection cap is kept at watches + request slots, so that it can never
 * hold a request behind watches that do not end. Until an answer tells
 * which protocol the server speaks, one transfer runs at a time: the
 * first connection is made alone, and the rest know whether to share it.
 */
#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "../log/log.h"
#include "../util/util.h"
#include "kube.h"
#include "kube_int.h"

#ifndef CSR_APPROVER_VERSION
#define CSR_APPROVER_VERSION "dev"
#endif

static pthread_once_t kube_curl_once = PTHREAD_ONCE_INIT;
static CURLcode kube_curl_init_rc;

static void kube_curl_init(void)
{
	kube_curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* ---- queues and slots ---- */

static void kube_fifo_push(struct kube_fifo *q, struct kube_request *r)
{
	r->qnext = NULL;
	if (q->tail != NULL)
		q->tail->qnext = r;
	else
		q->head = r;
	q->tail = r;
	r->queued = true;
}

static struct kube_request *kube_fifo_pop(struct kube_fifo *q)
{
	struct kube_request *r = q->head;

	if (r == NULL)
		return NULL;
	q->head = r->qnext;
	if (q->head == NULL)
		q->tail = NULL;
	r->qnext = NULL;
	r->queued = false;
	return r;
}

/* Only a cancelled request leaves from the middle: a walk is fine. */
static void kube_fifo_remove(struct kube_fifo *q, struct kube_request *r)
{
	struct kube_request *prev = NULL;

	for (struct kube_request *p = q->head; p != NULL; prev = p, p = p->qnext) {
		if (p != r)
			continue;
		if (prev != NULL)
			prev->qnext = r->qnext;
		else
			q->head = r->qnext;
		if (q->tail == r)
			q->tail = prev;
		break;
	}
	r->qnext = NULL;
	r->queued = false;
}

/* Is r admitted as a watch is: never behind the cap once the protocol is
 * known, counted in streams_admitted? Streams, and urgent requests. */
static bool kube_request_as_stream(const struct kube_request *r)
{
	return r->streaming || r->urgent;
}

/* The queue r waits in. */
static struct kube_fifo *kube_request_queue(struct kube_client *c, const struct kube_request *r)
{
	if (kube_request_as_stream(r))
		return &c->wait_stream;
	return r->deferred ? &c->wait_deferred : &c->wait_plain;
}

static size_t kube_client_plain_cap(const struct kube_client *c)
{
	if (c->proto == KUBE_PROTO_H2)
		return c->max_in_flight;
	return c->max_in_flight < KUBE_H1_REQUEST_CONNS ? c->max_in_flight : KUBE_H1_REQUEST_CONNS;
}

/* libcurl's connection cap follows the slots: HTTP/2 needs
 * KUBE_H2_MAX_CONNS, plus one per watch still running over HTTP/1.1 (the
 * server spoke it before); HTTP/1.1 one per watch and one per request
 * slot. Called outside transfer steps only. */
static void kube_client_set_conn_cap(struct kube_client *c)
{
	long cap;

	if (c->proto == KUBE_PROTO_H1)
		cap = (long)(c->streams_admitted + kube_client_plain_cap(c));
	else
		cap = KUBE_H2_MAX_CONNS + (long)c->h1_streams;
	if (cap == c->conn_cap)
		return;
	curl_multi_setopt(c->multi, CURLMOPT_MAX_HOST_CONNECTIONS, cap);
	curl_multi_setopt(c->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, cap);
	c->conn_cap = cap;
}

/* Are requests other than deferred ones in flight or waiting? */
static bool kube_client_others_busy(const struct kube_client *c)
{
	return c->plain_admitted > c->deferred_admitted || c->wait_plain.head != NULL;
}

/* May r take a slot now? */
static bool kube_client_slot_free(const struct kube_client *c, const struct kube_request *r)
{
	if (c->proto == KUBE_PROTO_UNKNOWN)
		return c->plain_admitted + c->streams_admitted == 0;
	if (kube_request_as_stream(r))
		return true;
	size_t cap = kube_client_plain_cap(c);
	/* Deferred requests never hold more than half the slots, so that what
	 * comes after them finds room; while other requests run or wait, no
	 * more than one slot in KUBE_DEFER_TRICKLE_DIV. */
	if (r->deferred) {
		size_t most = kube_client_others_busy(c) ? cap / KUBE_DEFER_TRICKLE_DIV : cap / 2;
		if (c->deferred_admitted >= (most > 1 ? most : 1))
			return false;
	}
	return c->plain_admitted < cap;
}

static void kube_request_take_slot(struct kube_request *r)
{
	struct kube_client *c = r->c;

	r->admitted = true;
	if (kube_request_as_stream(r))
		c->streams_admitted++;
	else
		c->plain_admitted++;
	if (r->deferred)
		c->deferred_admitted++;
	kube_client_set_conn_cap(c);
}

static void kube_request_release_slot(struct kube_request *r)
{
	struct kube_client *c = r->c;

	if (!r->admitted)
		return;
	r->admitted = false;
	if (kube_request_as_stream(r))
		c->streams_admitted--;
	else
		c->plain_admitted--;
	if (r->deferred)
		c->deferred_admitted--;
	if (r->h1_stream) {
		r->h1_stream = false;
		c->h1_streams--;
	}
	if (c->in_perform) {
		return;
	}
	kube_client_set_conn_cap(c);
	kube_client_admit(c);
}

enum kube_proto kube_client_note_proto(struct kube_client *c, CURL *easy)
{
	long v = 0;
	enum kube_proto p;

	curl_easy_getinfo(easy, CURLINFO_HTTP_VERSION, &v);
	if (v == CURL_HTTP_VERSION_2_0)
		p = KUBE_PROTO_H2;
	else if (v == CURL_HTTP_VERSION_1_1 || v == CURL_HTTP_VERSION_1_0)
		p = KUBE_PROTO_H1;
	else
		return KUBE_PROTO_UNKNOWN;
	if (p == c->proto)
		return p;
	if (c->proto == KUBE_PROTO_UNKNOWN && c->log_protocol_info)
		log_info("API server connection", "server", c->cfg->server, "protocol",
		         p == KUBE_PROTO_H2 ? "HTTP/2" : "HTTP/1.1");
	else if (c->proto == KUBE_PROTO_UNKNOWN)
		log_debug("API server connection", "server", c->cfg->server, "protocol",
		          p == KUBE_PROTO_H2 ? "HTTP/2" : "HTTP/1.1");
	else
		log_warn("API server protocol changed", "server", c->cfg->server, "protocol",
		         p == KUBE_PROTO_H2 ? "HTTP/2" : "HTTP/1.1");
	c->proto = p;
	return p;
}

const char *kube_client_protocol(const struct kube_client *c)
{
	return c->proto == KUBE_PROTO_H2 ? "HTTP/2" : c->proto == KUBE_PROTO_H1 ? "HTTP/1.1" : "";
}

/* ---- requests ---- */

static void kube_request_destroy(struct kube_request *r)
{
	struct kube_client *c = r->c;

	if (r->queued)
		kube_fifo_remove(kube_request_queue(c, r), r);
	kube_request_detach(r);
	if (r->prev != NULL)
		r->prev->next = r->next;
	else
		c->reqs = r->next;
	if (r->next != NULL)
		r->next->prev = r->prev;
	util_buf_reset(&r->resp);
	free(r->method);
	free(r->path);
	free(r->url);
	free(r->body);
	free(r->content_type);
	/* Last: it may start the next request, which must not find r. */
	kube_request_release_slot(r);
	free(r);
}

/* Hand the handle to libcurl (outside transfer steps only): every send,
 * first or again, comes through here, and so past the write gate. */
static int kube_request_submit(struct kube_request *r, char *err, size_t errlen)
{
	struct kube_client *c = r->c;
	if (c->gate_cb != NULL && strcmp(r->method, "GET") != 0 &&
	    !c->gate_cb(c->gate_ud, r->method, r->path)) {
		r->gated = true;
		snprintf(err, errlen, "not sent: the write gate is closed");
		return -1;
	}
	CURLMcode mc = curl_multi_add_handle(c->multi, r->easy);

	if (mc != CURLM_OK) {
		snprintf(err, errlen, "curl_multi_add_handle: %s", curl_multi_strerror(mc));
		return -1;
	}
	r->in_multi = true;
	return 0;
}

/* Run done_cb once, then free the request (or leave it to the sweep). */
static void kube_request_finish(struct kube_request *r, long status, const char *error,
                                const char *reason)
{
	struct kube_client *c = r->c;
	bool stream_ok = r->streaming && status >= 200 && status < 300;
	if (r->gated && (reason == NULL || reason[0] == '\0'))
		reason = KUBE_REASON_NOT_SENT;
	struct kube_response resp = {
	    .status = status,
	    .body = stream_ok ? "" : util_buf_str(&r->resp),
	    .body_len = stream_ok ? 0 : r->resp.len,
	    .error = error ? error : "",
	    .reason = reason ? reason : "",
	};

	if (r->queued)
		kube_fifo_remove(kube_request_queue(c, r), r);
	if (r->waiting) { /* cancelled while parked */
		r->waiting = false;
		c->n_waiting--;
	}
	r->finishing = true;
	c->live--;
	if (r->done_cb != NULL)
		r->done_cb(r->ud, &resp);
	r->zombie = true;
	if (c->in_perform) {
		r->znext = c->zombies;
		c->zombies = r;
		return;
	}
	kube_request_destroy(r);
}

/* Start queued requests while there are slots: streams first (they never
 * wait behind requests once the protocol is known), then requests in the
 * order they came, then deferred requests when no other request is in
 * flight or waits (or once the first has waited KUBE_DEFER_MAX_MS: it goes
 * before the others, in the few slots kube_client_slot_free() leaves it).
 * In a burst the API server's time goes to the decisions; the Events
 * follow them. */
void kube_client_admit(struct kube_client *c)
{
	char err[256];

	if (c->admitting || c->closing || c->in_perform)
		return;
	c->admitting = true;
	kube_client_set_conn_cap(c);
	int64_t now = util_now_ms();
	for (;;) {
		struct kube_fifo *q = NULL;
		const struct kube_request *d = c->wait_deferred.head;
		if (c->wait_stream.head != NULL && kube_client_slot_free(c, c->wait_stream.head))
			q = &c->wait_stream;
		else if (d != NULL && now - d->queued_at >= KUBE_DEFER_MAX_MS &&
		         kube_client_slot_free(c, d))
			q = &c->wait_deferred;
		else if (c->wait_plain.head != NULL && kube_client_slot_free(c, c->wait_plain.head))
			q = &c->wait_plain;
		else if (d != NULL && !kube_client_others_busy(c) && kube_client_slot_free(c, d))
			q = &c->wait_deferred;
		if (q == NULL)
			break;
		struct kube_request *r = kube_fifo_pop(q);
		kube_request_take_slot(r);
		if (kube_request_setup(r, err, sizeof(err)) != 0 ||
		    kube_request_submit(r, err, sizeof(err)) != 0)
			kube_request_finish(r, 0, err, "");
	}
	c->admitting = false;
}

/* Drop the attempt that ended, to make another (in the same slot). */
static void kube_request_reset(struct kube_request *r)
{
	kube_request_detach(r);
	util_buf_reset(&r->resp);
	r->stream_status = 0;
	r->observed = false;
	r->aborted = false;
	r->too_big = false;
	r->errbuf[0] = '\0';
}

/* A new attempt of the same request (after a 401 or a CA change), in the
 * same slot. */
static void kube_request_retry(struct kube_request *r)
{
	char err[256];

	kube_request_reset(r);
	if (kube_request_setup(r, err, sizeof(err)) != 0 ||
	    kube_request_submit(r, err, sizeof(err)) != 0)
		kube_request_finish(r, 0, err, "");
}

static bool kube_client_reload_ca(struct kube_client *c)
{
	char *buf = NULL;
	size_t len = 0;
	char err[512];

	if (c->cfg->ca_file == NULL)
		return false;
	if (kube_read_file(c->cfg->ca_file, true, KUBE_MAX_FILE, &buf, &len, err, sizeof(err)) !=
	    0) {
		log_warn("could not re-read the CA bundle", "error", err);
		return false;
	}
	if (len == 0 ||
	    (len == c->ca_len && c->ca_pem != NULL && memcmp(buf, c->ca_pem, len) == 0)) {
		free(buf);
		return false;
	}
	free(c->ca_pem);
	c->ca_pem = buf;
	c->ca_len = len;
	/* Spare handles hold the old CA. */
	c->handle_gen++;
	kube_client_drop_spares(c);
	log_info("CA bundle changed on disk; reloaded it", "file", c->cfg->ca_file);
	return true;
}

/* A 429 or 5xx with Retry-After: park the request, keeping its slot, so
 * that nothing more is sent in its place while the server asks to wait;
 * kube_client_run_once() sends it again when it is due. The header is read
 * before the handle goes back to the spares. Returns true when parked. */
static bool kube_request_retry_later(struct kube_request *r, long status)
{
	struct curl_header *h = NULL;
	int64_t delay = 0;
	char code[24], ms[24], n[24];

	if (curl_easy_header(r->easy, "Retry-After", 0, CURLH_HEADER, -1, &h) != CURLHE_OK ||
	    h == NULL || h->value == NULL)
		return false;
	if (!kube_retry_after_delay(status, h->value, strlen(h->value), r->retries_after, &delay))
		return false;
	r->retries_after++;
	snprintf(code, sizeof(code), "%ld", status);
	snprintf(ms, sizeof(ms), "%" PRId64, delay);
	snprintf(n, sizeof(n), "%u", r->retries_after);
	log_info("API server asked to retry later; waiting as asked", "verb", r->verb, "path",
	         r->path, "code", code, "retry_after_ms", ms, "attempt", n);
	kube_request_reset(r);
	r->waiting = true;
	r->c->n_waiting++;
	r->retry_at = util_now_ms() + delay;
	return true;
}

static void kube_request_complete(struct kube_request *r, CURLcode res)
{
	struct kube_client *c = r->c;
	long status = 0;
	char error[1024] = "";
	char reason[128] = "";
	char code[24];

	curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
	/* Every attempt counts once, with code 0 when no HTTP answer came
	 * (refused, timed out, TLS failure); a stream counted when it started
	 * is not counted again. */
	if (!r->observed && c->observe != NULL)
		c->observe(c->observe_ud, r->verb, r->resource, status);
	r->observed = true;
	if (log_get_level() >= LOG_DEBUG) {
		snprintf(code, sizeof(code), "%ld", status);
		log_debug("api request", "verb", r->verb, "path", r->path, "code", code, "result",
		          curl_easy_strerror(res));
	}

	/* An error answer whose body was cut short is still the answer: over
	 * HTTP/2 the API server resets the stream of a request it refuses
	 * (401 above all) without reading its body, and libcurl then reports
	 * the transfer as partial. */
	if ((res == CURLE_PARTIAL_FILE || res == CURLE_HTTP2_STREAM || res == CURLE_HTTP2 ||
	     res == CURLE_RECV_ERROR || res == CURLE_SEND_ERROR) &&
	    status >= 400 && !r->streaming && !r->aborted && !r->too_big)
		res = CURLE_OK;
	if (res != CURLE_OK) {
		if (r->aborted) {
			snprintf(error, sizeof(error), "aborted");
		} else if (r->too_big || res == CURLE_FILESIZE_EXCEEDED) {
			snprintf(error, sizeof(error), "response body larger than %d bytes",
			         KUBE_MAX_BODY);
		} else if ((res == CURLE_PEER_FAILED_VERIFICATION ||
		            res == CURLE_SSL_CACERT_BADFILE) &&
		           !r->retried_ca && kube_client_reload_ca(c)) {
			r->retried_ca = true;
			kube_request_retry(r);
			return;
		} else {
			snprintf(error, sizeof(error), "%s",
			         r->errbuf[0] ? r->errbuf : curl_easy_strerror(res));
		}
		kube_request_finish(r, 0, error, "");
		return;
	}
	if (status == 401 && !r->retried_auth && kube_token_source_invalidate(c->ts)) {
		r->retried_auth = true;
		log_info("API server answered 401; re-reading the token file and retrying once",
		         "file", c->cfg->token_file);
		kube_request_retry(r);
		return;
	}
	if (kube_request_retry_later(r, status))
		return;
	if (status >= 400) {
		const char *b = util_buf_str(&r->resp);
		if (kube_status_parse(b, r->resp.len, error, sizeof(error), reason, sizeof(reason),
		                      NULL, NULL) != 0 ||
		    error[0] == '\0')
			kube_excerpt(b, r->resp.len, status, error, sizeof(error));
	}
	kube_request_finish(r, status, error, reason);
}

/* How long kube_client_run_once() may wait before a parked request is due. */
int kube_client_retry_wait(const struct kube_client *c, int timeout_ms)
{
	int64_t now = util_now_ms();

	if (c->n_waiting == 0)
		return timeout_ms;
	for (const struct kube_request *r = c->reqs; r != NULL; r = r->next) {
		if (!r->waiting || r->zombie || r->finishing)
			continue;
		int64_t left = r->retry_at > now ? r->retry_at - now : 0;
		if (left < timeout_ms)
			timeout_ms = (int)left;
	}
	return timeout_ms;
}

/* Send again the parked requests that are due. A failure to start ends the
 * request, whose done_cb may cancel others: the walk starts over each time. */
void kube_client_retry_due(struct kube_client *c)
{
	char err[256];

	while (c->n_waiting > 0) {
		int64_t now = util_now_ms();
		struct kube_request *r = c->reqs;
		while (r != NULL &&
		       !(r->waiting && !r->zombie && !r->finishing && r->retry_at <= now))
			r = r->next;
		if (r == NULL)
			return;
		r->waiting = false;
		c->n_waiting--;
		if (kube_request_setup(r, err, sizeof(err)) != 0 ||
		    kube_request_submit(r, err, sizeof(err)) != 0)
			kube_request_finish(r, 0, err, "");
	}
}

/* Free what finished inside the transfer step. */
void kube_client_sweep(struct kube_client *c)
{
	while (c->zombies != NULL) {
		struct kube_request *r = c->zombies;
		c->zombies = r->znext;
		kube_request_destroy(r);
	}
}

/* The one place that drains finished transfers. */
void kube_client_dispatch(struct kube_client *c)
{
	CURLMsg *msg;
	int left;

	c->in_dispatch = true;
	while ((msg = curl_multi_info_read(c->multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		CURL *e = msg->easy_handle;
		CURLcode res = msg->data.result;
		struct kube_request *r = NULL;
		curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&r);
		if (r == NULL || r->zombie || r->finishing)
			continue;
		kube_request_complete(r, res);
	}
	c->in_dispatch = false;
}

/* ---- client ---- */

struct kube_client *kube_client_new(const struct kube_config *cfg, char *err, size_t errlen)
{
	struct kube_client *c = NULL;

	pthread_once(&kube_curl_once, kube_curl_init);
	if (kube_curl_init_rc != CURLE_OK) {
		snprintf(err, errlen, "curl_global_init: %s",
		         curl_easy_strerror(kube_curl_init_rc));
		return NULL;
	}
	if (cfg == NULL || cfg->server == NULL) {
		snprintf(err, errlen, "no API server configured");
		return NULL;
	}
	c = util_xcalloc(1, sizeof(*c));
	c->multi = curl_multi_init();
	if (c->multi == NULL) {
		snprintf(err, errlen, "curl_multi_init failed");
		free(c);
		return NULL;
	}
	c->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (c->wake_fd < 0) {
		snprintf(err, errlen, "eventfd: %s", strerror(errno));
		curl_multi_cleanup(c->multi);
		free(c);
		return NULL;
	}
	c->timer_due_ms = -1;
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, kube_socket_cb);
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, kube_timer_cb);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
	curl_multi_setopt(c->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
	curl_multi_setopt(c->multi, CURLMOPT_MAX_CONCURRENT_STREAMS, (long)KUBE_H2_MAX_STREAMS);
	c->cfg = cfg;
	if (cfg->ca_pem != NULL) {
		c->ca_pem = util_xstrndup(cfg->ca_pem, cfg->ca_len);
		c->ca_len = cfg->ca_len;
	}
	c->ts = kube_token_source_new(cfg->token, cfg->token_file);
	c->timeout_ms = KUBE_DEFAULT_TIMEOUT_MS;
	c->max_in_flight = KUBE_DEFAULT_MAX_IN_FLIGHT;
	c->coalesce_ms = KUBE_DEFAULT_READ_COALESCE_MS;
	c->user_agent = util_xstrdup("csr-approver/" CSR_APPROVER_VERSION);
	kube_client_set_conn_cap(c);
	return c;
}

void kube_client_free(struct kube_client *c)
{
	if (c == NULL)
		return;
	c->closing = true;
	/* done_cb of one request may cancel others: restart the walk. */
	for (;;) {
		struct kube_request *r = c->reqs;
		while (r != NULL && (r->zombie || r->finishing))
			r = r->next;
		if (r == NULL)
			break;
		kube_request_cancel(r);
	}
	while (c->reqs != NULL)
		kube_request_destroy(c->reqs);
	kube_client_drop_spares(c);
	kube_client_drop_headers(c);
	curl_multi_cleanup(c->multi);
	free(c->socks);
	free(c->pfds);
	close(c->wake_fd);
	kube_token_source_free(c->ts);
	free(c->ca_pem);
	free(c->user_agent);
	free(c);
}

void kube_client_set_timeout_ms(struct kube_client *c, long ms)
{
	c->timeout_ms = ms > 0 ? ms : KUBE_DEFAULT_TIMEOUT_MS;
}

void kube_client_set_log_protocol(struct kube_client *c, bool info)
{
	c->log_protocol_info = info;
}

void kube_client_set_max_in_flight(struct kube_client *c, size_t n)
{
	c->max_in_flight = n == 0        ? KUBE_DEFAULT_MAX_IN_FLIGHT
	    : n > KUBE_MAX_MAX_IN_FLIGHT ? KUBE_MAX_MAX_IN_FLIGHT
	                                 : n;
	kube_client_admit(c);
}

void kube_client_set_read_coalescing(struct kube_client *c, int64_t ms)
{
	c->coalesce_ms = ms < 0              ? 0
	    : ms > KUBE_MAX_READ_COALESCE_MS ? KUBE_MAX_READ_COALESCE_MS
	                                     : ms;
}

void kube_client_set_http_version(struct kube_client *c, enum kube_http_version v)
{
	c->http = v;
	/* Handles set up for the other choice must not be reused. */
	c->handle_gen++;
	kube_client_drop_spares(c);
}

void kube_client_set_observer(struct kube_client *c, kube_observe_cb cb, void *ud)
{
	c->observe = cb;
	c->observe_ud = ud;
}

void kube_client_set_conn_observer(struct kube_client *c, kube_conn_cb cb, void *ud)
{
	c->conn_cb = cb;
	c->conn_ud = ud;
}

void kube_client_set_write_gate(struct kube_client *c, kube_gate_cb cb, void *ud)
{
	c->gate_cb = cb;
	c->gate_ud = ud;
}

uint64_t kube_client_connections_opened(const struct kube_client *c)
{
	return c->conns_opened;
}

size_t kube_client_active(const struct kube_client *c)
{
	return c->live;
}

static bool kube_method_ok(const char *m)
{
	if (m == NULL || m[0] == '\0' || strlen(m) > 15)
		return false;
	for (const char *p = m; *p; p++)
		if (*p < 'A' || *p > 'Z')
			return false;
	return true;
}

/* How a request waits for a slot. */
enum kube_wait { KUBE_WAIT_IN_ORDER, KUBE_WAIT_DEFERRED, KUBE_WAIT_NONE };

static struct kube_request *kube_request_start_in(struct kube_client *c, const char *method,
                                                  const char *path, const char *body,
                                                  size_t body_len, const char *content_type,
                                                  kube_done_cb done_cb, kube_data_cb data_cb,
                                                  void *ud, enum kube_wait wait)
{
	struct kube_request *r = NULL;
	char err[256];

	if (c->closing) {
		log_warn("API request refused: client is closing", "path", path);
		return NULL;
	}
	if (!kube_method_ok(method) || path == NULL || path[0] != '/' || body_len > KUBE_MAX_BODY) {
		log_error("API request refused: bad method, path or body size", "method", method,
		          "path", path);
		return NULL;
	}
	for (const char *p = path; *p; p++) {
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f) {
			log_error("API request refused: unescaped character in path", "path", path);
			return NULL;
		}
	}
	r = util_xcalloc(1, sizeof(*r));
	r->c = c;
	r->method = util_xstrdup(method);
	r->path = util_xstrdup(path);
	r->url = util_xasprintf("%s%s", c->cfg->server, path);
	if (body != NULL) {
		r->body = util_xmalloc(body_len + 1);
		memcpy(r->body, body, body_len);
		r->body[body_len] = '\0';
		r->body_len = body_len;
		r->content_type = util_xstrdup(content_type ? content_type : "application/json");
	}
	r->done_cb = done_cb;
	r->data_cb = data_cb;
	r->ud = ud;
	r->streaming = data_cb != NULL;
	r->deferred = wait == KUBE_WAIT_DEFERRED && !r->streaming;
	r->urgent = wait == KUBE_WAIT_NONE && !r->streaming;
	kube_classify(method, path, r->verb, sizeof(r->verb), r->resource, sizeof(r->resource));

	r->next = c->reqs;
	if (c->reqs != NULL)
		c->reqs->prev = r;
	c->reqs = r;
	struct kube_fifo *q = kube_request_queue(c, r);
	if (c->in_perform || q->head != NULL || (r->deferred && kube_client_others_busy(c)) ||
	    !kube_client_slot_free(c, r)) {
		/* Started by kube_client_admit(), in order. */
		r->queued_at = util_now_ms();
		kube_fifo_push(q, r);
		c->live++;
		return r;
	}
	kube_request_take_slot(r);
	if (kube_request_setup(r, err, sizeof(err)) != 0 ||
	    kube_request_submit(r, err, sizeof(err)) != 0) {
		if (r->gated)
			log_warn("API request not sent: the write gate is closed", "method", method,
			         "path", path);
		else
			log_error("API request could not start", "path", path, "error", err);
		kube_request_destroy(r);
		return NULL;
	}
	c->live++;
	return r;
}

struct kube_request *kube_request_start(struct kube_client *c, const char *method, const char *path,
                                        const char *body, size_t body_len, const char *content_type,
                                        kube_done_cb done_cb, kube_data_cb data_cb, void *ud)
{
	return kube_request_start_in(c, method, path, body, body_len, content_type, done_cb,
	                             data_cb, ud, KUBE_WAIT_IN_ORDER);
}

struct kube_request *kube_request_start_deferred(struct kube_client *c, const char *method,
                                                 const char *path, const char *body,
                                                 size_t body_len, const char *content_type,
                                                 kube_done_cb done_cb, void *ud)
{
	return kube_request_start_in(c, method, path, body, body_len, content_type, done_cb, NULL,
	                             ud, KUBE_WAIT_DEFERRED);
}

struct kube_request *kube_request_start_urgent(struct kube_client *c, const char *method,
                                               const char *path, const char *body, size_t body_len,
                                               const char *content_type, kube_done_cb done_cb,
                                               void *ud)
{
	return kube_request_start_in(c, method, path, body, body_len, content_type, done_cb, NULL,
	                             ud, KUBE_WAIT_NONE);
}

void kube_request_cancel(struct kube_request *r)
{
	if (r == NULL || r->zombie || r->finishing)
		return;
	kube_request_finish(r, 0, "cancelled", "");
}
