/*
 * controller: the loop of `csr-approver run`.
 *
 * State, all owned by struct controller and touched by one thread:
 *  - informers for CSRs (one signer: a field selector; several: all CSRs,
 *    filtered here) and, when a policy needs them, Pods, Services, Nodes;
 *  - one identity cache per resource; a relist fills a fresh cache and
 *    swaps it in at the end, so lookups never see a half-listed world;
 *  - the CSR store: one entry per pending CSR of a configured signer, with
 *    the object as read (the approval PUT sends it back), the outstanding
 *    SubjectAccessReview and write, and tombstones for CSRs this process
 *    decided until the watch shows them decided;
 *  - the work queue of CSR names.
 *
 * Asynchronous requests carry a small context naming the entry by name
 * and a serial number, never by pointer: an entry may go away (the CSR was
 * deleted, the list swept it) while a request about it is in flight.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <poll.h>

#include "../cache/cache.h"
#include "../csr/csr.h"
#include "../httpd/httpd.h"
#include "../kobj/kobj.h"
#include "../kube/kube.h"
#include "../leader/leader.h"
#include "../log/log.h"
#include "../metrics/metrics.h"
#include "../util/util.h"
#include "../watch/watch.h"
#include "controller.h"
#include "internal.h"

#define ERRLEN 512
/* How long writes in flight may take to finish after SIGTERM. */
#define SHUTDOWN_GRACE_MS 10000
/* Longest sleep of the loop. */
#define LOOP_MAX_WAIT_MS 1000

enum res {
	RES_CSR,
	RES_POD,
	RES_SVC,
	RES_NODE,
	RES_N,
};

static const char *const res_names[RES_N] = {"certificatesigningrequests", "pods", "services",
                                             "nodes"};
static const char *const res_paths[RES_N] = {
    "/apis/certificates.k8s.io/v1/certificatesigningrequests",
    "/api/v1/pods",
    "/api/v1/services",
    "/api/v1/nodes",
};

enum sar_state {
	SAR_NONE,
	SAR_INFLIGHT,
	SAR_ALLOWED,
	SAR_DENIED,
};

struct csr_entry {
	char *name; /* owned */
	uint64_t serial; /* tells this entry from a later one of the same name */
	json_t *obj; /* owned reference: the pending CSR as last read; NULL otherwise */
	char *rv; /* owned: obj's resourceVersion */
	char *uid; /* owned */
	char *signer; /* owned */
	unsigned list_gen; /* the CSR list generation that last saw it */
	int64_t first_seen_ms; /* first seen pending: start of the decision duration */
	bool tombstone; /* decided (by this process, or terminally refused) */
	bool observed_decided; /* the watch showed it decided while a request was in flight */
	bool waiting_object; /* deferred for an object not cached yet */
	/* SubjectAccessReview, for the resourceVersion sar_rv */
	enum sar_state sar;
	char *sar_rv; /* owned */
	char *sar_sub; /* owned */
	bool sar_failed; /* the last review could not be asked: back off */
	/* approval write */
	bool write_inflight;
	bool get_inflight; /* re-read after a conflict */
	char *write_body; /* owned: a delayed write (testing aid) not yet sent */
	int64_t write_due_ms;
	enum policy_verdict w_verdict;
	const char *w_reason; /* static */
	const char *w_policy; /* borrowed from the policy set */
	char *w_message; /* owned */
	char *w_requester; /* owned */
	char *noted_rv; /* owned: leave-pending or dry-run already reported for it */
};

struct controller {
	struct controller_options opt;
	struct policy_set *set; /* owned */
	char *identity; /* owned */
	struct kube_config *cfg; /* owned */
	struct kube_client *client; /* owned */
	struct watch_informer *inf[RES_N];
	bool want[RES_N];
	struct cache *cache[RES_N]; /* index RES_POD..RES_NODE */
	struct cache *next[RES_N]; /* being filled by a LIST */
	struct policy_lookup lk[RES_N];
	uint64_t restarts_seen[RES_N];
	uint64_t relists_seen[RES_N];
	bool listed_once[RES_N];
	struct controller_map store; /* name -> struct csr_entry */
	unsigned csr_gen;
	uint64_t serial;
	size_t n_waiting;
	size_t n_delayed;
	size_t writes_inflight;
	size_t others_inflight; /* events, reviews, re-reads */
	struct controller_queue *queue;
	struct metrics *metrics;
	struct httpd *httpd; /* NULL when both addresses are "0" */
	bool httpd_failed;
	struct leader *leader; /* NULL without --leader-elect */
	char *lease_ns; /* owned */
	bool synced;
	bool stopping;
	bool releasing; /* shutting down: the lease release is in flight */
	bool leading;
	int64_t stop_deadline_ms;
	int64_t last_gauges_ms;
	int sigfd;
};

/* What an asynchronous request remembers of its CSR. */
struct req_ctx {
	struct controller *c;
	char *name;
	uint64_t serial;
};

static struct req_ctx *req_ctx_new(struct controller *c, const struct csr_entry *e)
{
	struct req_ctx *r = util_xcalloc(1, sizeof(*r));
	r->c = c;
	r->name = util_xstrdup(e->name);
	r->serial = e->serial;
	return r;
}

static void req_ctx_free(struct req_ctx *r)
{
	if (r == NULL)
		return;
	free(r->name);
	free(r);
}

/* The entry a request was about, if it is still the same one. */
static struct csr_entry *req_entry(const struct req_ctx *r)
{
	struct csr_entry *e = controller_map_get(&r->c->store, r->name);
	return e != NULL && e->serial == r->serial ? e : NULL;
}

/* ---------------------------------------------------------------- store */

static void entry_free(void *p)
{
	struct csr_entry *e = p;
	if (e == NULL)
		return;
	free(e->name);
	json_decref(e->obj);
	free(e->rv);
	free(e->uid);
	free(e->signer);
	free(e->sar_rv);
	free(e->sar_sub);
	free(e->write_body);
	free(e->w_message);
	free(e->w_requester);
	free(e->noted_rv);
	free(e);
}

static void entry_set_waiting(struct controller *c, struct csr_entry *e, bool waiting)
{
	if (e->waiting_object == waiting)
		return;
	e->waiting_object = waiting;
	if (waiting)
		c->n_waiting++;
	else
		c->n_waiting--;
}

