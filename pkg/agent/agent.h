/*
 * agent: `csr-approver bootstrap`, the pod-side agent for automatic mTLS.
 *
 * It runs in the pod (an init container with --once, or a sidecar) with the
 * pod's own service-account token: makes a key in memory, builds a PKCS#10
 * request from the pod's identity, creates a CertificateSigningRequest,
 * watches that one CSR until it is issued, checks the certificate against
 * the key, the names asked and the signer's CA, and publishes tls.key,
 * tls.crt and ca.crt atomically (a new directory, then a symlink swap, as
 * the kubelet does for projected volumes). As a sidecar it renews at a
 * fraction of the lifetime.
 *
 * Besides agent_main() this header exposes the pure parts, so that they can
 * be tested without an API server: flags, the token's claims, the names,
 * the request, the certificate checks, the renewal schedule, the
 * publication and the API bodies.
 *
 * This module and pkg/csr include OpenSSL; nothing else does. Keys never
 * reach a log, an error message or any file but DIR/..DATA/tls.key.
 *
 * Not thread-safe: everything here belongs to the calling thread.
 */
#ifndef CSR_APPROVER_AGENT_H
#define CSR_APPROVER_AGENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../log/log.h"
#include "../util/util.h"

/* Exit statuses of `bootstrap` (SPEC.md). */
#define AGENT_EXIT_OK 0 /* issued (--once), or stopped by SIGTERM/SIGINT (sidecar) */
#define AGENT_EXIT_FAIL 1 /* denied, failed, timed out, forbidden, interrupted (--once) */
#define AGENT_EXIT_USAGE 2 /* bad flags, environment or configuration */

/* ---- flags ---- */

enum agent_key_type {
	AGENT_KEY_ECDSA_P256,
	AGENT_KEY_ECDSA_P384,
	AGENT_KEY_ED25519,
	AGENT_KEY_RSA_2048,
	AGENT_KEY_RSA_3072,
	AGENT_KEY_RSA_4096,
};

/* "ecdsa-p256", "ecdsa-p384", "ed25519", "rsa-2048", "rsa-3072", "rsa-4096". */
const char *agent_key_type_name(enum agent_key_type t);
/* Parse one of those names. Returns 0 or -1. */
int agent_key_type_parse(const char *s, enum agent_key_type *out);

/* Kinds of name (--names), the vocabulary of the workload policy's
 * allowedNames. */
#define AGENT_NAME_SPIFFE 1u /* spiffe://TD/ns/NS/sa/SA */
#define AGENT_NAME_POD_IP 2u /* each IP of POD_IPS */
#define AGENT_NAME_POD_DNS 4u /* A-B-C-D.NS.pod.CD for each IP */
#define AGENT_NAME_SERVICE_DNS 8u /* the --dns names (the agent cannot know the Services) */
#define AGENT_NAMES_DEFAULT                                                                        \
	(AGENT_NAME_SPIFFE | AGENT_NAME_POD_IP | AGENT_NAME_POD_DNS | AGENT_NAME_SERVICE_DNS)

/* Parse a comma-separated list of kinds ("spiffe,podIP"). Returns 0 with
 * *mask, or -1 with err naming the unknown or duplicate kind. */
int agent_names_parse(const char *s, unsigned *mask, char *err, size_t errlen);

