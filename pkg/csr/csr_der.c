/*
 * A strict DER checker. OpenSSL's decoder accepts some BER and keeps the
 * original bytes of names and attribute values for re-encoding, so a
 * round trip through d2i/i2d alone does not prove that a request is DER.
 * This walks every tag-length-value once, without allocating.
 */
#include "csr_internal.h"

#include <string.h>

/* Universal tag numbers the checker knows. */
enum {
	DER_EOC = 0,
	DER_BOOLEAN = 1,
	DER_INTEGER = 2,
	DER_BIT_STRING = 3,
	DER_NULL = 5,
	DER_OID = 6,
	DER_ENUMERATED = 10,
	DER_RELATIVE_OID = 13,
	DER_SEQUENCE = 16,
	DER_SET = 17,
};

struct der_tlv {
	unsigned cls; /* 0 universal, 1 application, 2 context, 3 private */
	bool constructed;
	unsigned long tag;
	size_t hdr; /* bytes of tag and length */
	size_t len; /* bytes of content */
};

/* Read the header of the value at p (avail bytes; at offset off of the whole). */
static int der_header(const unsigned char *p, size_t avail, size_t off, struct der_tlv *t,
                      char *err, size_t errlen)
{
	size_t i = 0;
	unsigned char b;

	if (avail < 2) {
		csr_errf(err, errlen, "DER: truncated value at offset %zu", off);
		return -1;
	}
	b = p[i++];
	t->cls = b >> 6;
	t->constructed = (b & 0x20) != 0;
	t->tag = b & 0x1f;
	if (t->tag == 0x1f) {
		/* High tag number form: base 128, minimal, and only for tags >= 31. */
		unsigned long tag = 0;
		int nbytes = 0;
		do {
			if (i >= avail) {
				csr_errf(err, errlen, "DER: truncated tag at offset %zu", off);
				return -1;
			}
			b = p[i++];
			if (nbytes == 0 && b == 0x80) {
				csr_errf(err, errlen, "DER: non-minimal tag at offset %zu", off);
				return -1;
			}
			if (++nbytes > 3) {
				csr_errf(err, errlen, "DER: tag number too large at offset %zu",
				         off);
				return -1;
			}
			tag = (tag << 7) | (b & 0x7f);
		} while (b & 0x80);
		if (tag < 31) {
			csr_errf(err, errlen, "DER: non-minimal tag at offset %zu", off);
			return -1;
		}
		t->tag = tag;
	}
	if (i >= avail) {
		csr_errf(err, errlen, "DER: truncated length at offset %zu", off);
		return -1;
	}
	b = p[i++];
	if (b < 0x80) {
		t->len = b;
	} else if (b == 0x80) {
		csr_errf(err, errlen, "DER: indefinite length at offset %zu", off);
		return -1;
	} else {
		size_t n = b & 0x7f, len = 0;
		/* Four length bytes already exceed any request under CSR_MAX_PEM. */
		if (n > 4) {
			csr_errf(err, errlen, "DER: length too large at offset %zu", off);
			return -1;
		}
		if (avail - i < n) {
			csr_errf(err, errlen, "DER: truncated length at offset %zu", off);
			return -1;
		}
		if (p[i] == 0) {
			csr_errf(err, errlen, "DER: non-minimal length at offset %zu", off);
			return -1;
		}
		for (size_t k = 0; k < n; k++)
			len = (len << 8) | p[i++];
		if (len < 0x80) {
			csr_errf(err, errlen, "DER: non-minimal length at offset %zu", off);
			return -1;
		}
		t->len = len;
	}
	if (t->len > avail - i) {
		csr_errf(err, errlen,
		         "DER: length at offset %zu runs past the end of its container", off);
		return -1;
	}
	t->hdr = i;
	return 0;
}

