#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The Alertmanager sink against a real Alertmanager on 127.0.0.1.
#
# 1. `analyze --alertmanager` of tls12_reject_expired and
#    tls12_staple_revoked: Alertmanager lists, active, one
#    TLSWatchCertificateFinding per critical finding with the exact labels
#    (name, sha256 of the capture's cert event, kind, instance, server)
#    and nothing else of ours.
# 2. Resolution through Alertmanager: a second run replays
#    tls12_reject_expired, then a copy of tls12_staple_revoked rewritten so
#    that expired.test at the same address and port serves the other
#    certificate. The certificate changed: the expired.test alerts of the
#    old certificate are POSTed resolved, leave Alertmanager's list (they
#    would stay active for 3 minutes otherwise) and Alertmanager notifies
#    its webhook receiver of them as "resolved"; the new certificate's
#    alerts are active.
# 2b. Two addresses serve the expired certificate (a copy of
#    tls12_reject_expired moved to port 28951): one of them changing
#    certificate leaves the alerts firing (resolution looked at the
#    address where they were first seen only); both changing resolves them.
# 3. A URL with a trailing slash works; a dead Alertmanager (connection
#    refused, or accepting and never answering) costs a bounded wait and
#    the analysis still succeeds.
#
# Needs prometheus-alertmanager, curl, python3. TAP output.
. "$(dirname "$0")/lib.sh"
. tests/e2e/lib_prom.sh
trap 'prom_cleanup; rm -rf "$T_TMP"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
t_require_tlswatch

EXPIRED=$CAPS/tls12_reject_expired.pcap
REVOKED=$CAPS/tls12_staple_revoked.pcap

hook_start || { not_ok "the webhook receiver starts"; t_done; }
am_start -w "$HOOK_URL/am" || { not_ok "Alertmanager starts"; t_done; }
ok "Alertmanager runs on $AM_ADDR"

# The leaf fingerprint of the capture's cert event.
cert_sha() { # capture
	"$TW" analyze --json "$1" | "$PY" -c '
import json, sys
for line in sys.stdin:
    e = json.loads(line)
    if e["event"] == "cert":
        print(e["sha256"])
        break'
}

# Our alerts as Alertmanager lists them, one line each, sorted:
# "name sha256 kind server instance severity state".
our_alerts() {
	am_alerts | "$PY" -c '
import json, sys
out = []
for a in json.load(sys.stdin):
    l = a["labels"]
    if l.get("alertname") != "TLSWatchCertificateFinding":
        continue
    out.append(" ".join([l.get("name", "-"), l.get("sha256", "-"), l.get("kind", "-"),
                         l.get("server", "-"), l.get("instance", "-"),
                         l.get("severity", "-"), a["status"]["state"]]))
print("\n".join(sorted(out)))'
}

analyze_am() { # url, captures...
	local url=$1
	shift
	timeout 30 "$TW" analyze --json --alertmanager "$url" --instance edge-test "$@" \
		>"$T_TMP/analyze.out" 2>"$T_TMP/analyze.err"
}

sha_exp=$(cert_sha "$EXPIRED")
sha_rev=$(cert_sha "$REVOKED")
assert_eq "tls12_reject_expired has a leaf fingerprint" 64 "${#sha_exp}"
assert_eq "tls12_staple_revoked has a leaf fingerprint" 64 "${#sha_rev}"

# --- 1. the alerts of critical findings ---------------------------------
analyze_am "$AM_URL/" "$EXPIRED" "$REVOKED"
assert_eq "analyze with --alertmanager exits 0" 0 $?
assert_eq "analyze with --alertmanager warns of nothing" "" "$(cat "$T_TMP/analyze.err")"
expected="expired.test $sha_exp expired 127.0.0.1:28950 edge-test critical active
expired.test $sha_exp untrusted 127.0.0.1:28950 edge-test critical active
revoked.test $sha_rev revoked_staple 127.0.0.1:49371 edge-test critical active
revoked.test $sha_rev untrusted 127.0.0.1:49371 edge-test critical active"
assert_eq "Alertmanager lists one active alert per critical finding, exact labels" \
	"$expected" "$(our_alerts)"
