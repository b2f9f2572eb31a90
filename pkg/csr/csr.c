/*
 * csr: PEM and DER decoding of a PKCS#10 request, its subject, key,
 * signature and attributes. The request's ASN.1 templates and the loading
 * of its key are in csr_req.c, extensions in csr_ext.c, the strict DER
 * checker in csr_der.c, the JSON description in csr_json.c.
 */
#include "csr.h"
#include "csr_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#define PEM_LABEL "CERTIFICATE REQUEST"
#define PEM_BEGIN "-----BEGIN "
#define PEM_END "-----END "
#define PEM_DASHES "-----"

void csr_errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

void csr_oid_text(const ASN1_OBJECT *obj, char out[64])
{
	out[0] = '\0';
	if (obj == NULL)
		return;
	int n = OBJ_obj2txt(out, 64, obj, 1);
	if (n < 0) {
		out[0] = '\0';
	} else if (n >= 64) {
		/* Cut so that the text cannot equal any real (shorter) OID. */
		memcpy(out + 60, "...", 4);
	}
}

void csr_oid_name(const ASN1_OBJECT *obj, char out[64])
{
	const char *sn = NULL;
	int nid = obj ? OBJ_obj2nid(obj) : NID_undef;
	if (nid != NID_undef)
		sn = OBJ_nid2sn(nid);
	if (sn != NULL && strlen(sn) < 64) {
		memcpy(out, sn, strlen(sn) + 1);
		return;
	}
	csr_oid_text(obj, out);
}

