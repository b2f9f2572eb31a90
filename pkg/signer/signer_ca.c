/*
 * signer: loading the CA (certificate chain and private key), noticing when
 * its files change, and reloading them.
 */
#include "signer_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

/* ---- files ---- */

static void file_id_of(const struct stat *st, struct signer_file_id *id)
{
	memset(id, 0, sizeof(*id));
	id->ok = true;
	id->dev = st->st_dev;
	id->ino = st->st_ino;
	id->size = st->st_size;
	id->mtim = st->st_mtim;
	id->ctim = st->st_ctim;
}

static void file_id_stat(const char *path, struct signer_file_id *id)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		memset(id, 0, sizeof(*id));
		id->err = errno;
		return;
	}
	file_id_of(&st, id);
}

static bool file_id_eq(const struct signer_file_id *a, const struct signer_file_id *b)
{
	if (a->ok != b->ok)
		return false;
	if (!a->ok)
		return a->err == b->err;
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	    a->mtim.tv_sec == b->mtim.tv_sec && a->mtim.tv_nsec == b->mtim.tv_nsec &&
	    a->ctim.tv_sec == b->ctim.tv_sec && a->ctim.tv_nsec == b->ctim.tv_nsec;
}

/*
 * Read the regular file at path (at most max bytes) into *out (*len bytes,
 * NUL-terminated; the caller wipes it with OPENSSL_cleanse() and frees it:
 * both CA files may hold key material), and the identity of the file opened
 * into *id (left with ok false and the errno when it cannot be opened).
 * Returns 0, or -1 with a message beginning with what.
 */
static int read_file(const char *path, size_t max, const char *what, char **out, size_t *len,
                     struct signer_file_id *id, char *err, size_t errlen)
{
	int rc = -1, fd = -1;
	char *buf = NULL;
	size_t cap = 0, n = 0;
	struct stat st;

