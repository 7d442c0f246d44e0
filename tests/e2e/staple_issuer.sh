#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Which certificate a staple is about, and when it was made; when a leaf
# stops being valid. Real openssl s_server/s_client handshakes in a test
# namespace (the health PKI of scripts/make-health-pki.sh), recorded by
# tcpdump and read by `analyze --json`:
#
#   - a revoked staple with a misordered chain (leaf, root, intermediate:
#     OpenSSL clients accept it and honour the staple) gives
#     revoked_staple, as the ordered chain does (before, the root was
#     taken for the issuer: "the staple answers for another certificate"
#     and no finding);
#   - a leaf sent alone whose CA is in the trust store: its staple is
#     judged against that CA, so an answer about another CA's certificate
#     with the same serial is not about it (before: serial alone,
#     revoked_staple, critical), and an answer about it verifies;
#   - a staple whose thisUpdate is more than 300 s after the handshake
#     (the capture moved back in time) is not used;
#   - a handshake moved to the notAfter second of its leaf is expired, as
#     chain verification says (before: expiring_soon next to untrusted
#     "certificate has expired"); the second before is expiring_soon;
#   - an intermediate that expires inside --warn-days gives expiring_soon
#     naming it (before: nothing until every handshake was untrusted);
#   - a misordered chain that does not verify (no --ca-file: the system
#     store knows no health CA), its leaf revoked in a --crl file: the
#     leaf's issuer is found among the served certificates, so the CRL
#     entry is read and the leaf is revoked (before: the served chain was
#     cut at the root after the leaf, the leaf had no issuer, and its
#     revocation went unchecked).
#
# Needs root. TAP output.
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
export BUILD
. tests/e2e/lib_netns.sh

tn_require_root staple_issuer
tn_require_cmds openssl tcpdump ip ss timeout
tn_require_tlswatch
PY=/usr/bin/python3
TW=$BUILD/tlswatch
NOT_AFTER=1893456000   # ends.test: 2030-01-01T00:00:00Z

tmp=$(tn_tmpdir)
pki=$tmp/pki
scripts/make-health-pki.sh "$pki" none none >"$tmp/pki.log" 2>&1 ||
	tn_bail "scripts/make-health-pki.sh failed: $(tail -3 "$tmp/pki.log")"
cat "$pki/root.crt" "$pki/inter.crt" >"$tmp/root-then-inter.pem"
cat "$pki/root.crt" "$pki/inter.crt" "$pki/inter2.crt" >"$tmp/trust.pem"
tn_setup stis
srv=$TN_PEER4

# port: what the server sends
serve() { # port, name, staple file or -, s_server args...
	local port=$1 name=$2 staple=$3
	shift 3
	[ "$staple" = - ] || set -- "$@" -status_file "$staple"
	tn_s_server_on "$port" "$tmp/server.$port.log" -cert "$pki/$name.crt" \
		-key "$pki/$name.key" "$@"
}
serve 4431 revoked.test "$pki/ocsp/revoked.der" -cert_chain "$tmp/root-then-inter.pem"
serve 4432 revoked.test "$pki/ocsp/revoked.der" -cert_chain "$pki/inter.crt"
serve 4433 twin.test "$pki/ocsp/good-revoked.der"
serve 4434 good.test "$pki/ocsp/good-revoked.der"
serve 4435 good.test "$pki/ocsp/good-good.der" -cert_chain "$pki/inter.crt"
serve 4436 ends.test - -cert_chain "$pki/inter.crt"
serve 4437 late.test - -cert_chain "$pki/short.crt"
serve 4438 revoked.test - -cert_chain "$tmp/root-then-inter.pem"
tn_start_tcpdump "$tmp/all.pcap" tcp || tn_bail "tcpdump did not start"

