#!/usr/bin/env bash
# csr-approver run with client policies (people asking, with kubectl, for a
# client certificate of their own identity) against the real control plane.
# The people authenticate with client certificates this suite makes from
# the cluster CA, so spec.username and spec.groups of their CSRs are the
# API server's own:
#
#   - alice (users "*@example.com", group developers) asks for her own name
#     and group under kubernetes.io/kube-apiserver-client: approved,
#     kube-controller-manager signs it, and the kubeconfig built from it as
#     docs/self-service.md says makes `kubectl auth whoami` print alice and
#     developers; the certificate lives no longer than expirationSeconds;
#   - carol, who may self-serve through her group "oncall": approved;
#   - alice asking for bob's CN, for a group she is not in, for
#     system:masters, without expirationSeconds; mallory, outside
#     requesters; a service account: each Denied with the SPEC reason and a
#     message naming the check;
#   - system:masters under kube-apiserver-client is refused by the API
#     server's CertificateSubjectRestriction admission plugin at create
#     time, so it is also asked under a custom signer with its own client
#     policy, where csr-approver denies it.
#
# CSR_APPROVER_BIN chooses the binary (e.g. build/asan/csr-approver).
set -uo pipefail

# shellcheck source=tests/integration/controller-lib.bash
source "$(dirname "${BASH_SOURCE[0]}")/controller-lib.bash"
ctl_setup client

tmp=$T_TMP
CL=kubernetes.io/kube-apiserver-client
SELF=$IT_RUN.example.com/self-service
CUSAGES="digital signature,key encipherment,client auth"
# Names unique to the run: CSRs of earlier runs may still be around.
alice=alice.$IT_RUN@example.com
bob=bob.$IT_RUN@example.com
mallory=mallory.$IT_RUN@evil.test
carol=carol-$IT_RUN

# ---------------------------------------------------------------- people
k8s_client_kubeconfig "$tmp/alice.kubeconfig" "$alice" developers >/dev/null ||
	t_abort "a client certificate for alice"
k8s_client_kubeconfig "$tmp/mallory.kubeconfig" "$mallory" developers >/dev/null ||
	t_abort "a client certificate for mallory"
k8s_client_kubeconfig "$tmp/carol.kubeconfig" "$carol" oncall developers >/dev/null ||
	t_abort "a client certificate for carol"
k8s_sa_create "$IT_NS" ci
k8s_token_kubeconfig "$(k8s_token "$IT_NS" ci)" "$tmp/ci.kubeconfig" ||
	t_abort "a token for service account ci"
k8s_allow_csr_create "$IT_RUN-csr-create" "$IT_LABEL_KEY=$IT_RUN" \
	"user:$alice" "user:$mallory" "user:$carol" "sa:$IT_NS:ci" ||
	t_abort "RBAC: people may create CSRs"

# ---------------------------------------------------------------- the controller
cat >"$tmp/policy.yaml" <<EOF
policies:
  - name: self-service
    signerName: $CL
    type: client
    requesters: {users: ["*@example.com"], groups: ["oncall"]}
    allowedGroups: ["developers", "sre-*"]
  - name: self-service-custom
    signerName: $SELF
    type: client
    requesters: {users: ["*@example.com"]}
    allowedGroups: ["developers"]
EOF
bin=$(ctl_bin)
"$bin" check --config "$tmp/policy.yaml" >"$tmp/check.out" 2>&1
t_eq "the policy file loads" 0 "$?"
ctl_kc=$(ctl_identity "$IT_RUN-approver" "$CL" "$SELF")
[[ -n $ctl_kc ]] || t_abort "controller identity with its RBAC"
if ctl_start main --kubeconfig "$ctl_kc" --config "$tmp/policy.yaml" --identity "it-$IT_RUN" \
	--metrics-bind-address 0 --health-probe-bind-address 0 -v debug; then
	t_ok "controller starts and syncs its caches"
else
	t_abort "controller starts and syncs its caches" "$(tail -n 20 "$(ctl_log main)")"
fi

# ---------------------------------------------------------------- the CSRs
# ucsr NAME KUBECONFIG SIGNER SUBJ USAGES EXPIRATION: a person's CSR, made
# with openssl and kubectl as docs/self-service.md shows.
ucsr() {
	k8s_gen_csr "$tmp/$1.key" "$tmp/$1.csr" "$4" || return 1
	it_as "$2" k8s_csr_create "$IT_RUN-$1" "$3" "$tmp/$1.csr" "$5" "$6" "$IT_LABEL"
}

