/*
 * audit: the audit log of `csr-approver run --audit-log FILE|-` (SPEC.md,
 * "Governance"): one JSON line per decision and per issuance, appended to
 * the file and handed to the kernel before the call returns.
 *
 * What a line holds: the time; the object (kind, name, namespace of a
 * PodCertificateRequest, uid); the signer; who asked (username, uid,
 * groups); the pod and node the request is bound to; the names asked for
 * or issued; the key type and the SHA-256 of the SubjectPublicKeyInfo; the
 * policy, the decision, its reason and message; who approved; the
 * certificate's serial and notAfter when one was issued. Never a key, a
 * token, or a whole request or certificate: the fingerprint identifies the
 * key, the serial the certificate. Strings taken from a request are
 * escaped and cut to AUDIT_MAX_VALUE bytes, at most AUDIT_MAX_NAMES names.
 *
 * The file is opened with O_APPEND (several writers, logrotate's
 * copytruncate and plain appends all keep whole lines) and each line is one
 * write(2). audit_reopen() closes and opens the path again: after
 * logrotate has moved the file, on SIGHUP.
 *
 * Not thread-safe: one thread owns a struct audit_log.
 */
#ifndef CSR_APPROVER_AUDIT_H
#define CSR_APPROVER_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../util/util.h"

/* Longest string value written, in bytes, before "..." is appended. */
#define AUDIT_MAX_VALUE 1024
/* Most names (SANs) and groups listed in a line. */
#define AUDIT_MAX_NAMES 64

/* One record. Every pointer is borrowed; NULL strings are written as null
 * (or left out where noted). */
struct audit_record {
	int64_t time_ms; /* Unix milliseconds */
	const char *event; /* "decision" or "issuance" */
	const char *kind; /* "CertificateSigningRequest" or "PodCertificateRequest" */
	const char *name, *ns, *uid; /* ns: PodCertificateRequests only (left out when NULL) */
	const char *signer;
	const char *username, *user_uid;
	const struct util_strv *groups; /* NULL: [] */
	const char *pod; /* "NS/NAME" the request is bound to, or NULL */
	const char *pod_uid, *node;
	const struct util_strv *names; /* the SANs asked for, or issued; NULL: [] */
	const char *key_type; /* "ECDSA-P256", "RSA-2048", "Ed25519", ... */
	const char *spki_sha256; /* lower-case hex */
	const char *policy;
	/* "approve", "deny", "leave-pending", "issue" or "fail" */
	const char *decision;
	const char *reason, *message;
	/* Who approved: "csr-approver/POLICY", "kubectl", or the condition's
	 * reason of another approver. */
	const char *approved_by;
	const char *serial; /* issued certificate; NULL: no "certificate" member */
	int64_t not_after; /* Unix seconds, with serial */
	bool dry_run; /* written as "dryRun":true, left out when false */
	const char *instance; /* the controller's identity */
};

/* The record as one JSON object and a newline. Caller frees. */
char *audit_line(const struct audit_record *r);

struct audit_log;

/* Open path for appending (created 0600 when absent), or stdout for "-".
 * Returns NULL with a one-line message in err. Caller closes with
 * audit_close(). */
struct audit_log *audit_open(const char *path, char *err, size_t errlen);
void audit_close(struct audit_log *a); /* NULL does nothing */

/* Append one record. Returns 0, or -1 with the reason in err when the line
 * could not be written whole (the caller logs and counts it; a decision is
 * never held back by its audit line). */
int audit_write(struct audit_log *a, const struct audit_record *r, char *err, size_t errlen);

/* Close and open the path again (logrotate moved it away). On failure the
 * old descriptor is kept and -1 returned with err. Does nothing for "-". */
int audit_reopen(struct audit_log *a, char *err, size_t errlen);

/* Lines written since audit_open(). */
uint64_t audit_lines(const struct audit_log *a);

#endif
