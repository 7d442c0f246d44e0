#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Replays one fuzzer's regression inputs (tests/fuzz/regressions/<target>/:
# inputs that once crashed it or broke a property) and its committed corpus
# (tests/fuzz/corpus/<target>/), each input exactly once: no mutation, no
# time budget, the same result on every run. Prints one TAP line.
# Usage: replay.sh FUZZER
set -u
fuzzer=$1
name=$(basename "$fuzzer")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
inputs=()
for d in "tests/fuzz/regressions/$name" "tests/fuzz/corpus/$name"; do
	[ -d "$d" ] || continue
	for f in "$d"/*; do
		[ -f "$f" ] && inputs+=("$f")
	done
done
regressions=$(find "tests/fuzz/regressions/$name" -type f 2>/dev/null | wc -l)
if [ ${#inputs[@]} -eq 0 ]; then
	echo "not ok - $name has no corpus or regression input to replay"
	exit 1
fi
# Files given by name run once each (libFuzzer's reproduce mode).
if "$fuzzer" -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$work/" \
	"${inputs[@]}" >"$work/log" 2>&1; then
	echo "ok - $name replayed ${#inputs[@]} inputs ($regressions regressions)"
else
	grep -E 'Running:|property failed|ERROR|SUMMARY' "$work/log" | tail -20
	echo "not ok - $name failed on a replayed input (log above)"
fi
