/*
 * policy: type client. A person submits a CSR with kubectl to get a client
 * certificate for their own identity. The identity is what the API server
 * wrote into spec.username and spec.groups, never what the request says:
 * the certificate may name only the requester, and only groups the
 * requester is in. Every check here reads the request alone (no cluster
 * object), so its failures are final: policy_fail, never policy_fail_obj.
 *
 * Where SPEC.md is silent, the reading taken is the one that can never
 * approve a name the requester does not own:
 *   - requesters with no users and no groups: nobody may self-serve;
 *   - the CN equals spec.username byte for byte (no case folding), and
 *     every CN does, should a request carry two;
 *   - an O equals one of spec.groups byte for byte, and no "system:" group
 *     is ever allowed, whatever allowedGroups matches;
 *   - a "system:" user other than a service account (a node, a component,
 *     system:anonymous) is not a person: it may not self-serve.
 */
#include "policy_internal.h"

#include <string.h>

#define SA_PREFIX "system:serviceaccount:"
#define SYSTEM_PREFIX "system:"
#define MASTERS "system:masters"

static const char *const c_usages[] = {"digital signature", "key encipherment", "client auth",
                                       NULL};

/* The first glob of globs that s matches, or NULL. Borrowed from globs. */
static const char *c_glob_first(const struct util_strv *globs, const char *s)
{
	for (size_t i = 0; i < globs->n; i++)
		if (util_glob_match(globs->v[i], s))
			return globs->v[i];
	return NULL;
}

static void c_put_globs(struct util_buf *b, const char *what, const struct util_strv *globs)
{
	util_buf_printf(b, "%s: ", what);
	policy_put_list(b, globs);
}

/*
 * May the requester self-serve? On success, appends to the approve summary
 * which entry of requesters let it in.
 */
static void c_check_requester(struct policy_eval *ev, const char *u)
{
	const struct policy_rule *r = ev->rule;
	const struct util_strv *groups = &ev->req->groups;
	const char *glob;
	struct util_buf *b;

	if (*u == '\0') {
		util_buf_puts(policy_fail(ev, POLICY_R_REQUESTER_NOT_ALLOWED),
		              "spec.username is empty");
		return;
	}
	if (util_has_prefix(u, SA_PREFIX)) {
		if (!r->allow_service_accounts) {
			b = policy_fail(ev, POLICY_R_REQUESTER_NOT_ALLOWED);
			util_buf_puts(b, "requester ");
			policy_quote(b, u, strlen(u));
			util_buf_puts(b, " is a service account (allowServiceAccounts is false)");
			return;
		}
	} else if (util_has_prefix(u, SYSTEM_PREFIX)) {
		b = policy_fail(ev, POLICY_R_REQUESTER_NOT_ALLOWED);
		util_buf_puts(b, "requester ");
		policy_quote(b, u, strlen(u));
		util_buf_puts(b,
		              " is a system: user, not a person (only people, and service "
		              "accounts with allowServiceAccounts, may self-serve)");
		return;
	}

	if (r->requester_users.n == 0 && r->requester_groups.n == 0) {
		b = policy_fail(ev, POLICY_R_REQUESTER_NOT_ALLOWED);
		util_buf_puts(b, "requester ");
		policy_quote(b, u, strlen(u));
		util_buf_puts(b,
		              " may not self-serve: requesters of this policy is empty (nobody "
		              "may)");
		return;
	}
	if ((glob = c_glob_first(&r->requester_users, u)) != NULL) {
		util_buf_puts(&ev->summary, " (requesters: users ");
		policy_quote(&ev->summary, glob, strlen(glob));
		util_buf_putc(&ev->summary, ')');
		return;
	}
	for (size_t i = 0; i < groups->n; i++) {
		const char *g = groups->v[i] ? groups->v[i] : "";
		if ((glob = c_glob_first(&r->requester_groups, g)) == NULL)
			continue;
		util_buf_puts(&ev->summary, " (requesters: group ");
		policy_quote(&ev->summary, g, strlen(g));
		util_buf_puts(&ev->summary, " matches ");
		policy_quote(&ev->summary, glob, strlen(glob));
		util_buf_putc(&ev->summary, ')');
		return;
	}
	b = policy_fail(ev, POLICY_R_REQUESTER_NOT_ALLOWED);
	util_buf_puts(b, "requester ");
	policy_quote(b, u, strlen(u));
	util_buf_puts(b, " and its groups match no entry of requesters (");
	c_put_globs(b, "users", &r->requester_users);
	util_buf_puts(b, "; ");
	c_put_globs(b, "groups", &r->requester_groups);
	util_buf_putc(b, ')');
}

/* The group of spec.groups equal to the O value, or NULL. Borrowed. */
static const char *c_requester_group(const struct policy_eval *ev, const struct csr_subject_attr *a)
{
	const struct util_strv *groups = &ev->req->groups;
	for (size_t i = 0; i < groups->n; i++)
		if (policy_eq_n(a->value, a->value_len, groups->v[i]))
			return groups->v[i];
	return NULL;
}

