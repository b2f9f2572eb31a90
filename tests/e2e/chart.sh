#!/usr/bin/env bash
# The Helm chart against real helm and the real API server:
#   - helm lint and helm template, for the default values and for
#     tests/e2e/values-all.yaml (every value set);
#   - the values schema and the template checks refuse bad values, among
#     them more than one replica without leader election, and every kind of
#     bad policy csr-approver refuses (naming the key);
#   - the rendered objects are accepted by kube-apiserver (server-side dry
#     run in a fresh namespace; the default pod passes Pod Security
#     "restricted");
#   - the rendered policy file is one csr-approver itself accepts;
#   - deploy/csr-approver.yaml is what hack/manifests.sh renders now;
#   - the RBAC is proven: the chart's RBAC objects applied, a token minted
#     for its ServiceAccount, and what that token may and may not do asked
#     of the API server.
# Prints "ok -" / "not ok -" lines and ends with "N passed, N failed".
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/e2e/lib.sh
source "$here/lib.sh"
cd "$T_ROOT" || exit 1

CHART=charts/csr-approver
ALL=tests/e2e/values-all.yaml

t_cluster
t_tmp
T=$T_TMP
run_id=$(date +%s)-$RANDOM

# ------------------------------------------------------------------ lint, render

t_check "helm lint --strict (default values)" helm lint --strict "$CHART"
t_check "helm lint --strict (every value set)" helm lint --strict "$CHART" -f "$ALL"

if helm template csr-approver "$CHART" -n csr-approver >"$T/default.yaml" 2>"$T/err"; then
	t_ok "helm template (default values)"
else
	t_fail "helm template (default values)" "$(cat "$T/err")"
fi

kinds() { grep -E '^kind: ' "$1" | sed 's/^kind: //' | sort | tr '\n' ' ' | sed 's/ $//'; }

t_eq "default values render the expected objects" \
	"ClusterRole ClusterRoleBinding ConfigMap Deployment Pod PodDisruptionBudget Role Role RoleBinding RoleBinding Service ServiceAccount" \
	"$(kinds "$T/default.yaml")"

if helm template e2e "$CHART" -n e2e -f "$ALL" --api-versions monitoring.coreos.com/v1 \
	>"$T/all-sm.yaml" 2>"$T/err"; then
	t_ok "helm template (every value set, ServiceMonitor API present)"
else
	t_fail "helm template (every value set, ServiceMonitor API present)" "$(cat "$T/err")"
fi
t_eq "the ServiceMonitor is rendered when monitoring.coreos.com/v1 is served" \
	"1" "$(grep -c '^kind: ServiceMonitor$' "$T/all-sm.yaml")"
helm template e2e "$CHART" -n e2e -f "$ALL" --skip-tests >"$T/all.yaml" 2>"$T/err"
t_eq "and left out when it is not" "0" "$(grep -c '^kind: ServiceMonitor$' "$T/all.yaml")"

# The same values with a second spelling of every rule should render the
# same policy file the binary reads: spot-check the pre-CNI settings.
t_check "pre-CNI mode: host network, ClusterFirstWithHostNet, the three tolerations" \
	bash -c "grep -q '^      hostNetwork: true\$' '$T/all.yaml' &&
		grep -q '^      dnsPolicy: ClusterFirstWithHostNet\$' '$T/all.yaml' &&
		grep -q 'key: node-role.kubernetes.io/control-plane' '$T/all.yaml' &&
		grep -q 'key: node.cloudprovider.kubernetes.io/uninitialized' '$T/all.yaml' &&
		grep -q 'key: node.kubernetes.io/not-ready' '$T/all.yaml' &&
		grep -q 'key: example.com/dedicated' '$T/all.yaml'"
helm template x "$CHART" --set apiServer.hostFromNodeIP=true --set apiServer.port=6443 >"$T/hostip.yaml" 2>&1
t_check "apiServer.hostFromNodeIP: KUBERNETES_SERVICE_HOST from status.hostIP" \
	bash -c "grep -A3 'name: KUBERNETES_SERVICE_HOST' '$T/hostip.yaml' | grep -q 'fieldPath: status.hostIP' &&
		grep -A1 'name: KUBERNETES_SERVICE_PORT' '$T/hostip.yaml' | grep -q 'value: \"6443\"'"
