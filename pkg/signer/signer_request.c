/*
 * signer: the request a certificate is issued for, as the signer reads it:
 * decoded with csr's templates (pkg/csr/csr_asn1.h), its self-signature
 * verified, its key checked, and the parts a certificate copies from it
 * (the key, for CSRs the CN and the DNS, IP and URI names).
 */
#include "signer_internal.h"

#include "../csr/csr_asn1.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

void signer_req_clear(struct signer_req *r)
{
	csr_asn1_req_free(r->req);
	EVP_PKEY_free(r->pub);
	OPENSSL_free(r->spki);
	memset(r, 0, sizeof(*r));
}

/* Decode a PKCS#10 request (PEM or DER) into *r, verify its self-signature,
 * and check that its key is one the signer issues for. The request is read
 * as OpenSSL's d2i_X509_REQ reads it (pkg/csr/csr_asn1.h; fuzzing builds
 * check that both accept the same requests and load the same keys), without
 * OpenSSL 3.0's per-call key decoder. Returns 0, or -1 with r cleared. */
int signer_req_decode(const char *data, size_t len, const char *what, struct signer_req *r,
                      char *err, size_t errlen)
{
	struct signer_pem_block *blocks = NULL;
	size_t nb = 0, i = 0;
	const unsigned char *der = (const unsigned char *)data;
	size_t der_len = len;
	char why[SIGNER_ERR_MAX];
	int rc = -1, spki_len;

	memset(r, 0, sizeof(*r));
	if (data == NULL || len == 0) {
		signer_errf(err, errlen, "%s: empty", what);
		goto out;
	}
	if (len > SIGNER_MAX_REQUEST) {
		signer_errf(err, errlen, "%s: %zu bytes, more than the limit of %d", what, len,
		            SIGNER_MAX_REQUEST);
		goto out;
	}
	while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n'))
		i++;
	if (len - i >= 5 && memcmp(data + i, "-----", 5) == 0) {
		if (signer_pem_split(data, len, false, 2, &blocks, &nb, why, sizeof(why)) != 0) {
			signer_errf(err, errlen, "%s: %s", what, why);
			goto out;
		}
		if (nb != 1 || strcmp(blocks[0].label, "CERTIFICATE REQUEST") != 0) {
			signer_errf(err, errlen,
			            "%s: want exactly one PEM CERTIFICATE REQUEST block", what);
			goto out;
		}
		der = blocks[0].der;
		der_len = blocks[0].der_len;
	}
	r->req = csr_asn1_req_decode(der, der_len);
	if (r->req == NULL) {
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
		csr_asn1_req_crosscheck(der, der_len, NULL, NULL);
#endif
		signer_errf(err, errlen, "%s: not a PKCS#10 certificate request (DER)", what);
		goto out;
	}
	spki_len = csr_asn1_req_spki(r->req, &r->spki);
	if (spki_len > 0) {
		r->spki_len = (size_t)spki_len;
		r->pub = csr_asn1_key_load(r->spki, r->spki_len);
	}
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
	csr_asn1_req_crosscheck(der, der_len, r->req, r->pub);
#endif
	if (r->pub == NULL) {
		signer_errf(err, errlen, "%s: its public key does not decode", what);
		goto out;
	}
	if (!csr_asn1_req_verify(r->req, r->pub)) {
		signer_errf(err, errlen, "%s: its self-signature does not verify", what);
		goto out;
	}
	if (EVP_PKEY_is_a(r->pub, "RSA")) {
		int bits = EVP_PKEY_get_bits(r->pub);
		if (bits < 2048 || bits > 8192) {
			signer_errf(
			    err, errlen,
			    "%s: RSA key of %d bits; this signer issues for 2048 to 8192 bits",
			    what, bits);
			goto out;
		}
		r->is_rsa = true;
	} else if (EVP_PKEY_is_a(r->pub, "EC")) {
		char group[64] = "";
		size_t gl = 0;
		if (EVP_PKEY_get_group_name(r->pub, group, sizeof(group), &gl) != 1)
			group[0] = '\0';
		if (strcmp(group, "prime256v1") != 0 && strcmp(group, "secp384r1") != 0 &&
		    strcmp(group, "secp521r1") != 0) {
			signer_errf(
			    err, errlen,
			    "%s: EC key on curve \"%s\"; this signer issues for P-256, P-384 "
			    "and P-521",
			    what, group[0] ? group : "unnamed");
			goto out;
		}
	} else if (!EVP_PKEY_is_a(r->pub, "ED25519")) {
		const char *t = EVP_PKEY_get0_type_name(r->pub);
		signer_errf(err, errlen,
		            "%s: %s key; this signer issues for RSA, ECDSA P-256/P-384/P-521 and "
		            "Ed25519 keys",
		            what, t ? t : "unknown");
		goto out;
	}
	rc = 0;
out:
	if (rc != 0)
		signer_req_clear(r);
	signer_pem_free(blocks, nb, false);
	return rc;
}

