/*
 * libFuzzer target: the policy file parser (config_parse), and the YAML to
 * JSON reader beneath the objects files, on arbitrary bytes. Each input is
 * also tried as a dnsNameRegex: what a pattern may cost is checked before
 * regcomp() sees it, and a pattern past those checks once made regcomp()
 * take gigabytes ("a" and 25 '+'); reached through YAML mutations alone,
 * such patterns take far longer to find.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../pkg/config/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char head[] = "policies:\n- {name: s, signerName: a.b/c, type: kubelet-serving, "
                           "dnsNameRegex: '";
static const char tail[] = "'}\n";

/* The input, cut to a little more than a pattern may hold, as a
 * single-quoted YAML scalar ('' for '). */
static void fuzz_as_regex(const uint8_t *data, size_t size)
{
	char err[512];
	size_t n = size < 1100 ? size : 1100;
	char *buf = malloc(sizeof(head) + 2 * n + sizeof(tail));
	size_t len = 0;

	if (buf == NULL)
		return;
	memcpy(buf, head, sizeof(head) - 1);
	len = sizeof(head) - 1;
	for (size_t i = 0; i < n; i++) {
		buf[len++] = (char)data[i];
		if (data[i] == '\'')
			buf[len++] = '\'';
	}
	memcpy(buf + len, tail, sizeof(tail) - 1);
	len += sizeof(tail) - 1;
	policy_set_free(config_parse(buf, len, "fuzz.yaml", err, sizeof(err)));
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	json_t *docs = NULL;

	policy_set_free(config_parse((const char *)data, size, "fuzz.yaml", err, sizeof(err)));
	if (config_yaml_to_json((const char *)data, size, "fuzz.yaml", &docs, err, sizeof(err)) ==
	    0)
		json_decref(docs);
	fuzz_as_regex(data, size);
	return 0;
}