	*out = NULL;
	*len = 0;
	memset(id, 0, sizeof(*id));
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		id->err = errno;
		signer_errf(err, errlen, "%s: %s", what, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) != 0) {
		id->err = errno;
		signer_errf(err, errlen, "%s: %s", what, strerror(errno));
		goto out;
	}
	file_id_of(&st, id);
	if (!S_ISREG(st.st_mode)) {
		signer_errf(err, errlen, "%s: not a regular file", what);
		goto out;
	}
	if (st.st_size < 0 || (uintmax_t)st.st_size > max) {
		signer_errf(err, errlen, "%s: %lld bytes, more than the limit of %zu", what,
		            (long long)st.st_size, max);
		goto out;
	}
	/* One buffer of the size stat() gave, plus one byte to see growth: no
	 * reallocation that would leave copies of a key in freed memory. */
	cap = (size_t)st.st_size + 1;
	buf = util_xmalloc(cap + 1);
	while (n < cap) {
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			signer_errf(err, errlen, "%s: %s", what, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n == cap) {
		signer_errf(err, errlen, "%s: the file grew while it was read", what);
		goto out;
	}
	if (n == 0) {
		signer_errf(err, errlen, "%s: empty file", what);
		goto out;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	buf = NULL;
	rc = 0;
out:
	if (buf != NULL) {
		OPENSSL_cleanse(buf, cap + 1);
		free(buf);
	}
	if (fd >= 0)
		close(fd);
	return rc;
}

/* ---- the certificate chain ---- */

/* Is x a CA certificate: basicConstraints CA:TRUE, and keyCertSign when it
 * has a keyUsage? why gets the reason when not. */
static bool cert_is_ca(X509 *x, char *why, size_t whylen)
{
	uint32_t flags = X509_get_extension_flags(x);
	if (flags & EXFLAG_INVALID) {
		signer_errf(why, whylen, "has invalid or duplicate extensions");
		return false;
	}
	if (!(flags & EXFLAG_BCONS) || !(flags & EXFLAG_CA)) {
		signer_errf(why, whylen, "is not a CA (basicConstraints CA:TRUE missing)");
		return false;
	}
	if ((flags & EXFLAG_KUSAGE) && !(X509_get_key_usage(x) & KU_KEY_CERT_SIGN)) {
		signer_errf(why, whylen, "is not a CA (its keyUsage lacks keyCertSign)");
		return false;
	}
	return true;
}

/* Did issuer issue x: names, key identifiers and the signature? */
static bool cert_issued_by(X509 *x, X509 *issuer)
{
	EVP_PKEY *pub = X509_get0_pubkey(issuer);
	return X509_check_issued(issuer, x) == X509_V_OK && pub != NULL && X509_verify(x, pub) == 1;
}

static bool cert_self_signed(X509 *x)
{
	return cert_issued_by(x, x);
}

static int check_chain(STACK_OF(X509) * chain, const char *what, char *err, size_t errlen)
{
	char why[SIGNER_ERR_MAX];
	int n = sk_X509_num(chain);

	for (int i = 0; i < n; i++) {
		X509 *x = sk_X509_value(chain, i);
		if (!cert_is_ca(x, why, sizeof(why))) {
			signer_errf(
			    err, errlen, "%s: certificate %d %s%s", what, i + 1, why,
			    i > 0 ? " (every certificate of the file goes into the trust bundle, "
			            "which takes CA certificates only)"
			          : "");
			return -1;
		}
	}
	for (int i = 0; i + 1 < n; i++) {
		if (!cert_issued_by(sk_X509_value(chain, i), sk_X509_value(chain, i + 1))) {
			signer_errf(err, errlen,
			            "%s: certificate %d was not issued by certificate %d (want the "
			            "issuing CA first, then the CA that issued it, and so on)",
			            what, i + 1, i + 2);
			return -1;
		}
	}
	return 0;
}

/* ---- the key ---- */

/* Decode the private key in the blocks of the key file. */
static EVP_PKEY *decode_key(const struct signer_pem_block *blocks, size_t nb, const char *what,
                            char *err, size_t errlen)
{
	EVP_PKEY *key = NULL;
	PKCS8_PRIV_KEY_INFO *p8 = NULL;
	const struct signer_pem_block *kb = NULL;
	const unsigned char *p;

	for (size_t i = 0; i < nb; i++) {
		const struct signer_pem_block *b = &blocks[i];
		if (strcmp(b->label, "EC PARAMETERS") == 0 && i == 0 && nb > 1)
			continue;
		if (strcmp(b->label, "ENCRYPTED PRIVATE KEY") == 0) {
			signer_errf(err, errlen, "%s: the key is encrypted; want it unencrypted",
			            what);
			goto out;
		}
		if (strcmp(b->label, "PRIVATE KEY") != 0 &&
		    strcmp(b->label, "RSA PRIVATE KEY") != 0 &&
		    strcmp(b->label, "EC PRIVATE KEY") != 0) {
			signer_errf(err, errlen,
			            "%s: PEM block %zu (line %zu) is \"%s\", want PRIVATE KEY, RSA "
			            "PRIVATE KEY or EC PRIVATE KEY",
			            what, i + 1, b->line, b->label);
			goto out;
		}
		if (kb != NULL) {
			signer_errf(err, errlen, "%s: more than one private key", what);
			goto out;
		}
		kb = b;
	}
	if (kb == NULL) {
		signer_errf(err, errlen, "%s: no private key (want one PEM PRIVATE KEY block)",
		            what);
		goto out;
	}
	p = kb->der;
	if (strcmp(kb->label, "PRIVATE KEY") == 0) {
		p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, (long)kb->der_len);
		if (p8 != NULL && p == kb->der + kb->der_len)
			key = EVP_PKCS82PKEY(p8);
	} else {
		int type = strcmp(kb->label, "RSA PRIVATE KEY") == 0 ? EVP_PKEY_RSA : EVP_PKEY_EC;
		key = d2i_PrivateKey(type, NULL, &p, (long)kb->der_len);
		if (key != NULL && p != kb->der + kb->der_len) {
			EVP_PKEY_free(key);
			key = NULL;
		}
	}
	/* The message never carries OpenSSL's reason: it could quote key bytes. */
	if (key == NULL)
		signer_errf(err, errlen, "%s: the %s block does not decode as a private key", what,
		            kb->label);
out:
	PKCS8_PRIV_KEY_INFO_free(p8);
	return key;
}

