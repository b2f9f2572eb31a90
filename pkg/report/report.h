/*
 * report: the inventory of machine identities (SPEC.md, "Governance"):
 * which workload holds which names under which signer, who decided, until
 * when; and the findings a security team asks about: CSRs pending too
 * long, CSRs under signers no policy covers (shadow enrollments), CSRs of
 * csr-approver's signers decided by someone else, certificates that expire
 * soon.
 *
 * The core is pure: objects in (CertificateSigningRequests and
 * PodCertificateRequests as the API server returns them, parsed JSON), rows
 * and a summary out, rendered as a table, JSON or CSV. `csr-approver
 * report` (report_main) adds the LIST; `csr-approver why` (report_why_main)
 * decides one CSR again against live objects. The controller's inventory
 * gauges share report_decision_read().
 *
 * Everything read from an object is untrusted: strings are cut to
 * REPORT_MAX_FIELD bytes, names to REPORT_MAX_NAMES per row, rows to
 * REPORT_MAX_ROWS; control characters never reach the output unescaped.
 *
 * Not thread-safe: one thread owns a struct report.
 */
#ifndef CSR_APPROVER_REPORT_H
#define CSR_APPROVER_REPORT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../policy/policy.h"
#include "../util/util.h"

#define REPORT_MAX_ROWS 200000
#define REPORT_MAX_FIELD 256
#define REPORT_MAX_NAMES 64

enum report_kind {
	REPORT_CSR,
	REPORT_PCR,
};

/* Where a request stands. */
enum report_state {
	REPORT_PENDING,
	REPORT_APPROVED, /* approved, no certificate yet */
	REPORT_ISSUED, /* a certificate was written */
	REPORT_DENIED,
	REPORT_FAILED,
};

/* Who decided. */
enum report_by {
	REPORT_BY_NOBODY, /* pending */
	REPORT_BY_POLICY, /* csr-approver: the condition's message names the policy */
	REPORT_BY_PERSON, /* `kubectl certificate approve|deny` (KubectlApprove, KubectlDeny) */
	REPORT_BY_OTHER, /* another approver or signer (kube-controller-manager, ...) */
};

/* The deciding condition of a request, as written in its status. */
struct report_decision {
	enum report_state state; /* from the conditions and the certificate */
	enum report_by by;
	/* POLICY: the policy's name; PERSON: "kubectl"; OTHER: the condition's
	 * reason (or "unknown"). Printable ASCII. */
	char by_name[REPORT_MAX_FIELD];
	char reason[REPORT_MAX_FIELD]; /* the condition's reason, printable ASCII */
	char decision[8]; /* "approve", "deny", "fail", or "" while pending */
	int64_t at; /* lastUpdateTime, else lastTransitionTime, Unix s; 0 unknown */
};

/*
 * Read status (the object's "status" member; NULL is pending) of a CSR
 * (Approved, Denied, Failed, status.certificate) or a PodCertificateRequest
 * (Issued, Denied, Failed). The decider is the Approved or Denied condition
 * of a CSR (else Failed), the first of Issued, Denied, Failed of a PCR.
 * A condition is csr-approver's when its message starts
 * "csr-approver: policy NAME:" and, for an approval, its reason is
 * AutoApproved. Pure; never fails.
 */
void report_decision_read(const json_t *status, enum report_kind kind, struct report_decision *out);
/* "Pending", "Approved", "Issued", "Denied", "Failed". */
const char *report_state_name(enum report_state s);
/* "csr-approver/POLICY", "kubectl", "other/REASON", or "" while pending,
 * into buf. */
const char *report_by_text(const struct report_decision *d, char *buf, size_t len);

/* Findings, as bits. */
#define REPORT_F_PENDING (1u << 0) /* pending longer than pending_over */
#define REPORT_F_UNMANAGED (1u << 1) /* no policy covers the signer */
#define REPORT_F_FOREIGN (1u << 2) /* our signer, decided by someone else */
#define REPORT_F_EXPIRING (1u << 3) /* certificate expires within `expiring` */
#define REPORT_F_ALL 0xfu

/* "pending,unmanaged,foreign,expiring" (any subset, or "all", or "none")
 * to bits. Returns 0, or -1 with a message naming the bad word. */
int report_parse_findings(const char *s, unsigned *out, char *err, size_t errlen);

struct report_row {
	enum report_kind kind;
	char *name; /* owned; a PCR's is NAMESPACE/NAME */
	char *uid; /* owned */
	char *signer; /* owned */
	char *policy; /* owned; the policy covering the signer, NULL: none */
	char *requester; /* owned; spec.username, a PCR's system:node:NODE */
	char *requester_uid; /* owned */
	struct util_strv groups;
	char *pod; /* owned; NS/NAME of the pod it is bound to, or NULL */
	char *pod_uid; /* owned or NULL */
	char *node; /* owned or NULL */
	char *service_account; /* owned; NS/SA, or NULL */
	/* The names asked for (a CSR's request SANs) or, for a PCR, issued. */
	struct util_strv names;
	size_t n_names_total; /* before the REPORT_MAX_NAMES cut */
	char *key_type; /* owned; "ECDSA-P256", ... or NULL when unknown */
	char *problem; /* owned; why names or the certificate are unknown, or NULL */
	int64_t created; /* Unix s; 0 unknown */
	struct report_decision decision;
	bool issued;
	char *serial; /* owned; NULL without a readable certificate */
	int64_t not_before, not_after; /* Unix s; 0 without */
	unsigned findings; /* REPORT_F_* */
};

