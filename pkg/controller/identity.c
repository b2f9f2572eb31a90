/*
 * controller: the identity objects a decision reads (Pods, Services,
 * Nodes). Informers fill one cache per resource. A relist (the first LIST,
 * and each after a 410) refreshes that cache in place, page by page, and
 * drops at its end what the LIST did not hold (cache_relist_end()): never
 * two full caches at once. Meanwhile lookups see each object as it was
 * before the relist or as listed, never older than before, as they would
 * between two watch events; decisions wait for the first sync anyway.
 * Before a denial that rests on these objects alone, the objects
 * the decision read are read again live from the API server: the decision
 * is made again on what was read (an overlay on the caches for that one
 * decision), and the caches take the fresh copies too.
 */
#include <stdlib.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "../cache/cache.h"
#include "../kobj/kobj.h"
#include "../kube/kube.h"
#include "../log/log.h"
#include "../util/util.h"
#include "internal.h"

#define ERRLEN 512

/* ---------------------------------------------------------------- caches */

/* Put obj (kind r) into cache k, as an item of the LIST under way when
 * listed; DELETED removes it. An object that does not convert leaves the
 * cache: a stale copy must not decide. */
static void identity_apply(struct cache *k, enum res r, enum watch_event_type type,
                           const json_t *obj, bool listed)
{
	char err[ERRLEN];
	const char *name = controller_json_str(obj, "metadata", "name");
	const char *ns = controller_json_str(obj, "metadata", "namespace");
	bool gone = type == WATCH_DELETED;
	if (name == NULL || (r != RES_NODE && ns == NULL))
		return;
	if (!gone && r == RES_POD) {
		struct policy_pod *p = kobj_pod_from_json(obj, err, sizeof(err));
		if (p != NULL)
			(listed ? cache_list_pod : cache_put_pod)(k, p);
		gone = p == NULL;
	} else if (!gone && r == RES_SVC) {
		struct policy_service *s = kobj_service_from_json(obj, err, sizeof(err));
		if (s != NULL)
			(listed ? cache_list_service : cache_put_service)(k, s);
		gone = s == NULL;
	} else if (!gone) {
		struct policy_node *n = kobj_node_from_json(obj, err, sizeof(err));
		if (n != NULL)
			(listed ? cache_list_node : cache_put_node)(k, n);
		gone = n == NULL;
	}
	if (!gone)
		return;
	if (type != WATCH_DELETED)
		log_warn("object does not convert; dropped from the cache", "resource",
		         controller_res_names[r], "namespace", ns, "name", name, "error", err);
	if (r == RES_POD)
		cache_delete_pod(k, ns, name);
	else if (r == RES_SVC)
		cache_delete_service(k, ns, name);
	else
		cache_delete_node(k, name);
}

static void identity_list_begin(struct controller *c, enum res r)
{
	cache_relist_begin(c->cache[r]);
	if (c->listed_once[r])
		log_info("relisting", "resource", controller_res_names[r]);
}

static void identity_list_item(struct controller *c, enum res r, const json_t *obj)
{
	identity_apply(c->cache[r], r, WATCH_ADDED, obj, true);
}

static void identity_list_end(struct controller *c, enum res r)
{
	size_t gone = cache_relist_end(c->cache[r]);
	if (c->listed_once[r] && gone > 0) {
		char n[24];
		snprintf(n, sizeof(n), "%zu", gone);
		log_info("relisted: dropped what the list no longer holds", "resource",
		         controller_res_names[r], "objects", n);
	}
	c->listed_once[r] = true;
	c->trim_heap = true;
	store_requeue_waiting(c);
}

void identity_trim_heap(struct controller *c)
{
	if (!c->trim_heap)
		return;
	c->trim_heap = false;
#ifdef __GLIBC__
	/* The pages' text and objects were freed, but glibc keeps the memory
	 * they took (below the top of the heap, or in chunks it once mapped):
	 * give it back. About 1.3 MiB at idle with 1,000 Nodes; a LIST is
	 * rare enough for the walk over the free lists. */
	malloc_trim(0);
#endif
}

/* ---- events held back (test builds: --identity-event-delay) ---- */

struct delayed_event {
	enum res r;
	enum watch_event_type type;
	json_t *obj; /* owned reference */
	int64_t due_ms;
	struct delayed_event *next;
};

