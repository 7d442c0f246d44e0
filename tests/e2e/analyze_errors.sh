#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Exit statuses and messages of tlswatch analyze for inputs it cannot read
# (3) and bad usage (2): one line on stderr naming what was wrong, nothing
# on stdout.
. "$(dirname "$0")/lib.sh"
t_require_tlswatch

run_err() { # args... -> $T_RC, $T_TMP/out, $T_TMP/err
	T_RC=0
	"$TW" analyze "$@" >"$T_TMP/out" 2>"$T_TMP/err" </dev/null || T_RC=$?
}
# Unreadable input (3): exactly one line. Usage errors (2): the first line
# says what is wrong (a "Try --help" hint may follow).
expect_err() { # label, status, text in the message, args...
	local label=$1 rc=$2 text=$3
	shift 3
	run_err "$@"
	assert_eq "$label: exit $rc" "$rc" "$T_RC"
	if [ "$rc" -eq 3 ]; then
		assert_eq "$label: one line on stderr" 1 "$(grep -c . "$T_TMP/err")"
	fi
	assert_contains "$label: message says '$text'" "$text" "$(head -n1 "$T_TMP/err")"
	assert_eq "$label: nothing on stdout" "" "$(cat "$T_TMP/out")"
}

missing=$T_TMP/no-such-capture.pcap
expect_err "missing file" 3 "$missing" --json "$missing"
assert_eq "missing file: no JSON on stdout" "" "$(cat "$T_TMP/out")"

printf 'this is a text file, not a capture\n' >"$T_TMP/notes.txt"
expect_err "text file" 3 "not a pcap or pcapng file" "$T_TMP/notes.txt"
assert_contains "text file: message names the file" notes.txt "$(cat "$T_TMP/err")"

: >"$T_TMP/empty.pcap"
expect_err "empty file" 3 empty.pcap "$T_TMP/empty.pcap"

printf 'not a capture either' | { T_RC=0; "$TW" analyze - >/dev/null 2>"$T_TMP/err" || T_RC=$?; echo "$T_RC" >"$T_TMP/rc"; }
assert_eq "text on stdin: exit 3" 3 "$(cat "$T_TMP/rc")"
assert_contains "text on stdin: not a pcap or pcapng file" "not a pcap or pcapng file" "$(cat "$T_TMP/err")"

mkdir "$T_TMP/adir"
run_err "$T_TMP/adir"
assert_eq "a directory: exit 3" 3 "$T_RC"

# A missing file among readable ones: the readable ones are analysed, the
# missing one is named, the summary counts it and the status says so.
run_json "$CAPS/tls12_rsa.pcap" "$missing" "$CAPS/tls12_reject_expired.pcap"
assert_eq "missing file among good ones: exit 3" 3 "$T_RC"
assert_eq "missing file among good ones: one line naming it" \
	"tlswatch analyze: $missing: No such file or directory" "$(cat "$T_TMP/err")"
assert_eq "missing file among good ones: both readable files analysed" 3 \
	"$(kv_get "$T_TMP/out.kv" summary.handshakes)"
assert_eq "missing file among good ones: the summary counts the unread input" 1 \
	"$(kv_get "$T_TMP/out.kv" summary.problem_counts.unread_inputs)"
assert_eq "missing file among good ones: the summary lists every file given" \
	"$CAPS/tls12_rsa.pcap,$missing,$CAPS/tls12_reject_expired.pcap" \
	"$(kv_get "$T_TMP/out.kv" summary.files)"
run_json "$CAPS/tls12_rsa.pcap"
assert_eq "a readable file: no unread input" 0 \
	"$(kv_get "$T_TMP/out.kv" summary.problem_counts.unread_inputs)"

# A record longer than the snap length stops libpcap in the middle of the
# file: the error is printed (also with -q), the status is 3, and the
# summary says the file was not fully read.
oversize=$T_TMP/oversize.pcap
"$PY" - "$CAPS/tls12_rsa.pcap" "$oversize" <<-'PYEOF'
	import struct, sys
	data = open(sys.argv[1], 'rb').read()
	head, off, recs = bytearray(data[:24]), 24, []
	while off < len(data):
	    ts, us, cap, orig = struct.unpack('<IIII', data[off:off + 16])
	    recs.append([ts, us, cap, orig, data[off + 16:off + 16 + cap]])
	    off += 16 + cap
	struct.pack_into('<I', head, 16, 65535)          # snap length
	r = recs[30]                                      # after the first connection
	r[4] += bytes(300000)
	r[2] = r[3] = len(r[4])
	out = bytes(head) + b''.join(struct.pack('<IIII', *r[:4]) + r[4] for r in recs)
	open(sys.argv[2], 'wb').write(out)
