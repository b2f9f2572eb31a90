/*
 * kobj internals shared by its files (kobj.c, kobj_list.c); not part of
 * the module's API.
 */
#ifndef CSR_APPROVER_KOBJ_INT_H
#define CSR_APPROVER_KOBJ_INT_H

#include <stddef.h>

/* Write the message into err (errlen bytes) and return -1. */
int kobj_error(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
