/*
 * agent: the bodies it sends to the API server and the answers it reads.
 * Pure: JSON in, plain C out. Everything read here is untrusted (a CSR's
 * status is written by approvers and signers, a ClusterTrustBundle by
 * whoever may attest for the signer), so every size is capped and every
 * field typed.
 */
#include <stdlib.h>
#include <string.h>

#include "agent.h"

/* Longest condition message kept, in bytes. */
#define MAX_MESSAGE 1024
/* Longest condition reason kept, in bytes. */
#define MAX_REASON 128

static void b64_encode(struct util_buf *b, const unsigned char *p, size_t n)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16;
		if (i + 1 < n)
			v |= (unsigned)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		char q[4] = {tab[(v >> 18) & 63], tab[(v >> 12) & 63],
		             i + 1 < n ? tab[(v >> 6) & 63] : '=', i + 2 < n ? tab[v & 63] : '='};
		util_buf_append(b, q, 4);
	}
}

char *agent_csr_body(const char *generate_name, const char *signer_name, const char *csr_pem,
                     size_t csr_len, enum agent_key_type kt, int64_t expiration_s)
{
	struct util_buf req = {0};
	util_buf_append(&req, "", 0);
	b64_encode(&req, (const unsigned char *)csr_pem, csr_len);
	json_t *usages = json_array();
	json_array_append_new(usages, json_string("digital signature"));
	/* RSA keys encrypt key material in TLS 1.2 RSA key exchange; EC and
	 * Ed25519 keys never do, so they do not ask for it. */
	if (kt == AGENT_KEY_RSA_2048 || kt == AGENT_KEY_RSA_3072 || kt == AGENT_KEY_RSA_4096)
		json_array_append_new(usages, json_string("key encipherment"));
	json_array_append_new(usages, json_string("client auth"));
	json_array_append_new(usages, json_string("server auth"));
	json_t *obj = json_pack("{s:s, s:s, s:{s:s}, s:{s:s, s:s, s:o, s:I}}", "apiVersion",
	                        "certificates.k8s.io/v1", "kind", "CertificateSigningRequest",
	                        "metadata", "generateName", generate_name, "spec", "request",
	                        util_buf_str(&req), "signerName", signer_name, "usages", usages,
	                        "expirationSeconds", (json_int_t)expiration_s);
	char *out = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
	json_decref(obj);
	util_buf_reset(&req);
	if (out == NULL) {
		fprintf(stderr, "csr-approver: could not encode a CSR body\n");
		abort();
	}
	return out;
}

static int copy_str(const json_t *v, char *dst, size_t cap)
{
	if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) >= cap ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return -1;
	memcpy(dst, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

int agent_created_read(const char *body, size_t len, char *name, size_t namelen, char *rv,
                       size_t rvlen)
{
	json_t *obj = json_loadb(body, len, 0, NULL);
	const json_t *meta = json_object_get(obj, "metadata");
	int rc = copy_str(json_object_get(meta, "name"), name, namelen) == 0 &&
	        copy_str(json_object_get(meta, "resourceVersion"), rv, rvlen) == 0
	    ? 0
	    : -1;
	json_decref(obj);
	return rc;
}

/* A string safe to print on a terminal: control characters become spaces,
 * at most max bytes (cut at a character boundary, then "..."). */
static char *clean_text(const json_t *v, size_t max)
{
	struct util_buf b = {0};
	util_buf_append(&b, "", 0);
	if (!json_is_string(v))
		return util_buf_take(&b);
	const unsigned char *s = (const unsigned char *)json_string_value(v);
	size_t n = json_string_length(v);
	bool cut = false;
	if (n > max) {
		n = max;
		while (n > 0 && (s[n] & 0xc0) == 0x80)
			n--;
		cut = true;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = s[i];
		/* C0, DEL; C1 controls are U+0080..U+009F, in UTF-8 0xC2 0x80..0x9F. */
		if (c < 0x20 || c == 0x7f) {
			util_buf_putc(&b, ' ');
		} else if (c == 0xc2 && i + 1 < n && s[i + 1] >= 0x80 && s[i + 1] <= 0x9f) {
			util_buf_putc(&b, ' ');
			i++;
		} else {
			util_buf_putc(&b, (char)c);
		}
	}
	if (cut)
		util_buf_puts(&b, "...");
	return util_buf_take(&b);
}

void agent_csr_status_clear(struct agent_csr_status *s)
{
	free(s->reason);
	free(s->message);
	free(s->cert_pem);
	memset(s, 0, sizeof(*s));
}

int agent_csr_status_read(const json_t *csr, struct agent_csr_status *out, char *err, size_t errlen)
{
	const json_t *status, *conds, *cert, *fin = NULL;
	bool approved = false;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(csr)) {
		snprintf(err, errlen, "the CSR is not a JSON object");
		return -1;
	}
	status = json_object_get(csr, "status");
	if (status != NULL && !json_is_object(status)) {
		snprintf(err, errlen, "the CSR's status is not an object");
		return -1;
	}
	conds = json_object_get(status, "conditions");
	if (conds != NULL && !json_is_array(conds) && !json_is_null(conds)) {
		snprintf(err, errlen, "the CSR's status.conditions is not a list");
		return -1;
	}
	for (size_t i = 0; i < json_array_size(conds); i++) {
		const json_t *c = json_array_get(conds, i);
		const char *type = json_string_value(json_object_get(c, "type"));
		const char *st = json_string_value(json_object_get(c, "status"));
		if (type == NULL || (st != NULL && strcmp(st, "True") != 0))
			continue;
		if (strcmp(type, "Denied") == 0 || strcmp(type, "Failed") == 0) {
			/* Denied is the decision, Failed the signer's: report Denied
			 * first if both are there. */
			if (fin == NULL || strcmp(type, "Denied") == 0)
				fin = c;
		} else if (strcmp(type, "Approved") == 0) {
			approved = true;
		}
	}
	if (fin != NULL) {
		bool denied =
		    strcmp(json_string_value(json_object_get(fin, "type")), "Denied") == 0;
		out->state = denied ? AGENT_CSR_DENIED : AGENT_CSR_FAILED;
		out->reason = clean_text(json_object_get(fin, "reason"), MAX_REASON);
		out->message = clean_text(json_object_get(fin, "message"), MAX_MESSAGE);
		return 0;
	}
	out->state = approved ? AGENT_CSR_APPROVED : AGENT_CSR_PENDING;
	cert = json_object_get(status, "certificate");
	if (approved && cert != NULL && !json_is_null(cert)) {
		if (!json_is_string(cert)) {
			snprintf(err, errlen, "the CSR's status.certificate is not a string");
			goto fail;
		}
		if (json_string_length(cert) == 0)
			return 0;
		int r = util_base64_decode(json_string_value(cert), json_string_length(cert), 0,
		                           AGENT_MAX_PEM, &out->cert_pem, &out->cert_len);
		if (r != 0) {
			snprintf(err, errlen, "the CSR's status.certificate is %s",
			         r == -2 ? "larger than 1 MiB" : "not base64");
			goto fail;
		}
		out->state = AGENT_CSR_ISSUED;
	}
	return 0;
fail:
	agent_csr_status_clear(out);
	return -1;
}

