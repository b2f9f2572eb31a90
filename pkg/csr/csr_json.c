/*
 * csr: the JSON description printed by `csr-approver inspect`. Every string
 * that comes from the request goes through util_buf_json_escape().
 */
#include "csr_internal.h"

#include <string.h>

static void put_str(struct util_buf *b, const char *s, size_t n)
{
	util_buf_putc(b, '"');
	util_buf_json_escape(b, s, n);
	util_buf_putc(b, '"');
}

static void put_cstr(struct util_buf *b, const char *s)
{
	put_str(b, s, strlen(s));
}

static void put_bool(struct util_buf *b, bool v)
{
	util_buf_puts(b, v ? "true" : "false");
}

/* ,"key": */
static void put_key(struct util_buf *b, const char *key)
{
	util_buf_printf(b, ",\"%s\":", key);
}

static void put_subject(struct util_buf *b, const struct csr_info *info)
{
	util_buf_puts(b, ",\"subject\":[");
	for (size_t i = 0; i < info->n_subject; i++) {
		const struct csr_subject_attr *a = &info->subject[i];
		struct util_buf text = {0};
		struct csr_str_scan scan;

		csr_str_decode(a->str_type, (const unsigned char *)a->value, a->value_len, &text,
		               &scan);
		util_buf_puts(b, i ? ",{\"type\":" : "{\"type\":");
		put_cstr(b, a->name);
		put_key(b, "oid");
		put_cstr(b, a->oid);
		put_key(b, "stringType");
		put_cstr(b, csr_str_type_name(a->str_type));
		put_key(b, "value");
		put_str(b, util_buf_str(&text), text.len);
		if (a->has_nul) {
			put_key(b, "hasNul");
			put_bool(b, true);
		}
		if (a->has_control) {
			put_key(b, "hasControl");
			put_bool(b, true);
		}
		if (a->bad_encoding) {
			put_key(b, "badEncoding");
			put_bool(b, true);
		}
		if (a->multi_valued_rdn) {
			put_key(b, "multiValuedRdn");
			put_bool(b, true);
		}
		util_buf_putc(b, '}');
		util_buf_reset(&text);
	}
	util_buf_putc(b, ']');
}

static void put_key_info(struct util_buf *b, const struct csr_key *k)
{
	util_buf_puts(b, ",\"publicKey\":{\"type\":");
	put_cstr(b, csr_key_type_name(k->type));
	put_key(b, "algorithmOid");
	put_cstr(b, k->alg_oid);
	if (k->type != CSR_KEY_UNKNOWN)
		util_buf_printf(b, ",\"bits\":%d", k->bits);
	if (k->type == CSR_KEY_RSA || k->type == CSR_KEY_RSA_PSS) {
		put_key(b, "exponent");
		put_cstr(b, k->rsa_e);
	}
	if (k->type == CSR_KEY_EC) {
		put_key(b, "curve");
		if (k->ec_named_curve)
			put_cstr(b, k->ec_curve);
		else
			util_buf_puts(b, "null");
		put_key(b, "namedCurve");
		put_bool(b, k->ec_named_curve);
	}
	util_buf_putc(b, '}');
}

static void put_signature(struct util_buf *b, const struct csr_signature *s)
{
	util_buf_puts(b, ",\"signature\":{\"algorithm\":");
	put_cstr(b, s->alg_name);
	put_key(b, "oid");
	put_cstr(b, s->alg_oid);
	put_key(b, "scheme");
	put_cstr(b, csr_sig_scheme_name(s->scheme));
	put_key(b, "hash");
	put_cstr(b, csr_hash_name(s->hash));
	put_key(b, "paramsOk");
	put_bool(b, s->params_ok);
	put_key(b, "verified");
	put_bool(b, s->verified);
	put_key(b, "matchesKey");
	put_bool(b, s->matches_key);
	util_buf_putc(b, '}');
}

static const char *ku_names[] = {
    "digitalSignature", "nonRepudiation", "keyEncipherment", "dataEncipherment", "keyAgreement",
    "keyCertSign",      "cRLSign",        "encipherOnly",    "decipherOnly",
};

