/*
 * report: `csr-approver why NAME` and `check --kubeconfig F NAME`: read one
 * CertificateSigningRequest and exactly the objects its decision needs from
 * the cluster, decide it as the controller would, and print the record
 * with every check that passed or failed.
 *
 * "Exactly the objects": the policy asks its lookups for what it needs (the
 * pod of the token, the Services of its namespace, a node, a PCR's
 * ServiceAccount); each pass decides with what was read so far and records
 * what was asked, and what was asked and not read yet is read before the
 * next pass. A decision that asks for nothing new is final.
 *
 * Every read goes through a struct report_why_io: the command's runs
 * requests on a kube client, a test's answers them from memory.
 */
#include "internal.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../cache/cache.h"
#include "../config/config.h"
#include "../controller/controller.h"
#include "../csr/csr.h"
#include "../kobj/kobj.h"
#include "../kube/kube.h"

#define ERRLEN 1024
/* Passes of decide-then-read: the rules ask for a pod, a namespace's
 * Services, a node and (for a PodCertificateRequest) a ServiceAccount,
 * each at most once. */
#define WHY_MAX_PASSES 6

enum {
	EXIT_APPROVE = 0,
	EXIT_DENY = 1,
	EXIT_USAGE = 2,
	EXIT_SKIP = 3,
};

/* ---------------------------------------------------------------- reading what is asked */

struct why_reader {
	const struct report_why_io *io;
	struct cache *cache;
	struct policy_lookup inner; /* over cache */
	struct util_strv asked_pods, asked_svcs, asked_nodes, asked_sas; /* keys asked this pass */
	struct util_strv read_pods, read_svcs, read_nodes, read_sas; /* keys read */
	/* The ServiceAccounts read (a PCR's), "NS/NAME", and each one's uid,
	 * "" when it was not found. */
	struct util_strv sa_keys, sa_uids;
	json_t *objects; /* array: what was read, for the output */
	char err[ERRLEN]; /* a read that failed */
};

static void ask(struct util_strv *sv, const char *key)
{
	if (!util_strv_contains(sv, key))
		util_strv_push(sv, key);
}

static enum policy_found rd_get_pod(void *ctx, const char *ns, const char *name,
                                    const struct policy_pod **out)
{
	struct why_reader *w = ctx;
	char *key = util_xasprintf("%s/%s", ns, name);
	ask(&w->asked_pods, key);
	free(key);
	return w->inner.get_pod(w->inner.ctx, ns, name, out);
}

static size_t rd_list_services(void *ctx, const char *ns, const struct policy_service *const **out)
{
	struct why_reader *w = ctx;
	ask(&w->asked_svcs, ns);
	return w->inner.list_services(w->inner.ctx, ns, out);
}

static enum policy_found rd_get_node(void *ctx, const char *name, const struct policy_node **out)
{
	struct why_reader *w = ctx;
	ask(&w->asked_nodes, name);
	return w->inner.get_node(w->inner.ctx, name, out);
}

static enum policy_found rd_get_service_account_uid(void *ctx, const char *ns, const char *name,
                                                    const char **uid)
{
	struct why_reader *w = ctx;
	char *key = util_xasprintf("%s/%s", ns, name);
	enum policy_found found = POLICY_NOT_FOUND;
	ask(&w->asked_sas, key);
	for (size_t i = 0; i < w->sa_keys.n; i++)
		if (strcmp(w->sa_keys.v[i], key) == 0 && w->sa_uids.v[i][0] != '\0') {
			*uid = w->sa_uids.v[i];
			found = POLICY_FOUND;
		}
	free(key);
	return found;
}

static void note_object(struct why_reader *w, const char *kind, const char *name, bool found,
                        const char *uid, long count)
{
	json_t *o = json_object();
	json_object_set_new(o, "kind", json_string(kind));
	json_object_set_new(o, "name", json_string(name));
	json_object_set_new(o, "found", json_boolean(found));
	if (uid != NULL)
		json_object_set_new(o, "uid", json_string(uid));
	if (count >= 0)
		json_object_set_new(o, "count", json_integer(count));
	json_array_append_new(w->objects, o);
}

