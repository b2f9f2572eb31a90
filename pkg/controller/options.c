/*
 * controller: the flags of `csr-approver run`, and Go-style durations.
 *
 * Built with CSR_APPROVER_TEST_HOOKS (the test binary,
 * build/csr-approver-test), `run` also takes flags that make faults happen
 * on purpose for the integration suites; the release binary has none.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "../httpd/httpd.h"
#include "../kube/kube.h"
#include "../util/util.h"
#include "controller.h"

int controller_parse_duration(const char *s, int64_t *ms)
{
	return util_parse_duration(s, ms);
}

void controller_options_init(struct controller_options *o)
{
	memset(o, 0, sizeof(*o));
	o->lease_name = "csr-approver";
	o->lease_duration_ms = 15000;
	o->renew_deadline_ms = 10000;
	o->retry_period_ms = 2000;
	o->metrics_addr = ":8080";
	o->probe_addr = ":8081";
	o->log_format = LOG_FORMAT_JSON;
	o->log_level = LOG_INFO;
	o->missing_object_retry_ms = 30000;
	o->api_max_in_flight = KUBE_DEFAULT_MAX_IN_FLIGHT;
	o->api_read_coalesce_ms = KUBE_DEFAULT_READ_COALESCE_MS;
}

void controller_usage(FILE *f)
{
	fputs(
	    "Usage: csr-approver run [FLAGS]\n"
	    "\n"
	    "Watches CertificateSigningRequests and approves or denies every pending one\n"
	    "whose signerName has a policy, through the approval subresource. CSRs of\n"
	    "other signers, and CSRs already approved, denied or failed, are never touched.\n"
	    "\n"
	    "  --kubeconfig FILE        kubeconfig (default: in-cluster, then $KUBECONFIG,\n"
	    "                           then ~/.kube/config)\n"
	    "  --context NAME           kubeconfig context (default: current-context)\n"
	    "  --config FILE            the policy file (without it every CSR is skipped)\n"
	    "  --leader-elect[=BOOL]    elect one active instance through a Lease (default false)\n"
	    "  --leader-elect-namespace NS\n"
	    "                           the Lease's namespace (default: the in-cluster or\n"
	    "                           kubeconfig namespace, else \"default\")\n"
	    "  --leader-elect-resource-name NAME\n"
	    "                           the Lease's name (default csr-approver)\n"
	    "  --leader-elect-lease-duration D   (default 15s)\n"
	    "  --leader-elect-renew-deadline D   (default 10s)\n"
	    "  --leader-elect-retry-period D     (default 2s)\n"
	    "                           durations like 15s, 500ms, 1m30s; lease duration >\n"
	    "                           renew deadline > 1.2 x retry period\n"
	    "  --identity ID            this instance's name in the Lease and in Events\n"
	    "                           (default HOSTNAME_RANDOM)\n"
	    "  --metrics-bind-address ADDR       /metrics (default :8080; 0 disables)\n"
	    "  --health-probe-bind-address ADDR  /healthz, /readyz (default :8081; 0 disables)\n"
	    "  --dry-run[=BOOL]         decide and log, write nothing\n"
	    "  --audit-log FILE|-       append one JSON line per decision and per issuance\n"
	    "                           (docs/governance.md); '-' is stdout; reopened on\n"
	    "                           SIGHUP, for logrotate\n"
	    "  --missing-object-timeout D\n"
	    "                           how long a CSR whose pod or node is not there yet\n"
	    "                           is retried before it is denied (default 30s,\n"
	    "                           from 1s to 10m)\n"
	    "  --api-max-requests-in-flight N\n"
	    "                           API requests (approvals, reviews, reads; not\n"
	    "                           watches) in flight at once, from 1 to 64 (default\n"
	    "                           32); the next ones wait in order (Events until\n"
	    "                           no other request runs), none is dropped.\n"
	    "                           Over HTTP/1.1 at most 4 (one connection each)\n"
	    "  --api-read-coalescing D  when the connection to the API server wakes the\n"
	    "                           controller again this soon after the last time,\n"
	    "                           wait out the rest so one pass reads more: less\n"
	    "                           CPU in a burst, at most D more per response\n"
	    "                           (default 2ms, 0 off, at most 50ms)\n"
	    "  --api-http-version 2|1.1 2 (default): HTTP/2 when the API server offers it,\n"
	    "                           every request and watch on one connection, else\n"
	    "                           HTTP/1.1; 1.1: HTTP/1.1 only, one connection per\n"
	    "                           watch plus up to 4 for requests\n"
	    "  --log-format json|text   (default json)\n"
	    "  -v, --log-level LEVEL    error|warn|info|debug|trace or 0..4 (default info)\n"
	    "  -h, --help               this text\n"
	    "\n"
	    "Exit status: 0 after SIGTERM or SIGINT, 1 when it had to stop (leadership\n"
	    "lost, API unusable), 2 on bad flags or configuration.\n",
	    f);
}

static int parse_bool(const char *v, bool *out)
{
	if (v == NULL || strcmp(v, "true") == 0 || strcmp(v, "1") == 0 || strcmp(v, "t") == 0 ||
	    strcmp(v, "True") == 0 || strcmp(v, "TRUE") == 0) {
		*out = true;
		return 0;
	}
	if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0 || strcmp(v, "f") == 0 ||
	    strcmp(v, "False") == 0 || strcmp(v, "FALSE") == 0) {
		*out = false;
		return 0;
	}
	return -1;
}

enum {
	OPT_KUBECONFIG = 256,
	OPT_CONTEXT,
	OPT_CONFIG,
	OPT_LEADER_ELECT,
	OPT_LE_NAMESPACE,
	OPT_LE_NAME,
	OPT_LE_LEASE,
	OPT_LE_RENEW,
	OPT_LE_RETRY,
	OPT_IDENTITY,
	OPT_METRICS,
	OPT_PROBE,
	OPT_DRY_RUN,
	OPT_LOG_FORMAT,
	OPT_LOG_LEVEL,
	OPT_MISSING_RETRY,
	OPT_WRITE_DELAY,
	OPT_IDENTITY_DELAY,
	OPT_BUNDLE_RESYNC,
	OPT_AUDIT_LOG,
	OPT_API_MAX_IN_FLIGHT,
	OPT_API_HTTP_VERSION,
	OPT_API_READ_COALESCING,
};

/* Bounds of --missing-object-timeout: long enough for a watch to catch up,
 * short enough that a denial is not held back for long. */
