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
 * What a dnsNameRegex may cost, checked before regcomp() sees it.
 *
 * The pattern is compiled as ^(re)$, which anchors it only if re's
 * parentheses balance: glibc takes an unmatched ')' as a literal, so "a)|(b"
 * would otherwise turn into two unanchored branches.
 *
 * glibc's regcomp() builds its whole automaton at once. It copies the
 * repeated part once per count of a repetition ("x+" is "xx*", "x{3,5}"
 * five copies), so stacked repetitions multiply: "a" followed by 25 '+'
 * (found by fuzzing) takes gigabytes. Repeating something that can match
 * the empty string makes its epsilon closures explode: "((a?)?){200}" takes
 * 700 MB. Runs of optional parts cost quadratically: "a{0,1000}" takes
 * 18 MB. Hence, before compiling:
 *  - no stacked repetition operators ("a++", "a*?", "a{2}{3}": undefined in
 *    POSIX, and never what a DNS name pattern means);
 *  - no repetition of a part that can match the empty string ("(a?)+",
 *    "(a*){2}", "(a|)*");
 *  - no back-references (their matching time is exponential);
 *  - at most CFG_RE_MAX_COST elements with every repetition expanded as
 *    glibc expands it, at most CFG_RE_MAX_NEST levels of parentheses, at
 *    most CFG_RE_MAX_LEN bytes.
 * Within these bounds regcomp() takes milliseconds and a few megabytes.
 */
#define CFG_RE_MAX_LEN 1024
#define CFG_RE_MAX_COST 500
#define CFG_RE_MAX_NEST 16

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

/* Up to 6 decimal digits at s; *n counts the digits read. */
static unsigned long long cfg_re_number(const char *s, size_t *n)
{
	unsigned long long v = 0;
	*n = 0;
	while (s[*n] >= '0' && s[*n] <= '9' && *n < 6) {
		v = v * 10 + (unsigned long long)(s[*n] - '0');
		(*n)++;
	}
	return v;
}

/* Parse an interval {m}, {m,}, {m,n} or {,n} (glibc reads "{,n}" as
 * "{0,n}") at re. Returns its length, or 0 when it is not one (glibc then
 * takes '{' as a literal or refuses the pattern). *min is m, *max n, or 0
 * when there is no upper bound. */
static size_t cfg_re_interval(const char *re, unsigned long long *min, unsigned long long *max)
{
	size_t i = 1, digits;
	*min = cfg_re_number(re + i, &digits);
	i += digits;
	*max = *min;
	if (re[i] == ',') {
		i++;
		*max = cfg_re_number(re + i, &digits);
		i += digits;
	} else if (digits == 0) {
		return 0;
	}
	if (re[i] != '}')
		return 0;
	return i + 1;
}

/* One level of parentheses being read. */
struct cfg_re_level {
	unsigned long long total; /* elements at this level so far, every branch */
	unsigned long long last; /* elements of the last atom */
	bool have_last; /* there is an atom a repetition may follow */
	bool last_nullable; /* the last atom can match the empty string */
	bool last_repeated; /* the last atom carries a repetition already */
	bool before_last; /* the branch could match empty before the last atom */
	bool branch; /* the current branch can match empty */
	bool any; /* an earlier branch can match empty */
};

static void cfg_re_open(struct cfg_re_level *l)
{
	memset(l, 0, sizeof(*l));
	l->branch = true;
}

/* An atom of cost elements: a character, a bracket expression, a group
 * (nullable when it can match empty), an anchor (cost 0, nullable). */
static void cfg_re_atom(struct cfg_re_level *l, unsigned long long cost, bool nullable)
{
	l->before_last = l->branch;
	l->branch = l->branch && nullable;
	l->have_last = true;
	l->last = cost;
	l->last_nullable = nullable;
	l->last_repeated = false;
	l->total = cfg_sat_add(l->total, cost);
}

/* A repetition of the last atom into copies copies (as glibc makes them);
 * nullable: the repeated atom can then match empty. Returns 0, or -1 when
 * it is refused. */
static int cfg_re_repeat(struct cfg_re_level *l, unsigned long long copies, bool nullable,
                         const char *re, size_t at, char *why, size_t whylen)
{
	if (l->last_repeated) {
		snprintf(why, whylen,
		         "stacks repetitions ('%c' at offset %zu follows another): write one, "
		         "as in \"a+\" or \"(ab){2,4}\"",
		         re[at], at);
		return -1;
	}
	if (l->last_nullable) {
		snprintf(why, whylen,
		         "repeats something that can match the empty string ('%c' at offset "
		         "%zu), as in \"(a?)+\" or \"(a|)*\": repeat only what cannot be empty",
		         re[at], at);
		return -1;
	}
	if (copies > 1) {
		l->total = cfg_sat_add(l->total, cfg_sat_mul(l->last, copies - 1));
		l->last = cfg_sat_mul(l->last, copies);
	}
	l->last_nullable = nullable;
	l->last_repeated = true;
	l->branch = l->before_last && nullable;
	return 0;
}

