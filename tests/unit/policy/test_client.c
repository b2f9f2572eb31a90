/*
 * type client: a person asking, with kubectl, for a client certificate of
 * their own identity. The policy (fixture.c): signer
 * kubernetes.io/kube-apiserver-client, requesters users "*@example.com" or
 * groups "oncall", "team-*", allowedGroups "developers", "sre-*", no
 * service accounts, maxExpirationSeconds 28800 (the type's default). The
 * good request: alice@example.com, in developers, sre-db and
 * system:authenticated, asks for CN=alice@example.com, O=developers, client
 * auth, for an hour, with no SAN.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"

/* Table rows leave their trailing fields to the zero default. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#define APPROVE POLICY_APPROVE, POLICY_R_AUTO_APPROVED
#define DENY(r) POLICY_DENY, POLICY_R_##r
#define PREFIX "csr-approver: policy self-service: "

static void set_cn(struct pt *t, const char *cn)
{
	pt_str(&pt_cn(t)->value, cn);
	pt_cn(t)->value_len = strlen(cn);
}

static void set_o(struct pt *t, const char *o)
{
	for (size_t i = 0; i < t->info->n_subject; i++) {
		struct csr_subject_attr *a = &t->info->subject[i];
		if (a->kind == CSR_ATTR_O) {
			pt_str(&a->value, o);
			a->value_len = strlen(o);
			return;
		}
	}
	cr_assert_fail("fixture: no O");
}

/* The requester becomes user (CN too), in the groups given. */
static void be(struct pt *t, const char *user)
{
	pt_str(&t->req->username, user);
	set_cn(t, user);
}

static void only_cn(struct pt *t)
{
	const char *u = t->req->username;
	char *cn = util_xstrdup(u);
	pt_clear_subject(t);
	pt_add_subject(t, CSR_ATTR_CN, CSR_STR_UTF8, cn);
	free(cn);
}

/* ---- approved ---- */

static void m_no_o(struct pt *t)
{
	only_cn(t);
}

static void m_two_o(struct pt *t)
{
	pt_add_subject(t, CSR_ATTR_O, CSR_STR_PRINTABLE, "sre-db");
}

static void m_via_group_glob(struct pt *t)
{
	be(t, "bob@corp.test");
	pt_set_groups(t, "team-db", "developers", "system:authenticated", NULL);
}

static void m_via_group_exact(struct pt *t)
{
	be(t, "carol");
	pt_set_groups(t, "developers", "oncall", NULL);
}

static void m_sa_allowed(struct pt *t)
{
	pt_rule(t)->allow_service_accounts = true;
	util_strv_push(&pt_rule(t)->requester_users, "system:serviceaccount:ci:*");
	be(t, "system:serviceaccount:ci:deployer");
	pt_set_groups(t, "system:serviceaccounts", "system:serviceaccounts:ci",
	              "system:authenticated", NULL);
	only_cn(t);
}

static void m_minimal_usages(struct pt *t)
{
	pt_set_usages(t, "digital signature", "client auth", NULL);
}

static void m_exp_max(struct pt *t)
{
	t->req->expiration_seconds = 28800;
}

static void m_exp_min(struct pt *t)
{
	t->req->expiration_seconds = 600;
}

static void m_no_extensions(struct pt *t)
{
	pt_clear_exts(t);
	free(t->info->attrs);
	t->info->attrs = NULL;
	t->info->n_attrs = 0;
}

static void m_o_is_own_glob_named_group(struct pt *t)
{
	/* A group whose name holds glob characters is still only itself. */
	pt_set_groups(t, "sre-*", NULL);
	set_o(t, "sre-*");
}

/* ---- SubjectNotAllowed: CN ---- */

static void m_cn_other_user(struct pt *t)
{
	set_cn(t, "bob@example.com");
}

static void m_cn_case(struct pt *t)
{
	set_cn(t, "Alice@example.com");
}

static void m_cn_trailing_space(struct pt *t)
{
	set_cn(t, "alice@example.com ");
}

static void m_cn_prefix(struct pt *t)
{
	set_cn(t, "alice");
}

static void m_cn_missing(struct pt *t)
{
	pt_clear_subject(t);
	pt_add_subject(t, CSR_ATTR_O, CSR_STR_UTF8, "developers");
}

static void m_cn_twice(struct pt *t)
{
	pt_add_subject(t, CSR_ATTR_CN, CSR_STR_UTF8, "bob@example.com");
}