#define MISSING_RETRY_MIN_MS 1000
#define MISSING_RETRY_MAX_MS 600000

/* A bind address is a flag value: a bad one is a usage error (exit 2), not
 * a failure found when the server starts. "0" disables. */
static int check_bind_address(const char *flag, const char *addr, char *err, size_t errlen)
{
	char host[256], inner[256];
	int port;
	if (addr == NULL || strcmp(addr, "0") == 0)
		return 0;
	if (httpd_parse_addr(addr, host, sizeof(host), &port, inner, sizeof(inner)) == 0)
		return 0;
	snprintf(err, errlen, "%s: %s", flag, inner);
	return -1;
}

int controller_options_parse(struct controller_options *o, int argc, char **argv, char *err,
                             size_t errlen)
{
	static const struct option opts[] = {
	    {"kubeconfig", required_argument, NULL, OPT_KUBECONFIG},
	    {"context", required_argument, NULL, OPT_CONTEXT},
	    {"config", required_argument, NULL, OPT_CONFIG},
	    {"leader-elect", optional_argument, NULL, OPT_LEADER_ELECT},
	    {"leader-elect-namespace", required_argument, NULL, OPT_LE_NAMESPACE},
	    {"leader-elect-resource-name", required_argument, NULL, OPT_LE_NAME},
	    {"leader-elect-lease-duration", required_argument, NULL, OPT_LE_LEASE},
	    {"leader-elect-renew-deadline", required_argument, NULL, OPT_LE_RENEW},
	    {"leader-elect-retry-period", required_argument, NULL, OPT_LE_RETRY},
	    {"identity", required_argument, NULL, OPT_IDENTITY},
	    {"metrics-bind-address", required_argument, NULL, OPT_METRICS},
	    {"health-probe-bind-address", required_argument, NULL, OPT_PROBE},
	    {"dry-run", optional_argument, NULL, OPT_DRY_RUN},
	    {"log-format", required_argument, NULL, OPT_LOG_FORMAT},
	    {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
	    {"missing-object-timeout", required_argument, NULL, OPT_MISSING_RETRY},
	    {"audit-log", required_argument, NULL, OPT_AUDIT_LOG},
	    {"api-max-requests-in-flight", required_argument, NULL, OPT_API_MAX_IN_FLIGHT},
	    {"api-http-version", required_argument, NULL, OPT_API_HTTP_VERSION},
	    {"api-read-coalescing", required_argument, NULL, OPT_API_READ_COALESCING},
#ifdef CSR_APPROVER_TEST_HOOKS
	    /* Test binary only: hold each approval write, hold back the
	     * identity watches' events, read the trust bundles again sooner. */
	    {"write-delay", required_argument, NULL, OPT_WRITE_DELAY},
	    {"identity-event-delay", required_argument, NULL, OPT_IDENTITY_DELAY},
	    {"bundle-resync", required_argument, NULL, OPT_BUNDLE_RESYNC},
#endif
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;
	int64_t *dur;
	int li = -1; /* getopt_long's index of the long flag just read */

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":hv:", opts, &li)) != -1) {
		const char *arg = optarg;
		switch (c) {
		case 'h':
			controller_usage(stdout);
			return 1;
		case OPT_KUBECONFIG:
			o->kubeconfig = arg;
			break;
		case OPT_CONTEXT:
			o->context = arg;
			break;
		case OPT_CONFIG:
			o->config_path = arg;
			break;
		case OPT_LEADER_ELECT:
			if (parse_bool(arg, &o->leader_elect) != 0) {
				snprintf(err, errlen,
				         "--leader-elect takes true or false, not \"%s\"", arg);
				return -1;
			}
			break;
		case OPT_DRY_RUN:
			if (parse_bool(arg, &o->dry_run) != 0) {
				snprintf(err, errlen, "--dry-run takes true or false, not \"%s\"",
				         arg);
				return -1;
			}
			break;
		case OPT_LE_NAMESPACE:
			o->lease_namespace = arg;
			break;
		case OPT_LE_NAME:
			o->lease_name = arg;
			break;
		case OPT_IDENTITY:
			if (arg[0] == '\0') {
				snprintf(err, errlen, "--identity must not be empty");
				return -1;
			}
			o->identity = arg;
			break;
		case OPT_METRICS:
			o->metrics_addr = arg;
			break;
		case OPT_AUDIT_LOG:
			if (arg[0] == '\0') {
				snprintf(err, errlen,
				         "--audit-log needs a file name, or - for stdout");
				return -1;
			}
			o->audit_log = arg;
			break;
		case OPT_PROBE:
			o->probe_addr = arg;
			break;
		case OPT_API_MAX_IN_FLIGHT: {
			char *end = NULL;
			long n = strtol(arg, &end, 10);
			if (arg[0] < '0' || arg[0] > '9' || *end != '\0' || n < 1 ||
			    n > KUBE_MAX_MAX_IN_FLIGHT) {
				snprintf(
				    err, errlen,
				    "--api-max-requests-in-flight takes a number from 1 to %d, "
				    "not \"%s\"",
				    KUBE_MAX_MAX_IN_FLIGHT, arg);
				return -1;
			}
			o->api_max_in_flight = n;
			break;
		}
		case OPT_API_HTTP_VERSION:
			if (strcmp(arg, "2") == 0) {
				o->api_http1 = false;
			} else if (strcmp(arg, "1.1") == 0) {
				o->api_http1 = true;
			} else {
				snprintf(err, errlen,
				         "--api-http-version takes 2 or 1.1, not \"%s\"", arg);
				return -1;
			}
			break;
		case OPT_LOG_FORMAT:
			if (log_format_flag(arg, &o->log_format, err, errlen) != 0)
				return -1;
			break;
		case 'v':
		case OPT_LOG_LEVEL:
			if (log_level_flag(c == 'v' ? "-v" : "--log-level", arg, &o->log_level, err,
			                   errlen) != 0)
				return -1;
			break;
		case OPT_LE_LEASE:
		case OPT_LE_RENEW:
		case OPT_LE_RETRY:
		case OPT_MISSING_RETRY:
		case OPT_WRITE_DELAY:
		case OPT_IDENTITY_DELAY:
		case OPT_BUNDLE_RESYNC:
		case OPT_API_READ_COALESCING:
			dur = c == OPT_LE_LEASE            ? &o->lease_duration_ms
			    : c == OPT_LE_RENEW            ? &o->renew_deadline_ms
			    : c == OPT_LE_RETRY            ? &o->retry_period_ms
			    : c == OPT_MISSING_RETRY       ? &o->missing_object_retry_ms
			    : c == OPT_WRITE_DELAY         ? &o->write_delay_ms
			    : c == OPT_API_READ_COALESCING ? &o->api_read_coalesce_ms
			    : c == OPT_BUNDLE_RESYNC       ? &o->bundle_resync_ms
			                                   : &o->identity_event_delay_ms;
			if (controller_parse_duration(arg, dur) != 0) {
				snprintf(
				    err, errlen,
				    "--%s takes a duration like 15s, 500ms or 1m30s, not \"%s\"",
				    opts[li].name, arg);
				return -1;
			}
			break;
		case ':':
			snprintf(err, errlen, "flag %s needs a value", argv[optind - 1]);
			return -1;
		default:
			if (optopt != 0 && optopt < 256)
				snprintf(err, errlen, "unknown flag -%c", optopt);
			else
				snprintf(err, errlen, "unknown flag %s", argv[optind - 1]);
			return -1;
		}
	}
	if (o->missing_object_retry_ms < MISSING_RETRY_MIN_MS ||
	    o->missing_object_retry_ms > MISSING_RETRY_MAX_MS) {
		snprintf(err, errlen, "--missing-object-timeout must be between 1s and 10m");
		return -1;
	}
	if (o->api_read_coalesce_ms < 0 || o->api_read_coalesce_ms > KUBE_MAX_READ_COALESCE_MS) {
		snprintf(err, errlen, "--api-read-coalescing must be between 0 and %dms",
		         KUBE_MAX_READ_COALESCE_MS);
		return -1;
	}
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument \"%s\" (run takes flags only)",
		         argv[optind]);
		return -1;
	}
	if (check_bind_address("--metrics-bind-address", o->metrics_addr, err, errlen) != 0 ||
	    check_bind_address("--health-probe-bind-address", o->probe_addr, err, errlen) != 0)
		return -1;
	if (o->leader_elect) {
		if (o->retry_period_ms <= 0 || o->renew_deadline_ms <= 0 ||
		    o->lease_duration_ms <= 0) {
			snprintf(err, errlen, "leader election durations must be positive");
			return -1;
		}
		if (o->lease_duration_ms <= o->renew_deadline_ms) {
			snprintf(err, errlen,
			         "--leader-elect-lease-duration must be greater than "
			         "--leader-elect-renew-deadline");
			return -1;
		}
		if (o->renew_deadline_ms * 10 <= o->retry_period_ms * 12) {
			snprintf(err, errlen,
			         "--leader-elect-renew-deadline must be greater than 1.2 x "
			         "--leader-elect-retry-period");
			return -1;
		}
		if (o->lease_name == NULL || o->lease_name[0] == '\0') {
			snprintf(err, errlen, "--leader-elect-resource-name must not be empty");
			return -1;
		}
	}
	return 0;
}
