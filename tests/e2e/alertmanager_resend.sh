#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# --alertmanager-resend: how often the agent sends its active alerts again,
# and the endsAt it gives them (3 intervals ahead).
#
# tlswatch run in a network namespace pair with --alertmanager-resend 1 and
# two --alertmanager URLs: the test webhook receiver, which records every
# POST, and a real Alertmanager. A real openssl s_server serves
# expired.test's certificate; one handshake raises its two alerts (expired,
# untrusted).
#   1. The receiver gets them again and again: we wait (at most 30 s) for
#      6 POSTs carrying them, the first and 5 resends (at the default 60 s
#      there would be one); each POST carries both alerts, the same startsAt
#      each time, and an endsAt later than the POST before's.
#   2. Alertmanager lists both alerts active.
#   3. SIGTERM: the agent does not resolve them at exit, so Alertmanager
#      ends them by itself once the endsAt it last had passed: 3 s after
#      the last resend. We wait at most 30 s for the list to empty (at the
#      default interval they would stay listed 3 minutes).
# No assertion is on a duration: each wait stops as soon as its count or
# state is reached, and a count is asserted exactly on the POSTs read.
#
# Needs root, prometheus-alertmanager. TAP output; exits non-zero on any
# failure. Everything started is stopped and everything created removed on
# every exit path.
set -u
. "$(dirname "$0")/lib.sh"          # cd to the top; ok/not_ok; T_TMP
. tests/e2e/lib_prom.sh             # am_*, hook_*
. tests/e2e/lib_netns.sh            # tn_* (its EXIT trap: prom_live_traps)

prom_live_traps

t_require_tlswatch
if [ "$(id -u)" -ne 0 ]; then
	ok "--alertmanager-resend # SKIP needs root (network namespaces, eBPF)"
	t_done
fi

RESENDS=5   # besides the first POST
pki=tests/data/pki
tmp=$(tn_tmpdir)
tn_setup amr
tn_start_s_server "$tmp/server.log" -cert "$pki/expired.test.crt" \
	-key "$pki/expired.test.key" -cert_chain "$pki/inter.crt"

hook_start || { not_ok "the recording receiver starts"; t_done; }
am_start || { not_ok "Alertmanager starts"; t_done; }
ok "a recording receiver on $HOOK_URL, Alertmanager on $AM_ADDR"

if ! tn_start_agent "$tmp/agent.jsonl" --alertmanager "$HOOK_URL/am" \
	--alertmanager "$AM_URL" --alertmanager-resend 1 --instance edge-resend \
	--db "$tmp/agent.db" --ca-file "$pki/root.crt" --no-active-check \
	--no-online --no-metrics; then
	not_ok "tlswatch run starts with --alertmanager-resend 1"
	t_done
fi
ok "tlswatch run starts with --alertmanager-resend 1"

sha=$(openssl x509 -in "$pki/expired.test.crt" -outform DER | sha256sum | cut -d' ' -f1)

# posts: one line per POST the receiver got carrying our alerts for the
# certificate, in order: "KINDS STARTSAT ENDSAT" (kinds sorted, comma-
# joined; startsAt and endsAt the expired alert's).
posts() {
	"$PY" - "$HOOK_OUT" "$sha" <<'EOF'
import json, os, sys
out, sha = sys.argv[1], sys.argv[2]
if not os.path.exists(out):
    sys.exit(0)
for line in open(out):
    rec = json.loads(line)
    if rec["path"] != "/am/api/v2/alerts":
        continue
    ours = [a for a in json.loads(rec["body"])
            if a["labels"].get("instance") == "edge-resend"
            and a["labels"].get("sha256") == sha]
    if not ours:
        continue
    kinds = ",".join(sorted(a["labels"]["kind"] for a in ours))
    exp = [a for a in ours if a["labels"]["kind"] == "expired"] or ours
    print(kinds, exp[0]["startsAt"], exp[0]["endsAt"])
EOF
}
# listed: the sorted kinds of our alerts Alertmanager lists active.
listed() {
	am_alerts | "$PY" -c '
import json, sys
print(" ".join(sorted(a["labels"]["kind"] for a in json.load(sys.stdin)
                      if a["labels"].get("instance") == "edge-resend"
                      and a["status"]["state"] == "active")))'
}
wait_for() { # seconds, command...: until the command succeeds
	local secs=$1
	shift
	for _ in $(seq $((secs * 10))); do
		"$@" && return 0
		sleep 0.1
	done
	"$@"
}
enough_posts() { [ "$(posts | wc -l)" -ge $((RESENDS + 1)) ]; }
none_listed() { [ -z "$(listed)" ]; }

printf 'GET / HTTP/1.0\r\n\r\n' | timeout 10 openssl s_client \
	-connect "$TN_PEER4:443" -tls1_2 -servername expired.test \
	-CAfile "$pki/root.crt" >"$tmp/client.log" 2>&1

# 1. resent every second
wait_for 30 enough_posts
posts | head -n $((RESENDS + 1)) >"$tmp/posts"
assert_eq "1. the receiver got the alerts $((RESENDS + 1)) times (the first POST and $RESENDS resends)" \
	$((RESENDS + 1)) "$(wc -l <"$tmp/posts")"
assert_eq "1. each POST carries both alerts" "expired,untrusted" \
	"$(cut -d' ' -f1 "$tmp/posts" | sort -u | paste -sd' ')"
assert_eq "1. the same alert each time: one startsAt" 1 \
	"$(cut -d' ' -f2 "$tmp/posts" | sort -u | wc -l)"
assert_eq "1. each resend moves endsAt on" "yes" "$("$PY" - "$tmp/posts" <<'EOF'
import datetime, sys
def t(s):
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))
ends = [t(line.split()[2]) for line in open(sys.argv[1])]
print("yes" if all(a < b for a, b in zip(ends, ends[1:])) else "no")
EOF
)"

# 2. the real Alertmanager has them
wait_for 10 test "$(listed)" = "expired untrusted"
assert_eq "2. Alertmanager lists both alerts active" "expired untrusted" "$(listed)"

# 3. the agent stops; Alertmanager ends them at their endsAt (3 s on)
rc=0
tn_stop_agent || rc=$?
TN_AGENT_PID=''
assert_eq "3. SIGTERM: the agent exits 0" 0 "$rc"
wait_for 30 none_listed
assert_eq "3. Alertmanager ends the alerts by itself, 3 resend intervals after the last" \
	"" "$(listed)"

if [ "$T_FAILED" -ne 0 ]; then
	sed 's/^/#   agent stderr: /' "$tmp/agent.jsonl.stderr" | head -20
	posts | sed 's/^/#   post: /' | head -20
fi
t_done
