# shellcheck shell=bash
# Shared by tests/integration/*.sh: a suite sources this file, calls
# it_setup, records checks with the harness of tests/lib/harness.sh (t_ok,
# t_fail, t_check, t_eq, t_done, t_on_exit, ...; see there) and ends with
# t_done.
#
#   it_setup SUITE        bring the loopback cluster up if it is not (t_cluster),
#                         make a unique namespace $IT_NS and run id $IT_RUN and
#                         the work folder $T_TMP; all of it is removed at exit
#   it_as KUBECONFIG CMD...  run CMD (a command or helper function) with that
#                         kubeconfig, e.g. it_as "$CSR_APPROVER_NODE_KUBECONFIG" k8s_csr_create ...
#   AGENT_PID[NAME]       pids of background `csr-approver bootstrap` runs a
#                         suite starts; wait_agent NAME [TIMEOUT_S] waits for
#                         one (its exit status, 124 when it did not end: then
#                         it is killed); all are killed at exit
#
# CSRs, ClusterRoles and ClusterRoleBindings are cluster-scoped: give them the
# label "$IT_LABEL" (k8s_csr_create takes LABEL=VALUE arguments) so they are
# deleted at exit too.

# shellcheck source=tests/lib/harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/harness.sh"

it_as() { # KUBECONFIG CMD...
	(
		export KUBECONFIG=$1
		shift
		"$@"
	)
}

# What it_setup made, removed at exit.
it_teardown() {
	kubectl delete csr,clusterrolebinding,clusterrole -l "$IT_LABEL_KEY=$IT_RUN" --wait=false
	# No kubelet confirms a pod's end here, so a graceful delete would
	# leave the namespace Terminating for ever: delete pods at once.
	kubectl delete pods --all -n "$IT_NS" --grace-period=0 --force --wait=false
	kubectl delete namespace "$IT_NS" --wait=false
}

it_setup() { # SUITE
	t_cluster
	IT_RUN=$1-$(date +%s)-$RANDOM
	IT_NS=it-$IT_RUN
	IT_LABEL_KEY="csr-approver.test/run"
	# shellcheck disable=SC2034 # used by the suites
	IT_LABEL="$IT_LABEL_KEY=$IT_RUN"
	t_tmp
	t_on_exit it_teardown
	t_on_exit agents_kill
	k8s_ns_create "$IT_NS" || t_abort "create namespace $IT_NS"
}

declare -gA AGENT_PID=()

wait_agent() { # NAME [TIMEOUT_S]
	local pid=${AGENT_PID[$1]} i rc
	for ((i = 0; i < ${2:-30} * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		unset "AGENT_PID[$1]"
		return 124
	fi
	wait "$pid"
	rc=$?
	unset "AGENT_PID[$1]"
	return $rc
}

# Kill every agent still running (at exit).
agents_kill() {
	local n
	for n in "${!AGENT_PID[@]}"; do
		kill -KILL "${AGENT_PID[$n]}" 2>/dev/null
	done
}