struct identity_delay {
	struct delayed_event *head, *tail; /* FIFO: due times only grow */
};

void identity_delay_free(struct identity_delay *d)
{
	if (d == NULL)
		return;
	while (d->head != NULL) {
		struct delayed_event *ev = d->head;
		d->head = ev->next;
		json_decref(ev->obj);
		free(ev);
	}
	free(d);
}

static void identity_event_now(struct controller *c, enum res r, enum watch_event_type type,
                               const json_t *obj)
{
	identity_apply(c->cache[r], r, type, obj, false);
	if (type != WATCH_DELETED)
		store_requeue_waiting(c);
}

static void identity_event(struct controller *c, enum res r, enum watch_event_type type,
                           const json_t *obj)
{
	if (type != WATCH_ADDED && type != WATCH_MODIFIED && type != WATCH_DELETED)
		return;
	if (c->opt.identity_event_delay_ms <= 0) {
		identity_event_now(c, r, type, obj);
		return;
	}
	/* A watch that lags, made on purpose for the stale-cache tests. */
	if (c->delayed == NULL)
		c->delayed = util_xcalloc(1, sizeof(*c->delayed));
	struct delayed_event *ev = util_xcalloc(1, sizeof(*ev));
	ev->r = r;
	ev->type = type;
	ev->obj = json_incref((json_t *)obj);
	ev->due_ms = util_now_ms() + c->opt.identity_event_delay_ms;
	if (c->delayed->tail != NULL)
		c->delayed->tail->next = ev;
	else
		c->delayed->head = ev;
	c->delayed->tail = ev;
}

