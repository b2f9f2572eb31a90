/*
 * agent: what an issued certificate must be before it is written, and when
 * to renew it.
 *
 * The certificate comes from the API server, written there by whoever may
 * sign for the signer: it is checked as untrusted input. Typed access only
 * (GENERAL_NAME, ASN1 strings as pointer and length); nothing here parses
 * text that OpenSSL printed.
 */
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "agent.h"
#include "internal.h"

/* Caps on certificates in a chain and in a CA bundle. */
#define MAX_CHAIN 16
#define MAX_BUNDLE 512
/* How far in the future a notBefore may be (clock skew). */
#define SKEW_S 300

/*
 * Read PEM CERTIFICATE blocks (nothing else, no PEM headers, strict DER)
 * into a new stack. what names the input in messages. Returns NULL with err.
 */
static STACK_OF(X509) *
    read_certs(const char *pem, size_t len, size_t max, const char *what, char *err, size_t errlen)
{
	STACK_OF(X509) *sk = sk_X509_new_null();
	BIO *bio = NULL;
	char *name = NULL, *header = NULL;
	unsigned char *data = NULL;
	long dlen = 0;

	if (sk == NULL)
		goto fail_mem;
	if (len > AGENT_MAX_PEM) {
		snprintf(err, errlen, "%s: larger than 1 MiB", what);
		goto fail;
	}
	bio = BIO_new_mem_buf(pem, (int)len);
	if (bio == NULL)
		goto fail_mem;
	while (PEM_read_bio(bio, &name, &header, &data, &dlen) == 1) {
		if (strcmp(name, "CERTIFICATE") != 0 || header[0] != '\0') {
			snprintf(err, errlen, "%s: holds a PEM block other than CERTIFICATE", what);
			goto fail;
		}
		const unsigned char *p = data;
		X509 *x = d2i_X509(NULL, &p, dlen);
		if (x == NULL || p != data + dlen) {
			X509_free(x);
			snprintf(err, errlen, "%s: a CERTIFICATE block is not a certificate", what);
			goto fail;
		}
		if ((size_t)sk_X509_num(sk) >= max || sk_X509_push(sk, x) <= 0) {
			X509_free(x);
			snprintf(err, errlen, "%s: more than %zu certificates", what, max);
			goto fail;
		}
		OPENSSL_free(name);
		OPENSSL_free(header);
		OPENSSL_free(data);
		name = header = NULL;
		data = NULL;
	}
	ERR_clear_error(); /* the end of input is reported as an error */
	if (sk_X509_num(sk) == 0) {
		snprintf(err, errlen, "%s: no PEM CERTIFICATE block", what);
		goto fail;
	}
	BIO_free(bio);
	return sk;
fail_mem:
	snprintf(err, errlen, "%s: out of memory", what);
fail:
	ERR_clear_error();
	OPENSSL_free(name);
	OPENSSL_free(header);
	OPENSSL_free(data);
	BIO_free(bio);
	sk_X509_pop_free(sk, X509_free);
	return NULL;
}

static int asn1_time_unix(const ASN1_TIME *t, int64_t *out)
{
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return -1;
	*out = (int64_t)timegm(&tm);
	return 0;
}

/* Which requested name a certificate SAN is, or -1. */
static long find_name(const struct agent_names *names, const GENERAL_NAME *g)
{
	int type;
	const void *v = GENERAL_NAME_get0_value(g, &type);
	const ASN1_STRING *s = v;
	if (type != GEN_DNS && type != GEN_URI && type != GEN_IPADD)
		return -1;
	const unsigned char *d = ASN1_STRING_get0_data(s);
	size_t n = (size_t)ASN1_STRING_length(s);
	for (size_t i = 0; i < names->n; i++) {
		const struct agent_san *want = &names->v[i];
		if (type == GEN_IPADD && want->type == AGENT_SAN_IP) {
			if (n == want->ip_len && memcmp(d, want->ip, n) == 0)
				return (long)i;
		} else if (type == GEN_URI && want->type == AGENT_SAN_URI) {
			if (n == strlen(want->value) && memcmp(d, want->value, n) == 0)
				return (long)i;
		} else if (type == GEN_DNS && want->type == AGENT_SAN_DNS) {
			if (n == strlen(want->value) && memchr(d, '\0', n) == NULL &&
			    strncasecmp((const char *)d, want->value, n) == 0)
				return (long)i;
		}
	}
	return -1;
}

static const char *san_kind(enum agent_san_type t)
{
	return t == AGENT_SAN_URI ? "URI" : t == AGENT_SAN_IP ? "IP" : "DNS";
}

