#!/usr/bin/env bash
# Build the Kubernetes control-plane binaries that csr-approver's
# integration tests, demo and benchmarks run against, from the Go module
# proxy, once, into a cache folder outside the repository:
#
#   kube-apiserver, kube-controller-manager, kubectl   k8s.io/kubernetes
#   kubemark, kube-scheduler                           k8s.io/kubernetes
#   etcd, etcdctl                                      go.etcd.io/etcd
#   helm                                               helm.sh/helm/v3
#
# kubemark is Kubernetes' scale-test "hollow node": with --morph=kubelet it
# is the real kubelet with a fake container runtime (hack/cluster.sh nodes).
#
# Usage: hack/k8s-build.sh [--force]   (prints the bin folder on success)
#
# Versions and the cache location are in hack/lib/versions.sh (default
# ${XDG_CACHE_HOME:-$HOME/.cache}/csr-approver/k8s-<version>/bin). Each group
# of binaries has a stamp file; when the binaries and a matching stamp are
# there, nothing is built and the script returns at once. The generated Go
# modules live in <cache>/src, the build log in <cache>/build.log.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=hack/lib/versions.sh
source "$here/lib/versions.sh"

# Bump when the build recipe changes, so cached binaries get rebuilt.
RECIPE=1

force=0
case "${1:-}" in
--force) force=1 ;;
"") ;;
-h | --help)
	sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'
	exit 0
	;;
*)
	echo "k8s-build: unknown argument: $1 (usage: $0 [--force])" >&2
	exit 2
	;;
esac

cache=$CSR_APPROVER_K8S_CACHE
bin=$CSR_APPROVER_K8S_BIN
log=$cache/build.log
mkdir -p "$cache" "$bin"

GO=$(csr_approver_go) || {
	echo "k8s-build: no Go toolchain found (looked on PATH and /usr/local/go/bin)" >&2
	exit 1
}
export CGO_ENABLED=0
# Never download another toolchain behind the user's back: fail instead.
export GOTOOLCHAIN=local
# Two compile jobs at a time keep a small machine usable while this runs.
export GOFLAGS="${CSR_APPROVER_BUILD_GOFLAGS:--p=2}"

say() { echo "k8s-build: $*" >&2; }

die() {
	say "FAILED: $*"
	if [[ -s $log ]]; then
		say "last lines of $log:"
		tail -n 40 "$log" >&2
	fi
	exit 1
}

# run DESCRIPTION CMD...: run a command with its output in the log.
run() {
	local what=$1
	shift
	echo "+ $*" >>"$log"
	"$@" >>"$log" 2>&1 || die "$what"
}

stamp_ok() { # GROUP VALUE BINARIES...
	local group=$1 value=$2 b
	shift 2
	((force)) && return 1
	[[ -f $bin/.stamp-$group && $(<"$bin/.stamp-$group") == "$value" ]] || return 1
	for b in "$@"; do
		[[ -x $bin/$b ]] || return 1
	done
}

# install_bins GROUP VALUE TMPDIR BINARIES...: move freshly built binaries in
# place, then write the stamp.
install_bins() {
	local group=$1 value=$2 tmp=$3 b
	shift 3
	for b in "$@"; do
		[[ -x $tmp/$b ]] || die "$group: $b was not produced"
		mv -f "$tmp/$b" "$bin/$b"
	done
	echo "$value" >"$bin/.stamp-$group"
}

