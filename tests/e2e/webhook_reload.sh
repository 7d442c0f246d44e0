#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A SIGHUP that replaces the agent's webhook URL: the alerts queued for the
# URL removed go to the URL given now, never to the removed one again.
#
# tlswatch run in a network namespace pair, its webhooks from a --config
# file, --webhook-events agent (the start and a stats report every second
# are the alerts: no traffic needed), --db. Two real receivers
# (tests/e2e/lib/webhook_receiver.py) on 127.0.0.1:
#   1. the file names receiver A, which answers 500: the start is retried,
#      the stats reports wait behind it (the agent's alerts go in order),
#      all in the outbox for A;
#   2. A is stopped (its port refuses); the file names A and B, SIGHUP:
#      B gets the new alerts, A's wait; then the file names B alone,
#      SIGHUP;
#   3. B receives every alert queued for A (by Idempotency-Key), each once
#      and answered 200: those raised before B was given, and not again
#      those it was sent itself; no row of the outbox names A any more;
#   4. A, started again on its port and answering 200, receives nothing;
#   5. the other way round: B stops, the file names A, SIGHUP: applied at
#      once, the replaced sender's drain not run to its 3 s deadline (it
#      waited for rows it no longer sends; told by its -vv message, not
#      by the clock), and says no alert of its own left undelivered (the
#      rows are A's now); A gets B's queued alerts.
#
# Needs root. TAP output; exits non-zero on any failure. Everything started
# is stopped and everything created removed on every exit path.
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
export BUILD
. tests/e2e/lib_netns.sh

tn_require_root webhook_reload
tn_require_cmds ip
tn_require_tlswatch

PY=/usr/bin/python3
tmp=$(tn_tmpdir)
tn_setup whr

start_receiver() { # name, port, mode
	tn_start_receiver "$tmp" "$@"
}

# keys FILE [STATUS]: the sorted distinct Idempotency-Keys of the requests
# FILE recorded (those answered STATUS only, if given), one a line.
keys() { # file, [status]
	$PY - "$1" "${2:-}" <<'EOF'
import json, sys
want = sys.argv[2]
out = set()
for line in open(sys.argv[1]):
    r = json.loads(line)
    if not want or str(r["status"]) == want:
        out.add(r["headers"].get("idempotency-key", "-"))
print("\n".join(sorted(out)))
EOF
}

# rows_for URL: the Idempotency-Keys of the outbox rows that name URL,
# sorted, one a line.
rows_for() { # url
	$PY -c 'import sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=5)
for (k,) in db.execute("SELECT idem_key FROM outbox WHERE target = ? ORDER BY idem_key",
                       (sys.argv[2],)):
    print(k)' "$tmp/agent.db" "$1"
}

start_receiver a 0 fail
a_pid=$RECEIVER_PID
a_port=$(head -1 "$tmp/a.port")
start_receiver b 0 ok
b_pid=$RECEIVER_PID
b_port=$(head -1 "$tmp/b.port")
url_a=http://127.0.0.1:$a_port/a
url_b=http://127.0.0.1:$b_port/b

conf=$tmp/agent.conf
write_conf() { # url...
	printf 'webhook = %s\n' "$@" >"$conf"
	printf 'webhook-events = agent\nwebhook-retry-max = 1\n' >>"$conf"
	chmod 600 "$conf"
}
write_conf "$url_a"
log=$tmp/agent.jsonl
tn_start_agent "$log" --config "$conf" --db "$tmp/agent.db" --stats-interval 1 \
	--no-active-check --no-online --no-metrics -vv ||
	tn_bail "tlswatch run did not start on $TN_HOST_IF"

# 1. A fails: the start is retried; stats reports queue up behind it.
tn_wait_cmd 15 sh -c "[ \$(grep -c . '$tmp/a.jsonl') -ge 2 ]" || true
tn_stop_pid "$a_pid"
export -f rows_for
export PY tmp
tn_wait_cmd 15 bash -c "[ \$(rows_for '$url_a' | grep -c .) -ge 3 ]" || true
tap_eq "1. A answered 500 to every request, all for the agent's start" "500 started" \
	"$($PY -c 'import json, sys
R = [json.loads(l) for l in open(sys.argv[1])]
print(" ".join(sorted(set(str(r["status"]) for r in R))),
      " ".join(sorted(set(json.loads(r["body"])["state"] for r in R))))' "$tmp/a.jsonl")"
tap_check "1. 3 alerts or more queued for A ($(rows_for "$url_a" | grep -c .))" \
	test "$(rows_for "$url_a" | grep -c .)" -ge 3
start_key=$(keys "$tmp/a.jsonl")

