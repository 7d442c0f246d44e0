#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# nginx (Debian's nginx-light, OpenSSL 3) with an RSA and an ECDSA
# certificate for the same name, followed through uprobes on its TLS
# library (run --uprobes auto).
#
# The agent runs in the namespace and starts before nginx. Clients force
# each key type (openssl s_client -sigalgs), TLS 1.3 and 1.2. Asserted:
#   - every handshake carries the exact leaf served (fingerprints computed
#     independently with openssl x509 -outform DER | sha256sum) and its
#     intermediate; TLS 1.3 ones "observed": "server" (the wire hides the
#     certificate), TLS 1.2 ones as seen on the wire;
#   - the cert events of the TLS 1.3 leaves say "observed": "server", and
#     the serving process: an nginx worker (a child of the master),
#     /usr/sbin/nginx;
#   - no superseded finding;
#   - after a reload (SIGHUP: new workers), the new workers are followed
#     without restarting the agent;
#   - clients offering ALPN h2,http/1.1 (nginx without http2 selects
#     http/1.1): the TLS 1.3 handshake's alpn_selected read from the
#     worker's SSL, the TLS 1.2 one's from the wire, both http/1.1;
#   - nginx served every client throughout.
# Needs root. TAP output; exits non-zero on any failure.
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
export BUILD
. tests/e2e/lib_netns.sh
. tests/e2e/lib_uprobes.sh
. scripts/lib/common.sh

up_begin live_uprobes_nginx upn openssl ip ss nginx sha256sum

# dual.test twice: RSA-2048 and EC P-256, both signed by the test
# intermediate; chain files leaf + intermediate
for kind in rsa ec; do
	case $kind in
	rsa) newkey=(-newkey rsa:2048) serial=0x7701 ;;
	ec) newkey=(-newkey ec -pkeyopt ec_paramgen_curve:P-256) serial=0x7702 ;;
	esac
	if ! openssl req -new -nodes "${newkey[@]}" -keyout "$tmp/dual-$kind.key" \
		-subj "/CN=dual.test/O=tlswatch test" -addext "subjectAltName=DNS:dual.test" \
		-out "$tmp/dual-$kind.csr" 2>/dev/null ||
	   ! openssl x509 -req -in "$tmp/dual-$kind.csr" -CA "$pki/inter.crt" \
		-CAkey "$pki/inter.key" -set_serial "$serial" -days 3650 \
		-copy_extensions copy -out "$tmp/dual-$kind.crt" 2>/dev/null; then
		tn_bail "cannot make the dual.test $kind certificate"
	fi
	cat "$tmp/dual-$kind.crt" "$pki/inter.crt" >"$tmp/dual-$kind.chain.pem"
done
fp() { openssl x509 -in "$1" -outform DER | sha256sum | cut -d' ' -f1; }
fp_rsa=$(fp "$tmp/dual-rsa.crt")
fp_ec=$(fp "$tmp/dual-ec.crt")
fp_inter=$(fp "$pki/inter.crt")

log=$tmp/agent.log
up_start_agent "$log" auto

# nginx after the agent
up_start_nginx "$tmp/nginx" <<EOF
	server {
		listen $srv:443 ssl;
		server_name dual.test;
		ssl_protocols TLSv1.2 TLSv1.3;
		ssl_certificate $tmp/dual-rsa.chain.pem;
		ssl_certificate_key $tmp/dual-rsa.key;
		ssl_certificate $tmp/dual-ec.chain.pem;
		ssl_certificate_key $tmp/dual-ec.key;
		location / { return 200 "ok\n"; }
	}
EOF

workers() { pgrep -P "$NGINX_PID" | sort -n | tr '\n' ' '; }

SERVED=0
CLIENTS=0
# One client forcing a key type; counts it when it verified and got "ok".
client() { # tls (1.2|1.3), rsa|ec, extra s_client options...
	local v=-tls1_3 sig=rsa_pss_rsae_sha256 cipher=ECDHE-RSA-AES128-GCM-SHA256
	[ "$1" = 1.2 ] && v=-tls1_2
	[ "$2" = ec ] && sig=ecdsa_secp256r1_sha256 cipher=ECDHE-ECDSA-AES128-GCM-SHA256
	shift 2
	CLIENTS=$((CLIENTS + 1))
	printf 'GET / HTTP/1.0\r\nHost: dual.test\r\n\r\n' |
		timeout 10 openssl s_client -connect "$srv:443" "$v" -servername dual.test \
			-sigalgs "$sig" -cipher "$cipher" -CAfile "$pki/root.crt" \
			-verify_return_error -ign_eof "$@" >"$tmp/client.log" 2>&1 &&
		grep -q '^ok$' "$tmp/client.log" && SERVED=$((SERVED + 1))
	return 0
}

