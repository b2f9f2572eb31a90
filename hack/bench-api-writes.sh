#!/usr/bin/env bash
# kube-apiserver's CPU per write, for each shape of write csr-approver sends
# against the shape it replaced, on the local control plane
# (hack/cluster.sh, started if needed):
#   - an Event on a CSR: in protobuf (build/bench_event_body: the body
#     csr-approver posts), and the same Event in JSON (what it posted before);
#   - a CSR's approval (PUT .../approval): the object without
#     metadata.managedFields (what csr-approver sends), and with them.
# Each shape is sent BENCH_N times (default 200) in a row over one HTTP/2
# connection (curl, one request at a time), the shapes taking turns,
# BENCH_ROUNDS rounds (default 25). The figure is kube-apiserver's CPU
# (utime + stime, /proc/PID/stat) over a batch divided by its requests,
# the median over the rounds: a batch also pays for what the API server
# does meanwhile for others and for its garbage collector, which lands on
# one batch in a few (the highest figure shows it); many short rounds in
# turn share that out. A benchmark: it prints figures; it fails only when
# a request is not answered 2xx.
#
# Usage: hack/bench-api-writes.sh   (make bench-api-writes)
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
N=${BENCH_N:-200}
ROUNDS=${BENCH_ROUNDS:-25}
say() { echo "bench-api-writes: $*" >&2; }
die() {
	say "error: $*"
	exit 1
}
[[ $N =~ ^[1-9][0-9]*$ ]] || die "BENCH_N must be a positive integer, not \"$N\""
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die "BENCH_ROUNDS must be a positive integer, not \"$ROUNDS\""
make -s build/bench_event_body

