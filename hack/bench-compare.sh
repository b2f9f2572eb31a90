#!/usr/bin/env bash
# csr-approver side by side with postfinance/kubelet-csr-approver (the most
# used kubelet-serving approver: Go, controller-runtime, one worker) and
# with a "floor" that approves everything without a check (1 and 32
# parallel writers, hack/tools/csr-floor), on the local control plane
# (hack/cluster.sh). A benchmark: it prints figures and asserts nothing.
#
# In one control-plane session, BENCH_REPS times, each approver a fresh
# process (identity: client certificate CN=bench-approver, the same for all):
#   - 1,000 Nodes bench-node-NNNN, InternalIP in 10.20.0.0/16 and Hostname
#     (created once, kept);
#   - bursts of BENCH_SIZES kubelet-serving CSRs (ECDSA P-256, SANs: the
#     node's name and IP, so every approver approves them), created by
#     impersonating the nodes, 64 creates in flight;
#   - BENCH_RATE (RATExSECONDS) CSRs/s, paced;
#   - the first burst size again with a second client (CN=bench-other)
#     creating CSRs of another signer at full speed (8 in flight): how many
#     it got through per second during the burst, and split: while the
#     burst's creates ran, and after them until the last decision;
#   - csr-approver only: BENCH_PODS workload CSRs (SPIFFE SAN, pod-bound,
#     impersonating each pod's ServiceAccount) from BENCH_PODS pods: the
#     peer and the floor have no such policy.
# hack/tools/csr-loadgen creates the CSRs, records when each create
# returned, and the arrival time of the watch event that first shows a
# decision (a condition's lastUpdateTime has only one-second resolution);
# it reads the approver's and kube-apiserver's CPU from /proc/PID/stat
# around each workload, and, as the approver's parent, times its start to
# /readyz and to its first decision and counts its TCP connections to the
# API server. docs/benchmarks.md says how each figure is taken.
#
# The peer: PEER_BIN, else its cached build in ~/.cache/csr-approver/peers,
# else `go install ...@v1.2.14`, else a build from PEER_TARBALL (default
# /work/shared/peers/kubelet-csr-approver-993754fb.tar.gz).
#
# Usage: hack/bench-compare.sh            (make bench-compare)
#   BENCH_QUICK=1          a 2-3 minute smoke run (200 nodes, a 200 burst,
#                          20/s for 5 s, 300 pods, one repetition)
#   BENCH_NODES=1000  BENCH_SIZES="1000 5000"  BENCH_RATE=50x20 (0: none)
#   BENCH_PODS=10000 (0: no workload burst)  BENCH_REPS=2
#   BENCH_OTHER=1          the run with a second client (0: skip)
#   BENCH_APPROVERS="ours peer floor1 floor32"
#   CSR_APPROVER_BIN       the binary under test (default build/csr-approver)
#   BENCH_OURS_FLAGS       extra flags for csr-approver run (e.g.
#                          "--api-max-requests-in-flight=8")
#   PEER_BIN               a kubelet-csr-approver binary (skips its build)
#   BENCH_KEEP=1           keep Nodes and Pods afterwards (a rerun reuses them)
#   BENCH_PPROF_DIR=DIR    a CPU profile of kube-apiserver over each rate
#                          workload (its time plus 20 s),
#                          DIR/apiserver-rate-NAME-REP.pprof, and the
#                          requests it answered meanwhile by verb, resource
#                          and code, DIR/apiserver-rate-NAME-REP.requests
#                          (`go tool pprof -top FILE`)
# Output: a Markdown table (medians over the repetitions; ratios
# csr-approver/peer and csr-approver/floor(32) from the same run), printed
# and written to build/bench-compare.md; the raw figures (JSON lines) in
# build/bench-compare.jsonl, the approvers' logs in build/bench-compare-*.log.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
# shellcheck source=hack/lib/versions.sh
source hack/lib/versions.sh

