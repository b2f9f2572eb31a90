#!/usr/bin/env bash
# The leader frozen mid-burst: two csr-approver instances with leader
# election (lease 6 s, renew deadline 4 s, retry period 1 s) decide a burst
# of CSRs; the leader is stopped (SIGSTOP) while the burst goes on, past
# its lease, so that the standby takes over and decides what came
# meanwhile; then the old leader is thawed (SIGCONT) while it may still
# hold work it had queued or started: it must decide nothing more and exit
# 1 (renew deadline passed), as designed. At the end: nothing lost, nothing
# decided twice (across both instances' logs and the conditions), nothing
# wrongly approved. tests/integration/leader.sh covers the election itself
# (kill -9, SIGTERM, a paused leader between rounds, another holder).
# CSR_APPROVER_BIN chooses the binary.
set -uo pipefail

# shellcheck source=tests/faults/lib.bash
source "$(dirname "${BASH_SOURCE[0]}")/lib.bash"
flt_setup faults-leader

LEASE="csr-approver"
ctl_kc=$(ctl_identity "$IT_RUN-approver" "$W")
inst() { flt_leader_start "$1" "$ctl_kc" "$LEASE"; } # NAME
inst a || t_abort "instance a starts" "$(tail -n 10 "$(ctl_log a)")"
ctl_wait_log a 'became leader' 20 || t_abort "instance a leads" "$(tail -n 10 "$(ctl_log a)")"
inst b || t_abort "instance b starts" "$(tail -n 10 "$(ctl_log b)")"
ctl_wait_log b "\"msg\":\"lease holder\".*\"holder\":\"it-a\"" 15 ||
	t_abort "instance b stands by" "$(tail -n 10 "$(ctl_log b)")"

ctl_burst freeze 21 &
burst_pid=$!
flt_wait_created freeze 5
ctl_signal a STOP
t_ok "the leader frozen (SIGSTOP) mid-burst"
# Those after this many (and one being made) were created while it was frozen.
made_at_freeze=$(grep -c . "$tmp/freeze.want")
if ctl_wait_log b 'became leader' 20; then
	t_ok "the standby took over the frozen leader's lease"
else
	t_fail "the standby took over the frozen leader's lease" "$(tail -n 5 "$(ctl_log b)")"
fi
t_eq "the Lease names the standby" "it-b" \
	"$(kubectl get lease "$LEASE" -n "$IT_NS" -o jsonpath='{.spec.holderIdentity}')"
flt_wait_created freeze 14
# What the frozen leader had written before it was frozen: all it may ever
# write. A write it had sent before the freeze may be answered only after it
# wakes; its "decided" line then reports a decision the cluster already
# held before the thaw, and is the one record of it (log, audit, metric):
# that is not a decision made after waking. Any other is.
frozen_lines=$(grep -c . "$(ctl_log a)")
frozen_decided=$(grep -c '"msg":"decided"' "$(ctl_log a)")
held=$(kubectl get csr -o jsonpath='{range .items[*]}{.metadata.name} {.status.conditions[*].type}{"\n"}{end}' |
	awk -v p="$IT_RUN-freeze-" 'index($1, p) == 1 && NF > 1 {print $1}')
ctl_signal a CONT
ctl_wait_exit a 15
t_eq "the thawed leader exits 1 (renew deadline passed)" 1 "$?"
t_check "the thawed leader logs that it lost the lease" grep -q 'leadership lost' "$(ctl_log a)"
woke=$(tail -n "+$((frozen_lines + 1))" "$(ctl_log a)" | grep '"msg":"decided"' |
	sed -n 's/.*"csr":"\([^"]*\)".*/\1/p')
after=""
for n in $woke; do
	grep -qxF "$n" <<<"$held" || after+="$n "
done
t_eq "the thawed leader decided nothing after it woke ($(grep -c . <<<"$woke") answers to writes sent before)" "" "$after"
wait "$burst_pid"
ctl_check freeze 21 60 "$(ctl_log a)" "$(ctl_log b)"
late=""
for ((i = made_at_freeze + 2; i <= 21; i++)); do
	[[ $(ctl_decided_lines "$IT_RUN-freeze-$i" "$(ctl_log b)") == 1 ]] || late+="freeze-$i "
done
t_eq "the standby decided what came while the leader was frozen (freeze-$((made_at_freeze + 2)) on)" "" "$late"
echo "# decided by the frozen leader before it froze: $frozen_decided, by the standby: $(grep -c '"msg":"decided"' "$(ctl_log b)")"
ctl_stop b
t_eq "the new leader: SIGTERM exits 0" 0 "$?"
t_eq "no sanitizer report" "" "$(ctl_sanitizer_report a b)"
t_done
