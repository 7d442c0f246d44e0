#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Install and package: `make install DESTDIR= PREFIX=` puts every file where
# the README says with its mode, the unit runs the installed binary, the
# completion completes, the config file is never overwritten, `make
# uninstall` leaves nothing behind but changed or non-empty state; the
# logrotate snippet really rotates a running agent's log (SIGHUP reopen);
# `make deb` builds a package lintian has no error for, with the right
# Depends, files and modes, the unit installed but not started; and a plain
# `make` with a dependency missing names its Debian package before
# compiling anything. Needs root only for the log rotation of a live agent
# (skipped otherwise); `make deb` takes about 30 s (build 15 s, lintian).
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lib_netns.sh
tn_require_tlswatch
tn_require_cmds dpkg-buildpackage dh lintian fakeroot logrotate
BUILD=${BUILD:-build}
TMP=$(tn_tmpdir)
me="$(id -un):$(id -gn)"
version=$(sed -n 's/^#define TLSWATCH_VERSION "\(.*\)"$/\1/p' userspace/common/version.h)
# The man pages of the Makefile (another branch adds them): each is
# installed into man<section> from its suffix.
# shellcheck disable=SC2016 # $(MAN_PAGES) is make's
man_pages=$(make -s --no-print-directory --eval 'print-man: ; @echo $(MAN_PAGES)' print-man)

tap_contains() { # description, needle, haystack
	case $3 in *"$2"*) tap_ok "$1" ;; *) tap_fail "$1" "no '$2' in: $3" ;; esac
}

listing() { # root -> "MODE OWNER PATH" of every file, and of our directories
	find "$1" -mindepth 1 \( ! -type d -o -name tlswatch \) -printf '%m %u:%g %P\n' | sort -k3
}

# --- make install / uninstall -------------------------------------------------

# Under a strict umask: the modes must not depend on the caller's.
root=$TMP/root
# shellcheck disable=SC2016 # expanded by the inner bash
tap_check "make install DESTDIR PREFIX=/usr (umask 077)" \
	bash -c 'umask 077 && exec make -s --no-print-directory install DESTDIR="$0" PREFIX=/usr' "$root"
expected=$(
	{
		printf '%s\n' "644 $me etc/logrotate.d/tlswatch" \
			"755 $me etc/tlswatch" \
			"644 $me etc/tlswatch/tlswatch.conf" \
			"755 $me usr/bin/tlswatch" \
			"644 $me usr/lib/systemd/system/tlswatch.service" \
			"644 $me usr/share/bash-completion/completions/tlswatch" \
			"750 $me var/lib/tlswatch"
		for m in $man_pages; do
			echo "644 $me usr/share/man/man${m##*.}/${m##*/}"
		done
	} | sort -k3
)
tap_eq "installed files, modes and owners" "$expected" "$(listing "$root")"
tap_eq "every directory but the state directory is 0755" "750 var/lib/tlswatch" \
	"$(find "$root" -type d ! -perm 755 -printf '%m %P\n')"
tap_eq "installed config is the generated default" "$(cat "$BUILD/etc/tlswatch.conf")" \
	"$(cat "$root/etc/tlswatch/tlswatch.conf")"
tap_eq "installed logrotate snippet" "$(cat scripts/tlswatch.logrotate)" \
	"$(cat "$root/etc/logrotate.d/tlswatch")"

unit=$root/usr/lib/systemd/system/tlswatch.service
exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
tap_eq "unit: ExecStart runs the installed binary, with the unit's arguments" \
	"/usr/bin/tlswatch $(sed -n 's|^ExecStart=/usr/local/bin/tlswatch ||p' scripts/tlswatch.service)" "$exec_start"
tap_contains "unit: the agent logs where logrotate rotates" " --json-log /var/log/tlswatch/events.jsonl" "$exec_start"
tap_eq "unit: only ExecStart changed" \
	"$(grep -v /usr/local/bin/tlswatch scripts/tlswatch.service)" "$(grep -v /usr/bin/tlswatch "$unit")"
