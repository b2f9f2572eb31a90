/*
 * kobj: Kubernetes objects (jansson values) to the slim structs of the
 * policy module, and the reader of object files.
 */
#include "kobj.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../config/config.h"
#include "../util/util.h"
#include "kobj_int.h"

int kobj_error(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* obj[key], with a missing key, a null value or a NULL obj all meaning
 * "absent". */
static const json_t *kobj_member(const json_t *obj, const char *key)
{
	const json_t *v;
	if (obj == NULL || !json_is_object(obj))
		return NULL;
	v = json_object_get(obj, key);
	return json_is_null(v) ? NULL : v;
}

/* A JSON string usable as a C string (no embedded NUL), or NULL. */
static const char *kobj_cstr(const json_t *v)
{
	if (!json_is_string(v))
		return NULL;
	const char *s = json_string_value(v);
	return strlen(s) == json_string_length(v) ? s : NULL;
}

static int kobj_object(const json_t *parent, const char *key, const char *path, const json_t **out,
                       char *err, size_t errlen)
{
	const json_t *v = kobj_member(parent, key);
	*out = NULL;
	if (v == NULL)
		return 0;
	if (!json_is_object(v))
		return kobj_error(err, errlen, "%s: expected an object", path);
	*out = v;
	return 0;
}

/* An optional string: absent gives "". */
static int kobj_string(const json_t *parent, const char *key, const char *path, char **out,
                       char *err, size_t errlen)
{
	const json_t *v = kobj_member(parent, key);
	const char *s;
	*out = NULL;
	if (v == NULL) {
		*out = util_xstrdup("");
		return 0;
	}
	if (!json_is_string(v))
		return kobj_error(err, errlen, "%s: expected a string", path);
	if ((s = kobj_cstr(v)) == NULL)
		return kobj_error(err, errlen, "%s: contains a NUL byte", path);
	*out = util_xstrdup(s);
	return 0;
}

/* An optional boolean: absent gives false. */
static int kobj_bool(const json_t *parent, const char *key, const char *path, bool *out, char *err,
                     size_t errlen)
{
	const json_t *v = kobj_member(parent, key);
	*out = false;
	if (v == NULL)
		return 0;
	if (!json_is_boolean(v))
		return kobj_error(err, errlen, "%s: expected a boolean", path);
	*out = json_is_true(v);
	return 0;
}

/* A string that must be present and non-empty. */
static int kobj_required(const json_t *parent, const char *key, const char *path, char **out,
                         char *err, size_t errlen)
{
	if (kobj_string(parent, key, path, out, err, errlen) != 0)
		return -1;
	if (**out == '\0') {
		free(*out);
		*out = NULL;
		return kobj_error(err, errlen, "%s: required", path);
	}
	return 0;
}

/* An optional array of strings, appended to sv. */
static int kobj_strings(const json_t *parent, const char *key, const char *path,
                        struct util_strv *sv, char *err, size_t errlen)
{
	const json_t *v = kobj_member(parent, key), *item;
	size_t i;
	if (v == NULL)
		return 0;
	if (!json_is_array(v))
		return kobj_error(err, errlen, "%s: expected an array of strings", path);
	json_array_foreach(v, i, item)
	{
		const char *s = kobj_cstr(item);
		if (s == NULL)
			return kobj_error(err, errlen, "%s: expected an array of strings", path);
		util_strv_push(sv, s);
	}
	return 0;
}

/* A JSON object key usable as a C string. */
static const char *kobj_key(void *iter)
{
	const char *k = json_object_iter_key(iter);
	return strlen(k) == json_object_iter_key_len(iter) ? k : NULL;
}

/* An optional map of strings to strings (labels, a selector). */
static int kobj_labels(const json_t *parent, const char *key, const char *path,
                       struct policy_labels *l, char *err, size_t errlen)
{
	const json_t *v = kobj_member(parent, key);
	if (v == NULL)
		return 0;
	if (!json_is_object(v))
		return kobj_error(err, errlen, "%s: expected a map of strings", path);
	l->v = util_xcalloc(json_object_size(v) ? json_object_size(v) : 1, sizeof(*l->v));
	for (void *it = json_object_iter((json_t *)v); it != NULL;
	     it = json_object_iter_next((json_t *)v, it)) {
		const char *k = kobj_key(it);
		const char *s = kobj_cstr(json_object_iter_value(it));
		if (k == NULL || s == NULL)
			return kobj_error(err, errlen, "%s: expected a map of strings", path);
		l->v[l->n].key = util_xstrdup(k);
		l->v[l->n].value = util_xstrdup(s);
		l->n++;
	}
	return 0;
}

/* The kind, when present, must be want. */
static int kobj_check_kind(const json_t *obj, const char *want, char *err, size_t errlen)
{
	const json_t *v = kobj_member(obj, "kind");
	const char *s;
	if (v == NULL)
		return 0;
	if ((s = kobj_cstr(v)) == NULL)
		return kobj_error(err, errlen, "kind: expected a string");
	if (strcmp(s, want) != 0)
		return kobj_error(err, errlen, "kind: expected %s, got \"%.64s\"", want, s);
	return 0;
}

/* ---- base64 and time ---- */

static bool kobj_digits(const char *s, size_t n, int *out)
{
	int v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

int kobj_parse_time(const char *s, int64_t *out)
{
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int year, mon, day, hour, min, sec, oh = 0, om = 0, sign = 0;
	size_t len = strlen(s), i = 19;

	if (len < 20 || !kobj_digits(s, 4, &year) || s[4] != '-' || !kobj_digits(s + 5, 2, &mon) ||
	    s[7] != '-' || !kobj_digits(s + 8, 2, &day) || s[10] != 'T' ||
	    !kobj_digits(s + 11, 2, &hour) || s[13] != ':' || !kobj_digits(s + 14, 2, &min) ||
	    s[16] != ':' || !kobj_digits(s + 17, 2, &sec))
		return -1;
	if (s[i] == '.') {
		size_t f = ++i;
		while (s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == f)
			return -1;
	}
	if (s[i] == 'Z') {
		i++;
	} else if (s[i] == '+' || s[i] == '-') {
		sign = s[i] == '-' ? -1 : 1;
		if (len - i != 6 || !kobj_digits(s + i + 1, 2, &oh) || s[i + 3] != ':' ||
		    !kobj_digits(s + i + 4, 2, &om) || oh > 23 || om > 59)
			return -1;
		i += 6;
	} else {
		return -1;
	}
	if (s[i] != '\0')
		return -1;
	bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
	if (mon < 1 || mon > 12 || day < 1 || day > mdays[mon - 1] ||
	    (mon == 2 && day == 29 && !leap) || hour > 23 || min > 59 || sec > 59)
		return -1;
	struct tm tm = {0};
	tm.tm_year = year - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = day;
	tm.tm_hour = hour;
	tm.tm_min = min;
	tm.tm_sec = sec;
	time_t t = timegm(&tm);
	*out = (int64_t)t - (int64_t)sign * (oh * 3600 + om * 60);
	return 0;
}

/* ---- CertificateSigningRequest ---- */

static int kobj_extra(const json_t *spec, struct policy_request *r, char *err, size_t errlen)
{
	static const char *const msg = "spec.extra: expected a map of string arrays";
	const json_t *v = kobj_member(spec, "extra");
	if (v == NULL)
		return 0;
	if (!json_is_object(v))
		return kobj_error(err, errlen, "%s", msg);
	r->extra = util_xcalloc(json_object_size(v) ? json_object_size(v) : 1, sizeof(*r->extra));
	for (void *it = json_object_iter((json_t *)v); it != NULL;
	     it = json_object_iter_next((json_t *)v, it)) {
		const char *k = kobj_key(it);
		const json_t *vals = json_object_iter_value(it), *item;
		size_t i;
		if (k == NULL || !(json_is_array(vals) || json_is_null(vals)))
			return kobj_error(err, errlen, "%s", msg);
		struct policy_extra *e = &r->extra[r->n_extra++];
		e->key = util_xstrdup(k);
		json_array_foreach(vals, i, item)
		{
			const char *s = kobj_cstr(item);
			if (s == NULL)
				return kobj_error(err, errlen, "%s", msg);
			util_strv_push(&e->values, s);
		}
	}
	return 0;
}

/* The conditions of status with status True: first (Approved for a CSR,
 * Issued for a PCR), Denied, Failed. */
static int kobj_conditions(const json_t *status, const char *first, bool *first_set, bool *denied,
                           bool *failed, char *err, size_t errlen)
{
	const json_t *v = kobj_member(status, "conditions"), *c;
	size_t i;
	if (v == NULL)
		return 0;
	if (!json_is_array(v))
		return kobj_error(err, errlen, "status.conditions: expected an array of objects");
	json_array_foreach(v, i, c)
	{
		char *type = NULL, *st = NULL;
		char path[64];
		if (!json_is_object(c))
			return kobj_error(err, errlen,
			                  "status.conditions: expected an array of objects");
		snprintf(path, sizeof(path), "status.conditions[%zu].type", i);
		if (kobj_string(c, "type", path, &type, err, errlen) != 0)
			return -1;
		snprintf(path, sizeof(path), "status.conditions[%zu].status", i);
		if (kobj_string(c, "status", path, &st, err, errlen) != 0) {
			free(type);
			return -1;
		}
		if (strcmp(st, "True") == 0) {
			if (strcmp(type, first) == 0)
				*first_set = true;
			else if (strcmp(type, "Denied") == 0)
				*denied = true;
			else if (strcmp(type, "Failed") == 0)
				*failed = true;
		}
		free(type);
		free(st);
	}
	return 0;
}

/* kind, when present, is want; apiVersion, when present,
 * certificates.k8s.io/v1. Returns 0, or -1 with err. */
static int kobj_check_certificates_v1(const json_t *obj, const char *want, char *err, size_t errlen)
{
	const json_t *v;
	if (kobj_check_kind(obj, want, err, errlen) != 0)
		return -1;
	if ((v = kobj_member(obj, "apiVersion")) != NULL) {
		const char *s = kobj_cstr(v);
		if (s == NULL || strcmp(s, "certificates.k8s.io/v1") != 0) {
			kobj_error(err, errlen,
			           "apiVersion: expected certificates.k8s.io/v1%s%.64s%s",
			           s ? ", got \"" : "", s ? s : "", s ? "\"" : "");
			return -1;
		}
	}
	return 0;
}

struct policy_request *kobj_request_from_json(const json_t *obj, char *err, size_t errlen)
{
	struct policy_request *r = NULL, *ret = NULL;
	const json_t *meta, *spec, *status, *v;
	char *ts = NULL;

	if (!json_is_object(obj)) {
		kobj_error(err, errlen, "expected an object");
		goto out;
	}
	if (kobj_check_certificates_v1(obj, "CertificateSigningRequest", err, errlen) != 0)
		goto out;
	r = util_xcalloc(1, sizeof(*r));
	if (kobj_object(obj, "metadata", "metadata", &meta, err, errlen) != 0 ||
	    kobj_object(obj, "spec", "spec", &spec, err, errlen) != 0 ||
	    kobj_object(obj, "status", "status", &status, err, errlen) != 0)
		goto out;
	if (kobj_required(meta, "name", "metadata.name", &r->name, err, errlen) != 0 ||
	    kobj_string(meta, "uid", "metadata.uid", &r->uid, err, errlen) != 0 ||
	    kobj_string(meta, "resourceVersion", "metadata.resourceVersion", &r->resource_version,
	                err, errlen) != 0 ||
	    kobj_string(meta, "creationTimestamp", "metadata.creationTimestamp", &ts, err,
	                errlen) != 0)
		goto out;
	if (*ts != '\0' && kobj_parse_time(ts, &r->creation_unix) != 0) {
		kobj_error(err, errlen,
		           "metadata.creationTimestamp: expected an RFC 3339 time, got \"%.64s\"",
		           ts);
		goto out;
	}

	v = kobj_member(spec, "request");
	if (v == NULL) {
		kobj_error(err, errlen, "spec.request: required");
		goto out;
	}
	if (!json_is_string(v)) {
		kobj_error(err, errlen, "spec.request: expected a base64 string");
		goto out;
	}
	switch (util_base64_decode(json_string_value(v), json_string_length(v),
	                           UTIL_B64_SKIP_NEWLINES, KOBJ_MAX_REQUEST, &r->request_pem,
	                           &r->request_len)) {
	case 0:
		break;
	case -2:
		kobj_error(err, errlen, "spec.request: larger than %d bytes once decoded",
		           KOBJ_MAX_REQUEST);
		goto out;
	default:
		kobj_error(err, errlen, "spec.request: not valid base64");
		goto out;
	}
	if (kobj_required(spec, "signerName", "spec.signerName", &r->signer_name, err, errlen) !=
	        0 ||
	    kobj_string(spec, "username", "spec.username", &r->username, err, errlen) != 0 ||
	    kobj_string(spec, "uid", "spec.uid", &r->user_uid, err, errlen) != 0 ||
	    kobj_strings(spec, "groups", "spec.groups", &r->groups, err, errlen) != 0 ||
	    kobj_extra(spec, r, err, errlen) != 0 ||
	    kobj_strings(spec, "usages", "spec.usages", &r->usages, err, errlen) != 0)
		goto out;
	if ((v = kobj_member(spec, "expirationSeconds")) != NULL) {
		if (!json_is_integer(v)) {
			kobj_error(err, errlen, "spec.expirationSeconds: expected an integer");
			goto out;
		}
		r->has_expiration = true;
		r->expiration_seconds = (int64_t)json_integer_value(v);
	}
	if (kobj_conditions(status, "Approved", &r->approved, &r->denied, &r->failed, err,
	                    errlen) != 0)
		goto out;
	if ((v = kobj_member(status, "certificate")) != NULL) {
		if (!json_is_string(v)) {
			kobj_error(err, errlen, "status.certificate: expected a base64 string");
			goto out;
		}
		r->has_certificate = json_string_length(v) > 0;
	}
	ret = r;
	r = NULL;
out:
	free(ts);
	policy_request_free(r);
	return ret;
}

/* ---- PodCertificateRequest ---- */

struct policy_pcr *kobj_pcr_from_json(const json_t *obj, char *err, size_t errlen)
{
	struct policy_pcr *p = NULL, *ret = NULL;
	const json_t *meta, *spec, *status, *v;
	char *stub = NULL;
	size_t stub_len = 0;

	if (!json_is_object(obj)) {
		kobj_error(err, errlen, "expected an object");
		goto out;
	}
	if (kobj_check_certificates_v1(obj, "PodCertificateRequest", err, errlen) != 0)
		goto out;
	p = util_xcalloc(1, sizeof(*p));
	if (kobj_object(obj, "metadata", "metadata", &meta, err, errlen) != 0 ||
	    kobj_object(obj, "spec", "spec", &spec, err, errlen) != 0 ||
	    kobj_object(obj, "status", "status", &status, err, errlen) != 0)
		goto out;
	if (kobj_required(meta, "name", "metadata.name", &p->name, err, errlen) != 0 ||
	    kobj_required(meta, "namespace", "metadata.namespace", &p->ns, err, errlen) != 0 ||
	    kobj_string(meta, "uid", "metadata.uid", &p->uid, err, errlen) != 0 ||
	    kobj_string(meta, "resourceVersion", "metadata.resourceVersion", &p->resource_version,
	                err, errlen) != 0 ||
	    kobj_required(spec, "signerName", "spec.signerName", &p->signer_name, err, errlen) !=
	        0 ||
	    kobj_required(spec, "podName", "spec.podName", &p->pod_name, err, errlen) != 0 ||
	    kobj_required(spec, "podUID", "spec.podUID", &p->pod_uid, err, errlen) != 0 ||
	    kobj_required(spec, "serviceAccountName", "spec.serviceAccountName",
	                  &p->service_account_name, err, errlen) != 0 ||
	    kobj_string(spec, "serviceAccountUID", "spec.serviceAccountUID",
	                &p->service_account_uid, err, errlen) != 0 ||
	    kobj_required(spec, "nodeName", "spec.nodeName", &p->node_name, err, errlen) != 0 ||
	    kobj_string(spec, "nodeUID", "spec.nodeUID", &p->node_uid, err, errlen) != 0)
		goto out;
	if ((v = kobj_member(spec, "maxExpirationSeconds")) != NULL) {
		if (!json_is_integer(v) || json_integer_value(v) <= 0) {
			kobj_error(err, errlen,
			           "spec.maxExpirationSeconds: expected a positive integer");
			goto out;
		}
		p->max_expiration_seconds = (int64_t)json_integer_value(v);
	}
	v = kobj_member(spec, "stubPKCS10Request");
	if (v == NULL) {
		kobj_error(err, errlen, "spec.stubPKCS10Request: required");
		goto out;
	}
	if (!json_is_string(v)) {
		kobj_error(err, errlen, "spec.stubPKCS10Request: expected a base64 string");
		goto out;
	}
	switch (util_base64_decode(json_string_value(v), json_string_length(v),
	                           UTIL_B64_SKIP_NEWLINES, POLICY_PCR_MAX_STUB, &stub, &stub_len)) {
	case 0:
		break;
	case -2:
		kobj_error(err, errlen, "spec.stubPKCS10Request: larger than %d bytes once decoded",
		           POLICY_PCR_MAX_STUB);
		goto out;
	default:
		kobj_error(err, errlen, "spec.stubPKCS10Request: not valid base64");
		goto out;
	}
	if (stub_len == 0) {
		kobj_error(err, errlen, "spec.stubPKCS10Request: required");
		goto out;
	}
	p->stub_der = (unsigned char *)stub;
	p->stub_len = stub_len;
	stub = NULL;
	if (kobj_conditions(status, "Issued", &p->issued, &p->denied, &p->failed, err, errlen) != 0)
		goto out;
	if ((v = kobj_member(status, "certificateChain")) != NULL) {
		if (!json_is_string(v)) {
			kobj_error(err, errlen, "status.certificateChain: expected a string");
			goto out;
		}
		p->has_chain = json_string_length(v) > 0;
	}
	ret = p;
	p = NULL;
out:
	free(stub);
	policy_pcr_free(p);
	return ret;
}

/* ---- Pod, Service, Node ---- */

struct policy_pod *kobj_pod_from_json(const json_t *obj, char *err, size_t errlen)
{
	struct policy_pod *p = NULL, *ret = NULL;
	const json_t *meta, *spec, *status, *v;

	if (!json_is_object(obj)) {
		kobj_error(err, errlen, "expected an object");
		goto out;
	}
	if (kobj_check_kind(obj, "Pod", err, errlen) != 0)
		goto out;
	p = util_xcalloc(1, sizeof(*p));
	if (kobj_object(obj, "metadata", "metadata", &meta, err, errlen) != 0 ||
	    kobj_object(obj, "spec", "spec", &spec, err, errlen) != 0 ||
	    kobj_object(obj, "status", "status", &status, err, errlen) != 0 ||
	    kobj_required(meta, "namespace", "metadata.namespace", &p->ns, err, errlen) != 0 ||
	    kobj_required(meta, "name", "metadata.name", &p->name, err, errlen) != 0 ||
	    kobj_string(meta, "uid", "metadata.uid", &p->uid, err, errlen) != 0 ||
	    kobj_labels(meta, "labels", "metadata.labels", &p->labels, err, errlen) != 0)
		goto out;
	if ((v = kobj_member(meta, "deletionTimestamp")) != NULL) {
		if (!json_is_string(v)) {
			kobj_error(err, errlen, "metadata.deletionTimestamp: expected a string");
			goto out;
		}
		p->deleting = true;
	}
	if (kobj_string(spec, "serviceAccountName", "spec.serviceAccountName", &p->service_account,
	                err, errlen) != 0)
		goto out;
	if (*p->service_account == '\0') {
		free(p->service_account);
		if (kobj_string(spec, "serviceAccount", "spec.serviceAccount", &p->service_account,
		                err, errlen) != 0)
			goto out;
	}
	if (kobj_string(spec, "nodeName", "spec.nodeName", &p->node_name, err, errlen) != 0 ||
	    kobj_string(spec, "hostname", "spec.hostname", &p->hostname, err, errlen) != 0 ||
	    kobj_string(spec, "subdomain", "spec.subdomain", &p->subdomain, err, errlen) != 0 ||
	    kobj_bool(spec, "hostNetwork", "spec.hostNetwork", &p->host_network, err, errlen) !=
	        0 ||
	    kobj_string(status, "phase", "status.phase", &p->phase, err, errlen) != 0)
		goto out;
	if ((v = kobj_member(status, "podIPs")) != NULL) {
		const json_t *item;
		size_t i;
		if (!json_is_array(v)) {
			kobj_error(err, errlen, "status.podIPs: expected an array of objects");
			goto out;
		}
		json_array_foreach(v, i, item)
		{
			char path[64];
			char *ip = NULL;
			if (!json_is_object(item)) {
				kobj_error(err, errlen,
				           "status.podIPs: expected an array of objects");
				goto out;
			}
			snprintf(path, sizeof(path), "status.podIPs[%zu].ip", i);
			if (kobj_required(item, "ip", path, &ip, err, errlen) != 0)
				goto out;
			util_strv_push(&p->ips, ip);
			free(ip);
		}
	}
	if (p->ips.n == 0) {
		char *ip = NULL;
		if (kobj_string(status, "podIP", "status.podIP", &ip, err, errlen) != 0)
			goto out;
		if (*ip != '\0')
			util_strv_push(&p->ips, ip);
		free(ip);
	}
	ret = p;
	p = NULL;
out:
	policy_pod_free(p);
	return ret;
}

struct policy_service *kobj_service_from_json(const json_t *obj, char *err, size_t errlen)
{
	struct policy_service *s = NULL, *ret = NULL;
	const json_t *meta, *spec;
	char *type = NULL;

	if (!json_is_object(obj)) {
		kobj_error(err, errlen, "expected an object");
		goto out;
	}
	if (kobj_check_kind(obj, "Service", err, errlen) != 0)
		goto out;
	s = util_xcalloc(1, sizeof(*s));
	if (kobj_object(obj, "metadata", "metadata", &meta, err, errlen) != 0 ||
	    kobj_object(obj, "spec", "spec", &spec, err, errlen) != 0 ||
	    kobj_required(meta, "namespace", "metadata.namespace", &s->ns, err, errlen) != 0 ||
	    kobj_required(meta, "name", "metadata.name", &s->name, err, errlen) != 0 ||
	    kobj_labels(spec, "selector", "spec.selector", &s->selector, err, errlen) != 0 ||
	    kobj_string(spec, "type", "spec.type", &type, err, errlen) != 0)
		goto out;
	/* Only ExternalName matters to the rules: every other type (ClusterIP,
	 * NodePort, LoadBalancer, absent) serves the pods it selects. */
	s->external_name = strcmp(type, "ExternalName") == 0;
	ret = s;
	s = NULL;
out:
	free(type);
	policy_service_free(s);
	return ret;
}

struct policy_node *kobj_node_from_json(const json_t *obj, char *err, size_t errlen)
{
	struct policy_node *n = NULL, *ret = NULL;
	const json_t *meta, *status, *v, *item;
	size_t i;

	if (!json_is_object(obj)) {
		kobj_error(err, errlen, "expected an object");
		goto out;
	}
	if (kobj_check_kind(obj, "Node", err, errlen) != 0)
		goto out;
	n = util_xcalloc(1, sizeof(*n));
	if (kobj_object(obj, "metadata", "metadata", &meta, err, errlen) != 0 ||
	    kobj_object(obj, "status", "status", &status, err, errlen) != 0 ||
	    kobj_required(meta, "name", "metadata.name", &n->name, err, errlen) != 0 ||
	    kobj_string(meta, "uid", "metadata.uid", &n->uid, err, errlen) != 0)
		goto out;
	if ((v = kobj_member(status, "addresses")) != NULL) {
		if (!json_is_array(v)) {
			kobj_error(err, errlen, "status.addresses: expected an array of objects");
			goto out;
		}
		n->addresses = util_xcalloc(json_array_size(v) ? json_array_size(v) : 1,
		                            sizeof(*n->addresses));
		json_array_foreach(v, i, item)
		{
			char path[64];
			struct policy_node_address *a = &n->addresses[n->n_addresses];
			if (!json_is_object(item)) {
				kobj_error(err, errlen,
				           "status.addresses: expected an array of objects");
				goto out;
			}
			n->n_addresses++;
			snprintf(path, sizeof(path), "status.addresses[%zu].type", i);
			if (kobj_required(item, "type", path, &a->type, err, errlen) != 0)
				goto out;
			snprintf(path, sizeof(path), "status.addresses[%zu].address", i);
			if (kobj_required(item, "address", path, &a->address, err, errlen) != 0)
				goto out;
		}
	}
	ret = n;
	n = NULL;
out:
	policy_node_free(n);
	return ret;
}

/* ---- object files ---- */

struct kobj_reader {
	const char *filename;
	kobj_object_cb cb;
	void *ctx;
	char *err;
	size_t errlen;
	size_t count;
};

static int kobj_emit(struct kobj_reader *r, const char *kind, const json_t *obj)
{
	if (++r->count > KOBJ_MAX_OBJECTS)
		return kobj_error(r->err, r->errlen, "%s: more than %d objects", r->filename,
		                  KOBJ_MAX_OBJECTS);
	return r->cb(r->ctx, kind, obj, r->err, r->errlen);
}

static bool kobj_ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static const char *kobj_type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
		return "null";
	}
	return "a value";
}

