#!/usr/bin/env bash
# Faults the real control plane cannot be made to produce, through
# tests/faults/proxy (fault-proxy): a reverse proxy in front of the real
# kube-apiserver that forwards every request, the controller's bearer
# token unchanged, and every answer, except what the suite asks it to
# inject. It is not a fake API server: all the state and all the decisions'
# writes are the real API server's.
#   1. a 16 MiB watch line: an event longer than csr-approver's line cap
#      (WATCH_MAX_LINE, 16 MiB; etcd and the API server's request limits
#      keep a real object far smaller) injected into the CSR watch stream:
#      the controller refuses it with an error naming the limit, does not
#      keep the memory, relists and goes on deciding;
#   2. 500s for 10 s on every request: the approval writes fail, are
#      retried with backoff (not in a tight loop), and all land afterwards;
#   3. the API server's CA rotated: the proxy comes back serving a
#      certificate of a new CA, which the controller does not trust and
#      refuses while the CA file its kubeconfig names is unchanged; once the
#      file holds the new CA (alone, as a rotated Secret or ConfigMap would)
#      the controller reloads it and decides what was created meanwhile;
#   4. a lease renewal answered late: the leader frozen while the proxy
#      holds the answer to a renewal the API server recorded; thawed after
#      the standby took over, it never leads again and exits 1.
# Each: nothing lost, nothing decided twice, nothing wrongly approved. The
# controller runs as a ServiceAccount (a token, so that the proxy can pass
# its identity on). Needs Go to build the proxy (into build/).
# CSR_APPROVER_BIN chooses the binary.
set -uo pipefail

# shellcheck source=tests/faults/lib.bash
source "$(dirname "${BASH_SOURCE[0]}")/lib.bash"
flt_setup faults-proxy

LINE=$((16 * 1024 * 1024 + 4096)) # just over the cap
ERROR_S=10

# ---------------------------------------------------------------- the proxy
proxy_bin=$T_ROOT/build/fault-proxy
go=$(csr_approver_go) || t_abort "Go toolchain" "none on PATH nor in /usr/local/go"
(cd "$T_ROOT/tests/faults/proxy" && "$go" build -o "$proxy_bin" .) >"$tmp/go-build.log" 2>&1 ||
	t_abort "fault-proxy builds" "$(tail -n 20 "$tmp/go-build.log")"
pki=$tmp/proxy-pki
mkdir -p "$pki"
ln -s "$CSR_APPROVER_CA_CERT" "$pki/ca.crt"
ln -s "$CSR_APPROVER_CA_KEY" "$pki/ca.key"
pki_serving_cert "$pki" proxy fault-proxy "IP:127.0.0.1"
rm -f "$pki/ca.key"
pport=$(t_port)
cport=$(t_port "$pport")
proxy_pid=""
# shellcheck disable=SC2317 # run at exit
proxy_stop() { [[ -z $proxy_pid ]] || { kill "$proxy_pid" && wait "$proxy_pid"; } 2>/dev/null; }
t_on_exit proxy_stop
stats() { curl -fsS "http://127.0.0.1:$cport/stats" 2>/dev/null; }
stat_of() { stats | awk -v k="$1" '$1 == k { print $2 }'; }
proxy_start() { # PKI_DIR: serve DIR/proxy.{crt,key}
	"$proxy_bin" -listen "127.0.0.1:$pport" -control "127.0.0.1:$cport" \
		-upstream "$CSR_APPROVER_APISERVER" -upstream-ca "$CSR_APPROVER_CA_CERT" \
		-cert "$1/proxy.crt" -key "$1/proxy.key" >>"$tmp/proxy.log" 2>&1 &
	proxy_pid=$!
	k8s_wait 20 stats >/dev/null
}
proxy_start "$pki" || t_abort "fault-proxy answers" "$(tail -n 5 "$tmp/proxy.log")"

# ---------------------------------------------------------------- the controller, through it
flt_sa_identity approver || t_abort "ServiceAccount approver with its rights"
flt_sa_token approver tok >"$tmp/token" || t_abort "a token for approver"
# The API server's CA from a file, as in a pod (its ServiceAccount's ca.crt).
cp "$CSR_APPROVER_CA_CERT" "$tmp/api-ca.crt"
flt_token_kubeconfig "https://127.0.0.1:$pport" "$tmp/token" "$tmp/sa.kubeconfig" "$tmp/api-ca.crt"
mport=$(t_port "$pport" "$cport")
ctl_start main --kubeconfig "$tmp/sa.kubeconfig" --config "$tmp/policy.yaml" \
	--health-probe-bind-address 0 --metrics-bind-address "127.0.0.1:$mport" ||
	t_abort "controller starts through the proxy" "$(tail -n 20 "$(ctl_log main)")"
