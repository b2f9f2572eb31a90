/*
 * csr-approver: flags, wiring and subcommands. Everything else lives in pkg/.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../../pkg/agent/agent.h"
#include "../../pkg/cache/cache.h"
#include "../../pkg/config/config.h"
#include "../../pkg/controller/controller.h"
#include "../../pkg/csr/csr.h"
#include "../../pkg/httpd/httpd.h"
#include "../../pkg/kobj/kobj.h"
#include "../../pkg/kube/kube.h"
#include "../../pkg/log/log.h"
#include "../../pkg/policy/policy.h"
#include "../../pkg/report/report.h"
#include "../../pkg/util/util.h"

#ifndef CSR_APPROVER_VERSION
#define CSR_APPROVER_VERSION "dev"
#endif
#ifndef CSR_APPROVER_COMMIT
#define CSR_APPROVER_COMMIT "unknown"
#endif

/* Exit statuses of `check` (SPEC.md). */
enum {
	EXIT_APPROVE = 0,
	EXIT_DENY = 1,
	EXIT_USAGE = 2,
	EXIT_SKIP = 3,
};

#define ERRLEN 1024

static void usage_main(FILE *f)
{
	fputs("Usage: csr-approver COMMAND [FLAGS]\n"
	      "\n"
	      "Approves or denies Kubernetes CertificateSigningRequests after checking every\n"
	      "name in them against the requester's real identity.\n"
	      "\n"
	      "Commands:\n"
	      "  run       the controller: watch CSRs, decide, approve or deny\n"
	      "  check     decide one CSR offline and print the decision as JSON\n"
	      "  inspect   decode a PEM CSR or a CertificateSigningRequest object as JSON\n"
	      "  report    inventory of CSRs and PodCertificateRequests: names, deciders,\n"
	      "            expiry; shadow enrollments and other findings\n"
	      "  why       why a CSR is (or would be) approved or denied, check by check\n"
	      "  bootstrap the pod-side agent: get, check, publish and renew a certificate\n"
	      "  version   print the version and the library versions\n"
	      "\n"
	      "Run 'csr-approver COMMAND --help' for a command's flags.\n",
	      f);
}

static void usage_check(FILE *f)
{
	fputs(
	    "Usage: csr-approver check [--config FILE] [--objects FILE]... [--authorize allow|deny]\n"
	    "                          [--respect-status] CSR_FILE\n"
	    "       csr-approver check --config FILE\n"
	    "       csr-approver check --kubeconfig FILE [--config FILE] CSR_NAME   (see 'why')\n"
	    "\n"
	    "Decides a CertificateSigningRequest offline, with the rules the controller uses,\n"
	    "and prints one JSON decision record on stdout:\n"
	    "  {\"decision\":\"approve|deny|skip\",\"reason\":...,\"message\":...,\"policy\":...,\"csr\":...}\n"
	    "A CSR that is already approved, denied or failed is decided again, as the policy\n"
	    "decides it now; the record then also holds \"alreadyDecided\" with the condition\n"
	    "it carries (type and reason). With only --config, checks the policy file and\n"
	    "prints what it holds.\n"
	    "\n"
	    "  CSR_FILE             a CertificateSigningRequest in YAML or JSON, as\n"
	    "                       'kubectl get csr NAME -o yaml' prints it ('-' for stdin);\n"
	    "                       for a bare PEM request use 'csr-approver inspect'\n"
	    "  --config FILE        the policy file (without it no policy applies: skip)\n"
	    "  --objects FILE       cluster state the decision may look at (Pods, Services,\n"
	    "                       Nodes): a List, a multi-document YAML stream or one\n"
	    "                       object, e.g. 'kubectl get pods,svc,nodes -A -o yaml';\n"
	    "                       repeatable. An object missing here is missing.\n"
	    "  --authorize allow|deny\n"
	    "                       the answer to every SubjectAccessReview (default deny)\n"
	    "  --respect-status     skip a CSR that is already decided, as the controller\n"
	    "                       does (reason AlreadyDecided)\n"
	    "  -h, --help           this text\n"
	    "\n"
	    "Exit status: 0 approve, 1 deny, 3 skip, 2 bad usage or unreadable input.\n",
	    f);
}

static void usage_inspect(FILE *f)
{
	fputs("Usage: csr-approver inspect [FILE|-]\n"
	      "\n"
	      "Decodes a PEM certificate request, or a CertificateSigningRequest object in\n"
	      "YAML or JSON, and prints what it holds as one JSON object: subject with string\n"
	      "types, key, signature algorithm and whether it verifies, attributes,\n"
	      "extensions and SANs. Reads stdin when FILE is '-' or absent.\n"
	      "\n"
	      "Exit status: 0 decoded, 2 unreadable or undecodable input.\n",
	      f);
}

