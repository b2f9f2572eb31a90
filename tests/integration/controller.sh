#!/usr/bin/env bash
# csr-approver run against the real control plane (hack/cluster.sh): the
# decisions of SPEC.md, live. The controller runs with a client certificate
# identity that holds only the RBAC it needs.
#
#   - workload CSRs made with pod-bound tokens: the pod's SPIFFE ID, IP, pod
#     DNS, hostname and service names are approved; spoofed SANs, another
#     namespace's names, an excluded namespace, an unbound token, a deleted
#     pod, a pod recreated with another uid are denied with the SPEC reason;
#     a pod whose status (IP) arrives after the controller judged the CSR
#     (and said it waits for it) is approved;
#   - kubelet-serving (node identity): approved and signed by
#     kube-controller-manager; a foreign IP and an unknown node denied;
#   - kubelet-client: the node itself and the bootstrap identity approved
#     after a real SubjectAccessReview; a user without the right denied
#     NotAuthorized;
#   - CSRs of other signers, and CSRs decided by hand, untouched;
#   - --dry-run writes nothing; Events, metrics and probes; clean SIGTERM.
#
# CSR_APPROVER_BIN chooses the binary (e.g. build/asan/csr-approver).
set -uo pipefail

# shellcheck source=tests/integration/controller-lib.bash
source "$(dirname "${BASH_SOURCE[0]}")/controller-lib.bash"
ctl_setup controller

A=$IT_NS
B=$IT_NS-b
tmp=$T_TMP
W=$IT_RUN.example.com/workload
NODE=$IT_RUN-node
GHOST=$IT_RUN-ghost
user=$IT_RUN-user

# No kubelet confirms graceful pod deletions: force them, or the namespace
# stays Terminating.
t_on_exit kubectl delete namespace "$B" --wait=false
t_on_exit kubectl delete pods --all -n "$B" --grace-period=0 --force
t_on_exit kubectl delete node "$NODE" --wait=false

bin=$(ctl_bin)

# ---------------------------------------------------------------- flags
"$bin" run --bogus >"$tmp/flags.out" 2>&1
rc=$?
t_eq "run: unknown flag exits 2" 2 "$rc"
"$bin" run --leader-elect --leader-elect-renew-deadline=20s >"$tmp/flags.out" 2>&1
t_eq "run: lease duration <= renew deadline exits 2" 2 "$?"
"$bin" run --config "$tmp/nope.yaml" >"$tmp/flags.out" 2>&1
rc=$?
if [[ $rc == 2 ]] && grep -q nope.yaml "$tmp/flags.out"; then
	t_ok "run: unreadable --config exits 2 naming the file"
else
	t_fail "run: unreadable --config exits 2 naming the file" "rc=$rc $(cat "$tmp/flags.out")"
fi

# ---------------------------------------------------------------- world
k8s_ns_create "$B" >/dev/null
k8s_allow_csr_create "$IT_RUN-csr-create" "$IT_LABEL_KEY=$IT_RUN" \
	"group:system:serviceaccounts:$A" "group:system:serviceaccounts:$B" "user:$user"

k8s_node_create "$NODE" InternalIP=192.0.2.77 Hostname="$NODE" >/dev/null
k8s_sa_create "$A" web
k8s_sa_create "$B" web
kubectl create service clusterip web -n "$A" --tcp=443 >/dev/null
kubectl set selector service web -n "$A" app=web >/dev/null
kubectl create service clusterip web-hs -n "$A" --clusterip=None >/dev/null
kubectl create service clusterip web -n "$B" --tcp=443 >/dev/null
kubectl set selector service web -n "$B" app=web >/dev/null

k8s_pod_run "$A" web-0 10.244.1.10 -s web -n "$NODE" -l app=web -H web-0 -d web-hs >/dev/null
k8s_pod_run "$B" web-0 10.244.2.10 -s web -n "$NODE" -l app=web >/dev/null

# pod_kubeconfig NS POD: a kubeconfig with a token bound to the pod
pod_kubeconfig() {
	local t
	t=$(k8s_token "$1" web "$2" 1h) || return 1
	k8s_token_kubeconfig "$t" "$tmp/$1-$2.kubeconfig"
	echo "$tmp/$1-$2.kubeconfig"
}

