/*
 * kube: building one attempt of a request: its easy handle, its headers,
 * and the libcurl callbacks that receive its answer.
 *
 * Easy handles are kept and reused (the options every request shares are
 * set once, when a handle is made), and the header lists are shared by the
 * requests that send the same headers: a burst of approvals costs no
 * handle set-up and no header building per request.
 */
#include <curl/curl.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "../log/log.h"
#include "../util/util.h"
#include "kube.h"
#include "kube_int.h"

/* ---- header lists ---- */

static void kube_slist_wipe_free(struct curl_slist *l)
{
	for (struct curl_slist *p = l; p != NULL; p = p->next)
		if (p->data != NULL)
			explicit_bzero(p->data, strlen(p->data));
	curl_slist_free_all(l);
}

static void kube_hdrs_unref(struct kube_hdrs *h)
{
	if (h == NULL || --h->refs > 0)
		return;
	kube_slist_wipe_free(h->list);
	free(h);
}

void kube_client_drop_headers(struct kube_client *c)
{
	for (size_t i = 0; i < 2; i++) {
		kube_hdrs_unref(c->hdrs[i]);
		c->hdrs[i] = NULL;
	}
	kube_wipe_str(c->hdr_token);
	c->hdr_token = NULL;
}

/* The headers of a request: Accept, no "Expect: 100-continue" round trip
 * before a body, the Content-Type of the body, the bearer token. Returns a
 * new list (caller frees with kube_slist_wipe_free()), or NULL. */
static struct curl_slist *kube_headers_build(const char *content_type, const char *tok)
{
	struct curl_slist *h = NULL, *tmp;

	if ((h = curl_slist_append(NULL, "Accept: application/json")) == NULL)
		return NULL;
	if ((tmp = curl_slist_append(h, "Expect:")) == NULL)
		goto fail;
	h = tmp;
	if (content_type != NULL) {
		char *ct = util_xasprintf("Content-Type: %s", content_type);
		tmp = curl_slist_append(h, ct);
		free(ct);
		if (tmp == NULL)
			goto fail;
		h = tmp;
	}
	if (tok != NULL) {
		static const char pre[] = "Authorization: Bearer ";
		size_t n = sizeof(pre) + strlen(tok);
		char *auth = util_xmalloc(n);
		snprintf(auth, n, "%s%s", pre, tok);
		tmp = curl_slist_append(h, auth);
		kube_wipe_free(auth, n);
		if (tmp == NULL)
			goto fail;
		h = tmp;
	}
	return h;
fail:
	kube_slist_wipe_free(h);
	return NULL;
}

/* Give r its headers: a shared list for no body or a JSON body (built
 * again when the token changed), its own list for another Content-Type.
 * Returns 0 or -1. */
static int kube_request_headers(struct kube_request *r)
{
	struct kube_client *c = r->c;
	char terr[512];
	const char *tok = kube_token_source_get(c->ts, util_now_ms(), terr, sizeof(terr));
	bool json = r->body != NULL && strcmp(r->content_type, "application/json") == 0;
	size_t slot = json ? 1 : 0;

	if (terr[0] != '\0')
		log_warn("could not re-read the token file; keeping the previous token", "file",
		         c->cfg->token_file, "error", terr);
	if (r->body != NULL && !json) {
		r->headers = kube_headers_build(r->content_type, tok);
		return r->headers != NULL ? 0 : -1;
	}
	if ((tok == NULL) != (c->hdr_token == NULL) ||
	    (tok != NULL && strcmp(tok, c->hdr_token) != 0))
		kube_client_drop_headers(c);
	if (c->hdrs[slot] == NULL) {
		struct curl_slist *l = kube_headers_build(json ? "application/json" : NULL, tok);
		if (l == NULL)
			return -1;
		c->hdrs[slot] = util_xcalloc(1, sizeof(*c->hdrs[slot]));
		c->hdrs[slot]->refs = 1;
		c->hdrs[slot]->list = l;
		if (tok != NULL && c->hdr_token == NULL)
			c->hdr_token = util_xstrdup(tok);
	}
	r->hdrs = c->hdrs[slot];
	r->hdrs->refs++;
	return 0;
}

