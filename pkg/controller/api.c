/*
 * controller: the requests a decision makes to the API server (the
 * approval write, the re-read after a conflict, the SubjectAccessReview,
 * the Event) and what their answers do: the log line and the metric of a
 * decision are written when its approval write returns.
 *
 * Asynchronous requests carry a small context naming the entry by name and
 * a serial number, never by pointer: an entry may go away (the CSR was
 * deleted, the list swept it) while a request about it is in flight.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../kube/kube.h"
#include "../log/log.h"
#include "../metrics/metrics.h"
#include "../util/util.h"
#include "internal.h"

#define CSR_PATH "/apis/certificates.k8s.io/v1/certificatesigningrequests/"
#define PCR_PATH "/apis/certificates.k8s.io/v1/namespaces/%s/podcertificaterequests/%s"

/* The URL of e's object, and of its subresource sub (NULL: none). */
static char *entry_path(const struct csr_entry *e, const char *sub)
{
	char *path;
	if (e->pcr) {
		char *ns = kube_escape(e->pcr_ns), *name = kube_escape(e->pcr_name);
		path = util_xasprintf(PCR_PATH "%s%s", ns, name, sub ? "/" : "", sub ? sub : "");
		free(ns);
		free(name);
	} else {
		char *esc = kube_escape(e->name);
		path = util_xasprintf(CSR_PATH "%s%s%s", esc, sub ? "/" : "", sub ? sub : "");
		free(esc);
	}
	return path;
}

struct req_ctx {
	struct controller *c;
	char *name;
	uint64_t serial;
};

static struct req_ctx *req_ctx_new(struct controller *c, const struct csr_entry *e)
{
	struct req_ctx *r = util_xcalloc(1, sizeof(*r));
	r->c = c;
	r->name = util_xstrdup(e->name);
	r->serial = e->serial;
	return r;
}

static void req_ctx_free(struct req_ctx *r)
{
	if (r == NULL)
		return;
	free(r->name);
	free(r);
}

/* The entry a request was about, if it is still the same one. */
static struct csr_entry *req_entry(const struct req_ctx *r)
{
	struct csr_entry *e = controller_map_get(&r->c->store, r->name);
	return e != NULL && e->serial == r->serial ? e : NULL;
}

static void status_text(long status, char buf[16])
{
	snprintf(buf, 16, "%ld", status);
}

/* ---------------------------------------------------------------- review */

static void review_done(void *ud, const struct kube_response *resp)
{
	struct req_ctx *r = ud;
	struct controller *c = r->c;
	struct csr_entry *e;
	bool allowed = false;
	char code[16];

	c->others_inflight--;
	e = req_entry(r);
	if (e == NULL || e->state != CSR_ST_AUTHORIZING || c->stopping)
		goto out;
	store_set_state(c, e, CSR_ST_PENDING);
	if ((resp->status == 200 || resp->status == 201) &&
	    controller_sar_parse(resp->body, resp->body_len, &allowed) == 0) {
		e->sar_answer = allowed ? POLICY_SAR_ALLOWED : POLICY_SAR_DENIED;
		log_debug("subject access review answered", "csr", e->name, "subresource",
		          e->sar_sub, "allowed", allowed ? "true" : "false");
		controller_queue_add(c->queue, e->name, util_now_ms());
		goto out;
	}
	status_text(resp->status, code);
	log_warn("subject access review failed", "csr", e->name, "code", code, "error",
	         resp->error);
	if (resp->status == 403)
		log_error("missing RBAC: create on subjectaccessreviews.authorization.k8s.io",
		          "csr", e->name);
	e->sar_answer = POLICY_SAR_UNASKED;
	controller_queue_add_rate_limited(c->queue, e->name, util_now_ms());
out:
	req_ctx_free(r);
}

int api_review(struct controller *c, struct csr_entry *e, const struct policy_sar *sar)
{
	char *body = controller_sar_body(sar);
	struct req_ctx *r = req_ctx_new(c, e);
	struct kube_request *kr = kube_request_start(
	    c->client, "POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", body,
	    strlen(body), NULL, review_done, NULL, r);
	free(body);
	if (kr == NULL) {
		req_ctx_free(r);
		return -1;
	}
	c->others_inflight++;
	e->sar_answer = POLICY_SAR_UNASKED;
	free(e->sar_rv);
	e->sar_rv = util_xstrdup(e->rv);
	free(e->sar_sub);
	e->sar_sub = util_xstrdup(sar->subresource ? sar->subresource : "");
	store_set_state(c, e, CSR_ST_AUTHORIZING);
	return 0;
}