pid=${CTL_PID[main]}
ctl_burst warm 6
ctl_check warm 6 60 "$(ctl_log main)"

# ---------------------------------------------------------------- 1. a 16 MiB watch line
# shellcheck disable=SC2317 # called through k8s_wait
streaming() { (($(stat_of csr_watch_streams) >= 1)); }
k8s_wait 20 streaming || t_fail "the CSR watch goes through the proxy" "$(stats)"
rss_before=$(flt_rss "$pid")
relists_before=$(grep -c '"msg":"watch restarting".*"next":"list"' "$(ctl_log main)")
n=$(curl -fsS -X POST "http://127.0.0.1:$cport/inject-line?bytes=$LINE")
t_check "a $LINE-byte line injected into the CSR watch stream" test "${n:-0}" -ge 1
if ctl_wait_log main '"msg":"watch restarting".*"reason":"watch event longer than 16777216 bytes".*"next":"list"' 30; then
	t_ok "the line is refused with an error naming the limit, and the watch relists"
else
	t_fail "the line is refused with an error naming the limit, and the watch relists" \
		"$(grep -E 'watch' "$(ctl_log main)" | tail -n 5)"
fi
ctl_burst line 9
ctl_check line 9 60 "$(ctl_log main)"
relists_after=$(grep -c '"msg":"watch restarting".*"next":"list"' "$(ctl_log main)")
t_check "the CSR watch relisted once for the line" test "$relists_after" -eq $((relists_before + 1))
rss_after=$(flt_rss "$pid")
hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status")
echo "# RSS before the line ${rss_before} KiB, after ${rss_after} KiB, peak ${hwm} KiB"
t_check "the line's memory is not kept (RSS +$((rss_after - rss_before)) KiB, under half the line)" \
	test $((rss_after - rss_before)) -lt $((LINE / 2048))
t_check "the controller still runs" ctl_running main

# ---------------------------------------------------------------- 2. 500s for a while
before=$(stat_of error_answers)
curl -fsS -X POST "http://127.0.0.1:$cport/errors?code=500&seconds=$ERROR_S" >/dev/null ||
	t_fail "fault-proxy answers 500 for ${ERROR_S} s"
ctl_burst e500 6
# shellcheck disable=SC2317 # called through k8s_wait
failed_writes() { grep -c '"msg":"approval write failed; will retry".*"code":"500"' "$(ctl_log main)"; }
k8s_wait 20 bash -c "(( \$(grep -c '\"msg\":\"approval write failed; will retry\".*\"code\":\"500\"' '$(ctl_log main)') >= 1 ))" ||
	t_fail "approval writes meet the 500s" "$(tail -n 5 "$(ctl_log main)")"
ctl_check e500 6 60 "$(ctl_log main)"
errors=$(($(stat_of error_answers) - before))
fw=$(failed_writes)
echo "# during ${ERROR_S} s of 500s: $errors requests answered 500, $fw approval writes failed"
t_check "500s: retried with backoff, not in a loop (${fw} failed writes for 6 CSRs in ${ERROR_S} s)" \
	test "$fw" -le $((6 * 9))
t_check "500s are counted in csr_approver_api_requests_total" \
	bash -c "curl -fsS http://127.0.0.1:$mport/metrics | grep -qE '^csr_approver_api_requests_total\{verb=\"PUT\",resource=\"certificatesigningrequests/approval\",code=\"500\"\} [1-9]'"
t_check "the controller still runs" ctl_running main

# ---------------------------------------------------------------- 3. the API server's CA rotated
pki2=$tmp/proxy-pki-2
{ pki_ca "$pki2" && pki_serving_cert "$pki2" proxy fault-proxy "IP:127.0.0.1"; } ||
	t_abort "a new CA and a serving certificate of it"
rm -f "$pki2/ca.key"
log=$(ctl_log main)
refused_before=$(grep -cE 'SSL certificate problem|certificate verify' "$log")
proxy_stop
proxy_start "$pki2" || t_abort "fault-proxy answers with the new CA's certificate" "$(tail -n 5 "$tmp/proxy.log")"
ctl_burst rot 6
# shellcheck disable=SC2317 # called through k8s_wait
refused() { (($(grep -cE 'SSL certificate problem|certificate verify' "$log") > refused_before)); }
if k8s_wait 30 refused; then
	t_ok "a certificate of a CA not in the CA file is refused"
