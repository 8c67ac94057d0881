#!/bin/sh
# Installs the Debian 12 packages picsec needs to build, test, run its demo and benchmark it.
# Idempotent: asks dpkg what is already there and installs only what is missing.
# Usage: scripts/deps.sh [build|test|demo|bench]   (default: test; bench adds what bench/e2e needs)
set -eu

build_pkgs="meson ninja-build pkg-config gcc clang llvm python3
 libzmq3-dev libprotobuf-c-dev protobuf-c-compiler libsodium-dev libev-dev
 libcriterion-dev libssl-dev libxdp-dev libbpf-dev libmnl-dev libsystemd-dev libedit-dev
 libmicrohttpd-dev"
# strongSwan for the interop suite (charon with kernel-libipsec, swanctl).
test_pkgs="valgrind iproute2 procps libclang-rt-14-dev python3-scapy python3-cryptography tcpdump
 iputils-ping ethtool tshark strongswan-charon strongswan-swanctl libcharon-extra-plugins
 libstrongswan-standard-plugins
 podman debootstrap runc python3-yaml"
demo_pkgs="iproute2 procps iputils-ping ethtool tcpdump"
# bench/e2e: iperf3, and strongSwan 5.9.8 as the reference (charon + swanctl; kernel-libipsec
# is in libcharon-extra-plugins, the openssl plugin in libstrongswan-standard-plugins).
bench_pkgs="iproute2 procps iputils-ping ethtool tcpdump iperf3
 strongswan-charon strongswan-swanctl libcharon-extra-plugins libstrongswan-standard-plugins"

case "${1:-test}" in
	build) want="$build_pkgs" ;;
	demo) want="$build_pkgs $demo_pkgs" ;;
	test) want="$build_pkgs $test_pkgs" ;;
	bench) want="$build_pkgs $bench_pkgs" ;;
	*) echo "usage: $0 [build|test|demo|bench]" >&2; exit 2 ;;
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
# strongSwan's postinst would start charon in the root namespace: forbid service starts
# with a temporary policy-rc.d (only if there is none already; removed afterwards).
rcd=/usr/sbin/policy-rc.d
case "$missing" in
	*strongswan*)
		if [ ! -e "$rcd" ]; then
			printf '#!/bin/sh\n# temporary, scripts/deps.sh: no service starts\nexit 101\n' >"$rcd"
			chmod 0755 "$rcd"
			trap 'rm -f "$rcd"' EXIT
			trap 'exit 1' HUP INT TERM
		fi
		;;
esac
apt-get update -qq
# shellcheck disable=SC2086 # word splitting of the package list is intended
apt-get install -y -qq --no-install-recommends $missing
