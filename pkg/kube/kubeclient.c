/*
 * The API client: libcurl multi, one easy handle per request attempt,
 * driven by kube_client_run_once(). Finished transfers are drained in one
 * place (kube_client_dispatch()).
 *
 * libcurl forbids adding or removing handles from inside its callbacks,
 * yet owners start requests from informer callbacks, which run inside
 * curl_multi_perform(). So while a transfer step runs, new requests are
 * parked (pending_add) and finished ones kept as zombies; both are settled
 * by kube_client_sweep() right after the step.
 */
#include "kube.h"

#include <curl/curl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../log/log.h"
#include "../util/util.h"
#include "kube_int.h"

#ifndef CSR_APPROVER_VERSION
#define CSR_APPROVER_VERSION "dev"
#endif

#define KUBE_CONNECT_TIMEOUT_MS 10000L
#define KUBE_DEFAULT_TIMEOUT_MS 30000L
#define KUBE_EXCERPT 200

struct kube_request {
	struct kube_client *c;
	struct kube_request *prev, *next;
	CURL *easy;
	struct curl_slist *headers; /* holds the Authorization header: wiped on free */
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
	bool in_multi; /* added to the multi handle */
	bool pending_add; /* to be added after the transfer step */
	bool finishing; /* done_cb running or run */
	bool zombie; /* finished; to be freed */
	bool aborted; /* data_cb returned -1 */
	bool too_big;
	bool retried_auth;
	bool retried_ca;
	bool waiting; /* detached until retry_at: the server asked to retry later */
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
	bool in_perform; /* inside curl_multi_perform: libcurl callbacks may run */
	bool in_dispatch; /* draining finished transfers */
	bool need_sweep;
	bool closing;
	kube_observe_cb observe;
	void *observe_ud;
	char *user_agent;
};

static pthread_once_t kube_curl_once = PTHREAD_ONCE_INIT;
static CURLcode kube_curl_init_rc;