int agent_cert_check(const char *pem, size_t len, const struct agent_key *k,
                     const struct agent_names *names, int64_t now, struct agent_cert_times *times,
                     char *err, size_t errlen)
{
	STACK_OF(X509) *chain = NULL;
	GENERAL_NAMES *gens = NULL;
	bool *seen = NULL;
	int rc = -1, crit = -1;

	chain = read_certs(pem, len, MAX_CHAIN, "the issued certificate", err, errlen);
	if (chain == NULL)
		goto out;
	X509 *leaf = sk_X509_value(chain, 0);
	EVP_PKEY *pub = X509_get0_pubkey(leaf);
	if (pub == NULL || EVP_PKEY_eq(pub, agent_key_pkey(k)) != 1) {
		snprintf(err, errlen, "the issued certificate is not for this agent's key");
		goto out;
	}
	gens = X509_get_ext_d2i(leaf, NID_subject_alt_name, &crit, NULL);
	if (gens == NULL && crit != -1) {
		snprintf(err, errlen, "the issued certificate's subjectAltName is %s",
		         crit == -2 ? "repeated" : "malformed");
		goto out;
	}
	seen = util_xcalloc(names->n ? names->n : 1, sizeof(*seen));
	for (int i = 0; gens != NULL && i < sk_GENERAL_NAME_num(gens); i++) {
		long at = find_name(names, sk_GENERAL_NAME_value(gens, i));
		if (at < 0) {
			snprintf(err, errlen,
			         "the issued certificate names something that was not asked for "
			         "(SAN %d)",
			         i + 1);
			goto out;
		}
		seen[at] = true;
	}
	for (size_t i = 0; i < names->n; i++) {
		if (!seen[i]) {
			snprintf(err, errlen, "the issued certificate lacks the name %s:%.256s",
			         san_kind(names->v[i].type), names->v[i].value);
			goto out;
		}
	}
	if (asn1_time_unix(X509_get0_notBefore(leaf), &times->not_before) != 0 ||
	    asn1_time_unix(X509_get0_notAfter(leaf), &times->not_after) != 0) {
		snprintf(err, errlen, "the issued certificate's validity cannot be read");
		goto out;
	}
	if (times->not_after <= now) {
		snprintf(err, errlen, "the issued certificate has already expired");
		goto out;
	}
	if (times->not_before > now + SKEW_S) {
		snprintf(err, errlen,
		         "the issued certificate is not valid yet (notBefore is "
		         "more than 5 minutes ahead)");
		goto out;
	}
	if (times->not_after <= times->not_before) {
		snprintf(err, errlen,
		         "the issued certificate's notAfter is not after its notBefore");
		goto out;
	}
	rc = 0;
out:
	free(seen);
	GENERAL_NAMES_free(gens);
	sk_X509_pop_free(chain, X509_free);
	return rc;
}

int agent_cert_verify_chain(const char *pem, size_t len, const char *ca_pem, size_t ca_len,
                            int64_t now, char *err, size_t errlen)
{
	STACK_OF(X509) *chain = NULL, *cas = NULL;
	X509_STORE *store = NULL;
	X509_STORE_CTX *ctx = NULL;
	int rc = -1;

	chain = read_certs(pem, len, MAX_CHAIN, "the issued certificate", err, errlen);
	if (chain == NULL)
		goto out;
	cas = read_certs(ca_pem, ca_len, MAX_BUNDLE, "the CA bundle", err, errlen);
	if (cas == NULL)
		goto out;
	store = X509_STORE_new();
	ctx = X509_STORE_CTX_new();
	if (store == NULL || ctx == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (int i = 0; i < sk_X509_num(cas); i++) {
		if (X509_STORE_add_cert(store, sk_X509_value(cas, i)) != 1)
			ERR_clear_error(); /* a duplicate in the bundle */
	}
	X509 *leaf = sk_X509_shift(chain);
	if (X509_STORE_CTX_init(ctx, store, leaf, chain) != 1) {
		X509_free(leaf);
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	/* The bundle is what the signer publishes: an issuing CA in it is a
	 * trust anchor even when its root is not there. */
	X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_PARTIAL_CHAIN);
	X509_STORE_CTX_set_time(ctx, 0, (time_t)now);
	if (X509_verify_cert(ctx) == 1) {
		rc = 0;
	} else {
		snprintf(err, errlen,
		         "the issued certificate does not chain to the signer's CA: %s",
		         X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
	}
	X509_STORE_CTX_cleanup(ctx);
	X509_free(leaf);
out:
	ERR_clear_error();
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	sk_X509_pop_free(cas, X509_free);
	sk_X509_pop_free(chain, X509_free);
	return rc;
}

int64_t agent_renew_delay_ms(const struct agent_cert_times *t, double renew_at, int64_t now_ms)
{
	long double life_ms = ((long double)t->not_after - (long double)t->not_before) * 1000.0L;
	long double at = (long double)t->not_before * 1000.0L + life_ms * (long double)renew_at;
	long double delay = at - (long double)now_ms;
	if (delay < AGENT_RENEW_MIN_MS)
		return AGENT_RENEW_MIN_MS;
	/* Beyond any certificate's life: a year is plenty. */
	if (delay > 366.0L * 24 * 3600 * 1000)
		return (int64_t)366 * 24 * 3600 * 1000;
	return (int64_t)delay;
}
