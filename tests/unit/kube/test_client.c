/*
 * The client without an API server: names for metrics, Status parsing,
 * escaping, and the request life cycle against a closed local port
 * (refusals, transport errors, cancellation, requests waiting in order for
 * a slot). Anything that needs an API server is in tests/integration/.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../../pkg/kube/kube.h"
#include "../../../pkg/kube/kube_int.h"
#include "../../../pkg/log/log.h"
#include "../../../pkg/util/util.h"
#include "../support/closed_port.h"

/* The refusals are logged as errors: keep them out of the test output. */
static void quiet(void)
{
	log_set_stream(fopen("/dev/null", "w"));
}

/* ---- kube_classify ---- */

static const struct {
	const char *method, *path, *verb, *resource;
} classify_cases[] = {
    {"GET", "/api/v1/pods", "LIST", "pods"},
    {"GET", "/api/v1/pods?limit=500&continue=abc", "LIST", "pods"},
    {"GET", "/api/v1/namespaces/ns/pods", "LIST", "pods"},
    {"GET", "/api/v1/namespaces/ns/pods/web-0", "GET", "pods"},
    {"GET", "/api/v1/namespaces/ns/pods?watch=1&resourceVersion=5", "WATCH", "pods"},
    {"GET", "/api/v1/namespaces/ns/pods?resourceVersion=5&watch=true", "WATCH", "pods"},
    {"GET", "/api/v1/watch/namespaces/ns/pods", "WATCH", "pods"},
    {"GET", "/api/v1/namespaces", "LIST", "namespaces"},
    {"GET", "/api/v1/namespaces/kube-system", "GET", "namespaces"},
    {"GET", "/api/v1/nodes/node-0", "GET", "nodes"},
    {"GET", "/apis/certificates.k8s.io/v1/certificatesigningrequests?watch=1", "WATCH",
     "certificatesigningrequests"},
    {"GET", "/apis/certificates.k8s.io/v1/certificatesigningrequests", "LIST",
     "certificatesigningrequests"},
    {"PUT", "/apis/certificates.k8s.io/v1/certificatesigningrequests/csr-1/approval", "PUT",
     "certificatesigningrequests/approval"},
    {"GET", "/apis/certificates.k8s.io/v1/certificatesigningrequests/csr-1", "GET",
     "certificatesigningrequests"},
    {"PUT", "/apis/coordination.k8s.io/v1/namespaces/csr/leases/csr-approver", "PUT", "leases"},
    {"POST", "/apis/coordination.k8s.io/v1/namespaces/csr/leases", "POST", "leases"},
    {"POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", "POST", "subjectaccessreviews"},
    {"POST", "/api/v1/namespaces/default/events", "POST", "events"},
    {"PATCH", "/api/v1/namespaces/ns/pods/p/status", "PATCH", "pods/status"},
    {"DELETE", "/api/v1/namespaces/ns/configmaps/x", "DELETE", "configmaps"},
    {"post", "/api/v1/namespaces/ns/configmaps", "POST", "configmaps"},
    {"GET", "/version", "GET", "version"},
    {"GET", "/healthz/etcd", "GET", "healthz"},
    {"GET", "/openapi/v3", "GET", "openapi"},
    {"GET", "/api", "GET", "discovery"},
    {"GET", "/api/v1", "GET", "discovery"},
    {"GET", "/apis/certificates.k8s.io/v1", "GET", "discovery"},
    {"GET", "/", "GET", ""},
    {"GET", "//api///v1//pods", "LIST", "pods"},
};

Test(kube_classify, table)
{
	for (size_t i = 0; i < sizeof(classify_cases) / sizeof(classify_cases[0]); i++) {
		char verb[16], res[128];
		kube_classify(classify_cases[i].method, classify_cases[i].path, verb, sizeof(verb),
		              res, sizeof(res));
		cr_expect_str_eq(verb, classify_cases[i].verb, "%s %s", classify_cases[i].method,
		                 classify_cases[i].path);
		cr_expect_str_eq(res, classify_cases[i].resource, "%s %s", classify_cases[i].method,
		                 classify_cases[i].path);
	}
}

Test(kube_classify, truncates)
{
	char verb[4], res[8];
	kube_classify("GET", "/apis/certificates.k8s.io/v1/certificatesigningrequests?watch=1",
	              verb, sizeof(verb), res, sizeof(res));
	cr_assert_str_eq(verb, "WAT");
	cr_assert_str_eq(res, "certifi");
}

/* ---- kube_status_parse ---- */

