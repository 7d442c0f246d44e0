#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# TLS clients' SSLs freed where the uprobes run (run --uprobes auto): their
# alerts are of no connection the agent follows.
#
# An upstream `openssl s_server -Verify 1` in the test namespace, on a port
# the agent does not watch, refuses every TLS 1.3 client without a
# certificate with a fatal certificate_required alert, which the client's
# SSL reads.
#   - `openssl s_client` on the host gets that alert. Its SSL_free (a
#     client's SSL) leaves nothing in the kernel's pending map: no alert
#     of its thread waits there for a server packet (a thread that later
#     serves under the same id would have sent it with its first one).
#     Before, the alert it read waited there: one entry of its pid.
#   - A server thread that is a TLS client too, as a reverse proxy's is
#     (tests/e2e/lib/ssl_clear_server.c with an upstream): before it
#     accepts a connection on the watched port, it connects upstream, gets
#     the alert and frees that SSL; then it serves a client. That handshake
#     is reported ok, with its served chain and no alert. Before, the
#     upstream's alert went out with its chain and was taken for the
#     client's: "client fatal certificate_required, observed server".
#   - The same server frees an upstream SSL after its client's and before
#     it closes that client's socket: the resumed client's ALPN protocol,
#     read at its SSL_free, still goes out with that close (below).
#   - A server thread whose upstream connections present a client
#     certificate (signed by the test's root, which the upstream trusts),
#     as a proxy with nginx's proxy_ssl_certificate does, before each
#     connection it serves (a full one, then a resumed one, which serves
#     no chain) and after it frees the last one's SSL: the certificates
#     its client SSL writes are not recorded (uprobe_client_certs 3 or more); the
#     full handshake's chain is exactly the served certificate, the
#     resumed one has none. Before, the client certificate was the
#     thread's pending chain, bound to the resumed connection's first
#     server packet and reported as its served chain.
# Needs root, bpftool, a C compiler. TAP output; exits non-zero on any
# failure.
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
export BUILD
. tests/e2e/lib_netns.sh
. tests/e2e/lib_uprobes.sh

up_begin live_uprobes_clients upcli openssl ip ss bpftool sha256sum "${CC:-cc}"
up_build_ssl_clear_server "$tmp"
fp_leaf=$(openssl x509 -in "$pki/ecdsa.test.crt" -outform DER | sha256sum | cut -d' ' -f1)

log=$tmp/agent.log
up_start_agent "$log" auto

# the upstream: not a watched port
up_start_s_server 8443 "$tmp/upstream.log" -tls1_3 -cert "$pki/ecdsa.test.crt" \
	-key "$pki/ecdsa.test.key" -Verify 1 -CAfile "$pki/root.crt"

# --- 1. a client on the host reads the upstream's fatal alert --------------
# (its own pid, that of the process whose SSL read the alert; it quits at
# the alert, or at the Q after it)
# shellcheck disable=SC2016 # expanded by that sh
(sleep 1; printf 'Q\n') | timeout 10 sh -c 'echo $$ >"$0"; exec openssl s_client -connect "$1:8443" \
	-tls1_3 -servername ecdsa.test' "$tmp/client1.pid" "$srv" >"$tmp/client1.log" 2>&1
client=$(cat "$tmp/client1.pid")
tap_eq "the host's client read the upstream's certificate_required" 1 \
	"$(grep -c 'alert certificate required' "$tmp/client1.log")"
tap_eq "no alert of the host's client waits for a server packet" 0 \
	"$(up_pending_of "$AGENT_PID" "$client")"

# --- 2. a serving thread that was a TLS client just before -----------------
up_start_ssl_clear_server "$pki" "$tmp/server.err" 1 8443
server=$UP_SERVER_PID
printf 'Q\n' | timeout 10 openssl s_client -connect "$srv:443" -tls1_3 \
	-servername ecdsa.test >"$tmp/client2.log" 2>&1
wait "$server"
tap_eq "the server got the upstream's alert, then served its client" 0 "$?"
sed 's/^/#   server: /' "$tmp/server.err"
tn_wait_count 10 '"event":"handshake"' "$log" 1

