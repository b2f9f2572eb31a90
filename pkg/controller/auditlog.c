/*
 * controller: the audit log of `run --audit-log FILE|-` (SPEC.md,
 * "Governance"; the line itself is pkg/audit's). One line per decision
 * written (approve, deny, the Failed condition), per decision noted but
 * not written (leave-pending, dry run), and per certificate issued, built
 * from the object as the write returned it: who asked, for which names,
 * with which key (its SHA-256 fingerprint, never the key), who approved,
 * and the certificate's serial and notAfter.
 *
 * A line that cannot be written is logged and counted
 * (csr_approver_audit_write_failures_total); the decision it records was
 * already written to the API server and stands.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../audit/audit.h"
#include "../csr/csr.h"
#include "../kobj/kobj.h"
#include "../log/log.h"
#include "../metrics/metrics.h"
#include "../util/util.h"
#include "internal.h"

#define ERRLEN 512
#define SA_PREFIX "system:serviceaccount:"
#define NODE_PREFIX "system:node:"

int auditlog_open(struct controller *c, char *err, size_t errlen)
{
	if (c->opt.audit_log == NULL)
		return 0;
	c->audit = audit_open(c->opt.audit_log, err, errlen);
	return c->audit != NULL ? 0 : -1;
}

void auditlog_close(struct controller *c)
{
	audit_close(c->audit);
	c->audit = NULL;
}

void auditlog_reopen(struct controller *c)
{
	char err[ERRLEN];
	if (c->audit == NULL)
		return;
	if (audit_reopen(c->audit, err, sizeof(err)) != 0) {
		log_error("audit log not reopened; writing to the old file", "error", err);
		metrics_audit_failure(c->metrics);
		return;
	}
	log_info("audit log reopened", "path", c->opt.audit_log);
}

static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The SANs of a request as the audit line lists them. */
static void request_names(const struct csr_info *info, struct util_strv *out)
{
	for (size_t i = 0; info != NULL && i < info->n_sans && out->n < AUDIT_MAX_NAMES; i++) {
		const struct csr_san *s = &info->sans[i];
		if (s->type == CSR_SAN_DNS || s->type == CSR_SAN_IP || s->type == CSR_SAN_URI) {
			util_strv_push(out, s->value);
		} else {
			char *v = util_xasprintf("%s:%s", csr_san_type_name(s->type), s->value);
			util_strv_push(out, v);
			free(v);
		}
	}
}

void auditlog_csr(struct controller *c, const struct csr_entry *e, const char *event,
                  const char *decision, const char *reason, const char *message, const char *policy,
                  const char *body, size_t body_len, bool dry_run)
{
	json_t *obj = NULL;
	json_error_t jerr;
	struct policy_request *req = NULL;
	struct csr_info *info = NULL;
	struct csr_cert cert = {0};
	struct util_strv names = {0};
	struct report_decision rd;
	char err[ERRLEN], kt[32], by[REPORT_MAX_FIELD + 16];
	char *pod = NULL, *cert_pem = NULL;
	const char *node = NULL, *pod_uid = NULL;
	bool have_cert = false;
	size_t cert_len = 0;

	if (c->audit == NULL)
		return;
	if (body != NULL)
		obj = json_loadb(body, body_len, 0, &jerr);
	if (obj == NULL && e->obj != NULL)
		obj = json_incref(e->obj);
	if (obj != NULL)
		req = kobj_request_from_json(obj, err, sizeof(err));
	if (req != NULL &&
	    csr_parse(req->request_pem, req->request_len, &info, err, sizeof(err)) != 0)
		info = NULL;
	request_names(info, &names);
	if (req != NULL) {
		const char *u = req->username ? req->username : "";
		const char *pn = policy_request_extra(req, "authentication.kubernetes.io/pod-name");
		node = policy_request_extra(req, "authentication.kubernetes.io/node-name");
		pod_uid = policy_request_extra(req, "authentication.kubernetes.io/pod-uid");
		if (strncmp(u, SA_PREFIX, strlen(SA_PREFIX)) == 0 && pn != NULL) {
			const char *ns = u + strlen(SA_PREFIX);
			const char *colon = strchr(ns, ':');
			if (colon != NULL)
				pod = util_xasprintf("%.*s/%s", (int)(colon - ns), ns, pn);
		} else if (strncmp(u, NODE_PREFIX, strlen(NODE_PREFIX)) == 0) {
			node = u + strlen(NODE_PREFIX);
		}
	}
	report_decision_read(json_object_get(obj, "status"), REPORT_CSR, &rd);
	const char *b64 = controller_json_str(json_object_get(obj, "status"), "certificate", NULL);
	if (strcmp(decision, "issue") == 0 && b64 != NULL &&
	    util_base64_decode(b64, strlen(b64), UTIL_B64_SKIP_NEWLINES, CSR_MAX_CERT_PEM,
	                       &cert_pem, &cert_len) == 0 &&
	    csr_cert_parse(cert_pem, cert_len, &cert, err, sizeof(err)) == 0)
		have_cert = true;

	struct audit_record r = {
	    .time_ms = wall_ms(),
	    .event = event,
	    .kind = "CertificateSigningRequest",
	    .name = e->name,
	    .uid = e->uid,
	    .signer = e->signer,
	    .username = req ? req->username : NULL,
	    .user_uid = req ? req->user_uid : NULL,
	    .groups = req ? &req->groups : NULL,
	    .pod = pod,
	    .pod_uid = pod_uid,
	    .node = node,
	    .names = &names,
	    .key_type = info ? csr_key_text(&info->key, kt, sizeof(kt)) : NULL,
	    .spki_sha256 = info ? info->key.spki_sha256 : NULL,
	    .policy = policy,
	    .decision = decision,
	    .reason = reason,
	    .message = message,
	    .approved_by = rd.decision[0] != '\0' && strcmp(rd.decision, "approve") == 0
	        ? report_by_text(&rd, by, sizeof(by))
	        : NULL,
	    .serial = have_cert ? cert.serial : NULL,
	    .not_after = have_cert ? cert.not_after : 0,
	    .dry_run = dry_run,
	    .instance = c->identity,
	};
	if (audit_write(c->audit, &r, err, sizeof(err)) != 0) {
		log_error("audit line not written", "csr", e->name, "error", err);
		metrics_audit_failure(c->metrics);
	}
	csr_cert_clear(&cert);
	free(cert_pem);
	free(pod);
	util_strv_free(&names);
	csr_info_free(info);
	policy_request_free(req);
	json_decref(obj);
}

