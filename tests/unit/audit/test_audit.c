/*
 * pkg/audit: the JSON line (every field of SPEC.md, escaping, caps) and
 * the file (append, one write per line, reopen after a rotation, write
 * failures reported, no line left cut short by a full disk).
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../../pkg/audit/audit.h"
#include "../../../pkg/util/util.h"

static struct util_strv groups, names;

static struct audit_record sample(void)
{
	util_strv_free(&groups);
	util_strv_free(&names);
	util_strv_push(&groups, "system:serviceaccounts");
	util_strv_push(&groups, "system:serviceaccounts:shop");
	util_strv_push(&names, "spiffe://cluster.local/ns/shop/sa/web");
	util_strv_push(&names, "10.244.1.7");
	return (struct audit_record){
	    .time_ms = 1785000000123LL,
	    .event = "issuance",
	    .kind = "CertificateSigningRequest",
	    .name = "csr-abc",
	    .uid = "u-1",
	    .signer = "example.com/w",
	    .username = "system:serviceaccount:shop:web",
	    .user_uid = "sa-uid",
	    .groups = &groups,
	    .pod = "shop/web-0",
	    .pod_uid = "pod-uid",
	    .node = "node-1",
	    .names = &names,
	    .key_type = "ECDSA-P256",
	    .spki_sha256 = "00ff",
	    .policy = "w",
	    .decision = "issue",
	    .reason = "Issued",
	    .message = "csr-approver: policy w: issued",
	    .approved_by = "csr-approver/w",
	    .serial = "0A1B",
	    .not_after = 1785086400,
	    .instance = "pod-1",
	};
}

static json_t *parse_line(const char *line)
{
	json_error_t e;
	size_t n = strlen(line);
	cr_assert(n > 0 && line[n - 1] == '\n', "a line ends in a newline");
	cr_assert_null(memchr(line, '\n', n - 1), "one line only: %s", line);
	json_t *o = json_loads(line, 0, &e);
	cr_assert_not_null(o, "not JSON: %s: %s", e.text, line);
	return o;
}

static const char *s(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

Test(audit, line_holds_every_field)
{
	struct audit_record r = sample();
	char *line = audit_line(&r);
	json_t *o = parse_line(line);
	cr_expect_str_eq(s(o, "time"), "2026-07-25T17:20:00.123Z");
	cr_expect_str_eq(s(o, "event"), "issuance");
	cr_expect_str_eq(s(o, "kind"), "CertificateSigningRequest");
	cr_expect_str_eq(s(o, "name"), "csr-abc");
	cr_expect_null(json_object_get(o, "namespace"), "no namespace for a CSR");
	cr_expect_str_eq(s(o, "uid"), "u-1");
	cr_expect_str_eq(s(o, "signerName"), "example.com/w");
	json_t *req = json_object_get(o, "requester");
	cr_expect_str_eq(s(req, "username"), "system:serviceaccount:shop:web");
	cr_expect_str_eq(s(req, "uid"), "sa-uid");
	cr_expect_eq(json_array_size(json_object_get(req, "groups")), 2);
	cr_expect_str_eq(s(o, "pod"), "shop/web-0");
	cr_expect_str_eq(s(o, "podUID"), "pod-uid");
	cr_expect_str_eq(s(o, "node"), "node-1");
	cr_expect_str_eq(json_string_value(json_array_get(json_object_get(o, "sans"), 1)),
	                 "10.244.1.7");
	cr_expect_str_eq(s(o, "keyType"), "ECDSA-P256");
	cr_expect_str_eq(s(o, "spkiSHA256"), "00ff");
	cr_expect_str_eq(s(o, "policy"), "w");
	cr_expect_str_eq(s(o, "decision"), "issue");
	cr_expect_str_eq(s(o, "reason"), "Issued");
	cr_expect_str_eq(s(o, "message"), "csr-approver: policy w: issued");
	cr_expect_str_eq(s(o, "approvedBy"), "csr-approver/w");
	json_t *c = json_object_get(o, "certificate");
	cr_expect_str_eq(s(c, "serial"), "0A1B");
	cr_expect_str_eq(s(c, "notAfter"), "2026-07-26T17:20:00.000Z");
	cr_expect_null(json_object_get(o, "dryRun"));
	cr_expect_str_eq(s(o, "instance"), "pod-1");
	json_decref(o);
	free(line);
}

Test(audit, decision_without_certificate_and_nulls)
{
	struct audit_record r = sample();
	r.event = "decision";
	r.decision = "deny";
	r.serial = NULL;
	r.pod = NULL;
	r.approved_by = NULL;
	r.groups = NULL;
	r.names = NULL;
	r.dry_run = true;
	char *line = audit_line(&r);
	json_t *o = parse_line(line);
	cr_expect_null(json_object_get(o, "certificate"));
	cr_expect(json_is_null(json_object_get(o, "pod")));
	cr_expect(json_is_null(json_object_get(o, "approvedBy")));
	cr_expect_eq(json_array_size(json_object_get(o, "sans")), 0);
	cr_expect(json_is_true(json_object_get(o, "dryRun")));
	json_decref(o);
	free(line);
}

Test(audit, untrusted_strings_are_escaped_and_cut)
{
	struct audit_record r = sample();
	struct util_strv many = {0};
	char *big = util_xmalloc(AUDIT_MAX_VALUE * 3);
	memset(big, 'a', AUDIT_MAX_VALUE * 3 - 1);
	big[AUDIT_MAX_VALUE * 3 - 1] = '\0';
	for (int i = 0; i < AUDIT_MAX_NAMES + 5; i++)
		util_strv_push(&many, "x.example");
	util_strv_push(&many, "evil\n\"name\"\x01");
	r.names = &many;
	r.message = big;
	r.username = "line\nbreak \"quoted\" \\ back\x7f";
	char *line = audit_line(&r);
	json_t *o = parse_line(line);
	cr_expect_eq(json_array_size(json_object_get(o, "sans")), AUDIT_MAX_NAMES);
	cr_expect_eq(json_integer_value(json_object_get(o, "sansTotal")), AUDIT_MAX_NAMES + 6);
	cr_expect_eq(strlen(s(o, "message")), AUDIT_MAX_VALUE + 3);
	cr_expect_str_eq(s(json_object_get(o, "requester"), "username"),
	                 "line\nbreak \"quoted\" \\ back\x7f");
	json_decref(o);
	free(line);
	free(big);
	util_strv_free(&many);
}

static char tmpdir[64];

static void dir_init(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/audit-test-XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
}

static void dir_fini(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "%s/audit.log", tmpdir);
	unlink(cmd);
	snprintf(cmd, sizeof(cmd), "%s/audit.log.1", tmpdir);
	unlink(cmd);
	rmdir(tmpdir);
	util_strv_free(&groups);
	util_strv_free(&names);
}

static size_t lines_in(const char *path)
{
	char *data = NULL, err[256];
	size_t len = 0, n = 0;
	cr_assert_eq(util_read_file(path, 1 << 20, &data, &len, err, sizeof(err)), 0, "%s", err);
	for (size_t i = 0; i < len; i++)
		if (data[i] == '\n') {
			n++;
		}
	/* Every line is a whole JSON object. */
	char *save = NULL;
	for (char *l = data ? strtok_r(data, "\n", &save) : NULL; l != NULL;
	     l = strtok_r(NULL, "\n", &save)) {
		json_error_t e;
		json_t *o = json_loads(l, 0, &e);
		cr_expect_not_null(o, "%s: %s", e.text, l);
		json_decref(o);
	}
	free(data);
	return n;
}

