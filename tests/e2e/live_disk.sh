#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A database that cannot be written while `tlswatch run` is live.
#
# The agent runs in a private mount namespace (unshare -m) where its --db
# lives on a 1 MiB tmpfs; its JSON log is outside. Real TLS 1.2
# handshakes through a veth into a test namespace, each with a new SNI
# (a new inventory row). Two faults, each with its own agent:
#   - disk full: the tmpfs is filled (dd until ENOSPC);
#   - read-only: the tmpfs is remounted read-only.
# During the fault: every handshake is still reported, the agent reports
# the failed write as exactly one `agent` "error" event (not one per
# handshake) and keeps running. When the space (or write access) returns,
# the names seen afterwards reach the inventory. After SIGTERM (exit 0)
# the database passes SQLite's integrity_check.
#
# Needs root, openssl, ip, sqlite3, unshare, nsenter. TAP output.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
export BUILD
. tests/e2e/lib_netns.sh

tn_require_root live_disk
tn_require_cmds openssl ip sqlite3 unshare nsenter dd
tn_require_tlswatch
tmp=$(tn_tmpdir)
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

phase() { # fault: full | ro
	local fault=$1
	small=$tmp/small-$fault
	log=$tmp/agent-$fault.jsonl
	mkdir -p "$small"
	: >"$log"
	unshare -m --propagation private sh -c \
		'mount -t tmpfs -o size=1m tw-small "$1" && shift && exec "$@"' sh "$small" \
		"$TW" run --iface "$TN_HOST_IF" --port 443 --json-log "$log" --db "$small/inv.db" \
		--no-active-check 2>"$log.stderr" &
	TN_AGENT_PID=$!
	tn_bg "$TN_AGENT_PID"
	tn_wait_grep 15 '"state":"started"' "$log" ||
		{ sed 's/^/#   /' "$log.stderr"; tn_bail "$fault: the agent did not start"; }

	burst "a-$fault-" 3
	tn_wait_cmd 5 sh -c "[ \"\$(nsenter -t $TN_AGENT_PID -m sqlite3 '$small/inv.db' \"SELECT count(*) FROM served WHERE name LIKE 'a-$fault-%'\")\" = 3 ]"
	tap_eq "$fault: before the fault, the names reach the inventory" 3 "$(rows_like "a-$fault-")"

	if [ "$fault" = full ]; then
		in_ns dd if=/dev/zero of="$small/fill" bs=4k 2>/dev/null
		tap_eq "full: the tmpfs is full" 0 "$(in_ns df --output=avail -k "$small" | tail -1 | tr -d ' ')"
	else
		in_ns mount -o remount,ro "$small" || tn_bail "cannot remount $small read-only"
	fi
	burst "b-$fault-" 20
	tn_wait_cmd 10 sh -c "[ \$(grep '\"event\":\"handshake\"' '$log' | grep -c '\"sni\":\"b-$fault-') -ge 20 ]"
	sleep 2.5                       # at least two inventory flushes
	tap_eq "$fault: every handshake during the fault is reported" 20 "$(reported "b-$fault-")"
	tap_eq "$fault: exactly one error event for the failed writes" 1 "$(errors)"
	tn_note "$fault: $(grep '"state":"error"' "$log" | grep -o '"message":"[^"]*"')"
	kill -0 "$TN_AGENT_PID" 2>/dev/null && tap_ok "$fault: the agent keeps running" ||
		tap_fail "$fault: the agent keeps running"

	if [ "$fault" = full ]; then
		in_ns rm -f "$small/fill"
	else
		in_ns mount -o remount,rw "$small"
	fi
	burst "c-$fault-" 3
	tn_wait_cmd 5 sh -c "[ \"\$(nsenter -t $TN_AGENT_PID -m sqlite3 '$small/inv.db' \"SELECT count(*) FROM served WHERE name LIKE 'c-$fault-%'\")\" = 3 ]"
	tap_eq "$fault: when the space returns, new names reach the inventory" 3 "$(rows_like "c-$fault-")"
	tn_note "$fault: names of the fault written later: $(rows_like "b-$fault-") of 20"
	tap_eq "$fault: the database passes integrity_check" ok \
		"$(in_ns sqlite3 "$small/inv.db" 'PRAGMA integrity_check' 2>&1)"
	tn_stop_agent
	tap_eq "$fault: SIGTERM, exit 0" 0 "$?"
}

phase full
phase ro
echo "# $TN_TESTS tests, $TN_FAILED failed"
