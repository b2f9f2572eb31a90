/*
 * pkg/signer: loading the CA files (every key type, chains, the strict
 * file format and its messages), the key never reaching a message, and
 * noticing and reloading changed files (a Secret volume's symlink swap).
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/pem.h>

#include "../../../pkg/signer/signer.h"
#include "../../../pkg/signer/signer_internal.h"
#include "st.h"

TestSuite(signer_ca, .init = st_tmp_init, .fini = st_tmp_fini);

/* Load cert_pem and key_pem written to files; expect failure with want in
 * the message, which must be one line and must not quote key_pem. */
static void load_fails(const char *cert_pem, const char *key_pem, const char *want,
                       const char *secret_pem)
{
	char *cp = st_path("f.crt"), *kp = st_path("f.key");
	struct signer_ca *ca = (struct signer_ca *)1;
	char err[SIGNER_ERR_MAX] = "";
	st_write(cp, cert_pem);
	st_write(kp, key_pem);
	int rc = signer_ca_load(cp, kp, &ca, err, sizeof(err));
	cr_assert_eq(rc, -1, "loaded, want failure \"%s\"", want);
	cr_assert_null(ca);
	cr_assert(strstr(err, want) != NULL, "error \"%s\", want \"%s\"", err, want);
	cr_assert(strchr(err, '\n') == NULL, "error is not one line: %s", err);
	if (secret_pem != NULL)
		cr_assert(!st_leaks_key(err, secret_pem), "the error quotes the key: %s", err);
	free(cp);
	free(kp);
}

struct key_case {
	enum st_key k;
	char type[16];
};

