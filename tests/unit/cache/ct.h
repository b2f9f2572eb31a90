/*
 * Helpers for the cache tests: the objects they put, made the way the
 * informers make them (every string owned, freed by the cache).
 */
#ifndef CSR_APPROVER_TESTS_CACHE_CT_H
#define CSR_APPROVER_TESTS_CACHE_CT_H

#include "../../../pkg/cache/cache.h"

/* A pod ns/name with uid and nothing else. */
struct policy_pod *ct_pod(const char *ns, const char *name, const char *uid);
/* A Service ns/name with nothing else. */
struct policy_service *ct_service(const char *ns, const char *name);
/* A Node; with one InternalIP address when ip is not NULL. */
struct policy_node *ct_node(const char *name, const char *ip);

#endif
