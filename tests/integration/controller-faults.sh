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

# shellcheck source=tests/integration/controller-lib.bash
source "$(dirname "${BASH_SOURCE[0]}")/controller-lib.bash"
ctl_setup controller-faults

A=$IT_NS
tmp=$T_TMP

# The apiserver must be left running for whoever comes next.
# shellcheck disable=SC2317 # run at exit
apiserver_up() {
	"$T_ROOT/hack/cluster.sh" status || "$T_ROOT/hack/cluster.sh" start-apiserver
}
t_on_exit apiserver_up

# ---------------------------------------------------------------- world
ctl_workload_world "$A" 10.244.3.10 "$tmp"
ctl_kc=$(ctl_identity "$IT_RUN-approver" "$W")
common=(--kubeconfig "$ctl_kc" --config "$tmp/policy.yaml" --health-probe-bind-address 0 -v debug)

# ---------------------------------------------------------------- 1. kill -9 kube-apiserver
mport=$(t_port)
if ! ctl_start main "${common[@]}" --metrics-bind-address "127.0.0.1:$mport"; then
	t_abort "controller starts" "$(tail -n 20 "$(ctl_log main)")"
fi
ctl_burst kill 30 &
burst_pid=$!
k8s_wait 30 bash -c "(( \$(wc -l <'$tmp/kill.want') >= 8 ))"
if "$T_ROOT/hack/cluster.sh" stop-apiserver --kill >/dev/null 2>&1; then
	t_ok "kube-apiserver killed (SIGKILL) mid-burst"
else
	t_fail "kube-apiserver killed (SIGKILL) mid-burst"
fi
sleep 3
if "$T_ROOT/hack/cluster.sh" start-apiserver >/dev/null 2>&1; then
	t_ok "kube-apiserver started again"
else
	t_fail "kube-apiserver started again" "$(tail -n 20 "$CSR_APPROVER_CLUSTER_DIR/logs/kube-apiserver.log")"
fi
wait "$burst_pid"
ctl_check kill 30 90 "$(ctl_log main)"
if ctl_running main; then
	t_ok "the controller rode out the apiserver's death"
else
	t_fail "the controller rode out the apiserver's death" "$(tail -n 20 "$(ctl_log main)")"
fi
# The new apiserver's watch cache starts after the watches' versions: they
# meet 410s after a run of refused connections. The server answered, so
# each relists at once, however long the outage's backoff had grown (a
# backoff here would leave the caches stale for up to 30 s more).
expired=$(grep '"msg":"watch restarting"' "$(ctl_log main)" | grep '"reason":"[^"]*410')
if [[ -n $expired ]] && ! grep -qv '"delay_ms":"0"' <<<"$expired"; then
	t_ok "after the outage, each 410 relists at once ($(wc -l <<<"$expired") watches)"
else
	t_fail "after the outage, each 410 relists at once" "${expired:-no 410 met}"
fi

# ---------------------------------------------------------------- 2. 410 Gone, relist
# The Pod cache is relisted in place: a pod deleted while the controller
# could not see it must be gone from the cache after the relist, and the
# two made meanwhile be in it (two, so that only a cache that dropped the
# one and took the others has the server's count: a stale cache is one
# short, one that only added is one over).
pods_cached() {
	curl -fsS "http://127.0.0.1:$mport/metrics" 2>/dev/null |
		sed -n 's/^csr_approver_cache_objects{resource="pods"} \([0-9]*\).*/\1/p'
}
# shellcheck disable=SC2317 # called through k8s_wait
pods_match() { # WANT
	[[ $(pods_cached) == "$1" ]]
}
k8s_pod_create "$A" "$IT_RUN-gap-old" >/dev/null
if k8s_wait 20 pods_match "$(kubectl get pods -A --no-headers | wc -l)"; then
	t_ok "the pod cache holds the server's pods before the pause"
else
	t_fail "the pod cache holds the server's pods before the pause" "cached $(pods_cached)"
fi
before=$(grep -c 'relisted after 410' "$(ctl_log main)")
ctl_signal main STOP
"$T_ROOT/hack/cluster.sh" stop-apiserver >/dev/null 2>&1
"$T_ROOT/hack/cluster.sh" start-apiserver >/dev/null 2>&1
ctl_make_csr paused-good good
ctl_make_csr paused-bad bad
kubectl delete pod -n "$A" "$IT_RUN-gap-old" --grace-period=0 --force >/dev/null 2>&1
k8s_pod_create "$A" "$IT_RUN-gap-new-a" >/dev/null
k8s_pod_create "$A" "$IT_RUN-gap-new-b" >/dev/null
for i in 1 2 3 4 5; do
	kubectl label csr "$IT_RUN-paused-good" "churn=$i" --overwrite >/dev/null 2>&1
done
rev=$("$CSR_APPROVER_ETCDCTL" --endpoints="$CSR_APPROVER_ETCD_ENDPOINT" endpoint status -w json 2>/dev/null |
	sed -n 's/.*"revision":\([0-9]*\).*/\1/p' | head -n 1)