Test(kube_status, conflict)
{
	static const char body[] =
	    "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
	    "\"message\":\"Operation cannot be fulfilled: the object has been modified\","
	    "\"reason\":\"Conflict\",\"details\":{\"name\":\"x\"},\"code\":409}";
	char msg[256], reason[64];
	long code;
	bool big = true;
	cr_assert_eq(kube_status_parse(body, strlen(body), msg, sizeof(msg), reason, sizeof(reason),
	                               &code, &big),
	             0);
	cr_assert_str_eq(msg, "Operation cannot be fulfilled: the object has been modified");
	cr_assert_str_eq(reason, "Conflict");
	cr_assert_eq(code, 409);
	cr_assert_not(big);
}

Test(kube_status, too_large)
{
	static const char body[] =
	    "{\"kind\":\"Status\",\"status\":\"Failure\",\"message\":\"Timeout: Too large resource "
	    "version: 99, current: 50\",\"reason\":\"Timeout\",\"details\":{\"causes\":[{\"reason\":"
	    "\"ResourceVersionTooLarge\",\"message\":\"Too large resource version\"}],"
	    "\"retryAfterSeconds\":1},\"code\":504}";
	bool big = false;
	long code = 0;
	cr_assert_eq(kube_status_parse(body, strlen(body), NULL, 0, NULL, 0, &code, &big), 0);
	cr_assert(big);
	cr_assert_eq(code, 504);
}

Test(kube_status, not_a_status)
{
	char msg[16] = "untouched";
	cr_assert_eq(
	    kube_status_parse("{\"kind\":\"Pod\"}", 14, msg, sizeof(msg), NULL, 0, NULL, NULL), -1);
	cr_assert_str_eq(msg, "untouched");
	cr_assert_eq(kube_status_parse("<html>", 6, NULL, 0, NULL, 0, NULL, NULL), -1);
	cr_assert_eq(kube_status_parse("", 0, NULL, 0, NULL, 0, NULL, NULL), -1);
	cr_assert_eq(kube_status_parse(NULL, 0, NULL, 0, NULL, 0, NULL, NULL), -1);
	cr_assert_eq(kube_status_parse("[1]", 3, NULL, 0, NULL, 0, NULL, NULL), -1);
}

Test(kube_status, sparse_status)
{
	char msg[16] = "x", reason[16] = "x";
	long code = 7;
	cr_assert_eq(kube_status_parse("{\"kind\":\"Status\",\"code\":\"410\"}", 30, msg,
	                               sizeof(msg), reason, sizeof(reason), &code, NULL),
	             0);
	cr_assert_str_eq(msg, "");
	cr_assert_str_eq(reason, "");
	cr_assert_eq(code, 0, "a code that is not a number is absent");
}

/* ---- kube_escape ---- */

Test(kube_escape, query_values)
{
	char *e = kube_escape("spec.signerName=example.com/pod-mtls");
	cr_assert_str_eq(e, "spec.signerName%3Dexample.com%2Fpod-mtls");
	free(e);
	e = kube_escape("a b&c?d#e~_-.");
	cr_assert_str_eq(e, "a%20b%26c%3Fd%23e~_-.");
	free(e);
	e = kube_escape("\xc3\xa9");
	cr_assert_str_eq(e, "%C3%A9");
	free(e);
	e = kube_escape("");
	cr_assert_str_eq(e, "");
	free(e);
}

/* ---- life cycle against a closed port ---- */

static struct kube_config *closed_port_config(void)
{
	struct kube_config *cfg = test_closed_port_config();
	cfg->token = strdup("secret-token");
	return cfg;
}

struct done_rec {
	int calls;
	long status;
	char error[256];
	struct kube_request *other; /* cancelled from this done_cb */
};

static void on_done(void *ud, const struct kube_response *resp)
{
	struct done_rec *d = ud;
	d->calls++;
	d->status = resp->status;
	snprintf(d->error, sizeof(d->error), "%s", resp->error);
	cr_assert_not_null(resp->body);
	cr_assert_not_null(resp->reason);
	if (d->other != NULL) {
		kube_request_cancel(d->other);
		d->other = NULL;
	}
}

