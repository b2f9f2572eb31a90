/*
 * controller: PodCertificateRequests (SPEC.md, "PodCertificateRequests").
 *
 * A PCR of a signerName whose policy has `podCertificates: true` lives in
 * the same store as the CSRs, under the key "pcr/NS/NAME" (a CSR name
 * cannot hold '/'), with the same states. There is no approval step: the
 * policy decides (pkg/policy policy_decide_pcr(), with the identity caches
 * and the live re-read of a denial that rests on them, as for CSRs), then
 * the built-in signer issues, and one status write carries the outcome:
 * Issued with the chain and its times, Denied with the policy's reason, or
 * Failed/SignerError.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../csr/csr.h"
#include "../kobj/kobj.h"
#include "../log/log.h"
#include "../metrics/metrics.h"
#include "../signer/signer.h"
#include "../util/util.h"
#include "internal.h"

#define ERRLEN 512
/* spec.maxExpirationSeconds when the object leaves it out (the API
 * server's default). */
#define PCR_DEFAULT_MAX_EXPIRATION 86400

/* ---------------------------------------------------------------- policies */

static const struct policy_rule *pcr_rule(const struct policy_set *set, const char *signer)
{
	const struct policy_rule *r = signer ? policy_set_find(set, signer) : NULL;
	return r != NULL && r->pod_certificates && r->type == POLICY_TYPE_WORKLOAD ? r : NULL;
}

bool pcr_wanted(const struct policy_set *set)
{
	for (size_t i = 0; set != NULL && i < set->n_rules; i++)
		if (pcr_rule(set, set->rules[i].signer_name) != NULL)
			return true;
	return false;
}

char *pcr_selector(const struct policy_set *set)
{
	const struct policy_rule *only = NULL;
	size_t n = 0;
	for (size_t i = 0; set != NULL && i < set->n_rules; i++) {
		if (pcr_rule(set, set->rules[i].signer_name) != &set->rules[i])
			continue;
		only = &set->rules[i];
		n++;
	}
	return n == 1 ? util_xasprintf("spec.signerName=%s", only->signer_name) : NULL;
}

/* ---------------------------------------------------------------- the store */

bool pcr_is_decided(const json_t *obj)
{
	const json_t *status = json_object_get(obj, "status");
	const json_t *conds = json_object_get(status, "conditions");
	const char *chain = controller_json_str(status, "certificateChain", NULL);
	size_t i;
	const json_t *cond;

	if (chain != NULL && chain[0] != '\0')
		return true;
	json_array_foreach(conds, i, cond)
	{
		const char *t = controller_json_str(cond, "type", NULL);
		const char *s = controller_json_str(cond, "status", NULL);
		if (t == NULL || (s != NULL && strcmp(s, "True") != 0))
			continue;
		if (strcmp(t, "Issued") == 0 || strcmp(t, "Denied") == 0 ||
		    strcmp(t, "Failed") == 0)
			return true;
	}
	return false;
}

static char *pcr_key(const char *ns, const char *name)
{
	return util_xasprintf("pcr/%s/%s", ns, name);
}

