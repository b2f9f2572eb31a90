/*
 * policy: PodCertificateRequests (SPEC.md, "PodCertificateRequests"). The
 * workload rules of the pod the request names, and the stub request's key.
 * The certificate's names come from the pod and its Services alone: the
 * stub's subject and extensions and spec.unverifiedUserAnnotations are
 * never read.
 */
#include "policy_internal.h"

#include <string.h>

/* The key bit of keys a stub's key is, or 0 for a key no policy allows. */
static uint32_t pcr_key_bit(const struct csr_key *k)
{
	switch (k->type) {
	case CSR_KEY_RSA:
		if (!k->rsa_e_65537)
			return 0;
		if (k->bits == 2048)
			return POLICY_KEY_RSA_2048;
		if (k->bits == 3072)
			return POLICY_KEY_RSA_3072;
		if (k->bits == 4096)
			return POLICY_KEY_RSA_4096;
		return 0;
	case CSR_KEY_EC:
		if (!k->ec_named_curve)
			return 0;
		if (strcmp(k->ec_curve, "prime256v1") == 0)
			return POLICY_KEY_ECDSA_P256;
		if (strcmp(k->ec_curve, "secp384r1") == 0)
			return POLICY_KEY_ECDSA_P384;
		if (strcmp(k->ec_curve, "secp521r1") == 0)
			return POLICY_KEY_ECDSA_P521;
		return 0;
	case CSR_KEY_ED25519:
		return POLICY_KEY_ED25519;
	default:
		return 0;
	}
}

static void pcr_describe_key(struct util_buf *b, const struct csr_key *k)
{
	switch (k->type) {
	case CSR_KEY_RSA:
		util_buf_printf(b, "RSA %d-bit key", k->bits);
		if (!k->rsa_e_65537)
			util_buf_puts(b, " with a public exponent other than 65537");
		break;
	case CSR_KEY_EC:
		util_buf_puts(b, "EC key on curve ");
		policy_quote(b, k->ec_curve, strnlen(k->ec_curve, sizeof(k->ec_curve)));
		break;
	default:
		util_buf_printf(b, "%s key", csr_key_type_name(k->type));
		break;
	}
}

static void pcr_check_stub(struct policy_eval *ev, const char *stub_error)
{
	const struct csr_info *info = ev->info;
	uint32_t bit;
	struct util_buf *b;

	if (info == NULL) {
		b = policy_fail(ev, POLICY_R_INVALID_REQUEST);
		util_buf_puts(b, "spec.stubPKCS10Request does not decode: ");
		if (stub_error != NULL)
			policy_escape(b, stub_error, strlen(stub_error));
		else
			util_buf_puts(b, "no reason given");
		return;
	}
	policy_ran(ev, POLICY_R_SIGNATURE_INVALID);
	policy_ran(ev, POLICY_R_UNSUPPORTED_KEY_TYPE);
	if (!info->sig.verified)
		util_buf_puts(policy_fail(ev, POLICY_R_SIGNATURE_INVALID),
		              "the self-signature of spec.stubPKCS10Request does not verify");
	bit = pcr_key_bit(&info->key);
	if (bit == 0 || !(ev->rule->keys & bit)) {
		b = policy_fail(ev, POLICY_R_UNSUPPORTED_KEY_TYPE);
		pcr_describe_key(b, &info->key);
		util_buf_puts(b, " is not in keys of this policy");
	}
}

static bool pcr_uid_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > 128)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return false;
	return true;
}

/* A field of the request in the form the API server gives it; a request
 * holding anything else is refused before any name is built from it. */
static bool pcr_field(struct policy_eval *ev, const char *path, const char *value,
                      bool (*valid)(const char *))
{
	struct util_buf *b;
	if (value != NULL && valid(value))
		return true;
	b = policy_fail(ev, POLICY_R_INVALID_REQUEST);
	util_buf_printf(b, "%s ", path);
	policy_quote(b, value ? value : "", value ? strlen(value) : 0);
	util_buf_puts(b, " is malformed");
	return false;
}

void policy_rules_pcr(struct policy_eval *ev, const struct policy_pcr *pcr, const char *stub_error,
                      struct policy_names *names)
{
	const struct policy_rule *r = ev->rule;
	struct policy_workload_ids ids = {
	    .ns = pcr->ns,
	    .service_account = pcr->service_account_name,
	    .service_account_uid = pcr->service_account_uid,
	    .pod_name = pcr->pod_name,
	    .pod_uid = pcr->pod_uid,
	    .node_name = pcr->node_name,
	    .node_uid = pcr->node_uid,
	};
	bool ok = true;

	policy_ran(ev, POLICY_R_INVALID_REQUEST);
	policy_ran(ev, POLICY_R_EXPIRATION_NOT_ALLOWED);
	policy_ran(ev, POLICY_R_NOT_AUTHORIZED);
	ok &= pcr_field(ev, "metadata.namespace", pcr->ns, policy_is_dns_label);
	ok &= pcr_field(ev, "spec.podName", pcr->pod_name, policy_is_dns_subdomain);
	ok &= pcr_field(ev, "spec.podUID", pcr->pod_uid, pcr_uid_ok);
	ok &= pcr_field(ev, "spec.serviceAccountName", pcr->service_account_name,
	                policy_is_dns_subdomain);
	ok &= pcr_field(ev, "spec.serviceAccountUID", pcr->service_account_uid, pcr_uid_ok);
	ok &= pcr_field(ev, "spec.nodeName", pcr->node_name, policy_is_dns_subdomain);
	ok &= pcr_field(ev, "spec.nodeUID", pcr->node_uid, pcr_uid_ok);
	if (pcr->max_expiration_seconds < 0)
		util_buf_printf(policy_fail(ev, POLICY_R_EXPIRATION_NOT_ALLOWED),
		                "spec.maxExpirationSeconds %lld is negative",
		                (long long)pcr->max_expiration_seconds);

	if (r->type != POLICY_TYPE_WORKLOAD || !r->pod_certificates || !r->issue.enabled)
		util_buf_puts(policy_fail(ev, POLICY_R_NOT_AUTHORIZED),
		              "the policy does not answer PodCertificateRequests (it needs type "
		              "workload, issue: and podCertificates: true)");
	else if (ok)
		policy_workload_pod(ev, &ids, names);

	pcr_check_stub(ev, stub_error);

	if (names != NULL && r->max_sans > 0 && names->values.n > (size_t)r->max_sans)
		util_buf_printf(policy_fail_obj(ev, POLICY_R_SAN_NOT_ALLOWED),
		                "the pod has %zu names, more than maxSANs (%lld)", names->values.n,
		                (long long)r->max_sans);
}
