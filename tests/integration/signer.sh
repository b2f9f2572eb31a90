#!/usr/bin/env bash
# The built-in signer against the real control plane (SPEC.md, "Issuing:
# the built-in signer"). The controller runs with a client-certificate
# identity holding only the RBAC the chart gives an issuing policy (approve
# and sign on its signers, update on certificatesigningrequests/status,
# attest and the ClusterTrustBundle by name), with its CA in a directory laid
# out like a mounted Secret (files behind a ..data symlink).
#
#   - a pod's CSR, approved by the policy, is signed: every field of the
#     certificate is checked with `openssl x509` and `openssl verify`;
#     notAfter is capped by expirationSeconds, by issue.lifetime and by the
#     CA's own notAfter;
#   - a CSR a person approves with `kubectl certificate approve` is signed;
#     under requirePolicy: true the same spoofed CSR gets Failed instead,
#     also when the approval copies csr-approver's own reason and message;
#   - the ClusterTrustBundle SIGNER:ca holds the CA; a CA rotation (the
#     Secret's files swapped) publishes old and new side by side and signs
#     with the new one;
#   - a CA that does not load gives Failed/SignerError naming the file,
#     and the controller stays up;
#   - each CSR is signed once.
set -uo pipefail

# shellcheck source=tests/integration/controller-lib.bash
source "$(dirname "${BASH_SOURCE[0]}")/controller-lib.bash"
ctl_setup signer

