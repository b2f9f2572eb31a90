/*
 * pkg/report: who decided (from the conditions), the rows of a mixed set
 * of CSRs and PodCertificateRequests, their findings, the summary, and the
 * three renderings (table fitted to a width, JSON, CSV).
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../../pkg/config/config.h"
#include "../../../pkg/report/report.h"
#include "../../../pkg/signer/signer.h"
#include "../../../pkg/util/util.h"
#include "rt.h"

#define W "example.com/workload"
#define SHADOW "example.com/shadow"
#define OURS_OK "csr-approver: policy workload: service account shop/web, 1 SAN"

static const char policy_yaml[] = "policies:\n"
                                  "  - name: workload\n"
                                  "    signerName: " W "\n"
                                  "    type: workload\n"
                                  "    issue:\n"
                                  "      caCertFile: /nonexistent/tls.crt\n"
                                  "      caKeyFile: /nonexistent/tls.key\n"
                                  "    podCertificates: true\n";

static struct policy_set *load_set(void)
{
	return rt_policy_set(policy_yaml);
}

static json_t *status_with(const char *conds)
{
	json_error_t e;
	char *text = util_xasprintf("{\"conditions\":%s}", conds);
	json_t *s = json_loads(text, 0, &e);
	cr_assert_not_null(s, "%s", text);
	free(text);
	return s;
}

/* ---------------------------------------------------------------- who decided */

static void decided(const char *conds, enum report_kind kind, struct report_decision *d)
{
	json_t *s = status_with(conds);
	report_decision_read(s, kind, d);
	json_decref(s);
}

Test(report_decision, pending)
{
	struct report_decision d;
	decided("[]", REPORT_CSR, &d);
	cr_expect_eq(d.state, REPORT_PENDING);
	cr_expect_eq(d.by, REPORT_BY_NOBODY);
	cr_expect_str_eq(d.decision, "");
	report_decision_read(NULL, REPORT_CSR, &d);
	cr_expect_eq(d.state, REPORT_PENDING);
}

Test(report_decision, ours_person_other)
{
	struct report_decision d;
	char buf[300];
	char *c = rt_cond("Approved", "AutoApproved", OURS_OK, 1000000);
	char *conds = util_xasprintf("[%s]", c);
	decided(conds, REPORT_CSR, &d);
	cr_expect_eq(d.by, REPORT_BY_POLICY);
	cr_expect_str_eq(d.by_name, "workload");
	cr_expect_str_eq(d.decision, "approve");
	cr_expect_eq(d.state, REPORT_APPROVED);
	cr_expect_eq(d.at, 1000000);
	cr_expect_str_eq(report_by_text(&d, buf, sizeof(buf)), "csr-approver/workload");
	free(c);
	free(conds);

	/* A person's approval with our prefix copied into the message is
	 * still a person's: only AutoApproved with the prefix is ours. */
	c = rt_cond("Approved", "KubectlApprove", "csr-approver: policy workload: spoofed", 5);
	conds = util_xasprintf("[%s]", c);
	decided(conds, REPORT_CSR, &d);
	cr_expect_eq(d.by, REPORT_BY_PERSON);
	cr_expect_str_eq(report_by_text(&d, buf, sizeof(buf)), "kubectl");
	free(c);
	free(conds);

	c = rt_cond("Approved", "AutoApproved",
	            "Auto approving kubelet client certificate after SubjectAccessReview.", 5);
	conds = util_xasprintf("[%s]", c);
	decided(conds, REPORT_CSR, &d);
	cr_expect_eq(d.by, REPORT_BY_OTHER);
	cr_expect_str_eq(report_by_text(&d, buf, sizeof(buf)), "other/AutoApproved");
	free(c);
	free(conds);

	c = rt_cond("Denied", "SANNotAllowed", "csr-approver: policy workload: DNS SAN ...", 5);
	conds = util_xasprintf("[%s]", c);
	decided(conds, REPORT_CSR, &d);
	cr_expect_eq(d.by, REPORT_BY_POLICY);
	cr_expect_str_eq(d.decision, "deny");
	cr_expect_eq(d.state, REPORT_DENIED);
	free(c);
	free(conds);
}

