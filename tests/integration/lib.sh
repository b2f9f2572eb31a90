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
	k8s_ns_create "$IT_NS" || t_abort "create namespace $IT_NS"
}