static const struct {
	const char *oid;
	const char *name;
} eku_names[] = {
    {"1.3.6.1.5.5.7.3.1", "serverAuth"},    {"1.3.6.1.5.5.7.3.2", "clientAuth"},
    {"1.3.6.1.5.5.7.3.3", "codeSigning"},   {"1.3.6.1.5.5.7.3.4", "emailProtection"},
    {"1.3.6.1.5.5.7.3.8", "timeStamping"},  {"1.3.6.1.5.5.7.3.9", "OCSPSigning"},
    {"2.5.29.37.0", "anyExtendedKeyUsage"},
};

static void put_usages(struct util_buf *b, const struct csr_info *info)
{
	put_key(b, "keyUsage");
	if (!info->has_key_usage) {
		util_buf_puts(b, "null");
	} else {
		bool first = true;
		util_buf_putc(b, '[');
		for (size_t i = 0; i < sizeof(ku_names) / sizeof(ku_names[0]); i++) {
			if (!(info->key_usage & (1u << i)))
				continue;
			util_buf_puts(b, first ? "" : ",");
			put_cstr(b, ku_names[i]);
			first = false;
		}
		if (info->key_usage & CSR_KU_UNDEFINED) {
			util_buf_puts(b, first ? "" : ",");
			put_cstr(b, "undefined");
		}
		util_buf_putc(b, ']');
	}

	put_key(b, "extKeyUsage");
	if (!info->has_ext_key_usage) {
		util_buf_puts(b, "null");
	} else {
		util_buf_putc(b, '[');
		for (size_t i = 0; i < info->n_eku; i++) {
			const char *name = info->eku_oids[i];
			for (size_t k = 0; k < sizeof(eku_names) / sizeof(eku_names[0]); k++) {
				if (strcmp(eku_names[k].oid, info->eku_oids[i]) == 0)
					name = eku_names[k].name;
			}
			util_buf_puts(b, i ? "," : "");
			put_cstr(b, name);
		}
		util_buf_putc(b, ']');
	}

	put_key(b, "basicConstraints");
	if (!info->has_basic_constraints) {
		util_buf_puts(b, "null");
	} else {
		util_buf_puts(b, "{\"ca\":");
		put_bool(b, info->basic_constraints_ca);
		util_buf_putc(b, '}');
	}
}

char *csr_info_to_json(const struct csr_info *info)
{
	struct util_buf b = {0};

	if (info == NULL)
		return util_xstrdup("null");
	util_buf_printf(&b, "{\"version\":%ld", info->version);
	put_subject(&b, info);
	put_key_info(&b, &info->key);
	put_signature(&b, &info->sig);

	util_buf_puts(&b, ",\"attributes\":[");
	for (size_t i = 0; i < info->n_attrs; i++) {
		util_buf_puts(&b, i ? ",{\"oid\":" : "{\"oid\":");
		put_cstr(&b, info->attrs[i].oid);
		put_key(&b, "name");
		put_cstr(&b, info->attrs[i].name);
		util_buf_putc(&b, '}');
	}
	util_buf_puts(&b, "],\"extensions\":[");
	for (size_t i = 0; i < info->n_exts; i++) {
		util_buf_puts(&b, i ? ",{\"oid\":" : "{\"oid\":");
		put_cstr(&b, info->exts[i].oid);
		put_key(&b, "name");
		put_cstr(&b, info->exts[i].name);
		put_key(&b, "critical");
		put_bool(&b, info->exts[i].critical);
		util_buf_putc(&b, '}');
	}
	util_buf_puts(&b, "],\"sans\":[");
	for (size_t i = 0; i < info->n_sans; i++) {
		util_buf_puts(&b, i ? ",{\"type\":" : "{\"type\":");
		put_cstr(&b, csr_san_type_name(info->sans[i].type));
		put_key(&b, "value");
		put_str(&b, info->sans[i].value, info->sans[i].value_len);
		util_buf_putc(&b, '}');
	}
	util_buf_putc(&b, ']');
	put_usages(&b, info);
	util_buf_putc(&b, '}');
	return util_buf_take(&b);
}
