/*
 * libFuzzer target for the request decoding of pkg/signer: untrusted bytes
 * as a CSR's spec.request (signer_issue_csr()) and as a
 * PodCertificateRequest's spec.stubPKCS10Request (signer_issue_pod()),
 * DER when the input starts with 0x30, else PEM text. The CA is made in
 * memory once, with a fresh Ed25519 key that is never written anywhere.
 * Issuing succeeds only for a request whose signature verifies, which a
 * seed from tests/fuzz/corpus/csr gives; the mutations exercise decoding
 * and every refusal.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "../../pkg/signer/signer.h"
#include "../../pkg/util/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct signer_ca *fuzz_ca;
static struct util_strv fuzz_usages;

static char *bio_text(BIO *b)
{
	char *p = NULL;
	long n = BIO_get_mem_data(b, &p);
	char *s = util_xstrndup(p, n > 0 ? (size_t)n : 0);
	BIO_free(b);
	return s;
}

static void make_ca(void)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	X509 *x = X509_new();
	X509V3_CTX ctx;
	char err[SIGNER_ERR_MAX];

	if (k == NULL || x == NULL)
		abort();
	X509_set_version(x, X509_VERSION_3);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_UTF8,
	                           (const unsigned char *)"fuzz", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509_set_pubkey(x, k);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 365);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	X509_EXTENSION *e =
	    X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints, "critical,CA:TRUE");
	X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	if (X509_sign(x, k, NULL) <= 0)
		abort();
	BIO *cb = BIO_new(BIO_s_mem()), *kb = BIO_new(BIO_s_mem());
	PEM_write_bio_X509(cb, x);
	PEM_write_bio_PrivateKey(kb, k, NULL, NULL, 0, NULL, NULL);
	char *c = bio_text(cb), *kp = bio_text(kb);
	if (signer_ca_parse(c, strlen(c), kp, strlen(kp), &fuzz_ca, err, sizeof(err)) != 0)
		abort();
	OPENSSL_cleanse(kp, strlen(kp));
	free(c);
	free(kp);
	X509_free(x);
	EVP_PKEY_free(k);
	util_strv_push(&fuzz_usages, "server auth");
	util_strv_push(&fuzz_usages, "client auth");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct signer_name names[] = {
	    {SIGNER_NAME_URI, "spiffe://cluster.local/ns/shop/sa/web"},
	    {SIGNER_NAME_DNS, "web.shop.svc"},
	    {SIGNER_NAME_IP, "10.244.1.7"},
	};
	struct signer_cert *c = NULL;
	char err[SIGNER_ERR_MAX];

	if (fuzz_ca == NULL)
		make_ca();
	struct signer_validity v = {.now = time(NULL), .lifetime = 86400, .backdate = 300};
	if (signer_issue_csr(fuzz_ca, (const char *)data, size, &fuzz_usages, 3600, &v, &c, err,
	                     sizeof(err)) == 0) {
		if (c == NULL || c->pem == NULL || c->not_after <= c->not_before)
			abort();
		signer_cert_free(c);
	} else if (c != NULL || err[0] == '\0') {
		abort();
	}
	c = NULL;
	if (signer_issue_pod(fuzz_ca, (const char *)data, size, names, 3,
	                     SIGNER_EKU_SERVER | SIGNER_EKU_CLIENT, 86400, &v, &c, err,
	                     sizeof(err)) == 0) {
		if (c == NULL || c->chain_pem == NULL || c->begin_refresh_at <= c->not_before)
			abort();
		signer_cert_free(c);
	} else if (c != NULL || err[0] == '\0') {
		abort();
	}
	return 0;
}
