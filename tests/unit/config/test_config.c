/*
 * The policy file: every key, the defaults, and each kind of error with the
 * exact line and key path it names.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <regex.h>
#include <stdio.h>
#include <string.h>

#include "../../../pkg/config/config.h"

#define ERRLEN 512

static struct policy_set *parse(const char *yaml, char *err)
{
	err[0] = '\0';
	return config_parse(yaml, strlen(yaml), "p.yaml", err, ERRLEN);
}

static bool re_match(const struct policy_rule *r, const char *s)
{
	return regexec(r->dns_name_re, s, 0, NULL, 0) == 0;
}

Test(config, spec_example)
{
	char err[ERRLEN] = "";
	struct policy_set *set =
	    config_load_file("tests/testdata/policy/spec-example.yaml", err, sizeof(err));
	cr_assert_not_null(set, "%s", err);
	cr_assert_str_eq(set->cluster_domain, "cluster.local");
	cr_assert_eq(set->n_rules, 3);

	const struct policy_rule *w = &set->rules[0];
	cr_assert_str_eq(w->name, "workload-mtls");
	cr_assert_str_eq(w->signer_name, "example.com/workload-mtls");
	cr_assert_eq(w->type, POLICY_TYPE_WORKLOAD);
	cr_assert_eq(w->on_failure, POLICY_ON_FAILURE_DENY);
	cr_assert_eq(w->namespaces.n, 1);
	cr_assert_str_eq(w->namespaces.v[0], "*");
	cr_assert_eq(w->exclude_namespaces.n, 1);
	cr_assert_str_eq(w->exclude_namespaces.v[0], "kube-system");
	cr_assert_str_eq(w->trust_domain, "cluster.local");
	cr_assert(w->require_pod_binding);
	cr_assert_eq(w->allowed_names, POLICY_NAME_DEFAULT);
	cr_assert_eq(w->keys, POLICY_KEY_DEFAULT);
	cr_assert_eq(w->usages.n, 4);
	cr_assert_str_eq(w->usages.v[3], "server auth");
	cr_assert_eq(w->max_expiration_seconds, 86400);
	cr_assert_eq(w->min_expiration_seconds, 600);
	cr_assert_eq(w->max_sans, 32);

	const struct policy_rule *s = &set->rules[1];
	cr_assert_str_eq(s->name, "kubelet-serving");
	cr_assert_eq(s->type, POLICY_TYPE_KUBELET_SERVING);
	cr_assert_null(s->dns_name_re, "an empty dnsNameRegex means none");
	cr_assert(s->dns_name_regex == NULL || s->dns_name_regex[0] == '\0');
	cr_assert_eq(s->n_ip_prefixes, 0);

	cr_assert_eq(set->rules[2].type, POLICY_TYPE_KUBELET_CLIENT);
	cr_assert_str_eq(set->rules[2].signer_name, "kubernetes.io/kube-apiserver-client-kubelet");
	cr_assert_eq(policy_set_find(set, "kubernetes.io/kubelet-serving"), s);
	policy_set_free(set);
}

Test(config, every_key)
{
	char err[ERRLEN] = "";
	struct policy_set *set =
	    config_load_file("tests/testdata/policy/every-key.yaml", err, sizeof(err));
	cr_assert_not_null(set, "%s", err);
	cr_assert_str_eq(set->cluster_domain, "corp.internal");
	cr_assert_eq(set->n_rules, 4);

	const struct policy_rule *w = &set->rules[0];
	cr_assert_str_eq(w->name, "shop-mtls");
	cr_assert_eq(w->on_failure, POLICY_ON_FAILURE_LEAVE_PENDING);
	cr_assert_eq(w->namespaces.n, 2);
	cr_assert_str_eq(w->namespaces.v[0], "shop-*");
	cr_assert_str_eq(w->namespaces.v[1], "payments");
	cr_assert_eq(w->exclude_namespaces.n, 1);
	cr_assert_str_eq(w->trust_domain, "prod.example.com");
	cr_assert_not(w->require_pod_binding);
	cr_assert_eq(w->allowed_names,
	             POLICY_NAME_SPIFFE | POLICY_NAME_SERVICE_DNS | POLICY_NAME_SERVICE_SHORT_DNS);
	cr_assert_eq(w->keys, POLICY_KEY_ECDSA_P521 | POLICY_KEY_ED25519);
	cr_assert_eq(w->usages.n, 2);
	cr_assert_str_eq(w->usages.v[0], "digital signature");
	cr_assert_str_eq(w->usages.v[1], "client auth");
	cr_assert_eq(w->max_expiration_seconds, 3600);
	cr_assert_eq(w->min_expiration_seconds, 900);
	cr_assert_eq(w->max_sans, 4);

	/* clusterDomain after the policies still gives their default trustDomain. */
	cr_assert_str_eq(set->rules[1].trust_domain, "corp.internal");

	const struct policy_rule *s = &set->rules[2];
	cr_assert_eq(s->keys, POLICY_KEY_ECDSA_P256);
	cr_assert_str_eq(s->dns_name_regex, "[a-z0-9-]+\\.nodes\\.example\\.com");
	cr_assert_not_null(s->dns_name_re);
	cr_assert(re_match(s, "node-1.nodes.example.com"));
	cr_assert(re_match(s, "NODE-1.Nodes.Example.COM"), "DNS names match case-insensitively");
	cr_assert_not(re_match(s, "x.node-1.nodes.example.com"));
	cr_assert_not(re_match(s, "node-1.nodes.example.com.evil.org"));
	cr_assert_not(re_match(s, "node-1.nodesXexample.com"));
	cr_assert_eq(s->n_ip_prefixes, 4);
	static const unsigned char v4[] = {10, 0, 0, 0};
	cr_assert_eq(s->ip_prefixes[0].len, 4);
	cr_assert_eq(s->ip_prefixes[0].bits, 8);
	cr_assert_arr_eq(s->ip_prefixes[0].addr, v4, 4);
	cr_assert_eq(s->ip_prefixes[1].bits, 24);
	cr_assert_eq(s->ip_prefixes[2].len, 16);
	cr_assert_eq(s->ip_prefixes[2].bits, 8);
	cr_assert_eq(s->ip_prefixes[2].addr[0], 0xfd);
	cr_assert_eq(s->ip_prefixes[3].bits, 32);
	cr_assert_eq(s->ip_prefixes[3].addr[3], 7);

	const struct policy_rule *c = &set->rules[3];
	cr_assert_eq(c->type, POLICY_TYPE_CLIENT);
	cr_assert_eq(c->on_failure, POLICY_ON_FAILURE_LEAVE_PENDING);
	cr_assert_eq(c->requester_users.n, 2);
	cr_assert_str_eq(c->requester_users.v[1], "system:serviceaccount:ci:*");
	cr_assert_eq(c->requester_groups.n, 1);
	cr_assert_str_eq(c->requester_groups.v[0], "team-*");
	cr_assert(c->allow_service_accounts);
	cr_assert_eq(c->allowed_groups.n, 2);
	cr_assert_eq(c->keys, POLICY_KEY_ED25519);
	cr_assert_eq(c->usages.n, 2);
	cr_assert_eq(c->max_expiration_seconds, 3600);
	cr_assert_eq(c->min_expiration_seconds, 900);
	policy_set_free(set);
}

