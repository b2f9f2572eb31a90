/*
 * report: rows and summary as a table, JSON or CSV (see report.h).
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Pending age buckets of the summary, as the metric names them. */
static const char *const age_names[4] = {"lt1m", "lt15m", "lt1h", "ge1h"};

static int age_bucket(int64_t age)
{
	return age < 60 ? 0 : age < 900 ? 1 : age < 3600 ? 2 : 3;
}

void report_format_time(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (t == 0 || gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "%s", "");
}

void report_format_age(int64_t s, char *buf, size_t len)
{
	const char *sign = "";
	if (s < 0) {
		sign = "-";
		s = -s;
	}
	if (s < 120)
		snprintf(buf, len, "%s%llds", sign, (long long)s);
	else if (s < 120 * 60)
		snprintf(buf, len, "%s%lldm", sign, (long long)(s / 60));
	else if (s < 48 * 3600)
		snprintf(buf, len, "%s%lldh", sign, (long long)(s / 3600));
	else
		snprintf(buf, len, "%s%lldd", sign, (long long)(s / 86400));
}

static void findings_text(unsigned f, char *buf, size_t len)
{
	size_t o = 0;
	buf[0] = '\0';
	for (unsigned i = 0; i < 4; i++)
		if (f & (1u << i))
			o += (size_t)snprintf(buf + o, o < len ? len - o : 0, "%s%s", o ? "," : "",
			                      report_finding_name(1u << i));
}

static const char *kind_name(enum report_kind k)
{
	return k == REPORT_CSR ? "csr" : "pcr";
}

static void identity_text(const struct report_row *w, char *buf, size_t len)
{
	if (w->pod != NULL)
		snprintf(buf, len, "pod %s", w->pod);
	else if (w->node != NULL && w->requester != NULL &&
	         strncmp(w->requester, "system:node:", 12) == 0)
		snprintf(buf, len, "node %s", w->node);
	else if (w->service_account != NULL)
		snprintf(buf, len, "sa %s", w->service_account);
	else
		snprintf(buf, len, "%s", "");
}

static char *names_text(const struct report_row *w, const char *sep)
{
	struct util_buf b = {0};
	for (size_t i = 0; i < w->names.n; i++) {
		if (i)
			util_buf_puts(&b, sep);
		util_buf_puts(&b, w->names.v[i]);
	}
	if (w->n_names_total > w->names.n)
		util_buf_printf(&b, "%s+%zu more", w->names.n ? sep : "",
		                w->n_names_total - w->names.n);
	util_buf_puts(&b, "");
	return util_buf_take(&b);
}

/* ---------------------------------------------------------------- summary data */

struct pending_sig {
	const char *signer; /* borrowed from a row */
	unsigned n[4];
};

struct sig_count {
	const char *signer;
	unsigned n;
};

struct summary {
	unsigned by_state[2][5]; /* [kind][state] */
	unsigned total[2];
	struct pending_sig *pending; /* owned */
	size_t n_pending;
	struct sig_count *unmanaged; /* owned */
	size_t n_unmanaged;
	unsigned counts[4]; /* per finding */
	unsigned expired;
};

static void summary_make(const struct report *r, struct summary *s)
{
	memset(s, 0, sizeof(*s));
	for (size_t i = 0; i < r->n; i++) {
		const struct report_row *w = &r->rows[i];
		s->total[w->kind]++;
		s->by_state[w->kind][w->decision.state]++;
		for (unsigned f = 0; f < 4; f++)
			if (w->findings & (1u << f))
				s->counts[f]++;
		if (w->not_after != 0 && w->not_after <= r->opt.now)
			s->expired++;
		if (w->decision.state == REPORT_PENDING) {
			size_t j = 0;
			while (j < s->n_pending && strcmp(s->pending[j].signer, w->signer) != 0)
				j++;
			if (j == s->n_pending) {
				s->pending =
				    util_xreallocarray(s->pending, j + 1, sizeof(*s->pending));
				memset(&s->pending[j], 0, sizeof(s->pending[j]));
				s->pending[j].signer = w->signer;
				s->n_pending++;
			}
			int64_t age = w->created > 0 ? r->opt.now - w->created : 0;
			s->pending[j].n[age_bucket(age)]++;
		}
		if (w->findings & REPORT_F_UNMANAGED) {
			size_t j = 0;
			while (j < s->n_unmanaged && strcmp(s->unmanaged[j].signer, w->signer) != 0)
				j++;
			if (j == s->n_unmanaged) {
				s->unmanaged =
				    util_xreallocarray(s->unmanaged, j + 1, sizeof(*s->unmanaged));
				s->unmanaged[j].signer = w->signer;
				s->unmanaged[j].n = 0;
				s->n_unmanaged++;
			}
			s->unmanaged[j].n++;
		}
	}
}