/* Canonical contents of the universal primitive types that have a DER form. */
static int der_primitive(const struct der_tlv *t, const unsigned char *c, size_t off, char *err,
                         size_t errlen)
{
	if (t->cls != 0)
		return 0; /* implicitly tagged: the type is not known here */
	switch (t->tag) {
	case DER_EOC:
		csr_errf(err, errlen, "DER: end-of-contents octets at offset %zu", off);
		return -1;
	case DER_BOOLEAN:
		if (t->len != 1 || (c[0] != 0x00 && c[0] != 0xff)) {
			csr_errf(err, errlen, "DER: invalid BOOLEAN at offset %zu", off);
			return -1;
		}
		return 0;
	case DER_INTEGER:
	case DER_ENUMERATED:
		if (t->len == 0 ||
		    (t->len > 1 &&
		     ((c[0] == 0x00 && !(c[1] & 0x80)) || (c[0] == 0xff && (c[1] & 0x80))))) {
			csr_errf(err, errlen, "DER: non-minimal INTEGER at offset %zu", off);
			return -1;
		}
		return 0;
	case DER_BIT_STRING:
		if (t->len == 0 || c[0] > 7 || (t->len == 1 && c[0] != 0) ||
		    (t->len > 1 && (c[t->len - 1] & ((1u << c[0]) - 1)) != 0)) {
			csr_errf(err, errlen, "DER: invalid BIT STRING at offset %zu", off);
			return -1;
		}
		return 0;
	case DER_NULL:
		if (t->len != 0) {
			csr_errf(err, errlen, "DER: NULL with contents at offset %zu", off);
			return -1;
		}
		return 0;
	case DER_OID:
	case DER_RELATIVE_OID:
		if (t->len == 0 || (c[t->len - 1] & 0x80)) {
			csr_errf(err, errlen, "DER: invalid OBJECT IDENTIFIER at offset %zu", off);
			return -1;
		}
		for (size_t i = 0; i < t->len; i++) {
			/* A subidentifier may not start with a 0x80 padding byte. */
			if (c[i] == 0x80 && (i == 0 || !(c[i - 1] & 0x80))) {
				csr_errf(err, errlen,
				         "DER: non-minimal OBJECT IDENTIFIER at offset %zu", off);
				return -1;
			}
		}
		return 0;
	case DER_SEQUENCE:
	case DER_SET:
		csr_errf(err, errlen, "DER: primitive SEQUENCE or SET at offset %zu", off);
		return -1;
	default:
		return 0;
	}
}

/* X.690 11.6: SET OF elements in ascending order of their encodings, the
 * shorter padded with zero octets. */
static int der_set_cmp(const unsigned char *a, size_t alen, const unsigned char *b, size_t blen)
{
	size_t n = alen < blen ? alen : blen;
	int c = memcmp(a, b, n);
	if (c != 0)
		return c;
	const unsigned char *rest = alen > blen ? a + n : b + n;
	size_t rlen = alen > blen ? alen - n : blen - n;
	for (size_t i = 0; i < rlen; i++) {
		if (rest[i] != 0)
			return alen > blen ? 1 : -1;
	}
	return 0;
}

/*
 * Check the values filling c[0..len) exactly (at offset off of the whole),
 * nested depth deep. sorted: they are the elements of a SET OF.
 */
static int der_walk(const unsigned char *c, size_t len, size_t off, int depth, bool sorted,
                    char *err, size_t errlen)
{
	size_t i = 0;
	const unsigned char *prev = NULL;
	size_t prev_len = 0;

	if (depth > CSR_DER_MAX_DEPTH) {
		csr_errf(err, errlen, "DER: nested deeper than %d at offset %zu", CSR_DER_MAX_DEPTH,
		         off);
		return -1;
	}
	while (i < len) {
		struct der_tlv t;
		if (der_header(c + i, len - i, off + i, &t, err, errlen) != 0)
			return -1;
		const unsigned char *content = c + i + t.hdr;
		size_t coff = off + i + t.hdr;
		if (t.constructed) {
			if (t.cls == 0 && t.tag != DER_SEQUENCE && t.tag != DER_SET) {
				csr_errf(err, errlen, "DER: constructed string at offset %zu",
				         off + i);
				return -1;
			}
			if (der_walk(content, t.len, coff, depth + 1,
			             t.cls == 0 && t.tag == DER_SET, err, errlen) != 0)
				return -1;
		} else if (der_primitive(&t, content, off + i, err, errlen) != 0) {
			return -1;
		}
		if (sorted && prev != NULL &&
		    der_set_cmp(prev, prev_len, c + i, t.hdr + t.len) > 0) {
			csr_errf(err, errlen, "DER: SET OF elements out of order at offset %zu",
			         off + i);
			return -1;
		}
		prev = c + i;
		prev_len = t.hdr + t.len;
		i += t.hdr + t.len;
	}
	return 0;
}

/* csr_der_check() of der (len bytes) found at offset off of a whole. */
static int der_check_at(const unsigned char *der, size_t len, size_t off, char *err, size_t errlen)
{
	struct der_tlv t;

	if (len == 0) {
		csr_errf(err, errlen, "DER: empty at offset %zu", off);
		return -1;
	}
	if (der_header(der, len, off, &t, err, errlen) != 0)
		return -1;
	if (t.hdr + t.len != len) {
		csr_errf(err, errlen, "DER: %zu trailing bytes after the value at offset %zu",
		         len - t.hdr - t.len, off);
		return -1;
	}
	return der_walk(der, len, off, 0, false, err, errlen);
}