t_check "values-all: KUBERNETES_SERVICE_HOST is apiServer.host" \
	bash -c "grep -A1 'name: KUBERNETES_SERVICE_HOST' '$T/all.yaml' | grep -q 'value: \"127.0.0.1\"'"
t_check "default values: no host network, no tolerations" \
	bash -c "! grep -qE 'hostNetwork|tolerations' '$T/default.yaml'"

# ------------------------------------------------------------------ refusals

out=$(helm template x "$CHART" --set replicaCount=2 --set leaderElection.enabled=false 2>&1)
if [[ $? -ne 0 && $out == *"replicaCount > 1 needs leaderElection.enabled"* ]]; then
	t_ok "more than one replica without leader election fails to render, with the reason"
else
	t_fail "more than one replica without leader election fails to render, with the reason" "$out"
fi

helm template x "$CHART" --set replicaCount=1 --set leaderElection.enabled=false >"$T/single.yaml" 2>"$T/err"
t_check "one replica without leader election renders: no PDB, no lease Role, --leader-elect=false" \
	bash -c "grep -q -- '- --leader-elect=false' '$T/single.yaml' &&
		! grep -qE '^kind: PodDisruptionBudget\$' '$T/single.yaml' &&
		! grep -qE '^  name: .*-leader-election\$' '$T/single.yaml'"

refuse() { # DESC WANT_IN_ERROR HELM_ARGS...
	local desc=$1 want=$2 out
	shift 2
	if out=$(helm template x "$CHART" "$@" 2>&1); then
		t_fail "$desc" "rendered without error"
	elif [[ $out != *"$want"* ]]; then
		t_fail "$desc" "error does not mention \"$want\":"$'\n'"$out"
	else
		t_ok "$desc"
	fi
}

cat >"$T/bad-serving.yaml" <<'EOF'
policies:
  - name: kubelet-serving
    signerName: kubernetes.io/kubelet-serving
    type: kubelet-serving
    namespaces: ["*"]
EOF
cat >"$T/dup-signer.yaml" <<'EOF'
policies:
  - {name: a, signerName: example.com/x, type: workload}
  - {name: b, signerName: example.com/x, type: workload}
EOF
cat >"$T/dup-name.yaml" <<'EOF'
policies:
  - {name: a, signerName: example.com/x, type: workload}
  - {name: a, signerName: example.com/y, type: workload}
EOF
refuse "schema: unknown top-level value" "additional properties" --set replicas=2
refuse "schema: unknown policy key" "additional properties" --set 'policies[0].name=p' \
	--set 'policies[0].signerName=example.com/p' --set 'policies[0].type=workload' --set 'policies[0].allowedSANs=x'
refuse "schema: unknown policy type" "type" --set 'policies[0].name=p' \
	--set 'policies[0].signerName=example.com/p' --set 'policies[0].type=kubelet'
refuse "schema: policy without signerName" "signerName" --set 'policies[0].name=p' --set 'policies[0].type=workload'
refuse "schema: a workload key on a kubelet-serving policy" "policies" -f "$T/bad-serving.yaml"
refuse "schema: unknown allowedNames entry" "allowedNames" --set 'policies[0].name=p' \
	--set 'policies[0].signerName=example.com/p' --set 'policies[0].type=workload' --set 'policies[0].allowedNames={email}'
refuse "schema: bad log format" "logFormat" --set logFormat=yaml
refuse "schema: bad lease duration" "leaseDuration" --set leaderElection.leaseDuration=15
refuse "apiServer: host and hostFromNodeIP together" "set host or hostFromNodeIP, not both" \
	--set apiServer.host=10.0.0.1 --set apiServer.hostFromNodeIP=true --set apiServer.port=6443
refuse "apiServer: an address without a port" "apiServer.port is required" --set apiServer.host=10.0.0.1
refuse "two policies for one signerName" 'signerName "example.com/x" is used by' -f "$T/dup-signer.yaml"
refuse "two policies with one name" 'the name "a" is used twice' -f "$T/dup-name.yaml"

# ------------------------------------------------------------------ the binary reads the policy file

# policy_of RENDERED OUT: the policy.yaml of the ConfigMap (a literal block
# indented by 4 under "  policy.yaml: |"), read offline.
policy_of() {
	awk '/^  policy\.yaml: \|$/ {on = 1; next}
		on && /^    / {print substr($0, 5); next}
		on {exit}' "$1" >"$2"
}

