#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tshark and tlswatch must agree on every capture: the certificates each
# server sent (SHA-256 of the DER), the SNI of each ClientHello, the
# negotiated version, and the number of plaintext alerts by description.
. "$(dirname "$0")/lib.sh"
t_require_tlswatch
command -v tshark >/dev/null || { not_ok "tshark is installed (scripts/install-deps.sh)"; t_done; }

# tshark's view of a capture as the same key=value lines as tw_flatten:
# hs@<client port>.chain / .sni / .version, alerts.<description>=<count>.
# One tshark run per capture; python3 does the hashing and counting.
tshark_view() { # file, server port
	tshark -r "$1" -d "tcp.port==$2,tls" -Y 'tls.handshake.type || tls.alert_message.desc' \
		-T fields -E separator=/t -e tcp.srcport -e tcp.dstport -e tls.handshake.type \
		-e tls.handshake.certificate -e tls.handshake.extensions_server_name \
		-e tls.handshake.version -e tls.handshake.extensions.supported_version \
		-e tls.alert_message.desc 2>/dev/null | "$PY" -c "$TSHARK_PY" "$2"
}
TSHARK_PY='
import hashlib, sys
server_port = sys.argv[1]
names = {0: "close_notify", 10: "unexpected_message", 20: "bad_record_mac",
    22: "record_overflow", 40: "handshake_failure", 42: "bad_certificate",
    43: "unsupported_certificate", 44: "certificate_revoked",
    45: "certificate_expired", 46: "certificate_unknown", 47: "illegal_parameter",
    48: "unknown_ca", 49: "access_denied", 50: "decode_error", 51: "decrypt_error",
    70: "protocol_version", 71: "insufficient_security", 80: "internal_error",
    86: "inappropriate_fallback", 90: "user_canceled", 109: "missing_extension",
    110: "unsupported_extension", 112: "unrecognized_name",
    113: "bad_certificate_status_response", 115: "unknown_psk_identity",
    116: "certificate_required", 120: "no_application_protocol"}
versions = {"0x0304": "TLS1.3", "0x0303": "TLS1.2", "0x0302": "TLS1.1", "0x0301": "TLS1.0"}
alerts = {}
for line in sys.stdin:
    f = line.rstrip("\n").split("\t")
    f += [""] * (8 - len(f))
    sport, dport, types, certs, sni, ver, sver, descs = f[:8]
    client = dport if sport == server_port else sport
    types = types.split(",") if types else []
    if "1" in types:
        print("hs@%s.sni=%s" % (client, sni))
    if "2" in types:
        v = sver.split(",")[0] if sver else ver.split(",")[0]
        print("hs@%s.version=%s" % (client, versions.get(v, v)))
    if "11" in types and certs:
        print("hs@%s.chain=%s" % (client, ",".join(
            hashlib.sha256(bytes.fromhex(c.replace(":", ""))).hexdigest()
            for c in certs.split(","))))
    for d in filter(None, descs.split(",")):
        n = names.get(int(d, 0), "alert_" + d)
        alerts[n] = alerts.get(n, 0) + 1
for n in sorted(alerts):
    print("alerts.%s=%d" % (n, alerts[n]))
'

n_files=0
for e in "$CAPS"/*.expect; do
	name=$(basename "$e" .expect)
	f=$CAPS/$(kv_get "$e" file)
	port=$(kv_get "$e" server_port)
	n_files=$((n_files + 1))
	run_json "$f"
	tshark_view "$f" "$port" >"$T_TMP/tshark.kv"
	n=$(grep -c '\.sni=' "$T_TMP/tshark.kv")
	assert_eq "$name: tshark and tlswatch see as many ClientHellos" "$n" \
		"$(kv_get "$T_TMP/out.kv" summary.handshakes)"
	while IFS= read -r line; do
		k=${line%%=*}
		case $k in
		alerts.*) got=$(kv_get "$T_TMP/out.kv" "summary.alert_counts.${k#alerts.}") ;;
		*) got=$(kv_get "$T_TMP/out.kv" "$k") ;;
		esac
		assert_eq "$name: tshark agrees on $k" "${line#*=}" "$got"
	done <"$T_TMP/tshark.kv"
	# Plaintext alerts tlswatch counted that tshark did not see.
	for k in $(grep -o '^summary\.alert_counts\.[^=]*' "$T_TMP/out.kv" | sed 's/^summary\.alert_counts\.//'); do
		[ "$k" = encrypted ] && continue
		grep -q "^alerts\.$k=" "$T_TMP/tshark.kv" ||
			assert_eq "$name: tshark agrees on alerts.$k" 0 \
				"$(kv_get "$T_TMP/out.kv" "summary.alert_counts.$k")"
	done
done
assert_eq "compared every capture with an .expect file" yes "$([ "$n_files" -ge 20 ] && echo yes)"
t_done
