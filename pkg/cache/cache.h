/*
 * cache: the identity objects a decision may look at (Pods, Services,
 * Nodes), indexed the way the lookups need them: pod by namespace/name,
 * services by namespace, node by name. It keeps each object as one compact
 * copy whose repeated strings (namespaces, service accounts, node names,
 * phases, label keys and values, address types) are interned: shared by
 * every object of the cache that holds them, and read-only. Used by `check`
 * (filled from files) and by the controller (filled from watches).
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

/* Insert or replace, by key (ns/name or name). The object is taken over:
 * the cache keeps a compact copy and frees it (with policy_*_free()) before
 * returning; the replaced copy is freed. The pointers the lookups hand out
 * are the cache's copies. */
void cache_put_pod(struct cache *c, struct policy_pod *p);
void cache_put_service(struct cache *c, struct policy_service *s);
void cache_put_node(struct cache *c, struct policy_node *n);
/* Remove (and free) by key; absent keys are fine. */
void cache_delete_pod(struct cache *c, const char *ns, const char *name);
void cache_delete_service(struct cache *c, const char *ns, const char *name);
void cache_delete_node(struct cache *c, const char *name);

/* Counts, for metrics and benchmarks; strings: distinct interned strings. */
size_t cache_count_pods(const struct cache *c);
size_t cache_count_services(const struct cache *c);
size_t cache_count_nodes(const struct cache *c);
size_t cache_count_strings(const struct cache *c);

/*
 * A relist in place, without a second cache: cache_relist_begin() starts
 * it; the LIST's objects are put with cache_list_*() (ownership as with
 * cache_put_*()); cache_relist_end() removes every object that was not
 * listed since the begin and returns how many it removed (0 when no relist
 * is under way). Lookups in between see each object as it was or as
 * listed. Any other put during a relist (a watch event, a live read)
 * replaces the copy but not its standing: a copy that was listed stays
 * listed, and a new object counts as not listed (the LIST is the authority
 * on what exists at its resourceVersion; the watch from there replays what
 * came after). A second begin before the end starts over. Outside a relist
 * cache_list_*() are cache_put_*().
 */
void cache_relist_begin(struct cache *c);
void cache_list_pod(struct cache *c, struct policy_pod *p);
void cache_list_service(struct cache *c, struct policy_service *s);
void cache_list_node(struct cache *c, struct policy_node *n);
size_t cache_relist_end(struct cache *c);

/*
 * Interned strings: one refcounted copy of each distinct string. (The cache
 * has one inside; this is its API, for tests and for other owners.)
 * cache_intern() returns the copy of s (the same pointer for equal strings)
 * and takes a reference; NULL gives NULL, and "" a static "" that costs
 * nothing. cache_intern_release() gives one back (s as returned, or NULL);
 * the copy is freed with its last reference. cache_intern_free() frees
 * every copy, referenced or not. Borrowed strings stay valid while
 * referenced.
 */
struct cache_intern;
struct cache_intern *cache_intern_new(void);
void cache_intern_free(struct cache_intern *t); /* NULL does nothing */
const char *cache_intern(struct cache_intern *t, const char *s);
void cache_intern_release(struct cache_intern *t, const char *s);
size_t cache_intern_count(const struct cache_intern *t); /* distinct strings held */

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
