#!/usr/bin/env bash
# PodCertificateRequests against the real control plane and real kubelets
# (SPEC.md, "PodCertificateRequests"): the hollow nodes of hack/cluster.sh
# create a PCR for each podCertificate projected volume of their pods, and
# csr-approver answers it with the workload rules and its built-in signer.
# The controller runs with a client-certificate identity holding only the
# RBAC the chart gives such a policy.
#
#   - a pod with a podCertificate volume bound to hollow-1 runs; its PCR is
#     Issued; the chain verifies against the CA; the leaf holds the pod's
#     SPIFFE ID first, then its IP, pod DNS and service names, and the
#     kubelet's key (the stub request's); beginRefreshAt is at 2/3 of the
#     lifetime;
#   - a pod in a namespace outside the policy gets Denied
#     NamespaceNotAllowed;
#   - a key type outside the policy's keys gets Denied UnsupportedKeyType;
#   - a PCR for a pod being deleted gets Denied PodMismatch.
# Uses hollow-1 (`hack/cluster.sh nodes 1`), started if it is not running.
set -uo pipefail

# shellcheck source=tests/integration/controller-lib.bash
source "$(dirname "${BASH_SOURCE[0]}")/controller-lib.bash"
ctl_setup pcr

A=$IT_NS
tmp=$T_TMP
W=$IT_RUN.example.com/pod
W384=p384.$W
BUNDLE=${W//\//:}:ca

# hollow-1: started here (and stopped at exit) when it is not running.
if [[ $(kubectl get node hollow-1 -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null) != True ]]; then
	t_on_exit "$T_ROOT/hack/cluster.sh" nodes 0
	out=$("$T_ROOT/hack/cluster.sh" nodes 1 2>&1) || t_abort "hollow node hollow-1 starts" "$out"
fi

t_on_exit kubectl delete clustertrustbundle "$BUNDLE" --wait=false
t_on_exit kubectl delete pod "$IT_RUN-out" -n default --grace-period=0 --force --wait=false

# ---------------------------------------------------------------- the CA and the policy
mkdir -p "$tmp/ca"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$tmp/ca/tls.key" -out "$tmp/ca/tls.crt" -subj "/CN=$IT_RUN pod CA" -days 2 \
	-addext "basicConstraints=critical,CA:TRUE" \
	-addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null || t_abort "make the CA"

cat >"$tmp/policy.yaml" <<EOF
policies:
  - name: pods
    signerName: $W
    type: workload
    namespaces: ["$A"]
    podCertificates: true
    issue:
      caCertFile: $tmp/ca/tls.crt
      caKeyFile: $tmp/ca/tls.key
      lifetime: 24h
  - name: p384
    signerName: $W384
    type: workload
    namespaces: ["$A"]
    keys: [ecdsa-p384]
    podCertificates: true
    issue:
      caCertFile: $tmp/ca/tls.crt
      caKeyFile: $tmp/ca/tls.key
      lifetime: 24h
      trustBundle: false
EOF

user=$IT_RUN-pcr
ctl_kc=$(ctl_identity "$user" "$W" "$W384") || t_abort "controller identity with its RBAC"
ctl_signing_rbac "$user" "$BUNDLE" "$W" "$W384" || t_abort "signing RBAC"
kubectl apply -f - >/dev/null <<EOF || t_abort "PCR RBAC"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: "$IT_RUN-$user-pcr", labels: {"$IT_LABEL_KEY": "$IT_RUN"}}
rules:
- {apiGroups: [certificates.k8s.io], resources: [podcertificaterequests], verbs: [get, list, watch]}
- {apiGroups: [certificates.k8s.io], resources: [podcertificaterequests/status], verbs: [update]}
- {apiGroups: [""], resources: [serviceaccounts, nodes], verbs: [get]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: "$IT_RUN-$user-pcr", labels: {"$IT_LABEL_KEY": "$IT_RUN"}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "$IT_RUN-$user-pcr"}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: "$user"}
EOF

