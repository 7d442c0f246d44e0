#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The agent's active check of TLS 1.3 names.
#
# TLS 1.3 encrypts the certificate, so the agent connects to the server
# itself with the SNI it saw. One `openssl s_server` inside a network
# namespace serves ecdsa.test by default and rsa.test to clients asking for
# that name; real TLS 1.3 `openssl s_client` handshakes to both names; the
# agent runs on the host end of the veth, tcpdump beside it. Asserted:
#   - the agent reports, with "observed":"active", exactly the certificate
#     the server was started with for each name (SHA-256 of the DER);
#   - its own check connections, one per probe (ECDSA, RSA and Ed25519
#     offers, TLS 1.3 and 1.2: 6 per check, whether the server holds such
#     a certificate or not), cross the same interface (tcpdump sees them)
#     but are not reported as client handshakes;
#   - with --no-active-check no active cert event appears and no extra
#     connection is made.
# Needs root. TAP output; exits non-zero on any failure.
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
export BUILD
. tests/e2e/lib_netns.sh
. scripts/lib/common.sh

tn_require_root live_active
tn_require_cmds openssl tcpdump python3 ip ss
tn_require_tlswatch

tmp=$(tn_tmpdir)
pki=$tmp/pki
tn_make_pki "$pki"

tn_setup act
iface=$TN_HOST_IF
srv=$TN_PEER4

ip netns exec "$TN_NS" openssl s_server -quiet -www -accept "$srv:443" \
	-cert "$pki/ecdsa.test.crt" -key "$pki/ecdsa.test.key" -cert_chain "$pki/inter.crt" \
	-servername rsa.test -cert2 "$pki/rsa.test.crt" -key2 "$pki/rsa.test.key" \
	>"$tmp/server.log" 2>&1 &
tn_bg $!
tn_wait_listen 10 443 || tn_bail "openssl s_server did not start"

fp_rsa=$(cert_sha256 "$pki/rsa.test.crt")
fp_ecdsa=$(cert_sha256 "$pki/ecdsa.test.crt")

LIVE=tests/e2e/lib_live.py

client13() { # sni
	printf 'GET / HTTP/1.0\r\n\r\n' |
		timeout 10 openssl s_client -connect "$srv:443" -tls1_3 -servername "$1" \
			-CAfile "$pki/root.crt" >"$tmp/client.log" 2>&1
}

# Client ports of the connections to the server in a capture, by any
# packet to the server, not only the SYN (a fresh-clone run once had one
# connection's SYN missing from the capture).
# The client port of each connection to the server in the capture, one
# line per connection: a port the kernel gave to two connections in turn
# (the server closed first, so no TIME_WAIT held it) has two SYNs of
# different sequence numbers; a port whose SYN the capture missed still
# counts once, by any packet.
pcap_client_ports() { # pcap
	tcpdump -nr "$1" "dst host $srv and dst port 443" 2>/dev/null |
		awk '{ if (!match($0, / IP [0-9.]*\.[0-9]+ > /)) next
		       split(substr($0, RSTART + 4, RLENGTH - 7), a, ".")
		       port = a[5]; seen[port] = 1
		       if ($0 ~ /Flags \[S\]/ && match($0, /seq [0-9]+/))
			       syn[port, substr($0, RSTART + 4, RLENGTH - 4)] = 1 }
		     END { for (k in syn) { split(k, b, SUBSEP); n[b[1]]++ }
			   for (p in seen) for (i = 0; i < (p in n ? n[p] : 1); i++) print p }' |
		sort -n
}

hs_ports() { # log
	python3 "$LIVE" events --log "$1" --event handshake |
		python3 -c 'import json,sys
for l in sys.stdin: print(json.loads(l)["client"]["port"])' | sort -n
}

# sha256 of the active cert event for SNI (one line per event).
active_sha() { # log, sni
	python3 "$LIVE" events --log "$1" --event cert --field observed=active \
		--field "sni=$2" | python3 -c 'import json,sys
for l in sys.stdin: print(json.loads(l)["sha256"])'
}

stopped_counter() { # log, name
	python3 "$LIVE" events --log "$1" --event agent --field state=stopped | tail -1 |
		python3 -c 'import json,sys
l = sys.stdin.read()
print(json.loads(l).get("counters", {}).get(sys.argv[1], "missing") if l else "no stopped event")' "$2"
}

# --- 1. with active checks --------------------------------------------------
pcap=$tmp/active.pcap
log=$tmp/active.jsonl
tn_start_tcpdump "$pcap" tcp port 443 || tn_bail "tcpdump did not start on $iface"
tn_start_agent "$log" --stats-interval 1 || tn_bail "tlswatch run did not start on $iface"

