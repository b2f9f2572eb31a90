/*
 * The csr-approver binary as a user runs it: `check`, `inspect` and
 * `version`, their output and exit statuses. The binary is the one named by
 * $CSR_APPROVER_BIN (make unit and make asan set it), else build/csr-approver.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define POLICY "docs/examples/policy.yaml"
#define HOST_NETWORK "tests/testdata/objects/shop-host-network.yaml"
#define EXTERNAL_NAME "tests/testdata/objects/shop-external-name.yaml"
#define SHORT_NAMES "tests/testdata/policy/short-names.yaml"
#define OBJECTS "tests/testdata/objects/shop.yaml"
#define CSROBJ(n) "tests/testdata/csrobj/" n

struct run {
	int status;
	char out[65536];
	char err[8192];
};

static void slurp(int fd, char *buf, size_t cap)
{
	size_t n = 0;
	lseek(fd, 0, SEEK_SET);
	for (;;) {
		ssize_t r = read(fd, buf + n, cap - 1 - n);
		if (r <= 0)
			break;
		n += (size_t)r;
		if (n == cap - 1)
			break;
	}
	buf[n] = '\0';
}

/* Run the binary with args (NULL-terminated), stdin from in_path or
 * /dev/null. */
static void run_bin(struct run *r, const char *in_path, const char *const *args)
{
	const char *bin = getenv("CSR_APPROVER_BIN");
	if (bin == NULL || *bin == '\0')
		bin = "build/csr-approver";
	char outp[] = "/tmp/csr-approver-cli-out-XXXXXX";
	char errp[] = "/tmp/csr-approver-cli-err-XXXXXX";
	int ofd = mkstemp(outp), efd = mkstemp(errp);
	cr_assert(ofd >= 0 && efd >= 0);
	unlink(outp);
	unlink(errp);
	char *argv[32];
	size_t n = 0;
	argv[n++] = (char *)bin;
	for (; args[n - 1] != NULL && n < 31; n++)
		argv[n] = (char *)args[n - 1];
	argv[n] = NULL;
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		int in = open(in_path ? in_path : "/dev/null", O_RDONLY);
		dup2(in, 0);
		dup2(ofd, 1);
		dup2(efd, 2);
		execv(bin, argv);
		_exit(127);
	}
	int st = 0;
	waitpid(pid, &st, 0);
	cr_assert(WIFEXITED(st), "%s did not exit normally", bin);
	r->status = WEXITSTATUS(st);
	slurp(ofd, r->out, sizeof(r->out));
	slurp(efd, r->err, sizeof(r->err));
	close(ofd);
	close(efd);
}

/* Parse the single-line decision record and check its fields; already is
 * the JSON of "alreadyDecided", or NULL when the record must not have it;
 * want, when not NULL or "", is a substring of its message. */
static void expect_record_full(const struct run *r, const char *decision, const char *reason,
                               const char *policy, const char *csr, const char *already,
                               const char *want)
{
	const char *nl = strchr(r->out, '\n');
	cr_assert_not_null(nl, "no line on stdout: %s / %s", r->out, r->err);
	cr_assert_eq(nl[1], '\0', "more than one line on stdout: %s", r->out);
	json_error_t je;
	json_t *o = json_loads(r->out, 0, &je);
	cr_assert_not_null(o, "stdout is not JSON: %s", r->out);
	cr_expect_eq(json_object_size(o), already ? 6 : 5, "unexpected keys in %s", r->out);
	if (already != NULL) {
		json_t *expected = json_loads(already, 0, NULL);
		cr_assert_not_null(expected, "bad test data %s", already);
		cr_expect(json_equal(expected, json_object_get(o, "alreadyDecided")),
		          "alreadyDecided is not %s in %s", already, r->out);
		json_decref(expected);
	}
	cr_expect_str_eq(json_string_value(json_object_get(o, "decision")), decision);
	cr_expect_str_eq(json_string_value(json_object_get(o, "reason")), reason);
	if (policy)
		cr_expect_str_eq(json_string_value(json_object_get(o, "policy")), policy);
	else
		cr_expect(json_is_null(json_object_get(o, "policy")));
	cr_expect_str_eq(json_string_value(json_object_get(o, "csr")), csr);
	const char *msg = json_string_value(json_object_get(o, "message"));
	cr_assert_not_null(msg);
	if (policy) {
		char prefix[128];
		snprintf(prefix, sizeof(prefix), "csr-approver: policy %s: ", policy);
		cr_expect(strncmp(msg, prefix, strlen(prefix)) == 0, "message %s", msg);
	}
	if (want != NULL && want[0] != '\0')
		cr_expect(strstr(msg, want) != NULL, "message lacks \"%s\": %s", want, msg);
	json_decref(o);
}

