/*
 * The informer: paged LIST, then WATCH from the list's resourceVersion,
 * kept going across server timeouts, expiry (410) and failures.
 *
 * States: LISTING (a page request in flight), WATCHING (a stream in
 * flight), WAITING (a timer before the next LIST or WATCH), IDLE (not
 * started). Every restart goes through watch_informer_restart(), which
 * counts it, logs it with its reason and picks the delay.
 *
 * A LIST page is read item by item (kobj_list_each()). A page with a
 * continue token is held, the next page asked for, and the held page
 * converted at the next tick, once that request has gone out: the server
 * reads page n+1 while page n is converted, and at most two pages' text
 * are held. A page still held when the next arrives is converted first.
 */
#include "watch.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../kobj/kobj.h"
#include "../log/log.h"
#include "../util/util.h"

#define WATCH_BACKOFF_MIN_MS 250
#define WATCH_BACKOFF_MAX_MS 30000
/* A stream that lasted this long is healthy even without events. */
#define WATCH_HEALTHY_MS 30000
/* A stream closed sooner than this without events was not healthy. */
#define WATCH_QUICK_CLOSE_MS 1000
/* Wait before retrying a "too large resource version" answer. */
#define WATCH_TOO_LARGE_DELAY_MS 1000
/* After this many too-large answers in a row, relist instead. */
#define WATCH_TOO_LARGE_MAX 3
/* Server-side timeoutSeconds is drawn from [MIN, MAX]. */
#define WATCH_TIMEOUT_MIN_S 300
#define WATCH_TIMEOUT_MAX_S 600
/* Client-side watchdog beyond the server's timeout (a silent dead peer). */
#define WATCH_WATCHDOG_GRACE_S 60

enum watch_state { WATCH_IDLE, WATCH_LISTING, WATCH_WATCHING, WATCH_WAITING };
enum watch_next { WATCH_NEXT_LIST, WATCH_NEXT_WATCH };
enum watch_end {
	WATCH_END_NONE,
	WATCH_END_EXPIRED, /* ERROR event with code 410 */
	WATCH_END_TOO_LARGE, /* ERROR event: resource version too large */
	WATCH_END_ERROR, /* another ERROR event */
	WATCH_END_BAD, /* unparsable line or line over the cap */
	WATCH_END_WATCHDOG, /* nothing for too long */
};
enum watch_delay { WATCH_DELAY_NOW, WATCH_DELAY_BACKOFF, WATCH_DELAY_SHORT };

struct watch_informer {
	struct kube_client *c; /* borrowed */
	char *name;
	char *path;
	char *fsel; /* escaped field selector, or NULL */
	const struct watch_informer_ops *ops;
	void *ud;
	struct watch_framer *fr;
	struct kube_request *req; /* in flight, or NULL */
	enum watch_state state;
	enum watch_next next;
	int64_t deadline; /* WAITING: when to go on */
	char *rv; /* owned; "" before the first list */
	char *cont; /* owned; continue token of the LIST in progress, or NULL */
	unsigned int page_size;
	bool synced;
	bool freeing;
	bool cancelling; /* dropping the next page's request */
	char *held; /* owned: a LIST page read ahead, not converted yet */
	size_t held_len;
	unsigned int failures; /* unhealthy restarts since the last healthy stream */
	unsigned int too_large; /* too-large answers in a row */
	bool expired; /* a 410 since the last healthy stream */
	uint64_t restarts;
	uint64_t relists;
	/* the current stream */
	int64_t stream_start;
	uint64_t stream_events;
	int64_t watchdog_at;
	enum watch_end end;
	char end_reason[512];
	uint64_t rng;
};

static void watch_informer_list_begin(struct watch_informer *inf);
static void watch_informer_watch(struct watch_informer *inf);

static uint64_t watch_rand(struct watch_informer *inf)
{
	/* xorshift64*: jitter only, nothing secret. */
	uint64_t x = inf->rng;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	inf->rng = x;
	return x * 0x2545F4914F6CDD1DULL;
}