Test(audit, appends_and_survives_rotation, .init = dir_init, .fini = dir_fini)
{
	char path[128], rotated[128], err[256];
	snprintf(path, sizeof(path), "%s/audit.log", tmpdir);
	snprintf(rotated, sizeof(rotated), "%s/audit.log.1", tmpdir);
	struct audit_record r = sample();
	struct audit_log *a = audit_open(path, err, sizeof(err));
	cr_assert_not_null(a, "%s", err);
	struct stat st;
	cr_assert_eq(stat(path, &st), 0);
	cr_expect_eq(st.st_mode & 0777, 0600, "the log is readable by its owner only");
	cr_assert_eq(audit_write(a, &r, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(audit_write(a, &r, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(rename(path, rotated), 0);
	/* Before the reopen, lines still go to the moved file. */
	cr_assert_eq(audit_write(a, &r, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(audit_reopen(a, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(audit_write(a, &r, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(audit_lines(a), 4);
	audit_close(a);
	cr_expect_eq(lines_in(rotated), 3);
	cr_expect_eq(lines_in(path), 1);

	/* Opened again, it appends. */
	a = audit_open(path, err, sizeof(err));
	cr_assert_not_null(a, "%s", err);
	cr_assert_eq(audit_write(a, &r, err, sizeof(err)), 0, "%s", err);
	audit_close(a);
	cr_expect_eq(lines_in(path), 2);
}

/* A full disk lets part of a line through: it is taken back, so that the
 * next line written does not land after a fragment. RLIMIT_FSIZE makes
 * the partial write (each test runs in its own process). */
Test(audit, a_line_cut_short_is_taken_back, .init = dir_init, .fini = dir_fini)
{
	char path[128], err[256];
	snprintf(path, sizeof(path), "%s/audit.log", tmpdir);
	struct audit_record r = sample();
	struct audit_log *a = audit_open(path, err, sizeof(err));
	cr_assert_not_null(a, "%s", err);
	cr_assert_eq(audit_write(a, &r, err, sizeof(err)), 0, "%s", err);
	struct stat st;
	cr_assert_eq(stat(path, &st), 0);
	off_t one = st.st_size;

	struct rlimit old, lim;
	cr_assert_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_IGN);
	lim = old;
	lim.rlim_cur = (rlim_t)one + 40; /* room for a part of the next line */
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
	cr_expect_eq(audit_write(a, &r, err, sizeof(err)), -1, "the line did not fit");
	cr_expect(strstr(err, "File too large") != NULL, "%s", err);
	cr_assert_eq(stat(path, &st), 0);
	cr_expect_eq(st.st_size, one, "the part written was taken back (size %lld, want %lld)",
	             (long long)st.st_size, (long long)one);
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &old), 0);

	cr_assert_eq(audit_write(a, &r, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(audit_lines(a), 2);
	audit_close(a);
	cr_expect_eq(lines_in(path), 2); /* each a whole JSON object */
}

Test(audit, failures_are_reported)
{
	char err[256] = "";
	struct audit_record r = sample();
	cr_expect_null(audit_open("/nonexistent-dir/audit.log", err, sizeof(err)));
	cr_expect(strstr(err, "/nonexistent-dir/audit.log") != NULL, "%s", err);
	cr_expect_null(audit_open("", err, sizeof(err)));
	struct audit_log *a = audit_open("/dev/full", err, sizeof(err));
	cr_assert_not_null(a, "%s", err);
	cr_expect_eq(audit_write(a, &r, err, sizeof(err)), -1);
	cr_expect(strstr(err, "/dev/full") != NULL, "%s", err);
	cr_expect_eq(audit_lines(a), 0);
	audit_close(a);
	audit_close(NULL);
	util_strv_free(&groups);
	util_strv_free(&names);
}
