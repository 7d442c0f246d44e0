#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# TLS that starts after a plaintext preamble (STARTTLS and its kin), and a
# client that opens with an SSLv2-compatible ClientHello: followed live and
# in a capture of the same traffic, the protocol named.
#
# A network namespace joined to the host by a veth pair; inside it, small
# preamble servers (tests/e2e/lib/starttls_server.py: just enough of each
# protocol, then Python's ssl with rsa.test of the test PKI) on each
# protocol's port, a plain SMTP server whose client QUITs without upgrading,
# and `openssl s_server -tls1` answering an SSLv2-compatible hello. From
# the host: real `openssl s_client -starttls smtp|lmtp|imap|pop3|ftp|ldap|
# xmpp|postgres|mysql|irc|nntp|sieve` (TLS 1.2, so the chain is visible),
# an RDP client (X.224 negotiation, then TLS), one TLS 1.3 SMTP client,
# one SMTP client over IPv6, and tests/e2e/lib/sslv2_hello_client.py. `tlswatch run` watches every port
# and tcpdump captures them; then `analyze --json` reads the capture. Both
# must report exactly one handshake per client, with the exact "starttls"
# name, SNI, version, outcome and leaf SHA-256 (computed here with
# `openssl x509 -outform DER | sha256sum`), the SSLv2 one with
# "sslv2_hello": true and its JA3 computed here; and nothing for the
# connection that never upgraded, nor for one whose server greeting is
# longer than a preamble may be (both counted as not TLS).
#
# Needs root. TAP output; exits non-zero on any failure.
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
export BUILD
. tests/e2e/lib_netns.sh
. scripts/lib/common.sh

PY=/usr/bin/python3
tn_require_root starttls
tn_require_cmds openssl tcpdump ip ss "$PY"
tn_require_tlswatch
"$PY" -c 'import cryptography' 2>/dev/null ||
	tn_bail "python3-cryptography is installed (scripts/install-deps.sh)"

tmp=$(tn_tmpdir)
pki=$tmp/pki
tn_make_pki "$pki"
tn_setup stls
peer=$TN_PEER4

# protocol:port, each protocol on its usual port (lmtp on 24, rdp 3389)
services="smtp:25 lmtp:24 imap:143 pop3:110 ftp:21 ldap:389 xmpp:5222
postgres:5432 mysql:3306 irc:6667 nntp:119 sieve:4190 rdp:3389 plain:587
chatty:2525"
SSLV2_PORT=465
specs=() ports=()
for s in $services; do
	specs+=("${s%%:*}:$peer:${s##*:}")
	ports+=("${s##*:}")
done
ports+=("$SSLV2_PORT")

specs+=("smtp:$TN_PEER6:25")   # and SMTP over IPv6
ip netns exec "$TN_NS" "$PY" tests/e2e/lib/starttls_server.py \
	"$pki/rsa.test.chain.pem" "$pki/rsa.test.key" "${specs[@]}" \
	>"$tmp/servers.log" 2>&1 &
tn_bg $!
ip netns exec "$TN_NS" openssl s_server -quiet -accept "$peer:$SSLV2_PORT" -tls1 \
	-cipher AES128-SHA:@SECLEVEL=0 -cert "$pki/rsa.test.crt" -key "$pki/rsa.test.key" \
	-cert_chain "$pki/inter.crt" >"$tmp/s_server.log" 2>&1 &
tn_bg $!
for p in "${ports[@]}"; do
	tn_wait_listen 10 "$p" || tn_bail "nothing listens on port $p in $TN_NS"
done

fp_rsa=$(cert_sha256 "$pki/rsa.test.crt")
port_args=() filter=""
for p in "${ports[@]}"; do
	port_args+=(--port "$p")
	filter="${filter:+$filter or }port $p"
done
pcap=$tmp/starttls.pcap
log=$tmp/agent.jsonl
tn_start_tcpdump "$pcap" tcp and "($filter)" || tn_bail "tcpdump did not start"
tn_start_agent "$log" "${port_args[@]}" --no-active-check --stats-interval 1 ||
	tn_bail "tlswatch run did not start on $TN_HOST_IF"
tap_ok "agent started on $TN_HOST_IF watching ${#ports[@]} ports"

# --- traffic: each client, and the line it must produce ---------------------
expected=$tmp/expected
: >"$expected"
expect() { echo "$1" >>"$expected"; }   # port|starttls|sni|version|outcome|leaf|extra

starttls_client() { # protocol, port, TLS version option, version name, [address]
	local proto=$1 port=$2 addr=${5:-$peer}
	if echo | timeout 15 openssl s_client -starttls "$proto" -connect "$addr:$port" \
		-servername rsa.test "$3" -CAfile "$pki/root.crt" >"$tmp/c.log" 2>&1 ||
	   grep -q 'Verify return code: 0 (ok)' "$tmp/c.log"; then
		tap_ok "s_client -starttls $proto $3 to $addr completed its handshake"
	else
		tap_fail "s_client -starttls $proto $3 to $addr" "$(tail -5 "$tmp/c.log")"
	fi
	local leaf=$fp_rsa
	[ "$4" = TLS1.3 ] && leaf=-
	expect "$port|$proto|rsa.test|$4|ok|$leaf|-"
}

