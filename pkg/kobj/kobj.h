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
#include <stdint.h>

#include "../policy/policy.h"

/*
 * A CertificateSigningRequest (certificates.k8s.io/v1) to a request.
 * kind and apiVersion, when present, must be CertificateSigningRequest and
 * certificates.k8s.io/v1; metadata.name, spec.request and spec.signerName
 * are required. spec.request is base64 of PEM, decoded as Go's
 * encoding/json does (standard alphabet, padding, line breaks ignored), at
 * most KOBJ_MAX_REQUEST bytes once decoded. Absent or null optional fields give
 * "" (strings) or empty lists. Strings holding a NUL byte are refused.
 * Returns a new request (caller frees with policy_request_free()), or NULL
 * with a one-line error naming the field in err ("spec.usages: expected an
 * array of strings"), without the file name.
 */
struct policy_request *kobj_request_from_json(const json_t *obj, char *err, size_t errlen);

/*
 * A PodCertificateRequest (certificates.k8s.io/v1) to its struct.
 * kind and apiVersion, when present, must be PodCertificateRequest and
 * certificates.k8s.io/v1; metadata.name, metadata.namespace,
 * spec.signerName, podName, podUID, serviceAccountName, nodeName and
 * stubPKCS10Request are required; spec.maxExpirationSeconds, when present,
 * a positive integer. spec.stubPKCS10Request is base64 of DER, decoded as
 * spec.request of a CSR, at most POLICY_PCR_MAX_STUB bytes.
 * spec.unverifiedUserAnnotations is not read. Returns a new struct (caller
 * frees with policy_pcr_free()) or NULL with a one-line error naming the
 * field in err.
 */
struct policy_pcr *kobj_pcr_from_json(const json_t *obj, char *err, size_t errlen);

/* A Kubernetes time, RFC 3339 (YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)),
 * to Unix seconds. Returns 0, or -1 when s is not such a time. */
int kobj_parse_time(const char *s, int64_t *out);

/* A Pod, Service or Node to its slim struct; NULL with an error in err when
 * metadata.name (and, for namespaced kinds, metadata.namespace) is missing,
 * kind is present and not the expected one, or a field has the wrong type.
 * Absent optional strings give "". A Pod's service account is
 * spec.serviceAccountName, else the deprecated spec.serviceAccount; its IPs
 * status.podIPs[].ip, else status.podIP; spec.hostNetwork, when present,
 * must be a boolean. A Service keeps of spec.type only whether it is
 * ExternalName. Caller frees with the matching
 * policy_*_free(). */
struct policy_pod *kobj_pod_from_json(const json_t *obj, char *err, size_t errlen);
struct policy_service *kobj_service_from_json(const json_t *obj, char *err, size_t errlen);
struct policy_node *kobj_node_from_json(const json_t *obj, char *err, size_t errlen);

/* Caps of kobj_read_objects(): objects in one file (items of lists
 * included). */
#define KOBJ_MAX_OBJECTS 200000
/*
 * Cap on spec.request once decoded. Deliberately above CSR_MAX_PEM: a
 * request between the two caps is converted, so that the decoder rejects it
 * and the policy denies it InvalidRequest, rather than the CSR staying
 * pending as unreadable. The API server itself stores nothing near 4 MiB.
 */
#define KOBJ_MAX_REQUEST (4 * 1024 * 1024)

/*
 * Called once per object found in a file; obj is borrowed. kind is the
 * object's own "kind", or, for an item of a typed list that leaves it out
 * (the items of a PodList), the list's kind without "List"; "" when neither
 * is known (never NULL). Returns 0 to go on, -1 to stop (the reader then
 * fails with whatever the callback put in err).
 */
typedef int (*kobj_object_cb)(void *ctx, const char *kind, const json_t *obj, char *err,
                              size_t errlen);

/*
 * Read objects from buf (len bytes, at most CONFIG_MAX_FILE): JSON or YAML,
 * a single object, a `List` (or any *List kind with an items array), a
 * multi-document YAML stream, or a JSON array of those. JSON is chosen when
 * the first non-blank byte is '{' or '['; JSON objects with duplicate keys
 * are refused. Null documents are skipped; any other document that is not
 * an object is an error. Calls cb for every object, items of lists
 * flattened (lists are not nested further), at most KOBJ_MAX_OBJECTS.
 * filename is for messages. Returns 0, or -1 with "FILE: what" (and the
 * line where known) in err.
 */
int kobj_read_objects(const char *buf, size_t len, const char *filename, kobj_object_cb cb,
                      void *ctx, char *err, size_t errlen);

/*
 * Called once per item of a LIST answer (kobj_list_each()); item is
 * borrowed for the call and freed after it.
 */
typedef void (*kobj_item_cb)(void *ctx, const json_t *item);

/*
 * Read a LIST answer ({"kind":"PodList","metadata":{...},"items":[...]})
 * one item at a time: each item is parsed, handed to cb when it is an
 * object (other items are skipped), and freed before the next is parsed,
 * so that a page of objects never exists whole as a JSON tree. buf need not
 * be NUL-terminated. Members other than metadata and items are parsed and
 * dropped; items absent or null is an empty list. cb may be NULL. Returns
 * 0 with *meta set to the list's metadata (a new reference the caller
 * json_decref()s, or NULL when absent), or -1 with err naming what is
 * wrong (the byte offset included) and *meta NULL: not JSON, not an
 * object, items not an array, metadata not an object, metadata or items
 * twice, bytes after the end. Items before an error have been handed to cb.
 */
int kobj_list_each(const char *buf, size_t len, kobj_item_cb cb, void *ctx, json_t **meta,
                   char *err, size_t errlen);

/*
 * The metadata of a LIST answer when it comes before the items, as the API
 * server writes it, read without reading the items: *meta is a new
 * reference (json_decref()), or NULL when the items (or the end) come
 * first. Returns 0, or -1 with err when what comes before is not a list's
 * beginning as kobj_list_each() reads it. The rest is not checked:
 * kobj_list_each() does that.
 */
int kobj_list_meta(const char *buf, size_t len, json_t **meta, char *err, size_t errlen);

/*
 * Read the text of a CSR file for `check`/`inspect`: JSON or YAML holding
 * one CertificateSigningRequest (a List with exactly one is accepted too;
 * an object of another kind is refused). Returns a new JSON object (caller
 * json_decref()s) or NULL with "FILE: what" in err.
 */
json_t *kobj_read_single(const char *buf, size_t len, const char *filename, char *err,
                         size_t errlen);

/*
 * The compact JSON text of v, an object or an array, byte for byte what
 * json_dumps(v, JSON_COMPACT) writes (members in their order, the same
 * escapes), faster on long strings. Returns a new string (caller frees), or
 * NULL when v is neither an object nor an array or holds a string that is
 * not UTF-8 (json_dumps() gives NULL then too). v must not contain itself.
 */
char *kobj_dumps(const json_t *v);

/*
 * json_loadb(buf, len, flags, err) with the same result, faster on the
 * objects the API server sends (kobj_load.c): a value equal to jansson's
 * (members in the same order), and on success err->position is the number
 * of bytes read, as jansson gives it. Flags other than
 * JSON_DISABLE_EOF_CHECK and JSON_DECODE_ANY, a top level that is not an
 * object or an array, and anything this reader does not take (invalid JSON
 * included) go to json_loadb(), whose value or error is returned, but for
 * one thing: a NUL byte, which jansson steps over after a number or a
 * literal, is refused wherever the value was read from ("a NUL byte at
 * byte N", err->position N).
 */
json_t *kobj_loadb(const char *buf, size_t len, size_t flags, json_error_t *err);

#endif
