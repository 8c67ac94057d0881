#!/bin/sh
# Installs the Debian 12 packages picsec needs to build, test and run its demo.
# Idempotent: asks dpkg what is already there and installs only what is missing.
# Usage: scripts/deps.sh [build|test|demo]   (default: test, which is the superset)
set -eu

build_pkgs="meson ninja-build pkg-config gcc clang llvm python3
 libzmq3-dev libprotobuf-c-dev protobuf-c-compiler libsodium-dev libev-dev
 libcriterion-dev libssl-dev libxdp-dev libbpf-dev libmnl-dev libsystemd-dev libedit-dev"
test_pkgs="valgrind iproute2 procps libclang-rt-14-dev python3-scapy tcpdump iputils-ping ethtool"
demo_pkgs="iproute2 procps iputils-ping ethtool tcpdump"

case "${1:-test}" in
	build) want="$build_pkgs" ;;
	demo) want="$build_pkgs $demo_pkgs" ;;
	test) want="$build_pkgs $test_pkgs" ;;
	*) echo "usage: $0 [build|test|demo]" >&2; exit 2 ;;
esac

missing=""
for p in $want; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$status" in
		*"install ok installed"*) ;;
		*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages:$missing; run as root to install them" >&2
	exit 1
fi
echo "deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086 # word splitting of the package list is intended
apt-get install -y -qq --no-install-recommends $missing
