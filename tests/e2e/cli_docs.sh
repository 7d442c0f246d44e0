#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The command line and its documentation: --help, the man pages and the
# README list exactly the same options per command (with the same bounds
# and defaults); the man pages are valid roff; every exit status is in
# --help; the configuration file (errors with file and line, precedence,
# permissions, the default /etc file in a private mount namespace, the
# generated default file).
. "$(dirname "$0")/lib.sh"
t_require_tlswatch
DOCS=tests/e2e/lib/cli_docs.py
MAN=$BUILD/man

# ---- one list of options, three documents
page_of() { case $1 in run) echo "$MAN/tlswatch.8" ;; *) echo "$MAN/tlswatch-$1.1" ;; esac; }
for cmd in analyze run inventory; do
	"$PY" "$DOCS" help "$TW" "$cmd" | sort >"$T_TMP/help.$cmd"
	"$PY" "$DOCS" readme README.md "$cmd" | sort >"$T_TMP/readme.$cmd"
	"$PY" "$DOCS" man "$(page_of "$cmd")" | sort >"$T_TMP/man.$cmd"
	assert_true "$cmd: --help lists options" test "$(wc -l <"$T_TMP/help.$cmd")" -ge 3
	assert_eq "$cmd: the man page lists the options of --help" \
		"$(cut -f1 "$T_TMP/help.$cmd")" "$(cat "$T_TMP/man.$cmd")"
	assert_eq "$cmd: README lists the options of --help" \
		"$(cut -f1 "$T_TMP/help.$cmd")" "$(cut -f1 "$T_TMP/readme.$cmd")"
	assert_eq "$cmd: README's bounds are those of --help" \
		"$(cut -f1,2 "$T_TMP/help.$cmd")" "$(cut -f1,2 "$T_TMP/readme.$cmd")"
	# a default --help states from the table is the README's too
	assert_eq "$cmd: README's defaults are those of --help" \
		"$(awk -F'\t' '$3 != "" { print $1 "=" $3 }' "$T_TMP/help.$cmd")" \
		"$(join -t "$(printf '\t')" <(cut -f1,3 "$T_TMP/help.$cmd") <(cut -f1,3 "$T_TMP/readme.$cmd") |
			awk -F'\t' '$2 != "" { print $1 "=" $3 }')"
done
assert_eq "analyze has --fail-on, run has not" "fail-on|" \
	"$(grep -c '^fail-on' "$T_TMP/help.analyze" | sed 's/1/fail-on/')|$(grep '^fail-on' "$T_TMP/help.run")"
assert_eq "run: --spike-window bounds and default" "spike-window	1-300	10" \
	"$(grep '^spike-window' "$T_TMP/help.run")"

# ---- exit statuses in --help
exits() { "$TW" "$@" | sed -n '/^Exit status:/,$p' | grep -oE '^  [0-9]' | tr -d ' ' | tr '\n' ' '; }
assert_eq "analyze --help: exit statuses" "0 1 2 3 4 " "$(exits analyze --help)"
assert_eq "run --help: exit statuses" "0 2 3 4 " "$(exits run --help)"
assert_eq "inventory --help: exit statuses" "0 2 3 4 " "$(exits inventory --help)"
assert_eq "tlswatch --help: exit statuses" "0 1 2 3 4 " "$(exits --help)"
assert_contains "run --help: a bad --ca-file exits 3" "a --ca-file" \
	"$("$TW" run --help | sed -n '/^  3 /,/^  4 /p' | tr '\n' ' ')"
assert_contains "analyze --help: exit 3 still reports the readable captures" \
	"the readable captures are still reported, the summary counts unread_inputs" \
	"$("$TW" analyze --help | sed -n '/^  3 /,/^  4 /p' | tr '\n' ' ' | tr -s ' ')"
assert_contains "run --help: exit 4 for an --iface that does not exist" "an --iface that does not exist" \
	"$("$TW" run --help | sed -n '/^  4 /,$p' | tr '\n' ' ' | tr -s ' ')"
assert_contains "analyze --help: exit 4 names a webhook alert that could not be queued" \
	"an output other than standard output and --html lost events (a webhook alert queued neither in the --db outbox nor in memory)" \
	"$("$TW" analyze --help | sed -n '/^  4 /,/^$/p' | tr '\n' ' ' | tr -s ' ')"
