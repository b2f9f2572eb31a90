#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../../pkg/metrics/metrics.h"
#include "../../../pkg/util/util.h"

#define HIST_HEAD                                                                                  \
	"# HELP csr_approver_decision_duration_seconds Time from the watch event of a "            \
	"CertificateSigningRequest to its approval write returning.\n"                             \
	"# TYPE csr_approver_decision_duration_seconds histogram\n"

#define DECISIONS_HEAD                                                                             \
	"# HELP csr_approver_decisions_total CertificateSigningRequests decided, by policy, "      \
	"decision and reason.\n"                                                                   \
	"# TYPE csr_approver_decisions_total counter\n"

#define API_HEAD                                                                                   \
	"# HELP csr_approver_api_requests_total Requests to the Kubernetes API server, by verb, "  \
	"resource and HTTP status code (0: no answer).\n"                                          \
	"# TYPE csr_approver_api_requests_total counter\n"

#define CONN_HEAD                                                                                  \
	"# HELP csr_approver_api_connections_opened_total Connections (TCP) opened to the API "    \
	"server.\n"                                                                                \
	"# TYPE csr_approver_api_connections_opened_total counter\n"

#define WATCH_HEAD                                                                                 \
	"# HELP csr_approver_watch_restarts_total Watches started again after they ended or "      \
	"failed, by resource.\n"                                                                   \
	"# TYPE csr_approver_watch_restarts_total counter\n"

#define CACHE_HEAD                                                                                 \
	"# HELP csr_approver_cache_objects Objects held in the local cache, by resource.\n"        \
	"# TYPE csr_approver_cache_objects gauge\n"

#define GOV_HEAD                                                                                      \
	"# HELP csr_approver_pending Pending CertificateSigningRequests and PodCertificateRequests, " \
	"by signer and age (lt1m, lt15m, lt1h, ge1h).\n"                                              \
	"# TYPE csr_approver_pending gauge\n"                                                         \
	"# HELP csr_approver_unmanaged CertificateSigningRequests under signers no policy covers, "   \
	"by signer.\n"                                                                                \
	"# TYPE csr_approver_unmanaged gauge\n"                                                       \
	"# HELP csr_approver_foreign_decisions_total CertificateSigningRequests of the configured "   \
	"signers decided by someone else, by signer and decision.\n"                                  \
	"# TYPE csr_approver_foreign_decisions_total counter\n"                                       \
	"# HELP csr_approver_certificates_issued_total Certificates issued by the built-in signer, "  \
	"by policy and kind (csr, pcr).\n"                                                            \
	"# TYPE csr_approver_certificates_issued_total counter\n"                                     \
	"# HELP csr_approver_certificate_expiry_earliest_timestamp_seconds The earliest notAfter "    \
	"of the certificates of a policy's signer that have not expired, in seconds since the "       \
	"epoch.\n"                                                                                    \
	"# TYPE csr_approver_certificate_expiry_earliest_timestamp_seconds gauge\n"                   \
	"# HELP csr_approver_certificates_expiring Certificates of a policy's signer that expire "    \
	"within 24h or 7d (and have not expired).\n"                                                  \
	"# TYPE csr_approver_certificates_expiring gauge\n"                                           \
	"# HELP csr_approver_audit_write_failures_total Audit log lines that could not be "           \
	"written.\n"                                                                                  \
	"# TYPE csr_approver_audit_write_failures_total counter\n"                                    \
	"csr_approver_audit_write_failures_total 0\n"

#define LEADER_HEAD                                                                                \
	"# HELP csr_approver_is_leader 1 when this instance holds the leader lease (or runs "      \
	"without leader election), else 0.\n"                                                      \
	"# TYPE csr_approver_is_leader gauge\n"

#define READY_HEAD                                                                                 \
	"# HELP csr_approver_ready 1 once the caches have synced and until shutdown begins (as "   \
	"/readyz), else 0.\n"                                                                      \
	"# TYPE csr_approver_ready gauge\n"

#define BUILD_HEAD                                                                                 \
	"# HELP csr_approver_build_info Always 1; the version label names the running build.\n"    \
	"# TYPE csr_approver_build_info gauge\n"

static struct metrics *new_registry(const char *version)
{
	struct metrics *m = metrics_new(version);
	metrics_set_proc_root(m, NULL);
	return m;
}

