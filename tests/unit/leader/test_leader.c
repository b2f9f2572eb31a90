/*
 * Unit tests of pkg/leader's pure parts: configuration checks, MicroTime,
 * the record, the takeover rule, the Lease bodies, the state machine.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "../../../pkg/leader/leader.h"

static struct leader_config cfg(int64_t lease, int64_t renew, int64_t retry)
{
	struct leader_config c = {
	    .ns = "ns",
	    .name = "csr-approver",
	    .identity = "host_1234",
	    .lease_duration_ms = lease,
	    .renew_deadline_ms = renew,
	    .retry_period_ms = retry,
	};
	return c;
}

Test(leader_config, durations)
{
	char err[128];
	struct leader_config c = cfg(15000, 10000, 2000);
	cr_assert_eq(leader_config_validate(&c, err, sizeof(err)), 0, "%s", err);
	c = cfg(10000, 10000, 2000);
	cr_assert_eq(leader_config_validate(&c, err, sizeof(err)), -1);
	cr_assert_not_null(strstr(err, "lease duration"));
	c = cfg(15000, 10000, 9000);
	cr_assert_eq(leader_config_validate(&c, err, sizeof(err)), -1);
	cr_assert_not_null(strstr(err, "1.2"));
	c = cfg(15000, 12000, 10000); /* 12 > 1.2 x 10 is false: equal */
	cr_assert_eq(leader_config_validate(&c, err, sizeof(err)), -1);
	c = cfg(15000, 12001, 10000);
	cr_assert_eq(leader_config_validate(&c, err, sizeof(err)), 0);
	c = cfg(15000, 10000, 0);
	cr_assert_eq(leader_config_validate(&c, err, sizeof(err)), -1);
	c = cfg(15000, 10000, 2000);
	c.identity = "";
	cr_assert_eq(leader_config_validate(&c, err, sizeof(err)), -1);
}

Test(leader_time, microtime_has_six_digits)
{
	char buf[40];
	struct timespec t = {.tv_sec = 1785000006, .tv_nsec = 123456789};
	leader_format_microtime(&t, buf, sizeof(buf));
	cr_assert_str_eq(buf, "2026-07-25T17:20:06.123456Z");
	t.tv_nsec = 0;
	leader_format_microtime(&t, buf, sizeof(buf));
	cr_assert_str_eq(buf, "2026-07-25T17:20:06.000000Z");
	t.tv_nsec = 999;
	leader_format_microtime(&t, buf, sizeof(buf));
	cr_assert_str_eq(buf, "2026-07-25T17:20:06.000000Z");
}

static json_t *load(const char *s)
{
	json_error_t e;
	json_t *j = json_loads(s, 0, &e);
	cr_assert_not_null(j, "%s", e.text);
	return j;
}

Test(leader_record, from_lease)
{
	json_t *l = load("{\"metadata\":{\"resourceVersion\":\"9\"},\"spec\":{"
	                 "\"holderIdentity\":\"a_1\",\"leaseDurationSeconds\":15,"
	                 "\"acquireTime\":\"2026-07-25T10:00:00.000000Z\","
	                 "\"renewTime\":\"2026-07-25T10:00:06.123456Z\",\"leaseTransitions\":3}}");
	struct leader_record r, e;
	cr_assert_eq(leader_record_from_lease(l, &r), 0);
	cr_assert_str_eq(r.holder, "a_1");
	cr_assert_eq(r.lease_duration_s, 15);
	cr_assert_str_eq(r.acquire_time, "2026-07-25T10:00:00.000000Z");
	cr_assert_str_eq(r.renew_time, "2026-07-25T10:00:06.123456Z");
	cr_assert_eq(r.transitions, 3);
	json_t *empty = load("{\"metadata\":{}}");
	cr_assert_eq(leader_record_from_lease(empty, &e), 0);
	cr_assert_str_eq(e.holder, "");
	cr_assert_eq(e.transitions, 0);
	cr_assert_not(leader_record_equal(&r, &e));
	cr_assert(leader_record_equal(&r, &r));
	leader_record_clear(&e);
	cr_assert_eq(leader_record_from_lease(NULL, &e), -1);
	leader_record_clear(&r);
	leader_record_clear(&e);
	leader_record_clear(NULL);
	json_decref(l);
	json_decref(empty);
}

Test(leader_record, renewal_is_a_change)
{
	struct leader_record a = {.holder = "x",
	                          .lease_duration_s = 15,
	                          .acquire_time = "t0",
	                          .renew_time = "t1",
	                          .transitions = 1};
	struct leader_record b = a;
	cr_assert(leader_record_equal(&a, &b));
	b.renew_time = "t2";
	cr_assert_not(leader_record_equal(&a, &b));
	b = a;
	b.transitions = 2;
	cr_assert_not(leader_record_equal(&a, &b));
}