int csr_der_check(const unsigned char *der, size_t len, char *err, size_t errlen)
{
	return der_check_at(der, len, 0, err, errlen);
}

/* ---- inside the request: the subject Name and the key ---- */

/* Content bytes of the key algorithm OIDs whose keys are DER themselves. */
static const unsigned char der_oid_rsa[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01};
static const unsigned char der_oid_rsa_pss[] = {0x2a, 0x86, 0x48, 0x86, 0xf7,
                                                0x0d, 0x01, 0x01, 0x0a};
static const unsigned char der_oid_dsa[] = {0x2a, 0x86, 0x48, 0xce, 0x38, 0x04, 0x01};

/*
 * The next value in [*p, end) when its first tag byte is want: the whole
 * value in *tlv (tlv_len bytes), its content in *c (clen); *p moves past it.
 * -1 when there is none or it has another tag.
 */
static int der_take(const unsigned char **p, const unsigned char *end, unsigned char want,
                    const unsigned char **tlv, size_t *tlv_len, const unsigned char **c,
                    size_t *clen)
{
	unsigned char tag;
	if (*p >= end || csr_der_next(*p, (size_t)(end - *p), &tag, c, clen) != 0 || tag != want)
		return -1;
	*tlv = *p;
	*tlv_len = (size_t)(*c + *clen - *p);
	*p = *c + *clen;
	return 0;
}

static bool der_oid_is(const unsigned char *c, size_t n, const unsigned char *oid, size_t oid_len)
{
	return n == oid_len && memcmp(c, oid, n) == 0;
}

/* A positive INTEGER whose content is c (n bytes, minimal already)? */
static bool der_positive(const unsigned char *c, size_t n)
{
	return n > 0 && !(c[0] & 0x80) && !(n == 1 && c[0] == 0);
}

/*
 * The key inside the BIT STRING (key, n bytes at offset off of the whole),
 * for the algorithms whose keys are DER: RSA (RFC 8017 RSAPublicKey, two
 * positive INTEGERs) and DSA (RFC 3279, one positive INTEGER). Other keys
 * are octets (EC points, EdDSA keys), left to the re-encoding in csr.c.
 */
static int der_check_key(const unsigned char *oid, size_t oid_len, const unsigned char *key,
                         size_t n, size_t off, char *err, size_t errlen)
{
	const unsigned char *p = key, *end = key + n, *tlv, *c, *ints, *ints_end, *e;
	size_t tlv_len, clen, ilen, elen;
	bool rsa;
	char why[160];

	if (der_oid_is(oid, oid_len, der_oid_rsa, sizeof(der_oid_rsa)) ||
	    der_oid_is(oid, oid_len, der_oid_rsa_pss, sizeof(der_oid_rsa_pss)))
		rsa = true;
	else if (der_oid_is(oid, oid_len, der_oid_dsa, sizeof(der_oid_dsa)))
		rsa = false;
	else
		return 0;
	if (der_check_at(key, n, off, why, sizeof(why)) != 0) {
		csr_errf(err, errlen, "%s inside the %s public key", why, rsa ? "RSA" : "DSA");
		return -1;
	}
	if (!rsa) {
		if (der_take(&p, end, 0x02, &tlv, &tlv_len, &c, &clen) != 0 ||
		    !der_positive(c, clen)) {
			csr_errf(err, errlen, "DER: the DSA public key is not a positive INTEGER");
			return -1;
		}
		return 0;
	}
	ints = ints_end = NULL;
	if (der_take(&p, end, 0x30, &tlv, &tlv_len, &ints, &ilen) == 0)
		ints_end = ints + ilen;
	if (ints_end == NULL || der_take(&ints, ints_end, 0x02, &tlv, &tlv_len, &c, &clen) != 0 ||
	    der_take(&ints, ints_end, 0x02, &tlv, &tlv_len, &e, &elen) != 0 || ints != ints_end) {
		csr_errf(err, errlen,
		         "DER: the RSA public key is not a SEQUENCE of modulus and exponent");
		return -1;
	}
	if (!der_positive(c, clen) || !der_positive(e, elen)) {
		csr_errf(err, errlen, "DER: the RSA public key has a %s that is not positive",
		         der_positive(c, clen) ? "public exponent" : "modulus");
		return -1;
	}
	return 0;
}

