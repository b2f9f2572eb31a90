/*
 * agent: `csr-approver bootstrap`, the loop.
 *
 * One thread, one kube client, nothing blocks but the wait in
 * kube_client_run_once(). An attempt is: a new key, a new CSR (POST), a
 * watch on that one CSR (fieldSelector metadata.name, from the create's
 * resourceVersion) until it is issued, denied or failed, then the CA
 * (ClusterTrustBundles or --ca-file), the checks and the publication.
 * Callbacks only record what happened; the loop acts on it after
 * kube_client_run_once() returns (an informer cannot be freed from its own
 * callback).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../kube/kube.h"
#include "../watch/watch.h"
#include "agent.h"

#define ERRLEN 1024
#define LOOP_MAX_WAIT_MS 1000
/* Retries after a denial, a failure or a timeout (sidecar): jittered,
 * doubling from the first to the last. */
#define RETRY_MIN_MS 5000
#define RETRY_MAX_MS 300000
/* Retries of the CA fetch, with the certificate in hand. */
#define CA_RETRY_MIN_MS 1000
#define CA_RETRY_MAX_MS 10000

static const char csr_path[] = "/apis/certificates.k8s.io/v1/certificatesigningrequests";
static const char ctb_path[] = "/apis/certificates.k8s.io/v1/clustertrustbundles";

enum agent_state {
	ST_START, /* start an attempt now */
	ST_CREATING, /* POST in flight */
	ST_WAITING, /* watching the CSR */
	ST_CA, /* certificate in hand, CA list in flight */
	ST_SLEEPING, /* until wake_ms: then next */
	ST_DONE,
};

enum agent_event {
	EV_NONE,
	EV_CREATED,
	EV_CREATE_FAILED,
	EV_ISSUED,
	EV_DENIED, /* or Failed */
	EV_GONE, /* the CSR was deleted */
	EV_BAD, /* unreadable CSR object */
	EV_CA,
};

struct agent {
	const struct agent_options *o;
	struct kube_config *cfg;
	struct kube_client *client;
	int sigfd;
	struct agent_pod pod;
	struct agent_names names;
	char *generate_name;
	char *names_text; /* for logs */

	enum agent_state state;
	enum agent_state next; /* what ST_SLEEPING leads to: ST_START or ST_CA */
	int64_t wake_ms;
	int64_t deadline_ms; /* of the attempt (sidecar) or the run (--once); -1 none */
	int64_t retry_ms; /* the next retry's base delay */
	int64_t ca_retry_ms;
	int64_t create_retry_ms; /* after a transient create failure */
	char *last_error; /* owned: why the last create failed, for the timeout message */
	uint64_t rng;
	int exit_code;
	bool forbidden_watch; /* a LIST or WATCH of CSRs got 403 */

	/* the attempt */
	struct agent_key *key;
	char csr_name[256];
	char rv[128];
	struct watch_informer *inf;
	bool seen_in_list;
	bool approved_logged;
	bool approved; /* last seen state, for the timeout message */
	enum agent_event ev;
	long http_status; /* of the create or the CA list */
	char *http_error; /* its message */
	char *http_body; /* the CA list */
	size_t http_body_len;
	struct agent_csr_status st; /* of EV_ISSUED / EV_DENIED */
	char ev_err[ERRLEN];
	struct agent_cert_times times;
};

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;
	struct util_buf b = {0};
	util_buf_puts(&b, "csr-approver bootstrap: ");
	va_start(ap, fmt);
	util_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	util_buf_putc(&b, '\n');
	fwrite(b.data, 1, b.len, stderr);
	fflush(stderr);
	util_buf_reset(&b);
}

static uint64_t agent_rand(struct agent *a)
{
	uint64_t x = a->rng;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	a->rng = x;
	return x * 0x2545F4914F6CDD1DULL;
}

