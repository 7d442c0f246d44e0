// SPDX-License-Identifier: MIT
/*
 * The shape accepted after the i2d_X509 call in libssl's Certificate
 * writer (uprobe_site.c): a register compare, then a conditional jump,
 * where the probe goes. Anything else is refused (0), so that the probe
 * can only ever land on that jump.
 */
#include "check.h"
#include "live/uprobes.h"
#include "tlswatch/event.h"

#define JNE_REL8 0x75, 0x39
#define JNE_REL32 0x0f, 0x85, 0x35, 0x00, 0x00, 0x00

static void test_debian_openssl_3_0_writer(void)
{
	/* libssl.so.3 of Debian 12 at 0x704d3: cmp %ebx,%eax; jne */
	const uint8_t b[] = { 0x39, 0xd8, JNE_REL8, 0x48, 0x8b, 0x54, 0x24 };

	CHECK_INT(uprobe_site_len(b, sizeof(b)), 2);
}

static void test_other_register_compares(void)
{
	const uint8_t rex_rel32[] = { 0x44, 0x39, 0xe0, JNE_REL32 }; /* cmp %r12d,%eax */
	const uint8_t cmp_3b[] = { 0x3b, 0xc3, 0x74, 0x05 };         /* cmp %ebx,%eax; je */
	const uint8_t test[] = { 0x85, 0xc0, 0x7e, 0x10 };           /* test %eax,%eax; jle */

	CHECK_INT(uprobe_site_len(rex_rel32, sizeof(rex_rel32)), 3);
	CHECK_INT(uprobe_site_len(cmp_3b, sizeof(cmp_3b)), 2);
	CHECK_INT(uprobe_site_len(test, sizeof(test)), 2);
}

static void test_other_shapes_are_refused(void)
{
	const uint8_t mem[] = { 0x3b, 0x44, 0x24, 0x08, JNE_REL8 };  /* cmp 8(%rsp),%eax */
	const uint8_t no_jump[] = { 0x39, 0xd8, 0x89, 0xc3 };        /* cmp; mov */
	const uint8_t mov[] = { 0x89, 0xc3, JNE_REL8 };              /* mov writes %ebx */
	const uint8_t imm[] = { 0x83, 0xf8, 0x00, JNE_REL8 };        /* cmp $0,%eax */
	const uint8_t cut_rel32[] = { 0x39, 0xd8, 0x0f, 0x85, 0x35 };

	CHECK_INT(uprobe_site_len(mem, sizeof(mem)), 0);
	CHECK_INT(uprobe_site_len(no_jump, sizeof(no_jump)), 0);
	CHECK_INT(uprobe_site_len(mov, sizeof(mov)), 0);
	CHECK_INT(uprobe_site_len(imm, sizeof(imm)), 0);
	CHECK_INT(uprobe_site_len(cut_rel32, sizeof(cut_rel32)), 0);
	CHECK_INT(uprobe_site_len(mem, 1), 0);
	CHECK_INT(uprobe_site_len(mem, 0), 0);
}

static long site_field(uint64_t cookie, unsigned f)
{
	return (long)((cookie >> (f * TW_UP_OFF_BITS)) & TW_UP_OFF_MASK);
}

/* The writer's probe gets the SSL's server flag offset (it records no
 * chain written for a client's SSL) only with the register that holds
 * the SSL: without it, nothing of the SSL is read. */
static void test_site_cookie_carries_the_server_flag_with_the_register(void)
{
	struct uprobe_site site = { .frame_off = 0x58, .ssl_reg = 3 };
	uint64_t cookie = uprobe_site_cookie(&site, 0x1c8, 0x24);

	CHECK_INT(site_field(cookie, TW_UP_SITE_FRAME), 0x58);
	CHECK_INT(site_field(cookie, TW_UP_SITE_ALPN), 0x1c8);
	CHECK_INT(site_field(cookie, TW_UP_SITE_REG), 3);
	CHECK_INT(site_field(cookie, TW_UP_SITE_SERVER), 0x24);
	site.ssl_reg = 0;
	cookie = uprobe_site_cookie(&site, 0x1c8, 0x24);
	CHECK_INT(site_field(cookie, TW_UP_SITE_ALPN), 0);
	CHECK_INT(site_field(cookie, TW_UP_SITE_SERVER), 0);
	CHECK_INT(site_field(cookie, TW_UP_SITE_FRAME), 0x58);
}

int main(void)
{
	RUN_TEST(test_debian_openssl_3_0_writer);
	RUN_TEST(test_other_register_compares);
	RUN_TEST(test_other_shapes_are_refused);
	RUN_TEST(test_site_cookie_carries_the_server_flag_with_the_register);
	return CHECK_EXIT_CODE();
}
