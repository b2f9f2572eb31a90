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
	"ClusterRole ClusterRole ClusterRoleBinding ConfigMap Deployment Pod PodDisruptionBudget Role Role RoleBinding RoleBinding Service ServiceAccount" \
	"$(kinds "$T/default.yaml")"
helm template x "$CHART" --set requesterRole.create=false >"$T/norequester.yaml" 2>"$T/err"
t_eq "requesterRole.create=false: one ClusterRole fewer" \
	"ClusterRole ClusterRoleBinding ConfigMap Deployment Pod PodDisruptionBudget Role Role RoleBinding RoleBinding Service ServiceAccount" \
	"$(kinds "$T/norequester.yaml")"

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

# ------------------------------------------------------------------ the built-in signer: rendering

# A run-unique signer, so that the live checks below meet no object of an
# earlier run.
sig=e2e.example.com/mtls-$run_id
other_sig=e2e.example.com/other-$run_id
bundle=e2e.example.com:mtls-$run_id:ca
cat >"$T/issuer.yaml" <<EOF
policies:
  - name: mtls
    signerName: $sig
    type: workload
    issuer: {secretName: mtls-ca, lifetime: 12h}
    podCertificates: true
  - name: kubelet-serving
    signerName: kubernetes.io/kubelet-serving
    type: kubelet-serving
EOF
if helm lint --strict "$CHART" -f "$T/issuer.yaml" >"$T/err" 2>&1 &&
	helm template e2e "$CHART" -n e2e -f "$T/issuer.yaml" >"$T/issuer-out.yaml" 2>"$T/err" &&
	kubectl create --dry-run=client -o json -f "$T/issuer-out.yaml" >"$T/issuer-out.json" 2>"$T/err"; then
	t_ok "an issuer and podCertificates: helm lint --strict and helm template"
else
	t_fail "an issuer and podCertificates: helm lint --strict and helm template" "$(cat "$T/err")"
fi
# obj FILE KIND [NAME]: the rendered objects of that kind (and name), as JSON.
obj() {
	jq -c --arg kind "$2" --arg name "${3:-}" 'if .kind == "List" then .items[] else . end
		| select(.kind == $kind and ($name == "" or .metadata.name == $name))' "$1"
}
policy_file=$(obj "$T/issuer-out.json" ConfigMap | jq -r '.data["policy.yaml"]')
t_check "the policy file: issuer becomes issue, with the CA files under /etc/csr-approver/ca/POLICY/" \
	grep -qzF -e "- issue:
    caCertFile: /etc/csr-approver/ca/mtls/tls.crt
    caKeyFile: /etc/csr-approver/ca/mtls/tls.key
    lifetime: 12h
  name: mtls
  podCertificates: true" <<<"$policy_file"
t_check "the policy file: no secretName (a chart value), no issuer key" \
	bash -c '! grep -qE "secretName|issuer" <<<"$1"' _ "$policy_file"
dep=$(obj "$T/issuer-out.json" Deployment)
t_eq "the Deployment: one projected volume, the policy file and the CA Secret's two files, mode 0440" \
	'[{"configMap":{"items":[{"key":"policy.yaml","path":"policy.yaml"}],"name":"e2e-csr-approver"}},{"secret":{"items":[{"key":"tls.crt","mode":288,"path":"ca/mtls/tls.crt"},{"key":"tls.key","mode":288,"path":"ca/mtls/tls.key"}],"name":"mtls-ca"}}]' \
	"$(jq -c '.spec.template.spec.volumes | map(select(.name == "config")) | .[0].projected.sources' <<<"$dep")"
t_eq "the Deployment: mounted read-only at /etc/csr-approver, no subPath (a Secret update reaches the files)" \
	'[{"mountPath":"/etc/csr-approver","name":"config","readOnly":true}]' \
	"$(jq -c '.spec.template.spec.containers[0].volumeMounts' <<<"$dep")"
t_eq "the Deployment: fsGroup is runAsGroup, so that the process (65532) reads the 0440 files" \
	"65532 65532" "$(jq -r '.spec.template.spec.securityContext | "\(.runAsUser) \(.fsGroup)"' <<<"$dep")"
t_eq "the Deployment: a Secret rotation does not roll the pods (only the policy file's checksum is an annotation)" \
	"checksum/config" "$(jq -r '.spec.template.metadata.annotations | keys | join(",")' <<<"$dep")"