Test(report_decision, approver_decides_not_the_later_failure)
{
	struct report_decision d;
	char *a = rt_cond("Approved", "KubectlApprove", "approved by hand", 10);
	char *f = rt_cond("Failed", "SignerError", "csr-approver: policy workload: not signed", 20);
	char *conds = util_xasprintf("[%s,%s]", a, f);
	decided(conds, REPORT_CSR, &d);
	cr_expect_eq(d.state, REPORT_FAILED);
	cr_expect_eq(d.by, REPORT_BY_PERSON);
	cr_expect_str_eq(d.decision, "approve");
	free(a);
	free(f);
	free(conds);
	/* A condition with status False does not count. */
	decided("[{\"type\":\"Approved\",\"status\":\"False\",\"reason\":\"AutoApproved\"}]",
	        REPORT_CSR, &d);
	cr_expect_eq(d.state, REPORT_PENDING);
}

Test(report_decision, pod_certificate_request)
{
	struct report_decision d;
	char *c = rt_cond("Issued", "Issued", "csr-approver: policy workload: issued", 7);
	char *conds = util_xasprintf("[%s]", c);
	decided(conds, REPORT_PCR, &d);
	cr_expect_eq(d.state, REPORT_ISSUED);
	cr_expect_eq(d.by, REPORT_BY_POLICY);
	cr_expect_str_eq(d.decision, "approve");
	free(c);
	free(conds);
	c = rt_cond("Denied", "UnsupportedKeyType", "the key is RSA-1024", 7);
	conds = util_xasprintf("[%s]", c);
	decided(conds, REPORT_PCR, &d);
	cr_expect_eq(d.state, REPORT_DENIED);
	cr_expect_eq(d.by, REPORT_BY_OTHER);
	free(c);
	free(conds);
}

/* ---------------------------------------------------------------- words */

Test(report, findings_words)
{
	unsigned m;
	char err[256];
	cr_expect_eq(report_parse_findings("pending,foreign", &m, err, sizeof(err)), 0);
	cr_expect_eq(m, REPORT_F_PENDING | REPORT_F_FOREIGN);
	cr_expect_eq(report_parse_findings("all", &m, err, sizeof(err)), 0);
	cr_expect_eq(m, REPORT_F_ALL);
	cr_expect_eq(report_parse_findings("none", &m, err, sizeof(err)), 0);
	cr_expect_eq(m, 0);
	cr_expect_eq(report_parse_findings("expiring,unmanaged", &m, err, sizeof(err)), 0);
	cr_expect_eq(m, REPORT_F_EXPIRING | REPORT_F_UNMANAGED);
	cr_expect_eq(report_parse_findings("pending,late", &m, err, sizeof(err)), -1);
	cr_expect(strstr(err, "\"late\"") != NULL, "%s", err);
}

Test(report, ages)
{
	char b[24];
	const struct {
		int64_t s;
		const char *want;
	} cases[] = {{0, "0s"},      {45, "45s"},    {119, "119s"}, {120, "2m"},
	             {300, "5m"},    {7199, "119m"}, {7200, "2h"},  {86400, "24h"},
	             {172800, "2d"}, {259200, "3d"}, {-7200, "-2h"}};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		report_format_age(cases[i].s, b, sizeof(b));
		cr_expect_str_eq(b, cases[i].want, "%lld", (long long)cases[i].s);
	}
}

/* ---------------------------------------------------------------- a mixed cluster */

struct world {
	struct policy_set *set;
	struct report *r;
	int64_t now;
	char *serial_expiring;
};

