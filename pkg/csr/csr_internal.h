/*
 * Shared between the files of the csr module; not part of its API.
 * Same thread-safety as csr.h: no shared state.
 */
#ifndef CSR_APPROVER_CSR_INTERNAL_H
#define CSR_APPROVER_CSR_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/asn1.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "../util/util.h"
#include "csr.h"

/* Deepest nesting of constructed DER values accepted (a real request
 * nests about ten deep). */
#define CSR_DER_MAX_DEPTH 32

/* printf into err (errlen bytes, always terminated when errlen > 0). */
void csr_errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * Check that der (len bytes) is exactly one DER value with nothing after it,
 * and strict DER throughout: definite minimal lengths, minimal tags, no
 * constructed strings, canonical BOOLEAN/INTEGER/BIT STRING/NULL/OID
 * contents, SET OF elements in DER order, nesting at most CSR_DER_MAX_DEPTH.
 * The contents of OCTET and BIT STRINGs are not entered. Returns 0, or -1
 * with a one-line reason naming the byte offset in err.
 */
int csr_der_check(const unsigned char *der, size_t len, char *err, size_t errlen);

/* Where the parts of a request that the decoder checks byte by byte lie,
 * as pointers into the DER given to csr_der_request_parts(). */
struct csr_der_parts {
	const unsigned char *name; /* the subject Name, tag and length included */
	size_t name_len;
	const unsigned char *spki; /* the SubjectPublicKeyInfo, tag and length included */
	size_t spki_len;
	const unsigned char *key_oid; /* the content of its algorithm OID */
	size_t key_oid_len;
};

/*
 * Strictness that csr_der_check() cannot see because it needs to know the
 * type: in der (len bytes, accepted by csr_der_check()), a PKCS#10 request,
 * find the subject and the key and check that no RDN of the subject is an
 * empty SET, that the key's BIT STRING has no unused bits, and that an RSA
 * or DSA key inside it is strict DER (minimal INTEGERs, nothing after them)
 * of the form its RFC gives, with positive INTEGERs. Returns 0 and fills
 * *out, or -1 with a one-line reason in err ("DER does not decode as a
 * PKCS#10 certificate request" when der has another shape) and *out
 * zeroed.
 */
int csr_der_request_parts(const unsigned char *der, size_t len, struct csr_der_parts *out,
                          char *err, size_t errlen);

/*
 * OpenSSL's name of the curve ("prime256v1", "secp384r1", "secp521r1") when
 * spki (len bytes, a whole SubjectPublicKeyInfo) has the one encoding an EC
 * key on that curve can have: id-ecPublicKey, the curve's OID as its
 * parameters, an uncompressed point of the field's size. NULL for any other
 * bytes. Whether the point is on the curve is OpenSSL's to say. When not
 * NULL, *point_len gets the length of the point, the last bytes of spki
 * (0x04 and the two coordinates).
 */
const char *csr_der_ec_spki_group(const unsigned char *spki, size_t len, size_t *point_len);
/* The i-th curve csr_der_ec_spki_group() knows, from 0; NULL past the
 * last. */
const char *csr_der_ec_group_name(size_t i);
#define CSR_DER_EC_GROUPS 3

/*
 * True when spki (len bytes, a whole SubjectPublicKeyInfo) is an RSA key in
 * the one encoding OpenSSL writes for it: rsaEncryption with NULL
 * parameters, a BIT STRING with no unused bits holding the SEQUENCE of the
 * modulus and the public exponent, both positive INTEGERs in DER, lengths
 * in DER. *n and *e then point at the INTEGERs' contents (big-endian, a
 * leading 0x00 kept when there is one). False for any other bytes.
 */
bool csr_der_rsa_spki_key(const unsigned char *spki, size_t len, const unsigned char **n,
                          size_t *n_len, const unsigned char **e, size_t *e_len);
/* The key's 32 bytes when spki (len bytes) is an Ed25519 key in its one
 * encoding (RFC 8410: id-Ed25519, no parameters, a BIT STRING of 32 bytes
 * with no unused bits); NULL for any other bytes. */
const unsigned char *csr_der_ed25519_spki_key(const unsigned char *spki, size_t len);

/* Which of the forms above a SubjectPublicKeyInfo has, and its parts. */
enum csr_der_key_form {
	CSR_DER_KEY_OTHER, /* none of them: OpenSSL's decoder and encoder judge it */
	CSR_DER_KEY_EC,
	CSR_DER_KEY_RSA,
	CSR_DER_KEY_ED25519,
};
struct csr_der_key {
	const char *group; /* EC: OpenSSL's name of the curve */
	const unsigned char *key; /* EC: the point; RSA: the modulus; Ed25519: the key */
	size_t key_len;
	const unsigned char *e; /* RSA: the public exponent */
	size_t e_len;
};
/* The form of spki (len bytes); *k (pointers into spki) filled for the
 * forms other than CSR_DER_KEY_OTHER. */
enum csr_der_key_form csr_der_key_form(const unsigned char *spki, size_t len,
                                       struct csr_der_key *k);

#include "csr_asn1.h"

/*
 * The value at p (len bytes) that csr_der_check() accepted: its first tag
 * byte, and where its content starts and how long it is. Returns 0, or -1
 * when p does not hold a whole value.
 */
int csr_der_next(const unsigned char *p, size_t len, unsigned char *tag,
                 const unsigned char **content, size_t *clen);

/* SHA-256 of p (n bytes) as lower-case hex into out. Returns 0, or -1
 * when OpenSSL cannot hash (out is then ""). */
int csr_sha256_hex(const unsigned char *p, size_t n, char out[65]);

/* Dotted text of obj into out (see csr.h about long OIDs); "" for NULL. */
void csr_oid_text(const ASN1_OBJECT *obj, char out[64]);
/* OpenSSL's short name of obj, else its dotted text. */
void csr_oid_name(const ASN1_OBJECT *obj, char out[64]);

/* Findings of csr_str_decode(). */
struct csr_str_scan {
	bool has_nul;
	bool has_control;
	bool bad_encoding;
};

/*
 * Decode the content bytes p (n) of an ASN.1 string of type t into UTF-8
 * appended to utf8 (may be NULL: scan only), invalid parts as U+FFFD, and
 * report NULs, controls and encoding errors in *scan. T61String is read as
 * Latin-1, as OpenSSL does; CSR_STR_OTHER byte by byte as Latin-1.
 */
void csr_str_decode(enum csr_str_type t, const unsigned char *p, size_t n, struct util_buf *utf8,
                    struct csr_str_scan *scan);

/*
 * Decode the value of an extensionRequest attribute (a SEQUENCE OF
 * Extension) into info: exts, sans, key usage, EKU, basic constraints.
 * Returns 0, or -1 with a one-line reason in err (an extension that does not
 * decode, non-strict DER, a cap exceeded). What was added to info before a
 * failure stays owned by info.
 */
int csr_decode_extensions(const ASN1_TYPE *value, struct csr_info *info, char *err, size_t errlen);

#endif
