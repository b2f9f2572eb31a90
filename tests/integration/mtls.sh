#!/usr/bin/env bash
# Automatic mTLS for pods, end to end on the real control plane: the
# controller approves and signs (issue:, lifetime 60s), publishes the CA as
# a ClusterTrustBundle, and `csr-approver bootstrap` agents, running as host
# processes with tokens bound to their pods, get key, certificate and CA.
#
#   - two workloads (web and api) each get a pair; `openssl s_server
#     -Verify` with one and `openssl s_client` with the other complete a
#     mutual TLS handshake, each verifying the peer against the CA read from
#     the ClusterTrustBundle and checking its name (the service name with
#     -verify_hostname, the SPIFFE URI in the peer's certificate);
#   - an agent whose pod asks for another workload's name exits 1 with the
#     policy's message; one without RBAC names the missing permission;
#   - a sidecar renews before each 60 s certificate expires; a reader never
#     sees a key and a certificate that do not match; the handshake works
#     after two renewals.
# Prints the seconds each --once agent took (a figure, not a check).
set -uo pipefail

# shellcheck source=tests/integration/controller-lib.bash
source "$(dirname "${BASH_SOURCE[0]}")/controller-lib.bash"
ctl_setup mtls

A=$IT_NS
tmp=$T_TMP
W=$IT_RUN.example.com/mtls
BUNDLE=${W//\//:}:ca
bin=$(ctl_bin)

# shellcheck disable=SC2317 # run at exit
stop_agents() {
	[[ -n ${READER_PID:-} ]] && kill "$READER_PID" 2>/dev/null
	[[ -n ${SERVER_PID:-} ]] && kill "$SERVER_PID" 2>/dev/null
	# The agents' CSRs carry no test label.
	kubectl get csr -o json |
		jq -r --arg s "$W" '.items[] | select(.spec.signerName==$s) | .metadata.name' |
		xargs -r kubectl delete csr --wait=false
}
t_on_exit stop_agents
t_on_exit kubectl delete clustertrustbundle "$BUNDLE" --wait=false

# ---------------------------------------------------------------- the CA and the controller
mkdir -p "$tmp/ca"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$tmp/ca/tls.key" \
	-out "$tmp/ca/tls.crt" -subj "/CN=$IT_RUN mTLS CA" -days 1 \
	-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign" \
	2>/dev/null || t_abort "make the CA"
cat >"$tmp/mtls-policy.yaml" <<EOF
policies:
  - name: mtls
    signerName: $W
    type: workload
    namespaces: ["$A"]
    issue:
      caCertFile: $tmp/ca/tls.crt
      caKeyFile: $tmp/ca/tls.key
      lifetime: 60s
      backdate: 0s
EOF
ctl_kc=$(ctl_identity "$IT_RUN-approver" "$W") || t_abort "controller identity"
ctl_signing_rbac "$IT_RUN-approver" "$BUNDLE" "$W" || t_abort "signing RBAC"
kubectl apply -f - >/dev/null <<EOF || t_abort "requesters RBAC"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: "$IT_RUN-requesters", labels: {"$IT_LABEL_KEY": "$IT_RUN"}}
rules:
- {apiGroups: [certificates.k8s.io], resources: [certificatesigningrequests], verbs: [create, get, list, watch]}
- {apiGroups: [certificates.k8s.io], resources: [clustertrustbundles], verbs: [get, list, watch]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: "$IT_RUN-requesters", labels: {"$IT_LABEL_KEY": "$IT_RUN"}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "$IT_RUN-requesters"}
subjects:
- {kind: ServiceAccount, name: web, namespace: "$A"}
- {kind: ServiceAccount, name: api, namespace: "$A"}
EOF

# ---------------------------------------------------------------- two workloads
for w in web api; do
	k8s_sa_create "$A" "$w" || t_abort "service account $w"
	kubectl create service clusterip "$w" -n "$A" --tcp=443 >/dev/null || t_abort "service $w"
