#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Connections as a capture point can see them out of the order they were
# sent in. scripts/make-edge-captures.py re-sends the first connection of
# tls12_rsa.pcap (real openssl handshakes taken with tcpdump):
#   fin-first     the server refuses the ClientHello with a fatal
#                 handshake_failure alert and closes; the alert's segment
#                 was lost before the capture point and its retransmission
#                 comes after the server's FIN. Reported exactly as the
#                 same exchange in sending order (alert-first): failed,
#                 the server's alert, no gap (dated at the alert, which
#                 comes a packet later). Before, a FIN past a hole gave
#                 the direction up at once: incomplete, no alert, 1 gap.
#   alert-lost    the same, the alert never sent again; the capture goes
#                 on (a SYN 5 s later): the hole waits 2 s of packet time
#                 after the second FIN, then incomplete, 1 gap, dated
#                 then. Before, the flow waited for the idle timeout (or
#                 here, the end of the capture: dated 5 s after). Counted
#                 in flows_closed_gapped (before: only in gaps).
#   reuse-unseen  the capture begins after connection A's SYN (A's hello,
#                 unanswered; its end not captured); then the same client
#                 port opens connection B (a SYN with another ISN) and
#                 completes a handshake: two handshakes, A incomplete and
#                 B ok. Before, B's SYN was taken into A's flow: one
#                 stitched handshake, reported failed. The summary counts
#                 A as reopened (flows_reopened 1; the text report says
#                 so); the others count none.
#   late-retrans  A completes a handshake and closes; 100 ms later A's
#                 ClientHello and the server's first flight come again,
#                 then B reuses the port (a SYN with a new ISN): two
#                 handshakes, both ok, nothing reopened. Before, the
#                 retransmitted ClientHello began a third, incomplete one
#                 (and B's SYN counted it reopened). The two late
#                 segments are counted in segments_after_close (before:
#                 counted nowhere shown).
#   no-syn        tls12_rsa.pcap without its SYNs (connections captured
#                 after their 3-way handshake), given twice: the second
#                 copy's segments lie in the closed connections' sequence
#                 space and are taken for late retransmissions (the
#                 records are kept across files: a rotated set's next
#                 file can hold a late retransmission of the one before).
#                 2 handshakes, not 4, and its 18 segments with bytes
#                 counted in segments_after_close. tls12_rsa.pcap given
#                 twice: its SYNs start the connections again, 4.
#   synack-reuse  A completes a handshake, its close not captured; B
#                 reuses the port, its SYN lost: its SYN-ACK with another
#                 ISN ends A (flows_reopened 1), two handshakes, both ok.
#                 Before, B's packets went to A's decided flow: one
#                 handshake. synack-reuse-closed: A closed before B, the
#                 same two (this worked before; the closed A, remembered
#                 now, must not take B's SYN-ACK for a late one).
#                 synack-reuse-unseen: reuse-unseen with B's SYN lost: A
#                 incomplete, B ok (before: one stitched handshake,
#                 failed). server-only: synack-reuse's server packets
#                 alone: two handshakes, each incomplete (one direction),
#                 A ended by B's SYN-ACK (before: one, with a gap).
. "$(dirname "$0")/lib.sh"
t_require_tlswatch

hs_lines() { # json file: the handshake events, without their file's name and time
	grep '"event":"handshake"' "$1" | sed 's/"source":"[^"]*",//; s/"ts":"[^"]*",//'
}
hs_field() { # json file, field: the field of each handshake, in order
	"$PY" -c 'import json, sys
print(" ".join(str(e.get(sys.argv[2])) for e in map(json.loads, open(sys.argv[1]))
               if e["event"] == "handshake"))' "$1" "$2"
}

for m in fin-first alert-first alert-lost reuse-unseen late-retrans synack-reuse \
	synack-reuse-closed synack-reuse-unseen server-only no-syn; do
	if ! "$PY" scripts/make-edge-captures.py "$m" "$CAPS/tls12_rsa.pcap" "$T_TMP/$m.pcap" >/dev/null; then
		not_ok "make-edge-captures.py writes $m"
		t_done
	fi
done

run_json "$T_TMP/alert-first.pcap"
cp "$T_TMP/out.json" "$T_TMP/alert-first.json"
assert_eq "alert-first: failed" failed "$(kv_get "$T_TMP/out.kv" hs@40000.outcome)"
assert_eq "alert-first: the server's fatal handshake_failure" server:fatal:handshake_failure:false \
	"$(kv_get "$T_TMP/out.kv" hs@40000.alerts)"

run_json "$T_TMP/fin-first.pcap"
assert_eq "fin-first: exit 0" 0 "$T_RC"
assert_eq "fin-first: 8 packets, 1 flow, 1 handshake" "8 1 1" \
	"$(kv_get "$T_TMP/out.kv" summary.packets) $(kv_get "$T_TMP/out.kv" summary.flows) $(kv_get "$T_TMP/out.kv" summary.handshakes)"
