#include "metrics.h"

#include <dirent.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../util/util.h"

/* Upper bounds of csr_approver_decision_duration_seconds (+Inf is implicit). */
static const double metrics_duration_buckets[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                  0.5,   1,    2.5,   5,    10,  30};
#define METRICS_NBUCKETS (sizeof(metrics_duration_buckets) / sizeof(metrics_duration_buckets[0]))

#define METRICS_MAX_LABELS 3
/* /proc files are small; anything larger is not what we expect. */
#define METRICS_PROC_MAX (256 * 1024)

struct metrics_series {
	char *values[METRICS_MAX_LABELS]; /* owned */
	double value;
};

struct metrics_family {
	const char *name;
	const char *help;
	const char *type;
	size_t nlabels;
	const char *labels[METRICS_MAX_LABELS];
	struct metrics_series *series; /* owned */
	size_t n, cap;
};

enum {
	FAM_DECISIONS,
	FAM_API_REQUESTS,
	FAM_WATCH_RESTARTS,
	FAM_CACHE_OBJECTS,
	FAM_PENDING,
	FAM_UNMANAGED,
	FAM_FOREIGN,
	FAM_ISSUED,
	FAM_EXPIRY_EARLIEST,
	FAM_EXPIRING,
	FAM_COUNT,
};

struct metrics {
	pthread_mutex_t mu;
	char *version; /* owned */
	char *proc_root; /* owned; NULL: no process_* figures */
	struct metrics_family fam[FAM_COUNT];
	uint64_t duration_buckets[METRICS_NBUCKETS]; /* not cumulative */
	uint64_t duration_count;
	double duration_sum;
	bool leader;
	bool ready;
	uint64_t audit_failures;
	uint64_t api_connections;
};

const char *const metrics_age_bucket_names[METRICS_AGE_BUCKETS] = {"lt1m", "lt15m", "lt1h", "ge1h"};

static const struct metrics_family metrics_family_defs[FAM_COUNT] = {
    [FAM_DECISIONS] = {"csr_approver_decisions_total",
                       "CertificateSigningRequests decided, by policy, decision and reason.",
                       "counter",
                       3,
                       {"policy", "decision", "reason"},
                       NULL,
                       0,
                       0},
    [FAM_API_REQUESTS] =
        {"csr_approver_api_requests_total",
         "Requests to the Kubernetes API server, by verb, resource and HTTP status code (0: no answer).",
         "counter",
         3,
         {"verb", "resource", "code"},
         NULL,
         0,
         0},
    [FAM_WATCH_RESTARTS] = {"csr_approver_watch_restarts_total",
                            "Watches started again after they ended or failed, by resource.",
                            "counter",
                            1,
                            {"resource"},
                            NULL,
                            0,
                            0},
    [FAM_CACHE_OBJECTS] = {"csr_approver_cache_objects",
                           "Objects held in the local cache, by resource.",
                           "gauge",
                           1,
                           {"resource"},
                           NULL,
                           0,
                           0},
    [FAM_PENDING] =
        {"csr_approver_pending",
         "Pending CertificateSigningRequests and PodCertificateRequests, by signer and age (lt1m, lt15m, lt1h, ge1h).",
         "gauge",
         2,
         {"signer", "age"},
         NULL,
         0,
         0},
    [FAM_UNMANAGED] = {"csr_approver_unmanaged",
                       "CertificateSigningRequests under signers no policy covers, by signer.",
                       "gauge",
                       1,
                       {"signer"},
                       NULL,
                       0,
                       0},
    [FAM_FOREIGN] =
        {"csr_approver_foreign_decisions_total",
         "CertificateSigningRequests of the configured signers decided by someone else, by signer and decision.",
         "counter",
         2,
         {"signer", "decision"},
         NULL,
         0,
         0},
    [FAM_ISSUED] = {"csr_approver_certificates_issued_total",
                    "Certificates issued by the built-in signer, by policy and kind (csr, pcr).",
                    "counter",
                    2,
                    {"policy", "kind"},
                    NULL,
                    0,
                    0},
    [FAM_EXPIRY_EARLIEST] =
        {"csr_approver_certificate_expiry_earliest_timestamp_seconds",
         "The earliest notAfter of the certificates of a policy's signer that have not expired, in seconds since the epoch.",
         "gauge",
         1,
         {"policy"},
         NULL,
         0,
         0},
    [FAM_EXPIRING] =
        {"csr_approver_certificates_expiring",
         "Certificates of a policy's signer that expire within 24h or 7d (and have not expired).",
         "gauge",
         2,
         {"policy", "within"},
         NULL,
         0,
         0},
};