static void expect_record(const struct run *r, const char *decision, const char *reason,
                          const char *policy, const char *csr)
{
	expect_record_full(r, decision, reason, policy, csr, NULL, NULL);
}

struct check_case {
	char csr[64];
	char authorize[8];
	char objects[64];
	int status;
	char decision[8];
	char reason[32];
	char policy[32];
	bool respect_status;
	char already[96];
	char config[64]; /* "": POLICY */
	char want[112]; /* "": message not checked */
};

/* Rows leave config and want to the zero default. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#define APPROVED_BY_ADMIN "{\"type\":\"Approved\",\"reason\":\"KubectlApprove\"}"

static struct check_case check_cases[] = {
    {"workload-good", "", OBJECTS, 0, "approve", "AutoApproved", "workload-mtls", false, ""},
    {"workload-good", "", "", 1, "deny", "PodNotFound", "workload-mtls", false, ""},
    {"workload-tampered", "", OBJECTS, 1, "deny", "SignatureInvalid", "workload-mtls", false, ""},
    {"workload-system-masters", "", OBJECTS, 1, "deny", "SubjectNotAllowed", "workload-mtls", false,
     ""},
    {"workload-no-pod-claims", "", OBJECTS, 1, "deny", "RequesterNotAllowed", "workload-mtls",
     false, ""},
    /* A decided CSR is decided again, as the policy decides it now, and the
     * record says what it carries; --respect-status gives the controller's
     * view. */
    {"workload-approved", "", OBJECTS, 0, "approve", "AutoApproved", "workload-mtls", false,
     APPROVED_BY_ADMIN},
    {"workload-approved", "", OBJECTS, 3, "skip", "AlreadyDecided", "", true, APPROVED_BY_ADMIN},
    {"workload-good", "", OBJECTS, 0, "approve", "AutoApproved", "workload-mtls", true, ""},
    /* The CSR of the troubleshooting docs: denied by the controller, and
     * denied again, with the same message, when replayed. */
    {"api-5c8-tls", "", OBJECTS, 1, "deny", "SANNotAllowed", "workload-mtls", false,
     "{\"type\":\"Denied\",\"reason\":\"SANNotAllowed\"}"},
    {"api-5c8-tls", "", OBJECTS, 3, "skip", "AlreadyDecided", "", true,
     "{\"type\":\"Denied\",\"reason\":\"SANNotAllowed\"}"},
    {"other-signer", "", OBJECTS, 3, "skip", "NoPolicy", "", false, ""},
    {"kubelet-serving", "", OBJECTS, 0, "approve", "AutoApproved", "kubelet-serving", false, ""},
    {"kubelet-serving", "", "", 1, "deny", "NodeNotFound", "kubelet-serving", false, ""},
    {"kubelet-client", "", OBJECTS, 1, "deny", "NotAuthorized", "kubelet-client", false, ""},
    {"kubelet-client", "deny", OBJECTS, 1, "deny", "NotAuthorized", "kubelet-client", false, ""},
    {"kubelet-client", "allow", OBJECTS, 0, "approve", "AutoApproved", "kubelet-client", false, ""},
    /* a person's own client certificate, and the names that are not theirs */
    {"client-own", "", "", 0, "approve", "AutoApproved", "self-service", false, "", "",
     "requester \"alice@example.com\" (requesters: users \"*@example.com\"): CN "},
    {"client-other-user", "", "", 1, "deny", "SubjectNotAllowed", "self-service", false, "", "",
     "subject CN \"alice@example.com\" is not the requester \"bob@example.com\""},
    {"client-system-masters", "", "", 1, "deny", "SubjectNotAllowed", "self-service", false, "", "",
     "subject O \"system:masters\" is not allowed"},
    {"client-outside-requesters", "", "", 1, "deny", "RequesterNotAllowed", "self-service", false,
     "", "", "requester \"mallory@evil.test\" and its groups match no entry of requesters"},
    {"client-no-expiration", "", "", 1, "deny", "ExpirationNotAllowed", "self-service", false, "",
     "", "spec.expirationSeconds is not set (type client requires it, within [600, 28800])"},
    {"client-service-account", "", "", 1, "deny", "RequesterNotAllowed", "self-service", false, "",
     "", "is a service account (allowServiceAccounts is false)"},
    /* the objects given change nothing: the decision rests on the request */
    {"client-own", "allow", OBJECTS, 0, "approve", "AutoApproved", "self-service", false, ""},

    /* spec.groups must hold both service-account groups */
    {"workload-missing-group", "", OBJECTS, 1, "deny", "RequesterNotAllowed", "workload-mtls",
     false, "", "", "spec.groups lacks \"system:serviceaccounts:shop\""},
    /* a hostNetwork pod's IP names no pod */
    {"workload-good", "", HOST_NETWORK, 1, "deny", "SANNotAllowed", "workload-mtls", false, "", "",
     "IP SAN 10.244.1.7 is not an IP of pod shop/web-7d9 (the pod uses the host network"},
    /* S and S.NS only with serviceShortDNS */
    {"workload-service-short", "", OBJECTS, 1, "deny", "SANNotAllowed", "workload-mtls", false, "",
     "", "DNS SAN \"web\" is not a name of pod shop/web-7d9 (allowed: web.shop.svc, "},
    {"workload-service-short", "", OBJECTS, 0, "approve", "AutoApproved", "workload-mtls", false,
     "", SHORT_NAMES, "5 SANs"},
    {"workload-service-short", "", EXTERNAL_NAME, 1, "deny", "SANNotAllowed", "workload-mtls",
     false, "", SHORT_NAMES, "DNS SAN \"web\" is not a name of pod shop/web-7d9"},
    /* the count of SANs is judged, up to the 64 KiB limit */
    {"workload-san-1000", "", OBJECTS, 1, "deny", "SANNotAllowed", "workload-mtls", false, "", "",
     "csr-approver: policy workload-mtls: 1000 SANs, more than maxSANs 32"},
    {"workload-san-max", "", OBJECTS, 1, "deny", "SANNotAllowed", "workload-mtls", false, "", "",
     "csr-approver: policy workload-mtls: 23900 SANs, more than maxSANs 32; DNS SAN \"\" is empty"},
    /* strict DER inside the key and the subject */
    {"workload-key-int-padding", "", OBJECTS, 1, "deny", "InvalidRequest", "workload-mtls", false,
     "", "", "non-minimal INTEGER at offset"},
    {"workload-empty-rdn", "", OBJECTS, 1, "deny", "InvalidRequest", "workload-mtls", false, "", "",
     "empty RDN in the subject"},
};