ParameterizedTestParameters(signer_ca, load_key_types)
{
	static struct key_case cases[] = {
	    {ST_RSA2048, "RSA-2048"}, {ST_P256, "ECDSA-P256"}, {ST_P384, "ECDSA-P384"},
	    {ST_P521, "ECDSA-P521"},  {ST_ED25519, "Ed25519"},
	};
	return cr_make_param_array(struct key_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct key_case *c, signer_ca, load_key_types)
{
	struct st_ca a;
	int64_t now = time(NULL);
	st_ca_make(&a, "ca", c->k, now - 100, now + 86400);
	struct signer_ca *ca = st_ca_load(&a);
	cr_expect_str_eq(signer_ca_key_type(ca), c->type);
	cr_expect_eq(signer_ca_chain_len(ca), 1);
	cr_expect_eq(signer_ca_not_before(ca), now - 100);
	cr_expect_eq(signer_ca_not_after(ca), now + 86400);
	cr_expect_str_eq(signer_ca_subject(ca), "CN=ca");
	cr_expect(!signer_ca_changed(ca));
	/* The bundle is the certificate itself. */
	X509 *b = st_parse_cert(signer_ca_bundle_pem(ca));
	cr_expect_eq(X509_cmp(b, a.cert), 0);
	cr_expect_eq(st_count_certs(signer_ca_bundle_pem(ca)), 1);
	X509_free(b);
	signer_ca_free(ca);
	st_ca_fini(&a);
}

Test(signer_ca, traditional_key_forms)
{
	struct st_ca a;
	st_ca_make(&a, "ca", ST_RSA2048, 0, 0);
	char *k = st_key_pem_traditional(a.key);
	cr_assert(strstr(k, "-----BEGIN RSA PRIVATE KEY-----") != NULL);
	st_write(a.key_path, k);
	free(k);
	struct signer_ca *ca = st_ca_load(&a);
	signer_ca_free(ca);
	st_ca_fini(&a);

	/* `openssl ecparam -genkey` writes EC PARAMETERS, then EC PRIVATE KEY. */
	st_ca_make(&a, "ec", ST_P256, 0, 0);
	k = st_key_pem_traditional(a.key);
	cr_assert(strstr(k, "-----BEGIN EC PRIVATE KEY-----") != NULL);
	char *both = util_xasprintf("-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n"
	                            "-----END EC PARAMETERS-----\n%s",
	                            k);
	st_write(a.key_path, both);
	ca = st_ca_load(&a);
	cr_expect_str_eq(signer_ca_key_type(ca), "ECDSA-P256");
	signer_ca_free(ca);
	free(both);
	free(k);
	st_ca_fini(&a);
}

Test(signer_ca, crlf_and_surrounding_space)
{
	struct st_ca a;
	st_ca_make(&a, "ca", ST_P256, 0, 0);
	char *c = st_certs_pem(&a.cert, 1);
	struct util_buf b = {0};
	util_buf_puts(&b, "\n\n");
	for (const char *p = c; *p; p++) {
		if (*p == '\n')
			util_buf_puts(&b, "  \r\n");
		else
			util_buf_putc(&b, *p);
	}
	util_buf_puts(&b, "\n");
	st_write(a.cert_path, util_buf_str(&b));
	struct signer_ca *ca = st_ca_load(&a);
	signer_ca_free(ca);
	util_buf_reset(&b);
	free(c);
	st_ca_fini(&a);
}

Test(signer_ca, chain_intermediate_then_root)
{
	struct st_ca root;
	st_ca_make(&root, "root", ST_P384, 0, 0);
	EVP_PKEY *ik = st_key(ST_P256);
	struct st_cert_opts io = {.cn = "issuing", .ca = true, .ku = "critical,keyCertSign"};
	X509 *inter = st_cert(&io, ik, root.cert, root.key);
	X509 *chain[2] = {inter, root.cert};
	char *c = st_certs_pem(chain, 2), *k = st_key_pem(ik);
	char *cp = st_path("chain.crt"), *kp = st_path("chain.key");
	st_write(cp, c);
	st_write(kp, k);

	struct signer_ca *ca = NULL;
	char err[SIGNER_ERR_MAX] = "";
	cr_assert_eq(signer_ca_load(cp, kp, &ca, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(signer_ca_chain_len(ca), 2);
	cr_expect_str_eq(signer_ca_key_type(ca), "ECDSA-P256");
	cr_expect_str_eq(signer_ca_subject(ca), "CN=issuing");
	cr_expect_str_eq(signer_ca_bundle_pem(ca), c);
	signer_ca_free(ca);

	/* Root first: the key is the intermediate's, and the order is wrong. */
	X509 *rev[2] = {root.cert, inter};
	char *rc = st_certs_pem(rev, 2);
	load_fails(rc, k, "was not issued by certificate 2", k);
	/* Root first with the root's key: the chain is still out of order. */
	char *rk = st_key_pem(root.key);
	load_fails(rc, rk, "certificate 1 was not issued by certificate 2", rk);

	free(rk);
	free(rc);
	free(c);
	free(k);
	free(cp);
	free(kp);
	X509_free(inter);
	EVP_PKEY_free(ik);
	st_ca_fini(&root);
}

Test(signer_ca, duplicate_certificate_deduplicated_in_bundle)
{
	struct st_ca a;
	st_ca_make(&a, "ca", ST_P256, 0, 0);
	X509 *twice[2] = {a.cert, a.cert};
	char *c = st_certs_pem(twice, 2);
	st_write(a.cert_path, c);
	struct signer_ca *ca = st_ca_load(&a);
	cr_expect_eq(signer_ca_chain_len(ca), 2);
	cr_expect_eq(st_count_certs(signer_ca_bundle_pem(ca)), 1);
	signer_ca_free(ca);
	free(c);
	st_ca_fini(&a);
}

Test(signer_ca, key_mismatch)
{
	struct st_ca a, b;
	st_ca_make(&a, "a", ST_P256, 0, 0);
	st_ca_make(&b, "b", ST_P256, 0, 0);
	char *c = st_certs_pem(&a.cert, 1), *k = st_key_pem(b.key);
	load_fails(c, k, "does not match", k);
	free(c);
	free(k);
	st_ca_fini(&a);
	st_ca_fini(&b);
}

Test(signer_ca, not_a_ca)
{
	EVP_PKEY *key = st_key(ST_P256);
	char *k = st_key_pem(key);
	struct {
		struct st_cert_opts o;
		const char *want;
	} cases[] = {
	    {{.cn = "leaf", .ca = false},
	     "certificate 1 is not a CA (basicConstraints CA:TRUE missing)"},
	    {{.cn = "nobc", .no_bc = true}, "basicConstraints CA:TRUE missing"},
	    {{.cn = "noku", .ca = true, .ku = "critical,digitalSignature,cRLSign"},
	     "keyUsage lacks keyCertSign"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		X509 *x = st_cert(&cases[i].o, key, NULL, NULL);
		char *c = st_certs_pem(&x, 1);
		load_fails(c, k, cases[i].want, k);
		free(c);
		X509_free(x);
	}
	free(k);
	EVP_PKEY_free(key);
}

Test(signer_ca, second_certificate_not_a_ca)
{
	struct st_ca root;
	st_ca_make(&root, "root", ST_P256, 0, 0);
	EVP_PKEY *ik = st_key(ST_P256);
	struct st_cert_opts io = {.cn = "issuing", .ca = true, .ku = "critical,keyCertSign"};
	X509 *inter = st_cert(&io, ik, root.cert, root.key);
	/* A leaf the issuing CA signed, listed after it: not a CA. */
	struct st_cert_opts lo = {.cn = "leaf", .ca = false};
	EVP_PKEY *lk = st_key(ST_P256);
	X509 *leaf = st_cert(&lo, lk, inter, ik);
	X509 *bad[2] = {inter, leaf};
	char *c = st_certs_pem(bad, 2), *k = st_key_pem(ik);
	load_fails(c, k, "certificate 2 is not a CA", k);
	free(c);
	free(k);
	X509_free(leaf);
	X509_free(inter);
	EVP_PKEY_free(lk);
	EVP_PKEY_free(ik);
	st_ca_fini(&root);
}

Test(signer_ca, unsupported_ca_keys)
{
	struct {
		enum st_key k;
		const char *want;
	} cases[] = {
	    {ST_RSA1024, "RSA key of 1024 bits, fewer than 2048"},
	    {ST_K256, "EC key on curve \"secp256k1\""},
	    {ST_ED448, "ED448 key, want RSA"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct st_ca a;
		st_ca_make(&a, "ca", cases[i].k, 0, 0);
		char *c = st_certs_pem(&a.cert, 1), *k = st_key_pem(a.key);
		load_fails(c, k, cases[i].want, k);
		free(c);
		free(k);
		st_ca_fini(&a);
	}
}

Test(signer_ca, certificate_file_format)
{
	struct st_ca a;
	st_ca_make(&a, "ca", ST_P256, 0, 0);
	char *c = st_certs_pem(&a.cert, 1), *k = st_key_pem(a.key);
	char *t;

	load_fails("", k, "CA certificate file /tmp/", k);
	load_fails("", k, "f.crt: empty file", k);
	load_fails("  \n\n", k, "no certificate (want PEM CERTIFICATE blocks)", k);
	load_fails("hello\n", k, "line 1: text outside a PEM block", k);
	t = util_xasprintf("subject=CN = ca\n%s", c);
	load_fails(t, k, "line 1: text outside a PEM block", k);
	free(t);
	t = util_xasprintf("%strailing words\n", c);
	load_fails(t, k, "text outside a PEM block", k);
	free(t);
	/* The key where the certificate belongs: named, never quoted. */
	load_fails(k, k,
	           "PEM block 1 (line 1) is \"PRIVATE KEY\" (a private key), want CERTIFICATE", k);
	t = util_xasprintf("%s%s", c, k);
	load_fails(t, k, "PEM block 2", k);
	free(t);
	/* A truncated certificate. */
	t = util_xstrndup(c, strlen(c) / 2);
	load_fails(t, k, "has no END line", k);
	free(t);
	/* Headers, bad base64, END mismatch. */
	t = util_xasprintf("-----BEGIN CERTIFICATE-----\nProc-Type: 4,ENCRYPTED\n%s", c + 28);
	load_fails(t, k, "encrypted (Proc-Type header)", k);
	free(t);
	load_fails("-----BEGIN CERTIFICATE-----\nQUJD*\n-----END CERTIFICATE-----\n", k,
	           "invalid character in the base64", k);
	load_fails("-----BEGIN CERTIFICATE-----\nQUJD\n-----END CERTIFICATE-----\n", k,
	           "does not decode as X.509", k);
	load_fails("-----BEGIN CERTIFICATE-----\nQUJ=\n-----END CERTIFICATE-----\n", k,
	           "invalid base64", k);
	load_fails("-----BEGIN CERTIFICATE-----\nQUJD\n-----END CERTIFICATE REQUEST-----\n", k,
	           "PEM END line does not match", k);
	load_fails("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n", k, "empty PEM block",
	           k);
	/* A certificate with a byte after its DER. */
	{
		unsigned char *der = NULL;
		int l = i2d_X509(a.cert, &der);
		unsigned char *d2 = malloc((size_t)l + 1);
		memcpy(d2, der, (size_t)l);
		d2[l] = 0;
		BIO *b = BIO_new(BIO_s_mem());
		PEM_write_bio(b, "CERTIFICATE", "", d2, l + 1);
		char *data = NULL;
		long n = BIO_get_mem_data(b, &data);
		t = util_xstrndup(data, (size_t)n);
		load_fails(t, k, "certificate 1 (line 1) has trailing bytes", k);
		free(t);
		BIO_free(b);
		free(d2);
		OPENSSL_free(der);
	}
	/* More than SIGNER_MAX_CHAIN blocks. */
	{
		struct util_buf b = {0};
		for (int i = 0; i <= SIGNER_MAX_CHAIN; i++)
			util_buf_puts(&b, c);
		load_fails(util_buf_str(&b), k, "more than 16 PEM blocks", k);
		util_buf_reset(&b);
	}
	free(c);
	free(k);
	st_ca_fini(&a);
}

Test(signer_ca, key_file_format)
{
	struct st_ca a;
	st_ca_make(&a, "ca", ST_P256, 0, 0);
	char *c = st_certs_pem(&a.cert, 1), *k = st_key_pem(a.key);
	char *t;

	load_fails(c, "", "CA key file /tmp/", NULL);
	load_fails(c, "", "f.key: empty file", NULL);
	load_fails(c, "\n", "no private key", NULL);
	load_fails(c, c, "PEM block 1 (line 1) is \"CERTIFICATE\", want PRIVATE KEY", NULL);
	t = util_xasprintf("%s%s", k, k);
	load_fails(c, t, "more than one private key", k);
	free(t);
	/* An encrypted key, in both of OpenSSL's forms. */
	{
		BIO *b = BIO_new(BIO_s_mem());
		PEM_write_bio_PKCS8PrivateKey(b, a.key, EVP_aes_128_cbc(), NULL, 0, NULL,
		                              (void *)"secret");
		char *data = NULL;
		long n = BIO_get_mem_data(b, &data);
		t = util_xstrndup(data, (size_t)n);
		load_fails(c, t, "the key is encrypted; want it unencrypted", t);
		free(t);
		BIO_free(b);
		b = BIO_new(BIO_s_mem());
		PEM_write_bio_PrivateKey_traditional(b, a.key, EVP_aes_128_cbc(), NULL, 0, NULL,
		                                     (void *)"secret");
		n = BIO_get_mem_data(b, &data);
		t = util_xstrndup(data, (size_t)n);
		load_fails(c, t, "is encrypted (Proc-Type header)", t);
		free(t);
		BIO_free(b);
	}
	/* A damaged key: the body cut short and re-padded. */
	t = util_xasprintf("-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEH\n"
	                   "-----END PRIVATE KEY-----\n");
	load_fails(c, t, "the PRIVATE KEY block does not decode as a private key", k);
	free(t);
	/* A key with a label we do not read. */
	load_fails(c, "-----BEGIN DSA PRIVATE KEY-----\nQUJD\n-----END DSA PRIVATE KEY-----\n",
	           "is \"DSA PRIVATE KEY\", want PRIVATE KEY", NULL);
	/* Too large. */
	{
		char *big = malloc(SIGNER_MAX_KEY_FILE + 2);
		memset(big, '\n', SIGNER_MAX_KEY_FILE + 1);
		big[SIGNER_MAX_KEY_FILE + 1] = '\0';
		load_fails(c, big, "more than the limit of 65536", NULL);
		free(big);
	}
	free(c);
	free(k);
	st_ca_fini(&a);
}

Test(signer_ca, unreadable_files)
{
	struct st_ca a;
	st_ca_make(&a, "ca", ST_P256, 0, 0);
	struct signer_ca *ca = (struct signer_ca *)1;
	char err[SIGNER_ERR_MAX];
	char *missing = st_path("missing.crt");
	char *dir = st_path("");

	cr_assert_eq(signer_ca_load(missing, a.key_path, &ca, err, sizeof(err)), -1);
	cr_assert_null(ca);
	cr_expect(strstr(err, "CA certificate file ") != NULL &&
	              strstr(err, "missing.crt: No such file") != NULL,
	          "%s", err);
	cr_assert_eq(signer_ca_load(a.cert_path, missing, &ca, err, sizeof(err)), -1);
	cr_expect(strstr(err, "CA key file ") != NULL &&
	              strstr(err, "missing.crt: No such file") != NULL,
	          "%s", err);
	cr_assert_eq(signer_ca_load(dir, a.key_path, &ca, err, sizeof(err)), -1);
	cr_expect(strstr(err, "not a regular file") != NULL, "%s", err);
	cr_assert_eq(signer_ca_load(a.cert_path, "", &ca, err, sizeof(err)), -1);
	cr_expect(strstr(err, "both a certificate file and a key file") != NULL, "%s", err);
	/* A certificate file over the limit. */
	{
		char *big = malloc(SIGNER_MAX_CERT_FILE + 2);
		memset(big, '\n', SIGNER_MAX_CERT_FILE + 1);
		big[SIGNER_MAX_CERT_FILE + 1] = '\0';
		st_write(a.cert_path, big);
		free(big);
		cr_assert_eq(signer_ca_load(a.cert_path, a.key_path, &ca, err, sizeof(err)), -1);
		cr_expect(strstr(err, "more than the limit of 1048576") != NULL, "%s", err);
	}
	free(missing);
	free(dir);
	st_ca_fini(&a);
}

/* The key never appears in a message, whatever goes wrong with it. */
Test(signer_ca, key_never_in_messages)
{
	struct st_ca a, b;
	st_ca_make(&a, "a", ST_RSA2048, 0, 0);
	st_ca_make(&b, "b", ST_P256, 0, 0);
	char *c = st_certs_pem(&a.cert, 1);
	char *ka = st_key_pem(a.key), *kb = st_key_pem(b.key);
	char *trad = st_key_pem_traditional(a.key);
	char *t;

	load_fails(c, kb, "does not match", kb); /* another key */
	load_fails(ka, c, "want CERTIFICATE", ka); /* the files swapped */
	load_fails(ka, ka, "want CERTIFICATE", ka); /* the key twice */
	/* The key with junk around it, one character changed, cut short. */
	t = util_xasprintf("junk\n%s", ka);
	load_fails(c, t, "line 1: text outside a PEM block", ka);
	free(t);
	t = util_xstrdup(ka);
	t[40] = t[40] == 'A' ? 'B' : 'A';
	{
		struct signer_ca *ca = NULL;
		char err[SIGNER_ERR_MAX] = "";
		char *cp = st_path("x.crt"), *kp = st_path("x.key");
		st_write(cp, c);
		st_write(kp, t);
		if (signer_ca_load(cp, kp, &ca, err, sizeof(err)) != 0)
			cr_expect(!st_leaks_key(err, ka), "%s", err);
		signer_ca_free(ca);
		free(cp);
		free(kp);
	}
	free(t);
	t = util_xstrndup(trad, strlen(trad) - 200);
	load_fails(c, t, "has no END line", trad);
	free(t);
	t = util_xasprintf("%s%s", ka, kb);
	load_fails(c, t, "more than one private key", ka);
	cr_assert(!st_leaks_key("", ka));
	free(t);
	free(c);
	free(ka);
	free(kb);
	free(trad);
	st_ca_fini(&a);
	st_ca_fini(&b);
}

Test(signer_ca, parse_from_memory)
{
	struct st_ca a;
	st_ca_make(&a, "mem", ST_ED25519, 0, 0);
	char *c = st_certs_pem(&a.cert, 1), *k = st_key_pem(a.key);
	struct signer_ca *ca = NULL;
	char err[SIGNER_ERR_MAX] = "";
	cr_assert_eq(signer_ca_parse(c, strlen(c), k, strlen(k), &ca, err, sizeof(err)), 0, "%s",
	             err);
	cr_expect(!signer_ca_changed(ca));
	cr_expect_eq(signer_ca_reload(&ca, err, sizeof(err)), 0);
	signer_ca_free(ca);
	ca = (struct signer_ca *)1;
	cr_assert_eq(signer_ca_parse(c, strlen(c), c, strlen(c), &ca, err, sizeof(err)), -1);
	cr_assert_null(ca);
	cr_expect(strncmp(err, "CA key: ", 8) == 0, "%s", err);
	free(c);
	free(k);
	st_ca_fini(&a);
}

/* ---- changes and reloads ---- */

/* A Secret volume: DIR/s/..TS/{tls.crt,tls.key}, DIR/s/..data -> ..TS,
 * DIR/s/tls.crt -> ..data/tls.crt. */
static void secret_version(const struct st_ca *a, const char *ts, bool broken_key)
{
	char rel[128];
	snprintf(rel, sizeof(rel), "s/%s", ts);
	char *d = st_path(rel);
	cr_assert_eq(mkdir(d, 0700), 0, "%s", strerror(errno));
	char *cp = util_xasprintf("%s/tls.crt", d), *kp = util_xasprintf("%s/tls.key", d);
	char *c = st_certs_pem(&a->cert, 1), *k = st_key_pem(a->key);
	st_write(cp, c);
	st_write(kp, broken_key ? c : k);
	/* The atomic swap of ..data, as the kubelet does it. */
	char *tmp = st_path("s/..data_tmp"), *data = st_path("s/..data");
	unlink(tmp);
	cr_assert_eq(symlink(ts, tmp), 0);
	cr_assert_eq(rename(tmp, data), 0);
	free(tmp);
	free(data);
	free(c);
	free(k);
	free(cp);
	free(kp);
	free(d);
}

Test(signer_ca, secret_volume_swap)
{
	struct st_ca one, two, three;
	st_ca_make(&one, "one", ST_P256, 0, 0);
	st_ca_make(&two, "two", ST_P256, 0, 0);
	st_ca_make(&three, "three", ST_P256, 0, 0);
	char *s = st_path("s");
	cr_assert_eq(mkdir(s, 0700), 0);
	secret_version(&one, "..2026_01_01_00_00_00.1", false);
	char *crt = st_path("s/tls.crt"), *key = st_path("s/tls.key");
	cr_assert_eq(symlink("..data/tls.crt", crt), 0);
	cr_assert_eq(symlink("..data/tls.key", key), 0);

	struct signer_ca *ca = NULL;
	char err[SIGNER_ERR_MAX] = "";
	cr_assert_eq(signer_ca_load(crt, key, &ca, err, sizeof(err)), 0, "%s", err);
	cr_expect_str_eq(signer_ca_subject(ca), "CN=one");
	cr_expect(!signer_ca_changed(ca));
	cr_expect_eq(signer_ca_reload(&ca, err, sizeof(err)), 0);

	/* New files behind the same paths. */
	secret_version(&two, "..2026_01_02_00_00_00.2", false);
	cr_expect(signer_ca_changed(ca));
	cr_assert_eq(signer_ca_reload(&ca, err, sizeof(err)), 1, "%s", err);
	cr_expect_str_eq(signer_ca_subject(ca), "CN=two");
	cr_expect(!signer_ca_changed(ca));

	/* A broken update: the old CA stays, the failure is reported once. */
	secret_version(&three, "..2026_01_03_00_00_00.3", true);
	cr_expect(signer_ca_changed(ca));
	cr_assert_eq(signer_ca_reload(&ca, err, sizeof(err)), -1);
	cr_expect(strstr(err, "CA key file ") != NULL && strstr(err, "want PRIVATE KEY") != NULL,
	          "%s", err);
	cr_expect_str_eq(signer_ca_subject(ca), "CN=two");
	cr_expect_eq(signer_ca_reload(&ca, err, sizeof(err)), 0);
	cr_expect_str_eq(signer_ca_subject(ca), "CN=two");

	/* Fixed: loaded. */
	secret_version(&three, "..2026_01_04_00_00_00.4", false);
	cr_assert_eq(signer_ca_reload(&ca, err, sizeof(err)), 1, "%s", err);
	cr_expect_str_eq(signer_ca_subject(ca), "CN=three");

	/* A file that goes away counts as a change, and fails. */
	char *data = st_path("s/..data");
	cr_assert_eq(unlink(data), 0);
	cr_expect(signer_ca_changed(ca));
	cr_expect_eq(signer_ca_reload(&ca, err, sizeof(err)), -1);
	cr_expect(strstr(err, "No such file") != NULL, "%s", err);
	cr_expect_eq(signer_ca_reload(&ca, err, sizeof(err)), 0);
	cr_expect_str_eq(signer_ca_subject(ca), "CN=three");

	signer_ca_free(ca);
	free(data);
	free(crt);
	free(key);
	free(s);
	st_ca_fini(&one);
	st_ca_fini(&two);
	st_ca_fini(&three);
}

Test(signer_ca, rewrite_in_place_is_a_change)
{
	struct st_ca a, b;
	st_ca_make(&a, "a", ST_P256, 0, 0);
	st_ca_make(&b, "b", ST_P256, 0, 0);
	struct signer_ca *ca = st_ca_load(&a);
	cr_expect(!signer_ca_changed(ca));
	/* Same inode, new contents (and so a new size or mtime/ctime). */
	char *c = st_certs_pem(&b.cert, 1), *k = st_key_pem(b.key);
	st_write(a.cert_path, c);
	st_write(a.key_path, k);
	cr_expect(signer_ca_changed(ca));
	char err[SIGNER_ERR_MAX] = "";
	cr_assert_eq(signer_ca_reload(&ca, err, sizeof(err)), 1, "%s", err);
	cr_expect_str_eq(signer_ca_subject(ca), "CN=b");
	signer_ca_free(ca);
	free(c);
	free(k);
	st_ca_fini(&a);
	st_ca_fini(&b);
}

/* ---- the PEM splitter ---- */

Test(signer_pem, split)
{
	struct signer_pem_block *b = NULL;
	size_t n = 99;
	char why[256] = "";
	const char *two = "-----BEGIN A-----\nQUJD\n-----END A-----\n\n"
	                  "-----BEGIN B 2-----\r\nREVG\r\n-----END B 2-----";
	cr_assert_eq(signer_pem_split(two, strlen(two), false, 4, &b, &n, why, sizeof(why)), 0,
	             "%s", why);
	cr_assert_eq(n, 2);
	cr_expect_str_eq(b[0].label, "A");
	cr_expect_eq(b[0].der_len, 3);
	cr_expect(memcmp(b[0].der, "ABC", 3) == 0);
	cr_expect_eq(b[0].line, 1);
	cr_expect_str_eq(b[1].label, "B 2");
	cr_expect(memcmp(b[1].der, "DEF", 3) == 0);
	cr_expect_eq(b[1].line, 5);
	signer_pem_free(b, n, true);

	cr_assert_eq(signer_pem_split("", 0, false, 4, &b, &n, why, sizeof(why)), 0);
	cr_expect_eq(n, 0);
	signer_pem_free(b, n, false);

	struct {
		const char *text;
		const char *want;
	} bad[] = {
	    {"-----BEGIN a-----\nQUJD\n-----END a-----\n", "line 1: malformed PEM BEGIN line"},
	    {"-----BEGIN -----\nQUJD\n-----END -----\n", "malformed PEM BEGIN line"},
	    {" -----BEGIN A-----\nQUJD\n-----END A-----\n", "line 1: text outside"},
	    {"-----BEGIN A-----\nQUJD\n-----BEGIN A-----\n", "line 3: PEM BEGIN line inside"},
	    {"-----BEGIN A-----\nX: y\nQUJD\n-----END A-----\n", "line 2: PEM headers"},
	    {"-----BEGIN A-----\nQUJD\n-----END A-----\n-----BEGIN A-----\nQUJD\n-----END "
	     "A-----\n-----BEGIN A-----\n",
	     "line 7: more than 2 PEM blocks"},
	    {"-----BEGIN A-----\nQUJE\n-----END A-----\n", NULL},
	    {"-----BEGIN A-----\nQUI=\n-----END A-----\n", NULL},
	    {"-----BEGIN A-----\nQUJ=\n-----END A-----\n", "invalid base64"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = signer_pem_split(bad[i].text, strlen(bad[i].text), false, 2, &b, &n, why,
		                          sizeof(why));
		if (bad[i].want == NULL) {
			cr_expect_eq(rc, 0, "case %zu: %s", i, why);
			signer_pem_free(b, n, false);
			continue;
		}
		cr_expect_eq(rc, -1, "case %zu passed", i);
		cr_expect(strstr(why, bad[i].want) != NULL, "case %zu: \"%s\", want \"%s\"", i, why,
		          bad[i].want);
	}

	static const char nul[] = "-----BEGIN A-----\nQU\0D\n-----END A-----\n";
	cr_expect_eq(signer_pem_split(nul, sizeof(nul) - 1, false, 2, &b, &n, why, sizeof(why)),
	             -1);
	cr_expect(strstr(why, "line 2: NUL byte") != NULL, "%s", why);
}
