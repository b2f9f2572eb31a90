/*
 * csr: what the inventory (`csr-approver report`, the expiry metrics) and
 * the audit log need to know of an issued certificate: serial, validity,
 * key fingerprint and names. The input comes from the API server, written
 * by whatever signer issued it: it is decoded, capped and never trusted to
 * be well formed.
 */
#include "csr.h"
#include "csr_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

/* Longest SAN text copied; longer ones are cut (a name is not a payload). */
#define CERT_SAN_MAX 256

const char *csr_key_text(const struct csr_key *k, char *buf, size_t len)
{
	switch (k->type) {
	case CSR_KEY_RSA:
		snprintf(buf, len, "RSA-%d", k->bits);
		break;
	case CSR_KEY_RSA_PSS:
		snprintf(buf, len, "RSA-PSS-%d", k->bits);
		break;
	case CSR_KEY_EC:
		if (strcmp(k->ec_curve, "prime256v1") == 0)
			snprintf(buf, len, "ECDSA-P256");
		else if (strcmp(k->ec_curve, "secp384r1") == 0)
			snprintf(buf, len, "ECDSA-P384");
		else if (strcmp(k->ec_curve, "secp521r1") == 0)
			snprintf(buf, len, "ECDSA-P521");
		else
			snprintf(buf, len, "EC-%s", k->ec_curve[0] ? k->ec_curve : "explicit");
		break;
	case CSR_KEY_ED25519:
		snprintf(buf, len, "Ed25519");
		break;
	case CSR_KEY_ED448:
		snprintf(buf, len, "Ed448");
		break;
	case CSR_KEY_DSA:
		snprintf(buf, len, "DSA-%d", k->bits);
		break;
	default:
		snprintf(buf, len, "unknown");
		break;
	}
	return buf;
}

void csr_cert_clear(struct csr_cert *c)
{
	if (c == NULL)
		return;
	util_strv_free(&c->sans);
	memset(c, 0, sizeof(*c));
}

static int cert_time(const ASN1_TIME *t, int64_t *out)
{
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return -1;
	*out = (int64_t)timegm(&tm);
	return 0;
}

/* Printable ASCII only: anything else becomes '?', so that a name a signer
 * wrote can go into a table, a CSV cell or a log line as it is. */
static void cert_put_text(struct util_buf *b, const unsigned char *p, size_t n)
{
	if (n > CERT_SAN_MAX)
		n = CERT_SAN_MAX;
	for (size_t i = 0; i < n; i++)
		util_buf_putc(b, p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '?');
}

static void cert_sans(X509 *x, struct csr_cert *out)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	int n = gens ? sk_GENERAL_NAME_num(gens) : 0;
	for (int i = 0; i < n; i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		int type;
		const ASN1_STRING *s = GENERAL_NAME_get0_value(g, &type);
		struct util_buf b = {0};
		out->n_sans_total++;
		if (out->sans.n >= CSR_CERT_MAX_SANS || s == NULL)
			continue;
		const unsigned char *d = ASN1_STRING_get0_data(s);
		size_t len = (size_t)ASN1_STRING_length(s);
		if (type == GEN_DNS || type == GEN_URI) {
			cert_put_text(&b, d, len);
		} else if (type == GEN_IPADD && (len == 4 || len == 16)) {
			char ip[INET6_ADDRSTRLEN];
			if (inet_ntop(len == 4 ? AF_INET : AF_INET6, d, ip, sizeof(ip)) == NULL)
				continue;
			util_buf_puts(&b, ip);
		} else {
			continue;
		}
		util_strv_push(&out->sans, util_buf_str(&b));
		util_buf_reset(&b);
	}
	GENERAL_NAMES_free(gens);
}

static void cert_serial(X509 *x, struct csr_cert *out)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	char *hex = bn ? BN_bn2hex(bn) : NULL;
	if (hex != NULL) {
		size_t n = strlen(hex);
		if (n >= sizeof(out->serial))
			snprintf(out->serial, sizeof(out->serial), "%.*s...",
			         (int)(sizeof(out->serial) - 4), hex);
		else
			memcpy(out->serial, hex, n + 1);
	}
	OPENSSL_free(hex);
	BN_free(bn);
}

