// SPDX-License-Identifier: MIT
/*
 * Where libssl writes each certificate of its Certificate message: the
 * one place a single uprobe sees the DER just written (bpf/uprobes.bpf.c,
 * tw_up_cert_site), one trap per certificate where hooking i2d_X509's
 * entry and return costs four (~2 us each inside a handshake: the
 * difference is most of the uprobes' cost per handshake).
 *
 * The writer (OpenSSL 3's ssl_add_cert_to_wpacket, not exported) does
 *     len = i2d_X509(x, NULL);
 *     ... reserve len bytes at outbytes ...
 *     if (i2d_X509(x, &outbytes) != len) fail;
 * which compiles to "call i2d_X509; cmp %reg,%eax; jne fail". On that
 * jne, the DER is written, %eax is its length, and outbytes, which
 * i2d_X509 moved past the DER, is a local in the writer's stack frame.
 *
 * Nothing of this is assumed: it is measured in the libssl this process
 * links, so it applies to servers that map that same file only. A uprobe
 * on i2d_X509's entry, for this thread alone, watches one in-memory
 * handshake (uprobe_mem.c): the calls that write into a buffer must all
 * return to one address in libssl; there the bytes of the file must be
 * that register compare and a conditional jump (the only shape accepted:
 * the probe goes on the jump, an instruction the kernel emulates, and the
 * compare before it writes no register); and the output pointer's address
 * at the call gives its place in the frame. Anything else: no site, and
 * the i2d_X509 probes are used.
 *
 * The SSL is there too, in a callee-saved register (the writer's first
 * argument, kept across the call): which one is watched at the site over
 * one more handshake, the register holding the calibration server's SSL.
 * With it, the probe reads the selected ALPN protocol as the first
 * certificate is written, instead of at SSL_free.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sys/sysmacros.h>

#include <bpf/libbpf.h>
#include <openssl/ssl.h>

#include "uprobes.h"
#include "uprobes.skel.h"

#define SITE_READ       16     /* REX + cmp (3) + jcc rel32 (6) fit */
#define SITE_MAX_FRAME  4096   /* the output pointer's farthest place in the frame */

/* Bytes of "cmp %r,%r" or "test %r,%r" at @b (opcode 39, 3b or 85 with a
 * register-only ModRM, after an optional REX prefix), or 0. */
static size_t reg_compare_len(const uint8_t *b, size_t n)
{
	size_t i = n > 0 && (b[0] & 0xf0) == 0x40; /* REX */

	if (n < i + 2 || (b[i] != 0x39 && b[i] != 0x3b && b[i] != 0x85) ||
	    (b[i + 1] & 0xc0) != 0xc0)
		return 0;
	return i + 2;
}

/* Whether @b starts with a conditional jump (rel8: 7x; rel32: 0f 8x). */
static bool is_jcc(const uint8_t *b, size_t n)
{
	return (n >= 2 && (b[0] & 0xf0) == 0x70) ||
	       (n >= 6 && b[0] == 0x0f && (b[1] & 0xf0) == 0x80);
}

size_t uprobe_site_len(const uint8_t *b, size_t n)
{
	size_t c = reg_compare_len(b, n);

	return c && is_jcc(b + c, n - c) ? c : 0;
}

/* The offset in @lib's file of this process's address @addr; -1 if @addr
 * is not in a mapping of that file. */
static long self_file_offset(const struct uprobe_lib *lib, uint64_t addr)
{
	uint64_t start, end, off, ino;
	unsigned maj, min;
	char line[4608];
	long found = -1;
	FILE *f = fopen("/proc/self/maps", "re");

	if (!f)
		return -1;
	while (found < 0 && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %*s %" SCNx64 " %x:%x %" SCNu64,
			   &start, &end, &off, &maj, &min, &ino) != 6)
			continue;
		if (addr >= start && addr < end && ino == lib->ino &&
		    makedev(maj, min) == lib->dev)
			found = (long)(addr - start + off);
	}
	fclose(f);
	return found;
}

/* One in-memory TLS 1.3 handshake; whether it completed. *@server: the
 * address of the server's SSL. */
static bool one_handshake(uint64_t *server)
{
	struct uprobe_mem_peers p;
	SSL *cli = NULL, *srv = NULL;
	bool ok = false;

	if (!uprobe_mem_peers_open(&p, NULL, 0)) {
		cli = uprobe_mem_ssl(p.client);
		srv = cli ? uprobe_mem_ssl(p.server) : NULL;
		ok = srv && uprobe_mem_handshake(cli, srv);
	}
	*server = (uint64_t)(uintptr_t)srv;
	SSL_free(srv);
	SSL_free(cli);
	uprobe_mem_peers_close(&p);
	return ok;
}