/* Is the ASN.1 string s non-empty printable text without NULs or controls? */
static bool text_ok(const ASN1_STRING *s)
{
	int n = ASN1_STRING_length(s);
	const unsigned char *p = ASN1_STRING_get0_data(s);
	if (n <= 0 || p == NULL)
		return false;
	for (int i = 0; i < n; i++) {
		if (p[i] < 0x20 || p[i] == 0x7f)
			return false;
	}
	return true;
}

/* The subject of a CSR's certificate: the request's CN alone, or empty. */
X509_NAME *signer_req_subject(const struct signer_req *r, char *err, size_t errlen)
{
	const X509_NAME *rn = r->req->info->subject;
	X509_NAME *name = X509_NAME_new();
	int idx = rn ? X509_NAME_get_index_by_NID(rn, NID_commonName, -1) : -1;

	if (name == NULL) {
		signer_errf(err, errlen, "out of memory");
		return NULL;
	}
	if (idx < 0)
		return name;
	if (X509_NAME_get_index_by_NID(rn, NID_commonName, idx) >= 0) {
		signer_errf(err, errlen, "the request's subject has more than one CN");
		goto fail;
	}
	const X509_NAME_ENTRY *e = X509_NAME_get_entry(rn, idx);
	const ASN1_STRING *v = X509_NAME_ENTRY_get_data(e);
	int t = ASN1_STRING_type(v);
	if ((t != V_ASN1_UTF8STRING && t != V_ASN1_PRINTABLESTRING) || !text_ok(v)) {
		signer_errf(err, errlen,
		            "the request's CN is not a UTF8String or PrintableString of printable "
		            "text");
		goto fail;
	}
	/* The entry is copied as it is: same string type, same bytes, no
	 * length rule of OpenSSL's string table applied. */
	if (X509_NAME_add_entry(name, e, -1, 0) != 1) {
		signer_errf(err, errlen, "out of memory");
		goto fail;
	}
	return name;
fail:
	X509_NAME_free(name);
	return NULL;
}

static bool ia5_ok(const ASN1_IA5STRING *s)
{
	return text_ok(s);
}

/* The request's subjectAltName: DNS, IP and URI names only. Returns 0 and
 * *out (NULL when the request has none), or -1. */