Test(kube_client, refused_requests, .init = quiet)
{
	char err[256];
	struct kube_config *cfg = closed_port_config();
	struct kube_client *c = kube_client_new(cfg, err, sizeof(err));
	cr_assert_not_null(c, "%s", err);
	struct done_rec d = {0};
	cr_assert_null(kube_request_start(c, "GET", "no-slash", NULL, 0, NULL, on_done, NULL, &d));
	cr_assert_null(kube_request_start(c, "GET", "/a b", NULL, 0, NULL, on_done, NULL, &d));
	cr_assert_null(kube_request_start(c, "G T", "/x", NULL, 0, NULL, on_done, NULL, &d));
	cr_assert_null(kube_request_start(c, "", "/x", NULL, 0, NULL, on_done, NULL, &d));
	cr_assert_eq(d.calls, 0, "done_cb is not called when start fails");
	cr_assert_eq(kube_client_active(c), 0);
	kube_client_free(c);
	kube_config_free(cfg);
}

Test(kube_client, transport_error, .init = quiet)
{
	char err[256];
	char *body = (char *)"x";
	struct kube_config *cfg = closed_port_config();
	struct kube_client *c = kube_client_new(cfg, err, sizeof(err));
	long st = kube_request_sync(c, "GET", "/version", NULL, 0, NULL, &body, err, sizeof(err));
	cr_assert_eq(st, 0);
	cr_assert_neq(err[0], '\0');
	cr_assert_null(strstr(err, "secret-token"));
	cr_assert_not_null(body);
	cr_assert_str_eq(body, "");
	free(body);
	cr_assert_eq(kube_client_active(c), 0);
	kube_client_free(c);
	kube_config_free(cfg);
}

Test(kube_client, cancel_and_free)
{
	char err[256];
	struct kube_config *cfg = closed_port_config();
	struct kube_client *c = kube_client_new(cfg, err, sizeof(err));
	struct done_rec a = {0}, b = {0}, s = {0};
	struct kube_request *ra =
	    kube_request_start(c, "GET", "/api/v1/pods", NULL, 0, NULL, on_done, NULL, &a);
	struct kube_request *rb =
	    kube_request_start(c, "PUT", "/api/v1/namespaces/x", "{}", 2, NULL, on_done, NULL, &b);
	struct kube_request *rs =
	    kube_request_start(c, "GET", "/api/v1/pods?watch=1", NULL, 0, NULL, on_done, NULL, &s);
	cr_assert(ra && rb && rs);
	cr_assert_eq(kube_client_active(c), 3);
	/* a's done_cb cancels b: cancellation from inside a callback. */
	a.other = rb;
	kube_request_cancel(ra);
	cr_assert_eq(a.calls, 1);
	cr_assert_eq(a.status, 0);
	cr_assert_str_eq(a.error, "cancelled");
	cr_assert_eq(b.calls, 1);
	cr_assert_str_eq(b.error, "cancelled");
	cr_assert_eq(kube_client_active(c), 1);
	/* Freeing the client cancels what is left. */
	kube_client_free(c);
	cr_assert_eq(s.calls, 1);
	cr_assert_str_eq(s.error, "cancelled");
	kube_config_free(cfg);
}

static int never_data(void *ud, const char *data, size_t len)
{
	(void)ud;
	(void)data;
	(void)len;
	cr_assert_fail("no body bytes from a closed port");
	return 0;
}

struct observed {
	int calls;
	char seen[256];
};

static void observe_rec(void *ud, const char *verb, const char *resource, long code)
{
	struct observed *o = ud;
	size_t n = strlen(o->seen);
	o->calls++;
	snprintf(o->seen + n, sizeof(o->seen) - n, "%s %s %ld;", verb, resource, code);
}

Test(kube_client, run_loop_delivers_errors, .init = quiet)
{
	char err[256];
	struct kube_config *cfg = closed_port_config();
	struct kube_client *c = kube_client_new(cfg, err, sizeof(err));
	struct done_rec d = {0}, w = {0};
	struct observed o = {0};
	kube_client_set_observer(c, observe_rec, &o);
	cr_assert_not_null(
	    kube_request_start(c, "GET", "/version", NULL, 0, NULL, on_done, NULL, &d));
	cr_assert_not_null(kube_request_start(c, "GET", "/api/v1/pods?watch=1", NULL, 0, NULL,
	                                      on_done, never_data, &w));
	for (int i = 0; i < 200 && (d.calls == 0 || w.calls == 0); i++)
		cr_assert_eq(kube_client_run_once(c, NULL, 0, 50), 0);
	cr_assert_eq(d.calls, 1);
	cr_assert_eq(w.calls, 1);
	cr_assert_eq(d.status, 0);
	cr_assert_neq(d.error[0], '\0');
	cr_assert_eq(kube_client_active(c), 0);
	/* Requests that got no HTTP answer are counted, with code 0, once each,
	 * the watch included. */
	cr_assert_eq(o.calls, 2, "%s", o.seen);
	cr_assert(strstr(o.seen, "GET version 0;") != NULL, "%s", o.seen);
	cr_assert(strstr(o.seen, "WATCH pods 0;") != NULL, "%s", o.seen);
	kube_client_free(c);
	kube_config_free(cfg);
}

