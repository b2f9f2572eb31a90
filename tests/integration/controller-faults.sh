#!/usr/bin/env bash
# csr-approver run under faults, against the real control plane:
#   - kube-apiserver killed (SIGKILL) while CSRs are pending and more are
#     being created, then started again: every CSR ends decided, once,
#     correctly;
#   - a watch resumed from a compacted resourceVersion (controller paused,
#     etcd compacted, apiserver restarted): 410 Gone, relist, nothing lost;
#   - an approval write that conflicts with a concurrent label change: 409,
#     re-read, decided once, the label kept;
#   - SIGTERM in the middle of a burst: exit 0, and a restarted controller
#     decides the rest, none twice.
#
# This suite restarts the shared kube-apiserver twice.
# CSR_APPROVER_BIN chooses the binary (e.g. build/asan/csr-approver).
set -uo pipefail

# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
it_setup controller-faults
# shellcheck source=tests/integration/controller-lib.bash
source "$IT_ROOT/tests/integration/controller-lib.bash"

A=$IT_NS
tmp=$IT_TMP
W=$IT_RUN.example.com/workload

# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	ctl_stop_all
	# No kubelet confirms graceful pod deletions: force them, or the
	# namespaces stay Terminating.
	kubectl delete pods --all -n "$A" --grace-period=0 --force >/dev/null 2>&1 || true
	# The apiserver must be left running for whoever comes next.
	"$IT_ROOT/hack/cluster.sh" status >/dev/null 2>&1 ||
		"$IT_ROOT/hack/cluster.sh" start-apiserver >/dev/null 2>&1 || true
	kubectl delete rolebinding,role -n "$A" --all >/dev/null 2>&1 || true
	it_cleanup
}
trap cleanup EXIT

bin=$(ctl_bin)
if [[ ! -x $bin ]]; then
	it_fail "csr-approver binary at $bin" "build it first (make)"
	it_done
fi

# ---------------------------------------------------------------- world
ctl_workload_world "$A" 10.244.3.10 "$tmp"

cat >"$tmp/policy.yaml" <<EOF
policies:
  - name: workload
    signerName: $W
    type: workload
    namespaces: ["$A"]
EOF
ctl_kc=$(ctl_identity "$IT_RUN-approver" "$W")
common=(--kubeconfig "$ctl_kc" --config "$tmp/policy.yaml" --health-probe-bind-address 0 -v debug)

# make_csr NAME good|bad: create, retrying while the apiserver is away; a
# create whose answer was lost shows up as AlreadyExists, which is fine.
make_csr() {
	local name=$IT_RUN-$1 file=$tmp/$2.csr deadline=$((SECONDS + 90)) out
	while ((SECONDS < deadline)); do
		if out=$(it_as "$tmp/web.kubeconfig" k8s_csr_create "$name" "$W" "$file" "$WUSAGES" 3600 \
			"$IT_LABEL" 2>&1); then
			return 0
		fi
		[[ $out == *AlreadyExists* || $out == *"already exists"* ]] && return 0
		sleep 0.3
	done
	echo "make_csr $name: gave up: $out" >&2
	return 1
}

# burst PREFIX N: create PREFIX-1..N, every third one bad; one line per CSR
# "NAME WANT" in $tmp/PREFIX.want.
burst() {
	local prefix=$1 n=$2 i kind
	: >"$tmp/$prefix.want"
	for ((i = 1; i <= n; i++)); do
		if ((i % 3 == 0)); then kind=bad; else kind=good; fi
		make_csr "$prefix-$i" "$kind" || continue
		if [[ $kind == good ]]; then
			echo "$IT_RUN-$prefix-$i Approved:AutoApproved" >>"$tmp/$prefix.want"
		else
			echo "$IT_RUN-$prefix-$i Denied:SANNotAllowed" >>"$tmp/$prefix.want"
		fi
	done
}

