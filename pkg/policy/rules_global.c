/*
 * policy: the global hard rules of SPEC.md, for every policy type. What is
 * not parsed or not modelled is denied.
 */
#include "policy_internal.h"

#include <string.h>

#define OID_EXTENSION_REQUEST "1.2.840.113549.1.9.14"
#define OID_CHALLENGE_PASSWORD "1.2.840.113549.1.9.7"
#define OID_SERVER_AUTH "1.3.6.1.5.5.7.3.1"
#define OID_CLIENT_AUTH "1.3.6.1.5.5.7.3.2"

/* Names for messages. The csr module has its own; policy does not link it
 * so that it stays free of crypto. */

/* A fixed-size OID or name field of csr_info, escaped. */
static void g_put_field(struct util_buf *b, const char *field, size_t size)
{
	policy_escape(b, field, strnlen(field, size));
}

static bool g_field_eq(const char *field, size_t size, const char *s)
{
	return strnlen(field, size) == strlen(s) && memcmp(field, s, strlen(s)) == 0;
}

/* "name (oid)", or the OID alone when the decoder knows no name. */
static void g_put_named_oid(struct util_buf *b, const char *name, const char *oid)
{
	size_t nl = strnlen(name, 64), ol = strnlen(oid, 64);
	if (nl == 0 || (nl == ol && memcmp(name, oid, nl) == 0)) {
		policy_escape(b, oid, ol);
		return;
	}
	policy_escape(b, name, nl);
	util_buf_puts(b, " (");
	policy_escape(b, oid, ol);
	util_buf_putc(b, ')');
}

/* ---- InvalidRequest ---- */

static void g_check_structure(struct policy_eval *ev)
{
	const struct csr_info *info = ev->info;
	size_t n_ext_req = 0;

	if (info->version != 0)
		util_buf_printf(policy_fail(ev, POLICY_R_INVALID_REQUEST),
		                "PKCS#10 version field is %ld (only 0, version 1, is allowed)",
		                info->version);
	for (size_t i = 0; i < info->n_attrs; i++) {
		const struct csr_attribute *a = &info->attrs[i];
		struct util_buf *b;
		if (a->is_extension_request &&
		    g_field_eq(a->oid, sizeof(a->oid), OID_EXTENSION_REQUEST)) {
			n_ext_req++;
			continue;
		}
		b = policy_fail(ev, POLICY_R_INVALID_REQUEST);
		util_buf_puts(b, "attribute ");
		if (g_field_eq(a->oid, sizeof(a->oid), OID_CHALLENGE_PASSWORD))
			util_buf_puts(b, "challengePassword (" OID_CHALLENGE_PASSWORD ")");
		else
			g_put_named_oid(b, a->name, a->oid);
		util_buf_puts(b, " is not allowed (only one extensionRequest)");
	}
	if (n_ext_req > 1)
		util_buf_printf(policy_fail(ev, POLICY_R_INVALID_REQUEST),
		                "%zu extensionRequest attributes (at most one)", n_ext_req);
}

/* ---- SignatureInvalid, SignatureAlgorithmNotAllowed ---- */

static void g_put_alg(struct util_buf *b, const struct csr_signature *sig)
{
	if (sig->alg_name[0] != '\0')
		g_put_field(b, sig->alg_name, sizeof(sig->alg_name));
	else if (sig->alg_oid[0] != '\0')
		g_put_field(b, sig->alg_oid, sizeof(sig->alg_oid));
	else
		util_buf_puts(b, "(unnamed)");
}

