/*
 * report internals shared by its files; not part of its API.
 */
#ifndef CSR_APPROVER_REPORT_INTERNAL_H
#define CSR_APPROVER_REPORT_INTERNAL_H

#include "report.h"

struct report {
	struct report_options opt;
	struct report_row *rows; /* owned array */
	size_t n, cap;
	struct util_strv notes; /* what could not be listed */
	bool finished;
};

/* A copy of s cut to REPORT_MAX_FIELD bytes on a UTF-8 boundary ("..."
 * marks a cut); NULL for NULL. Caller frees. */
char *report_field(const char *s);
/* n bytes of s as printable ASCII ('?' for anything else) into dst (len
 * bytes, always terminated). */
void report_ascii(char *dst, size_t len, const char *s, size_t n);
/* "pending", "unmanaged", "foreign", "expiring" for one REPORT_F_ bit. */
const char *report_finding_name(unsigned bit);
/* RFC 3339 UTC ("2026-07-25T10:00:00Z") into buf (>= 21 bytes); "" for 0. */
void report_format_time(int64_t t, char *buf, size_t len);

/* ---- `why` (why_out.c) ---- */

/* The checks of decision d of a request of kind under rule (NULL: none
 * applies), in rule order: an array of {"check","reason","result",
 * "details"}, empty for a skip. result is "fail" for a check that failed,
 * "pass" for one the decision judged (policy_checked()) and "not-run"
 * for the rest. Caller json_decref()s. */
json_t *report_why_checks(enum report_kind kind, const struct policy_rule *rule,
                          const struct policy_decision *d);
/* The condition obj (a CSR or a PodCertificateRequest, by kind) carries
 * now: the first with status True of a CSR's Approved, Denied, Failed or a
 * PCR's Issued, Denied, Failed, as {"type","reason","message","decidedBy",
 * "certificate"} (certificate: status.certificate, a PCR's
 * status.certificateChain, is set); NULL while it is pending. Caller
 * json_decref()s. */
json_t *report_why_current(const json_t *obj, enum report_kind kind);
/* rec (report_why_record()'s) as text on stdout. */
void report_why_print(const json_t *rec);

#endif
