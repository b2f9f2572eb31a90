/*
 * Atomic publication: the layout, the modes, the clean-up, and a reader in
 * another process that never sees a key and a certificate that do not
 * match while 200 publications happen.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/pem.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../../pkg/agent/agent.h"
#include "../../../pkg/agent/internal.h"
#include "pki.h"

static char *tmpdir(void)
{
	char *d = util_xstrdup("/tmp/csr-approver-publish-XXXXXX");
	cr_assert_not_null(mkdtemp(d));
	return d;
}

static void rm_rf(const char *path)
{
	DIR *d = opendir(path);
	if (d != NULL) {
		struct dirent *e;
		while ((e = readdir(d)) != NULL) {
			if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
				continue;
			char *p = util_xasprintf("%s/%s", path, e->d_name);
			struct stat st;
			if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
				rm_rf(p);
			else
				unlink(p);
			free(p);
		}
		closedir(d);
	}
	rmdir(path);
}

static char *slurp(const char *path)
{
	char *buf = NULL;
	size_t len;
	char err[128];
	if (util_read_file(path, 1 << 20, &buf, &len, err, sizeof(err)) != 0)
		return NULL;
	return buf;
}

/* Data directories in dir. */
static size_t data_dirs(const char *dir)
{
	size_t n = 0;
	DIR *d = opendir(dir);
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		if (util_has_prefix(e->d_name, "..2"))
			n++;
	closedir(d);
	return n;
}

static struct agent_bundle text_bundle(const char *k, const char *c, const char *a)
{
	struct agent_bundle b = {k, strlen(k), c, strlen(c), a, strlen(a)};
	return b;
}

