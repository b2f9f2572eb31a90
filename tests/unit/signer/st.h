/*
 * Helpers for the signer tests: fresh keys, CA and leaf certificates and
 * PKCS#10 requests made with OpenSSL in the test itself, written into a
 * scratch directory that each test creates and removes (no key is ever
 * committed), and the `openssl` command line to verify what was issued.
 */
#ifndef CSR_APPROVER_TESTS_SIGNER_ST_H
#define CSR_APPROVER_TESTS_SIGNER_ST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "../../../pkg/signer/signer.h"

/* The scratch directory of the running test (suite .init / .fini). */
void st_tmp_init(void);
void st_tmp_fini(void);
/* DIR/rel; caller frees. */
char *st_path(const char *rel);

enum st_key {
	ST_RSA2048,
	ST_RSA1024,
	ST_P256,
	ST_P384,
	ST_P521,
	ST_K256, /* secp256k1: a curve the signer refuses */
	ST_ED25519,
	ST_ED448,
};
EVP_PKEY *st_key(enum st_key k);
/* Digest to sign with key k (NULL for EdDSA). */
const EVP_MD *st_md(EVP_PKEY *k);

struct st_cert_opts {
	const char *cn;
	bool ca; /* basicConstraints critical,CA:TRUE (else CA:FALSE) */
	bool no_bc; /* no basicConstraints at all */
	const char *ku; /* keyUsage value for OpenSSL's config syntax, or NULL */
	const char *eku; /* extendedKeyUsage value, or NULL */
	bool no_ski; /* leave out subjectKeyIdentifier */
	int64_t not_before, not_after; /* 0: now - 1h, now + 10 days */
};
/* A certificate for subject_key, signed by issuer_key (self-signed when
 * issuer is NULL). */
X509 *st_cert(const struct st_cert_opts *o, EVP_PKEY *subject_key, X509 *issuer,
              EVP_PKEY *issuer_key);

/* PEM text of certificates / of a key (PKCS#8); caller frees. */
char *st_certs_pem(X509 *const *certs, size_t n);
char *st_key_pem(EVP_PKEY *k);
/* A key in OpenSSL's traditional form ("RSA PRIVATE KEY", "EC PRIVATE KEY"). */
char *st_key_pem_traditional(EVP_PKEY *k);
void st_write(const char *path, const char *text);

/* A CA on disk: DIR/NAME.crt and DIR/NAME.key. */
struct st_ca {
	EVP_PKEY *key;
	X509 *cert;
	char *cert_path, *key_path;
};
/* A self-signed CA (CN = name) with a key of kind k, valid [nb, na]
 * (0: the st_cert defaults). */
void st_ca_make(struct st_ca *ca, const char *name, enum st_key k, int64_t nb, int64_t na);
void st_ca_fini(struct st_ca *ca);
/* signer_ca_load() that must succeed. */
struct signer_ca *st_ca_load(const struct st_ca *ca);

struct st_req_opts {
	const char *cn;
	const char *o;
	const char *sans; /* OpenSSL syntax: "DNS:a.b,IP:10.0.0.1,URI:spiffe://x" */
	bool second_cn;
	bool tamper; /* flip a bit of the signature */
};
/* A PKCS#10 request for key k, PEM or DER (*len bytes); caller frees. */
char *st_req(EVP_PKEY *k, const struct st_req_opts *o, bool der, size_t *len);

/* The first certificate of PEM text. */
X509 *st_parse_cert(const char *pem);
/* Number of PEM CERTIFICATE blocks in text. */
size_t st_count_certs(const char *pem);
/* Unix seconds of an ASN1_TIME. */
int64_t st_time(const ASN1_TIME *t);

/* Run argv (argv[0] looked up in PATH) with stdout+stderr into out;
 * returns the exit status (-1 when it did not exit). */
int st_run(const char *const *argv, char *out, size_t outlen);
/* `openssl verify -x509_strict -CAfile root [-untrusted untrusted]
 * [-purpose purpose] leaf`, where leaf is PEM text written to a file.
 * Returns the exit status; out gets the output. */
int st_verify(const char *root_path, const char *untrusted_path, const char *purpose,
              const char *leaf_pem, char *out, size_t outlen);

/* Does text contain any 16-byte window of the base64 body of key_pem? */
bool st_leaks_key(const char *text, const char *key_pem);

#endif
