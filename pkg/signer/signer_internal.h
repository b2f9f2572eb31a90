/*
 * Shared between the files of the signer module; not part of its API.
 * Same thread-safety as signer.h.
 */
#ifndef CSR_APPROVER_SIGNER_INTERNAL_H
#define CSR_APPROVER_SIGNER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "signer.h"

struct csr_asn1_req;

/* printf into err (errlen bytes, always terminated when errlen > 0). */
void signer_errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- PEM ---- */

/* One PEM block: its label and the decoded body. */
struct signer_pem_block {
	char label[48];
	unsigned char *der; /* owned */
	size_t der_len;
	size_t line; /* 1-based line of its BEGIN line */
};

/*
 * Split text (len bytes) into PEM blocks, strictly: nothing but whitespace
 * outside the blocks, labels of upper-case letters, digits and spaces, no
 * RFC 1421 headers, END matching BEGIN, base64 bodies in canonical form.
 * At most max_blocks blocks. With secret set, every buffer that held a
 * body is wiped before it is freed, and messages never quote the text.
 * Returns 0 with *out (free with signer_pem_free()) and *n (0 when text is
 * only whitespace), or -1 with a one-line reason in why.
 */
int signer_pem_split(const char *text, size_t len, bool secret, size_t max_blocks,
                     struct signer_pem_block **out, size_t *n, char *why, size_t whylen);
/* Free (and with secret, wipe) n blocks; NULL does nothing. */
void signer_pem_free(struct signer_pem_block *b, size_t n, bool secret);

/*
 * Certificates of a PEM list (the CA file, an old trust bundle): every block
 * a CERTIFICATE that decodes as X.509 with nothing after it, at least one,
 * at most max. what names the text in messages ("CA certificate file F").
 * Returns 0 and *out (free with sk_X509_pop_free(X509_free)), or -1.
 */
int signer_parse_certs(const char *text, size_t len, size_t max, const char *what,
                       STACK_OF(X509) * *out, char *err, size_t errlen);

/* Append x as one PEM CERTIFICATE block to b. Returns 0 or -1. */
int signer_pem_append_cert(struct util_buf *b, X509 *x);

/* ---- time ---- */

/* An ASN1_TIME as Unix seconds; -1 when it does not convert. */
int signer_asn1_time_unix(const ASN1_TIME *t, int64_t *out);
/* RFC 3339 text of t ("2026-07-24T10:00:00Z"). */
void signer_time_text(int64_t t, char out[32]);

/* ---- the CA ---- */

/* What was read from a file, to notice a change. */
struct signer_file_id {
	bool ok; /* stat succeeded */
	int err; /* else its errno */
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtim, ctim;
};

struct signer_ca {
	char *cert_path, *key_path; /* owned; NULL for a CA from memory */
	struct signer_file_id cert_id, key_id; /* what was read */
	/* The files of the last failed signer_ca_reload(), not tried again. */
	bool failed;
	struct signer_file_id failed_cert_id, failed_key_id;

	STACK_OF(X509) * chain; /* owned; [0] the issuing CA */
	EVP_PKEY *key; /* owned; the issuing CA's private key */
	const EVP_MD *md; /* signature digest; NULL for Ed25519 */
	char key_type[16]; /* "RSA-2048", "ECDSA-P256", ... */
	int64_t not_before, not_after; /* of chain[0] */
	char *subject; /* owned; of chain[0], RFC 2253 */
	unsigned char keyid[64]; /* authorityKeyIdentifier keyid for leaves */
	size_t keyid_len;
	char *bundle_pem; /* owned; every certificate, deduplicated */
	char *chain_tail_pem; /* owned; the certificates that are not self-signed ("" if none) */
};

/* ---- the request (signer_request.c) ---- */

/* A request as the signer reads it. */
struct signer_req {
	struct csr_asn1_req *req; /* decoded as OpenSSL decodes an X509_REQ */
	EVP_PKEY *pub; /* its key, the self-signature verified with it */
	unsigned char *spki; /* its SubjectPublicKeyInfo (OPENSSL_free) */
	size_t spki_len;
	bool is_rsa;
};

/* Free what r holds and zero it. */
void signer_req_clear(struct signer_req *r);
/* Decode a PKCS#10 request (PEM or DER; what names it in errors) into *r,
 * verify its self-signature and check that its key is one the signer
 * issues for. Returns 0, or -1 with r cleared and the reason in err. */
int signer_req_decode(const char *data, size_t len, const char *what, struct signer_req *r,
                      char *err, size_t errlen);
/* The subject of a CSR's certificate: the request's CN alone, or empty.
 * NULL with the reason in err. Caller frees with X509_NAME_free(). */
X509_NAME *signer_req_subject(const struct signer_req *r, char *err, size_t errlen);
/* The request's subjectAltName: DNS, IP and URI names only. Returns 0 and
 * *out (NULL when the request has none; caller frees with
 * GENERAL_NAMES_free()), or -1. */
int signer_req_sans(const struct signer_req *r, GENERAL_NAMES **out, char *err, size_t errlen);
/* Put the request's key into x (see signer_request.c). Returns 0 or -1. */
int signer_req_set_key(X509 *x, const struct signer_req *r);

#endif
