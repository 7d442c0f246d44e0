#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A certificate chain too large to read must not vanish: the handshake is
# reported, says why its chain is missing, and is counted.
#
# scripts/make-many-sans-cert.sh makes two self-signed certificates:
# huge.test with 10,000 DNS names (about 380 KB: above the 256 KiB
# per-message cap) and large.test with 3,500 (about 137 KB: under the cap,
# above the kernel's default 64 KiB per-direction copy budget). Each is
# served by `openssl s_server` in a test namespace; a TLS 1.2 `openssl
# s_client` fetches it (OpenSSL refuses a Certificate message above its own
# 100 KiB limit, "excessive message size", with an illegal_parameter
# alert: the handshake fails, as it does for OpenSSL clients in the wild).
# Asserted, with the Certificate message length computed from the DER
# (openssl x509 -outform DER): live (default --dir-budget), huge.test says
# "chain_error":"too_large" and large.test "truncated" (the copy budget
# cut it), each with that exact "chain_bytes"; the agent counts them
# (chains_too_large, chains_truncated; tlswatch_chains_unread_total); from
# the tcpdump capture, `analyze` says too_large for huge.test, counts it in
# problem_counts, and the text report says so. A client that takes 1 MiB
# chains (tests/unit/big_chain_client.c) completes a handshake with
# huge.test: from the capture, and live with --dir-budget 1048576, it is
# followed past the skipped chain to "ok" (its group, sent after the
# chain, read); live with the default budget it is "incomplete" (the
# server's Finished was not copied). Needs root. TAP output.
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
export BUILD
. tests/e2e/lib_netns.sh
. tests/e2e/lib_prom.sh

tn_require_root big_chain
tn_require_cmds openssl tcpdump curl ip ss timeout wc
tn_require_tlswatch
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
TW=$BUILD/tlswatch

tmp=$(tn_tmpdir)
for c in "10000 huge.test" "3500 large.test"; do
	set -- $c
	scripts/make-many-sans-cert.sh "$1" "$2" "$tmp" >"$tmp/make.log" 2>&1 ||
		tn_bail "make-many-sans-cert.sh $1 $2: $(cat "$tmp/make.log")"
done
# The Certificate message body: a 3-byte list length, then each
# certificate with its 3-byte length (s_server sends the self-signed leaf
# alone).
msg_len() { # pem
	echo $(($(openssl x509 -in "$1" -outform DER | wc -c) + 6))
}
huge_len=$(msg_len "$tmp/huge.test.crt")
large_len=$(msg_len "$tmp/large.test.crt")
tap_check "huge.test's Certificate message ($huge_len bytes) is above 256 KiB" \
	test "$huge_len" -gt 262144
tap_check "large.test's ($large_len bytes) is under 256 KiB and above the 64 KiB copy budget" \
	test "$large_len" -lt 262144 -a "$large_len" -gt 65536

tn_setup big
srv=$TN_PEER4
server_on() { # port, name
	tn_s_server_on "$1" "$tmp/server.$1.log" -cert "$tmp/$2.crt" -key "$tmp/$2.key"
}
server_on 443 huge.test
server_on 8443 large.test

tn_start_tcpdump "$tmp/big.pcap" tcp || tn_bail "tcpdump did not start"
mport=$(prom_free_port) || tn_bail "no free port"
log=$tmp/agent.jsonl
tn_start_agent "$log" --port 8443 --metrics "127.0.0.1:$mport" \
	--no-active-check --no-online --stats-interval 1 ||
	tn_bail "tlswatch run did not start"

fetch() { # sni, port
	printf 'GET / HTTP/1.0\r\n\r\n' |
		timeout 10 openssl s_client -connect "$srv:$2" -servername "$1" -tls1_2 \
			>"$tmp/client.$1.log" 2>&1
	tap_check "s_client refuses $1's Certificate message (OpenSSL's 100 KiB limit)" \
		grep -q 'excessive message size' "$tmp/client.$1.log"
}
fetch huge.test 443
fetch large.test 8443
# A client that takes up to 1 MiB (tests/unit/big_chain_client.c): the
# handshake completes, so it must be followed past the skipped chain.
CLIENT=$BUILD/tests/big_chain_client
make --no-print-directory -s "$CLIENT" >"$tmp/make.log" 2>&1 ||
	tn_bail "building $CLIENT: $(tail -5 "$tmp/make.log")"
big_fetch() { # sni
	tap_check "big_chain_client completes a handshake with the 10,000-name certificate ($1)" \
		timeout 10 "$CLIENT" "$srv" 443 "$1"
}
big_fetch huge-ok.test

