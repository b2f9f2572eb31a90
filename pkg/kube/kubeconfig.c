/*
 * Where csr-approver connects and how it authenticates: kubeconfig files
 * (YAML or JSON) and the in-cluster service-account files.
 */
#include "kube.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../config/config.h"
#include "../util/util.h"
#include "kube_int.h"

#define KUBE_SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

/* ---- small helpers shared by the module ---- */

void kube_wipe_free(void *p, size_t n)
{
	if (p == NULL)
		return;
	explicit_bzero(p, n);
	free(p);
}

void kube_wipe_str(char *s)
{
	if (s != NULL)
		kube_wipe_free(s, strlen(s));
}

int kube_read_file(const char *path, bool regular_only, size_t max, char **out, size_t *outlen,
                   char *err, size_t errlen)
{
	int rc = -1;
	int fd = -1;
	char *buf = NULL;
	size_t len = 0, cap = 0;
	struct stat st;

	*out = NULL;
	if (outlen != NULL)
		*outlen = 0;
	/* O_NONBLOCK: opening a FIFO must not wait for a writer; it is then
	 * refused by the type check below when regular_only. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | (regular_only ? O_NONBLOCK : 0));
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s: is a directory", path);
		goto out;
	}
	if (regular_only && !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		goto out;
	}
	if (S_ISREG(st.st_mode) && (uintmax_t)st.st_size > max) {
		snprintf(err, errlen, "%s: larger than %zu bytes", path, max);
		goto out;
	}
	for (;;) {
		if (len == cap) {
			/* Grow by copying so that no unwiped copy of a key is left
			 * behind by realloc. */
			size_t ncap = cap ? cap * 2 : 4096;
			if (ncap > max + 1)
				ncap = max + 1;
			if (ncap <= len) {
				snprintf(err, errlen, "%s: larger than %zu bytes", path, max);
				goto out;
			}
			char *nbuf = util_xmalloc(ncap + 1);
			if (len > 0)
				memcpy(nbuf, buf, len);
			kube_wipe_free(buf, cap);
			buf = nbuf;
			cap = ncap;
		}
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "%s: read error: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max) {
			snprintf(err, errlen, "%s: larger than %zu bytes", path, max);
			goto out;
		}
	}
	if (buf == NULL) {
		buf = util_xmalloc(1);
		cap = 0;
	}
	buf[len] = '\0';
	*out = buf;
	buf = NULL;
	if (outlen != NULL)
		*outlen = len;
	rc = 0;
out:
	if (buf != NULL)
		kube_wipe_free(buf, cap + 1);
	if (fd >= 0)
		close(fd);
	return rc;
}

static bool kube_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

char *kube_token_clean(const char *s, size_t len, char *err, size_t errlen)
{
	size_t a = 0, b = len;
	while (a < b && kube_is_space(s[a]))
		a++;
	while (b > a && kube_is_space(s[b - 1]))
		b--;
	if (a == b) {
		snprintf(err, errlen, "empty token");
		return NULL;
	}
	for (size_t i = a; i < b; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch <= 0x20 || ch >= 0x7f) {
			/* Never echo the token itself. */
			snprintf(err, errlen,
			         "token holds a byte that cannot be sent in a header (offset %zu)",
			         i - a);
			return NULL;
		}
	}
	return util_xstrndup(s + a, b - a);
}

/* ---- kubeconfig ---- */

struct kube_kc {
	const char *file; /* for messages */
	char *dir; /* owned; base for relative paths, or NULL */
	char *err;
	size_t errlen;
};

static void kube_kc_err(struct kube_kc *k, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void kube_kc_err(struct kube_kc *k, const char *fmt, ...)
{
	struct util_buf b = {0};
	va_list ap;
	util_buf_printf(&b, "%s: ", k->file);
	va_start(ap, fmt);
	util_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	snprintf(k->err, k->errlen, "%s", util_buf_str(&b));
	util_buf_reset(&b);
}

/* A string member: 0 with *out borrowed (NULL when absent or null), -1 with
 * an error when it is another type. */
static int kube_kc_str(struct kube_kc *k, const json_t *obj, const char *key, const char *where,
                       const char **out)
{
	const json_t *v = json_object_get(obj, key);
	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v)) {
		if (where[0] == '\0')
			kube_kc_err(k, "%s: expected a string", key);
		else
			kube_kc_err(k, "%s.%s: expected a string", where, key);
		return -1;
	}
	*out = json_string_value(v);
	return 0;
}

