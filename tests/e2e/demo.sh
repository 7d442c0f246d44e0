#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make demo's live run (scripts/demo.sh, DEMO_RAW=1: its JSON lines), as a
# user sees it. Asserted:
#   - it ends with status 0, and says nothing of the agent is left (TC
#     filters, its eBPF programs and links, uprobes);
#   - every TLS 1.3 handshake (certificate encrypted on the wire) carries
#     the chain the server's OpenSSL served, "observed": "server", and the
#     one serving process (/usr/bin/openssl);
#   - expired.test served over TLS 1.3 to a client that checks nothing: ok,
#     flagged expired and untrusted from the server's view, its leaf the
#     same the wire shows in clear over TLS 1.2; its cert event and the
#     rsa.test one say "observed": "server";
#   - the TLS 1.3 client rejecting it: certificate_expired, read by the
#     server's library;
#   - the failure spike of the burst fires for expired.test;
#   - every webhook arrived with HTTP 200 and a good signature, the cert
#     alert's saying "observed server";
#   - the printed summary of what the server's library said, and the
#     handshake counts of /metrics, exactly;
#   - afterwards no namespace, interface, process or file of it is left;
#     the same after a SIGINT in the middle of the run.
# Needs root. TAP output; exits non-zero on any failure.
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
export BUILD
. tests/e2e/lib_netns.sh

tn_require_root demo
tn_require_cmds openssl ip ss bpftool curl timeout
tn_require_tlswatch
PY=/usr/bin/python3

tmp=$(tn_tmpdir)

# The demo, bounded (SIGINT at the bound: it cleans up); its output in OUT
# (JSON lines in OUT.jsonl, for the schema check at exit), its status in
# DEMO_RC.
run_demo() { # out, seconds
	DEMO_RAW=1 timeout -s INT "$2" scripts/demo.sh >"$1" 2>"$1.stderr"
	DEMO_RC=$?
	grep '^{' "$1" >"$1.jsonl"
}

# What the demo named after its pid and made: namespace, host interface,
# scratch directory ("" when not found in OUT).
demo_names() { # out
	sed -n 's/.*network: namespace \(tlswatch-demo-[0-9]*\)[^,]*, veth \(twd[0-9]*h\) .*/\1 \2/p' "$1"
	sed -n 's/.* --db \([^ ]*\)\/inventory.db .*/\1/p' "$1" | head -1
}

# Whether anything OUT's demo made is left.
demo_leftovers() { # out
	local ns host_if dir
	read -r ns host_if <<<"$(demo_names "$1" | head -1)"
	dir=$(demo_names "$1" | tail -1)
	if [ -z "$ns" ] || [ -z "$dir" ]; then
		echo "names not found in the output"
		return
	fi
	ip netns list | grep -qw "$ns" && echo "namespace $ns"
	ip link show "$host_if" >/dev/null 2>&1 && echo "interface $host_if"
	pgrep -f "$dir" >/dev/null && echo "processes: $(pgrep -af "$dir")"
	[ -e "$dir" ] && echo "directory $dir"
}

# One line per assertion on the demo's events.
events_summary() { # jsonl
	"$PY" - "$1" <<'EOF'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
hs = [e for e in ev if e["event"] == "handshake"]
tls13 = [e for e in hs if e.get("version") == "TLS1.3"]
procs = {(e["process"]["pid"], e["process"].get("exe"), e["process"].get("comm"))
         for e in tls13 if "process" in e}
print("tls13", len(tls13), sum(e.get("observed") == "server" for e in tls13),
      sum(e.get("cert_visible") is False for e in tls13),
      " ".join(f"{exe}:{comm}" for _, exe, comm in procs) or "-", len(procs))
kinds = lambda e: ",".join(sorted(f["kind"] for f in e.get("findings", []))) or "-"
leaf = lambda e: e.get("chain", [{}])[0].get("sha256")
wire = {leaf(e) for e in hs if e.get("sni") == "expired.test" and e.get("version") == "TLS1.2"}
for e in tls13:
    if e.get("sni") == "expired.test":
        alerts = ";".join(f'{a["from"]}:{a["description"]}:{a.get("observed", "-")}'
                          for a in e["alerts"]) or "-"
        print("expired13", e["outcome"], e.get("observed"), kinds(e), alerts,
              "wire-leaf" if wire == {leaf(e)} else f"leaf {leaf(e)} wire {wire}")
for e in ev:
    if e["event"] == "cert":
        print("cert", e["sni"], e["observed"], e.get("process", {}).get("exe", "-"),
              e["not_after"], kinds(e))
print("spike", " ".join(sorted(e["scope"].get("sni", "-") for e in ev
                                if e["event"] == "spike" and e["state"] == "firing"
                                and "sni" in e["scope"])) or "-")
EOF
}

