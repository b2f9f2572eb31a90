/*
 * controller: the JSON bodies the controller sends (approval, Subject
 * Access Review, Event) and the one it reads back (the review's answer).
 */
#include <stdlib.h>
#include <string.h>

#include "../kobj/kobj.h"
#include "../util/util.h"
#include "controller.h"

void controller_format_time(time_t t, char *buf, size_t len)
{
	struct tm tm;
	if (gmtime_r(&t, &tm) == NULL || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
		if (len > 0)
			buf[0] = '\0';
	}
}

/* metadata without managedFields, its other members shared. The approval
 * and status subresources take managedFields from the stored object and
 * ignore the request's (apimachinery fieldmanager, decodeLiveOrNew): sent,
 * they are only more JSON for the API server to decode on every write. */
static json_t *metadata_for_write(json_t *md)
{
	const char *k;
	json_t *v, *out;
	if (json_object_get(md, "managedFields") == NULL)
		return json_incref(md);
	out = json_object();
	json_object_foreach(md, k, v)
	{
		if (strcmp(k, "managedFields") != 0)
			json_object_set(out, k, v);
	}
	return out;
}

/* A copy of the CertificateSigningRequest csr to send back whole, with the
 * apiVersion and kind that LIST items lack, its metadata as
 * metadata_for_write() gives it, and its status object (made when absent).
 * The copy is shallow: it shares spec and the members of metadata with csr
 * (never changed through it: copying and freeing them was most of the cost
 * of an approval), and has a status object of its own whose members are
 * shared too. Returns the copy (caller json_decref()s) with *status
 * borrowed from it, or NULL when csr is not an object with metadata.name or
 * its status is not an object. */
static json_t *csr_copy(const json_t *csr, json_t **status)
{
	json_t *obj, *st, *md = json_object_get(csr, "metadata");
	if (!json_is_object(csr) || !json_is_string(json_object_get(md, "name")))
		return NULL;
	st = json_object_get(csr, "status");
	if (st != NULL && !json_is_null(st) && !json_is_object(st))
		return NULL;
	obj = json_copy((json_t *)csr);
	if (obj == NULL)
		return NULL;
	json_object_set_new(obj, "metadata", metadata_for_write(md));
	json_object_set_new(obj, "apiVersion", json_string("certificates.k8s.io/v1"));
	json_object_set_new(obj, "kind", json_string("CertificateSigningRequest"));
	st = json_is_object(st) ? json_copy(st) : json_object();
	json_object_set_new(obj, "status", st);
	*status = st;
	return obj;
}

char *controller_approval_body(const json_t *csr, const char *type, const char *reason,
                               const char *message, time_t now)
{
	json_t *obj, *status = NULL, *conds, *cond;
	char *out = NULL;
	char ts[32];

	obj = csr_copy(csr, &status);
	if (obj == NULL)
		goto out;
	conds = json_object_get(status, "conditions");
	if (conds != NULL && !json_is_null(conds) && !json_is_array(conds))
		goto out;
	/* Its own array: the one of csr is shared, and must stay as it is. */
	conds = json_is_array(conds) ? json_copy(conds) : json_array();
	json_object_set_new(status, "conditions", conds);
	controller_format_time(now, ts, sizeof(ts));
	cond = json_pack("{s:s, s:s, s:s, s:s, s:s}", "type", type, "status", "True", "reason",
	                 reason, "message", message ? message : "", "lastUpdateTime", ts);
	if (cond == NULL)
		goto out;
	json_array_append_new(conds, cond);
	out = kobj_dumps(obj);
out:
	json_decref(obj);
	return out;
}

char *controller_certificate_body(const json_t *csr, const char *cert_pem)
{
	json_t *obj = NULL, *status = NULL;
	char *out = NULL, *b64 = NULL;

	if (cert_pem == NULL || (obj = csr_copy(csr, &status)) == NULL)
		goto out;
	b64 = util_base64_encode(cert_pem, strlen(cert_pem));
	json_object_set_new(status, "certificate", json_string(b64));
	out = kobj_dumps(obj);
out:
	free(b64);
	json_decref(obj);
	return out;
}

static json_t *strv_json(const struct util_strv *sv)
{
	json_t *a = json_array();
	for (size_t i = 0; sv != NULL && i < sv->n; i++)
		json_array_append_new(a, json_string(sv->v[i]));
	return a;
}

char *controller_sar_body(const struct policy_sar *sar)
{
	json_t *extra = json_object();
	for (size_t i = 0; i < sar->n_extra; i++)
		json_object_set_new(extra, sar->extra[i].key, strv_json(&sar->extra[i].values));
	json_t *ra =
	    json_pack("{s:s, s:s, s:s}", "verb", sar->verb ? sar->verb : "", "group",
	              sar->group ? sar->group : "", "resource", sar->resource ? sar->resource : "");
	if (sar->subresource != NULL && sar->subresource[0] != '\0')
		json_object_set_new(ra, "subresource", json_string(sar->subresource));
	json_t *spec = json_object();
	json_object_set_new(spec, "user", json_string(sar->user ? sar->user : ""));
	if (sar->uid != NULL && sar->uid[0] != '\0')
		json_object_set_new(spec, "uid", json_string(sar->uid));
	json_object_set_new(spec, "groups", strv_json(sar->groups));
	json_object_set_new(spec, "extra", extra);
	json_object_set_new(spec, "resourceAttributes", ra);
	json_t *obj = json_pack("{s:s, s:s, s:o}", "apiVersion", "authorization.k8s.io/v1", "kind",
	                        "SubjectAccessReview", "spec", spec);
	char *out = kobj_dumps(obj);
	json_decref(obj);
	return out;
}

