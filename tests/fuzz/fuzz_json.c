/*
 * libFuzzer target: kobj_loadb()'s own JSON reader against jansson. Where
 * the reader gives a value, json_loadb() must give the same one: equal,
 * its members in the same order (the same text when written out), the same
 * number of bytes read. Where it gives none, kobj_loadb() must answer as
 * json_loadb() does, but for a NUL byte read, which it refuses. The first
 * byte picks the flags (0, or JSON_DISABLE_EOF_CHECK | JSON_DECODE_ANY as
 * for the items of a LIST).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../pkg/kobj/kobj.h"
#include "../../pkg/kobj/kobj_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	size_t flags = (data[0] & 1) ? JSON_DISABLE_EOF_CHECK | JSON_DECODE_ANY : 0;
	const char *buf = (const char *)data + 1;
	size_t len = size - 1, used = 0;
	json_error_t jerr, kerr;

	json_t *fast = kobj_loadb_fast(buf, len, flags, &used);
	json_t *ref = json_loadb(buf, len, flags, &jerr);
	if (fast != NULL) {
		if (ref == NULL || !json_equal(fast, ref) || (size_t)jerr.position != used)
			__builtin_trap();
		char *a = json_dumps(fast, JSON_COMPACT | JSON_ENCODE_ANY);
		char *b = json_dumps(ref, JSON_COMPACT | JSON_ENCODE_ANY);
		if (a == NULL || b == NULL || strcmp(a, b) != 0)
			__builtin_trap();
		free(a);
		free(b);
	}
	json_t *both = kobj_loadb(buf, len, flags, &kerr);
	/* but for a NUL byte where jansson read the value from, which
	 * kobj_loadb() refuses and jansson steps over after a number or a
	 * literal */
	const char *nul = memchr(buf, '\0', len);
	if (ref != NULL && nul != NULL &&
	    (!(flags & JSON_DISABLE_EOF_CHECK) || nul - buf < jerr.position)) {
		if (both != NULL || strncmp(kerr.text, "a NUL byte at byte ", 19) != 0 ||
		    kerr.position != nul - buf)
			__builtin_trap();
	} else if ((both == NULL) != (ref == NULL) || (both != NULL && !json_equal(both, ref)) ||
	           (both == NULL && strcmp(kerr.text, jerr.text) != 0))
		__builtin_trap();
	json_decref(both);
	json_decref(fast);
	json_decref(ref);
	return 0;
}
