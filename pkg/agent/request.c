/*
 * agent: the key, made in memory, and the PKCS#10 request it signs.
 *
 * Built with typed OpenSSL calls (GENERAL_NAME per SAN, X509_NAME entries),
 * never from text configuration, so that no name can smuggle syntax.
 */
#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <string.h>

#include "agent.h"
#include "internal.h"

struct agent_key {
	enum agent_key_type type;
	EVP_PKEY *pkey;
};

void agent_secret_free(char *p, size_t len)
{
	if (p == NULL)
		return;
	OPENSSL_cleanse(p, len);
	free(p);
}

struct agent_key *agent_key_new(enum agent_key_type t, char *err, size_t errlen)
{
	EVP_PKEY *pkey = NULL;

	switch (t) {
	case AGENT_KEY_ECDSA_P256:
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
		break;
	case AGENT_KEY_ECDSA_P384:
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
		break;
	case AGENT_KEY_ED25519:
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
		break;
	case AGENT_KEY_RSA_2048:
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
		break;
	case AGENT_KEY_RSA_3072:
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)3072);
		break;
	case AGENT_KEY_RSA_4096:
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)4096);
		break;
	}
	if (pkey == NULL) {
		snprintf(err, errlen, "could not make a %s key", agent_key_type_name(t));
		return NULL;
	}
	struct agent_key *k = util_xcalloc(1, sizeof(*k));
	k->type = t;
	k->pkey = pkey;
	return k;
}

void agent_key_free(struct agent_key *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_free(k->pkey);
	free(k);
}

enum agent_key_type agent_key_type(const struct agent_key *k)
{
	return k->type;
}

EVP_PKEY *agent_key_pkey(const struct agent_key *k)
{
	return k->pkey;
}

/* Copy a memory BIO's contents out, NUL-terminated. */
static char *bio_take(BIO *bio, size_t *len)
{
	char *data = NULL;
	long n = BIO_get_mem_data(bio, &data);
	if (n < 0)
		n = 0;
	char *out = util_xmalloc((size_t)n + 1);
	if (n > 0)
		memcpy(out, data, (size_t)n);
	out[n] = '\0';
	*len = (size_t)n;
	return out;
}

char *agent_key_pem(const struct agent_key *k, size_t *len)
{
	BIO *bio = BIO_new(BIO_s_secmem());
	char *out = NULL;
	if (bio == NULL)
		bio = BIO_new(BIO_s_mem());
	if (bio == NULL || PEM_write_bio_PrivateKey(bio, k->pkey, NULL, NULL, 0, NULL, NULL) != 1) {
		/* Only out of memory gets here. */
		fprintf(stderr, "csr-approver: could not encode a private key\n");
		abort();
	}
	out = bio_take(bio, len);
	BIO_free(bio); /* a secure-memory BIO wipes what it held */
	return out;
}

static int add_san(GENERAL_NAMES *gens, const struct agent_san *s)
{
	GENERAL_NAME *g = GENERAL_NAME_new();
	ASN1_IA5STRING *ia5 = NULL;
	ASN1_OCTET_STRING *oct = NULL;
	if (g == NULL)
		return -1;
	if (s->type == AGENT_SAN_IP) {
		oct = ASN1_OCTET_STRING_new();
		if (oct == NULL || ASN1_OCTET_STRING_set(oct, s->ip, (int)s->ip_len) != 1)
			goto fail;
		GENERAL_NAME_set0_value(g, GEN_IPADD, oct);
	} else {
		ia5 = ASN1_IA5STRING_new();
		if (ia5 == NULL || ASN1_STRING_set(ia5, s->value, (int)strlen(s->value)) != 1)
			goto fail;
		GENERAL_NAME_set0_value(g, s->type == AGENT_SAN_URI ? GEN_URI : GEN_DNS, ia5);
	}
	if (sk_GENERAL_NAME_push(gens, g) <= 0) {
		GENERAL_NAME_free(g);
		return -1;
	}
	return 0;
fail:
	ASN1_OCTET_STRING_free(oct);
	ASN1_IA5STRING_free(ia5);
	GENERAL_NAME_free(g);
	return -1;
}

char *agent_csr_build(const struct agent_key *k, const struct agent_names *names, size_t *len,
                      char *err, size_t errlen)
{
	X509_REQ *req = NULL;
	X509_NAME *subj = NULL;
	GENERAL_NAMES *gens = NULL;
	STACK_OF(X509_EXTENSION) *exts = NULL;
	X509_EXTENSION *ext = NULL;
	BIO *bio = NULL;
	char *out = NULL;
	const EVP_MD *md = NULL;

	req = X509_REQ_new();
	subj = X509_NAME_new();
	gens = sk_GENERAL_NAME_new_null();
	exts = sk_X509_EXTENSION_new_null();
	if (req == NULL || subj == NULL || gens == NULL || exts == NULL)
		goto fail;
	if (X509_REQ_set_version(req, X509_REQ_VERSION_1) != 1)
		goto fail;
	if (names->cn != NULL &&
	    X509_NAME_add_entry_by_NID(subj, NID_commonName, MBSTRING_UTF8,
	                               (const unsigned char *)names->cn, -1, -1, 0) != 1)
		goto fail;
	if (X509_REQ_set_subject_name(req, subj) != 1)
		goto fail;
	if (X509_REQ_set_pubkey(req, k->pkey) != 1)
		goto fail;
	for (size_t i = 0; i < names->n; i++)
		if (add_san(gens, &names->v[i]) != 0)
			goto fail;
	if (names->n > 0) {
		/* Not critical: the subject may be empty, but the approver and
		 * the signer read SANs either way. */
		ext = X509V3_EXT_i2d(NID_subject_alt_name, 0, gens);
		if (ext == NULL || sk_X509_EXTENSION_push(exts, ext) <= 0)
			goto fail;
		ext = NULL;
		if (X509_REQ_add_extensions(req, exts) != 1)
			goto fail;
	}
	switch (k->type) {
	case AGENT_KEY_ED25519:
		md = NULL;
		break;
	case AGENT_KEY_ECDSA_P384:
		md = EVP_sha384();
		break;
	default:
		md = EVP_sha256();
		break;
	}
	if (X509_REQ_sign(req, k->pkey, md) <= 0)
		goto fail;
	bio = BIO_new(BIO_s_mem());
	if (bio == NULL || PEM_write_bio_X509_REQ(bio, req) != 1)
		goto fail;
	out = bio_take(bio, len);
	goto out;
fail:
	snprintf(err, errlen, "could not build the certificate request");
out:
	BIO_free(bio);
	X509_EXTENSION_free(ext);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	GENERAL_NAMES_free(gens);
	X509_NAME_free(subj);
	X509_REQ_free(req);
	return out;
}
