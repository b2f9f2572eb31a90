/*
 * controller: a string-keyed hash map (chained, FNV-1a, grows at load 1).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../util/util.h"
#include "internal.h"

static uint64_t map_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

static void map_grow(struct controller_map *m)
{
	size_t nb = m->n_buckets ? m->n_buckets * 2 : 16;
	struct controller_map_ent **b = util_xcalloc(nb, sizeof(*b));
	for (size_t i = 0; i < m->n_buckets; i++) {
		struct controller_map_ent *e = m->buckets[i], *next;
		for (; e != NULL; e = next) {
			next = e->next;
			size_t k = map_hash(e->key) & (nb - 1);
			e->next = b[k];
			b[k] = e;
		}
	}
	free(m->buckets);
	m->buckets = b;
	m->n_buckets = nb;
}

static struct controller_map_ent **map_slot(const struct controller_map *m, const char *key)
{
	if (m->n_buckets == 0)
		return NULL;
	struct controller_map_ent **p = &m->buckets[map_hash(key) & (m->n_buckets - 1)];
	while (*p != NULL && strcmp((*p)->key, key) != 0)
		p = &(*p)->next;
	return p;
}

void *controller_map_get(const struct controller_map *m, const char *key)
{
	struct controller_map_ent **p = map_slot(m, key);
	return p != NULL && *p != NULL ? (*p)->val : NULL;
}

void *controller_map_put(struct controller_map *m, const char *key, void *val)
{
	struct controller_map_ent **p = map_slot(m, key);
	if (p != NULL && *p != NULL) {
		void *old = (*p)->val;
		(*p)->val = val;
		return old;
	}
	if (m->n + 1 > m->n_buckets)
		map_grow(m);
	struct controller_map_ent *e = util_xcalloc(1, sizeof(*e));
	e->key = util_xstrdup(key);
	e->val = val;
	size_t k = map_hash(key) & (m->n_buckets - 1);
	e->next = m->buckets[k];
	m->buckets[k] = e;
	m->n++;
	return NULL;
}

void *controller_map_remove(struct controller_map *m, const char *key)
{
	struct controller_map_ent **p = map_slot(m, key);
	if (p == NULL || *p == NULL)
		return NULL;
	struct controller_map_ent *e = *p;
	void *val = e->val;
	*p = e->next;
	free(e->key);
	free(e);
	m->n--;
	return val;
}

void controller_map_foreach(const struct controller_map *m,
                            void (*cb)(void *ud, const char *key, void *val), void *ud)
{
	for (size_t i = 0; i < m->n_buckets; i++)
		for (struct controller_map_ent *e = m->buckets[i]; e != NULL; e = e->next)
			cb(ud, e->key, e->val);
}

void controller_map_clear(struct controller_map *m, void (*free_val)(void *val))
{
	for (size_t i = 0; i < m->n_buckets; i++) {
		struct controller_map_ent *e = m->buckets[i], *next;
		for (; e != NULL; e = next) {
			next = e->next;
			if (free_val != NULL)
				free_val(e->val);
			free(e->key);
			free(e);
		}
	}
	free(m->buckets);
	m->buckets = NULL;
	m->n_buckets = 0;
	m->n = 0;
}
