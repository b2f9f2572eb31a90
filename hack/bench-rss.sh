#!/usr/bin/env bash
# The controller's memory and start-up time with a large cluster cached.
# Creates 1,000 Nodes (BENCH_NODES: plain Node objects, addresses and a
# kubelet-like status written through the status subresource), then
# 10,000 pods and 1,000 services (BENCH_PODS, BENCH_SERVICES) in the local
# control plane (hack/cluster.sh). It starts `csr-approver run` with a
# workload and a kubelet-serving policy (so it caches Pods, Services and
# Nodes) and reports, for each state:
#   - start to ready: from the process start to the first 200 of /readyz
#     (every cache listed), in ms (the best and the median of BENCH_RUNS),
#     and the CPU time the controller spent until then;
#   - VmRSS (and of it RssAnon: the rest is the shared libraries' pages)
#     and VmHWM from /proc one second after ready.
# States: "baseline" (no policy: nothing cached), "idle" (1,000 Nodes and
# no bench pods or services; measured only while none exist, so a rerun on
# kept pods skips it) and "full" (nodes, pods and services).
# Not a timed test: timing on a shared machine is noisy.
#
# The pods are not bound to a node (no kubelet would ever confirm their
# deletion), and the Services are headless (the loopback cluster's service
# range holds 254 addresses). No kubelet runs for the bench Nodes.
#
#   BENCH_NODES=1000 BENCH_PODS=10000 BENCH_SERVICES=1000 BENCH_NAMESPACES=10 hack/bench-rss.sh
#   BENCH_RUNS=3      starts per state
#   BENCH_KEEP=1      keep the objects afterwards (a rerun reuses them);
#                     BENCH_KEEP=nodes keeps only the Nodes
#   BENCH_STATUS=1    also give every pod an IP (a status write per pod)
#   CSR_APPROVER_BIN  the binary (default build/csr-approver)
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
NODES=${BENCH_NODES:-1000}
PODS=${BENCH_PODS:-10000}
SVCS=${BENCH_SERVICES:-1000}
NSN=${BENCH_NAMESPACES:-10}
RUNS=${BENCH_RUNS:-3}
KEEP=${BENCH_KEEP:-0}
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
	if [[ $KEEP != 1 ]]; then
		for ((n = 0; n < NSN; n++)); do
			kubectl delete namespace "$prefix-$n" --wait=false >/dev/null 2>&1 || true
		done
	fi
	if [[ $KEEP != 1 && $KEEP != nodes ]]; then
		kubectl delete nodes -l bench=rss --wait=false >/dev/null 2>&1 || true
	fi
	rm -rf "$work"
}
trap finish EXIT

count() { # RESOURCE
	kubectl get "$1" -A -l bench=rss --no-headers 2>/dev/null | wc -l
}

