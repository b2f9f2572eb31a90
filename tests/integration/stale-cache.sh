#!/usr/bin/env bash
# A lagging cache must not deny a good request (SPEC.md, "Decision rules").
#
# The controller (the test binary) runs with --identity-event-delay: every
# Pod, Service and Node event of its watches is applied seconds late, so
# its caches lag the cluster for real. Each change below is made after the
# caches synced, and the CSR that depends on it is created at once, while
# the cache still holds the old state:
#
#   - a StatefulSet pod made again under its name (new uid) asks with a
#     token bound to the new pod;
#   - a pod bound to its node after the cache saw it unscheduled asks with a
#     token that names the node;
#   - a Service created together with the pod's request for its name;
#   - a node given a new address asks for a serving certificate with it;
#
# each is Approved, after the controller logged that it read the objects
# live. A request that is truly wrong (a Service that does not exist, an
# address the node does not have) is still Denied, after the same live
# read; and each CSR is decided exactly once.
set -uo pipefail

# shellcheck source=tests/integration/controller-lib.bash
source "$(dirname "${BASH_SOURCE[0]}")/controller-lib.bash"
ctl_setup stale-cache

A=$IT_NS
tmp=$T_TMP
W=$IT_RUN.example.com/workload
NODE=$IT_RUN-node
NODE2=$IT_RUN-node2
DELAY=15s

t_on_exit kubectl delete node "$NODE" "$NODE2" --wait=false
[[ -x $(ctl_test_bin) ]] || t_abort "test binary at $(ctl_test_bin)" "build it first (make)"

cat >"$tmp/policy.yaml" <<EOF
policies:
  - name: workload
    signerName: $W
    type: workload
    namespaces: ["$A"]
  - name: kubelet-serving
    signerName: kubernetes.io/kubelet-serving
    type: kubelet-serving
EOF
ctl_kc=$(ctl_identity "$IT_RUN-approver" "$W" kubernetes.io/kubelet-serving)
[[ -n $ctl_kc ]] || t_abort "controller identity with its RBAC"

# ---------------------------------------------------------------- the world before
k8s_allow_csr_create "$IT_RUN-csr-create" "$IT_LABEL" "group:system:serviceaccounts:$A" ||
	t_fail "CSR create rights for $A"
k8s_sa_create "$A" web || t_fail "service account web"
kubectl create service clusterip web -n "$A" --tcp=443 >/dev/null || t_fail "service web"
k8s_node_create "$NODE" InternalIP=192.0.2.80 Hostname="$NODE" >/dev/null || t_fail "node"
k8s_node_create "$NODE2" InternalIP=192.0.2.81 Hostname="$NODE2" >/dev/null || t_fail "node 2"
old_uid=$(k8s_pod_run "$A" web-0 10.244.9.10 -s web -n "$NODE" -l app=web) || t_fail "pod web-0"
k8s_pod_create "$A" api-0 -s web -l app=web >/dev/null || t_fail "pod api-0 (unscheduled)"

ctl_start main --kubeconfig "$ctl_kc" --config "$tmp/policy.yaml" --metrics-bind-address 0 \
	--health-probe-bind-address 0 --identity-event-delay="$DELAY" -v debug ||
	t_fail "controller with lagging identity watches starts"

USAGES="digital signature,key encipherment,client auth,server auth"
SUSAGES="digital signature,key encipherment,server auth"
spiffe="spiffe://cluster.local/ns/$A/sa/web"

# CSR NAME KUBECONFIG SIGNER USAGES SUBJ SAN
ask() {
	k8s_gen_csr "$tmp/$1.key" "$tmp/$1.csr" "$5" "$6" &&
		it_as "$2" k8s_csr_create "$IT_RUN-$1" "$3" "$tmp/$1.csr" "$4" "" "$IT_LABEL"
}

# ---------------------------------------------------------------- 1. pod made again
kubectl delete pod web-0 -n "$A" --grace-period=0 --force >/dev/null 2>&1
new_uid=$(k8s_pod_run "$A" web-0 10.244.9.10 -s web -n "$NODE" -l app=web)
if [[ -n $new_uid && $new_uid != "$old_uid" ]]; then
	t_ok "web-0 made again with a new uid"
else
	t_fail "web-0 made again with a new uid" "old $old_uid new $new_uid"
fi
k8s_token_kubeconfig "$(k8s_token "$A" web web-0 1h)" "$tmp/web0.kubeconfig"
ask recreated "$tmp/web0.kubeconfig" "$W" "$USAGES" "/CN=web.$A.svc" \
	"URI:$spiffe,IP:10.244.9.10,DNS:web.$A.svc" || t_fail "create CSR recreated"

