/*
 * libFuzzer target for csr_cert_not_after(): untrusted text as a CSR's
 * status.certificate (or a PodCertificateRequest's chain), read for its
 * expiry by the inventory. Differential: whenever the whole decoder
 * (csr_cert_parse()) reads the input, the DER walk must give the same
 * notAfter.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "../../pkg/csr/csr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *pem = (const char *)data;
	struct csr_cert full;
	char err[256];
	int64_t t = 0;
	int rc = csr_cert_not_after(pem, size, &t, err, sizeof(err));

	if (csr_cert_parse(pem, size, &full, err, sizeof(err)) == 0) {
		if (rc != 0 || t != full.not_after)
			abort();
		csr_cert_clear(&full);
	}
	return 0;
}
