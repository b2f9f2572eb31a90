/*
 * report: `csr-approver report`: one paged LIST of CertificateSigningRequests
 * and one of PodCertificateRequests, the inventory and its summary.
 */
#include "internal.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "../config/config.h"
#include "../kube/kube.h"

#define ERRLEN 1024
/* Objects per page of a LIST. */
#define LIST_PAGE 500
/* Pages of one LIST, at most (with LIST_PAGE, more than REPORT_MAX_ROWS). */
#define LIST_MAX_PAGES 1000

enum {
	EXIT_OK = 0,
	EXIT_FINDINGS = 1,
	EXIT_USAGE = 2,
};

static void usage_report(FILE *f)
{
	fputs(
	    "Usage: csr-approver report [--kubeconfig FILE] [--context NAME] [--config FILE]\n"
	    "                           [-o table|json|csv] [--expiring D] [--pending-over D]\n"
	    "                           [--fail-on pending,unmanaged,foreign,expiring]\n"
	    "                           [-l SELECTOR]\n"
	    "\n"
	    "Lists every CertificateSigningRequest and PodCertificateRequest: who asked for\n"
	    "which names under which signer, who decided (a csr-approver policy, a person\n"
	    "with kubectl, another approver) and when, and the certificate's notAfter; then\n"
	    "a summary: pending by signer and age, requests under signers no policy covers\n"
	    "(shadow enrollments), requests of csr-approver's signers decided by someone\n"
	    "else, certificates expiring soon.\n"
	    "\n"
	    "  --kubeconfig FILE    kubeconfig (default: in-cluster, $KUBECONFIG, ~/.kube/config)\n"
	    "  --context NAME       kubeconfig context\n"
	    "  --config FILE        the policy file: which signers csr-approver decides\n"
	    "                       (default: $CSR_APPROVER_CONFIG, else\n"
	    "                       " REPORT_POLICY_FILE " when it exists; none: a\n"
	    "                       signer counts as csr-approver's when csr-approver decided\n"
	    "                       one of its requests, and the summary says coverage is\n"
	    "                       inferred)\n"
	    "  -o, --output FORMAT  table (default; fitted to the terminal, or to $COLUMNS),\n"
	    "                       json, or csv (the summary then goes to stderr)\n"
	    "  --expiring D         the window of \"expiring\" (default 7d; 30s, 15m, 24h, 7d, 1d12h)\n"
	    "  --pending-over D     pending longer than this is a finding (default 15m)\n"
	    "  --fail-on LIST       exit 1 when one of these findings exists: pending,\n"
	    "                       unmanaged, foreign, expiring, all (default: none)\n"
	    "  -h, --help           this text\n"
	    "\n"
	    "Exit status: 0 no finding of --fail-on, 1 such a finding, 2 bad usage or the API\n"
	    "could not be read. Needs get/list on certificatesigningrequests and\n"
	    "podcertificaterequests.\n",
	    f);
}

/* A duration with days: "7d", "1d12h", or a Go duration ("15m", "24h"). */
static int parse_days(const char *s, int64_t *seconds)
{
	int64_t ms = 0, days = 0;
	const char *p = s;
	while (*p >= '0' && *p <= '9')
		p++;
	if (*p == 'd' && p > s) {
		char num[24];
		if ((size_t)(p - s) >= sizeof(num))
			return -1;
		memcpy(num, s, (size_t)(p - s));
		num[p - s] = '\0';
		if (util_parse_int64(num, 0, 36500, &days) != 0)
			return -1;
		p++;
		if (*p != '\0' && util_parse_duration(p, &ms) != 0)
			return -1;
	} else if (util_parse_duration(s, &ms) != 0) {
		return -1;
	}
	*seconds = days * 86400 + ms / 1000;
	return 0;
}

/*
 * LIST path page by page into r. Returns 0; 1 when the resource is not
 * served (404); -1 with err.
 */