static void watch_set_rv(struct watch_informer *inf, const json_t *obj)
{
	const json_t *v = json_object_get(json_object_get(obj, "metadata"), "resourceVersion");
	if (json_is_string(v) && json_string_length(v) > 0 &&
	    strcmp(json_string_value(v), inf->rv) != 0) {
		free(inf->rv);
		inf->rv = util_xstrdup(json_string_value(v));
	}
}

/*
 * Count and log a restart, then go on now or after a delay. NOW restarts at
 * once unless there were restarts since the last healthy stream (then it
 * backs off like the rest, so that nothing can spin).
 */
static void watch_informer_restart(struct watch_informer *inf, enum watch_next next,
                                   enum watch_delay kind, const char *reason)
{
	int64_t delay = 0;
	char dbuf[32];

	inf->restarts++;
	if (kind == WATCH_DELAY_SHORT) {
		delay = WATCH_TOO_LARGE_DELAY_MS;
	} else if (kind == WATCH_DELAY_BACKOFF || inf->failures > 0) {
		int64_t base = WATCH_BACKOFF_MIN_MS;
		for (unsigned int i = 0; i < inf->failures && base < WATCH_BACKOFF_MAX_MS; i++)
			base *= 2;
		if (base > WATCH_BACKOFF_MAX_MS)
			base = WATCH_BACKOFF_MAX_MS;
		/* Jitter over [base/2, base]: many informers of many replicas
		 * must not reconnect in step. */
		delay = base / 2 + (int64_t)(watch_rand(inf) % (uint64_t)(base / 2 + 1));
	}
	/* Reset by the next healthy stream; counts every restart until then. */
	if (inf->failures < 32)
		inf->failures++;
	if (next == WATCH_NEXT_WATCH && inf->rv[0] == '\0')
		next = WATCH_NEXT_LIST; /* never listed: nothing to watch from */
	snprintf(dbuf, sizeof(dbuf), "%" PRId64, delay);
	log_msg(kind == WATCH_DELAY_NOW ? LOG_INFO : LOG_WARN, "watch restarting", "resource",
	        inf->name, "reason", reason, "next", next == WATCH_NEXT_LIST ? "list" : "watch",
	        "delay_ms", dbuf, "resource_version", inf->rv, LOG_END);
	inf->next = next;
	if (delay == 0) {
		inf->state = WATCH_IDLE;
		if (next == WATCH_NEXT_LIST)
			watch_informer_list_begin(inf);
		else
			watch_informer_watch(inf);
		return;
	}
	inf->state = WATCH_WAITING;
	inf->deadline = util_now_ms() + delay;
}

/*
 * Relist after a 410. The server answered, so an outage before it (the
 * connection failures counted in failures) is over, and each moment of
 * waiting is a moment the cache stays stale: the first 410 since the last
 * healthy stream relists at once. A second one (LIST, then a WATCH that
 * expires again at once) backs off like any other restart, so that a
 * relist loop cannot spin.
 */
static void watch_informer_relist(struct watch_informer *inf, const char *reason)
{
	inf->relists++;
	if (!inf->expired)
		inf->failures = 0;
	inf->expired = true;
	watch_informer_restart(inf, WATCH_NEXT_LIST, WATCH_DELAY_NOW, reason);
}

/* ---- LIST ---- */

static void watch_informer_list_page(struct watch_informer *inf);

static void watch_informer_list_item(void *ud, const json_t *item)
{
	struct watch_informer *inf = ud;
	/* Items of a LIST carry no kind or apiVersion: passed as they are. */
	if (inf->ops->on_list_item != NULL)
		inf->ops->on_list_item(inf->ud, item);
}

static void watch_informer_drop_held(struct watch_informer *inf)
{
	free(inf->held);
	inf->held = NULL;
	inf->held_len = 0;
}

/*
 * Hand over the items of the page held back while the next one is fetched.
 * Returns 0, or -1 when it turned out not to be a list: the next page's
 * request is cancelled and the LIST restarts after a backoff. Items read
 * before an error stay with the owner: on_list_begin() of the new LIST
 * says they count for nothing.
 */
