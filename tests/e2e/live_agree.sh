#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The live agent and `analyze` on a capture of the same traffic agree.
#
# A network namespace joined to the host by a veth pair; real
# `openssl s_server`s inside it (big.test: an RSA-4096 leaf with 60 names,
# whose chain spans many segments; rsa.test with a stapled OCSP answer;
# expired.test); `tlswatch run` on the host end of the veth and tcpdump on
# the same interface at the same time; real `openssl s_client` handshakes
# from the host: TLS 1.2 and 1.3, IPv4 and IPv6, a stapled response,
# clients rejecting the certificate (unknown CA, expired), and clients that
# give up before finishing. Then the agent is stopped, `analyze --json` runs
# on the capture, and the two must agree exactly on every handshake (client
# port, server, SNI, version, outcome, leaf SHA-256, alerts, staple), and
# both must be exactly the handshakes driven, with the leaf fingerprints
# computed here with `openssl x509 -outform DER | sha256sum`.
#
# Needs root. TAP output; exits non-zero on any failure.
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
export BUILD
. tests/e2e/lib_netns.sh
. scripts/lib/common.sh

tn_require_root live_agree
tn_require_cmds openssl tcpdump python3 ip ss
tn_require_tlswatch

tmp=$(tn_tmpdir)
pki=$tmp/pki
tn_make_pki "$pki"

tn_setup agr
iface=$TN_HOST_IF

# Server addresses (all on port 443, inside the namespace).
read -r big4 big6 < <(tn_peer_addr 3)
read -r rsa4 _ < <(tn_peer_addr 4)
read -r exp4 _ < <(tn_peer_addr 5)
read -r mtls4 _ < <(tn_peer_addr 6)
# To big.test over IPv4 the host advertises a 2 KB window and an MSS of
# 536: the server's certificate flight then leaves as many separate
# packets (over IPv6 it leaves as one GSO super-packet).
ip route replace "$big4/32" dev "$iface" window 2048 advmss 536 ||
	tn_bail "cannot add the small-window route to $big4"

start_server() { # log name, accept address, s_server options...
	local name=$1 accept=$2
	shift 2
	ip netns exec "$TN_NS" openssl s_server -quiet -www -accept "$accept" "$@" \
		>"$tmp/server-$name.log" 2>&1 &
	tn_bg $!
}
start_server big4 "$big4:443" -cert "$pki/big.test.crt" -key "$pki/big.test.key" \
	-cert_chain "$pki/inter.crt"
start_server big6 "[$big6]:443" -6 -cert "$pki/big.test.crt" -key "$pki/big.test.key" \
	-cert_chain "$pki/inter.crt"
start_server rsa4 "$rsa4:443" -cert "$pki/rsa.test.crt" -key "$pki/rsa.test.key" \
	-cert_chain "$pki/inter.crt" -status_file "$pki/rsa.test.ocsp.der"
start_server exp4 "$exp4:443" -cert "$pki/expired.test.crt" -key "$pki/expired.test.key" \
	-cert_chain "$pki/inter.crt"
# ecdsa.test demands a client certificate the clients here do not have.
start_server mtls4 "$mtls4:443" -cert "$pki/ecdsa.test.crt" -key "$pki/ecdsa.test.key" \
	-cert_chain "$pki/inter.crt" -Verify 1 -CAfile "$pki/root.crt"
for a in "$big4" "\\[$big6\\]" "$rsa4" "$exp4" "$mtls4"; do
	tn_wait_cmd 10 sh -c "ip netns exec '$TN_NS' ss -Hltn | grep -q '$a:443 '" ||
		tn_bail "openssl s_server on $a:443 did not start"
done

fp_big=$(cert_sha256 "$pki/big.test.crt")
fp_rsa=$(cert_sha256 "$pki/rsa.test.crt")
fp_exp=$(cert_sha256 "$pki/expired.test.crt")
fp_ecdsa=$(cert_sha256 "$pki/ecdsa.test.crt")
fp_inter=$(cert_sha256 "$pki/inter.crt")

pcap=$tmp/live.pcap
log=$tmp/agent.jsonl
tn_start_tcpdump "$pcap" tcp port 443 || tn_bail "tcpdump did not start on $iface"
tn_start_agent "$log" --no-active-check --stats-interval 1 ||
	tn_bail "tlswatch run did not start on $iface"
tap_ok "agent started on $iface"

# --- traffic: each handshake, and the line it must produce -----------------
expected=$tmp/expected
: >"$expected"
expect() { # server|sni|version|outcome|leaf|alerts|staple
	echo "$1" >>"$expected"
}