bin=${CSR_APPROVER_BIN:-build/csr-approver}
if [[ ! -x $bin ]]; then
	make -s "$bin" >"$T/make.log" 2>&1 || true
fi
if [[ -x $bin ]]; then
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout /dev/null \
		-subj "/CN=e2e" -out "$T/req.pem" 2>/dev/null
	cat >"$T/csr.yaml" <<EOF
apiVersion: certificates.k8s.io/v1
kind: CertificateSigningRequest
metadata:
  name: e2e-unconfigured-signer
spec:
  signerName: example.com/no-policy-here
  usages: ["digital signature"]
  username: e2e
  request: $(base64 -w0 <"$T/req.pem")
EOF
	for v in default all; do
		if policy_of "$T/$v.yaml" "$T/policy-$v.yaml" && [[ -s $T/policy-$v.yaml ]]; then
			"$bin" check --config "$T/policy-$v.yaml" "$T/csr.yaml" >"$T/check.out" 2>"$T/check.err"
			rc=$?
			if [[ $rc -eq 3 ]]; then
				t_ok "csr-approver check accepts the rendered policy file ($v values)"
			else
				t_fail "csr-approver check accepts the rendered policy file ($v values)" \
					"exit $rc: $(cat "$T/check.err" "$T/check.out")"$'\n'"$(cat "$T/policy-$v.yaml")"
			fi
		else
			t_fail "the rendered ConfigMap holds policy.yaml ($v values)"
		fi
	done
else
	t_fail "csr-approver is built (to read the rendered policy files)" "$(tail -n 20 "$T/make.log")"
fi

# ------------------------------------------------------------------ the chart refuses what the binary refuses

# A bad policy must fail at `helm install`, not as a CrashLoopBackOff: each
# file below is both a values file and a policy file. csr-approver refuses
# it (exit 2), and helm refuses it naming the key: the schema where JSON
# Schema can say it (its path), the templates for the rest (the binary's
# own message).
bad_policy() { # NAME WANT_IN_HELM_ERROR < YAML
	local f=$T/bad-$1.yaml rc
	cat >"$f"
	"$bin" check --config "$f" >"$T/bad.out" 2>"$T/bad.err"
	rc=$?
	t_eq "$1: csr-approver refuses the policy file" 2 "$rc"
	refuse "$1: helm refuses it, naming the key" "$2" -f "$f"
}
serving='  - name: s
    signerName: kubernetes.io/kubelet-serving
    type: kubelet-serving'
if [[ -x $bin ]]; then
	bad_policy regex-bracket "at '/policies/0/dnsNameRegex'" <<EOF
policies:
$serving
    dnsNameRegex: "[a-"
EOF
	bad_policy regex-stacked "at '/policies/0/dnsNameRegex'" <<EOF
policies:
$serving
    dnsNameRegex: "a+++++++++++++++++++++++++"
EOF
	bad_policy regex-backreference "at '/policies/0/dnsNameRegex'" <<EOF
policies:
$serving
    dnsNameRegex: '(a)\1'
EOF
	bad_policy cidr-host-bits 'policies[0].ipPrefixes[1]: invalid CIDR "10.0.0.1/8": host bits are set (the network is 10.0.0.0/8)' <<EOF
policies:
$serving
    ipPrefixes: [10.0.0.0/8, 10.0.0.1/8]
EOF
	bad_policy cidr6-host-bits 'policies[0].ipPrefixes[1]: invalid CIDR "fd00::1/64": host bits are set' <<EOF
policies:
$serving
    ipPrefixes: ["10.0.0.0/8", "fd00::1/64"]
EOF
	bad_policy cidr-syntax "at '/policies/0/ipPrefixes/0'" <<EOF
policies:
$serving
    ipPrefixes: [10.0.0.0]
EOF
	bad_policy signer-name "at '/policies/0/signerName'" <<'EOF'
policies:
  - {name: w, signerName: x/y, type: workload}
EOF
	bad_policy expiration-order 'policies[0]: minExpirationSeconds (7200) is greater than maxExpirationSeconds (3600)' <<'EOF'
policies:
  - {name: w, signerName: example.com/w, type: workload, minExpirationSeconds: 7200, maxExpirationSeconds: 3600}