static void g_check_signature(struct policy_eval *ev)
{
	const struct csr_signature *sig = &ev->info->sig;
	struct util_buf *b;
	bool scheme_ok = true;

	if (!sig->verified)
		util_buf_puts(policy_fail(ev, POLICY_R_SIGNATURE_INVALID),
		              "the self-signature does not verify with the embedded public key "
		              "(no proof of possession)");

	switch (sig->scheme) {
	case CSR_SIG_RSA_PKCS1:
	case CSR_SIG_RSA_PSS:
	case CSR_SIG_ECDSA:
		if (sig->hash != CSR_HASH_SHA256 && sig->hash != CSR_HASH_SHA384 &&
		    sig->hash != CSR_HASH_SHA512) {
			b = policy_fail(ev, POLICY_R_SIGNATURE_ALGORITHM_NOT_ALLOWED);
			util_buf_puts(b, "signature algorithm ");
			g_put_alg(b, sig);
			util_buf_printf(b, " uses hash %s (SHA-256 or stronger required)",
			                csr_hash_name(sig->hash));
		}
		break;
	case CSR_SIG_ED25519:
		if (sig->hash != CSR_HASH_NONE) {
			b = policy_fail(ev, POLICY_R_SIGNATURE_ALGORITHM_NOT_ALLOWED);
			util_buf_printf(b,
			                "Ed25519 signature with a separate %s hash is not allowed",
			                csr_hash_name(sig->hash));
		}
		break;
	default:
		scheme_ok = false;
		b = policy_fail(ev, POLICY_R_SIGNATURE_ALGORITHM_NOT_ALLOWED);
		util_buf_puts(b, "signature algorithm ");
		g_put_alg(b, sig);
		util_buf_puts(b, " is not allowed (RSA PKCS#1 v1.5 or PSS, ECDSA, or Ed25519)");
		break;
	}
	if (sig->scheme == CSR_SIG_RSA_PSS && !sig->pss_params_ok) {
		util_buf_puts(policy_fail(ev, POLICY_R_SIGNATURE_ALGORITHM_NOT_ALLOWED),
		              "RSA-PSS parameters are not allowed (the MGF1 hash must be the "
		              "signature hash)");
	} else if (scheme_ok && !sig->params_ok) {
		b = policy_fail(ev, POLICY_R_SIGNATURE_ALGORITHM_NOT_ALLOWED);
		util_buf_puts(b, "signature algorithm ");
		g_put_alg(b, sig);
		util_buf_puts(b, " has parameters of the wrong form");
	}
	if (scheme_ok &&
	    (!sig->matches_key || !csr_sig_scheme_fits_key(sig->scheme, ev->info->key.type))) {
		b = policy_fail(ev, POLICY_R_SIGNATURE_ALGORITHM_NOT_ALLOWED);
		util_buf_puts(b, "signature algorithm ");
		g_put_alg(b, sig);
		util_buf_printf(b, " does not match the %s key",
		                csr_key_type_name(ev->info->key.type));
	}
}

/* ---- KeyNotAllowed ---- */

static const struct {
	uint32_t bit;
	const char *name;
} g_key_names[] = {
    {POLICY_KEY_ECDSA_P256, "ecdsa-p256"}, {POLICY_KEY_ECDSA_P384, "ecdsa-p384"},
    {POLICY_KEY_ECDSA_P521, "ecdsa-p521"}, {POLICY_KEY_ED25519, "ed25519"},
    {POLICY_KEY_RSA_2048, "rsa-2048"},     {POLICY_KEY_RSA_3072, "rsa-3072"},
    {POLICY_KEY_RSA_4096, "rsa-4096"},
};

static void g_put_keys(struct util_buf *b, uint32_t keys)
{
	bool first = true;
	util_buf_puts(b, " (allowed: ");
	for (size_t i = 0; i < sizeof(g_key_names) / sizeof(g_key_names[0]); i++) {
		if (!(keys & g_key_names[i].bit))
			continue;
		util_buf_printf(b, "%s%s", first ? "" : ", ", g_key_names[i].name);
		first = false;
	}
	util_buf_puts(b, first ? "none)" : ")");
}

static const char *g_key_name(uint32_t bit)
{
	for (size_t i = 0; i < sizeof(g_key_names) / sizeof(g_key_names[0]); i++)
		if (g_key_names[i].bit == bit)
			return g_key_names[i].name;
	return "?";
}

