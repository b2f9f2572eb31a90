/*
 * Fuzz the watch stream path: bytes split into chunks (sizes taken from the
 * input's first bytes) through the framer, each line through
 * watch_event_parse(), and ERROR objects through kube_status_read(). The
 * object of each event is also written by kobj_dumps(), which must give
 * what json_dumps() gives (the bodies sent back are written that way).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../pkg/kobj/kobj.h"
#include "../../pkg/kube/kube.h"
#include "../../pkg/watch/watch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int on_line(void *ud, const char *line, size_t len)
{
	enum watch_event_type type;
	json_t *obj = NULL;
	char err[256];
	size_t *lines = ud;

	(*lines)++;
	if (len == 0 || memchr(line, '\n', len) != NULL)
		__builtin_trap(); /* the framer must never hand these out */
	if (watch_event_parse(line, len, &type, &obj, err, sizeof(err)) != 0) {
		if (obj != NULL || err[0] == '\0')
			__builtin_trap();
		return 0;
	}
	char *ours = kobj_dumps(obj), *theirs = json_dumps(obj, JSON_COMPACT);
	if ((ours == NULL) != (theirs == NULL) || (ours != NULL && strcmp(ours, theirs) != 0))
		__builtin_trap();
	free(ours);
	free(theirs);
	if (type == WATCH_ERROR) {
		char msg[128], reason[64];
		long code;
		bool big;
		kube_status_read(obj, msg, sizeof(msg), reason, sizeof(reason), &code, &big);
	}
	json_decref(obj);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t seed[4];
	struct watch_framer *f;
	size_t max, i = 0, k = 0, lines = 0;

	if (size < sizeof(seed))
		return 0;
	memcpy(seed, data, sizeof(seed));
	data += sizeof(seed);
	size -= sizeof(seed);
	/* Now and then a tiny cap, to reach the overflow path. */
	max = (seed[0] & 0x80) ? (size_t)(1 + seed[1]) : WATCH_MAX_LINE;
	f = watch_framer_new(max);
	while (i < size) {
		size_t chunk = 1 + seed[k++ % sizeof(seed)] % 97;
		if (chunk > size - i)
			chunk = size - i;
		(void)watch_framer_feed(f, (const char *)data + i, chunk, on_line, &lines);
		i += chunk;
		if ((seed[3] & 0x40) && k % 17 == 0)
			watch_framer_reset(f);
	}
	watch_framer_free(f);
	return 0;
}