static void m_cn_admin(struct pt *t)
{
	set_cn(t, "kubernetes-admin");
}

static void m_cn_nul(struct pt *t)
{
	struct csr_subject_attr *cn = pt_cn(t);
	static const char v[] = "alice@example.com\0bob";
	free(cn->value);
	cn->value = util_xmalloc(sizeof(v));
	memcpy(cn->value, v, sizeof(v));
	cn->value_len = sizeof(v) - 1;
	cn->has_nul = true;
}

/* ---- SubjectNotAllowed: O ---- */

static void m_o_masters(struct pt *t)
{
	set_o(t, "system:masters");
}

static void m_o_masters_member(struct pt *t)
{
	/* Being in system:masters does not make it self-service. */
	pt_set_groups(t, "developers", "system:masters", "system:authenticated", NULL);
	set_o(t, "system:masters");
}

static void m_o_system_nodes(struct pt *t)
{
	pt_set_groups(t, "developers", "system:nodes", NULL);
	set_o(t, "system:nodes");
}

static void m_o_system_authenticated(struct pt *t)
{
	set_o(t, "system:authenticated");
}

static void m_o_system_allowed_by_glob(struct pt *t)
{
	util_strv_push(&pt_rule(t)->allowed_groups, "*");
	set_o(t, "system:authenticated");
}

static void m_o_not_member(struct pt *t)
{
	set_o(t, "sre-prod");
}

static void m_o_not_allowed(struct pt *t)
{
	pt_set_groups(t, "developers", "qa", NULL);
	set_o(t, "qa");
}

static void m_o_case(struct pt *t)
{
	set_o(t, "Developers");
}

static void m_o_glob(struct pt *t)
{
	set_o(t, "dev*");
}

static void m_o_no_allowed_groups(struct pt *t)
{
	util_strv_free(&pt_rule(t)->allowed_groups);
}

static void m_no_o_no_allowed_groups(struct pt *t)
{
	util_strv_free(&pt_rule(t)->allowed_groups);
	only_cn(t);
}

static void m_o_second_foreign(struct pt *t)
{
	pt_add_subject(t, CSR_ATTR_O, CSR_STR_UTF8, "sre-prod");
}

static void m_ou(struct pt *t)
{
	pt_add_subject(t, CSR_ATTR_OTHER, CSR_STR_UTF8, "platform");
}

/* ---- SANNotAllowed ---- */

static void add_san_ext(struct pt *t)
{
	pt_add_ext(t, CSR_EXT_SAN, "2.5.29.17", "subjectAltName", false);
}

static void m_san_dns(struct pt *t)
{
	add_san_ext(t);
	pt_add_san(t, CSR_SAN_DNS, "alice.example.com");
}

static void m_san_40(struct pt *t)
{
	add_san_ext(t);
	for (int i = 0; i < 40; i++)
		pt_add_san(t, CSR_SAN_DNS, "alice.example.com");
}

static void m_san_email(struct pt *t)
{
	add_san_ext(t);
	pt_add_san(t, CSR_SAN_EMAIL, "alice@example.com");
}

static void m_san_uri(struct pt *t)
{
	add_san_ext(t);
	pt_add_san(t, CSR_SAN_URI, "spiffe://cluster.local/ns/default/sa/admin");
}

/* ---- UsageNotAllowed ---- */

static void m_server_auth(struct pt *t)
{
	pt_set_usages(t, "digital signature", "key encipherment", "client auth", "server auth",
	              NULL);
}

static void m_only_server_auth(struct pt *t)
{
	pt_set_usages(t, "digital signature", "server auth", NULL);
}

static void m_no_client_auth(struct pt *t)
{
	pt_set_usages(t, "digital signature", "key encipherment", NULL);
}

static void m_no_usages(struct pt *t)
{
	pt_set_usages(t, NULL);
}

static void m_code_signing(struct pt *t)
{
	pt_set_usages(t, "client auth", "code signing", NULL);
}

static void m_rule_usages(struct pt *t)
{
	util_strv_free(&pt_rule(t)->usages);
	util_strv_push(&pt_rule(t)->usages, "digital signature");
	util_strv_push(&pt_rule(t)->usages, "client auth");
}

/* ---- ExpirationNotAllowed ---- */

static void m_no_expiration(struct pt *t)
{
	t->req->has_expiration = false;
	t->req->expiration_seconds = 0;
}

