/*
 * Interned strings: the table itself, and the cache's compact copies that
 * share them (equal strings are one copy, counted down as objects go).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../../pkg/cache/cache.h"

Test(cache_intern, same_pointer_for_equal_strings)
{
	struct cache_intern *t = cache_intern_new();
	char buf[16];
	const char *a = cache_intern(t, "shop");
	snprintf(buf, sizeof(buf), "%s", "shop");
	const char *b = cache_intern(t, buf);
	const char *c = cache_intern(t, "blog");
	cr_assert_eq(a, b);
	cr_assert_neq((void *)a, (void *)buf);
	cr_assert_str_eq(a, "shop");
	cr_assert_str_eq(c, "blog");
	cr_assert_neq(a, c);
	cr_assert_eq(cache_intern_count(t), 2);
	cache_intern_free(t);
	cache_intern_free(NULL);
}

Test(cache_intern, empty_and_null_cost_nothing)
{
	struct cache_intern *t = cache_intern_new();
	const char *e1 = cache_intern(t, "");
	const char *e2 = cache_intern(t, "");
	cr_assert_str_eq(e1, "");
	cr_assert_eq(e1, e2);
	cr_assert_null(cache_intern(t, NULL));
	cr_assert_eq(cache_intern_count(t), 0);
	cache_intern_release(t, e1);
	cache_intern_release(t, NULL);
	cr_assert_eq(cache_intern_count(t), 0);
	cache_intern_free(t);
}

Test(cache_intern, freed_with_the_last_reference)
{
	struct cache_intern *t = cache_intern_new();
	const char *a = cache_intern(t, "default");
	cr_assert_eq(cache_intern(t, "default"), a);
	cr_assert_eq(cache_intern(t, "default"), a);
	cache_intern_release(t, a);
	cache_intern_release(t, a);
	cr_assert_eq(cache_intern_count(t), 1);
	cr_assert_str_eq(a, "default");
	cache_intern_release(t, a);
	cr_assert_eq(cache_intern_count(t), 0);
	/* and it can come back */
	cr_assert_str_eq(cache_intern(t, "default"), "default");
	cr_assert_eq(cache_intern_count(t), 1);
	cache_intern_free(t);
}

Test(cache_intern, many)
{
	enum { N = 5000 };
	struct cache_intern *t = cache_intern_new();
	const char **v = calloc(N, sizeof(*v));
	char buf[32];
	for (int i = 0; i < N; i++) {
		snprintf(buf, sizeof(buf), "value-%d", i);
		v[i] = cache_intern(t, buf);
		cr_assert_eq(cache_intern(t, buf), v[i]);
	}
	cr_assert_eq(cache_intern_count(t), N);
	/* one reference of each back: all still there */
	for (int i = 0; i < N; i++)
		cache_intern_release(t, v[i]);
	cr_assert_eq(cache_intern_count(t), N);
	/* the last of every other one: those go, the rest are still found */
	for (int i = 0; i < N; i += 2)
		cache_intern_release(t, v[i]);
	cr_assert_eq(cache_intern_count(t), N / 2);
	for (int i = 1; i < N; i += 2) {
		snprintf(buf, sizeof(buf), "value-%d", i);
		cr_assert_eq(cache_intern(t, buf), v[i], "%s", buf);
	}
	free(v);
	/* freeing the table frees what is still referenced */
	cache_intern_free(t);
}

static struct policy_pod *full_pod(const char *name, const char *node, const char *app)
{
	struct policy_pod *p = util_xcalloc(1, sizeof(*p));
	p->ns = util_xstrdup("shop");
	p->name = util_xstrdup(name);
	p->uid = util_xstrdup("0b7c9c4e-0000-4000-8000-000000000001");
	p->service_account = util_xstrdup("web");
	p->node_name = util_xstrdup(node);
	p->phase = util_xstrdup("Running");
	p->hostname = util_xstrdup("web-0");
	p->subdomain = util_xstrdup("web-headless");
	p->deleting = true;
	p->host_network = false;
	util_strv_push(&p->ips, "10.244.1.7");
	util_strv_push(&p->ips, "fd00::7");
	p->labels.v = util_xcalloc(2, sizeof(*p->labels.v));
	p->labels.v[0].key = util_xstrdup("app");
	p->labels.v[0].value = util_xstrdup(app);
	p->labels.v[1].key = util_xstrdup("tier");
	p->labels.v[1].value = util_xstrdup("");
	p->labels.n = 2;
	return p;
}

static const struct policy_pod *find_pod(struct policy_lookup *l, const char *ns, const char *name)
{
	const struct policy_pod *p = NULL;
	l->get_pod(l->ctx, ns, name, &p);
	return p;
}