helm template e2e "$CHART" -n e2e -f "$T/issuer.yaml" --set podSecurityContext.fsGroup=2000 \
	-s templates/deployment.yaml >"$T/fsgroup.yaml" 2>"$T/err"
t_check "an fsGroup of the values is kept" grep -q '^        fsGroup: 2000$' "$T/fsgroup.yaml"
t_check "default values: the plain ConfigMap volume, no fsGroup" \
	bash -c "grep -qE '^          configMap:\$' '$T/default.yaml' && ! grep -qE 'projected:|fsGroup' '$T/default.yaml'"

# The ClusterRole's rules, one line each: GROUPS RESOURCES NAMES VERBS.
rules_of() { # FILE NAME
	obj "$1" ClusterRole "$2" | jq -r '.rules[] | [(.apiGroups | map(if . == "" then "core" else . end) | join(",")),
		(.resources | join(",")), (.resourceNames // ["*"] | join(",")), (.verbs | join(","))] | join(" ")'
}
t_eq "the ClusterRole: the approver's rules, then for the issuing policy exactly sign, status, attest, its bundle, PodCertificateRequests and the get of their service accounts and nodes" \
	"certificates.k8s.io certificatesigningrequests * get,list,watch
certificates.k8s.io certificatesigningrequests/approval * update
certificates.k8s.io signers $sig,kubernetes.io/kubelet-serving approve
core pods,services * get,list,watch
core nodes * get,list,watch
certificates.k8s.io certificatesigningrequests/status * update
certificates.k8s.io signers $sig sign
certificates.k8s.io signers $sig attest
certificates.k8s.io clustertrustbundles * create
certificates.k8s.io clustertrustbundles $bundle get,update
certificates.k8s.io podcertificaterequests * get,list,watch
certificates.k8s.io podcertificaterequests/status * update
core serviceaccounts,nodes * get" \
	"$(rules_of "$T/issuer-out.json" e2e-csr-approver)"
helm template e2e "$CHART" -f "$T/issuer.yaml" --set-json 'policies[0].issuer={"secretName":"mtls-ca","trustBundle":false}' \
	--set-json 'policies[0].podCertificates=false' -s templates/clusterrole.yaml >"$T/notb.yaml" 2>"$T/err" &&
	kubectl create --dry-run=client -o json -f "$T/notb.yaml" >"$T/notb.json" 2>>"$T/err"
t_eq "trustBundle: false and podCertificates: false: sign and status only (no attest, no bundle, no PodCertificateRequests)" \
	"certificates.k8s.io certificatesigningrequests/status * update
certificates.k8s.io signers $sig sign" \
	"$(rules_of "$T/notb.json" e2e-csr-approver | grep -E 'status|sign$|attest|clustertrustbundles|podcertificaterequests')"
helm template x "$CHART" -s templates/clusterrole.yaml >"$T/default-cr.yaml" 2>"$T/err"
t_check "default values: no sign, attest, status, ClusterTrustBundle or PodCertificateRequest rule" \
	bash -c "grep -q 'kind: ClusterRole' '$T/default-cr.yaml' &&
		! grep -qE '\"sign\"|attest|/status|clustertrustbundles|podcertificaterequests' '$T/default-cr.yaml'"
kubectl create --dry-run=client -o json -f "$T/all.yaml" >"$T/all.json" 2>"$T/err"
t_eq "every value set: sign on both issuing signers; attest and a bundle only where trustBundle is not false" \
	"certificates.k8s.io signers example.com/workload-mtls,example.com/pod-mtls sign
certificates.k8s.io signers example.com/pod-mtls attest
certificates.k8s.io clustertrustbundles example.com:pod-mtls:ca get,update" \
	"$(rules_of "$T/all.json" e2e-csr-approver | grep -E ' (sign|attest|get,update)$')"
t_eq "the requesters ClusterRole: create and read CSRs, read ClusterTrustBundles, nothing else" \
	"certificates.k8s.io certificatesigningrequests * create,get,list,watch
certificates.k8s.io clustertrustbundles * get,list,watch" \
	"$(rules_of "$T/issuer-out.json" e2e-csr-approver-requester)"
t_eq "every value set: the requesters ClusterRole carries requesterRole.name" \
	"e2e-csr-requester" "$(obj "$T/all.json" ClusterRole e2e-csr-requester | jq -r .metadata.name)"

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

# The built-in signer's values, refused where they are wrong, at the key.
issuer_policy() { # LINE...: a workload policy with these lines added
	printf 'policies:\n  - name: w\n    signerName: example.com/w\n    type: workload\n'
	printf '    %s\n' "$@"
}
issuer_policy 'issuer: {secretName: w-ca}' >"$T/ok-issuer.yaml"
t_check "issuer: a workload policy with only secretName renders" helm template x "$CHART" -f "$T/ok-issuer.yaml"
refuse "issuer: on a kubelet-serving policy" "at '/policies/0/issuer'" \
	--set-json 'policies=[{"name":"s","signerName":"kubernetes.io/kubelet-serving","type":"kubelet-serving","issuer":{"secretName":"ca"}}]'
refuse "podCertificates: on a kubelet-client policy" "at '/policies/0/podCertificates'" \
	--set-json 'policies=[{"name":"c","signerName":"kubernetes.io/kube-apiserver-client-kubelet","type":"kubelet-client","podCertificates":false}]'
issuer_policy 'podCertificates: true' >"$T/bad-pcr.yaml"
refuse "podCertificates: true without an issuer" "at '/policies/0/podCertificates'" -f "$T/bad-pcr.yaml"
issuer_policy 'issuer: {lifetime: 24h}' >"$T/bad-nosecret.yaml"
refuse "issuer: without secretName" "missing property 'secretName'" -f "$T/bad-nosecret.yaml"
issuer_policy 'issuer: {secretName: Workload_CA}' >"$T/bad-secret.yaml"
refuse "issuer.secretName: not a DNS-1123 name" "at '/policies/0/issuer/secretName'" -f "$T/bad-secret.yaml"
issuer_policy 'issuer: {secretName: w-ca, lifetime: 1d}' >"$T/bad-lifetime.yaml"
refuse "issuer.lifetime: not a Go duration (1d)" "at '/policies/0/issuer/lifetime'" -f "$T/bad-lifetime.yaml"
issuer_policy 'issuer: {secretName: w-ca, lifetime: 24}' >"$T/bad-lifetime-int.yaml"
refuse "issuer.lifetime: a number without a unit" "at '/policies/0/issuer/lifetime'" -f "$T/bad-lifetime-int.yaml"
issuer_policy 'issuer: {secretName: w-ca, backdate: 5 minutes}' >"$T/bad-backdate.yaml"
refuse "issuer.backdate: not a Go duration" "at '/policies/0/issuer/backdate'" -f "$T/bad-backdate.yaml"
issuer_policy 'issuer: {secretName: w-ca, trustBundle: "yes"}' >"$T/bad-tb.yaml"
refuse "issuer.trustBundle: not a boolean" "at '/policies/0/issuer/trustBundle'" -f "$T/bad-tb.yaml"
issuer_policy 'issuer: {secretName: w-ca, caCertFile: /ca.crt}' >"$T/bad-cafile.yaml"
refuse "issuer: the policy file's caCertFile is not a value (the chart mounts the Secret)" \
	"additional properties 'caCertFile' not allowed" -f "$T/bad-cafile.yaml"
issuer_policy 'issue: {caCertFile: /ca.crt, caKeyFile: /ca.key}' >"$T/bad-issue.yaml"
refuse "issue: the policy file's spelling is not a value (issuer is)" "additional properties 'issue' not allowed" \
	-f "$T/bad-issue.yaml"
refuse "requesterRole.name: not an RBAC name" "at '/requesterRole/name'" --set requesterRole.name=Bad/Name

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
	bad_policy pod-certificates-without-issue "at '/policies/0/podCertificates'" <<'EOF'
policies:
  - {name: w, signerName: example.com/w, type: workload, podCertificates: true}
EOF
	# An issuer is a chart value (a Secret) that the chart renders as the
	# policy file's issue: (its files). The same mistake in both: the binary
	# refuses the policy file, helm the values, naming the key.
	issuer_pair() { # NAME ISSUE_KEYS POLICY_LINE: writes $T/pair-NAME-{policy,values}.yaml
		local head
		head=$(printf 'policies:\n  - name: w\n    signerName: example.com/w\n    type: workload\n')
		[[ -n $3 ]] && head+=$'\n'"    $3"
		printf '%s\n    issue: {caCertFile: /etc/csr-approver/ca/w/tls.crt, caKeyFile: /etc/csr-approver/ca/w/tls.key%s}\n' \
			"$head" "${2:+, $2}" >"$T/pair-$1-policy.yaml"
		printf '%s\n    issuer: {secretName: w-ca%s}\n' "$head" "${2:+, $2}" >"$T/pair-$1-values.yaml"
	}
	bad_issuer() { # NAME WANT_IN_HELM_ERROR ISSUE_KEYS [POLICY_LINE]
		local rc
		issuer_pair "$1" "$3" "${4:-}"
		"$bin" check --config "$T/pair-$1-policy.yaml" >"$T/bad.out" 2>"$T/bad.err"
		rc=$?
		t_eq "$1: csr-approver refuses the issue: block" 2 "$rc"
		refuse "$1: helm refuses the issuer, naming the key" "$2" -f "$T/pair-$1-values.yaml"
	}
	bad_issuer lifetime-short 'policies[0].issuer.lifetime: "30s" is out of range [60s, 3162240000s]' 'lifetime: 30s'
	bad_issuer lifetime-zero 'policies[0].issuer.lifetime: "0" is out of range [60s, 3162240000s]' 'lifetime: "0"'
	bad_issuer lifetime-centuries 'policies[0].issuer.lifetime: "900000h" is out of range' 'lifetime: 900000h'
	bad_issuer lifetime-fraction-of-second \
		'policies[0].issuer.lifetime: expected a duration in whole seconds like 24h or 90m, got "1h0m0.5s"' \
		'lifetime: 1h0m0.5s'
	bad_issuer lifetime-days "at '/policies/0/issuer/lifetime'" 'lifetime: 7d'
	bad_issuer backdate-number "at '/policies/0/issuer/backdate'" 'backdate: 0'
	bad_issuer backdate-long 'policies[0].issuer.backdate: "2h" is out of range [0s, 3600s]' 'backdate: 2h'
	bad_issuer issue-usages-no-purpose "at '/policies/0/usages'" '' 'usages: [digital signature]'
	bad_issuer issue-usages-unsigned "at '/policies/0/usages/1'" '' 'usages: [client auth, code signing]'
	# ...and the bounds both accept.
	for keys in 'lifetime: 1m, backdate: 0s' 'lifetime: 876000h, backdate: 1h' 'lifetime: 1.5m, backdate: 1500s' \
		'lifetime: +24h, backdate: "0"' 'trustBundle: false, requirePolicy: true'; do
		issuer_pair ok "$keys" 'usages: [server auth]'
		if helm template x "$CHART" -f "$T/pair-ok-values.yaml" >"$T/ok.yaml" 2>"$T/err" &&
			policy_of "$T/ok.yaml" "$T/ok-policy.yaml" &&
			"$bin" check --config "$T/ok-policy.yaml" >/dev/null 2>>"$T/err" &&
			"$bin" check --config "$T/pair-ok-policy.yaml" >/dev/null 2>>"$T/err"; then
			t_ok "issuer {$keys}: helm renders it, csr-approver accepts what it renders"
		else
			t_fail "issuer {$keys}: helm renders it, csr-approver accepts what it renders" "$(cat "$T/err")"
		fi
	done
	# docs/install.md's check of the policy file the chart renders from
	# values with an issuer (the block after "chart.sh: check-rendered").
	awk '/<!-- chart.sh: check-rendered -->/ {m = 1; next} m && /^```sh$/ {on = 1; next} on && /^```$/ {exit} on {print}' \
		docs/install.md >"$T/check-rendered.sh"
	mkdir -p "$T/check-rendered/bin"
	ln -sf "$(realpath "$bin")" "$T/check-rendered/bin/csr-approver"
	cp "$T/issuer.yaml" "$T/check-rendered/my-values.yaml"
	ln -s "$T_ROOT/charts" "$T/check-rendered/charts"
	if grep -q '^helm template ' "$T/check-rendered.sh" &&
		(cd "$T/check-rendered" && PATH=$T/check-rendered/bin:$PATH bash -e -o pipefail "$T/check-rendered.sh") >"$T/err" 2>&1 &&
		grep -q 'caCertFile: /etc/csr-approver/ca/mtls/tls.crt' "$T/check-rendered/policy.yaml"; then
		t_ok "docs/install.md: the rendered policy file of values with an issuer is checked by csr-approver"
	else
		t_fail "docs/install.md: the rendered policy file of values with an issuer is checked by csr-approver" \
			"$(cat "$T/check-rendered.sh" "$T/err")"
	fi
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

# The built-in signer: the CA Secret as docs/mtls.md makes it (the openssl
# block after the "chart.sh: ca-openssl" marker, run as written but for
# kubectl), and the Deployment that mounts it, under Pod Security restricted.
awk '/<!-- chart.sh: ca-openssl -->/ {m = 1; next} m && /^```sh$/ {on = 1; next} on && /^```$/ {exit} on {print}' \
	docs/mtls.md >"$T/ca-recipe.sh"
mkdir -p "$T/ca"
if grep -q '^openssl req -x509' "$T/ca-recipe.sh" &&
	(cd "$T/ca" && grep -v '^kubectl ' "$T/ca-recipe.sh" | bash -e) >"$T/err" 2>&1; then
	t_ok "docs/mtls.md: the openssl recipe makes ca.crt and ca.key"
else
	t_fail "docs/mtls.md: the openssl recipe makes ca.crt and ca.key" "$(cat "$T/ca-recipe.sh" "$T/err")"
fi
openssl x509 -in "$T/ca/ca.crt" -noout -text >"$T/ca.txt" 2>/dev/null
t_check "docs/mtls.md: its CA is a P-256 key, basicConstraints CA:TRUE (critical), keyUsage keyCertSign (critical)" \
	bash -c "grep -q 'ASN1 OID: prime256v1' '$T/ca.txt' &&
		grep -A1 'Basic Constraints: critical' '$T/ca.txt' | grep -q 'CA:TRUE' &&
		grep -A1 'Key Usage: critical' '$T/ca.txt' | grep -q 'Certificate Sign'"
t_check "docs/mtls.md: ca.key is the key of ca.crt" \
	bash -c 'a=$(openssl x509 -in "$1" -noout -pubkey) && b=$(openssl pkey -in "$2" -pubout) && [[ -n $a && $a == "$b" ]]' \
	_ "$T/ca/ca.crt" "$T/ca/ca.key"
secret_cmd=$(grep '^kubectl create secret tls ' "$T/ca-recipe.sh")
t_eq "docs/mtls.md: the Secret is made with kubectl create secret tls, named as the values say" \
	"kubectl create secret tls workload-mtls-ca -n csr-approver --cert=ca.crt --key=ca.key" "$secret_cmd"
if (cd "$T/ca" && kubectl create secret tls mtls-ca -n "$ns_restricted" --cert=ca.crt --key=ca.key) >"$T/err" 2>&1; then
	t_ok "the CA Secret (kubernetes.io/tls) is created in the release namespace"
else
	t_fail "the CA Secret (kubernetes.io/tls) is created in the release namespace" "$(cat "$T/err")"
fi
helm template "e2e-iss-$run_id" "$CHART" -n "$ns_restricted" -f "$T/issuer.yaml" >"$T/issuer-ns.yaml"
dry_run "an issuer and podCertificates: accepted by kube-apiserver (dry run, Pod Security restricted)" \
	"" "$T/issuer-ns.yaml"
kubectl create serviceaccount -n "$ns_restricted" "e2e-iss-$run_id-csr-approver" >/dev/null 2>&1
if kubectl apply --dry-run=server -n "$ns_restricted" -o json \
	-f <(awk 'BEGIN{RS="\n---\n"} /\nkind: Deployment\n/ {print}' "$T/issuer-ns.yaml") >"$T/deploy-iss.json" 2>"$T/err" &&
	jq '{apiVersion: "v1", kind: "Pod", metadata: (.spec.template.metadata + {name: "e2e-iss-pod"}), spec: .spec.template.spec}' \
		"$T/deploy-iss.json" >"$T/pod-iss.json"; then
	dry_run "an issuer: the pod with the CA volume is admitted under Pod Security restricted" "$ns_restricted" "$T/pod-iss.json"
	t_eq "an issuer: the admitted pod keeps the 0440 files and its fsGroup" "288 288 65532" \
		"$(jq -r '[(.spec.volumes[0].projected.sources[1].secret.items[].mode), .spec.securityContext.fsGroup] | join(" ")' "$T/pod-iss.json")"
else
	t_fail "an issuer: the pod with the CA volume is admitted under Pod Security restricted" "$(cat "$T/err")"
fi

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
	may_not "may not attest (no issuer)" "$kc" attest certificates.k8s.io signers "" kubernetes.io/kubelet-serving ""
	may_not "may not create ClusterTrustBundles (no issuer)" "$kc" create certificates.k8s.io clustertrustbundles "" "" ""
	may_not "may not watch PodCertificateRequests (no podCertificates)" "$kc" watch certificates.k8s.io podcertificaterequests "" "" ""
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

# The built-in signer: a workload policy with an issuer and podCertificates
# (signer $sig), beside a kubelet-serving policy without one.
rel=e2e-rbac-iss-$run_id
if chart_rbac "$ns_rbac" "$rel" -f "$T/issuer.yaml" && sa_kubeconfig "$ns_rbac" "$rel" "$T/kc-iss"; then
	t_ok "an issuer: RBAC applied, token minted for $ns_rbac/$rel"
	kc=$T/kc-iss
	may "may sign for its signer" "$kc" sign certificates.k8s.io signers "" "$sig" ""
	may_not "may not sign for another signer" "$kc" sign certificates.k8s.io signers "" "$other_sig" ""
	may_not "may not sign for its domain's wildcard" "$kc" sign certificates.k8s.io signers "" "e2e.example.com/*" ""
	may_not "may not sign for kubernetes.io/kubelet-serving (a policy without an issuer)" "$kc" sign certificates.k8s.io signers "" kubernetes.io/kubelet-serving ""
	may "may attest for its signer" "$kc" attest certificates.k8s.io signers "" "$sig" ""
	may_not "may not attest for another signer" "$kc" attest certificates.k8s.io signers "" "$other_sig" ""
	may_not "may not attest for kubernetes.io/kubelet-serving" "$kc" attest certificates.k8s.io signers "" kubernetes.io/kubelet-serving ""
	may "may still approve for its signer" "$kc" approve certificates.k8s.io signers "" "$sig" ""
	may "may update certificatesigningrequests/status" "$kc" update certificates.k8s.io certificatesigningrequests status "" ""
	may_not "may not patch certificatesigningrequests/status" "$kc" patch certificates.k8s.io certificatesigningrequests status "" ""
	may_not "may not update CertificateSigningRequests themselves" "$kc" update certificates.k8s.io certificatesigningrequests "" "" ""
	may "may create ClusterTrustBundles" "$kc" create certificates.k8s.io clustertrustbundles "" "" ""
	may "may get its ClusterTrustBundle" "$kc" get certificates.k8s.io clustertrustbundles "" "$bundle" ""
	may "may update its ClusterTrustBundle" "$kc" update certificates.k8s.io clustertrustbundles "" "$bundle" ""
	may_not "may not update another ClusterTrustBundle" "$kc" update certificates.k8s.io clustertrustbundles "" "e2e.example.com:other-$run_id:ca" ""
	may_not "may not patch its ClusterTrustBundle" "$kc" patch certificates.k8s.io clustertrustbundles "" "$bundle" ""
	may_not "may not delete its ClusterTrustBundle" "$kc" delete certificates.k8s.io clustertrustbundles "" "$bundle" ""
	may "may watch PodCertificateRequests (podCertificates)" "$kc" watch certificates.k8s.io podcertificaterequests "" "" ""
	may "may list PodCertificateRequests in any namespace" "$kc" list certificates.k8s.io podcertificaterequests "" "" "$ns_rbac"
	may "may update podcertificaterequests/status" "$kc" update certificates.k8s.io podcertificaterequests status "" "$ns_rbac"
	may_not "may not create PodCertificateRequests" "$kc" create certificates.k8s.io podcertificaterequests "" "" "$ns_rbac"
	may_not "may not update PodCertificateRequests themselves" "$kc" update certificates.k8s.io podcertificaterequests "" "" "$ns_rbac"
	may_not "may not delete PodCertificateRequests" "$kc" delete certificates.k8s.io podcertificaterequests "" "" "$ns_rbac"
	may_not "may not get secrets (the CA comes as files)" "$kc" get "" secrets "" mtls-ca "$ns_rbac"

	# Through admission, for real: the ClusterTrustBundleAttest and
	# CertificateSigning plugins check the signer of each object.
	ctb_json() { # NAME SIGNER CERT_FILE...
		local name=$1 signer=$2
		shift 2
		jq -n --arg name "$name" --arg signer "$signer" --arg run "$run_id" --arg pem "$(cat "$@")" \
			'{apiVersion: "certificates.k8s.io/v1", kind: "ClusterTrustBundle",
			  metadata: {name: $name, labels: {"e2e-chart": $run}},
			  spec: {signerName: $signer, trustBundle: $pem}}'
	}
	t_on_exit kubectl delete clustertrustbundles -l "e2e-chart=$run_id"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$T/ca2.key" -out "$T/ca2.crt" \
		-days 2 -subj /CN=e2e-ca-2 -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign 2>/dev/null
	ctb_json "$bundle" "$sig" "$T/ca/ca.crt" >"$T/ctb.json"
	if KUBECONFIG=$kc kubectl create -f "$T/ctb.json" >"$T/err" 2>&1; then
		t_ok "it creates its ClusterTrustBundle $bundle (attest passes admission)"
	else
		t_fail "it creates its ClusterTrustBundle $bundle (attest passes admission)" "$(cat "$T/err")"
	fi
	# As the signer does on rotation: read it, write both CAs back.
	if KUBECONFIG=$kc kubectl get clustertrustbundle "$bundle" -o json >"$T/ctb-got.json" 2>"$T/err" &&
		jq --arg pem "$(cat "$T/ca2.crt" "$T/ca/ca.crt")" '.spec.trustBundle = $pem' "$T/ctb-got.json" >"$T/ctb-new.json" &&
		KUBECONFIG=$kc kubectl replace -f "$T/ctb-new.json" >>"$T/err" 2>&1; then
		t_eq "it reads and updates its ClusterTrustBundle (new CA first, old after)" 2 \
			"$(kubectl get clustertrustbundle "$bundle" -o jsonpath='{.spec.trustBundle}' | grep -c 'BEGIN CERTIFICATE')"
	else
		t_fail "it reads and updates its ClusterTrustBundle (new CA first, old after)" "$(cat "$T/err")"
	fi
	ctb_json "e2e.example.com:other-$run_id:ca" "$other_sig" "$T/ca/ca.crt" >"$T/ctb-other.json"
	out=$(KUBECONFIG=$kc kubectl create -f "$T/ctb-other.json" 2>&1)
	if [[ $? -ne 0 && $out == *attest* ]]; then
		t_ok "it cannot create a ClusterTrustBundle of another signer (admission: attest)"
	else
		t_fail "it cannot create a ClusterTrustBundle of another signer (admission: attest)" "$out"
	fi

	# sign_csr NAME SIGNER: a CSR of SIGNER, approved by the admin, then
	# issued with the chart's token through the status subresource, as the
	# signer writes it. Prints kubectl's error, if any.
	sign_csr() {
		local name=$1 signer=$2
		k8s_gen_csr "$T/$name.key" "$T/$name.csr" "/" "URI:spiffe://cluster.local/ns/e2e/sa/app" >/dev/null 2>&1 &&
			k8s_csr_create "$name" "$signer" "$T/$name.csr" "digital signature,client auth" "" "e2e-chart=$run_id" &&
			kubectl certificate approve "$name" >/dev/null &&
			openssl x509 -req -in "$T/$name.csr" -CA "$T/ca/ca.crt" -CAkey "$T/ca/ca.key" -days 1 \
				-out "$T/$name.crt" 2>/dev/null &&
			kubectl get csr "$name" -o json |
			jq --arg c "$(base64 -w0 <"$T/$name.crt")" '.status.certificate = $c' >"$T/$name.put.json" &&
			{ KUBECONFIG=$kc kubectl replace --raw \
				"/apis/certificates.k8s.io/v1/certificatesigningrequests/$name/status" -f "$T/$name.put.json" >/dev/null; } 2>&1
	}
	t_on_exit kubectl delete csr -l "e2e-chart=$run_id"
	if out=$(sign_csr "e2e-chart-sign-$run_id" "$sig") &&
		[[ -n $(k8s_csr_field "e2e-chart-sign-$run_id" '{.status.certificate}') ]]; then
		t_ok "it issues an approved CSR of its signer (status.certificate; sign passes admission)"
	else
		t_fail "it issues an approved CSR of its signer (status.certificate; sign passes admission)" "$out"
	fi
	out=$(sign_csr "e2e-chart-other-$run_id" "$other_sig")
	if [[ $out == *"not permitted to sign"* && -z $(k8s_csr_field "e2e-chart-other-$run_id" '{.status.certificate}') ]]; then
		t_ok "it cannot issue a CSR of another signer (admission: sign)"
	else
		t_fail "it cannot issue a CSR of another signer (admission: sign)" "$out"
	fi