WUSAGES="digital signature,key encipherment,client auth,server auth"
spiffe="spiffe://cluster.local/ns/$A/sa/web"
good_sans="URI:$spiffe,IP:10.244.1.10,DNS:web.$A.svc,DNS:web.$A.svc.cluster.local,DNS:10-244-1-10.$A.pod.cluster.local,DNS:web-0.web-hs.$A.svc.cluster.local"

# wcsr NAME KUBECONFIG SUBJ SANS: a workload CSR
wcsr() {
	k8s_gen_csr "$tmp/$1.key" "$tmp/$1.csr" "$3" "$4" || return 1
	it_as "$2" k8s_csr_create "$IT_RUN-$1" "$W" "$tmp/$1.csr" "$WUSAGES" 3600 "$IT_LABEL"
}

kc_web0=$(pod_kubeconfig "$A" web-0)

# ---------------------------------------------------------------- before the controller
# A pod that is gone by the time the CSR is judged (its token only works
# while it exists, so the CSR is made first).
k8s_pod_run "$A" gone-0 10.244.1.30 -s web -n "$NODE" >/dev/null
kc=$(pod_kubeconfig "$A" gone-0)
wcsr deleted-pod "$kc" "/CN=web.$A.svc" "URI:$spiffe,IP:10.244.1.30,DNS:web.$A.svc" || t_fail "create CSR deleted-pod"
kubectl delete pod gone-0 -n "$A" --grace-period=0 --force >/dev/null 2>&1

# A pod deleted and made again under the same name: another uid.
k8s_pod_run "$A" again-0 10.244.1.31 -s web -n "$NODE" >/dev/null
kc=$(pod_kubeconfig "$A" again-0)
wcsr uid-mismatch "$kc" "/CN=web.$A.svc" "URI:$spiffe,IP:10.244.1.31,DNS:web.$A.svc" || t_fail "create CSR uid-mismatch"
kubectl delete pod again-0 -n "$A" --grace-period=0 --force >/dev/null 2>&1
k8s_pod_run "$A" again-0 10.244.1.31 -s web -n "$NODE" >/dev/null

# Good CSRs decided by hand before the controller runs.
wcsr by-hand-approved "$kc_web0" "/CN=web.$A.svc" "URI:$spiffe,DNS:web.$A.svc" || t_fail "create CSR by-hand-approved"
wcsr by-hand-denied "$kc_web0" "/CN=web.$A.svc" "URI:$spiffe,DNS:web.$A.svc" || t_fail "create CSR by-hand-denied"
kubectl certificate approve "$IT_RUN-by-hand-approved" >/dev/null
kubectl certificate deny "$IT_RUN-by-hand-denied" >/dev/null

# A good CSR waiting for the controller.
wcsr early-good "$kc_web0" "/CN=web.$A.svc" "$good_sans" || t_fail "create CSR early-good"

# ---------------------------------------------------------------- the policy and the identity
cat >"$tmp/policy.yaml" <<EOF
clusterDomain: cluster.local
policies:
  - name: workload
    signerName: $W
    type: workload
    namespaces: ["$A", "$B"]
    excludeNamespaces: ["$B"]
  - name: kubelet-serving
    signerName: kubernetes.io/kubelet-serving
    type: kubelet-serving
  - name: kubelet-client
    signerName: kubernetes.io/kube-apiserver-client-kubelet
    type: kubelet-client
  - name: workload-lenient
    signerName: lenient.$W
    type: workload
    onFailure: leave-pending
    namespaces: ["$A"]
EOF
ctl_kc=$(ctl_identity "$IT_RUN-approver" "$W" "lenient.$W" kubernetes.io/kubelet-serving \
	kubernetes.io/kube-apiserver-client-kubelet)
if [[ -z $ctl_kc ]]; then
	t_abort "controller identity with its RBAC"
fi
port=$(t_port)
probe=$(t_port "$port")
common=(--kubeconfig "$ctl_kc" --config "$tmp/policy.yaml" --identity "it-$IT_RUN")

# ---------------------------------------------------------------- dry run
if ctl_start dry "${common[@]}" --dry-run --metrics-bind-address 0 --health-probe-bind-address 0; then
	t_ok "dry run: starts and syncs its caches"