static void g_check_key(struct policy_eval *ev)
{
	const struct csr_key *k = &ev->info->key;
	uint32_t keys = ev->rule->keys;
	uint32_t bit = 0;
	struct util_buf *b;

	switch (k->type) {
	case CSR_KEY_RSA:
	case CSR_KEY_RSA_PSS:
		if (!k->rsa_e_65537) {
			b = policy_fail(ev, POLICY_R_KEY_NOT_ALLOWED);
			util_buf_puts(b, "RSA public exponent ");
			g_put_field(b, k->rsa_e, sizeof(k->rsa_e));
			util_buf_puts(b, " is not allowed (only 65537)");
		}
		if (k->bits > 8192) {
			util_buf_printf(policy_fail(ev, POLICY_R_KEY_NOT_ALLOWED),
			                "RSA key of %d bits is larger than 8192", k->bits);
			break;
		}
		if (k->bits == 2048)
			bit = POLICY_KEY_RSA_2048;
		else if (k->bits == 3072)
			bit = POLICY_KEY_RSA_3072;
		else if (k->bits == 4096)
			bit = POLICY_KEY_RSA_4096;
		if (bit == 0) {
			b = policy_fail(ev, POLICY_R_KEY_NOT_ALLOWED);
			util_buf_printf(b, "RSA %d-bit key is not allowed", k->bits);
			g_put_keys(b, keys);
		}
		break;
	case CSR_KEY_EC:
		if (!k->ec_named_curve) {
			util_buf_puts(policy_fail(ev, POLICY_R_KEY_NOT_ALLOWED),
			              "EC key with explicit curve parameters is not allowed (named "
			              "curves only)");
			break;
		}
		if (g_field_eq(k->ec_curve, sizeof(k->ec_curve), "prime256v1"))
			bit = POLICY_KEY_ECDSA_P256;
		else if (g_field_eq(k->ec_curve, sizeof(k->ec_curve), "secp384r1"))
			bit = POLICY_KEY_ECDSA_P384;
		else if (g_field_eq(k->ec_curve, sizeof(k->ec_curve), "secp521r1"))
			bit = POLICY_KEY_ECDSA_P521;
		if (bit == 0) {
			b = policy_fail(ev, POLICY_R_KEY_NOT_ALLOWED);
			util_buf_puts(b, "EC curve ");
			policy_quote(b, k->ec_curve, strnlen(k->ec_curve, sizeof(k->ec_curve)));
			util_buf_puts(b, " is not allowed");
			g_put_keys(b, keys);
		}
		break;
	case CSR_KEY_ED25519:
		bit = POLICY_KEY_ED25519;
		break;
	default:
		b = policy_fail(ev, POLICY_R_KEY_NOT_ALLOWED);
		util_buf_printf(b, "%s key", csr_key_type_name(k->type));
		if (k->alg_oid[0] != '\0') {
			util_buf_puts(b, " (");
			g_put_field(b, k->alg_oid, sizeof(k->alg_oid));
			util_buf_putc(b, ')');
		}
		util_buf_puts(b, " is not allowed");
		g_put_keys(b, keys);
		break;
	}
	if (bit != 0 && !(keys & bit)) {
		b = policy_fail(ev, POLICY_R_KEY_NOT_ALLOWED);
		util_buf_printf(b, "key %s is not in keys of this policy", g_key_name(bit));
		g_put_keys(b, keys);
	}
}

/* ---- ExtensionNotAllowed ---- */

static const char *const g_ku_names[] = {
    "digitalSignature", "nonRepudiation", "keyEncipherment", "dataEncipherment", "keyAgreement",
    "keyCertSign",      "cRLSign",        "encipherOnly",    "decipherOnly",
};

static const struct {
	const char *oid;
	const char *name;
} g_eku_names[] = {
    {"2.5.29.37.0", "anyExtendedKeyUsage"},   {"1.3.6.1.5.5.7.3.3", "codeSigning"},
    {"1.3.6.1.5.5.7.3.4", "emailProtection"}, {"1.3.6.1.5.5.7.3.8", "timeStamping"},
    {"1.3.6.1.5.5.7.3.9", "OCSPSigning"},
};