/* The entry of a named list ("clusters", "contexts", "users") called name:
 * its inner mapping (member `inner`). */
static int kube_kc_find(struct kube_kc *k, const json_t *root, const char *list, const char *inner,
                        const char *name, const char *ref, const json_t **out)
{
	const json_t *arr = json_object_get(root, list);
	size_t i;
	const json_t *item;

	*out = NULL;
	if (arr != NULL && !json_is_null(arr) && !json_is_array(arr)) {
		kube_kc_err(k, "%s: expected a list", list);
		return -1;
	}
	json_array_foreach(arr, i, item)
	{
		const json_t *n = json_object_get(item, "name");
		if (!json_is_string(n) || strcmp(json_string_value(n), name) != 0)
			continue;
		const json_t *in = json_object_get(item, inner);
		if (in == NULL || json_is_null(in))
			return 1; /* an entry with no body */
		if (!json_is_object(in)) {
			kube_kc_err(k, "%s[%s].%s: expected a mapping", list, name, inner);
			return -1;
		}
		*out = in;
		return 1;
	}
	kube_kc_err(k, "%s: no %s named \"%s\"%s", list, inner, name, ref);
	return -1;
}

static char *kube_kc_path(struct kube_kc *k, const char *p)
{
	if (p[0] == '/' || k->dir == NULL)
		return util_xstrdup(p);
	return util_xasprintf("%s/%s", k->dir, p);
}

/*
 * Bytes from KEY-data (base64) or KEY (a file). Returns 0 with *out (NULL
 * when neither is set; caller frees with kube_wipe_free(*out, *outlen)) and,
 * for the file form, *file_out (caller frees) when file_out is not NULL;
 * -1 on error.
 */
static int kube_kc_blob(struct kube_kc *k, const json_t *obj, const char *where, const char *key,
                        char **out, size_t *outlen, char **file_out)
{
	int rc = -1;
	char dkey[64];
	const char *data = NULL, *file = NULL;
	char *path = NULL;
	char ferr[512];

	*out = NULL;
	*outlen = 0;
	if (file_out != NULL)
		*file_out = NULL;
	snprintf(dkey, sizeof(dkey), "%s-data", key);
	if (kube_kc_str(k, obj, dkey, where, &data) != 0 ||
	    kube_kc_str(k, obj, key, where, &file) != 0)
		goto out;
	if (data != NULL && data[0] != '\0') {
		/* As client-go: the data form wins over the file form. */
		if (util_base64_decode(data, strlen(data), UTIL_B64_SKIP_SPACE, strlen(data), out,
		                       outlen) != 0) {
			*out = NULL;
			kube_kc_err(k, "%s.%s: invalid base64", where, dkey);
			goto out;
		}
		if (*outlen == 0) {
			kube_kc_err(k, "%s.%s: empty", where, dkey);
			kube_wipe_free(*out, 1);
			*out = NULL;
			goto out;
		}
		rc = 0;
		goto out;
	}
	if (file != NULL && file[0] != '\0') {
		path = kube_kc_path(k, file);
		if (kube_read_file(path, true, KUBE_MAX_FILE, out, outlen, ferr, sizeof(ferr)) !=
		    0) {
			kube_kc_err(k, "%s.%s: %s", where, key, ferr);
			goto out;
		}
		if (*outlen == 0) {
			kube_kc_err(k, "%s.%s: %s: empty", where, key, path);
			kube_wipe_free(*out, 1);
			*out = NULL;
			goto out;
		}
		if (file_out != NULL) {
			*file_out = path;
			path = NULL;
		}
	}
	rc = 0;
out:
	free(path);
	return rc;
}