/* GET path: 1 and *obj on 200, 0 on 404, -1 (w->err) otherwise. */
static int get_json(struct why_reader *w, const char *path, json_t **obj)
{
	char *body = NULL, inner[ERRLEN];
	json_error_t jerr;
	long st = w->io->request(w->io->ctx, "GET", path, NULL, 0, &body, inner, sizeof(inner));
	*obj = NULL;
	if (st == 404) {
		free(body);
		return 0;
	}
	if (st == 200)
		*obj = json_loads(body ? body : "", 0, &jerr);
	free(body);
	if (st != 200 || *obj == NULL) {
		snprintf(w->err, sizeof(w->err), "GET %s: HTTP %ld: %.400s", path, st,
		         st == 200      ? "not JSON"
		             : inner[0] ? inner
		                        : "no answer");
		return -1;
	}
	return 1;
}

static int read_pod(struct why_reader *w, const char *key)
{
	const char *slash = strchr(key, '/');
	char *ns = util_xstrndup(key, (size_t)(slash - key));
	char *ens = kube_escape(ns), *ename = kube_escape(slash + 1);
	char *path = util_xasprintf("/api/v1/namespaces/%s/pods/%s", ens, ename);
	json_t *obj = NULL;
	char inner[ERRLEN];
	int rc = get_json(w, path, &obj);
	if (rc == 1) {
		struct policy_pod *p = kobj_pod_from_json(obj, inner, sizeof(inner));
		if (p == NULL) {
			snprintf(w->err, sizeof(w->err), "pod %s: %.400s", key, inner);
			rc = -1;
		} else {
			note_object(w, "Pod", key, true, p->uid, -1);
			cache_put_pod(w->cache, p);
		}
	} else if (rc == 0) {
		note_object(w, "Pod", key, false, NULL, -1);
	}
	json_decref(obj);
	free(path);
	free(ens);
	free(ename);
	free(ns);
	return rc < 0 ? -1 : 0;
}

static int read_services(struct why_reader *w, const char *ns)
{
	char *ens = kube_escape(ns);
	char *path = util_xasprintf("/api/v1/namespaces/%s/services", ens);
	json_t *obj = NULL;
	char inner[ERRLEN];
	long n = 0;
	int rc = get_json(w, path, &obj);
	if (rc == 1) {
		size_t i;
		const json_t *item;
		json_array_foreach(json_object_get(obj, "items"), i, item)
		{
			struct policy_service *s =
			    kobj_service_from_json(item, inner, sizeof(inner));
			if (s == NULL) {
				snprintf(w->err, sizeof(w->err), "services of %s: %.400s", ns,
				         inner);
				rc = -1;
				break;
			}
			cache_put_service(w->cache, s);
			n++;
		}
		if (rc == 1)
			note_object(w, "ServiceList", ns, true, NULL, n);
	} else if (rc == 0) {
		note_object(w, "ServiceList", ns, false, NULL, 0);
	}
	json_decref(obj);
	free(path);
	free(ens);
	return rc < 0 ? -1 : 0;
}

static int read_node(struct why_reader *w, const char *name)
{
	char *en = kube_escape(name);
	char *path = util_xasprintf("/api/v1/nodes/%s", en);
	json_t *obj = NULL;
	char inner[ERRLEN];
	int rc = get_json(w, path, &obj);
	if (rc == 1) {
		struct policy_node *nd = kobj_node_from_json(obj, inner, sizeof(inner));
		if (nd == NULL) {
			snprintf(w->err, sizeof(w->err), "node %s: %.400s", name, inner);
			rc = -1;
		} else {
			const char *uid = json_string_value(
			    json_object_get(json_object_get(obj, "metadata"), "uid"));
			note_object(w, "Node", name, true, uid, -1);
			cache_put_node(w->cache, nd);
		}
	} else if (rc == 0) {
		note_object(w, "Node", name, false, NULL, -1);
	}
	json_decref(obj);
	free(path);
	free(en);
	return rc < 0 ? -1 : 0;
}