Test(config, defaults)
{
	char err[ERRLEN];
	struct policy_set *set = parse("policies:\n"
	                               "- name: w\n"
	                               "  signerName: example.com/w\n"
	                               "  type: workload\n",
	                               err);
	cr_assert_not_null(set, "%s", err);
	cr_assert_str_eq(set->cluster_domain, "cluster.local");
	const struct policy_rule *r = &set->rules[0];
	cr_assert_eq(r->on_failure, POLICY_ON_FAILURE_DENY);
	cr_assert_eq(r->namespaces.n, 1);
	cr_assert_str_eq(r->namespaces.v[0], "*");
	cr_assert_eq(r->exclude_namespaces.n, 0);
	cr_assert_str_eq(r->trust_domain, "cluster.local");
	cr_assert(r->require_pod_binding);
	cr_assert_eq(r->allowed_names, POLICY_NAME_DEFAULT);
	cr_assert_eq(r->keys, POLICY_KEY_DEFAULT);
	cr_assert_eq(r->usages.n, 4);
	cr_assert_eq(r->max_expiration_seconds, 86400);
	cr_assert_eq(r->min_expiration_seconds, 600);
	cr_assert_eq(r->max_sans, 32);
	cr_assert_null(r->dns_name_re);
	cr_assert_eq(r->n_ip_prefixes, 0);
	policy_set_free(set);
}

Test(config, trust_domain_follows_cluster_domain)
{
	char err[ERRLEN];
	struct policy_set *set = parse("policies:\n"
	                               "- {name: a, signerName: example.com/a, type: workload}\n"
	                               "- {name: b, signerName: example.com/b, type: workload,"
	                               " trustDomain: spiffe.example.com}\n"
	                               "clusterDomain: k8s.example\n",
	                               err);
	cr_assert_not_null(set, "%s", err);
	cr_assert_str_eq(set->rules[0].trust_domain, "k8s.example");
	cr_assert_str_eq(set->rules[1].trust_domain, "spiffe.example.com");
	policy_set_free(set);
}

Test(config, empty_documents)
{
	static const char *const inputs[] = {"",      "\n\n", "# only a comment\n",
	                                     "---\n", "~\n",  "--- null\n...\n"};
	for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		char err[ERRLEN];
		struct policy_set *set = parse(inputs[i], err);
		cr_assert_not_null(set, "input %zu: %s", i, err);
		cr_assert_eq(set->n_rules, 0);
		cr_assert_str_eq(set->cluster_domain, "cluster.local");
		policy_set_free(set);
	}
	char err[ERRLEN] = "";
	struct policy_set *set = config_load_file("tests/testdata/policy/empty.yaml", err, ERRLEN);
	cr_assert_not_null(set, "%s", err);
	cr_assert_eq(set->n_rules, 0);
	policy_set_free(set);
	set = config_load_file("tests/testdata/policy/comments-only.yaml", err, ERRLEN);
	cr_assert_not_null(set, "%s", err);
	policy_set_free(set);
}

Test(config, only_cluster_domain)
{
	char err[ERRLEN];
	struct policy_set *set = parse("clusterDomain: example.org\npolicies: []\n", err);
	cr_assert_not_null(set, "%s", err);
	cr_assert_str_eq(set->cluster_domain, "example.org");
	cr_assert_eq(set->n_rules, 0);
	policy_set_free(set);
}

Test(config, kubelet_types_accept_their_keys)
{
	char err[ERRLEN];
	struct policy_set *set = parse("policies:\n"
	                               "- name: serving\n"
	                               "  signerName: kubernetes.io/kubelet-serving\n"
	                               "  type: kubelet-serving\n"
	                               "  onFailure: leave-pending\n"
	                               "  keys: [rsa-2048]\n"
	                               "  dnsNameRegex: 'node-[0-9]+(\\.example\\.com)?'\n"
	                               "  ipPrefixes: ['2001:db8::/32']\n"
	                               "  usages: [\"digital signature\", \"server auth\"]\n"
	                               "  maxExpirationSeconds: 7200\n"
	                               "  minExpirationSeconds: 3600\n"
	                               "  maxSANs: 3\n"
	                               "- name: client\n"
	                               "  signerName: kubernetes.io/kube-apiserver-client-kubelet\n"
	                               "  type: kubelet-client\n"
	                               "  keys: [ecdsa-p256, ecdsa-p384]\n"
	                               "  usages: [\"client auth\", \"digital signature\"]\n"
	                               "  maxExpirationSeconds: 600\n",
	                               err);
	cr_assert_not_null(set, "%s", err);
	cr_assert(re_match(&set->rules[0], "node-12"));
	cr_assert(re_match(&set->rules[0], "node-12.example.com"));
	cr_assert_not(re_match(&set->rules[0], "node-12.example.org"));
	cr_assert_eq(set->rules[0].ip_prefixes[0].len, 16);
	cr_assert_eq(set->rules[0].ip_prefixes[0].bits, 32);
	cr_assert_eq(set->rules[0].usages.n, 2);
	cr_assert_eq(set->rules[0].max_expiration_seconds, 7200);
	cr_assert_eq(set->rules[0].min_expiration_seconds, 3600);
	cr_assert_eq(set->rules[0].max_sans, 3);
	cr_assert_eq(set->rules[1].keys, POLICY_KEY_ECDSA_P256 | POLICY_KEY_ECDSA_P384);
	cr_assert_eq(set->rules[1].usages.n, 2);
	cr_assert_eq(set->rules[1].max_expiration_seconds, 600);
	cr_assert_eq(set->rules[1].min_expiration_seconds, 600);
	policy_set_free(set);
}

Test(config, missing_file)
{
	char err[ERRLEN] = "";
	cr_assert_null(config_load_file("tests/testdata/policy/no-such-file.yaml", err, ERRLEN));
	cr_assert(strstr(err, "tests/testdata/policy/no-such-file.yaml") != NULL, "%s", err);
}

Test(config, too_large)
{
	char err[ERRLEN] = "";
	cr_assert_null(config_parse("", (size_t)CONFIG_MAX_FILE + 1, "big.yaml", err, ERRLEN));
	cr_assert_str_eq(err, "big.yaml: larger than 8388608 bytes");
}

/* ---- errors: each with its line and key path ---- */

struct bad {
	const char *yaml;
	const char *err;
};

#define P0 "policies:\n- name: w\n  signerName: example.com/w\n  type: workload\n"
#define PS                                                                                         \
	"policies:\n- name: s\n  signerName: kubernetes.io/kubelet-serving\n  type: kubelet-serving\n"

