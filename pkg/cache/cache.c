/*
 * cache: open-addressing hash tables (linear probing, FNV-1a, backward-shift
 * deletion) that point at the objects themselves: the keys are read from the
 * objects, so an entry costs one 16-byte slot and no key copy.
 *
 * An object put into the cache is copied into one compact block: the struct
 * the policy reads, then its arrays, then the strings that are its own (name,
 * uid, IPs, addresses). The strings many objects repeat (namespaces, service
 * accounts, node names, phases, label keys and values, address types) are
 * interned: one refcounted copy per cache, shared by every object that holds
 * it. A pod then costs about 250 bytes and one allocation instead of twenty.
 * The strings of a cached object are shared and read-only.
 */
#include "cache.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../util/util.h"

enum cache_kind {
	CACHE_POD,
	CACHE_SERVICE,
	CACHE_NODE,
	CACHE_NS, /* the services of one namespace */
	CACHE_STR, /* an interned string */
};

/* An interned string; the table points at the entry, callers at s. */
struct cache_str {
	size_t refs;
	char s[];
};

/* The Services of one namespace, in the order they were first put. */
struct cache_ns {
	const char *ns; /* interned */
	struct policy_service **v; /* owned array; the services belong to the table */
	size_t n, cap;
};

struct cache_slot {
	uint32_t hash;
	uint32_t mark; /* the cache's mark when the item was put (relists) */
	void *item; /* NULL: empty */
};

struct cache_table {
	enum cache_kind kind;
	struct cache_slot *slots; /* owned; cap entries */
	size_t cap; /* 0 or a power of two */
	size_t n;
};

struct cache_intern {
	struct cache_table t;
};

struct cache {
	struct cache_table pods, services, nodes, namespaces;
	struct cache_intern strings;
	/* Items of a relist are marked with mark; the sweep at its end removes
	 * the rest. */
	uint32_t mark;
	bool relisting;
};

/* The one "" handed out: costs no entry and no reference. */
static const char cache_empty[1] = "";

static const char *cache_str(const char *s)
{
	return s ? s : "";
}

/* The key of an item: (ns, name); ns is "" for cluster-scoped objects. */
static void cache_key(enum cache_kind kind, const void *item, const char **ns, const char **name)
{
	*ns = *name = "";
	switch (kind) {
	case CACHE_POD: {
		const struct policy_pod *p = item;
		*ns = cache_str(p->ns);
		*name = cache_str(p->name);
		return;
	}
	case CACHE_SERVICE: {
		const struct policy_service *s = item;
		*ns = cache_str(s->ns);
		*name = cache_str(s->name);
		return;
	}
	case CACHE_NODE:
		*name = cache_str(((const struct policy_node *)item)->name);
		return;
	case CACHE_NS:
		*name = cache_str(((const struct cache_ns *)item)->ns);
		return;
	case CACHE_STR:
		*name = ((const struct cache_str *)item)->s;
		return;
	}
}

static uint32_t cache_hash(const char *ns, const char *name)
{
	uint32_t h = 2166136261u;
	for (const unsigned char *p = (const unsigned char *)ns; *p; p++)
		h = (h ^ *p) * 16777619u;
	h = (h ^ '/') * 16777619u;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		h = (h ^ *p) * 16777619u;
	return h;
}

/* The slot holding (ns, name), or the empty slot where it would go. */
static size_t cache_probe(const struct cache_table *t, const char *ns, const char *name, uint32_t h)
{
	size_t mask = t->cap - 1;
	for (size_t i = h & mask;; i = (i + 1) & mask) {
		const struct cache_slot *s = &t->slots[i];
		const char *kns, *kname;
		if (s->item == NULL)
			return i;
		if (s->hash != h)
			continue;
		cache_key(t->kind, s->item, &kns, &kname);
		if (strcmp(kns, ns) == 0 && strcmp(kname, name) == 0)
			return i;
	}
}

