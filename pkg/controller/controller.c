/*
 * controller: `csr-approver run`: set-up, the informers, the loop,
 * readiness, leader election and shutdown. The steps of a CSR's path live
 * in the other files of this module (see internal.h).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <poll.h>

#include "../cache/cache.h"
#include "../httpd/httpd.h"
#include "../kube/kube.h"
#include "../leader/leader.h"
#include "../log/log.h"
#include "../metrics/metrics.h"
#include "../util/util.h"
#include "../watch/watch.h"
#include "controller.h"
#include "internal.h"

#define ERRLEN 512
/* How long writes in flight may take to finish after SIGTERM. */
#define SHUTDOWN_GRACE_MS 10000
/* Longest sleep of the loop. */
#define LOOP_MAX_WAIT_MS 1000

const char *const controller_res_names[RES_N] = {
    "certificatesigningrequests", "podcertificaterequests", "pods", "services", "nodes"};
static const char *const res_paths[RES_N] = {
    "/apis/certificates.k8s.io/v1/certificatesigningrequests",
    "/apis/certificates.k8s.io/v1/podcertificaterequests",
    "/api/v1/pods",
    "/api/v1/services",
    "/api/v1/nodes",
};

/* ---------------------------------------------------------------- setup */

static int setup_signals(struct controller *c)
{
	/* SIGHUP reopens the audit log (logrotate). */
	c->sigfd = util_signalfd(true);
	return c->sigfd >= 0 ? 0 : -1;
}

static void observe(void *ud, const char *verb, const char *resource, long code)
{
	struct controller *c = ud;
	metrics_api_request(c->metrics, verb, resource, code);
}

static void observe_conn(void *ud)
{
	struct controller *c = ud;
	metrics_api_connection_opened(c->metrics);
}

/*
 * The API client's write gate (kube_client_set_write_gate()). With leader
 * election on, no write but the elector's own (the Lease) leaves the
 * process unless the lease is held at that instant by the renew deadline
 * too. The loop checks the lease before each piece of work, but a write the
 * client holds back (a 429's Retry-After, a slot, an Event waiting behind
 * the decisions) is sent from inside the client's own pass, which may be
 * the first after the deadline passed (a process frozen or starved, its
 * renewals failing): the lease may be another instance's by then, and a
 * decision must never be written by two. Such a write ends unsent and its
 * CSR waits for whoever leads.
 */
static bool write_gate(void *ud, const char *method, const char *path)
{
	struct controller *c = ud;
	(void)method;
	if (c->leader == NULL)
		return true;
	return leader_own_path(c->leader, path) || leader_holds(c->leader, util_now_ms());
}

