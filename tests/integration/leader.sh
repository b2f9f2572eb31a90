#!/usr/bin/env bash
# Leader election with two csr-approver instances against one API server
# (short durations: lease 6s, renew deadline 4s, retry period 1s):
#   - exactly one leads (the Lease names it) and decides; the standby
#     decides nothing;
#   - kill -9 the leader: the standby takes over within the lease duration
#     (plus the retry period client-go's jitter allows) and decides what
#     came meanwhile;
#   - SIGTERM the leader: it releases the Lease and the standby takes over
#     at once;
#   - a leader paused past its renew deadline exits 1 on waking, having
#     decided nothing more;
#   - a leader that reads another holder in the Lease stops deciding at
#     once, and exits 1 at its renew deadline;
#   - no CSR gets two decisions (conditions and log lines).
# CSR_APPROVER_BIN chooses the binary.
set -uo pipefail

# shellcheck source=tests/integration/controller-lib.bash
source "$(dirname "${BASH_SOURCE[0]}")/controller-lib.bash"
ctl_setup leader

A=$IT_NS
tmp=$T_TMP
LEASE="csr-approver"
LEASE_S=6
RENEW_S=4
RETRY_S=1

ctl_workload_world "$A" 10.244.4.10 "$tmp"
ctl_kc=$(ctl_identity "$IT_RUN-approver" "$W")

declare -A port=()
# inst NAME [FLAG...]: start an instance with leader election (LEASE_S, RENEW_S)
inst() {
	port[$1]=$(t_port)
	ctl_start "$@" --kubeconfig "$ctl_kc" --config "$tmp/policy.yaml" --leader-elect \
		--leader-elect-namespace "$A" --leader-elect-resource-name "$LEASE" \
		--leader-elect-lease-duration "${LEASE_S}s" --leader-elect-renew-deadline "${RENEW_S}s" \
		--leader-elect-retry-period "${RETRY_S}s" --identity "it-$1" \
		--metrics-bind-address "127.0.0.1:${port[$1]}" --health-probe-bind-address 0
}
holder() {
	kubectl get lease "$LEASE" -n "$A" -o jsonpath='{.spec.holderIdentity}' 2>/dev/null
}
# stands_by NAME LEADER: NAME has read the Lease and found LEADER holding it
# (its log says so), so it may not take it for a lease duration; then it
# must not have led.
stands_by() {
	local desc="$1 stands by while $2 leads"
	if ctl_wait_log "$1" "\"msg\":\"lease holder\".*\"holder\":\"it-$2\"" 15; then
		t_eq "$desc" 0 "$(grep -c 'became leader' "$(ctl_log "$1")")"
	else
		t_fail "$desc" "it never read the Lease naming it-$2: $(tail -n 5 "$(ctl_log "$1")")"
	fi
}
# took_over DESC NAME T0_MS TIMEOUT_S LIMIT_MS: NAME becomes the leader within
# TIMEOUT_S, and LIMIT_MS after T0_MS at most: by the time its "became
# leader" line bears, not by when this script, busy creating CSRs
# meanwhile, reads it.
took_over() {
	local took ms
	if ctl_wait_log "$2" 'became leader' "$4"; then
		ms=$(ctl_log_ms "$2" 'became leader')
		if [[ -z $ms ]]; then
			t_fail "$1 in time" "no time stamp in its \"became leader\" line"
			return
		fi
		took=$((ms - $3))
		if ((took <= $5)); then
			t_ok "$1 in ${took} ms"
		else
			t_fail "$1 in time" "${took} ms > $5 ms"
		fi
	else
		t_fail "$1" "$(tail -n 5 "$(ctl_log "$2")")"
	fi
}
# CSRs of its signers an instance holds undecided (cache_objects), from its /metrics
csrs_held() { # NAME
	curl -fsS "http://127.0.0.1:${port[$1]}/metrics" 2>/dev/null |
		sed -n 's/^csr_approver_cache_objects{resource="certificatesigningrequests"} \([0-9]*\).*/\1/p'
}
is_leader_metric() { # NAME
	curl -fsS "http://127.0.0.1:${port[$1]}/metrics" 2>/dev/null |
		sed -n 's/^csr_approver_is_leader \([0-9]*\).*/\1/p'
}
# csrs PREFIX N: N CSRs, every third bad; "NAME WANT" lines to $tmp/all.want
csrs() {
	local i kind
	for ((i = 1; i <= $2; i++)); do
		if ((i % 3 == 0)); then kind=bad; else kind=good; fi
		it_as "$tmp/web.kubeconfig" k8s_csr_create "$IT_RUN-$1-$i" "$W" "$tmp/$kind.csr" \
			"$WUSAGES" 3600 "$IT_LABEL" || echo "# could not create $IT_RUN-$1-$i" >&2
		if [[ $kind == good ]]; then
			echo "$IT_RUN-$1-$i Approved:AutoApproved"
		else
			echo "$IT_RUN-$1-$i Denied:SANNotAllowed"
		fi >>"$tmp/all.want"
	done
}
# decided_by PREFIX NAME: every CSR of PREFIX decided, and by NAME's log
check_round() { # PREFIX NAME TIMEOUT
	local name want got bad="" who=""
	while read -r name want; do
		[[ $name == "$IT_RUN-$1-"* ]] || continue
		got=$(ctl_wait_decided "$name" "$3")
		[[ $got == "$want" ]] || bad+="$name: want $want, got $got; "
		[[ $(ctl_decided_lines "$name" "$(ctl_log "$2")") == 1 ]] || who+="$name; "
	done <"$tmp/all.want"
	t_eq "$1: every CSR decided as the policy says" "" "$bad"
	t_eq "$1: decided by $2" "" "$who"
}
: >"$tmp/all.want"