static void kube_curl_init(void)
{
	kube_curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

const char *kube_library_version(void)
{
	return curl_version();
}

/* ---- names for metrics ---- */

static bool kube_query_is_watch(const char *q)
{
	while (q != NULL && *q != '\0') {
		const char *end = strchr(q, '&');
		size_t n = end ? (size_t)(end - q) : strlen(q);
		if ((n == 7 && memcmp(q, "watch=1", 7) == 0) ||
		    (n == 10 && memcmp(q, "watch=true", 10) == 0))
			return true;
		q = end ? end + 1 : NULL;
	}
	return false;
}

void kube_classify(const char *method, const char *path, char *verb, size_t verblen, char *resource,
                   size_t reslen)
{
	enum { MAXSEG = 8 };
	const char *seg[MAXSEG] = {0};
	size_t seglen[MAXSEG] = {0};
	size_t n = 0;
	const char *q = strchr(path, '?');
	size_t plen = q ? (size_t)(q - path) : strlen(path);
	bool watch = kube_query_is_watch(q ? q + 1 : NULL);
	bool get = strcmp(method, "GET") == 0;
	bool named = true; /* a GET on it is a GET, not a LIST */
	const char *res = NULL, *sub = NULL;
	size_t reslen0 = 0, sublen = 0;
	char tmp[160];

	for (size_t i = 0; i < plen;) {
		while (i < plen && path[i] == '/')
			i++;
		if (i >= plen)
			break;
		size_t j = i;
		while (j < plen && path[j] != '/')
			j++;
		if (n < MAXSEG) {
			seg[n] = path + i;
			seglen[n] = j - i;
		}
		n++;
		i = j;
	}
	if (n > MAXSEG)
		n = MAXSEG;

#define SEG_IS(k, lit) (seglen[k] == sizeof(lit) - 1 && memcmp(seg[k], lit, sizeof(lit) - 1) == 0)
	size_t base = 0; /* first segment after the group/version */
	bool api = false;
	if (n >= 1 && SEG_IS(0, "api")) {
		api = true;
		base = 2;
	} else if (n >= 1 && SEG_IS(0, "apis")) {
		api = true;
		base = 3;
	}
	if (api && n > base && SEG_IS(base, "watch")) {
		/* The old /api/v1/watch/... form. */
		watch = true;
		base++;
	}
	if (!api) {
		if (n > 0) {
			res = seg[0];
			reslen0 = seglen[0];
		}
	} else if (n <= base) {
		res = "discovery";
		reslen0 = strlen(res);
	} else {
		size_t m = n - base;
		const char *const *r = seg + base;
		const size_t *rl = seglen + base;
		if (m >= 3 && rl[0] == 10 && memcmp(r[0], "namespaces", 10) == 0) {
			res = r[2];
			reslen0 = rl[2];
			named = m >= 4;
			if (m >= 5) {
				sub = r[4];
				sublen = rl[4];
			}
		} else {
			res = r[0];
			reslen0 = rl[0];
			named = m >= 2;
			if (m >= 3) {
				sub = r[2];
				sublen = rl[2];
			}
		}
	}
#undef SEG_IS

	if (watch) {
		snprintf(verb, verblen, "WATCH");
	} else if (get) {
		snprintf(verb, verblen, "%s", api && !named ? "LIST" : "GET");
	} else {
		size_t i = 0;
		for (; method[i] != '\0' && i + 1 < sizeof(tmp) && i < 15; i++) {
			char ch = method[i];
			tmp[i] = (ch >= 'a' && ch <= 'z') ? (char)(ch - 'a' + 'A') : ch;
		}
		tmp[i] = '\0';
		snprintf(verb, verblen, "%s", tmp);
	}
	if (res == NULL)
		snprintf(resource, reslen, "%s", "");
	else if (sub != NULL)
		snprintf(resource, reslen, "%.*s/%.*s", (int)reslen0, res, (int)sublen, sub);
	else
		snprintf(resource, reslen, "%.*s", (int)reslen0, res);
}

/* ---- API Status ---- */

int kube_status_read(const json_t *obj, char *message, size_t msglen, char *reason,
                     size_t reasonlen, long *code, bool *too_large)
{
	const json_t *kind = json_object_get(obj, "kind");
	const json_t *v;
	size_t i;
	const json_t *cause;
	bool big = false;

	if (!json_is_object(obj) || !json_is_string(kind) ||
	    strcmp(json_string_value(kind), "Status") != 0)
		return -1;
	v = json_object_get(obj, "message");
	if (message != NULL && msglen > 0)
		snprintf(message, msglen, "%s", json_is_string(v) ? json_string_value(v) : "");
	if (json_is_string(v) &&
	    util_has_prefix(json_string_value(v), "Too large resource version"))
		big = true;
	v = json_object_get(obj, "reason");
	if (reason != NULL && reasonlen > 0)
		snprintf(reason, reasonlen, "%s", json_is_string(v) ? json_string_value(v) : "");
	v = json_object_get(obj, "code");
	if (code != NULL)
		*code = json_is_integer(v) ? (long)json_integer_value(v) : 0;
	v = json_object_get(json_object_get(obj, "details"), "causes");
	json_array_foreach(v, i, cause)
	{
		const json_t *r = json_object_get(cause, "reason");
		if (json_is_string(r) &&
		    strcmp(json_string_value(r), "ResourceVersionTooLarge") == 0)
			big = true;
	}
	if (too_large != NULL)
		*too_large = big;
	return 0;
}

int kube_status_parse(const char *body, size_t len, char *message, size_t msglen, char *reason,
                      size_t reasonlen, long *code, bool *too_large)
{
	json_t *j;
	int rc;

	if (body == NULL || len == 0)
		return -1;
	j = json_loadb(body, len, 0, NULL);
	if (j == NULL)
		return -1;
	rc = kube_status_read(j, message, msglen, reason, reasonlen, code, too_large);
	json_decref(j);
	return rc;
}

/* ---- escaping ---- */

char *kube_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	struct util_buf b = {0};

	util_buf_append(&b, "", 0);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		unsigned char ch = *p;
		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_' || ch == '~') {
			util_buf_putc(&b, (char)ch);
		} else {
			char e[3] = {'%', hex[ch >> 4], hex[ch & 15]};
			util_buf_append(&b, e, 3);
		}
	}
	return util_buf_take(&b);
}