struct metrics *metrics_new(const char *version)
{
	struct metrics *m = util_xcalloc(1, sizeof(*m));
	pthread_mutex_init(&m->mu, NULL);
	m->version = util_xstrdup(version ? version : "");
	m->proc_root = util_xstrdup("/proc");
	for (size_t i = 0; i < FAM_COUNT; i++)
		m->fam[i] = metrics_family_defs[i];
	return m;
}

void metrics_free(struct metrics *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < FAM_COUNT; i++) {
		struct metrics_family *f = &m->fam[i];
		for (size_t j = 0; j < f->n; j++)
			for (size_t k = 0; k < f->nlabels; k++)
				free(f->series[j].values[k]);
		free(f->series);
	}
	free(m->version);
	free(m->proc_root);
	pthread_mutex_destroy(&m->mu);
	free(m);
}

void metrics_set_proc_root(struct metrics *m, const char *root)
{
	pthread_mutex_lock(&m->mu);
	free(m->proc_root);
	m->proc_root = util_xstrdup(root);
	pthread_mutex_unlock(&m->mu);
}

/* The series of f with these label values; created at 0 when create is set
 * and there is room. NULL values count as "". Called with the lock held. */
static struct metrics_series *metrics_find(struct metrics_family *f, const char *const *values,
                                           bool create)
{
	for (size_t i = 0; i < f->n; i++) {
		size_t k = 0;
		for (; k < f->nlabels; k++)
			if (strcmp(f->series[i].values[k], values[k] ? values[k] : "") != 0)
				break;
		if (k == f->nlabels)
			return &f->series[i];
	}
	if (!create || f->n >= METRICS_MAX_SERIES)
		return NULL;
	if (f->n == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 8;
		f->series = util_xreallocarray(f->series, f->cap, sizeof(*f->series));
	}
	struct metrics_series *s = &f->series[f->n++];
	memset(s, 0, sizeof(*s));
	for (size_t k = 0; k < f->nlabels; k++)
		s->values[k] = util_xstrdup(values[k] ? values[k] : "");
	return s;
}

static void metrics_add(struct metrics *m, int fam, const char *const *values, double delta)
{
	pthread_mutex_lock(&m->mu);
	struct metrics_series *s = metrics_find(&m->fam[fam], values, true);
	if (s != NULL)
		s->value += delta;
	pthread_mutex_unlock(&m->mu);
}

void metrics_decision(struct metrics *m, const char *policy, const char *decision,
                      const char *reason, double seconds)
{
	const char *values[] = {policy, decision, reason};
	pthread_mutex_lock(&m->mu);
	struct metrics_series *s = metrics_find(&m->fam[FAM_DECISIONS], values, true);
	if (s != NULL)
		s->value += 1;
	if (seconds >= 0) {
		size_t i = 0;
		while (i < METRICS_NBUCKETS && seconds > metrics_duration_buckets[i])
			i++;
		if (i < METRICS_NBUCKETS)
			m->duration_buckets[i]++;
		m->duration_count++;
		m->duration_sum += seconds;
	}
	pthread_mutex_unlock(&m->mu);
}

void metrics_api_request(struct metrics *m, const char *verb, const char *resource, long code)
{
	char cs[24];
	snprintf(cs, sizeof(cs), "%ld", code);
	const char *values[] = {verb, resource, cs};
	metrics_add(m, FAM_API_REQUESTS, values, 1);
}

void metrics_api_connection_opened(struct metrics *m)
{
	pthread_mutex_lock(&m->mu);
	m->api_connections++;
	pthread_mutex_unlock(&m->mu);
}

void metrics_watch_restart(struct metrics *m, const char *resource)
{
	const char *values[] = {resource};
	metrics_add(m, FAM_WATCH_RESTARTS, values, 1);
}

void metrics_set_cache_objects(struct metrics *m, const char *resource, double n)
{
	const char *values[] = {resource};
	pthread_mutex_lock(&m->mu);
	struct metrics_series *s = metrics_find(&m->fam[FAM_CACHE_OBJECTS], values, true);
	if (s != NULL)
		s->value = n;
	pthread_mutex_unlock(&m->mu);
}