static void g_check_extensions(struct policy_eval *ev)
{
	const struct csr_info *info = ev->info;
	static const char *const kind_names[] = {"subjectAltName", "keyUsage", "extendedKeyUsage",
	                                         "basicConstraints"};
	size_t count[4] = {0};
	struct util_buf *b;

	for (size_t i = 0; i < info->n_exts; i++) {
		const struct csr_extension *e = &info->exts[i];
		if (e->kind >= CSR_EXT_SAN && e->kind <= CSR_EXT_BASIC_CONSTRAINTS) {
			count[e->kind]++;
			continue;
		}
		b = policy_fail(ev, POLICY_R_EXTENSION_NOT_ALLOWED);
		util_buf_puts(b, "extension ");
		g_put_named_oid(b, e->name, e->oid);
		util_buf_printf(b,
		                "%s is not allowed (only subjectAltName, keyUsage, "
		                "extendedKeyUsage, basicConstraints)",
		                e->critical ? " (critical)" : "");
	}
	for (size_t k = 0; k < 4; k++)
		if (count[k] > 1)
			util_buf_printf(policy_fail(ev, POLICY_R_EXTENSION_NOT_ALLOWED),
			                "%zu %s extensions (at most one)", count[k], kind_names[k]);

	if (info->has_basic_constraints && info->basic_constraints_ca)
		util_buf_puts(policy_fail(ev, POLICY_R_EXTENSION_NOT_ALLOWED),
		              "basicConstraints CA:TRUE is not allowed");

	uint32_t allowed_ku =
	    CSR_KU_DIGITAL_SIGNATURE | CSR_KU_KEY_ENCIPHERMENT | CSR_KU_KEY_AGREEMENT;
	if (info->has_key_usage && (info->key_usage & ~allowed_ku) != 0) {
		uint32_t bad = info->key_usage & ~allowed_ku;
		bool first = true;
		b = policy_fail(ev, POLICY_R_EXTENSION_NOT_ALLOWED);
		util_buf_puts(b, "keyUsage ");
		for (unsigned bitno = 0; bitno < 32; bitno++) {
			if (!(bad & (1u << bitno)))
				continue;
			if (!first)
				util_buf_puts(b, ", ");
			if (bitno < sizeof(g_ku_names) / sizeof(g_ku_names[0]))
				util_buf_puts(b, g_ku_names[bitno]);
			else if ((1u << bitno) == CSR_KU_UNDEFINED)
				util_buf_puts(b, "undefined bits");
			else
				util_buf_printf(b, "bit %u", bitno);
			first = false;
		}
		util_buf_puts(
		    b, " not allowed (only digitalSignature, keyEncipherment, keyAgreement)");
	}

	for (size_t i = 0; info->has_ext_key_usage && i < info->n_eku; i++) {
		const char *oid = info->eku_oids[i];
		const char *name = NULL;
		if (g_field_eq(oid, 64, OID_SERVER_AUTH) || g_field_eq(oid, 64, OID_CLIENT_AUTH))
			continue;
		for (size_t j = 0; j < sizeof(g_eku_names) / sizeof(g_eku_names[0]); j++)
			if (g_field_eq(oid, 64, g_eku_names[j].oid))
				name = g_eku_names[j].name;
		b = policy_fail(ev, POLICY_R_EXTENSION_NOT_ALLOWED);
		util_buf_puts(b, "extendedKeyUsage ");
		if (name != NULL)
			util_buf_printf(b, "%s (", name);
		g_put_field(b, oid, 64);
		util_buf_printf(b, "%s is not allowed (only serverAuth, clientAuth)",
		                name ? ")" : "");
	}
}

/* ---- SANNotAllowed (syntax) ---- */

static const char *g_dns_problem(const char *s, size_t n, bool has_nul)
{
	size_t start = 0;
	if (n == 0)
		return "is empty";
	if (has_nul || memchr(s, '\0', n) != NULL)
		return "contains a NUL byte";
	if (n > 253)
		return "is longer than 253 bytes";
	if (memchr(s, '*', n) != NULL)
		return "is a wildcard (not allowed)";
	if (s[n - 1] == '.')
		return "ends in a dot (not allowed)";
	for (size_t i = 0; i <= n; i++) {
		if (i == n || s[i] == '.') {
			size_t len = i - start;
			if (len == 0)
				return "has an empty label";
			if (len > 63)
				return "has a label longer than 63 bytes";
			if (s[start] == '-' || s[i - 1] == '-')
				return "has a label that starts or ends with a hyphen";
			start = i + 1;
			continue;
		}
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-'))
			return "holds a character other than letters, digits, hyphens and dots";
	}
	return NULL;
}

static const char *g_ip_problem(const unsigned char *ip, size_t len)
{
	static const unsigned char zero[16] = {0};
	if (len == 4) {
		if (ip[0] == 127)
			return "is a loopback address";
		if (ip[0] == 0)
			return "is unspecified (0.0.0.0/8)";
		if (ip[0] == 169 && ip[1] == 254)
			return "is link-local";
		if (ip[0] >= 224 && ip[0] <= 239)
			return "is multicast";
		return NULL;
	}
	if (memcmp(ip, zero, 16) == 0)
		return "is unspecified";
	if (memcmp(ip, zero, 15) == 0 && ip[15] == 1)
		return "is a loopback address";
	if (ip[0] == 0xfe && (ip[1] & 0xc0) == 0x80)
		return "is link-local";
	if (ip[0] == 0xff)
		return "is multicast";
	if (memcmp(ip, zero, 10) == 0 && ip[10] == 0xff && ip[11] == 0xff)
		return "is IPv4-mapped";
	return NULL;
}

