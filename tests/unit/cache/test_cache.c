/*
 * The cache: put, replace, delete, lookups, the per-namespace Service index,
 * growth, and loading object files.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ct.h"

#define ERRLEN 512

static const struct policy_pod *get_pod(struct policy_lookup *l, const char *ns, const char *name)
{
	const struct policy_pod *p = (const struct policy_pod *)1;
	enum policy_found f = l->get_pod(l->ctx, ns, name, &p);
	cr_assert_eq(f == POLICY_FOUND, p != NULL);
	return p;
}

/* The names of the Services of ns, space-separated. */
static char *services_of(struct policy_lookup *l, const char *ns)
{
	const struct policy_service *const *v = NULL;
	size_t n = l->list_services(l->ctx, ns, &v);
	struct util_buf b = {0};
	for (size_t i = 0; i < n; i++) {
		cr_assert_str_eq(v[i]->ns, ns);
		util_buf_printf(&b, "%s%s", i ? " " : "", v[i]->name);
	}
	return util_buf_take(&b);
}

static void expect_services(struct policy_lookup *l, const char *ns, const char *want)
{
	char *got = services_of(l, ns);
	cr_assert_str_eq(got, want, "namespace %s", ns);
	free(got);
}

Test(cache, empty)
{
	struct cache *c = cache_new();
	struct policy_lookup l;
	cache_lookup(c, &l);
	cr_assert_eq(l.ctx, c);
	cr_assert_eq(l.authorization, POLICY_SAR_UNASKED);
	cr_assert_null(get_pod(&l, "a", "b"));
	const struct policy_node *n = NULL;
	cr_assert_eq(l.get_node(l.ctx, "x", &n), POLICY_NOT_FOUND);
	expect_services(&l, "a", "");
	cache_delete_pod(c, "a", "b");
	cache_delete_service(c, "a", "b");
	cache_delete_node(c, "x");
	cr_assert_eq(cache_count_pods(c) + cache_count_services(c) + cache_count_nodes(c), 0);
	cache_free(c);
	cache_free(NULL);
}

Test(cache, pods)
{
	struct cache *c = cache_new();
	struct policy_lookup l;
	cache_lookup(c, &l);
	cache_put_pod(c, ct_pod("shop", "web", "u1"));
	cache_put_pod(c, ct_pod("shop", "db", "u2"));
	cache_put_pod(c, ct_pod("blog", "web", "u3"));
	/* the key is namespace and name, not their concatenation */
	cache_put_pod(c, ct_pod("sh", "op/web", "u4"));
	cr_assert_eq(cache_count_pods(c), 4);
	cr_assert_str_eq(get_pod(&l, "shop", "web")->uid, "u1");
	cr_assert_str_eq(get_pod(&l, "blog", "web")->uid, "u3");
	cr_assert_str_eq(get_pod(&l, "sh", "op/web")->uid, "u4");
	cr_assert_null(get_pod(&l, "shop", "api"));
	cr_assert_null(get_pod(&l, "other", "web"));

	cache_put_pod(c, ct_pod("shop", "web", "u1-new"));
	cr_assert_eq(cache_count_pods(c), 4);
	cr_assert_str_eq(get_pod(&l, "shop", "web")->uid, "u1-new");

	cache_delete_pod(c, "shop", "web");
	cr_assert_null(get_pod(&l, "shop", "web"));
	cr_assert_str_eq(get_pod(&l, "blog", "web")->uid, "u3");
	cr_assert_eq(cache_count_pods(c), 3);
	cache_delete_pod(c, "shop", "web");
	cr_assert_eq(cache_count_pods(c), 3);
	cache_put_pod(c, NULL);
	cr_assert_eq(cache_count_pods(c), 3);
	cache_free(c);
}

