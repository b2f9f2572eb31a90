/*
 * The canonical encodings of EC keys on named curves and of RSA keys that
 * csr_parse() accepts without re-encoding the key (csr_der_ec_spki_group(),
 * csr_der_rsa_spki_key()): each must be exactly what OpenSSL writes for
 * such a key, and nothing else may match, so that the shortcut lets through
 * no key the re-encoding would refuse.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "../../../pkg/csr/csr.h"
#include "../../../pkg/csr/csr_internal.h"
#include "../../../pkg/util/util.h"

#ifndef TESTDATA_DIR
#define TESTDATA_DIR "tests/testdata"
#endif

/* The SubjectPublicKeyInfo OpenSSL writes for a new key on curve, with the
 * point in form ("uncompressed" or "compressed"). Caller frees *der. */
static int spki_of_new_key(const char *curve, const char *form, unsigned char **der)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve);
	cr_assert_not_null(k, "keygen %s", curve);
	cr_assert_eq(EVP_PKEY_set_utf8_string_param(k, "point-format", form), 1);
	*der = NULL;
	int n = i2d_PUBKEY(k, der);
	EVP_PKEY_free(k);
	cr_assert_gt(n, 0);
	return n;
}

Test(csr_key, ec_named_curves_match_what_openssl_writes)
{
	static const struct {
		const char *curve, *group;
	} curves[] = {{"P-256", "prime256v1"}, {"P-384", "secp384r1"}, {"P-521", "secp521r1"}};
	for (size_t i = 0; i < sizeof(curves) / sizeof(curves[0]); i++) {
		/* Several keys: a coordinate with leading zero bytes must keep its
		 * length (the encoding pads it). */
		for (int round = 0; round < 8; round++) {
			unsigned char *der = NULL;
			int n = spki_of_new_key(curves[i].curve, "uncompressed", &der);
			const char *g = csr_der_ec_spki_group(der, (size_t)n, NULL);
			cr_assert_not_null(g, "%s: OpenSSL's encoding is not recognised",
			                   curves[i].curve);
			cr_assert_str_eq(g, curves[i].group);
			struct csr_der_key k;
			cr_assert_eq(csr_der_key_form(der, (size_t)n, &k), CSR_DER_KEY_EC);
			cr_assert_str_eq(k.group, curves[i].group);
			cr_assert(k.key[0] == 0x04 && k.key + k.key_len == der + n);
			OPENSSL_free(der);
		}
	}
}

Test(csr_key, other_encodings_do_not_match)
{
	unsigned char *der = NULL;
	int n = spki_of_new_key("P-256", "compressed", &der);
	cr_assert_null(csr_der_ec_spki_group(der, (size_t)n, NULL), "compressed point");
	OPENSSL_free(der);

	n = spki_of_new_key("P-256", "uncompressed", &der);
	cr_assert_null(csr_der_ec_spki_group(der, (size_t)n - 1, NULL), "short");
	cr_assert_null(csr_der_ec_spki_group(der, 20, NULL), "cut in the header");
	unsigned char copy[128];
	cr_assert_leq((size_t)n, sizeof(copy));
	for (int at = 0; at < 27; at++) { /* every byte of the header */
		memcpy(copy, der, (size_t)n);
		copy[at] ^= 0x01;
		cr_assert_null(csr_der_ec_spki_group(copy, (size_t)n, NULL), "byte %d changed", at);
	}
	/* A hybrid point (0x06/0x07) has the uncompressed length. */
	memcpy(copy, der, (size_t)n);
	copy[26] = 0x06;
	cr_assert_null(csr_der_ec_spki_group(copy, (size_t)n, NULL), "hybrid point");
	OPENSSL_free(der);

	/* Another curve's key (secp256k1: same sizes as P-256, other OID). */
	n = spki_of_new_key("secp256k1", "uncompressed", &der);
	cr_assert_null(csr_der_ec_spki_group(der, (size_t)n, NULL), "secp256k1");
	OPENSSL_free(der);
}

/* csr_parse() of tests/testdata/csr/FILE. */
static int parse_testdata(const char *file, struct csr_info **info, char *err, size_t errlen)
{
	char path[256];
	char *pem = NULL;
	size_t len = 0;
	snprintf(path, sizeof(path), "%s/csr/%s", TESTDATA_DIR, file);
	cr_assert_eq(util_read_file(path, 1 << 20, &pem, &len, err, errlen), 0, "%s", err);
	int rc = csr_parse(pem, len, info, err, errlen);
	free(pem);
	return rc;
}

