/*
 * signer: the built-in CA of a workload policy's `issue:` block (SPEC.md,
 * "Issuing: the built-in signer" and "PodCertificateRequests").
 *
 * - A CA is loaded from two files: the certificate file, a PEM chain with
 *   the issuing CA first and then the CAs above it, and the key file, the
 *   issuing CA's PEM private key (RSA, ECDSA P-256/P-384/P-521 or Ed25519,
 *   not encrypted). signer_ca_reload() notices when either file changes,
 *   a Kubernetes Secret volume's `..data` symlink swap included, and keeps
 *   the CA it has when the new files do not load.
 * - signer_issue_csr() signs an approved CertificateSigningRequest and
 *   signer_issue_pod() a PodCertificateRequest; the certificate holds only
 *   what docs/signer.md lists, never anything else of the request.
 * - signer_trust_bundle_*() build the ClusterTrustBundle that publishes the
 *   CA certificates, old and new side by side across a rotation.
 *
 * The private key lives only in memory, inside OpenSSL: it is never
 * logged, never part of an error message, never written to a file, and the
 * buffers that held the key file are wiped (OPENSSL_cleanse) before they
 * are freed. Every error message is one line naming the file or the request
 * field and what is wrong; errors of the issue functions are meant as the
 * message of a `Failed` condition with reason `SignerError`.
 *
 * Threads: a loaded struct signer_ca is read-only, and any number of threads
 * may issue with it at once; signer_ca_reload() replaces it and so needs the
 * caller's exclusive access. Nothing here keeps global state besides
 * OpenSSL's own.
 */
#ifndef CSR_APPROVER_SIGNER_H
#define CSR_APPROVER_SIGNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "../util/util.h"

/* Caps on what is read: the certificate file, the key file, the number of
 * certificates in a chain, and a request given to an issue function. */
#define SIGNER_MAX_CERT_FILE (1024 * 1024)
#define SIGNER_MAX_KEY_FILE (64 * 1024)
#define SIGNER_MAX_CHAIN 16
#define SIGNER_MAX_REQUEST (64 * 1024)
/* Most SANs copied into one certificate. */
#define SIGNER_MAX_SANS 1024
/* ClusterTrustBundle limits (certificates.k8s.io MaxTrustBundleSize), and
 * the most certificates a merged bundle holds. */
#define SIGNER_MAX_BUNDLE (1024 * 1024)
#define SIGNER_MAX_BUNDLE_CERTS 256
/* Most seconds a lifetime or a backdate may be (100 years). */
#define SIGNER_MAX_SECONDS (100LL * 366 * 86400)
/* PodCertificateRequest rules of the API server: a certificate lives at
 * least an hour, and notBefore is within 5 minutes of the server's clock,
 * so the backdate of a pod certificate is cut to 4 minutes (a minute left
 * for the status write and clock skew). */
#define SIGNER_POD_MIN_LIFETIME 3600
#define SIGNER_POD_MAX_BACKDATE 240
/* A size for the err buffers of this module that never cuts a message. */
#define SIGNER_ERR_MAX 512

/* extendedKeyUsage purposes (signer_usages_eku). */
#define SIGNER_EKU_SERVER (1u << 0)
#define SIGNER_EKU_CLIENT (1u << 1)

struct signer_ca; /* opaque */

/* ---- the CA ---- */

