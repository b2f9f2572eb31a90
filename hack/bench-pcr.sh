#!/usr/bin/env bash
# PodCertificateRequests answered with real kubelets: starts BENCH_NODES
# hollow nodes (hack/cluster.sh nodes N, default 50), `csr-approver run`
# with one workload policy that issues (podCertificates: true, a CA made
# with openssl), then creates BENCH_PODS pods (default 500) at once, bound
# round-robin to the nodes by spec.nodeName, each with a podCertificate
# projected volume for the policy's signer. The kubelets create one PCR per
# pod, the controller issues it, the kubelet writes the credential bundle
# and only then starts the pod. Prints, never asserts (lines "# figure:"):
#   - pod creation -> Running, p50/p99/max, wall clock: the time this script's
#     pod watch (kubectl get -w, stamped with $EPOCHREALTIME, milliseconds)
#     first saw the pod and first saw it Running;
#   - the same from server timestamps: creationTimestamp -> Ready
#     condition's lastTransitionTime (whole seconds). The kubelet stamps
#     that time itself and writes the status later (its API client is rate
#     limited, 5 QPS by default), so the watch's figure is the larger one;
#   - PCR creationTimestamp -> the controller's "issued" log line (the
#     log's microsecond clock, the same host clock; the PCR's own
#     creationTimestamp is truncated to whole seconds, so each figure
#     over-states the true time by 0 to 1 s);
#   - the time from the first create to the last pod Running;
#   - the controller's CPU (utime+stime from /proc/PID/stat, from just
#     before the pods are created to the last Running, so it includes the
#     pod and PCR watch traffic) divided by the PCRs issued;
#   - its peak RSS (VmHWM) and the load average.
# The controller runs with the admin kubeconfig (a benchmark, not a test of
# its RBAC; tests/integration/pcr.sh covers the RBAC). Cleans up: pods
# force-deleted, namespace deleted, `nodes 0`. Takes a few minutes (the
# nodes' start dominates).
#
#   BENCH_NODES=50 BENCH_PODS=500 hack/bench-pcr.sh
#   CSR_APPROVER_BIN  the binary (default build/csr-approver)
set -euo pipefail
export LC_ALL=C # sort and join agree

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
NODES=${BENCH_NODES:-50}
PODS=${BENCH_PODS:-500}
bin=${CSR_APPROVER_BIN:-$repo/build/csr-approver}
ns=bench-pcr
signer=bench.example.com/pod
timeout_s=$((120 + PODS / 2))

[[ -x $bin ]] || make -s -j2 build/csr-approver
eval "$(hack/cluster.sh up 2>/dev/null)"
# shellcheck source=hack/lib/k8s-helpers.sh
source hack/lib/k8s-helpers.sh