/* A PCR seen in a LIST or a watch event (not DELETED). */
static void pcr_observe(struct controller *c, const json_t *obj, bool from_list)
{
	const char *ns = controller_json_str(obj, "metadata", "namespace");
	const char *name = controller_json_str(obj, "metadata", "name");
	const char *signer = controller_json_str(obj, "spec", "signerName");
	const char *rv = controller_json_str(obj, "metadata", "resourceVersion");
	const char *uid = controller_json_str(obj, "metadata", "uid");
	struct csr_entry *e;
	char *key;

	if (ns == NULL || name == NULL)
		return;
	key = pcr_key(ns, name);
	e = controller_map_get(&c->store, key);
	if (e != NULL && uid != NULL && e->uid != NULL && strcmp(e->uid, uid) != 0) {
		store_remove(c, key); /* made again under the same name: another PCR */
		e = NULL;
	}
	if (pcr_rule(c->set, signer) == NULL) {
		if (e != NULL)
			store_remove(c, key);
		goto out;
	}
	if (pcr_is_decided(obj)) {
		if (e == NULL)
			goto out;
		if (store_busy(e)) {
			e->decided_elsewhere = true;
			e->list_gen = c->pcr_gen;
			goto out;
		}
		if (e->state != CSR_ST_DONE)
			log_debug("decided elsewhere", "pcr", key, "signer", signer);
		store_remove(c, key);
		goto out;
	}
	if (e == NULL) {
		e = util_xcalloc(1, sizeof(*e));
		e->name = util_xstrdup(key);
		e->pcr = true;
		e->pcr_ns = util_xstrdup(ns);
		e->pcr_name = util_xstrdup(name);
		e->serial = ++c->serial;
		e->state = CSR_ST_PENDING;
		e->signer = util_xstrdup(signer);
		e->uid = uid ? util_xstrdup(uid) : NULL;
		e->first_seen_ms = util_now_ms();
		controller_map_put(&c->store, key, e);
		c->n_state[CSR_ST_PENDING]++;
	}
	e->list_gen = c->pcr_gen;
	if (e->state == CSR_ST_DONE)
		goto out; /* an older view of a PCR this process has answered */
	if (e->rv != NULL && rv != NULL && strcmp(e->rv, rv) == 0 && e->obj != NULL && from_list)
		goto out;
	store_set_object(e, (json_t *)obj);
	if (e->state == CSR_ST_NOTED)
		store_set_state(c, e, CSR_ST_PENDING);
	controller_queue_add(c->queue, key, util_now_ms());
out:
	free(key);
}

static void pcr_list_begin(void *ud)
{
	struct controller *c = ud;
	c->pcr_gen++;
	inventory_list_begin(c, REPORT_PCR);
	if (c->listed_once[RES_PCR])
		log_info("relisting", "resource", controller_res_names[RES_PCR]);
}

static void pcr_list_item(void *ud, const json_t *obj)
{
	inventory_observe(ud, REPORT_PCR, obj);
	pcr_observe(ud, obj, true);
}

static void pcr_list_end(void *ud)
{
	struct controller *c = ud;
	store_sweep(c, true);
	inventory_list_end(c, REPORT_PCR);
	c->listed_once[RES_PCR] = true;
}

static void pcr_event(void *ud, enum watch_event_type type, const json_t *obj)
{
	struct controller *c = ud;
	if (type == WATCH_DELETED) {
		inventory_delete(c, REPORT_PCR, obj);
		const char *ns = controller_json_str(obj, "metadata", "namespace");
		const char *name = controller_json_str(obj, "metadata", "name");
		if (ns == NULL || name == NULL)
			return;
		char *key = pcr_key(ns, name);
		if (controller_map_get(&c->store, key) != NULL) {
			log_debug("deleted", "pcr", key);
			store_remove(c, key);
		}
		free(key);
		return;
	}
	if (type == WATCH_ADDED || type == WATCH_MODIFIED) {
		inventory_observe(c, REPORT_PCR, obj);
		pcr_observe(c, obj, false);
	}
}

const struct watch_informer_ops pcr_ops = {pcr_list_begin, pcr_list_item, pcr_list_end, pcr_event};

/* ---------------------------------------------------------------- the status */

/*
 * The body of PUT .../podcertificaterequests/NAME/status: the PCR as read
 * (metadata with its resourceVersion, spec), with apiVersion and kind set
 * and a status holding one condition and, when cert is not NULL, the chain
 * and its times. NULL when obj is not an object.
 */