static int list_all(struct kube_client *kc, const char *path, const char *selector,
                    enum report_kind kind, struct report *r, char *err, size_t errlen)
{
	char *cont = NULL, *sel = NULL;
	int rc = -1;
	if (selector != NULL) {
		char *esc = kube_escape(selector);
		sel = util_xasprintf("&labelSelector=%s", esc);
		free(esc);
	}
	for (int page = 0; page < LIST_MAX_PAGES; page++) {
		char inner[ERRLEN];
		char *body = NULL, *url;
		json_t *doc;
		json_error_t jerr;
		if (cont != NULL) {
			char *esc = kube_escape(cont);
			url = util_xasprintf("%s?limit=%d%s&continue=%s", path, LIST_PAGE,
			                     sel ? sel : "", esc);
			free(esc);
		} else {
			url = util_xasprintf("%s?limit=%d%s", path, LIST_PAGE, sel ? sel : "");
		}
		long st =
		    kube_request_sync(kc, "GET", url, NULL, 0, NULL, &body, inner, sizeof(inner));
		free(url);
		if (st == 404 && page == 0) {
			free(body);
			rc = 1;
			goto out;
		}
		if (st != 200) {
			snprintf(err, errlen, "LIST %s: %sHTTP %ld: %.400s", path,
			         st == 403 ? "forbidden: " : "", st,
			         inner[0] ? inner : "no answer");
			free(body);
			goto out;
		}
		doc = json_loads(body ? body : "", 0, &jerr);
		free(body);
		if (!json_is_object(doc)) {
			snprintf(err, errlen, "LIST %s: the answer is not a JSON object: %s", path,
			         jerr.text);
			json_decref(doc);
			goto out;
		}
		size_t i;
		const json_t *item;
		json_array_foreach(json_object_get(doc, "items"), i, item)
		{
			if (report_add(r, kind, item, inner, sizeof(inner)) != 0)
				fprintf(stderr, "csr-approver report: %s: %s\n", path, inner);
		}
		const char *next = json_string_value(
		    json_object_get(json_object_get(doc, "metadata"), "continue"));
		free(cont);
		cont = next != NULL && next[0] != '\0' ? util_xstrdup(next) : NULL;
		json_decref(doc);
		if (cont == NULL) {
			rc = 0;
			goto out;
		}
	}
	snprintf(err, errlen, "LIST %s: more than %d pages", path, LIST_MAX_PAGES);
out:
	free(cont);
	free(sel);
	return rc;
}

const char *report_policy_path(const char *flag, const char *default_path)
{
	const char *env = getenv("CSR_APPROVER_CONFIG");
	if (flag != NULL)
		return flag;
	if (env != NULL && env[0] != '\0')
		return env;
	if (default_path != NULL && access(default_path, R_OK) == 0)
		return default_path;
	return NULL;
}

struct policy_set *report_policy_load(const char *flag, const char *default_path, const char *cmd,
                                      FILE *note, char *err, size_t errlen)
{
	const char *path = report_policy_path(flag, default_path);
	struct policy_set *set;
	if (path != NULL)
		return config_load_file(path, err, errlen);
	/* SPEC: "No file: no policies, and every CSR is skipped", as offline
	 * `check` without --config. */
	fprintf(note,
	        "csr-approver %s: no policy file found (--config, $CSR_APPROVER_CONFIG, %s): no "
	        "policies, so every CSR is skipped\n",
	        cmd, default_path ? default_path : "no default");
	set = util_xcalloc(1, sizeof(*set));
	set->cluster_domain = util_xstrdup("cluster.local");
	return set;
}

static unsigned terminal_width(void)
{
	struct winsize ws;
	const char *cols = getenv("COLUMNS");
	int64_t n;
	if (cols != NULL && util_parse_int64(cols, 20, 10000, &n) == 0)
		return (unsigned)n;
	if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	return 0; /* not a terminal: nothing is cut */
}