A=$IT_NS
tmp=$T_TMP
W=$IT_RUN.example.com/workload
BUNDLE=${W//\//:}:ca

t_on_exit kubectl delete clustertrustbundle "$BUNDLE" --wait=false

# ---------------------------------------------------------------- the CA, as a Secret volume
# make_ca DIR CN DAYS: a P-256 CA in DIR/tls.crt, DIR/tls.key
make_ca() {
	mkdir -p "$1" &&
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
			-keyout "$1/tls.key" -out "$1/tls.crt" -subj "/CN=$2" -days "$3" \
			-addext "basicConstraints=critical,CA:TRUE" \
			-addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
}
secret=$tmp/ca
mkdir -p "$secret"
make_ca "$secret/..v1" "$IT_RUN CA one" 1 || t_abort "make CA one"
ln -s ..v1 "$secret/..data"
ln -s ..data/tls.crt "$secret/tls.crt"
ln -s ..data/tls.key "$secret/tls.key"

cat >"$tmp/signer-policy.yaml" <<EOF
policies:
  - name: issue
    signerName: $W
    type: workload
    namespaces: ["$A"]
    issue:
      caCertFile: $secret/tls.crt
      caKeyFile: $secret/tls.key
      lifetime: 2h
      backdate: 5m
  - name: long
    signerName: long.$W
    type: workload
    namespaces: ["$A"]
    issue:
      caCertFile: $secret/tls.crt
      caKeyFile: $secret/tls.key
      lifetime: 720h
      trustBundle: false
  - name: lenient
    signerName: lenient.$W
    type: workload
    onFailure: leave-pending
    namespaces: ["$A"]
    issue:
      caCertFile: $secret/tls.crt
      caKeyFile: $secret/tls.key
      trustBundle: false
  - name: strict
    signerName: strict.$W
    type: workload
    onFailure: leave-pending
    namespaces: ["$A"]
    issue:
      caCertFile: $secret/tls.crt
      caKeyFile: $secret/tls.key
      trustBundle: false
      requirePolicy: true
  - name: broken
    signerName: broken.$W
    type: workload
    namespaces: ["$A"]
    issue:
      caCertFile: $tmp/missing/tls.crt
      caKeyFile: $tmp/missing/tls.key
      trustBundle: false
EOF

signers=("$W" "long.$W" "lenient.$W" "strict.$W" "broken.$W")
ctl_kc=$(ctl_identity "$IT_RUN-approver" "${signers[@]}") ||
	t_abort "controller identity with its RBAC"
ctl_signing_rbac "$IT_RUN-approver" "$BUNDLE" "${signers[@]}" || t_abort "signing RBAC"

ctl_workload_world "$A" 10.244.7.10 "$tmp" || t_abort "workload world"
ctl_start main --kubeconfig "$ctl_kc" --config "$tmp/signer-policy.yaml" --metrics-bind-address 0 \
	--health-probe-bind-address 0 -v debug || t_abort "controller starts"

# ask NAME SIGNER CSR_FILE [EXPIRATION_S]
ask() {
	it_as "$tmp/web.kubeconfig" k8s_csr_create "$IT_RUN-$1" "$2" "$3" "$WUSAGES" "${4:-}" \
		"$IT_LABEL" || t_fail "create CSR $1"
}

# cert NAME: wait for status.certificate, write it to $tmp/NAME.crt
cert() {
	k8s_csr_wait_cert "$IT_RUN-$1" "$tmp/$1.crt" 30
}

# epoch of a certificate's notAfter / notBefore
not_after() { date -d "$(openssl x509 -in "$1" -noout -enddate | cut -d= -f2)" +%s; }
not_before() { date -d "$(openssl x509 -in "$1" -noout -startdate | cut -d= -f2)" +%s; }
near() { # WANT GOT SLACK_S
	local d=$(($2 - $1))
	((d < 0)) && d=$((-d))
	((d <= $3))
}

# ---------------------------------------------------------------- 1. the certificate, field by field
t0=$(date +%s)
ask good "$W" "$tmp/good.csr" 3600
if cert good; then
	t_ok "good: certificate issued"
else
	t_fail "good: certificate issued" "$(ctl_conditions "$IT_RUN-good")"
fi
c=$tmp/good.crt
t_check "good: verifies against the CA" openssl verify -CAfile "$secret/tls.crt" "$c"
san=$(openssl x509 -in "$c" -noout -ext subjectAltName | tail -n +2 | tr -d ' ')
t_eq "good: SANs exactly those requested" "URI:$spiffe,IPAddress:10.244.7.10,DNS:web.$A.svc" \
	"$(tr ',' '\n' <<<"$san" | sort -r | paste -sd, -)"
t_eq "good: subject is the CN alone" "subject=CN = web.$A.svc" \
	"$(openssl x509 -in "$c" -noout -subject)"
t_eq "good: extendedKeyUsage from spec.usages" \
	"TLS Web Client Authentication,TLS Web Server Authentication" \
	"$(openssl x509 -in "$c" -noout -ext extendedKeyUsage | tail -n +2 | tr ',' '\n' |
		sed 's/^ *//' | sort | paste -sd, -)"
t_eq "good: basicConstraints critical CA:FALSE" "X509v3 Basic Constraints: critical|CA:FALSE" \
	"$(openssl x509 -in "$c" -noout -ext basicConstraints | sed 's/^ *//' | paste -sd'|' -)"
t_eq "good: keyUsage critical, digitalSignature (an EC key)" \
	"X509v3 Key Usage: critical|Digital Signature" \
	"$(openssl x509 -in "$c" -noout -ext keyUsage | sed 's/^ *//' | paste -sd'|' -)"
ski_ca=$(openssl x509 -in "$secret/tls.crt" -noout -ext subjectKeyIdentifier | tail -n 1 | tr -d ' ')
aki=$(openssl x509 -in "$c" -noout -ext authorityKeyIdentifier | tail -n +2 | tr -d ' ' |
	sed 's/^keyid://' | head -n 1)
t_eq "good: authorityKeyIdentifier is the CA's key identifier" "$ski_ca" "$aki"
ski=$(openssl x509 -in "$c" -noout -ext subjectKeyIdentifier | tail -n 1 | tr -d ' ')
if [[ -n $ski && $ski != "$ski_ca" ]]; then
	t_ok "good: subjectKeyIdentifier of its own"
else
	t_fail "good: subjectKeyIdentifier of its own" "ski=$ski ca=$ski_ca"