/* ---------------------------------------------------------------- events, log */

static void event_done(void *ud, const struct kube_response *resp)
{
	struct req_ctx *r = ud;
	r->c->others_inflight--;
	if (resp->status < 200 || resp->status >= 300) {
		char code[16];
		status_text(resp->status, code);
		log_warn("could not record event", "csr", r->name, "code", code, "error",
		         resp->error);
	}
	req_ctx_free(r);
}

void api_post_event(struct controller *c, const struct csr_entry *e, const char *type,
                    const char *reason, const char *message)
{
	if (e->pcr)
		return; /* Events name CSRs; a PCR's decision is in its status and the log */
	struct controller_event ev = {
	    .csr_name = e->name,
	    .csr_uid = e->uid,
	    .type = type,
	    .reason = reason,
	    .message = message,
	    .instance = c->identity,
	};
	size_t len = 0;
	char *body = controller_event_body(&ev, time(NULL), &len);
	struct req_ctx *r = req_ctx_new(c, e);
	/* Deferred: in a burst the decisions are written first, their Events
	 * after (none is dropped). */
	if (kube_request_start_deferred(c->client, "POST", "/api/v1/namespaces/default/events",
	                                body, len, CONTROLLER_EVENT_CONTENT_TYPE, event_done,
	                                r) == NULL) {
		log_warn("could not record event", "csr", e->name, "error", "request not started");
		req_ctx_free(r);
	} else {
		c->others_inflight++;
	}
	free(body);
}

void api_log_decision(const char *msg, const struct csr_entry *e, const char *requester,
                      const char *policy, const char *decision, const char *reason,
                      const char *message, double seconds)
{
	char dur[32] = "";
	if (seconds >= 0)
		snprintf(dur, sizeof(dur), "%.3f", seconds);
	log_info(msg, "csr", e->name, "signer", e->signer, "requester", requester, "policy", policy,
	         "decision", decision, "reason", reason, "message", message, "duration",
	         seconds >= 0 ? dur : NULL);
}

/* ---------------------------------------------------------------- re-read */

static void reread_done(void *ud, const struct kube_response *resp)
{
	struct req_ctx *r = ud;
	struct controller *c = r->c;
	struct csr_entry *e;
	json_t *obj = NULL;
	json_error_t jerr;

	c->others_inflight--;
	e = req_entry(r);
	if (e == NULL || c->stopping)
		goto out;
	if (resp->status == 404) {
		store_remove(c, e->name);
		goto out;
	}
	if (resp->status == 200)
		obj = json_loadb(resp->body, resp->body_len, 0, &jerr);
	/* A CSR approved meanwhile (by this process, whose answer was lost, or
	 * by someone else) but not signed yet still has its certificate to
	 * come when this process issues for its signer: only a finished one
	 * leaves. */
	if (obj != NULL &&
	    (e->decided_elsewhere ||
	     (e->pcr ? pcr_is_decided(obj) : !store_csr_open(c, obj, e->signer)))) {
		if (e->pcr || !api_confirm_decision(c, e, obj))
			log_info("decided elsewhere meanwhile", "csr", e->name);
		store_remove(c, e->name);
		goto out;
	}
	store_set_state(c, e, CSR_ST_PENDING);
	if (obj == NULL) {
		char code[16];
		status_text(resp->status, code);
		log_warn("could not re-read CSR", "csr", e->name, "code", code, "error",
		         resp->error);
		controller_queue_add_rate_limited(c->queue, e->name, util_now_ms());
		goto out;
	}
	store_set_object(e, obj);
	controller_queue_add(c->queue, e->name, util_now_ms());
out:
	json_decref(obj);
	req_ctx_free(r);
}