tap_eq "the installed binary runs" "tlswatch $version" "$("$root/usr/bin/tlswatch" version)"
if command -v systemd-analyze >/dev/null; then
	# verify checks that ExecStart's binary exists: point it into DESTDIR
	sed "s|^ExecStart=|ExecStart=$root|" "$unit" >"$TMP/tlswatch.service"
	tap_check "systemd-analyze verify: the unit is valid" \
		systemd-analyze verify --man=no "$TMP/tlswatch.service"
fi

# PREFIX defaults to /usr/local, and the unit follows it.
tap_check "make install, default PREFIX" \
	make -s --no-print-directory install DESTDIR="$TMP/local"
tap_eq "default PREFIX: binary in /usr/local/bin" 755 \
	"$(stat -c %a "$TMP/local/usr/local/bin/tlswatch" 2>&1)"
tap_eq "default PREFIX: unit runs /usr/local/bin/tlswatch" /usr/local/bin/tlswatch \
	"$(sed -n 's/^ExecStart=\([^ ]*\) .*/\1/p' "$TMP/local/usr/local/lib/systemd/system/tlswatch.service")"
tap_eq "default PREFIX: config still in /etc" 644 "$(stat -c %a "$TMP/local/etc/tlswatch/tlswatch.conf" 2>&1)"

# Bash completion, run the way bash runs it.
complete_words() { # words (the last is the one completed) -> sorted replies
	bash -c '. "$0"; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _tlswatch
		[ ${#COMPREPLY[@]} -eq 0 ] || printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "' \
		"$root/usr/share/bash-completion/completions/tlswatch" "$@"
}
mkdir -p "$TMP/c/sub" && touch "$TMP/c/ca.pem" "$TMP/c/cap.pcap"
tap_eq "completion: command" "analyze " "$(complete_words tlswatch an)"
tap_eq "completion: run option" "--json-log " "$(complete_words tlswatch run --json)"
tap_eq "completion: analyze option" "--json " "$(complete_words tlswatch analyze --jso)"
tap_eq "completion: inventory options" "--config --db --help --html --json --show-config --since --until " "$(complete_words tlswatch inventory --)"
tap_eq "completion: FILE argument" "$TMP/c/ca.pem $TMP/c/cap.pcap " \
	"$(complete_words tlswatch run --ca-file "$TMP/c/ca")"
tap_eq "completion: DIR argument" "$TMP/c/sub " "$(complete_words tlswatch run --ca-dir "$TMP/c/")"
tap_eq "completion: interface argument" "lo " "$(complete_words tlswatch run --iface l)"
tap_eq "completion: nothing for a number" "" "$(complete_words tlswatch run --port "")"
tap_eq "completion: the values of --direction" "all served " \
	"$(complete_words tlswatch run --direction "")"
tap_eq "completion: a value of --direction" "served " \
	"$(complete_words tlswatch run --direction s)"
tap_eq "completion: the values of --webhook-format" "json slack " \
	"$(complete_words tlswatch analyze --webhook-format "")"
tap_eq "completion: a value of --webhook-format" "slack " \
	"$(complete_words tlswatch run --webhook-format s)"
tap_eq "completion: the values of --uprobes, then files" "auto ca.pem cap.pcap off sub " \
	"$(cd "$TMP/c" && complete_words tlswatch run --uprobes "")"
tap_eq "completion: a value of --uprobes" "off " \
	"$(cd "$TMP/c/sub" && complete_words tlswatch run --uprobes o)"
tap_eq "completion: a library path for --uprobes" "$TMP/c/cap.pcap " \
	"$(complete_words tlswatch run --uprobes "$TMP/c/cap")"
# Every option whose help shows a set of values (option_table.h's ARG
# "a|b", maybe "a|b|PATH") completes to exactly those (and, with PATH,
# the files: none in an empty directory), for each command: none is left
# out.
valued=0
mkdir -p "$TMP/empty"
for cmd in analyze run inventory; do
	while read -r opt values; do
		valued=$((valued + 1))
		tap_eq "completion: $cmd $opt offers $values" \
			"$(tr '|' '\n' <<<"$values" | grep -v '^[A-Z]' | sort | tr '\n' ' ')" \
			"$(cd "$TMP/empty" && complete_words tlswatch "$cmd" "$opt" "")"
	done < <("$BUILD/tlswatch" "$cmd" --help |
		 awk '/^  -/ && $2 ~ /\|/ && $2 ~ /^[a-z][a-z0-9-]*(\|[a-z][a-z0-9-]*)*(\|[A-Z][A-Z0-9_]*)?$/ { print $1, $2 }')
done
# --direction and --uprobes (run), --webhook-format (analyze, run)
tap_eq "completion: options with a set of values" 4 "$valued"
# Every option whose values are too many for its ARG ('tlswatch --doc
# values CMD', the lists the options are parsed with) completes to exactly
# those, a list's after its last comma, PORT:KIND's after the colon.
listed=0
for cmd in analyze run inventory; do
	while read -r opt form values; do
		listed=$((listed + 1))
		case $form in
		list) pre=expired, ;;
		*) pre=1: ;;
		esac
		tap_eq "completion: $cmd $opt offers its $form" \
			"$(tr ' ' '\n' <<<"$values" | sed "s/^/$pre/" | sort | tr '\n' ' ')" \
			"$(complete_words tlswatch "$cmd" "$opt" "$pre")"
	done < <("$BUILD/tlswatch" --doc values "$cmd")
