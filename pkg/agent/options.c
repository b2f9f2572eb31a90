/*
 * agent: the flags of `csr-approver bootstrap`.
 */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"

/* The API's floor for spec.expirationSeconds, and int32's ceiling. */
#define EXPIRATION_MIN_S 600
#define EXPIRATION_MAX_S 2147483647LL

static const char *const key_names[] = {
    [AGENT_KEY_ECDSA_P256] = "ecdsa-p256", [AGENT_KEY_ECDSA_P384] = "ecdsa-p384",
    [AGENT_KEY_ED25519] = "ed25519",       [AGENT_KEY_RSA_2048] = "rsa-2048",
    [AGENT_KEY_RSA_3072] = "rsa-3072",     [AGENT_KEY_RSA_4096] = "rsa-4096",
};

const char *agent_key_type_name(enum agent_key_type t)
{
	if ((size_t)t < sizeof(key_names) / sizeof(key_names[0]))
		return key_names[t];
	return "unknown";
}

int agent_key_type_parse(const char *s, enum agent_key_type *out)
{
	for (size_t i = 0; i < sizeof(key_names) / sizeof(key_names[0]); i++) {
		if (strcmp(s, key_names[i]) == 0) {
			*out = (enum agent_key_type)i;
			return 0;
		}
	}
	return -1;
}

static const struct {
	const char *name;
	unsigned bit;
} name_kinds[] = {
    {"spiffe", AGENT_NAME_SPIFFE},
    {"podIP", AGENT_NAME_POD_IP},
    {"podDNS", AGENT_NAME_POD_DNS},
    {"serviceDNS", AGENT_NAME_SERVICE_DNS},
};

int agent_names_parse(const char *s, unsigned *mask, char *err, size_t errlen)
{
	unsigned m = 0;
	const char *p = s;

	for (;;) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		unsigned bit = 0;
		for (size_t i = 0; i < sizeof(name_kinds) / sizeof(name_kinds[0]); i++)
			if (strlen(name_kinds[i].name) == n &&
			    strncmp(p, name_kinds[i].name, n) == 0)
				bit = name_kinds[i].bit;
		if (bit == 0) {
			snprintf(err, errlen,
			         "--names: unknown kind \"%.*s\" (want spiffe, podIP, podDNS or "
			         "serviceDNS, comma separated)",
			         (int)(n > 64 ? 64 : n), p);
			return -1;
		}
		if (m & bit) {
			snprintf(err, errlen, "--names: \"%.*s\" given twice", (int)n, p);
			return -1;
		}
		m |= bit;
		if (end == NULL)
			break;
		p = end + 1;
	}
	*mask = m;
	return 0;
}

void agent_options_init(struct agent_options *o)
{
	memset(o, 0, sizeof(*o));
	o->names = AGENT_NAMES_DEFAULT;
	o->key_type = AGENT_KEY_ECDSA_P256;
	o->expiration_s = 24 * 3600;
	o->renew_at = 0.67;
	o->timeout_ms = 60000;
	o->trust_domain = "cluster.local";
	o->cluster_domain = "cluster.local";
	o->log_format = LOG_FORMAT_JSON;
	o->log_level = LOG_INFO;
}

void agent_options_clear(struct agent_options *o)
{
	util_strv_free(&o->dns);
}