/* ---- callbacks ---- */

/* Every connection to the API server is counted: the point of HTTP/2 here
 * is to open few of them. */
static curl_socket_t kube_opensocket_cb(void *ud, curlsocktype purpose, struct curl_sockaddr *addr)
{
	struct kube_client *c = ud;
	curl_socket_t s = socket(addr->family, addr->socktype, addr->protocol);

	if (s != CURL_SOCKET_BAD && purpose == CURLSOCKTYPE_IPCXN) {
		c->conns_opened++;
		if (c->conn_cb != NULL)
			c->conn_cb(c->conn_ud);
	}
	return s;
}

/* The blank line ends a response's head: the protocol is known then, and
 * a stream is counted (not when it ends: a watch lasts minutes, and a
 * scrape meanwhile must see it). */
static size_t kube_header_cb(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct kube_request *r = ud;
	size_t n = size * nmemb;
	long code = 0;

	if (!(n == 2 && ptr[0] == '\r' && ptr[1] == '\n'))
		return n;
	curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &code);
	if (code < 200)
		return n; /* an interim 1xx head: the real one follows */
	if (kube_client_note_proto(r->c, r->easy) == KUBE_PROTO_H1 && r->streaming &&
	    !r->h1_stream) {
		/* It holds a connection of its own: see kube_client_set_conn_cap(). */
		r->h1_stream = true;
		r->c->h1_streams++;
	}
	if (!r->streaming || r->observed)
		return n;
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
	if (r->resp.cap == 0) {
		/* The whole body at once when its length is known, not by
		 * doubling from 64 bytes: kube-apiserver gives it for answers
		 * under 4 kB (an approval's); LIST pages come chunked. */
		curl_off_t cl = -1;
		if (curl_easy_getinfo(r->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl) ==
		        CURLE_OK &&
		    cl > (curl_off_t)n && cl <= (curl_off_t)KUBE_MAX_BODY)
			util_buf_reserve(&r->resp, (size_t)cl);
	}
	util_buf_append(&r->resp, ptr, n);
	return n;
}

/* ---- easy handles ---- */

void kube_client_drop_spares(struct kube_client *c)
{
	while (c->n_spare > 0)
		curl_easy_cleanup(c->spare[--c->n_spare]);
}

/* libcurl asks OpenSSL to free a connection's TLS buffers whenever they
 * are empty (SSL_MODE_RELEASE_BUFFERS), which saves memory for clients
 * with many idle connections. csr-approver has one busy connection (a few
 * over HTTP/1.1): it read each TLS record into a freshly allocated 16 kB
 * buffer, 2.3 % of its CPU in a burst, and the large frees made glibc
 * consolidate its fast bins. */
static CURLcode kube_ssl_ctx_cb(CURL *easy, void *ssl_ctx, void *ud)
{
	(void)easy;
	(void)ud;
	SSL_CTX_clear_mode((SSL_CTX *)ssl_ctx, SSL_MODE_RELEASE_BUFFERS);
	return CURLE_OK;
}

/* A handle with every option requests share: TLS (verification always
 * on, the cluster CA only, the client certificate), protocol, timeouts of
 * the connection, callbacks. */
static CURL *kube_handle_new(struct kube_client *c)
{
	const struct kube_config *cfg = c->cfg;
	CURL *e = curl_easy_init();

	if (e == NULL)
		return NULL;
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	if (c->http == KUBE_HTTP_1_1) {
		curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	} else {
		curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
		/* Wait for the connection being made to say whether it
		 * multiplexes, rather than open one more per request. */
		curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
	}
	curl_easy_setopt(e, CURLOPT_USERAGENT, c->user_agent);
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPIDLE, 30L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPINTVL, 15L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, KUBE_CONNECT_TIMEOUT_MS);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(e, CURLOPT_SSL_CTX_FUNCTION, kube_ssl_ctx_cb);
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
	curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, kube_opensocket_cb);
	curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, c);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, kube_write_cb);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, kube_header_cb);
	return e;
}

