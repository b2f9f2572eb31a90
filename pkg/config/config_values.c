/*
 * config: the syntax of single values in the policy file: DNS names, signer
 * names, policy names, trust domains, CIDRs and dnsNameRegex. glibc's
 * regcomp() builds its automaton eagerly and its size grows with every
 * repetition of a repetition, so what a pattern may cost is bounded before
 * regcomp() sees it.
 */
#include <arpa/inet.h>
#include <regex.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/util.h"
#include "config.h"
#include "config_internal.h"

/* ---- names ---- */

static bool cfg_is_label(const char *s, size_t n, size_t max)
{
	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
		if (!alnum && !(ch == '-' && i > 0 && i + 1 < n))
			return false;
	}
	return true;
}

/* Labels of at most label_max bytes separated by dots, at most 253 bytes in
 * all; *n_labels counts them. */
static bool cfg_is_dotted(const char *s, size_t label_max, size_t *n_labels)
{
	size_t len = strlen(s);
	*n_labels = 0;
	if (len == 0 || len > 253)
		return false;
	for (;;) {
		const char *dot = strchr(s, '.');
		size_t n = dot ? (size_t)(dot - s) : strlen(s);
		if (!cfg_is_label(s, n, label_max))
			return false;
		(*n_labels)++;
		if (dot == NULL)
			return true;
		s = dot + 1;
	}
}

/* A DNS-1123 subdomain, the form Kubernetes uses for names. */
bool config_is_dns_name(const char *s)
{
	size_t n;
	return cfg_is_dotted(s, 63, &n);
}

/* A signer name as Kubernetes validates it (ValidateSignerName): a domain
 * of at least two DNS labels, one '/', a path of dot-separated DNS-1123
 * names; at most 571 bytes. */
const char *config_signer_problem(const char *s)
{
	const char *slash = strchr(s, '/');
	size_t n;
	if (slash == NULL || strchr(slash + 1, '/') != NULL)
		return "must be a fully qualified domain and path of the form 'example.com/signer-name'";
	if (strlen(s) > 253 + 253 + 63 + 1 + 1)
		return "is longer than 571 bytes";
	char *domain = util_xstrndup(s, (size_t)(slash - s));
	bool ok = cfg_is_dotted(domain, 63, &n);
	free(domain);
	if (!ok)
		return "the domain must be lowercase DNS labels separated by dots";
	if (n < 2)
		return "the domain must have at least two labels separated by dots";
	const char *path = slash + 1;
	if (*path == '\0')
		return "the path after '/' must not be empty";
	for (;;) {
		const char *dot = strchr(path, '.');
		size_t len = dot ? (size_t)(dot - path) : strlen(path);
		if (!cfg_is_label(path, len, 253))
			return "the path must be lowercase letters, digits, '-' and '.', each part starting and ending with a letter or digit";
		if (dot == NULL)
			break;
		path = dot + 1;
	}
	return NULL;
}

bool config_is_policy_name(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 63)
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

/* A SPIFFE trust domain: lowercase letters, digits, '.', '-', '_'. */
bool config_is_trust_domain(const char *s)
{
	size_t n = strlen(s);
	return n > 0 && n <= 255 && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789.-_") == n;
}

/* ---- CIDRs ---- */

int config_prefix(struct config_ctx *c, const struct config_ynode *n, const char *path,
                      struct policy_prefix *p)
{
	const char *s;
	char addr[64];
	char d[128];
	const char *slash;
	int af, max, bits = 0;