assert_contains "analyze --help: spike events" "spike and summary events" \
	"$("$TW" analyze --help | tr '\n' ' ' | tr -s ' ')"
assert_contains "tlswatch --help: the commands" "analyze FILE...   analyse" "$("$TW" --help)"
assert_eq "tlswatch -V" "tlswatch $(sed -n 's/^#define TLSWATCH_VERSION "\(.*\)"/\1/p' userspace/common/version.h)" \
	"$("$TW" -V)"
assert_eq "tlswatch --version and version: the same line, exit 0" "$("$TW" -V)|0|$("$TW" -V)|0" \
	"$("$TW" --version)|$?|$("$TW" version)|$?"
T_RC=0
"$TW" --help >"$T_TMP/out" || T_RC=$?
assert_eq "tlswatch --help: the commands, exit 0" "analyze|run|inventory|report|0" \
	"$(awk '/^Commands:/ { on = 1; next } on && /^$/ { exit } on { print $1 }' "$T_TMP/out" | grep -v version | paste -sd'|')|$T_RC"
# Help, version and --show-config that cannot be written are not a success.
for args in --help --version "analyze --help" "inventory --show-config"; do
	T_RC=0
	# shellcheck disable=SC2086 # the words of $args are the arguments
	"$TW" $args >/dev/full 2>"$T_TMP/err" || T_RC=$?
	who=tlswatch
	case $args in -*) ;; *) who="tlswatch ${args%% *}" ;; esac
	assert_eq "tlswatch $args > /dev/full: exit 3, said" \
		"3|$who: cannot write to standard output: No space left on device" "$T_RC|$(cat "$T_TMP/err")"
done
T_RC=0
"$TW" >"$T_TMP/out" 2>"$T_TMP/err" || T_RC=$?
assert_eq "tlswatch without a command: exit 2, the usage on stderr, nothing on stdout" "2|Usage: tlswatch COMMAND [OPTIONS]|" \
	"$T_RC|$(head -n1 "$T_TMP/err")|$(cat "$T_TMP/out")"
T_RC=0
"$TW" bogus >"$T_TMP/out" 2>"$T_TMP/err" || T_RC=$?
assert_eq "tlswatch bogus: exit 2 naming it" "2|tlswatch: unknown command 'bogus'" "$T_RC|$(head -n1 "$T_TMP/err")"
# The help and the version take no argument: one given is a usage error
# naming it (`tlswatch version --json` printed the version, exit 0).
for cmd in version --version -V help --help -h; do
	for extra in extra --json; do
		T_RC=0
		"$TW" "$cmd" "$extra" >"$T_TMP/out" 2>"$T_TMP/err" || T_RC=$?
		assert_eq "tlswatch $cmd $extra: exit 2 naming the argument, nothing on stdout" \
			"2|tlswatch: unexpected argument '$extra' after '$cmd'|Try 'tlswatch --help'.|" \
			"$T_RC|$(paste -sd'|' "$T_TMP/err")|$(cat "$T_TMP/out")"
	done
done

# ---- the man pages render and pass groff's warnings
for p in tlswatch.8 tlswatch-analyze.1 tlswatch-inventory.1 tlswatch-events.5; do
	assert_eq "$p: groff -man -ww reports nothing" "" "$(groff -man -ww -z "$MAN/$p" 2>&1)"
	assert_true "$p: man -l renders it" test "$(MANWIDTH=80 man -l "$MAN/$p" 2>/dev/null | wc -l)" -gt 20
done
assert_eq "tlswatch(8): its sections" \
	"NAME SYNOPSIS DESCRIPTION THE AGENT OPTIONS CONFIGURATION FILE SIGNALS FILES EXIT STATUS SECURITY NOTES SEE ALSO" \
	"$(sed -n 's/^\.SH //p' "$MAN/tlswatch.8" | tr '\n' ' ' | sed 's/ $//')"
assert_eq "tlswatch-events(5): one subsection per event and the webhook" 6 \
	"$(grep -c '^\.SS' "$MAN/tlswatch-events.5")"
