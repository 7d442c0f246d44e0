#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# An FTPS data connection in active mode (RFC 4217): the FTP server opens
# the TCP connection from port 20, the FTP client accepts it and is the TLS
# client. Live and in a capture of the same traffic, the handshake names
# the side that sent the ClientHello as the client.
#
# A network namespace joined to the host by a veth pair; the FTP client on
# the host listens on port 40000 (tests/e2e/lib/ftps_active.py: Python's
# ssl, TLS 1.2, SNI rsa.test, the test PKI's root trusted); the FTP server
# in the namespace connects to it from port 20 and serves rsa.test's chain.
# `tlswatch run` watches port 20 and tcpdump captures it; then `analyze
# --json` reads the capture. Both must report one handshake: client the
# host's 40000, server the namespace's 20, SNI rsa.test, TLS1.2, ok, the
# leaf's SHA-256 (computed here with `openssl x509 -outform DER |
# sha256sum`). Before, analyze took the roles from the SYN: client and
# server swapped, and the hello, fed to the server's parser, ignored (no
# SNI, version or chain); the agent, which is sent no SYN, had them right.
#
# Needs root. TAP output; exits non-zero on any failure.
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
export BUILD
. tests/e2e/lib_netns.sh
. scripts/lib/common.sh

PY=/usr/bin/python3
tn_begin_with_pki live_ftps_active openssl tcpdump ip ss "$PY"
tn_setup ftpa
DATA_PORT=40000

pcap=$tmp/ftps.pcap
log=$tmp/agent.jsonl
tn_start_tcpdump "$pcap" tcp and port 20 || tn_bail "tcpdump did not start"
TN_AGENT_PORT=20 tn_start_agent "$log" --no-active-check ||
	tn_bail "tlswatch run did not start on $TN_HOST_IF"
tap_ok "agent started on $TN_HOST_IF watching port 20"

"$PY" tests/e2e/lib/ftps_active.py client "$TN_HOST4" "$DATA_PORT" \
	"$pki/root.crt" rsa.test >"$tmp/client.log" 2>&1 &
client_pid=$!
tn_bg "$client_pid"
tn_wait_cmd 10 sh -c "ss -Hltn 'sport = :$DATA_PORT' | grep -q ." ||
	tn_bail "the FTP client does not listen on $DATA_PORT"
if timeout 20 ip netns exec "$TN_NS" "$PY" tests/e2e/lib/ftps_active.py server \
	"$TN_HOST4" "$DATA_PORT" "$pki/rsa.test.chain.pem" "$pki/rsa.test.key" \
	>"$tmp/server.log" 2>&1; then
	tap_ok "the FTP server (port 20) sent its listing over TLS"
else
	tap_fail "the FTP server (port 20) sent its listing over TLS" "$(cat "$tmp/server.log")"
fi
wait "$client_pid"
tap_eq "the FTP client (the TLS client) read the listing" 0 "$?"

tn_stop_agent_and_tcpdump "$pcap"
"$BUILD/tlswatch" analyze --json "$pcap" >"$tmp/analyze.jsonl" 2>"$tmp/analyze.stderr"
tap_eq "analyze exits 0 on the capture" 0 "$?"

lines_of() { # jsonl file: one line per handshake
	"$PY" -c '
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e["event"] != "handshake":
        continue
    chain = e.get("chain") or [{}]
    print("%s:%s > %s:%s %s %s %s %s" % (e["client"]["ip"], e["client"]["port"],
          e["server"]["ip"], e["server"]["port"], e.get("sni", "-"),
          e.get("version", "-"), e["outcome"], chain[0].get("sha256", "-")))
' "$1"
}
expected="$TN_HOST4:$DATA_PORT > $TN_PEER4:20 rsa.test TLS1.2 ok $(cert_sha256 "$pki/rsa.test.crt")"
tap_eq "the agent: the FTP client is the TLS client" "$expected" "$(lines_of "$log")"
tap_eq "analyze of the capture: the same" "$expected" "$(lines_of "$tmp/analyze.jsonl")"
tn_check_events "$tmp" "the agent's and analyze's events"
