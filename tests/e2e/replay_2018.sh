#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The 2018 incident replayed through real captures and the CLI: a.test
# serves certificate A, then B replaces it, then A (revoked by now) is served
# again. The first handshake with A again must give "superseded" (detail
# naming B's fingerprint) and "revoked" -- in one analyze run over a merged
# capture, and across a "restart" (separate analyze runs sharing --db).
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
. tests/e2e/lib_netns.sh
tn_require_root replay_2018
tn_require_cmds openssl tcpdump mergecap python3 ip ss sha256sum timeout
tn_require_tlswatch

tmp=$(tn_tmpdir)
pki=$tmp/pki
scripts/make-health-pki.sh "$pki" none none >"$tmp/pki.log" 2>&1 ||
	tn_bail "scripts/make-health-pki.sh failed: $(cat "$tmp/pki.log")"

# A (older, revoked by the CRL) and B (newer), both for a.test.
ca=$tmp/ca
scripts/make-2018-certs.sh "$pki" "$ca" >"$tmp/ca.log" 2>&1 ||
	tn_bail "scripts/make-2018-certs.sh failed: $(cat "$tmp/ca.log")"
out=$(openssl verify -crl_check -CRLfile "$ca/inter.crl" -CAfile "$pki/root.crt" \
	-untrusted "$pki/inter.crt" "$ca/A.crt" 2>&1 || true)
case $out in *"certificate revoked"*) ;; *) tn_bail "A is not revoked by the CRL: $out" ;; esac
openssl verify -crl_check -CRLfile "$ca/inter.crl" -CAfile "$pki/root.crt" \
	-untrusted "$pki/inter.crt" "$ca/B.crt" >/dev/null 2>&1 ||
	tn_bail "B does not verify"
fp_a=$(openssl x509 -in "$ca/A.crt" -outform DER | sha256sum | cut -d' ' -f1)
fp_b=$(openssl x509 -in "$ca/B.crt" -outform DER | sha256sum | cut -d' ' -f1)

tn_setup r18

# One phase: a server with LEAF, captured, two TLS 1.2 handshakes.
phase() { # n, leaf
	local n=$1 leaf=$2 i
	tn_start_tcpdump "$tmp/p$n.pcap" tcp port 443 || tn_bail "tcpdump did not start"
	tn_start_s_server "$tmp/server$n.log" -cert "$ca/$leaf.crt" -key "$ca/$leaf.key" \
		-cert_chain "$pki/inter.crt"
	for i in 1 2; do
		printf 'GET / HTTP/1.0\r\n\r\n' | timeout 5 openssl s_client \
			-connect "$TN_PEER4:443" -servername a.test -tls1_2 \
			>"$tmp/client$n.$i.log" 2>&1 ||
			tn_note "phase $n handshake $i: s_client status $?"
	done
	tn_wait_conns_closed 10
	tn_stop_s_server
	tn_stop_tcpdump "$tmp/p$n.pcap"
	[ "${TN_TCPDUMP_DROPS:-0}" -eq 0 ] || tn_note "phase $n: tcpdump dropped $TN_TCPDUMP_DROPS"
	sleep 1.1 # phases one second apart at least: distinct packet times
}
phase 1 A
phase 2 B
phase 3 A
mergecap -F pcap -w "$tmp/all.pcap" "$tmp/p1.pcap" "$tmp/p2.pcap" "$tmp/p3.pcap" ||
	tn_bail "mergecap failed"

tw() { # analyze with the PKI's trust store and the CRL
	"$BUILD/tlswatch" analyze --json -q --ca-file "$pki/root.crt" --crl "$ca/inter.crl" "$@"
}

