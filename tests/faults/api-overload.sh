#!/usr/bin/env bash
# The API server overloaded: real 429s with Retry-After from kube-apiserver's
# API Priority and Fairness, no proxy. A FlowSchema puts the controller's
# user, and a noisy neighbour's, in a PriorityLevelConfiguration with no
# seats of its own (nominalConcurrencyShares 0, nothing borrowed) that
# rejects rather than queues: one request of the level may run at a time
# and any other is answered 429 with Retry-After. The neighbour keeps that
# one seat taken with a LIST of about 15 MB of ConfigMaps that it reads at
# 1 KiB/s, so every request of the controller meets a 429 while the
# neighbour is there; then it goes and the FlowSchema is deleted.
# The controller must wait at least as long as Retry-After asks before it
# sends a request again (read from its debug log: no attempt ends before
# the wait asked for has passed), count the 429s in
# csr_approver_api_requests_total, and decide everything afterwards:
# nothing lost, nothing decided twice, nothing wrongly approved.
# (500s, which priority and fairness does not make, are in proxy.sh.)
# CSR_APPROVER_BIN chooses the binary.
set -uo pipefail

# shellcheck source=tests/faults/lib.bash
source "$(dirname "${BASH_SOURCE[0]}")/lib.bash"
flt_setup faults-overload

BIG_CONFIGMAPS=16 # of about 0.9 MiB: more than loopback's socket buffers hold
HOLD_S=8          # how long the overload lasts once the controller meets it

ctl_kc=$(ctl_identity "$IT_RUN-approver" "$W")
noisy=$IT_RUN-noisy
k8s_client_kubeconfig "$tmp/noisy.kubeconfig" "$noisy" >/dev/null || t_abort "the neighbour's identity"
if ! kubectl create role big-reader -n "$IT_NS" --verb=list --resource=configmaps >/dev/null ||
	! kubectl create rolebinding big-reader -n "$IT_NS" --role=big-reader --user="$noisy" >/dev/null; then
	t_abort "the neighbour may list ConfigMaps"
fi
head -c 700000 /dev/urandom | base64 -w0 >"$tmp/blob"
for ((i = 1; i <= BIG_CONFIGMAPS; i++)); do
	kubectl create configmap "big-$i" -n "$IT_NS" --from-file=blob="$tmp/blob" >/dev/null ||
		t_abort "ConfigMap big-$i"
done
rm -f "$tmp/blob"
# The neighbour's client certificate, for curl.
jq_kc() { kubectl config view --kubeconfig "$tmp/noisy.kubeconfig" --raw -o jsonpath="$1" | base64 -d; }
jq_kc '{.users[0].user.client-certificate-data}' >"$tmp/noisy.crt"
(umask 077 && jq_kc '{.users[0].user.client-key-data}' >"$tmp/noisy.key")
as_noisy() { # CURL_ARGS...
	curl -sS --cacert "$CSR_APPROVER_CA_CERT" --cert "$tmp/noisy.crt" --key "$tmp/noisy.key" "$@"
}

mport=$(t_port)
ctl_start main --kubeconfig "$ctl_kc" --config "$tmp/policy.yaml" --health-probe-bind-address 0 \
	--metrics-bind-address "127.0.0.1:$mport" -v debug ||
	t_abort "controller starts" "$(tail -n 20 "$(ctl_log main)")"
ctl_burst calm 3
ctl_check calm 3 60 "$(ctl_log main)"

# ---------------------------------------------------------------- overload
# shellcheck disable=SC2317 # run at exit
unstarve() {
	kubectl delete flowschema "$IT_RUN-starve" --ignore-not-found
	kubectl delete prioritylevelconfiguration "$IT_RUN-starve" --ignore-not-found
}
t_on_exit unstarve
kubectl apply -f - >/dev/null <<EOF || t_abort "FlowSchema and PriorityLevelConfiguration"
apiVersion: flowcontrol.apiserver.k8s.io/v1
kind: PriorityLevelConfiguration
metadata: {name: "$IT_RUN-starve"}
spec:
  type: Limited
  limited:
    nominalConcurrencyShares: 0
    lendablePercent: 0
    borrowingLimitPercent: 0
    limitResponse: {type: Reject}
---
apiVersion: flowcontrol.apiserver.k8s.io/v1
kind: FlowSchema
metadata: {name: "$IT_RUN-starve"}
spec:
  priorityLevelConfiguration: {name: "$IT_RUN-starve"}
  matchingPrecedence: 200
  distinguisherMethod: {type: ByUser}
  rules:
  - subjects:
    - {kind: User, user: {name: "$IT_RUN-approver"}}
    - {kind: User, user: {name: "$noisy"}}
    resourceRules:
    - {verbs: ["*"], apiGroups: ["*"], resources: ["*"], clusterScope: true, namespaces: ["*"]}
    nonResourceRules:
    - {verbs: ["*"], nonResourceURLs: ["*"]}