static void *cache_table_get(const struct cache_table *t, const char *ns, const char *name)
{
	if (t->cap == 0)
		return NULL;
	ns = cache_str(ns);
	name = cache_str(name);
	return t->slots[cache_probe(t, ns, name, cache_hash(ns, name))].item;
}

static void cache_table_grow(struct cache_table *t)
{
	struct cache_slot *old = t->slots;
	size_t old_cap = t->cap;

	t->cap = old_cap ? old_cap * 2 : 16;
	t->slots = util_xcalloc(t->cap, sizeof(*t->slots));
	for (size_t i = 0; i < old_cap; i++) {
		if (old[i].item == NULL)
			continue;
		size_t mask = t->cap - 1, j = old[i].hash & mask;
		while (t->slots[j].item != NULL)
			j = (j + 1) & mask;
		t->slots[j] = old[i];
	}
	free(old);
}

/* Insert item, or replace the item of the same key; returns the replaced
 * item (the caller frees it) or NULL. The slot takes mark, except that with
 * keep a replacement keeps the mark it had. */
static void *cache_table_put(struct cache_table *t, void *item, uint32_t mark, bool keep)
{
	const char *ns, *name;
	if ((t->n + 1) * 4 > t->cap * 3)
		cache_table_grow(t);
	cache_key(t->kind, item, &ns, &name);
	uint32_t h = cache_hash(ns, name);
	struct cache_slot *s = &t->slots[cache_probe(t, ns, name, h)];
	void *old = s->item;
	if (old == NULL || !keep)
		s->mark = mark;
	s->hash = h;
	s->item = item;
	if (old == NULL)
		t->n++;
	return old;
}

/* Remove the item of (ns, name) and return it (the caller frees it), or
 * NULL when absent. */
static void *cache_table_remove(struct cache_table *t, const char *ns, const char *name)
{
	if (t->cap == 0)
		return NULL;
	ns = cache_str(ns);
	name = cache_str(name);
	size_t mask = t->cap - 1;
	size_t i = cache_probe(t, ns, name, cache_hash(ns, name));
	void *item = t->slots[i].item;
	if (item == NULL)
		return NULL;
	/* Backward shift: pull later entries of the run into the hole unless
	 * their home slot lies cyclically in (hole, j]. */
	for (size_t j = (i + 1) & mask; t->slots[j].item != NULL; j = (j + 1) & mask) {
		size_t home = t->slots[j].hash & mask;
		bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
		if (stays)
			continue;
		t->slots[i] = t->slots[j];
		i = j;
	}
	t->slots[i].item = NULL;
	t->slots[i].hash = 0;
	t->slots[i].mark = 0;
	t->n--;
	return item;
}

/* ---------------------------------------------------------------- interning */

struct cache_intern *cache_intern_new(void)
{
	struct cache_intern *t = util_xcalloc(1, sizeof(*t));
	t->t.kind = CACHE_STR;
	return t;
}

static void cache_intern_clear(struct cache_intern *t)
{
	for (size_t i = 0; i < t->t.cap; i++)
		free(t->t.slots[i].item);
	free(t->t.slots);
	memset(&t->t, 0, sizeof(t->t));
	t->t.kind = CACHE_STR;
}

void cache_intern_free(struct cache_intern *t)
{
	if (t == NULL)
		return;
	cache_intern_clear(t);
	free(t);
}

const char *cache_intern(struct cache_intern *t, const char *s)
{
	struct cache_str *e;
	if (s == NULL)
		return NULL;
	if (*s == '\0')
		return cache_empty;
	if ((e = cache_table_get(&t->t, NULL, s)) == NULL) {
		size_t len = strlen(s);
		e = util_xmalloc(sizeof(*e) + len + 1);
		e->refs = 0;
		memcpy(e->s, s, len + 1);
		cache_table_put(&t->t, e, 0, false);
	}
	e->refs++;
	return e->s;
}

