/*
 * The canonical encodings of EC keys on named curves that csr_parse()
 * accepts without re-encoding the key (csr_der_ec_spki_group()): each must
 * be exactly what OpenSSL writes for a key on that curve, and nothing else
 * may match, so that the shortcut lets through no key the re-encoding
 * would refuse.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

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
		char path[256], err[256] = "";
		snprintf(path, sizeof(path), "%s/csr/%s", TESTDATA_DIR, cases[i].file);
		char *pem = NULL;
		size_t len = 0;
		cr_assert_eq(util_read_file(path, 1 << 20, &pem, &len, err, sizeof(err)), 0, "%s",
		             err);
		struct csr_info *info = NULL;
		int rc = csr_parse(pem, len, &info, err, sizeof(err));
		free(pem);
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