/* Does text hold this exact line? */
static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	for (const char *p = text; (p = strstr(p, line)) != NULL; p++)
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return true;
	return false;
}

static size_t count_prefix(const char *text, const char *prefix)
{
	size_t c = 0;
	const char *p = text;
	while (*p) {
		if (util_has_prefix(p, prefix))
			c++;
		const char *nl = strchr(p, '\n');
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	return c;
}

Test(metrics, empty_registry_renders_every_family)
{
	struct metrics *m = new_registry("v1.2.3");
	char *text = metrics_render(m);
	const char *want = DECISIONS_HEAD HIST_HEAD
	    "csr_approver_decision_duration_seconds_bucket{le=\"0.005\"} 0\n"
	    "csr_approver_decision_duration_seconds_bucket{le=\"0.01\"} 0\n"
	    "csr_approver_decision_duration_seconds_bucket{le=\"0.025\"} 0\n"
	    "csr_approver_decision_duration_seconds_bucket{le=\"0.05\"} 0\n"
	    "csr_approver_decision_duration_seconds_bucket{le=\"0.1\"} 0\n"
	    "csr_approver_decision_duration_seconds_bucket{le=\"0.25\"} 0\n"
	    "csr_approver_decision_duration_seconds_bucket{le=\"0.5\"} 0\n"
	    "csr_approver_decision_duration_seconds_bucket{le=\"1\"} 0\n"
	    "csr_approver_decision_duration_seconds_bucket{le=\"2.5\"} 0\n"
	    "csr_approver_decision_duration_seconds_bucket{le=\"5\"} 0\n"
	    "csr_approver_decision_duration_seconds_bucket{le=\"10\"} 0\n"
	    "csr_approver_decision_duration_seconds_bucket{le=\"30\"} 0\n"
	    "csr_approver_decision_duration_seconds_bucket{le=\"+Inf\"} 0\n"
	    "csr_approver_decision_duration_seconds_sum 0\n"
	    "csr_approver_decision_duration_seconds_count 0\n" API_HEAD CONN_HEAD
	    "csr_approver_api_connections_opened_total 0\n" WATCH_HEAD CACHE_HEAD GOV_HEAD
	        LEADER_HEAD "csr_approver_is_leader 0\n" READY_HEAD
	    "csr_approver_ready 0\n" BUILD_HEAD "csr_approver_build_info{version=\"v1.2.3\"} 1\n";
	cr_assert_str_eq(text, want);
	free(text);
	metrics_free(m);
}

Test(metrics, free_null_is_a_no_op)
{
	metrics_free(NULL);
}

Test(metrics, decisions_are_counted_and_sorted_by_labels)
{
	struct metrics *m = new_registry("dev");
	metrics_decision(m, "workload-mtls", "deny", "SANNotAllowed", -1);
	metrics_decision(m, "workload-mtls", "approve", "AutoApproved", -1);
	metrics_decision(m, "kubelet-serving", "approve", "AutoApproved", -1);
	metrics_decision(m, "workload-mtls", "approve", "AutoApproved", -1);
	char *text = metrics_render(m);
	const char *want = DECISIONS_HEAD
	    "csr_approver_decisions_total{policy=\"kubelet-serving\",decision=\"approve\",reason=\"AutoApproved\"} 1\n"
	    "csr_approver_decisions_total{policy=\"workload-mtls\",decision=\"approve\",reason=\"AutoApproved\"} 2\n"
	    "csr_approver_decisions_total{policy=\"workload-mtls\",decision=\"deny\",reason=\"SANNotAllowed\"} 1\n" HIST_HEAD;
	cr_assert(util_has_prefix(text, want), "got:\n%s", text);
	cr_assert_eq(metrics_decisions(m, "workload-mtls", "approve", "AutoApproved"), 2);
	cr_assert_eq(metrics_decisions(m, "workload-mtls", "deny", "SANNotAllowed"), 1);
	cr_assert_eq(metrics_decisions(m, "workload-mtls", "deny", "PodNotFound"), 0);
	cr_assert_eq(metrics_decisions(m, "other", "approve", "AutoApproved"), 0);
	/* A look-up creates nothing. */
	free(text);
	text = metrics_render(m);
	cr_assert_eq(count_prefix(text, "csr_approver_decisions_total{"), 3);
	free(text);
	metrics_free(m);
}

Test(metrics, label_values_are_escaped)
{
	struct metrics *m = new_registry("a\\b\"c\nd");
	metrics_decision(m, "p\"q", "deny", "back\\slash\nnew", -1);
	metrics_watch_restart(m, "pods\"");
	char *text = metrics_render(m);
	cr_assert(
	    has_line(
	        text,
	        "csr_approver_decisions_total{policy=\"p\\\"q\",decision=\"deny\",reason=\"back\\\\slash\\nnew\"} 1"),
	    "got:\n%s", text);
	cr_assert(has_line(text, "csr_approver_watch_restarts_total{resource=\"pods\\\"\"} 1"),
	          "got:\n%s", text);
	cr_assert(has_line(text, "csr_approver_build_info{version=\"a\\\\b\\\"c\\nd\"} 1"),
	          "got:\n%s", text);
	/* No raw newline inside a sample line: every line is a comment or a sample. */
	for (const char *p = text; *p;) {
		cr_assert(*p == '#' || util_has_prefix(p, "csr_approver_"), "stray line at: %.40s",
		          p);
		p = strchr(p, '\n') + 1;
	}
	free(text);
	metrics_free(m);
}

Test(metrics, null_label_value_is_empty)
{
	struct metrics *m = new_registry(NULL);
	metrics_decision(m, NULL, "skip", NULL, -1);
	char *text = metrics_render(m);
	cr_assert(
	    has_line(text,
	             "csr_approver_decisions_total{policy=\"\",decision=\"skip\",reason=\"\"} 1"),
	    "got:\n%s", text);
	cr_assert(has_line(text, "csr_approver_build_info{version=\"\"} 1"));
	cr_assert_eq(metrics_decisions(m, "", "skip", ""), 1);
	free(text);
	metrics_free(m);
}

Test(metrics, histogram_is_cumulative_with_inf_sum_and_count)
{
	struct metrics *m = new_registry("dev");
	metrics_decision(m, "p", "approve", "AutoApproved", 0.005); /* on a bound: counts in it */
	metrics_decision(m, "p", "approve", "AutoApproved", 0.02);
	metrics_decision(m, "p", "approve", "AutoApproved", 0.3);
	metrics_decision(m, "p", "approve", "AutoApproved", 2.5);
	metrics_decision(m, "p", "approve", "AutoApproved", 45); /* above every bound */
	metrics_decision(m, "p", "approve", "AutoApproved", -1); /* not observed */
	char *text = metrics_render(m);
	const char *want =
	    HIST_HEAD "csr_approver_decision_duration_seconds_bucket{le=\"0.005\"} 1\n"
	              "csr_approver_decision_duration_seconds_bucket{le=\"0.01\"} 1\n"
	              "csr_approver_decision_duration_seconds_bucket{le=\"0.025\"} 2\n"
	              "csr_approver_decision_duration_seconds_bucket{le=\"0.05\"} 2\n"
	              "csr_approver_decision_duration_seconds_bucket{le=\"0.1\"} 2\n"
	              "csr_approver_decision_duration_seconds_bucket{le=\"0.25\"} 2\n"
	              "csr_approver_decision_duration_seconds_bucket{le=\"0.5\"} 3\n"
	              "csr_approver_decision_duration_seconds_bucket{le=\"1\"} 3\n"
	              "csr_approver_decision_duration_seconds_bucket{le=\"2.5\"} 4\n"
	              "csr_approver_decision_duration_seconds_bucket{le=\"5\"} 4\n"
	              "csr_approver_decision_duration_seconds_bucket{le=\"10\"} 4\n"
	              "csr_approver_decision_duration_seconds_bucket{le=\"30\"} 4\n"
	              "csr_approver_decision_duration_seconds_bucket{le=\"+Inf\"} 5\n"
	              "csr_approver_decision_duration_seconds_sum 47.825\n"
	              "csr_approver_decision_duration_seconds_count 5\n" API_HEAD;
	cr_assert(strstr(text, want) != NULL, "got:\n%s", text);
	cr_assert_eq(metrics_decisions(m, "p", "approve", "AutoApproved"), 6);
	free(text);
	metrics_free(m);
}

Test(metrics, api_requests_watch_restarts_cache_and_leader)
{
	struct metrics *m = new_registry("dev");
	metrics_api_request(m, "PUT", "certificatesigningrequests/approval", 200);
	metrics_api_request(m, "PUT", "certificatesigningrequests/approval", 409);
	metrics_api_request(m, "PUT", "certificatesigningrequests/approval", 200);
	metrics_api_request(m, "GET", "leases", 0);
	metrics_api_connection_opened(m);
	metrics_api_connection_opened(m);
	metrics_watch_restart(m, "pods");
	metrics_watch_restart(m, "certificatesigningrequests");
	metrics_watch_restart(m, "pods");
	metrics_set_cache_objects(m, "pods", 12);
	metrics_set_cache_objects(m, "nodes", 3);
	metrics_set_cache_objects(m, "pods", 10);
	metrics_set_leader(m, true);
	char *text = metrics_render(m);
	const char *want = API_HEAD
	    "csr_approver_api_requests_total{verb=\"GET\",resource=\"leases\",code=\"0\"} 1\n"
	    "csr_approver_api_requests_total{verb=\"PUT\",resource=\"certificatesigningrequests/approval\",code=\"200\"} 2\n"
	    "csr_approver_api_requests_total{verb=\"PUT\",resource=\"certificatesigningrequests/approval\",code=\"409\"} 1\n" CONN_HEAD
	    "csr_approver_api_connections_opened_total 2\n" WATCH_HEAD
	    "csr_approver_watch_restarts_total{resource=\"certificatesigningrequests\"} 1\n"
	    "csr_approver_watch_restarts_total{resource=\"pods\"} 2\n" CACHE_HEAD
	    "csr_approver_cache_objects{resource=\"nodes\"} 3\n"
	    "csr_approver_cache_objects{resource=\"pods\"} 10\n" GOV_HEAD LEADER_HEAD
	    "csr_approver_is_leader 1\n" READY_HEAD "csr_approver_ready 0\n" BUILD_HEAD
	    "csr_approver_build_info{version=\"dev\"} 1\n";
	char *at = strstr(text, API_HEAD);
	cr_assert_not_null(at);
	cr_assert_str_eq(at, want);
	free(text);

	metrics_set_leader(m, false);
	text = metrics_render(m);
	cr_assert(has_line(text, "csr_approver_is_leader 0"));
	free(text);
	metrics_free(m);
}

Test(metrics, series_per_family_are_capped)
{
	struct metrics *m = new_registry("dev");
	char name[32];
	for (int i = 0; i < METRICS_MAX_SERIES + 10; i++) {
		snprintf(name, sizeof(name), "r%d", i);
		metrics_watch_restart(m, name);
	}
	/* Existing series still move once the cap is reached. */
	metrics_watch_restart(m, "r0");
	char *text = metrics_render(m);
	cr_assert_eq(count_prefix(text, "csr_approver_watch_restarts_total{"), METRICS_MAX_SERIES);
	cr_assert(has_line(text, "csr_approver_watch_restarts_total{resource=\"r0\"} 2"));
	cr_assert(!has_line(text, "csr_approver_watch_restarts_total{resource=\"r1005\"} 1"));
	free(text);
	metrics_free(m);
}

/* Criterion runs each case in a fresh process: no pointers in parameters. */
struct value_case {
	double v;
	char want[32];
};

ParameterizedTestParameters(metrics, format_value)
{
	static struct value_case cases[] = {
	    {0, "0"},
	    {1, "1"},
	    {-3, "-3"},
	    {0.1, "0.1"},
	    {0.005, "0.005"},
	    {2.5, "2.5"},
	    {47.825, "47.825"},
	    {123456789, "123456789"},
	    {1e21, "1e+21"},
	    {1e-9, "1e-09"},
	    {0.1 + 0.2, "0.30000000000000004"},
	    {4294967296.0, "4294967296"},
	};
	return cr_make_param_array(struct value_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct value_case *c, metrics, format_value)
{
	char out[40];
	metrics_format_value(out, sizeof(out), c->v);
	cr_assert_str_eq(out, c->want);
	cr_assert_eq(strtod(out, NULL), c->v);
}

Test(metrics, format_special_values)
{
	char out[40];
	metrics_format_value(out, sizeof(out), INFINITY);
	cr_assert_str_eq(out, "+Inf");
	metrics_format_value(out, sizeof(out), -INFINITY);
	cr_assert_str_eq(out, "-Inf");
	metrics_format_value(out, sizeof(out), NAN);
	cr_assert_str_eq(out, "NaN");
}

/* ------------------------------------------------------------------ /proc */

static void write_file(const char *dir, const char *name, const char *content)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f, "open %s", path);
	fputs(content, f);
	fclose(f);
}

