# SPDX-License-Identifier: MIT
# tlswatch build. Out-of-tree into build/; `make help` lists the targets.

BUILD      ?= build
CC         ?= cc
CLANG      ?= clang
BPFTOOL    ?= bpftool
PKGS       := libbpf libpcap openssl sqlite3 libcurl libmicrohttpd
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lelf -lz -lm -lpthread

WARN       := -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter
# snprintf truncation is how wire strings are bounded here: gcc's warning
# about it is noise (clang has no such warning).
GCC_WARN   := $(if $(findstring Free Software,$(shell $(CC) --version 2>/dev/null)),-Wno-format-truncation)
CFLAGS     ?= -O2 -g
# The checks Debian's packages build with (dpkg-buildflags): the same code
# fails here as in `make deb`, not first there. Not when the caller sets
# its own, nor without optimisation (glibc then warns, and -Werror).
FORTIFY    := $(if $(findstring _FORTIFY_SOURCE,$(CPPFLAGS) $(CFLAGS))$(filter -O0,$(CFLAGS)),,-D_FORTIFY_SOURCE=2)
ALL_CFLAGS := $(CPPFLAGS) $(CFLAGS) $(WARN) -std=gnu11 -D_GNU_SOURCE -Iinclude -Iuserspace \
              -I$(BUILD) $(PKG_CFLAGS) -MMD -MP
SAN_FLAGS  := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined \
              -fno-omit-frame-pointer

