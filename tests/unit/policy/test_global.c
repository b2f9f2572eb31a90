/*
 * The global hard rules (SPEC "Decision rules" 3), on the workload request:
 * structure, signature, key, extensions, SAN syntax, subject.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <string.h>

#include "fixture.h"

/* Table rows leave their trailing fields to the zero default. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#define APPROVE POLICY_APPROVE, POLICY_R_AUTO_APPROVED
#define DENY(r) POLICY_DENY, POLICY_R_##r

/* ---- structure ---- */

static void m_decode_error(struct pt *t)
{
	pt_drop_info(t, "not exactly one PEM CERTIFICATE REQUEST block");
}

static void m_decode_no_reason(struct pt *t)
{
	pt_drop_info(t, NULL);
}

static void m_version_2(struct pt *t)
{
	t->info->version = 1;
}

static void m_challenge_password(struct pt *t)
{
	pt_add_attr(t, "1.2.840.113549.1.9.7", "challengePassword", false);
}

static void m_two_ext_requests(struct pt *t)
{
	pt_add_attr(t, "1.2.840.113549.1.9.14", "extensionRequest", true);
}

static void m_other_attribute(struct pt *t)
{
	pt_add_attr(t, "1.2.840.113549.1.9.2", "unstructuredName", false);
}

static void m_ext_request_wrong_oid(struct pt *t)
{
	/* The Microsoft variant of the extension request is not modelled. */
	snprintf(t->info->attrs[0].oid, sizeof(t->info->attrs[0].oid), "1.3.6.1.4.1.311.2.1.14");
}

/* ---- signature ---- */

static void m_tampered(struct pt *t)
{
	t->info->sig.verified = false;
}

static void m_rsa(struct pt *t, int bits)
{
	t->info->key.type = CSR_KEY_RSA;
	t->info->key.bits = bits;
	t->info->key.rsa_e_65537 = true;
	snprintf(t->info->key.rsa_e, sizeof(t->info->key.rsa_e), "65537");
	t->info->key.ec_named_curve = false;
	t->info->key.ec_curve[0] = '\0';
	snprintf(t->info->key.alg_oid, sizeof(t->info->key.alg_oid), "1.2.840.113549.1.1.1");
	t->info->sig.scheme = CSR_SIG_RSA_PKCS1;
	t->info->sig.hash = CSR_HASH_SHA256;
	snprintf(t->info->sig.alg_name, sizeof(t->info->sig.alg_name), "sha256WithRSAEncryption");
	snprintf(t->info->sig.alg_oid, sizeof(t->info->sig.alg_oid), "1.2.840.113549.1.1.11");
}

static void m_rsa2048(struct pt *t)
{
	m_rsa(t, 2048);
}

static void m_sha1(struct pt *t)
{
	m_rsa(t, 2048);
	t->info->sig.hash = CSR_HASH_SHA1;
	snprintf(t->info->sig.alg_name, sizeof(t->info->sig.alg_name), "sha1WithRSAEncryption");
}

static void m_md5(struct pt *t)
{
	m_rsa(t, 2048);
	t->info->sig.hash = CSR_HASH_MD5;
	snprintf(t->info->sig.alg_name, sizeof(t->info->sig.alg_name), "md5WithRSAEncryption");
}

static void m_sha224(struct pt *t)
{
	t->info->sig.hash = CSR_HASH_SHA224;
}

static void m_sha384(struct pt *t)
{
	t->info->sig.hash = CSR_HASH_SHA384;
}

static void m_sha512_rsa(struct pt *t)
{
	m_rsa(t, 4096);
	t->info->sig.hash = CSR_HASH_SHA512;
}

static void m_hash_unknown(struct pt *t)
{
	t->info->sig.hash = CSR_HASH_UNKNOWN;
}

static void m_scheme_unknown(struct pt *t)
{
	t->info->sig.scheme = CSR_SIG_UNKNOWN;
	t->info->sig.hash = CSR_HASH_UNKNOWN;
	t->info->sig.matches_key = false;
	snprintf(t->info->sig.alg_name, sizeof(t->info->sig.alg_name), "1.2.3.4");
}

static void m_dsa(struct pt *t)
{
	t->info->key.type = CSR_KEY_DSA;
	t->info->key.bits = 2048;
	t->info->sig.scheme = CSR_SIG_DSA;
	snprintf(t->info->sig.alg_name, sizeof(t->info->sig.alg_name), "dsa_with_SHA256");
}

static void m_ed448(struct pt *t)
{
	t->info->key.type = CSR_KEY_ED448;
	t->info->sig.scheme = CSR_SIG_ED448;
	t->info->sig.hash = CSR_HASH_NONE;
	snprintf(t->info->sig.alg_name, sizeof(t->info->sig.alg_name), "ED448");
}

