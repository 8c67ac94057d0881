#!/bin/sh
# The main job: builds picsec, starts a bus and picsec-configd in a private runtime directory,
# shows the bus live in picsec-busmon, commits a Junos configuration (config/examples) through
# the CLI and shows it back. Installs what is missing first (Debian 12).
#   scripts/demo.sh [SECONDS]    run for SECONDS (default 15), then clean up
set -eu
cd "$(dirname "$0")/.."
seconds=${1:-15}

./scripts/deps.sh demo
[ -f build/build.ninja ] || meson setup build
ninja -C build

rundir=$(mktemp -d /tmp/picsec-demo-XXXXXX)
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$rundir"
}
trap cleanup EXIT INT TERM

# Waits (at most 5 s) for a path to appear.
wait_for() {
	i=0
	while [ ! -e "$1" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	[ -e "$1" ] || { echo "demo: $1 did not appear" >&2; exit 1; }
}

echo "== picsec-busd on $rundir"
build/services/busd/picsec-busd --rundir "$rundir" &
pids="$pids $!"
wait_for "$rundir/requests.sock"

echo "== picsec-busmon --rundir $rundir (every frame on the bus, decoded)"
build/tools/busmon/picsec-busmon --rundir "$rundir" --timeout "$seconds" &
monitor=$!
pids="$pids $monitor"
sleep 1.5

cli() { echo "== picsec $*"; build/tools/cli/picsec --rundir "$rundir" "$@"; }
cli request bus ping busd
sleep 1
cli show bus services
sleep 1
cli show bus statistics
cli show bus statistics '|' display json
sleep 1

echo "== picsec-configd --statedir $rundir/state"
build/services/configd/picsec-configd --rundir "$rundir" --statedir "$rundir/state" &
pids="$pids $!"
sleep 1
# The snapshot that goes out on config.committed shows in busmon above, its keys <redacted>.
cli configure -f config/examples/mx-next-hop-ikev2.set
cli show configuration services ipsec-vpn ike
cli show system commit
wait "$monitor" || true
