/*
 * Private to the kube module: helpers shared by its source files. Not part
 * of the API (that is kube.h).
 */
#ifndef CSR_APPROVER_KUBE_INT_H
#define CSR_APPROVER_KUBE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Read a whole file of at most max bytes into a NUL-terminated buffer the
 * caller frees with kube_wipe_free(*out, *outlen). regular_only refuses
 * anything but a regular file (no FIFO or device can block or flood the
 * reader). Errors are "PATH: why". Partial reads are wiped. Returns 0 or -1.
 */
int kube_read_file(const char *path, bool regular_only, size_t max, char **out, size_t *outlen,
                   char *err, size_t errlen);

/* Wipe n bytes of p (NULL does nothing), then free it. */
void kube_wipe_free(void *p, size_t n);

/* Wipe and free a NUL-terminated string (NULL does nothing). */
void kube_wipe_str(char *s);

/*
 * Turn the contents of a token file or a token value into a token that can
 * be sent in a header: surrounding whitespace trimmed, then every byte must
 * be printable ASCII without spaces. Returns a new string (caller frees with
 * kube_wipe_str()), or NULL with the reason in err.
 */
char *kube_token_clean(const char *s, size_t len, char *err, size_t errlen);

#endif
