# shellcheck shell=bash
# Pinned versions of the Kubernetes control plane that csr-approver is
# tested against, and the cache folder where hack/k8s-build.sh puts the
# binaries built from them. Sourced by hack/k8s-build.sh and hack/cluster.sh.
#
# Override any of these from the environment (for example
# CSR_APPROVER_K8S_CACHE=/some/dir) to build or use another set.

CSR_APPROVER_K8S_VERSION=${CSR_APPROVER_K8S_VERSION:-v1.37.2}
# kube-apiserver 1.37 is released and tested against etcd 3.7.
CSR_APPROVER_ETCD_VERSION=${CSR_APPROVER_ETCD_VERSION:-v3.7.3}
CSR_APPROVER_HELM_VERSION=${CSR_APPROVER_HELM_VERSION:-v3.22.0}

CSR_APPROVER_K8S_CACHE=${CSR_APPROVER_K8S_CACHE:-${XDG_CACHE_HOME:-${HOME:?HOME is not set}/.cache}/csr-approver/k8s-${CSR_APPROVER_K8S_VERSION}}
CSR_APPROVER_K8S_BIN=${CSR_APPROVER_K8S_BIN:-$CSR_APPROVER_K8S_CACHE/bin}

# The Go toolchain: the one on PATH, else the usual install location.
csr_approver_go() {
	if command -v go >/dev/null 2>&1; then
		command -v go
	elif [[ -x /usr/local/go/bin/go ]]; then
		echo /usr/local/go/bin/go
	else
		return 1
	fi
}
