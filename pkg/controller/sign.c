/*
 * controller: the built-in signer (SPEC.md, "Issuing: the built-in
 * signer"). For each workload policy with `issue:`, the issuing CA loaded
 * from its files (re-read when they change, the old CA kept while the new
 * files do not load), the signing of Approved CSRs of its signerName, and
 * the ClusterTrustBundle that publishes the CA certificates.
 *
 * The CA key lives in pkg/signer's struct signer_ca and nowhere else: no
 * message here carries more than the file names and pkg/signer's errors,
 * which never quote key material.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../kobj/kobj.h"
#include "../kube/kube.h"
#include "../log/log.h"
#include "../signer/signer.h"
#include "../util/util.h"
#include "internal.h"

#define ERRLEN 512
/* How often the CA files are looked at (a stat each). */
#define CA_CHECK_MS 5000
/* Retry of a trust bundle write that failed: doubling up to the cap. */
#define BUNDLE_RETRY_BASE_MS 1000
#define BUNDLE_RETRY_MAX_MS 60000
/* A published trust bundle is read again this often, so that one deleted
 * or edited by hand is published again from the files (merged as always
 * with the CA certificates in it that have not expired). */
#define BUNDLE_RESYNC_MS (5 * 60 * 1000)
#define CTB_PATH "/apis/certificates.k8s.io/v1/clustertrustbundles"

struct issuer {
	const struct policy_rule *rule; /* borrowed from the set */
	struct signer_ca *ca; /* owned; NULL while the files do not load */
	char *ca_error; /* owned: why ca is NULL, or why the last reload failed */
	int64_t next_check_ms;
	/* The ClusterTrustBundle; name NULL when trustBundle is off. */
	char *bundle_name; /* owned */
	bool bundle_dirty; /* to publish (start, CA changed, a write failed, resync) */
	int64_t bundle_resync_ms; /* when to read it again; 0: not published yet */
	bool bundle_inflight;
	unsigned bundle_failures;
	int64_t bundle_due_ms;
};

static void issuer_load(struct issuer *is)
{
	char err[ERRLEN] = "";
	const struct policy_issue *iss = &is->rule->issue;
	if (signer_ca_load(iss->ca_cert_file, iss->ca_key_file, &is->ca, err, sizeof(err)) == 0) {
		free(is->ca_error);
		is->ca_error = NULL;
		is->bundle_dirty = true;
		log_info("issuing CA loaded", "policy", is->rule->name, "subject",
		         signer_ca_subject(is->ca), "key", signer_ca_key_type(is->ca));
		return;
	}
	if (is->ca_error == NULL || strcmp(is->ca_error, err) != 0)
		log_error("issuing CA does not load; approved CSRs get Failed/SignerError",
		          "policy", is->rule->name, "error", err);
	free(is->ca_error);
	is->ca_error = util_xstrdup(err);
}

void sign_setup(struct controller *c)
{
	for (size_t i = 0; c->set != NULL && i < c->set->n_rules; i++) {
		const struct policy_rule *r = &c->set->rules[i];
		if (!r->issue.enabled)
			continue;
		c->issuers = util_xreallocarray(c->issuers, c->n_issuers + 1, sizeof(*c->issuers));
		struct issuer *is = &c->issuers[c->n_issuers++];
		memset(is, 0, sizeof(*is));
		is->rule = r;
		if (r->issue.trust_bundle)
			is->bundle_name = signer_trust_bundle_name(r->signer_name);
		issuer_load(is);
		is->next_check_ms = util_now_ms() + CA_CHECK_MS;
	}
}

void sign_free(struct controller *c)
{
	for (size_t i = 0; i < c->n_issuers; i++) {
		signer_ca_free(c->issuers[i].ca);
		free(c->issuers[i].ca_error);
		free(c->issuers[i].bundle_name);
	}
	free(c->issuers);
	c->issuers = NULL;
	c->n_issuers = 0;
}

static struct issuer *issuer_of(const struct controller *c, const char *signer)
{
	for (size_t i = 0; signer != NULL && i < c->n_issuers; i++)
		if (strcmp(c->issuers[i].rule->signer_name, signer) == 0)
			return &c->issuers[i];
	return NULL;
}

bool sign_issues(const struct controller *c, const char *signer)
{
	return issuer_of(c, signer) != NULL;
}

/* ---------------------------------------------------------------- the CA files */