static void entry_drop_delayed(struct controller *c, struct csr_entry *e)
{
	if (e->write_body == NULL)
		return;
	free(e->write_body);
	e->write_body = NULL;
	c->n_delayed--;
}

static void store_remove(struct controller *c, const char *name)
{
	struct csr_entry *e = controller_map_remove(&c->store, name);
	if (e == NULL)
		return;
	entry_set_waiting(c, e, false);
	entry_drop_delayed(c, e);
	controller_queue_forget(c->queue, name);
	entry_free(e);
}

/* Make e a tombstone: keep the name, drop the object. */
static void entry_tombstone(struct controller *c, struct csr_entry *e)
{
	e->tombstone = true;
	json_decref(e->obj);
	e->obj = NULL;
	entry_set_waiting(c, e, false);
	controller_queue_forget(c->queue, e->name);
}

static const char *json_str(const json_t *obj, const char *a, const char *b)
{
	const json_t *v = json_object_get(obj, a);
	if (b != NULL)
		v = json_object_get(v, b);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Does the CSR carry an Approved, Denied or Failed condition? */
static bool csr_is_decided(const json_t *obj)
{
	const json_t *conds = json_object_get(json_object_get(obj, "status"), "conditions");
	size_t i;
	const json_t *cond;
	if (!json_is_array(conds))
		return false;
	json_array_foreach(conds, i, cond)
	{
		const char *t = json_str(cond, "type", NULL);
		const char *s = json_str(cond, "status", NULL);
		if (t == NULL || (s != NULL && strcmp(s, "True") != 0))
			continue;
		if (strcmp(t, "Approved") == 0 || strcmp(t, "Denied") == 0 ||
		    strcmp(t, "Failed") == 0)
			return true;
	}
	return false;
}

/* A CSR seen in a LIST or a watch event (not DELETED). */
static void csr_observe(struct controller *c, const json_t *obj, bool from_list)
{
	const char *name = json_str(obj, "metadata", "name");
	const char *signer = json_str(obj, "spec", "signerName");
	const char *rv = json_str(obj, "metadata", "resourceVersion");
	struct csr_entry *e;

	if (name == NULL)
		return;
	e = controller_map_get(&c->store, name);
	const char *uid = json_str(obj, "metadata", "uid");
	if (e != NULL && uid != NULL && e->uid != NULL && strcmp(e->uid, uid) != 0) {
		/* Deleted and made again under the same name while the watch
		 * was away: another CSR. */
		store_remove(c, name);
		e = NULL;
	}
	if (signer == NULL || policy_set_find(c->set, signer) == NULL) {
		log_msg(LOG_TRACE, "not ours", "csr", name, "signer", signer, LOG_END);
		if (e != NULL)
			store_remove(c, name);
		return;
	}
	if (csr_is_decided(obj)) {
		if (e == NULL)
			return;
		if (e->write_inflight || e->get_inflight) {
			e->observed_decided = true;
			e->list_gen = c->csr_gen;
			return;
		}
		if (!e->tombstone)
			log_debug("decided elsewhere", "csr", name, "signer", signer);
		store_remove(c, name);
		return;
	}
	if (e == NULL) {
		e = util_xcalloc(1, sizeof(*e));
		e->name = util_xstrdup(name);
		e->serial = ++c->serial;
		e->signer = util_xstrdup(signer);
		e->uid = util_xstrdup(uid);
		e->first_seen_ms = watch_now_ms();
		controller_map_put(&c->store, name, e);
	}
	e->list_gen = c->csr_gen;
	if (e->tombstone)
		return; /* an older view of a CSR this process has decided */
	if (e->rv != NULL && rv != NULL && strcmp(e->rv, rv) == 0 && e->obj != NULL && from_list)
		return; /* unchanged */
	json_decref(e->obj);
	e->obj = json_incref((json_t *)obj);
	free(e->rv);
	e->rv = util_xstrdup(rv ? rv : "");
	controller_queue_add(c->queue, name, watch_now_ms());
}

/* ---------------------------------------------------------------- informers */

static void csr_list_begin(void *ud)
{
	struct controller *c = ud;
	c->csr_gen++;
	if (c->listed_once[RES_CSR])
		log_info("relisting", "resource", res_names[RES_CSR]);
}

static void csr_list_item(void *ud, const json_t *obj)
{
	csr_observe(ud, obj, true);
}

struct sweep_ctx {
	struct controller *c;
	struct util_strv gone;
};

static void csr_sweep_cb(void *ud, const char *key, void *val)
{
	struct sweep_ctx *s = ud;
	const struct csr_entry *e = val;
	if (e->list_gen != s->c->csr_gen)
		util_strv_push(&s->gone, key);
}

static void csr_list_end(void *ud)
{
	struct controller *c = ud;
	struct sweep_ctx s = {c, {0}};
	controller_map_foreach(&c->store, csr_sweep_cb, &s);
	for (size_t i = 0; i < s.gone.n; i++) {
		log_debug("gone", "csr", s.gone.v[i]);
		store_remove(c, s.gone.v[i]);
	}
	util_strv_free(&s.gone);
	c->listed_once[RES_CSR] = true;
}

static void csr_event(void *ud, enum watch_event_type type, const json_t *obj)
{
	struct controller *c = ud;
	if (type == WATCH_DELETED) {
		const char *name = json_str(obj, "metadata", "name");
		if (name != NULL && controller_map_get(&c->store, name) != NULL) {
			log_debug("deleted", "csr", name);
			store_remove(c, name);
		}
		return;
	}
	if (type == WATCH_ADDED || type == WATCH_MODIFIED)
		csr_observe(c, obj, false);
}

/* An identity object changed: CSRs waiting for one may decide now. */
static void requeue_waiting_cb(void *ud, const char *key, void *val)
{
	struct controller *c = ud;
	const struct csr_entry *e = val;
	if (e->waiting_object)
		controller_queue_add(c->queue, key, watch_now_ms());
}

static void identity_changed(struct controller *c)
{
	if (c->n_waiting > 0)
		controller_map_foreach(&c->store, requeue_waiting_cb, c);
}

/* Put obj (kind r) into cache k; DELETED removes it. */
static void identity_apply(struct cache *k, enum res r, enum watch_event_type type,
                           const json_t *obj)
{
	char err[ERRLEN];
	const char *name = json_str(obj, "metadata", "name");
	const char *ns = json_str(obj, "metadata", "namespace");
	if (name == NULL)
		return;
	if (type == WATCH_DELETED) {
		if (r == RES_POD && ns != NULL)
			cache_delete_pod(k, ns, name);
		else if (r == RES_SVC && ns != NULL)
			cache_delete_service(k, ns, name);
		else if (r == RES_NODE)
			cache_delete_node(k, name);
		return;
	}
	if (r == RES_POD) {
		struct policy_pod *p = kobj_pod_from_json(obj, err, sizeof(err));
		if (p != NULL)
			cache_put_pod(k, p);
	} else if (r == RES_SVC) {
		struct policy_service *s = kobj_service_from_json(obj, err, sizeof(err));
		if (s != NULL)
			cache_put_service(k, s);
	} else {
		struct policy_node *n = kobj_node_from_json(obj, err, sizeof(err));
		if (n != NULL)
			cache_put_node(k, n);
	}
}

static void identity_list_begin(struct controller *c, enum res r)
{
	cache_free(c->next[r]);
	c->next[r] = cache_new();
	if (c->listed_once[r])
		log_info("relisting", "resource", res_names[r]);
}

static void identity_list_item(struct controller *c, enum res r, const json_t *obj)
{
	if (c->next[r] == NULL)
		c->next[r] = cache_new();
	identity_apply(c->next[r], r, WATCH_ADDED, obj);
}

static void identity_list_end(struct controller *c, enum res r)
{
	if (c->next[r] == NULL)
		c->next[r] = cache_new();
	cache_free(c->cache[r]);
	c->cache[r] = c->next[r];
	c->next[r] = NULL;
	cache_lookup(c->cache[r], &c->lk[r]);
	c->listed_once[r] = true;
	identity_changed(c);
}

static void identity_event(struct controller *c, enum res r, enum watch_event_type type,
                           const json_t *obj)
{
	if (type != WATCH_ADDED && type != WATCH_MODIFIED && type != WATCH_DELETED)
		return;
	identity_apply(c->cache[r], r, type, obj);
	if (type != WATCH_DELETED)
		identity_changed(c);
}

#define IDENTITY_OPS(fn, R)                                                                        \
	static void fn##_list_begin(void *ud)                                                      \
	{                                                                                          \
		identity_list_begin(ud, R);                                                        \
	}                                                                                          \
	static void fn##_list_item(void *ud, const json_t *obj)                                    \
	{                                                                                          \
		identity_list_item(ud, R, obj);                                                    \
	}                                                                                          \
	static void fn##_list_end(void *ud)                                                        \
	{                                                                                          \
		identity_list_end(ud, R);                                                          \
	}                                                                                          \
	static void fn##_event(void *ud, enum watch_event_type type, const json_t *obj)            \
	{                                                                                          \
		identity_event(ud, R, type, obj);                                                  \
	}                                                                                          \
	static const struct watch_informer_ops fn##_ops = {fn##_list_begin, fn##_list_item,        \
	                                                   fn##_list_end, fn##_event};

IDENTITY_OPS(pod, RES_POD)
IDENTITY_OPS(svc, RES_SVC)
IDENTITY_OPS(node, RES_NODE)

static const struct watch_informer_ops csr_ops = {csr_list_begin, csr_list_item, csr_list_end,
                                                  csr_event};

/* ---------------------------------------------------------------- lookups */

struct decide_ctx {
	struct controller *c;
	struct csr_entry *e;
};

static enum policy_found lk_get_pod(void *ctx, const char *ns, const char *name,
                                    const struct policy_pod **out)
{
	struct controller *c = ((struct decide_ctx *)ctx)->c;
	const struct policy_lookup *l = &c->lk[RES_POD];
	if (l->get_pod == NULL)
		return POLICY_NOT_FOUND;
	return l->get_pod(l->ctx, ns, name, out);
}

static size_t lk_list_services(void *ctx, const char *ns, const struct policy_service *const **out)
{
	struct controller *c = ((struct decide_ctx *)ctx)->c;
	const struct policy_lookup *l = &c->lk[RES_SVC];
	if (l->list_services == NULL)
		return 0;
	return l->list_services(l->ctx, ns, out);
}

static enum policy_found lk_get_node(void *ctx, const char *name, const struct policy_node **out)
{
	struct controller *c = ((struct decide_ctx *)ctx)->c;
	const struct policy_lookup *l = &c->lk[RES_NODE];
	if (l->get_node == NULL)
		return POLICY_NOT_FOUND;
	return l->get_node(l->ctx, name, out);
}

static void sar_done(void *ud, const struct kube_response *resp)
{
	struct req_ctx *r = ud;
	struct controller *c = r->c;
	struct csr_entry *e;
	bool allowed = false;

	c->others_inflight--;
	e = req_entry(r);
	if (e == NULL || e->sar != SAR_INFLIGHT || c->stopping)
		goto out;
	if ((resp->status == 200 || resp->status == 201) &&
	    controller_sar_parse(resp->body, resp->body_len, &allowed) == 0) {
		e->sar = allowed ? SAR_ALLOWED : SAR_DENIED;
		log_debug("subject access review answered", "csr", e->name, "subresource",
		          e->sar_sub, "allowed", allowed ? "true" : "false");
		controller_queue_add(c->queue, e->name, watch_now_ms());
		goto out;
	}
	char code[16];
	snprintf(code, sizeof(code), "%ld", resp->status);
	log_warn("subject access review failed", "csr", e->name, "code", code, "error",
	         resp->error);
	if (resp->status == 403)
		log_error("missing RBAC: create on subjectaccessreviews.authorization.k8s.io",
		          "csr", e->name);
	e->sar = SAR_NONE;
	controller_queue_add_rate_limited(c->queue, e->name, watch_now_ms());
out:
	req_ctx_free(r);
}

static enum policy_sar_answer lk_authorize(void *ctx, const struct policy_sar *sar)
{
	struct decide_ctx *d = ctx;
	struct controller *c = d->c;
	struct csr_entry *e = d->e;
	const char *sub = sar->subresource ? sar->subresource : "";

	if (e->sar != SAR_NONE && e->sar_rv != NULL && strcmp(e->sar_rv, e->rv) == 0 &&
	    e->sar_sub != NULL && strcmp(e->sar_sub, sub) == 0) {
		if (e->sar == SAR_ALLOWED)
			return POLICY_SAR_ALLOWED;
		if (e->sar == SAR_DENIED)
			return POLICY_SAR_DENIED;
		return POLICY_SAR_PENDING;
	}
	if (e->sar == SAR_INFLIGHT)
		return POLICY_SAR_PENDING; /* an older question is still out; ask after it */
	char *body = controller_sar_body(sar);
	struct req_ctx *r = req_ctx_new(c, e);
	struct kube_request *kr = kube_request_start(
	    c->client, "POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", body,
	    strlen(body), NULL, sar_done, NULL, r);
	free(body);
	if (kr == NULL) {
		req_ctx_free(r);
		e->sar_failed = true;
		return POLICY_SAR_PENDING;
	}
	c->others_inflight++;
	e->sar = SAR_INFLIGHT;
	free(e->sar_rv);
	e->sar_rv = util_xstrdup(e->rv);
	free(e->sar_sub);
	e->sar_sub = util_xstrdup(sub);
	return POLICY_SAR_PENDING;
}

/* ---------------------------------------------------------------- events, log */

static void event_done(void *ud, const struct kube_response *resp)
{
	struct req_ctx *r = ud;
	r->c->others_inflight--;
	if (resp->status < 200 || resp->status >= 300) {
		char code[16];
		snprintf(code, sizeof(code), "%ld", resp->status);
		log_warn("could not record event", "csr", r->name, "code", code, "error",
		         resp->error);
	}
	req_ctx_free(r);
}

static void post_event(struct controller *c, const struct csr_entry *e, const char *type,
                       const char *reason, const char *message)
{
	struct controller_event ev = {
	    .csr_name = e->name,
	    .csr_uid = e->uid,
	    .type = type,
	    .reason = reason,
	    .message = message,
	    .instance = c->identity,
	};
	char *body = controller_event_body(&ev, time(NULL));
	if (body == NULL)
		return;
	struct req_ctx *r = req_ctx_new(c, e);
	if (kube_request_start(c->client, "POST", "/api/v1/namespaces/default/events", body,
	                       strlen(body), NULL, event_done, NULL, r) == NULL) {
		log_warn("could not record event", "csr", e->name, "error", "request not started");
		req_ctx_free(r);
	} else {
		c->others_inflight++;
	}
	free(body);
}

static void log_decision(const char *msg, const struct csr_entry *e, const char *requester,
                         const char *policy, const char *decision, const char *reason,
                         const char *message, double seconds)
{
	char dur[32] = "";
	if (seconds >= 0)
		snprintf(dur, sizeof(dur), "%.3f", seconds);
	log_info(msg, "csr", e->name, "signer", e->signer, "requester", requester, "policy", policy,
	         "decision", decision, "reason", reason, "message", message, "duration",
	         seconds >= 0 ? dur : NULL);
}

/* ---------------------------------------------------------------- writes */

static void start_write(struct controller *c, struct csr_entry *e, char *body);

static void get_done(void *ud, const struct kube_response *resp)
{
	struct req_ctx *r = ud;
	struct controller *c = r->c;
	struct csr_entry *e;
	json_t *obj = NULL;
	json_error_t jerr;

	c->others_inflight--;
	e = req_entry(r);
	if (e == NULL || c->stopping)
		goto out;
	e->get_inflight = false;
	if (resp->status == 404) {
		store_remove(c, e->name);
		goto out;
	}
	if (resp->status == 200)
		obj = json_loadb(resp->body, resp->body_len, 0, &jerr);
	if (obj == NULL) {
		char code[16];
		snprintf(code, sizeof(code), "%ld", resp->status);
		log_warn("could not re-read CSR", "csr", e->name, "code", code, "error",
		         resp->error);
		controller_queue_add_rate_limited(c->queue, e->name, watch_now_ms());
		goto out;
	}
	if (e->observed_decided || csr_is_decided(obj)) {
		log_info("decided elsewhere meanwhile", "csr", e->name);
		store_remove(c, e->name);
		goto out;
	}
	json_decref(e->obj);
	e->obj = json_incref(obj);
	free(e->rv);
	e->rv = util_xstrdup(json_str(obj, "metadata", "resourceVersion"));
	controller_queue_add(c->queue, e->name, watch_now_ms());
out:
	json_decref(obj);
	req_ctx_free(r);
}

static void reread(struct controller *c, struct csr_entry *e)
{
	char *esc = kube_escape(e->name);
	char *path =
	    util_xasprintf("/apis/certificates.k8s.io/v1/certificatesigningrequests/%s", esc);
	struct req_ctx *r = req_ctx_new(c, e);
	if (kube_request_start(c->client, "GET", path, NULL, 0, NULL, get_done, NULL, r) == NULL) {
		req_ctx_free(r);
		controller_queue_add_rate_limited(c->queue, e->name, watch_now_ms());
	} else {
		e->get_inflight = true;
		c->others_inflight++;
	}
	free(path);
	free(esc);
}

static void write_done(void *ud, const struct kube_response *resp)
{
	struct req_ctx *r = ud;
	struct controller *c = r->c;
	struct csr_entry *e;
	int64_t now = watch_now_ms();
	char code[16];

	c->writes_inflight--;
	snprintf(code, sizeof(code), "%ld", resp->status);
	e = req_entry(r);
	if (e == NULL) {
		log_debug("approval write finished for a CSR no longer tracked", "csr", r->name,
		          "code", code);
		goto out;
	}
	e->write_inflight = false;
	const char *decision = e->w_verdict == POLICY_APPROVE ? "approve" : "deny";
	if (resp->status == 200 || resp->status == 201) {
		double secs = (double)(now - e->first_seen_ms) / 1000.0;
		log_decision("decided", e, e->w_requester, e->w_policy, decision, e->w_reason,
		             e->w_message, secs);
		metrics_decision(c->metrics, e->w_policy, decision, e->w_reason, secs);
		post_event(c, e, e->w_verdict == POLICY_APPROVE ? "Normal" : "Warning", e->w_reason,
		           e->w_message);
		if (e->observed_decided)
			store_remove(c, e->name);
		else
			entry_tombstone(c, e);
		goto out;
	}
	if (c->stopping && resp->status == 0) {
		log_warn("approval write cancelled by shutdown", "csr", e->name);
		goto out;
	}
	switch (resp->status) {
	case 409:
		log_info("approval write conflict; re-reading", "csr", e->name, "error",
		         resp->error);
		if (e->observed_decided) {
			store_remove(c, e->name);
			break;
		}
		if (!c->stopping)
			reread(c, e);
		break;
	case 404:
		log_info("CSR gone before its decision was written", "csr", e->name);
		store_remove(c, e->name);
		break;
	case 422:
		log_warn("approval write refused; the CSR was decided meanwhile", "csr", e->name,
		         "error", resp->error);
		if (e->observed_decided)
			store_remove(c, e->name);
		else
			entry_tombstone(c, e);
		break;
	case 403:
		log_error("approval write forbidden: csr-approver needs update on "
		          "certificatesigningrequests/approval and approve on signers",
		          "csr", e->name, "signer", e->signer, "error", resp->error);
		controller_queue_add_rate_limited(c->queue, e->name, now);
		break;
	default:
		log_warn("approval write failed; will retry", "csr", e->name, "code", code, "error",
		         resp->error);
		controller_queue_add_rate_limited(c->queue, e->name, now);
		break;
	}
out:
	req_ctx_free(r);
}

/* Send body (ownership passes here) as the approval of e. */
static void start_write(struct controller *c, struct csr_entry *e, char *body)
{
	char *esc = kube_escape(e->name);
	char *path = util_xasprintf(
	    "/apis/certificates.k8s.io/v1/certificatesigningrequests/%s/approval", esc);
	struct req_ctx *r = req_ctx_new(c, e);
	if (kube_request_start(c->client, "PUT", path, body, strlen(body), NULL, write_done, NULL,
	                       r) == NULL) {
		log_warn("approval write not started", "csr", e->name);
		req_ctx_free(r);
		controller_queue_add_rate_limited(c->queue, e->name, watch_now_ms());
	} else {
		e->write_inflight = true;
		c->writes_inflight++;
	}
	free(path);
	free(esc);
	free(body);
}

struct delayed_ctx {
	struct controller *c;
	int64_t now;
	struct util_strv due;
};

static void delayed_cb(void *ud, const char *key, void *val)
{
	struct delayed_ctx *d = ud;
	const struct csr_entry *e = val;
	if (e->write_body != NULL && e->write_due_ms <= d->now)
		util_strv_push(&d->due, key);
}

static void start_delayed_writes(struct controller *c, int64_t now)
{
	if (c->n_delayed == 0)
		return;
	struct delayed_ctx d = {c, now, {0}};
	controller_map_foreach(&c->store, delayed_cb, &d);
	for (size_t i = 0; i < d.due.n; i++) {
		struct csr_entry *e = controller_map_get(&c->store, d.due.v[i]);
		char *body = e->write_body;
		e->write_body = NULL;
		c->n_delayed--;
		start_write(c, e, body);
	}
	util_strv_free(&d.due);
}

static void next_delayed_cb(void *ud, const char *key, void *val)
{
	int64_t *next = ud;
	const struct csr_entry *e = val;
	(void)key;
	if (e->write_body != NULL && (*next < 0 || e->write_due_ms < *next))
		*next = e->write_due_ms;
}

/* ---------------------------------------------------------------- reconcile */

static double since_s(int64_t from_ms)
{
	return (double)(watch_now_ms() - from_ms) / 1000.0;
}

/* Decide one CSR and act on the decision. */
static void reconcile(struct controller *c, const char *name)
{
	struct csr_entry *e = controller_map_get(&c->store, name);
	struct policy_request *req = NULL;
	struct csr_info *info = NULL;
	struct policy_decision d = {0};
	char err[ERRLEN] = "";
	char decode_err[ERRLEN] = "";
	int64_t now = watch_now_ms();

	if (e == NULL || e->tombstone || e->obj == NULL) {
		controller_queue_forget(c->queue, name);
		goto out;
	}
	if (e->write_inflight || e->get_inflight || e->write_body != NULL) {
		/* The answer of the write in flight decides what comes next. */
		goto out;
	}
	req = kobj_request_from_json(e->obj, err, sizeof(err));
	if (req == NULL) {
		/* The API server validated spec.request; a CSR that still does
		 * not convert is not judged: fail closed. */
		const struct policy_rule *rule = policy_set_find(c->set, e->signer);
		d.verdict = POLICY_DENY;
		d.reason = POLICY_R_INVALID_REQUEST;
		d.policy = rule ? rule->name : NULL;
		d.leave_pending =
		    rule != NULL && rule->on_failure == POLICY_ON_FAILURE_LEAVE_PENDING;
		d.message =
		    util_xasprintf("csr-approver: policy %s: %s", d.policy ? d.policy : "?", err);
	} else {
		if (csr_parse(req->request_pem, req->request_len, &info, decode_err,
		              sizeof(decode_err)) != 0)
			info = NULL;
		struct decide_ctx dc = {c, e};
		struct policy_lookup lookup = {
		    .ctx = &dc,
		    .get_pod = lk_get_pod,
		    .list_services = lk_list_services,
		    .get_node = lk_get_node,
		    .authorize = lk_authorize,
		};
		e->sar_failed = false;
		if (policy_decide(c->set, req, info, info ? NULL : decode_err, &lookup, &d) != 0) {
			log_error("could not decide", "csr", name);
			controller_queue_add_rate_limited(c->queue, name, now);
			goto out;
		}
	}
	const char *requester = req != NULL ? req->username : "";
	const char *reason = policy_reason_name(d.reason);
	switch (d.verdict) {
	case POLICY_SKIP:
		log_debug("skipped", "csr", name, "reason", reason);
		store_remove(c, name);
		goto out;
	case POLICY_PENDING:
		if (e->sar_failed)
			controller_queue_add_rate_limited(c->queue, name, now);
		/* else: the review's answer requeues it */
		goto out;
	case POLICY_APPROVE:
	case POLICY_DENY:
		break;
	}
	if (d.verdict == POLICY_DENY && now - e->first_seen_ms < c->opt.missing_object_retry_ms &&
	    d.missing_object) {
		/* Back off, but try once more right at the end of the wait. */
		int64_t left = e->first_seen_ms + c->opt.missing_object_retry_ms - now;
		int64_t delay = controller_queue_add_rate_limited(c->queue, name, now);
		if (left < delay)
			controller_queue_add_after(c->queue, name, now, left);
		if (!e->waiting_object)
			log_debug("waiting for an object the decision needs", "csr", name, "reason",
			          reason, "message", d.message);
		entry_set_waiting(c, e, true);
		goto out;
	}
	entry_set_waiting(c, e, false);
	const char *decision = d.verdict == POLICY_APPROVE ? "approve" : "deny";

	if (d.verdict == POLICY_DENY && d.leave_pending) {
		if (e->noted_rv == NULL || strcmp(e->noted_rv, e->rv) != 0) {
			log_decision("left pending", e, requester, d.policy, "leave-pending",
			             reason, d.message, since_s(e->first_seen_ms));
			metrics_decision(c->metrics, d.policy ? d.policy : "", "leave-pending",
			                 reason, -1);
			if (!c->opt.dry_run)
				post_event(c, e, "Warning", reason, d.message);
			free(e->noted_rv);
			e->noted_rv = util_xstrdup(e->rv);
		}
		controller_queue_forget(c->queue, name);
		goto out;
	}
	if (c->opt.dry_run) {
		if (e->noted_rv == NULL || strcmp(e->noted_rv, e->rv) != 0) {
			log_decision(d.verdict == POLICY_APPROVE ? "would approve (dry run)"
			                                         : "would deny (dry run)",
			             e, requester, d.policy, decision, reason, d.message, -1);
			metrics_decision(c->metrics, d.policy ? d.policy : "", decision, reason,
			                 -1);
			free(e->noted_rv);
			e->noted_rv = util_xstrdup(e->rv);
		}
		controller_queue_forget(c->queue, name);
		goto out;
	}
	char *body =
	    controller_approval_body(e->obj, d.verdict == POLICY_APPROVE ? "Approved" : "Denied",
	                             reason, d.message ? d.message : "", time(NULL));
	if (body == NULL) {
		log_error("could not build the approval body", "csr", name);
		store_remove(c, name);
		goto out;
	}
	e->w_verdict = d.verdict;
	e->w_reason = reason;
	e->w_policy = d.policy;
	free(e->w_message);
	e->w_message = util_xstrdup(d.message ? d.message : "");
	free(e->w_requester);
	e->w_requester = util_xstrdup(requester);
	if (c->opt.write_delay_ms > 0) {
		e->write_body = body;
		e->write_due_ms = now + c->opt.write_delay_ms;
		c->n_delayed++;
		log_debug("holding the approval write", "csr", name);
	} else {
		start_write(c, e, body);
	}
out:
	policy_decision_clear(&d);
	csr_info_free(info);
	policy_request_free(req);
}

/* ---------------------------------------------------------------- setup */

static int setup_signals(struct controller *c)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) != 0)
		return -1;
	signal(SIGPIPE, SIG_IGN);
	c->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	return c->sigfd >= 0 ? 0 : -1;
}

