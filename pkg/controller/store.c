/*
 * controller: the CSR store. One entry per pending CSR of a configured
 * signer, fed by the CSR informer; each entry's state (enum csr_state)
 * changes in one place, store_set_state(), against one table.
 *
 * Decided CSRs are dropped as soon as the watch shows them decided, except
 * while a request about them is in flight: then the entry is marked
 * decided_elsewhere and the request's answer ends it.
 */
#include <stdlib.h>
#include <string.h>

#include "../log/log.h"
#include "../util/util.h"
#include "internal.h"

static const char *const state_names[CSR_ST_N] = {
    "pending", "authorizing", "reading", "waiting", "held", "writing", "rereading", "noted", "done",
};

const char *store_state_name(enum csr_state s)
{
	return (unsigned)s < CSR_ST_N ? state_names[s] : "unknown";
}

#define P CSR_ST_PENDING
#define A CSR_ST_AUTHORIZING
#define R CSR_ST_READING
#define W CSR_ST_WAITING
#define H CSR_ST_HELD
#define WR CSR_ST_WRITING
#define RR CSR_ST_REREADING
#define N CSR_ST_NOTED
#define D CSR_ST_DONE

/*
 * allowed[from] is the set of states an entry may move to. From the idle
 * states (PENDING, WAITING, NOTED: nothing in flight) a decision may start
 * anything; a state with a request in flight is left only on that
 * request's answer; DONE is left only when a CSR this process approved is
 * to be signed.
 */
#define IDLE (1u << P | 1u << A | 1u << R | 1u << W | 1u << H | 1u << WR | 1u << N)
static const unsigned allowed[CSR_ST_N] = {
    [P] = IDLE,
    [A] = 1u << P,
    [R] = 1u << P,
    [W] = IDLE,
    [H] = 1u << WR | 1u << P,
    [WR] = 1u << P | 1u << RR | 1u << D,
    [RR] = 1u << P,
    [N] = IDLE,
    [D] = 1u << P, /* only to sign what this process approved */
};
#undef IDLE

#undef P
#undef A
#undef R
#undef W
#undef H
#undef WR
#undef RR
#undef N
#undef D

int store_set_state(struct controller *c, struct csr_entry *e, enum csr_state s)
{
	if (e->state == s)
		return 0;
	if (!(allowed[e->state] & (1u << s))) {
		log_error("bug: refused CSR state change", "csr", e->name, "from",
		          store_state_name(e->state), "to", store_state_name(s));
		return -1;
	}
	log_trace("state", "csr", e->name, "from", store_state_name(e->state), "to",
	          store_state_name(s));
	c->n_state[e->state]--;
	c->n_state[s]++;
	e->state = s;
	return 0;
}

bool store_busy(const struct csr_entry *e)
{
	switch (e->state) {
	case CSR_ST_AUTHORIZING:
	case CSR_ST_READING:
	case CSR_ST_HELD:
	case CSR_ST_WRITING:
	case CSR_ST_REREADING:
		return true;
	default:
		return false;
	}
}

void live_objs_free(struct live_objs *l)
{
	if (l == NULL)
		return;
	free(l->pod_ns);
	free(l->pod_name);
	policy_pod_free(l->pod);
	free(l->svc_ns);
	for (size_t i = 0; i < l->n_svcs; i++)
		policy_service_free(l->svcs[i]);
	free(l->svcs);
	free(l->node_name);
	policy_node_free(l->node);
	free(l->sa_ns);
	free(l->sa_name);
	free(l->sa_uid);
	free(l);
}

static void entry_free(void *p)
{
	struct csr_entry *e = p;
	if (e == NULL)
		return;
	free(e->name);
	free(e->pcr_ns);
	free(e->pcr_name);
	json_decref(e->obj);
	free(e->rv);
	free(e->uid);
	free(e->signer);
	free(e->sar_rv);
	free(e->sar_sub);
	free(e->read_pod_ns);
	free(e->read_pod_name);
	free(e->read_svc_ns);
	free(e->read_node);
	free(e->read_sa_ns);
	free(e->read_sa_name);
	live_objs_free(e->live);
	free(e->live_rv);
	free(e->w_message);
	free(e->w_requester);
	free(e->w_body);
	free(e->noted_rv);
	free(e);
}

void store_remove(struct controller *c, const char *name)
{
	struct csr_entry *e = controller_map_remove(&c->store, name);
	if (e == NULL)
		return;
	c->n_state[e->state]--;
	/* Out of the queue too: a standby never pops, so an item left there
	 * would stay for good, one per CSR seen. */
	controller_queue_remove(c->queue, name);
	entry_free(e);
}

void store_clear(struct controller *c)
{
	controller_map_clear(&c->store, entry_free);
	memset(c->n_state, 0, sizeof(c->n_state));
}