# gen KIND FROM TO: a List of objects FROM..TO-1 spread over the namespaces
# (node: cluster-scoped; node-status: the same Nodes with their status).
gen() {
	local kind=$1 from=$2 to=$3 i ns
	echo '{"apiVersion":"v1","kind":"List","items":['
	for ((i = from; i < to; i++)); do
		ns=$prefix-$((i % NSN))
		((i > from)) && echo ,
		case $kind in
		pod)
			printf '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p-%d","namespace":"%s","labels":{"bench":"rss","app":"a-%d","tier":"t-%d"}},"spec":{"serviceAccountName":"default","containers":[{"name":"main","image":"registry.k8s.io/pause:3.10"}]}}' \
				"$i" "$ns" $((i % SVCS)) $((i % 7))
			;;
		svc)
			printf '{"apiVersion":"v1","kind":"Service","metadata":{"name":"s-%d","namespace":"%s","labels":{"bench":"rss"}},"spec":{"clusterIP":"None","selector":{"app":"a-%d"},"ports":[{"port":443}]}}' \
				"$i" "$ns" "$i"
			;;
		node)
			printf '{"apiVersion":"v1","kind":"Node","metadata":{"name":"%s-n-%d","labels":{"bench":"rss","kubernetes.io/hostname":"%s-n-%d","kubernetes.io/os":"linux","kubernetes.io/arch":"amd64","topology.kubernetes.io/zone":"z-%d"}},"spec":{"podCIDR":"10.%d.%d.0/24"}}' \
				"$prefix" "$i" "$prefix" "$i" $((i % 3)) $((100 + i / 256)) $((i % 256))
			;;
		node-status)
			# What a kubelet reports, less the image list: addresses,
			# capacity, conditions, nodeInfo. (A status write also
			# writes the labels: they are repeated.)
			printf '{"apiVersion":"v1","kind":"Node","metadata":{"name":"%s-n-%d","labels":{"bench":"rss","kubernetes.io/hostname":"%s-n-%d","kubernetes.io/os":"linux","kubernetes.io/arch":"amd64","topology.kubernetes.io/zone":"z-%d"}},"status":{"addresses":[{"type":"InternalIP","address":"10.200.%d.%d"},{"type":"Hostname","address":"%s-n-%d"}],"capacity":{"cpu":"8","memory":"32Gi","pods":"110"},"allocatable":{"cpu":"7800m","memory":"31Gi","pods":"110"},"conditions":[{"type":"Ready","status":"True","reason":"KubeletReady","message":"kubelet is posting ready status","lastHeartbeatTime":"2025-01-01T00:00:00Z","lastTransitionTime":"2025-01-01T00:00:00Z"},{"type":"MemoryPressure","status":"False","reason":"KubeletHasSufficientMemory","message":"kubelet has sufficient memory available","lastHeartbeatTime":"2025-01-01T00:00:00Z","lastTransitionTime":"2025-01-01T00:00:00Z"}],"nodeInfo":{"machineID":"m-%d","systemUUID":"u-%d","bootID":"b-%d","kernelVersion":"6.1.0","osImage":"Debian GNU/Linux 12","containerRuntimeVersion":"containerd://1.7.0","kubeletVersion":"v1.37.2","kubeProxyVersion":"","operatingSystem":"linux","architecture":"amd64"}}}' \
				"$prefix" "$i" "$prefix" "$i" $((i % 3)) $((i / 256)) $((i % 256)) "$prefix" "$i" "$i" "$i" "$i"
			;;
		esac
	done
	echo ']}'
}

# create KIND TOTAL BATCH [VERB ARGS...]: the objects in batches, 4 at a time
# (default verb: create).
create() {
	local kind=$1 total=$2 batch=$3 b
	shift 3
	local verb=${*:-create}
	rm -f "$work"/batch-*.json
	for ((b = 0; b < total; b += batch)); do
		gen "$kind" "$b" $((b + batch > total ? total : b + batch)) >"$work/batch-$b.json"
	done
	find "$work" -name 'batch-*.json' -print0 |
		xargs -0 -P 4 -I{} sh -c "kubectl $verb -f {} >/dev/null 2>&1 || true"
}

t0=$SECONDS
if (($(count nodes) < NODES)); then
	echo "bench: creating $NODES nodes"
	create node "$NODES" 250
	create node-status "$NODES" 250 replace --subresource=status
fi
nodes=$(count nodes)
echo "bench: cluster holds $nodes bench nodes (setup $((SECONDS - t0)) s)"

printf '%s\n' 'policies:' \
	'  - name: workload' '    signerName: bench.example.com/workload' '    type: workload' \
	'  - name: kubelet-serving' '    signerName: kubernetes.io/kubelet-serving' \
	'    type: kubelet-serving' >"$work/policy.yaml"