assert_contains "tlswatch-events(5): the finding kinds" "hostname_mismatch" \
	"$(MANWIDTH=80 man -l "$MAN/tlswatch-events.5" 2>/dev/null)"
# every Markdown heading became roff: "### `tunnel`" showed as it was
assert_eq "tlswatch-events(5): no Markdown heading left" "" \
	"$(MANWIDTH=80 man -l "$MAN/tlswatch-events.5" 2>/dev/null | grep -E '^ *#+ ')"

# README names every command-line-only option (a key no configuration
# file takes: in --help, not in --doc conf), of every command; it named
# config, show-config and help, not html, since and until.
for cmd in analyze run inventory; do
	"$TW" --doc conf "$cmd" | grep -oE '^#?[a-z][a-z-]*( =|$)' | sed 's/^#//; s/ =$//' |
		sort >"$T_TMP/conf.$cmd"
	comm -23 <(cut -f1 "$T_TMP/help.$cmd" | sort) "$T_TMP/conf.$cmd"
done | sort -u >"$T_TMP/cmdline-only"
assert_true "some options are command-line only" grep -qx config "$T_TMP/cmdline-only"
# shellcheck disable=SC2016 # Markdown's backquotes, not expansions
assert_eq "README: the command-line-only keys are those no file takes" \
	"$(paste -sd' ' "$T_TMP/cmdline-only")" \
	"$(tr '\n' ' ' <README.md | tr -s ' ' | grep -oE '(`[a-z-]+`(, | and )?)+ are command-line only' |
		grep -oE '`[a-z-]+`' | tr -d '`' | sort | paste -sd' ')"

# The inventory's schema version the man pages state is the one this
# tlswatch writes (PRAGMA user_version of a database analyze --db made;
# tlswatch(8) said 5, tlswatch-inventory(1) 3, when it was 6), and the
# first version inventory reads is INVENTORY_READ_MIN_VERSION (README:
# "from 1 on"; the page said 2).
t_make_db "$T_TMP/schema.db"
schema=$("$PY" -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("PRAGMA user_version").fetchone()[0])' \
	"$T_TMP/schema.db")
read_min=$(sed -n 's/^#define INVENTORY_READ_MIN_VERSION \([0-9]*\)$/\1/p' userspace/inventory/inventory.h)
man_says() { # page, extended regular expression -> the text it matches
	MANWIDTH=200 man -l "$1" 2>/dev/null | tr -s ' \n' ' ' | grep -oE "$2"
}
assert_eq "tlswatch(8): the schema version the database has" \
	"schema version $schema in PRAGMA user_version" \
	"$(man_says "$MAN/tlswatch.8" 'schema version [0-9]+ in PRAGMA user_version')"
assert_eq "tlswatch-inventory(1): the first version it reads, the current one" \
	"Files of schema version $read_min and later are read as they are, without migrating them; the agent (and tlswatch analyze --db) migrates them to the current version ($schema) when it opens them" \
	"$(man_says "$MAN/tlswatch-inventory.1" 'Files of schema version [0-9]+ and later [^.]*')"
assert_eq "the man pages: no placeholder left" "" \
	"$(grep -l '@[A-Z_]*@' "$MAN"/tlswatch*.[0-9] | paste -sd' ')"

# ---- the configuration file
conf=$T_TMP/tlswatch.conf
write_conf() { printf '%b' "$1" >"$conf"; chmod 600 "$conf"; }
run_tw() { T_RC=0; "$TW" "$@" >"$T_TMP/out" 2>"$T_TMP/err" </dev/null || T_RC=$?; }
set_lines() { grep -v '^#' "$T_TMP/out" | grep . | tr '\n' '|'; }

write_conf '# agent\nport = 8443\nport=9443\n\nspike-window = 20\nno-online\nfail-on = expired\n'
run_tw run --config "$conf" --show-config
assert_eq "run --show-config: the file's options (analyze's fail-on skipped)" \
	"port = 8443|port = 9443|no-online|spike-window = 20|" "$(set_lines)"
assert_contains "run --show-config: names the file" "# Read from $conf." "$(cat "$T_TMP/out")"
run_tw run --config "$conf" --port 1 --online --spike-window 30 --show-config
assert_eq "the command line overrides the file; its --port list replaces the file's" \
	"port = 1|online|spike-window = 30|" "$(set_lines)"