static void m_ed25519(struct pt *t)
{
	t->info->key.type = CSR_KEY_ED25519;
	t->info->key.bits = 256;
	t->info->sig.scheme = CSR_SIG_ED25519;
	t->info->sig.hash = CSR_HASH_NONE;
	snprintf(t->info->sig.alg_name, sizeof(t->info->sig.alg_name), "ED25519");
}

static void m_ed25519_with_hash(struct pt *t)
{
	m_ed25519(t);
	t->info->sig.hash = CSR_HASH_SHA512;
}

static void m_pss(struct pt *t)
{
	m_rsa(t, 3072);
	t->info->sig.scheme = CSR_SIG_RSA_PSS;
	t->info->sig.pss_params_ok = true;
	snprintf(t->info->sig.alg_name, sizeof(t->info->sig.alg_name), "RSASSA-PSS");
}

static void m_pss_bad_mgf(struct pt *t)
{
	m_pss(t);
	t->info->sig.pss_params_ok = false;
	t->info->sig.params_ok = false;
}

static void m_pss_key(struct pt *t)
{
	m_pss(t);
	t->info->key.type = CSR_KEY_RSA_PSS;
}

static void m_pss_key_pkcs1_sig(struct pt *t)
{
	m_pss_key(t);
	t->info->sig.scheme = CSR_SIG_RSA_PKCS1;
}

static void m_not_matching_key(struct pt *t)
{
	t->info->sig.matches_key = false;
}

static void m_ecdsa_sig_rsa_key(struct pt *t)
{
	/* matches_key claims a fit; the scheme table disagrees. */
	m_rsa(t, 2048);
	t->info->sig.scheme = CSR_SIG_ECDSA;
}

static void m_bad_params(struct pt *t)
{
	t->info->sig.params_ok = false;
}

/* ---- key ---- */

static void m_rsa1024(struct pt *t)
{
	m_rsa(t, 1024);
}

static void m_rsa2047(struct pt *t)
{
	m_rsa(t, 2047);
}

static void m_rsa3072(struct pt *t)
{
	m_rsa(t, 3072);
}

static void m_rsa4096(struct pt *t)
{
	m_rsa(t, 4096);
}

static void m_rsa8192(struct pt *t)
{
	m_rsa(t, 8192);
}

static void m_rsa16384(struct pt *t)
{
	m_rsa(t, 16384);
}

static void m_rsa_e3(struct pt *t)
{
	m_rsa(t, 2048);
	t->info->key.rsa_e_65537 = false;
	snprintf(t->info->key.rsa_e, sizeof(t->info->key.rsa_e), "3");
}

static void m_secp256k1(struct pt *t)
{
	snprintf(t->info->key.ec_curve, sizeof(t->info->key.ec_curve), "secp256k1");
}

static void m_explicit_curve(struct pt *t)
{
	t->info->key.ec_named_curve = false;
	t->info->key.ec_curve[0] = '\0';
}

static void m_p384(struct pt *t)
{
	snprintf(t->info->key.ec_curve, sizeof(t->info->key.ec_curve), "secp384r1");
	t->info->key.bits = 384;
	t->info->sig.hash = CSR_HASH_SHA384;
}

static void m_p521(struct pt *t)
{
	snprintf(t->info->key.ec_curve, sizeof(t->info->key.ec_curve), "secp521r1");
	t->info->key.bits = 521;
	t->info->sig.hash = CSR_HASH_SHA512;
}

static void m_p521_allowed(struct pt *t)
{
	m_p521(t);
	pt_rule(t)->keys |= POLICY_KEY_ECDSA_P521;
}

static void m_unknown_key(struct pt *t)
{
	t->info->key.type = CSR_KEY_UNKNOWN;
	snprintf(t->info->key.alg_oid, sizeof(t->info->key.alg_oid), "1.2.643.7.1.1.1.1");
	t->info->sig.matches_key = false;
}

static void m_keys_p256_only_ed25519(struct pt *t)
{
	m_ed25519(t);
	pt_rule(t)->keys = POLICY_KEY_ECDSA_P256;
}

static void m_keys_p256_only_rsa(struct pt *t)
{
	m_rsa(t, 2048);
	pt_rule(t)->keys = POLICY_KEY_ECDSA_P256;
}

static void m_keys_rsa_only_p256(struct pt *t)
{
	pt_rule(t)->keys = POLICY_KEY_RSA_2048 | POLICY_KEY_RSA_3072;
}

/* ---- extensions ---- */

static void m_ca_true(struct pt *t)
{
	t->info->basic_constraints_ca = true;
}

static void m_unknown_ext(struct pt *t)
{
	pt_add_ext(t, CSR_EXT_OTHER, "1.3.6.1.4.1.11129.2.4.2", "1.3.6.1.4.1.11129.2.4.2", false);
}

static void m_unknown_ext_critical(struct pt *t)
{
	pt_add_ext(t, CSR_EXT_OTHER, "2.5.29.30", "nameConstraints", true);
}