Test(kube_client, library_version)
{
	cr_assert_not_null(strstr(kube_library_version(), "libcurl/"));
}

/* ---- slots: requests wait in order, none is dropped ---- */

struct order_rec {
	int seq[8];
	int n;
};

struct order_ud {
	struct order_rec *rec;
	int id;
	long status;
	char error[64];
};

static void on_done_order(void *ud, const struct kube_response *resp)
{
	struct order_ud *o = ud;
	o->rec->seq[o->rec->n++] = o->id;
	o->status = resp->status;
	snprintf(o->error, sizeof(o->error), "%s", resp->error);
}

/* A client of the closed port with the given slots; h2: as if the server
 * had answered in HTTP/2 (every slot usable; until an answer, one request
 * runs at a time). */
static struct kube_client *slots_client(struct kube_config **cfg, size_t slots, bool h2)
{
	char err[256];
	*cfg = closed_port_config();
	struct kube_client *c = kube_client_new(*cfg, err, sizeof(err));
	cr_assert_not_null(c, "%s", err);
	kube_client_set_max_in_flight(c, slots);
	if (h2)
		c->proto = KUBE_PROTO_H2;
	return c;
}

/* The requests ended in the order want (n of them). */
static void assert_order(const struct order_rec *rec, const int *want, int n)
{
	for (int k = 0; k < n; k++)
		cr_assert_eq(rec->seq[k], want[k], "place %d: request %d, want %d", k, rec->seq[k],
		             want[k]);
}

/* Run c until n requests have ended (each fails at once on the closed
 * port; 400 rounds of at most 50 ms bound a hang). */
static void run_until_ended(struct kube_client *c, const struct order_rec *rec, int n)
{
	for (int i = 0; i < 400 && rec->n < n; i++)
		cr_assert_eq(kube_client_run_once(c, NULL, 0, 50), 0);
	cr_assert_eq(rec->n, n, "every request ends: %d of %d", rec->n, n);
}

Test(kube_client, queued_requests_run_in_order, .init = quiet)
{
	struct kube_config *cfg;
	struct order_rec rec = {0};
	struct order_ud u[5];
	struct kube_client *c = slots_client(&cfg, 1, false);
	cr_assert_str_eq(kube_client_protocol(c), "");
	for (int i = 0; i < 5; i++) {
		u[i] = (struct order_ud){.rec = &rec, .id = i};
		cr_assert_not_null(kube_request_start(c, "PUT", "/api/v1/namespaces/x", "{}", 2,
		                                      NULL, on_done_order, NULL, &u[i]));
	}
	cr_assert_eq(kube_client_active(c), 5);
	/* A request cancelled while it waits ends at once, and leaves the
	 * order of the others alone. */
	kube_request_cancel(kube_request_start(c, "GET", "/version", NULL, 0, NULL, on_done_order,
	                                       NULL, &(struct order_ud){.rec = &rec, .id = 7}));
	cr_assert_eq(rec.n, 1);
	cr_assert_eq(rec.seq[0], 7);
	cr_assert_eq(kube_client_active(c), 5);
	run_until_ended(c, &rec, 6);
	for (int i = 0; i < 5; i++) {
		cr_assert_eq(rec.seq[i + 1], i, "request %d ended in place %d", rec.seq[i + 1], i);
		cr_assert_eq(u[i].status, 0);
		cr_assert_neq(u[i].error[0], '\0');
	}
	cr_assert_eq(kube_client_active(c), 0);
	/* Each refused attempt opened a socket, and is counted. */
	cr_assert_geq(kube_client_connections_opened(c), 5);
	cr_assert_str_eq(kube_client_protocol(c), "", "no answer came: protocol unknown");
	kube_client_free(c);
	kube_config_free(cfg);
}

/* An urgent request (the lease's) waits behind none: before the protocol
 * is known it is the next to go; after, it starts at once, over the cap. */