done
# --fail-on (analyze), --webhook-events and --udp-encap (analyze, run)
tap_eq "completion: options with a list of values" 5 "$listed"
tap_eq "completion: a finding kind after a comma" "expired,revoked expired,revoked_staple " \
	"$(complete_words tlswatch analyze --fail-on expired,rev)"
tap_eq "completion: the first item of --webhook-events" "agent agent-error " \
	"$(complete_words tlswatch run --webhook-events agent)"
tap_eq "completion: a KIND after PORT:" "4789:geneve 4789:gue " \
	"$(complete_words tlswatch run --udp-encap 4789:g)"
tap_eq "completion: a KIND after PORT: split at the colon (COMP_WORDBREAKS)" "geneve gue " \
	"$(complete_words tlswatch run --udp-encap 4789 : g)"
# (the line "--udp-encap 4789:" with nothing after the colon yet: bash's
# word is the ':' itself)
tap_eq "completion: every KIND right after PORT: split at the colon" "fou geneve gue none vxlan " \
	"$(complete_words tlswatch run --udp-encap 4789 :)"
tap_eq "completion: no global variable left in the shell" "unset" \
	"$(bash -c '. "$0"; COMP_WORDS=(tlswatch analyze --fail-on ex); COMP_CWORD=3; _tlswatch
		echo "${values-unset}"' "$root/usr/share/bash-completion/completions/tlswatch")"
tap_eq "completion: nothing for the port of PORT:KIND" "" \
	"$(complete_words tlswatch run --udp-encap 47)"
tap_eq "completion generator: nothing on stderr (version takes no --help)" "" \
	"$(scripts/gen-bash-completion.sh "$BUILD/tlswatch" 2>&1 >/dev/null)"
tap_eq "completion: analyze operands are files" "$TMP/c/cap.pcap " \
	"$(complete_words tlswatch analyze --json "$TMP/c/cap")"
tap_eq "completion: run has no operands" "" "$(complete_words tlswatch run "$TMP/c/")"