static void m_dup_san_ext(struct pt *t)
{
	pt_add_ext(t, CSR_EXT_SAN, "2.5.29.17", "subjectAltName", false);
}

static void m_dup_ku_ext(struct pt *t)
{
	pt_add_ext(t, CSR_EXT_KEY_USAGE, "2.5.29.15", "keyUsage", true);
}

static void m_dup_bc_ext(struct pt *t)
{
	pt_add_ext(t, CSR_EXT_BASIC_CONSTRAINTS, "2.5.29.19", "basicConstraints", true);
}

static void m_ku_cert_sign(struct pt *t)
{
	t->info->key_usage |= CSR_KU_KEY_CERT_SIGN | CSR_KU_CRL_SIGN;
}

static void m_ku_non_repudiation(struct pt *t)
{
	t->info->key_usage |= CSR_KU_NON_REPUDIATION;
}

static void m_ku_undefined(struct pt *t)
{
	t->info->key_usage |= CSR_KU_UNDEFINED;
}

static void m_ku_key_agreement(struct pt *t)
{
	t->info->key_usage = CSR_KU_DIGITAL_SIGNATURE | CSR_KU_KEY_AGREEMENT;
}

static void m_eku_code_signing(struct pt *t)
{
	pt_set_eku(t, "1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.3", NULL);
}

static void m_eku_any(struct pt *t)
{
	pt_set_eku(t, "2.5.29.37.0", NULL);
}

static void m_eku_client_only(struct pt *t)
{
	pt_set_eku(t, "1.3.6.1.5.5.7.3.2", NULL);
}

static void m_only_san_ext(struct pt *t)
{
	pt_clear_exts(t);
	pt_add_ext(t, CSR_EXT_SAN, "2.5.29.17", "subjectAltName", false);
}

/* ---- SAN syntax ---- */

static void m_san_othername(struct pt *t)
{
	pt_add_san(t, CSR_SAN_OTHERNAME, "UPN:admin@corp");
}

static void m_san_dirname(struct pt *t)
{
	pt_add_san(t, CSR_SAN_DIRNAME, "CN=admin");
}

static void m_san_email(struct pt *t)
{
	pt_add_san(t, CSR_SAN_EMAIL, "web@shop.example");
}

static void m_san_rid(struct pt *t)
{
	pt_add_san(t, CSR_SAN_RID, "1.2.3.4");
}

static void m_san_x400(struct pt *t)
{
	pt_add_san(t, CSR_SAN_X400, "x400");
}

static void m_dns(struct pt *t, const char *name)
{
	pt_add_san(t, CSR_SAN_DNS, name);
}

static void m_wildcard(struct pt *t)
{
	m_dns(t, "*.shop.svc");
}

static void m_trailing_dot(struct pt *t)
{
	m_dns(t, "web.shop.svc.");
}

static void m_empty_label(struct pt *t)
{
	m_dns(t, "web..svc");
}

static void m_leading_dot(struct pt *t)
{
	m_dns(t, ".web.shop.svc");
}

static void m_empty_dns(struct pt *t)
{
	m_dns(t, "");
}

static void m_dns_too_long(struct pt *t)
{
	char name[300];
	size_t n = 0;
	while (n + 10 < 270) {
		memcpy(name + n, "abcdefghi.", 10);
		n += 10;
	}
	memcpy(name + n, "svc", 4);
	m_dns(t, name);
}

static void m_dns_253(struct pt *t)
{
	/* Exactly 253 bytes is allowed by the syntax (then not a pod name). */
	char name[254];
	memset(name, 'a', 253);
	for (size_t i = 50; i < 253; i += 51)
		name[i] = '.';
	name[253] = '\0';
	m_dns(t, name);
}

static void m_long_label(struct pt *t)
{
	char name[80];
	memset(name, 'a', 64);
	memcpy(name + 64, ".shop.svc", 10);
	m_dns(t, name);
}

static void m_dns_nul(struct pt *t)
{
	pt_add_san_raw(t, CSR_SAN_DNS, "web.shop.svc\0.evil.com", 22);
}

static void m_dns_underscore(struct pt *t)
{
	m_dns(t, "_web.shop.svc");
}

static void m_dns_hyphen_start(struct pt *t)
{
	m_dns(t, "-web.shop.svc");
}

static void m_dns_space(struct pt *t)
{
	m_dns(t, "web shop.svc");
}

static void m_ip(struct pt *t, const char *ip)
{
	pt_add_san(t, CSR_SAN_IP, ip);
}

static void m_ip_loopback4(struct pt *t)
{
	m_ip(t, "127.0.0.1");
}

static void m_ip_loopback4_other(struct pt *t)
{
	m_ip(t, "127.8.9.10");
}

static void m_ip_loopback6(struct pt *t)
{
	m_ip(t, "::1");
}

static void m_ip_unspec4(struct pt *t)
{
	m_ip(t, "0.0.0.0");
}

static void m_ip_unspec6(struct pt *t)
{
	m_ip(t, "::");
}