/* ---- requests ---- */

static void kube_slist_wipe_free(struct curl_slist *l)
{
	for (struct curl_slist *p = l; p != NULL; p = p->next)
		if (p->data != NULL)
			explicit_bzero(p->data, strlen(p->data));
	curl_slist_free_all(l);
}

/* A stream is counted when its answer starts, not when it ends: a watch
 * lasts minutes, and a scrape meanwhile must see it. libcurl hands over
 * the header lines one by one; the blank one ends a response's head. */
static size_t kube_header_cb(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct kube_request *r = ud;
	size_t n = size * nmemb;
	long code = 0;

	if (r->observed || !(n == 2 && ptr[0] == '\r' && ptr[1] == '\n'))
		return n;
	curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &code);
	if (code < 200)
		return n; /* an interim 1xx head: the real one follows */
	r->observed = true;
	if (r->c->observe != NULL)
		r->c->observe(r->c->observe_ud, r->verb, r->resource, code);
	return n;
}

static size_t kube_write_cb(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct kube_request *r = ud;
	size_t n = size * nmemb;

	if (r->zombie)
		return 0; /* cancelled: make libcurl stop */
	if (r->streaming) {
		if (r->stream_status == 0) {
			long code = 0;
			curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &code);
			r->stream_status = code;
		}
		if (r->stream_status >= 200 && r->stream_status < 300) {
			if (r->data_cb(r->ud, ptr, n) != 0) {
				r->aborted = true;
				return 0;
			}
			return r->zombie ? 0 : n;
		}
		/* An error answer: keep the head of it for the Status. */
		if (r->resp.len < KUBE_MAX_ERROR_BODY) {
			size_t keep = KUBE_MAX_ERROR_BODY - r->resp.len;
			util_buf_append(&r->resp, ptr, n < keep ? n : keep);
		}
		return n;
	}
	if (n > KUBE_MAX_BODY - r->resp.len) {
		r->too_big = true;
		return 0;
	}
	util_buf_append(&r->resp, ptr, n);
	return n;
}

