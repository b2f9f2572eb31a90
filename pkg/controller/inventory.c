/*
 * controller: the inventory behind the governance metrics (SPEC.md,
 * "Governance"): a small index of EVERY CertificateSigningRequest the CSR
 * informer sees, and of the PodCertificateRequests a PCR informer feeds in,
 * whatever their signer or state (the store keeps only pending CSRs of the
 * configured signers). Per entry only what the gauges need: the signer, the
 * creation time, who decided, and the certificate's notAfter; each string
 * cut to INV_MAX_STRING bytes, at most INV_MAX_ENTRIES entries.
 *
 * Label sets stay bounded: signers of the policies by name; other signers
 * by name up to INV_MAX_OTHER_SIGNERS (in name order), the rest as "other";
 * policies by name. Never the name of a CSR, a pod or a node.
 */
#include <stdlib.h>
#include <string.h>

#include "../csr/csr.h"
#include "../kobj/kobj.h"
#include "../log/log.h"
#include "../metrics/metrics.h"
#include "../util/util.h"
#include "internal.h"

#define INV_MAX_STRING 256
#define INV_MAX_ENTRIES 200000
#define INV_MAX_OTHER_SIGNERS 32
#define INV_OTHER "other"

struct inv_entry {
	enum report_kind kind;
	char *signer; /* owned, at most INV_MAX_STRING bytes */
	int64_t created; /* Unix s; 0 unknown */
	enum report_state state;
	enum report_by by;
	int64_t not_after; /* Unix s; 0: no certificate read */
	unsigned gen; /* the list generation that last saw it */
};

struct inventory {
	struct controller_map map; /* "csr/NAME", "pcr/NS/NAME" -> struct inv_entry */
	unsigned gen[2]; /* per kind */
	bool listed[2]; /* the first LIST of the kind is done */
	bool full_logged;
	/* The gauges are computed again only when an entry changed, or when
	 * time alone moves one (a pending request changes age bucket, a
	 * certificate nears or passes its notAfter): a scan of every entry
	 * each second kept an idle controller with 10,000 CSRs at 2 ms of
	 * CPU a second. */
	bool dirty;
	bool published;
	int64_t published_at; /* Unix s */
	int64_t next_change; /* Unix s; INT64_MAX: none */
};

/* The gauges are computed again at least this often (s), and whenever the
 * clock went back. */
#define INV_REPUBLISH_S 60

struct inventory *inventory_new(void)
{
	return util_xcalloc(1, sizeof(struct inventory));
}

static void entry_free(void *p)
{
	struct inv_entry *e = p;
	if (e == NULL)
		return;
	free(e->signer);
	free(e);
}

void inventory_free(struct inventory *inv)
{
	if (inv == NULL)
		return;
	controller_map_clear(&inv->map, entry_free);
	free(inv);
}

static char *cut(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	return util_xstrndup(s ? s : "", n > INV_MAX_STRING ? INV_MAX_STRING : n);
}

/* The key of obj, or NULL. Caller frees. */
static char *key_of(enum report_kind kind, const json_t *obj)
{
	const char *name = controller_json_str(obj, "metadata", "name");
	const char *ns = controller_json_str(obj, "metadata", "namespace");
	if (name == NULL || strlen(name) > INV_MAX_STRING)
		return NULL;
	if (kind == REPORT_CSR)
		return util_xasprintf("csr/%s", name);
	if (ns == NULL || strlen(ns) > INV_MAX_STRING)
		return NULL;
	return util_xasprintf("pcr/%s/%s", ns, name);
}

/* The policy that decides requests of signer (of this kind), or NULL. */
static const struct policy_rule *rule_of(const struct controller *c, enum report_kind kind,
                                         const char *signer)
{
	const struct policy_rule *r = policy_set_find(c->set, signer);
	if (r != NULL && kind == REPORT_PCR && !r->pod_certificates)
		return NULL;
	return r;
}

static int64_t not_after_of(enum report_kind kind, const json_t *obj)
{
	const json_t *status = json_object_get(obj, "status");
	char err[128];
	char *pem = NULL;
	size_t len = 0;
	int64_t t = 0;
	if (kind == REPORT_CSR) {
		const char *b64 = controller_json_str(status, "certificate", NULL);
		if (b64 == NULL ||
		    util_base64_decode(b64, strlen(b64), UTIL_B64_SKIP_NEWLINES, CSR_MAX_CERT_PEM,
		                       &pem, &len) != 0)
			return 0;
	} else {
		const char *chain = controller_json_str(status, "certificateChain", NULL);
		if (chain == NULL || strlen(chain) > CSR_MAX_CERT_PEM)
			return 0;
		pem = util_xstrdup(chain);
		len = strlen(pem);
	}
	if (csr_cert_not_after(pem, len, &t, err, sizeof(err)) != 0)
		t = 0;
	free(pem);
	return t;
}

