#!/bin/bash
# The container's PID 1 for a picsec gateway: starts the suite (picsec-busd, -configd, -sadb,
# -iked and one picsec-fwd per services PIC that the configuration names), commits the
# configuration with `picsec configure -f`, then watches: when one of the processes ends, the
# others are stopped and the container ends with a failure, so that the engine's restart
# policy starts a whole suite again. SIGTERM (podman stop) stops the suite, last started
# first. Every daemon logs to the container's stderr, each line tagged with its name.
#
#   picsec-entrypoint [CONF]      the suite, CONF committed (default $PICSEC_CONF)
#   picsec-entrypoint --bus-only  busd, configd and sadb only; nothing committed
#   picsec-entrypoint CMD ARGS... anything else runs CMD (a shell, `picsec-busd --version`)
#
# Environment:
#   PICSEC_CONF         the configuration to commit (default /etc/picsec/picsec.conf); the
#                       suite starts without a commit when it does not exist
#   PICSEC_CONF_SUBST   "OLD=NEW ..." whole-word replacements made in a copy of CONF before
#                       the commit (e.g. the WAN addresses of config/examples/two-site-*.conf)
#   PICSEC_RUNDIR       the bus directory (default /run/picsec: `picsec` finds it there)
#   PICSEC_STATEDIR     committed configurations and the journal (default /var/lib/picsec)
#   PICSEC_IKED_ARGS    extra options for picsec-iked
#   PICSEC_FWD_ARGS     extra options for every picsec-fwd (e.g. --frames 1024)
#   PICSEC_NO_OFFLOAD   1 (default): GRO/GSO/TSO off on every interface, as two-site does
set -u

PROG=picsec-entrypoint
RUNDIR=${PICSEC_RUNDIR:-/run/picsec}
STATEDIR=${PICSEC_STATEDIR:-/var/lib/picsec}
CONF=${PICSEC_CONF:-/etc/picsec/picsec.conf}
export PICSEC_RUNDIR=$RUNDIR

say() { echo "$PROG: $*" >&2; }
die() { say "$*"; exit 1; }

bus_only=0
case "${1:-}" in
--bus-only) bus_only=1 ;;
-h | --help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
"") ;;
-*) die "unknown option '$1' (--help)" ;;
*)
	# A file: the configuration. Anything else: a command of the image.
	if [ -f "$1" ]; then CONF=$1; else exec "$@"; fi
	;;
esac

# ---------------------------------------------------------------------------- the host side

check_host() {
	local v
	read -r v </proc/sys/net/ipv4/ip_forward 2>/dev/null || v="?"
	[ "$v" = 1 ] || say "warning: net.ipv4.ip_forward is $v: the gateway will not route" \
		"(--sysctl net.ipv4.ip_forward=1)"
	# The PIC sends decrypted packets back into its service veth: rp_filter must be off
	# (RFC 3704 strict mode drops them); 'all' is the one a container can be given.
	read -r v </proc/sys/net/ipv4/conf/all/rp_filter 2>/dev/null || v="?"
	[ "$v" = 0 ] || say "warning: net.ipv4.conf.all.rp_filter is $v, not 0:" \
		"decrypted packets may be dropped (--sysctl net.ipv4.conf.all.rp_filter=0)"
	if [ "${PICSEC_NO_OFFLOAD:-1}" = 1 ] && command -v ethtool >/dev/null 2>&1; then
		local dev
		for dev in /sys/class/net/*; do
			dev=${dev##*/}
			[ "$dev" = lo ] && continue
			ethtool -K "$dev" gro off gso off tso off >/dev/null 2>&1 || true
		done
	fi
}

# ---------------------------------------------------------------------------- the suite

PIDS=()   # in start order
LABELS=()

start() {
	local label=$1
	shift
	"$@" </dev/null &
	PIDS+=("$!")
	LABELS+=("$label")
	say "started $label ($!)"
}

# stop_all: TERM to every process, last started first; KILL what is left after 5 s.
stopping=0
stop_all() {
	local i n left
	stopping=1
	for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
		kill -TERM "${PIDS[i]}" 2>/dev/null || true
	done
	for ((n = 0; n < 50; n++)); do
		left=0
		for i in "${!PIDS[@]}"; do kill -0 "${PIDS[i]}" 2>/dev/null && left=1; done
		[ $left -eq 1 ] || return 0
		sleep 0.1
	done
	for i in "${!PIDS[@]}"; do
		if kill -0 "${PIDS[i]}" 2>/dev/null; then
			say "${LABELS[i]} (${PIDS[i]}) did not stop in 5 s: killing it"
			kill -KILL "${PIDS[i]}" 2>/dev/null || true
		fi
	done
}