eval "$(hack/cluster.sh up 2>/dev/null)"
state=$CSR_APPROVER_CLUSTER_DIR
pid=$(<"$state/pids/kube-apiserver.pid")
api=$CSR_APPROVER_APISERVER
run=baw-$$
work=$(mktemp -d)
finish() {
	kubectl delete csr -l "bench-api-writes=$run" --wait=false >/dev/null 2>&1 || true
	kubectl delete events -n default --field-selector "involvedObject.name=$run" \
		--wait=false >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap finish EXIT

# ---------------------------------------------------------------- bodies
# One key and request for every CSR (the API server does not mind), a
# signer no controller acts on, names $run-SHAPE-ROUND-I.
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null \
	-subj "/CN=bench-api-writes" -out "$work/req.pem" 2>/dev/null
uid=$(cat /proc/sys/kernel/random/uuid)
build/bench_event_body "$run" "$uid" >"$work/event.pb"
python3 - "$work" "$run" "$N" "$ROUNDS" <<'EOF'
import base64, json, sys, time
work, run, n, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
req = base64.b64encode(open(f"{work}/req.pem", "rb").read()).decode()
items = [{"apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest",
          "metadata": {"name": f"{run}-{shape}-{r}-{i}", "labels": {"bench-api-writes": run}},
          "spec": {"request": req, "signerName": "bench.example.com/api-writes",
                   "usages": ["client auth"]}}
         for shape in ("slim", "full") for r in range(rounds) for i in range(n)]
json.dump({"apiVersion": "v1", "kind": "List", "items": items}, open(f"{work}/csrs.json", "w"))
# The JSON Event, field for field what bench_event_body encodes.
now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
ev = {"apiVersion": "v1", "kind": "Event",
      "metadata": {"generateName": run + ".", "namespace": "default"},
      "involvedObject": {"apiVersion": "certificates.k8s.io/v1",
                         "kind": "CertificateSigningRequest", "name": run, "uid": "UID"},
      "reason": "AutoApproved",
      "message": "csr-approver: policy kubelet-serving: node bench-node-0001, 2 SANs",
      "type": "Normal", "source": {"component": "csr-approver"},
      "reportingComponent": "csr-approver", "reportingInstance": "bench_0001",
      "firstTimestamp": now, "lastTimestamp": now, "count": 1}
open(f"{work}/event.json", "w").write(json.dumps(ev, separators=(",", ":")))
EOF
sed -i "s/\"UID\"/\"$uid\"/" "$work/event.json"
say "creating $((2 * ROUNDS * N)) CSRs"
kubectl create -f "$work/csrs.json" >/dev/null
kubectl get csr -l "bench-api-writes=$run" -o json --show-managed-fields >"$work/read.json"
python3 - "$work" <<'EOF'
import json, os, sys, time
work = sys.argv[1]
now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
os.makedirs(f"{work}/approvals", exist_ok=True)
for o in json.load(open(f"{work}/read.json"))["items"]:
    name = o["metadata"]["name"]
    if "-slim-" in name:
        o["metadata"].pop("managedFields", None)
    elif not o["metadata"].get("managedFields"):
        sys.exit(f"{name} was read without managedFields")
    o.setdefault("status", {}).setdefault("conditions", []).append(
        {"type": "Approved", "status": "True", "reason": "AutoApproved",
         "message": "bench-api-writes", "lastUpdateTime": now})
    open(f"{work}/approvals/{name}", "w").write(json.dumps(o, separators=(",", ":")))
EOF

# curl_cfg METHOD CONTENT_TYPE FILE... : a curl config, one block per file
# ("next" between them), each writing its status code on a line.
curl_cfg() {
	local method=$1 ctype=$2 f url sep=""
	shift 2
	for f in "$@"; do
		[[ -z $sep ]] || echo "$sep"
		sep=next
		case $method in
		POST) url=$api/api/v1/namespaces/default/events ;;
		PUT) url=$api/apis/certificates.k8s.io/v1/certificatesigningrequests/${f##*/}/approval ;;
		esac
		printf '%s\n' "url = \"$url\"" "request = \"$method\"" "http2" \
			"cert = \"$state/pki/admin.crt\"" "key = \"$state/pki/admin.key\"" \
			"cacert = \"$state/pki/ca.crt\"" "header = \"Content-Type: $ctype\"" \
			"header = \"Accept: application/json\"" "data-binary = \"@$f\"" \
			"output = \"/dev/null\"" "write-out = \"%{http_code}\\n\""
	done
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
clk=$(getconf CLK_TCK)
results=$work/results
: >"$results"
# batch NAME CONFIG: run it, check every answer, record ms of API server CPU
# per request.
batch() {
	local name=$1 cfg=$2 a b bad
	a=$(cpu_ticks)
	curl -sS -K "$cfg" >"$work/codes"
	b=$(cpu_ticks)
	bad=$(grep -cv '^2' "$work/codes" || true)
	[[ $(wc -l <"$work/codes") -eq $N && $bad -eq 0 ]] ||
		die "$name: $bad of $N requests not answered 2xx ($(sort "$work/codes" | uniq -c | tr -s ' \n' ' '))"
	echo "$name $(((b - a) * 1000000 / clk / N))" >>"$results"
}

for ((r = 0; r < ROUNDS; r++)); do
	say "round $((r + 1)) of $ROUNDS: $N requests of each shape"
	ev_pb=() ev_js=() ap_slim=() ap_full=()
	for ((i = 0; i < N; i++)); do
		ev_pb+=("$work/event.pb") ev_js+=("$work/event.json")
		ap_slim+=("$work/approvals/$run-slim-$r-$i") ap_full+=("$work/approvals/$run-full-$r-$i")
	done
	curl_cfg POST application/vnd.kubernetes.protobuf "${ev_pb[@]}" >"$work/ev_pb.cfg"
	curl_cfg POST application/json "${ev_js[@]}" >"$work/ev_js.cfg"
	curl_cfg PUT application/json "${ap_slim[@]}" >"$work/ap_slim.cfg"
	curl_cfg PUT application/json "${ap_full[@]}" >"$work/ap_full.cfg"
	batch event-protobuf "$work/ev_pb.cfg"
	batch event-json "$work/ev_js.cfg"
	batch approval-slim "$work/ap_slim.cfg"
	batch approval-managedfields "$work/ap_full.cfg"
done

python3 - "$results" "$N" "$ROUNDS" <<'EOF'
import statistics, sys
res = {}
for line in open(sys.argv[1]):
    k, us = line.split()
    res.setdefault(k, []).append(int(us) / 1000)
med = {k: statistics.median(v) for k, v in res.items()}
print(f"kube-apiserver CPU per request (ms), {sys.argv[2]} requests a batch, "
      f"{sys.argv[3]} rounds: median (lowest / highest batch)")
print()
print("| write | csr-approver's shape | the shape it replaced | ratio |")
print("|---|---:|---:|---:|")
for name, ours, old in (("Event", "event-protobuf", "event-json"),
                        ("approval", "approval-slim", "approval-managedfields")):
    f = lambda k: f"{med[k]:.3f} ({min(res[k]):.3f} / {max(res[k]):.3f})"
    print(f"| {name} | {f(ours)} | {f(old)} | {med[ours] / med[old]:.2f} |")
EOF