Test(agent_publish, layout_and_modes)
{
	char *root = tmpdir();
	char *dir = util_xasprintf("%s/mtls", root); /* created by the publication */
	char err[256] = "";
	mode_t old = umask(077);
	struct agent_bundle b = text_bundle("KEY1\n", "CERT1\n", "CA1\n");
	cr_assert_eq(agent_publish(dir, &b, err, sizeof(err)), 0, "%s", err);
	umask(old);

	char link[256];
	const char *names[] = {"tls.key", "tls.crt", "ca.crt"};
	for (int i = 0; i < 3; i++) {
		char *p = util_xasprintf("%s/%s", dir, names[i]);
		ssize_t n = readlink(p, link, sizeof(link) - 1);
		cr_assert(n > 0, "%s is not a symlink", p);
		link[n] = '\0';
		char *want = util_xasprintf("..data/%s", names[i]);
		cr_assert_str_eq(link, want);
		struct stat st;
		cr_assert_eq(stat(p, &st), 0);
		cr_assert_eq(st.st_mode & 0777, i == 0 ? 0600 : 0644, "%s mode %o", names[i],
		             st.st_mode & 0777);
		free(want);
		free(p);
	}
	char *p = util_xasprintf("%s/..data", dir);
	ssize_t n = readlink(p, link, sizeof(link) - 1);
	cr_assert(n > 0);
	link[n] = '\0';
	cr_assert(util_has_prefix(link, "..2"), "%s", link);
	cr_assert_null(strchr(link, '/'));
	struct stat st;
	cr_assert_eq(stat(p, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0755);
	free(p);

	p = util_xasprintf("%s/tls.key", dir);
	char *s = slurp(p);
	cr_assert_str_eq(s, "KEY1\n");
	free(s);
	free(p);
	p = util_xasprintf("%s/ca.crt", dir);
	s = slurp(p);
	cr_assert_str_eq(s, "CA1\n");
	free(s);
	free(p);

	/* Again: new content, one data directory left, nothing temporary. */
	b = text_bundle("KEY2\n", "CERT2\n", "CA2\n");
	cr_assert_eq(agent_publish(dir, &b, err, sizeof(err)), 0, "%s", err);
	p = util_xasprintf("%s/tls.crt", dir);
	s = slurp(p);
	cr_assert_str_eq(s, "CERT2\n");
	free(s);
	free(p);
	cr_assert_eq(data_dirs(dir), 1);
	p = util_xasprintf("%s/..data_tmp", dir);
	cr_assert_eq(lstat(p, &st), -1);
	free(p);
	rm_rf(root);
	free(dir);
	free(root);
}

Test(agent_publish, replaces_plain_files_and_cleans_leftovers)
{
	char *dir = tmpdir();
	char err[256] = "";
	char *p = util_xasprintf("%s/tls.key", dir);
	FILE *f = fopen(p, "w");
	fputs("old", f);
	fclose(f);
	free(p);
	/* A data directory a crash left behind, and a user's file. */
	p = util_xasprintf("%s/..2020_01_01_00_00_00.abc123", dir);
	cr_assert_eq(mkdir(p, 0755), 0);
	char *q = util_xasprintf("%s/tls.key", p);
	f = fopen(q, "w");
	fclose(f);
	free(q);
	free(p);
	p = util_xasprintf("%s/..keep-me", dir);
	cr_assert_eq(mkdir(p, 0755), 0);
	free(p);

	struct agent_bundle b = text_bundle("K\n", "C\n", "A\n");
	cr_assert_eq(agent_publish(dir, &b, err, sizeof(err)), 0, "%s", err);
	p = util_xasprintf("%s/tls.key", dir);
	char *s = slurp(p);
	cr_assert_str_eq(s, "K\n");
	free(s);
	free(p);
	cr_assert_eq(data_dirs(dir), 1);
	p = util_xasprintf("%s/..keep-me", dir);
	struct stat st;
	cr_assert_eq(stat(p, &st), 0, "a directory that is not ours was removed");
	free(p);
	rm_rf(dir);
	free(dir);
}

Test(agent_publish, failures_leave_the_old_files)
{
	char *dir = tmpdir();
	char err[256] = "";
	struct agent_bundle b = text_bundle("K\n", "C\n", "A\n");
	char *missing = util_xasprintf("%s/no/such", dir);
	cr_assert_eq(agent_publish(missing, &b, err, sizeof(err)), -1);
	cr_assert_not_null(strstr(err, "cannot create"), "%s", err);
	free(missing);

	cr_assert_eq(agent_publish(dir, &b, err, sizeof(err)), 0, "%s", err);
	/* A directory where a file goes: refused, the first set intact. */
	char *sub = util_xasprintf("%s/x", dir);
	cr_assert_eq(mkdir(sub, 0755), 0);
	cr_assert_eq(agent_publish(sub, &b, err, sizeof(err)), 0);
	char *crt = util_xasprintf("%s/tls.crt", sub);
	cr_assert_eq(unlink(crt), 0);
	cr_assert_eq(mkdir(crt, 0755), 0);
	struct agent_bundle b2 = text_bundle("K2\n", "C2\n", "A2\n");
	cr_assert_eq(agent_publish(sub, &b2, err, sizeof(err)), -1);
	cr_assert_not_null(strstr(err, "is a directory"), "%s", err);
	free(crt);
	free(sub);
	/* Read-only: no data directory can be made. */
	if (geteuid() != 0) {
		chmod(dir, 0555);
		cr_assert_eq(agent_publish(dir, &b2, err, sizeof(err)), -1);
		chmod(dir, 0755);
	}
	char *p = util_xasprintf("%s/tls.key", dir);
	char *s = slurp(p);
	cr_assert_str_eq(s, "K\n");
	free(s);
	free(p);
	rm_rf(dir);
	free(dir);
}

/* ---------------------------------------------------------------- a reader */

#define PAIRS 4
#define ROUNDS 200

struct pair {
	char *key;
	size_t key_len;
	char *cert;
};

static EVP_PKEY *read_key(int dfd, const char *name)
{
	char buf[8192];
	int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	ssize_t n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n <= 0)
		return (EVP_PKEY *)-1; /* an empty file: a torn write */
	BIO *b = BIO_new_mem_buf(buf, (int)n);
	EVP_PKEY *k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	BIO_free(b);
	return k ? k : (EVP_PKEY *)-1;
}

static EVP_PKEY *read_cert_key(int dfd, const char *name)
{
	char buf[8192];
	int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	ssize_t n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n <= 0)
		return (EVP_PKEY *)-1;
	BIO *b = BIO_new_mem_buf(buf, (int)n);
	X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	if (x == NULL)
		return (EVP_PKEY *)-1;
	EVP_PKEY *k = X509_get_pubkey(x);
	X509_free(x);
	return k;
}

/*
 * The reader: through one open of DIR/..data (as a careful consumer does),
 * and through DIR/tls.key and DIR/tls.crt when ..data names the same
 * directory before and after (what a consumer that re-reads on change
 * sees). Exit status: 0 good, 1 a mismatch, 2 a torn file, 3 no read.
 */