# ---------------------------------------------------------------- two instances
inst a || t_fail "instance a starts"
inst b || t_fail "instance b starts"
k8s_wait 20 bash -c "grep -q 'became leader' '$(ctl_log a)' || grep -q 'became leader' '$(ctl_log b)'"
if grep -q 'became leader' "$(ctl_log a)"; then L=a S=b; else L=b S=a; fi
stands_by "$S" "$L"
la=$(grep -c 'became leader' "$(ctl_log a)")
lb=$(grep -c 'became leader' "$(ctl_log b)")
if ((la + lb == 1)); then
	t_ok "exactly one instance leads"
else
	t_fail "exactly one instance leads" "a: $la, b: $lb"
fi
t_eq "the Lease names the leader" "it-$L" "$(holder)"
t_eq "is_leader is 1 on the leader" 1 "$(is_leader_metric "$L")"
t_eq "is_leader is 0 on the standby" 0 "$(is_leader_metric "$S")"
renew1=$(kubectl get lease "$LEASE" -n "$A" -o jsonpath='{.spec.renewTime}')
if [[ $renew1 =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z$ ]]; then
	t_ok "renewTime is a MicroTime with 6 fractional digits ($renew1)"
else
	t_fail "renewTime is a MicroTime with 6 fractional digits" "$renew1"
fi
# Renewals come every retry period (1 s).
# shellcheck disable=SC2317 # called through k8s_wait
renewed() {
	[[ $(kubectl get lease "$LEASE" -n "$A" -o jsonpath='{.spec.renewTime}') != "$renew1" ]]
}
k8s_wait 5 renewed
t_eq "the leader renews the Lease" 0 "$?"

csrs r1 9
check_round r1 "$L" 30
t_eq "r1: the standby decided nothing" 0 "$(grep -c '"msg":"decided"' "$(ctl_log "$S")")"

# ---------------------------------------------------------------- kill -9 the leader
ctl_signal "$L" KILL
t0=$(date +%s%3N)
ctl_wait_exit "$L" 5
csrs r2 6
took_over "kill -9 the leader (lease ${LEASE_S}s): the standby took over" "$S" "$t0" $((LEASE_S + 10)) \
	$((LEASE_S * 1000 + RETRY_S * 2200 + 1000))
