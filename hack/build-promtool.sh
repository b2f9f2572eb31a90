#!/usr/bin/env bash
# Build a Prometheus text-format checker for tests/e2e/metrics-format.sh,
# from the Go module proxy, once, into a cache folder outside the repository
# (${XDG_CACHE_HOME:-$HOME/.cache}/csr-approver/tools/), and print its path.
#
# The checker is run as:   CHECKER check metrics < FILE
#
#   1. promtool from github.com/prometheus/prometheus/cmd/promtool at a
#      pinned version (the real `promtool check metrics`: the client
#      library's parser plus promtool's linter);
#   2. if that cannot be built, hack/tools/promcheck: a small program on
#      github.com/prometheus/common/expfmt's TextParser (the same parser)
#      with the linter's naming rules. Its go.mod is generated in the cache.
#
# Usage: hack/build-promtool.sh [--force] [--fallback]
#   --force      rebuild even when a cached binary is there
#   --fallback   build and print the small checker only
# The build log is <cache>/tools/build.log.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=hack/lib/versions.sh
source "$here/lib/versions.sh"

# Prometheus v3.16.0 (its Go module is versioned v0.3xx.y).
PROMETHEUS_MODULE_VERSION=${CSR_APPROVER_PROMETHEUS_MODULE_VERSION:-v0.316.0}
# The client library versions that Prometheus release requires.
PROMETHEUS_COMMON_VERSION=${CSR_APPROVER_PROMETHEUS_COMMON_VERSION:-v0.72.1}
PROMETHEUS_CLIENT_MODEL_VERSION=${CSR_APPROVER_PROMETHEUS_CLIENT_MODEL_VERSION:-v0.6.3}

tools=${CSR_APPROVER_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/csr-approver/tools}
log=$tools/build.log

force=0 fallback_only=0
for a in "$@"; do
	case $a in
	--force) force=1 ;;
	--fallback) fallback_only=1 ;;
	-h | --help)
		sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'
		exit 0
		;;
	*)
		echo "build-promtool: unknown argument: $a" >&2
		exit 2
		;;
	esac
done

say() { echo "build-promtool: $*" >&2; }

mkdir -p "$tools"
exec 9>"$tools/.build.lock"
flock -w 3600 9 || {
	say "another build holds $tools/.build.lock"
	exit 1
}

GO=$(csr_approver_go) || {
	say "no Go toolchain found (looked on PATH and /usr/local/go/bin)"
	exit 1
}
export CGO_ENABLED=0
# Never download another toolchain behind the user's back: fail instead.
export GOTOOLCHAIN=local
export GOFLAGS="${CSR_APPROVER_BUILD_GOFLAGS:--p=2}"

# A binary is current when its stamp says it was built from these inputs.
fresh() { # BINARY STAMP
	((force)) && return 1
	[[ -x $1 && -f $1.stamp && $(<"$1.stamp") == "$2" ]]
}

build_promtool() {
	local dir=$tools/promtool-$PROMETHEUS_MODULE_VERSION
	local bin=$dir/promtool stamp="prometheus $PROMETHEUS_MODULE_VERSION recipe 2"
	if fresh "$bin" "$stamp"; then
		echo "$bin"
		return 0
	fi
	say "building promtool (github.com/prometheus/prometheus $PROMETHEUS_MODULE_VERSION); log: $log"
	mkdir -p "$dir"
	rm -f "$bin" "$bin.stamp"
	echo "+ go install github.com/prometheus/prometheus/cmd/promtool@$PROMETHEUS_MODULE_VERSION" >>"$log"
	# v0.MNN.P of the module is Prometheus vM.NN.P.
	local mp=${PROMETHEUS_MODULE_VERSION#v0.} rel
	rel="${mp:0:1}.$((10#${mp:1:2})).${mp#*.}"
	if ! GOBIN=$dir "$GO" install -trimpath \
		-ldflags "-s -w -X github.com/prometheus/common/version.Version=$rel" \
		"github.com/prometheus/prometheus/cmd/promtool@$PROMETHEUS_MODULE_VERSION" >>"$log" 2>&1; then
		say "promtool did not build (see $log)"
		return 1
	fi
	"$bin" --version >>"$log" 2>&1 || {
		say "the built promtool does not run"
		return 1
	}
	echo "$stamp" >"$bin.stamp"
	echo "$bin"
}

build_promcheck() {
	local src=$here/tools/promcheck
	local dir=$tools/promcheck-$PROMETHEUS_COMMON_VERSION
	local bin=$dir/bin/promcheck sum
	sum=$(cksum <"$src/main.go" | cut -d' ' -f1)
	local stamp="common $PROMETHEUS_COMMON_VERSION client_model $PROMETHEUS_CLIENT_MODEL_VERSION source $sum"
	if fresh "$bin" "$stamp"; then
		echo "$bin"
		return 0
	fi
	say "building promcheck (github.com/prometheus/common $PROMETHEUS_COMMON_VERSION); log: $log"
	rm -rf "$dir/src"
	mkdir -p "$dir/src" "$dir/bin"
	cp "$src/main.go" "$dir/src/main.go"
	local goline
	goline=$("$GO" env GOVERSION)
	goline=${goline#go}
	goline=$(cut -d. -f1,2 <<<"$goline")
	cat >"$dir/src/go.mod" <<EOM
module csr-approver.local/promcheck

go $goline.0

require (
	github.com/prometheus/client_model $PROMETHEUS_CLIENT_MODEL_VERSION
	github.com/prometheus/common $PROMETHEUS_COMMON_VERSION
)
EOM
	{
		echo "+ (cd $dir/src && go mod tidy && go build)"
		(cd "$dir/src" && "$GO" mod tidy && "$GO" build -trimpath -ldflags "-s -w" -o "$bin" .)
	} >>"$log" 2>&1 || {
		say "promcheck did not build (see $log)"
		tail -n 20 "$log" >&2
		return 1
	}
	echo "$stamp" >"$bin.stamp"
	echo "$bin"
}

if ((!fallback_only)) && build_promtool; then
	exit 0
fi
((fallback_only)) || say "falling back to promcheck"
build_promcheck