int csr_sha256_hex(const unsigned char *p, size_t n, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	static const char hex[] = "0123456789abcdef";
	out[0] = '\0';
	if (EVP_Digest(p, n, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
		return -1;
	for (unsigned int i = 0; i < mdlen; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[64] = '\0';
	return 0;
}

/* ---- strings ---- */

static void utf8_put(struct util_buf *b, uint32_t cp)
{
	if (b != NULL)
		util_buf_put_utf8(b, cp);
}

static bool printable_char(uint32_t c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	    (c != 0 && strchr(" '()+,-./:=?", (int)c) != NULL);
}

/* May the character c appear in a string of type t (for the one-byte types)? */
static bool alphabet_ok(enum csr_str_type t, uint32_t c)
{
	switch (t) {
	case CSR_STR_PRINTABLE:
		return printable_char(c);
	case CSR_STR_IA5:
		return c < 0x80;
	case CSR_STR_NUMERIC:
		return c == ' ' || (c >= '0' && c <= '9');
	case CSR_STR_VISIBLE:
		return c >= 0x20 && c < 0x7f;
	default:
		return true;
	}
}

static void scan_char(uint32_t c, struct csr_str_scan *scan)
{
	if (c == 0)
		scan->has_nul = true;
	if (c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0x9f))
		scan->has_control = true;
}

void csr_str_decode(enum csr_str_type t, const unsigned char *p, size_t n, struct util_buf *utf8,
                    struct csr_str_scan *scan)
{
	size_t i = 0;
	uint32_t c;

	memset(scan, 0, sizeof(*scan));
	switch (t) {
	case CSR_STR_UTF8:
		while (i < n) {
			size_t l = util_utf8_decode(p + i, n - i, &c);
			if (l == 0) {
				scan->bad_encoding = true;
				/* The byte itself may still be a NUL or a control. */
				scan_char(p[i], scan);
				utf8_put(utf8, 0xfffd);
				i++;
				continue;
			}
			scan_char(c, scan);
			utf8_put(utf8, c);
			i += l;
		}
		return;
	case CSR_STR_BMP:
	case CSR_STR_UNIVERSAL: {
		size_t w = t == CSR_STR_BMP ? 2 : 4;
		if (n % w != 0)
			scan->bad_encoding = true;
		for (; i + w <= n; i += w) {
			c = w == 2 ? (uint32_t)p[i] << 8 | p[i + 1]
			           : (uint32_t)p[i] << 24 | (uint32_t)p[i + 1] << 16 |
			        (uint32_t)p[i + 2] << 8 | p[i + 3];
			if ((c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff) {
				scan->bad_encoding = true;
				utf8_put(utf8, 0xfffd);
				continue;
			}
			scan_char(c, scan);
			utf8_put(utf8, c);
		}
		if (i < n)
			utf8_put(utf8, 0xfffd);
		return;
	}
	default:
		/* One byte per character; T61String and unknown types as Latin-1. */
		for (; i < n; i++) {
			c = p[i];
			scan_char(c, scan);
			if (!alphabet_ok(t, c)) {
				scan->bad_encoding = true;
				if (c >= 0x80) {
					utf8_put(utf8, 0xfffd);
					continue;
				}
			}
			utf8_put(utf8, c);
		}
		return;
	}
}

/* ---- PEM ---- */

static bool pem_ws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool has_prefix_n(const unsigned char *p, const unsigned char *end, const char *prefix)
{
	size_t n = strlen(prefix);
	return (size_t)(end - p) >= n && memcmp(p, prefix, n) == 0;
}

/* Does [p, end) contain s? (memmem is not in POSIX.) */
static bool contains(const unsigned char *p, const unsigned char *end, const char *s)
{
	for (; p < end; p++) {
		if (has_prefix_n(p, end, s))
			return true;
	}
	return false;
}

/* Skip spaces and tabs, then one line end (LF or CRLF); NULL if absent. */
static const unsigned char *pem_eol(const unsigned char *p, const unsigned char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (p < end && *p == '\r')
		p++;
	if (p < end && *p == '\n')
		return p + 1;
	return NULL;
}

/* A PEM label from the request, quoted when it is plain enough to repeat. */
static void pem_label_text(const unsigned char *p, size_t n, char *out, size_t outlen)
{
	bool plain = n > 0 && n <= 40;
	for (size_t i = 0; plain && i < n; i++) {
		plain = (p[i] >= 'A' && p[i] <= 'Z') || (p[i] >= '0' && p[i] <= '9') || p[i] == ' ';
	}
	if (plain)
		snprintf(out, outlen, "\"%.*s\"", (int)n, (const char *)p);
	else
		snprintf(out, outlen, "of an unexpected type");
}

/*
 * The DER inside exactly one PEM "CERTIFICATE REQUEST" block, with nothing
 * but whitespace around it and no headers. Returns 0 and *der (caller
 * frees with free()), or -1 with a reason in err.
 */
static int pem_decode(const char *pem, size_t len, unsigned char **der, size_t *der_len, char *err,
                      size_t errlen)
{
	int rc = -1;
	const unsigned char *p = (const unsigned char *)pem, *end = p + len;
	const unsigned char *label, *q;
	unsigned char *b64 = NULL, *out = NULL;
	size_t nb64 = 0;
	char what[64];

	*der = NULL;
	*der_len = 0;
	while (p < end && pem_ws(*p))
		p++;
	if (p == end) {
		csr_errf(err, errlen, "empty request");
		goto out;
	}
	if (!has_prefix_n(p, end, PEM_BEGIN)) {
		if (contains(p, end, PEM_BEGIN))
			csr_errf(err, errlen, "data before the PEM block");
		else
			csr_errf(err, errlen, "not PEM: no \"-----BEGIN " PEM_LABEL "-----\" line");
		goto out;
	}
	label = p + strlen(PEM_BEGIN);
	for (q = label; q < end && *q != '\n' && !has_prefix_n(q, end, PEM_DASHES); q++)
		;
	if (!has_prefix_n(q, end, PEM_DASHES)) {
		csr_errf(err, errlen, "malformed PEM BEGIN line");
		goto out;
	}
	if ((size_t)(q - label) != strlen(PEM_LABEL) || memcmp(label, PEM_LABEL, q - label) != 0) {
		pem_label_text(label, (size_t)(q - label), what, sizeof(what));
		csr_errf(err, errlen, "PEM block %s, want \"" PEM_LABEL "\"", what);
		goto out;
	}
	p = pem_eol(q + strlen(PEM_DASHES), end);
	if (p == NULL) {
		csr_errf(err, errlen, "malformed PEM BEGIN line");
		goto out;
	}

	/* RFC 1421 headers (Proc-Type, DEK-Info, ...) would come first. */
	for (q = p; q < end && *q != '\n'; q++) {
		if (*q == ':') {
			csr_errf(err, errlen, "PEM headers are not allowed");
			goto out;
		}
	}

	/* The body: base64 and whitespace up to the END line. */
	b64 = util_xmalloc((size_t)(end - p) + 1);
	for (;;) {
		if (p == end) {
			csr_errf(err, errlen,
			         "PEM block has no \"-----END " PEM_LABEL "-----\" line");
			goto out;
		}
		if (*p == '-')
			break;
		if (pem_ws(*p)) {
			p++;
		} else if (util_base64_value(*p) >= 0 || *p == '=') {
			b64[nb64++] = *p++;
		} else {
			csr_errf(err, errlen, "invalid character in the PEM base64 body");
			goto out;
		}
	}
	if (!has_prefix_n(p, end, PEM_END PEM_LABEL PEM_DASHES)) {
		if (has_prefix_n(p, end, PEM_BEGIN))
			csr_errf(err, errlen, "PEM BEGIN line inside the block");
		else
			csr_errf(err, errlen,
			         "PEM END line does not match \"-----END " PEM_LABEL "-----\"");
		goto out;
	}
	p += strlen(PEM_END PEM_LABEL PEM_DASHES);
	while (p < end && pem_ws(*p))
		p++;
	if (p != end) {
		if (has_prefix_n(p, end, PEM_BEGIN))
			csr_errf(err, errlen, "more than one PEM block");
		else
			csr_errf(err, errlen, "data after the PEM block");
		goto out;
	}
	if (nb64 == 0) {
		csr_errf(err, errlen, "empty PEM block");
		goto out;
	}
	size_t n = 0;
	if (util_base64_decode((const char *)b64, nb64, UTIL_B64_CANONICAL, nb64, (char **)&out,
	                       &n) != 0 ||
	    n == 0) {
		csr_errf(err, errlen, "invalid base64 in the PEM block");
		goto out;
	}
	*der = out;
	*der_len = n;
	out = NULL;
	rc = 0;
out:
	free(b64);
	free(out);
	return rc;
}

/* ---- subject ---- */

static enum csr_str_type str_type_of(int asn1_type)
{
	switch (asn1_type) {
	case V_ASN1_UTF8STRING:
		return CSR_STR_UTF8;
	case V_ASN1_PRINTABLESTRING:
		return CSR_STR_PRINTABLE;
	case V_ASN1_IA5STRING:
		return CSR_STR_IA5;
	case V_ASN1_BMPSTRING:
		return CSR_STR_BMP;
	case V_ASN1_T61STRING:
		return CSR_STR_T61;
	case V_ASN1_UNIVERSALSTRING:
		return CSR_STR_UNIVERSAL;
	case V_ASN1_NUMERICSTRING:
		return CSR_STR_NUMERIC;
	case V_ASN1_VISIBLESTRING:
		return CSR_STR_VISIBLE;
	default:
		return CSR_STR_OTHER;
	}
}

static int decode_subject(const X509_NAME *name, struct csr_info *info, char *err, size_t errlen)
{
	int n = name ? X509_NAME_entry_count(name) : 0;

	if (n > CSR_MAX_SUBJECT_ATTRS) {
		csr_errf(err, errlen, "subject has %d attributes, more than %d", n,
		         CSR_MAX_SUBJECT_ATTRS);
		return -1;
	}
	if (n <= 0)
		return 0;
	info->subject = util_xcalloc((size_t)n, sizeof(*info->subject));
	for (int i = 0; i < n; i++) {
		const X509_NAME_ENTRY *ne = X509_NAME_get_entry(name, i);
		const ASN1_OBJECT *obj = X509_NAME_ENTRY_get_object(ne);
		const ASN1_STRING *data = X509_NAME_ENTRY_get_data(ne);
		struct csr_subject_attr *a = &info->subject[info->n_subject++];
		struct csr_str_scan scan;
		int set = X509_NAME_ENTRY_set(ne);
		int nid = OBJ_obj2nid(obj);

		a->kind = nid == NID_commonName   ? CSR_ATTR_CN
		    : nid == NID_organizationName ? CSR_ATTR_O
		                                  : CSR_ATTR_OTHER;
		csr_oid_text(obj, a->oid);
		csr_oid_name(obj, a->name);
		a->str_type = str_type_of(ASN1_STRING_type(data));
		int len = ASN1_STRING_length(data);
		const unsigned char *bytes = ASN1_STRING_get0_data(data);
		a->value_len = len > 0 && bytes ? (size_t)len : 0;
		a->value = util_xmalloc(a->value_len + 1);
		if (a->value_len)
			memcpy(a->value, bytes, a->value_len);
		a->value[a->value_len] = '\0';
		csr_str_decode(a->str_type, (const unsigned char *)a->value, a->value_len, NULL,
		               &scan);
		a->has_nul = scan.has_nul;
		a->has_control = scan.has_control;
		a->bad_encoding = scan.bad_encoding;
		a->multi_valued_rdn =
		    (i > 0 && X509_NAME_ENTRY_set(X509_NAME_get_entry(name, i - 1)) == set) ||
		    (i + 1 < n && X509_NAME_ENTRY_set(X509_NAME_get_entry(name, i + 1)) == set);
	}
	return 0;
}

/* ---- key ---- */

static void decode_key(const struct csr_asn1_spki *pub, EVP_PKEY *pkey, struct csr_info *info)
{
	struct csr_key *k = &info->key;
	const ASN1_OBJECT *alg = NULL, *curve = NULL;
	int ptype = V_ASN1_UNDEF;
	const void *pval = NULL;
	BIGNUM *e = NULL;

	k->type = CSR_KEY_UNKNOWN;
	X509_ALGOR_get0(&alg, &ptype, &pval, pub->algor);
	csr_oid_text(alg, k->alg_oid);
	if (ptype == V_ASN1_OBJECT)
		curve = pval;

	/* NULL when OpenSSL cannot load the key (unknown algorithm, a point
	 * off the curve, ...): described as unknown and unverified. */
	if (pkey == NULL)
		return;
	k->bits = EVP_PKEY_get_bits(pkey);
	if (EVP_PKEY_is_a(pkey, "RSA") || EVP_PKEY_is_a(pkey, "RSA-PSS")) {
		k->type = EVP_PKEY_is_a(pkey, "RSA") ? CSR_KEY_RSA : CSR_KEY_RSA_PSS;
		if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e) == 1) {
			k->rsa_e_65537 = BN_is_word(e, 65537);
			if (BN_num_bits(e) <= 64)
				snprintf(k->rsa_e, sizeof(k->rsa_e), "%llu",
				         (unsigned long long)BN_get_word(e));
			else
				snprintf(k->rsa_e, sizeof(k->rsa_e), "big");
		}
	} else if (EVP_PKEY_is_a(pkey, "EC")) {
		k->type = CSR_KEY_EC;
		/* Named only when the SubjectPublicKeyInfo says so: OpenSSL may match
		 * explicit parameters to a named group, but the request did not name
		 * one. */
		if (curve != NULL) {
			/* A curve OpenSSL loads has a short name well under 32 bytes. */
			char cname[64];
			k->ec_named_curve = true;
			csr_oid_name(curve, cname);
			size_t cl = strlen(cname);
			if (cl >= sizeof(k->ec_curve))
				cl = sizeof(k->ec_curve) - 1;
			memcpy(k->ec_curve, cname, cl);
			k->ec_curve[cl] = '\0';
		}
	} else if (EVP_PKEY_is_a(pkey, "ED25519")) {
		k->type = CSR_KEY_ED25519;
	} else if (EVP_PKEY_is_a(pkey, "ED448")) {
		k->type = CSR_KEY_ED448;
	} else if (EVP_PKEY_is_a(pkey, "DSA")) {
		k->type = CSR_KEY_DSA;
	}
	BN_free(e);
}

/*
 * The key OpenSSL loaded, written out again, must be the bytes received:
 * OpenSSL keeps the received bytes of a SubjectPublicKeyInfo, so the
 * request as a whole re-encodes the same even when the key inside it is
 * not canonical (a parameter left out, bytes after an EC point, ...).
 * A key OpenSSL cannot load is described as unknown and denied by the
 * policy; there is nothing to re-encode.
 */
static int key_check_encoding(EVP_PKEY *pkey, const struct csr_der_parts *parts, char *err,
                              size_t errlen)
{
	unsigned char *re = NULL;
	int rc = 0, relen;

	if (pkey == NULL)
		return 0;
	/* An EC key OpenSSL loaded from the canonical bytes of a named curve
	 * re-encodes to those bytes: the curve by the same OID, the point in
	 * the form it came in (OpenSSL keeps it), its coordinates below the
	 * field's prime (OpenSSL refuses others) and so padded the one way.
	 * So does an RSA key loaded from the one form OpenSSL writes (NULL
	 * parameters, two minimal positive INTEGERs): the same modulus and
	 * exponent give the same INTEGERs; and an Ed25519 key, whose one form
	 * is its 32 bytes after a fixed header. OpenSSL 3.0's encoder costs as
	 * much as the signature check, so these most common keys skip it;
	 * fuzzing builds do both and compare. */
	struct csr_der_key k;
	char gname[32];
	size_t glen = 0;
	bool canonical = false;
	switch (csr_der_key_form(parts->spki, parts->spki_len, &k)) {
	case CSR_DER_KEY_EC:
		canonical = EVP_PKEY_is_a(pkey, "EC") &&
		    EVP_PKEY_get_group_name(pkey, gname, sizeof(gname), &glen) == 1 &&
		    strcmp(gname, k.group) == 0;
		break;
	case CSR_DER_KEY_RSA:
		canonical = EVP_PKEY_is_a(pkey, "RSA");
		break;
	case CSR_DER_KEY_ED25519:
		canonical = EVP_PKEY_is_a(pkey, "ED25519");
		break;
	case CSR_DER_KEY_OTHER:
		break;
	}
#ifndef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
	if (canonical)
		return 0;
#endif
	relen = i2d_PUBKEY(pkey, &re);
	if (relen <= 0 || (size_t)relen != parts->spki_len ||
	    memcmp(re, parts->spki, parts->spki_len) != 0) {
		csr_errf(err, errlen,
		         "request is not strict DER: the public key re-encodes differently");
		rc = -1;
	}
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
	if (canonical && rc != 0)
		abort(); /* the shortcut above would have let a key through */
#endif
	OPENSSL_free(re);
	return rc;
}

/* ---- signature ---- */

static enum csr_hash hash_of_nid(int nid)
{
	switch (nid) {
	case NID_md5:
		return CSR_HASH_MD5;
	case NID_sha1:
		return CSR_HASH_SHA1;
	case NID_sha224:
		return CSR_HASH_SHA224;
	case NID_sha256:
		return CSR_HASH_SHA256;
	case NID_sha384:
		return CSR_HASH_SHA384;
	case NID_sha512:
		return CSR_HASH_SHA512;
	default:
		return CSR_HASH_UNKNOWN;
	}
}

/* A hash AlgorithmIdentifier inside PSS parameters: absent means SHA-1
 * (RFC 4055); parameters NULL or absent. */
static enum csr_hash pss_hash(const X509_ALGOR *a, bool *ok)
{
	const ASN1_OBJECT *obj = NULL;
	int ptype = V_ASN1_UNDEF;
	if (a == NULL)
		return CSR_HASH_SHA1;
	X509_ALGOR_get0(&obj, &ptype, NULL, a);
	if (ptype != V_ASN1_UNDEF && ptype != V_ASN1_NULL)
		*ok = false;
	return hash_of_nid(OBJ_obj2nid(obj));
}

/* RSASSA-PSS-params (RFC 4055): the hash, and whether MGF1 uses the same
 * hash with the standard trailer. */
static void decode_pss(struct csr_signature *s, int ptype, const void *pval)
{
	RSA_PSS_PARAMS *pss = NULL;
	X509_ALGOR *mgf_hash = NULL;
	bool ok = true;
	enum csr_hash mh = CSR_HASH_SHA1;

	s->hash = CSR_HASH_UNKNOWN;
	if (ptype != V_ASN1_SEQUENCE || pval == NULL)
		goto out;
	pss = ASN1_item_unpack(pval, ASN1_ITEM_rptr(RSA_PSS_PARAMS));
	if (pss == NULL)
		goto out;
	s->hash = pss_hash(pss->hashAlgorithm, &ok);
	if (pss->maskGenAlgorithm != NULL) {
		const ASN1_OBJECT *mobj = NULL;
		int mtype = V_ASN1_UNDEF;
		const void *mval = NULL;
		X509_ALGOR_get0(&mobj, &mtype, &mval, pss->maskGenAlgorithm);
		if (OBJ_obj2nid(mobj) != NID_mgf1 || mtype != V_ASN1_SEQUENCE || mval == NULL) {
			ok = false;
			mh = CSR_HASH_UNKNOWN;
		} else {
			mgf_hash = ASN1_item_unpack(mval, ASN1_ITEM_rptr(X509_ALGOR));
			mh = mgf_hash ? pss_hash(mgf_hash, &ok) : CSR_HASH_UNKNOWN;
		}
	}
	if (pss->saltLength != NULL && ASN1_INTEGER_get(pss->saltLength) < 0)
		ok = false;
	if (pss->trailerField != NULL && ASN1_INTEGER_get(pss->trailerField) != 1)
		ok = false;
	s->pss_params_ok = ok && s->hash != CSR_HASH_UNKNOWN && mh == s->hash;
out:
	s->params_ok = s->pss_params_ok;
	X509_ALGOR_free(mgf_hash);
	RSA_PSS_PARAMS_free(pss);
}

static void decode_signature(const struct csr_asn1_req *req, EVP_PKEY *pkey, struct csr_info *info)
{
	struct csr_signature *s = &info->sig;
	const ASN1_OBJECT *obj = NULL;
	int ptype = V_ASN1_UNDEF;
	const void *pval = NULL;
	static const struct {
		int nid;
		enum csr_sig_scheme scheme;
		enum csr_hash hash;
	} table[] = {
	    {NID_md5WithRSAEncryption, CSR_SIG_RSA_PKCS1, CSR_HASH_MD5},
	    {NID_sha1WithRSAEncryption, CSR_SIG_RSA_PKCS1, CSR_HASH_SHA1},
	    {NID_sha224WithRSAEncryption, CSR_SIG_RSA_PKCS1, CSR_HASH_SHA224},
	    {NID_sha256WithRSAEncryption, CSR_SIG_RSA_PKCS1, CSR_HASH_SHA256},
	    {NID_sha384WithRSAEncryption, CSR_SIG_RSA_PKCS1, CSR_HASH_SHA384},
	    {NID_sha512WithRSAEncryption, CSR_SIG_RSA_PKCS1, CSR_HASH_SHA512},
	    {NID_ecdsa_with_SHA1, CSR_SIG_ECDSA, CSR_HASH_SHA1},
	    {NID_ecdsa_with_SHA224, CSR_SIG_ECDSA, CSR_HASH_SHA224},
	    {NID_ecdsa_with_SHA256, CSR_SIG_ECDSA, CSR_HASH_SHA256},
	    {NID_ecdsa_with_SHA384, CSR_SIG_ECDSA, CSR_HASH_SHA384},
	    {NID_ecdsa_with_SHA512, CSR_SIG_ECDSA, CSR_HASH_SHA512},
	    {NID_ED25519, CSR_SIG_ED25519, CSR_HASH_NONE},
	    {NID_ED448, CSR_SIG_ED448, CSR_HASH_NONE},
	    {NID_dsaWithSHA1, CSR_SIG_DSA, CSR_HASH_SHA1},
	    {NID_dsa_with_SHA224, CSR_SIG_DSA, CSR_HASH_SHA224},
	    {NID_dsa_with_SHA256, CSR_SIG_DSA, CSR_HASH_SHA256},
	    {NID_dsa_with_SHA384, CSR_SIG_DSA, CSR_HASH_SHA384},
	    {NID_dsa_with_SHA512, CSR_SIG_DSA, CSR_HASH_SHA512},
	};

	X509_ALGOR_get0(&obj, &ptype, &pval, req->sig_alg);
	csr_oid_text(obj, s->alg_oid);
	csr_oid_name(obj, s->alg_name);
	int nid = obj ? OBJ_obj2nid(obj) : NID_undef;
	s->scheme = CSR_SIG_UNKNOWN;
	s->hash = CSR_HASH_UNKNOWN;
	if (nid == NID_rsassaPss) {
		s->scheme = CSR_SIG_RSA_PSS;
		decode_pss(s, ptype, pval);
	} else {
		for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
			if (table[i].nid != nid)
				continue;
			s->scheme = table[i].scheme;
			s->hash = table[i].hash;
			/* RFC 3279/4055: PKCS#1 carries NULL (absence is tolerated,
			 * as OpenSSL does); ECDSA, EdDSA and DSA carry nothing. */
			s->params_ok = ptype == V_ASN1_UNDEF ||
			    (s->scheme == CSR_SIG_RSA_PKCS1 && ptype == V_ASN1_NULL);
			break;
		}
	}
	s->matches_key = csr_sig_scheme_fits_key(s->scheme, info->key.type);

	s->verified = csr_asn1_req_verify(req, pkey);
}