int csr_cert_parse(const char *pem, size_t len, struct csr_cert *out, char *err, size_t errlen)
{
	int rc = -1;
	BIO *bio = NULL;
	X509 *x = NULL;
	unsigned char *spki = NULL;
	int spki_len;

	ERR_set_mark();
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	memset(out, 0, sizeof(*out));
	if (pem == NULL || len == 0) {
		csr_errf(err, errlen, "empty certificate");
		goto out;
	}
	if (len > CSR_MAX_CERT_PEM) {
		csr_errf(err, errlen, "certificate text is %zu bytes, more than the limit of %d",
		         len, CSR_MAX_CERT_PEM);
		goto out;
	}
	bio = BIO_new_mem_buf(pem, (int)len);
	if (bio == NULL) {
		csr_errf(err, errlen, "internal error: no memory BIO");
		goto out;
	}
	x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	if (x == NULL) {
		csr_errf(err, errlen, "no PEM CERTIFICATE block that decodes");
		goto out;
	}
	if (cert_time(X509_get0_notBefore(x), &out->not_before) != 0 ||
	    cert_time(X509_get0_notAfter(x), &out->not_after) != 0) {
		csr_errf(err, errlen, "certificate validity does not decode");
		goto out;
	}
	spki_len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &spki);
	if (spki_len <= 0 || csr_sha256_hex(spki, (size_t)spki_len, out->spki_sha256) != 0) {
		csr_errf(err, errlen, "certificate public key does not encode");
		goto out;
	}
	cert_serial(x, out);
	cert_sans(x, out);
	rc = 0;
out:
	if (rc != 0)
		csr_cert_clear(out);
	OPENSSL_free(spki);
	X509_free(x);
	BIO_free(bio);
	ERR_pop_to_mark();
	return rc;
}

/* The element at *p (before end): its tag, content, and *p moved past it.
 * Returns 0, or -1 when no whole element is there. */
static int cert_der_step(const unsigned char **p, const unsigned char *end, unsigned char *tag,
                         const unsigned char **content, size_t *clen)
{
	if (*p >= end || csr_der_next(*p, (size_t)(end - *p), tag, content, clen) != 0)
		return -1;
	*p = *content + *clen;
	return 0;
}

/* notAfter from a strict-DER Certificate: tbsCertificate's [0] version
 * (optional), serialNumber, signature, issuer, then validity. */
static int cert_der_not_after(const unsigned char *der, size_t len, int64_t *out)
{
	const unsigned char *p = der, *end = der + len, *c, *tbs_end, *at;
	size_t clen;
	unsigned char tag;
	ASN1_TIME *t = NULL;
	int rc = -1;

	if (csr_der_check(der, len, NULL, 0) != 0 || cert_der_step(&p, end, &tag, &c, &clen) != 0 ||
	    tag != 0x30)
		return -1;
	p = c;
	end = c + clen;
	if (cert_der_step(&p, end, &tag, &c, &clen) != 0 || tag != 0x30)
		return -1;
	p = c;
	tbs_end = c + clen;
	if (cert_der_step(&p, tbs_end, &tag, &c, &clen) != 0)
		return -1;
	if (tag == 0xa0 && cert_der_step(&p, tbs_end, &tag, &c, &clen) != 0)
		return -1;
	if (tag != 0x02) /* serialNumber */
		return -1;
	for (int i = 0; i < 3; i++) { /* signature, issuer, validity */
		if (cert_der_step(&p, tbs_end, &tag, &c, &clen) != 0 || tag != 0x30)
			return -1;
	}
	p = c; /* inside validity */
	end = c + clen;
	for (int i = 0; i < 2; i++) { /* notBefore, notAfter */
		at = p;
		if (cert_der_step(&p, end, &tag, &c, &clen) != 0 ||
		    (tag != V_ASN1_UTCTIME && tag != V_ASN1_GENERALIZEDTIME))
			return -1;
	}
	if (p != end || (t = d2i_ASN1_TIME(NULL, &at, (long)(p - at))) == NULL)
		return -1;
	rc = cert_time(t, out);
	ASN1_TIME_free(t);
	return rc;
}

int csr_cert_not_after(const char *pem, size_t len, int64_t *out, char *err, size_t errlen)
{
	BIO *bio = NULL;
	unsigned char *der = NULL;
	long dlen = 0;
	struct csr_cert cert;
	int rc = -1;

	ERR_set_mark();
	*out = 0;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (pem != NULL && len > 0 && len <= CSR_MAX_CERT_PEM &&
	    (bio = BIO_new_mem_buf(pem, (int)len)) != NULL &&
	    PEM_bytes_read_bio(&der, &dlen, NULL, PEM_STRING_X509, bio, NULL, NULL) == 1 &&
	    dlen > 0 && cert_der_not_after(der, (size_t)dlen, out) == 0) {
		rc = 0;
		goto out;
	}
	/* Not strict DER, or not the shape expected: the full decoder
	 * decides, and names what is wrong. */
	*out = 0;
	if (csr_cert_parse(pem, len, &cert, err, errlen) == 0) {
		*out = cert.not_after;
		csr_cert_clear(&cert);
		rc = 0;
	}
out:
	OPENSSL_free(der);
	BIO_free(bio);
	ERR_pop_to_mark();
	return rc;
}