void auditlog_pcr(struct controller *c, const struct csr_entry *e, const char *event,
                  const char *decision, const char *reason, const char *message, const char *policy,
                  const char *body, size_t body_len)
{
	json_t *obj = NULL;
	json_error_t jerr;
	struct policy_pcr *pcr = NULL;
	struct csr_info *info = NULL;
	struct csr_cert cert = {0};
	char err[ERRLEN], kt[32];
	char *pod = NULL, *requester = NULL;
	bool have_cert = false;

	if (c->audit == NULL)
		return;
	if (body != NULL)
		obj = json_loadb(body, body_len, 0, &jerr);
	if (obj == NULL && e->obj != NULL)
		obj = json_incref(e->obj);
	if (obj != NULL)
		pcr = kobj_pcr_from_json(obj, err, sizeof(err));
	if (pcr != NULL) {
		pod = util_xasprintf("%s/%s", pcr->ns, pcr->pod_name);
		/* NodeRestriction lets only the pod's node create its PCR. */
		requester = util_xasprintf(NODE_PREFIX "%s", pcr->node_name);
		if (csr_parse_der(pcr->stub_der, pcr->stub_len, &info, err, sizeof(err)) != 0)
			info = NULL;
	}
	const char *chain =
	    controller_json_str(json_object_get(obj, "status"), "certificateChain", NULL);
	if (strcmp(decision, "issue") == 0 && chain != NULL &&
	    csr_cert_parse(chain, strlen(chain), &cert, err, sizeof(err)) == 0)
		have_cert = true;

	struct audit_record r = {
	    .time_ms = wall_ms(),
	    .event = event,
	    .kind = "PodCertificateRequest",
	    .name = e->name,
	    .uid = e->uid,
	    .signer = e->signer,
	    .username = requester,
	    .pod = pod,
	    .pod_uid = pcr ? pcr->pod_uid : NULL,
	    .node = pcr ? pcr->node_name : NULL,
	    .names = have_cert ? &cert.sans : NULL,
	    .key_type = info ? csr_key_text(&info->key, kt, sizeof(kt)) : NULL,
	    .spki_sha256 = info ? info->key.spki_sha256 : NULL,
	    .policy = policy,
	    .decision = decision,
	    .reason = reason,
	    .message = message,
	    .serial = have_cert ? cert.serial : NULL,
	    .not_after = have_cert ? cert.not_after : 0,
	    .instance = c->identity,
	};
	if (audit_write(c->audit, &r, err, sizeof(err)) != 0) {
		log_error("audit line not written", "pcr", e->name, "error", err);
		metrics_audit_failure(c->metrics);
	}
	csr_cert_clear(&cert);
	free(pod);
	free(requester);
	csr_info_free(info);
	policy_pcr_free(pcr);
	json_decref(obj);
}