static bool kube_kc_truthy(const json_t *v)
{
	return json_is_true(v) ||
	    (json_is_string(v) && util_strcaseeq(json_string_value(v), "true"));
}

static int kube_kc_cluster(struct kube_kc *k, const json_t *cl, const char *name,
                           struct kube_config *cfg)
{
	char where[300];
	const char *server = NULL;
	size_t n;
	static const char *const refused[] = {"tls-server-name", "proxy-url"};

	snprintf(where, sizeof(where), "clusters[%s].cluster", name);
	if (kube_kc_truthy(json_object_get(cl, "insecure-skip-tls-verify"))) {
		kube_kc_err(
		    k,
		    "%s.insecure-skip-tls-verify: refused: csr-approver always verifies the API server's certificate",
		    where);
		return -1;
	}
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		const json_t *v = json_object_get(cl, refused[i]);
		if (v != NULL && !json_is_null(v) &&
		    !(json_is_string(v) && json_string_length(v) == 0)) {
			kube_kc_err(k, "%s.%s: not supported", where, refused[i]);
			return -1;
		}
	}
	if (kube_kc_str(k, cl, "server", where, &server) != 0)
		return -1;
	if (server == NULL || server[0] == '\0') {
		kube_kc_err(k, "%s.server: missing", where);
		return -1;
	}
	if (!util_has_prefix(server, "https://") || server[8] == '\0') {
		kube_kc_err(k, "%s.server: \"%s\": only https:// servers are supported", where,
		            server);
		return -1;
	}
	for (const char *p = server; *p; p++) {
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f) {
			kube_kc_err(k, "%s.server: invalid character in URL", where);
			return -1;
		}
	}
	n = strlen(server);
	while (n > 8 && server[n - 1] == '/')
		n--;
	cfg->server = util_xstrndup(server, n);
	if (kube_kc_blob(k, cl, where, "certificate-authority", &cfg->ca_pem, &cfg->ca_len,
	                 &cfg->ca_file) != 0)
		return -1;
	return 0;
}

static int kube_kc_user(struct kube_kc *k, const json_t *u, const char *name,
                        struct kube_config *cfg)
{
	char where[300];
	const char *token = NULL, *token_file = NULL;
	char terr[256];
	static const char *const refused[][2] = {
	    {"exec", "exec credential plugins are not supported"},
	    {"auth-provider", "auth providers are not supported"},
	    {"username", "basic authentication is not supported"},
	    {"password", "basic authentication is not supported"},
	    {"as", "impersonation is not supported"},
	    {"as-uid", "impersonation is not supported"},
	    {"as-groups", "impersonation is not supported"},
	    {"as-user-extra", "impersonation is not supported"},
	};

	snprintf(where, sizeof(where), "users[%s].user", name);
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		const json_t *v = json_object_get(u, refused[i][0]);
		if (v != NULL && !json_is_null(v)) {
			kube_kc_err(k, "%s.%s: %s", where, refused[i][0], refused[i][1]);
			return -1;
		}
	}
	if (kube_kc_blob(k, u, where, "client-certificate", &cfg->cert_pem, &cfg->cert_len, NULL) !=
	    0)
		return -1;
	if (kube_kc_blob(k, u, where, "client-key", &cfg->key_pem, &cfg->key_len, NULL) != 0)
		return -1;
	if (cfg->cert_pem != NULL && cfg->key_pem == NULL) {
		kube_kc_err(k, "%s: client-certificate given without client-key", where);
		return -1;
	}
	if (cfg->key_pem != NULL && cfg->cert_pem == NULL) {
		kube_kc_err(k, "%s: client-key given without client-certificate", where);
		return -1;
	}
	if (kube_kc_str(k, u, "token", where, &token) != 0 ||
	    kube_kc_str(k, u, "tokenFile", where, &token_file) != 0)
		return -1;
	if (token != NULL && token[0] != '\0') {
		cfg->token = kube_token_clean(token, strlen(token), terr, sizeof(terr));
		if (cfg->token == NULL) {
			kube_kc_err(k, "%s.token: %s", where, terr);
			return -1;
		}
	}
	if (token_file != NULL && token_file[0] != '\0') {
		char *buf = NULL, *tok = NULL;
		size_t len = 0;
		char ferr[512];
		cfg->token_file = kube_kc_path(k, token_file);
		/* Read now so that a wrong path is reported at start, not at the
		 * first request. */
		if (kube_read_file(cfg->token_file, true, KUBE_MAX_FILE, &buf, &len, ferr,
		                   sizeof(ferr)) != 0) {
			kube_kc_err(k, "%s.tokenFile: %s", where, ferr);
			return -1;
		}
		tok = kube_token_clean(buf, len, terr, sizeof(terr));
		kube_wipe_free(buf, len);
		if (tok == NULL) {
			kube_kc_err(k, "%s.tokenFile: %s: %s", where, cfg->token_file, terr);
			return -1;
		}
		if (cfg->token == NULL)
			cfg->token = tok;
		else
			kube_wipe_str(tok);
	}
	return 0;
}

