#!/usr/bin/env bash
# Render the plain manifests in deploy/ from charts/csr-approver with its
# default values, for users who install without Helm:
#
#   kubectl apply -f deploy/csr-approver.yaml
#
# Usage: hack/manifests.sh [OUTFILE]   (default deploy/csr-approver.yaml; - for stdout)
#
# helm is the pinned one of the cluster tooling (hack/k8s-build.sh builds it
# into the cache); tests/e2e/chart.sh checks that the file in the repository
# is what this script renders.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
# shellcheck source=hack/lib/versions.sh
source "$here/lib/versions.sh"

out=${1:-$repo/deploy/csr-approver.yaml}
# The Namespace object below carries the same name.
namespace=csr-approver
release=csr-approver

helm=$CSR_APPROVER_K8S_BIN/helm
if [[ ! -x $helm ]]; then
	echo "manifests: building helm (hack/k8s-build.sh)" >&2
	"$here/k8s-build.sh" >/dev/null
fi

render() {
	cat <<'EOF2'
# csr-approver: plain manifests rendered from charts/csr-approver with its
# default values (one kubelet-serving policy, two replicas with leader
# election) by hack/manifests.sh. Do not edit: change the chart and run
# "make manifests". To change the policies, edit the ConfigMap below or
# install with Helm (docs/install.md).
---
apiVersion: v1
kind: Namespace
metadata:
  name: csr-approver
  labels:
    pod-security.kubernetes.io/enforce: restricted
    pod-security.kubernetes.io/enforce-version: latest
EOF2
	"$helm" template "$release" "$repo/charts/csr-approver" --namespace "$namespace" --skip-tests
}

if [[ $out == - ]]; then
	render
else
	tmp=$(mktemp "$out.XXXXXX")
	trap 'rm -f "$tmp"' EXIT
	render >"$tmp"
	mv -f "$tmp" "$out"
	trap - EXIT
	echo "manifests: wrote ${out#"$repo"/}" >&2
fi