static void summary_free(struct summary *s)
{
	free(s->pending);
	free(s->unmanaged);
}

/* ---------------------------------------------------------------- text */

/* Printable ASCII, cut to w columns with "..." (w >= 4) into dst: the
 * end kept when keep_end (generated names differ at their end), else the
 * start. */
static void cell(char *dst, size_t len, const char *s, size_t w, bool keep_end)
{
	size_t n = s ? strlen(s) : 0;
	if (n > w && w >= 4 && len > 4) {
		size_t k = w - 3 < len - 4 ? w - 3 : len - 4;
		if (keep_end) {
			memcpy(dst, "...", 3);
			report_ascii(dst + 3, len - 3, s + n - k, k);
		} else {
			report_ascii(dst, len, s, k);
			memcpy(dst + strlen(dst), "...", 4);
		}
		return;
	}
	report_ascii(dst, len, s, n > w ? w : n);
}

char *report_summary_text(const struct report *r)
{
	struct util_buf b = {0};
	struct summary s;
	char t[32], exp[24], po[24], by[REPORT_MAX_FIELD + 16];

	summary_make(r, &s);
	report_format_time(r->opt.now, t, sizeof(t));
	report_format_age(r->opt.expiring, exp, sizeof(exp));
	report_format_age(r->opt.pending_over, po, sizeof(po));
	util_buf_printf(&b, "Summary at %s (pending over %s, expiring within %s, policies %s):\n",
	                t, po, exp,
	                r->opt.set ? "from the policy file" : "inferred from decisions");
	for (int k = 0; k < 2; k++)
		util_buf_printf(&b,
		                "  %s: %u (pending %u, approved %u, issued %u, denied %u, "
		                "failed %u)\n",
		                k == REPORT_CSR ? "CertificateSigningRequests"
		                                : "PodCertificateRequests",
		                s.total[k], s.by_state[k][REPORT_PENDING],
		                s.by_state[k][REPORT_APPROVED], s.by_state[k][REPORT_ISSUED],
		                s.by_state[k][REPORT_DENIED], s.by_state[k][REPORT_FAILED]);
	if (r->opt.set != NULL) {
		char file[REPORT_MAX_FIELD];
		const char *pf = r->opt.policy_file ? r->opt.policy_file : "";
		report_ascii(file, sizeof(file), pf, strlen(pf));
		util_buf_printf(&b, "  coverage: from the policy file%s%s\n", file[0] ? " " : "",
		                file);
	} else {
		util_buf_puts(&b,
		              "  coverage: inferred: no policy file was found (--config, "
		              "$CSR_APPROVER_CONFIG, " REPORT_POLICY_FILE "), so a signer counts "
		              "as csr-approver's when csr-approver decided one of its requests\n");
	}
	for (size_t i = 0; i < r->notes.n; i++)
		util_buf_printf(&b, "  note: %s\n", r->notes.v[i]);
	util_buf_puts(&b, "  pending by signer and age:");
	if (s.n_pending == 0)
		util_buf_puts(&b, " none\n");
	else
		util_buf_puts(&b, "\n");
	for (size_t i = 0; i < s.n_pending; i++) {
		char sig[REPORT_MAX_FIELD];
		report_ascii(sig, sizeof(sig), s.pending[i].signer, strlen(s.pending[i].signer));
		util_buf_printf(&b, "    %s: lt1m %u, lt15m %u, lt1h %u, ge1h %u\n", sig,
		                s.pending[i].n[0], s.pending[i].n[1], s.pending[i].n[2],
		                s.pending[i].n[3]);
	}
	util_buf_printf(&b, "  pending longer than %s: %u\n", po, s.counts[0]);
	for (size_t i = 0; i < r->n; i++)
		if (r->rows[i].findings & REPORT_F_PENDING) {
			char nm[REPORT_MAX_FIELD];
			report_ascii(nm, sizeof(nm), r->rows[i].name, strlen(r->rows[i].name));
			report_format_age(r->opt.now - r->rows[i].created, t, sizeof(t));
			util_buf_printf(&b, "    %s %s (%s)\n", kind_name(r->rows[i].kind), nm, t);
		}
	util_buf_printf(&b, "  under signers no policy covers (shadow enrollments): %u\n",
	                s.counts[1]);
	for (size_t i = 0; i < s.n_unmanaged; i++) {
		char sig[REPORT_MAX_FIELD];
		report_ascii(sig, sizeof(sig), s.unmanaged[i].signer,
		             strlen(s.unmanaged[i].signer));
		util_buf_printf(&b, "    %s: %u\n", sig, s.unmanaged[i].n);
	}
	util_buf_printf(&b, "  of csr-approver's signers, decided by someone else: %u\n",
	                s.counts[2]);
	for (size_t i = 0; i < r->n; i++) {
		const struct report_row *w = &r->rows[i];
		char nm[REPORT_MAX_FIELD], sig[REPORT_MAX_FIELD];
		if (!(w->findings & REPORT_F_FOREIGN))
			continue;
		report_ascii(nm, sizeof(nm), w->name, strlen(w->name));
		report_ascii(sig, sizeof(sig), w->signer, strlen(w->signer));
		util_buf_printf(&b, "    %s %s (%s): %s by %s\n", kind_name(w->kind), nm, sig,
		                w->decision.decision, report_by_text(&w->decision, by, sizeof(by)));
	}
	util_buf_printf(&b, "  certificates expiring within %s: %u (expired: %u)\n", exp,
	                s.counts[3], s.expired);
	for (size_t i = 0; i < r->n; i++) {
		const struct report_row *w = &r->rows[i];
		char nm[REPORT_MAX_FIELD], left[24], when[32];
		if (!(w->findings & REPORT_F_EXPIRING))
			continue;
		report_ascii(nm, sizeof(nm), w->name, strlen(w->name));
		report_format_age(w->not_after - r->opt.now, left, sizeof(left));
		report_format_time(w->not_after, when, sizeof(when));
		util_buf_printf(&b, "    %s %s: %s left (%s)\n", kind_name(w->kind), nm, left,
		                when);
	}
	util_buf_printf(&b, "  findings: pending %u, unmanaged %u, foreign %u, expiring %u\n",
	                s.counts[0], s.counts[1], s.counts[2], s.counts[3]);
	summary_free(&s);
	return util_buf_take(&b);
}

