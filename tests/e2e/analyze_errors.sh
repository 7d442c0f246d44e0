#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Exit statuses and messages of tlswatch analyze for inputs it cannot read
# (3) and bad usage (2): one line on stderr naming what was wrong, nothing
# on stdout.
. "$(dirname "$0")/lib.sh"
t_require_tlswatch

run_err() { # args... -> $T_RC, $T_TMP/out, $T_TMP/err
	T_RC=0
	"$TW" analyze "$@" >"$T_TMP/out" 2>"$T_TMP/err" </dev/null || T_RC=$?
}
# Unreadable input (3): exactly one line. Usage errors (2): the first line
# says what is wrong (a "Try --help" hint may follow).
expect_err() { # label, status, text in the message, args...
	local label=$1 rc=$2 text=$3
	shift 3
	run_err "$@"
	assert_eq "$label: exit $rc" "$rc" "$T_RC"
	if [ "$rc" -eq 3 ]; then
		assert_eq "$label: one line on stderr" 1 "$(grep -c . "$T_TMP/err")"
	fi
	assert_contains "$label: message says '$text'" "$text" "$(head -n1 "$T_TMP/err")"
	assert_eq "$label: nothing on stdout" "" "$(cat "$T_TMP/out")"
}

missing=$T_TMP/no-such-capture.pcap
expect_err "missing file" 3 "$missing" --json "$missing"
assert_eq "missing file: no JSON on stdout" "" "$(cat "$T_TMP/out")"

printf 'this is a text file, not a capture\n' >"$T_TMP/notes.txt"
expect_err "text file" 3 "not a pcap or pcapng file" "$T_TMP/notes.txt"
assert_contains "text file: message names the file" notes.txt "$(cat "$T_TMP/err")"

: >"$T_TMP/empty.pcap"
expect_err "empty file" 3 empty.pcap "$T_TMP/empty.pcap"

printf 'not a capture either' | { T_RC=0; "$TW" analyze - >/dev/null 2>"$T_TMP/err" || T_RC=$?; echo "$T_RC" >"$T_TMP/rc"; }
assert_eq "text on stdin: exit 3" 3 "$(cat "$T_TMP/rc")"
assert_contains "text on stdin: not a pcap or pcapng file" "not a pcap or pcapng file" "$(cat "$T_TMP/err")"

mkdir "$T_TMP/adir"
run_err "$T_TMP/adir"
assert_eq "a directory: exit 3" 3 "$T_RC"

# A good file and a missing one: the missing one still decides the status.
run_err --json "$CAPS/tls12_rsa.pcap" "$missing"
assert_eq "good file then missing file: exit 3" 3 "$T_RC"
assert_contains "good file then missing file: names the missing one" "$missing" "$(cat "$T_TMP/err")"

expect_err "unknown option" 2 "--bogus" --bogus "$CAPS/tls12_rsa.pcap"
expect_err "no capture file" 2 "file" --json
expect_err "--port 0" 2 "0" --port 0 "$CAPS/tls12_rsa.pcap"
expect_err "--port 65536" 2 "65536" --port 65536 "$CAPS/tls12_rsa.pcap"
expect_err "--port abc" 2 "abc" --port abc "$CAPS/tls12_rsa.pcap"
expect_err "--warn-days -1" 2 "-1" --warn-days -1 "$CAPS/tls12_rsa.pcap"
expect_err "--warn-days x" 2 "x" --warn-days x "$CAPS/tls12_rsa.pcap"
expect_err "--fail-on unknown kind" 2 "bogus_kind" --fail-on expired,bogus_kind "$CAPS/tls12_rsa.pcap"
expect_err "--port without a value" 2 "port" "$CAPS/tls12_rsa.pcap" --port

run_err --help
assert_eq "--help: exit 0" 0 "$T_RC"
assert_contains "--help: usage on stdout" "analyze" "$(cat "$T_TMP/out")"
t_done
