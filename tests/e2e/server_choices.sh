#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# What the server chose, as a peer logs it: the key-exchange group, the
# ALPN protocol selected, and whether the session was resumed; live and
# from the capture of the same traffic.
#
# Three `openssl s_server`s in a test namespace (443: tickets on; 8443:
# -alpn h2; 9443: -no_ticket, so TLS 1.2 resumes by session id) and real
# `openssl s_client`s forcing each case, one SNI per case: TLS 1.3 with
# -groups X25519, secp384r1, ffdhe2048; TLS 1.2 ECDHE with secp384r1 (the
# ServerKeyExchange); ALPN h2 in TLS 1.2 (the ServerHello) and TLS 1.3
# (encrypted: absent); resumption with -sess_out/-sess_in by TLS 1.2
# session id, TLS 1.2 ticket and TLS 1.3 PSK (the agent's active check
# asks for the TLS 1.3 names, not for the resumed TLS 1.2 ones). Every client's own log must
# say what it negotiated (Server Temp Key, ALPN protocol, Reused), so the
# expectations below are the clients' view. tcpdump records the veth the
# agent watches; then the exact facts of every handshake event, live and
# from `analyze --json` of the capture, the agent's /metrics families
# (promtool-checked), and the text report's lines. A resumed handshake has
# no chain and no finding, and is reported as resumed, not as a missing
# certificate. Needs root. TAP output.
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
export BUILD
. tests/e2e/lib_netns.sh
. tests/e2e/lib_prom.sh

tn_require_root server_choices
tn_require_cmds openssl tcpdump curl promtool ip ss timeout
tn_require_tlswatch
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
TW=$BUILD/tlswatch

tmp=$(tn_tmpdir)
pki=$tmp/pki
tn_make_pki "$pki"
tn_setup sch
srv=$TN_PEER4

# s_server on PORT with rsa.test and ARGS.
server_on() { # port, args...
	local port=$1
	shift
	tn_s_server_on "$port" "$tmp/server.$port.log" \
		-cert "$pki/rsa.test.crt" -key "$pki/rsa.test.key" "$@"
}
server_on 443
server_on 8443 -alpn h2
server_on 9443 -no_ticket

tn_start_tcpdump "$tmp/choices.pcap" tcp || tn_bail "tcpdump did not start"
mport=$(prom_free_port) || tn_bail "no free port"
murl=http://127.0.0.1:$mport
log=$tmp/agent.jsonl
tn_start_agent "$log" --port 8443 --port 9443 --metrics "127.0.0.1:$mport" \
	--no-active-check --no-online --stats-interval 1 ||
	tn_bail "tlswatch run did not start"

# One client handshake: SNI, port, s_client options; its log in
# $tmp/client.SNI.N.log (N counts the handshakes of that SNI).
declare -A n_of
hs() { # sni, port, s_client args...
	local sni=$1 port=$2 n
	shift 2
	n=$((${n_of[$sni]:-0} + 1))
	n_of[$sni]=$n
	printf 'GET / HTTP/1.0\r\n\r\n' |
		timeout 10 openssl s_client -connect "$srv:$port" -servername "$sni" -ign_eof "$@" \
			>"$tmp/client.$sni.$n.log" 2>&1 ||
		tap_fail "s_client $sni (#$n) $* completes" "$(tail -5 "$tmp/client.$sni.$n.log")"
}
# client_says SNI N REGEX: the client's log shows what it negotiated.
client_says() { # sni, n, extended regex
	tap_check "s_client $1 #$2 says /$3/" grep -Eq "$3" "$tmp/client.$1.$2.log"
}

hs x25519-13.test 443 -tls1_3 -groups X25519
client_says x25519-13.test 1 '^Server Temp Key: X25519'
hs p384-13.test 443 -tls1_3 -groups secp384r1
client_says p384-13.test 1 '^Server Temp Key: ECDH, secp384r1'
hs ffdhe-13.test 443 -tls1_3 -groups ffdhe2048
client_says ffdhe-13.test 1 '^Server Temp Key: DH, 2048 bits'
hs p384-12.test 443 -tls1_2 -groups secp384r1
client_says p384-12.test 1 '^Server Temp Key: ECDH, secp384r1'
hs alpn-12.test 8443 -tls1_2 -alpn h2,http/1.1
client_says alpn-12.test 1 '^ALPN protocol: h2$'
hs alpn-13.test 8443 -tls1_3 -alpn h2,http/1.1
client_says alpn-13.test 1 '^ALPN protocol: h2$'
hs noalpn-12.test 8443 -tls1_2
client_says noalpn-12.test 1 '^No ALPN negotiated'
# resumption: a full handshake writes the session, the second resumes it
for r in "sessid-12.test 9443 -tls1_2" "ticket-12.test 443 -tls1_2" "psk-13.test 443 -tls1_3"; do
	set -- $r
	hs "$@" -sess_out "$tmp/$1.sess"
	hs "$@" -sess_in "$tmp/$1.sess"
	client_says "$1" 1 '^New, TLSv1'
	client_says "$1" 2 '^Reused, TLSv1'