/* ---------------------------------------------------------------- table */

enum {
	C_NAME,
	C_AGE,
	C_SIGNER,
	C_REQUESTER,
	C_IDENTITY,
	C_NAMES,
	C_STATE,
	C_DECIDED_BY,
	C_DECIDED,
	C_EXPIRES,
	C_FINDINGS,
	C_N,
};

static const char *const col_names[C_N] = {
    "NAME",  "AGE",        "SIGNER",  "REQUESTER", "IDENTITY", "NAMES",
    "STATE", "DECIDED-BY", "DECIDED", "EXPIRES",   "FINDINGS",
};
/* Columns that are never cut (short by nature). */
static const bool col_fixed[C_N] = {
    [C_AGE] = true,
    [C_STATE] = true,
    [C_DECIDED] = true,
    [C_EXPIRES] = true,
};
/* Columns cut at their start: the end of a generated name, a namespace's
 * pod, a signer's path tell rows apart. */
static const bool col_keep_end[C_N] = {
    [C_NAME] = true,
    [C_SIGNER] = true,
    [C_REQUESTER] = true,
    [C_IDENTITY] = true,
};
/* The least a column is narrowed to: a name stays readable. */
static const size_t col_min[C_N] = {
    [C_NAME] = 20, [C_SIGNER] = 8,      [C_REQUESTER] = 8, [C_IDENTITY] = 8,
    [C_NAMES] = 8, [C_DECIDED_BY] = 12, [C_FINDINGS] = 8,
};
/* The most a column takes before it is cut, whatever the width. */
#define COL_MAX 60