EOF
	bad_policy expiration-default-max 'policies[0]: minExpirationSeconds (90000) is greater than maxExpirationSeconds (86400)' <<'EOF'
policies:
  - {name: w, signerName: example.com/w, type: workload, minExpirationSeconds: 90000}
EOF
	bad_policy usages-of-type "at '/policies/0/usages/0'" <<EOF
policies:
$serving
    usages: [client auth]
EOF
	bad_policy usages-lack-required "at '/policies/0/usages'" <<'EOF'
policies:
  - {name: c, signerName: kubernetes.io/kube-apiserver-client-kubelet, type: kubelet-client, usages: [key encipherment]}
EOF
	bad_policy client-system-group "at '/policies/0/allowedGroups/1'" <<'EOF'
policies:
  - {name: c, signerName: kubernetes.io/kube-apiserver-client, type: client, allowedGroups: [developers, "system:masters"]}
EOF
	bad_policy client-max-sans "at '/policies/0/maxSANs'" <<'EOF'
policies:
  - {name: c, signerName: kubernetes.io/kube-apiserver-client, type: client, maxSANs: 1}
EOF
	bad_policy client-usages "at '/policies/0/usages/0'" <<'EOF'
policies:
  - {name: c, signerName: kubernetes.io/kube-apiserver-client, type: client, usages: [server auth]}
EOF
	bad_policy client-requesters-key "at '/policies/0/requesters'" <<'EOF'
policies:
  - {name: c, signerName: kubernetes.io/kube-apiserver-client, type: client, requesters: {user: [a]}}
EOF
	bad_policy client-expiration-default-max 'policies[0]: minExpirationSeconds (30000) is greater than maxExpirationSeconds (28800)' <<'EOF'
policies:
  - {name: c, signerName: kubernetes.io/kube-apiserver-client, type: client, minExpirationSeconds: 30000}
EOF
	bad_policy requesters-on-workload "at '/policies/0/requesters'" <<'EOF'
policies:
  - {name: w, signerName: example.com/w, type: workload, requesters: {users: [a]}}
EOF
	bad_policy key-of-another-type "at '/policies/0/namespaces'" <<EOF
policies:
$serving
    namespaces: [a]
EOF
	bad_policy max-sans "at '/policies/0/maxSANs'" <<'EOF'
policies:
  - {name: w, signerName: example.com/w, type: workload, maxSANs: 2000}
EOF
	bad_policy cluster-domain "at '/clusterDomain'" <<'EOF'
clusterDomain: cluster..local
policies: []
EOF
	# ...and nothing the binary accepts is refused.
	for f in docs/examples/policy.yaml tests/testdata/policy/every-key.yaml tests/testdata/policy/spec-example.yaml \
		tests/fuzz/corpus/config/client.yaml; do
		t_check "csr-approver and helm both accept $f" \
			bash -c "'$bin' check --config '$f' >/dev/null && helm template x '$CHART' -f '$f' >/dev/null"
	done
fi

# ------------------------------------------------------------------ deploy/ is current

if hack/manifests.sh "$T/deploy.yaml" 2>"$T/err"; then
	if diff -u deploy/csr-approver.yaml "$T/deploy.yaml" >"$T/deploy.diff"; then
		t_ok "deploy/csr-approver.yaml is current (hack/manifests.sh renders the same)"
	else
		t_fail "deploy/csr-approver.yaml is current (run: make manifests)" "$(head -n 40 "$T/deploy.diff")"
	fi
else
	t_fail "hack/manifests.sh renders" "$(cat "$T/err")"
fi

# ------------------------------------------------------------------ the API server accepts them

# Server-side dry run: admission, validation and defaulting, nothing stored.
dry_run() { # DESC NS FILE (NS "": each object carries its own namespace)
	local out ns=()
	[[ -n $2 ]] && ns=(-n "$2")
	if out=$(kubectl apply --dry-run=server "${ns[@]}" -f "$3" 2>&1); then
		if grep -q 'would violate PodSecurity' <<<"$out"; then
			t_fail "$1" "$out"
		else
			t_ok "$1"
		fi
	else
		t_fail "$1" "$out"
	fi
}

# Pods are admitted only once their ServiceAccount exists:
# kube-controller-manager makes "default" soon after the namespace
# (k8s_sa_wait).