static void issuer_check(struct issuer *is)
{
	char err[ERRLEN] = "";
	if (is->ca == NULL) {
		issuer_load(is);
		return;
	}
	if (!signer_ca_changed(is->ca))
		return;
	int rc = signer_ca_reload(&is->ca, err, sizeof(err));
	if (rc == 1) {
		free(is->ca_error);
		is->ca_error = NULL;
		is->bundle_dirty = true;
		log_info("issuing CA reloaded", "policy", is->rule->name, "subject",
		         signer_ca_subject(is->ca));
	} else if (rc < 0) {
		log_error("issuing CA files changed but do not load; signing with the previous CA",
		          "policy", is->rule->name, "error", err);
	}
}

/* ---------------------------------------------------------------- the trust bundle */

struct bundle_req {
	struct controller *c;
	size_t index; /* into c->issuers */
};

static void bundle_failed(struct issuer *is, const char *what, const struct kube_response *resp)
{
	char code[16];
	snprintf(code, sizeof(code), "%ld", resp->status);
	log_warn("trust bundle not published; will retry", "bundle", is->bundle_name, "step", what,
	         "code", code, "error", resp->error);
	if (resp->status == 403)
		log_error("missing RBAC for the trust bundle: get, create and update on "
		          "clustertrustbundles, attest on signers",
		          "bundle", is->bundle_name, "signer", is->rule->signer_name);
	is->bundle_dirty = true;
	if (is->bundle_failures < 16)
		is->bundle_failures++;
	int64_t d = BUNDLE_RETRY_BASE_MS << (is->bundle_failures - 1);
	is->bundle_due_ms = util_now_ms() + (d > BUNDLE_RETRY_MAX_MS ? BUNDLE_RETRY_MAX_MS : d);
}

static void bundle_write_done(void *ud, const struct kube_response *resp);

static int64_t resync_period(const struct controller *c)
{
	return c->opt.bundle_resync_ms > 0 ? c->opt.bundle_resync_ms : BUNDLE_RESYNC_MS;
}

/* The GET answered: create the bundle, or update it when its certificates
 * differ from the CA's merged with those still valid in it. */
static void bundle_get_done(struct controller *c, struct issuer *is,
                            const struct kube_response *resp)
{
	char err[ERRLEN] = "";
	json_t *cur = NULL, *obj = NULL;
	char *merged = NULL, *body = NULL, *path = NULL;
	const char *method = "POST";
	json_error_t jerr;

	if (resp->status == 200) {
		cur = json_loadb(resp->body, resp->body_len, 0, &jerr);
		const char *old =
		    controller_json_str(json_object_get(cur, "spec"), "trustBundle", NULL);
		if (old == NULL) {
			bundle_failed(is, "read", resp);
			goto out;
		}
		if (signer_trust_bundle_merge(is->ca, old, strlen(old), time(NULL), &merged, err,
		                              sizeof(err)) != 0) {
			log_warn("the published trust bundle does not parse; replacing it",
			         "bundle", is->bundle_name, "error", err);
			merged = util_xstrdup(signer_ca_bundle_pem(is->ca));
		}
		if (strcmp(merged, old) == 0) {
			is->bundle_failures = 0;
			is->bundle_resync_ms = util_now_ms() + resync_period(c);
			log_debug("trust bundle current", "bundle", is->bundle_name);
			goto out;
		}
		method = "PUT";
	} else if (resp->status == 404) {
		merged = util_xstrdup(signer_ca_bundle_pem(is->ca));
	} else {
		bundle_failed(is, "get", resp);
		goto out;
	}
	obj = signer_trust_bundle_object(is->rule->signer_name, merged, NULL, err, sizeof(err));
	if (obj == NULL) {
		log_error("trust bundle cannot be built", "bundle", is->bundle_name, "error", err);
		goto out;
	}
	if (cur != NULL)
		json_object_set(
		    json_object_get(obj, "metadata"), "resourceVersion",
		    json_object_get(json_object_get(cur, "metadata"), "resourceVersion"));
	body = kobj_dumps(obj);
	if (strcmp(method, "PUT") == 0) {
		char *esc = kube_escape(is->bundle_name);
		path = util_xasprintf(CTB_PATH "/%s", esc);
		free(esc);
	} else {
		path = util_xstrdup(CTB_PATH);
	}
	struct bundle_req *q = util_xcalloc(1, sizeof(*q));
	q->c = c;
	q->index = (size_t)(is - c->issuers);
	if (kube_request_start(c->client, method, path, body, strlen(body), NULL, bundle_write_done,
	                       NULL, q) == NULL) {
		free(q);
		is->bundle_dirty = true;
		is->bundle_due_ms = util_now_ms() + BUNDLE_RETRY_MAX_MS;
		goto out;
	}
	c->others_inflight++;
	is->bundle_inflight = true;
out:
	json_decref(cur);
	json_decref(obj);
	free(merged);
	free(body);
	free(path);
}

