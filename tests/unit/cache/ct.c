#include "ct.h"

struct policy_pod *ct_pod(const char *ns, const char *name, const char *uid)
{
	struct policy_pod *p = util_xcalloc(1, sizeof(*p));
	p->ns = util_xstrdup(ns);
	p->name = util_xstrdup(name);
	p->uid = util_xstrdup(uid);
	return p;
}

struct policy_service *ct_service(const char *ns, const char *name)
{
	struct policy_service *s = util_xcalloc(1, sizeof(*s));
	s->ns = util_xstrdup(ns);
	s->name = util_xstrdup(name);
	return s;
}

struct policy_node *ct_node(const char *name, const char *ip)
{
	struct policy_node *n = util_xcalloc(1, sizeof(*n));
	n->name = util_xstrdup(name);
	if (ip != NULL) {
		n->addresses = util_xcalloc(1, sizeof(*n->addresses));
		n->addresses[0].type = util_xstrdup("InternalIP");
		n->addresses[0].address = util_xstrdup(ip);
		n->n_addresses = 1;
	}
	return n;
}
