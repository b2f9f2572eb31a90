/*
 * libFuzzer target: the inventory of `csr-approver report` and of the
 * governance metrics. The input is JSON from the API server: one object,
 * or an array of them, each taken as a CertificateSigningRequest and as a
 * PodCertificateRequest (its request, conditions and certificate decoded),
 * then classified and rendered as a table, JSON and CSV; the raw input is
 * also given to the certificate decoder.
 */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "../../pkg/csr/csr.h"
#include "../../pkg/report/report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void add_all(struct report *r, const json_t *v)
{
	char err[256];
	size_t i;
	const json_t *item;
	struct report_decision d;
	if (json_is_array(v)) {
		json_array_foreach(v, i, item)
		{
			report_add(r, REPORT_CSR, item, err, sizeof(err));
			report_add(r, REPORT_PCR, item, err, sizeof(err));
		}
		return;
	}
	report_add(r, REPORT_CSR, v, err, sizeof(err));
	report_add(r, REPORT_PCR, v, err, sizeof(err));
	report_decision_read(json_object_get(v, "status"), REPORT_PCR, &d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t jerr;
	struct csr_cert c;
	char err[256];
	if (csr_cert_parse((const char *)data, size, &c, err, sizeof(err)) == 0)
		csr_cert_clear(&c);
	json_t *v = json_loadb((const char *)data, size, 0, &jerr);
	if (v == NULL)
		return 0;
	struct report_options o = {
	    .now = 1785000000, .expiring = 7 * 86400, .pending_over = 900, .set = NULL};
	struct report *r = report_new(&o);
	add_all(r, v);
	report_finish(r);
	for (int f = REPORT_TABLE; f <= REPORT_CSV; f++)
		free(report_render(r, (enum report_format)f, (unsigned)(size % 200)));
	free(report_summary_text(r));
	report_free(r);
	json_decref(v);
	return 0;
}