int kube_config_parse(const char *buf, size_t len, const char *path, const char *context_name,
                      struct kube_config **out, char *err, size_t errlen)
{
	int rc = -1;
	json_t *docs = NULL;
	const json_t *root, *ctx = NULL, *cl = NULL, *u = NULL;
	const char *ctxname = NULL, *clname = NULL, *uname = NULL, *ns = NULL;
	struct kube_config *cfg = NULL;
	struct kube_kc k = {.file = path ? path : "kubeconfig", .err = err, .errlen = errlen};
	char ref[300];

	*out = NULL;
	if (path != NULL) {
		const char *slash = strrchr(path, '/');
		if (slash != NULL)
			k.dir = util_xstrndup(path, slash == path ? 1 : (size_t)(slash - path));
	}
	if (len > CONFIG_MAX_FILE) {
		kube_kc_err(&k, "larger than %d bytes", CONFIG_MAX_FILE);
		goto out;
	}
	if (config_yaml_to_json(buf, len, k.file, &docs, err, errlen) != 0)
		goto out;
	root = json_array_get(docs, 0);
	if (root == NULL) {
		kube_kc_err(&k, "empty kubeconfig");
		goto out;
	}
	if (!json_is_object(root)) {
		kube_kc_err(&k, "not a kubeconfig (expected a mapping at the top)");
		goto out;
	}
	if (context_name != NULL && context_name[0] != '\0') {
		ctxname = context_name;
	} else {
		if (kube_kc_str(&k, root, "current-context", "", &ctxname) != 0)
			goto out;
		if (ctxname == NULL || ctxname[0] == '\0') {
			kube_kc_err(&k, "current-context: not set, and no context was chosen");
			goto out;
		}
	}
	if (kube_kc_find(&k, root, "contexts", "context", ctxname, "", &ctx) < 0)
		goto out;
	snprintf(ref, sizeof(ref), " (contexts[%s].context)", ctxname);
	if (ctx != NULL) {
		char where[300];
		snprintf(where, sizeof(where), "contexts[%s].context", ctxname);
		if (kube_kc_str(&k, ctx, "cluster", where, &clname) != 0 ||
		    kube_kc_str(&k, ctx, "user", where, &uname) != 0 ||
		    kube_kc_str(&k, ctx, "namespace", where, &ns) != 0)
			goto out;
	}
	if (clname == NULL || clname[0] == '\0') {
		kube_kc_err(&k, "contexts[%s].context.cluster: missing", ctxname);
		goto out;
	}
	cfg = util_xcalloc(1, sizeof(*cfg));
	if (kube_kc_find(&k, root, "clusters", "cluster", clname, ref, &cl) < 0)
		goto out;
	if (cl == NULL) {
		kube_kc_err(&k, "clusters[%s].cluster: missing", clname);
		goto out;
	}
	if (kube_kc_cluster(&k, cl, clname, cfg) != 0)
		goto out;
	/* No user: anonymous requests, as client-go allows. */
	if (uname != NULL && uname[0] != '\0') {
		if (kube_kc_find(&k, root, "users", "user", uname, ref, &u) < 0)
			goto out;
		if (u != NULL && kube_kc_user(&k, u, uname, cfg) != 0)
			goto out;
	}
	if (ns != NULL && ns[0] != '\0')
		cfg->namespace = util_xstrdup(ns);
	cfg->source = util_xstrdup(k.file);
	*out = cfg;
	cfg = NULL;
	rc = 0;
out:
	kube_config_free(cfg);
	json_decref(docs);
	free(k.dir);
	return rc;
}

