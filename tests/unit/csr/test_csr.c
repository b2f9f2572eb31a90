/*
 * pkg/csr against the fixtures of tests/testdata/csr (see its README): the
 * decoded description of good and hostile requests, the structural
 * failures and their messages, the JSON of `csr-approver inspect`, and the
 * strict DER checker on hand-made bytes.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../../pkg/csr/csr.h"
#include "../../../pkg/csr/csr_internal.h"
#include "../../../pkg/util/util.h"

#ifndef TESTDATA_DIR
#define TESTDATA_DIR "tests/testdata"
#endif

#define OID_EXT_REQ "1.2.840.113549.1.9.14"
#define OID_SAN "2.5.29.17"
#define EKU_SERVER "1.3.6.1.5.5.7.3.1"
#define EKU_CLIENT "1.3.6.1.5.5.7.3.2"

/* ---- helpers ---- */

static char *read_path(const char *path, size_t *len)
{
	char *buf = NULL;
	char err[256];
	int rc = util_read_file(path, 1 << 20, &buf, len, err, sizeof(err));
	cr_assert_eq(rc, 0, "%s", err);
	return buf;
}

static char *read_fixture(const char *name, size_t *len)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/csr/%s", TESTDATA_DIR, name);
	return read_path(path, len);
}

static struct csr_info *parse_ok(const char *name)
{
	size_t len = 0;
	char *pem = read_fixture(name, &len);
	struct csr_info *info = NULL;
	char err[256] = "";
	int rc = csr_parse(pem, len, &info, err, sizeof(err));
	free(pem);
	cr_assert_eq(rc, 0, "%s: %s", name, err);
	cr_assert_not_null(info);
	return info;
}

static void parse_fails(const char *name, const char *want)
{
	size_t len = 0;
	char *pem = read_fixture(name, &len);
	struct csr_info *info = (struct csr_info *)1;
	char err[256] = "";
	int rc = csr_parse(pem, len, &info, err, sizeof(err));
	free(pem);
	cr_assert_eq(rc, -1, "%s parsed, want failure \"%s\"", name, want);
	cr_assert_null(info);
	cr_assert(strstr(err, want) != NULL, "%s: error \"%s\", want \"%s\"", name, err, want);
	cr_assert(strchr(err, '\n') == NULL, "%s: error is not one line", name);
}

static const struct csr_extension *ext_at(const struct csr_info *info, size_t i)
{
	cr_assert_lt(i, info->n_exts);
	return &info->exts[i];
}

static void assert_san(const struct csr_info *info, size_t i, enum csr_san_type type,
                       const char *value)
{
	cr_assert_lt(i, info->n_sans, "SAN %zu missing", i);
	cr_assert_eq(info->sans[i].type, type, "SAN %zu: type %s", i,
	             csr_san_type_name(info->sans[i].type));
	cr_assert_eq(info->sans[i].value_len, strlen(value), "SAN %zu: \"%s\"", i,
	             info->sans[i].value);
	cr_assert_str_eq(info->sans[i].value, value);
}

static void assert_good_sig(const struct csr_info *info, enum csr_sig_scheme scheme,
                            enum csr_hash hash)
{
	cr_assert_eq(info->sig.scheme, scheme, "scheme %s", csr_sig_scheme_name(info->sig.scheme));
	cr_assert_eq(info->sig.hash, hash, "hash %s", csr_hash_name(info->sig.hash));
	cr_assert(info->sig.params_ok);
	cr_assert(info->sig.matches_key);
	cr_assert(info->sig.verified);
}

/* A request with only CN=web.shop.svc and one SAN extension holding one
 * DNS name web.shop.svc, as most hostile fixtures are built. */
static void assert_plain_san(const struct csr_info *info)
{
	cr_assert_eq(info->n_exts, 1);
	cr_assert_eq(info->exts[0].kind, CSR_EXT_SAN);
	cr_assert_eq(info->n_sans, 1);
	assert_san(info, 0, CSR_SAN_DNS, "web.shop.svc");
}

/* ---- good requests ---- */

Test(csr, good_ec_p256)
{
	struct csr_info *info = parse_ok("good-ec-p256.pem");
	cr_assert_eq(info->version, 0);
	cr_assert_eq(info->n_subject, 1);
	cr_assert_eq(info->subject[0].kind, CSR_ATTR_CN);
	cr_assert_str_eq(info->subject[0].oid, "2.5.4.3");
	cr_assert_str_eq(info->subject[0].name, "CN");
	cr_assert_eq(info->subject[0].str_type, CSR_STR_UTF8);
	cr_assert_str_eq(info->subject[0].value, "10-244-1-7.shop.pod.cluster.local");
	cr_assert(!info->subject[0].has_nul && !info->subject[0].has_control);
	cr_assert(!info->subject[0].bad_encoding && !info->subject[0].multi_valued_rdn);

	cr_assert_eq(info->key.type, CSR_KEY_EC);
	cr_assert_eq(info->key.bits, 256);
	cr_assert(info->key.ec_named_curve);
	cr_assert_str_eq(info->key.ec_curve, "prime256v1");
	cr_assert_str_eq(info->key.alg_oid, "1.2.840.10045.2.1");

	assert_good_sig(info, CSR_SIG_ECDSA, CSR_HASH_SHA256);
	cr_assert_str_eq(info->sig.alg_oid, "1.2.840.10045.4.3.2");
	cr_assert_str_eq(info->sig.alg_name, "ecdsa-with-SHA256");

	cr_assert_eq(info->n_attrs, 1);
	cr_assert_str_eq(info->attrs[0].oid, OID_EXT_REQ);
	cr_assert_str_eq(info->attrs[0].name, "extensionRequest");
	cr_assert(info->attrs[0].is_extension_request);

	cr_assert_eq(info->n_exts, 4);
	cr_assert_eq(ext_at(info, 0)->kind, CSR_EXT_SAN);
	cr_assert_str_eq(ext_at(info, 0)->oid, OID_SAN);
	cr_assert_str_eq(ext_at(info, 0)->name, "subjectAltName");
	cr_assert(!ext_at(info, 0)->critical);
	cr_assert_eq(ext_at(info, 1)->kind, CSR_EXT_KEY_USAGE);
	cr_assert(ext_at(info, 1)->critical);
	cr_assert_eq(ext_at(info, 2)->kind, CSR_EXT_EXT_KEY_USAGE);
	cr_assert(!ext_at(info, 2)->critical);
	cr_assert_eq(ext_at(info, 3)->kind, CSR_EXT_BASIC_CONSTRAINTS);
	cr_assert(ext_at(info, 3)->critical);

	cr_assert_eq(info->n_sans, 3);
	assert_san(info, 0, CSR_SAN_URI, "spiffe://cluster.local/ns/shop/sa/web");
	assert_san(info, 1, CSR_SAN_DNS, "10-244-1-7.shop.pod.cluster.local");
	assert_san(info, 2, CSR_SAN_IP, "10.244.1.7");
	cr_assert_eq(info->sans[2].ip_len, 4);
	cr_assert_arr_eq(info->sans[2].ip, ((unsigned char[]){10, 244, 1, 7}), 4);

	cr_assert(info->has_key_usage);
	cr_assert_eq(info->key_usage, CSR_KU_DIGITAL_SIGNATURE);
	cr_assert(info->has_ext_key_usage);
	cr_assert_eq(info->n_eku, 2);
	cr_assert_str_eq(info->eku_oids[0], EKU_SERVER);
	cr_assert_str_eq(info->eku_oids[1], EKU_CLIENT);
	cr_assert(info->has_basic_constraints);
	cr_assert(!info->basic_constraints_ca);

	cr_assert_not_null(info->der);
	cr_assert_gt(info->der_len, 100);
	cr_assert_eq(info->der[0], 0x30);
	csr_info_free(info);
}

Test(csr, good_ec_p384)
{
	struct csr_info *info = parse_ok("good-ec-p384.pem");
	cr_assert_eq(info->key.type, CSR_KEY_EC);
	cr_assert_eq(info->key.bits, 384);
	cr_assert_str_eq(info->key.ec_curve, "secp384r1");
	assert_good_sig(info, CSR_SIG_ECDSA, CSR_HASH_SHA384);
	cr_assert_eq(info->n_sans, 3);
	assert_san(info, 0, CSR_SAN_DNS, "web.shop.svc");
	assert_san(info, 1, CSR_SAN_DNS, "web.shop.svc.cluster.local");
	assert_san(info, 2, CSR_SAN_IP, "fd00:10:244::7");
	cr_assert_eq(info->sans[2].ip_len, 16);
	cr_assert_eq(info->sans[2].ip[0], 0xfd);
	cr_assert(!info->has_key_usage);
	cr_assert(info->has_ext_key_usage);
	cr_assert_eq(info->n_eku, 1);
	cr_assert(!info->has_basic_constraints);
	csr_info_free(info);
}

Test(csr, good_ec_p521)
{
	struct csr_info *info = parse_ok("good-ec-p521.pem");
	cr_assert_eq(info->key.bits, 521);
	cr_assert_str_eq(info->key.ec_curve, "secp521r1");
	assert_good_sig(info, CSR_SIG_ECDSA, CSR_HASH_SHA512);
	csr_info_free(info);
}

