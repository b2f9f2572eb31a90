# shellcheck shell=bash
# Throwaway PKI for the loopback test cluster, made with the openssl CLI.
# Every key is ECDSA P-256. Sourced by hack/cluster.sh and by
# hack/lib/k8s-helpers.sh.
#
#   pki_ca DIR                                   DIR/ca.{crt,key}
#   pki_serving_cert DIR NAME CN SAN             DIR/NAME.{crt,key}; SAN as for
#                                                openssl: "IP:127.0.0.1,DNS:localhost"
#   pki_client_cert DIR NAME CN [O]...           DIR/NAME.{crt,key}, client auth
#   pki_sa_keypair DIR                           DIR/sa.key, DIR/sa.pub
#   pki_kubeconfig OUT SERVER CA_CRT CRT KEY USER  kubeconfig with embedded data
#
# The CA key lives next to its certificate, so tests can mint more client
# identities with pki_client_cert (see k8s_client_kubeconfig in
# hack/lib/k8s-helpers.sh).

pki_key() { # FILE
	(umask 077 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null)
}

# pki_subj CN [O]...: an openssl -subj string, O first as Kubernetes prints it.
pki_subj() {
	local cn=$1 o subj=""
	shift
	for o in "$@"; do
		subj+="/O=$o"
	done
	echo "$subj/CN=$cn"
}

pki_ca() { # DIR
	local dir=$1
	mkdir -p "$dir"
	pki_key "$dir/ca.key"
	openssl req -x509 -new -key "$dir/ca.key" -sha256 -days 3650 \
		-subj "/CN=csr-approver-test-ca" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" \
		-addext "subjectKeyIdentifier=hash" \
		-out "$dir/ca.crt" 2>/dev/null
}

# pki_sign DIR NAME SUBJ EXTFILE: sign DIR/NAME.key's request with DIR/ca.*.
pki_sign() {
	local dir=$1 name=$2 subj=$3 ext=$4
	pki_key "$dir/$name.key"
	openssl req -new -key "$dir/$name.key" -subj "$subj" -out "$dir/$name.csr" 2>/dev/null
	openssl x509 -req -in "$dir/$name.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" \
		-set_serial "0x$(openssl rand -hex 16)" -sha256 -days 3650 \
		-extfile "$ext" -out "$dir/$name.crt" 2>/dev/null
	rm -f "$dir/$name.csr" "$ext"
}

pki_serving_cert() { # DIR NAME CN SAN
	local dir=$1 name=$2 cn=$3 san=$4 ext
	ext=$(mktemp)
	cat >"$ext" <<EOF
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=$san
authorityKeyIdentifier=keyid
EOF
	pki_sign "$dir" "$name" "/CN=$cn" "$ext"
}

pki_client_cert() { # DIR NAME CN [O]...
	local dir=$1 name=$2 ext
	shift 2
	ext=$(mktemp)
	cat >"$ext" <<EOF
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth
authorityKeyIdentifier=keyid
EOF
	pki_sign "$dir" "$name" "$(pki_subj "$@")" "$ext"
}

pki_sa_keypair() { # DIR
	local dir=$1
	pki_key "$dir/sa.key"
	openssl pkey -in "$dir/sa.key" -pubout -out "$dir/sa.pub" 2>/dev/null
}

pki_b64() { base64 -w0 <"$1"; }

pki_kubeconfig() { # OUT SERVER CA_CRT CRT KEY USER
	local out=$1 server=$2 ca=$3 crt=$4 key=$5 user=$6
	(
		umask 077
		cat >"$out" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: csr-approver
  cluster:
    server: $server
    certificate-authority-data: $(pki_b64 "$ca")
users:
- name: $user
  user:
    client-certificate-data: $(pki_b64 "$crt")
    client-key-data: $(pki_b64 "$key")
contexts:
- name: $user@csr-approver
  context:
    cluster: csr-approver
    user: $user
current-context: $user@csr-approver
EOF
	)
}