# Checks on analyze's JSON lines. MODE: merged (all phases), restart (the
# third run: phase 3 only), rotation (phases 1, 2: no superseded anywhere).
check_json() { # mode, json file
	python3 - "$1" "$2" "$fp_a" "$fp_b" <<'PY'
import json, sys
mode, path, fa, fb = sys.argv[1:5]
ev = [json.loads(l) for l in open(path) if l.strip()]
hs = sorted((e for e in ev if e["event"] == "handshake"), key=lambda e: e["ts"])
certs = [e for e in ev if e["event"] == "cert"]
err = []
def leaf(h):
    return h["chain"][0]["sha256"] if h.get("chain") else None
def kinds(e):
    return {f["kind"] for f in e["findings"]}
want = {"merged": [fa, fa, fb, fb, fa, fa], "restart": [fa, fa],
        "rotation": [fa, fa, fb, fb]}[mode]
got = [leaf(h) for h in hs]
if got != want:
    err.append("leaves by handshake: %s, want %s" % (got, want))
if any(h["outcome"] != "ok" or h["sni"] != "a.test" or h["version"] != "TLS1.2"
       for h in hs):
    err.append("handshakes not all ok/a.test/TLS1.2: %s"
               % [(h["outcome"], h["sni"], h["version"]) for h in hs])
if not err:
    if mode == "rotation":
        if any("superseded" in kinds(h) for h in hs):
            err.append("handshake findings: %s" % [h["findings"] for h in hs])
        for c in certs:
            if "superseded" in kinds(c):
                err.append("cert %s: %s" % (c["sha256"], c["findings"]))
    if mode == "merged":
        for h in hs[:2]:
            if "superseded" in kinds(h):
                err.append("phase 1 handshake superseded: %s" % h["findings"])
        for h in hs[2:4]:
            if {"superseded", "revoked"} & kinds(h):
                err.append("phase 2 (B) handshake: %s" % h["findings"])
        for c in certs:
            if c["sha256"] == fb and {"superseded", "revoked"} & kinds(c):
                err.append("cert B: %s" % c["findings"])
    if mode in ("merged", "restart"):
        first = hs[-2]
        if not {"superseded", "revoked"} <= kinds(first):
            err.append("first phase-3 handshake findings: %s" % first["findings"])
        p3 = [c for c in certs if c["sha256"] == fa and c["ts"] >= first["ts"]]
        sup = [f for c in p3 for f in c["findings"] if f["kind"] == "superseded"]
        rev = [f for c in p3 for f in c["findings"] if f["kind"] == "revoked"]
        if not p3:
            err.append("no cert event for A in phase 3 (certs: %s)"
                       % [(c["ts"], c["sha256"][:12]) for c in certs])
        elif not sup or fb not in sup[0]["detail"]:
            err.append("phase-3 cert A superseded finding naming B: %s"
                       % [c["findings"] for c in p3])
        elif not rev:
            err.append("phase-3 cert A not revoked: %s" % [c["findings"] for c in p3])
if err:
    print("\n".join(err))
    sys.exit(1)
PY
}

# a. one run over the merged capture
tw "$tmp/all.pcap" >"$tmp/all.json" 2>"$tmp/all.err"
rc=$?
tap_eq "merged capture: analyze exits 0" 0 "$rc"
tap_check "merged capture: phase 1 not superseded, B clean, A again superseded (naming B) and revoked" \
	check_json merged "$tmp/all.json"

# b. restart: captures 1 and 2, then a separate run on capture 3, one --db
db=$tmp/inv.db
tw --db "$db" "$tmp/p1.pcap" >"$tmp/r1.json" 2>"$tmp/r1.err" &&
	tw --db "$db" "$tmp/p2.pcap" >"$tmp/r2.json" 2>"$tmp/r2.err"
rc=$?
tap_eq "restart: runs on captures 1 and 2 exit 0" 0 "$rc"
tap_check "restart: run 2 (B) has no superseded" check_json rotation \
	<(cat "$tmp/r1.json" "$tmp/r2.json")
tw --db "$db" "$tmp/p3.pcap" >"$tmp/r3.json" 2>"$tmp/r3.err"
rc=$?
tap_eq "restart: run on capture 3 exits 0" 0 "$rc"
tap_check "restart: A again is superseded (naming B) and revoked" \
	check_json restart "$tmp/r3.json"

# c. a normal rotation (A then B), fresh database: no superseded at all
tw --db "$tmp/rot.db" "$tmp/p1.pcap" >"$tmp/rot1.json" 2>"$tmp/rot1.err" &&
	tw --db "$tmp/rot.db" "$tmp/p2.pcap" >"$tmp/rot2.json" 2>"$tmp/rot2.err"
rc=$?
tap_eq "rotation: both runs exit 0" 0 "$rc"
cat "$tmp/rot1.json" "$tmp/rot2.json" >"$tmp/rot.json"
tap_check "rotation: no superseded finding" check_json rotation "$tmp/rot.json"
tw "$tmp/p1.pcap" "$tmp/p2.pcap" >"$tmp/rotm.json" 2>"$tmp/rotm.err"
tap_check "rotation in one run (captures 1, 2): no superseded finding" \
	check_json rotation "$tmp/rotm.json"

# d. --fail-on superseded
tw --fail-on superseded "$tmp/all.pcap" >/dev/null 2>&1
tap_eq "--fail-on superseded: exit 1 on the merged capture" 1 "$?"
tw --fail-on superseded "$tmp/p1.pcap" >/dev/null 2>&1
tap_eq "--fail-on superseded: exit 0 on capture 1 alone" 0 "$?"

[ "$TN_FAILED" -eq 0 ]
