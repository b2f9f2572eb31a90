#!/usr/bin/env bash
# `csr-approver bootstrap`, the pod-side agent, against the real API server.
# The agent runs as a host process with a kubeconfig holding a token bound
# to its pod (POD_NAME, POD_NAMESPACE, POD_IPS in its environment). This
# suite is the approver and the signer: it approves with kubectl and writes
# status.certificate through the status subresource, signed by a test CA
# made with the openssl CLI, and publishes that CA as a ClusterTrustBundle.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/integration/lib.sh
source "$here/lib.sh"
it_setup bootstrap

BIN=${CSR_APPROVER_BIN:-$T_ROOT/build/csr-approver}
SIGNER="bootstrap.csr-approver.test/$IT_RUN"
CTB_NAME="${SIGNER//\//:}:ca"
IP=10.20.30.40
NS=$IT_NS

cleanup() {
	[[ -n ${READER_PID:-} ]] && kill "$READER_PID" 2>/dev/null
	kubectl delete clustertrustbundle "$CTB_NAME" --wait=false >/dev/null 2>&1 || true
	# The agent's CSRs carry no test label: delete them by signer.
	kubectl get csr -o json 2>/dev/null |
		jq -r --arg s "$SIGNER" '.items[] | select(.spec.signerName|startswith($s)) | .metadata.name' |
		xargs -r kubectl delete csr --wait=false >/dev/null 2>&1 || true
}
t_on_exit cleanup

# ---------------------------------------------------------------- the test CA

CA=$T_TMP/ca
mkdir -p "$CA/db"
: >"$CA/db/index.txt"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$CA/ca.key" \
	-out "$CA/ca.crt" -subj "/CN=bootstrap test CA" -days 2 2>/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$CA/other.key" \
	-out "$CA/other.crt" -subj "/CN=another CA" -days 2 2>/dev/null
cat >"$CA/ca.cnf" <<EOF
[ca]
default_ca = ca_default
[ca_default]
database = $CA/db/index.txt
new_certs_dir = $CA/db
certificate = $CA/ca.crt
private_key = $CA/ca.key
rand_serial = yes
default_md = sha256
policy = pol
copy_extensions = copy
unique_subject = no
email_in_dn = no
preserve = yes
x509_extensions = leaf
[pol]
commonName = optional
[leaf]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth,serverAuth
EOF

# sign_pem REQ_PEM OUT SECONDS: a certificate valid from now for SECONDS
# (the signer decides notAfter), with exactly the request's SANs.
sign_pem() {
	local start end
	start=$(date -u +%Y%m%d%H%M%SZ)
	end=$(date -u -d "+$3 sec" +%Y%m%d%H%M%SZ)
	openssl ca -batch -config "$CA/ca.cnf" -in "$1" -out "$2" -startdate "$start" \
		-enddate "$end" -notext >/dev/null 2>&1
}

# put_cert NAME PEM_FILE: approve (if not yet) and write status.certificate
# through the status subresource, with the object as read.
put_cert() {
	local cond
	cond=$(k8s_csr_condition "$1")
	[[ $cond == Approved:* ]] || kubectl certificate approve "$1" >/dev/null || return 1
	kubectl get csr "$1" -o json |
		jq --arg c "$(base64 -w0 <"$2")" '.status.certificate=$c' |
		kubectl replace --raw "/apis/certificates.k8s.io/v1/certificatesigningrequests/$1/status" \
			-f - >/dev/null
}

# sign NAME SECONDS: the signer's work for CSR NAME.
sign() {
	kubectl get csr "$1" -o jsonpath='{.spec.request}' | base64 -d >"$T_TMP/$1.req" &&
		sign_pem "$T_TMP/$1.req" "$T_TMP/$1.crt" "$2" &&
		put_cert "$1" "$T_TMP/$1.crt"
}

# deny NAME REASON MESSAGE: a Denied condition through the approval subresource.
deny() {
	kubectl get csr "$1" -o json |
		jq --arg r "$2" --arg m "$3" \
			'.status.conditions=((.status.conditions // []) + [{type:"Denied",status:"True",reason:$r,message:$m}])' |
		kubectl replace --raw "/apis/certificates.k8s.io/v1/certificatesigningrequests/$1/approval" \
			-f - >/dev/null
}