int csr_der_request_parts(const unsigned char *der, size_t len, struct csr_der_parts *out,
                          char *err, size_t errlen)
{
	const unsigned char *p = der, *end = der + len, *tlv, *req, *info, *name, *spki, *alg, *c;
	size_t tlv_len, req_len, info_len, name_len, spki_len, alg_len, clen;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	/* CertificationRequest ::= SEQUENCE { CertificationRequestInfo
	 * SEQUENCE { version INTEGER, subject Name, subjectPKInfo SEQUENCE,
	 * attributes [0] }, signatureAlgorithm, signature } */
	if (der_take(&p, end, 0x30, &tlv, &tlv_len, &req, &req_len) != 0 ||
	    der_take(&req, req + req_len, 0x30, &tlv, &tlv_len, &info, &info_len) != 0 ||
	    der_take(&info, info + info_len, 0x02, &tlv, &tlv_len, &c, &clen) != 0 ||
	    der_take(&info, info + info_len, 0x30, &out->name, &out->name_len, &name, &name_len) !=
	        0 ||
	    der_take(&info, info + info_len, 0x30, &out->spki, &out->spki_len, &spki, &spki_len) !=
	        0)
		goto shape;

	/* Name ::= SEQUENCE OF RelativeDistinguishedName, each a SET SIZE (1..MAX):
	 * an empty one is not a Name, though OpenSSL reads it as nothing. */
	for (const unsigned char *q = name; q < name + name_len;) {
		const unsigned char *rdn = q;
		if (der_take(&q, name + name_len, 0x31, &tlv, &tlv_len, &c, &clen) != 0)
			goto shape;
		if (clen == 0) {
			csr_errf(err, errlen, "DER: empty RDN in the subject at offset %zu",
			         (size_t)(rdn - der));
			goto out;
		}
	}

	/* SubjectPublicKeyInfo ::= SEQUENCE { algorithm SEQUENCE { OID, params },
	 * subjectPublicKey BIT STRING } */
	if (der_take(&spki, spki + spki_len, 0x30, &tlv, &tlv_len, &alg, &alg_len) != 0 ||
	    der_take(&alg, alg + alg_len, 0x06, &tlv, &tlv_len, &out->key_oid, &out->key_oid_len) !=
	        0 ||
	    der_take(&spki, out->spki + out->spki_len, 0x03, &tlv, &tlv_len, &c, &clen) != 0 ||
	    spki != out->spki + out->spki_len || clen == 0)
		goto shape;
	if (c[0] != 0) {
		csr_errf(err, errlen,
		         "DER: the public key BIT STRING at offset %zu has %u unused bits",
		         (size_t)(tlv - der), (unsigned)c[0]);
		goto out;
	}
	rc = der_check_key(out->key_oid, out->key_oid_len, c + 1, clen - 1, (size_t)(c + 1 - der),
	                   err, errlen);
	goto out;
shape:
	csr_errf(err, errlen, "DER does not decode as a PKCS#10 certificate request");
out:
	if (rc != 0)
		memset(out, 0, sizeof(*out));
	return rc;
}

int csr_der_next(const unsigned char *p, size_t len, unsigned char *tag,
                 const unsigned char **content, size_t *clen)
{
	struct der_tlv t;
	if (der_header(p, len, 0, &t, NULL, 0) != 0)
		return -1;
	*tag = p[0];
	*content = p + t.hdr;
	*clen = t.len;
	return 0;
}

/* ---- the canonical form of an EC key on a named curve ---- */

/*
 * SubjectPublicKeyInfo of id-ecPublicKey (RFC 5480) up to the point's
 * first byte, for the curves with their OID as parameters and an
 * uncompressed point (0x04, then X and Y padded to the field's size).
 */
static const struct {
	const char *group; /* OpenSSL's name of the group */
	size_t coord; /* bytes of each coordinate */
	unsigned char head[32];
	size_t head_len;
} der_ec_forms[] = {
    {"prime256v1",
     32,
     {0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06,
      0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04},
     27},
    {"secp384r1",
     48,
     {0x30, 0x76, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02,
      0x01, 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22, 0x03, 0x62, 0x00, 0x04},
     24},
    {"secp521r1",
     66,
     {0x30, 0x81, 0x9b, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02,
      0x01, 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23, 0x03, 0x81, 0x86, 0x00, 0x04},
     26},
};

_Static_assert(sizeof(der_ec_forms) / sizeof(der_ec_forms[0]) == CSR_DER_EC_GROUPS,
               "CSR_DER_EC_GROUPS counts the canonical EC forms");