ns_restricted="" ns_all="" ns_rbac=""
e2e_ns ns_restricted e2e-chart pod-security.kubernetes.io/enforce=restricted \
	pod-security.kubernetes.io/warn=restricted || t_abort "create a namespace"
k8s_sa_wait "$ns_restricted" default 30 || t_fail "the namespace's default ServiceAccount appears"
helm template "e2e-$run_id" "$CHART" -n "$ns_restricted" >"$T/default-ns.yaml"
# The events Role lives in "default", the rest in the release namespace:
# every namespaced object names its own.
dry_run "default values: accepted by kube-apiserver, helm test pod included (dry run, Pod Security restricted)" \
	"" "$T/default-ns.yaml"
# The pod below runs as the chart's ServiceAccount: make it for real.
kubectl create serviceaccount -n "$ns_restricted" "e2e-$run_id-csr-approver" >/dev/null 2>&1

# The Deployment's pod itself, through Pod admission (restricted profile).
if kubectl apply --dry-run=server -n "$ns_restricted" -o json \
	-f <(awk 'BEGIN{RS="\n---\n"} /\nkind: Deployment\n/ {print}' "$T/default-ns.yaml") >"$T/deploy.json" 2>"$T/err" &&
	jq '{apiVersion: "v1", kind: "Pod", metadata: (.spec.template.metadata + {name: "e2e-pod"}), spec: .spec.template.spec}' \
		"$T/deploy.json" >"$T/pod.json"; then
	dry_run "default values: the pod is admitted under Pod Security restricted" "$ns_restricted" "$T/pod.json"
else
	t_fail "default values: the pod is admitted under Pod Security restricted" "$(cat "$T/err")"
fi

e2e_ns ns_all e2e-chart-all || t_abort "create a namespace"
k8s_sa_wait "$ns_all" default 30 || t_fail "the namespace's default ServiceAccount appears"
helm template "e2e-all-$run_id" "$CHART" -n "$ns_all" -f "$ALL" \
	--set fullnameOverride="e2e-all-$run_id" >"$T/all-ns.yaml"
dry_run "every value set: accepted by kube-apiserver (dry run; no ServiceMonitor without its CRD)" \
	"" "$T/all-ns.yaml"

# ------------------------------------------------------------------ RBAC, proven

# ssar KUBECONFIG VERB GROUP RESOURCE SUBRESOURCE NAME NS: "true" or "false",
# asked with the token itself (SelfSubjectAccessReview). kubectl auth can-i
# cannot ask about signers (not a served resource), hence the raw review.
ssar() {
	local kc=$1
	shift
	jq -n --arg verb "$1" --arg group "$2" --arg resource "$3" --arg sub "$4" --arg name "$5" --arg ns "$6" \
		'{apiVersion: "authorization.k8s.io/v1", kind: "SelfSubjectAccessReview",
		  spec: {resourceAttributes: {verb: $verb, group: $group, resource: $resource,
		         subresource: $sub, name: $name, namespace: $ns}}}' >"$T/ssar.json"
	KUBECONFIG=$kc kubectl create --raw /apis/authorization.k8s.io/v1/selfsubjectaccessreviews \
		-f "$T/ssar.json" 2>&1 | jq -r '.status.allowed // false'
}

may() { # DESC KUBECONFIG VERB GROUP RESOURCE SUBRESOURCE NAME NS
	local desc=$1
	shift
	t_eq "$desc" true "$(ssar "$@")"
}

may_not() {
	local desc=$1
	shift
	t_eq "$desc" false "$(ssar "$@")"
}

can_i() { # WANT(yes|no) NS SA ARGS...: kubectl auth can-i --as the ServiceAccount
	local want=$1 ns=$2 sa=$3 got
	shift 3
	got=$(kubectl auth can-i "$@" --as="system:serviceaccount:$ns:$sa" 2>/dev/null)
	t_eq "kubectl auth can-i $* as $ns/$sa: $want" "$want" "$got"
}

