#!/usr/bin/env bash
# bench/ike/run.sh: the IKE responder rate of picsec-iked beside strongSwan's charon, on
# deploy/topology/two-site, in the same run.
#
# bench/ike_load (picsec-iked's engine as a load initiator) runs in ps-gwA, alone there, on
# 192.0.2.1 ports 5500..5755 (new IKE SAs on each in turn, see below); it keeps a window of
# IKE SAs in flight, each IKE_SA_INIT + IKE_AUTH with one Child SA (PSK, IKE
# aes128-sha256-x25519, ESP aes128-sha256 without PFS), until N SAs or T seconds, and
# answers what the responder asks afterwards (Deletes). Its keys are in malloc'd memory
# wiped on free, not libsodium's guarded pages (whose mprotect/munmap TLB shootdowns cost
# it ~60% of its CPU here, CPU the responder shares on this machine; --load-args
# --guarded-keys keeps them). The responder in ps-gwB, one case after the other:
#
#   picsec      the picsec suite (two-site up --a none --b bench/ike/picsec-gwB.conf): one
#               responder-only tunnel; every Child SA goes through picsec-sadb into the PIC
#               (picsec-fwd); a new IKE SA of the peer replaces the tunnel's older one at
#               once, which picsec-iked deletes (a Delete the initiator answers)
#   strongswan  charon (Debian's strongSwan) with kernel-libipsec (Child SAs in user space,
#               ESP in UDP, so charon fakes a NAT: IKE_AUTH on 4500) and kernel-netlink
#               (routes; libcharon needs a kernel-net anyway), unique = replace: the same
#               replacement with a Delete. charon deletes the replaced IKE SA at once only
#               when the new one comes from another port; from the same address and port
#               it suspects a reauthentication and deletes it 10 s later, and meanwhile
#               every new IKE SA walks all those duplicates and schedules their delete
#               again (its rate falls from ~340/s to ~75/s within 8 s): hence the ports in
#               turn (--ports, default 256), which picsec-iked does not care about
#   strongswan-noroutes  (with --only) the same charon without routes (install_routes =
#               no): the lightest charon there is here. Debian ships no no-op kernel
#               interface (strongSwan's load-tester plugin, whose fake_kernel is one, is
#               not packaged), libcharon refuses to start without kernel-netlink (its
#               kernel-net), and this kernel has no XFRM ESP (ip xfrm state add: "Requested
#               type not found"), so kernel-libipsec stays
#   strongswan-keep    (with --only) charon with unique = no: it keeps every IKE SA, sends
#               no Delete
#
# Then a table: each case's IKE SAs/s, retransmissions, failures, the CPU seconds the
# responder's processes and the initiator took, the machine's load average; and the ratio
# picsec / strongSwan (goal: >= 3). --runs R repeats the cases in turn.
#
# Run as root after a build (meson setup build && ninja -C build; PICSEC_BUILD picks
# another build dir, as for two-site). All topology use holds /run/lock/picsec-two-site.lock
# (the tests take it too): a run waits for another to end (at most 15 min), and the
# topology it made is taken down at the end, also on failure or ^C.
set -eu

PROG=bench/ike/run.sh
REPO=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$REPO/bench/ike
B=${PICSEC_BUILD:-$REPO/build}
export PICSEC_BUILD=$B
TWO_SITE=$REPO/deploy/topology/two-site
LOCK=/run/lock/picsec-two-site.lock
CHARON=/usr/lib/ipsec/charon
PLUGINS=/usr/lib/ipsec/plugins
CONF_B=$HERE/picsec-gwB.conf
GOAL=3
ALL_CASES="picsec strongswan strongswan-noroutes strongswan-keep"

count=100000 seconds=20 window=64 runs=1 ports=256 only="picsec,strongswan" verbose=0 logs="" extra=""
swan_log=0

usage() {
	cat <<EOF
usage: $PROG [--count N] [--seconds T] [--window W] [--runs R] [--only CASES]
             [--logs DIR] [--load-args "ARGS"] [-v]
  --count N      stop each run after N IKE SAs established (default $count)
  --seconds T    or after T seconds (default $seconds)
  --window W     IKE SAs in flight at once (default $window)
  --ports P      the initiator's source ports, new IKE SAs on each in turn (default $ports)
  --runs R       repeat the cases in turn R times (default $runs)
  --only CASES   comma-separated among $ALL_CASES
                 (default $only)
  --logs DIR     keep the responders' logs and the initiator's output there
  --load-args A  more options for bench/ike_load (e.g. "--rtx-ms 500")
  --swan-log N   charon's log level (default 0: a line per SA, as picsec-iked)
  -v             the initiator's progress every second, the commands
EOF
}