struct report_options {
	int64_t now; /* Unix s */
	int64_t expiring; /* seconds: the window of "expiring" (default 7d) */
	int64_t pending_over; /* seconds: "pending too long" (default 15m) */
	/* The policies: a signer is covered when a policy names it (for PCRs:
	 * with podCertificates). Borrowed; NULL: inferred, a signer is
	 * covered when csr-approver decided one of its requests, and the
	 * summary says so. */
	const struct policy_set *set;
	/* The file set was read from, for the summary. Borrowed; may be NULL. */
	const char *policy_file;
};

struct report;

/* A new empty report (o copied; o->set borrowed). Caller frees with
 * report_free(). */
struct report *report_new(const struct report_options *o);
void report_free(struct report *r); /* NULL does nothing */

/* Add one object as the API returns it. Returns 0, or -1 with a message
 * (not an object, metadata.name missing, too many rows): the caller reports
 * it and goes on. */
int report_add(struct report *r, enum report_kind kind, const json_t *obj, char *err,
               size_t errlen);
/* Note that a kind could not be listed (e.g. PodCertificateRequests not
 * served), for the output. why is copied. */
void report_note(struct report *r, const char *why);

/* Classify every row and sort (kind, signer, name). Call once, after the
 * last report_add(). */
void report_finish(struct report *r);

size_t report_rows(const struct report *r);
const struct report_row *report_row(const struct report *r, size_t i);
/* The union of the rows' findings. */
unsigned report_findings(const struct report *r);

enum report_format {
	REPORT_TABLE,
	REPORT_JSON,
	REPORT_CSV,
};

/*
 * Render: a table (columns fitted to width characters, cells cut with
 * "...", ages as 45s, 5m, 3h, 3d) followed by the summary; one JSON
 * document {"generatedAt","options","items","summary"}; or CSV (RFC 4180,
 * one header line, one line per row, a findings column; the summary is
 * report_summary_text()'s). Returns a new string the caller frees.
 */
char *report_render(const struct report *r, enum report_format f, unsigned width);
/* The summary as text lines. Caller frees. */
char *report_summary_text(const struct report *r);

/* An age as the table writes it: 45s, 5m, 3h, 3d (negative: "-" then the
 * same). buf needs 24 bytes. */
void report_format_age(int64_t seconds, char *buf, size_t len);

/* ---- commands (they print and return an exit status) ---- */

/* `csr-approver report [--kubeconfig F] [--context C] [--config F]
 * [-o table|json|csv] [--expiring D] [--pending-over D] [--fail-on LIST]`:
 * 0 no finding of --fail-on, 1 such a finding, 2 bad usage or the API
 * could not be read. argv[0] is "report". */
int report_main(int argc, char **argv);

/* The policy file when no --config names one. */
#define REPORT_POLICY_FILE "/etc/csr-approver/policy.yaml"

/* The policy file `why`, `check --kubeconfig` and `report` read: flag, else
 * $CSR_APPROVER_CONFIG, else default_path when it exists and is readable;
 * NULL when none. Borrowed (from the arguments or the environment). */
const char *report_policy_path(const char *flag, const char *default_path);

/* Load the policy file report_policy_path(flag, default_path) names.
 * Without one, as the controller without a file: an empty set, so that
 * every request is skipped (NoPolicy), and a line on note (prefixed
 * "csr-approver CMD: ") saying so. Returns the set (caller frees with
 * policy_set_free()), or NULL with err when the file does not load. */
struct policy_set *report_policy_load(const char *flag, const char *default_path, const char *cmd,
                                      FILE *note, char *err, size_t errlen);

/* How `why` asks the API server: one request run to completion. body is
 * NULL or body_len bytes of JSON; *resp gets the answer's body (caller
 * frees; may stay NULL). Returns the HTTP status, or 0 with err when no
 * answer came. */
struct report_why_io {
	void *ctx;
	long (*request)(void *ctx, const char *method, const char *path, const char *body,
	                size_t body_len, char **resp, char *err, size_t errlen);
};

/*
 * `why`'s record of name (a CSR's NAME, or a PodCertificateRequest's
 * NAMESPACE/NAME) under set: read the object and exactly the objects its
 * decision needs through io, decide as the controller would now. Returns
 * the exit status of `check` (0 approve, 1 deny, 3 skip) with *rec (caller
 * json_decref()s), or 2 with err (a bad name, an object that could not be
 * read) and *rec NULL. Blocks on io; one thread.
 */
int report_why_record(const struct report_why_io *io, const struct policy_set *set,
                      const char *name, json_t **rec, char *err, size_t errlen);

/* `csr-approver why [--kubeconfig F] [--context C] [--config F]
 * [-o text|json] NAME|NS/NAME` and `check --kubeconfig F NAME` (json_default
 * true): read the CSR (or PodCertificateRequest) and exactly the objects
 * its decision needs, decide, and print the record with every check that
 * passed or failed. Exit status as `check`: 0 approve, 1 deny, 3 skip,
 * 2 bad usage or unreadable input. argv[0] is the command's name. */
int report_why_main(int argc, char **argv, bool json_default);

#endif