# An existing config file is never overwritten.
echo "# the admin's line" >>"$root/etc/tlswatch/tlswatch.conf"
out=$(make -s --no-print-directory install DESTDIR="$root" PREFIX=/usr 2>&1)
tap_eq "reinstall keeps a changed config" "# the admin's line" "$(tail -n1 "$root/etc/tlswatch/tlswatch.conf")"
tap_eq "reinstall says so" "keep    $root/etc/tlswatch/tlswatch.conf (exists)" "$(grep '^keep' <<<"$out")"

# Uninstall keeps a changed config and a state directory with data in it.
echo data >"$root/var/lib/tlswatch/inventory.db"
out=$(make -s --no-print-directory uninstall DESTDIR="$root" PREFIX=/usr 2>&1)
tap_eq "uninstall keeps changed config and state, says so" \
	"keep    $root/etc/tlswatch/tlswatch.conf (changed since install)
keep    $root/var/lib/tlswatch (holds the agent's state: remove it yourself)" "$(grep '^keep' <<<"$out")"
tap_eq "uninstall removed the rest" \
	"755 $me etc/tlswatch
644 $me etc/tlswatch/tlswatch.conf
750 $me var/lib/tlswatch
644 $me var/lib/tlswatch/inventory.db" "$(listing "$root")"

# What install created, unchanged: uninstall leaves nothing behind.
make -s --no-print-directory install DESTDIR="$root" PREFIX=/usr >/dev/null
cp "$BUILD/etc/tlswatch.conf" "$root/etc/tlswatch/tlswatch.conf"
rm "$root/var/lib/tlswatch/inventory.db"
tap_check "make uninstall" make -s --no-print-directory uninstall DESTDIR="$root" PREFIX=/usr
tap_eq "uninstall leaves nothing behind" "" "$(listing "$root")"
make -s --no-print-directory uninstall DESTDIR="$TMP/local" >/dev/null
tap_eq "uninstall, default PREFIX: nothing behind" "" "$(listing "$TMP/local")"

# --- the logrotate snippet against a live agent -------------------------------

# The installed snippet with its path moved to a scratch directory and
# `systemctl reload` (the unit's ExecReload: kill -HUP) replaced by the same
# signal sent to our agent.
rotate_live_agent() {
	local dir=$TMP/log conf=$TMP/logrotate.conf
	tn_setup rot
	mkdir -p "$dir"
	if ! tn_start_agent "$dir/events.jsonl" --stats-interval 1 --no-metrics \
		--no-active-check --no-online --db "$TMP/inv.db"; then
		tap_fail "log rotation: the agent starts"
		return
	fi
	sed -e "s|/var/log/tlswatch/|$dir/|" \
		-e "s|systemctl reload tlswatch.service|kill -HUP $TN_AGENT_PID|" \
		scripts/tlswatch.logrotate >"$conf"
	tap_check "log rotation: logrotate -f with the installed snippet" \
		logrotate -f -s "$TMP/logrotate.state" "$conf"
	tap_eq "log rotation: the old log was renamed" 1 \
		"$(grep -c '"state":"started"' "$dir/events.jsonl.1" 2>&1)"
	if tn_wait_grep 5 '"state":"stats"' "$dir/events.jsonl"; then
		tap_ok "log rotation: the agent writes to a new events.jsonl"
	else
		tap_fail "log rotation: the agent writes to a new events.jsonl" "$(ls -l "$dir")"
	fi
	tap_eq "log rotation: nothing else in the directory" "events.jsonl
events.jsonl.1
events.jsonl.stderr" "$(ls "$dir")"
	tn_stop_agent
}
if [ "$(id -u)" -eq 0 ]; then
	rotate_live_agent
else
	tap_ok "log rotation of a live agent # SKIP needs root (eBPF)"
fi

# --- make deb -----------------------------------------------------------------

deb_dir=$TMP/deb
status_before=$(git status --porcelain 2>&1)
start=$(date +%s)
if out=$(make -s --no-print-directory deb DEB_DIR="$deb_dir" 2>&1); then
	tap_ok "make deb ($(($(date +%s) - start)) s)"
else
	tap_fail "make deb" "$out"
	exit 1
fi
tap_eq "make deb leaves the tree as it was" "$status_before" "$(git status --porcelain 2>&1)"
deb=$deb_dir/tlswatch_${version}_$(dpkg --print-architecture).deb
tap_eq "lintian: no errors" "" "$(grep '^E:' "$deb_dir/lintian.txt")"
tap_eq "lintian: no warnings (README lists its information tags)" "" "$(grep '^W:' "$deb_dir/lintian.txt")"
tn_note "lintian: $(tr '\n' ';' <"$deb_dir/lintian.txt")"

tap_eq "Depends: the runtime libraries (from shlibs)" \
	"libbpf1 libc6 libcurl4 libelf1 libmicrohttpd12 libpcap0.8 libsqlite3-0 libssl3" \
	"$(dpkg-deb -f "$deb" Depends | tr ',' '\n' | awk '{ print $1 }' | sort | tr '\n' ' ' | sed 's/ $//')"
tap_eq "Build-Depends: scripts/build-deps.txt (build-essential is implied)" \
	"$(awk '!/^(#|$)/ && $1 != "build-essential" { print $1 }' scripts/build-deps.txt | sort)" \
	"$(awk '/^Build-Depends:/ { f = 1; sub(/^[^:]*:/, ""); print; next }
		f && /^[ \t]/ { print; next } { f = 0 }' debian/control |
		tr ',' '\n' | awk 'NF { print $1 }' | grep -v '^debhelper-compat$' | sort)"