die() { echo "$PROG: $*" >&2; exit 1; }
note() { echo "bench/ike: $*" >&2; }
vrun() { if [ "$verbose" -eq 1 ]; then note "\$ $*"; fi; "$@"; }

num_arg() {
	case $2 in '' | *[!0-9]*) die "$1: '$2' is not a number" ;; esac
	if [ "$2" -lt "$3" ] || [ "$2" -gt "$4" ]; then die "$1: $2 is not in $3..$4"; fi
}

while [ $# -gt 0 ]; do
	case $1 in
	--count) [ $# -ge 2 ] || die "--count needs N"; num_arg --count "$2" 1 1000000; count=$2; shift 2 ;;
	--seconds) [ $# -ge 2 ] || die "--seconds needs T"; num_arg --seconds "$2" 1 600; seconds=$2; shift 2 ;;
	--window) [ $# -ge 2 ] || die "--window needs W"; num_arg --window "$2" 1 4096; window=$2; shift 2 ;;
	--ports) [ $# -ge 2 ] || die "--ports needs P"; num_arg --ports "$2" 1 1024; ports=$2; shift 2 ;;
	--runs) [ $# -ge 2 ] || die "--runs needs R"; num_arg --runs "$2" 1 20; runs=$2; shift 2 ;;
	--only) [ $# -ge 2 ] || die "--only needs CASES"; only=$2; shift 2 ;;
	--logs) [ $# -ge 2 ] || die "--logs needs DIR"; logs=$2; shift 2 ;;
	--load-args) [ $# -ge 2 ] || die "--load-args needs ARGS"; extra=$2; shift 2 ;;
	--swan-log) [ $# -ge 2 ] || die "--swan-log needs N"; num_arg --swan-log "$2" 0 4; swan_log=$2; shift 2 ;;
	-v | --verbose) verbose=1; shift ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; die "unknown argument '$1'" ;;
	esac
done
cases=""
for c in $(printf %s "$only" | tr , ' '); do
	case " $ALL_CASES " in *" $c "*) cases="$cases $c" ;; *) die "--only: unknown case '$c'" ;; esac
done
[ -n "$cases" ] || die "--only: no case"

# ---------------------------------------------------------------------------- checks

[ "$(id -u)" -eq 0 ] || die "must run as root (network namespaces, charon)"
for t in ip ss flock awk setsid mount; do
	command -v "$t" >/dev/null 2>&1 || die "'$t' not found"
done
case $cases in *strongswan*)
	for f in "$CHARON" "$PLUGINS/libstrongswan-kernel-libipsec.so" "$PLUGINS/libstrongswan-vici.so"; do
		[ -e "$f" ] || die "$f missing: install strongSwan with 'scripts/deps.sh bench' (as root)"
	done
	command -v swanctl >/dev/null 2>&1 || die "swanctl missing: 'scripts/deps.sh bench'"
	;;
esac

# Build what is missing (the load initiator, the suite).
need="$B/bench/ike_load $B/services/busd/picsec-busd $B/services/configd/picsec-configd
      $B/services/sadb/picsec-sadb $B/services/iked/picsec-iked $B/forwarder/picsec-fwd
      $B/tools/cli/picsec"
missing=""
for f in $need; do [ -x "$f" ] || missing="$missing $f"; done
if [ -n "$missing" ]; then
	if [ ! -f "$B/build.ninja" ]; then
		note "$B is not set up: meson setup $B"
		meson setup "$B" >/dev/null || die "meson setup $B failed"
	fi
	note "building ($missing missing): ninja -C $B"
	timeout 1800 ninja -C "$B" >/dev/null || die "ninja -C $B failed"
	for f in $need; do [ -x "$f" ] || die "$f still missing after the build"; done
fi

SCRATCH=$(mktemp -d /tmp/picsec-bench-ike.XXXXXX)
chmod 0755 "$SCRATCH"
SWAN_PID="" SWAN_DIR="" TOPO=0

# ---------------------------------------------------------------------------- helpers