else
	t_fail "dry run: starts and syncs its caches" "$(tail -n 20 "$(ctl_log dry)")"
fi
# Both judged (the log says so) before "writes nothing" is asked.
if ctl_wait_log dry "would approve.*$IT_RUN-early-good" 15 &&
	ctl_wait_log dry "would deny.*$IT_RUN-uid-mismatch" 15; then
	t_ok "dry run: logs what it would approve and deny"
else
	t_fail "dry run: logs what it would approve and deny" "$(grep -E 'would|error' "$(ctl_log dry)" | tail -n 5)"
fi
t_eq "dry run: writes nothing" "" \
	"$(ctl_conditions "$IT_RUN-early-good")$(ctl_conditions "$IT_RUN-uid-mismatch")"
ctl_stop dry
t_eq "dry run: SIGTERM exits 0" 0 "$?"

# ---------------------------------------------------------------- the controller
run_start=$SECONDS
started_at=$(date +%s)
if ctl_start main "${common[@]}" --metrics-bind-address "127.0.0.1:$port" \
	--health-probe-bind-address "127.0.0.1:$probe" -v debug; then
	t_ok "controller starts with least-privilege RBAC and syncs its caches"
else
	t_abort "controller starts with least-privilege RBAC and syncs its caches" \
		"$(tail -n 20 "$(ctl_log main)")"
fi
t_eq "readyz once synced" ok "$(curl -fsS "http://127.0.0.1:$probe/readyz" 2>&1)"
t_eq "healthz" ok "$(curl -fsS "http://127.0.0.1:$probe/healthz" 2>&1)"

# --- workload ---
wcsr good "$kc_web0" "/CN=web.$A.svc" "$good_sans" || t_fail "create CSR good"
wcsr spoofed "$kc_web0" "/CN=web.$A.svc" "URI:$spiffe,DNS:web.$A.svc,DNS:kubernetes.default.svc" ||
	t_fail "create CSR spoofed"
wcsr other-ns "$kc_web0" "/CN=web.$A.svc" "URI:$spiffe,DNS:web.$A.svc,DNS:web.$B.svc" ||
	t_fail "create CSR other-ns"
wcsr wrong-spiffe "$kc_web0" "/CN=web.$A.svc" "URI:spiffe://cluster.local/ns/$A/sa/admin,DNS:web.$A.svc" ||
	t_fail "create CSR wrong-spiffe"
t=$(k8s_token "$A" web "" 1h)
k8s_token_kubeconfig "$t" "$tmp/unbound.kubeconfig"
wcsr unbound "$tmp/unbound.kubeconfig" "/CN=web.$A.svc" "URI:$spiffe,DNS:web.$A.svc" || t_fail "create CSR unbound"
kc_b=$(pod_kubeconfig "$B" web-0)
wcsr excluded-ns "$kc_b" "/CN=web.$B.svc" "URI:spiffe://cluster.local/ns/$B/sa/web,DNS:web.$B.svc" ||
	t_fail "create CSR excluded-ns"

# The pod exists, but its status (IP) lags the CSR: written once the
# controller has judged the CSR and said it waits for it.
k8s_pod_create "$A" late-0 -s web -n "$NODE" -l app=web >/dev/null
kc=$(pod_kubeconfig "$A" late-0)
wcsr late-status "$kc" "/CN=web.$A.svc" "URI:$spiffe,IP:10.244.1.40,DNS:web.$A.svc" ||
	t_fail "create CSR late-status"
if ctl_wait_log main "waiting for an object the decision needs.*$IT_RUN-late-status" 15; then
	t_ok "late-status: the controller waits for the pod's IP"
else
	t_fail "late-status: the controller waits for the pod's IP" "$(grep late-status "$(ctl_log main)" | tail -n 3)"
fi
k8s_pod_set_status "$A" late-0 Running 10.244.1.40

