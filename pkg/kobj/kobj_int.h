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

/* JSON's escapes of one letter (kobj_load.c reads them, kobj_dump.c writes
 * them): the letter after the backslash, and the byte it stands for, at the
 * same index. */
#define KOBJ_JSON_ESC_LETTERS "\"\\/bfnrt"
#define KOBJ_JSON_ESC_BYTES "\"\\/\b\f\n\r\t"
#define KOBJ_JSON_ESC_N 8
_Static_assert(sizeof(KOBJ_JSON_ESC_LETTERS) - 1 == KOBJ_JSON_ESC_N &&
                   sizeof(KOBJ_JSON_ESC_BYTES) - 1 == KOBJ_JSON_ESC_N,
               "one byte for each escape letter");

/*
 * kobj_loadb()'s own reader alone: the value, with *used the bytes read, or
 * NULL where kobj_loadb() hands the text to json_loadb() (flags other than
 * JSON_DISABLE_EOF_CHECK and JSON_DECODE_ANY, anything it does not take).
 * For the tests and the fuzz target that compare it with jansson.
 */
json_t *kobj_loadb_fast(const char *buf, size_t len, size_t flags, size_t *used);

#endif
