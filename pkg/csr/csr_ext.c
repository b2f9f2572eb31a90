/*
 * csr: the extensionRequest attribute. It is decoded here rather than with
 * X509_REQ_get_extensions() so that the attribute chosen is the standard
 * one only and every duplicate extension stays visible to the policy.
 */
#include "csr_internal.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

/*
 * Decode the extnValue contents val as it: strict DER, every byte used, and
 * the same bytes when re-encoded. Returns the value (caller frees with
 * ASN1_item_free(v, it)), or NULL with a reason in why.
 */
static void *ext_value_d2i(const ASN1_OCTET_STRING *val, const ASN1_ITEM *it, char *why,
                           size_t whylen)
{
	const unsigned char *data = ASN1_STRING_get0_data(val), *p;
	int n = ASN1_STRING_length(val);
	ASN1_VALUE *v = NULL;
	unsigned char *re = NULL;
	void *result = NULL;
	char der_why[160];

	if (n <= 0 || data == NULL) {
		csr_errf(why, whylen, "empty value");
		goto out;
	}
	if (csr_der_check(data, (size_t)n, der_why, sizeof(der_why)) != 0) {
		csr_errf(why, whylen, "invalid encoding (%s)", der_why);
		goto out;
	}
	p = data;
	v = ASN1_item_d2i(NULL, &p, n, it);
	if (v == NULL || p != data + n) {
		csr_errf(why, whylen, "invalid encoding");
		goto out;
	}
	int relen = ASN1_item_i2d(v, &re, it);
	if (relen != n || memcmp(re, data, (size_t)n) != 0) {
		csr_errf(why, whylen,
		         "invalid encoding (not strict DER: it re-encodes differently)");
		goto out;
	}
	result = v;
	v = NULL;
out:
	OPENSSL_free(re);
	ASN1_item_free(v, it);
	return result;
}

static void san_set(struct csr_san *s, const void *p, size_t n)
{
	s->value = util_xmalloc(n + 1);
	if (n)
		memcpy(s->value, p, n);
	s->value[n] = '\0';
	s->value_len = n;
}

static void san_set_text(struct csr_san *s, const char *text)
{
	san_set(s, text, strlen(text));
}

/* A directoryName as "CN=x,O=y", for messages only. */
static void san_set_dirname(struct csr_san *s, const X509_NAME *name)
{
	struct util_buf b = {0};
	int n = X509_NAME_entry_count(name);
	for (int i = 0; i < n; i++) {
		const X509_NAME_ENTRY *ne = X509_NAME_get_entry(name, i);
		const ASN1_STRING *data = X509_NAME_ENTRY_get_data(ne);
		char key[64];
		struct csr_str_scan scan;
		int len = ASN1_STRING_length(data);
		const unsigned char *bytes = ASN1_STRING_get0_data(data);
		int t = ASN1_STRING_type(data);
		enum csr_str_type st = t == V_ASN1_UTF8STRING ? CSR_STR_UTF8
		    : t == V_ASN1_BMPSTRING                   ? CSR_STR_BMP
		    : t == V_ASN1_UNIVERSALSTRING             ? CSR_STR_UNIVERSAL
		                                              : CSR_STR_T61;

		csr_oid_name(X509_NAME_ENTRY_get_object(ne), key);
		if (i)
			util_buf_putc(&b, ',');
		util_buf_printf(&b, "%s=", key);
		if (len > 0 && bytes != NULL)
			csr_str_decode(st, bytes, (size_t)len, &b, &scan);
	}
	san_set(s, util_buf_str(&b), b.len);
	util_buf_reset(&b);
}

