/*
 * agent: who the pod is, and the names it asks for. The forms follow the
 * workload policy (pkg/policy/rules_workload.c) byte for byte, so that
 * what the agent asks for is what the approver computes for the pod.
 */
#include <arpa/inet.h>
#include <string.h>

#include "agent.h"

void agent_pod_clear(struct agent_pod *p)
{
	free(p->ns);
	free(p->sa);
	free(p->name);
	memset(p, 0, sizeof(*p));
}

void agent_names_clear(struct agent_names *n)
{
	for (size_t i = 0; i < n->n; i++)
		free(n->v[i].value);
	free(n->v);
	free(n->cn);
	memset(n, 0, sizeof(*n));
}

static bool empty(const char *s)
{
	return s == NULL || s[0] == '\0';
}

int agent_pod_resolve(const struct agent_claims *claims, const char *pod_name, const char *pod_ns,
                      struct agent_pod *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (claims != NULL && claims->ns != NULL) {
		if (!empty(pod_ns) && strcmp(pod_ns, claims->ns) != 0) {
			snprintf(err, errlen,
			         "POD_NAMESPACE is \"%.64s\" but the service-account token is of "
			         "namespace \"%s\"",
			         pod_ns, claims->ns);
			return -1;
		}
		out->ns = util_xstrdup(claims->ns);
		out->sa = util_xstrdup(claims->sa);
	} else if (!empty(pod_ns)) {
		out->ns = util_xstrdup(pod_ns);
	} else {
		snprintf(err, errlen,
		         "the pod's namespace is unknown: set POD_NAMESPACE (downward API "
		         "metadata.namespace) or --pod-namespace");
		return -1;
	}
	if (claims != NULL && claims->pod_name != NULL) {
		if (!empty(pod_name) && strcmp(pod_name, claims->pod_name) != 0) {
			snprintf(
			    err, errlen,
			    "POD_NAME is \"%.64s\" but the service-account token is bound to pod "
			    "\"%s\"",
			    pod_name, claims->pod_name);
			agent_pod_clear(out);
			return -1;
		}
		out->name = util_xstrdup(claims->pod_name);
	} else if (!empty(pod_name)) {
		out->name = util_xstrdup(pod_name);
	}
	return 0;
}

static void push(struct agent_names *n, enum agent_san_type t, char *value, const unsigned char *ip,
                 size_t ip_len)
{
	n->v = util_xreallocarray(n->v, n->n + 1, sizeof(*n->v));
	struct agent_san *s = &n->v[n->n++];
	memset(s, 0, sizeof(*s));
	s->type = t;
	s->value = value;
	if (ip != NULL) {
		memcpy(s->ip, ip, ip_len);
		s->ip_len = ip_len;
	}
}

static bool has(const struct agent_names *n, enum agent_san_type t, const char *value)
{
	for (size_t i = 0; i < n->n; i++)
		if (n->v[i].type == t && strcmp(n->v[i].value, value) == 0)
			return true;
	return false;
}

/* An address a pod may have: not loopback, unspecified, link-local,
 * multicast or IPv4-mapped (the approver refuses those in any request). */
static bool usable_ip(const unsigned char *a, size_t len)
{
	static const unsigned char zero[16] = {0};
	if (len == 4)
		return a[0] != 127 && a[0] != 0 && !(a[0] == 169 && a[1] == 254) && a[0] < 224;
	if (memcmp(a, zero, 15) == 0 && (a[15] == 0 || a[15] == 1))
		return false;
	if (a[0] == 0xff || (a[0] == 0xfe && (a[1] & 0xc0) == 0x80))
		return false;
	if (memcmp(a, zero, 10) == 0 && a[10] == 0xff && a[11] == 0xff)
		return false;
	return true;
}