static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void format_time(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void set_http(struct agent *a, const struct kube_response *r, bool keep_body)
{
	a->http_status = r->status;
	free(a->http_error);
	a->http_error = util_xstrdup(r->error ? r->error : "");
	free(a->http_body);
	a->http_body = NULL;
	a->http_body_len = 0;
	if (keep_body && r->status >= 200 && r->status < 300) {
		a->http_body = util_xstrndup(r->body, r->body_len);
		a->http_body_len = r->body_len;
	}
}

/* ---------------------------------------------------------------- callbacks */

static void on_created(void *ud, const struct kube_response *r)
{
	struct agent *a = ud;
	set_http(a, r, false);
	if (r->status == 201 || r->status == 200) {
		if (agent_created_read(r->body, r->body_len, a->csr_name, sizeof(a->csr_name),
		                       a->rv, sizeof(a->rv)) == 0) {
			a->ev = EV_CREATED;
			return;
		}
		a->http_status = 0;
		free(a->http_error);
		a->http_error = util_xstrdup("the create answer has no name or resourceVersion");
	}
	a->ev = EV_CREATE_FAILED;
}

static void on_ca(void *ud, const struct kube_response *r)
{
	struct agent *a = ud;
	set_http(a, r, true);
	a->ev = EV_CA;
}

static void csr_seen(struct agent *a, const json_t *obj)
{
	const char *name =
	    json_string_value(json_object_get(json_object_get(obj, "metadata"), "name"));
	if (a->ev != EV_NONE || name == NULL || strcmp(name, a->csr_name) != 0)
		return;
	a->seen_in_list = true;
	agent_csr_status_clear(&a->st);
	if (agent_csr_status_read(obj, &a->st, a->ev_err, sizeof(a->ev_err)) != 0) {
		a->ev = EV_BAD;
		return;
	}
	switch (a->st.state) {
	case AGENT_CSR_ISSUED:
		a->ev = EV_ISSUED;
		break;
	case AGENT_CSR_DENIED:
	case AGENT_CSR_FAILED:
		a->ev = EV_DENIED;
		break;
	case AGENT_CSR_APPROVED:
		a->approved = true;
		if (!a->approved_logged) {
			log_info("approved, waiting for the signer", "csr", a->csr_name);
			a->approved_logged = true;
		}
		break;
	case AGENT_CSR_PENDING:
		break;
	}
}

static void on_list_begin(void *ud)
{
	struct agent *a = ud;
	a->seen_in_list = false;
}

static void on_list_item(void *ud, const json_t *obj)
{
	csr_seen(ud, obj);
}

static void on_list_end(void *ud)
{
	struct agent *a = ud;
	if (!a->seen_in_list && a->ev == EV_NONE)
		a->ev = EV_GONE;
}

static void on_event(void *ud, enum watch_event_type type, const json_t *obj)
{
	struct agent *a = ud;
	if (type == WATCH_DELETED) {
		const char *name =
		    json_string_value(json_object_get(json_object_get(obj, "metadata"), "name"));
		if (a->ev == EV_NONE && name != NULL && strcmp(name, a->csr_name) == 0)
			a->ev = EV_GONE;
		return;
	}
	csr_seen(a, obj);
}

static const struct watch_informer_ops csr_ops = {
    .on_list_begin = on_list_begin,
    .on_list_item = on_list_item,
    .on_list_end = on_list_end,
    .on_event = on_event,
};

static void observe(void *ud, const char *verb, const char *resource, long code)
{
	struct agent *a = ud;
	if (code == 403 && strcmp(resource, "certificatesigningrequests") == 0 &&
	    (strcmp(verb, "WATCH") == 0 || strcmp(verb, "LIST") == 0))
		a->forbidden_watch = true;
}

/* ---------------------------------------------------------------- attempts */

static void attempt_clear(struct agent *a)
{
	watch_informer_free(a->inf);
	a->inf = NULL;
	agent_key_free(a->key);
	a->key = NULL;
	agent_csr_status_clear(&a->st);
	free(a->http_error);
	free(a->http_body);
	a->http_error = a->http_body = NULL;
	a->http_body_len = 0;
	a->csr_name[0] = a->rv[0] = '\0';
	a->ev = EV_NONE;
	a->approved = a->approved_logged = false;
	a->forbidden_watch = false;
}

static void finish(struct agent *a, int code)
{
	a->exit_code = code;
	a->state = ST_DONE;
}

/* The attempt did not give a certificate: the end with --once, else a
 * retry after a jittered, growing delay with a new key and a new CSR. */
static void attempt_failed(struct agent *a)
{
	attempt_clear(a);
	if (a->o->once) {
		finish(a, AGENT_EXIT_FAIL);
		return;
	}
	int64_t base = a->retry_ms;
	int64_t delay = base / 2 + (int64_t)(agent_rand(a) % (uint64_t)(base / 2 + 1));
	a->retry_ms = base * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : base * 2;
	char d[32];
	snprintf(d, sizeof(d), "%lld", (long long)delay);
	log_warn("retrying with a new key and a new CSR", "delay_ms", d);
	a->state = ST_SLEEPING;
	a->next = ST_START;
	a->wake_ms = util_now_ms() + delay;
}

/* Exit 1 in either mode: what is missing will not come by waiting. */
static void forbidden(struct agent *a, const char *verb_resource, const char *message)
{
	char user[256];
	if (agent_forbidden_user(message, user, sizeof(user)) != 0) {
		if (a->pod.sa != NULL)
			snprintf(user, sizeof(user), "system:serviceaccount:%s:%s", a->pod.ns,
			         a->pod.sa);
		else
			snprintf(user, sizeof(user), "this agent's user");
	}
	say("forbidden: %s may not %s: grant it that (see docs/mtls.md) (API server: %s)", user,
	    verb_resource, message && *message ? message : "403 Forbidden");
	attempt_clear(a);
	finish(a, AGENT_EXIT_FAIL);
}

static void start_attempt(struct agent *a)
{
	char err[ERRLEN];
	char *pem = NULL, *body = NULL;
	size_t len = 0;

	attempt_clear(a);
	if (!a->o->once)
		a->deadline_ms = a->o->timeout_ms > 0 ? util_now_ms() + a->o->timeout_ms : -1;
	a->key = agent_key_new(a->o->key_type, err, sizeof(err));
	if (a->key == NULL) {
		say("%s", err);
		finish(a, AGENT_EXIT_FAIL);
		return;
	}
	pem = agent_csr_build(a->key, &a->names, &len, err, sizeof(err));
	if (pem == NULL) {
		say("%s", err);
		finish(a, AGENT_EXIT_FAIL);
		return;
	}
	body = agent_csr_body(a->generate_name, a->o->signer_name, pem, len, a->o->key_type,
	                      a->o->expiration_s);
	if (kube_request_start(a->client, "POST", csr_path, body, strlen(body), NULL, on_created,
	                       NULL, a) == NULL) {
		say("could not start the create request");
		attempt_failed(a);
	} else {
		a->state = ST_CREATING;
	}
	free(body);
	free(pem);
}

static void created(struct agent *a)
{
	char sel[300];
	a->create_retry_ms = CA_RETRY_MIN_MS;
	log_info("certificate request created", "csr", a->csr_name, "signer", a->o->signer_name,
	         "names", a->names_text);
	snprintf(sel, sizeof(sel), "metadata.name=%s", a->csr_name);
	a->inf =
	    watch_informer_new(a->client, "certificatesigningrequests", csr_path, sel, &csr_ops, a);
	if (a->inf == NULL || watch_informer_start_at(a->inf, a->rv) != 0) {
		say("could not watch CSR %s", a->csr_name);
		attempt_failed(a);
		return;
	}
	a->state = ST_WAITING;
}

static void create_failed(struct agent *a)
{
	long s = a->http_status;
	const char *msg = a->http_error ? a->http_error : "";
	if (s == 403) {
		forbidden(a, "create certificatesigningrequests.certificates.k8s.io", msg);
		return;
	}
	/* Transport errors, overload and server errors pass: retried soon,
	 * within --timeout. The rest (an invalid request, 401) will not. */
	if (s == 0 || s == 429 || s >= 500) {
		char d[32];
		free(a->last_error);
		a->last_error =
		    s == 0 ? util_xasprintf("%s", msg) : util_xasprintf("HTTP %ld: %s", s, msg);
		snprintf(d, sizeof(d), "%lld", (long long)a->create_retry_ms);
		log_warn("could not create the CSR; retrying", "error", a->last_error, "delay_ms",
		         d);
		attempt_clear(a);
		a->state = ST_SLEEPING;
		a->next = ST_START;
		a->wake_ms = util_now_ms() + a->create_retry_ms;
		a->create_retry_ms = a->create_retry_ms * 2 > CA_RETRY_MAX_MS
		    ? CA_RETRY_MAX_MS
		    : a->create_retry_ms * 2;
		return;
	}
	say("the API server refused the CSR (HTTP %ld): %s", s, msg);
	attempt_clear(a);
	finish(a, AGENT_EXIT_FAIL);
}

/* Read the CA from --ca-file, or ask for the signer's ClusterTrustBundles. */
static void fetch_ca(struct agent *a)
{
	if (a->o->ca_file != NULL) {
		char err[ERRLEN];
		free(a->http_body);
		a->http_body = NULL;
		if (util_read_file(a->o->ca_file, AGENT_MAX_PEM, &a->http_body, &a->http_body_len,
		                   err, sizeof(err)) != 0) {
			say("--ca-file %s: %s", a->o->ca_file, err);
			attempt_failed(a);
			return;
		}
		a->http_status = 200;
		a->ev = EV_CA;
		a->state = ST_CA;
		return;
	}
	char *sel = util_xasprintf("spec.signerName=%s", a->o->signer_name);
	char *esc = kube_escape(sel);
	char *path = util_xasprintf("%s?fieldSelector=%s", ctb_path, esc);
	if (kube_request_start(a->client, "GET", path, NULL, 0, NULL, on_ca, NULL, a) == NULL) {
		say("could not start the ClusterTrustBundle request");
		attempt_failed(a);
	} else {
		a->state = ST_CA;
	}
	free(path);
	free(esc);
	free(sel);
}

static void issued(struct agent *a)
{
	char err[ERRLEN];
	watch_informer_free(a->inf);
	a->inf = NULL;
	if (agent_cert_check(a->st.cert_pem, a->st.cert_len, a->key, &a->names, wall_ms() / 1000,
	                     &a->times, err, sizeof(err)) != 0) {
		say("CSR %s: refusing to publish: %s", a->csr_name, err);
		attempt_failed(a);
		return;
	}
	a->ca_retry_ms = CA_RETRY_MIN_MS;
	fetch_ca(a);
}

static void ca_retry(struct agent *a, const char *why)
{
	log_warn("could not fetch the CA; retrying", "error", why);
	a->state = ST_SLEEPING;
	a->next = ST_CA;
	a->wake_ms = util_now_ms() + a->ca_retry_ms;
	a->ca_retry_ms =
	    a->ca_retry_ms * 2 > CA_RETRY_MAX_MS ? CA_RETRY_MAX_MS : a->ca_retry_ms * 2;
}

static void publish(struct agent *a, const char *ca, size_t ca_len, const char *ca_from)
{
	char err[ERRLEN];
	int64_t now_wall = wall_ms();
	if (agent_cert_verify_chain(a->st.cert_pem, a->st.cert_len, ca, ca_len, now_wall / 1000,
	                            err, sizeof(err)) != 0) {
		say("CSR %s: refusing to publish: %s (CA from %s)", a->csr_name, err, ca_from);
		attempt_failed(a);
		return;
	}
	size_t klen = 0;
	char *kpem = agent_key_pem(a->key, &klen);
	struct agent_bundle b = {kpem, klen, a->st.cert_pem, a->st.cert_len, ca, ca_len};
	int rc = agent_publish(a->o->dir, &b, err, sizeof(err));
	agent_secret_free(kpem, klen);
	if (rc != 0) {
		say("could not publish: %s", err);
		attempt_failed(a);
		return;
	}
	char nb[32], na[32], renew[32];
	format_time(a->times.not_before, nb, sizeof(nb));
	format_time(a->times.not_after, na, sizeof(na));
	int64_t delay = agent_renew_delay_ms(&a->times, a->o->renew_at, now_wall);
	snprintf(renew, sizeof(renew), "%lld", (long long)(delay / 1000));
	if (a->o->once) {
		log_info("certificate published", "csr", a->csr_name, "dir", a->o->dir,
		         "not_before", nb, "not_after", na, "ca_from", ca_from);
		attempt_clear(a);
		finish(a, AGENT_EXIT_OK);
		return;
	}
	log_info("certificate published", "csr", a->csr_name, "dir", a->o->dir, "not_before", nb,
	         "not_after", na, "ca_from", ca_from, "renew_in_s", renew);
	attempt_clear(a);
	a->retry_ms = RETRY_MIN_MS;
	a->state = ST_SLEEPING;
	a->next = ST_START;
	a->wake_ms = util_now_ms() + delay;
}

static void ca_answer(struct agent *a)
{
	char err[ERRLEN], *pem = NULL;
	size_t len = 0, count = 0;

	if (a->o->ca_file != NULL) {
		publish(a, a->http_body, a->http_body_len, a->o->ca_file);
		return;
	}
	long s = a->http_status;
	if (s == 403) {
		forbidden(a, "list clustertrustbundles.certificates.k8s.io (or pass --ca-file)",
		          a->http_error);
		return;
	}
	if (s == 404) {
		say("the API server serves no ClusterTrustBundles (certificates.k8s.io/v1): pass "
		    "--ca-file");
		attempt_clear(a);
		finish(a, AGENT_EXIT_FAIL);
		return;
	}
	if (s < 200 || s >= 300) {
		char why[ERRLEN];
		snprintf(why, sizeof(why), "HTTP %ld: %s", s, a->http_error ? a->http_error : "");
		ca_retry(a, why);
		return;
	}
	if (agent_trust_bundles_read(a->http_body, a->http_body_len, a->o->signer_name, &pem, &len,
	                             &count, err, sizeof(err)) != 0) {
		say("CSR %s: refusing to publish: %s", a->csr_name, err);
		attempt_failed(a);
		return;
	}
	if (count == 0) {
		say("CSR %s: refusing to publish: no ClusterTrustBundle has spec.signerName %s, so "
		    "the certificate cannot be checked and ca.crt cannot be written (publish the "
		    "signer's CA as a ClusterTrustBundle, or pass --ca-file)",
		    a->csr_name, a->o->signer_name);
		attempt_failed(a);
		return;
	}
	char from[64];
	snprintf(from, sizeof(from), "%zu ClusterTrustBundle%s", count, count == 1 ? "" : "s");
	publish(a, pem, len, from);
	free(pem);
}

static void denied(struct agent *a)
{
	const char *what = a->st.state == AGENT_CSR_DENIED ? "denied" : "failed";
	if (a->st.reason && a->st.reason[0])
		say("%s (%s): %s", what, a->st.reason, a->st.message ? a->st.message : "");
	else
		say("%s: %s", what, a->st.message ? a->st.message : "");
	log_warn(a->st.state == AGENT_CSR_DENIED ? "certificate request denied"
	                                         : "certificate request failed",
	         "csr", a->csr_name, "reason", a->st.reason, "message", a->st.message);
	attempt_failed(a);
}

static void timed_out(struct agent *a)
{
	char secs[32];
	if (a->o->timeout_ms % 1000 == 0)
		snprintf(secs, sizeof(secs), "%lld", (long long)(a->o->timeout_ms / 1000));
	else
		snprintf(secs, sizeof(secs), "%.3f", (double)a->o->timeout_ms / 1000.0);
	if (a->state == ST_CREATING || (a->state == ST_SLEEPING && a->next == ST_START))
		say("timed out after %ss creating the CSR%s%s", secs, a->last_error ? ": " : "",
		    a->last_error ? a->last_error : "");
	else if (a->state == ST_CA || a->next == ST_CA)
		say("timed out after %ss fetching the CA for CSR %s", secs, a->csr_name);
	else
		say("timed out after %ss waiting for CSR %s to be %s", secs, a->csr_name,
		    a->approved ? "issued (approved, no certificate yet)"
		                : "approved and issued (still pending)");
	attempt_failed(a);
}

/* Act on what the callbacks recorded, and on the clocks. */
static void step(struct agent *a, int64_t now)
{
	enum agent_event ev = a->ev;
	a->ev = EV_NONE;

	if (a->forbidden_watch && a->state == ST_WAITING) {
		a->forbidden_watch = false;
		forbidden(a, "list and watch certificatesigningrequests.certificates.k8s.io", "");
		return;
	}
	switch (ev) {
	case EV_CREATED:
		created(a);
		return;
	case EV_CREATE_FAILED:
		create_failed(a);
		return;
	case EV_ISSUED:
		issued(a);
		if (a->state == ST_CA && a->ev == EV_CA) /* --ca-file: at once */
			step(a, now);
		return;
	case EV_DENIED:
		denied(a);
		return;
	case EV_GONE:
		say("CSR %s was deleted before it was issued", a->csr_name);
		attempt_failed(a);
		return;
	case EV_BAD:
		say("CSR %s: %s", a->csr_name, a->ev_err);
		attempt_failed(a);
		return;
	case EV_CA:
		ca_answer(a);
		return;
	case EV_NONE:
		break;
	}
	if (a->state == ST_START) {
		start_attempt(a);
		return;
	}
	if ((a->state == ST_CREATING || a->state == ST_WAITING || a->state == ST_CA ||
	     (a->state == ST_SLEEPING && (a->next == ST_CA || a->o->once))) &&
	    a->deadline_ms >= 0 && now >= a->deadline_ms) {
		timed_out(a);
		return;
	}
	if (a->state == ST_SLEEPING && now >= a->wake_ms) {
		if (a->next == ST_CA) {
			fetch_ca(a);
			if (a->ev == EV_CA)
				step(a, now);
		} else {
			start_attempt(a);
		}
	}
}

/* ---------------------------------------------------------------- set-up */

static int setup_signals(struct agent *a)
{
	a->sigfd = util_signalfd(false);
	return a->sigfd >= 0 ? 0 : -1;
}

static const char *env_or(const char *flag, const char *env)
{
	if (flag != NULL)
		return flag;
	const char *v = getenv(env);
	return v != NULL && v[0] != '\0' ? v : NULL;
}

/* The token the client will send, read once for its claims and wiped. */
static int read_claims(struct agent *a, struct agent_claims *claims, char *err, size_t errlen)
{
	char *tok = NULL;
	size_t len = 0;
	int rc = -1;

	if (a->cfg->token_file != NULL) {
		if (util_read_file(a->cfg->token_file, AGENT_MAX_TOKEN, &tok, &len, err, errlen) !=
		    0)
			return -1;
	} else if (a->cfg->token != NULL) {
		len = strlen(a->cfg->token);
		tok = util_xstrndup(a->cfg->token, len);
	} else {
		snprintf(err, errlen, "the credentials (%s) hold no service-account token",
		         a->cfg->source ? a->cfg->source : "kubeconfig");
		return -1;
	}
	rc = agent_token_claims(tok, len, claims, err, errlen);
	agent_secret_free(tok, len);
	return rc;
}

static char *names_text(const struct agent_names *n)
{
	struct util_buf b = {0};
	util_buf_append(&b, "", 0);
	for (size_t i = 0; i < n->n; i++)
		util_buf_printf(&b, "%s%s:%s", i ? "," : "",
		                n->v[i].type == AGENT_SAN_URI      ? "URI"
		                    : n->v[i].type == AGENT_SAN_IP ? "IP"
		                                                   : "DNS",
		                n->v[i].value);
	return util_buf_take(&b);
}

/* Everything that can be wrong before the first request. Returns 0, or an
 * exit status after printing why. */
static int setup(struct agent *a)
{
	char err[ERRLEN];
	struct agent_claims claims = {0};
	bool have_claims = false;
	const struct agent_options *o = a->o;
	int rc = AGENT_EXIT_USAGE;

	if (mkdir(o->dir, 0755) != 0 && errno != EEXIST) {
		say("--dir %s: %s", o->dir, strerror(errno));
		goto out;
	}
	if (o->ca_file != NULL && access(o->ca_file, R_OK) != 0) {
		say("--ca-file %s: %s", o->ca_file, strerror(errno));
		goto out;
	}
	if (kube_config_load(o->kubeconfig, NULL, &a->cfg, err, sizeof(err)) != 0) {
		say("kube config: %s", err);
		goto out;
	}
	if (read_claims(a, &claims, err, sizeof(err)) == 0)
		have_claims = true;
	else
		log_warn("no pod identity from the token", "error", err);
	const char *pod_name = env_or(o->pod_name, "POD_NAME");
	const char *pod_ns = env_or(o->pod_namespace, "POD_NAMESPACE");
	const char *pod_ips = env_or(o->pod_ips, "POD_IPS");
	if (agent_pod_resolve(have_claims ? &claims : NULL, pod_name, pod_ns, &a->pod, err,
	                      sizeof(err)) != 0) {
		say("%s", err);
		goto out;
	}
	if ((o->names & (AGENT_NAME_POD_IP | AGENT_NAME_POD_DNS)) && pod_ips == NULL) {
		if (o->names_set) {
			say("--names podIP and podDNS need the pod's IPs: set POD_IPS (downward API "
			    "status.podIPs) or --pod-ips");
			goto out;
		}
		log_warn("POD_IPS is not set: asking for no podIP or podDNS names");
	}
	if (agent_names_build(&a->pod, pod_ips, o, &a->names, err, sizeof(err)) != 0) {
		say("%s", err);
		goto out;
	}
	a->names_text = names_text(&a->names);
	a->generate_name = util_xasprintf("%s-", a->pod.name ? a->pod.name : "bootstrap");
	if (setup_signals(a) != 0) {
		say("signals: %s", strerror(errno));
		rc = AGENT_EXIT_FAIL;
		goto out;
	}
	a->client = kube_client_new(a->cfg, err, sizeof(err));
	if (a->client == NULL) {
		say("kube client: %s", err);
		rc = AGENT_EXIT_FAIL;
		goto out;
	}
	kube_client_set_observer(a->client, observe, a);
	rc = 0;
out:
	agent_claims_clear(&claims);
	return rc;
}

static void agent_cleanup(struct agent *a)
{
	/* The informer cancels its requests, then the client cancels the
	 * rest, whose callbacks may still record answers: clear after both. */
	watch_informer_free(a->inf);
	a->inf = NULL;
	kube_client_free(a->client);
	a->client = NULL;
	attempt_clear(a);
	kube_config_free(a->cfg);
	agent_pod_clear(&a->pod);
	agent_names_clear(&a->names);
	free(a->generate_name);
	free(a->names_text);
	free(a->last_error);
	if (a->sigfd >= 0)
		close(a->sigfd);
}

static int64_t min_deadline(int64_t a, int64_t b)
{
	if (a < 0)
		return b;
	if (b < 0)
		return a;
	return a < b ? a : b;
}

static int run(struct agent *a)
{
	a->state = ST_START;
	a->retry_ms = RETRY_MIN_MS;
	a->create_retry_ms = CA_RETRY_MIN_MS;
	a->deadline_ms = a->o->once && a->o->timeout_ms > 0 ? util_now_ms() + a->o->timeout_ms : -1;
	log_info("starting", "signer", a->o->signer_name, "dir", a->o->dir, "names", a->names_text,
	         "key_type", agent_key_type_name(a->o->key_type), "mode",
	         a->o->once ? "once" : "sidecar", "server", a->cfg->server);
	while (a->state != ST_DONE) {
		int64_t now = util_now_ms();
		step(a, now);
		if (a->state == ST_DONE)
			break;
		now = util_now_ms();
		int64_t next = a->state == ST_SLEEPING ? a->wake_ms : -1;
		if (a->state != ST_SLEEPING || a->next == ST_CA || a->o->once)
			next = min_deadline(next, a->deadline_ms);
		if (a->inf != NULL) {
			watch_informer_tick(a->inf, now);
			next = min_deadline(next, watch_informer_next_deadline(a->inf));
		}
		int64_t wait = next < 0 ? LOOP_MAX_WAIT_MS : next - now;
		if (wait < 0 || a->state == ST_START || a->ev != EV_NONE)
			wait = 0;
		if (wait > LOOP_MAX_WAIT_MS)
			wait = LOOP_MAX_WAIT_MS;
		struct kube_pollfd pfd = {a->sigfd, POLLIN, 0};
		if (kube_client_run_once(a->client, &pfd, 1, (int)wait) != 0) {
			say("the API client failed");
			finish(a, AGENT_EXIT_FAIL);
			break;
		}
		if (pfd.revents & POLLIN) {
			struct signalfd_siginfo si;
			const char *sig = NULL;
			while (read(a->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
				sig = si.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT";
			if (sig != NULL) {
				if (a->o->once) {
					say("stopped by %s before a certificate was issued", sig);
					finish(a, AGENT_EXIT_FAIL);
				} else {
					log_info("stopping", "signal", sig);
					finish(a, AGENT_EXIT_OK);
				}
			}
		}
	}
	return a->exit_code;
}

int agent_main(int argc, char **argv)
{
	struct agent_options o;
	struct agent a;
	char err[ERRLEN] = "";
	int rc;

	agent_options_init(&o);
	switch (agent_options_parse(&o, argc, argv, err, sizeof(err))) {
	case 0:
		break;
	case 1:
		agent_options_clear(&o);
		return AGENT_EXIT_OK;
	default:
		fprintf(stderr, "csr-approver bootstrap: %s (see --help)\n", err);
		agent_options_clear(&o);
		return AGENT_EXIT_USAGE;
	}
	log_set_format(o.log_format);
	log_set_level(o.log_level);
	memset(&a, 0, sizeof(a));
	a.o = &o;
	a.sigfd = -1;
	a.rng = (uint64_t)util_now_ms() ^ ((uint64_t)getpid() << 32) ^ 0x9e3779b97f4a7c15ULL;
	rc = setup(&a);
	if (rc == 0)
		rc = run(&a);
	agent_cleanup(&a);
	agent_options_clear(&o);
	return rc;
}