/* ---- attributes ---- */

static int decode_attributes(const STACK_OF(X509_ATTRIBUTE) * attrs, struct csr_info *info,
                             char *err, size_t errlen)
{
	/* -1 for no [0] at all, as for OpenSSL's X509_REQ_get_attr_count() */
	int n = attrs ? sk_X509_ATTRIBUTE_num(attrs) : -1;
	int first_ext = -1;

	if (n > CSR_MAX_ATTRIBUTES) {
		csr_errf(err, errlen, "request has %d attributes, more than %d", n,
		         CSR_MAX_ATTRIBUTES);
		return -1;
	}
	if (n <= 0)
		return 0;
	info->attrs = util_xcalloc((size_t)n, sizeof(*info->attrs));
	for (int i = 0; i < n; i++) {
		X509_ATTRIBUTE *xa = sk_X509_ATTRIBUTE_value(attrs, i);
		const ASN1_OBJECT *obj = X509_ATTRIBUTE_get0_object(xa);
		struct csr_attribute *a = &info->attrs[info->n_attrs++];
		csr_oid_text(obj, a->oid);
		if (OBJ_obj2nid(obj) == NID_ext_req) {
			a->is_extension_request = true;
			/* OpenSSL's short name is "extReq"; use the PKCS#9 name. */
			snprintf(a->name, sizeof(a->name), "extensionRequest");
			if (first_ext < 0)
				first_ext = i;
		} else {
			csr_oid_name(obj, a->name);
		}
	}
	if (first_ext < 0)
		return 0;

	X509_ATTRIBUTE *xa = sk_X509_ATTRIBUTE_value(attrs, first_ext);
	int nvals = X509_ATTRIBUTE_count(xa);
	if (nvals != 1) {
		csr_errf(err, errlen, "attribute extensionRequest holds %d values, want 1", nvals);
		return -1;
	}
	return csr_decode_extensions(X509_ATTRIBUTE_get0_type(xa, 0), info, err, errlen);
}

