#!/bin/sh
# Runs a test program under valgrind's memcheck, following the worker processes Criterion
# re-executes, and fails when any of them reported a memory error or a leak. (Criterion does
# not look at its workers' exit codes, so valgrind's own --error-exitcode would go unseen.)
set -u
logdir=$(mktemp -d /tmp/picsec-valgrind-XXXXXX)
valgrind --quiet --trace-children=yes --leak-check=full \
	--show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect \
	--log-file="$logdir/vg.%p" "$@"
rc=$?
found=0
for f in "$logdir"/vg.*; do
	[ -s "$f" ] || continue
	found=1
	echo "valgrind: $f" >&2
	cat "$f" >&2
done
rm -rf "$logdir"
[ "$found" -eq 0 ] || exit 1
exit "$rc"
