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
/* Caps on YAML nesting and on the number of nodes in one document: hostile
 * input must not exhaust the stack or the heap. */
#define CONFIG_MAX_DEPTH 64
#define CONFIG_MAX_NODES 1000000

/*
 * Parse a policy file held in buf (len bytes, at most CONFIG_MAX_FILE).
 * filename is used in messages only. Returns a new set (caller frees with
 * policy_set_free()), or NULL with a one-line error in err. An empty file or
 * a null document gives an empty set with clusterDomain "cluster.local".
 *
 * The rules beyond SPEC.md's list of keys:
 *  - the file holds one YAML document whose top level is a mapping; keys
 *    are matched exactly; an unknown key, a key given twice, an anchor, an
 *    alias or a tag other than !!str is an error;
 *  - types follow the YAML 1.2 core schema: strings are quoted or plain
 *    scalars that are not null, true/false or numbers; booleans are only
 *    true/false (True, TRUE), not yes/no; integers are not quoted; null is
 *    never a valid value (leave the key out for the default);
 *  - clusterDomain is a DNS-1123 subdomain; it is the default trustDomain
 *    of every policy wherever it stands in the file;
 *  - name: 1 to 63 of [a-z0-9-]; signerName as Kubernetes validates it
 *    (a domain of two or more DNS labels, '/', a path); both unique;
 *  - keys by type: onFailure, keys, usages, min/maxExpirationSeconds for
 *    all; maxSANs for workload and kubelet-serving; namespaces,
 *    excludeNamespaces, trustDomain, requirePodBinding, allowedNames for
 *    workload; dnsNameRegex, ipPrefixes for kubelet-serving; requesters
 *    (users, groups), allowServiceAccounts, allowedGroups for client. Any
 *    other key for a type is an error ("key is not valid for type
 *    kubelet-client");
 *  - client: maxExpirationSeconds defaults to 28800; requesters.users,
 *    requesters.groups and allowedGroups are glob patterns, not empty; an
 *    allowedGroups pattern starting with "system:" is an error (such a
 *    group is never allowed); requesters missing or empty is valid and
 *    means nobody may self-serve (every CSR of the signer is denied);
 *  - namespaces, allowedNames, keys and usages must not be empty, and the
 *    last three hold no duplicates; namespace patterns are not empty;
 *    usages come from the Kubernetes list of key usages, and for the
 *    kubelet and client types from the usages that type can approve, the one it
 *    requires included (a policy that could approve nothing is an error);
 *  - trustDomain: lowercase letters, digits, '.', '-', '_';
 *  - min/maxExpirationSeconds within [600, 2^31-1], min <= max; maxSANs
 *    within [1, CSR_MAX_SANS];
 *  - dnsNameRegex: a POSIX extended regex matched against the whole DNS name
 *    (compiled as ^(re)$) and without regard to case, as DNS compares names;
 *    parentheses must balance, at most 1024 bytes and 16 levels deep; no
 *    back-references, no repetition stacked on another ("a++") or applied
 *    to what can match the empty string ("(a?)*"), and repetitions may not
 *    expand it beyond 500 elements, so that regcomp() stays within a few
 *    megabytes; "" means none;
 *  - ipPrefixes: CIDRs (a.b.c.d/n or IPv6/n) whose host bits are zero.
 * Every error names the file, the line and the key path:
 *   "policy.yaml:12: policies[1].maxSANs: expected an integer, got \"many\""
 */
struct policy_set *config_parse(const char *buf, size_t len, const char *filename, char *err,
                                size_t errlen);

/* Read and parse the file at path (at most CONFIG_MAX_FILE bytes). */
struct policy_set *config_load_file(const char *path, char *err, size_t errlen);

/*
 * Convert a YAML stream (one or more documents) to JSON values: *docs gets
 * a new JSON array with one element per document that is not empty or null
 * (caller releases with json_decref()). Plain scalars follow the YAML 1.2
 * core schema: null (~, null, empty), true/false, integers (decimal, 0x,
 * 0o; beyond 64 bits an error), floats (.inf and .nan, which JSON lacks,
 * stay strings); quoted and block scalars are strings. Mapping keys are
 * scalars, taken as strings, unique within their mapping. Anchors, aliases
 * (billion-laughs), tags other than !!str/!!seq/!!map and NUL bytes in
 * strings are refused; nesting is capped at CONFIG_MAX_DEPTH and a
 * document at CONFIG_MAX_NODES nodes. Returns 0 or -1 with
 * "FILE:LINE: what" in err.
 */
int config_yaml_to_json(const char *buf, size_t len, const char *filename, json_t **docs, char *err,
                        size_t errlen);

/* libyaml's version, for `csr-approver version`. */
const char *config_library_version(void);

#endif
