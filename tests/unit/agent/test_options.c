/*
 * The flags of `csr-approver bootstrap`.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdarg.h>
#include <string.h>

#include "../../../pkg/agent/agent.h"

static int parse(struct agent_options *o, char *err, size_t errlen, ...)
{
	char *argv[40];
	int argc = 0;
	va_list ap;
	va_start(ap, errlen);
	argv[argc++] = (char *)"bootstrap";
	for (const char *a; (a = va_arg(ap, const char *)) != NULL && argc < 39;)
		argv[argc++] = (char *)a;
	va_end(ap);
	argv[argc] = NULL;
	agent_options_init(o);
	err[0] = '\0';
	return agent_options_parse(o, argc, argv, err, errlen);
}

#define REQ "--signer-name", "example.com/mtls", "--dir", "/run/mtls"

Test(agent_flags, defaults)
{
	struct agent_options o;
	char err[256];
	cr_assert_eq(parse(&o, err, sizeof(err), REQ, NULL), 0, "%s", err);
	cr_assert_str_eq(o.signer_name, "example.com/mtls");
	cr_assert_str_eq(o.dir, "/run/mtls");
	cr_assert_eq(o.names, AGENT_NAMES_DEFAULT);
	cr_assert_not(o.names_set);
	cr_assert_eq(o.dns.n, 0);
	cr_assert_eq(o.key_type, AGENT_KEY_ECDSA_P256);
	cr_assert_eq(o.expiration_s, 86400);
	cr_assert_float_eq(o.renew_at, 0.67, 1e-9);
	cr_assert_not(o.once);
	cr_assert_eq(o.timeout_ms, 60000);
	cr_assert_null(o.kubeconfig);
	cr_assert_null(o.ca_file);
	cr_assert_str_eq(o.trust_domain, "cluster.local");
	cr_assert_str_eq(o.cluster_domain, "cluster.local");
	cr_assert_null(o.pod_name);
	cr_assert_null(o.pod_namespace);
	cr_assert_null(o.pod_ips);
	cr_assert_eq(o.log_format, LOG_FORMAT_JSON);
	cr_assert_eq(o.log_level, LOG_INFO);
	agent_options_clear(&o);
}

Test(agent_flags, every_flag)
{
	struct agent_options o;
	char err[256];
	int rc = parse(&o, err, sizeof(err), REQ, "--names", "spiffe,serviceDNS", "--dns",
	               "Web.Shop.svc", "--dns=web.shop.svc.cluster.local", "--dns", "web.shop.svc",
	               "--key-type", "rsa-3072", "--expiration=90m", "--renew-at", "0.5", "--once",
	               "--timeout", "0", "--kubeconfig", "/k", "--ca-file=/ca/bundle.pem",
	               "--trust-domain", "example.org", "--cluster-domain=k8s.example",
	               "--pod-name", "web-0", "--pod-namespace", "shop", "--pod-ips",
	               "10.0.0.1,fd00::1", "--log-format=text", "-v", "3", NULL);
	cr_assert_eq(rc, 0, "%s", err);
	cr_assert_eq(o.names, AGENT_NAME_SPIFFE | AGENT_NAME_SERVICE_DNS);
	cr_assert(o.names_set);
	/* Lower-cased, duplicates dropped, order kept. */
	cr_assert_eq(o.dns.n, 2);
	cr_assert_str_eq(o.dns.v[0], "web.shop.svc");
	cr_assert_str_eq(o.dns.v[1], "web.shop.svc.cluster.local");
	cr_assert_eq(o.key_type, AGENT_KEY_RSA_3072);
	cr_assert_eq(o.expiration_s, 5400);
	cr_assert_float_eq(o.renew_at, 0.5, 1e-9);
	cr_assert(o.once);
	cr_assert_eq(o.timeout_ms, 0);
	cr_assert_str_eq(o.kubeconfig, "/k");
	cr_assert_str_eq(o.ca_file, "/ca/bundle.pem");
	cr_assert_str_eq(o.trust_domain, "example.org");
	cr_assert_str_eq(o.cluster_domain, "k8s.example");
	cr_assert_str_eq(o.pod_name, "web-0");
	cr_assert_str_eq(o.pod_namespace, "shop");
	cr_assert_str_eq(o.pod_ips, "10.0.0.1,fd00::1");
	cr_assert_eq(o.log_format, LOG_FORMAT_TEXT);
	cr_assert_eq(o.log_level, LOG_DEBUG);
	agent_options_clear(&o);
}

Test(agent_flags, key_types_round_trip)
{
	const char *names[] = {"ecdsa-p256", "ecdsa-p384", "ed25519",
	                       "rsa-2048",   "rsa-3072",   "rsa-4096"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		enum agent_key_type t;
		cr_assert_eq(agent_key_type_parse(names[i], &t), 0);
		cr_assert_str_eq(agent_key_type_name(t), names[i]);
	}
	enum agent_key_type t;
	cr_assert_eq(agent_key_type_parse("rsa-1024", &t), -1);
	cr_assert_eq(agent_key_type_parse("ECDSA-P256", &t), -1);
}

