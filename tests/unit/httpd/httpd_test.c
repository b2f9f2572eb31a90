#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "../../../pkg/httpd/httpd.h"
#include "../../../pkg/metrics/metrics.h"
#include "../../../pkg/util/util.h"

/* ------------------------------------------------------------------ a plain client */

struct reply {
	int status;
	char *head; /* status line and headers */
	char *body;
};

static void reply_free(struct reply *r)
{
	free(r->head);
	free(r->body);
}

/* Send raw request text to family/addr:port and read the whole answer
 * (Connection: close). Returns 0, or -1 when nothing could be read. */
static int http_raw(int family, const char *addr, int port, const char *request, struct reply *r)
{
	memset(r, 0, sizeof(*r));
	int fd = socket(family, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	struct timeval tv = {5, 0};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	int rc = -1;
	if (family == AF_INET) {
		struct sockaddr_in sa = {0};
		sa.sin_family = AF_INET;
		sa.sin_port = htons((uint16_t)port);
		inet_pton(AF_INET, addr, &sa.sin_addr);
		rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	} else {
		struct sockaddr_in6 sa = {0};
		sa.sin6_family = AF_INET6;
		sa.sin6_port = htons((uint16_t)port);
		inet_pton(AF_INET6, addr, &sa.sin6_addr);
		rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	}
	if (rc != 0) {
		close(fd);
		return -1;
	}
	size_t len = strlen(request);
	if (write(fd, request, len) != (ssize_t)len) {
		close(fd);
		return -1;
	}
	struct util_buf b = {0};
	char chunk[4096];
	ssize_t n;
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		util_buf_append(&b, chunk, (size_t)n);
	close(fd);
	if (b.len == 0)
		return -1;
	const char *all = util_buf_str(&b);
	const char *sep = strstr(all, "\r\n\r\n");
	if (sep == NULL || sscanf(all, "HTTP/1.%*d %d", &r->status) != 1) {
		util_buf_reset(&b);
		return -1;
	}
	r->head = util_xstrndup(all, (size_t)(sep - all) + 2);
	r->body = util_xstrdup(sep + 4);
	util_buf_reset(&b);
	return 0;
}

static int http_req(int family, const char *addr, int port, const char *method, const char *path,
                    struct reply *r)
{
	char *req = util_xasprintf("%s %s HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n",
	                           method, path);
	int rc = http_raw(family, addr, port, req, r);
	free(req);
	return rc;
}

static int http_get(int port, const char *path, struct reply *r)
{
	return http_req(AF_INET, "127.0.0.1", port, "GET", path, r);
}

/* The value of a response header (case-insensitive name), or NULL. Caller frees. */
static char *header(const struct reply *r, const char *name)
{
	size_t nl = strlen(name);
	for (const char *p = strstr(r->head, "\r\n"); p != NULL && p[2] != '\0';
	     p = strstr(p + 2, "\r\n")) {
		const char *line = p + 2;
		if (strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
			const char *v = line + nl + 1;
			while (*v == ' ')
				v++;
			const char *end = strstr(v, "\r\n");
			return util_xstrndup(v, end ? (size_t)(end - v) : strlen(v));
		}
	}
	return NULL;
}

static bool have_ipv6_loopback(void)
{
	int fd = socket(AF_INET6, SOCK_STREAM, 0);
	if (fd < 0)
		return false;
	struct sockaddr_in6 sa = {0};
	sa.sin6_family = AF_INET6;
	sa.sin6_addr = in6addr_loopback;
	bool ok = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

static size_t count_fds(void)
{
	size_t n = 0;
	DIR *d = opendir("/proc/self/fd");
	if (d == NULL)
		return 0;
	const struct dirent *e;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* ------------------------------------------------------------------ addresses */

struct addr_case {
	char addr[48];
	int ok;
	char host[48];
	int port;
};

ParameterizedTestParameters(httpd, parse_addr)
{
	static struct addr_case cases[] = {
	    {":8080", 1, "", 8080},
	    {":0", 1, "", 0},
	    {"0.0.0.0:8081", 1, "0.0.0.0", 8081},
	    {"127.0.0.1:0", 1, "127.0.0.1", 0},
	    {"[::]:8080", 1, "::", 8080},
	    {"[::1]:65535", 1, "::1", 65535},
	    {"[fe80::1%lo]:9000", 1, "fe80::1%lo", 9000},
	    {"localhost:8080", 1, "localhost", 8080},
	    {"", 0, "", 0},
	    {"8080", 0, "", 0},
	    {":", 0, "", 0},
	    {":65536", 0, "", 0},
	    {":-1", 0, "", 0},
	    {":+80", 0, "", 0},
	    {": 80", 0, "", 0},
	    {":80 ", 0, "", 0},
	    {":000080", 0, "", 0},
	    {"host:abc", 0, "", 0},
	    {"::1:80", 0, "", 0},
	    {"[::1]", 0, "", 0},
	    {"[::1]80", 0, "", 0},
	    {"[]:80", 0, "", 0},
	    {"[::1:80", 0, "", 0},
	};
	return cr_make_param_array(struct addr_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct addr_case *c, httpd, parse_addr)
{
	char host[64] = "unset", err[256] = "";
	int port = -7;
	int rc = httpd_parse_addr(c->addr, host, sizeof(host), &port, err, sizeof(err));
	if (c->ok) {
		cr_assert_eq(rc, 0, "%s: %s", c->addr, err);
		cr_assert_str_eq(host, c->host);
		cr_assert_eq(port, c->port);
	} else {
		cr_assert_eq(rc, -1, "%s parsed as host %s port %d", c->addr, host, port);
		cr_assert_neq(err[0], '\0');
	}
}

Test(httpd, parse_addr_host_too_long)
{
	char host[8], err[128];
	int port;
	cr_assert_eq(
	    httpd_parse_addr("verylonghostname:80", host, sizeof(host), &port, err, sizeof(err)),
	    -1);
	cr_assert(strstr(err, "too long") != NULL, "%s", err);
}

/* ------------------------------------------------------------------ serving */

Test(httpd, serves_probes_and_metrics)
{
	char err[256] = "";
	struct metrics *m = metrics_new("v9.9.9");
	metrics_decision(m, "workload-mtls", "approve", "AutoApproved", 0.02);
	struct httpd *h = httpd_start("127.0.0.1:0", m, err, sizeof(err));
	cr_assert_not_null(h, "%s", err);
	int port = httpd_port(h);
	cr_assert_gt(port, 0);
	struct reply r;

	cr_assert_eq(http_get(port, "/healthz", &r), 0);
	cr_assert_eq(r.status, 200);
	cr_assert_str_eq(r.body, "ok\n");
	reply_free(&r);

	cr_assert(!httpd_ready(h));
	cr_assert_eq(http_get(port, "/readyz", &r), 0);
	cr_assert_eq(r.status, 503);
	cr_assert_str_eq(r.body, "not ready\n");
	reply_free(&r);
	/* What it waits for, on one line. */
	httpd_set_not_ready(h, "caches not synced yet: pods,\nnodes");
	cr_assert(!httpd_ready(h));
	cr_assert_eq(http_get(port, "/readyz", &r), 0);
	cr_assert_eq(r.status, 503);
	cr_assert_str_eq(r.body, "not ready: caches not synced yet: pods, nodes\n");
	reply_free(&r);
	httpd_set_ready(h, true);
	cr_assert(httpd_ready(h));
	cr_assert_eq(http_get(port, "/readyz", &r), 0);
	cr_assert_eq(r.status, 200);
	cr_assert_str_eq(r.body, "ok\n");
	reply_free(&r);

	cr_assert_eq(http_get(port, "/metrics", &r), 0);
	cr_assert_eq(r.status, 200);
	char *ct = header(&r, "Content-Type");
	cr_assert_str_eq(ct, "text/plain; version=0.0.4; charset=utf-8");
	free(ct);
	cr_assert(strstr(r.body, "\ncsr_approver_build_info{version=\"v9.9.9\"} 1\n") != NULL, "%s",
	          r.body);
	cr_assert(
	    strstr(
	        r.body,
	        "\ncsr_approver_decisions_total{policy=\"workload-mtls\",decision=\"approve\",reason=\"AutoApproved\"} 1\n") !=
	    NULL);
	cr_assert(strstr(r.body, "\nprocess_open_fds ") != NULL);
	reply_free(&r);

	/* The registry is live: the next scrape sees the next decision. */
	metrics_decision(m, "workload-mtls", "approve", "AutoApproved", 0.02);
	cr_assert_eq(http_get(port, "/metrics?x=1", &r), 0);
	cr_assert_eq(r.status, 200);
	cr_assert(
	    strstr(
	        r.body,
	        "\ncsr_approver_decisions_total{policy=\"workload-mtls\",decision=\"approve\",reason=\"AutoApproved\"} 2\n") !=
	    NULL);
	reply_free(&r);

	cr_assert_eq(http_get(port, "/", &r), 0);
	cr_assert_eq(r.status, 404);
	reply_free(&r);
	cr_assert_eq(http_get(port, "/metricsx", &r), 0);
	cr_assert_eq(r.status, 404);
	reply_free(&r);

	httpd_stop(h);
	metrics_free(m);
}

Test(httpd, only_get_and_head)
{
	char err[256] = "";
	struct metrics *m = metrics_new("dev");
	struct httpd *h = httpd_start("127.0.0.1:0", m, err, sizeof(err));
	cr_assert_not_null(h, "%s", err);
	int port = httpd_port(h);
	struct reply r;

	const char *methods[] = {"POST", "PUT", "DELETE", "PATCH", "OPTIONS"};
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		cr_assert_eq(http_req(AF_INET, "127.0.0.1", port, methods[i], "/metrics", &r), 0);
		cr_assert_eq(r.status, 405, "%s", methods[i]);
		char *allow = header(&r, "Allow");
		cr_assert_str_eq(allow, "GET, HEAD");
		free(allow);
		reply_free(&r);
	}

	/* A request body is not read, and does not break the answer. */
	cr_assert_eq(http_raw(AF_INET, "127.0.0.1", port,
	                      "POST /healthz HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n"
	                      "Connection: close\r\n\r\nhello",
	                      &r),
	             0);
	cr_assert_eq(r.status, 405);
	reply_free(&r);

	cr_assert_eq(http_req(AF_INET, "127.0.0.1", port, "HEAD", "/metrics", &r), 0);
	cr_assert_eq(r.status, 200);
	cr_assert_str_eq(r.body, "");
	char *ct = header(&r, "Content-Type");
	cr_assert_str_eq(ct, HTTPD_METRICS_CONTENT_TYPE);
	free(ct);
	reply_free(&r);

	cr_assert_eq(http_req(AF_INET, "127.0.0.1", port, "HEAD", "/readyz", &r), 0);
	cr_assert_eq(r.status, 503);
	cr_assert_str_eq(r.body, "");
	reply_free(&r);

	httpd_stop(h);
	metrics_free(m);
}

Test(httpd, without_metrics_answers_404_on_metrics)
{
	char err[256] = "";
	struct httpd *h = httpd_start("127.0.0.1:0", NULL, err, sizeof(err));
	cr_assert_not_null(h, "%s", err);
	struct reply r;
	cr_assert_eq(http_get(httpd_port(h), "/metrics", &r), 0);
	cr_assert_eq(r.status, 404);
	reply_free(&r);
	cr_assert_eq(http_get(httpd_port(h), "/healthz", &r), 0);
	cr_assert_eq(r.status, 200);
	reply_free(&r);
	httpd_stop(h);
}

Test(httpd, all_interfaces_is_dual_stack)
{
	char err[256] = "";
	struct metrics *m = metrics_new("dev");
	struct httpd *h = httpd_start(":0", m, err, sizeof(err));
	cr_assert_not_null(h, "%s", err);
	int port = httpd_port(h);
	cr_assert_gt(port, 0);
	struct reply r;
	cr_assert_eq(http_req(AF_INET, "127.0.0.1", port, "GET", "/healthz", &r), 0);
	cr_assert_eq(r.status, 200);
	reply_free(&r);
	if (have_ipv6_loopback()) {
		cr_assert_eq(http_req(AF_INET6, "::1", port, "GET", "/healthz", &r), 0);
		cr_assert_eq(r.status, 200);
		reply_free(&r);
	}
	httpd_stop(h);

	h = httpd_start("[::]:0", m, err, sizeof(err));
	cr_assert_not_null(h, "%s", err);
	port = httpd_port(h);
	cr_assert_eq(http_req(AF_INET, "127.0.0.1", port, "GET", "/healthz", &r), 0);
	cr_assert_eq(r.status, 200);
	reply_free(&r);
	httpd_stop(h);
	metrics_free(m);
}

Test(httpd, ipv6_loopback)
{
	if (!have_ipv6_loopback())
		cr_skip_test("no IPv6 loopback here");
	char err[256] = "";
	struct httpd *h = httpd_start("[::1]:0", NULL, err, sizeof(err));
	cr_assert_not_null(h, "%s", err);
	struct reply r;
	cr_assert_eq(http_req(AF_INET6, "::1", httpd_port(h), "GET", "/healthz", &r), 0);
	cr_assert_eq(r.status, 200);
	reply_free(&r);
	/* Bound to ::1 only: not reachable over IPv4. */
	cr_assert_eq(http_req(AF_INET, "127.0.0.1", httpd_port(h), "GET", "/healthz", &r), -1);
	httpd_stop(h);
}

Test(httpd, bad_address_and_port_in_use)
{
	char err[256] = "";
	cr_assert_null(httpd_start("8080", NULL, err, sizeof(err)));
	cr_assert(strstr(err, "8080") != NULL, "%s", err);

	err[0] = '\0';
	cr_assert_null(httpd_start("no-such-host.invalid:80", NULL, err, sizeof(err)));
	cr_assert_neq(err[0], '\0');

	struct httpd *a = httpd_start("127.0.0.1:0", NULL, err, sizeof(err));
	cr_assert_not_null(a, "%s", err);
	char addr[32];
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", httpd_port(a));
	err[0] = '\0';
	cr_assert_null(httpd_start(addr, NULL, err, sizeof(err)));
	cr_assert(strstr(err, "in use") != NULL, "%s", err);
	cr_assert(strstr(err, addr) != NULL, "%s", err);
	httpd_stop(a);
}

Test(httpd, two_listeners_share_readiness)
{
	char err[256] = "";
	struct metrics *m = metrics_new("dev");
	struct httpd *h = httpd_start("127.0.0.1:0", m, err, sizeof(err));
	cr_assert_not_null(h, "%s", err);
	int p1 = httpd_port(h);
	int p2 = httpd_add_listener(h, "127.0.0.1:0", err, sizeof(err));
	/* The same string is the same listener. */
	cr_assert_eq(p2, p1);
	char addr[32];
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", p1);
	cr_assert_eq(httpd_add_listener(h, "localhost:0", err, sizeof(err)) > 0, true, "%s", err);
	p2 = httpd_add_listener(h, ":0", err, sizeof(err));
	cr_assert_gt(p2, 0, "%s", err);
	cr_assert_neq(p2, p1);
	/* The first listener's port, spelt out: a second bind, which fails
	 * and leaves the server as it was. */
	cr_assert_eq(httpd_add_listener(h, addr, err, sizeof(err)), -1);
	cr_assert(strstr(err, "in use") != NULL, "%s", err);
	cr_assert_eq(httpd_port(h), p1);

	struct reply r;
	cr_assert_eq(http_get(p2, "/readyz", &r), 0);
	cr_assert_eq(r.status, 503);
	reply_free(&r);
	httpd_set_ready(h, true);
	cr_assert_eq(http_get(p2, "/readyz", &r), 0);
	cr_assert_eq(r.status, 200);
	reply_free(&r);
	cr_assert_eq(http_get(p1, "/readyz", &r), 0);
	cr_assert_eq(r.status, 200);
	reply_free(&r);
	cr_assert_eq(http_get(p2, "/metrics", &r), 0);
	cr_assert_eq(r.status, 200);
	reply_free(&r);
	httpd_set_ready(h, false);
	cr_assert_eq(http_get(p1, "/readyz", &r), 0);
	cr_assert_eq(r.status, 503);
	reply_free(&r);

	httpd_stop(h);
	metrics_free(m);
}

Test(httpd, stop_releases_sockets_and_port)
{
	char err[256] = "";
	httpd_stop(NULL);
	size_t before = count_fds();
	struct httpd *h = httpd_start("127.0.0.1:0", NULL, err, sizeof(err));
	cr_assert_not_null(h, "%s", err);
	int port = httpd_port(h);
	cr_assert_gt(httpd_add_listener(h, "127.0.0.1:0", err, sizeof(err)), 0);
	cr_assert_gt(httpd_add_listener(h, "[::]:0", err, sizeof(err)), 0, "%s", err);
	struct reply r;
	cr_assert_eq(http_get(port, "/healthz", &r), 0);
	reply_free(&r);
	httpd_stop(h);
	cr_assert_eq(count_fds(), before);
	/* The port can be bound again at once. */
	char addr[32];
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
	h = httpd_start(addr, NULL, err, sizeof(err));
	cr_assert_not_null(h, "%s", err);
	cr_assert_eq(httpd_port(h), port);
	httpd_stop(h);

	/* A failed start leaks nothing either. */
	cr_assert_null(httpd_start("256.0.0.1:0", NULL, err, sizeof(err)));
	cr_assert_eq(count_fds(), before);
}

Test(httpd, listener_limit)
{
	char err[256] = "";
	struct httpd *h = httpd_start("127.0.0.1:0", NULL, err, sizeof(err));
	cr_assert_not_null(h, "%s", err);
	char addr[32];
	for (int i = 1; i < HTTPD_MAX_LISTENERS; i++) {
		snprintf(addr, sizeof(addr), "127.0.0.%d:0", i + 1);
		cr_assert_gt(httpd_add_listener(h, addr, err, sizeof(err)), 0, "%s", err);
	}
	cr_assert_eq(httpd_add_listener(h, "127.0.0.99:0", err, sizeof(err)), -1);
	cr_assert(strstr(err, "too many") != NULL, "%s", err);
	httpd_stop(h);
}

/* A full scrape of a registry with every family in use, label values that
 * need escaping included. With CSR_APPROVER_METRICS_SAMPLE set, the body
 * is written there for tests/e2e/metrics-format.sh to check with a real
 * Prometheus parser. */
Test(httpd, served_metrics_sample)
{
	char err[256] = "";
	struct metrics *m = metrics_new("v0.1.0-3-gabcdef");
	metrics_decision(m, "workload-mtls", "approve", "AutoApproved", 0.012);
	metrics_decision(m, "workload-mtls", "deny", "SANNotAllowed", 0.3);
	metrics_decision(m, "kubelet-serving", "approve", "AutoApproved", 1.5);
	metrics_decision(m, "kubelet-client", "deny", "NotAuthorized", 45);
	metrics_decision(m, "odd \"name\" \\ with\nnewline", "deny", "InvalidRequest", -1);
	metrics_api_request(m, "PUT", "certificatesigningrequests/approval", 200);
	metrics_api_request(m, "PUT", "certificatesigningrequests/approval", 409);
	metrics_api_request(m, "LIST", "pods", 200);
	metrics_api_request(m, "WATCH", "certificatesigningrequests", 0);
	metrics_api_request(m, "POST", "subjectaccessreviews", 201);
	metrics_watch_restart(m, "pods");
	metrics_watch_restart(m, "certificatesigningrequests");
	metrics_set_cache_objects(m, "pods", 42);
	metrics_set_cache_objects(m, "services", 7);
	metrics_set_cache_objects(m, "nodes", 3);
	metrics_set_leader(m, true);
	metrics_foreign_decisions(m, "example.com/workload-mtls", "approve", 1);
	metrics_certificates_issued(m, "workload-mtls", "csr", 3);
	metrics_certificates_issued(m, "workload-mtls", "pcr", 0);
	metrics_audit_failure(m);
	metrics_set_ready(m, true);
	{
		struct metrics_pending p[2] = {{"example.com/workload-mtls", {1, 2, 0, 1}},
		                               {"example.com/shadow", {0, 0, 0, 2}}};
		struct metrics_count u[1] = {{"example.com/shadow", 2}};
		struct metrics_expiry x[1] = {{"workload-mtls", true, 1785000000, 1, 3}};
		struct metrics_inventory inv = {p, 2, u, 1, x, 1};
		metrics_set_inventory(m, &inv);
	}
	struct httpd *h = httpd_start("127.0.0.1:0", m, err, sizeof(err));
	cr_assert_not_null(h, "%s", err);
	struct reply r;
	cr_assert_eq(http_get(httpd_port(h), "/metrics", &r), 0);
	cr_assert_eq(r.status, 200);
	const char *names[] = {"csr_approver_decisions_total",
	                       "csr_approver_decision_duration_seconds",
	                       "csr_approver_api_requests_total",
	                       "csr_approver_watch_restarts_total",
	                       "csr_approver_cache_objects",
	                       "csr_approver_pending",
	                       "csr_approver_unmanaged",
	                       "csr_approver_foreign_decisions_total",
	                       "csr_approver_certificates_issued_total",
	                       "csr_approver_certificate_expiry_earliest_timestamp_seconds",
	                       "csr_approver_certificates_expiring",
	                       "csr_approver_audit_write_failures_total",
	                       "csr_approver_is_leader",
	                       "csr_approver_ready",
	                       "csr_approver_build_info",
	                       "process_cpu_seconds_total",
	                       "process_resident_memory_bytes",
	                       "process_virtual_memory_bytes",
	                       "process_open_fds",
	                       "process_max_fds",
	                       "process_start_time_seconds"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char *t = util_xasprintf("\n# TYPE %s ", names[i]);
		cr_assert(strstr(r.body, t) != NULL, "no %s in:\n%s", names[i], r.body);
		free(t);
	}
	const char *out = getenv("CSR_APPROVER_METRICS_SAMPLE");
	if (out != NULL && *out != '\0') {
		FILE *f = fopen(out, "w");
		cr_assert_not_null(f, "%s", out);
		fputs(r.body, f);
		cr_assert_eq(fclose(f), 0);
	}
	reply_free(&r);
	httpd_stop(h);
	metrics_free(m);
}