kubectl create -f - >/dev/null <<EOF || t_abort "Service web"
{"apiVersion":"v1","kind":"Service","metadata":{"name":"web","namespace":"$A"},
 "spec":{"selector":{"app":"pcr"},"ports":[{"port":443}]}}
EOF

ctl_start main --kubeconfig "$ctl_kc" --config "$tmp/policy.yaml" --metrics-bind-address 0 \
	--health-probe-bind-address 0 --audit-log "$tmp/audit.log" -v debug ||
	t_abort "controller starts"

# pod NS NAME SIGNER KEYTYPE: a pod bound to hollow-1 with a podCertificate volume
pod() {
	kubectl create -f - >/dev/null <<EOF
{"apiVersion":"v1","kind":"Pod","metadata":{"name":"$2","namespace":"$1","labels":{"app":"pcr"}},
 "spec":{"nodeName":"hollow-1",
         "containers":[{"name":"main","image":"registry.k8s.io/pause:3.10",
                        "volumeMounts":[{"name":"cert","mountPath":"/var/run/cert"}]}],
         "volumes":[{"name":"cert","projected":{"sources":[
             {"podCertificate":{"signerName":"$3","keyType":"$4",
                                "credentialBundlePath":"bundle.pem"}}]}}]}}
EOF
}

# pcr_of NS POD: the name of the pod's PodCertificateRequest
pcr_of() {
	kubectl get podcertificaterequests -n "$1" -o json 2>/dev/null |
		jq -r --arg p "$2" '[.items[] | select(.spec.podName == $p)][0].metadata.name // empty'
}

# pcr_cond NS NAME: TYPE:REASON of its condition, "" while it has none
pcr_cond() {
	kubectl get podcertificaterequest "$2" -n "$1" -o json 2>/dev/null |
		jq -r '[.status.conditions[]? | "\(.type):\(.reason)"] | join(" ")'
}

# wait_cond NS POD [TIMEOUT_S]: wait for the pod's PCR to get a condition; prints it
wait_cond() {
	local name="" c="" deadline=$((SECONDS + ${3:-60}))
	while ((SECONDS < deadline)); do
		[[ -n $name ]] || name=$(pcr_of "$1" "$2")
		[[ -n $name ]] && c=$(pcr_cond "$1" "$name")
		[[ -n $c ]] && break
		sleep 0.5
	done
	echo "$c"
}

# named_cond NAME: TYPE:REASON of PCR NAME of $A once it has a condition
# (waits up to 60 s)
named_cond() {
	local c=""
	for _ in $(seq 1 120); do
		c=$(pcr_cond "$A" "$1")
		[[ -n $c ]] && break
		sleep 0.5
	done
	echo "$c"
}

# ---------------------------------------------------------------- issued
pod "$A" good "$W" ECDSAP256 || t_fail "create pod good"
t_eq "the PCR of a pod of the policy's namespace is Issued" "Issued:Issued" "$(wait_cond "$A" good)"
pcr=$(pcr_of "$A" good)
kubectl get podcertificaterequest "$pcr" -n "$A" -o json >"$tmp/good.json"
jq -r .status.certificateChain "$tmp/good.json" >"$tmp/chain.pem"
openssl x509 -in "$tmp/chain.pem" -out "$tmp/leaf.pem" 2>/dev/null
jq -r .spec.stubPKCS10Request "$tmp/good.json" | base64 -d >"$tmp/stub.der"

# The chain as a pod's peer checks it: against the ClusterTrustBundle the
# controller publishes for the signer.
k8s_wait 20 kubectl get clustertrustbundle "$BUNDLE" >/dev/null 2>&1
kubectl get clustertrustbundle "$BUNDLE" -o jsonpath='{.spec.trustBundle}' >"$tmp/bundle.pem"
t_eq "the chain verifies against the ClusterTrustBundle" "$tmp/leaf.pem: OK" \
	"$(openssl verify -CAfile "$tmp/bundle.pem" -untrusted "$tmp/chain.pem" "$tmp/leaf.pem" 2>&1)"