static struct
    bad
        bad_cases
            [] =
                {
                    /* structure */
                    {"- a\n- b\n", "p.yaml:1: expected a mapping at the top level, got a sequence"},
                    {"hello\n", "p.yaml:1: expected a mapping at the top level, got \"hello\""},
                    {"clusterDomain: a.b\npolicy: []\n", "p.yaml:2: unknown key \"policy\""},
                    {"1: x\n", "p.yaml:1: unknown key \"1\""},
                    {P0 "  true: x\n", "p.yaml:5: policies[0]: unknown key \"true\""},
                    {"policies: []\npolicies: []\n",
                     "p.yaml:2: policies: duplicate key (first at line 1)"},
                    {"policies: {}\n", "p.yaml:1: policies: expected a sequence, got a mapping"},
                    {"policies:\n", "p.yaml:1: policies: expected a sequence, got null"},
                    {"policies:\n- just-a-name\n",
                     "p.yaml:2: policies[0]: expected a mapping, got \"just-a-name\""},
                    {"policies: []\n---\npolicies: []\n",
                     "p.yaml:3: expected a single YAML document"},
                    {"policies: [\n",
                     "p.yaml:2: did not find expected node content (while parsing a flow node at line 2)"},
                    {"a: b\n c: d\n", "p.yaml:2: mapping values are not allowed in this context"},
                    {"clusterDomain: Cluster.Local\n",
                     "p.yaml:1: clusterDomain: invalid DNS name \"Cluster.Local\": use lowercase labels separated by dots"},
                    {"clusterDomain: [a]\n",
                     "p.yaml:1: clusterDomain: expected a string, got a sequence"},
                    {"clusterDomain: -bad.local\n",
                     "p.yaml:1: clusterDomain: invalid DNS name \"-bad.local\": use lowercase labels separated by dots"},
                    /* anchors, aliases, tags */
                    {"clusterDomain: &cd a.b\npolicies: []\n",
                     "p.yaml:1: anchors are not supported"},
                    {"policies:\n- name: w\n  signerName: *x\n",
                     "p.yaml:3: aliases are not supported"},
                    {P0 "  maxSANs: !!int 5\n",
                     "p.yaml:5: tag tag:yaml.org,2002:int is not supported"},
                    {P0 "  maxSANs: !custom 5\n", "p.yaml:5: tag !custom is not supported"},
                    /* keys of a policy */
                    {P0 "  maxSans: 5\n", "p.yaml:5: policies[0]: unknown key \"maxSans\""},
                    {P0 "  name: again\n",
                     "p.yaml:5: policies[0].name: duplicate key (first at line 2)"},
                    {"policies:\n- signerName: example.com/w\n  type: workload\n",
                     "p.yaml:2: policies[0]: missing required key \"name\""},
                    {"policies:\n- name: w\n  type: workload\n",
                     "p.yaml:2: policies[0]: missing required key \"signerName\""},
                    {"policies:\n- name: w\n  signerName: example.com/w\n",
                     "p.yaml:2: policies[0]: missing required key \"type\""},
                    {P0 "  dnsNameRegex: 'a'\n",
                     "p.yaml:5: policies[0].dnsNameRegex: key is not valid for type workload"},
                    {P0 "  ipPrefixes: []\n",
                     "p.yaml:5: policies[0].ipPrefixes: key is not valid for type workload"},
                    {PS "  requirePodBinding: true\n",
                     "p.yaml:5: policies[0].requirePodBinding: key is not valid for type kubelet-serving"},
                    {PS "  allowedNames: [spiffe]\n",
                     "p.yaml:5: policies[0].allowedNames: key is not valid for type kubelet-serving"},
                    {PS "  trustDomain: a.b\n",
                     "p.yaml:5: policies[0].trustDomain: key is not valid for type kubelet-serving"},
                    {PS "  excludeNamespaces: []\n",
                     "p.yaml:5: policies[0].excludeNamespaces: key is not valid for type kubelet-serving"},
                    {"policies:\n- {name: c, signerName: a.b/c, type: kubelet-client, dnsNameRegex: x}\n",
                     "p.yaml:2: policies[0].dnsNameRegex: key is not valid for type kubelet-client"},
                    {"policies:\n- {name: c, signerName: a.b/c, type: kubelet-client, namespaces: [x]}\n",
                     "p.yaml:2: policies[0].namespaces: key is not valid for type kubelet-client"},
                    {"policies:\n- {name: c, signerName: a.b/c, type: kubelet-client, maxSANs: 3}\n",
                     "p.yaml:2: policies[0].maxSANs: key is not valid for type kubelet-client"},
                    /* name, signerName, type, onFailure */
                    {"policies:\n- name: Web\n  signerName: example.com/w\n  type: workload\n",
                     "p.yaml:2: policies[0].name: invalid name \"Web\": use 1 to 63 lowercase letters, digits and '-'"},
                    {"policies:\n- name: ''\n  signerName: example.com/w\n  type: workload\n",
                     "p.yaml:2: policies[0].name: invalid name \"\": use 1 to 63 lowercase letters, digits and '-'"},
                    {"policies:\n- name: 42\n  signerName: example.com/w\n  type: workload\n",
                     "p.yaml:2: policies[0].name: expected a string, got 42"},
                    {"policies:\n- name: w\n  signerName: workload\n  type: workload\n",
                     "p.yaml:3: policies[0].signerName: invalid signer name \"workload\": must be a fully qualified domain and path of the form 'example.com/signer-name'"},
                    {"policies:\n- name: w\n  signerName: example/w\n  type: workload\n",
                     "p.yaml:3: policies[0].signerName: invalid signer name \"example/w\": the domain must have at least two labels separated by dots"},
                    {"policies:\n- name: w\n  signerName: Example.com/w\n  type: workload\n",
                     "p.yaml:3: policies[0].signerName: invalid signer name \"Example.com/w\": the domain must be lowercase DNS labels separated by dots"},
                    {"policies:\n- name: w\n  signerName: example.com/\n  type: workload\n",
                     "p.yaml:3: policies[0].signerName: invalid signer name \"example.com/\": the path after '/' must not be empty"},
                    {"policies:\n- name: w\n  signerName: example.com/a/b\n  type: workload\n",
                     "p.yaml:3: policies[0].signerName: invalid signer name \"example.com/a/b\": must be a fully qualified domain and path of the form 'example.com/signer-name'"},
                    {"policies:\n- name: w\n  signerName: example.com/a..b\n  type: workload\n",
                     "p.yaml:3: policies[0].signerName: invalid signer name \"example.com/a..b\": the path must be lowercase letters, digits, '-' and '.', each part starting and ending with a letter or digit"},
                    {"policies:\n- name: w\n  signerName: example.com/w\n  type: Workload\n",
                     "p.yaml:4: policies[0].type: expected workload, kubelet-serving, kubelet-client or client, got \"Workload\""},
                    {P0 "  onFailure: ignore\n",
                     "p.yaml:5: policies[0].onFailure: expected deny or leave-pending, got \"ignore\""},
                    /* wrong types */
                    {P0 "  maxSANs: many\n",
                     "p.yaml:5: policies[0].maxSANs: expected an integer, got \"many\""},
                    {P0 "  maxSANs: \"32\"\n",
                     "p.yaml:5: policies[0].maxSANs: expected an integer, got \"32\""},
                    {P0 "  maxSANs: 3.5\n",
                     "p.yaml:5: policies[0].maxSANs: expected an integer, got 3.5"},
                    {P0 "  maxSANs: 99999999999999999999\n",
                     "p.yaml:5: policies[0].maxSANs: expected an integer, got 99999999999999999999"},
                    {P0 "  requirePodBinding: yes\n",
                     "p.yaml:5: policies[0].requirePodBinding: expected true or false, got \"yes\""},
                    {P0 "  requirePodBinding: \"true\"\n",
                     "p.yaml:5: policies[0].requirePodBinding: expected true or false, got \"true\""},
                    {P0 "  namespaces: {a: b}\n",
                     "p.yaml:5: policies[0].namespaces: expected a sequence, got a mapping"},
                    {P0 "  namespaces: default\n",
                     "p.yaml:5: policies[0].namespaces: expected a sequence, got \"default\""},
                    {P0 "  namespaces: []\n",
                     "p.yaml:5: policies[0].namespaces: must not be empty"},
                    {P0 "  namespaces:\n  - a\n  - 5\n",
                     "p.yaml:7: policies[0].namespaces[1]: expected a string, got 5"},
                    {P0 "  excludeNamespaces: [a, '']\n",
                     "p.yaml:5: policies[0].excludeNamespaces[1]: \"\" is empty: a namespace pattern matches at least one character"},
                    {P0 "  trustDomain: Example.COM\n",
                     "p.yaml:5: policies[0].trustDomain: invalid trust domain \"Example.COM\": use lowercase letters, digits, '.', '-' and '_'"},
                    {P0 "  trustDomain: ~\n",
                     "p.yaml:5: policies[0].trustDomain: expected a string, got ~"},
                    /* sets of names */
                    {P0 "  allowedNames: []\n",
                     "p.yaml:5: policies[0].allowedNames: must not be empty"},
                    {P0 "  allowedNames: [spiffe, podIp]\n",
                     "p.yaml:5: policies[0].allowedNames[1]: unknown name \"podIp\" (expected one of spiffe, podIP, podDNS, hostnameDNS, serviceDNS, serviceShortDNS)"},
                    {P0 "  allowedNames: [spiffe, spiffe]\n",
                     "p.yaml:5: policies[0].allowedNames[1]: duplicate name \"spiffe\""},
                    {P0 "  keys: [rsa-1024]\n",
                     "p.yaml:5: policies[0].keys[0]: unknown key \"rsa-1024\" (expected one of ecdsa-p256, ecdsa-p384, ecdsa-p521, ed25519, rsa-2048, rsa-3072, rsa-4096)"},
                    {P0 "  keys: []\n", "p.yaml:5: policies[0].keys: must not be empty"},
                    {P0 "  keys:\n  - ed25519\n  - ed25519\n",
                     "p.yaml:7: policies[0].keys[1]: duplicate key \"ed25519\""},
                    {P0 "  usages: [\"client auth\", \"client-auth\"]\n",
                     "p.yaml:5: policies[0].usages[1]: \"client-auth\" is not a Kubernetes key usage"},
                    {P0 "  usages: [\"client auth\", \"client auth\"]\n",
                     "p.yaml:5: policies[0].usages[1]: \"client auth\" is listed twice"},
                    {P0 "  usages: []\n", "p.yaml:5: policies[0].usages: must not be empty"},
                    /* numbers */
                    {P0 "  maxSANs: 0\n",
                     "p.yaml:5: policies[0].maxSANs: must be between 1 and 1024, got 0"},
                    {P0 "  maxSANs: 1025\n",
                     "p.yaml:5: policies[0].maxSANs: must be between 1 and 1024, got 1025"},
                    {P0 "  minExpirationSeconds: 300\n",
                     "p.yaml:5: policies[0].minExpirationSeconds: must be between 600 and 2147483647, got 300"},
                    {P0 "  maxExpirationSeconds: 3000000000\n",
                     "p.yaml:5: policies[0].maxExpirationSeconds: must be between 600 and 2147483647, got 3000000000"},
                    {P0 "  maxExpirationSeconds: 3600\n  minExpirationSeconds: 7200\n",
                     "p.yaml:6: policies[0]: minExpirationSeconds (7200) is greater than maxExpirationSeconds (3600)"},
                    {P0 "  maxExpirationSeconds: 700\n  minExpirationSeconds: 800\n",
                     "p.yaml:6: policies[0]: minExpirationSeconds (800) is greater than maxExpirationSeconds (700)"},
                    {P0 "  minExpirationSeconds: 90000\n",
                     "p.yaml:5: policies[0]: minExpirationSeconds (90000) is greater than maxExpirationSeconds (86400)"},
                    /* regexes */
                    {PS "  dnsNameRegex: '(a'\n",
                     "p.yaml:5: policies[0].dnsNameRegex: invalid regex: has an unmatched '('"},
                    {PS "  dnsNameRegex: 'a)|(b)'\n",
                     "p.yaml:5: policies[0].dnsNameRegex: invalid regex: has an unmatched ')'"},
                    {PS "  dnsNameRegex: '[a-'\n",
                     "p.yaml:5: policies[0].dnsNameRegex: invalid regex: has an unterminated bracket expression"},
                    {PS "  dnsNameRegex: 'a\\'\n",
                     "p.yaml:5: policies[0].dnsNameRegex: invalid regex: ends with a backslash"},
                    {PS "  dnsNameRegex: '*a'\n",
                     "p.yaml:5: policies[0].dnsNameRegex: invalid regex: Invalid preceding regular expression"},
                    {PS "  dnsNameRegex: 'a{2,1}'\n",
                     "p.yaml:5: policies[0].dnsNameRegex: invalid regex: Invalid content of \\{\\}"},
                    {PS "  dnsNameRegex: '((a{100}){100}){100}'\n",
                     "p.yaml:5: policies[0].dnsNameRegex: invalid regex: is too complex: its repetitions expand to more than 500 elements"},
                    {PS "  dnsNameRegex: 'a{,501}'\n",
                     "p.yaml:5: policies[0].dnsNameRegex: invalid regex: is too complex: its repetitions expand to more than 500 elements"},
                    /* Found by fuzzing: each stacked '+' doubles what glibc's regcomp()
     * builds, 25 of them took gigabytes (tests/fuzz/corpus/config). */
                    {PS "  dnsNameRegex: 'a+++++++++++++++++++++++++'\n",
                     "p.yaml:5: policies[0].dnsNameRegex: invalid regex: stacks repetitions ('+' at offset 2 follows another): write one, as in \"a+\" or \"(ab){2,4}\""},
                    {PS "  dnsNameRegex: '(a+){9}{9}'\n",
                     "p.yaml:5: policies[0].dnsNameRegex: invalid regex: stacks repetitions ('{' at offset 7 follows another): write one, as in \"a+\" or \"(ab){2,4}\""},
                    {PS "  dnsNameRegex: 'x*?'\n",
                     "p.yaml:5: policies[0].dnsNameRegex: invalid regex: stacks repetitions ('?' at offset 2 follows another): write one, as in \"a+\" or \"(ab){2,4}\""},
                    /* Repeating what can match empty blows up regcomp()'s closures:
     * ((a?)?){200} took 700 MB. */
                    {PS "  dnsNameRegex: '((a?)?){200}'\n",
                     "p.yaml:5: policies[0].dnsNameRegex: invalid regex: repeats something that can match the empty string ('?' at offset 5), as in \"(a?)+\" or \"(a|)*\": repeat only what cannot be empty"},
                    {PS "  dnsNameRegex: 'x(a|b?)+'\n",
                     "p.yaml:5: policies[0].dnsNameRegex: invalid regex: repeats something that can match the empty string ('+' at offset 7), as in \"(a?)+\" or \"(a|)*\": repeat only what cannot be empty"},
                    {PS "  dnsNameRegex: '(|a){3}'\n", "p.yaml:5: policies[0].dnsNameRegex: invalid regex: repeats something that can match the empty string ('{' at offset 4), as in \"(a?)+\" or \"(a|)*\": repeat only what cannot be empty"},
                    {PS "  dnsNameRegex: '(a{0,3}b?)*'\n",
                     "p.yaml:5: policies[0].dnsNameRegex: invalid regex: repeats something that can match the empty string ('*' at offset 10), as in \"(a?)+\" or \"(a|)*\": repeat only what cannot be empty"},
                    {PS "  dnsNameRegex: '(a)\\1'\n",
                     "p.yaml:5: policies[0].dnsNameRegex: invalid regex: has a back-reference (\\1 at offset 3), which is not supported"},
                    {PS "  dnsNameRegex: '((((((((((((((((((a))))))))))))))))))'\n",
                     "p.yaml:5: policies[0].dnsNameRegex: invalid regex: nests parentheses more than 16 deep"},
                    /* usages the type can never approve */
                    {PS "  usages: [\"client auth\"]\n",
                     "p.yaml:5: policies[0].usages[0]: \"client auth\" is never approved for type kubelet-serving (its usages: digital signature, key encipherment, server auth)"},
                    {PS "  usages:\n  - server auth\n  - code signing\n",
                     "p.yaml:7: policies[0].usages[1]: \"code signing\" is never approved for type kubelet-serving (its usages: digital signature, key encipherment, server auth)"},
                    {PS "  usages: [\"digital signature\", \"key encipherment\"]\n",
                     "p.yaml:5: policies[0].usages: lacks \"server auth\", which every kubelet-serving CSR must ask for: this policy would approve nothing"},
                    {"policies:\n- {name: c, signerName: a.b/c, type: kubelet-client, usages: [server auth]}\n",
                     "p.yaml:2: policies[0].usages[0]: \"server auth\" is never approved for type kubelet-client (its usages: digital signature, key encipherment, client auth)"},
                    {"policies:\n- {name: c, signerName: a.b/c, type: kubelet-client, usages: [key encipherment]}\n",
                     "p.yaml:2: policies[0].usages: lacks \"client auth\", which every kubelet-client CSR must ask for: this policy would approve nothing"},
                    {PS "  dnsNameRegex: 5\n",
                     "p.yaml:5: policies[0].dnsNameRegex: expected a string, got 5"},
                    /* CIDRs */
                    {PS "  ipPrefixes: [10.0.0.1/8]\n",
                     "p.yaml:5: policies[0].ipPrefixes[0]: invalid CIDR \"10.0.0.1/8\": host bits are set (the network is 10.0.0.0/8)"},
                    {PS "  ipPrefixes: ['fd00::1/64']\n",
                     "p.yaml:5: policies[0].ipPrefixes[0]: invalid CIDR \"fd00::1/64\": host bits are set (the network is fd00::/64)"},
                    {PS "  ipPrefixes: [10.0.0.0]\n",
                     "p.yaml:5: policies[0].ipPrefixes[0]: expected a CIDR such as 10.0.0.0/8 or fd00::/8, got \"10.0.0.0\""},
                    {PS "  ipPrefixes: [10.0.0.0/33]\n",
                     "p.yaml:5: policies[0].ipPrefixes[0]: invalid CIDR \"10.0.0.0/33\": prefix length above 32"},
                    {PS "  ipPrefixes: ['fd00::/129']\n",
                     "p.yaml:5: policies[0].ipPrefixes[0]: invalid CIDR \"fd00::/129\": prefix length above 128"},
                    {PS "  ipPrefixes: [10.0.0.0/08]\n",
                     "p.yaml:5: policies[0].ipPrefixes[0]: invalid CIDR \"10.0.0.0/08\": bad prefix length"},
                    {PS "  ipPrefixes: [10.0.0.0/]\n",
                     "p.yaml:5: policies[0].ipPrefixes[0]: invalid CIDR \"10.0.0.0/\": bad prefix length"},
                    {PS "  ipPrefixes: [nodes/8]\n",
                     "p.yaml:5: policies[0].ipPrefixes[0]: invalid CIDR \"nodes/8\": bad address"},
                    {PS "  ipPrefixes: [10.0.0/8]\n",
                     "p.yaml:5: policies[0].ipPrefixes[0]: invalid CIDR \"10.0.0/8\": bad address"},
                    {PS "  ipPrefixes: 10.0.0.0/8\n",
                     "p.yaml:5: policies[0].ipPrefixes: expected a sequence, got \"10.0.0.0/8\""},
                    /* uniqueness */
                    {P0 "- name: w\n  signerName: example.com/other\n  type: workload\n",
                     "p.yaml:5: policies[1].name: duplicate name \"w\" (also policies[0])"},
                    {P0 "- name: w2\n  signerName: example.com/w\n  type: workload\n",
                     "p.yaml:6: policies[1].signerName: duplicate signerName \"example.com/w\" (also policies[0]): one policy per signer"},
                    /* long or odd values are cut and escaped in messages */
                    {P0 "  onFailure: \"a\\tb\"\n",
                     "p.yaml:5: policies[0].onFailure: expected deny or leave-pending, got \"a\\tb\""},
                    {P0 "  onFailure: \"a\\0b\"\n",
                     "p.yaml:5: policies[0].onFailure: contains a NUL byte"},
                    {P0
                     "  onFailure: "
                     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n",
                     "p.yaml:5: policies[0].onFailure: expected deny or leave-pending, got "
                     "\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...\""},
};

