/*
 * controller: one step of a CSR's path. Decode the object and its request,
 * ask the policy (a pure function of the request, the identity objects and
 * the review's answer), and act on what it says: run the review it needs,
 * read live the objects a denial rests on, wait for an object that may
 * still arrive, note a leave-pending, or write the decision.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../csr/csr.h"
#include "../kobj/kobj.h"
#include "../log/log.h"
#include "../metrics/metrics.h"
#include "../util/util.h"
#include "internal.h"

#define ERRLEN 512

static double since_s(int64_t from_ms)
{
	return (double)(util_now_ms() - from_ms) / 1000.0;
}

/* A CSR object that does not convert is not judged: fail closed. */
static void decide_unreadable(struct controller *c, const struct csr_entry *e, const char *err,
                              struct policy_decision *d)
{
	const struct policy_rule *rule = policy_set_find(c->set, e->signer);
	d->verdict = POLICY_DENY;
	d->reason = POLICY_R_INVALID_REQUEST;
	d->policy = rule ? rule->name : NULL;
	d->leave_pending = rule != NULL && rule->on_failure == POLICY_ON_FAILURE_LEAVE_PENDING;
	d->message =
	    util_xasprintf("csr-approver: policy %s: %s", d->policy ? d->policy : "?", err);
}

/* Leave-pending and dry-run decisions are reported once per version. */
static void note(struct controller *c, struct csr_entry *e, const struct policy_decision *d,
                 const char *requester)
{
	const char *reason = policy_reason_name(d->reason);
	const char *decision = d->verdict == POLICY_APPROVE ? "approve" : "deny";
	if (e->noted_rv == NULL || strcmp(e->noted_rv, e->rv) != 0) {
		if (d->leave_pending) {
			api_log_decision("left pending", e, requester, d->policy, "leave-pending",
			                 reason, d->message, since_s(e->first_seen_ms));
			metrics_decision(c->metrics, d->policy ? d->policy : "", "leave-pending",
			                 reason, -1);
			auditlog_csr(c, e, "decision", "leave-pending", reason, d->message,
			             d->policy, NULL, 0, c->opt.dry_run);
			if (!c->opt.dry_run)
				api_post_event(c, e, "Warning", reason, d->message);
		} else {
			api_log_decision(d->verdict == POLICY_APPROVE ? "would approve (dry run)"
			                                              : "would deny (dry run)",
			                 e, requester, d->policy, decision, reason, d->message, -1);
			metrics_decision(c->metrics, d->policy ? d->policy : "", decision, reason,
			                 -1);
			auditlog_csr(c, e, "decision", decision, reason, d->message, d->policy,
			             NULL, 0, true);
		}
		free(e->noted_rv);
		e->noted_rv = util_xstrdup(e->rv);
	}
	store_set_state(c, e, CSR_ST_NOTED);
	controller_queue_forget(c->queue, e->name);
}

/* A denial resting on an object that is not there yet: back off, but try
 * once more right at the end of the wait. Returns true while waiting. */
bool reconcile_wait_for_object(struct controller *c, struct csr_entry *e,
                               const struct policy_decision *d, int64_t now)
{
	/* Only where the object could still change the outcome. */
	if (!d->missing_object || !d->rests_on_objects ||
	    now - e->first_seen_ms >= c->opt.missing_object_retry_ms)
		return false;
	int64_t left = e->first_seen_ms + c->opt.missing_object_retry_ms - now;
	int64_t delay = controller_queue_add_rate_limited(c->queue, e->name, now);
	if (left < delay)
		controller_queue_add_after(c->queue, e->name, now, left);
	if (e->state != CSR_ST_WAITING)
		log_debug("waiting for an object the decision needs", "csr", e->name, "reason",
		          policy_reason_name(d->reason), "message", d->message);
	store_set_state(c, e, CSR_ST_WAITING);
	return true;
}

static void write_decision(struct controller *c, struct csr_entry *e,
                           const struct policy_decision *d, const char *requester, int64_t now)
{
	const char *reason = policy_reason_name(d->reason);
	char *body =
	    controller_approval_body(e->obj, d->verdict == POLICY_APPROVE ? "Approved" : "Denied",
	                             reason, d->message ? d->message : "", time(NULL));
	if (body == NULL) {
		log_error("could not build the approval body", "csr", e->name);
		store_remove(c, e->name);
		return;
	}
	e->w_verdict = d->verdict;
	e->w_reason = reason;
	e->w_policy = d->policy;
	free(e->w_message);
	e->w_message = util_xstrdup(d->message ? d->message : "");
	free(e->w_requester);
	e->w_requester = util_xstrdup(requester);
	e->w_kind = CSR_WRITE_DECISION;
	if (c->opt.write_delay_ms > 0) {
		free(e->w_body);
		e->w_body = body;
		e->w_due_ms = now + c->opt.write_delay_ms;
		store_set_state(c, e, CSR_ST_HELD);
		log_debug("holding the approval write", "csr", e->name);
		return;
	}
	api_write(c, e, API_APPROVAL, body);
}

