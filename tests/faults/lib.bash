# shellcheck shell=bash
# Shared by tests/faults/*.sh, on top of tests/integration/controller-lib.bash
# (sourced here: ctl_setup, ctl_start, ctl_wait_decided, ...).
#
#   flt_setup SUITE         ctl_setup SUITE, the workload world of
#                           ctl_workload_world (signer $W, $tmp/good.csr and
#                           $tmp/bad.csr, $tmp/policy.yaml); at exit the control
#                           plane is thawed and brought up again if a fault
#                           left it stopped
#   ctl_burst PREFIX N      create PREFIX-1..N (every third one meant to be
#                           denied), retrying each while the API server is
#                           away; "NAME WANT" lines in $tmp/PREFIX.want. Run it
#                           in the background to make a fault mid-burst.
#   flt_wait_created PREFIX K [TIMEOUT_S]   wait until K of PREFIX exist
#   ctl_check PREFIX N TIMEOUT_S LOG...
#                           the end of every fault: nothing lost, nothing
#                           decided twice, nothing wrongly approved
#   flt_sa_identity SA      a ServiceAccount SA in $IT_NS with the rights
#                           csr-approver needs for $W (through ctl_identity, for
#                           the user system:serviceaccount:$IT_NS:SA)
#   flt_sa_token SA SECRET  a token of SA bound to Secret SECRET (made here):
#                           deleting the Secret revokes it
#   flt_token_kubeconfig SERVER TOKEN_FILE OUT [CA_FILE]
#                           a kubeconfig that reads its token from TOKEN_FILE,
#                           and the API server's CA from CA_FILE when given
#                           (else the cluster's CA, embedded)
#   flt_metric PORT NAME_AND_LABELS   the value of one sample on /metrics
#   flt_rss PID             resident memory in KiB (VmRSS)
#   flt_leader_start NAME KUBECONFIG LEASE
#                           ctl_start NAME with leader election on Lease
#                           LEASE in $IT_NS (lease 6 s, renew deadline 4 s,
#                           retry period 1 s), identity it-NAME, no ports

# shellcheck source=tests/integration/controller-lib.bash
source "$(dirname "${BASH_SOURCE[0]}")/../integration/controller-lib.bash"

# shellcheck disable=SC2317 # run at exit
flt_heal() {
	local c pid
	for c in etcd kube-apiserver; do
		pid=$(cat "$CSR_APPROVER_CLUSTER_DIR/pids/$c.pid" 2>/dev/null) || continue
		[[ $pid =~ ^[0-9]+$ ]] && kill -CONT "$pid" 2>/dev/null
	done
	"$T_ROOT/hack/cluster.sh" status || "$T_ROOT/hack/cluster.sh" up
}

flt_setup() { # SUITE
	ctl_setup "$1"
	t_on_exit flt_heal
	tmp=$T_TMP
	ctl_workload_world "$IT_NS" 10.244.7.10 "$tmp" || t_abort "the workload world is made"
}

flt_wait_created() { # PREFIX K [TIMEOUT_S]
	k8s_wait "${3:-60}" bash -c "(( \$(wc -l <'$tmp/$1.want' 2>/dev/null || echo 0) >= $2 ))"
}

flt_sa_identity() { # SA
	k8s_sa_create "$IT_NS" "$1" >/dev/null || return 1
	ctl_identity "system:serviceaccount:$IT_NS:$1" "$W" >/dev/null
}

flt_sa_token() { # SA SECRET
	local uid
	kubectl create secret generic "$2" -n "$IT_NS" --from-literal=purpose=token-binding >/dev/null ||
		return 1
	uid=$(k8s_uid secret "$2" "$IT_NS") || return 1
	kubectl create token "$1" -n "$IT_NS" --duration=1h \
		--bound-object-kind=Secret --bound-object-name="$2" --bound-object-uid="$uid"
}

flt_token_kubeconfig() { # SERVER TOKEN_FILE OUT [CA_FILE]
	local ca
	if [[ -n ${4:-} ]]; then
		ca="certificate-authority: $4"
	else
		ca="certificate-authority-data: $(base64 -w0 <"$CSR_APPROVER_CA_CERT")"
	fi
	(
		umask 077
		cat >"$3" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: csr-approver
  cluster:
    server: $1
    $ca
users:
- name: sa
  user:
    tokenFile: $2
contexts:
- name: sa@csr-approver
  context:
    cluster: csr-approver
    user: sa
current-context: sa@csr-approver
EOF
	)
}

flt_metric() { # PORT NAME_AND_LABELS
	curl -fsS "http://127.0.0.1:$1/metrics" 2>/dev/null |
		awk -v k="$2" 'index($0, k " ") == 1 { print $2; found = 1 } END { if (!found) print 0 }'
}

flt_rss() { # PID
	awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null
}

flt_leader_start() { # NAME KUBECONFIG LEASE
	ctl_start "$1" --kubeconfig "$2" --config "$tmp/policy.yaml" --leader-elect \
		--leader-elect-namespace "$IT_NS" --leader-elect-resource-name "$3" \
		--leader-elect-lease-duration 6s --leader-elect-renew-deadline 4s \
		--leader-elect-retry-period 1s --identity "it-$1" \
		--metrics-bind-address 0 --health-probe-bind-address 0
}
