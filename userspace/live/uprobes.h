/* SPDX-License-Identifier: MIT */
/*
 * Uprobes on the servers' TLS library (bpf/uprobes.bpf.c): the chain each
 * connection was served and the fatal alerts the server read, TLS 1.3
 * included, as struct tw_server_view beside the segments of the live
 * source (same ring buffer, same order).
 *
 * Typical use, after live_open():
 *   live_set_view_fn(l, pipeline_server_view, pl);
 *   uprobes_open(l, &opts, note, ctx, &u, err, sizeof(err));
 *   ... live_poll() as usual ...
 *   uprobes_close(u);            (before live_close())
 *
 * Libraries supported: OpenSSL 3 (libssl.so.3 and libcrypto.so.3, which
 * export every hooked symbol). Uprobes are attached by library file, for
 * every process that maps it (pid -1): servers started later, and the new
 * workers of a reload, are followed without a rescan. They are bpf_link
 * based (perf_event_open of the "uprobe" PMU): closing the agent's fds
 * (exit, SIGKILL) detaches them; nothing is left in tracefs.
 */
#ifndef TW_UPROBES_H
#define TW_UPROBES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capture/server_view.h"
#include "live.h"
#include "tlswatch/event.h"

#define UPROBES_MAX_LIBS 16        /* library files hooked at once */

struct uprobes;

struct uprobes_opts {
	/* auto: the libraries mapped by the processes listening on @ports
	 * (in the agent's network namespace), and the system's OpenSSL 3
	 * (the copy the agent itself links), for servers started later */
	bool auto_find;
	const char *const *paths;      /* or these files (libssl/libcrypto) */
	int n_paths;
	const uint16_t *ports;
	int n_ports;
};

/* What the operator should know (state: "uprobes_attached",
 * "uprobes_unsupported"; message: which libraries, which processes). */
typedef void (*uprobes_note_fn)(void *ctx, const char *state,
				const char *message);

/*
 * Loads the uprobe programs into @l's ring buffer and maps, and attaches
 * them to the libraries @o names or finds. Returns 0; -ENOENT when auto
 * found no supported library (nothing attached, @err says why); other
 * -errno with @err naming the library and symbol.
 */
int uprobes_open(struct live *l, const struct uprobes_opts *o,
		 uprobes_note_fn note, void *note_ctx, struct uprobes **out,
		 char *err, size_t errlen);

/* Whether a libssl hooked has the offsets of its selected ALPN and of
 * the int that says an SSL is a server's known (uprobe_calibrate()): its
 * servers' SSL_free views carry the protocol. */
bool uprobes_follow_alpn(const struct uprobes *u);

/* Detaches every uprobe, frees @u. NULL is ok. */
void uprobes_close(struct uprobes *u);

/* The kernel side's counters summed over CPUs (enum tw_up_counter). */
int uprobes_counters(const struct live *l, uint64_t out[TW_UP_CNT__MAX]);

/* ---- discovery (uprobe_find.c), exported for tests ---- */

/*
 * The offsets in the SSL object, for the libssl this process links, of the
 * last alert it sent (level, description), of the fatal alert it read
 * (an int), of the ALPN protocol it selected (s3.alpn_selected, its
 * length the word after it), and of the int that says it is a server's
 * (SSL_is_server()); each 0 when it cannot be told (uprobe_calib.c and
 * uprobe_calib_alpn.c say how they are measured).
 */
struct uprobe_alert_offsets {
	long sent, read, alpn, server;
};

struct uprobe_lib {
	char path[4096];               /* to attach by; may be /proc/PID/root/... */
	uint64_t dev, ino;
	bool is_ssl;                   /* libssl (else libcrypto) */
	struct uprobe_alert_offsets alert_off; /* see uprobe_calibrate() */
};

/*
 * The inodes of the TCP sockets listening on @ports, in the network
 * namespace of /proc/self/net. Count (at most @max) or -errno.
 */
int uprobe_listen_inodes(const uint16_t *ports, int n_ports, uint64_t *inodes,
			 int max);

/* Whether process @pid holds one of the @n socket @inodes. */
bool uprobe_pid_holds(int pid, const uint64_t *inodes, int n);

/*
 * The OpenSSL 3 libraries process @pid maps ("self" for -1), added to
 * @libs (*@n of at most @max, each file once). *@other gets the name of a
 * TLS library it maps that is not supported (libssl.so.1.1, libgnutls...)
 * or "". Returns how many OpenSSL 3 files it maps, or -errno.
 */
int uprobe_pid_libs(int pid, struct uprobe_lib *libs, int *n, int max,
		    char *other, size_t otherlen);

/* The libssl and libcrypto this process links (what the calibrations
 * measure); 0 or -ENOENT. */
int uprobe_own_libs(struct uprobe_lib *ssl, struct uprobe_lib *crypto);

/* Kind of a library path: 1 libssl.so.3, 2 libcrypto.so.3, 0 other TLS
 * library, -1 not a TLS library. */
int uprobe_lib_kind(const char *path);

