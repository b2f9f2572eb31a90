#!/usr/bin/env bash
# Package the built binary for machines without a container runtime:
#
#   build/dist/csr-approver-VERSION-linux-ARCH.tar.gz
#     csr-approver-VERSION-linux-ARCH/
#       bin/csr-approver          the binary, stripped
#       DEBIAN-PACKAGES           the Debian 12 packages that hold the shared
#                                 libraries it links (apt-get install them)
#       deploy/csr-approver.yaml  the plain manifests
#       README.md, docs/
#   build/dist/csr-approver-VERSION-linux-ARCH.tar.gz.sha256
#
# Usage: hack/dist.sh [BINARY]   (default build/csr-approver; VERSION from the
# environment, else git describe). The package list is derived from the
# binary's DT_NEEDED entries and dpkg, never written by hand.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bin=${1:-build/csr-approver}
[[ -x $bin ]] || {
	echo "dist: $bin is missing (run make)" >&2
	exit 1
}
version=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
arch=$(dpkg --print-architecture 2>/dev/null || uname -m)
name=csr-approver-$version-linux-$arch
out=build/dist
stage=$out/$name

rm -rf "$stage"
mkdir -p "$stage/bin" "$stage/deploy" "$stage/docs"
install -m 0755 "$bin" "$stage/bin/csr-approver"
strip --strip-unneeded "$stage/bin/csr-approver"

# Each DT_NEEDED soname -> the file the loader picks -> its Debian package.
pkgs=()
while read -r soname; do
	path=$(ldd "$bin" | awk -v s="$soname" '$1 == s && $2 == "=>" {print $3}')
	[[ -n $path ]] || {
		echo "dist: $soname is not found by the loader" >&2
		exit 1
	}
	pkg=$(dpkg -S "$(readlink -f "$path")" 2>/dev/null || dpkg -S "$path" 2>/dev/null) || {
		echo "dist: no Debian package holds $path" >&2
		exit 1
	}
	pkgs+=("${pkg%%:*}")
done < <(objdump -p "$bin" | awk '$1 == "NEEDED" {print $2}')
{
	echo "# Debian 12 (bookworm) packages csr-approver $version needs at run time:"
	echo "#   apt-get install --no-install-recommends \$(grep -v '^#' DEBIAN-PACKAGES)"
	printf '%s\n' "${pkgs[@]}" ca-certificates | sort -u
} >"$stage/DEBIAN-PACKAGES"

cp deploy/csr-approver.yaml "$stage/deploy/"
cp README.md "$stage/"
for d in install.md policy.md troubleshooting.md metrics.md pre-cni.md; do
	[[ -f docs/$d ]] && cp "docs/$d" "$stage/docs/"
done

tar -C "$out" --owner=0 --group=0 --numeric-owner --sort=name -czf "$out/$name.tar.gz" "$name"
(cd "$out" && sha256sum "$name.tar.gz" >"$name.tar.gz.sha256")
rm -rf "$stage"
echo "$out/$name.tar.gz"