/*
 * The scripted state of SPEC's governance contract:
 *   a-issued    ours, approved and issued, notAfter now+2d (expiring in 7d)
 *   b-denied    ours, denied
 *   c-by-hand   our signer, approved with kubectl: foreign
 *   d-shadow    a signer no policy covers, pending 2h: unmanaged + pending
 *   e-late      ours, pending 20m: pending
 *   f-fresh     ours, pending 30s: no finding
 *   shop/p-1    a PodCertificateRequest issued by us, notAfter now+30d
 */
static void world_make(struct world *w, bool with_set)
{
	char *req = rt_request("web.shop.svc",
	                       "URI:spiffe://cluster.local/ns/shop/sa/web,DNS:web.shop.svc", NULL);
	char *req_bad = rt_request("db.shop.svc", "DNS:db.shop.svc", NULL);
	struct signer_cert *soon = rt_issue(req, 2 * 86400);
	struct signer_cert *later = rt_issue(req, 30 * 86400);
	char *ok = rt_cond("Approved", "AutoApproved", OURS_OK, 0);
	char *deny = rt_cond("Denied", "SANNotAllowed",
	                     "csr-approver: policy workload: DNS SAN \"db.shop.svc\" is not a name "
	                     "of pod shop/web-0",
	                     0);
	char *hand = rt_cond("Approved", "KubectlApprove",
	                     "This CSR was approved by kubectl certificate approve.", 0);
	char *issued = rt_cond("Issued", "Issued", "csr-approver: policy workload: issued", 0);
	char err[256];
	json_t *objs[7];
	const char *sa = "system:serviceaccount:shop:web";

	w->now = (int64_t)time(NULL);
	w->set = with_set ? load_set() : NULL;
	char *c_ok = util_xasprintf("[%s]", ok), *c_deny = util_xasprintf("[%s]", deny),
	     *c_hand = util_xasprintf("[%s]", hand), *c_iss = util_xasprintf("[%s]", issued);
	objs[0] = rt_csr("a-issued", W, sa, "web-0", w->now - 3600, req, c_ok, soon->pem);
	objs[1] = rt_csr("b-denied", W, sa, "web-0", w->now - 3000, req_bad, c_deny, NULL);
	objs[2] =
	    rt_csr("c-by-hand", W, "alice@example.com", NULL, w->now - 600, req, c_hand, NULL);
	objs[3] = rt_csr("d-shadow", SHADOW, "bob", NULL, w->now - 7200, req, NULL, NULL);
	objs[4] = rt_csr("e-late", W, sa, "web-0", w->now - 1200, req, NULL, NULL);
	objs[5] = rt_csr("f-fresh", W, sa, "web-0", w->now - 30, req, NULL, NULL);
	objs[6] = rt_pcr("shop", "p-1", W, "web-1", w->now - 100, c_iss, later->chain_pem);
	struct report_options o = {
	    .now = w->now, .expiring = 7 * 86400, .pending_over = 900, .set = w->set};
	w->r = report_new(&o);
	for (int i = 0; i < 7; i++) {
		cr_assert_eq(
		    report_add(w->r, i == 6 ? REPORT_PCR : REPORT_CSR, objs[i], err, sizeof(err)),
		    0, "%s", err);
		json_decref(objs[i]);
	}
	report_finish(w->r);
	w->serial_expiring = util_xstrdup(soon->serial);
	free(c_ok);
	free(c_deny);
	free(c_hand);
	free(c_iss);
	free(ok);
	free(deny);
	free(hand);
	free(issued);
	signer_cert_free(soon);
	signer_cert_free(later);
	free(req);
	free(req_bad);
}

static void world_free(struct world *w)
{
	report_free(w->r);
	policy_set_free(w->set);
	free(w->serial_expiring);
}

static const struct report_row *row_named(const struct report *r, const char *name)
{
	for (size_t i = 0; i < report_rows(r); i++)
		if (strcmp(report_row(r, i)->name, name) == 0)
			return report_row(r, i);
	cr_assert_fail("no row %s", name);
	return NULL;
}