ucsr alice-own "$tmp/alice.kubeconfig" "$CL" "/CN=$alice/O=developers" "$CUSAGES" 3600 ||
	t_fail "create CSR alice-own"
ucsr carol-own "$tmp/carol.kubeconfig" "$CL" "/CN=$carol/O=developers" "digital signature,client auth" 1800 ||
	t_fail "create CSR carol-own"
ucsr alice-as-bob "$tmp/alice.kubeconfig" "$CL" "/CN=$bob/O=developers" "$CUSAGES" 3600 ||
	t_fail "create CSR alice-as-bob"
ucsr alice-foreign-group "$tmp/alice.kubeconfig" "$CL" "/CN=$alice/O=sre-prod" "$CUSAGES" 3600 ||
	t_fail "create CSR alice-foreign-group"
ucsr alice-no-expiration "$tmp/alice.kubeconfig" "$CL" "/CN=$alice" "$CUSAGES" "" ||
	t_fail "create CSR alice-no-expiration"
ucsr mallory-own "$tmp/mallory.kubeconfig" "$CL" "/CN=$mallory/O=developers" "$CUSAGES" 3600 ||
	t_fail "create CSR mallory-own"
ucsr ci-own "$tmp/ci.kubeconfig" "$CL" "/CN=system:serviceaccount:$IT_NS:ci" "$CUSAGES" 3600 ||
	t_fail "create CSR ci-own"

# system:masters: the API server's CertificateSubjectRestriction refuses it
# for kube-apiserver-client at create; under the custom signer it reaches
# csr-approver.
k8s_gen_csr "$tmp/masters.key" "$tmp/masters.csr" "/CN=$alice/O=system:masters"
masters_on_cl=no
if out=$(it_as "$tmp/alice.kubeconfig" k8s_csr_create "$IT_RUN-alice-masters-cl" "$CL" \
	"$tmp/masters.csr" "$CUSAGES" 3600 "$IT_LABEL" 2>&1); then
	masters_on_cl=yes
	t_skip "the API server refuses system:masters for $CL" "admitted; csr-approver must deny it"
elif [[ $out == *system:masters* ]]; then
	t_ok "the API server refuses O=system:masters for $CL at create (CertificateSubjectRestriction)"
else
	t_fail "the API server refuses O=system:masters for $CL at create" "$out"
fi
it_as "$tmp/alice.kubeconfig" k8s_csr_create "$IT_RUN-alice-masters" "$SELF" "$tmp/masters.csr" \
	"$CUSAGES" 3600 "$IT_LABEL" || t_fail "create CSR alice-masters"

t_eq "spec.username is the API server's: alice" "$alice" "$(k8s_csr_field "$IT_RUN-alice-as-bob" '{.spec.username}')"

# ---------------------------------------------------------------- decisions
expect() { # CSR WANT
	t_eq "$1: $2" "$2" "$(ctl_wait_decided "$IT_RUN-$1" 20)"
}
# message CSR SUBSTRING: the condition's message names the check.
message() {
	local m
	m=$(kubectl get csr "$IT_RUN-$1" -o jsonpath='{.status.conditions[?(@.type=="Denied")].message}')
	if [[ $m == "csr-approver: policy self-service"* && $m == *"$2"* ]]; then
		t_ok "$1: the message names the check ($2)"
	else
		t_fail "$1: the message names the check" "want \"$2\" in: $m"
	fi
}

expect alice-own Approved:AutoApproved
expect carol-own Approved:AutoApproved
expect alice-as-bob Denied:SubjectNotAllowed
message alice-as-bob "subject CN \"$bob\" is not the requester \"$alice\""
expect alice-foreign-group Denied:SubjectNotAllowed
message alice-foreign-group "subject O \"sre-prod\" is not a group of the requester"
expect alice-masters Denied:SubjectNotAllowed
message alice-masters "subject O \"system:masters\" is not allowed"
if [[ $masters_on_cl == yes ]]; then
	expect alice-masters-cl Denied:SubjectNotAllowed