n_ok=0
for sni in rsa.test ecdsa.test rsa.test ecdsa.test rsa.test; do
	client13 "$sni" && n_ok=$((n_ok + 1))
done
tap_eq "5 TLS 1.3 client handshakes succeed" 5 "$n_ok"

checks_started=$SECONDS
tn_wait_cmd 20 sh -c "python3 '$LIVE' events --log '$log' --event cert --field observed=active | grep -q rsa.test && python3 '$LIVE' events --log '$log' --event cert --field observed=active | grep -q ecdsa.test"
# both checks ended (the stats event's counter, every second), each of
# their probes' connections closed: the capture holds them whole
checks_done() { [ "$(tn_agent_counter "$log" active_checks)" = 2 ]; }
tn_wait_cmd 20 checks_done
checks_took=$((SECONDS - checks_started))
tn_wait_conns_closed 10
agent_rc=0
tn_stop_agent || agent_rc=$?
tap_eq "agent exits 0 on SIGTERM" 0 "$agent_rc"
tn_stop_tcpdump "$pcap"

tap_eq "active check of rsa.test reports the certificate the server was started with" \
	"$fp_rsa" "$(active_sha "$log" rsa.test)"
tap_eq "active check of ecdsa.test reports the certificate the server was started with" \
	"$fp_ecdsa" "$(active_sha "$log" ecdsa.test)"

active_events=$(python3 "$LIVE" events --log "$log" --event cert --field observed=active | wc -l)
tap_eq "one active cert event per (server, name)" 2 "$active_events"
passive=$(python3 "$LIVE" events --log "$log" --event cert --field observed=passive | wc -l)
tap_eq "no passive cert event (TLS 1.3 hides the certificate)" 0 "$passive"

hs=$(hs_ports "$log")
wire=$(pcap_client_ports "$pcap")
tap_eq "agent reported exactly the 5 client handshakes" 5 "$(printf '%s\n' "$hs" | grep -c .)"
checks=$(stopped_counter "$log" active_checks)
tap_eq "agent counted 2 successful active checks" 2 "$checks"
own=$(comm -13 <(printf '%s\n' "$hs") <(printf '%s\n' "$wire") | grep -c .)
# 6 probes per check (ECDSA, RSA, Ed25519; TLS 1.3 and 1.2), failed ones too
tap_eq "the 12 check connections crossed $iface (tcpdump) and were not reported" 12 "$own"
notwire=$(comm -23 <(printf '%s\n' "$hs") <(printf '%s\n' "$wire") | grep -c .)
tap_eq "every reported handshake is a client connection on the wire" 0 "$notwire"
tap_eq "agent lost no ring buffer record" 0 "$(stopped_counter "$log" ringbuf_lost)"

# --- 2. --no-active-check -----------------------------------------------------
pcap=$tmp/passive.pcap
log=$tmp/passive.jsonl
tn_start_tcpdump "$pcap" tcp port 443 || tn_bail "tcpdump did not start on $iface"
tn_start_agent "$log" --no-active-check --stats-interval 1 ||
	tn_bail "tlswatch run --no-active-check did not start"
n_ok=0
for sni in rsa.test ecdsa.test; do
	client13 "$sni" && n_ok=$((n_ok + 1))
done
tap_eq "2 TLS 1.3 client handshakes succeed" 2 "$n_ok"
# as long as the active checks took above, and then some (at least 3 s)
sleep $((checks_took * 2 + 3))
tn_stop_agent || true
tn_stop_tcpdump "$pcap"
active_events=$(python3 "$LIVE" events --log "$log" --event cert --field observed=active | wc -l)
tap_eq "--no-active-check: no active cert event" 0 "$active_events"
tap_eq "--no-active-check: agent reported the 2 handshakes" 2 \
	"$(hs_ports "$log" | grep -c .)"
tap_eq "--no-active-check: only the 2 client connections on the wire" 2 \
	"$(pcap_client_ports "$pcap" | grep -c .)"
tap_eq "--no-active-check: no active_checks counter" missing \
	"$(stopped_counter "$log" active_checks)"

if [ "$TN_FAILED" -ne 0 ]; then
	sed 's/^/#   agent stderr: /' "$tmp/active.jsonl.stderr" | head -20
	grep -v '"event":"agent"' "$tmp/active.jsonl" | cut -c1-400 | sed 's/^/#   agent: /' | head -20
fi
