/*
 * cache: open-addressing hash tables (linear probing, FNV-1a, backward-shift
 * deletion) that point at the objects themselves: the keys are read from the
 * objects, so an entry costs one 16-byte slot and no key copy.
 */
#include "cache.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../util/util.h"

enum cache_kind {
	CACHE_POD,
	CACHE_SERVICE,
	CACHE_NODE,
	CACHE_NS, /* the services of one namespace */
};

/* The Services of one namespace, in the order they were first put. */
struct cache_ns {
	char *ns; /* owned */
	struct policy_service **v; /* owned array; the services belong to the table */
	size_t n, cap;
};

struct cache_slot {
	uint32_t hash;
	void *item; /* NULL: empty */
};

struct cache_table {
	enum cache_kind kind;
	struct cache_slot *slots; /* owned; cap entries */
	size_t cap; /* 0 or a power of two */
	size_t n;
};

struct cache {
	struct cache_table pods, services, nodes, namespaces;
};

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
		*ns = "";
		*name = cache_str(((const struct policy_node *)item)->name);
		return;
	case CACHE_NS:
		*ns = "";
		*name = cache_str(((const struct cache_ns *)item)->ns);
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
 * item (the caller frees it) or NULL. */
static void *cache_table_put(struct cache_table *t, void *item)
{
	const char *ns, *name;
	if ((t->n + 1) * 4 > t->cap * 3)
		cache_table_grow(t);
	cache_key(t->kind, item, &ns, &name);
	uint32_t h = cache_hash(ns, name);
	struct cache_slot *s = &t->slots[cache_probe(t, ns, name, h)];
	void *old = s->item;
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
	t->n--;
	return item;
}

static void cache_ns_free(struct cache_ns *e)
{
	if (e == NULL)
		return;
	free(e->ns);
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
	return c;
}

void cache_free(struct cache *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->pods.cap; i++)
		policy_pod_free(c->pods.slots[i].item);
	for (size_t i = 0; i < c->services.cap; i++)
		policy_service_free(c->services.slots[i].item);
	for (size_t i = 0; i < c->nodes.cap; i++)
		policy_node_free(c->nodes.slots[i].item);
	for (size_t i = 0; i < c->namespaces.cap; i++)
		cache_ns_free(c->namespaces.slots[i].item);
	free(c->pods.slots);
	free(c->services.slots);
	free(c->nodes.slots);
	free(c->namespaces.slots);
	free(c);
}

void cache_put_pod(struct cache *c, struct policy_pod *p)
{
	if (p != NULL)
		policy_pod_free(cache_table_put(&c->pods, p));
}

void cache_put_node(struct cache *c, struct policy_node *n)
{
	if (n != NULL)
		policy_node_free(cache_table_put(&c->nodes, n));
}

void cache_put_service(struct cache *c, struct policy_service *s)
{
	if (s == NULL)
		return;
	struct policy_service *old = cache_table_put(&c->services, s);
	struct cache_ns *e = cache_table_get(&c->namespaces, NULL, s->ns);
	if (e == NULL) {
		e = util_xcalloc(1, sizeof(*e));
		e->ns = util_xstrdup(cache_str(s->ns));
		cache_table_put(&c->namespaces, e);
	}
	if (old != NULL) {
		for (size_t i = 0; i < e->n; i++) {
			if (e->v[i] == old) {
				e->v[i] = s;
				break;
			}
		}
		policy_service_free(old);
		return;
	}
	if (e->n == e->cap) {
		e->cap = e->cap ? e->cap * 2 : 2;
		e->v = util_xreallocarray(e->v, e->cap, sizeof(*e->v));
	}
	e->v[e->n++] = s;
}

void cache_delete_pod(struct cache *c, const char *ns, const char *name)
{
	policy_pod_free(cache_table_remove(&c->pods, ns, name));
}

void cache_delete_node(struct cache *c, const char *name)
{
	policy_node_free(cache_table_remove(&c->nodes, NULL, name));
}

void cache_delete_service(struct cache *c, const char *ns, const char *name)
{
	struct policy_service *s = cache_table_remove(&c->services, ns, name);
	if (s == NULL)
		return;
	struct cache_ns *e = cache_table_get(&c->namespaces, NULL, ns);
	if (e != NULL) {
		for (size_t i = 0; i < e->n; i++) {
			if (e->v[i] == s) {
				memmove(&e->v[i], &e->v[i + 1], (e->n - i - 1) * sizeof(*e->v));
				e->n--;
				break;
			}
		}
		if (e->n == 0)
			cache_ns_free(cache_table_remove(&c->namespaces, NULL, ns));
	}
	policy_service_free(s);
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
