/*
 * agent: what the module's files share and nothing else sees.
 */
#ifndef CSR_APPROVER_AGENT_INTERNAL_H
#define CSR_APPROVER_AGENT_INTERNAL_H

#include <openssl/evp.h>

#include "agent.h"

/* The OpenSSL key inside k (borrowed). */
EVP_PKEY *agent_key_pkey(const struct agent_key *k);

#endif