static char *fake_proc(void)
{
	char tmpl[] = "/tmp/csr-approver-proc-XXXXXX";
	char *root = mkdtemp(tmpl);
	cr_assert_not_null(root);
	char path[512];
	snprintf(path, sizeof(path), "%s/self", root);
	cr_assert_eq(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/self/fd", root);
	cr_assert_eq(mkdir(path, 0700), 0);
	return util_xstrdup(root);
}

static void rm_fake_proc(const char *root)
{
	const char *files[] = {"self/fd/0", "self/fd/1",   "self/fd/2",   "self/fd/7",
	                       "self/stat", "self/status", "self/limits", "stat"};
	char path[512];
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", root, files[i]);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/self/fd", root);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/self", root);
	rmdir(path);
	rmdir(root);
}

/* A process named "a b) (c" with negative tpgid, priority and nice. */
#define FAKE_STAT                                                                                  \
	"4242 (a b) (c) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 150 0 0 -20 -5 3 0 12345 "       \
	"104857600 2560 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n"

Test(metrics, process_figures_from_a_proc_tree)
{
	char *root = fake_proc();
	write_file(root, "self/stat", FAKE_STAT);
	write_file(root, "self/status",
	           "Name:\ta b) (c\nVmPeak:\t  200000 kB\nVmRSS:\t    10240 kB\nThreads:\t3\n");
	write_file(
	    root, "self/limits",
	    "Limit                     Soft Limit           Hard Limit           Units     \n"
	    "Max cpu time              unlimited            unlimited            seconds   \n"
	    "Max open files            1024                 524288               files     \n");
	write_file(root, "stat", "cpu  1 2 3 4\nintr 5\nctxt 6\nbtime 1700000000\nprocesses 7\n");
	write_file(root, "self/fd/0", "");
	write_file(root, "self/fd/1", "");
	write_file(root, "self/fd/2", "");
	write_file(root, "self/fd/7", "");

	struct metrics_process p;
	cr_assert_eq(metrics_read_process(root, &p), 0);
	double tck = (double)sysconf(_SC_CLK_TCK);
	cr_assert(p.have_stat && p.have_rss && p.have_start_time && p.have_max_fds &&
	          p.have_open_fds);
	cr_assert_eq(p.cpu_seconds, 400 / tck);
	cr_assert_eq(p.virtual_memory_bytes, 104857600);
	cr_assert_eq(p.resident_memory_bytes, 10240.0 * 1024);
	cr_assert_eq(p.start_time_seconds, 1700000000 + 12345 / tck);
	cr_assert_eq(p.max_fds, 1024);
	cr_assert_eq(p.open_fds, 4);

	struct metrics *m = metrics_new("dev");
	metrics_set_proc_root(m, root);
	char *text = metrics_render(m);
	char cpu[40], start[40];
	metrics_format_value(cpu, sizeof(cpu), 400 / tck);
	metrics_format_value(start, sizeof(start), 1700000000 + 12345 / tck);
	char *want = util_xasprintf(
	    "csr_approver_build_info{version=\"dev\"} 1\n"
	    "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n"
	    "# TYPE process_cpu_seconds_total counter\n"
	    "process_cpu_seconds_total %s\n"
	    "# HELP process_open_fds Number of open file descriptors.\n"
	    "# TYPE process_open_fds gauge\n"
	    "process_open_fds 4\n"
	    "# HELP process_max_fds Maximum number of open file descriptors.\n"
	    "# TYPE process_max_fds gauge\n"
	    "process_max_fds 1024\n"
	    "# HELP process_virtual_memory_bytes Virtual memory size in bytes.\n"
	    "# TYPE process_virtual_memory_bytes gauge\n"
	    "process_virtual_memory_bytes 104857600\n"
	    "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
	    "# TYPE process_resident_memory_bytes gauge\n"
	    "process_resident_memory_bytes 10485760\n"
	    "# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.\n"
	    "# TYPE process_start_time_seconds gauge\n"
	    "process_start_time_seconds %s\n",
	    cpu, start);
	const char *at = strstr(text, "csr_approver_build_info{");
	cr_assert_not_null(at);
	cr_assert_str_eq(at, want);
	free(want);
	free(text);
	metrics_free(m);
	rm_fake_proc(root);
	free(root);
}