# --- kubelet-serving ---
node_kc="$tmp/node.kubeconfig"
k8s_client_kubeconfig "$node_kc" "system:node:$NODE" system:nodes >/dev/null
ghost_kc="$tmp/ghost.kubeconfig"
k8s_client_kubeconfig "$ghost_kc" "system:node:$GHOST" system:nodes >/dev/null
k8s_client_kubeconfig "$tmp/user.kubeconfig" "$user" >/dev/null
SUSAGES="digital signature,key encipherment,server auth"
k8s_gen_csr "$tmp/ks.key" "$tmp/ks.csr" "/O=system:nodes/CN=system:node:$NODE" "DNS:$NODE,IP:192.0.2.77"
it_as "$node_kc" k8s_csr_create "$IT_RUN-serving" kubernetes.io/kubelet-serving "$tmp/ks.csr" \
	"$SUSAGES" "" "$IT_LABEL" || t_fail "create CSR serving"
k8s_gen_csr "$tmp/ksb.key" "$tmp/ksb.csr" "/O=system:nodes/CN=system:node:$NODE" "DNS:$NODE,IP:192.0.2.99"
it_as "$node_kc" k8s_csr_create "$IT_RUN-serving-foreign-ip" kubernetes.io/kubelet-serving \
	"$tmp/ksb.csr" "$SUSAGES" "" "$IT_LABEL" || t_fail "create CSR serving-foreign-ip"
k8s_gen_csr "$tmp/ksg.key" "$tmp/ksg.csr" "/O=system:nodes/CN=system:node:$GHOST" "DNS:$GHOST"
it_as "$ghost_kc" k8s_csr_create "$IT_RUN-serving-ghost" kubernetes.io/kubelet-serving \
	"$tmp/ksg.csr" "$SUSAGES" "" "$IT_LABEL" || t_fail "create CSR serving-ghost"

# --- kubelet-client ---
CUSAGES="digital signature,client auth"
k8s_gen_csr "$tmp/kc.key" "$tmp/kc.csr" "/O=system:nodes/CN=system:node:$NODE"
it_as "$node_kc" k8s_csr_create "$IT_RUN-client-self" kubernetes.io/kube-apiserver-client-kubelet \
	"$tmp/kc.csr" "$CUSAGES" "" "$IT_LABEL" || t_fail "create CSR client-self"
k8s_gen_csr "$tmp/kb.key" "$tmp/kb.csr" "/O=system:nodes/CN=system:node:$IT_RUN-new"
it_as "$CSR_APPROVER_BOOTSTRAP_KUBECONFIG" k8s_csr_create "$IT_RUN-client-bootstrap" \
	kubernetes.io/kube-apiserver-client-kubelet "$tmp/kb.csr" "$CUSAGES" "" "$IT_LABEL" ||
	t_fail "create CSR client-bootstrap"
k8s_gen_csr "$tmp/ku.key" "$tmp/ku.csr" "/O=system:nodes/CN=system:node:$NODE"
it_as "$tmp/user.kubeconfig" k8s_csr_create "$IT_RUN-client-user" \
	kubernetes.io/kube-apiserver-client-kubelet "$tmp/ku.csr" "$CUSAGES" "" "$IT_LABEL" ||
	t_fail "create CSR client-user"

# --- other signers (before the lenient pair: once lenient-good is decided,
# the watch has brought the controller these two as well) ---
k8s_gen_csr "$tmp/o1.key" "$tmp/o1.csr" "/CN=someone"
k8s_csr_create "$IT_RUN-other-apiserver-client" kubernetes.io/kube-apiserver-client "$tmp/o1.csr" \
	"digital signature,client auth" "" "$IT_LABEL" || t_fail "create CSR other-apiserver-client"
it_as "$kc_web0" k8s_csr_create "$IT_RUN-other-signer" "other.$W" "$tmp/good.csr" "$WUSAGES" 3600 \
	"$IT_LABEL" || t_fail "create CSR other-signer"

# --- onFailure: leave-pending ---
it_as "$kc_web0" k8s_csr_create "$IT_RUN-lenient-bad" "lenient.$W" "$tmp/spoofed.csr" "$WUSAGES" 3600 \
	"$IT_LABEL" || t_fail "create CSR lenient-bad"
it_as "$kc_web0" k8s_csr_create "$IT_RUN-lenient-good" "lenient.$W" "$tmp/good.csr" "$WUSAGES" 3600 \
	"$IT_LABEL" || t_fail "create CSR lenient-good"

