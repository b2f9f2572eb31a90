/*
 * csr: decode a PEM PKCS#10 certificate request into a plain C description.
 *
 * This is the only module that includes OpenSSL. Its output, struct
 * csr_info, holds no OpenSSL types, so that the policy module and its tests
 * need no crypto. Decoding is typed (GENERAL_NAME, X509_NAME_ENTRY, ASN1
 * strings as pointer and length): nothing here parses text that OpenSSL
 * printed.
 *
 * csr_parse() separates two kinds of trouble:
 *  - structural: not exactly one PEM "CERTIFICATE REQUEST" block, larger than
 *    CSR_MAX_PEM, DER that is not strict (re-encoding differs or trailing
 *    bytes; an empty RDN in the subject; a key whose BIT STRING has unused
 *    bits, an RSA or DSA key that is not strict DER itself, or a key that
 *    OpenSSL re-encodes to other bytes), version other than 1 (value 0), an
 *    extension value that does not decode. These make csr_parse() fail with
 *    a message; the request cannot be judged and is denied InvalidRequest.
 *  - everything else (a weak key, a bad signature, a forbidden extension,
 *    an odd SAN) is described faithfully in csr_info for the policy to judge.
 *
 * All functions are thread-safe (no shared state besides OpenSSL's own).
 */
#ifndef CSR_APPROVER_CSR_H
#define CSR_APPROVER_CSR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../util/util.h"

/* Cap on the PEM text of a request (SPEC: at most 64 KiB). */
#define CSR_MAX_PEM (64 * 1024)
/* The most SANs a policy may allow (maxSANs). The decoder itself has no
 * cap on SANs: each takes at least two bytes of DER, so what describes them
 * is bounded by CSR_MAX_PEM, and any count reaches the policy to judge. */
#define CSR_MAX_SANS 1024
/* Caps on counts, beyond which the request is rejected as structural. */
#define CSR_MAX_EXTENSIONS 64
#define CSR_MAX_ATTRIBUTES 64
#define CSR_MAX_SUBJECT_ATTRS 64
#define CSR_MAX_EKUS 64

/* ASN.1 string type of a subject attribute value. */
enum csr_str_type {
	CSR_STR_UTF8,
	CSR_STR_PRINTABLE,
	CSR_STR_IA5,
	CSR_STR_BMP,
	CSR_STR_T61,
	CSR_STR_UNIVERSAL,
	CSR_STR_NUMERIC,
	CSR_STR_VISIBLE,
	CSR_STR_OTHER, /* any other tag, or not a string at all */
};

/* Well-known subject attribute kinds. */
enum csr_attr_kind {
	CSR_ATTR_CN,
	CSR_ATTR_O,
	CSR_ATTR_OTHER,
};

/*
 * OIDs are written in dotted form; one longer than 63 characters is cut to
 * its first 60 followed by "...", which no real OID can equal.
 */
struct csr_subject_attr {
	enum csr_attr_kind kind;
	char oid[64]; /* dotted OID, e.g. "2.5.4.3" */
	char name[64]; /* short name ("CN", "O", "OU", ...), else the dotted OID */
	enum csr_str_type str_type;
	char *value; /* owned; raw content bytes, NUL-terminated for convenience */
	size_t value_len; /* content length (may contain NULs) */
	bool has_nul; /* a NUL character (U+0000) in the decoded value */
	bool has_control; /* a C0/C1 control character or DEL (after decoding) */
	/* The bytes are not valid for the string type: invalid UTF-8, a
	 * PrintableString/IA5String/NumericString/VisibleString character
	 * outside its alphabet, a BMPString/UniversalString of odd size or
	 * holding a surrogate. */
	bool bad_encoding;
	bool multi_valued_rdn; /* shares its RDN with another attribute */
};

enum csr_key_type {
	CSR_KEY_UNKNOWN,
	CSR_KEY_RSA,
	CSR_KEY_RSA_PSS, /* id-RSASSA-PSS key */
	CSR_KEY_EC,
	CSR_KEY_ED25519,
	CSR_KEY_ED448,
	CSR_KEY_DSA,
};

struct csr_key {
	enum csr_key_type type;
	int bits; /* modulus or field size */
	bool rsa_e_65537; /* RSA public exponent is exactly 65537 */
	char rsa_e[24]; /* the exponent in decimal, or "big" when it does not fit */
	bool ec_named_curve; /* EC key uses a named curve (not explicit parameters) */
	char ec_curve[32]; /* short name, e.g. "prime256v1", "secp384r1", "secp256k1", or "" */
	char alg_oid[64]; /* the SubjectPublicKeyInfo algorithm OID */
	/* SHA-256 of the DER SubjectPublicKeyInfo, lower-case hex: the key's
	 * fingerprint for the audit log (the same as the certificate's). */
	char spki_sha256[65];
};

enum csr_hash {
	CSR_HASH_UNKNOWN,
	CSR_HASH_NONE, /* Ed25519/Ed448: hashing is internal */
	CSR_HASH_MD5,
	CSR_HASH_SHA1,
	CSR_HASH_SHA224,
	CSR_HASH_SHA256,
	CSR_HASH_SHA384,
	CSR_HASH_SHA512,
};