void inventory_observe(struct controller *c, enum report_kind kind, const json_t *obj)
{
	struct inventory *inv = c->inv;
	char *key = key_of(kind, obj);
	const char *signer = controller_json_str(obj, "spec", "signerName");
	struct report_decision d;
	struct inv_entry *e;

	if (inv == NULL || key == NULL || signer == NULL)
		goto out;
	e = controller_map_get(&inv->map, key);
	report_decision_read(json_object_get(obj, "status"), kind, &d);
	if (e == NULL) {
		if (inv->map.n >= INV_MAX_ENTRIES) {
			if (!inv->full_logged)
				log_warn(
				    "inventory full: further requests are not in the governance "
				    "metrics",
				    "entries", "200000");
			inv->full_logged = true;
			goto out;
		}
		e = util_xcalloc(1, sizeof(*e));
		e->kind = kind;
		e->signer = cut(signer);
		e->state = REPORT_PENDING;
		e->by = REPORT_BY_NOBODY;
		const char *ts = controller_json_str(obj, "metadata", "creationTimestamp");
		if (ts == NULL || kobj_parse_time(ts, &e->created) != 0)
			e->created = 0;
		controller_map_put(&inv->map, key, e);
		inv->dirty = true;
		/* Seen after the first LIST: it came and was decided while we
		 * watched (or between two events). */
		if (!inv->listed[kind])
			e->by = d.by;
	}
	/* Decided by someone else while csr-approver watched: a foreign
	 * decision of one of its signers. The first LIST only takes stock. */
	if (e->by == REPORT_BY_NOBODY && (d.by == REPORT_BY_PERSON || d.by == REPORT_BY_OTHER) &&
	    rule_of(c, kind, e->signer) != NULL)
		metrics_foreign_decisions(c->metrics, e->signer, d.decision, 1);
	if (e->by != d.by || e->state != d.state)
		inv->dirty = true;
	e->by = d.by;
	e->state = d.state;
	if (e->state == REPORT_ISSUED && e->not_after == 0) {
		e->not_after = not_after_of(kind, obj);
		inv->dirty = inv->dirty || e->not_after != 0;
	}
	e->gen = inv->gen[kind];
out:
	free(key);
}

void inventory_delete(struct controller *c, enum report_kind kind, const json_t *obj)
{
	char *key = key_of(kind, obj);
	if (c->inv != NULL && key != NULL) {
		struct inv_entry *e = controller_map_remove(&c->inv->map, key);
		c->inv->dirty = c->inv->dirty || e != NULL;
		entry_free(e);
	}
	free(key);
}

void inventory_list_begin(struct controller *c, enum report_kind kind)
{
	if (c->inv != NULL)
		c->inv->gen[kind]++;
}

struct sweep {
	struct inventory *inv;
	enum report_kind kind;
	struct util_strv gone;
};

static void sweep_cb(void *ud, const char *key, void *val)
{
	struct sweep *s = ud;
	const struct inv_entry *e = val;
	if (e->kind == s->kind && e->gen != s->inv->gen[s->kind])
		util_strv_push(&s->gone, key);
}

void inventory_list_end(struct controller *c, enum report_kind kind)
{
	struct sweep s = {c->inv, kind, {0}};
	if (c->inv == NULL)
		return;
	controller_map_foreach(&c->inv->map, sweep_cb, &s);
	for (size_t i = 0; i < s.gone.n; i++)
		entry_free(controller_map_remove(&c->inv->map, s.gone.v[i]));
	c->inv->dirty = c->inv->dirty || s.gone.n > 0;
	util_strv_free(&s.gone);
	c->inv->listed[kind] = true;
}

/* ---------------------------------------------------------------- the gauges */

struct tally {
	const struct controller *c;
	int64_t now;
	struct metrics_pending *pending; /* one per policy, then other signers */
	size_t n_pending;
	struct metrics_count *unmanaged;
	size_t n_unmanaged;
	struct metrics_expiry *expiry; /* one per policy */
	size_t n_expiry;
	struct util_strv others; /* signers without a policy, sorted, deduplicated */
	int64_t next_change; /* the earliest inventory_next_change() of the entries */
};

/* Bounds of the pending age buckets, in seconds. */
static const int64_t age_bounds[] = {60, 900, 3600};

static int age_bucket(int64_t age)
{
	int b = 0;
	while (b < 3 && age >= age_bounds[b])
		b++;
	return b;
}

/* Expiry windows of the gauges, in seconds before notAfter. */
#define WITHIN_24H 86400
#define WITHIN_7D (7 * 86400)

int64_t inventory_next_change(int64_t created, bool pending, bool managed, int64_t not_after,
                              int64_t now)
{
	int64_t next = INT64_MAX;
	if (pending && created > 0) {
		for (size_t i = 0; i < sizeof(age_bounds) / sizeof(age_bounds[0]); i++)
			if (created + age_bounds[i] > now) {
				next = created + age_bounds[i];
				break;
			}
	}
	if (managed && not_after > now) {
		const int64_t at[] = {not_after - WITHIN_7D, not_after - WITHIN_24H, not_after};
		for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++)
			if (at[i] > now && at[i] < next) {
				next = at[i];
				break;
			}
	}
	return next;
}