tap_eq "package version is version.h's" "$version" "$(dpkg-deb -f "$deb" Version)"

# Every path, mode and owner in the package (man pages are checked below).
tap_eq "package contents, modes and owners" \
	"drwxr-xr-x root/root ./
drwxr-xr-x root/root ./etc/
drwxr-xr-x root/root ./etc/logrotate.d/
-rw-r--r-- root/root ./etc/logrotate.d/tlswatch
drwxr-xr-x root/root ./etc/tlswatch/
-rw-r--r-- root/root ./etc/tlswatch/tlswatch.conf
drwxr-xr-x root/root ./lib/
drwxr-xr-x root/root ./lib/systemd/
drwxr-xr-x root/root ./lib/systemd/system/
-rw-r--r-- root/root ./lib/systemd/system/tlswatch.service
drwxr-xr-x root/root ./usr/
drwxr-xr-x root/root ./usr/bin/
-rwxr-xr-x root/root ./usr/bin/tlswatch
drwxr-xr-x root/root ./usr/share/
drwxr-xr-x root/root ./usr/share/bash-completion/
drwxr-xr-x root/root ./usr/share/bash-completion/completions/
-rw-r--r-- root/root ./usr/share/bash-completion/completions/tlswatch
drwxr-xr-x root/root ./usr/share/doc/
drwxr-xr-x root/root ./usr/share/doc/tlswatch/
-rw-r--r-- root/root ./usr/share/doc/tlswatch/changelog.gz
-rw-r--r-- root/root ./usr/share/doc/tlswatch/copyright
drwxr-xr-x root/root ./usr/share/lintian/
drwxr-xr-x root/root ./usr/share/lintian/overrides/
-rw-r--r-- root/root ./usr/share/lintian/overrides/tlswatch
drwxr-xr-x root/root ./var/
drwxr-xr-x root/root ./var/lib/
drwxr-x--- root/root ./var/lib/tlswatch/" \
	"$(dpkg-deb -c "$deb" | awk '{ print $1, $2, $6 }' | grep -v ' \./usr/share/man/')"
