# shellcheck shell=bash
# The harness every suite of tests/integration and tests/e2e shares: their
# lib.sh sources this file (it does nothing when run on its own), and each
# suite records checks with it and ends with t_done.
#
#   t_ok DESC                  record a pass: "ok - DESC"
#   t_fail DESC [WHY]          record a failure: "not ok - DESC" (+ "#   WHY" lines)
#   t_skip DESC WHY            print "# skip - DESC: WHY" (counted neither way)
#   t_check DESC CMD...        pass if CMD exits 0, else fail with the end of its output
#   t_check_fails DESC CMD...  pass if CMD exits non-zero
#   t_eq DESC WANT GOT         pass if the two strings are equal
#   t_done                     print "N passed, N failed"; exit 1 if any failed
#   t_abort DESC [WHY]         record a failure and end the suite there (t_done)
#
#   t_on_exit CMD...           run CMD at exit (output dropped), last in first out
#   t_tmp                      make the work folder $T_TMP (once); removed at exit
#                              unless T_KEEP is set (its logs, to read a failure)
#   t_cluster                  bring the local control plane up if it is not
#                              (hack/cluster.sh), load its env (KUBECONFIG as
#                              admin, kubectl and helm of the cluster tooling on
#                              PATH), source hack/lib/k8s-helpers.sh and the
#                              pinned versions (hack/lib/versions.sh)
#   t_port [AVOID...]          a free loopback port (none of AVOID)
#
# $T_ROOT is the repository. A suite that exits before t_done (set -e, a
# command that killed it) still ends with a failure and the summary line, so
# hack/test.sh never counts a suite that stopped half way as passed.

T_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
T_PASSED=0
T_FAILED=0
T_DONE=""
T_TMP=""
T_CLEANUP=()

t_ok() {
	T_PASSED=$((T_PASSED + 1))
	echo "ok - $1"
}

t_fail() {
	T_FAILED=$((T_FAILED + 1))
	echo "not ok - $1"
	if [[ -n ${2:-} ]]; then
		local line
		while IFS= read -r line; do
			echo "#   $line"
		done <<<"$2"
	fi
}

t_skip() {
	echo "# skip - $1: $2"
}

t_check() { # DESC CMD...
	local desc=$1 out
	shift
	if out=$("$@" 2>&1); then
		t_ok "$desc"
	else
		t_fail "$desc" "$(tail -n 30 <<<"$out")"
	fi
}

t_check_fails() { # DESC CMD...
	local desc=$1 out
	shift
	if out=$("$@" 2>&1); then
		t_fail "$desc" "succeeded, expected a failure:"$'\n'"$(tail -n 10 <<<"$out")"
	else
		t_ok "$desc"
	fi
}

t_eq() { # DESC WANT GOT
	if [[ $2 == "$3" ]]; then
		t_ok "$1"
	else
		t_fail "$1" "want: $2"$'\n'"got:  $3"
	fi
}

t_done() {
	T_DONE=1
	echo "$T_PASSED passed, $T_FAILED failed"
	((T_FAILED == 0))
	exit $?
}

t_abort() { # DESC [WHY]
	t_fail "$1" "${2:-}"
	t_done
}

t_on_exit() { # CMD...
	T_CLEANUP+=("$(printf '%q ' "$@")")
}

# The EXIT trap.
t_exit() {
	local rc=$? i
	for ((i = ${#T_CLEANUP[@]} - 1; i >= 0; i--)); do
		eval "${T_CLEANUP[i]}" >/dev/null 2>&1 || true
	done
	[[ -n $T_TMP && -z ${T_KEEP:-} ]] && rm -rf "$T_TMP"
	if [[ -z $T_DONE ]]; then
		T_DONE=1
		t_fail "suite stopped before its end (exit status $rc)"
		echo "$T_PASSED passed, $T_FAILED failed"
		exit 1
	fi
	return 0
}
trap t_exit EXIT

t_tmp() {
	if [[ -z $T_TMP ]]; then
		T_TMP=$(mktemp -d "${TMPDIR:-/tmp}/csr-approver-test.XXXXXX")
	fi
}

t_cluster() {
	if ! "$T_ROOT/hack/cluster.sh" status >/dev/null 2>&1; then
		echo "# the local control plane is not up; starting it (hack/cluster.sh up)"
		"$T_ROOT/hack/cluster.sh" up >/dev/null || t_abort "local control plane up" "hack/cluster.sh up failed"
	fi
	local envs t
	envs=$("$T_ROOT/hack/cluster.sh" env) || t_abort "local control plane env"
	eval "$envs"
	for t in kubectl helm; do
		if [[ ! -x $CSR_APPROVER_K8S_BIN/$t ]]; then
			t_abort "$t from the cluster tooling" "$CSR_APPROVER_K8S_BIN/$t is missing (hack/k8s-build.sh)"
		fi
	done
	# shellcheck source=hack/lib/k8s-helpers.sh
	source "$T_ROOT/hack/lib/k8s-helpers.sh"
	# shellcheck source=hack/lib/versions.sh
	source "$T_ROOT/hack/lib/versions.sh"
}

# shellcheck disable=SC2120 # AVOID is optional
t_port() { # [AVOID...]
	local p i a
	for ((i = 0; i < 200; i++)); do
		# Below the ephemeral range (32768-60999): a port a client
		# connection holds would answer no connect, yet fail the bind.
		p=$((20000 + (RANDOM * 32768 + RANDOM) % 12768))
		for a in "$@"; do
			[[ $p == "$a" ]] && continue 2
		done
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	return 1
}