/*
 * Read and check the CA files:
 *  - cert_path: at most SIGNER_MAX_CERT_FILE bytes of PEM CERTIFICATE blocks
 *    and nothing else but whitespace (no other block, no text, no PEM
 *    headers), at most SIGNER_MAX_CHAIN of them; the first is the issuing
 *    CA, each next one issued the one before it (names and signature); all
 *    have basicConstraints CA:TRUE and, where keyUsage is present,
 *    keyCertSign (every one of them goes into the trust bundle, which takes
 *    only CA certificates);
 *  - key_path: at most SIGNER_MAX_KEY_FILE bytes, one PEM block "PRIVATE
 *    KEY" (PKCS#8), "RSA PRIVATE KEY" or "EC PRIVATE KEY" (an "EC
 *    PARAMETERS" block before it is allowed, as `openssl ecparam -genkey`
 *    writes it); RSA of 2048 bits or more, ECDSA P-256/P-384/P-521 or
 *    Ed25519; it must be the key of the first certificate, and a test
 *    signature must verify with that certificate's key.
 * Symlinks are followed (a Secret volume's tls.crt -> ..data/tls.crt); what
 * was read is remembered (device, inode, size, mtime, ctime of the file
 * actually opened) for signer_ca_changed().
 * Validity dates are not judged here (the issue functions do, with their
 * `now`): see signer_ca_not_after() to report an expiring CA.
 * Returns 0 and *out (free with signer_ca_free()), or -1, *out NULL and a
 * one-line message in err (errlen bytes, always terminated) naming the file
 * and the problem, e.g. "CA certificate file /etc/ca/tls.crt: certificate 1
 * is not a CA (basicConstraints CA:TRUE missing)". Paths are copied.
 */
int signer_ca_load(const char *cert_path, const char *key_path, struct signer_ca **out, char *err,
                   size_t errlen);

/*
 * The same checks on text in memory (cert_pem: cert_len bytes, key_pem:
 * key_len bytes; neither needs a terminating NUL). Messages say "CA
 * certificate" and "CA key" where signer_ca_load() names the files. The
 * caller still owns key_pem and wipes it; copies made here are wiped. A CA
 * made this way has no files: signer_ca_changed() is false and
 * signer_ca_reload() returns 0.
 */
int signer_ca_parse(const char *cert_pem, size_t cert_len, const char *key_pem, size_t key_len,
                    struct signer_ca **out, char *err, size_t errlen);

/* Free ca and wipe its key; NULL does nothing. */
void signer_ca_free(struct signer_ca *ca);

/* The issuing CA certificate's validity, Unix seconds. */
int64_t signer_ca_not_before(const struct signer_ca *ca);
int64_t signer_ca_not_after(const struct signer_ca *ca);
/* The issuing CA's subject, one line (RFC 2253), for logs; borrowed. */
const char *signer_ca_subject(const struct signer_ca *ca);
/* The CA key, for logs: "RSA-2048", "ECDSA-P256", "ECDSA-P384",
 * "ECDSA-P521" or "Ed25519"; borrowed. */
const char *signer_ca_key_type(const struct signer_ca *ca);
/* Number of certificates in the certificate file (1 or more). */
size_t signer_ca_chain_len(const struct signer_ca *ca);

/*
 * Has either file changed since ca was loaded? Compares device, inode,
 * size, mtime and ctime of what stat() finds now at each path (symlinks
 * followed, so a Secret volume update is seen) with what was read. A file
 * that cannot be stat()ed counts as changed. False for a CA from
 * signer_ca_parse().
 */
bool signer_ca_changed(const struct signer_ca *ca);

/*
 * Load the CA files again when they changed. Returns:
 *   0: nothing to do (files unchanged, or unchanged since the last failed
 *      attempt: a broken update is reported once, not at every call);
 *   1: the files changed and loaded: *ca is the new CA, the old one freed
 *      (pointers from the signer_ca_* getters of the old CA are gone);
 *  -1: the files changed but do not load: *ca is kept as it was (keep
 *      signing with it) and err says why, naming the file.
 * The caller must hold the only reference to *ca while this runs.
 */
int signer_ca_reload(struct signer_ca **ca, char *err, size_t errlen);

/* ---- issuing ---- */

/* The policy's issue settings and the clock, in Unix seconds. */
struct signer_validity {
	int64_t now; /* the current time */
	int64_t lifetime; /* issue.lifetime: > 0, at most SIGNER_MAX_SECONDS */
	int64_t backdate; /* issue.backdate: >= 0, at most SIGNER_MAX_SECONDS */
};

