/*
 * cache_load_objects: fill a cache from an objects file (`check --objects`).
 * Kept apart from cache.c so that the tables themselves need no parser.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../config/config.h"
#include "../kobj/kobj.h"
#include "../util/util.h"
#include "cache.h"

struct cache_load {
	struct cache *c;
	const char *name;
	size_t index; /* 1-based position of the current object in the file */
};

static int cache_load_cb(void *ctx, const char *kind, const json_t *obj, char *err, size_t errlen)
{
	struct cache_load *l = ctx;
	char inner[512] = "";
	bool ok = true;

	l->index++;
	if (strcmp(kind, "Pod") == 0) {
		struct policy_pod *p = kobj_pod_from_json(obj, inner, sizeof(inner));
		ok = p != NULL;
		cache_put_pod(l->c, p);
	} else if (strcmp(kind, "Service") == 0) {
		struct policy_service *s = kobj_service_from_json(obj, inner, sizeof(inner));
		ok = s != NULL;
		cache_put_service(l->c, s);
	} else if (strcmp(kind, "Node") == 0) {
		struct policy_node *n = kobj_node_from_json(obj, inner, sizeof(inner));
		ok = n != NULL;
		cache_put_node(l->c, n);
	}
	if (!ok) {
		snprintf(err, errlen, "%s: object %zu (%s): %s", l->name, l->index, kind, inner);
		return -1;
	}
	return 0;
}

int cache_load_objects(struct cache *c, const char *path, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0;
	struct cache_load l = {c, strcmp(path, "-") == 0 ? "<stdin>" : path, 0};
	int rc;

	if (util_read_file(path, CONFIG_MAX_FILE, &buf, &len, err, errlen) != 0)
		return -1;
	rc = kobj_read_objects(buf, len, l.name, cache_load_cb, &l, err, errlen);
	free(buf);
	return rc;
}
