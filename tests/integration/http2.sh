#!/usr/bin/env bash
# Connections to the API server in a burst (README of pkg/kube: one HTTP/2
# connection, multiplexed; else a small HTTP/1.1 pool).
#
# A burst of HTTP2_BURST (default 300) kubelet-serving CSRs is created
# before the controller starts: its first LIST hands it every one, and it
# writes the approvals at once. The controller also watches Pods, Services
# and Nodes (a workload policy), so four watches are open during the burst.
#
#   - HTTP/2 (the real kube-apiserver offers h2): the log names HTTP/2,
#     csr_approver_api_connections_opened_total is at most 2, `ss` never
#     shows more than 2 connections of the controller to the API server,
#     and every CSR is approved once.
#   - HTTP/1.1 forced (--api-http-version=1.1, the server offers h2): the
#     log names HTTP/1.1, `ss` never shows more than the watches + 4
#     connections, csr_approver_api_connections_opened_total stays within
#     that pool, and the burst is decided, one write per CSR, while the
#     four watches hold their connections (no request waits behind them for
#     ever).
#   - The fallback: auto (no --api-http-version) against a kube-apiserver
#     that offers no h2 (`hack/cluster.sh restart-apiserver --no-http2`,
#     i.e. --disable-http2-serving; checked first with openssl s_client
#     -alpn h2,http/1.1). A burst of HTTP2_FALLBACK_BURST (default 100)
#     CSRs: the log names HTTP/1.1, `ss` never shows more than the watches
#     + 4 connections, csr_approver_api_connections_opened_total stays
#     within that pool, and every CSR is approved with one write. The
#     apiserver is started again with HTTP/2 at the end of the case (and at
#     exit, should the suite stop before).
#
# The three cases run the same checks (one_case); each also checks, once
# the controller has stopped, that every CSR of its burst has exactly one
# Event (Events wait while the approvals run; a clean stop sends them).
# Each case first checks what the API server offers in ALPN, so that a
# server left without HTTP/2 cannot pass for the fallback or fail the
# HTTP/2 case for a reason the log does not tell.
set -uo pipefail

# shellcheck source=tests/integration/controller-lib.bash
source "$(dirname "${BASH_SOURCE[0]}")/controller-lib.bash"
ctl_setup http2

N=${HTTP2_BURST:-300}
tmp=$T_TMP
NODE=$IT_RUN-node
W=$IT_RUN.example.com/workload
WATCHES=4 # CSRs, pods, services, nodes
H1_POOL=$((WATCHES + 4))
t_on_exit kubectl delete node "$NODE" --wait=false

cat >"$tmp/policy.yaml" <<EOF
policies:
  - name: kubelet-serving
    signerName: kubernetes.io/kubelet-serving
    type: kubelet-serving
  - name: workload
    signerName: $W
    type: workload
    namespaces: ["$IT_NS"]
EOF
ctl_kc=$(ctl_identity "$IT_RUN-approver" kubernetes.io/kubelet-serving "$W")
[[ -n $ctl_kc ]] || t_abort "controller identity with its RBAC"
k8s_node_create "$NODE" InternalIP=192.0.2.90 Hostname="$NODE" >/dev/null || t_abort "node"
node_kc=$tmp/node.kubeconfig
k8s_client_kubeconfig "$node_kc" "system:node:$NODE" system:nodes >/dev/null ||
	t_abort "node kubeconfig"
k8s_gen_csr "$tmp/ks.key" "$tmp/ks.csr" "/O=system:nodes/CN=system:node:$NODE" \
	"DNS:$NODE,IP:192.0.2.90" || t_abort "CSR"