# check_burst PREFIX N TIMEOUT LOG...: every CSR decided as wanted, once.
check_burst() {
	local prefix=$1 n=$2 timeout=$3 name want got bad="" twice="" count
	shift 3
	count=$(wc -l <"$tmp/$prefix.want")
	it_eq "$prefix: all $n CSRs created" "$n" "$count"
	local deadline=$((SECONDS + timeout))
	while read -r name want; do
		local left=$((deadline - SECONDS))
		((left < 1)) && left=1
		got=$(ctl_wait_decided "$name" "$left")
		[[ $got == "$want" ]] || bad+="$name: want $want, got $got; "
		local c l
		c=$(kubectl get csr "$name" -o jsonpath='{range .status.conditions[*]}{.type}{"\n"}{end}' |
			grep -cE '^(Approved|Denied)$')
		l=$(ctl_decided_lines "$name" "$@")
		((c == 1 && l == 1)) || twice+="$name: $c conditions, $l log lines; "
	done <"$tmp/$prefix.want"
	it_eq "$prefix: every CSR decided correctly" "" "$bad"
	it_eq "$prefix: every CSR decided exactly once (API and log)" "" "$twice"
}

# ---------------------------------------------------------------- 1. kill -9 kube-apiserver
mport=$(ctl_port)
if ! ctl_start main "${common[@]}" --metrics-bind-address "127.0.0.1:$mport"; then
	it_fail "controller starts" "$(tail -n 20 "$(ctl_log main)")"
	it_done
fi
burst kill 30 &
burst_pid=$!
k8s_wait 30 test -s "$tmp/kill.want"
sleep 1.5
if "$IT_ROOT/hack/cluster.sh" stop-apiserver --kill >/dev/null 2>&1; then
	it_ok "kube-apiserver killed (SIGKILL) mid-burst"
else
	it_fail "kube-apiserver killed (SIGKILL) mid-burst"
fi
sleep 3
if "$IT_ROOT/hack/cluster.sh" start-apiserver >/dev/null 2>&1; then
	it_ok "kube-apiserver started again"
else
	it_fail "kube-apiserver started again" "$(tail -n 20 "$CSR_APPROVER_CLUSTER_DIR/logs/kube-apiserver.log")"
fi
wait "$burst_pid"
check_burst kill 30 90 "$(ctl_log main)"
if ctl_running main; then
	it_ok "the controller rode out the apiserver's death"
else
	it_fail "the controller rode out the apiserver's death" "$(tail -n 20 "$(ctl_log main)")"
fi

# ---------------------------------------------------------------- 2. 410 Gone, relist
before=$(grep -c 'relisted after 410' "$(ctl_log main)")
ctl_signal main STOP
"$IT_ROOT/hack/cluster.sh" stop-apiserver >/dev/null 2>&1
"$IT_ROOT/hack/cluster.sh" start-apiserver >/dev/null 2>&1
make_csr paused-good good
make_csr paused-bad bad
for i in 1 2 3 4 5; do
	kubectl label csr "$IT_RUN-paused-good" "churn=$i" --overwrite >/dev/null 2>&1
done
rev=$("$CSR_APPROVER_ETCDCTL" --endpoints="$CSR_APPROVER_ETCD_ENDPOINT" endpoint status -w json 2>/dev/null |
	sed -n 's/.*"revision":\([0-9]*\).*/\1/p' | head -n 1)
if [[ -n $rev ]] && "$CSR_APPROVER_ETCDCTL" --endpoints="$CSR_APPROVER_ETCD_ENDPOINT" compact "$rev" >/dev/null 2>&1; then
	it_ok "etcd compacted at revision $rev while the controller was paused"
else
	it_fail "etcd compacted while the controller was paused" "rev=$rev"
