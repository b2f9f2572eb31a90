/*
 * Helpers for the signer tests (see st.h).
 */
#define _XOPEN_SOURCE 700
#include "st.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

static char st_dir[64];

void st_tmp_init(void)
{
	snprintf(st_dir, sizeof(st_dir), "/tmp/csr-approver-signer-XXXXXX");
	cr_assert_not_null(mkdtemp(st_dir));
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

void st_tmp_fini(void)
{
	if (st_dir[0] != '\0')
		nftw(st_dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

char *st_path(const char *rel)
{
	size_t n = strlen(st_dir) + strlen(rel) + 2;
	char *p = malloc(n);
	cr_assert_not_null(p);
	snprintf(p, n, "%s/%s", st_dir, rel);
	return p;
}

EVP_PKEY *st_key(enum st_key k)
{
	EVP_PKEY *key = NULL;
	switch (k) {
	case ST_RSA2048:
		key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
		break;
	case ST_RSA1024:
		key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
		break;
	case ST_P256:
		key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
		break;
	case ST_P384:
		key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
		break;
	case ST_P521:
		key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-521");
		break;
	case ST_K256:
		key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "secp256k1");
		break;
	case ST_ED25519:
		key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
		break;
	case ST_ED448:
		key = EVP_PKEY_Q_keygen(NULL, NULL, "ED448");
		break;
	}
	cr_assert_not_null(key, "key generation %d failed", (int)k);
	return key;
}

const EVP_MD *st_md(EVP_PKEY *k)
{
	if (EVP_PKEY_is_a(k, "ED25519") || EVP_PKEY_is_a(k, "ED448"))
		return NULL;
	return EVP_sha256();
}

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	cr_assert_not_null(e, "extension %d=%s", nid, value);
	cr_assert_eq(X509_add_ext(x, e, -1), 1);
	X509_EXTENSION_free(e);
}

X509 *st_cert(const struct st_cert_opts *o, EVP_PKEY *subject_key, X509 *issuer,
              EVP_PKEY *issuer_key)
{
	X509 *x = X509_new();
	int64_t now = time(NULL);
	static long serial = 1000;
	cr_assert_not_null(x);
	cr_assert_eq(X509_set_version(x, X509_VERSION_3), 1);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
	X509_NAME *n = X509_get_subject_name(x);
	cr_assert_eq(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
	                                        (const unsigned char *)o->cn, -1, -1, 0),
	             1);
	cr_assert_eq(X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : n), 1);
	cr_assert_eq(X509_set_pubkey(x, subject_key), 1);
	ASN1_TIME_set(X509_getm_notBefore(x), (time_t)(o->not_before ? o->not_before : now - 3600));
	ASN1_TIME_set(X509_getm_notAfter(x),
	              (time_t)(o->not_after ? o->not_after : now + 10 * 86400));
	if (!o->no_bc)
		add_ext(x, issuer, NID_basic_constraints,
		        o->ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
	if (o->ku)
		add_ext(x, issuer, NID_key_usage, o->ku);
	if (o->eku)
		add_ext(x, issuer, NID_ext_key_usage, o->eku);
	if (!o->no_ski)
		add_ext(x, issuer, NID_subject_key_identifier, "hash");
	if (issuer != NULL || !o->no_ski)
		add_ext(x, issuer, NID_authority_key_identifier, "keyid:always");
	EVP_PKEY *signer = issuer_key ? issuer_key : subject_key;
	cr_assert(X509_sign(x, signer, st_md(signer)) > 0);
	return x;
}

static char *bio_text(BIO *b)
{
	char *data = NULL;
	long n = BIO_get_mem_data(b, &data);
	cr_assert(n > 0);
	char *s = malloc((size_t)n + 1);
	cr_assert_not_null(s);
	memcpy(s, data, (size_t)n);
	s[n] = '\0';
	BIO_free(b);
	return s;
}

char *st_certs_pem(X509 *const *certs, size_t n)
{
	BIO *b = BIO_new(BIO_s_mem());
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(PEM_write_bio_X509(b, certs[i]), 1);
	return bio_text(b);
}

char *st_key_pem(EVP_PKEY *k)
{
	BIO *b = BIO_new(BIO_s_mem());
	cr_assert_eq(PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL), 1);
	return bio_text(b);
}

char *st_key_pem_traditional(EVP_PKEY *k)
{
	BIO *b = BIO_new(BIO_s_mem());
	cr_assert_eq(PEM_write_bio_PrivateKey_traditional(b, k, NULL, NULL, 0, NULL, NULL), 1);
	return bio_text(b);
}

void st_write(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f, "%s", path);
	cr_assert_eq(fwrite(text, 1, strlen(text), f), strlen(text));
	cr_assert_eq(fclose(f), 0);
}

void st_ca_make(struct st_ca *ca, const char *name, enum st_key k, int64_t nb, int64_t na)
{
	struct st_cert_opts o = {.cn = name,
	                         .ca = true,
	                         .ku = "critical,keyCertSign,cRLSign",
	                         .not_before = nb,
	                         .not_after = na};
	char rel[128];
	memset(ca, 0, sizeof(*ca));
	ca->key = st_key(k);
	ca->cert = st_cert(&o, ca->key, NULL, NULL);
	snprintf(rel, sizeof(rel), "%s.crt", name);
	ca->cert_path = st_path(rel);
	snprintf(rel, sizeof(rel), "%s.key", name);
	ca->key_path = st_path(rel);
	char *c = st_certs_pem(&ca->cert, 1);
	char *kp = st_key_pem(ca->key);
	st_write(ca->cert_path, c);
	st_write(ca->key_path, kp);
	free(c);
	free(kp);
}

