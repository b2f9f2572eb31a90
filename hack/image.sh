#!/usr/bin/env bash
# Build csr-approver's container image without a daemon and without a base
# image: the stripped binary, exactly the shared libraries the loader
# resolves for it (with their soname links and the dynamic loader), the
# system CA store and a passwd/group naming the non-root user 65532. No
# shell, no package manager.
#
#   build/image/layout/                       OCI image layout, ref TAG
#   build/image/csr-approver-TAG.tar          docker-archive (docker load,
#                                             podman load, kind load ...)
#
# Usage: hack/image.sh [BINARY]   (default build/csr-approver). TAG is
# $VERSION (the Makefile's), else git describe. The layer is reproducible:
# sorted entries, owner 0:0 (the binary is world-executable, the user
# 65532 only reads), every mtime and the "created" date set to
# SOURCE_DATE_EPOCH (default: the commit's date). Labels and annotations
# use the OCI annotation keys; IMAGE_SOURCE and IMAGE_LICENSES override the
# source repository and the SPDX licence expression.
#
# Needs: skopeo (docker-archive), jq, gzip, tar, binutils, ca-certificates;
# all Debian packages (hack/deps.sh).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
umask 022

die() {
	echo "image: $*" >&2
	exit 1
}

bin=${1:-build/csr-approver}
[[ -x $bin ]] || die "$bin is missing (run make)"
for t in jq skopeo strip gzip tar sha256sum; do
	command -v "$t" >/dev/null || die "$t is missing (hack/deps.sh)"
done
ca_store=/etc/ssl/certs/ca-certificates.crt
[[ -s $ca_store ]] || die "$ca_store is missing (the ca-certificates package)"

version=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
# A tag is [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}: anything else becomes "-".
tag=$(printf '%s' "$version" | tr -c 'A-Za-z0-9_.-' '-' | cut -c1-128)
revision=$(git rev-parse HEAD 2>/dev/null || echo unknown)
epoch=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}
created=$(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ)
source_url=${IMAGE_SOURCE:-$(sed -n '/^sources:/{n;s/^ *- *//p}' charts/csr-approver/Chart.yaml)}
licenses=${IMAGE_LICENSES:-NOASSERTION}
arch=$(dpkg --print-architecture 2>/dev/null || uname -m)
case $arch in
x86_64) arch=amd64 ;;
aarch64) arch=arm64 ;;
esac