Test(kube_client, urgent_request_waits_behind_none, .init = quiet)
{
	struct kube_config *cfg;
	struct order_rec rec = {0};
	struct order_ud u[4];
	struct kube_client *c = slots_client(&cfg, 1, false);
	for (int i = 0; i < 4; i++) {
		u[i] = (struct order_ud){.rec = &rec, .id = i};
		struct kube_request *r = i < 3
		    ? kube_request_start(c, "PUT", "/api/v1/namespaces/x", "{}", 2, NULL,
		                         on_done_order, NULL, &u[i])
		    : kube_request_start_urgent(c, "PUT", "/apis/coordination.k8s.io/v1/x", "{}", 2,
		                                NULL, on_done_order, &u[i]);
		cr_assert_not_null(r);
	}
	run_until_ended(c, &rec, 4);
	assert_order(&rec, (const int[]){0, 3, 1, 2}, 4);
	kube_client_free(c);
	kube_config_free(cfg);

	/* The protocol known (HTTP/2), every slot taken and a write waiting:
	 * the urgent one starts at once all the same. */
	c = slots_client(&cfg, 1, true);
	struct order_rec rec2 = {0};
	for (int i = 0; i < 3; i++) {
		u[i] = (struct order_ud){.rec = &rec2, .id = i};
		struct kube_request *r = i < 2
		    ? kube_request_start(c, "PUT", "/api/v1/namespaces/x", "{}", 2, NULL,
		                         on_done_order, NULL, &u[i])
		    : kube_request_start_urgent(c, "GET", "/apis/coordination.k8s.io/v1/x", NULL, 0,
		                                NULL, on_done_order, &u[i]);
		cr_assert_not_null(r);
	}
	cr_assert_eq(c->plain_admitted, 1);
	cr_assert_not_null(c->wait_plain.head, "the second write waits for the slot");
	cr_assert_eq(c->streams_admitted, 1, "the urgent request runs beside it");
	cr_assert_null(c->wait_stream.head);
	run_until_ended(c, &rec2, 3);
	cr_assert_eq(c->streams_admitted, 0);
	cr_assert_eq(c->plain_admitted, 0);
	kube_client_free(c);
	kube_config_free(cfg);
}

/* Deferred requests (Events) wait behind every other request that waits,
 * and keep their own order. */
Test(kube_client, deferred_requests_wait_behind_others, .init = quiet)
{
	struct kube_config *cfg;
	struct order_rec rec = {0};
	struct order_ud u[6];
	struct kube_client *c = slots_client(&cfg, 1, false);
	/* ids 0-2 deferred, 3-5 not, started alternately: 0 takes the free
	 * slot at once; the others wait. */
	static const int start_order[] = {0, 3, 1, 4, 2, 5};
	for (int k = 0; k < 6; k++) {
		int i = start_order[k];
		u[i] = (struct order_ud){.rec = &rec, .id = i};
		struct kube_request *r = i < 3
		    ? kube_request_start_deferred(c, "POST", "/api/v1/namespaces/default/events",
		                                  "{}", 2, NULL, on_done_order, &u[i])
		    : kube_request_start(c, "PUT", "/api/v1/namespaces/x", "{}", 2, NULL,
		                         on_done_order, NULL, &u[i]);
		cr_assert_not_null(r);
	}
	cr_assert_eq(kube_client_active(c), 6);
	run_until_ended(c, &rec, 6);
	assert_order(&rec, (const int[]){0, 3, 4, 5, 1, 2}, 6);
	kube_client_free(c);
	kube_config_free(cfg);
}

/* A deferred request that has waited KUBE_DEFER_MAX_MS goes before the
 * other waiting requests. */
Test(kube_client, deferred_request_goes_first_once_it_waited_long, .init = quiet)
{
	struct kube_config *cfg;
	struct order_rec rec = {0};
	struct order_ud u[4];
	struct kube_client *c = slots_client(&cfg, 1, false);
	for (int i = 0; i < 4; i++)
		u[i] = (struct order_ud){.rec = &rec, .id = i};
	/* 0 takes the slot; 1 and 2 wait; 3 (deferred) waits behind them. */
	for (int i = 0; i < 3; i++)
		cr_assert_not_null(kube_request_start(c, "PUT", "/api/v1/namespaces/x", "{}", 2,
		                                      NULL, on_done_order, NULL, &u[i]));
	struct kube_request *d = kube_request_start_deferred(
	    c, "POST", "/api/v1/namespaces/default/events", "{}", 2, NULL, on_done_order, &u[3]);
	cr_assert_not_null(d);
	cr_assert(d->queued);
	d->queued_at -= KUBE_DEFER_MAX_MS; /* as if it had waited that long */
	run_until_ended(c, &rec, 4);
	assert_order(&rec, (const int[]){0, 3, 1, 2}, 4);
	kube_client_free(c);
	kube_config_free(cfg);
}