static char *row_cell(const struct report *r, const struct report_row *w, int c)
{
	char buf[REPORT_MAX_FIELD + 32];
	switch (c) {
	case C_NAME:
		return util_xasprintf("%s%s", w->kind == REPORT_PCR ? "pcr/" : "", w->name);
	case C_AGE:
		if (w->created == 0)
			return util_xstrdup("?");
		report_format_age(r->opt.now - w->created, buf, sizeof(buf));
		return util_xstrdup(buf);
	case C_SIGNER:
		return util_xstrdup(w->signer);
	case C_REQUESTER:
		return util_xstrdup(w->requester ? w->requester : "");
	case C_IDENTITY:
		identity_text(w, buf, sizeof(buf));
		return util_xstrdup(buf);
	case C_NAMES:
		return names_text(w, ",");
	case C_STATE:
		return util_xstrdup(report_state_name(w->decision.state));
	case C_DECIDED_BY:
		return util_xstrdup(w->decision.by == REPORT_BY_NOBODY
		                        ? "-"
		                        : report_by_text(&w->decision, buf, sizeof(buf)));
	case C_DECIDED:
		if (w->decision.by == REPORT_BY_NOBODY || w->decision.at == 0)
			return util_xstrdup("-");
		report_format_age(r->opt.now - w->decision.at, buf, sizeof(buf));
		return util_xstrdup(buf);
	case C_EXPIRES:
		if (w->not_after == 0)
			return util_xstrdup("-");
		if (w->not_after <= r->opt.now)
			return util_xstrdup("expired");
		report_format_age(w->not_after - r->opt.now, buf, sizeof(buf));
		return util_xstrdup(buf);
	case C_FINDINGS:
		findings_text(w->findings, buf, sizeof(buf));
		return util_xstrdup(buf[0] ? buf : "-");
	default:
		return util_xstrdup("");
	}
}

static char *render_table(const struct report *r, unsigned width)
{
	struct util_buf b = {0};
	size_t w[C_N], total = 0;
	char **cells = util_xcalloc(r->n * C_N + 1, sizeof(*cells));
	char *sum;

	for (int c = 0; c < C_N; c++)
		w[c] = strlen(col_names[c]);
	for (size_t i = 0; i < r->n; i++)
		for (int c = 0; c < C_N; c++) {
			char *v = row_cell(r, &r->rows[i], c);
			size_t n = strlen(v);
			cells[i * C_N + (size_t)c] = v;
			if (n > w[c])
				w[c] = n;
		}
	for (int c = 0; c < C_N; c++) {
		if (!col_fixed[c] && w[c] > COL_MAX)
			w[c] = COL_MAX;
		total += w[c] + (c ? 2 : 0);
	}
	/* Narrow the widest column that may be cut, one step at a time. */
	while (width > 0 && total > width) {
		int widest = -1;
		for (int c = 0; c < C_N; c++)
			if (!col_fixed[c] && w[c] > col_min[c] && (widest < 0 || w[c] > w[widest]))
				widest = c;
		if (widest < 0)
			break;
		w[widest]--;
		total--;
	}
	if (r->n == 0) {
		util_buf_puts(&b, "No CertificateSigningRequests or PodCertificateRequests.\n");
	} else {
		for (int c = 0; c < C_N; c++)
			util_buf_printf(&b, "%s%-*s", c ? "  " : "", c == C_N - 1 ? 0 : (int)w[c],
			                col_names[c]);
		util_buf_putc(&b, '\n');
		for (size_t i = 0; i < r->n; i++) {
			for (int c = 0; c < C_N; c++) {
				char v[COL_MAX * 4 + 8];
				cell(v, sizeof(v), cells[i * C_N + (size_t)c], w[c],
				     col_keep_end[c]);
				util_buf_printf(&b, "%s%-*s", c ? "  " : "",
				                c == C_N - 1 ? 0 : (int)w[c], v);
			}
			util_buf_putc(&b, '\n');
		}
	}
	util_buf_putc(&b, '\n');
	sum = report_summary_text(r);
	util_buf_puts(&b, sum);
	free(sum);
	for (size_t i = 0; i < r->n * C_N; i++)
		free(cells[i]);
	free(cells);
	return util_buf_take(&b);
}

