#!/usr/bin/env bash
# make demo: csr-approver deciding real CertificateSigningRequests.
#
#   1. installs what is missing (hack/deps.sh) and builds csr-approver;
#   2. brings up the local control plane (hack/cluster.sh: etcd,
#      kube-apiserver, kube-controller-manager as plain processes);
#   3. starts `csr-approver run` with docs/examples/policy.yaml, its
#      workload policy also issuing certificates (`issue:`) from a CA the
#      demo makes;
#   4. creates a namespace with a pod and a Service, a node, and a handful
#      of good and hostile CSRs, from the identities that would send them:
#      a pod's bound token, a plain token, a user with `kubectl create -f`,
#      a kubelet, a bootstrapping kubelet, a person asking for a client
#      certificate of their own name and of someone else's;
#   5. prints CSR | REQUESTER | DECISION | REASON and uses the person's new
#      certificate (kubectl auth whoami);
#   6. runs `csr-approver bootstrap --once` as the pod: it gets its key, a
#      certificate signed by csr-approver and the CA from the
#      ClusterTrustBundle, shown; then stops the controller.
#
# The CSRs stay for a look (kubectl get csr -l csr-approver.demo=1); the
# next run replaces them. Leave the cluster with: hack/cluster.sh down
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

if [[ -t 1 ]]; then
	say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
else
	say() { printf '==> %s\n' "$*"; }
fi

say "dependencies"
hack/deps.sh
say "build"
make -s -j2 build/csr-approver
say "local control plane (the first time builds Kubernetes from source: about 15 minutes on two cores)"
eval "$(hack/cluster.sh up)"
# shellcheck source=hack/lib/k8s-helpers.sh
source hack/lib/k8s-helpers.sh

ns="csr-approver-demo"
node=demo-node
label="csr-approver.demo=1"
work=$(mktemp -d)
ctl_pid=""
finish() {
	if [[ -n $ctl_pid ]] && kill -0 "$ctl_pid" 2>/dev/null; then
		kill -TERM "$ctl_pid" 2>/dev/null || true
		wait "$ctl_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap finish EXIT

say "a clean slate"
kubectl delete csr -l "$label" --wait=false >/dev/null 2>&1 || true
# The demo makes a new CA each run: start its trust bundle afresh too.
kubectl delete clustertrustbundle example.com:workload-mtls:ca --ignore-not-found >/dev/null 2>&1 || true
if kubectl get namespace "$ns" >/dev/null 2>&1; then
	# No kubelet confirms a graceful pod deletion here: force it, or the
	# namespace stays Terminating.
	kubectl delete pods --all -n "$ns" --grace-period=0 --force >/dev/null 2>&1 || true
	kubectl delete namespace "$ns" --wait=false >/dev/null 2>&1 || true
	k8s_wait 90 bash -c "! kubectl get namespace $ns >/dev/null 2>&1" || {
		echo "demo: namespace $ns is still terminating" >&2
		exit 1
	}
fi

say "a CA for the built-in signer, and the example policy issuing with it"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 7 \
	-keyout "$work/ca.key" -out "$work/ca.crt" -subj "/CN=csr-approver demo CA" \
	-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign" 2>/dev/null
# docs/examples/policy.yaml with an issue: block in its workload policy.
awk -v ca="$work" '{ print } /^    maxSANs: 32$/ && !done {
	print "    issue:"
	print "      caCertFile: " ca "/ca.crt"
	print "      caKeyFile: " ca "/ca.key"
	print "      lifetime: 24h"
	done = 1 }' docs/examples/policy.yaml >"$work/policy.yaml"
grep -q caKeyFile "$work/policy.yaml" || {
	echo "demo: could not add issue: to the example policy" >&2
	exit 1
}
echo "    $work/policy.yaml: workload-mtls now issues what it approves"

say "csr-approver run --config policy.yaml"
log=$repo/build/demo-controller.log
build/csr-approver run --kubeconfig "$KUBECONFIG" --config "$work/policy.yaml" \
	--metrics-bind-address 0 --health-probe-bind-address 0 --log-format text >"$log" 2>&1 &
ctl_pid=$!
k8s_wait 30 grep -q 'caches synced' "$log" || {
	tail -n 20 "$log"
	echo "demo: the controller did not start" >&2
	exit 1
}
echo "    log: $log"

say "a namespace, a pod that runs as ServiceAccount shop, a Service, a node"
k8s_ns_create "$ns"
k8s_sa_create "$ns" shop
k8s_node_create "$node" InternalIP=192.0.2.50 Hostname="$node" >/dev/null
k8s_pod_run "$ns" web-0 10.244.9.5 -s shop -n "$node" -l app=web >/dev/null
kubectl create service clusterip web -n "$ns" --tcp=443 >/dev/null
kubectl apply -f - >/dev/null <<EOF
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: csr-approver-demo-csr-create, labels: {csr-approver.demo: "1"}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: system:node-bootstrapper}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: Group, name: "system:serviceaccounts:$ns"}
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: "alice@example.com"}
EOF