sans=$(openssl x509 -in "$tmp/leaf.pem" -noout -ext subjectAltName 2>/dev/null | tail -n +2 | tr -d ' ')
# The kubelet asks before the pod's sandbox exists: the pod has no IP yet,
# so its first certificate has no podIP or podDNS names (a refresh has).
t_eq "the leaf names the pod: SPIFFE ID first, then its service names" \
	"URI:spiffe://cluster.local/ns/$A/sa/default,DNS:web.$A.svc,DNS:web.$A.svc.cluster.local" \
	"$sans"
t_eq "the leaf has an empty subject and a critical subjectAltName" "subject= critical" \
	"$(openssl x509 -in "$tmp/leaf.pem" -noout -subject 2>&1 | tr -d ' ')$(openssl x509 -in "$tmp/leaf.pem" -noout -ext subjectAltName 2>&1 | head -1 | grep -o ' critical')"
t_eq "the leaf carries the kubelet's key (the stub request's)" \
	"$(openssl req -inform DER -in "$tmp/stub.der" -noout -pubkey 2>&1)" \
	"$(openssl x509 -in "$tmp/leaf.pem" -noout -pubkey 2>&1)"
nb=$(date -d "$(jq -r .status.notBefore "$tmp/good.json")" +%s)
na=$(date -d "$(jq -r .status.notAfter "$tmp/good.json")" +%s)
rf=$(date -d "$(jq -r .status.beginRefreshAt "$tmp/good.json")" +%s)
t_eq "the lifetime is the policy's (24h) and beginRefreshAt is at 2/3 of it" \
	"86400 57600" "$((na - nb)) $((rf - nb))"
t_eq "the status times are the leaf's" \
	"$na" "$(date -d "$(openssl x509 -in "$tmp/leaf.pem" -noout -enddate | cut -d= -f2)" +%s)"
# shellcheck disable=SC2317 # called through k8s_wait
good_running() { [[ $(kubectl get pod good -n "$A" -o jsonpath='{.status.phase}') == Running ]]; }
if k8s_wait 60 good_running; then
	t_ok "the pod runs once its credential bundle is written"
else
	t_fail "the pod runs once its credential bundle is written" \
		"$(kubectl get pod good -n "$A" -o jsonpath='{.status}')"
fi
t_eq "one issued log line" "1" "$(grep -c "\"msg\":\"issued\".*pcr/$A/$pcr\"" "$(ctl_log main)")"
# Its service account and node were read live (no cache holds them: no
# kubelet-serving policy here), and nothing more: a good request needs no
# full re-read of its pod and Services.
t_eq "the good PCR: its service account and node read live, once, and nothing else" "1 0" \
	"$(grep -c "reading the service account and node live.*pcr/$A/$pcr\"" "$(ctl_log main)") $(grep -c "reading it live.*pcr/$A/$pcr\"" "$(ctl_log main)")"

# ---------------------------------------------------------------- refused
pod default "$IT_RUN-out" "$W" ECDSAP256 || t_fail "create pod in default"
t_eq "a pod of a namespace outside the policy: Denied NamespaceNotAllowed" \
	"Denied:NamespaceNotAllowed" "$(wait_cond default "$IT_RUN-out")"

pod "$A" p256 "$W384" ECDSAP256 || t_fail "create pod p256"
t_eq "a key outside the policy's keys: Denied UnsupportedKeyType" \
	"Denied:UnsupportedKeyType" "$(wait_cond "$A" p256)"
msg=$(kubectl get podcertificaterequest "$(pcr_of "$A" p256)" -n "$A" -o jsonpath='{.status.conditions[0].message}')
if [[ $msg =~ policy\ p384:.*prime256v1.*not\ in\ keys ]]; then
	t_ok "the message names the key and the policy"