if [[ -n $rev ]] && "$CSR_APPROVER_ETCDCTL" --endpoints="$CSR_APPROVER_ETCD_ENDPOINT" compact "$rev" >/dev/null 2>&1; then
	t_ok "etcd compacted at revision $rev while the controller was paused"
else
	t_fail "etcd compacted while the controller was paused" "rev=$rev"
fi
# A fresh apiserver: its watch cache starts after the controller's resourceVersion.
"$T_ROOT/hack/cluster.sh" restart-apiserver >/dev/null 2>&1
ctl_signal main CONT
if k8s_wait 30 bash -c "(( \$(grep -c 'relisted after 410' '$(ctl_log main)') > $before ))"; then
	t_ok "410 Gone on resume: the controller relisted"
else
	t_fail "410 Gone on resume: the controller relisted" \
		"$(grep -E 'watch|relist|410' "$(ctl_log main)" | tail -n 10)"
fi
# Whether the pods' own watch met the 410 or was served on from where it
# was, the cache must end up equal to the server.
# Its watch may be in a backoff of its own failures (at most 30 s).
if k8s_wait 45 pods_match "$(kubectl get pods -A --no-headers | wc -l)"; then
	t_ok "the pod cache after the relist holds what the server holds ($(pods_cached) pods)"
else
	t_fail "the pod cache after the relist holds what the server holds" \
		"cached $(pods_cached), server $(kubectl get pods -A --no-headers | wc -l)"
fi
t_eq "paused-good: decided after the relist" Approved:AutoApproved \
	"$(ctl_wait_decided "$IT_RUN-paused-good" 30)"
t_eq "paused-bad: decided after the relist" Denied:SANNotAllowed \
	"$(ctl_wait_decided "$IT_RUN-paused-bad" 30)"
m=$(curl -fsS "http://127.0.0.1:$mport/metrics" 2>/dev/null)
if grep -q 'csr_approver_watch_restarts_total{resource="certificatesigningrequests"} [1-9]' <<<"$m"; then
	t_ok "metrics count the watch restarts"
else
	t_fail "metrics count the watch restarts" "$(grep watch_restarts <<<"$m")"
fi
ctl_stop main
t_eq "main: SIGTERM exits 0" 0 "$?"

# ---------------------------------------------------------------- 3. write conflict
ctl_start conflict "${common[@]}" --metrics-bind-address 0 --write-delay=3s ||
	t_fail "controller with held writes starts"
ctl_make_csr conflict good
if ctl_wait_log conflict "holding the approval write.*$IT_RUN-conflict" 15; then
	kubectl label csr "$IT_RUN-conflict" it.example.com/touched=yes >/dev/null
	t_ok "CSR labelled while the approval write is held"
else
	t_fail "CSR labelled while the approval write is held" "$(tail -n 10 "$(ctl_log conflict)")"
fi
t_eq "conflict: decided" Approved:AutoApproved "$(ctl_wait_decided "$IT_RUN-conflict" 30)"
if grep -q "approval write conflict.*$IT_RUN-conflict" "$(ctl_log conflict)"; then
	t_ok "conflict: 409 seen, re-read, decided again"
else
	t_fail "conflict: 409 seen, re-read, decided again" "$(grep "$IT_RUN-conflict" "$(ctl_log conflict)" | tail -n 5)"
fi
t_eq "conflict: the concurrent label is kept" yes \
	"$(kubectl get csr "$IT_RUN-conflict" -o jsonpath='{.metadata.labels.it\.example\.com/touched}')"
t_eq "conflict: one decision" "Approved:AutoApproved" "$(ctl_conditions "$IT_RUN-conflict")"
t_eq "conflict: one decision log line" 1 "$(ctl_decided_lines "$IT_RUN-conflict" "$(ctl_log conflict)")"
ctl_stop conflict
t_eq "conflict: SIGTERM exits 0" 0 "$?"

# ---------------------------------------------------------------- 4. SIGTERM mid-burst
ctl_start term1 "${common[@]}" --metrics-bind-address 0 || t_fail "controller term1 starts"
ctl_burst term 30 &
burst_pid=$!
k8s_wait 30 bash -c "(( \$(wc -l <'$tmp/term.want') >= 8 ))"
ctl_stop term1
rc=$?
t_eq "SIGTERM mid-burst: exits 0" 0 "$rc"
grep -q '"msg":"shutting down"' "$(ctl_log term1)"
t_eq "SIGTERM mid-burst: logged the shutdown" 0 "$?"
wait "$burst_pid"
ctl_start term2 "${common[@]}" --metrics-bind-address 0 || t_fail "controller term2 starts"
ctl_check term 30 60 "$(ctl_log term1)" "$(ctl_log term2)"
ctl_stop term2
t_eq "term2: SIGTERM exits 0" 0 "$?"

t_eq "no sanitizer report" "" "$(ctl_sanitizer_report main conflict term1 term2)"

t_done