static int kube_config_load_file(const char *path, const char *context_name,
                                 struct kube_config **out, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0;
	int rc;

	if (kube_read_file(path, false, CONFIG_MAX_FILE, &buf, &len, err, errlen) != 0)
		return -1;
	rc = kube_config_parse(buf, len, path, context_name, out, err, errlen);
	/* The buffer may hold a client key. */
	kube_wipe_free(buf, len);
	return rc;
}

/* Read DIR/name into a trimmed string; *out NULL when optional and absent. */
static int kube_sa_file(const char *dir, const char *name, bool optional, bool secret, char **out,
                        char **path_out, char *err, size_t errlen)
{
	char *path = util_xasprintf("%s/%s", dir, name);
	char *buf = NULL;
	size_t len = 0;
	char ferr[512];
	int rc = -1;

	*out = NULL;
	if (optional && access(path, F_OK) != 0 && errno == ENOENT) {
		rc = 0;
		goto out;
	}
	if (kube_read_file(path, true, KUBE_MAX_FILE, &buf, &len, ferr, sizeof(ferr)) != 0) {
		snprintf(err, errlen, "in-cluster config: %s", ferr);
		goto out;
	}
	if (secret) {
		char terr[256];
		*out = kube_token_clean(buf, len, terr, sizeof(terr));
		if (*out == NULL) {
			snprintf(err, errlen, "in-cluster config: %s: %s", path, terr);
			goto out;
		}
	} else {
		size_t a = 0, b = len;
		while (a < b && kube_is_space(buf[a]))
			a++;
		while (b > a && kube_is_space(buf[b - 1]))
			b--;
		if (a == b) {
			if (optional) {
				rc = 0;
				goto out;
			}
			snprintf(err, errlen, "in-cluster config: %s: empty", path);
			goto out;
		}
		*out = util_xstrndup(buf + a, b - a);
	}
	rc = 0;
out:
	if (rc == 0 && path_out != NULL) {
		*path_out = path;
		path = NULL;
	}
	kube_wipe_free(buf, len);
	free(path);
	return rc;
}

int kube_config_in_cluster(const char *dir, struct kube_config **out, char *err, size_t errlen)
{
	int rc = -1;
	const char *host = getenv("KUBERNETES_SERVICE_HOST");
	const char *port = getenv("KUBERNETES_SERVICE_PORT");
	struct kube_config *cfg = NULL;
	int64_t portnum;
	char *ca = NULL, *token_path = NULL;

	*out = NULL;
	if (dir == NULL || dir[0] == '\0')
		dir = KUBE_SA_DIR;
	if (host == NULL || host[0] == '\0' || port == NULL || port[0] == '\0') {
		snprintf(
		    err, errlen,
		    "in-cluster config: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set");
		goto out;
	}
	if (util_parse_int64(port, 1, 65535, &portnum) != 0) {
		snprintf(err, errlen,
		         "in-cluster config: KUBERNETES_SERVICE_PORT: invalid port \"%.32s\"",
		         port);
		goto out;
	}
	for (const char *p = host; *p; p++) {
		char ch = *p;
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || ch == ':')) {
			snprintf(
			    err, errlen,
			    "in-cluster config: KUBERNETES_SERVICE_HOST: invalid host \"%.64s\"",
			    host);
			goto out;
		}
	}
	cfg = util_xcalloc(1, sizeof(*cfg));
	/* JoinHostPort: an IPv6 address goes in brackets. */
	if (strchr(host, ':') != NULL)
		cfg->server = util_xasprintf("https://[%s]:%d", host, (int)portnum);
	else
		cfg->server = util_xasprintf("https://%s:%d", host, (int)portnum);
	if (kube_sa_file(dir, "token", false, true, &cfg->token, &token_path, err, errlen) != 0)
		goto out;
	cfg->token_file = token_path;
	token_path = NULL;
	if (kube_sa_file(dir, "namespace", true, false, &cfg->namespace, NULL, err, errlen) != 0)
		goto out;
	cfg->ca_file = util_xasprintf("%s/ca.crt", dir);
	{
		char ferr[512];
		if (kube_read_file(cfg->ca_file, true, KUBE_MAX_FILE, &ca, &cfg->ca_len, ferr,
		                   sizeof(ferr)) != 0) {
			snprintf(err, errlen, "in-cluster config: %s", ferr);
			goto out;
		}
		if (cfg->ca_len == 0) {
			snprintf(err, errlen, "in-cluster config: %s: empty", cfg->ca_file);
			goto out;
		}
		cfg->ca_pem = ca;
		ca = NULL;
	}
	cfg->source = util_xstrdup("in-cluster");
	*out = cfg;
	cfg = NULL;
	rc = 0;