Test(metrics, unreadable_proc_figures_are_left_out)
{
	char *root = fake_proc();
	/* Truncated stat, status without VmRSS, limits without open files,
	 * stat without btime; only the fd count is readable. */
	write_file(root, "self/stat", "4242 (x) S 1 2 3\n");
	write_file(root, "self/status", "Name:\tx\n");
	write_file(root, "self/limits", "Limit Soft Hard\n");
	write_file(root, "stat", "cpu 1\n");
	struct metrics_process p;
	cr_assert_eq(metrics_read_process(root, &p), 0);
	cr_assert(!p.have_stat && !p.have_rss && !p.have_start_time && !p.have_max_fds);
	cr_assert(p.have_open_fds);
	cr_assert_eq(p.open_fds, 0);

	struct metrics *m = metrics_new("dev");
	metrics_set_proc_root(m, root);
	char *text = metrics_render(m);
	cr_assert_eq(count_prefix(text, "process_"), 1);
	cr_assert(has_line(text, "process_open_fds 0"));
	free(text);
	metrics_free(m);
	rm_fake_proc(root);
	free(root);

	cr_assert_eq(metrics_read_process("/nonexistent-proc", &p), -1);
}

Test(metrics, process_figures_of_this_process)
{
	struct metrics_process p;
	cr_assert_eq(metrics_read_process("/proc", &p), 0);
	cr_assert(p.have_stat && p.have_rss && p.have_start_time && p.have_max_fds &&
	          p.have_open_fds);
	cr_assert_gt(p.open_fds, 2);
	cr_assert_gt(p.max_fds, 0);
	cr_assert_gt(p.resident_memory_bytes, 0);
	cr_assert_geq(p.virtual_memory_bytes, p.resident_memory_bytes);
	double now = (double)time(NULL);
	cr_assert(p.start_time_seconds <= now + 1 && p.start_time_seconds > now - 86400,
	          "start %f now %f", p.start_time_seconds, now);

	struct metrics *m = metrics_new("dev");
	char *text = metrics_render(m);
	cr_assert_eq(count_prefix(text, "# TYPE process_"), 6);
	free(text);
	metrics_free(m);
}