static void san_describe(const GENERAL_NAME *gen, struct csr_san *s)
{
	int type = -1;
	const void *v = GENERAL_NAME_get0_value(gen, &type);
	char text[96];

	switch (type) {
	case GEN_DNS:
	case GEN_URI:
	case GEN_EMAIL: {
		const ASN1_STRING *str = v;
		int len = ASN1_STRING_length(str);
		s->type = type == GEN_DNS ? CSR_SAN_DNS
		    : type == GEN_URI     ? CSR_SAN_URI
		                          : CSR_SAN_EMAIL;
		san_set(s, ASN1_STRING_get0_data(str), len > 0 ? (size_t)len : 0);
		s->has_nul = memchr(s->value, '\0', s->value_len) != NULL;
		return;
	}
	case GEN_IPADD: {
		const ASN1_STRING *str = v;
		int len = ASN1_STRING_length(str);
		const unsigned char *bytes = ASN1_STRING_get0_data(str);
		char addr[INET6_ADDRSTRLEN];
		s->type = CSR_SAN_IP;
		s->ip_len = len > 0 ? (size_t)len : 0;
		if (s->ip_len)
			memcpy(s->ip, bytes, s->ip_len < 16 ? s->ip_len : 16);
		if ((s->ip_len == 4 || s->ip_len == 16) &&
		    inet_ntop(s->ip_len == 4 ? AF_INET : AF_INET6, s->ip, addr, sizeof(addr)) !=
		        NULL)
			san_set_text(s, addr);
		else {
			snprintf(text, sizeof(text), "invalid IP (%zu bytes)", s->ip_len);
			san_set_text(s, text);
		}
		return;
	}
	case GEN_OTHERNAME: {
		const OTHERNAME *on = v;
		s->type = CSR_SAN_OTHERNAME;
		csr_oid_text(on->type_id, text);
		san_set_text(s, text);
		return;
	}
	case GEN_RID:
		s->type = CSR_SAN_RID;
		csr_oid_text(v, text);
		san_set_text(s, text);
		return;
	case GEN_DIRNAME:
		s->type = CSR_SAN_DIRNAME;
		san_set_dirname(s, v);
		return;
	case GEN_X400:
		s->type = CSR_SAN_X400;
		san_set_text(s, "x400Address");
		return;
	default:
		/* GEN_EDIPARTY; the CHOICE has no other alternative. */
		s->type = CSR_SAN_EDIPARTY;
		san_set_text(s, "ediPartyName");
		return;
	}
}

static void add_sans(const GENERAL_NAMES *gens, struct csr_info *info)
{
	int n = sk_GENERAL_NAME_num(gens);
	/* No cap of its own: every name took at least two bytes of a request
	 * under CSR_MAX_PEM, so the count, however large, reaches the policy
	 * (maxSANs) and this array stays bounded by the input. */
	if (n <= 0)
		return;
	info->sans = util_xreallocarray(info->sans, info->n_sans + (size_t)n, sizeof(*info->sans));
	for (int i = 0; i < n; i++) {
		struct csr_san *s = &info->sans[info->n_sans];
		memset(s, 0, sizeof(*s));
		san_describe(sk_GENERAL_NAME_value(gens, i), s);
		info->n_sans++;
	}
}

static void add_key_usage(const ASN1_BIT_STRING *bs, struct csr_info *info)
{
	int nbits = ASN1_STRING_length(bs) * 8;
	info->has_key_usage = true;
	for (int bit = 0; bit < nbits; bit++) {
		if (ASN1_BIT_STRING_get_bit(bs, bit))
			info->key_usage |= bit <= 8 ? 1u << bit : CSR_KU_UNDEFINED;
	}
}

static int add_ekus(const EXTENDED_KEY_USAGE *eku, struct csr_info *info, char *err, size_t errlen)
{
	int n = sk_ASN1_OBJECT_num(eku);
	info->has_ext_key_usage = true;
	if (n <= 0)
		return 0;
	if ((size_t)n > CSR_MAX_EKUS - info->n_eku) {
		csr_errf(err, errlen, "more than %d extended key usages", CSR_MAX_EKUS);
		return -1;
	}
	info->eku_oids =
	    util_xreallocarray(info->eku_oids, info->n_eku + (size_t)n, sizeof(*info->eku_oids));
	for (int i = 0; i < n; i++)
		csr_oid_text(sk_ASN1_OBJECT_value(eku, i), info->eku_oids[info->n_eku++]);
	return 0;
}

