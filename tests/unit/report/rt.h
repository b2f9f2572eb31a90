/*
 * Helpers for the report, audit and certificate tests: requests and
 * issued certificates made in the test (keys from tests/unit/signer/st.c,
 * signed by the real pkg/signer with a CA made in memory), and
 * CertificateSigningRequest / PodCertificateRequest objects around them.
 */
#ifndef CSR_APPROVER_TESTS_REPORT_RT_H
#define CSR_APPROVER_TESTS_REPORT_RT_H

#include <jansson.h>
#include <stdint.h>

#include "../signer/st.h"

/* A PEM request for a fresh P-256 key with this CN and SANs (OpenSSL
 * syntax, "DNS:a,IP:10.0.0.1,URI:spiffe://x"). Caller frees. *key (when
 * not NULL) gets the key (caller EVP_PKEY_free()s). */
char *rt_request(const char *cn, const char *sans, EVP_PKEY **key);
/* The same request as DER, base64 (a PodCertificateRequest's
 * stubPKCS10Request). Caller frees. */
char *rt_request_der_b64(const char *sans);
/* Issue req_pem for lifetime seconds from now (the certificate's
 * notAfter is now + lifetime). Returns the signer's certificate (caller
 * frees with signer_cert_free()). */
struct signer_cert *rt_issue(const char *req_pem, int64_t lifetime);

/* Conditions, for rt_csr(): a JSON array text such as
 * "[{\"type\":\"Approved\",\"status\":\"True\",...}]" (NULL: none). */
/* A CertificateSigningRequest: name, signer, username, the pod claims (pod
 * may be NULL), created (Unix s), the request PEM, conditions, and the
 * issued certificate PEM (NULL: none). Caller json_decref()s. */
json_t *rt_csr(const char *name, const char *signer, const char *username, const char *pod,
               int64_t created, const char *req_pem, const char *conditions, const char *cert_pem);
/* A PodCertificateRequest NS/NAME of signer for pod (created at created),
 * with its conditions and certificate chain (NULL: none). */
json_t *rt_pcr(const char *ns, const char *name, const char *signer, const char *pod,
               int64_t created, const char *conditions, const char *chain_pem);
/* One condition: type, reason, message, time. Caller frees. */
char *rt_cond(const char *type, const char *reason, const char *message, int64_t at);

struct policy_set;
/* The policy set of YAML text yaml (the test fails when it does not load). */
struct policy_set *rt_policy_set(const char *yaml);

#endif
