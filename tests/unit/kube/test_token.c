/*
 * The bearer-token source: when a token file is re-read (every minute,
 * after a 401, after a failure only every KUBE_TOKEN_RETRY_MS), and that a
 * failed re-read keeps the token in hand. Time is injected.
 */
/* nftw() */
#define _XOPEN_SOURCE 700
#include <criterion/criterion.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../../pkg/kube/kube.h"

static char dir[64];
static char file[128];

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/csr-approver-tok-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/token", dir);
}

static void teardown(void)
{
	nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

/* Replace the file the way the kubelet does: a new file renamed over. */
static void put(const char *content)
{
	char tmp[160];
	snprintf(tmp, sizeof(tmp), "%s/.new", dir);
	FILE *f = fopen(tmp, "w");
	cr_assert_not_null(f);
	fputs(content, f);
	fclose(f);
	cr_assert_eq(rename(tmp, file), 0);
}

static const char *get(struct kube_token_source *ts, int64_t now, char *err)
{
	return kube_token_source_get(ts, now, err, 256);
}

Test(kube_token, none)
{
	struct kube_token_source *ts = kube_token_source_new(NULL, NULL);
	cr_assert_null(get(ts, 0, NULL));
	cr_assert_not(kube_token_source_invalidate(ts), "nothing to re-read");
	kube_token_source_free(ts);
	kube_token_source_free(NULL);
}

Test(kube_token, static_only)
{
	char err[256];
	struct kube_token_source *ts = kube_token_source_new("abc", NULL);
	cr_assert_str_eq(get(ts, 0, err), "abc");
	cr_assert_str_eq(err, "");
	cr_assert_str_eq(get(ts, 10 * KUBE_TOKEN_MAX_AGE_MS, err), "abc");
	cr_assert_not(kube_token_source_invalidate(ts));
	cr_assert_eq(kube_token_source_reads(ts), 0);
	kube_token_source_free(ts);
}

Test(kube_token, reread_every_minute, .init = setup, .fini = teardown)
{
	char err[256];
	int64_t t0 = 1000000;
	put("one\n");
	struct kube_token_source *ts = kube_token_source_new(NULL, file);
	cr_assert_str_eq(get(ts, t0, err), "one", "first get reads the file");
	cr_assert_eq(kube_token_source_reads(ts), 1);
	put("two\n");
	cr_assert_str_eq(get(ts, t0 + 1, err), "one");
	cr_assert_str_eq(get(ts, t0 + KUBE_TOKEN_MAX_AGE_MS - 1, err), "one", "not yet a minute");
	cr_assert_eq(kube_token_source_reads(ts), 1);
	cr_assert_str_eq(get(ts, t0 + KUBE_TOKEN_MAX_AGE_MS, err), "two", "a minute: re-read");
	cr_assert_eq(kube_token_source_reads(ts), 2);
	cr_assert_str_eq(err, "");
	kube_token_source_free(ts);
}

Test(kube_token, reread_after_401, .init = setup, .fini = teardown)
{
	char err[256];
	put("old\n");
	struct kube_token_source *ts = kube_token_source_new(NULL, file);
	cr_assert_str_eq(get(ts, 0, err), "old");
	put("new\n");
	cr_assert(kube_token_source_invalidate(ts));
	cr_assert_str_eq(get(ts, 5, err), "new", "re-read at once after a 401");
	cr_assert_str_eq(get(ts, 6, err), "new");
	cr_assert_eq(kube_token_source_reads(ts), 2);
	kube_token_source_free(ts);
}

Test(kube_token, failure_keeps_token_and_retries_later, .init = setup, .fini = teardown)
{
	char err[256];
	int64_t t = 0;
	put("good\n");
	struct kube_token_source *ts = kube_token_source_new(NULL, file);
	cr_assert_str_eq(get(ts, t, err), "good");
	cr_assert_eq(unlink(file), 0);
	t += KUBE_TOKEN_MAX_AGE_MS;
	cr_assert_str_eq(get(ts, t, err), "good", "old token kept");
	cr_assert_not_null(strstr(err, "No such file"), "%s", err);
	cr_assert_null(strstr(err, "good"), "the token never appears in errors");
	put("better\n");
	cr_assert_str_eq(get(ts, t + KUBE_TOKEN_RETRY_MS - 1, err), "good", "no retry yet");
	cr_assert_str_eq(err, "");
	cr_assert_str_eq(get(ts, t + KUBE_TOKEN_RETRY_MS, err), "better", "retried");
	kube_token_source_free(ts);
}

Test(kube_token, invalid_contents_keep_token, .init = setup, .fini = teardown)
{
	char err[256];
	put("  padded-token \n");
	struct kube_token_source *ts = kube_token_source_new(NULL, file);
	cr_assert_str_eq(get(ts, 0, err), "padded-token", "whitespace trimmed");
	put("two words\n");
	kube_token_source_invalidate(ts);
	cr_assert_str_eq(get(ts, 1, err), "padded-token");
	cr_assert_not_null(strstr(err, "cannot be sent in a header"), "%s", err);
	cr_assert_null(strstr(err, "words"), "%s", err);
	put("\n");
	kube_token_source_invalidate(ts);
	cr_assert_str_eq(get(ts, 2, err), "padded-token");
	cr_assert_not_null(strstr(err, "empty token"), "%s", err);
	kube_token_source_free(ts);
}

Test(kube_token, file_wins_static_is_fallback, .init = setup, .fini = teardown)
{
	char err[256];
	struct kube_token_source *ts = kube_token_source_new("static", file);
	cr_assert_str_eq(get(ts, 0, err), "static", "no file yet: the static token");
	cr_assert_neq(err[0], '\0');
	put("from-file\n");
	cr_assert_str_eq(get(ts, KUBE_TOKEN_RETRY_MS - 1, err), "static");
	cr_assert_str_eq(get(ts, KUBE_TOKEN_RETRY_MS, err), "from-file");
	kube_token_source_free(ts);
}
