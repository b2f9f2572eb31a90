/*
 * The built-in signer's work for one PodCertificateRequest in a loop,
 * without the API: decode the stub request and verify its self-signature,
 * build the certificate, sign it with the CA's key, verify it, write the
 * PEM. Prints CPU time per certificate. A benchmark, not a test.
 *
 * Usage: bench_issue CA_CERT CA_KEY REQUEST [RUNS]
 *   REQUEST: a PKCS#10 request, PEM or DER (one of tests/testdata/csr/)
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "bench.h"
#include "../../pkg/signer/signer.h"
#include "../../pkg/util/util.h"

int main(int argc, char **argv)
{
	char err[1024];
	struct signer_ca *ca = NULL;
	char *req = NULL;
	size_t len = 0;
	int64_t runs = 1000;

	if (argc < 4) {
		fprintf(stderr, "usage: bench_issue CA_CERT CA_KEY REQUEST [RUNS]\n");
		return 2;
	}
	if (argc > 4 && util_parse_int64(argv[4], 1, 10000000, &runs) != 0) {
		fprintf(stderr, "bench_issue: RUNS must be a positive integer\n");
		return 2;
	}
	if (signer_ca_load(argv[1], argv[2], &ca, err, sizeof(err)) != 0 ||
	    util_read_file(argv[3], 1 << 20, &req, &len, err, sizeof(err)) != 0) {
		fprintf(stderr, "bench_issue: %s\n", err);
		signer_ca_free(ca);
		return 2;
	}
	const struct signer_name names[] = {
	    {SIGNER_NAME_URI, "spiffe://cluster.local/ns/shop/sa/web"},
	    {SIGNER_NAME_DNS, "web.shop.svc"},
	};
	struct signer_validity v = {.now = (int64_t)time(NULL), .lifetime = 86400, .backdate = 300};
	double t0 = bench_cpu_now();
	for (int64_t i = 0; i < runs; i++) {
		struct signer_cert *cert = NULL;
		if (signer_issue_pod(ca, req, len, names, 2, SIGNER_EKU_SERVER | SIGNER_EKU_CLIENT,
		                     86400, &v, &cert, err, sizeof(err)) != 0) {
			fprintf(stderr, "bench_issue: %s\n", err);
			free(req);
			signer_ca_free(ca);
			return 2;
		}
		signer_cert_free(cert);
	}
	double t1 = bench_cpu_now();
	printf("issue: %lld certificates, %.1f us CPU each (decode and verify the request, build, "
	       "sign, verify, PEM)\n",
	       (long long)runs, (t1 - t0) / (double)runs * 1e6);
	free(req);
	signer_ca_free(ca);
	return 0;
}
