#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The inventory files a (name, server, leaf) only when the server answered
# that name: a ServerHello to a ClientHello that was seen. A capture of
# only the server's side (tls12_rsa.pcap cut by tcpdump to the packets from
# port 27302: every ClientHello missing) still reports both handshakes and
# their chain, but files nothing (it used to file them under the empty
# name); the whole capture files rsa.test, counted twice.
. "$(dirname "$0")/lib.sh"
t_require_tlswatch
command -v tcpdump >/dev/null || { echo "1..0 # SKIP tcpdump missing"; exit 0; }

tcpdump -r "$CAPS/tls12_rsa.pcap" -w "$T_TMP/server-only.pcap" 'tcp src port 27302' 2>/dev/null
assert_eq "tcpdump cut the capture to the server's side" 0 "$?"

"$TW" analyze --db "$T_TMP/cut.db" --json "$T_TMP/server-only.pcap" >"$T_TMP/cut.json"
assert_eq "server side only: exit 0" 0 "$?"
assert_eq "server side only: both handshakes reported with their chain" 2 \
	"$(grep -c '"event":"handshake".*"chain":\[{"sha256":"c3e71b9a' "$T_TMP/cut.json")"
"$TW" inventory --db "$T_TMP/cut.db" --json >"$T_TMP/cut.rows"
assert_eq "server side only: inventory exit 0" 0 "$?"
assert_eq "server side only: no row filed (no name was answered)" 0 \
	"$(grep -c . "$T_TMP/cut.rows")"

"$TW" analyze --db "$T_TMP/full.db" --json "$CAPS/tls12_rsa.pcap" >/dev/null
assert_eq "whole capture: exit 0" 0 "$?"
"$TW" inventory --db "$T_TMP/full.db" --json >"$T_TMP/full.rows"
assert_eq "whole capture: one row, rsa.test, served twice" "rsa.test 2" \
	"$("$PY" -c 'import json,sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print(" ".join("%s %s" % (r.get("name"), r.get("count")) for r in rows))' "$T_TMP/full.rows")"
t_done