void agent_usage(FILE *f)
{
	fputs("Usage: csr-approver bootstrap --signer-name NAME --dir DIR [FLAGS]\n"
	      "\n"
	      "The pod-side agent for mTLS: makes a key in memory, asks for a certificate\n"
	      "for the pod's own names with a CertificateSigningRequest (with the pod's\n"
	      "service-account token), waits until it is approved and issued, checks it,\n"
	      "and writes DIR/tls.key (0600), DIR/tls.crt and DIR/ca.crt. The files are\n"
	      "symlinks into DIR/..data, swapped at once as the kubelet does for projected\n"
	      "volumes: read both through one open of DIR/..data and they always match.\n"
	      "With --once it exits after one certificate (an init container); without\n"
	      "it, it renews for ever (a sidecar).\n"
	      "\n"
	      "  --signer-name NAME       spec.signerName of the CSRs (required)\n"
	      "  --dir DIR                where the files go (required; created if missing)\n"
	      "  --names KINDS            the names to ask for, comma separated (default\n"
	      "                           spiffe,podIP,podDNS,serviceDNS):\n"
	      "                             spiffe      spiffe://TRUST_DOMAIN/ns/NS/sa/SA, from\n"
	      "                                         the token's claims\n"
	      "                             podIP       each IP of POD_IPS\n"
	      "                             podDNS      A-B-C-D.NS.pod.CLUSTER_DOMAIN per IP\n"
	      "                             serviceDNS  the --dns names: the agent cannot know\n"
	      "                                         which Services select the pod, so name\n"
	      "                                         them (e.g. --dns web.NS.svc --dns\n"
	      "                                         web.NS.svc.cluster.local)\n"
	      "  --dns NAME               a DNS name to ask for (repeatable; needs serviceDNS in\n"
	      "                           --names). The first DNS name asked is the subject CN.\n"
	      "  --key-type TYPE          ecdsa-p256 (default), ecdsa-p384, ed25519, rsa-2048,\n"
	      "                           rsa-3072, rsa-4096\n"
	      "  --expiration D           spec.expirationSeconds, a duration (default 24h, at\n"
	      "                           least 10m); the signer may issue for less\n"
	      "  --renew-at F             renew at this fraction of the certificate's lifetime\n"
	      "                           (notBefore to notAfter), 0 < F < 1 (default 0.67)\n"
	      "  --once                   one certificate, then exit (init container)\n"
	      "  --timeout D              how long to wait for a CSR to be issued (default 60s;\n"
	      "                           0 waits for ever). With --once, the whole run.\n"
	      "  --kubeconfig FILE        kubeconfig (default: in-cluster, then $KUBECONFIG,\n"
	      "                           then ~/.kube/config); its token gives the identity\n"
	      "  --ca-file FILE           the CA bundle for ca.crt (e.g. a projected\n"
	      "                           clusterTrustBundle volume); default: the\n"
	      "                           ClusterTrustBundles whose spec.signerName is the signer\n"
	      "  --trust-domain TD        SPIFFE trust domain (default cluster.local)\n"
	      "  --cluster-domain CD      cluster DNS domain (default cluster.local)\n"
	      "  --pod-name NAME          default $POD_NAME (downward API metadata.name)\n"
	      "  --pod-namespace NS       default $POD_NAMESPACE (metadata.namespace)\n"
	      "  --pod-ips IPS            default $POD_IPS (status.podIPs, comma separated)\n"
	      "  --log-format json|text   (default json)\n"
	      "  -v, --log-level LEVEL    error|warn|info|debug|trace or 0..4 (default info)\n"
	      "  -h, --help               this text\n"
	      "\n"
	      "Every certificate is checked before it is written: its key is the agent's,\n"
	      "its SANs are exactly the names asked, and it chains to the signer's CA.\n"
	      "A denied or failed CSR prints its reason and message; with --once the agent\n"
	      "exits 1, else it retries with backoff (a new key, a new CSR). As a sidecar\n"
	      "the old key and certificate stay in place until the new ones are written.\n"
	      "\n"
	      "The pod's ServiceAccount needs create, list and watch on\n"
	      "certificatesigningrequests (certificates.k8s.io), and list on\n"
	      "clustertrustbundles unless --ca-file is given.\n"
	      "\n"
	      "Exit status: 0 issued (--once) or stopped by SIGTERM (sidecar); 1 denied,\n"
	      "failed, timed out, forbidden, or stopped before a certificate (--once);\n"
	      "2 bad usage or environment.\n",
	      f);
}

enum {
	OPT_SIGNER = 256,
	OPT_DIR,
	OPT_NAMES,
	OPT_DNS,
	OPT_KEY_TYPE,
	OPT_EXPIRATION,
	OPT_RENEW_AT,
	OPT_ONCE,
	OPT_TIMEOUT,
	OPT_KUBECONFIG,
	OPT_CA_FILE,
	OPT_TRUST_DOMAIN,
	OPT_CLUSTER_DOMAIN,
	OPT_POD_NAME,
	OPT_POD_NAMESPACE,
	OPT_POD_IPS,
	OPT_LOG_FORMAT,
	OPT_LOG_LEVEL,
};