#define N_BAD (sizeof(bad_cases) / sizeof(bad_cases[0]))

/* Parameters cross into the test process by value: pass indices, not
 * pointers. */
ParameterizedTestParameters(config, errors)
{
	static size_t idx[N_BAD];
	for (size_t i = 0; i < N_BAD; i++)
		idx[i] = i;
	return cr_make_param_array(size_t, idx, N_BAD);
}

ParameterizedTest(size_t *i, config, errors)
{
	const struct bad *c = &bad_cases[*i];
	char err[ERRLEN];
	struct policy_set *set = parse(c->yaml, err);
	cr_assert_null(set, "accepted:\n%s", c->yaml);
	cr_assert_str_eq(err, c->err, "input:\n%s", c->yaml);
}

/* ---- type client: its keys, and its keys on other types ---- */

#define PC                                                                                         \
	"policies:\n- name: c\n  signerName: kubernetes.io/kube-apiserver-client\n  type: client\n"

static struct bad client_bad_cases[] = {
    {PC "  maxSANs: 1\n", "p.yaml:5: policies[0].maxSANs: key is not valid for type client"},
    {PC "  namespaces: [a]\n",
     "p.yaml:5: policies[0].namespaces: key is not valid for type client"},
    {PC "  requirePodBinding: true\n",
     "p.yaml:5: policies[0].requirePodBinding: key is not valid for type client"},
    {PC "  dnsNameRegex: x\n",
     "p.yaml:5: policies[0].dnsNameRegex: key is not valid for type client"},
    {P0 "  requesters: {users: [a]}\n",
     "p.yaml:5: policies[0].requesters: key is not valid for type workload"},
    {PS "  allowedGroups: [a]\n",
     "p.yaml:5: policies[0].allowedGroups: key is not valid for type kubelet-serving"},
    {"policies:\n- {name: c, signerName: a.b/c, type: kubelet-client, allowServiceAccounts: true}\n",
     "p.yaml:2: policies[0].allowServiceAccounts: key is not valid for type kubelet-client"},
    {PC "  requesters: [a]\n",
     "p.yaml:5: policies[0].requesters: expected a mapping with users and groups, got a sequence"},
    {PC "  requesters: ~\n",
     "p.yaml:5: policies[0].requesters: expected a mapping with users and groups, got ~"},
    {PC "  requesters: {user: [a]}\n", "p.yaml:5: policies[0].requesters: unknown key \"user\""},
    {PC "  requesters: {users: a}\n",
     "p.yaml:5: policies[0].requesters.users: expected a sequence, got \"a\""},
    {PC "  requesters:\n    users: [a]\n    users: [b]\n",
     "p.yaml:7: policies[0].requesters.users: duplicate key (first at line 6)"},
    {PC "  requesters:\n    groups:\n    - dev\n    - ''\n",
     "p.yaml:8: policies[0].requesters.groups[1]: \"\" is empty: a pattern matches at least one character"},
    {PC "  requesters: {groups: [5]}\n",
     "p.yaml:5: policies[0].requesters.groups[0]: expected a string, got 5"},
    {PC "  allowServiceAccounts: yes\n",
     "p.yaml:5: policies[0].allowServiceAccounts: expected true or false, got \"yes\""},
    {PC "  allowedGroups: [developers, system:masters]\n",
     "p.yaml:5: policies[0].allowedGroups[1]: \"system:masters\" names a system: group, never allowed in a client certificate"},
    {PC "  allowedGroups: ['system:*']\n",
     "p.yaml:5: policies[0].allowedGroups[0]: \"system:*\" names a system: group, never allowed in a client certificate"},
    {PC "  allowedGroups: developers\n",
     "p.yaml:5: policies[0].allowedGroups: expected a sequence, got \"developers\""},
    {PC "  allowedGroups: ['']\n",
     "p.yaml:5: policies[0].allowedGroups[0]: \"\" is empty: a pattern matches at least one character"},
    {PC "  usages: [server auth]\n",
     "p.yaml:5: policies[0].usages[0]: \"server auth\" is never approved for type client (its usages: digital signature, key encipherment, client auth)"},
    {PC "  usages: [digital signature]\n",
     "p.yaml:5: policies[0].usages: lacks \"client auth\", which every client CSR must ask for: this policy would approve nothing"},
    {PC "  minExpirationSeconds: 30000\n",
     "p.yaml:5: policies[0]: minExpirationSeconds (30000) is greater than maxExpirationSeconds (28800)"},
};