void st_ca_fini(struct st_ca *ca)
{
	EVP_PKEY_free(ca->key);
	X509_free(ca->cert);
	free(ca->cert_path);
	free(ca->key_path);
	memset(ca, 0, sizeof(*ca));
}

struct signer_ca *st_ca_load(const struct st_ca *ca)
{
	struct signer_ca *s = NULL;
	char err[SIGNER_ERR_MAX] = "";
	cr_assert_eq(signer_ca_load(ca->cert_path, ca->key_path, &s, err, sizeof(err)), 0, "%s",
	             err);
	cr_assert_not_null(s);
	return s;
}

char *st_req(EVP_PKEY *k, const struct st_req_opts *o, bool der, size_t *len)
{
	X509_REQ *r = X509_REQ_new();
	cr_assert_not_null(r);
	X509_NAME *n = X509_REQ_get_subject_name(r);
	if (o->o)
		X509_NAME_add_entry_by_txt(n, "O", MBSTRING_UTF8, (const unsigned char *)o->o, -1,
		                           -1, 0);
	if (o->cn)
		X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)o->cn, -1,
		                           -1, 0);
	if (o->second_cn)
		X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)"other",
		                           -1, -1, 0);
	cr_assert_eq(X509_REQ_set_pubkey(r, k), 1);
	if (o->sans) {
		STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
		X509V3_CTX ctx;
		X509V3_set_ctx(&ctx, NULL, NULL, r, NULL, 0);
		X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name, o->sans);
		cr_assert_not_null(e, "SANs %s", o->sans);
		sk_X509_EXTENSION_push(exts, e);
		cr_assert_eq(X509_REQ_add_extensions(r, exts), 1);
		sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	}
	cr_assert(X509_REQ_sign(r, k, st_md(k)) > 0);
	if (o->tamper) {
		const ASN1_BIT_STRING *sig = NULL;
		X509_REQ_get0_signature(r, &sig, NULL);
		unsigned char *p = (unsigned char *)ASN1_STRING_get0_data(sig);
		p[ASN1_STRING_length(sig) / 2] ^= 0x01;
		/* Drop the cached encoding so the flipped bit is written out. */
		i2d_re_X509_REQ_tbs(r, NULL);
	}
	char *out;
	if (der) {
		unsigned char *d = NULL;
		int l = i2d_X509_REQ(r, &d);
		cr_assert(l > 0);
		out = malloc((size_t)l);
		cr_assert_not_null(out);
		memcpy(out, d, (size_t)l);
		OPENSSL_free(d);
		*len = (size_t)l;
	} else {
		BIO *b = BIO_new(BIO_s_mem());
		cr_assert_eq(PEM_write_bio_X509_REQ(b, r), 1);
		out = bio_text(b);
		*len = strlen(out);
	}
	X509_REQ_free(r);
	return out;
}

X509 *st_parse_cert(const char *pem)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	cr_assert_not_null(x, "not a PEM certificate: %s", pem);
	return x;
}

size_t st_count_certs(const char *pem)
{
	size_t n = 0;
	for (const char *p = pem; (p = strstr(p, "-----BEGIN CERTIFICATE-----")) != NULL; p++)
		n++;
	return n;
}

int64_t st_time(const ASN1_TIME *t)
{
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	cr_assert_eq(ASN1_TIME_to_tm(t, &tm), 1);
	return (int64_t)timegm(&tm);
}

int st_run(const char *const *argv, char *out, size_t outlen)
{
	char tmpl[] = "/tmp/csr-approver-signer-run-XXXXXX";
	int fd = mkstemp(tmpl);
	cr_assert(fd >= 0);
	unlink(tmpl);
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		int in = open("/dev/null", O_RDONLY);
		dup2(in, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	int st = 0;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	lseek(fd, 0, SEEK_SET);
	size_t n = 0;
	for (;;) {
		ssize_t r = read(fd, out + n, outlen - 1 - n);
		if (r <= 0)
			break;
		n += (size_t)r;
		if (n == outlen - 1)
			break;
	}
	out[n] = '\0';
	close(fd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int st_verify(const char *root_path, const char *untrusted_path, const char *purpose,
              const char *leaf_pem, char *out, size_t outlen)
{
	char *leaf = st_path("verify-leaf.pem");
	st_write(leaf, leaf_pem);
	const char *argv[16];
	size_t n = 0;
	argv[n++] = "openssl";
	argv[n++] = "verify";
	argv[n++] = "-x509_strict";
	argv[n++] = "-CAfile";
	argv[n++] = root_path;
	if (untrusted_path) {
		argv[n++] = "-untrusted";
		argv[n++] = untrusted_path;
	}
	if (purpose) {
		argv[n++] = "-purpose";
		argv[n++] = purpose;
	}
	argv[n++] = leaf;
	argv[n] = NULL;
	int rc = st_run(argv, out, outlen);
	free(leaf);
	return rc;
}

bool st_leaks_key(const char *text, const char *key_pem)
{
	/* The base64 body: every line that is not a BEGIN/END line. */
	char body[16384];
	size_t n = 0;
	const char *p = key_pem;
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t l = nl ? (size_t)(nl - p) : strlen(p);
		if (l > 0 && p[0] != '-') {
			cr_assert_lt(n + l, sizeof(body));
			memcpy(body + n, p, l);
			n += l;
		}
		p += l + (nl ? 1 : 0);
	}
	for (size_t i = 0; i + 16 <= n; i++) {
		char w[17];
		memcpy(w, body + i, 16);
		w[16] = '\0';
		if (strstr(text, w) != NULL)
			return true;
	}
	return false;
}
