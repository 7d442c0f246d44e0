# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# Sourced by the benchmark scripts: bench_build SRC BIN compiles the
# benchmark SRC against $BUILD/libtlswatch.a with the Makefile's flags.
bench_build() {
	local src=$1 bin=$2 pkgs="libbpf libpcap openssl sqlite3 libcurl libmicrohttpd"
	local cc=${CC:-cc} gcc_only=
	# the Makefile's GCC_WARN
	case "$($cc --version 2>/dev/null)" in *"Free Software"*) gcc_only=-Wno-format-truncation ;; esac
	make --no-print-directory "$BUILD/libtlswatch.a" >/dev/null
	mkdir -p "$(dirname "$bin")"
	# shellcheck disable=SC2046,SC2086
	$cc -O2 -g -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter $gcc_only -std=gnu11 \
		-D_GNU_SOURCE -Iinclude -Iuserspace -I"$BUILD" $(pkg-config --cflags $pkgs) \
		-o "$bin" "$src" "$BUILD/libtlswatch.a" \
		$(pkg-config --libs $pkgs) -lelf -lz -lm -lpthread
}