ParameterizedTestParameters(cli, check)
{
	size_t n = sizeof(check_cases) / sizeof(check_cases[0]);
	return cr_make_param_array(struct check_case, check_cases, n);
}

ParameterizedTest(struct check_case *c, cli, check)
{
	/* Both the YAML and the JSON form of each object must decide alike. */
	for (int json = 0; json <= 1; json++) {
		char path[128];
		snprintf(path, sizeof(path), "tests/testdata/csrobj/%s.%s", c->csr,
		         json ? "json" : "yaml");
		const char *args[12];
		size_t n = 0;
		args[n++] = "check";
		args[n++] = "--config";
		args[n++] = c->config[0] ? c->config : POLICY;
		if (c->objects[0]) {
			args[n++] = "--objects";
			args[n++] = c->objects;
		}
		if (c->authorize[0]) {
			args[n++] = "--authorize";
			args[n++] = c->authorize;
		}
		if (c->respect_status)
			args[n++] = "--respect-status";
		args[n++] = path;
		args[n] = NULL;
		struct run r;
		run_bin(&r, NULL, args);
		cr_expect_eq(r.status, c->status, "%s: exit %d, want %d; stderr: %s", path,
		             r.status, c->status, r.err);
		expect_record_full(&r, c->decision, c->reason, c->policy[0] ? c->policy : NULL,
		                   c->csr, c->already[0] ? c->already : NULL, c->want);
	}
}

