/*
 * kube: names and texts of requests and answers, with no transfer: the
 * verb and resource a request is counted under, the API Status of an
 * answer, escaping, excerpts of bodies that are not a Status.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

#include "../util/util.h"
#include "kube.h"
#include "kube_int.h"

const char *kube_library_version(void)
{
	return curl_version();
}

/* ---- names for metrics ---- */

static bool kube_query_is_watch(const char *q)
{
	while (q != NULL && *q != '\0') {
		const char *end = strchr(q, '&');
		size_t n = end ? (size_t)(end - q) : strlen(q);
		if ((n == 7 && memcmp(q, "watch=1", 7) == 0) ||
		    (n == 10 && memcmp(q, "watch=true", 10) == 0))
			return true;
		q = end ? end + 1 : NULL;
	}
	return false;
}

void kube_classify(const char *method, const char *path, char *verb, size_t verblen, char *resource,
                   size_t reslen)
{
	enum { MAXSEG = 8 };
	const char *seg[MAXSEG] = {0};
	size_t seglen[MAXSEG] = {0};
	size_t n = 0;
	const char *q = strchr(path, '?');
	size_t plen = q ? (size_t)(q - path) : strlen(path);
	bool watch = kube_query_is_watch(q ? q + 1 : NULL);
	bool get = strcmp(method, "GET") == 0;
	bool named = true; /* a GET on it is a GET, not a LIST */
	const char *res = NULL, *sub = NULL;
	size_t reslen0 = 0, sublen = 0;
	char tmp[160];

	for (size_t i = 0; i < plen;) {
		while (i < plen && path[i] == '/')
			i++;
		if (i >= plen)
			break;
		size_t j = i;
		while (j < plen && path[j] != '/')
			j++;
		if (n < MAXSEG) {
			seg[n] = path + i;
			seglen[n] = j - i;
		}
		n++;
		i = j;
	}
	if (n > MAXSEG)
		n = MAXSEG;

#define SEG_IS(k, lit) (seglen[k] == sizeof(lit) - 1 && memcmp(seg[k], lit, sizeof(lit) - 1) == 0)
	size_t base = 0; /* first segment after the group/version */
	bool api = false;
	if (n >= 1 && SEG_IS(0, "api")) {
		api = true;
		base = 2;
	} else if (n >= 1 && SEG_IS(0, "apis")) {
		api = true;
		base = 3;
	}
	if (api && n > base && SEG_IS(base, "watch")) {
		/* The old /api/v1/watch/... form. */
		watch = true;
		base++;
	}
	if (!api) {
		if (n > 0) {
			res = seg[0];
			reslen0 = seglen[0];
		}
	} else if (n <= base) {
		res = "discovery";
		reslen0 = strlen(res);
	} else {
		size_t m = n - base;
		const char *const *r = seg + base;
		const size_t *rl = seglen + base;
		if (m >= 3 && rl[0] == 10 && memcmp(r[0], "namespaces", 10) == 0) {
			res = r[2];
			reslen0 = rl[2];
			named = m >= 4;
			if (m >= 5) {
				sub = r[4];
				sublen = rl[4];
			}
		} else {
			res = r[0];
			reslen0 = rl[0];
			named = m >= 2;
			if (m >= 3) {
				sub = r[2];
				sublen = rl[2];
			}
		}
	}
#undef SEG_IS

	if (watch) {
		snprintf(verb, verblen, "WATCH");
	} else if (get) {
		snprintf(verb, verblen, "%s", api && !named ? "LIST" : "GET");
	} else {
		size_t i = 0;
		for (; method[i] != '\0' && i + 1 < sizeof(tmp) && i < 15; i++) {
			char ch = method[i];
			tmp[i] = (ch >= 'a' && ch <= 'z') ? (char)(ch - 'a' + 'A') : ch;
		}
		tmp[i] = '\0';
		snprintf(verb, verblen, "%s", tmp);
	}
	if (res == NULL)
		snprintf(resource, reslen, "%s", "");
	else if (sub != NULL)
		snprintf(resource, reslen, "%.*s/%.*s", (int)reslen0, res, (int)sublen, sub);
	else
		snprintf(resource, reslen, "%.*s", (int)reslen0, res);
}

/* ---- API Status ---- */

int kube_status_read(const json_t *obj, char *message, size_t msglen, char *reason,
                     size_t reasonlen, long *code, bool *too_large)
{
	const json_t *kind = json_object_get(obj, "kind");
	const json_t *v;
	size_t i;
	const json_t *cause;
	bool big = false;

	if (!json_is_object(obj) || !json_is_string(kind) ||
	    strcmp(json_string_value(kind), "Status") != 0)
		return -1;
	v = json_object_get(obj, "message");
	if (message != NULL && msglen > 0)
		snprintf(message, msglen, "%s", json_is_string(v) ? json_string_value(v) : "");
	if (json_is_string(v) &&
	    util_has_prefix(json_string_value(v), "Too large resource version"))
		big = true;
	v = json_object_get(obj, "reason");
	if (reason != NULL && reasonlen > 0)
		snprintf(reason, reasonlen, "%s", json_is_string(v) ? json_string_value(v) : "");
	v = json_object_get(obj, "code");
	if (code != NULL)
		*code = json_is_integer(v) ? (long)json_integer_value(v) : 0;
	v = json_object_get(json_object_get(obj, "details"), "causes");
	json_array_foreach(v, i, cause)
	{
		const json_t *r = json_object_get(cause, "reason");
		if (json_is_string(r) &&
		    strcmp(json_string_value(r), "ResourceVersionTooLarge") == 0)
			big = true;
	}
	if (too_large != NULL)
		*too_large = big;
	return 0;
}

int kube_status_parse(const char *body, size_t len, char *message, size_t msglen, char *reason,
                      size_t reasonlen, long *code, bool *too_large)
{
	json_t *j;
	int rc;

	if (body == NULL || len == 0)
		return -1;
	j = json_loadb(body, len, 0, NULL);
	if (j == NULL)
		return -1;
	rc = kube_status_read(j, message, msglen, reason, reasonlen, code, too_large);
	json_decref(j);
	return rc;
}

/* ---- escaping ---- */

char *kube_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	struct util_buf b = {0};

	util_buf_append(&b, "", 0);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		unsigned char ch = *p;
		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_' || ch == '~') {
			util_buf_putc(&b, (char)ch);
		} else {
			char e[3] = {'%', hex[ch >> 4], hex[ch & 15]};
			util_buf_append(&b, e, 3);
		}
	}
	return util_buf_take(&b);
}

/* A printable excerpt of a body that is not a Status. */
void kube_excerpt(const char *body, size_t len, long status, char *out, size_t outlen)
{
	size_t n = 0;

	if (len == 0) {
		snprintf(out, outlen, "HTTP %ld", status);
		return;
	}
	for (size_t i = 0; i < len && i < KUBE_EXCERPT && n + 1 < outlen; i++) {
		unsigned char ch = (unsigned char)body[i];
		out[n++] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : ' ';
	}
	out[n] = '\0';
}
