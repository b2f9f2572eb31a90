/*
 * pkg/signer: certificates issued for CertificateSigningRequests and
 * PodCertificateRequests. Every field is read back with OpenSSL, and the
 * chain is verified with the `openssl verify` command line.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "../../../pkg/signer/signer.h"
#include "st.h"

TestSuite(signer_issue, .init = st_tmp_init, .fini = st_tmp_fini);

#define WORKLOAD_SANS                                                                                \
	"URI:spiffe://cluster.local/ns/shop/sa/web,DNS:web.shop.svc,DNS:web.shop.svc.cluster.local," \
	"IP:10.244.1.7,IP:fd00:10:244::7"

static struct util_strv usages_of(const char *a, const char *b, const char *c)
{
	struct util_strv sv = {0};
	if (a)
		util_strv_push(&sv, a);
	if (b)
		util_strv_push(&sv, b);
	if (c)
		util_strv_push(&sv, c);
	return sv;
}

static struct signer_cert *issue_ok(const struct signer_ca *ca, const char *req, size_t len,
                                    const struct util_strv *usages, int64_t exp,
                                    const struct signer_validity *v)
{
	struct signer_cert *c = NULL;
	char err[SIGNER_ERR_MAX] = "";
	cr_assert_eq(signer_issue_csr(ca, req, len, usages, exp, v, &c, err, sizeof(err)), 0, "%s",
	             err);
	cr_assert_not_null(c);
	return c;
}

static void issue_fails(const struct signer_ca *ca, const char *req, size_t len,
                        const struct util_strv *usages, int64_t exp,
                        const struct signer_validity *v, const char *want)
{
	struct signer_cert *c = (struct signer_cert *)1;
	char err[SIGNER_ERR_MAX] = "";
	cr_assert_eq(signer_issue_csr(ca, req, len, usages, exp, v, &c, err, sizeof(err)), -1,
	             "issued, want \"%s\"", want);
	cr_assert_null(c);
	cr_assert(strstr(err, want) != NULL, "error \"%s\", want \"%s\"", err, want);
	cr_assert(strchr(err, '\n') == NULL);
}

/* The extension of x with nid, asserting it is there exactly once. */
static X509_EXTENSION *ext_of(X509 *x, int nid)
{
	int i = X509_get_ext_by_NID(x, nid, -1);
	cr_assert(i >= 0, "extension %s missing", OBJ_nid2sn(nid));
	cr_assert_eq(X509_get_ext_by_NID(x, nid, i), -1, "extension %s twice", OBJ_nid2sn(nid));
	return X509_get_ext(x, i);
}

/* The SANs of x as "DNS:a,IP:1.2.3.4,URI:u" (OpenSSL's own names). */
static void sans_text(X509 *x, char *out, size_t outlen)
{
	GENERAL_NAMES *g = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	size_t n = 0;
	out[0] = '\0';
	cr_assert_not_null(g);
	for (int i = 0; i < sk_GENERAL_NAME_num(g); i++) {
		const GENERAL_NAME *gn = sk_GENERAL_NAME_value(g, i);
		int type;
		const ASN1_STRING *s = GENERAL_NAME_get0_value(gn, &type);
		const unsigned char *d = ASN1_STRING_get0_data(s);
		int l = ASN1_STRING_length(s);
		char v[256];
		if (type == GEN_IPADD) {
			char ip[64];
			cr_assert(inet_ntop(l == 4 ? AF_INET : AF_INET6, d, ip, sizeof(ip)) !=
			          NULL);
			snprintf(v, sizeof(v), "IP:%s", ip);
		} else {
			snprintf(v, sizeof(v), "%s:%.*s",
			         type == GEN_DNS       ? "DNS"
			             : type == GEN_URI ? "URI"
			                               : "?",
			         l, (const char *)d);
		}
		n += (size_t)snprintf(out + n, outlen - n, "%s%s", i ? "," : "", v);
	}
	GENERAL_NAMES_free(g);
}