static void m_ip_linklocal4(struct pt *t)
{
	m_ip(t, "169.254.169.254");
}

static void m_ip_linklocal6(struct pt *t)
{
	m_ip(t, "fe80::1");
}

static void m_ip_linklocal6_top(struct pt *t)
{
	m_ip(t, "febf::1");
}

static void m_ip_multicast4(struct pt *t)
{
	m_ip(t, "239.255.255.250");
}

static void m_ip_multicast6(struct pt *t)
{
	m_ip(t, "ff02::1");
}

static void m_ip_mapped(struct pt *t)
{
	m_ip(t, "::ffff:10.0.0.5");
}

static void m_ip_malformed(struct pt *t)
{
	static const unsigned char five[5] = {10, 0, 0, 5, 0};
	pt_add_ip_raw(t, five, 5);
}

static void m_uri_space(struct pt *t)
{
	pt_clear_sans(t);
	pt_add_san(t, CSR_SAN_URI, "spiffe://cluster.local/ns/shop/sa/web x");
	pt_add_san(t, CSR_SAN_DNS, "web.shop.svc");
}

static void m_uri_nul(struct pt *t)
{
	pt_clear_sans(t);
	pt_add_san_raw(t, CSR_SAN_URI, "spiffe://cluster.local/ns/shop/sa/web\0x", 39);
	pt_add_san(t, CSR_SAN_DNS, "web.shop.svc");
}

/* ---- subject ---- */

static void m_two_cn(struct pt *t)
{
	pt_add_subject(t, CSR_ATTR_CN, CSR_STR_UTF8, "web.shop.svc");
}

static void m_cn_bmp(struct pt *t)
{
	pt_cn(t)->str_type = CSR_STR_BMP;
}

static void m_cn_not_string(struct pt *t)
{
	pt_cn(t)->str_type = CSR_STR_OTHER;
}

static void m_cn_t61(struct pt *t)
{
	pt_cn(t)->str_type = CSR_STR_T61;
}

static void m_cn_ia5(struct pt *t)
{
	pt_cn(t)->str_type = CSR_STR_IA5;
}

static void m_cn_printable(struct pt *t)
{
	pt_cn(t)->str_type = CSR_STR_PRINTABLE;
}

static void m_cn_printable_at(struct pt *t)
{
	pt_clear_subject(t);
	pt_add_subject(t, CSR_ATTR_CN, CSR_STR_PRINTABLE, "web@shop.svc");
}

static void m_cn_control(struct pt *t)
{
	pt_clear_subject(t);
	pt_add_subject(t, CSR_ATTR_CN, CSR_STR_UTF8, "web.shop.svc\x07");
}

static void m_cn_control_flag(struct pt *t)
{
	pt_cn(t)->has_control = true;
}

static void m_cn_c1(struct pt *t)
{
	pt_clear_subject(t);
	pt_add_subject(t, CSR_ATTR_CN, CSR_STR_UTF8, "web\xc2\x85shop");
}

static void m_cn_nul(struct pt *t)
{
	pt_clear_subject(t);
	pt_add_subject_raw(t, CSR_ATTR_CN, "2.5.4.3", "CN", CSR_STR_UTF8, "web.shop.svc\0x", 14);
}

static void m_cn_bad_utf8(struct pt *t)
{
	pt_clear_subject(t);
	pt_add_subject(t, CSR_ATTR_CN, CSR_STR_UTF8, "web\xff.shop.svc");
}

static void m_cn_overlong_utf8(struct pt *t)
{
	pt_clear_subject(t);
	pt_add_subject(t, CSR_ATTR_CN, CSR_STR_UTF8, "web\xc0\xae.svc");
}

static void m_cn_bad_encoding(struct pt *t)
{
	pt_cn(t)->bad_encoding = true;
}

static void m_cn_utf8_ok(struct pt *t)
{
	/* Non-ASCII UTF-8 passes the global rules; the workload CN rule then
	 * fails it, as no DNS SAN can hold it. */
	pt_clear_subject(t);
	pt_add_subject(t, CSR_ATTR_CN, CSR_STR_UTF8,
	               "w\xc3\xa9"
	               "b");
}

static void m_ou(struct pt *t)
{
	pt_add_subject(t, CSR_ATTR_OTHER, CSR_STR_UTF8, "payments");
}

static void m_o_workload(struct pt *t)
{
	pt_add_subject(t, CSR_ATTR_O, CSR_STR_UTF8, "shop");
}

static void m_o_masters(struct pt *t)
{
	pt_add_subject(t, CSR_ATTR_O, CSR_STR_UTF8, "system:masters");
}

static void m_multi_rdn(struct pt *t)
{
	pt_cn(t)->multi_valued_rdn = true;
}

static void m_no_subject(struct pt *t)
{
	pt_clear_subject(t);
}