on_term() {
	say "stopping the suite"
	stop_all
	exit 0
}
trap on_term TERM INT

# pics FILE: the distinct services PICs (ms-X/Y/Z) that FILE names.
pics() { grep -oE 'ms-[0-9]+/[0-9]+/[0-9]+' "$1" | sort -u || true; }

# subst FILE: FILE with PICSEC_CONF_SUBST's whole-word replacements, in $RUNDIR.
subst() {
	local out=$RUNDIR/picsec.conf pair old new
	cp "$1" "$out" || die "cannot copy $1"
	for pair in ${PICSEC_CONF_SUBST:-}; do
		case $pair in *=*) ;; *) die "PICSEC_CONF_SUBST: '$pair' is not OLD=NEW" ;; esac
		old=${pair%%=*} new=${pair#*=}
		old=$(printf %s "$old" | sed 's/[.[\*^$/]/\\&/g')
		sed -i "s/\\b$old\\b/$new/g" "$out"
	done
	echo "$out"
}

commit() {
	local conf=$1 out tries=0 start_s=$SECONDS
	while :; do
		tries=$((tries + 1))
		if out=$(picsec configure -f "$conf" 2>&1); then
			[ -z "$out" ] || printf '%s\n' "$out" >&2
			say "committed $conf"
			return 0
		fi
		# Retry while configd is not registered yet; a refused commit is final.
		if ! printf '%s\n' "$out" | grep -qiE "no service 'configd'|configd.* not registered" ||
			[ $((SECONDS - start_s)) -ge 10 ] || [ $tries -ge 50 ]; then
			printf '%s\n' "$out" >&2
			return 1
		fi
		sleep 0.2
	done
}

mkdir -p "$RUNDIR" "$STATEDIR" || die "cannot make $RUNDIR or $STATEDIR"
chmod 0750 "$RUNDIR" "$STATEDIR"
rm -f "$RUNDIR/ready"
check_host

conf=""
if [ $bus_only -eq 0 ]; then
	if [ -f "$CONF" ]; then
		conf=$(subst "$CONF") || exit 1
		picsec-configd --check "$conf" >&2 || die "$CONF does not pass the commit checks"
	else
		say "no configuration at $CONF: the suite starts with nothing committed"
	fi
fi

start picsec-busd picsec-busd --rundir "$RUNDIR"
for ((n = 0; n < 100; n++)); do
	[ -S "$RUNDIR/requests.sock" ] && break
	kill -0 "${PIDS[0]}" 2>/dev/null || die "picsec-busd exited at start"
	sleep 0.05
done
[ -S "$RUNDIR/requests.sock" ] || { stop_all; die "picsec-busd made no $RUNDIR/requests.sock in 5 s"; }

start picsec-configd picsec-configd --rundir "$RUNDIR" --statedir "$STATEDIR"
start picsec-sadb picsec-sadb --rundir "$RUNDIR" --statedir "$STATEDIR"
if [ $bus_only -eq 0 ]; then
	# shellcheck disable=SC2086 # option words
	start picsec-iked picsec-iked --rundir "$RUNDIR" ${PICSEC_IKED_ARGS:-}
	if [ -n "$conf" ]; then
		for pic in $(pics "$conf"); do
			# shellcheck disable=SC2086
			start "picsec-fwd $pic" picsec-fwd --rundir "$RUNDIR" --pic "$pic" ${PICSEC_FWD_ARGS:-}
		done
		[ -n "$(pics "$conf")" ] || say "warning: $CONF names no PIC (ms-X/Y/Z): no picsec-fwd"
		commit "$conf" || { stop_all; die "the commit of $CONF failed"; }
	fi
fi
say "suite up: ${LABELS[*]}"
touch "$RUNDIR/ready"

# Watch: the first process to end ends the container.
while :; do
	wait -n "${PIDS[@]}"
	rc=$?
	[ $stopping -eq 0 ] || exit 0
	for i in "${!PIDS[@]}"; do
		if ! kill -0 "${PIDS[i]}" 2>/dev/null; then
			say "${LABELS[i]} (${PIDS[i]}) ended (status $rc): stopping the suite"
			stop_all
			exit 1
		fi
	done
done