PYEOF
oversize_msg="tlswatch analyze: $oversize: invalid packet capture length 300308, bigger than snaplen of 65535; the rest of the file was not read"
run_err -q "$oversize"
assert_eq "record over the snap length, -q: exit 3" 3 "$T_RC"
assert_eq "record over the snap length, -q: the error is printed" "$oversize_msg" "$(cat "$T_TMP/err")"
assert_contains "record over the snap length: the text report says the file was not fully read" \
	"1 input not fully read" "$(cat "$T_TMP/out")"
run_json "$oversize"
assert_eq "record over the snap length: exit 3" 3 "$T_RC"
assert_eq "record over the snap length: one line, from 'tlswatch analyze'" "$oversize_msg" "$(cat "$T_TMP/err")"
assert_eq "record over the snap length: the summary counts the unread input" 1 \
	"$(kv_get "$T_TMP/out.kv" summary.problem_counts.unread_inputs)"
assert_eq "record over the snap length: the packets before it are analysed" 30 \
	"$(kv_get "$T_TMP/out.kv" summary.packets)"

# An output that cannot be written (a full disk) is exit 3 naming it, also
# with -q; the other outputs are still written.
for args in "" --json -q "-q --html -"; do
	T_RC=0
	# shellcheck disable=SC2086 # the words of $args are the arguments
	"$TW" analyze $args "$CAPS/tls12_rsa.pcap" >/dev/full 2>"$T_TMP/err" || T_RC=$?
	assert_eq "analyze $args > /dev/full: exit 3" 3 "$T_RC"
	assert_contains "analyze $args > /dev/full: one line naming standard output" \
		"tlswatch analyze: cannot write to standard output: " "$(cat "$T_TMP/err")"
	assert_eq "analyze $args > /dev/full: one line" 1 "$(grep -c . "$T_TMP/err")"
done
T_RC=0
"$TW" analyze --json "$CAPS/tls12_rsa.pcap" >/dev/full 2>"$T_TMP/err" || T_RC=$?
assert_eq "analyze --json > /dev/full: the reason" \
	"tlswatch analyze: cannot write to standard output: No space left on device" "$(cat "$T_TMP/err")"
run_err -q --html /dev/full "$CAPS/tls12_rsa.pcap"
assert_eq "analyze -q --html /dev/full: exit 3" 3 "$T_RC"
assert_eq "analyze -q --html /dev/full: one line naming it" \
	"tlswatch analyze: --html /dev/full: cannot write the page" "$(cat "$T_TMP/err")"
assert_contains "analyze -q --html /dev/full: the text report is still written" \
	"tlswatch report: $CAPS/tls12_rsa.pcap" "$(head -n1 "$T_TMP/out")"

# Another output's failure is its own, not the --html file's: a webhook
# alert that can be queued neither in the --db file (a trigger refuses it)
# nor in memory (tests/e2e/lib/no_memory_db.c) is exit 4 naming the
# webhook, and the page is written in full.
shim=$T_TMP/no_memory_db.so
# shellcheck disable=SC2046 # pkg-config's words are the flags
"${CC:-cc}" -shared -fPIC -o "$shim" tests/e2e/lib/no_memory_db.c \
	$(pkg-config --cflags sqlite3) 2>"$T_TMP/cc.err"
assert_eq "the in-memory database refusal builds" "" "$(cat "$T_TMP/cc.err")"
hook=(--db "$T_TMP/hook.db" --webhook http://127.0.0.1:1/ --webhook-timeout 1
	--webhook-events summary)
run_err -q "${hook[@]}" "$CAPS/tls12_rsa.pcap"
assert_eq "webhook outbox created: exit 0" 0 "$T_RC"
"$PY" - "$T_TMP/hook.db" <<-'PYEOF'
	import sqlite3, sys
	db = sqlite3.connect(sys.argv[1])
	# the summary's claim is new again, so it is claimed (and refused)
	db.execute("DELETE FROM outbox_sent")
	db.execute("DELETE FROM outbox")
	db.execute("CREATE TRIGGER refuse BEFORE INSERT ON outbox_sent "
	           "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END")
	db.commit()
PYEOF
T_RC=0
LD_PRELOAD=$shim "$TW" analyze -q "${hook[@]}" --html "$T_TMP/page.html" \
	"$CAPS/tls12_rsa.pcap" >"$T_TMP/out" 2>"$T_TMP/err" </dev/null || T_RC=$?
assert_eq "webhook alert lost with --html: exit 4" 4 "$T_RC"
assert_eq "webhook alert lost with --html: one line naming the webhook" \
	"tlswatch analyze: webhook: 1 event could not be reported" "$(cat "$T_TMP/err")"