static char *pcr_status_body(const json_t *obj, const char *type, const char *reason,
                             const char *message, time_t now, const struct signer_cert *cert)
{
	json_t *copy, *status, *cond;
	char ts[32], nb[32], na[32], rf[32];
	char *body;

	if (!json_is_object(obj))
		return NULL;
	copy = json_deep_copy(obj);
	json_object_set_new(copy, "apiVersion", json_string("certificates.k8s.io/v1"));
	json_object_set_new(copy, "kind", json_string("PodCertificateRequest"));
	controller_format_time(now, ts, sizeof(ts));
	cond = json_pack("{s:s, s:s, s:s, s:s, s:s}", "type", type, "status", "True", "reason",
	                 reason, "message", message, "lastTransitionTime", ts);
	status = json_pack("{s:[o]}", "conditions", cond);
	if (cert != NULL) {
		controller_format_time((time_t)cert->not_before, nb, sizeof(nb));
		controller_format_time((time_t)cert->not_after, na, sizeof(na));
		controller_format_time((time_t)cert->begin_refresh_at, rf, sizeof(rf));
		json_object_set_new(status, "certificateChain", json_string(cert->chain_pem));
		json_object_set_new(status, "notBefore", json_string(nb));
		json_object_set_new(status, "notAfter", json_string(na));
		json_object_set_new(status, "beginRefreshAt", json_string(rf));
	}
	json_object_set_new(copy, "status", status);
	body = kobj_dumps(copy);
	json_decref(copy);
	return body;
}

/* Record what is written, then write it. */
static void pcr_write(struct controller *c, struct csr_entry *e, enum csr_write kind,
                      const char *reason, const char *policy, const char *message,
                      const char *requester, const struct signer_cert *cert)
{
	const char *type = kind == CSR_WRITE_CERTIFICATE ? "Issued"
	    : kind == CSR_WRITE_DECISION                 ? "Denied"
	                                                 : "Failed";
	char *body = pcr_status_body(e->obj, type, reason, message, time(NULL), cert);
	if (body == NULL) {
		log_error("could not build the status body", "pcr", e->name);
		store_remove(c, e->name);
		return;
	}
	e->w_kind = kind;
	e->w_verdict = kind == CSR_WRITE_CERTIFICATE ? POLICY_APPROVE : POLICY_DENY;
	e->w_reason = reason;
	e->w_policy = policy;
	free(e->w_message);
	e->w_message = util_xstrdup(message);
	free(e->w_requester);
	e->w_requester = util_xstrdup(requester);
	api_write(c, e, API_STATUS, body);
}

void pcr_write_succeeded(struct controller *c, struct csr_entry *e,
                         const struct kube_response *resp)
{
	char dur[32];
	snprintf(dur, sizeof(dur), "%.3f", (double)(util_now_ms() - e->first_seen_ms) / 1000.0);
	const char *decision = e->w_kind == CSR_WRITE_CERTIFICATE ? "issue"
	    : e->w_kind == CSR_WRITE_DECISION                     ? "deny"
	                                                          : "fail";
	log_info(e->w_kind == CSR_WRITE_CERTIFICATE ? "issued" : "decided", "pcr", e->name,
	         "signer", e->signer, "requester", e->w_requester, "policy", e->w_policy,
	         "decision", decision, "reason", e->w_reason, "message", e->w_message, "duration",
	         dur);
	if (e->w_kind == CSR_WRITE_CERTIFICATE)
		metrics_certificates_issued(c->metrics, e->w_policy, "pcr", 1);
	auditlog_pcr(c, e, e->w_kind == CSR_WRITE_CERTIFICATE ? "issuance" : "decision", decision,
	             e->w_reason, e->w_message, e->w_policy, resp->body, resp->body_len);
	if (e->decided_elsewhere)
		store_remove(c, e->name);
	else
		store_tombstone(c, e);
}

/* ---------------------------------------------------------------- one decision */

