/*
 * Fuzz the agent's reading of a service-account token: the JWT split, the
 * base64url payload, the claims. Whatever comes in, a success gives a
 * namespace and a service account of Kubernetes' forms, and a failure
 * gives a message that quotes nothing of the input.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../../pkg/agent/agent.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_name(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n == 0 || n > max)
		__builtin_trap();
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.'))
			__builtin_trap();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct agent_claims c;
	char err[256];

	err[0] = '\0';
	if (agent_token_claims((const char *)data, size, &c, err, sizeof(err)) == 0) {
		check_name(c.ns, 63);
		check_name(c.sa, 253);
		if (c.pod_name != NULL)
			check_name(c.pod_name, 253);
		if ((c.pod_name == NULL) != (c.pod_uid == NULL))
			__builtin_trap();
		agent_claims_clear(&c);
	} else {
		if (err[0] == '\0' || strncmp(err, "service-account token: ", 23) != 0)
			__builtin_trap();
		if (c.ns != NULL || c.sa != NULL)
			__builtin_trap();
	}
	return 0;
}