# A `run` these tests expect refused never starts an agent on this host's
# interfaces, should it be accepted: an interface that does not exist
# (exit 4 before anything is created) and files in $T_TMP.
NO_AGENT=(--iface tw-none0 --no-metrics --db "$T_TMP/none.db" --json-log "$T_TMP/none.jsonl")
# --udp-encap has defaults besides the values given (it printed
# "#udp-encap = PORT:KIND", not the ports in force): those left, commented
# out, after the values given.
udp_lines() { grep -E '^#?udp-encap' "$T_TMP/out" | paste -sd'|'; }
write_conf ''
for c in run analyze; do
	run_tw "$c" --config "$conf" --show-config
	assert_eq "$c --show-config: the --udp-encap defaults" \
		"0|#udp-encap = 4789:vxlan|#udp-encap = 6081:geneve" "$T_RC|$(udp_lines)"
done
# An option whose default is no value of it is "#name =" (it printed
# "#port = PORT", read as a default port); the output loads back as the
# same configuration.
run_tw analyze --show-config
assert_eq "analyze --show-config: no --port is every port, no value" \
	"0|#port =" "$T_RC|$(grep -E '^#?port' "$T_TMP/out")"
cp "$T_TMP/out" "$T_TMP/shown.conf"
chmod 600 "$T_TMP/shown.conf"
run_tw analyze --config "$T_TMP/shown.conf" --show-config
assert_eq "analyze --show-config, given back with --config: the same" \
	"0|$(grep -v '^# Read from' "$T_TMP/shown.conf")" "$T_RC|$(grep -v '^# Read from' "$T_TMP/out")"
# A value a configuration file could not hold (a line break, a blank at
# either end, nothing) is refused on the command line too, exit 2: it was
# printed as it was, and loaded back as other options ($'a\nport = 1' set
# port 1, ' x ' became 'x', '' was refused by the file). Any other value
# loads back as it was given, '#', '=', blanks inside and control bytes
# included.
blank_why="starts or ends with a blank, which a configuration file (its values trimmed) could not hold"
for v in $'a\nport = 1' ' x ' 'x ' $'\tx' ''; do
	case $v in
	*$'\n'*) why="a value with a line break, which a configuration file (one option per line) could not hold" ;;
	'') why="needs a value, not an empty one" ;;
	*) why="'$v' $blank_why" ;;
	esac
	run_tw analyze --alertmanager http://127.0.0.1:9/ --instance "$v" --show-config
	assert_eq "analyze --instance $(printf '%q' "$v"): exit 2, said, nothing on stdout" \
		"2|tlswatch analyze: --instance: $why|Try 'tlswatch analyze --help'.|" \
		"$T_RC|$(paste -sd'|' "$T_TMP/err")|$(cat "$T_TMP/out")"
done
run_tw run --db '' --show-config
assert_eq "run --db '': exit 2, said" "2|tlswatch run: --db: needs a value, not an empty one" \
	"$T_RC|$(head -n1 "$T_TMP/err")"
run_tw run --json-log "$T_TMP/log " --show-config
assert_eq "run --json-log 'FILE ': exit 2, said" "2|tlswatch run: --json-log: '$T_TMP/log ' $blank_why" \
	"$T_RC|$(head -n1 "$T_TMP/err")"
hostile=$'edge 1 # a = b\r\x01;'
run_tw analyze --alertmanager http://127.0.0.1:9/ --instance "$hostile" --db "$T_TMP/a b=#.db" \
	--show-config
assert_eq "analyze --show-config of hostile values: exit 0, printed as given" \
	"0|instance = $hostile|db = $T_TMP/a b=#.db" \
	"$T_RC|$(grep -E '^(instance|db) = ' "$T_TMP/out" | sort -r | paste -sd'|')"
cp "$T_TMP/out" "$T_TMP/hostile.conf"
chmod 600 "$T_TMP/hostile.conf"
run_tw analyze --config "$T_TMP/hostile.conf" --show-config
assert_eq "... given back with --config: the same options" \
	"0|$(grep -v '^# Read from' "$T_TMP/hostile.conf")" "$T_RC|$(grep -v '^# Read from' "$T_TMP/out")"