/* Set up the handle for one attempt. Every option a previous request of
 * the handle may have set is set again here. */
int kube_request_setup(struct kube_request *r, char *err, size_t errlen)
{
	struct kube_client *c = r->c;
	CURL *e = NULL;
	int rc = -1;

	if (kube_request_headers(r) != 0) {
		snprintf(err, errlen, "curl_slist_append failed");
		goto out;
	}
	e = c->n_spare > 0 ? c->spare[--c->n_spare] : kube_handle_new(c);
	if (e == NULL) {
		snprintf(err, errlen, "curl_easy_init failed");
		goto out;
	}
	r->errbuf[0] = '\0';
	curl_easy_setopt(e, CURLOPT_URL, r->url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, r);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->hdrs ? r->hdrs->list : r->headers);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
	/* Idle watches are legitimate: no overall limit for a stream. */
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, r->streaming ? 0L : c->timeout_ms);
	curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE,
	                 (curl_off_t)(r->streaming ? 0 : KUBE_MAX_BODY));
	/* A LIST page (up to a few MB) gets a receive buffer of its own size
	 * class. Over HTTP/2 libcurl 7.88 puts what arrives for a stream while
	 * it reads another into the stream's buffer, and when that is full it
	 * pauses the connection's input until the stream's transfer runs; now
	 * and then nothing makes it run, and a page that had all but arrived
	 * sat there until the request's timeout (30 s). Seen in about one
	 * start in five with 10,000 pods; none in 45 with this buffer
	 * (hack/bench-rss.sh). Other requests keep libcurl's 16 KiB. */
	r->list_buffer = strcmp(r->verb, "LIST") == 0;
	curl_easy_setopt(e, CURLOPT_BUFFERSIZE,
	                 r->list_buffer ? KUBE_LIST_BUFFER : (long)CURL_MAX_WRITE_SIZE);

	if (r->body != NULL || strcmp(r->method, "POST") == 0 || strcmp(r->method, "PUT") == 0 ||
	    strcmp(r->method, "PATCH") == 0) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
		                 (curl_off_t)(r->body ? r->body_len : 0));
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body ? r->body : "");
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST,
		                 strcmp(r->method, "POST") != 0 ? r->method : NULL);
	} else {
		/* HTTPGET also undoes a previous request's POSTFIELDS. */
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST,
		                 strcmp(r->method, "GET") != 0 ? r->method : NULL);
	}
	r->easy = e;
	r->easy_gen = c->handle_gen;
	rc = 0;
out:
	if (rc != 0) {
		kube_hdrs_unref(r->hdrs);
		r->hdrs = NULL;
		kube_slist_wipe_free(r->headers);
		r->headers = NULL;
	}
	return rc;
}

void kube_request_detach(struct kube_request *r)
{
	struct kube_client *c = r->c;

	if (r->easy != NULL) {
		if (r->in_multi)
			curl_multi_remove_handle(c->multi, r->easy);
		/* A handle made before the CA changed holds the old CA; one that
		 * read a LIST holds its large buffer, not worth keeping idle. */
		if (r->easy_gen == c->handle_gen && c->n_spare < KUBE_SPARE_HANDLES &&
		    !c->closing && !r->list_buffer) {
			curl_easy_setopt(r->easy, CURLOPT_PRIVATE, NULL);
			curl_easy_setopt(r->easy, CURLOPT_HTTPHEADER, NULL);
			curl_easy_setopt(r->easy, CURLOPT_ERRORBUFFER, NULL);
			c->spare[c->n_spare++] = r->easy;
		} else {
			curl_easy_cleanup(r->easy);
		}
	}
	r->easy = NULL;
	r->in_multi = false;
	kube_hdrs_unref(r->hdrs);
	r->hdrs = NULL;
	kube_slist_wipe_free(r->headers);
	r->headers = NULL;
}
