/*
 * What the policy tells its caller besides the verdict: whether a denial
 * rests on cluster state alone (so that a controller reads the objects live
 * before writing it), and the SubjectAccessReview a kubelet-client decision
 * needs, given back as a value instead of asked through a callback.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "fixture.h"

#define X_POD_NAME "authentication.kubernetes.io/pod-name"
#define X_POD_UID "authentication.kubernetes.io/pod-uid"

static void decide_once(struct pt *t)
{
	policy_decision_clear(&t->d);
	t->rc = policy_decide(t->set, t->req, t->info, t->decode_error, &t->lk, &t->d);
	cr_assert_eq(t->rc, 0);
}

Test(policy_inputs, uid_mismatch_rests_on_objects)
{
	struct pt t;
	pt_init(&t, PT_WORKLOAD);
	pt_set_extra(&t, X_POD_UID, "uid-web-0");
	decide_once(&t);
	cr_expect_eq(t.d.verdict, POLICY_DENY);
	cr_expect_eq(t.d.reason, POLICY_R_POD_MISMATCH);
	cr_expect(t.d.rests_on_objects);
	cr_expect_not(t.d.missing_object);
	pt_fini(&t);
}

Test(policy_inputs, missing_pod_rests_on_objects)
{
	struct pt t;
	pt_init(&t, PT_WORKLOAD);
	pt_set_extra(&t, X_POD_NAME, "gone-1");
	decide_once(&t);
	cr_expect_eq(t.d.reason, POLICY_R_POD_NOT_FOUND);
	cr_expect(t.d.rests_on_objects);
	cr_expect(t.d.missing_object);
	pt_fini(&t);
}

Test(policy_inputs, name_not_of_the_pod_rests_on_objects)
{
	struct pt t;
	pt_init(&t, PT_WORKLOAD);
	pt_add_san(&t, CSR_SAN_DNS, "db.other.svc");
	decide_once(&t);
	cr_expect_eq(t.d.reason, POLICY_R_SAN_NOT_ALLOWED);
	cr_expect(t.d.rests_on_objects, "a Service may be missing from a lagging cache");
	pt_fini(&t);
}

/* One failure of the request itself makes the denial final, whatever the
 * objects say. */
Test(policy_inputs, request_failure_is_final)
{
	struct pt t;
	pt_init(&t, PT_WORKLOAD);
	pt_set_extra(&t, X_POD_UID, "uid-web-0");
	pt_set_usages(&t, NULL);
	decide_once(&t);
	cr_expect_eq(t.d.reason, POLICY_R_POD_MISMATCH);
	cr_expect_not(t.d.rests_on_objects);
	pt_fini(&t);
}

Test(policy_inputs, forbidden_name_kind_is_final)
{
	struct pt t;
	pt_init(&t, PT_WORKLOAD);
	pt_add_san(&t, CSR_SAN_DNS, "*.shop.svc");
	decide_once(&t);
	cr_expect_eq(t.d.reason, POLICY_R_SAN_NOT_ALLOWED);
	cr_expect_not(t.d.rests_on_objects);
	pt_fini(&t);
}

Test(policy_inputs, namespace_is_final)
{
	struct pt t;
	pt_init(&t, PT_WORKLOAD);
	util_strv_push(&pt_rule(&t)->exclude_namespaces, "shop");
	decide_once(&t);
	cr_expect_eq(t.d.reason, POLICY_R_NAMESPACE_NOT_ALLOWED);
	cr_expect_not(t.d.rests_on_objects);
	pt_fini(&t);
}

Test(policy_inputs, approval_rests_on_nothing)
{
	struct pt t;
	pt_init(&t, PT_WORKLOAD);
	decide_once(&t);
	cr_expect_eq(t.d.verdict, POLICY_APPROVE);
	cr_expect_not(t.d.rests_on_objects);
	cr_expect_not(t.d.missing_object);
	pt_fini(&t);
}

Test(policy_inputs, missing_node_rests_on_objects)
{
	struct pt t;
	pt_init(&t, PT_SERVING);
	t.lk.get_node = NULL;
	decide_once(&t);
	cr_expect_eq(t.d.reason, POLICY_R_NODE_NOT_FOUND);
	cr_expect(t.d.rests_on_objects);
	cr_expect(t.d.missing_object);
	pt_fini(&t);
}

/* The review comes back as a value; the same inputs give the same answer. */
Test(policy_inputs, review_is_returned_not_asked)
{
	struct pt t;
	pt_init(&t, PT_CLIENT);
	decide_once(&t);
	cr_expect_eq(t.d.verdict, POLICY_NEEDS_AUTHORIZATION);
	cr_expect_eq(t.d.reason, POLICY_R_NONE);
	cr_assert_not_null(t.d.sar.user);
	cr_expect_str_eq(t.d.sar.user, "system:node:node-1");
	cr_expect_str_eq(t.d.sar.verb, "create");
	cr_expect_str_eq(t.d.sar.group, "certificates.k8s.io");
	cr_expect_str_eq(t.d.sar.resource, "certificatesigningrequests");
	cr_expect_str_eq(t.d.sar.subresource, "selfnodeclient");
	cr_expect_eq(t.d.sar.groups, &t.req->groups);
	decide_once(&t);
	cr_expect_eq(t.d.verdict, POLICY_NEEDS_AUTHORIZATION, "deciding again changes nothing");

	t.lk.authorization = POLICY_SAR_DENIED;
	t.lk.authorization_for = "selfnodeclient";
	decide_once(&t);
	cr_expect_eq(t.d.verdict, POLICY_DENY);
	cr_expect_eq(t.d.reason, POLICY_R_NOT_AUTHORIZED);
	cr_expect_not(t.d.rests_on_objects);

	t.lk.authorization = POLICY_SAR_ALLOWED;
	decide_once(&t);
	cr_expect_eq(t.d.verdict, POLICY_APPROVE);
	pt_fini(&t);
}

/* An answer given for another question is no answer. */
Test(policy_inputs, answer_for_another_review_is_unasked)
{
	struct pt t;
	pt_init(&t, PT_CLIENT);
	t.lk.authorization = POLICY_SAR_ALLOWED;
	t.lk.authorization_for = "nodeclient";
	decide_once(&t);
	cr_expect_eq(t.d.verdict, POLICY_NEEDS_AUTHORIZATION);
	cr_expect_str_eq(t.d.sar.subresource, "selfnodeclient");
	pt_fini(&t);
}