/* Build the easy handle for one attempt. */
static int kube_request_setup(struct kube_request *r, char *err, size_t errlen)
{
	struct kube_client *c = r->c;
	const struct kube_config *cfg = c->cfg;
	CURL *e = NULL;
	struct curl_slist *h = NULL, *tmp;
	const char *tok;
	char terr[512];
	int rc = -1;

	e = curl_easy_init();
	if (e == NULL) {
		snprintf(err, errlen, "curl_easy_init failed");
		goto out;
	}
	h = curl_slist_append(h, "Accept: application/json");
	if (h == NULL)
		goto oom;
	/* No "Expect: 100-continue" round trip before a body. */
	if ((tmp = curl_slist_append(h, "Expect:")) == NULL)
		goto oom;
	h = tmp;
	if (r->body != NULL) {
		char *ct = util_xasprintf("Content-Type: %s", r->content_type);
		tmp = curl_slist_append(h, ct);
		free(ct);
		if (tmp == NULL)
			goto oom;
		h = tmp;
	}
	tok = kube_token_source_get(c->ts, util_now_ms(), terr, sizeof(terr));
	if (terr[0] != '\0')
		log_warn("could not re-read the token file; keeping the previous token", "file",
		         cfg->token_file, "error", terr);
	if (tok != NULL) {
		static const char pre[] = "Authorization: Bearer ";
		size_t n = sizeof(pre) + strlen(tok);
		char *auth = util_xmalloc(n);
		snprintf(auth, n, "%s%s", pre, tok);
		tmp = curl_slist_append(h, auth);
		kube_wipe_free(auth, n);
		if (tmp == NULL)
			goto oom;
		h = tmp;
	}

	curl_easy_setopt(e, CURLOPT_URL, r->url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, r);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(e, CURLOPT_USERAGENT, c->user_agent);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPIDLE, 30L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPINTVL, 15L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, KUBE_CONNECT_TIMEOUT_MS);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	if (c->ca_pem != NULL) {
		struct curl_blob blob = {
		    .data = c->ca_pem, .len = c->ca_len, .flags = CURL_BLOB_COPY};
		curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &blob);
		/* Only the cluster CA: not the system store as well. */
		curl_easy_setopt(e, CURLOPT_CAINFO, NULL);
		curl_easy_setopt(e, CURLOPT_CAPATH, NULL);
	}
	if (cfg->cert_pem != NULL && cfg->key_pem != NULL) {
		struct curl_blob cert = {
		    .data = cfg->cert_pem, .len = cfg->cert_len, .flags = CURL_BLOB_NOCOPY};
		/* NOCOPY: the key stays in the configuration's memory, which is
		 * wiped when it is freed, and not in a copy libcurl keeps. */
		struct curl_blob key = {
		    .data = cfg->key_pem, .len = cfg->key_len, .flags = CURL_BLOB_NOCOPY};
		curl_easy_setopt(e, CURLOPT_SSLCERT_BLOB, &cert);
		curl_easy_setopt(e, CURLOPT_SSLCERTTYPE, "PEM");
		curl_easy_setopt(e, CURLOPT_SSLKEY_BLOB, &key);
		curl_easy_setopt(e, CURLOPT_SSLKEYTYPE, "PEM");
	}
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, kube_write_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
	if (r->streaming) {
		curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, kube_header_cb);
		curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
	}
	if (r->streaming) {
		/* Idle watches are legitimate: no overall or low-speed limit. */
		curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 0L);
	} else {
		curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, c->timeout_ms);
		curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)KUBE_MAX_BODY);
	}

	if (r->body != NULL) {
		curl_easy_setopt(e, CURLOPT_POST, 1L);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body);
		if (strcmp(r->method, "POST") != 0)
			curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r->method);
	} else if (strcmp(r->method, "GET") == 0) {
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	} else if (strcmp(r->method, "POST") == 0 || strcmp(r->method, "PUT") == 0 ||
	           strcmp(r->method, "PATCH") == 0) {
		curl_easy_setopt(e, CURLOPT_POST, 1L);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, "");
		if (strcmp(r->method, "POST") != 0)
			curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r->method);
	} else {
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r->method);
	}

	r->easy = e;
	r->headers = h;
	e = NULL;
	h = NULL;
	rc = 0;
	goto out;
oom:
	snprintf(err, errlen, "curl_slist_append failed");
out:
	kube_slist_wipe_free(h);
	if (e != NULL)
		curl_easy_cleanup(e);
	return rc;
}

/* Drop the easy handle of the current attempt. */
static void kube_request_detach(struct kube_request *r)
{
	if (r->easy != NULL) {
		if (r->in_multi)
			curl_multi_remove_handle(r->c->multi, r->easy);
		curl_easy_cleanup(r->easy);
	}
	r->easy = NULL;
	r->in_multi = false;
	r->pending_add = false;
	kube_slist_wipe_free(r->headers);
	r->headers = NULL;
}

static void kube_request_destroy(struct kube_request *r)
{
	struct kube_client *c = r->c;

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
	free(r);
}

/* Hand the handle to libcurl now, or after the transfer step. */
static int kube_request_submit(struct kube_request *r, char *err, size_t errlen)
{
	struct kube_client *c = r->c;

	if (c->in_perform) {
		r->pending_add = true;
		c->need_sweep = true;
		return 0;
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
	struct kube_response resp = {
	    .status = status,
	    .body = stream_ok ? "" : util_buf_str(&r->resp),
	    .body_len = stream_ok ? 0 : r->resp.len,
	    .error = error ? error : "",
	    .reason = reason ? reason : "",
	};

	r->finishing = true;
	if (r->done_cb != NULL)
		r->done_cb(r->ud, &resp);
	r->zombie = true;
	if (c->in_perform) {
		c->need_sweep = true;
		return;
	}
	kube_request_destroy(r);
}

/* Drop the attempt that ended, to make another. */
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

/* A new attempt of the same request (after a 401 or a CA change). */
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
	log_info("CA bundle changed on disk; reloaded it", "file", c->cfg->ca_file);
	return true;
}