for m in $man_pages; do
	p=./usr/share/man/man${m##*.}/${m##*/}.gz
	tap_eq "package has $p" "-rw-r--r-- root/root $p" \
		"$(dpkg-deb -c "$deb" | awk -v p="$p" '$6 == p { print $1, $2, $6 }')"
done

dpkg-deb -e "$deb" "$TMP/control"
tap_eq "conffiles" "/etc/logrotate.d/tlswatch
/etc/tlswatch/tlswatch.conf" "$(cat "$TMP/control/conffiles")"
tap_eq "postinst starts nothing" 0 "$(grep -c 'deb-systemd-invoke\|systemctl' "$TMP/control/postinst")"
tap_eq "postinst enables the unit only if it was enabled before" \
	"if deb-systemd-helper --quiet was-enabled 'tlswatch.service'; then
deb-systemd-helper enable 'tlswatch.service' >/dev/null || true" \
	"$(grep -B2 'deb-systemd-helper enable' "$TMP/control/postinst" | grep deb-systemd | sed 's/^[[:space:]]*//')"

# shellcheck disable=SC2016 # $1 is the script's
tap_eq "postrm purge removes the state and the logs" \
	"rm -rf /var/lib/tlswatch /var/lib/private/tlswatch \\
/var/log/tlswatch /var/log/private/tlswatch" \
	"$(sed -n '/^if \[ "$1" = purge \]; then$/,/^fi$/p' "$TMP/control/postrm" | sed -n '2,3s/^[[:space:]]*//p')"

# Unpacked into a scratch root: the files as installed.
xroot=$TMP/xroot
dpkg -x "$deb" "$xroot"
tap_eq "dpkg -x: state directory 0750" 750 "$(stat -c %a "$xroot/var/lib/tlswatch")"
tap_eq "dpkg -x: binary 0755" 755 "$(stat -c %a "$xroot/usr/bin/tlswatch")"
tap_eq "dpkg -x: the unit runs /usr/bin/tlswatch" /usr/bin/tlswatch \
	"$(sed -n 's/^ExecStart=\([^ ]*\) .*/\1/p' "$xroot/lib/systemd/system/tlswatch.service")"
tap_eq "dpkg -x: the packaged binary runs" "tlswatch $version" "$("$xroot/usr/bin/tlswatch" version)"

# --- plain make checks its dependencies first -----------------------------------

# A pkg-config search path with every module but libmicrohttpd's, and a
# clang that does not exist: make names both packages and compiles nothing.
pcdir=$TMP/pc
mkdir -p "$pcdir"
for d in $(pkg-config --variable pc_path pkg-config | tr : ' '); do
	[ -d "$d" ] && find "$d" -maxdepth 1 -name '*.pc' -exec ln -sf {} "$pcdir/" \;
done
rm -f "$pcdir/libmicrohttpd.pc"
rc=0
out=$(PKG_CONFIG_LIBDIR=$pcdir make --no-print-directory BUILD="$TMP/fresh" CLANG=no-such-clang 2>&1) || rc=$?
tap_eq "make with missing dependencies fails" 2 "$rc"
tap_eq "make names the missing packages" \
	"tlswatch: cannot build, missing Debian packages:
  clang                  (command no-such-clang)
  libmicrohttpd-dev      (pkg-config module libmicrohttpd)
Install them as root with: apt-get install clang libmicrohttpd-dev
or everything the build and the tests need: make deps (scripts/install-deps.sh)" \
	"$(grep -Ev '^make(\[[0-9]+\])?: \*\*\*' <<<"$out")"
tap_eq "make compiled nothing" "" "$(find "$TMP/fresh" -type f 2>/dev/null)"
tap_check "every dependency present: the check passes" scripts/check-build-deps.sh
if [ -x /usr/sbin/bpftool ] && [ ! -e /usr/bin/bpftool ]; then
	out=$(PATH=/usr/bin:/bin scripts/check-build-deps.sh 2>&1)
	tap_eq "bpftool off PATH: says where it is" \
		"tlswatch: bpftool is /usr/sbin/bpftool, not on PATH: add /usr/sbin to PATH or pass BPFTOOL=/usr/sbin/bpftool" \
		"$out"
fi