/* ---- the request ---- */

int csr_parse(const char *pem, size_t len, struct csr_info **out, char *err, size_t errlen)
{
	int rc = -1;
	unsigned char *der = NULL;
	size_t der_len = 0;
	struct csr_asn1_req *req = NULL;
	EVP_PKEY *pkey = NULL;
	struct csr_info *info = NULL;
	char why[200];
	struct csr_der_parts parts;

	/* Leave the caller's OpenSSL error queue as it was. */
	ERR_set_mark();
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (out == NULL) {
		csr_errf(err, errlen, "internal error: no place for the result");
		goto out;
	}
	*out = NULL;
	if (pem == NULL || len == 0) {
		csr_errf(err, errlen, "empty request");
		goto out;
	}
	if (len > CSR_MAX_PEM) {
		csr_errf(err, errlen, "request is %zu bytes, more than the limit of %d", len,
		         CSR_MAX_PEM);
		goto out;
	}
	if (pem_decode(pem, len, &der, &der_len, err, errlen) != 0)
		goto out;
	if (csr_der_check(der, der_len, why, sizeof(why)) != 0) {
		csr_errf(err, errlen, "request is not strict DER: %s", why);
		goto out;
	}
	/* csr_der_check() has seen one value and nothing after it. */
	req = csr_asn1_req_decode(der, der_len);
	if (req == NULL) {
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
		csr_asn1_req_crosscheck(der, der_len, NULL, NULL);
#endif
		csr_errf(err, errlen, "DER does not decode as a PKCS#10 certificate request");
		goto out;
	}
	/* Re-encode from the decoded fields: a default value written out, an
	 * unsorted SET, ... */
	if (!csr_asn1_req_reencodes(req, der, der_len)) {
		csr_errf(err, errlen, "request is not strict DER: it re-encodes differently");
		goto out;
	}
	/* After d2i, which has checked the shape: what fails here is
	 * strictness inside the subject or the key. */
	if (csr_der_request_parts(der, der_len, &parts, why, sizeof(why)) != 0) {
		csr_errf(err, errlen, "request is not strict DER: %s", why);
		goto out;
	}
	pkey = csr_asn1_key_load(parts.spki, parts.spki_len);
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
	csr_asn1_req_crosscheck(der, der_len, req, pkey);
#endif
	if (key_check_encoding(pkey, &parts, err, errlen) != 0)
		goto out;

	info = util_xcalloc(1, sizeof(*info));
	info->version = ASN1_INTEGER_get(req->info->version);
	if (info->version != 0) {
		csr_errf(err, errlen, "request version %ld, want 0 (PKCS#10 v1)", info->version);
		goto out;
	}
	if (decode_subject(req->info->subject, info, err, errlen) != 0)
		goto out;
	decode_key(req->info->pubkey, pkey, info);
	if (csr_sha256_hex(parts.spki, parts.spki_len, info->key.spki_sha256) != 0) {
		csr_errf(err, errlen, "internal error: SHA-256 unavailable");
		goto out;
	}
	decode_signature(req, pkey, info);
	if (decode_attributes(req->info->attributes, info, err, errlen) != 0)
		goto out;
	info->der = der;
	info->der_len = der_len;
	der = NULL;
	*out = info;
	info = NULL;
	rc = 0;
out:
	free(der);
	EVP_PKEY_free(pkey);
	csr_asn1_req_free(req);
	csr_info_free(info);
	ERR_pop_to_mark();
	return rc;
}

