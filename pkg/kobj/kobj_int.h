/*
 * kobj internals shared by its files (kobj.c, kobj_list.c, kobj_load.c) and
 * its tests; not part of the module's API.
 */
#ifndef CSR_APPROVER_KOBJ_INT_H
#define CSR_APPROVER_KOBJ_INT_H

#include <jansson.h>
#include <stddef.h>

/* Write the message into err (errlen bytes) and return -1. */
int kobj_error(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * kobj_loadb()'s own reader alone: the value, with *used the bytes read, or
 * NULL where kobj_loadb() hands the text to json_loadb() (flags other than
 * JSON_DISABLE_EOF_CHECK and JSON_DECODE_ANY, anything it does not take).
 * For the tests and the fuzz target that compare it with jansson.
 */
json_t *kobj_loadb_fast(const char *buf, size_t len, size_t flags, size_t *used);

#endif