Test(cli, check_reads_stdin)
{
	struct run r;
	const char *args[] = {"check", "--config", POLICY, "--objects", OBJECTS, "-", NULL};
	run_bin(&r, CSROBJ("workload-good.yaml"), args);
	cr_expect_eq(r.status, 0, "stderr: %s", r.err);
	expect_record(&r, "approve", "AutoApproved", "workload-mtls", "workload-good");
}

Test(cli, check_without_config_skips)
{
	struct run r;
	const char *args[] = {"check", CSROBJ("workload-good.yaml"), NULL};
	run_bin(&r, NULL, args);
	cr_expect_eq(r.status, 3);
	expect_record(&r, "skip", "NoPolicy", NULL, "workload-good");
}

Test(cli, check_objects_repeatable)
{
	/* The pod alone is not enough for kubelet-serving; the node file adds it. */
	struct run r;
	const char *args[] = {"check",
	                      "--config",
	                      POLICY,
	                      "--objects",
	                      "tests/testdata/objects/pod.json",
	                      "--objects",
	                      OBJECTS,
	                      CSROBJ("kubelet-serving.yaml"),
	                      NULL};
	run_bin(&r, NULL, args);
	cr_expect_eq(r.status, 0, "stderr: %s", r.err);
	expect_record(&r, "approve", "AutoApproved", "kubelet-serving", "kubelet-serving");
}

struct usage_case {
	const char *args[8];
	char want_err[96];
};

/* Unusable input: exit 2, nothing on stdout, a message naming the problem. */
static void expect_usage(const char *const *args, const char *want_err)
{
	struct run r;
	run_bin(&r, NULL, args);
	cr_expect_eq(r.status, 2, "exit %d for %s; stderr: %s", r.status, args[0], r.err);
	cr_expect_str_empty(r.out, "stdout not empty: %s", r.out);
	cr_expect(strstr(r.err, want_err) != NULL, "stderr \"%s\" lacks \"%s\"", r.err, want_err);
	cr_expect(strchr(r.err, '\n') == r.err + strlen(r.err) - 1, "stderr is not one line: %s",
	          r.err);
}

Test(cli, check_bad_usage)
{
	const char *a1[] = {"check", NULL};
	expect_usage(a1, "expected exactly one CSR_FILE");
	const char *a2[] = {"check", "a.yaml", "b.yaml", NULL};
	expect_usage(a2, "expected exactly one CSR_FILE");
	const char *a3[] = {"check", "--authorize", "maybe", CSROBJ("workload-good.yaml"), NULL};
	expect_usage(a3, "--authorize takes allow or deny");
	const char *a4[] = {"check", "/nonexistent/csr.yaml", NULL};
	expect_usage(a4, "/nonexistent/csr.yaml: No such file or directory");
	const char *a5[] = {"check", "--config", "/nonexistent/policy.yaml",
	                    CSROBJ("workload-good.yaml"), NULL};
	expect_usage(a5, "/nonexistent/policy.yaml");
	const char *a6[] = {"check", "--objects", "tests/testdata/objects/pod-without-name.yaml",
	                    CSROBJ("workload-good.yaml"), NULL};
	expect_usage(a6, "pod-without-name.yaml");
	const char *a7[] = {"nonsense", NULL};
	expect_usage(a7, "unknown command \"nonsense\"");
}

