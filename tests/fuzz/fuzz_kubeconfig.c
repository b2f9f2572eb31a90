/*
 * Fuzz kubeconfig parsing (YAML or JSON) through kube_config_parse(). The
 * file names in it resolve under a folder that does not exist, so only the
 * parser is exercised; absolute names may read small regular files, which
 * is harmless.
 */
#include <stddef.h>
#include <stdint.h>

#include "../../pkg/kube/kube.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kube_config *cfg = NULL;
	char err[1024];

	if (kube_config_parse((const char *)data, size, "/nonexistent-csr-approver-fuzz/config",
	                      NULL, &cfg, err, sizeof(err)) == 0) {
		if (cfg == NULL || cfg->server == NULL)
			__builtin_trap();
		kube_config_free(cfg);
	} else if (cfg != NULL || err[0] == '\0') {
		__builtin_trap();
	}
	return 0;
}