struct bundle {
	const char *name;
	const char *pem;
	size_t len;
};

static int bundle_cmp(const void *a, const void *b)
{
	return strcmp(((const struct bundle *)a)->name, ((const struct bundle *)b)->name);
}

int agent_trust_bundles_read(const char *body, size_t len, const char *signer_name, char **pem,
                             size_t *pemlen, size_t *count, char *err, size_t errlen)
{
	json_t *list = json_loadb(body, len, 0, NULL);
	const json_t *items = json_object_get(list, "items");
	struct bundle *bs = NULL;
	size_t n = 0, total = 0;
	struct util_buf out = {0};
	int rc = -1;

	*pem = NULL;
	*pemlen = 0;
	*count = 0;
	if (!json_is_object(list) ||
	    (items != NULL && !json_is_array(items) && !json_is_null(items))) {
		snprintf(err, errlen, "the ClusterTrustBundle list is not a list");
		goto out;
	}
	bs = util_xcalloc(json_array_size(items) + 1, sizeof(*bs));
	for (size_t i = 0; i < json_array_size(items); i++) {
		const json_t *it = json_array_get(items, i);
		const json_t *spec = json_object_get(it, "spec");
		const char *signer = json_string_value(json_object_get(spec, "signerName"));
		const json_t *tb = json_object_get(spec, "trustBundle");
		const char *name =
		    json_string_value(json_object_get(json_object_get(it, "metadata"), "name"));
		/* The server selected by signer already; a bundle of another
		 * signer is never trusted for this one. */
		if (signer == NULL || strcmp(signer, signer_name) != 0)
			continue;
		if (!json_is_string(tb) || name == NULL) {
			snprintf(err, errlen,
			         "a ClusterTrustBundle of the signer has no "
			         "spec.trustBundle or name");
			goto out;
		}
		total += json_string_length(tb) + 1;
		if (total > AGENT_MAX_PEM) {
			snprintf(err, errlen, "the signer's ClusterTrustBundles exceed 1 MiB");
			goto out;
		}
		bs[n].name = name;
		bs[n].pem = json_string_value(tb);
		bs[n].len = json_string_length(tb);
		n++;
	}
	qsort(bs, n, sizeof(*bs), bundle_cmp);
	for (size_t i = 0; i < n; i++) {
		util_buf_append(&out, bs[i].pem, bs[i].len);
		if (bs[i].len == 0 || bs[i].pem[bs[i].len - 1] != '\n')
			util_buf_putc(&out, '\n');
	}
	*count = n;
	*pemlen = out.len;
	*pem = n > 0 ? util_buf_take(&out) : NULL;
	rc = 0;
out:
	util_buf_reset(&out);
	free(bs);
	json_decref(list);
	return rc;
}

int agent_forbidden_user(const char *message, char *user, size_t userlen)
{
	const char *p = message ? strstr(message, "User \"") : NULL;
	if (p == NULL)
		return -1;
	p += 6;
	const char *q = strchr(p, '"');
	if (q == NULL || q == p || (size_t)(q - p) >= userlen)
		return -1;
	memcpy(user, p, (size_t)(q - p));
	user[q - p] = '\0';
	return 0;
}
