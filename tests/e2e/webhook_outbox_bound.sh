#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# --webhook-outbox-max, and a spike's "firing" the bound dropped unsent
# whose mark a SIGHUP moves to the URL given now (outbox schema 5): the
# "resolved" raised later is not sent there alone.
#
# tlswatch run in a network namespace pair, its webhooks from a --config
# file (--webhook-events spike), --db, --spike-window 10
# --spike-min-failures 2; openssl s_server (rsa.test) in the
# namespace, clients that do not know its CA (unknown_ca: failures). Two
# real receivers (tests/e2e/lib/webhook_receiver.py) on 127.0.0.1:
#   1. A answers 200: a burst of failures fires K scopes, A gets the K
#      firings; then A answers 500: the K "resolved" stay in the outbox,
#      retried;
#   2. the file sets webhook-outbox-max K+1, SIGHUP; a second burst fires
#      the same K scopes: each firing is held behind its scope's resolved
#      (order), and each one past the bound drops the oldest of them,
#      never tried: K rows of resolved and 1 firing stay, and K-1 marks
#      of the firings dropped, for A;
#   3. A answers 200 again: every row is delivered, the K-1 marks stay;
#   4. the file names B instead of A, SIGHUP: the K-1 marks name B, under
#      the same keys, none A;
#   5. the second episode resolves: B is sent the one resolved whose
#      firing was not dropped, no other; no mark and no row is left.
#
# Needs root. TAP output; exits non-zero on any failure. Everything started
# is stopped and everything created removed on every exit path.
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
export BUILD
. tests/e2e/lib_netns.sh

tn_require_root webhook_outbox_bound
tn_require_cmds ip openssl
tn_require_tlswatch

PY=/usr/bin/python3
export PY
tmp=$(tn_tmpdir)
pki=$tmp/pki
tn_make_pki "$pki"
tn_setup wob
tn_start_rsa_server "$pki"

# sql QUERY: the outbox file's answer, one row a line, columns by spaces.
sql() { # query
	$PY -c 'import sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=5)
for r in db.execute(sys.argv[2]):
    print(" ".join(str(c) for c in r))' "$tmp/agent.db" "$1"
}
export -f sql
export tmp

# events STATE: the spike events of that state in the agent's log.
events() { # state
	grep -c "\"event\":\"spike\".*\"state\":\"$1\"" "$log"
}

# answered_ok FILE: the requests the receiver recording to FILE answered 200.
answered_ok() { # file
	$PY -c 'import json, sys
print(sum(json.loads(l)["status"] == 200 for l in open(sys.argv[1])))' "$1"
}
export -f answered_ok

# failures N: N handshakes the client fails (it does not know the CA).
failures() { # n
	local i
	for i in $(seq "$1"); do
		timeout 5 openssl s_client -connect "$TN_PEER4:443" -servername rsa.test \
			-tls1_2 -no-CAfile -no-CApath -no-CAstore -verify_return_error \
			</dev/null >/dev/null 2>&1
	done
}

# stable CMD: waits (at most 20 s) until CMD's output is the same twice
# 2 s apart; prints it.
stable() { # command...
	local a b i
	a=$("$@")
	for i in $(seq 10); do
		sleep 2
		b=$("$@")
		[ "$a" = "$b" ] && break
		a=$b
	done
	echo "$b"
}

tn_start_receiver "$tmp" a 0 ok
url_a=http://127.0.0.1:$(head -1 "$tmp/a.port")/a
tn_start_receiver "$tmp" b 0 ok
url_b=http://127.0.0.1:$(head -1 "$tmp/b.port")/b

conf=$tmp/agent.conf
write_conf() { # url, outbox max
	printf 'webhook = %s\nwebhook-events = spike\nwebhook-retry-max = 1\n' "$1" >"$conf"
	printf 'webhook-outbox-max = %s\n' "$2" >>"$conf"
	chmod 600 "$conf"
}
write_conf "$url_a" 10000
log=$tmp/agent.jsonl
tn_start_agent "$log" --config "$conf" --db "$tmp/agent.db" --spike-window 10 \
	--spike-min-failures 2 --no-active-check --no-online --no-metrics -vv ||
	tn_bail "tlswatch run did not start on $TN_HOST_IF"
reloads() {
	grep -c '"state":"config_reloaded"' "$log"
}

# 1. K scopes fire; A gets them; A fails, the K resolved stay queued.
failures 6
k=$(stable events firing)
tap_check "1. a burst of failures fires scopes ($k, 2 or more for a mark)" test "$k" -ge 2
tn_wait_cmd 10 bash -c "[ \$(answered_ok '$tmp/a.jsonl') -ge $k ]" || true
tap_eq "1. A received the $k firings, answered 200" "$k firing" \
	"$($PY -c 'import json, sys