Test(csr, good_ed25519_empty_subject)
{
	struct csr_info *info = parse_ok("good-ed25519.pem");
	cr_assert_eq(info->n_subject, 0);
	cr_assert_eq(info->key.type, CSR_KEY_ED25519);
	cr_assert_str_eq(info->key.alg_oid, "1.3.101.112");
	assert_good_sig(info, CSR_SIG_ED25519, CSR_HASH_NONE);
	cr_assert_eq(info->n_sans, 1);
	assert_san(info, 0, CSR_SAN_URI, "spiffe://cluster.local/ns/shop/sa/web");
	csr_info_free(info);
}

Test(csr, good_rsa2048_kubelet_serving)
{
	struct csr_info *info = parse_ok("good-rsa2048.pem");
	cr_assert_eq(info->n_subject, 2);
	cr_assert_eq(info->subject[0].kind, CSR_ATTR_CN);
	cr_assert_str_eq(info->subject[0].value, "system:node:node-1");
	cr_assert_eq(info->subject[1].kind, CSR_ATTR_O);
	cr_assert_str_eq(info->subject[1].name, "O");
	cr_assert_str_eq(info->subject[1].value, "system:nodes");
	cr_assert_eq(info->key.type, CSR_KEY_RSA);
	cr_assert_eq(info->key.bits, 2048);
	cr_assert(info->key.rsa_e_65537);
	cr_assert_str_eq(info->key.rsa_e, "65537");
	assert_good_sig(info, CSR_SIG_RSA_PKCS1, CSR_HASH_SHA256);
	cr_assert_str_eq(info->sig.alg_oid, "1.2.840.113549.1.1.11");
	assert_san(info, 0, CSR_SAN_DNS, "node-1");
	assert_san(info, 1, CSR_SAN_IP, "10.0.0.11");
	cr_assert_eq(info->key_usage, CSR_KU_DIGITAL_SIGNATURE | CSR_KU_KEY_ENCIPHERMENT);
	cr_assert_eq(info->n_eku, 1);
	cr_assert_str_eq(info->eku_oids[0], EKU_SERVER);
	csr_info_free(info);
}

Test(csr, good_rsa3072_no_attributes)
{
	struct csr_info *info = parse_ok("good-rsa3072.pem");
	cr_assert_eq(info->key.bits, 3072);
	assert_good_sig(info, CSR_SIG_RSA_PKCS1, CSR_HASH_SHA256);
	cr_assert_eq(info->n_attrs, 0);
	cr_assert_eq(info->n_exts, 0);
	cr_assert_eq(info->n_sans, 0);
	cr_assert(!info->has_key_usage && !info->has_ext_key_usage && !info->has_basic_constraints);
	csr_info_free(info);
}

Test(csr, good_rsa4096)
{
	struct csr_info *info = parse_ok("good-rsa4096.pem");
	cr_assert_eq(info->key.bits, 4096);
	assert_good_sig(info, CSR_SIG_RSA_PKCS1, CSR_HASH_SHA512);
	assert_san(info, 0, CSR_SAN_DNS, "api.shop.svc");
	assert_san(info, 1, CSR_SAN_URI, "spiffe://cluster.local/ns/shop/sa/api");
	csr_info_free(info);
}

Test(csr, good_rsa_pss_signature)
{
	struct csr_info *info = parse_ok("good-rsa2048-pss.pem");
	cr_assert_eq(info->key.type, CSR_KEY_RSA);
	assert_good_sig(info, CSR_SIG_RSA_PSS, CSR_HASH_SHA256);
	cr_assert(info->sig.pss_params_ok);
	cr_assert_str_eq(info->sig.alg_oid, "1.2.840.113549.1.1.10");
	csr_info_free(info);
}

/* ---- requests as Go's crypto/x509 makes them ---- */

Test(csr, go_kubelet_serving)
{
	struct csr_info *info = parse_ok("go-kubelet-serving.pem");
	cr_assert_eq(info->n_subject, 2);
	cr_assert_eq(info->subject[0].kind, CSR_ATTR_O);
	cr_assert_eq(info->subject[0].str_type, CSR_STR_PRINTABLE);
	cr_assert_str_eq(info->subject[0].value, "system:nodes");
	cr_assert(!info->subject[0].bad_encoding);
	cr_assert_eq(info->subject[1].kind, CSR_ATTR_CN);
	cr_assert_str_eq(info->subject[1].value, "system:node:node-1");
	cr_assert(!info->subject[1].bad_encoding);
	cr_assert_str_eq(info->key.ec_curve, "prime256v1");
	assert_good_sig(info, CSR_SIG_ECDSA, CSR_HASH_SHA256);
	cr_assert_eq(info->n_attrs, 1);
	cr_assert_eq(info->n_exts, 1);
	cr_assert_eq(info->n_sans, 3);
	assert_san(info, 0, CSR_SAN_DNS, "node-1");
	assert_san(info, 1, CSR_SAN_IP, "10.0.0.11");
	assert_san(info, 2, CSR_SAN_IP, "fd00::11");
	csr_info_free(info);
}

Test(csr, go_kubelet_client)
{
	struct csr_info *info = parse_ok("go-kubelet-client.pem");
	cr_assert_eq(info->n_subject, 2);
	assert_good_sig(info, CSR_SIG_ECDSA, CSR_HASH_SHA256);
	cr_assert_eq(info->n_attrs, 0);
	cr_assert_eq(info->n_exts, 0);
	csr_info_free(info);
}

Test(csr, go_workload_ed25519)
{
	struct csr_info *info = parse_ok("go-workload-ed25519.pem");
	cr_assert_eq(info->key.type, CSR_KEY_ED25519);
	assert_good_sig(info, CSR_SIG_ED25519, CSR_HASH_NONE);
	cr_assert_eq(info->n_sans, 3);
	assert_san(info, 0, CSR_SAN_DNS, "10-244-1-7.shop.pod.cluster.local");
	assert_san(info, 1, CSR_SAN_IP, "10.244.1.7");
	assert_san(info, 2, CSR_SAN_URI, "spiffe://cluster.local/ns/shop/sa/web");
	csr_info_free(info);
}

Test(csr, go_rsa_pss)
{
	struct csr_info *info = parse_ok("go-rsa-pss.pem");
	cr_assert_eq(info->key.type, CSR_KEY_RSA);
	assert_good_sig(info, CSR_SIG_RSA_PSS, CSR_HASH_SHA256);
	cr_assert(info->sig.pss_params_ok);
	csr_info_free(info);
}

Test(csr, pem_crlf_and_surrounding_space_accepted)
{
	struct csr_info *a = parse_ok("good-ec-p256.pem");
	struct csr_info *b = parse_ok("pem-crlf.pem");
	struct csr_info *c = parse_ok("pem-surrounding-space.pem");
	cr_assert_eq(a->der_len, b->der_len);
	cr_assert_eq(a->der_len, c->der_len);
	cr_assert_arr_eq(a->der, b->der, a->der_len);
	cr_assert_arr_eq(a->der, c->der, a->der_len);
	csr_info_free(a);
	csr_info_free(b);
	csr_info_free(c);
}

/* ---- signatures ---- */

Test(csr, sig_tampered)
{
	struct csr_info *info = parse_ok("sig-tampered.pem");
	cr_assert_eq(info->sig.scheme, CSR_SIG_ECDSA);
	cr_assert(info->sig.matches_key);
	cr_assert(!info->sig.verified);
	csr_info_free(info);
}

Test(csr, sig_wrong_key)
{
	struct csr_info *info = parse_ok("sig-wrong-key.pem");
	cr_assert_eq(info->key.type, CSR_KEY_EC);
	cr_assert(info->sig.matches_key);
	cr_assert(!info->sig.verified);
	csr_info_free(info);
}

Test(csr, sig_sha1)
{
	struct csr_info *info = parse_ok("sig-sha1.pem");
	cr_assert_eq(info->sig.scheme, CSR_SIG_RSA_PKCS1);
	cr_assert_eq(info->sig.hash, CSR_HASH_SHA1);
	cr_assert_str_eq(info->sig.alg_oid, "1.2.840.113549.1.1.5");
	csr_info_free(info);
}

Test(csr, sig_md5)
{
	struct csr_info *info = parse_ok("sig-md5.pem");
	cr_assert_eq(info->sig.scheme, CSR_SIG_RSA_PKCS1);
	cr_assert_eq(info->sig.hash, CSR_HASH_MD5);
	cr_assert_str_eq(info->sig.alg_oid, "1.2.840.113549.1.1.4");
	cr_assert(info->sig.matches_key);
	csr_info_free(info);
}

Test(csr, sig_ecdsa_sha1)
{
	struct csr_info *info = parse_ok("sig-ecdsa-sha1.pem");
	cr_assert_eq(info->sig.scheme, CSR_SIG_ECDSA);
	cr_assert_eq(info->sig.hash, CSR_HASH_SHA1);
	csr_info_free(info);
}

Test(csr, sig_pss_mgf1_mismatch)
{
	struct csr_info *info = parse_ok("sig-pss-mgf1-mismatch.pem");
	cr_assert_eq(info->sig.scheme, CSR_SIG_RSA_PSS);
	cr_assert_eq(info->sig.hash, CSR_HASH_SHA256);
	cr_assert(!info->sig.pss_params_ok);
	cr_assert(!info->sig.params_ok);
	cr_assert(info->sig.verified, "OpenSSL verifies it; the policy rejects the parameters");
	csr_info_free(info);
}

/* ---- keys ---- */

