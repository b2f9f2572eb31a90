/*
 * csr: the PKCS#10 request read field by field the way OpenSSL's X509_REQ
 * reads it, except that the SubjectPublicKeyInfo stays an AlgorithmIdentifier
 * and a BIT STRING. OpenSSL 3.0 loads the key of every X509_REQ it decodes
 * through a decoder it builds for the purpose, which cost more than the
 * signature check; the key is loaded here once, the cheap way for the
 * common EC, RSA and Ed25519 keys and OpenSSL's way for every other.
 */
#include "csr_internal.h"

#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1t.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>

/* The templates of OpenSSL's X509_PUBKEY_INTERNAL, X509_REQ_INFO and
 * X509_REQ (crypto/x509/x_pubkey.c, x_req.c), with the same fields, tags and
 * optionality, so that a request decodes, and re-encodes, here exactly when
 * it does there. The attributes are OPTIONAL there too ("it gets round
 * invalid encodings"): absent, they stay absent when re-encoded. As there,
 * the CertificationRequestInfo keeps the bytes it was decoded from, and the
 * signature is checked over those bytes, not over a re-encoding that may
 * differ when the request is BER.
 * cppcheck does not read OpenSSL's headers and cannot parse the macros;
 * they end without a semicolon, which clang-format takes as a statement
 * going on, so formatting is off until the next function ends. */
#ifndef CSR_APPROVER_CPPCHECK
// clang-format off
ASN1_SEQUENCE(CSR_SPKI) = {
    ASN1_SIMPLE(struct csr_asn1_spki, algor, X509_ALGOR),
    ASN1_SIMPLE(struct csr_asn1_spki, public_key, ASN1_BIT_STRING),
} static_ASN1_SEQUENCE_END_name(struct csr_asn1_spki, CSR_SPKI)

static const ASN1_AUX CSR_REQ_INFO_aux = {
    NULL, ASN1_AFLG_ENCODING, 0, 0, NULL, offsetof(struct csr_asn1_info, enc), NULL};
ASN1_SEQUENCE(CSR_REQ_INFO) = {
    ASN1_SIMPLE(struct csr_asn1_info, version, ASN1_INTEGER),
    ASN1_SIMPLE(struct csr_asn1_info, subject, X509_NAME),
    ASN1_SIMPLE(struct csr_asn1_info, pubkey, CSR_SPKI),
    ASN1_IMP_SET_OF_OPT(struct csr_asn1_info, attributes, X509_ATTRIBUTE, 0),
} static_ASN1_SEQUENCE_END_ref(struct csr_asn1_info, CSR_REQ_INFO)

ASN1_SEQUENCE(CSR_REQ) = {
    ASN1_SIMPLE(struct csr_asn1_req, info, CSR_REQ_INFO),
    ASN1_SIMPLE(struct csr_asn1_req, sig_alg, X509_ALGOR),
    ASN1_SIMPLE(struct csr_asn1_req, signature, ASN1_BIT_STRING),
} static_ASN1_SEQUENCE_END_name(struct csr_asn1_req, CSR_REQ)
#endif

struct csr_asn1_req *csr_asn1_req_decode(const unsigned char *der, size_t len)
{
	const unsigned char *p = der;
	ASN1_VALUE *v;

	if (len > LONG_MAX)
		return NULL;
	v = ASN1_item_d2i(NULL, &p, (long)len, ASN1_ITEM_rptr(CSR_REQ));
	if (v != NULL && p != der + len) {
		ASN1_item_free(v, ASN1_ITEM_rptr(CSR_REQ));
		return NULL;
	}
	return (struct csr_asn1_req *)v;
}
// clang-format on

bool csr_asn1_req_reencodes(struct csr_asn1_req *req, const unsigned char *der, size_t len)
{
	unsigned char *re = NULL;
	/* From the fields, not from the bytes the info was decoded from. */
	req->info->enc.modified = 1;
	int relen = ASN1_item_i2d((const ASN1_VALUE *)req, &re, ASN1_ITEM_rptr(CSR_REQ));
	bool same = relen > 0 && (size_t)relen == len && memcmp(re, der, len) == 0;

	OPENSSL_free(re);
	return same;
}

bool csr_asn1_req_verify(const struct csr_asn1_req *req, EVP_PKEY *pkey)
{
	/* What X509_REQ_verify() does: ASN1_item_verify_ex() over the
	 * re-encoded CertificationRequestInfo, no distinguishing ID, the
	 * default library context. */
	return pkey != NULL &&
	    ASN1_item_verify(ASN1_ITEM_rptr(CSR_REQ_INFO), req->sig_alg, req->signature, req->info,
	                     pkey) == 1;
}

int csr_asn1_req_spki(const struct csr_asn1_req *req, unsigned char **der)
{
	*der = NULL;
	int n = ASN1_item_i2d((const ASN1_VALUE *)req->info->pubkey, der, ASN1_ITEM_rptr(CSR_SPKI));
	if (n <= 0) {
		OPENSSL_free(*der);
		*der = NULL;
		return -1;
	}
	return n;
}

bool csr_asn1_spki_canonical(const unsigned char *spki, size_t len)
{
	struct csr_der_key k;
	return csr_der_key_form(spki, len, &k) != CSR_DER_KEY_OTHER;
}