/* Which keys a CA may have, and the digest each signs with. */
static int key_kind(EVP_PKEY *key, const EVP_MD **md, char *type, size_t typelen, char *why,
                    size_t whylen)
{
	char group[64] = "";

	if (EVP_PKEY_is_a(key, "RSA")) {
		int bits = EVP_PKEY_get_bits(key);
		if (bits < 2048) {
			signer_errf(why, whylen, "RSA key of %d bits, fewer than 2048", bits);
			return -1;
		}
		*md = EVP_sha256();
		snprintf(type, typelen, "RSA-%d", bits);
		return 0;
	}
	if (EVP_PKEY_is_a(key, "EC")) {
		size_t gl = 0;
		if (EVP_PKEY_get_group_name(key, group, sizeof(group), &gl) != 1)
			group[0] = '\0';
		if (strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0) {
			*md = EVP_sha256();
			snprintf(type, typelen, "ECDSA-P256");
		} else if (strcmp(group, "secp384r1") == 0 || strcmp(group, "P-384") == 0) {
			*md = EVP_sha384();
			snprintf(type, typelen, "ECDSA-P384");
		} else if (strcmp(group, "secp521r1") == 0 || strcmp(group, "P-521") == 0) {
			*md = EVP_sha512();
			snprintf(type, typelen, "ECDSA-P521");
		} else {
			signer_errf(
			    why, whylen,
			    "EC key on curve \"%s\", want P-256, P-384 or P-521 (a named curve)",
			    group[0] ? group : "unnamed");
			return -1;
		}
		return 0;
	}
	if (EVP_PKEY_is_a(key, "ED25519")) {
		*md = NULL;
		snprintf(type, typelen, "Ed25519");
		return 0;
	}
	signer_errf(why, whylen, "%s key, want RSA, ECDSA P-256/P-384/P-521 or Ed25519",
	            EVP_PKEY_get0_type_name(key) ? EVP_PKEY_get0_type_name(key) : "unknown");
	return -1;
}

/* Sign a fixed message with key and verify it with pub: a key whose private
 * half is damaged fails here instead of in every certificate. */
static bool key_signs_for(EVP_PKEY *key, const EVP_MD *md, EVP_PKEY *pub)
{
	static const unsigned char msg[] = "csr-approver CA key check";
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char *sig = NULL;
	size_t siglen = 0;
	bool ok = false;

	if (ctx == NULL)
		goto out;
	if (EVP_DigestSignInit(ctx, NULL, md, NULL, key) != 1 ||
	    EVP_DigestSign(ctx, NULL, &siglen, msg, sizeof(msg)) != 1)
		goto out;
	sig = OPENSSL_malloc(siglen);
	if (sig == NULL || EVP_DigestSign(ctx, sig, &siglen, msg, sizeof(msg)) != 1)
		goto out;
	EVP_MD_CTX_free(ctx);
	ctx = EVP_MD_CTX_new();
	if (ctx == NULL || EVP_DigestVerifyInit(ctx, NULL, md, NULL, pub) != 1)
		goto out;
	ok = EVP_DigestVerify(ctx, sig, siglen, msg, sizeof(msg)) == 1;
out:
	OPENSSL_free(sig);
	EVP_MD_CTX_free(ctx);
	return ok;
}

/* ---- derived data ---- */

static char *name_text(const X509_NAME *name)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data = NULL, *s = NULL;
	long n;

	if (bio == NULL)
		return util_xstrdup("");
	if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
		n = BIO_get_mem_data(bio, &data);
		if (n > 0 && data != NULL)
			s = util_xstrndup(data, (size_t)n);
	}
	BIO_free(bio);
	return s ? s : util_xstrdup("");
}

static int derive(struct signer_ca *ca, const char *what, char *err, size_t errlen)
{
	X509 *x0 = sk_X509_value(ca->chain, 0);
	const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(x0);
	struct util_buf bundle = {0}, tail = {0};
	int n = sk_X509_num(ca->chain);
	int rc = -1;

	if (signer_asn1_time_unix(X509_get0_notBefore(x0), &ca->not_before) != 0 ||
	    signer_asn1_time_unix(X509_get0_notAfter(x0), &ca->not_after) != 0) {
		signer_errf(err, errlen,
		            "%s: certificate 1 has a validity date that does not decode", what);
		goto out;
	}
	ca->subject = name_text(X509_get_subject_name(x0));

	/* The keyid of leaves' authorityKeyIdentifier: the CA's own
	 * subjectKeyIdentifier, else the RFC 5280 method 1 hash of its key. */
	if (ski != NULL && ASN1_STRING_length(ski) > 0 &&
	    (size_t)ASN1_STRING_length(ski) <= sizeof(ca->keyid)) {
		ca->keyid_len = (size_t)ASN1_STRING_length(ski);
		memcpy(ca->keyid, ASN1_STRING_get0_data(ski), ca->keyid_len);
	} else {
		unsigned int l = 0;
		if (X509_pubkey_digest(x0, EVP_sha1(), ca->keyid, &l) != 1) {
			signer_errf(err, errlen, "%s: cannot hash the CA public key", what);
			goto out;
		}
		ca->keyid_len = l;
	}

	for (int i = 0; i < n; i++) {
		X509 *x = sk_X509_value(ca->chain, i);
		bool dup = false;
		for (int j = 0; j < i && !dup; j++)
			dup = X509_cmp(x, sk_X509_value(ca->chain, j)) == 0;
		if (!dup && signer_pem_append_cert(&bundle, x) != 0) {
			signer_errf(err, errlen, "%s: cannot write certificate %d as PEM", what,
			            i + 1);
			goto out;
		}
		if (!cert_self_signed(x) && signer_pem_append_cert(&tail, x) != 0) {
			signer_errf(err, errlen, "%s: cannot write certificate %d as PEM", what,
			            i + 1);
			goto out;
		}
	}
	ca->bundle_pem = util_buf_take(&bundle);
	ca->chain_tail_pem = tail.data ? util_buf_take(&tail) : util_xstrdup("");
	rc = 0;
out:
	util_buf_reset(&bundle);
	util_buf_reset(&tail);
	return rc;
}