# The identities.
k8s_token_kubeconfig "$(k8s_token "$ns" shop web-0 1h)" "$work/pod.kubeconfig"
k8s_token_kubeconfig "$(k8s_token "$ns" shop "" 1h)" "$work/plain.kubeconfig"
k8s_client_kubeconfig "$work/node.kubeconfig" "system:node:$node" system:nodes >/dev/null
# A person, as the API server knows her: user alice@example.com, group developers.
k8s_client_kubeconfig "$work/alice.kubeconfig" alice@example.com developers >/dev/null

as() { # KUBECONFIG CMD...
	KUBECONFIG=$1 "${@:2}"
}

spiffe="spiffe://cluster.local/ns/$ns/sa/shop"
usages="digital signature,key encipherment,client auth,server auth"
say "CSRs"
k8s_gen_csr "$work/a.key" "$work/a.csr" "/CN=web.$ns.svc" \
	"URI:$spiffe,IP:10.244.9.5,DNS:web.$ns.svc,DNS:web.$ns.svc.cluster.local,DNS:10-244-9-5.$ns.pod.cluster.local"
as "$work/pod.kubeconfig" k8s_csr_create demo-pod-own-names example.com/workload-mtls "$work/a.csr" "$usages" 3600 "$label"
echo "    demo-pod-own-names       the pod asks for its SPIFFE ID, IP, pod and service names"

k8s_gen_csr "$work/b.key" "$work/b.csr" "/CN=web.$ns.svc" "URI:$spiffe,DNS:web.$ns.svc,DNS:kubernetes.default.svc"
as "$work/pod.kubeconfig" k8s_csr_create demo-pod-spoofed-name example.com/workload-mtls "$work/b.csr" "$usages" 3600 "$label"
echo "    demo-pod-spoofed-name    the same pod also asks for kubernetes.default.svc"

k8s_gen_csr "$work/c.key" "$work/c.csr" "/CN=web.$ns.svc" "URI:$spiffe,DNS:web.$ns.svc"
as "$work/plain.kubeconfig" k8s_csr_create demo-unbound-token example.com/workload-mtls "$work/c.csr" "$usages" 3600 "$label"
echo "    demo-unbound-token       a ServiceAccount token bound to no pod"

k8s_gen_csr "$work/d.key" "$work/d.csr" "/CN=web.$ns.svc" "URI:$spiffe,DNS:web.$ns.svc"
cat >"$work/by-hand.yaml" <<EOF
apiVersion: certificates.k8s.io/v1
kind: CertificateSigningRequest
metadata:
  name: demo-kubectl-create
  labels: {csr-approver.demo: "1"}
spec:
  signerName: example.com/workload-mtls
  request: $(base64 -w0 <"$work/d.csr")
  usages: [digital signature, key encipherment, server auth]
  expirationSeconds: 3600
EOF
kubectl create -f "$work/by-hand.yaml" >/dev/null
echo "    demo-kubectl-create      a user runs 'kubectl create -f csr.yaml' for the pod's names"

k8s_gen_csr "$work/e.key" "$work/e.csr" "/O=system:nodes/CN=system:node:$node" "DNS:$node,IP:192.0.2.50"
as "$work/node.kubeconfig" k8s_csr_create demo-kubelet-serving kubernetes.io/kubelet-serving "$work/e.csr" \
	"digital signature,key encipherment,server auth" "" "$label"
echo "    demo-kubelet-serving     the kubelet of $node asks for a serving certificate"

k8s_gen_csr "$work/f.key" "$work/f.csr" "/O=system:nodes/CN=system:node:$node" "DNS:$node,IP:203.0.113.9"
as "$work/node.kubeconfig" k8s_csr_create demo-kubelet-foreign-ip kubernetes.io/kubelet-serving "$work/f.csr" \
	"digital signature,key encipherment,server auth" "" "$label"
echo "    demo-kubelet-foreign-ip  the same kubelet adds an IP that is not its node's"

k8s_gen_csr "$work/g.key" "$work/g.csr" "/O=system:nodes/CN=system:node:demo-new-node"
as "$CSR_APPROVER_BOOTSTRAP_KUBECONFIG" k8s_csr_create demo-kubelet-bootstrap \
	kubernetes.io/kube-apiserver-client-kubelet "$work/g.csr" "digital signature,client auth" "" "$label"
echo "    demo-kubelet-bootstrap   a new node bootstraps its client certificate"

# docs/self-service.md: a key, a CSR for her own name and group, kubectl create.
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$work/alice.key" 2>/dev/null
openssl req -new -key "$work/alice.key" -subj "/CN=alice@example.com/O=developers" -out "$work/alice.csr"
as "$work/alice.kubeconfig" k8s_csr_create demo-person-own kubernetes.io/kube-apiserver-client "$work/alice.csr" \
	"digital signature,key encipherment,client auth" 3600 "$label"
echo "    demo-person-own          alice@example.com asks for a client certificate for herself"