enum csr_sig_scheme {
	CSR_SIG_UNKNOWN,
	CSR_SIG_RSA_PKCS1,
	CSR_SIG_RSA_PSS,
	CSR_SIG_ECDSA,
	CSR_SIG_ED25519,
	CSR_SIG_ED448,
	CSR_SIG_DSA,
};

struct csr_signature {
	char alg_oid[64]; /* dotted OID of signatureAlgorithm */
	char alg_name[64]; /* OpenSSL short name, for messages */
	enum csr_sig_scheme scheme;
	enum csr_hash hash; /* digest; for PSS, the PSS hash */
	bool pss_params_ok; /* PSS: MGF1 hash equals the hash (only meaningful for PSS) */
	/* The AlgorithmIdentifier parameters have the form the scheme
	 * requires: PKCS#1 NULL or absent; ECDSA, EdDSA and DSA absent; PSS as
	 * pss_params_ok. False for an unknown scheme. */
	bool params_ok;
	bool matches_key; /* the scheme fits the key type */
	bool verified; /* the self-signature verifies with the embedded key */
};

enum csr_san_type {
	CSR_SAN_DNS,
	CSR_SAN_IP,
	CSR_SAN_URI,
	CSR_SAN_EMAIL,
	CSR_SAN_OTHERNAME,
	CSR_SAN_DIRNAME,
	CSR_SAN_RID,
	CSR_SAN_X400,
	CSR_SAN_EDIPARTY,
};

struct csr_san {
	enum csr_san_type type;
	/* Owned. DNS/URI/email: the IA5String bytes, NUL-terminated; IP: the
	 * address in text form, or "invalid IP (N bytes)"; otherName and
	 * registeredID: the dotted OID; directoryName: "CN=x,O=y"; others: the
	 * type's name. */
	char *value;
	size_t value_len; /* byte length of value (DNS/URI/email may hold NULs) */
	bool has_nul; /* embedded NUL in an IA5String */
	unsigned char ip[16];
	size_t ip_len; /* 4 or 16 for a well-formed IP SAN, else the raw length */
};

enum csr_ext_kind {
	CSR_EXT_SAN,
	CSR_EXT_KEY_USAGE,
	CSR_EXT_EXT_KEY_USAGE,
	CSR_EXT_BASIC_CONSTRAINTS,
	CSR_EXT_OTHER,
};

struct csr_extension {
	enum csr_ext_kind kind;
	char oid[64];
	char name[64]; /* short name ("subjectAltName", ...), else the dotted OID */
	bool critical;
};

/* keyUsage bits, as in RFC 5280 (bit 0 = digitalSignature). */
#define CSR_KU_DIGITAL_SIGNATURE (1u << 0)
#define CSR_KU_NON_REPUDIATION (1u << 1)
#define CSR_KU_KEY_ENCIPHERMENT (1u << 2)
#define CSR_KU_DATA_ENCIPHERMENT (1u << 3)
#define CSR_KU_KEY_AGREEMENT (1u << 4)
#define CSR_KU_KEY_CERT_SIGN (1u << 5)
#define CSR_KU_CRL_SIGN (1u << 6)
#define CSR_KU_ENCIPHER_ONLY (1u << 7)
#define CSR_KU_DECIPHER_ONLY (1u << 8)
/* Any bit after decipherOnly: undefined by RFC 5280, never allowed. */
#define CSR_KU_UNDEFINED (1u << 31)

struct csr_attribute {
	/* e.g. 1.2.840.113549.1.9.14 extensionRequest, 1.2.840.113549.1.9.7
	 * challengePassword */
	char oid[64];
	char name[64]; /* "extensionRequest", "challengePassword", ..., else the dotted OID */
	bool is_extension_request;
};

struct csr_info {
	long version; /* the raw version field (0 means v1) */
	struct csr_subject_attr *subject; /* owned array */
	size_t n_subject;
	struct csr_key key;
	struct csr_signature sig;
	struct csr_attribute *attrs; /* owned array */
	size_t n_attrs;
	/* Extensions come from the first extensionRequest attribute (a second
	 * one is listed in attrs for the policy to reject). Duplicates are kept:
	 * two SAN extensions give two CSR_EXT_SAN entries, both feeding sans;
	 * two keyUsage extensions OR their bits; EKU OIDs accumulate; the CA
	 * flag is set if any basicConstraints says CA:TRUE. */
	struct csr_extension *exts; /* owned array, in request order */
	size_t n_exts;
	struct csr_san *sans; /* owned array, from every SAN extension, in order */
	size_t n_sans;
	bool has_key_usage;
	uint32_t key_usage; /* CSR_KU_* bits */
	bool has_ext_key_usage;
	char (*eku_oids)[64]; /* owned array of dotted OIDs */
	size_t n_eku;
	bool has_basic_constraints;
	bool basic_constraints_ca;
	/* Owned; the DER of the request (strict: it re-encodes to the same bytes). */
	unsigned char *der;
	size_t der_len;
};

