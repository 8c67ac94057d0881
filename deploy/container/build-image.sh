#!/bin/bash
# Builds the picsec gateway image locally, without any registry:
#   1. a Debian 12 root, `debootstrap --variant=minbase bookworm` from this machine's
#      configured Debian mirror, with the runtime libraries the built binaries link (found
#      with ldd and dpkg -S) and a few tools (iproute2, ping, ethtool, procps), brought up to
#      date from bookworm-updates and bookworm-security when the mirror list names them;
#   2. that root imported as the base image localhost/picsec-base:KEY (`podman import`);
#   3. `meson install --destdir --tags runtime` of the build directory (which builds what is
#      not built yet), and the entrypoint,
#      put on top by `podman build` with deploy/container/Containerfile.
# The root is cached in $CACHE/KEY/rootfs.tar, KEY a hash of the package list, the mirror
# and the suite: a second run only does step 3 (seconds). Run as root.
set -euo pipefail

PROG=build-image.sh
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
BUILD=${PICSEC_BUILD:-$REPO/build}
TAG=localhost/picsec:latest
CACHE=${PICSEC_CONTAINER_CACHE:-/var/cache/picsec-container}
ENGINE=${PICSEC_ENGINE:-podman}
MIRROR=${PICSEC_MIRROR:-}
SUITE=bookworm
REFRESH=0
UPDATES=1

# Always in the root, whatever the binaries link today: the libraries of every daemon the
# suite has or is getting (metricsd's libmicrohttpd) so that a new daemon does not change
# the key, and the tools a gateway is looked at with.
BASE_PKGS="libzmq5 libprotobuf-c1 libsodium23 libev4 libssl3 libxdp1 libbpf1 libsystemd0
 libmnl0 libedit2 libmicrohttpd12 iproute2 iputils-ping ethtool procps"

usage() {
	cat <<EOF
usage: $PROG [--build DIR] [--tag NAME] [--cache DIR] [--mirror URL] [--no-updates]
             [--refresh] [--base-only]
  --build DIR    the meson build directory to install from (default \$PICSEC_BUILD, else
                 $REPO/build); built already (ninja -C DIR)
  --tag NAME     the image to make (default $TAG)
  --cache DIR    where the Debian roots are kept (default \$PICSEC_CONTAINER_CACHE, else
                 $CACHE)
  --mirror URL   the Debian mirror (default: the one /etc/apt/sources.list* names for
                 $SUITE, else http://deb.debian.org/debian)
  --no-updates   the root as debootstrap makes it (no bookworm-updates/-security upgrade)
  --refresh      make the root again even if it is cached
  --base-only    make (or find) the base image only; print its name
Prints the image name on its last line. \$PICSEC_ENGINE picks the engine (default podman).
EOF
}

say() { echo "$PROG: $*" >&2; }
die() { say "$*"; exit 1; }

base_only=0
while [ $# -gt 0 ]; do
	case $1 in
	--build) BUILD=${2:?--build DIR}; shift 2 ;;
	--tag) TAG=${2:?--tag NAME}; shift 2 ;;
	--cache) CACHE=${2:?--cache DIR}; shift 2 ;;
	--mirror) MIRROR=${2:?--mirror URL}; shift 2 ;;
	--no-updates) UPDATES=0; shift ;;
	--refresh) REFRESH=1; shift ;;
	--base-only) base_only=1; shift ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done

[ "$(id -u)" -eq 0 ] || die "must run as root (debootstrap, $ENGINE import)"
for c in "$ENGINE" debootstrap meson dpkg ldd tar sha256sum flock; do
	command -v "$c" >/dev/null 2>&1 || die "'$c' not found (scripts/deps.sh test installs podman and debootstrap)"
done

# ---------------------------------------------------------------------------- the mirror

