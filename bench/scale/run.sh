#!/usr/bin/env bash
# bench/scale/run.sh: 100,000 SAs through picsec-sadb into one PIC, and cleared when the PIC
# dies, with time and memory, beside the goals (installed in <= 2 s, cleared in <= 500 ms,
# <= 1 KiB of PIC memory per SA) and the raw cost of the SAs' OpenSSL contexts.
#
# A temporary runtime directory with picsec-busd, picsec-healthd (watching),
# picsec-configd, picsec-sadb and one picsec-fwd for ms-0/0/0, all in a network namespace
# this script makes and removes (picsec-scale-PID: ge-0-0-0 with the local gateway
# 192.0.2.1/24, its veth peer wan0; nothing leaves it). bench/scale/scale.conf is committed:
# one next-hop service set with a dynamic term and clear-ipsec-sas-on-pic-restart. No iked
# runs: bench_scale plays it (SaAllocSpi, SaInstall), K Child SAs per SaInstall for each K
# of --per-install (1: as picsec-iked does; 8: sadb's most, 16 SAs), kills the PIC with
# SIGKILL and times the clearing; the PIC is started again for the next case.
#
# Run as root after a build (PICSEC_BUILD picks another build dir). Does not touch the
# two-site topology (nor its lock): its own namespace, directory and processes only.
set -eu

PROG=bench/scale/run.sh
REPO=$(cd "$(dirname "$0")/../.." && pwd)
B=${PICSEC_BUILD:-$REPO/build}
CONF=$REPO/bench/scale/scale.conf
NS=picsec-scale-$$
PIC=ms-0/0/0

count=100000 per_install="1 8" window=1024 runs=1 verbose=0 keep="" extra="" perf="" thp=1

usage() {
	cat <<EOF
usage: $PROG [--count N] [--per-install "K ..."] [--window W] [--runs R] [--keep DIR] [-v]
  --count N          SAs per run (default $count)
  --per-install "K"  Child SAs per SaInstall, one case each (default "$per_install")
  --window W         SaInstall requests in flight (default $window: many Child SAs
                     negotiated at once, each installed as it completes)
  --runs R           repeat the cases R times (default $runs)
  --args "ARGS"      more options for bench_scale (--gcm)
  --no-thp           busd's, sadb's and the PIC's heaps in 4 KiB pages; by default they
                     are in transparent huge pages (GLIBC_TUNABLES=glibc.malloc.hugetlb=1)
                     as their systemd units and picsec-healthd --supervise start them
  --keep DIR         keep the daemons' logs and the outputs there
  --perf DIR         perf record (DWARF call graphs) of picsec-sadb and picsec-fwd in each
                     case, into DIR
  -v                 progress every second, the commands
EOF
}

die() { echo "$PROG: $*" >&2; exit 1; }
note() { echo "bench/scale: $*" >&2; }

while [ $# -gt 0 ]; do
	case $1 in
	--count) [ $# -ge 2 ] || die "--count needs N"; count=$2; shift 2 ;;
	--per-install) [ $# -ge 2 ] || die "--per-install needs K"; per_install=$2; shift 2 ;;
	--window) [ $# -ge 2 ] || die "--window needs W"; window=$2; shift 2 ;;
	--runs) [ $# -ge 2 ] || die "--runs needs R"; runs=$2; shift 2 ;;
	--args) [ $# -ge 2 ] || die "--args needs ARGS"; extra=$2; shift 2 ;;
	--keep) [ $# -ge 2 ] || die "--keep needs DIR"; keep=$2; shift 2 ;;
	--perf) [ $# -ge 2 ] || die "--perf needs DIR"; perf=$2; shift 2 ;;
	--thp) thp=1; shift ;;
	--no-thp) thp=0; shift ;;
	-v | --verbose) verbose=1; shift ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; die "unknown argument '$1'" ;;
	esac
done
for v in "$count" "$window" "$runs" $per_install; do
	case $v in '' | *[!0-9]*) die "'$v' is not a number" ;; esac
done

