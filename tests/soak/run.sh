#!/usr/bin/env bash
# The soak: two csr-approver replicas with leader election on, against the
# real local control plane (hack/cluster.sh), deciding SOAK_RATE CSRs a
# second for SOAK_SECONDS. `make soak` runs 600 s at 100/s; as a suite of
# `make test` (hack/test.sh) it runs 60 s at 40/s: on 2 cores shared with
# the API server, etcd, its audit log, kube-controller-manager's signer and
# the generator, 100/s is more than the API server answers in time (429s
# from API Priority and Fairness, a growing backlog), and `make test` must
# stay short. The load comes from tests/soak/loadgen (Go, standard library
# only, built into build/soak-loadgen): no kubectl process could keep up.
#
#   - the world: ServiceAccounts web, api, worker with Running pods (IPs
#     set as a kubelet would), Services selecting them and one (db) that
#     selects none; Nodes with InternalIP and Hostname addresses;
#   - two workload CSRs for one kubelet-serving CSR: workload CSRs are
#     created with the pod's bound ServiceAccount token (a TokenRequest
#     bound to the pod, as the kubelet's projected token: the API server
#     puts the pod's name and uid in spec.extra), kubelet-serving CSRs as
#     the node (system:node:NAME in system:nodes, impersonated by the
#     admin), each asking for its real names and addresses; one key per
#     pod and node, reused (SPEC.md does not forbid it), each CSR its own
#     name;
#   - one in ten built to be denied: another Service's name, another pod's
#     IP, another ServiceAccount's SPIFFE ID, too long an expiration;
#     another node's IP or name, O system:masters, a client-auth usage;
#   - each CSR is deleted SOAK_KEEP seconds after it was seen decided (why:
#     see deleter() in loadgen/run.go); creates wait while more than
#     SOAK_RATE x (SOAK_KEEP + 30) CSRs of the run exist, and the load stops
#     after SOAK_SECONDS whatever it sent (the rate achieved is printed);
#
# and checks: every CSR created, decided, and decided right (the reason it
# was built for); one Approved or Denied condition each; one decision
# across both replicas' audit logs (--audit-log) and one "decided" log
# line; one leader all along, the standby decided nothing; the leader's RSS
# grows less than 5 % (10 % in runs under 300 s) over the last 80 % of the load (medians of 5 % of the
# load at both ends, from /proc/PID/status) and its open descriptors
# (/proc/PID/fd) at the end of the load are no more than during warm-up
# (both skipped, and said so, when the controller fell behind the load: the
# backlog's memory and connections are not a leak); both replicas exit 0
# on SIGTERM. It prints the rate achieved, the decisions, create->decided
# latency (p50, p90, p99), RSS, descriptors and CPU of both replicas, and
# the leader's API requests by verb and code.
#
# Timing is never asserted: a busy machine lowers the rate achieved and
# raises latency, and the figures say so.
#
#   SOAK_SECONDS=60 SOAK_RATE=40 SOAK_PODS=12 SOAK_NODES=6
#   SOAK_KEEP         seconds a decided CSR is kept (5; 20 from 200 s on):
#                     the number of CSRs is steady before warm-up ends
#   SOAK_DRAIN=60     seconds to wait for the last decisions after the load
#   CSR_APPROVER_BIN  the controller binary (default build/csr-approver)
set -uo pipefail

# shellcheck source=tests/integration/controller-lib.bash
source "$(dirname "${BASH_SOURCE[0]}")/../integration/controller-lib.bash"

SECS=${SOAK_SECONDS:-60}
RATE=${SOAK_RATE:-40}
KEEP=${SOAK_KEEP:-$((SECS >= 200 ? 20 : 5))}
PODS=${SOAK_PODS:-12}
NODES=${SOAK_NODES:-6}
DRAIN=${SOAK_DRAIN:-60}

ctl_setup soak
tmp=$T_TMP
LG=$T_ROOT/build/soak-loadgen

# ---------------------------------------------------------------- the generator
go=$(csr_approver_go) || t_abort "a Go toolchain for tests/soak/loadgen" "none on PATH nor in /usr/local/go/bin"
if out=$(cd "$T_ROOT/tests/soak/loadgen" && GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod \
	"$go" build -o "$LG" . 2>&1); then
	t_ok "the load generator builds (build/soak-loadgen)"
else
	t_abort "the load generator builds" "$out"
fi

# ---------------------------------------------------------------- the world
W=$IT_RUN.example.com/workload
cat >"$tmp/policy.yaml" <<EOF
policies:
  - name: workload
    signerName: $W
    type: workload
    namespaces: ["$IT_NS"]
  - name: kubelet-serving
    signerName: kubernetes.io/kubelet-serving
    type: kubelet-serving
EOF
k8s_allow_csr_create "$IT_RUN-csr-create" "$IT_LABEL" "group:system:serviceaccounts:$IT_NS" ||
	t_abort "CSR create rights for $IT_NS's ServiceAccounts"
ctl_kc=$(ctl_identity "$IT_RUN-approver" "$W" kubernetes.io/kubelet-serving) ||
	t_abort "the controller's identity"
# The Nodes are cluster-scoped and carry the run's label.
t_on_exit kubectl delete nodes -l "$IT_LABEL" --wait=false

lgargs=(--server "$CSR_APPROVER_APISERVER" --ca "$CSR_APPROVER_CA_CERT"
	--cert "$CSR_APPROVER_CLUSTER_DIR/pki/admin.crt" --key "$CSR_APPROVER_CLUSTER_DIR/pki/admin.key"
	--run "$IT_RUN" --ns "$IT_NS" --label-key "$IT_LABEL_KEY" --pods "$PODS" --nodes "$NODES")
