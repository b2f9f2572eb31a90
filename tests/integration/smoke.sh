#!/usr/bin/env bash
# Smoke test of the loopback control plane (hack/cluster.sh): proves it is a
# real and complete cluster for csr-approver's tests. Starts the cluster if
# it is not up. Prints "ok - ..." / "not ok - ..." lines and a final
# "N passed, N failed"; exits non-zero if anything failed.
#
# - a CSR made with a pod-bound ServiceAccount token carries the pod's name
#   and uid in spec.extra, and the ServiceAccount's username;
# - a kube-apiserver-client CSR approved with kubectl is signed by
#   kube-controller-manager with the cluster CA, and the certificate works;
# - nothing but kubectl approved anything: kubelet client CSRs (which the
#   in-tree approver would approve at once) stay pending;
# - /version reports the pinned Kubernetes version; etcdctl and helm work.
set -euo pipefail

# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
it_setup smoke

ns=$IT_NS
tmp=$T_TMP
node=$CSR_APPROVER_NODE_NAME

# --- version -----------------------------------------------------------------
ver=$(kubectl get --raw /version | sed -n 's/.*"gitVersion": *"\([^"]*\)".*/\1/p')
t_eq "apiserver /version reports $CSR_APPROVER_K8S_VERSION" "$CSR_APPROVER_K8S_VERSION" "$ver"

# --- a pod that "runs", on a node with addresses -------------------------------
node_uid=$(k8s_node_create "$node" InternalIP=192.0.2.10 Hostname="$node") || node_uid=""
if [[ -n $node_uid ]]; then
	t_ok "node $node created with addresses"
else
	t_fail "node $node created with addresses"
fi

k8s_sa_create "$ns" agent
pod_uid=$(k8s_pod_run "$ns" agent-0 10.244.0.5 -s agent -n "$node" -l app=agent) || pod_uid=""
phase=$(kubectl get pod agent-0 -n "$ns" -o jsonpath='{.status.phase} {.status.podIP}' 2>&1 || true)
t_eq "pod $ns/agent-0 is Running with its IP (no kubelet)" "Running 10.244.0.5" "$phase"

# The ServiceAccount may create CSRs (as a workload chart would grant it).
k8s_allow_csr_create "$IT_RUN-csr-create" "$IT_LABEL_KEY=$IT_RUN" \
	"sa:$ns:agent"

# --- CSR with a pod-bound token --------------------------------------------------
token=$(k8s_token "$ns" agent agent-0 10m)
k8s_token_kubeconfig "$token" "$tmp/agent.kubeconfig"
k8s_gen_csr "$tmp/agent.key" "$tmp/agent.csr" "/CN=agent.$ns.svc" "DNS:agent.$ns.svc,IP:10.244.0.5"
if it_as "$tmp/agent.kubeconfig" k8s_csr_create "$IT_RUN-workload" smoke.example.com/workload \
	"$tmp/agent.csr" "digital signature,client auth,server auth" 3600 "$IT_LABEL"; then
	t_ok "CSR created with a pod-bound token"
else
	t_fail "CSR created with a pod-bound token"
fi
csr=$IT_RUN-workload
t_eq "workload CSR username is the ServiceAccount" \
	"system:serviceaccount:$ns:agent" "$(k8s_csr_field "$csr" '{.spec.username}' 2>&1)"
t_eq "workload CSR extra pod-name is the pod's name" \
	"agent-0" "$(k8s_csr_field "$csr" '{.spec.extra.authentication\.kubernetes\.io/pod-name[0]}' 2>&1)"
t_eq "workload CSR extra pod-uid is the pod's uid" \
	"$pod_uid" "$(k8s_csr_field "$csr" '{.spec.extra.authentication\.kubernetes\.io/pod-uid[0]}' 2>&1)"
t_eq "workload CSR extra node-name/node-uid name the pod's node" \
	"$node $node_uid" "$(k8s_csr_field "$csr" '{.spec.extra.authentication\.kubernetes\.io/node-name[0]} {.spec.extra.authentication\.kubernetes\.io/node-uid[0]}' 2>&1)"
groups=$(k8s_csr_field "$csr" '{.spec.groups}' 2>&1)
if [[ $groups == *'"system:serviceaccounts:'"$ns"'"'* ]]; then
	t_ok "workload CSR groups include system:serviceaccounts:$ns"
else
	t_fail "workload CSR groups include system:serviceaccounts:$ns" "$groups"
fi