static int set_string(const char **dst, const char *flag, const char *arg, char *err, size_t errlen)
{
	if (arg[0] == '\0') {
		snprintf(err, errlen, "%s must not be empty", flag);
		return -1;
	}
	*dst = arg;
	return 0;
}

/* A DNS name as a certificate may hold it: LDH labels of 1 to 63 bytes, at
 * most 253 bytes, no wildcard, no trailing dot. Lower-cased into out. */
static int dns_name_ok(const char *s)
{
	size_t n = strlen(s), label = 0;
	if (n == 0 || n > 253)
		return -1;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '.') {
			if (label == 0 || s[i - 1] == '-')
				return -1;
			label = 0;
			continue;
		}
		bool alnum =
		    (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		if (!alnum && !(c == '-' && label > 0))
			return -1;
		if (++label > 63)
			return -1;
	}
	return label == 0 || s[n - 1] == '-' ? -1 : 0;
}

int agent_options_parse(struct agent_options *o, int argc, char **argv, char *err, size_t errlen)
{
	static const struct option opts[] = {
	    {"signer-name", required_argument, NULL, OPT_SIGNER},
	    {"dir", required_argument, NULL, OPT_DIR},
	    {"names", required_argument, NULL, OPT_NAMES},
	    {"dns", required_argument, NULL, OPT_DNS},
	    {"key-type", required_argument, NULL, OPT_KEY_TYPE},
	    {"expiration", required_argument, NULL, OPT_EXPIRATION},
	    {"renew-at", required_argument, NULL, OPT_RENEW_AT},
	    {"once", no_argument, NULL, OPT_ONCE},
	    {"timeout", required_argument, NULL, OPT_TIMEOUT},
	    {"kubeconfig", required_argument, NULL, OPT_KUBECONFIG},
	    {"ca-file", required_argument, NULL, OPT_CA_FILE},
	    {"trust-domain", required_argument, NULL, OPT_TRUST_DOMAIN},
	    {"cluster-domain", required_argument, NULL, OPT_CLUSTER_DOMAIN},
	    {"pod-name", required_argument, NULL, OPT_POD_NAME},
	    {"pod-namespace", required_argument, NULL, OPT_POD_NAMESPACE},
	    {"pod-ips", required_argument, NULL, OPT_POD_IPS},
	    {"log-format", required_argument, NULL, OPT_LOG_FORMAT},
	    {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;
	int64_t ms;
	char *end;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":hv:", opts, NULL)) != -1) {
		const char *arg = optarg;
		switch (c) {
		case 'h':
			agent_usage(stdout);
			return 1;
		case OPT_SIGNER:
			if (set_string(&o->signer_name, "--signer-name", arg, err, errlen) != 0)
				return -1;
			break;
		case OPT_DIR:
			if (set_string(&o->dir, "--dir", arg, err, errlen) != 0)
				return -1;
			break;
		case OPT_NAMES:
			if (agent_names_parse(arg, &o->names, err, errlen) != 0)
				return -1;
			o->names_set = true;
			break;
		case OPT_DNS: {
			if (dns_name_ok(arg) != 0) {
				snprintf(err, errlen,
				         "--dns \"%.80s\" is not a DNS name (letters, digits and "
				         "hyphens in dot-separated labels, no wildcard, no "
				         "trailing dot)",
				         arg);
				return -1;
			}
			char *low = util_xstrdup(arg);
			for (char *p = low; *p; p++)
				if (*p >= 'A' && *p <= 'Z')
					*p = (char)(*p - 'A' + 'a');
			if (!util_strv_contains(&o->dns, low))
				util_strv_push(&o->dns, low);
			free(low);
			break;
		}
		case OPT_KEY_TYPE:
			if (agent_key_type_parse(arg, &o->key_type) != 0) {
				snprintf(
				    err, errlen,
				    "--key-type takes ecdsa-p256, ecdsa-p384, ed25519, rsa-2048, "
				    "rsa-3072 or rsa-4096, not \"%.40s\"",
				    arg);
				return -1;
			}
			break;
		case OPT_EXPIRATION:
			if (util_parse_duration(arg, &ms) != 0) {
				snprintf(
				    err, errlen,
				    "--expiration takes a duration like 24h or 90m, not \"%.40s\"",
				    arg);
				return -1;
			}
			if (ms / 1000 < EXPIRATION_MIN_S || ms / 1000 > EXPIRATION_MAX_S) {
				snprintf(
				    err, errlen,
				    "--expiration must be at least 10m (the API's minimum) and "
				    "fit in 32 bits of seconds");
				return -1;
			}
			o->expiration_s = ms / 1000;
			break;
		case OPT_RENEW_AT:
			o->renew_at = strtod(arg, &end);
			if (end == arg || *end != '\0' || !isfinite(o->renew_at) ||
			    o->renew_at <= 0 || o->renew_at >= 1) {
				snprintf(err, errlen,
				         "--renew-at takes a fraction between 0 and 1 (exclusive), "
				         "like 0.67, not \"%.40s\"",
				         arg);
				return -1;
			}
			break;
		case OPT_ONCE:
			o->once = true;
			break;
		case OPT_TIMEOUT:
			if (util_parse_duration(arg, &o->timeout_ms) != 0) {
				snprintf(err, errlen,
				         "--timeout takes a duration like 60s or 5m (0: for ever), "
				         "not \"%.40s\"",
				         arg);
				return -1;
			}
			break;
		case OPT_KUBECONFIG:
			if (set_string(&o->kubeconfig, "--kubeconfig", arg, err, errlen) != 0)
				return -1;
			break;
		case OPT_CA_FILE:
			if (set_string(&o->ca_file, "--ca-file", arg, err, errlen) != 0)
				return -1;
			break;
		case OPT_TRUST_DOMAIN:
		case OPT_CLUSTER_DOMAIN: {
			const char *flag =
			    c == OPT_TRUST_DOMAIN ? "--trust-domain" : "--cluster-domain";
			if (dns_name_ok(arg) != 0) {
				snprintf(err, errlen, "%s \"%.80s\" is not a DNS name", flag, arg);
				return -1;
			}
			if (c == OPT_TRUST_DOMAIN)
				o->trust_domain = arg;
			else
				o->cluster_domain = arg;
			break;
		}
		case OPT_POD_NAME:
			if (set_string(&o->pod_name, "--pod-name", arg, err, errlen) != 0)
				return -1;
			break;
		case OPT_POD_NAMESPACE:
			if (set_string(&o->pod_namespace, "--pod-namespace", arg, err, errlen) != 0)
				return -1;
			break;
		case OPT_POD_IPS:
			o->pod_ips = arg;
			break;
		case OPT_LOG_FORMAT:
			if (log_format_flag(arg, &o->log_format, err, errlen) != 0)
				return -1;
			break;
		case 'v':
		case OPT_LOG_LEVEL:
			if (log_level_flag(c == 'v' ? "-v" : "--log-level", arg, &o->log_level, err,
			                   errlen) != 0)
				return -1;
			break;
		case ':':
			snprintf(err, errlen, "flag %s needs a value", argv[optind - 1]);
			return -1;
		default:
			if (optopt != 0 && optopt < 256)
				snprintf(err, errlen, "unknown flag -%c", optopt);
			else
				snprintf(err, errlen, "unknown flag %s", argv[optind - 1]);
			return -1;
		}
	}
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument \"%.80s\" (bootstrap takes flags only)",
		         argv[optind]);
		return -1;
	}
	if (o->signer_name == NULL) {
		snprintf(err, errlen, "--signer-name is required");
		return -1;
	}
	if (strchr(o->signer_name, '/') == NULL) {
		snprintf(err, errlen,
		         "--signer-name \"%.80s\" is not a signer name (DOMAIN/PATH, e.g. "
		         "example.com/workload-mtls)",
		         o->signer_name);
		return -1;
	}
	if (o->dir == NULL) {
		snprintf(err, errlen, "--dir is required");
		return -1;
	}
	if (o->dns.n > 0 && !(o->names & AGENT_NAME_SERVICE_DNS)) {
		snprintf(err, errlen,
		         "--dns names are asked for as serviceDNS: add serviceDNS to "
		         "--names");
		return -1;
	}
	return 0;
}
