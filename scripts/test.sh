#!/bin/sh
# Builds picsec and runs the whole test suite. Installs what is missing first (Debian 12).
#   scripts/test.sh               the normal build, every suite
#   scripts/test.sh --sanitize    the same under AddressSanitizer + UndefinedBehaviorSanitizer
#   scripts/test.sh --valgrind    the unit and vector suites under valgrind's memcheck
# Further arguments go to `meson test` (e.g. --suite unit).
set -eu
cd "$(dirname "$0")/.."

builddir=build
setup_opts=""
case "${1:-}" in
--sanitize)
	shift
	builddir=build-sanitize
	# b_lundef=false: sanitizer runtimes resolve some symbols at load time.
	setup_opts="-Dsanitize=true -Db_lundef=false"
	;;
--valgrind)
	shift
	set -- --setup valgrind --suite unit --suite vectors --no-suite python "$@"
	;;
esac

./scripts/deps.sh test
if [ ! -f "$builddir/build.ninja" ]; then
	# shellcheck disable=SC2086 # options are words
	meson setup "$builddir" $setup_opts
fi
ninja -C "$builddir"
meson test -C "$builddir" --print-errorlogs "$@"