void metrics_foreign_decisions(struct metrics *m, const char *signer, const char *decision,
                               double n)
{
	const char *values[] = {signer, decision};
	metrics_add(m, FAM_FOREIGN, values, n);
}

void metrics_certificates_issued(struct metrics *m, const char *policy, const char *kind, double n)
{
	const char *values[] = {policy, kind};
	metrics_add(m, FAM_ISSUED, values, n);
}

void metrics_audit_failure(struct metrics *m)
{
	pthread_mutex_lock(&m->mu);
	m->audit_failures++;
	pthread_mutex_unlock(&m->mu);
}

/* Drop every series of f. Called with the lock held. */
static void metrics_family_clear(struct metrics_family *f)
{
	for (size_t j = 0; j < f->n; j++)
		for (size_t k = 0; k < f->nlabels; k++)
			free(f->series[j].values[k]);
	f->n = 0;
}

static void metrics_put_series(struct metrics_family *f, const char *const *values, double v)
{
	struct metrics_series *s = metrics_find(f, values, true);
	if (s != NULL)
		s->value = v;
}

void metrics_set_inventory(struct metrics *m, const struct metrics_inventory *inv)
{
	pthread_mutex_lock(&m->mu);
	metrics_family_clear(&m->fam[FAM_PENDING]);
	metrics_family_clear(&m->fam[FAM_UNMANAGED]);
	metrics_family_clear(&m->fam[FAM_EXPIRY_EARLIEST]);
	metrics_family_clear(&m->fam[FAM_EXPIRING]);
	for (size_t i = 0; i < inv->n_pending; i++)
		for (size_t a = 0; a < METRICS_AGE_BUCKETS; a++) {
			const char *values[] = {inv->pending[i].signer,
			                        metrics_age_bucket_names[a]};
			metrics_put_series(&m->fam[FAM_PENDING], values, inv->pending[i].n[a]);
		}
	for (size_t i = 0; i < inv->n_unmanaged; i++) {
		const char *values[] = {inv->unmanaged[i].label};
		metrics_put_series(&m->fam[FAM_UNMANAGED], values, inv->unmanaged[i].n);
	}
	for (size_t i = 0; i < inv->n_expiry; i++) {
		const struct metrics_expiry *e = &inv->expiry[i];
		const char *p1[] = {e->policy};
		const char *p24[] = {e->policy, "24h"};
		const char *p7[] = {e->policy, "7d"};
		if (e->has_earliest)
			metrics_put_series(&m->fam[FAM_EXPIRY_EARLIEST], p1, e->earliest);
		metrics_put_series(&m->fam[FAM_EXPIRING], p24, e->within_24h);
		metrics_put_series(&m->fam[FAM_EXPIRING], p7, e->within_7d);
	}
	pthread_mutex_unlock(&m->mu);
}

void metrics_set_ready(struct metrics *m, bool ready)
{
	pthread_mutex_lock(&m->mu);
	m->ready = ready;
	pthread_mutex_unlock(&m->mu);
}

void metrics_set_leader(struct metrics *m, bool leader)
{
	pthread_mutex_lock(&m->mu);
	m->leader = leader;
	pthread_mutex_unlock(&m->mu);
}

double metrics_decisions(struct metrics *m, const char *policy, const char *decision,
                         const char *reason)
{
	const char *values[] = {policy, decision, reason};
	double v = 0;
	pthread_mutex_lock(&m->mu);
	struct metrics_series *s = metrics_find(&m->fam[FAM_DECISIONS], values, false);
	if (s != NULL)
		v = s->value;
	pthread_mutex_unlock(&m->mu);
	return v;
}

/* ------------------------------------------------------------------ text format */

/* A sample value as Prometheus and Go print it: the shortest decimal that
 * reads back as the same double, or +Inf, -Inf, NaN. */