void cache_intern_release(struct cache_intern *t, const char *s)
{
	struct cache_str *e;
	if (s == NULL || s == cache_empty)
		return;
	e = (struct cache_str *)(void *)((char *)(uintptr_t)s - offsetof(struct cache_str, s));
	if (--e->refs > 0)
		return;
	cache_table_remove(&t->t, NULL, s);
	free(e);
}

size_t cache_intern_count(const struct cache_intern *t)
{
	return t->t.n;
}

/* ---------------------------------------------------------------- compact copies */

static size_t cache_len(const char *s)
{
	return s ? strlen(s) + 1 : 0;
}

/* A copy of s at *room, the part of a block left for strings, which moves
 * past it (NULL stays NULL). */
static char *cache_put_str(char **room, const char *s)
{
	size_t n = cache_len(s);
	char *out = *room;
	if (s == NULL)
		return NULL;
	memcpy(out, s, n);
	*room += n;
	return out;
}

/* The shared copy of s (NULL stays NULL). The struct fields are char *
 * for the policy's sake; the cache never writes through them. */
static char *cache_shared(struct cache *c, const char *s)
{
	return (char *)(uintptr_t)cache_intern(&c->strings, s);
}

static void cache_unshare(struct cache *c, const char *s)
{
	cache_intern_release(&c->strings, s);
}

/* Rounded up so that what follows a struct or array stays aligned. */
static size_t cache_align(size_t n)
{
	size_t a = alignof(max_align_t);
	return (n + a - 1) / a * a;
}

static void cache_labels_copy(struct cache *c, struct policy_label *dst,
                              const struct policy_labels *src)
{
	for (size_t i = 0; i < src->n; i++) {
		dst[i].key = cache_shared(c, src->v[i].key);
		dst[i].value = cache_shared(c, src->v[i].value);
	}
}

static void cache_labels_unshare(struct cache *c, const struct policy_labels *l)
{
	for (size_t i = 0; i < l->n; i++) {
		cache_unshare(c, l->v[i].key);
		cache_unshare(c, l->v[i].value);
	}
}

static struct policy_pod *cache_pod_copy(struct cache *c, const struct policy_pod *p)
{
	size_t head = cache_align(sizeof(*p));
	size_t ips = cache_align(p->ips.n * sizeof(char *));
	size_t labels = cache_align(p->labels.n * sizeof(struct policy_label));
	size_t strs = cache_len(p->name) + cache_len(p->uid) + cache_len(p->hostname);
	for (size_t i = 0; i < p->ips.n; i++)
		strs += cache_len(p->ips.v[i]);
	char *block = util_xmalloc(head + ips + labels + strs);
	char *room = block + head + ips + labels;
	struct policy_pod *q = (struct policy_pod *)(void *)block;

	memset(q, 0, sizeof(*q));
	q->ns = cache_shared(c, p->ns);
	q->name = cache_put_str(&room, p->name);
	q->uid = cache_put_str(&room, p->uid);
	q->service_account = cache_shared(c, p->service_account);
	q->node_name = cache_shared(c, p->node_name);
	q->phase = cache_shared(c, p->phase);
	q->hostname = cache_put_str(&room, p->hostname);
	q->subdomain = cache_shared(c, p->subdomain);
	q->deleting = p->deleting;
	q->host_network = p->host_network;
	if (p->ips.n > 0) {
		q->ips.v = (char **)(void *)(block + head);
		q->ips.n = p->ips.n;
		for (size_t i = 0; i < p->ips.n; i++)
			q->ips.v[i] = cache_put_str(&room, p->ips.v[i]);
	}
	if (p->labels.n > 0) {
		q->labels.v = (struct policy_label *)(void *)(block + head + ips);
		q->labels.n = p->labels.n;
		cache_labels_copy(c, q->labels.v, &p->labels);
	}
	return q;
}