/* Watches one handshake with the calibration probe on @crypto's i2d_X509,
 * for this thread only; 0 when the writing calls were seen. */
static int watch_writes(struct uprobes_bpf *skel, const struct uprobe_lib *crypto)
{
	LIBBPF_OPTS(bpf_uprobe_opts, uo, .func_name = "i2d_X509");
	struct bpf_link *link;
	uint64_t server;
	bool ok;

	skel->bss->tw_up_site_calls = 0;
	skel->bss->tw_up_site_elsewhere = 0;
	link = bpf_program__attach_uprobe_opts(skel->progs.tw_up_site_calib, gettid(),
					       crypto->path,
					       (size_t)uprobe_probe_offset(crypto->path,
									   "i2d_X509", false),
					       &uo);
	if (!link)
		return -errno;
	ok = one_handshake(&server);
	bpf_link__destroy(link);
	if (!ok || !skel->bss->tw_up_site_calls || skel->bss->tw_up_site_elsewhere)
		return -ENOENT;
	return 0;
}

/*
 * Which callee-saved register holds the server's SSL at the site (1..),
 * watched there for this thread over one more handshake: the one that
 * holds its address, when exactly one does; 0 otherwise (the certificates
 * are read all the same, the ALPN protocol at SSL_free only).
 */
static unsigned find_ssl_reg(struct uprobes_bpf *skel, const struct uprobe_lib *ssl,
			     long offset)
{
	LIBBPF_OPTS(bpf_uprobe_opts, uo);
	struct bpf_link *link;
	unsigned i, reg = 0;
	uint64_t server;
	bool ok;

	memset(skel->bss->tw_up_site_regs, 0, sizeof(skel->bss->tw_up_site_regs));
	link = bpf_program__attach_uprobe_opts(skel->progs.tw_up_site_calib_regs,
					       gettid(), ssl->path, (size_t)offset, &uo);
	if (!link)
		return 0;
	ok = one_handshake(&server);
	bpf_link__destroy(link);
	for (i = 0; ok && i < TW_UP_SITE_REGS; i++) {
		if (skel->bss->tw_up_site_regs[i] != server)
			continue;
		if (reg)
			return 0; /* two: not sure, so none */
		reg = i + 1;
	}
	return reg;
}

uint64_t uprobe_site_cookie(const struct uprobe_site *site, long alpn_off,
			    long server_off)
{
	/* the SSL's offsets are of no use without the register that holds it */
	return uprobe_cookie_field((long)site->frame_off, TW_UP_SITE_FRAME) |
	       uprobe_cookie_field(site->ssl_reg ? alpn_off : 0, TW_UP_SITE_ALPN) |
	       uprobe_cookie_field(site->ssl_reg, TW_UP_SITE_REG) |
	       uprobe_cookie_field(site->ssl_reg ? server_off : 0, TW_UP_SITE_SERVER);
}

int uprobe_site_find(struct uprobes_bpf *skel, struct uprobe_site *site)
{
	struct uprobe_lib ssl, crypto;
	uint8_t b[SITE_READ];
	uint64_t frame;
	ssize_t got = -1;
	long off;
	size_t len;
	int fd, r;

	memset(site, 0, sizeof(*site));
	r = uprobe_own_libs(&ssl, &crypto);
	if (!r)
		r = watch_writes(skel, &crypto);
	if (r)
		return r;
	off = self_file_offset(&ssl, skel->bss->tw_up_site_ret);
	fd = off < 0 ? -1 : open(ssl.path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		got = pread(fd, b, sizeof(b), off);
		close(fd);
	}
	/* the caller's %rsp, once the call has returned: 8 above the entry's */
	frame = skel->bss->tw_up_site_out - (skel->bss->tw_up_site_sp + 8);
	len = got > 0 ? uprobe_site_len(b, (size_t)got) : 0;
	if (!len || frame >= SITE_MAX_FRAME || frame % 8)
		return -ENOENT;
	site->dev = ssl.dev;
	site->ino = ssl.ino;
	site->offset = off + (long)len;
	site->frame_off = frame;
	site->ssl_reg = find_ssl_reg(skel, &ssl, site->offset);
	return 0;
}
