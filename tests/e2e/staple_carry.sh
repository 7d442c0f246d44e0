#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A server that staples a revoked OCSP answer, and clients of which only
# some ask for a staple (status_request): the handshakes that did not ask
# show no staple, which says nothing about what the server staples. The
# certificate's state (its `cert` events) must not flap with them: one
# `cert` event, revoked_staple, for the whole run (before, every handshake
# that did not ask took the finding back and the next one brought it
# again: a cert event each, and an Alertmanager alert resolved while the
# server still stapled the revoked answer).
#
# openssl s_server in a test namespace with -status_file (revoked.test's
# "revoked" answer from a fresh test PKI), real openssl s_client handshakes
# in the order: asks, does not ask, asks, does not ask; then the server
# restarted without a staple and a client that asks. The live agent
# watches; tcpdump records the same traffic for `analyze --json`. Asserted,
# live and from the capture: the handshakes' findings one by one (each
# handshake says what it showed), and the cert events (revoked_staple once,
# then none: a client that asked and got no staple shows that the server
# staples nothing now); the agent's summary. Needs root. TAP output.
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
export BUILD
. tests/e2e/lib_netns.sh

tn_require_root staple_carry
tn_require_cmds openssl tcpdump ip ss timeout
tn_require_tlswatch
PY=/usr/bin/python3
TW=$BUILD/tlswatch

tmp=$(tn_tmpdir)
pki=$tmp/pki
tn_make_pki "$pki"
tn_setup stc
srv=$TN_PEER4

tn_s_server_on 443 "$tmp/server.log" -cert "$pki/revoked.test.crt" \
	-key "$pki/revoked.test.key" -cert_chain "$pki/inter.crt" \
	-status_file "$pki/revoked.test.ocsp.der"
tn_wait_listen 10 443 || tn_bail "openssl s_server did not start"
tn_start_tcpdump "$tmp/staple.pcap" tcp port 443 || tn_bail "tcpdump did not start"
log=$tmp/agent.jsonl
tn_start_agent "$log" --no-active-check --no-online --no-metrics \
	--db "$tmp/inventory.db" --stats-interval 3600 --ca-file "$pki/root.crt" ||
	tn_bail "tlswatch run did not start"

n=0
hs() { # s_client args...
	n=$((n + 1))
	printf 'GET / HTTP/1.0\r\n\r\n' |
		timeout 10 openssl s_client -connect "$srv:443" -servername revoked.test \
			-tls1_2 -CAfile "$pki/root.crt" "$@" >"$tmp/client.$n.log" 2>&1 ||
		tap_fail "s_client #$n $* completes" "$(tail -3 "$tmp/client.$n.log")"
	tn_wait_count 10 '"event":"handshake"' "$log" "$n" ||
		tap_fail "the agent reports handshake #$n" "$(tail -2 "$log")"
}
hs -status
tap_check "s_client #1 got the revoked staple" grep -q 'Cert Status: revoked' "$tmp/client.1.log"
hs
hs -status
hs
tap_check "s_client #4 asked for no staple" sh -c "! grep -q 'OCSP response' '$tmp/client.4.log'"
# The server restarted without -status_file: a client that asks and gets
# no staple shows that the server staples nothing now.
tn_stop_pid "$TN_SERVER_PID"
tn_s_server_on 443 "$tmp/server2.log" -cert "$pki/revoked.test.crt" \
	-key "$pki/revoked.test.key" -cert_chain "$pki/inter.crt"
tn_wait_listen 10 443 || tn_bail "openssl s_server (no staple) did not start"
hs -status
tap_check "s_client #5 asked and got no staple" grep -q 'OCSP response: no response sent' "$tmp/client.5.log"
tn_stop_agent_and_tcpdump "$tmp/staple.pcap"

# "FINDINGS;FINDINGS;..." of the handshake events, then "|", then the
# findings of each cert event, in order.
facts() { # json log
	"$PY" -c 'import json, sys
hs, certs = [], []
for line in open(sys.argv[1]):
    e = json.loads(line)
    kinds = ",".join(sorted(f["kind"] for f in e.get("findings", []))) or "-"
    if e["event"] == "handshake":
        hs.append(kinds)
    elif e["event"] == "cert":
        certs.append(kinds)
print(";".join(hs) + "|" + ";".join(certs))' "$1"
}
want="revoked_staple;-;revoked_staple;-;-|revoked_staple;-"
tap_eq "live: each handshake says what it showed; cert events: revoked_staple, then none once a client asked and got no staple" \
	"$want" "$(facts "$log")"
# The agent's summary counts what it followed, and leaves out what only a
# capture's reading counts (before, zeros were written for them).
tap_eq "live: the agent's summary has flows and handshakes, no packet totals" \
	"5 5 [] []" "$("$PY" -c 'import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e["event"] == "summary":
        cap = ["files", "packets", "bytes", "tcp_segments", "truncated_file"]
        pc = ["not_ip", "bad_headers", "unread_inputs"]
        print(e["flows"], e["handshakes"], json.dumps([k for k in cap if k in e]),
              json.dumps([k for k in pc if k in e["problem_counts"]]))' "$log")"
"$TW" analyze --json --ca-file "$pki/root.crt" "$tmp/staple.pcap" >"$tmp/analyze.jsonl" \
	2>"$tmp/analyze.err" || tap_fail "analyze --json of the capture" "$(tail -3 "$tmp/analyze.err")"
tap_eq "analyze: the same" "$want" "$(facts "$tmp/analyze.jsonl")"
