#!/usr/bin/env bash
# The controller's CPU per decision in a burst: `csr-approver run` with a
# kubelet-serving policy against the local control plane (hack/cluster.sh)
# is stopped (SIGSTOP) once its caches have synced, BENCH_CSRS (default
# 500) kubelet-serving CSRs are created, and it is let go (SIGCONT): every
# CSR comes in at once, and every approval is written at once. Prints the
# user+system CPU (/proc/PID/stat) from SIGCONT until every CSR is decided,
# divided by the decisions, and the connections it opened to the API
# server (from `ss` while it runs, and its metric when it has one).
# A benchmark, not a test: it prints figures and asserts nothing.
#
#   BENCH_CSRS=500 CSR_APPROVER_BIN=build/csr-approver hack/bench-burst.sh
#   BENCH_WRAP="valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.out"
#                     run the controller under this command line (profiles)
#   BENCH_PERF=/tmp/burst.perf   record the burst with `perf record` into
#                     this file (perf report -i FILE --children)
#   BENCH_PERF_CALLGRAPH="--call-graph=dwarf,16384"   how perf records call
#                     chains (default --call-graph=fp; the Debian libraries
#                     have no frame pointers, so their callers need dwarf)
#   BENCH_ARGS="--api-http-version=1.1"   more flags for `run`
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
N=${BENCH_CSRS:-500}
bin=${CSR_APPROVER_BIN:-$repo/build/csr-approver}
[[ -x $bin ]] || make -s -j2 build/csr-approver
eval "$(hack/cluster.sh up 2>/dev/null)"
# shellcheck source=hack/lib/k8s-helpers.sh
source hack/lib/k8s-helpers.sh
export KUBECONFIG=$CSR_APPROVER_ADMIN_KUBECONFIG

run=bench-burst-$(date +%s)-$RANDOM
node=$run-node
work=$(mktemp -d)
pid=""
finish() {
	if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
		kill -CONT "$pid" 2>/dev/null || true
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	kubectl delete csr -l "bench=$run" --wait=false >/dev/null 2>&1 || true
	kubectl delete node "$node" --wait=false >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap finish EXIT

cat >"$work/policy.yaml" <<EOF
policies:
  - name: kubelet-serving
    signerName: kubernetes.io/kubelet-serving
    type: kubelet-serving
EOF
k8s_node_create "$node" InternalIP=192.0.2.91 Hostname="$node" >/dev/null
k8s_client_kubeconfig "$work/node.kubeconfig" "system:node:$node" system:nodes >/dev/null
k8s_gen_csr "$work/ks.key" "$work/ks.csr" "/O=system:nodes/CN=system:node:$node" \
	"DNS:$node,IP:192.0.2.91"
req=$(base64 -w0 <"$work/ks.csr")
{
	echo '{"apiVersion":"v1","kind":"List","items":['
	for ((i = 1; i <= N; i++)); do
		((i > 1)) && echo ,
		printf '{"apiVersion":"certificates.k8s.io/v1","kind":"CertificateSigningRequest","metadata":{"name":"%s-%d","labels":{"bench":"%s"}},"spec":{"request":"%s","signerName":"kubernetes.io/kubelet-serving","usages":["digital signature","key encipherment","server auth"]}}' \
			"$run" "$i" "$run" "$req"
	done
	echo ']}'
} >"$work/burst.json"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
apiport=${CSR_APPROVER_APISERVER##*:}
# shellcheck disable=SC2086 # BENCH_WRAP and BENCH_ARGS are command lines
${BENCH_WRAP:-} "$bin" run --kubeconfig "$KUBECONFIG" --config "$work/policy.yaml" \
	--metrics-bind-address "127.0.0.1:$port" --health-probe-bind-address 0 \
	${BENCH_ARGS:-} >"$work/ctl.log" 2>&1 &
pid=$!
metric() { curl -s "http://127.0.0.1:$port/metrics" | awk -v s="$1" '$1 == s { print $2 }'; }
until [[ $(metric csr_approver_ready 2>/dev/null) == 1 ]]; do
	kill -0 "$pid" 2>/dev/null || {
		cat "$work/ctl.log"
		exit 1
	}
	sleep 0.2
done
# Under a wrapper (valgrind) $! is the wrapper: it execs the binary, or is
# the only child.
cpu() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; }
decided() {
	curl -s "http://127.0.0.1:$port/metrics" |
		awk '$1 ~ /^csr_approver_decisions_total\{policy="kubelet-serving"/ { n += $2 } END { print n + 0 }'
}
before=$(decided)
# Stopped, it serves no metrics either: ask nothing of it until SIGCONT.
kill -STOP "$pid"
KUBECONFIG=$work/node.kubeconfig kubectl create -f "$work/burst.json" -o name >/dev/null
perf_pid=""
if [[ -n ${BENCH_PERF:-} ]]; then
	perf record -q -F 4000 ${BENCH_PERF_CALLGRAPH:---call-graph=fp} -p "$pid" -o "$BENCH_PERF" 2>/dev/null &
	perf_pid=$!
	sleep 1
fi
c0=$(cpu)
t0=$(date +%s.%N)
kill -CONT "$pid"
peak=0
while :; do
	c=$(ss -Htnp state established "( dport = :$apiport )" 2>/dev/null | grep -c "pid=$pid," || true)
	((c > peak)) && peak=$c
	d=$(decided)
	((d - before >= N)) && break
	sleep 0.5
done
c1=$(cpu)
t1=$(date +%s.%N)
if [[ -n $perf_pid ]]; then
	kill -INT "$perf_pid"
	wait "$perf_pid" || true
fi
tck=$(getconf CLK_TCK)
opened=$(metric csr_approver_api_connections_opened_total)
python3 - "$N" "$c0" "$c1" "$tck" "$t0" "$t1" "$peak" "${opened:-n/a}" <<'PY'
import sys
n, c0, c1, tck = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
t0, t1, peak, opened = float(sys.argv[5]), float(sys.argv[6]), sys.argv[7], sys.argv[8]
cpu = (c1 - c0) / tck
print(f"burst: {n} CSRs decided in {t1 - t0:.2f} s; controller CPU {cpu * 1000:.0f} ms "
      f"(user+system), {cpu / n * 1000:.3f} ms per decision")
print(f"connections to the API server: at most {peak} at once (ss); opened in all: {opened}")
PY