else
	t_fail "a certificate of a CA not in the CA file is refused" "$(tail -n 5 "$log")"
fi
t_eq "nothing decided while the API server's certificate is not trusted" "" \
	"$(for i in 1 2 3 4 5 6; do ctl_conditions "$IT_RUN-rot-$i"; done | tr -d '\n')"
t_eq "the CA file is not reloaded while it is unchanged" 0 \
	"$(grep -c '"msg":"CA bundle changed on disk; reloaded it"' "$log")"
cp "$pki2/ca.crt" "$tmp/api-ca.crt.new" && mv "$tmp/api-ca.crt.new" "$tmp/api-ca.crt"
if ctl_wait_log main '"msg":"CA bundle changed on disk; reloaded it"' 60; then
	t_ok "the CA file, replaced by the new CA, is reloaded"
else
	t_fail "the CA file, replaced by the new CA, is reloaded" "$(tail -n 5 "$log")"
fi
ctl_check rot 6 90 "$log"
t_check "the controller still runs" ctl_running main

ctl_stop main
t_eq "SIGTERM exits 0" 0 "$?"
t_eq "no sanitizer report" "" "$(ctl_sanitizer_report main)"

# ---------------------------------------------------------------- 4. a lease renewal answered late
# Two instances with leader election (lease 6 s, renew deadline 4 s, retry
# period 1 s): la through the proxy, lb straight to the API server, same
# ServiceAccount. The proxy forwards la's next renewal at once (the API
# server records it) and holds its answer 1.5 s; la is frozen (SIGSTOP)
# while the answer waits, lb takes the lease over, and la is thawed: the
# first thing it reads is the 200 of a renewal it started long before. The
# term counts from when the write started, so la finds it past its renew
# deadline and exits 1; counted from when the answer was read, la would
# lead again beside lb until its next renewal failed.
LEASE=csr-approver-late
flt_token_kubeconfig "$CSR_APPROVER_APISERVER" "$tmp/token" "$tmp/direct.kubeconfig" \
	"$CSR_APPROVER_CA_CERT"
flt_leader_start la "$tmp/sa.kubeconfig" "$LEASE" || t_abort "instance la starts" "$(tail -n 10 "$(ctl_log la)")"
ctl_wait_log la 'became leader' 20 || t_abort "instance la leads" "$(tail -n 10 "$(ctl_log la)")"
flt_leader_start lb "$tmp/direct.kubeconfig" "$LEASE" || t_abort "instance lb starts" "$(tail -n 10 "$(ctl_log lb)")"
ctl_wait_log lb "\"msg\":\"lease holder\".*\"holder\":\"it-la\"" 15 ||
	t_abort "instance lb stands by" "$(tail -n 10 "$(ctl_log lb)")"
curl -fsS -X POST "http://127.0.0.1:$cport/hold-lease-answer?seconds=1.5" >/dev/null ||
	t_abort "fault-proxy holds the next Lease answer"
held=$(curl -fsS --max-time 40 "http://127.0.0.1:$cport/held")
ctl_signal la STOP
t_eq "la's renewal reached the API server; its answer is held" held "$held"
if ctl_wait_log lb 'became leader' 20; then
	t_ok "lb took the lease over from the frozen la"
else
	t_fail "lb took the lease over from the frozen la" "$(tail -n 5 "$(ctl_log lb)")"
fi
# Past the held 1.5 s: the 200 waits in la's socket.
k8s_wait 10 grep -q 'passed the held answer on' "$tmp/proxy.log" ||
	t_fail "the proxy passed the held answer on" "$(tail -n 5 "$tmp/proxy.log")"
ctl_signal la CONT
ctl_wait_exit la 15
t_eq "la, thawed, reads the late 200 and exits 1 (renew deadline passed)" 1 "$?"
t_check "la logs the lease lost" grep -q '"msg":"lost the lease: no renewal within the renew deadline"' \
	"$(ctl_log la)"
# Counted from the answer, la would have led again until its next renewal
# met lb's record, and said so.
t_eq "la never led again after the thaw (no \"no longer leading\" line)" 0 \
	"$(grep -c '"msg":"the lease names another holder: no longer leading"' "$(ctl_log la)")"
t_eq "the Lease names lb" "it-lb" \
	"$(kubectl get lease "$LEASE" -n "$IT_NS" -o jsonpath='{.spec.holderIdentity}')"
ctl_stop lb
t_eq "lb: SIGTERM exits 0" 0 "$?"
t_eq "no sanitizer report" "" "$(ctl_sanitizer_report la)$(ctl_sanitizer_report lb)"
t_done
