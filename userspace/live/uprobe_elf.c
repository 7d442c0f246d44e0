// SPDX-License-Identifier: MIT
/*
 * Where in a function to put a uprobe so that it costs one trap. The
 * kernel emulates a few first instructions (push, mov to a register, jmp,
 * call); any other is single-stepped out of line, which takes a second
 * exception: ~10 us instead of ~1 us here (a VM). Two openings are
 * skipped, generically (the bytes are checked, not the build):
 *   - "endbr64" (f3 0f 1e fa), the landing pad that CET-enabled builds
 *     (-fcf-protection: Ubuntu, Fedora, RHEL) put first in every function
 *     called indirectly or exported; the kernel does not emulate it
 *     (measured on 6.18: 9.4 us a call with the probe on it, 1.1 us on the
 *     push after it). It changes no register and not %rsp, so a probe just
 *     past it sees the same arguments, and a return probe there still
 *     finds the return address at (%rsp).
 *   - OpenSSL's SSL_free's NULL check, "test %rdi,%rdi; je ...", where the
 *     hook asks for it: a probe just past it sees the same %rdi (the SSL,
 *     never NULL there) and lands on a push. Not for a return probe: the
 *     branch taken skips it.
 * Anything else is probed where it begins, as usual.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <string.h>
#include <unistd.h>

#include "uprobes.h"

/* The address of dynamic symbol @name in @e (0 if absent). */
static GElf_Addr dynsym_addr(Elf *e, const char *name)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	GElf_Sym sym;
	Elf_Data *d;
	size_t i, n;

	while ((scn = elf_nextscn(e, scn))) {
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNSYM || !sh.sh_entsize)
			continue;
		d = elf_getdata(scn, NULL);
		n = sh.sh_size / sh.sh_entsize;
		for (i = 0; d && i < n; i++) {
			const char *s;

			if (!gelf_getsym(d, (int)i, &sym) || !sym.st_value)
				continue;
			s = elf_strptr(e, sh.sh_link, sym.st_name);
			if (s && !strcmp(s, name))
				return sym.st_value;
		}
	}
	return 0;
}

/* The file offset of address @addr (in a section that has bytes). */
static off_t addr_to_offset(Elf *e, GElf_Addr addr)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(e, scn))) {
		if (!gelf_getshdr(scn, &sh) || sh.sh_type == SHT_NOBITS)
			continue;
		if (addr >= sh.sh_addr && addr < sh.sh_addr + sh.sh_size)
			return (off_t)(addr - sh.sh_addr + sh.sh_offset);
	}
	return -1;
}

/* Bytes of "test %rdi,%rdi; je rel8|rel32" at @b (@n bytes), or 0. */
static size_t null_check_len(const uint8_t *b, size_t n)
{
	if (n < 5 || b[0] != 0x48 || b[1] != 0x85 || b[2] != 0xff)
		return 0;
	if (b[3] == 0x74)
		return 5;
	if (n >= 9 && b[3] == 0x0f && b[4] == 0x84)
		return 9;
	return 0;
}

/* Bytes of "endbr64" at @b (@n bytes), or 0. */
static size_t endbr64_len(const uint8_t *b, size_t n)
{
	static const uint8_t endbr64[] = { 0xf3, 0x0f, 0x1e, 0xfa };

	if (n < sizeof(endbr64) || memcmp(b, endbr64, sizeof(endbr64)))
		return 0;
	return sizeof(endbr64);
}

size_t uprobe_skip_len(const uint8_t *head, size_t n, bool past_null_check)
{
	size_t skip = endbr64_len(head, n);

	if (past_null_check)
		skip += null_check_len(head + skip, n - skip);
	return skip;
}

long uprobe_probe_offset(const char *path, const char *func,
			 bool past_null_check)
{
	uint8_t head[UPROBE_HEAD_BYTES];
	ssize_t got = -1;
	GElf_Addr addr;
	Elf *e = NULL;
	off_t off;
	int fd;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	e = elf_begin(fd, ELF_C_READ, NULL);
	addr = e ? dynsym_addr(e, func) : 0;
	off = addr ? addr_to_offset(e, addr) : -1;
	if (off >= 0)
		got = pread(fd, head, sizeof(head), off);
	elf_end(e);
	close(fd);
	return got > 0 ? (long)uprobe_skip_len(head, (size_t)got, past_null_check) : 0;
}