static void m_exp_above(struct pt *t)
{
	t->req->expiration_seconds = 28801;
}

static void m_exp_year(struct pt *t)
{
	t->req->expiration_seconds = 31536000;
}

static void m_exp_599(struct pt *t)
{
	t->req->expiration_seconds = 599;
}

static void m_exp_rule_max(struct pt *t)
{
	pt_rule(t)->max_expiration_seconds = 1800;
}

/* ---- RequesterNotAllowed ---- */

static void m_outside_requesters(struct pt *t)
{
	be(t, "mallory@evil.test");
}

static void m_domain_suffix(struct pt *t)
{
	be(t, "alice@example.com.evil.test");
}

static void m_domain_case(struct pt *t)
{
	be(t, "alice@EXAMPLE.com");
}

static void m_sa(struct pt *t)
{
	util_strv_push(&pt_rule(t)->requester_users, "*");
	be(t, "system:serviceaccount:ci:deployer");
	pt_set_groups(t, "system:serviceaccounts", "system:serviceaccounts:ci",
	              "system:authenticated", NULL);
	only_cn(t);
}

static void m_sa_allowed_not_listed(struct pt *t)
{
	pt_rule(t)->allow_service_accounts = true;
	be(t, "system:serviceaccount:ci:deployer");
	pt_set_groups(t, "system:serviceaccounts", "system:serviceaccounts:ci",
	              "system:authenticated", NULL);
	only_cn(t);
}

static void m_node(struct pt *t)
{
	util_strv_push(&pt_rule(t)->requester_users, "*");
	be(t, "system:node:node-1");
	pt_set_groups(t, "system:nodes", "system:authenticated", NULL);
	only_cn(t);
}

static void m_anonymous(struct pt *t)
{
	util_strv_push(&pt_rule(t)->requester_groups, "system:unauthenticated");
	be(t, "system:anonymous");
	pt_set_groups(t, "system:unauthenticated", NULL);
	only_cn(t);
}

static void m_nobody(struct pt *t)
{
	util_strv_free(&pt_rule(t)->requester_users);
	util_strv_free(&pt_rule(t)->requester_groups);
}

static void m_empty_username(struct pt *t)
{
	pt_str(&t->req->username, "");
}

static void m_other_user_and_outside(struct pt *t)
{
	be(t, "mallory@evil.test");
	set_cn(t, "alice@example.com");
}

/* ---- the rest ---- */

static void m_leave_pending(struct pt *t)
{
	pt_rule(t)->on_failure = POLICY_ON_FAILURE_LEAVE_PENDING;
	set_cn(t, "bob@example.com");
}

static void m_undecodable(struct pt *t)
{
	pt_drop_info(t, "bad DER");
}

static void m_sha1(struct pt *t)
{
	t->info->sig.hash = CSR_HASH_SHA1;
}

static void m_eku_code_signing(struct pt *t)
{
	pt_set_eku(t, "1.3.6.1.5.5.7.3.2", "1.3.6.1.5.5.7.3.3", NULL);
}