assert_eq "webhook alert lost with --html: the page is written in full" \
	"<!DOCTYPE html>|</html>" "$(head -n1 "$T_TMP/page.html")|$(tail -n1 "$T_TMP/page.html")"
assert_contains "webhook alert lost with --html: the text report is written" \
	"tlswatch report: $CAPS/tls12_rsa.pcap" "$(head -n1 "$T_TMP/out")"

expect_err "unknown option" 2 "--bogus" --bogus "$CAPS/tls12_rsa.pcap"
expect_err "no capture file" 2 "file" --json
expect_err "--port 0" 2 "0" --port 0 "$CAPS/tls12_rsa.pcap"
expect_err "--port 65536" 2 "65536" --port 65536 "$CAPS/tls12_rsa.pcap"
expect_err "--port abc" 2 "abc" --port abc "$CAPS/tls12_rsa.pcap"
expect_err "--warn-days -1" 2 "-1" --warn-days -1 "$CAPS/tls12_rsa.pcap"
expect_err "--warn-days x" 2 "x" --warn-days x "$CAPS/tls12_rsa.pcap"
expect_err "--fail-on unknown kind" 2 "bogus_kind" --fail-on expired,bogus_kind "$CAPS/tls12_rsa.pcap"
expect_err "--port without a value" 2 "port" "$CAPS/tls12_rsa.pcap" --port
expect_err "--expect without '='" 2 "--expect: 'foo' is not NAME=SHA256" --expect foo "$CAPS/tls12_rsa.pcap"
assert_eq "--expect without '=': the usage hint" "Try 'tlswatch analyze --help'." "$(sed -n 2p "$T_TMP/err")"
expect_err "--expect with a short fingerprint" 2 "'a.test=abcd' is not NAME=SHA256" \
	--expect a.test=abcd "$CAPS/tls12_rsa.pcap"

# Trust store and CRL files that are not regular files: exit 3 at once (a
# FIFO without a writer is not waited on).
mkfifo "$T_TMP/fifo"
for opt in --ca-file --crl; do
	for f in fifo adir; do
		T_RC=0
		timeout 20 "$TW" analyze "$opt" "$T_TMP/$f" "$CAPS/tls12_rsa.pcap" \
			>"$T_TMP/out" 2>"$T_TMP/err" </dev/null || T_RC=$?
		assert_eq "$opt on a ${f#a}: exit 3, one line naming it" \
			"3|tlswatch analyze: $opt $T_TMP/$f: not a regular file" "$T_RC|$(cat "$T_TMP/err")"
	done
done

# A --db SQLite cannot open asked for a store: refused at once, exit 3
# also under -q (it went on in memory, exit 0, and added nothing), the
# file untouched and no capture read.
printf 'garbage %.0s' $(seq 200) >"$T_TMP/junk.db"
cp "$T_TMP/junk.db" "$T_TMP/junk.orig"
run_err -q --db "$T_TMP/junk.db" "$CAPS/tls12_rsa.pcap"
assert_eq "--db not a database, -q: exit 3, one line naming it" \
	"3|tlswatch analyze: inventory $T_TMP/junk.db: file is not a database" \
	"$T_RC|$(cat "$T_TMP/err")"
assert_eq "--db not a database: nothing reported" "" "$(cat "$T_TMP/out")"
assert_true "--db not a database: the file untouched" cmp -s "$T_TMP/junk.db" "$T_TMP/junk.orig"
run_err -q --db "$T_TMP/junk.db" --webhook http://127.0.0.1:1/ "$CAPS/tls12_rsa.pcap"
assert_eq "--db not a database with --webhook: exit 3, one line naming it" \
	"3|tlswatch analyze: inventory $T_TMP/junk.db: file is not a database" \
	"$T_RC|$(cat "$T_TMP/err")"

# A URL over 2048 bytes: refused with the options (2), before any file is
# created, not an alert lost later; the bound itself is accepted.
url=http://127.0.0.1:1/$(head -c 2029 /dev/zero | tr '\0' x)
expect_err "--webhook of 2049 bytes" 2 "--webhook: a URL of 2049 bytes: at most 2048" \
	--db "$T_TMP/long.db" --webhook "${url}x" "$CAPS/tls12_rsa.pcap"
assert_true "--webhook of 2049 bytes: no --db created" test ! -e "$T_TMP/long.db"
expect_err "--alertmanager of 2049 bytes" 2 "--alertmanager: a URL of 2049 bytes: at most 2048" \
	--alertmanager "${url}x" "$CAPS/tls12_rsa.pcap"