assert_eq "fin-first: failed" failed "$(kv_get "$T_TMP/out.kv" hs@40000.outcome)"
assert_eq "fin-first: the retransmitted alert is read" server:fatal:handshake_failure:false \
	"$(kv_get "$T_TMP/out.kv" hs@40000.alerts)"
assert_eq "fin-first: at the retransmitted alert" 2026-11-23T10:50:00.006000Z \
	"$(kv_get "$T_TMP/out.kv" hs@40000.ts)"
assert_eq "fin-first: no gap" 0 "$(kv_get "$T_TMP/out.kv" summary.problem_counts.gaps)"
assert_eq "fin-first: no flow reopened" 0 "$(kv_get "$T_TMP/out.kv" summary.problem_counts.flows_reopened)"
assert_eq "fin-first: no flow closed gapped" 0 \
	"$(kv_get "$T_TMP/out.kv" summary.problem_counts.flows_closed_gapped)"
assert_eq "fin-first: the handshake event of the capture in sending order (but its time)" \
	"$(hs_lines "$T_TMP/alert-first.json")" "$(hs_lines "$T_TMP/out.json")"

run_json "$T_TMP/alert-lost.pcap"
assert_eq "alert-lost: exit 0, 1 handshake, incomplete, 1 gap" "0 1 incomplete 1" \
	"$T_RC $(kv_get "$T_TMP/out.kv" summary.handshakes) $(kv_get "$T_TMP/out.kv" hs@40000.outcome) $(kv_get "$T_TMP/out.kv" summary.problem_counts.gaps)"
assert_eq "alert-lost: 2 s after the client's FIN (the second)" 2026-11-23T10:50:02.006000Z \
	"$(kv_get "$T_TMP/out.kv" hs@40000.ts)"
assert_eq "alert-lost: a flow closed gapped" 1 \
	"$(kv_get "$T_TMP/out.kv" summary.problem_counts.flows_closed_gapped)"
assert_eq "alert-lost: the text report says so" \
	"  flows_closed_gapped  1  Flows closed by both sides (FINs) with bytes before a FIN never seen: ended 2 s of packet time after the second FIN (their missing bytes also counted in gaps)" \
	"$("$TW" analyze "$T_TMP/alert-lost.pcap" 2>/dev/null | grep '^  flows_closed_gapped ')"

run_json "$T_TMP/reuse-unseen.pcap"
assert_eq "reuse-unseen: exit 0" 0 "$T_RC"
assert_eq "reuse-unseen: 16 packets, 2 flows, 2 handshakes" "16 2 2" \
	"$(kv_get "$T_TMP/out.kv" summary.packets) $(kv_get "$T_TMP/out.kv" summary.flows) $(kv_get "$T_TMP/out.kv" summary.handshakes)"
assert_eq "reuse-unseen: A incomplete, then B ok" "incomplete ok" "$(hs_field "$T_TMP/out.json" outcome)"
assert_eq "reuse-unseen: A without a version, B TLS 1.2" "None TLS1.2" "$(hs_field "$T_TMP/out.json" version)"
assert_eq "reuse-unseen: B's chain seen" "None True" "$(hs_field "$T_TMP/out.json" cert_visible)"
assert_eq "reuse-unseen: A ends at B's SYN, B at the server's Finished" \
	"2026-11-23T10:50:05.002000Z 2026-11-23T10:50:05.009000Z" "$(hs_field "$T_TMP/out.json" ts)"
assert_eq "reuse-unseen: no gap" 0 "$(kv_get "$T_TMP/out.kv" summary.problem_counts.gaps)"
assert_eq "reuse-unseen: A counted as reopened by B" 1 \
	"$(kv_get "$T_TMP/out.kv" summary.problem_counts.flows_reopened)"
assert_eq "reuse-unseen: the text report says so" \
	"  flows_reopened       1  Flows ended by a new connection on the same addresses and ports (a port reused while the old connection was followed)" \
	"$("$TW" analyze "$T_TMP/reuse-unseen.pcap" 2>/dev/null | grep '^  flows_reopened ')"

# summary counts: flows handshakes reopened gaps closed_gapped midstream non_tls
counts() {
	local k out=""
	for k in flows handshakes problem_counts.flows_reopened problem_counts.gaps \
		problem_counts.flows_closed_gapped problem_counts.midstream_tls_flows \
		problem_counts.non_tls_flows; do
		out="$out $(kv_get "$T_TMP/out.kv" "summary.$k")"
	done
	echo "${out# }"
}

