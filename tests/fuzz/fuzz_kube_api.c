/*
 * Fuzz what the API client reads from answers and paths: API Status bodies
 * (kube_status_parse), the verb/resource names given to metrics
 * (kube_classify), escaping (kube_escape) and Retry-After values
 * (kube_retry_after_parse).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../pkg/kube/kube.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const methods[] = {"GET", "PUT", "POST", "PATCH", "DELETE", "get"};
	char msg[256], reason[64], verb[16], res[64];
	long code;
	bool big;
	char *s, *e;

	int64_t ms;

	kube_status_parse((const char *)data, size, msg, sizeof(msg), reason, sizeof(reason), &code,
	                  &big);
	if (kube_retry_after_parse((const char *)data, size, &ms) == 0 &&
	    (ms < 0 || ms > KUBE_RETRY_AFTER_MAX_MS))
		__builtin_trap();
	s = malloc(size + 1);
	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	kube_classify(methods[size % 6], s, verb, sizeof(verb), res, sizeof(res));
	if (strlen(verb) >= sizeof(verb) || strlen(res) >= sizeof(res))
		__builtin_trap();
	e = kube_escape(s);
	for (const char *p = e; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr("-._~%", *p) != NULL))
			__builtin_trap();
	free(e);
	free(s);
	return 0;
}