client() { # expect-success(0|1), description, address, s_client options...
	local want=$1 what=$2 addr=$3 rc
	shift 3
	# A refusal can come after the client's Finished (TLS 1.3 client
	# certificates): keep stdin open a moment so that s_client reads the
	# server's alert instead of racing it to EOF and exiting 0.
	{ printf 'GET / HTTP/1.0\r\n\r\n'; if [ "$want" = 1 ]; then sleep 1; fi; } |
		timeout 10 openssl s_client -connect "$addr:443" "$@" \
			>"$tmp/client.log" 2>&1
	rc=$?
	if { [ "$want" = 0 ] && [ "$rc" -eq 0 ]; } ||
	   { [ "$want" = 1 ] && [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ]; }; then
		tap_ok "client: $what"
	else
		tap_fail "client: $what (s_client exit status $rc)" "$(tail -5 "$tmp/client.log")"
	fi
}

trust=(-CAfile "$pki/root.crt" -verify_return_error)
# A TLS 1.3 client that rejects the server's certificate has no handshake
# keys of its own yet (OpenSSL switches when it sends its flight): its
# alert goes out in plaintext, readable like a TLS 1.2 one.

client 0 "TLS 1.2 over IPv4 to big.test (chain in many packets)" "$big4" \
	-tls1_2 -servername big.test "${trust[@]}"
expect "$big4/443|big.test|TLS1.2|ok|$fp_big|-|-"
client 0 "TLS 1.3 over IPv4 to big.test" "$big4" -tls1_3 -servername big.test "${trust[@]}"
expect "$big4/443|big.test|TLS1.3|ok|-|-|-"
client 0 "TLS 1.2 over IPv6 to big.test (GSO super-packet)" "[$big6]" \
	-tls1_2 -servername big.test "${trust[@]}"
expect "$big6/443|big.test|TLS1.2|ok|$fp_big|-|-"
client 0 "TLS 1.3 over IPv6 to big.test" "[$big6]" -tls1_3 -servername big.test "${trust[@]}"
expect "$big6/443|big.test|TLS1.3|ok|-|-|-"
client 0 "TLS 1.2 to rsa.test with a stapled OCSP answer" "$rsa4" \
	-tls1_2 -servername rsa.test -status "${trust[@]}"
expect "$rsa4/443|rsa.test|TLS1.2|ok|$fp_rsa|-|good"
client 0 "TLS 1.3 to rsa.test asking for a staple (encrypted)" "$rsa4" \
	-tls1_3 -servername rsa.test -status "${trust[@]}"
expect "$rsa4/443|rsa.test|TLS1.3|ok|-|-|-"
client 1 "TLS 1.2 to rsa.test, client does not know the CA" "$rsa4" \
	-tls1_2 -servername rsa.test -no-CAfile -no-CApath -no-CAstore -verify_return_error
expect "$rsa4/443|rsa.test|TLS1.2|failed|$fp_rsa|client:fatal:unknown_ca|-"
client 1 "TLS 1.3 to rsa.test, client does not know the CA" "$rsa4" \
	-tls1_3 -servername rsa.test -no-CAfile -no-CApath -no-CAstore -verify_return_error
expect "$rsa4/443|rsa.test|TLS1.3|failed|-|client:fatal:unknown_ca|-"
client 1 "TLS 1.2 to expired.test, client rejects the expired leaf" "$exp4" \
	-tls1_2 -servername expired.test "${trust[@]}"
expect "$exp4/443|expired.test|TLS1.2|failed|$fp_exp|client:fatal:certificate_expired|-"
client 1 "TLS 1.3 to expired.test, client rejects the expired leaf" "$exp4" \
	-tls1_3 -servername expired.test "${trust[@]}"
expect "$exp4/443|expired.test|TLS1.3|failed|-|client:fatal:certificate_expired|-"

client 1 "TLS 1.2 to ecdsa.test, the server rejects the missing client certificate" \
	"$mtls4" -tls1_2 -servername ecdsa.test "${trust[@]}"
expect "$mtls4/443|ecdsa.test|TLS1.2|failed|$fp_ecdsa|server:fatal:handshake_failure|-"
# In TLS 1.3 the server's alert is encrypted (19 bytes of ciphertext after
# the client's Finished): failed, with an inferred encrypted alert.
client 1 "TLS 1.3 to ecdsa.test, the server rejects the missing client certificate" \
	"$mtls4" -tls1_3 -servername ecdsa.test "${trust[@]}"
expect "$mtls4/443|ecdsa.test|TLS1.3|failed|-|server:unknown:unknown:encrypted|-"