# measure STATE [CONFIG]: BENCH_RUNS starts, each timed from the process
# start to the first 200 of /readyz; memory read one second later.
last_rss=0
measure() {
	local state=$1 config=${2:-} port log run start_ms ready_ms cpu code rss hwm anon i
	local -a ready=() args=()
	[[ -n $config ]] && args=(--config "$config")
	log=$work/$state.log
	for ((run = 0; run < RUNS; run++)); do
		for ((i = 0; i < 100; i++)); do
			port=$((20000 + (RANDOM * 32768 + RANDOM) % 12768))
			(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || break
		done
		: >"$log"
		start_ms=$(date +%s%3N)
		"$bin" run --kubeconfig "$KUBECONFIG" "${args[@]}" --metrics-bind-address 0 \
			--health-probe-bind-address "127.0.0.1:$port" >"$log" 2>&1 &
		pid=$!
		code=""
		for ((i = 0; i < 30000; i++)); do
			code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/readyz" || true)
			[[ $code == 200 ]] && break
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.01
		done
		ready_ms=$(date +%s%3N)
		# CPU time the controller spent to get there (utime + stime):
		# steadier than wall time on a shared machine.
		cpu=$(awk -v hz="$(getconf CLK_TCK)" '{ print int(($14 + $15) * 1000 / hz) }' "/proc/$pid/stat" 2>/dev/null || echo 0)
		if [[ $code != 200 ]]; then
			tail -n 20 "$log"
			echo "bench: $state: never ready" >&2
			exit 1
		fi
		ready+=($((ready_ms - start_ms)))
		sleep 1
		rss=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
		hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status")
		anon=$(awk '/^RssAnon/ {print $2}' "/proc/$pid/status")
		kill -TERM "$pid"
		wait "$pid" || true
		pid=""
		awk -v s="$state" -v r="$rss" -v h="$hwm" -v a="$anon" -v t="${ready[-1]}" -v c="$cpu" 'BEGIN {
			printf "bench: %-8s start to ready %5d ms (cpu %4d ms)  VmRSS %.1f MiB (anon %.1f)  VmHWM %.1f MiB\n",
				s, t, c, r / 1024, a / 1024, h / 1024 }'
	done
	grep -h 'caches synced' "$log" | tail -n 1
	printf '%s\n' "${ready[@]}" | sort -n | awk -v s="$state" '{ t[NR] = $1 }
		END { printf "bench: %-8s start to ready: best %d ms, median %d ms of %d\n",
			s, t[1], t[int((NR + 1) / 2)], NR }'
	last_rss=$rss
}

measure baseline
base=$last_rss
if (($(count pods) == 0 && $(count services) == 0)); then
	measure idle "$work/policy.yaml"
	awk -v r="$last_rss" -v b="$base" -v n="$nodes" 'BEGIN {
		printf "bench: idle: %d nodes add %.1f MiB to the baseline\n", n, (r - b) / 1024 }'
else
	echo "bench: idle skipped: bench pods or services exist (from a kept run)"
fi

for ((n = 0; n < NSN; n++)); do
	# A previous run's namespace may still be going away.
	k8s_wait 180 bash -c "[[ \$(kubectl get namespace $prefix-$n -o jsonpath='{.status.phase}' 2>/dev/null) != Terminating ]]" || {
		echo "bench: namespace $prefix-$n is stuck terminating" >&2
		exit 1
	}
	kubectl get namespace "$prefix-$n" >/dev/null 2>&1 || kubectl create namespace "$prefix-$n" >/dev/null
done

t0=$SECONDS
if (($(count pods) < PODS)); then
	echo "bench: creating $PODS pods in $NSN namespaces"
	create pod "$PODS" 500
fi
if (($(count services) < SVCS)); then
	echo "bench: creating $SVCS services"
	create svc "$SVCS" 250
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
echo "bench: cluster holds $pods bench pods, $svcs bench services, $nodes bench nodes (setup $((SECONDS - t0)) s)"

measure full "$work/policy.yaml"
awk -v r="$last_rss" -v b="$base" -v p="$pods" 'BEGIN {
	printf "bench: full: the caches add %.1f MiB to the baseline, %.2f kB per pod\n",
		(r - b) / 1024, (p > 0 ? (r - b) / p : 0) }'