/* ------------------------------------------------------------------ threads */

static void *hammer(void *arg)
{
	struct metrics *m = arg;
	for (int i = 0; i < 5000; i++) {
		metrics_decision(m, "p", "approve", "AutoApproved", 0.01);
		metrics_api_request(m, "GET", "pods", 200);
		if (i % 500 == 0)
			free(metrics_render(m));
	}
	return NULL;
}

Test(metrics, concurrent_updates_and_renders)
{
	struct metrics *m = new_registry("dev");
	pthread_t t[4];
	for (int i = 0; i < 4; i++)
		cr_assert_eq(pthread_create(&t[i], NULL, hammer, m), 0);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	cr_assert_eq(metrics_decisions(m, "p", "approve", "AutoApproved"), 20000);
	char *text = metrics_render(m);
	cr_assert(has_line(
	    text,
	    "csr_approver_api_requests_total{verb=\"GET\",resource=\"pods\",code=\"200\"} 20000"));
	cr_assert(has_line(text, "csr_approver_decision_duration_seconds_count 20000"));
	cr_assert(
	    has_line(text, "csr_approver_decision_duration_seconds_bucket{le=\"0.01\"} 20000"));
	cr_assert(has_line(text, "csr_approver_decision_duration_seconds_bucket{le=\"0.005\"} 0"));
	free(text);
	metrics_free(m);
}

