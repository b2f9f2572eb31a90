/*
 * Bearer tokens: a static token, or a file re-read every minute and after a
 * 401 (projected service-account tokens are rotated by the kubelet, and the
 * file is swapped atomically through a symlink, so it is opened afresh each
 * time and no descriptor is kept).
 */
#include "kube.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/util.h"
#include "kube_int.h"

struct kube_token_source {
	char *static_token; /* owned, wiped; fallback while the file has not been read */
	char *file; /* owned; NULL for a static token */
	char *file_token; /* owned, wiped; last good contents of file */
	bool read_once; /* file_token is set */
	bool invalid; /* re-read at the next get (after a 401) */
	int64_t read_at; /* when file_token was read */
	int64_t retry_at; /* no re-read before this after a failure */
	bool failed; /* the last attempt failed */
	uint64_t reads;
};

struct kube_token_source *kube_token_source_new(const char *token, const char *file)
{
	struct kube_token_source *ts = util_xcalloc(1, sizeof(*ts));
	ts->static_token = util_xstrdup(token);
	ts->file = util_xstrdup(file);
	return ts;
}

void kube_token_source_free(struct kube_token_source *ts)
{
	if (ts == NULL)
		return;
	kube_wipe_str(ts->static_token);
	kube_wipe_str(ts->file_token);
	free(ts->file);
	free(ts);
}

static int kube_token_source_read(struct kube_token_source *ts, char *err, size_t errlen)
{
	char *buf = NULL, *tok = NULL;
	size_t len = 0;
	char terr[256];

	if (kube_read_file(ts->file, true, KUBE_MAX_FILE, &buf, &len, err, errlen) != 0)
		return -1;
	tok = kube_token_clean(buf, len, terr, sizeof(terr));
	kube_wipe_free(buf, len);
	if (tok == NULL) {
		snprintf(err, errlen, "%s: %s", ts->file, terr);
		return -1;
	}
	kube_wipe_str(ts->file_token);
	ts->file_token = tok;
	ts->read_once = true;
	ts->reads++;
	return 0;
}

const char *kube_token_source_get(struct kube_token_source *ts, int64_t now_ms, char *err,
                                  size_t errlen)
{
	char rerr[512];

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (ts->file != NULL) {
		bool stale =
		    !ts->read_once || ts->invalid || now_ms - ts->read_at >= KUBE_TOKEN_MAX_AGE_MS;
		/* A 401 asks for a re-read at once, even after a failure. */
		bool may = ts->invalid || !ts->failed || now_ms >= ts->retry_at;
		if (stale && may) {
			ts->invalid = false;
			if (kube_token_source_read(ts, rerr, sizeof(rerr)) == 0) {
				ts->read_at = now_ms;
				ts->failed = false;
			} else {
				ts->failed = true;
				ts->retry_at = now_ms + KUBE_TOKEN_RETRY_MS;
				if (err != NULL)
					snprintf(err, errlen, "%s", rerr);
			}
		}
		if (ts->file_token != NULL)
			return ts->file_token;
	}
	return ts->static_token;
}

bool kube_token_source_invalidate(struct kube_token_source *ts)
{
	if (ts == NULL || ts->file == NULL)
		return false;
	ts->invalid = true;
	return true;
}

uint64_t kube_token_source_reads(const struct kube_token_source *ts)
{
	return ts->reads;
}