# 2. The file names A and B, SIGHUP; then B alone, SIGHUP.
reloads() {
	grep -c '"state":"config_reloaded"' "$log"
}
write_conf "$url_a" "$url_b"
kill -HUP "$TN_AGENT_PID"
tn_wait_cmd 10 sh -c "[ \$(grep -c . '$tmp/b.jsonl') -ge 2 ]" || true
queued=$(rows_for "$url_a")
write_conf "$url_b"
kill -HUP "$TN_AGENT_PID"
tn_wait_count 10 '"state":"config_reloaded"' "$log" 2 || true
tap_eq "2. SIGHUP with A and B in the file, then with B: reloaded, 2 webhooks, then 1" \
	"0 CRLs, 0 expectations, 2 webhooks, 0 Alertmanagers|0 CRLs, 0 expectations, 1 webhook, 0 Alertmanagers" \
	"$($PY -c 'import json, sys
print("|".join(json.loads(l).get("message", "") for l in open(sys.argv[1])
               if json.loads(l).get("state") == "config_reloaded"))' "$log")"
tap_check "2. B was sent alerts while A was given too, before the second SIGHUP ($(keys "$tmp/b.jsonl" | grep -c .))" \
	test "$(keys "$tmp/b.jsonl" | grep -c .)" -ge 2

# 3. Every alert queued for A reaches B (200), once.
missing=$queued
for _ in $(seq 150); do   # at most ~15 s: the retries wait 1 s at most
	missing=$(comm -23 <(printf '%s\n' "$queued") <(keys "$tmp/b.jsonl" 200))
	[ -z "$missing" ] && break
	sleep 0.1
done
tap_eq "3. B received every alert queued for A, answered 200" "" "$missing"
tap_eq "3. each of them once" "" \
	"$($PY - "$tmp/b.jsonl" "$queued" <<'EOF'
import collections, json, sys
seen = collections.Counter(json.loads(l)["headers"].get("idempotency-key")
                           for l in open(sys.argv[1]))
print(" ".join(k for k in sys.argv[2].split() if seen[k] != 1))
EOF
)"
tap_eq "3. among them the start A was offered" "$start_key" \
	"$(printf '%s\n' "$queued" | grep -x "$start_key")"
tap_eq "3. no row of the outbox names A" "" "$(rows_for "$url_a")"

# 4. A back on its port, answering 200: nothing comes.
a_before=$(grep -c . "$tmp/a.jsonl")
start_receiver a "$a_port" ok
sleep 3   # three retries (webhook-retry-max = 1): a retry to A would have come
tap_eq "4. A, answering again on its port, receives nothing" 0 \
	"$(( $(grep -c . "$tmp/a.jsonl") - a_before ))"

# 5. The other way round, to a URL the replaced sender was not given: B
# stops answering, the file names A alone, SIGHUP. The replaced sender
# has no row of its own left to wait for (it waited its 3 s for A's).
tn_stop_pid "$b_pid"
tn_wait_cmd 15 bash -c "[ \$(rows_for '$url_b' | grep -c .) -ge 2 ]" || true
write_conf "$url_a"
queued=$(rows_for "$url_b")
left_said() {
	grep -c 'webhook: [0-9]* alerts\{0,1\} not delivered yet' "$log.stderr"
}
# what a drain that ran to its deadline says (-vv), however long it took
waited_said() {
	grep -c 'webhook: the [0-9]* ms drain is over with alerts still to send' "$log.stderr"
}
said_before=$(left_said)
waited_before=$(waited_said)
kill -HUP "$TN_AGENT_PID"
tn_wait_count 10 '"state":"config_reloaded"' "$log" 3 || true
tap_eq "5. B down, the file names A, SIGHUP: reloaded" 3 "$(reloads)"
tap_eq "5. the replaced sender did not wait for its drain (nothing of its own left to send)" \
	"$waited_before" "$(waited_said)"
# B's rows went to A when its sender opened: the replaced one has none
# left (it once counted A's, the file's every row)
tap_eq "5. the replaced sender says no alert of its own is left undelivered" \
	"$said_before" "$(left_said)"
missing=$queued
for _ in $(seq 150); do
	missing=$(comm -23 <(printf '%s\n' "$queued") <(keys "$tmp/a.jsonl" 200))
	[ -z "$missing" ] && break
	sleep 0.1
done
tap_eq "5. A received every alert queued for B, answered 200" "" "$missing"
tap_eq "5. no row of the outbox names B" "" "$(rows_for "$url_b")"

agent_rc=0
tn_stop_agent || agent_rc=$?
tap_eq "the agent exits 0 on SIGTERM" 0 "$agent_rc"
if [ "$TN_FAILED" -ne 0 ]; then
	sed 's/^/#   agent stderr: /' "$log.stderr" | head -20
fi