/* A deferred request waits while another request is in flight, even with
 * slots free: the API server's time goes to that one first. */
Test(kube_client, deferred_request_waits_while_another_runs, .init = quiet)
{
	struct kube_config *cfg;
	struct order_rec rec = {0};
	struct order_ud u[2] = {{.rec = &rec, .id = 0}, {.rec = &rec, .id = 1}};
	struct kube_client *c = slots_client(&cfg, 16, true);
	struct kube_request *p = kube_request_start(c, "PUT", "/api/v1/namespaces/x", "{}", 2, NULL,
	                                            on_done_order, NULL, &u[0]);
	cr_assert_not_null(p);
	cr_assert(p->admitted);
	struct kube_request *d = kube_request_start_deferred(
	    c, "POST", "/api/v1/namespaces/default/events", "{}", 2, NULL, on_done_order, &u[1]);
	cr_assert_not_null(d);
	cr_assert(d->queued, "15 slots are free, but a request runs: the deferred one waits");
	cr_assert_not(d->admitted);
	run_until_ended(c, &rec, 2);
	cr_assert_eq(rec.seq[0], 0);
	cr_assert_eq(rec.seq[1], 1);
	kube_client_free(c);
	kube_config_free(cfg);
}

/* Deferred requests that waited KUBE_DEFER_MAX_MS while other requests run
 * take one slot in KUBE_DEFER_TRICKLE_DIV, no more; the rest go once the
 * others are done. */
Test(kube_client, late_deferred_requests_trickle_while_others_run, .init = quiet)
{
	struct kube_config *cfg;
	struct order_rec rec = {0};
	struct order_ud u[5];
	struct kube_request *d[4];
	const size_t cap = 2 * KUBE_DEFER_TRICKLE_DIV; /* two slots for late ones */
	struct kube_client *c = slots_client(&cfg, cap, true);
	for (int i = 0; i < 5; i++)
		u[i] = (struct order_ud){.rec = &rec, .id = i};
	cr_assert_not_null(kube_request_start(c, "PUT", "/api/v1/namespaces/x", "{}", 2, NULL,
	                                      on_done_order, NULL, &u[0]));
	for (int i = 0; i < 4; i++) {
		d[i] = kube_request_start_deferred(c, "POST", "/api/v1/namespaces/default/events",
		                                   "{}", 2, NULL, on_done_order, &u[i + 1]);
		cr_assert_not_null(d[i]);
		cr_assert(d[i]->queued);
		d[i]->queued_at -= KUBE_DEFER_MAX_MS; /* as if each had waited that long */
	}
	kube_client_admit(c);
	for (int i = 0; i < 4; i++)
		cr_assert_eq(d[i]->admitted, i < 2, "late deferred request %d: admitted %d", i,
		             d[i]->admitted);
	run_until_ended(c, &rec, 5);
	cr_assert_eq(kube_client_active(c), 0);
	kube_client_free(c);
	kube_config_free(cfg);
}

static int conn_calls;
static void on_conn(void *ud)
{
	(void)ud;
	conn_calls++;
}

Test(kube_client, connection_observer_and_http1, .init = quiet)
{
	char err[256];
	struct kube_config *cfg = closed_port_config();
	struct kube_client *c = kube_client_new(cfg, err, sizeof(err));
	cr_assert_not_null(c, "%s", err);
	kube_client_set_http_version(c, KUBE_HTTP_1_1);
	kube_client_set_conn_observer(c, on_conn, NULL);
	conn_calls = 0;
	long st = kube_request_sync(c, "GET", "/version", NULL, 0, NULL, NULL, err, sizeof(err));
	cr_assert_eq(st, 0);
	cr_assert_eq(conn_calls, 1);
	cr_assert_eq(kube_client_connections_opened(c), 1);
	kube_client_free(c);
	kube_config_free(cfg);
}

/* ---- the write gate ---- */

struct gate_rec {
	bool open;
	int asked;
	char last[128];
};

static bool gate(void *ud, const char *method, const char *path)
{
	struct gate_rec *g = ud;
	g->asked++;
	snprintf(g->last, sizeof(g->last), "%s %s", method, path);
	return g->open;
}

struct reason_rec {
	int calls;
	long status;
	char reason[32];
	char error[128];
};