t_eq "the Lease names the new leader" "it-$S" "$(holder)"
check_round r2 "$S" 30

# ---------------------------------------------------------------- SIGTERM the leader
inst "${L}2" || t_fail "instance ${L}2 starts (standby)"
stands_by "${L}2" "$S"
t0=$(date +%s%3N)
ctl_stop "$S"
rc=$?
t_eq "SIGTERM the leader: exits 0" 0 "$rc"
grep -q 'released the lease' "$(ctl_log "$S")"
t_eq "SIGTERM the leader: it released the Lease" 0 "$?"
took_over "SIGTERM the leader: the standby took over without waiting out the lease" "${L}2" "$t0" 10 \
	$((RETRY_S * 2200 + 1500))
csrs r3 6
check_round r3 "${L}2" 30

# ---------------------------------------------------------------- a leader that cannot renew
inst "${S}2" || t_fail "instance ${S}2 starts (standby)"
stands_by "${S}2" "${L}2"
ctl_signal "${L}2" STOP
if ctl_wait_log "${S}2" 'became leader' $((LEASE_S + 10)); then
	t_ok "a paused leader's lease is taken over"
else
	t_fail "a paused leader's lease is taken over" "$(tail -n 5 "$(ctl_log "${S}2")")"
fi
csrs r4 3
ctl_signal "${L}2" CONT
ctl_wait_exit "${L}2" 5
t_eq "the paused leader exits 1 on waking (renew deadline passed)" 1 "$?"
grep -q 'leadership lost' "$(ctl_log "${L}2")"
t_eq "the paused leader logs that it lost the lease" 0 "$?"
check_round r4 "${S}2" 30

# ---------------------------------------------------------------- once
twice=""
logs=()
for n in a b a2 b2; do
	[[ -f $(ctl_log "$n") ]] && logs+=("$(ctl_log "$n")")
done
while read -r name want; do
	c=$(kubectl get csr "$name" -o jsonpath='{range .status.conditions[*]}{.type}{"\n"}{end}' |
		grep -cE '^(Approved|Denied)$')
	l=$(ctl_decided_lines "$name" "${logs[@]}")
	((c == 1 && l == 1)) || twice+="$name: $c conditions, $l log lines; "
done <"$tmp/all.want"
t_eq "no CSR decided twice ($(wc -l <"$tmp/all.want") CSRs, 4 instances)" "" "$twice"
ctl_stop "${S}2"
t_eq "last leader: SIGTERM exits 0" 0 "$?"

# ---------------------------------------------------------------- another holder in the Lease
# The Lease rewritten under a live leader (as by an instance whose clock or
# lease duration differ): its next renewal conflicts, its GET shows the other
# holder, and it stops deciding at once rather than at its renew deadline
# (8 s here, for room to show it).
LEASE_S=12 RENEW_S=8 inst c || t_fail "instance c starts"
ctl_wait_log c 'became leader' 10 || t_fail "instance c leads" "$(tail -n 5 "$(ctl_log c)")"
t0=$(date +%s%3N)
kubectl patch lease "$LEASE" -n "$A" --type merge -p "{\"spec\":{\"holderIdentity\":\"it-intruder\",
	\"renewTime\":\"$(date -u +%Y-%m-%dT%H:%M:%S.%6NZ)\",\"leaseDurationSeconds\":12}}" >/dev/null ||
	t_fail "the Lease rewritten to name it-intruder"
if ctl_wait_log c '"msg":"the lease names another holder: no longer leading"' 10; then
	# By the line's time stamp, not by when this script reads it.
	ms=$(ctl_log_ms c '"msg":"the lease names another holder: no longer leading"')
	took=$((${ms:-$(date +%s%3N)} - t0))
	limit=$((RETRY_S * 1000 + 1500))
	if ((took <= limit)); then
		t_ok "another holder in the Lease: the leader stops leading after ${took} ms (renew deadline 8000 ms)"
	else
		t_fail "another holder in the Lease: the leader stops leading at once" "${took} ms > ${limit} ms"
	fi