# ---------------------------------------------------------------- 2. pod bound to its node
kubectl create --raw "/api/v1/namespaces/$A/pods/api-0/binding" -f - >/dev/null <<EOF ||
{"apiVersion":"v1","kind":"Binding","metadata":{"name":"api-0"},"target":{"apiVersion":"v1","kind":"Node","name":"$NODE"}}
EOF
	t_fail "bind api-0 to $NODE"
k8s_pod_set_status "$A" api-0 Running 10.244.9.11 || t_fail "api-0 Running"
k8s_token_kubeconfig "$(k8s_token "$A" web api-0 1h)" "$tmp/api0.kubeconfig"
ask bound "$tmp/api0.kubeconfig" "$W" "$USAGES" "/CN=web.$A.svc" \
	"URI:$spiffe,IP:10.244.9.11,DNS:web.$A.svc" || t_fail "create CSR bound"

# ---------------------------------------------------------------- 3. a new Service
kubectl apply -f - >/dev/null <<EOF || t_fail "service fresh"
apiVersion: v1
kind: Service
metadata: {name: fresh, namespace: "$A"}
spec: {selector: {app: web}, ports: [{port: 443}]}
EOF
ask new-service "$tmp/web0.kubeconfig" "$W" "$USAGES" "/CN=fresh.$A.svc" \
	"URI:$spiffe,DNS:fresh.$A.svc" || t_fail "create CSR new-service"

# ---------------------------------------------------------------- 4. a node's new address
k8s_node_create "$NODE2" InternalIP=192.0.2.81 InternalIP=192.0.2.91 Hostname="$NODE2" \
	>/dev/null || t_fail "node 2 gets a new address"
node2_kc=$tmp/node2.kubeconfig
k8s_client_kubeconfig "$node2_kc" "system:node:$NODE2" system:nodes >/dev/null
ask new-address "$node2_kc" kubernetes.io/kubelet-serving "$SUSAGES" \
	"/O=system:nodes/CN=system:node:$NODE2" "DNS:$NODE2,IP:192.0.2.91" ||
	t_fail "create CSR new-address"

# ---------------------------------------------------------------- 5. truly wrong
ask no-such-service "$tmp/web0.kubeconfig" "$W" "$USAGES" "/CN=web.$A.svc" \
	"URI:$spiffe,DNS:web.$A.svc,DNS:db.$A.svc" || t_fail "create CSR no-such-service"
ask foreign-address "$node2_kc" kubernetes.io/kubelet-serving "$SUSAGES" \
	"/O=system:nodes/CN=system:node:$NODE2" "DNS:$NODE2,IP:192.0.2.99" ||
	t_fail "create CSR foreign-address"

# ---------------------------------------------------------------- expectations
log=$(ctl_log main)
expect() { # CSR WANT
	local got
	got=$(ctl_wait_decided "$IT_RUN-$1" 30)
	t_eq "$1: $2" "$2" "$got"
	if grep -E 'reading it live' "$log" | grep -qE "\"csr\":\"$IT_RUN-$1\""; then
		t_ok "$1: decided on the objects read live"
	else
		t_fail "$1: decided on the objects read live" "$(grep -E "$IT_RUN-$1" "$log" | tail -n 5)"
	fi
}
expect recreated Approved:AutoApproved
expect bound Approved:AutoApproved
expect new-service Approved:AutoApproved
expect new-address Approved:AutoApproved
expect no-such-service Denied:SANNotAllowed
expect foreign-address Denied:SANNotAllowed

msg=$(kubectl get csr "$IT_RUN-no-such-service" -o jsonpath='{.status.conditions[0].message}')
if [[ $msg == *"\"db.$A.svc\" is not a name of pod $A/web-0"* ]]; then
	t_ok "the denial after the live read names the SAN"
else
	t_fail "the denial after the live read names the SAN" "$msg"
fi

for c in recreated bound new-service new-address no-such-service foreign-address; do
	n=$(ctl_decided_lines "$IT_RUN-$c" "$log")
	t_eq "$c: decided once" 1 "$n"
done
ctl_stop main
t_eq "SIGTERM exits 0" 0 "$?"
report=$(ctl_sanitizer_report main)
if [[ -z $report ]]; then
	t_ok "no sanitizer report"
else
	t_fail "no sanitizer report" "$report"
fi
t_done
