/*
 * audit: the audit log's JSON line and its file (see audit.h).
 */
#include "audit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct audit_log {
	char *path; /* owned; NULL for stdout */
	int fd;
	uint64_t lines;
	bool torn; /* a line was cut short and left in place: end it first */
};

/* ---------------------------------------------------------------- the line */

static void put_str(struct util_buf *b, const char *s)
{
	if (s == NULL) {
		util_buf_puts(b, "null");
		return;
	}
	size_t n = strlen(s);
	bool cut = n > AUDIT_MAX_VALUE;
	if (cut) {
		n = AUDIT_MAX_VALUE;
		/* On a UTF-8 boundary. */
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	util_buf_putc(b, '"');
	util_buf_json_escape(b, s, n);
	if (cut)
		util_buf_puts(b, "...");
	util_buf_putc(b, '"');
}

static void put_key(struct util_buf *b, const char *key)
{
	util_buf_printf(b, ",\"%s\":", key);
}

static void put_strv(struct util_buf *b, const struct util_strv *sv)
{
	util_buf_putc(b, '[');
	for (size_t i = 0; sv != NULL && i < sv->n && i < AUDIT_MAX_NAMES; i++) {
		if (i)
			util_buf_putc(b, ',');
		put_str(b, sv->v[i]);
	}
	util_buf_putc(b, ']');
}

static void put_time(struct util_buf *b, int64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char s[40];
	if (gmtime_r(&t, &tm) == NULL || strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
		util_buf_puts(b, "null");
		return;
	}
	util_buf_printf(b, "\"%s.%03dZ\"", s, (int)(ms % 1000));
}

char *audit_line(const struct audit_record *r)
{
	struct util_buf b = {0};
	util_buf_puts(&b, "{\"time\":");
	put_time(&b, r->time_ms);
	put_key(&b, "event");
	put_str(&b, r->event);
	put_key(&b, "kind");
	put_str(&b, r->kind);
	put_key(&b, "name");
	put_str(&b, r->name);
	if (r->ns != NULL) {
		put_key(&b, "namespace");
		put_str(&b, r->ns);
	}
	put_key(&b, "uid");
	put_str(&b, r->uid);
	put_key(&b, "signerName");
	put_str(&b, r->signer);
	util_buf_puts(&b, ",\"requester\":{\"username\":");
	put_str(&b, r->username);
	put_key(&b, "uid");
	put_str(&b, r->user_uid);
	put_key(&b, "groups");
	put_strv(&b, r->groups);
	util_buf_putc(&b, '}');
	put_key(&b, "pod");
	put_str(&b, r->pod);
	put_key(&b, "podUID");
	put_str(&b, r->pod_uid);
	put_key(&b, "node");
	put_str(&b, r->node);
	put_key(&b, "sans");
	put_strv(&b, r->names);
	if (r->names != NULL && r->names->n > AUDIT_MAX_NAMES)
		util_buf_printf(&b, ",\"sansTotal\":%zu", r->names->n);
	put_key(&b, "keyType");
	put_str(&b, r->key_type);
	put_key(&b, "spkiSHA256");
	put_str(&b, r->spki_sha256);
	put_key(&b, "policy");
	put_str(&b, r->policy);
	put_key(&b, "decision");
	put_str(&b, r->decision);
	put_key(&b, "reason");
	put_str(&b, r->reason);
	put_key(&b, "message");
	put_str(&b, r->message);
	put_key(&b, "approvedBy");
	put_str(&b, r->approved_by);
	if (r->serial != NULL) {
		util_buf_puts(&b, ",\"certificate\":{\"serial\":");
		put_str(&b, r->serial);
		util_buf_puts(&b, ",\"notAfter\":");
		put_time(&b, r->not_after * 1000);
		util_buf_putc(&b, '}');
	}
	if (r->dry_run)
		util_buf_puts(&b, ",\"dryRun\":true");
	put_key(&b, "instance");
	put_str(&b, r->instance);
	util_buf_puts(&b, "}\n");
	return util_buf_take(&b);
}

/* ---------------------------------------------------------------- the file */

static int open_path(const char *path, int *fd, char *err, size_t errlen)
{
	*fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
	if (*fd < 0) {
		snprintf(err, errlen, "audit log %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

struct audit_log *audit_open(const char *path, char *err, size_t errlen)
{
	struct audit_log *a = NULL;
	int fd = -1;
	if (path == NULL || path[0] == '\0') {
		snprintf(err, errlen, "audit log: empty path");
		return NULL;
	}
	if (strcmp(path, "-") != 0 && open_path(path, &fd, err, errlen) != 0)
		return NULL;
	a = util_xcalloc(1, sizeof(*a));
	if (strcmp(path, "-") == 0) {
		a->fd = STDOUT_FILENO;
	} else {
		a->path = util_xstrdup(path);
		a->fd = fd;
	}
	return a;
}

void audit_close(struct audit_log *a)
{
	if (a == NULL)
		return;
	if (a->path != NULL && a->fd >= 0)
		close(a->fd);
	free(a->path);
	free(a);
}

int audit_reopen(struct audit_log *a, char *err, size_t errlen)
{
	int fd;
	if (a->path == NULL)
		return 0;
	if (open_path(a->path, &fd, err, errlen) != 0)
		return -1;
	close(a->fd);
	a->fd = fd;
	a->torn = false;
	return 0;
}

int audit_write(struct audit_log *a, const struct audit_record *r, char *err, size_t errlen)
{
	char *line = audit_line(r);
	size_t len = strlen(line), off = 0;
	struct stat st;
	/* Where this line starts, to take back a part of it that a full disk
	 * let through: else the next line would be glued to it. */
	off_t start = fstat(a->fd, &st) == 0 && S_ISREG(st.st_mode) ? st.st_size : -1;
	int rc = -1;
	if (a->torn) {
		/* A part we could not take back: end it, so that only that
		 * one line is broken. */
		if (write(a->fd, "\n", 1) != 1) {
			snprintf(err, errlen, "audit log %s: %s", a->path ? a->path : "stdout",
			         strerror(errno));
			goto out;
		}
		a->torn = false;
	}
	while (off < len) {
		ssize_t n = write(a->fd, line + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "audit log %s: %s", a->path ? a->path : "stdout",
			         n < 0 ? strerror(errno) : "nothing written");
			if (off > 0 && (start < 0 || ftruncate(a->fd, start) != 0))
				a->torn = true;
			goto out;
		}
		off += (size_t)n;
	}
	a->lines++;
	rc = 0;
out:
	free(line);
	return rc;
}

uint64_t audit_lines(const struct audit_log *a)
{
	return a->lines;
}
