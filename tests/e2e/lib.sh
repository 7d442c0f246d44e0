# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# Helpers for the `tlswatch analyze` end-to-end tests (sourced, not run:
# not executable, so tests/run.sh does not take it for a test).
#
#   . "$(dirname "$0")/lib.sh"
#   t_require_tlswatch
#   check_capture tls12_rsa            # every value of its .expect file
#   assert_eq "name" expected actual
#   t_done                             # exit status: 0 if nothing failed
#
# Prints TAP-style "ok - ..." / "not ok - ..." lines. Temporary files live
# in $T_TMP, removed on exit. JSON is read with python3's json module; every
# event tlswatch writes (run_json's, and any event log left in $T_TMP) is
# validated against docs/events.schema.json by t_done.

set -u
cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 1
BUILD=${BUILD:-build}
TW=$BUILD/tlswatch
CAPS=${TW_CAPTURES:-tests/data/captures}   # another generated set: scripts/make-captures.sh DIR
T_TMP=$(mktemp -d)
# Debian's python3 (scripts/install-deps.sh) starts in a tenth of the time a
# version-manager shim takes; any python3 does.
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
T_FAILED=0
T_TESTS=0
T_RUNS=0
trap 'rm -rf "$T_TMP"' EXIT

ok() { T_TESTS=$((T_TESTS + 1)); echo "ok - $*"; }
not_ok() { # name, [diagnostic lines...]
	local l
	T_TESTS=$((T_TESTS + 1))
	T_FAILED=$((T_FAILED + 1))
	echo "not ok - $1"
	shift
	for l in "$@"; do printf '#   %s\n' "$l"; done
}

assert_eq() { # name, expected, actual
	if [ "$2" == "$3" ]; then
		ok "$1"
	else
		not_ok "$1" "expected: '$2'" "got:      '$3'"
	fi
}

assert_contains() { # name, needle, haystack
	case $3 in
	*"$2"*) ok "$1" ;;
	*) not_ok "$1" "expected to contain: '$2'" "got: '$3'" ;;
	esac
}

assert_true() { # name, command...
	local name=$1
	shift
	if "$@"; then ok "$name"; else not_ok "$name" "failed: $*"; fi
}

# Every event this test left in $T_TMP (run_json keeps each run's), and the
# webhook bodies lib_prom.sh's receiver got, must validate against
# docs/events.schema.json: one check, when there are any.
t_check_events() {
	local out
	out=$("$PY" tests/e2e/lib/check_events.py --tap "$T_TMP" ${HOOK_OUT:+"$HOOK_OUT"}) ||
		T_FAILED=$((T_FAILED + 1))
	[ -z "$out" ] || { T_TESTS=$((T_TESTS + 1)); echo "$out"; }
}

t_done() {
	t_check_events
	echo "# $T_TESTS checks, $T_FAILED failed"
	[ "$T_FAILED" -eq 0 ]
	exit
}

t_require_tlswatch() {
	if [ ! -x "$TW" ]; then
		not_ok "$TW is built (run make)"
		t_done
	fi
	if [ ! -f "$CAPS/tls12_rsa.pcap" ]; then
		not_ok "$CAPS holds the captures (scripts/make-captures.sh $CAPS)"
		t_done
	fi
}

# A database of this tlswatch's schema, made by analyze --db of a committed
# capture, for a test that adds rows of its own (Python's sqlite3).
t_make_db() { # path
	"$TW" analyze -q --db "$1" "$CAPS/tls12_rsa.pcap" >/dev/null
	assert_eq "analyze --db made the database" 0 "$?"
}

# ---- key=value files (.expect, and tlswatch's output flattened alike)

kv_get() { # file, key -> value ("" when absent)
	awk -v k="$2=" 'index($0, k) == 1 { print substr($0, length(k) + 1); exit }' "$1"
}
kv_has() { # file, key
	awk -v k="$2=" 'index($0, k) == 1 { f = 1; exit } END { exit !f }' "$1"
}

# Runs tlswatch analyze --json ARGS..., leaving stdout in $T_TMP/out.json,
# stderr in $T_TMP/err, the exit status in $T_RC and the flattened events
# in $T_TMP/out.kv.
run_json() { # analyze args...
	T_RC=0
	"$TW" analyze --json "$@" >"$T_TMP/out.json" 2>"$T_TMP/err" || T_RC=$?
	tw_flatten "$T_TMP/out.json" >"$T_TMP/out.kv"
	# for t_done's validation: out.json is overwritten by the next run
	mkdir -p "$T_TMP/runs" && cp "$T_TMP/out.json" "$T_TMP/runs/$((++T_RUNS)).json"
}