else
	t_fail "another holder in the Lease: the leader stops leading" "$(tail -n 5 "$(ctl_log c)")"
fi
it_as "$tmp/web.kubeconfig" k8s_csr_create "$IT_RUN-after-intruder" "$W" "$tmp/good.csr" "$WUSAGES" 3600 \
	"$IT_LABEL" || t_fail "create CSR after-intruder"
# shellcheck disable=SC2317 # called through k8s_wait
held() { [[ $(csrs_held c) == 1 ]]; }
k8s_wait 5 held
t_eq "another holder in the Lease: a new CSR reaches the old leader, which holds it" 1 "$(csrs_held c)"
ctl_wait_exit c 10
t_eq "another holder in the Lease: exits 1 at the renew deadline" 1 "$?"
# c saw the CSR (above) and has exited; no other instance runs.
t_eq "another holder in the Lease: the CSR it held is not decided" "" \
	"$(ctl_conditions "$IT_RUN-after-intruder")"
t_eq "another holder in the Lease: no decision logged for it" 0 \
	"$(ctl_decided_lines "$IT_RUN-after-intruder" "$(ctl_log c)")"
# ---------------------------------------------------------------- a backlog behind one slot
# BACKLOG CSRs wait when d starts with one request slot
# (--api-max-requests-in-flight 1): it decides them all at once, and their
# writes queue behind one another for longer than the renew deadline. The
# lease's requests wait behind none of them: d renews all along, keeps the
# lease and writes every decision. Were a renewal to queue behind the
# writes, d would lose the lease within the first seconds of the backlog
# and exit 1.
BACKLOG=2000
req=$(base64 -w0 <"$tmp/good.csr")
usages=$(sed 's/\([^,]*\)/"\1"/g' <<<"$WUSAGES")
{
	echo '{"apiVersion":"v1","kind":"List","items":['
	for ((i = 1; i <= BACKLOG; i++)); do
		((i > 1)) && echo ','
		printf '{"apiVersion":"certificates.k8s.io/v1","kind":"CertificateSigningRequest","metadata":{"name":"%s-bl-%d","labels":{"%s":"%s"}},"spec":{"request":"%s","signerName":"%s","usages":[%s],"expirationSeconds":3600}}' \
			"$IT_RUN" "$i" "${IT_LABEL%%=*}" "${IT_LABEL#*=}" "$req" "$W" "$usages"
	done
	echo ']}'
} >"$tmp/backlog.json"
made=$(it_as "$tmp/web.kubeconfig" kubectl create -o name -f "$tmp/backlog.json" 2>"$tmp/backlog.err" | grep -c .)
t_eq "backlog: $BACKLOG CSRs created before the instance starts" "$BACKLOG" "$made"
inst d --api-max-requests-in-flight 1 || t_fail "instance d starts with one request slot"
# shellcheck disable=SC2317 # called through k8s_wait
bl_decided="\"msg\":\"decided\".*\"csr\":\"$IT_RUN-bl-"
all_decided() { (($(grep -c "$bl_decided" "$(ctl_log d)") >= BACKLOG)); }
k8s_wait 180 all_decided
n=$(grep -c "$bl_decided" "$(ctl_log d)")
t_eq "backlog: every CSR decided by d through one slot" "$BACKLOG" "$n"
t_eq "backlog: d kept the lease (no \"lost the lease\" line)" 0 \
	"$(grep -c '"msg":"lost the lease' "$(ctl_log d)")"
t_check "backlog: d still runs" ctl_running d
t_eq "backlog: the Lease names d" "it-d" "$(holder)"
echo "# figure: $BACKLOG decisions written through one slot in $(($(ctl_log_ms d "$bl_decided" last) - $(ctl_log_ms d "$bl_decided"))) ms (renew deadline ${RENEW_S}000 ms)"
ctl_stop d
t_eq "backlog: SIGTERM exits 0" 0 "$?"
kubectl delete csr -l "$IT_LABEL" --wait=false >/dev/null 2>&1

t_eq "no sanitizer report" "" "$(ctl_sanitizer_report a b a2 b2 c d)"

t_done