void csr_asn1_req_free(struct csr_asn1_req *req)
{
	ASN1_item_free((ASN1_VALUE *)req, ASN1_ITEM_rptr(CSR_REQ));
}

/* The parameters of the curves of csr_der_ec_spki_group(), made once. A
 * key copied from them and given its point costs a quarter of one made from
 * the curve's name, which works out the curve's constants again each time.
 * Never changed once made, and never freed: copies are made from any
 * thread. */
static EVP_PKEY *ec_group_params[CSR_DER_EC_GROUPS];
static CRYPTO_ONCE ec_group_once = CRYPTO_ONCE_STATIC_INIT;

static void ec_group_params_make(void)
{
	for (size_t i = 0; i < CSR_DER_EC_GROUPS; i++) {
		EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
		OSSL_PARAM params[] = {
		    OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
		                                     (char *)csr_der_ec_group_name(i), 0),
		    OSSL_PARAM_construct_end(),
		};
		if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
		    EVP_PKEY_fromdata(ctx, &ec_group_params[i], EVP_PKEY_KEY_PARAMETERS, params) !=
		        1) {
			EVP_PKEY_free(ec_group_params[i]);
			ec_group_params[i] = NULL;
		}
		EVP_PKEY_CTX_free(ctx);
	}
}

/* An EC key in the one canonical form of its named curve, from the curve's
 * name and the point: OpenSSL's EC key management checks that the point is
 * on the curve, as its decoder does. NULL when it is not, or when OpenSSL
 * could not make the curve (then it could not load the key either). */
static EVP_PKEY *ec_key_from_point(const char *group, const unsigned char *point, size_t len)
{
	EVP_PKEY *params = NULL, *pkey = NULL;

	if (CRYPTO_THREAD_run_once(&ec_group_once, ec_group_params_make) != 1)
		return NULL;
	for (size_t i = 0; i < CSR_DER_EC_GROUPS; i++)
		if (strcmp(group, csr_der_ec_group_name(i)) == 0)
			params = ec_group_params[i];
	if (params == NULL)
		return NULL;
	pkey = EVP_PKEY_dup(params);
	if (pkey == NULL || EVP_PKEY_set1_encoded_public_key(pkey, point, len) != 1) {
		EVP_PKEY_free(pkey);
		return NULL;
	}
	return pkey;
}

/* An RSA key from its modulus and public exponent (big-endian INTEGER
 * contents), through OpenSSL's RSA key management as its decoder loads one.
 * NULL when OpenSSL refuses them. */
static EVP_PKEY *rsa_key_from(const unsigned char *n, size_t n_len, const unsigned char *e,
                              size_t e_len)
{
	BIGNUM *bn = NULL, *be = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;

	if (n_len > INT_MAX || e_len > INT_MAX)
		return NULL;
	bn = BN_bin2bn(n, (int)n_len, NULL);
	be = BN_bin2bn(e, (int)e_len, NULL);
	bld = OSSL_PARAM_BLD_new();
	if (bn == NULL || be == NULL || bld == NULL ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) != 1 ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1) {
		EVP_PKEY_free(pkey);
		pkey = NULL;
	}
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(be);
	BN_free(bn);
	return pkey;
}

EVP_PKEY *csr_asn1_key_load(const unsigned char *spki, size_t len)
{
	struct csr_der_key k;
	enum csr_der_key_form form = csr_der_key_form(spki, len, &k);
	const unsigned char *p = spki;
	EVP_PKEY *fast = NULL, *slow = NULL;

	if (form != CSR_DER_KEY_OTHER) {
		if (form == CSR_DER_KEY_EC)
			fast = ec_key_from_point(k.group, k.key, k.key_len);
		else if (form == CSR_DER_KEY_RSA)
			fast = rsa_key_from(k.key, k.key_len, k.e, k.e_len);
		else
			fast =
			    EVP_PKEY_new_raw_public_key_ex(NULL, "ED25519", NULL, k.key, k.key_len);
#ifndef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
		return fast;
#endif
	}
	if (len <= LONG_MAX)
		slow = d2i_PUBKEY(NULL, &p, (long)len);
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
	if (form != CSR_DER_KEY_OTHER) {
		/* Both ways must load the same key, or fail alike. */
		if ((fast == NULL) != (slow == NULL) ||
		    (fast != NULL && EVP_PKEY_eq(fast, slow) != 1))
			abort();
		EVP_PKEY_free(slow);
		return fast;
	}
#endif
	return slow;
}

#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
void csr_asn1_req_crosscheck(const unsigned char *der, size_t len, const struct csr_asn1_req *req,
                             EVP_PKEY *pkey)
{
	const unsigned char *p = der;
	X509_REQ *x = d2i_X509_REQ(NULL, &p, (long)len);
	bool decodes = x != NULL && p == der + len;

	/* Decoded here exactly when OpenSSL's X509_REQ decodes it, the same
	 * key loaded, the signature verified alike. */
	if (decodes != (req != NULL))
		abort();
	if (decodes) {
		EVP_PKEY *theirs = X509_REQ_get0_pubkey(x);
		if ((theirs == NULL) != (pkey == NULL) ||
		    (pkey != NULL && EVP_PKEY_eq(pkey, theirs) != 1))
			abort();
		if ((pkey != NULL && X509_REQ_verify(x, theirs) == 1) !=
		    csr_asn1_req_verify(req, pkey))
			abort();
	}
	X509_REQ_free(x);
}
#endif
