/*
 * leader: Lease-based leader election (see leader.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../log/log.h"
#include "../util/util.h"
#include "leader.h"

/* client-go's JitterFactor for the acquire loop: waits are drawn from
 * [retry, retry * (1 + 1.2)]. */
#define LEADER_JITTER 1.2

int leader_config_validate(const struct leader_config *cfg, char *err, size_t errlen)
{
	if (cfg->lease_duration_ms <= 0 || cfg->renew_deadline_ms <= 0 ||
	    cfg->retry_period_ms <= 0) {
		snprintf(err, errlen, "leader election durations must be positive");
		return -1;
	}
	if (cfg->lease_duration_ms <= cfg->renew_deadline_ms) {
		snprintf(err, errlen, "the lease duration must be greater than the renew deadline");
		return -1;
	}
	if (cfg->renew_deadline_ms * 10 <= cfg->retry_period_ms * 12) {
		snprintf(err, errlen,
		         "the renew deadline must be greater than 1.2 x the retry period");
		return -1;
	}
	if (cfg->ns == NULL || cfg->ns[0] == '\0' || cfg->name == NULL || cfg->name[0] == '\0' ||
	    cfg->identity == NULL || cfg->identity[0] == '\0') {
		snprintf(err, errlen, "the lease needs a namespace, a name and an identity");
		return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------- record */

static char *spec_str(const json_t *spec, const char *key)
{
	const json_t *v = json_object_get(spec, key);
	return util_xstrdup(json_is_string(v) ? json_string_value(v) : "");
}

int leader_record_from_lease(const json_t *lease, struct leader_record *r)
{
	memset(r, 0, sizeof(*r));
	if (!json_is_object(lease))
		return -1;
	const json_t *spec = json_object_get(lease, "spec");
	r->holder = spec_str(spec, "holderIdentity");
	r->acquire_time = spec_str(spec, "acquireTime");
	r->renew_time = spec_str(spec, "renewTime");
	const json_t *v = json_object_get(spec, "leaseDurationSeconds");
	r->lease_duration_s = json_is_integer(v) ? json_integer_value(v) : 0;
	v = json_object_get(spec, "leaseTransitions");
	r->transitions = json_is_integer(v) ? json_integer_value(v) : 0;
	return 0;
}

void leader_record_clear(struct leader_record *r)
{
	if (r == NULL)
		return;
	free(r->holder);
	free(r->acquire_time);
	free(r->renew_time);
	memset(r, 0, sizeof(*r));
}

static bool str_eq(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

bool leader_record_equal(const struct leader_record *a, const struct leader_record *b)
{
	return str_eq(a->holder, b->holder) && str_eq(a->acquire_time, b->acquire_time) &&
	    str_eq(a->renew_time, b->renew_time) && a->lease_duration_s == b->lease_duration_s &&
	    a->transitions == b->transitions;
}

static void record_copy(struct leader_record *dst, const struct leader_record *src)
{
	leader_record_clear(dst);
	dst->holder = util_xstrdup(src->holder ? src->holder : "");
	dst->acquire_time = util_xstrdup(src->acquire_time ? src->acquire_time : "");
	dst->renew_time = util_xstrdup(src->renew_time ? src->renew_time : "");
	dst->lease_duration_s = src->lease_duration_s;
	dst->transitions = src->transitions;
}

void leader_format_microtime(const struct timespec *t, char *buf, size_t len)
{
	struct tm tm;
	char base[32];
	time_t s = t->tv_sec;
	if (gmtime_r(&s, &tm) == NULL ||
	    strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
		if (len > 0)
			buf[0] = '\0';
		return;
	}
	snprintf(buf, len, "%s.%06ldZ", base, (long)(t->tv_nsec / 1000));
}

static void now_microtime(char *buf, size_t len)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	leader_format_microtime(&ts, buf, len);
}

bool leader_can_acquire(const struct leader_record *observed, int64_t observed_ms, const char *self,
                        int64_t now_ms)
{
	if (observed->holder == NULL || observed->holder[0] == '\0')
		return true;
	if (strcmp(observed->holder, self) == 0)
		return true;
	return observed_ms + observed->lease_duration_s * 1000 <= now_ms;
}

char *leader_lease_body(const char *ns, const char *name, const char *resource_version,
                        const struct leader_record *r)
{
	json_t *md = json_pack("{s:s, s:s}", "name", name, "namespace", ns);
	if (resource_version != NULL && resource_version[0] != '\0')
		json_object_set_new(md, "resourceVersion", json_string(resource_version));
	json_t *spec = json_object();
	json_object_set_new(spec, "holderIdentity", json_string(r->holder ? r->holder : ""));
	json_object_set_new(spec, "leaseDurationSeconds", json_integer(r->lease_duration_s));
	if (r->acquire_time != NULL && r->acquire_time[0] != '\0')
		json_object_set_new(spec, "acquireTime", json_string(r->acquire_time));
	if (r->renew_time != NULL && r->renew_time[0] != '\0')
		json_object_set_new(spec, "renewTime", json_string(r->renew_time));
	json_object_set_new(spec, "leaseTransitions", json_integer(r->transitions));
	json_t *obj = json_pack("{s:s, s:s, s:o, s:o}", "apiVersion", "coordination.k8s.io/v1",
	                        "kind", "Lease", "metadata", md, "spec", spec);
	char *out = json_dumps(obj, JSON_COMPACT);
	json_decref(obj);
	return out;
}

/* ---------------------------------------------------------------- state */

bool leader_state_observe(struct leader_state *s, const struct leader_record *r, int64_t now_ms)
{
	bool holder_changed = !s->have_observed || !str_eq(s->observed.holder, r->holder);
	if (!s->have_observed || !leader_record_equal(&s->observed, r)) {
		record_copy(&s->observed, r);
		s->observed_ms = now_ms;
		s->have_observed = true;
	}
	return holder_changed;
}

bool leader_state_won(struct leader_state *s, int64_t sent_ms)
{
	bool started = !s->leading;
	s->leading = true;
	s->last_renew_ms = sent_ms;
	return started;
}

void leader_state_forget(struct leader_state *s)
{
	leader_record_clear(&s->observed);
	s->have_observed = false;
}

/* Has the last renewal been within renew_deadline_ms of now_ms? */
static bool renewed_within(const struct leader_state *s, int64_t renew_deadline_ms, int64_t now_ms)
{
	return now_ms - s->last_renew_ms <= renew_deadline_ms;
}

bool leader_state_check_deadline(struct leader_state *s, int64_t renew_deadline_ms, int64_t now_ms)
{
	if (!s->leading || s->lost || renewed_within(s, renew_deadline_ms, now_ms))
		return false;
	s->lost = true;
	s->leading = false;
	return true;
}

bool leader_state_is_leader(const struct leader_state *s, const char *self)
{
	/* A term alone is not enough: another holder may have taken the
	 * lease while our renewals failed (or its clock ran faster), and
	 * two deciders must never overlap. */
	return s->leading && !s->lost && s->have_observed && str_eq(s->observed.holder, self);
}

bool leader_state_holds(const struct leader_state *s, const char *self, int64_t renew_deadline_ms,
                        int64_t now_ms)
{
	return leader_state_is_leader(s, self) && renewed_within(s, renew_deadline_ms, now_ms);
}

void leader_state_clear(struct leader_state *s)
{
	if (s == NULL)
		return;
	leader_record_clear(&s->observed);
	memset(s, 0, sizeof(*s));
}

/* ---------------------------------------------------------------- elector */

enum leader_step {
	STEP_IDLE,
	STEP_RENEW, /* optimistic PUT from the record held */
	STEP_GET,
	STEP_CREATE,
	STEP_TAKE, /* PUT after a GET */
	STEP_RELEASE,
};

struct leader {
	struct kube_client *client;
	struct leader_config cfg;
	char *ns, *name, *identity; /* owned copies behind cfg */
	char *path, *collection; /* owned */
	struct leader_state st;
	char *observed_rv; /* owned */
	struct leader_record sent; /* what the request in flight writes */
	bool stopped;
	int64_t next_try_ms;
	enum leader_step step;
	struct kube_request *req;
	int64_t req_started_ms;
	bool cancelling;
	bool release_after; /* release once the renewal in flight has ended */
	unsigned rnd;
};

struct leader *leader_new(struct kube_client *c, const struct leader_config *cfg)
{
	struct leader *l = util_xcalloc(1, sizeof(*l));
	l->client = c;
	l->cfg = *cfg;
	l->ns = util_xstrdup(cfg->ns);
	l->name = util_xstrdup(cfg->name);
	l->identity = util_xstrdup(cfg->identity);
	l->cfg.ns = l->ns;
	l->cfg.name = l->name;
	l->cfg.identity = l->identity;
	char *ens = kube_escape(l->ns), *ename = kube_escape(l->name);
	l->collection = util_xasprintf("/apis/coordination.k8s.io/v1/namespaces/%s/leases", ens);
	l->path = util_xasprintf("%s/%s", l->collection, ename);
	free(ens);
	free(ename);
	l->rnd = (unsigned)(uintptr_t)l ^ (unsigned)time(NULL);
	l->next_try_ms = 0;
	return l;
}

void leader_free(struct leader *l)
{
	if (l == NULL)
		return;
	l->stopped = true;
	if (l->req != NULL) {
		l->cancelling = true;
		kube_request_cancel(l->req);
	}
	leader_state_clear(&l->st);
	leader_record_clear(&l->sent);
	free(l->observed_rv);
	free(l->ns);
	free(l->name);
	free(l->identity);
	free(l->path);
	free(l->collection);
	free(l);
}

bool leader_is_leader(const struct leader *l)
{
	return leader_state_is_leader(&l->st, l->identity);
}

bool leader_holds(const struct leader *l, int64_t now_ms)
{
	return leader_state_holds(&l->st, l->identity, l->cfg.renew_deadline_ms, now_ms);
}

bool leader_lost(const struct leader *l)
{
	return l->st.lost;
}

bool leader_path_under(const char *collection, const char *path)
{
	size_t n = strlen(collection);
	return strncmp(path, collection, n) == 0 &&
	    (path[n] == '\0' || path[n] == '/' || path[n] == '?');
}

bool leader_own_path(const struct leader *l, const char *path)
{
	return leader_path_under(l->collection, path);
}

const char *leader_holder(const struct leader *l)
{
	return l->st.have_observed && l->st.observed.holder ? l->st.observed.holder : "";
}

bool leader_busy(const struct leader *l)
{
	return l->req != NULL;
}

static int64_t jittered(struct leader *l, int64_t base)
{
	l->rnd = l->rnd * 1103515245u + 12345u;
	double f = (double)((l->rnd >> 8) & 0xffff) / 65536.0;
	return base + (int64_t)(f * LEADER_JITTER * (double)base);
}

/* Ms a request may run before it is abandoned: a renewal must be decided
 * well inside the renew deadline. */
static int64_t request_timeout(const struct leader *l)
{
	int64_t t = l->cfg.renew_deadline_ms / 2;
	return t < 1000 ? 1000 : t;
}

static void step_done(void *ud, const struct kube_response *resp);

static void start(struct leader *l, enum leader_step step, const char *method, const char *path,
                  const char *body, int64_t now_ms)
{
	l->step = step;
	l->req_started_ms = now_ms;
	/* Urgent: a renewal must not wait behind the decisions' writes. */
	l->req = kube_request_start_urgent(l->client, method, path, body, body ? strlen(body) : 0,
	                                   NULL, step_done, l);
	if (l->req == NULL) {
		l->step = STEP_IDLE;
		l->next_try_ms = now_ms + l->cfg.retry_period_ms;
	}
}

/* Write r (as held in l->sent) with PUT (resourceVersion rv) or POST. */
static void write_record(struct leader *l, enum leader_step step, const char *rv, int64_t now_ms)
{
	char *body = leader_lease_body(l->ns, l->name, rv, &l->sent);
	if (step == STEP_CREATE)
		start(l, step, "POST", l->collection, body, now_ms);
	else
		start(l, step, "PUT", l->path, body, now_ms);
	free(body);
}

static void fill_sent(struct leader *l, bool release)
{
	char now[40];
	now_microtime(now, sizeof(now));
	struct leader_record r = {0};
	const struct leader_record *o = &l->st.observed;
	bool mine = l->st.have_observed && str_eq(o->holder, l->identity);
	if (release) {
		r.holder = (char *)"";
		r.lease_duration_s = 1;
		r.acquire_time = now;
		r.renew_time = now;
		r.transitions = o->transitions;
	} else {
		r.holder = l->identity;
		r.lease_duration_s = l->cfg.lease_duration_ms / 1000;
		if (r.lease_duration_s < 1)
			r.lease_duration_s = 1;
		r.renew_time = now;
		if (mine && o->acquire_time && o->acquire_time[0]) {
			r.acquire_time = o->acquire_time;
			r.transitions = o->transitions;
		} else {
			r.acquire_time = now;
			r.transitions = l->st.have_observed ? o->transitions + 1 : 0;
		}
	}
	struct leader_record copy = {0};
	record_copy(&copy, &r);
	leader_record_clear(&l->sent);
	l->sent = copy;
}

static void note_rv(struct leader *l, const char *rv)
{
	free(l->observed_rv);
	l->observed_rv = util_xstrdup(rv ? rv : "");
}

/* A record read from the API server. */
/* PUT the released record over the one observed last. */
static void release_now(struct leader *l)
{
	fill_sent(l, true);
	write_record(l, STEP_RELEASE, l->observed_rv, util_now_ms());
}

static void observe(struct leader *l, const struct leader_record *r, const char *rv, int64_t now_ms)
{
	bool was_leader = leader_is_leader(l);
	if (leader_state_observe(&l->st, r, now_ms))
		log_info("lease holder", "lease", l->name, "namespace", l->ns, "holder",
		         r->holder && r->holder[0] ? r->holder : NULL);
	if (was_leader && !leader_is_leader(l))
		log_warn("the lease names another holder: no longer leading", "lease", l->name,
		         "namespace", l->ns, "holder",
		         r->holder && r->holder[0] ? r->holder : NULL);
	note_rv(l, rv);
}

/* Our write of l->sent succeeded. The term runs from when the write was
 * started, not from when its answer was read: the server recorded it no
 * later than that answer, and a standby counts the lease from when it saw
 * the record change. An answer read late (the process frozen or starved
 * while it waited in the socket) must not stretch the term past what the
 * standby counts: counted from the start, such a term is past its renew
 * deadline at once, and lost. */
static void succeeded(struct leader *l, const char *rv, int64_t now_ms)
{
	if (leader_state_observe(&l->st, &l->sent, now_ms))
		log_info("lease holder", "lease", l->name, "namespace", l->ns, "holder",
		         l->identity);
	if (leader_state_won(&l->st, l->req_started_ms))
		log_info("became leader", "lease", l->name, "namespace", l->ns, "identity",
		         l->identity);
	note_rv(l, rv);
	l->next_try_ms = now_ms + l->cfg.retry_period_ms;
}

static void failed(struct leader *l, int64_t now_ms)
{
	l->next_try_ms =
	    now_ms + (l->st.leading ? l->cfg.retry_period_ms : jittered(l, l->cfg.retry_period_ms));
}

static const char *rv_of(const json_t *obj)
{
	const json_t *v = json_object_get(json_object_get(obj, "metadata"), "resourceVersion");
	return json_is_string(v) ? json_string_value(v) : "";
}

static void step_done(void *ud, const struct kube_response *resp)
{
	struct leader *l = ud;
	enum leader_step step = l->step;
	int64_t now = util_now_ms();
	json_t *obj = NULL;
	json_error_t jerr;
	char code[16];

	l->req = NULL;
	l->step = STEP_IDLE;
	if (l->cancelling)
		return;
	snprintf(code, sizeof(code), "%ld", resp->status);
	if (resp->status >= 200 && resp->status < 300 && resp->body_len > 0)
		obj = json_loadb(resp->body, resp->body_len, 0, &jerr);

	switch (step) {
	case STEP_RELEASE:
		if (resp->status == 200)
			log_info("released the lease", "lease", l->name, "namespace", l->ns);
		else
			log_warn("could not release the lease", "lease", l->name, "code", code,
			         "error", resp->error);
		l->st.leading = false;
		break;
	case STEP_RENEW:
		if (resp->status == 200 && obj != NULL) {
			succeeded(l, rv_of(obj), now);
			break;
		}
		log_debug("optimistic lease renewal failed; reading the lease", "code", code,
		          "error", resp->error);
		if (!l->stopped)
			start(l, STEP_GET, "GET", l->path, NULL, now);
		break;
	case STEP_GET:
		if (resp->status == 404) {
			if (l->stopped)
				break;
			leader_state_forget(&l->st);
			fill_sent(l, false);
			write_record(l, STEP_CREATE, NULL, now);
			break;
		}
		if (resp->status != 200 || obj == NULL) {
			log_warn("could not read the lease", "lease", l->name, "namespace", l->ns,
			         "code", code, "error", resp->error);
			failed(l, now);
			break;
		}
		{
			struct leader_record r;
			leader_record_from_lease(obj, &r);
			observe(l, &r, rv_of(obj), now);
			leader_record_clear(&r);
		}
		if (l->stopped ||
		    !leader_can_acquire(&l->st.observed, l->st.observed_ms, l->identity, now)) {
			failed(l, now);
			break;
		}
		fill_sent(l, false);
		write_record(l, STEP_TAKE, l->observed_rv, now);
		break;
	case STEP_CREATE:
	case STEP_TAKE:
		if ((resp->status == 200 || resp->status == 201) && obj != NULL) {
			succeeded(l, rv_of(obj), now);
			break;
		}
		if (resp->status != 409)
			log_warn("could not write the lease", "lease", l->name, "code", code,
			         "error", resp->error);
		failed(l, now);
		break;
	case STEP_IDLE:
		break;
	}
	json_decref(obj);
	if (l->release_after && l->req == NULL) {
		l->release_after = false;
		if (leader_is_leader(l))
			release_now(l);
		else
			l->st.leading = false;
	}
}

void leader_tick(struct leader *l, int64_t now_ms)
{
	if (leader_state_check_deadline(&l->st, l->cfg.renew_deadline_ms, now_ms)) {
		char ms[24];
		snprintf(ms, sizeof(ms), "%lld", (long long)(now_ms - l->st.last_renew_ms));
		log_error("lost the lease: no renewal within the renew deadline", "lease", l->name,
		          "namespace", l->ns, "since_last_renewal_ms", ms);
	}
	if (l->req != NULL) {
		if (now_ms - l->req_started_ms > request_timeout(l))
			kube_request_cancel(l->req); /* its callback counts it as failed */
		return;
	}
	if (l->stopped || l->st.lost || now_ms < l->next_try_ms)
		return;
	if (leader_is_leader(l) && l->observed_rv != NULL) {
		fill_sent(l, false);
		write_record(l, STEP_RENEW, l->observed_rv, now_ms);
	} else {
		start(l, STEP_GET, "GET", l->path, NULL, now_ms);
	}
}

int64_t leader_next_deadline(const struct leader *l)
{
	if (l->req != NULL)
		return l->req_started_ms + request_timeout(l) + 1;
	if (l->stopped || l->st.lost)
		return -1;
	int64_t next = l->next_try_ms;
	if (l->st.leading) {
		int64_t dl = l->st.last_renew_ms + l->cfg.renew_deadline_ms + 1;
		if (dl < next)
			next = dl;
	}
	return next;
}

bool leader_release(struct leader *l)
{
	/* Only a record of ours is released: a PUT over another holder's
	 * record (with its resourceVersion) would end its term. */
	bool was_leading = leader_is_leader(l);
	l->stopped = true;
	if (was_leading && l->req != NULL && l->step == STEP_RENEW) {
		/* A renewal in flight may be written already; dropping it would
		 * leave the release with a stale resourceVersion (409), and the
		 * lease held until it expires. It ends first (step_done), then the
		 * release goes with what it returned. */
		l->release_after = true;
		return true;
	}
	if (l->req != NULL) {
		/* Another attempt in flight: drop it; the release goes after. */
		l->cancelling = true;
		kube_request_cancel(l->req);
		l->cancelling = false;
	}
	if (!was_leading)
		return false;
	release_now(l);
	return l->req != NULL;
}
