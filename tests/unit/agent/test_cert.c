/*
 * The request the agent builds (parsed back with pkg/csr, as the approver
 * reads it), the checks of an issued certificate, and the renewal schedule.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <string.h>
#include <time.h>

#include "../../../pkg/agent/agent.h"
#include "../../../pkg/agent/internal.h"
#include "../../../pkg/csr/csr.h"
#include "pki.h"

/* spiffe, two IPs, two DNS names: every kind the agent asks for. */
static void some_names(struct agent_names *n)
{
	struct agent_options o;
	struct agent_pod p = {util_xstrdup("shop"), util_xstrdup("web"), util_xstrdup("web-0")};
	char err[256] = "";
	agent_options_init(&o);
	util_strv_push(&o.dns, "web.shop.svc");
	cr_assert_eq(agent_names_build(&p, "10.1.2.3,fd00::7", &o, n, err, sizeof(err)), 0, "%s",
	             err);
	agent_options_clear(&o);
	agent_pod_clear(&p);
}

struct key_case {
	enum agent_key_type type;
	enum csr_key_type want;
	int bits;
	char curve[16];
	enum csr_hash hash;
};

static struct key_case key_cases[] = {
    {AGENT_KEY_ECDSA_P256, CSR_KEY_EC, 256, "prime256v1", CSR_HASH_SHA256},
    {AGENT_KEY_ECDSA_P384, CSR_KEY_EC, 384, "secp384r1", CSR_HASH_SHA384},
    {AGENT_KEY_ED25519, CSR_KEY_ED25519, 0, "", CSR_HASH_NONE},
    {AGENT_KEY_RSA_2048, CSR_KEY_RSA, 2048, "", CSR_HASH_SHA256},
    {AGENT_KEY_RSA_3072, CSR_KEY_RSA, 3072, "", CSR_HASH_SHA256},
    {AGENT_KEY_RSA_4096, CSR_KEY_RSA, 4096, "", CSR_HASH_SHA256},
};

ParameterizedTestParameters(agent_request, key_types)
{
	return cr_make_param_array(struct key_case, key_cases,
	                           sizeof(key_cases) / sizeof(key_cases[0]));
}

ParameterizedTest(struct key_case *tc, agent_request, key_types)
{
	struct agent_names n;
	struct csr_info *info = NULL;
	char err[256] = "";
	size_t len = 0;

	some_names(&n);
	struct agent_key *k = agent_key_new(tc->type, err, sizeof(err));
	cr_assert_not_null(k, "%s", err);
	cr_assert_eq(agent_key_type(k), tc->type);
	char *pem = agent_csr_build(k, &n, &len, err, sizeof(err));
	cr_assert_not_null(pem, "%s", err);
	cr_assert_eq(strlen(pem), len);
	cr_assert_eq(csr_parse(pem, len, &info, err, sizeof(err)), 0, "%s", err);

	cr_assert_eq(info->version, 0);
	cr_assert_eq(info->key.type, tc->want);
	if (tc->bits)
		cr_assert_eq(info->key.bits, tc->bits);
	if (tc->want == CSR_KEY_RSA)
		cr_assert(info->key.rsa_e_65537);
	if (tc->curve[0])
		cr_assert_str_eq(info->key.ec_curve, tc->curve);
	cr_assert(info->sig.verified, "self-signature");
	cr_assert(info->sig.matches_key);
	cr_assert(info->sig.params_ok);
	cr_assert_eq(info->sig.hash, tc->hash);
	/* Subject: CN only, the first DNS name, UTF8String. */
	cr_assert_eq(info->n_subject, 1);
	cr_assert_eq(info->subject[0].kind, CSR_ATTR_CN);
	cr_assert_str_eq(info->subject[0].value, "web.shop.svc");
	cr_assert_eq(info->subject[0].str_type, CSR_STR_UTF8);
	/* One extensionRequest, holding the SAN extension only, not critical. */
	cr_assert_eq(info->n_attrs, 1);
	cr_assert(info->attrs[0].is_extension_request);
	cr_assert_eq(info->n_exts, 1);
	cr_assert_eq(info->exts[0].kind, CSR_EXT_SAN);
	cr_assert_not(info->exts[0].critical);
	/* The SANs, in the agent's order. */
	cr_assert_eq(info->n_sans, n.n);
	for (size_t i = 0; i < n.n; i++) {
		enum csr_san_type want = n.v[i].type == AGENT_SAN_URI ? CSR_SAN_URI
		    : n.v[i].type == AGENT_SAN_IP                     ? CSR_SAN_IP
		                                                      : CSR_SAN_DNS;
		cr_assert_eq(info->sans[i].type, want, "SAN %zu", i);
		cr_assert_str_eq(info->sans[i].value, n.v[i].value, "SAN %zu", i);
	}
	csr_info_free(info);
	free(pem);

	/* The key in PEM is PKCS#8, and goes away wiped. */
	size_t klen = 0;
	char *kpem = agent_key_pem(k, &klen);
	cr_assert_eq(strlen(kpem), klen);
	cr_assert(util_has_prefix(kpem, "-----BEGIN PRIVATE KEY-----\n"), "%.40s", kpem);
	agent_secret_free(kpem, klen);
	agent_key_free(k);
	agent_names_clear(&n);
}