/* A printable excerpt of a body that is not a Status. */
static void kube_excerpt(const char *body, size_t len, long status, char *out, size_t outlen)
{
	size_t n = 0;

	if (len == 0) {
		snprintf(out, outlen, "HTTP %ld", status);
		return;
	}
	for (size_t i = 0; i < len && i < KUBE_EXCERPT && n + 1 < outlen; i++) {
		unsigned char ch = (unsigned char)body[i];
		out[n++] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : ' ';
	}
	out[n] = '\0';
}

/* A 429 or 5xx with Retry-After: park the request; kube_client_run_once()
 * sends it again when it is due. Returns true when parked. */
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

/* Settle what the transfer step left: free zombies, add parked handles. */
static void kube_client_sweep(struct kube_client *c)
{
	struct kube_request *r, *next;
	char err[256];

	if (!c->need_sweep)
		return;
	c->need_sweep = false;
	for (r = c->reqs; r != NULL; r = next) {
		next = r->next;
		if (r->zombie) {
			kube_request_destroy(r);
		} else if (r->pending_add) {
			r->pending_add = false;
			if (kube_request_submit(r, err, sizeof(err)) != 0)
				kube_request_finish(r, 0, err, "");
		}
	}
}

/* How long kube_client_run_once() may wait before a parked request is due. */
static int kube_client_retry_wait(const struct kube_client *c, int timeout_ms)
{
	int64_t now = util_now_ms();

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
static void kube_client_retry_due(struct kube_client *c)
{
	char err[256];

	for (;;) {
		int64_t now = util_now_ms();
		struct kube_request *r = c->reqs;
		while (r != NULL &&
		       !(r->waiting && !r->zombie && !r->finishing && r->retry_at <= now))
			r = r->next;
		if (r == NULL)
			return;
		r->waiting = false;
		if (kube_request_setup(r, err, sizeof(err)) != 0 ||
		    kube_request_submit(r, err, sizeof(err)) != 0)
			kube_request_finish(r, 0, err, "");
	}
}

/* The one place that drains finished transfers. */
static void kube_client_dispatch(struct kube_client *c)
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
	c->cfg = cfg;
	if (cfg->ca_pem != NULL) {
		c->ca_pem = util_xstrndup(cfg->ca_pem, cfg->ca_len);
		c->ca_len = cfg->ca_len;
	}
	c->ts = kube_token_source_new(cfg->token, cfg->token_file);
	c->timeout_ms = KUBE_DEFAULT_TIMEOUT_MS;
	c->user_agent = util_xstrdup("csr-approver/" CSR_APPROVER_VERSION);
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
	curl_multi_cleanup(c->multi);
	kube_token_source_free(c->ts);
	free(c->ca_pem);
	free(c->user_agent);
	free(c);
}

void kube_client_set_timeout_ms(struct kube_client *c, long ms)
{
	c->timeout_ms = ms > 0 ? ms : KUBE_DEFAULT_TIMEOUT_MS;
}

void kube_client_set_observer(struct kube_client *c, kube_observe_cb cb, void *ud)
{
	c->observe = cb;
	c->observe_ud = ud;
}

size_t kube_client_active(const struct kube_client *c)
{
	size_t n = 0;
	for (const struct kube_request *r = c->reqs; r != NULL; r = r->next)
		if (!r->zombie && !r->finishing)
			n++;
	return n;
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

struct kube_request *kube_request_start(struct kube_client *c, const char *method, const char *path,
                                        const char *body, size_t body_len, const char *content_type,
                                        kube_done_cb done_cb, kube_data_cb data_cb, void *ud)
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
	kube_classify(method, path, r->verb, sizeof(r->verb), r->resource, sizeof(r->resource));

	r->next = c->reqs;
	if (c->reqs != NULL)
		c->reqs->prev = r;
	c->reqs = r;
	if (kube_request_setup(r, err, sizeof(err)) != 0 ||
	    kube_request_submit(r, err, sizeof(err)) != 0) {
		log_error("API request could not start", "path", path, "error", err);
		kube_request_destroy(r);
		return NULL;
	}
	return r;
}

