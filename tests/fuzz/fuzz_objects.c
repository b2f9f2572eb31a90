/*
 * libFuzzer target: the objects-file reader (kobj_read_objects) and the
 * conversion of every object it yields, by kind, to the slim structs; every
 * object is also tried as a CertificateSigningRequest and as a
 * PodCertificateRequest (whose stub, when it converts, goes through the DER
 * decoder and the PCR rules of one policy for signer example.com/w, with no
 * cluster), and the input as
 * a single CSR file.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../../pkg/csr/csr.h"
#include "../../pkg/kobj/kobj.h"
#include "../../pkg/util/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One workload rule answering PodCertificateRequests of example.com/w. */
static struct policy_set *fuzz_set(void)
{
	static struct policy_set *set;
	struct policy_rule *r;

	if (set != NULL)
		return set;
	set = util_xcalloc(1, sizeof(*set));
	set->cluster_domain = util_xstrdup("cluster.local");
	set->rules = util_xcalloc(1, sizeof(*set->rules));
	set->n_rules = 1;
	r = &set->rules[0];
	policy_rule_init(r, set->cluster_domain);
	r->name = util_xstrdup("fuzz");
	r->signer_name = util_xstrdup("example.com/w");
	r->pod_certificates = true;
	r->issue.enabled = true;
	return set;
}

static void fuzz_pcr(const json_t *obj, char *err, size_t errlen)
{
	struct policy_pcr *pcr = kobj_pcr_from_json(obj, err, errlen);
	struct csr_info *info = NULL;
	struct policy_decision d;
	struct policy_names names = {0};

	if (pcr == NULL)
		return;
	if (csr_parse_der(pcr->stub_der, pcr->stub_len, &info, err, errlen) != 0)
		info = NULL;
	policy_decide_pcr(fuzz_set(), pcr, info, info ? NULL : err, NULL, &d, &names);
	policy_decision_clear(&d);
	policy_names_clear(&names);
	csr_info_free(info);
	policy_pcr_free(pcr);
}

static int fuzz_object(void *ctx, const char *kind, const json_t *obj, char *err, size_t errlen)
{
	(void)ctx;
	if (strcmp(kind, "Pod") == 0)
		policy_pod_free(kobj_pod_from_json(obj, err, errlen));
	else if (strcmp(kind, "Service") == 0)
		policy_service_free(kobj_service_from_json(obj, err, errlen));
	else if (strcmp(kind, "Node") == 0)
		policy_node_free(kobj_node_from_json(obj, err, errlen));
	policy_request_free(kobj_request_from_json(obj, err, errlen));
	fuzz_pcr(obj, err, errlen);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	const char *buf = (const char *)data;

	kobj_read_objects(buf, size, "fuzz", fuzz_object, NULL, err, sizeof(err));
	json_t *obj = kobj_read_single(buf, size, "fuzz", err, sizeof(err));
	if (obj != NULL) {
		policy_request_free(kobj_request_from_json(obj, err, sizeof(err)));
		json_decref(obj);
	}
	return 0;
}
