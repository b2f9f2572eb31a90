/*
 * config: the policy file of SPEC.md: its keys, which policy types read
 * them, their defaults and the checks across keys. Values come from the tree
 * that config_yaml.c reads; the syntax of single values (names, CIDRs,
 * dnsNameRegex) is checked in config_values.c.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/util.h"
#include "config_internal.h"

/* Usages a CertificateSigningRequest may carry (certificates.k8s.io/v1). */
static const char *const cfg_usages[] = {
    "signing",
    "digital signature",
    "content commitment",
    "key encipherment",
    "key agreement",
    "data encipherment",
    "cert sign",
    "crl sign",
    "encipher only",
    "decipher only",
    "any",
    "server auth",
    "client auth",
    "code signing",
    "email protection",
    "s/mime",
    "ipsec end system",
    "ipsec tunnel",
    "ipsec user",
    "timestamping",
    "ocsp signing",
    "microsoft sgc",
    "netscape sgc",
    NULL,
};

static bool cfg_in(const char *s, const char *const *set)
{
	for (; *set; set++)
		if (strcmp(s, *set) == 0)
			return true;
	return false;
}

struct cfg_flag {
	const char *name;
	uint32_t bit;
};

static const struct cfg_flag cfg_names[] = {
    {"spiffe", POLICY_NAME_SPIFFE},
    {"podIP", POLICY_NAME_POD_IP},
    {"podDNS", POLICY_NAME_POD_DNS},
    {"hostnameDNS", POLICY_NAME_HOSTNAME_DNS},
    {"serviceDNS", POLICY_NAME_SERVICE_DNS},
    {"serviceShortDNS", POLICY_NAME_SERVICE_SHORT_DNS},
    {NULL, 0},
};

static const struct cfg_flag cfg_keys[] = {
    {"ecdsa-p256", POLICY_KEY_ECDSA_P256}, {"ecdsa-p384", POLICY_KEY_ECDSA_P384},
    {"ecdsa-p521", POLICY_KEY_ECDSA_P521}, {"ed25519", POLICY_KEY_ED25519},
    {"rsa-2048", POLICY_KEY_RSA_2048},     {"rsa-3072", POLICY_KEY_RSA_3072},
    {"rsa-4096", POLICY_KEY_RSA_4096},     {NULL, 0},
};

/* A non-empty sequence of distinct names from table, as bits. */
static int cfg_flags(struct config_ctx *c, const struct config_ynode *n, const char *path,
                     const struct cfg_flag *table, const char *what, uint32_t *out)
{
	char ipath[200];
	uint32_t bits = 0;

	if (config_seq(c, n, path, true) != 0)
		return -1;
	for (size_t i = 0; i < n->u.c.n; i++) {
		const struct config_ynode *item = n->u.c.items[i];
		const char *s;
		const struct cfg_flag *f;
		snprintf(ipath, sizeof(ipath), "%s[%zu]", path, i);
		if (config_string(c, item, ipath, &s) != 0)
			return -1;
		for (f = table; f->name; f++)
			if (strcmp(f->name, s) == 0)
				break;
		if (f->name == NULL) {
			struct util_buf b = {0};
			for (f = table; f->name; f++)
				util_buf_printf(&b, "%s%s", f == table ? "" : ", ", f->name);
			char d[128];
			config_ydescribe(item, d, sizeof(d));
			config_error(c, item, ipath, "unknown %s %s (expected one of %s)", what, d,
			             util_buf_str(&b));
			util_buf_reset(&b);
			return -1;
		}
		if (bits & f->bit) {
			config_error(c, item, ipath, "duplicate %s \"%s\"", what, f->name);
			return -1;
		}
		bits |= f->bit;
	}
	*out = bits;
	return 0;
}

/* A sequence of strings into sv (replacing what it held). check, when
 * set, names what is wrong with one string or returns NULL. */
static int cfg_strings(struct config_ctx *c, const struct config_ynode *n, const char *path,
                       bool nonempty,
                       const char *(*check)(const char *s, const struct util_strv *seen),
                       struct util_strv *sv)
{
	char ipath[200];
	struct util_strv tmp = {0};