static int reader(const char *dir, int stop_fd, int ready_fd)
{
	char *data = util_xasprintf("%s/..data", dir);
	int dfd_root = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	unsigned long good = 0;
	bool told = false;
	for (;;) {
		struct pollfd pfd = {stop_fd, POLLIN, 0};
		if (poll(&pfd, 1, 0) > 0)
			break;
		for (int way = 0; way < 2; way++) {
			char l1[256], l2[256];
			ssize_t n1 = 0, n2 = 0;
			int dfd;
			if (way == 0) {
				dfd = open(data, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			} else {
				n1 = readlink(data, l1, sizeof(l1));
				dfd = dup(dfd_root);
			}
			if (dfd < 0)
				continue;
			EVP_PKEY *k = read_key(dfd, "tls.key");
			EVP_PKEY *c = read_cert_key(dfd, "tls.crt");
			if (way == 1)
				n2 = readlink(data, l2, sizeof(l2));
			close(dfd);
			bool torn = k == (EVP_PKEY *)-1 || c == (EVP_PKEY *)-1;
			bool same =
			    way == 0 || (n1 > 0 && n1 == n2 && memcmp(l1, l2, (size_t)n1) == 0);
			int rc = -1;
			if (torn && same)
				rc = 2; /* a file through a stable ..data that does not parse */
			else if (!torn && k != NULL && c != NULL && same)
				rc = EVP_PKEY_eq(k, c) == 1 ? 0 : 1;
			if (k != NULL && k != (EVP_PKEY *)-1)
				EVP_PKEY_free(k);
			if (c != NULL && c != (EVP_PKEY *)-1)
				EVP_PKEY_free(c);
			if (rc > 0)
				return rc;
			if (rc == 0) {
				good++;
				if (!told) {
					(void)!write(ready_fd, "r", 1);
					told = true;
				}
			}
		}
	}
	free(data);
	return good > 0 ? 0 : 3;
}

Test(agent_publish, reader_never_sees_a_mismatch, .timeout = 120)
{
	char *dir = tmpdir();
	char err[256] = "";
	struct test_ca ca;
	struct pair pairs[PAIRS];
	struct agent_key *keys[PAIRS];

	test_ca_make(&ca, "publish CA", NULL);
	char *ca_pem = test_cert_pem(ca.cert);
	for (int i = 0; i < PAIRS; i++) {
		keys[i] = agent_key_new(AGENT_KEY_ECDSA_P256, err, sizeof(err));
		pairs[i].key = agent_key_pem(keys[i], &pairs[i].key_len);
		pairs[i].cert = test_issue(&ca, agent_key_pkey(keys[i]), "DNS:a.b", 0, 3600);
	}
	struct agent_bundle b = {pairs[0].key,          pairs[0].key_len, pairs[0].cert,
	                         strlen(pairs[0].cert), ca_pem,           strlen(ca_pem)};
	cr_assert_eq(agent_publish(dir, &b, err, sizeof(err)), 0, "%s", err);

	int stop[2], ready[2];
	cr_assert_eq(pipe(stop), 0);
	cr_assert_eq(pipe(ready), 0);
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		close(stop[1]);
		close(ready[0]);
		_exit(reader(dir, stop[0], ready[1]));
	}
	close(stop[0]);
	close(ready[1]);
	/* Publish only once the reader reads. */
	char c;
	cr_assert_eq(read(ready[0], &c, 1), 1, "the reader never read a pair");
	for (int r = 1; r <= ROUNDS; r++) {
		struct pair *p = &pairs[r % PAIRS];
		struct agent_bundle nb = {p->key,          p->key_len, p->cert,
		                          strlen(p->cert), ca_pem,     strlen(ca_pem)};
		cr_assert_eq(agent_publish(dir, &nb, err, sizeof(err)), 0, "round %d: %s", r, err);
	}
	close(stop[1]);
	int st = 0;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st));
	cr_assert_eq(WEXITSTATUS(st), 0, "reader: %s",
	             WEXITSTATUS(st) == 1       ? "a key and a certificate that do not match"
	                 : WEXITSTATUS(st) == 2 ? "a torn file"
	                                        : "no read");
	cr_assert_eq(data_dirs(dir), 1);
	close(ready[0]);

	for (int i = 0; i < PAIRS; i++) {
		agent_secret_free(pairs[i].key, pairs[i].key_len);
		free(pairs[i].cert);
		agent_key_free(keys[i]);
	}
	free(ca_pem);
	test_ca_free(&ca);
	rm_rf(dir);
	free(dir);
}