declare -A SEEN_CSR=()
# next_csr PREFIX [TIMEOUT_S]: wait for a new undecided CSR of the signer
# whose name starts with PREFIX; print its name.
next_csr() {
	local deadline=$((SECONDS + ${2:-30})) n
	while ((SECONDS < deadline)); do
		for n in $(kubectl get csr -o json | jq -r --arg s "$SIGNER" --arg p "$1" \
			'.items[] | select(.spec.signerName==$s and (.metadata.name|startswith($p)) and ((.status.conditions // [])|length==0)) | .metadata.name'); do
			if [[ -z ${SEEN_CSR[$n]:-} ]]; then
				SEEN_CSR[$n]=1
				echo "$n"
				return 0
			fi
		done
		sleep 0.2
	done
	return 1
}

# start_agent NAME KUBECONFIG POD ARGS...: the agent in the background as
# pod POD of $NS, output in $T_TMP/NAME.log.
start_agent() {
	local name=$1 kc=$2 pod=$3
	shift 3
	POD_NAME=$pod POD_NAMESPACE=$NS POD_IPS=$IP "$BIN" bootstrap --signer-name "$SIGNER" \
		--kubeconfig "$kc" --log-format text "$@" >"$T_TMP/$name.log" 2>&1 &
	AGENT_PID[$name]=$!
}

agent_log() { cat "$T_TMP/$1.log"; }

# sans CERT: the SANs as OpenSSL prints them, one per line, sorted.
sans() {
	openssl x509 -in "$1" -noout -ext subjectAltName 2>/dev/null | tail -n +2 |
		tr ',' '\n' | sed 's/^ *//' | sed 's/^IP Address:/IP:/' | sort
}

key_matches() { # DIR
	[[ "$(openssl x509 -in "$1/tls.crt" -noout -pubkey)" == "$(openssl pkey -in "$1/tls.key" -pubout)" ]]
}

# ---------------------------------------------------------------- the world

k8s_sa_create "$NS" web
k8s_sa_create "$NS" lonely
k8s_sa_create "$NS" creator
k8s_pod_run "$NS" web-0 "$IP" -s web -l app=web >/dev/null
k8s_pod_run "$NS" lonely-0 "$IP" -s lonely >/dev/null
k8s_pod_run "$NS" creator-0 "$IP" -s creator >/dev/null
k8s_token_kubeconfig "$(k8s_token "$NS" web web-0 2h)" "$T_TMP/web.kubeconfig"
k8s_token_kubeconfig "$(k8s_token "$NS" lonely lonely-0 2h)" "$T_TMP/lonely.kubeconfig"
k8s_token_kubeconfig "$(k8s_token "$NS" creator creator-0 2h)" "$T_TMP/creator.kubeconfig"
# creator may create and get CSRs, not list or watch them.
k8s_allow_csr_create "$IT_RUN-creator" "$IT_LABEL" "sa:$NS:creator"
# No API server there: port 1 is closed.
sed "s#server: .*#server: https://127.0.0.1:1#" "$T_TMP/web.kubeconfig" >"$T_TMP/closed.kubeconfig"
# What docs/mtls.md tells users to grant the pod's ServiceAccount.
kubectl apply -f - >/dev/null <<EOF
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: "$IT_RUN-agent", labels: {"$IT_LABEL_KEY": "$IT_RUN"}}
rules:
- apiGroups: [certificates.k8s.io]
  resources: [certificatesigningrequests]
  verbs: [create, get, list, watch]
- apiGroups: [certificates.k8s.io]
  resources: [clustertrustbundles]
  verbs: [list]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: "$IT_RUN-agent", labels: {"$IT_LABEL_KEY": "$IT_RUN"}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "$IT_RUN-agent"}
subjects:
- {kind: ServiceAccount, name: web, namespace: "$NS"}
EOF
kubectl create -f - >/dev/null <<EOF
{"apiVersion":"certificates.k8s.io/v1","kind":"ClusterTrustBundle",
 "metadata":{"name":"$CTB_NAME"},
 "spec":{"signerName":"$SIGNER","trustBundle":$(jq -Rs . <"$CA/ca.crt")}}
EOF
t_check "ClusterTrustBundle for the signer created" kubectl get clustertrustbundle "$CTB_NAME"

SPIFFE="URI:spiffe://cluster.local/ns/$NS/sa/web"
PODDNS="DNS:10-20-30-40.$NS.pod.cluster.local"

# ---------------------------------------------------------------- --once

D=$T_TMP/once
start_agent once "$T_TMP/web.kubeconfig" web-0 --once --dir "$D" --dns "web.$NS.svc" \
	--expiration 2h