/* The whole parse on the named curves, and a key with explicit parameters
 * (which takes the re-encoding, and is never a named curve). */
Test(csr_key, parse_outcomes_unchanged)
{
	static const struct {
		const char *file;
		bool named;
	} cases[] = {{"good-ec-p256.pem", true},
	             {"good-ec-p384.pem", true},
	             {"good-ec-p521.pem", true},
	             {"key-ec-explicit.pem", false}};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char err[256] = "";
		struct csr_info *info = NULL;
		int rc = parse_testdata(cases[i].file, &info, err, sizeof(err));
		if (cases[i].named) {
			cr_assert_eq(rc, 0, "%s: %s", cases[i].file, err);
			cr_assert(info->sig.verified, "%s", cases[i].file);
		} else {
			cr_assert_eq(rc, 0, "%s: %s", cases[i].file, err);
			cr_assert(!info->key.ec_named_curve, "%s taken for a named curve",
			          cases[i].file);
		}
		csr_info_free(info);
	}
}

/* The key of a canonical EC SubjectPublicKeyInfo, loaded from the curve's
 * name and the point (csr_asn1_key_load()), is the key OpenSSL's decoder
 * loads, and a point it refuses (off the curve, a coordinate of the
 * field's size but above its prime) is refused here too. */
Test(csr_key, fast_load_agrees_with_the_decoder)
{
	static const char *curves[] = {"P-256", "P-384", "P-521"};
	for (size_t i = 0; i < sizeof(curves) / sizeof(curves[0]); i++) {
		unsigned char *der = NULL;
		int n = spki_of_new_key(curves[i], "uncompressed", &der);
		const unsigned char *p = der;
		EVP_PKEY *fast = csr_asn1_key_load(der, (size_t)n);
		EVP_PKEY *slow = d2i_PUBKEY(NULL, &p, n);
		cr_assert_not_null(fast, "%s", curves[i]);
		cr_assert_not_null(slow, "%s", curves[i]);
		cr_assert_eq(EVP_PKEY_eq(fast, slow), 1, "%s: another key", curves[i]);
		EVP_PKEY_free(fast);
		EVP_PKEY_free(slow);

		unsigned char copy[160];
		cr_assert_leq((size_t)n, sizeof(copy));
		size_t point_len = 0;
		cr_assert_not_null(csr_der_ec_spki_group(der, (size_t)n, &point_len));
		size_t coord = (point_len - 1) / 2;
		cr_assert_gt(coord, 0);
		/* The last byte of Y changed: off the curve. */
		memcpy(copy, der, (size_t)n);
		copy[n - 1] ^= 0x01;
		p = copy;
		slow = d2i_PUBKEY(NULL, &p, n);
		cr_assert_null(slow, "%s: the decoder took a point off the curve", curves[i]);
		cr_assert_null(csr_asn1_key_load(copy, (size_t)n), "%s: off the curve", curves[i]);
		/* X all ones: above the field's prime (P-521's top byte is 0x01). */
		memcpy(copy, der, (size_t)n);
		memset(copy + n - 2 * coord, 0xff, coord);
		if (coord == 66)
			copy[n - 2 * coord] = 0x01;
		cr_assert_null(csr_asn1_key_load(copy, (size_t)n), "%s: X above the prime",
		               curves[i]);
		ERR_clear_error();
		OPENSSL_free(der);
	}
}

/* ---- RSA ---- */

/* A DER header (tag, length in its minimal form) at out; its size. */
static size_t der_hdr(unsigned char *out, unsigned char tag, size_t len)
{
	out[0] = tag;
	if (len < 0x80) {
		out[1] = (unsigned char)len;
		return 2;
	}
	if (len < 0x100) {
		out[1] = 0x81;
		out[2] = (unsigned char)len;
		return 3;
	}
	out[1] = 0x82;
	out[2] = (unsigned char)(len >> 8);
	out[3] = (unsigned char)len;
	return 4;
}

static const unsigned char rsa_alg[] = {0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
                                        0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00};

/* An RSA SubjectPublicKeyInfo from its parts, written here byte by byte:
 * the AlgorithmIdentifier, the BIT STRING's unused-bits byte, the
 * INTEGERs' contents as given, and extra bytes after them inside the
 * SEQUENCE. Returns its length in out (at least 1200 bytes). */