void kube_request_cancel(struct kube_request *r)
{
	if (r == NULL || r->zombie || r->finishing)
		return;
	kube_request_finish(r, 0, "cancelled", "");
}

int kube_client_run_once(struct kube_client *c, struct kube_pollfd *fds, size_t nfds,
                         int timeout_ms)
{
	struct curl_waitfd *w = NULL;
	CURLMcode mc;
	int running = 0;
	int rc = -1;

	if (c->in_perform || c->in_dispatch) {
		log_error("kube_client_run_once called from a callback");
		return -1;
	}
	if (nfds > 0) {
		if (nfds > UINT_MAX)
			return -1;
		w = util_xcalloc(nfds, sizeof(*w));
		for (size_t i = 0; i < nfds; i++) {
			w[i].fd = fds[i].fd;
			if (fds[i].events & POLLIN)
				w[i].events |= CURL_WAIT_POLLIN;
			if (fds[i].events & POLLPRI)
				w[i].events |= CURL_WAIT_POLLPRI;
			if (fds[i].events & POLLOUT)
				w[i].events |= CURL_WAIT_POLLOUT;
			fds[i].revents = 0;
		}
	}
	if (timeout_ms < 0)
		timeout_ms = INT_MAX;
	timeout_ms = kube_client_retry_wait(c, timeout_ms);
	mc = curl_multi_poll(c->multi, w, (unsigned int)nfds, timeout_ms, NULL);
	if (mc != CURLM_OK) {
		log_error("curl_multi_poll failed", "error", curl_multi_strerror(mc));
		goto out;
	}
	for (size_t i = 0; i < nfds; i++) {
		short re = 0;
		if (w[i].revents & CURL_WAIT_POLLIN)
			re |= POLLIN;
		if (w[i].revents & CURL_WAIT_POLLPRI)
			re |= POLLPRI;
		if (w[i].revents & CURL_WAIT_POLLOUT)
			re |= POLLOUT;
		fds[i].revents = re;
	}
	c->in_perform = true;
	mc = curl_multi_perform(c->multi, &running);
	c->in_perform = false;
	kube_client_sweep(c);
	kube_client_dispatch(c);
	kube_client_retry_due(c);
	if (mc != CURLM_OK) {
		log_error("curl_multi_perform failed", "error", curl_multi_strerror(mc));
		goto out;
	}
	rc = 0;
out:
	free(w);
	return rc;
}

void kube_client_wakeup(struct kube_client *c)
{
	curl_multi_wakeup(c->multi);
}

/* ---- blocking convenience ---- */

struct kube_sync {
	bool done;
	long status;
	char *body;
	char error[512];
};

static void kube_sync_done(void *ud, const struct kube_response *resp)
{
	struct kube_sync *s = ud;
	s->done = true;
	s->status = resp->status;
	s->body = util_xstrndup(resp->body, resp->body_len);
	snprintf(s->error, sizeof(s->error), "%s%s%s", resp->error,
	         resp->reason[0] ? " reason=" : "", resp->reason);
}

long kube_request_sync(struct kube_client *c, const char *method, const char *path,
                       const char *body, size_t body_len, const char *content_type,
                       char **resp_body, char *err, size_t errlen)
{
	struct kube_sync s = {0};
	struct kube_request *r;

	if (resp_body != NULL)
		*resp_body = NULL;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (c->in_perform || c->in_dispatch) {
		snprintf(err, errlen, "kube_request_sync called from a callback");
		return 0;
	}
	r = kube_request_start(c, method, path, body, body_len, content_type, kube_sync_done, NULL,
	                       &s);
	if (r == NULL) {
		snprintf(err, errlen, "request could not be started");
		return 0;
	}
	while (!s.done) {
		if (kube_client_run_once(c, NULL, 0, 1000) != 0) {
			if (!s.done)
				kube_request_cancel(r);
			break;
		}
	}
	if (s.status == 0 || s.status >= 400)
		snprintf(err, errlen, "%s", s.error);
	if (resp_body != NULL)
		*resp_body = s.body;
	else
		free(s.body);
	return s.status;
}