/* One document: an object, or a *List whose items are the objects. */
static int kobj_document(struct kobj_reader *r, size_t idx, const json_t *doc)
{
	const char *kind = "";
	const json_t *v, *items, *item;
	size_t i;

	if (json_is_null(doc))
		return 0;
	if (json_is_string(doc)) {
		/* Plain text reads as one YAML string: show its start. */
		struct util_buf b = {0};
		size_t n = json_string_length(doc);
		util_buf_json_escape(&b, json_string_value(doc), n > 48 ? 48 : n);
		kobj_error(r->err, r->errlen,
		           "%s: document %zu: expected an object, got a string: \"%s\"%s",
		           r->filename, idx + 1, util_buf_str(&b), n > 48 ? "..." : "");
		util_buf_reset(&b);
		return -1;
	}
	if (!json_is_object(doc))
		return kobj_error(r->err, r->errlen, "%s: document %zu: expected an object, got %s",
		                  r->filename, idx + 1, kobj_type_name(doc));
	if ((v = json_object_get(doc, "kind")) != NULL && kobj_cstr(v) != NULL)
		kind = kobj_cstr(v);
	items = json_object_get(doc, "items");
	if (!kobj_ends_with(kind, "List"))
		return kobj_emit(r, kind, doc);
	if (json_is_null(items) || items == NULL)
		return 0; /* an empty list as some tools print it */
	if (!json_is_array(items))
		return kobj_error(r->err, r->errlen,
		                  "%s: document %zu: %s: items: expected an array", r->filename,
		                  idx + 1, kind);

	/* Items of a typed list (PodList) may leave out their kind. */
	char *item_kind = util_xstrndup(kind, strlen(kind) - 4);
	int rc = 0;
	json_array_foreach(items, i, item)
	{
		const char *k = item_kind;
		if (!json_is_object(item)) {
			rc = kobj_error(
			    r->err, r->errlen,
			    "%s: document %zu: %s: items[%zu]: expected an object, got %s",
			    r->filename, idx + 1, kind, i, kobj_type_name(item));
			break;
		}
		if ((v = json_object_get(item, "kind")) != NULL && kobj_cstr(v) != NULL)
			k = kobj_cstr(v);
		if ((rc = kobj_emit(r, k, item)) != 0)
			break;
	}
	free(item_kind);
	return rc;
}