hs() { # port, name
	printf 'GET / HTTP/1.0\r\n\r\n' |
		timeout 10 openssl s_client -connect "$srv:$1" -servername "$2" -tls1_2 \
			-status -CAfile "$tmp/trust.pem" >"$tmp/client.$1.log" 2>&1 ||
		tap_fail "s_client to $2 on port $1 completes" "$(tail -3 "$tmp/client.$1.log")"
}
hs 4431 revoked.test
hs 4432 revoked.test
hs 4433 twin.test
hs 4434 good.test
hs 4435 good.test
hs 4436 ends.test
hs 4437 late.test
hs 4438 revoked.test
tn_wait_conns_closed 10
tn_stop_tcpdump "$tmp/all.pcap"
tap_eq "tcpdump dropped no packet" 0 "${TN_TCPDUMP_DROPS:-unknown}"
tap_check "OpenSSL's client verifies the misordered chain and honours its revoked staple" \
	sh -c "grep -q 'Cert Status: revoked' '$tmp/client.4431.log' &&
	       grep -q 'Verify return code: 0 (ok)' '$tmp/client.4431.log'"
tap_check "OpenSSL's client verifies twin.test sent alone" \
	grep -q 'Verify return code: 0 (ok)' "$tmp/client.4433.log"

port_pcap() { # port, out
	tcpdump -r "$tmp/all.pcap" -w "$2" "tcp port $1" 2>/dev/null ||
		tap_fail "tcpdump splits out port $1"
}
move() { # in, out, pcap_move.py args...
	local in=$1 out=$2
	shift 2
	"$PY" tests/e2e/lib/pcap_move.py "$in" "$out" "$@" ||
		tap_fail "pcap_move.py $in $*"
}

# "status/verified|findings" of the handshake events, or with "cert", the
# cert events' "verify|kind=detail;...".
facts() { # pcap, [cert]
	"$TW" analyze --json --ca-file "$tmp/trust.pem" "$1" >"$1.jsonl" 2>"$1.err" ||
		tap_fail "analyze --json $1" "$(tail -3 "$1.err")"
	"$PY" -c 'import json, sys
out = []
for line in open(sys.argv[1]):
    e = json.loads(line)
    if sys.argv[2] == "handshake" and e["event"] == "handshake":
        st = e.get("staple", {})
        kinds = ",".join(sorted(f["kind"] for f in e.get("findings", []))) or "-"
        out.append("%s/%s%s|%s" % (st.get("status"), "verified" if st.get("verified") else "unverified",
                                    "/" + st["error"] if "error" in st else "", kinds))
    elif sys.argv[2] == "cert" and e["event"] == "cert":
        out.append(e.get("verify") + "|" + ";".join(
            "%s=%s" % (f["kind"], f["detail"]) for f in sorted(e["findings"], key=lambda f: f["kind"])))
print(" ".join(out))' "$1.jsonl" "${2:-handshake}"
}

# --- the issuer a staple must name
for p in 4431 4432 4433 4434 4435 4436 4437 4438; do port_pcap "$p" "$tmp/p$p.pcap"; done
tap_eq "misordered chain (leaf, root, intermediate): the revoked staple is found and verified" \
	"revoked/verified|revoked_staple" "$(facts "$tmp/p4431.pcap")"
tap_eq "the same chain in order: the same" \
	"revoked/verified|revoked_staple" "$(facts "$tmp/p4432.pcap")"
tap_eq "leaf alone, another CA's answer for its serial: not about it, no finding" \
	"unknown/unverified/the staple answers for another certificate|-" \
	"$(facts "$tmp/p4433.pcap")"
tap_eq "leaf alone, its CA in the trust store: the answer about it verifies" \
	"revoked/verified|revoked_staple" "$(facts "$tmp/p4434.pcap")"

# --- a staple made after the handshake
move "$tmp/p4435.pcap" "$tmp/early.pcap" --by -3600
move "$tmp/p4435.pcap" "$tmp/skew.pcap" --by -200
tap_eq "staple made an hour after the handshake: not used" \
	"unknown/unverified/OCSP thisUpdate more than 300 s after the handshake|-" \
	"$(facts "$tmp/early.pcap")"
