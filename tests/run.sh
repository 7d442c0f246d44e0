#!/usr/bin/env bash
# Runs every test: unit tests (ASan+UBSan build), fuzz replays, and the
# end-to-end scripts. Each prints TAP-style "ok - ..." / "not ok - ..."
# lines; a test program that exits non-zero without a "not ok" line counts
# as one failure. Ends with "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export BUILD
log=$(mktemp)
trap 'rm -f "$log"' EXIT
passed=0 failed=0

run_one() { # name, command...
	local name=$1 out rc
	shift
	echo "=== $name"
	out=$("$@" 2>&1); rc=$?
	printf '%s\n' "$out"
	local ok notok
	ok=$(printf '%s\n' "$out" | grep -c '^ok ' || true)
	notok=$(printf '%s\n' "$out" | grep -c '^not ok ' || true)
	if [ "$rc" -ne 0 ] && [ "$notok" -eq 0 ]; then
		echo "not ok - $name exited with status $rc"
		notok=1
	fi
	if [ "$ok" -eq 0 ] && [ "$notok" -eq 0 ]; then
		echo "not ok - $name ran no test"
		notok=1
	fi
	passed=$((passed + ok)); failed=$((failed + notok))
}

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
for t in "$BUILD"/tests/test_*; do
	[ -x "$t" ] && run_one "$(basename "$t")" "$t"
done
# Each fuzzer replays its regression inputs and committed corpus, each
# input once (exact, a few seconds in all); FUZZ_SMOKE_SECONDS=N adds a
# bounded random run per fuzzer. Campaigns: `make fuzz` (FUZZING.md).
for f in "$BUILD"/fuzz/fuzz_*; do
	[ -x "$f" ] || continue
	name=$(basename "$f")
	run_one "$name" tests/fuzz/replay.sh "$f"
	if [ "${FUZZ_SMOKE_SECONDS:-0}" -gt 0 ]; then
		run_one "$name smoke" tests/fuzz/smoke.sh "$f" "$FUZZ_SMOKE_SECONDS"
	fi
done
for e in tests/e2e/*.sh; do
	[ -x "$e" ] && run_one "$(basename "$e")" "$e"
done
echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