Test(cache, nodes)
{
	struct cache *c = cache_new();
	struct policy_lookup l;
	const struct policy_node *n = NULL;
	cache_lookup(c, &l);
	cache_put_node(c, ct_node("node-0", "10.0.0.1"));
	cache_put_node(c, ct_node("node-1", "10.0.0.2"));
	cr_assert_eq(l.get_node(l.ctx, "node-1", &n), POLICY_FOUND);
	cr_assert_str_eq(n->addresses[0].address, "10.0.0.2");
	cache_put_node(c, ct_node("node-1", "10.0.0.9"));
	cr_assert_eq(cache_count_nodes(c), 2);
	cr_assert_eq(l.get_node(l.ctx, "node-1", &n), POLICY_FOUND);
	cr_assert_str_eq(n->addresses[0].address, "10.0.0.9");
	cache_delete_node(c, "node-0");
	cr_assert_eq(l.get_node(l.ctx, "node-0", &n), POLICY_NOT_FOUND);
	cr_assert_null(n);
	cr_assert_eq(cache_count_nodes(c), 1);
	cache_free(c);
}

Test(cache, service_index)
{
	struct cache *c = cache_new();
	struct policy_lookup l;
	cache_lookup(c, &l);
	cache_put_service(c, ct_service("shop", "web"));
	cache_put_service(c, ct_service("shop", "db"));
	cache_put_service(c, ct_service("blog", "web"));
	cache_put_service(c, ct_service("shop", "api"));
	cr_assert_eq(cache_count_services(c), 4);
	expect_services(&l, "shop", "web db api");
	expect_services(&l, "blog", "web");
	expect_services(&l, "none", "");

	/* a replacement keeps its place and is (a copy of) the new object */
	struct policy_service *s = ct_service("shop", "db");
	s->selector.v = util_xcalloc(1, sizeof(*s->selector.v));
	s->selector.v[0].key = util_xstrdup("app");
	s->selector.v[0].value = util_xstrdup("db");
	s->selector.n = 1;
	cache_put_service(c, s);
	cr_assert_eq(cache_count_services(c), 4);
	expect_services(&l, "shop", "web db api");
	const struct policy_service *const *v = NULL;
	cr_assert_eq(l.list_services(l.ctx, "shop", &v), 3);
	cr_assert_str_eq(v[1]->name, "db");
	cr_assert_eq(v[1]->selector.n, 1);
	cr_assert_str_eq(v[1]->selector.v[0].key, "app");
	cr_assert_str_eq(v[1]->selector.v[0].value, "db");

	cache_delete_service(c, "shop", "db");
	expect_services(&l, "shop", "web api");
	cache_delete_service(c, "shop", "db");
	cache_delete_service(c, "blog", "db");
	expect_services(&l, "blog", "web");
	cache_delete_service(c, "shop", "web");
	cache_delete_service(c, "shop", "api");
	expect_services(&l, "shop", "");
	cr_assert_eq(cache_count_services(c), 1);
	/* the namespace comes back after it emptied */
	cache_put_service(c, ct_service("shop", "again"));
	expect_services(&l, "shop", "again");
	cache_free(c);
}

