/*
 * What the agent sends to the API server and how it reads the answers.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "../../../pkg/agent/agent.h"

Test(agent_api, csr_body)
{
	const char *pem = "-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE "
	                  "REQUEST-----\n";
	char *body = agent_csr_body("web-0-", "example.com/mtls", pem, strlen(pem),
	                            AGENT_KEY_ECDSA_P256, 86400);
	json_t *o = json_loads(body, 0, NULL);
	cr_assert_not_null(o, "%s", body);
	cr_assert_str_eq(json_string_value(json_object_get(o, "apiVersion")),
	                 "certificates.k8s.io/v1");
	cr_assert_str_eq(json_string_value(json_object_get(o, "kind")),
	                 "CertificateSigningRequest");
	const json_t *meta = json_object_get(o, "metadata");
	cr_assert_str_eq(json_string_value(json_object_get(meta, "generateName")), "web-0-");
	cr_assert_null(json_object_get(meta, "name"));
	const json_t *spec = json_object_get(o, "spec");
	cr_assert_str_eq(json_string_value(json_object_get(spec, "signerName")),
	                 "example.com/mtls");
	cr_assert_eq(json_integer_value(json_object_get(spec, "expirationSeconds")), 86400);
	const char *req = json_string_value(json_object_get(spec, "request"));
	char *dec = NULL;
	size_t dlen = 0;
	cr_assert_eq(util_base64_decode(req, strlen(req), UTIL_B64_CANONICAL, 4096, &dec, &dlen),
	             0);
	cr_assert_str_eq(dec, pem);
	free(dec);
	const json_t *u = json_object_get(spec, "usages");
	cr_assert_eq(json_array_size(u), 3);
	cr_assert_str_eq(json_string_value(json_array_get(u, 0)), "digital signature");
	cr_assert_str_eq(json_string_value(json_array_get(u, 1)), "client auth");
	cr_assert_str_eq(json_string_value(json_array_get(u, 2)), "server auth");
	json_decref(o);
	free(body);

	/* RSA keys also ask for key encipherment; every base64 length. */
	for (size_t n = 0; n < 4; n++) {
		body = agent_csr_body("p-", "a/b", "abc", n, AGENT_KEY_RSA_2048, 600);
		o = json_loads(body, 0, NULL);
		spec = json_object_get(o, "spec");
		u = json_object_get(spec, "usages");
		cr_assert_eq(json_array_size(u), 4);
		cr_assert_str_eq(json_string_value(json_array_get(u, 1)), "key encipherment");
		req = json_string_value(json_object_get(spec, "request"));
		const char *want[] = {"", "YQ==", "YWI=", "YWJj"};
		cr_assert_str_eq(req, want[n]);
		json_decref(o);
		free(body);
	}
}