Test(cli, check_bad_config_names_line_and_key)
{
	char path[] = "/tmp/csr-approver-cli-policy-XXXXXX";
	int fd = mkstemp(path);
	cr_assert(fd >= 0);
	const char *text =
	    "policies:\n  - name: a\n    signerName: example.com/a\n    type: workload\n"
	    "    maxSANs: many\n";
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	const char *args[] = {"check", "--config", path, CSROBJ("workload-good.yaml"), NULL};
	char want[128];
	snprintf(want, sizeof(want), "%s:5: policies[0].maxSANs", path);
	expect_usage(args, want);
	unlink(path);
}

Test(cli, check_oversized_request_is_denied)
{
	/* A request past the 64 KiB cap is judged, not refused as unreadable:
	 * denied InvalidRequest, never left pending and never approved. */
	char path[] = "/tmp/csr-approver-cli-big-XXXXXX";
	int fd = mkstemp(path);
	cr_assert(fd >= 0);
	FILE *f = fdopen(fd, "w");
	cr_assert_not_null(f);
	fputs(
	    "{\"apiVersion\":\"certificates.k8s.io/v1\",\"kind\":\"CertificateSigningRequest\","
	    "\"metadata\":{\"name\":\"big\"},\"spec\":{\"signerName\":\"example.com/workload-mtls\","
	    "\"username\":\"system:serviceaccount:shop:web\",\"usages\":[\"client auth\"],"
	    "\"request\":\"",
	    f);
	/* 70000 bytes of "A" in base64 is "QUFB" repeated. */
	for (int i = 0; i < 70000 / 3; i++)
		fputs("QUFB", f);
	fputs("\"}}", f);
	fclose(f);
	const char *args[] = {"check", "--config", POLICY, "--objects", OBJECTS, path, NULL};
	struct run r;
	run_bin(&r, NULL, args);
	unlink(path);
	cr_expect_eq(r.status, 1, "stderr: %s", r.err);
	expect_record(&r, "deny", "InvalidRequest", "workload-mtls", "big");
	cr_expect(strstr(r.out, "64") != NULL || strstr(r.out, "65536") != NULL, "%s", r.out);
}

Test(cli, check_not_a_csr)
{
	/* A Pod where a CSR is due is unusable input, not a denial. */
	const char *args[] = {"check", "--config", POLICY, "tests/testdata/objects/pod.json", NULL};
	struct run r;
	run_bin(&r, NULL, args);
	cr_expect_eq(r.status, 2, "stderr: %s", r.err);
	cr_expect_str_empty(r.out);
	cr_expect(strstr(r.err, "expected a CertificateSigningRequest, got Pod") != NULL, "%s",
	          r.err);
}

Test(cli, check_bare_pem_points_to_inspect)
{
	/* The PEM alone lacks the requester and the signer: say what check
	 * needs, and where a PEM goes. */
	const char *args[] = {"check", "--config", POLICY, "tests/testdata/csr/good-ec-p256.pem",
	                      NULL};
	expect_usage(args,
	             "tests/testdata/csr/good-ec-p256.pem: this is PEM, not a "
	             "CertificateSigningRequest object");
	struct run r;
	run_bin(&r, NULL, args);
	cr_expect(strstr(r.err, "kubectl get csr NAME -o yaml") != NULL, "%s", r.err);
	cr_expect(strstr(r.err, "csr-approver inspect tests/testdata/csr/good-ec-p256.pem") != NULL,
	          "%s", r.err);
}

