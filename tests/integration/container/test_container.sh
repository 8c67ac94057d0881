#!/bin/bash
# The container image and deploy/container/compose.yaml, with podman:
#   1. deploy/container/build-image.sh builds the image from this build directory (no
#      registry: a cached debootstrap root, `podman import`, `podman build`);
#   2. the image runs `picsec-busd --version`;
#   3. one container runs busd, configd and sadb; `picsec configure -f` inside commits
#      config/examples/two-site-manual-esp-a.conf and `picsec show configuration` answers
#      with it;
#   4. compose.yaml (through compose-run.py): two gateways and two hosts on three internal
#      networks; both gateways install their manual SAs, hostA pings hostB through the
#      tunnel (AF_XDP on the containers' veths), and the WAN carries only ESP between them;
#   5. both gateways commit the dynamic example: IKEv2 between the containers, and hostB
#      pings hostA over the negotiated Child SAs.
# Skips (exit 77) only where podman is not installed; fails, saying why, where podman is
# there but cannot run a container. Every wait is bounded; every address is from the
# documentation ranges; every container, network, volume and image tag made here is
# removed on exit. Output: one "ok"/"not ok" line per check, then a count.
set -u

REPO=$(cd "$(dirname "$0")/../../.." && pwd)
BUILD=${PICSEC_BUILD:-$REPO/build}
CT=$REPO/deploy/container
RUNNER=$CT/compose-run.py
PROJECT=picsec-ct
TAG=localhost/picsec-ct:test
BUS=$PROJECT-bus
EXAMPLES=$REPO/config/examples
LOCK=/run/lock/picsec-container.lock
export PICSEC_IMAGE=$TAG

passed=0 failed=0 n=0
ok() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		passed=$((passed + 1))
		echo "ok $n - $2"
	else
		failed=$((failed + 1))
		echo "not ok $n - $2"
	fi
}
diag() { sed 's/^/# /'; }
finish() {
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
	exit $?
}
# bail WHAT: a step that the rest depends on failed.
bail() {
	ok 1 "$1"
	finish
}

if ! command -v podman >/dev/null 2>&1; then
	echo "SKIP: podman is not installed (scripts/deps.sh test installs it)"
	exit 77
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "not ok 1 - the test must run as root (debootstrap, container networks, capabilities)"
	exit 1
fi

# One run at a time: fixed names and subnets.
mkdir -p "$(dirname "$LOCK")"
exec 8>"$LOCK"
flock -w 600 8 || bail "$LOCK free within 10 minutes"

