/*
 * A relist in place: the listed objects replace their copies, the rest go at
 * the end, and other puts during a relist neither keep an object the LIST
 * did not hold nor drop one it did.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ct.h"

/* The uid of ns/name, or NULL when not cached. */
static const char *uid_of(struct cache *c, const char *ns, const char *name)
{
	struct policy_lookup l;
	const struct policy_pod *p = NULL;
	cache_lookup(c, &l);
	l.get_pod(l.ctx, ns, name, &p);
	return p ? p->uid : NULL;
}

static char *services_of(struct cache *c, const char *ns)
{
	struct policy_lookup l;
	const struct policy_service *const *v = NULL;
	struct util_buf b = {0};
	cache_lookup(c, &l);
	size_t n = l.list_services(l.ctx, ns, &v);
	for (size_t i = 0; i < n; i++)
		util_buf_printf(&b, "%s%s", i ? " " : "", v[i]->name);
	return util_buf_take(&b);
}

static bool has_node(struct cache *c, const char *name)
{
	struct policy_lookup l;
	const struct policy_node *n = NULL;
	cache_lookup(c, &l);
	return l.get_node(l.ctx, name, &n) == POLICY_FOUND;
}

Test(cache_relist, drops_what_was_not_listed)
{
	struct cache *c = cache_new();
	cache_put_pod(c, ct_pod("shop", "a", "a1"));
	cache_put_pod(c, ct_pod("shop", "b", "b1"));
	cache_put_pod(c, ct_pod("blog", "c", "c1"));

	cache_relist_begin(c);
	cache_list_pod(c, ct_pod("shop", "a", "a2"));
	/* until the end, what was cached is still there */
	cr_assert_str_eq(uid_of(c, "shop", "b"), "b1");
	cr_assert_str_eq(uid_of(c, "shop", "a"), "a2");
	cache_list_pod(c, ct_pod("shop", "d", "d1"));
	cr_assert_eq(cache_count_pods(c), 4);
	cr_assert_eq(cache_relist_end(c), 2);

	cr_assert_eq(cache_count_pods(c), 2);
	cr_assert_str_eq(uid_of(c, "shop", "a"), "a2");
	cr_assert_str_eq(uid_of(c, "shop", "d"), "d1");
	cr_assert_null(uid_of(c, "shop", "b"));
	cr_assert_null(uid_of(c, "blog", "c"));
	/* shop (blog went with c) */
	cr_assert_eq(cache_count_strings(c), 1);
	/* no relist under way: nothing to end */
	cr_assert_eq(cache_relist_end(c), 0);
	cr_assert_eq(cache_count_pods(c), 2);
	cache_free(c);
}

Test(cache_relist, an_empty_list_empties_the_cache)
{
	struct cache *c = cache_new();
	cache_put_pod(c, ct_pod("shop", "a", "a1"));
	cache_put_service(c, ct_service("shop", "web"));
	cache_put_node(c, ct_node("node-1", NULL));
	cache_relist_begin(c);
	cr_assert_eq(cache_relist_end(c), 3);
	cr_assert_eq(cache_count_pods(c) + cache_count_services(c) + cache_count_nodes(c), 0);
	cr_assert_eq(cache_count_strings(c), 0);
	cache_free(c);
}

Test(cache_relist, other_puts_during_a_relist)
{
	struct cache *c = cache_new();
	cache_put_pod(c, ct_pod("shop", "old", "o1"));
	cache_put_pod(c, ct_pod("shop", "listed", "l1"));

	cache_relist_begin(c);
	cache_list_pod(c, ct_pod("shop", "listed", "l2"));
	/* a newer copy of a listed object (a live read) stays */
	cache_put_pod(c, ct_pod("shop", "listed", "l3"));
	/* an object the LIST does not hold, put anew or replaced, goes: the
	 * watch from the LIST's version brings it back if it exists */
	cache_put_pod(c, ct_pod("shop", "new", "n1"));
	cache_put_pod(c, ct_pod("shop", "old", "o2"));
	cr_assert_str_eq(uid_of(c, "shop", "old"), "o2");
	cr_assert_eq(cache_relist_end(c), 2);
	cr_assert_str_eq(uid_of(c, "shop", "listed"), "l3");
	cr_assert_null(uid_of(c, "shop", "new"));
	cr_assert_null(uid_of(c, "shop", "old"));

	/* outside a relist, puts are plain puts and stay through the next */
	cache_put_pod(c, ct_pod("shop", "later", "x1"));
	cache_relist_begin(c);
	cache_list_pod(c, ct_pod("shop", "later", "x2"));
	cache_list_pod(c, ct_pod("shop", "listed", "l4"));
	cr_assert_eq(cache_relist_end(c), 0);
	cr_assert_str_eq(uid_of(c, "shop", "later"), "x2");
	cache_free(c);
}

