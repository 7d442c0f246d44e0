#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The same traffic as pcap, pcapng, Linux cooked v1/v2 and on standard
# input gives the same handshakes; a truncated capture is reported, not
# fatal; several files, --port and the text report.
. "$(dirname "$0")/lib.sh"
t_require_tlswatch

for name in tls12_rsa.pcapng tls12_rsa_sll tls12_rsa_sll2 truncated; do
	check_capture "$name"
done

# Handshake keys (hs@...) without the ones that name the file or depend on
# which tcpdump took the timestamp.
hs_keys() { grep '^hs@' "$T_TMP/out.kv" | grep -v -e '\.source=' -e '\.ts=' | sort; }
run_json "$CAPS/tls12_rsa.pcap"
hs_keys >"$T_TMP/pcap.hs"
grep '^hs@.*\.ts=' "$T_TMP/out.kv" | sort >"$T_TMP/pcap.ts"
same_as_pcap() { # label
	if diff "$T_TMP/pcap.hs" <(hs_keys) >"$T_TMP/diff"; then
		ok "$1: same handshakes as the pcap"
	else
		not_ok "$1: same handshakes as the pcap" "$(head -20 "$T_TMP/diff")"
	fi
}
run_json "$CAPS/tls12_rsa.pcapng"
same_as_pcap pcapng
assert_eq "pcapng: same timestamps as the pcap" "$(cat "$T_TMP/pcap.ts")" \
	"$(grep '^hs@.*\.ts=' "$T_TMP/out.kv" | sort)"
run_json "$CAPS/tls12_rsa_sll.pcap"
same_as_pcap "Linux cooked v1"
run_json "$CAPS/tls12_rsa_sll2.pcap"
same_as_pcap "Linux cooked v2"

# Standard input.
T_RC=0
"$TW" analyze --json - <"$CAPS/tls12_rsa.pcap" >"$T_TMP/out.json" 2>"$T_TMP/err" || T_RC=$?
tw_flatten "$T_TMP/out.json" >"$T_TMP/out.kv"
assert_eq "stdin: exit 0" 0 "$T_RC"
same_as_pcap "stdin (pcap)"
check_against "stdin (pcap)" "$CAPS/tls12_rsa.expect"
T_RC=0
"$TW" analyze --json - <"$CAPS/tls12_rsa.pcapng" >"$T_TMP/out.json" 2>"$T_TMP/err" || T_RC=$?
tw_flatten "$T_TMP/out.json" >"$T_TMP/out.kv"
assert_eq "stdin (pcapng): exit 0" 0 "$T_RC"
same_as_pcap "stdin (pcapng)"

# Truncated: exit 0, one warning naming the file, summary says so.
run_json "$CAPS/truncated.pcap"
assert_eq "truncated: exit 0" 0 "$T_RC"
assert_eq "truncated: summary truncated_file" true \
	"$(kv_get "$T_TMP/out.kv" summary.truncated_file)"
assert_eq "truncated: one warning line on stderr" 1 "$(grep -c . "$T_TMP/err")"
assert_contains "truncated: the warning names the file" truncated.pcap "$(cat "$T_TMP/err")"
assert_eq "truncated: the handshakes before the cut are all there" 2 \
	"$(kv_get "$T_TMP/out.kv" summary.handshakes)"
T_RC=0
"$TW" analyze -q --json "$CAPS/truncated.pcap" >/dev/null 2>"$T_TMP/err" || T_RC=$?
assert_eq "truncated with -q: exit 0" 0 "$T_RC"
assert_eq "truncated with -q: nothing on stderr" "" "$(cat "$T_TMP/err")"
head -c 130 "$CAPS/tls12_rsa.pcap" >"$T_TMP/one.pcap"   # the header and 1 packet, cut in the 2nd
run_json "$T_TMP/one.pcap"
assert_contains "truncated after one packet: one packet, singular" \
	"the report covers the 1 packet read" "$(cat "$T_TMP/err")"

# Several files: one report.
run_json "$CAPS/tls12_rsa.pcap" "$CAPS/tls13_ecdsa.pcap"
assert_eq "two files: exit 0" 0 "$T_RC"
assert_eq "two files: handshakes of both" 4 "$(kv_get "$T_TMP/out.kv" summary.handshakes)"
assert_eq "two files: both named in summary.files" \
	"$CAPS/tls12_rsa.pcap,$CAPS/tls13_ecdsa.pcap" "$(kv_get "$T_TMP/out.kv" summary.files)"
