# shellcheck shell=bash
# Helpers for the suites that run `csr-approver run` against the loopback
# cluster (tests/integration/controller*.sh, leader.sh), on top of lib.sh
# (sourced here).
#
#   ctl_setup SUITE                it_setup SUITE, and: every controller started
#                                  is stopped at exit, before the namespace
#                                  goes; the suite ends at once when the binary
#                                  is not built
#   ctl_bin                        the binary: $CSR_APPROVER_BIN, else build/csr-approver
#   ctl_test_bin                   the test binary, with the fault-making flags
#                                  (--write-delay, --identity-event-delay):
#                                  $CSR_APPROVER_TEST_BIN, else build/csr-approver-test;
#                                  ctl_start picks it when ARGS hold one of them
#   ctl_identity USER SIGNER...    a client-certificate kubeconfig for USER with
#                                  the least privilege csr-approver needs for
#                                  those signers (ClusterRole + binding labelled
#                                  $IT_LABEL; a Role for Leases in $IT_NS);
#                                  prints the kubeconfig's path
#   ctl_signing_rbac USER BUNDLE SIGNER...
#                                  what an issuing policy adds for USER (as the
#                                  chart does): update on CSR status, sign and
#                                  attest on those signers, create on
#                                  ClusterTrustBundles and get/update on BUNDLE
#   ctl_start NAME ARGS...         start `csr-approver run ARGS` in the background,
#                                  log in $T_TMP/NAME.log, pid in CTL_PID[NAME];
#                                  waits for "caches synced" (CTL_START_WAIT_SYNC=0
#                                  to not wait); CTL_WRAP, when set, is a command
#                                  line put in front (e.g. valgrind and its flags)
#   ctl_signal NAME SIG            send a signal
#   ctl_wait_exit NAME [TIMEOUT_S] wait for it to end by itself (default 20 s);
#                                  returns its exit status, 124 when it still runs
#   ctl_stop NAME [TIMEOUT_S]      SIGTERM and wait; returns the exit status
#                                  (124 when it did not stop: then SIGKILL)
#   ctl_running NAME               is it alive?
#   ctl_log NAME                   the log's path
#   ctl_sanitizer_report NAME...   prints sanitizer or leak reports from the logs
#   ctl_wait_log NAME REGEX [TIMEOUT_S]   wait for a log line
#   ctl_log_ms NAME REGEX [last]   the time stamp of the first (or last) log
#                                  line matching REGEX, in ms since the epoch
#                                  (empty when none): when the controller
#                                  wrote it, not when a suite read it
#   ctl_conditions CSR             every condition as TYPE:REASON, space separated
#   ctl_wait_decided CSR [TIMEOUT_S]      wait for a condition; prints TYPE:REASON
#   ctl_decided_lines CSR LOG...   number of "decided" log lines for CSR
#   ctl_workload_world NS IP DIR   a workload that asks for certificates: CSR
#                                  create rights for NS's ServiceAccounts,
#                                  ServiceAccount "web", Service "web", pod
#                                  "web-0" Running with IP and selected by it,
#                                  DIR/web.kubeconfig (a token bound to the pod),
#                                  DIR/good.csr (its SPIFFE ID, IP and service
#                                  name), DIR/bad.csr (a name of another
#                                  service), and DIR/policy.yaml: one workload
#                                  policy for signer $W in NS; sets $W,
#                                  $spiffe and $WUSAGES

# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

declare -gA CTL_PID=()

ctl_setup() { # SUITE
	it_setup "$1"
	t_on_exit ctl_stop_all
	local bin
	bin=$(ctl_bin)
	[[ -x $bin ]] || t_abort "csr-approver binary at $bin" "build it first (make)"
}

ctl_bin() {
	echo "${CSR_APPROVER_BIN:-$T_ROOT/build/csr-approver}"
}

ctl_test_bin() {
	echo "${CSR_APPROVER_TEST_BIN:-$T_ROOT/build/csr-approver-test}"
}