Test(cache_relist, a_second_begin_starts_over)
{
	struct cache *c = cache_new();
	cache_put_pod(c, ct_pod("shop", "a", "a1"));
	cache_put_pod(c, ct_pod("shop", "b", "b1"));
	cache_relist_begin(c);
	cache_list_pod(c, ct_pod("shop", "a", "a2"));
	/* the LIST starts again (its continue token expired) */
	cache_relist_begin(c);
	cache_list_pod(c, ct_pod("shop", "b", "b2"));
	cr_assert_eq(cache_relist_end(c), 1);
	cr_assert_null(uid_of(c, "shop", "a"));
	cr_assert_str_eq(uid_of(c, "shop", "b"), "b2");
	cache_free(c);
}

Test(cache_relist, services_and_nodes)
{
	struct cache *c = cache_new();
	cache_put_service(c, ct_service("shop", "web"));
	cache_put_service(c, ct_service("shop", "db"));
	cache_put_service(c, ct_service("shop", "api"));
	cache_put_service(c, ct_service("blog", "web"));
	cache_put_node(c, ct_node("node-1", NULL));
	cache_put_node(c, ct_node("node-2", NULL));

	cache_relist_begin(c);
	cache_list_service(c, ct_service("shop", "api"));
	cache_list_service(c, ct_service("shop", "web"));
	cache_list_service(c, ct_service("shop", "cache"));
	cache_list_node(c, ct_node("node-2", NULL));
	cache_list_node(c, ct_node("node-3", NULL));
	cr_assert_eq(cache_relist_end(c), 3);

	char *got = services_of(c, "shop");
	cr_assert_str_eq(got, "web api cache");
	free(got);
	got = services_of(c, "blog");
	cr_assert_str_eq(got, "");
	free(got);
	cr_assert_eq(cache_count_services(c), 3);
	cr_assert_not(has_node(c, "node-1"));
	cr_assert(has_node(c, "node-2"));
	cr_assert(has_node(c, "node-3"));
	cr_assert_eq(cache_count_nodes(c), 2);
	cache_free(c);
}

Test(cache_relist, large)
{
	enum { N = 20000 };
	struct cache *c = cache_new();
	char ns[32], name[32];
	for (int i = 0; i < N; i++) {
		snprintf(ns, sizeof(ns), "ns-%d", i % 37);
		snprintf(name, sizeof(name), "pod-%d", i);
		cache_put_pod(c, ct_pod(ns, name, "first"));
	}
	/* a LIST that holds every third pod, and as many new ones */
	cache_relist_begin(c);
	for (int i = 0; i < N; i += 3) {
		snprintf(ns, sizeof(ns), "ns-%d", i % 37);
		snprintf(name, sizeof(name), "pod-%d", i);
		cache_list_pod(c, ct_pod(ns, name, "second"));
		snprintf(name, sizeof(name), "new-%d", i);
		cache_list_pod(c, ct_pod(ns, name, "second"));
	}
	size_t listed = (N + 2) / 3;
	cr_assert_eq(cache_relist_end(c), N - listed);
	cr_assert_eq(cache_count_pods(c), 2 * listed);
	for (int i = 0; i < N; i++) {
		snprintf(ns, sizeof(ns), "ns-%d", i % 37);
		snprintf(name, sizeof(name), "pod-%d", i);
		const char *uid = uid_of(c, ns, name);
		if (i % 3 == 0)
			cr_assert(uid != NULL && strcmp(uid, "second") == 0, "%s/%s", ns, name);
		else
			cr_assert_null(uid, "%s/%s", ns, name);
	}
	/* the 37 namespaces (uids are each pod's own) */
	cr_assert_eq(cache_count_strings(c), 37);
	cache_free(c);
}