/* The fatal alerts' and the ALPN's offsets in an SSL object: see
 * uprobe_calibrate(). */
struct uprobe_alert_offsets uprobe_calibrate(void);

/* The selected ALPN's offset alone (uprobe_calib_alpn.c), or 0. */
long uprobe_calibrate_alpn(void);

/* ---- the Certificate writer's site (uprobe_site.c) ---- */

/* Where, in the libssl file dev/ino, the writer's probe goes (offset in
 * the file) and where the writer's output pointer is in its frame
 * (frame_off bytes above %rsp there): the probe's attach cookie. */
struct uprobe_site {
	uint64_t dev, ino;
	long offset;                   /* 0: none */
	uint64_t frame_off;
	unsigned ssl_reg;              /* the register holding the SSL there
					* (1..TW_UP_SITE_REGS), 0: unknown */
};

/*
 * Measures the site in the libssl this process links, with @skel's
 * calibration program (loaded). 0 with @site filled, or -errno (-ENOENT:
 * not this shape, or not found; the i2d_X509 probes are used instead).
 */
struct uprobes_bpf;
int uprobe_site_find(struct uprobes_bpf *skel, struct uprobe_site *site);

/* The writer's probe's attach cookie (enum tw_up_site_field), with
 * @alpn_off the offset of the selected ALPN in the SSL and @server_off
 * that of its SSL_is_server() int (0: unknown). */
uint64_t uprobe_site_cookie(const struct uprobe_site *site, long alpn_off,
			    long server_off);

/* Bytes of the register compare before the conditional jump at @b (@n
 * bytes: the instructions an i2d_X509 call returns to), or 0 when @b is
 * not that shape. */
size_t uprobe_site_len(const uint8_t *b, size_t n);

/* ---- in-memory handshakes the calibrations make (uprobe_mem.c) ---- */

struct ssl_st;
struct ssl_ctx_st;
struct evp_pkey_st;
struct x509_st;

/* A new SSL of @ctx reading and writing two memory BIOs it owns, or NULL. */
struct ssl_st *uprobe_mem_ssl(struct ssl_ctx_st *ctx);

/* The two contexts of in-memory TLS 1.3 handshakes: the server's, with a
 * fresh P-256 key and a throwaway self-signed certificate, and the
 * client's, offering the ALPN list @alpn (wire format; NULL: none). */
struct uprobe_mem_peers {
	struct ssl_ctx_st *server, *client;
};

/* 0, or -1 with both NULL; uprobe_mem_peers_close() in either case. */
int uprobe_mem_peers_open(struct uprobe_mem_peers *p, const uint8_t *alpn,
			  unsigned alpn_len);
void uprobe_mem_peers_close(struct uprobe_mem_peers *p);

/* @cli and @srv (uprobe_mem_ssl()) through a whole handshake, a bounded
 * exchange of flights; whether both finished it. */
bool uprobe_mem_handshake(struct ssl_st *cli, struct ssl_st *srv);

/* SSL_free's attach cookie of @o (enum tw_up_cookie_field); an offset too
 * large for its field is left out (0). */
uint64_t uprobe_offsets_cookie(struct uprobe_alert_offsets o);

/* @value in cookie field @field (TW_UP_OFF_BITS wide), or 0 when it is not
 * in 1..TW_UP_OFF_MASK. */
uint64_t uprobe_cookie_field(long value, unsigned field);

/*
 * How many bytes into @func of the library @path a uprobe should go so
 * that its first instruction is one the kernel emulates: past a leading
 * endbr64, and with @past_null_check past SSL_free's NULL check ("test
 * %rdi,%rdi; je") too; 0 if neither is there or the file cannot be read
 * (uprobe_elf.c says why).
 */
long uprobe_probe_offset(const char *path, const char *func,
			 bool past_null_check);

/* The same decision on the first @n bytes of a function (@head). */
#define UPROBE_HEAD_BYTES 13 /* endbr64 (4) + test (3) + je rel32 (6) */
size_t uprobe_skip_len(const uint8_t *head, size_t n, bool past_null_check);

/* ---- record assembly (uprobe_rec.c), used by live.c ---- */

struct up_asm;
struct up_asm_stats {
	uint64_t chains_bound;         /* chains handed on with a connection */
	uint64_t chains_lost;          /* incomplete: too big, or a record lost */
	uint64_t chains_unbound;       /* no packet named their connection */
	uint64_t certs_too_big;
	uint64_t alerts_bound;
	uint64_t alpns_bound;          /* selected ALPN protocols handed on */
	uint64_t bad_records;
};

struct up_asm *up_asm_new(void);
void up_asm_free(struct up_asm *a);
/* One TW_EV_UP_* record; a bind calls @fn with the view. 0 or -errno. */
int up_asm_record(struct up_asm *a, const void *rec, size_t size,
		  int64_t mono_to_real_ns, tw_server_view_fn fn, void *ctx);
const struct up_asm_stats *up_asm_stats(const struct up_asm *a);
/* Remembers the executable of @pid (read while the agent may). */
void up_asm_note_exe(struct up_asm *a, uint32_t pid, const char *path);

#endif