done
n_made=13

# facts FILE: one line per handshake event, ordered by SNI then time.
facts() { # json lines file
	"$PY" - "$1" <<-'EOF'
	import json, sys
	rows = []
	for line in open(sys.argv[1], encoding='utf-8'):
	    e = json.loads(line)
	    if e.get('event') != 'handshake':
	        continue
	    rows.append((e.get('sni', '-'), e['ts'], ' '.join(str(x) for x in (
	        e.get('sni', '-'), e.get('version', '-'), e.get('group', '-'),
	        e.get('alpn_selected', '-'), 'resumed' if e.get('resumed') else 'full',
	        'chain=%d' % len(e.get('chain', [])),
	        'findings=' + ','.join(sorted(f['kind'] for f in e['findings']
	                                      if f['kind'] != 'untrusted')),
	        e['outcome']))))
	for _, _, r in sorted(rows):
	    print(r)
	EOF
}
want="alpn-12.test TLS1.2 x25519 h2 full chain=1 findings=hostname_mismatch ok
alpn-13.test TLS1.3 x25519 - full chain=0 findings= ok
ffdhe-13.test TLS1.3 ffdhe2048 - full chain=0 findings= ok
noalpn-12.test TLS1.2 x25519 - full chain=1 findings=hostname_mismatch ok
p384-12.test TLS1.2 secp384r1 - full chain=1 findings=hostname_mismatch ok
p384-13.test TLS1.3 secp384r1 - full chain=0 findings= ok
psk-13.test TLS1.3 x25519 - full chain=0 findings= ok
psk-13.test TLS1.3 x25519 - resumed chain=0 findings= ok
sessid-12.test TLS1.2 x25519 - full chain=1 findings=hostname_mismatch ok
sessid-12.test TLS1.2 - - resumed chain=0 findings= ok
ticket-12.test TLS1.2 x25519 - full chain=1 findings=hostname_mismatch ok
ticket-12.test TLS1.2 - - resumed chain=0 findings= ok
x25519-13.test TLS1.3 x25519 - full chain=0 findings= ok"

tn_wait_count 15 '"event":"handshake"' "$log" "$n_made" ||
	tn_note "the agent logged fewer than $n_made handshakes"
# the full TLS 1.2 handshakes carry rsa.test, whose chain does not verify
# without a trust store (the finding is "untrusted"): findings=hostname_mismatch there
tap_eq "live: group, ALPN selected, resumed of each handshake" "$want" "$(facts "$log")"

# --- /metrics ----------------------------------------------------------------
series() { # family, labels
	tn_metric "$tmp/metrics" "$@"
}
for i in $(seq 30); do
	curl --noproxy '*' -sS -m 5 -o "$tmp/metrics" "$murl/metrics" 2>/dev/null &&
		[ "$(series tlswatch_key_exchange_groups_total 'group="x25519"')" = 8 ] && break
	sleep 0.2
done
out=$(promtool check metrics <"$tmp/metrics" 2>&1)
tap_eq "promtool check metrics accepts /metrics, no lint" "0:" "$?:$out"
tap_eq "tlswatch_key_exchange_groups_total by group" "x25519=8 secp384r1=2 ffdhe2048=1" \
	"$(for g in x25519 secp384r1 ffdhe2048; do
		printf '%s=%s ' "$g" "$(series tlswatch_key_exchange_groups_total "group=\"$g\"")"; done |
		sed 's/ $//')"
tap_eq "tlswatch_alpn_selected_total: h2 1, none 6 (TLS 1.2), encrypted 6 (TLS 1.3)" "1 6 6" \
	"$(series tlswatch_alpn_selected_total 'alpn="h2"') $(series tlswatch_alpn_selected_total 'alpn="none"') $(series tlswatch_alpn_selected_total 'alpn="encrypted"')"
