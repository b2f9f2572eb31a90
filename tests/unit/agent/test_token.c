/*
 * The pod's identity from its service-account token's claims, and hostile
 * tokens; then the pod and the names built from it.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <string.h>

#include "../../../pkg/agent/agent.h"

/* base64url without padding, as JWTs carry it. */
static void b64url(struct util_buf *b, const char *s, size_t n)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16;
		if (i + 1 < n)
			v |= (unsigned)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		util_buf_putc(b, tab[(v >> 18) & 63]);
		util_buf_putc(b, tab[(v >> 12) & 63]);
		if (i + 1 < n)
			util_buf_putc(b, tab[(v >> 6) & 63]);
		if (i + 2 < n)
			util_buf_putc(b, tab[v & 63]);
	}
}

/* A JWT whose payload is json. Caller frees. */
static char *jwt(const char *json)
{
	struct util_buf b = {0};
	util_buf_puts(&b, "eyJhbGciOiJSUzI1NiIsImtpZCI6IngifQ.");
	b64url(&b, json, strlen(json));
	util_buf_puts(&b, ".c2lnbmF0dXJl");
	return util_buf_take(&b);
}

#define PROJECTED                                                                                  \
	"{\"aud\":[\"https://kubernetes.default.svc\"],\"exp\":1900000000,\"iat\":1800000000,"     \
	"\"iss\":\"https://kubernetes.default.svc\",\"jti\":\"8c0e\","                             \
	"\"kubernetes.io\":{\"namespace\":\"shop\",\"node\":{\"name\":\"node-0\",\"uid\":\"n1\"}," \
	"\"pod\":{\"name\":\"web-0\",\"uid\":\"4f1c-uid\"},"                                       \
	"\"serviceaccount\":{\"name\":\"web\",\"uid\":\"sa-uid\"}},"                               \
	"\"nbf\":1800000000,\"sub\":\"system:serviceaccount:shop:web\"}"

