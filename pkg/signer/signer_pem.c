/*
 * signer: strict PEM splitting, certificate lists, time conversions and
 * messages, shared by the CA loader, the issuer and the trust bundle.
 */
#include "signer_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/pem.h>

#define PEM_BEGIN "-----BEGIN "
#define PEM_END "-----END "
#define PEM_DASHES "-----"

void signer_errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* ---- PEM ---- */

static bool line_has_prefix(const char *p, size_t n, const char *prefix)
{
	size_t l = strlen(prefix);
	return n >= l && memcmp(p, prefix, l) == 0;
}

static bool line_has_suffix(const char *p, size_t n, const char *suffix)
{
	size_t l = strlen(suffix);
	return n >= l && memcmp(p + n - l, suffix, l) == 0;
}

static bool label_ok(const char *p, size_t n)
{
	if (n == 0 || n >= sizeof(((struct signer_pem_block *)0)->label))
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = p[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ' '))
			return false;
	}
	return p[0] != ' ' && p[n - 1] != ' ';
}

static void wipe_free(void *p, size_t n, bool secret)
{
	if (p != NULL && secret)
		OPENSSL_cleanse(p, n);
	free(p);
}

void signer_pem_free(struct signer_pem_block *b, size_t n, bool secret)
{
	if (b == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		wipe_free(b[i].der, b[i].der_len, secret);
	free(b);
}

int signer_pem_split(const char *text, size_t len, bool secret, size_t max_blocks,
                     struct signer_pem_block **out, size_t *n, char *why, size_t whylen)
{
	int rc = -1;
	struct signer_pem_block *blocks = NULL;
	size_t nb = 0, cap = 0;
	char *b64 = NULL; /* the base64 of the current block */
	size_t nb64 = 0;
	size_t pos = 0, line = 0;
	bool inside = false, first_body_line = false;
	struct signer_pem_block cur;

	memset(&cur, 0, sizeof(cur));
	*out = NULL;
	*n = 0;
	if (len > 0 && text == NULL) {
		signer_errf(why, whylen, "no text");
		goto out;
	}
	b64 = util_xmalloc(len + 1);
	while (pos < len) {
		const char *l = text + pos;
		const char *nl = memchr(l, '\n', len - pos);
		size_t ll = nl ? (size_t)(nl - l) : len - pos;
		pos += ll + (nl ? 1 : 0);
		line++;
		/* Trailing spaces, tabs and a CR are not part of the line. */
		while (ll > 0 && (l[ll - 1] == ' ' || l[ll - 1] == '\t' || l[ll - 1] == '\r'))
			ll--;
		if (memchr(l, '\0', ll) != NULL) {
			signer_errf(why, whylen, "line %zu: NUL byte", line);
			goto out;
		}
		if (!inside) {
			size_t lead = 0;
			while (lead < ll && (l[lead] == ' ' || l[lead] == '\t'))
				lead++;
			if (lead == ll)
				continue;
			if (lead != 0 || !line_has_prefix(l, ll, PEM_BEGIN) ||
			    !line_has_suffix(l, ll, PEM_DASHES) ||
			    ll < strlen(PEM_BEGIN) + strlen(PEM_DASHES)) {
				signer_errf(why, whylen,
				            "line %zu: text outside a PEM block (want only "
				            "\"-----BEGIN ...-----\" blocks)",
				            line);
				goto out;
			}
			const char *lab = l + strlen(PEM_BEGIN);
			size_t labn = ll - strlen(PEM_BEGIN) - strlen(PEM_DASHES);
			if (!label_ok(lab, labn)) {
				signer_errf(why, whylen, "line %zu: malformed PEM BEGIN line",
				            line);
				goto out;
			}
			if (nb == max_blocks) {
				signer_errf(why, whylen, "line %zu: more than %zu PEM blocks", line,
				            max_blocks);
				goto out;
			}
			memcpy(cur.label, lab, labn);
			cur.label[labn] = '\0';
			cur.line = line;
			inside = true;
			first_body_line = true;
			nb64 = 0;
			continue;
		}
		if (line_has_prefix(l, ll, PEM_END)) {
			size_t labn = strlen(cur.label);
			if (ll != strlen(PEM_END) + labn + strlen(PEM_DASHES) ||
			    memcmp(l + strlen(PEM_END), cur.label, labn) != 0 ||
			    !line_has_suffix(l, ll, PEM_DASHES)) {
				signer_errf(
				    why, whylen,
				    "line %zu: PEM END line does not match \"-----BEGIN %s-----\" "
				    "of line %zu",
				    line, cur.label, cur.line);
				goto out;
			}
			if (nb64 == 0) {
				signer_errf(why, whylen, "line %zu: empty PEM block \"%s\"",
				            cur.line, cur.label);
				goto out;
			}
			char *der = NULL;
			size_t der_len = 0;
			if (util_base64_decode(b64, nb64, UTIL_B64_CANONICAL, nb64, &der,
			                       &der_len) != 0 ||
			    der_len == 0) {
				signer_errf(why, whylen,
				            "line %zu: invalid base64 in PEM block \"%s\"",
				            cur.line, cur.label);
				goto out;
			}
			if (nb == cap) {
				cap = cap ? cap * 2 : 4;
				blocks = util_xreallocarray(blocks, cap, sizeof(*blocks));
			}
			cur.der = (unsigned char *)der;
			cur.der_len = der_len;
			blocks[nb++] = cur;
			memset(&cur, 0, sizeof(cur));
			if (secret)
				OPENSSL_cleanse(b64, nb64);
			nb64 = 0;
			inside = false;
			continue;
		}
		if (line_has_prefix(l, ll, PEM_BEGIN)) {
			signer_errf(why, whylen,
			            "line %zu: PEM BEGIN line inside block \"%s\" of line %zu",
			            line, cur.label, cur.line);
			goto out;
		}
		if (first_body_line && memchr(l, ':', ll) != NULL) {
			/* RFC 1421 headers: Proc-Type and DEK-Info mean an encrypted key. */
			if (line_has_prefix(l, ll, "Proc-Type:"))
				signer_errf(
				    why, whylen,
				    "line %zu: PEM block \"%s\" is encrypted (Proc-Type header); "
				    "want it unencrypted",
				    line, cur.label);
			else
				signer_errf(why, whylen, "line %zu: PEM headers are not allowed",
				            line);
			goto out;
		}
		first_body_line = false;
		for (size_t i = 0; i < ll; i++) {
			unsigned char c = (unsigned char)l[i];
			if (c == ' ' || c == '\t')
				continue;
			if (util_base64_value(c) < 0 && c != '=') {
				signer_errf(
				    why, whylen,
				    "line %zu: invalid character in the base64 of PEM block \"%s\"",
				    line, cur.label);
				goto out;
			}
			b64[nb64++] = (char)c;
		}
	}
	if (inside) {
		signer_errf(why, whylen, "PEM block \"%s\" of line %zu has no END line", cur.label,
		            cur.line);
		goto out;
	}
	*out = blocks;
	*n = nb;
	blocks = NULL;
	nb = 0;
	rc = 0;
out:
	if (b64 != NULL)
		wipe_free(b64, len + 1, secret);
	signer_pem_free(blocks, nb, secret);
	return rc;
}

/* ---- certificate lists ---- */

int signer_parse_certs(const char *text, size_t len, size_t max, const char *what,
                       STACK_OF(X509) * *out, char *err, size_t errlen)
{
	int rc = -1;
	struct signer_pem_block *blocks = NULL;
	size_t nb = 0;
	STACK_OF(X509) *certs = NULL;
	X509 *x = NULL;
	char why[SIGNER_ERR_MAX];

	*out = NULL;
	/* Parsed as a secret: a key file given as the certificate file must
	 * not leave key material behind in freed memory. */
	if (signer_pem_split(text, len, true, max, &blocks, &nb, why, sizeof(why)) != 0) {
		signer_errf(err, errlen, "%s: %s", what, why);
		goto out;
	}
	if (nb == 0) {
		signer_errf(err, errlen, "%s: no certificate (want PEM CERTIFICATE blocks)", what);
		goto out;
	}
	certs = sk_X509_new_null();
	if (certs == NULL) {
		signer_errf(err, errlen, "%s: out of memory", what);
		goto out;
	}
	for (size_t i = 0; i < nb; i++) {
		const struct signer_pem_block *b = &blocks[i];
		if (strcmp(b->label, "CERTIFICATE") != 0) {
			signer_errf(err, errlen,
			            "%s: PEM block %zu (line %zu) is \"%s\"%s, want CERTIFICATE",
			            what, i + 1, b->line, b->label,
			            strstr(b->label, "PRIVATE KEY") != NULL ? " (a private key)"
			                                                    : "");
			goto out;
		}
		const unsigned char *p = b->der;
		x = d2i_X509(NULL, &p, (long)b->der_len);
		if (x == NULL) {
			signer_errf(err, errlen,
			            "%s: certificate %zu (line %zu) does not decode as X.509", what,
			            i + 1, b->line);
			goto out;
		}
		if (p != b->der + b->der_len) {
			signer_errf(err, errlen,
			            "%s: certificate %zu (line %zu) has trailing bytes", what,
			            i + 1, b->line);
			goto out;
		}
		if (sk_X509_push(certs, x) <= 0) {
			signer_errf(err, errlen, "%s: out of memory", what);
			goto out;
		}
		x = NULL;
	}
	*out = certs;
	certs = NULL;
	rc = 0;
out:
	X509_free(x);
	sk_X509_pop_free(certs, X509_free);
	signer_pem_free(blocks, nb, true);
	return rc;
}

int signer_pem_append_cert(struct util_buf *b, X509 *x)
{
	int rc = -1;
	BIO *bio = BIO_new(BIO_s_mem());
	char *data = NULL;
	long n;

	if (bio == NULL || PEM_write_bio_X509(bio, x) != 1)
		goto out;
	n = BIO_get_mem_data(bio, &data);
	if (n <= 0 || data == NULL)
		goto out;
	util_buf_append(b, data, (size_t)n);
	rc = 0;
out:
	BIO_free(bio);
	return rc;
}

/* ---- time ---- */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int signer_asn1_time_unix(const ASN1_TIME *t, int64_t *out)
{
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return -1;
	int64_t days =
	    days_from_civil((int64_t)tm.tm_year + 1900, (int64_t)tm.tm_mon + 1, tm.tm_mday);
	*out = days * 86400 + (int64_t)tm.tm_hour * 3600 + (int64_t)tm.tm_min * 60 + tm.tm_sec;
	return 0;
}

void signer_time_text(int64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (gmtime_r(&tt, &tm) == NULL || strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, 32, "@%lld", (long long)t);
}