/* Returns 0, or -1 with what is wrong with re in why. */
static int cfg_regex_check(const char *re, char *why, size_t whylen)
{
	struct cfg_re_level st[CFG_RE_MAX_NEST + 1];
	size_t d = 0;

	if (strlen(re) > CFG_RE_MAX_LEN) {
		snprintf(why, whylen, "is longer than %d bytes", CFG_RE_MAX_LEN);
		return -1;
	}
	cfg_re_open(&st[0]);
	for (size_t i = 0; re[i] != '\0'; i++) {
		struct cfg_re_level *l = &st[d];
		unsigned long long min, max, cost;
		bool nullable;
		size_t n;
		switch (re[i]) {
		case '\\':
			if (re[i + 1] == '\0') {
				snprintf(why, whylen, "ends with a backslash");
				return -1;
			}
			if (re[i + 1] >= '1' && re[i + 1] <= '9') {
				snprintf(why, whylen,
				         "has a back-reference (\\%c at offset %zu), which is not "
				         "supported",
				         re[i + 1], i);
				return -1;
			}
			i++;
			cfg_re_atom(l, 1, false);
			break;
		case '[':
			n = cfg_re_bracket(re + i);
			if (n == 0) {
				snprintf(why, whylen, "has an unterminated bracket expression");
				return -1;
			}
			i += n - 1;
			cfg_re_atom(l, 1, false);
			break;
		case '(':
			if (d == CFG_RE_MAX_NEST) {
				snprintf(why, whylen, "nests parentheses more than %d deep",
				         CFG_RE_MAX_NEST);
				return -1;
			}
			cfg_re_open(&st[++d]);
			break;
		case ')':
			if (d == 0) {
				snprintf(why, whylen, "has an unmatched ')'");
				return -1;
			}
			cost = l->total ? l->total : 1;
			nullable = l->any || l->branch;
			cfg_re_atom(&st[--d], cost, nullable);
			break;
		case '|':
			l->any = l->any || l->branch;
			l->branch = true;
			l->have_last = false;
			break;
		case '^':
		case '$':
			cfg_re_atom(l, 0, true);
			break;
		case '*':
		case '?':
		case '+':
			/* With nothing to repeat, regcomp() decides (it refuses a
			 * leading '*'). */
			if (!l->have_last) {
				cfg_re_atom(l, 1, false);
				break;
			}
			/* glibc makes "x+" into "xx*". */
			if (cfg_re_repeat(l, re[i] == '+' ? 2 : 1, re[i] != '+', re, i, why,
			                  whylen) != 0)
				return -1;
			break;
		case '{':
			n = cfg_re_interval(re + i, &min, &max);
			if (n == 0 || !l->have_last) {
				cfg_re_atom(l, 1, false);
				break;
			}
			/* glibc copies x{m,n} n times and x{m,} m + 1 times. */
			cost = max == 0 && re[i + n - 2] == ',' ? min + 1 : (max > min ? max : min);
			if (cfg_re_repeat(l, cost ? cost : 1, min == 0, re, i, why, whylen) != 0)
				return -1;
			i += n - 1;
			break;
		default:
			cfg_re_atom(l, 1, false);
			break;
		}
		if (st[d].total > CFG_RE_MAX_COST || st[d].last > CFG_RE_MAX_COST) {
			snprintf(why, whylen,
			         "is too complex: its repetitions expand to more than %d elements",
			         CFG_RE_MAX_COST);
			return -1;
		}
	}
	if (d != 0) {
		snprintf(why, whylen, "has an unmatched '('");
		return -1;
	}
	return 0;
}

int config_regex(struct config_ctx *c, const struct config_ynode *n, const char *path,
                 struct policy_rule *r)
{
	const char *s;
	char why[256];
	regex_t *re = NULL;
	char *wrapped = NULL;
	int rc = -1, e;

	if (config_string(c, n, path, &s) != 0)
		return -1;
	if (*s == '\0')
		return 0; /* none */
	if (cfg_regex_check(s, why, sizeof(why)) != 0) {
		config_error(c, n, path, "invalid regex: %s", why);
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
