/*
 * Certificates for the agent's tests: a CA, and leaves it issues for a
 * key with chosen SANs and validity. OpenSSL, test-only.
 */
#ifndef CSR_APPROVER_TEST_AGENT_PKI_H
#define CSR_APPROVER_TEST_AGENT_PKI_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>

struct test_ca {
	EVP_PKEY *key;
	X509 *cert;
};

/* A CA named cn, self-signed (issuer NULL) or issued by issuer. */
void test_ca_make(struct test_ca *ca, const char *cn, const struct test_ca *issuer);
void test_ca_free(struct test_ca *ca);

/* A leaf for pub issued by ca, SANs in OpenSSL's config form ("DNS:a,IP:1.2.3.4";
 * NULL for none), valid from now + nb_s to now + na_s. Returns PEM (free()). */
char *test_issue(const struct test_ca *ca, EVP_PKEY *pub, const char *sans, int64_t nb_s,
                 int64_t na_s);

/* PEM of a certificate (free()). */
char *test_cert_pem(X509 *x);

#endif