#define N_CLIENT_BAD (sizeof(client_bad_cases) / sizeof(client_bad_cases[0]))

ParameterizedTestParameters(config, client_errors)
{
	static size_t idx[N_CLIENT_BAD];
	for (size_t i = 0; i < N_CLIENT_BAD; i++)
		idx[i] = i;
	return cr_make_param_array(size_t, idx, N_CLIENT_BAD);
}

ParameterizedTest(size_t *i, config, client_errors)
{
	const struct bad *c = &client_bad_cases[*i];
	char err[ERRLEN];
	struct policy_set *set = parse(c->yaml, err);
	cr_assert_null(set, "accepted:\n%s", c->yaml);
	cr_assert_str_eq(err, c->err, "input:\n%s", c->yaml);
}

Test(config, client_type)
{
	char err[ERRLEN];
	struct policy_set *set =
	    parse(PC "  requesters: {users: ['*@example.com'], groups: [developers]}\n"
	             "  allowServiceAccounts: true\n"
	             "  allowedGroups: [developers, 'sre-*']\n"
	             "  usages: [client auth]\n"
	             "  maxExpirationSeconds: 3600\n"
	             "- {name: d, signerName: example.com/d, type: client}\n",
	          err);
	cr_assert_not_null(set, "%s", err);
	const struct policy_rule *r = &set->rules[0];
	cr_assert_eq(r->type, POLICY_TYPE_CLIENT);
	cr_assert_eq(r->requester_users.n, 1);
	cr_assert_str_eq(r->requester_users.v[0], "*@example.com");
	cr_assert_eq(r->requester_groups.n, 1);
	cr_assert_str_eq(r->requester_groups.v[0], "developers");
	cr_assert(r->allow_service_accounts);
	cr_assert_eq(r->allowed_groups.n, 2);
	cr_assert_str_eq(r->allowed_groups.v[1], "sre-*");
	cr_assert_eq(r->usages.n, 1);
	cr_assert_eq(r->max_expiration_seconds, 3600);

	/* The defaults: nobody may self-serve, no O, no service account, 8 h. */
	const struct policy_rule *d = &set->rules[1];
	cr_assert_eq(d->type, POLICY_TYPE_CLIENT);
	cr_assert_eq(d->requester_users.n, 0);
	cr_assert_eq(d->requester_groups.n, 0);
	cr_assert_eq(d->allowed_groups.n, 0);
	cr_assert_not(d->allow_service_accounts);
	cr_assert_eq(d->max_expiration_seconds, 28800);
	cr_assert_eq(d->min_expiration_seconds, 600);
	cr_assert_eq(d->keys, POLICY_KEY_DEFAULT);
	policy_set_free(set);

	/* Empty lists are valid: requesters {} is a policy that denies all. */
	set = parse(PC "  requesters: {users: [], groups: []}\n  allowedGroups: []\n", err);
	cr_assert_not_null(set, "%s", err);
	cr_assert_eq(set->rules[0].requester_users.n, 0);
	policy_set_free(set);
	set = parse(PC "  requesters: {}\n", err);
	cr_assert_not_null(set, "%s", err);
	policy_set_free(set);
}