static void on_done_reason(void *ud, const struct kube_response *resp)
{
	struct reason_rec *d = ud;
	d->calls++;
	d->status = resp->status;
	snprintf(d->reason, sizeof(d->reason), "%s", resp->reason);
	snprintf(d->error, sizeof(d->error), "%s", resp->error);
}

static void run_until_called(struct kube_client *c, const struct reason_rec *d)
{
	for (int i = 0; i < 400 && d->calls == 0; i++)
		cr_assert_eq(kube_client_run_once(c, NULL, 0, 50), 0);
	cr_assert_eq(d->calls, 1);
}

/* The gate is asked for each write as it goes out, reads never; a closed
 * gate keeps a write from the wire, whether it would go at once or leaves
 * the queue for a slot later, and says so in its reason. */
Test(kube_client, write_gate, .init = quiet)
{
	struct kube_config *cfg;
	char err[256];
	struct kube_client *c = slots_client(&cfg, 1, false);
	struct gate_rec g = {.open = false};
	kube_client_set_write_gate(c, gate, &g);

	long st = kube_request_sync(c, "GET", "/version", NULL, 0, NULL, NULL, err, sizeof(err));
	cr_assert_eq(st, 0);
	cr_assert_eq(g.asked, 0, "a read does not ask the gate");
	cr_assert_eq(kube_client_connections_opened(c), 1);

	struct reason_rec a = {0}, b = {0}, r = {0}, o = {0};
	cr_assert_null(
	    kube_request_start(c, "PUT", "/apis/x/v1/a", "{}", 2, NULL, on_done_reason, NULL, &a));
	cr_assert_eq(a.calls, 0, "done_cb is not called when start fails");
	cr_assert_eq(g.asked, 1);
	cr_assert_str_eq(g.last, "PUT /apis/x/v1/a");
	cr_assert_eq(kube_client_active(c), 0);

	/* The read takes the one slot; the write waits for it. */
	cr_assert_not_null(
	    kube_request_start(c, "GET", "/version", NULL, 0, NULL, on_done_reason, NULL, &r));
	cr_assert_not_null(
	    kube_request_start(c, "POST", "/apis/x/v1/b", "{}", 2, NULL, on_done_reason, NULL, &b));
	cr_assert_eq(g.asked, 1, "not asked while it waits");
	run_until_called(c, &b);
	cr_assert_eq(r.calls, 1);
	cr_assert_eq(g.asked, 2);
	cr_assert_str_eq(g.last, "POST /apis/x/v1/b");
	cr_assert_eq(b.status, 0);
	cr_assert_str_eq(b.reason, KUBE_REASON_NOT_SENT);
	cr_assert_not_null(strstr(b.error, "not sent"), "%s", b.error);
	cr_assert_eq(kube_client_connections_opened(c), 2, "only the read went out");

	/* Open: the write goes, and meets the closed port like any other. */
	g.open = true;
	cr_assert_not_null(kube_request_start(c, "DELETE", "/apis/x/v1/c", NULL, 0, NULL,
	                                      on_done_reason, NULL, &o));
	run_until_called(c, &o);
	cr_assert_eq(g.asked, 3);
	cr_assert_eq(o.status, 0);
	cr_assert_str_eq(o.reason, "");
	cr_assert_null(strstr(o.error, "not sent"), "%s", o.error);
	cr_assert_eq(kube_client_connections_opened(c), 3);
	kube_client_free(c);
	kube_config_free(cfg);
}

/* ---- read coalescing ---- */

Test(kube_coalesce, wait)
{
	/* Off, no step yet, a clock that went back, a window already past. */
	cr_expect_eq(kube_coalesce_wait_ms(1000, 999, 0), 0);
	cr_expect_eq(kube_coalesce_wait_ms(1000, 0, 2), 0);
	cr_expect_eq(kube_coalesce_wait_ms(1000, 1005, 2), 0);
	cr_expect_eq(kube_coalesce_wait_ms(1002, 1000, 2), 0);
	cr_expect_eq(kube_coalesce_wait_ms(5000, 1000, 50), 0);
	/* Within the window: what is left of it. */
	cr_expect_eq(kube_coalesce_wait_ms(1000, 1000, 2), 2);
	cr_expect_eq(kube_coalesce_wait_ms(1001, 1000, 2), 1);
	cr_expect_eq(kube_coalesce_wait_ms(1010, 1000, 50), 40);
}