int report_main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"kubeconfig", required_argument, NULL, 'k'},
	    {"context", required_argument, NULL, 'x'},
	    {"config", required_argument, NULL, 'c'},
	    {"output", required_argument, NULL, 'o'},
	    {"expiring", required_argument, NULL, 'e'},
	    {"pending-over", required_argument, NULL, 'p'},
	    {"fail-on", required_argument, NULL, 'f'},
	    {"selector", required_argument, NULL, 'l'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *kubeconfig = NULL, *context = NULL, *config = NULL, *selector = NULL;
	enum report_format fmt = REPORT_TABLE;
	struct report_options o = {.expiring = 7 * 86400, .pending_over = 15 * 60};
	unsigned fail_on = 0;
	struct policy_set *set = NULL;
	struct kube_config *cfg = NULL;
	struct kube_client *kc = NULL;
	struct report *r = NULL;
	char err[ERRLEN] = "";
	char *out = NULL;
	int rc = EXIT_USAGE, c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":ho:l:", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			kubeconfig = optarg;
			break;
		case 'x':
			context = optarg;
			break;
		case 'l':
			selector = optarg;
			break;
		case 'c':
			config = optarg;
			break;
		case 'o':
			if (strcmp(optarg, "table") == 0 || strcmp(optarg, "wide") == 0) {
				fmt = REPORT_TABLE;
			} else if (strcmp(optarg, "json") == 0) {
				fmt = REPORT_JSON;
			} else if (strcmp(optarg, "csv") == 0) {
				fmt = REPORT_CSV;
			} else {
				fprintf(
				    stderr,
				    "csr-approver report: -o takes table, json or csv, not \"%s\"\n",
				    optarg);
				goto out;
			}
			break;
		case 'e':
		case 'p':
			if (parse_days(optarg, c == 'e' ? &o.expiring : &o.pending_over) != 0) {
				fprintf(
				    stderr,
				    "csr-approver report: %s takes a duration like 15m, 24h or 7d, "
				    "not \"%s\"\n",
				    c == 'e' ? "--expiring" : "--pending-over", optarg);
				goto out;
			}
			break;
		case 'f':
			if (report_parse_findings(optarg, &fail_on, err, sizeof(err)) != 0) {
				fprintf(stderr, "csr-approver report: --fail-on: %s\n", err);
				goto out;
			}
			break;
		case 'h':
			usage_report(stdout);
			rc = EXIT_OK;
			goto out;
		case ':':
			fprintf(stderr, "csr-approver report: flag %s needs a value (see --help)\n",
			        argv[optind - 1]);
			goto out;
		default:
			fprintf(stderr, "csr-approver report: unknown flag %s (see --help)\n",
			        argv[optind - 1]);
			goto out;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "csr-approver report: unexpected argument \"%s\" (see --help)\n",
		        argv[optind]);
		goto out;
	}
	/* Found as `why` finds it; none: coverage inferred, as the summary says. */
	config = report_policy_path(config, REPORT_POLICY_FILE);
	if (config != NULL) {
		set = config_load_file(config, err, sizeof(err));
		if (set == NULL) {
			fprintf(stderr, "csr-approver report: %s\n", err);
			goto out;
		}
	}
	if (kube_config_load(kubeconfig, context, &cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "csr-approver report: kube config: %s\n", err);
		goto out;
	}
	kc = kube_client_new(cfg, err, sizeof(err));
	if (kc == NULL) {
		fprintf(stderr, "csr-approver report: kube client: %s\n", err);
		goto out;
	}
	o.now = (int64_t)time(NULL);
	o.set = set;
	o.policy_file = set != NULL ? config : NULL;
	r = report_new(&o);
	if (list_all(kc, "/apis/certificates.k8s.io/v1/certificatesigningrequests", selector,
	             REPORT_CSR, r, err, sizeof(err)) != 0) {
		fprintf(stderr, "csr-approver report: %s\n",
		        err[0] ? err : "certificatesigningrequests are not served");
		goto out;
	}
	switch (list_all(kc, "/apis/certificates.k8s.io/v1/podcertificaterequests", selector,
	                 REPORT_PCR, r, err, sizeof(err))) {
	case 0:
		break;
	case 1:
		report_note(r, "podcertificaterequests (certificates.k8s.io/v1) are not served");
		break;
	default:
		fprintf(stderr, "csr-approver report: %s\n", err);
		goto out;
	}
	report_finish(r);
	out = report_render(r, fmt, fmt == REPORT_TABLE ? terminal_width() : 0);
	fputs(out, stdout);
	if (fmt == REPORT_CSV) {
		char *sum = report_summary_text(r);
		fputs(sum, stderr);
		free(sum);
	}
	if (fflush(stdout) != 0) {
		fprintf(stderr, "csr-approver report: could not write the output\n");
		goto out;
	}
	rc = (report_findings(r) & fail_on) != 0 ? EXIT_FINDINGS : EXIT_OK;
out:
	free(out);
	report_free(r);
	kube_client_free(kc);
	kube_config_free(cfg);
	policy_set_free(set);
	return rc;
}