/* ---- allowedNames: each name to its bit ---- */

struct names_case {
	char list[96];
	uint32_t bits;
};

static struct names_case names_cases[] = {
    {"[spiffe]", POLICY_NAME_SPIFFE},
    {"[podIP]", POLICY_NAME_POD_IP},
    {"[podDNS]", POLICY_NAME_POD_DNS},
    {"[hostnameDNS]", POLICY_NAME_HOSTNAME_DNS},
    {"[serviceDNS]", POLICY_NAME_SERVICE_DNS},
    {"[serviceShortDNS]", POLICY_NAME_SERVICE_SHORT_DNS},
    {"[serviceDNS, serviceShortDNS]", POLICY_NAME_SERVICE_DNS | POLICY_NAME_SERVICE_SHORT_DNS},
    {"[spiffe, podIP, podDNS, hostnameDNS, serviceDNS]", POLICY_NAME_DEFAULT},
    {"[spiffe, podIP, podDNS, hostnameDNS, serviceDNS, serviceShortDNS]",
     POLICY_NAME_DEFAULT | POLICY_NAME_SERVICE_SHORT_DNS},
};

ParameterizedTestParameters(config, allowed_names)
{
	return cr_make_param_array(struct names_case, names_cases,
	                           sizeof(names_cases) / sizeof(names_cases[0]));
}