# k8s_module DIR PACKAGE...: a Go module in DIR that requires
# k8s.io/kubernetes at the pinned version and pins PACKAGE... (the
# packages behind the binaries to build) in tools.go; go mod tidy'ed.
k8s_module() {
	local src=$1 v=$CSR_APPROVER_K8S_VERSION p
	shift
	local json gomod goline
	if ! json=$("$GO" mod download -json "k8s.io/kubernetes@$v" 2>>"$log"); then
		echo "$json" >>"$log"
		die "go mod download k8s.io/kubernetes@$v"
	fi
	gomod=$(sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p' <<<"$json")
	[[ -n $gomod && -f $gomod ]] || die "no go.mod path for k8s.io/kubernetes@$v in: $json"
	goline=$(grep -m1 '^go [0-9]' "$gomod") || die "no go directive in $gomod"

	# Staging modules: kubernetes requires them at v0.0.0 and replaces them
	# with ./staging/src/...; a consumer has to point each at its published
	# v0.<minor>.<patch> tag instead.
	local staging=v0.${v#v1.}
	local replaces
	replaces=$(sed -n "s#^[[:space:]]*\(k8s.io/[^[:space:]]*\) => ./staging/.*#\t\1 => \1 $staging#p" "$gomod")
	[[ -n $replaces ]] || die "no staging replace directives found in $gomod"
	{
		echo "module csr-approver.local/k8s-binaries"
		echo
		echo "$goline"
		echo
		echo "require k8s.io/kubernetes $v"
		echo
		echo "replace ("
		echo "$replaces"
		echo ")"
	} >"$src/go.mod"
	{
		echo "//go:build tools"
		echo
		echo "// Package tools pins the packages behind the binaries built from this module."
		echo "package tools"
		echo
		echo "import ("
		for p in "$@"; do
			echo "	_ \"$p\""
		done
		echo ")"
	} >"$src/tools.go"
	(cd "$src" && run "go mod tidy (kubernetes $v)" "$GO" mod tidy)
}

# k8s_ldflags: -ldflags for binaries of k8s.io/kubernetes (version stamped).
k8s_ldflags() {
	local v=$CSR_APPROVER_K8S_VERSION
	local minor=${v#v1.}
	minor=${minor%%.*}
	local ld="-s -w" key val kv
	for kv in "gitVersion=$v" "gitMajor=1" "gitMinor=$minor" "gitTreeState=clean" \
		"buildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)"; do
		key=${kv%%=*} val=${kv#*=}
		ld+=" -X k8s.io/component-base/version.$key=$val -X k8s.io/client-go/pkg/version.$key=$val"
	done
	echo "$ld"
}

build_k8s() {
	local v=$CSR_APPROVER_K8S_VERSION
	local stamp="kubernetes $v recipe $RECIPE"
	local bins=(kube-apiserver kube-controller-manager kubectl)
	if stamp_ok k8s "$stamp" "${bins[@]}"; then
		return 0
	fi
	say "building kubernetes $v (kube-apiserver, kube-controller-manager, kubectl); log: $log"
	local src=$cache/src/k8s tmp=$cache/tmp-k8s
	rm -rf "$src" "$tmp"
	mkdir -p "$src" "$tmp"
	k8s_module "$src" \
		k8s.io/client-go/plugin/pkg/client/auth \
		k8s.io/component-base/cli \
		k8s.io/component-base/logs/json/register \
		k8s.io/component-base/metrics/prometheus/clientgo \
		k8s.io/component-base/metrics/prometheus/version \
		k8s.io/kubectl/pkg/cmd \
		k8s.io/kubectl/pkg/cmd/util \
		k8s.io/kubernetes/cmd/kube-apiserver/app \
		k8s.io/kubernetes/cmd/kube-controller-manager/app
	(cd "$src" && run "go build (kubernetes $v)" "$GO" build -mod=mod -trimpath -ldflags "$(k8s_ldflags)" -o "$tmp/" \
		k8s.io/kubernetes/cmd/kube-apiserver \
		k8s.io/kubernetes/cmd/kube-controller-manager \
		k8s.io/kubernetes/cmd/kubectl)
	install_bins k8s "$stamp" "$tmp" "${bins[@]}"
	rm -rf "$tmp"
}

# The hollow kubelet and the scheduler, a group of their own so that adding
# them did not rebuild the control plane.
build_k8s_nodes() {
	local v=$CSR_APPROVER_K8S_VERSION
	local stamp="kubernetes $v recipe $RECIPE"
	local bins=(kubemark kube-scheduler)
	if stamp_ok k8s-nodes "$stamp" "${bins[@]}"; then
		return 0
	fi
	say "building kubernetes $v (kubemark, kube-scheduler); log: $log"
	local src=$cache/src/k8s-nodes tmp=$cache/tmp-k8s-nodes
	rm -rf "$src" "$tmp"
	mkdir -p "$src" "$tmp"
	k8s_module "$src" \
		k8s.io/component-base/cli \
		k8s.io/component-base/logs/json/register \
		k8s.io/component-base/metrics/prometheus/clientgo \
		k8s.io/component-base/metrics/prometheus/version \
		k8s.io/kubernetes/cmd/kubemark/app \
		k8s.io/kubernetes/cmd/kube-scheduler/app
	(cd "$src" && run "go build (kubemark, kube-scheduler $v)" "$GO" build -mod=mod -trimpath -ldflags "$(k8s_ldflags)" -o "$tmp/" \
		k8s.io/kubernetes/cmd/kubemark \
		k8s.io/kubernetes/cmd/kube-scheduler)
	install_bins k8s-nodes "$stamp" "$tmp" "${bins[@]}"
	rm -rf "$tmp"
}

build_etcd() {
	local v=$CSR_APPROVER_ETCD_VERSION
	local stamp="etcd $v recipe $RECIPE"
	local bins=(etcd etcdctl)
	if stamp_ok etcd "$stamp" "${bins[@]}"; then
		return 0
	fi
	say "building etcd $v (etcd, etcdctl); log: $log"
	local src=$cache/src/etcd tmp=$cache/tmp-etcd
	rm -rf "$src" "$tmp"
	mkdir -p "$src" "$tmp"
	# etcd's modules point at each other with relative replace directives,
	# which only work inside its own repository: require them all at the
	# same tag instead.
	local m
	{
		echo "module csr-approver.local/etcd-binaries"
		echo
		echo "go 1.26.0"
		echo
		echo "require ("
		for m in server etcdctl api client/pkg client pkg; do
			case $m in
			client) echo "	go.etcd.io/etcd/client/v3 $v" ;;
			*) echo "	go.etcd.io/etcd/$m/v3 $v" ;;
			esac
		done
		echo ")"
	} >"$src/go.mod"
	cat >"$src/tools.go" <<'EOF'
//go:build tools

// Package tools pins the packages behind the binaries built from this module.
package tools

import (
	_ "go.etcd.io/etcd/etcdctl/v3/ctlv3"
	_ "go.etcd.io/etcd/server/v3/etcdmain"
)
EOF
	(cd "$src" && run "go mod tidy (etcd $v)" "$GO" mod tidy)
	(cd "$src" && run "go build etcd $v" "$GO" build -mod=mod -trimpath -ldflags "-s -w" -o "$tmp/etcd" go.etcd.io/etcd/server/v3)
	(cd "$src" && run "go build etcdctl $v" "$GO" build -mod=mod -trimpath -ldflags "-s -w" -o "$tmp/etcdctl" go.etcd.io/etcd/etcdctl/v3)
	install_bins etcd "$stamp" "$tmp" "${bins[@]}"
	rm -rf "$tmp"
}

build_helm() {
	local v=$CSR_APPROVER_HELM_VERSION
	local stamp="helm $v recipe $RECIPE"
	if stamp_ok helm "$stamp" helm; then
		return 0
	fi
	say "building helm $v; log: $log"
	local tmp=$cache/tmp-helm
	rm -rf "$tmp"
	mkdir -p "$tmp"
	# helm's go.mod has no replace directives, so a plain install works.
	run "go install helm $v" env GOBIN="$tmp" "$GO" install -trimpath \
		-ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$v -X helm.sh/helm/v3/internal/version.gitTreeState=clean" \
		"helm.sh/helm/v3/cmd/helm@$v"
	install_bins helm "$stamp" "$tmp" helm
	rm -rf "$tmp"
}

# One build at a time per cache folder.
exec 9>"$cache/.build.lock"
if ! flock -n 9; then
	say "another build holds $cache/.build.lock; waiting for it"
	flock 9
fi

start=$SECONDS
: >>"$log"
echo "=== $(date -u +%Y-%m-%dT%H:%M:%SZ) k8s-build (force=$force)" >>"$log"
build_k8s
build_k8s_nodes
build_etcd
build_helm
if ((SECONDS - start > 5)); then
	say "done in $((SECONDS - start)) s: $bin"
fi
echo "$bin"