fi
serial=$(openssl x509 -in "$c" -noout -serial | cut -d= -f2)
if [[ $serial =~ ^[0-9A-F]+$ && ${#serial} -ge 16 && ${#serial} -le 32 && $serial =~ [1-9A-F] ]]; then
	t_ok "good: a random positive serial of at most 128 bits ($serial)"
else
	t_fail "good: a random positive serial of at most 128 bits" "$serial"
fi
if near $((t0 + 3600)) "$(not_after "$c")" 60; then
	t_ok "good: notAfter = now + expirationSeconds (3600 s < lifetime 2h)"
else
	t_fail "good: notAfter = now + expirationSeconds" "$(openssl x509 -in "$c" -noout -enddate)"
fi
# The CA was made a moment ago: notBefore is still now - backdate, before
# the CA's own (verifiers check each certificate against the time).
want_nb=$((t0 - 300))
if near "$want_nb" "$(not_before "$c")" 60 && (($(not_before "$c") < $(not_before "$secret/tls.crt"))); then
	t_ok "good: notBefore = now - backdate (5m), before the CA's own notBefore"
else
	t_fail "good: notBefore = now - backdate" "$(openssl x509 -in "$c" -noout -startdate)"
fi
t_eq "good: the key of the request" "$(openssl pkey -in "$tmp/good.key" -pubout)" \
	"$(openssl x509 -in "$c" -noout -pubkey)"

# ---------------------------------------------------------------- 2. lifetime and CA caps
k8s_gen_csr "$tmp/nolimit.key" "$tmp/nolimit.csr" "/" "URI:$spiffe" &&
	ask nolimit "$W" "$tmp/nolimit.csr"
if cert nolimit && near $((t0 + 7200)) "$(not_after "$tmp/nolimit.crt")" 90; then
	t_ok "no expirationSeconds: notAfter = now + lifetime (2h)"
else
	t_fail "no expirationSeconds: notAfter = now + lifetime (2h)" \
		"$(openssl x509 -in "$tmp/nolimit.crt" -noout -enddate 2>&1)"
fi
ask long "long.$W" "$tmp/nolimit.csr"
if cert long && [[ $(not_after "$tmp/long.crt") == "$(not_after "$secret/tls.crt")" ]]; then
	t_ok "lifetime 720h: notAfter is the CA's own notAfter"
else
	t_fail "lifetime 720h: notAfter is the CA's own notAfter" \
		"$(openssl x509 -in "$tmp/long.crt" -noout -enddate 2>&1)"
fi

# ---------------------------------------------------------------- 3. approved by a person
ask lenient "lenient.$W" "$tmp/bad.csr"
ask strict "strict.$W" "$tmp/bad.csr"
ctl_wait_log main "left pending.*$IT_RUN-strict" 20 && ctl_wait_log main "left pending.*$IT_RUN-lenient" 20 ||
	t_fail "spoofed CSRs left pending by the policy" "$(tail -n 5 "$(ctl_log main)")"
kubectl certificate approve "$IT_RUN-lenient" "$IT_RUN-strict" >/dev/null
if cert lenient && openssl verify -CAfile "$secret/tls.crt" "$tmp/lenient.crt" >/dev/null 2>&1; then
	t_ok "approved with kubectl: signed (approval is the authorization step)"
else
	t_fail "approved with kubectl: signed" "$(ctl_conditions "$IT_RUN-lenient")"
fi
got=$(k8s_wait 30 bash -c "kubectl get csr $IT_RUN-strict -o jsonpath='{range .status.conditions[*]}{.type}:{.reason} {end}' | grep -o 'Failed:[A-Za-z]*'")
t_eq "requirePolicy: approved by hand, refused by the policy: Failed" "Failed:SANNotAllowed" "$got"
t_eq "requirePolicy: no certificate" "" \
	"$(kubectl get csr "$IT_RUN-strict" -o jsonpath='{.status.certificate}')"

# An approval that copies csr-approver's own reason and message: conditions
# carry no author, so requirePolicy still has the policy decide it.
ask forged "strict.$W" "$tmp/bad.csr"
ctl_wait_log main "left pending.*$IT_RUN-forged" 20 ||
	t_fail "forged: left pending by the policy" "$(tail -n 5 "$(ctl_log main)")"
kubectl get csr "$IT_RUN-forged" -o json |
	jq '.status.conditions=((.status.conditions // []) + [{type:"Approved",status:"True",reason:"AutoApproved",message:"csr-approver: policy strict: every check passed"}])' |
	kubectl replace --raw "/apis/certificates.k8s.io/v1/certificatesigningrequests/$IT_RUN-forged/approval" \
		-f - >/dev/null || t_fail "forged: approval written"
got=$(k8s_wait 30 bash -c "kubectl get csr $IT_RUN-forged -o jsonpath='{range .status.conditions[*]}{.type}:{.reason} {end}' | grep -o 'Failed:[A-Za-z]*'")
t_eq "requirePolicy: an approval forged in csr-approver's words is decided: Failed" "Failed:SANNotAllowed" "$got"
t_eq "requirePolicy: forged approval, no certificate" "" \
	"$(kubectl get csr "$IT_RUN-forged" -o jsonpath='{.status.certificate}')"

# ---------------------------------------------------------------- 4. a CA that does not load
ask broken "broken.$W" "$tmp/good.csr"
got=$(k8s_wait 30 bash -c "kubectl get csr $IT_RUN-broken -o jsonpath='{range .status.conditions[*]}{.type}:{.reason} {end}' | grep -o 'Failed:[A-Za-z]*'")
t_eq "unreadable CA: Failed/SignerError" "Failed:SignerError" "$got"
msg=$(kubectl get csr "$IT_RUN-broken" -o jsonpath='{.status.conditions[?(@.type=="Failed")].message}')
if [[ $msg == *"$tmp/missing/tls.crt"* && $msg != *PRIVATE* ]]; then
	t_ok "unreadable CA: the message names the file"
else
	t_fail "unreadable CA: the message names the file" "$msg"
fi
if ctl_running main; then t_ok "unreadable CA: the controller stays up"; else t_fail "unreadable CA: the controller stays up"; fi

# ---------------------------------------------------------------- 5. the trust bundle, and a rotation
bundle_fps() {
	kubectl get clustertrustbundle "$BUNDLE" -o jsonpath='{.spec.trustBundle}' 2>/dev/null >"$tmp/bundle.pem" || return 1
	awk '/BEGIN CERT/{n++} {print > ("'"$tmp"'/b" n ".pem")}' "$tmp/bundle.pem"
	local f
	for f in "$tmp"/b[0-9]*.pem; do
		openssl x509 -in "$f" -noout -fingerprint -sha256 | cut -d= -f2
	done
	rm -f "$tmp"/b[0-9]*.pem
}
fp1=$(openssl x509 -in "$secret/..v1/tls.crt" -noout -fingerprint -sha256 | cut -d= -f2)
k8s_wait 20 bash -c "kubectl get clustertrustbundle $BUNDLE" >/dev/null 2>&1
t_eq "trust bundle $BUNDLE holds the CA" "$fp1" "$(bundle_fps)"
t_eq "trust bundle names the signer" "$W" \
	"$(kubectl get clustertrustbundle "$BUNDLE" -o jsonpath='{.spec.signerName}')"

make_ca "$secret/..v2" "$IT_RUN CA two" 2 || t_fail "make CA two"
ln -s ..v2 "$secret/..data_tmp" && mv -T "$secret/..data_tmp" "$secret/..data"
fp2=$(openssl x509 -in "$secret/..v2/tls.crt" -noout -fingerprint -sha256 | cut -d= -f2)
deadline=$((SECONDS + 30))
until [[ $(bundle_fps | paste -sd' ' -) == "$fp2 $fp1" ]] || ((SECONDS > deadline)); do
	sleep 0.5
done
t_eq "rotation: the bundle holds the new CA, then the old" "$fp2 $fp1" "$(bundle_fps | paste -sd' ' -)"
k8s_gen_csr "$tmp/after.key" "$tmp/after.csr" "/" "URI:$spiffe" &&
	ask after "$W" "$tmp/after.csr"
if cert after && openssl verify -CAfile "$secret/..v2/tls.crt" "$tmp/after.crt" >/dev/null 2>&1 &&
	! openssl verify -CAfile "$secret/..v1/tls.crt" "$tmp/after.crt" >/dev/null 2>&1; then
	t_ok "rotation: the next certificate is signed by the new CA"
else
	t_fail "rotation: the next certificate is signed by the new CA" "$(ctl_conditions "$IT_RUN-after")"
fi
cat "$secret/..v1/tls.crt" "$secret/..v2/tls.crt" >"$tmp/both.pem"
t_check "rotation: a certificate of the old CA still verifies against the bundle" \
	openssl verify -CAfile "$tmp/both.pem" "$tmp/good.crt"

# ---------------------------------------------------------------- 6. once each, and the log
log=$(ctl_log main)
for n in good nolimit long lenient after; do
	t_eq "$n: issued once" 1 "$(grep -E '"msg":"issued"' "$log" | grep -cE "\"csr\":\"$IT_RUN-$n\"")"
done
if grep -qE 'BEGIN (EC |RSA )?PRIVATE KEY|PRIVATE KEY-----' "$log"; then
	t_fail "no key material in the log"
else
	t_ok "no key material in the log"
fi
ctl_stop main
t_eq "SIGTERM exits 0" 0 "$?"
report=$(ctl_sanitizer_report main)
[[ -z $report ]] && t_ok "no sanitizer report" || t_fail "no sanitizer report" "$report"

# ---------------------------------------------------------------- 7. a certificate write that conflicts
# The certificate write held 3 s (the test binary's --write-delay), the CSR
# labelled meanwhile: the write meets a 409, the CSR is read again, still
# Approved without a certificate, and signed.
ctl_start held --kubeconfig "$ctl_kc" --config "$tmp/signer-policy.yaml" --metrics-bind-address 0 \
	--health-probe-bind-address 0 -v debug --write-delay=3s --bundle-resync=2s ||
	t_abort "controller with held writes starts"
ask held "$W" "$tmp/good.csr" 3600
if ctl_wait_log held "holding the certificate write.*$IT_RUN-held" 20; then
	kubectl label csr "$IT_RUN-held" it.example.com/touched=yes >/dev/null
	t_ok "held: CSR labelled while the certificate write is held"
else
	t_fail "held: CSR labelled while the certificate write is held" "$(tail -n 10 "$(ctl_log held)")"
fi
if cert held && openssl verify -CAfile "$secret/tls.crt" "$tmp/held.crt" >/dev/null 2>&1; then
	t_ok "held: signed after the conflict"
else
	t_fail "held: signed after the conflict" "$(grep "$IT_RUN-held" "$(ctl_log held)" | tail -n 5)"
fi
t_check "held: the 409 was met and the CSR read again" \
	grep -q "status write conflict.*$IT_RUN-held" "$(ctl_log held)"
t_eq "held: the label is kept" yes \
	"$(kubectl get csr "$IT_RUN-held" -o jsonpath='{.metadata.labels.it\.example\.com/touched}')"
# A bundle deleted by hand comes back at the next resync (2 s here, 5 min
# by default), from the files alone: how an old CA is dropped at once.
ctl_wait_log held "trust bundle (published|current)" 20 >/dev/null
kubectl delete clustertrustbundle "$BUNDLE" >/dev/null
deadline=$((SECONDS + 30))
until [[ $(bundle_fps | paste -sd' ' -) == "$fp2" ]] || ((SECONDS > deadline)); do
	sleep 0.5
done
t_eq "a deleted bundle is published again, from the files alone" "$fp2" "$(bundle_fps | paste -sd' ' -)"
ctl_stop held
t_eq "held: SIGTERM exits 0" 0 "$?"
t_done
