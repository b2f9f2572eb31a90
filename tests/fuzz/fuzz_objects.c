/*
 * libFuzzer target: the objects-file reader (kobj_read_objects) and the
 * conversion of every object it yields, by kind, to the slim structs; every
 * object is also tried as a CertificateSigningRequest, and the input as a
 * single CSR file.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../../pkg/kobj/kobj.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