TMP=$(mktemp -d /tmp/picsec-ct.XXXXXX)
cleanup() {
	[ -z "${CAP_PID:-}" ] || kill "$CAP_PID" 2>/dev/null || true
	"$RUNNER" -p "$PROJECT" down -v >/dev/null 2>&1 || true
	podman rm -f -t 2 "$BUS" >/dev/null 2>&1 || true
	podman rmi "$TAG" >/dev/null 2>&1 || true
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM
cleanup_stale() {
	# What a killed earlier run left (it held the lock, so it is no longer running).
	"$RUNNER" -p "$PROJECT" down -v >/dev/null 2>&1 || true
	podman rm -f -t 2 "$BUS" >/dev/null 2>&1 || true
}
cleanup_stale
t_start=$SECONDS

# ---------------------------------------------------------------------------- the host

if ! probe=$("$RUNNER" probe 2>&1); then
	printf '%s\n' "$probe" | diag
	bail "this host can run podman containers (compose-run.py probe)"
fi
printf '%s\n' "$probe" | diag
# P: podman with this host's settings (runc on hybrid cgroups, pinned rlimits).
P() { "$RUNNER" podman "$@"; }

# ---------------------------------------------------------------------------- 1. the image

t=$SECONDS
if out=$("$CT/build-image.sh" --build "$BUILD" --tag "$TAG" 2>&1); then
	printf '%s\n' "$out" | grep -E 'base|root|built' | diag
	ok 0 "build-image.sh made $TAG from $BUILD in $((SECONDS - t)) s"
else
	printf '%s\n' "$out" | tail -n 30 | diag
	bail "build-image.sh made $TAG from $BUILD"
fi

# ---------------------------------------------------------------------------- 2. a container

if out=$(P run --rm --network none "$TAG" picsec-busd --version 2>"$TMP/run.err") &&
	printf '%s\n' "$out" | grep -q '^picsec-busd [0-9]'; then
	ok 0 "the image runs picsec-busd --version: $out"
else
	printf '%s\n' "$out" | cat - "$TMP/run.err" | diag
	bail "the image runs picsec-busd --version (podman cannot run a container here: the lines above say why)"
fi

# wait_ready CONTAINER SECONDS: the entrypoint wrote /run/picsec/ready.
wait_ready() {
	local i
	for ((i = 0; i < $2 * 4; i++)); do
		podman exec "$1" test -e /run/picsec/ready 2>/dev/null && return 0
		[ "$(podman inspect -f '{{.State.Running}}' "$1" 2>/dev/null)" = true ] || return 1
		sleep 0.25
	done
	return 1
}

# ---------------------------------------------------------------------------- 3. one bus

P run -d --name "$BUS" --network none \
	-v "$EXAMPLES/two-site-manual-esp-a.conf:/etc/picsec/site-a.conf:ro" \
	"$TAG" --bus-only >/dev/null 2>"$TMP/bus.err" || { diag <"$TMP/bus.err"; bail "a bus container starts"; }
if wait_ready "$BUS" 20; then
	ok 0 "a container runs picsec-busd, -configd and -sadb (--bus-only)"
else
	podman logs "$BUS" 2>&1 | tail -n 20 | diag
	bail "a container runs picsec-busd, -configd and -sadb (--bus-only) within 20 s"
fi
out=$(podman exec "$BUS" picsec configure -f /etc/picsec/site-a.conf 2>&1)
rc=$?
[ $rc -eq 0 ] || printf '%s\n' "$out" | diag
ok $rc "picsec configure -f two-site-manual-esp-a.conf inside commits it"
shown=$(podman exec "$BUS" picsec show configuration 2>&1)
miss=""
for want in 'service-set site-a' 'rule to-site-b' 'remote-gateway 192.0.2.2;' 'spi 16000;' \
	'local-gateway 192.0.2.1;' 'inside-service-interface ms-0/0/0.1;'; do
	grep -qF -- "$want" <<<"$shown" || miss="$miss '$want'"
done
[ -z "$miss" ] || { printf '%s\n' "$shown" | head -n 40 | diag; echo "missing:$miss" | diag; }
ok "$([ -z "$miss" ] && echo 0 || echo 1)" "picsec show configuration inside answers with the committed file"
services=$(podman exec "$BUS" picsec show bus services 2>&1)
grep -q '^configd ' <<<"$services" && grep -q '^sadb ' <<<"$services"
ok $? "picsec show bus services lists configd and sadb"
podman rm -f -t 3 "$BUS" >/dev/null 2>&1

# ---------------------------------------------------------------------------- 4. two sites

gw_exec() { podman exec "$PROJECT-$1" "${@:2}"; }
# installed GW TYPE: how many SAs of TYPE the gateway has installed.
installed() {
	gw_exec "$1" picsec show services ipsec-vpn ipsec security-associations detail 2>/dev/null |
		grep -c "Type: $2, State: Installed"
}
# counter GW NAME: a line of `show ... statistics` ("Encrypted packets"), its number.
counter() {
	gw_exec "$1" picsec show services ipsec-vpn ipsec statistics 2>/dev/null |
		awk -v k="$2:" '{ line = $0; sub(/^ +/, "", line) } index(line, k) == 1 { print $NF; exit }'
}
# wait_sas TYPE SECONDS: both gateways have two SAs of TYPE installed.
wait_sas() {
	local i
	for ((i = 0; i < $2 * 4; i++)); do
		[ "$(installed gwA "$1")" -ge 2 ] && [ "$(installed gwB "$1")" -ge 2 ] && return 0
		sleep 0.25
	done
	return 1
}
# ping_across FROM TO: up to 3 tries of 3 pings (the first may wait for ARP).
ping_across() {
	local i
	for i in 1 2 3; do
		podman exec "$PROJECT-$1" ping -c 3 -i 0.2 -W 2 "$2" >"$TMP/ping" 2>&1 && return 0
	done
	diag <"$TMP/ping"
	return 1
}
logs() { for c in "$@"; do echo "---- $c"; podman logs "$PROJECT-$c" 2>&1 | tail -n 25; done | diag; }

t=$SECONDS
if ! out=$(PICSEC_EXAMPLE=manual-esp "$RUNNER" -p "$PROJECT" up 2>&1); then
	printf '%s\n' "$out" | diag
	bail "compose.yaml comes up (compose-run.py up)"
fi
if wait_ready "$PROJECT-gwA" 20 && wait_ready "$PROJECT-gwB" 20; then
	ok 0 "compose.yaml: gwA and gwB run the suite with their examples committed ($((SECONDS - t)) s)"
else
	logs gwA gwB
	bail "compose.yaml: gwA and gwB run the suite with their examples committed"
fi
if wait_sas manual 15; then
	ok 0 "both gateways install their two manual SAs"
else
	logs gwA gwB
	ok 1 "both gateways install their two manual SAs within 15 s"
fi

# The WAN, from the host's side of its bridge: only ESP between the gateways.
WANBR=$(podman network inspect "${PROJECT}_wan" --format '{{.NetworkInterface}}' 2>/dev/null)
CAP_PID=""
if command -v tcpdump >/dev/null 2>&1 && [ -n "$WANBR" ]; then
	timeout 30 tcpdump -nlqi "$WANBR" -U -w "$TMP/wan.pcap" ip >/dev/null 2>"$TMP/tcpdump.err" &
	CAP_PID=$!
	for ((i = 0; i < 20; i++)); do grep -q listening "$TMP/tcpdump.err" && break; sleep 0.1; done
fi
ping_across hostA 198.18.2.10
ok $? "hostA pings hostB through the manual ESP tunnel"
enc=$(counter gwA "Encrypted packets") dec=$(counter gwB "Decrypted packets")
[ "${enc:-0}" -ge 3 ] && [ "${dec:-0}" -ge 3 ]
ok $? "gwA encrypted ${enc:-?} packets, gwB decrypted ${dec:-?} (AF_XDP in the containers)"
if [ -n "$CAP_PID" ]; then
	sleep 0.3
	kill "$CAP_PID" 2>/dev/null
	wait "$CAP_PID" 2>/dev/null
	CAP_PID=""
	esp=$(tcpdump -nr "$TMP/wan.pcap" 'ip proto 50 and host 203.0.113.1 and host 203.0.113.2' 2>/dev/null | wc -l)
	other=$(tcpdump -nr "$TMP/wan.pcap" 'not (ip proto 50 and host 203.0.113.1 and host 203.0.113.2)' 2>/dev/null)
	[ -z "$other" ] || printf '%s\n' "$other" | head -n 10 | diag
	[ "$esp" -ge 6 ] && [ -z "$other" ]
	ok $? "the WAN ($WANBR) carried $esp ESP packets between the gateways and no other IP"
else
	echo "# no tcpdump: the WAN is not captured"
fi

# ---------------------------------------------------------------------------- 5. IKEv2

for s in a b; do
	sed -e 's/\b192\.0\.2\.1\b/203.0.113.1/g; s/\b192\.0\.2\.2\b/203.0.113.2/g' \
		"$EXAMPLES/two-site-dynamic-esp-$s.conf" >"$TMP/dynamic-$s.conf"
done
rc=0
for g in A B; do
	s=$(tr AB ab <<<"$g")
	podman cp "$TMP/dynamic-$s.conf" "$PROJECT-gw$g:/tmp/dynamic.conf" &&
		out=$(gw_exec "gw$g" picsec configure -f /tmp/dynamic.conf 2>&1) || { rc=1; printf '%s\n' "$out" | diag; }
done
ok $rc "both gateways commit two-site-dynamic-esp (IKEv2, the WAN addresses replaced)"
if wait_sas dynamic 20; then
	ok 0 "IKEv2 between the containers: both gateways install two dynamic SAs"
	ping_across hostB 198.18.1.10
	ok $? "hostB pings hostA over the negotiated Child SAs"
else
	logs gwA gwB
	ok 1 "IKEv2 between the containers: both gateways install two dynamic SAs within 20 s"
fi

# ---------------------------------------------------------------------------- the end

"$RUNNER" -p "$PROJECT" down -v >"$TMP/down" 2>&1
left=$(podman ps -a --filter "label=io.picsec.compose.project=$PROJECT" --format '{{.Names}}'
	podman network ls --filter "label=io.picsec.compose.project=$PROJECT" --format '{{.Name}}')
[ -z "$left" ] || printf '%s\n' "$left" | diag
ok "$([ -z "$left" ] && echo 0 || echo 1)" "compose-run.py down removes every container and network"
echo "# $((SECONDS - t_start)) s in all"
finish