static void g_check_sans(struct policy_eval *ev)
{
	const struct csr_info *info = ev->info;

	/* The count first, so that it leads the SAN failures of a request with
	 * thousands of names. kubelet-client and client allow no SAN at all and
	 * say so themselves. */
	if (ev->rule->type != POLICY_TYPE_KUBELET_CLIENT && ev->rule->type != POLICY_TYPE_CLIENT)
		policy_check_max_sans(ev);
	for (size_t i = 0; i < info->n_sans; i++) {
		const struct csr_san *s = &info->sans[i];
		const char *problem = NULL;
		struct util_buf *b;
		switch (s->type) {
		case CSR_SAN_DNS:
			problem = g_dns_problem(s->value, s->value_len, s->has_nul);
			if (problem != NULL) {
				b = policy_fail(ev, POLICY_R_SAN_NOT_ALLOWED);
				util_buf_puts(b, "DNS SAN ");
				policy_quote(b, s->value, s->value_len);
				util_buf_printf(b, " %s", problem);
			}
			break;
		case CSR_SAN_IP:
			if (s->ip_len != 4 && s->ip_len != 16) {
				problem = "malformed";
				util_buf_printf(policy_fail(ev, POLICY_R_SAN_NOT_ALLOWED),
				                "IP SAN of %zu bytes is malformed", s->ip_len);
				break;
			}
			problem = g_ip_problem(s->ip, s->ip_len);
			if (problem != NULL) {
				b = policy_fail(ev, POLICY_R_SAN_NOT_ALLOWED);
				util_buf_puts(b, "IP SAN ");
				policy_put_ip(b, s->ip, s->ip_len);
				util_buf_printf(b, " %s", problem);
			}
			break;
		case CSR_SAN_URI:
			for (size_t j = 0; j < s->value_len && problem == NULL; j++) {
				unsigned char c = (unsigned char)s->value[j];
				if (c <= 0x20 || c >= 0x7f)
					problem = "holds a NUL, a space, a control character or a "
					          "non-ASCII byte";
			}
			if (s->has_nul)
				problem = "holds a NUL byte";
			if (s->value_len == 0)
				problem = "is empty";
			if (problem != NULL) {
				b = policy_fail(ev, POLICY_R_SAN_NOT_ALLOWED);
				util_buf_puts(b, "URI SAN ");
				policy_quote(b, s->value, s->value_len);
				util_buf_printf(b, " %s", problem);
			}
			break;
		default:
			problem = "kind";
			b = policy_fail(ev, POLICY_R_SAN_NOT_ALLOWED);
			util_buf_printf(b, "%s SAN ", csr_san_type_name(s->type));
			policy_quote(b, s->value, s->value ? s->value_len : 0);
			util_buf_puts(b, " is not allowed (only DNS, IP and URI)");
			break;
		}
		if (problem != NULL)
			ev->san_ok[i] = false;
	}
}

/* ---- SubjectNotAllowed ---- */

static bool g_printable_char(unsigned char c)
{
	/* X.680 PrintableString, plus '*' which common encoders put there. */
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    (c != '\0' && strchr(" '()+,-./:=?*", c) != NULL);
}

static const char *g_text_problem(const struct csr_subject_attr *a)
{
	const unsigned char *p = (const unsigned char *)(a->value ? a->value : "");
	size_t n = a->value ? a->value_len : 0;
	if (a->has_nul || memchr(p, '\0', n) != NULL)
		return "contains a NUL byte";
	if (a->has_control)
		return "contains a control character";
	if (a->bad_encoding)
		return "is not valid for its string type";
	for (size_t i = 0; i < n;) {
		unsigned char c = p[i];
		if (c < 0x20 || c == 0x7f)
			return "contains a control character";
		if (a->str_type == CSR_STR_PRINTABLE) {
			if (!g_printable_char(c))
				return "holds characters outside PrintableString";
			i++;
			continue;
		}
		if (c < 0x80) {
			i++;
			continue;
		}
		/* UTF8String: valid UTF-8 without C1 controls (U+0080..U+009F). */
		uint32_t cp;
		size_t len = util_utf8_decode(p + i, n - i, &cp);
		if (len == 0)
			return "is not valid UTF-8";
		if (cp >= 0x80 && cp <= 0x9f)
			return "contains a control character";
		i += len;
	}
	return NULL;
}

