/*
 * agent: atomic publication of the key, the certificate and the CA, the
 * way the kubelet's AtomicWriter writes projected volumes:
 *
 *   DIR/..2026_07_25_10_00_00.Ab12Cd/   the data of one issuance
 *   DIR/..data -> ..2026_07_25_10_00_00.Ab12Cd
 *   DIR/tls.key -> ..data/tls.key        (and tls.crt, ca.crt)
 *
 * A new data directory is written and synced in full, then ..data is
 * swapped to it with one rename(2) of a temporary symlink: every path
 * through ..data sees either the old set or the new one. The old directory
 * is removed after the swap.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"

#define DATA_LINK "..data"
#define DATA_TMP "..data_tmp"
#define LINK_TMP "..link_tmp"

static const char *const file_names[3] = {"tls.key", "tls.crt", "ca.crt"};

/* Is name one of our data directories: ..YYYY_MM_DD_HH_MM_SS.XXXXXX? */
static bool data_dir_name(const char *name)
{
	static const char shape[] = "..dddd_dd_dd_dd_dd_dd.";
	size_t n = strlen(name), k = sizeof(shape) - 1;
	if (n != k + 6)
		return false;
	for (size_t i = 0; i < k; i++) {
		if (shape[i] == 'd' ? (name[i] < '0' || name[i] > '9') : name[i] != shape[i])
			return false;
	}
	for (size_t i = k; i < n; i++)
		if (name[i] == '/' || name[i] == '.')
			return false;
	return true;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int write_file(int dfd, const char *name, const char *data, size_t len, mode_t mode)
{
	int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return -1;
	/* The umask must not make the key readable by others, nor hide the
	 * certificates from a reader running as another user. */
	if (fchmod(fd, mode) != 0 || write_all(fd, data, len) != 0 || fsync(fd) != 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return close(fd);
}

/* Remove a data directory (its plain files, then itself). */
static void remove_data_dir(int dfd, const char *name)
{
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0) {
		DIR *d = fdopendir(fd);
		if (d == NULL) {
			close(fd);
		} else {
			struct dirent *e;
			while ((e = readdir(d)) != NULL) {
				if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
					(void)unlinkat(dirfd(d), e->d_name, 0);
			}
			closedir(d);
		}
	}
	(void)unlinkat(dfd, name, AT_REMOVEDIR);
}

/* Point dfd/name at target with a rename over it (atomic for readers). */
static int swap_link(int dfd, const char *tmp, const char *target, const char *name)
{
	if (unlinkat(dfd, tmp, 0) != 0 && errno != ENOENT)
		return -1;
	if (symlinkat(target, dfd, tmp) != 0)
		return -1;
	if (renameat(dfd, tmp, dfd, name) != 0) {
		int e = errno;
		(void)unlinkat(dfd, tmp, 0);
		errno = e;
		return -1;
	}
	return 0;
}

int agent_publish(const char *dir, const struct agent_bundle *b, char *err, size_t errlen)
{
	int dfd = -1, ndfd = -1, rc = -1;
	char *path = NULL;
	const char *newname = NULL;
	bool swapped = false;
	struct stat st;

	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "%s: cannot create: %s", dir, strerror(errno));
		goto out;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		goto out;
	}

	struct timespec ts;
	struct tm tm;
	char stamp[64];
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "..%Y_%m_%d_%H_%M_%S.", &tm);
	path = util_xasprintf("%s/%sXXXXXX", dir, stamp);
	if (mkdtemp(path) == NULL) {
		snprintf(err, errlen, "%s: cannot make a data directory: %s", dir, strerror(errno));
		goto out;
	}
	newname = strrchr(path, '/') + 1;
	ndfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (ndfd < 0 || fchmod(ndfd, 0755) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail_new;
	}
	const char *const data[3] = {b->key_pem, b->cert_pem, b->ca_pem};
	const size_t lens[3] = {b->key_len, b->cert_len, b->ca_len};
	for (int i = 0; i < 3; i++) {
		if (write_file(ndfd, file_names[i], data[i], lens[i], i == 0 ? 0600 : 0644) != 0) {
			snprintf(err, errlen, "%s/%s: %s", path, file_names[i], strerror(errno));
			goto fail_new;
		}
	}
	if (fsync(ndfd) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail_new;
	}
	if (swap_link(dfd, DATA_TMP, newname, DATA_LINK) != 0) {
		snprintf(err, errlen, "%s/%s: cannot swap: %s", dir, DATA_LINK, strerror(errno));
		goto fail_new;
	}
	swapped = true;
	for (int i = 0; i < 3; i++) {
		char want[64], have[64];
		snprintf(want, sizeof(want), "%s/%s", DATA_LINK, file_names[i]);
		ssize_t n = readlinkat(dfd, file_names[i], have, sizeof(have) - 1);
		if (n >= 0) {
			have[n] = '\0';
			if (strcmp(have, want) == 0)
				continue;
		}
		if (fstatat(dfd, file_names[i], &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISDIR(st.st_mode)) {
			snprintf(err, errlen, "%s/%s is a directory", dir, file_names[i]);
			goto out;
		}
		if (swap_link(dfd, LINK_TMP, want, file_names[i]) != 0) {
			snprintf(err, errlen, "%s/%s: %s", dir, file_names[i], strerror(errno));
			goto out;
		}
	}
	(void)fsync(dfd);

	/* The previous data directory, and any a crash left behind. */
	DIR *d = fdopendir(dup(dfd));
	if (d != NULL) {
		struct util_strv old = {0};
		struct dirent *e;
		while ((e = readdir(d)) != NULL) {
			if (strcmp(e->d_name, newname) != 0 && data_dir_name(e->d_name))
				util_strv_push(&old, e->d_name);
		}
		closedir(d);
		for (size_t i = 0; i < old.n; i++)
			remove_data_dir(dfd, old.v[i]);
		util_strv_free(&old);
	}
	rc = 0;
	goto out;
fail_new:
	if (!swapped && newname != NULL)
		remove_data_dir(dfd, newname);
out:
	if (ndfd >= 0)
		close(ndfd);
	if (dfd >= 0)
		close(dfd);
	free(path);
	return rc;
}