two_site() {
	if [ "$verbose" -eq 1 ]; then
		note "\$ two-site $*"
		timeout 120 "$TWO_SITE" "$@" 9>&-
	else
		timeout 120 "$TWO_SITE" "$@" >"$SCRATCH/two-site.out" 2>&1 9>&- ||
			{ tail -n 20 "$SCRATCH/two-site.out" >&2; return 1; }
	fi
}

# The CPU seconds (user + system) of PID, "0" when it is gone.
proc_cpu() {
	local st
	{ read -r st <"/proc/$1/stat"; } 2>/dev/null || { echo 0; return; }
	st=${st##*) }
	# After the command: state is field 3; utime and stime are fields 14 and 15.
	echo "$st" | awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($12 + $13) / hz }'
}

# The machine's busy and total jiffies so far.
cpu_jiffies() { awk '/^cpu / { t = 0; for (i = 2; i <= 9; i++) t += $i; print t - $5 - $6, t }' /proc/stat; }

# stop_pid PID NAME: TERM, up to 5 s, then KILL (only that pid).
stop_pid() {
	local i=0
	kill -0 "$1" 2>/dev/null || return 0
	kill -TERM "$1" 2>/dev/null || return 0
	while kill -0 "$1" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	if kill -0 "$1" 2>/dev/null; then
		note "$2 ($1) did not stop in 5 s: killing it"
		kill -KILL "$1" 2>/dev/null || true
	fi
	wait "$1" 2>/dev/null || true
}

swan_stop() {
	if [ -n "$SWAN_PID" ]; then stop_pid "$SWAN_PID" charon; fi
	SWAN_PID=""
}

cleanup() {
	local rc=$?
	trap - EXIT INT TERM HUP
	swan_stop
	if [ "$TOPO" -eq 1 ]; then two_site down || note "two-site down failed"; fi
	if [ -n "$logs" ]; then
		mkdir -p "$logs" && cp -r "$SCRATCH"/. "$logs"/ && note "logs in $logs"
	fi
	rm -rf "$SCRATCH"
	exit $rc
}
trap cleanup EXIT
trap 'note "interrupted"; exit 130' INT TERM HUP

# wait_for SECONDS DESC CMD...: runs CMD every 0.2 s until it succeeds (bounded).
wait_for() {
	local secs=$1 desc=$2 i=0
	shift 2
	while ! "$@" >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -lt $((secs * 5)) ] || { note "$desc: not within $secs s"; return 1; }
		sleep 0.2
	done
}

udp_listening() { "$TWO_SITE" exec gwB ss -Hlun "sport = :500" | grep -q '192\.0\.2\.2:500'; }

# swan_start DIR UNIQUE ROUTES: charon in ps-gwB with those settings.
swan_start() {
	local d=$1 sub
	for sub in run x509 x509ca x509aa x509ocsp x509crl x509ac pubkey private rsa ecdsa bliss pkcs8 pkcs12; do
		mkdir -p "$d/$sub"
	done
	sed -e "s|@DIR@|$d|g" -e "s|@ROUTES@|$3|" -e "s|@LOGLEVEL@|$swan_log|" "$HERE/strongswan.conf.in" >"$d/strongswan.conf"
	sed -e "s|@UNIQUE@|$2|" "$HERE/swanctl.conf.in" >"$d/swanctl.conf"
	! grep -q '@[A-Z]*@' "$d/strongswan.conf" "$d/swanctl.conf" || die "a template field is left"
	# ip netns exec gives a private mount namespace: /run there becomes d/run. Every exec
	# along the way keeps the pid, so SWAN_PID is charon's.
	# shellcheck disable=SC2016 # expanded by that sh
	setsid "$TWO_SITE" exec gwB sh -c 'mount --bind "$1" /run && STRONGSWAN_CONF="$2" exec "$3"' \
		sh "$d/run" "$d/strongswan.conf" "$CHARON" </dev/null >"$d/charon.out" 2>&1 9>&- &
	SWAN_PID=$!
	SWAN_DIR=$d
	swanctl_ok() { "$TWO_SITE" exec gwB env STRONGSWAN_CONF="$SWAN_DIR/strongswan.conf" swanctl "$@" --uri "unix://$SWAN_DIR/charon.vici"; }
	wait_for 10 "charon's vici socket" swanctl_ok --stats || { tail -n 20 "$d/charon.out" "$d/charon.log" >&2 2>/dev/null; return 1; }
	swanctl_ok --load-all --file "$d/swanctl.conf" >"$d/swanctl-load.out" 2>&1 ||
		{ cat "$d/swanctl-load.out" >&2; return 1; }
}