if [[ ${BENCH_QUICK:-0} == 1 ]]; then
	: "${BENCH_NODES:=200}" "${BENCH_SIZES:=200}" "${BENCH_RATE:=20x5}" "${BENCH_PODS:=300}" "${BENCH_REPS:=1}"
fi
NODES=${BENCH_NODES:-1000}
SIZES=${BENCH_SIZES:-1000 5000}
RATE=${BENCH_RATE:-50x20}
PODS=${BENCH_PODS:-10000}
REPS=${BENCH_REPS:-2}
OTHER=${BENCH_OTHER:-1}
APPROVERS=${BENCH_APPROVERS:-ours peer floor1 floor32}
bin=$(realpath "${CSR_APPROVER_BIN:-build/csr-approver}")
PEER_VERSION=v1.2.14
PEER_TARBALL=${PEER_TARBALL:-/work/shared/peers/kubelet-csr-approver-993754fb.tar.gz}
tools=${CSR_APPROVER_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/csr-approver/tools}
peers=${XDG_CACHE_HOME:-$HOME/.cache}/csr-approver/peers

say() { echo "bench-compare: $*" >&2; }
die() {
	say "error: $*"
	exit 1
}

[[ $REPS =~ ^[1-9][0-9]*$ ]] || die "BENCH_REPS must be a positive integer, not \"$REPS\""
[[ $NODES =~ ^[1-9][0-9]*$ ]] || die "BENCH_NODES must be a positive integer, not \"$NODES\""
[[ $PODS =~ ^[0-9]+$ ]] || die "BENCH_PODS must be a number, not \"$PODS\""
for s in $SIZES; do
	[[ $s =~ ^[1-9][0-9]*$ ]] || die "BENCH_SIZES holds \"$s\", not a positive integer"
done
rate_n=0 rate_s=0
if [[ $RATE != 0 ]]; then
	[[ $RATE =~ ^([1-9][0-9]*)x([1-9][0-9]*)$ ]] || die "BENCH_RATE must be RATExSECONDS (e.g. 50x20) or 0, not \"$RATE\""
	rate_n=${BASH_REMATCH[1]} rate_s=${BASH_REMATCH[2]}
fi
for a in $APPROVERS; do
	case $a in ours | peer | floor1 | floor32) ;; *) die "BENCH_APPROVERS: unknown approver \"$a\" (ours peer floor1 floor32)" ;; esac
done
[[ -x $bin ]] || make -s -j2 build/csr-approver
[[ -x $bin ]] || die "no csr-approver binary at $bin"

GO=$(csr_approver_go) || die "no Go toolchain found (looked on PATH and /usr/local/go/bin)"
export CGO_ENABLED=0 GOTOOLCHAIN=local
export GOFLAGS="${CSR_APPROVER_BUILD_GOFLAGS:--p=2}"

# build_tool NAME: hack/tools/NAME (go.mod, go.sum, main.go) built once per
# source into the cache; prints the binary's path.
build_tool() {
	local name=$1 src=$repo/hack/tools/$1 sum dir
	sum=$({ cat "$src/go.mod" "$src/go.sum" "$src/main.go"; "$GO" env GOVERSION; } | cksum | cut -d" " -f1)
	dir=$tools/$name-$sum
	if [[ ! -x $dir/$name ]]; then
		say "building $name (log: $tools/build.log)"
		mkdir -p "$dir"
		(cd "$src" && "$GO" build -trimpath -ldflags "-s -w" -o "$dir/$name.tmp" .) >>"$tools/build.log" 2>&1 ||
			{
				tail -n 20 "$tools/build.log" >&2
				die "$name did not build"
			}
		mv -f "$dir/$name.tmp" "$dir/$name"
	fi
	echo "$dir/$name"
}

