#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A database that cannot be written while `tlswatch run` is live.
#
# The agent runs in a private mount namespace (unshare -m) where its --db
# lives on a small tmpfs (1 MiB; 8 MiB for the full disk, since its WAL,
# reused only after a checkpoint at 1000 pages, grows again once the fill
# is removed); its JSON log is outside. Real TLS 1.2 handshakes through a
# veth into a test namespace, each with a new SNI (a new inventory row).
# Three faults, each with its own agent:
#   - disk full: the tmpfs is filled (dd until ENOSPC) while it runs; the
#     webhook (a real receiver, lib_prom.sh, answering 503 with
#     Retry-After: 2 until the space is freed) still gets every alert, from
#     an outbox in memory once the file cannot take them, said once; the
#     alerts the file took before the fill are retried no sooner than the
#     Retry-After although the file cannot record their retries; once the
#     fill is removed, within the 5 s probe the alerts kept in memory are
#     moved into the outbox file (said once; rows and claims read with
#     sqlite3), then each is delivered exactly once, under the
#     Idempotency-Key it was first sent with; the event history is written
#     again. Then the disk is filled again with the receiver answering 200:
#     an alert the outbox file held is delivered once although its row
#     cannot be removed, and the row goes once space is freed. No alert of
#     the run is answered 200 twice. Filled a third time, the receiver
#     failing, the agent is stopped: the alerts kept in memory only are
#     said lost (how many), the outbox file's rows kept for the next run;
#   - read-only: the tmpfs is read-only when it starts (a file system
#     cannot be remounted read-only under a database open for writing);
#   - turns read-only: the database lives on an ext4 image (a loop device)
#     mounted errors=remount-ro, and the kernel makes it read-only under
#     the running agent as after an I/O error (ext4's trigger_fs_error):
#     the error event says its file system is read-only. Then the operator's
#     repair: the file system is checked and mounted again at the same
#     path (from a copy of the image; the old mount, which the agent's
#     connection holds, detached lazily); the agent opens the database again by its path (every 5 s
#     while writes fail read-only), says so on stderr, and the names seen
#     afterwards reach the inventory; those from before the fault are
#     intact; the event history (its own connection) is written again.
#     The file there is a new one: the agent leased it (shared) before
#     opening it, and an analyze --db run on it is refused.
#     The webhook receiver answers 500 from the fault to the repair: the
#     alerts kept in memory meanwhile are moved into the outbox file when
#     it is opened again (said once; rows and claims read with sqlite3),
#     then, once it answers 200, each is delivered exactly once.
# During the fault: every handshake is still reported, the agent reports
# the failed write as exactly one `agent` "error" event (not one per
# handshake) and keeps running. When the space (or write access) returns,
# the names seen afterwards reach the inventory (names first seen during the
# fault are not kept for later). The database passes SQLite's
# integrity_check; a read-only one is left byte for byte unchanged.
#
# Needs root, openssl, ip, sqlite3, unshare, nsenter, mkfs.ext4, e2fsck,
# loop devices. TAP output.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
export BUILD
. tests/e2e/lib_netns.sh
. tests/e2e/lib_prom.sh             # hook_start: the webhook receiver

tn_require_root live_disk
tn_require_cmds openssl ip sqlite3 unshare nsenter dd mkfs.ext4 e2fsck findmnt
tn_require_tlswatch
tmp=$(tn_tmpdir)
tn_on_exit prom_cleanup
TW=$(realpath "$BUILD/tlswatch")

tn_setup dsk
tn_make_pki "$tmp/pki"
tn_start_rsa_server "$tmp/pki"

hs() { # sni: one TLS 1.2 handshake (the certificate is seen)
	echo | timeout 5 openssl s_client -connect "$TN_PEER4:443" -servername "$1" \
		-tls1_2 >/dev/null 2>&1
}
in_ns() { # command... in the agent's mount namespace
	nsenter -t "$TN_AGENT_PID" -m "$@"
}
rows_like() { # prefix: inventory rows whose name starts with it
	in_ns sqlite3 "$small/inv.db" "SELECT count(*) FROM served WHERE name LIKE '$1%'" 2>/dev/null
}
errors() { grep -c '"state":"error"' "$log"; }
reported() { # prefix: handshake events with that SNI prefix
	grep '"event":"handshake"' "$log" | grep -c "\"sni\":\"$1"
}
burst() { # prefix, n
	local i
	for i in $(seq "$2"); do hs "$1$i.test" || tn_note "handshake $1$i failed"; done
}