int kobj_read_objects(const char *buf, size_t len, const char *filename, kobj_object_cb cb,
                      void *ctx, char *err, size_t errlen)
{
	struct kobj_reader r = {filename, cb, ctx, err, errlen, 0};
	json_t *docs = NULL;
	size_t i = 0;
	int rc = -1;

	if (len > CONFIG_MAX_FILE)
		return kobj_error(err, errlen, "%s: larger than %d bytes", filename,
		                  CONFIG_MAX_FILE);
	while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' || buf[i] == '\n'))
		i++;
	if (i < len && (buf[i] == '{' || buf[i] == '[')) {
		json_error_t jerr;
		json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
		if (root == NULL) {
			kobj_error(err, errlen, "%s:%d: %s", filename, jerr.line, jerr.text);
			goto out;
		}
		if (json_is_array(root)) {
			docs = root;
		} else {
			docs = json_array();
			json_array_append_new(docs, root);
		}
	} else if (config_yaml_to_json(buf, len, filename, &docs, err, errlen) != 0) {
		goto out;
	}

	const json_t *doc;
	json_array_foreach(docs, i, doc)
	{
		if (kobj_document(&r, i, doc) != 0)
			goto out;
	}
	rc = 0;
out:
	json_decref(docs);
	return rc;
}