EOF
# Priority and fairness takes a new FlowSchema in asynchronously: until the
# neighbour's requests carry its uid, a holder started now could take a seat
# of another level and leave this one free.
fs_uid=$(kubectl get flowschema "$IT_RUN-starve" -o jsonpath='{.metadata.uid}')
# shellcheck disable=SC2317 # called through k8s_wait
classified() {
	as_noisy -o /dev/null -D - "$CSR_APPROVER_APISERVER/api/v1/namespaces/$IT_NS/configmaps?limit=1" |
		grep -qi "^x-kubernetes-pf-flowschema-uid: $fs_uid"
}
k8s_wait 30 classified || t_abort "kube-apiserver takes the FlowSchema in" "uid $fs_uid"
holder=
# shellcheck disable=SC2317 # run at exit
unhold() { [[ -n $holder ]] && kill "$holder" 2>/dev/null; }
t_on_exit unhold
# The holder's own LIST may be turned away while the controller's request
# has the one seat (a lease renewal, say): then it is started again.
# shellcheck disable=SC2317 # called through k8s_wait
rejected() {
	if [[ -z $holder ]] || ! kill -0 "$holder" 2>/dev/null; then
		# curl itself, not as_noisy: $! must be the process to kill.
		curl -sS --cacert "$CSR_APPROVER_CA_CERT" --cert "$tmp/noisy.crt" --key "$tmp/noisy.key" \
			--http1.1 --limit-rate 1k -o /dev/null \
			"$CSR_APPROVER_APISERVER/api/v1/namespaces/$IT_NS/configmaps" 2>/dev/null &
		holder=$!
	fi
	[[ $(as_noisy -o /dev/null -w '%{http_code}' "$CSR_APPROVER_APISERVER/api/v1/namespaces/$IT_NS/configmaps?limit=1") == 429 ]]
}
if k8s_wait 30 rejected; then
	t_ok "the priority level is full: kube-apiserver answers 429"
else
	t_fail "the priority level is full: kube-apiserver answers 429" \
		"$(as_noisy -i "$CSR_APPROVER_APISERVER/api/v1/namespaces/$IT_NS/configmaps?limit=1" | head -n 12)"
fi
t_check "its 429 carries Retry-After" bash -c \
	"curl -sS -i --cacert '$CSR_APPROVER_CA_CERT' --cert '$tmp/noisy.crt' --key '$tmp/noisy.key' \
	'$CSR_APPROVER_APISERVER/api/v1/namespaces/$IT_NS/configmaps?limit=1' | grep -qi '^retry-after: [0-9]'"

ctl_burst busy 6 &
burst_pid=$!
if ctl_wait_log main '"msg":"API server asked to retry later; waiting as asked".*"code":"429"' 30; then
	t_ok "the controller meets the 429s and waits as asked"
else
	t_fail "the controller meets the 429s and waits as asked" "$(tail -n 5 "$(ctl_log main)")"
fi
# The overload itself: its length is the point, not a wait for something.
sleep "$HOLD_S"
unhold
wait "$holder" 2>/dev/null
unstarve >/dev/null 2>&1
wait "$burst_pid"
ctl_check busy 6 90 "$(ctl_log main)"

# Every "retry later" line of an approval write, and the end of the next
# attempt at the same path: one write per CSR is in flight at a time, so
# that is the same request's (reads of one pod may run side by side).
waits=$(jq -Rn '
	def ms: (.ts | capture("^(?<s>[^.]+)\\.(?<f>[0-9]{3})")) as $m
		| (($m.s + "Z") | fromdateiso8601) * 1000 + ($m.f | tonumber);
	[inputs | fromjson? | select(type == "object")
		| select(.msg == "api request" or (.msg | startswith("API server asked to retry later")))
		| select(.path | endswith("/approval"))] as $l
	| [range(0; $l | length) as $i | $l[$i] | select(.msg != "api request") | . as $r
		| ([$l[$i + 1:][] | select(.msg == "api request" and .path == $r.path)][0]) as $n
		| select($n != null)
		| {path, want: (.retry_after_ms | tonumber), waited: (($n | ms) - ($r | ms))}]' \
	<"$(ctl_log main)")
count=$(jq length <<<"$waits")
echo "# $count approval writes retried after a 429; waited (ms) vs asked: $(jq -c '[.[] | [.waited, .want]] | .[:6]' <<<"$waits")"
t_check "approval writes met 429s and were retried ($count retries)" test "$count" -ge 1
t_eq "no retry came before Retry-After had passed" "[]" \
	"$(jq -c '[.[] | select(.waited + 2 < .want)]' <<<"$waits")"
t_check "the 429s are counted in csr_approver_api_requests_total" \
	bash -c "curl -fsS http://127.0.0.1:$mport/metrics | grep -qE '^csr_approver_api_requests_total\{.*code=\"429\"\} [1-9]'"
t_check "the controller still runs" ctl_running main
ctl_stop main
t_eq "SIGTERM exits 0" 0 "$?"
t_eq "no sanitizer report" "" "$(ctl_sanitizer_report main)"
t_done
