#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Which newer leaves make an older one `superseded`, and under which name,
# on real handshakes: a real openssl s_server serves, in turn, the leaves
# of scripts/make-health-pki.sh (and one self-signed) to openssl s_client;
# tcpdump records them; `analyze --json` judges the captures.
#
# - A newer leaf that does not cover the name (a.test's, served for
#   good.test: a default vhost answering) is hostname_mismatch, and replaced
#   nothing: good.test's own leaf served after it is not superseded, also
#   not with the inventory file in a later run (it was, for ever).
# - A newer leaf that does not chain to the trust store (a self-signed one)
#   does not supersede a trusted leaf; between two untrusted leaves (no
#   --ca-file) the rule is as before.
# - "Good.Test." (an absolute name, mixed case) is good.test for every
#   check: no hostname_mismatch, --expect and the inventory file it under
#   good.test; the events' sni stays as the client sent it.
# Needs root (network namespace, tcpdump). About 15 seconds.
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
. tests/e2e/lib_netns.sh
tn_require_root supersede_names
tn_require_cmds openssl tcpdump ip ss timeout
tn_require_tlswatch
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3

tmp=$(tn_tmpdir)
pki=$tmp/pki
scripts/make-health-pki.sh "$pki" none none >"$tmp/pki.log" 2>&1 ||
	tn_bail "scripts/make-health-pki.sh failed: $(tail -3 "$tmp/pki.log")"
mkdir -p "$tmp/self"   # self-signed, CN only, not_before now, not expiring
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$tmp/self/key.pem" -out "$tmp/self/cert.pem" -days 365 \
	-subj /CN=good.test >"$tmp/self/openssl.log" 2>&1 ||
	tn_bail "cannot make the self-signed certificate"
fp() { openssl x509 -in "$1" -outform DER | sha256sum | cut -d' ' -f1; }
fp_anew=$(fp "$pki/a-new.test.crt") fp_self=$(fp "$tmp/self/cert.pem")
nb_self=$(date -u -d "$(openssl x509 -in "$tmp/self/cert.pem" -noout -startdate |
	cut -d= -f2)" +%FT%TZ)

tn_setup sna
serve() { # cert, key, SNI the client sends
	tn_start_s_server "$tmp/server.log" -cert "$1" -key "$2" \
		-cert_chain "$pki/inter.crt"
	printf 'GET / HTTP/1.0\r\n\r\n' | timeout 5 openssl s_client \
		-connect "$TN_PEER4:443" -servername "$3" -tls1_2 >/dev/null 2>&1
	tap_eq "a client sending SNI $3 completes its handshake" 0 "$?"
	tn_stop_s_server
	sleep 1.1    # the next one is later, to the microsecond
}
good() { serve "$pki/good.test.crt" "$pki/good.test.key" "${1:-good.test}"; }
anew() { serve "$pki/a-new.test.crt" "$pki/a-new.test.key" good.test; }
self() { serve "$tmp/self/cert.pem" "$tmp/self/key.pem" good.test; }
capture() { # pcap, what to serve...
	local pcap=$1 step
	shift
	tn_start_tcpdump "$pcap" tcp port 443 || tn_bail "tcpdump did not start"
	for step in "$@"; do $step; done
	tn_stop_tcpdump "$pcap"
}
capture "$tmp/mix.pcap" good anew good
capture "$tmp/later.pcap" good
capture "$tmp/untrusted.pcap" self good
capture "$tmp/dot.pcap" self "good Good.Test."

# "sni: kind,kind (detail of superseded)" per handshake or cert event
# (only cert events have details).
kinds() { # event type, analyze options...
	local type=$1
	shift
	"$BUILD/tlswatch" analyze -q --json "$@" >"$tmp/events.json" 2>"$tmp/err" ||
		tap_fail "analyze $* exits 0" "$(cat "$tmp/err")"
	"$PY" -c 'import json, sys
for e in map(json.loads, open(sys.argv[1])):
    if e.get("event") == sys.argv[2] and (e.get("chain") or sys.argv[2] == "cert"):
        f = e.get("findings", [])
        sup = [x.get("detail", "").split(" since ")[0] for x in f if x["kind"] == "superseded"]
        print("%s: %s%s" % (e.get("sni"), ",".join(x["kind"] for x in f),
                            " (%s)" % sup[0] if sup else ""))' "$tmp/events.json" "$type" |
		paste -sd'|'
}

tap_eq "a newer leaf not covering the name supersedes nothing" \
	"good.test: |good.test: hostname_mismatch|good.test: " \
	"$(kinds handshake --ca-file "$pki/root.crt" "$tmp/mix.pcap")"
db=$tmp/inv.db
kinds handshake --ca-file "$pki/root.crt" --db "$db" "$tmp/mix.pcap" >/dev/null
tap_eq "nor in a later run with the inventory file" "good.test: " \
	"$(kinds cert --ca-file "$pki/root.crt" --db "$db" "$tmp/later.pcap")"

tap_eq "a newer untrusted leaf does not supersede a trusted one" \
	"good.test: self_signed,untrusted|good.test: " \
	"$(kinds handshake --ca-file "$pki/root.crt" "$tmp/untrusted.pcap")"
tap_eq "between untrusted leaves (no --ca-file) it does" \
	"good.test: self_signed,untrusted|good.test: untrusted,superseded (newer certificate $fp_self (not_before $nb_self) was served for good.test)" \
	"$(kinds cert "$tmp/untrusted.pcap")"

tap_eq "Good.Test. is good.test: covered, expected under good.test, sni as sent" \
	"good.test: self_signed,untrusted,unexpected|Good.Test.: unexpected" \
	"$(kinds handshake --ca-file "$pki/root.crt" --expect "good.test=$fp_anew" "$tmp/dot.pcap")"
tap_eq "Good.Test. is good.test for the inventory: superseded by good.test's newer leaf" \
	"good.test: self_signed,untrusted|Good.Test.: untrusted,superseded (newer certificate $fp_self (not_before $nb_self) was served for good.test)" \
	"$(kinds cert "$tmp/dot.pcap")"
[ "$TN_FAILED" -eq 0 ]