Test(csr, key_rsa1024)
{
	struct csr_info *info = parse_ok("key-rsa1024.pem");
	cr_assert_eq(info->key.type, CSR_KEY_RSA);
	cr_assert_eq(info->key.bits, 1024);
	cr_assert(info->sig.verified);
	csr_info_free(info);
}

Test(csr, key_rsa_e3)
{
	struct csr_info *info = parse_ok("key-rsa-e3.pem");
	cr_assert_eq(info->key.type, CSR_KEY_RSA);
	cr_assert(!info->key.rsa_e_65537);
	cr_assert_str_eq(info->key.rsa_e, "3");
	csr_info_free(info);
}

Test(csr, key_rsa_pss)
{
	struct csr_info *info = parse_ok("key-rsa-pss.pem");
	cr_assert_eq(info->key.type, CSR_KEY_RSA_PSS);
	cr_assert_str_eq(info->key.alg_oid, "1.2.840.113549.1.1.10");
	assert_good_sig(info, CSR_SIG_RSA_PSS, CSR_HASH_SHA256);
	csr_info_free(info);
}

Test(csr, key_secp256k1)
{
	struct csr_info *info = parse_ok("key-secp256k1.pem");
	cr_assert_eq(info->key.type, CSR_KEY_EC);
	cr_assert(info->key.ec_named_curve);
	cr_assert_str_eq(info->key.ec_curve, "secp256k1");
	cr_assert(info->sig.verified);
	csr_info_free(info);
}

Test(csr, key_ec_explicit_parameters)
{
	struct csr_info *info = parse_ok("key-ec-explicit.pem");
	cr_assert_eq(info->key.type, CSR_KEY_EC);
	cr_assert(!info->key.ec_named_curve);
	cr_assert_str_eq(info->key.ec_curve, "", "explicit parameters name no curve");
	cr_assert(info->sig.verified);
	csr_info_free(info);
}

Test(csr, key_ed448)
{
	struct csr_info *info = parse_ok("key-ed448.pem");
	cr_assert_eq(info->key.type, CSR_KEY_ED448);
	assert_good_sig(info, CSR_SIG_ED448, CSR_HASH_NONE);
	csr_info_free(info);
}

Test(csr, key_dsa)
{
	struct csr_info *info = parse_ok("key-dsa.pem");
	cr_assert_eq(info->key.type, CSR_KEY_DSA);
	assert_good_sig(info, CSR_SIG_DSA, CSR_HASH_SHA256);
	csr_info_free(info);
}

Test(csr, key_unknown_algorithm)
{
	struct csr_info *info = parse_ok("key-unknown-alg.pem");
	cr_assert_eq(info->key.type, CSR_KEY_UNKNOWN);
	cr_assert_str_eq(info->key.alg_oid, "1.2.3.4.5");
	cr_assert_eq(info->sig.scheme, CSR_SIG_ECDSA);
	cr_assert(!info->sig.matches_key);
	cr_assert(!info->sig.verified);
	csr_info_free(info);
}

/* ---- extensions ---- */

Test(csr, ext_ca_true)
{
	struct csr_info *info = parse_ok("ext-ca-true.pem");
	cr_assert_eq(info->n_exts, 2);
	cr_assert_eq(info->exts[1].kind, CSR_EXT_BASIC_CONSTRAINTS);
	cr_assert(info->exts[1].critical);
	cr_assert(info->has_basic_constraints);
	cr_assert(info->basic_constraints_ca);
	csr_info_free(info);
}

Test(csr, ext_unknown)
{
	struct csr_info *info = parse_ok("ext-unknown.pem");
	cr_assert_eq(info->n_exts, 2);
	cr_assert_eq(info->exts[1].kind, CSR_EXT_OTHER);
	cr_assert_str_eq(info->exts[1].oid, "1.2.3.4");
	cr_assert_str_eq(info->exts[1].name, "1.2.3.4");
	cr_assert(!info->exts[1].critical);
	csr_info_free(info);
}

Test(csr, ext_unknown_critical)
{
	struct csr_info *info = parse_ok("ext-unknown-critical.pem");
	cr_assert_eq(info->exts[1].kind, CSR_EXT_OTHER);
	cr_assert_str_eq(info->exts[1].oid, "1.2.3.5");
	cr_assert(info->exts[1].critical);
	csr_info_free(info);
}

Test(csr, ext_name_constraints)
{
	struct csr_info *info = parse_ok("ext-name-constraints.pem");
	cr_assert_eq(info->exts[1].kind, CSR_EXT_OTHER);
	cr_assert_str_eq(info->exts[1].oid, "2.5.29.30");
	cr_assert_str_eq(info->exts[1].name, "nameConstraints");
	cr_assert(info->exts[1].critical);
	csr_info_free(info);
}

Test(csr, ext_key_usage_cert_sign)
{
	struct csr_info *info = parse_ok("ext-ku-keycertsign.pem");
	cr_assert(info->has_key_usage);
	cr_assert_eq(info->key_usage,
	             CSR_KU_DIGITAL_SIGNATURE | CSR_KU_KEY_CERT_SIGN | CSR_KU_CRL_SIGN);
	csr_info_free(info);
}

Test(csr, ext_key_usage_undefined_bit)
{
	struct csr_info *info = parse_ok("ext-ku-undefined-bit.pem");
	cr_assert_eq(info->key_usage, CSR_KU_DIGITAL_SIGNATURE | CSR_KU_UNDEFINED);
	csr_info_free(info);
}

Test(csr, ext_eku_code_signing)
{
	struct csr_info *info = parse_ok("ext-eku-codesigning.pem");
	cr_assert_eq(info->n_eku, 3);
	cr_assert_str_eq(info->eku_oids[0], EKU_SERVER);
	cr_assert_str_eq(info->eku_oids[1], "1.3.6.1.5.5.7.3.3");
	cr_assert_str_eq(info->eku_oids[2], "1.2.3.4");
	csr_info_free(info);
}

Test(csr, ext_two_san_extensions)
{
	struct csr_info *info = parse_ok("ext-two-san.pem");
	cr_assert_eq(info->n_exts, 2);
	cr_assert_eq(info->exts[0].kind, CSR_EXT_SAN);
	cr_assert_eq(info->exts[1].kind, CSR_EXT_SAN);
	cr_assert_eq(info->n_sans, 2);
	assert_san(info, 0, CSR_SAN_DNS, "web.shop.svc");
	assert_san(info, 1, CSR_SAN_DNS, "admin.shop.svc");
	csr_info_free(info);
}

/* ---- attributes ---- */

Test(csr, attr_challenge_password)
{
	struct csr_info *info = parse_ok("attr-challenge-password.pem");
	cr_assert_eq(info->n_attrs, 1);
	cr_assert_str_eq(info->attrs[0].oid, "1.2.840.113549.1.9.7");
	cr_assert_str_eq(info->attrs[0].name, "challengePassword");
	cr_assert(!info->attrs[0].is_extension_request);
	cr_assert_eq(info->n_exts, 0);
	csr_info_free(info);
}

Test(csr, attr_two_extension_requests)
{
	struct csr_info *info = parse_ok("attr-two-extreq.pem");
	cr_assert_eq(info->n_attrs, 2);
	cr_assert(info->attrs[0].is_extension_request);
	cr_assert(info->attrs[1].is_extension_request);
	/* Extensions come from the first only. */
	assert_plain_san(info);
	cr_assert(info->sig.verified);
	csr_info_free(info);
}

Test(csr, attr_empty_extension_request)
{
	struct csr_info *info = parse_ok("attr-extreq-empty.pem");
	cr_assert_eq(info->n_attrs, 1);
	cr_assert(info->attrs[0].is_extension_request);
	cr_assert_eq(info->n_exts, 0);
	csr_info_free(info);
}

Test(csr, attr_microsoft_extension_request_is_not_one)
{
	struct csr_info *info = parse_ok("attr-ms-extreq.pem");
	cr_assert_eq(info->n_attrs, 1);
	cr_assert_str_eq(info->attrs[0].oid, "1.3.6.1.4.1.311.2.1.14");
	cr_assert(!info->attrs[0].is_extension_request);
	cr_assert_eq(info->n_exts, 0);
	cr_assert_eq(info->n_sans, 0);
	csr_info_free(info);
}

/* ---- subjects ---- */

Test(csr, subj_duplicate_cn)
{
	struct csr_info *info = parse_ok("subj-dup-cn.pem");
	cr_assert_eq(info->n_subject, 2);
	cr_assert_eq(info->subject[0].kind, CSR_ATTR_CN);
	cr_assert_eq(info->subject[1].kind, CSR_ATTR_CN);
	cr_assert_str_eq(info->subject[1].value, "admin.shop.svc");
	cr_assert(!info->subject[0].multi_valued_rdn);
	csr_info_free(info);
}

Test(csr, subj_multi_valued_rdn)
{
	struct csr_info *info = parse_ok("subj-multi-rdn.pem");
	cr_assert_eq(info->n_subject, 2);
	cr_assert(info->subject[0].multi_valued_rdn);
	cr_assert(info->subject[1].multi_valued_rdn);
	csr_info_free(info);
}

Test(csr, subj_system_masters)
{
	struct csr_info *info = parse_ok("subj-system-masters.pem");
	cr_assert_eq(info->n_subject, 2);
	cr_assert_eq(info->subject[1].kind, CSR_ATTR_O);
	cr_assert_str_eq(info->subject[1].value, "system:masters");
	csr_info_free(info);
}