static void usage_version(FILE *f)
{
	fputs("Usage: csr-approver version\n"
	      "\n"
	      "Prints the version and commit of csr-approver, then the versions of the\n"
	      "libraries it runs with (OpenSSL, libcurl, jansson, libyaml, libmicrohttpd).\n",
	      f);
}

static void put_json_string(struct util_buf *b, const char *s)
{
	if (s == NULL) {
		util_buf_puts(b, "null");
		return;
	}
	util_buf_putc(b, '"');
	util_buf_json_escape(b, s, strlen(s));
	util_buf_putc(b, '"');
}

/* Does the text look like PEM rather than a Kubernetes object? */
static bool looks_like_pem(const char *buf, size_t len)
{
	size_t i = 0;
	while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' || buf[i] == '\n'))
		i++;
	return len - i >= 5 && memcmp(buf + i, "-----", 5) == 0;
}

/*
 * Read a CSR object file into a request; *objp gets the object it came
 * from (caller json_decref()s). Returns NULL with err.
 */
static struct policy_request *load_request(const char *path, json_t **objp, char *err,
                                           size_t errlen)
{
	char *buf = NULL;
	size_t len = 0;
	json_t *obj = NULL;
	struct policy_request *req = NULL;
	char inner[ERRLEN];

	*objp = NULL;
	if (util_read_file(path, CONFIG_MAX_FILE, &buf, &len, err, errlen) != 0)
		goto out;
	if (looks_like_pem(buf, len)) {
		/* The PEM alone says neither who asked nor for which signer. */
		if (snprintf(err, errlen,
		             "%s: this is PEM, not a CertificateSigningRequest object: check "
		             "needs the object, which says who asked and for which signer "
		             "(kubectl get csr NAME -o yaml); to decode the PEM itself, run "
		             "'csr-approver inspect %s'",
		             path, path) >= (int)errlen)
			err[errlen - 1] = '\0';
		goto out;
	}
	obj = kobj_read_single(buf, len, strcmp(path, "-") == 0 ? "<stdin>" : path, err, errlen);
	if (obj == NULL)
		goto out;
	req = kobj_request_from_json(obj, inner, sizeof(inner));
	/* A message cut short is still a message. */
	if (req == NULL && snprintf(err, errlen, "%s: %s", path, inner) >= (int)errlen)
		err[errlen - 1] = '\0';
	if (req != NULL) {
		*objp = obj;
		obj = NULL;
	}
out:
	json_decref(obj);
	free(buf);
	return req;
}

/*
 * The decision a CSR already carries, for the record:
 * "alreadyDecided":{"type":"Denied","reason":"SANNotAllowed"}, from the
 * first Approved, Denied or Failed condition whose status is True, with
 * "certificate":true once one is issued. Nothing when it is undecided.
 */
static void put_already_decided(struct util_buf *b, const json_t *obj,
                                const struct policy_request *req)
{
	const json_t *conds = json_object_get(json_object_get(obj, "status"), "conditions");
	const json_t *c, *found = NULL;
	size_t i;

	if (!req->approved && !req->denied && !req->failed && !req->has_certificate)
		return;
	json_array_foreach(conds, i, c)
	{
		const char *type = json_string_value(json_object_get(c, "type"));
		const char *st = json_string_value(json_object_get(c, "status"));
		if (type == NULL || st == NULL || strcmp(st, "True") != 0)
			continue;
		if (strcmp(type, "Approved") == 0 || strcmp(type, "Denied") == 0 ||
		    strcmp(type, "Failed") == 0) {
			found = c;
			break;
		}
	}
	util_buf_puts(b, ",\"alreadyDecided\":{");
	if (found != NULL) {
		const char *reason = json_string_value(json_object_get(found, "reason"));
		util_buf_puts(b, "\"type\":");
		put_json_string(b, json_string_value(json_object_get(found, "type")));
		util_buf_puts(b, ",\"reason\":");
		put_json_string(b, reason ? reason : "");
	}
	if (req->has_certificate)
		util_buf_printf(b, "%s\"certificate\":true", found ? "," : "");
	util_buf_putc(b, '}');
}