/* ---------------------------------------------------------------- JSON */

/* A JSON string of s (valid UTF-8 from the API, or ASCII); null for NULL. */
static json_t *jstr(const char *s)
{
	json_t *v;
	if (s == NULL)
		return json_null();
	v = json_string(s);
	if (v == NULL) {
		char tmp[REPORT_MAX_FIELD * 2];
		report_ascii(tmp, sizeof(tmp), s, strlen(s));
		v = json_string(tmp);
	}
	return v ? v : json_null();
}

static json_t *jtime(int64_t t)
{
	char buf[32];
	if (t == 0)
		return json_null();
	report_format_time(t, buf, sizeof(buf));
	return json_string(buf);
}

static json_t *jstrv(const struct util_strv *sv)
{
	json_t *a = json_array();
	for (size_t i = 0; i < sv->n; i++)
		json_array_append_new(a, jstr(sv->v[i]));
	return a;
}

static json_t *jfindings(unsigned f)
{
	json_t *a = json_array();
	for (unsigned i = 0; i < 4; i++)
		if (f & (1u << i))
			json_array_append_new(a, json_string(report_finding_name(1u << i)));
	return a;
}

static const char *by_kind(enum report_by b)
{
	switch (b) {
	case REPORT_BY_POLICY:
		return "policy";
	case REPORT_BY_PERSON:
		return "person";
	case REPORT_BY_OTHER:
		return "other";
	default:
		return "none";
	}
}

static json_t *row_json(const struct report *r, const struct report_row *w)
{
	json_t *o = json_object(), *d, *c;
	char by[REPORT_MAX_FIELD + 16];
	json_object_set_new(o, "kind", json_string(kind_name(w->kind)));
	json_object_set_new(o, "name", jstr(w->name));
	json_object_set_new(o, "uid", jstr(w->uid));
	json_object_set_new(o, "signerName", jstr(w->signer));
	json_object_set_new(o, "policy", jstr(w->policy));
	json_object_set_new(o, "requester", jstr(w->requester));
	json_object_set_new(o, "requesterUID", jstr(w->requester_uid));
	json_object_set_new(o, "groups", jstrv(&w->groups));
	json_object_set_new(o, "pod", jstr(w->pod));
	json_object_set_new(o, "podUID", jstr(w->pod_uid));
	json_object_set_new(o, "node", jstr(w->node));
	json_object_set_new(o, "serviceAccount", jstr(w->service_account));
	json_object_set_new(o, "names", jstrv(&w->names));
	if (w->n_names_total > w->names.n)
		json_object_set_new(o, "namesTotal", json_integer((json_int_t)w->n_names_total));
	json_object_set_new(o, "keyType", jstr(w->key_type));
	json_object_set_new(o, "created", jtime(w->created));
	json_object_set_new(o, "state", json_string(report_state_name(w->decision.state)));
	if (w->decision.by == REPORT_BY_NOBODY) {
		d = json_null();
	} else {
		d = json_object();
		json_object_set_new(d, "by", json_string(by_kind(w->decision.by)));
		json_object_set_new(d, "name", jstr(w->decision.by_name));
		json_object_set_new(d, "text", jstr(report_by_text(&w->decision, by, sizeof(by))));
		json_object_set_new(d, "decision", json_string(w->decision.decision));
		json_object_set_new(d, "reason", jstr(w->decision.reason));
		json_object_set_new(d, "at", jtime(w->decision.at));
	}
	json_object_set_new(o, "decided", d);
	if (w->serial == NULL) {
		c = json_null();
	} else {
		c = json_object();
		json_object_set_new(c, "serial", jstr(w->serial));
		json_object_set_new(c, "notBefore", jtime(w->not_before));
		json_object_set_new(c, "notAfter", jtime(w->not_after));
		json_object_set_new(c, "secondsLeft",
		                    json_integer((json_int_t)(w->not_after - r->opt.now)));
	}
	json_object_set_new(o, "certificate", c);
	json_object_set_new(o, "problem", jstr(w->problem));
	json_object_set_new(o, "findings", jfindings(w->findings));
	return o;
}

