#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# docs/events.schema.json against the code and the code against it: the
# schema's lists equal the code's (tests/unit/schema_samples.c --lists),
# one key has one type in every event, samples of every event type and
# every name validate, `analyze --json` of every committed capture under
# several option sets validates, and the validator rejects what it must.
# (Every other e2e test validates the JSON it produces too: lib.sh's
# run_json and t_done, lib_netns.sh's cleanup.)
. "$(dirname "$0")/lib.sh"
t_require_tlswatch

CHECK=tests/e2e/lib/check_events.py
SAMPLES=$BUILD/tests/schema_samples
if ! "$PY" -c 'import jsonschema' 2>/dev/null; then
	not_ok "python3-jsonschema is installed (scripts/install-deps.sh)"
	t_done
fi
if ! make --no-print-directory -s "$SAMPLES" >"$T_TMP/make.log" 2>&1; then
	not_ok "building $SAMPLES" "$(tail -5 "$T_TMP/make.log")"
	t_done
fi

# TAP lines of a command, counted as this test's checks.
tap_of() { # command...
	local line
	while IFS= read -r line; do
		case $line in
		"ok - "*) ok "${line#ok - }" ;;
		"not ok - "*) not_ok "${line#not ok - }" ;;
		*) echo "$line" ;;
		esac
	done < <("$@")
}

# validates FILE...: "ok" when every event is valid and there are at least
# MIN; the validator's report otherwise.
validates() { # name, min events, file...
	local name=$1 min=$2 out
	shift 2
	if out=$("$PY" "$CHECK" --min "$min" "$@"); then
		ok "$name: $(tail -n1 <<<"$out")"
	else
		not_ok "$name" "(at least $min events expected)" "$(head -n 12 <<<"$out")"
	fi
}

# rejects NAME, WANT, JSON-LINE: the validator fails on the line and its
# message contains WANT.
rejects() { # name, expected text in the message, line
	local out rc=0
	out=$(printf '%s\n' "$3" | "$PY" "$CHECK" -) || rc=$?
	if [ "$rc" -eq 1 ]; then
		assert_contains "rejects $1" "$2" "$out"
	else
		not_ok "rejects $1" "exit status $rc, expected 1" "$out"
	fi
}

# --- the schema and the code's lists
"$SAMPLES" --lists >"$T_TMP/lists.json" || not_ok "$SAMPLES --lists runs"
tap_of "$PY" "$CHECK" --schema-check "$T_TMP/lists.json"

# --- the reference (events.md, tlswatch-events(5)) names every key of the
# schema, and the schema has every key the code writes (additionalProperties
# false, and every event of the samples and captures below validates): a
# key the reference leaves out fails (ja3 and parse_error of handshake,
# aborted, incomplete and certificate_findings of spike, names and ports
# of agent were left out).
tap_of "$PY" "$CHECK" --doc-check docs/events.md
sed '/^| `ja3` |/d' docs/events.md >"$T_TMP/events-no-ja3.md"
out=$("$PY" "$CHECK" --doc-check "$T_TMP/events-no-ja3.md") &&
	not_ok "a reference without ja3 fails the check" "$out"
assert_contains "a reference without ja3: the key is named" \
	"not ok - events.md documents every key of handshake (28)"$'\n'"#   not in events.md: ['ja3']" "$out"
# The summary's problem_counts reasons: each one named, with the agent
# summary's omissions marked (8 of 21 were left out, and the schema let the
# agent's summary have segments_after_close).
sed -e '/^| `gaps` |/d' -e 's/^| `not_tcp` | captures only |/| `not_tcp` | |/' \
	docs/events.md >"$T_TMP/events-problems.md"
out=$("$PY" "$CHECK" --doc-check "$T_TMP/events-problems.md") &&
	not_ok "a reference without gaps fails the check" "$out"
assert_contains "a reference without gaps, not_tcp unmarked: both named" \
	"not ok - events.md lists every problem_counts reason (21)"$'\n'"#   not in events.md: ['gaps']"$'\n'"#   in events.md, not in the schema: []"$'\n'"#   listed twice: []"$'\n'"#   \"captures only\" where the agent summary disagrees: ['not_tcp']" "$out"

"$SAMPLES" >"$T_TMP/samples.jsonl" || not_ok "$SAMPLES runs"
validates "samples: every event type, finding kind, outcome, scope, problem, counter and STARTTLS protocol" 34 \
	"$T_TMP/samples.jsonl"
assert_eq "samples: events by type" "agent=4 cert=4 handshake=15 spike=10 summary=3" \
	"$("$PY" -c '