/* CN exactly the requester; each O one of its groups, allowed, not system:. */
static void c_check_subject(struct policy_eval *ev, const char *u)
{
	const struct csr_info *info = ev->info;
	const struct policy_rule *r = ev->rule;
	size_t n_cn = 0, n_o = 0;
	struct util_buf *b;

	util_buf_puts(&ev->summary, ": CN ");
	policy_quote(&ev->summary, u, strlen(u));
	for (size_t i = 0; i < info->n_subject; i++) {
		const struct csr_subject_attr *a = &info->subject[i];
		size_t len = a->value ? a->value_len : 0;
		const char *group;

		if (a->kind == CSR_ATTR_CN) {
			n_cn++;
			if (*u != '\0' && policy_eq_n(a->value, a->value_len, u))
				continue;
			b = policy_fail(ev, POLICY_R_SUBJECT_NOT_ALLOWED);
			util_buf_puts(b, "subject CN ");
			policy_quote(b, a->value, len);
			util_buf_puts(b, " is not the requester ");
			policy_quote(b, u, strlen(u));
			util_buf_puts(b, " (a client certificate names only its requester)");
			continue;
		}
		if (a->kind != CSR_ATTR_O)
			continue; /* reported by the global rules */
		n_o++;
		if (policy_eq_n(a->value, a->value_len, MASTERS))
			continue; /* reported by the global rules */
		if (len >= strlen(SYSTEM_PREFIX) &&
		    memcmp(a->value, SYSTEM_PREFIX, strlen(SYSTEM_PREFIX)) == 0) {
			b = policy_fail(ev, POLICY_R_SUBJECT_NOT_ALLOWED);
			util_buf_puts(b, "subject O ");
			policy_quote(b, a->value, len);
			util_buf_puts(b,
			              " is a system: group, never allowed in a client certificate");
			continue;
		}
		if ((group = c_requester_group(ev, a)) == NULL) {
			b = policy_fail(ev, POLICY_R_SUBJECT_NOT_ALLOWED);
			util_buf_puts(b, "subject O ");
			policy_quote(b, a->value, len);
			util_buf_puts(b, " is not a group of the requester (spec.groups: ");
			policy_put_list(b, &ev->req->groups);
			util_buf_putc(b, ')');
			continue;
		}
		if (c_glob_first(&r->allowed_groups, group) == NULL) {
			b = policy_fail(ev, POLICY_R_SUBJECT_NOT_ALLOWED);
			util_buf_puts(b, "subject O ");
			policy_quote(b, a->value, len);
			if (r->allowed_groups.n == 0) {
				util_buf_puts(b,
				              " is not allowed: allowedGroups of this policy is "
				              "empty (no O)");
			} else {
				util_buf_puts(b,
				              " is not in allowedGroups of this policy (allowed: ");
				policy_put_list(b, &r->allowed_groups);
				util_buf_putc(b, ')');
			}
			continue;
		}
		util_buf_puts(&ev->summary, n_o == 1 ? ", O " : ", ");
		policy_quote(&ev->summary, group, strlen(group));
	}
	if (n_cn == 0) {
		b = policy_fail(ev, POLICY_R_SUBJECT_NOT_ALLOWED);
		util_buf_puts(b, "subject has no CN (want the requester's name, ");
		policy_quote(b, u, strlen(u));
		util_buf_putc(b, ')');
	}
	if (n_o == 0)
		util_buf_puts(&ev->summary, ", no O");
}

void policy_rules_client(struct policy_eval *ev)
{
	const struct policy_request *req = ev->req;
	const struct policy_rule *r = ev->rule;
	const char *u = req->username ? req->username : "";

	util_buf_puts(&ev->summary, "requester ");
	policy_quote(&ev->summary, u, strlen(u));
	policy_ran(ev, POLICY_R_REQUESTER_NOT_ALLOWED);
	c_check_requester(ev, u);
	if (ev->info != NULL) {
		c_check_subject(ev, u);
		/* The count alone: the global rules name SANs of a bad syntax. */
		if (ev->info->n_sans > 0)
			util_buf_printf(policy_fail(ev, POLICY_R_SAN_NOT_ALLOWED),
			                "a client certificate request may hold no SAN (found %zu)",
			                ev->info->n_sans);
	}
	policy_check_usages(ev, c_usages, "client auth", "type client");
	if (!req->has_expiration)
		util_buf_printf(policy_fail(ev, POLICY_R_EXPIRATION_NOT_ALLOWED),
		                "spec.expirationSeconds is not set (type client requires it, "
		                "within [%lld, %lld])",
		                (long long)r->min_expiration_seconds,
		                (long long)r->max_expiration_seconds);
	policy_check_expiration(ev);
	if (req->has_expiration)
		util_buf_printf(&ev->summary, ", expirationSeconds %lld",
		                (long long)req->expiration_seconds);
}
