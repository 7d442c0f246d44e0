#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A proxy's client certificate read by the i2d_X509 probes (run --uprobes
# with a copy of libssl: another file, so no writer site and no SSL
# offsets; the SSL a certificate is written for is not known there).
#
# A server thread whose upstream connections present a client certificate
# (tests/e2e/lib/ssl_clear_server.c on the copy, through LD_LIBRARY_PATH;
# the upstream `openssl s_server -Verify 1` on a port the agent does not
# watch) before each connection it serves: a full one, then a resumed one.
# The client certificate is recorded as the thread's pending chain (the
# probes cannot tell it from a served one) and bound to the thread's next
# server packet on the watched port. The full handshake's chain is the
# one its server wrote (more than 1 ms after the client certificate: a new
# chain); the resumed one, which serves no certificate, is reported with
# none. Before, the resumed handshake was reported with the proxy's client
# certificate as its served chain ("observed": "server").
# Needs root, a C compiler. TAP output; exits non-zero on any failure.
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
export BUILD
. tests/e2e/lib_netns.sh
. tests/e2e/lib_uprobes.sh

up_begin live_uprobes_clients_i2d upci2 openssl ip ss sha256sum ldd "${CC:-cc}"
up_build_ssl_clear_server "$tmp"
up_make_client_cert "$pki" "$tmp"
fp_leaf=$(openssl x509 -in "$pki/ecdsa.test.crt" -outform DER | sha256sum | cut -d' ' -f1)

mkdir -p "$tmp/lib"
libs=$(ldd "$UP_SSL_CLEAR_SERVER")
cp "$(awk '$1 == "libssl.so.3" {print $3}' <<<"$libs")" "$tmp/lib/libssl.so.3" ||
	tn_bail "copying libssl.so.3 failed"
log=$tmp/agent.log
up_start_agent "$log" "$tmp/lib/libssl.so.3" \
	--uprobes "$(awk '$1 == "libcrypto.so.3" {print $3}' <<<"$libs")"

up_start_s_server 8443 "$tmp/upstream.log" -tls1_3 -cert "$pki/ecdsa.test.crt" \
	-key "$pki/ecdsa.test.key" -Verify 1 -CAfile "$pki/root.crt"
LD_LIBRARY_PATH=$tmp/lib up_start_ssl_clear_server "$pki" "$tmp/server.err" 2 8443 \
	"$tmp/client.crt" "$tmp/client.key"
server=$UP_SERVER_PID
grep -q "$tmp/lib/libssl.so.3" "/proc/$server/maps" ||
	tap_fail "the server maps the copy of libssl" "$(grep libssl "/proc/$server/maps")"
(sleep 0.5; printf 'Q\n') | timeout 10 openssl s_client -connect "$srv:443" -tls1_3 \
	-servername ecdsa.test -sess_out "$tmp/sess" >"$tmp/client1.log" 2>&1
tn_wait_count 10 '"event":"handshake"' "$log" 1
printf 'Q\n' | timeout 10 openssl s_client -connect "$srv:443" -tls1_3 \
	-servername ecdsa.test -sess_in "$tmp/sess" >"$tmp/client2.log" 2>&1
tap_eq "the second connection resumed the first's session" 1 \
	"$(grep -c '^Reused, TLSv1.3' "$tmp/client2.log")"
wait "$server"
tap_eq "the server served both, with a client certificate upstream before each and after the last" 0 "$?"
sed 's/^/#   server: /' "$tmp/server.err"
tn_wait_count 10 '"event":"handshake"' "$log" 2
tn_stop_pid "$AGENT_PID"

tap_eq "the full handshake: its served chain; the resumed one: none" \
	"False server $fp_leaf|True - -" "$("$PY" - "$log" <<'PYEOF'
import json, sys
hs = [json.loads(l) for l in open(sys.argv[1]) if '"event":"handshake"' in l]
print("|".join("%s %s %s" % (e.get("resumed", False), e.get("observed", "-"),
                             ",".join(c["sha256"] for c in e.get("chain", [])) or "-")
               for e in hs))
PYEOF
)"

echo "# $TN_TESTS tests, $TN_FAILED failed"
[ "$TN_FAILED" -eq 0 ]
