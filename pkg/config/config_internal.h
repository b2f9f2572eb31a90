/*
 * Shared between the files of the config module; not part of its API.
 *   config_yaml.c    libyaml's events into a tree of nodes that remember
 *                    their line, scalars typed by the YAML 1.2 core schema,
 *                    YAML to JSON, and "FILE:LINE: path: what" errors;
 *   config_values.c  the syntax of single values: names, CIDRs, and
 *                    dnsNameRegex (what a pattern may cost, compiling it);
 *   config.c         the policy file: its keys, which policy types read them,
 *                    their defaults and the checks across keys;
 *   config_client.c  the keys of type client: requesters, allowedGroups.
 * Same thread-safety as config.h: no shared state.
 */
#ifndef CSR_APPROVER_CONFIG_INTERNAL_H
#define CSR_APPROVER_CONFIG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

#include "../policy/policy.h"
#include "config.h"

/* ---- the YAML tree ---- */

enum config_ynode_kind {
	CONFIG_YNODE_SCALAR,
	CONFIG_YNODE_SEQ,
	CONFIG_YNODE_MAP,
};

struct config_ynode {
	unsigned char kind;
	bool plain; /* plain scalar without a tag: typed by the core schema */
	unsigned line; /* 1-based */
	union {
		struct {
			char *v; /* owned, NUL-terminated (may hold NULs before len) */
			size_t len;
		} s;
		struct {
			struct config_ynode *
			    *items; /* owned; a mapping holds key, value, key, ... */
			size_t n, cap;
		} c;
	} u;
};

/* Free n and everything under it; NULL does nothing. */
void config_ynode_free(struct config_ynode *n);

/* A reader of one YAML stream; errors go to err as "FILE:LINE: what". */
struct config_yreader {
	yaml_parser_t parser;
	const char *buf; /* borrowed: the input, len bytes */
	size_t len;
	const char *filename; /* borrowed, for messages */
	char *err; /* borrowed: errlen bytes */
	size_t errlen;
	size_t nodes; /* in the current document */
};

/* Start reading buf (len bytes); buf, filename and err must outlive r.
 * Aborts when libyaml cannot allocate. Close with config_yreader_close(). */
void config_yreader_open(struct config_yreader *r, const char *buf, size_t len,
                         const char *filename, char *err, size_t errlen);
void config_yreader_close(struct config_yreader *r);

/*
 * Read the next document of the stream into a tree. Returns 1 with *rootp
 * (caller frees with config_ynode_free()), 0 at the end of the stream, -1
 * with an error in r->err. Anchors, aliases and tags that add meaning are
 * refused; nesting is capped at CONFIG_MAX_DEPTH, a document at
 * CONFIG_MAX_NODES nodes.
 */
int config_yreader_next(struct config_yreader *r, struct config_ynode **rootp);

/* "FILE:LINE: msg" into r->err. */
void config_yreader_error(struct config_yreader *r, size_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- scalars: the YAML 1.2 core schema ---- */

enum config_yscalar {
	CONFIG_YS_STRING,
	CONFIG_YS_NULL,
	CONFIG_YS_BOOL,
	CONFIG_YS_INT,
	CONFIG_YS_FLOAT,
};

/* The type of a scalar: quoted scalars and plain ones holding a NUL are
 * strings. */
enum config_yscalar config_ys_type(const struct config_ynode *n);

/* The value of a scalar typed CONFIG_YS_INT; -1 when it does not fit in 64
 * bits. */
int config_ys_int(const struct config_ynode *n, int64_t *out);

/* A null scalar (~, null, empty). */
bool config_ynode_is_null(const struct config_ynode *n);

/* A short, one-line, quoted rendering of n for messages, into out. */
void config_ydescribe(const struct config_ynode *n, char *out, size_t outlen);

/* Whether the scalar key k is exactly name. */
bool config_ykey_is(const struct config_ynode *k, const char *name);

/* ---- reading typed values, with "FILE:LINE: path: what" errors ---- */

struct config_ctx {
	const char *filename; /* borrowed, for messages */
	char *err; /* borrowed: errlen bytes */
	size_t errlen;
	struct policy_set *set; /* owned until config_parse() hands it over */
};

/* "FILE:LINE: path: msg" into c->err, with the line of at. */
void config_error(struct config_ctx *c, const struct config_ynode *at, const char *path,
                  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* "expected WHAT, got N"; returns -1. */
int config_expect(struct config_ctx *c, const struct config_ynode *n, const char *path,
                  const char *what);

/* "unknown key K" (named as a string, even one that reads as a number);
 * returns -1. */
int config_unknown_key(struct config_ctx *c, const struct config_ynode *k, const char *path);

/* Typed values: 0, or -1 with an error naming path. config_string()'s *out
 * is borrowed from n. */
int config_string(struct config_ctx *c, const struct config_ynode *n, const char *path,
                  const char **out);
int config_bool(struct config_ctx *c, const struct config_ynode *n, const char *path, bool *out);
int config_int(struct config_ctx *c, const struct config_ynode *n, const char *path, int64_t min,
               int64_t max, int64_t *out);
/* A sequence; with nonempty, one holding at least one item. */
int config_seq(struct config_ctx *c, const struct config_ynode *n, const char *path, bool nonempty);

/* ---- single values (config_values.c) ---- */

/* A DNS-1123 subdomain, the form Kubernetes uses for names. */
bool config_is_dns_name(const char *s);

/* What is wrong with a signer name as Kubernetes validates it
 * (ValidateSignerName), or NULL. */
const char *config_signer_problem(const char *s);

/* A policy name: 1 to 63 of [a-z0-9-]. */
bool config_is_policy_name(const char *s);

/* A SPIFFE trust domain: lowercase letters, digits, '.', '-', '_'. */
bool config_is_trust_domain(const char *s);

/* The CIDR string n (host bits zero) into *p. Returns 0, or -1 with an
 * error naming path. */
int config_prefix(struct config_ctx *c, const struct config_ynode *n, const char *path,
                  struct policy_prefix *p);

/*
 * Read the dnsNameRegex string n into r->dns_name_regex and r->dns_name_re
 * ("" leaves both unset). The pattern's cost is bounded before regcomp()
 * sees it. Returns 0, or -1 with an error naming path.
 */
int config_regex(struct config_ctx *c, const struct config_ynode *n, const char *path,
                 struct policy_rule *r);

/* ---- type client (config_client.c) ---- */

/* requesters: a mapping with users and groups, each a sequence of glob
 * patterns (either may be missing or empty), into r->requester_users and
 * r->requester_groups. Returns 0, or -1 with an error naming path. */
int config_requesters(struct config_ctx *c, const struct config_ynode *n, const char *path,
                      struct policy_rule *r);

/* allowedGroups: a sequence of glob patterns into r->allowed_groups; a
 * pattern starting with "system:" is an error. Returns 0 or -1. */
int config_allowed_groups(struct config_ctx *c, const struct config_ynode *n, const char *path,
                          struct policy_rule *r);

#endif