Test(agent_api, created)
{
	char name[64], rv[32];
	const char *b = "{\"metadata\":{\"name\":\"web-0-x7k2p\",\"resourceVersion\":\"4821\"}}";
	cr_assert_eq(agent_created_read(b, strlen(b), name, sizeof(name), rv, sizeof(rv)), 0);
	cr_assert_str_eq(name, "web-0-x7k2p");
	cr_assert_str_eq(rv, "4821");
	const char *bad[] = {"", "[]", "{\"metadata\":{\"name\":\"x\"}}",
	                     "{\"metadata\":{\"name\":7,\"resourceVersion\":\"1\"}}",
	                     "{\"metadata\":{\"name\":\"\",\"resourceVersion\":\"1\"}}"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(
		    agent_created_read(bad[i], strlen(bad[i]), name, sizeof(name), rv, sizeof(rv)),
		    -1, "%s", bad[i]);
	/* Too long for the buffer. */
	cr_assert_eq(agent_created_read(b, strlen(b), name, 5, rv, sizeof(rv)), -1);
}

static int status_of(const char *json, struct agent_csr_status *st, char *err, size_t errlen)
{
	json_t *o = json_loads(json, 0, NULL);
	cr_assert_not_null(o, "%s", json);
	int rc = agent_csr_status_read(o, st, err, errlen);
	json_decref(o);
	return rc;
}

Test(agent_api, status_states)
{
	struct agent_csr_status st;
	char err[256];

	cr_assert_eq(status_of("{\"metadata\":{\"name\":\"x\"}}", &st, err, sizeof(err)), 0);
	cr_assert_eq(st.state, AGENT_CSR_PENDING);
	agent_csr_status_clear(&st);

	cr_assert_eq(status_of("{\"status\":{\"conditions\":[{\"type\":\"Approved\",\"status\":"
	                       "\"True\"}]}}",
	                       &st, err, sizeof(err)),
	             0);
	cr_assert_eq(st.state, AGENT_CSR_APPROVED);
	agent_csr_status_clear(&st);

	/* "LS0t" is base64 of "---". */
	cr_assert_eq(status_of("{\"status\":{\"certificate\":\"LS0t\",\"conditions\":[{\"type\":"
	                       "\"Approved\",\"status\":\"True\"}]}}",
	                       &st, err, sizeof(err)),
	             0, "%s", err);
	cr_assert_eq(st.state, AGENT_CSR_ISSUED);
	cr_assert_eq(st.cert_len, 3);
	cr_assert_str_eq(st.cert_pem, "---");
	agent_csr_status_clear(&st);

	/* A certificate without approval is not an issuance. */
	cr_assert_eq(status_of("{\"status\":{\"certificate\":\"LS0t\"}}", &st, err, sizeof(err)),
	             0);
	cr_assert_eq(st.state, AGENT_CSR_PENDING);
	agent_csr_status_clear(&st);

	/* status False does not count. */
	cr_assert_eq(status_of("{\"status\":{\"conditions\":[{\"type\":\"Denied\",\"status\":"
	                       "\"False\"}]}}",
	                       &st, err, sizeof(err)),
	             0);
	cr_assert_eq(st.state, AGENT_CSR_PENDING);
	agent_csr_status_clear(&st);

	cr_assert_eq(status_of("{\"status\":{\"conditions\":[{\"type\":\"Approved\",\"status\":"
	                       "\"True\"},{\"type\":\"Failed\",\"status\":\"True\",\"reason\":"
	                       "\"SignerError\",\"message\":\"CA expired\"}],\"certificate\":"
	                       "\"LS0t\"}}",
	                       &st, err, sizeof(err)),
	             0);
	cr_assert_eq(st.state, AGENT_CSR_FAILED);
	cr_assert_str_eq(st.reason, "SignerError");
	cr_assert_str_eq(st.message, "CA expired");
	cr_assert_null(st.cert_pem);
	agent_csr_status_clear(&st);

	cr_assert_eq(status_of("{\"status\":{\"conditions\":[{\"type\":\"Failed\",\"status\":"
	                       "\"True\"},{\"type\":\"Denied\",\"status\":\"True\",\"reason\":"
	                       "\"SANNotAllowed\",\"message\":\"m\"}]}}",
	                       &st, err, sizeof(err)),
	             0);
	cr_assert_eq(st.state, AGENT_CSR_DENIED);
	cr_assert_str_eq(st.reason, "SANNotAllowed");
	agent_csr_status_clear(&st);
}

Test(agent_api, status_message_is_made_printable)
{
	struct agent_csr_status st;
	char err[256];
	/* ESC, a newline, a C1 control (U+009B, CSI) and a long tail. */
	struct util_buf b = {0};
	util_buf_puts(&b,
	              "{\"status\":{\"conditions\":[{\"type\":\"Denied\",\"status\":\"True\","
	              "\"reason\":\"R\\u001b[31m\",\"message\":\"a\\u001b[2Jb\\nc\\u009bd ");
	for (int i = 0; i < 2000; i++)
		util_buf_puts(&b, "\\u00e9"); /* two bytes each in UTF-8 */
	util_buf_puts(&b, "\"}]}}");
	cr_assert_eq(status_of(b.data, &st, err, sizeof(err)), 0);
	cr_assert_str_eq(st.reason, "R [31m");
	cr_assert(util_has_prefix(st.message, "a [2Jb c d \xc3\xa9"), "%s", st.message);
	size_t n = strlen(st.message);
	cr_assert(n <= 1024 + 3, "%zu", n);
	cr_assert_str_eq(st.message + n - 3, "...");
	/* Cut at a character boundary. */
	cr_assert_eq((unsigned char)st.message[n - 4], 0xa9);
	agent_csr_status_clear(&st);
	util_buf_reset(&b);
}

Test(agent_api, status_malformed)
{
	struct agent_csr_status st;
	char err[256];
	cr_assert_eq(status_of("[]", &st, err, sizeof(err)), -1);
	cr_assert_eq(status_of("{\"status\":[]}", &st, err, sizeof(err)), -1);
	cr_assert_eq(status_of("{\"status\":{\"conditions\":{}}}", &st, err, sizeof(err)), -1);
	cr_assert_str_eq(err, "the CSR's status.conditions is not a list");
	const char *approved = "\"conditions\":[{\"type\":\"Approved\",\"status\":\"True\"}]";
	char *j = util_xasprintf("{\"status\":{%s,\"certificate\":\"***\"}}", approved);
	cr_assert_eq(status_of(j, &st, err, sizeof(err)), -1);
	cr_assert_str_eq(err, "the CSR's status.certificate is not base64");
	free(j);
	j = util_xasprintf("{\"status\":{%s,\"certificate\":7}}", approved);
	cr_assert_eq(status_of(j, &st, err, sizeof(err)), -1);
	free(j);
	/* An empty certificate is none yet. */
	j = util_xasprintf("{\"status\":{%s,\"certificate\":\"\"}}", approved);
	cr_assert_eq(status_of(j, &st, err, sizeof(err)), 0);
	cr_assert_eq(st.state, AGENT_CSR_APPROVED);
	agent_csr_status_clear(&st);
	free(j);
	/* Conditions that are not objects are skipped. */
	cr_assert_eq(
	    status_of("{\"status\":{\"conditions\":[7,{},{\"type\":3}]}}", &st, err, sizeof(err)),
	    0);
	cr_assert_eq(st.state, AGENT_CSR_PENDING);
	agent_csr_status_clear(&st);
}

Test(agent_api, trust_bundles)
{
	char *pem = NULL, err[256];
	size_t len, count;
	const char *list =
	    "{\"kind\":\"ClusterTrustBundleList\",\"items\":["
	    "{\"metadata\":{\"name\":\"example.com:mtls:z\"},\"spec\":{\"signerName\":"
	    "\"example.com/mtls\",\"trustBundle\":\"Z\\n\"}},"
	    "{\"metadata\":{\"name\":\"other\"},\"spec\":{\"signerName\":\"example.com/other\","
	    "\"trustBundle\":\"O\\n\"}},"
	    "{\"metadata\":{\"name\":\"plain\"},\"spec\":{\"trustBundle\":\"P\\n\"}},"
	    "{\"metadata\":{\"name\":\"example.com:mtls:a\"},\"spec\":{\"signerName\":"
	    "\"example.com/mtls\",\"trustBundle\":\"A\"}}]}";
	cr_assert_eq(agent_trust_bundles_read(list, strlen(list), "example.com/mtls", &pem, &len,
	                                      &count, err, sizeof(err)),
	             0, "%s", err);
	cr_assert_eq(count, 2);
	cr_assert_str_eq(pem, "A\nZ\n");
	cr_assert_eq(len, 4);
	free(pem);

	const char *none = "{\"kind\":\"ClusterTrustBundleList\",\"items\":[]}";
	cr_assert_eq(agent_trust_bundles_read(none, strlen(none), "example.com/mtls", &pem, &len,
	                                      &count, err, sizeof(err)),
	             0);
	cr_assert_eq(count, 0);
	cr_assert_null(pem);

	const char *bad[] = {"", "[]", "{\"items\":{}}",
	                     ("{\"items\":[{\"metadata\":{\"name\":\"a\"},\"spec\":{\"signerName\":"
	                      "\"example.com/mtls\",\"trustBundle\":7}}]}")};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(agent_trust_bundles_read(bad[i], strlen(bad[i]), "example.com/mtls",
		                                      &pem, &len, &count, err, sizeof(err)),
		             -1, "%s", bad[i]);
}

Test(agent_api, trust_bundles_capped)
{
	char *pem = NULL, err[256];
	size_t len, count;
	struct util_buf b = {0};
	util_buf_puts(&b, "{\"items\":[");
	for (int i = 0; i < 3; i++) {
		util_buf_printf(
		    &b,
		    "%s{\"metadata\":{\"name\":\"n%d\"},\"spec\":{\"signerName\":\"a/b\","
		    "\"trustBundle\":\"",
		    i ? "," : "", i);
		for (int j = 0; j < 400 * 1024; j++)
			util_buf_putc(&b, 'x');
		util_buf_puts(&b, "\"}}");
	}
	util_buf_puts(&b, "]}");
	cr_assert_eq(
	    agent_trust_bundles_read(b.data, b.len, "a/b", &pem, &len, &count, err, sizeof(err)),
	    -1);
	cr_assert_str_eq(err, "the signer's ClusterTrustBundles exceed 1 MiB");
	util_buf_reset(&b);
}

Test(agent_api, forbidden_user)
{
	char user[64];
	cr_assert_eq(agent_forbidden_user("certificatesigningrequests.certificates.k8s.io is "
	                                  "forbidden: User \"system:serviceaccount:shop:web\" "
	                                  "cannot create resource \"certificatesigningrequests\"",
	                                  user, sizeof(user)),
	             0);
	cr_assert_str_eq(user, "system:serviceaccount:shop:web");
	cr_assert_eq(agent_forbidden_user("forbidden", user, sizeof(user)), -1);
	cr_assert_eq(agent_forbidden_user("User \"\"", user, sizeof(user)), -1);
	cr_assert_eq(agent_forbidden_user("User \"abc", user, sizeof(user)), -1);
	cr_assert_eq(agent_forbidden_user(NULL, user, sizeof(user)), -1);
	cr_assert_eq(agent_forbidden_user("User \"0123456789\"", user, 5), -1);
}
