#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# One record dated ten years ahead does not take the capture's clock.
# scripts/make-clock-outlier.py builds, from real handshakes (tls12_rsa and
# tls12_reject_unknown_ca), a calm minute of 60 good handshakes, a burst of
# 30 refused ones and a long connection open across both; with --outlier,
# one pure ACK in the calm is dated ten years later, as a corrupt record
# header would say. `analyze --json` of it must write every event of the
# capture without the outlier, exactly (the spike at its time, the long
# connection ok), count the record in clock_outliers and say it once on
# stderr. Before, the clock jumped with it: the long connection timed out
# (incomplete, its end a flow of its own) and the spike was dated 2036.
# A jump the next records agree with (make-clock-jumps.py years: ten
# years ahead at a third of the capture) is still taken.
# The files of one analyze are one capture with one clock: the outlier
# capture cut in two before the outlier (scripts/split-capture.py), so
# that it is the first record of the second file, gives every event of the
# plain capture too (before, each file's first record set the clock
# unchecked: the second file's took it to 2036). A second file that is a
# day later throughout still moves the clock on, with no outlier; so does
# a day's jump in the last record of the first file that the second file
# agrees with (before, the last record of a file had no next one and was
# an outlier, read a day early). A record held at the end of the first
# file (tls12_rsa's 11th, the one that decides its first handshake, moved
# 30 s on) names the first file as its source, though it is handed on
# while the second is read (before, it named the second).
. "$(dirname "$0")/lib.sh"
t_require_tlswatch

make_capture() { # out, [--outlier]
	"$PY" scripts/make-clock-outlier.py ${2:+"$2"} "$1" "$CAPS/tls12_rsa.pcap" \
		"$CAPS/tls12_reject_unknown_ca.pcap" >/dev/null
}
# the events of a run, the file's name blanked, the summary apart
events() { sed 's/"source":"[^"]*"/"source":"-"/' "$1" | grep -v '"event":"summary"'; }
same_events() { # name, expected events, actual events: one check
	local d
	if cmp -s "$2" "$3"; then
		ok "$1 ($(wc -l <"$2"))"
	else
		mapfile -t d < <(diff "$2" "$3" | cut -c1-200 | head -8)
		not_ok "$1" "${d[@]}"
	fi
}
summary_without() { # json file, key...: the summary without those keys
	tail -1 "$1" | "$PY" -c 'import json,sys
e = json.load(sys.stdin)
for k in sys.argv[1:] + ["source", "files"]:
    e.pop(k, None)
    e["problem_counts"].pop(k, None)
print(json.dumps(e, sort_keys=True))' "${@:2}"
}

if ! make_capture "$T_TMP/plain.pcap" || ! make_capture "$T_TMP/outlier.pcap" --outlier; then
	not_ok "make-clock-outlier.py writes its captures"
	t_done
fi

run_json "$T_TMP/plain.pcap"
cp "$T_TMP/out.json" "$T_TMP/plain.json"
assert_eq "plain: exit 0" 0 "$T_RC"
assert_eq "plain: nothing on stderr" "" "$(cat "$T_TMP/err")"
assert_eq "plain: 91 handshakes" 91 "$(kv_get "$T_TMP/out.kv" summary.handshakes)"
assert_eq "plain: 61 ok, 30 failed" "61 30" \
	"$(kv_get "$T_TMP/out.kv" summary.outcome_counts.ok) $(kv_get "$T_TMP/out.kv" summary.outcome_counts.failed)"
assert_eq "plain: one spike, firing in the burst" \
	'2026-11-23T10:47:03.900200Z firing 20' \
	"$(grep '"event":"spike"' "$T_TMP/out.json" | "$PY" -c 'import json,sys
for l in sys.stdin:
    e = json.loads(l); print(e["ts"], e["state"], e["failures"])')"
assert_eq "plain: the long connection ok" ok "$(kv_get "$T_TMP/out.kv" hs@1024.outcome)"
assert_eq "plain: no clock outlier" 0 "$(kv_get "$T_TMP/out.kv" summary.problem_counts.clock_outliers)"

run_json "$T_TMP/outlier.pcap"
assert_eq "outlier: exit 0" 0 "$T_RC"
events "$T_TMP/plain.json" >"$T_TMP/plain.events"
events "$T_TMP/out.json" >"$T_TMP/outlier.events"
same_events "outlier: every event of the capture without it" \
	"$T_TMP/plain.events" "$T_TMP/outlier.events"
assert_eq "outlier: the same summary but for the count" \
	"$(summary_without "$T_TMP/plain.json" clock_outliers)" \
	"$(summary_without "$T_TMP/out.json" clock_outliers)"
assert_eq "outlier: counted once" 1 "$(kv_get "$T_TMP/out.kv" summary.problem_counts.clock_outliers)"
assert_eq "outlier: the text report says it was read at the clock's time" \
	"  clock_outliers       1  Packets dated far ahead of the ones after them (a corrupt record): read at the time of the one before" \
	"$("$TW" analyze "$T_TMP/outlier.pcap" 2>/dev/null | grep '^  clock_outliers ')"
assert_eq "outlier: said once on stderr, naming the record and its time" \
	"tlswatch analyze: $T_TMP/outlier.pcap: packet 631 is dated 2036-11-20T10:46:31.500020Z, far ahead of the packets after it: read at the time of the one before (such packets are counted in clock_outliers)" \
	"$(cat "$T_TMP/err")"

