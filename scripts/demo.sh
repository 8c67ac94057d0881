#!/bin/sh
# The main job: two Linux gateways running picsec carry traffic between two sites, first
# over a manual ESP tunnel, then over one their picsec-iked negotiate (IKEv2, pre-shared
# key). Builds picsec, brings up deploy/topology/two-site (five network namespaces) with
# config/examples/two-site-manual-esp-{a,b}.conf, then -dynamic-esp-{a,b}.conf, committed
# on the gateways; pings from hostA to hostB through the tunnel, shows IKE and ESP on the
# wire and the Junos show commands, then takes everything down. Installs what is missing.
#   scripts/demo.sh [--keep]    --keep: leave the dynamic tunnel up (two-site down removes it)
set -eu
cd "$(dirname "$0")/.."
keep=0
[ "${1:-}" = "--keep" ] && keep=1

./scripts/deps.sh demo
[ -f build/build.ninja ] || meson setup build
ninja -C build

topo=deploy/topology/two-site
# One user of the topology at a time (its namespaces have fixed names): the tests take the
# same lock.
mkdir -p /run/lock
exec 9>/run/lock/picsec-two-site.lock
flock -w 900 9 || { echo "demo: another run holds the two-site topology" >&2; exit 1; }
cleanup() { [ $keep -eq 1 ] || $topo down >/dev/null 2>&1 || true; }
trap cleanup EXIT INT TERM

step() { printf '\n== %s\n' "$*"; }

step "two-site up: hostA - gwA (picsec) - wan - gwB (picsec) - hostB"
$topo up --a config/examples/two-site-manual-esp-a.conf \
	--b config/examples/two-site-manual-esp-b.conf

# The PICs report their SAs installed within a second or two (bounded wait).
i=0
until $topo exec gwA picsec show services ipsec-vpn ipsec security-associations detail \
	2>/dev/null | grep -q 'State: Installed' || [ $i -ge 50 ]; do
	sleep 0.2
	i=$((i + 1))
done

step "ESP on the wire (tcpdump on ps-wan) while hostA pings hostB"
$topo exec wan timeout 5 tcpdump -nli br0 -c 6 esp 2>/dev/null &
capture=$!
sleep 1
$topo exec hostA ping -c 3 -i 0.5 -W 2 198.18.2.10
wait $capture || true

step "gwA> show services ipsec-vpn ipsec security-associations"
$topo exec gwA picsec show services ipsec-vpn ipsec security-associations
step "gwA> show services ipsec-vpn ipsec security-associations detail"
$topo exec gwA picsec show services ipsec-vpn ipsec security-associations detail
step "gwB> show services ipsec-vpn ipsec statistics"
$topo exec gwB picsec show services ipsec-vpn ipsec statistics

step "two-site again, now with a dynamic SA: both gateways' picsec-iked negotiate IKEv2"
$topo down >/dev/null
$topo up --a config/examples/two-site-dynamic-esp-a.conf \
	--b config/examples/two-site-dynamic-esp-b.conf

# IKE_SA_INIT and IKE_AUTH take a few milliseconds; the SAs reach the PICs right after.
i=0
until $topo exec gwA picsec show services ipsec-vpn ipsec security-associations detail \
	2>/dev/null | grep -q 'State: Installed' || [ $i -ge 75 ]; do
	sleep 0.2
	i=$((i + 1))
done

step "gwA> show services ipsec-vpn ike security-associations"
$topo exec gwA picsec show services ipsec-vpn ike security-associations
step "gwA> show services ipsec-vpn ike security-associations detail"
$topo exec gwA picsec show services ipsec-vpn ike security-associations detail

step "IKE and ESP on the wire while hostA pings hostB (a clear on gwA first: a new IKE SA)"
$topo exec wan timeout 6 tcpdump -nli br0 -c 10 'esp or udp port 500 or udp port 4500' \
	2>/dev/null &
capture=$!
sleep 1
$topo exec gwA picsec clear services ipsec-vpn ike security-associations
sleep 1
$topo exec hostA ping -c 3 -i 0.5 -W 2 198.18.2.10
wait $capture || true

step "gwA> show services ipsec-vpn ipsec security-associations"
$topo exec gwA picsec show services ipsec-vpn ipsec security-associations
step "gwB> show services ipsec-vpn ike statistics"
$topo exec gwB picsec show services ipsec-vpn ike statistics
if [ $keep -eq 1 ]; then
	step "left up: '$topo exec gwA picsec' for the CLI, '$topo down' to remove it"
fi
