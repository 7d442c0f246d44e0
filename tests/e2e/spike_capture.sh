#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Failure-spike detection on real traffic.
#
# A real `openssl s_server` (rsa.test) in a network namespace; tcpdump on
# the host end of the veth. Per TLS version (1.2, then 1.3, each in its own
# capture): a calm period of 20 good handshakes at about 2 a second, then a
# burst of 30 handshakes as fast as possible from a client that does not
# trust the CA (it sends a fatal unknown_ca alert). `analyze --json` on each
# capture must report the 20 ok and 30 failed handshakes and a firing spike
# whose explanation names rsa.test, the alert and (TLS 1.2 only: in TLS 1.3
# the certificate is encrypted) the leaf served (fingerprint computed here
# with openssl), with
# at least --spike-min-failures (20) failures; the summary counts it, and
# `--fail-on spike` exits 1. A third capture of 10 good handshakes only
# has no spike: `--fail-on spike` exits 0.
#
# Needs root. TAP output; exits non-zero on any failure.
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
export BUILD
. tests/e2e/lib_netns.sh

tn_require_root spike_capture
tn_require_cmds openssl tcpdump python3 ip ss sha256sum timeout
tn_require_tlswatch

tmp=$(tn_tmpdir)
pki=$tmp/pki
tn_make_pki "$pki"
leaf=$(openssl x509 -in "$pki/rsa.test.crt" -outform DER | sha256sum | cut -d' ' -f1)
[ ${#leaf} -eq 64 ] || tn_bail "cannot compute the leaf fingerprint"

tn_setup spk
ip netns exec "$TN_NS" openssl s_server -quiet -www -accept "$TN_PEER4:443" \
	-cert "$pki/rsa.test.crt" -key "$pki/rsa.test.key" -cert_chain "$pki/inter.crt" \
	>"$tmp/server.log" 2>&1 &
tn_bg $!
tn_wait_listen 10 443 || tn_bail "openssl s_server did not start"

client() { # version flag (-tls1_2/-tls1_3), extra s_client options...
	local v=$1
	shift
	printf 'GET / HTTP/1.0\r\n\r\n' | timeout 5 openssl s_client \
		-connect "$TN_PEER4:443" -servername rsa.test -verify_return_error "$v" "$@" \
		>/dev/null 2>&1
}

good() { # version flag, count: good handshakes, about 2 a second
	local i ok=0
	for i in $(seq "$2"); do
		client "$1" -CAfile "$pki/root.crt" && ok=$((ok + 1))
		sleep 0.5
	done
	echo "$ok"
}

bad() { # version flag, count: failing handshakes (no trust in the CA), fast
	local i failed=0
	for i in $(seq "$2"); do
		client "$1" || failed=$((failed + 1))
	done
	echo "$failed"
}

capture() { # name, version flag, good count, bad count
	local name=$1 v=$2 pcap=$tmp/$1.pcap n
	tn_start_tcpdump "$pcap" tcp port 443 || tn_bail "tcpdump did not start ($name)"
	n=$(good "$v" "$3")
	[ "$n" -eq "$3" ] && tap_ok "$name: $3 good $v handshakes" ||
		tap_fail "$name: $3 good $v handshakes (only $n succeeded)"
	if [ "$4" -gt 0 ]; then
		n=$(bad "$v" "$4")
		[ "$n" -eq "$4" ] && tap_ok "$name: $4 failing $v handshakes" ||
			tap_fail "$name: $4 failing $v handshakes (only $n failed)"
	fi
	tn_wait_conns_closed 10
	tn_stop_tcpdump "$pcap"
	[ "${TN_TCPDUMP_DROPS:-0}" -eq 0 ] ||
		tn_note "$name: tcpdump says the kernel dropped $TN_TCPDUMP_DROPS packets"
}

capture tls12 -tls1_2 20 30
capture tls13 -tls1_3 20 30
capture calm -tls1_2 10 0

# check_spike NAME ALERT LEAF: the analysis of NAME's capture has its 20 ok
# and 30 failed handshakes, and a firing spike explained by rsa.test, ALERT
# sent by the client and the leaf LEAF ('-': no certificate, as in TLS 1.3,
# where the Certificate message is encrypted and a capture cannot see it).
check_spike() {
	local name=$1 alert=$2 want=$3 json=$tmp/$1.jsonl rc out
	"$BUILD/tlswatch" analyze --json --ca-file "$pki/root.crt" "$tmp/$name.pcap" \
		>"$json" 2>"$json.stderr"
	rc=$?
	tap_eq "$name: analyze exits 0" 0 "$rc"
	if out=$(python3 - "$json" "$alert" "$want" <<'EOF'
import json, sys
path, alert, leaf = sys.argv[1:4]
events = [json.loads(l) for l in open(path) if l.strip()]
firing = [e for e in events if e.get("event") == "spike" and e.get("state") == "firing"]
summary = [e for e in events if e.get("event") == "summary"]
hs = [e for e in events if e.get("event") == "handshake"]
errs = []
outcomes = sorted(e.get("outcome") for e in hs)
if outcomes != ["failed"] * 30 + ["ok"] * 20:
    errs.append("handshake outcomes: %r" % {o: outcomes.count(o) for o in set(outcomes)})
if not firing:
    print("no firing spike event")
    for e in events:
        if e.get("event") in ("spike", "summary"):
            print(json.dumps(e))
    sys.exit(1)
# the all-traffic scope if it fired, else the first firing one
ev = next((e for e in firing if e.get("scope") == {}), firing[0])
def top(k):
    t = ev.get(k) or [{}]
    return t[0]
if ev.get("failures", 0) < 20:
    errs.append("failures %r < 20" % ev.get("failures"))
if top("top_snis").get("key") != "rsa.test":
    errs.append("top_snis[0] %r" % top("top_snis"))
if top("top_alerts").get("key") != alert:
    errs.append("top_alerts[0].key %r, expected %r" % (top("top_alerts").get("key"), alert))
if top("top_alerts").get("from") != "client":
    errs.append("top_alerts[0].from %r" % top("top_alerts").get("from"))
if leaf == "-":
    if ev.get("top_certs") != []:
        errs.append("top_certs %r, expected [] (TLS 1.3: certificate encrypted)" % ev.get("top_certs"))
elif top("top_certs").get("key") != leaf:
    errs.append("top_certs[0].key %r, expected %r" % (top("top_certs").get("key"), leaf))
if len(summary) != 1 or summary[0].get("spikes", 0) < 1:
    errs.append("summary spikes: %r" % [s.get("spikes") for s in summary])
if errs:
    print("\n".join(errs))
    print("firing event: " + json.dumps(ev))
    sys.exit(1)
print("firing: scope %s failures %d of %d handshakes" %
      (json.dumps(ev["scope"]), ev["failures"], ev["handshakes"]))
EOF
	); then
		tap_ok "$name: 20 ok + 30 failed; firing spike (rsa.test, $alert from client, leaf $want, >= 20 failures, summary spikes >= 1)"
		tn_note "$out"
	else
		tap_fail "$name: 20 ok + 30 failed; firing spike (rsa.test, $alert from client, leaf $want, >= 20 failures, summary spikes >= 1)" "$out"
	fi
	"$BUILD/tlswatch" analyze --json --ca-file "$pki/root.crt" --fail-on spike \
		"$tmp/$name.pcap" >/dev/null 2>&1
	tap_eq "$name: --fail-on spike exits 1" 1 "$?"
}

check_spike tls12 unknown_ca "$leaf"
# TLS 1.3: OpenSSL's client sends unknown_ca in plaintext (before it has
# switched to handshake keys for sending), but the server's Certificate is
# encrypted: no leaf can be named from a capture.
check_spike tls13 unknown_ca -

json=$tmp/calm.jsonl
"$BUILD/tlswatch" analyze --json --ca-file "$pki/root.crt" "$tmp/calm.pcap" >"$json" 2>/dev/null
tap_check "calm: 10 ok handshakes, no spike event, summary spikes 0" python3 - "$json" <<'EOF'
import json, sys
events = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
hs = [e for e in events if e.get("event") == "handshake"]
spikes = [e for e in events if e.get("event") == "spike"]
summary = [e for e in events if e.get("event") == "summary"]
ok = [e for e in hs if e.get("outcome") == "ok"]
bad = []
if len(hs) != 10 or len(ok) != 10:
    bad.append("handshakes %d, ok %d" % (len(hs), len(ok)))
if spikes:
    bad.append("spike events: %s" % json.dumps(spikes))
if len(summary) != 1 or summary[0].get("spikes") != 0:
    bad.append("summary: %s" % json.dumps(summary))
if bad:
    print("\n".join(bad))
    sys.exit(1)
EOF
"$BUILD/tlswatch" analyze --json --ca-file "$pki/root.crt" --fail-on spike \
	"$tmp/calm.pcap" >/dev/null 2>&1
tap_eq "calm: --fail-on spike exits 0" 0 "$?"

[ "$TN_FAILED" -eq 0 ]