ParameterizedTest(struct names_case *c, config, allowed_names)
{
	char err[ERRLEN], yaml[256];
	snprintf(yaml, sizeof(yaml), P0 "  allowedNames: %s\n", c->list);
	struct policy_set *set = parse(yaml, err);
	cr_assert_not_null(set, "%s: %s", c->list, err);
	cr_assert_eq(set->rules[0].allowed_names, c->bits, "%s: bits %#x, want %#x", c->list,
	             set->rules[0].allowed_names, c->bits);
	policy_set_free(set);
}

Test(config, short_service_names_are_opt_in)
{
	cr_assert_eq(POLICY_NAME_DEFAULT & POLICY_NAME_SERVICE_SHORT_DNS, 0);
	cr_assert_eq(POLICY_NAME_DEFAULT & POLICY_NAME_SERVICE_DNS, POLICY_NAME_SERVICE_DNS);
}

Test(config, regex_stays_anchored)
{
	/* Alternation inside the user's regex must not escape the anchors. */
	char err[ERRLEN];
	struct policy_set *set = parse(PS "  dnsNameRegex: 'a|b'\n", err);
	cr_assert_not_null(set, "%s", err);
	cr_assert(re_match(&set->rules[0], "a"));
	cr_assert(re_match(&set->rules[0], "b"));
	cr_assert_not(re_match(&set->rules[0], "ab"));
	cr_assert_not(re_match(&set->rules[0], "xa"));
	cr_assert_not(re_match(&set->rules[0], "bx"));
	policy_set_free(set);

	/* Parentheses inside bracket expressions and escaped ones do not count. */
	set = parse(PS "  dnsNameRegex: '[)(]x\\)'\n", err);
	cr_assert_not_null(set, "%s", err);
	cr_assert(re_match(&set->rules[0], "(x)"));
	cr_assert_not(re_match(&set->rules[0], "(x)y"));
	policy_set_free(set);

	set = parse(PS "  dnsNameRegex: '[]a[:digit:]]+'\n", err);
	cr_assert_not_null(set, "%s", err);
	cr_assert(re_match(&set->rules[0], "a1]"));
	cr_assert_not(re_match(&set->rules[0], "a1]b"));
	policy_set_free(set);
}

Test(config, regexes_within_bounds)
{
	/* Patterns a DNS name needs stay accepted, and still match. */
	static const struct {
		const char *re, *yes, *no;
	} ok[] = {
	    {"([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\\.)+example\\.com", "a-1.b.example.com",
	     "-a.example.com"},
	    {"ip-[0-9]{1,3}-[0-9]{1,3}-[0-9]{1,3}-[0-9]{1,3}\\.ec2\\.internal",
	     "ip-10-0-3-7.ec2.internal", "ip-10-0-3-7777.ec2.internal"},
	    {"node-[0-9]+(\\.example\\.com)?", "node-7.example.com", "node-.example.com"},
	    {"(a{10}){50}", NULL, "a"},
	    {"a{0,500}", "aaa", "b"},
	    {"(x(y(z)?)?){1,100}", "xyzxy", "xyy"},
	    {"^[a-z]+$", "abc", "ab1"},
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		char yaml[512], err[ERRLEN];
		snprintf(yaml, sizeof(yaml), PS "  dnsNameRegex: '%s'\n", ok[i].re);
		struct policy_set *set = parse(yaml, err);
		cr_assert_not_null(set, "%s: %s", ok[i].re, err);
		if (ok[i].yes != NULL)
			cr_assert(re_match(&set->rules[0], ok[i].yes), "%s ~ %s", ok[i].re,
			          ok[i].yes);
		cr_assert_not(re_match(&set->rules[0], ok[i].no), "%s !~ %s", ok[i].re, ok[i].no);
		policy_set_free(set);
	}
}

Test(config, fuzz_regression_corpus)
{
	/* The policy file fuzzing found taking gigabytes in regcomp(): refused
	 * at once, with file:line. */
	char err[ERRLEN] = "";
	cr_assert_null(
	    config_load_file("tests/fuzz/corpus/config/regex-stacked-plus.yaml", err, sizeof(err)));
	cr_assert_str_eq(err,
	                 "tests/fuzz/corpus/config/regex-stacked-plus.yaml:6: "
	                 "policies[0].dnsNameRegex: invalid regex: stacks repetitions ('+' "
	                 "at offset 2 follows another): write one, as in \"a+\" or "
	                 "\"(ab){2,4}\"");
}

Test(config, kubelet_usages_of_the_type)
{
	/* The type's own usages, in any order and any subset holding the
	 * required one, load. */
	char err[ERRLEN];
	struct policy_set *set =
	    parse(PS "  usages: [\"server auth\", \"key encipherment\"]\n"
	             "- {name: c, signerName: a.b/c, type: kubelet-client, usages: [client auth]}\n"
	             "- {name: w, signerName: a.b/w, type: workload, usages: [code signing]}\n",
	          err);
	cr_assert_not_null(set, "%s", err);
	cr_assert_eq(set->rules[0].usages.n, 2);
	cr_assert_eq(set->rules[1].usages.n, 1);
	cr_assert_eq(set->rules[2].usages.n, 1);
	policy_set_free(set);
}

