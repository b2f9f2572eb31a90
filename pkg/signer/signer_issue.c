/*
 * signer: issuing leaf certificates for CertificateSigningRequests and
 * PodCertificateRequests. Everything in a certificate is built here from
 * typed values; nothing of a request is copied but its key, its CN and its
 * DNS, IP and URI names (for CSRs), and every certificate is verified with
 * the CA's key after signing.
 */
#include "signer_internal.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

void signer_cert_free(struct signer_cert *c)
{
	if (c == NULL)
		return;
	free(c->pem);
	free(c->chain_pem);
	free(c);
}

/* ---- usages ---- */

int signer_usages_eku(const struct util_strv *usages, unsigned *eku, char *err, size_t errlen)
{
	unsigned bits = 0;

	*eku = 0;
	if (usages == NULL || usages->n == 0) {
		signer_errf(err, errlen, "no usages: want server auth, client auth or both");
		return -1;
	}
	for (size_t i = 0; i < usages->n; i++) {
		const char *u = usages->v[i];
		if (strcmp(u, "server auth") == 0) {
			bits |= SIGNER_EKU_SERVER;
		} else if (strcmp(u, "client auth") == 0) {
			bits |= SIGNER_EKU_CLIENT;
		} else if (strcmp(u, "digital signature") != 0 &&
		           strcmp(u, "key encipherment") != 0) {
			/* The usage comes from an API object: quote it only when it is
			 * short and printable. */
			bool plain = strlen(u) <= 32;
			for (const char *p = u; plain && *p; p++)
				plain = *p >= 0x20 && *p < 0x7f && *p != '"';
			signer_errf(err, errlen,
			            "usage \"%s\" is not one this signer issues (it issues digital "
			            "signature, key encipherment, server auth, client auth)",
			            plain ? u : "(unprintable)");
			return -1;
		}
	}
	if (bits == 0) {
		signer_errf(
		    err, errlen,
		    "usages hold neither server auth nor client auth: a certificate without "
		    "extendedKeyUsage would be good for any purpose");
		return -1;
	}
	*eku = bits;
	return 0;
}

/* ---- pod names ---- */