static json_t *summary_json(const struct report *r)
{
	struct summary s;
	json_t *o = json_object(), *a;
	summary_make(r, &s);

	json_object_set_new(o, "coverage",
	                    json_string(r->opt.set != NULL ? "policy file" : "inferred"));
	json_object_set_new(o, "policyFile",
	                    r->opt.set != NULL ? jstr(r->opt.policy_file) : json_null());
	for (int k = 0; k < 2; k++) {
		json_t *c = json_object();
		json_object_set_new(c, "total", json_integer(s.total[k]));
		static const char *const keys[5] = {"pending", "approved", "issued", "denied",
		                                    "failed"};
		for (int st = 0; st < 5; st++)
			json_object_set_new(c, keys[st], json_integer(s.by_state[k][st]));
		json_object_set_new(o, k == REPORT_CSR ? "csr" : "pcr", c);
	}
	a = json_array();
	for (size_t i = 0; i < s.n_pending; i++) {
		json_t *p = json_object();
		json_object_set_new(p, "signerName", jstr(s.pending[i].signer));
		for (int b = 0; b < 4; b++)
			json_object_set_new(p, age_names[b], json_integer(s.pending[i].n[b]));
		json_array_append_new(a, p);
	}
	json_object_set_new(o, "pending", a);
	a = json_array();
	for (size_t i = 0; i < s.n_unmanaged; i++) {
		json_t *p = json_object();
		json_object_set_new(p, "signerName", jstr(s.unmanaged[i].signer));
		json_object_set_new(p, "count", json_integer(s.unmanaged[i].n));
		json_array_append_new(a, p);
	}
	json_object_set_new(o, "unmanaged", a);
	const unsigned bits[3] = {REPORT_F_PENDING, REPORT_F_FOREIGN, REPORT_F_EXPIRING};
	const char *const keys[3] = {"pendingOver", "foreign", "expiring"};
	for (int k = 0; k < 3; k++) {
		a = json_array();
		for (size_t i = 0; i < r->n; i++) {
			const struct report_row *w = &r->rows[i];
			if (!(w->findings & bits[k]))
				continue;
			json_t *p = json_object();
			json_object_set_new(p, "kind", json_string(kind_name(w->kind)));
			json_object_set_new(p, "name", jstr(w->name));
			json_object_set_new(p, "signerName", jstr(w->signer));
			if (bits[k] == REPORT_F_PENDING) {
				json_object_set_new(
				    p, "ageSeconds",
				    json_integer((json_int_t)(r->opt.now - w->created)));
			} else if (bits[k] == REPORT_F_FOREIGN) {
				char by[REPORT_MAX_FIELD + 16];
				json_object_set_new(p, "decision",
				                    json_string(w->decision.decision));
				json_object_set_new(
				    p, "decidedBy",
				    jstr(report_by_text(&w->decision, by, sizeof(by))));
			} else {
				json_object_set_new(p, "notAfter", jtime(w->not_after));
				json_object_set_new(
				    p, "secondsLeft",
				    json_integer((json_int_t)(w->not_after - r->opt.now)));
			}
			json_array_append_new(a, p);
		}
		json_object_set_new(o, keys[k], a);
	}
	json_object_set_new(o, "expired", json_integer(s.expired));
	json_t *f = json_object();
	for (unsigned i = 0; i < 4; i++)
		json_object_set_new(f, report_finding_name(1u << i), json_integer(s.counts[i]));
	json_object_set_new(o, "findings", f);
	json_object_set_new(o, "notes", jstrv(&r->notes));
	summary_free(&s);
	return o;
}