Test(cache_intern, pods_share_repeated_strings)
{
	struct cache *c = cache_new();
	struct policy_lookup l;
	cache_lookup(c, &l);
	cache_put_pod(c, full_pod("web-0", "node-1", "web"));
	cache_put_pod(c, full_pod("web-1", "node-1", "web"));
	const struct policy_pod *a = find_pod(&l, "shop", "web-0");
	const struct policy_pod *b = find_pod(&l, "shop", "web-1");
	cr_assert_not_null(a);
	cr_assert_not_null(b);

	/* every field survives the copy */
	cr_assert_str_eq(a->ns, "shop");
	cr_assert_str_eq(a->name, "web-0");
	cr_assert_str_eq(a->uid, "0b7c9c4e-0000-4000-8000-000000000001");
	cr_assert_str_eq(a->service_account, "web");
	cr_assert_str_eq(a->node_name, "node-1");
	cr_assert_str_eq(a->phase, "Running");
	cr_assert_str_eq(a->hostname, "web-0");
	cr_assert_str_eq(a->subdomain, "web-headless");
	cr_assert(a->deleting);
	cr_assert_not(a->host_network);
	cr_assert_eq(a->ips.n, 2);
	cr_assert_str_eq(a->ips.v[0], "10.244.1.7");
	cr_assert_str_eq(a->ips.v[1], "fd00::7");
	cr_assert_eq(a->labels.n, 2);
	cr_assert_str_eq(a->labels.v[0].key, "app");
	cr_assert_str_eq(a->labels.v[0].value, "web");
	cr_assert_str_eq(a->labels.v[1].key, "tier");
	cr_assert_str_eq(a->labels.v[1].value, "");

	/* the repeated strings are one copy; the pods' own are not */
	cr_assert_eq(a->ns, b->ns);
	cr_assert_eq(a->service_account, b->service_account);
	cr_assert_eq(a->node_name, b->node_name);
	cr_assert_eq(a->phase, b->phase);
	cr_assert_eq(a->subdomain, b->subdomain);
	cr_assert_eq(a->labels.v[0].key, b->labels.v[0].key);
	cr_assert_eq(a->labels.v[0].value, b->labels.v[0].value);
	cr_assert_neq(a->name, b->name);
	cr_assert_neq(a->ips.v[0], b->ips.v[0]);
	/* shop web node-1 Running web-headless app tier ("" costs nothing;
	 * "web" is one string for the account and the label value) */
	cr_assert_eq(cache_count_strings(c), 7);

	/* a replacement drops what only the old copy held */
	cache_put_pod(c, full_pod("web-1", "node-2", "web"));
	cr_assert_eq(cache_count_strings(c), 8);
	cache_put_pod(c, full_pod("web-0", "node-2", "web"));
	cr_assert_eq(cache_count_strings(c), 7);
	cr_assert_str_eq(find_pod(&l, "shop", "web-0")->node_name, "node-2");
	cache_delete_pod(c, "shop", "web-0");
	cr_assert_eq(cache_count_strings(c), 7);
	cache_delete_pod(c, "shop", "web-1");
	cr_assert_eq(cache_count_strings(c), 0);
	cache_free(c);
}

Test(cache_intern, services_and_nodes_share_too)
{
	struct cache *c = cache_new();
	struct policy_lookup l;
	cache_lookup(c, &l);
	for (int i = 0; i < 2; i++) {
		struct policy_service *s = util_xcalloc(1, sizeof(*s));
		char name[16];
		snprintf(name, sizeof(name), "svc-%d", i);
		s->ns = util_xstrdup("shop");
		s->name = util_xstrdup(name);
		s->external_name = i == 1;
		s->selector.v = util_xcalloc(1, sizeof(*s->selector.v));
		s->selector.v[0].key = util_xstrdup("app");
		s->selector.v[0].value = util_xstrdup("web");
		s->selector.n = 1;
		cache_put_service(c, s);

		struct policy_node *n = util_xcalloc(1, sizeof(*n));
		snprintf(name, sizeof(name), "node-%d", i);
		n->name = util_xstrdup(name);
		n->uid = util_xstrdup("u");
		n->addresses = util_xcalloc(2, sizeof(*n->addresses));
		n->addresses[0].type = util_xstrdup("InternalIP");
		n->addresses[0].address = util_xstrdup(i ? "10.0.0.2" : "10.0.0.1");
		n->addresses[1].type = util_xstrdup("Hostname");
		n->addresses[1].address = util_xstrdup(name);
		n->n_addresses = 2;
		cache_put_node(c, n);
	}
	const struct policy_service *const *v = NULL;
	cr_assert_eq(l.list_services(l.ctx, "shop", &v), 2);
	cr_assert_str_eq(v[0]->name, "svc-0");
	cr_assert_not(v[0]->external_name);
	cr_assert(v[1]->external_name);
	cr_assert_eq(v[0]->selector.v[0].value, v[1]->selector.v[0].value);
	cr_assert_str_eq(v[1]->selector.v[0].value, "web");

	const struct policy_node *n0 = NULL, *n1 = NULL;
	cr_assert_eq(l.get_node(l.ctx, "node-0", &n0), POLICY_FOUND);
	cr_assert_eq(l.get_node(l.ctx, "node-1", &n1), POLICY_FOUND);
	cr_assert_str_eq(n1->uid, "u");
	cr_assert_eq(n1->n_addresses, 2);
	cr_assert_str_eq(n1->addresses[0].address, "10.0.0.2");
	cr_assert_str_eq(n1->addresses[1].type, "Hostname");
	cr_assert_str_eq(n1->addresses[1].address, "node-1");
	cr_assert_eq(n0->addresses[0].type, n1->addresses[0].type);
	/* shop app web InternalIP Hostname */
	cr_assert_eq(cache_count_strings(c), 5);
	cache_delete_service(c, "shop", "svc-0");
	cache_delete_service(c, "shop", "svc-1");
	cache_delete_node(c, "node-0");
	cache_delete_node(c, "node-1");
	cr_assert_eq(cache_count_strings(c), 0);
	cache_free(c);
}
