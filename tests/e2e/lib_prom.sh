# SPDX-License-Identifier: MIT
# shellcheck shell=bash disable=SC2034  # the variables set here are outputs
# A real Prometheus, a real Alertmanager and the test webhook receiver
# (tests/e2e/lib/webhook_receiver.py) on 127.0.0.1, for end-to-end tests
# (sourced, not run: not executable, so tests/run.sh does not take it for a
# test). Needs curl, python3, and prometheus / prometheus-alertmanager
# (Debian packages; make deps).
#
#   . tests/e2e/lib_prom.sh
#   trap 'prom_cleanup' EXIT            # the caller owns the trap
#   trap 'exit 130' INT; trap 'exit 143' TERM
#   hook_start                          # -> HOOK_URL, HOOK_OUT, ...
#   am_start -w "$HOOK_URL/alertmanager" # -> AM_URL, AM_ADDR, ...
#   prom_start -r deploy/prometheus/tlswatch.rules.yml -a "$AM_ADDR" \
#              127.0.0.1:9733           # -> PROM_URL, ...
#   prom_wait 20 'tlswatch_build_info'  # bounded
#   prom_query 'up'                     # the API's JSON on stdout
#   am_alerts                           # the API's JSON on stdout
#
# Every process started here is stopped by prom_cleanup (SIGTERM, then
# SIGKILL after ~5 s), and every directory it made is removed; it is safe
# to call more than once, and when nothing was started. Every wait is
# bounded. Ports are picked free (bound to port 0 by python3, then
# released); a start that loses the race for its port is retried.
#
# Functions return 0 on success; on failure they print why on stderr (with
# the tail of the process's log) and return 1: they never exit.
#
# Overridable: PROM_BIN (prometheus), AM_BIN (alertmanager or Debian's
# prometheus-alertmanager), PROM_START_SECONDS (30: readiness wait).

PROM_PID='' PROM_PORT='' PROM_URL='' PROM_DIR=''
AM_PID='' AM_PORT='' AM_URL='' AM_ADDR='' AM_DIR=''
HOOK_PID='' HOOK_PORT='' HOOK_URL='' HOOK_OUT='' HOOK_MODE='' HOOK_SECRET=''
HOOK_DIR=''
PROM_LIB_DIRS=()

PROM_PY=${PY:-python3}
[ -z "${PY:-}" ] && [ -x /usr/bin/python3 ] && PROM_PY=/usr/bin/python3
PROM_RECEIVER=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib/webhook_receiver.py

_prom_curl() { # curl args... (loopback only: never through a proxy)
	curl --noproxy '*' -sS -m "${PROM_CURL_SECONDS:-5}" "$@"
}

# A scratch directory removed by prom_cleanup.
_prom_mkdir() { # tag -> path on stdout; caller must add it (no subshell)
	mktemp -d "${TMPDIR:-/tmp}/tlswatch-$1.XXXXXX"
}