if csr=$(next_csr web-0-); then
	t_eq "the CSR's usages (ECDSA: no key encipherment)" \
		"digital signature,client auth,server auth" \
		"$(kubectl get csr "$csr" -o jsonpath='{.spec.usages}' | jq -r 'join(",")')"
	t_eq "the CSR's expirationSeconds from --expiration" 7200 \
		"$(kubectl get csr "$csr" -o jsonpath='{.spec.expirationSeconds}')"
	t_eq "the CSR was made with the pod's token" "system:serviceaccount:$NS:web" \
		"$(kubectl get csr "$csr" -o jsonpath='{.spec.username}')"
	t_eq "the request's CN is the first DNS name" "CN=web.$NS.svc" \
		"$(kubectl get csr "$csr" -o jsonpath='{.spec.request}' | base64 -d |
			openssl req -noout -subject -nameopt RFC2253 2>/dev/null | sed 's/^subject=//')"
	sign "$csr" 3600
	wait_agent once 30
	t_eq "--once exits 0 once the certificate is published" 0 $?
	t_check "openssl verify -CAfile ca.crt tls.crt" openssl verify -CAfile "$D/ca.crt" "$D/tls.crt"
	t_check "tls.key is the key of tls.crt" key_matches "$D"
	t_eq "the SANs are exactly the names asked" \
		"$(printf '%s\n' "$SPIFFE" "IP:$IP" "DNS:web.$NS.svc" "$PODDNS" | sort)" "$(sans "$D/tls.crt")"
	t_eq "tls.key is mode 0600" 600 "$(stat -L -c %a "$D/tls.key")"
	t_eq "ca.crt is the signer's ClusterTrustBundle" "$(cat "$CA/ca.crt")" "$(cat "$D/ca.crt")"
	t_eq "the files are symlinks into ..data" "..data/tls.key ..data/tls.crt ..data/ca.crt" \
		"$(readlink "$D/tls.key") $(readlink "$D/tls.crt") $(readlink "$D/ca.crt")"
	t_check "the log names the CSR and never the key" \
		bash -c "grep -q 'certificate published' '$T_TMP/once.log' && ! grep -q 'PRIVATE KEY' '$T_TMP/once.log'"
else
	t_fail "--once: the agent created a CSR" "$(agent_log once)"
fi

# RSA keys ask for key encipherment; --names and --ca-file.
D=$T_TMP/rsa
start_agent rsa "$T_TMP/web.kubeconfig" web-0 --once --dir "$D" --key-type rsa-2048 \
	--names spiffe,podIP --ca-file "$CA/ca.crt"
if csr=$(next_csr web-0-); then
	t_eq "RSA: usages with key encipherment" \
		"digital signature,key encipherment,client auth,server auth" \
		"$(kubectl get csr "$csr" -o jsonpath='{.spec.usages}' | jq -r 'join(",")')"
	sign "$csr" 3600
	wait_agent rsa 30
	t_eq "RSA with --ca-file: exits 0" 0 $?
	t_eq "--names spiffe,podIP: exactly those SANs" \
		"$(printf '%s\n' "$SPIFFE" "IP:$IP" | sort)" "$(sans "$D/tls.crt")"
	t_check "RSA: key and certificate match" key_matches "$D"
else
	t_fail "RSA: the agent created a CSR" "$(agent_log rsa)"
fi

# Ed25519, spiffe only: no DNS name, so no CN.
D=$T_TMP/ed
start_agent ed "$T_TMP/web.kubeconfig" web-0 --once --dir "$D" --key-type ed25519 --names spiffe
if csr=$(next_csr web-0-); then
	t_eq "spiffe only: the request has an empty subject" "" \
		"$(kubectl get csr "$csr" -o jsonpath='{.spec.request}' | base64 -d |
			openssl req -noout -subject -nameopt RFC2253 2>/dev/null | sed 's/^subject=//')"
	sign "$csr" 3600
	wait_agent ed 30
	t_eq "Ed25519: exits 0" 0 $?
	t_eq "Ed25519: the SPIFFE ID alone" "$SPIFFE" "$(sans "$D/tls.crt")"
else
	t_fail "Ed25519: the agent created a CSR" "$(agent_log ed)"
fi

# ---------------------------------------------------------------- refusals

# A certificate for another key: never published.
D=$T_TMP/wrongkey
start_agent wrongkey "$T_TMP/web.kubeconfig" web-0 --once --dir "$D" --names spiffe
if csr=$(next_csr web-0-); then
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$T_TMP/thief.key" -out "$T_TMP/thief.req" -subj /CN=thief \
		-addext "subjectAltName=$SPIFFE" 2>/dev/null
	sign_pem "$T_TMP/thief.req" "$T_TMP/thief.crt" 3600
	put_cert "$csr" "$T_TMP/thief.crt"
	wait_agent wrongkey 30
	t_eq "a certificate for another key: exit 1" 1 $?
	t_check "... saying so" grep -q "refusing to publish: the issued certificate is not for this agent's key" "$T_TMP/wrongkey.log"
	t_check "... and nothing is published" test ! -e "$D/tls.crt"