# Default values: one kubelet-serving policy.
rel=e2e-rbac-$run_id
e2e_ns ns_rbac e2e-rbac || t_abort "create a namespace"
if chart_rbac "$ns_rbac" "$rel" && sa_kubeconfig "$ns_rbac" "$rel" "$T/kc-default"; then
	t_ok "default values: RBAC applied, token minted for $ns_rbac/$rel"
	kc=$T/kc-default
	t_eq "the token authenticates as the chart's ServiceAccount" \
		"system:serviceaccount:$ns_rbac:$rel" \
		"$(KUBECONFIG=$kc kubectl auth whoami -o jsonpath='{.status.userInfo.username}' 2>&1)"
	may "may list and watch CertificateSigningRequests" "$kc" watch certificates.k8s.io certificatesigningrequests "" "" ""
	may "may update certificatesigningrequests/approval" "$kc" update certificates.k8s.io certificatesigningrequests approval "" ""
	may "may approve signers/kubernetes.io/kubelet-serving" "$kc" approve certificates.k8s.io signers "" kubernetes.io/kubelet-serving ""
	may_not "may not approve signers/kubernetes.io/kube-apiserver-client" "$kc" approve certificates.k8s.io signers "" kubernetes.io/kube-apiserver-client ""
	may_not "may not approve signers/example.com/other" "$kc" approve certificates.k8s.io signers "" example.com/other ""
	may_not "may not approve signers/kubernetes.io/* (the domain wildcard)" "$kc" approve certificates.k8s.io signers "" "kubernetes.io/*" ""
	may_not "may not sign (a signer's verb)" "$kc" sign certificates.k8s.io signers "" kubernetes.io/kubelet-serving ""
	may_not "may not update certificatesigningrequests/status (a signer's write)" "$kc" update certificates.k8s.io certificatesigningrequests status "" ""
	may_not "may not delete CertificateSigningRequests" "$kc" delete certificates.k8s.io certificatesigningrequests "" "" ""
	may "may list nodes (kubelet-serving policy)" "$kc" list "" nodes "" "" ""
	may_not "may not list pods (no workload policy)" "$kc" list "" pods "" "" ""
	may_not "may not list services (no workload policy)" "$kc" list "" services "" "" ""
	may_not "may not create SubjectAccessReviews (no kubelet-client policy)" "$kc" create authorization.k8s.io subjectaccessreviews "" "" ""
	may_not "may not get secrets in its namespace" "$kc" get "" secrets "" "" "$ns_rbac"
	may_not "may not list secrets anywhere" "$kc" list "" secrets "" "" ""
	may_not "may not create pods" "$kc" create "" pods "" "" "$ns_rbac"
	may_not "may not patch pods" "$kc" patch "" pods "" "" "$ns_rbac"
	may "may create events (on CSRs, in default)" "$kc" create "" events "" "" default
	may_not "may not create events in its own namespace (only where CSR events live)" "$kc" create "" events "" "" "$ns_rbac"
	may_not "may not patch events" "$kc" patch "" events "" "" default
	may "may create leases in its namespace" "$kc" create coordination.k8s.io leases "" "" "$ns_rbac"
	may "may get and update its own lease" "$kc" update coordination.k8s.io leases "" "$rel" "$ns_rbac"
	may_not "may not update another lease" "$kc" update coordination.k8s.io leases "" kube-scheduler "$ns_rbac"
	may_not "may not update its lease name in kube-system" "$kc" update coordination.k8s.io leases "" "$rel" kube-system
	may_not "may not delete its lease" "$kc" delete coordination.k8s.io leases "" "$rel" "$ns_rbac"
	can_i yes "$ns_rbac" "$rel" update certificatesigningrequests.certificates.k8s.io --subresource=approval
	can_i no "$ns_rbac" "$rel" get secrets -n "$ns_rbac"
	can_i no "$ns_rbac" "$rel" get secrets -A
	can_i no "$ns_rbac" "$rel" create pods -n "$ns_rbac"
	can_i no "$ns_rbac" "$rel" patch pods -n kube-system
else
	t_fail "default values: RBAC applied, token minted for $ns_rbac/$rel"
fi

