#!/bin/sh
# The main job: builds picsec, starts a bus in a private runtime directory and shows it live
# in picsec-busmon while a few requests cross it. Installs what is missing first (Debian 12).
#   scripts/demo.sh [SECONDS]    run for SECONDS (default 12), then clean up
set -eu
cd "$(dirname "$0")/.."
seconds=${1:-12}

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

echo "== picsec-busd on $rundir"
build/services/busd/picsec-busd --rundir "$rundir" &
pids="$pids $!"
while [ ! -S "$rundir/requests.sock" ]; do sleep 0.05; done

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
wait "$monitor" || true
