#!/usr/bin/env bash
# The audit log's disk full: csr-approver run --audit-log on a small tmpfs
# this suite mounts (it needs root), filled up mid-run. Decisions must still
# be written to the API (the audit line records a decision already made;
# it cannot hold one back), each line that cannot be written is logged and
# counted in csr_approver_audit_write_failures_total, and once space is
# freed the log resumes: every later decision has its line, and every line
# in the file is whole JSON (a line cut short by the full disk must not
# glue itself to the next one). tests/integration/governance.sh covers the
# audit log's content and its rotation with SIGHUP, not a failing disk.
# CSR_APPROVER_BIN chooses the binary.
set -uo pipefail

# shellcheck source=tests/faults/lib.bash
source "$(dirname "${BASH_SOURCE[0]}")/lib.bash"
flt_setup faults-audit-disk

mnt=$tmp/auditfs
mkdir -p "$mnt"
if ! mount -t tmpfs -o size=64k,mode=0700 csr-approver-audit "$mnt" 2>"$tmp/mount.err"; then
	t_skip "the audit log's disk full" "cannot mount a tmpfs: $(cat "$tmp/mount.err")"
	t_done
fi
t_on_exit umount -l "$mnt"
audit=$mnt/audit.log

ctl_kc=$(ctl_identity "$IT_RUN-approver" "$W")
mport=$(t_port)
ctl_start main --kubeconfig "$ctl_kc" --config "$tmp/policy.yaml" --health-probe-bind-address 0 \
	--metrics-bind-address "127.0.0.1:$mport" --audit-log "$audit" ||
	t_abort "controller starts" "$(tail -n 20 "$(ctl_log main)")"
failures() { flt_metric "$mport" csr_approver_audit_write_failures_total; }
# audited PREFIX: how many CSRs of PREFIX have their audit line
audited() {
	local name n=0
	while read -r name _; do
		grep -qF "\"$name\"" "$audit" 2>/dev/null && n=$((n + 1))
	done <"$tmp/$1.want"
	echo "$n"
}

# ---------------------------------------------------------------- room to write
ctl_burst roomy 6
ctl_check roomy 6 60 "$(ctl_log main)"
k8s_wait 10 bash -c "[[ \$(grep -c . '$audit') -ge 6 ]]"
t_eq "roomy: every decision audited" 6 "$(audited roomy)"
t_eq "roomy: no audit write failed" 0 "$(failures)"

# ---------------------------------------------------------------- full
# Fill what is left, to the last block: the next line may fit in part.
dd if=/dev/zero of="$mnt/filler" bs=1k 2>/dev/null
t_check "the audit log's disk is full" bash -c "! echo x >>'$mnt/probe'"
ctl_burst full 9
ctl_check full 9 60 "$(ctl_log main)"
# shellcheck disable=SC2317 # called through k8s_wait
all_failed() { (($(failures) >= 9)); }
k8s_wait 10 all_failed
t_eq "full: each line that could not be written is counted" 9 "$(failures)"
t_eq "full: and logged, naming the disk's error" 9 \
	"$(grep '"msg":"audit line not written"' "$(ctl_log main)" | grep -c 'No space left on device')"
t_check "the controller still runs" ctl_running main

# ---------------------------------------------------------------- space freed
rm -f "$mnt/filler" "$mnt/probe"
ctl_burst freed 6
ctl_check freed 6 60 "$(ctl_log main)"
# shellcheck disable=SC2317 # called through k8s_wait
resumed() { (($(audited freed) == 6)); }
k8s_wait 10 resumed
t_eq "freed: the log resumed: every later decision audited" 6 "$(audited freed)"
t_eq "freed: no more failures" 9 "$(failures)"
bad=$(while IFS= read -r line; do jq -e . >/dev/null 2>&1 <<<"$line" || echo "${line:0:120}"; done <"$audit")
t_eq "every line of the audit log is whole JSON" "" "$bad"
ctl_stop main
t_eq "SIGTERM exits 0" 0 "$?"
t_eq "no sanitizer report" "" "$(ctl_sanitizer_report main)"
t_done
