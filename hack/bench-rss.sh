#!/usr/bin/env bash
# The controller's memory with a large cluster cached: creates 10,000 pods
# and 1,000 services (BENCH_PODS, BENCH_SERVICES) in the local control plane
# (hack/cluster.sh), starts `csr-approver run` with a workload and a
# kubelet-serving policy (so it caches Pods, Services and Nodes), waits
# until its caches have synced, and prints its VmRSS and VmHWM from /proc.
# Not a timed test.
#
# The pods are not bound to a node (no kubelet would ever confirm their
# deletion), and the Services are headless (the loopback cluster's service
# range holds 254 addresses).
#
#   BENCH_PODS=10000 BENCH_SERVICES=1000 BENCH_NAMESPACES=10 hack/bench-rss.sh
#   BENCH_KEEP=1      keep the objects afterwards (a rerun reuses them)
#   BENCH_STATUS=1    also give every pod an IP (a status write per pod)
#   CSR_APPROVER_BIN  the binary (default build/csr-approver)
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
PODS=${BENCH_PODS:-10000}
SVCS=${BENCH_SERVICES:-1000}
NSN=${BENCH_NAMESPACES:-10}
bin=${CSR_APPROVER_BIN:-$repo/build/csr-approver}
prefix=bench-rss

[[ -x $bin ]] || make -s -j2 build/csr-approver
eval "$(hack/cluster.sh up 2>/dev/null)"
# shellcheck source=hack/lib/k8s-helpers.sh
source hack/lib/k8s-helpers.sh

work=$(mktemp -d)
pid=""
finish() {
	if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	if [[ ${BENCH_KEEP:-0} != 1 ]]; then
		for ((n = 0; n < NSN; n++)); do
			kubectl delete namespace "$prefix-$n" --wait=false >/dev/null 2>&1 || true
		done
	fi
	rm -rf "$work"
}
trap finish EXIT

count() { # RESOURCE
	kubectl get "$1" -A -l bench=rss --no-headers 2>/dev/null | wc -l
}

# gen KIND FROM TO: a List of objects FROM..TO-1 spread over the namespaces.
gen() {
	local kind=$1 from=$2 to=$3 i ns
	echo '{"apiVersion":"v1","kind":"List","items":['
	for ((i = from; i < to; i++)); do
		ns=$prefix-$((i % NSN))
		((i > from)) && echo ,
		if [[ $kind == pod ]]; then
			printf '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p-%d","namespace":"%s","labels":{"bench":"rss","app":"a-%d","tier":"t-%d"}},"spec":{"serviceAccountName":"default","containers":[{"name":"main","image":"registry.k8s.io/pause:3.10"}]}}' \
				"$i" "$ns" $((i % SVCS)) $((i % 7))
		else
			printf '{"apiVersion":"v1","kind":"Service","metadata":{"name":"s-%d","namespace":"%s","labels":{"bench":"rss"}},"spec":{"clusterIP":"None","selector":{"app":"a-%d"},"ports":[{"port":443}]}}' \
				"$i" "$ns" "$i"
		fi
	done
	echo ']}'
}

for ((n = 0; n < NSN; n++)); do
	# A previous run's namespace may still be going away.
	k8s_wait 180 bash -c "[[ \$(kubectl get namespace $prefix-$n -o jsonpath='{.status.phase}' 2>/dev/null) != Terminating ]]" || {
		echo "bench: namespace $prefix-$n is stuck terminating" >&2
		exit 1
	}
	kubectl get namespace "$prefix-$n" >/dev/null 2>&1 || kubectl create namespace "$prefix-$n" >/dev/null
done

t0=$SECONDS
have=$(count pods)
if ((have < PODS)); then
	echo "bench: creating $PODS pods in $NSN namespaces (batches of 500, 4 at a time)"
	for ((b = 0; b < PODS; b += 500)); do
		gen pod "$b" $((b + 500 > PODS ? PODS : b + 500)) >"$work/pods-$b.json"
	done
	find "$work" -name 'pods-*.json' -print0 | xargs -0 -P 4 -I{} sh -c 'kubectl create -f {} >/dev/null 2>&1 || true'
fi
have=$(count services)
if ((have < SVCS)); then
	echo "bench: creating $SVCS services"
	for ((b = 0; b < SVCS; b += 250)); do
		gen svc "$b" $((b + 250 > SVCS ? SVCS : b + 250)) >"$work/svcs-$b.json"
	done
	find "$work" -name 'svcs-*.json' -print0 | xargs -0 -P 4 -I{} sh -c 'kubectl create -f {} >/dev/null 2>&1 || true'
fi
if [[ ${BENCH_STATUS:-0} == 1 ]]; then
	echo "bench: giving every pod an IP"
	# shellcheck disable=SC2016 # expanded by the inner sh
	for ((i = 0; i < PODS; i++)); do
		echo "$prefix-$((i % NSN)) p-$i 10.$((i / 65536 % 256)).$((i / 256 % 256)).$((i % 256))"
	done | xargs -P 8 -L 1 sh -c 'kubectl patch pod "$1" -n "$0" --subresource=status --type=merge -p "{\"status\":{\"phase\":\"Running\",\"podIP\":\"$2\",\"podIPs\":[{\"ip\":\"$2\"}]}}" >/dev/null'
fi
pods=$(count pods)
svcs=$(count services)
echo "bench: cluster holds $pods bench pods, $svcs bench services (setup $((SECONDS - t0)) s)"

cat >"$work/policy.yaml" <<EOF
policies:
  - name: workload
    signerName: bench.example.com/workload
    type: workload
  - name: kubelet-serving
    signerName: kubernetes.io/kubelet-serving
    type: kubelet-serving
EOF
# The same binary with no policy (nothing cached), for comparison.
: >"$work/baseline.log"
"$bin" run --kubeconfig "$KUBECONFIG" --metrics-bind-address 0 --health-probe-bind-address 0 \
	>"$work/baseline.log" 2>&1 &
pid=$!
k8s_wait 30 grep -q 'caches synced' "$work/baseline.log" && sleep 1
base=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
kill -TERM "$pid"
wait "$pid" || true
pid=""

log=$work/controller.log
: >"$log"
start_ms=$(date +%s%3N)
"$bin" run --kubeconfig "$KUBECONFIG" --config "$work/policy.yaml" --metrics-bind-address 0 \
	--health-probe-bind-address 0 >"$log" 2>&1 &
pid=$!
if ! k8s_wait 300 grep -q 'caches synced' "$log"; then
	tail -n 20 "$log"
	echo "bench: caches did not sync" >&2
	exit 1
fi
synced_ms=$(date +%s%3N)
sleep 1
grep 'caches synced' "$log"
rss=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status")
echo "bench: csr-approver synced in $((synced_ms - start_ms)) ms"
awk -v r="$rss" -v h="$hwm" -v p="$pods" -v s="$svcs" 'BEGIN {
	printf "bench: VmRSS %d kB (%.1f MiB), VmHWM %d kB (%.1f MiB) with %d pods and %d services cached\n",
		r, r / 1024, h, h / 1024, p, s }'
awk -v r="$rss" -v b="$base" -v p="$pods" 'BEGIN {
	printf "bench: baseline without policies %d kB (%.1f MiB); the caches add %.1f MiB, %.2f kB per pod\n",
		b, b / 1024, (r - b) / 1024, (r - b) / p }'