	if (config_seq(c, n, path, nonempty) != 0)
		return -1;
	for (size_t i = 0; i < n->u.c.n; i++) {
		const char *s, *problem;
		snprintf(ipath, sizeof(ipath), "%s[%zu]", path, i);
		if (config_string(c, n->u.c.items[i], ipath, &s) != 0)
			goto fail;
		if (check != NULL && (problem = check(s, &tmp)) != NULL) {
			char d[128];
			config_ydescribe(n->u.c.items[i], d, sizeof(d));
			config_error(c, n->u.c.items[i], ipath, "%s %s", d, problem);
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

static const char *cfg_check_pattern(const char *s, const struct util_strv *seen)
{
	(void)seen;
	return *s == '\0' ? "is empty: a namespace pattern matches at least one character" : NULL;
}

static const char *cfg_check_usage(const char *s, const struct util_strv *seen)
{
	if (!cfg_in(s, cfg_usages))
		return "is not a Kubernetes key usage";
	if (util_strv_contains(seen, s))
		return "is listed twice";
	return NULL;
}

enum cfg_pkey {
	PK_NAME,
	PK_SIGNER,
	PK_TYPE,
	PK_ON_FAILURE,
	PK_NAMESPACES,
	PK_EXCLUDE,
	PK_TRUST,
	PK_REQUIRE_POD,
	PK_ALLOWED_NAMES,
	PK_REQUESTERS,
	PK_ALLOW_SA,
	PK_ALLOWED_GROUPS,
	PK_KEYS,
	PK_USAGES,
	PK_MAX_EXP,
	PK_MIN_EXP,
	PK_MAX_SANS,
	PK_DNS_REGEX,
	PK_IP_PREFIXES,
	PK_ISSUE,
	PK_POD_CERTS,
	PK_COUNT,
};

#define T_W (1u << POLICY_TYPE_WORKLOAD)
#define T_S (1u << POLICY_TYPE_KUBELET_SERVING)
#define T_C (1u << POLICY_TYPE_KUBELET_CLIENT)
#define T_U (1u << POLICY_TYPE_CLIENT)

/* Each key and the types whose rules read it. A key the type ignores is an
 * error, so that no one believes a rule is in force when it is not: the
 * kubelet types have no namespaces, pods or SPIFFE names; kubelet-client
 * and client allow no SAN at all; only kubelet-serving has dnsNameRegex and
 * ipPrefixes; only client has requesters and the groups of its O. usages
 * narrows the type's fixed usages further. */
static const struct {
	const char *name;
	unsigned types;
} cfg_pkeys[PK_COUNT] = {
    [PK_NAME] = {"name", T_W | T_S | T_C | T_U},
    [PK_SIGNER] = {"signerName", T_W | T_S | T_C | T_U},
    [PK_TYPE] = {"type", T_W | T_S | T_C | T_U},
    [PK_ON_FAILURE] = {"onFailure", T_W | T_S | T_C | T_U},
    [PK_NAMESPACES] = {"namespaces", T_W},
    [PK_EXCLUDE] = {"excludeNamespaces", T_W},
    [PK_TRUST] = {"trustDomain", T_W},
    [PK_REQUIRE_POD] = {"requirePodBinding", T_W},
    [PK_ALLOWED_NAMES] = {"allowedNames", T_W},
    [PK_REQUESTERS] = {"requesters", T_U},
    [PK_ALLOW_SA] = {"allowServiceAccounts", T_U},
    [PK_ALLOWED_GROUPS] = {"allowedGroups", T_U},
    [PK_KEYS] = {"keys", T_W | T_S | T_C | T_U},
    [PK_USAGES] = {"usages", T_W | T_S | T_C | T_U},
    [PK_MAX_EXP] = {"maxExpirationSeconds", T_W | T_S | T_C | T_U},
    [PK_MIN_EXP] = {"minExpirationSeconds", T_W | T_S | T_C | T_U},
    [PK_MAX_SANS] = {"maxSANs", T_W | T_S},
    [PK_DNS_REGEX] = {"dnsNameRegex", T_S},
    [PK_IP_PREFIXES] = {"ipPrefixes", T_S},
    [PK_ISSUE] = {"issue", T_W},
    [PK_POD_CERTS] = {"podCertificates", T_W},
};

static const char *const cfg_type_names[] = {
    [POLICY_TYPE_WORKLOAD] = "workload",
    [POLICY_TYPE_KUBELET_SERVING] = "kubelet-serving",
    [POLICY_TYPE_KUBELET_CLIENT] = "kubelet-client",
    [POLICY_TYPE_CLIENT] = "client",
};

/*
 * The usages the kubelet and client types can ever approve, and the one
 * each requires (rules_kubelet.c and rules_client.c apply the same lists to
 * every CSR): a usages key outside them could only deny. workload has no
 * fixed list.
 */
static const char *const cfg_serving_usages[] = {"digital signature", "key encipherment",
                                                 "server auth", NULL};
static const char *const cfg_client_usages[] = {"digital signature", "key encipherment",
                                                "client auth", NULL};

static int cfg_type_usages(struct config_ctx *c, const struct policy_rule *r,
                           const struct config_ynode *v, const char *path)
{
	bool client = r->type == POLICY_TYPE_KUBELET_CLIENT || r->type == POLICY_TYPE_CLIENT;
	const char *const *fixed = r->type == POLICY_TYPE_KUBELET_SERVING ? cfg_serving_usages
	    : client                                                      ? cfg_client_usages
	                                                                  : NULL;
	const char *required = r->type == POLICY_TYPE_KUBELET_SERVING ? "server auth"
	    : client                                                  ? "client auth"
	                                                              : NULL;
	char ipath[200];

	if (fixed == NULL)
		return 0;
	for (size_t i = 0; i < r->usages.n; i++) {
		if (cfg_in(r->usages.v[i], fixed))
			continue;
		snprintf(ipath, sizeof(ipath), "%s[%zu]", path, i);
		config_error(c, v->u.c.items[i], ipath,
		             "\"%s\" is never approved for type %s (its usages: %s, %s, %s)",
		             r->usages.v[i], cfg_type_names[r->type], fixed[0], fixed[1], fixed[2]);
		return -1;
	}
	if (!util_strv_contains(&r->usages, required)) {
		config_error(c, v, path,
		             "lacks \"%s\", which every %s CSR must ask for: this policy would "
		             "approve nothing",
		             required, cfg_type_names[r->type]);
		return -1;
	}
	return 0;
}

/* The largest expirationSeconds the API accepts (an int32). */
#define CFG_MAX_EXPIRATION INT32_MAX

/* Bounds of issue.lifetime and issue.backdate, in seconds: at least a
 * minute (short-lived certificates are a choice the policy may make; the
 * renewing agent needs some time), at most a century (the signer's limit);
 * a backdate of at most an hour covers any clock skew. */
#define CFG_LIFETIME_MIN 60
#define CFG_LIFETIME_MAX (100LL * 366 * 86400)
#define CFG_BACKDATE_MAX 3600

/* A Go duration ("24h", "90m") of whole seconds within [min, max]. */
static int cfg_duration(struct config_ctx *c, const struct config_ynode *n, const char *path,
                        int64_t min, int64_t max, int64_t *out)
{
	const char *s;
	int64_t ms;
	char d[128];
	if (config_string(c, n, path, &s) != 0)
		return -1;
	config_ydescribe(n, d, sizeof(d));
	if (util_parse_duration(s, &ms) != 0 || ms % 1000 != 0) {
		config_error(c, n, path,
		             "expected a duration in whole seconds like 24h or 90m, got %s", d);
		return -1;
	}
	if (ms / 1000 < min || ms / 1000 > max) {
		config_error(c, n, path, "%s is out of range [%llds, %llds]", d, (long long)min,
		             (long long)max);
		return -1;
	}
	*out = ms / 1000;
	return 0;
}

/* A file name of issue: read as given when absolute, else from the policy
 * file's directory (not the working directory of whoever runs the binary). */
static int cfg_file(struct config_ctx *c, const struct config_ynode *n, const char *path,
                    char **out)
{
	const char *s;
	if (config_string(c, n, path, &s) != 0)
		return -1;
	if (s[0] == '\0' || strlen(s) != n->u.s.len) {
		config_error(c, n, path, "expected a file name");
		return -1;
	}
	const char *slash = c->filename ? strrchr(c->filename, '/') : NULL;
	free(*out);
	if (s[0] == '/' || slash == NULL)
		*out = util_xstrdup(s);
	else
		*out = util_xasprintf("%.*s/%s", (int)(slash - c->filename), c->filename, s);
	return 0;
}

/* An issuing policy's usages must give a certificate a purpose: server
 * auth or client auth (without extendedKeyUsage a certificate is good for
 * anything, more than any request asks). */
static int cfg_issue_usages(struct config_ctx *c, const struct policy_rule *r,
                            const struct config_ynode *at, const char *key, const char *base)
{
	static const char *const signable[] = {"digital signature", "key encipherment",
	                                       "client auth", "server auth", NULL};
	char path[200];
	bool purpose = false;
	snprintf(path, sizeof(path), "%s%s%s", base, key ? "." : "", key ? key : "");
	for (size_t i = 0; i < r->usages.n; i++) {
		if (!cfg_in(r->usages.v[i], signable)) {
			config_error(c, at, path,
			             "usage \"%s\" is not one the built-in signer issues (digital "
			             "signature, key encipherment, client auth, server auth)",
			             r->usages.v[i]);
			return -1;
		}
		if (strcmp(r->usages.v[i], "server auth") == 0 ||
		    strcmp(r->usages.v[i], "client auth") == 0)
			purpose = true;
	}
	if (purpose)
		return 0;
	config_error(c, at, path,
	             "a policy with issue: needs \"server auth\" or \"client auth\" in usages");
	return -1;
}

/* issue: {caCertFile, caKeyFile, lifetime, backdate, trustBundle, requirePolicy} */
static int cfg_issue(struct config_ctx *c, struct policy_rule *r, const struct config_ynode *m,
                     const char *base)
{
	static const char *const keys[] = {"caCertFile", "caKeyFile",   "lifetime",
	                                   "backdate",   "trustBundle", "requirePolicy"};
	const struct config_ynode *seen[6] = {0};
	char path[200];
	struct policy_issue *iss = &r->issue;

	if (m->kind != CONFIG_YNODE_MAP)
		return config_expect(c, m, base, "a mapping");
	for (size_t i = 0; i + 1 < m->u.c.n; i += 2) {
		const struct config_ynode *k = m->u.c.items[i], *v = m->u.c.items[i + 1];
		size_t j;
		for (j = 0; j < 6; j++)
			if (config_ykey_is(k, keys[j]))
				break;
		if (j == 6)
			return config_unknown_key(c, k, base);
		snprintf(path, sizeof(path), "%s.%s", base, keys[j]);
		if (seen[j] != NULL) {
			config_error(c, k, path, "duplicate key (first at line %u)", seen[j]->line);
			return -1;
		}
		seen[j] = k;
		int rc = j == 0 ? cfg_file(c, v, path, &iss->ca_cert_file)
		    : j == 1    ? cfg_file(c, v, path, &iss->ca_key_file)
		    : j == 2    ? cfg_duration(c, v, path, CFG_LIFETIME_MIN, CFG_LIFETIME_MAX,
		                               &iss->lifetime_seconds)
		    : j == 3 ? cfg_duration(c, v, path, 0, CFG_BACKDATE_MAX, &iss->backdate_seconds)
		    : j == 4 ? config_bool(c, v, path, &iss->trust_bundle)
		             : config_bool(c, v, path, &iss->require_policy);
		if (rc != 0)
			return -1;
	}
	for (size_t j = 0; j < 2; j++) {
		if (seen[j] == NULL) {
			config_error(c, m, base, "missing required key \"%s\"", keys[j]);
			return -1;
		}
	}
	iss->enabled = true;
	return 0;
}

static int cfg_policy_value(struct config_ctx *c, struct policy_rule *r, enum cfg_pkey k,
                            const struct config_ynode *v, const char *path)
{
	const char *s;

	switch (k) {
	case PK_NAME:
		if (config_string(c, v, path, &s) != 0)
			return -1;
		if (!config_is_policy_name(s)) {
			char d[128];
			config_ydescribe(v, d, sizeof(d));
			config_error(
			    c, v, path,
			    "invalid name %s: use 1 to 63 lowercase letters, digits and '-'", d);
			return -1;
		}
		r->name = util_xstrdup(s);
		return 0;
	case PK_SIGNER: {
		const char *problem;
		if (config_string(c, v, path, &s) != 0)
			return -1;
		if ((problem = config_signer_problem(s)) != NULL) {
			char d[128];
			config_ydescribe(v, d, sizeof(d));
			config_error(c, v, path, "invalid signer name %s: %s", d, problem);
			return -1;
		}
		r->signer_name = util_xstrdup(s);
		return 0;
	}
	case PK_TYPE:
		return 0; /* read first, by cfg_policy() */
	case PK_ON_FAILURE:
		if (config_string(c, v, path, &s) != 0)
			return -1;
		if (strcmp(s, "deny") == 0) {
			r->on_failure = POLICY_ON_FAILURE_DENY;
		} else if (strcmp(s, "leave-pending") == 0) {
			r->on_failure = POLICY_ON_FAILURE_LEAVE_PENDING;
		} else {
			char d[128];
			config_ydescribe(v, d, sizeof(d));
			config_error(c, v, path, "expected deny or leave-pending, got %s", d);
			return -1;
		}
		return 0;
	case PK_NAMESPACES:
		return cfg_strings(c, v, path, true, cfg_check_pattern, &r->namespaces);
	case PK_EXCLUDE:
		return cfg_strings(c, v, path, false, cfg_check_pattern, &r->exclude_namespaces);
	case PK_TRUST:
		if (config_string(c, v, path, &s) != 0)
			return -1;
		if (!config_is_trust_domain(s)) {
			char d[128];
			config_ydescribe(v, d, sizeof(d));
			config_error(
			    c, v, path,
			    "invalid trust domain %s: use lowercase letters, digits, '.', '-' and '_'",
			    d);
			return -1;
		}
		free(r->trust_domain);
		r->trust_domain = util_xstrdup(s);
		return 0;
	case PK_REQUIRE_POD:
		return config_bool(c, v, path, &r->require_pod_binding);
	case PK_ALLOWED_NAMES:
		return cfg_flags(c, v, path, cfg_names, "name", &r->allowed_names);
	case PK_REQUESTERS:
		return config_requesters(c, v, path, r);
	case PK_ALLOW_SA:
		return config_bool(c, v, path, &r->allow_service_accounts);
	case PK_ALLOWED_GROUPS:
		return config_allowed_groups(c, v, path, r);
	case PK_KEYS:
		return cfg_flags(c, v, path, cfg_keys, "key", &r->keys);
	case PK_USAGES:
		if (cfg_strings(c, v, path, true, cfg_check_usage, &r->usages) != 0)
			return -1;
		return cfg_type_usages(c, r, v, path);
	case PK_MAX_EXP:
		return config_int(c, v, path, 600, CFG_MAX_EXPIRATION, &r->max_expiration_seconds);
	case PK_MIN_EXP:
		return config_int(c, v, path, 600, CFG_MAX_EXPIRATION, &r->min_expiration_seconds);
	case PK_MAX_SANS:
		return config_int(c, v, path, 1, CSR_MAX_SANS, &r->max_sans);
	case PK_DNS_REGEX:
		return config_regex(c, v, path, r);
	case PK_IP_PREFIXES: {
		char ipath[200];
		struct policy_prefix *p = NULL;
		if (config_seq(c, v, path, false) != 0)
			return -1;
		if (v->u.c.n > 0)
			p = util_xcalloc(v->u.c.n, sizeof(*p));
		for (size_t i = 0; i < v->u.c.n; i++) {
			snprintf(ipath, sizeof(ipath), "%s[%zu]", path, i);
			if (config_prefix(c, v->u.c.items[i], ipath, &p[i]) != 0) {
				free(p);
				return -1;
			}
		}
		free(r->ip_prefixes);
		r->ip_prefixes = p;
		r->n_ip_prefixes = v->u.c.n;
		return 0;
	}
	case PK_ISSUE:
		return cfg_issue(c, r, v, path);
	case PK_POD_CERTS:
		return config_bool(c, v, path, &r->pod_certificates);
	case PK_COUNT:
		break;
	}
	return -1;
}

static int cfg_policy(struct config_ctx *c, size_t idx, const struct config_ynode *m)
{
	char base[48], path[160];
	const struct config_ynode *vals[PK_COUNT] = {0};
	const struct config_ynode *keys[PK_COUNT] = {0};
	/* Keys in file order: at most PK_COUNT, since unknown and duplicate keys
	 * are errors. */
	enum cfg_pkey order[PK_COUNT];
	size_t n_order = 0;
	enum policy_type type = POLICY_TYPE_WORKLOAD;
	const char *s;

	snprintf(base, sizeof(base), "policies[%zu]", idx);
	if (m->kind != CONFIG_YNODE_MAP)
		return config_expect(c, m, base, "a mapping");
	for (size_t i = 0; i + 1 < m->u.c.n; i += 2) {
		const struct config_ynode *k = m->u.c.items[i];
		size_t j;
		for (j = 0; j < PK_COUNT; j++)
			if (config_ykey_is(k, cfg_pkeys[j].name))
				break;
		if (j == PK_COUNT)
			return config_unknown_key(c, k, base);
		if (keys[j] != NULL) {
			snprintf(path, sizeof(path), "%s.%s", base, cfg_pkeys[j].name);
			config_error(c, k, path, "duplicate key (first at line %u)", keys[j]->line);
			return -1;
		}
		keys[j] = k;
		vals[j] = m->u.c.items[i + 1];
		order[n_order++] = (enum cfg_pkey)j;
	}
	static const enum cfg_pkey required[] = {PK_NAME, PK_SIGNER, PK_TYPE};
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		if (vals[required[i]] == NULL) {
			config_error(c, m, base, "missing required key \"%s\"",
			             cfg_pkeys[required[i]].name);
			return -1;
		}
	}
	snprintf(path, sizeof(path), "%s.type", base);
	if (config_string(c, vals[PK_TYPE], path, &s) != 0)
		return -1;
	size_t t;
	for (t = 0; t < sizeof(cfg_type_names) / sizeof(cfg_type_names[0]); t++)
		if (strcmp(s, cfg_type_names[t]) == 0)
			break;
	if (t == sizeof(cfg_type_names) / sizeof(cfg_type_names[0])) {
		char d[128];
		config_ydescribe(vals[PK_TYPE], d, sizeof(d));
		config_error(c, vals[PK_TYPE], path,
		             "expected workload, kubelet-serving, kubelet-client or client, got %s",
		             d);
		return -1;
	}
	type = (enum policy_type)t;

	struct policy_rule *r = &c->set->rules[c->set->n_rules++];
	memset(r, 0, sizeof(*r));
	r->type = type;
	policy_rule_init(r, c->set->cluster_domain);
	policy_rule_set_type(r, type);

	/* In file order, so that the first error reported is the first in the file. */
	for (size_t i = 0; i < n_order; i++) {
		enum cfg_pkey k = order[i];
		snprintf(path, sizeof(path), "%s.%s", base, cfg_pkeys[k].name);
		if (!(cfg_pkeys[k].types & (1u << type))) {
			config_error(c, keys[k], path, "key is not valid for type %s",
			             cfg_type_names[type]);
			return -1;
		}
		if (cfg_policy_value(c, r, k, vals[k], path) != 0)
			return -1;
	}

	if (r->pod_certificates && !r->issue.enabled) {
		snprintf(path, sizeof(path), "%s.podCertificates", base);
		config_error(
		    c, keys[PK_POD_CERTS], path,
		    "answering PodCertificateRequests needs issue: (the policy signs them)");
		return -1;
	}
	if (r->pod_certificates && r->issue.lifetime_seconds < 3600) {
		/* The API server refuses a pod certificate that lives less than
		 * an hour: every one would fail. */
		snprintf(path, sizeof(path), "%s.issue.lifetime", base);
		config_error(c, keys[PK_ISSUE], path,
		             "podCertificates needs a lifetime of at least 1h (the API server "
		             "refuses shorter pod certificates), got %llds",
		             (long long)r->issue.lifetime_seconds);
		return -1;
	}
	if (r->issue.enabled &&
	    cfg_issue_usages(c, r, keys[PK_USAGES] ? keys[PK_USAGES] : m,
	                     keys[PK_USAGES] ? "usages" : NULL, base) != 0)
		return -1;
	if (r->min_expiration_seconds > r->max_expiration_seconds) {
		const struct config_ynode *at = keys[PK_MIN_EXP] ? keys[PK_MIN_EXP]
		    : keys[PK_MAX_EXP]                           ? keys[PK_MAX_EXP]
		                                                 : m;
		config_error(
		    c, at, base,
		    "minExpirationSeconds (%lld) is greater than maxExpirationSeconds (%lld)",
		    (long long)r->min_expiration_seconds, (long long)r->max_expiration_seconds);
		return -1;
	}
	for (size_t i = 0; i + 1 < c->set->n_rules; i++) {
		const struct policy_rule *o = &c->set->rules[i];
		if (strcmp(o->name, r->name) == 0) {
			snprintf(path, sizeof(path), "%s.name", base);
			config_error(c, vals[PK_NAME], path,
			             "duplicate name \"%s\" (also policies[%zu])", r->name, i);
			return -1;
		}
		if (strcmp(o->signer_name, r->signer_name) == 0) {
			snprintf(path, sizeof(path), "%s.signerName", base);
			config_error(
			    c, vals[PK_SIGNER], path,
			    "duplicate signerName \"%s\" (also policies[%zu]): one policy per signer",
			    r->signer_name, i);
			return -1;
		}
	}
	return 0;
}

static int cfg_top(struct config_ctx *c, const struct config_ynode *root)
{
	const struct config_ynode *cd = NULL, *pol = NULL, *cd_key = NULL, *pol_key = NULL;
	const char *s;

	if (root->kind != CONFIG_YNODE_MAP)
		return config_expect(c, root, "", "a mapping at the top level");
	for (size_t i = 0; i + 1 < root->u.c.n; i += 2) {
		const struct config_ynode *k = root->u.c.items[i];
		const struct config_ynode **slot, **kslot;
		const char *name;
		if (config_ykey_is(k, "clusterDomain")) {
			slot = &cd;
			kslot = &cd_key;
			name = "clusterDomain";
		} else if (config_ykey_is(k, "policies")) {
			slot = &pol;
			kslot = &pol_key;
			name = "policies";
		} else {
			return config_unknown_key(c, k, "");
		}
		if (*slot != NULL) {
			config_error(c, k, name, "duplicate key (first at line %u)",
			             (*kslot)->line);
			return -1;
		}
		*slot = root->u.c.items[i + 1];
		*kslot = k;
	}
	/* clusterDomain first: it is the default trustDomain of every policy,
	 * wherever it stands in the file. */
	if (cd != NULL) {
		if (config_string(c, cd, "clusterDomain", &s) != 0)
			return -1;
		if (!config_is_dns_name(s)) {
			char d[128];
			config_ydescribe(cd, d, sizeof(d));
			config_error(c, cd, "clusterDomain",
			             "invalid DNS name %s: use lowercase labels separated by dots",
			             d);
			return -1;
		}
		free(c->set->cluster_domain);
		c->set->cluster_domain = util_xstrdup(s);
	}
	if (pol == NULL)
		return 0;
	if (config_seq(c, pol, "policies", false) != 0)
		return -1;
	if (pol->u.c.n > 0)
		c->set->rules = util_xcalloc(pol->u.c.n, sizeof(*c->set->rules));
	for (size_t i = 0; i < pol->u.c.n; i++)
		if (cfg_policy(c, i, pol->u.c.items[i]) != 0)
			return -1;
	return 0;
}

struct policy_set *config_parse(const char *buf, size_t len, const char *filename, char *err,
                                size_t errlen)
{
	struct config_yreader r;
	struct config_ynode *root = NULL, *extra = NULL;
	struct config_ctx c = {filename, err, errlen, NULL};
	struct policy_set *set = NULL;
	int n;

	if (len > CONFIG_MAX_FILE) {
		snprintf(err, errlen, "%s: larger than %d bytes", filename, CONFIG_MAX_FILE);
		return NULL;
	}
	config_yreader_open(&r, buf, len, filename, err, errlen);
	c.set = util_xcalloc(1, sizeof(*c.set));
	c.set->cluster_domain = util_xstrdup("cluster.local");
	n = config_yreader_next(&r, &root);
	if (n < 0)
		goto out;
	if (n == 1) {
		n = config_yreader_next(&r, &extra);
		if (n < 0)
			goto out;
		if (n == 1) {
			config_yreader_error(&r, extra->line, "expected a single YAML document");
			goto out;
		}
		if (!config_ynode_is_null(root) && cfg_top(&c, root) != 0)
			goto out;
	}
	set = c.set;
	c.set = NULL;
out:
	policy_set_free(c.set);
	config_ynode_free(root);
	config_ynode_free(extra);
	config_yreader_close(&r);
	return set;
}

struct policy_set *config_load_file(const char *path, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0;
	struct policy_set *set;

	if (util_read_file(path, CONFIG_MAX_FILE, &buf, &len, err, errlen) != 0)
		return NULL;
	set = config_parse(buf, len, strcmp(path, "-") == 0 ? "<stdin>" : path, err, errlen);
	free(buf);
	return set;
}