static bool dns_name_ok(const char *s)
{
	size_t n = strlen(s), label = 0;
	if (n == 0 || n > 253)
		return false;
	for (size_t i = 0; i <= n; i++) {
		char c = s[i];
		if (c == '.' || c == '\0') {
			if (label == 0 || label > 63 || s[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		bool alnum =
		    (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		if (!alnum && !(c == '-' && label > 0))
			return false;
		label++;
	}
	return true;
}

static bool uri_ok(const char *s)
{
	size_t n = strlen(s);
	const char *colon = strchr(s, ':');
	if (n == 0 || n > 2048 || colon == NULL || colon == s)
		return false;
	for (const char *p = s; p < colon; p++) {
		bool ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (p > s && ((*p >= '0' && *p <= '9') || *p == '+' || *p == '-' || *p == '.'));
		if (!ok)
			return false;
	}
	for (const char *p = s; *p; p++) {
		if (*p <= 0x20 || *p >= 0x7f)
			return false;
	}
	return true;
}

static GENERAL_NAMES *pod_sans(const struct signer_name *names, size_t n, char *err, size_t errlen)
{
	GENERAL_NAMES *sans = sk_GENERAL_NAME_new_null();
	GENERAL_NAME *g = NULL;
	ASN1_STRING *s = NULL;

	if (sans == NULL) {
		signer_errf(err, errlen, "out of memory");
		goto fail;
	}
	if (n == 0) {
		signer_errf(err, errlen, "no names for the pod certificate");
		goto fail;
	}
	if (n > SIGNER_MAX_SANS) {
		signer_errf(err, errlen, "%zu names, more than %d", n, SIGNER_MAX_SANS);
		goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		const char *v = names[i].value ? names[i].value : "";
		unsigned char ip[16];
		int gtype;
		g = GENERAL_NAME_new();
		if (g == NULL) {
			signer_errf(err, errlen, "out of memory");
			goto fail;
		}
		switch (names[i].type) {
		case SIGNER_NAME_DNS:
			if (!dns_name_ok(v)) {
				signer_errf(
				    err, errlen,
				    "name %zu is not a valid DNS name (LDH labels of 1 to 63 bytes, "
				    "at most 253 in all)",
				    i + 1);
				goto fail;
			}
			gtype = GEN_DNS;
			s = ASN1_IA5STRING_new();
			if (s == NULL || ASN1_STRING_set(s, v, (int)strlen(v)) != 1)
				goto oom;
			break;
		case SIGNER_NAME_URI:
			if (!uri_ok(v)) {
				signer_errf(
				    err, errlen,
				    "name %zu is not a valid URI (printable ASCII with a scheme)",
				    i + 1);
				goto fail;
			}
			gtype = GEN_URI;
			s = ASN1_IA5STRING_new();
			if (s == NULL || ASN1_STRING_set(s, v, (int)strlen(v)) != 1)
				goto oom;
			break;
		case SIGNER_NAME_IP: {
			int l = 0;
			if (inet_pton(AF_INET, v, ip) == 1) {
				l = 4;
			} else if (inet_pton(AF_INET6, v, ip) == 1) {
				l = 16;
			} else {
				signer_errf(err, errlen, "name %zu is not an IPv4 or IPv6 address",
				            i + 1);
				goto fail;
			}
			gtype = GEN_IPADD;
			s = ASN1_OCTET_STRING_new();
			if (s == NULL || ASN1_OCTET_STRING_set(s, ip, l) != 1)
				goto oom;
			break;
		}
		default:
			signer_errf(err, errlen, "name %zu has an unknown type", i + 1);
			goto fail;
		}
		GENERAL_NAME_set0_value(g, gtype, s);
		s = NULL;
		if (sk_GENERAL_NAME_push(sans, g) <= 0)
			goto oom;
		g = NULL;
	}
	return sans;
oom:
	signer_errf(err, errlen, "out of memory");
fail:
	ASN1_STRING_free(s);
	GENERAL_NAME_free(g);
	GENERAL_NAMES_free(sans);
	return NULL;
}

/* ---- the certificate ---- */

/* A random positive 128-bit serial, never zero: 16 random bytes read as an
 * unsigned number (its DER form takes a 17th, leading zero byte when the
 * top bit is set, within RFC 5280's 20). */
static ASN1_INTEGER *make_serial(char *hex, size_t hexlen, char *err, size_t errlen)
{
	unsigned char b[16];
	BIGNUM *bn = NULL;
	ASN1_INTEGER *ai = NULL;
	char *h = NULL;

	for (int tries = 0;; tries++) {
		if (tries == 4 || RAND_bytes(b, sizeof(b)) != 1) {
			signer_errf(err, errlen, "no random bytes for the serial number");
			goto out;
		}
		bool zero = true;
		for (size_t i = 0; i < sizeof(b) && zero; i++)
			zero = b[i] == 0;
		if (!zero)
			break;
	}
	bn = BN_bin2bn(b, sizeof(b), NULL);
	if (bn == NULL || (ai = BN_to_ASN1_INTEGER(bn, NULL)) == NULL ||
	    (h = BN_bn2hex(bn)) == NULL) {
		ASN1_INTEGER_free(ai);
		ai = NULL;
		signer_errf(err, errlen, "out of memory");
		goto out;
	}
	/* BN_bn2hex drops leading zero bytes but keeps a byte's leading zero
	 * nibble: the text `openssl x509 -serial` prints. */
	snprintf(hex, hexlen, "%s", h);
out:
	OPENSSL_free(h);
	BN_free(bn);
	return ai;
}

static int add_ext(X509 *x, int nid, void *value, int crit)
{
	return X509_add1_ext_i2d(x, nid, value, crit, X509V3_ADD_DEFAULT) == 1 ? 0 : -1;
}

static int add_extensions(X509 *x, const struct signer_ca *ca, bool is_rsa, unsigned eku,
                          GENERAL_NAMES *sans, bool sans_critical)
{
	int rc = -1;
	BASIC_CONSTRAINTS *bc = BASIC_CONSTRAINTS_new();
	ASN1_BIT_STRING *ku = ASN1_BIT_STRING_new();
	EXTENDED_KEY_USAGE *xku = sk_ASN1_OBJECT_new_null();
	ASN1_OCTET_STRING *ski = ASN1_OCTET_STRING_new();
	AUTHORITY_KEYID *akid = AUTHORITY_KEYID_new();
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (bc == NULL || ku == NULL || xku == NULL || ski == NULL || akid == NULL)
		goto out;
	bc->ca = 0;
	if (add_ext(x, NID_basic_constraints, bc, 1) != 0)
		goto out;
	if (ASN1_BIT_STRING_set_bit(ku, 0, 1) != 1 ||
	    (is_rsa && ASN1_BIT_STRING_set_bit(ku, 2, 1) != 1) ||
	    add_ext(x, NID_key_usage, ku, 1) != 0)
		goto out;
	if (((eku & SIGNER_EKU_SERVER) &&
	     sk_ASN1_OBJECT_push(xku, OBJ_nid2obj(NID_server_auth)) <= 0) ||
	    ((eku & SIGNER_EKU_CLIENT) &&
	     sk_ASN1_OBJECT_push(xku, OBJ_nid2obj(NID_client_auth)) <= 0) ||
	    add_ext(x, NID_ext_key_usage, xku, 0) != 0)
		goto out;
	/* RFC 5280 4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits. */
	if (X509_pubkey_digest(x, EVP_sha1(), md, &mdlen) != 1 ||
	    ASN1_OCTET_STRING_set(ski, md, (int)mdlen) != 1 ||
	    add_ext(x, NID_subject_key_identifier, ski, 0) != 0)
		goto out;
	akid->keyid = ASN1_OCTET_STRING_new();
	if (akid->keyid == NULL ||
	    ASN1_OCTET_STRING_set(akid->keyid, ca->keyid, (int)ca->keyid_len) != 1 ||
	    add_ext(x, NID_authority_key_identifier, akid, 0) != 0)
		goto out;
	if (sans != NULL && add_ext(x, NID_subject_alt_name, sans, sans_critical) != 0)
		goto out;
	rc = 0;
out:
	BASIC_CONSTRAINTS_free(bc);
	ASN1_BIT_STRING_free(ku);
	/* OBJ_nid2obj() objects are static: freeing them does nothing. */
	sk_ASN1_OBJECT_pop_free(xku, ASN1_OBJECT_free);
	ASN1_OCTET_STRING_free(ski);
	AUTHORITY_KEYID_free(akid);
	return rc;
}

/* Does the issuing CA's own extendedKeyUsage (if any) allow eku? */
static bool ca_allows_eku(const struct signer_ca *ca, unsigned eku)
{
	X509 *x0 = sk_X509_value(ca->chain, 0);
	if (!(X509_get_extension_flags(x0) & EXFLAG_XKUSAGE))
		return true;
	uint32_t x = X509_get_extended_key_usage(x0);
	if (x & XKU_ANYEKU)
		return true;
	return (!(eku & SIGNER_EKU_SERVER) || (x & XKU_SSL_SERVER)) &&
	    (!(eku & SIGNER_EKU_CLIENT) || (x & XKU_SSL_CLIENT));
}

/* What a certificate is made of, beyond the CA. */
struct leaf_spec {
	struct signer_req req; /* the key comes from here */
	X509_NAME *subject;
	GENERAL_NAMES *sans; /* NULL: none */
	unsigned eku;
	int64_t not_before, not_after;
};

static int set_time(ASN1_TIME *t, int64_t when)
{
	return ASN1_TIME_set(t, (time_t)when) != NULL ? 0 : -1;
}

static int build(const struct signer_ca *ca, const struct leaf_spec *s, struct signer_cert **out,
                 char *err, size_t errlen)
{
	int rc = -1;
	X509 *x = NULL;
	X509 *x0 = sk_X509_value(ca->chain, 0);
	ASN1_INTEGER *serial = NULL;
	struct signer_cert *c = util_xcalloc(1, sizeof(*c));
	struct util_buf leaf = {0};

	if (!ca_allows_eku(ca, s->eku)) {
		signer_errf(err, errlen,
		            "the CA certificate's extendedKeyUsage does not allow %s: certificates "
		            "it issued would not verify",
		            (s->eku & SIGNER_EKU_SERVER) ? "server auth" : "client auth");
		goto out;
	}
	serial = make_serial(c->serial, sizeof(c->serial), err, errlen);
	if (serial == NULL)
		goto out;
	x = X509_new();
	if (x == NULL || X509_set_version(x, X509_VERSION_3) != 1 ||
	    X509_set_serialNumber(x, serial) != 1 ||
	    X509_set_issuer_name(x, X509_get_subject_name(x0)) != 1 ||
	    X509_set_subject_name(x, s->subject) != 1 || signer_req_set_key(x, &s->req) != 0 ||
	    set_time(X509_getm_notBefore(x), s->not_before) != 0 ||
	    set_time(X509_getm_notAfter(x), s->not_after) != 0) {
		signer_errf(err, errlen, "cannot build the certificate");
		goto out;
	}
	bool sans_critical = X509_NAME_entry_count(s->subject) == 0;
	if (add_extensions(x, ca, s->req.is_rsa, s->eku, s->sans, sans_critical) != 0) {
		signer_errf(err, errlen, "cannot add the certificate's extensions");
		goto out;
	}
	if (X509_sign(x, ca->key, ca->md) <= 0) {
		signer_errf(err, errlen, "signing with the CA key (%s) failed", ca->key_type);
		goto out;
	}
	/* A fault while signing must not hand out a bad certificate. */
	if (X509_verify(x, X509_get0_pubkey(x0)) != 1 || X509_check_issued(x0, x) != X509_V_OK) {
		signer_errf(err, errlen,
		            "the new certificate does not verify with the CA certificate");
		goto out;
	}
	if (signer_pem_append_cert(&leaf, x) != 0) {
		signer_errf(err, errlen, "cannot write the certificate as PEM");
		goto out;
	}
	c->chain_pem = util_xasprintf("%s%s", util_buf_str(&leaf), ca->chain_tail_pem);
	c->pem = util_buf_take(&leaf);
	c->not_before = s->not_before;
	c->not_after = s->not_after;
	/* Both bounds are within SIGNER_MAX_SECONDS of now: no overflow. */
	c->begin_refresh_at = s->not_before + (s->not_after - s->not_before) * 2 / 3;
	*out = c;
	c = NULL;
	rc = 0;
out:
	util_buf_reset(&leaf);
	signer_cert_free(c);
	ASN1_INTEGER_free(serial);
	X509_free(x);
	return rc;
}

/* ---- validity ---- */

static int check_validity(const struct signer_ca *ca, const struct signer_validity *v, char *err,
                          size_t errlen)
{
	char t[32];
	if (v == NULL || v->now < 0 || v->now > 253402300799LL) {
		signer_errf(err, errlen, "no valid current time");
		return -1;
	}
	if (v->lifetime <= 0 || v->lifetime > SIGNER_MAX_SECONDS) {
		signer_errf(err, errlen, "lifetime %lld s is not in [1, %lld]",
		            (long long)v->lifetime, (long long)SIGNER_MAX_SECONDS);
		return -1;
	}
	if (v->backdate < 0 || v->backdate > SIGNER_MAX_SECONDS) {
		signer_errf(err, errlen, "backdate %lld s is not in [0, %lld]",
		            (long long)v->backdate, (long long)SIGNER_MAX_SECONDS);
		return -1;
	}
	if (v->now >= ca->not_after) {
		signer_time_text(ca->not_after, t);
		signer_errf(err, errlen, "the CA certificate (%s) expired at %s", ca->subject, t);
		return -1;
	}
	if (v->now < ca->not_before) {
		signer_time_text(ca->not_before, t);
		signer_errf(err, errlen, "the CA certificate (%s) is not valid before %s",
		            ca->subject, t);
		return -1;
	}
	return 0;
}

static int64_t min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

static int check_order(int64_t nb, int64_t na, char *err, size_t errlen)
{
	if (na <= nb) {
		char a[32], b[32];
		signer_time_text(na, a);
		signer_time_text(nb, b);
		signer_errf(err, errlen, "notAfter %s would not be after notBefore %s", a, b);
		return -1;
	}
	return 0;
}

/* ---- the two entry points ---- */

/* What both begin with: s, *out and err emptied, a mark set in OpenSSL's
 * error queue (issue_end() pops it, whatever this returns), the CA there
 * and its validity sane. Returns 0, or -1 with the reason in err. */
static int issue_begin(const struct signer_ca *ca, const struct signer_validity *v,
                       struct leaf_spec *s, struct signer_cert **out, char *err, size_t errlen)
{
	memset(s, 0, sizeof(*s));
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	*out = NULL;
	ERR_set_mark();
	if (ca == NULL) {
		signer_errf(err, errlen, "no CA loaded");
		return -1;
	}
	return check_validity(ca, v, err, errlen);
}

/* Free what s holds and leave OpenSSL's error queue as issue_begin()
 * found it. */
static void issue_end(struct leaf_spec *s)
{
	signer_req_clear(&s->req);
	X509_NAME_free(s->subject);
	GENERAL_NAMES_free(s->sans);
	ERR_pop_to_mark();
}

int signer_issue_csr(const struct signer_ca *ca, const char *request, size_t request_len,
                     const struct util_strv *usages, int64_t expiration_seconds,
                     const struct signer_validity *v, struct signer_cert **out, char *err,
                     size_t errlen)
{
	int rc = -1;
	struct leaf_spec s;

	if (issue_begin(ca, v, &s, out, err, errlen) != 0)
		goto out;
	if (expiration_seconds < 0) {
		signer_errf(err, errlen, "spec.expirationSeconds %lld is negative",
		            (long long)expiration_seconds);
		goto out;
	}
	if (signer_usages_eku(usages, &s.eku, err, errlen) != 0)
		goto out;
	if (signer_req_decode(request, request_len, "the request", &s.req, err, errlen) != 0)
		goto out;
	s.subject = signer_req_subject(&s.req, err, errlen);
	if (s.subject == NULL)
		goto out;
	if (signer_req_sans(&s.req, &s.sans, err, errlen) != 0)
		goto out;
	if (X509_NAME_entry_count(s.subject) == 0 &&
	    (s.sans == NULL || sk_GENERAL_NAME_num(s.sans) == 0)) {
		signer_errf(err, errlen, "the request names nobody: no CN and no subjectAltName");
		goto out;
	}
	/* notBefore = now - backdate, as SPEC says, even before the CA's own
	 * notBefore: a verifier checks each certificate of a chain against
	 * the time of verification, and RFC 5280 asks no nesting. Capping it
	 * at the CA's would give a certificate from a CA made a moment ago
	 * no margin for clocks that lag. */
	s.not_before = v->now - v->backdate;
	s.not_after = v->now + v->lifetime;
	if (expiration_seconds > 0)
		s.not_after =
		    min64(s.not_after, v->now + min64(expiration_seconds, SIGNER_MAX_SECONDS));
	s.not_after = min64(s.not_after, ca->not_after);
	if (check_order(s.not_before, s.not_after, err, errlen) != 0)
		goto out;
	rc = build(ca, &s, out, err, errlen);
out:
	issue_end(&s);
	return rc;
}

int signer_issue_pod(const struct signer_ca *ca, const char *stub_request, size_t stub_len,
                     const struct signer_name *names, size_t n_names, unsigned eku,
                     int64_t max_expiration_seconds, const struct signer_validity *v,
                     struct signer_cert **out, char *err, size_t errlen)
{
	int rc = -1;
	struct leaf_spec s;

	if (issue_begin(ca, v, &s, out, err, errlen) != 0)
		goto out;
	if (max_expiration_seconds <= 0) {
		signer_errf(err, errlen, "spec.maxExpirationSeconds %lld is not positive",
		            (long long)max_expiration_seconds);
		goto out;
	}
	if ((eku & (SIGNER_EKU_SERVER | SIGNER_EKU_CLIENT)) == 0 ||
	    (eku & ~(SIGNER_EKU_SERVER | SIGNER_EKU_CLIENT)) != 0) {
		signer_errf(err, errlen, "no extendedKeyUsage purpose for the pod certificate");
		goto out;
	}
	s.eku = eku;
	if (signer_req_decode(stub_request, stub_len, "spec.stubPKCS10Request", &s.req, err,
	                      errlen) != 0)
		goto out;
	s.sans = pod_sans(names, n_names, err, errlen);
	if (s.sans == NULL)
		goto out;
	s.subject = X509_NAME_new();
	if (s.subject == NULL) {
		signer_errf(err, errlen, "out of memory");
		goto out;
	}
	s.not_before = v->now - min64(v->backdate, SIGNER_POD_MAX_BACKDATE);
	s.not_after =
	    min64(s.not_before + min64(v->lifetime, max_expiration_seconds), ca->not_after);
	if (s.not_after - s.not_before < SIGNER_POD_MIN_LIFETIME) {
		char t[32];
		signer_time_text(ca->not_after, t);
		signer_errf(err, errlen,
		            "the certificate would live %lld s, less than the %d s a "
		            "PodCertificateRequest needs (CA notAfter %s)",
		            (long long)(s.not_after - s.not_before), SIGNER_POD_MIN_LIFETIME, t);
		goto out;
	}
	rc = build(ca, &s, out, err, errlen);
out:
	issue_end(&s);
	return rc;
}