assert_eq "two files: one summary" 1 "$(kv_get "$T_TMP/out.kv" events.summary)"
assert_eq "two files: versions" "2 2" "$(kv_get "$T_TMP/out.kv" summary.version_counts.TLS1.2) $(kv_get "$T_TMP/out.kv" summary.version_counts.TLS1.3)"
port=$(kv_get "$CAPS/tls13_ecdsa.expect" hs.1.client_port)
assert_eq "two files: each handshake names its source" "$CAPS/tls13_ecdsa.pcap" \
	"$(kv_get "$T_TMP/out.kv" "hs@$port.source")"

# A capture rotated in the middle of a handshake (tcpdump -C): the two
# files in order are the one capture, the connection followed across them
# (before, each file's connections ended with it: the handshake was
# reported incomplete, and its rest as a second one with the roles swapped).
"$PY" -c 'import struct, sys
d = open(sys.argv[1], "rb").read()
recs, off = [], 24
while off + 16 <= len(d):
    n = struct.unpack_from("<I", d, off + 8)[0]
    recs.append(d[off:off + 16 + n])
    off += 16 + n
half = len(recs) // 2
for name, part in ((sys.argv[2], recs[:half]), (sys.argv[3], recs[half:])):
    open(name, "wb").write(d[:24] + b"".join(part))' "$CAPS/tls12_bigchain.pcap" \
	"$T_TMP/part1.pcap" "$T_TMP/part2.pcap"
run_json "$CAPS/tls12_bigchain.pcap"
hs_keys >"$T_TMP/whole.hs"
run_json "$T_TMP/part1.pcap" "$T_TMP/part2.pcap"
if diff "$T_TMP/whole.hs" <(hs_keys) >"$T_TMP/diff"; then
	ok "a capture cut in two files: the same handshake as the whole"
else
	not_ok "a capture cut in two files: the same handshake as the whole" "$(head -20 "$T_TMP/diff")"
fi
assert_eq "a capture cut in two files: one handshake, one flow" "1 1" \
	"$(kv_get "$T_TMP/out.kv" summary.handshakes) $(kv_get "$T_TMP/out.kv" summary.flows)"

# A capture that starts at the client's ClientKeyExchange (the hellos and
# the chain before it were not captured): the client is still the client
# (ClientKeyExchange was taken for a server message: the roles swapped).
"$PY" -c 'import struct, sys
d = open(sys.argv[1], "rb").read()
off, out = 24, None
while off + 16 <= len(d):
    n = struct.unpack_from("<I", d, off + 8)[0]
    f = d[off + 16:off + 16 + n]
    ihl = (f[14] & 15) * 4
    tcp = 14 + ihl
    pl = f[tcp + (f[tcp + 12] >> 4) * 4:]
    if out is None and pl[:1] == b"\x16" and len(pl) > 5 and pl[5] == 0x10:
        out = bytearray(d[:24])
    if out is not None:
        out += d[off:off + 16 + n]
    off += 16 + n
open(sys.argv[2], "wb").write(out)' "$CAPS/tls12_rsa.pcap" "$T_TMP/from_cke.pcap"
run_json "$T_TMP/from_cke.pcap"
port=$(kv_get "$CAPS/tls12_rsa.expect" hs.1.client_port)
assert_eq "a capture from the ClientKeyExchange on: the client keeps its port" \
	"$port $(kv_get "$CAPS/tls12_rsa.expect" hs.1.server_port)" \
	"$(kv_get "$T_TMP/out.kv" "hs@$port.client_port") $(kv_get "$T_TMP/out.kv" "hs@$port.server_port")"

# More files than descriptors (a rotated tcpdump -W set): each capture is
# opened when its turn comes, so 100 files go through with 64 descriptors;
# a file that cannot be opened among them is counted, the others read.
mkdir "$T_TMP/many"
for i in $(seq 100); do cp "$CAPS/tls12_rsa.pcap" "$T_TMP/many/c$(printf %03d "$i").pcap"; done
(ulimit -n 64 && run_json "$T_TMP"/many/c*.pcap && echo "$T_RC" >"$T_TMP/many.rc")
assert_eq "100 files with 64 descriptors: exit 0" 0 "$(cat "$T_TMP/many.rc")"
assert_eq "100 files with 64 descriptors: nothing on stderr" "" "$(cat "$T_TMP/err")"
assert_eq "100 files with 64 descriptors: the handshakes of every file" 200 \
	"$(kv_get "$T_TMP/out.kv" summary.handshakes)"
assert_eq "100 files with 64 descriptors: none unread" 0 \
	"$(kv_get "$T_TMP/out.kv" summary.problem_counts.unread_inputs)"
(ulimit -n 64 && run_json "$T_TMP/many/none.pcap" "$T_TMP"/many/c*.pcap "$T_TMP/many/gone.pcap" &&
	echo "$T_RC" >"$T_TMP/many.rc")
