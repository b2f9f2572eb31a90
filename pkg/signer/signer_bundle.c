/*
 * signer: the ClusterTrustBundle that publishes the CA certificates: its
 * name, its text across a rotation, and the object.
 */
#include "signer_internal.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

/* ---- the name ---- */

static bool lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* p[0..n) is a DNS-1123 label without dots: lower-case letters, digits and
 * '-', starting and ending with a letter or digit, at most max bytes. */
static bool dns1123_part(const char *p, size_t n, size_t max)
{
	if (n == 0 || n > max || !lower_alnum(p[0]) || !lower_alnum(p[n - 1]))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!lower_alnum(p[i]) && p[i] != '-')
			return false;
	}
	return true;
}

/* Each dot-separated part of p[0..n) passes dns1123_part(max); returns the
 * number of parts, 0 when one fails. */
static size_t dotted_parts(const char *p, size_t n, size_t max)
{
	size_t parts = 0, start = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && p[i] != '.')
			continue;
		if (!dns1123_part(p + start, i - start, max))
			return 0;
		parts++;
		start = i + 1;
	}
	return parts;
}

/* Kubernetes' ValidateSignerName: DOMAIN/PATH. */
static bool signer_name_valid(const char *s)
{
	const char *slash;
	size_t n, dn;

	if (s == NULL)
		return false;
	n = strlen(s);
	slash = strchr(s, '/');
	if (slash == NULL || strchr(slash + 1, '/') != NULL || n > 253 + 253 + 63 + 1 + 1)
		return false;
	dn = (size_t)(slash - s);
	if (dn > 253 || dotted_parts(s, dn, 63) < 2)
		return false;
	return dotted_parts(slash + 1, n - dn - 1, 253) >= 1;
}

char *signer_trust_bundle_name(const char *signer_name)
{
	char *name;
	if (!signer_name_valid(signer_name))
		return NULL;
	name = util_xasprintf("%s:ca", signer_name);
	for (char *p = name; *p; p++) {
		if (*p == '/')
			*p = ':';
	}
	return name;
}

/* ---- the bundle text ---- */

static bool only_space(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
			return false;
	}
	return true;
}

static bool listed(STACK_OF(X509) * list, X509 *x)
{
	for (int i = 0; i < sk_X509_num(list); i++) {
		if (X509_cmp(sk_X509_value(list, i), x) == 0)
			return true;
	}
	return false;
}

/* May an old certificate stay published: a valid CA certificate that has
 * not expired? */
static bool keep_old(X509 *x, int64_t now)
{
	uint32_t flags = X509_get_extension_flags(x);
	int64_t na = 0;
	if ((flags & EXFLAG_INVALID) || !(flags & EXFLAG_BCONS) || !(flags & EXFLAG_CA))
		return false;
	return signer_asn1_time_unix(X509_get0_notAfter(x), &na) == 0 && na > now;
}

int signer_trust_bundle_merge(const struct signer_ca *ca, const char *old_pem, size_t old_len,
                              int64_t now, char **out, char *err, size_t errlen)
{
	int rc = -1;
	STACK_OF(X509) *old = NULL, *all = NULL;
	struct util_buf b = {0};

	*out = NULL;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	ERR_set_mark();
	if (old_pem != NULL && !only_space(old_pem, old_len) &&
	    signer_parse_certs(old_pem, old_len, SIGNER_MAX_BUNDLE_CERTS,
	                       "the published trust bundle", &old, err, errlen) != 0)
		goto out;
	all = sk_X509_new_null();
	if (all == NULL) {
		signer_errf(err, errlen, "out of memory");
		goto out;
	}
	for (int i = 0; i < sk_X509_num(ca->chain); i++) {
		X509 *x = sk_X509_value(ca->chain, i);
		if (!listed(all, x) && sk_X509_push(all, x) <= 0) {
			signer_errf(err, errlen, "out of memory");
			goto out;
		}
	}
	for (int i = 0; i < sk_X509_num(old); i++) {
		X509 *x = sk_X509_value(old, i);
		if (listed(all, x) || !keep_old(x, now))
			continue;
		if (sk_X509_num(all) >= SIGNER_MAX_BUNDLE_CERTS) {
			signer_errf(err, errlen,
			            "the merged trust bundle would hold more than %d "
			            "certificates",
			            SIGNER_MAX_BUNDLE_CERTS);
			goto out;
		}
		if (sk_X509_push(all, x) <= 0) {
			signer_errf(err, errlen, "out of memory");
			goto out;
		}
	}
	for (int i = 0; i < sk_X509_num(all); i++) {
		if (signer_pem_append_cert(&b, sk_X509_value(all, i)) != 0) {
			signer_errf(err, errlen, "cannot write certificate %d as PEM", i + 1);
			goto out;
		}
	}
	if (b.len > SIGNER_MAX_BUNDLE) {
		signer_errf(err, errlen, "the merged trust bundle would be %zu bytes, more than %d",
		            b.len, SIGNER_MAX_BUNDLE);
		goto out;
	}
	*out = util_buf_take(&b);
	rc = 0;
out:
	util_buf_reset(&b);
	/* all borrows its certificates from ca and old. */
	sk_X509_free(all);
	sk_X509_pop_free(old, X509_free);
	ERR_pop_to_mark();
	return rc;
}

/* ---- the object ---- */

json_t *signer_trust_bundle_object(const char *signer_name, const char *bundle_pem,
                                   const char *api_version, char *err, size_t errlen)
{
	json_t *obj = NULL;
	char *name = signer_trust_bundle_name(signer_name);

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (name == NULL) {
		signer_errf(err, errlen,
		            "signer name is not of the form DOMAIN/PATH that Kubernetes accepts");
		goto out;
	}
	if (bundle_pem == NULL || only_space(bundle_pem, strlen(bundle_pem))) {
		signer_errf(err, errlen, "empty trust bundle");
		goto out;
	}
	if (strlen(bundle_pem) > SIGNER_MAX_BUNDLE) {
		signer_errf(err, errlen, "trust bundle of %zu bytes, more than %d",
		            strlen(bundle_pem), SIGNER_MAX_BUNDLE);
		goto out;
	}
	obj = json_pack("{s:s, s:s, s:{s:s, s:{s:s}}, s:{s:s, s:s}}", "apiVersion",
	                api_version ? api_version : "certificates.k8s.io/v1", "kind",
	                "ClusterTrustBundle", "metadata", "name", name, "labels",
	                "app.kubernetes.io/managed-by", "csr-approver", "spec", "signerName",
	                signer_name, "trustBundle", bundle_pem);
	if (obj == NULL)
		signer_errf(err, errlen, "cannot build the ClusterTrustBundle object");
out:
	free(name);
	return obj;
}