void metrics_format_value(char *out, size_t outlen, double v)
{
	if (isnan(v)) {
		snprintf(out, outlen, "NaN");
		return;
	}
	if (isinf(v)) {
		snprintf(out, outlen, "%s", v > 0 ? "+Inf" : "-Inf");
		return;
	}
	/* Whole numbers (counters, byte counts) in plain digits, not 1e+08. */
	if (v == floor(v) && fabs(v) < 9007199254740992.0) {
		snprintf(out, outlen, "%.0f", v);
		return;
	}
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(out, outlen, "%.*g", prec, v);
		if (strtod(out, NULL) == v)
			return;
	}
}

static void metrics_put_value(struct util_buf *b, double v)
{
	char s[40];
	metrics_format_value(s, sizeof(s), v);
	util_buf_puts(b, s);
}

/* Label values escape backslash, double quote and newline; HELP text
 * escapes backslash and newline only. */
static void metrics_put_escaped(struct util_buf *b, const char *s, bool quote)
{
	for (; *s; s++) {
		if (*s == '\\')
			util_buf_puts(b, "\\\\");
		else if (*s == '\n')
			util_buf_puts(b, "\\n");
		else if (*s == '"' && quote)
			util_buf_puts(b, "\\\"");
		else
			util_buf_putc(b, *s);
	}
}

static void metrics_put_header(struct util_buf *b, const char *name, const char *help,
                               const char *type)
{
	util_buf_printf(b, "# HELP %s ", name);
	metrics_put_escaped(b, help, false);
	util_buf_printf(b, "\n# TYPE %s %s\n", name, type);
}

/* One sample line; names and values of n labels (n may be 0). */
static void metrics_put_sample(struct util_buf *b, const char *name, size_t n,
                               const char *const *labels, const char *const *values, double v)
{
	util_buf_puts(b, name);
	if (n > 0) {
		util_buf_putc(b, '{');
		for (size_t k = 0; k < n; k++) {
			util_buf_printf(b, "%s%s=\"", k ? "," : "", labels[k]);
			metrics_put_escaped(b, values[k], true);
			util_buf_putc(b, '"');
		}
		util_buf_putc(b, '}');
	}
	util_buf_putc(b, ' ');
	metrics_put_value(b, v);
	util_buf_putc(b, '\n');
}

/* Unused label slots are NULL in every series of a family. */
static int metrics_series_cmp(const void *a, const void *b)
{
	const struct metrics_series *x = *(const struct metrics_series *const *)a;
	const struct metrics_series *y = *(const struct metrics_series *const *)b;
	for (size_t k = 0; k < METRICS_MAX_LABELS && x->values[k] && y->values[k]; k++) {
		int c = strcmp(x->values[k], y->values[k]);
		if (c != 0)
			return c;
	}
	return 0;
}

/* A family, its series sorted by label values so that output is stable.
 * Called with the lock held. */
static void metrics_put_family(struct util_buf *b, const struct metrics_family *f)
{
	metrics_put_header(b, f->name, f->help, f->type);
	if (f->n == 0)
		return;
	const struct metrics_series **order = util_xcalloc(f->n, sizeof(*order));
	for (size_t i = 0; i < f->n; i++)
		order[i] = &f->series[i];
	qsort(order, f->n, sizeof(*order), metrics_series_cmp);
	for (size_t i = 0; i < f->n; i++)
		metrics_put_sample(b, f->name, f->nlabels, f->labels,
		                   (const char *const *)order[i]->values, order[i]->value);
	free(order);
}

static void metrics_put_histogram(struct util_buf *b, const struct metrics *m)
{
	static const char *const le[] = {"le"};
	const char *name = "csr_approver_decision_duration_seconds";
	metrics_put_header(
	    b, name,
	    "Time from the watch event of a CertificateSigningRequest to its approval write returning.",
	    "histogram");
	uint64_t cum = 0;
	char bound[40];
	const char *values[1] = {bound};
	for (size_t i = 0; i < METRICS_NBUCKETS; i++) {
		cum += m->duration_buckets[i];
		metrics_format_value(bound, sizeof(bound), metrics_duration_buckets[i]);
		metrics_put_sample(b, "csr_approver_decision_duration_seconds_bucket", 1, le,
		                   values, (double)cum);
	}
	snprintf(bound, sizeof(bound), "+Inf");
	metrics_put_sample(b, "csr_approver_decision_duration_seconds_bucket", 1, le, values,
	                   (double)m->duration_count);
	metrics_put_sample(b, "csr_approver_decision_duration_seconds_sum", 0, NULL, NULL,
	                   m->duration_sum);
	metrics_put_sample(b, "csr_approver_decision_duration_seconds_count", 0, NULL, NULL,
	                   (double)m->duration_count);
}