/* An issued certificate. */
struct signer_cert {
	/* Owned: the leaf alone, one PEM CERTIFICATE block ending in a newline:
	 * a CSR's status.certificate (SPEC: the leaf only). */
	char *pem;
	/* Owned: the leaf, then every certificate of the CA file that is not
	 * self-signed, in file order: a PodCertificateRequest's
	 * status.certificateChain. The self-signed root is left out (a peer
	 * trusts it through the ClusterTrustBundle, and TLS peers do not want
	 * it sent); so when the file holds only a self-signed issuing CA the
	 * chain is the leaf alone, and when the issuing CA is an intermediate
	 * it follows the leaf. */
	char *chain_pem;
	/* The serial number in upper-case hex, as `openssl x509 -serial` prints
	 * it: for the audit log. */
	char serial[40];
	int64_t not_before, not_after; /* Unix seconds, as in the certificate */
	/* not_before + 2/3 of the lifetime: a PodCertificateRequest's
	 * status.beginRefreshAt (also set for CSRs, for logs). */
	int64_t begin_refresh_at;
};

/* Free c and what it owns; NULL does nothing. */
void signer_cert_free(struct signer_cert *c);

/*
 * The extendedKeyUsage purposes of Kubernetes usages: "server auth" gives
 * SIGNER_EKU_SERVER, "client auth" SIGNER_EKU_CLIENT; "digital signature"
 * and "key encipherment" are accepted and give nothing (the keyUsage of a
 * certificate depends on its key only). Any other usage ("cert sign",
 * "code signing", "any", ...) is refused, as is a list with neither server
 * auth nor client auth: a certificate without extendedKeyUsage would be
 * good for any purpose, more than was asked. Returns 0 and *eku, or -1 with
 * a message. Use it on a policy's `usages` to get the purposes of pod
 * certificates.
 */
int signer_usages_eku(const struct util_strv *usages, unsigned *eku, char *err, size_t errlen);

/*
 * Sign an approved CertificateSigningRequest.
 *  request: spec.request decoded from base64 (PEM, exactly one
 *    "CERTIFICATE REQUEST" block) or the DER of the request, request_len
 *    bytes, at most SIGNER_MAX_REQUEST; its self-signature is verified again
 *    here. Its key must be RSA (2048 to 8192 bits), ECDSA P-256/P-384/P-521
 *    or Ed25519.
 *  usages: spec.usages (signer_usages_eku()).
 *  expiration_seconds: spec.expirationSeconds, 0 when absent.
 * The certificate (docs/signer.md): a random positive serial of at most 127
 * bits; subject the request's CN alone (UTF8String or PrintableString, as
 * the request wrote it) or empty when it has none (two CNs are refused;
 * O and any other attribute are left out); subjectAltName exactly the
 * request's DNS, IP and URI names in its order (any other kind refused;
 * critical when the subject is empty); basicConstraints CA:FALSE and
 * keyUsage digitalSignature (+ keyEncipherment for RSA keys), both
 * critical; extendedKeyUsage from usages; subject and authority key
 * identifiers. notBefore = max(now - backdate, the CA's notBefore);
 * notAfter = min(now + lifetime, now + expiration_seconds, the CA's
 * notAfter). Signed with SHA-256 (RSA and P-256 CA keys), SHA-384 (P-384),
 * SHA-512 (P-521) or Ed25519.
 * Refused with -1 and a message: the CA expired or not yet valid, a request
 * that does not decode or verify, a key the signer does not issue for, a
 * request with neither CN nor SAN, notAfter not after notBefore, usages as
 * above, a CA whose extendedKeyUsage does not allow the purposes.
 * Returns 0 and *out (free with signer_cert_free()).
 */
int signer_issue_csr(const struct signer_ca *ca, const char *request, size_t request_len,
                     const struct util_strv *usages, int64_t expiration_seconds,
                     const struct signer_validity *v, struct signer_cert **out, char *err,
                     size_t errlen);

enum signer_name_type {
	SIGNER_NAME_DNS,
	SIGNER_NAME_IP, /* text: "10.244.1.7" or "fd00:10:244::7" */
	SIGNER_NAME_URI,
};

/* One subjectAltName of a pod certificate. */
struct signer_name {
	enum signer_name_type type;
	const char *value; /* borrowed */
};