# ---------------------------------------------------------------- expectations
expect() { # CSR WANT [TIMEOUT]
	local got
	got=$(ctl_wait_decided "$IT_RUN-$1" "${3:-20}")
	t_eq "$1: $2" "$2" "$got"
}
expect early-good Approved:AutoApproved
expect good Approved:AutoApproved
expect spoofed Denied:SANNotAllowed
expect other-ns Denied:SANNotAllowed
expect wrong-spiffe Denied:SANNotAllowed
expect unbound Denied:RequesterNotAllowed
expect excluded-ns Denied:NamespaceNotAllowed
expect uid-mismatch Denied:PodMismatch
expect late-status Approved:AutoApproved
expect serving Approved:AutoApproved
expect serving-foreign-ip Denied:SANNotAllowed
expect client-self Approved:AutoApproved
expect client-bootstrap Approved:AutoApproved
expect client-user Denied:NotAuthorized
# Objects that never appear are waited for 30 s before the denial.
expect deleted-pod Denied:PodNotFound 45
expect serving-ghost Denied:NodeNotFound 45

for c in deleted-pod serving-ghost; do
	read -r c0 c1 < <(kubectl get csr "$IT_RUN-$c" \
		-o jsonpath='{.metadata.creationTimestamp} {.status.conditions[0].lastUpdateTime}')
	waited=$(($(date -d "$c1" +%s) - $(date -d "$c0" +%s)))
	# deleted-pod existed before the controller started: count from its start.
	if [[ $c == deleted-pod ]]; then
		waited=$(($(date -d "$c1" +%s) - started_at))
	fi
	if ((waited >= 28 && waited <= 40)); then
		t_ok "$c: the missing object was waited for about 30 s (${waited}s)"
	else
		t_fail "$c: the missing object was waited for about 30 s" "waited ${waited}s"
	fi
done

msg=$(kubectl get csr "$IT_RUN-spoofed" -o jsonpath='{.status.conditions[0].message}')
if [[ $msg == *"kubernetes.default.svc"* && $msg == "csr-approver: policy workload:"* ]]; then
	t_ok "denial message names the policy and the SAN"
else
	t_fail "denial message names the policy and the SAN" "$msg"
fi
msg=$(kubectl get csr "$IT_RUN-good" -o jsonpath='{.status.conditions[0].message}')
if [[ $msg == "csr-approver: policy workload:"* ]]; then
	t_ok "approval message names the policy"
else
	t_fail "approval message names the policy" "$msg"
fi

for c in serving client-self client-bootstrap; do
	if k8s_csr_wait_cert "$IT_RUN-$c" "$tmp/$c.crt" 30 &&
		openssl verify -CAfile "$CSR_APPROVER_CA_CERT" "$tmp/$c.crt" >/dev/null 2>&1; then
		t_ok "$c: kube-controller-manager issued a certificate that verifies"
	else
		t_fail "$c: kube-controller-manager issued a certificate that verifies" \
			"$(kubectl get csr "$IT_RUN-$c" -o yaml 2>&1 | tail -n 15)"
	fi
done

expect lenient-good Approved:AutoApproved
if ctl_wait_log main "left pending.*$IT_RUN-lenient-bad" 10; then
	t_ok "leave-pending: a failing CSR is logged as left pending"
else
	t_fail "leave-pending: a failing CSR is logged as left pending" "$(grep lenient "$(ctl_log main)" | tail -n 3)"
fi
t_eq "leave-pending: no condition written" "" "$(ctl_conditions "$IT_RUN-lenient-bad")"
ev=$(kubectl get events -n default --field-selector "involvedObject.name=$IT_RUN-lenient-bad" \
	-o jsonpath='{range .items[*]}{.type}/{.reason}{"\n"}{end}' 2>&1)
t_eq "leave-pending: one Warning Event with the reason" "Warning/SANNotAllowed" "$ev"
t_eq "leave-pending: reported once" 1 "$(grep -c "left pending.*$IT_RUN-lenient-bad" "$(ctl_log main)")"

# The hand-decided CSRs were in the controller's first LIST ("caches
# synced"); the other signers' came before lenient-good, decided above.
t_eq "decided by hand (approve): untouched" "Approved:KubectlApprove" \
	"$(ctl_conditions "$IT_RUN-by-hand-approved")"