/* As reconcile.c's decide(): true with *d final; false when e moved on. */
static bool pcr_decide(struct controller *c, struct csr_entry *e, const struct policy_pcr *pcr,
                       const struct csr_info *info, const char *decode_err,
                       struct policy_decision *d, struct policy_names *names, int64_t now)
{
	struct identity_read_ctx rc = {c, e};
	struct policy_lookup lookup;
	/* The ServiceAccount (never cached) and, without a kubelet-serving
	 * policy, the Node (not cached then) are not found until a live read
	 * has fetched them: the first decision cannot approve, and only the
	 * one on what was read counts. */
	identity_lookup(&rc, &lookup);
	bool uncached_read = e->live != NULL && e->live->uncached_only;
	bool live_used = e->live != NULL && !uncached_read;
	int rc_decide =
	    policy_decide_pcr(c->set, pcr, info, info ? NULL : decode_err, &lookup, d, names);
	live_objs_free(e->live);
	e->live = NULL;
	if (rc_decide != 0) {
		log_error("could not decide", "pcr", e->name);
		controller_queue_add_rate_limited(c->queue, e->name, now);
		return false;
	}
	switch (d->verdict) {
	case POLICY_APPROVE:
		return true;
	case POLICY_DENY:
		break;
	default:
		log_debug("skipped", "pcr", e->name, "reason", policy_reason_name(d->reason));
		store_remove(c, e->name);
		return false;
	}
	/* A ServiceAccount not read yet makes any denial wait for the read:
	 * its "not found" would stand for a check never made. First only what
	 * no cache holds is read (a good request needs no more); a denial on
	 * objects after that reads everything it rests on. */
	if (e->sa_unread && !live_used && !uncached_read) {
		log_debug("reading the service account and node live", "pcr", e->name);
		if (identity_read_uncached(c, e) != 0)
			controller_queue_add_rate_limited(c->queue, e->name, now);
		return false;
	}
	if ((d->rests_on_objects || e->sa_unread) && !live_used) {
		log_debug("denial rests on cluster state; reading it live", "pcr", e->name,
		          "reason", policy_reason_name(d->reason));
		if (identity_read_live(c, e) != 0)
			controller_queue_add_rate_limited(c->queue, e->name, now);
		return false;
	}
	return !reconcile_wait_for_object(c, e, d, now);
}

static void pcr_note(struct controller *c, struct csr_entry *e, const char *what,
                     const struct policy_decision *d, const char *requester)
{
	if (e->noted_rv == NULL || strcmp(e->noted_rv, e->rv) != 0) {
		log_info(what, "pcr", e->name, "signer", e->signer, "requester", requester,
		         "policy", d->policy, "reason", policy_reason_name(d->reason), "message",
		         d->message);
		free(e->noted_rv);
		e->noted_rv = util_xstrdup(e->rv);
	}
	store_set_state(c, e, CSR_ST_NOTED);
	controller_queue_forget(c->queue, e->name);
}