Test(report, mixed_rows_and_findings)
{
	struct world w;
	world_make(&w, true);
	cr_assert_eq(report_rows(w.r), 7);
	/* Sorted by kind, signer, name. */
	const char *order[] = {"d-shadow", "a-issued", "b-denied", "c-by-hand",
	                       "e-late",   "f-fresh",  "shop/p-1"};
	for (size_t i = 0; i < 7; i++)
		cr_expect_str_eq(report_row(w.r, i)->name, order[i]);

	const struct report_row *a = row_named(w.r, "a-issued");
	cr_expect_eq(a->decision.state, REPORT_ISSUED);
	cr_expect_eq(a->decision.by, REPORT_BY_POLICY);
	cr_expect_str_eq(a->policy, "workload");
	cr_expect_str_eq(a->pod, "shop/web-0");
	cr_expect_str_eq(a->node, "node-1");
	cr_expect_str_eq(a->service_account, "shop/web");
	cr_expect_str_eq(a->key_type, "ECDSA-P256");
	cr_assert_eq(a->names.n, 2);
	cr_expect_str_eq(a->names.v[0], "spiffe://cluster.local/ns/shop/sa/web");
	cr_expect_str_eq(a->names.v[1], "web.shop.svc");
	cr_expect_str_eq(a->serial, w.serial_expiring);
	cr_expect(a->not_after > w.now + 2 * 86400 - 120 && a->not_after <= w.now + 2 * 86400,
	          "notAfter %lld", (long long)a->not_after);
	cr_expect_eq(a->findings, REPORT_F_EXPIRING);

	cr_expect_eq(row_named(w.r, "b-denied")->findings, 0);
	cr_expect_eq(row_named(w.r, "b-denied")->decision.state, REPORT_DENIED);
	cr_expect_eq(row_named(w.r, "c-by-hand")->findings, REPORT_F_FOREIGN);
	cr_expect_eq(row_named(w.r, "d-shadow")->findings, REPORT_F_UNMANAGED | REPORT_F_PENDING);
	cr_expect_null(row_named(w.r, "d-shadow")->policy);
	cr_expect_eq(row_named(w.r, "e-late")->findings, REPORT_F_PENDING);
	cr_expect_eq(row_named(w.r, "f-fresh")->findings, 0);

	const struct report_row *p = row_named(w.r, "shop/p-1");
	cr_expect_eq(p->kind, REPORT_PCR);
	cr_expect_eq(p->decision.state, REPORT_ISSUED);
	cr_expect_str_eq(p->pod, "shop/web-1");
	cr_expect_str_eq(p->requester, "system:node:node-2");
	cr_expect_str_eq(p->key_type, "ECDSA-P256");
	cr_expect_eq(p->names.n, 2, "names of a PCR come from its certificate");
	cr_expect_eq(p->findings, 0, "30 days left is outside the 7-day window");

	cr_expect_eq(report_findings(w.r), REPORT_F_ALL);
	world_free(&w);
}

Test(report, inferred_policies)
{
	struct world w;
	world_make(&w, false);
	/* Without the policy file, W is ours because csr-approver decided
	 * requests of it, and the shadow signer is not. */
	cr_expect_str_eq(row_named(w.r, "e-late")->policy, "workload");
	cr_expect_eq(row_named(w.r, "c-by-hand")->findings, REPORT_F_FOREIGN);
	cr_expect_eq(row_named(w.r, "d-shadow")->findings & REPORT_F_UNMANAGED, REPORT_F_UNMANAGED);
	world_free(&w);
}