Test(leader_acquire, rule)
{
	struct leader_record held = {.holder = "other", .lease_duration_s = 15};
	/* Expiry runs from when the record was seen to change, on the local clock. */
	cr_assert_not(leader_can_acquire(&held, 100000, "me", 100000));
	cr_assert_not(leader_can_acquire(&held, 100000, "me", 114999));
	cr_assert(leader_can_acquire(&held, 100000, "me", 115000));
	/* Our own lease, or a released one, can be taken at once. */
	cr_assert(leader_can_acquire(&held, 100000, "other", 100001));
	struct leader_record released = {.holder = "", .lease_duration_s = 1};
	cr_assert(leader_can_acquire(&released, 100000, "me", 100000));
	struct leader_record none = {0};
	cr_assert(leader_can_acquire(&none, 0, "me", 0));
}

Test(leader_body, put_and_release)
{
	struct leader_record r = {.holder = "me_1",
	                          .lease_duration_s = 15,
	                          .acquire_time = "2026-07-25T10:00:00.000000Z",
	                          .renew_time = "2026-07-25T10:00:02.000001Z",
	                          .transitions = 4};
	char *body = leader_lease_body("ns", "csr-approver", "77", &r);
	json_t *o = load(body);
	cr_assert_str_eq(json_string_value(json_object_get(o, "apiVersion")),
	                 "coordination.k8s.io/v1");
	cr_assert_str_eq(json_string_value(json_object_get(o, "kind")), "Lease");
	json_t *md = json_object_get(o, "metadata");
	cr_assert_str_eq(json_string_value(json_object_get(md, "name")), "csr-approver");
	cr_assert_str_eq(json_string_value(json_object_get(md, "namespace")), "ns");
	cr_assert_str_eq(json_string_value(json_object_get(md, "resourceVersion")), "77");
	json_t *spec = json_object_get(o, "spec");
	cr_assert_str_eq(json_string_value(json_object_get(spec, "holderIdentity")), "me_1");
	cr_assert_eq(json_integer_value(json_object_get(spec, "leaseDurationSeconds")), 15);
	cr_assert_str_eq(json_string_value(json_object_get(spec, "renewTime")),
	                 "2026-07-25T10:00:02.000001Z");
	cr_assert_eq(json_integer_value(json_object_get(spec, "leaseTransitions")), 4);
	json_decref(o);
	free(body);

	struct leader_record rel = {.holder = "", .lease_duration_s = 1, .transitions = 4};
	body = leader_lease_body("ns", "csr-approver", NULL, &rel);
	o = load(body);
	cr_assert_null(json_object_get(json_object_get(o, "metadata"), "resourceVersion"));
	spec = json_object_get(o, "spec");
	cr_assert_str_eq(json_string_value(json_object_get(spec, "holderIdentity")), "");
	cr_assert_eq(json_integer_value(json_object_get(spec, "leaseDurationSeconds")), 1);
	cr_assert_null(json_object_get(spec, "acquireTime"));
	json_decref(o);
	free(body);
}

/* ---- the state machine ---- */

static struct leader_record rec(const char *holder, const char *renew)
{
	struct leader_record r = {.holder = (char *)holder,
	                          .lease_duration_s = 15,
	                          .acquire_time = (char *)"2026-07-25T10:00:00.000000Z",
	                          .renew_time = (char *)renew,
	                          .transitions = 1};
	return r;
}

Test(leader_state, leads_after_its_write)
{
	struct leader_state s = {0};
	struct leader_record mine = rec("me", "2026-07-25T10:00:00.000000Z");
	cr_assert_not(leader_state_is_leader(&s, "me"));
	cr_assert(leader_state_observe(&s, &mine, 1000), "the first record is a new holder");
	cr_assert_not(leader_state_is_leader(&s, "me"), "a record alone is not a term");
	cr_assert(leader_state_won(&s, 1000));
	cr_assert(leader_state_is_leader(&s, "me"));
	cr_assert_not(leader_state_is_leader(&s, "other"));
	/* A renewal: same holder, a later renewTime. */
	mine.renew_time = (char *)"2026-07-25T10:00:02.000000Z";
	cr_assert_not(leader_state_observe(&s, &mine, 3000));
	cr_assert_not(leader_state_won(&s, 3000), "a renewal starts no new term");
	cr_assert_eq(s.observed_ms, 3000);
	cr_assert(leader_state_is_leader(&s, "me"));
	leader_state_clear(&s);
	cr_assert_not(s.have_observed);
	leader_state_clear(NULL);
}

Test(leader_state, another_holder_ends_the_term_at_once)
{
	struct leader_state s = {0};
	struct leader_record mine = rec("me", "2026-07-25T10:00:00.000000Z");
	leader_state_observe(&s, &mine, 1000);
	leader_state_won(&s, 1000);
	cr_assert(leader_state_is_leader(&s, "me"));

	/* 1 ms later, well inside the renew deadline, a GET shows that
	 * another candidate holds the lease: no longer the leader. */
	struct leader_record theirs = rec("other", "2026-07-25T10:00:01.000000Z");
	cr_assert(leader_state_observe(&s, &theirs, 1001));
	cr_assert_not(leader_state_is_leader(&s, "me"));
	cr_assert_not(s.lost, "not lost yet: the renew deadline has not passed");
	cr_assert_not(leader_state_check_deadline(&s, 10000, 1002));
	cr_assert_not(leader_state_is_leader(&s, "me"));
	/* Its lease has not run out by our observation: not ours to take. */
	cr_assert_not(leader_can_acquire(&s.observed, s.observed_ms, "me", 1002));

	/* The term then ends for good at the renew deadline. */
	cr_assert(leader_state_check_deadline(&s, 10000, 11001));
	cr_assert(s.lost);
	cr_assert_not(leader_state_is_leader(&s, "me"));
	leader_state_clear(&s);
}