run_json "$T_TMP/late-retrans.pcap"
assert_eq "late-retrans: exit 0, 32 packets" "0 32" "$T_RC $(kv_get "$T_TMP/out.kv" summary.packets)"
assert_eq "late-retrans: 2 flows, 2 handshakes, none reopened, no gap" "2 2 0 0 0 0 0" "$(counts)"
assert_eq "late-retrans: A ok, B ok" "ok ok" "$(hs_field "$T_TMP/out.json" outcome)"
assert_eq "late-retrans: A at the server's Finished, B at its own" \
	"2026-11-23T10:50:00.008000Z 2026-11-23T10:50:01.125000Z" "$(hs_field "$T_TMP/out.json" ts)"
assert_eq "late-retrans: no chain cut" 0 "$(kv_get "$T_TMP/out.kv" summary.problem_counts.chains_truncated)"
assert_eq "late-retrans: A's ClientHello and the server's first flight, late" 2 \
	"$(kv_get "$T_TMP/out.kv" summary.problem_counts.segments_after_close)"
assert_eq "late-retrans: the text report says so" \
	"  segments_after_close 2  Segments of a connection already closed (FINs, RST) within 60 s of packet time: late retransmissions, or a capture given twice, dropped" \
	"$("$TW" analyze "$T_TMP/late-retrans.pcap" 2>/dev/null | grep '^  segments_after_close ')"

run_json "$T_TMP/synack-reuse.pcap"
assert_eq "synack-reuse: exit 0, 26 packets" "0 26" "$T_RC $(kv_get "$T_TMP/out.kv" summary.packets)"
assert_eq "synack-reuse: 2 flows, 2 handshakes, A reopened" "2 2 1 0 0 0 0" "$(counts)"
assert_eq "synack-reuse: A ok, B ok" "ok ok" "$(hs_field "$T_TMP/out.json" outcome)"
assert_eq "synack-reuse: both chains seen" "True True" "$(hs_field "$T_TMP/out.json" cert_visible)"

run_json "$T_TMP/synack-reuse-closed.pcap"
assert_eq "synack-reuse-closed: 2 flows, 2 handshakes, none reopened" "2 2 0 0 0 0 0" "$(counts)"
assert_eq "synack-reuse-closed: A ok, B ok" "ok ok" "$(hs_field "$T_TMP/out.json" outcome)"

run_json "$T_TMP/synack-reuse-unseen.pcap"
assert_eq "synack-reuse-unseen: 2 flows, 2 handshakes, A reopened" "2 2 1 0 0 0 0" "$(counts)"
assert_eq "synack-reuse-unseen: A incomplete, B ok" "incomplete ok" "$(hs_field "$T_TMP/out.json" outcome)"
assert_eq "synack-reuse-unseen: A ends at B's SYN-ACK" \
	"2026-11-23T10:50:05.002000Z 2026-11-23T10:50:05.008000Z" "$(hs_field "$T_TMP/out.json" ts)"

run_json "$T_TMP/server-only.pcap"
assert_eq "server-only: exit 0, 13 packets" "0 13" "$T_RC $(kv_get "$T_TMP/out.kv" summary.packets)"
assert_eq "server-only: 2 flows, 2 handshakes, A reopened, no gap" "2 2 1 0 0 0 0" "$(counts)"
assert_eq "server-only: both incomplete (one direction)" "incomplete incomplete" \
	"$(hs_field "$T_TMP/out.json" outcome)"
assert_eq "server-only: A ends at B's SYN-ACK" \
	"2026-11-23T10:50:05.013000Z 2026-11-23T10:50:05.025000Z" "$(hs_field "$T_TMP/out.json" ts)"

run_json "$T_TMP/no-syn.pcap"
assert_eq "no-syn once: exit 0, 2 flows, 2 handshakes, nothing late" "0 2 2 0" \
	"$T_RC $(kv_get "$T_TMP/out.kv" summary.flows) $(kv_get "$T_TMP/out.kv" summary.handshakes) $(kv_get "$T_TMP/out.kv" summary.problem_counts.segments_after_close)"
run_json "$T_TMP/no-syn.pcap" "$T_TMP/no-syn.pcap"
assert_eq "no-syn twice: exit 0, 2 flows, 2 handshakes (both ok)" "0 2 2 ok ok" \
	"$T_RC $(kv_get "$T_TMP/out.kv" summary.flows) $(kv_get "$T_TMP/out.kv" summary.handshakes) $(hs_field "$T_TMP/out.json" outcome)"
assert_eq "no-syn twice: the second copy's 18 segments taken for late ones" 18 \
	"$(kv_get "$T_TMP/out.kv" summary.problem_counts.segments_after_close)"
run_json "$CAPS/tls12_rsa.pcap" "$CAPS/tls12_rsa.pcap"
assert_eq "tls12_rsa twice: the SYNs start them again: 4 handshakes, nothing late" "0 4 0" \
	"$T_RC $(kv_get "$T_TMP/out.kv" summary.handshakes) $(kv_get "$T_TMP/out.kv" summary.problem_counts.segments_after_close)"
t_done