# Prints a TCP port on 127.0.0.1 that was free a moment ago.
prom_free_port() {
	"$PROM_PY" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# Stops one process started here: SIGTERM, up to ~5 s, then SIGKILL.
prom_stop_pid() { # pid
	local pid=$1 i
	[ -n "$pid" ] || return 0
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null
		for i in $(seq 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
	return 0
}

# Waits (at most SECONDS) until URL answers 200, as long as PID lives.
# 0: ready; 1: timeout; 2: the process exited.
_prom_wait_ready() { # seconds, pid, url
	local secs=$1 pid=$2 url=$3 i
	for i in $(seq $((secs * 5))); do
		kill -0 "$pid" 2>/dev/null || return 2
		_prom_curl -f -o /dev/null -m 1 "$url" 2>/dev/null && return 0
		sleep 0.2
	done
	return 1
}

_prom_log_tail() { # label, log file
	echo "lib_prom: $1; its log ends with:" >&2
	tail -n 15 "$2" 2>/dev/null | sed 's/^/lib_prom:   /' >&2
}

_prom_yaml_str() { # string -> a double-quoted YAML scalar
	local s=${1//\\/\\\\}
	printf '"%s"' "${s//\"/\\\"}"
}

# --- Prometheus ------------------------------------------------------------

# prom_start [-r RULES_FILE]... [-a ALERTMANAGER_HOST:PORT] [-j JOB]
#            [-p METRICS_PATH] TARGET...
# Starts Prometheus on 127.0.0.1:PORT scraping TARGETs (host:port) every
# second under job JOB (default tlswatch), evaluating RULES_FILEs every
# second and sending alerts to ALERTMANAGER. Waits for /-/ready.
# Sets PROM_PID, PROM_PORT, PROM_URL (http://127.0.0.1:PORT), PROM_DIR
# (config prometheus.yml, log prometheus.log, data/).
prom_start() {
	local OPTIND opt rules=() am='' job=tlswatch path=/metrics t r try rc
	local bin=${PROM_BIN:-prometheus}
	while getopts 'r:a:j:p:' opt; do
		case $opt in
		r) rules+=("$(realpath "$OPTARG")") ;;
		a) am=$OPTARG ;;
		j) job=$OPTARG ;;
		p) path=$OPTARG ;;
		*) echo "lib_prom: prom_start: bad option" >&2; return 1 ;;
		esac
	done
	shift $((OPTIND - 1))
	[ $# -gt 0 ] || { echo "lib_prom: prom_start: no target" >&2; return 1; }
	command -v "$bin" >/dev/null 2>&1 ||
		{ echo "lib_prom: $bin missing (make deps installs it)" >&2; return 1; }
	[ -z "$PROM_PID" ] || { echo "lib_prom: Prometheus already started" >&2; return 1; }
	PROM_DIR=$(_prom_mkdir prom) || return 1
	PROM_LIB_DIRS+=("$PROM_DIR")
	{
		echo "global:"
		echo "  scrape_interval: 1s"
		echo "  scrape_timeout: 1s"
		echo "  evaluation_interval: 1s"
		if [ ${#rules[@]} -gt 0 ]; then
			echo "rule_files:"
			for r in "${rules[@]}"; do echo "  - $(_prom_yaml_str "$r")"; done
		fi
		echo "scrape_configs:"
		echo "  - job_name: $(_prom_yaml_str "$job")"
		echo "    metrics_path: $(_prom_yaml_str "$path")"
		echo "    static_configs:"
		echo "      - targets:"
		for t in "$@"; do echo "          - $(_prom_yaml_str "$t")"; done
		if [ -n "$am" ]; then
			echo "alerting:"
			echo "  alertmanagers:"
			echo "    - static_configs:"
			echo "        - targets: [$(_prom_yaml_str "$am")]"
		fi
	} >"$PROM_DIR/prometheus.yml"
	for try in 1 2 3; do
		PROM_PORT=$(prom_free_port) || return 1
		"$bin" --config.file="$PROM_DIR/prometheus.yml" \
			--storage.tsdb.path="$PROM_DIR/data" \
			--web.listen-address="127.0.0.1:$PROM_PORT" \
			--log.level=warn >"$PROM_DIR/prometheus.log" 2>&1 &
		PROM_PID=$!
		PROM_URL=http://127.0.0.1:$PROM_PORT
		_prom_wait_ready "${PROM_START_SECONDS:-30}" "$PROM_PID" "$PROM_URL/-/ready"
		rc=$?
		[ "$rc" -eq 0 ] && return 0
		prom_stop_pid "$PROM_PID"
		PROM_PID=''
		# lost the port to someone else: try another one
		[ "$rc" -eq 2 ] && grep -q 'address already in use' "$PROM_DIR/prometheus.log" &&
			continue
		break
	done
	_prom_log_tail "Prometheus did not become ready on 127.0.0.1:$PROM_PORT" \
		"$PROM_DIR/prometheus.log"
	return 1
}

# prom_query EXPR: the JSON answer of /api/v1/query on stdout; non-zero
# status if Prometheus cannot be reached or answers an error.
prom_query() { # expr
	_prom_curl -f -G --data-urlencode "query=$1" "$PROM_URL/api/v1/query"
}

# prom_values EXPR: one line per series of the result, "VALUE {labels}"
# with labels as sorted JSON (the metric name as __name__ when kept).
prom_values() { # expr
	prom_query "$1" | "$PROM_PY" -c '
import json, sys
d = json.load(sys.stdin)
if d.get("status") != "success":
    sys.exit(1)
for r in d["data"]["result"]:
    print(r["value"][1], json.dumps(r["metric"], sort_keys=True))'
}

# prom_wait SECONDS EXPR: waits until EXPR has at least one series (checked
# every 0.5 s, for at most SECONDS). 0 when it does, 1 on timeout.
prom_wait() { # seconds, expr
	local secs=$1 expr=$2 i
	for i in $(seq $((secs * 2))); do
		[ -n "$(prom_values "$expr" 2>/dev/null)" ] && return 0
		sleep 0.5
	done
	[ -n "$(prom_values "$expr" 2>/dev/null)" ]
}

# --- Alertmanager ----------------------------------------------------------

# am_start [-c CONFIG | -w WEBHOOK_URL]
# Starts Alertmanager on 127.0.0.1:PORT, clustering off. Without -c, a
# config routing every alert to WEBHOOK_URL (send_resolved, group_wait 1s,
# group_interval 1s, repeat_interval 1h, grouped by alertname and
# instance), or to a receiver that sends nothing without -w.
# Sets AM_PID, AM_PORT, AM_ADDR (127.0.0.1:PORT, for prom_start -a),
# AM_URL (http://AM_ADDR), AM_DIR (alertmanager.yml, alertmanager.log).
am_start() {
	local OPTIND opt conf='' hook='' try rc bin=${AM_BIN:-}
	while getopts 'c:w:' opt; do
		case $opt in
		c) conf=$(realpath "$OPTARG") ;;
		w) hook=$OPTARG ;;
		*) echo "lib_prom: am_start: bad option" >&2; return 1 ;;
		esac
	done
	if [ -z "$bin" ]; then
		if command -v alertmanager >/dev/null 2>&1; then
			bin=alertmanager
		else
			bin=prometheus-alertmanager   # Debian's name
		fi
	fi
	command -v "$bin" >/dev/null 2>&1 ||
		{ echo "lib_prom: $bin missing (make deps installs it)" >&2; return 1; }
	[ -z "$AM_PID" ] || { echo "lib_prom: Alertmanager already started" >&2; return 1; }
	AM_DIR=$(_prom_mkdir am) || return 1
	PROM_LIB_DIRS+=("$AM_DIR")
	if [ -z "$conf" ]; then
		conf=$AM_DIR/alertmanager.yml
		{
			echo "route:"
			echo "  receiver: test"
			echo "  group_by: [alertname, instance]"
			echo "  group_wait: 1s"
			echo "  group_interval: 1s"
			echo "  repeat_interval: 1h"
			echo "receivers:"
			echo "  - name: test"
			if [ -n "$hook" ]; then
				echo "    webhook_configs:"
				echo "      - url: $(_prom_yaml_str "$hook")"
				echo "        send_resolved: true"
			fi
		} >"$conf"
	fi
	for try in 1 2 3; do
		AM_PORT=$(prom_free_port) || return 1
		"$bin" --config.file="$conf" \
			--storage.path="$AM_DIR/data" \
			--web.listen-address="127.0.0.1:$AM_PORT" \
			--cluster.listen-address= \
			--log.level=warn >"$AM_DIR/alertmanager.log" 2>&1 &
		AM_PID=$!
		AM_ADDR=127.0.0.1:$AM_PORT
		AM_URL=http://$AM_ADDR
		_prom_wait_ready "${PROM_START_SECONDS:-30}" "$AM_PID" "$AM_URL/-/ready"
		rc=$?
		[ "$rc" -eq 0 ] && return 0
		prom_stop_pid "$AM_PID"
		AM_PID=''
		[ "$rc" -eq 2 ] && grep -q 'address already in use' "$AM_DIR/alertmanager.log" &&
			continue
		break
	done
	_prom_log_tail "Alertmanager did not become ready on 127.0.0.1:$AM_PORT" \
		"$AM_DIR/alertmanager.log"
	return 1
}