static int read_service_account(struct why_reader *w, const char *key)
{
	const char *slash = strchr(key, '/');
	char *ns = util_xstrndup(key, (size_t)(slash - key));
	char *ens = kube_escape(ns), *ename = kube_escape(slash + 1);
	char *path = util_xasprintf("/api/v1/namespaces/%s/serviceaccounts/%s", ens, ename);
	json_t *obj = NULL;
	int rc = get_json(w, path, &obj);
	if (rc >= 0) {
		const char *uid =
		    json_string_value(json_object_get(json_object_get(obj, "metadata"), "uid"));
		note_object(w, "ServiceAccount", key, rc == 1, uid, -1);
		util_strv_push(&w->sa_keys, key);
		util_strv_push(&w->sa_uids, rc == 1 && uid != NULL ? uid : "");
	}
	json_decref(obj);
	free(path);
	free(ens);
	free(ename);
	free(ns);
	return rc < 0 ? -1 : 0;
}

/* Read what the last pass asked for and was not read yet. Returns the
 * number of reads made, or -1 (w->err). */
static int read_new(struct why_reader *w, const struct util_strv *asked, struct util_strv *read,
                    int (*fetch)(struct why_reader *w, const char *key))
{
	int n = 0;
	for (size_t i = 0; i < asked->n; i++) {
		if (util_strv_contains(read, asked->v[i]))
			continue;
		util_strv_push(read, asked->v[i]);
		if (fetch(w, asked->v[i]) != 0)
			return -1;
		n++;
	}
	return n;
}

static int read_asked(struct why_reader *w)
{
	int a = read_new(w, &w->asked_pods, &w->read_pods, read_pod);
	int b = a < 0 ? -1 : read_new(w, &w->asked_svcs, &w->read_svcs, read_services);
	int c = b < 0 ? -1 : read_new(w, &w->asked_nodes, &w->read_nodes, read_node);
	int d = c < 0 ? -1 : read_new(w, &w->asked_sas, &w->read_sas, read_service_account);
	util_strv_free(&w->asked_pods);
	util_strv_free(&w->asked_svcs);
	util_strv_free(&w->asked_nodes);
	util_strv_free(&w->asked_sas);
	return d < 0 ? -1 : a + b + c + d;
}

/* Ask the SubjectAccessReview a kubelet-client decision needs. Returns 0
 * with *answer, or -1 (w->err). */
static int ask_review(struct why_reader *w, const struct policy_sar *sar,
                      enum policy_sar_answer *answer)
{
	char *body = controller_sar_body(sar), *resp = NULL, inner[ERRLEN];
	bool allowed = false;
	int rc = -1;
	long st =
	    w->io->request(w->io->ctx, "POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews",
	                   body, strlen(body), &resp, inner, sizeof(inner));
	if ((st == 200 || st == 201) && resp != NULL &&
	    controller_sar_parse(resp, strlen(resp), &allowed) == 0) {
		*answer = allowed ? POLICY_SAR_ALLOWED : POLICY_SAR_DENIED;
		json_t *o = json_object();
		json_object_set_new(o, "kind", json_string("SubjectAccessReview"));
		json_object_set_new(o, "name",
		                    json_string(sar->subresource ? sar->subresource : ""));
		json_object_set_new(o, "found", json_true());
		json_object_set_new(o, "allowed", json_boolean(allowed));
		json_array_append_new(w->objects, o);
		rc = 0;
	} else {
		snprintf(
		    w->err, sizeof(w->err),
		    "the SubjectAccessReview could not be asked (HTTP %ld: %.400s); needs create "
		    "on subjectaccessreviews.authorization.k8s.io",
		    st, inner[0] ? inner : "no answer");
	}
	free(body);
	free(resp);
	return rc;
}

/* ---------------------------------------------------------------- deciding */