/* ---- names ---- */

const char *csr_library_version(void)
{
	return OpenSSL_version(OPENSSL_VERSION);
}

int csr_parse_der(const unsigned char *der, size_t len, struct csr_info **out, char *err,
                  size_t errlen)
{
	char *b64 = NULL;
	struct util_buf pem = {0};
	size_t n;
	int rc;

	if (out != NULL)
		*out = NULL;
	if (der == NULL || len == 0) {
		csr_errf(err, errlen, "empty request");
		return -1;
	}
	if (len > CSR_MAX_DER) {
		csr_errf(err, errlen, "request is %zu bytes of DER, more than the limit of %d", len,
		         CSR_MAX_DER);
		return -1;
	}
	/* The PEM armour pem_decode() wants: 64 characters a line. */
	b64 = util_base64_encode(der, len);
	n = strlen(b64);
	util_buf_puts(&pem, "-----BEGIN CERTIFICATE REQUEST-----\n");
	for (size_t i = 0; i < n; i += 64) {
		util_buf_append(&pem, b64 + i, n - i < 64 ? n - i : 64);
		util_buf_putc(&pem, '\n');
	}
	util_buf_puts(&pem, "-----END CERTIFICATE REQUEST-----\n");
	rc = csr_parse(util_buf_str(&pem), pem.len, out, err, errlen);
	free(b64);
	util_buf_reset(&pem);
	return rc;
}