# build_peer: PEER_BIN, else the cached build, else `go install` (which
# works where the module proxy serves the module), else the source tarball.
build_peer() {
	if [[ -n ${PEER_BIN:-} ]]; then
		[[ -x $PEER_BIN ]] || die "PEER_BIN=$PEER_BIN is not an executable"
		echo "$PEER_BIN"
		return
	fi
	local dir=$peers/kubelet-csr-approver-$PEER_VERSION log=$peers/build.log
	if [[ -x $dir/kubelet-csr-approver ]]; then
		echo "$dir/kubelet-csr-approver"
		return
	fi
	mkdir -p "$dir"
	say "building kubelet-csr-approver $PEER_VERSION (several minutes of CPU; log: $log)"
	if GOBIN=$dir "$GO" install -trimpath \
		"github.com/postfinance/kubelet-csr-approver/cmd/kubelet-csr-approver@$PEER_VERSION" >>"$log" 2>&1; then
		echo "$dir/kubelet-csr-approver"
		return
	fi
	say "go install failed (the module proxy may not serve it); building from $PEER_TARBALL"
	[[ -f $PEER_TARBALL ]] || die "no $PEER_TARBALL: set PEER_BIN or PEER_TARBALL"
	local src
	src=$(mktemp -d)
	tar -xzf "$PEER_TARBALL" -C "$src"
	(cd "$src"/kubelet-csr-approver && "$GO" build -trimpath -o "$dir/kubelet-csr-approver.tmp" \
		./cmd/kubelet-csr-approver) >>"$log" 2>&1 || {
		tail -n 20 "$log" >&2
		rm -rf "$src"
		die "kubelet-csr-approver did not build"
	}
	rm -rf "$src"
	mv -f "$dir/kubelet-csr-approver.tmp" "$dir/kubelet-csr-approver"
	echo "$dir/kubelet-csr-approver"
}

mkdir -p "$tools" build
loadgen=$(build_tool csr-loadgen)
floor=$(build_tool csr-floor)
peer=$(build_peer)

eval "$(hack/cluster.sh up 2>/dev/null)"
# shellcheck source=hack/lib/k8s-helpers.sh
source hack/lib/k8s-helpers.sh
apiserver_pid=$(<"$CSR_APPROVER_CLUSTER_DIR/pids/kube-apiserver.pid")
api_port=${CSR_APPROVER_APISERVER##*:}
clk_tck=$(getconf CLK_TCK)

work=$(mktemp -d)
sup_pid=""
finish() {
	if [[ -n $sup_pid ]] && kill -0 "$sup_pid" 2>/dev/null; then
		kill -TERM "$sup_pid" 2>/dev/null || true
		wait "$sup_pid" 2>/dev/null || true
	fi
	"$loadgen" cleanup >/dev/null 2>&1 || true
	if [[ ${BENCH_KEEP:-0} != 1 ]]; then
		kubectl delete nodes -l bench=node --wait=false >/dev/null 2>&1 || true
		for ((k = 0; k < 10; k++)); do
			kubectl delete namespace "bench-wl-$k" --wait=false >/dev/null 2>&1 || true
		done
	fi
	kubectl delete clusterrole,clusterrolebinding -l bench=compare >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap finish EXIT

# ---------------------------------------------------------------- setup
k8s_client_kubeconfig "$work/approver.kubeconfig" bench-approver >/dev/null
k8s_client_kubeconfig "$work/other.kubeconfig" bench-other >/dev/null
kubectl apply -f - >/dev/null <<'EOF'
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: bench-approver, labels: {bench: compare}}
rules:
- apiGroups: [certificates.k8s.io]
  resources: [certificatesigningrequests]
  verbs: [get, list, watch]
- apiGroups: [certificates.k8s.io]
  resources: [certificatesigningrequests/approval]
  verbs: [update]
- apiGroups: [certificates.k8s.io]
  resources: [signers]
  resourceNames: [kubernetes.io/kubelet-serving, bench.example.com/workload]
  verbs: [approve]
- apiGroups: [""]
  resources: [pods, services, nodes]
  verbs: [get, list, watch]
- apiGroups: [authorization.k8s.io]
  resources: [subjectaccessreviews]
  verbs: [create]
- apiGroups: ["", events.k8s.io]
  resources: [events]
  verbs: [create, patch]
- apiGroups: [coordination.k8s.io]
  resources: [leases]
  verbs: [get, create, update]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: bench-approver, labels: {bench: compare}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: bench-approver}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: bench-approver}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: bench-csr-requester, labels: {bench: compare}}