work=$(mktemp -d)
pid=""
watch_pid=""
finish() {
	[[ -n $watch_pid ]] && kill "$watch_pid" 2>/dev/null
	if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	kubectl delete pods -n "$ns" --all --grace-period=0 --force >/dev/null 2>&1 || true
	kubectl delete namespace "$ns" --wait=false >/dev/null 2>&1 || true
	hack/cluster.sh nodes 0 >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap finish EXIT

now_ms() { echo $((${EPOCHREALTIME/./} / 1000)); }
cpu_ticks() { # PID: utime+stime (fields 14, 15; the comm field has no spaces here)
	awk '{print $14 + $15}' "/proc/$1/stat"
}

k8s_wait 180 bash -c "[[ \$(kubectl get namespace $ns -o jsonpath='{.status.phase}' 2>/dev/null) != Terminating ]]" || {
	echo "bench: namespace $ns is stuck terminating" >&2
	exit 1
}
k8s_ns_create "$ns" >/dev/null

echo "bench: $NODES hollow nodes"
t0=$(now_ms)
hack/cluster.sh nodes "$NODES" >"$work/nodes.log" 2>&1 || {
	tail -n 20 "$work/nodes.log"
	echo "bench: $NODES hollow nodes did not start" >&2
	exit 1
}
echo "bench: $NODES nodes Ready in $((($(now_ms) - t0) / 1000)) s"

mkdir -p "$work/ca"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$work/ca/tls.key" -out "$work/ca/tls.crt" -subj "/CN=bench pod CA" -days 2 \
	-addext "basicConstraints=critical,CA:TRUE" \
	-addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
cat >"$work/policy.yaml" <<EOF
policies:
  - name: pods
    signerName: $signer
    type: workload
    namespaces: ["$ns"]
    podCertificates: true
    issue:
      caCertFile: $work/ca/tls.crt
      caKeyFile: $work/ca/tls.key
      lifetime: 24h
EOF

log=$work/controller.log
"$bin" run --kubeconfig "$KUBECONFIG" --config "$work/policy.yaml" --metrics-bind-address 0 \
	--health-probe-bind-address 0 >"$log" 2>&1 &
pid=$!
if ! k8s_wait 60 grep -q 'caches synced' "$log"; then
	tail -n 20 "$log"
	echo "bench: the controller's caches did not sync" >&2
	exit 1
fi

# The pods, in 4 Lists created in parallel.
for ((b = 0; b < 4; b++)); do
	{
		echo '{"apiVersion":"v1","kind":"List","items":['
		sep=""
		for ((i = b; i < PODS; i += 4)); do
			printf '%s{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p-%d","namespace":"%s"},"spec":{"nodeName":"hollow-%d","terminationGracePeriodSeconds":0,"containers":[{"name":"main","image":"registry.k8s.io/pause:3.10","volumeMounts":[{"name":"cert","mountPath":"/var/run/cert"}]}],"volumes":[{"name":"cert","projected":{"sources":[{"podCertificate":{"signerName":"%s","keyType":"ECDSAP256","credentialBundlePath":"bundle.pem"}}]}}]}}\n' \
				"$sep" "$i" "$ns" $((i % NODES + 1)) "$signer"
			sep=,
		done
		echo ']}'
	} >"$work/pods-$b.json"
done

# The watch: "MS NAME PHASE" per event. A pod without node (never runs) is
# created first; once the watch shows it, the watch is established.
kubectl get pods -n "$ns" -w -o jsonpath='{.metadata.name} {.status.phase}{"\n"}' 2>/dev/null |
	while read -r n p; do
		echo "$((${EPOCHREALTIME/./} / 1000)) $n $p"
	done >"$work/watch.txt" &
watch_pid=$!
kubectl create -n "$ns" -f - >/dev/null <<EOF
{"apiVersion":"v1","kind":"Pod","metadata":{"name":"sentinel"},
 "spec":{"containers":[{"name":"main","image":"registry.k8s.io/pause:3.10"}]}}
EOF
k8s_wait 30 grep -q ' sentinel ' "$work/watch.txt"

running() { awk '$3 == "Running" {print $2}' "$work/watch.txt" | sort -u | wc -l; }
cpu0=$(cpu_ticks "$pid")
tc0=$(now_ms)
find "$work" -name 'pods-*.json' -print0 | xargs -0 -P 4 -I{} sh -c 'kubectl create -f {} >/dev/null'
tc1=$(now_ms)
k8s_wait "$timeout_s" bash -c "(( \$(awk '\$3 == \"Running\" {print \$2}' $work/watch.txt | sort -u | wc -l) >= $PODS ))" ||
	echo "bench: only $(running) of $PODS pods Running after ${timeout_s} s" >&2
tr=$(now_ms)
cpu1=$(cpu_ticks "$pid")
hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status")
load=$(cut -d' ' -f1-3 /proc/loadavg)

kubectl get pods -n "$ns" -o json >"$work/pods.json"
kubectl get podcertificaterequests -n "$ns" -o json >"$work/pcrs.json"
issued=$(jq '[.items[] | select(any(.status.conditions[]?; .type == "Issued"))] | length' "$work/pcrs.json")
npcr=$(jq '.items | length' "$work/pcrs.json")
logissued=$(grep -c '"msg":"issued"' "$log" || true)

# pct FILE: "p50 p99 max n" of the numbers in FILE
pct() {
	sort -n "$1" | awk '{v[NR] = $1} END {
		if (NR == 0) { print "- - - 0"; exit }
		i50 = int(NR * 0.50); if (i50 < NR * 0.50) i50++
		i99 = int(NR * 0.99); if (i99 < NR * 0.99) i99++
		print v[i50], v[i99], v[NR], NR }'
}