fi
expect alice-no-expiration Denied:ExpirationNotAllowed
message alice-no-expiration "spec.expirationSeconds is not set"
expect mallory-own Denied:RequesterNotAllowed
message mallory-own "requester \"$mallory\" and its groups match no entry of requesters"
expect ci-own Denied:RequesterNotAllowed
message ci-own "is a service account (allowServiceAccounts is false)"

# Denied stays denied: nobody got a certificate for another name.
for c in alice-as-bob alice-foreign-group alice-masters mallory-own ci-own; do
	t_eq "$c: no certificate" "" "$(k8s_csr_field "$IT_RUN-$c" '{.status.certificate}')"
done

# ---------------------------------------------------------------- alice uses her certificate
if k8s_csr_wait_cert "$IT_RUN-alice-own" "$tmp/alice-own.crt" 30; then
	t_ok "alice-own: kube-controller-manager issued the certificate"
else
	t_fail "alice-own: kube-controller-manager issued the certificate" \
		"$(kubectl get csr "$IT_RUN-alice-own" -o yaml 2>&1 | tail -n 15)"
fi
t_check "alice-own: the certificate verifies against the cluster CA" \
	openssl verify -CAfile "$CSR_APPROVER_CA_CERT" "$tmp/alice-own.crt"
# subject CERT: its attributes, one per line, sorted (the signer picks the order).
subject() {
	openssl x509 -in "$1" -noout -subject -nameopt RFC2253,sep_multiline 2>&1 |
		sed 's/^subject=//; s/^ *//' | grep -v '^$' | sort | paste -sd' '
}
t_eq "alice-own: the certificate's subject is hers" "CN=$alice O=developers" \
	"$(subject "$tmp/alice-own.crt")"
end=$(date -d "$(openssl x509 -in "$tmp/alice-own.crt" -noout -enddate | cut -d= -f2)" +%s)
left=$((end - $(date +%s)))
if ((left > 0 && left <= 3600)); then
	t_ok "alice-own: it lives no longer than expirationSeconds (${left}s left)"
else
	t_fail "alice-own: it lives no longer than expirationSeconds" "${left}s left"
fi

# The kubeconfig of docs/self-service.md: the cluster of the kubeconfig she
# used, her new key and certificate.
new=$tmp/alice-issued.kubeconfig
{
	kubectl --kubeconfig "$new" config set-cluster local --server="$CSR_APPROVER_APISERVER" \
		--certificate-authority="$CSR_APPROVER_CA_CERT" --embed-certs=true &&
		kubectl --kubeconfig "$new" config set-credentials "$alice" \
			--client-certificate="$tmp/alice-own.crt" --client-key="$tmp/alice-own.key" \
			--embed-certs=true &&
		kubectl --kubeconfig "$new" config set-context "$alice" --cluster=local --user="$alice" &&
		kubectl --kubeconfig "$new" config use-context "$alice"
} >"$tmp/kubeconfig.log" 2>&1 || t_fail "a kubeconfig from the issued certificate" "$(cat "$tmp/kubeconfig.log")"
if kubectl --kubeconfig "$new" auth whoami -o json >"$tmp/whoami.json" 2>&1; then
	t_eq "kubectl auth whoami with the new kubeconfig: username" "$alice" \
		"$(jq -r .status.userInfo.username "$tmp/whoami.json")"
	t_eq "kubectl auth whoami with the new kubeconfig: groups" "developers system:authenticated" \
		"$(jq -r '.status.userInfo.groups | join(" ")' "$tmp/whoami.json")"
else
	t_fail "kubectl auth whoami with the new kubeconfig" "$(cat "$tmp/whoami.json")"
fi

if k8s_csr_wait_cert "$IT_RUN-carol-own" "$tmp/carol-own.crt" 30; then
	t_eq "carol-own: issued, for her name and developers only" "CN=$carol O=developers" \
		"$(subject "$tmp/carol-own.crt")"
else
	t_fail "carol-own: kube-controller-manager issued the certificate"
fi

# ---------------------------------------------------------------- the log
log=$(ctl_log main)
t_check "the log has one decided line for alice-own" \
	test "$(ctl_decided_lines "$IT_RUN-alice-own" "$log")" -ge 1
ctl_stop main
t_eq "SIGTERM exits 0" 0 "$?"
report=$(ctl_sanitizer_report main)
t_eq "no sanitizer report" "" "$report"

t_done