[ "$(id -u)" -eq 0 ] || die "must run as root (a network namespace, the PIC's XDP)"
command -v ip >/dev/null 2>&1 || die "'ip' (iproute2) not found"
[ -z "$perf" ] || command -v perf >/dev/null 2>&1 || die "--perf: 'perf' not found"
need="$B/bench/bench_scale $B/services/busd/picsec-busd $B/services/configd/picsec-configd
      $B/services/sadb/picsec-sadb $B/services/healthd/picsec-healthd $B/forwarder/picsec-fwd
      $B/tools/cli/picsec"
for f in $need; do
	[ -x "$f" ] || die "$f is missing: build first (ninja -C $B)"
done

SCRATCH=$(mktemp -d /tmp/picsec-bench-scale.XXXXXX)
RUN=$SCRATCH/run STATE=$SCRATCH/state
mkdir -p "$RUN" "$STATE"
chmod 0750 "$RUN" "$STATE"
PIDS="" FWD_PID="" SADB_PID="" PERF_PIDS=""

# stop PID: TERM, up to 3 s, then KILL (that pid only).
stop() {
	local i=0
	kill -0 "$1" 2>/dev/null || return 0
	kill -TERM "$1" 2>/dev/null || return 0
	while kill -0 "$1" 2>/dev/null && [ $i -lt 30 ]; do sleep 0.1; i=$((i + 1)); done
	kill -KILL "$1" 2>/dev/null || true
}

cleanup() {
	local rc=$? p
	trap - EXIT INT TERM HUP
	for p in $PERF_PIDS $FWD_PID $SADB_PID $PIDS; do stop "$p"; done
	ip netns del "$NS" 2>/dev/null || true
	if [ -n "$keep" ]; then
		mkdir -p "$keep" && cp -r "$SCRATCH"/. "$keep"/ && note "logs in $keep"
	fi
	rm -rf "$SCRATCH"
	exit $rc
}
trap cleanup EXIT
trap 'note "interrupted"; exit 130' INT TERM HUP

# start LABEL CMD...: CMD in the namespace, its output in RUN/LABEL.log; its pid in LAST.
# From a subshell: not a job of ours, so that bench_scale's SIGKILL goes unreported here
# (init reaps it). ip netns exec execs in turn: the pid is the daemon's.
start() {
	local label=$1 tunables=${GLIBC_TUNABLES:-}
	shift
	[ "$verbose" -eq 0 ] || note "\$ $*"
	# As deployed: busd, sadb and the PIC in huge pages (deploy/systemd, healthd
	# --supervise).
	case $label in busd | sadb | fwd) [ "$thp" -eq 0 ] || tunables=glibc.malloc.hugetlb=1 ;; esac
	LAST=$( (GLIBC_TUNABLES=$tunables setsid ip netns exec "$NS" "$@" </dev/null \
		>"$RUN/$label.log" 2>&1 & echo $!) )
}

wait_for() {
	local secs=$1 desc=$2 i=0
	shift 2
	while ! "$@" >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -lt $((secs * 10)) ] || { note "$desc: not within $secs s"; return 1; }
		sleep 0.1
	done
}

# ---------------------------------------------------------------------------- the suite

ip netns add "$NS"
ip -n "$NS" link set lo up
ip netns exec "$NS" sh -c 'echo 1 >/proc/sys/net/ipv4/ip_forward; echo 0 >/proc/sys/net/ipv4/conf/all/rp_filter'
ip -n "$NS" link add ge-0-0-0 mtu 1500 type veth peer name wan0 mtu 1500
ip -n "$NS" addr add 192.0.2.1/24 dev ge-0-0-0
ip -n "$NS" link set wan0 up
ip -n "$NS" link set ge-0-0-0 up

start busd "$B/services/busd/picsec-busd" --rundir "$RUN"
BUSD_PID=$LAST
PIDS="$LAST $PIDS"
wait_for 5 "picsec-busd's sockets" test -S "$RUN/requests.sock" || die "busd did not start"
start healthd "$B/services/healthd/picsec-healthd" --rundir "$RUN"
HEALTHD_PID=$LAST
PIDS="$LAST $PIDS"
start configd "$B/services/configd/picsec-configd" --rundir "$RUN" --statedir "$STATE"
PIDS="$LAST $PIDS"
commit() { "$B/tools/cli/picsec" --rundir "$RUN" configure -f "$CONF"; }
wait_for 5 "the commit of $CONF" commit || { commit || true; die "commit failed"; }