void store_tombstone(struct controller *c, struct csr_entry *e)
{
	if (store_set_state(c, e, CSR_ST_DONE) != 0)
		return;
	json_decref(e->obj);
	e->obj = NULL;
	live_objs_free(e->live);
	e->live = NULL;
	controller_queue_forget(c->queue, e->name);
}

void store_set_object(struct csr_entry *e, json_t *obj)
{
	const char *rv = controller_json_str(obj, "metadata", "resourceVersion");
	json_decref(e->obj);
	e->obj = json_incref(obj);
	free(e->rv);
	e->rv = util_xstrdup(rv ? rv : "");
}

const char *controller_json_str(const json_t *obj, const char *a, const char *b)
{
	const json_t *v = json_object_get(obj, a);
	if (b != NULL)
		v = json_object_get(v, b);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

bool store_csr_is_decided(const json_t *obj)
{
	const json_t *conds = json_object_get(json_object_get(obj, "status"), "conditions");
	size_t i;
	const json_t *cond;
	if (!json_is_array(conds))
		return false;
	json_array_foreach(conds, i, cond)
	{
		const char *t = controller_json_str(cond, "type", NULL);
		const char *s = controller_json_str(cond, "status", NULL);
		if (t == NULL || (s != NULL && strcmp(s, "True") != 0))
			continue;
		if (strcmp(t, "Approved") == 0 || strcmp(t, "Denied") == 0 ||
		    strcmp(t, "Failed") == 0)
			return true;
	}
	return false;
}

/* Where a CSR stands for this process. */
enum csr_phase {
	PHASE_UNDECIDED, /* no condition yet: to decide */
	PHASE_TO_SIGN, /* Approved, no certificate, and a policy of ours issues */
	PHASE_FINISHED, /* nothing left to do */
};

static enum csr_phase phase_of(const struct controller *c, const json_t *obj, const char *signer)
{
	const json_t *status = json_object_get(obj, "status");
	const json_t *conds = json_object_get(status, "conditions");
	const char *cert = controller_json_str(status, "certificate", NULL);
	bool approved = false, finished = cert != NULL && cert[0] != '\0';
	size_t i;
	const json_t *cond;
	json_array_foreach(conds, i, cond)
	{
		const char *t = controller_json_str(cond, "type", NULL);
		const char *st = controller_json_str(cond, "status", NULL);
		if (t == NULL || (st != NULL && strcmp(st, "True") != 0))
			continue;
		if (strcmp(t, "Approved") == 0)
			approved = true;
		else if (strcmp(t, "Denied") == 0 || strcmp(t, "Failed") == 0)
			finished = true;
	}
	if (finished)
		return PHASE_FINISHED;
	if (!approved)
		return PHASE_UNDECIDED;
	return sign_issues(c, signer) ? PHASE_TO_SIGN : PHASE_FINISHED;
}

bool store_csr_open(const struct controller *c, const json_t *obj, const char *signer)
{
	return phase_of(c, obj, signer) != PHASE_FINISHED;
}

/* A CSR seen in a LIST or a watch event (not DELETED). */
static void store_observe(struct controller *c, const json_t *obj, bool from_list)
{
	const char *name = controller_json_str(obj, "metadata", "name");
	const char *signer = controller_json_str(obj, "spec", "signerName");
	const char *rv = controller_json_str(obj, "metadata", "resourceVersion");
	const char *uid = controller_json_str(obj, "metadata", "uid");
	struct csr_entry *e;

	inventory_observe(c, REPORT_CSR, obj);
	if (name == NULL)
		return;
	e = controller_map_get(&c->store, name);
	if (e != NULL && uid != NULL && e->uid != NULL && strcmp(e->uid, uid) != 0) {
		/* Deleted and made again under the same name while the watch
		 * was away: another CSR. */
		store_remove(c, name);
		e = NULL;
	}
	if (signer == NULL || policy_set_find(c->set, signer) == NULL) {
		log_trace("not ours", "csr", name, "signer", signer);
		if (e != NULL)
			store_remove(c, name);
		return;
	}
	enum csr_phase phase = phase_of(c, obj, signer);
	if (phase == PHASE_FINISHED) {
		if (e == NULL)
			return;
		if (store_busy(e)) {
			e->decided_elsewhere = true;
			e->list_gen = c->csr_gen;
			return;
		}
		if (e->state != CSR_ST_DONE && !api_confirm_decision(c, e, obj))
			log_debug("decided elsewhere", "csr", name, "signer", signer);
		store_remove(c, name);
		return;
	}
	if (phase == PHASE_TO_SIGN && e != NULL && store_busy(e)) {
		/* Our own approval, seen before its write returned: the write's
		 * answer carries the same object on. */
		e->list_gen = c->csr_gen;
		return;
	}
	if (e == NULL) {
		e = util_xcalloc(1, sizeof(*e));
		e->name = util_xstrdup(name);
		e->serial = ++c->serial;
		e->state = CSR_ST_PENDING;
		e->signer = util_xstrdup(signer);
		e->uid = util_xstrdup(uid);
		e->first_seen_ms = util_now_ms();
		controller_map_put(&c->store, name, e);
		c->n_state[CSR_ST_PENDING]++;
	}
	e->list_gen = c->csr_gen;
	if (phase == PHASE_TO_SIGN)
		api_confirm_decision(c, e, obj); /* our approval, its answer lost */
	if (e->state == CSR_ST_DONE && phase != PHASE_TO_SIGN)
		return; /* an older view of a CSR this process has decided */
	if (e->state == CSR_ST_DONE)
		store_set_state(c, e, CSR_ST_PENDING); /* approved by us: now sign it */
	if (e->rv != NULL && rv != NULL && strcmp(e->rv, rv) == 0 && e->obj != NULL && from_list)
		return; /* unchanged */
	store_set_object(e, (json_t *)obj);
	/* A new version: whatever was noted of the old one is looked at again
	 * (a request in flight keeps its state; its answer requeues). */
	if (e->state == CSR_ST_NOTED)
		store_set_state(c, e, CSR_ST_PENDING);
	controller_queue_add(c->queue, name, util_now_ms());
}

static void csr_list_begin(void *ud)
{
	struct controller *c = ud;
	c->csr_gen++;
	inventory_list_begin(c, REPORT_CSR);
	if (c->listed_once[RES_CSR])
		log_info("relisting", "resource", controller_res_names[RES_CSR]);
}

static void csr_list_item(void *ud, const json_t *obj)
{
	store_observe(ud, obj, true);
}

struct sweep_ctx {
	struct controller *c;
	bool pcr; /* sweep PodCertificateRequests, else CSRs */
	struct util_strv gone;
};

static void csr_sweep_cb(void *ud, const char *key, void *val)
{
	struct sweep_ctx *s = ud;
	const struct csr_entry *e = val;
	/* A relist of each kind sweeps its own entries. */
	if (e->pcr == s->pcr && e->list_gen != (s->pcr ? s->c->pcr_gen : s->c->csr_gen))
		util_strv_push(&s->gone, key);
}

void store_sweep(struct controller *c, bool pcr)
{
	struct sweep_ctx s = {c, pcr, {0}};
	controller_map_foreach(&c->store, csr_sweep_cb, &s);
	for (size_t i = 0; i < s.gone.n; i++) {
		log_debug("gone", pcr ? "pcr" : "csr", s.gone.v[i]);
		store_remove(c, s.gone.v[i]);
	}
	util_strv_free(&s.gone);
}

static void csr_list_end(void *ud)
{
	struct controller *c = ud;
	store_sweep(c, false);
	inventory_list_end(c, REPORT_CSR);
	c->listed_once[RES_CSR] = true;
}

static void csr_event(void *ud, enum watch_event_type type, const json_t *obj)
{
	struct controller *c = ud;
	if (type == WATCH_DELETED) {
		const char *name = controller_json_str(obj, "metadata", "name");
		inventory_delete(c, REPORT_CSR, obj);
		if (name != NULL && controller_map_get(&c->store, name) != NULL) {
			log_debug("deleted", "csr", name);
			store_remove(c, name);
		}
		return;
	}
	if (type == WATCH_ADDED || type == WATCH_MODIFIED)
		store_observe(c, obj, false);
}

const struct watch_informer_ops store_csr_ops = {csr_list_begin, csr_list_item, csr_list_end,
                                                 csr_event};

static void requeue_waiting_cb(void *ud, const char *key, void *val)
{
	struct controller *c = ud;
	const struct csr_entry *e = val;
	if (e->state == CSR_ST_WAITING)
		controller_queue_add(c->queue, key, util_now_ms());
}

void store_requeue_waiting(struct controller *c)
{
	if (c->n_state[CSR_ST_WAITING] > 0)
		controller_map_foreach(&c->store, requeue_waiting_cb, c);
}

struct held_ctx {
	int64_t now;
	bool send;
	int64_t next;
	struct util_strv due;
};

static void held_cb(void *ud, const char *key, void *val)
{
	struct held_ctx *h = ud;
	const struct csr_entry *e = val;
	if (e->state != CSR_ST_HELD)
		return;
	if (e->w_due_ms <= h->now && h->send)
		util_strv_push(&h->due, key);
	else if (h->next < 0 || e->w_due_ms < h->next)
		h->next = e->w_due_ms;
}

int64_t store_release_held(struct controller *c, int64_t now, bool send)
{
	if (c->n_state[CSR_ST_HELD] == 0)
		return -1;
	struct held_ctx h = {now, send, -1, {0}};
	controller_map_foreach(&c->store, held_cb, &h);
	for (size_t i = 0; i < h.due.n; i++) {
		struct csr_entry *e = controller_map_get(&c->store, h.due.v[i]);
		char *body = e->w_body;
		e->w_body = NULL;
		api_write(c, e, e->w_kind == CSR_WRITE_DECISION ? API_APPROVAL : API_STATUS, body);
	}
	util_strv_free(&h.due);
	return h.next;
}
