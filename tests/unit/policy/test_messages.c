/*
 * Decisions as users see them: exact messages, the order of reasons, the
 * quoting of strings from the request, the length cap, the skips and the
 * arguments policy_decide() refuses.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"

#define PREFIX "csr-approver: policy workload-mtls: "

static bool valid_utf8(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		size_t len = *p < 0x80    ? 1
		    : (*p & 0xe0) == 0xc0 ? 2
		    : (*p & 0xf0) == 0xe0 ? 3
		    : (*p & 0xf8) == 0xf0 ? 4
		                          : 0;
		if (len == 0)
			return false;
		for (size_t i = 1; i < len; i++)
			if ((p[i] & 0xc0) != 0x80)
				return false;
		p += len;
	}
	return true;
}

Test(policy_messages, approve_workload)
{
	struct pt t;
	pt_init(&t, PT_WORKLOAD);
	pt_decide(&t);
	cr_expect_eq(t.rc, 0);
	cr_expect_eq(t.d.verdict, POLICY_APPROVE);
	cr_expect_eq(t.d.reason, POLICY_R_AUTO_APPROVED);
	cr_expect_str_eq(t.d.message,
	                 PREFIX
	                 "service account shop/web, pod shop/web-7d9 (uid uid-web-1), 5 SANs");
	cr_expect_str_eq(t.d.policy, "workload-mtls");
	cr_expect_not(t.d.leave_pending);
	cr_expect_not(t.d.missing_object);
	pt_fini(&t);
}

Test(policy_messages, deny_dns_lists_allowed_names)
{
	struct pt t;
	pt_init(&t, PT_WORKLOAD);
	pt_add_san(&t, CSR_SAN_DNS, "db.other.svc");
	pt_decide(&t);
	cr_expect_eq(t.d.verdict, POLICY_DENY);
	cr_expect_eq(t.d.reason, POLICY_R_SAN_NOT_ALLOWED);
	cr_expect_str_eq(t.d.message,
	                 PREFIX "DNS SAN \"db.other.svc\" is not a name of pod shop/web-7d9 "
	                        "(allowed: web.shop.svc, web.shop.svc.cluster.local, "
	                        "10-0-0-5.shop.pod.cluster.local, fd00--5.shop.pod.cluster.local)");
	pt_fini(&t);
}

Test(policy_messages, deny_dns_lists_short_names_when_allowed)
{
	struct pt t;
	pt_init(&t, PT_WORKLOAD);
	pt_rule(&t)->allowed_names |= POLICY_NAME_SERVICE_SHORT_DNS;
	pt_add_san(&t, CSR_SAN_DNS, "db.other.svc");
	pt_decide(&t);
	cr_expect_eq(t.d.reason, POLICY_R_SAN_NOT_ALLOWED);
	cr_expect_str_eq(t.d.message,
	                 PREFIX
	                 "DNS SAN \"db.other.svc\" is not a name of pod shop/web-7d9 "
	                 "(allowed: web.shop.svc, web.shop.svc.cluster.local, web, web.shop, "
	                 "10-0-0-5.shop.pod.cluster.local, fd00--5.shop.pod.cluster.local)");
	pt_fini(&t);
}

Test(policy_messages, allowed_names_listed_once)
{
	struct pt t;
	pt_init(&t, PT_WORKLOAD);
	pt_add_san(&t, CSR_SAN_DNS, "a.other.svc");
	pt_add_san(&t, CSR_SAN_DNS, "b.other.svc");
	pt_add_service(&t, "shop", "web2", "tier=front");
	pt_decide(&t);
	cr_expect_str_eq(t.d.message,
	                 PREFIX
	                 "DNS SAN \"a.other.svc\" is not a name of pod shop/web-7d9 "
	                 "(allowed: web.shop.svc, web.shop.svc.cluster.local, web2.shop.svc, "
	                 "web2.shop.svc.cluster.local, 10-0-0-5.shop.pod.cluster.local, "
	                 "fd00--5.shop.pod.cluster.local); DNS SAN \"b.other.svc\" is not a "
	                 "name of pod shop/web-7d9");
	pt_fini(&t);

	/* With the short names, more than the list shows. */
	pt_init(&t, PT_WORKLOAD);
	pt_rule(&t)->allowed_names |= POLICY_NAME_SERVICE_SHORT_DNS;
	pt_add_san(&t, CSR_SAN_DNS, "a.other.svc");
	pt_add_service(&t, "shop", "web2", "tier=front");
	pt_decide(&t);
	cr_expect_str_eq(t.d.message,
	                 PREFIX
	                 "DNS SAN \"a.other.svc\" is not a name of pod shop/web-7d9 "
	                 "(allowed: web.shop.svc, web.shop.svc.cluster.local, web, web.shop, "
	                 "web2.shop.svc, web2.shop.svc.cluster.local and 4 more)");
	pt_fini(&t);
}