Test(report, json_document)
{
	struct world w;
	json_error_t e;
	world_make(&w, true);
	char *text = report_render(w.r, REPORT_JSON, 0);
	json_t *doc = json_loads(text, 0, &e);
	cr_assert_not_null(doc, "%s", e.text);
	json_t *items = json_object_get(doc, "items");
	cr_assert_eq(json_array_size(items), 7);
	json_t *a = json_array_get(items, 1);
	cr_expect_str_eq(json_string_value(json_object_get(a, "name")), "a-issued");
	cr_expect_str_eq(json_string_value(json_object_get(a, "state")), "Issued");
	cr_expect_str_eq(json_string_value(json_object_get(json_object_get(a, "decided"), "text")),
	                 "csr-approver/workload");
	cr_expect_str_eq(
	    json_string_value(json_object_get(json_object_get(a, "certificate"), "serial")),
	    w.serial_expiring);
	cr_expect_str_eq(json_string_value(json_array_get(json_object_get(a, "findings"), 0)),
	                 "expiring");
	json_t *sum = json_object_get(doc, "summary");
	json_t *f = json_object_get(sum, "findings");
	cr_expect_eq(json_integer_value(json_object_get(f, "pending")), 2);
	cr_expect_eq(json_integer_value(json_object_get(f, "unmanaged")), 1);
	cr_expect_eq(json_integer_value(json_object_get(f, "foreign")), 1);
	cr_expect_eq(json_integer_value(json_object_get(f, "expiring")), 1);
	json_t *csr = json_object_get(sum, "csr");
	cr_expect_eq(json_integer_value(json_object_get(csr, "total")), 6);
	cr_expect_eq(json_integer_value(json_object_get(csr, "pending")), 3);
	cr_expect_eq(json_integer_value(json_object_get(csr, "issued")), 1);
	cr_expect_eq(json_integer_value(json_object_get(json_object_get(sum, "pcr"), "issued")), 1);
	json_t *pend = json_object_get(sum, "pending");
	cr_assert_eq(json_array_size(pend), 2);
	json_t *p0 = json_array_get(pend, 1);
	cr_expect_str_eq(json_string_value(json_object_get(p0, "signerName")), W);
	cr_expect_eq(json_integer_value(json_object_get(p0, "lt1m")), 1);
	cr_expect_eq(json_integer_value(json_object_get(p0, "lt1h")), 1);
	json_t *p1 = json_array_get(pend, 0);
	cr_expect_str_eq(json_string_value(json_object_get(p1, "signerName")), SHADOW);
	cr_expect_eq(json_integer_value(json_object_get(p1, "ge1h")), 1);
	cr_expect_str_eq(json_string_value(json_object_get(
	                     json_array_get(json_object_get(sum, "foreign"), 0), "decidedBy")),
	                 "kubectl");
	json_decref(doc);
	free(text);
	world_free(&w);
}

Test(report, csv_rows)
{
	struct world w;
	world_make(&w, true);
	char *text = report_render(w.r, REPORT_CSV, 0);
	size_t lines = 0;
	for (const char *p = text; *p; p++)
		lines += *p == '\n';
	cr_expect_eq(lines, 8, "a header and 7 rows:\n%s", text);
	cr_expect(util_has_prefix(text,
	                          "kind,name,uid,signer,policy,requester,identity,names,"
	                          "state,decided_by,decision,decided_at,created,serial,"
	                          "not_after,seconds_left,findings\n"));
	cr_expect(strstr(text, "\ncsr,c-by-hand,uid-x," W ",workload,alice@example.com,,") != NULL,
	          "%s", text);
	cr_expect(strstr(text, ",Approved,kubectl,approve,") != NULL);
	cr_expect(strstr(text, ",\"unmanaged,pending\"\n") == NULL &&
	              strstr(text, ",\"pending,unmanaged\"\n") != NULL,
	          "%s", text);
	free(text);
	world_free(&w);
}

Test(report, csv_quotes_and_defuses_formulas)
{
	char *req = rt_request("x", "DNS:x.example", NULL);
	json_t *o = rt_csr("q", W, "=HYPERLINK(\"http://evil\")", NULL, 1000, req, NULL, NULL);
	struct report_options opt = {.now = 2000, .expiring = 86400, .pending_over = 900};
	struct report *r = report_new(&opt);
	char err[256];
	cr_assert_eq(report_add(r, REPORT_CSR, o, err, sizeof(err)), 0);
	report_finish(r);
	char *text = report_render(r, REPORT_CSV, 0);
	cr_expect(strstr(text, ",\"'=HYPERLINK(\"\"http://evil\"\")\",") != NULL, "%s", text);
	free(text);
	report_free(r);
	json_decref(o);
	free(req);
}