	if (config_string(c, n, path, &s) != 0)
		return -1;
	config_ydescribe(n, d, sizeof(d));
	slash = strchr(s, '/');
	if (slash == NULL || (size_t)(slash - s) >= sizeof(addr)) {
		config_error(c, n, path, "expected a CIDR such as 10.0.0.0/8 or fd00::/8, got %s",
		             d);
		return -1;
	}
	memcpy(addr, s, (size_t)(slash - s));
	addr[slash - s] = '\0';
	af = strchr(addr, ':') ? AF_INET6 : AF_INET;
	max = af == AF_INET6 ? 128 : 32;
	memset(p, 0, sizeof(*p));
	p->len = af == AF_INET6 ? 16 : 4;
	if (inet_pton(af, addr, p->addr) != 1) {
		config_error(c, n, path, "invalid CIDR %s: bad address", d);
		return -1;
	}
	const char *b = slash + 1;
	size_t nd = strspn(b, "0123456789");
	if (nd == 0 || nd > 3 || b[nd] != '\0' || (b[0] == '0' && nd > 1)) {
		config_error(c, n, path, "invalid CIDR %s: bad prefix length", d);
		return -1;
	}
	for (size_t i = 0; i < nd; i++)
		bits = bits * 10 + (b[i] - '0');
	if (bits > max) {
		config_error(c, n, path, "invalid CIDR %s: prefix length above %d", d, max);
		return -1;
	}
	p->bits = bits;
	unsigned char net[16];
	bool host = false;
	for (size_t i = 0; i < p->len; i++) {
		int keep = bits - (int)i * 8;
		unsigned char mask = keep >= 8 ? 0xff
		    : keep <= 0                ? 0
		                               : (unsigned char)(0xff << (8 - keep));
		net[i] = p->addr[i] & mask;
		host |= net[i] != p->addr[i];
	}
	if (host) {
		char text[INET6_ADDRSTRLEN];
		inet_ntop(af, net, text, sizeof(text));
		config_error(c, n, path,
		             "invalid CIDR %s: host bits are set (the network is %s/%d)", d, text,
		             bits);
		return -1;
	}
	return 0;
}

/* ---- dnsNameRegex ---- */

/*
 * A regex compiled as ^(re)$ is anchored only if re's parentheses balance:
 * glibc takes an unmatched ')' as a literal, so "a)|(b" would otherwise
 * turn into two unanchored branches. The same walk bounds the size of the
 * compiled pattern, which bounded repetitions multiply ((a{100}){100}...).
 */
#define CFG_RE_MAX_LEN 1024
#define CFG_RE_MAX_COST 10000
#define CFG_RE_MAX_NEST 32

static unsigned long long cfg_sat_add(unsigned long long a, unsigned long long b)
{
	unsigned long long s = a + b;
	return s < a || s > CFG_RE_MAX_COST + 1 ? CFG_RE_MAX_COST + 1 : s;
}

static unsigned long long cfg_sat_mul(unsigned long long a, unsigned long long b)
{
	if (a != 0 && b > (CFG_RE_MAX_COST + 1) / a)
		return CFG_RE_MAX_COST + 1;
	return a * b;
}

/* The length of the bracket expression starting at re[0] == '[', or 0 when
 * it does not end. */
static size_t cfg_re_bracket(const char *re)
{
	size_t j = 1;
	if (re[j] == '^')
		j++;
	if (re[j] == ']')
		j++;
	while (re[j] != '\0' && re[j] != ']') {
		if (re[j] == '[' && (re[j + 1] == ':' || re[j + 1] == '.' || re[j + 1] == '=')) {
			char close = re[j + 1];
			j += 2;
			while (re[j] != '\0' && !(re[j] == close && re[j + 1] == ']'))
				j++;
			if (re[j] == '\0')
				return 0;
			j += 2;
		} else {
			j++;
		}
	}
	return re[j] == ']' ? j + 1 : 0;
}

/* Parse an interval {m}, {m,} or {m,n} at re; returns its length (0 if it
 * is not one) and its largest count in *max. */
static size_t cfg_re_interval(const char *re, unsigned long long *max)
{
	unsigned long long m = 0, n = 0;
	size_t i = 1, digits = 0;
	while (re[i] >= '0' && re[i] <= '9' && digits < 6) {
		m = m * 10 + (unsigned long long)(re[i++] - '0');
		digits++;
	}
	if (digits == 0)
		return 0;
	n = m;
	if (re[i] == ',') {
		i++;
		digits = 0;
		n = 0;
		while (re[i] >= '0' && re[i] <= '9' && digits < 6) {
			n = n * 10 + (unsigned long long)(re[i++] - '0');
			digits++;
		}
		if (digits == 0)
			n = m + 1;
	}
	if (re[i] != '}')
		return 0;
	*max = n > m ? n : m;
	return i + 1;
}