tap_eq "tlswatch_handshakes_resumed_total: TLS1.2 2, TLS1.3 1" "2 1" \
	"$(series tlswatch_handshakes_resumed_total 'version="TLS1.2"') $(series tlswatch_handshakes_resumed_total 'version="TLS1.3"')"
tap_eq "no certificate chain left unread" "0 0" \
	"$(series tlswatch_chains_unread_total 'reason="too_large"') $(series tlswatch_chains_unread_total 'reason="truncated"')"

tn_stop_agent
tn_stop_tcpdump "$tmp/choices.pcap"

# --- the capture of the same traffic -------------------------------------------
"$TW" analyze --json --port 443 --port 8443 --port 9443 "$tmp/choices.pcap" \
	>"$tmp/analyze.jsonl" 2>"$tmp/analyze.err"
tap_eq "analyze --json exits 0" 0 "$?"
tap_eq "analyze: the same facts as live" "$want" "$(facts "$tmp/analyze.jsonl")"
tap_eq "analyze: the summary's resumed_handshakes, group_counts, alpn_selected_counts" \
	'3 {"ffdhe2048": 1, "secp384r1": 2, "x25519": 8} {"encrypted": 6, "h2": 1, "none": 6}' \
	"$("$PY" -c 'import json, sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e["event"] == "summary":
        print(e["resumed_handshakes"], json.dumps(e["group_counts"], sort_keys=True),
              json.dumps(e["alpn_selected_counts"], sort_keys=True))' "$tmp/analyze.jsonl")"

"$TW" analyze --port 443 --port 8443 --port 9443 "$tmp/choices.pcap" >"$tmp/report.txt" 2>&1
report=$(cat "$tmp/report.txt")
for line in "Server choices (13 handshakes with a ServerHello)" \
	"  key exchange groups: x25519 8 (61.5%), secp384r1 2 (15.4%), ffdhe2048 1 (7.7%)" \
	"  ALPN selected: h2 1 (7.7%), none 6, encrypted (TLS 1.3) 6" \
	"  resumed: 3 (23.1%)" \
	"    certificate not sent on 1 resumed handshake (the session's full handshake carried it)" \
	"    certificate not visible on 1 TLS 1.3 handshake (encrypted)"; do
	case $report in
	*"$line"*) tap_ok "text report: '$line'" ;;
	*) tap_fail "text report: '$line'" "$report" ;;
	esac
done

# --- active checks: asked for TLS 1.3 names, not for TLS 1.2 resumptions -------
# (a second agent, with active checks, after the capture: its own
# connections would be in it). A TLS 1.3 name gets one; a resumed TLS 1.2
# handshake sends no certificate by design (its full handshake showed it).
active_snis() { # log
	"$PY" -c 'import json, sys
print(" ".join(sorted({e.get("sni", "-") for e in map(json.loads, open(sys.argv[1]))
                       if e["event"] == "cert" and e.get("observed") == "active"})))' "$1"
}
log2=$tmp/agent2.jsonl
tn_start_agent "$log2" --port 8443 --port 9443 --no-online --no-metrics ||
	tn_bail "tlswatch run (active checks) did not start"
hs resume2-12.test 9443 -tls1_2 -sess_out "$tmp/resume2.sess"
hs resume2-12.test 9443 -tls1_2 -sess_in "$tmp/resume2.sess"
client_says resume2-12.test 2 '^Reused, TLSv1'
check_started=$SECONDS
hs active-13.test 443 -tls1_3
tn_wait_grep 20 '"observed":"active"' "$log2" || tn_note "no active check reported"
# a negative wait: a check wrongly started for the resumed handshake (before
# the TLS 1.3 one) would be in by now: twice what that one took, and 2 s
sleep $(((SECONDS - check_started) * 2 + 2))
tn_stop_agent
tap_eq "active checks: the TLS 1.3 name, not the resumed TLS 1.2 one" \
	"active-13.test" "$(active_snis "$log2")"
# (the resumed name's leaf was already reported by its full handshake, so
# a check of it would show in the counters, not in a new cert event)
tap_eq "the agent made one active check, none failed or refused" "1 0 0" \
	"$(tn_agent_counter "$log2" active_checks) $(tn_agent_counter "$log2" active_check_failures) $(tn_agent_counter "$log2" active_rate_limited)"
