#!/usr/bin/env bash
# bench/scale at a small count (4,000 SAs, one and eight Child SAs per SaInstall): that the
# benchmark runs from a fresh build, sadb and the PIC take every SA, the PIC reports them,
# and its SIGKILL clears them all through healthd and sadb (clear-ipsec-sas-on-pic-restart).
# No time is asserted: bench/scale measures, this checks that it can. TAP on stdout.
set -u
REPO=$(cd "$(dirname "$0")/../../.." && pwd)
export PICSEC_BUILD=${PICSEC_BUILD:-$REPO/build}
out=$(mktemp /tmp/picsec-scale-smoke.XXXXXX)
trap 'rm -f "$out"' EXIT

# Root and iproute2 are needed (scripts/test.sh runs as root and installs it): without them
# run.sh says so and this fails, printing its output; it is never a skip.
timeout -k 10 240 "$REPO/bench/scale/run.sh" --count 4000 --per-install "1 8" --window 256 >"$out" 2>&1
rc=$?
n=0
fail=0
check() { # check DESCRIPTION COMMAND...
	local desc=$1
	shift
	n=$((n + 1))
	if "$@"; then
		echo "ok $n - $desc"
	else
		echo "not ok $n - $desc"
		fail=1
	fi
}
field() { # field LINE KEY
	local kv
	for kv in $1; do
		[ "${kv%%=*}" = "$2" ] && { echo "${kv#*=}"; return; }
	done
}
positive() { awk -v v="$1" 'BEGIN { exit !(v > 0) }'; }

check "bench/scale/run.sh exits 0 (it exited $rc)" test "$rc" -eq 0
for k in 1 8; do
	line=$(grep "^RESULT .*per_install=$k " "$out" | head -1)
	check "$k Child SA(s) per SaInstall: a result" test -n "$line"
	check "$k per SaInstall: no install failed" test "$(field "$line" failures)" = 0
	check "$k per SaInstall: the PIC reported all 4000 installed" \
		positive "$(field "$line" install_s)"
	check "$k per SaInstall: its SIGKILL cleared all 4000" positive "$(field "$line" clear_s)"
	check "$k per SaInstall: the PIC's memory was read" \
		positive "$(field "$line" bytes_per_sa)"
done
echo "1..$n"
if [ "$fail" -ne 0 ]; then
	sed 's/^/# /' "$out"
	exit 1
fi
exit 0