Test(agent_token, projected)
{
	struct agent_claims c;
	char err[256] = "";
	char *t = jwt(PROJECTED);
	cr_assert_eq(agent_token_claims(t, strlen(t), &c, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(c.ns, "shop");
	cr_assert_str_eq(c.sa, "web");
	cr_assert_str_eq(c.pod_name, "web-0");
	cr_assert_str_eq(c.pod_uid, "4f1c-uid");
	agent_claims_clear(&c);
	cr_assert_null(c.ns);
	free(t);
}

Test(agent_token, legacy_secret_token)
{
	struct agent_claims c;
	char err[256] = "";
	char *t = jwt("{\"iss\":\"kubernetes/serviceaccount\","
	              "\"kubernetes.io/serviceaccount/namespace\":\"shop\","
	              "\"kubernetes.io/serviceaccount/secret.name\":\"web-token\","
	              "\"kubernetes.io/serviceaccount/service-account.name\":\"web\","
	              "\"sub\":\"system:serviceaccount:shop:web\"}");
	cr_assert_eq(agent_token_claims(t, strlen(t), &c, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(c.ns, "shop");
	cr_assert_str_eq(c.sa, "web");
	cr_assert_null(c.pod_name);
	agent_claims_clear(&c);
	free(t);
}

Test(agent_token, sub_only_and_file_newline)
{
	struct agent_claims c;
	char err[256] = "";
	char *t = jwt("{\"sub\":\"system:serviceaccount:a-b:sa.x\"}");
	char *nl = util_xasprintf("%s\n", t);
	cr_assert_eq(agent_token_claims(nl, strlen(nl), &c, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(c.ns, "a-b");
	cr_assert_str_eq(c.sa, "sa.x");
	agent_claims_clear(&c);
	free(nl);
	free(t);
}

Test(agent_token, padded_payload_accepted)
{
	struct agent_claims c;
	char err[256] = "";
	/* {"sub":"system:serviceaccount:ns:s"} is 36 bytes: base64 needs no
	 * padding; add a byte to force it. */
	const char *json = "{\"sub\":\"system:serviceaccount:ns:sa\"}";
	struct util_buf b = {0};
	util_buf_puts(&b, "e30.");
	b64url(&b, json, strlen(json));
	while ((b.len - 4) % 4 != 0)
		util_buf_putc(&b, '=');
	util_buf_puts(&b, ".x");
	cr_assert_eq(agent_token_claims(b.data, b.len, &c, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(c.sa, "sa");
	agent_claims_clear(&c);
	util_buf_reset(&b);
}

struct bad_token {
	char payload[400]; /* JSON, or "" to use raw */
	char raw[120]; /* a whole token when payload is "" */
	char want[64]; /* substring of the message */
};

static struct bad_token bad_tokens[] = {
    {"", "abc", "three dot-separated"},
    {"", "a.b", "three dot-separated"},
    {"", "a.b.c.d", "three dot-separated"},
    {"", "a.!!!.c", "base64url"},
    {"", "a.YQ.c", "not a JSON object"},
    {"", "a.A.c", "base64url"},
    {"", "a.eyJ9+.c", "base64url"},
    {"[1,2]", "", "not a JSON object"},
    {"{\"sub\":\"system:serviceaccount:a:b\",\"sub\":\"x\"}", "", "not a JSON object"},
    {"{\"sub\":\"alice\"}", "", "not a service-account token"},
    {"{\"sub\":\"system:serviceaccount:a:b:c\"}", "", "sub is not"},
    {"{\"sub\":\"system:serviceaccount:ab\"}", "", "sub is not"},
    {"{\"sub\":7}", "", "sub is not a string"},
    {"{\"iss\":\"x\"}", "", "no namespace"},
    {"{\"kubernetes.io\":\"shop\"}", "", "not an object"},
    {"{\"kubernetes.io\":{\"namespace\":7,\"serviceaccount\":{\"name\":\"a\"}}}", "",
     "not a string"},
    {"{\"kubernetes.io\":{\"namespace\":\"a\",\"serviceaccount\":[]}}", "", "not an object"},
    {"{\"kubernetes.io\":{\"namespace\":\"a\",\"serviceaccount\":{\"name\":\"b\"},"
     "\"pod\":{\"name\":\"p\"}}}",
     "", "lacks its name or uid"},
    {"{\"kubernetes.io\":{\"namespace\":\"Shop\",\"serviceaccount\":{\"name\":\"b\"}}}", "",
     "not a DNS label"},
    {"{\"kubernetes.io\":{\"namespace\":\"a.b\",\"serviceaccount\":{\"name\":\"b\"}}}", "",
     "not a DNS label"},
    {"{\"kubernetes.io\":{\"namespace\":\"a\",\"serviceaccount\":{\"name\":\"b/c\"}}}", "",
     "not a DNS subdomain"},
    {"{\"kubernetes.io\":{\"namespace\":\"a\",\"serviceaccount\":{\"name\":\"-b\"}}}", "",
     "not a DNS subdomain"},
    {"{\"kubernetes.io\":{\"namespace\":\"a\",\"serviceaccount\":{\"name\":\"b\"},"
     "\"pod\":{\"name\":\"p/../x\",\"uid\":\"u\"}}}",
     "", "pod name"},
    {"{\"kubernetes.io\":{\"namespace\":\"a\",\"serviceaccount\":{\"name\":\"b\"},"
     "\"pod\":{\"name\":\"p\",\"uid\":\"u u\"}}}",
     "", "pod uid"},
    {"{\"kubernetes.io\":{\"namespace\":\"a\\u0000b\",\"serviceaccount\":{\"name\":\"b\"}}}", "",
     "not a JSON object"},
    {"{\"kubernetes.io\":{\"namespace\":\"a\",\"serviceaccount\":{\"name\":\"b\"}},"
     "\"sub\":\"system:serviceaccount:other:b\"}",
     "", "another service account"},
    {"{\"kubernetes.io/serviceaccount/namespace\":\"a\","
     "\"kubernetes.io\":{\"namespace\":\"b\",\"serviceaccount\":{\"name\":\"c\"}}}",
     "", "disagree"},
    {"{\"sub\":\"system:serviceaccount::b\"}", "", "not a DNS label"},
};

ParameterizedTestParameters(agent_token, hostile)
{
	return cr_make_param_array(struct bad_token, bad_tokens,
	                           sizeof(bad_tokens) / sizeof(bad_tokens[0]));
}

ParameterizedTest(struct bad_token *tc, agent_token, hostile)
{
	struct agent_claims c;
	char err[256] = "";
	char *t = tc->payload[0] ? jwt(tc->payload) : util_xstrdup(tc->raw);
	cr_assert_eq(agent_token_claims(t, strlen(t), &c, err, sizeof(err)), -1, "accepted %s",
	             tc->payload[0] ? tc->payload : tc->raw);
	cr_assert_not_null(strstr(err, tc->want), "message \"%s\" lacks \"%s\"", err, tc->want);
	cr_assert_null(c.ns);
	cr_assert_null(c.sa);
	free(t);
}

/* No message quotes the token or its claims. */
Test(agent_token, errors_never_quote_the_token)
{
	struct agent_claims c;
	char err[256] = "";
	char *t = jwt("{\"sub\":\"system:serviceaccount:SECRETNS:b\"}");
	cr_assert_eq(agent_token_claims(t, strlen(t), &c, err, sizeof(err)), -1);
	cr_assert_null(strstr(err, "SECRETNS"), "%s", err);
	cr_assert_null(strstr(err, "eyJ"), "%s", err);
	free(t);
}

Test(agent_token, oversized)
{
	struct agent_claims c;
	char err[256] = "";
	size_t n = AGENT_MAX_TOKEN + 1;
	char *t = util_xmalloc(n);
	memset(t, 'a', n);
	t[10] = '.';
	t[20] = '.';
	cr_assert_eq(agent_token_claims(t, n, &c, err, sizeof(err)), -1);
	cr_assert_not_null(strstr(err, "64 KiB"), "%s", err);
	free(t);
}

/* ---------------------------------------------------------------- the pod */

Test(agent_pod, token_wins_and_must_agree)
{
	struct agent_claims c = {.ns = "shop", .sa = "web", .pod_name = "web-0", .pod_uid = "u"};
	struct agent_pod p;
	char err[256] = "";

	cr_assert_eq(agent_pod_resolve(&c, NULL, NULL, &p, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(p.ns, "shop");
	cr_assert_str_eq(p.sa, "web");
	cr_assert_str_eq(p.name, "web-0");
	agent_pod_clear(&p);
	cr_assert_eq(agent_pod_resolve(&c, "web-0", "shop", &p, err, sizeof(err)), 0, "%s", err);
	agent_pod_clear(&p);
	cr_assert_eq(agent_pod_resolve(&c, "web-1", "shop", &p, err, sizeof(err)), -1);
	cr_assert_str_eq(
	    err, "POD_NAME is \"web-1\" but the service-account token is bound to pod \"web-0\"");
	cr_assert_null(p.ns);
	cr_assert_eq(agent_pod_resolve(&c, "web-0", "other", &p, err, sizeof(err)), -1);
	cr_assert_not_null(strstr(err, "POD_NAMESPACE is \"other\""), "%s", err);
}

Test(agent_pod, without_token)
{
	struct agent_pod p;
	char err[256] = "";
	cr_assert_eq(agent_pod_resolve(NULL, "web-0", "shop", &p, err, sizeof(err)), 0);
	cr_assert_str_eq(p.ns, "shop");
	cr_assert_null(p.sa);
	cr_assert_str_eq(p.name, "web-0");
	agent_pod_clear(&p);
	cr_assert_eq(agent_pod_resolve(NULL, "web-0", "", &p, err, sizeof(err)), -1);
	cr_assert_not_null(strstr(err, "POD_NAMESPACE"), "%s", err);
	/* A token not bound to a pod: POD_NAME is the only name. */
	struct agent_claims c = {.ns = "shop", .sa = "web"};
	cr_assert_eq(agent_pod_resolve(&c, "web-3", NULL, &p, err, sizeof(err)), 0);
	cr_assert_str_eq(p.name, "web-3");
	agent_pod_clear(&p);
}

/* ---------------------------------------------------------------- names */

static struct agent_pod shop_pod(void)
{
	struct agent_pod p = {util_xstrdup("shop"), util_xstrdup("web"), util_xstrdup("web-0")};
	return p;
}

static char *join(const struct agent_names *n)
{
	struct util_buf b = {0};
	util_buf_append(&b, "", 0);
	for (size_t i = 0; i < n->n; i++)
		util_buf_printf(&b, "%s%d:%s", i ? " " : "", (int)n->v[i].type, n->v[i].value);
	return util_buf_take(&b);
}

Test(agent_names, default_kinds_in_order)
{
	struct agent_options o;
	struct agent_pod p = shop_pod();
	struct agent_names n;
	char err[256] = "";
	agent_options_init(&o);
	util_strv_push(&o.dns, "web.shop.svc");
	cr_assert_eq(agent_names_build(&p, "10.1.2.3,fd00::a:1", &o, &n, err, sizeof(err)), 0, "%s",
	             err);
	char *s = join(&n);
	cr_assert_str_eq(s,
	                 "0:spiffe://cluster.local/ns/shop/sa/web 1:10.1.2.3 1:fd00::a:1 "
	                 "2:web.shop.svc 2:10-1-2-3.shop.pod.cluster.local "
	                 "2:fd00--a-1.shop.pod.cluster.local");
	cr_assert_str_eq(n.cn, "web.shop.svc");
	cr_assert_eq(n.v[1].ip_len, 4);
	cr_assert_eq(n.v[1].ip[3], 3);
	cr_assert_eq(n.v[2].ip_len, 16);
	free(s);
	agent_names_clear(&n);
	agent_pod_clear(&p);
	agent_options_clear(&o);
}

Test(agent_names, domains_and_selection)
{
	struct agent_options o;
	struct agent_pod p = shop_pod();
	struct agent_names n;
	char err[256] = "";
	agent_options_init(&o);
	o.trust_domain = "example.org";
	o.cluster_domain = "k8s.example";
	o.names = AGENT_NAME_SPIFFE | AGENT_NAME_POD_DNS;
	cr_assert_eq(agent_names_build(&p, "10.1.2.3,10.1.2.3", &o, &n, err, sizeof(err)), 0, "%s",
	             err);
	char *s = join(&n);
	cr_assert_str_eq(s,
	                 "0:spiffe://example.org/ns/shop/sa/web 2:10-1-2-3.shop.pod.k8s.example");
	cr_assert_str_eq(n.cn, "10-1-2-3.shop.pod.k8s.example");
	free(s);
	agent_names_clear(&n);

	o.names = AGENT_NAME_SPIFFE;
	cr_assert_eq(agent_names_build(&p, "10.1.2.3", &o, &n, err, sizeof(err)), 0);
	cr_assert_eq(n.n, 1);
	cr_assert_null(n.cn);
	agent_names_clear(&n);
	agent_pod_clear(&p);
	agent_options_clear(&o);
}

struct bad_names {
	unsigned names;
	bool no_sa;
	char ips[64];
	char want[64];
};

static struct bad_names bad_name_cases[] = {
    {AGENT_NAME_POD_IP, false, "10.1.2", "is not an IP address"},
    {AGENT_NAME_POD_IP, false, "10.1.2.3,", "is not an IP address"},
    {AGENT_NAME_POD_IP, false, "127.0.0.1", "loopback"},
    {AGENT_NAME_POD_IP, false, "169.254.0.9", "loopback"},
    {AGENT_NAME_POD_IP, false, "::1", "loopback"},
    {AGENT_NAME_POD_IP, false, "::ffff:10.0.0.1", "loopback"},
    {AGENT_NAME_POD_IP, false, "224.0.0.1", "loopback"},
    {AGENT_NAME_SPIFFE, true, "", "service account"},
    {AGENT_NAME_POD_IP | AGENT_NAME_POD_DNS, false, "", "no name to ask for"},
    {AGENT_NAME_SERVICE_DNS, false, "10.0.0.1", "no name to ask for"},
};

ParameterizedTestParameters(agent_names, refused)
{
	return cr_make_param_array(struct bad_names, bad_name_cases,
	                           sizeof(bad_name_cases) / sizeof(bad_name_cases[0]));
}

ParameterizedTest(struct bad_names *tc, agent_names, refused)
{
	struct agent_options o;
	struct agent_pod p = shop_pod();
	struct agent_names n;
	char err[256] = "";
	agent_options_init(&o);
	o.names = tc->names;
	if (tc->no_sa) {
		free(p.sa);
		p.sa = NULL;
	}
	cr_assert_eq(agent_names_build(&p, tc->ips, &o, &n, err, sizeof(err)), -1, "%s accepted",
	             tc->ips);
	cr_assert_not_null(strstr(err, tc->want), "message \"%s\" lacks \"%s\"", err, tc->want);
	cr_assert_eq(n.n, 0);
	agent_pod_clear(&p);
	agent_options_clear(&o);
}