run_tw run --config "$conf" --show-config
assert_eq "run --show-config: its default port" "0|#port = 443" \
	"$T_RC|$(grep -E '^#?port' "$T_TMP/out")"
run_tw run --config "$conf" --udp-encap 8472:vxlan --show-config
assert_eq "--udp-encap 8472:vxlan --show-config: it, then the defaults still in force" \
	"udp-encap = 8472:vxlan|#udp-encap = 4789:vxlan|#udp-encap = 6081:geneve" "$(udp_lines)"
run_tw run --config "$conf" --udp-encap 4789:none --udp-encap 6081:fou --show-config
assert_eq "--udp-encap 4789:none, 6081:fou --show-config: no default left" \
	"udp-encap = 4789:none|udp-encap = 6081:fou" "$(udp_lines)"
write_conf 'udp-encap = 6081:none\n'
run_tw run --config "$conf" --show-config
assert_eq "a file's udp-encap = 6081:none: 4789 still in force" \
	"udp-encap = 6081:none|#udp-encap = 4789:vxlan" "$(udp_lines)"
assert_eq "the generated file: the --udp-encap defaults" \
	"#udp-encap = 4789:vxlan|#udp-encap = 6081:geneve" \
	"$(grep -E '^#?udp-encap' "$BUILD/etc/tlswatch.conf" | paste -sd'|')"

check_conf_error() { # label, file content, expected first line of stderr
	write_conf "$2"
	run_tw run --config "$conf" "${NO_AGENT[@]}"
	assert_eq "$1: exit 2" 2 "$T_RC"
	assert_eq "$1: message with file and line" "tlswatch run: $conf:$3" "$(head -n1 "$T_TMP/err")"
	assert_eq "$1: nothing on stdout" "" "$(cat "$T_TMP/out")"
}
check_conf_error "unknown key" 'port = 443\n# x\nbogus = 1\n' "3: unknown option 'bogus'"
check_conf_error "an abbreviated key" 'ring = 64\n' "1: unknown option 'ring' (a file takes whole names: did you mean 'ring-buffer'?)"
check_conf_error "a slip in a key" 'webhok = http://127.0.0.1/\n' "1: unknown option 'webhok' (did you mean 'webhook'?)"
check_conf_error "the beginning of two keys" 'ca = /etc/ssl/ca.pem\n' "1: unknown option 'ca' (a file takes whole names: did you mean 'ca-file' or 'ca-dir'?)"
write_conf ''
run_tw run --config "$conf" --ring 64 --show-config
assert_eq "the command line takes the abbreviation the file refuses" \
	"0|ring-buffer = 64|" "$T_RC|$(set_lines)"
check_conf_error "bad value" 'spike-window = 0\n' "1: spike-window: '0' is not a whole number from 1 to 300"
check_conf_error "value to a flag" '\nno-spikes = yes\n' "2: no-spikes: takes no value (a line 'no-spikes' alone sets it)"
check_conf_error "bad URL" 'webhook = ftp://x\n' "1: webhook: 'ftp://x' is not an http:// or https:// URL"
check_conf_error "a webhook option without a webhook" 'port = 443\nwebhook-secret-file = /etc/k\n' \
	"2: webhook-secret-file needs --webhook (in the file or on the command line)"
check_conf_error "a key given again" 'ring-buffer = 64\nring-buffer = 128\n' \
	"2: ring-buffer: given again (first on line 1); only a repeatable option takes one line per value"

# Options that mean nothing without another one (a --webhook-secret-file
# without --webhook signed nothing, silently): exit 2 naming both.
needs_err() { # expected first line after "tlswatch CMD: ", command, args...
	local want=$1 cmd=$2
	shift 2
	run_tw "$cmd" "$@"
	assert_eq "tlswatch $cmd $*: exit 2, said, nothing on stdout" \
		"2|tlswatch $cmd: $want|Try 'tlswatch $cmd --help'.|" \
		"$T_RC|$(paste -sd'|' "$T_TMP/err")|$(cat "$T_TMP/out")"
}
: >"$T_TMP/empty.conf"
chmod 600 "$T_TMP/empty.conf"
for o in "--webhook-secret-file /etc/k" "--webhook-events cert" "--webhook-format slack" \
	"--webhook-cooldown 60" "--webhook-retry-max 60"; do
	# shellcheck disable=SC2086 # the option and its value
	needs_err "${o%% *} needs --webhook" run --config "$T_TMP/empty.conf" $o --alertmanager http://127.0.0.1:9/ \
		"${NO_AGENT[@]}"
	# shellcheck disable=SC2086
	needs_err "${o%% *} needs --webhook" analyze $o "$CAPS/tls12_rsa.pcap"