/* ---- parse and load ---- */

static int ca_parse(const char *cert_pem, size_t cert_len, const char *key_pem, size_t key_len,
                    const char *cert_what, const char *key_what, struct signer_ca **out, char *err,
                    size_t errlen)
{
	int rc = -1;
	struct signer_ca *ca = util_xcalloc(1, sizeof(*ca));
	struct signer_pem_block *blocks = NULL;
	size_t nb = 0;
	char why[SIGNER_ERR_MAX];

	*out = NULL;
	if (signer_parse_certs(cert_pem, cert_len, SIGNER_MAX_CHAIN, cert_what, &ca->chain, err,
	                       errlen) != 0)
		goto out;
	if (check_chain(ca->chain, cert_what, err, errlen) != 0)
		goto out;
	/* At most an EC PARAMETERS block and the key; one more to say "more
	 * than one key". */
	if (signer_pem_split(key_pem, key_len, true, 3, &blocks, &nb, why, sizeof(why)) != 0) {
		signer_errf(err, errlen, "%s: %s", key_what, why);
		goto out;
	}
	ca->key = decode_key(blocks, nb, key_what, err, errlen);
	if (ca->key == NULL)
		goto out;
	if (key_kind(ca->key, &ca->md, ca->key_type, sizeof(ca->key_type), why, sizeof(why)) != 0) {
		signer_errf(err, errlen, "%s: %s", key_what, why);
		goto out;
	}
	X509 *x0 = sk_X509_value(ca->chain, 0);
	EVP_PKEY *pub = X509_get0_pubkey(x0);
	if (pub == NULL || EVP_PKEY_eq(pub, ca->key) != 1) {
		signer_errf(err, errlen,
		            "%s does not match %s: the key is not the one of certificate 1 (the "
		            "issuing CA)",
		            key_what, cert_what);
		goto out;
	}
	if (!key_signs_for(ca->key, ca->md, pub)) {
		signer_errf(
		    err, errlen,
		    "%s: a test signature does not verify with the key of %s (damaged key?)",
		    key_what, cert_what);
		goto out;
	}
	if (derive(ca, cert_what, err, errlen) != 0)
		goto out;
	*out = ca;
	ca = NULL;
	rc = 0;
out:
	signer_pem_free(blocks, nb, true);
	signer_ca_free(ca);
	return rc;
}

int signer_ca_parse(const char *cert_pem, size_t cert_len, const char *key_pem, size_t key_len,
                    struct signer_ca **out, char *err, size_t errlen)
{
	int rc;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	ERR_set_mark();
	rc = ca_parse(cert_pem, cert_len, key_pem, key_len, "CA certificate", "CA key", out, err,
	              errlen);
	ERR_pop_to_mark();
	return rc;
}

/* Load the files, filling *cert_id and *key_id with what was read even
 * when it fails. */