R = [json.loads(l) for l in open(sys.argv[1])]
print(len(R), " ".join(sorted(set(json.loads(r["body"])["state"] for r in R if r["status"] == 200))))' "$tmp/a.jsonl")"
echo fail >"$tmp/a.mode"
tn_wait_count 40 '"event":"spike".*"state":"resolved"' "$log" "$k" || true
tn_wait_cmd 10 bash -c "[ \"\$(sql 'SELECT count(*) FROM outbox WHERE sequel = 1')\" = $k ]" || true
tap_eq "1. the $k resolved are in the outbox for A, nothing else" "$k $k 1" \
	"$(sql "SELECT count(*), sum(sequel), count(DISTINCT target) FROM outbox WHERE target = '$url_a'")"

# 2. A bound of K+1 rows; the second burst: K-1 firings dropped unsent.
write_conf "$url_a" $((k + 1))
kill -HUP "$TN_AGENT_PID"
tn_wait_count 15 '"state":"config_reloaded"' "$log" 1 || true
tap_eq "2. SIGHUP with webhook-outbox-max $((k + 1)): reloaded" 1 "$(reloads)"
failures 6
k2=$(stable events firing)
tap_eq "2. the second burst fires the same number of scopes" $((2 * k)) "$k2"
tn_wait_cmd 10 bash -c "[ \"\$(sql 'SELECT count(*) FROM outbox_orphans')\" = $((k - 1)) ]" || true
tap_eq "2. the outbox holds $k resolved and 1 firing, never tried" "$((k + 1)) $k 1 0" \
	"$(sql "SELECT count(*), sum(sequel), sum(opens), sum(opens * attempts) FROM outbox")"
tap_eq "2. $((k - 1)) marks of firings dropped unsent, all for A" "$((k - 1)) $url_a" \
	"$(sql 'SELECT count(*), group_concat(DISTINCT target) FROM outbox_orphans')"
marks=$(sql 'SELECT order_key, idem_key FROM outbox_orphans ORDER BY order_key')
tap_eq "2. A was sent none of the firings dropped" "" \
	"$(for key in $(printf '%s\n' "$marks" | cut -d' ' -f2); do
		grep -l "\"idempotency-key\": \"$key\"" "$tmp/a.jsonl"; done)"

# 3. A answers again: every row delivered, the marks stay.
echo ok >"$tmp/a.mode"
tn_wait_cmd 15 bash -c "[ \"\$(sql 'SELECT count(*) FROM outbox')\" = 0 ]" || true
tap_eq "3. A answers 200: the outbox is empty, the $((k - 1)) marks stay for A" \
	"0|$marks" \
	"$(sql 'SELECT count(*) FROM outbox')|$(sql "SELECT order_key, idem_key FROM outbox_orphans WHERE target = '$url_a' ORDER BY order_key")"

# 4. B instead of A: the marks follow.
write_conf "$url_b" $((k + 1))
kill -HUP "$TN_AGENT_PID"
tn_wait_count 15 '"state":"config_reloaded"' "$log" 2 || true
tap_eq "4. SIGHUP naming B: reloaded" 2 "$(reloads)"
tap_eq "4. the $((k - 1)) marks name B, under the same alerts; none names A" \
	"$marks|0" \
	"$(sql "SELECT order_key, idem_key FROM outbox_orphans WHERE target = '$url_b' ORDER BY order_key")|$(sql "SELECT count(*) FROM outbox_orphans WHERE target = '$url_a'")"

# 5. The second episode resolves: B gets the one resolved of a firing
# that was not dropped (it went to A), no other.
tn_wait_cmd 40 sh -c "[ \$(grep -c '\"event\":\"spike\".*\"state\":\"resolved\"' '$log') -ge $((2 * k)) ]" || true
tap_eq "5. the second episode resolved its $k scopes" $((2 * k)) "$(events resolved)"
tn_wait_cmd 10 bash -c "[ \"\$(sql 'SELECT count(*) FROM outbox')\" = 0 ] && grep -q . '$tmp/b.jsonl'" || true
sleep 2   # two retries (webhook-retry-max = 1): a request to B would have come
tap_eq "5. B was sent 1 alert, a resolved, answered 200" "1 resolved 200" \
	"$($PY -c 'import json, sys
R = [json.loads(l) for l in open(sys.argv[1])]
print(len(R), " ".join(json.loads(r["body"])["state"] + " " + str(r["status"]) for r in R))' "$tmp/b.jsonl")"
tap_eq "5. no mark and no row is left" "0 0" \
	"$(sql 'SELECT (SELECT count(*) FROM outbox_orphans), (SELECT count(*) FROM outbox)')"

agent_rc=0
tn_stop_agent || agent_rc=$?
tap_eq "the agent exits 0 on SIGTERM" 0 "$agent_rc"
if [ "$TN_FAILED" -ne 0 ]; then
	grep -v libbpf "$log.stderr" | sed 's/^/#   agent stderr: /' | head -30
fi