t_eq "decided by hand (deny): untouched" "Denied:KubectlDeny" \
	"$(ctl_conditions "$IT_RUN-by-hand-denied")"
t_eq "another signer (kube-apiserver-client): untouched" "" \
	"$(ctl_conditions "$IT_RUN-other-apiserver-client")"
t_eq "another signer (custom): untouched" "" "$(ctl_conditions "$IT_RUN-other-signer")"

# Events
ev=$(kubectl get events -n default --field-selector "involvedObject.name=$IT_RUN-good" \
	-o jsonpath='{range .items[*]}{.type}/{.reason}/{.source.component}{"\n"}{end}' 2>&1)
t_eq "an Event records the approval" "Normal/AutoApproved/csr-approver" "$ev"
ev=$(kubectl get events -n default --field-selector "involvedObject.name=$IT_RUN-unbound" \
	-o jsonpath='{range .items[*]}{.type}/{.reason}{"\n"}{end}' 2>&1)
t_eq "an Event records the denial" "Warning/RequesterNotAllowed" "$ev"

# One decision per CSR: in the API and in the log.
log=$(ctl_log main)
twice=""
for c in $(kubectl get csr -l "$IT_LABEL" -o name | sed 's#.*/##'); do
	n=$(kubectl get csr "$c" -o jsonpath='{range .status.conditions[*]}{.type}{"\n"}{end}' |
		grep -cE '^(Approved|Denied)$')
	l=$(ctl_decided_lines "$c" "$log")
	((n <= 1 && l <= 1)) || twice+="$c: $n conditions, $l log lines; "
done
t_eq "no CSR decided twice" "" "$twice"
line=$(grep '"msg":"decided"' "$log" | grep "\"csr\":\"$IT_RUN-good\"" | head -n 1)
if [[ $line == *'"decision":"approve"'* && $line == *'"reason":"AutoApproved"'* &&
	$line == *'"policy":"workload"'* && $line == *"\"requester\":\"system:serviceaccount:$A:web\""* &&
	$line == *'"duration":"'* ]]; then
	t_ok "one JSON log line per decision with csr, requester, policy, decision, reason, duration"
else
	t_fail "one JSON log line per decision with csr, requester, policy, decision, reason, duration" "$line"
fi
lat=$(sed -n 's/.*"duration":"\([0-9.]*\)".*/\1/p' <<<"$line")
echo "# decision latency of CSR good (watch event to approval written): ${lat}s"

# Metrics
m=$(curl -fsS "http://127.0.0.1:$port/metrics" 2>&1)
if grep -q 'csr_approver_decisions_total{policy="workload",decision="approve",reason="AutoApproved"} [1-9]' <<<"$m"; then
	t_ok "metrics count the decisions"
else
	t_fail "metrics count the decisions" "$(grep decisions_total <<<"$m")"
fi
if grep -q '^csr_approver_decision_duration_seconds_count [1-9]' <<<"$m" &&
	grep -q 'csr_approver_api_requests_total{verb="PUT",resource="certificatesigningrequests/approval",code="200"}' <<<"$m" &&
	grep -q 'csr_approver_cache_objects{resource="pods"}' <<<"$m"; then
	t_ok "metrics: decision durations, API requests, cache sizes"
else
	t_fail "metrics: decision durations, API requests, cache sizes" \
		"$(grep -E 'duration_seconds_count|api_requests_total|cache_objects' <<<"$m")"
fi

# leave-pending is one name: the log line's decision, the metric's label,
# and check's record (its action) for the same CSR.
t_check "leave-pending: the log line says decision leave-pending" \
	bash -c "grep 'left pending.*$IT_RUN-lenient-bad' '$(ctl_log main)' | grep -q '\"decision\":\"leave-pending\"'"
t_check "leave-pending: the metric says decision=\"leave-pending\"" \
	grep -q 'csr_approver_decisions_total{policy="workload-lenient",decision="leave-pending",reason="SANNotAllowed"} 1' <<<"$m"