/* `check --config FILE` alone: the file loads, and what it holds. */
static int check_config_only(const struct policy_set *set, const char *path)
{
	static const char *const types[] = {"workload", "kubelet-serving", "kubelet-client",
	                                    "client"};
	printf("%s: %zu %s, clusterDomain %s\n", path, set->n_rules,
	       set->n_rules == 1 ? "policy" : "policies", set->cluster_domain);
	for (size_t i = 0; i < set->n_rules; i++) {
		const struct policy_rule *r = &set->rules[i];
		printf("  %s: %s for %s\n", r->name,
		       (size_t)r->type < sizeof(types) / sizeof(types[0]) ? types[r->type] : "?",
		       r->signer_name);
	}
	return 0;
}

static int cmd_check(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"objects", required_argument, NULL, 'o'},
	    {"authorize", required_argument, NULL, 'a'},
	    {"respect-status", no_argument, NULL, 'r'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int rc = EXIT_USAGE;
	const char *config_path = NULL;
	bool authorize = false, respect_status = false;
	json_t *obj = NULL;
	struct util_strv objects = {0};
	struct policy_set *set = NULL;
	struct cache *cache = NULL;
	struct policy_request *req = NULL;
	struct csr_info *info = NULL;
	struct policy_decision d = {0};
	struct util_buf out = {0};
	char err[ERRLEN] = "";
	char decode_err[ERRLEN] = "";
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config_path = optarg;
			break;
		case 'o':
			util_strv_push(&objects, optarg);
			break;
		case 'a':
			if (strcmp(optarg, "allow") == 0) {
				authorize = true;
			} else if (strcmp(optarg, "deny") == 0) {
				authorize = false;
			} else {
				fprintf(
				    stderr,
				    "csr-approver check: --authorize takes allow or deny, not \"%s\"\n",
				    optarg);
				goto out;
			}
			break;
		case 'r':
			respect_status = true;
			break;
		case 'h':
			usage_check(stdout);
			rc = 0;
			goto out;
		default:
			usage_check(stderr);
			goto out;
		}
	}
	bool config_only = argc == optind && config_path != NULL && objects.n == 0;
	if (argc - optind != 1 && !config_only) {
		fprintf(stderr, "csr-approver check: expected exactly one CSR_FILE (see --help)\n");
		goto out;
	}

	if (config_path != NULL) {
		set = config_load_file(config_path, err, sizeof(err));
		if (set == NULL) {
			fprintf(stderr, "csr-approver check: %s\n", err);
			goto out;
		}
		if (config_only) {
			rc = check_config_only(set, config_path);
			goto out;
		}
	} else {
		set = util_xcalloc(1, sizeof(*set));
		set->cluster_domain = util_xstrdup("cluster.local");
	}
	cache = cache_new();
	for (size_t i = 0; i < objects.n; i++) {
		if (cache_load_objects(cache, objects.v[i], err, sizeof(err)) != 0) {
			fprintf(stderr, "csr-approver check: %s\n", err);
			goto out;
		}
	}
	req = load_request(argv[optind], &obj, err, sizeof(err));
	if (req == NULL) {
		fprintf(stderr, "csr-approver check: %s\n", err);
		goto out;
	}
	/* Replaying a decided CSR asks what the policy decides now: only the
	 * controller's view (--respect-status) skips it. The record says what
	 * it carries. */
	bool approved = req->approved, denied = req->denied, failed = req->failed,
	     issued = req->has_certificate;
	if (!respect_status)
		req->approved = req->denied = req->failed = req->has_certificate = false;
	if (csr_parse(req->request_pem, req->request_len, &info, decode_err, sizeof(decode_err)) !=
	    0)
		info = NULL;

	struct policy_lookup lookup;
	cache_lookup(cache, &lookup);
	/* Offline, --authorize is the answer to every review. */
	lookup.authorization = authorize ? POLICY_SAR_ALLOWED : POLICY_SAR_DENIED;
	lookup.authorization_for = NULL;
	if (policy_decide(set, req, info, info ? NULL : decode_err, &lookup, &d) != 0) {
		fprintf(stderr, "csr-approver check: internal error: could not decide\n");
		goto out;
	}

	const char *decision;
	switch (d.verdict) {
	case POLICY_APPROVE:
		decision = "approve";
		rc = EXIT_APPROVE;
		break;
	case POLICY_DENY:
		decision = "deny";
		rc = EXIT_DENY;
		break;
	case POLICY_SKIP:
		decision = "skip";
		rc = EXIT_SKIP;
		break;
	default:
		/* Offline every answer is known; a pending decision is a bug. */
		fprintf(stderr, "csr-approver check: internal error: decision left pending\n");
		rc = EXIT_USAGE;
		goto out;
	}
	util_buf_puts(&out, "{\"decision\":");
	put_json_string(&out, decision);
	util_buf_puts(&out, ",\"reason\":");
	put_json_string(&out, policy_reason_name(d.reason));
	util_buf_puts(&out, ",\"message\":");
	put_json_string(&out, d.message ? d.message : "");
	util_buf_puts(&out, ",\"policy\":");
	put_json_string(&out, d.policy);
	util_buf_puts(&out, ",\"csr\":");
	put_json_string(&out, req->name);
	if (d.leave_pending)
		util_buf_puts(&out, ",\"action\":\"leave-pending\"");
	req->approved = approved;
	req->denied = denied;
	req->failed = failed;
	req->has_certificate = issued;
	put_already_decided(&out, obj, req);
	util_buf_puts(&out, "}\n");
	fwrite(out.data, 1, out.len, stdout);