assert_eq "100 files and 2 missing, 64 descriptors: exit 3" 3 "$(cat "$T_TMP/many.rc")"
assert_eq "100 files and 2 missing: each missing one named, in order" \
	"tlswatch analyze: $T_TMP/many/none.pcap: No such file or directory|tlswatch analyze: $T_TMP/many/gone.pcap: No such file or directory" \
	"$(paste -sd'|' "$T_TMP/err")"
assert_eq "100 files and 2 missing: the handshakes of every readable file" 200 \
	"$(kv_get "$T_TMP/out.kv" summary.handshakes)"
assert_eq "100 files and 2 missing: both counted unread" 2 \
	"$(kv_get "$T_TMP/out.kv" summary.problem_counts.unread_inputs)"

# The text report's overview: one of a thing is singular.
"$TW" analyze --ca-file tests/data/pki/root.crt "$CAPS/tls12_reject_expired.pcap" >"$T_TMP/report.txt"
assert_eq "text report, one handshake: singular words" \
	"  13 packets, 1 TLS connection, 1 handshake: ok 0, failed 1, aborted 0, incomplete 0|  2 distinct certificates (1 leaf); last packet 2026-11-23T10:43:19.222567Z" \
	"$(sed -n '2p;4p' "$T_TMP/report.txt" | paste -sd'|')"
"$TW" analyze --ca-file tests/data/pki/root.crt "$CAPS/tls12_reject_expired.pcap" \
	"$CAPS/tls12_rsa.pcap" "$CAPS/tls13_ecdsa.pcap" >"$T_TMP/report.txt"
assert_eq "text report, several: plural words (README's example)" \
	"  95 packets, 5 TLS connections, 5 handshakes: ok 4, failed 1, aborted 0, incomplete 0|  3 distinct certificates (2 leaves); last packet 2026-11-23T10:43:19.222567Z" \
	"$(sed -n '2p;4p' "$T_TMP/report.txt" | paste -sd'|')"

# --port.
sport=$(kv_get "$CAPS/tls12_rsa.expect" server_port)
run_json --port "$sport" "$CAPS/tls12_rsa.pcap"
assert_eq "--port $sport (the server's): 2 handshakes" 2 "$(kv_get "$T_TMP/out.kv" summary.handshakes)"
other=$((sport == 443 ? 444 : 443))
run_json --port "$other" "$CAPS/tls12_rsa.pcap"
assert_eq "--port $other (unused): exit 0" 0 "$T_RC"
assert_eq "--port $other (unused): 0 handshakes" 0 "$(kv_get "$T_TMP/out.kv" summary.handshakes)"
run_json --port "$other" --port "$sport" "$CAPS/tls12_rsa.pcap"
assert_eq "--port repeated: either port matches" 2 "$(kv_get "$T_TMP/out.kv" summary.handshakes)"

# Text report.
T_RC=0
"$TW" analyze "$CAPS/tls12_reject_expired.pcap" >"$T_TMP/out.txt" 2>"$T_TMP/err" || T_RC=$?
assert_eq "text report: exit 0" 0 "$T_RC"
assert_contains "text report: names the server" expired.test "$(cat "$T_TMP/out.txt")"
assert_contains "text report: shows the leaf fingerprint" \
	"$(kv_get "$CAPS/tls12_reject_expired.expect" cert.1.sha256)" "$(cat "$T_TMP/out.txt")"
assert_contains "text report: shows the finding" expired "$(cat "$T_TMP/out.txt")"
assert_contains "text report: shows the alert" certificate_expired "$(cat "$T_TMP/out.txt")"
assert_eq "text report: not JSON" 0 "$(grep -c '^{"event"' "$T_TMP/out.txt")"
# A capture whose every packet says the epoch itself (time 0: an
# anonymiser's output): the events still say when, 1970-01-01 (before, an
# event at time 0 was written without "ts", as if it had none).
"$PY" -c 'import struct, sys
d = bytearray(open(sys.argv[1], "rb").read())
off = 24
while off + 16 <= len(d):
    n = struct.unpack_from("<I", d, off + 8)[0]
    struct.pack_into("<II", d, off, 0, 0)
    off += 16 + n
open(sys.argv[2], "wb").write(d)' "$CAPS/tls12_rsa.pcap" "$T_TMP/epoch0.pcap"
run_json "$T_TMP/epoch0.pcap"
assert_eq "time 0: every event has its ts, the epoch" \
	"cert=1970-01-01T00:00:00.000000Z handshake=1970-01-01T00:00:00.000000Z summary=1970-01-01T00:00:00.000000Z" \
	"$("$PY" -c 'import json, sys
ts = {}
for line in open(sys.argv[1]):
    e = json.loads(line)
    ts.setdefault(e["event"], set()).add(e.get("ts", "none"))
print(" ".join("%s=%s" % (k, ",".join(sorted(v))) for k, v in sorted(ts.items())))' "$T_TMP/out.json")"

t_done