# am_alerts: the JSON list of /api/v2/alerts (active, silenced, inhibited)
# on stdout.
am_alerts() {
	_prom_curl -f "$AM_URL/api/v2/alerts"
}

# am_post_alerts JSON: posts a JSON list of alerts to /api/v2/alerts.
am_post_alerts() { # json
	_prom_curl -f -o /dev/null -H 'Content-Type: application/json' \
		--data-binary "$1" "$AM_URL/api/v2/alerts"
}

# --- the webhook receiver --------------------------------------------------

# hook_start [-p PORT] [-s SECRET_FILE] [-g HANG_SECONDS] [-m MAX_SECONDS]
#            [-c CERT_FILE -k KEY_FILE]
# Starts tests/e2e/lib/webhook_receiver.py on 127.0.0.1 (PORT, or a free
# one). The first start makes HOOK_DIR with the record file HOOK_OUT
# (hook.jsonl) and the mode file HOOK_MODE ("ok"); a restart (hook_stop,
# then hook_start -p "$HOOK_PORT") keeps appending to the same files.
# Sets HOOK_PID, HOOK_PORT, HOOK_URL (http://127.0.0.1:PORT, no path: any
# path is accepted and recorded; https://... with -c and -k, which serve
# that PEM certificate and key).
hook_start() {
	local OPTIND opt port=0 secret='' hang=60 max=300 i cert='' key=''
	while getopts 'p:s:g:m:c:k:' opt; do
		case $opt in
		c) cert=$OPTARG ;;
		k) key=$OPTARG ;;
		p) port=$OPTARG ;;
		s) secret=$OPTARG ;;
		g) hang=$OPTARG ;;
		m) max=$OPTARG ;;
		*) echo "lib_prom: hook_start: bad option" >&2; return 1 ;;
		esac
	done
	[ -z "$HOOK_PID" ] || { echo "lib_prom: receiver already running" >&2; return 1; }
	if [ -z "$HOOK_DIR" ]; then
		HOOK_DIR=$(_prom_mkdir hook) || return 1
		PROM_LIB_DIRS+=("$HOOK_DIR")
		HOOK_OUT=$HOOK_DIR/hook.jsonl
		HOOK_MODE=$HOOK_DIR/mode
		echo ok >"$HOOK_MODE"
	fi
	HOOK_SECRET=$secret
	: >"$HOOK_DIR/stdout"
	"$PROM_PY" "$PROM_RECEIVER" --port "$port" --out "$HOOK_OUT" \
		--mode-file "$HOOK_MODE" ${secret:+--secret "$secret"} \
		--hang-seconds "$hang" --max-seconds "$max" \
		${cert:+--tls-cert "$cert"} ${key:+--tls-key "$key"} \
		>"$HOOK_DIR/stdout" 2>>"$HOOK_DIR/stderr" &
	HOOK_PID=$!
	for i in $(seq 100); do   # the port line: at most 10 s
		HOOK_PORT=$(head -n 1 "$HOOK_DIR/stdout")
		[ -n "$HOOK_PORT" ] && break
		kill -0 "$HOOK_PID" 2>/dev/null || break
		sleep 0.1
	done
	if [ -z "$HOOK_PORT" ]; then
		prom_stop_pid "$HOOK_PID"
		HOOK_PID=''
		_prom_log_tail "the webhook receiver did not start" "$HOOK_DIR/stderr"
		return 1
	fi
	HOOK_URL=http${cert:+s}://127.0.0.1:$HOOK_PORT
}

