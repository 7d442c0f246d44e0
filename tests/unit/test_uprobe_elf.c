// SPDX-License-Identifier: MIT
/*
 * Where a uprobe goes in a function (uprobe_elf.c): past a leading
 * endbr64, and past SSL_free's NULL check where asked; and the same
 * decision made from the library file as from the code the loader mapped.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "live/uprobes.h"

#define ENDBR64 0xf3, 0x0f, 0x1e, 0xfa
#define TEST_RDI 0x48, 0x85, 0xff
#define JE_REL8 0x74, 0x10
#define JE_REL32 0x0f, 0x84, 0x97, 0x03, 0x00, 0x00
#define PUSH_RBP 0x55

static size_t skip(const uint8_t *b, size_t n, bool null_check)
{
	return uprobe_skip_len(b, n, null_check);
}

static void test_endbr64_is_skipped_for_every_hook(void)
{
	const uint8_t b[] = { ENDBR64, PUSH_RBP, 0x48, 0x89, 0xf5, 0x53, 0x90, 0x90, 0x90, 0x90 };

	CHECK_INT(skip(b, sizeof(b), false), 4);
	CHECK_INT(skip(b, sizeof(b), true), 4);
}

static void test_null_check_is_skipped_only_where_asked(void)
{
	const uint8_t rel32[] = { TEST_RDI, JE_REL32, 0x41, 0x55, 0xb8, 0xff };
	const uint8_t rel8[] = { TEST_RDI, JE_REL8, PUSH_RBP, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90 };

	CHECK_INT(skip(rel32, sizeof(rel32), true), 9);
	CHECK_INT(skip(rel32, sizeof(rel32), false), 0);
	CHECK_INT(skip(rel8, sizeof(rel8), true), 5);
	CHECK_INT(skip(rel8, sizeof(rel8), false), 0);
}

static void test_endbr64_then_null_check_are_both_skipped(void)
{
	const uint8_t rel32[] = { ENDBR64, TEST_RDI, JE_REL32 };
	const uint8_t rel8[] = { ENDBR64, TEST_RDI, JE_REL8, PUSH_RBP, 0x90, 0x90, 0x90, 0x90 };

	CHECK_INT(skip(rel32, sizeof(rel32), true), 13);
	CHECK_INT(skip(rel8, sizeof(rel8), true), 9);
	CHECK_INT(skip(rel8, sizeof(rel8), false), 4);
}

static void test_other_openings_and_short_reads_stay_at_zero(void)
{
	const uint8_t push[] = { PUSH_RBP, 0x48, 0x89, 0xf5, 0x53, 0x48, 0x89, 0xfb, 0x48, 0x83, 0xec, 0x08, 0xe8 };
	const uint8_t other_test[] = { 0x48, 0x85, 0xf6, 0x74, 0x03, 0x90, 0x90, 0x90, 0x90 }; /* %rsi */
	const uint8_t endbr32[] = { 0xf3, 0x0f, 0x1e, 0xfb, PUSH_RBP };
	const uint8_t cut[] = { ENDBR64, TEST_RDI, 0x0f, 0x84 }; /* je rel32 cut short */

	CHECK_INT(skip(push, sizeof(push), true), 0);
	CHECK_INT(skip(other_test, sizeof(other_test), true), 0);
	CHECK_INT(skip(endbr32, sizeof(endbr32), true), 0);
	CHECK_INT(skip(cut, 3, true), 0);
	CHECK_INT(skip(cut, sizeof(cut), true), 4);
}

/* The file's bytes at the symbol are the loader's: same decision. */
static void check_lib_symbol(const char *lib, const char *sym, bool null_check)
{
	void *h = dlopen(lib, RTLD_NOW | RTLD_NOLOAD) ?: dlopen(lib, RTLD_NOW);
	void *fn = h ? dlsym(h, sym) : NULL;
	Dl_info info;

	CHECK(fn != NULL);
	if (!fn)
		return;
	CHECK(dladdr(fn, &info) && info.dli_fname);
	CHECK_INT(uprobe_probe_offset(info.dli_fname, sym, null_check),
		  (long)skip(fn, UPROBE_HEAD_BYTES, null_check));
	CHECK_INT(uprobe_probe_offset(info.dli_fname, "tlswatch_no_such_symbol", null_check), 0);
	dlclose(h);
}

static void test_offsets_from_the_file_match_the_mapped_code(void)
{
	check_lib_symbol("libssl.so.3", "SSL_free", true);
	check_lib_symbol("libcrypto.so.3", "i2d_X509", false);
	CHECK_INT(uprobe_probe_offset("/nonexistent/libssl.so.3", "SSL_free", true), 0);
}

int main(void)
{
	RUN_TEST(test_endbr64_is_skipped_for_every_hook);
	RUN_TEST(test_null_check_is_skipped_only_where_asked);
	RUN_TEST(test_endbr64_then_null_check_are_both_skipped);
	RUN_TEST(test_other_openings_and_short_reads_stay_at_zero);
	RUN_TEST(test_offsets_from_the_file_match_the_mapped_code);
	return CHECK_EXIT_CODE();
}