/* Check everything a leaf must hold (docs/signer.md). */
static void check_leaf(X509 *leaf, const struct st_ca *a, const struct signer_cert *c,
                       const char *cn, const char *sans, bool rsa_leaf, unsigned eku)
{
	/* Version, serial: positive, 1 to 128 bits, what the record says. */
	cr_expect_eq(X509_get_version(leaf), X509_VERSION_3);
	BIGNUM *sn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(leaf), NULL);
	cr_assert_not_null(sn);
	cr_expect(!BN_is_negative(sn) && !BN_is_zero(sn));
	cr_expect_leq(BN_num_bits(sn), 128);
	char *hex = BN_bn2hex(sn);
	cr_expect_str_eq(c->serial, hex);
	OPENSSL_free(hex);
	BN_free(sn);

	/* Names. */
	cr_expect_eq(X509_NAME_cmp(X509_get_issuer_name(leaf), X509_get_subject_name(a->cert)), 0);
	const X509_NAME *subj = X509_get_subject_name(leaf);
	if (cn == NULL) {
		cr_expect_eq(X509_NAME_entry_count(subj), 0);
	} else {
		cr_expect_eq(X509_NAME_entry_count(subj), 1, "subject holds more than the CN");
		const X509_NAME_ENTRY *e = X509_NAME_get_entry(subj, 0);
		cr_expect_eq(OBJ_obj2nid(X509_NAME_ENTRY_get_object(e)), NID_commonName);
		const ASN1_STRING *v = X509_NAME_ENTRY_get_data(e);
		cr_expect_eq((size_t)ASN1_STRING_length(v), strlen(cn));
		cr_expect(memcmp(ASN1_STRING_get0_data(v), cn, strlen(cn)) == 0);
	}
	char got[2048];
	sans_text(leaf, got, sizeof(got));
	cr_expect_str_eq(got, sans);
	cr_expect_eq(X509_EXTENSION_get_critical(ext_of(leaf, NID_subject_alt_name)), cn == NULL,
	             "SAN criticality");

	/* basicConstraints CA:FALSE critical. */
	X509_EXTENSION *e = ext_of(leaf, NID_basic_constraints);
	cr_expect(X509_EXTENSION_get_critical(e));
	BASIC_CONSTRAINTS *bc = X509V3_EXT_d2i(e);
	cr_assert_not_null(bc);
	cr_expect(!bc->ca);
	cr_expect_null(bc->pathlen);
	BASIC_CONSTRAINTS_free(bc);

	/* keyUsage critical: digitalSignature (+ keyEncipherment for RSA). */
	e = ext_of(leaf, NID_key_usage);
	cr_expect(X509_EXTENSION_get_critical(e));
	uint32_t want_ku = KU_DIGITAL_SIGNATURE | (rsa_leaf ? KU_KEY_ENCIPHERMENT : 0);
	cr_expect_eq(X509_get_key_usage(leaf), want_ku, "keyUsage %x", X509_get_key_usage(leaf));

	/* extendedKeyUsage, not critical, exactly the asked purposes in order. */
	e = ext_of(leaf, NID_ext_key_usage);
	cr_expect(!X509_EXTENSION_get_critical(e));
	EXTENDED_KEY_USAGE *xku = X509V3_EXT_d2i(e);
	cr_assert_not_null(xku);
	int k = 0;
	if (eku & SIGNER_EKU_SERVER)
		cr_expect_eq(OBJ_obj2nid(sk_ASN1_OBJECT_value(xku, k++)), NID_server_auth);
	if (eku & SIGNER_EKU_CLIENT)
		cr_expect_eq(OBJ_obj2nid(sk_ASN1_OBJECT_value(xku, k++)), NID_client_auth);
	cr_expect_eq(sk_ASN1_OBJECT_num(xku), k);
	EXTENDED_KEY_USAGE_free(xku);

	/* SKI = SHA-1 of the key bits; AKI = the CA's SKI. */
	unsigned char md[20];
	unsigned int mdlen = 0;
	cr_assert_eq(X509_pubkey_digest(leaf, EVP_sha1(), md, &mdlen), 1);
	const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(leaf);
	cr_assert_not_null(ski);
	cr_expect_eq(ASN1_STRING_length(ski), 20);
	cr_expect(memcmp(ASN1_STRING_get0_data(ski), md, 20) == 0);
	const ASN1_OCTET_STRING *aki = X509_get0_authority_key_id(leaf);
	cr_assert_not_null(aki);
	cr_expect_eq(ASN1_OCTET_STRING_cmp(aki, X509_get0_subject_key_id(a->cert)), 0);
	cr_expect(!X509_EXTENSION_get_critical(ext_of(leaf, NID_subject_key_identifier)));
	cr_expect(!X509_EXTENSION_get_critical(ext_of(leaf, NID_authority_key_identifier)));

	/* Nothing else. */
	cr_expect_eq(X509_get_ext_count(leaf), 6, "%d extensions", X509_get_ext_count(leaf));

	/* Dates as reported; signature verifies with the CA key. */
	cr_expect_eq(st_time(X509_get0_notBefore(leaf)), c->not_before);
	cr_expect_eq(st_time(X509_get0_notAfter(leaf)), c->not_after);
	cr_expect_eq(X509_verify(leaf, a->key), 1);
}

/* The certificate's SubjectPublicKeyInfo is the key as OpenSSL encodes it,
 * byte for byte, whether the signer copied the request's or encoded it. */
static void expect_key_as_openssl_writes(X509 *leaf, EVP_PKEY *key)
{
	unsigned char *want = NULL, *got = NULL;
	int wl = i2d_PUBKEY(key, &want);
	int gl = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(leaf), &got);
	cr_assert_gt(wl, 0);
	cr_expect(wl == gl && memcmp(want, got, (size_t)wl) == 0,
	          "the certificate's key is not encoded as OpenSSL encodes it");
	OPENSSL_free(want);
	OPENSSL_free(got);
}

/* The signature algorithm of each CA key. */
struct ca_case {
	enum st_key ca_key;
	enum st_key leaf_key;
	int sig_nid;
};

