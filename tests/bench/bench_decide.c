/*
 * The decision path of `csr-approver check` in a loop, without process
 * start-up: read the CSR object, decode the request, decide against the
 * cached objects. Prints CPU time per decision. A benchmark, not a test.
 *
 * Usage: bench_decide POLICY OBJECTS CSR_OBJECT [RUNS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "../../pkg/cache/cache.h"
#include "../../pkg/config/config.h"
#include "../../pkg/csr/csr.h"
#include "../../pkg/kobj/kobj.h"
#include "../../pkg/policy/policy.h"
#include "../../pkg/util/util.h"

int main(int argc, char **argv)
{
	char err[1024];
	if (argc < 4) {
		fprintf(stderr, "usage: bench_decide POLICY OBJECTS CSR_OBJECT [RUNS]\n");
		return 2;
	}
	int64_t runs = 2000;
	if (argc > 4 && util_parse_int64(argv[4], 1, 10000000, &runs) != 0) {
		fprintf(stderr, "bench_decide: RUNS must be a positive integer\n");
		return 2;
	}
	struct policy_set *set = config_load_file(argv[1], err, sizeof(err));
	struct cache *c = cache_new();
	char *buf = NULL;
	size_t len = 0;
	if (set == NULL || cache_load_objects(c, argv[2], err, sizeof(err)) != 0 ||
	    util_read_file(argv[3], CONFIG_MAX_FILE, &buf, &len, err, sizeof(err)) != 0) {
		fprintf(stderr, "bench_decide: %s\n", err);
		return 2;
	}
	struct policy_lookup lookup;
	cache_lookup(c, &lookup);
	const char *verdict = "?";
	double t0 = bench_cpu_now();
	for (int64_t i = 0; i < runs; i++) {
		json_t *obj = kobj_read_single(buf, len, argv[3], err, sizeof(err));
		struct policy_request *req =
		    obj ? kobj_request_from_json(obj, err, sizeof(err)) : NULL;
		struct csr_info *info = NULL;
		struct policy_decision d = {0};
		if (req == NULL) {
			fprintf(stderr, "bench_decide: %s\n", err);
			return 2;
		}
		if (csr_parse(req->request_pem, req->request_len, &info, err, sizeof(err)) != 0)
			info = NULL;
		policy_decide(set, req, info, info ? NULL : err, &lookup, &d);
		verdict = policy_verdict_name(d.verdict);
		policy_decision_clear(&d);
		csr_info_free(info);
		policy_request_free(req);
		json_decref(obj);
	}
	double t1 = bench_cpu_now();
	printf(
	    "decide: %lld runs (%s), %.1f us CPU per decision (read object, decode and verify the request, decide)\n",
	    (long long)runs, verdict, (t1 - t0) / (double)runs * 1e6);
	free(buf);
	cache_free(c);
	policy_set_free(set);
	return 0;
}