# chain SNI FILE: "outcome chain_error chain_bytes chain-entries alerts" of
# the handshake event of SNI.
chain() { # sni, json lines file, [group: the group instead of the alerts]
	"$PY" - "$@" <<-'EOF'
	import json, sys
	for line in open(sys.argv[2], encoding='utf-8'):
	    e = json.loads(line)
	    if e.get('event') == 'handshake' and e.get('sni') == sys.argv[1]:
	        last = e.get('group', '-') if sys.argv[3:] == ['group'] else \
	            ','.join('%s:%s' % (a['from'], a['description']) for a in e['alerts'])
	        print(e['outcome'], e.get('chain_error', '-'), e.get('chain_bytes', '-'),
	              'chain=%d' % len(e.get('chain', [])), last)
	EOF
}
tn_wait_count 15 '"event":"handshake"' "$log" 3 ||
	tn_note "the agent logged fewer than 3 handshakes"
tap_eq "live: huge.test is reported, its chain too large (the length it declared)" \
	"failed too_large $huge_len chain=0 client:illegal_parameter" "$(chain huge.test "$log")"
tap_eq "live: large.test's chain was cut by the copy budget: truncated" \
	"failed truncated $large_len chain=0 client:illegal_parameter" "$(chain large.test "$log")"
# the server's Finished lies past the 64 KiB copy budget: not seen live;
# the client's encrypted close_notify after its own Finished is kept, and
# does not make it "failed"
tap_eq "live: the completed one is too_large, incomplete past the copy budget" \
	"incomplete too_large $huge_len chain=0 client:unknown" "$(chain huge-ok.test "$log")"

series() { # family, labels
	tn_metric "$tmp/metrics" "$@"
}
for i in $(seq 30); do
	curl --noproxy '*' -sS -m 5 -o "$tmp/metrics" "http://127.0.0.1:$mport/metrics" 2>/dev/null &&
		[ "$(series tlswatch_chains_unread_total 'reason="truncated"')" = 1 ] &&
		[ "$(series tlswatch_chains_unread_total 'reason="too_large"')" = 2 ] && break
	sleep 0.2
done
tap_eq "/metrics: tlswatch_chains_unread_total too_large 2, truncated 1" "2 1" \
	"$(series tlswatch_chains_unread_total 'reason="too_large"') $(series tlswatch_chains_unread_total 'reason="truncated"')"
tn_stop_agent
tn_stop_tcpdump "$tmp/big.pcap"
# the analyze checks below judge the capture: one that lost packets would
# fail them for that (a lost server tail makes the completed handshake
# look failed), so say it first
tap_eq "tcpdump dropped no packet" 0 "${TN_TCPDUMP_DROPS:-unknown}"
tap_eq "the agent's last counters: chains_too_large 2, chains_truncated 1" "2 1" \
	"$(tn_agent_counter "$log" chains_too_large) $(tn_agent_counter "$log" chains_truncated)"

# --- the capture: every byte of huge.test's flight is in it ---------------------
"$TW" analyze --json --port 443 "$tmp/big.pcap" >"$tmp/analyze.jsonl" 2>"$tmp/analyze.err"
tap_eq "analyze --json exits 0" 0 "$?"
tap_eq "analyze: huge.test's chain too large, with its length" \
	"failed too_large $huge_len chain=0 client:illegal_parameter" \
	"$(chain huge.test "$tmp/analyze.jsonl")"
tap_eq "analyze: the completed one is followed past its chain to ok (the group after it read)" \
	"ok too_large $huge_len chain=0 x25519" "$(chain huge-ok.test "$tmp/analyze.jsonl" group)"
tap_eq "analyze: problem_counts chains_too_large 2, parse_errors 0" "2 0" \
	"$("$PY" -c 'import json, sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e["event"] == "summary":
        p = e["problem_counts"]; print(p["chains_too_large"], p["parse_errors"])' "$tmp/analyze.jsonl")"
"$TW" analyze --port 443 "$tmp/big.pcap" >"$tmp/report.txt" 2>&1
for line in "    certificate chain not read: 1 too large (over 256 KiB), 0 truncated (cut before its end); up to $huge_len bytes" \
	"  chains_too_large     2  Certificate messages above the per-message cap (256 KiB), not read"; do
	if grep -qxF "$line" "$tmp/report.txt"; then
		tap_ok "text report: '$line'"
	else
		tap_fail "text report: '$line'" "$(cat "$tmp/report.txt")"
	fi
done

# --- live with a copy budget that holds the whole flight ------------------------
# --dir-budget 1 MiB: the kernel copies all 380 KB, userspace skips the
# chain without buffering it and follows the handshake to its end.
log2=$tmp/agent2.jsonl
tn_start_agent "$log2" --dir-budget 1048576 --no-metrics --no-active-check --no-online ||
	tn_bail "tlswatch run --dir-budget 1048576 did not start"
big_fetch huge-ok2.test
tn_wait_grep 15 '"event":"handshake"' "$log2" || tn_note "the agent logged no handshake"
tn_stop_agent
tap_eq "live, --dir-budget 1048576: ok, too_large, the group after the chain read" \
	"ok too_large $huge_len chain=0 x25519" "$(chain huge-ok2.test "$log2" group)"