Test(policy_messages, every_failure_in_reason_order)
{
	struct pt t;
	pt_init(&t, PT_WORKLOAD);
	pt_set_usages(&t, NULL);
	t.req->expiration_seconds = 30;
	pt_add_subject(&t, CSR_ATTR_O, CSR_STR_UTF8, "shop");
	t.info->sig.verified = false;
	pt_decide(&t);
	cr_expect_eq(t.d.verdict, POLICY_DENY);
	cr_expect_eq(t.d.reason, POLICY_R_SIGNATURE_INVALID);
	cr_expect_str_eq(t.d.message,
	                 PREFIX "the self-signature does not verify with the embedded public key "
	                        "(no proof of possession); subject O \"shop\" is not allowed by a "
	                        "workload policy (CN only); spec.usages is empty; "
	                        "spec.expirationSeconds 30 is outside [600, 86400]");
	pt_fini(&t);
}

/* Each failed check on its own (for `csr-approver why`), in the order of
 * the message, with its reason. */
Test(policy_messages, failed_checks_listed_one_by_one)
{
	struct pt t;
	pt_init(&t, PT_WORKLOAD);
	pt_set_usages(&t, NULL);
	t.req->expiration_seconds = 30;
	t.info->sig.verified = false;
	pt_decide(&t);
	cr_assert_eq(t.d.n_failed, 3);
	cr_expect_eq(t.d.failed[0].reason, POLICY_R_SIGNATURE_INVALID);
	cr_expect_eq(t.d.failed[1].reason, POLICY_R_USAGE_NOT_ALLOWED);
	cr_expect_str_eq(t.d.failed[1].text, "spec.usages is empty");
	cr_expect_eq(t.d.failed[2].reason, POLICY_R_EXPIRATION_NOT_ALLOWED);
	cr_expect_str_eq(t.d.failed[2].text, "spec.expirationSeconds 30 is outside [600, 86400]");
	pt_fini(&t);

	pt_init(&t, PT_WORKLOAD);
	pt_decide(&t);
	cr_expect_eq(t.d.verdict, POLICY_APPROVE);
	cr_expect_eq(t.d.n_failed, 0);
	cr_expect_null(t.d.failed);
	pt_fini(&t);
}

Test(policy_messages, reason_is_the_first_in_rule_order)
{
	/* The type rules run after the global ones, yet a requester failure
	 * outranks a SAN failure found earlier. */
	struct pt t;
	pt_init(&t, PT_WORKLOAD);
	pt_add_san(&t, CSR_SAN_EMAIL, "a@b.c");
	t.req->expiration_seconds = 10;
	pt_str(&t.req->username, "system:serviceaccount:shop:web:x");
	pt_decide(&t);
	cr_expect_eq(t.d.reason, POLICY_R_REQUESTER_NOT_ALLOWED);
	const char *m = t.d.message;
	const char *req = strstr(m, "is not a service account");
	const char *san = strstr(m, "email SAN");
	const char *exp = strstr(m, "expirationSeconds 10");
	cr_assert(req && san && exp, "%s", m);
	cr_expect(req < san && san < exp, "%s", m);
	pt_fini(&t);
}