if ! "$PY" scripts/split-capture.py "$T_TMP/outlier.pcap" 631 "$T_TMP/o1.pcap" \
	"$T_TMP/o2.pcap" >/dev/null ||
	! "$PY" scripts/split-capture.py "$T_TMP/plain.pcap" 631 "$T_TMP/p1.pcap" \
	"$T_TMP/p2.pcap" 86400 >/dev/null ||
	! "$PY" scripts/split-capture.py "$T_TMP/plain.pcap" 632 "$T_TMP/r1.pcap" \
	"$T_TMP/r2.pcap" 86400 631 >/dev/null; then
	not_ok "split-capture.py writes its captures"
	t_done
fi
run_json "$T_TMP/o1.pcap" "$T_TMP/o2.pcap"
assert_eq "split at the outlier: exit 0" 0 "$T_RC"
events "$T_TMP/out.json" >"$T_TMP/split.events"
same_events "split at the outlier: every event of the capture without it" \
	"$T_TMP/plain.events" "$T_TMP/split.events"
assert_eq "split at the outlier: counted once" 1 \
	"$(kv_get "$T_TMP/out.kv" summary.problem_counts.clock_outliers)"
assert_eq "split at the outlier: the last packet's time" 2026-11-23T10:47:10.000200Z \
	"$(kv_get "$T_TMP/out.kv" summary.ts)"
assert_eq "split at the outlier: said once, as the second file's first packet" \
	"tlswatch analyze: $T_TMP/o2.pcap: packet 1 is dated 2036-11-20T10:46:31.500020Z, far ahead of the packets after it: read at the time of the one before (such packets are counted in clock_outliers)" \
	"$(cat "$T_TMP/err")"

run_json "$T_TMP/p1.pcap" "$T_TMP/p2.pcap"
assert_eq "a day later: exit 0" 0 "$T_RC"
assert_eq "a day later: no clock outlier" 0 \
	"$(kv_get "$T_TMP/out.kv" summary.problem_counts.clock_outliers)"
# the long connection idles out over the day (its flow ends): the rest of
# it, from the server's NewSessionTicket on, is TLS joined mid-stream, no
# handshake (it was a "failed" one with a parse error, on the 24th)
assert_eq "a day later: handshakes of the first file on the 23rd, of the second on the 24th" \
	"31 60" "$(grep '"event":"handshake"' "$T_TMP/out.json" | "$PY" -c 'import json,sys
days = [json.loads(l)["ts"][:10] for l in sys.stdin]
print(days.count("2026-11-23"), days.count("2026-11-24"))')"
assert_eq "a day later: the long connection's rest: TLS joined mid-stream, no parse error" "1 0" \
	"$(kv_get "$T_TMP/out.kv" summary.problem_counts.midstream_tls_flows) $(kv_get "$T_TMP/out.kv" summary.problem_counts.parse_errors)"
assert_eq "a day later: the last packet's time" 2026-11-24T10:47:10.000200Z \
	"$(kv_get "$T_TMP/out.kv" summary.ts)"
events "$T_TMP/out.json" >"$T_TMP/later.events"

run_json "$T_TMP/r1.pcap" "$T_TMP/r2.pcap"
assert_eq "a day later from the first file's last packet: exit 0, nothing on stderr" "0 " \
	"$T_RC $(cat "$T_TMP/err")"
assert_eq "a day later from the first file's last packet: no clock outlier" 0 \
	"$(kv_get "$T_TMP/out.kv" summary.problem_counts.clock_outliers)"
events "$T_TMP/out.json" >"$T_TMP/later_last.events"
same_events "a day later from the first file's last packet: the events of the split after it" \
	"$T_TMP/later.events" "$T_TMP/later_last.events"

if ! "$PY" scripts/split-capture.py "$CAPS/tls12_rsa.pcap" 12 "$T_TMP/h1.pcap" \
	"$T_TMP/h2.pcap" 30 11 >/dev/null; then
	not_ok "split-capture.py writes the held handshake's captures"
	t_done
fi
run_json "$T_TMP/h1.pcap" "$T_TMP/h2.pcap"
assert_eq "held at a file's end: exit 0, no clock outlier" "0 0" \
	"$T_RC $(kv_get "$T_TMP/out.kv" summary.problem_counts.clock_outliers)"
assert_eq "held at a file's end: its handshake names the first file, the next one the second" \
	"2026-11-23T10:42:45.098227Z $T_TMP/h1.pcap ok
2026-11-23T10:42:45.673359Z $T_TMP/h2.pcap ok" \
	"$(grep '"event":"handshake"' "$T_TMP/out.json" | "$PY" -c 'import json,sys
for l in sys.stdin:
    e = json.loads(l); print(e["ts"], e["source"], e["outcome"])')"

if ! "$PY" scripts/make-clock-jumps.py years "$T_TMP/plain.pcap" "$T_TMP/years.pcap" 600 >/dev/null; then
	not_ok "make-clock-jumps.py writes its capture"
	t_done
fi
run_json "$T_TMP/years.pcap"
assert_eq "years: exit 0" 0 "$T_RC"
assert_eq "years: a jump the next records agree with is no outlier" 0 \
	"$(kv_get "$T_TMP/out.kv" summary.problem_counts.clock_outliers)"
assert_eq "years: handshakes after the jump are dated ten years ahead" yes \
	"$(grep -q '"event":"handshake","schema":2,"ts":"2036-' "$T_TMP/out.json" && echo yes)"
t_done