static const struct pt_case cases[] = {
    /* approved */
    {"own name and group", PT_USER, NULL, APPROVE,
     PREFIX "requester \"alice@example.com\" (requesters: users \"*@example.com\"): CN "
            "\"alice@example.com\", O \"developers\", expirationSeconds 3600",
     NULL, NULL, NULL, PT_SAR_NONE},
    {"no O", PT_USER, m_no_o, APPROVE, ": CN \"alice@example.com\", no O, expirationSeconds"},
    {"two of its groups", PT_USER, m_two_o, APPROVE, "O \"developers\", \"sre-db\""},
    {"requester by a groups glob", PT_USER, m_via_group_glob, APPROVE,
     "requester \"bob@corp.test\" (requesters: group \"team-db\" matches \"team-*\")"},
    {"requester by a group", PT_USER, m_via_group_exact, APPROVE,
     "(requesters: group \"oncall\" matches \"oncall\")"},
    {"service account with allowServiceAccounts", PT_USER, m_sa_allowed, APPROVE,
     "requester \"system:serviceaccount:ci:deployer\" (requesters: users "
     "\"system:serviceaccount:ci:*\")"},
    {"digital signature and client auth", PT_USER, m_minimal_usages, APPROVE},
    {"expirationSeconds 28800", PT_USER, m_exp_max, APPROVE, "expirationSeconds 28800"},
    {"expirationSeconds 600", PT_USER, m_exp_min, APPROVE},
    {"no extensionRequest at all", PT_USER, m_no_extensions, APPROVE},
    {"an own group named like a glob", PT_USER, m_o_is_own_glob_named_group, APPROVE,
     "O \"sre-*\""},

    /* SubjectNotAllowed: the CN */
    {"CN of another user", PT_USER, m_cn_other_user, DENY(SUBJECT_NOT_ALLOWED),
     PREFIX "subject CN \"bob@example.com\" is not the requester \"alice@example.com\" (a "
            "client certificate names only its requester)"},
    {"CN differing in case", PT_USER, m_cn_case, DENY(SUBJECT_NOT_ALLOWED),
     "subject CN \"Alice@example.com\" is not the requester"},
    {"CN with a trailing space", PT_USER, m_cn_trailing_space, DENY(SUBJECT_NOT_ALLOWED),
     "subject CN \"alice@example.com \" is not the requester"},
    {"CN a prefix of the name", PT_USER, m_cn_prefix, DENY(SUBJECT_NOT_ALLOWED),
     "subject CN \"alice\" is not the requester"},
    {"no CN", PT_USER, m_cn_missing, DENY(SUBJECT_NOT_ALLOWED),
     "subject has no CN (want the requester's name, \"alice@example.com\")"},
    {"a second CN of another user", PT_USER, m_cn_twice, DENY(SUBJECT_NOT_ALLOWED),
     "subject CN \"bob@example.com\" is not the requester", "subject has 2 CNs", NULL,
     "subject CN \"alice"},
    {"CN of an administrator", PT_USER, m_cn_admin, DENY(SUBJECT_NOT_ALLOWED),
     "subject CN \"kubernetes-admin\" is not the requester"},
    {"CN with a NUL after the name", PT_USER, m_cn_nul, DENY(SUBJECT_NOT_ALLOWED),
     "contains a NUL byte", "is not the requester"},

    /* SubjectNotAllowed: the O */
    {"O system:masters", PT_USER, m_o_masters, DENY(SUBJECT_NOT_ALLOWED),
     PREFIX "subject O \"system:masters\" is not allowed", NULL, NULL, "system: group"},
    {"O system:masters by a member of it", PT_USER, m_o_masters_member, DENY(SUBJECT_NOT_ALLOWED),
     "subject O \"system:masters\" is not allowed"},
    {"O system:nodes by a member of it", PT_USER, m_o_system_nodes, DENY(SUBJECT_NOT_ALLOWED),
     "subject O \"system:nodes\" is a system: group, never allowed in a client certificate"},
    {"O system:authenticated", PT_USER, m_o_system_authenticated, DENY(SUBJECT_NOT_ALLOWED),
     "subject O \"system:authenticated\" is a system: group"},
    {"O system: even when allowedGroups matches it", PT_USER, m_o_system_allowed_by_glob,
     DENY(SUBJECT_NOT_ALLOWED), "subject O \"system:authenticated\" is a system: group"},
    {"O of a group the requester is not in", PT_USER, m_o_not_member, DENY(SUBJECT_NOT_ALLOWED),
     PREFIX "subject O \"sre-prod\" is not a group of the requester (spec.groups: developers, "
            "sre-db, system:authenticated)"},
    {"O of its group outside allowedGroups", PT_USER, m_o_not_allowed, DENY(SUBJECT_NOT_ALLOWED),
     PREFIX "subject O \"qa\" is not in allowedGroups of this policy (allowed: developers, "
            "sre-*)"},
    {"O differing in case", PT_USER, m_o_case, DENY(SUBJECT_NOT_ALLOWED),
     "subject O \"Developers\" is not a group of the requester"},
    {"O written as a glob", PT_USER, m_o_glob, DENY(SUBJECT_NOT_ALLOWED),
     "subject O \"dev*\" is not a group of the requester"},
    {"O without allowedGroups", PT_USER, m_o_no_allowed_groups, DENY(SUBJECT_NOT_ALLOWED),
     "subject O \"developers\" is not allowed: allowedGroups of this policy is empty (no O)"},
    {"no O without allowedGroups", PT_USER, m_no_o_no_allowed_groups, APPROVE, "no O"},
    {"a second O not its own", PT_USER, m_o_second_foreign, DENY(SUBJECT_NOT_ALLOWED),
     "subject O \"sre-prod\" is not a group", NULL, NULL, "\"developers\" is not"},
    {"OU", PT_USER, m_ou, DENY(SUBJECT_NOT_ALLOWED), "is not allowed (only CN and O)"},

    /* SANNotAllowed */
    {"a DNS SAN", PT_USER, m_san_dns, DENY(SAN_NOT_ALLOWED),
     PREFIX "a client certificate request may hold no SAN (found 1)"},
    {"40 SANs: no SAN at all, not maxSANs", PT_USER, m_san_40, DENY(SAN_NOT_ALLOWED),
     "may hold no SAN (found 40)", NULL, NULL, "maxSANs"},
    {"an email SAN", PT_USER, m_san_email, DENY(SAN_NOT_ALLOWED), "email SAN",
     "may hold no SAN (found 1)"},
    {"a URI SAN", PT_USER, m_san_uri, DENY(SAN_NOT_ALLOWED), "may hold no SAN (found 1)"},

    /* UsageNotAllowed */
    {"server auth", PT_USER, m_server_auth, DENY(USAGE_NOT_ALLOWED),
     PREFIX "usage \"server auth\" is not allowed for type client (allowed: digital "
            "signature, key encipherment, client auth)"},
    {"server auth instead of client auth", PT_USER, m_only_server_auth, DENY(USAGE_NOT_ALLOWED),
     "usage \"server auth\" is not allowed",
     "spec.usages lacks \"client auth\", which type client requires"},
    {"no client auth", PT_USER, m_no_client_auth, DENY(USAGE_NOT_ALLOWED),
     "spec.usages lacks \"client auth\", which type client requires"},
    {"no usages", PT_USER, m_no_usages, DENY(USAGE_NOT_ALLOWED), "spec.usages is empty"},
    {"code signing", PT_USER, m_code_signing, DENY(USAGE_NOT_ALLOWED),
     "usage \"code signing\" is not allowed for type client"},
    {"usages narrowed by the policy", PT_USER, m_rule_usages, DENY(USAGE_NOT_ALLOWED),
     "usage \"key encipherment\" is not in usages of this policy"},

    /* ExpirationNotAllowed */
    {"no expirationSeconds", PT_USER, m_no_expiration, DENY(EXPIRATION_NOT_ALLOWED),
     PREFIX "spec.expirationSeconds is not set (type client requires it, within [600, 28800])"},
    {"expirationSeconds 28801", PT_USER, m_exp_above, DENY(EXPIRATION_NOT_ALLOWED),
     "spec.expirationSeconds 28801 is outside [600, 28800]"},
    {"expirationSeconds of a year", PT_USER, m_exp_year, DENY(EXPIRATION_NOT_ALLOWED),
     "31536000 is outside"},
    {"expirationSeconds 599", PT_USER, m_exp_599, DENY(EXPIRATION_NOT_ALLOWED), "599"},
    {"maxExpirationSeconds of the policy", PT_USER, m_exp_rule_max, DENY(EXPIRATION_NOT_ALLOWED),
     "3600 is outside [600, 1800]"},

    /* RequesterNotAllowed */
    {"a user outside requesters", PT_USER, m_outside_requesters, DENY(REQUESTER_NOT_ALLOWED),
     PREFIX "requester \"mallory@evil.test\" and its groups match no entry of requesters "
            "(users: *@example.com; groups: oncall, team-*)"},
    {"a name that only starts like a requester", PT_USER, m_domain_suffix,
     DENY(REQUESTER_NOT_ALLOWED), "requester \"alice@example.com.evil.test\" and its groups"},
    {"a domain differing in case", PT_USER, m_domain_case, DENY(REQUESTER_NOT_ALLOWED),
     "match no entry of requesters"},
    {"a service account without allowServiceAccounts", PT_USER, m_sa, DENY(REQUESTER_NOT_ALLOWED),
     PREFIX "requester \"system:serviceaccount:ci:deployer\" is a service account "
            "(allowServiceAccounts is false)"},
    {"a service account outside requesters", PT_USER, m_sa_allowed_not_listed,
     DENY(REQUESTER_NOT_ALLOWED),
     "requester \"system:serviceaccount:ci:deployer\" and its groups match no entry"},
    {"a node", PT_USER, m_node, DENY(REQUESTER_NOT_ALLOWED),
     "requester \"system:node:node-1\" is a system: user, not a person"},
    {"anonymous", PT_USER, m_anonymous, DENY(REQUESTER_NOT_ALLOWED),
     "requester \"system:anonymous\" is a system: user"},
    {"requesters empty", PT_USER, m_nobody, DENY(REQUESTER_NOT_ALLOWED),
     "requester \"alice@example.com\" may not self-serve: requesters of this policy is empty "
     "(nobody may)"},
    {"empty username", PT_USER, m_empty_username, DENY(SUBJECT_NOT_ALLOWED),
     "spec.username is empty", "subject CN \"alice@example.com\" is not the requester \"\""},
    {"another user's CN from outside requesters: the subject first", PT_USER,
     m_other_user_and_outside, DENY(SUBJECT_NOT_ALLOWED),
     PREFIX "subject CN \"alice@example.com\" is not the requester \"mallory@evil.test\"",
     "; requester \"mallory@evil.test\" and its groups match no entry"},

    /* the rest */
    {"leave-pending", PT_USER, m_leave_pending, DENY(SUBJECT_NOT_ALLOWED), "bob@example.com", NULL,
     NULL, NULL, PT_LEAVE},
    {"undecodable", PT_USER, m_undecodable, DENY(INVALID_REQUEST), "bad DER", NULL, NULL, NULL,
     PT_SAR_NONE},
    {"SHA-1", PT_USER, m_sha1, DENY(SIGNATURE_ALGORITHM_NOT_ALLOWED), "SHA-1"},
    {"extendedKeyUsage codeSigning", PT_USER, m_eku_code_signing, DENY(EXTENSION_NOT_ALLOWED),
     "codeSigning"},
};

