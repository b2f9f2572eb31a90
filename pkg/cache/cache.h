/*
 * cache: the identity objects a decision may look at (Pods, Services,
 * Nodes), indexed the way the lookups need them: pod by namespace/name,
 * services by namespace, node by name. It owns the slim structs handed to
 * it. Used by `check` (filled from files) and by the controller (filled from
 * watches).
 *
 * Not thread-safe: one thread owns a cache.
 */
#ifndef CSR_APPROVER_CACHE_H
#define CSR_APPROVER_CACHE_H

#include <stddef.h>

#include "../policy/policy.h"

struct cache;

/* A new empty cache. Caller frees with cache_free(). */
struct cache *cache_new(void);
void cache_free(struct cache *c); /* NULL does nothing */

/* Insert or replace, by key (ns/name or name). Ownership of the object
 * passes to the cache (the replaced one is freed). */
void cache_put_pod(struct cache *c, struct policy_pod *p);
void cache_put_service(struct cache *c, struct policy_service *s);
void cache_put_node(struct cache *c, struct policy_node *n);
/* Remove (and free) by key; absent keys are fine. */
void cache_delete_pod(struct cache *c, const char *ns, const char *name);
void cache_delete_service(struct cache *c, const char *ns, const char *name);
void cache_delete_node(struct cache *c, const char *name);

/* Counts, for metrics and benchmarks. */
size_t cache_count_pods(const struct cache *c);
size_t cache_count_services(const struct cache *c);
size_t cache_count_nodes(const struct cache *c);

/* Fill *l with callbacks that read c (authorization left unasked: the
 * caller sets it). l borrows c. The arrays list_services hands out stay valid until the
 * next put or delete of a Service. */
void cache_lookup(struct cache *c, struct policy_lookup *l);

/*
 * Read an objects file for `check --objects` (path, or "-" for stdin; at
 * most CONFIG_MAX_FILE bytes; any form kobj_read_objects() takes) and put
 * its Pods, Services and Nodes into c. Other kinds are ignored. Returns 0,
 * or -1 with a one-line error in err naming the file, and for an object
 * that does not convert its 1-based position in the file and kind:
 * "pods.yaml: object 3 (Pod): metadata.name: required". Objects read before
 * the error stay in c.
 */
int cache_load_objects(struct cache *c, const char *path, char *err, size_t errlen);

#endif