static char *render_json(const struct report *r)
{
	json_t *doc = json_object(), *items = json_array(), *opt = json_object();
	char *out;
	json_object_set_new(doc, "generatedAt", jtime(r->opt.now));
	json_object_set_new(opt, "expiringSeconds", json_integer((json_int_t)r->opt.expiring));
	json_object_set_new(opt, "pendingOverSeconds",
	                    json_integer((json_int_t)r->opt.pending_over));
	json_object_set_new(opt, "policies",
	                    json_string(r->opt.set ? "policy file" : "inferred from decisions"));
	json_object_set_new(doc, "options", opt);
	for (size_t i = 0; i < r->n; i++)
		json_array_append_new(items, row_json(r, &r->rows[i]));
	json_object_set_new(doc, "items", items);
	json_object_set_new(doc, "summary", summary_json(r));
	out = json_dumps(doc, JSON_INDENT(2));
	json_decref(doc);
	if (out == NULL)
		return util_xstrdup("{}\n");
	char *withnl = util_xasprintf("%s\n", out);
	free(out);
	return withnl;
}

/* ---------------------------------------------------------------- CSV */

/* One CSV field, RFC 4180; a value from an object that a spreadsheet would
 * read as a formula gets a leading quote mark (OWASP, CSV injection). */
static void csv_field(struct util_buf *b, const char *s, bool untrusted, bool first)
{
	char tmp[REPORT_MAX_FIELD * 4 + 8];
	if (!first)
		util_buf_putc(b, ',');
	if (s == NULL)
		return;
	report_ascii(tmp, sizeof(tmp), s, strlen(s));
	bool formula = untrusted && strchr("=+-@", tmp[0]) != NULL && tmp[0] != '\0';
	bool quote = formula || strpbrk(tmp, ",\"") != NULL;
	if (quote)
		util_buf_putc(b, '"');
	if (formula)
		util_buf_putc(b, '\'');
	for (const char *p = tmp; *p; p++) {
		if (*p == '"')
			util_buf_putc(b, '"');
		util_buf_putc(b, *p);
	}
	if (quote)
		util_buf_putc(b, '"');
}

static char *render_csv(const struct report *r)
{
	struct util_buf b = {0};
	util_buf_puts(&b,
	              "kind,name,uid,signer,policy,requester,identity,names,state,decided_by,"
	              "decision,decided_at,created,serial,not_after,seconds_left,findings\n");
	for (size_t i = 0; i < r->n; i++) {
		const struct report_row *w = &r->rows[i];
		char buf[REPORT_MAX_FIELD + 32], t[32];
		char *names = names_text(w, " ");
		csv_field(&b, kind_name(w->kind), false, true);
		csv_field(&b, w->name, true, false);
		csv_field(&b, w->uid, true, false);
		csv_field(&b, w->signer, true, false);
		csv_field(&b, w->policy, false, false);
		csv_field(&b, w->requester, true, false);
		identity_text(w, buf, sizeof(buf));
		csv_field(&b, buf, true, false);
		csv_field(&b, names, true, false);
		free(names);
		csv_field(&b, report_state_name(w->decision.state), false, false);
		csv_field(&b, report_by_text(&w->decision, buf, sizeof(buf)), true, false);
		csv_field(&b, w->decision.decision, false, false);
		report_format_time(w->decision.at, t, sizeof(t));
		csv_field(&b, t, false, false);
		report_format_time(w->created, t, sizeof(t));
		csv_field(&b, t, false, false);
		csv_field(&b, w->serial, true, false);
		report_format_time(w->not_after, t, sizeof(t));
		csv_field(&b, t, false, false);
		if (w->not_after != 0)
			snprintf(t, sizeof(t), "%lld", (long long)(w->not_after - r->opt.now));
		else
			t[0] = '\0';
		csv_field(&b, t, false, false);
		findings_text(w->findings, buf, sizeof(buf));
		csv_field(&b, buf, false, false);
		util_buf_putc(&b, '\n');
	}
	return util_buf_take(&b);
}

char *report_render(const struct report *r, enum report_format f, unsigned width)
{
	switch (f) {
	case REPORT_JSON:
		return render_json(r);
	case REPORT_CSV:
		return render_csv(r);
	default:
		return render_table(r, width);
	}
}
