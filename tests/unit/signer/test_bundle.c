/*
 * pkg/signer: the ClusterTrustBundle: its name as Kubernetes validates it,
 * the object, and the bundle text across a CA rotation.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../../pkg/signer/signer.h"
#include "st.h"

TestSuite(signer_bundle, .init = st_tmp_init, .fini = st_tmp_fini);

/* Criterion copies parameters into another process: no pointers. */
struct name_case {
	char signer[96];
	char want[96]; /* "" when invalid */
};

ParameterizedTestParameters(signer_bundle, name)
{
	static struct name_case cases[] = {
	    {"example.com/workload-mtls", "example.com:workload-mtls:ca"},
	    {"a.b.c/x.y-z", "a.b.c:x.y-z:ca"},
	    {"example.com/a1", "example.com:a1:ca"},
	    {"example.com", ""},
	    {"example/x", ""}, /* one domain label */
	    {"Example.com/x", ""},
	    {"example.com/X", ""},
	    {"example.com/a/b", ""},
	    {"example.com/", ""},
	    {"/x", ""},
	    {"example.com/a:b", ""},
	    {"example.com/a..b", ""},
	    {"example.com/-a", ""},
	    {"-example.com/a", ""},
	    {"example.com/a_b", ""},
	    {"", ""},
	};
	return cr_make_param_array(struct name_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct name_case *c, signer_bundle, name)
{
	char *n = signer_trust_bundle_name(c->signer);
	if (c->want[0] == '\0') {
		cr_expect_null(n, "\"%s\" gave \"%s\"", c->signer, n ? n : "");
	} else {
		cr_assert_not_null(n, "\"%s\" refused", c->signer);
		cr_expect_str_eq(n, c->want);
	}
	free(n);
}

Test(signer_bundle, name_lengths)
{
	/* A 63-byte domain label passes, 64 does not. */
	char s[700];
	memset(s, 'a', 63);
	memcpy(s + 63, ".com/x", 7);
	char *n = signer_trust_bundle_name(s);
	cr_expect_not_null(n);
	free(n);
	memset(s, 'a', 64);
	memcpy(s + 64, ".com/x", 7);
	cr_expect_null(signer_trust_bundle_name(s));
	cr_expect_null(signer_trust_bundle_name(NULL));
}

Test(signer_bundle, object)
{
	struct st_ca a;
	st_ca_make(&a, "ca", ST_P256, 0, 0);
	struct signer_ca *ca = st_ca_load(&a);
	char err[SIGNER_ERR_MAX] = "";
	json_t *o = signer_trust_bundle_object("example.com/workload-mtls",
	                                       signer_ca_bundle_pem(ca), NULL, err, sizeof(err));
	cr_assert_not_null(o, "%s", err);
	cr_expect_str_eq(json_string_value(json_object_get(o, "apiVersion")),
	                 "certificates.k8s.io/v1");
	cr_expect_str_eq(json_string_value(json_object_get(o, "kind")), "ClusterTrustBundle");
	json_t *md = json_object_get(o, "metadata");
	cr_expect_str_eq(json_string_value(json_object_get(md, "name")),
	                 "example.com:workload-mtls:ca");
	cr_expect_str_eq(json_string_value(json_object_get(json_object_get(md, "labels"),
	                                                   "app.kubernetes.io/managed-by")),
	                 "csr-approver");
	json_t *spec = json_object_get(o, "spec");
	cr_expect_eq(json_object_size(spec), 2);
	cr_expect_str_eq(json_string_value(json_object_get(spec, "signerName")),
	                 "example.com/workload-mtls");
	cr_expect_str_eq(json_string_value(json_object_get(spec, "trustBundle")),
	                 signer_ca_bundle_pem(ca));
	json_decref(o);

	o = signer_trust_bundle_object("example.com/workload-mtls", signer_ca_bundle_pem(ca),
	                               "certificates.k8s.io/v1beta1", err, sizeof(err));
	cr_assert_not_null(o);
	cr_expect_str_eq(json_string_value(json_object_get(o, "apiVersion")),
	                 "certificates.k8s.io/v1beta1");
	json_decref(o);

	cr_expect_null(
	    signer_trust_bundle_object("bad", signer_ca_bundle_pem(ca), NULL, err, sizeof(err)));
	cr_expect(strstr(err, "DOMAIN/PATH") != NULL, "%s", err);
	cr_expect_null(signer_trust_bundle_object("example.com/x", " \n", NULL, err, sizeof(err)));
	cr_expect_str_eq(err, "empty trust bundle");
	signer_ca_free(ca);
	st_ca_fini(&a);
}

/* A rotation: the new CA first, then the old certificates that still
 * count; expired, duplicate and non-CA certificates dropped. */
Test(signer_bundle, merge_across_rotation)
{
	int64_t now = time(NULL);
	struct st_ca old_ca, new_ca, expired;
	st_ca_make(&old_ca, "old", ST_P256, now - 86400, now + 10 * 86400);
	st_ca_make(&new_ca, "new", ST_P256, now - 60, now + 365 * 86400);
	st_ca_make(&expired, "expired", ST_P256, now - 10 * 86400, now - 60);
	EVP_PKEY *lk = st_key(ST_P256);
	struct st_cert_opts lo = {.cn = "leaf", .ca = false};
	X509 *leaf = st_cert(&lo, lk, old_ca.cert, old_ca.key);

	struct signer_ca *ca = st_ca_load(&new_ca);
	X509 *published[4] = {old_ca.cert, expired.cert, leaf, new_ca.cert};
	char *old_pem = st_certs_pem(published, 4);
	char *merged = NULL;
	char err[SIGNER_ERR_MAX] = "";
	cr_assert_eq(
	    signer_trust_bundle_merge(ca, old_pem, strlen(old_pem), now, &merged, err, sizeof(err)),
	    0, "%s", err);
	X509 *want[2] = {new_ca.cert, old_ca.cert};
	char *want_pem = st_certs_pem(want, 2);
	cr_expect_str_eq(merged, want_pem);
	free(merged);
	free(want_pem);

	/* Merging again is stable. */
	char *again = NULL;
	X509 *pub2[2] = {new_ca.cert, old_ca.cert};
	char *p2 = st_certs_pem(pub2, 2);
	cr_assert_eq(signer_trust_bundle_merge(ca, p2, strlen(p2), now, &again, err, sizeof(err)),
	             0);
	cr_expect_str_eq(again, p2);
	free(again);
	/* Once the old CA expires it leaves the bundle. */
	cr_assert_eq(signer_trust_bundle_merge(ca, p2, strlen(p2), now + 11 * 86400, &again, err,
	                                       sizeof(err)),
	             0);
	cr_expect_str_eq(again, signer_ca_bundle_pem(ca));
	free(again);
	free(p2);

	/* Nothing published yet. */
	cr_assert_eq(signer_trust_bundle_merge(ca, NULL, 0, now, &again, err, sizeof(err)), 0);
	cr_expect_str_eq(again, signer_ca_bundle_pem(ca));
	free(again);
	cr_assert_eq(signer_trust_bundle_merge(ca, "\n", 1, now, &again, err, sizeof(err)), 0);
	cr_expect_str_eq(again, signer_ca_bundle_pem(ca));
	free(again);

	/* A published bundle that is not PEM certificates. */
	again = (char *)1;
	cr_expect_eq(signer_trust_bundle_merge(ca, "junk", 4, now, &again, err, sizeof(err)), -1);
	cr_expect_null(again);
	cr_expect(strstr(err, "the published trust bundle: line 1: text outside") != NULL, "%s",
	          err);

	free(old_pem);
	signer_ca_free(ca);
	X509_free(leaf);
	EVP_PKEY_free(lk);
	st_ca_fini(&old_ca);
	st_ca_fini(&new_ca);
	st_ca_fini(&expired);
}

Test(signer_bundle, merge_limit)
{
	int64_t now = time(NULL);
	struct st_ca a, b;
	st_ca_make(&a, "a", ST_P256, 0, 0);
	st_ca_make(&b, "b", ST_P256, 0, 0);
	struct signer_ca *ca = st_ca_load(&a);
	/* SIGNER_MAX_BUNDLE_CERTS distinct old CA certificates: one too many
	 * with the new one. */
	X509 *many[SIGNER_MAX_BUNDLE_CERTS];
	struct st_cert_opts o = {.cn = "old", .ca = true};
	for (int i = 0; i < SIGNER_MAX_BUNDLE_CERTS; i++)
		many[i] = st_cert(&o, b.key, NULL, NULL);
	char *pem = st_certs_pem(many, SIGNER_MAX_BUNDLE_CERTS);
	char *out = NULL;
	char err[SIGNER_ERR_MAX] = "";
	cr_expect_eq(signer_trust_bundle_merge(ca, pem, strlen(pem), now, &out, err, sizeof(err)),
	             -1);
	cr_expect_null(out);
	cr_expect(strstr(err, "more than 256 certificates") != NULL, "%s", err);
	free(pem);
	for (int i = 0; i < SIGNER_MAX_BUNDLE_CERTS; i++)
		X509_free(many[i]);
	signer_ca_free(ca);
	st_ca_fini(&a);
	st_ca_fini(&b);
}