rules:
- apiGroups: [certificates.k8s.io]
  resources: [certificatesigningrequests]
  verbs: [create, get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: bench-csr-requester, labels: {bench: compare}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: bench-csr-requester}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: bench-other}
- {apiGroup: rbac.authorization.k8s.io, kind: Group, name: "system:serviceaccounts"}
EOF

cat >"$work/serving.yaml" <<'EOF'
policies:
  - name: kubelet-serving
    signerName: kubernetes.io/kubelet-serving
    type: kubelet-serving
EOF
cat >"$work/workload.yaml" <<'EOF'
policies:
  - name: kubelet-serving
    signerName: kubernetes.io/kubelet-serving
    type: kubelet-serving
  - name: workload
    signerName: bench.example.com/workload
    type: workload
EOF

say "$("$loadgen" nodes --count "$NODES")"
if ((PODS > 0)); then
	say "$("$loadgen" pods --count "$PODS" --namespaces 10)"
fi
"$loadgen" cleanup

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

results=build/bench-compare.jsonl
: >"$results"
say "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
say "csr-approver: $bin"
say "peer: $peer"

# request_counts BEFORE AFTER: the requests kube-apiserver answered between
# two scrapes of its /metrics (apiserver_request_total), a line each:
# COUNT VERB RESOURCE[/SUBRESOURCE] CODE.
request_counts() {
	python3 - "$1" "$2" <<'EOF'
import re, sys
def load(path):
    counts = {}
    for line in open(path):
        m = re.match(r'apiserver_request_total\{(.*)\} (\S+)$', line)
        if m is None:
            continue
        lab = dict(re.findall(r'(\w+)="([^"]*)"', m.group(1)))
        res = lab.get("resource", "") + ("/" + lab["subresource"] if lab.get("subresource") else "")
        key = (lab.get("verb", ""), res, lab.get("code", ""))
        counts[key] = counts.get(key, 0) + float(m.group(2))
    return counts
before, after = load(sys.argv[1]), load(sys.argv[2])
for key in sorted(after):
    n = after[key] - before.get(key, 0)
    if n > 0:
        print(int(n), *key)
EOF
}