static char *make_identity(void)
{
	char host[256] = "";
	unsigned char rnd[4] = {0};
	if (gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0')
		snprintf(host, sizeof(host), "csr-approver");
	host[sizeof(host) - 1] = '\0';
	FILE *f = fopen("/dev/urandom", "rb");
	if (f != NULL) {
		if (fread(rnd, 1, sizeof(rnd), f) != sizeof(rnd))
			memset(rnd, 0, sizeof(rnd));
		fclose(f);
	}
	if (rnd[0] == 0 && rnd[1] == 0 && rnd[2] == 0 && rnd[3] == 0) {
		uint64_t t = (uint64_t)util_now_ms() ^ (uint64_t)getpid();
		memcpy(rnd, &t, sizeof(rnd));
	}
	return util_xasprintf("%s_%02x%02x%02x%02x", host, rnd[0], rnd[1], rnd[2], rnd[3]);
}

struct controller *controller_new(const struct controller_options *o, struct policy_set *set,
                                  char *err, size_t errlen)
{
	struct controller *c = util_xcalloc(1, sizeof(*c));
	char inner[ERRLEN];

	c->opt = *o;
	c->set = set;
	c->sigfd = -1;
	c->leading = !o->leader_elect;
	c->identity = o->identity ? util_xstrdup(o->identity) : make_identity();
	c->queue = controller_queue_new(CONTROLLER_QUEUE_BASE_MS, CONTROLLER_QUEUE_MAX_MS);
	/* Before any thread exists (the HTTP server's, libcurl's resolver):
	 * threads inherit the mask, and a thread that does not block SIGTERM
	 * would take it and die of it. */
	if (setup_signals(c) != 0) {
		snprintf(err, errlen, "signals: %s", strerror(errno));
		goto fail;
	}
	c->metrics = metrics_new(o->version ? o->version : "dev");

	if (kube_config_load(o->kubeconfig, o->context, &c->cfg, inner, sizeof(inner)) != 0) {
		snprintf(err, errlen, "kube config: %s", inner);
		goto fail;
	}
	c->client = kube_client_new(c->cfg, inner, sizeof(inner));
	if (c->client == NULL) {
		snprintf(err, errlen, "kube client: %s", inner);
		goto fail;
	}
	kube_client_set_observer(c->client, observe, c);
	kube_client_set_conn_observer(c->client, observe_conn, c);
	kube_client_set_max_in_flight(c->client, (size_t)o->api_max_in_flight);
	kube_client_set_read_coalescing(c->client, o->api_read_coalesce_ms);
	kube_client_set_log_protocol(c->client, true);
	kube_client_set_http_version(c->client, o->api_http1 ? KUBE_HTTP_1_1 : KUBE_HTTP_AUTO);
	if (o->leader_elect) {
		c->lease_ns = util_xstrdup(o->lease_namespace      ? o->lease_namespace
		                               : c->cfg->namespace ? c->cfg->namespace
		                                                   : "default");
		struct leader_config lc = {
		    .ns = c->lease_ns,
		    .name = o->lease_name,
		    .identity = c->identity,
		    .lease_duration_ms = o->lease_duration_ms,
		    .renew_deadline_ms = o->renew_deadline_ms,
		    .retry_period_ms = o->retry_period_ms,
		};
		if (leader_config_validate(&lc, inner, sizeof(inner)) != 0) {
			snprintf(err, errlen, "leader election: %s", inner);
			goto fail;
		}
		c->leader = leader_new(c->client, &lc);
		kube_client_set_write_gate(c->client, write_gate, c);
	}

	c->want[RES_CSR] = true;
	c->want[RES_PCR] = pcr_wanted(set);
	for (size_t i = 0; set != NULL && i < set->n_rules; i++) {
		if (set->rules[i].type == POLICY_TYPE_WORKLOAD)
			c->want[RES_POD] = c->want[RES_SVC] = true;
		else if (set->rules[i].type == POLICY_TYPE_KUBELET_SERVING)
			c->want[RES_NODE] = true;
	}
	for (int r = RES_POD; r < RES_N; r++) {
		c->cache[r] = cache_new();
		cache_lookup(c->cache[r], &c->lk[r]);
	}
	sign_setup(c);
	c->inv = inventory_new();
	if (auditlog_open(c, inner, sizeof(inner)) != 0) {
		snprintf(err, errlen, "--audit-log: %s", inner);
		goto fail;
	}
	/* Series of the policies exist from the start, at 0: increase() then
	 * sees the first foreign decision, the first certificate. */
	for (size_t i = 0; set != NULL && i < set->n_rules; i++) {
		static const char *const decisions[] = {"approve", "deny", "fail"};
		for (int d = 0; d < 3; d++)
			metrics_foreign_decisions(c->metrics, set->rules[i].signer_name,
			                          decisions[d], 0);
		if (set->rules[i].issue.enabled)
			metrics_certificates_issued(c->metrics, set->rules[i].name, "csr", 0);
		if (set->rules[i].pod_certificates)
			metrics_certificates_issued(c->metrics, set->rules[i].name, "pcr", 0);
	}

	/* One server: metrics and probes share handlers and readiness. */
	const char *addrs[2] = {o->metrics_addr, o->probe_addr};
	const char *flags[2] = {"--metrics-bind-address", "--health-probe-bind-address"};
	for (int i = 0; i < 2; i++) {
		if (addrs[i] == NULL || strcmp(addrs[i], "0") == 0 || addrs[i][0] == '\0')
			continue;
		bool ok;
		if (c->httpd == NULL) {
			c->httpd = httpd_start(addrs[i], c->metrics, inner, sizeof(inner));
			ok = c->httpd != NULL;
		} else {
			ok = httpd_add_listener(c->httpd, addrs[i], inner, sizeof(inner)) >= 0;
		}
		if (!ok) {
			snprintf(err, errlen, "%s %s: %s", flags[i], addrs[i], inner);
			goto fail;
		}
	}
	metrics_set_leader(c->metrics, c->leading);
	return c;
fail:
	controller_free(c);
	return NULL;
}

static void stop_informers(struct controller *c)
{
	for (int r = 0; r < RES_N; r++) {
		watch_informer_free(c->inf[r]);
		c->inf[r] = NULL;
	}
}

void controller_free(struct controller *c)
{
	if (c == NULL)
		return;
	c->stopping = true;
	httpd_stop(c->httpd);
	stop_informers(c);
	leader_free(c->leader);
	c->leader = NULL;
	/* Cancels what is still in flight; the callbacks see c->stopping. */
	kube_client_free(c->client);
	kube_config_free(c->cfg);
	store_clear(c);
	sign_free(c);
	inventory_free(c->inv);
	auditlog_close(c);
	identity_delay_free(c->delayed);
	controller_queue_free(c->queue);
	for (int r = 0; r < RES_N; r++)
		cache_free(c->cache[r]);
	metrics_free(c->metrics);
	policy_set_free(c->set);
	free(c->identity);
	free(c->lease_ns);
	if (c->sigfd >= 0)
		close(c->sigfd);
	free(c);
}

/* ---------------------------------------------------------------- loop */

static int start_informers(struct controller *c)
{
	const struct watch_informer_ops *const ops[RES_N] = {
	    &store_csr_ops, &pcr_ops, identity_ops(RES_POD), identity_ops(RES_SVC),
	    identity_ops(RES_NODE)};
	/* Every CSR, whatever its signer (no field selector, even with one
	 * policy): the governance metrics count those no policy covers
	 * (shadow enrollments) and those of our signers that someone else
	 * decided; the store keeps only what it decides. PodCertificateRequests
	 * only of our signers. */
	char *pcr_sel = pcr_selector(c->set);
	for (int r = 0; r < RES_N; r++) {
		if (!c->want[r])
			continue;
		c->inf[r] = watch_informer_new(c->client, controller_res_names[r], res_paths[r],
		                               r == RES_PCR ? pcr_sel : NULL, ops[r], c);
		if (c->inf[r] == NULL || watch_informer_start(c->inf[r]) != 0) {
			log_error("could not start informer", "resource", controller_res_names[r]);
			free(pcr_sel);
			return -1;
		}
	}
	free(pcr_sel);
	return 0;
}

static bool all_synced(const struct controller *c)
{
	for (int r = 0; r < RES_N; r++)
		if (c->want[r] && (c->inf[r] == NULL || !watch_informer_synced(c->inf[r])))
			return false;
	return true;
}

/* /readyz names the caches not synced yet. */
static void report_unsynced(struct controller *c)
{
	char why[HTTPD_MAX_REASON] = "caches not synced yet:";
	size_t n = strlen(why), first = n;
	for (int r = 0; r < RES_N && n < sizeof(why); r++)
		if (c->want[r] && (c->inf[r] == NULL || !watch_informer_synced(c->inf[r])))
			n += (size_t)snprintf(why + n, sizeof(why) - n, "%s %s",
			                      n > first ? "," : "", controller_res_names[r]);
	httpd_set_not_ready(c->httpd, why);
}

static void update_gauges(struct controller *c, int64_t now, bool force)
{
	if (!force && now - c->last_gauges_ms < 1000)
		return;
	c->last_gauges_ms = now;
	for (int r = 0; r < RES_N; r++) {
		if (c->inf[r] == NULL)
			continue;
		uint64_t n = watch_informer_restarts(c->inf[r]);
		for (; c->restarts_seen[r] < n; c->restarts_seen[r]++)
			metrics_watch_restart(c->metrics, controller_res_names[r]);
		uint64_t rl = watch_informer_relists(c->inf[r]);
		if (rl > c->relists_seen[r]) {
			char num[24];
			snprintf(num, sizeof(num), "%llu", (unsigned long long)rl);
			log_info("relisted after 410 Gone", "resource", controller_res_names[r],
			         "relists", num);
			c->relists_seen[r] = rl;
		}
	}
	metrics_set_cache_objects(c->metrics, "pods", (double)cache_count_pods(c->cache[RES_POD]));
	metrics_set_cache_objects(c->metrics, "services",
	                          (double)cache_count_services(c->cache[RES_SVC]));
	metrics_set_cache_objects(c->metrics, "nodes",
	                          (double)cache_count_nodes(c->cache[RES_NODE]));
	metrics_set_cache_objects(c->metrics, "certificatesigningrequests", (double)c->store.n);
	if (c->listed_once[RES_CSR])
		inventory_publish(c, (int64_t)time(NULL));
}

static int64_t min_deadline(int64_t a, int64_t b)
{
	if (a < 0)
		return b;
	if (b < 0)
		return a;
	return a < b ? a : b;
}

static void begin_shutdown(struct controller *c, const char *why)
{
	int64_t now = util_now_ms();
	char n[24];
	snprintf(n, sizeof(n), "%zu", c->n_state[CSR_ST_WRITING]);
	log_info("shutting down", "signal", why, "writes_in_flight", n);
	c->stopping = true;
	c->stop_deadline_ms = now + SHUTDOWN_GRACE_MS;
	stop_informers(c);
	metrics_set_ready(c->metrics, false);
	if (c->httpd != NULL)
		httpd_set_not_ready(c->httpd, "shutting down");
}

/* Is the lease still ours right now? Checked before each piece of work, so
 * that a process that was frozen past its renew deadline decides nothing
 * on waking. */
static bool still_leading(struct controller *c)
{
	if (c->leader == NULL)
		return true;
	leader_tick(c->leader, util_now_ms());
	return leader_is_leader(c->leader);
}

/* Read pending signals; returns the name of the last one that stops the
 * process, or NULL. SIGHUP sets *hup. */
static const char *read_signal(struct controller *c, bool *hup)
{
	struct signalfd_siginfo si;
	const char *name = NULL;
	while (read(c->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGHUP)
			*hup = true;
		else
			name = si.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT";
	}
	return name;
}

int controller_run(struct controller *c)
{
	int rc = 0;
	if (c->set == NULL || c->set->n_rules == 0)
		log_warn("no policies configured: every CSR is skipped, nothing will be decided");
	char nrules[24];
	snprintf(nrules, sizeof(nrules), "%zu", c->set ? c->set->n_rules : (size_t)0);
	log_info("starting", "server", c->cfg->server, "source", c->cfg->source, "identity",
	         c->identity, "policies", nrules, "dry_run", c->opt.dry_run ? "true" : "false");
	if (c->leader != NULL) {
		char dur[64];
		snprintf(dur, sizeof(dur), "%lld/%lld/%lld ms", (long long)c->opt.lease_duration_ms,
		         (long long)c->opt.renew_deadline_ms, (long long)c->opt.retry_period_ms);
		log_info("leader election on", "lease", c->opt.lease_name, "namespace", c->lease_ns,
		         "lease/renew/retry", dur);
	}
	if (start_informers(c) != 0)
		return 1;

	for (;;) {
		int64_t now = util_now_ms();
		int64_t next = c->leader != NULL ? leader_next_deadline(c->leader) : -1;
		if (!c->stopping) {
			for (int r = 0; r < RES_N; r++)
				if (c->inf[r] != NULL)
					next = min_deadline(
					    next, watch_informer_next_deadline(c->inf[r]));
			if (c->synced && c->leading)
				next = min_deadline(next, controller_queue_next_due(c->queue));
			if (c->synced && c->leading)
				next = min_deadline(next, store_release_held(c, now, false));
			next = min_deadline(next, sign_tick(c, now, c->synced && c->leading));
			next = min_deadline(next, identity_apply_delayed(c, now));
		} else {
			next = min_deadline(next, c->stop_deadline_ms);
		}
		int64_t wait = next < 0 ? LOOP_MAX_WAIT_MS : next - now;
		if (wait < 0)
			wait = 0;
		if (wait > LOOP_MAX_WAIT_MS)
			wait = LOOP_MAX_WAIT_MS;
		struct kube_pollfd pfd = {c->sigfd, POLLIN, 0};
		if (kube_client_run_once(c->client, &pfd, 1, (int)wait) != 0) {
			log_error("the API client failed");
			rc = 1;
			break;
		}
		now = util_now_ms();
		if (pfd.revents & POLLIN) {
			bool hup = false;
			const char *sig = read_signal(c, &hup);
			if (hup)
				auditlog_reopen(c);
			if (sig != NULL) {
				if (c->stopping) {
					log_warn("second signal: exiting now", "signal", sig);
					break;
				}
				begin_shutdown(c, sig);
			}
		}
		if (c->leader != NULL && !c->releasing) {
			leader_tick(c->leader, now);
			if (leader_lost(c->leader)) {
				/* Another instance may be deciding already: stop at
				 * once, and let the process be restarted. */
				log_error("leadership lost: exiting");
				metrics_set_leader(c->metrics, false);
				rc = 1;
				break;
			}
			bool leading = leader_is_leader(c->leader);
			if (leading != c->leading) {
				c->leading = leading;
				metrics_set_leader(c->metrics, leading);
				if (leading) {
					log_info("leading: deciding CSRs", "identity", c->identity);
					sign_leading(c);
				}
			}
		}
		if (c->stopping) {
			if (now >= c->stop_deadline_ms) {
				char n[24];
				snprintf(n, sizeof(n), "%zu", c->n_state[CSR_ST_WRITING]);
				log_warn("requests still in flight at the end of the grace period",
				         "writes_in_flight", n);
				break;
			}
			if (c->n_state[CSR_ST_WRITING] > 0 || c->others_inflight > 0)
				continue;
			/* Writes done: hand the lease over so a standby starts now. */
			if (c->leader != NULL && !c->releasing) {
				c->releasing = true;
				c->leading = false;
				metrics_set_leader(c->metrics, false);
				if (leader_release(c->leader))
					continue;
			}
			if (c->leader != NULL && leader_busy(c->leader))
				continue;
			break;
		}
		for (int r = 0; r < RES_N; r++)
			if (c->inf[r] != NULL)
				watch_informer_tick(c->inf[r], now);
		if (!c->synced && c->httpd != NULL)
			report_unsynced(c);
		if (!c->synced && all_synced(c)) {
			c->synced = true;
			char np[24], ns[24], nn[24], nc[24];
			snprintf(np, sizeof(np), "%zu", cache_count_pods(c->cache[RES_POD]));
			snprintf(ns, sizeof(ns), "%zu", cache_count_services(c->cache[RES_SVC]));
			snprintf(nn, sizeof(nn), "%zu", cache_count_nodes(c->cache[RES_NODE]));
			snprintf(nc, sizeof(nc), "%zu", c->store.n);
			log_info("caches synced", "pods", np, "services", ns, "nodes", nn,
			         "pending_csrs", nc);
			if (c->httpd != NULL)
				httpd_set_ready(c->httpd, true);
			metrics_set_ready(c->metrics, true);
			update_gauges(c, now, true);
		}
		identity_trim_heap(c);
		update_gauges(c, now, false);
		if (!c->synced || !c->leading)
			continue;
		if (!still_leading(c))
			continue;
		store_release_held(c, now, true);
		/* Bounded per iteration so the network keeps being served. */
		for (int i = 0; i < 256 && still_leading(c); i++) {
			char *name = controller_queue_pop(c->queue, now);
			if (name == NULL)
				break;
			reconcile(c, name);
			free(name);
		}
	}
	log_info("stopped");
	return rc;
}