# Turns JSON lines into key=value lines named like the .expect files:
#   lines, bad_lines (not JSON objects), not_utf8, events.<kind>, last_event
#   hs@<client port>.<field>   (count: handshake events for that port)
#   cert@<sha256>@<sni>.<field>
#   summary.<path>             (nested objects joined with "."), e.g.
#                              summary.outcome_counts.ok
# Lists are comma-joined; alerts as from:level:description:encrypted;
# finding kinds sorted, without "untrusted" (analyze has no trust store).
tw_flatten() { # json file
	"$PY" - "$1" <<-'EOF'
	import json, sys
	raw = open(sys.argv[1], 'rb').read().split(b'\n')
	if raw and raw[-1] == b'':
	    raw.pop()
	out, counts, bad, not_utf8, last = {}, {}, 0, 0, ''
	def s(v):
	    if v is True: return 'true'
	    if v is False: return 'false'
	    if v is None: return ''
	    return str(v)
	def kinds(fs):
	    ks = [f['kind'] for f in fs]
	    return ','.join(sorted(k for k in ks if k != 'untrusted'))
	def put(key, value):
	    out[key] = s(value)
	def flat(prefix, obj):
	    if isinstance(obj, dict):
	        for k, v in obj.items():
	            flat(prefix + '.' + k, v)
	    elif isinstance(obj, list):
	        put(prefix, ','.join(s(x) for x in obj))
	    else:
	        put(prefix, obj)
	for line in raw:
	    try:
	        text = line.decode('utf-8')
	    except UnicodeDecodeError:
	        not_utf8 += 1
	        text = line.decode('utf-8', 'replace')
	    try:
	        ev = json.loads(text)
	        assert isinstance(ev, dict)
	    except Exception:
	        bad += 1
	        continue
	    kind = ev.get('event', '')
	    last = kind
	    counts[kind] = counts.get(kind, 0) + 1
	    if kind == 'handshake':
	        p = 'hs@%s.' % ev.get('client', {}).get('port', '')
	        out[p + 'count'] = str(int(out.get(p + 'count', '0')) + 1)
	        put(p + 'client_ip', ev.get('client', {}).get('ip'))
	        put(p + 'client_port', ev.get('client', {}).get('port'))
	        put(p + 'server_ip', ev.get('server', {}).get('ip'))
	        put(p + 'server_port', ev.get('server', {}).get('port'))
	        for f in ('sni', 'version', 'cipher', 'outcome', 'cert_visible',
	                  'ja4', 'ts', 'source'):
	            put(p + f, ev.get(f))
	        put(p + 'alpn', ','.join(ev.get('alpn', [])))
	        chain = ev.get('chain', [])
	        put(p + 'has_chain', 'chain' in ev)
	        put(p + 'has_staple', 'staple' in ev)
	        put(p + 'chain', ','.join(c.get('sha256', '') for c in chain))
	        put(p + 'serials', ','.join(c.get('serial', '') for c in chain))
	        put(p + 'alerts', ','.join('%s:%s:%s:%s' % (
	            a.get('from'), a.get('level'), a.get('description'),
	            s(a.get('encrypted'))) for a in ev.get('alerts', [])))
	        put(p + 'findings', kinds(ev.get('findings', [])))
	        st = ev.get('staple')
	        put(p + 'staple', st.get('status') if st else '')
	        if st:
	            put(p + 'staple_verified', st.get('verified'))
	            for f in ('this_update', 'next_update', 'produced_at', 'revoked_at'):
	                put(p + 'staple_' + f, st.get(f))
	    elif kind == 'cert':
	        p = 'cert@%s@%s.' % (ev.get('sha256', ''), ev.get('sni', ''))
	        out[p + 'count'] = str(int(out.get(p + 'count', '0')) + 1)
	        for f in ('sha256', 'sni', 'spki_sha256', 'serial', 'subject',
	                  'issuer', 'not_before', 'not_after', 'key', 'observed'):
	            put(p + f, ev.get(f))
	        put(p + 'server_ip', ev.get('server', {}).get('ip'))
	        put(p + 'server_port', ev.get('server', {}).get('port'))
	        put(p + 'san', ','.join(ev.get('san', [])))
	        put(p + 'chain_sha256', ','.join(ev.get('chain_sha256', [])))
	        put(p + 'findings', kinds(ev.get('findings', [])))
	        put(p + 'severities', ','.join(sorted(
	            '%s:%s' % (f.get('kind'), f.get('severity'))
	            for f in ev.get('findings', []) if f.get('kind') != 'untrusted')))
	    elif kind == 'summary':
	        for k, v in ev.items():
	            if k != 'event':
	                flat('summary.' + k, v)
	out['lines'] = str(len(raw))
	out['bad_lines'] = str(bad)
	out['not_utf8'] = str(not_utf8)
	out['last_event'] = last
	for k, v in counts.items():
	    out['events.' + k] = str(v)
	for k, v in out.items():
	    print('%s=%s' % (k, v.replace('\n', '\\n')))
	EOF
}