struct agent_options {
	const char *signer_name; /* required */
	const char *dir; /* required: where tls.key, tls.crt, ca.crt go */
	unsigned names; /* AGENT_NAME_* (default AGENT_NAMES_DEFAULT) */
	bool names_set; /* --names was given */
	struct util_strv dns; /* owned: --dns names, lower-cased, in order */
	enum agent_key_type key_type; /* ecdsa-p256 */
	int64_t expiration_s; /* spec.expirationSeconds (24h) */
	double renew_at; /* fraction of notBefore..notAfter (0.67) */
	bool once;
	int64_t timeout_ms; /* 60 s; 0: wait for ever */
	const char *kubeconfig; /* NULL: in-cluster, then $KUBECONFIG, ~/.kube/config */
	const char *ca_file; /* NULL: the signer's ClusterTrustBundles */
	const char *trust_domain; /* "cluster.local" */
	const char *cluster_domain; /* "cluster.local" */
	const char *pod_name; /* NULL: $POD_NAME */
	const char *pod_namespace; /* NULL: $POD_NAMESPACE */
	const char *pod_ips; /* NULL: $POD_IPS */
	enum log_format log_format; /* json */
	enum log_level log_level; /* info */
};

/* The defaults of SPEC.md. Pair with agent_options_clear(). */
void agent_options_init(struct agent_options *o);
/* Free what the options own (the --dns list). */
void agent_options_clear(struct agent_options *o);

/*
 * Parse the flags of `bootstrap` (argv[0] is "bootstrap"). Strings in *o
 * borrow from argv, except dns. Returns 0, 1 when --help was asked (usage
 * printed to stdout), or -1 with a one-line message in err.
 */
int agent_options_parse(struct agent_options *o, int argc, char **argv, char *err, size_t errlen);

/* The usage text of `bootstrap`. */
void agent_usage(FILE *f);

/* ---- the service-account token ---- */

/* Cap on a token. */
#define AGENT_MAX_TOKEN (64 * 1024)

/* What the token says about the pod. Strings owned; NULL when absent. */
struct agent_claims {
	char *ns; /* kubernetes.io.namespace, or from sub */
	char *sa; /* kubernetes.io.serviceaccount.name, or from sub */
	char *pod_name; /* kubernetes.io.pod.name (a pod-bound token) */
	char *pod_uid; /* kubernetes.io.pod.uid */
};

/*
 * Decode the payload of a JWT (token, len bytes; not verified: the API
 * server does that) and read the pod's identity from its claims: the
 * "kubernetes.io" object of a projected token, else the legacy
 * "kubernetes.io/serviceaccount/..." claims, and "sub"
 * (system:serviceaccount:NS:SA), which must agree with them. Namespace, SA
 * and pod names must be DNS names of Kubernetes' forms. Returns 0 with *out
 * (clear with agent_claims_clear()), or -1 with err naming what is wrong;
 * err never holds any part of the token.
 */
int agent_token_claims(const char *token, size_t len, struct agent_claims *out, char *err,
                       size_t errlen);
void agent_claims_clear(struct agent_claims *c);

/* ---- the names to ask for ---- */

enum agent_san_type { AGENT_SAN_URI, AGENT_SAN_IP, AGENT_SAN_DNS };

struct agent_san {
	enum agent_san_type type;
	char *value; /* owned: the URI, DNS name or IP in text form */
	unsigned char ip[16];
	size_t ip_len; /* 4 or 16 for an IP, else 0 */
};

struct agent_names {
	struct agent_san *v; /* owned array: URI first, then IPs, then DNS names */
	size_t n;
	char *cn; /* owned: the subject CN (the first DNS name), or NULL */
};
void agent_names_clear(struct agent_names *n);

/* Who the pod is, from the token's claims and the downward API. */
struct agent_pod {
	char *ns; /* owned */
	char *sa; /* owned; NULL without a token */
	char *name; /* owned; NULL when neither POD_NAME nor the token names it */
};
void agent_pod_clear(struct agent_pod *p);

/*
 * Settle the pod's identity: the token's claims (may be NULL: no token)
 * against pod_name and pod_ns (flags or the downward API; NULL or "" when
 * unset). What the token says wins; a POD_NAME or POD_NAMESPACE that
 * disagrees with it is an error (the approver judges the token, so a
 * request made from the other values would be denied). Returns 0 with *out
 * (clear with agent_pod_clear()), or -1 with err.
 */