done
k8s_sa_create "$A" norbac || t_abort "service account norbac"
k8s_pod_run "$A" web-0 10.244.5.10 -s web -l app=web >/dev/null || t_abort "pod web-0"
k8s_pod_run "$A" api-0 10.244.5.11 -s api -l app=api >/dev/null || t_abort "pod api-0"
k8s_pod_run "$A" lone-0 10.244.5.12 -s norbac >/dev/null || t_abort "pod lone-0"
for p in web:web-0 api:api-0 norbac:lone-0; do
	k8s_token_kubeconfig "$(k8s_token "$A" "${p%%:*}" "${p#*:}" 1h)" "$tmp/${p#*:}.kubeconfig" ||
		t_abort "token for ${p#*:}"
done

ctl_start main --kubeconfig "$ctl_kc" --config "$tmp/mtls-policy.yaml" \
	--metrics-bind-address 0 --health-probe-bind-address 0 || t_abort "controller starts"
k8s_wait 20 kubectl get clustertrustbundle "$BUNDLE" >/dev/null 2>&1 ||
	t_fail "the ClusterTrustBundle is published"

# agent NAME POD IP ARGS...: start `bootstrap` as pod POD in the background.
agent() {
	local name=$1 pod=$2 ip=$3
	shift 3
	POD_NAME=$pod POD_NAMESPACE=$A POD_IPS=$ip "$bin" bootstrap --signer-name "$W" \
		--kubeconfig "$tmp/$pod.kubeconfig" --log-format text "$@" >"$tmp/$name.log" 2>&1 &
	AGENT_PID[$name]=$!
}

declare -A IPS=([web]=10.244.5.10 [api]=10.244.5.11) took=()
# once NAME WORKLOAD: an init-container run of the agent for WORKLOAD's pod.
once() {
	local t0 rc
	t0=$(date +%s%N)
	agent "$1" "$2-0" "${IPS[$2]}" --once --dir "$tmp/$1" --dns "$2.$A.svc" --timeout 30s
	wait_agent "$1" 40
	rc=$?
	took[$1]=$((($(date +%s%N) - t0) / 1000000))
	t_eq "$1: the agent gets key, certificate and CA (exit 0)" 0 "$rc"
	[[ $rc == 0 ]] || sed 's/^/#   /' "$tmp/$1.log"
}
once web web
once api api
echo "# figure: agent start to key, certificate and CA published: web ${took[web]} ms, api ${took[api]} ms"

kubectl get clustertrustbundle "$BUNDLE" -o jsonpath='{.spec.trustBundle}' >"$tmp/bundle.pem"
t_eq "ca.crt is the ClusterTrustBundle's CA" "$(openssl x509 -in "$tmp/bundle.pem" -noout -fingerprint -sha256)" \
	"$(openssl x509 -in "$tmp/web/ca.crt" -noout -fingerprint -sha256)"
for w in web api; do
	t_check "$w: the certificate verifies against the trust bundle" \
		openssl verify -CAfile "$tmp/bundle.pem" "$tmp/$w/tls.crt"
	t_eq "$w: the key matches the certificate" "$(openssl pkey -in "$tmp/$w/tls.key" -pubout)" \
		"$(openssl x509 -in "$tmp/$w/tls.crt" -noout -pubkey)"
done

# handshake SERVER_DIR CLIENT_DIR TAG: mutual TLS on a loopback port. Both
# sides verify the other against the trust bundle (-verify_return_error:
# a failed check ends the handshake); the client also checks the server's
# service name; the server logs the client's certificate and the line it
# sent, which arrives only over a completed handshake.
handshake() {
	local srv=$1 cli=$2 tag=$3 port
	port=$(t_port)
	# stdin kept open a while: s_server quits at its end.
	openssl s_server -accept "127.0.0.1:$port" -cert "$srv/tls.crt" -key "$srv/tls.key" \
		-CAfile "$tmp/bundle.pem" -Verify 1 -verify_return_error -naccept 1 \
		< <(sleep 20) >"$tmp/server-$tag.log" 2>&1 &
	SERVER_PID=$!
	# Ready when it says so (a probe connection would take its one accept).
	k8s_wait 10 grep -q '^ACCEPT' "$tmp/server-$tag.log"
	{
		echo "hello from $tag"
		sleep 1
	} | timeout 10 openssl s_client -connect "127.0.0.1:$port" -cert "$cli/tls.crt" \
		-key "$cli/tls.key" -CAfile "$tmp/bundle.pem" -verify_return_error \
		-verify_hostname "web.$A.svc" -quiet >"$tmp/client-$tag.log" 2>&1
	k8s_wait 10 grep -q 'CONNECTION CLOSED' "$tmp/server-$tag.log"
	kill "$SERVER_PID" 2>/dev/null
	SERVER_PID=
	grep -qx "hello from $tag" "$tmp/server-$tag.log" &&
		grep -q '^Client certificate' "$tmp/server-$tag.log"
}
if handshake "$tmp/web" "$tmp/api" first; then
	t_ok "mutual TLS: api (client) and web (server) verify each other"
else
	t_fail "mutual TLS: api (client) and web (server) verify each other" \
		"$(cat "$tmp/client-first.log" "$tmp/server-first.log")"
fi
peer=$(awk '/BEGIN CERTIFICATE/,/END CERTIFICATE/' "$tmp/server-first.log" |
	openssl x509 -noout -ext subjectAltName 2>/dev/null | grep -o "URI:[^,]*" | tr -d ' ')
t_eq "mutual TLS: the server sees the client's SPIFFE ID" \
	"URI:spiffe://cluster.local/ns/$A/sa/api" "$peer"

# ---------------------------------------------------------------- refused
agent thief api-0 10.244.5.11 --once --dir "$tmp/thief" --dns "web.$A.svc" --timeout 30s
wait_agent thief 40
t_eq "an agent asking for another workload's name exits 1" 1 "$?"
if grep -q "denied (SANNotAllowed): csr-approver: policy mtls: DNS SAN \"web.$A.svc\" is not a name of pod $A/api-0" "$tmp/thief.log"; then
	t_ok "it prints the policy's reason and message"
else
	t_fail "it prints the policy's reason and message" "$(cat "$tmp/thief.log")"
fi
[[ ! -e $tmp/thief/tls.key ]] && t_ok "nothing published for the refused agent" ||
	t_fail "nothing published for the refused agent"

agent lone lone-0 10.244.5.12 --once --dir "$tmp/lone" --timeout 30s
wait_agent lone 40
t_eq "an agent without RBAC exits 1" 1 "$?"
if grep -q "create certificatesigningrequests.certificates.k8s.io" "$tmp/lone.log" &&
	grep -q "system:serviceaccount:$A:norbac" "$tmp/lone.log"; then
	t_ok "it names the missing permission and the user"
else
	t_fail "it names the missing permission and the user" "$(cat "$tmp/lone.log")"
fi

# ---------------------------------------------------------------- renewal
D=$tmp/side
agent side web-0 10.244.5.10 --dir "$D" --dns "web.$A.svc" --timeout 0
k8s_wait 30 test -e "$D/tls.crt" || t_fail "sidecar: first certificate" "$(cat "$tmp/side.log")"
# The reader: every pair it sees must match.
(
	checks=0 bad=0
	while :; do
		k=$(openssl pkey -in "$D/tls.key" -pubout 2>/dev/null) || continue
		c=$(openssl x509 -in "$D/tls.crt" -noout -pubkey 2>/dev/null) || continue
		# The pair may be swapped between the two reads: read the key again.
		k2=$(openssl pkey -in "$D/tls.key" -pubout 2>/dev/null)
		[[ $k == "$k2" ]] || continue
		checks=$((checks + 1))
		[[ $k == "$c" ]] || bad=$((bad + 1))
		echo "$checks $bad" >"$tmp/reader.out"
	done
) &
READER_PID=$!
serial=$(openssl x509 -in "$D/tls.crt" -noout -serial)
for round in 1 2; do
	old_end=$(date -d "$(openssl x509 -in "$D/tls.crt" -noout -enddate | cut -d= -f2)" +%s)
	if k8s_wait 75 bash -c "[[ \$(openssl x509 -in '$D/tls.crt' -noout -serial 2>/dev/null) != '$serial' ]]"; then
		seen=$(date +%s)
		serial=$(openssl x509 -in "$D/tls.crt" -noout -serial)
		t_ok "sidecar: renewal $round published a new certificate"
		if ((seen < old_end)); then
			t_ok "sidecar: renewal $round came before the previous certificate expired"
		else
			t_fail "sidecar: renewal $round came before the previous certificate expired" \
				"seen at $seen, the old one ended at $old_end"
		fi
	else
		t_fail "sidecar: renewal $round published a new certificate" "$(tail -n 5 "$tmp/side.log")"
	fi
done
kill "$READER_PID" 2>/dev/null
wait "$READER_PID" 2>/dev/null
READER_PID=
read -r checks bad <"$tmp/reader.out"
t_check "sidecar: the reader checked pairs across two renewals ($checks)" test "${checks:-0}" -gt 0
t_eq "sidecar: the reader never saw a key and a certificate that do not match" 0 "${bad:-1}"
once api2 api # a fresh client pair: the first one has expired by now
if handshake "$D" "$tmp/api2" renewed; then
	t_ok "mutual TLS after two renewals"
else
	t_fail "mutual TLS after two renewals" "$(cat "$tmp/client-renewed.log")"
fi
kill -TERM "${AGENT_PID[side]}"
wait_agent side 10
t_eq "sidecar: SIGTERM exits 0" 0 "$?"
ctl_stop main
t_eq "controller: SIGTERM exits 0" 0 "$?"
t_done