struct kobj_single {
	const char *filename;
	json_t *obj;
	size_t n;
};

/* What an object is, for a message: "Pod shop/web-7d9", or the keys of an
 * object without kind or spec ("clusterDomain, policies"). */
static void kobj_describe(const char *kind, const json_t *obj, struct util_buf *b)
{
	const json_t *meta = json_object_get(obj, "metadata");
	const char *ns = kobj_cstr(json_object_get(meta, "namespace"));
	const char *name = kobj_cstr(json_object_get(meta, "name"));
	const char *key;
	const json_t *v;
	size_t i = 0;

	if (*kind != '\0') {
		util_buf_printf(b, "%.64s", kind);
		if (name != NULL)
			util_buf_printf(b, " %.64s%s%.64s", ns ? ns : "", ns ? "/" : "", name);
		return;
	}
	util_buf_puts(b, "an object without kind or spec (keys: ");
	json_object_foreach((json_t *)obj, key, v)
	{
		(void)v;
		if (i == 5) {
			util_buf_puts(b, ", ...");
			break;
		}
		if (i++ > 0)
			util_buf_puts(b, ", ");
		util_buf_json_escape(b, key, strlen(key) > 64 ? 64 : strlen(key));
	}
	util_buf_puts(b, i == 0 ? "none)" : ")");
}