severity_of() { # finding kind -> severity per events.md
	case $1 in
	stale_staple | expiring_soon | self_signed | weak_key) echo warning ;;
	*) echo critical ;;
	esac
}

# A summary count map (outcome_counts, ...): every key in
# the expectation or the output must agree, a missing key counting as 0.
check_count_map() { # label, expect file, map name
	local label=$1 e=$2 map=$3 k keys want got
	keys=$( { grep -o "^summary\.$map\.[^=]*" "$e"
		grep -o "^summary\.$map\.[^=]*" "$T_TMP/out.kv"; } |
		sed "s/^summary\.$map\.//" | grep -v '^untrusted$' | sort -u)
	for k in $keys; do
		want=$(kv_get "$e" "summary.$map.$k")
		got=$(kv_get "$T_TMP/out.kv" "summary.$map.$k")
		assert_eq "$label: summary $map.$k" "${want:-0}" "${got:-0}"
	done
}

# Compares the output of the last run_json with EXPECT (a .expect file).
check_against() { # label, expect file
	local label=$1 e=$2 o=$T_TMP/out.kv n i port p f want got k sha sni c
	assert_eq "$label: every output line is a JSON object" 0 "$(kv_get "$o" bad_lines)"
	assert_eq "$label: the last event is the summary" summary "$(kv_get "$o" last_event)"
	n=$(kv_get "$e" handshakes)
	got=$(kv_get "$o" events.handshake)
	assert_eq "$label: $n handshake events" "$n" "${got:-0}"
	for ((i = 1; i <= n; i++)); do
		port=$(kv_get "$e" "hs.$i.client_port")
		p="hs@$port"
		assert_eq "$label: hs $i (client port $port) reported once" 1 \
			"$(kv_get "$o" "$p.count")"
		for f in client_ip server_ip server_port sni version cipher outcome \
			chain serials alerts findings staple; do
			want=$(kv_get "$e" "hs.$i.$f")
			got=$(kv_get "$o" "$p.$f")
			assert_eq "$label: hs $i $f" "$want" "$got"
		done
		for f in cert_visible staple_verified; do
			want=$(kv_get "$e" "hs.$i.$f")
			[ -n "$want" ] || continue
			assert_eq "$label: hs $i $f" "$want" "$(kv_get "$o" "$p.$f")"
		done
	done
	n=$(kv_get "$e" certs)
	got=$(kv_get "$o" events.cert)
	assert_eq "$label: $n cert events" "$n" "${got:-0}"
	for ((i = 1; i <= n; i++)); do
		sha=$(kv_get "$e" "cert.$i.sha256")
		sni=$(kv_get "$e" "cert.$i.sni")
		c="cert@$sha@$sni"
		if ! kv_has "$o" "$c.sha256"; then
			not_ok "$label: cert event for ${sha:0:16}... sni $sni" \
				"no cert event with this sha256 and sni"
			continue
		fi
		assert_eq "$label: cert $i once per (leaf, sni, server)" 1 "$(kv_get "$o" "$c.count")"
		for f in spki_sha256 serial not_before not_after san key chain_sha256 findings; do
			assert_eq "$label: cert $i $f" "$(kv_get "$e" "cert.$i.$f")" \
				"$(kv_get "$o" "$c.$f")"
		done
		assert_eq "$label: cert $i observed" passive "$(kv_get "$o" "$c.observed")"
		assert_contains "$label: cert $i subject" "CN=$(kv_get "$e" "cert.$i.subject_cn")" \
			"$(kv_get "$o" "$c.subject")"
		assert_contains "$label: cert $i issuer" "CN=$(kv_get "$e" "cert.$i.issuer_cn")" \
			"$(kv_get "$o" "$c.issuer")"
		want=""
		for k in $(kv_get "$e" "cert.$i.findings" | tr ',' ' '); do
			want="${want:+$want,}$k:$(severity_of "$k")"
		done
		assert_eq "$label: cert $i finding severities" "$want" "$(kv_get "$o" "$c.severities")"
	done
	for f in handshakes certificates leaf_certificates packets flows truncated_file; do
		assert_eq "$label: summary $f" "$(kv_get "$e" "summary.$f")" \
			"$(kv_get "$o" "summary.$f")"
	done
	for k in outcome_counts version_counts alert_counts finding_counts; do
		check_count_map "$label" "$e" "$k"
	done
}

# Analyses one capture of tests/data/captures and checks every value of its
# .expect file. Extra arguments go to tlswatch before the file name.
check_capture() { # expect name (without .expect), [tlswatch args...]
	local name=$1 e=$CAPS/$1.expect file
	shift
	file=$CAPS/$(kv_get "$e" file)
	run_json "$@" "$file"
	assert_eq "$name: exit status" 0 "$T_RC"
	check_against "$name" "$e"
}