Test(csr, subj_other_attributes)
{
	struct csr_info *info = parse_ok("subj-ou.pem");
	cr_assert_eq(info->n_subject, 4);
	cr_assert_eq(info->subject[0].kind, CSR_ATTR_OTHER);
	cr_assert_str_eq(info->subject[0].name, "C");
	cr_assert_eq(info->subject[0].str_type, CSR_STR_PRINTABLE);
	cr_assert_eq(info->subject[2].kind, CSR_ATTR_OTHER);
	cr_assert_str_eq(info->subject[2].oid, "2.5.4.11");
	cr_assert_str_eq(info->subject[2].name, "OU");
	csr_info_free(info);
}

Test(csr, subj_bmp_string)
{
	struct csr_info *info = parse_ok("subj-bmp-cn.pem");
	cr_assert_eq(info->subject[0].str_type, CSR_STR_BMP);
	cr_assert_eq(info->subject[0].value_len, 6);
	cr_assert(!info->subject[0].has_nul, "UCS-2 zero bytes are not NUL characters");
	cr_assert(!info->subject[0].bad_encoding);
	csr_info_free(info);
}

Test(csr, subj_t61_string)
{
	struct csr_info *info = parse_ok("subj-t61-cn.pem");
	cr_assert_eq(info->subject[0].str_type, CSR_STR_T61);
	cr_assert_eq(info->subject[0].value_len, 4);
	cr_assert(!info->subject[0].has_control);
	csr_info_free(info);
}

Test(csr, subj_control_character)
{
	struct csr_info *info = parse_ok("subj-control-cn.pem");
	cr_assert(info->subject[0].has_control);
	cr_assert(!info->subject[0].has_nul);
	cr_assert(!info->subject[0].bad_encoding);
	csr_info_free(info);
}

Test(csr, subj_embedded_nul)
{
	struct csr_info *info = parse_ok("subj-nul-cn.pem");
	cr_assert(info->subject[0].has_nul);
	cr_assert(info->subject[0].has_control);
	cr_assert_eq(info->subject[0].value_len,
	             strlen("web.shop.svc") + 1 + strlen(".evil.example"));
	csr_info_free(info);
}

Test(csr, subj_printable_string_outside_alphabet)
{
	struct csr_info *info = parse_ok("subj-printable-bad.pem");
	cr_assert_eq(info->subject[0].str_type, CSR_STR_PRINTABLE);
	cr_assert(info->subject[0].bad_encoding);
	cr_assert(!info->subject[0].has_control);
	csr_info_free(info);
}

/* ---- subject alternative names ---- */