static int kobj_single_cb(void *ctx, const char *kind, const json_t *obj, char *err, size_t errlen)
{
	struct kobj_single *s = ctx;
	/* A CertificateSigningRequest may leave out its kind (the items of a
	 * typed list do), but not its spec. */
	bool other = *kind != '\0' ? strcmp(kind, "CertificateSigningRequest") != 0
	                           : json_object_get(obj, "spec") == NULL;
	if (other) {
		struct util_buf b = {0};
		kobj_describe(kind, obj, &b);
		kobj_error(err, errlen, "%s: expected a CertificateSigningRequest, got %s",
		           s->filename, util_buf_str(&b));
		util_buf_reset(&b);
		return -1;
	}
	if (s->n++ == 0)
		s->obj = json_incref((json_t *)obj);
	return 0;
}

json_t *kobj_read_single(const char *buf, size_t len, const char *filename, char *err,
                         size_t errlen)
{
	struct kobj_single s = {filename, NULL, 0};

	if (kobj_read_objects(buf, len, filename, kobj_single_cb, &s, err, errlen) != 0)
		goto fail;
	if (s.n == 0) {
		kobj_error(err, errlen, "%s: no CertificateSigningRequest found", filename);
		goto fail;
	}
	if (s.n > 1) {
		kobj_error(err, errlen,
		           "%s: expected one CertificateSigningRequest, found %zu objects",
		           filename, s.n);
		goto fail;
	}
	return s.obj;
fail:
	json_decref(s.obj);
	return NULL;
}