/* A lookup that notes what the decision asks for, over what was read. */
static void reader_lookup(struct why_reader *w, struct policy_lookup *lk)
{
	*lk = (struct policy_lookup){
	    .ctx = w,
	    .get_pod = rd_get_pod,
	    .list_services = rd_list_services,
	    .get_node = rd_get_node,
	    .get_service_account_uid = rd_get_service_account_uid,
	    .authorization = POLICY_SAR_UNASKED,
	};
}

/* Run policy_decide_pcr() on pcr until every object it asks for has been
 * read live (at most WHY_MAX_PASSES passes). Returns 0, or -1 with w->err. */
static int decide_pcr_live(struct why_reader *w, const struct policy_set *set,
                           const struct policy_pcr *pcr, const struct csr_info *info,
                           const char *decode_err, struct policy_decision *d,
                           struct policy_names *names)
{
	struct policy_lookup lk;
	reader_lookup(w, &lk);
	for (int pass = 0;; pass++) {
		policy_decision_clear(d);
		policy_names_clear(names);
		policy_decide_pcr(set, pcr, info, info ? NULL : decode_err, &lk, d, names);
		int n = read_asked(w);
		if (n < 0)
			return -1;
		if (n == 0 || pass + 1 >= WHY_MAX_PASSES)
			return 0;
	}
}

/* The same for a CSR, with the SubjectAccessReview asked once the rest is
 * decided. */
static int decide_csr_live(struct why_reader *w, const struct policy_set *set,
                           const struct policy_request *req, const struct csr_info *info,
                           const char *decode_err, struct policy_decision *d)
{
	struct policy_lookup lk;
	reader_lookup(w, &lk);
	for (int pass = 0;; pass++) {
		policy_decision_clear(d);
		policy_decide(set, req, info, info ? NULL : decode_err, &lk, d);
		int n = read_asked(w);
		if (n < 0)
			return -1;
		if (n > 0 && pass + 1 < WHY_MAX_PASSES)
			continue;
		if (d->verdict == POLICY_NEEDS_AUTHORIZATION &&
		    lk.authorization == POLICY_SAR_UNASKED) {
			if (ask_review(w, &d->sar, &lk.authorization) != 0)
				return -1;
			continue;
		}
		return 0;
	}
}

/* The record's head, in the order of `check`'s: decision, reason,
 * message, policy, csr. */
static json_t *record_head(const struct policy_decision *d)
{
	json_t *rec = json_object();
	json_object_set_new(rec, "decision",
	                    json_string(d->verdict == POLICY_APPROVE    ? "approve"
	                                    : d->verdict == POLICY_DENY ? "deny"
	                                                                : "skip"));
	json_object_set_new(rec, "reason", json_string(policy_reason_name(d->reason)));
	json_object_set_new(rec, "message", json_string(d->message ? d->message : ""));
	json_object_set_new(rec, "policy", d->policy ? json_string(d->policy) : json_null());
	return rec;
}

/* The record's checks and the objects read; the exit status of d. */
static int record_tail(json_t *rec, const struct why_reader *w, enum report_kind kind,
                       const struct policy_set *set, const char *signer,
                       const struct policy_decision *d)
{
	json_object_set_new(rec, "checks",
	                    report_why_checks(kind, policy_set_find(set, signer), d));
	json_object_set(rec, "objects", w->objects);
	return d->verdict == POLICY_APPROVE ? EXIT_APPROVE
	    : d->verdict == POLICY_DENY     ? EXIT_DENY
	                                    : EXIT_SKIP;
}

/* A PodCertificateRequest NS/NAME decided again, as the controller would
 * decide it now, against objects read live. Returns the exit status. */