/*
 * Sign a PodCertificateRequest.
 *  stub_request: spec.stubPKCS10Request (DER, or PEM as for CSRs); only its
 *    key is used (after its self-signature verifies): nothing of its subject
 *    or extensions reaches the certificate.
 *  names: the pod's names (the caller puts the SPIFFE URI first), at least
 *    one, at most SIGNER_MAX_SANS; copied in order into subjectAltName
 *    (critical: the subject is empty). DNS names must be LDH labels of at
 *    most 63 bytes, 253 in all, no empty label (the API server refuses
 *    "..", a leading or a trailing dot); IPs parse as IPv4 or IPv6; URIs
 *    are printable ASCII without spaces with a scheme.
 *  eku: SIGNER_EKU_* bits, at least one (signer_usages_eku() of the
 *    policy's usages).
 *  max_expiration_seconds: spec.maxExpirationSeconds (> 0).
 * The rest as signer_issue_csr(), but the lifetime counts from notBefore as
 * the API server measures it: notBefore = max(now - min(backdate,
 * SIGNER_POD_MAX_BACKDATE), the CA's notBefore); notAfter = min(notBefore +
 * min(lifetime, max_expiration_seconds), the CA's notAfter), refused when
 * that is less than SIGNER_POD_MIN_LIFETIME; beginRefreshAt = notBefore +
 * 2/3 of the lifetime. Write chain_pem as status.certificateChain.
 */
int signer_issue_pod(const struct signer_ca *ca, const char *stub_request, size_t stub_len,
                     const struct signer_name *names, size_t n_names, unsigned eku,
                     int64_t max_expiration_seconds, const struct signer_validity *v,
                     struct signer_cert **out, char *err, size_t errlen);

/* ---- the trust bundle ---- */

/*
 * The ClusterTrustBundle name for signer_name: the signer name with '/'
 * written ':', then ":ca" ("example.com/workload-mtls" gives
 * "example.com:workload-mtls:ca"). signer_name must be valid as Kubernetes
 * checks it: DOMAIN/PATH, DOMAIN lower-case DNS labels with at least one
 * dot, PATH dot-separated lower-case DNS-1123 names. Returns a new string
 * (caller frees with free()), or NULL when signer_name is not valid.
 */
char *signer_trust_bundle_name(const char *signer_name);

/*
 * Every certificate of the CA file, PEM, duplicates dropped, in file order
 * (issuing CA first): spec.trustBundle for this CA alone. Borrowed from ca.
 */
const char *signer_ca_bundle_pem(const struct signer_ca *ca);

/*
 * spec.trustBundle after a rotation: the certificates of ca (as
 * signer_ca_bundle_pem()) first, then those of old_pem (the bundle now
 * published; old_len bytes; NULL or empty for none) that are not among
 * them, are CA certificates and have not expired at now, in their order:
 * certificates the old CA issued keep verifying until it expires. Returns
 * 0 and *out (caller frees with free()); -1 with a message when old_pem is
 * not a list of PEM CERTIFICATE blocks, or the result would exceed
 * SIGNER_MAX_BUNDLE bytes or SIGNER_MAX_BUNDLE_CERTS certificates (publish
 * signer_ca_bundle_pem() then).
 */
int signer_trust_bundle_merge(const struct signer_ca *ca, const char *old_pem, size_t old_len,
                              int64_t now, char **out, char *err, size_t errlen);

/*
 * The ClusterTrustBundle object to create or update:
 * {"apiVersion":API_VERSION,"kind":"ClusterTrustBundle",
 *  "metadata":{"name":signer_trust_bundle_name(signer_name),
 *              "labels":{"app.kubernetes.io/managed-by":"csr-approver"}},
 *  "spec":{"signerName":signer_name,"trustBundle":bundle_pem}}
 * api_version NULL means "certificates.k8s.io/v1" (v1beta1 has the same
 * shape). The label lets pods select the bundle by signerName with a label
 * selector. Returns a new reference (caller json_decref()s; add
 * metadata.resourceVersion for an update), or NULL with a message when
 * signer_name is not valid or bundle_pem is empty or too large.
 */
json_t *signer_trust_bundle_object(const char *signer_name, const char *bundle_pem,
                                   const char *api_version, char *err, size_t errlen);

#endif