# (the receiver refuses connections: the alert stays in the outbox)
run_err --webhook "$url" --webhook-timeout 1 "$CAPS/tls12_rsa.pcap"
assert_eq "--webhook of 2048 bytes: taken, the alert queued (exit 0)" "2048 0" "${#url} $T_RC"
assert_contains "--webhook of 2048 bytes: the alert waits in the outbox" \
	"1 alert not delivered" "$(cat "$T_TMP/err")"

# pcapng that libpcap reads only in part (README): its message, exit 3, and
# a report of what was read
/usr/bin/python3 scripts/make-mixed-pcapng.py "$T_TMP" ||
	not_ok "scripts/make-mixed-pcapng.py failed"
run_err "$T_TMP/mixed-linktypes.pcapng"
assert_eq "pcapng with two link types: exit 3" 3 "$T_RC"
assert_contains "pcapng with two link types: libpcap's reason" \
	"mixed-linktypes.pcapng: an interface has a type 113 different from the type of the first interface; the rest of the file was not read" \
	"$(cat "$T_TMP/err")"
# two byte orders: said as such, where libpcap's words are about the
# length it read in the wrong order (a block too large; or, for a header
# of 256 bytes, one past the end of the file: "truncated", which passed
# for a capture cut short, exit 0, and said nothing with -q); from a pipe
# (no going back to look) libpcap's words
for f in mixed-byteorder mixed-byteorder-long; do
	run_json -q "$T_TMP/$f.pcapng"
	assert_eq "pcapng with two byte orders ($f): exit 3, one line" \
		"3|tlswatch analyze: $T_TMP/$f.pcapng: the file has sections with different byte orders: the section at byte 116 is in the other; the rest of the file was not read" \
		"$T_RC|$(cat "$T_TMP/err")"
	assert_eq "pcapng with two byte orders ($f): the first section read, not a truncated file, an unread input" \
		"1|false|1" "$(kv_get "$T_TMP/out.kv" summary.packets)|$(kv_get "$T_TMP/out.kv" summary.truncated_file)|$(kv_get "$T_TMP/out.kv" summary.problem_counts.unread_inputs)"
done
T_RC=0
"$TW" analyze -q - <"$T_TMP/mixed-byteorder.pcapng" >/dev/null 2>"$T_TMP/err" || T_RC=$?
assert_eq "pcapng with two byte orders on standard input (a file): said as such" \
	"3|tlswatch analyze: stdin: the file has sections with different byte orders: the section at byte 116 is in the other; the rest of the file was not read" \
	"$T_RC|$(cat "$T_TMP/err")"
T_RC=0
cat "$T_TMP/mixed-byteorder.pcapng" | "$TW" analyze -q - >/dev/null 2>"$T_TMP/err" || T_RC=$?
assert_eq "pcapng with two byte orders through a pipe: libpcap's words" \
	"3|tlswatch analyze: stdin: pcapng block size 469762048 > maximum 16777216; the rest of the file was not read" \
	"$T_RC|$(cat "$T_TMP/err")"
# A pcapng cut short (a copy still being written, the usual read error):
# before it is called truncated, its blocks are walked from the start for
# a section in the other byte order, 32 KiB per read: 28 reads for these
# 9,202 blocks of 846,498 bytes (before: one read per block, 9,205 in all; the
# walk of a big capture took three times its analysis).
"$PY" - "$T_TMP/cut.pcapng" <<-'PYEOF'
	import struct, sys
	rec = struct.pack("<7I", 6, 92, 0, 0, 0, 60, 60) + bytes(60) + struct.pack("<I", 92)
	with open(sys.argv[1], "wb") as f:
	    f.write(struct.pack("<IIIHHqI", 0x0A0D0D0A, 28, 0x1A2B3C4D, 1, 0, -1, 28))
	    f.write(struct.pack("<IIHHII", 1, 20, 1, 0, 65535, 20))
	    f.write(rec * 9200 + rec[:50])
PYEOF
T_RC=0
strace -f -qq -e trace=pread64 -o "$T_TMP/strace" "$TW" analyze "$T_TMP/cut.pcapng" \
	>"$T_TMP/out" 2>"$T_TMP/err" </dev/null || T_RC=$?
assert_eq "pcapng cut short: exit 0, truncated, its blocks walked back in 28 reads" \
	"0|Warning: the capture is truncated; the report covers what was read.|28" \
	"$T_RC|$(grep -i truncated "$T_TMP/out")|$(grep -c '^[0-9]* *pread64(' "$T_TMP/strace")"

run_err --help
assert_eq "--help: exit 0" 0 "$T_RC"
assert_contains "--help: usage on stdout" "analyze" "$(cat "$T_TMP/out")"
t_done
