#!/usr/bin/env bash
# Regenerate the certificate-request fixtures of csr-approver:
#   tests/testdata/csr/     PEM requests, good and hostile (README.md lists them)
#   tests/testdata/csrobj/  CertificateSigningRequest objects (YAML and JSON)
#
# Keys are fresh on every run, so the bytes change; what each file exercises
# does not. Requests the openssl command line cannot build come from
# gen_csr.c, compiled into a scratch directory; requests as Go's crypto/x509
# makes them (kubelets, client-go) from gen_go_csr.go when a Go toolchain is
# installed, else the committed go-*.pem files stay. Run by `make fixtures`.
set -euo pipefail
cd "$(dirname "$0")"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
out=csr
objs=csrobj
mkdir -p "$out" "$objs"
# Everything but go-*.pem, which only a Go toolchain can remake.
find "$out" -type f ! -name 'go-*.pem' -delete
rm -f "$objs"/*.yaml "$objs"/*.json

# No site configuration: the same result on every machine.
export OPENSSL_CONF=/dev/null
cat >"$tmp/req.cnf" <<'EOF'
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused
[ dir_sect ]
C = US
O = Example
CN = dir.example
EOF
cat >"$tmp/attrs.cnf" <<'EOF'
[ req ]
distinguished_name = dn
attributes = attrs
prompt = no
[ dn ]
CN = web.shop.svc
[ attrs ]
challengePassword = correct-horse-battery
EOF

${CC:-cc} -std=c11 -O1 -Wall -Wextra -Werror -o "$tmp/gen_csr" gen_csr.c -lcrypto
gen() { "$tmp/gen_csr" "$@"; }

# ---- keys (never committed) ----
key() { openssl genpkey -quiet "$@"; }
key -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$tmp/p256.key"
key -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$tmp/p256b.key"
key -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out "$tmp/p384.key"
key -algorithm EC -pkeyopt ec_paramgen_curve:P-521 -out "$tmp/p521.key"
key -algorithm EC -pkeyopt ec_paramgen_curve:secp256k1 -out "$tmp/k256.key"
openssl ecparam -name prime256v1 -param_enc explicit -genkey -noout -out "$tmp/explicit.key"
key -algorithm ED25519 -out "$tmp/ed25519.key"
key -algorithm ED448 -out "$tmp/ed448.key"
key -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$tmp/rsa2048.key"
key -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out "$tmp/rsa3072.key"
key -algorithm RSA -pkeyopt rsa_keygen_bits:4096 -out "$tmp/rsa4096.key"
key -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out "$tmp/rsa1024.key"
key -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -pkeyopt rsa_keygen_pubexp:3 -out "$tmp/rsa-e3.key"
key -algorithm RSA-PSS -pkeyopt rsa_keygen_bits:2048 -out "$tmp/rsapss.key"
openssl dsaparam -out "$tmp/dsa.param" 2048 2>/dev/null
key -paramfile "$tmp/dsa.param" -out "$tmp/dsa.key"

# req NAME KEY SUBJECT [openssl req options...]
req() {
	local name=$1 k=$2 subj=$3
	shift 3
	openssl req -new -config "$tmp/req.cnf" -key "$tmp/$k.key" -subj "$subj" "$@" \
		-out "$out/$name.pem"
}

WL_DNS=10-244-1-7.shop.pod.cluster.local
WL_URI=spiffe://cluster.local/ns/shop/sa/web

# ---- good requests ----
req good-ec-p256 p256 "/CN=$WL_DNS" \
	-addext "subjectAltName=URI:$WL_URI,DNS:$WL_DNS,IP:10.244.1.7" \
	-addext "keyUsage=critical,digitalSignature" \
	-addext "extendedKeyUsage=serverAuth,clientAuth" \
	-addext "basicConstraints=critical,CA:FALSE"
req good-ec-p384 p384 "/CN=web.shop.svc" -sha384 \
	-addext "subjectAltName=DNS:web.shop.svc,DNS:web.shop.svc.cluster.local,IP:fd00:10:244::7" \
	-addext "extendedKeyUsage=serverAuth"
req good-ec-p521 p521 "/CN=web.shop.svc" -sha512 \
	-addext "subjectAltName=DNS:web.shop.svc"
req good-ed25519 ed25519 "/" -addext "subjectAltName=URI:$WL_URI"
req good-rsa2048 rsa2048 "/CN=system:node:node-1/O=system:nodes" \
	-addext "subjectAltName=DNS:node-1,IP:10.0.0.11" \
	-addext "keyUsage=critical,digitalSignature,keyEncipherment" \
	-addext "extendedKeyUsage=serverAuth"
req good-rsa3072 rsa3072 "/CN=system:node:node-1/O=system:nodes"
req good-rsa4096 rsa4096 "/CN=api.shop.svc" -sha512 \
	-addext "subjectAltName=DNS:api.shop.svc,URI:spiffe://cluster.local/ns/shop/sa/api"
req good-rsa2048-pss rsa2048 "/CN=web.shop.svc" \
	-sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:digest \
	-addext "subjectAltName=DNS:web.shop.svc"

# The request of the troubleshooting docs: pod shop/api-5c8 asks for its own
# names and for another service's.
req workload-foreign-dns p256b "/CN=10-244-1-9.shop.pod.cluster.local" \
	-addext "subjectAltName=URI:spiffe://cluster.local/ns/shop/sa/api,DNS:10-244-1-9.shop.pod.cluster.local,DNS:db.other.svc" \
	-addext "keyUsage=critical,digitalSignature" \
	-addext "extendedKeyUsage=serverAuth,clientAuth" \
	-addext "basicConstraints=critical,CA:FALSE"

# A person's own client certificate (type client), as `openssl req` makes
# it for `kubectl create -f csr.yaml`: their name, a group, no SAN.
req client-alice p256 "/CN=alice@example.com/O=developers"
req client-alice-masters p256 "/CN=alice@example.com/O=system:masters"
req client-mallory p256 "/CN=mallory@evil.test"
req client-sa p256 "/CN=system:serviceaccount:ci:deployer"

# Accepted PEM variations of good-ec-p256.
sed 's/$/\r/' "$out/good-ec-p256.pem" >"$out/pem-crlf.pem"
{ printf '\n\n'; sed 's/$/  /' "$out/good-ec-p256.pem"; printf '\n\t\n'; } >"$out/pem-surrounding-space.pem"

# ---- signatures ----
gen sig-tampered "$out/good-ec-p256.pem" >"$out/sig-tampered.pem"
gen sig-wrong-key "$tmp/p256.key" "$tmp/p256b.key" >"$out/sig-wrong-key.pem"
req sig-sha1 rsa2048 "/CN=web.shop.svc" -sha1 -addext "subjectAltName=DNS:web.shop.svc"
req sig-md5 rsa2048 "/CN=web.shop.svc" -md5 -addext "subjectAltName=DNS:web.shop.svc"
req sig-ecdsa-sha1 p256 "/CN=web.shop.svc" -sha1 -addext "subjectAltName=DNS:web.shop.svc"
req sig-pss-mgf1-mismatch rsa2048 "/CN=web.shop.svc" \
	-sigopt rsa_padding_mode:pss -sigopt rsa_mgf1_md:sha1 \
	-addext "subjectAltName=DNS:web.shop.svc"

# ---- keys ----
req key-rsa1024 rsa1024 "/CN=web.shop.svc" -addext "subjectAltName=DNS:web.shop.svc"
req key-rsa-e3 rsa-e3 "/CN=web.shop.svc" -addext "subjectAltName=DNS:web.shop.svc"
req key-rsa-pss rsapss "/CN=web.shop.svc" -addext "subjectAltName=DNS:web.shop.svc"
req key-secp256k1 k256 "/CN=web.shop.svc" -addext "subjectAltName=DNS:web.shop.svc"
req key-ec-explicit explicit "/CN=web.shop.svc" -addext "subjectAltName=DNS:web.shop.svc"
req key-ed448 ed448 "/CN=web.shop.svc" -addext "subjectAltName=DNS:web.shop.svc"
req key-dsa dsa "/CN=web.shop.svc" -addext "subjectAltName=DNS:web.shop.svc"
gen key-unknown-alg "$tmp/p256.key" >"$out/key-unknown-alg.pem"
# The RSA key written out in forms OpenSSL reads but DER does not allow.
for c in key-rsa-int-padding key-rsa-no-params key-rsa-trailing-data; do
	gen "$c" "$tmp/rsa2048.key" >"$out/$c.pem"
done

# ---- extensions ----
req ext-ca-true p256 "/CN=web.shop.svc" -addext "subjectAltName=DNS:web.shop.svc" \
	-addext "basicConstraints=critical,CA:TRUE"
req ext-unknown p256 "/CN=web.shop.svc" -addext "subjectAltName=DNS:web.shop.svc" \
	-addext "1.2.3.4=ASN1:UTF8String:hello"
req ext-unknown-critical p256 "/CN=web.shop.svc" -addext "subjectAltName=DNS:web.shop.svc" \
	-addext "1.2.3.5=critical,ASN1:NULL"
req ext-name-constraints p256 "/CN=web.shop.svc" -addext "subjectAltName=DNS:web.shop.svc" \
	-addext "nameConstraints=critical,permitted;DNS:shop.svc"
req ext-ku-keycertsign p256 "/CN=web.shop.svc" -addext "subjectAltName=DNS:web.shop.svc" \
	-addext "keyUsage=critical,digitalSignature,keyCertSign,cRLSign"
req ext-eku-codesigning p256 "/CN=web.shop.svc" -addext "subjectAltName=DNS:web.shop.svc" \
	-addext "extendedKeyUsage=serverAuth,codeSigning,1.2.3.4"
for c in ext-two-san ext-critical-false-explicit ext-san-ber ext-san-garbage ext-ku-undefined-bit; do
	gen "$c" "$tmp/p256.key" >"$out/$c.pem"
done

# ---- attributes ----
openssl req -new -config "$tmp/attrs.cnf" -key "$tmp/p256.key" -out "$out/attr-challenge-password.pem"
for c in attr-two-extreq attr-extreq-two-values attr-extreq-empty attr-ms-extreq; do
	gen "$c" "$tmp/p256.key" >"$out/$c.pem"
done

# ---- subjects ----
req subj-dup-cn p256 "/CN=web.shop.svc/CN=admin.shop.svc"
req subj-multi-rdn p256 "/CN=web.shop.svc+O=shop" -multivalue-rdn
req subj-system-masters p256 "/CN=web.shop.svc/O=system:masters"
req subj-ou p256 "/C=US/O=shop/OU=eng/CN=web.shop.svc"
for c in subj-bmp-cn subj-t61-cn subj-control-cn subj-nul-cn subj-printable-bad subj-invalid-utf8 \
	subj-empty-rdn; do
	gen "$c" "$tmp/p256.key" >"$out/$c.pem"
done

# ---- subject alternative names ----
san() { req "$1" p256 "/CN=web.shop.svc" -addext "subjectAltName=$2"; }
san san-email "DNS:web.shop.svc,email:web@shop.example"
san san-othername "DNS:web.shop.svc,otherName:1.3.6.1.4.1.311.20.2.3;UTF8:web@shop.example"
san san-dirname "DNS:web.shop.svc,dirName:dir_sect"
san san-rid "DNS:web.shop.svc,RID:1.2.3.4"
san san-wildcard "DNS:*.shop.svc"
san san-trailing-dot "DNS:web.shop.svc."
san san-ip-loopback "IP:127.0.0.1,IP:::1"
san san-ip-unspecified "IP:0.0.0.0,IP:::"
san san-ip-link-local "IP:169.254.10.1,IP:fe80::1"
san san-ip-multicast "IP:224.0.0.251,IP:ff02::fb"
san san-ip-v4mapped "IP:::ffff:10.244.1.7"
san san-service-short "URI:$WL_URI,DNS:web,DNS:web.shop,DNS:web.shop.svc,DNS:web.shop.svc.cluster.local"
for c in san-dns-nul san-ip-5bytes san-1000 san-max; do
	gen "$c" "$tmp/p256.key" >"$out/$c.pem"
done

# ---- DER ----
gen der-version2 "$tmp/p256.key" >"$out/der-version2.pem"
gen der-long-form-length "$out/good-ec-p256.pem" >"$out/der-long-form-length.pem"
gen der-trailing-bytes "$out/good-ec-p256.pem" >"$out/der-trailing-bytes.pem"

# ---- PEM framing ----
good=$out/good-ec-p256.pem
cat "$good" "$out/good-ed25519.pem" >"$out/pem-two-blocks.pem"
{ cat "$good"; echo "garbage"; } >"$out/pem-trailing-garbage.pem"
{ echo "Certificate Request:"; cat "$good"; } >"$out/pem-leading-text.pem"
sed 's/CERTIFICATE REQUEST/NEW CERTIFICATE REQUEST/' "$good" >"$out/pem-new-header.pem"
sed 's/CERTIFICATE REQUEST/CERTIFICATE/' "$good" >"$out/pem-certificate.pem"
sed '1a Proc-Type: 4,ENCRYPTED' "$good" >"$out/pem-proc-type.pem"
sed '2s/^\(....\)./\1!/' "$good" >"$out/pem-bad-base64.pem"
sed '$d' "$good" >"$out/pem-missing-end.pem"
echo "this is not a certificate request" >"$out/not-pem.txt"
: >"$out/empty.pem"
printf ' \n\t\r\n' >"$out/whitespace-only.pem"

# ---- made by Go's crypto/x509 ----
if command -v go >/dev/null 2>&1; then
	rm -f "$out"/go-*.pem
	GOTOOLCHAIN=local GOFLAGS='' go run gen_go_csr.go "$out"
else
	echo "fixtures: no Go toolchain; keeping the committed $out/go-*.pem" >&2
fi

# ---- CertificateSigningRequest objects ----
# obj NAME PEM SIGNER USERNAME GROUPS(comma) USAGES(comma) EXPIRATION EXTRA(k=v;...) CONDITION
#     [REASON MESSAGE]   (of the condition; default an administrator's approval)
obj() {
	local name=$1 pem=$2 signer=$3 user=$4 groups=$5 usages=$6 exp=$7 extra=$8 cond=$9
	local creason=${10:-KubectlApprove} cmsg=${11:-approved by an administrator}
	local b64 uid
	b64=$(base64 -w0 "$out/$pem.pem")
	uid=$(printf '%s' "$name" | sha256sum | cut -c1-32)
	uid="${uid:0:8}-${uid:8:4}-${uid:12:4}-${uid:16:4}-${uid:20:12}"
	local IFS=,
	# YAML, as kubectl get csr -o yaml prints it
	{
		echo "apiVersion: certificates.k8s.io/v1"
		echo "kind: CertificateSigningRequest"
		echo "metadata:"
		echo "  creationTimestamp: \"2026-01-15T10:00:00Z\""
		echo "  name: $name"
		echo "  resourceVersion: \"4711\""
		echo "  uid: $uid"
		echo "spec:"
		if [ -n "$exp" ]; then echo "  expirationSeconds: $exp"; fi
		if [ -n "$extra" ]; then
			echo "  extra:"
			local IFS=';'
			for kv in $extra; do
				echo "    ${kv%%=*}:"
				echo "    - ${kv#*=}"
			done
			IFS=,
		fi
		echo "  groups:"
		for g in $groups; do echo "  - $g"; done
		echo "  request: $b64"
		echo "  signerName: $signer"
		echo "  uid: 0b5e7f3c-1d2a-4c8e-9f10-$(printf '%s' "$user" | sha256sum | cut -c1-12)"
		echo "  usages:"
		for u in $usages; do echo "  - $u"; done
		echo "  username: $user"
		if [ -n "$cond" ]; then
			echo "status:"
			echo "  conditions:"
			echo "  - lastTransitionTime: \"2026-01-15T10:00:01Z\""
			echo "    lastUpdateTime: \"2026-01-15T10:00:01Z\""
			echo "    message: '${cmsg//\'/\'\'}'"
			echo "    reason: $creason"
			echo "    status: \"True\""
			echo "    type: $cond"
		else
			echo "status: {}"
		fi
	} >"$objs/$name.yaml"
	# JSON, as kubectl get csr -o json prints it
	{
		echo "{"
		echo "    \"apiVersion\": \"certificates.k8s.io/v1\","
		echo "    \"kind\": \"CertificateSigningRequest\","
		echo "    \"metadata\": {"
		echo "        \"creationTimestamp\": \"2026-01-15T10:00:00Z\","
		echo "        \"name\": \"$name\","
		echo "        \"resourceVersion\": \"4711\","
		echo "        \"uid\": \"$uid\""
		echo "    },"
		echo "    \"spec\": {"
		if [ -n "$exp" ]; then echo "        \"expirationSeconds\": $exp,"; fi
		if [ -n "$extra" ]; then
			echo "        \"extra\": {"
			local IFS=';' first=1
			for kv in $extra; do
				[ $first -eq 1 ] || echo ","
				printf '            "%s": [\n                "%s"\n            ]' "${kv%%=*}" "${kv#*=}"
				first=0
			done
			echo
			echo "        },"
			IFS=,
		fi
		echo "        \"groups\": ["
		local first=1
		for g in $groups; do
			[ $first -eq 1 ] || echo ","
			printf '            "%s"' "$g"
			first=0
		done
		echo
		echo "        ],"
		echo "        \"request\": \"$b64\","
		echo "        \"signerName\": \"$signer\","
		echo "        \"uid\": \"0b5e7f3c-1d2a-4c8e-9f10-$(printf '%s' "$user" | sha256sum | cut -c1-12)\","
		echo "        \"usages\": ["
		first=1
		for u in $usages; do
			[ $first -eq 1 ] || echo ","
			printf '            "%s"' "$u"
			first=0
		done
		echo
		echo "        ],"
		echo "        \"username\": \"$user\""
		echo "    },"
		if [ -n "$cond" ]; then
			echo "    \"status\": {"
			echo "        \"conditions\": ["
			echo "            {"
			echo "                \"lastTransitionTime\": \"2026-01-15T10:00:01Z\","
			echo "                \"lastUpdateTime\": \"2026-01-15T10:00:01Z\","
			echo "                \"message\": \"${cmsg//\"/\\\"}\","
			echo "                \"reason\": \"$creason\","
			echo "                \"status\": \"True\","
			echo "                \"type\": \"$cond\""
			echo "            }"
			echo "        ]"
			echo "    }"
		else
			echo "    \"status\": {}"
		fi
		echo "}"
	} >"$objs/$name.json"
}

SA_GROUPS="system:serviceaccounts,system:serviceaccounts:shop,system:authenticated"
WL_USAGES="digital signature,server auth,client auth"
POD_EXTRA="authentication.kubernetes.io/credential-id=JTI=5d0f6a2e-7b1c-4e8a-9c3d-2f4b6a8e0c1d"
POD_EXTRA+=";authentication.kubernetes.io/node-name=node-1"
POD_EXTRA+=";authentication.kubernetes.io/node-uid=3c9e1b7a-5d2f-4a6c-8e0b-1f3d5a7c9e2b"
POD_EXTRA+=";authentication.kubernetes.io/pod-name=web-7d9"
POD_EXTRA+=";authentication.kubernetes.io/pod-uid=8f2a4c6e-0b1d-4f3a-9c5e-7d9b1a3c5e7f"
NODE_GROUPS="system:nodes,system:authenticated"

obj workload-good good-ec-p256 example.com/workload-mtls system:serviceaccount:shop:web \
	"$SA_GROUPS" "$WL_USAGES" 3600 "$POD_EXTRA" ""
obj workload-tampered sig-tampered example.com/workload-mtls system:serviceaccount:shop:web \
	"$SA_GROUPS" "$WL_USAGES" 3600 "$POD_EXTRA" ""
obj workload-system-masters subj-system-masters example.com/workload-mtls \
	system:serviceaccount:shop:web "$SA_GROUPS" "$WL_USAGES" 3600 "$POD_EXTRA" ""
obj workload-no-pod-claims good-ec-p256 example.com/workload-mtls system:serviceaccount:shop:web \
	"$SA_GROUPS" "$WL_USAGES" "" "" ""
obj workload-missing-group good-ec-p256 example.com/workload-mtls \
	system:serviceaccount:shop:web "system:serviceaccounts,system:authenticated" "$WL_USAGES" 3600 \
	"$POD_EXTRA" ""
obj workload-service-short san-service-short example.com/workload-mtls \
	system:serviceaccount:shop:web "$SA_GROUPS" "$WL_USAGES" 3600 "$POD_EXTRA" ""
obj workload-san-1000 san-1000 example.com/workload-mtls system:serviceaccount:shop:web \
	"$SA_GROUPS" "$WL_USAGES" 3600 "$POD_EXTRA" ""
obj workload-san-max san-max example.com/workload-mtls system:serviceaccount:shop:web \
	"$SA_GROUPS" "$WL_USAGES" 3600 "$POD_EXTRA" ""
obj workload-key-int-padding key-rsa-int-padding example.com/workload-mtls \
	system:serviceaccount:shop:web "$SA_GROUPS" "$WL_USAGES" 3600 "$POD_EXTRA" ""
obj workload-empty-rdn subj-empty-rdn example.com/workload-mtls system:serviceaccount:shop:web \
	"$SA_GROUPS" "$WL_USAGES" 3600 "$POD_EXTRA" ""
obj workload-approved good-ec-p256 example.com/workload-mtls system:serviceaccount:shop:web \
	"$SA_GROUPS" "$WL_USAGES" 3600 "$POD_EXTRA" Approved
obj kubelet-serving good-rsa2048 kubernetes.io/kubelet-serving system:node:node-1 \
	"$NODE_GROUPS" "digital signature,key encipherment,server auth" "" "" ""
obj kubelet-client good-rsa3072 kubernetes.io/kube-apiserver-client-kubelet system:node:node-1 \
	"$NODE_GROUPS" "digital signature,key encipherment,client auth" "" "" ""
obj other-signer good-ec-p256 example.com/someone-else system:serviceaccount:shop:web \
	"$SA_GROUPS" "$WL_USAGES" 3600 "$POD_EXTRA" ""
# People asking for client certificates (type client, signer
# kubernetes.io/kube-apiserver-client): alice for herself, and the hostile
# variations: another user's name, system:masters, a requester outside
# requesters, no expirationSeconds, a service account.
PERSON_GROUPS="developers,system:authenticated"
PERSON_EXTRA="authentication.kubernetes.io/credential-id=X509SHA256=5e1d0c7a9b3f2e4d6c8a0b1f3e5d7c9a"
CL=kubernetes.io/kube-apiserver-client
CL_USAGES="digital signature,key encipherment,client auth"
obj client-own client-alice $CL alice@example.com "$PERSON_GROUPS" "$CL_USAGES" 3600 \
	"$PERSON_EXTRA" ""
obj client-other-user client-alice $CL bob@example.com "$PERSON_GROUPS" "$CL_USAGES" 3600 \
	"$PERSON_EXTRA" ""
obj client-system-masters client-alice-masters $CL alice@example.com \
	"developers,system:masters,system:authenticated" "$CL_USAGES" 3600 "$PERSON_EXTRA" ""
obj client-outside-requesters client-mallory $CL mallory@evil.test "system:authenticated" \
	"$CL_USAGES" 3600 "$PERSON_EXTRA" ""
obj client-no-expiration client-alice $CL alice@example.com "$PERSON_GROUPS" "$CL_USAGES" "" \
	"$PERSON_EXTRA" ""
obj client-service-account client-sa $CL system:serviceaccount:ci:deployer \
	"system:serviceaccounts,system:serviceaccounts:ci,system:authenticated" "$CL_USAGES" 3600 "" ""
# The CSR of the troubleshooting docs, denied by the controller as
# `csr-approver check` decides it (tests/e2e/docs-recipes.sh replays it).
API_EXTRA="authentication.kubernetes.io/credential-id=JTI=9a4c2e6f-1b3d-4f5a-8c7e-0d2f4b6a8c1e"
API_EXTRA+=";authentication.kubernetes.io/node-name=node-1"
API_EXTRA+=";authentication.kubernetes.io/node-uid=3c9e1b7a-5d2f-4a6c-8e0b-1f3d5a7c9e2b"
API_EXTRA+=";authentication.kubernetes.io/pod-name=api-5c8"
API_EXTRA+=";authentication.kubernetes.io/pod-uid=6d1f3b5a-7c9e-4b2d-8f0a-1c3e5a7b9d2f"
DENIED_MSG='csr-approver: policy workload-mtls: DNS SAN "db.other.svc" is not a name of pod shop/api-5c8 (allowed: 10-244-1-9.shop.pod.cluster.local)'
obj api-5c8-tls workload-foreign-dns example.com/workload-mtls system:serviceaccount:shop:api \
	"$SA_GROUPS" "$WL_USAGES" 3600 "$API_EXTRA" Denied SANNotAllowed "$DENIED_MSG"

nreq=$(find "$out" -type f | wc -l)
nobj=$(find "$objs" -type f | wc -l)
echo "fixtures: $nreq requests in $out/, $nobj objects in $objs/"
