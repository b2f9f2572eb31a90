/*
 * controller internals shared by the files of pkg/controller; not part of
 * its API.
 */
#ifndef CSR_APPROVER_CONTROLLER_INTERNAL_H
#define CSR_APPROVER_CONTROLLER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

/* A string-keyed hash map of borrowed values (keys are copied). */
struct controller_map_ent {
	char *key; /* owned */
	void *val; /* borrowed */
	struct controller_map_ent *next;
};

struct controller_map {
	struct controller_map_ent **buckets; /* owned */
	size_t n_buckets;
	size_t n;
};

/* Value of key, or NULL. */
void *controller_map_get(const struct controller_map *m, const char *key);
/* Insert or replace; returns the value replaced, or NULL. */
void *controller_map_put(struct controller_map *m, const char *key, void *val);
/* Remove; returns the value removed, or NULL. */
void *controller_map_remove(struct controller_map *m, const char *key);
/* Call cb for every entry; cb must not change the map. */
void controller_map_foreach(const struct controller_map *m,
                            void (*cb)(void *ud, const char *key, void *val), void *ud);
/* Remove everything, calling free_val (may be NULL) on each value. */
void controller_map_clear(struct controller_map *m, void (*free_val)(void *val));

#endif
