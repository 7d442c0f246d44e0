#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The agent's --json-log when its disk fills, and when it cannot be
# reopened at a SIGHUP.
#
# The log is on a 256 KiB tmpfs (mounted on the test's scratch directory,
# unmounted at exit), most of it taken by a filler file; real TLS 1.2 handshakes
# (openssl s_client to s_server in a test namespace) fill the rest. Then
# the filler goes and more handshakes follow. Asserted: every line of the
# log is one whole JSON event (a write cut short was taken back; lines came
# out cut and joined before), events were lost and counted (events_lost in
# the stopped event, the same number on stderr when writing resumed), the
# handshakes after the space came back are all in the log. Then the log's
# directory is made unwritable and the log moved away: SIGHUP is refused
# (config_refused naming the file), as README says. Needs root. TAP output.
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
export BUILD
. tests/e2e/lib_netns.sh

tn_require_root live_log
tn_require_cmds openssl ip ss timeout mount umount
tn_require_tlswatch

PY=/usr/bin/python3
LIVE=tests/e2e/lib_live.py
tmp=$(tn_tmpdir)
pki=$tmp/pki
tn_make_pki "$pki"
tn_setup llg
tn_start_rsa_server "$pki"

mnt=$tmp/logfs
mkdir "$mnt"
mount -t tmpfs -o size=256k,mode=0700 tw-log "$mnt" || tn_bail "cannot mount a tmpfs"
tn_on_exit "umount -l '$mnt'"
dd if=/dev/zero of="$mnt/filler" bs=1k count=240 2>/dev/null
log=$mnt/agent.jsonl
tn_start_agent "$log" --no-active-check --no-online --no-metrics \
	--db "$tmp/inventory.db" --stats-interval 3600 ||
	tn_bail "tlswatch run did not start"

hs() { # count
	local i
	for i in $(seq "$1"); do
		printf 'GET / HTTP/1.0\r\n\r\n' | timeout 10 openssl s_client -connect "$TN_PEER4:443" \
			-servername rsa.test -tls1_2 >/dev/null 2>&1
	done
}
hs 100
tn_wait_grep 10 'cannot write' "$log.stderr" ||
	tap_fail "the agent says it cannot write the log" "$(tail -3 "$log.stderr")"
rm "$mnt/filler"
before=$(grep -c '"event":"handshake"' "$log")
hs 5
tn_wait_cmd 10 sh -c "[ \$(grep -c '\"event\":\"handshake\"' '$log') -ge $((before + 5)) ]" ||
	tap_fail "the 5 handshakes after the space came back are written" \
		"$before before, $(grep -c '"event":"handshake"' "$log") now"

# --- a log that cannot be reopened -------------------------------------------
mv "$log" "$log.1"
chmod 0500 "$mnt"
kill -HUP "$TN_AGENT_PID"
tn_wait_grep 10 '"state":"config_refused"' "$log.1" ||
	tap_fail "the SIGHUP is refused" "$(tail -2 "$log.1")"
tap_eq "a log that cannot be reopened: the reload is refused, naming it" \
	"--json-log $log: cannot reopen: Permission denied; still writing to the old file" \
	"$($PY "$LIVE" events --log "$log.1" --event agent --field state=config_refused |
		$PY -c 'import json, sys; print(json.loads(sys.stdin.readline())["message"])')"
chmod 0700 "$mnt"
agent_rc=0
tn_stop_agent || agent_rc=$?
tap_eq "agent exits 0 on SIGTERM" 0 "$agent_rc"

tap_eq "every line of the log is one whole JSON event" 0 \
	"$($PY -c 'import json, sys
bad = 0
for line in open(sys.argv[1], "rb"):
    try:
        json.loads(line)
    except ValueError:
        bad += 1
print(bad)' "$log.1")"
lost=$($PY "$LIVE" events --log "$log.1" --event agent --field state=stopped |
	$PY -c 'import json, sys; print(json.loads(sys.stdin.readline())["counters"]["events_lost"])')
tap_check "events were lost while the disk was full: $lost" test "$lost" -gt 0
tap_eq "stderr says how many when writing resumed: the counter's" \
	"written again; $lost events were lost meanwhile" \
	"$(grep -o 'written again; [0-9]* events were lost meanwhile' "$log.stderr")"
tap_eq "the log's handshakes and the lost events account for the 105 handshakes" yes \
	"$([ $(( $(grep -c '"event":"handshake"' "$log.1") + lost )) -ge 105 ] && echo yes)"
if [ "$TN_FAILED" -ne 0 ]; then
	sed 's/^/#   agent stderr: /' "$log.stderr" | head -20
fi
