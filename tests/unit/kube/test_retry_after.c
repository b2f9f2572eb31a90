/*
 * Retry-After: which values are read (delta-seconds only, capped), and
 * which answers are sent again (429 and 5xx, at most
 * KUBE_RETRY_AFTER_MAX_TRIES times). The waiting itself is driven by the
 * client's loop; tests/faults/api-overload.sh shows it against the API
 * server's priority and fairness.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <string.h>

#include "../../../pkg/kube/kube.h"

struct ra_case {
	const char *value;
	int rc;
	int64_t ms;
};

static const struct ra_case cases[] = {
    {"1", 0, 1000},
    {"0", 0, 0},
    {"3", 0, 3000},
    {" 2\t", 0, 2000},
    {"60", 0, 60000},
    {"61", 0, KUBE_RETRY_AFTER_MAX_MS},
    {"99999999999999999999999999", 0, KUBE_RETRY_AFTER_MAX_MS},
    {"007", 0, 7000},
    {"", -1, 0},
    {"   ", -1, 0},
    {"-1", -1, 0},
    {"+1", -1, 0},
    {"1.5", -1, 0},
    {"1 2", -1, 0},
    {"1s", -1, 0},
    {"Wed, 21 Oct 2015 07:28:00 GMT", -1, 0},
};
#define N_CASES (sizeof(cases) / sizeof(cases[0]))

/* Indices, not the cases: the strings live in this process's image. */
ParameterizedTestParameters(kube_retry_after, parse)
{
	static size_t idx[N_CASES];
	for (size_t i = 0; i < N_CASES; i++)
		idx[i] = i;
	return cr_make_param_array(size_t, idx, N_CASES);
}

ParameterizedTest(size_t *i, kube_retry_after, parse)
{
	const struct ra_case *c = &cases[*i];
	int64_t ms = -7;
	int rc = kube_retry_after_parse(c->value, strlen(c->value), &ms);
	cr_assert_eq(rc, c->rc, "\"%s\": rc %d", c->value, rc);
	if (c->rc == 0)
		cr_assert_eq(ms, c->ms, "\"%s\": %lld ms", c->value, (long long)ms);
	else
		cr_assert_eq(ms, -7, "\"%s\": *ms written on failure", c->value);
}

Test(kube_retry_after, length_bounds_the_value)
{
	int64_t ms = 0;
	/* Only the first len bytes count: "12" read as "1". */
	cr_assert_eq(kube_retry_after_parse("12", 1, &ms), 0);
	cr_assert_eq(ms, 1000);
	cr_assert_eq(kube_retry_after_parse(NULL, 0, &ms), -1);
}

Test(kube_retry_after, which_answers_wait)
{
	static const long retried[] = {429, 500, 502, 503, 504, 599};
	static const long not_retried[] = {0, 200, 201, 400, 401, 403, 404, 409, 410, 422, 600};
	int64_t d;

	for (size_t i = 0; i < sizeof(retried) / sizeof(retried[0]); i++) {
		d = -1;
		cr_assert(kube_retry_after_delay(retried[i], "2", 1, 0, &d), "%ld", retried[i]);
		cr_assert_eq(d, 2000, "%ld", retried[i]);
	}
	for (size_t i = 0; i < sizeof(not_retried) / sizeof(not_retried[0]); i++)
		cr_assert_not(kube_retry_after_delay(not_retried[i], "2", 1, 0, &d), "%ld",
		              not_retried[i]);
	/* No header, or one that is not delta-seconds: the caller's own backoff. */
	cr_assert_not(kube_retry_after_delay(429, NULL, 0, 0, &d));
	cr_assert_not(kube_retry_after_delay(503, "soon", 4, 0, &d));
}

Test(kube_retry_after, attempts_are_bounded)
{
	int64_t d;
	for (unsigned int n = 0; n < KUBE_RETRY_AFTER_MAX_TRIES; n++)
		cr_assert(kube_retry_after_delay(429, "1", 1, n, &d), "attempt %u", n);
	cr_assert_not(kube_retry_after_delay(429, "1", 1, KUBE_RETRY_AFTER_MAX_TRIES, &d));
	cr_assert_not(kube_retry_after_delay(429, "1", 1, KUBE_RETRY_AFTER_MAX_TRIES + 5, &d));
}