done
needs_err "--webhook-timeout needs --webhook or --alertmanager" run --config "$T_TMP/empty.conf" --webhook-timeout 5 \
	"${NO_AGENT[@]}"
needs_err "--instance needs --alertmanager" analyze --instance edge1 --webhook http://127.0.0.1:9/ "$CAPS/tls12_rsa.pcap"
needs_err "--alertmanager-resend needs --alertmanager" run --config "$T_TMP/empty.conf" \
	--alertmanager-resend 30 --webhook http://127.0.0.1:9/ "${NO_AGENT[@]}"
needs_err "--since needs --html" inventory --config "$T_TMP/empty.conf" --since 2026-12-06T14:00:00Z
run_tw run --config "$T_TMP/empty.conf" --webhook-timeout 5 --alertmanager http://127.0.0.1:9/ --show-config
assert_eq "--webhook-timeout with --alertmanager alone: accepted" 0 "$T_RC"
assert_contains "run --help: the webhook options say what they need" \
	"sign each request with the key in FILE (mode 0600 or stricter): header Tlswatch-Signature; needs --webhook" \
	"$("$TW" run --help | tr '\n' ' ' | tr -s ' ')"

run_tw run --config "$T_TMP/none.conf"
assert_eq "missing --config file: exit 3" 3 "$T_RC"
assert_eq "missing --config file: message" "tlswatch run: $T_TMP/none.conf: No such file or directory" "$(cat "$T_TMP/err")"
# -v on the command line undoes the file's quiet: the truncated capture's
# warning is printed.
write_conf 'quiet\n'
run_tw analyze --config "$conf" "$CAPS/truncated.pcap"
assert_eq "file's quiet: the warning is not printed" "" "$(cat "$T_TMP/err")"
run_tw analyze --config "$conf" -v "$CAPS/truncated.pcap"
assert_contains "file's quiet, -v on the command line: the warning is printed" \
	"truncated.pcap: the capture is truncated" "$(cat "$T_TMP/err")"

# A --config that is not a regular file cannot be read (3), and one that
# would block (a FIFO without a writer) is refused at once, not waited on.
mkdir "$T_TMP/confdir"
mkfifo "$T_TMP/conffifo"
for c in run inventory analyze; do
	for f in confdir conffifo; do
		T_RC=0
		timeout 20 "$TW" "$c" --config "$T_TMP/$f" --show-config >"$T_TMP/out" 2>"$T_TMP/err" </dev/null ||
			T_RC=$?
		assert_eq "$c --config on a ${f#conf}: exit 3, one line" \
			"3|tlswatch $c: $T_TMP/$f: not a regular file" "$T_RC|$(cat "$T_TMP/err")"
	done
done

# As root, a configuration file others could change is refused: group- or
# other-writable, or not root's; 0644 root is fine (the unit's dynamic user
# reads it).
check_conf_refused() { # what, chmod mode, owner
	write_conf 'port = 443\n'
	chmod "$2" "$conf"
	chown "$3" "$conf"
	run_tw run --config "$conf" --show-config
	assert_eq "$1 as root: exit 2" 2 "$T_RC"
	assert_contains "$1 as root: refused" \
		"$conf: refused: running as root, the file must be owned by root and not writable by group or others (chown root $conf; chmod go-w $conf)" \
		"$(head -n1 "$T_TMP/err")"
	chown root "$conf"
}
if [ "$(id -u)" -eq 0 ]; then
	check_conf_refused "group-writable file" 664 root
	check_conf_refused "other-writable file" 646 root
	check_conf_refused "file owned by nobody" 600 nobody
	write_conf 'port = 443\n'
	chmod 644 "$conf"
	run_tw run --config "$conf" --show-config
	assert_eq "0644 root file as root: accepted" 0 "$T_RC"