start_agent() { # label, shell commands run first in the mount namespace, [option...]
	local label=$1 setup=$2
	shift 2
	log=$tmp/agent-$label.jsonl
	: >"$log"
	unshare -m --propagation private sh -c "$setup"' && shift && exec "$@"' sh x \
		"$TW" run --iface "$TN_HOST_IF" --port 443 --json-log "$log" --db "$small/inv.db" \
		--webhook "$HOOK_URL/$label" --no-active-check "$@" 2>"$log.stderr" &
	TN_AGENT_PID=$!
	tn_bg "$TN_AGENT_PID"
	tn_wait_grep 15 '"state":"started"' "$log" ||
		{ sed 's/^/#   /' "$log.stderr"; tn_bail "$label: the agent did not start"; }
}
during_fault() { # label
	burst "b-$1-" 20
	tn_wait_cmd 10 sh -c "[ \$(grep '\"event\":\"handshake\"' '$log' | grep -c '\"sni\":\"b-$1-') -ge 20 ]"
	# a negative wait: at least two inventory flushes (every second,
	# HEALTH_INVENTORY_FLUSH_MS), each of which would say a second error;
	# the first, checked next, shows they are said
	sleep 2.5
	tap_eq "$1: every handshake during the fault is reported" 20 "$(reported "b-$1-")"
	tap_eq "$1: exactly one error event" 1 "$(errors)"
	tn_note "$1: $(grep '"state":"error"' "$log" | grep -o '"message":"[^"]*"')"
	kill -0 "$TN_AGENT_PID" 2>/dev/null && tap_ok "$1: the agent keeps running" ||
		tap_fail "$1: the agent keeps running"
}

hook_start || tn_bail "the webhook receiver did not start"
alerted() { # prefix: distinct SNIs with that prefix in webhook bodies
	/usr/bin/python3 - "$HOOK_OUT" "$1" <<-'PYEOF'
	import json, sys
	names = set()
	for line in open(sys.argv[1]):
	    body = json.loads(json.loads(line)["body"])
	    sni = body.get("sni") or ""
	    if sni.startswith(sys.argv[2]):
	        names.add(sni)
	print(len(names))
	PYEOF
}
delivered() { # path, prefix: "answered-200 distinct" webhook bodies with that SNI prefix
	/usr/bin/python3 - "$HOOK_OUT" "$1" "$2" <<-'PYEOF'
	import json, sys
	n, names = 0, set()
	for line in open(sys.argv[1]):
	    rec = json.loads(line)
	    sni = json.loads(rec["body"]).get("sni") or ""
	    if rec["path"] == sys.argv[2] and rec["status"] == 200 and sni.startswith(sys.argv[3]):
	        n += 1
	        names.add(sni)
	print(n, len(names))
	PYEOF
}
outbox_rows() { # prefix: rows of the outbox file whose alert has that SNI prefix
	in_ns sqlite3 "$small/inv.db" "SELECT count(*) FROM outbox WHERE CAST(body AS TEXT) LIKE '%\"sni\":\"$1%'" 2>&1
}
outbox_claims() { # prefix: cooldown claims in the outbox file for names with that prefix
	in_ns sqlite3 "$small/inv.db" "SELECT count(*) FROM outbox_sent WHERE dedup_key LIKE 'cert|$1%'" 2>&1
}
idem_keys() { # path, prefix: "pairs pairs-answered-200", (SNI, Idempotency-Key) pairs of bodies with that SNI prefix
	/usr/bin/python3 - "$HOOK_OUT" "$1" "$2" <<-'PYEOF'
	import json, sys
	keys, ok = set(), set()
	for line in open(sys.argv[1]):
	    rec = json.loads(line)
	    sni = json.loads(rec["body"]).get("sni") or ""
	    if rec["path"] != sys.argv[2] or not sni.startswith(sys.argv[3]):
	        continue
	    key = rec["headers"].get("idempotency-key", "")
	    keys.add((sni, key))
	    if rec["status"] == 200:
	        ok.add((sni, key))
	print(len(keys), len(ok))
	PYEOF
}

left_at_exit() { # path, Idempotency-Keys of the outbox file's rows: "waiting delivered-not-removed in-memory-only"
	/usr/bin/python3 - "$HOOK_OUT" "$@" <<-'PYEOF'
	import json, sys
	sent, ok, in_file = set(), set(), set(sys.argv[3:])
	for line in open(sys.argv[1]):
	    rec = json.loads(line)
	    key = rec["headers"].get("idempotency-key", "")
	    if rec["path"] == sys.argv[2]:
	        sent.add(key)
	        if rec["status"] == 200:
	            ok.add(key)
	print(len(in_file - ok), len(in_file & ok), len(sent - ok - in_file))
	PYEOF
}
answered_twice() { # path: alerts (Idempotency-Keys) answered 200 more than once
	/usr/bin/python3 - "$HOOK_OUT" "$1" <<-'PYEOF'
	import collections, json, sys
	ok = collections.Counter()
	for line in open(sys.argv[1]):
	    rec = json.loads(line)
	    if rec["path"] == sys.argv[2] and rec["status"] == 200:
	        ok[rec["headers"].get("idempotency-key", "")] += 1
	print(sum(1 for n in ok.values() if n > 1))
	PYEOF
}
retry_gaps() { # path, prefix, seconds: "N ok" when each alert's N requests (all) are that far apart, else "N closest GAP"
	/usr/bin/python3 - "$HOOK_OUT" "$1" "$2" "$3" <<-'PYEOF'
	import collections, json, sys
	times = collections.defaultdict(list)
	for line in open(sys.argv[1]):
	    rec = json.loads(line)
	    sni = json.loads(rec["body"]).get("sni") or ""
	    if rec["path"] == sys.argv[2] and sni.startswith(sys.argv[3]):
	        times[rec["headers"].get("idempotency-key", "")].append(rec["received_at"])
	gaps = [b - a for t in times.values() for a, b in zip(sorted(t), sorted(t)[1:])]
	n = sum(len(t) for t in times.values())
	print("%d ok" % n if gaps and min(gaps) >= float(sys.argv[4]) else "%d closest %.3f" % (n, min(gaps or [0])))
	PYEOF
}

# --- disk full while running -------------------------------------------------
small=$tmp/small-full
mkdir -p "$small"
start_agent full "mount -t tmpfs -o size=8m tw-small '$small'" --webhook-retry-max 1
burst a-full- 3
tn_wait_cmd 5 sh -c "[ \"\$(nsenter -t $TN_AGENT_PID -m sqlite3 '$small/inv.db' \"SELECT count(*) FROM served WHERE name LIKE 'a-full-%'\")\" = 3 ]"
tap_eq "full: before the fault, the names reach the inventory" 3 "$(rows_like a-full-)"
for i in $(seq 50); do [ "$(delivered /full a-full-)" = "3 3" ] && break; sleep 0.2; done
tap_eq "full: before the fault, the alerts are delivered" "3 3" "$(delivered /full a-full-)"
hook_mode "retry-after 2"          # the receiver answers 503 until the space is freed
burst x-full- 2                    # in the outbox file, retried when it fills
for i in $(seq 50); do [ "$(alerted x-full-)" -ge 2 ] && break; sleep 0.2; done
tap_eq "full: before the fill, the receiver is asked to retry later" 2 "$(alerted x-full-)"
in_ns dd if=/dev/zero of="$small/fill" bs=4k 2>/dev/null
tap_eq "full: the tmpfs is full" 0 "$(in_ns df --output=avail -k "$small" | tail -1 | tr -d ' ')"
during_fault full
tap_check "full: the error says the disk is full" grep -q '"state":"error".*disk is full' "$log"
for i in $(seq 50); do [ "$(alerted b-full-)" -ge 20 ] && break; sleep 0.2; done
tap_eq "full: every name seen during the fault is alerted by webhook (outbox in memory)" 20 "$(alerted b-full-)"
tap_eq "full: the failed outbox writes are said once on stderr, until the file takes data" 1 \
	"$(grep -c 'new alerts are kept in memory until the file can be written again' "$log.stderr")"
tap_eq "full: nothing is delivered while the receiver fails" "0 0" "$(delivered /full b-full-)"
for i in $(seq 40); do              # 3 requests each: 2 retries on the full disk
	gaps=$(retry_gaps /full x-full- 1.9)
	[ "${gaps%% *}" -ge 6 ] && break
	sleep 0.2
done
tap_check "full: the alerts in the file are retried after Retry-After, not every tick ($gaps)" \
	test "${gaps#* }" = ok
tap_eq "full: the alerts of the fault are not in the outbox file" 0 "$(outbox_rows b-full-)"
before=$(in_ns sqlite3 "$small/inv.db" 'SELECT count(*) FROM outbox' 2>&1)
tn_note "full: in the outbox file before the space is freed: $(in_ns sqlite3 "$small/inv.db" \
	"SELECT group_concat(json_extract(CAST(body AS TEXT), '\$.event'), ' ') FROM outbox" 2>&1)"
freed_us=$(date +%s%6N)            # the alerts' created_us: the same wall clock
in_ns rm -f "$small/fill"
tn_wait_grep 15 "webhook outbox $small/inv.db: writable again" "$log.stderr"
tap_eq "full: once space is freed, the outbox file takes the alerts again, said once" 1 \
	"$(grep -c "webhook outbox $small/inv.db: writable again; [0-9]* alerts\{0,1\} kept in memory moved into it" "$log.stderr")"
tn_note "full: $(grep "webhook outbox $small/inv.db: writable again" "$log.stderr")"
moved=$(sed -n "s|.*webhook outbox $small/inv.db: writable again; \([0-9]*\) alerts\{0,1\} kept in memory moved into it|\1|p" "$log.stderr")
tap_eq "full: the outbox file holds the alerts said moved besides its own (none is delivered yet)" \
	"$((before + moved))" \
	"$(in_ns sqlite3 "$small/inv.db" "SELECT count(*) FROM outbox WHERE created_us < $freed_us" 2>&1)"
tn_note "full: raised since: $(in_ns sqlite3 "$small/inv.db" \
	"SELECT group_concat(json_extract(CAST(body AS TEXT), '\$.event'), ' ') FROM outbox WHERE created_us >= $freed_us" 2>&1)"
tap_eq "full: the alerts of the fault are in the outbox file" 20 "$(outbox_rows b-full-)"
tap_eq "full: and their claims (the cooldown holds across a restart)" 20 "$(outbox_claims b-full-)"
tap_eq "full: the memory outbox is said once only" 1 \
	"$(grep -c 'new alerts are kept in memory' "$log.stderr")"
hook_mode ok
for i in $(seq 75); do [ "$(delivered /full b-full-)" = "20 20" ] && break; sleep 0.2; done
sleep 2                            # two retries (--webhook-retry-max 1): a repeat would have come
tap_eq "full: once the receiver answers, each is delivered exactly once" "20 20" \
	"$(delivered /full b-full-)"
tap_eq "full: under one Idempotency-Key each, the one it was first sent with" "20 20" \
	"$(idem_keys /full b-full-)"
tap_eq "full: delivered, they leave the outbox file" 0 "$(outbox_rows b-full-)"
for i in $(seq 50); do [ "$(delivered /full x-full-)" = "2 2" ] && break; sleep 0.2; done
tap_eq "full: the alerts the file held through the fault are delivered once each" "2 2" \
	"$(delivered /full x-full-)"
tap_eq "full: so are those delivered before it" "3 3" "$(delivered /full a-full-)"
burst c-full- 3
tn_wait_cmd 5 sh -c "[ \"\$(nsenter -t $TN_AGENT_PID -m sqlite3 '$small/inv.db' \"SELECT count(*) FROM served WHERE name LIKE 'c-full-%'\")\" = 3 ]"
tap_eq "full: when the space returns, new names reach the inventory" 3 "$(rows_like c-full-)"
tn_note "full: names first seen during the fault that are in the inventory: $(rows_like b-full-) of 20"
tn_wait_grep 5 "event history: written again after" "$log.stderr"
tn_note "full: $(grep 'event history' "$log.stderr" | tr '\n' '|')"
tap_check "full: the event history is written again (its own connection, no reopen)" \
	grep -q "event history: written again after [0-9]* failed writes" "$log.stderr"
for i in $(seq 50); do [ "$(delivered /full c-full-)" = "3 3" ] && break; sleep 0.2; done
tap_eq "full: the alerts after the fault are delivered" "3 3" "$(delivered /full c-full-)"
tap_eq "full: still exactly one error event" 1 "$(errors)"
tap_eq "full: the database passes integrity_check" ok \
	"$(in_ns sqlite3 "$small/inv.db" 'PRAGMA integrity_check' 2>&1)"
# filled again, now with the receiver answering 200: the alerts the file
# holds are delivered, and the full disk refuses to remove their rows
hook_mode "retry-after 2"
burst y-full- 2                    # in the outbox file, retried in 2 s
for i in $(seq 50); do [ "$(alerted y-full-)" -ge 2 ] && break; sleep 0.2; done
in_ns dd if=/dev/zero of="$small/fill" bs=4k 2>/dev/null
hook_mode ok
for i in $(seq 40); do [ "$(delivered /full y-full-)" = "2 2" ] && break; sleep 0.2; done
sleep 1.5                          # six ticks (SINK_TICK_MS, 250 ms): a repeat would have come
tap_eq "full, filled again: a delivered alert whose row cannot be removed is not sent again" \
	"2 2" "$(delivered /full y-full-)"
in_ns rm -f "$small/fill"
burst z-full- 1                    # a write: the removals go with it (or with the probe's move)
for i in $(seq 75); do [ "$(outbox_rows y-full-)" = 0 ] && break; sleep 0.2; done
tap_eq "full, freed again: their rows leave the outbox file" 0 "$(outbox_rows y-full-)"
tap_eq "full: no alert of the run is answered 200 twice, across both fills" 0 "$(answered_twice /full)"
# filled a third time, the receiver failing, and stopped so: what only
# memory holds is lost, and said so apart from the file's rows
hook_mode fail
in_ns dd if=/dev/zero of="$small/fill" bs=4k 2>/dev/null
burst w-full- 2
for i in $(seq 50); do [ "$(alerted w-full-)" -ge 2 ] && break; sleep 0.2; done
sleep 0.5                          # the last answers are taken
read -r waiting unremoved lost <<<"$(left_at_exit /full \
	$(in_ns sqlite3 "$small/inv.db" 'SELECT idem_key FROM outbox'))"
tn_note "full, at exit: in the outbox file $waiting waiting and $unremoved delivered; $lost in memory only"
tn_stop_agent
tap_eq "full: SIGTERM, exit 0" 0 "$?"
tn_note "full: $(grep 'webhook: [0-9]' "$log.stderr" | tr '\n' '|')"
said() { # pattern, count: 1 line on stderr when count > 0, else none
	tap_eq "$1" "$([ "$3" -gt 0 ] && echo 1 || echo 0)" \
		"$(grep -c "^tlswatch run: webhook: $3 alerts\{0,1\} $2" "$log.stderr")"
}
said "full: at exit, the alerts in memory only are said lost, with their number" \
	"not delivered yet kept in memory only (the outbox file could not take them); they are lost$" "$lost"
said "full: the outbox file's rows are said kept for the next run" \
	"not delivered yet; they stay in the outbox for the next run$" "$waiting"
said "full: its delivered rows not removed are said sent again" \
	"delivered (or refused) but not removed from the outbox file (.*); the next run sends \\(it\\|them\\) again" "$unremoved"
tap_check "full: some alerts are lost at exit (the case is exercised)" test "$lost" -gt 0
hook_mode ok

# --- a read-only database ----------------------------------------------------
# (a file system cannot be remounted read-only under a database open for
# writing, so the agent starts with it read-only, as after errors=remount-ro)
"$TW" analyze --db "$tmp/seed.db" tests/data/captures/tls12_rsa.pcap >/dev/null 2>&1
seed_rows=$(sqlite3 "$tmp/seed.db" 'SELECT count(*) FROM served')
small=$tmp/small-ro
mkdir -p "$small"
start_agent ro "mount -t tmpfs -o size=1m tw-small '$small' && cp '$tmp/seed.db' '$small/inv.db' && mount -o remount,ro '$small'"
during_fault ro
tap_check "ro: the error says the database is read-only and kept in memory" \
	grep -q '"state":"error".*read-only.*in memory' "$log"
in_ns cat "$small/inv.db" >"$tmp/ro-after.db"
tap_eq "ro: the database is unchanged" "$(sha256sum <"$tmp/seed.db")" "$(sha256sum <"$tmp/ro-after.db")"
tap_eq "ro: the database passes integrity_check" ok \
	"$(sqlite3 "$tmp/ro-after.db" 'PRAGMA integrity_check' 2>&1)"
tap_eq "ro: its rows are all there" "$seed_rows" \
	"$(sqlite3 "$tmp/ro-after.db" 'SELECT count(*) FROM served' 2>&1)"
tn_stop_agent
tap_eq "ro: SIGTERM, exit 0" 0 "$?"

# --- a database that turns read-only while running ---------------------------
img=$tmp/rw2ro.img
truncate -s 16M "$img" && mkfs.ext4 -q -F "$img" || tn_bail "cannot make an ext4 image"
small=$tmp/small-rw2ro
mkdir -p "$small"
start_agent rw2ro "mount -o loop,errors=remount-ro '$img' '$small'" --webhook-retry-max 1
burst a-rw2ro- 3
tn_wait_cmd 5 sh -c "[ \"\$(nsenter -t $TN_AGENT_PID -m sqlite3 '$small/inv.db' \"SELECT count(*) FROM served WHERE name LIKE 'a-rw2ro-%'\")\" = 3 ]"
tap_eq "rw2ro: before the fault, the names reach the inventory" 3 "$(rows_like a-rw2ro-)"
for i in $(seq 50); do [ "$(alerted a-rw2ro-)" -ge 3 ] && break; sleep 0.2; done
tap_eq "rw2ro: before the fault, the alerts are delivered" "3 3" "$(delivered /rw2ro a-rw2ro-)"
in_ns sync -f "$small/inv.db"      # what was written is on the disk
echo fail >"$HOOK_MODE"            # the receiver answers 500 until the repair
dev=$(in_ns findmnt -no SOURCE "$small")
echo "tlswatch live_disk.sh" >"/sys/fs/ext4/${dev##*/}/trigger_fs_error" ||
	tn_bail "cannot make ext4 on $dev fail"
tap_check "rw2ro: the kernel made the file system read-only" \
	in_ns sh -c "! touch '$small/probe' 2>/dev/null"
during_fault rw2ro
tap_check "rw2ro: the error says the file system is read-only" \
	grep -q '"state":"error".*its file system is read-only' "$log"
tap_eq "rw2ro: the outbox's failed write is said once on stderr" 1 \
	"$(grep -c 'new alerts are kept in memory until the file can be written again' "$log.stderr")"
tap_eq "rw2ro: nothing is delivered while the receiver fails" "0 0" "$(delivered /rw2ro b-rw2ro-)"
tap_eq "rw2ro: the database passes integrity_check while read-only" ok \
	"$(in_ns sqlite3 "$small/inv.db" 'PRAGMA integrity_check' 2>&1)"
# the repair: checked, mounted again at the same path; from a copy, since
# mount -o loop would take the loop device of the old mount again, and
# with it the same (read-only) file system
in_ns umount -l "$small"
cp --sparse=always "$img" "$img.repaired" || tn_bail "cannot copy the image"
e2fsck -fy "$img.repaired" >"$tmp/fsck.log" 2>&1
tap_check "rw2ro: e2fsck leaves a clean file system (status 0 or 1)" test "$?" -le 1
in_ns mount -o loop "$img.repaired" "$small" || tn_bail "cannot mount the repaired image"
tn_wait_grep 10 "inventory $small/inv.db: writable again, recording resumed" "$log.stderr"
tap_check "rw2ro: within 5 s the agent says recording resumed" \
	grep -q "inventory $small/inv.db: writable again, recording resumed" "$log.stderr"
tn_wait_grep 15 "webhook outbox $small/inv.db: writable again" "$log.stderr"
tap_eq "rw2ro: the outbox is opened again, said once" 1 \
	"$(grep -c "webhook outbox $small/inv.db: writable again; [0-9]* alerts kept in memory moved into it" "$log.stderr")"
tn_note "rw2ro: $(grep "webhook outbox $small/inv.db: writable again" "$log.stderr")"
tap_eq "rw2ro: the alerts queued in memory during the fault are in the outbox file" 20 "$(outbox_rows b-rw2ro-)"
tap_eq "rw2ro: and their claims (the cooldown holds across a restart)" 20 \
	"$(in_ns sqlite3 "$small/inv.db" "SELECT count(*) FROM outbox_sent WHERE dedup_key LIKE 'cert|b-rw2ro-%'" 2>&1)"
echo ok >"$HOOK_MODE"
for i in $(seq 75); do [ "$(delivered /rw2ro b-rw2ro-)" = "20 20" ] && break; sleep 0.2; done
sleep 2                            # two retries (--webhook-retry-max 1): a repeat would have come
tap_eq "rw2ro: once the receiver answers, each is delivered exactly once" "20 20" \
	"$(delivered /rw2ro b-rw2ro-)"
tap_eq "rw2ro: delivered, they leave the outbox file" 0 "$(outbox_rows b-rw2ro-)"
burst c-rw2ro- 3
tn_wait_cmd 15 sh -c "[ \"\$(nsenter -t $TN_AGENT_PID -m sqlite3 '$small/inv.db' \"SELECT count(*) FROM served WHERE name LIKE 'c-rw2ro-%'\" 2>/dev/null)\" = 3 ]"
tap_eq "rw2ro: once it is writable again, new names reach the inventory" 3 "$(rows_like c-rw2ro-)"
tn_wait_grep 15 "event history $small/inv.db: writable again" "$log.stderr"
tap_check "rw2ro: the event history is written again too" \
	grep -q "event history $small/inv.db: writable again" "$log.stderr"
# the file at the path is a new one (another file system): the agent
# leased it before it opened it (it used to write it without a lease, and
# an analyze --db run was let in beside it)
lease_dev=$(in_ns findmnt -no MAJ:MIN "$small" | tr -d " ")
lease_dev=$(printf '%02x:%02x' "${lease_dev%:*}" "${lease_dev#*:}")
tap_check "rw2ro: the agent holds its shared lease on the repaired file" \
	grep -Eq "^[0-9]+: FLOCK +ADVISORY +READ +$TN_AGENT_PID $lease_dev:$(in_ns stat -c %i "$small/inv.db") " /proc/locks
in_ns "$TW" analyze -q --db "$small/inv.db" "$(realpath tests/data/captures/tls12_rsa.pcap)" \
	>/dev/null 2>"$tmp/rw2ro-analyze.err"
tap_eq "rw2ro: analyze --db on the repaired file is refused beside the agent" \
	"3|tlswatch analyze: $small/inv.db: a running tlswatch agent writes this database; analyze into a copy of it (sqlite3 $small/inv.db '.backup copy.db') or stop the agent for the run" \
	"$?|$(cat "$tmp/rw2ro-analyze.err")"
tap_eq "rw2ro: the names from before the fault are intact" 3 "$(rows_like a-rw2ro-)"
tap_eq "rw2ro: the database passes integrity_check" ok \
	"$(in_ns sqlite3 "$small/inv.db" 'PRAGMA integrity_check' 2>&1)"
tap_eq "rw2ro: still exactly one error event" 1 "$(errors)"
tap_eq "rw2ro: every handshake is reported" 26 "$(grep -c '"event":"handshake"' "$log")"
tn_stop_agent
tap_eq "rw2ro: SIGTERM, exit 0" 0 "$?"

echo "# $TN_TESTS tests, $TN_FAILED failed"
