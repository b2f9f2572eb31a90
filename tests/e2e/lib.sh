# shellcheck shell=bash
# Shared by tests/e2e/*.sh: a suite sources this file, records checks with
# the harness of tests/lib/harness.sh (t_ok, t_fail, t_check, t_eq, t_done,
# t_cluster, t_tmp, t_on_exit, ...; see there) and ends with t_done.
#
#   e2e_ns VAR PREFIX [LABEL=VALUE]...
#                               create a fresh namespace (labelled), store
#                               its name in VAR; deleted at exit
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
# them at pinned versions, t_cluster puts them on PATH), never from whatever
# else is on PATH.

# shellcheck source=tests/lib/harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/harness.sh"

e2e_ns() { # VAR PREFIX [LABEL=VALUE]...
	local var=$1 ns
	ns=$2-$(date +%s)-$RANDOM
	shift 2
	kubectl create namespace "$ns" >/dev/null || return 1
	t_on_exit kubectl delete namespace "$ns" --wait=false
	if (($# > 0)); then
		kubectl label namespace "$ns" "$@" >/dev/null || return 1
	fi
	printf -v "$var" '%s' "$ns"
}

chart_rbac() { # NS RELEASE [HELM_ARGS...]
	local ns=$1 rel=$2 out
	shift 2
	t_tmp
	out=$T_TMP/rbac-$rel.yaml
	helm template "$rel" "$T_ROOT/charts/csr-approver" -n "$ns" --set fullnameOverride="$rel" "$@" \
		-s templates/serviceaccount.yaml -s templates/clusterrole.yaml \
		-s templates/clusterrolebinding.yaml -s templates/role.yaml \
		-s templates/events-role.yaml >"$out" || return 1
	t_on_exit kubectl delete clusterrole,clusterrolebinding "$rel" --ignore-not-found
	t_on_exit kubectl delete role,rolebinding -n default "$rel-events" --ignore-not-found
	kubectl apply -f "$out" >/dev/null
}

sa_kubeconfig() { # NS SA OUTFILE [DURATION]
	local ns=$1 sa=$2 out=$3 dur=${4:-1h} token server ca
	token=$(kubectl create token "$sa" -n "$ns" --duration="$dur") || return 1
	server=${CSR_APPROVER_APISERVER:?run t_cluster first}
	ca=$(base64 -w0 <"${CSR_APPROVER_CA_CERT:?run t_cluster first}") || return 1
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