static void cache_pod_drop(struct cache *c, struct policy_pod *p)
{
	if (p == NULL)
		return;
	cache_unshare(c, p->ns);
	cache_unshare(c, p->service_account);
	cache_unshare(c, p->node_name);
	cache_unshare(c, p->phase);
	cache_unshare(c, p->subdomain);
	cache_labels_unshare(c, &p->labels);
	free(p);
}

static struct policy_service *cache_service_copy(struct cache *c, const struct policy_service *s)
{
	size_t head = cache_align(sizeof(*s));
	size_t labels = cache_align(s->selector.n * sizeof(struct policy_label));
	size_t strs = cache_len(s->name);
	char *block = util_xmalloc(head + labels + strs);
	char *room = block + head + labels;
	struct policy_service *q = (struct policy_service *)(void *)block;

	memset(q, 0, sizeof(*q));
	q->ns = cache_shared(c, s->ns);
	q->name = cache_put_str(&room, s->name);
	q->external_name = s->external_name;
	if (s->selector.n > 0) {
		q->selector.v = (struct policy_label *)(void *)(block + head);
		q->selector.n = s->selector.n;
		cache_labels_copy(c, q->selector.v, &s->selector);
	}
	return q;
}

static void cache_service_drop(struct cache *c, struct policy_service *s)
{
	if (s == NULL)
		return;
	cache_unshare(c, s->ns);
	cache_labels_unshare(c, &s->selector);
	free(s);
}

static struct policy_node *cache_node_copy(struct cache *c, const struct policy_node *n)
{
	size_t head = cache_align(sizeof(*n));
	size_t addrs = cache_align(n->n_addresses * sizeof(struct policy_node_address));
	size_t strs = cache_len(n->name) + cache_len(n->uid);
	for (size_t i = 0; i < n->n_addresses; i++)
		strs += cache_len(n->addresses[i].address);
	char *block = util_xmalloc(head + addrs + strs);
	char *room = block + head + addrs;
	struct policy_node *q = (struct policy_node *)(void *)block;

	memset(q, 0, sizeof(*q));
	q->name = cache_put_str(&room, n->name);
	q->uid = cache_put_str(&room, n->uid);
	if (n->n_addresses > 0) {
		q->addresses = (struct policy_node_address *)(void *)(block + head);
		q->n_addresses = n->n_addresses;
		for (size_t i = 0; i < n->n_addresses; i++) {
			q->addresses[i].type = cache_shared(c, n->addresses[i].type);
			q->addresses[i].address = cache_put_str(&room, n->addresses[i].address);
		}
	}
	return q;
}

static void cache_node_drop(struct cache *c, struct policy_node *n)
{
	if (n == NULL)
		return;
	for (size_t i = 0; i < n->n_addresses; i++)
		cache_unshare(c, n->addresses[i].type);
	free(n);
}

/* ---------------------------------------------------------------- the cache */

static void cache_ns_free(struct cache *c, struct cache_ns *e)
{
	if (e == NULL)
		return;
	cache_unshare(c, e->ns);
	free(e->v);
	free(e);
}

struct cache *cache_new(void)
{
	struct cache *c = util_xcalloc(1, sizeof(*c));
	c->pods.kind = CACHE_POD;
	c->services.kind = CACHE_SERVICE;
	c->nodes.kind = CACHE_NODE;
	c->namespaces.kind = CACHE_NS;
	c->strings.t.kind = CACHE_STR;
	return c;
}

void cache_free(struct cache *c)
{
	if (c == NULL)
		return;
	/* The interned strings go all at once: no need to count them down. */
	for (size_t i = 0; i < c->pods.cap; i++)
		free(c->pods.slots[i].item);
	for (size_t i = 0; i < c->services.cap; i++)
		free(c->services.slots[i].item);
	for (size_t i = 0; i < c->nodes.cap; i++)
		free(c->nodes.slots[i].item);
	for (size_t i = 0; i < c->namespaces.cap; i++) {
		struct cache_ns *e = c->namespaces.slots[i].item;
		if (e != NULL)
			free(e->v);
		free(e);
	}
	free(c->pods.slots);
	free(c->services.slots);
	free(c->nodes.slots);
	free(c->namespaces.slots);
	cache_intern_clear(&c->strings);
	free(c);
}