static int decode_extension(X509_EXTENSION *ex, struct csr_info *info, char *err, size_t errlen)
{
	int rc = -1;
	struct csr_extension *e = &info->exts[info->n_exts++];
	const ASN1_OBJECT *obj = X509_EXTENSION_get_object(ex);
	const ASN1_OCTET_STRING *val = X509_EXTENSION_get_data(ex);
	const ASN1_ITEM *it = NULL;
	void *v = NULL;
	char why[200];

	csr_oid_text(obj, e->oid);
	csr_oid_name(obj, e->name);
	e->critical = X509_EXTENSION_get_critical(ex) > 0;
	switch (OBJ_obj2nid(obj)) {
	case NID_subject_alt_name:
		e->kind = CSR_EXT_SAN;
		it = ASN1_ITEM_rptr(GENERAL_NAMES);
		break;
	case NID_key_usage:
		e->kind = CSR_EXT_KEY_USAGE;
		it = ASN1_ITEM_rptr(ASN1_BIT_STRING);
		break;
	case NID_ext_key_usage:
		e->kind = CSR_EXT_EXT_KEY_USAGE;
		it = ASN1_ITEM_rptr(EXTENDED_KEY_USAGE);
		break;
	case NID_basic_constraints:
		e->kind = CSR_EXT_BASIC_CONSTRAINTS;
		it = ASN1_ITEM_rptr(BASIC_CONSTRAINTS);
		break;
	default:
		/* Not decoded: the policy rejects it by its OID alone. */
		e->kind = CSR_EXT_OTHER;
		rc = 0;
		goto out;
	}
	v = ext_value_d2i(val, it, why, sizeof(why));
	if (v == NULL) {
		csr_errf(err, errlen, "extension %s (%s): %s", e->oid, e->name, why);
		goto out;
	}
	switch (e->kind) {
	case CSR_EXT_SAN:
		add_sans(v, info);
		break;
	case CSR_EXT_KEY_USAGE:
		add_key_usage(v, info);
		break;
	case CSR_EXT_EXT_KEY_USAGE:
		if (add_ekus(v, info, err, errlen) != 0)
			goto out;
		break;
	case CSR_EXT_BASIC_CONSTRAINTS: {
		const BASIC_CONSTRAINTS *bc = v;
		info->has_basic_constraints = true;
		if (bc->ca)
			info->basic_constraints_ca = true;
		break;
	}
	case CSR_EXT_OTHER:
		break;
	}
	rc = 0;
out:
	if (v != NULL)
		ASN1_item_free(v, it);
	return rc;
}

/*
 * DER leaves out a value equal to its DEFAULT, but OpenSSL keeps an explicit
 * critical FALSE through a round trip, so look at the bytes: does any
 * Extension in the SEQUENCE OF at p (len bytes, checked DER) write it out?
 */
static bool ext_explicit_false(const unsigned char *p, size_t len)
{
	unsigned char tag;
	const unsigned char *c, *e, *f;
	size_t clen, elen, flen;

	if (csr_der_next(p, len, &tag, &c, &clen) != 0)
		return false;
	while (clen > 0) {
		/* Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue } */
		if (csr_der_next(c, clen, &tag, &e, &elen) != 0)
			return false;
		size_t step = (size_t)(e - c) + elen;
		const unsigned char *end = e + elen;
		if (csr_der_next(e, elen, &tag, &f, &flen) == 0) {
			const unsigned char *second = f + flen;
			if (second < end &&
			    csr_der_next(second, (size_t)(end - second), &tag, &f, &flen) == 0 &&
			    tag == 0x01 && flen == 1 && f[0] == 0x00)
				return true;
		}
		c += step;
		clen -= step;
	}
	return false;
}

int csr_decode_extensions(const ASN1_TYPE *value, struct csr_info *info, char *err, size_t errlen)
{
	int rc = -1;
	X509_EXTENSIONS *exts = NULL;
	unsigned char *re = NULL;
	const unsigned char *data, *p;
	int len, relen, n;

	if (value == NULL || ASN1_TYPE_get(value) != V_ASN1_SEQUENCE) {
		csr_errf(err, errlen, "attribute extensionRequest: value is not a SEQUENCE");
		goto out;
	}
	data = ASN1_STRING_get0_data(value->value.sequence);
	len = ASN1_STRING_length(value->value.sequence);
	p = data;
	exts = d2i_X509_EXTENSIONS(NULL, &p, len);
	if (exts == NULL || p != data + len) {
		csr_errf(err, errlen, "attribute extensionRequest: invalid encoding");
		goto out;
	}
	/* Catches what the DER checker cannot know, such as an explicit
	 * critical FALSE (a default value, which DER leaves out). */
	relen = i2d_X509_EXTENSIONS(exts, &re);
	if (relen != len || memcmp(re, data, (size_t)len) != 0) {
		csr_errf(err, errlen,
		         "attribute extensionRequest: not strict DER: it re-encodes differently");
		goto out;
	}
	if (ext_explicit_false(data, (size_t)len)) {
		csr_errf(
		    err, errlen,
		    "attribute extensionRequest: not strict DER: an extension writes out critical FALSE, the default");
		goto out;
	}
	n = sk_X509_EXTENSION_num(exts);
	if (n > CSR_MAX_EXTENSIONS) {
		csr_errf(err, errlen, "request has %d extensions, more than %d", n,
		         CSR_MAX_EXTENSIONS);
		goto out;
	}
	if (n > 0)
		info->exts = util_xcalloc((size_t)n, sizeof(*info->exts));
	for (int i = 0; i < n; i++) {
		if (decode_extension(sk_X509_EXTENSION_value(exts, i), info, err, errlen) != 0)
			goto out;
	}
	rc = 0;
out:
	OPENSSL_free(re);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	return rc;
}