static size_t rsa_spki(unsigned char *out, const unsigned char *alg, size_t alg_len,
                       unsigned char unused, const unsigned char *n, size_t n_len,
                       const unsigned char *e, size_t e_len, size_t extra)
{
	unsigned char ints[1100], key[1100];
	size_t il = 0, kl = 0, ol = 0;
	cr_assert_leq(n_len + e_len + extra + 16, sizeof(ints));
	il += der_hdr(ints + il, 0x02, n_len);
	memcpy(ints + il, n, n_len);
	il += n_len;
	il += der_hdr(ints + il, 0x02, e_len);
	memcpy(ints + il, e, e_len);
	il += e_len;
	memset(ints + il, 0x05, extra);
	il += extra;
	key[kl++] = unused;
	kl += der_hdr(key + kl, 0x30, il);
	memcpy(key + kl, ints, il);
	kl += il;
	size_t body = alg_len + kl + (kl + 1 < 0x80 ? 2 : kl + 1 < 0x100 ? 3 : 4);
	ol += der_hdr(out, 0x30, body);
	memcpy(out + ol, alg, alg_len);
	ol += alg_len;
	ol += der_hdr(out + ol, 0x03, kl);
	memcpy(out + ol, key, kl);
	return ol + kl;
}

/* The modulus of a new RSA key (bits) as an INTEGER's content, with its
 * leading 0x00, in n (at least bits/8 + 1 bytes); its length. */
static size_t new_modulus(int bits, unsigned char *n, EVP_PKEY **key)
{
	BIGNUM *bn = NULL;
	*key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
	cr_assert_not_null(*key);
	cr_assert_eq(EVP_PKEY_get_bn_param(*key, OSSL_PKEY_PARAM_RSA_N, &bn), 1);
	n[0] = 0x00; /* the top bit of a modulus of `bits` bits is set */
	cr_assert_eq(BN_bn2binpad(bn, n + 1, bits / 8), bits / 8);
	BN_free(bn);
	return (size_t)bits / 8 + 1;
}

Test(csr_key, rsa_canonical_form_is_what_openssl_writes)
{
	static const unsigned char e65537[] = {0x01, 0x00, 0x01};
	unsigned char n[513], built[1200], *der = NULL;
	EVP_PKEY *key = NULL;
	size_t n_len = new_modulus(1024, n, &key);
	int len = i2d_PUBKEY(key, &der);
	size_t blen =
	    rsa_spki(built, rsa_alg, sizeof(rsa_alg), 0, n, n_len, e65537, sizeof(e65537), 0);
	cr_assert_eq((size_t)len, blen);
	cr_assert_eq(memcmp(der, built, blen), 0, "the test's encoding is not OpenSSL's");

	const unsigned char *pn = NULL, *pe = NULL;
	size_t pn_len = 0, pe_len = 0;
	cr_assert(csr_der_rsa_spki_key(der, (size_t)len, &pn, &pn_len, &pe, &pe_len));
	cr_assert_eq(pn_len, n_len);
	cr_assert_eq(memcmp(pn, n, n_len), 0);
	cr_assert_eq(pe_len, sizeof(e65537));
	cr_assert_eq(memcmp(pe, e65537, pe_len), 0);
	cr_assert_null(csr_der_ec_spki_group(der, (size_t)len, NULL));
	struct csr_der_key k;
	cr_assert_eq(csr_der_key_form(der, (size_t)len, &k), CSR_DER_KEY_RSA);
	cr_assert(k.key == pn && k.key_len == pn_len && k.e == pe && k.e_len == pe_len);
	OPENSSL_free(der);
	EVP_PKEY_free(key);
}

