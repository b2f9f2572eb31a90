/*
 * libFuzzer target: the policy file parser (config_parse), and the YAML to
 * JSON reader beneath the objects files, on arbitrary bytes.
 */
#include <stddef.h>
#include <stdint.h>

#include "../../pkg/config/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	json_t *docs = NULL;

	policy_set_free(config_parse((const char *)data, size, "fuzz.yaml", err, sizeof(err)));
	if (config_yaml_to_json((const char *)data, size, "fuzz.yaml", &docs, err, sizeof(err)) ==
	    0)
		json_decref(docs);
	return 0;
}
