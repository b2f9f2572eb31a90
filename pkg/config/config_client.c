/*
 * config: the keys of type client (a person's own client certificate):
 * requesters {users, groups} and allowedGroups, lists of glob patterns.
 */
#include <stdio.h>
#include <string.h>

#include "../util/util.h"
#include "config_internal.h"

#define SYSTEM_PREFIX "system:"

/* A sequence (possibly empty) of non-empty glob patterns into sv, replacing
 * what it held. With no_system, a pattern naming a "system:" group is an
 * error: such a group is never allowed in a client certificate, so the
 * entry could only mislead. */
static int cfg_globs(struct config_ctx *c, const struct config_ynode *n, const char *path,
                     bool no_system, struct util_strv *sv)
{
	char ipath[200];
	struct util_strv tmp = {0};

	if (config_seq(c, n, path, false) != 0)
		return -1;
	for (size_t i = 0; i < n->u.c.n; i++) {
		const struct config_ynode *item = n->u.c.items[i];
		const char *s;
		snprintf(ipath, sizeof(ipath), "%s[%zu]", path, i);
		if (config_string(c, item, ipath, &s) != 0)
			goto fail;
		if (*s == '\0') {
			config_error(c, item, ipath,
			             "\"\" is empty: a pattern matches at least one character");
			goto fail;
		}
		if (no_system && util_has_prefix(s, SYSTEM_PREFIX)) {
			char d[128];
			config_ydescribe(item, d, sizeof(d));
			config_error(
			    c, item, ipath,
			    "%s names a system: group, never allowed in a client certificate", d);
			goto fail;
		}
		util_strv_push(&tmp, s);
	}
	util_strv_free(sv);
	*sv = tmp;
	return 0;
fail:
	util_strv_free(&tmp);
	return -1;
}

int config_requesters(struct config_ctx *c, const struct config_ynode *n, const char *path,
                      struct policy_rule *r)
{
	const struct config_ynode *seen[2] = {NULL, NULL};
	static const char *const names[2] = {"users", "groups"};
	char kpath[200];

	if (n->kind != CONFIG_YNODE_MAP)
		return config_expect(c, n, path, "a mapping with users and groups");
	for (size_t i = 0; i + 1 < n->u.c.n; i += 2) {
		const struct config_ynode *k = n->u.c.items[i];
		size_t j;
		for (j = 0; j < 2; j++)
			if (config_ykey_is(k, names[j]))
				break;
		if (j == 2)
			return config_unknown_key(c, k, path);
		snprintf(kpath, sizeof(kpath), "%s.%s", path, names[j]);
		if (seen[j] != NULL) {
			config_error(c, k, kpath, "duplicate key (first at line %u)",
			             seen[j]->line);
			return -1;
		}
		seen[j] = k;
		if (cfg_globs(c, n->u.c.items[i + 1], kpath, false,
		              j == 0 ? &r->requester_users : &r->requester_groups) != 0)
			return -1;
	}
	return 0;
}

int config_allowed_groups(struct config_ctx *c, const struct config_ynode *n, const char *path,
                          struct policy_rule *r)
{
	return cfg_globs(c, n, path, true, &r->allowed_groups);
}