/*
 * How a put marks its item: an item of the relist under way is seen; any
 * other put (a watch event, a live read) keeps the mark of the copy it
 * replaces, and a new object put during a relist counts as not seen: the
 * LIST is the authority on what exists at its resourceVersion, and the
 * watch that follows replays whatever came after.
 */
static void cache_mark_for(const struct cache *c, bool listed, uint32_t *mark, bool *keep)
{
	*keep = !listed;
	*mark = c->relisting && !listed ? c->mark - 1 : c->mark;
}

static void cache_pod_put(struct cache *c, struct policy_pod *p, bool listed)
{
	uint32_t mark;
	bool keep;
	if (p == NULL)
		return;
	struct policy_pod *q = cache_pod_copy(c, p);
	policy_pod_free(p);
	cache_mark_for(c, listed, &mark, &keep);
	cache_pod_drop(c, cache_table_put(&c->pods, q, mark, keep));
}

static void cache_node_put(struct cache *c, struct policy_node *n, bool listed)
{
	uint32_t mark;
	bool keep;
	if (n == NULL)
		return;
	struct policy_node *q = cache_node_copy(c, n);
	policy_node_free(n);
	cache_mark_for(c, listed, &mark, &keep);
	cache_node_drop(c, cache_table_put(&c->nodes, q, mark, keep));
}

static void cache_service_put(struct cache *c, struct policy_service *s, bool listed)
{
	uint32_t mark;
	bool keep;
	if (s == NULL)
		return;
	struct policy_service *q = cache_service_copy(c, s);
	policy_service_free(s);
	cache_mark_for(c, listed, &mark, &keep);
	struct policy_service *old = cache_table_put(&c->services, q, mark, keep);
	struct cache_ns *e = cache_table_get(&c->namespaces, NULL, q->ns);
	if (e == NULL) {
		e = util_xcalloc(1, sizeof(*e));
		e->ns = cache_intern(&c->strings, cache_str(q->ns));
		cache_table_put(&c->namespaces, e, 0, false);
	}
	if (old != NULL) {
		for (size_t i = 0; i < e->n; i++) {
			if (e->v[i] == old) {
				e->v[i] = q;
				break;
			}
		}
		cache_service_drop(c, old);
		return;
	}
	if (e->n == e->cap) {
		e->cap = e->cap ? e->cap * 2 : 2;
		e->v = util_xreallocarray(e->v, e->cap, sizeof(*e->v));
	}
	e->v[e->n++] = q;
}

void cache_put_pod(struct cache *c, struct policy_pod *p)
{
	cache_pod_put(c, p, false);
}

void cache_put_service(struct cache *c, struct policy_service *s)
{
	cache_service_put(c, s, false);
}

void cache_put_node(struct cache *c, struct policy_node *n)
{
	cache_node_put(c, n, false);
}

void cache_list_pod(struct cache *c, struct policy_pod *p)
{
	cache_pod_put(c, p, true);
}

void cache_list_service(struct cache *c, struct policy_service *s)
{
	cache_service_put(c, s, true);
}

void cache_list_node(struct cache *c, struct policy_node *n)
{
	cache_node_put(c, n, true);
}

void cache_delete_pod(struct cache *c, const char *ns, const char *name)
{
	cache_pod_drop(c, cache_table_remove(&c->pods, ns, name));
}

void cache_delete_node(struct cache *c, const char *name)
{
	cache_node_drop(c, cache_table_remove(&c->nodes, NULL, name));
}