Test(csr, san_kinds)
{
	static const struct {
		const char *file;
		enum csr_san_type type;
		const char *value;
	} cases[] = {
	    {"san-email.pem", CSR_SAN_EMAIL, "web@shop.example"},
	    {"san-othername.pem", CSR_SAN_OTHERNAME, "1.3.6.1.4.1.311.20.2.3"},
	    {"san-dirname.pem", CSR_SAN_DIRNAME, "C=US,O=Example,CN=dir.example"},
	    {"san-rid.pem", CSR_SAN_RID, "1.2.3.4"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct csr_info *info = parse_ok(cases[i].file);
		cr_assert_eq(info->n_sans, 2, "%s", cases[i].file);
		assert_san(info, 0, CSR_SAN_DNS, "web.shop.svc");
		assert_san(info, 1, cases[i].type, cases[i].value);
		csr_info_free(info);
	}
}

Test(csr, san_dns_syntax_left_to_policy)
{
	struct csr_info *info = parse_ok("san-wildcard.pem");
	assert_san(info, 0, CSR_SAN_DNS, "*.shop.svc");
	csr_info_free(info);
	info = parse_ok("san-trailing-dot.pem");
	assert_san(info, 0, CSR_SAN_DNS, "web.shop.svc.");
	csr_info_free(info);
}

Test(csr, san_dns_embedded_nul)
{
	static const char want[] = "web.shop.svc\0.evil.example";
	struct csr_info *info = parse_ok("san-dns-nul.pem");
	cr_assert_eq(info->n_sans, 1);
	cr_assert_eq(info->sans[0].type, CSR_SAN_DNS);
	cr_assert(info->sans[0].has_nul);
	cr_assert_eq(info->sans[0].value_len, sizeof(want) - 1);
	cr_assert_arr_eq(info->sans[0].value, want, sizeof(want) - 1);
	csr_info_free(info);
}

Test(csr, san_ip_addresses)
{
	static const struct {
		const char *file;
		const char *v4;
		const char *v6;
	} cases[] = {
	    {"san-ip-loopback.pem", "127.0.0.1", "::1"},
	    {"san-ip-unspecified.pem", "0.0.0.0", "::"},
	    {"san-ip-link-local.pem", "169.254.10.1", "fe80::1"},
	    {"san-ip-multicast.pem", "224.0.0.251", "ff02::fb"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct csr_info *info = parse_ok(cases[i].file);
		cr_assert_eq(info->n_sans, 2, "%s", cases[i].file);
		assert_san(info, 0, CSR_SAN_IP, cases[i].v4);
		cr_assert_eq(info->sans[0].ip_len, 4);
		assert_san(info, 1, CSR_SAN_IP, cases[i].v6);
		cr_assert_eq(info->sans[1].ip_len, 16);
		csr_info_free(info);
	}
}

Test(csr, san_ip_v4_mapped)
{
	static const unsigned char want[16] = {0, 0, 0,    0,    0,  0,   0, 0,
	                                       0, 0, 0xff, 0xff, 10, 244, 1, 7};
	struct csr_info *info = parse_ok("san-ip-v4mapped.pem");
	cr_assert_eq(info->n_sans, 1);
	cr_assert_eq(info->sans[0].ip_len, 16);
	cr_assert_arr_eq(info->sans[0].ip, want, 16);
	assert_san(info, 0, CSR_SAN_IP, "::ffff:10.244.1.7");
	csr_info_free(info);
}

Test(csr, san_ip_wrong_length)
{
	struct csr_info *info = parse_ok("san-ip-5bytes.pem");
	cr_assert_eq(info->n_sans, 1);
	cr_assert_eq(info->sans[0].type, CSR_SAN_IP);
	cr_assert_eq(info->sans[0].ip_len, 5);
	cr_assert_str_eq(info->sans[0].value, "invalid IP (5 bytes)");
	csr_info_free(info);
}

/* The count of SANs is the policy's to judge (maxSANs), not a decoding
 * failure, however many there are. */
Test(csr, san_count_reaches_the_policy)
{
	struct csr_info *info = parse_ok("san-1000.pem");
	size_t n_dns = 0, n_ip = 0, n_uri = 0;
	cr_assert_eq(info->n_sans, 1000);
	cr_assert_eq(info->n_subject, 0);
	assert_san(info, 0, CSR_SAN_URI, "spiffe://cluster.local/ns/shop/sa/web");
	assert_san(info, 1, CSR_SAN_DNS, "web.shop.svc.cluster.local");
	assert_san(info, 2, CSR_SAN_DNS, "10-244-1-7.shop.pod.cluster.local");
	assert_san(info, 3, CSR_SAN_IP, "10.244.1.7");
	assert_san(info, 4, CSR_SAN_DNS, "web.shop.svc");
	assert_san(info, 999, CSR_SAN_IP, "10.244.1.7");
	for (size_t i = 0; i < info->n_sans; i++) {
		n_dns += info->sans[i].type == CSR_SAN_DNS;
		n_ip += info->sans[i].type == CSR_SAN_IP;
		n_uri += info->sans[i].type == CSR_SAN_URI;
	}
	cr_assert_eq(n_uri, 1);
	cr_assert_eq(n_ip, 250);
	cr_assert_eq(n_dns, 749);
	csr_info_free(info);
}

Test(csr, san_count_up_to_the_size_limit)
{
	/* Two bytes per name, as many as a request under 64 KiB holds. */
	size_t len = 0;
	char *pem = read_fixture("san-max.pem", &len);
	free(pem);
	cr_assert_leq(len, CSR_MAX_PEM);
	cr_assert_geq(len, CSR_MAX_PEM - 1024, "san-max.pem is only %zu bytes", len);
	struct csr_info *info = parse_ok("san-max.pem");
	cr_assert_eq(info->n_sans, 23900);
	for (size_t i = 0; i < info->n_sans; i++) {
		cr_assert_eq(info->sans[i].type, CSR_SAN_DNS);
		cr_assert_eq(info->sans[i].value_len, 0);
	}
	csr_info_free(info);
}

Test(csr, hostile_requests_keep_their_san)
{
	static const char *files[] = {
	    "sig-wrong-key.pem",   "sig-sha1.pem",    "sig-md5.pem",
	    "key-rsa1024.pem",     "key-rsa-e3.pem",  "key-secp256k1.pem",
	    "key-ec-explicit.pem", "ext-unknown.pem", "key-ed448.pem",
	};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		struct csr_info *info = parse_ok(files[i]);
		if (strcmp(files[i], "ext-unknown.pem") != 0)
			assert_plain_san(info);
		csr_info_free(info);
	}
}

/* ---- structural failures ---- */

/* Parameters are copied into a worker process that may not share the
 * address layout: inline arrays, no pointers. */
struct failure {
	char file[48];
	char want[96];
};

static struct failure failures[] = {
    {"empty.pem", "empty request"},
    {"whitespace-only.pem", "empty request"},
    {"not-pem.txt", "not PEM"},
    {"pem-two-blocks.pem", "more than one PEM block"},
    {"pem-trailing-garbage.pem", "data after the PEM block"},
    {"pem-leading-text.pem", "data before the PEM block"},
    {"pem-new-header.pem", "PEM block \"NEW CERTIFICATE REQUEST\", want \"CERTIFICATE REQUEST\""},
    {"pem-certificate.pem", "PEM block \"CERTIFICATE\""},
    {"pem-proc-type.pem", "PEM headers are not allowed"},
    {"pem-bad-base64.pem", "invalid character in the PEM base64 body"},
    {"pem-missing-end.pem", "no \"-----END CERTIFICATE REQUEST-----\" line"},
    {"der-version2.pem", "request version 1, want 0"},
    {"der-long-form-length.pem", "not strict DER: DER: non-minimal length at offset 0"},
    {"der-trailing-bytes.pem", "not strict DER: DER: 2 trailing bytes"},
    {"subj-invalid-utf8.pem", "does not decode"},
    {"ext-critical-false-explicit.pem", "critical FALSE"},
    {"ext-san-ber.pem", "extension 2.5.29.17 (subjectAltName): invalid encoding (DER: non-minimal"},
    {"ext-san-garbage.pem", "extension 2.5.29.17 (subjectAltName): invalid encoding"},
    {"key-rsa-int-padding.pem", "inside the RSA public key"},
    {"key-rsa-no-params.pem", "not strict DER: the public key re-encodes differently"},
    {"key-rsa-trailing-data.pem", "inside the RSA public key"},
    {"subj-empty-rdn.pem", "not strict DER: DER: empty RDN in the subject at offset"},
    {"attr-extreq-two-values.pem", "attribute extensionRequest holds 2 values, want 1"},
};

ParameterizedTestParameters(csr, structural)
{
	return cr_make_param_array(struct failure, failures,
	                           sizeof(failures) / sizeof(failures[0]));
}

ParameterizedTest(struct failure *f, csr, structural)
{
	parse_fails(f->file, f->want);
}

Test(csr, strict_der_inside_the_key)
{
	/* OpenSSL loads each of these keys and verifies the signature: only the
	 * decoder's own checks refuse them. */
	parse_fails("key-rsa-int-padding.pem",
	            "not strict DER: DER: non-minimal INTEGER at offset");
	parse_fails("key-rsa-trailing-data.pem", "DER: 2 trailing bytes after the value at offset");
}

/* ---- every fixture: no crash, valid JSON, nothing left behind ---- */

Test(csr, every_fixture_gives_valid_json)
{
	char dirpath[512];
	DIR *d;
	struct dirent *e;
	size_t parsed = 0, failed = 0;

	snprintf(dirpath, sizeof(dirpath), "%s/csr", TESTDATA_DIR);
	d = opendir(dirpath);
	cr_assert_not_null(d, "%s", dirpath);
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		size_t len = 0;
		char *pem = read_fixture(e->d_name, &len);
		struct csr_info *info = NULL;
		char err[256] = "";
		if (csr_parse(pem, len, &info, err, sizeof(err)) != 0) {
			cr_assert_null(info);
			cr_assert_neq(err[0], '\0', "%s: failure without a message", e->d_name);
			failed++;
			free(pem);
			continue;
		}
		parsed++;
		char *js = csr_info_to_json(info);
		json_error_t jerr;
		json_t *root = json_loads(js, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
		cr_assert_not_null(root, "%s: invalid JSON (%s): %s", e->d_name, jerr.text, js);
		cr_assert(strchr(js, '\n') == NULL, "%s: JSON is not one line", e->d_name);
		cr_assert_eq(json_array_size(json_object_get(root, "sans")), info->n_sans);
		cr_assert_eq(json_array_size(json_object_get(root, "subject")), info->n_subject);
		cr_assert_eq(json_array_size(json_object_get(root, "extensions")), info->n_exts);
		cr_assert_eq(json_array_size(json_object_get(root, "attributes")), info->n_attrs);
		cr_assert(json_is_boolean(
		    json_object_get(json_object_get(root, "signature"), "verified")));
		json_decref(root);
		free(js);
		csr_info_free(info);
		free(pem);
	}
	closedir(d);
	cr_assert_geq(parsed, 50);
	cr_assert_geq(failed, 20);
}

/* ---- JSON ---- */

Test(csr, json_good_ec_p256)
{
	struct csr_info *info = parse_ok("good-ec-p256.pem");
	char *js = csr_info_to_json(info);
	static const char *want[] = {
	    "{\"version\":0,",
	    "\"subject\":[{\"type\":\"CN\",\"oid\":\"2.5.4.3\",\"stringType\":\"UTF8String\","
	    "\"value\":\"10-244-1-7.shop.pod.cluster.local\"}]",
	    "\"publicKey\":{\"type\":\"EC\",\"algorithmOid\":\"1.2.840.10045.2.1\",\"bits\":256,"
	    "\"curve\":\"prime256v1\",\"namedCurve\":true}",
	    "\"signature\":{\"algorithm\":\"ecdsa-with-SHA256\",\"oid\":\"1.2.840.10045.4.3.2\","
	    "\"scheme\":\"ECDSA\",\"hash\":\"SHA-256\",\"paramsOk\":true,\"verified\":true,"
	    "\"matchesKey\":true}",
	    "\"attributes\":[{\"oid\":\"1.2.840.113549.1.9.14\",\"name\":\"extensionRequest\"}]",
	    "{\"oid\":\"2.5.29.15\",\"name\":\"keyUsage\",\"critical\":true}",
	    "\"sans\":[{\"type\":\"URI\",\"value\":\"spiffe://cluster.local/ns/shop/sa/web\"},"
	    "{\"type\":\"DNS\",\"value\":\"10-244-1-7.shop.pod.cluster.local\"},"
	    "{\"type\":\"IP\",\"value\":\"10.244.1.7\"}]",
	    "\"keyUsage\":[\"digitalSignature\"]",
	    "\"extKeyUsage\":[\"serverAuth\",\"clientAuth\"]",
	    "\"basicConstraints\":{\"ca\":false}}",
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		cr_assert(strstr(js, want[i]) != NULL, "missing %s in %s", want[i], js);
	free(js);
	csr_info_free(info);
}

Test(csr, json_escapes_request_strings)
{
	struct csr_info *info = parse_ok("san-dns-nul.pem");
	char *js = csr_info_to_json(info);
	cr_assert(strstr(js, "\"value\":\"web.shop.svc\\u0000.evil.example\"") != NULL, "%s", js);
	free(js);
	csr_info_free(info);

	info = parse_ok("subj-control-cn.pem");
	js = csr_info_to_json(info);
	cr_assert(strstr(js, "\"value\":\"web\\u0007.shop.svc\",\"hasControl\":true") != NULL, "%s",
	          js);
	free(js);
	csr_info_free(info);
}

Test(csr, json_decodes_string_types)
{
	struct csr_info *info = parse_ok("subj-bmp-cn.pem");
	char *js = csr_info_to_json(info);
	cr_assert(strstr(js, "\"stringType\":\"BMPString\",\"value\":\"web\"") != NULL, "%s", js);
	free(js);
	csr_info_free(info);

	info = parse_ok("subj-t61-cn.pem");
	js = csr_info_to_json(info);
	cr_assert(strstr(js, "\"stringType\":\"T61String\",\"value\":\"caf\xc3\xa9\"") != NULL,
	          "%s", js);
	free(js);
	csr_info_free(info);
}

Test(csr, json_absent_parts)
{
	struct csr_info *info = parse_ok("good-rsa3072.pem");
	char *js = csr_info_to_json(info);
	cr_assert(strstr(js, "\"exponent\":\"65537\"") != NULL, "%s", js);
	cr_assert(strstr(js,
	                 "\"attributes\":[],\"extensions\":[],\"sans\":[],\"keyUsage\":null,"
	                 "\"extKeyUsage\":null,\"basicConstraints\":null}") != NULL,
	          "%s", js);
	free(js);
	csr_info_free(info);

	info = parse_ok("key-ec-explicit.pem");
	js = csr_info_to_json(info);
	cr_assert(strstr(js, "\"curve\":null,\"namedCurve\":false") != NULL, "%s", js);
	free(js);
	csr_info_free(info);

	js = csr_info_to_json(NULL);
	cr_assert_str_eq(js, "null");
	free(js);
}

/* ---- arguments and limits ---- */

Test(csr, null_and_empty_input)
{
	struct csr_info *info = (struct csr_info *)1;
	char err[128];
	cr_assert_eq(csr_parse(NULL, 10, &info, err, sizeof(err)), -1);
	cr_assert_null(info);
	cr_assert_str_eq(err, "empty request");
	info = (struct csr_info *)1;
	cr_assert_eq(csr_parse("", 0, &info, err, sizeof(err)), -1);
	cr_assert_null(info);
	cr_assert_eq(csr_parse("x", 1, NULL, err, sizeof(err)), -1);
	cr_assert(strstr(err, "internal error") != NULL);
	/* No room for a message is not a crash. */
	cr_assert_eq(csr_parse("x", 1, &info, NULL, 0), -1);
	cr_assert_eq(csr_parse("x", 1, &info, err, 1), -1);
	cr_assert_str_eq(err, "");
	csr_info_free(NULL);
}

Test(csr, over_size_input)
{
	size_t len = 0;
	char *pem = read_fixture("good-ec-p256.pem", &len);
	char *big = util_xmalloc(CSR_MAX_PEM + 1);
	struct csr_info *info = NULL;
	char err[128];

	/* Padded with whitespace to exactly the limit: accepted. */
	memset(big, ' ', CSR_MAX_PEM + 1);
	memcpy(big, pem, len);
	cr_assert_eq(csr_parse(big, CSR_MAX_PEM, &info, err, sizeof(err)), 0, "%s", err);
	csr_info_free(info);
	info = NULL;
	/* One byte more: refused before any decoding. */
	cr_assert_eq(csr_parse(big, CSR_MAX_PEM + 1, &info, err, sizeof(err)), -1);
	cr_assert_null(info);
	cr_assert_str_eq(err, "request is 65537 bytes, more than the limit of 65536");
	free(big);
	free(pem);
}

Test(csr, input_need_not_be_terminated)
{
	size_t len = 0;
	char *pem = read_fixture("good-ed25519.pem", &len);
	char *copy = util_xmalloc(len + 8);
	struct csr_info *info = NULL;
	char err[128];
	memcpy(copy, pem, len);
	memcpy(copy + len, "garbage!", 8);
	cr_assert_eq(csr_parse(copy, len, &info, err, sizeof(err)), 0, "%s", err);
	csr_info_free(info);
	free(copy);
	free(pem);
}

/* ---- PEM framing on hand-made input ---- */

static void pem_case(const char *pem, const char *want)
{
	struct csr_info *info = NULL;
	char err[256] = "";
	int rc = csr_parse(pem, strlen(pem), &info, err, sizeof(err));
	cr_assert_eq(rc, -1, "parsed: %s", pem);
	cr_assert(strstr(err, want) != NULL, "error \"%s\", want \"%s\"", err, want);
}

Test(csr, pem_framing)
{
	pem_case("-----BEGIN CERTIFICATE REQUEST-----\n-----END CERTIFICATE REQUEST-----\n",
	         "empty PEM block");
	pem_case("-----BEGIN CERTIFICATE REQUEST-----\nMA==\n-----END CERTIFICATE REQUEST-----",
	         "DER: truncated");
	/* Non-zero bits under the padding. */
	pem_case("-----BEGIN CERTIFICATE REQUEST-----\nMAB=\n-----END CERTIFICATE REQUEST-----",
	         "invalid base64");
	pem_case("-----BEGIN CERTIFICATE REQUEST-----\nMA==MAA=\n-----END CERTIFICATE REQUEST-----",
	         "invalid base64");
	pem_case("-----BEGIN CERTIFICATE REQUEST-----\nMAA\n-----END CERTIFICATE REQUEST-----",
	         "invalid base64");
	pem_case("-----BEGIN CERTIFICATE REQUEST-----MAA=\n-----END CERTIFICATE REQUEST-----",
	         "malformed PEM BEGIN line");
	pem_case("-----BEGIN CERTIFICATE REQUEST\nMAA=\n", "malformed PEM BEGIN line");
	pem_case("-----BEGIN \x01\x02-----\nMAA=\n-----END \x01\x02-----\n",
	         "PEM block of an unexpected type");
	pem_case("-----BEGIN CERTIFICATE REQUEST-----\nMAA=\n-----END CERTIFICATE-----\n",
	         "END line does not match");
	pem_case("-----BEGIN CERTIFICATE REQUEST-----\nMAA=\n-----BEGIN CERTIFICATE REQUEST-----\n",
	         "PEM BEGIN line inside the block");
	pem_case("-----BEGIN CERTIFICATE REQUEST-----\nMAA=\n-----END CERTIFICATE REQUEST-----\n"
	         "-----BEGIN X-----\n",
	         "more than one PEM block");
	/* Valid framing and base64, but not a request. */
	pem_case("-----BEGIN CERTIFICATE REQUEST-----\nMAA=\n-----END CERTIFICATE REQUEST-----",
	         "does not decode as a PKCS#10");
}

Test(csr, pem_embedded_nul)
{
	static const char pem[] = "-----BEGIN CERTIFICATE REQUEST-----\nMA\0A=\n"
	                          "-----END CERTIFICATE REQUEST-----\n";
	struct csr_info *info = NULL;
	char err[256] = "";
	cr_assert_eq(csr_parse(pem, sizeof(pem) - 1, &info, err, sizeof(err)), -1);
	cr_assert_str_eq(err, "invalid character in the PEM base64 body");
}

/* ---- the strict DER checker ---- */

struct der_case {
	char name[40];
	unsigned char bytes[24];
	size_t len;
	char want[40]; /* "": accepted */
};

static struct der_case der_cases[] = {
    {"empty sequence", {0x30, 0x00}, 2, ""},
    {"nested", {0x30, 0x05, 0x02, 0x01, 0x05, 0x05, 0x00}, 7, ""},
    {"sorted set", {0x31, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02}, 8, ""},
    {"equal set elements", {0x31, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01}, 8, ""},
    {"unsorted set", {0x31, 0x06, 0x02, 0x01, 0x02, 0x02, 0x01, 0x01}, 8, "out of order"},
    {"indefinite length", {0x30, 0x80, 0x00, 0x00}, 4, "indefinite length"},
    {"long form for short", {0x30, 0x81, 0x00}, 3, "non-minimal length"},
    {"leading zero length", {0x30, 0x82, 0x00, 0x80}, 4, "non-minimal length"},
    {"length too large", {0x30, 0x85, 1, 0, 0, 0, 0}, 7, "length too large"},
    {"past the end", {0x30, 0x05, 0x05, 0x00}, 4, "runs past the end"},
    {"trailing", {0x05, 0x00, 0x05, 0x00}, 4, "2 trailing bytes"},
    {"truncated", {0x30}, 1, "truncated"},
    {"high tag form for low tag", {0x1f, 0x05, 0x00}, 3, "non-minimal tag"},
    {"high tag padded", {0x9f, 0x80, 0x21, 0x00}, 4, "non-minimal tag"},
    {"high tag ok", {0x9f, 0x21, 0x00}, 3, ""},
    {"boolean true", {0x01, 0x01, 0xff}, 3, ""},
    {"boolean 0x01", {0x01, 0x01, 0x01}, 3, "invalid BOOLEAN"},
    {"integer padded", {0x02, 0x02, 0x00, 0x05}, 4, "non-minimal INTEGER"},
    {"integer negative padded", {0x02, 0x02, 0xff, 0x80}, 4, "non-minimal INTEGER"},
    {"integer 128", {0x02, 0x02, 0x00, 0x80}, 4, ""},
    {"integer empty", {0x02, 0x00}, 2, "non-minimal INTEGER"},
    {"bit string unused set", {0x03, 0x02, 0x01, 0x01}, 4, "invalid BIT STRING"},
    {"bit string unused 8", {0x03, 0x02, 0x08, 0x00}, 4, "invalid BIT STRING"},
    {"bit string empty with unused", {0x03, 0x01, 0x01}, 3, "invalid BIT STRING"},
    {"bit string ok", {0x03, 0x02, 0x07, 0x80}, 4, ""},
    {"null with content", {0x05, 0x01, 0x00}, 3, "NULL with contents"},
    {"oid padded", {0x06, 0x02, 0x80, 0x01}, 4, "non-minimal OBJECT IDENTIFIER"},
    {"oid unterminated", {0x06, 0x01, 0x81}, 3, "invalid OBJECT IDENTIFIER"},
    {"oid ok", {0x06, 0x03, 0x55, 0x1d, 0x11}, 5, ""},
    {"constructed octet string", {0x24, 0x03, 0x04, 0x01, 0x00}, 5, "constructed string"},
    {"primitive sequence", {0x10, 0x00}, 2, "primitive SEQUENCE"},
    {"end of contents", {0x30, 0x02, 0x00, 0x00}, 4, "end-of-contents"},
    {"implicit tags pass", {0xa0, 0x03, 0x80, 0x01, 0x00}, 5, ""},
};

ParameterizedTestParameters(csr, der_checker)
{
	return cr_make_param_array(struct der_case, der_cases,
	                           sizeof(der_cases) / sizeof(der_cases[0]));
}

ParameterizedTest(struct der_case *c, csr, der_checker)
{
	char err[200] = "";
	int rc = csr_der_check(c->bytes, c->len, err, sizeof(err));
	if (c->want[0] == '\0') {
		cr_assert_eq(rc, 0, "%s: %s", c->name, err);
	} else {
		cr_assert_eq(rc, -1, "%s: accepted", c->name);
		cr_assert(strstr(err, c->want) != NULL, "%s: \"%s\", want \"%s\"", c->name, err,
		          c->want);
	}
}

/* ---- the checks inside a request: the subject Name and the key ---- */

/* A subject Name and a SubjectPublicKeyInfo, each a whole TLV of short
 * form, put into a request by parts_request(). */
struct parts_case {
	char name[40];
	unsigned char subject[16];
	size_t subject_len;
	unsigned char spki[40];
	size_t spki_len;
	char want[72]; /* "": accepted */
};

#define NAME_EMPTY {0x30, 0x00}, 2
#define ALG_RSA                                                                                    \
	0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00
#define ALG_PSS 0x30, 0x0b, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a
#define ALG_DSA 0x30, 0x09, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x38, 0x04, 0x01
#define ALG_OTHER 0x30, 0x03, 0x06, 0x01, 0x2a

static struct parts_case parts_cases[] = {
    {"rsa",
     NAME_EMPTY,
     {0x30, 0x1a, ALG_RSA, 0x03, 0x09, 0x00, 0x30, 0x06, 0x02, 0x01, 0x05, 0x02, 0x01, 0x03},
     28,
     ""},
    {"rsa padded modulus",
     NAME_EMPTY,
     {0x30, 0x1b, ALG_RSA, 0x03, 0x0a, 0x00, 0x30, 0x07, 0x02, 0x02, 0x00, 0x05, 0x02, 0x01, 0x03},
     29,
     "DER: non-minimal INTEGER at offset 31 inside the RSA public key"},
    {"rsa negative modulus",
     NAME_EMPTY,
     {0x30, 0x1a, ALG_RSA, 0x03, 0x09, 0x00, 0x30, 0x06, 0x02, 0x01, 0x85, 0x02, 0x01, 0x03},
     28,
     "the RSA public key has a modulus that is not positive"},
    {"rsa zero exponent",
     NAME_EMPTY,
     {0x30, 0x1a, ALG_RSA, 0x03, 0x09, 0x00, 0x30, 0x06, 0x02, 0x01, 0x05, 0x02, 0x01, 0x00},
     28,
     "the RSA public key has a public exponent that is not positive"},
    {"rsa three integers",
     NAME_EMPTY,
     {0x30, 0x1d, ALG_RSA, 0x03, 0x0c, 0x00, 0x30, 0x09, 0x02, 0x01, 0x05, 0x02, 0x01, 0x03, 0x02,
      0x01, 0x01},
     31,
     "not a SEQUENCE of modulus and exponent"},
    {"rsa bare integer",
     NAME_EMPTY,
     {0x30, 0x15, ALG_RSA, 0x03, 0x04, 0x00, 0x02, 0x01, 0x05},
     23,
     "not a SEQUENCE of modulus and exponent"},
    {"rsa trailing bytes",
     NAME_EMPTY,
     {0x30, 0x1c, ALG_RSA, 0x03, 0x0b, 0x00, 0x30, 0x06, 0x02, 0x01, 0x05, 0x02, 0x01, 0x03, 0x00,
      0x00},
     30,
     "2 trailing bytes after the value at offset 29 inside the RSA public key"},
    {"rsa long-form length",
     NAME_EMPTY,
     {0x30, 0x1b, ALG_RSA, 0x03, 0x0a, 0x00, 0x30, 0x81, 0x06, 0x02, 0x01, 0x05, 0x02, 0x01, 0x03},
     29,
     "non-minimal length at offset 29 inside the RSA public key"},
    {"rsa-pss padded modulus",
     NAME_EMPTY,
     {0x30, 0x19, ALG_PSS, 0x03, 0x0a, 0x00, 0x30, 0x07, 0x02, 0x02, 0x00, 0x05, 0x02, 0x01, 0x03},
     27,
     "non-minimal INTEGER at offset 29 inside the RSA public key"},
    {"dsa", NAME_EMPTY, {0x30, 0x11, ALG_DSA, 0x03, 0x04, 0x00, 0x02, 0x01, 0x05}, 19, ""},
    {"dsa negative",
     NAME_EMPTY,
     {0x30, 0x11, ALG_DSA, 0x03, 0x04, 0x00, 0x02, 0x01, 0x85},
     19,
     "the DSA public key is not a positive INTEGER"},
    {"dsa padded",
     NAME_EMPTY,
     {0x30, 0x12, ALG_DSA, 0x03, 0x05, 0x00, 0x02, 0x02, 0x00, 0x05},
     20,
     "non-minimal INTEGER at offset 25 inside the DSA public key"},
    {"other key: octets not entered",
     NAME_EMPTY,
     {0x30, 0x09, ALG_OTHER, 0x03, 0x02, 0x00, 0x81},
     11,
     ""},
    {"unused bits",
     NAME_EMPTY,
     {0x30, 0x09, ALG_OTHER, 0x03, 0x02, 0x01, 0x00},
     11,
     "the public key BIT STRING at offset 16 has 1 unused bits"},
    {"nothing after the key",
     NAME_EMPTY,
     {0x30, 0x0b, ALG_OTHER, 0x03, 0x02, 0x00, 0x01, 0x05, 0x00},
     13,
     "DER does not decode as a PKCS#10 certificate request"},
    {"no algorithm OID",
     NAME_EMPTY,
     {0x30, 0x06, 0x30, 0x00, 0x03, 0x02, 0x00, 0x01},
     8,
     "DER does not decode as a PKCS#10 certificate request"},
    {"one RDN",
     {0x30, 0x0b, 0x31, 0x09, 0x30, 0x07, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x00},
     13,
     {0x30, 0x09, ALG_OTHER, 0x03, 0x02, 0x00, 0x01},
     11,
     ""},
    {"empty RDN",
     {0x30, 0x02, 0x31, 0x00},
     4,
     {0x30, 0x09, ALG_OTHER, 0x03, 0x02, 0x00, 0x01},
     11,
     "DER: empty RDN in the subject at offset 9"},
    {"empty RDN after a good one",
     {0x30, 0x0d, 0x31, 0x09, 0x30, 0x07, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x00, 0x31, 0x00},
     15,
     {0x30, 0x09, ALG_OTHER, 0x03, 0x02, 0x00, 0x01},
     11,
     "DER: empty RDN in the subject at offset 20"},
    {"RDN not a SET",
     {0x30, 0x02, 0x30, 0x00},
     4,
     {0x30, 0x09, ALG_OTHER, 0x03, 0x02, 0x00, 0x01},
     11,
     "DER does not decode as a PKCS#10 certificate request"},
};

/* CertificationRequest { { version 0, subject, spki, [0] {} }, alg, sig }:
 * every length below 128, so the headers are two bytes each. */
static size_t parts_request(const struct parts_case *c, unsigned char *out)
{
	static const unsigned char tail[] = {0x30, 0x03, 0x06, 0x01, 0x2a, 0x03, 0x01, 0x00};
	size_t tbs = 3 + c->subject_len + c->spki_len + 2, n = 0;
	out[n++] = 0x30;
	out[n++] = (unsigned char)(2 + tbs + sizeof(tail));
	out[n++] = 0x30;
	out[n++] = (unsigned char)tbs;
	memcpy(out + n, "\x02\x01\x00", 3);
	n += 3;
	memcpy(out + n, c->subject, c->subject_len);
	n += c->subject_len;
	memcpy(out + n, c->spki, c->spki_len);
	n += c->spki_len;
	memcpy(out + n, "\xa0\x00", 2);
	n += 2;
	memcpy(out + n, tail, sizeof(tail));
	return n + sizeof(tail);
}

ParameterizedTestParameters(csr, der_request_parts)
{
	return cr_make_param_array(struct parts_case, parts_cases,
	                           sizeof(parts_cases) / sizeof(parts_cases[0]));
}

ParameterizedTest(struct parts_case *c, csr, der_request_parts)
{
	unsigned char buf[128];
	char err[200] = "";
	struct csr_der_parts parts;
	size_t n = parts_request(c, buf);

	cr_assert_eq(csr_der_check(buf, n, err, sizeof(err)), 0, "%s: not DER: %s", c->name, err);
	int rc = csr_der_request_parts(buf, n, &parts, err, sizeof(err));
	if (c->want[0] != '\0') {
		cr_assert_eq(rc, -1, "%s: accepted", c->name);
		cr_assert(strstr(err, c->want) != NULL, "%s: \"%s\", want \"%s\"", c->name, err,
		          c->want);
		cr_assert(parts.name == NULL && parts.spki == NULL && parts.key_oid == NULL,
		          "%s: parts left set on failure", c->name);
		return;
	}
	cr_assert_eq(rc, 0, "%s: %s", c->name, err);
	cr_assert_eq(parts.name, buf + 7, "%s", c->name);
	cr_assert_eq(parts.name_len, c->subject_len);
	cr_assert_eq(parts.spki, buf + 7 + c->subject_len);
	cr_assert_eq(parts.spki_len, c->spki_len);
	cr_assert_eq(parts.key_oid, parts.spki + 6, "%s", c->name);
}

Test(csr, der_request_parts_of_other_values)
{
	static const unsigned char integer[] = {0x02, 0x01, 0x00};
	static const unsigned char empty[] = {0x30, 0x00};
	static const unsigned char no_tbs[] = {0x30, 0x02, 0x05, 0x00};
	struct csr_der_parts parts;
	char err[200];
	cr_assert_eq(csr_der_request_parts(integer, sizeof(integer), &parts, err, sizeof(err)), -1);
	cr_assert_str_eq(err, "DER does not decode as a PKCS#10 certificate request");
	cr_assert_null(parts.spki);
	cr_assert_eq(csr_der_request_parts(empty, sizeof(empty), &parts, err, sizeof(err)), -1);
	cr_assert_eq(csr_der_request_parts(no_tbs, sizeof(no_tbs), &parts, err, sizeof(err)), -1);
}

Test(csr, der_checker_depth)
{
	/* 40 nested SEQUENCEs: 30 4e 30 4c ... 30 00 */
	unsigned char buf[80];
	char err[200];
	for (int i = 0; i < 40; i++) {
		buf[2 * i] = 0x30;
		buf[2 * i + 1] = (unsigned char)(78 - 2 * i);
	}
	cr_assert_eq(csr_der_check(buf, 80, err, sizeof(err)), -1);
	cr_assert(strstr(err, "nested deeper than 32") != NULL, "%s", err);
	/* 32 deep is fine. */
	cr_assert_eq(csr_der_check(buf + 16, 64, err, sizeof(err)), 0, "%s", err);
}

/* ---- strings ---- */

Test(csr, string_decoding)
{
	struct util_buf b = {0};
	struct csr_str_scan s;

	csr_str_decode(CSR_STR_UTF8, (const unsigned char *)"a\xc2\x85z", 4, &b, &s);
	cr_assert(s.has_control && !s.bad_encoding && !s.has_nul, "C1 control U+0085");
	util_buf_reset(&b);
	csr_str_decode(CSR_STR_UTF8, (const unsigned char *)"\xc0\xaf", 2, &b, &s);
	cr_assert(s.bad_encoding, "overlong");
	cr_assert_str_eq(util_buf_str(&b), "\xef\xbf\xbd\xef\xbf\xbd");
	util_buf_reset(&b);
	csr_str_decode(CSR_STR_UTF8, (const unsigned char *)"\xed\xa0\x80", 3, NULL, &s);
	cr_assert(s.bad_encoding, "surrogate");
	csr_str_decode(CSR_STR_UTF8, (const unsigned char *)"x\x7f", 2, NULL, &s);
	cr_assert(s.has_control && !s.bad_encoding, "DEL");
	csr_str_decode(CSR_STR_BMP, (const unsigned char *)"\0a\0", 3, &b, &s);
	cr_assert(s.bad_encoding, "odd BMPString");
	util_buf_reset(&b);
	csr_str_decode(CSR_STR_BMP, (const unsigned char *)"\xd8\x00", 2, NULL, &s);
	cr_assert(s.bad_encoding, "BMP surrogate");
	csr_str_decode(CSR_STR_BMP, (const unsigned char *)"\0\0", 2, NULL, &s);
	cr_assert(s.has_nul && !s.bad_encoding, "BMP NUL");
	csr_str_decode(CSR_STR_UNIVERSAL, (const unsigned char *)"\0\0\0a\0\x01\xf6\x00", 8, &b,
	               &s);
	cr_assert(!s.bad_encoding);
	cr_assert_str_eq(util_buf_str(&b), "a\xf0\x9f\x98\x80");
	util_buf_reset(&b);
	csr_str_decode(CSR_STR_UNIVERSAL, (const unsigned char *)"\0\x11\0\0", 4, NULL, &s);
	cr_assert(s.bad_encoding, "beyond U+10FFFF");
	csr_str_decode(CSR_STR_IA5, (const unsigned char *)"a\x80", 2, NULL, &s);
	cr_assert(s.bad_encoding && s.has_control);
	csr_str_decode(CSR_STR_NUMERIC, (const unsigned char *)"12 3a", 5, NULL, &s);
	cr_assert(s.bad_encoding);
	csr_str_decode(CSR_STR_VISIBLE, (const unsigned char *)"a b", 3, NULL, &s);
	cr_assert(!s.bad_encoding);
	csr_str_decode(CSR_STR_PRINTABLE, (const unsigned char *)"Web-1 (x):=?/+,.'", 17, NULL, &s);
	cr_assert(!s.bad_encoding);
	csr_str_decode(CSR_STR_PRINTABLE, (const unsigned char *)"*.x", 3, NULL, &s);
	cr_assert(s.bad_encoding);
	csr_str_decode(CSR_STR_T61, (const unsigned char *)"\x9b", 1, NULL, &s);
	cr_assert(s.has_control && !s.bad_encoding, "T61 read as Latin-1: C1");
}

Test(csr, names)
{
	cr_assert_str_eq(csr_san_type_name(CSR_SAN_DNS), "DNS");
	cr_assert_str_eq(csr_san_type_name(CSR_SAN_EMAIL), "email");
	cr_assert_str_eq(csr_san_type_name(CSR_SAN_OTHERNAME), "otherName");
	cr_assert_str_eq(csr_san_type_name((enum csr_san_type)99), "unknown");
	cr_assert_str_eq(csr_str_type_name(CSR_STR_PRINTABLE), "PrintableString");
	cr_assert_str_eq(csr_str_type_name(CSR_STR_OTHER), "other");
	cr_assert_str_eq(csr_key_type_name(CSR_KEY_ED25519), "Ed25519");
	cr_assert_str_eq(csr_key_type_name(CSR_KEY_UNKNOWN), "unknown");
	cr_assert_str_eq(csr_hash_name(CSR_HASH_SHA1), "SHA-1");
	cr_assert_str_eq(csr_hash_name(CSR_HASH_NONE), "none");
	cr_assert_str_eq(csr_sig_scheme_name(CSR_SIG_RSA_PSS), "RSA-PSS");
	cr_assert_str_eq(csr_sig_scheme_name(CSR_SIG_UNKNOWN), "unknown");
}

/* ---- CertificateSigningRequest objects carry a request that decodes ---- */

static int b64_val(char c)
{
	const char *tab = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *p = c ? strchr(tab, c) : NULL;
	return p ? (int)(p - tab) : -1;
}

/* The base64 after key in text, decoded. */
static char *object_request(const char *text, const char *key, size_t *len)
{
	const char *p = strstr(text, key);
	struct util_buf b = {0};
	uint32_t acc = 0;
	int bits = 0;
	cr_assert_not_null(p, "no %s", key);
	for (p += strlen(key); b64_val(*p) >= 0; p++) {
		acc = acc << 6 | (uint32_t)b64_val(*p);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			util_buf_putc(&b, (char)(acc >> bits & 0xff));
		}
	}
	*len = b.len;
	return util_buf_take(&b);
}

Test(csr, csr_objects_carry_requests)
{
	static const char *names[] = {
	    "workload-good",          "workload-tampered", "workload-system-masters",
	    "workload-no-pod-claims", "workload-approved", "kubelet-serving",
	    "kubelet-client",         "other-signer",      "api-5c8-tls",
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		static const struct {
			const char *ext;
			const char *key;
		} forms[] = {{"yaml", "  request: "}, {"json", "\"request\": \""}};
		for (size_t k = 0; k < 2; k++) {
			char path[512];
			size_t tlen = 0, plen = 0;
			snprintf(path, sizeof(path), "%s/csrobj/%s.%s", TESTDATA_DIR, names[i],
			         forms[k].ext);
			char *text = read_path(path, &tlen);
			char *pem = object_request(text, forms[k].key, &plen);
			struct csr_info *info = NULL;
			char err[256];
			cr_assert_eq(csr_parse(pem, plen, &info, err, sizeof(err)), 0, "%s: %s",
			             path, err);
			cr_assert_eq(info->sig.verified, strcmp(names[i], "workload-tampered") != 0,
			             "%s", path);
			csr_info_free(info);
			free(pem);
			free(text);
		}
	}
}

/* ---- DER (a PodCertificateRequest's stub) ---- */

Test(csr, parse_der_same_as_pem)
{
	struct csr_info *pem_info = parse_ok("good-ec-p256.pem");
	struct csr_info *info = NULL;
	char err[256] = "";

	cr_assert_eq(csr_parse_der(pem_info->der, pem_info->der_len, &info, err, sizeof(err)), 0,
	             "%s", err);
	cr_assert_not_null(info);
	cr_expect_eq(info->der_len, pem_info->der_len);
	cr_expect(memcmp(info->der, pem_info->der, info->der_len) == 0);
	cr_expect_str_eq(info->key.ec_curve, "prime256v1");
	cr_expect(info->sig.verified);
	csr_info_free(info);

	/* One byte flipped in the signature: decodes, does not verify. */
	unsigned char *bad = malloc(pem_info->der_len);
	cr_assert_not_null(bad);
	memcpy(bad, pem_info->der, pem_info->der_len);
	bad[pem_info->der_len - 3] ^= 0x01;
	info = NULL;
	if (csr_parse_der(bad, pem_info->der_len, &info, err, sizeof(err)) == 0)
		cr_expect_not(info->sig.verified);
	csr_info_free(info);
	free(bad);
	csr_info_free(pem_info);
}

Test(csr, parse_der_refuses)
{
	struct csr_info *info = (struct csr_info *)1;
	char err[256] = "";
	static const unsigned char junk[] = {0x30, 0x03, 0x02, 0x01, 0x00};
	unsigned char *big;

	cr_expect_eq(csr_parse_der(NULL, 0, &info, err, sizeof(err)), -1);
	cr_expect_null(info);
	cr_expect_str_eq(err, "empty request");

	info = (struct csr_info *)1;
	cr_expect_eq(csr_parse_der(junk, sizeof(junk), &info, err, sizeof(err)), -1);
	cr_expect_null(info);
	cr_expect_neq(err[0], '\0');

	big = calloc(1, CSR_MAX_DER + 1);
	cr_assert_not_null(big);
	cr_expect_eq(csr_parse_der(big, CSR_MAX_DER + 1, &info, err, sizeof(err)), -1);
	cr_expect(strstr(err, "more than the limit") != NULL, "%s", err);
	free(big);
}