static int watch_informer_flush(struct watch_informer *inf)
{
	json_t *meta = NULL;
	char reason[512], inner[256];
	char *page = inf->held;
	size_t len = inf->held_len;
	int rc;

	if (page == NULL)
		return 0;
	inf->held = NULL;
	inf->held_len = 0;
	rc = kobj_list_each(page, len, watch_informer_list_item, inf, &meta, inner, sizeof(inner));
	free(page);
	json_decref(meta);
	if (rc == 0)
		return 0;
	if (inf->req != NULL) {
		inf->cancelling = true;
		kube_request_cancel(inf->req);
		inf->cancelling = false;
		inf->req = NULL;
	}
	snprintf(reason, sizeof(reason), "LIST answer is not a list: %s", inner);
	watch_informer_restart(inf, WATCH_NEXT_LIST, WATCH_DELAY_BACKOFF, reason);
	return -1;
}

static void watch_informer_list_done(void *ud, const struct kube_response *resp)
{
	struct watch_informer *inf = ud;
	json_t *meta = NULL;
	const json_t *cont, *rv;
	char reason[512], inner[256];

	inf->req = NULL;
	if (inf->freeing || inf->cancelling)
		return;
	/* The page before this one first, if the loop has not converted it. */
	if (watch_informer_flush(inf) != 0)
		return;
	if (resp->status == 410 && inf->cont != NULL) {
		/* The continue token expired (compaction): list again from the
		 * start; on_list_begin() is called again and resets what was
		 * seen. */
		snprintf(reason, sizeof(reason), "continue token expired (410): %s", resp->error);
		watch_informer_relist(inf, reason);
		return;
	}
	if (resp->status != 200) {
		if (resp->status == 0)
			snprintf(reason, sizeof(reason), "LIST failed: %s", resp->error);
		else
			snprintf(reason, sizeof(reason), "LIST failed: HTTP %ld %s: %s",
			         resp->status, resp->reason, resp->error);
		watch_informer_restart(inf, WATCH_NEXT_LIST, WATCH_DELAY_BACKOFF, reason);
		return;
	}
	/* A page with a continue token in its metadata (which the API server
	 * writes before the items): ask for the next page now and convert
	 * this one from the loop (watch_informer_tick()), once the request
	 * has gone out, so that the server reads page n+1 while page n is
	 * converted. At most two pages' text are held. */
	if (kobj_list_meta(resp->body, resp->body_len, &meta, inner, sizeof(inner)) != 0) {
		snprintf(reason, sizeof(reason), "LIST answer is not a list: %s", inner);
		watch_informer_restart(inf, WATCH_NEXT_LIST, WATCH_DELAY_BACKOFF, reason);
		goto out;
	}
	cont = json_object_get(meta, "continue");
	if (json_is_string(cont) && json_string_length(cont) > 0) {
		inf->held = util_xmalloc(resp->body_len + 1);
		memcpy(inf->held, resp->body, resp->body_len);
		inf->held_len = resp->body_len;
		free(inf->cont);
		inf->cont = util_xstrdup(json_string_value(cont));
		watch_informer_list_page(inf);
		if (inf->req == NULL)
			watch_informer_drop_held(inf); /* relisting anyway */
		goto out;
	}
	json_decref(meta);
	meta = NULL;
	/* Item by item: a page of objects never exists whole as a JSON tree
	 * (a page of 500 pods is about 1 MB of text and ten times that as a
	 * tree). */
	if (kobj_list_each(resp->body, resp->body_len, watch_informer_list_item, inf, &meta, inner,
	                   sizeof(inner)) != 0) {
		snprintf(reason, sizeof(reason), "LIST answer is not a list: %s", inner);
		watch_informer_restart(inf, WATCH_NEXT_LIST, WATCH_DELAY_BACKOFF, reason);
		goto out;
	}
	cont = json_object_get(meta, "continue");
	if (json_is_string(cont) && json_string_length(cont) > 0) {
		/* metadata after the items: not read ahead */
		free(inf->cont);
		inf->cont = util_xstrdup(json_string_value(cont));
		watch_informer_list_page(inf);
		goto out;
	}
	rv = json_object_get(meta, "resourceVersion");
	if (!json_is_string(rv) || json_string_length(rv) == 0) {
		watch_informer_restart(inf, WATCH_NEXT_LIST, WATCH_DELAY_BACKOFF,
		                       "LIST answer has no resourceVersion");
		goto out;
	}
	free(inf->rv);
	inf->rv = util_xstrdup(json_string_value(rv));
	free(inf->cont);
	inf->cont = NULL;
	if (inf->ops->on_list_end != NULL)
		inf->ops->on_list_end(inf->ud);
	if (!inf->synced)
		log_info("watch synced", "resource", inf->name, "resource_version", inf->rv);
	inf->synced = true;
	inf->state = WATCH_IDLE;
	watch_informer_watch(inf);
out:
	json_decref(meta);
}

