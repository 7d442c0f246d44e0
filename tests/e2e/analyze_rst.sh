#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Only a plausible RST ends a connection. scripts/make-rst-capture.py puts
# resets into tls12_rsa.pcap (real openssl handshakes taken with tcpdump):
#   spoofed   two resets far from where their sender had got (one "from
#             the server" half the sequence space away, one "from the
#             client" 1 MiB behind), in the middle of the first handshake:
#             both are ignored and counted, and every handshake event is
#             the very line analyze writes for the capture without them;
#   inwindow  a reset from the server at the sequence number the client
#             acknowledged last, the connection's later packets left out:
#             it ends the handshake, aborted, as before.
# The real resets of aborted.pcap (the server's RST after the client's FIN)
# still end their handshakes. Before the window, any RST ended the flow:
# the spoofed capture's first handshake was reported aborted and the rest
# of the connection became a flow of its own.
. "$(dirname "$0")/lib.sh"
t_require_tlswatch

hs_lines() { # json file: the handshake events, without the file's name
	grep '"event":"handshake"' "$1" | sed 's/"source":"[^"]*",//'
}

run_json "$CAPS/tls12_rsa.pcap"
cp "$T_TMP/out.json" "$T_TMP/plain.json"
assert_eq "plain: no RST ignored" 0 "$(kv_get "$T_TMP/out.kv" summary.problem_counts.rsts_ignored)"

if ! "$PY" scripts/make-rst-capture.py spoofed "$CAPS/tls12_rsa.pcap" "$T_TMP/spoofed.pcap" >/dev/null ||
	! "$PY" scripts/make-rst-capture.py inwindow "$CAPS/tls12_rsa.pcap" "$T_TMP/inwindow.pcap" >/dev/null; then
	not_ok "make-rst-capture.py writes its captures"
	t_done
fi

run_json "$T_TMP/spoofed.pcap"
assert_eq "spoofed: exit 0" 0 "$T_RC"
assert_eq "spoofed: 42 packets (40 and the 2 resets)" 42 "$(kv_get "$T_TMP/out.kv" summary.packets)"
assert_eq "spoofed: 2 flows (no second one made of the rest)" 2 "$(kv_get "$T_TMP/out.kv" summary.flows)"
assert_eq "spoofed: 2 handshakes" 2 "$(kv_get "$T_TMP/out.kv" summary.handshakes)"
assert_eq "spoofed: the first handshake ok" ok "$(kv_get "$T_TMP/out.kv" hs@38500.outcome)"
assert_eq "spoofed: with its version" TLS1.2 "$(kv_get "$T_TMP/out.kv" hs@38500.version)"
assert_eq "spoofed: and its cipher" TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 "$(kv_get "$T_TMP/out.kv" hs@38500.cipher)"
assert_eq "spoofed: outcomes: ok 2 and nothing else" '{"ok": 2}' \
	"$(tail -1 "$T_TMP/out.json" | "$PY" -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["outcome_counts"]))')"
assert_eq "spoofed: both resets counted as ignored" 2 "$(kv_get "$T_TMP/out.kv" summary.problem_counts.rsts_ignored)"
assert_eq "spoofed: no flow taken for not TLS" 0 "$(kv_get "$T_TMP/out.kv" summary.problem_counts.non_tls_flows)"
assert_eq "spoofed: the handshake events of the capture without the resets" \
	"$(hs_lines "$T_TMP/plain.json")" "$(hs_lines "$T_TMP/out.json")"

assert_eq "spoofed: the text report says the resets were ignored" \
	"  rsts_ignored         2  RSTs whose sequence number was not plausible for their sender (spoofed): ignored" \
	"$("$TW" analyze "$T_TMP/spoofed.pcap" | grep '^  rsts_ignored ')"
assert_eq "plain: the text report has no such line" "" \
	"$("$TW" analyze "$CAPS/tls12_rsa.pcap" | grep '^  rsts_ignored ')"

run_json "$T_TMP/inwindow.pcap"
assert_eq "inwindow: exit 0" 0 "$T_RC"
assert_eq "inwindow: the reset ends the first handshake: aborted" aborted "$(kv_get "$T_TMP/out.kv" hs@38500.outcome)"
assert_eq "inwindow: at the reset's time" 2026-11-23T10:42:15.094763Z "$(kv_get "$T_TMP/out.kv" hs@38500.ts)"
assert_eq "inwindow: the second one ok" ok "$(kv_get "$T_TMP/out.kv" hs@38502.outcome)"
assert_eq "inwindow: 2 flows, 2 handshakes" "2 2" \
	"$(kv_get "$T_TMP/out.kv" summary.flows) $(kv_get "$T_TMP/out.kv" summary.handshakes)"
assert_eq "inwindow: no RST ignored" 0 "$(kv_get "$T_TMP/out.kv" summary.problem_counts.rsts_ignored)"

run_json "$CAPS/aborted.pcap"
assert_eq "aborted.pcap: the server's real resets end both: aborted 2" 2 \
	"$(kv_get "$T_TMP/out.kv" summary.outcome_counts.aborted)"
assert_eq "aborted.pcap: no RST ignored" 0 "$(kv_get "$T_TMP/out.kv" summary.problem_counts.rsts_ignored)"
t_done