int agent_pod_resolve(const struct agent_claims *claims, const char *pod_name, const char *pod_ns,
                      struct agent_pod *out, char *err, size_t errlen);

/*
 * The names for pod and the options' --names, --dns, --trust-domain and
 * --cluster-domain; pod_ips is POD_IPS (comma separated, may be NULL or "":
 * then no podIP or podDNS names, and the caller decides whether that is
 * an error). DNS names: the --dns names first, then the podDNS names;
 * duplicates dropped. Returns 0 with *out (clear with agent_names_clear()),
 * or -1 with err (a bad IP, a bad DNS name, spiffe without a service
 * account, no name at all).
 */
int agent_names_build(const struct agent_pod *pod, const char *pod_ips,
                      const struct agent_options *o, struct agent_names *out, char *err,
                      size_t errlen);

/* ---- key and request (OpenSSL) ---- */

struct agent_key;

/* A new key of type t, in memory. Returns NULL with err. Caller frees with
 * agent_key_free(). */
struct agent_key *agent_key_new(enum agent_key_type t, char *err, size_t errlen);
void agent_key_free(struct agent_key *k); /* NULL does nothing */
enum agent_key_type agent_key_type(const struct agent_key *k);

/* The key as PKCS#8 PEM ("PRIVATE KEY"). Returns a new buffer of *len bytes
 * (NUL-terminated) the caller frees with agent_secret_free(). */
char *agent_key_pem(const struct agent_key *k, size_t *len);
/* Wipe len bytes of p and free it; NULL does nothing. */
void agent_secret_free(char *p, size_t len);

/*
 * A PEM "CERTIFICATE REQUEST" signed by k: version 1, subject CN = names->cn
 * (or an empty subject), one extensionRequest holding only the
 * subjectAltName extension with the names in order. SHA-256 (SHA-384 for
 * P-384; Ed25519 signs without a separate digest). Returns a new string of
 * *len bytes the caller frees, or NULL with err.
 */
char *agent_csr_build(const struct agent_key *k, const struct agent_names *names, size_t *len,
                      char *err, size_t errlen);

/* ---- the certificate ---- */

/* Cap on status.certificate and on a CA bundle. */
#define AGENT_MAX_PEM (1024 * 1024)

struct agent_cert_times {
	int64_t not_before; /* Unix seconds */
	int64_t not_after;
};

/*
 * Check an issued certificate (pem: the leaf, then intermediates; PEM
 * CERTIFICATE blocks only) before it is published: the leaf's public key is
 * k's; its SANs are exactly the names asked (as sets: DNS compared without
 * case, IPs by bytes, URIs byte for byte; no other kind of SAN); it is
 * valid at now (Unix seconds). Returns 0 with *times, or -1 with err.
 */
int agent_cert_check(const char *pem, size_t len, const struct agent_key *k,
                     const struct agent_names *names, int64_t now, struct agent_cert_times *times,
                     char *err, size_t errlen);

/*
 * Does the leaf of pem chain to one of the certificates of ca_pem (a bundle
 * of PEM CERTIFICATE blocks), with the other certificates of pem as
 * intermediates, at now (Unix seconds)? Returns 0, or -1 with err naming
 * why not.
 */
int agent_cert_verify_chain(const char *pem, size_t len, const char *ca_pem, size_t ca_len,
                            int64_t now, char *err, size_t errlen);

/* Renewals come no sooner than this after an issuance, whatever the
 * certificate says (a signer that backdates far must not make the agent
 * spin). */
#define AGENT_RENEW_MIN_MS 5000

/*
 * How long after now_ms (wall clock, Unix ms) to renew a certificate of
 * times t: at not_before + renew_at x (not_after - not_before), and at
 * least AGENT_RENEW_MIN_MS from now.
 */
int64_t agent_renew_delay_ms(const struct agent_cert_times *t, double renew_at, int64_t now_ms);

/* ---- publication ---- */