# Wall clock: first event seen -> first Running seen, per pod.
awk '$2 != "sentinel" { if (!($2 in a)) a[$2] = $1; if ($3 == "Running" && !($2 in r)) r[$2] = $1 }
	END { for (p in r) print r[p] - a[p] }' "$work/watch.txt" >"$work/wall.txt"
# Server: creationTimestamp -> Ready lastTransitionTime, seconds.
jq -r '.items[] | select(.metadata.name != "sentinel") |
	(.status.conditions[]? | select(.type == "Ready" and .status == "True") | .lastTransitionTime) as $r |
	(($r | fromdateiso8601) - (.metadata.creationTimestamp | fromdateiso8601))' \
	"$work/pods.json" >"$work/server.txt"
# PCR creationTimestamp (s) -> the "issued" log line (us), in ms.
jq -r '.items[] | "\(.metadata.name) \(.metadata.creationTimestamp | fromdateiso8601)"' \
	"$work/pcrs.json" | sort >"$work/pcr-created.txt"
grep '"msg":"issued"' "$log" |
	sed -n 's/^{"ts":"\([^.]*\)\.\([0-9]\{3\}\)[0-9]*Z".*"pcr\/[^/"]*\/\([^"]*\)".*/\3 \1Z \2/p' |
	jq -rR 'split(" ") | "\(.[0]) \((.[1] | fromdateiso8601) * 1000 + (.[2] | tonumber))"' |
	sort >"$work/pcr-issued.txt"
join "$work/pcr-created.txt" "$work/pcr-issued.txt" | awk '{print $3 - $2 * 1000}' >"$work/pcr.txt"

read -r w50 w99 wmax wn < <(pct "$work/wall.txt")
read -r s50 s99 smax sn < <(pct "$work/server.txt")
read -r i50 i99 imax in_ < <(pct "$work/pcr.txt")
tck=$(getconf CLK_TCK)
echo "# figure: $NODES hollow nodes, $PODS pods with a podCertificate volume created in $((tc1 - tc0)) ms (4 parallel kubectl create)"
echo "# figure: pods Running: $(running) of $PODS; PCRs: $npcr, Issued $issued (controller 'issued' log lines: $logissued)"
echo "# figure: all Running $((tr - tc0)) ms after the first create"
echo "# figure: pod seen -> Running seen (watch wall clock, ms, n=$wn): p50 $w50 p99 $w99 max $wmax"
echo "# figure: creationTimestamp -> Ready (server timestamps, whole s, n=$sn): p50 $s50 p99 $s99 max $smax"
echo "# figure: PCR creationTimestamp (whole s) -> controller 'issued' log (us) (ms, n=$in_): p50 $i50 p99 $i99 max $imax"
awk -v c=$((cpu1 - cpu0)) -v t="$tck" -v n="$issued" 'BEGIN {
	printf "# figure: controller CPU %.2f s (utime+stime) for %d issuances: %.2f ms per issuance\n",
		c / t, n, n ? c / t * 1000 / n : 0 }'
awk -v h="$hwm" 'BEGIN { printf "# figure: controller peak RSS (VmHWM) %d kB (%.1f MiB)\n", h, h / 1024 }'
echo "# figure: load average at the end: $load ($(nproc) cores)"
