/*
 * leader: leader election on a coordination.k8s.io/v1 Lease, with the
 * semantics of client-go's tools/leaderelection:
 *
 *  - every retry period a candidate GETs the Lease (creating it when it
 *    does not exist); when the record differs from the one last seen, the
 *    local monotonic time of that observation is noted. Another holder's
 *    lease is taken over only once leaseDurationSeconds have passed on the
 *    local clock since its record last changed: the stored renewTime is
 *    never compared with the local wall clock;
 *  - taking over is a PUT with the GET's resourceVersion (409: someone was
 *    faster), holderIdentity = self, acquireTime = renewTime = now,
 *    leaseTransitions + 1;
 *  - the leader renews every retry period (PUT of renewTime, acquireTime
 *    and leaseTransitions kept), optimistically from the record it holds
 *    and through a GET when that fails; it stops leading the moment a
 *    record naming another holder is observed (client-go's IsLeader), and
 *    has lost the lease for good when no renewal succeeded within the
 *    renew deadline;
 *  - a clean shutdown releases the lease (holderIdentity "",
 *    leaseDurationSeconds 1), so a standby takes over within its retry
 *    period instead of waiting out the lease.
 *
 * Times in the Lease are MicroTime: RFC 3339 with exactly 6 fractional
 * digits.
 *
 * Asynchronous: requests run on the caller's kube client; leader_tick()
 * from the loop starts them when due. Not thread-safe.
 */
#ifndef CSR_APPROVER_LEADER_H
#define CSR_APPROVER_LEADER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "../kube/kube.h"

struct leader_config {
	const char *ns; /* the Lease's namespace (borrowed) */
	const char *name; /* the Lease's name (borrowed) */
	const char *identity; /* this candidate (borrowed) */
	int64_t lease_duration_ms;
	int64_t renew_deadline_ms;
	int64_t retry_period_ms;
};

/* lease > renew deadline > 1.2 x retry period, all positive. Returns 0, or
 * -1 with a message in err. */
int leader_config_validate(const struct leader_config *cfg, char *err, size_t errlen);

/* ---- the record (pure, for tests) ---- */

struct leader_record {
	char *holder; /* owned; "" when released */
	int64_t lease_duration_s;
	char *acquire_time; /* owned MicroTime, or "" */
	char *renew_time; /* owned MicroTime, or "" */
	int64_t transitions;
};

/* Read spec of a Lease object; absent fields are empty/zero. Returns 0, or
 * -1 when lease is not an object. Caller clears r with leader_record_clear(). */
int leader_record_from_lease(const json_t *lease, struct leader_record *r);
void leader_record_clear(struct leader_record *r);
/* Do two records say the same? */
bool leader_record_equal(const struct leader_record *a, const struct leader_record *b);

/* MicroTime of t ("2026-07-25T10:00:06.123456Z") into buf (>= 28 bytes). */
void leader_format_microtime(const struct timespec *t, char *buf, size_t len);

/*
 * May self take the lease described by observed, last seen to change at
 * observed_ms (monotonic), at now_ms? Yes when it is free (no holder), held
 * by self, or its holder let leaseDurationSeconds pass since observed_ms.
 */
bool leader_can_acquire(const struct leader_record *observed, int64_t observed_ms, const char *self,
                        int64_t now_ms);

/* ---- the state machine (pure, for tests) ---- */

/*
 * What an elector knows, without I/O: the record last observed (read or
 * written) and the monotonic ms when it last changed, and whether this
 * candidate's own write made it the holder. Zero-initialise; free with
 * leader_state_clear().
 */
struct leader_state {
	struct leader_record observed; /* owned */
	bool have_observed;
	int64_t observed_ms;
	bool leading; /* a write of ours succeeded and the renew deadline held */
	bool lost; /* was leading and no renewal succeeded within the deadline */
	int64_t last_renew_ms;
};

/* Note record r (copied) seen at now_ms: observed_ms moves only when r
 * differs from the record held. Returns true when the holder changed. */
bool leader_state_observe(struct leader_state *s, const struct leader_record *r, int64_t now_ms);
/* Our write of the record just observed, started at sent_ms, succeeded:
 * lead (or go on leading) from sent_ms, when the write started (never from
 * when its answer was read: see leader.c, succeeded()). Returns true when
 * this starts a term. */
bool leader_state_won(struct leader_state *s, int64_t sent_ms);
/* Forget the record (the Lease is gone). */
void leader_state_forget(struct leader_state *s);
/* A term in which no renewal succeeded for more than renew_deadline_ms by
 * now_ms is lost for good. Returns true at the moment it is found lost. */
bool leader_state_check_deadline(struct leader_state *s, int64_t renew_deadline_ms, int64_t now_ms);
/*
 * Is self the leader? Only in a term not lost whose last observed record
 * names self: like client-go's IsLeader, a record naming another holder
 * ends it at once, without waiting for the renew deadline.
 */
bool leader_state_is_leader(const struct leader_state *s, const char *self);
/*
 * leader_state_is_leader(), and by the clock too: the last renewal is
 * within renew_deadline_ms of now_ms. Changes nothing: a term found past
 * its deadline here is ended by the next leader_state_check_deadline().
 */
bool leader_state_holds(const struct leader_state *s, const char *self, int64_t renew_deadline_ms,
                        int64_t now_ms);
/* Free what s holds and zero it; NULL does nothing. */
void leader_state_clear(struct leader_state *s);

/*
 * The body of a PUT (resource_version not NULL) or POST of the Lease
 * ns/name with record r. Caller frees.
 */
char *leader_lease_body(const char *ns, const char *name, const char *resource_version,
                        const struct leader_record *r);

/* ---- the elector ---- */

struct leader;

/* A candidate on client c (borrowed; must outlive it) with cfg (copied).
 * Nothing is sent before the first leader_tick(). */
struct leader *leader_new(struct kube_client *c, const struct leader_config *cfg);
/* Free; a request still in flight is cancelled. NULL does nothing. */
void leader_free(struct leader *l);

/* Drive: start the next attempt when due, and notice a missed renew
 * deadline. now_ms is monotonic. */
void leader_tick(struct leader *l, int64_t now_ms);
/* When leader_tick() wants to run next (monotonic ms). */
int64_t leader_next_deadline(const struct leader *l);

/* Holding the lease: not lost, and the record last observed names this
 * candidate (leader_state_is_leader()). The caller decides only while true. */
bool leader_is_leader(const struct leader *l);
/* leader_is_leader() at now_ms by the renew deadline too, without a tick:
 * it sends nothing and changes nothing, so the API client's write gate may
 * ask it while it sends (kube_client_set_write_gate()). */
bool leader_holds(const struct leader *l, int64_t now_ms);
/* Held the lease and could not renew it within the renew deadline: the
 * caller must stop deciding now (and should exit). */
bool leader_lost(const struct leader *l);
/* Is path (a request's, query included) one of the elector's own: the
 * Leases collection it campaigns in or below it? */
bool leader_own_path(const struct leader *l, const char *path);
/* The same test against collection ("/apis/.../namespaces/NS/leases"). */
bool leader_path_under(const char *collection, const char *path);
/* The holder last observed ("" when none or unknown); borrowed. */
const char *leader_holder(const struct leader *l);

/* Stop campaigning; if leader_is_leader(), start the release PUT (never
 * over a record that names another holder). Returns true when a
 * request is in flight that the caller should let finish (leader_busy()). */
bool leader_release(struct leader *l);
/* A request in flight? */
bool leader_busy(const struct leader *l);

#endif