out:
	free(ca);
	free(token_path);
	kube_config_free(cfg);
	return rc;
}

int kube_config_load(const char *kubeconfig_path, const char *context_name,
                     struct kube_config **out, char *err, size_t errlen)
{
	return kube_config_load_sa(kubeconfig_path, context_name, NULL, out, err, errlen);
}

int kube_config_load_sa(const char *kubeconfig_path, const char *context_name, const char *sa_dir,
                        struct kube_config **out, char *err, size_t errlen)
{
	const char *env;
	int rc = -1;
	char *path = NULL;

	*out = NULL;
	if (kubeconfig_path != NULL && kubeconfig_path[0] != '\0')
		return kube_config_load_file(kubeconfig_path, context_name, out, err, errlen);
	env = getenv("KUBERNETES_SERVICE_HOST");
	if (env != NULL && env[0] != '\0') {
		env = getenv("KUBERNETES_SERVICE_PORT");
		if (env != NULL && env[0] != '\0')
			return kube_config_in_cluster(sa_dir, out, err, errlen);
	}
	env = getenv("KUBECONFIG");
	if (env != NULL) {
		/* The first file of the list (client-go merges them; one is
		 * enough for a controller). */
		const char *p = env;
		while (*p == ':')
			p++;
		if (*p != '\0') {
			const char *end = strchr(p, ':');
			path = end ? util_xstrndup(p, (size_t)(end - p)) : util_xstrdup(p);
			rc = kube_config_load_file(path, context_name, out, err, errlen);
			goto out;
		}
	}
	env = getenv("HOME");
	if (env == NULL || env[0] == '\0') {
		snprintf(
		    err, errlen,
		    "no configuration: no --kubeconfig, not in a cluster, KUBECONFIG and HOME unset");
		goto out;
	}
	path = util_xasprintf("%s/.kube/config", env);
	if (access(path, F_OK) != 0) {
		snprintf(
		    err, errlen,
		    "no configuration: no --kubeconfig, not in a cluster (KUBERNETES_SERVICE_HOST unset), KUBECONFIG unset, and %s: %s",
		    path, strerror(errno));
		goto out;
	}
	rc = kube_config_load_file(path, context_name, out, err, errlen);
out:
	free(path);
	return rc;
}

void kube_config_free(struct kube_config *cfg)
{
	if (cfg == NULL)
		return;
	free(cfg->server);
	free(cfg->ca_pem);
	kube_wipe_free(cfg->cert_pem, cfg->cert_len);
	kube_wipe_free(cfg->key_pem, cfg->key_len);
	kube_wipe_str(cfg->token);
	free(cfg->token_file);
	free(cfg->ca_file);
	free(cfg->namespace);
	free(cfg->source);
	free(cfg);
}