/* ---- governance ---- */

Test(metrics, governance_counters)
{
	struct metrics *m = new_registry("v");
	metrics_foreign_decisions(m, "example.com/w", "approve", 1);
	metrics_foreign_decisions(m, "example.com/w", "approve", 1);
	metrics_foreign_decisions(m, "example.com/w", "deny", 1);
	metrics_foreign_decisions(m, "example.com/w", "fail", 0);
	metrics_set_ready(m, true);
	metrics_certificates_issued(m, "w", "csr", 0);
	metrics_certificates_issued(m, "w", "csr", 1);
	metrics_certificates_issued(m, "w", "pcr", 1);
	metrics_audit_failure(m);
	char *text = metrics_render(m);
	cr_expect(has_line(
	    text,
	    "csr_approver_foreign_decisions_total{signer=\"example.com/w\",decision=\"approve\"} 2"));
	cr_expect(has_line(
	    text,
	    "csr_approver_foreign_decisions_total{signer=\"example.com/w\",decision=\"deny\"} 1"));
	cr_expect(
	    has_line(text, "csr_approver_certificates_issued_total{policy=\"w\",kind=\"csr\"} 1"));
	cr_expect(
	    has_line(text, "csr_approver_certificates_issued_total{policy=\"w\",kind=\"pcr\"} 1"));
	cr_expect(has_line(text, "csr_approver_audit_write_failures_total 1"));
	cr_expect(has_line(
	    text,
	    "csr_approver_foreign_decisions_total{signer=\"example.com/w\",decision=\"fail\"} 0"));
	cr_expect(has_line(text, "csr_approver_ready 1"));
	free(text);
	metrics_free(m);
}