else
	t_fail "wrong key: the agent created a CSR" "$(agent_log wrongkey)"
fi

# A certificate that does not chain to the CA given.
D=$T_TMP/wrongca
start_agent wrongca "$T_TMP/web.kubeconfig" web-0 --once --dir "$D" --names spiffe \
	--ca-file "$CA/other.crt"
if csr=$(next_csr web-0-); then
	sign "$csr" 3600
	wait_agent wrongca 30
	t_eq "a certificate outside the CA: exit 1" 1 $?
	t_check "... saying it does not chain" grep -q "does not chain to the signer's CA" "$T_TMP/wrongca.log"
	t_check "... and nothing is published" test ! -e "$D/tls.crt"
else
	t_fail "wrong CA: the agent created a CSR" "$(agent_log wrongca)"
fi

# Denied: the reason and the message, exit 1.
D=$T_TMP/denied
MSG="csr-approver: policy workload-mtls: DNS SAN db.$NS.svc is not a name of pod $NS/web-0"
start_agent denied "$T_TMP/web.kubeconfig" web-0 --once --dir "$D" --dns "db.$NS.svc"
if csr=$(next_csr web-0-); then
	deny "$csr" SANNotAllowed "$MSG"
	wait_agent denied 30
	t_eq "denied: exit 1" 1 $?
	t_check "denied: prints the reason and the message" \
		grep -qF "csr-approver bootstrap: denied (SANNotAllowed): $MSG" "$T_TMP/denied.log"
else
	t_fail "denied: the agent created a CSR" "$(agent_log denied)"
fi

# No right to create CSRs: exit 1 naming the permission.
start_agent lonely "$T_TMP/lonely.kubeconfig" lonely-0 --once --dir "$T_TMP/lonely"
wait_agent lonely 30
t_eq "without RBAC: exit 1" 1 $?
t_check "without RBAC: names the user and the permission" grep -qF \
	"forbidden: system:serviceaccount:$NS:lonely may not create certificatesigningrequests.certificates.k8s.io" \
	"$T_TMP/lonely.log"

# May create, may not watch: exit 1 naming that.
start_agent creator "$T_TMP/creator.kubeconfig" creator-0 --once --dir "$T_TMP/creator" \
	--names spiffe
wait_agent creator 30
t_eq "without list/watch: exit 1" 1 $?
t_check "without list/watch: names the user and the permission" grep -qF \
	"forbidden: system:serviceaccount:$NS:creator may not list and watch certificatesigningrequests.certificates.k8s.io" \
	"$T_TMP/creator.log"
if csr=$(next_csr creator-0- 5); then
	kubectl delete csr "$csr" >/dev/null
fi

# No API server: retried until --timeout, then exit 1 with the last error.
start_agent closed "$T_TMP/closed.kubeconfig" web-0 --once --dir "$T_TMP/closed" \
	--names spiffe --timeout 3s
wait_agent closed 20
t_eq "API server unreachable: exit 1 after --timeout" 1 $?
t_check "... naming the last error" grep -q "timed out after 3s creating the CSR: ." "$T_TMP/closed.log"
t_check "... having retried" test "$(grep -c 'could not create the CSR; retrying' "$T_TMP/closed.log")" -ge 2

# Never issued: --timeout.
start_agent slow "$T_TMP/web.kubeconfig" web-0 --once --dir "$T_TMP/slow" --names spiffe \
	--timeout 3s
wait_agent slow 20
t_eq "--timeout 3s without an answer: exit 1" 1 $?
t_check "... saying it timed out" grep -q "timed out after 3s waiting for CSR web-0-" "$T_TMP/slow.log"
# Its CSR stays pending: take it out of the way of the sidecar's.
if csr=$(next_csr web-0- 5); then
	kubectl delete csr "$csr" >/dev/null
else
	t_fail "--timeout: the CSR was created"
fi

# A POD_NAME the token is not bound to: bad usage, nothing created.
start_agent mismatch "$T_TMP/web.kubeconfig" web-9 --once --dir "$T_TMP/mismatch"
wait_agent mismatch 20
t_eq "POD_NAME other than the token's pod: exit 2" 2 $?
t_check "... saying which" grep -q 'POD_NAME is "web-9" but the service-account token is bound to pod "web-0"' "$T_TMP/mismatch.log"