static void g_put_attr_name(struct util_buf *b, const struct csr_subject_attr *a)
{
	if (a->kind == CSR_ATTR_CN)
		util_buf_puts(b, "CN");
	else if (a->kind == CSR_ATTR_O)
		util_buf_puts(b, "O");
	else
		g_put_named_oid(b, a->name, a->oid);
}

static void g_check_subject(struct policy_eval *ev)
{
	const struct csr_info *info = ev->info;
	size_t n_cn = 0;
	struct util_buf *b;

	for (size_t i = 0; i < info->n_subject; i++) {
		const struct csr_subject_attr *a = &info->subject[i];
		const char *problem;
		if (a->kind != CSR_ATTR_CN && a->kind != CSR_ATTR_O) {
			b = policy_fail(ev, POLICY_R_SUBJECT_NOT_ALLOWED);
			util_buf_puts(b, "subject attribute ");
			g_put_attr_name(b, a);
			util_buf_puts(b, " is not allowed (only CN and O)");
			continue;
		}
		if (a->kind == CSR_ATTR_CN)
			n_cn++;
		if (a->multi_valued_rdn) {
			b = policy_fail(ev, POLICY_R_SUBJECT_NOT_ALLOWED);
			util_buf_puts(b, "subject ");
			g_put_attr_name(b, a);
			util_buf_puts(b, " shares a multi-valued RDN (not allowed)");
		}
		if (a->str_type != CSR_STR_UTF8 && a->str_type != CSR_STR_PRINTABLE) {
			b = policy_fail(ev, POLICY_R_SUBJECT_NOT_ALLOWED);
			util_buf_puts(b, "subject ");
			g_put_attr_name(b, a);
			if (a->str_type == CSR_STR_OTHER)
				util_buf_puts(b, " is not a string");
			else
				util_buf_printf(b, " is a %s", csr_str_type_name(a->str_type));
			util_buf_puts(b, " (only UTF8String or PrintableString)");
		} else if ((problem = g_text_problem(a)) != NULL) {
			b = policy_fail(ev, POLICY_R_SUBJECT_NOT_ALLOWED);
			util_buf_puts(b, "subject ");
			g_put_attr_name(b, a);
			util_buf_putc(b, ' ');
			policy_quote(b, a->value, a->value ? a->value_len : 0);
			util_buf_printf(b, " %s", problem);
		}
		if (a->kind == CSR_ATTR_O) {
			if (policy_eq_n(a->value, a->value_len, "system:masters")) {
				util_buf_puts(policy_fail(ev, POLICY_R_SUBJECT_NOT_ALLOWED),
				              "subject O \"system:masters\" is not allowed");
			} else if (ev->rule->type == POLICY_TYPE_WORKLOAD) {
				b = policy_fail(ev, POLICY_R_SUBJECT_NOT_ALLOWED);
				util_buf_puts(b, "subject O ");
				policy_quote(b, a->value, a->value ? a->value_len : 0);
				util_buf_puts(b, " is not allowed by a workload policy (CN only)");
			}
		}
	}
	if (n_cn > 1)
		util_buf_printf(policy_fail(ev, POLICY_R_SUBJECT_NOT_ALLOWED),
		                "subject has %zu CNs (at most one)", n_cn);
}

void policy_rules_global(struct policy_eval *ev)
{
	/* The type rules add their own SAN and subject checks; a SAN one of
	 * them cannot judge makes the SAN check partial (policy_ran_in_part()). */
	static const enum policy_reason judged[] = {
	    POLICY_R_SIGNATURE_INVALID, POLICY_R_SIGNATURE_ALGORITHM_NOT_ALLOWED,
	    POLICY_R_KEY_NOT_ALLOWED,   POLICY_R_EXTENSION_NOT_ALLOWED,
	    POLICY_R_SAN_NOT_ALLOWED,   POLICY_R_SUBJECT_NOT_ALLOWED,
	};
	for (size_t i = 0; i < sizeof(judged) / sizeof(judged[0]); i++)
		policy_ran(ev, judged[i]);
	g_check_structure(ev);
	g_check_signature(ev);
	g_check_key(ev);
	g_check_extensions(ev);
	g_check_sans(ev);
	g_check_subject(ev);
}