Test(kube_coalesce, setter_clamps)
{
	char err[256];
	struct kube_config *cfg = closed_port_config();
	struct kube_client *c = kube_client_new(cfg, err, sizeof(err));
	cr_assert_not_null(c, "%s", err);
	cr_expect_eq(c->coalesce_ms, KUBE_DEFAULT_READ_COALESCE_MS);
	kube_client_set_read_coalescing(c, 0);
	cr_expect_eq(c->coalesce_ms, 0);
	kube_client_set_read_coalescing(c, -5);
	cr_expect_eq(c->coalesce_ms, 0);
	kube_client_set_read_coalescing(c, 1000);
	cr_expect_eq(c->coalesce_ms, KUBE_MAX_READ_COALESCE_MS);
	kube_client_free(c);
	kube_config_free(cfg);
}

/* A client whose one libcurl socket is the readable end of a socketpair
 * (libcurl ignores a step for a socket it does not know). */
static struct kube_client *readable_conn_client(struct kube_config **cfg, int sv[2])
{
	char err[256];
	*cfg = closed_port_config();
	struct kube_client *c = kube_client_new(*cfg, err, sizeof(err));
	cr_assert_not_null(c, "%s", err);
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	cr_assert_eq(write(sv[1], "x", 1), 1);
	kube_socket_cb(NULL, sv[0], CURL_POLL_IN, c, NULL);
	return c;
}

static void readable_conn_free(struct kube_client *c, struct kube_config *cfg, int sv[2])
{
	kube_socket_cb(NULL, sv[0], CURL_POLL_REMOVE, c, NULL);
	kube_client_free(c);
	kube_config_free(cfg);
	close(sv[0]);
	close(sv[1]);
}

/* A wake-up of the connection within the window of its last step waits the
 * window out; the first one does not. */
Test(kube_client, read_coalescing_holds_a_busy_connection, .init = quiet)
{
	struct kube_config *cfg;
	int sv[2];
	struct kube_client *c = readable_conn_client(&cfg, sv);
	kube_client_set_read_coalescing(c, 50);
	cr_assert_eq(c->last_sock_step_ms, 0);
	cr_assert_eq(kube_client_run_once(c, NULL, 0, 0), 0);
	cr_assert_gt(c->last_sock_step_ms, 0, "the step is remembered");
	/* The socket is still readable: the next wake-up is held until 50 ms
	 * after the step (poll never returns early with nothing else ready). */
	int64_t t0 = util_now_ms();
	c->last_sock_step_ms = t0;
	cr_assert_eq(kube_client_run_once(c, NULL, 0, 0), 0);
	cr_expect_geq(util_now_ms() - t0, 50);
	cr_expect_geq(c->last_sock_step_ms, t0 + 50);
	/* Off: no hold. */
	kube_client_set_read_coalescing(c, 0);
	c->last_sock_step_ms = util_now_ms();
	cr_assert_eq(kube_client_run_once(c, NULL, 0, 0), 0);
	readable_conn_free(c, cfg, sv);
}

static void *wake_client(void *arg)
{
	kube_client_wakeup(arg);
	return NULL;
}

/* The caller's fds and kube_client_wakeup() are never held. */
Test(kube_client, read_coalescing_never_holds_the_caller, .init = quiet, .timeout = 60)
{
	struct kube_config *cfg;
	int sv[2], pipefd[2];
	struct kube_client *c = readable_conn_client(&cfg, sv);
	/* A window no test would wait out (set past the flag's bound). */
	c->coalesce_ms = 600000;
	cr_assert_eq(pipe(pipefd), 0);
	cr_assert_eq(write(pipefd[1], "x", 1), 1);
	struct kube_pollfd fds[1] = {{.fd = pipefd[0], .events = POLLIN}};
	int64_t t0 = util_now_ms();
	c->last_sock_step_ms = t0;
	cr_assert_eq(kube_client_run_once(c, fds, 1, 0), 0);
	cr_expect(fds[0].revents & POLLIN);
	cr_expect_lt(util_now_ms() - t0, 60000, "not held for the window");
	/* The wake-up fd, written by another thread before or during the
	 * hold: either way the loop goes on at once. */
	pthread_t th;
	t0 = util_now_ms();
	c->last_sock_step_ms = t0;
	cr_assert_eq(pthread_create(&th, NULL, wake_client, c), 0);
	cr_assert_eq(kube_client_run_once(c, NULL, 0, 0), 0);
	cr_assert_eq(pthread_join(th, NULL), 0);
	cr_expect_lt(util_now_ms() - t0, 60000, "not held for the window");
	close(pipefd[0]);
	close(pipefd[1]);
	readable_conn_free(c, cfg, sv);
}