void api_reread(struct controller *c, struct csr_entry *e)
{
	char *path = entry_path(e, NULL);
	struct req_ctx *r = req_ctx_new(c, e);
	if (kube_request_start(c->client, "GET", path, NULL, 0, NULL, reread_done, NULL, r) ==
	    NULL) {
		req_ctx_free(r);
		store_set_state(c, e, CSR_ST_PENDING);
		controller_queue_add_rate_limited(c->queue, e->name, util_now_ms());
	} else {
		store_set_state(c, e, CSR_ST_REREADING);
		c->others_inflight++;
	}
	free(path);
}

/* ---------------------------------------------------------------- approval */

/* The write ended the CSR's pending life (or it was decided meanwhile). */
static void write_finished(struct controller *c, struct csr_entry *e)
{
	if (e->decided_elsewhere)
		store_remove(c, e->name);
	else
		store_tombstone(c, e);
}

/* A decision is in the cluster: its log line, metric, audit line and
 * Event. body is the CSR as it now stands (NULL: e->obj). */
static void decision_recorded(struct controller *c, struct csr_entry *e, const char *body,
                              size_t body_len, double secs)
{
	const char *decision = e->w_verdict == POLICY_APPROVE ? "approve" : "deny";
	e->w_uncertain = false;
	api_log_decision("decided", e, e->w_requester, e->w_policy, decision, e->w_reason,
	                 e->w_message, secs);
	metrics_decision(c->metrics, e->w_policy, decision, e->w_reason, secs);
	auditlog_csr(c, e, "decision", decision, e->w_reason, e->w_message, e->w_policy, body,
	             body_len, false);
	api_post_event(c, e, e->w_verdict == POLICY_APPROVE ? "Normal" : "Warning", e->w_reason,
	               e->w_message);
}

bool api_confirm_decision(struct controller *c, struct csr_entry *e, const json_t *obj)
{
	const json_t *conds = json_object_get(json_object_get(obj, "status"), "conditions");
	const char *want = e->w_verdict == POLICY_APPROVE ? "Approved" : "Denied";
	size_t i;
	const json_t *cond;
	if (!e->w_uncertain || e->w_kind != CSR_WRITE_DECISION || e->w_message == NULL)
		return false;
	json_array_foreach(conds, i, cond)
	{
		const char *t = controller_json_str(cond, "type", NULL);
		const char *r = controller_json_str(cond, "reason", NULL);
		const char *m = controller_json_str(cond, "message", NULL);
		if (t == NULL || r == NULL || m == NULL || strcmp(t, want) != 0 ||
		    strcmp(r, e->w_reason) != 0 || strcmp(m, e->w_message) != 0)
			continue;
		char *body = json_dumps(obj, JSON_COMPACT);
		log_info("the decision whose write went unanswered is in the cluster", "csr",
		         e->name);
		decision_recorded(c, e, body, body ? strlen(body) : 0,
		                  (double)(util_now_ms() - e->first_seen_ms) / 1000.0);
		free(body);
		return true;
	}
	return false;
}

/* The write took: log, metric and Event, then what comes next. */
static void write_succeeded(struct controller *c, struct csr_entry *e,
                            const struct kube_response *resp, int64_t now)
{
	double secs = (double)(now - e->first_seen_ms) / 1000.0;
	json_t *obj = NULL;
	json_error_t jerr;

	if (e->pcr) {
		pcr_write_succeeded(c, e, resp);
		return;
	}
	if (e->w_kind == CSR_WRITE_CERTIFICATE) {
		log_info("issued", "csr", e->name, "signer", e->signer, "requester", e->w_requester,
		         "policy", e->w_policy, "message", e->w_message);
		metrics_certificates_issued(c->metrics, e->w_policy, "csr", 1);
		auditlog_csr(c, e, "issuance", "issue", e->w_reason, e->w_message, e->w_policy,
		             resp->body, resp->body_len, false);
		api_post_event(c, e, "Normal", "Issued", e->w_message);
		write_finished(c, e);
		return;
	}
	if (e->w_kind == CSR_WRITE_FAILED) {
		log_warn("not signed", "csr", e->name, "signer", e->signer, "requester",
		         e->w_requester, "policy", e->w_policy, "reason", e->w_reason, "message",
		         e->w_message);
		auditlog_csr(c, e, "decision", "fail", e->w_reason, e->w_message, e->w_policy,
		             resp->body, resp->body_len, false);
		api_post_event(c, e, "Warning", e->w_reason, e->w_message);
		write_finished(c, e);
		return;
	}
	decision_recorded(c, e, resp->body, resp->body_len, secs);
	/* Approved under a policy that issues: sign it now, from the object
	 * the write returned (the watch brings the same a little later). */
	if (e->w_verdict == POLICY_APPROVE && !e->decided_elsewhere && sign_issues(c, e->signer) &&
	    (obj = json_loadb(resp->body, resp->body_len, 0, &jerr)) != NULL &&
	    store_csr_is_decided(obj)) {
		e->approved_here = true;
		store_set_object(e, obj);
		store_set_state(c, e, CSR_ST_PENDING);
		controller_queue_add(c->queue, e->name, now);
		json_decref(obj);
		return;
	}
	json_decref(obj);
	write_finished(c, e);
}

