/*
 * libFuzzer target for pkg/signer's CA file parser: signer_ca_parse() on a
 * certificate chain and a private key from untrusted bytes, then the trust
 * bundle built from what parsed, merged with the certificate text as the
 * "published" bundle.
 *
 * Input: two bytes (big-endian) H, then the certificate part (H & 0x3fff
 * bytes, fewer when the input is shorter), then the key part (the rest).
 * A part starting with 0x30 (a DER SEQUENCE) is wrapped in a PEM block
 * first, so that mutations reach the DER decoders instead of dying in
 * base64: the certificate part as CERTIFICATE, the key part as PRIVATE KEY,
 * EC PRIVATE KEY or RSA PRIVATE KEY as H >> 14 is 0, 1 or 2 (3: the key
 * part goes in as it is). Anything else goes in as PEM text.
 *
 * The seed corpus (tests/fuzz/corpus/signer_ca) holds only keys that are no
 * secret: the P-256 key whose private scalar is 1 and the Ed25519 key whose
 * seed is 32 zero bytes, with CA certificates made for them.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "../../pkg/signer/signer.h"
#include "../../pkg/util/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The part as PEM text of the given label when it is DER, else a copy. */
static char *as_pem(const uint8_t *p, size_t n, const char *label, size_t *outlen)
{
	if (n == 0 || p[0] != 0x30 || label == NULL) {
		char *s = util_xmalloc(n + 1);
		if (n)
			memcpy(s, p, n);
		s[n] = '\0';
		*outlen = n;
		return s;
	}
	char *s = util_xasprintf("-----BEGIN %s-----\n", label);
	size_t head = strlen(s);
	size_t b64 = 4 * ((n + 2) / 3);
	char *end = util_xasprintf("\n-----END %s-----\n", label);
	char *pem = util_xmalloc(head + b64 + strlen(end) + 1);
	memcpy(pem, s, head);
	size_t len = head + (size_t)EVP_EncodeBlock((unsigned char *)pem + head, p, (int)n);
	memcpy(pem + len, end, strlen(end) + 1);
	len += strlen(end);
	free(s);
	free(end);
	*outlen = len;
	return pem;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const key_labels[] = {"PRIVATE KEY", "EC PRIVATE KEY", "RSA PRIVATE KEY",
	                                         NULL};
	struct signer_ca *ca = NULL;
	char err[SIGNER_ERR_MAX];
	size_t cert_len, key_len, n;
	char *cert, *key;

	if (size < 2 || size > 256 * 1024)
		return 0;
	unsigned h = (unsigned)data[0] << 8 | data[1];
	n = h & 0x3fff;
	if (n > size - 2)
		n = size - 2;
	cert = as_pem(data + 2, n, "CERTIFICATE", &cert_len);
	key = as_pem(data + 2 + n, size - 2 - n, key_labels[h >> 14], &key_len);

	if (signer_ca_parse(cert, cert_len, key, key_len, &ca, err, sizeof(err)) == 0) {
		const char *bundle = signer_ca_bundle_pem(ca);
		char *merged = NULL;
		if (ca == NULL || bundle == NULL || bundle[0] == '\0' ||
		    signer_ca_chain_len(ca) == 0 || signer_ca_subject(ca) == NULL ||
		    signer_ca_key_type(ca)[0] == '\0')
			abort();
		if (signer_trust_bundle_merge(ca, cert, cert_len, signer_ca_not_before(ca), &merged,
		                              err, sizeof(err)) == 0) {
			json_t *o = signer_trust_bundle_object("example.com/fuzz", merged, NULL,
			                                       err, sizeof(err));
			if (o == NULL)
				abort();
			json_decref(o);
			free(merged);
		} else if (merged != NULL || err[0] == '\0') {
			abort();
		}
		signer_ca_free(ca);
	} else if (ca != NULL || err[0] == '\0' || strchr(err, '\n') != NULL) {
		abort(); /* a failure comes with a one-line message and no result */
	}
	free(cert);
	free(key);
	return 0;
}