/* Issue for an approved decision: Issued, or Failed/SignerError. */
static void pcr_issue(struct controller *c, struct csr_entry *e, const struct policy_pcr *pcr,
                      const struct policy_decision *d, const struct policy_names *names,
                      const char *requester)
{
	const struct policy_rule *rule = pcr_rule(c->set, e->signer);
	const char *why = NULL;
	const struct signer_ca *ca = sign_ca(c, e->signer, &why);
	struct signer_name *sn = NULL;
	struct signer_cert *cert = NULL;
	char err[ERRLEN] = "";
	char *msg = NULL;
	unsigned eku = 0;

	if (rule == NULL) {
		store_remove(c, e->name);
		goto out;
	}
	if (ca == NULL) {
		msg = util_xasprintf("csr-approver: policy %s: not issued: the issuing CA does not "
		                     "load: %s",
		                     rule->name, why);
		goto fail;
	}
	if (signer_usages_eku(&rule->usages, &eku, err, sizeof(err)) != 0) {
		msg = util_xasprintf("csr-approver: policy %s: not issued: usages: %s", rule->name,
		                     err);
		goto fail;
	}
	sn = util_xcalloc(names->values.n ? names->values.n : 1, sizeof(*sn));
	for (size_t i = 0; i < names->values.n; i++) {
		sn[i].value = names->values.v[i];
		sn[i].type = names->types[i] == POLICY_NAME_TYPE_URI ? SIGNER_NAME_URI
		    : names->types[i] == POLICY_NAME_TYPE_IP         ? SIGNER_NAME_IP
		                                                     : SIGNER_NAME_DNS;
	}
	struct signer_validity v = {
	    .now = time(NULL),
	    .lifetime = rule->issue.lifetime_seconds,
	    .backdate = rule->issue.backdate_seconds,
	};
	int64_t max_exp = pcr->max_expiration_seconds > 0 ? pcr->max_expiration_seconds
	                                                  : PCR_DEFAULT_MAX_EXPIRATION;
	if (signer_issue_pod(ca, (const char *)pcr->stub_der, pcr->stub_len, sn, names->values.n,
	                     eku, max_exp, &v, &cert, err, sizeof(err)) != 0) {
		msg = util_xasprintf("csr-approver: policy %s: not issued: %s", rule->name, err);
		goto fail;
	}
	char not_after[32];
	controller_format_time((time_t)cert->not_after, not_after, sizeof(not_after));
	msg = util_xasprintf("%s; issued serial %s, valid until %s", d->message, cert->serial,
	                     not_after);
	if (c->opt.dry_run) {
		log_info("would issue (dry run)", "pcr", e->name, "policy", rule->name, "serial",
		         cert->serial);
		store_set_state(c, e, CSR_ST_NOTED);
		controller_queue_forget(c->queue, e->name);
		goto out;
	}
	pcr_write(c, e, CSR_WRITE_CERTIFICATE, "Issued", rule->name, msg, requester, cert);
	goto out;
fail:
	if (c->opt.dry_run) {
		log_info("would fail (dry run)", "pcr", e->name, "policy", rule->name, "message",
		         msg);
		store_set_state(c, e, CSR_ST_NOTED);
		controller_queue_forget(c->queue, e->name);
		goto out;
	}
	pcr_write(c, e, CSR_WRITE_FAILED, "SignerError", rule->name, msg, requester, NULL);
out:
	free(msg);
	free(sn);
	signer_cert_free(cert);
}

void pcr_reconcile(struct controller *c, struct csr_entry *e)
{
	struct policy_pcr *pcr = NULL;
	struct csr_info *info = NULL;
	struct policy_decision d = {0};
	struct policy_names names = {0};
	char err[ERRLEN] = "";
	char decode_err[ERRLEN] = "";
	char *requester = NULL;
	int64_t now = util_now_ms();

	pcr = kobj_pcr_from_json(e->obj, err, sizeof(err));
	if (pcr == NULL) {
		/* The API server validated the object; one that still does not
		 * convert is not judged: fail closed. */
		const struct policy_rule *rule = pcr_rule(c->set, e->signer);
		char *msg =
		    util_xasprintf("csr-approver: policy %s: %s", rule ? rule->name : "?", err);
		if (c->opt.dry_run) {
			d.policy = rule ? rule->name : NULL;
			d.reason = POLICY_R_INVALID_REQUEST;
			d.message = msg;
			pcr_note(c, e, "would deny (dry run)", &d, "");
			goto out;
		}
		pcr_write(c, e, CSR_WRITE_DECISION, policy_reason_name(POLICY_R_INVALID_REQUEST),
		          rule ? rule->name : NULL, msg, "", NULL);
		free(msg);
		goto out;
	}
	requester = util_xasprintf("system:node:%s", pcr->node_name);
	if (csr_parse_der(pcr->stub_der, pcr->stub_len, &info, decode_err, sizeof(decode_err)) != 0)
		info = NULL;
	if (!pcr_decide(c, e, pcr, info, decode_err, &d, &names, now))
		goto out;
	if (d.verdict == POLICY_APPROVE) {
		pcr_issue(c, e, pcr, &d, &names, requester);
		goto out;
	}
	if (c->opt.dry_run) {
		pcr_note(c, e, "would deny (dry run)", &d, requester);
		goto out;
	}
	pcr_write(c, e, CSR_WRITE_DECISION, policy_reason_name(d.reason), d.policy,
	          d.message ? d.message : "", requester, NULL);
out:
	free(requester);
	policy_names_clear(&names);
	policy_decision_clear(&d);
	csr_info_free(info);
	policy_pcr_free(pcr);
}