ctl_identity() { # USER SIGNER...
	local user=$1 out="$T_TMP/$1.kubeconfig" names="" s
	shift
	for s in "$@"; do
		names+="${names:+, }\"$s\""
	done
	k8s_client_kubeconfig "$out" "$user" >/dev/null || return 1
	kubectl apply -f - >/dev/null <<EOF || return 1
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: "$IT_RUN-$user", labels: {"$IT_LABEL_KEY": "$IT_RUN"}}
rules:
- apiGroups: [certificates.k8s.io]
  resources: [certificatesigningrequests]
  verbs: [get, list, watch]
- apiGroups: [certificates.k8s.io]
  resources: [certificatesigningrequests/approval]
  verbs: [update]
- apiGroups: [certificates.k8s.io]
  resources: [signers]
  resourceNames: [$names]
  verbs: [approve]
- apiGroups: [""]
  resources: [pods, services, nodes]
  verbs: [get, list, watch]
- apiGroups: [authorization.k8s.io]
  resources: [subjectaccessreviews]
  verbs: [create]
- apiGroups: [""]
  resources: [events]
  verbs: [create, patch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: "$IT_RUN-$user", labels: {"$IT_LABEL_KEY": "$IT_RUN"}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "$IT_RUN-$user"}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: "$user"}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: "$user-leases", namespace: "$IT_NS"}
rules:
- apiGroups: [coordination.k8s.io]
  resources: [leases]
  verbs: [get, create, update]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: "$user-leases", namespace: "$IT_NS"}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: "$user-leases"}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: "$user"}
EOF
	echo "$out"
}

ctl_signing_rbac() { # USER BUNDLE SIGNER...
	local user=$1 bundle=$2 names="" s
	shift 2
	for s in "$@"; do
		names+="${names:+, }\"$s\""
	done
	kubectl apply -f - >/dev/null <<EOF
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: "$IT_RUN-$user-signing", labels: {"$IT_LABEL_KEY": "$IT_RUN"}}
rules:
- {apiGroups: [certificates.k8s.io], resources: [certificatesigningrequests/status], verbs: [update]}
- {apiGroups: [certificates.k8s.io], resources: [signers], resourceNames: [$names], verbs: [sign, attest]}
- {apiGroups: [certificates.k8s.io], resources: [clustertrustbundles], verbs: [create]}
- {apiGroups: [certificates.k8s.io], resources: [clustertrustbundles], resourceNames: ["$bundle"], verbs: [get, update]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: "$IT_RUN-$user-signing", labels: {"$IT_LABEL_KEY": "$IT_RUN"}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "$IT_RUN-$user-signing"}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: "$user"}
EOF
}

ctl_log() { echo "$T_TMP/$1.log"; }

ctl_running() {
	local pid=${CTL_PID[$1]:-}
	[[ -n $pid ]] && kill -0 "$pid" 2>/dev/null
}

ctl_wait_log() { # NAME REGEX [TIMEOUT_S]
	local log deadline=$((SECONDS + ${3:-30}))
	log=$(ctl_log "$1")
	until grep -qE "$2" "$log" 2>/dev/null; do
		((SECONDS < deadline)) || return 1
		ctl_running "$1" || return 1
		sleep 0.2
	done
}

ctl_log_ms() { # NAME REGEX [last]
	local ts
	ts=$(grep -E "$2" "$(ctl_log "$1")" 2>/dev/null | if [[ ${3:-} == last ]]; then tail -n 1; else head -n 1; fi |
		sed -n 's/^{"ts":"\([^"]*\)".*/\1/p')
	[[ -n $ts ]] && date -d "$ts" +%s%3N
}

