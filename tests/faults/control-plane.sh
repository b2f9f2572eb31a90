#!/usr/bin/env bash
# csr-approver run while the control plane itself falters, one controller
# through both faults, each in the middle of a burst of CSRs being created
# and decided:
#   1. kube-apiserver stalled: SIGSTOP for 20 s (connections stay open and
#      nothing answers: no refusal, no reset), then SIGCONT;
#   2. etcd stopped and started again with the same data (kube-apiserver
#      stays up and answers errors or waits meanwhile).
# After each: nothing lost, nothing decided twice, nothing wrongly approved,
# and the controller still runs. This suite stalls the shared kube-apiserver
# and restarts the shared etcd; it leaves both up and healthy.
# CSR_APPROVER_BIN chooses the binary (e.g. build/asan/csr-approver).
set -uo pipefail

# shellcheck source=tests/faults/lib.bash
source "$(dirname "${BASH_SOURCE[0]}")/lib.bash"
flt_setup faults-control-plane

STALL_S=20
ctl_kc=$(ctl_identity "$IT_RUN-approver" "$W")
mport=$(t_port)
ctl_start main --kubeconfig "$ctl_kc" --config "$tmp/policy.yaml" --health-probe-bind-address 0 \
	--metrics-bind-address "127.0.0.1:$mport" -v debug ||
	t_abort "controller starts" "$(tail -n 20 "$(ctl_log main)")"
apiserver_pid=$(<"$CSR_APPROVER_CLUSTER_DIR/pids/kube-apiserver.pid")

# ---------------------------------------------------------------- 1. kube-apiserver stalled
ctl_burst stall 15 &
burst_pid=$!
flt_wait_created stall 4
if kill -STOP "$apiserver_pid"; then
	t_ok "kube-apiserver stopped (SIGSTOP) mid-burst"
else
	t_fail "kube-apiserver stopped (SIGSTOP) mid-burst" "pid $apiserver_pid"
fi
# The stall is the fault itself: its length is the point, not a wait for
# something to happen.
sleep "$STALL_S"
t_eq "kube-apiserver stalled for the whole ${STALL_S} s" T \
	"$(awk '{ print $3 }' "/proc/$apiserver_pid/stat" 2>/dev/null)"
kill -CONT "$apiserver_pid"
wait "$burst_pid"
ctl_check stall 15 90 "$(ctl_log main)"
t_check "the controller rode out the stall" ctl_running main

# ---------------------------------------------------------------- 2. etcd restarted
restarts_before=$(flt_metric "$mport" 'csr_approver_api_requests_total{verb="PUT",resource="certificatesigningrequests/approval",code="200"}')
ctl_burst etcd 15 &
burst_pid=$!
flt_wait_created etcd 4
t_check "etcd stopped mid-burst" "$T_ROOT/hack/cluster.sh" stop-etcd
t_check "etcd started again with the same data" "$T_ROOT/hack/cluster.sh" start-etcd
wait "$burst_pid"
ctl_check etcd 15 90 "$(ctl_log main)"
t_eq "stall: the CSRs decided before the restart are still there, decided" "" \
	"$(while read -r name want; do
		[[ $(ctl_conditions "$name") == *"${want%%:*}"* ]] || echo "$name"
	done <"$tmp/stall.want")"
after=$(flt_metric "$mport" 'csr_approver_api_requests_total{verb="PUT",resource="certificatesigningrequests/approval",code="200"}')
t_check "the approval writes after the restart are counted" test "$after" -gt "$restarts_before"
t_check "the controller rode out the etcd restart" ctl_running main

ctl_stop main
t_eq "SIGTERM exits 0" 0 "$?"
t_eq "no sanitizer report" "" "$(ctl_sanitizer_report main)"
t_check "the control plane is up and ready" "$T_ROOT/hack/cluster.sh" status
t_done
