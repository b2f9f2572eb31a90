/*
 * libFuzzer target for pkg/csr: csr_parse() and csr_info_to_json() on
 * untrusted bytes. Input starting with 0x30 (a DER SEQUENCE) is wrapped in
 * a PEM block first, so that mutations reach the DER and X.509 decoding
 * directly instead of dying in base64; anything else goes in as PEM text.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "../../pkg/csr/csr.h"
#include "../../pkg/util/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_one(const char *pem, size_t len)
{
	struct csr_info *info = NULL;
	char err[256];

	if (csr_parse(pem, len, &info, err, sizeof(err)) == 0) {
		char *js = csr_info_to_json(info);
		free(js);
		csr_info_free(info);
	} else if (info != NULL || err[0] == '\0') {
		abort(); /* a failure must come with a message and no result */
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 0 && data[0] == 0x30 && size <= 48 * 1024) {
		static const char begin[] = "-----BEGIN CERTIFICATE REQUEST-----\n";
		static const char end[] = "\n-----END CERTIFICATE REQUEST-----\n";
		size_t b64 = 4 * ((size + 2) / 3);
		char *pem = util_xmalloc(sizeof(begin) + b64 + sizeof(end));
		size_t n = 0;
		memcpy(pem, begin, sizeof(begin) - 1);
		n += sizeof(begin) - 1;
		n += (size_t)EVP_EncodeBlock((unsigned char *)pem + n, data, (int)size);
		memcpy(pem + n, end, sizeof(end) - 1);
		n += sizeof(end) - 1;
		fuzz_one(pem, n);
		free(pem);
	} else {
		fuzz_one((const char *)data, size);
	}
	return 0;
}