out:
	util_buf_reset(&out);
	policy_decision_clear(&d);
	csr_info_free(info);
	policy_request_free(req);
	cache_free(cache);
	policy_set_free(set);
	util_strv_free(&objects);
	json_decref(obj);
	return rc;
}

static void put_strv(struct util_buf *b, const struct util_strv *sv)
{
	util_buf_putc(b, '[');
	for (size_t i = 0; i < sv->n; i++) {
		if (i)
			util_buf_putc(b, ',');
		put_json_string(b, sv->v[i]);
	}
	util_buf_putc(b, ']');
}

static int cmd_inspect(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int rc = EXIT_USAGE;
	const char *path = "-";
	char *buf = NULL;
	size_t len = 0;
	json_t *obj = NULL;
	struct policy_request *req = NULL;
	struct csr_info *info = NULL;
	char *desc = NULL;
	struct util_buf out = {0};
	char err[ERRLEN] = "";
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'h') {
			usage_inspect(stdout);
			rc = 0;
			goto out;
		}
		usage_inspect(stderr);
		goto out;
	}
	if (argc - optind > 1) {
		fprintf(stderr, "csr-approver inspect: expected at most one FILE (see --help)\n");
		goto out;
	}
	if (argc - optind == 1)
		path = argv[optind];
	const char *name = strcmp(path, "-") == 0 ? "<stdin>" : path;
	if (util_read_file(path, CONFIG_MAX_FILE, &buf, &len, err, sizeof(err)) != 0) {
		fprintf(stderr, "csr-approver inspect: %s\n", err);
		goto out;
	}
	if (looks_like_pem(buf, len)) {
		if (csr_parse(buf, len, &info, err, sizeof(err)) != 0) {
			fprintf(stderr, "csr-approver inspect: %s: %s\n", name, err);
			goto out;
		}
		desc = csr_info_to_json(info);
		util_buf_puts(&out, desc);
	} else {
		obj = kobj_read_single(buf, len, name, err, sizeof(err));
		if (obj == NULL) {
			fprintf(stderr, "csr-approver inspect: %s\n", err);
			goto out;
		}
		char inner[ERRLEN];
		req = kobj_request_from_json(obj, inner, sizeof(inner));
		if (req == NULL) {
			fprintf(stderr, "csr-approver inspect: %s: %s\n", name, inner);
			goto out;
		}
		if (csr_parse(req->request_pem, req->request_len, &info, err, sizeof(err)) != 0) {
			fprintf(stderr, "csr-approver inspect: %s: spec.request: %s\n", name, err);
			goto out;
		}
		desc = csr_info_to_json(info);
		util_buf_puts(&out, "{\"name\":");
		put_json_string(&out, req->name);
		util_buf_puts(&out, ",\"signerName\":");
		put_json_string(&out, req->signer_name);
		util_buf_puts(&out, ",\"username\":");
		put_json_string(&out, req->username);
		util_buf_puts(&out, ",\"groups\":");
		put_strv(&out, &req->groups);
		util_buf_puts(&out, ",\"extra\":{");
		for (size_t i = 0; i < req->n_extra; i++) {
			if (i)
				util_buf_putc(&out, ',');
			put_json_string(&out, req->extra[i].key);
			util_buf_putc(&out, ':');
			put_strv(&out, &req->extra[i].values);
		}
		util_buf_puts(&out, "},\"usages\":");
		put_strv(&out, &req->usages);
		if (req->has_expiration)
			util_buf_printf(&out, ",\"expirationSeconds\":%lld",
			                (long long)req->expiration_seconds);
		util_buf_puts(&out, ",\"status\":");
		put_json_string(&out,
		                req->approved     ? "Approved"
		                    : req->denied ? "Denied"
		                    : req->failed ? "Failed"
		                                  : "Pending");
		util_buf_puts(&out, ",\"request\":");
		util_buf_puts(&out, desc);
		util_buf_putc(&out, '}');
	}
	util_buf_putc(&out, '\n');
	fwrite(out.data, 1, out.len, stdout);
	rc = 0;
