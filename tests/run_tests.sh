#!/bin/bash
# SPDX-License-Identifier: MIT
#
# run_tests.sh TESTDIR BINDIR - run every kselftest program in TESTDIR,
# show its KTAP output, and close with one line:
#     N passed, N failed, N skipped
# summed over all programs from their "# Totals:" lines. A program that
# crashes, times out or exits non-zero without reporting a failure counts
# as one failure; one that exits 4 (KSFT_SKIP) before any test, as one skip.
# Exits 1 if anything failed.
set -u
dir=${1:?test dir}
bindir=${2:-}
timeout=${AMXRT_TEST_TIMEOUT:-900}
export AMXRT_BIN="$bindir"
export AMXRT_SRCDIR="$(cd "$(dirname "$0")/.." && pwd)"
pass=0 fail=0 skip=0
failed_progs=()

for t in "$dir"/*; do
	[ -x "$t" ] && [ -f "$t" ] || continue
	name=$(basename "$t")
	log=$(mktemp)
	echo "# ==== $name"
	timeout -k 10 "$timeout" "$t" >"$log" 2>&1
	rc=$?
	cat "$log"
	tot=$(grep -E '^# Totals: ' "$log" | tail -n 1)
	if [ -n "$tot" ]; then
		p=$(sed -E 's/.* pass:([0-9]+).*/\1/' <<<"$tot")
		f=$(sed -E 's/.* fail:([0-9]+).*/\1/' <<<"$tot")
		s=$(sed -E 's/.* skip:([0-9]+).*/\1/' <<<"$tot")
		e=$(sed -E 's/.* error:([0-9]+).*/\1/' <<<"$tot")
		pass=$((pass + p)); skip=$((skip + s)); fail=$((fail + f + e))
		if [ "$rc" -ne 0 ] && [ "$rc" -ne 4 ] && [ "$f" -eq 0 ] && [ "$e" -eq 0 ]; then
			echo "# $name: exit status $rc without a reported failure"
			fail=$((fail + 1))
			f=1
		fi
		[ "$f" -gt 0 ] || [ "$e" -gt 0 ] && failed_progs+=("$name")
	elif [ "$rc" -eq 4 ]; then
		echo "# $name: skipped as a whole (see its output above)"
		skip=$((skip + 1))
	else
		echo "# $name: no results (exit status $rc$([ $rc -eq 124 ] && echo ', timed out'))"
		fail=$((fail + 1))
		failed_progs+=("$name")
	fi
	rm -f "$log"
done

if [ ${#failed_progs[@]} -gt 0 ]; then
	echo "# failing programs: ${failed_progs[*]}"
fi
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