static const char *cfg_regex_problem(const char *re)
{
	struct {
		unsigned long long total, last;
	} st[CFG_RE_MAX_NEST + 1];
	size_t d = 0;

	if (strlen(re) > CFG_RE_MAX_LEN)
		return "is longer than 1024 bytes";
	st[0].total = st[0].last = 0;
	for (size_t i = 0; re[i] != '\0'; i++) {
		char ch = re[i];
		unsigned long long max;
		size_t n;
		switch (ch) {
		case '\\':
			if (re[i + 1] == '\0')
				return "ends with a backslash";
			i++;
			st[d].last = 1;
			st[d].total = cfg_sat_add(st[d].total, 1);
			break;
		case '[':
			n = cfg_re_bracket(re + i);
			if (n == 0)
				return "has an unterminated bracket expression";
			i += n - 1;
			st[d].last = 1;
			st[d].total = cfg_sat_add(st[d].total, 1);
			break;
		case '(':
			if (d == CFG_RE_MAX_NEST)
				return "nests parentheses too deeply";
			d++;
			st[d].total = st[d].last = 0;
			break;
		case ')':
			if (d == 0)
				return "has an unmatched ')'";
			max = st[d].total ? st[d].total : 1;
			d--;
			st[d].last = max;
			st[d].total = cfg_sat_add(st[d].total, max);
			break;
		case '|':
			st[d].last = 0;
			break;
		case '+':
			st[d].total = cfg_sat_add(st[d].total, st[d].last);
			break;
		case '{':
			n = cfg_re_interval(re + i, &max);
			if (n == 0) {
				st[d].last = 1;
				st[d].total = cfg_sat_add(st[d].total, 1);
				break;
			}
			i += n - 1;
			if (max > 1)
				st[d].total =
				    cfg_sat_add(st[d].total, cfg_sat_mul(st[d].last, max - 1));
			st[d].last = cfg_sat_mul(st[d].last, max ? max : 1);
			break;
		case '*':
		case '?':
		case '^':
		case '$':
			break;
		default:
			st[d].last = 1;
			st[d].total = cfg_sat_add(st[d].total, 1);
			break;
		}
		if (st[d].total > CFG_RE_MAX_COST || st[d].last > CFG_RE_MAX_COST)
			return "is too complex (repetitions expand beyond 10000 elements)";
	}
	if (d != 0)
		return "has an unmatched '('";
	return NULL;
}

int config_regex(struct config_ctx *c, const struct config_ynode *n, const char *path, struct policy_rule *r)
{
	const char *s, *problem;
	regex_t *re = NULL;
	char *wrapped = NULL;
	int rc = -1, e;

	if (config_string(c, n, path, &s) != 0)
		return -1;
	if (*s == '\0')
		return 0; /* none */
	if ((problem = cfg_regex_problem(s)) != NULL) {
		config_error(c, n, path, "invalid regex: %s", problem);
		goto out;
	}
	/* DNS names compare case-insensitively: so does the regex. */
	wrapped = util_xasprintf("^(%s)$", s);
	re = util_xmalloc(sizeof(*re));
	e = regcomp(re, wrapped, REG_EXTENDED | REG_NOSUB | REG_ICASE);
	if (e != 0) {
		char msg[128];
		regerror(e, re, msg, sizeof(msg));
		config_error(c, n, path, "invalid regex: %s", msg);
		free(re);
		re = NULL;
		goto out;
	}
	free(r->dns_name_regex);
	r->dns_name_regex = util_xstrdup(s);
	r->dns_name_re = re;
	re = NULL;
	rc = 0;
out:
	free(wrapped);
	return rc;
}