static void watch_informer_list_page(struct watch_informer *inf)
{
	struct util_buf b = {0};

	util_buf_printf(&b, "%s%climit=%u", inf->path, strchr(inf->path, '?') ? '&' : '?',
	                inf->page_size);
	if (inf->fsel != NULL)
		util_buf_printf(&b, "&fieldSelector=%s", inf->fsel);
	if (inf->cont != NULL) {
		char *esc = kube_escape(inf->cont);
		util_buf_printf(&b, "&continue=%s", esc);
		free(esc);
	}
	inf->state = WATCH_LISTING;
	inf->req = kube_request_start(inf->c, "GET", util_buf_str(&b), NULL, 0, NULL,
	                              watch_informer_list_done, NULL, inf);
	util_buf_reset(&b);
	if (inf->req == NULL)
		watch_informer_restart(inf, WATCH_NEXT_LIST, WATCH_DELAY_BACKOFF,
		                       "LIST request could not start");
}

static void watch_informer_list_begin(struct watch_informer *inf)
{
	watch_informer_drop_held(inf);
	free(inf->cont);
	inf->cont = NULL;
	if (inf->ops->on_list_begin != NULL)
		inf->ops->on_list_begin(inf->ud);
	watch_informer_list_page(inf);
}

/* ---- WATCH ---- */

static int watch_informer_line(void *ud, const char *line, size_t len)
{
	struct watch_informer *inf = ud;
	enum watch_event_type type;
	json_t *obj = NULL;
	char err[256];

	if (watch_event_parse(line, len, &type, &obj, err, sizeof(err)) != 0) {
		inf->end = WATCH_END_BAD;
		snprintf(inf->end_reason, sizeof(inf->end_reason), "%s", err);
		return -1;
	}
	if (type == WATCH_ERROR) {
		char msg[200] = "", reason[64] = "";
		long code = 0;
		bool big = false;
		if (kube_status_read(obj, msg, sizeof(msg), reason, sizeof(reason), &code, &big) !=
		    0)
			snprintf(msg, sizeof(msg), "ERROR event without a Status");
		if (code == 410 || strcmp(reason, "Expired") == 0 || strcmp(reason, "Gone") == 0)
			inf->end = WATCH_END_EXPIRED;
		else if (big)
			inf->end = WATCH_END_TOO_LARGE;
		else
			inf->end = WATCH_END_ERROR;
		snprintf(inf->end_reason, sizeof(inf->end_reason), "ERROR event %ld %s: %s", code,
		         reason, msg);
		json_decref(obj);
		return -1;
	}
	watch_set_rv(inf, obj);
	inf->stream_events++;
	if (type != WATCH_BOOKMARK && inf->ops->on_event != NULL)
		inf->ops->on_event(inf->ud, type, obj);
	json_decref(obj);
	return 0;
}

static int watch_informer_data(void *ud, const char *data, size_t len)
{
	struct watch_informer *inf = ud;

	if (watch_framer_feed(inf->fr, data, len, watch_informer_line, inf) != 0) {
		if (inf->end == WATCH_END_NONE) {
			inf->end = WATCH_END_BAD;
			snprintf(inf->end_reason, sizeof(inf->end_reason),
			         "watch event longer than %d bytes", WATCH_MAX_LINE);
		}
		return -1;
	}
	return 0;
}

static void watch_informer_too_large(struct watch_informer *inf, const char *reason)
{
	if (++inf->too_large >= WATCH_TOO_LARGE_MAX) {
		inf->too_large = 0;
		watch_informer_restart(inf, WATCH_NEXT_LIST, WATCH_DELAY_BACKOFF, reason);
		return;
	}
	watch_informer_restart(inf, WATCH_NEXT_WATCH, WATCH_DELAY_SHORT, reason);
}

