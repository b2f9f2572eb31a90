#!/usr/bin/env bash
# The service-account token rotated under a running csr-approver, the old
# one revoked: the controller runs as a ServiceAccount with a kubeconfig
# whose tokenFile holds a token bound to a Secret (as projected tokens are
# bound to their pod). A new token is written into the file, then the
# Secret is deleted, which revokes the old token at once (the API server
# answers 401 to it). The controller must keep deciding: its next request
# gets 401, it re-reads the file, and retries with the new token
# (pkg/kube/kubetoken.c, the retried_auth path of pkg/kube/kubeclient.c).
# Then: nothing lost, nothing decided twice, nothing wrongly approved.
# CSR_APPROVER_BIN chooses the binary.
set -uo pipefail

# shellcheck source=tests/faults/lib.bash
source "$(dirname "${BASH_SOURCE[0]}")/lib.bash"
flt_setup faults-token

flt_sa_identity approver || t_abort "ServiceAccount approver with its rights"
tok1=$(flt_sa_token approver tok-1) || t_abort "a token bound to Secret tok-1"
tok2=$(flt_sa_token approver tok-2) || t_abort "a token bound to Secret tok-2"
(umask 077 && printf '%s\n' "$tok1" >"$tmp/token")
flt_token_kubeconfig "$CSR_APPROVER_APISERVER" "$tmp/token" "$tmp/sa.kubeconfig"

# who TOKEN: the HTTP status of a request made with TOKEN
who() {
	curl -sS -o /dev/null -w '%{http_code}' --cacert "$CSR_APPROVER_CA_CERT" \
		-H "Authorization: Bearer $1" \
		"$CSR_APPROVER_APISERVER/apis/certificates.k8s.io/v1/certificatesigningrequests?limit=1"
}
t_eq "the first token is accepted" 200 "$(who "$tok1")"

mport=$(t_port)
ctl_start main --kubeconfig "$tmp/sa.kubeconfig" --config "$tmp/policy.yaml" \
	--health-probe-bind-address 0 --metrics-bind-address "127.0.0.1:$mport" ||
	t_abort "controller starts" "$(tail -n 20 "$(ctl_log main)")"
ctl_burst before 6
ctl_check before 6 60 "$(ctl_log main)"

# ---------------------------------------------------------------- rotate, then revoke
(umask 077 && printf '%s\n' "$tok2" >"$tmp/token.new" && mv "$tmp/token.new" "$tmp/token")
kubectl delete secret tok-1 -n "$IT_NS" >/dev/null
# shellcheck disable=SC2317 # called through k8s_wait
revoked() { [[ $(who "$tok1") == 401 ]]; }
if k8s_wait 30 revoked; then
	t_ok "deleting the Secret revoked the old token (401)"
else
	t_fail "deleting the Secret revoked the old token (401)" "HTTP $(who "$tok1")"
fi
t_eq "the new token is accepted" 200 "$(who "$tok2")"

ctl_burst after 9
ctl_check after 9 60 "$(ctl_log main)"
if grep -q 'API server answered 401; re-reading the token file' "$(ctl_log main)"; then
	t_ok "the controller met the revocation (401), re-read the token file and went on"
else
	t_fail "the controller met the revocation (401) and re-read the token file" \
		"$(grep -E '401|token' "$(ctl_log main)" | tail -n 5)"
fi
t_check "a 401 is counted in csr_approver_api_requests_total" \
	bash -c "curl -fsS http://127.0.0.1:$mport/metrics | grep -qE '^csr_approver_api_requests_total\{.*code=\"401\"\} [1-9]'"
t_eq "no request failed for want of a token" 0 \
	"$(grep -cE 'approval write (failed|forbidden)' "$(ctl_log main)")"
t_check "the controller still runs" ctl_running main
ctl_stop main
t_eq "SIGTERM exits 0" 0 "$?"
t_eq "no sanitizer report" "" "$(ctl_sanitizer_report main)"
t_done