Test(cli, check_config_only)
{
	/* check --config alone validates the policy file: a preflight for
	 * Helm values and ConfigMaps. */
	struct run r;
	const char *a1[] = {"check", "--config", POLICY, NULL};
	run_bin(&r, NULL, a1);
	cr_expect_eq(r.status, 0, "stderr: %s", r.err);
	cr_expect_str_eq(r.out,
	                 POLICY
	                 ": 4 policies, clusterDomain cluster.local\n"
	                 "  workload-mtls: workload for example.com/workload-mtls\n"
	                 "  kubelet-serving: kubelet-serving for kubernetes.io/kubelet-serving\n"
	                 "  kubelet-client: kubelet-client for "
	                 "kubernetes.io/kube-apiserver-client-kubelet\n"
	                 "  self-service: client for kubernetes.io/kube-apiserver-client\n");
	const char *a2[] = {"check", "--config", "tests/fuzz/corpus/config/regex-stacked-plus.yaml",
	                    NULL};
	expect_usage(a2, "regex-stacked-plus.yaml:6: policies[0].dnsNameRegex: invalid regex");
}

Test(cli, inspect_says_what_it_got)
{
	const char *a1[] = {"inspect", "tests/testdata/objects/pod.json", NULL};
	expect_usage(a1, "pod.json: expected a CertificateSigningRequest, got Pod");
	const char *a2[] = {"inspect", POLICY, NULL};
	expect_usage(a2,
	             POLICY ": expected a CertificateSigningRequest, got an object without "
	                    "kind or spec (keys: clusterDomain, policies)");
	const char *a3[] = {"inspect", "tests/testdata/csr/not-pem.txt", NULL};
	expect_usage(a3,
	             "not-pem.txt: document 1: expected an object, got a string: \"this is "
	             "not a certificate request\"");
	const char *a4[] = {"inspect", "tests/testdata/csr/pem-certificate.pem", NULL};
	expect_usage(a4, "PEM block \"CERTIFICATE\", want \"CERTIFICATE REQUEST\"");
}

Test(cli, inspect_pem_and_object)
{
	struct run r;
	const char *a1[] = {"inspect", "tests/testdata/csr/good-ec-p256.pem", NULL};
	run_bin(&r, NULL, a1);
	cr_assert_eq(r.status, 0, "stderr: %s", r.err);
	json_t *o = json_loads(r.out, 0, NULL);
	cr_assert_not_null(o, "not JSON: %s", r.out);
	cr_expect_not_null(json_object_get(o, "publicKey"));
	cr_expect_not_null(json_object_get(o, "sans"));
	json_decref(o);

	const char *a2[] = {"inspect", CSROBJ("workload-good.yaml"), NULL};
	run_bin(&r, NULL, a2);
	cr_assert_eq(r.status, 0, "stderr: %s", r.err);
	o = json_loads(r.out, 0, NULL);
	cr_assert_not_null(o, "not JSON: %s", r.out);
	cr_expect_str_eq(json_string_value(json_object_get(o, "name")), "workload-good");
	cr_expect_str_eq(json_string_value(json_object_get(o, "username")),
	                 "system:serviceaccount:shop:web");
	cr_expect_str_eq(json_string_value(json_object_get(o, "status")), "Pending");
	json_t *sans = json_object_get(json_object_get(o, "request"), "sans");
	cr_expect_eq(json_array_size(sans), 3);
	json_decref(o);

	/* stdin */
	const char *a3[] = {"inspect", NULL};
	run_bin(&r, "tests/testdata/csr/good-ec-p256.pem", a3);
	cr_expect_eq(r.status, 0, "stderr: %s", r.err);
}

