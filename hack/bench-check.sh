#!/usr/bin/env bash
# CPU cost of one offline decision: `csr-approver check` of a workload CSR
# against an objects file with 10 pods and 10 services (plus the CSR's own
# pod and Services). Prints user+system CPU per run, averaged over N runs,
# and the instruction count of one run under callgrind when valgrind is
# there. A benchmark, not a test: it prints figures and asserts nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=${CSR_APPROVER_BIN:-build/csr-approver}
runs=${BENCH_RUNS:-200}
[ -x "$bin" ] || make -s "$bin"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
objects=$tmp/objects.yaml
{
	cat tests/testdata/objects/shop.yaml
	for i in $(seq 1 10); do
		cat <<EOT
---
apiVersion: v1
kind: Pod
metadata: {name: app-$i, namespace: shop, uid: 00000000-0000-4000-8000-0000000000$(printf %02d "$i"), labels: {app: app-$i, tier: backend}}
spec: {serviceAccountName: app, nodeName: node-1}
status: {phase: Running, podIP: 10.244.2.$i, podIPs: [{ip: 10.244.2.$i}]}
---
apiVersion: v1
kind: Service
metadata: {name: svc-$i, namespace: shop}
spec: {selector: {app: app-$i}, ports: [{port: 443}]}
EOT
	done
} >"$objects"

csr=tests/testdata/csrobj/workload-good.yaml
policy=docs/examples/policy.yaml
"$bin" check --config "$policy" --objects "$objects" "$csr" >"$tmp/out.json"
echo "decision: $(cat "$tmp/out.json")"

python3 - "$bin" "$policy" "$objects" "$csr" "$runs" <<'PY'
import os, subprocess, sys
bin, policy, objects, csr, runs = sys.argv[1:6]
runs = int(runs)
t0 = os.times()
for _ in range(runs):
    subprocess.run([bin, "check", "--config", policy, "--objects", objects, csr],
                   stdout=subprocess.DEVNULL, check=True)
t1 = os.times()
cpu = (t1.children_user - t0.children_user) + (t1.children_system - t0.children_system)
print(f"check: {runs} runs, {cpu / runs * 1000:.2f} ms CPU per run (user+system, whole process: start, read files, decide, print)")
PY

# The same decision in a loop inside one process: no start-up, no dynamic
# linking, OpenSSL initialised once.
make -s build/bench_decide
build/bench_decide "$policy" "$objects" "$csr" "${BENCH_LOOP_RUNS:-2000}"

if command -v valgrind >/dev/null 2>&1; then
	valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.out" "$bin" check --config "$policy" \
		--objects "$objects" "$csr" >/dev/null 2>"$tmp/cg.log" || true
	ir=$(grep -E '^summary:|^totals:' "$tmp/cg.out" | head -n 1 | awk '{print $2}')
	echo "check: ${ir:-?} instructions for one whole run (callgrind)"
fi
