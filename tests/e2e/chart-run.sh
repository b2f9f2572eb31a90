#!/usr/bin/env bash
# csr-approver run with nothing but the chart's RBAC: apply the chart's
# ServiceAccount, ClusterRole, Roles and bindings, mint a token for that
# ServiceAccount, and run the binary with the container arguments the chart
# renders (policy file from the chart's ConfigMap, leader election on the
# chart's Lease), authenticated by that token alone. It must decide the CSRs
# of its signers, sign those of its issuing policy with the CA laid out as
# the chart's projected volume holds it, publish that CA as a
# ClusterTrustBundle and follow a rotation of it, write its Events and
# Lease, and leave other signers alone; and its log must show no request
# the API server refused.
#
# Ends with "N passed, N failed".
set -uo pipefail
source "$(dirname "$0")/lib.sh"
t_cluster
t_tmp
T=$T_TMP

CHART=$T_ROOT/charts/csr-approver
BIN=${CSR_APPROVER_BIN:-$T_ROOT/build/csr-approver}
run_id=$(date +%s)-$$
rel=e2e-run-$run_id
signer=e2e.example.com/workload-$run_id
bundle=e2e.example.com:workload-$run_id:ca

cat >"$T/values.yaml" <<EOV
policies:
  - name: workload
    signerName: $signer
    type: workload
    issuer: {secretName: workload-ca}
  - name: kubelet-serving
    signerName: kubernetes.io/kubelet-serving
    type: kubelet-serving
EOV

ns_ctl="" ns_app=""
e2e_ns ns_ctl e2e-run || t_abort "create a namespace"
e2e_ns ns_app e2e-app || t_abort "create a namespace"

if chart_rbac "$ns_ctl" "$rel" -f "$T/values.yaml" && sa_kubeconfig "$ns_ctl" "$rel" "$T/kc"; then
	t_ok "the chart's RBAC applied and a token minted for its ServiceAccount"
else
	t_abort "the chart's RBAC applied and a token minted for its ServiceAccount"
fi

# The policy file and the arguments exactly as the chart renders them.
helm template "$rel" "$CHART" -n "$ns_ctl" --set fullnameOverride="$rel" -f "$T/values.yaml" \
	-s templates/configmap.yaml -s templates/deployment.yaml >"$T/rendered.yaml"
kubectl create --dry-run=client -o json -f "$T/rendered.yaml" >"$T/rendered.json" 2>"$T/err" ||
	t_fail "the rendered chart parses" "$(cat "$T/err")"
jq -r 'if .kind == "List" then .items[] else . end | select(.kind == "ConfigMap") | .data["policy.yaml"]' \
	"$T/rendered.json" >"$T/policy.yaml"