tap_eq "staple made less than 300 s after the handshake: used (clock skew)" \
	"good/verified|-" "$(facts "$tmp/skew.pcap")"

# --- the notAfter second
span=$(tcpdump -tt -r "$tmp/p4436.pcap" 2>/dev/null |
	awk 'NR == 1 { a = $1 } { b = $1 } END { print (b - a < 0.9) ? "short" : b - a }')
tap_eq "the ends.test handshake lasts less than 0.9 s (it must fit in one second)" \
	short "$span"
move "$tmp/p4436.pcap" "$tmp/at.pcap" --first "${NOT_AFTER}000000"
move "$tmp/p4436.pcap" "$tmp/before.pcap" --first "$((NOT_AFTER - 1))000000"
tap_eq "handshake in the notAfter second: expired and untrusted, as verification says" \
	"certificate has expired|expired=expired 2030-01-01T00:00:00Z, less than a day before the handshake;untrusted=certificate has expired (depth 0, /O=tlswatch test/CN=ends.test)" \
	"$(facts "$tmp/at.pcap" cert)"
tap_eq "handshake in the second before: expiring_soon, verified" \
	"ok|expiring_soon=expires 2030-01-01T00:00:00Z, less than a day after the handshake" \
	"$(facts "$tmp/before.pcap" cert)"

# --- an intermediate's last days
move "$tmp/p4437.pcap" "$tmp/late-soon.pcap" --first "$((NOT_AFTER - 3 * 86400))000000"
move "$tmp/p4437.pcap" "$tmp/late-gone.pcap" --first "${NOT_AFTER}000000"
tap_eq "intermediate expiring in 3 days: expiring_soon names it, the chain verifies" \
	"ok|expiring_soon=chain certificate 1 (CN=Health Test Short Intermediate,O=tlswatch test) expires 2030-01-01T00:00:00Z, 3 days after the handshake" \
	"$(facts "$tmp/late-soon.pcap" cert)"
tap_eq "intermediate expired: untrusted, no expiring_soon" \
	"certificate has expired|untrusted=certificate has expired (depth 1, /O=tlswatch test/CN=Health Test Short Intermediate)" \
	"$(facts "$tmp/late-gone.pcap" cert)"

# --- revocation when the chain does not verify
# "verify|revocation status/reason|findings but untrusted" of the cert
# event, with inter's CRL and no --ca-file.
untrusted_crl() { # pcap
	"$TW" analyze --json --crl "$pki/crl/inter.pem" "$1" >"$1.crl.jsonl" 2>"$1.crl.err" ||
		tap_fail "analyze --json --crl $1" "$(tail -3 "$1.crl.err")"
	"$PY" -c 'import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e["event"] == "cert":
        r = e["revocation"]
        print("%s|%s/%s|%s" % (e["verify"], r.get("status"), r.get("reason", "-"),
              ";".join("%s=%s" % (f["kind"], f["detail"]) for f in sorted(e["findings"], key=lambda f: f["kind"])
                       if f["kind"] != "untrusted")))' "$1.crl.jsonl"
}
# when inter's CRL says revoked.test (serial 1004) was revoked
revoked_at=$(openssl crl -in "$pki/crl/inter.pem" -noout -text |
	awk '/Serial Number: 1004$/ { getline; sub(/^ *Revocation Date: /, ""); print; exit }')
revoked_at=$(date -u -d "$revoked_at" +%Y-%m-%dT%H:%M:%SZ 2>/dev/null) ||
	tap_fail "the CRL names when serial 1004 was revoked"
tap_eq "misordered chain, untrusted, leaf in the --crl file: revoked, from the CRL" \
	"self-signed certificate in certificate chain|revoked/keyCompromise|revoked=leaf revoked at $revoked_at (keyCompromise) per CRL $pki/crl/inter.pem" \
	"$(untrusted_crl "$tmp/p4438.pcap")"