# --- 1. a whole run ------------------------------------------------------------
out=$tmp/demo.out
run_demo "$out" 120
tap_eq "the demo ends with status 0" 0 "$DEMO_RC"
sum=$(events_summary "$out.jsonl")
tap_eq "every TLS 1.3 handshake: the served chain from the server's library (6), encrypted on the wire, one server process" \
	"tls13 6 6 6 /usr/bin/openssl:openssl 1" "$(grep '^tls13 ' <<<"$sum")"
tap_eq "expired.test over TLS 1.3: flagged from the server's view, the leaf the wire shows over TLS 1.2; the rejection read by the server's library" \
	"expired13 ok server expired,untrusted - wire-leaf
expired13 failed server expired,untrusted client:certificate_expired:server wire-leaf" \
	"$(grep '^expired13 ' <<<"$sum")"
tap_eq "cert events: both leaves observed server, served by /usr/bin/openssl" \
	"cert rsa.test server /usr/bin/openssl 2045-01-01T00:00:00Z -
cert expired.test server /usr/bin/openssl 2021-01-01T00:00:00Z expired,untrusted" \
	"$(grep '^cert ' <<<"$sum")"
tap_eq "the burst fires a failure spike for expired.test" "spike expired.test" \
	"$(grep '^spike ' <<<"$sum")"

hooks=$(grep '^  webhook ' "$out")
tap_eq "every webhook arrived: HTTP 200, signature ok" "$(wc -l <<<"$hooks")" \
	"$(grep -c '(HTTP 200, signature ok, key ' <<<"$hooks")"
tap_eq "the expired.test cert alert, observed server, among them" 1 \
	"$(grep -c '^  webhook cert expired.test expired,untrusted observed server (HTTP 200' <<<"$hooks")"
tap_eq "the printed summary of the server's library view" \
	"  2 certificate(s) learned from the server's library; 6 of 6 TLS 1.3 handshakes carry the served chain (\"observed\": \"server\"), in 6 the wire had the certificate encrypted" \
	"$(grep "certificate(s) learned from the server's library" "$out")"
tap_eq "/metrics: the handshakes by outcome and version" \
	'  tlswatch_handshakes_total{outcome="ok",version="TLS1.3"} 5
  tlswatch_handshakes_total{outcome="failed",version="TLS1.3"} 1
  tlswatch_handshakes_total{outcome="ok",version="TLS1.2"} 1
  tlswatch_handshakes_total{outcome="failed",version="TLS1.2"} 26' \
	"$(grep '^  tlswatch_handshakes_total' "$out")"
last=$(tail -1 "$out")
case $last in
"nothing of the agent left: no TC filter on twd"*"n, none of its "[1-9]*" eBPF programs and "[1-9]*" links, no uprobe in uprobe_events; cleaning up the namespace")
	tap_ok "the demo checked that nothing of the agent is left" ;;
*) tap_fail "the demo checked that nothing of the agent is left" "last line: $last" ;;
esac
tap_eq "afterwards: no namespace, interface, process or file of it" "" "$(demo_leftovers "$out")"

# --- 2. interrupted in the middle ----------------------------------------------
# Ctrl-C in a terminal: SIGINT to the demo's whole process group (job
# control gives the demo its own group, and keeps SIGINT from being
# ignored, as it is for a background job without it).
out2=$tmp/demo_int.out
set -m
DEMO_RAW=1 scripts/demo.sh >"$out2" 2>"$out2.stderr" &
demo_pid=$!
set +m
tn_bg "$demo_pid"
tn_wait_grep 60 '"event":"handshake"' "$out2" || tap_fail "the interrupted demo's first handshake"
kill -INT -- "-$demo_pid"
tn_wait_cmd 30 sh -c "! kill -0 $demo_pid" || tap_fail "the demo stops on SIGINT"
wait "$demo_pid"
tap_eq "SIGINT: the demo ends with status 130" 130 $?
grep '^{' "$out2" >"$out2.jsonl"
tap_eq "SIGINT: the agent stopped and detached" 1 "$(grep -c '"state":"stopped"' "$out2")"
tap_eq "SIGINT: no namespace, interface, process or file of it" "" "$(demo_leftovers "$out2")"

if [ "$TN_FAILED" -ne 0 ]; then
	sed 's/^/#   demo stderr: /' "$out.stderr" "$out2.stderr" | head -20
fi