else
	t_fail "the message names the key and the policy" "$msg"
fi

# why NS/NAME: the same decisions again, against the objects read live.
why=$("$(ctl_bin)" why --kubeconfig "$KUBECONFIG" --config "$tmp/policy.yaml" -o json "$A/$pcr")
t_eq "why NS/NAME: the issued PCR is approved again, with its names (SPIFFE first)" \
	"approve spiffe://cluster.local/ns/$A/sa/default" \
	"$(jq -r '.decision + " " + .names[0]' <<<"$why" 2>&1)"
"$(ctl_bin)" why --kubeconfig "$KUBECONFIG" --config "$tmp/policy.yaml" \
	"$A/$(pcr_of "$A" p256)" >"$tmp/why.txt" 2>&1
rc=$?
if [[ $rc == 1 ]] && grep -q "decision: deny (UnsupportedKeyType)" "$tmp/why.txt"; then
	t_ok "why NS/NAME: the refused key is refused again (exit 1)"
else
	t_fail "why NS/NAME: the refused key is refused again (exit 1)" "rc=$rc $(cat "$tmp/why.txt")"
fi

# A pod being deleted (held by a finalizer): a PCR the node makes for it
# afterwards (here by impersonating the node) is denied.
kubectl create -f - >/dev/null <<EOF || t_fail "create pod going"
{"apiVersion":"v1","kind":"Pod","metadata":{"name":"going","namespace":"$A",
  "finalizers":["csr-approver.test/hold"]},
 "spec":{"nodeName":"hollow-1",
         "containers":[{"name":"main","image":"registry.k8s.io/pause:3.10",
                        "volumeMounts":[{"name":"cert","mountPath":"/var/run/cert"}]}],
         "volumes":[{"name":"cert","projected":{"sources":[
             {"podCertificate":{"signerName":"$W","keyType":"ECDSAP256",
                                "credentialBundlePath":"bundle.pem"}}]}}]}}
EOF
t_on_exit kubectl patch pod going -n "$A" --type=merge -p '{"metadata":{"finalizers":null}}'
uid=$(kubectl get pod going -n "$A" -o jsonpath='{.metadata.uid}')
sauid=$(kubectl get sa default -n "$A" -o jsonpath='{.metadata.uid}')
nodeuid=$(kubectl get node hollow-1 -o jsonpath='{.metadata.uid}')
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null \
	-subj "/CN=x" -outform DER -out "$tmp/going.der" 2>/dev/null
kubectl delete pod going -n "$A" --wait=false >/dev/null
if kubectl create --as=system:node:hollow-1 --as-group=system:nodes --as-group=system:authenticated \
	-f - >"$tmp/going.out" 2>&1 <<EOF; then
{"apiVersion":"certificates.k8s.io/v1","kind":"PodCertificateRequest",
 "metadata":{"name":"going-1","namespace":"$A"},
 "spec":{"signerName":"$W","podName":"going","podUID":"$uid",
         "serviceAccountName":"default","serviceAccountUID":"$sauid",
         "nodeName":"hollow-1","nodeUID":"$nodeuid","maxExpirationSeconds":86400,
         "stubPKCS10Request":"$(base64 -w0 "$tmp/going.der")"}}
EOF
	t_eq "a PCR for a pod being deleted: Denied PodMismatch" "Denied:PodMismatch" \
		"$(named_cond going-1)"
	msg=$(kubectl get podcertificaterequest going-1 -n "$A" -o jsonpath='{.status.conditions[0].message}')
	if [[ $msg == *"pod $A/going is being deleted"* ]]; then
		t_ok "the message says the pod is being deleted"
	else
		t_fail "the message says the pod is being deleted" "$msg"
	fi
else
	t_skip "a PCR for a pod being deleted" "the API server refuses it: $(cat "$tmp/going.out")"
fi