ctl_start() { # NAME ARGS...
	local name=$1 log before deadline=$((SECONDS + ${CTL_START_TIMEOUT:-60})) bin a
	shift
	bin=$(ctl_bin)
	for a in "$@"; do
		case $a in --write-delay* | --identity-event-delay*) bin=$(ctl_test_bin) ;; esac
	done
	log=$(ctl_log "$name")
	echo "=== start $(date -u +%H:%M:%S) $*" >>"$log"
	before=$(wc -l <"$log")
	# shellcheck disable=SC2086 # CTL_WRAP is a command line, split on purpose
	${CTL_WRAP:-} "$bin" run "$@" >>"$log" 2>&1 &
	CTL_PID[$name]=$!
	[[ ${CTL_START_WAIT_SYNC:-1} == 1 ]] || return 0
	until tail -n "+$((before + 1))" "$log" | grep -q 'caches synced'; do
		if ! ctl_running "$name"; then
			echo "# $name exited during start; log:" >&2
			tail -n 20 "$log" | sed 's/^/#   /' >&2
			return 1
		fi
		((SECONDS < deadline)) || return 1
		sleep 0.1
	done
}

ctl_signal() { # NAME SIG
	local pid=${CTL_PID[$1]:-}
	[[ -n $pid ]] && kill "-$2" "$pid" 2>/dev/null
}

ctl_wait_exit() { # NAME [TIMEOUT_S]
	local name=$1 pid=${CTL_PID[$1]:-} rc i
	[[ -n $pid ]] || return 0
	for ((i = 0; i < ${2:-20} * 10; i++)); do
		kill -0 "$pid" || break
		sleep 0.1
	done
	kill -0 "$pid" && return 124
	wait "$pid"
	rc=$?
	unset "CTL_PID[$name]"
	return $rc
} 2>/dev/null

ctl_stop() { # NAME [TIMEOUT_S]
	local pid=${CTL_PID[$1]:-} rc
	[[ -n $pid ]] || return 0
	kill -TERM "$pid" 2>/dev/null || true
	ctl_wait_exit "$1" "${2:-20}"
	rc=$?
	if ((rc == 124)); then
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null
		unset "CTL_PID[$1]"
	fi
	return $rc
}

# Stop every controller this suite started (at exit).
ctl_stop_all() {
	local n
	for n in "${!CTL_PID[@]}"; do
		ctl_stop "$n" 5 || true
	done
}

ctl_sanitizer_report() { # NAME...
	local n
	for n in "$@"; do
		grep -E -A30 'ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:' \
			"$(ctl_log "$n")" 2>/dev/null | head -n 60
	done
}

ctl_conditions() { # CSR
	kubectl get csr "$1" -o jsonpath='{range .status.conditions[*]}{.type}:{.reason} {end}' 2>/dev/null |
		sed 's/ $//'
}

ctl_wait_decided() { # CSR [TIMEOUT_S]
	local c deadline=$((SECONDS + ${2:-30}))
	while :; do
		c=$(ctl_conditions "$1")
		if [[ $c == *Approved:* || $c == *Denied:* ]]; then
			# Approved is followed by the signer's certificate; report the decision.
			local d
			for d in $c; do
				case $d in Approved:* | Denied:*)
					echo "$d"
					return 0
					;;
				esac
			done
		fi
		((SECONDS < deadline)) || {
			echo "${c:-pending}"
			return 1
		}
		sleep 0.2
	done
}

ctl_decided_lines() { # CSR LOG...
	local csr=$1
	shift
	cat "$@" 2>/dev/null | grep -E '"msg":"decided"|msg=decided' | grep -cE "\"csr\":\"$csr\"|csr=$csr( |$)" || true
}

ctl_workload_world() { # NS IP DIR
	local ns=$1 ip=$2 dir=$3
	k8s_allow_csr_create "$IT_RUN-csr-create" "$IT_LABEL_KEY=$IT_RUN" \
		"group:system:serviceaccounts:$ns" || return 1
	k8s_sa_create "$ns" web || return 1
	kubectl create service clusterip web -n "$ns" --tcp=443 >/dev/null || return 1
	k8s_pod_run "$ns" web-0 "$ip" -s web -l app=web >/dev/null || return 1
	k8s_token_kubeconfig "$(k8s_token "$ns" web web-0 2h)" "$dir/web.kubeconfig" || return 1
	# shellcheck disable=SC2034 # for the suites
	spiffe="spiffe://cluster.local/ns/$ns/sa/web"
	# shellcheck disable=SC2034
	WUSAGES="digital signature,key encipherment,client auth,server auth"
	W=$IT_RUN.example.com/workload
	cat >"$dir/policy.yaml" <<EOF || return 1
policies:
  - name: workload
    signerName: $W
    type: workload
    namespaces: ["$ns"]
EOF
	k8s_gen_csr "$dir/good.key" "$dir/good.csr" "/CN=web.$ns.svc" \
		"URI:$spiffe,IP:$ip,DNS:web.$ns.svc" &&
		k8s_gen_csr "$dir/bad.key" "$dir/bad.csr" "/CN=web.$ns.svc" \
			"URI:$spiffe,DNS:web.$ns.svc,DNS:db.$ns.svc"
}