Test(agent_request, spiffe_only_has_empty_subject)
{
	struct agent_names n = {0};
	struct csr_info *info = NULL;
	char err[256] = "";
	size_t len = 0;
	n.v = util_xcalloc(1, sizeof(*n.v));
	n.n = 1;
	n.v[0].type = AGENT_SAN_URI;
	n.v[0].value = util_xstrdup("spiffe://cluster.local/ns/a/sa/b");
	struct agent_key *k = agent_key_new(AGENT_KEY_ECDSA_P256, err, sizeof(err));
	char *pem = agent_csr_build(k, &n, &len, err, sizeof(err));
	cr_assert_not_null(pem, "%s", err);
	cr_assert_eq(csr_parse(pem, len, &info, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(info->n_subject, 0);
	cr_assert_eq(info->n_sans, 1);
	cr_assert_str_eq(info->sans[0].value, "spiffe://cluster.local/ns/a/sa/b");
	csr_info_free(info);
	free(pem);
	agent_key_free(k);
	agent_names_clear(&n);
}

Test(agent_request, keys_differ)
{
	char err[256];
	struct agent_key *a = agent_key_new(AGENT_KEY_ED25519, err, sizeof(err));
	struct agent_key *b = agent_key_new(AGENT_KEY_ED25519, err, sizeof(err));
	size_t la, lb;
	char *pa = agent_key_pem(a, &la), *pb = agent_key_pem(b, &lb);
	cr_assert(la != lb || memcmp(pa, pb, la) != 0);
	agent_secret_free(pa, la);
	agent_secret_free(pb, lb);
	agent_key_free(a);
	agent_key_free(b);
	agent_key_free(NULL);
	agent_secret_free(NULL, 0);
}

/* ---------------------------------------------------------------- checks */

#define GOOD_SANS                                                                                  \
	"URI:spiffe://cluster.local/ns/shop/sa/web,IP:10.1.2.3,IP:fd00::7,DNS:web.shop.svc,DNS:10-1-2-3.shop.pod.cluster.local,DNS:fd00--7.shop.pod.cluster.local"

struct fixture {
	struct test_ca ca;
	struct agent_key *key;
	struct agent_names names;
	char err[512];
};

static void fx_init(struct fixture *f)
{
	memset(f, 0, sizeof(*f));
	test_ca_make(&f->ca, "test CA", NULL);
	f->key = agent_key_new(AGENT_KEY_ECDSA_P256, f->err, sizeof(f->err));
	some_names(&f->names);
}

static void fx_free(struct fixture *f)
{
	agent_names_clear(&f->names);
	agent_key_free(f->key);
	test_ca_free(&f->ca);
}

static int check(struct fixture *f, const char *pem, struct agent_cert_times *t)
{
	f->err[0] = '\0';
	return agent_cert_check(pem, strlen(pem), f->key, &f->names, (int64_t)time(NULL), t, f->err,
	                        sizeof(f->err));
}

Test(agent_cert, good)
{
	struct fixture f;
	struct agent_cert_times t;
	fx_init(&f);
	char *pem = test_issue(&f.ca, agent_key_pkey(f.key), GOOD_SANS, -300, 3600);
	cr_assert_eq(check(&f, pem, &t), 0, "%s", f.err);
	int64_t now = (int64_t)time(NULL);
	cr_assert(t.not_before >= now - 302 && t.not_before <= now - 298, "%lld",
	          (long long)t.not_before);
	cr_assert(t.not_after >= now + 3598 && t.not_after <= now + 3602);
	/* DNS names compare without case; the order is free. */
	free(pem);
	pem = test_issue(&f.ca, agent_key_pkey(f.key),
	                 "DNS:FD00--7.shop.pod.cluster.local,DNS:Web.Shop.Svc,IP:fd00::7,"
	                 "DNS:10-1-2-3.shop.pod.cluster.local,IP:10.1.2.3,"
	                 "URI:spiffe://cluster.local/ns/shop/sa/web",
	                 0, 60);
	cr_assert_eq(check(&f, pem, &t), 0, "%s", f.err);
	char *ca = test_cert_pem(f.ca.cert);
	cr_assert_eq(agent_cert_verify_chain(pem, strlen(pem), ca, strlen(ca), (int64_t)time(NULL),
	                                     f.err, sizeof(f.err)),
	             0, "%s", f.err);
	free(ca);
	free(pem);
	fx_free(&f);
}

struct bad_cert {
	char sans[400];
	int64_t nb, na;
	bool other_key;
	char want[80];
};

static struct bad_cert bad_certs[] = {
    {GOOD_SANS, 0, 3600, true, "not for this agent's key"},
    {"URI:spiffe://cluster.local/ns/shop/sa/web,IP:10.1.2.3,IP:fd00::7,DNS:web.shop.svc,"
     "DNS:10-1-2-3.shop.pod.cluster.local",
     0, 3600, false, "lacks the name DNS:fd00--7.shop.pod.cluster.local"},
    {GOOD_SANS ",DNS:db.shop.svc", 0, 3600, false, "not asked for (SAN 7)"},
    {GOOD_SANS ",email:a@b.c", 0, 3600, false, "not asked for"},
    {"URI:spiffe://cluster.local/ns/shop/sa/WEB,IP:10.1.2.3,IP:fd00::7,DNS:web.shop.svc,"
     "DNS:10-1-2-3.shop.pod.cluster.local,DNS:fd00--7.shop.pod.cluster.local",
     0, 3600, false, "not asked for (SAN 1)"},
    {"", 0, 3600, false, "lacks the name URI:spiffe"},
    {GOOD_SANS, -7200, -60, false, "already expired"},
    {GOOD_SANS, 3600, 7200, false, "not valid yet"},
};

ParameterizedTestParameters(agent_cert, refused)
{
	return cr_make_param_array(struct bad_cert, bad_certs,
	                           sizeof(bad_certs) / sizeof(bad_certs[0]));
}

ParameterizedTest(struct bad_cert *tc, agent_cert, refused)
{
	struct fixture f;
	struct agent_cert_times t;
	char err[64];
	fx_init(&f);
	struct agent_key *other = agent_key_new(AGENT_KEY_ECDSA_P256, err, sizeof(err));
	char *pem = test_issue(&f.ca, agent_key_pkey(tc->other_key ? other : f.key),
	                       tc->sans[0] ? tc->sans : NULL, tc->nb, tc->na);
	cr_assert_eq(check(&f, pem, &t), -1, "accepted %s", tc->sans);
	cr_assert_not_null(strstr(f.err, tc->want), "message \"%s\" lacks \"%s\"", f.err, tc->want);
	free(pem);
	agent_key_free(other);
	fx_free(&f);
}

Test(agent_cert, not_pem_certificates)
{
	struct fixture f;
	struct agent_cert_times t;
	fx_init(&f);
	cr_assert_eq(check(&f, "garbage", &t), -1);
	cr_assert_str_eq(f.err, "the issued certificate: no PEM CERTIFICATE block");
	size_t klen;
	char *kpem = agent_key_pem(f.key, &klen);
	cr_assert_eq(check(&f, kpem, &t), -1);
	cr_assert_not_null(strstr(f.err, "other than CERTIFICATE"), "%s", f.err);
	/* The message never holds the key. */
	cr_assert_null(strstr(f.err, "PRIVATE"));
	agent_secret_free(kpem, klen);
	cr_assert_eq(
	    check(&f, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", &t), -1);
	cr_assert_not_null(strstr(f.err, "not a certificate"), "%s", f.err);
	fx_free(&f);
}

Test(agent_cert, chains)
{
	struct fixture f;
	struct test_ca inter, other;
	fx_init(&f);
	test_ca_make(&inter, "issuing CA", &f.ca);
	test_ca_make(&other, "another CA", NULL);
	char *leaf = test_issue(&inter, agent_key_pkey(f.key), GOOD_SANS, 0, 3600);
	char *ipem = test_cert_pem(inter.cert);
	char *root = test_cert_pem(f.ca.cert);
	char *opem = test_cert_pem(other.cert);
	char *chain = util_xasprintf("%s%s", leaf, ipem);
	char *both = util_xasprintf("%s%s", opem, root);
	int64_t now = (int64_t)time(NULL);
	char *e = f.err;
	size_t el = sizeof(f.err);

	/* leaf + intermediate, root in the bundle */
	cr_assert_eq(agent_cert_verify_chain(chain, strlen(chain), root, strlen(root), now, e, el),
	             0, "%s", e);
	/* one of several CAs in the bundle */
	cr_assert_eq(agent_cert_verify_chain(chain, strlen(chain), both, strlen(both), now, e, el),
	             0, "%s", e);
	/* the issuing CA itself in the bundle: a trust anchor */
	cr_assert_eq(agent_cert_verify_chain(leaf, strlen(leaf), ipem, strlen(ipem), now, e, el), 0,
	             "%s", e);
	/* leaf alone, root only: the intermediate is missing */
	cr_assert_eq(agent_cert_verify_chain(leaf, strlen(leaf), root, strlen(root), now, e, el),
	             -1);
	cr_assert_not_null(strstr(e, "does not chain to the signer's CA"), "%s", e);
	/* another CA */
	cr_assert_eq(agent_cert_verify_chain(chain, strlen(chain), opem, strlen(opem), now, e, el),
	             -1);
	/* an empty bundle */
	cr_assert_eq(agent_cert_verify_chain(chain, strlen(chain), "", 0, now, e, el), -1);
	cr_assert_str_eq(e, "the CA bundle: no PEM CERTIFICATE block");
	/* checked at the time given: after the CA expired */
	cr_assert_eq(agent_cert_verify_chain(chain, strlen(chain), root, strlen(root),
	                                     now + 3 * 86400, e, el),
	             -1);
	free(chain);
	free(both);
	free(leaf);
	free(ipem);
	free(root);
	free(opem);
	test_ca_free(&inter);
	test_ca_free(&other);
	fx_free(&f);
}

/* ---------------------------------------------------------------- renewal */

Test(agent_renew, at_the_fraction)
{
	struct agent_cert_times t = {1000000, 1000000 + 86400};
	int64_t now = 1000000 * 1000LL;
	cr_assert_eq(agent_renew_delay_ms(&t, 0.67, now), (int64_t)(86400 * 0.67 * 1000));
	cr_assert_eq(agent_renew_delay_ms(&t, 0.5, now + 3600 * 1000), (12 - 1) * 3600 * 1000LL);
	/* a 30 s certificate: renewed 20.1 s after notBefore */
	struct agent_cert_times s = {2000, 2030};
	cr_assert_eq(agent_renew_delay_ms(&s, 0.67, 2000 * 1000LL), 20100);
	cr_assert_eq(agent_renew_delay_ms(&s, 0.67, 2010 * 1000LL), 10100);
}

Test(agent_renew, never_sooner_than_the_floor)
{
	/* Backdated far past the renewal point: not at once, not in a loop. */
	struct agent_cert_times t = {1000, 1000 + 600};
	cr_assert_eq(agent_renew_delay_ms(&t, 0.67, (1000 + 500) * 1000LL), AGENT_RENEW_MIN_MS);
	/* Expired already. */
	cr_assert_eq(agent_renew_delay_ms(&t, 0.67, 9999999 * 1000LL), AGENT_RENEW_MIN_MS);
	/* A ten-year certificate: within a year. */
	struct agent_cert_times l = {0, 10 * 366 * 86400LL};
	cr_assert_eq(agent_renew_delay_ms(&l, 0.67, 0), 366 * 86400 * 1000LL);
}