if out=$("$LG" setup "${lgargs[@]}" 2>&1); then
	t_ok "$PODS Running pods, 4 Services, $NODES Nodes"
else
	t_abort "the world of the soak" "$out"
fi

# ---------------------------------------------------------------- two replicas
declare -A mport=()
replica() { # NAME
	mport[$1]=$(t_port)
	ctl_start "$1" --kubeconfig "$ctl_kc" --config "$tmp/policy.yaml" --leader-elect=true \
		--leader-elect-namespace "$IT_NS" --identity "soak-$1" --audit-log "$tmp/$1.audit" \
		--metrics-bind-address "127.0.0.1:${mport[$1]}" --health-probe-bind-address 0
}
replica a || t_abort "replica a starts" "$(tail -n 5 "$(ctl_log a)")"
replica b || t_abort "replica b starts" "$(tail -n 5 "$(ctl_log b)")"
# shellcheck disable=SC2317 # called through k8s_wait
leads() { grep -q 'became leader' "$(ctl_log a)" "$(ctl_log b)"; }
k8s_wait 30 leads || t_abort "one replica leads" "$(tail -n 3 "$(ctl_log a)" "$(ctl_log b)")"
if grep -q 'became leader' "$(ctl_log a)"; then L=a S=b; else L=b S=a; fi
echo "# replica $L leads (pid ${CTL_PID[$L]}), $S stands by (pid ${CTL_PID[$S]})"

# ---------------------------------------------------------------- the load
rss_args=()
# Over a minute the heap's own settling (glibc's arenas, the caches' first
# growth) can reach a few hundred KiB of a 13 MiB process, the 5 % a long
# soak allows: a short run allows 10 %, so it catches a leak of about
# 600 bytes a CSR at 2,400 CSRs; `make soak` (60,000 CSRs, 5 %) one of
# about 12 bytes.
if ((SECS < 300)); then
	rss_args=(--rss-growth 10)
fi
# ASan's quarantine holds freed memory up to its cap: RSS grows by design.
if grep -qa __asan_init "$(ctl_bin)"; then
	rss_args=(--rss-growth 1000)
	echo "# the controller is built with AddressSanitizer: RSS growth is not checked"
fi
"$LG" run "${lgargs[@]}" --workload-signer "$W" --rate "$RATE" --seconds "$SECS" --keep "$KEEP" \
	--drain "$DRAIN" --pid "$L=${CTL_PID[$L]}" --pid "$S=${CTL_PID[$S]}" --leader "$L" \
	--results "$tmp/results.tsv" --series "$tmp/series.tsv" "${rss_args[@]}" >"$tmp/run.out" 2>"$tmp/run.err"
rc=$?
# report FILE: CHECK lines as checks, the rest as they are.
report() {
	local line rest
	while IFS= read -r line; do
		case $line in
		"CHECK ok "*) t_ok "${line#CHECK ok }" ;;
		"CHECK fail "*)
			rest=${line#CHECK fail }
			t_fail "${rest%%$'\t'*}" "${rest#*$'\t'}"
			;;
		"CHECK skip "*)
			rest=${line#CHECK skip }
			t_skip "${rest%%$'\t'*}" "${rest#*$'\t'}"
			;;
		*) echo "$line" ;;
		esac
	done <"$1"
}
report "$tmp/run.out"
((rc == 2)) && t_fail "the load ran" "$(tail -n 5 "$tmp/run.err")"

curl -fsS "http://127.0.0.1:${mport[$L]}/metrics" 2>/dev/null |
	sed -n 's/^csr_approver_api_requests_total{\(.*\)} \([0-9]*\)$/\1 \2/p' |
	awk '{ a = a sep $0; sep = "; " } END { print "# the leader'\''s API requests: " a }'

# ---------------------------------------------------------------- replicas
n=$(cat "$(ctl_log a)" "$(ctl_log b)" | grep -c 'became leader')
t_eq "one leader all along (\"became leader\" lines)" 1 "$n"
t_eq "the standby decided nothing" 0 "$(grep -c '"msg":"decided"' "$(ctl_log "$S")")"
ctl_stop "$L"
t_eq "the leader exits 0 on SIGTERM" 0 "$?"
ctl_stop "$S"
t_eq "the standby exits 0 on SIGTERM" 0 "$?"

# Both stopped: their logs are whole.
if [[ -s $tmp/results.tsv ]]; then
	"$LG" check --results "$tmp/results.tsv" --audit "$tmp/a.audit" --audit "$tmp/b.audit" \
		--log "$(ctl_log a)" --log "$(ctl_log b)" >"$tmp/check.out" 2>"$tmp/check.err"
	rc=$?
	report "$tmp/check.out"
	((rc == 2)) && t_fail "the logs were checked" "$(tail -n 5 "$tmp/check.err")"
else
	t_fail "the load left its results" "$(tail -n 5 "$tmp/run.err")"
fi
t_eq "no sanitizer report" "" "$(ctl_sanitizer_report a b)"

# The figures and the series (one line a second) stay in build/soak-logs/;
# the replicas' logs and audit logs too when a check failed (T_TMP goes at
# exit).
keep=$T_ROOT/build/soak-logs
rm -rf "$keep" && mkdir -p "$keep"
cp "$tmp/run.out" "$tmp/series.tsv" "$tmp"/check.out "$keep/" 2>/dev/null
if ((T_FAILED > 0)); then
	cp "$tmp"/*.log "$tmp"/*.audit "$tmp"/*.err "$tmp/results.tsv" "$keep/" 2>/dev/null
fi
echo "# figures and series: build/soak-logs/"
t_done
