/*
 * libFuzzer target: a LIST answer read item by item (kobj_list_each), as
 * the informers read every page, and its metadata read ahead
 * (kobj_list_meta); each item converted as a Pod, a Service and a Node and
 * put into a cache as an item of a relist, which then ends (the compact
 * copies, the interned strings and the sweep). An answer that is accepted
 * must have handed over exactly the object items a whole parse finds, and
 * the same metadata.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../../pkg/cache/cache.h"
#include "../../pkg/kobj/kobj.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fuzz_list {
	struct cache *c;
	size_t items;
};

static void on_item(void *ctx, const json_t *item)
{
	struct fuzz_list *f = ctx;
	char err[256];
	if (!json_is_object(item))
		__builtin_trap();
	f->items++;
	cache_list_pod(f->c, kobj_pod_from_json(item, err, sizeof(err)));
	cache_list_service(f->c, kobj_service_from_json(item, err, sizeof(err)));
	cache_list_node(f->c, kobj_node_from_json(item, err, sizeof(err)));
}

/* The accepted answer against a whole parse (duplicate keys inside an
 * item: the last wins in both; only the nesting limit counts from a
 * different root). */
static void fuzz_check_whole(const uint8_t *data, size_t size, const struct fuzz_list *f,
                             const json_t *meta, const json_t *ahead)
{
	json_error_t jerr;
	json_t *root = json_loadb((const char *)data, size, 0, &jerr);
	const json_t *items, *item, *rmeta;
	size_t i, objects = 0;
	bool same_meta;

	if (root == NULL) {
		if (json_error_code(&jerr) != json_error_stack_overflow)
			__builtin_trap();
		return;
	}
	items = json_object_get(root, "items");
	json_array_foreach(items, i, item)
	{
		objects += json_is_object(item);
	}
	rmeta = json_object_get(root, "metadata");
	same_meta = rmeta == NULL || json_is_null(rmeta) ? meta == NULL : json_equal(meta, rmeta);
	if (!json_is_object(root) || objects != f->items || !same_meta)
		__builtin_trap();
	if (ahead != NULL && !json_equal(ahead, meta))
		__builtin_trap();
	json_decref(root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_list f = {cache_new(), 0};
	json_t *meta = NULL, *ahead = NULL;
	char err[256];

	err[0] = '\0';
	if (kobj_list_meta((const char *)data, size, &ahead, err, sizeof(err)) != 0 &&
	    (ahead != NULL || err[0] == '\0'))
		__builtin_trap();
	err[0] = '\0';
	cache_relist_begin(f.c);
	if (kobj_list_each((const char *)data, size, on_item, &f, &meta, err, sizeof(err)) == 0)
		fuzz_check_whole(data, size, &f, meta, ahead);
	else if (meta != NULL || err[0] == '\0')
		__builtin_trap();
	cache_relist_end(f.c);
	if (cache_count_pods(f.c) > f.items || cache_count_nodes(f.c) > f.items)
		__builtin_trap();
	json_decref(meta);
	json_decref(ahead);
	cache_free(f.c);
	return 0;
}