static int ca_load(const char *cert_path, const char *key_path, struct signer_ca **out,
                   struct signer_file_id *cert_id, struct signer_file_id *key_id, char *err,
                   size_t errlen)
{
	int rc = -1;
	char *cert = NULL, *key = NULL;
	size_t cert_len = 0, key_len = 0;
	char *cert_what = NULL, *key_what = NULL;

	*out = NULL;
	memset(cert_id, 0, sizeof(*cert_id));
	memset(key_id, 0, sizeof(*key_id));
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	ERR_set_mark();
	if (cert_path == NULL || key_path == NULL || *cert_path == '\0' || *key_path == '\0') {
		signer_errf(err, errlen,
		            "CA files: both a certificate file and a key file are needed");
		goto out;
	}
	cert_what = util_xasprintf("CA certificate file %s", cert_path);
	key_what = util_xasprintf("CA key file %s", key_path);
	/* The certificate file is wiped as well: a key file given as the
	 * certificate file must leave no copy behind. When it fails, the key
	 * file's identity is still taken, for signer_ca_reload(). */
	if (read_file(cert_path, SIGNER_MAX_CERT_FILE, cert_what, &cert, &cert_len, cert_id, err,
	              errlen) != 0) {
		file_id_stat(key_path, key_id);
		goto out;
	}
	if (read_file(key_path, SIGNER_MAX_KEY_FILE, key_what, &key, &key_len, key_id, err,
	              errlen) != 0)
		goto out;
	if (ca_parse(cert, cert_len, key, key_len, cert_what, key_what, out, err, errlen) != 0)
		goto out;
	(*out)->cert_path = util_xstrdup(cert_path);
	(*out)->key_path = util_xstrdup(key_path);
	(*out)->cert_id = *cert_id;
	(*out)->key_id = *key_id;
	rc = 0;
out:
	if (cert != NULL) {
		OPENSSL_cleanse(cert, cert_len);
		free(cert);
	}
	if (key != NULL) {
		OPENSSL_cleanse(key, key_len);
		free(key);
	}
	free(cert_what);
	free(key_what);
	ERR_pop_to_mark();
	return rc;
}

int signer_ca_load(const char *cert_path, const char *key_path, struct signer_ca **out, char *err,
                   size_t errlen)
{
	struct signer_file_id cid, kid;
	return ca_load(cert_path, key_path, out, &cid, &kid, err, errlen);
}

void signer_ca_free(struct signer_ca *ca)
{
	if (ca == NULL)
		return;
	free(ca->cert_path);
	free(ca->key_path);
	sk_X509_pop_free(ca->chain, X509_free);
	EVP_PKEY_free(ca->key);
	free(ca->subject);
	free(ca->bundle_pem);
	free(ca->chain_tail_pem);
	OPENSSL_cleanse(ca, sizeof(*ca));
	free(ca);
}

/* ---- getters ---- */

int64_t signer_ca_not_before(const struct signer_ca *ca)
{
	return ca->not_before;
}

int64_t signer_ca_not_after(const struct signer_ca *ca)
{
	return ca->not_after;
}

const char *signer_ca_subject(const struct signer_ca *ca)
{
	return ca->subject;
}

const char *signer_ca_key_type(const struct signer_ca *ca)
{
	return ca->key_type;
}

size_t signer_ca_chain_len(const struct signer_ca *ca)
{
	return (size_t)sk_X509_num(ca->chain);
}

const char *signer_ca_bundle_pem(const struct signer_ca *ca)
{
	return ca->bundle_pem;
}

/* ---- reload ---- */

bool signer_ca_changed(const struct signer_ca *ca)
{
	struct signer_file_id c, k;
	if (ca == NULL || ca->cert_path == NULL)
		return false;
	file_id_stat(ca->cert_path, &c);
	file_id_stat(ca->key_path, &k);
	return !file_id_eq(&c, &ca->cert_id) || !file_id_eq(&k, &ca->key_id);
}

int signer_ca_reload(struct signer_ca **ca, char *err, size_t errlen)
{
	struct signer_ca *old = *ca, *fresh = NULL;
	struct signer_file_id c, k;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (old == NULL || old->cert_path == NULL || !signer_ca_changed(old))
		return 0;
	if (old->failed) {
		file_id_stat(old->cert_path, &c);
		file_id_stat(old->key_path, &k);
		if (file_id_eq(&c, &old->failed_cert_id) && file_id_eq(&k, &old->failed_key_id))
			return 0;
	}
	if (ca_load(old->cert_path, old->key_path, &fresh, &c, &k, err, errlen) != 0) {
		old->failed = true;
		old->failed_cert_id = c;
		old->failed_key_id = k;
		return -1;
	}
	signer_ca_free(old);
	*ca = fresh;
	return 1;
}