/*
 * Run the policy on e, with everything it needs from the cluster. Returns
 * true with *d final (approve, or a deny that no live read or wait can
 * change); false when e moved on (skipped, a review or live reads started,
 * waiting for an object).
 */
static bool decide(struct controller *c, struct csr_entry *e, const struct policy_request *req,
                   const struct csr_info *info, const char *decode_err, struct policy_decision *d,
                   int64_t now)
{
	struct identity_read_ctx rc = {c, e};
	struct policy_lookup lookup;
	identity_lookup(&rc, &lookup);
	if (e->sar_rv != NULL && strcmp(e->sar_rv, e->rv) == 0) {
		lookup.authorization = e->sar_answer;
		lookup.authorization_for = e->sar_sub;
	}
	bool live_used = e->live != NULL;
	int rc_decide = policy_decide(c->set, req, info, info ? NULL : decode_err, &lookup, d);
	/* Live reads serve the one decision made after them. */
	live_objs_free(e->live);
	e->live = NULL;
	if (rc_decide != 0) {
		log_error("could not decide", "csr", e->name);
		controller_queue_add_rate_limited(c->queue, e->name, now);
		return false;
	}
	switch (d->verdict) {
	case POLICY_SKIP:
		log_debug("skipped", "csr", e->name, "reason", policy_reason_name(d->reason));
		store_remove(c, e->name);
		return false;
	case POLICY_NEEDS_AUTHORIZATION:
		if (api_review(c, e, &d->sar) != 0)
			controller_queue_add_rate_limited(c->queue, e->name, now);
		return false;
	case POLICY_APPROVE:
		return true;
	case POLICY_DENY:
		break;
	}
	if (d->rests_on_objects && !live_used) {
		/* The cache may be behind the cluster: a watch that lags must
		 * never deny a good request. */
		log_debug("denial rests on cluster state; reading it live", "csr", e->name,
		          "reason", policy_reason_name(d->reason));
		if (identity_read_live(c, e) != 0)
			controller_queue_add_rate_limited(c->queue, e->name, now);
		return false;
	}
	return !reconcile_wait_for_object(c, e, d, now);
}

/* An Approved CSR of a policy that issues: with requirePolicy, one that
 * someone else approved is decided by the policy first (a failure gives
 * Failed, never a certificate); then it is signed. */
static void reconcile_sign(struct controller *c, struct csr_entry *e, struct policy_request *req,
                           int64_t now)
{
	struct csr_info *info = NULL;
	struct policy_decision d = {0};
	char decode_err[ERRLEN] = "";

	if (req->denied || req->failed || req->has_certificate) {
		store_remove(c, e->name);
		goto out;
	}
	if (sign_needs_policy(c, e)) {
		if (csr_parse(req->request_pem, req->request_len, &info, decode_err,
		              sizeof(decode_err)) != 0)
			info = NULL;
		req->approved = false; /* judged as if it were still pending */
		if (!decide(c, e, req, info, decode_err, &d, now))
			goto out;
		if (d.verdict != POLICY_APPROVE) {
			sign_fail(c, e, policy_reason_name(d.reason), d.message, req->username);
			goto out;
		}
	}
	sign_csr(c, e, req);
out:
	policy_decision_clear(&d);
	csr_info_free(info);
}

void reconcile(struct controller *c, const char *name)
{
	struct csr_entry *e = controller_map_get(&c->store, name);
	struct policy_request *req = NULL;
	struct csr_info *info = NULL;
	struct policy_decision d = {0};
	char err[ERRLEN] = "";
	char decode_err[ERRLEN] = "";
	int64_t now = util_now_ms();

	if (e == NULL || e->state == CSR_ST_DONE || e->obj == NULL) {
		controller_queue_forget(c->queue, name);
		goto out;
	}
	if (store_busy(e))
		goto out; /* the answer of the request in flight decides what comes next */
	if (e->pcr) {
		pcr_reconcile(c, e);
		goto out;
	}

	req = kobj_request_from_json(e->obj, err, sizeof(err));
	if (req != NULL && req->approved) {
		reconcile_sign(c, e, req, now);
		goto out;
	}
	if (req == NULL) {
		/* The API server validated spec.request; a CSR that still does
		 * not convert is not judged. */
		decide_unreadable(c, e, err, &d);
	} else {
		if (csr_parse(req->request_pem, req->request_len, &info, decode_err,
		              sizeof(decode_err)) != 0)
			info = NULL;
		if (!decide(c, e, req, info, decode_err, &d, now))
			goto out;
	}
	const char *requester = req != NULL ? req->username : "";
	if ((d.verdict == POLICY_DENY && d.leave_pending) || c->opt.dry_run) {
		note(c, e, &d, requester);
		goto out;
	}
	write_decision(c, e, &d, requester, now);
out:
	policy_decision_clear(&d);
	csr_info_free(info);
	policy_request_free(req);
}