import collections, json, sys
c = collections.Counter(json.loads(l)["event"] for l in open(sys.argv[1]))
print(" ".join("%s=%d" % kv for kv in sorted(c.items())))' "$T_TMP/samples.jsonl")"

# --- the validator rejects what breaks the contract (from a valid line)
# mutate LINE PYTHON: the event of LINE changed by PYTHON (on "e").
mutate() { # json line, python statement
	"$PY" -c 'import json, sys
e = json.loads(sys.argv[1])
exec(sys.argv[2])
print(json.dumps(e, separators=(",", ":")))' "$1" "$2"
}
summary=$(grep -m1 '"event":"summary","schema":2,"ts"' "$T_TMP/samples.jsonl")
handshake=$(head -n1 "$T_TMP/samples.jsonl")
rejects "a count as a string" "outcome_counts/ok: '2' is not of type 'integer'" \
	"$(mutate "$summary" 'e["outcome_counts"]["ok"] = "2"')"
rejects "findings as strings (schema 1)" "findings/0: 'revoked' is not of type 'object'" \
	"$(mutate "$handshake" 'e["findings"] = [f["kind"] for f in e["findings"]]')"
rejects "a warning kind said critical" "findings/8/severity: 'warning' was expected" \
	"$(mutate "$handshake" 'e["findings"][8]["severity"] = "critical"')"
rejects "summary counts under the old keys" "'outcomes' was unexpected" \
	"$(mutate "$summary" 'e["outcomes"] = e.pop("outcome_counts")')"
rejects "the agent's summary with a capture's packet total" "packets" \
	"$(mutate "$summary" 'e["source"] = "agent"')"
rejects "an analysis summary without its packet total" "'packets' is a required property" \
	"$(mutate "$summary" 'del e["packets"]')"
rejects "a negative serial without its digits" "does not match" \
	"$(mutate "$(grep -m1 '"serial":"-1234"' "$T_TMP/samples.jsonl")" 'e["serial"] = "-"')"
failed_hs=$(grep -m1 '"outcome":"failed"' "$T_TMP/samples.jsonl")
assert_eq "samples: a handshake says its ALPN list, alerts and chain were cut" \
	"alpn_truncated=True alerts_truncated=True chain_truncated=True" \
	"$("$PY" -c 'import json, sys
e = json.loads(sys.argv[1])
print(" ".join("%s=%s" % (k, e.get(k)) for k in ("alpn_truncated", "alerts_truncated", "chain_truncated")))' "$failed_hs")"
rejects "a truncation flag written false (omitted instead)" "chain_truncated: True was expected" \
	"$(mutate "$failed_hs" 'e["chain_truncated"] = False')"
rejects "a missing schema" "(top): 'schema' is a required property" \
	"$(mutate "$handshake" 'del e["schema"]')"
rejects "schema 3" "schema: 2 was expected" "$(mutate "$handshake" 'e["schema"] = 3')"
rejects "a 1970 stand-in for an unknown ts" "ts: '1970' does not match" \
	"$(mutate "$summary" 'e["ts"] = "1970"')"
rejects "a bool encrypted alert count" "alert_counts/encrypted: True is not of type 'integer'" \
	"$(mutate "$summary" 'e["alert_counts"]["encrypted"] = True')"
rejects "an agent event from another source" "source: 'agent' was expected" \
	"$(mutate "$(tail -n1 "$T_TMP/samples.jsonl")" 'e["source"] = "tlswatch"')"
rejects "an unknown event type" "is not valid under any of the given schemas" \
	'{"event":"handshakes","schema":2,"source":"x"}'
rejects "a line that is not JSON in an event log" "stdin:3: not a JSON event" \
	"$handshake"$'\n\n{"event":"cert",'
rejects "a line that is not UTF-8 in an event log" "stdin:2: not UTF-8" \
	"$handshake"$'\n'"${handshake/a.example/a.$'\xff'example}"

# the harness hooks fail a test that left an invalid event
bad_event=$(mutate "$summary" 'e["schema"] = 1')
hook() { # library to source, commands
	local out rc=0
	out=$(BAD="$bad_event" bash -c ". $1; $2" 2>&1) || rc=$?
	assert_eq "$1's hook: a test that left an invalid event fails" 1 "$rc"
	assert_contains "$1's hook: says which" \
		"not ok - the JSON events of this test match docs/events.schema.json" "$out"
	assert_contains "$1's hook: says why" "x.jsonl:2: schema: 2 was expected" "$out"
}
# shellcheck disable=SC2016 # expanded by the inner shell, after sourcing
hook tests/e2e/lib.sh 'printf "%s\n" "$BAD" "$BAD" >"$T_TMP/x.jsonl"; t_done'
# shellcheck disable=SC2016
hook tests/e2e/lib_netns.sh 'd=$(tn_tmpdir); printf "%s\n" "$BAD" "$BAD" >"$d/x.jsonl"; exit 0'

