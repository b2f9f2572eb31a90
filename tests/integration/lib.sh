# shellcheck shell=bash
# Shared harness for tests/integration/*.sh: a suite sources this file,
# calls it_setup, runs checks, and ends with it_done.
#
#   it_setup SUITE        bring the loopback cluster up if it is not (hack/cluster.sh),
#                         load its env, source hack/lib/k8s-helpers.sh, make a
#                         unique namespace $IT_NS and run id $IT_RUN, work folder
#                         $IT_TMP; everything is removed on exit
#   it_ok DESC            record a pass: "ok - DESC"
#   it_fail DESC [WHY]    record a failure: "not ok - DESC" (+ "#   WHY" lines)
#   it_check DESC CMD...  run CMD; pass if it exits 0, else fail with its output
#   it_eq DESC WANT GOT   pass if the two strings are equal
#   it_as KUBECONFIG CMD...  run CMD (a command or helper function) with that
#                         kubeconfig, e.g. it_as "$CSR_APPROVER_NODE_KUBECONFIG" k8s_csr_create ...
#   it_done               print "N passed, N failed"; exit 1 if any failed
#   it_cleanup            the EXIT trap it_setup sets (call it from your own trap
#                         if you replace it); if the suite exits before it_done
#                         it records a failure and prints the summary, exit 1
#
# CSRs, ClusterRoles and ClusterRoleBindings are cluster-scoped: give them the
# label "$IT_LABEL" (k8s_csr_create takes LABEL=VALUE arguments) so they are
# deleted at exit too.

IT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
IT_PASSED=0
IT_FAILED=0

it_ok() {
	IT_PASSED=$((IT_PASSED + 1))
	echo "ok - $1"
}

it_fail() {
	IT_FAILED=$((IT_FAILED + 1))
	echo "not ok - $1"
	if [[ -n ${2:-} ]]; then
		local line
		while IFS= read -r line; do
			echo "#   $line"
		done <<<"$2"
	fi
}

it_check() { # DESC CMD...
	local desc=$1 out
	shift
	if out=$("$@" 2>&1); then
		it_ok "$desc"
	else
		it_fail "$desc" "$out"
	fi
}

it_eq() { # DESC WANT GOT
	if [[ $2 == "$3" ]]; then
		it_ok "$1"
	else
		it_fail "$1" "want: $2"$'\n'"got:  $3"
	fi
}

it_as() { # KUBECONFIG CMD...
	(
		export KUBECONFIG=$1
		shift
		"$@"
	)
}

it_cleanup() {
	local rc=$?
	if [[ -n ${IT_RUN:-} ]] && command -v kubectl >/dev/null 2>&1; then
		kubectl delete csr,clusterrolebinding,clusterrole -l "$IT_LABEL_KEY=$IT_RUN" \
			--wait=false >/dev/null 2>&1 || true
		# No kubelet confirms a pod's end here, so a graceful delete would
		# leave the namespace Terminating for ever: delete pods at once.
		kubectl delete pods --all -n "$IT_NS" --grace-period=0 --force --wait=false \
			>/dev/null 2>&1 || true
		kubectl delete namespace "$IT_NS" --wait=false >/dev/null 2>&1 || true
	fi
	[[ -n ${IT_TMP:-} ]] && rm -rf "$IT_TMP"
	# A suite that died half way (set -e) still ends with a failure and the
	# summary line.
	if [[ -z ${IT_DONE:-} ]]; then
		IT_DONE=1
		it_fail "suite stopped before its end (exit status $rc)"
		echo "$IT_PASSED passed, $IT_FAILED failed"
		exit 1
	fi
	return 0
}

it_setup() { # SUITE
	local suite=$1
	if ! "$IT_ROOT/hack/cluster.sh" status >/dev/null 2>&1; then
		echo "# cluster not up; starting it (hack/cluster.sh up)"
		"$IT_ROOT/hack/cluster.sh" up >/dev/null || {
			it_fail "cluster up"
			it_done
		}
	fi
	local envs
	envs=$("$IT_ROOT/hack/cluster.sh" env) || exit 1
	eval "$envs"
	# shellcheck source=hack/lib/k8s-helpers.sh
	source "$IT_ROOT/hack/lib/k8s-helpers.sh"

	IT_RUN=$suite-$(date +%s)-$RANDOM
	IT_NS=it-$IT_RUN
	IT_LABEL_KEY="csr-approver.test/run"
	# shellcheck disable=SC2034 # used by the suites
	IT_LABEL="$IT_LABEL_KEY=$IT_RUN"
	IT_TMP=$(mktemp -d)
	trap it_cleanup EXIT
	k8s_ns_create "$IT_NS" || {
		it_fail "create namespace $IT_NS"
		it_done
	}
}

it_done() {
	IT_DONE=1
	echo "$IT_PASSED passed, $IT_FAILED failed"
	if ((IT_FAILED > 0)); then
		exit 1
	fi
	exit 0
}