Test(cache, growth)
{
	enum { N = 20000, NS = 50 };
	struct cache *c = cache_new();
	struct policy_lookup l;
	char ns[32], name[32], uid[32];
	cache_lookup(c, &l);
	for (int i = 0; i < N; i++) {
		snprintf(ns, sizeof(ns), "ns-%d", i % NS);
		snprintf(name, sizeof(name), "pod-%d", i);
		snprintf(uid, sizeof(uid), "uid-%d", i);
		cache_put_pod(c, ct_pod(ns, name, uid));
		if (i % 10 == 0) {
			snprintf(name, sizeof(name), "svc-%d", i);
			cache_put_service(c, ct_service(ns, name));
		}
	}
	cr_assert_eq(cache_count_pods(c), N);
	cr_assert_eq(cache_count_services(c), N / 10);
	for (int i = 0; i < N; i++) {
		snprintf(ns, sizeof(ns), "ns-%d", i % NS);
		snprintf(name, sizeof(name), "pod-%d", i);
		snprintf(uid, sizeof(uid), "uid-%d", i);
		const struct policy_pod *p = get_pod(&l, ns, name);
		cr_assert_not_null(p, "%s/%s", ns, name);
		cr_assert_str_eq(p->uid, uid);
	}
	/* delete every other pod and every other service: the rest stay found */
	for (int i = 0; i < N; i += 2) {
		snprintf(ns, sizeof(ns), "ns-%d", i % NS);
		snprintf(name, sizeof(name), "pod-%d", i);
		cache_delete_pod(c, ns, name);
		if (i % 20 == 0) {
			snprintf(name, sizeof(name), "svc-%d", i);
			cache_delete_service(c, ns, name);
		}
	}
	cr_assert_eq(cache_count_pods(c), N / 2);
	cr_assert_eq(cache_count_services(c), N / 20);
	for (int i = 0; i < N; i++) {
		snprintf(ns, sizeof(ns), "ns-%d", i % NS);
		snprintf(name, sizeof(name), "pod-%d", i);
		const struct policy_pod *p = get_pod(&l, ns, name);
		if (i % 2 == 0)
			cr_assert_null(p, "%s/%s", ns, name);
		else
			cr_assert_not_null(p, "%s/%s", ns, name);
	}
	size_t total = 0;
	for (int i = 0; i < NS; i++) {
		const struct policy_service *const *v = NULL;
		snprintf(ns, sizeof(ns), "ns-%d", i);
		total += l.list_services(l.ctx, ns, &v);
	}
	cr_assert_eq(total, N / 20);
	/* and they come back */
	for (int i = 0; i < N; i += 2) {
		snprintf(ns, sizeof(ns), "ns-%d", i % NS);
		snprintf(name, sizeof(name), "pod-%d", i);
		cache_put_pod(c, ct_pod(ns, name, "again"));
	}
	cr_assert_eq(cache_count_pods(c), N);
	cr_assert_str_eq(get_pod(&l, "ns-0", "pod-0")->uid, "again");
	cache_free(c);
}

Test(cache, load_objects)
{
	struct cache *c = cache_new();
	struct policy_lookup l;
	char err[ERRLEN] = "";
	cache_lookup(c, &l);
	cr_assert_eq(cache_load_objects(c, "tests/testdata/objects/list.yaml", err, ERRLEN), 0,
	             "%s", err);
	cr_assert_eq(cache_load_objects(c, "tests/testdata/objects/podlist.json", err, ERRLEN), 0,
	             "%s", err);
	cr_assert_eq(cache_load_objects(c, "tests/testdata/objects/multi.yaml", err, ERRLEN), 0,
	             "%s", err);
	cr_assert_eq(cache_count_pods(c), 4);
	cr_assert_eq(cache_count_services(c), 3);
	cr_assert_eq(cache_count_nodes(c), 2);

	const struct policy_pod *p = get_pod(&l, "shop", "web-7d9");
	cr_assert_not_null(p);
	cr_assert_str_eq(p->service_account, "web");
	cr_assert_eq(p->ips.n, 2);
	cr_assert_eq(p->labels.n, 2);
	p = get_pod(&l, "infra", "agent-0");
	cr_assert_not_null(p);
	cr_assert_str_eq(p->service_account, "agent");
	cr_assert(p->deleting);
	cr_assert_str_eq(p->ips.v[0], "10.244.1.7");
	cr_assert_not_null(get_pod(&l, "shop", "db-0"));
	expect_services(&l, "shop", "web web-headless db");
	const struct policy_node *n = NULL;
	cr_assert_eq(l.get_node(l.ctx, "node-1", &n), POLICY_FOUND);
	cr_assert_eq(n->n_addresses, 2);
	cache_free(c);
}

Test(cache, load_errors)
{
	struct cache *c = cache_new();
	char err[ERRLEN] = "";
	cr_assert_eq(
	    cache_load_objects(c, "tests/testdata/objects/pod-without-name.yaml", err, ERRLEN), -1);
	cr_assert_str_eq(
	    err,
	    "tests/testdata/objects/pod-without-name.yaml: object 2 (Pod): metadata.name: required");
	/* what came before the error stays */
	cr_assert_eq(cache_count_nodes(c), 1);

	cr_assert_eq(cache_load_objects(c, "tests/testdata/objects/none.yaml", err, ERRLEN), -1);
	cr_assert(strstr(err, "tests/testdata/objects/none.yaml") != NULL, "%s", err);
	cache_free(c);
}