Test(config, error_line_in_flow_and_block_styles)
{
	char err[ERRLEN];
	cr_assert_null(parse("\n\n# comment\npolicies:\n"
	                     "  - {name: a, signerName: example.com/a, type: workload}\n"
	                     "  - name: b\n"
	                     "    signerName: example.com/b\n"
	                     "    type: workload\n"
	                     "    keys:\n"
	                     "      - ecdsa-p256\n"
	                     "      - dsa\n",
	                     err));
	cr_assert_str_eq(
	    err,
	    "p.yaml:11: policies[1].keys[1]: unknown key \"dsa\" (expected one of ecdsa-p256, "
	    "ecdsa-p384, ecdsa-p521, ed25519, rsa-2048, rsa-3072, rsa-4096)");
}

Test(config, invalid_utf8)
{
	char err[ERRLEN];
	cr_assert_null(parse("policies: []\nclusterDomain: \"\xff\"\n", err));
	cr_assert(strncmp(err, "p.yaml:2: ", 10) == 0, "%s", err);
}

/* ---- issue: the built-in signer ---- */

Test(config, issue_every_key)
{
	char err[ERRLEN];
	static const char yaml[] =
	    P0 "  issue:\n    caCertFile: /ca/tls.crt\n    caKeyFile: ca/tls.key\n"
	       "    lifetime: 1h30m\n    backdate: 2m\n    trustBundle: false\n"
	       "    requirePolicy: true\n  podCertificates: true\n";
	struct policy_set *set =
	    config_parse(yaml, strlen(yaml), "/etc/csr-approver/policy.yaml", err, ERRLEN);
	cr_assert_not_null(set, "%s", err);
	const struct policy_issue *i = &set->rules[0].issue;
	cr_expect(i->enabled);
	cr_expect_str_eq(i->ca_cert_file, "/ca/tls.crt");
	cr_expect_str_eq(i->ca_key_file, "/etc/csr-approver/ca/tls.key",
	                 "a relative name is read from the policy file's directory");
	cr_expect_eq(i->lifetime_seconds, 5400);
	cr_expect_eq(i->backdate_seconds, 120);
	cr_expect_not(i->trust_bundle);
	cr_expect(i->require_policy);
	cr_expect(set->rules[0].pod_certificates);
	policy_set_free(set);
}

Test(config, issue_defaults)
{
	char err[ERRLEN];
	struct policy_set *set =
	    parse(P0 "  issue: {caCertFile: /c.crt, caKeyFile: /c.key}\n", err);
	cr_assert_not_null(set, "%s", err);
	const struct policy_issue *i = &set->rules[0].issue;
	cr_expect(i->enabled);
	cr_expect_eq(i->lifetime_seconds, 86400);
	cr_expect_eq(i->backdate_seconds, 300);
	cr_expect(i->trust_bundle);
	cr_expect_not(i->require_policy);
	cr_expect_not(set->rules[0].pod_certificates);
	policy_set_free(set);

	set = parse(P0, err);
	cr_assert_not_null(set, "%s", err);
	cr_expect_not(set->rules[0].issue.enabled, "no issue: block, no signing");
	policy_set_free(set);
}

static struct bad issue_bad_cases[] = {
    {P0 "  issue: {caCertFile: /c.crt}\n",
     "p.yaml:5: policies[0].issue: missing required key \"caKeyFile\""},
    {P0 "  issue: {caKeyFile: /c.key}\n",
     "p.yaml:5: policies[0].issue: missing required key \"caCertFile\""},
    {P0 "  issue: /c.crt\n", "p.yaml:5: policies[0].issue: expected a mapping, got \"/c.crt\""},
    {P0 "  issue: {caCertFile: /c.crt, caKeyFile: /c.key, ttl: 1h}\n",
     "p.yaml:5: policies[0].issue: unknown key \"ttl\""},
    {P0 "  issue: {caCertFile: /c.crt, caKeyFile: /c.key, lifetime: 1d}\n",
     "p.yaml:5: policies[0].issue.lifetime: expected a duration in whole seconds like 24h or "
     "90m, got \"1d\""},
    {P0 "  issue: {caCertFile: /c.crt, caKeyFile: /c.key, lifetime: 30s}\n",
     "p.yaml:5: policies[0].issue.lifetime: \"30s\" is out of range [60s, 3162240000s]"},
    {P0 "  issue: {caCertFile: /c.crt, caKeyFile: /c.key, backdate: 2h}\n",
     "p.yaml:5: policies[0].issue.backdate: \"2h\" is out of range [0s, 3600s]"},
    {P0 "  issue: {caCertFile: '', caKeyFile: /c.key}\n",
     "p.yaml:5: policies[0].issue.caCertFile: expected a file name"},
    {P0 "  issue: {caCertFile: /c.crt, caKeyFile: /c.key, trustBundle: yes please}\n",
     "p.yaml:5: policies[0].issue.trustBundle: expected true or false, got \"yes please\""},
    {P0 "  podCertificates: true\n",
     "p.yaml:5: policies[0].podCertificates: answering PodCertificateRequests needs issue: (the "
     "policy signs them)"},
    {P0
     "  issue: {caCertFile: /c.crt, caKeyFile: /c.key, lifetime: 30m}\n  podCertificates: true\n",
     "p.yaml:5: policies[0].issue.lifetime: podCertificates needs a lifetime of at least 1h (the "
     "API server refuses shorter pod certificates), got 1800s"},
    {PS "  issue: {caCertFile: /c.crt, caKeyFile: /c.key}\n",
     "p.yaml:5: policies[0].issue: key is not valid for type kubelet-serving"},
    {P0 "  usages: [digital signature]\n  issue: {caCertFile: /c.crt, caKeyFile: /c.key}\n",
     "p.yaml:5: policies[0].usages: a policy with issue: needs \"server auth\" or \"client "
     "auth\" in usages"},
    {P0 "  usages: [client auth, code signing]\n  issue: {caCertFile: /c.crt, caKeyFile: "
        "/c.key}\n",
     "p.yaml:5: policies[0].usages: usage \"code signing\" is not one the built-in signer "
     "issues (digital signature, key encipherment, client auth, server auth)"},
};

#define N_ISSUE_BAD (sizeof(issue_bad_cases) / sizeof(issue_bad_cases[0]))

/* Indices, not the cases: the strings they point to live in this process. */
ParameterizedTestParameters(config, issue_errors)
{
	static size_t idx[N_ISSUE_BAD];
	for (size_t i = 0; i < N_ISSUE_BAD; i++)
		idx[i] = i;
	return cr_make_param_array(size_t, idx, N_ISSUE_BAD);
}

ParameterizedTest(size_t *i, config, issue_errors)
{
	const struct bad *c = &issue_bad_cases[*i];
	char err[ERRLEN];
	struct policy_set *set = parse(c->yaml, err);
	cr_assert_null(set, "accepted:\n%s", c->yaml);
	cr_assert_str_eq(err, c->err, "input:\n%s", c->yaml);
}