Test(policy_messages, quoting_escapes_control_and_hidden_characters)
{
	struct pt t;
	pt_init(&t, PT_WORKLOAD);
	pt_clear_subject(&t);
	pt_add_subject(&t, CSR_ATTR_CN, CSR_STR_UTF8, "a\x01\"\\\xe2\x80\xaez\n");
	pt_decide(&t);
	cr_expect_eq(t.d.reason, POLICY_R_SUBJECT_NOT_ALLOWED);
	cr_expect_str_eq(t.d.message,
	                 PREFIX
	                 "subject CN \"a\\x01\\\"\\\\\\u202ez\\x0a\" contains a control "
	                 "character; subject CN \"a\\x01\\\"\\\\\\u202ez\\x0a\" is not one of the "
	                 "requested DNS SANs");
	pt_fini(&t);
}

Test(policy_messages, quoting_escapes_invalid_utf8)
{
	struct pt t;
	pt_init(&t, PT_WORKLOAD);
	pt_add_san(&t, CSR_SAN_DNS, "x\xc3(\xff.svc");
	pt_decide(&t);
	cr_expect(strstr(t.d.message, "DNS SAN \"x\\xc3(\\xff.svc\" holds a character") != NULL,
	          "%s", t.d.message);
	cr_expect(valid_utf8(t.d.message));
	pt_fini(&t);
}

Test(policy_messages, quoting_truncates)
{
	struct pt t;
	char cn[301], want[140];
	memset(cn, 'a', 300);
	cn[300] = '\0';
	pt_init(&t, PT_WORKLOAD);
	pt_clear_subject(&t);
	pt_add_subject(&t, CSR_ATTR_CN, CSR_STR_UTF8, cn);
	pt_decide(&t);
	want[0] = '"';
	memset(want + 1, 'a', 128);
	memcpy(want + 129, "...\"", 5);
	cr_expect(strstr(t.d.message, want) != NULL, "%s", t.d.message);
	want[129] = 'a';
	want[130] = '\0';
	cr_expect(strstr(t.d.message, want) == NULL, "more than 128 bytes quoted");
	pt_fini(&t);
}

Test(policy_messages, quoting_truncates_on_a_character)
{
	struct pt t;
	char cn[140], want[140];
	memset(cn, 'a', 127);
	memcpy(cn + 127, "\xc3\xa9", 3);
	pt_init(&t, PT_WORKLOAD);
	pt_clear_subject(&t);
	pt_add_subject(&t, CSR_ATTR_CN, CSR_STR_UTF8, cn);
	pt_decide(&t);
	want[0] = '"';
	memset(want + 1, 'a', 127);
	memcpy(want + 128, "...\"", 5);
	cr_expect(strstr(t.d.message, want) != NULL, "%s", t.d.message);
	cr_expect(valid_utf8(t.d.message));
	pt_fini(&t);
}

Test(policy_messages, message_capped)
{
	struct pt t;
	char name[64];
	pt_init(&t, PT_WORKLOAD);
	pt_rule(&t)->max_sans = 1000;
	for (int i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "n%d.other.svc", i);
		pt_add_san(&t, CSR_SAN_DNS, name);
	}
	pt_decide(&t);
	size_t n = strlen(t.d.message);
	cr_expect_eq(t.d.reason, POLICY_R_SAN_NOT_ALLOWED);
	cr_expect_leq(n, POLICY_MESSAGE_MAX);
	cr_expect_geq(n, POLICY_MESSAGE_MAX - 8);
	cr_expect_str_eq(t.d.message + n - 3, "...");
	cr_expect(strncmp(t.d.message, PREFIX "DNS SAN \"n0.other.svc\"", strlen(PREFIX) + 22) ==
	          0);
	pt_fini(&t);
}