static void write_done(void *ud, const struct kube_response *resp)
{
	struct req_ctx *r = ud;
	struct controller *c = r->c;
	struct csr_entry *e;
	int64_t now = util_now_ms();
	char code[16];

	status_text(resp->status, code);
	e = req_entry(r);
	if (e == NULL) {
		log_debug("approval write finished for a CSR no longer tracked", "csr", r->name,
		          "code", code);
		goto out;
	}
	bool decision = e->w_kind == CSR_WRITE_DECISION;
	if (resp->status == 200 || resp->status == 201) {
		write_succeeded(c, e, resp, now);
		goto out;
	}
	if (c->stopping && resp->status == 0) {
		log_warn(decision ? "approval write cancelled by shutdown"
		                  : "status write cancelled by shutdown",
		         "csr", e->name);
		store_set_state(c, e, CSR_ST_PENDING);
		goto out;
	}
	switch (resp->status) {
	case 409:
		log_info(decision ? "approval write conflict; re-reading"
		                  : "status write conflict; re-reading",
		         "csr", e->name, "error", resp->error);
		if (e->decided_elsewhere) {
			store_remove(c, e->name);
			break;
		}
		if (c->stopping) {
			store_set_state(c, e, CSR_ST_PENDING);
			break;
		}
		api_reread(c, e);
		break;
	case 404:
		log_info("CSR gone before its decision was written", "csr", e->name);
		store_remove(c, e->name);
		break;
	case 422:
		log_warn(decision ? "approval write refused; the CSR was decided meanwhile"
		                  : "status write refused; the CSR was decided meanwhile",
		         "csr", e->name, "error", resp->error);
		write_finished(c, e);
		break;
	case 403:
		log_error(decision ? "approval write forbidden: csr-approver needs update on "
		                     "certificatesigningrequests/approval and approve on signers"
		                   : "status write forbidden: csr-approver needs update on "
		                     "certificatesigningrequests/status and sign on signers",
		          "csr", e->name, "signer", e->signer, "error", resp->error);
		store_set_state(c, e, CSR_ST_PENDING);
		controller_queue_add_rate_limited(c->queue, e->name, now);
		break;
	default:
		/* No answer at all: the write may have taken. The watch tells;
		 * api_confirm_decision() then records it. */
		if (resp->status == 0 && decision)
			e->w_uncertain = true;
		log_warn(decision ? "approval write failed; will retry"
		                  : "status write failed; will retry",
		         "csr", e->name, "code", code, "error", resp->error);
		store_set_state(c, e, CSR_ST_PENDING);
		controller_queue_add_rate_limited(c->queue, e->name, now);
		break;
	}
out:
	req_ctx_free(r);
}

void api_write(struct controller *c, struct csr_entry *e, enum api_subresource sub, char *body)
{
	char *path = entry_path(e, sub == API_APPROVAL ? "approval" : "status");
	struct req_ctx *r = req_ctx_new(c, e);
	if (kube_request_start(c->client, "PUT", path, body, strlen(body), NULL, write_done, NULL,
	                       r) == NULL) {
		log_warn(sub == API_APPROVAL ? "approval write not started"
		                             : "status write not started",
		         "csr", e->name);
		req_ctx_free(r);
		store_set_state(c, e, CSR_ST_PENDING);
		controller_queue_add_rate_limited(c->queue, e->name, util_now_ms());
	} else {
		store_set_state(c, e, CSR_ST_WRITING);
	}
	free(path);
	free(body);
}