Test(cli, inspect_rejects_garbage)
{
	const char *a1[] = {"inspect", "tests/testdata/csr/sig-tampered.pem", NULL};
	struct run r;
	/* A bad signature still decodes: inspect reports, it does not judge. */
	run_bin(&r, NULL, a1);
	cr_expect_eq(r.status, 0, "stderr: %s", r.err);
	cr_expect(strstr(r.out, "\"verified\":false") != NULL, "%s", r.out);

	const char *a2[] = {"inspect", "tests/testdata/csr/pem-two-blocks.pem", NULL};
	expect_usage(a2, "pem-two-blocks.pem");
}

Test(cli, version_and_help)
{
	struct run r;
	const char *a1[] = {"version", NULL};
	run_bin(&r, NULL, a1);
	cr_expect_eq(r.status, 0);
	cr_expect(strncmp(r.out, "csr-approver ", 13) == 0, "%s", r.out);
	const char *libs[] = {"\nOpenSSL ", "\nlibcurl: libcurl/", "\njansson ", "\nlibyaml ",
	                      "\nlibmicrohttpd "};
	for (size_t i = 0; i < sizeof(libs) / sizeof(libs[0]); i++)
		cr_expect(strstr(r.out, libs[i]) != NULL, "version lacks %s: %s", libs[i] + 1,
		          r.out);
	const char *cmds[] = {"check", "inspect"};
	for (size_t i = 0; i < 2; i++) {
		const char *a[] = {cmds[i], "--help", NULL};
		run_bin(&r, NULL, a);
		cr_expect_eq(r.status, 0, "%s --help", cmds[i]);
		cr_expect(strstr(r.out, "Usage: csr-approver") != NULL, "%s", r.out);
	}
	const char *a2[] = {"--help", NULL};
	run_bin(&r, NULL, a2);
	cr_expect_eq(r.status, 0);
	cr_expect(strstr(r.out, "check") != NULL);

	/* version --help is help, not the version */
	const char *a3[] = {"version", "--help", NULL};
	run_bin(&r, NULL, a3);
	cr_expect_eq(r.status, 0);
	cr_expect(strncmp(r.out, "Usage: csr-approver version\n", 28) == 0, "%s", r.out);
	const char *a4[] = {"version", "extra", NULL};
	expect_usage(a4, "unexpected argument \"extra\"");
}

Test(cli, run_bad_flags_and_configuration_exit_2)
{
	/* As `run --help` says: 2 on bad flags or configuration, before any
	 * connection is tried. */
	const char *a1[] = {"run", "--no-such-flag", NULL};
	expect_usage(a1, "unknown flag --no-such-flag");
	const char *a2[] = {"run", "--kubeconfig", "/nonexistent/kubeconfig", NULL};
	expect_usage(a2, "kube config: /nonexistent/kubeconfig: No such file or directory");
	const char *a3[] = {"run", "--kubeconfig", POLICY, NULL};
	expect_usage(a3, "kube config: " POLICY);
	const char *a4[] = {"run", "--config", "/nonexistent/policy.yaml", NULL};
	expect_usage(a4, "/nonexistent/policy.yaml");
	const char *a5[] = {"run", "--config", "tests/fuzz/corpus/config/regex-stacked-plus.yaml",
	                    NULL};
	expect_usage(a5, "regex-stacked-plus.yaml:6: policies[0].dnsNameRegex");
	const char *a6[] = {"run", "--metrics-bind-address", "localhost", NULL};
	expect_usage(a6, "--metrics-bind-address: address localhost");
	const char *a7[] = {"run", "--health-probe-bind-address", ":70000", NULL};
	expect_usage(a7, "--health-probe-bind-address: address :70000");
	const char *a8[] = {"run", "--leader-elect-lease-duration", "soon", NULL};
	expect_usage(a8, "--leader-elect-lease-duration takes a duration");
	struct run r;
	const char *a9[] = {"run", "--help", NULL};
	run_bin(&r, NULL, a9);
	cr_expect_eq(r.status, 0);
	cr_expect(strstr(r.out, "2 on bad flags or configuration") != NULL, "%s", r.out);
}
