/*
 * kobj: Kubernetes objects as JSON (jansson) to the slim structs the policy
 * reads, and the reader of object files (`check --objects`).
 *
 * Only the fields the rules need are kept; everything else in an object is
 * dropped on conversion, which is what keeps the live caches small.
 *
 * All functions are thread-safe.
 */
#ifndef CSR_APPROVER_KOBJ_H
#define CSR_APPROVER_KOBJ_H

#include <jansson.h>
#include <stddef.h>

#include "../policy/policy.h"

/*
 * A CertificateSigningRequest (certificates.k8s.io/v1) to a request.
 * spec.request is base64 of PEM and is decoded (at most CSR_MAX_PEM bytes).
 * Returns a new request (caller frees with policy_request_free()), or NULL
 * with a one-line error naming the field in err.
 */
struct policy_request *kobj_request_from_json(const json_t *obj, char *err, size_t errlen);

/* A Pod, Service or Node to its slim struct; NULL with an error in err when
 * metadata.name (and, for namespaced kinds, metadata.namespace) is missing or
 * a field has the wrong type. Caller frees with the matching policy_*_free(). */
struct policy_pod *kobj_pod_from_json(const json_t *obj, char *err, size_t errlen);
struct policy_service *kobj_service_from_json(const json_t *obj, char *err, size_t errlen);
struct policy_node *kobj_node_from_json(const json_t *obj, char *err, size_t errlen);

/* Called once per object found in a file; obj is borrowed. Returns 0 to go
 * on, -1 to stop (the reader then fails with whatever the callback put in
 * err). */
typedef int (*kobj_object_cb)(void *ctx, const json_t *obj, char *err, size_t errlen);

/*
 * Read objects from buf (len bytes): JSON or YAML, a single object, a
 * `List` (or any *List kind with items), or a multi-document YAML stream.
 * Calls cb for every object, items of lists flattened. filename is for
 * messages. Returns 0, or -1 with "FILE: what" (and the line where known)
 * in err.
 */
int kobj_read_objects(const char *buf, size_t len, const char *filename, kobj_object_cb cb,
		      void *ctx, char *err, size_t errlen);

/*
 * Read the text of a CSR file for `check`/`inspect`: JSON or YAML holding
 * one CertificateSigningRequest (a List with exactly one is accepted too).
 * Returns a new JSON object (caller json_decref()s) or NULL with err.
 */
json_t *kobj_read_single(const char *buf, size_t len, const char *filename, char *err, size_t errlen);

#endif