wait_handshakes() { # n
	tn_wait_count 10 '"event":"handshake"' "$log" "$1"
}

# Handshake events from the N-th on: "version leaf,inter observed pid exe".
hs_lines() { # first n
	"$PY" - "$log" "$1" <<'EOF'
import json, sys
hs = [json.loads(l) for l in open(sys.argv[1]) if '"event":"handshake"' in l]
for e in hs[int(sys.argv[2]) - 1:]:
    p = e.get("process", {})
    print(e["version"], e["outcome"], ",".join(c["sha256"] for c in e.get("chain", [])) or "-",
          e.get("observed", "wire"), p.get("pid", "-"), p.get("exe", "-"))
EOF
}

# --- 1. both key types, TLS 1.3 and 1.2 --------------------------------------
w1=$(workers)
client 1.3 rsa
client 1.3 ec
client 1.2 rsa
client 1.2 ec
wait_handshakes 4
tap_eq "each handshake carries the leaf served for the key type asked for" \
	"TLS1.3 ok $fp_rsa,$fp_inter server ${w1% } /usr/sbin/nginx
TLS1.3 ok $fp_ec,$fp_inter server ${w1% } /usr/sbin/nginx
TLS1.2 ok $fp_rsa,$fp_inter wire ${w1% } /usr/sbin/nginx
TLS1.2 ok $fp_ec,$fp_inter wire ${w1% } /usr/sbin/nginx" "$(hs_lines 1)"
tap_eq "cert events: the TLS 1.3 leaves observed server, by the worker" \
	"$(printf '%s server %s /usr/sbin/nginx\n' "$fp_ec" "${w1% }" "$fp_rsa" "${w1% }" | sort)" \
	"$("$PY" -c 'import json, sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e["event"] == "cert":
        print(e["sha256"], e["observed"], e["process"]["pid"], e["process"].get("exe"))' "$log" | sort)"
tap_eq "no superseded finding for a dual deployment" 0 "$(grep -c '"superseded"' "$log")"

# --- 2. a reload starts new workers: followed ----------------------------------
kill -HUP "$NGINX_PID"
tn_wait_cmd 10 sh -c "[ -n \"\$(pgrep -P $NGINX_PID)\" ] && [ \"\$(pgrep -P $NGINX_PID | sort -n | tr '\n' ' ')\" != '$w1' ]" ||
	tap_fail "nginx started new workers on SIGHUP"
tn_wait_cmd 10 sh -c "[ \$(pgrep -P $NGINX_PID | wc -l) -eq 1 ]"
w2=$(workers)
client 1.3 ec
client 1.3 rsa
wait_handshakes 6
tap_eq "after a reload: the new worker's chains are followed" \
	"TLS1.3 ok $fp_ec,$fp_inter server ${w2% } /usr/sbin/nginx
TLS1.3 ok $fp_rsa,$fp_inter server ${w2% } /usr/sbin/nginx" "$(hs_lines 5)"
tap_check "the reload replaced the worker" [ "$w1" != "$w2" ]

# --- 3. ALPN: TLS 1.3 from the worker's SSL, TLS 1.2 from the wire -----------
client 1.3 ec -alpn h2,http/1.1
client 1.2 ec -alpn h2,http/1.1
wait_handshakes 8
tap_eq "ALPN h2,http/1.1 offered: http/1.1 selected, TLS 1.3 read from the worker, TLS 1.2 on the wire" \
	"TLS1.3 http/1.1
TLS1.2 http/1.1
- - - - - -" \
	"$("$PY" -c 'import json, sys
hs = [json.loads(l) for l in open(sys.argv[1]) if "\"event\":\"handshake\"" in l]
for e in hs[6:]:
    print(e["version"], e.get("alpn_selected", "-"))
print(" ".join(e.get("alpn_selected", "-") for e in hs[:6]))' "$log")"

tap_eq "nginx served every client throughout" "$CLIENTS" "$SERVED"
tn_stop_pid "$AGENT_PID"

if [ "$TN_FAILED" -ne 0 ]; then
	sed 's/^/#   agent stderr: /' "$log.stderr" | grep -v libbpf | head -10
	grep -v '"event":"agent"' "$log" | cut -c1-500 | sed 's/^/#   agent: /' | head -10
fi