# SIGTERM while the CSR is pending: a sidecar exits 0, --once exits 1.
start_agent term-side "$T_TMP/web.kubeconfig" web-0 --dir "$T_TMP/term-side" --names spiffe \
	--timeout 0
start_agent term-once "$T_TMP/web.kubeconfig" web-0 --once --dir "$T_TMP/term-once" \
	--names spiffe
# Their CSRs stay pending: mark them seen for the suites below.
next_csr web-0- >/dev/null
next_csr web-0- >/dev/null
k8s_wait 20 bash -c "grep -q 'certificate request created' '$T_TMP/term-side.log' &&
	grep -q 'certificate request created' '$T_TMP/term-once.log'"
kill -TERM "${AGENT_PID[term-side]}" "${AGENT_PID[term-once]}"
wait_agent term-side 5
t_eq "SIGTERM while waiting (sidecar): exit 0 promptly" 0 $?
wait_agent term-once 5
t_eq "SIGTERM while waiting (--once): exit 1 promptly" 1 $?
t_check "... saying no certificate was issued" grep -q "stopped by SIGTERM before a certificate was issued" "$T_TMP/term-once.log"

# ---------------------------------------------------------------- sidecar

# Certificates of ~30 s (the signer decides notAfter), renewed at 2/3 of
# their life; a reader checks every pair it can see while two renewals
# happen.
D=$T_TMP/sidecar
start_agent sidecar "$T_TMP/web.kubeconfig" web-0 --dir "$D" --expiration 10m --timeout 0
reader() {
	local checks=0 bad=0 d1 d2 k c
	while :; do
		d1=$(readlink "$D/..data" 2>/dev/null) || continue
		k=$(openssl pkey -in "$D/tls.key" -pubout 2>/dev/null) || continue
		c=$(openssl x509 -in "$D/tls.crt" -noout -pubkey 2>/dev/null) || continue
		d2=$(readlink "$D/..data" 2>/dev/null) || continue
		# A swap between the two reads is what ..data is for: the pair
		# read through one version of it must match.
		[[ $d1 == "$d2" ]] || continue
		checks=$((checks + 1))
		[[ $k == "$c" ]] || bad=$((bad + 1))
		echo "$checks $bad" >"$T_TMP/reader.out"
		sleep 0.05 # pacing only: two cores are shared
	done
}
dirs=()
prev=
for round in 1 2 3; do
	if ! csr=$(next_csr web-0- 60); then
		t_fail "sidecar: CSR $round" "$(agent_log sidecar)"
		break
	fi
	if ((round > 1)); then
		t_eq "sidecar: the old pair stays in place while renewal $((round - 1)) waits" \
			"$prev" "$(readlink "$D/..data")"
	fi
	t_eq "sidecar: CSR $round asks for 10m" 600 \
		"$(kubectl get csr "$csr" -o jsonpath='{.spec.expirationSeconds}')"
	sign "$csr" 30
	k8s_wait 20 bash -c "d=\$(readlink '$D/..data') && [[ \$d != '$prev' ]]" ||
		t_fail "sidecar: certificate $round published" "$(agent_log sidecar)"
	prev=$(readlink "$D/..data")
	dirs+=("$prev")
	t_check "sidecar: certificate $round matches its key" key_matches "$D"
	if ((round == 1)); then
		reader &
		READER_PID=$!
	fi
done
kill "$READER_PID" 2>/dev/null
wait "$READER_PID" 2>/dev/null
READER_PID=
read -r checks bad <"$T_TMP/reader.out" 2>/dev/null || checks=0 bad=0
t_check "sidecar: the reader checked pairs across two renewals ($checks)" test "${checks:-0}" -gt 0
t_eq "sidecar: the reader never saw a key and a certificate that do not match" 0 "${bad:-0}"
t_eq "sidecar: three distinct data directories" 3 "$(printf '%s\n' "${dirs[@]}" | sort -u | wc -l)"
t_eq "sidecar: old data directories removed" 1 "$(find "$D" -maxdepth 1 -name '..20*' | wc -l)"
kill -TERM "${AGENT_PID[sidecar]}"
wait_agent sidecar 5
t_eq "sidecar: SIGTERM exits 0 promptly" 0 $?

# Under ASan+UBSan (make asan-integration) any report fails the suite.
reports=$(grep -lE 'ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:' "$T_TMP"/*.log 2>/dev/null)
t_eq "no sanitizer report in any agent's output" "" "$reports"

t_done