else
	t_fail "an issuer: RBAC applied, token minted for $ns_rbac/$rel"
fi

# The requesters ClusterRole, bound to a workload's ServiceAccount with a
# ClusterRoleBinding as docs/mtls.md shows; a RoleBinding grants nothing on
# cluster-scoped CSRs.
rel=e2e-req-$run_id
helm template "$rel" "$CHART" -n "$ns_rbac" --set fullnameOverride="$rel" \
	-s templates/requester-clusterrole.yaml >"$T/requester.yaml" 2>"$T/err"
t_on_exit kubectl delete clusterrole "$rel-requester" --ignore-not-found
t_on_exit kubectl delete clusterrolebinding "$rel-app" --ignore-not-found
if kubectl apply -f "$T/requester.yaml" >"$T/err" 2>&1 &&
	kubectl create serviceaccount -n "$ns_rbac" app >/dev/null 2>>"$T/err" &&
	kubectl create serviceaccount -n "$ns_rbac" app-rb >/dev/null 2>>"$T/err" &&
	kubectl create clusterrolebinding "$rel-app" --clusterrole="$rel-requester" \
		--serviceaccount="$ns_rbac:app" >/dev/null 2>>"$T/err" &&
	kubectl create rolebinding -n "$ns_rbac" app-rb --clusterrole="$rel-requester" \
		--serviceaccount="$ns_rbac:app-rb" >/dev/null 2>>"$T/err" &&
	sa_kubeconfig "$ns_rbac" app "$T/kc-app" && sa_kubeconfig "$ns_rbac" app-rb "$T/kc-app-rb"; then
	t_ok "requesters: the ClusterRole applied and bound to $ns_rbac/app"
	kc=$T/kc-app
	may "a requester may create CSRs" "$kc" create certificates.k8s.io certificatesigningrequests "" "" ""
	may "a requester may get, list and watch CSRs" "$kc" watch certificates.k8s.io certificatesigningrequests "" "" ""
	may "a requester may get and list ClusterTrustBundles" "$kc" list certificates.k8s.io clustertrustbundles "" "" ""
	may_not "a requester may not approve" "$kc" update certificates.k8s.io certificatesigningrequests approval "" ""
	may_not "a requester may not approve for the signer" "$kc" approve certificates.k8s.io signers "" "$sig" ""
	may_not "a requester may not sign" "$kc" sign certificates.k8s.io signers "" "$sig" ""
	may_not "a requester may not update certificatesigningrequests/status" "$kc" update certificates.k8s.io certificatesigningrequests status "" ""
	may_not "a requester may not delete CSRs" "$kc" delete certificates.k8s.io certificatesigningrequests "" "" ""
	may_not "a requester may not create ClusterTrustBundles" "$kc" create certificates.k8s.io clustertrustbundles "" "" ""
	k8s_gen_csr "$T/app.key" "$T/app.csr" "/" "URI:spiffe://cluster.local/ns/$ns_rbac/sa/app" >/dev/null 2>&1
	if KUBECONFIG=$kc k8s_csr_create "e2e-chart-app-$run_id" "$sig" "$T/app.csr" "digital signature,client auth" \
		"" "e2e-chart=$run_id" 2>"$T/err"; then
		t_eq "a requester creates a CSR, which carries its identity" "system:serviceaccount:$ns_rbac:app" \
			"$(KUBECONFIG=$kc k8s_csr_field "e2e-chart-app-$run_id" '{.spec.username}')"
	else
		t_fail "a requester creates a CSR, which carries its identity" "$(cat "$T/err")"
	fi
	out=$(KUBECONFIG=$kc kubectl certificate approve "e2e-chart-app-$run_id" 2>&1)
	if [[ $? -ne 0 && $out == *forbidden* && -z $(k8s_csr_condition "e2e-chart-app-$run_id") ]]; then
		t_ok "a requester cannot approve its own CSR"
	else
		t_fail "a requester cannot approve its own CSR" "$out"
	fi
	may_not "the same ClusterRole through a RoleBinding: no CSR (cluster-scoped)" \
		"$T/kc-app-rb" create certificates.k8s.io certificatesigningrequests "" "" ""
else
	t_fail "requesters: the ClusterRole applied and bound to $ns_rbac/app" "$(cat "$T/err")"
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