struct agent_bundle {
	const char *key_pem; /* borrowed */
	size_t key_len;
	const char *cert_pem;
	size_t cert_len;
	const char *ca_pem;
	size_t ca_len;
};

/*
 * Publish b in dir (created, mode 0755, when missing; its parent must
 * exist) the way the kubelet writes projected volumes: a new directory
 * dir/..YYYY_MM_DD_HH_MM_SS.XXXXXX holding tls.key (0600), tls.crt and
 * ca.crt (0644), each written and synced; then the symlink dir/..data is
 * pointed at it by rename(2) of a temporary symlink; dir/tls.key,
 * dir/tls.crt and dir/ca.crt are symlinks to ..data/NAME; then the
 * previous data directory is removed. A reader that opens dir/..data once
 * and reads both files through it always sees a matching pair. Returns 0,
 * or -1 with err (the previous files stay in place).
 */
int agent_publish(const char *dir, const struct agent_bundle *b, char *err, size_t errlen);

/* ---- API bodies ---- */

/*
 * The body of POST /apis/certificates.k8s.io/v1/certificatesigningrequests:
 * metadata.generateName, spec.request (base64 of the PEM), signerName,
 * usages ("digital signature", "key encipherment" for RSA keys only,
 * "client auth", "server auth") and expirationSeconds. Caller frees.
 */
char *agent_csr_body(const char *generate_name, const char *signer_name, const char *csr_pem,
                     size_t csr_len, enum agent_key_type kt, int64_t expiration_s);

/* Read metadata.name and metadata.resourceVersion of a created object.
 * Returns 0, or -1 when the body lacks them or they do not fit. */
int agent_created_read(const char *body, size_t len, char *name, size_t namelen, char *rv,
                       size_t rvlen);

enum agent_csr_state {
	AGENT_CSR_PENDING, /* no condition yet */
	AGENT_CSR_APPROVED, /* approved, no certificate yet */
	AGENT_CSR_ISSUED, /* approved, status.certificate set */
	AGENT_CSR_DENIED,
	AGENT_CSR_FAILED,
};

struct agent_csr_status {
	enum agent_csr_state state;
	char *reason; /* owned: the Denied/Failed condition's reason ("" if none) */
	char *message; /* owned: its message, control characters replaced, capped */
	char *cert_pem; /* owned: status.certificate decoded (ISSUED only) */
	size_t cert_len;
};

/*
 * Read a CertificateSigningRequest (borrowed) as the agent sees it. Denied
 * and Failed win over Approved. Returns 0 with *out (clear with
 * agent_csr_status_clear()), or -1 with err when the object is malformed
 * (status.certificate not base64, larger than AGENT_MAX_PEM, conditions not
 * a list).
 */
int agent_csr_status_read(const json_t *csr, struct agent_csr_status *out, char *err,
                          size_t errlen);
void agent_csr_status_clear(struct agent_csr_status *s);

/*
 * From a ClusterTrustBundleList body, the trust bundles whose
 * spec.signerName is signer_name, concatenated in the order of their names
 * (each ending in a newline). Returns 0 with *pem (caller frees) of *len
 * bytes and *count bundles (*pem NULL and 0 when none match), or -1 with
 * err when the body is not such a list or the result exceeds AGENT_MAX_PEM.
 */
int agent_trust_bundles_read(const char *body, size_t len, const char *signer_name, char **pem,
                             size_t *pemlen, size_t *count, char *err, size_t errlen);

/*
 * The user an API server's 403 message names ('User "system:..." cannot
 * ...'), copied into user; returns 0, or -1 when the message names none.
 */
int agent_forbidden_user(const char *message, char *user, size_t userlen);

/* ---- the command ---- */

/* `csr-approver bootstrap ARGS`: argv[0] is "bootstrap". Returns the exit
 * status (AGENT_EXIT_*). Blocks SIGTERM and SIGINT and reads them through a
 * signalfd. */
int agent_main(int argc, char **argv);

#endif
