#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Who is the client, and whether a flow is a handshake at all, when the
# first packet says otherwise. scripts/make-role-captures.py replays the
# first connection of tls12_rsa.pcap (real openssl handshakes taken with
# tcpdump) between 10.0.0.1:40000 (TLS client) and 10.0.0.2 (TLS server):
#   reverse, reverse-synack  an FTPS data connection in active mode: the
#       server's side (port 20) sends the SYN, the other the ClientHello
#       (RFC 4217); with a SYN-ACK sent again after the hello. The SYN
#       decided the roles: the hello went to the server's parser and was
#       ignored (no SNI, version, JA3/JA4 or chain; client and server
#       swapped), and the repeated SYN-ACK swapped them back.
#   clientauth-midflow  a capture starting at the client's Certificate
#       (client authentication, TLS 1.2) then ClientKeyExchange: a
#       Certificate first was always the server's, so the client's
#       certificate was reported as the server's chain.
#   server-midflow  a capture starting at the server's Certificate: still
#       the server's; server-cert-cut: the capture ends in that Certificate
#       (the message after it never seen): the server's too, reported.
#   idle, midstream  a connection idle past the flow timeout (120 s)
#       before its application data; a capture starting at it: that part
#       was counted in non_tls_flows; now midstream_tls_flows.
#   after-fin  segments retransmitted after both FINs: the server's
#       NewSessionTicket segment made a bogus "incomplete" handshake;
#       then a connection joined mid-stream (midstream_tls_flows 1); now
#       the closed connection absorbs them: counted only in
#       segments_after_close (2).
#   held-other  the server's first 3 bytes, then the client's second
#       flight, then the server's other bytes: the 3 bytes were dropped
#       and the server's direction failed to parse.
. "$(dirname "$0")/lib.sh"
t_require_tlswatch

problems() { # the summary's non-zero problem counts, as name=value
	tail -1 "$T_TMP/out.json" | "$PY" -c 'import json,sys
p = json.load(sys.stdin)["problem_counts"]
print(" ".join("%s=%d" % kv for kv in sorted(p.items()) if kv[1]))'
}

capture() { # mode: runs analyze --json on that capture
	if ! "$PY" scripts/make-role-captures.py "$1" "$CAPS/tls12_rsa.pcap" "$T_TMP/$1.pcap" >/dev/null; then
		not_ok "make-role-captures.py $1 writes its capture"
		return 1
	fi
	run_json "$T_TMP/$1.pcap"
	assert_eq "$1: exit 0" 0 "$T_RC"
}

hs() { kv_get "$T_TMP/out.kv" "hs@40000.$1"; }

# The handshake of tls12_rsa.pcap, as read from its SYN-opened capture.
full_handshake() { # mode, server port
	assert_eq "$1: one handshake, its client the hello's sender" 1 "$(hs count)"
	assert_eq "$1: client 10.0.0.1:40000" "10.0.0.1 40000" "$(hs client_ip) $(hs client_port)"
	assert_eq "$1: server 10.0.0.2:$2" "10.0.0.2 $2" "$(hs server_ip) $(hs server_port)"
	assert_eq "$1: sni, version, outcome" "rsa.test TLS1.2 ok" "$(hs sni) $(hs version) $(hs outcome)"
	assert_eq "$1: ja4" t12d020700_b06afd972a5c_e7e480e5a997 "$(hs ja4)"
	assert_eq "$1: ja3" d1f47f694f10b1faf653048918492609 \
		"$(grep '"event":"handshake"' "$T_TMP/out.json" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["ja3"])')"
	assert_eq "$1: the server's chain of 2" 2 "$(hs chain | tr ',' '\n' | grep -c .)"
	assert_eq "$1: cipher" TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 "$(hs cipher)"
}

for mode in reverse reverse-synack; do
	capture "$mode" || continue
	full_handshake "$mode" 20
	assert_eq "$mode: no problem counted" "" "$(problems)"
done

capture clientauth-midflow && {
	assert_eq "clientauth-midflow: one handshake" 1 "$(hs count)"
	assert_eq "clientauth-midflow: client 10.0.0.1:40000, server 10.0.0.2:443" \
		"10.0.0.1 40000 10.0.0.2 443" "$(hs client_ip) $(hs client_port) $(hs server_ip) $(hs server_port)"
	assert_eq "clientauth-midflow: the client's certificate is no server chain" false "$(hs has_chain)"
	assert_eq "clientauth-midflow: no cert event" "" "$(kv_get "$T_TMP/out.kv" events.cert)"
	assert_eq "clientauth-midflow: no certificate counted" 0 "$(kv_get "$T_TMP/out.kv" summary.certificates)"
	assert_eq "clientauth-midflow: ok (both Finished seen)" ok "$(hs outcome)"
	assert_eq "clientauth-midflow: no problem counted" "" "$(problems)"
}

capture server-midflow && {
	assert_eq "server-midflow: client 10.0.0.1:40000, server 10.0.0.2:443" \
		"10.0.0.1 40000 10.0.0.2 443" "$(hs client_ip) $(hs client_port) $(hs server_ip) $(hs server_port)"
	assert_eq "server-midflow: the server's chain of 2" 2 "$(hs chain | tr ',' '\n' | grep -c .)"
	assert_eq "server-midflow: ok" ok "$(hs outcome)"
}

capture server-cert-cut && {
	assert_eq "server-cert-cut: one flow, one handshake" "1 1" \
		"$(kv_get "$T_TMP/out.kv" summary.flows) $(kv_get "$T_TMP/out.kv" summary.handshakes)"
	assert_eq "server-cert-cut: client 10.0.0.1:40000, server 10.0.0.2:443" \
		"10.0.0.1 40000 10.0.0.2 443" "$(hs client_ip) $(hs client_port) $(hs server_ip) $(hs server_port)"
	assert_eq "server-cert-cut: incomplete" incomplete "$(hs outcome)"
	assert_eq "server-cert-cut: counted as a truncated chain, not as not TLS" \
		"chains_truncated=1" "$(problems)"
}

capture idle && {
	full_handshake idle 443
	assert_eq "idle: one flow" 1 "$(kv_get "$T_TMP/out.kv" summary.flows)"
	assert_eq "idle: the part after the idle time is TLS joined mid-stream" \
		"midstream_tls_flows=1" "$(problems)"
}

capture midstream && {
	assert_eq "midstream: no flow, no handshake" "0 0" \
		"$(kv_get "$T_TMP/out.kv" summary.flows) $(kv_get "$T_TMP/out.kv" summary.handshakes)"
	assert_eq "midstream: counted as TLS joined mid-stream, not as not TLS" \
		"midstream_tls_flows=1" "$(problems)"
}

capture after-fin && {
	full_handshake after-fin 443
	assert_eq "after-fin: one flow, one handshake" "1 1" \
		"$(kv_get "$T_TMP/out.kv" summary.flows) $(kv_get "$T_TMP/out.kv" summary.handshakes)"
	assert_eq "after-fin: the retransmissions start nothing (counted as late only)" \
		"segments_after_close=2" "$(problems)"
}

capture held-other && {
	assert_eq "held-other: client 10.0.0.1:40000" "10.0.0.1 40000" "$(hs client_ip) $(hs client_port)"
	assert_eq "held-other: both directions parse: ok" ok "$(hs outcome)"
	assert_eq "held-other: the server's chain of 2" 2 "$(hs chain | tr ',' '\n' | grep -c .)"
	assert_eq "held-other: no problem counted" "" "$(problems)"
}
t_done
