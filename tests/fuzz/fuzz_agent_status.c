/*
 * Fuzz what the agent reads from the API server: a CertificateSigningRequest
 * (its conditions and status.certificate), a ClusterTrustBundle list, and
 * the certificate and CA bundle PEM the checks parse. The first byte picks
 * the path.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../../pkg/agent/agent.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct agent_key *key;
static struct agent_names names;

static void setup(void)
{
	char err[128];
	if (key != NULL)
		return;
	key = agent_key_new(AGENT_KEY_ECDSA_P256, err, sizeof(err));
	names.v = util_xcalloc(2, sizeof(*names.v));
	names.n = 2;
	names.v[0].type = AGENT_SAN_DNS;
	names.v[0].value = util_xstrdup("web.shop.svc");
	names.v[1].type = AGENT_SAN_IP;
	names.v[1].value = util_xstrdup("10.1.2.3");
	memcpy(names.v[1].ip, "\x0a\x01\x02\x03", 4);
	names.v[1].ip_len = 4;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	if (size < 1)
		return 0;
	setup();
	uint8_t mode = data[0] % 3;
	const char *in = (const char *)data + 1;
	size_t len = size - 1;

	if (mode == 0) {
		json_t *obj = json_loadb(in, len, 0, NULL);
		if (obj != NULL) {
			struct agent_csr_status st;
			if (agent_csr_status_read(obj, &st, err, sizeof(err)) == 0) {
				if ((st.state == AGENT_CSR_ISSUED) != (st.cert_pem != NULL))
					__builtin_trap();
				if (st.message != NULL)
					for (const char *p = st.message; *p; p++)
						if ((unsigned char)*p < 0x20 || *p == 0x7f)
							__builtin_trap();
				agent_csr_status_clear(&st);
			}
			json_decref(obj);
		}
	} else if (mode == 1) {
		char *pem = NULL;
		size_t plen = 0, count = 0;
		if (agent_trust_bundles_read(in, len, "example.com/mtls", &pem, &plen, &count, err,
		                             sizeof(err)) == 0) {
			if ((count == 0) != (pem == NULL) || plen > AGENT_MAX_PEM)
				__builtin_trap();
			free(pem);
		}
	} else {
		/* Split the input: the certificate chain, then the CA bundle. */
		const char *sep = memchr(in, '\0', len);
		size_t clen = sep ? (size_t)(sep - in) : len;
		const char *ca = sep ? sep + 1 : "";
		size_t calen = sep ? len - clen - 1 : 0;
		struct agent_cert_times t;
		(void)agent_cert_check(in, clen, key, &names, 1800000000, &t, err, sizeof(err));
		(void)agent_cert_verify_chain(in, clen, ca, calen, 1800000000, err, sizeof(err));
	}
	return 0;
}
