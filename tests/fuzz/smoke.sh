#!/usr/bin/env bash
# Runs one fuzzer for a bounded time over its seed corpus plus whatever it
# finds; prints one TAP line. Usage: smoke.sh FUZZER SECONDS
set -u
fuzzer=$1 secs=$2
name=$(basename "$fuzzer")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
seeds=tests/fuzz/corpus/$name
[ -d "$seeds" ] || seeds=
if "$fuzzer" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
	-artifact_prefix="$work/" "$work" $seeds >"$work/log" 2>&1; then
	echo "ok - $name ran ${secs}s without a crash"
else
	tail -40 "$work/log"
	echo "not ok - $name found a crash"
fi