out=build/image
root=$out/rootfs
layout=$out/layout
archive=$out/csr-approver-$tag.tar
rm -rf "$root" "$layout" "$archive" "$out"/*.tar
mkdir -p "$root/usr/local/bin" "$root/etc/ssl/certs" "$root/tmp" "$layout/blobs/sha256"

install -m 0755 "$bin" "$root/usr/local/bin/csr-approver"
strip --strip-unneeded "$root/usr/local/bin/csr-approver"

# Top-level links of a merged-/usr system (/lib -> usr/lib, ...): the
# paths ldd prints go through them, so the image has them too.
for d in /lib /lib32 /lib64 /libx32; do
	if [[ -L $d ]]; then
		ln -s "$(readlink "$d")" "$root$d"
	fi
done

# add_lib PATH: copy the file PATH resolves to at its real path, and link
# PATH's name (in its real directory) to it, as the package has it.
add_lib() {
	local p=$1 real dir name
	real=$(readlink -f "$p")
	[[ -f $real ]] || die "$p does not resolve to a file"
	dir=$(readlink -f "$(dirname "$p")")
	name=$(basename "$p")
	mkdir -p "$root$(dirname "$real")" "$root$dir"
	[[ -e $root$real ]] || cp "$real" "$root$real"
	if [[ $dir/$name != "$real" && ! -e $root$dir/$name ]]; then
		if [[ $(dirname "$real") == "$dir" ]]; then
			ln -s "$(basename "$real")" "$root$dir/$name"
		else
			ln -s "$real" "$root$dir/$name"
		fi
	fi
}

# Every "soname => path" line, and the loader ("/lib64/ld-linux... (addr)").
nlibs=0
while read -r lib; do
	add_lib "$lib"
	nlibs=$((nlibs + 1))
done < <(ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}')
((nlibs > 1)) || die "ldd found no libraries for $bin"
# The loader must be where the binary's PT_INTERP says.
interp=$(readelf -l "$bin" | sed -n 's/.*Requesting program interpreter: \(.*\)]/\1/p')
[[ -n $interp ]] && add_lib "$interp"

# A top-level link to a directory the image does not have: dropped.
for d in /lib /lib32 /lib64 /libx32; do
	if [[ -L $root$d && ! -e $root$d ]]; then
		rm "$root$d"
	fi
done

cp "$ca_store" "$root/etc/ssl/certs/ca-certificates.crt"
cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/sbin/nologin
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
EOF
cat >"$root/etc/group" <<'EOF'
root:x:0:
nonroot:x:65532:
EOF
printf 'hosts: files dns\n' >"$root/etc/nsswitch.conf"
chmod 0644 "$root/etc/passwd" "$root/etc/group" "$root/etc/nsswitch.conf" \
	"$root/etc/ssl/certs/ca-certificates.crt"
chmod 1777 "$root/tmp"

# The layer: deterministic tar, then gzip without a name or timestamp.
tar -C "$root" --sort=name --mtime="@$epoch" --owner=0 --group=0 --numeric-owner \
	--format=posix --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
	-cf "$out/layer.tar" .
diff_id=sha256:$(sha256sum "$out/layer.tar" | cut -d' ' -f1)
gzip -n -9 -c "$out/layer.tar" >"$out/layer.tar.gz"
rm -f "$out/layer.tar"

# blob FILE: move FILE into the layout's blobs; prints "sha256:HEX SIZE".
blob() {
	local hex size
	hex=$(sha256sum "$1" | cut -d' ' -f1)
	size=$(stat -c %s "$1")
	mv "$1" "$layout/blobs/sha256/$hex"
	echo "sha256:$hex $size"
}
read -r layer_digest layer_size < <(blob "$out/layer.tar.gz")

labels=$(jq -n --arg v "$version" --arg r "$revision" --arg s "$source_url" --arg l "$licenses" --arg c "$created" '{
	"org.opencontainers.image.title": "csr-approver",
	"org.opencontainers.image.description": "Approves Kubernetes CertificateSigningRequests after checking every name against the requester'"'"'s identity",
	"org.opencontainers.image.version": $v,
	"org.opencontainers.image.revision": $r,
	"org.opencontainers.image.source": $s,
	"org.opencontainers.image.licenses": $l,
	"org.opencontainers.image.created": $c}')

jq -n --arg created "$created" --arg arch "$arch" --arg diff "$diff_id" --argjson labels "$labels" '{
	created: $created, architecture: $arch, os: "linux",
	config: {
		User: "65532:65532",
		Entrypoint: ["/usr/local/bin/csr-approver"],
		Cmd: ["run"],
		Env: ["PATH=/usr/local/bin", "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"],
		WorkingDir: "/",
		Labels: $labels},
	rootfs: {type: "layers", diff_ids: [$diff]},
	history: [{created: $created, created_by: "hack/image.sh"}]}' >"$out/config.json"
read -r config_digest config_size < <(blob "$out/config.json")

jq -n --arg cd "$config_digest" --argjson cs "$config_size" --arg ld "$layer_digest" \
	--argjson ls "$layer_size" --argjson labels "$labels" '{
	schemaVersion: 2,
	mediaType: "application/vnd.oci.image.manifest.v1+json",
	config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $cd, size: $cs},
	layers: [{mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: $ld, size: $ls}],
	annotations: $labels}' >"$out/manifest.json"
read -r manifest_digest manifest_size < <(blob "$out/manifest.json")

jq -n --arg md "$manifest_digest" --argjson ms "$manifest_size" --arg tag "$tag" '{
	schemaVersion: 2,
	mediaType: "application/vnd.oci.image.index.v1+json",
	manifests: [{mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $md, size: $ms,
		annotations: {"org.opencontainers.image.ref.name": $tag}}]}' >"$layout/index.json"
printf '{"imageLayoutVersion":"1.0.0"}\n' >"$layout/oci-layout"

# The docker-archive, for runtimes that load a tarball. --insecure-policy:
# a copy between two local files, no signature to check.
skopeo --insecure-policy copy -q "oci:$layout:$tag" "docker-archive:$archive:csr-approver:$tag" ||
	die "skopeo copy to $archive failed"

rm -rf "$root"
total=$((layer_size + config_size + manifest_size))
limit=$((20 * 1024 * 1024))
echo "image: csr-approver:$tag ($arch, $nlibs shared objects)"
echo "image: manifest $manifest_digest"
echo "image: layout $layout (ref $tag), archive $archive"
printf 'image: %d bytes compressed (%.1f MiB; target 20 MiB: %s)\n' "$total" \
	"$(awk -v b="$total" 'BEGIN {print b / 1048576}')" \
	"$( ((total <= limit)) && echo within || echo OVER)"