out:
	util_buf_reset(&out);
	free(desc);
	csr_info_free(info);
	policy_request_free(req);
	json_decref(obj);
	free(buf);
	return rc;
}

static int cmd_run(int argc, char **argv)
{
	struct controller_options o;
	struct policy_set *set = NULL;
	struct controller *c = NULL;
	char err[ERRLEN] = "";
	int rc = EXIT_USAGE;

	controller_options_init(&o);
	o.version = CSR_APPROVER_VERSION;
	switch (controller_options_parse(&o, argc, argv, err, sizeof(err))) {
	case 0:
		break;
	case 1:
		return 0;
	default:
		fprintf(stderr, "csr-approver run: %s (see --help)\n", err);
		return EXIT_USAGE;
	}
	log_set_format(o.log_format);
	log_set_level(o.log_level);
	if (o.config_path != NULL) {
		set = config_load_file(o.config_path, err, sizeof(err));
		if (set == NULL) {
			fprintf(stderr, "csr-approver run: %s\n", err);
			goto out;
		}
	} else {
		set = util_xcalloc(1, sizeof(*set));
		set->cluster_domain = util_xstrdup("cluster.local");
	}
	/* A kubeconfig (or in-cluster config) that cannot be loaded is bad
	 * configuration: exit 2, as for a bad policy file. */
	struct kube_config *kc = NULL;
	if (kube_config_load(o.kubeconfig, o.context, &kc, err, sizeof(err)) != 0) {
		fprintf(stderr, "csr-approver run: kube config: %s\n", err);
		goto out;
	}
	kube_config_free(kc);
	c = controller_new(&o, set, err, sizeof(err));
	set = NULL; /* the controller owns it, or freed it */
	if (c == NULL) {
		fprintf(stderr, "csr-approver run: %s\n", err);
		rc = 1;
		goto out;
	}
	rc = controller_run(c);
out:
	controller_free(c);
	policy_set_free(set);
	return rc;
}

static int cmd_version(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'h') {
			usage_version(stdout);
			return 0;
		}
		usage_version(stderr);
		return EXIT_USAGE;
	}
	if (optind < argc) {
		fprintf(stderr, "csr-approver version: unexpected argument \"%s\" (see --help)\n",
		        argv[optind]);
		return EXIT_USAGE;
	}
	printf("csr-approver %s (commit %s)\n", CSR_APPROVER_VERSION, CSR_APPROVER_COMMIT);
	printf("%s\n", csr_library_version());
	printf("libcurl: %s\n", kube_library_version());
	printf("jansson %s\n", JANSSON_VERSION);
	printf("libyaml %s\n", config_library_version());
	printf("libmicrohttpd %s\n", httpd_library_version());
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage_main(stderr);
		return EXIT_USAGE;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
		usage_main(stdout);
		return 0;
	}
	if (strcmp(cmd, "run") == 0)
		return cmd_run(argc - 1, argv + 1);
	if (strcmp(cmd, "check") == 0) {
		/* Live: the CSR and its objects from the cluster (SPEC.md). */
		for (int i = 2; i < argc; i++)
			if (strcmp(argv[i], "--kubeconfig") == 0 ||
			    strncmp(argv[i], "--kubeconfig=", 13) == 0)
				return report_why_main(argc - 1, argv + 1, true);
		return cmd_check(argc - 1, argv + 1);
	}
	if (strcmp(cmd, "why") == 0)
		return report_why_main(argc - 1, argv + 1, false);
	if (strcmp(cmd, "report") == 0)
		return report_main(argc - 1, argv + 1);
	if (strcmp(cmd, "inspect") == 0)
		return cmd_inspect(argc - 1, argv + 1);
	if (strcmp(cmd, "bootstrap") == 0)
		return agent_main(argc - 1, argv + 1);
	if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0)
		return cmd_version(argc - 1, argv + 1);
	fprintf(stderr, "csr-approver: unknown command \"%s\" (see --help)\n", cmd);
	return EXIT_USAGE;
}
