/*
 * csr: a PKCS#10 request decoded as OpenSSL decodes an X509_REQ, but with
 * the key left as bytes and loaded the cheap way where its form allows
 * (csr_req.c). csr_parse() decodes with it; the built-in signer
 * (pkg/signer), which builds certificates with OpenSSL, decodes the
 * requests it signs with it too. Field names and types are OpenSSL's.
 *
 * Threads: any, on distinct requests.
 */
#ifndef CSR_APPROVER_CSR_ASN1_H
#define CSR_APPROVER_CSR_ASN1_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/asn1.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

struct csr_asn1_spki {
	X509_ALGOR *algor;
	ASN1_BIT_STRING *public_key;
};
struct csr_asn1_info {
	ASN1_ENCODING enc; /* the bytes it was decoded from, as X509_REQ_INFO keeps */
	ASN1_INTEGER *version;
	X509_NAME *subject;
	struct csr_asn1_spki *pubkey;
	STACK_OF(X509_ATTRIBUTE) * attributes; /* NULL when the [0] is absent */
};
struct csr_asn1_req {
	struct csr_asn1_info *info;
	X509_ALGOR *sig_alg;
	ASN1_BIT_STRING *signature;
};

/* der (len bytes) as a request with nothing after it, or NULL when it does
 * not decode. Free with csr_asn1_req_free(). */
struct csr_asn1_req *csr_asn1_req_decode(const unsigned char *der, size_t len);
/* Whether req, encoded again from its fields, is the len bytes at der.
 * From then on req is encoded from its fields, its signature checked over
 * them too. */
bool csr_asn1_req_reencodes(struct csr_asn1_req *req, const unsigned char *der, size_t len);
/* Whether the signature of req verifies with pkey (false for NULL), as
 * X509_REQ_verify() says: over the bytes of the CertificationRequestInfo
 * it was decoded from. */
bool csr_asn1_req_verify(const struct csr_asn1_req *req, EVP_PKEY *pkey);
/* The SubjectPublicKeyInfo of req encoded from its fields into *der
 * (caller frees with OPENSSL_free()). Returns its length, or -1 (*der
 * NULL). */
int csr_asn1_req_spki(const struct csr_asn1_req *req, unsigned char **der);
void csr_asn1_req_free(struct csr_asn1_req *req);
/* The key of a SubjectPublicKeyInfo (spki, len bytes), or NULL when
 * OpenSSL cannot load it (unknown algorithm, a point off the curve, ...). */
EVP_PKEY *csr_asn1_key_load(const unsigned char *spki, size_t len);
/* Whether spki (len bytes) is in the one form OpenSSL's encoder writes for
 * the key it holds: an EC key on P-256, P-384 or P-521 by the curve's OID
 * with an uncompressed point, an RSA key with NULL parameters and minimal
 * INTEGERs, or an Ed25519 key (no parameters). The key OpenSSL loads
 * from such bytes encodes back to them, byte for byte (fuzzing builds
 * check it on every key). */
bool csr_asn1_spki_canonical(const unsigned char *spki, size_t len);
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
/* Fuzzing builds: abort unless OpenSSL's X509_REQ decodes der (len bytes)
 * exactly when req is not NULL, to the same key (pkey, NULL when not
 * loaded), with the same verdict on the signature. */
void csr_asn1_req_crosscheck(const unsigned char *der, size_t len, const struct csr_asn1_req *req,
                             EVP_PKEY *pkey);
#endif

#endif