RESULTS=$SCRATCH/results
: >"$RESULTS"

# measure CASE RUN: one case, one run: up, load, down. Appends a line to $RESULTS.
measure() {
	local c=$1 run=$2 out=$SCRATCH/$1-$2 label pids="" p before="" busy0 tot0 busy1 tot1
	local cpu_resp=0 cpu_detail="" line load unique routes
	mkdir -p "$out"
	note "$c, run $run: setting up"
	case $c in
	picsec)
		label="picsec-iked (sadb + PIC)"
		two_site up --a none --b "$CONF_B" || return 1
		TOPO=1
		wait_for 10 "picsec-iked on 192.0.2.2:500" udp_listening || return 1
		sleep 1 # the first SPIs from sadb
		pids=$(awk '{print $1 "=" $2}' /run/picsec-two-site/gwB/pids)
		;;
	strongswan*)
		unique=replace routes=yes
		label="strongSwan $("$CHARON" --version 2>/dev/null | awk '{print $NF}') charon, libipsec"
		case $c in
		strongswan-noroutes) routes=no label="$label, no routes" ;;
		strongswan-keep) unique=no label="$label, unique=no" ;;
		esac
		two_site up || return 1
		TOPO=1
		swan_start "$out/swan" "$unique" "$routes" || return 1
		pids="charon=$SWAN_PID"
		;;
	esac
	for p in $pids; do before="$before ${p%%=*}=$(proc_cpu "${p#*=}")"; done
	read -r busy0 tot0 < <(cpu_jiffies)
	note "$c, run $run: ike_load --window $window --ports $ports --count $count --seconds $seconds $extra"
	local vflag=""
	[ "$verbose" -eq 0 ] || vflag=-v
	# shellcheck disable=SC2086 # extra: options for ike_load
	timeout $((seconds + 60)) "$TWO_SITE" exec gwA "$B/bench/ike_load" --window "$window" --ports "$ports" \
		--count "$count" --seconds "$seconds" $vflag $extra >"$out/ike_load.out" 2>"$out/ike_load.err" 9>&- ||
		note "$c: ike_load exited with status $? (its output: $out/ike_load.out)"
	read -r busy1 tot1 < <(cpu_jiffies)
	load=$(cut -d' ' -f1-3 /proc/loadavg)
	[ "$verbose" -eq 0 ] || cat "$out/ike_load.err" >&2
	grep '^ike_load:' "$out/ike_load.out" | sed 's/^/    /' >&2 || true
	for p in $pids; do
		local name=${p%%=*} b a
		# shellcheck disable=SC2086 # a list of name=seconds
		b=$(printf '%s\n' $before | awk -F= -v n="$name" '$1 == n {print $2}')
		a=$(proc_cpu "${p#*=}")
		cpu_resp=$(awk -v x="$cpu_resp" -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", x + a - b }')
		cpu_detail="$cpu_detail ${name#picsec-}=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", a - b }')"
	done
	case $c in
	picsec)
		"$TWO_SITE" exec gwB picsec show services ipsec-vpn ike statistics >"$out/ike-statistics.txt" 2>&1 || true
		cp /run/picsec-two-site/gwB/*.log "$out/" 2>/dev/null || true
		;;
	strongswan*)
		"$TWO_SITE" exec gwB env STRONGSWAN_CONF="$SWAN_DIR/strongswan.conf" swanctl --stats \
			--uri "unix://$SWAN_DIR/charon.vici" >"$out/swanctl-stats.txt" 2>&1 || true
		swan_stop
		;;
	esac
	two_site down || note "two-site down failed"
	TOPO=0
	line=$(grep '^RESULT ' "$out/ike_load.out" || echo "RESULT completed=0 rate=0")
	busy=$(awk -v b0="$busy0" -v t0="$tot0" -v b1="$busy1" -v t1="$tot1" \
		'BEGIN { printf "%.0f", (t1 > t0 ? 100 * (b1 - b0) / (t1 - t0) : 0) }')
	printf '%s|%s|%s|%s|%s|%s|%s\n' "$c" "$run" "$label" "${line#RESULT }" "$cpu_resp" \
		"${cpu_detail# }" "$load busy=$busy" >>"$RESULTS"
}

# ---------------------------------------------------------------------------- the runs

# The lock goes with this shell: what it starts (the suites, charon) gets no copy (9>&-).
exec 9>"$LOCK"
if ! flock -n 9; then
	note "waiting for $LOCK (another run holds the two-site topology)"
	flock -w 900 9 || die "$LOCK still held after 15 min"
fi
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
for run in $(seq 1 "$runs"); do
	for c in $cases; do
		measure "$c" "$run" || {
			note "$c, run $run: FAILED"
			printf '%s|%s|%s|%s|0|-|%s\n' "$c" "$run" "$c" "completed=0 rate=0 failed=1" \
				"$(cut -d' ' -f1-3 /proc/loadavg)" >>"$RESULTS"
			swan_stop
			if [ "$TOPO" -eq 1 ]; then two_site down || true; TOPO=0; fi
		}
	done
done

# ---------------------------------------------------------------------------- the table

echo
awk -F'|' -v W="$window" -v P="$ports" -v N="$count" -v T="$seconds" -v ncpu="$(nproc)" -v goal="$GOAL" \
	-v load0="$load_start" '
function kv(s, k,    a, i, n, p) {
	n = split(s, a, " ")
	for (i = 1; i <= n; i++) { split(a[i], p, "="); if (p[1] == k) return p[2] }
	return ""
}
{
	c = $1; run = $2; label = $3; r = $4
	rate = kv(r, "rate") + 0; done = kv(r, "completed") + 0
	rows[NR] = sprintf("%-42s %3s %9.1f %7d %7.2f %6s %6s %6s %7s %6s %7s  %s",
		label, run, rate, done, kv(r, "seconds"), kv(r, "retransmissions"),
		kv(r, "failures"), kv(r, "p50_ms"), $5,
		(done > 0 ? sprintf("%.2f", 1000 * $5 / done) : "-"), kv(r, "cpu_s"), $7)
	detail[NR] = $6; dl[NR] = label
	if (c == "picsec") { ps[run] = rate; pn++ ; psum += rate }
	if (c == "strongswan") { ss[run] = rate; sn++; ssum += rate }
	nr = NR
}
END {
	printf "bench/ike: IKE responder rate on two-site, IKE aes128-sha256-x25519 (PSK) + one Child SA " \
		"ESP aes128-sha256, window %d, %d source ports, up to %d SAs or %d s per run, this machine (%d vCPU)\n",
		W, P, N, T, ncpu
	printf "%-42s %3s %9s %7s %7s %6s %6s %6s %7s %6s %7s  %s\n", "responder", "run", "IKE SAs/s",
		"SAs", "s", "rtx", "fail", "p50ms", "CPU s", "ms/SA", "init s",
		"load avg 1/5/15 at the end, CPU busy %"
	for (i = 1; i <= nr; i++) print rows[i]
	print "(rtx: the initiator'"'"'s retransmissions; CPU s, ms/SA: the responder'"'"'s processes; init s: the initiator'"'"'s CPU;"
	print " CPU busy: the whole machine during the run, other users included)"
	print ""
	print "responder CPU seconds per process (user + system during the run):"
	for (i = 1; i <= nr; i++) printf "  %-42s %s\n", dl[i], detail[i]
	print ""
	printf "load average before the runs: %s\n", load0
	for (run in ps) if ((run in ss) && ss[run] > 0)
		printf "run %s: picsec / strongSwan = %.2f\n", run, ps[run] / ss[run]
	if (pn > 0 && sn > 0 && ssum > 0) {
		ratio = (psum / pn) / (ssum / sn)
		printf "picsec %.1f IKE SAs/s / strongSwan %.1f IKE SAs/s = %.2fx (mean of the runs); goal >= %gx: %s\n",
			psum / pn, ssum / sn, ratio, goal, (ratio >= goal ? "met" : "not met")
	}
	print "strongSwan: unique = replace (unless the row says unique=no), the closest to picsec-iked, which replaces a"
	print "  tunnel'"'"'s IKE SA by the peer'"'"'s newer one at once and deletes the older with a Delete: charon does the same"
	print "  when the new IKE SA comes from another source port (with one port, it keeps the older 10 s, suspecting a"
	print "  reauthentication, and rescans them all for each new one); the initiator uses its ports in turn."
}' "$RESULTS"