Test(report, table_fits_the_width)
{
	struct world w;
	world_make(&w, true);
	for (unsigned width = 80; width <= 200; width += 60) {
		char *text = report_render(w.r, REPORT_TABLE, width);
		const char *line = text;
		/* The rows, up to the blank line before the summary. */
		for (int i = 0; i < 8; i++) {
			const char *nl = strchr(line, '\n');
			cr_assert_not_null(nl);
			size_t n = (size_t)(nl - line);
			/* The fixed columns alone may exceed a narrow terminal. */
			if (width >= 140)
				cr_expect_leq(n, width, "line %d is %zu wide:\n%.*s", i, n, (int)n,
				              line);
			line = nl + 1;
		}
		cr_expect(util_has_prefix(text, "NAME"));
		cr_expect(strstr(text, "Summary at ") != NULL);
		cr_expect(
		    strstr(text, "  findings: pending 2, unmanaged 1, foreign 1, expiring 1\n") !=
		        NULL,
		    "%s", text);
		free(text);
	}
	char *wide = report_render(w.r, REPORT_TABLE, 0);
	cr_expect(strstr(wide, "spiffe://cluster.local/ns/shop/sa/web,web.shop.svc") != NULL,
	          "nothing cut without a width:\n%s", wide);
	cr_expect(strstr(wide, "csr-approver/workload") != NULL);
	cr_expect(strstr(wide, "    csr c-by-hand (" W "): approve by kubectl\n") != NULL, "%s",
	          wide);
	free(wide);
	world_free(&w);
}

Test(report, hostile_objects)
{
	struct report_options opt = {.now = 2000, .expiring = 86400, .pending_over = 900};
	struct report *r = report_new(&opt);
	char err[256];
	json_error_t e;
	json_t *o = json_loads("[1]", 0, &e);
	cr_expect_eq(report_add(r, REPORT_CSR, o, err, sizeof(err)), -1);
	json_decref(o);
	o = json_loads("{\"metadata\":{\"name\":\"n\"},\"spec\":{\"request\":\"!!\","
	               "\"signerName\":7},\"status\":{\"certificate\":\"QUJD\","
	               "\"conditions\":[{\"type\":\"Approved\"}]}}",
	               0, &e);
	cr_assert_eq(report_add(r, REPORT_CSR, o, err, sizeof(err)), 0);
	json_decref(o);
	report_finish(r);
	const struct report_row *w = report_row(r, 0);
	cr_expect_str_eq(w->signer, "");
	cr_expect_not_null(w->problem);
	cr_expect_null(w->serial);
	for (int f = REPORT_TABLE; f <= REPORT_CSV; f++)
		free(report_render(r, (enum report_format)f, 60));
	report_free(r);
	report_free(NULL);
}

Test(report, coverage_says_when_it_is_inferred)
{
	struct world w;
	json_error_t e;
	for (int with_set = 0; with_set < 2; with_set++) {
		world_make(&w, with_set);
		char *text = report_render(w.r, REPORT_JSON, 0);
		json_t *doc = json_loads(text, 0, &e);
		cr_assert_not_null(doc, "%s", e.text);
		json_t *sum = json_object_get(doc, "summary");
		cr_expect_str_eq(json_string_value(json_object_get(sum, "coverage")),
		                 with_set ? "policy file" : "inferred");
		char *sumtext = report_summary_text(w.r);
		const char *line = with_set ? "\n  coverage: from the policy file\n"
		                            : "\n  coverage: inferred: no policy file was found";
		cr_expect(strstr(sumtext, line) != NULL, "%s", sumtext);
		free(sumtext);
		json_decref(doc);
		free(text);
		world_free(&w);
	}
}