int controller_sar_parse(const char *body, size_t len, bool *allowed)
{
	json_error_t jerr;
	json_t *obj = json_loadb(body, len, 0, &jerr);
	int rc = -1;
	json_t *v = json_object_get(json_object_get(obj, "status"), "allowed");
	if (json_is_boolean(v)) {
		*allowed = json_is_true(v);
		rc = 0;
	} else if (json_is_object(json_object_get(obj, "status")) && v == NULL) {
		/* allowed is omitted when false */
		*allowed = false;
		rc = 0;
	}
	json_decref(obj);
	return rc;
}

/* How many bytes of s to send so that the string the API server decodes
 * has at most max bytes: whole UTF-8 sequences only, and an invalid byte
 * counted as the three of the U+FFFD it is sent as. */
static size_t utf8_cut_len(const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), i = 0, out = 0;
	while (i < n) {
		size_t l = p[i] < 0x80 ? 1 : util_utf8_decode(p + i, n - i, NULL);
		size_t w = l == 0 ? 3 : l;
		if (out + w > max)
			break;
		out += w;
		i += l == 0 ? 1 : l;
	}
	return i;
}

/* Event validation caps (core/v1 Event, apimachinery validation). */
#define EVENT_MESSAGE_MAX 1024
#define EVENT_INSTANCE_MAX 128

/* Append child as message field of b, and empty child for the next one. */
static void pb_msg(struct util_buf *b, unsigned field, struct util_buf *child)
{
	util_pb_bytes(b, field, child->data, child->len);
	util_buf_reset(child);
}

static void pb_str(struct util_buf *b, unsigned field, const char *s)
{
	util_pb_text(b, field, s, strlen(s));
}

/* A meta/v1 Time (seconds; nanos are not sent, as in JSON) as field. */
static void pb_time(struct util_buf *b, unsigned field, time_t t)
{
	struct util_buf m = {0};
	util_pb_uint(&m, 1, (uint64_t)t);
	pb_msg(b, field, &m);
}

/* The Event in the Kubernetes protobuf encoding (magic "k8s\0", then a
 * runtime.Unknown holding its TypeMeta and the core/v1 Event): the API
 * server decodes it for less than the same Event in JSON (5 % of the
 * write, docs/benchmarks.md), and every decision posts one. Field numbers
 * are those of
 * k8s.io/api/core/v1/generated.proto (Event, ObjectReference, EventSource)
 * and k8s.io/apimachinery's meta/v1 (ObjectMeta, Time) and runtime
 * (Unknown, TypeMeta). */
char *controller_event_body(const struct controller_event *ev, time_t now, size_t *len)
{
	struct util_buf b = {0}, e = {0}, m = {0};
	const char *msg = ev->message ? ev->message : "";
	const char *inst = ev->instance ? ev->instance : "";
	const char *reason = ev->reason ? ev->reason : "";
	const char *type = ev->type ? ev->type : "Normal";
	char *gen = util_xasprintf("%s.", ev->csr_name);

	util_buf_reserve(&e, 320 + 2 * strlen(gen) + strlen(msg) + strlen(inst));
	pb_str(&m, 2, gen); /* metadata.generateName */
	pb_str(&m, 3, "default");
	pb_msg(&e, 1, &m);
	pb_str(&m, 1, "CertificateSigningRequest"); /* involvedObject */
	pb_str(&m, 3, ev->csr_name);
	pb_str(&m, 4, ev->csr_uid ? ev->csr_uid : "");
	pb_str(&m, 5, "certificates.k8s.io/v1");
	pb_msg(&e, 2, &m);
	pb_str(&e, 3, reason);
	util_pb_text(&e, 4, msg, utf8_cut_len(msg, EVENT_MESSAGE_MAX));
	pb_str(&m, 1, "csr-approver"); /* source.component */
	pb_msg(&e, 5, &m);
	pb_time(&e, 6, now); /* firstTimestamp */
	pb_time(&e, 7, now); /* lastTimestamp */
	util_pb_uint(&e, 8, 1); /* count */
	pb_str(&e, 9, type);
	pb_str(&e, 14, "csr-approver"); /* reportingComponent */
	util_pb_text(&e, 15, inst, utf8_cut_len(inst, EVENT_INSTANCE_MAX));
	free(gen);

	util_buf_reserve(&b, e.len + 32);
	util_buf_append(&b, "k8s\0", 4);
	pb_str(&m, 1, "v1"); /* typeMeta */
	pb_str(&m, 2, "Event");
	pb_msg(&b, 1, &m);
	util_pb_bytes(&b, 2, e.data, e.len); /* raw */
	util_buf_reset(&e);
	*len = b.len;
	return util_buf_take(&b);
}