abort() { # description, address, sni, tls, mode
	if timeout 15 python3 tests/e2e/lib_live.py abort --addr "$2" --sni "$3" \
		--tls "$4" --mode "$5" >"$tmp/abort.out" 2>&1; then
		tap_ok "client: $1"
	else
		tap_fail "client: $1" "$(cat "$tmp/abort.out")"
	fi
}
# The server may react to the client's FIN with an alert (OpenSSL sends
# decode_error) if it gets to send it before the client's RST: the alert is
# kept in "alerts" but the outcome stays aborted (wildcard alerts).
abort "TLS 1.2 to big.test, gives up after the server's flight" "$big4" big.test 1.2 flight
expect "$big4/443|big.test|TLS1.2|aborted|$fp_big|*|-"
abort "TLS 1.3 over IPv6 to big.test, gives up after the server's flight" "$big6" big.test 1.3 flight
expect "$big6/443|big.test|TLS1.3|aborted|-|-|-"
# Closed right after the ClientHello: the server's answer crosses the FIN,
# so how much of it counts is up to the parser (wildcards); but it is one
# connection, so one handshake event, and both sides must agree.
abort "TLS 1.2 to rsa.test, closes right after its ClientHello" "$rsa4" rsa.test 1.2 hello
expect "$rsa4/443|rsa.test|*|aborted|*|-|-"

tn_stop_agent_and_tcpdump "$pcap"

# --- what the agent said about itself ---------------------------------------
stopped=$(python3 tests/e2e/lib_live.py events --log "$log" --event agent \
	--field state=stopped | tail -1)
counter() { # name
	printf '%s' "$stopped" | python3 -c \
		'import json,sys; print(json.load(sys.stdin).get("counters",{}).get(sys.argv[1],"missing"))' "$1" 2>/dev/null
}
if [ -n "$stopped" ]; then
	tap_ok "agent wrote a 'stopped' event"
	tap_eq "agent lost no ring buffer record" 0 "$(counter ringbuf_lost)"
	tap_eq "agent counted $(wc -l <"$expected") handshakes" "$(wc -l <"$expected")" \
		"$(counter handshakes)"
else
	tap_fail "agent wrote a 'stopped' event" "$(tail -3 "$log")"
fi

# --- the capture: the chain really went in pieces ---------------------------
max_pk=$(python3 tests/e2e/lib_live.py flight-packets --pcap "$pcap" --server "$big4" |
	awk 'BEGIN { m = 0 } $2 > m { m = $2 } END { print m }')
if [ "${max_pk:-0}" -ge 4 ]; then
	tap_ok "big.test's first flight over IPv4 took $max_pk packets"
else
	tap_fail "big.test's first flight over IPv4 took at least 4 packets" "got ${max_pk:-none}"
fi

# --- analyze on the capture, and the comparison ------------------------------
"$BUILD/tlswatch" analyze --json "$pcap" >"$tmp/analyze.jsonl" 2>"$tmp/analyze.stderr"
tap_eq "analyze exits 0 on the capture" 0 "$?"

cat >"$tmp/expected-certs" <<EOF
$big4/443|big.test|$fp_big
$big6/443|big.test|$fp_big
$rsa4/443|rsa.test|$fp_rsa
$exp4/443|expired.test|$fp_exp
$mtls4/443|ecdsa.test|$fp_ecdsa
EOF
python3 tests/e2e/lib_live.py compare --agent "$log" --analyze "$tmp/analyze.jsonl" \
	--expected "$expected" --expected-certs "$tmp/expected-certs" --iface "$iface" ||
	TN_FAILED=$((TN_FAILED + 1))

# Every TLS 1.2 chain the agent reported is leaf + our intermediate.
bad=$(python3 tests/e2e/lib_live.py events --log "$log" --event handshake |
	python3 -c '
import json, sys
want = sys.argv[1]
for line in sys.stdin:
    e = json.loads(line)
    ch = [c["sha256"] for c in e.get("chain", [])]
    if ch and (len(ch) != 2 or ch[1] != want):
        print(e["client"]["port"], ch)' "$fp_inter")
tap_eq "every chain the agent reported is the leaf and the intermediate" "" "$bad"

summary=$(grep '"event":"summary"' "$tmp/analyze.jsonl" | tail -1)
gaps=$(printf '%s' "$summary" | python3 -c \
	'import json,sys; p=json.load(sys.stdin)["problem_counts"]; print(p["gaps"], p["parse_errors"])' 2>/dev/null)
tap_eq "analyze saw no gap and no parse error" "0 0" "$gaps"

if [ "$TN_FAILED" -ne 0 ]; then
	tn_note "kept for inspection: agent log, analyze output"
	sed 's/^/#   agent: /' "$log" | head -60
	sed 's/^/#   analyze: /' "$tmp/analyze.jsonl" | head -40
	sed 's/^/#   agent stderr: /' "$log.stderr" | head -20
fi
