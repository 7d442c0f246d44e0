#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The Prometheus exposition stays valid whatever the wire puts in a label:
# `test_prom --dump` renders series whose label values carry quotes,
# backslashes, newlines, control bytes and invalid UTF-8, with folding past
# a cap, and `promtool check metrics` (parser and linter) must accept it.
# Builds nothing: run `make san` first.
. "$(dirname "$0")/lib.sh"
DUMP=$BUILD/tests/test_prom

if [ ! -x "$DUMP" ]; then
	not_ok "$DUMP is built (run make san)"
	t_done
fi
if ! command -v promtool >/dev/null; then
	echo "ok - promtool check metrics # skip: promtool is not installed"
	t_done
fi

"$DUMP" --dump >"$T_TMP/metrics" 2>"$T_TMP/dump.err"
assert_eq "metrics: test_prom --dump exits 0" 0 "$?"
assert_contains "metrics: the hostile quote, backslash and newline are in, escaped" \
	'sni="a\"b\\c\nd",outcome="ok"' "$(cat "$T_TMP/metrics")"
assert_contains "metrics: tuples past the cap are folded and counted" \
	'tlswatch_metrics_series_folded_total{family="tlswatch_cert_expiry_seconds"} 10' \
	"$(cat "$T_TMP/metrics")"
assert_true "metrics: the exposition is valid UTF-8" \
	"$PY" -c 'import sys; sys.stdin.buffer.read().decode("utf-8")' <"$T_TMP/metrics"

out=$(promtool check metrics <"$T_TMP/metrics" 2>&1)
assert_eq "metrics: promtool check metrics accepts it, no lint" "0:" "$?:$out"

# The check has teeth: an invalid byte left raw in a label value is refused.
printf '# HELP a_total A.\n# TYPE a_total counter\na_total{x="\xff"} 1\n' >"$T_TMP/bad"
promtool check metrics <"$T_TMP/bad" >/dev/null 2>&1
assert_eq "metrics: promtool refuses a raw invalid byte (control)" 1 "$?"
t_done