static int why_pcr(struct why_reader *w, const struct policy_set *set, const char *name,
                   json_t **recp, char *err, size_t errlen)
{
	int rc = EXIT_USAGE;
	json_t *obj = NULL, *rec = NULL;
	struct policy_pcr *pcr = NULL;
	struct csr_info *info = NULL;
	struct policy_decision d = {0};
	struct policy_names names = {0};
	char inner[ERRLEN], decode_err[ERRLEN] = "";
	const char *slash = strchr(name, '/');
	char *ns = util_xasprintf("%.*s", (int)(slash - name), name);
	char *ens = kube_escape(ns), *ename = kube_escape(slash + 1);
	char *path = util_xasprintf(
	    "/apis/certificates.k8s.io/v1/namespaces/%s/podcertificaterequests/%s", ens, ename);
	int got = get_json(w, path, &obj);
	if (got <= 0) {
		snprintf(err, errlen, "%s", got == 0 ? "no such PodCertificateRequest" : w->err);
		goto out;
	}
	pcr = kobj_pcr_from_json(obj, inner, sizeof(inner));
	if (pcr == NULL) {
		snprintf(err, errlen, "%s: %s", name, inner);
		goto out;
	}
	/* Replayed as `check` does: what the policy decides now. */
	pcr->issued = pcr->denied = pcr->failed = pcr->has_chain = false;
	if (csr_parse_der(pcr->stub_der, pcr->stub_len, &info, decode_err, sizeof(decode_err)) != 0)
		info = NULL;
	if (decide_pcr_live(w, set, pcr, info, decode_err, &d, &names) != 0) {
		snprintf(err, errlen, "%s", w->err);
		goto out;
	}
	rec = record_head(&d);
	/* "csr" where a CSR's record has it, so that one reader takes both. */
	json_object_set_new(rec, "csr", json_string(name));
	json_object_set_new(rec, "pcr", json_string(name));
	json_t *cur = report_why_current(obj, REPORT_PCR);
	if (cur != NULL)
		json_object_set_new(rec, "alreadyDecided", cur);
	json_object_set_new(rec, "signerName", json_string(pcr->signer_name));
	char *requester = util_xasprintf("system:node:%s", pcr->node_name);
	json_object_set_new(rec, "requester", json_string(requester));
	free(requester);
	json_t *arr = json_array();
	for (size_t i = 0; i < names.values.n; i++)
		json_array_append_new(arr, json_string(names.values.v[i]));
	json_object_set_new(rec, "names", arr);
	rc = record_tail(rec, w, REPORT_PCR, set, pcr->signer_name, &d);
	*recp = rec;
	rec = NULL;
out:
	json_decref(rec);
	json_decref(obj);
	policy_names_clear(&names);
	policy_decision_clear(&d);
	csr_info_free(info);
	policy_pcr_free(pcr);
	free(path);
	free(ens);
	free(ename);
	free(ns);
	return rc;
}

/* A CertificateSigningRequest NAME, the same way. */
static int why_csr(struct why_reader *w, const struct policy_set *set, const char *name,
                   json_t **recp, char *err, size_t errlen)
{
	int rc = EXIT_USAGE;
	json_t *obj = NULL, *rec = NULL;
	struct policy_request *req = NULL;
	struct csr_info *info = NULL;
	struct policy_decision d = {0};
	char inner[ERRLEN], decode_err[ERRLEN] = "";
	char *ename = kube_escape(name);
	char *path =
	    util_xasprintf("/apis/certificates.k8s.io/v1/certificatesigningrequests/%s", ename);
	int got = get_json(w, path, &obj);
	if (got <= 0) {
		snprintf(err, errlen, "%s",
		         got == 0 ? "no such CertificateSigningRequest" : w->err);
		goto out;
	}
	req = kobj_request_from_json(obj, inner, sizeof(inner));
	if (req == NULL) {
		snprintf(err, errlen, "%s: %s", name, inner);
		goto out;
	}
	/* Replayed as `check` does: what the policy decides now. */
	req->approved = req->denied = req->failed = req->has_certificate = false;
	if (csr_parse(req->request_pem, req->request_len, &info, decode_err, sizeof(decode_err)) !=
	    0)
		info = NULL;
	if (decide_csr_live(w, set, req, info, decode_err, &d) != 0) {
		snprintf(err, errlen, "%s", w->err);
		goto out;
	}
	if (d.verdict == POLICY_NEEDS_AUTHORIZATION) {
		snprintf(err, errlen, "%s: the decision is still waiting after %d passes", name,
		         WHY_MAX_PASSES);
		goto out;
	}
	rec = record_head(&d);
	json_object_set_new(rec, "csr", json_string(req->name));
	if (d.leave_pending)
		json_object_set_new(rec, "action", json_string("leave-pending"));
	json_t *cur = report_why_current(obj, REPORT_CSR);
	if (cur != NULL)
		json_object_set_new(rec, "alreadyDecided", cur);
	json_object_set_new(rec, "signerName", json_string(req->signer_name));
	json_object_set_new(rec, "requester", json_string(req->username ? req->username : ""));
	rc = record_tail(rec, w, REPORT_CSR, set, req->signer_name, &d);
	*recp = rec;
	rec = NULL;
out:
	json_decref(rec);
	json_decref(obj);
	policy_decision_clear(&d);
	csr_info_free(info);
	policy_request_free(req);
	free(path);
	free(ename);
	return rc;
}