static const struct pt_case global_cases[] = {
    {"good workload request", PT_WORKLOAD, NULL, APPROVE,
     "csr-approver: policy workload-mtls: service account shop/web"},
    {"undecodable request", PT_WORKLOAD, m_decode_error, DENY(INVALID_REQUEST),
     "the request does not decode: not exactly one PEM CERTIFICATE REQUEST block"},
    {"undecodable request without a reason", PT_WORKLOAD, m_decode_no_reason, DENY(INVALID_REQUEST),
     "no reason given"},
    {"PKCS#10 version 2", PT_WORKLOAD, m_version_2, DENY(INVALID_REQUEST), "version field is 1"},
    {"challengePassword", PT_WORKLOAD, m_challenge_password, DENY(INVALID_REQUEST),
     "attribute challengePassword (1.2.840.113549.1.9.7) is not allowed"},
    {"two extensionRequests", PT_WORKLOAD, m_two_ext_requests, DENY(INVALID_REQUEST),
     "2 extensionRequest attributes (at most one)"},
    {"unstructuredName attribute", PT_WORKLOAD, m_other_attribute, DENY(INVALID_REQUEST),
     "attribute unstructuredName (1.2.840.113549.1.9.2) is not allowed"},
    {"Microsoft extension request", PT_WORKLOAD, m_ext_request_wrong_oid, DENY(INVALID_REQUEST),
     "1.3.6.1.4.1.311.2.1.14"},

    {"tampered signature", PT_WORKLOAD, m_tampered, DENY(SIGNATURE_INVALID), "does not verify"},
    {"RSA SHA-256", PT_WORKLOAD, m_rsa2048, APPROVE},
    {"SHA-1", PT_WORKLOAD, m_sha1, DENY(SIGNATURE_ALGORITHM_NOT_ALLOWED),
     "sha1WithRSAEncryption uses hash SHA-1"},
    {"MD5", PT_WORKLOAD, m_md5, DENY(SIGNATURE_ALGORITHM_NOT_ALLOWED), "hash MD5"},
    {"SHA-224", PT_WORKLOAD, m_sha224, DENY(SIGNATURE_ALGORITHM_NOT_ALLOWED), "SHA-224"},
    {"unknown hash", PT_WORKLOAD, m_hash_unknown, DENY(SIGNATURE_ALGORITHM_NOT_ALLOWED),
     "hash unknown"},
    {"ECDSA SHA-384", PT_WORKLOAD, m_sha384, APPROVE},
    {"RSA SHA-512", PT_WORKLOAD, m_sha512_rsa, APPROVE},
    {"unknown signature scheme", PT_WORKLOAD, m_scheme_unknown,
     DENY(SIGNATURE_ALGORITHM_NOT_ALLOWED), "signature algorithm 1.2.3.4 is not allowed"},
    {"DSA", PT_WORKLOAD, m_dsa, DENY(SIGNATURE_ALGORITHM_NOT_ALLOWED), "dsa_with_SHA256",
     "DSA key"},
    {"Ed448", PT_WORKLOAD, m_ed448, DENY(SIGNATURE_ALGORITHM_NOT_ALLOWED), "ED448", "Ed448 key"},
    {"Ed25519", PT_WORKLOAD, m_ed25519, APPROVE},
    {"Ed25519 with a hash", PT_WORKLOAD, m_ed25519_with_hash, DENY(SIGNATURE_ALGORITHM_NOT_ALLOWED),
     "separate SHA-512 hash"},
    {"RSA-PSS", PT_WORKLOAD, m_pss, APPROVE},
    {"RSA-PSS with a different MGF1 hash", PT_WORKLOAD, m_pss_bad_mgf,
     DENY(SIGNATURE_ALGORITHM_NOT_ALLOWED), "MGF1", NULL, NULL, "wrong form"},
    {"RSA-PSS key with PSS", PT_WORKLOAD, m_pss_key, APPROVE},
    {"RSA-PSS key with PKCS#1 v1.5", PT_WORKLOAD, m_pss_key_pkcs1_sig,
     DENY(SIGNATURE_ALGORITHM_NOT_ALLOWED), "does not match the RSA-PSS key"},
    {"algorithm not matching the key", PT_WORKLOAD, m_not_matching_key,
     DENY(SIGNATURE_ALGORITHM_NOT_ALLOWED), "does not match the EC key"},
    {"ECDSA signature, RSA key", PT_WORKLOAD, m_ecdsa_sig_rsa_key,
     DENY(SIGNATURE_ALGORITHM_NOT_ALLOWED), "does not match the RSA key"},
    {"malformed algorithm parameters", PT_WORKLOAD, m_bad_params,
     DENY(SIGNATURE_ALGORITHM_NOT_ALLOWED), "parameters of the wrong form"},

    {"RSA-1024", PT_WORKLOAD, m_rsa1024, DENY(KEY_NOT_ALLOWED), "RSA 1024-bit key",
     "(allowed: ecdsa-p256, ecdsa-p384, ed25519, rsa-2048, rsa-3072, rsa-4096)"},
    {"RSA-2047", PT_WORKLOAD, m_rsa2047, DENY(KEY_NOT_ALLOWED), "RSA 2047-bit key"},
    {"RSA-3072", PT_WORKLOAD, m_rsa3072, APPROVE},
    {"RSA-4096", PT_WORKLOAD, m_rsa4096, APPROVE},
    {"RSA-8192 outside keys", PT_WORKLOAD, m_rsa8192, DENY(KEY_NOT_ALLOWED),
     "RSA 8192-bit key is not allowed"},
    {"RSA-16384", PT_WORKLOAD, m_rsa16384, DENY(KEY_NOT_ALLOWED), "larger than 8192"},
    {"RSA e=3", PT_WORKLOAD, m_rsa_e3, DENY(KEY_NOT_ALLOWED),
     "RSA public exponent 3 is not allowed"},
    {"secp256k1", PT_WORKLOAD, m_secp256k1, DENY(KEY_NOT_ALLOWED),
     "EC curve \"secp256k1\" is not allowed"},
    {"explicit curve parameters", PT_WORKLOAD, m_explicit_curve, DENY(KEY_NOT_ALLOWED),
     "explicit curve parameters"},
    {"P-384", PT_WORKLOAD, m_p384, APPROVE},
    {"P-521 outside the default keys", PT_WORKLOAD, m_p521, DENY(KEY_NOT_ALLOWED),
     "key ecdsa-p521 is not in keys of this policy"},
    {"P-521 when listed", PT_WORKLOAD, m_p521_allowed, APPROVE},
    {"unknown key type", PT_WORKLOAD, m_unknown_key, DENY(SIGNATURE_ALGORITHM_NOT_ALLOWED),
     "unknown key (1.2.643.7.1.1.1.1) is not allowed"},
    {"Ed25519 outside keys", PT_WORKLOAD, m_keys_p256_only_ed25519, DENY(KEY_NOT_ALLOWED),
     "key ed25519 is not in keys of this policy (allowed: ecdsa-p256)"},
    {"RSA-2048 outside keys", PT_WORKLOAD, m_keys_p256_only_rsa, DENY(KEY_NOT_ALLOWED),
     "key rsa-2048 is not in keys"},
    {"P-256 outside keys", PT_WORKLOAD, m_keys_rsa_only_p256, DENY(KEY_NOT_ALLOWED),
     "key ecdsa-p256 is not in keys of this policy (allowed: rsa-2048, rsa-3072)"},

    {"CA:TRUE", PT_WORKLOAD, m_ca_true, DENY(EXTENSION_NOT_ALLOWED),
     "basicConstraints CA:TRUE is not allowed"},
    {"unknown extension", PT_WORKLOAD, m_unknown_ext, DENY(EXTENSION_NOT_ALLOWED),
     "extension 1.3.6.1.4.1.11129.2.4.2 is not allowed", NULL, NULL, "(critical)"},
    {"unknown critical extension", PT_WORKLOAD, m_unknown_ext_critical, DENY(EXTENSION_NOT_ALLOWED),
     "extension nameConstraints (2.5.29.30) (critical) is not"},
    {"duplicate SAN extension", PT_WORKLOAD, m_dup_san_ext, DENY(EXTENSION_NOT_ALLOWED),
     "2 subjectAltName extensions (at most one)"},
    {"duplicate keyUsage extension", PT_WORKLOAD, m_dup_ku_ext, DENY(EXTENSION_NOT_ALLOWED),
     "2 keyUsage extensions"},
    {"duplicate basicConstraints extension", PT_WORKLOAD, m_dup_bc_ext, DENY(EXTENSION_NOT_ALLOWED),
     "2 basicConstraints extensions"},
    {"keyCertSign", PT_WORKLOAD, m_ku_cert_sign, DENY(EXTENSION_NOT_ALLOWED),
     "keyUsage keyCertSign, cRLSign"},
    {"nonRepudiation", PT_WORKLOAD, m_ku_non_repudiation, DENY(EXTENSION_NOT_ALLOWED),
     "keyUsage nonRepudiation"},
    {"undefined keyUsage bits", PT_WORKLOAD, m_ku_undefined, DENY(EXTENSION_NOT_ALLOWED),
     "undefined bits"},
    {"keyAgreement", PT_WORKLOAD, m_ku_key_agreement, APPROVE},
    {"EKU codeSigning", PT_WORKLOAD, m_eku_code_signing, DENY(EXTENSION_NOT_ALLOWED),
     "extendedKeyUsage codeSigning (1.3.6.1.5.5.7.3.3) is not allowed"},
    {"EKU anyExtendedKeyUsage", PT_WORKLOAD, m_eku_any, DENY(EXTENSION_NOT_ALLOWED),
     "anyExtendedKeyUsage"},
    {"EKU clientAuth only", PT_WORKLOAD, m_eku_client_only, APPROVE},
    {"SAN extension only", PT_WORKLOAD, m_only_san_ext, APPROVE},

    {"otherName SAN", PT_WORKLOAD, m_san_othername, DENY(SAN_NOT_ALLOWED),
     "otherName SAN \"UPN:admin@corp\" is not allowed (only DNS, IP and URI)"},
    {"directoryName SAN", PT_WORKLOAD, m_san_dirname, DENY(SAN_NOT_ALLOWED), "directoryName SAN"},
    {"email SAN", PT_WORKLOAD, m_san_email, DENY(SAN_NOT_ALLOWED),
     "email SAN \"web@shop.example\" is not allowed"},
    {"registeredID SAN", PT_WORKLOAD, m_san_rid, DENY(SAN_NOT_ALLOWED), "registeredID SAN"},
    {"x400Address SAN", PT_WORKLOAD, m_san_x400, DENY(SAN_NOT_ALLOWED), "x400Address SAN"},
    {"wildcard", PT_WORKLOAD, m_wildcard, DENY(SAN_NOT_ALLOWED),
     "DNS SAN \"*.shop.svc\" is a wildcard", NULL, NULL, "is not a name of pod"},
    {"trailing dot", PT_WORKLOAD, m_trailing_dot, DENY(SAN_NOT_ALLOWED), "ends in a dot"},
    {"empty label", PT_WORKLOAD, m_empty_label, DENY(SAN_NOT_ALLOWED),
     "\"web..svc\" has an empty label"},
    {"leading dot", PT_WORKLOAD, m_leading_dot, DENY(SAN_NOT_ALLOWED), "has an empty label"},
    {"empty DNS name", PT_WORKLOAD, m_empty_dns, DENY(SAN_NOT_ALLOWED), "DNS SAN \"\" is empty"},
    {"DNS name over 253 bytes", PT_WORKLOAD, m_dns_too_long, DENY(SAN_NOT_ALLOWED),
     "is longer than 253 bytes"},
    {"DNS name of 253 bytes", PT_WORKLOAD, m_dns_253, DENY(SAN_NOT_ALLOWED), "is not a name of pod",
     NULL, NULL, "253 bytes"},
    {"label over 63 bytes", PT_WORKLOAD, m_long_label, DENY(SAN_NOT_ALLOWED),
     "has a label longer than 63 bytes"},
    {"NUL in a DNS name", PT_WORKLOAD, m_dns_nul, DENY(SAN_NOT_ALLOWED),
     "DNS SAN \"web.shop.svc\\x00.evil.com\" contains a NUL byte"},
    {"underscore", PT_WORKLOAD, m_dns_underscore, DENY(SAN_NOT_ALLOWED),
     "other than letters, digits, hyphens and dots"},
    {"label starting with a hyphen", PT_WORKLOAD, m_dns_hyphen_start, DENY(SAN_NOT_ALLOWED),
     "starts or ends with a hyphen"},
    {"space in a DNS name", PT_WORKLOAD, m_dns_space, DENY(SAN_NOT_ALLOWED), "other than letters"},
    {"loopback IPv4", PT_WORKLOAD, m_ip_loopback4, DENY(SAN_NOT_ALLOWED),
     "IP SAN 127.0.0.1 is a loopback address", NULL, NULL, "is not an IP of pod"},
    {"loopback 127/8", PT_WORKLOAD, m_ip_loopback4_other, DENY(SAN_NOT_ALLOWED),
     "127.8.9.10 is a loopback"},
    {"loopback IPv6", PT_WORKLOAD, m_ip_loopback6, DENY(SAN_NOT_ALLOWED),
     "IP SAN ::1 is a loopback address"},
    {"unspecified IPv4", PT_WORKLOAD, m_ip_unspec4, DENY(SAN_NOT_ALLOWED),
     "0.0.0.0 is unspecified"},
    {"unspecified IPv6", PT_WORKLOAD, m_ip_unspec6, DENY(SAN_NOT_ALLOWED),
     "IP SAN :: is unspecified"},
    {"link-local IPv4", PT_WORKLOAD, m_ip_linklocal4, DENY(SAN_NOT_ALLOWED),
     "169.254.169.254 is link-local"},
    {"link-local IPv6", PT_WORKLOAD, m_ip_linklocal6, DENY(SAN_NOT_ALLOWED),
     "fe80::1 is link-local"},
    {"link-local IPv6, top of fe80::/10", PT_WORKLOAD, m_ip_linklocal6_top, DENY(SAN_NOT_ALLOWED),
     "febf::1 is link-local"},
    {"multicast IPv4", PT_WORKLOAD, m_ip_multicast4, DENY(SAN_NOT_ALLOWED),
     "239.255.255.250 is multicast"},
    {"multicast IPv6", PT_WORKLOAD, m_ip_multicast6, DENY(SAN_NOT_ALLOWED), "ff02::1 is multicast"},
    {"IPv4-mapped IPv6", PT_WORKLOAD, m_ip_mapped, DENY(SAN_NOT_ALLOWED),
     "::ffff:10.0.0.5 is IPv4-mapped"},
    {"IP SAN of 5 bytes", PT_WORKLOAD, m_ip_malformed, DENY(SAN_NOT_ALLOWED),
     "IP SAN of 5 bytes is malformed"},
    {"URI with a space", PT_WORKLOAD, m_uri_space, DENY(SAN_NOT_ALLOWED),
     "a space, a control character", NULL, NULL, "SPIFFE ID"},
    {"URI with a NUL", PT_WORKLOAD, m_uri_nul, DENY(SAN_NOT_ALLOWED),
     "sa/web\\x00x\" holds a NUL byte"},

    {"two CNs", PT_WORKLOAD, m_two_cn, DENY(SUBJECT_NOT_ALLOWED),
     "subject has 2 CNs (at most one)"},
    {"BMPString CN", PT_WORKLOAD, m_cn_bmp, DENY(SUBJECT_NOT_ALLOWED),
     "subject CN is a BMPString (only UTF8String or PrintableString)"},
    {"T61String CN", PT_WORKLOAD, m_cn_t61, DENY(SUBJECT_NOT_ALLOWED), "T61String"},
    {"CN not a string", PT_WORKLOAD, m_cn_not_string, DENY(SUBJECT_NOT_ALLOWED),
     "subject CN is not a string (only UTF8String or PrintableString)"},
    {"IA5String CN", PT_WORKLOAD, m_cn_ia5, DENY(SUBJECT_NOT_ALLOWED), "IA5String"},
    {"PrintableString CN", PT_WORKLOAD, m_cn_printable, APPROVE},
    {"PrintableString with @", PT_WORKLOAD, m_cn_printable_at, DENY(SUBJECT_NOT_ALLOWED),
     "outside PrintableString"},
    {"control character in CN", PT_WORKLOAD, m_cn_control, DENY(SUBJECT_NOT_ALLOWED),
     "subject CN \"web.shop.svc\\x07\" contains a control character"},
    {"control character flagged by the decoder", PT_WORKLOAD, m_cn_control_flag,
     DENY(SUBJECT_NOT_ALLOWED), "contains a control character"},
    {"C1 control in CN", PT_WORKLOAD, m_cn_c1, DENY(SUBJECT_NOT_ALLOWED),
     "\"web\\u0085shop\" contains a control character"},
    {"NUL in CN", PT_WORKLOAD, m_cn_nul, DENY(SUBJECT_NOT_ALLOWED),
     "\"web.shop.svc\\x00x\" contains a NUL byte"},
    {"invalid UTF-8 in CN", PT_WORKLOAD, m_cn_bad_utf8, DENY(SUBJECT_NOT_ALLOWED),
     "\"web\\xff.shop.svc\" is not valid UTF-8"},
    {"overlong UTF-8 in CN", PT_WORKLOAD, m_cn_overlong_utf8, DENY(SUBJECT_NOT_ALLOWED),
     "is not valid UTF-8"},
    {"encoding flagged by the decoder", PT_WORKLOAD, m_cn_bad_encoding, DENY(SUBJECT_NOT_ALLOWED),
     "is not valid for its string type"},
    {"non-ASCII UTF-8 CN passes the global rules", PT_WORKLOAD, m_cn_utf8_ok,
     DENY(SUBJECT_NOT_ALLOWED),
     "subject CN \"w\xc3\xa9"
     "b\" is not one of the requested DNS SANs",
     NULL, NULL, "valid"},
    {"OU attribute", PT_WORKLOAD, m_ou, DENY(SUBJECT_NOT_ALLOWED),
     "subject attribute OU (2.5.4.11) is not allowed (only CN and O)"},
    {"O in a workload request", PT_WORKLOAD, m_o_workload, DENY(SUBJECT_NOT_ALLOWED),
     "subject O \"shop\" is not allowed by a workload policy"},
    {"O=system:masters", PT_WORKLOAD, m_o_masters, DENY(SUBJECT_NOT_ALLOWED),
     "subject O \"system:masters\" is not allowed", NULL, NULL, "workload policy"},
    {"multi-valued RDN", PT_WORKLOAD, m_multi_rdn, DENY(SUBJECT_NOT_ALLOWED), "multi-valued RDN"},
    {"empty subject", PT_WORKLOAD, m_no_subject, APPROVE},
};

#define N_GLOBAL (sizeof(global_cases) / sizeof(global_cases[0]))

ParameterizedTestParameters(policy_global, rules)
{
	static size_t idx[N_GLOBAL];
	for (size_t i = 0; i < N_GLOBAL; i++)
		idx[i] = i;
	return cr_make_param_array(size_t, idx, N_GLOBAL);
}

ParameterizedTest(size_t *i, policy_global, rules)
{
	pt_run_case(&global_cases[*i]);
}
