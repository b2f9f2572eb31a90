/*
 * watch: LIST then WATCH of one Kubernetes collection, kept going.
 *
 * Two layers:
 *  - the framer, pure: bytes in, complete lines out. Chunk boundaries have
 *    no relation to event boundaries; partial lines are carried over and a
 *    line longer than the cap is an error (the watch is restarted).
 *  - the informer: paged LIST (limit 500, continue tokens), then WATCH with
 *    the list's resourceVersion, allowWatchBookmarks=true and a server-side
 *    timeoutSeconds drawn from [300, 600]; resourceVersion tracked as an
 *    opaque string from every event, bookmarks included; on 410 (as an HTTP
 *    status or as an ERROR event with code 410) it relists; on other
 *    failures it reconnects after a jittered exponential backoff (from
 *    250 ms, doubling, capped at 30 s, reset after a healthy stream).
 *
 * Not thread-safe: an informer lives on its client's thread.
 */
#ifndef CSR_APPROVER_WATCH_H
#define CSR_APPROVER_WATCH_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../kube/kube.h"

/* Default cap on one watch line (one event): 16 MiB. */
#define WATCH_MAX_LINE (16 * 1024 * 1024)

/* ---- framer ---- */

struct watch_framer;

/* A framer for lines of at most max_line bytes. Caller frees with
 * watch_framer_free(). */
struct watch_framer *watch_framer_new(size_t max_line);
void watch_framer_free(struct watch_framer *f); /* NULL does nothing */
/* Forget any partial line (a new stream starts). */
void watch_framer_reset(struct watch_framer *f);

/* Called per complete line (without its '\n'; empty lines are skipped).
 * line is borrowed. Return 0 to go on, -1 to stop feeding. */
typedef int (*watch_line_cb)(void *ud, const char *line, size_t len);

/* Feed bytes. Returns 0; -1 when a line exceeds the cap (the framer is then
 * reset) or the callback returned -1. */
int watch_framer_feed(struct watch_framer *f, const char *data, size_t len, watch_line_cb cb,
                      void *ud);

/* ---- one event ---- */

enum watch_event_type {
	WATCH_ADDED,
	WATCH_MODIFIED,
	WATCH_DELETED,
	WATCH_BOOKMARK,
	WATCH_ERROR,
};

/*
 * Parse one watch line: {"type":"...","object":{...}}. Returns 0 with *type
 * and *object (a new reference the caller json_decref()s), or -1 with err
 * naming what is wrong (not JSON, no type, unknown type, object not an
 * object).
 */
int watch_event_parse(const char *line, size_t len, enum watch_event_type *type, json_t **object,
                      char *err, size_t errlen);

/* ---- informer ---- */

/* What an informer tells its owner. Objects are borrowed for the call. */
struct watch_informer_ops {
	/* A LIST begins (first sync or relist): every object that is not seen
	 * again before on_list_end() is gone. */
	void (*on_list_begin)(void *ud);
	/* One object of the LIST. */
	void (*on_list_item)(void *ud, const json_t *obj);
	/* The LIST is complete: drop what was not seen; the cache is synced. */
	void (*on_list_end)(void *ud);
	/* An ADDED, MODIFIED or DELETED event of the watch. */
	void (*on_event)(void *ud, enum watch_event_type type, const json_t *obj);
};
/* Any of the ops may be NULL. */

struct watch_informer;

/*
 * Callbacks run inside kube_client_run_once() (the ops of a WATCH event run
 * while libcurl delivers the bytes); they may start and cancel requests,
 * but must not free the informer or its client.
 *
 * An informer for the collection at path (e.g. "/api/v1/pods",
 * "/apis/certificates.k8s.io/v1/certificatesigningrequests"), with an
 * optional field selector (unescaped, e.g. "spec.signerName=example.com/x";
 * NULL for none). name is used in logs and metrics ("pods"). ops and ud are
 * borrowed. Caller frees with watch_informer_free(), which cancels its
 * requests.
 */
struct watch_informer *watch_informer_new(struct kube_client *c, const char *name, const char *path,
                                          const char *field_selector,
                                          const struct watch_informer_ops *ops, void *ud);
void watch_informer_free(struct watch_informer *inf);

/* Start listing. Returns 0, or -1 when already started. A request that
 * cannot be started is retried after a backoff, not reported here. */
int watch_informer_start(struct watch_informer *inf);

/*
 * Start by watching from resource_version, without a first LIST: for an
 * owner that already holds the objects up to that version (and for tests
 * of expiry). If the version has expired, the informer relists as it would
 * on any 410. Returns 0, or -1 when already started or the version is empty.
 */
int watch_informer_start_at(struct watch_informer *inf, const char *resource_version);

/* Objects per LIST page (default WATCH_PAGE_SIZE); call before starting. */
#define WATCH_PAGE_SIZE 500
void watch_informer_set_page_size(struct watch_informer *inf, unsigned int n);

/* Drive timers (backoff reconnects): call with the monotonic time in ms
 * whenever the loop wakes. */
void watch_informer_tick(struct watch_informer *inf, int64_t now_ms);

/* When the next tick is due (monotonic ms), or -1 when none is pending. */
int64_t watch_informer_next_deadline(const struct watch_informer *inf);

/* Has a LIST completed since start? */
bool watch_informer_synced(const struct watch_informer *inf);

/* Restarts of the watch (reconnects and relists), for metrics. */
uint64_t watch_informer_restarts(const struct watch_informer *inf);
/* Relists caused by 410 Gone, for tests and logs. */
uint64_t watch_informer_relists(const struct watch_informer *inf);
/* The last resourceVersion seen (borrowed; "" before the first list). */
const char *watch_informer_resource_version(const struct watch_informer *inf);

#endif
