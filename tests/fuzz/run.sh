#!/bin/sh
# Builds the fuzz targets with clang in their own build directory and runs one of them for
# a while on its seed corpus (tests/fuzz/corpus/TARGET). A crash fails, and leaves the
# input that made it in the work directory it names.
#   tests/fuzz/run.sh SOURCE_DIR TARGET SECONDS
set -eu
src=$(cd "$1" && pwd) # absolute: the run happens in a work directory
target=$2
seconds=$3
build="$src/build-fuzz"

work=$(mktemp -d /tmp/picsec-fuzz-XXXXXX)
if [ ! -f "$build/build.ninja" ]; then
	CC=clang meson setup "$build" "$src" -Dfuzz=true -Dtests=disabled -Db_lundef=false \
		>"$work/setup.log" 2>&1 || { cat "$work/setup.log"; exit 1; }
fi
ninja -C "$build" "tests/fuzz/$target" >"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
cp "$src/tests/fuzz/corpus/$target"/* "$work/"
cd "$work"
# New inputs go to $work; the seeds in the repository stay as they are.
if "$build/tests/fuzz/$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
	-print_final_stats=1 "$work" >fuzz.log 2>&1; then
	tail -n 12 fuzz.log
	rm -rf "$work"
	exit 0
fi
cat fuzz.log
echo "fuzz: $target failed; inputs and log kept in $work" >&2
exit 1
