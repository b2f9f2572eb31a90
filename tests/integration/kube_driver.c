/*
 * A small command-line driver of pkg/kube and pkg/watch for
 * tests/integration/watch.sh: talks to the real API server of the local
 * control plane and prints what it saw, one fact per line.
 *
 *   kube_driver [--kubeconfig F] [--context C] get PATH
 *       GET PATH; prints "status N" then the body. Exit 0 on 2xx.
 *   kube_driver [...] whoami [--again-after-file F]
 *       POST a SelfSubjectReview; prints "user NAME" (or "status N").
 *       With --again-after-file, waits for F and does it once more on the
 *       same client. Every HTTP answer is printed to stderr as
 *       "observe VERB RESOURCE CODE".
 *   kube_driver [...] watch PATH [--field-selector S] [--from-rv RV]
 *       [--page-size N] [--pause-after-items N --pause-file F]
 *       [--stop-file F] [--max-seconds S]
 *       Runs an informer, printing "list-begin", "list-item NAME RV",
 *       "list-end RV", "event TYPE NAME RV"; when F exists (or after S
 *       seconds) prints its cache as "cache NAME RV" lines (sorted) and
 *       "stats relists=N restarts=N synced=0|1 rv=RV".
 *       --pause-after-items blocks in the LIST callbacks after that many
 *       items until the pause file exists (to expire a continue token).
 *   Exit status 2 on bad usage or configuration.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../pkg/kube/kube.h"
#include "../../pkg/log/log.h"
#include "../../pkg/util/util.h"
#include "../../pkg/watch/watch.h"

struct entry {
	char *name;
	char *rv;
	bool seen;
};

struct driver {
	struct entry *v;
	size_t n, cap;
	long items;
	long pause_after;
	const char *pause_file;
};

static bool exists(const char *p)
{
	return p != NULL && access(p, F_OK) == 0;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static void obj_id(const json_t *obj, char *name, size_t nlen, const char **rv)
{
	const json_t *m = json_object_get(obj, "metadata");
	const char *ns = json_string_value(json_object_get(m, "namespace"));
	const char *n = json_string_value(json_object_get(m, "name"));
	*rv = json_string_value(json_object_get(m, "resourceVersion"));
	if (*rv == NULL)
		*rv = "";
	if (ns != NULL)
		snprintf(name, nlen, "%s/%s", ns, n ? n : "");
	else
		snprintf(name, nlen, "%s", n ? n : "");
}

static struct entry *find(struct driver *d, const char *name)
{
	for (size_t i = 0; i < d->n; i++)
		if (strcmp(d->v[i].name, name) == 0)
			return &d->v[i];
	return NULL;
}

static void upsert(struct driver *d, const char *name, const char *rv)
{
	struct entry *e = find(d, name);
	if (e == NULL) {
		if (d->n == d->cap) {
			d->cap = d->cap ? d->cap * 2 : 16;
			d->v = realloc(d->v, d->cap * sizeof(*d->v));
			if (d->v == NULL)
				abort();
		}
		e = &d->v[d->n++];
		e->name = strdup(name);
		e->rv = NULL;
	}
	free(e->rv);
	e->rv = strdup(rv);
	e->seen = true;
}

static void drop(struct driver *d, size_t i)
{
	free(d->v[i].name);
	free(d->v[i].rv);
	d->v[i] = d->v[--d->n];
}

static void on_list_begin(void *ud)
{
	struct driver *d = ud;
	for (size_t i = 0; i < d->n; i++)
		d->v[i].seen = false;
	printf("list-begin\n");
}

static void on_list_item(void *ud, const json_t *obj)
{
	struct driver *d = ud;
	char name[512];
	const char *rv;
	obj_id(obj, name, sizeof(name), &rv);
	upsert(d, name, rv);
	printf("list-item %s %s\n", name, rv);
	if (++d->items == d->pause_after && d->pause_file != NULL) {
		printf("paused\n");
		fflush(stdout);
		while (!exists(d->pause_file))
			sleep_ms(100);
		printf("resumed\n");
	}
}

static void on_list_end(void *ud)
{
	struct driver *d = ud;
	for (size_t i = 0; i < d->n;) {
		if (!d->v[i].seen)
			drop(d, i);
		else
			i++;
	}
	printf("list-end\n");
}

static void on_event(void *ud, enum watch_event_type type, const json_t *obj)
{
	struct driver *d = ud;
	static const char *const names[] = {"ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"};
	char name[512];
	const char *rv;
	obj_id(obj, name, sizeof(name), &rv);
	if (type == WATCH_DELETED) {
		for (size_t i = 0; i < d->n; i++)
			if (strcmp(d->v[i].name, name) == 0) {
				drop(d, i);
				break;
			}
	} else {
		upsert(d, name, rv);
	}
	printf("event %s %s %s\n", names[type], name, rv);
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->name, ((const struct entry *)b)->name);
}

static void observe(void *ud, const char *verb, const char *resource, long code)
{
	(void)ud;
	fprintf(stderr, "observe %s %s %ld\n", verb, resource, code);
}

/* POST a SelfSubjectReview; prints "user NAME" or "status N". */
static int whoami(struct kube_client *c)
{
	static const char review[] = "{\"apiVersion\":\"authentication.k8s.io/v1\","
	                             "\"kind\":\"SelfSubjectReview\"}";
	char err[1024];
	char *body = NULL;
	int rc = 1;
	long st = kube_request_sync(c, "POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews",
	                            review, sizeof(review) - 1, NULL, &body, err, sizeof(err));
	json_t *j = body ? json_loads(body, 0, NULL) : NULL;
	const char *user = json_string_value(
	    json_object_get(json_object_get(json_object_get(j, "status"), "userInfo"), "username"));
	if (st == 201 && user != NULL) {
		printf("user %s\n", user);
		rc = 0;
	} else {
		printf("status %ld\n", st);
		fprintf(stderr, "error: %s\n", err);
	}
	json_decref(j);
	free(body);
	return rc;
}

