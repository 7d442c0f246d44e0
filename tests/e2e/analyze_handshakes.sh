#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tlswatch analyze on real handshakes that complete: every value of each
# capture's .expect file (chain fingerprints and serials, SNI, version,
# cipher, outcome, cert events, summary counts), plus the fixed facts of the
# test PKI spelled out.
. "$(dirname "$0")/lib.sh"
t_require_tlswatch

for name in tls12_rsa tls13_ecdsa tls12_ipv6 tls12_bigchain; do
	check_capture "$name"
done

# Fixed by scripts/make-pki.sh, so written out here too.
run_json "$CAPS/tls12_rsa.pcap"
port=$(kv_get "$CAPS/tls12_rsa.expect" hs.1.client_port)
assert_eq "serial 0A1B... is printed without its leading zero" \
	"a1b2c3d4e5f6071,2000" "$(kv_get "$T_TMP/out.kv" "hs@$port.serials")"
assert_eq "TLS 1.2 handshake has version TLS1.2" TLS1.2 \
	"$(kv_get "$T_TMP/out.kv" "hs@$port.version")"
assert_eq "forced ECDHE-RSA-AES128-GCM-SHA256 has its IANA name" \
	TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 "$(kv_get "$T_TMP/out.kv" "hs@$port.cipher")"
assert_eq "rsa.test SANs" "rsa.test,www.rsa.test" \
	"$(kv_get "$T_TMP/out.kv" "cert@$(kv_get "$CAPS/tls12_rsa.expect" cert.1.sha256)@rsa.test.san")"
assert_eq "handshake ts is RFC 3339 UTC with microseconds" yes \
	"$(kv_get "$T_TMP/out.kv" "hs@$port.ts" |
		grep -qE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z$' && echo yes)"
assert_eq "ja4 of a TLS 1.2 ClientHello over TCP starts with t12" t12 \
	"$(kv_get "$T_TMP/out.kv" "hs@$port.ja4" | cut -c1-3)"

run_json "$CAPS/tls13_ecdsa.pcap"
port=$(kv_get "$CAPS/tls13_ecdsa.expect" hs.1.client_port)
assert_eq "TLS 1.3: cert_visible is false" false "$(kv_get "$T_TMP/out.kv" "hs@$port.cert_visible")"
assert_eq "TLS 1.3: no chain field" false "$(kv_get "$T_TMP/out.kv" "hs@$port.has_chain")"
assert_eq "TLS 1.3: no cert event" "" "$(kv_get "$T_TMP/out.kv" events.cert)"
assert_eq "ja4 of a TLS 1.3 ClientHello starts with t13" t13 \
	"$(kv_get "$T_TMP/out.kv" "hs@$port.ja4" | cut -c1-3)"

run_json "$CAPS/tls12_ipv6.pcap"
port=$(kv_get "$CAPS/tls12_ipv6.expect" hs.1.client_port)
assert_eq "IPv6 server address in RFC 5952 text" ::1 "$(kv_get "$T_TMP/out.kv" "hs@$port.server_ip")"

run_json "$CAPS/tls12_bigchain.pcap"
port=$(kv_get "$CAPS/tls12_bigchain.expect" hs.1.client_port)
assert_eq "big chain (in $(kv_get "$CAPS/tls12_bigchain.expect" big_chain_tcp_segments) segments, $(kv_get "$CAPS/tls12_bigchain.expect" big_chain_tls_records) records): 3 certificates" \
	3 "$(kv_get "$T_TMP/out.kv" "hs@$port.chain" | tr ',' '\n' | grep -c .)"
assert_eq "big chain: serials leaf, intermediate, root" "42,2000,1000" \
	"$(kv_get "$T_TMP/out.kv" "hs@$port.serials")"
c="cert@$(kv_get "$CAPS/tls12_bigchain.expect" cert.1.sha256)@big.test"
assert_eq "big.test key is RSA-4096" RSA-4096 "$(kv_get "$T_TMP/out.kv" "$c.key")"
assert_eq "big.test has 60 SANs" 60 "$(kv_get "$T_TMP/out.kv" "$c.san" | tr ',' '\n' | grep -c .)"
assert_eq "no reassembly gap in the big chain" 0 "$(kv_get "$T_TMP/out.kv" summary.problem_counts.gaps)"
t_done