k8s_gen_csr "$work/i.key" "$work/i.csr" "/CN=bob@example.com/O=developers"
as "$work/alice.kubeconfig" k8s_csr_create demo-person-other-name kubernetes.io/kube-apiserver-client \
	"$work/i.csr" "digital signature,key encipherment,client auth" 3600 "$label"
echo "    demo-person-other-name   alice asks for one in bob's name"

k8s_gen_csr "$work/h.key" "$work/h.csr" "/CN=alice"
k8s_csr_create demo-other-signer example.com/someone-else "$work/h.csr" \
	"digital signature,client auth" 3600 "$label"
echo "    demo-other-signer        a CSR of a signer without a policy: never touched"

say "decisions"
names=(demo-pod-own-names demo-pod-spoofed-name demo-unbound-token demo-kubectl-create
	demo-kubelet-serving demo-kubelet-foreign-ip demo-kubelet-bootstrap demo-person-own
	demo-person-other-name)
for n in "${names[@]}"; do
	k8s_csr_wait_condition "$n" 40 >/dev/null || true
done
sleep 1
echo
printf '%-26s %-46s %-10s %s\n' CSR REQUESTER DECISION REASON
printf '%-26s %-46s %-10s %s\n' --- --------- -------- ------
for n in "${names[@]}" demo-other-signer; do
	row=$(kubectl get csr "$n" -o jsonpath='{.spec.username}{"\t"}{range .status.conditions[*]}{.type}{" "}{.reason}{"\t"}{end}')
	user=${row%%$'\t'*}
	rest=${row#*$'\t'}
	decision=${rest%% *}
	reason=${rest#* }
	reason=${reason%%$'\t'*}
	[[ -z $decision ]] && decision=Pending reason="(not ours: left alone)"
	printf '%-26s %-46s %-10s %s\n' "$n" "$user" "$decision" "$reason"
done
echo
cert=$(kubectl get csr demo-kubelet-serving -o jsonpath='{.status.certificate}' 2>/dev/null || true)
if [[ -n $cert ]]; then
	echo "demo-kubelet-serving was signed by kube-controller-manager:"
	base64 -d <<<"$cert" | openssl x509 -noout -subject -ext subjectAltName 2>/dev/null | sed 's/^/    /'
fi
if k8s_csr_wait_cert demo-person-own "$work/alice.crt" 30; then
	echo "demo-person-own was signed by kube-controller-manager; alice builds a kubeconfig with it"
	echo "(docs/self-service.md) and the API server knows her by it:"
	kubectl --kubeconfig "$work/alice-new.kubeconfig" config set-cluster demo --server="$CSR_APPROVER_APISERVER" \
		--certificate-authority="$CSR_APPROVER_CA_CERT" --embed-certs=true >/dev/null
	kubectl --kubeconfig "$work/alice-new.kubeconfig" config set-credentials alice \
		--client-certificate="$work/alice.crt" --client-key="$work/alice.key" --embed-certs=true >/dev/null
	kubectl --kubeconfig "$work/alice-new.kubeconfig" config set-context alice --cluster=demo --user=alice >/dev/null
	kubectl --kubeconfig "$work/alice-new.kubeconfig" config use-context alice >/dev/null
	kubectl --kubeconfig "$work/alice-new.kubeconfig" auth whoami | sed 's/^/    /'
	openssl x509 -in "$work/alice.crt" -noout -enddate | sed 's/^/    certificate expires: /; s/notAfter=//'
fi
echo
echo "Why was a CSR denied? kubectl get csr NAME -o jsonpath='{.status.conditions[0].message}'"
kubectl get csr demo-pod-spoofed-name -o jsonpath='    {.status.conditions[0].message}{"\n"}'
kubectl get csr demo-person-other-name -o jsonpath='    {.status.conditions[0].message}{"\n"}'

say "csr-approver bootstrap --once, as the pod web-0"
POD_NAME=web-0 POD_NAMESPACE=$ns POD_IPS=10.244.9.5 build/csr-approver bootstrap \
	--kubeconfig "$work/pod.kubeconfig" --signer-name example.com/workload-mtls \
	--dir "$work/mtls" --dns "web.$ns.svc" --once --timeout 30s --log-format text \
	>"$work/agent.log" 2>&1 || {
	cat "$work/agent.log"
	echo "demo: the agent got no certificate" >&2
	exit 1
}
echo "    $work/mtls: $(cd "$work/mtls" && ls tls.key tls.crt ca.crt | paste -sd' ' -)"
echo "    the certificate, signed by csr-approver's CA:"
openssl x509 -in "$work/mtls/tls.crt" -noout -subject -issuer -enddate -ext subjectAltName \
	2>/dev/null | sed 's/^/      /'
echo -n "    verified against ca.crt (the ClusterTrustBundle): "
openssl verify -CAfile "$work/mtls/ca.crt" "$work/mtls/tls.crt" | sed 's/.*: //'

say "stopping the controller"
kill -TERM "$ctl_pid"
wait "$ctl_pid" && echo "    exited cleanly; its log: $log"
ctl_pid=""