# sources_uri SUITE: the first URI that /etc/apt/sources.list* gives for SUITE (main), in
# either format (deb822 .sources stanzas or one-line .list entries).
sources_uri() {
	local suite=$1 f
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		case $f in
		*.sources)
			awk -v want="$suite" '
				function flush() {
					if (types ~ /(^| )deb( |$)/ && (" " suites " ") ~ (" " want " ") &&
					    (" " comps " ") ~ / main /) { split(uris, u, " "); print u[1]; found = 1; exit }
					types = uris = suites = comps = ""
				}
				/^[ \t]*#/ { next }
				/^[ \t]*$/ { flush(); next }
				tolower($1) == "types:" { $1 = ""; types = $0 }
				tolower($1) == "uris:" { $1 = ""; uris = $0 }
				tolower($1) == "suites:" { $1 = ""; suites = $0 }
				tolower($1) == "components:" { $1 = ""; comps = $0 }
				END { if (!found) flush() }' "$f"
			;;
		*)
			awk -v want="$suite" '
				$1 == "deb" {
					i = 2
					if ($2 ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
					if ($(i + 1) == want) { for (j = i + 2; j <= NF; j++) if ($j == "main") { print $i; exit } }
				}' "$f"
			;;
		esac
	done | sed -n 1p
}

if [ -z "$MIRROR" ]; then
	MIRROR=$(sources_uri "$SUITE")
	[ -n "$MIRROR" ] || MIRROR=http://deb.debian.org/debian
fi
MIRROR=${MIRROR%/}
UPDATES_URI="" SECURITY_URI=""
if [ $UPDATES -eq 1 ]; then
	UPDATES_URI=$(sources_uri "$SUITE-updates")
	SECURITY_URI=$(sources_uri "$SUITE-security")
fi

# ---------------------------------------------------------------------------- the binaries

[ -f "$BUILD/build.ninja" ] || die "$BUILD is not a meson build directory (meson setup $BUILD)"
BUILD=$(cd "$BUILD" && pwd)
CTX=$(mktemp -d /tmp/picsec-image.XXXXXX)
trap 'rm -rf "$CTX"' EXIT
t0=$SECONDS

meson install -C "$BUILD" --destdir "$CTX/stage" --tags runtime --quiet >&2 ||
	die "meson install from $BUILD failed (built? ninja -C $BUILD)"
cp "$HERE/entrypoint.sh" "$CTX/entrypoint.sh"
chmod 0755 "$CTX/entrypoint.sh"
[ -x "$CTX/stage/usr/local/sbin/picsec-busd" ] || die "$BUILD installs no picsec-busd"

# The libraries the installed programs link, and the Debian packages that hold them: one
# `dpkg -S` for all (it is slow to start), each library asked under every name usrmerge may
# have recorded it by (/lib or /usr/lib, the link or its target).
declare -A libs=()
while IFS= read -r -d '' f; do
	head -c4 "$f" | grep -q ELF || continue
	if ldd "$f" | grep -q 'not found'; then
		ldd "$f" >&2
		die "$f: a library it needs is not found on this machine"
	fi
	while read -r lib; do libs[$lib]=1; done < <(ldd "$f" | awk '$2 == "=>" && $3 ~ /^\// {print $3}')