static void others_cb(void *ud, const char *key, void *val)
{
	struct tally *t = ud;
	const struct inv_entry *e = val;
	(void)key;
	if (rule_of(t->c, e->kind, e->signer) == NULL && !util_strv_contains(&t->others, e->signer))
		util_strv_push(&t->others, e->signer);
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The label of an unmanaged signer: its name, or "other" past the bound. */
static const char *other_label(const struct tally *t, const char *signer)
{
	for (size_t i = 0; i < t->others.n && i < INV_MAX_OTHER_SIGNERS; i++)
		if (strcmp(t->others.v[i], signer) == 0)
			return t->others.v[i];
	return INV_OTHER;
}

static struct metrics_pending *pending_slot(struct tally *t, const char *label)
{
	for (size_t i = 0; i < t->n_pending; i++)
		if (strcmp(t->pending[i].signer, label) == 0)
			return &t->pending[i];
	t->pending = util_xreallocarray(t->pending, t->n_pending + 1, sizeof(*t->pending));
	memset(&t->pending[t->n_pending], 0, sizeof(*t->pending));
	t->pending[t->n_pending].signer = label;
	return &t->pending[t->n_pending++];
}

static void tally_cb(void *ud, const char *key, void *val)
{
	struct tally *t = ud;
	const struct inv_entry *e = val;
	const struct policy_rule *r = rule_of(t->c, e->kind, e->signer);
	(void)key;
	const char *label = r ? r->signer_name : other_label(t, e->signer);
	int64_t next = inventory_next_change(e->created, e->state == REPORT_PENDING, r != NULL,
	                                     e->not_after, t->now);
	if (next < t->next_change)
		t->next_change = next;
	if (e->state == REPORT_PENDING) {
		int64_t age = e->created > 0 ? t->now - e->created : 0;
		pending_slot(t, label)->n[age_bucket(age)]++;
	}
	if (r == NULL) {
		size_t i = 0;
		while (i < t->n_unmanaged && strcmp(t->unmanaged[i].label, label) != 0)
			i++;
		if (i == t->n_unmanaged) {
			t->unmanaged =
			    util_xreallocarray(t->unmanaged, i + 1, sizeof(*t->unmanaged));
			t->unmanaged[i].label = label;
			t->unmanaged[i].n = 0;
			t->n_unmanaged++;
		}
		t->unmanaged[i].n++;
		return;
	}
	if (e->not_after <= t->now)
		return;
	for (size_t i = 0; i < t->n_expiry; i++) {
		struct metrics_expiry *x = &t->expiry[i];
		if (strcmp(x->policy, r->name) != 0)
			continue;
		if (!x->has_earliest || (double)e->not_after < x->earliest)
			x->earliest = (double)e->not_after;
		x->has_earliest = true;
		if (e->not_after <= t->now + WITHIN_24H)
			x->within_24h++;
		if (e->not_after <= t->now + WITHIN_7D)
			x->within_7d++;
	}
}

void inventory_publish(struct controller *c, int64_t now)
{
	struct tally t = {.c = c, .now = now, .next_change = INT64_MAX};
	struct metrics_inventory mi;
	if (c->inv == NULL)
		return;
	if (c->inv->published && !c->inv->dirty && now < c->inv->next_change &&
	    now >= c->inv->published_at && now - c->inv->published_at < INV_REPUBLISH_S)
		return;
	/* Every policy has its series, at 0 when nothing is pending. */
	for (size_t i = 0; c->set != NULL && i < c->set->n_rules; i++) {
		pending_slot(&t, c->set->rules[i].signer_name);
		t.expiry = util_xreallocarray(t.expiry, t.n_expiry + 1, sizeof(*t.expiry));
		memset(&t.expiry[t.n_expiry], 0, sizeof(*t.expiry));
		t.expiry[t.n_expiry++].policy = c->set->rules[i].name;
	}
	controller_map_foreach(&c->inv->map, others_cb, &t);
	if (t.others.n > 1)
		qsort(t.others.v, t.others.n, sizeof(*t.others.v), str_cmp);
	controller_map_foreach(&c->inv->map, tally_cb, &t);
	mi = (struct metrics_inventory){
	    .pending = t.pending,
	    .n_pending = t.n_pending,
	    .unmanaged = t.unmanaged,
	    .n_unmanaged = t.n_unmanaged,
	    .expiry = t.expiry,
	    .n_expiry = t.n_expiry,
	};
	metrics_set_inventory(c->metrics, &mi);
	c->inv->published = true;
	c->inv->published_at = now;
	c->inv->dirty = false;
	c->inv->next_change = t.next_change;
	free(t.pending);
	free(t.unmanaged);
	free(t.expiry);
	util_strv_free(&t.others);
}