# the schema checks fail on a schema that breaks them
"$PY" - "$T_TMP" <<-'EOF'
	import json, sys
	s = json.load(open('docs/events.schema.json'))
	s['$defs']['cert']['properties']['findings'] = {'type': 'array', 'items': {'type': 'string'}}
	s['$defs']['finding_kind']['enum'].append('revoked_twice')
	json.dump(s, open(sys.argv[1] + '/broken.schema.json', 'w'))
EOF
out=$("$PY" "$CHECK" --schema "$T_TMP/broken.schema.json" --schema-check "$T_TMP/lists.json") &&
	not_ok "a broken schema fails the schema checks" "$out"
assert_contains "a key with two types is found" \
	"not ok - one key, one type" "$out"
assert_contains "it names the key and both types" \
	"findings: array of object in handshake,spike; array of string in cert" "$out"
assert_contains "a kind the code does not have is found" \
	"only in the schema: ['revoked_twice']" "$out"

# --- analyze --json of every committed capture
PKI=tests/data/pki
rsa_other=$(printf '%064d' 0)
n=0
for cap in "$CAPS"/*.pcap "$CAPS"/*.pcapng; do
	"$TW" analyze --json -q "$cap" >"$T_TMP/cap.$n.plain.jsonl" 2>/dev/null
	"$TW" analyze --json -q --ca-file "$PKI/root.crt" --warn-days 3650 --staple-max-age 1 \
		--expect "rsa.test=$rsa_other" "$cap" >"$T_TMP/cap.$n.checks.jsonl" 2>/dev/null
	"$TW" analyze --json -q --port 443 "$cap" >"$T_TMP/cap.$n.port.jsonl" 2>/dev/null
	n=$((n + 1))
done
validates "analyze --json, each of the $n captures" "$((n * 2))" "$T_TMP"/cap.*.plain.jsonl
validates "... with --ca-file, --warn-days 3650, --staple-max-age 1, --expect" "$((n * 2))" \
	"$T_TMP"/cap.*.checks.jsonl
validates "... with --port 443 (no handshake: summaries only)" "$n" "$T_TMP"/cap.*.port.jsonl
"$TW" analyze --json -q --ca-file "$PKI/root.crt" --db "$T_TMP/inv.db" --staple-max-age 1 --spike-window 1 \
	--spike-min-failures 1 --spike-factor 1 "$CAPS"/*.pcap >"$T_TMP/all.jsonl" 2>/dev/null
validates "... every capture in one run, with --db and a hair-trigger spike detector" 40 \
	"$T_TMP/all.jsonl"
assert_eq "that run has events of every analyze type" "cert,handshake,spike,summary" \
	"$("$PY" -c '
import json, sys
print(",".join(sorted({json.loads(l)["event"] for l in open(sys.argv[1])})))' "$T_TMP/all.jsonl")"
assert_eq "that run's findings cover the contract's kinds that captures show" \
	"expired,expiring_soon,hostname_mismatch,not_yet_valid,revoked_staple,self_signed,stale_staple,weak_key" \
	"$("$PY" -c '
import json, sys
ks = {f["kind"] for l in open(sys.argv[1]) for f in json.loads(l).get("findings", [])}
print(",".join(sorted(ks - {"untrusted", "unexpected", "superseded"})))' "$T_TMP/all.jsonl")"

# --- a capture without packets: a summary without "ts", not 1970
head -c 24 "$CAPS/tls12_rsa.pcap" >"$T_TMP/empty.pcap"
"$TW" analyze --json "$T_TMP/empty.pcap" >"$T_TMP/empty.jsonl"
validates "a capture without packets" 1 "$T_TMP/empty.jsonl"
assert_eq "its summary has no ts" "summary schema=2 ts=absent packets=0" \
	"$("$PY" -c '
import json, sys
e = json.loads(open(sys.argv[1]).read())
print(e["event"], "schema=%d" % e["schema"], "ts=%s" % e.get("ts", "absent"), "packets=%d" % e["packets"])' \
	"$T_TMP/empty.jsonl")"

t_done