Test(agent_flags, help)
{
	struct agent_options o;
	char err[256];
	FILE *saved = stdout;
	stdout = fopen("/dev/null", "w");
	int rc = parse(&o, err, sizeof(err), "--help", NULL);
	fclose(stdout);
	stdout = saved;
	cr_assert_eq(rc, 1);
	agent_options_clear(&o);
}

Test(agent_flags, main_exit_status_for_bad_usage)
{
	char *argv[] = {(char *)"bootstrap", (char *)"--dir", (char *)"/x", NULL};
	FILE *saved = stderr;
	stderr = fopen("/dev/null", "w");
	int rc = agent_main(3, argv);
	fclose(stderr);
	stderr = saved;
	cr_assert_eq(rc, AGENT_EXIT_USAGE);
}

struct bad_flags {
	char a[48], b[48]; /* b "" for none */
	char want[64]; /* substring of the message */
};

static struct bad_flags bad_cases[] = {
    {"--nope", "", "unknown flag --nope"},
    {"-x", "", "unknown flag -x"},
    {"--kubeconfig", "", "needs a value"},
    {"--names", "spiffe,dns", "unknown kind \"dns\""},
    {"--names", "", "unknown kind \"\""},
    {"--names", "spiffe,", "unknown kind \"\""},
    {"--names", "podIP,podIP", "given twice"},
    {"--names", "spiffe", "add serviceDNS"}, /* with the --dns below */
    {"--dns", "*.shop.svc", "is not a DNS name"},
    {"--dns", "shop.svc.", "is not a DNS name"},
    {"--dns", "a..b", "is not a DNS name"},
    {"--dns", "-a.b", "is not a DNS name"},
    {"--dns", "a-.b", "is not a DNS name"},
    {"--dns", "a_b.c", "is not a DNS name"},
    {"--key-type", "rsa-1024", "--key-type takes"},
    {"--expiration", "5m", "at least 10m"},
    {"--expiration", "24", "duration"},
    {"--expiration", "1000000h", "32 bits"},
    {"--renew-at", "0", "between 0 and 1"},
    {"--renew-at", "1", "between 0 and 1"},
    {"--renew-at", "0.5x", "between 0 and 1"},
    {"--renew-at", "nan", "between 0 and 1"},
    {"--timeout", "-1s", "--timeout takes"},
    {"--trust-domain", "a/b", "not a DNS name"},
    {"--cluster-domain", "", "not a DNS name"},
    {"--pod-name", "", "must not be empty"},
    {"--log-format", "xml", "--log-format"},
    {"-v", "loud", "-v"},
    {"extra", "", "unexpected argument"},
};

ParameterizedTestParameters(agent_flags, refused)
{
	return cr_make_param_array(struct bad_flags, bad_cases,
	                           sizeof(bad_cases) / sizeof(bad_cases[0]));
}

ParameterizedTest(struct bad_flags *tc, agent_flags, refused)
{
	struct agent_options o;
	char err[256];
	int rc;
	if (strcmp(tc->want, "add serviceDNS") == 0)
		rc = parse(&o, err, sizeof(err), REQ, tc->a, tc->b, "--dns", "web.shop.svc", NULL);
	else if (tc->b[0] != '\0' || strcmp(tc->a, "--names") == 0 ||
	         strcmp(tc->a, "--cluster-domain") == 0 || strcmp(tc->a, "--pod-name") == 0)
		rc = parse(&o, err, sizeof(err), REQ, tc->a, tc->b, NULL);
	else
		rc = parse(&o, err, sizeof(err), REQ, tc->a, NULL);
	cr_assert_eq(rc, -1, "%s %s accepted", tc->a, tc->b);
	cr_assert_not_null(strstr(err, tc->want), "%s %s: message \"%s\" lacks \"%s\"", tc->a,
	                   tc->b, err, tc->want);
	agent_options_clear(&o);
}

Test(agent_flags, required)
{
	struct agent_options o;
	char err[256];
	cr_assert_eq(parse(&o, err, sizeof(err), "--dir", "/x", NULL), -1);
	cr_assert_str_eq(err, "--signer-name is required");
	cr_assert_eq(parse(&o, err, sizeof(err), "--signer-name", "example.com/x", NULL), -1);
	cr_assert_str_eq(err, "--dir is required");
	cr_assert_eq(parse(&o, err, sizeof(err), "--signer-name", "nodomain", "--dir", "/x", NULL),
	             -1);
	cr_assert_not_null(strstr(err, "is not a signer name"), "%s", err);
	agent_options_clear(&o);
}