ParameterizedTestParameters(signer_issue, csr_every_field)
{
	static struct ca_case cases[] = {
	    {ST_RSA2048, ST_P256, NID_sha256WithRSAEncryption},
	    {ST_P256, ST_RSA2048, NID_ecdsa_with_SHA256},
	    {ST_P384, ST_ED25519, NID_ecdsa_with_SHA384},
	    {ST_P521, ST_P384, NID_ecdsa_with_SHA512},
	    {ST_ED25519, ST_P521, NID_ED25519},
	};
	return cr_make_param_array(struct ca_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct ca_case *cc, signer_issue, csr_every_field)
{
	struct st_ca a;
	int64_t now = time(NULL);
	st_ca_make(&a, "ca", cc->ca_key, 0, 0);
	struct signer_ca *ca = st_ca_load(&a);
	EVP_PKEY *lk = st_key(cc->leaf_key);
	struct st_req_opts ro = {
	    .cn = "web.shop.svc", .o = "system:masters", .sans = WORKLOAD_SANS};
	size_t len = 0;
	char *req = st_req(lk, &ro, false, &len);
	struct util_strv u = usages_of("digital signature", "server auth", "client auth");
	struct signer_validity v = {.now = now, .lifetime = 86400, .backdate = 300};

	struct signer_cert *c = issue_ok(ca, req, len, &u, 0, &v);
	cr_expect_eq(c->not_before, now - 300);
	cr_expect_eq(c->not_after, now + 86400);
	cr_expect_eq(c->begin_refresh_at, now - 300 + (86400 + 300) * 2 / 3);
	/* The leaf alone, one block; the CA file has only the root. */
	cr_expect_eq(st_count_certs(c->pem), 1);
	cr_expect_str_eq(c->chain_pem, c->pem);
	X509 *leaf = st_parse_cert(c->pem);
	check_leaf(leaf, &a, c, "web.shop.svc", WORKLOAD_SANS, cc->leaf_key == ST_RSA2048,
	           SIGNER_EKU_SERVER | SIGNER_EKU_CLIENT);
	cr_expect_eq(X509_get_signature_nid(leaf), cc->sig_nid, "signature %s",
	             OBJ_nid2sn(X509_get_signature_nid(leaf)));
	cr_expect_eq(EVP_PKEY_eq(X509_get0_pubkey(leaf), lk), 1);
	expect_key_as_openssl_writes(leaf, lk);

	/* The command line agrees, for both purposes. */
	char out[4096];
	cr_expect_eq(st_verify(a.cert_path, NULL, "sslserver", c->pem, out, sizeof(out)), 0, "%s",
	             out);
	cr_expect_eq(st_verify(a.cert_path, NULL, "sslclient", c->pem, out, sizeof(out)), 0, "%s",
	             out);
	cr_expect(strstr(out, ": OK") != NULL, "%s", out);
	/* ... and prints the serial the audit record holds. */
	char *pem_path = st_path("leaf.pem");
	st_write(pem_path, c->pem);
	const char *argv[] = {"openssl", "x509", "-noout", "-serial", "-in", pem_path, NULL};
	cr_assert_eq(st_run(argv, out, sizeof(out)), 0, "%s", out);
	char want[64];
	snprintf(want, sizeof(want), "serial=%s\n", c->serial);
	cr_expect_str_eq(out, want);

	/* Another certificate for the same request has another serial. */
	struct signer_cert *c2 = issue_ok(ca, req, len, &u, 0, &v);
	cr_expect_str_neq(c2->serial, c->serial);

	signer_cert_free(c2);
	free(pem_path);
	X509_free(leaf);
	signer_cert_free(c);
	util_strv_free(&u);
	free(req);
	EVP_PKEY_free(lk);
	signer_ca_free(ca);
	st_ca_fini(&a);
}

/* A DER request with an empty subject and one purpose, with an Ed25519
 * key, and with a P-256 point compressed: a form other than the one OpenSSL
 * writes for the key, which is encoded again rather than copied, so that
 * the certificate holds the key the request proved it holds, in OpenSSL's
 * encoding. */
Test(signer_issue, der_request_empty_subject_and_one_purpose)
{
	struct st_ca a;
	st_ca_make(&a, "ca", ST_P256, 0, 0);
	struct signer_ca *ca = st_ca_load(&a);
	struct st_req_opts ro = {.sans = "URI:spiffe://cluster.local/ns/shop/sa/web"};
	struct util_strv u = usages_of("client auth", NULL, NULL);
	struct signer_validity v = {.now = time(NULL), .lifetime = 3600, .backdate = 0};
	for (int round = 0; round < 2; round++) {
		EVP_PKEY *lk = st_key(round == 0 ? ST_ED25519 : ST_P256);
		if (round == 1)
			cr_assert_eq(
			    EVP_PKEY_set_utf8_string_param(lk, "point-format", "compressed"), 1);
		size_t len = 0;
		char *req = st_req(lk, &ro, true, &len);
		struct signer_cert *c = issue_ok(ca, req, len, &u, 0, &v);
		X509 *leaf = st_parse_cert(c->pem);
		check_leaf(leaf, &a, c, NULL, "URI:spiffe://cluster.local/ns/shop/sa/web", false,
		           SIGNER_EKU_CLIENT);
		cr_expect_eq(EVP_PKEY_eq(X509_get0_pubkey(leaf), lk), 1);
		expect_key_as_openssl_writes(leaf, lk);
		char out[4096];
		cr_expect_eq(st_verify(a.cert_path, NULL, "sslclient", c->pem, out, sizeof(out)), 0,
		             "%s", out);
		/* Client auth only: not a server certificate. */
		cr_expect_neq(st_verify(a.cert_path, NULL, "sslserver", c->pem, out, sizeof(out)),
		              0, "%s", out);
		X509_free(leaf);
		signer_cert_free(c);
		free(req);
		EVP_PKEY_free(lk);
	}
	util_strv_free(&u);
	signer_ca_free(ca);
	st_ca_fini(&a);
}

Test(signer_issue, cn_only_request)
{
	struct st_ca a;
	st_ca_make(&a, "ca", ST_P256, 0, 0);
	struct signer_ca *ca = st_ca_load(&a);
	EVP_PKEY *lk = st_key(ST_P256);
	struct st_req_opts ro = {.cn = "system:node:node-1", .o = "system:nodes"};
	size_t len = 0;
	char *req = st_req(lk, &ro, false, &len);
	struct util_strv u = usages_of("client auth", "digital signature", "key encipherment");
	struct signer_validity v = {.now = time(NULL), .lifetime = 3600, .backdate = 0};
	struct signer_cert *c = issue_ok(ca, req, len, &u, 0, &v);
	X509 *leaf = st_parse_cert(c->pem);
	cr_expect_eq(X509_get_ext_by_NID(leaf, NID_subject_alt_name, -1), -1);
	cr_expect_eq(X509_get_ext_count(leaf), 5);
	cr_expect_eq(X509_NAME_entry_count(X509_get_subject_name(leaf)), 1);
	/* An EC key: keyEncipherment is not added even when asked for. */
	cr_expect_eq(X509_get_key_usage(leaf), KU_DIGITAL_SIGNATURE);
	X509_free(leaf);
	signer_cert_free(c);
	util_strv_free(&u);
	free(req);
	EVP_PKEY_free(lk);
	signer_ca_free(ca);
	st_ca_fini(&a);
}

/* notAfter = min(now + lifetime, now + expirationSeconds, CA notAfter);
 * notBefore = now - backdate, even before the CA's notBefore. */
Test(signer_issue, validity_bounds)
{
	struct st_ca a;
	int64_t now = time(NULL);
	st_ca_make(&a, "ca", ST_P256, now - 600, now + 30 * 86400);
	struct signer_ca *ca = st_ca_load(&a);
	EVP_PKEY *lk = st_key(ST_P256);
	struct st_req_opts ro = {.cn = "a.b.svc", .sans = "DNS:a.b.svc"};
	size_t len = 0;
	char *req = st_req(lk, &ro, false, &len);
	struct util_strv u = usages_of("server auth", NULL, NULL);
	struct signer_cert *c;

	/* The lifetime bounds it. */
	struct signer_validity v = {.now = now, .lifetime = 86400, .backdate = 60};
	c = issue_ok(ca, req, len, &u, 2 * 86400, &v);
	cr_expect_eq(c->not_before, now - 60);
	cr_expect_eq(c->not_after, now + 86400);
	signer_cert_free(c);
	/* expirationSeconds bounds it. */
	c = issue_ok(ca, req, len, &u, 3600, &v);
	cr_expect_eq(c->not_after, now + 3600);
	X509 *leaf = st_parse_cert(c->pem);
	cr_expect_eq(st_time(X509_get0_notAfter(leaf)), now + 3600);
	cr_expect_eq(st_time(X509_get0_notBefore(leaf)), now - 60);
	X509_free(leaf);
	signer_cert_free(c);
	/* The CA's notAfter bounds it. */
	v.lifetime = 365 * 86400;
	c = issue_ok(ca, req, len, &u, 0, &v);
	cr_expect_eq(c->not_after, now + 30 * 86400);
	signer_cert_free(c);
	/* A backdate reaching before the CA's notBefore is kept: SPEC's
	 * now - backdate, and the certificate still verifies now. */
	v.backdate = 3600;
	c = issue_ok(ca, req, len, &u, 0, &v);
	cr_expect_eq(c->not_before, now - 3600);
	leaf = st_parse_cert(c->pem);
	cr_expect_eq(st_time(X509_get0_notBefore(leaf)), now - 3600);
	X509_free(leaf);
	signer_cert_free(c);
	/* Later in the CA's life: the same cap, now the nearest bound. */
	v.now = now + 30 * 86400 - 10;
	v.backdate = 0;
	v.lifetime = 86400;
	c = issue_ok(ca, req, len, &u, 0, &v);
	cr_expect_eq(c->not_after, now + 30 * 86400);
	cr_expect_eq(c->not_before, now + 30 * 86400 - 10);
	signer_cert_free(c);

	/* Expired, not yet valid, nonsense settings. */
	v.now = now + 30 * 86400;
	issue_fails(ca, req, len, &u, 0, &v, "the CA certificate (CN=ca) expired at ");
	v.now = now - 601;
	issue_fails(ca, req, len, &u, 0, &v, "is not valid before ");
	v.now = now;
	v.lifetime = 0;
	issue_fails(ca, req, len, &u, 0, &v, "lifetime 0 s is not in");
	v.lifetime = 3600;
	v.backdate = -1;
	issue_fails(ca, req, len, &u, 0, &v, "backdate -1 s is not in");
	v.backdate = 0;
	issue_fails(ca, req, len, &u, -5, &v, "spec.expirationSeconds -5 is negative");

	util_strv_free(&u);
	free(req);
	EVP_PKEY_free(lk);
	signer_ca_free(ca);
	st_ca_fini(&a);
}

Test(signer_issue, refused_requests)
{
	struct st_ca a;
	st_ca_make(&a, "ca", ST_P256, 0, 0);
	struct signer_ca *ca = st_ca_load(&a);
	struct util_strv u = usages_of("server auth", NULL, NULL);
	struct signer_validity v = {.now = time(NULL), .lifetime = 3600, .backdate = 0};
	size_t len = 0;
	char *req;
	EVP_PKEY *k = st_key(ST_P256);
	struct {
		enum st_key key;
		struct st_req_opts o;
		const char *want;
	} cases[] = {
	    {ST_P256, {.cn = "a", .second_cn = true, .sans = "DNS:a"}, "more than one CN"},
	    {ST_P256,
	     {.cn = "a", .sans = "DNS:a,email:x@example.com"},
	     "SAN 2 is not a DNS name, IP address or URI"},
	    {ST_P256, {.cn = "a", .sans = "DNS:a,RID:1.2.3.4"}, "SAN 2 is not"},
	    {ST_P256, {.o = "only-o"}, "names nobody: no CN and no subjectAltName"},
	    {ST_P256,
	     {.cn = "a", .sans = "DNS:a", .tamper = true},
	     "the request: its self-signature does not verify"},
	    {ST_RSA1024, {.cn = "a", .sans = "DNS:a"}, "RSA key of 1024 bits"},
	    {ST_K256, {.cn = "a", .sans = "DNS:a"}, "EC key on curve \"secp256k1\""},
	    {ST_ED448, {.cn = "a", .sans = "DNS:a"}, "ED448 key"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		EVP_PKEY *lk = st_key(cases[i].key);
		req = st_req(lk, &cases[i].o, i % 2 == 0, &len);
		issue_fails(ca, req, len, &u, 0, &v, cases[i].want);
		free(req);
		EVP_PKEY_free(lk);
	}

	/* Not a request at all, or not only one. */
	issue_fails(ca, "", 0, &u, 0, &v, "the request: empty");
	issue_fails(ca, "hello", 5, &u, 0, &v, "not a PKCS#10 certificate request");
	struct st_req_opts ro = {.cn = "a", .sans = "DNS:a"};
	req = st_req(k, &ro, false, &len);
	char *two = util_xasprintf("%s%s", req, req);
	issue_fails(ca, two, strlen(two), &u, 0, &v, "want exactly one PEM CERTIFICATE REQUEST");
	free(two);
	char *cert = st_certs_pem(&a.cert, 1);
	issue_fails(ca, cert, strlen(cert), &u, 0, &v, "want exactly one PEM CERTIFICATE REQUEST");
	free(cert);
	/* DER with a trailing byte. */
	free(req);
	req = st_req(k, &ro, true, &len);
	char *der2 = malloc(len + 1);
	memcpy(der2, req, len);
	der2[len] = 0;
	issue_fails(ca, der2, len + 1, &u, 0, &v, "not a PKCS#10 certificate request");
	free(der2);
	/* BER: the extensionRequest's SET of values made primitive (0x31 ->
	 * 0x11), which OpenSSL still reads. The signature covers the DER bytes,
	 * not these: it is checked over the bytes received, as OpenSSL checks
	 * it, and fails (a re-encoding would have restored the 0x31). */
	static const unsigned char ext_req[] = {0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
	                                        0xf7, 0x0d, 0x01, 0x09, 0x0e};
	unsigned char *ber = util_xmalloc(len);
	memcpy(ber, req, len);
	size_t at = 0;
	while (at + sizeof(ext_req) < len && memcmp(ber + at, ext_req, sizeof(ext_req)) != 0)
		at++;
	cr_assert_lt(at + sizeof(ext_req), len, "no extensionRequest in the request");
	cr_assert_eq(ber[at + sizeof(ext_req)], 0x31);
	ber[at + sizeof(ext_req)] = 0x11;
	issue_fails(ca, (const char *)ber, len, &u, 0, &v, "its self-signature does not verify");
	free(ber);
	/* Usages. */
	struct util_strv bad = usages_of("digital signature", "key encipherment", NULL);
	issue_fails(ca, req, len, &bad, 0, &v, "neither server auth nor client auth");
	util_strv_free(&bad);
	bad = usages_of("server auth", "cert sign", NULL);
	issue_fails(ca, req, len, &bad, 0, &v, "usage \"cert sign\" is not one this signer issues");
	util_strv_free(&bad);
	issue_fails(ca, req, len, &bad, 0, &v, "no usages");
	/* No CA. */
	struct signer_cert *c = NULL;
	char err[SIGNER_ERR_MAX];
	cr_expect_eq(signer_issue_csr(NULL, req, len, &u, 0, &v, &c, err, sizeof(err)), -1);
	cr_expect_str_eq(err, "no CA loaded");

	free(req);
	EVP_PKEY_free(k);
	util_strv_free(&u);
	signer_ca_free(ca);
	st_ca_fini(&a);
}

/* Criterion copies parameters into another process: no pointers. */
struct usage_case {
	char u[4][24];
	int rc;
	unsigned eku;
	char want[48];
};

ParameterizedTestParameters(signer_issue, usages)
{
	static struct usage_case cases[] = {
	    {{"server auth"}, 0, SIGNER_EKU_SERVER, ""},
	    {{"client auth", "digital signature"}, 0, SIGNER_EKU_CLIENT, ""},
	    {{"key encipherment", "digital signature", "client auth", "server auth"},
	     0,
	     SIGNER_EKU_SERVER | SIGNER_EKU_CLIENT,
	     ""},
	    {{"digital signature", "key encipherment"},
	     -1,
	     0,
	     "neither server auth nor client auth"},
	    {{"code signing"}, -1, 0, "usage \"code signing\" is not one"},
	    {{"server auth", "any"}, -1, 0, "usage \"any\""},
	    {{"server auth", "Server Auth"}, -1, 0, "usage \"Server Auth\""},
	    {{"client auth", "x\x01y"}, -1, 0, "usage \"(unprintable)\""},
	    {{""}, -1, 0, "no usages"},
	};
	return cr_make_param_array(struct usage_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct usage_case *c, signer_issue, usages)
{
	struct util_strv sv = {0};
	for (size_t i = 0; i < 4 && c->u[i][0]; i++)
		util_strv_push(&sv, c->u[i]);
	unsigned eku = 99;
	char err[SIGNER_ERR_MAX] = "";
	cr_expect_eq(signer_usages_eku(&sv, &eku, err, sizeof(err)), c->rc, "%s", err);
	cr_expect_eq(eku, c->eku);
	if (c->want[0])
		cr_expect(strstr(err, c->want) != NULL, "\"%s\", want \"%s\"", err, c->want);
	util_strv_free(&sv);
}

Test(signer_issue, ca_eku_must_allow_the_purpose)
{
	EVP_PKEY *key = st_key(ST_P256);
	struct st_cert_opts o = {
	    .cn = "client-ca", .ca = true, .ku = "critical,keyCertSign", .eku = "clientAuth"};
	X509 *x = st_cert(&o, key, NULL, NULL);
	char *c = st_certs_pem(&x, 1), *k = st_key_pem(key);
	struct signer_ca *ca = NULL;
	char err[SIGNER_ERR_MAX] = "";
	cr_assert_eq(signer_ca_parse(c, strlen(c), k, strlen(k), &ca, err, sizeof(err)), 0, "%s",
	             err);
	EVP_PKEY *lk = st_key(ST_P256);
	struct st_req_opts ro = {.cn = "a", .sans = "DNS:a"};
	size_t len = 0;
	char *req = st_req(lk, &ro, false, &len);
	struct signer_validity v = {.now = time(NULL), .lifetime = 3600};
	struct util_strv u = usages_of("client auth", NULL, NULL);
	struct signer_cert *cert = issue_ok(ca, req, len, &u, 0, &v);
	signer_cert_free(cert);
	util_strv_free(&u);
	u = usages_of("server auth", NULL, NULL);
	issue_fails(ca, req, len, &u, 0, &v, "extendedKeyUsage does not allow server auth");
	util_strv_free(&u);
	free(req);
	EVP_PKEY_free(lk);
	signer_ca_free(ca);
	free(c);
	free(k);
	X509_free(x);
	EVP_PKEY_free(key);
}

/* An intermediate issues: the CSR gets the leaf only, a pod the leaf and
 * the intermediate (never the root). */
Test(signer_issue, chain_with_intermediate)
{
	struct st_ca root;
	st_ca_make(&root, "root", ST_RSA2048, 0, 0);
	EVP_PKEY *ik = st_key(ST_P256);
	struct st_cert_opts io = {
	    .cn = "issuing", .ca = true, .ku = "critical,keyCertSign,cRLSign"};
	X509 *inter = st_cert(&io, ik, root.cert, root.key);
	X509 *chain[2] = {inter, root.cert};
	char *cp = st_path("chain.crt"), *kp = st_path("chain.key");
	char *cpem = st_certs_pem(chain, 2), *kpem = st_key_pem(ik);
	st_write(cp, cpem);
	st_write(kp, kpem);
	char *ipath = st_path("inter.pem"), *ipem = st_certs_pem(&inter, 1);
	st_write(ipath, ipem);
	struct signer_ca *ca = NULL;
	char err[SIGNER_ERR_MAX] = "";
	cr_assert_eq(signer_ca_load(cp, kp, &ca, err, sizeof(err)), 0, "%s", err);

	EVP_PKEY *lk = st_key(ST_P256);
	struct st_req_opts ro = {.cn = "a.b.svc", .sans = "DNS:a.b.svc"};
	size_t len = 0;
	char *req = st_req(lk, &ro, false, &len);
	struct util_strv u = usages_of("server auth", NULL, NULL);
	struct signer_validity v = {.now = time(NULL), .lifetime = 3600, .backdate = 60};
	struct signer_cert *c = issue_ok(ca, req, len, &u, 0, &v);
	cr_expect_eq(st_count_certs(c->pem), 1);
	char out[4096];
	cr_expect_eq(st_verify(root.cert_path, ipath, "sslserver", c->pem, out, sizeof(out)), 0,
	             "%s", out);
	/* Without the intermediate the leaf does not verify: it really is
	 * issued by it. */
	cr_expect_neq(st_verify(root.cert_path, NULL, "sslserver", c->pem, out, sizeof(out)), 0,
	              "%s", out);
	X509 *leaf = st_parse_cert(c->pem);
	cr_expect_eq(X509_NAME_cmp(X509_get_issuer_name(leaf), X509_get_subject_name(inter)), 0);
	cr_expect_eq(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(leaf),
	                                   X509_get0_subject_key_id(inter)),
	             0);
	X509_free(leaf);
	signer_cert_free(c);

	/* The pod chain: leaf, then the intermediate; verifying it as the
	 * kubelet hands it to the pod (chain file as untrusted). */
	struct signer_name names[] = {{SIGNER_NAME_DNS, "a.b.svc"}};
	cr_assert_eq(signer_issue_pod(ca, req, len, names, 1, SIGNER_EKU_SERVER, 86400, &v, &c, err,
	                              sizeof(err)),
	             0, "%s", err);
	cr_expect_eq(st_count_certs(c->chain_pem), 2);
	cr_expect(strncmp(c->chain_pem, c->pem, strlen(c->pem)) == 0);
	cr_expect_str_eq(c->chain_pem + strlen(c->pem), ipem);
	char *chain_path = st_path("podchain.pem");
	st_write(chain_path, c->chain_pem);
	cr_expect_eq(st_verify(root.cert_path, chain_path, "sslserver", c->pem, out, sizeof(out)),
	             0, "%s", out);
	signer_cert_free(c);

	free(chain_path);
	util_strv_free(&u);
	free(req);
	EVP_PKEY_free(lk);
	signer_ca_free(ca);
	free(ipath);
	free(ipem);
	free(cpem);
	free(kpem);
	free(cp);
	free(kp);
	X509_free(inter);
	EVP_PKEY_free(ik);
	st_ca_fini(&root);
}

/* ---- PodCertificateRequests ---- */

static struct signer_cert *pod_ok(const struct signer_ca *ca, const char *req, size_t len,
                                  const struct signer_name *names, size_t n, unsigned eku,
                                  int64_t maxexp, const struct signer_validity *v)
{
	struct signer_cert *c = NULL;
	char err[SIGNER_ERR_MAX] = "";
	cr_assert_eq(signer_issue_pod(ca, req, len, names, n, eku, maxexp, v, &c, err, sizeof(err)),
	             0, "%s", err);
	return c;
}

static void pod_fails(const struct signer_ca *ca, const char *req, size_t len,
                      const struct signer_name *names, size_t n, unsigned eku, int64_t maxexp,
                      const struct signer_validity *v, const char *want)
{
	struct signer_cert *c = (struct signer_cert *)1;
	char err[SIGNER_ERR_MAX] = "";
	cr_assert_eq(signer_issue_pod(ca, req, len, names, n, eku, maxexp, v, &c, err, sizeof(err)),
	             -1, "issued, want \"%s\"", want);
	cr_assert_null(c);
	cr_assert(strstr(err, want) != NULL, "error \"%s\", want \"%s\"", err, want);
}

Test(signer_issue, pod_certificate)
{
	struct st_ca a;
	int64_t now = time(NULL);
	st_ca_make(&a, "ca", ST_P256, now - 86400, now + 30 * 86400);
	struct signer_ca *ca = st_ca_load(&a);
	EVP_PKEY *lk = st_key(ST_RSA2048);
	/* The stub request carries its own names: none of them may show up. */
	struct st_req_opts ro = {.cn = "evil.example.com",
	                         .o = "system:masters",
	                         .sans = "DNS:evil.example.com,IP:1.1.1.1"};
	size_t len = 0;
	char *stub = st_req(lk, &ro, true, &len);
	struct signer_name names[] = {
	    {SIGNER_NAME_URI, "spiffe://cluster.local/ns/shop/sa/web"},
	    {SIGNER_NAME_DNS, "10-244-1-7.shop.pod.cluster.local"},
	    {SIGNER_NAME_IP, "10.244.1.7"},
	    {SIGNER_NAME_IP, "fd00:10:244::7"},
	};
	struct signer_validity v = {.now = now, .lifetime = 86400, .backdate = 300};
	struct signer_cert *c =
	    pod_ok(ca, stub, len, names, 4, SIGNER_EKU_SERVER | SIGNER_EKU_CLIENT, 86400, &v);

	/* Backdate cut to 4 minutes; lifetime measured from notBefore. */
	cr_expect_eq(c->not_before, now - SIGNER_POD_MAX_BACKDATE);
	cr_expect_eq(c->not_after, c->not_before + 86400);
	cr_expect_eq(c->begin_refresh_at, c->not_before + 86400 * 2 / 3);
	cr_expect_str_eq(c->chain_pem, c->pem);
	X509 *leaf = st_parse_cert(c->pem);
	check_leaf(
	    leaf, &a, c, NULL,
	    "URI:spiffe://cluster.local/ns/shop/sa/web,DNS:10-244-1-7.shop.pod.cluster.local,"
	    "IP:10.244.1.7,IP:fd00:10:244::7",
	    true, SIGNER_EKU_SERVER | SIGNER_EKU_CLIENT);
	cr_expect_eq(EVP_PKEY_eq(X509_get0_pubkey(leaf), lk), 1);
	expect_key_as_openssl_writes(leaf, lk);
	char out[4096];
	cr_expect_eq(st_verify(a.cert_path, NULL, "sslserver", c->pem, out, sizeof(out)), 0, "%s",
	             out);
	X509_free(leaf);
	signer_cert_free(c);

	/* maxExpirationSeconds shorter than the lifetime; a PEM stub works too. */
	char *pem_stub = st_req(lk, &ro, false, &len);
	v.backdate = 60;
	c = pod_ok(ca, pem_stub, len, names, 1, SIGNER_EKU_CLIENT, 3600, &v);
	cr_expect_eq(c->not_before, now - 60);
	cr_expect_eq(c->not_after, now - 60 + 3600);
	cr_expect_eq(c->begin_refresh_at, now - 60 + 2400);
	signer_cert_free(c);
	free(pem_stub);
	len = 0;
	free(stub);
	stub = st_req(lk, &ro, true, &len);

	/* The CA's notAfter leaves less than an hour: refused. */
	v.now = now + 30 * 86400 - 3000;
	pod_fails(ca, stub, len, names, 1, SIGNER_EKU_SERVER, 86400, &v,
	          "less than the 3600 s a PodCertificateRequest needs");
	/* ... but exactly an hour is enough. */
	v.now = now + 30 * 86400 - 3600 + 60;
	c = pod_ok(ca, stub, len, names, 1, SIGNER_EKU_SERVER, 86400, &v);
	cr_expect_eq(c->not_after, now + 30 * 86400);
	cr_expect_eq(c->not_after - c->not_before, 3600);
	signer_cert_free(c);
	v.now = now;

	/* Names the API server would refuse, and other mistakes. */
	struct {
		struct signer_name n;
		const char *want;
	} bad[] = {
	    {{SIGNER_NAME_DNS, "a..b"}, "name 1 is not a valid DNS name"},
	    {{SIGNER_NAME_DNS, ".a.b"}, "not a valid DNS name"},
	    {{SIGNER_NAME_DNS, "a.b."}, "not a valid DNS name"},
	    {{SIGNER_NAME_DNS, ""}, "not a valid DNS name"},
	    {{SIGNER_NAME_DNS, "*.b"}, "not a valid DNS name"},
	    {{SIGNER_NAME_DNS, "a-.b"}, "not a valid DNS name"},
	    {{SIGNER_NAME_IP, "10.0.0"}, "name 1 is not an IPv4 or IPv6 address"},
	    {{SIGNER_NAME_IP, NULL}, "not an IPv4 or IPv6 address"},
	    {{SIGNER_NAME_URI, "no-scheme"}, "name 1 is not a valid URI"},
	    {{SIGNER_NAME_URI, "spiffe://a b"}, "not a valid URI"},
	    {{(enum signer_name_type)7, "x"}, "name 1 has an unknown type"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		pod_fails(ca, stub, len, &bad[i].n, 1, SIGNER_EKU_SERVER, 86400, &v, bad[i].want);
	pod_fails(ca, stub, len, names, 0, SIGNER_EKU_SERVER, 86400, &v, "no names");
	pod_fails(ca, stub, len, names, 1, 0, 86400, &v, "no extendedKeyUsage purpose");
	pod_fails(ca, stub, len, names, 1, 4, 86400, &v, "no extendedKeyUsage purpose");
	pod_fails(ca, stub, len, names, 1, SIGNER_EKU_SERVER, 0, &v,
	          "spec.maxExpirationSeconds 0 is not positive");
	pod_fails(ca, "x", 1, names, 1, SIGNER_EKU_SERVER, 86400, &v,
	          "spec.stubPKCS10Request: not a PKCS#10 certificate request");
	char *long_dns = malloc(300);
	memset(long_dns, 'a', 299);
	long_dns[299] = '\0';
	struct signer_name ln = {SIGNER_NAME_DNS, long_dns};
	pod_fails(ca, stub, len, &ln, 1, SIGNER_EKU_SERVER, 86400, &v, "not a valid DNS name");
	long_dns[64] = '\0';
	pod_fails(ca, stub, len, &ln, 1, SIGNER_EKU_SERVER, 86400, &v, "not a valid DNS name");
	long_dns[63] = '\0';
	c = pod_ok(ca, stub, len, &ln, 1, SIGNER_EKU_SERVER, 86400, &v);
	signer_cert_free(c);
	free(long_dns);

	free(stub);
	EVP_PKEY_free(lk);
	signer_ca_free(ca);
	st_ca_fini(&a);
}