Test(csr_key, rsa_other_encodings_do_not_match)
{
	static const unsigned char e65537[] = {0x01, 0x00, 0x01},
	                           e_padded[] = {0x00, 0x01, 0x00, 0x01}, e_zero[] = {0x00},
	                           e_negative[] = {0x81};
	static const unsigned char alg_no_params[] = {0x30, 0x0b, 0x06, 0x09, 0x2a, 0x86, 0x48,
	                                              0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01};
	static const unsigned char alg_pss[] = {0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
	                                        0xf7, 0x0d, 0x01, 0x01, 0x0a, 0x05, 0x00};
	unsigned char n[513], padded[514], spki[1200];
	EVP_PKEY *key = NULL;
	size_t n_len = new_modulus(1024, n, &key), len;
	const unsigned char *pn, *pe;
	size_t pn_len, pe_len;
	EVP_PKEY_free(key);

	len = rsa_spki(spki, rsa_alg, sizeof(rsa_alg), 0, n, n_len, e65537, 3, 0);
	cr_assert(csr_der_rsa_spki_key(spki, len, &pn, &pn_len, &pe, &pe_len), "canonical");
	cr_assert(!csr_der_rsa_spki_key(spki, len - 1, &pn, &pn_len, &pe, &pe_len), "short");
	cr_assert(!csr_der_rsa_spki_key(spki, 40, &pn, &pn_len, &pe, &pe_len), "cut");

	padded[0] = 0x00;
	memcpy(padded + 1, n, n_len);
	const struct {
		const unsigned char *alg;
		size_t alg_len;
		unsigned char unused;
		const unsigned char *n;
		size_t n_len;
		const unsigned char *e;
		size_t e_len, extra;
		const char *what;
	} bad[] = {
	    {alg_no_params, sizeof(alg_no_params), 0, n, n_len, e65537, 3, 0, "no NULL"},
	    {alg_pss, sizeof(alg_pss), 0, n, n_len, e65537, 3, 0, "RSASSA-PSS"},
	    {rsa_alg, sizeof(rsa_alg), 1, n, n_len, e65537, 3, 0, "unused bits"},
	    {rsa_alg, sizeof(rsa_alg), 0, n, n_len, e65537, 3, 2, "trailing"},
	    {rsa_alg, sizeof(rsa_alg), 0, n + 1, n_len - 1, e65537, 3, 0, "n negative"},
	    {rsa_alg, sizeof(rsa_alg), 0, padded, n_len + 1, e65537, 3, 0, "n padded"},
	    {rsa_alg, sizeof(rsa_alg), 0, n, n_len, e_padded, 4, 0, "e padded"},
	    {rsa_alg, sizeof(rsa_alg), 0, n, n_len, e_zero, 1, 0, "e zero"},
	    {rsa_alg, sizeof(rsa_alg), 0, n, n_len, e_negative, 1, 0, "e negative"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		len = rsa_spki(spki, bad[i].alg, bad[i].alg_len, bad[i].unused, bad[i].n,
		               bad[i].n_len, bad[i].e, bad[i].e_len, bad[i].extra);
		cr_assert(!csr_der_rsa_spki_key(spki, len, &pn, &pn_len, &pe, &pe_len), "%s",
		          bad[i].what);
	}
	/* A length in the long form where the short one fits. */
	len = rsa_spki(spki, rsa_alg, sizeof(rsa_alg), 0, n, n_len, e65537, 3, 0);
	unsigned char longform[1201];
	size_t e_at = len - 5; /* 02 03 01 00 01 */
	cr_assert_eq(spki[e_at], 0x02);
	memcpy(longform, spki, e_at + 1);
	longform[e_at + 1] = 0x81;
	memcpy(longform + e_at + 2, spki + e_at + 1, 4);
	cr_assert(!csr_der_rsa_spki_key(longform, len + 1, &pn, &pn_len, &pe, &pe_len),
	          "long-form length");
}

/* The RSA key made from the modulus and the exponent is the key OpenSSL's
 * decoder loads, for the usual exponent and a small one. */
Test(csr_key, rsa_fast_load_agrees_with_the_decoder)
{
	static const unsigned char e65537[] = {0x01, 0x00, 0x01}, e3[] = {0x03};
	static const struct {
		const unsigned char *e;
		size_t len;
	} exps[] = {{e65537, sizeof(e65537)}, {e3, sizeof(e3)}};
	unsigned char n[513], spki[1200];
	EVP_PKEY *key = NULL;
	size_t n_len = new_modulus(2048, n, &key);
	EVP_PKEY_free(key);
	for (size_t i = 0; i < sizeof(exps) / sizeof(exps[0]); i++) {
		size_t len = rsa_spki(spki, rsa_alg, sizeof(rsa_alg), 0, n, n_len, exps[i].e,
		                      exps[i].len, 0);
		const unsigned char *p = spki;
		EVP_PKEY *fast = csr_asn1_key_load(spki, len);
		EVP_PKEY *slow = d2i_PUBKEY(NULL, &p, (long)len);
		cr_assert_not_null(fast, "exponent %zu", i);
		cr_assert_not_null(slow, "exponent %zu", i);
		cr_assert_eq(EVP_PKEY_eq(fast, slow), 1, "exponent %zu: another key", i);
		cr_assert(EVP_PKEY_is_a(fast, "RSA"));
		cr_assert_eq(EVP_PKEY_get_bits(fast), 2048);
		unsigned char *re = NULL;
		int relen = i2d_PUBKEY(fast, &re);
		cr_assert_eq((size_t)relen, len);
		cr_assert_eq(memcmp(re, spki, len), 0, "exponent %zu: re-encodes differently", i);
		OPENSSL_free(re);
		EVP_PKEY_free(fast);
		EVP_PKEY_free(slow);
	}
}

/* Whole requests with RSA keys: the usual sizes verify; the forms OpenSSL
 * would write otherwise are still refused by the re-encoding. */
Test(csr_key, rsa_parse_outcomes_unchanged)
{
	static const struct {
		const char *file, *err;
	} cases[] = {{"good-rsa2048.pem", NULL},
	             {"good-rsa3072.pem", NULL},
	             {"good-rsa4096.pem", NULL},
	             {"key-rsa-e3.pem", NULL},
	             {"key-rsa-no-params.pem", "the public key re-encodes differently"}};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char err[256] = "";
		struct csr_info *info = NULL;
		int rc = parse_testdata(cases[i].file, &info, err, sizeof(err));
		if (cases[i].err == NULL) {
			cr_assert_eq(rc, 0, "%s: %s", cases[i].file, err);
			cr_assert(info->sig.verified, "%s", cases[i].file);
			cr_assert_eq(info->key.type, CSR_KEY_RSA, "%s", cases[i].file);
		} else {
			cr_assert_neq(rc, 0, "%s parsed", cases[i].file);
			cr_assert_not_null(strstr(err, cases[i].err), "%s: %s", cases[i].file, err);
		}
		csr_info_free(info);
	}
}