# ctl_make_csr NAME good|bad: create $tmp/good.csr or $tmp/bad.csr as
# IT_RUN-NAME (signer $W, usages $WUSAGES), retrying while the apiserver is
# away; a create whose answer was lost shows up as AlreadyExists, which is
# fine.
ctl_make_csr() {
	local name=$IT_RUN-$1 file=$tmp/$2.csr deadline=$((SECONDS + 90)) out
	while ((SECONDS < deadline)); do
		if out=$(it_as "$tmp/web.kubeconfig" k8s_csr_create "$name" "$W" "$file" "$WUSAGES" 3600 \
			"$IT_LABEL" 2>&1); then
			return 0
		fi
		[[ $out == *AlreadyExists* || $out == *"already exists"* ]] && return 0
		sleep 0.3
	done
	echo "ctl_make_csr $name: gave up: $out" >&2
	return 1
}

# ctl_burst PREFIX N: create PREFIX-1..N, every third one bad; one line per CSR
# "NAME WANT" in $tmp/PREFIX.want.
ctl_burst() {
	local prefix=$1 n=$2 i kind
	: >"$tmp/$prefix.want"
	for ((i = 1; i <= n; i++)); do
		if ((i % 3 == 0)); then kind=bad; else kind=good; fi
		ctl_make_csr "$prefix-$i" "$kind" || continue
		if [[ $kind == good ]]; then
			echo "$IT_RUN-$prefix-$i Approved:AutoApproved" >>"$tmp/$prefix.want"
		else
			echo "$IT_RUN-$prefix-$i Denied:SANNotAllowed" >>"$tmp/$prefix.want"
		fi
	done
}

# ctl_check PREFIX N TIMEOUT_S LOG...: the end of a burst of ctl_burst:
# nothing lost (all N made, all decided), nothing decided twice (exactly one
# Approved/Denied condition and one "decided" line in LOG...), nothing
# wrongly approved (each as the policy says; none meant to be denied
# approved).
ctl_check() { # PREFIX N TIMEOUT_S LOG...
	local prefix=$1 n=$2 timeout=$3 name want got bad="" twice="" wrong="" count c a l
	shift 3
	count=$(grep -c . "$tmp/$prefix.want")
	t_eq "$prefix: nothing lost: all $n CSRs created" "$n" "$count"
	local deadline=$((SECONDS + timeout))
	while read -r name want; do
		local left=$((deadline - SECONDS))
		((left < 1)) && left=1
		got=$(ctl_wait_decided "$name" "$left")
		[[ $got == "$want" ]] || bad+="$name: want $want, got $got; "
		c=$(kubectl get csr "$name" -o jsonpath='{range .status.conditions[*]}{.type}{"\n"}{end}')
		a=$(grep -c '^Approved$' <<<"$c")
		c=$(grep -cE '^(Approved|Denied)$' <<<"$c")
		l=$(ctl_decided_lines "$name" "$@")
		((c == 1 && l == 1)) || twice+="$name: $c conditions, $l log lines; "
		[[ $want == Denied:* ]] && ((a > 0)) && wrong+="$name; "
	done <"$tmp/$prefix.want"
	t_eq "$prefix: nothing lost: every CSR decided as the policy says" "" "$bad"
	t_eq "$prefix: nothing decided twice (one condition, one log line)" "" "$twice"
	t_eq "$prefix: nothing wrongly approved" "" "$wrong"
}