# A PCR from someone other than the kubelet (an administrator here: the API
# server checks the uids it names only for a node's own requests), for the
# pod that was issued above, naming another uid for its service account,
# then for its node: each is Denied PodMismatch, naming both uids.
gooduid=$(kubectl get pod good -n "$A" -o jsonpath='{.metadata.uid}')
# forged NAME SAUID NODEUID
forged() {
	kubectl create -f - >/dev/null 2>"$tmp/$1.err" <<EOF
{"apiVersion":"certificates.k8s.io/v1","kind":"PodCertificateRequest",
 "metadata":{"name":"$1","namespace":"$A"},
 "spec":{"signerName":"$W","podName":"good","podUID":"$gooduid",
         "serviceAccountName":"default","serviceAccountUID":"$2",
         "nodeName":"hollow-1","nodeUID":"$3","maxExpirationSeconds":86400,
         "stubPKCS10Request":"$(base64 -w0 "$tmp/going.der")"}}
EOF
}
if forged forged-sa 00000000-0000-0000-0000-00000000beef "$nodeuid"; then
	t_eq "a PCR naming another service account uid: Denied PodMismatch" "Denied:PodMismatch" \
		"$(named_cond forged-sa)"
	msg=$(kubectl get podcertificaterequest forged-sa -n "$A" -o jsonpath='{.status.conditions[0].message}')
	if [[ $msg == *"service account $A/default has uid \"$sauid\""*"00000000-0000-0000-0000-00000000beef"* ]]; then
		t_ok "the message names the service account's uid and the one asked for"
	else
		t_fail "the message names the service account's uid and the one asked for" "$msg"
	fi
else
	t_fail "an administrator creates a PCR" "$(cat "$tmp/forged-sa.err")"
fi
if forged forged-node "$sauid" 00000000-0000-0000-0000-00000000f00d; then
	t_eq "a PCR naming another node uid: Denied PodMismatch" "Denied:PodMismatch" \
		"$(named_cond forged-node)"
	msg=$(kubectl get podcertificaterequest forged-node -n "$A" -o jsonpath='{.status.conditions[0].message}')
	if [[ $msg == *"node hollow-1 has uid \"$nodeuid\""* ]]; then
		t_ok "the message names the node's uid"
	else
		t_fail "the message names the node's uid" "$msg"
	fi
else
	t_fail "an administrator creates a PCR" "$(cat "$tmp/forged-node.err")"
fi

# The audit log: one line per issuance and per denial of a PCR.
issued_lines=$(jq -c 'select(.kind == "PodCertificateRequest" and .event == "issuance")' \
	"$tmp/audit.log" 2>/dev/null)
line=$(head -n 1 <<<"$issued_lines")
if [[ -n $line ]] && jq -e '.certificate.serial != null and .certificate.notAfter != null and (.spkiSHA256 | length) == 64
	and (.sans[0] | startswith("spiffe://")) and (.node | startswith("hollow-"))' \
	>/dev/null <<<"$line"; then
	t_ok "the audit log has the issuance: serial, notAfter, key fingerprint, names, node"
else
	t_fail "the audit log has the issuance: serial, notAfter, key fingerprint, names, node" \
		"$(head -c 2000 "$tmp/audit.log")"
fi
if jq -e 'select(.kind == "PodCertificateRequest" and .decision == "deny")' "$tmp/audit.log" \
	>/dev/null 2>&1; then
	t_ok "the audit log has the denials"
else
	t_fail "the audit log has the denials" "$(head -c 2000 "$tmp/audit.log")"
fi

t_eq "the controller never logged key material" "0" \
	"$(grep -c "PRIVATE KEY" "$(ctl_log main)")"
ctl_stop main
t_eq "SIGTERM exits 0" 0 "$?"
report=$(ctl_sanitizer_report main)
if [[ -z $report ]]; then
	t_ok "no sanitizer report"
else
	t_fail "no sanitizer report" "$report"
fi
t_done