static void bundle_done(void *ud, const struct kube_response *resp)
{
	struct bundle_req *q = ud;
	struct controller *c = q->c;
	struct issuer *is = &c->issuers[q->index];
	c->others_inflight--;
	is->bundle_inflight = false;
	if (!c->stopping)
		bundle_get_done(c, is, resp);
	free(q);
}

static void bundle_write_done(void *ud, const struct kube_response *resp)
{
	struct bundle_req *q = ud;
	struct controller *c = q->c;
	struct issuer *is = &c->issuers[q->index];
	c->others_inflight--;
	is->bundle_inflight = false;
	if (resp->status == 200 || resp->status == 201) {
		is->bundle_failures = 0;
		is->bundle_resync_ms = util_now_ms() + resync_period(c);
		log_info("trust bundle published", "bundle", is->bundle_name, "signer",
		         is->rule->signer_name);
	} else if (resp->status == 409) {
		/* Changed meanwhile: read it again and merge. */
		is->bundle_dirty = true;
		is->bundle_due_ms = 0;
	} else {
		bundle_failed(is, "write", resp);
	}
	free(q);
}

static void bundle_sync(struct controller *c, struct issuer *is)
{
	char *esc = kube_escape(is->bundle_name);
	char *path = util_xasprintf(CTB_PATH "/%s", esc);
	struct bundle_req *q = util_xcalloc(1, sizeof(*q));
	q->c = c;
	q->index = (size_t)(is - c->issuers);
	is->bundle_dirty = false;
	if (kube_request_start(c->client, "GET", path, NULL, 0, NULL, bundle_done, NULL, q) ==
	    NULL) {
		free(q);
		is->bundle_dirty = true;
		is->bundle_due_ms = util_now_ms() + BUNDLE_RETRY_MAX_MS;
	} else {
		c->others_inflight++;
		is->bundle_inflight = true;
	}
	free(path);
	free(esc);
}

int64_t sign_tick(struct controller *c, int64_t now, bool leading)
{
	int64_t next = -1;
	for (size_t i = 0; i < c->n_issuers; i++) {
		struct issuer *is = &c->issuers[i];
		if (now >= is->next_check_ms) {
			issuer_check(is);
			is->next_check_ms = now + CA_CHECK_MS;
		}
		if (next < 0 || is->next_check_ms < next)
			next = is->next_check_ms;
		/* Only the leader writes the bundle; a new leader publishes once. */
		if (is->bundle_name == NULL || is->ca == NULL || !leading || is->bundle_inflight)
			continue;
		if (!is->bundle_dirty && is->bundle_resync_ms > 0) {
			if (now >= is->bundle_resync_ms) {
				is->bundle_dirty = true;
				is->bundle_due_ms = 0;
			} else if (next < 0 || is->bundle_resync_ms < next) {
				next = is->bundle_resync_ms;
			}
		}
		if (is->bundle_dirty && now >= is->bundle_due_ms)
			bundle_sync(c, is);
		else if (is->bundle_dirty && is->bundle_due_ms < next)
			next = is->bundle_due_ms;
	}
	return next;
}

void sign_leading(struct controller *c)
{
	for (size_t i = 0; i < c->n_issuers; i++) {
		c->issuers[i].bundle_dirty = true;
		c->issuers[i].bundle_due_ms = 0;
	}
}

/* ---------------------------------------------------------------- signing */

/* Who approved the CSR: "policy NAME" for csr-approver's own approval,
 * else the condition's reason (KubectlApprove, AutoApproved of another
 * approver, ...). Borrowed from obj, or written into buf. */
static const char *approver_of(const json_t *obj, char *buf, size_t len, bool *ours)
{
	const json_t *conds = json_object_get(json_object_get(obj, "status"), "conditions");
	size_t i;
	const json_t *cond;
	*ours = false;
	json_array_foreach(conds, i, cond)
	{
		const char *t = controller_json_str(cond, "type", NULL);
		if (t == NULL || strcmp(t, "Approved") != 0)
			continue;
		const char *reason = controller_json_str(cond, "reason", NULL);
		const char *msg = controller_json_str(cond, "message", NULL);
		static const char prefix[] = "csr-approver: policy ";
		if (reason != NULL && strcmp(reason, "AutoApproved") == 0 && msg != NULL &&
		    strncmp(msg, prefix, sizeof(prefix) - 1) == 0) {
			const char *name = msg + sizeof(prefix) - 1;
			const char *end = strchr(name, ':');
			snprintf(buf, len, "policy %.*s", (int)(end ? end - name : 0), name);
			*ours = true;
			return buf;
		}
		return reason != NULL && reason[0] != '\0' ? reason : "unknown";
	}
	return "unknown";
}