# Every value set: workload, kubelet-serving and kubelet-client policies.
rel=e2e-rbac-all-$run_id
if chart_rbac "$ns_rbac" "$rel" -f "$ALL" && sa_kubeconfig "$ns_rbac" e2e-approver "$T/kc-all"; then
	t_ok "every value set: RBAC applied, token minted for $ns_rbac/e2e-approver"
	kc=$T/kc-all
	may "may approve signers/example.com/workload-mtls" "$kc" approve certificates.k8s.io signers "" example.com/workload-mtls ""
	may "may approve signers/kubernetes.io/kubelet-serving" "$kc" approve certificates.k8s.io signers "" kubernetes.io/kubelet-serving ""
	may "may approve signers/kubernetes.io/kube-apiserver-client-kubelet" "$kc" approve certificates.k8s.io signers "" kubernetes.io/kube-apiserver-client-kubelet ""
	may "may approve signers/client.example.com/self-service (client policy)" "$kc" approve certificates.k8s.io signers "" client.example.com/self-service ""
	may_not "may not approve signers/kubernetes.io/kube-apiserver-client" "$kc" approve certificates.k8s.io signers "" kubernetes.io/kube-apiserver-client ""
	may "may watch pods (workload policy)" "$kc" watch "" pods "" "" ""
	may "may watch services (workload policy)" "$kc" watch "" services "" "" ""
	may "may watch nodes (kubelet-serving policy)" "$kc" watch "" nodes "" "" ""
	may "may create SubjectAccessReviews (kubelet-client policy)" "$kc" create authorization.k8s.io subjectaccessreviews "" "" ""
	may "may update the configured lease" "$kc" update coordination.k8s.io leases "" e2e-csr-approver-leader "$ns_rbac"
	may_not "may not update the default lease name" "$kc" update coordination.k8s.io leases "" e2e-csr-approver "$ns_rbac"
	may_not "may not get secrets" "$kc" get "" secrets "" "" "$ns_rbac"
	may_not "may not create pods" "$kc" create "" pods "" "" "$ns_rbac"
	may_not "may not update pods" "$kc" update "" pods "" "" "$ns_rbac"
else
	t_fail "every value set: RBAC applied, token minted for $ns_rbac/e2e-approver"
fi

# A client policy alone: approve on its signer, and nothing it does not
# need (it decides on the request: no pods, services, nodes, reviews).
rel=e2e-rbac-client-$run_id
cat >"$T/client-only.yaml" <<'EOF'
policies:
  - name: self-service
    signerName: kubernetes.io/kube-apiserver-client
    type: client
    requesters: {users: ["*@example.com"]}
    allowedGroups: [developers]
EOF
if chart_rbac "$ns_rbac" "$rel" -f "$T/client-only.yaml" && sa_kubeconfig "$ns_rbac" "$rel" "$T/kc-client"; then
	t_ok "client policy: RBAC applied, token minted for $ns_rbac/$rel"
	kc=$T/kc-client
	may "may approve signers/kubernetes.io/kube-apiserver-client (its policy's signer)" "$kc" approve certificates.k8s.io signers "" kubernetes.io/kube-apiserver-client ""
	may_not "may not approve signers/kubernetes.io/kube-apiserver-client-kubelet" "$kc" approve certificates.k8s.io signers "" kubernetes.io/kube-apiserver-client-kubelet ""
	may_not "may not approve signers/kubernetes.io/kubelet-serving" "$kc" approve certificates.k8s.io signers "" kubernetes.io/kubelet-serving ""
	may_not "may not approve signers/kubernetes.io/* (the domain wildcard)" "$kc" approve certificates.k8s.io signers "" "kubernetes.io/*" ""
	may_not "may not sign signers/kubernetes.io/kube-apiserver-client" "$kc" sign certificates.k8s.io signers "" kubernetes.io/kube-apiserver-client ""
	may_not "may not list pods (no workload policy)" "$kc" list "" pods "" "" ""
	may_not "may not list nodes (no kubelet-serving policy)" "$kc" list "" nodes "" "" ""
	may_not "may not create SubjectAccessReviews (no kubelet-client policy)" "$kc" create authorization.k8s.io subjectaccessreviews "" "" ""
	may_not "may not create CertificateSigningRequests" "$kc" create certificates.k8s.io certificatesigningrequests "" "" ""
else
	t_fail "client policy: RBAC applied, token minted for $ns_rbac/$rel"
fi

# No policies at all: no approve rule (an empty resourceNames would mean
# every signer).
helm template x "$CHART" --set-json 'policies=[]' -s templates/clusterrole.yaml >"$T/nopol.yaml" 2>"$T/err"
t_check "no policies: the ClusterRole has no approve rule at all" \
	bash -c "grep -q 'kind: ClusterRole' '$T/nopol.yaml' &&
		! grep -qE 'resources: \\[\"signers\"\\]|verbs: \\[\"approve\"\\]|resourceNames' '$T/nopol.yaml'"

t_done