done < <(find "$CTX/stage" -type f -perm -u+x -print0)
[ ${#libs[@]} -gt 0 ] || die "no dynamically linked program in the installation: nothing to look up"

names() { local r; r=$(readlink -f "$1"); printf '%s\n' "$1" "$r" "${1#/usr}" "${r#/usr}" "/usr$1" "/usr$r"; }
declare -A owner=()
while IFS= read -r line; do
	# "libssl3:amd64: /usr/lib/x86_64-linux-gnu/libcrypto.so.3", "a, b: PATH" for a shared one
	path=${line##*: }
	pkg=${line%%: /*}
	pkg=${pkg%%,*}
	owner[$path]=${pkg%%:*}
done < <(for lib in "${!libs[@]}"; do names "$lib"; done | sort -u | xargs dpkg -S 2>/dev/null || true)
detected=""
for lib in "${!libs[@]}"; do
	pkg=""
	while read -r n; do [ -n "${owner[$n]:-}" ] && { pkg=${owner[$n]}; break; }; done < <(names "$lib")
	[ -n "$pkg" ] || die "no Debian package holds $lib (a library from outside the archive?)"
	detected="$detected $pkg"
done

# The packages, sorted and unique; arch suffixes off (libssl3:amd64).
# shellcheck disable=SC2086 # lists of words
PKGS=$(printf '%s\n' $BASE_PKGS $detected | sed 's/:.*//' | sort -u | tr '\n' ' ')
PKGS=${PKGS% }
KEY=$(printf 'suite=%s variant=minbase mirror=%s updates=%s security=%s arch=%s\npackages=%s\n' \
	"$SUITE" "$MIRROR" "$UPDATES_URI" "$SECURITY_URI" "$(dpkg --print-architecture)" "$PKGS" |
	sha256sum | cut -c1-16)
BASE=localhost/picsec-base:$KEY
say "packages: $PKGS"
say "mirror $MIRROR${SECURITY_URI:+, updates from $SECURITY_URI}; base $BASE"

# ---------------------------------------------------------------------------- the base root

mkdir -p "$CACHE"
exec 9>"$CACHE/lock"
flock -w 900 9 || die "$CACHE/lock held for 15 minutes by another build"

# make_root DIR: debootstrap into DIR, the updates applied, apt's caches emptied.
make_root() {
	local root=$1 include
	include=$(printf %s "$PKGS" | tr ' ' ',')
	say "debootstrap --variant=minbase $SUITE from $MIRROR (a few minutes at most)"
	if ! debootstrap --variant=minbase --include="$include" "$SUITE" "$root" "$MIRROR" \
		>"$CACHE/$KEY.debootstrap.log" 2>&1; then
		tail -n 20 "$CACHE/$KEY.debootstrap.log" >&2
		die "debootstrap failed (its log: $CACHE/$KEY.debootstrap.log)"
	fi
	{
		echo "deb $MIRROR $SUITE main"
		[ -z "$UPDATES_URI" ] || echo "deb ${UPDATES_URI%/} $SUITE-updates main"
		[ -z "$SECURITY_URI" ] || echo "deb ${SECURITY_URI%/} $SUITE-security main"
	} >"$root/etc/apt/sources.list"
	if [ -n "$UPDATES_URI$SECURITY_URI" ]; then
		say "upgrading the root from $SUITE-updates and $SUITE-security"
		mount -t proc proc "$root/proc"
		if ! { chroot "$root" apt-get -qq update &&
			DEBIAN_FRONTEND=noninteractive chroot "$root" apt-get -y -qq \
				-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold upgrade; } \
			>>"$CACHE/$KEY.debootstrap.log" 2>&1; then
			umount "$root/proc"
			tail -n 20 "$CACHE/$KEY.debootstrap.log" >&2
			die "the upgrade in the root failed (log: $CACHE/$KEY.debootstrap.log)"
		fi
		umount "$root/proc"
	fi
	chroot "$root" apt-get -qq clean
	rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/log/*.log \
		"$root"/var/cache/debconf/*-old "$root"/var/lib/dpkg/*-old
	# The image's own resolver file and hostname come from the engine.
	: >"$root/etc/hostname"
	rm -f "$root/etc/resolv.conf"
}

tb=$SECONDS
if [ $REFRESH -eq 1 ]; then
	"$ENGINE" rmi "$BASE" >/dev/null 2>&1 || true
	rm -f "$CACHE/$KEY/rootfs.tar"
fi
if "$ENGINE" image exists "$BASE" 2>/dev/null; then
	say "base image $BASE is there already"
else
	if [ ! -s "$CACHE/$KEY/rootfs.tar" ]; then
		work=$CACHE/$KEY.tmp
		rm -rf "$work"
		mkdir -p "$work"
		make_root "$work/root"
		tar -C "$work/root" --numeric-owner --xattrs -cf "$work/rootfs.tar" .
		tr " " "\n" <<<"$PKGS" >"$work/packages"
		rm -rf "$work/root" "${CACHE:?}/$KEY"
		mv "$work" "$CACHE/$KEY"
		say "root cached in $CACHE/$KEY ($((SECONDS - tb)) s)"
	fi
	"$ENGINE" import --change 'CMD ["/bin/bash"]' "$CACHE/$KEY/rootfs.tar" "$BASE" >/dev/null
	say "imported $BASE"
fi
say "base ready in $((SECONDS - tb)) s"
# Keep the three roots used last (a plain and a sanitizer build each have one); the others,
# and their base images, go.
touch "$CACHE/$KEY"
for old in $(cd "$CACHE" && ls -1dt -- */ 2>/dev/null | sed 's:/$::' | grep -E '^[0-9a-f]{16}$' | tail -n +4); do
	say "removing the old root $CACHE/$old"
	"$ENGINE" rmi "localhost/picsec-base:$old" >/dev/null 2>&1 || true
	rm -rf "${CACHE:?}/$old" "$CACHE/$old.debootstrap.log"
done
flock -u 9

if [ $base_only -eq 1 ]; then
	echo "$BASE"
	exit 0
fi

# ---------------------------------------------------------------------------- seccomp

# The engine's default seccomp profile (containers-common's) allows bpf(2) only with
# CAP_SYS_ADMIN; the kernel itself has asked for CAP_BPF instead since Linux 5.8. Write the
# host's default profile with that one change (bpf allowed with CAP_BPF too, still refused
# without either) to $CACHE/seccomp.json, the file compose.yaml names for the gateways.
SECCOMP_IN=${PICSEC_SECCOMP_DEFAULT:-/usr/share/containers/seccomp.json}
if [ -f "$SECCOMP_IN" ] && command -v python3 >/dev/null 2>&1; then
	python3 - "$SECCOMP_IN" "$CACHE/seccomp.json.tmp" <<'PY'
import json, sys
profile = json.load(open(sys.argv[1]))
rules = []
for rule in profile["syscalls"]:
    if "bpf" in rule["names"] and len(rule["names"]) > 1:
        rest = dict(rule, names=[n for n in rule["names"] if n != "bpf"])
        rules.append(rest)
        rule = dict(rule, names=["bpf"])
    if rule["names"] == ["bpf"]:
        if rule.get("action") == "SCMP_ACT_ALLOW" and rule.get("includes", {}).get("caps") == ["CAP_SYS_ADMIN"]:
            rules.append(rule)
            rule = dict(rule, includes={"caps": ["CAP_BPF"]}, comment="picsec: CAP_BPF is enough")
        elif rule.get("action") == "SCMP_ACT_ERRNO" and rule.get("excludes", {}).get("caps") == ["CAP_SYS_ADMIN"]:
            rule = dict(rule, excludes={"caps": ["CAP_SYS_ADMIN", "CAP_BPF"]})
    rules.append(rule)
profile["syscalls"] = rules
json.dump(profile, open(sys.argv[2], "w"), indent=1)
PY
	mv "$CACHE/seccomp.json.tmp" "$CACHE/seccomp.json"
	say "seccomp profile for the gateways: $CACHE/seccomp.json"
else
	say "warning: no $SECCOMP_IN (or no python3): no seccomp profile made; see README.md"
fi

# ---------------------------------------------------------------------------- the image

version=$("$CTX/stage/usr/local/sbin/picsec-busd" --version 2>/dev/null | awk '{print $2}') || version=unknown
previous=$("$ENGINE" image inspect --format '{{.Id}}' "$TAG" 2>/dev/null) || previous=""
"$ENGINE" build --quiet -f "$HERE/Containerfile" --build-arg "BASE=$BASE" \
	--build-arg "VERSION=${version:-unknown}" -t "$TAG" "$CTX" >/dev/null ||
	die "$ENGINE build failed"
# The image this tag named before is left without a name: remove it unless a container uses it.
now=$("$ENGINE" image inspect --format '{{.Id}}' "$TAG")
[ -z "$previous" ] || [ "$previous" = "$now" ] || "$ENGINE" rmi "$previous" >/dev/null 2>&1 || true
say "built $TAG from $BUILD in $((SECONDS - t0)) s"
echo "$TAG"
