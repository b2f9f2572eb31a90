/*
 * Kubeconfig and in-cluster configuration: both credential forms, relative
 * paths, contexts, the precedence of sources, and each refusal with the
 * file and key it names.
 */
/* nftw() */
#define _XOPEN_SOURCE 700
#include <criterion/criterion.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../../pkg/kube/kube.h"

#define ERRLEN 1024

/* "CA PEM\n", "CERT PEM\n", "KEY PEM\n" in base64. */
#define CA_B64 "Q0EgUEVNCg=="
#define CERT_B64 "Q0VSVCBQRU0K"
#define KEY_B64 "S0VZIFBFTQo="

static char tmpdir[64];

static void mktmp(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/csr-approver-kc-XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static void rmtmp(void)
{
	nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static char *path_in(const char *rel)
{
	char *p = malloc(strlen(tmpdir) + strlen(rel) + 2);
	cr_assert_not_null(p);
	snprintf(p, strlen(tmpdir) + strlen(rel) + 2, "%s/%s", tmpdir, rel);
	return p;
}

static void write_file(const char *rel, const char *content)
{
	char *p = path_in(rel);
	/* mkdir -p of the folders in rel */
	for (char *s = p + strlen(tmpdir) + 1; (s = strchr(s, '/')) != NULL; s++) {
		*s = '\0';
		mkdir(p, 0700);
		*s = '/';
	}
	FILE *f = fopen(p, "w");
	cr_assert_not_null(f, "open %s", p);
	fputs(content, f);
	fclose(f);
	free(p);
}

static struct kube_config *parse_ok(const char *yaml, const char *path, const char *ctx)
{
	char err[ERRLEN] = "";
	struct kube_config *cfg = NULL;
	int rc = kube_config_parse(yaml, strlen(yaml), path, ctx, &cfg, err, sizeof(err));
	cr_assert_eq(rc, 0, "parse failed: %s", err);
	cr_assert_not_null(cfg);
	return cfg;
}

static void parse_err(const char *yaml, const char *path, const char *ctx, const char *want)
{
	char err[ERRLEN] = "";
	struct kube_config *cfg = NULL;
	int rc = kube_config_parse(yaml, strlen(yaml), path, ctx, &cfg, err, sizeof(err));
	cr_assert_eq(rc, -1, "parse should fail (want %s)", want);
	cr_assert_null(cfg);
	cr_assert_not_null(strstr(err, want), "error \"%s\" lacks \"%s\"", err, want);
}

static const char data_yaml[] = "apiVersion: v1\n"
                                "kind: Config\n"
                                "clusters:\n"
                                "- name: c1\n"
                                "  cluster:\n"
                                "    server: https://api.example.com:6443/\n"
                                "    certificate-authority-data: " CA_B64 "\n"
                                "users:\n"
                                "- name: u1\n"
                                "  user:\n"
                                "    client-certificate-data: " CERT_B64 "\n"
                                "    client-key-data: " KEY_B64 "\n"
                                "contexts:\n"
                                "- name: ctx1\n"
                                "  context:\n"
                                "    cluster: c1\n"
                                "    user: u1\n"
                                "    namespace: team-a\n"
                                "current-context: ctx1\n";

Test(kubeconfig, data_form)
{
	struct kube_config *cfg = parse_ok(data_yaml, "/etc/k/config", NULL);
	cr_assert_str_eq(cfg->server, "https://api.example.com:6443");
	cr_assert_eq(cfg->ca_len, 7);
	cr_assert_str_eq(cfg->ca_pem, "CA PEM\n");
	cr_assert_str_eq(cfg->cert_pem, "CERT PEM\n");
	cr_assert_eq(cfg->cert_len, 9);
	cr_assert_str_eq(cfg->key_pem, "KEY PEM\n");
	cr_assert_eq(cfg->key_len, 8);
	cr_assert_null(cfg->ca_file);
	cr_assert_null(cfg->token);
	cr_assert_null(cfg->token_file);
	cr_assert_str_eq(cfg->namespace, "team-a");
	cr_assert_str_eq(cfg->source, "/etc/k/config");
	kube_config_free(cfg);
}

Test(kubeconfig, json_form)
{
	const char *json =
	    "{\"apiVersion\":\"v1\",\"kind\":\"Config\",\"current-context\":\"x\","
	    "\"clusters\":[{\"name\":\"c\",\"cluster\":{\"server\":\"https://10.0.0.1\"}}],"
	    "\"users\":[{\"name\":\"u\",\"user\":{\"token\":\"abc.def\"}}],"
	    "\"contexts\":[{\"name\":\"x\",\"context\":{\"cluster\":\"c\",\"user\":\"u\"}}]}";
	struct kube_config *cfg = parse_ok(json, NULL, NULL);
	cr_assert_str_eq(cfg->server, "https://10.0.0.1");
	cr_assert_null(cfg->ca_pem, "no CA: the system store");
	cr_assert_str_eq(cfg->token, "abc.def");
	cr_assert_null(cfg->namespace);
	cr_assert_str_eq(cfg->source, "kubeconfig");
	kube_config_free(cfg);
}

Test(kubeconfig, file_form_relative_paths, .init = mktmp, .fini = rmtmp)
{
	write_file("k/pki/ca.crt", "CA FILE\n");
	write_file("k/pki/admin.crt", "CERT FILE\n");
	write_file("k/pki/admin.key", "KEY FILE\n");
	write_file("k/token", "  tok-123\n\n");
	const char *yaml = "clusters:\n"
	                   "- name: c\n"
	                   "  cluster:\n"
	                   "    server: https://127.0.0.1:6443\n"
	                   "    certificate-authority: pki/ca.crt\n"
	                   "users:\n"
	                   "- name: u\n"
	                   "  user:\n"
	                   "    client-certificate: pki/admin.crt\n"
	                   "    client-key: pki/admin.key\n"
	                   "    tokenFile: token\n"
	                   "contexts:\n"
	                   "- name: x\n"
	                   "  context: {cluster: c, user: u}\n"
	                   "current-context: x\n";
	char *kpath = path_in("k/config");
	char *ca = path_in("k/pki/ca.crt");
	char *tok = path_in("k/token");
	struct kube_config *cfg = parse_ok(yaml, kpath, NULL);
	cr_assert_str_eq(cfg->ca_pem, "CA FILE\n");
	cr_assert_str_eq(cfg->ca_file, ca, "CA file resolved against the kubeconfig's folder");
	cr_assert_str_eq(cfg->cert_pem, "CERT FILE\n");
	cr_assert_str_eq(cfg->key_pem, "KEY FILE\n");
	cr_assert_str_eq(cfg->token_file, tok);
	cr_assert_str_eq(cfg->token, "tok-123", "token file trimmed");
	kube_config_free(cfg);
	free(kpath);
	free(ca);
	free(tok);
}

Test(kubeconfig, absolute_paths_and_data_wins, .init = mktmp, .fini = rmtmp)
{
	write_file("ca.crt", "CA FILE\n");
	char *ca = path_in("ca.crt");
	char yaml[2048];
	snprintf(yaml, sizeof(yaml),
	         "clusters:\n- name: c\n  cluster:\n    server: https://h\n"
	         "    certificate-authority: %s\n"
	         "contexts:\n- name: x\n  context: {cluster: c}\ncurrent-context: x\n",
	         ca);
	struct kube_config *cfg = parse_ok(yaml, "/nonexistent/dir/config", NULL);
	cr_assert_str_eq(cfg->ca_pem, "CA FILE\n");
	cr_assert_str_eq(cfg->ca_file, ca);
	cr_assert_null(cfg->cert_pem, "no user: anonymous");
	kube_config_free(cfg);

	snprintf(yaml, sizeof(yaml),
	         "clusters:\n- name: c\n  cluster:\n    server: https://h\n"
	         "    certificate-authority: /does/not/exist\n"
	         "    certificate-authority-data: " CA_B64 "\n"
	         "contexts:\n- name: x\n  context: {cluster: c}\ncurrent-context: x\n");
	cfg = parse_ok(yaml, NULL, NULL);
	cr_assert_str_eq(cfg->ca_pem, "CA PEM\n", "data form wins, the file is not read");
	cr_assert_null(cfg->ca_file);
	kube_config_free(cfg);
	free(ca);
}

static const char two_ctx[] = "clusters:\n"
                              "- name: prod\n"
                              "  cluster: {server: 'https://prod:443'}\n"
                              "- name: dev\n"
                              "  cluster: {server: 'https://dev:443'}\n"
                              "users:\n"
                              "- name: p\n"
                              "  user: {token: prod-token}\n"
                              "- name: d\n"
                              "  user: {token: dev-token}\n"
                              "contexts:\n"
                              "- name: prod\n"
                              "  context: {cluster: prod, user: p}\n"
                              "- name: dev\n"
                              "  context: {cluster: dev, user: d, namespace: sandbox}\n"
                              "current-context: prod\n";

Test(kubeconfig, contexts)
{
	struct kube_config *cfg = parse_ok(two_ctx, NULL, NULL);
	cr_assert_str_eq(cfg->server, "https://prod:443");
	cr_assert_str_eq(cfg->token, "prod-token");
	kube_config_free(cfg);
	cfg = parse_ok(two_ctx, NULL, "dev");
	cr_assert_str_eq(cfg->server, "https://dev:443");
	cr_assert_str_eq(cfg->token, "dev-token");
	cr_assert_str_eq(cfg->namespace, "sandbox");
	kube_config_free(cfg);
	parse_err(two_ctx, "/k/config", "staging",
	          "/k/config: contexts: no context named \"staging\"");
}

Test(kubeconfig, no_current_context)
{
	parse_err("clusters: []\ncontexts: []\n", "/k/c", NULL, "/k/c: current-context: not set");
}

Test(kubeconfig, missing_cluster_and_user)
{
	parse_err("clusters: []\ncontexts:\n- name: x\n  context: {cluster: gone, user: u}\n"
	          "current-context: x\n",
	          "/k/c", NULL, "/k/c: clusters: no cluster named \"gone\" (contexts[x].context)");
	parse_err(
	    "clusters:\n- name: c\n  cluster: {server: 'https://h'}\n"
	    "contexts:\n- name: x\n  context: {cluster: c, user: ghost}\ncurrent-context: x\n",
	    "/k/c", NULL, "users: no user named \"ghost\" (contexts[x].context)");
	parse_err("contexts:\n- name: x\n  context: {user: u}\ncurrent-context: x\n", "/k/c", NULL,
	          "contexts[x].context.cluster: missing");
	parse_err("clusters:\n- name: c\n  cluster: {}\n"
	          "contexts:\n- name: x\n  context: {cluster: c}\ncurrent-context: x\n",
	          "/k/c", NULL, "clusters[c].cluster.server: missing");
}

#define CLUSTER_HDR "clusters:\n- name: c\n  cluster:\n    server: https://h:6443\n"
#define CTX_TAIL "contexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\n"

Test(kubeconfig, insecure_refused)
{
	parse_err(CLUSTER_HDR "    insecure-skip-tls-verify: true\n"
	                      "users:\n- name: u\n  user: {token: t}\n" CTX_TAIL,
	          "/home/a/.kube/config", NULL,
	          "/home/a/.kube/config: clusters[c].cluster.insecure-skip-tls-verify: refused");
	/* false is fine */
	struct kube_config *cfg =
	    parse_ok(CLUSTER_HDR "    insecure-skip-tls-verify: false\n"
	                         "users:\n- name: u\n  user: {token: t}\n" CTX_TAIL,
	             NULL, NULL);
	kube_config_free(cfg);
}

Test(kubeconfig, unsupported_auth_refused)
{
	parse_err(CLUSTER_HDR "users:\n- name: u\n  user:\n    exec:\n      command: aws\n"
	                      "      apiVersion: client.authentication.k8s.io/v1\n" CTX_TAIL,
	          "/k/c", NULL,
	          "/k/c: users[u].user.exec: exec credential plugins are not supported");
	parse_err(CLUSTER_HDR
	          "users:\n- name: u\n  user:\n    auth-provider: {name: gcp}\n" CTX_TAIL,
	          "/k/c", NULL, "users[u].user.auth-provider: auth providers are not supported");
	parse_err(CLUSTER_HDR "users:\n- name: u\n  user: {username: a, password: b}\n" CTX_TAIL,
	          "/k/c", NULL, "users[u].user.username: basic authentication is not supported");
	parse_err(CLUSTER_HDR "users:\n- name: u\n  user: {token: t, as: admin}\n" CTX_TAIL, "/k/c",
	          NULL, "users[u].user.as: impersonation is not supported");
	parse_err(CLUSTER_HDR
	          "    proxy-url: http://proxy:3128\nusers:\n- name: u\n  user: {}\n" CTX_TAIL,
	          "/k/c", NULL, "clusters[c].cluster.proxy-url: not supported");
}

Test(kubeconfig, server_must_be_https)
{
	parse_err("clusters:\n- name: c\n  cluster: {server: 'http://127.0.0.1:8080'}\n"
	          "contexts:\n- name: x\n  context: {cluster: c}\ncurrent-context: x\n",
	          "/k/c", NULL,
	          "clusters[c].cluster.server: \"http://127.0.0.1:8080\": only https://");
}

Test(kubeconfig, bad_data)
{
	parse_err(CLUSTER_HDR "    certificate-authority-data: '!!notbase64'\n"
	                      "users:\n- name: u\n  user: {}\n" CTX_TAIL,
	          "/k/c", NULL,
	          "/k/c: clusters[c].cluster.certificate-authority-data: invalid base64");
	parse_err(CLUSTER_HDR "users:\n- name: u\n  user:\n    client-key-data: 'QUJD'\n"
	                      "    client-certificate-data: 'QUJ'\n" CTX_TAIL,
	          "/k/c", NULL, "users[u].user.client-certificate-data: invalid base64");
	parse_err(CLUSTER_HDR "users:\n- name: u\n  user:\n    client-certificate-data: " CERT_B64
	                      "\n" CTX_TAIL,
	          "/k/c", NULL, "users[u].user: client-certificate given without client-key");
	parse_err(CLUSTER_HDR "users:\n- name: u\n  user: {token: 'a b'}\n" CTX_TAIL, "/k/c", NULL,
	          "users[u].user.token: token holds a byte");
	parse_err(CLUSTER_HDR "users:\n- name: u\n  user: {token: 42}\n" CTX_TAIL, "/k/c", NULL,
	          "users[u].user.token: expected a string");
	parse_err("- a\n- b\n", "/k/c", NULL, "/k/c: not a kubeconfig");
	parse_err("", "/k/c", NULL, "/k/c: empty kubeconfig");
}

Test(kubeconfig, base64_forms)
{
	/* Line-folded and padded forms decode; data after padding does not. */
	struct kube_config *cfg =
	    parse_ok(CLUSTER_HDR "    certificate-authority-data: \"Q0Eg\\nUEVN\\nCg==\"\n"
	                         "users:\n- name: u\n  user: {}\n" CTX_TAIL,
	             NULL, NULL);
	cr_assert_str_eq(cfg->ca_pem, "CA PEM\n");
	kube_config_free(cfg);
	parse_err(CLUSTER_HDR "    certificate-authority-data: 'Cg==Cg=='\n"
	                      "users:\n- name: u\n  user: {}\n" CTX_TAIL,
	          NULL, NULL, "certificate-authority-data: invalid base64");
	parse_err(CLUSTER_HDR "    certificate-authority-data: 'Q0E'\n"
	                      "users:\n- name: u\n  user: {}\n" CTX_TAIL,
	          NULL, NULL, "certificate-authority-data: invalid base64");
}

Test(kubeconfig, missing_files_named, .init = mktmp, .fini = rmtmp)
{
	char *k = path_in("config");
	char *want = path_in("nope/ca.crt");
	char msg[ERRLEN];
	snprintf(msg, sizeof(msg),
	         "%s: clusters[c].cluster.certificate-authority: %s: No such file", k, want);
	parse_err(CLUSTER_HDR "    certificate-authority: nope/ca.crt\n"
	                      "users:\n- name: u\n  user: {}\n" CTX_TAIL,
	          k, NULL, msg);
	free(want);
	want = path_in("tok");
	snprintf(msg, sizeof(msg), "%s: users[u].user.tokenFile: %s: No such file", k, want);
	parse_err(CLUSTER_HDR "users:\n- name: u\n  user: {tokenFile: tok}\n" CTX_TAIL, k, NULL,
	          msg);
	free(want);
	/* A directory or a FIFO is not a credential file. */
	char *fifo = path_in("fifo");
	cr_assert_eq(mkfifo(fifo, 0600), 0);
	parse_err(CLUSTER_HDR "users:\n- name: u\n  user: {tokenFile: fifo}\n" CTX_TAIL, k, NULL,
	          "not a regular file");
	parse_err(CLUSTER_HDR "    certificate-authority: .\n"
	                      "users:\n- name: u\n  user: {}\n" CTX_TAIL,
	          k, NULL, "is a directory");
	free(fifo);
	free(k);
}

Test(kubeconfig, token_and_token_file, .init = mktmp, .fini = rmtmp)
{
	write_file("tok", "from-file\n");
	char *k = path_in("config");
	struct kube_config *cfg = parse_ok(
	    CLUSTER_HDR "users:\n- name: u\n  user: {token: static, tokenFile: tok}\n" CTX_TAIL, k,
	    NULL);
	cr_assert_str_eq(cfg->token, "static", "static token kept as the fallback");
	cr_assert_not_null(strstr(cfg->token_file, "/tok"));
	kube_config_free(cfg);
	write_file("tok", "\n \n");
	parse_err(CLUSTER_HDR "users:\n- name: u\n  user: {tokenFile: tok}\n" CTX_TAIL, k, NULL,
	          "users[u].user.tokenFile: ");
	free(k);
}

Test(kubeconfig, yaml_error_names_file)
{
	parse_err("clusters: [\n", "/k/c", NULL, "/k/c:");
}

/* ---- kube_config_load: where the configuration comes from ---- */

static void clear_env(void)
{
	unsetenv("KUBERNETES_SERVICE_HOST");
	unsetenv("KUBERNETES_SERVICE_PORT");
	unsetenv("KUBECONFIG");
}

static char *sa_dir; /* the service-account directory of the test, or NULL */

static void write_sa_dir(bool with_ns)
{
	write_file("sa/token", "sa-token-1\n");
	write_file("sa/ca.crt", "SA CA\n");
	if (with_ns)
		write_file("sa/namespace", "csr-system\n");
	free(sa_dir);
	sa_dir = path_in("sa");
}

Test(kubeconfig, in_cluster, .init = mktmp, .fini = rmtmp)
{
	char err[ERRLEN] = "";
	struct kube_config *cfg = NULL;
	clear_env();
	write_sa_dir(true);
	setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
	setenv("KUBERNETES_SERVICE_PORT", "443", 1);
	cr_assert_eq(kube_config_load_sa(NULL, NULL, sa_dir, &cfg, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(cfg->server, "https://10.96.0.1:443");
	cr_assert_str_eq(cfg->token, "sa-token-1");
	char *tf = path_in("sa/token");
	char *cf = path_in("sa/ca.crt");
	cr_assert_str_eq(cfg->token_file, tf);
	cr_assert_str_eq(cfg->ca_file, cf);
	cr_assert_str_eq(cfg->ca_pem, "SA CA\n");
	cr_assert_str_eq(cfg->namespace, "csr-system");
	cr_assert_str_eq(cfg->source, "in-cluster");
	kube_config_free(cfg);
	free(tf);
	free(cf);
}

Test(kubeconfig, in_cluster_ipv6_no_namespace, .init = mktmp, .fini = rmtmp)
{
	char err[ERRLEN] = "";
	struct kube_config *cfg = NULL;
	clear_env();
	write_sa_dir(false);
	setenv("KUBERNETES_SERVICE_HOST", "fd00:10:96::1", 1);
	setenv("KUBERNETES_SERVICE_PORT", "6443", 1);
	cr_assert_eq(kube_config_in_cluster(sa_dir, &cfg, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(cfg->server, "https://[fd00:10:96::1]:6443");
	cr_assert_null(cfg->namespace);
	kube_config_free(cfg);
}

Test(kubeconfig, in_cluster_errors, .init = mktmp, .fini = rmtmp)
{
	char err[ERRLEN] = "";
	struct kube_config *cfg = NULL;
	clear_env();
	cr_assert_eq(kube_config_in_cluster(sa_dir, &cfg, err, sizeof(err)), -1);
	cr_assert_not_null(strstr(err, "KUBERNETES_SERVICE_HOST"), "%s", err);

	setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1", 1);
	setenv("KUBERNETES_SERVICE_PORT", "https", 1);
	cr_assert_eq(kube_config_in_cluster(sa_dir, &cfg, err, sizeof(err)), -1);
	cr_assert_not_null(strstr(err, "KUBERNETES_SERVICE_PORT: invalid port"), "%s", err);

	setenv("KUBERNETES_SERVICE_PORT", "443", 1);
	setenv("KUBERNETES_SERVICE_HOST", "evil/host@x", 1);
	cr_assert_eq(kube_config_in_cluster(sa_dir, &cfg, err, sizeof(err)), -1);
	cr_assert_not_null(strstr(err, "invalid host"), "%s", err);

	setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1", 1);
	char *d = path_in("empty-sa");
	mkdir(d, 0700);
	cr_assert_eq(kube_config_in_cluster(d, &cfg, err, sizeof(err)), -1);
	char want[512];
	snprintf(want, sizeof(want), "%s/token: No such file", d);
	cr_assert_not_null(strstr(err, want), "%s", err);

	write_file("empty-sa/token", "t\n");
	cr_assert_eq(kube_config_in_cluster(d, &cfg, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s/ca.crt: No such file", d);
	cr_assert_not_null(strstr(err, want), "%s", err);
	free(d);
	cr_assert_null(cfg);
}

Test(kubeconfig, load_precedence, .init = mktmp, .fini = rmtmp)
{
	char err[ERRLEN] = "";
	struct kube_config *cfg = NULL;
	static const char one[] =
	    "clusters:\n- name: c\n  cluster: {server: 'https://one'}\n"
	    "contexts:\n- name: x\n  context: {cluster: c}\ncurrent-context: x\n";
	static const char two[] =
	    "clusters:\n- name: c\n  cluster: {server: 'https://two'}\n"
	    "contexts:\n- name: x\n  context: {cluster: c}\ncurrent-context: x\n";
	clear_env();
	write_file("one", one);
	write_file("two", two);
	write_file("home/.kube/config", two);
	char *p1 = path_in("one"), *p2 = path_in("two"), *home = path_in("home");
	char list[512];

	/* $KUBECONFIG: the first file of the list. */
	snprintf(list, sizeof(list), ":%s:%s", p1, p2);
	setenv("KUBECONFIG", list, 1);
	cr_assert_eq(kube_config_load(NULL, NULL, &cfg, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(cfg->server, "https://one");
	cr_assert_str_eq(cfg->source, p1);
	kube_config_free(cfg);

	/* An explicit path wins over everything. */
	cr_assert_eq(kube_config_load(p2, NULL, &cfg, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(cfg->server, "https://two");
	kube_config_free(cfg);

	/* In-cluster wins over $KUBECONFIG. */
	write_sa_dir(false);
	setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1", 1);
	setenv("KUBERNETES_SERVICE_PORT", "443", 1);
	cr_assert_eq(kube_config_load_sa(NULL, NULL, sa_dir, &cfg, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(cfg->source, "in-cluster");
	kube_config_free(cfg);

	/* Then ~/.kube/config. */
	clear_env();
	setenv("HOME", home, 1);
	cr_assert_eq(kube_config_load(NULL, NULL, &cfg, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(cfg->server, "https://two");
	kube_config_free(cfg);

	/* And nothing at all is a clear error. */
	setenv("HOME", tmpdir, 1);
	cr_assert_eq(kube_config_load(NULL, NULL, &cfg, err, sizeof(err)), -1);
	cr_assert_not_null(strstr(err, "no configuration"), "%s", err);
	cr_assert_not_null(strstr(err, "/.kube/config: No such file"), "%s", err);
	free(p1);
	free(p2);
	free(home);
	free(sa_dir);
	sa_dir = NULL;
}