static void observe(void *ud, const char *verb, const char *resource, long code)
{
	struct controller *c = ud;
	metrics_api_request(c->metrics, verb, resource, code);
}

static char *make_identity(void)
{
	char host[256] = "";
	unsigned char rnd[4] = {0};
	if (gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0')
		snprintf(host, sizeof(host), "csr-approver");
	host[sizeof(host) - 1] = '\0';
	FILE *f = fopen("/dev/urandom", "rb");
	if (f != NULL) {
		if (fread(rnd, 1, sizeof(rnd), f) != sizeof(rnd))
			memset(rnd, 0, sizeof(rnd));
		fclose(f);
	}
	if (rnd[0] == 0 && rnd[1] == 0 && rnd[2] == 0 && rnd[3] == 0) {
		uint64_t t = (uint64_t)watch_now_ms() ^ (uint64_t)getpid();
		memcpy(rnd, &t, sizeof(rnd));
	}
	return util_xasprintf("%s_%02x%02x%02x%02x", host, rnd[0], rnd[1], rnd[2], rnd[3]);
}

struct controller *controller_new(const struct controller_options *o, struct policy_set *set,
                                  char *err, size_t errlen)
{
	struct controller *c = util_xcalloc(1, sizeof(*c));
	char inner[ERRLEN];

	c->opt = *o;
	c->set = set;
	c->sigfd = -1;
	c->leading = !o->leader_elect;
	c->identity = o->identity ? util_xstrdup(o->identity) : make_identity();
	c->queue = controller_queue_new(CONTROLLER_QUEUE_BASE_MS, CONTROLLER_QUEUE_MAX_MS);
	/* Before any thread exists (the HTTP server's, libcurl's resolver):
	 * threads inherit the mask, and a thread that does not block SIGTERM
	 * would take it and die of it. */
	if (setup_signals(c) != 0) {
		snprintf(err, errlen, "signals: %s", strerror(errno));
		goto fail;
	}
	c->metrics = metrics_new(o->version ? o->version : "dev");

	if (kube_config_load(o->kubeconfig, o->context, &c->cfg, inner, sizeof(inner)) != 0) {
		snprintf(err, errlen, "kube config: %s", inner);
		goto fail;
	}
	c->client = kube_client_new(c->cfg, inner, sizeof(inner));
	if (c->client == NULL) {
		snprintf(err, errlen, "kube client: %s", inner);
		goto fail;
	}
	kube_client_set_observer(c->client, observe, c);
	if (o->leader_elect) {
		c->lease_ns = util_xstrdup(o->lease_namespace      ? o->lease_namespace
		                               : c->cfg->namespace ? c->cfg->namespace
		                                                   : "default");
		struct leader_config lc = {
		    .ns = c->lease_ns,
		    .name = o->lease_name,
		    .identity = c->identity,
		    .lease_duration_ms = o->lease_duration_ms,
		    .renew_deadline_ms = o->renew_deadline_ms,
		    .retry_period_ms = o->retry_period_ms,
		};
		if (leader_config_validate(&lc, inner, sizeof(inner)) != 0) {
			snprintf(err, errlen, "leader election: %s", inner);
			goto fail;
		}
		c->leader = leader_new(c->client, &lc);
	}

	c->want[RES_CSR] = true;
	for (size_t i = 0; set != NULL && i < set->n_rules; i++) {
		if (set->rules[i].type == POLICY_TYPE_WORKLOAD)
			c->want[RES_POD] = c->want[RES_SVC] = true;
		else if (set->rules[i].type == POLICY_TYPE_KUBELET_SERVING)
			c->want[RES_NODE] = true;
	}
	for (int r = RES_POD; r < RES_N; r++) {
		c->cache[r] = cache_new();
		cache_lookup(c->cache[r], &c->lk[r]);
	}

	/* One server: metrics and probes share handlers and readiness. */
	const char *addrs[2] = {o->metrics_addr, o->probe_addr};
	const char *flags[2] = {"--metrics-bind-address", "--health-probe-bind-address"};
	for (int i = 0; i < 2; i++) {
		if (addrs[i] == NULL || strcmp(addrs[i], "0") == 0 || addrs[i][0] == '\0')
			continue;
		if (c->httpd == NULL)
			c->httpd = httpd_start(addrs[i], c->metrics, inner, sizeof(inner));
		else if (httpd_add_listener(c->httpd, addrs[i], inner, sizeof(inner)) < 0)
			c->httpd_failed = true;
		if (c->httpd == NULL || c->httpd_failed) {
			snprintf(err, errlen, "%s %s: %s", flags[i], addrs[i], inner);
			goto fail;
		}
	}
	metrics_set_leader(c->metrics, c->leading);
	return c;
fail:
	controller_free(c);
	return NULL;
}

static void stop_informers(struct controller *c)
{
	for (int r = 0; r < RES_N; r++) {
		watch_informer_free(c->inf[r]);
		c->inf[r] = NULL;
	}
}

void controller_free(struct controller *c)
{
	if (c == NULL)
		return;
	c->stopping = true;
	httpd_stop(c->httpd);
	stop_informers(c);
	leader_free(c->leader);
	c->leader = NULL;
	/* Cancels what is still in flight; the callbacks see c->stopping. */
	kube_client_free(c->client);
	kube_config_free(c->cfg);
	controller_map_clear(&c->store, entry_free);
	controller_queue_free(c->queue);
	for (int r = 0; r < RES_N; r++) {
		cache_free(c->cache[r]);
		cache_free(c->next[r]);
	}
	metrics_free(c->metrics);
	policy_set_free(c->set);
	free(c->identity);
	free(c->lease_ns);
	if (c->sigfd >= 0)
		close(c->sigfd);
	free(c);
}

/* ---------------------------------------------------------------- loop */

static int start_informers(struct controller *c)
{
	static const struct watch_informer_ops *const ops[RES_N] = {&csr_ops, &pod_ops, &svc_ops,
	                                                            &node_ops};
	const char *selector = NULL;
	char *sel = NULL;
	if (c->set != NULL && c->set->n_rules == 1) {
		sel = util_xasprintf("spec.signerName=%s", c->set->rules[0].signer_name);
		selector = sel;
	}
	for (int r = 0; r < RES_N; r++) {
		if (!c->want[r])
			continue;
		c->inf[r] = watch_informer_new(c->client, res_names[r], res_paths[r],
		                               r == RES_CSR ? selector : NULL, ops[r], c);
		if (c->inf[r] == NULL || watch_informer_start(c->inf[r]) != 0) {
			log_error("could not start informer", "resource", res_names[r]);
			free(sel);
			return -1;
		}
	}
	free(sel);
	return 0;
}

static bool all_synced(const struct controller *c)
{
	for (int r = 0; r < RES_N; r++)
		if (c->want[r] && (c->inf[r] == NULL || !watch_informer_synced(c->inf[r])))
			return false;
	return true;
}

/* /readyz names the caches not synced yet. */
static void report_unsynced(struct controller *c)
{
	char why[HTTPD_MAX_REASON] = "caches not synced yet:";
	size_t n = strlen(why), first = n;
	for (int r = 0; r < RES_N && n < sizeof(why); r++)
		if (c->want[r] && (c->inf[r] == NULL || !watch_informer_synced(c->inf[r])))
			n += (size_t)snprintf(why + n, sizeof(why) - n, "%s %s",
			                      n > first ? "," : "", res_names[r]);
	httpd_set_not_ready(c->httpd, why);
}

static void update_gauges(struct controller *c, int64_t now, bool force)
{
	if (!force && now - c->last_gauges_ms < 1000)
		return;
	c->last_gauges_ms = now;
	for (int r = 0; r < RES_N; r++) {
		if (c->inf[r] == NULL)
			continue;
		uint64_t n = watch_informer_restarts(c->inf[r]);
		for (; c->restarts_seen[r] < n; c->restarts_seen[r]++)
			metrics_watch_restart(c->metrics, res_names[r]);
		uint64_t rl = watch_informer_relists(c->inf[r]);
		if (rl > c->relists_seen[r]) {
			char num[24];
			snprintf(num, sizeof(num), "%llu", (unsigned long long)rl);
			log_info("relisted after 410 Gone", "resource", res_names[r], "relists",
			         num);
			c->relists_seen[r] = rl;
		}
	}
	metrics_set_cache_objects(c->metrics, "pods", (double)cache_count_pods(c->cache[RES_POD]));
	metrics_set_cache_objects(c->metrics, "services",
	                          (double)cache_count_services(c->cache[RES_SVC]));
	metrics_set_cache_objects(c->metrics, "nodes",
	                          (double)cache_count_nodes(c->cache[RES_NODE]));
	metrics_set_cache_objects(c->metrics, "certificatesigningrequests", (double)c->store.n);
}

static int64_t min_deadline(int64_t a, int64_t b)
{
	if (a < 0)
		return b;
	if (b < 0)
		return a;
	return a < b ? a : b;
}

static void begin_shutdown(struct controller *c, const char *why)
{
	int64_t now = watch_now_ms();
	char n[24];
	snprintf(n, sizeof(n), "%zu", c->writes_inflight);
	log_info("shutting down", "signal", why, "writes_in_flight", n);
	c->stopping = true;
	c->stop_deadline_ms = now + SHUTDOWN_GRACE_MS;
	stop_informers(c);
	if (c->httpd != NULL)
		httpd_set_not_ready(c->httpd, "shutting down");
}

/* Is the lease still ours right now? Checked before each piece of work, so
 * that a process that was frozen past its renew deadline decides nothing
 * on waking. */
static bool still_leading(struct controller *c)
{
	if (c->leader == NULL)
		return true;
	leader_tick(c->leader, watch_now_ms());
	return leader_is_leader(c->leader);
}

/* Read pending signals; returns the name of the last one, or NULL. */
static const char *read_signal(struct controller *c)
{
	struct signalfd_siginfo si;
	const char *name = NULL;
	while (read(c->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		name = si.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT";
	return name;
}

int controller_run(struct controller *c)
{
	int rc = 0;
	if (c->set == NULL || c->set->n_rules == 0)
		log_warn("no policies configured: every CSR is skipped, nothing will be decided");
	char nrules[24];
	snprintf(nrules, sizeof(nrules), "%zu", c->set ? c->set->n_rules : (size_t)0);
	log_info("starting", "server", c->cfg->server, "source", c->cfg->source, "identity",
	         c->identity, "policies", nrules, "dry_run", c->opt.dry_run ? "true" : "false");
	if (c->leader != NULL) {
		char dur[64];
		snprintf(dur, sizeof(dur), "%lld/%lld/%lld ms", (long long)c->opt.lease_duration_ms,
		         (long long)c->opt.renew_deadline_ms, (long long)c->opt.retry_period_ms);
		log_info("leader election on", "lease", c->opt.lease_name, "namespace", c->lease_ns,
		         "lease/renew/retry", dur);
	}
	if (start_informers(c) != 0)
		return 1;

	for (;;) {
		int64_t now = watch_now_ms();
		int64_t next = c->leader != NULL ? leader_next_deadline(c->leader) : -1;
		if (!c->stopping) {
			for (int r = 0; r < RES_N; r++)
				if (c->inf[r] != NULL)
					next = min_deadline(
					    next, watch_informer_next_deadline(c->inf[r]));
			if (c->synced && c->leading)
				next = min_deadline(next, controller_queue_next_due(c->queue));
			if (c->n_delayed > 0) {
				int64_t d = -1;
				controller_map_foreach(&c->store, next_delayed_cb, &d);
				next = min_deadline(next, d);
			}
		} else {
			next = min_deadline(next, c->stop_deadline_ms);
		}
		int64_t wait = next < 0 ? LOOP_MAX_WAIT_MS : next - now;
		if (wait < 0)
			wait = 0;
		if (wait > LOOP_MAX_WAIT_MS)
			wait = LOOP_MAX_WAIT_MS;
		struct kube_pollfd pfd = {c->sigfd, POLLIN, 0};
		if (kube_client_run_once(c->client, &pfd, 1, (int)wait) != 0) {
			log_error("the API client failed");
			rc = 1;
			break;
		}
		now = watch_now_ms();
		if (pfd.revents & POLLIN) {
			const char *sig = read_signal(c);
			if (sig != NULL) {
				if (c->stopping) {
					log_warn("second signal: exiting now", "signal", sig);
					break;
				}
				begin_shutdown(c, sig);
			}
		}
		if (c->leader != NULL && !c->releasing) {
			leader_tick(c->leader, now);
			if (leader_lost(c->leader)) {
				/* Another instance may be deciding already: stop at
				 * once, and let the process be restarted. */
				log_error("leadership lost: exiting");
				metrics_set_leader(c->metrics, false);
				rc = 1;
				break;
			}
			bool leading = leader_is_leader(c->leader);
			if (leading != c->leading) {
				c->leading = leading;
				metrics_set_leader(c->metrics, leading);
				if (leading)
					log_info("leading: deciding CSRs", "identity", c->identity);
			}
		}
		if (c->stopping) {
			if (now >= c->stop_deadline_ms) {
				char n[24];
				snprintf(n, sizeof(n), "%zu", c->writes_inflight);
				log_warn("requests still in flight at the end of the grace period",
				         "writes_in_flight", n);
				break;
			}
			if (c->writes_inflight > 0 || c->others_inflight > 0)
				continue;
			/* Writes done: hand the lease over so a standby starts now. */
			if (c->leader != NULL && !c->releasing) {
				c->releasing = true;
				c->leading = false;
				metrics_set_leader(c->metrics, false);
				if (leader_release(c->leader))
					continue;
			}
			if (c->leader != NULL && leader_busy(c->leader))
				continue;
			break;
		}
		for (int r = 0; r < RES_N; r++)
			if (c->inf[r] != NULL)
				watch_informer_tick(c->inf[r], now);
		if (!c->synced && c->httpd != NULL)
			report_unsynced(c);
		if (!c->synced && all_synced(c)) {
			c->synced = true;
			char np[24], ns[24], nn[24], nc[24];
			snprintf(np, sizeof(np), "%zu", cache_count_pods(c->cache[RES_POD]));
			snprintf(ns, sizeof(ns), "%zu", cache_count_services(c->cache[RES_SVC]));
			snprintf(nn, sizeof(nn), "%zu", cache_count_nodes(c->cache[RES_NODE]));
			snprintf(nc, sizeof(nc), "%zu", c->store.n);
			log_info("caches synced", "pods", np, "services", ns, "nodes", nn,
			         "pending_csrs", nc);
			if (c->httpd != NULL)
				httpd_set_ready(c->httpd, true);
			update_gauges(c, now, true);
		}
		update_gauges(c, now, false);
		if (!c->synced || !c->leading)
			continue;
		if (!still_leading(c))
			continue;
		start_delayed_writes(c, now);
		/* Bounded per iteration so the network keeps being served. */
		for (int i = 0; i < 256 && still_leading(c); i++) {
			char *name = controller_queue_pop(c->queue, now);
			if (name == NULL)
				break;
			reconcile(c, name);
			free(name);
		}
	}
	log_info("stopped");
	return rc;
}