int agent_names_build(const struct agent_pod *pod, const char *pod_ips,
                      const struct agent_options *o, struct agent_names *out, char *err,
                      size_t errlen)
{
	struct {
		unsigned char a[16];
		size_t len;
	} ips[16];
	size_t n_ips = 0;
	char *list = NULL;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (!empty(pod_ips) && (o->names & (AGENT_NAME_POD_IP | AGENT_NAME_POD_DNS))) {
		list = util_xstrdup(pod_ips);
		char *p = list;
		for (;;) {
			char *comma = strchr(p, ',');
			if (comma != NULL)
				*comma = '\0';
			if (n_ips == sizeof(ips) / sizeof(ips[0])) {
				snprintf(err, errlen, "POD_IPS holds more than 16 addresses");
				goto out;
			}
			if (inet_pton(AF_INET, p, ips[n_ips].a) == 1) {
				ips[n_ips].len = 4;
			} else if (inet_pton(AF_INET6, p, ips[n_ips].a) == 1) {
				ips[n_ips].len = 16;
			} else {
				snprintf(
				    err, errlen,
				    "POD_IPS: \"%.64s\" is not an IP address (want the downward "
				    "API's status.podIPs, comma separated)",
				    p);
				goto out;
			}
			if (!usable_ip(ips[n_ips].a, ips[n_ips].len)) {
				snprintf(err, errlen,
				         "POD_IPS: %.64s is loopback, link-local, multicast or "
				         "unspecified; no certificate may name it",
				         p);
				goto out;
			}
			bool dup = false;
			for (size_t i = 0; i < n_ips; i++)
				dup = dup ||
				    (ips[i].len == ips[n_ips].len &&
				     memcmp(ips[i].a, ips[n_ips].a, ips[i].len) == 0);
			if (!dup)
				n_ips++;
			if (comma == NULL)
				break;
			p = comma + 1;
		}
	}

	if (o->names & AGENT_NAME_SPIFFE) {
		if (pod->sa == NULL) {
			snprintf(err, errlen,
			         "--names spiffe needs the service account from a service-account "
			         "token, and the credentials hold none");
			goto out;
		}
		push(out, AGENT_SAN_URI,
		     util_xasprintf("spiffe://%s/ns/%s/sa/%s", o->trust_domain, pod->ns, pod->sa),
		     NULL, 0);
	}
	if (o->names & AGENT_NAME_POD_IP) {
		for (size_t i = 0; i < n_ips; i++) {
			char text[INET6_ADDRSTRLEN];
			inet_ntop(ips[i].len == 4 ? AF_INET : AF_INET6, ips[i].a, text,
			          sizeof(text));
			push(out, AGENT_SAN_IP, util_xstrdup(text), ips[i].a, ips[i].len);
		}
	}
	if (o->names & AGENT_NAME_SERVICE_DNS) {
		for (size_t i = 0; i < o->dns.n; i++)
			if (!has(out, AGENT_SAN_DNS, o->dns.v[i]))
				push(out, AGENT_SAN_DNS, util_xstrdup(o->dns.v[i]), NULL, 0);
	}
	if (o->names & AGENT_NAME_POD_DNS) {
		for (size_t i = 0; i < n_ips; i++) {
			const unsigned char *a = ips[i].a;
			char *name;
			if (ips[i].len == 4) {
				name = util_xasprintf("%u-%u-%u-%u.%s.pod.%s", a[0], a[1], a[2],
				                      a[3], pod->ns, o->cluster_domain);
			} else {
				char text[INET6_ADDRSTRLEN];
				inet_ntop(AF_INET6, a, text, sizeof(text));
				for (char *q = text; *q; q++)
					if (*q == ':')
						*q = '-';
				name = util_xasprintf("%s.%s.pod.%s", text, pod->ns,
				                      o->cluster_domain);
			}
			if (strlen(name) > 253 || has(out, AGENT_SAN_DNS, name))
				free(name);
			else
				push(out, AGENT_SAN_DNS, name, NULL, 0);
		}
	}
	if (out->n == 0) {
		snprintf(err, errlen,
		         "no name to ask for: --names leaves nothing (no POD_IPS for podIP or "
		         "podDNS, no --dns for serviceDNS)");
		goto out;
	}
	for (size_t i = 0; i < out->n; i++) {
		/* A CN longer than 64 bytes is not valid X.509 (ub-common-name). */
		if (out->v[i].type == AGENT_SAN_DNS && strlen(out->v[i].value) <= 64) {
			out->cn = util_xstrdup(out->v[i].value);
			break;
		}
	}
	rc = 0;
out:
	if (rc != 0)
		agent_names_clear(out);
	free(list);
	return rc;
}