# measure NAME REP: one approver process through every workload; appends
# one JSON line per workload to $results.
measure() {
	local name=$1 rep=$2 port="" readyz="" cmd=()
	case $name in
	ours | ours-wl)
		port=$(free_port)
		readyz=http://127.0.0.1:$port/readyz
		local policy=$work/serving.yaml
		[[ $name == ours-wl ]] && policy=$work/workload.yaml
		cmd=("$bin" run --kubeconfig "$work/approver.kubeconfig" --config "$policy"
			--metrics-bind-address 0 --health-probe-bind-address "127.0.0.1:$port")
		# shellcheck disable=SC2206 # flags split on spaces on purpose
		[[ -n ${BENCH_OURS_FLAGS:-} ]] && cmd+=($BENCH_OURS_FLAGS)
		;;
	peer)
		cmd=("$peer" --provider-regex '^bench-node-[0-9]+$' --provider-ip-prefixes 10.20.0.0/16
			--bypass-dns-resolution --metrics-bind-address 0 --health-probe-bind-address 0
			--kubeconfig "$work/approver.kubeconfig")
		;;
	floor1 | floor32)
		cmd=("$floor" --kubeconfig "$work/approver.kubeconfig" --workers "${name#floor}")
		;;
	esac
	local tag=$name-$rep st=$work/$name-$rep.status sum=$work/$name-$rep.summary
	local log=build/bench-compare-$tag.log
	: >"$log"
	rm -f "$st" "$sum"
	"$loadgen" supervise --id "bench-ready-$tag" --status "$st" --summary "$sum" --log "$log" \
		--port "$api_port" ${readyz:+--readyz "$readyz"} -- "${cmd[@]}" &
	sup_pid=$!
	k8s_wait 330 test -s "$st" || die "$name: no status from the supervisor"
	local pid
	pid=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pid"])' "$st")
	kill -0 "$pid" 2>/dev/null || {
		tail -n 20 "$log" >&2
		die "$name exited at start (log: $log)"
	}
	sleep 2
	local idle
	idle=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
	"$loadgen" cleanup
	local run=(--approver-pid "$pid" --apiserver-pid "$apiserver_pid" --clk-tck "$clk_tck" --nodes "$NODES")
	emit() { # WORKLOAD JSON
		echo "{\"approver\":\"$name\",\"rep\":$rep,\"workload\":\"$1\",\"r\":$2}" >>"$results"
	}
	local s j
	if [[ $name == ours-wl ]]; then
		say "$tag: workload burst of $PODS"
		j=$("$loadgen" run --kind workload --count "$PODS" --id "wl-$tag" "${run[@]}")
		emit "workload $PODS" "$j"
		"$loadgen" cleanup
	else
		for s in $SIZES; do
			say "$tag: burst of $s"
			j=$("$loadgen" run --count "$s" --id "b$s-$tag" "${run[@]}")
			emit "burst $s" "$j"
			"$loadgen" cleanup
			sleep 2
		done
		if ((rate_n > 0)); then
			say "$tag: $rate_n/s for $rate_s s"
			local prof=""
			if [[ -n ${BENCH_PPROF_DIR:-} ]]; then
				mkdir -p "$BENCH_PPROF_DIR"
				# The load generator makes its CSRs first: 20 s more
				# than the workload covers it whole.
				kubectl get --raw "/debug/pprof/profile?seconds=$((rate_s + 20))" \
					>"$BENCH_PPROF_DIR/apiserver-rate-$tag.pprof" &
				prof=$!
			fi
			[[ -z $prof ]] || kubectl get --raw /metrics >"$work/metrics-before"
			j=$("$loadgen" run --count $((rate_n * rate_s)) --rate "$rate_n" --id "r-$tag" "${run[@]}")
			if [[ -n $prof ]]; then
				kubectl get --raw /metrics >"$work/metrics-after"
				request_counts "$work/metrics-before" "$work/metrics-after" \
					>"$BENCH_PPROF_DIR/apiserver-rate-$tag.requests"
				wait "$prof" || say "$tag: no API server profile"
			fi
			emit "rate $rate_n/s" "$j"
			"$loadgen" cleanup
			sleep 2
		fi
		if [[ $OTHER == 1 ]]; then
			s=${SIZES%% *}
			say "$tag: burst of $s with a second client"
			j=$("$loadgen" run --count "$s" --id "o$s-$tag" --other-kubeconfig "$work/other.kubeconfig" "${run[@]}")
			emit "other $s" "$j"
			"$loadgen" cleanup
		fi
	fi
	local peak
	peak=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status")
	kill -TERM "$pid"
	wait "$sup_pid" || true
	sup_pid=""
	echo "{\"approver\":\"$name\",\"rep\":$rep,\"workload\":\"process\",\"r\":{\"idle_rss_kb\":$idle,\"peak_rss_kb\":$peak,\"status\":$(<"$st"),\"summary\":$(<"$sum")}}" >>"$results"
}

t0=$SECONDS
for ((rep = 1; rep <= REPS; rep++)); do
	for a in $APPROVERS; do
		measure "$a" "$rep"
	done
	if ((PODS > 0)) && [[ " $APPROVERS " == *" ours "* ]]; then
		measure ours-wl "$rep"
	fi
done
say "measured in $((SECONDS - t0)) s"

python3 hack/tools/bench-compare-table.py "$results" \
	"$(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end; nodes $NODES, reps $REPS" \
	>build/bench-compare.md
cat build/bench-compare.md