/* NAME or NAMESPACE/NAME, neither part empty. */
static bool name_ok(const char *name)
{
	const char *slash = strchr(name, '/');
	if (slash == NULL)
		return name[0] != '\0';
	return slash != name && slash[1] != '\0' && strchr(slash + 1, '/') == NULL;
}

int report_why_record(const struct report_why_io *io, const struct policy_set *set,
                      const char *name, json_t **rec, char *err, size_t errlen)
{
	struct why_reader w = {0};
	int rc;

	*rec = NULL;
	if (!name_ok(name)) {
		snprintf(err, errlen, "%s: expected NAME or NAMESPACE/NAME", name);
		return EXIT_USAGE;
	}
	w.io = io;
	w.cache = cache_new();
	cache_lookup(w.cache, &w.inner);
	w.objects = json_array();
	if (strchr(name, '/') != NULL)
		rc = why_pcr(&w, set, name, rec, err, errlen);
	else
		rc = why_csr(&w, set, name, rec, err, errlen);
	json_decref(w.objects);
	util_strv_free(&w.asked_pods);
	util_strv_free(&w.asked_svcs);
	util_strv_free(&w.asked_nodes);
	util_strv_free(&w.asked_sas);
	util_strv_free(&w.read_sas);
	util_strv_free(&w.sa_keys);
	util_strv_free(&w.sa_uids);
	util_strv_free(&w.read_pods);
	util_strv_free(&w.read_svcs);
	util_strv_free(&w.read_nodes);
	cache_free(w.cache);
	return rc;
}

/* ---------------------------------------------------------------- the command */

static long kube_io_request(void *ctx, const char *method, const char *path, const char *body,
                            size_t body_len, char **resp, char *err, size_t errlen)
{
	return kube_request_sync(ctx, method, path, body, body_len, NULL, resp, err, errlen);
}

static void usage_why(FILE *f, const char *cmd)
{
	fprintf(
	    f,
	    "Usage: csr-approver %s [--kubeconfig FILE] [--context NAME] [--config FILE]\n"
	    "                       [-o text|json] CSR_NAME | NAMESPACE/PCR_NAME\n"
	    "\n"
	    "Reads the CertificateSigningRequest CSR_NAME (or the PodCertificateRequest\n"
	    "NAMESPACE/PCR_NAME, with the names its certificate would carry) and exactly\n"
	    "the objects its decision needs (the pod of the token, the Services of its\n"
	    "namespace, the node, a PCR's ServiceAccount, the SubjectAccessReview of a\n"
	    "kubelet client certificate) from the cluster, decides it as the controller\n"
	    "would now, and prints the decision with every check that passed or failed\n"
	    "(or was not run: an earlier failure made it moot, or what it needs was\n"
	    "missing), and what it carries now.\n"
	    "\n"
	    "  --kubeconfig FILE    kubeconfig (default: in-cluster, $KUBECONFIG, ~/.kube/config)\n"
	    "  --context NAME       kubeconfig context\n"
	    "  --config FILE        the policy file (default: $CSR_APPROVER_CONFIG, else\n"
	    "                       " REPORT_POLICY_FILE " when it exists; none:\n"
	    "                       no policies, every CSR is skipped, exit 3)\n"
	    "  -o, --output FORMAT  text (default for why) or json (one line, the record of\n"
	    "                       'check' plus checks and objects; default for check)\n"
	    "  -h, --help           this text\n"
	    "\n"
	    "Exit status: 0 approve, 1 deny, 3 skip, 2 bad usage, unreadable input, or an\n"
	    "object that could not be read.\n",
	    cmd);
}

