/*
 * config: the policy file of SPEC.md, read with libyaml, and a YAML-to-JSON
 * reader for object files. The only module that includes yaml.h.
 *
 * Errors name the file, the line and the key:
 *   "policy.yaml:12: policies[1].maxSANs: expected an integer, got \"many\""
 *
 * All functions are thread-safe.
 */
#ifndef CSR_APPROVER_CONFIG_H
#define CSR_APPROVER_CONFIG_H

#include <jansson.h>
#include <stddef.h>

#include "../policy/policy.h"

/* Cap on the size of a policy file or an objects file. */
#define CONFIG_MAX_FILE (8 * 1024 * 1024)

/*
 * Parse a policy file held in buf (len bytes). filename is used in messages
 * only. Returns a new set (caller frees with policy_set_free()), or NULL with
 * a one-line error in err. Unknown keys, wrong types, duplicate names or
 * signerNames, invalid names, regexes or CIDRs are errors. An empty document
 * gives an empty set.
 */
struct policy_set *config_parse(const char *buf, size_t len, const char *filename, char *err,
				size_t errlen);

/* Read and parse the file at path (at most CONFIG_MAX_FILE bytes). */
struct policy_set *config_load_file(const char *path, char *err, size_t errlen);

/*
 * Convert a YAML stream (one or more documents) to JSON values: *docs gets
 * a new JSON array with one element per non-empty document (caller releases
 * with json_decref()). Scalars follow YAML 1.2 core schema rules for plain
 * scalars (null, true/false, integers, floats), quoted scalars are strings.
 * Anchors and aliases are refused (billion-laughs). Returns 0 or -1 with
 * "FILE:LINE: what" in err.
 */
int config_yaml_to_json(const char *buf, size_t len, const char *filename, json_t **docs, char *err,
			size_t errlen);

#endif
