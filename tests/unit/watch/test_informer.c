/*
 * The informer's restart machinery without an API server: pointed at a
 * closed local port, every request fails at once, so the jittered
 * exponential backoff, the choice between LIST and WATCH, the restart log
 * lines and the life cycle can be checked. Behaviour against a real server
 * (events, 410, paging) is in tests/integration/watch.sh.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../../pkg/log/log.h"
#include "../../../pkg/util/util.h"
#include "../support/closed_port.h"
#include "../../../pkg/watch/watch.h"

static char *logbuf;
static size_t loglen;
static FILE *log_fp;

static void capture_log(void)
{
	log_fp = open_memstream(&logbuf, &loglen);
	cr_assert_not_null(log_fp);
	log_set_stream(log_fp);
	log_set_format(LOG_FORMAT_JSON);
	log_set_level(LOG_INFO);
}

static const char *log_text(void)
{
	fflush(log_fp);
	return logbuf ? logbuf : "";
}

struct counts {
	int begins, items, ends, events;
};

static void c_begin(void *ud)
{
	((struct counts *)ud)->begins++;
}
static void c_item(void *ud, const json_t *o)
{
	(void)o;
	((struct counts *)ud)->items++;
}
static void c_end(void *ud)
{
	((struct counts *)ud)->ends++;
}
static void c_event(void *ud, enum watch_event_type t, const json_t *o)
{
	(void)t;
	(void)o;
	((struct counts *)ud)->events++;
}
static const struct watch_informer_ops ops = {c_begin, c_item, c_end, c_event};

/* Drive the loop until the informer waits for its timer; returns the delay. */
static int64_t until_waiting(struct kube_client *c, struct watch_informer *inf, uint64_t restarts)
{
	for (int i = 0; i < 400; i++) {
		if (watch_informer_restarts(inf) >= restarts)
			break;
		cr_assert_eq(kube_client_run_once(c, NULL, 0, 25), 0);
	}
	cr_assert_eq(watch_informer_restarts(inf), restarts, "restart %llu happened",
	             (unsigned long long)restarts);
	int64_t dl = watch_informer_next_deadline(inf);
	cr_assert_geq(dl, 0, "a timer is pending");
	return dl - util_now_ms();
}

Test(watch_informer, backoff_grows_with_jitter, .init = capture_log, .timeout = 30)
{
	char err[256];
	struct kube_config *cfg = test_closed_port_config();
	struct kube_client *c = kube_client_new(cfg, err, sizeof(err));
	struct counts n = {0};
	struct watch_informer *inf = watch_informer_new(c, "pods", "/api/v1/pods", NULL, &ops, &n);
	cr_assert_not_null(inf);
	cr_assert_eq(watch_informer_next_deadline(inf), -1, "nothing pending before start");
	cr_assert_eq(watch_informer_start(inf), 0);
	cr_assert_eq(watch_informer_start(inf), -1, "started once");
	cr_assert_str_eq(watch_informer_resource_version(inf), "");

	/* Backoff windows [base/2, base] for base 250, 500, 1000 ms. */
	static const int64_t base[] = {250, 500, 1000};
	for (size_t k = 0; k < 3; k++) {
		int64_t d = until_waiting(c, inf, k + 1);
		cr_assert_geq(d, base[k] / 2 - 30, "restart %zu: delay %lld", k + 1, (long long)d);
		cr_assert_leq(d, base[k], "restart %zu: delay %lld", k + 1, (long long)d);
		/* Nothing happens before the deadline... */
		watch_informer_tick(inf, util_now_ms());
		cr_assert_eq(watch_informer_restarts(inf), k + 1);
		/* ...and at it, the LIST starts again (never listed: LIST). */
		watch_informer_tick(inf, watch_informer_next_deadline(inf));
		cr_assert_eq(n.begins, (int)k + 2, "on_list_begin per LIST attempt");
	}
	cr_assert_not(watch_informer_synced(inf));
	cr_assert_eq(watch_informer_relists(inf), 0, "no 410, no relist");
	cr_assert_eq(n.ends, 0);
	cr_assert_eq(n.items, 0);
	const char *log = log_text();
	cr_assert_not_null(strstr(log, "\"msg\":\"watch restarting\""), "%s", log);
	cr_assert_not_null(strstr(log, "\"resource\":\"pods\""), "%s", log);
	cr_assert_not_null(strstr(log, "\"reason\":\"LIST failed: "), "%s", log);
	cr_assert_not_null(strstr(log, "\"next\":\"list\""), "%s", log);
	/* Freed with a request in flight: cancelled quietly. */
	watch_informer_free(inf);
	cr_assert_eq(kube_client_active(c), 0);
	kube_client_free(c);
	kube_config_free(cfg);
}

Test(watch_informer, start_at_rewatches, .init = capture_log, .timeout = 30)
{
	char err[256];
	struct kube_config *cfg = test_closed_port_config();
	struct kube_client *c = kube_client_new(cfg, err, sizeof(err));
	struct counts n = {0};
	struct watch_informer *inf =
	    watch_informer_new(c, "csr", "/apis/certificates.k8s.io/v1/certificatesigningrequests",
	                       "spec.signerName=example.com/x", &ops, &n);
	cr_assert_eq(watch_informer_start_at(inf, ""), -1);
	cr_assert_eq(watch_informer_start_at(inf, "12345"), 0);
	cr_assert_str_eq(watch_informer_resource_version(inf), "12345");
	until_waiting(c, inf, 1);
	cr_assert_eq(n.begins, 0, "started at a version: no LIST");
	const char *log = log_text();
	cr_assert_not_null(strstr(log, "\"reason\":\"WATCH failed: "), "%s", log);
	cr_assert_not_null(strstr(log, "\"next\":\"watch\""), "with a version, re-watch: %s", log);
	cr_assert_not_null(strstr(log, "\"resource_version\":\"12345\""), "%s", log);
	/* Freed while waiting for the timer. */
	watch_informer_free(inf);
	kube_client_free(c);
	kube_config_free(cfg);
}

Test(watch_informer, bad_arguments)
{
	char err[256];
	struct kube_config *cfg = test_closed_port_config();
	struct kube_client *c = kube_client_new(cfg, err, sizeof(err));
	struct counts n = {0};
	cr_assert_null(watch_informer_new(NULL, "x", "/api/v1/pods", NULL, &ops, &n));
	cr_assert_null(watch_informer_new(c, "x", "api/v1/pods", NULL, &ops, &n));
	cr_assert_null(watch_informer_new(c, "x", "/api/v1/pods", NULL, NULL, &n));
	watch_informer_free(NULL);
	kube_client_free(c);
	kube_config_free(cfg);
}