int64_t identity_apply_delayed(struct controller *c, int64_t now)
{
	struct identity_delay *d = c->delayed;
	while (d != NULL && d->head != NULL && d->head->due_ms <= now) {
		struct delayed_event *ev = d->head;
		d->head = ev->next;
		if (d->head == NULL)
			d->tail = NULL;
		identity_event_now(c, ev->r, ev->type, ev->obj);
		json_decref(ev->obj);
		free(ev);
	}
	return d != NULL && d->head != NULL ? d->head->due_ms : -1;
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

const struct watch_informer_ops *identity_ops(enum res r)
{
	switch (r) {
	case RES_POD:
		return &pod_ops;
	case RES_SVC:
		return &svc_ops;
	case RES_NODE:
		return &node_ops;
	default:
		return NULL;
	}
}

/* ---------------------------------------------------------------- lookups */

static void note_read(char **slot, const char *value)
{
	if (*slot != NULL && value != NULL && strcmp(*slot, value) == 0)
		return;
	free(*slot);
	*slot = value ? util_xstrdup(value) : NULL;
}

static bool streq(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

static enum policy_found lk_get_pod(void *ctx, const char *ns, const char *name,
                                    const struct policy_pod **out)
{
	struct identity_read_ctx *d = ctx;
	const struct live_objs *live = d->e->live;
	note_read(&d->e->read_pod_ns, ns);
	note_read(&d->e->read_pod_name, name);
	if (live != NULL && streq(live->pod_ns, ns) && streq(live->pod_name, name)) {
		*out = live->pod;
		return live->pod != NULL ? POLICY_FOUND : POLICY_NOT_FOUND;
	}
	const struct policy_lookup *l = &d->c->lk[RES_POD];
	return l->get_pod != NULL ? l->get_pod(l->ctx, ns, name, out) : POLICY_NOT_FOUND;
}

static size_t lk_list_services(void *ctx, const char *ns, const struct policy_service *const **out)
{
	struct identity_read_ctx *d = ctx;
	const struct live_objs *live = d->e->live;
	note_read(&d->e->read_svc_ns, ns);
	if (live != NULL && streq(live->svc_ns, ns)) {
		*out = (const struct policy_service *const *)live->svcs;
		return live->n_svcs;
	}
	const struct policy_lookup *l = &d->c->lk[RES_SVC];
	return l->list_services != NULL ? l->list_services(l->ctx, ns, out) : 0;
}

static enum policy_found lk_get_node(void *ctx, const char *name, const struct policy_node **out)
{
	struct identity_read_ctx *d = ctx;
	const struct live_objs *live = d->e->live;
	note_read(&d->e->read_node, name);
	if (live != NULL && streq(live->node_name, name)) {
		*out = live->node;
		return live->node != NULL ? POLICY_FOUND : POLICY_NOT_FOUND;
	}
	const struct policy_lookup *l = &d->c->lk[RES_NODE];
	return l->get_node != NULL ? l->get_node(l->ctx, name, out) : POLICY_NOT_FOUND;
}

/* ServiceAccounts are not cached (only a PCR's decision reads one): the
 * uid is the one a live read gave, and until one has, "not found", a
 * denial on objects that the live read settles. */
static enum policy_found lk_get_service_account_uid(void *ctx, const char *ns, const char *name,
                                                    const char **uid)
{
	struct identity_read_ctx *d = ctx;
	const struct live_objs *live = d->e->live;
	note_read(&d->e->read_sa_ns, ns);
	note_read(&d->e->read_sa_name, name);
	if (live != NULL && streq(live->sa_ns, ns) && streq(live->sa_name, name)) {
		*uid = live->sa_uid;
		return live->sa_uid != NULL ? POLICY_FOUND : POLICY_NOT_FOUND;
	}
	d->e->sa_unread = true;
	return POLICY_NOT_FOUND;
}

void identity_lookup(struct identity_read_ctx *ctx, struct policy_lookup *l)
{
	struct csr_entry *e = ctx->e;
	free(e->read_pod_ns);
	free(e->read_pod_name);
	free(e->read_svc_ns);
	free(e->read_node);
	free(e->read_sa_ns);
	free(e->read_sa_name);
	e->read_pod_ns = e->read_pod_name = e->read_svc_ns = e->read_node = NULL;
	e->read_sa_ns = e->read_sa_name = NULL;
	e->sa_unread = false;
	memset(l, 0, sizeof(*l));
	l->ctx = ctx;
	l->get_pod = lk_get_pod;
	l->list_services = lk_list_services;
	l->get_node = lk_get_node;
	l->get_service_account_uid = lk_get_service_account_uid;
	l->authorization = POLICY_SAR_UNASKED;
}

/* ---------------------------------------------------------------- live reads */

struct live_req {
	struct controller *c;
	char *name; /* the CSR's */
	uint64_t serial;
	enum res r; /* RES_N: the ServiceAccount */
};

static struct csr_entry *live_entry(const struct live_req *q)
{
	struct csr_entry *e = controller_map_get(&q->c->store, q->name);
	return e != NULL && e->serial == q->serial && e->state == CSR_ST_READING && e->live != NULL
	    ? e
	    : NULL;
}

/* One object of a live read: into the overlay (a copy) and into the cache
 * when that resource is watched (an unwatched cache would keep it stale). */
static void live_take(struct controller *c, struct live_objs *l, enum res r, const json_t *obj)
{
	char err[ERRLEN];
	if (r == RES_N) {
		const char *uid = controller_json_str(obj, "metadata", "uid");
		l->sa_uid = util_xstrdup(uid != NULL ? uid : "");
		return;
	}
	if (c->want[r])
		identity_apply(c->cache[r], r, WATCH_MODIFIED, obj, false);
	if (r == RES_POD) {
		l->pod = kobj_pod_from_json(obj, err, sizeof(err));
	} else if (r == RES_NODE) {
		l->node = kobj_node_from_json(obj, err, sizeof(err));
	} else {
		struct policy_service *s = kobj_service_from_json(obj, err, sizeof(err));
		if (s == NULL)
			return;
		l->svcs = util_xreallocarray(l->svcs, l->n_svcs + 1, sizeof(*l->svcs));
		l->svcs[l->n_svcs++] = s;
	}
}

static void live_done(void *ud, const struct kube_response *resp)
{
	struct live_req *q = ud;
	struct controller *c = q->c;
	struct csr_entry *e;
	json_t *body = NULL;
	json_error_t jerr;

	c->others_inflight--;
	e = live_entry(q);
	if (e == NULL || c->stopping)
		goto out;
	struct live_objs *l = e->live;
	l->reads_left--;
	if (resp->status == 404 && q->r != RES_SVC) {
		/* Gone: the cache forgets it too. */
		if (q->r == RES_POD)
			cache_delete_pod(c->cache[RES_POD], l->pod_ns, l->pod_name);
		else if (q->r == RES_NODE)
			cache_delete_node(c->cache[RES_NODE], l->node_name);
	} else if (resp->status == 200 &&
	           (body = json_loadb(resp->body, resp->body_len, 0, &jerr)) != NULL) {
		if (q->r == RES_SVC) {
			size_t i;
			json_t *item;
			json_array_foreach(json_object_get(body, "items"), i, item)
			{
				live_take(c, l, RES_SVC, item);
			}
		} else {
			live_take(c, l, q->r, body);
		}
	} else {
		char code[16];
		snprintf(code, sizeof(code), "%ld", resp->status);
		log_warn("live read failed", "csr", e->name, "resource",
		         q->r == RES_N ? "serviceaccounts" : controller_res_names[q->r], "code",
		         code, "error", resp->error);
		l->failed = true;
	}
	if (l->reads_left > 0)
		goto out;
	store_set_state(c, e, CSR_ST_PENDING);
	if (l->failed) {
		/* Nothing is denied on a read that did not answer: try again. */
		live_objs_free(e->live);
		e->live = NULL;
		controller_queue_add_rate_limited(c->queue, e->name, util_now_ms());
	} else {
		controller_queue_add(c->queue, e->name, util_now_ms());
	}
out:
	json_decref(body);
	free(q->name);
	free(q);
}

static bool live_start(struct controller *c, struct csr_entry *e, enum res r, char *path)
{
	struct live_req *q = util_xcalloc(1, sizeof(*q));
	q->c = c;
	q->name = util_xstrdup(e->name);
	q->serial = e->serial;
	q->r = r;
	bool ok =
	    kube_request_start(c->client, "GET", path, NULL, 0, NULL, live_done, NULL, q) != NULL;
	if (ok) {
		c->others_inflight++;
		e->live->reads_left++;
	} else {
		free(q->name);
		free(q);
	}
	free(path);
	return ok;
}

/* "/api/v1/namespaces/NS/KIND[/NAME]" or "/api/v1/KIND/NAME" (ns NULL). */
static char *live_path(const char *ns, const char *kind, const char *name)
{
	struct util_buf b = {0};
	util_buf_puts(&b, "/api/v1/");
	if (ns != NULL) {
		char *e = kube_escape(ns);
		util_buf_printf(&b, "namespaces/%s/", e);
		free(e);
	}
	util_buf_puts(&b, kind);
	if (name != NULL) {
		char *e = kube_escape(name);
		util_buf_printf(&b, "/%s", e);
		free(e);
	}
	return util_buf_take(&b);
}

/* Read live what the last decision read: everything, or (uncached_only)
 * only what no cache holds. */
static int read_live(struct controller *c, struct csr_entry *e, bool uncached_only)
{
	bool all = true;
	live_objs_free(e->live);
	e->live = util_xcalloc(1, sizeof(*e->live));
	struct live_objs *l = e->live;
	l->uncached_only = uncached_only;
	if (!uncached_only && e->read_pod_ns != NULL && e->read_pod_name != NULL) {
		l->pod_ns = util_xstrdup(e->read_pod_ns);
		l->pod_name = util_xstrdup(e->read_pod_name);
		all &= live_start(c, e, RES_POD, live_path(l->pod_ns, "pods", l->pod_name));
	}
	if (!uncached_only && e->read_svc_ns != NULL) {
		l->svc_ns = util_xstrdup(e->read_svc_ns);
		all &= live_start(c, e, RES_SVC, live_path(l->svc_ns, "services", NULL));
	}
	if (e->read_node != NULL && (!uncached_only || !c->want[RES_NODE])) {
		l->node_name = util_xstrdup(e->read_node);
		all &= live_start(c, e, RES_NODE, live_path(NULL, "nodes", l->node_name));
	}
	if (e->read_sa_ns != NULL && e->read_sa_name != NULL) {
		l->sa_ns = util_xstrdup(e->read_sa_ns);
		l->sa_name = util_xstrdup(e->read_sa_name);
		all &= live_start(c, e, RES_N, live_path(l->sa_ns, "serviceaccounts", l->sa_name));
	}
	if (l->reads_left == 0) {
		live_objs_free(e->live);
		e->live = NULL;
		return -1;
	}
	l->failed = !all;
	store_set_state(c, e, CSR_ST_READING);
	return 0;
}

int identity_read_uncached(struct controller *c, struct csr_entry *e)
{
	return read_live(c, e, true);
}

int identity_read_live(struct controller *c, struct csr_entry *e)
{
	return read_live(c, e, false);
}