#define N_CASES (sizeof(cases) / sizeof(cases[0]))

ParameterizedTestParameters(policy_client, cases)
{
	static size_t idx[N_CASES];
	for (size_t i = 0; i < N_CASES; i++)
		idx[i] = i;
	return cr_make_param_array(size_t, idx, N_CASES);
}

ParameterizedTest(size_t *i, policy_client, cases)
{
	pt_run_case(&cases[*i]);
}

/* Every failure of this type rests on the request: none is re-read, and
 * nothing waits for an object. */
Test(policy_client, denials_rest_on_the_request)
{
	void (*const mutations[])(struct pt *) = {
	    m_cn_other_user, m_o_masters,     m_o_not_member, m_san_dns,
	    m_server_auth,   m_no_expiration, m_sa,           m_outside_requesters};
	for (size_t i = 0; i < sizeof(mutations) / sizeof(mutations[0]); i++) {
		struct pt t;
		pt_init(&t, PT_USER);
		t.lk.get_pod = NULL;
		t.lk.list_services = NULL;
		t.lk.get_node = NULL;
		mutations[i](&t);
		pt_decide(&t);
		cr_expect_eq(t.d.verdict, POLICY_DENY, "mutation %zu: %s", i, t.d.message);
		cr_expect_not(t.d.rests_on_objects, "mutation %zu: %s", i, t.d.message);
		cr_expect_not(t.d.missing_object, "mutation %zu", i);
		cr_expect_eq(t.w.sar_calls, 0, "mutation %zu", i);
		pt_fini(&t);
	}
}