Test(policy_messages, san_count_leads_thousands_of_failing_sans)
{
	/* As many SANs as a request under 64 KiB holds, each failing on its
	 * own: the count comes first, the message stays capped. */
	struct pt t;
	const size_t n = 23900;
	pt_init(&t, PT_WORKLOAD);
	pt_clear_sans(&t);
	pt_clear_subject(&t);
	t.info->sans = util_xcalloc(n, sizeof(*t.info->sans));
	for (size_t i = 0; i < n; i++) {
		t.info->sans[i].type = CSR_SAN_DNS;
		t.info->sans[i].value = util_xstrdup("");
	}
	t.info->n_sans = n;
	pt_decide(&t);
	cr_expect_eq(t.d.verdict, POLICY_DENY);
	cr_expect_eq(t.d.reason, POLICY_R_SAN_NOT_ALLOWED);
	cr_expect(strncmp(t.d.message,
	                  PREFIX "23900 SANs, more than maxSANs 32; DNS SAN \"\" is empty; ",
	                  strlen(PREFIX) + 52) == 0,
	          "%s", t.d.message);
	cr_expect_leq(strlen(t.d.message), POLICY_MESSAGE_MAX);
	pt_fini(&t);
}

Test(policy_messages, reasons_sorted_among_thousands)
{
	/* Failures of a later reason before thousands of an earlier one: the
	 * earlier reason still leads, and each keeps its order. */
	struct pt t;
	char name[32];
	pt_init(&t, PT_WORKLOAD);
	pt_rule(&t)->max_sans = 5000;
	for (int i = 0; i < 3000; i++) {
		snprintf(name, sizeof(name), "n%d.other.svc", i);
		pt_add_san(&t, CSR_SAN_DNS, name);
	}
	/* Found after the SANs, by the workload rules. */
	pt_str(&pt_cn(&t)->value, "api.shop.svc");
	pt_cn(&t)->value_len = strlen("api.shop.svc");
	pt_decide(&t);
	cr_expect_eq(t.d.reason, POLICY_R_SUBJECT_NOT_ALLOWED);
	const char *m = t.d.message;
	const char *n0 = strstr(m, "\"n0.other.svc\"");
	const char *n1 = strstr(m, "\"n1.other.svc\"");
	const char *n2 = strstr(m, "\"n2.other.svc\"");
	cr_expect(strncmp(m,
	                  PREFIX
	                  "subject CN \"api.shop.svc\" is not one of the requested DNS SANs; "
	                  "DNS SAN \"n0.other.svc\" is not a name",
	                  strlen(PREFIX) + 100) == 0,
	          "%s", m);
	cr_expect(n0 != NULL && n1 != NULL && n2 != NULL && n0 < n1 && n1 < n2, "%s", m);
	pt_fini(&t);
}

Test(policy_messages, message_capped_on_a_character)
{
	/* Non-ASCII DNS names are quoted raw when valid UTF-8; the cap must not
	 * cut a character in half, wherever it falls: a first name of growing
	 * length moves the cut over every byte of the names after it. */
	for (int pad = 0; pad < 64; pad++) {
		struct pt t;
		char name[200];
		pt_init(&t, PT_WORKLOAD);
		pt_rule(&t)->max_sans = 1000;
		memset(name, 'a', (size_t)pad);
		memcpy(name + pad, "\xe6\x97\xa5", 4);
		pt_add_san(&t, CSR_SAN_DNS, name);
		for (int i = 0; i < 20; i++) {
			size_t n = 0;
			for (int k = 0; k < 40; k++, n += 3)
				memcpy(name + n, "\xe6\x97\xa5", 3);
			snprintf(name + n, sizeof(name) - n, "%d", i);
			pt_add_san(&t, CSR_SAN_DNS, name);
		}
		pt_decide(&t);
		cr_expect_leq(strlen(t.d.message), POLICY_MESSAGE_MAX);
		cr_expect(valid_utf8(t.d.message), "pad %d: %s", pad, t.d.message);
		pt_fini(&t);
	}
}