/* With requirePolicy, only an approval this process wrote (and saw
 * accepted) is signed without deciding again. A condition carries no
 * author: whoever holds `approve` on the signer can write csr-approver's
 * reason and message, so an Approved condition that merely looks like
 * ours (approver_of) is decided by the policy like anyone else's. After a
 * restart the controller's own earlier approvals are decided once more,
 * on the same rules. */
bool sign_needs_policy(const struct controller *c, const struct csr_entry *e)
{
	const struct issuer *is = issuer_of(c, e->signer);
	if (is == NULL || !is->rule->issue.require_policy)
		return false;
	return !e->approved_here;
}

/* Record what is being written, for the write's answer. */
static void set_write(struct csr_entry *e, enum csr_write kind, const char *reason,
                      const char *policy, const char *message, const char *requester)
{
	e->w_kind = kind;
	e->w_verdict = POLICY_APPROVE;
	e->w_reason = reason;
	e->w_policy = policy;
	free(e->w_message);
	e->w_message = util_xstrdup(message ? message : "");
	free(e->w_requester);
	e->w_requester = util_xstrdup(requester ? requester : "");
}

void sign_fail(struct controller *c, struct csr_entry *e, const char *reason, const char *message,
               const char *requester)
{
	const struct issuer *is = issuer_of(c, e->signer);
	char *body = controller_approval_body(e->obj, "Failed", reason, message, time(NULL));
	if (body == NULL) {
		log_error("could not build the status body", "csr", e->name);
		store_remove(c, e->name);
		return;
	}
	set_write(e, CSR_WRITE_FAILED, reason, is ? is->rule->name : NULL, message, requester);
	api_write(c, e, API_STATUS, body);
}

void sign_csr(struct controller *c, struct csr_entry *e, const struct policy_request *req)
{
	struct issuer *is = issuer_of(c, e->signer);
	struct signer_cert *cert = NULL;
	char err[ERRLEN] = "";
	char who[160];
	bool ours;
	char *msg = NULL;

	if (is == NULL) {
		store_remove(c, e->name);
		return;
	}
	const char *approver = approver_of(e->obj, who, sizeof(who), &ours);
	if (is->ca == NULL) {
		msg = util_xasprintf("csr-approver: policy %s: not signed: the issuing CA does not "
		                     "load: %s",
		                     is->rule->name, is->ca_error ? is->ca_error : "unknown error");
		sign_fail(c, e, "SignerError", msg, req->username);
		goto out;
	}
	struct signer_validity v = {
	    .now = time(NULL),
	    .lifetime = is->rule->issue.lifetime_seconds,
	    .backdate = is->rule->issue.backdate_seconds,
	};
	if (signer_issue_csr(is->ca, req->request_pem, req->request_len, &req->usages,
	                     req->has_expiration ? req->expiration_seconds : 0, &v, &cert, err,
	                     sizeof(err)) != 0) {
		msg =
		    util_xasprintf("csr-approver: policy %s: not signed: %s", is->rule->name, err);
		sign_fail(c, e, "SignerError", msg, req->username);
		goto out;
	}
	if (c->opt.dry_run) {
		log_info("would issue (dry run)", "csr", e->name, "policy", is->rule->name,
		         "approved_by", approver, "serial", cert->serial);
		store_set_state(c, e, CSR_ST_NOTED);
		controller_queue_forget(c->queue, e->name);
		goto out;
	}
	char *body = controller_certificate_body(e->obj, cert->pem);
	if (body == NULL) {
		log_error("could not build the status body", "csr", e->name);
		store_remove(c, e->name);
		goto out;
	}
	char not_after[32];
	controller_format_time((time_t)cert->not_after, not_after, sizeof(not_after));
	msg =
	    util_xasprintf("csr-approver: policy %s: issued serial %s, valid until %s, approved by "
	                   "%s",
	                   is->rule->name, cert->serial, not_after, approver);
	set_write(e, CSR_WRITE_CERTIFICATE, "Issued", is->rule->name, msg, req->username);
	if (c->opt.write_delay_ms > 0) {
		/* the test binary's --write-delay, as for approvals */
		free(e->w_body);
		e->w_body = body;
		e->w_due_ms = util_now_ms() + c->opt.write_delay_ms;
		store_set_state(c, e, CSR_ST_HELD);
		log_debug("holding the certificate write", "csr", e->name);
		goto out;
	}
	api_write(c, e, API_STATUS, body);
out:
	free(msg);
	signer_cert_free(cert);
}

const struct signer_ca *sign_ca(const struct controller *c, const char *signer, const char **error)
{
	const struct issuer *is = issuer_of(c, signer);
	if (error != NULL)
		*error = is == NULL ? "no policy issues for this signer"
		    : is->ca_error  ? is->ca_error
		                    : "unknown error";
	return is != NULL ? is->ca : NULL;
}
