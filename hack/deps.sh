#!/usr/bin/env bash
# Install the Debian packages csr-approver's build and tests need.
# Idempotent and quick when everything is present already.
set -euo pipefail

packages=(
	build-essential pkg-config git ca-certificates curl openssl jq
	libcurl4-openssl-dev libjansson-dev libyaml-dev libssl-dev libmicrohttpd-dev
	libcriterion-dev
	clang libclang-rt-14-dev clang-format cppcheck
	valgrind procps iproute2
	umoci skopeo runc
)

missing=()
for p in "${packages[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "deps: all ${#packages[@]} packages present"
	exit 0
fi

echo "deps: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
	sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