LIB_SRCS   := $(sort $(filter-out userspace/cli/%,$(wildcard userspace/*/*.c)))
CLI_SRCS   := $(sort $(wildcard userspace/cli/*.c))
UNIT_SRCS  := $(sort $(wildcard tests/unit/test_*.c))
FUZZ_SRCS  := $(sort $(wildcard tests/fuzz/fuzz_*.c))
BPF_SRCS   := $(sort $(wildcard bpf/*.bpf.c))

LIB_OBJS   := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
CLI_OBJS   := $(CLI_SRCS:%.c=$(BUILD)/obj/%.o)
SAN_LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/san/%.o)
FUZZ_LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/fuzzobj/%.o)
UNIT_BINS  := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
FUZZ_BINS  := $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/fuzz/%)
BPF_OBJS   := $(BPF_SRCS:bpf/%.bpf.c=$(BUILD)/bpf/%.bpf.o)
SKELS      := $(BPF_SRCS:bpf/%.bpf.c=$(BUILD)/%.skel.h)

ARCH       := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Wextra -Werror \
              -Wno-unused-parameter -Iinclude -I$(BUILD) -Ibpf

.PHONY: all test unit e2e fuzz fuzz-build bench demo deps clean help san
.DELETE_ON_ERROR:
# Objects and skeletons are intermediates of pattern rules: keep them, or
# every make rebuilds the fuzzers from scratch.
.SECONDARY:

all: $(BUILD)/tlswatch

help:
	@echo "make          build build/tlswatch"
	@echo "make demo     install what is missing, build, run the live demo"
	@echo "make test     install what is missing, build, run every test"
	@echo "make bench    benchmarks, written into BENCHMARKS.md"
	@echo "make fuzz     fuzzing campaign: each fuzzer FUZZ_SECONDS (default 60)"
	@echo "make fuzz-coverage  coverage of the library under the fuzz corpora"
	@echo "make man      man pages into build/man/, build/etc/tlswatch.conf"
	@echo "make clean    remove build/"
	@echo "make install  install (PREFIX=/usr/local, DESTDIR); make uninstall"
	@echo "make deb      build the Debian package into build/deb/"

deps:
	@scripts/install-deps.sh

# Before anything is compiled: are the tools, headers and libraries there?
# Names the missing Debian packages. Checked once per build directory (and
# again when the list changes); every compile waits for vmlinux.h.
$(BUILD)/.build-deps-ok: scripts/build-deps.txt scripts/check-build-deps.sh
	@CC='$(CC)' CLANG='$(CLANG)' BPFTOOL='$(BPFTOOL)' scripts/check-build-deps.sh
	@mkdir -p $(@D) && touch $@

# --- BPF side: vmlinux.h from the running kernel's BTF, objects, skeletons
$(BUILD)/vmlinux.h: | $(BUILD)/.build-deps-ok
	@mkdir -p $(@D)
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@

$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c $(BUILD)/vmlinux.h $(wildcard bpf/*.h include/tlswatch/*.h)
	@mkdir -p $(@D)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/bpf/%.bpf.o
	$(BPFTOOL) gen skeleton $< > $@

# --- userspace
$(BUILD)/obj/%.o: %.c | $(SKELS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(GCC_WARN) $(FORTIFY) -c $< -o $@

$(BUILD)/libtlswatch.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/tlswatch: $(CLI_OBJS) $(BUILD)/libtlswatch.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

# --- man pages and the default configuration file, generated from the
# option table (userspace/cli/option_table.h) through the built binary and
# from docs/events.md. MAN_PAGES and DEFAULT_CONFIG are what `make install`
# installs (section = the page's suffix).
MAN_SRCS       := $(sort $(wildcard man/*.in))
MAN_PAGES      := $(MAN_SRCS:man/%.in=$(BUILD)/man/%)
DEFAULT_CONFIG := $(BUILD)/etc/tlswatch.conf
VERSION        := $(shell sed -n 's/^\#define TLSWATCH_VERSION "\(.*\)"/\1/p' userspace/common/version.h)
# The inventory's schema version, and the first one `inventory` reads: the
# man pages say them.
INV_HEADER     := userspace/inventory/inventory.h
SCHEMA         := $(shell sed -n 's/^\#define INVENTORY_SCHEMA_VERSION \([0-9]*\)$$/\1/p' $(INV_HEADER))
SCHEMA_READ_MIN := $(shell sed -n 's/^\#define INVENTORY_READ_MIN_VERSION \([0-9]*\)$$/\1/p' $(INV_HEADER))

.PHONY: man
all: man
man: $(MAN_PAGES) $(DEFAULT_CONFIG)

$(BUILD)/man/%: man/%.in $(BUILD)/tlswatch scripts/man-fill.awk scripts/md2man.awk docs/events.md $(INV_HEADER)
	@mkdir -p $(@D)
	awk -v tw=$(BUILD)/tlswatch -v version=$(VERSION) -v schema=$(SCHEMA) \
		-v schema_read_min=$(SCHEMA_READ_MIN) -f scripts/man-fill.awk $< > $@

$(DEFAULT_CONFIG): $(BUILD)/tlswatch
	@mkdir -p $(@D)
	$(BUILD)/tlswatch --doc conf run > $@

# Unit tests of the CLI layer link its objects (main.c aside) too.
CLI_UNIT_SRCS  := $(sort $(wildcard tests/unit/cli/test_*.c))
CLI_UNIT_BINS  := $(CLI_UNIT_SRCS:tests/unit/cli/%.c=$(BUILD)/tests/%)
san: $(CLI_UNIT_BINS)

$(BUILD)/tests/test_cli_%: tests/unit/cli/test_cli_%.c $(filter-out userspace/cli/main.c,$(CLI_SRCS)) $(BUILD)/libtlswatch-san.a
	@mkdir -p $(@D)
	$(CLANG) $(ALL_CFLAGS) $(SAN_FLAGS) -Itests/unit -o $@ $(filter %.c,$^) $(BUILD)/libtlswatch-san.a $(PKG_LIBS)
# --- end of man pages, configuration file and CLI unit tests

# --- sanitizer build of the library, for unit tests
$(BUILD)/san/%.o: %.c | $(SKELS)
	@mkdir -p $(@D)
	$(CLANG) $(ALL_CFLAGS) $(SAN_FLAGS) -c $< -o $@

$(BUILD)/libtlswatch-san.a: $(SAN_LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

# The tests that make strdup fail on demand (tests/unit/fail_strdup.h).
UNIT_WRAP_STRDUP := test_crl_fetch test_text_report
$(UNIT_WRAP_STRDUP:%=$(BUILD)/tests/%): UNIT_LDFLAGS := -Wl,--wrap=strdup
# The test that writes to a capture during the walk's reads (pread).
$(BUILD)/tests/test_pcap_source: UNIT_LDFLAGS := -Wl,--wrap=pread

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libtlswatch-san.a
	@mkdir -p $(@D)
	$(CLANG) $(ALL_CFLAGS) $(SAN_FLAGS) -Itests/unit -o $@ $< $(BUILD)/libtlswatch-san.a $(PKG_LIBS) $(UNIT_LDFLAGS)

san: $(UNIT_BINS) $(BUILD)/tlswatch-san

$(BUILD)/tlswatch-san: $(CLI_SRCS) $(BUILD)/libtlswatch-san.a
	$(CLANG) $(ALL_CFLAGS) $(SAN_FLAGS) -o $@ $(CLI_SRCS) $(BUILD)/libtlswatch-san.a $(PKG_LIBS)

# --- fuzzers (libFuzzer + ASan + UBSan)
$(BUILD)/fuzzobj/%.o: %.c | $(SKELS)
	@mkdir -p $(@D)
	$(CLANG) $(ALL_CFLAGS) $(SAN_FLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(BUILD)/fuzz/%: tests/fuzz/%.c $(FUZZ_LIB_OBJS)
	@mkdir -p $(@D)
	$(CLANG) $(ALL_CFLAGS) $(SAN_FLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIB_OBJS) $(PKG_LIBS)

fuzz-build: $(FUZZ_BINS)

# A campaign (FUZZING.md): each fuzzer FUZZ_SECONDS at nice 19 over its
# committed corpus; what adds coverage is merged into tests/fuzz/corpus/,
# what crashes is copied to tests/fuzz/regressions/. FUZZ_TARGETS: a subset;
# FUZZ_RUNS: stop each after that many executions.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?=
FUZZ_RUNS    ?=
fuzz: fuzz-build
	@BUILD=$(BUILD) FUZZ_RUNS=$(FUZZ_RUNS) tests/fuzz/campaign.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# Line and branch coverage of the library under the committed corpora and
# regression inputs (clang source-based coverage, llvm-profdata/llvm-cov):
# a summary per file on stdout, the report in $(BUILD)/fuzz-coverage/.
LLVM_PROFDATA ?= llvm-profdata
LLVM_COV      ?= llvm-cov
COV_FLAGS     := -O1 -g -fprofile-instr-generate -fcoverage-mapping
FUZZ_COV_OBJS := $(LIB_SRCS:%.c=$(BUILD)/fuzzcov/%.o)
FUZZ_COV_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/fuzzcov/bin/%)

$(BUILD)/fuzzcov/%.o: %.c | $(SKELS)
	@mkdir -p $(@D)
	$(CLANG) $(ALL_CFLAGS) $(COV_FLAGS) -c $< -o $@

$(BUILD)/fuzzcov/bin/%: tests/fuzz/%.c $(FUZZ_COV_OBJS)
	@mkdir -p $(@D)
	$(CLANG) $(ALL_CFLAGS) $(COV_FLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_COV_OBJS) $(PKG_LIBS)

.PHONY: fuzz-coverage
fuzz-coverage: $(FUZZ_COV_BINS)
	@BUILD=$(BUILD) LLVM_PROFDATA=$(LLVM_PROFDATA) LLVM_COV=$(LLVM_COV) \
	  tests/fuzz/coverage.sh $(FUZZ_COV_BINS)

# --- the two commands of the README
test: deps
	@$(MAKE) --no-print-directory all san fuzz-build
	@tests/run.sh

demo: deps
	@$(MAKE) --no-print-directory all
	@scripts/demo.sh

bench: deps
	@$(MAKE) --no-print-directory all
	@scripts/bench.sh

clean:
	rm -rf $(BUILD)

include mk/install.mk

# Not the copy of the tree `make deb` builds in (DEB_DIR, build/deb by default).
-include $(shell find $(BUILD) -name 'tlswatch-[0-9]*' -prune -o -name '*.d' -type f -print 2>/dev/null)