/* ---- Ed25519 ---- */

Test(csr_key, ed25519_canonical_form_and_fast_load)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	cr_assert_not_null(k);
	unsigned char *der = NULL, raw[32];
	size_t raw_len = sizeof(raw);
	int n = i2d_PUBKEY(k, &der);
	cr_assert_eq(n, 44);
	cr_assert_eq(EVP_PKEY_get_raw_public_key(k, raw, &raw_len), 1);
	const unsigned char *key = csr_der_ed25519_spki_key(der, (size_t)n);
	cr_assert_not_null(key, "OpenSSL's encoding is not recognised");
	cr_assert_eq(memcmp(key, raw, 32), 0);
	cr_assert(csr_asn1_spki_canonical(der, (size_t)n));
	struct csr_der_key dk;
	cr_assert_eq(csr_der_key_form(der, (size_t)n, &dk), CSR_DER_KEY_ED25519);
	cr_assert(dk.key == key && dk.key_len == 32);

	const unsigned char *p = der;
	EVP_PKEY *fast = csr_asn1_key_load(der, (size_t)n);
	EVP_PKEY *slow = d2i_PUBKEY(NULL, &p, n);
	cr_assert_not_null(fast);
	cr_assert_not_null(slow);
	cr_assert_eq(EVP_PKEY_eq(fast, slow), 1);
	cr_assert(EVP_PKEY_is_a(fast, "ED25519"));
	EVP_PKEY_free(fast);
	EVP_PKEY_free(slow);

	unsigned char copy[64];
	cr_assert_null(csr_der_ed25519_spki_key(der, (size_t)n - 1), "short");
	for (int at = 0; at < 12; at++) { /* every byte of the header */
		memcpy(copy, der, (size_t)n);
		copy[at] ^= 0x01;
		cr_assert_null(csr_der_ed25519_spki_key(copy, (size_t)n), "byte %d changed", at);
	}
	/* Ed448's header differs in its OID and lengths. */
	EVP_PKEY *k448 = EVP_PKEY_Q_keygen(NULL, NULL, "ED448");
	unsigned char *d448 = NULL;
	int n448 = i2d_PUBKEY(k448, &d448);
	cr_assert_null(csr_der_ed25519_spki_key(d448, (size_t)n448));
	cr_assert(!csr_asn1_spki_canonical(d448, (size_t)n448));
	cr_assert_eq(csr_der_key_form(d448, (size_t)n448, &dk), CSR_DER_KEY_OTHER);
	OPENSSL_free(d448);
	EVP_PKEY_free(k448);
	OPENSSL_free(der);
	EVP_PKEY_free(k);
}