Test(metrics, inventory_gauges_are_replaced_whole)
{
	struct metrics *m = new_registry("v");
	struct metrics_pending p[2] = {{"example.com/w", {1, 0, 2, 0}}, {"other", {0, 0, 0, 3}}};
	struct metrics_count u[1] = {{"example.com/shadow", 4}};
	struct metrics_expiry x[2] = {{"w", true, 1785000000, 1, 2}, {"k", false, 0, 0, 0}};
	struct metrics_inventory inv = {p, 2, u, 1, x, 2};
	metrics_set_inventory(m, &inv);
	char *text = metrics_render(m);
	cr_expect(has_line(text, "csr_approver_pending{signer=\"example.com/w\",age=\"lt1m\"} 1"));
	cr_expect(has_line(text, "csr_approver_pending{signer=\"example.com/w\",age=\"lt15m\"} 0"));
	cr_expect(has_line(text, "csr_approver_pending{signer=\"example.com/w\",age=\"lt1h\"} 2"));
	cr_expect(has_line(text, "csr_approver_pending{signer=\"other\",age=\"ge1h\"} 3"));
	cr_expect_eq(count_prefix(text, "csr_approver_pending{"), 8);
	cr_expect(has_line(text, "csr_approver_unmanaged{signer=\"example.com/shadow\"} 4"));
	cr_expect(has_line(
	    text,
	    "csr_approver_certificate_expiry_earliest_timestamp_seconds{policy=\"w\"} 1785000000"));
	cr_expect_eq(
	    count_prefix(text, "csr_approver_certificate_expiry_earliest_timestamp_seconds{"), 1,
	    "no earliest series for a policy without certificates");
	cr_expect(
	    has_line(text, "csr_approver_certificates_expiring{policy=\"w\",within=\"24h\"} 1"));
	cr_expect(
	    has_line(text, "csr_approver_certificates_expiring{policy=\"w\",within=\"7d\"} 2"));
	cr_expect(
	    has_line(text, "csr_approver_certificates_expiring{policy=\"k\",within=\"7d\"} 0"));
	free(text);

	/* The next inventory has no shadow enrollments and no certificates:
	 * those series go away. */
	struct metrics_inventory inv2 = {p, 1, NULL, 0, &x[1], 1};
	metrics_set_inventory(m, &inv2);
	text = metrics_render(m);
	cr_expect_eq(count_prefix(text, "csr_approver_pending{"), 4);
	cr_expect_eq(count_prefix(text, "csr_approver_unmanaged{"), 0);
	cr_expect_eq(
	    count_prefix(text, "csr_approver_certificate_expiry_earliest_timestamp_seconds{"), 0);
	cr_expect_eq(count_prefix(text, "csr_approver_certificates_expiring{"), 2);
	free(text);
	metrics_free(m);
}