for s in $services; do
	proto=${s%%:*} port=${s##*:}
	case $proto in
	rdp)
		if timeout 15 "$PY" tests/e2e/lib/starttls_server.py --rdp-client \
			"$peer" "$port" rsa.test >"$tmp/c.log" 2>&1; then
			tap_ok "RDP client completed X.224 negotiation and TLS"
		else
			tap_fail "RDP client" "$(cat "$tmp/c.log")"
		fi
		expect "$port|rdp|rsa.test|TLS1.2|ok|$fp_rsa|-" ;;
	plain)   # SMTP that never upgrades: no handshake
		if timeout 15 "$PY" -c '
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
f = s.makefile("rb")
f.readline(); s.sendall(b"EHLO host.test\r\n")
while not f.readline().startswith(b"250 "): pass
s.sendall(b"QUIT\r\n"); f.readline()' "$peer" "$port" >"$tmp/c.log" 2>&1; then
			tap_ok "plain SMTP client quit without STARTTLS"
		else
			tap_fail "plain SMTP client" "$(cat "$tmp/c.log")"
		fi ;;
	chatty)  # a greeting past the preamble's bound: TLS, but not followed
		if echo | timeout 15 openssl s_client -starttls smtp -connect "$peer:$port" \
			-servername rsa.test -tls1_2 -CAfile "$pki/root.crt" >"$tmp/c.log" 2>&1 ||
		   grep -q 'Verify return code: 0 (ok)' "$tmp/c.log"; then
			tap_ok "s_client -starttls smtp after a 5 KB greeting completed its handshake"
		else
			tap_fail "s_client -starttls smtp after a 5 KB greeting" "$(tail -5 "$tmp/c.log")"
		fi ;;
	*)
		starttls_client "$proto" "$port" -tls1_2 TLS1.2 ;;
	esac
done
starttls_client smtp 25 -tls1_3 TLS1.3
starttls_client smtp 25 -tls1_2 TLS1.2 "[$TN_PEER6]"

if timeout 15 "$PY" tests/e2e/lib/sslv2_hello_client.py "$peer" "$SSLV2_PORT" \
	>"$tmp/c.log" 2>&1; then
	tap_ok "a real OpenSSL server completed a TLS 1.0 handshake opened by an SSLv2-compatible hello"
else
	tap_fail "SSLv2-compatible hello client" "$(cat "$tmp/c.log")"
fi
# JA3 over the hello's TLS suites (AES128-SHA, the SCSV), no extensions
ja3=$(printf '769,47-255,,,' | md5sum | cut -d' ' -f1)
expect "$SSLV2_PORT|-|-|TLS1.0|ok|$fp_rsa|sslv2:$ja3"

tn_stop_agent_and_tcpdump "$pcap"

"$BUILD/tlswatch" analyze --json "$pcap" >"$tmp/analyze.jsonl" 2>"$tmp/analyze.stderr"
tap_eq "analyze exits 0 on the capture" 0 "$?"

# One line per handshake event, in the format of expect().
lines_of() { # jsonl file
	"$PY" -c '
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e["event"] != "handshake":
        continue
    chain = e.get("chain") or [{}]
    extra = "sslv2:" + e["ja3"] if e.get("sslv2_hello") else "-"
    print("|".join([str(e["server"]["port"]), e.get("starttls", "-"), e.get("sni", "-"),
                    e.get("version", "-"), e["outcome"], chain[0].get("sha256", "-"), extra]))
' "$1" | sort
}
sort "$expected" >"$tmp/expected.sorted"
tap_eq "the agent reported exactly the handshakes driven" \
	"$(cat "$tmp/expected.sorted")" "$(lines_of "$log")"
tap_eq "analyze of the capture reported exactly the same" \
	"$(cat "$tmp/expected.sorted")" "$(lines_of "$tmp/analyze.jsonl")"

report=$("$BUILD/tlswatch" analyze "$pcap" 2>/dev/null)
tap_eq "the text report counts the upgrades per name" \
	"    upgraded in plaintext first: smtp 3, lmtp 1, imap 1, pop3 1, ftp 1, ldap 1, xmpp 1, postgres 1, mysql 1, nntp 1, sieve 1, irc 1, rdp 1" \
	"$(grep 'upgraded in plaintext first' <<<"$report")"
tap_eq "the text report counts the SSLv2-compatible hello under its name" \
	"    SSLv2-compatible ClientHellos: 1" "$(grep '^    SSLv2-compatible' <<<"$report")"
tap_eq "the text report's problems count the SSLv2-compatible hello" \
	"  sslv2_hellos         1  SSLv2-compatible ClientHellos (reported as handshakes)" \
	"$(grep '^  sslv2_hellos' <<<"$report")"

summary_field() { # jsonl file, python expression on the summary "s"
	grep '"event":"summary"' "$1" | tail -1 |
		"$PY" -c 'import json, sys; s = json.load(sys.stdin); print('"$2"')'
}
tap_eq "analyze: the connection that never upgraded and the one past the bound are not TLS" \
	"2 0 0 1" "$(summary_field "$tmp/analyze.jsonl" \
	's["problem_counts"]["non_tls_flows"], s["problem_counts"]["gaps"], s["problem_counts"]["parse_errors"], s["problem_counts"]["sslv2_hellos"]')"
stopped=$(grep '"state":"stopped"' "$log" | tail -1)
# (run's flows_not_tls counts only the connections the agent was sent
# bytes of: the long greeting may come as one GSO packet past the bound,
# which the kernel never copies)
preamble=$(printf '%s' "$stopped" | "$PY" -c \
	'import json, sys; print(json.load(sys.stdin)["counters"].get("preamble_bytes", 0))' 2>/dev/null)
if [ "${preamble:-0}" -gt 0 ] && [ "$preamble" -lt $((15 * 2 * 4096)) ]; then
	tap_ok "the kernel copied $preamble preamble bytes (bounded)"
else
	tap_fail "the kernel copied preamble bytes, bounded" "preamble_bytes: ${preamble:-missing}"
fi

if [ "$TN_FAILED" -ne 0 ]; then
	sed 's/^/#   servers: /' "$tmp/servers.log" | head -20
	sed 's/^/#   agent stderr: /' "$log.stderr" | head -20
fi