const char *csr_der_ec_group_name(size_t i)
{
	return i < sizeof(der_ec_forms) / sizeof(der_ec_forms[0]) ? der_ec_forms[i].group : NULL;
}

const char *csr_der_ec_spki_group(const unsigned char *spki, size_t len, size_t *point_len)
{
	for (size_t i = 0; i < sizeof(der_ec_forms) / sizeof(der_ec_forms[0]); i++) {
		if (len == der_ec_forms[i].head_len + 2 * der_ec_forms[i].coord &&
		    memcmp(spki, der_ec_forms[i].head, der_ec_forms[i].head_len) == 0) {
			if (point_len != NULL)
				*point_len = 1 + 2 * der_ec_forms[i].coord;
			return der_ec_forms[i].group;
		}
	}
	return NULL;
}

/* ---- the canonical form of an RSA key ---- */

/* The AlgorithmIdentifier of rsaEncryption as OpenSSL writes it: the OID
 * and NULL parameters (RFC 3279 2.3.1). */
static const unsigned char der_rsa_alg[] = {0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
                                            0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00};

/* A positive INTEGER's content in its one DER form: no 0x00 before a byte
 * that does not need it. */
static bool der_minimal_positive(const unsigned char *c, size_t n)
{
	return der_positive(c, n) && !(n > 1 && c[0] == 0x00 && !(c[1] & 0x80));
}

bool csr_der_rsa_spki_key(const unsigned char *spki, size_t len, const unsigned char **n,
                          size_t *n_len, const unsigned char **e, size_t *e_len)
{
	const unsigned char *p = spki, *end = spki + len, *tlv, *c, *bits, *ints;
	size_t tlv_len, clen, blen, ilen;

	/* SEQUENCE { the algorithm above, BIT STRING { 0 unused bits,
	 * SEQUENCE { INTEGER n, INTEGER e } } }, nothing around or after. */
	if (der_take(&p, end, 0x30, &tlv, &tlv_len, &c, &clen) != 0 || p != end ||
	    clen < sizeof(der_rsa_alg) || memcmp(c, der_rsa_alg, sizeof(der_rsa_alg)) != 0)
		return false;
	p = c + sizeof(der_rsa_alg);
	end = c + clen;
	if (der_take(&p, end, 0x03, &tlv, &tlv_len, &bits, &blen) != 0 || p != end || blen < 1 ||
	    bits[0] != 0)
		return false;
	p = bits + 1;
	end = bits + blen;
	if (der_take(&p, end, 0x30, &tlv, &tlv_len, &ints, &ilen) != 0 || p != end)
		return false;
	end = ints + ilen;
	if (der_take(&ints, end, 0x02, &tlv, &tlv_len, n, n_len) != 0 ||
	    der_take(&ints, end, 0x02, &tlv, &tlv_len, e, e_len) != 0 || ints != end)
		return false;
	return der_minimal_positive(*n, *n_len) && der_minimal_positive(*e, *e_len);
}

/* ---- the canonical form of an Ed25519 key ---- */

/* SubjectPublicKeyInfo of id-Ed25519 (RFC 8410: parameters absent) up to
 * the key's 32 bytes. */
static const unsigned char der_ed25519_head[] = {0x30, 0x2a, 0x30, 0x05, 0x06, 0x03,
                                                 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00};

const unsigned char *csr_der_ed25519_spki_key(const unsigned char *spki, size_t len)
{
	if (len != sizeof(der_ed25519_head) + 32 ||
	    memcmp(spki, der_ed25519_head, sizeof(der_ed25519_head)) != 0)
		return NULL;
	return spki + sizeof(der_ed25519_head);
}

enum csr_der_key_form csr_der_key_form(const unsigned char *spki, size_t len, struct csr_der_key *k)
{
	size_t point_len = 0;

	memset(k, 0, sizeof(*k));
	if ((k->group = csr_der_ec_spki_group(spki, len, &point_len)) != NULL) {
		k->key = spki + len - point_len;
		k->key_len = point_len;
		return CSR_DER_KEY_EC;
	}
	if (csr_der_rsa_spki_key(spki, len, &k->key, &k->key_len, &k->e, &k->e_len))
		return CSR_DER_KEY_RSA;
	if ((k->key = csr_der_ed25519_spki_key(spki, len)) != NULL) {
		k->key_len = 32;
		return CSR_DER_KEY_ED25519;
	}
	memset(k, 0, sizeof(*k));
	return CSR_DER_KEY_OTHER;
}
