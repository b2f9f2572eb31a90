/*
 * libFuzzer target: a LIST answer read item by item (kobj_list_each), as
 * the informers read every page; each item converted as a Pod, a Service
 * and a Node and put into a cache as an item of a relist, which then ends
 * (the compact copies, the interned strings and the sweep). An answer that
 * is accepted must have handed over exactly the object items a whole parse
 * finds.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../../pkg/cache/cache.h"
#include "../../pkg/kobj/kobj.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fuzz_list {
	struct cache *c;
	size_t items;
	bool meta;
};

static void on_meta(void *ctx, const json_t *meta)
{
	struct fuzz_list *f = ctx;
	if (!json_is_object(meta) || f->meta)
		__builtin_trap();
	f->meta = true;
}

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_list f = {cache_new(), 0, false};
	json_t *meta = NULL;
	char err[256];

	cache_relist_begin(f.c);
	int rc =
	    kobj_list_each((const char *)data, size, on_meta, on_item, &f, &meta, err, sizeof(err));
	if (rc == 0) {
		/* What the items were, parsed whole (duplicate keys inside an
		 * item: the last wins in both). Only the nesting limit counts
		 * from a different root. */
		json_error_t jerr;
		json_t *root = json_loadb((const char *)data, size, 0, &jerr);
		const json_t *items = json_object_get(root, "items"), *item;
		size_t i, objects = 0;
		json_array_foreach(items, i, item)
		{
			objects += json_is_object(item);
		}
		if (root == NULL
		        ? json_error_code(&jerr) != json_error_stack_overflow
		        : !json_is_object(root) || objects != f.items || (meta != NULL) != f.meta)
			__builtin_trap();
		json_decref(root);
	} else if (meta != NULL || err[0] == '\0') {
		__builtin_trap();
	}
	cache_relist_end(f.c);
	if (cache_count_pods(f.c) > f.items || cache_count_nodes(f.c) > f.items)
		__builtin_trap();
	json_decref(meta);
	cache_free(f.c);
	return 0;
}
