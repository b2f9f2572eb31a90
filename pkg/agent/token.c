/*
 * agent: the pod's identity as its service-account token states it.
 *
 * The token is a JWT the API server signed; the agent does not verify it
 * (the API server does, on every request), it only reads the claims to
 * build the names the approver will check against the same token. The
 * input is still untrusted bytes: every size is capped, every field typed,
 * every name checked against Kubernetes' forms before it can reach a SAN.
 * No error message quotes the token or its claims.
 */
#include <string.h>

#include "agent.h"

static int fail(char *err, size_t errlen, const char *msg)
{
	snprintf(err, errlen, "service-account token: %s", msg);
	return -1;
}

/* RFC 1123 label: [a-z0-9]([-a-z0-9]*[a-z0-9])?, at most 63 bytes. */
static bool dns_label(const char *s, size_t n)
{
	if (n == 0 || n > 63)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool an = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
		if (!an && !(c == '-' && i > 0 && i < n - 1))
			return false;
	}
	return true;
}

/* RFC 1123 subdomain: labels joined by dots, at most 253 bytes. */
static bool dns_subdomain(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 253)
		return false;
	const char *p = s;
	for (;;) {
		const char *dot = strchr(p, '.');
		size_t len = dot ? (size_t)(dot - p) : strlen(p);
		if (!dns_label(p, len))
			return false;
		if (dot == NULL)
			return true;
		p = dot + 1;
	}
}

/* Decode one base64url segment (padding optional) of at most max bytes. */
static int b64url_decode(const char *s, size_t n, size_t max, char **out, size_t *outlen)
{
	int rc = -1;
	while (n > 0 && s[n - 1] == '=')
		n--;
	if (n % 4 == 1)
		return -1;
	char *std = util_xmalloc(n + 4);
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '-')
			c = '+';
		else if (c == '_')
			c = '/';
		else if (c == '+' || c == '/' || util_base64_value((unsigned char)c) < 0)
			goto out;
		std[m++] = c;
	}
	while (m % 4 != 0)
		std[m++] = '=';
	rc = util_base64_decode(std, m, 0, max, out, outlen) == 0 ? 0 : -1;
out:
	free(std);
	return rc;
}

/* A string member of obj: 1 with *v, 0 when absent, -1 when not a string or
 * holding a NUL. */
static int get_str(const json_t *obj, const char *key, const char **v)
{
	const json_t *j = json_object_get(obj, key);
	if (j == NULL)
		return 0;
	if (!json_is_string(j) || strlen(json_string_value(j)) != json_string_length(j))
		return -1;
	*v = json_string_value(j);
	return 1;
}

/* Set *dst from a source when the source has a value; two sources that
 * disagree are an error. */
static int agree(const char **dst, const char *v)
{
	if (v == NULL)
		return 0;
	if (*dst != NULL && strcmp(*dst, v) != 0)
		return -1;
	*dst = v;
	return 0;
}

