#include "pki.h"

#include <criterion/criterion.h>
#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	cr_assert_not_null(e, "extension %d %s", nid, value);
	cr_assert_eq(X509_add_ext(x, e, -1), 1);
	X509_EXTENSION_free(e);
}

static X509 *new_cert(const char *cn, EVP_PKEY *pub, int64_t nb_s, int64_t na_s)
{
	static long serial = 1;
	X509 *x = X509_new();
	cr_assert_not_null(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
	X509_time_adj_ex(X509_getm_notBefore(x), 0, (long)nb_s, NULL);
	X509_time_adj_ex(X509_getm_notAfter(x), 0, (long)na_s, NULL);
	X509_NAME *n = X509_get_subject_name(x);
	if (cn != NULL)
		X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1,
		                           -1, 0);
	X509_set_pubkey(x, pub);
	return x;
}

void test_ca_make(struct test_ca *ca, const char *cn, const struct test_ca *issuer)
{
	ca->key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	cr_assert_not_null(ca->key);
	ca->cert = new_cert(cn, ca->key, -3600, 86400);
	X509_set_issuer_name(ca->cert, X509_get_subject_name(issuer ? issuer->cert : ca->cert));
	add_ext(ca->cert, issuer ? issuer->cert : ca->cert, NID_basic_constraints,
	        "critical,CA:TRUE");
	add_ext(ca->cert, issuer ? issuer->cert : ca->cert, NID_key_usage,
	        "critical,keyCertSign,cRLSign");
	add_ext(ca->cert, issuer ? issuer->cert : ca->cert, NID_subject_key_identifier, "hash");
	cr_assert(X509_sign(ca->cert, issuer ? issuer->key : ca->key, EVP_sha256()) > 0);
}

void test_ca_free(struct test_ca *ca)
{
	X509_free(ca->cert);
	EVP_PKEY_free(ca->key);
	memset(ca, 0, sizeof(*ca));
}

char *test_cert_pem(X509 *x)
{
	BIO *b = BIO_new(BIO_s_mem());
	PEM_write_bio_X509(b, x);
	char *data;
	long n = BIO_get_mem_data(b, &data);
	char *out = malloc((size_t)n + 1);
	memcpy(out, data, (size_t)n);
	out[n] = '\0';
	BIO_free(b);
	return out;
}

char *test_issue(const struct test_ca *ca, EVP_PKEY *pub, const char *sans, int64_t nb_s,
                 int64_t na_s)
{
	X509 *x = new_cert(NULL, pub, nb_s, na_s);
	X509_set_issuer_name(x, X509_get_subject_name(ca->cert));
	add_ext(x, ca->cert, NID_basic_constraints, "critical,CA:FALSE");
	if (sans != NULL)
		add_ext(x, ca->cert, NID_subject_alt_name, sans);
	cr_assert(X509_sign(x, ca->key, EVP_sha256()) > 0);
	char *pem = test_cert_pem(x);
	X509_free(x);
	return pem;
}
