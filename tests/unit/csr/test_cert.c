/*
 * pkg/csr: an issued certificate as the inventory and the audit log read
 * it (serial, validity, names, key fingerprint), the key fingerprint of a
 * request, and the key's name.
 */
#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

#include "../../../pkg/csr/csr.h"
#include "../report/rt.h"

static void spki_hex(EVP_PKEY *k, char out[65])
{
	unsigned char *der = NULL, md[32];
	unsigned int n = 0;
	int len = i2d_PUBKEY(k, &der);
	cr_assert_gt(len, 0);
	cr_assert_eq(EVP_Digest(der, (size_t)len, md, &n, EVP_sha256(), NULL), 1);
	for (unsigned i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	OPENSSL_free(der);
}

Test(csr_cert, issued_certificate)
{
	EVP_PKEY *k = NULL;
	char *req = rt_request("web.shop.svc",
	                       "URI:spiffe://cluster.local/ns/shop/sa/web,IP:10.244.1.7,"
	                       "IP:fd00::7,DNS:web.shop.svc",
	                       &k);
	struct signer_cert *sc = rt_issue(req, 3600);
	struct csr_cert c;
	struct csr_info *info = NULL;
	char err[256], want[65];

	cr_assert_eq(csr_cert_parse(sc->pem, strlen(sc->pem), &c, err, sizeof(err)), 0, "%s", err);
	cr_expect_str_eq(c.serial, sc->serial);
	cr_expect_eq(c.not_after, sc->not_after);
	cr_expect_eq(c.not_before, sc->not_before);
	cr_assert_eq(c.sans.n, 4);
	cr_expect_eq(c.n_sans_total, 4);
	cr_expect_str_eq(c.sans.v[0], "spiffe://cluster.local/ns/shop/sa/web");
	cr_expect_str_eq(c.sans.v[1], "10.244.1.7");
	cr_expect_str_eq(c.sans.v[2], "fd00::7");
	cr_expect_str_eq(c.sans.v[3], "web.shop.svc");
	spki_hex(k, want);
	cr_expect_str_eq(c.spki_sha256, want);
	/* The request's fingerprint is the same key's. */
	cr_assert_eq(csr_parse(req, strlen(req), &info, err, sizeof(err)), 0, "%s", err);
	cr_expect_str_eq(info->key.spki_sha256, want);
	char kt[32];
	cr_expect_str_eq(csr_key_text(&info->key, kt, sizeof(kt)), "ECDSA-P256");
	csr_info_free(info);
	csr_cert_clear(&c);

	/* A chain: the leaf is read, the rest ignored. */
	char *chain = util_xasprintf("%s%s", sc->pem, sc->pem);
	cr_assert_eq(csr_cert_parse(chain, strlen(chain), &c, err, sizeof(err)), 0, "%s", err);
	cr_expect_str_eq(c.serial, sc->serial);
	csr_cert_clear(&c);
	free(chain);
	signer_cert_free(sc);
	free(req);
	EVP_PKEY_free(k);
}

/* The expiry alone, as the inventory reads it: the same notAfter as the
 * whole decoder, for UTCTime and for GeneralizedTime (from 2050 on). */
Test(csr_cert, not_after_alone)
{
	static const long lifetimes[] = {3600, 40L * 365 * 86400};
	for (size_t i = 0; i < 2; i++) {
		char *req = rt_request("web.shop.svc", "DNS:web.shop.svc", NULL);
		struct signer_cert *sc = rt_issue(req, lifetimes[i]);
		char err[256];
		int64_t t = -1;
		cr_assert_eq(csr_cert_not_after(sc->pem, strlen(sc->pem), &t, err, sizeof(err)), 0,
		             "%s", err);
		cr_expect_eq(t, sc->not_after);
		char *chain = util_xasprintf("%s%s", sc->pem, sc->pem);
		t = -1;
		cr_assert_eq(csr_cert_not_after(chain, strlen(chain), &t, err, sizeof(err)), 0);
		cr_expect_eq(t, sc->not_after);
		free(chain);
		signer_cert_free(sc);
		free(req);
	}
	int64_t t = -1;
	char err[256];
	cr_expect_eq(csr_cert_not_after("", 0, &t, err, sizeof(err)), -1);
	cr_expect_eq(t, 0);
	cr_expect_str_eq(err, "empty certificate");
	const char *junk = "-----BEGIN CERTIFICATE-----\nMAMCAQE=\n-----END CERTIFICATE-----\n";
	cr_expect_eq(csr_cert_not_after(junk, strlen(junk), &t, err, sizeof(err)), -1);
	cr_expect_str_eq(err, "no PEM CERTIFICATE block that decodes");
}

Test(csr_cert, refused)
{
	struct csr_cert c;
	char err[256];
	cr_expect_eq(csr_cert_parse("", 0, &c, err, sizeof(err)), -1);
	cr_expect_str_eq(err, "empty certificate");
	const char *junk = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
	cr_expect_eq(csr_cert_parse(junk, strlen(junk), &c, err, sizeof(err)), -1);
	cr_expect_str_eq(err, "no PEM CERTIFICATE block that decodes");
	cr_expect_eq(c.sans.n, 0);
	cr_expect_eq(csr_cert_parse(junk, CSR_MAX_CERT_PEM + 1, &c, err, sizeof(err)), -1);
	cr_expect(strstr(err, "more than the limit") != NULL, "%s", err);
	csr_cert_clear(NULL);
}

Test(csr_cert, key_names)
{
	struct csr_key k = {0};
	char b[32];
	k.type = CSR_KEY_RSA;
	k.bits = 3072;
	cr_expect_str_eq(csr_key_text(&k, b, sizeof(b)), "RSA-3072");
	k.type = CSR_KEY_EC;
	snprintf(k.ec_curve, sizeof(k.ec_curve), "secp384r1");
	cr_expect_str_eq(csr_key_text(&k, b, sizeof(b)), "ECDSA-P384");
	snprintf(k.ec_curve, sizeof(k.ec_curve), "secp256k1");
	cr_expect_str_eq(csr_key_text(&k, b, sizeof(b)), "EC-secp256k1");
	k.type = CSR_KEY_ED25519;
	cr_expect_str_eq(csr_key_text(&k, b, sizeof(b)), "Ed25519");
	k.type = CSR_KEY_UNKNOWN;
	cr_expect_str_eq(csr_key_text(&k, b, sizeof(b)), "unknown");
}