int agent_token_claims(const char *token, size_t len, struct agent_claims *out, char *err,
                       size_t errlen)
{
	char *payload = NULL;
	size_t plen = 0;
	json_t *claims = NULL;
	int rc = -1;
	const char *ns = NULL, *sa = NULL, *pod = NULL, *uid = NULL;
	const char *v;

	memset(out, 0, sizeof(*out));
	if (len > AGENT_MAX_TOKEN) {
		fail(err, errlen, "longer than 64 KiB");
		goto out;
	}
	/* Tokens read from files may end in a newline. */
	while (len > 0 && (token[len - 1] == '\n' || token[len - 1] == '\r'))
		len--;
	const char *dot1 = memchr(token, '.', len);
	const char *dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token)) : NULL;
	if (dot1 == NULL || dot2 == NULL ||
	    memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token)) != NULL) {
		fail(err, errlen, "not a JWT (want three dot-separated parts)");
		goto out;
	}
	if (b64url_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1), AGENT_MAX_TOKEN, &payload, &plen) !=
	    0) {
		fail(err, errlen, "the JWT payload is not base64url");
		goto out;
	}
	claims = json_loadb(payload, plen, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(claims)) {
		fail(err, errlen, "the JWT payload is not a JSON object");
		goto out;
	}

	/* A projected (bound) token: the "kubernetes.io" claim. */
	const json_t *k = json_object_get(claims, "kubernetes.io");
	if (k != NULL) {
		if (!json_is_object(k)) {
			fail(err, errlen, "claim kubernetes.io is not an object");
			goto out;
		}
		const json_t *sao = json_object_get(k, "serviceaccount");
		const json_t *po = json_object_get(k, "pod");
		if ((sao != NULL && !json_is_object(sao)) || (po != NULL && !json_is_object(po))) {
			fail(err, errlen,
			     "claim kubernetes.io.serviceaccount or .pod is not an object");
			goto out;
		}
		if (get_str(k, "namespace", &ns) < 0 || get_str(sao, "name", &sa) < 0 ||
		    get_str(po, "name", &pod) < 0 || get_str(po, "uid", &uid) < 0) {
			fail(err, errlen, "a kubernetes.io claim is not a string");
			goto out;
		}
		if (po != NULL && (pod == NULL || uid == NULL)) {
			fail(err, errlen, "claim kubernetes.io.pod lacks its name or uid");
			goto out;
		}
	}
	/* A legacy secret-based token. */
	v = NULL;
	if (get_str(claims, "kubernetes.io/serviceaccount/namespace", &v) < 0 ||
	    agree(&ns, v) < 0) {
		fail(err, errlen, "the namespace claims disagree or are not strings");
		goto out;
	}
	v = NULL;
	if (get_str(claims, "kubernetes.io/serviceaccount/service-account.name", &v) < 0 ||
	    agree(&sa, v) < 0) {
		fail(err, errlen, "the service-account name claims disagree or are not strings");
		goto out;
	}
	/* sub: system:serviceaccount:NS:SA, the user the API server sees. */
	v = NULL;
	if (get_str(claims, "sub", &v) < 0) {
		fail(err, errlen, "claim sub is not a string");
		goto out;
	}
	if (v != NULL) {
		static const char prefix[] = "system:serviceaccount:";
		if (!util_has_prefix(v, prefix)) {
			fail(err, errlen,
			     "not a service-account token (sub is not "
			     "system:serviceaccount:NS:SA)");
			goto out;
		}
		const char *rest = v + sizeof(prefix) - 1;
		const char *colon = strchr(rest, ':');
		if (colon == NULL || strchr(colon + 1, ':') != NULL) {
			fail(err, errlen, "claim sub is not system:serviceaccount:NS:SA");
			goto out;
		}
		out->ns = util_xstrndup(rest, (size_t)(colon - rest));
		out->sa = util_xstrdup(colon + 1);
		if (agree(&ns, out->ns) < 0 || agree(&sa, out->sa) < 0) {
			fail(err, errlen,
			     "claim sub names another service account than the "
			     "kubernetes.io claims");
			goto out;
		}
	}
	if (ns == NULL || sa == NULL) {
		fail(err, errlen,
		     "not a service-account token (no namespace and service "
		     "account in its claims)");
		goto out;
	}
	if (!dns_label(ns, strlen(ns))) {
		fail(err, errlen, "the namespace claim is not a DNS label");
		goto out;
	}
	if (!dns_subdomain(sa)) {
		fail(err, errlen, "the service-account name claim is not a DNS subdomain");
		goto out;
	}
	if (pod != NULL && !dns_subdomain(pod)) {
		fail(err, errlen, "the pod name claim is not a DNS subdomain");
		goto out;
	}
	if (uid != NULL) {
		size_t n = strlen(uid);
		bool ok = n > 0 && n <= 128;
		for (size_t i = 0; ok && i < n; i++)
			ok = uid[i] > ' ' && uid[i] < 0x7f;
		if (!ok) {
			fail(err, errlen, "the pod uid claim is empty, long or not printable");
			goto out;
		}
	}
	/* The values may point into out->ns/out->sa (from sub): copy first. */
	char *nns = util_xstrdup(ns), *nsa = util_xstrdup(sa);
	free(out->ns);
	free(out->sa);
	out->ns = nns;
	out->sa = nsa;
	out->pod_name = util_xstrdup(pod);
	out->pod_uid = util_xstrdup(uid);
	rc = 0;
out:
	if (rc != 0)
		agent_claims_clear(out);
	json_decref(claims);
	agent_secret_free(payload, plen);
	return rc;
}

void agent_claims_clear(struct agent_claims *c)
{
	free(c->ns);
	free(c->sa);
	free(c->pod_name);
	free(c->pod_uid);
	memset(c, 0, sizeof(*c));
}