mapfile -t args < <(jq -r 'if .kind == "List" then .items[] else . end | select(.kind == "Deployment")
	| .spec.template.spec.containers[0].args[]' "$T/rendered.json")
# The CA Secret as the kubelet projects the chart's volume: the files under
# ..TS/ca/workload/, ..data -> ..TS, ca -> ..data/ca. A Secret update is a
# new ..TS directory and one rename of ..data.
vol=$T/vol
project() { # TS CN: a new data directory with a new CA, then the swap
	mkdir -p "$vol/..$1/ca/workload" &&
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
			-keyout "$vol/..$1/ca/workload/tls.key" -out "$vol/..$1/ca/workload/tls.crt" -days 2 -subj "/CN=$2" \
			-addext basicConstraints=critical,CA:TRUE,pathlen:0 -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null &&
		ln -sfn "..$1" "$vol/..data_tmp" && mv -Tf "$vol/..data_tmp" "$vol/..data"
}
if ! project 1 e2e-ca-1 || ! ln -s ..data/ca "$vol/ca"; then
	t_abort "lay out the CA volume"
fi
cp "$vol/ca/workload/tls.crt" "$T/ca1.crt"
t_eq "the chart's policy file reads the CA from the mounted Secret" \
	"/etc/csr-approver/ca/workload/tls.crt /etc/csr-approver/ca/workload/tls.key" \
	"$(sed -n 's/^ *ca\(Cert\|Key\)File: //p' "$T/policy.yaml" | paste -sd' ')"
sed -i "s#/etc/csr-approver/ca/#$vol/ca/#" "$T/policy.yaml"
t_on_exit kubectl delete clustertrustbundle "$bundle" --ignore-not-found
# A CSR of no configured signer is skipped (exit 3): the file loaded.
t_check "the chart's policy file is valid" bash -c '"$0" check --config "$1" "$2" >/dev/null; [ $? -eq 3 ]' \
	"$BIN" "$T/policy.yaml" "$T_ROOT/tests/testdata/csrobj/other-signer.yaml"
run_args=()
for a in "${args[@]}"; do
	case $a in
	--config=*) run_args+=("--config=$T/policy.yaml") ;;
	--metrics-bind-address=* | --health-probe-bind-address=*) run_args+=("${a%%=*}=0") ;;
	*) a=${a//\$(POD_NAMESPACE)/$ns_ctl}; run_args+=("${a//\$(POD_NAME)/$rel-0}") ;;
	esac
done
t_check "the chart runs the controller with leader election on its Lease" \
	grep -q -- "--leader-elect-resource-name=" <<<"${run_args[*]}"

"$BIN" "${run_args[@]}" --kubeconfig="$T/kc" >"$T/run.log" 2>&1 &
pid=$!
t_on_exit kill "$pid"
lease=$(sed -n 's/^--leader-elect-resource-name=//p' < <(printf '%s\n' "${run_args[@]}"))
if k8s_wait 30 kubectl get lease -n "$ns_ctl" "$lease" -o jsonpath='{.spec.holderIdentity}' >/dev/null &&
	[[ $(kubectl get lease -n "$ns_ctl" "$lease" -o jsonpath='{.spec.holderIdentity}') == "$rel-0" ]]; then
	t_ok "it takes the chart's Lease with the chart's identity"
else
	t_fail "it takes the chart's Lease with the chart's identity" "$(tail -n 20 "$T/run.log")"
fi

# Workloads of the app namespace may submit CSRs: the chart's requesters
# ClusterRole, bound as docs/mtls.md shows (the requester's RBAC, not the
# controller's).
t_on_exit kubectl delete clusterrole,clusterrolebinding "$rel-requester" --ignore-not-found
if helm template "$rel" "$CHART" -n "$ns_ctl" --set fullnameOverride="$rel" -f "$T/values.yaml" \
	-s templates/requester-clusterrole.yaml | kubectl apply -f - >/dev/null &&
	kubectl create clusterrolebinding "$rel-requester" --clusterrole="$rel-requester" \
		--group="system:serviceaccounts:$ns_app" >/dev/null; then
	t_ok "the chart's requesters ClusterRole bound to the ServiceAccounts of $ns_app"
else
	t_fail "the chart's requesters ClusterRole bound to the ServiceAccounts of $ns_app"
fi

# A workload CSR of its signer, from a pod-bound token: approved.
k8s_sa_create "$ns_app" web >/dev/null
uid=$(k8s_pod_run "$ns_app" web-0 10.244.9.7 -s web -l app=web)
token=$(k8s_token "$ns_app" web web-0)
k8s_token_kubeconfig "$token" "$T/kc-web"
k8s_gen_csr "$T/web.key" "$T/web.csr" "/" "URI:spiffe://cluster.local/ns/$ns_app/sa/web,IP:10.244.9.7" >/dev/null 2>&1
KUBECONFIG=$T/kc-web k8s_csr_create "$rel-web" "$signer" "$T/web.csr" "digital signature,client auth" \
	"" "e2e-run=$run_id" >/dev/null
t_on_exit kubectl delete csr -l "e2e-run=$run_id"
got=$(k8s_csr_wait_condition "$rel-web" 30)
t_eq "a workload CSR of its signer is approved (pod $ns_app/web-0, uid $uid)" "Approved:AutoApproved" "$got"
if k8s_csr_wait_cert "$rel-web" "$T/web.crt" 30 && openssl verify -CAfile "$T/ca1.crt" "$T/web.crt" >"$T/err" 2>&1; then
	t_ok "and issued, by the CA of the mounted Secret"
else
	t_fail "and issued, by the CA of the mounted Secret" "$(cat "$T/err"; k8s_csr_condition "$rel-web")"
fi

# bundle_subjects: the subjects of the CAs in the ClusterTrustBundle
# SIGNER:ca, in its order.
bundle_subjects() {
	kubectl get clustertrustbundle "$bundle" -o jsonpath='{.spec.trustBundle}' 2>/dev/null |
		openssl crl2pkcs7 -nocrl -certfile /dev/stdin 2>/dev/null | openssl pkcs7 -print_certs -noout 2>/dev/null |
		sed -n 's/^subject=//p' | paste -sd,
}
bundle_is() { [[ $(bundle_subjects) == "$1" ]]; }
k8s_wait 30 bundle_is "CN = e2e-ca-1"
t_eq "the ClusterTrustBundle $bundle holds the CA" "CN = e2e-ca-1" "$(bundle_subjects)"

# The Secret is rotated: the kubelet swaps ..data.
project 2 e2e-ca-2
cp "$vol/ca/workload/tls.crt" "$T/ca2.crt"
k8s_wait 30 bundle_is "CN = e2e-ca-2,CN = e2e-ca-1"
t_eq "rotation: the bundle holds the new CA, then the old" "CN = e2e-ca-2,CN = e2e-ca-1" "$(bundle_subjects)"
KUBECONFIG=$T/kc-web k8s_csr_create "$rel-web2" "$signer" "$T/web.csr" "digital signature,client auth" \
	"" "e2e-run=$run_id" >/dev/null
if k8s_csr_wait_cert "$rel-web2" "$T/web2.crt" 30 && openssl verify -CAfile "$T/ca2.crt" "$T/web2.crt" >"$T/err" 2>&1; then
	t_ok "rotation: the next certificate is signed by the new CA, no restart"
else
	t_fail "rotation: the next certificate is signed by the new CA, no restart" "$(cat "$T/err"; k8s_csr_condition "$rel-web2")"
fi

# A spoofed one: denied with the reason.
k8s_gen_csr "$T/bad.key" "$T/bad.csr" "/" "URI:spiffe://cluster.local/ns/$ns_app/sa/web,DNS:db.other.svc" >/dev/null 2>&1
KUBECONFIG=$T/kc-web k8s_csr_create "$rel-bad" "$signer" "$T/bad.csr" "digital signature,client auth" \
	"" "e2e-run=$run_id" >/dev/null
got=$(k8s_csr_wait_condition "$rel-bad" 30)
t_eq "a spoofed SAN is denied" "Denied:SANNotAllowed" "$got"

# Another signer's CSR: never touched. Made before the kubelet-serving CSR
# below: the controller's watch brings events in order, so once that one is
# decided this one has been seen (and skipped).
k8s_gen_csr "$T/other.key" "$T/other.csr" "/CN=someone" "" >/dev/null 2>&1
k8s_csr_create "$rel-other" kubernetes.io/kube-apiserver-client "$T/other.csr" \
	"digital signature,client auth" "" "e2e-run=$run_id" >/dev/null

# A kubelet-serving CSR from the node: approved (the chart grants nodes and
# approve on kubernetes.io/kubelet-serving).
node=${CSR_APPROVER_NODE_NAME:-node-0}
k8s_node_create "$node" InternalIP=10.1.0.5 "Hostname=$node" >/dev/null
k8s_gen_csr "$T/node.key" "$T/node.csr" "/O=system:nodes/CN=system:node:$node" "DNS:$node,IP:10.1.0.5" >/dev/null 2>&1
KUBECONFIG=$CSR_APPROVER_NODE_KUBECONFIG k8s_csr_create "$rel-node" kubernetes.io/kubelet-serving \
	"$T/node.csr" "digital signature,server auth" "" "e2e-run=$run_id" >/dev/null
got=$(k8s_csr_wait_condition "$rel-node" 30)
t_eq "a kubelet-serving CSR is approved" "Approved:AutoApproved" "$got"
t_eq "a CSR of another signer, made before it, stays pending" "" "$(k8s_csr_condition "$rel-other")"

events=$(kubectl get events -n default --field-selector "involvedObject.name=$rel-web" -o jsonpath='{.items[*].reason}' |
	tr ' ' '\n' | sort | paste -sd' ')
t_eq "Events record the decision and the issuance in default" "AutoApproved Issued" "$events"

if grep -qE '"code":"?(401|403)' "$T/run.log" || grep -qiE 'forbidden|missing RBAC' "$T/run.log"; then
	t_fail "no request of the controller was refused" "$(grep -iE '401|403|forbidden|RBAC' "$T/run.log" | head -n 5)"
else
	t_ok "no request of the controller was refused"
fi

kill -TERM "$pid" 2>/dev/null
wait "$pid"
t_eq "it exits 0 on SIGTERM" 0 "$?"
holder=$(kubectl get lease -n "$ns_ctl" "$lease" -o jsonpath='{.spec.holderIdentity}' 2>/dev/null)
t_eq "it released the Lease on the way out" "" "$holder"

t_done