# Each case has a sadb and a PIC of its own (sadb asks configd for the configuration; the
# PIC for sadb's snapshot): one case's memory is not the next one's.
start_case() {
	start sadb "$B/services/sadb/picsec-sadb" --rundir "$RUN" --statedir "$STATE"
	SADB_PID=$LAST
	start fwd "$B/forwarder/picsec-fwd" --rundir "$RUN" --pic "$PIC"
	FWD_PID=$LAST
}

# ---------------------------------------------------------------------------- the cases

RESULTS=$SCRATCH/results
: >"$RESULTS"
for run in $(seq 1 "$runs"); do
	for k in $per_install; do
		out=$SCRATCH/case-$k-$run.out
		start_case
		note "run $run: $count SAs, $k Child SA(s) per SaInstall, window $window (PIC $FWD_PID)"
		vflag=""
		[ "$verbose" -eq 0 ] || vflag=-v
		PERF_PIDS=""
		if [ -n "$perf" ]; then
			mkdir -p "$perf"
			for p in sadb=$SADB_PID fwd=$FWD_PID; do
				perf record -q --call-graph dwarf,16384 -F 499 \
					-o "$perf/${p%%=*}-$k-$run.data" -p "${p#*=}" \
					>/dev/null 2>&1 &
				PERF_PIDS="$PERF_PIDS $!"
			done
			sleep 0.5
		fi
		pre=""
		[ -z "$perf" ] || pre="perf record -q --call-graph dwarf,16384 -F 499 -o $perf/bench-$k-$run.data"
		# shellcheck disable=SC2086 # extra: options for bench_scale; pre: perf's
		if $pre "$B/bench/bench_scale" --rundir "$RUN" --pic-pid "$FWD_PID" --sadb-pid "$SADB_PID" \
			--count "$count" --per-install "$k" --window "$window" --cpu "sadb=$SADB_PID" \
			--cpu "fwd=$FWD_PID" --cpu "busd=$BUSD_PID" --cpu "healthd=$HEALTHD_PID" \
			$vflag $extra >"$out"; then
			:
		else
			note "run $run, $k per SaInstall: bench_scale failed (status $?)"
		fi
		for p in $PERF_PIDS; do kill -INT "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
		PERF_PIDS=""
		cat "$out"
		echo
		grep '^RESULT ' "$out" >>"$RESULTS" || true
		# bench_scale killed the PIC.
		stop "$FWD_PID"
		stop "$SADB_PID"
		FWD_PID="" SADB_PID=""
		mv "$RUN/fwd.log" "$SCRATCH/fwd-$k-$run.log" 2>/dev/null || true
		mv "$RUN/sadb.log" "$SCRATCH/sadb-$k-$run.log" 2>/dev/null || true
	done
done

echo "bench/scale: summary ($count SAs a run, window $window, $(nproc) vCPU," \
	"busd's, sadb's and the PIC's heaps in $([ "$thp" -eq 1 ] && echo "huge pages" || echo "4 KiB pages"))"
awk -v goal_i=2 -v goal_c=0.5 -v goal_m=1024 '
function kv(s, k,    a, i, n, p) {
	n = split(s, a, " ")
	for (i = 1; i <= n; i++) { split(a[i], p, "="); if (p[1] == k) return p[2] }
	return ""
}
function met(v, goal) { return v > 0 && v <= goal ? "met" : "NOT met" }
BEGIN {
	printf "%-13s %10s %10s %8s %12s %12s %8s  %s\n", "Child SAs/msg", "install s",
		"clear s", "B/SA", "ref make s", "ref B/SA", "busy %", "goals 2 s / 0.5 s / 1 KiB"
}
{
	i = kv($0, "install_s") + 0; c = kv($0, "clear_s") + 0; m = kv($0, "bytes_per_sa") + 0
	printf "%-13s %10.3f %10.3f %8.0f %12.3f %12.0f %8.0f  %s / %s / %s%s\n",
		kv($0, "per_install"), i, c, m, kv($0, "ref_make_s"), kv($0, "ref_bytes_per_sa"),
		100 * kv($0, "busy"), met(i, goal_i), met(c, goal_c), met(m, goal_m),
		(kv($0, "failures") > 0 ? ", " kv($0, "failures") " failed" : "")
}' "$RESULTS"