int report_why_main(int argc, char **argv, bool json_default)
{
	static const struct option opts[] = {
	    {"kubeconfig", required_argument, NULL, 'k'},
	    {"context", required_argument, NULL, 'x'},
	    {"config", required_argument, NULL, 'c'},
	    {"output", required_argument, NULL, 'o'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *cmd = argv[0];
	const char *kubeconfig = NULL, *context = NULL, *config = NULL;
	bool json_out = json_default;
	struct policy_set *set = NULL;
	struct kube_config *cfg = NULL;
	struct kube_client *kc = NULL;
	json_t *rec = NULL;
	char err[ERRLEN] = "";
	int rc = EXIT_USAGE, c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":ho:", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			kubeconfig = optarg;
			break;
		case 'x':
			context = optarg;
			break;
		case 'c':
			config = optarg;
			break;
		case 'o':
			if (strcmp(optarg, "json") == 0 || strcmp(optarg, "text") == 0) {
				json_out = strcmp(optarg, "json") == 0;
			} else {
				fprintf(stderr,
				        "csr-approver %s: -o takes text or json, not \"%s\"\n", cmd,
				        optarg);
				goto out;
			}
			break;
		case 'h':
			usage_why(stdout, cmd);
			rc = 0;
			goto out;
		case ':':
			fprintf(stderr, "csr-approver %s: flag %s needs a value (see --help)\n",
			        cmd, argv[optind - 1]);
			goto out;
		default:
			fprintf(stderr, "csr-approver %s: unknown flag %s (see --help)\n", cmd,
			        argv[optind - 1]);
			goto out;
		}
	}
	if (argc - optind != 1) {
		fprintf(stderr, "csr-approver %s: expected exactly one CSR name (see --help)\n",
		        cmd);
		goto out;
	}
	const char *name = argv[optind];
	if (!name_ok(name)) {
		fprintf(stderr, "csr-approver %s: %s: expected NAME or NAMESPACE/NAME\n", cmd,
		        name);
		goto out;
	}
	set = report_policy_load(config, REPORT_POLICY_FILE, cmd, stderr, err, sizeof(err));
	if (set == NULL) {
		fprintf(stderr, "csr-approver %s: %s\n", cmd, err);
		goto out;
	}
	if (kube_config_load(kubeconfig, context, &cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "csr-approver %s: kube config: %s\n", cmd, err);
		goto out;
	}
	kc = kube_client_new(cfg, err, sizeof(err));
	if (kc == NULL) {
		fprintf(stderr, "csr-approver %s: kube client: %s\n", cmd, err);
		goto out;
	}
	const struct report_why_io io = {.ctx = kc, .request = kube_io_request};
	rc = report_why_record(&io, set, name, &rec, err, sizeof(err));
	if (rec == NULL) {
		fprintf(stderr, "csr-approver %s: %s\n", cmd, err);
		goto out;
	}
	if (json_out) {
		char *s = json_dumps(rec, JSON_COMPACT);
		if (s != NULL)
			printf("%s\n", s);
		free(s);
	} else {
		report_why_print(rec);
	}
out:
	json_decref(rec);
	kube_client_free(kc);
	kube_config_free(cfg);
	policy_set_free(set);
	return rc;
}