/* What the write gate asks: leading, and by the clock, even before a tick
 * has found the term past its deadline (a process frozen or starved). */
Test(leader_state, holds_by_the_clock)
{
	struct leader_state s = {0};
	struct leader_record mine = rec("me", "2026-07-25T10:00:00.000000Z");
	cr_assert_not(leader_state_holds(&s, "me", 10000, 1000), "not leading");
	leader_state_observe(&s, &mine, 1000);
	cr_assert_not(leader_state_holds(&s, "me", 10000, 1000), "a record alone is not a term");
	leader_state_won(&s, 1000);
	cr_assert(leader_state_holds(&s, "me", 10000, 1000));
	cr_assert(leader_state_holds(&s, "me", 10000, 11000), "exactly at the deadline");
	cr_assert_not(leader_state_holds(&s, "other", 10000, 1000));
	/* Past the deadline, with no tick in between: the term still reads
	 * as leading, the clock does not. */
	cr_assert(leader_state_is_leader(&s, "me"));
	cr_assert_not(leader_state_holds(&s, "me", 10000, 11001));
	cr_assert(leader_state_is_leader(&s, "me"), "holds() changes nothing");
	/* A renewal moves the deadline. */
	mine.renew_time = (char *)"2026-07-25T10:00:09.000000Z";
	leader_state_observe(&s, &mine, 10000);
	leader_state_won(&s, 10000);
	cr_assert(leader_state_holds(&s, "me", 10000, 11001));
	/* Another holder ends it at once. */
	struct leader_record theirs = rec("other", "2026-07-25T10:00:10.000000Z");
	leader_state_observe(&s, &theirs, 10001);
	cr_assert_not(leader_state_holds(&s, "me", 10000, 10001));
	leader_state_clear(&s);
}

/* The write gate lets the elector's own requests through: its Leases
 * collection and what is below it, nothing that merely begins the same. */
Test(leader, own_path)
{
	const char *col = "/apis/coordination.k8s.io/v1/namespaces/ns/leases";
	cr_assert(leader_path_under(col, col));
	cr_assert(leader_path_under(col, "/apis/coordination.k8s.io/v1/namespaces/ns/leases/a"));
	cr_assert(leader_path_under(col, "/apis/coordination.k8s.io/v1/namespaces/ns/leases?x=1"));
	cr_assert_not(leader_path_under(col, "/apis/coordination.k8s.io/v1/namespaces/ns/leasesx"));
	cr_assert_not(leader_path_under(col, "/apis/coordination.k8s.io/v1/namespaces/ns"));
	cr_assert_not(leader_path_under(col, "/apis/coordination.k8s.io/v1/namespaces/nsx/leases"));
	cr_assert_not(leader_path_under(
	    col, "/apis/certificates.k8s.io/v1/certificatesigningrequests/a/approval"));
	cr_assert_not(leader_path_under(col, "/api/v1/namespaces/default/events"));
}

Test(leader_state, released_lease_is_not_ours)
{
	struct leader_state s = {0};
	struct leader_record mine = rec("me", "2026-07-25T10:00:00.000000Z");
	leader_state_observe(&s, &mine, 1000);
	leader_state_won(&s, 1000);
	struct leader_record released = rec("", "2026-07-25T10:00:01.000000Z");
	released.lease_duration_s = 1;
	leader_state_observe(&s, &released, 1500);
	cr_assert_not(leader_state_is_leader(&s, "me"));
	leader_state_clear(&s);
}

Test(leader_state, deadline)
{
	struct leader_state s = {0};
	struct leader_record mine = rec("me", "2026-07-25T10:00:00.000000Z");
	/* Not leading: nothing to lose. */
	cr_assert_not(leader_state_check_deadline(&s, 10000, 50000));
	leader_state_observe(&s, &mine, 1000);
	leader_state_won(&s, 1000);
	cr_assert_not(leader_state_check_deadline(&s, 10000, 11000), "exactly at the deadline");
	cr_assert(leader_state_is_leader(&s, "me"));
	cr_assert(leader_state_check_deadline(&s, 10000, 11001));
	cr_assert_not(leader_state_check_deadline(&s, 10000, 12000), "found lost once");
	cr_assert_not(leader_state_is_leader(&s, "me"));
	/* A later write of ours does not revive a lost term. */
	leader_state_won(&s, 12000);
	cr_assert_not(leader_state_is_leader(&s, "me"));
	leader_state_forget(&s);
	cr_assert_not(s.have_observed);
	leader_state_clear(&s);
}
