#!/usr/bin/env bash
# csr-approver run under valgrind --leak-check=full: start, sync, decide a
# few CSRs (an approval, a denial, one after a SubjectAccessReview, one
# after a write conflict), SIGTERM. Passes when valgrind reports no error
# and no definitely or indirectly lost block, and the process exits 0.
# Uses the release build (build/csr-approver, or CSR_APPROVER_VALGRIND_BIN):
# valgrind cannot run the ASan build.
set -uo pipefail

# shellcheck source=tests/integration/controller-lib.bash
source "$(dirname "${BASH_SOURCE[0]}")/controller-lib.bash"
if ! command -v valgrind >/dev/null 2>&1; then
	t_abort "valgrind installed" "run hack/deps.sh"
fi
export CSR_APPROVER_BIN=${CSR_APPROVER_VALGRIND_BIN:-$T_ROOT/build/csr-approver}
ctl_setup controller-valgrind

A=$IT_NS
tmp=$T_TMP
NODE=$IT_RUN-node
t_on_exit kubectl delete node "$NODE" --wait=false

ctl_workload_world "$A" 10.244.5.10 "$tmp"
k8s_client_kubeconfig "$tmp/node.kubeconfig" "system:node:$NODE" system:nodes >/dev/null
k8s_gen_csr "$tmp/kc.key" "$tmp/kc.csr" "/O=system:nodes/CN=system:node:$NODE"
cat >>"$tmp/policy.yaml" <<EOF2
  - name: kubelet-client
    signerName: kubernetes.io/kube-apiserver-client-kubelet
    type: kubelet-client
EOF2
ctl_kc=$(ctl_identity "$IT_RUN-approver" "$W" kubernetes.io/kube-apiserver-client-kubelet)

vlog=$tmp/valgrind.txt
CTL_WRAP="valgrind --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect --error-exitcode=99 --log-file=$vlog" \
	CTL_START_TIMEOUT=120 ctl_start vg --kubeconfig "$ctl_kc" --config "$tmp/policy.yaml" \
	--metrics-bind-address "127.0.0.1:$(t_port)" --health-probe-bind-address 0 --write-delay=2s -v debug
t_eq "starts and syncs under valgrind" 0 "$?"

mk() { # NAME FILE SIGNER USAGES KUBECONFIG
	it_as "$5" k8s_csr_create "$IT_RUN-$1" "$3" "$tmp/$2.csr" "$4" "" "$IT_LABEL"
}
mk good good "$W" "$WUSAGES" "$tmp/web.kubeconfig"
mk bad bad "$W" "$WUSAGES" "$tmp/web.kubeconfig"
mk client kc kubernetes.io/kube-apiserver-client-kubelet "digital signature,client auth" "$tmp/node.kubeconfig"
mk conflict good "$W" "$WUSAGES" "$tmp/web.kubeconfig"
ctl_wait_log vg "holding the approval write.*$IT_RUN-conflict" 30 &&
	kubectl label csr "$IT_RUN-conflict" it.example.com/touched=yes >/dev/null
t_eq "good: approved" Approved:AutoApproved "$(ctl_wait_decided "$IT_RUN-good" 60)"
t_eq "bad: denied" Denied:SANNotAllowed "$(ctl_wait_decided "$IT_RUN-bad" 60)"
t_eq "client: approved after a SubjectAccessReview" Approved:AutoApproved "$(ctl_wait_decided "$IT_RUN-client" 60)"
t_eq "conflict: approved after a 409" Approved:AutoApproved "$(ctl_wait_decided "$IT_RUN-conflict" 60)"
# Each decision's Event written before the stop, so their requests are freed
# on the way rather than cancelled.
# shellcheck disable=SC2317 # called through k8s_wait
events_out() {
	local c
	for c in good bad client conflict; do
		[[ -n $(kubectl get events -n default --field-selector "involvedObject.name=$IT_RUN-$c" -o name) ]] ||
			return 1
	done
}
k8s_wait 60 events_out
t_eq "an Event for each decision" 0 "$?"
ctl_stop vg 120
rc=$?
t_eq "SIGTERM: exits 0 (99 would be a valgrind error)" 0 "$rc"
summary=$(grep -E 'in use at exit|All heap blocks|ERROR SUMMARY|definitely lost|indirectly lost|possibly lost|still reachable' "$vlog")
while IFS= read -r line; do
	echo "# valgrind: ${line#==*== }"
done <<<"$summary"
grep -q "approval write conflict.*$IT_RUN-conflict" "$(ctl_log vg)"
t_eq "the conflict path ran (409, re-read)" 0 "$?"
if grep -q 'ERROR SUMMARY: 0 errors' "$vlog"; then
	t_ok "valgrind: no errors"
else
	t_fail "valgrind: no errors" "$(grep -A20 -E 'Invalid|uninitialised|definitely lost in' "$vlog" | head -n 60)"
fi
if grep -qE 'definitely lost: [1-9]|indirectly lost: [1-9]' "$vlog"; then
	t_fail "valgrind: nothing lost" "$summary"
else
	t_ok "valgrind: nothing lost"
fi

t_done