# --- kubelet client CSRs, for nobody to approve ------------------------------
# The in-tree approver would approve these at once. They are made before the
# kube-apiserver-client CSR below: kube-controller-manager's CSR controllers
# share one informer, which delivers events in order, so once it has signed
# that later CSR it has been handed these too.
k8s_gen_csr "$tmp/kubelet.key" "$tmp/kubelet.csr" "/O=system:nodes/CN=system:node:$node"
t_check "kubelet client CSR created by the node identity" \
	it_as "$CSR_APPROVER_NODE_KUBECONFIG" k8s_csr_create "$IT_RUN-kubelet" \
	kubernetes.io/kube-apiserver-client-kubelet "$tmp/kubelet.csr" "digital signature,client auth" "" "$IT_LABEL"
t_eq "kubelet client CSR username is the node" \
	"system:node:$node" "$(k8s_csr_field "$IT_RUN-kubelet" '{.spec.username}' 2>&1)"
k8s_gen_csr "$tmp/boot.key" "$tmp/boot.csr" "/O=system:nodes/CN=system:node:node-boot"
t_check "kubelet client CSR created by the bootstrap identity" \
	it_as "$CSR_APPROVER_BOOTSTRAP_KUBECONFIG" k8s_csr_create "$IT_RUN-bootstrap" \
	kubernetes.io/kube-apiserver-client-kubelet "$tmp/boot.csr" "digital signature,client auth" "" "$IT_LABEL"

# --- kube-apiserver-client CSR: approve with kubectl, signed by KCM ------------------
k8s_gen_csr "$tmp/client.key" "$tmp/client.csr" "/CN=smoke-client-$IT_RUN"
csr=$IT_RUN-client
t_check "kube-apiserver-client CSR created" \
	k8s_csr_create "$csr" kubernetes.io/kube-apiserver-client "$tmp/client.csr" \
	"digital signature,key encipherment,client auth" 3600 "$IT_LABEL"
t_check "kubectl certificate approve" kubectl certificate approve "$csr"
if k8s_csr_wait_cert "$csr" "$tmp/client.crt" 30; then
	t_ok "kube-controller-manager issued the certificate"
else
	t_fail "kube-controller-manager issued the certificate" "$(kubectl get csr "$csr" -o yaml 2>&1)"
fi
t_check "issued certificate verifies against the cluster CA" \
	openssl verify -CAfile "$CSR_APPROVER_CA_CERT" "$tmp/client.crt"
who=$(kubectl --kubeconfig=/dev/null --server="$CSR_APPROVER_APISERVER" \
	--certificate-authority="$CSR_APPROVER_CA_CERT" \
	--client-certificate="$tmp/client.crt" --client-key="$tmp/client.key" \
	auth whoami -o jsonpath='{.status.userInfo.username}' 2>&1 || true)
t_eq "issued certificate authenticates to the apiserver" "smoke-client-$IT_RUN" "$who"

# --- nobody but kubectl approves ---------------------------------------------
# kube-controller-manager signed a later CSR (above): it has seen these.
for c in "$IT_RUN-kubelet" "$IT_RUN-bootstrap" "$IT_RUN-workload"; do
	t_eq "CSR $c still pending after kube-controller-manager signed a later one" "" \
		"$(k8s_csr_condition "$c" 2>&1)"
done
others=$(kubectl get csr -l "$IT_LABEL" \
	-o jsonpath='{range .items[*]}{.metadata.name}{range .status.conditions[*]} {.type}:{.reason}{end}{"\n"}{end}' |
	grep ' Approved:' | grep -v ' Approved:KubectlApprove' || true)
t_eq "no CSR approved except by kubectl" "" "$others"
kcm_log=$CSR_APPROVER_CLUSTER_DIR/logs/kube-controller-manager.log
if grep -q 'controller is disabled" controller="certificatesigningrequest-approving-controller"' "$kcm_log" &&
	! grep -q 'name="csrapproving"' "$kcm_log"; then
	t_ok "kube-controller-manager does not run the CSR approving controller"
else
	t_fail "kube-controller-manager does not run the CSR approving controller" \
		"$(grep -E 'certificatesigningrequest-approving-controller|csrapproving' "$kcm_log" | head -3)"
fi

# --- tools ---------------------------------------------------------------------
t_check "etcdctl reaches etcd" \
	"$CSR_APPROVER_ETCDCTL" --endpoints="$CSR_APPROVER_ETCD_ENDPOINT" endpoint health
hv=$(helm version --short 2>&1 || true)
if [[ $hv == "$CSR_APPROVER_HELM_VERSION"* ]]; then
	t_ok "helm $CSR_APPROVER_HELM_VERSION on PATH"
else
	t_fail "helm $CSR_APPROVER_HELM_VERSION on PATH" "$hv"
fi

t_done
