#!/usr/bin/env bash
# Checks, before anything is compiled, that what a plain `make` needs is
# there (scripts/build-deps.txt), and names the Debian packages that are
# missing. Honours CC, CLANG, BPFTOOL, PKG_CONFIG as make passes them.
# Exit 0 when everything is found, 1 otherwise (the message says what to do).
set -u
here=$(dirname "$0")
PKG_CONFIG=${PKG_CONFIG:-pkg-config}
missing=() hints=()

tool_cmd() { # tool name -> the command the build runs for it
	local var
	var=$(printf '%s' "$1" | tr 'a-z-' 'A-Z_')
	printf '%s' "${!var:-$1}"
}

# 0: found; 1: missing. Found off PATH (Debian puts bpftool in /usr/sbin,
# not on a normal user's PATH): not a missing package, a hint.
have_tool() { # tool name
	local cmd d
	cmd=$(tool_cmd "$1")
	command -v "${cmd%% *}" >/dev/null 2>&1 && return 0
	for d in /usr/sbin /sbin; do
		if [ -x "$d/${cmd%% *}" ]; then
			hints+=("$cmd is $d/${cmd%% *}, not on PATH: add $d to PATH or pass $(printf '%s' "$1" | tr 'a-z-' 'A-Z_')=$d/${cmd%% *}")
			return 0
		fi
	done
	return 1
}

have_pc() { # pkg-config module
	command -v "$PKG_CONFIG" >/dev/null 2>&1 && "$PKG_CONFIG" --exists "$1" 2>/dev/null
}

while read -r pkg checks; do
	case $pkg in '' | '#'*) continue ;; esac
	what=()
	for c in $checks; do
		case $c in
		tool:*) have_tool "${c#tool:}" || what+=("command $(tool_cmd "${c#tool:}")") ;;
		pc:*) have_pc "${c#pc:}" || what+=("pkg-config module ${c#pc:}") ;;
		*) echo "check-build-deps: bad entry '$c' in build-deps.txt" >&2; exit 2 ;;
		esac
	done
	[ ${#what[@]} -eq 0 ] || missing+=("$pkg|${what[*]}")
done <"$here/build-deps.txt"

btf=${TLSWATCH_BTF:-/sys/kernel/btf/vmlinux}
[ -r "$btf" ] || hints+=("$btf is missing: the kernel needs CONFIG_DEBUG_INFO_BTF=y (Debian's kernels have it)")

[ ${#missing[@]} -eq 0 ] && [ ${#hints[@]} -eq 0 ] && exit 0
{
	if [ ${#missing[@]} -gt 0 ]; then
		echo "tlswatch: cannot build, missing Debian packages:"
		pkgs=()
		for m in "${missing[@]}"; do
			printf '  %-22s (%s)\n' "${m%%|*}" "${m#*|}"
			pkgs+=("${m%%|*}")
		done
		echo "Install them as root with: apt-get install ${pkgs[*]}"
		echo "or everything the build and the tests need: make deps (scripts/install-deps.sh)"
	fi
	for h in "${hints[@]}"; do echo "tlswatch: $h"; done
} >&2
exit 1