static int usage(void)
{
	fprintf(stderr,
	        "usage: kube_driver [--kubeconfig F] [--context C] get PATH | whoami "
	        "[--again-after-file F] | watch PATH [options]\n");
	return 2;
}

static int cmd_watch(struct kube_client *c, int argc, char **argv)
{
	const char *path = NULL, *fsel = NULL, *from = NULL, *stop = NULL;
	long page = 0, max_s = 120;
	struct driver d = {0};
	struct watch_informer_ops ops = {on_list_begin, on_list_item, on_list_end, on_event};
	struct watch_informer *inf;
	int64_t end;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--field-selector") == 0 && i + 1 < argc)
			fsel = argv[++i];
		else if (strcmp(argv[i], "--from-rv") == 0 && i + 1 < argc)
			from = argv[++i];
		else if (strcmp(argv[i], "--page-size") == 0 && i + 1 < argc)
			page = strtol(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--pause-after-items") == 0 && i + 1 < argc)
			d.pause_after = strtol(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--pause-file") == 0 && i + 1 < argc)
			d.pause_file = argv[++i];
		else if (strcmp(argv[i], "--stop-file") == 0 && i + 1 < argc)
			stop = argv[++i];
		else if (strcmp(argv[i], "--max-seconds") == 0 && i + 1 < argc)
			max_s = strtol(argv[++i], NULL, 10);
		else if (path == NULL && argv[i][0] == '/')
			path = argv[i];
		else
			return usage();
	}
	if (path == NULL)
		return usage();
	inf = watch_informer_new(c, "driver", path, fsel, &ops, &d);
	if (inf == NULL)
		return 2;
	if (page > 0)
		watch_informer_set_page_size(inf, (unsigned int)page);
	if ((from ? watch_informer_start_at(inf, from) : watch_informer_start(inf)) != 0)
		return 2;
	end = util_now_ms() + max_s * 1000;
	for (;;) {
		int64_t now = util_now_ms();
		if (now >= end || exists(stop))
			break;
		watch_informer_tick(inf, now);
		int64_t dl = watch_informer_next_deadline(inf);
		int64_t wait = 200;
		if (dl >= 0 && dl - now < wait)
			wait = dl > now ? dl - now : 0;
		if (kube_client_run_once(c, NULL, 0, (int)wait) != 0) {
			fprintf(stderr, "run_once failed\n");
			break;
		}
		fflush(stdout);
	}
	qsort(d.v, d.n, sizeof(*d.v), cmp_entry);
	for (size_t i = 0; i < d.n; i++)
		printf("cache %s %s\n", d.v[i].name, d.v[i].rv);
	printf("stats relists=%llu restarts=%llu synced=%d rv=%s\n",
	       (unsigned long long)watch_informer_relists(inf),
	       (unsigned long long)watch_informer_restarts(inf), watch_informer_synced(inf) ? 1 : 0,
	       watch_informer_resource_version(inf));
	watch_informer_free(inf);
	while (d.n > 0)
		drop(&d, 0);
	free(d.v);
	return 0;
}

int main(int argc, char **argv)
{
	const char *kubeconfig = NULL, *context = NULL;
	struct kube_config *cfg = NULL;
	struct kube_client *c = NULL;
	char err[1024];
	int i = 1, rc = 2;

	setvbuf(stdout, NULL, _IOLBF, 0);
	log_set_format(LOG_FORMAT_TEXT);
	if (getenv("KUBE_DRIVER_DEBUG") != NULL)
		log_set_level(LOG_DEBUG);
	for (; i < argc; i++) {
		if (strcmp(argv[i], "--kubeconfig") == 0 && i + 1 < argc)
			kubeconfig = argv[++i];
		else if (strcmp(argv[i], "--context") == 0 && i + 1 < argc)
			context = argv[++i];
		else
			break;
	}
	if (i >= argc)
		return usage();
	if (kube_config_load(kubeconfig, context, &cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "config: %s\n", err);
		return 2;
	}
	c = kube_client_new(cfg, err, sizeof(err));
	if (c == NULL) {
		fprintf(stderr, "client: %s\n", err);
		goto out;
	}
	kube_client_set_observer(c, observe, NULL);
	if (strcmp(argv[i], "get") == 0 && i + 1 < argc) {
		char *body = NULL;
		long st = kube_request_sync(c, "GET", argv[i + 1], NULL, 0, NULL, &body, err,
		                            sizeof(err));
		printf("status %ld\n%s\n", st, body ? body : "");
		if (st == 0 || st >= 300)
			fprintf(stderr, "error: %s\n", err);
		free(body);
		rc = st >= 200 && st < 300 ? 0 : 1;
	} else if (strcmp(argv[i], "whoami") == 0) {
		const char *again = NULL;
		if (i + 2 < argc && strcmp(argv[i + 1], "--again-after-file") == 0)
			again = argv[i + 2];
		rc = whoami(c);
		if (again != NULL) {
			while (!exists(again))
				sleep_ms(100);
			rc = whoami(c);
		}
	} else if (strcmp(argv[i], "watch") == 0) {
		rc = cmd_watch(c, argc - i - 1, argv + i + 1);
	} else {
		rc = usage();
	}
out:
	kube_client_free(c);
	kube_config_free(cfg);
	return rc;
}