static void watch_informer_watch_done(void *ud, const struct kube_response *resp)
{
	struct watch_informer *inf = ud;
	int64_t now = util_now_ms();
	int64_t lasted = now - inf->stream_start;
	bool healthy = inf->stream_events > 0 || lasted > WATCH_HEALTHY_MS;
	char reason[512];

	inf->req = NULL;
	if (inf->freeing)
		return;
	inf->state = WATCH_IDLE;
	if (healthy) {
		inf->failures = 0;
		inf->too_large = 0;
		inf->expired = false;
	}
	switch (inf->end) {
	case WATCH_END_EXPIRED:
		watch_informer_relist(inf, inf->end_reason);
		return;
	case WATCH_END_TOO_LARGE:
		watch_informer_too_large(inf, inf->end_reason);
		return;
	case WATCH_END_BAD:
		/* An event was lost: re-watching would replay it; relist. */
		watch_informer_restart(inf, WATCH_NEXT_LIST, WATCH_DELAY_BACKOFF, inf->end_reason);
		return;
	case WATCH_END_ERROR:
	case WATCH_END_WATCHDOG:
		watch_informer_restart(inf, WATCH_NEXT_WATCH, WATCH_DELAY_BACKOFF, inf->end_reason);
		return;
	case WATCH_END_NONE:
		break;
	}
	if (resp->status >= 200 && resp->status < 300) {
		if (healthy || lasted >= WATCH_QUICK_CLOSE_MS)
			watch_informer_restart(inf, WATCH_NEXT_WATCH, WATCH_DELAY_NOW,
			                       "stream closed by the server");
		else
			watch_informer_restart(inf, WATCH_NEXT_WATCH, WATCH_DELAY_BACKOFF,
			                       "stream closed at once without events");
		return;
	}
	if (resp->status == 410) {
		snprintf(reason, sizeof(reason), "WATCH 410 %s: %s", resp->reason, resp->error);
		watch_informer_relist(inf, reason);
		return;
	}
	if (resp->status != 0) {
		bool big = false;
		kube_status_parse(resp->body, resp->body_len, NULL, 0, NULL, 0, NULL, &big);
		snprintf(reason, sizeof(reason), "WATCH failed: HTTP %ld %s: %s", resp->status,
		         resp->reason, resp->error);
		if (big)
			watch_informer_too_large(inf, reason);
		else
			watch_informer_restart(inf, WATCH_NEXT_WATCH, WATCH_DELAY_BACKOFF, reason);
		return;
	}
	snprintf(reason, sizeof(reason), "WATCH failed: %s", resp->error);
	watch_informer_restart(inf, WATCH_NEXT_WATCH, WATCH_DELAY_BACKOFF, reason);
}

static void watch_informer_watch(struct watch_informer *inf)
{
	struct util_buf b = {0};
	char *rv = kube_escape(inf->rv);
	unsigned int timeout = WATCH_TIMEOUT_MIN_S +
	    (unsigned int)(watch_rand(inf) % (WATCH_TIMEOUT_MAX_S - WATCH_TIMEOUT_MIN_S + 1));

	util_buf_printf(&b,
	                "%s%cwatch=1&resourceVersion=%s&allowWatchBookmarks=true&timeoutSeconds=%u",
	                inf->path, strchr(inf->path, '?') ? '&' : '?', rv, timeout);
	if (inf->fsel != NULL)
		util_buf_printf(&b, "&fieldSelector=%s", inf->fsel);
	free(rv);
	watch_framer_reset(inf->fr);
	inf->end = WATCH_END_NONE;
	inf->end_reason[0] = '\0';
	inf->stream_events = 0;
	inf->stream_start = util_now_ms();
	inf->watchdog_at = inf->stream_start + (int64_t)(timeout + WATCH_WATCHDOG_GRACE_S) * 1000;
	inf->state = WATCH_WATCHING;
	inf->req = kube_request_start(inf->c, "GET", util_buf_str(&b), NULL, 0, NULL,
	                              watch_informer_watch_done, watch_informer_data, inf);
	util_buf_reset(&b);
	if (inf->req == NULL)
		watch_informer_restart(inf, WATCH_NEXT_WATCH, WATCH_DELAY_BACKOFF,
		                       "WATCH request could not start");
}