fi

# analyze with --config gives what the same options give on the command line
write_conf 'json\nca-file = tests/data/pki/root.crt\niface = eth9\n'
run_tw analyze --config "$conf" "$CAPS/tls12_rsa.pcap"
cp "$T_TMP/out" "$T_TMP/from_conf"
run_tw analyze --json --ca-file tests/data/pki/root.crt "$CAPS/tls12_rsa.pcap"
assert_eq "analyze --config: the same JSON as the command line" "$(cat "$T_TMP/out")" "$(cat "$T_TMP/from_conf")"
assert_true "analyze --config: JSON lines" grep -q '"event":"handshake"' "$T_TMP/from_conf"

write_conf "db = $T_TMP/no-dir/inv.db\n"
run_tw inventory --config "$conf"
assert_eq "inventory: db from the file, missing: exit 3" 3 "$T_RC"
assert_contains "inventory: names the file's db" "$T_TMP/no-dir/inv.db" "$(cat "$T_TMP/err")"

# the generated default file: every key commented out with its default;
# uncommented, those defaults load and are what is in force
gen=$BUILD/etc/tlswatch.conf
run_tw run --config "$gen" --show-config
assert_eq "default file: loads, sets nothing" "0|" "$T_RC|$(set_lines)"
# (with a webhook and an Alertmanager, which the webhook-* and
# alertmanager-resend defaults need)
sed -n 's/^#\([a-z-]* = .*\)$/\1/p' "$gen" |
	sed -e 's|^webhook-events = |webhook = http://127.0.0.1:9/hook\n&|' \
	    -e 's|^alertmanager-resend = |alertmanager = http://127.0.0.1:9/\n&|' >"$conf"
chmod 600 "$conf"
assert_true "default file: has numeric defaults to uncomment" grep -q '^spike-window = 10$' "$conf"
run_tw run --config "$conf" --show-config
assert_eq "default file: its defaults uncommented load as they are" \
	"$(tr '\n' '|' <"$conf")" "$(set_lines)"

# ---- the default /etc/tlswatch/tlswatch.conf, in a private mount namespace
if [ "$(id -u)" -eq 0 ]; then
	etc=$T_TMP/etc
	mkdir -p "$etc/tlswatch"
	cp /etc/ld.so.cache "$etc/" 2>/dev/null
	in_etc() { # conf content, tlswatch args... (/etc is $etc there)
		printf '%b' "$1" >"$etc/tlswatch/tlswatch.conf"
		chmod 600 "$etc/tlswatch/tlswatch.conf"
		shift
		T_RC=0
		# shellcheck disable=SC2016 # expanded by the inner sh
		timeout 20 unshare -m sh -c 'mount --bind "$1" /etc && shift && exec "$@"' sh "$etc" "$TW" "$@" \
			>"$T_TMP/out" 2>"$T_TMP/err" </dev/null || T_RC=$?
	}
	in_etc 'port = 8443\n' run --show-config
	assert_eq "/etc/tlswatch/tlswatch.conf: read by run" "0|port = 8443|" "$T_RC|$(set_lines)"
	in_etc 'bogus\n' run
	assert_eq "/etc/tlswatch/tlswatch.conf: an unknown key exits 2" 2 "$T_RC"
	assert_eq "/etc/tlswatch/tlswatch.conf: file and line" \
		"tlswatch run: /etc/tlswatch/tlswatch.conf:1: unknown option 'bogus'" "$(head -n1 "$T_TMP/err")"
	write_conf 'port = 1\n'
	in_etc 'bogus\n' run --config "$conf" --show-config
	assert_eq "--config replaces the /etc file" "0|port = 1|" "$T_RC|$(set_lines)"
	in_etc 'json\n' analyze --show-config
	assert_eq "analyze does not read the /etc file" "0|" "$T_RC|$(set_lines)"
	in_etc "db = $T_TMP/agent.db\n" inventory --show-config
	assert_eq "inventory reads the /etc file" "0|db = $T_TMP/agent.db|" "$T_RC|$(set_lines)"
fi
t_done