/* The same request is approved without any lookup at all. */
Test(policy_client, needs_no_lookup)
{
	struct pt t;
	struct policy_decision d = {0};
	pt_init(&t, PT_USER);
	cr_assert_eq(policy_decide(t.set, t.req, t.info, NULL, NULL, &d), 0);
	cr_expect_eq(d.verdict, POLICY_APPROVE, "%s", d.message);
	policy_decision_clear(&d);
	pt_fini(&t);
}

Test(policy_client, type_defaults)
{
	struct policy_rule r;
	policy_rule_init(&r, NULL);
	policy_rule_set_type(&r, POLICY_TYPE_CLIENT);
	cr_expect_eq(r.type, POLICY_TYPE_CLIENT);
	cr_expect_eq(r.max_expiration_seconds, 28800);
	cr_expect_eq(r.min_expiration_seconds, 600);
	cr_expect_eq(r.requester_users.n, 0, "nobody may self-serve by default");
	cr_expect_eq(r.requester_groups.n, 0);
	cr_expect_eq(r.allowed_groups.n, 0, "no O by default");
	cr_expect_not(r.allow_service_accounts);
	policy_rule_clear(&r);

	/* The other types keep theirs. */
	policy_rule_init(&r, NULL);
	policy_rule_set_type(&r, POLICY_TYPE_KUBELET_CLIENT);
	cr_expect_eq(r.max_expiration_seconds, 86400);
	policy_rule_clear(&r);
}
