#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tlswatch analyze on handshakes that fail or are cut short: outcome, alert
# side, level, description and encryption, and the summary's alert counts.
. "$(dirname "$0")/lib.sh"
t_require_tlswatch

for name in tls12_reject_unknown_ca tls12_reject_expired tls13_reject_unknown_ca \
	tls13_reject_encrypted tls_reject_version aborted; do
	check_capture "$name"
done

hs1() { kv_get "$T_TMP/out.kv" "hs@$(kv_get "$CAPS/$1.expect" hs.1.client_port).$2"; }

run_json "$CAPS/tls12_reject_unknown_ca.pcap"
assert_eq "client without the root: fatal unknown_ca from the client" \
	client:fatal:unknown_ca:false "$(hs1 tls12_reject_unknown_ca alerts)"
assert_eq "two rejected handshakes count two unknown_ca alerts" 2 \
	"$(kv_get "$T_TMP/out.kv" summary.alert_counts.unknown_ca)"
assert_eq "a rejected TLS 1.2 handshake still shows the chain it rejected" \
	"$(kv_get "$CAPS/tls12_reject_unknown_ca.expect" hs.1.chain)" "$(hs1 tls12_reject_unknown_ca chain)"

run_json "$CAPS/tls12_reject_expired.pcap"
assert_eq "expired leaf: fatal certificate_expired from the client" \
	client:fatal:certificate_expired:false "$(hs1 tls12_reject_expired alerts)"
assert_eq "expired leaf: outcome failed" failed "$(hs1 tls12_reject_expired outcome)"

run_json "$CAPS/tls13_reject_unknown_ca.pcap"
assert_eq "TLS 1.3 client reject: OpenSSL's plaintext unknown_ca is read" \
	client:fatal:unknown_ca:false "$(hs1 tls13_reject_unknown_ca alerts)"

run_json "$CAPS/tls13_reject_encrypted.pcap"
assert_eq "TLS 1.3 server reject: encrypted alert inferred, from the server" \
	server:unknown:unknown:true "$(hs1 tls13_reject_encrypted alerts)"
assert_eq "TLS 1.3 server reject: outcome failed" failed "$(hs1 tls13_reject_encrypted outcome)"
assert_eq "TLS 1.3 server reject: counted as alert 'encrypted'" 1 \
	"$(kv_get "$T_TMP/out.kv" summary.alert_counts.encrypted)"

run_json "$CAPS/tls_reject_version.pcap"
assert_eq "version mismatch: fatal protocol_version from the server" \
	server:fatal:protocol_version:false "$(hs1 tls_reject_version alerts)"
assert_eq "version mismatch: no version field (no ServerHello)" "" "$(hs1 tls_reject_version version)"

run_json "$CAPS/aborted.pcap"
assert_eq "ClientHello then FIN, no answer: outcome aborted" aborted "$(hs1 aborted outcome)"
assert_eq "aborted handshakes have no alerts" "" "$(hs1 aborted alerts)"
assert_eq "aborted: SNI still reported" rsa.test "$(hs1 aborted sni)"
t_done