apiport=${CSR_APPROVER_APISERVER##*:}
CL=$T_ROOT/hack/cluster.sh

# alpn: the protocol the API server picks when a client offers h2 and
# http/1.1 in its TLS handshake ("h2", "http/1.1"; "none" if it picks none).
alpn() {
	local p
	p=$(openssl s_client -connect "127.0.0.1:$apiport" -alpn h2,http/1.1 \
		-CAfile "$CSR_APPROVER_CA_CERT" </dev/null 2>/dev/null | sed -n 's/^ALPN protocol: //p')
	echo "${p:-none}"
}

# burst PREFIX: create N CSRs PREFIX-1 .. PREFIX-N as the node, in one
# kubectl run.
burst() {
	local req i
	req=$(base64 -w0 <"$tmp/ks.csr")
	{
		echo '{"apiVersion":"v1","kind":"List","items":['
		for ((i = 1; i <= N; i++)); do
			((i > 1)) && echo ,
			printf '{"apiVersion":"certificates.k8s.io/v1","kind":"CertificateSigningRequest","metadata":{"name":"%s-%d","labels":{"%s":"%s","burst":"%s"}},"spec":{"request":"%s","signerName":"kubernetes.io/kubelet-serving","usages":["digital signature","key encipherment","server auth"]}}' \
				"$1" "$i" "$IT_LABEL_KEY" "$IT_RUN" "$1" "$req"
		done
		echo ']}'
	} >"$tmp/$1.json"
	KUBECONFIG=$node_kc kubectl create -f "$tmp/$1.json" -o name | wc -l
}

# approved PREFIX: how many CSRs of the burst are Approved.
approved() {
	kubectl get csr -l "burst=$1" \
		-o jsonpath='{range .items[*]}{.status.conditions[0].type}{"\n"}{end}' | grep -c '^Approved$'
}

# metric PORT NAME_AND_LABELS: the value of one series (empty if absent).
metric() {
	curl -s "http://127.0.0.1:$1/metrics" | awk -v s="$2" '$1 == s { print $2 }'
}

# conns PID: established TCP connections of PID to the API server.
conns() {
	ss -Htnp state established "( dport = :$apiport )" 2>/dev/null | grep -c "pid=$1,"
}

# run_burst NAME PREFIX PORT ARGS...: start the controller, sample its
# connections until every CSR of PREFIX is approved (max in $peak); returns
# 1 when that does not happen within 120 s.
run_burst() {
	local name=$1 prefix=$2 port=$3 deadline n c pid
	shift 3
	ctl_start "$name" --kubeconfig "$ctl_kc" --config "$tmp/policy.yaml" \
		--metrics-bind-address "127.0.0.1:$port" --health-probe-bind-address 0 "$@" || return 1
	pid=${CTL_PID[$name]}
	peak=0
	deadline=$((SECONDS + 120))
	while :; do
		c=$(conns "$pid")
		((c > peak)) && peak=$c
		n=$(approved "$prefix")
		((n >= N)) && return 0
		((SECONDS < deadline)) || return 1
		sleep 0.2
	done
}

# one_case NAME LABEL PROTOCOL MIN_OPENED MAX_AT_ONCE ARGS...: create a
# burst of N CSRs NAME-1 .. NAME-N, run the controller (ARGS: more flags)
# until they are approved, and check: all approved, the log names PROTOCOL
# once, at most MAX_AT_ONCE connections open at once and between
# MIN_OPENED and MAX_AT_ONCE opened in all, one approval write per CSR,
# and once it has stopped, one Event per CSR.
one_case() {
	local name=$1 label=$2 proto=$3 omin=$4 omax=$5 port opened writes log evs
	shift 5
	t_eq "burst of $N CSRs created ($label run)" "$N" "$(burst "$IT_RUN-$name")"
	port=$(t_port)
	log=$(ctl_log "$name")
	if run_burst "$name" "$IT_RUN-$name" "$port" "$@"; then
		t_ok "$label: all $N CSRs approved while $WATCHES watches are open"
	else
		t_fail "$label: all $N CSRs approved while $WATCHES watches are open" \
			"$(approved "$IT_RUN-$name") approved; $(tail -n 5 "$log")"
	fi
	t_check "$label: the log names $proto once" \
		test "$(grep -c '"msg":"API server connection".*"protocol":"'"$proto"'"' "$log")" = 1
	if ((peak >= 1 && peak <= omax)); then
		t_ok "$label: at most $omax connections open at once (ss: $peak)"
	else
		t_fail "$label: at most $omax connections open at once" "ss saw $peak"
	fi
	opened=$(metric "$port" csr_approver_api_connections_opened_total)
	if [[ -n $opened ]] && ((opened >= omin && opened <= omax)); then
		t_ok "$label: $opened connection(s) opened for the burst and the watches"
	else
		t_fail "$label: between $omin and $omax connections opened" \
			"csr_approver_api_connections_opened_total=${opened:-absent}"
	fi
	writes=$(metric "$port" 'csr_approver_api_requests_total{verb="PUT",resource="certificatesigningrequests/approval",code="200"}')
	t_eq "$label: one approval write per CSR" "$N" "${writes:-0}"
	ctl_stop "$name" || t_fail "$label: the controller stops cleanly"
	# The Events follow the approvals (they wait while other requests
	# run), and a clean stop waits for them: each CSR has exactly one.
	evs=$(kubectl get events -n default --field-selector involvedObject.kind=CertificateSigningRequest \
		-o jsonpath='{range .items[*]}{.involvedObject.name}{"\n"}{end}' |
		grep -E -- "^$IT_RUN-$name-[0-9]+\$")
	t_eq "$label: one Event per CSR, all written before the controller stopped" "$N $N" \
		"$(grep -c . <<<"$evs") $(sort -u <<<"$evs" | grep -c .)"
}

# ---------------------------------------------------------------- HTTP/2
# A run stopped before its end may have left the apiserver without HTTP/2.
[[ $(alpn) == h2 ]] || "$CL" start-apiserver >/dev/null 2>&1
t_eq "precondition: the API server offers h2 in ALPN" h2 "$(alpn)"
one_case h2 HTTP/2 HTTP/2 1 2

# ---------------------------------------------------------------- HTTP/1.1
# Forced while the server offers h2: the pool holds the watches and at most
# 4 more, and no request waits behind the watches for ever.
one_case h1 HTTP/1.1 HTTP/1.1 "$WATCHES" "$H1_POOL" --api-http-version=1.1

# ---------------------------------------------------------------- fallback
# auto against a server whose ALPN offers no h2. A smaller burst: the
# pool is the same as above, what is new is that the client finds out.
N=${HTTP2_FALLBACK_BURST:-100}
t_on_exit "$CL" start-apiserver
if out=$("$CL" restart-apiserver --no-http2 2>&1); then
	t_ok "apiserver restarted without HTTP/2"
else
	t_fail "apiserver restarted without HTTP/2" "$out"
fi
t_eq "precondition: the API server offers only http/1.1 in ALPN" http/1.1 "$(alpn)"
one_case fb fallback HTTP/1.1 "$WATCHES" "$H1_POOL"
t_check "fallback: no protocol change logged" \
	test "$(grep -c '"msg":"API server protocol changed"' "$(ctl_log fb)")" = 0
if out=$("$CL" start-apiserver 2>&1); then
	t_ok "apiserver started again with HTTP/2"
else
	t_fail "apiserver started again with HTTP/2" "$out"
fi
t_eq "the API server offers h2 in ALPN again" h2 "$(alpn)"

t_done