Test(policy_messages, pending_message)
{
	struct pt t;
	pt_init(&t, PT_CLIENT);
	t.w.sar_answer = POLICY_SAR_UNASKED;
	pt_decide(&t);
	cr_expect_eq(t.d.verdict, POLICY_NEEDS_AUTHORIZATION);
	cr_expect_eq(t.d.reason, POLICY_R_NONE);
	cr_expect_str_eq(t.d.message,
	                 "csr-approver: policy kubelet-client: waiting for the "
	                 "SubjectAccessReview of "
	                 "certificatesigningrequests/selfnodeclient");
	cr_expect_str_eq(t.d.policy, "kubelet-client");
	pt_fini(&t);
}

Test(policy_messages, serving_exact)
{
	struct pt t;
	pt_init(&t, PT_SERVING);
	pt_add_san(&t, CSR_SAN_IP, "10.9.9.9");
	pt_decide(&t);
	cr_expect_str_eq(t.d.message,
	                 "csr-approver: policy kubelet-serving: IP SAN 10.9.9.9 is "
	                 "not an address of node node-1 (allowed: 192.168.1.10, "
	                 "203.0.113.7; or inside the 1 ipPrefixes)");
	pt_fini(&t);
}

/* ---- skips ---- */

struct skip_case {
	const char *name;
	bool approved, denied, failed, has_certificate;
	const char *signer;
	enum policy_reason reason;
	const char *message;
};

static const struct skip_case skip_cases[] = {
    {"approved", true, false, false, false, PT_SIGNER_WORKLOAD, POLICY_R_ALREADY_DECIDED,
     "csr-approver: already approved"},
    {"denied", false, true, false, false, PT_SIGNER_WORKLOAD, POLICY_R_ALREADY_DECIDED,
     "csr-approver: already denied"},
    {"failed", false, false, true, false, PT_SIGNER_WORKLOAD, POLICY_R_ALREADY_DECIDED,
     "csr-approver: already failed"},
    {"issued", false, false, false, true, PT_SIGNER_WORKLOAD, POLICY_R_ALREADY_DECIDED,
     "csr-approver: already issued"},
    {"another signer", false, false, false, false, "example.com/other", POLICY_R_NO_POLICY,
     "csr-approver: no policy for signerName \"example.com/other\""},
    {"signer differing in case", false, false, false, false, "Example.com/workload-mtls",
     POLICY_R_NO_POLICY, "csr-approver: no policy for signerName \"Example.com/workload-mtls\""},
    {"approved, another signer", true, false, false, false, "example.com/other",
     POLICY_R_ALREADY_DECIDED, "csr-approver: already approved"},
    {"no signer", false, false, false, false, NULL, POLICY_R_NO_POLICY,
     "csr-approver: no policy for signerName \"\""},
};

Test(policy_messages, skips)
{
	for (size_t i = 0; i < sizeof(skip_cases) / sizeof(skip_cases[0]); i++) {
		const struct skip_case *c = &skip_cases[i];
		struct pt t;
		pt_init(&t, PT_WORKLOAD);
		t.req->approved = c->approved;
		t.req->denied = c->denied;
		t.req->failed = c->failed;
		t.req->has_certificate = c->has_certificate;
		free(t.req->signer_name);
		t.req->signer_name = c->signer ? util_xstrdup(c->signer) : NULL;
		t.lk.get_pod = NULL; /* a skip looks nothing up */
		pt_decide(&t);
		cr_expect_eq(t.rc, 0, "[%s]", c->name);
		cr_expect_eq(t.d.verdict, POLICY_SKIP, "[%s]", c->name);
		cr_expect_eq(t.d.reason, c->reason, "[%s] %s", c->name,
		             policy_reason_name(t.d.reason));
		cr_expect_str_eq(t.d.message, c->message, "[%s]", c->name);
		cr_expect_null(t.d.policy, "[%s]", c->name);
		cr_expect_eq(t.w.sar_calls, 0, "[%s]", c->name);
		pt_fini(&t);
	}
}