int signer_req_sans(const struct signer_req *r, GENERAL_NAMES **out, char *err, size_t errlen)
{
	/* OpenSSL's X509_REQ_get_extensions() picks the attribute and decodes
	 * it; it is given an X509_REQ holding copies of the request's
	 * attributes and nothing else, so that its rules stay the rules. */
	const STACK_OF(X509_ATTRIBUTE) *attrs = r->req->info->attributes;
	X509_REQ *x = X509_REQ_new();
	STACK_OF(X509_EXTENSION) *exts = NULL;
	GENERAL_NAMES *sans = NULL;
	int found = 0, rc = -1;

	*out = NULL;
	if (x == NULL) {
		signer_errf(err, errlen, "out of memory");
		return -1;
	}
	for (int i = 0; attrs != NULL && i < sk_X509_ATTRIBUTE_num(attrs); i++) {
		if (X509_REQ_add1_attr(x, sk_X509_ATTRIBUTE_value(attrs, i)) != 1) {
			signer_errf(err, errlen, "out of memory");
			goto out;
		}
	}
	exts = X509_REQ_get_extensions(x);
	if (exts == NULL) {
		/* NULL is also OpenSSL's answer when the extensionRequest does not
		 * decode: never issue without the names that were asked for. */
		if (X509_REQ_get_attr_by_NID(x, NID_ext_req, -1) >= 0) {
			signer_errf(err, errlen, "the request's extensionRequest does not decode");
			goto out;
		}
		rc = 0;
		goto out;
	}
	for (int i = 0; i < sk_X509_EXTENSION_num(exts); i++) {
		X509_EXTENSION *ext = sk_X509_EXTENSION_value(exts, i);
		if (OBJ_obj2nid(X509_EXTENSION_get_object(ext)) != NID_subject_alt_name)
			continue;
		if (found++) {
			signer_errf(err, errlen,
			            "the request has more than one subjectAltName extension");
			goto out;
		}
		sans = X509V3_EXT_d2i(ext);
		if (sans == NULL) {
			signer_errf(err, errlen, "the request's subjectAltName does not decode");
			goto out;
		}
	}
	if (sans == NULL) {
		rc = 0;
		goto out;
	}
	if (sk_GENERAL_NAME_num(sans) == 0) {
		signer_errf(err, errlen, "the request's subjectAltName is empty");
		goto out;
	}
	if (sk_GENERAL_NAME_num(sans) > SIGNER_MAX_SANS) {
		signer_errf(err, errlen, "the request has %d SANs, more than %d",
		            sk_GENERAL_NAME_num(sans), SIGNER_MAX_SANS);
		goto out;
	}
	for (int i = 0; i < sk_GENERAL_NAME_num(sans); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(sans, i);
		int type = -1;
		void *val = GENERAL_NAME_get0_value(g, &type);
		switch (type) {
		case GEN_DNS:
		case GEN_URI:
			if (!ia5_ok(val)) {
				signer_errf(err, errlen,
				            "the request's %s SAN %d is empty or holds a "
				            "NUL or control character",
				            type == GEN_DNS ? "DNS" : "URI", i + 1);
				goto out;
			}
			break;
		case GEN_IPADD: {
			int l = ASN1_STRING_length(val);
			if (l != 4 && l != 16) {
				signer_errf(err, errlen,
				            "the request's IP SAN %d has %d bytes, want 4 or 16",
				            i + 1, l);
				goto out;
			}
			break;
		}
		default:
			signer_errf(
			    err, errlen,
			    "the request's SAN %d is not a DNS name, IP address or URI (this "
			    "signer copies no other kind)",
			    i + 1);
			goto out;
		}
	}
	*out = sans;
	sans = NULL;
	rc = 0;
out:
	GENERAL_NAMES_free(sans);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_REQ_free(x);
	return rc;
}

/* ---- the key in the certificate ---- */

/* The certificate's key: the request's SubjectPublicKeyInfo when it is in
 * the one form OpenSSL's encoder writes for its key (copied: encoding the
 * key again costs OpenSSL 3.0 an encoder and a decoder, more than the
 * signature), else the key as OpenSSL encodes it. Fuzzing builds do both
 * and abort on a difference. */
int signer_req_set_key(X509 *x, const struct signer_req *r)
{
	const struct csr_asn1_spki *spki = r->req->info->pubkey;
	const ASN1_OBJECT *obj = NULL;
	const void *pval = NULL;
	int ptype = V_ASN1_UNDEF;
	ASN1_OBJECT *o = NULL, *param = NULL;
	unsigned char *bits = NULL;
	int len = ASN1_STRING_length(spki->public_key);

	if (!csr_asn1_spki_canonical(r->spki, r->spki_len))
		return X509_set_pubkey(x, r->pub) == 1 ? 0 : -1;
	X509_ALGOR_get0(&obj, &ptype, &pval, spki->algor);
	if ((ptype != V_ASN1_OBJECT && ptype != V_ASN1_NULL && ptype != V_ASN1_UNDEF) || len <= 0)
		return X509_set_pubkey(x, r->pub) == 1 ? 0 : -1;
	o = OBJ_dup(obj);
	if (ptype == V_ASN1_OBJECT)
		param = OBJ_dup(pval);
	bits = OPENSSL_memdup(ASN1_STRING_get0_data(spki->public_key), (size_t)len);
	if (o == NULL || (ptype == V_ASN1_OBJECT && param == NULL) || bits == NULL ||
	    X509_PUBKEY_set0_param(X509_get_X509_PUBKEY(x), o, ptype, param, bits, len) != 1) {
		ASN1_OBJECT_free(o);
		ASN1_OBJECT_free(param);
		OPENSSL_free(bits);
		return -1;
	}
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
	unsigned char *copied = NULL, *encoded = NULL;
	X509_PUBKEY *theirs = NULL;
	int cl = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &copied);
	int el = X509_PUBKEY_set(&theirs, r->pub) == 1 ? i2d_X509_PUBKEY(theirs, &encoded) : -1;
	if (cl <= 0 || cl != el || memcmp(copied, encoded, (size_t)cl) != 0)
		abort(); /* the copy is not what OpenSSL would have written */
	OPENSSL_free(copied);
	OPENSSL_free(encoded);
	X509_PUBKEY_free(theirs);
#endif
	return 0;
}
