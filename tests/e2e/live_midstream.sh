#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A TLS connection whose handshake was over before the agent started (as
# one idle past the flow timeout, or a capture started late): live and in
# a capture of the same traffic, its records are TLS joined mid-stream,
# counted in flows_midstream_tls / midstream_tls_flows; no handshake, and
# not counted as not TLS.
#
# A network namespace joined to the host by a veth pair; `openssl s_server
# -www` inside it (rsa.test of the test PKI). A Python ssl client on the
# host completes a TLS 1.2 handshake and waits; then `tlswatch run` and
# tcpdump start on the host end, and the client sends a GET and reads the
# answer until the server closes. The agent must report no handshake,
# flows_tracked 1, flows_midstream_tls 1, flows_not_tls 0; `analyze
# --json` of the capture no handshake, midstream_tls_flows 1,
# non_tls_flows 0. Before, both counted the connection as not TLS.
#
# Needs root. TAP output; exits non-zero on any failure.
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
export BUILD
. tests/e2e/lib_netns.sh

PY=/usr/bin/python3
tn_begin_with_pki live_midstream openssl tcpdump ip ss "$PY"
tn_setup mids
tn_start_s_server "$tmp/s_server.log" -cert "$pki/rsa.test.crt" -key "$pki/rsa.test.key" \
	-cert_chain "$pki/inter.crt"

# handshake, then $tmp/shaken; waits (30 s at most) for $tmp/go to send a GET
"$PY" -c '
import os, socket, ssl, sys, time
addr, cafile, shaken, go = sys.argv[1:]
ctx = ssl.create_default_context(cafile=cafile)
ctx.maximum_version = ssl.TLSVersion.TLSv1_2
tls = ctx.wrap_socket(socket.create_connection((addr, 443), timeout=10),
                      server_hostname="rsa.test")
open(shaken, "w").close()
deadline = time.monotonic() + 30
while not os.path.exists(go) and time.monotonic() < deadline:
    time.sleep(0.05)
tls.sendall(b"GET / HTTP/1.0\r\n\r\n")
answer = b""
while True:
    chunk = tls.recv(4096)
    if not chunk:
        break
    answer += chunk
print(answer.split(b"\r\n")[0].decode())
' "$TN_PEER4" "$pki/root.crt" "$tmp/shaken" "$tmp/go" >"$tmp/client.log" 2>&1 &
client_pid=$!
tn_bg "$client_pid"
tn_wait_cmd 15 test -e "$tmp/shaken" || tn_bail "the client's handshake did not complete: $(cat "$tmp/client.log")"
tap_ok "the client completed its handshake before the agent started"

pcap=$tmp/midstream.pcap
log=$tmp/agent.jsonl
tn_start_tcpdump "$pcap" tcp and port 443 || tn_bail "tcpdump did not start"
tn_start_agent "$log" --no-active-check || tn_bail "tlswatch run did not start on $TN_HOST_IF"
touch "$tmp/go"
wait "$client_pid"
tap_eq "the client's GET was answered after the agent started" "0 HTTP/1.0 200 ok" \
	"$? $(head -1 "$tmp/client.log")"
tn_stop_agent_and_tcpdump "$pcap"

tap_eq "the agent: no handshake event" 0 "$(grep -c '"event":"handshake"' "$log")"
tap_eq "the agent: flows_tracked, flows_midstream_tls, flows_not_tls" "1 1 0" \
	"$(tn_agent_counter "$log" flows_tracked) $(tn_agent_counter "$log" flows_midstream_tls) $(tn_agent_counter "$log" flows_not_tls)"

"$BUILD/tlswatch" analyze --json "$pcap" >"$tmp/analyze.jsonl" 2>"$tmp/analyze.stderr"
tap_eq "analyze exits 0 on the capture" 0 "$?"
tap_eq "analyze: handshakes, midstream_tls_flows, non_tls_flows" "0 1 0" \
	"$(grep '"event":"summary"' "$tmp/analyze.jsonl" | "$PY" -c 'import json, sys
s = json.load(sys.stdin)
p = s["problem_counts"]
print(s["handshakes"], p.get("midstream_tls_flows"), p["non_tls_flows"])')"
tn_check_events "$tmp" "the agent's and analyze's events"
