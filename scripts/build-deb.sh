#!/usr/bin/env bash
# Builds the Debian package (make deb): copies the tree as a developer sees
# it (tracked and new files; nothing ignored, no build output) to
# OUTDIR/tlswatch-VERSION, runs dpkg-buildpackage -us -uc -b there, leaves
# the .deb, the build log and lintian's report (lintian.txt) in OUTDIR.
# Fails when the build fails or lintian reports an error.
set -euo pipefail
out=${1:?usage: build-deb.sh OUTDIR}
cd "$(dirname "$0")/.."
version=$(sed -n 's/^#define TLSWATCH_VERSION "\(.*\)"$/\1/p' userspace/common/version.h)
packaged=$(dpkg-parsechangelog -S Version)
if [ "$version" != "$packaged" ]; then
	echo "build-deb: version.h says $version, debian/changelog $packaged: add a changelog entry" >&2
	exit 1
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)
src=$out/tlswatch-$version
rm -rf "$src" "$out"/tlswatch_"$version"_*
mkdir -p "$src"

tree_files() { # NUL-separated paths of the tree, existing files only
	local f
	if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		while IFS= read -r -d '' f; do
			[ -e "$f" ] && printf '%s\0' "$f"
		done < <(git ls-files -z --cached --others --exclude-standard)
	else
		find . \( -path ./.git -o -path ./build -o -path "./${out#"$PWD"/}" \) -prune -o \
			-type f -printf '%P\0'
	fi
}
tree_files | tar --null -T - -cf - | tar -C "$src" -xf -

echo "build-deb: building in $src (log: $out/build.log)"
if ! (cd "$src" && dpkg-buildpackage -us -uc -b -J"$(nproc)") >"$out/build.log" 2>&1; then
	tail -n 30 "$out/build.log" >&2
	echo "build-deb: dpkg-buildpackage failed; full log in $out/build.log" >&2
	exit 1
fi
deb=$(ls "$out"/tlswatch_"$version"_*.deb)
echo "build-deb: $deb"
lintian --fail-on error --display-info "$deb" | tee "$out/lintian.txt"
