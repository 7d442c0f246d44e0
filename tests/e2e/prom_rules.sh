#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The fleet rules and example configurations of deploy/: promtool and
# amtool accept them, the rules' unit tests pass, and every recording and
# alerting rule has a unit test. Needs promtool and amtool (Debian
# packages prometheus and prometheus-alertmanager: make deps).
. "$(dirname "$0")/lib.sh"

RULES=deploy/prometheus/tlswatch.rules.yml
RULES_TEST=deploy/prometheus/tlswatch.rules.test.yml
PROM_CONF=deploy/prometheus/prometheus.example.yml
AM_CONF=deploy/alertmanager/alertmanager.example.yml

# check NAME COMMAND...: one TAP line; the command's output on failure.
check() {
	local name=$1 out
	shift
	if out=$("$@" 2>&1); then
		ok "$name"
	else
		mapfile -t lines <<<"$out"
		not_ok "$name" "${lines[@]}"
	fi
}

if command -v promtool >/dev/null 2>&1; then
	check "promtool check rules $RULES" promtool check rules "$RULES"
	check "promtool test rules $RULES_TEST" promtool test rules "$RULES_TEST"
	check "promtool check config $PROM_CONF" promtool check config "$PROM_CONF"
else
	not_ok "promtool missing (make deps installs it)"
fi
if command -v amtool >/dev/null 2>&1; then
	check "amtool check-config $AM_CONF" amtool check-config "$AM_CONF"
else
	not_ok "amtool missing (make deps installs it)"
fi

# Every rule of the rules file is exercised by name in the unit tests:
# a recording rule as a promql_expr_test's expr, an alert as an alertname.
untested=()
while read -r kind name; do
	case $kind in
	record:) grep -Eq "^ *- expr: $name\$" "$RULES_TEST" || untested+=("$name") ;;
	alert:) grep -Eq "alertname: $name(\$|[ ,}])" "$RULES_TEST" || untested+=("$name") ;;
	esac
done < <(sed -n 's/^ *- \(record:\|alert:\) *\([^ ]*\) *$/\1 \2/p' "$RULES")
n=$(grep -Ec '^ *- (record|alert):' "$RULES")
if [ "$n" -gt 0 ] && [ ${#untested[@]} -eq 0 ]; then
	ok "each of the $n rules of $RULES has a unit test"
else
	not_ok "each rule of $RULES has a unit test" "rules: $n; untested: ${untested[*]}"
fi
t_done