/* ---- API ---- */

struct watch_informer *watch_informer_new(struct kube_client *c, const char *name, const char *path,
                                          const char *field_selector,
                                          const struct watch_informer_ops *ops, void *ud)
{
	struct watch_informer *inf;

	if (c == NULL || name == NULL || path == NULL || path[0] != '/' || ops == NULL)
		return NULL;
	inf = util_xcalloc(1, sizeof(*inf));
	inf->c = c;
	inf->name = util_xstrdup(name);
	inf->path = util_xstrdup(path);
	if (field_selector != NULL && field_selector[0] != '\0')
		inf->fsel = kube_escape(field_selector);
	inf->ops = ops;
	inf->ud = ud;
	inf->fr = watch_framer_new(WATCH_MAX_LINE);
	inf->rv = util_xstrdup("");
	inf->page_size = WATCH_PAGE_SIZE;
	inf->deadline = -1;
	inf->rng = (uint64_t)util_now_ms() ^ ((uint64_t)(uintptr_t)inf << 16) ^
	    ((uint64_t)getpid() << 40) ^ 0x9E3779B97F4A7C15ULL;
	if (inf->rng == 0)
		inf->rng = 1;
	return inf;
}

void watch_informer_free(struct watch_informer *inf)
{
	if (inf == NULL)
		return;
	inf->freeing = true;
	if (inf->req != NULL)
		kube_request_cancel(inf->req);
	watch_framer_free(inf->fr);
	free(inf->name);
	free(inf->path);
	free(inf->fsel);
	free(inf->rv);
	free(inf->cont);
	free(inf->held);
	free(inf);
}

void watch_informer_set_page_size(struct watch_informer *inf, unsigned int n)
{
	inf->page_size = n > 0 ? n : WATCH_PAGE_SIZE;
}

int watch_informer_start(struct watch_informer *inf)
{
	if (inf->state != WATCH_IDLE || inf->req != NULL)
		return -1;
	watch_informer_list_begin(inf);
	return 0;
}

int watch_informer_start_at(struct watch_informer *inf, const char *resource_version)
{
	if (inf->state != WATCH_IDLE || inf->req != NULL || resource_version == NULL ||
	    resource_version[0] == '\0')
		return -1;
	free(inf->rv);
	inf->rv = util_xstrdup(resource_version);
	watch_informer_watch(inf);
	return 0;
}

void watch_informer_tick(struct watch_informer *inf, int64_t now_ms)
{
	/* The next page's request has gone out by now: convert this one. */
	if (inf->held != NULL && watch_informer_flush(inf) != 0)
		return;
	if (inf->state == WATCH_WAITING && now_ms >= inf->deadline) {
		inf->deadline = -1;
		inf->state = WATCH_IDLE;
		if (inf->next == WATCH_NEXT_LIST)
			watch_informer_list_begin(inf);
		else
			watch_informer_watch(inf);
	} else if (inf->state == WATCH_WATCHING && inf->req != NULL && now_ms >= inf->watchdog_at) {
		inf->end = WATCH_END_WATCHDOG;
		snprintf(inf->end_reason, sizeof(inf->end_reason),
		         "stream outlived its timeout by %d s", WATCH_WATCHDOG_GRACE_S);
		kube_request_cancel(inf->req); /* runs watch_done */
	}
}

int64_t watch_informer_next_deadline(const struct watch_informer *inf)
{
	if (inf->held != NULL)
		return 0; /* a page to convert: due now */
	if (inf->state == WATCH_WAITING)
		return inf->deadline;
	if (inf->state == WATCH_WATCHING && inf->req != NULL)
		return inf->watchdog_at;
	return -1;
}

bool watch_informer_synced(const struct watch_informer *inf)
{
	return inf->synced;
}

uint64_t watch_informer_restarts(const struct watch_informer *inf)
{
	return inf->restarts;
}

uint64_t watch_informer_relists(const struct watch_informer *inf)
{
	return inf->relists;
}

const char *watch_informer_resource_version(const struct watch_informer *inf)
{
	return inf->rv;
}
