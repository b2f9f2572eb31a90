# shellcheck shell=bash
# Shared harness for tests/e2e/*.sh: a suite sources this file, records
# checks, and ends with e2e_done.
#
#   e2e_ok DESC                 record a pass: "ok - DESC"
#   e2e_fail DESC [WHY]         record a failure: "not ok - DESC" (+ "#   WHY" lines)
#   e2e_skip DESC WHY           print "# skip - DESC: WHY" (counted neither way)
#   e2e_check DESC CMD...       pass if CMD exits 0, else fail with its output
#   e2e_check_fails DESC CMD... pass if CMD exits non-zero
#   e2e_eq DESC WANT GOT        pass if the two strings are equal
#   e2e_done                    print "N passed, N failed"; exit 1 if any failed
#
#   e2e_cluster                 bring the local control plane up if needed
#                               (hack/cluster.sh) and load its env: kubectl
#                               and helm on PATH, KUBECONFIG as admin
#   e2e_tmp                     a work folder ($E2E_TMP), removed at exit
#   e2e_ns VAR PREFIX [LABEL=VALUE]...
#                               create a fresh namespace (labelled), store
#                               its name in VAR; deleted at exit
#   e2e_on_exit CMD...          run CMD at exit (cleanup), last in first out
#   chart_rbac NS RELEASE [HELM_ARGS...]
#                               apply only the chart's RBAC objects
#                               (ServiceAccount, ClusterRole and binding,
#                               lease Role and binding, events Role and
#                               binding in default) for release RELEASE
#                               (also its full name) in NS; the cluster-scoped
#                               ones are deleted at exit. The ServiceAccount
#                               is RELEASE unless HELM_ARGS name another.
#   sa_kubeconfig NS SA OUTFILE [DURATION]
#                               mint a token for ServiceAccount NS/SA
#                               (kubectl create token, default 1h) and write
#                               a kubeconfig that uses only that token
#
# helm and kubectl come from the cluster tooling (hack/k8s-build.sh builds
# them at pinned versions), never from whatever else is on PATH.

E2E_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
E2E_PASSED=0
E2E_FAILED=0
E2E_CLEANUP=()
E2E_TMP=""

e2e_ok() {
	E2E_PASSED=$((E2E_PASSED + 1))
	echo "ok - $1"
}

e2e_fail() {
	E2E_FAILED=$((E2E_FAILED + 1))
	echo "not ok - $1"
	if [[ -n ${2:-} ]]; then
		local line
		while IFS= read -r line; do
			echo "#   $line"
		done <<<"$2"
	fi
}

e2e_skip() {
	echo "# skip - $1: $2"
}

e2e_check() { # DESC CMD...
	local desc=$1 out
	shift
	if out=$("$@" 2>&1); then
		e2e_ok "$desc"
	else
		e2e_fail "$desc" "$(tail -n 30 <<<"$out")"
	fi
}

e2e_check_fails() { # DESC CMD...
	local desc=$1 out
	shift
	if out=$("$@" 2>&1); then
		e2e_fail "$desc" "succeeded, expected a failure:"$'\n'"$(tail -n 10 <<<"$out")"
	else
		e2e_ok "$desc"
	fi
}

e2e_eq() { # DESC WANT GOT
	if [[ $2 == "$3" ]]; then
		e2e_ok "$1"
	else
		e2e_fail "$1" "want: $2"$'\n'"got:  $3"
	fi
}

e2e_on_exit() {
	E2E_CLEANUP+=("$(printf '%q ' "$@")")
}

e2e_run_cleanup() {
	local i
	for ((i = ${#E2E_CLEANUP[@]} - 1; i >= 0; i--)); do
		eval "${E2E_CLEANUP[i]}" >/dev/null 2>&1 || true
	done
	[[ -n $E2E_TMP ]] && rm -rf "$E2E_TMP"
	return 0
}
trap e2e_run_cleanup EXIT

e2e_tmp() {
	if [[ -z $E2E_TMP ]]; then
		E2E_TMP=$(mktemp -d "${TMPDIR:-/tmp}/csr-approver-e2e.XXXXXX")
	fi
}

e2e_done() {
	echo "$E2E_PASSED passed, $E2E_FAILED failed"
	((E2E_FAILED == 0))
	exit $?
}

# Abort the suite with one failure when a precondition is missing.
e2e_abort() {
	e2e_fail "$1" "${2:-}"
	e2e_done
}

e2e_cluster() {
	if ! "$E2E_ROOT/hack/cluster.sh" status >/dev/null 2>&1; then
		echo "# the local control plane is not up; starting it (hack/cluster.sh up)"
		"$E2E_ROOT/hack/cluster.sh" up >/dev/null 2>&1 ||
			e2e_abort "local control plane up" "hack/cluster.sh up failed"
	fi
	local envs
	envs=$("$E2E_ROOT/hack/cluster.sh" env) || e2e_abort "local control plane env"
	eval "$envs"
	local t
	for t in kubectl helm; do
		if [[ ! -x $CSR_APPROVER_K8S_BIN/$t ]]; then
			e2e_abort "$t from the cluster tooling" "$CSR_APPROVER_K8S_BIN/$t is missing (hack/k8s-build.sh)"
		fi
	done
}

e2e_ns() { # VAR PREFIX [LABEL=VALUE]...
	local var=$1 ns
	ns=$2-$(date +%s)-$RANDOM
	shift 2
	kubectl create namespace "$ns" >/dev/null || return 1
	e2e_on_exit kubectl delete namespace "$ns" --wait=false
	if (($# > 0)); then
		kubectl label namespace "$ns" "$@" >/dev/null || return 1
	fi
	printf -v "$var" '%s' "$ns"
}

chart_rbac() { # NS RELEASE [HELM_ARGS...]
	local ns=$1 rel=$2 out
	shift 2
	e2e_tmp
	out=$E2E_TMP/rbac-$rel.yaml
	helm template "$rel" "$E2E_ROOT/charts/csr-approver" -n "$ns" --set fullnameOverride="$rel" "$@" \
		-s templates/serviceaccount.yaml -s templates/clusterrole.yaml \
		-s templates/clusterrolebinding.yaml -s templates/role.yaml \
		-s templates/events-role.yaml >"$out" || return 1
	e2e_on_exit kubectl delete clusterrole,clusterrolebinding "$rel" --ignore-not-found
	e2e_on_exit kubectl delete role,rolebinding -n default "$rel-events" --ignore-not-found
	kubectl apply -f "$out" >/dev/null
}

sa_kubeconfig() { # NS SA OUTFILE [DURATION]
	local ns=$1 sa=$2 out=$3 dur=${4:-1h} token server ca
	token=$(kubectl create token "$sa" -n "$ns" --duration="$dur") || return 1
	server=${CSR_APPROVER_APISERVER:?run e2e_cluster first}
	ca=$(base64 -w0 <"${CSR_APPROVER_CA_CERT:?run e2e_cluster first}") || return 1
	(
		umask 077
		cat >"$out" <<EOK
apiVersion: v1
kind: Config
clusters:
- name: csr-approver-e2e
  cluster:
    server: $server
    certificate-authority-data: $ca
users:
- name: $ns-$sa
  user:
    token: $token
contexts:
- name: $ns-$sa
  context:
    cluster: csr-approver-e2e
    user: $ns-$sa
    namespace: $ns
current-context: $ns-$sa
EOK
	)
}