/* ------------------------------------------------------------------ /proc */

static char *metrics_proc_read(const char *root, const char *file)
{
	char path[4096];
	char err[256];
	char *data = NULL;
	size_t len = 0;
	snprintf(path, sizeof(path), "%s/%s", root, file);
	if (util_read_file(path, METRICS_PROC_MAX, &data, &len, err, sizeof(err)) != 0)
		return NULL;
	if (data == NULL)
		data = util_xstrdup("");
	return data;
}

/* Parse an unsigned decimal at *p, skipping leading blanks; advances *p. */
static int metrics_parse_u64(const char **p, uint64_t *out)
{
	const char *s = *p;
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s < '0' || *s > '9')
		return -1;
	uint64_t v = 0;
	for (; *s >= '0' && *s <= '9'; s++) {
		unsigned d = (unsigned)(*s - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*p = s;
	*out = v;
	return 0;
}

int metrics_read_process(const char *root, struct metrics_process *out)
{
	char *stat = NULL, *status = NULL, *sysstat = NULL, *limits = NULL;
	uint64_t start_ticks = 0;
	memset(out, 0, sizeof(*out));
	long tck = sysconf(_SC_CLK_TCK);
	if (tck <= 0)
		tck = 100;

	/* /proc/self/stat: "pid (comm) state ..." where comm may hold spaces
	 * and parentheses, so fields are counted from the last ')'. Field 14
	 * is utime, 15 stime, 22 starttime, 23 vsize (1-based, as proc(5)). */
	stat = metrics_proc_read(root, "self/stat");
	const char *p = stat ? strrchr(stat, ')') : NULL;
	if (p != NULL) {
		uint64_t utime = 0, stime = 0, start = 0, vsize = 0;
		int got = 0;
		p++;
		/* Walk the blank-separated fields after comm; some of them
		 * (tpgid, priority, nice) may be negative, so only the four
		 * needed are parsed. */
		for (int field = 3; field <= 23; field++) {
			while (*p == ' ')
				p++;
			if (*p == '\0' || *p == '\n')
				break;
			uint64_t *dst = field == 14 ? &utime
			    : field == 15           ? &stime
			    : field == 22           ? &start
			    : field == 23           ? &vsize
			                            : NULL;
			if (dst != NULL) {
				if (metrics_parse_u64(&p, dst) != 0)
					break;
				got++;
			}
			while (*p != ' ' && *p != '\0' && *p != '\n')
				p++;
		}
		if (got == 4) {
			out->cpu_seconds = (double)(utime + stime) / (double)tck;
			out->virtual_memory_bytes = (double)vsize;
			start_ticks = start;
			out->have_stat = true;
		}
	}

	/* /proc/self/status: VmRSS in kB. */
	status = metrics_proc_read(root, "self/status");
	if (status != NULL) {
		const char *line = strstr(status, "\nVmRSS:");
		if (line == NULL && util_has_prefix(status, "VmRSS:"))
			line = status - 1;
		uint64_t kb;
		if (line != NULL) {
			const char *q = line + 7;
			if (metrics_parse_u64(&q, &kb) == 0) {
				out->resident_memory_bytes = (double)kb * 1024.0;
				out->have_rss = true;
			}
		}
	}

	/* /proc/stat: btime, the boot time in seconds since the epoch. */
	sysstat = metrics_proc_read(root, "stat");
	if (sysstat != NULL && out->have_stat) {
		const char *line = strstr(sysstat, "\nbtime ");
		uint64_t btime;
		if (line != NULL) {
			const char *q = line + 7;
			if (metrics_parse_u64(&q, &btime) == 0) {
				out->start_time_seconds =
				    (double)btime + (double)start_ticks / (double)tck;
				out->have_start_time = true;
			}
		}
	}

	/* /proc/self/limits: the soft limit of "Max open files". */
	limits = metrics_proc_read(root, "self/limits");
	if (limits != NULL) {
		const char *line = strstr(limits, "Max open files");
		uint64_t n;
		if (line != NULL) {
			const char *q = line + strlen("Max open files");
			if (metrics_parse_u64(&q, &n) == 0) {
				out->max_fds = (double)n;
				out->have_max_fds = true;
			}
		}
	}

	/* /proc/self/fd: one entry per open descriptor (the one reading the
	 * directory included, as other exporters count it). */
	char path[4096];
	snprintf(path, sizeof(path), "%s/self/fd", root);
	DIR *d = opendir(path);
	if (d != NULL) {
		const struct dirent *e;
		size_t n = 0;
		while ((e = readdir(d)) != NULL)
			if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
				n++;
		closedir(d);
		out->open_fds = (double)n;
		out->have_open_fds = true;
	}

	free(stat);
	free(status);
	free(sysstat);
	free(limits);
	return out->have_stat || out->have_rss || out->have_max_fds || out->have_open_fds ? 0 : -1;
}

static void metrics_put_gauge(struct util_buf *b, const char *name, const char *help,
                              const char *type, double v)
{
	metrics_put_header(b, name, help, type);
	metrics_put_sample(b, name, 0, NULL, NULL, v);
}

static void metrics_put_process(struct util_buf *b, const char *root)
{
	struct metrics_process p;
	metrics_read_process(root, &p);
	if (p.have_stat)
		metrics_put_gauge(b, "process_cpu_seconds_total",
		                  "Total user and system CPU time spent in seconds.", "counter",
		                  p.cpu_seconds);
	if (p.have_open_fds)
		metrics_put_gauge(b, "process_open_fds", "Number of open file descriptors.",
		                  "gauge", p.open_fds);
	if (p.have_max_fds)
		metrics_put_gauge(b, "process_max_fds", "Maximum number of open file descriptors.",
		                  "gauge", p.max_fds);
	if (p.have_stat)
		metrics_put_gauge(b, "process_virtual_memory_bytes",
		                  "Virtual memory size in bytes.", "gauge", p.virtual_memory_bytes);
	if (p.have_rss)
		metrics_put_gauge(b, "process_resident_memory_bytes",
		                  "Resident memory size in bytes.", "gauge",
		                  p.resident_memory_bytes);
	if (p.have_start_time)
		metrics_put_gauge(b, "process_start_time_seconds",
		                  "Start time of the process since unix epoch in seconds.", "gauge",
		                  p.start_time_seconds);
}

char *metrics_render(struct metrics *m)
{
	struct util_buf b = {0};
	char *root = NULL;

	pthread_mutex_lock(&m->mu);
	metrics_put_family(&b, &m->fam[FAM_DECISIONS]);
	metrics_put_histogram(&b, m);
	metrics_put_family(&b, &m->fam[FAM_API_REQUESTS]);
	metrics_put_gauge(&b, "csr_approver_api_connections_opened_total",
	                  "Connections (TCP) opened to the API server.", "counter",
	                  (double)m->api_connections);
	metrics_put_family(&b, &m->fam[FAM_WATCH_RESTARTS]);
	metrics_put_family(&b, &m->fam[FAM_CACHE_OBJECTS]);
	for (int f = FAM_PENDING; f <= FAM_EXPIRING; f++)
		metrics_put_family(&b, &m->fam[f]);
	metrics_put_gauge(&b, "csr_approver_audit_write_failures_total",
	                  "Audit log lines that could not be written.", "counter",
	                  (double)m->audit_failures);
	metrics_put_gauge(
	    &b, "csr_approver_is_leader",
	    "1 when this instance holds the leader lease (or runs without leader election), else 0.",
	    "gauge", m->leader ? 1 : 0);
	metrics_put_gauge(
	    &b, "csr_approver_ready",
	    "1 once the caches have synced and until shutdown begins (as /readyz), else 0.",
	    "gauge", m->ready ? 1 : 0);
	{
		static const char *const label[] = {"version"};
		const char *values[] = {m->version};
		metrics_put_header(&b, "csr_approver_build_info",
		                   "Always 1; the version label names the running build.", "gauge");
		metrics_put_sample(&b, "csr_approver_build_info", 1, label, values, 1);
	}
	root = util_xstrdup(m->proc_root);
	pthread_mutex_unlock(&m->mu);

	/* /proc is read outside the lock: it does not touch the registry. */
	if (root != NULL)
		metrics_put_process(&b, root);
	free(root);
	if (b.data == NULL)
		util_buf_puts(&b, "");
	return util_buf_take(&b);
}