# --- 3. a proxy that frees its upstream's SSL after its client's ----------
# A full connection (ALPN h2: the server's chain view names it, its
# resumed handshakes wait for it), then a resumed one (its ALPN protocol
# read at its SSL_free only, pending until its close). Between the two,
# the thread frees an upstream (client) SSL: the resumed connection keeps
# its protocol. Before, that SSL_free deleted the thread's pending entry:
# the handshake was reported a second later, without alpn_selected.
up_start_ssl_clear_server "$pki" "$tmp/server3.err" 2 8443
server3=$UP_SERVER_PID
(sleep 0.5; printf 'Q\n') | timeout 10 openssl s_client -connect "$srv:443" -tls1_3 \
	-servername ecdsa.test -alpn h2 -sess_out "$tmp/sess" >"$tmp/client3.log" 2>&1
tn_wait_count 10 '"event":"handshake"' "$log" 2
printf 'Q\n' | timeout 10 openssl s_client -connect "$srv:443" -tls1_3 \
	-servername ecdsa.test -alpn h2 -sess_in "$tmp/sess" >"$tmp/client4.log" 2>&1
tap_eq "the second connection resumed the first's session" 1 \
	"$(grep -c '^Reused, TLSv1.3' "$tmp/client4.log")"
wait "$server3"
tap_eq "the server served both, with an upstream alert before each and after the last" 0 "$?"
sed 's/^/#   server: /' "$tmp/server3.err"
tn_wait_count 10 '"event":"handshake"' "$log" 3

# --- 4. a proxy that presents a client certificate upstream ----------------
up_make_client_cert "$pki" "$tmp"
up_start_ssl_clear_server "$pki" "$tmp/server4.err" 2 8443 "$tmp/client.crt" "$tmp/client.key"
server4=$UP_SERVER_PID
(sleep 0.5; printf 'Q\n') | timeout 10 openssl s_client -connect "$srv:443" -tls1_3 \
	-servername ecdsa.test -alpn h2 -sess_out "$tmp/sess4" >"$tmp/client5.log" 2>&1
tn_wait_count 10 '"event":"handshake"' "$log" 4
printf 'Q\n' | timeout 10 openssl s_client -connect "$srv:443" -tls1_3 \
	-servername ecdsa.test -alpn h2 -sess_in "$tmp/sess4" >"$tmp/client6.log" 2>&1
tap_eq "the second connection resumed the first's session" 1 \
	"$(grep -c '^Reused, TLSv1.3' "$tmp/client6.log")"
wait "$server4"
tap_eq "the server served both, with a client certificate upstream before each and after the last" 0 "$?"
sed 's/^/#   server: /' "$tmp/server4.err"
tn_wait_count 10 '"event":"handshake"' "$log" 5
tn_stop_pid "$AGENT_PID"
# At least 3: the counter is host-wide (the uprobes sit on the libssl
# file, so another process's client certificate written meanwhile adds to
# it); the handshake lines below pin what was not recorded exactly.
certs=$(tn_agent_counter "$log" uprobe_client_certs)
if [ "${certs:-0}" -ge 3 ] 2>/dev/null; then
	tap_ok "the client certificates written were not recorded (uprobe_client_certs $certs)"
else
	tap_fail "the client certificates written were not recorded" "expected: 3 or more" "got:      $certs"
fi

"$PY" - "$log" >"$tmp/handshakes" <<'EOF'
import json, sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e["event"] != "handshake":
        continue
    print(e.get("version"), e.get("outcome"), e.get("observed", "-"),
          ",".join(c["sha256"] for c in e.get("chain", [])) or "-",
          e.get("process", {}).get("pid", "-"),
          ";".join("%s:%s:%s" % (a["from"], a["level"], a["description"])
                   for a in e["alerts"]) or "-",
          e.get("resumed", False), e.get("alpn_selected", "-"))
EOF
tap_eq "the served handshake: ok, its chain, its process, no alert" \
	"TLS1.3 ok server $fp_leaf $server - False -" "$(sed -n 1p "$tmp/handshakes")"
tap_eq "behind a freed upstream SSL: the full handshake, then the resumed one with its ALPN protocol" \
	"TLS1.3 ok server $fp_leaf $server3 - False h2|TLS1.3 ok - - $server3 - True h2" \
	"$(sed -n 2,3p "$tmp/handshakes" | paste -sd'|')"
tap_eq "behind client certificates written upstream: the served chain, then none for the resumed one" \
	"TLS1.3 ok server $fp_leaf $server4 - False h2|TLS1.3 ok - - $server4 - True h2" \
	"$(sed -n 4,5p "$tmp/handshakes" | paste -sd'|')"
tap_eq "no other handshake" 5 "$(wc -l <"$tmp/handshakes")"

echo "# $TN_TESTS tests, $TN_FAILED failed"
[ "$TN_FAILED" -eq 0 ]
