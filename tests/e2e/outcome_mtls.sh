#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Handshake outcomes of mutual TLS (client certificates), live and from
# the capture of the same traffic: scripts/make-mtls-capture.sh records
# real openssl s_server -Verify 1 / s_client -cert pairs, one server port
# per scenario (see there), while a live agent (no --uprobes) watches.
#
# The case this was written for: TLS 1.3, a server without session
# tickets (-num_tickets 0), the client's certificate accepted, the client
# closing 0.7 s later with close_notify, which the server answers with its
# own. The client's first encrypted record was its Certificate, not a bare
# Finished, and every alert-sized record of the server's after a client
# Certificate was taken for a refusal: "failed", live and in analyze. Now
# the same times as for a bare Finished tell the reply: "ok". A server
# that refuses the certificate (at once, before the client's close) stays
# "failed" with its encrypted alert, TLS 1.2's refusal shows its plaintext
# alert, and a client refusing the server's chain its own.
# Needs root. TAP output.
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
export BUILD
. tests/e2e/lib_netns.sh

tn_require_root outcome_mtls
tn_require_cmds openssl tcpdump tshark ip ss timeout
tn_require_tlswatch
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
TW=$BUILD/tlswatch

tmp=$(tn_tmpdir)
mkdir -p "$tmp/agent" || tn_bail "cannot create $tmp/agent"
MTLS_AGENT=$tmp/agent scripts/make-mtls-capture.sh "$tmp/cap" >"$tmp/make.log" 2>&1 ||
	tn_bail "scripts/make-mtls-capture.sh failed: $(tail -5 "$tmp/make.log")"
fact() { sed -n "s/^$1=//p" "$tmp/cap/facts.txt"; }
tap_eq "the live agent exits 0 on SIGTERM" 0 "$(fact agent_rc)"
tap_eq "s_clients: accepted 4431-4433, refused 4434-4436" "0 0 0 1 1 1" \
	"$(echo $(for p in 4431 4432 4433 4434 4435 4436; do fact "port.$p.rc"; done))"

# A line per handshake: server port, version, outcome, alerts
# (from:level:description:encrypted), findings.
rows() { # json lines file
	"$PY" - "$1" <<-'PYEOF'
	import json, sys
	out = []
	for line in open(sys.argv[1], encoding='utf-8'):
	    e = json.loads(line)
	    if e.get('event') != 'handshake':
	        continue
	    alerts = ','.join('%s:%s:%s:%s' % (a['from'], a['level'], a['description'],
	                                       str(a['encrypted']).lower()) for a in e['alerts'])
	    findings = ','.join(f['kind'] for f in e.get('findings', []))
	    out.append('%d %s %s alerts=%s findings=%s' % (e['server']['port'], e.get('version'),
	                                                   e['outcome'], alerts, findings))
	print('\n'.join(sorted(out)))
	PYEOF
}
want="4431 TLS1.3 ok alerts= findings=
4432 TLS1.3 ok alerts= findings=
4433 TLS1.2 ok alerts= findings=
4434 TLS1.3 failed alerts=server:unknown:unknown:true findings=
4435 TLS1.2 failed alerts=server:fatal:unknown_ca:false findings=
4436 TLS1.3 failed alerts=client:fatal:unknown_ca:false findings="
tap_eq "live: outcome, alerts, findings of each handshake" "$want" "$(rows "$tmp/agent/agent.jsonl")"

ports=()
for p in 4431 4432 4433 4434 4435 4436; do ports+=(--port "$p"); done
"$TW" analyze --json --ca-file tests/data/pki/root.crt "${ports[@]}" "$tmp/cap/mtls.pcap" \
	>"$tmp/analyze.jsonl" 2>"$tmp/analyze.err"
tap_eq "analyze --json exits 0" 0 "$?"
tap_eq "analyze: the same as live" "$want" "$(rows "$tmp/analyze.jsonl")"

# tshark shows the scenarios happened as meant: the TLS record lengths of
# the connection to PORT after the client's ChangeCipherSpec (its only
# 1-byte record), each after its sender ("c" or "s"); the record right
# after it as "cert" when above 200 bytes (a Certificate with a
# certificate in it: its length varies with the key and the signature).
after_ccs() { # port
	tshark -r "$tmp/cap/mtls.pcap" -d "tcp.port==$1,tls" -Y "tcp.port==$1 && tls" \
		-T fields -e tcp.srcport -e tls.record.length 2>/dev/null |
		"$PY" -c 'import sys
port, recs = sys.argv[1], []
for line in sys.stdin:
    src, lens = line.rstrip("\n").split("\t")
    recs += [("s" if src == port else "c", int(n)) for n in lens.split(",")]
ccs = recs.index(("c", 1))
print(" ".join(s + ("cert" if n > 200 and i == ccs + 1 else str(n))
               for i, (s, n) in enumerate(recs) if i > ccs))' "$1"
}
tap_eq "tshark: 4431: Certificate, CertificateVerify, Finished; close_notify both ways" \
	"ccert c69 c19 s19" "$(after_ccs 4431 | awk '{ print $1, $(NF-2), $(NF-1), $NF }')"
tap_eq "tshark: 4434: the client's Certificate, then the server's 19-byte alert, no close_notify" \
	"ccert c69 s19" "$(after_ccs 4434 | awk '{ print $1, $(NF-1), $NF }')"
