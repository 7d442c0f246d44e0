#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The 2018 replay across a restart, in two processes sharing the inventory
# database: a.test serves A, then B replaces it; after a restart A (revoked
# by then) comes back: superseded (naming B) and revoked. Then the
# inventory listing, and a corrupt database (a warning, checks go on).
set -u
cd "$(dirname "$0")/../.."
. tests/e2e/lib/health.sh
health_setup "$0" "$@"

pki=$work/pki
make_pki "$pki" none none
db=$work/inventory.db
a=$(fp "$pki" a-old.test) b=$(fp "$pki" a-new.test)

run_probe() { # out, probe args...
	local out=$1 rc=0
	shift
	timeout 60 "$probe" "$@" >"$out" 2>"$out.err" || rc=$?
	[ "$rc" -eq 0 ] || { sed 's/^/# /' "$out.err"; not_ok "probe $* exited with $rc"; }
}

run_probe "$work/before.json" --ca-file "$pki/root.crt" --db "$db" --sni a.test \
	"$pki/a-old.test.chain.pem@2026-03-01T00:00:00@10.0.0.1:443" \
	"$pki/a-new.test.chain.pem@2026-03-02T00:00:00@10.0.0.2:443"
check "before the restart: A then B, no finding" q "$work/before.json" \
	"[c['findings'] for c in checks()] == [[], []] and [c['new'] for c in checks()] == [True, True]"
run_probe "$work/after.json" --ca-file "$pki/root.crt" --db "$db" --sni a.test \
	--crl "$pki/crl/inter.pem" "$pki/a-old.test.chain.pem@2026-03-03T00:00:00@10.0.0.1:443"
check "after the restart: A back is superseded, naming B, and revoked" q "$work/after.json" \
	"kinds(checks()[0]) == ['superseded', 'revoked']
	 and detail(checks()[0], 'superseded') == 'newer certificate $b (not_before 2025-06-01T00:00:00Z) was served for a.test since 2026-03-02T00:00:00.000000Z'
	 and not checks()[0]['new']"
"$probe" --dump "$db" >"$work/dump.txt" 2>&1
check "inventory listing: A serving again, with its findings, B served" python3 - "$work/dump.txt" "$a" "$b" <<'PY'
import sys
lines = open(sys.argv[1]).read().splitlines()
want = ["a.test",
        "  serving 10.0.0.1:443  %s  CN=a.test,O=tlswatch test" % sys.argv[2],
        "  serving 10.0.0.2:443  %s  CN=a.test,O=tlswatch test" % sys.argv[3]]
got = [l for i, l in enumerate(lines) if i == 0 or not l.startswith("          ")]
ok = got == want and lines[2].endswith("x2  findings superseded,revoked")
if not ok:
    print("# got:\n# " + "\n# ".join(lines))
sys.exit(0 if ok else 1)
PY
"$probe" --dump "$db" --json >"$work/dump.json" 2>&1
check "inventory listing as JSON lines" python3 -c '
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
sys.exit(0 if [(r["sha256"], r["current"], r["count"], r["findings"]) for r in rows] ==
	[(sys.argv[2], True, 2, ["superseded", "revoked"]), (sys.argv[3], True, 1, [])] else 1)
' "$work/dump.json" "$a" "$b"

head -c 3000 /dev/urandom >"$work/junk.db"
run_probe "$work/junk.json" --ca-file "$pki/root.crt" --db "$work/junk.db" --sni a.test \
	"$pki/a-old.test.chain.pem@2026-03-01T00:00:00"
check "corrupt database: a clear warning, the check still runs" q "$work/junk.json" \
	"problems() == ['inventory $work/junk.db: file is not a database; keeping the inventory in memory for this run']
	 and checks()[0]['verify'] == 'ok'"

health_done