Test(policy_messages, no_policies)
{
	struct pt t;
	struct policy_set empty = {0};
	pt_init(&t, PT_WORKLOAD);
	cr_expect_eq(policy_decide(&empty, t.req, t.info, NULL, &t.lk, &t.d), 0);
	cr_expect_eq(t.d.verdict, POLICY_SKIP);
	cr_expect_eq(t.d.reason, POLICY_R_NO_POLICY);
	policy_decision_clear(&t.d);
	cr_expect_eq(policy_decide(NULL, t.req, t.info, NULL, &t.lk, &t.d), 0);
	cr_expect_eq(t.d.reason, POLICY_R_NO_POLICY);
	pt_fini(&t);
}

/* ---- arguments, fail-closed corners ---- */

Test(policy_messages, invalid_arguments)
{
	struct pt t;
	pt_init(&t, PT_WORKLOAD);
	cr_expect_eq(policy_decide(t.set, t.req, t.info, NULL, &t.lk, NULL), -1);
	t.d.verdict = POLICY_APPROVE;
	cr_expect_eq(policy_decide(t.set, NULL, t.info, NULL, &t.lk, &t.d), -1);
	cr_expect_neq(t.d.verdict, POLICY_APPROVE);
	cr_expect_null(t.d.message);
	pt_fini(&t);
}

Test(policy_messages, no_lookup_at_all)
{
	struct pt t;
	pt_init(&t, PT_WORKLOAD);
	cr_expect_eq(policy_decide(t.set, t.req, t.info, NULL, NULL, &t.d), 0);
	cr_expect_eq(t.d.verdict, POLICY_DENY);
	cr_expect_eq(t.d.reason, POLICY_R_POD_NOT_FOUND);
	cr_expect(t.d.missing_object);
	pt_fini(&t);
}

Test(policy_messages, no_lookup_kubelet_client)
{
	struct pt t;
	pt_init(&t, PT_CLIENT);
	cr_expect_eq(policy_decide(t.set, t.req, t.info, NULL, NULL, &t.d), 0);
	cr_expect_eq(t.d.verdict, POLICY_DENY);
	cr_expect_eq(t.d.reason, POLICY_R_NOT_AUTHORIZED);
	pt_fini(&t);
}

Test(policy_messages, unsupported_type)
{
	struct pt t;
	pt_init(&t, PT_WORKLOAD);
	pt_rule(&t)->type = (enum policy_type)7;
	pt_decide(&t);
	cr_expect_eq(t.d.verdict, POLICY_DENY);
	cr_expect(strstr(t.d.message, "policy type 7 is not supported") != NULL, "%s", t.d.message);
	pt_fini(&t);
}

Test(policy_messages, never_approves_without_info)
{
	for (int base = PT_WORKLOAD; base <= PT_CLIENT; base++) {
		struct pt t;
		pt_init(&t, (enum pt_base)base);
		pt_drop_info(&t, NULL);
		pt_decide(&t);
		cr_expect_eq(t.d.verdict, POLICY_DENY, "base %d", base);
		cr_expect_eq(t.d.reason, POLICY_R_INVALID_REQUEST, "base %d", base);
		cr_expect_eq(t.w.sar_calls, 0);
		pt_fini(&t);
	}
}

Test(policy_messages, decision_owns_its_message)
{
	struct pt t;
	struct policy_decision d = {0};
	pt_init(&t, PT_WORKLOAD);
	cr_assert_eq(policy_decide(t.set, t.req, t.info, NULL, &t.lk, &d), 0);
	pt_decide(&t);
	cr_expect_str_eq(d.message, t.d.message);
	cr_expect_neq(d.message, t.d.message);
	policy_decision_clear(&d);
	/* Deciding twice gives the same answer: nothing is kept between calls. */
	cr_expect_eq(t.d.verdict, POLICY_APPROVE);
	pt_fini(&t);
}