# The test's own objects only: a cluster may hold thousands of others (a
# benchmark's), past what check reads from one file.
{
	kubectl get pods,svc -n "$A" -o yaml
	echo ---
	kubectl get pods,svc -n "$B" -o yaml
	echo ---
	kubectl get node "$NODE" -o yaml
} >"$tmp/objects.yaml"
kubectl get csr "$IT_RUN-lenient-bad" -o yaml >"$tmp/lenient-bad.yaml"
t_eq "leave-pending: check's record says action leave-pending" "deny SANNotAllowed leave-pending" \
	"$("$(ctl_bin)" check --config "$tmp/policy.yaml" --objects "$tmp/objects.yaml" "$tmp/lenient-bad.yaml" |
		jq -r '"\(.decision) \(.reason) \(.action)"')"

# The troubleshooting recipe on a CSR the controller denied: check decides
# it again, as the controller did, and says what it carries.
kubectl get csr "$IT_RUN-spoofed" -o yaml >"$tmp/spoofed.yaml"
rec=$("$(ctl_bin)" check --config "$tmp/policy.yaml" --objects "$tmp/objects.yaml" "$tmp/spoofed.yaml")
t_eq "replay of a denied CSR: the denial, and the condition it carries" \
	"deny SANNotAllowed Denied SANNotAllowed" \
	"$(jq -r '"\(.decision) \(.reason) \(.alreadyDecided.type) \(.alreadyDecided.reason)"' <<<"$rec")"
t_eq "replay of a denied CSR: the message the controller wrote" \
	"$(kubectl get csr "$IT_RUN-spoofed" -o jsonpath='{.status.conditions[0].message}')" \
	"$(jq -r .message <<<"$rec")"
t_eq "replay with --respect-status: skipped, as the controller does" "skip AlreadyDecided" \
	"$("$(ctl_bin)" check --respect-status --config "$tmp/policy.yaml" "$tmp/spoofed.yaml" |
		jq -r '"\(.decision) \(.reason)"')"

ctl_stop main
rc=$?
t_eq "SIGTERM: exits 0" 0 "$rc"
grep -q '"msg":"stopped"' "$log"
t_eq "SIGTERM: logs that it stopped" 0 "$?"

# Without approve on the signer: 403, an error naming the missing RBAC, no decision.
cat >"$tmp/policy-w2.yaml" <<EOF
policies:
  - name: workload-2
    signerName: $IT_RUN.example.com/w2
    type: workload
    namespaces: ["$A"]
EOF
kc_noapprove=$(ctl_identity "$IT_RUN-noapprove" "other.example.com/nothing")
ctl_start noapprove --kubeconfig "$kc_noapprove" --config "$tmp/policy-w2.yaml" \
	--metrics-bind-address 0 --health-probe-bind-address 0 ||
	t_fail "controller without approve on its signer starts"
it_as "$kc_web0" k8s_csr_create "$IT_RUN-no-rbac" "$IT_RUN.example.com/w2" "$tmp/good.csr" \
	"$WUSAGES" 3600 "$IT_LABEL" || t_fail "create CSR no-rbac"
if ctl_wait_log noapprove "approval write forbidden.*$IT_RUN-no-rbac" 15; then
	t_ok "without approve on signers/NAME: 403 logged as missing RBAC"
else
	t_fail "without approve on signers/NAME: 403 logged as missing RBAC" \
		"$(tail -n 5 "$(ctl_log noapprove)")"
fi
# The refused write (logged above) is the controller's decision attempt.
t_eq "without approve on signers/NAME: the CSR stays pending" "" "$(ctl_conditions "$IT_RUN-no-rbac")"
ctl_stop noapprove
t_eq "without approve: SIGTERM exits 0" 0 "$?"

# No policy file: runs, says it does nothing.
if ctl_start nopolicy --kubeconfig "$ctl_kc" --metrics-bind-address 0 \
	--health-probe-bind-address 0 && grep -q 'no policies configured' "$(ctl_log nopolicy)"; then
	t_ok "without --config: runs and logs that every CSR is skipped"
else
	t_fail "without --config: runs and logs that every CSR is skipped" "$(tail -n 5 "$(ctl_log nopolicy)")"
fi
ctl_stop nopolicy
san=$(ctl_sanitizer_report dry main noapprove nopolicy)
t_eq "no sanitizer report" "" "$san"
echo "# suite took $((SECONDS - run_start))s after the controller started"

t_done