fi
# A fresh apiserver: its watch cache starts after the controller's resourceVersion.
"$IT_ROOT/hack/cluster.sh" restart-apiserver >/dev/null 2>&1
ctl_signal main CONT
if k8s_wait 30 bash -c "(( \$(grep -c 'relisted after 410' '$(ctl_log main)') > $before ))"; then
	it_ok "410 Gone on resume: the controller relisted"
else
	it_fail "410 Gone on resume: the controller relisted" \
		"$(grep -E 'watch|relist|410' "$(ctl_log main)" | tail -n 10)"
fi
it_eq "paused-good: decided after the relist" Approved:AutoApproved \
	"$(ctl_wait_decided "$IT_RUN-paused-good" 30)"
it_eq "paused-bad: decided after the relist" Denied:SANNotAllowed \
	"$(ctl_wait_decided "$IT_RUN-paused-bad" 30)"
m=$(curl -fsS "http://127.0.0.1:$mport/metrics" 2>/dev/null)
if grep -q 'csr_approver_watch_restarts_total{resource="certificatesigningrequests"} [1-9]' <<<"$m"; then
	it_ok "metrics count the watch restarts"
else
	it_fail "metrics count the watch restarts" "$(grep watch_restarts <<<"$m")"
fi
ctl_stop main
it_eq "main: SIGTERM exits 0" 0 "$?"

# ---------------------------------------------------------------- 3. write conflict
ctl_start conflict "${common[@]}" --metrics-bind-address 0 --write-delay=3s ||
	it_fail "controller with held writes starts"
make_csr conflict good
if ctl_wait_log conflict "holding the approval write.*$IT_RUN-conflict" 15; then
	kubectl label csr "$IT_RUN-conflict" it.example.com/touched=yes >/dev/null
	it_ok "CSR labelled while the approval write is held"
else
	it_fail "CSR labelled while the approval write is held" "$(tail -n 10 "$(ctl_log conflict)")"
fi
it_eq "conflict: decided" Approved:AutoApproved "$(ctl_wait_decided "$IT_RUN-conflict" 30)"
if grep -q "approval write conflict.*$IT_RUN-conflict" "$(ctl_log conflict)"; then
	it_ok "conflict: 409 seen, re-read, decided again"
else
	it_fail "conflict: 409 seen, re-read, decided again" "$(grep "$IT_RUN-conflict" "$(ctl_log conflict)" | tail -n 5)"
fi
it_eq "conflict: the concurrent label is kept" yes \
	"$(kubectl get csr "$IT_RUN-conflict" -o jsonpath='{.metadata.labels.it\.example\.com/touched}')"
it_eq "conflict: one decision" "Approved:AutoApproved" "$(ctl_conditions "$IT_RUN-conflict")"
it_eq "conflict: one decision log line" 1 "$(ctl_decided_lines "$IT_RUN-conflict" "$(ctl_log conflict)")"
ctl_stop conflict
it_eq "conflict: SIGTERM exits 0" 0 "$?"

# ---------------------------------------------------------------- 4. SIGTERM mid-burst
ctl_start term1 "${common[@]}" --metrics-bind-address 0 || it_fail "controller term1 starts"
burst term 30 &
burst_pid=$!
k8s_wait 30 bash -c "(( \$(wc -l <'$tmp/term.want') >= 8 ))"
ctl_stop term1
rc=$?
it_eq "SIGTERM mid-burst: exits 0" 0 "$rc"
grep -q '"msg":"shutting down"' "$(ctl_log term1)"
it_eq "SIGTERM mid-burst: logged the shutdown" 0 "$?"
wait "$burst_pid"
ctl_start term2 "${common[@]}" --metrics-bind-address 0 || it_fail "controller term2 starts"
check_burst term 30 60 "$(ctl_log term1)" "$(ctl_log term2)"
ctl_stop term2
it_eq "term2: SIGTERM exits 0" 0 "$?"

it_eq "no sanitizer report" "" "$(ctl_sanitizer_report main conflict term1 term2)"

it_done