# hook_mode MODE: ok | fail | hang | reject | "retry-after N"; applies from
# the next request on.
hook_mode() { # mode
	printf '%s\n' "$1" >"$HOOK_MODE.tmp" && mv "$HOOK_MODE.tmp" "$HOOK_MODE"
}

# hook_stop: stops the receiver (connections to HOOK_PORT are refused until
# hook_start -p "$HOOK_PORT").
hook_stop() {
	prom_stop_pid "$HOOK_PID"
	HOOK_PID=''
}

# hook_count: the number of requests recorded so far.
hook_count() {
	if [ -f "$HOOK_OUT" ]; then wc -l <"$HOOK_OUT"; else echo 0; fi
}

# hook_wait SECONDS N: waits until at least N requests were recorded.
hook_wait() { # seconds, n
	local i
	for i in $(seq $(($1 * 10))); do
		[ "$(hook_count)" -ge "$2" ] && return 0
		sleep 0.1
	done
	[ "$(hook_count)" -ge "$2" ]
}

# --- cleanup ---------------------------------------------------------------

# For a test with a live agent (lib_netns.sh, TN_AGENT_PID) beside what is
# started here: its EXIT trap (prom_live_traps sets it, and INT and TERM
# exit through it). Stops the agent, then all of prom_cleanup, removes
# T_TMP, and ends in tn_cleanup (namespaces, veths, registered pids), which
# exits with the test's status: 1 when a check failed.
prom_live_cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	[ -n "$TN_AGENT_PID" ] && tn_stop_pid "$TN_AGENT_PID" TERM
	prom_cleanup
	rm -rf "$T_TMP"
	[ "$rc" -eq 0 ] && [ "$T_FAILED" -ne 0 ] && rc=1
	(exit "$rc")
	tn_cleanup
}
prom_live_traps() {
	trap prom_live_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

# Stops everything started here and removes every directory made here.
# Register it in the caller's EXIT trap.
prom_cleanup() {
	local d
	prom_stop_pid "$PROM_PID"
	prom_stop_pid "$AM_PID"
	prom_stop_pid "$HOOK_PID"
	PROM_PID='' AM_PID='' HOOK_PID=''
	for d in "${PROM_LIB_DIRS[@]}"; do
		case $d in
		"${TMPDIR:-/tmp}"/tlswatch-*) rm -rf -- "$d" ;;
		esac
	done
	PROM_LIB_DIRS=()
	PROM_DIR='' AM_DIR='' HOOK_DIR=''
	return 0
}