/*
 * Decode the PEM text pem (len bytes, need not be NUL-terminated).
 * Returns 0 and *out (caller frees with csr_info_free()), or -1 with a
 * one-line reason in err (at most errlen bytes, always terminated) and *out
 * NULL. A -1 means the request is structurally unusable (InvalidRequest).
 */
int csr_parse(const char *pem, size_t len, struct csr_info **out, char *err, size_t errlen);

/* Cap on a DER request: its PEM form stays within CSR_MAX_PEM. */
#define CSR_MAX_DER (46 * 1024)

/* The same for a DER request (len bytes, at most CSR_MAX_DER), as a
 * PodCertificateRequest's spec.stubPKCS10Request holds it. */
int csr_parse_der(const unsigned char *der, size_t len, struct csr_info **out, char *err,
                  size_t errlen);

/* Free info and everything it owns; NULL does nothing. */
void csr_info_free(struct csr_info *info);

/* Name of a SAN type for messages: "DNS", "IP", "URI", "email", "otherName", ... */
const char *csr_san_type_name(enum csr_san_type t);
/* Name of a string type: "UTF8String", "PrintableString", "BMPString", ... */
const char *csr_str_type_name(enum csr_str_type t);
/* Name of a key type: "RSA", "EC", "Ed25519", ... */
const char *csr_key_type_name(enum csr_key_type t);
/* A key in the words of the policy file and the audit log: "RSA-2048",
 * "ECDSA-P256", "ECDSA-P384", "ECDSA-P521", "EC-<curve>", "Ed25519",
 * "Ed448", "DSA-<bits>", "RSA-PSS-<bits>" or "unknown"; into buf, which it
 * returns. */
const char *csr_key_text(const struct csr_key *k, char *buf, size_t len);
/* Name of a hash: "SHA-256", "SHA-1", ... */
const char *csr_hash_name(enum csr_hash h);
/* Name of a signature scheme: "RSA-PKCS1", "RSA-PSS", "ECDSA", "Ed25519", ... */
const char *csr_sig_scheme_name(enum csr_sig_scheme s);

/*
 * Describe info as one compact JSON object on one line, without a trailing
 * newline (the output of `csr-approver inspect`); strings taken from the
 * request are JSON-escaped (control characters and NULs as \uXXXX, invalid
 * UTF-8 as U+FFFD). Returns a new string the caller frees with free().
 */
char *csr_info_to_json(const struct csr_info *info);

/* Does signature scheme s go with key type k? (RSA PKCS#1 with RSA; PSS with
 * RSA or RSA-PSS; ECDSA with EC; EdDSA with its own curve.) */
bool csr_sig_scheme_fits_key(enum csr_sig_scheme s, enum csr_key_type k);

/* ---- issued certificates ---- */

/* Cap on a certificate text handed to csr_cert_parse() (a CSR's
 * status.certificate, a PodCertificateRequest's status.certificateChain). */
#define CSR_MAX_CERT_PEM (1024 * 1024)
/* Most SANs csr_cert_parse() lists; further ones are counted only. */
#define CSR_CERT_MAX_SANS 64

/* What the inventory and the audit log need of an issued certificate. */
struct csr_cert {
	char serial[72]; /* upper-case hex, as `openssl x509 -serial` prints it */
	int64_t not_before, not_after; /* Unix seconds */
	char spki_sha256[65]; /* SHA-256 of the SubjectPublicKeyInfo, lower-case hex */
	/* DNS, IP and URI names of subjectAltName, in order (owned), with a
	 * value that is not printable ASCII written as "?"; other kinds are
	 * left out. n_sans_total counts every GeneralName. */
	struct util_strv sans;
	size_t n_sans_total;
};

/*
 * Decode the first PEM CERTIFICATE block of pem (len bytes, at most
 * CSR_MAX_CERT_PEM; need not be NUL-terminated; further blocks, an
 * issuer chain, are ignored). Nothing is verified: this describes what a
 * signer wrote. Returns 0 and fills *out (release with csr_cert_clear()),
 * or -1 with a one-line reason in err and *out cleared.
 */
int csr_cert_parse(const char *pem, size_t len, struct csr_cert *out, char *err, size_t errlen);
void csr_cert_clear(struct csr_cert *c);

/*
 * The notAfter (Unix seconds) of the first PEM CERTIFICATE block of pem,
 * as csr_cert_parse() gives it, for a caller that needs nothing else: a
 * strict-DER certificate is read by walking its DER to the validity, and
 * its public key is never decoded (OpenSSL 3 decodes a key through its
 * provider machinery, which costs more than a whole decision). Anything
 * else goes through csr_cert_parse(). Returns 0 and *out, or -1 with a
 * one-line reason in err and *out 0.
 */
int csr_cert_not_after(const char *pem, size_t len, int64_t *out, char *err, size_t errlen);

/* OpenSSL's version text, for `csr-approver version`. */
const char *csr_library_version(void);

#endif