void cache_delete_service(struct cache *c, const char *ns, const char *name)
{
	struct policy_service *s = cache_table_remove(&c->services, ns, name);
	if (s == NULL)
		return;
	struct cache_ns *e = cache_table_get(&c->namespaces, NULL, s->ns);
	if (e != NULL) {
		for (size_t i = 0; i < e->n; i++) {
			if (e->v[i] == s) {
				memmove(&e->v[i], &e->v[i + 1], (e->n - i - 1) * sizeof(*e->v));
				e->n--;
				break;
			}
		}
		if (e->n == 0)
			cache_ns_free(c, cache_table_remove(&c->namespaces, NULL, s->ns));
	}
	cache_service_drop(c, s);
}

void cache_relist_begin(struct cache *c)
{
	c->mark++;
	c->relisting = true;
}

/* The items of t not marked with mark (borrowed; the array is the
 * caller's to free, NULL when there are none). */
static void **cache_unmarked(const struct cache_table *t, uint32_t mark, size_t *n)
{
	void **v = NULL;
	size_t k = 0;
	*n = 0;
	for (size_t i = 0; i < t->cap; i++)
		*n += t->slots[i].item != NULL && t->slots[i].mark != mark;
	if (*n == 0)
		return NULL;
	v = util_xcalloc(*n, sizeof(*v));
	for (size_t i = 0; i < t->cap; i++)
		if (t->slots[i].item != NULL && t->slots[i].mark != mark)
			v[k++] = t->slots[i].item;
	return v;
}

size_t cache_relist_end(struct cache *c)
{
	size_t n, total = 0;
	void **v;

	if (!c->relisting)
		return 0;
	c->relisting = false;
	/* Collected first: a removal shifts the entries after it. */
	v = cache_unmarked(&c->pods, c->mark, &n);
	for (size_t i = 0; i < n; i++) {
		const struct policy_pod *p = v[i];
		cache_delete_pod(c, p->ns, p->name);
	}
	free(v);
	total += n;
	v = cache_unmarked(&c->services, c->mark, &n);
	for (size_t i = 0; i < n; i++) {
		const struct policy_service *s = v[i];
		cache_delete_service(c, s->ns, s->name);
	}
	free(v);
	total += n;
	v = cache_unmarked(&c->nodes, c->mark, &n);
	for (size_t i = 0; i < n; i++)
		cache_delete_node(c, ((const struct policy_node *)v[i])->name);
	free(v);
	return total + n;
}

size_t cache_count_pods(const struct cache *c)
{
	return c->pods.n;
}

size_t cache_count_services(const struct cache *c)
{
	return c->services.n;
}

size_t cache_count_nodes(const struct cache *c)
{
	return c->nodes.n;
}

size_t cache_count_strings(const struct cache *c)
{
	return cache_intern_count(&c->strings);
}

static enum policy_found cache_get_pod(void *ctx, const char *ns, const char *name,
                                       const struct policy_pod **out)
{
	const struct cache *c = ctx;
	*out = cache_table_get(&c->pods, ns, name);
	return *out ? POLICY_FOUND : POLICY_NOT_FOUND;
}

static size_t cache_list_services(void *ctx, const char *ns,
                                  const struct policy_service *const **out)
{
	const struct cache *c = ctx;
	const struct cache_ns *e = cache_table_get(&c->namespaces, NULL, ns);
	if (e == NULL) {
		*out = NULL;
		return 0;
	}
	*out = (const struct policy_service *const *)e->v;
	return e->n;
}

static enum policy_found cache_get_node(void *ctx, const char *name, const struct policy_node **out)
{
	const struct cache *c = ctx;
	*out = cache_table_get(&c->nodes, NULL, name);
	return *out ? POLICY_FOUND : POLICY_NOT_FOUND;
}

void cache_lookup(struct cache *c, struct policy_lookup *l)
{
	memset(l, 0, sizeof(*l));
	l->ctx = c;
	l->get_pod = cache_get_pod;
	l->list_services = cache_list_services;
	l->get_node = cache_get_node;
	l->authorization = POLICY_SAR_UNASKED;
}