summary=$(am_alerts | "$PY" -c '
import json, sys
for a in json.load(sys.stdin):
    if a["labels"].get("kind") == "revoked_staple":
        print(a["annotations"]["summary"])')
assert_eq "the revoked_staple alert says what is wrong" \
	"revoked.test serves a certificate stapled with a revoked OCSP answer" "$summary"
ends_ok=$(am_alerts | "$PY" -c '
import json, sys, datetime
now = datetime.datetime.now(datetime.timezone.utc)
ok = True
for a in json.load(sys.stdin):
    e = datetime.datetime.fromisoformat(a["endsAt"].replace("Z", "+00:00"))
    s = datetime.datetime.fromisoformat(a["startsAt"].replace("Z", "+00:00"))
    # endsAt: now + 3 * 60 s (wall clock, not the capture time)
    ok = ok and 120 < (e - now).total_seconds() <= 181 and s < now
print("yes" if ok else "no")')
assert_eq "endsAt is 3 resend intervals from now, startsAt the packet time" yes "$ends_ok"

# --- 2. resolution: the same name and address serve another certificate --
# rewrite SRC DST OLD_PORT NEW_PORT [SNI]: SRC with the server port OLD_PORT
# made NEW_PORT and, with SNI, the ClientHello's SNI revoked.test -> SNI
# (same length; TCP checksums are not verified by tlswatch).
rewrite() { # src, dst, old port, new port, [sni]
	"$PY" - "$@" <<'EOF'
import struct, sys
src, dst = sys.argv[1], sys.argv[2]
OLD, NEW = int(sys.argv[3]), int(sys.argv[4])
SNI = sys.argv[5].encode() if len(sys.argv) > 5 else None
data = open(src, "rb").read()
assert data[:4] == bytes.fromhex("d4c3b2a1") and struct.unpack("<I", data[20:24])[0] == 1
out = bytearray(data[:24])
off = 24
while off + 16 <= len(data):
    incl = struct.unpack("<I", data[off + 8:off + 12])[0]
    pkt = bytearray(data[off + 16:off + 16 + incl])
    if len(pkt) >= 34 and pkt[12:14] == b"\x08\x00" and pkt[23] == 6:
        t = 14 + (pkt[14] & 0x0F) * 4
        sport, dport = struct.unpack(">HH", pkt[t:t + 4])
        to_server = dport == OLD
        sport = NEW if sport == OLD else sport
        dport = NEW if dport == OLD else dport
        pkt[t:t + 4] = struct.pack(">HH", sport, dport)
        if to_server and SNI:
            pkt = bytearray(pkt.replace(b"revoked.test", SNI))
    out += data[off:off + 16] + pkt
    off += 16 + incl
open(dst, "wb").write(out)
EOF
}
rewrite "$REVOKED" "$T_TMP/expired_swapped.pcap" 49371 28950 expired.test
swapped=$("$TW" analyze --json "$T_TMP/expired_swapped.pcap" | "$PY" -c '
import json, sys
for line in sys.stdin:
    e = json.loads(line)
    if e["event"] == "cert":
        print(e["sni"], e["server"]["port"], e["sha256"])')
assert_eq "the rewritten capture: expired.test on port 28950 serves the other certificate" \
	"expired.test 28950 $sha_rev" "$swapped"

analyze_am "$AM_URL" "$EXPIRED" "$T_TMP/expired_swapped.pcap"
assert_eq "the second analyze exits 0" 0 $?
expected="expired.test $sha_rev hostname_mismatch 127.0.0.1:28950 edge-test critical active
expired.test $sha_rev revoked_staple 127.0.0.1:28950 edge-test critical active
expired.test $sha_rev untrusted 127.0.0.1:28950 edge-test critical active
revoked.test $sha_rev revoked_staple 127.0.0.1:49371 edge-test critical active
revoked.test $sha_rev untrusted 127.0.0.1:49371 edge-test critical active"
assert_eq "the old certificate's alerts are resolved, the new one's active" \
	"$expected" "$(our_alerts)"

# Alertmanager tells its receiver (group_wait/group_interval 1 s).
resolved=''
for _ in $(seq 40); do
	resolved=$("$PY" - "$HOOK_OUT" "$sha_exp" <<'EOF'
import json, sys
kinds = set()
for line in open(sys.argv[1]):
    body = json.loads(json.loads(line)["body"])
    for a in body.get("alerts", []):
        l = a["labels"]
        if a["status"] == "resolved" and l.get("sha256") == sys.argv[2] \
                and l.get("name") == "expired.test" and l.get("instance") == "edge-test":
            kinds.add(l["kind"])
print(",".join(sorted(kinds)))
EOF
)
	[ "$resolved" = "expired,untrusted" ] && break
	sleep 0.5
done
assert_eq "Alertmanager notifies the old certificate's alerts as resolved" \
	"expired,untrusted" "$resolved"

# --- 2b. two addresses serve the expired certificate ----------------------
rewrite "$EXPIRED" "$T_TMP/expired_b.pcap" 28950 28951
rewrite "$REVOKED" "$T_TMP/expired_swapped_b.pcap" 49371 28951 expired.test
assert_eq "the copies: expired.test on port 28951 serves the expired, then the other certificate" \
	"expired.test 28951 $sha_exp|expired.test 28951 $sha_rev" \
	"$(for f in expired_b expired_swapped_b; do "$TW" analyze --json "$T_TMP/$f.pcap" |
		"$PY" -c 'import json, sys
for line in sys.stdin:
    e = json.loads(line)
    if e["event"] == "cert":
        print(e["sni"], e["server"]["port"], e["sha256"])'; done | paste -sd'|')"
# The expired certificate's alerts of instance edge-two.
two_alerts() {
	our_alerts | grep " $sha_exp .* edge-two "
}
timeout 30 "$TW" analyze --json --alertmanager "$AM_URL" --instance edge-two \
	"$EXPIRED" "$T_TMP/expired_b.pcap" "$T_TMP/expired_swapped.pcap" \
	>"$T_TMP/analyze.out" 2>"$T_TMP/analyze.err"
assert_eq "2b. :28950 changed certificate, :28951 still serves the expired one: analyze exits 0" \
	0 $?
assert_eq "2b. the expired certificate's alerts stay active (labelled with the first address)" \
	"expired.test $sha_exp expired 127.0.0.1:28950 edge-two critical active
expired.test $sha_exp untrusted 127.0.0.1:28950 edge-two critical active" "$(two_alerts)"
timeout 30 "$TW" analyze --json --alertmanager "$AM_URL" --instance edge-two \
	"$EXPIRED" "$T_TMP/expired_b.pcap" "$T_TMP/expired_swapped.pcap" \
	"$T_TMP/expired_swapped_b.pcap" >"$T_TMP/analyze.out" 2>"$T_TMP/analyze.err"
assert_eq "2b. both addresses changed certificate: analyze exits 0" 0 $?
assert_eq "2b. the expired certificate's alerts are resolved" "" "$(two_alerts)"

# --- 3. a dead Alertmanager ----------------------------------------------
dead=http://127.0.0.1:$(prom_free_port)
analyze_am "$dead" "$EXPIRED"
rc=$?
assert_eq "analyze with a dead Alertmanager still exits 0" 0 "$rc"
assert_contains "and says the requests failed" "alertmanager $dead/…: Failed to connect" \
	"$(cat "$T_TMP/analyze.err")"

# One that accepts and never answers: close() gives up after drain_ms (5 s).
hook_mode hang
start=$(date +%s)
analyze_am "$HOOK_URL" "$EXPIRED"
rc=$?
took=$(($(date +%s) - start))
assert_eq "analyze with a hanging Alertmanager still exits 0" 0 "$rc"
# how long it waited is said by its message (a wall-clock bound would be a
# timed assertion, at the mercy of a loaded host); that it waited at all
# can only fail one way
assert_true "and waits for the drain bound (${took}s >= 4s)" test "$took" -ge 4
assert_contains "and says it gave up" "unanswered after 5000 ms" \
	"$(cat "$T_TMP/analyze.err")"
hook_mode ok

t_done
