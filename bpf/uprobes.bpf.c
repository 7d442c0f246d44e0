// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Uprobes on the server's TLS library (OpenSSL 3: libssl.so.3 and
 * libcrypto.so.3): the certificate chain a server thread serves, and the
 * fatal alerts it sends and reads, TLS 1.3 included, where the wire shows
 * neither.
 *
 * Hooks (attached by library path, so every process that maps the file is
 * covered, also one started later):
 *   - The certificates, leaf first, as libssl's Certificate message writer
 *     writes them. It calls i2d_X509 (libcrypto) twice per certificate:
 *     once to learn the length (out == NULL), once to write the DER into
 *     the message. Two ways to catch the second:
 *       - the writer's site (tw_up_cert_site): one probe inside the
 *         writer, just after that call, where the agent's own libssl has
 *         it (found at start, uprobe_site.c): one trap per certificate;
 *       - elsewhere, i2d_X509's entry and return: the entry keeps the
 *         destination of the second call, the return copies what was
 *         written there: four traps per certificate.
 *     Either copies the DER into the ring buffer and adds it to the
 *     thread's pending chain; the writer's site first skips one written
 *     for a client's SSL (a proxy's client certificate), which the
 *     i2d_X509 hooks, not knowing the SSL, cannot. A chain is the certificates written back to
 *     back: one more than TW_UP_CHAIN_GAP_NS after the last starts a new
 *     chain.
 *   - SSL_free entry (libssl, only where the offsets of the SSL's alerts
 *     are known: the attach cookie, see uprobe_calibrate()): the fatal
 *     alerts the server sent and read on that connection, TLS 1.3's
 *     encrypted ones too (servers free the SSL before they close the
 *     socket), and the ALPN protocol it selected (TLS 1.3 encrypts it).
 *   - Not a uprobe: the kernel's sched_process_free tracepoint, where a
 *     thread gone takes its pending entry with it (tw_up_task_free).
 *
 * Which connection: none of these knows its socket. For a chain, the
 * thread's next packet sent from a local socket on a watched flow does
 * (the Certificate is written right after it is built): the TC program
 * (tlswatch.bpf.c, tw_up_bind) looks up the pending entry by
 * bpf_get_current_pid_tgid() and emits TW_EV_UP_BIND with the packet's
 * 4-tuple. What SSL_free read goes to the socket the thread closes next
 * (tw_up_tcp_close, a BTF tracepoint), and waits there, by the socket's
 * cookie, for that connection's FIN or RST.
 *
 * The probes only read the server's memory (bpf_probe_read_user) and never
 * write it or change a return value: the server does what it would do
 * without them.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include "tlswatch/event.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

#define TW_UP_ALERT_FATAL    2
#define TW_UP_CHAIN_GAP_NS   1000000ull /* 1 ms: see above */

/* Reused from the TC object (bpf_map__reuse_fd): one ring, one order. */
#include "uprobe_maps.h"

/*
 * Our own: the destination of an i2d_X509 call in flight, per thread. In
 * the task itself (task storage: a few loads, no hashing, no lock), which
 * costs the server less than a hash map would at both probes; 0: none.
 */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u64);
} tw_up_dest SEC(".maps");

/*
 * The connections whose ALPN protocol went out with their chain
 * (tw_up_chain_alpn), by SSL object and process; the value is the chain's
 * handshake id. SSL_free, which reads the protocol again, sends it only
 * for a connection not here (resumed, without a chain; its chain read at
 * i2d_X509, where the SSL is not known) or whose chain never named its
 * connection, and forgets the entry: the SSL's address may be reused.
 * Before, every such connection's protocol went out a second time at
 * SSL_free, under a new id, bound to its close. Past TW_UP_ALPN_SSLS
 * connections open at once, the oldest are forgotten and theirs goes out
 * twice, as before (an update the map refuses too: counted,
 * uprobe_alpns_unnoted). An SSL reused for another connection
 * (SSL_clear) is a new connection: its entry goes there
 * (tw_up_clear_enter), or the next connection's protocol, a resumed one's
 * read at SSL_free only, was taken for sent already and lost.
 */
#define TW_UP_ALPN_SSLS 16384

struct tw_up_ssl_key {
	__u64 ssl;
	__u32 tgid;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, TW_UP_ALPN_SSLS);
	__type(key, struct tw_up_ssl_key);
	__type(value, __u64);
} tw_up_alpn_sent SEC(".maps");

/* Handshake ids: unique for the life of the loaded program. */
__u64 tw_up_next_id;

static __always_inline struct tw_up_counters *tw_up_cnt(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&tw_up_counters, &zero);
}

static __always_inline void tw_up_count(enum tw_up_counter c, __u64 n)
{
	struct tw_up_counters *cnt = tw_up_cnt();

	if (cnt && c < TW_UP_CNT__MAX)
		cnt->c[c] += n;
}

SEC("uprobe")
int BPF_KPROBE(tw_up_i2d_enter, void *x509, __u8 **out)
{
	__u64 dest = 0, *slot;

	/* the length query (out == NULL) and i2d's own allocation
	 * (*out == NULL) are not the Certificate message */
	if (!out || bpf_probe_read_user(&dest, sizeof(dest), out) || !dest)
		return 0;
	slot = bpf_task_storage_get(&tw_up_dest, bpf_get_current_task_btf(), 0,
				    BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (slot)
		*slot = dest;
	return 0;
}

/* The thread's pending chain, continued or started: the cert's index. */
static __always_inline int tw_up_chain_add(__u64 id, __u64 now,
					   struct tw_up_info *info)
{
	struct tw_up_pending *p = bpf_map_lookup_elem(&tw_up_pending, &id);
	struct tw_up_pending np = {};

	if (p && (p->flags & TW_UPF_CHAIN) && now - p->ts_ns < TW_UP_CHAIN_GAP_NS) {
		info->hs_id = p->hs_id;
		info->cert_index = p->n_certs;
		p->n_certs++;
		p->ts_ns = now;
		return 0;
	}
	np.hs_id = __sync_fetch_and_add(&tw_up_next_id, 1) + 1;
	np.ts_ns = now;
	np.tgid = id >> 32;
	np.n_certs = 1;
	np.flags = TW_UPF_CHAIN;
	/* what SSL_free read waits elsewhere (tw_up_freed_q), for its
	 * connection's close: a new chain takes nothing of it */
	if (bpf_map_update_elem(&tw_up_pending, &id, &np, BPF_ANY))
		return -1;
	info->hs_id = np.hs_id;
	info->cert_index = 0;
	tw_up_count(TW_UP_CNT_CHAINS, 1);
	return 0;
}

/*
 * One record: @n (1..TW_UP_CHUNK, or 0 for an announcement) DER bytes (the
 * ALPN protocol's, TW_EV_UP_ALPN, when @info's flags say TW_UPF_ALPN) from
 * the server's address @src + @off (a number: a global function takes no
 * pointer it cannot check). A global function: verified once, not per loop turn.
 */
__noinline int tw_up_emit(const struct tw_up_info *info, __u64 src,
			  __u32 off, __u32 n, __u32 total)
{
	struct tw_up_info *ri;
	struct tw_event *ev;
	__u64 len = n;
	__u8 *der;

	if (!info)
		return -1;
	ev = bpf_ringbuf_reserve(&tw_events, TW_UP_REC_BYTES, 0);
	if (!ev) {
		tw_up_count(TW_UP_CNT_LOST, 1);
		return -1;
	}
	ri = (void *)(ev + 1);
	der = (void *)(ri + 1);
	__builtin_memset(ev, 0, sizeof(*ev));
	*ri = *info;
	barrier_var(len);
	if (len > TW_UP_CHUNK)
		len = TW_UP_CHUNK;
	barrier_var(len);
	if (len && bpf_probe_read_user(der, len, (const void *)(src + off))) {
		bpf_ringbuf_discard(ev, 0);
		return -1;
	}
	ev->ts_ns = bpf_ktime_get_ns();
	ev->kind = info->flags & TW_UPF_ALPN ? TW_EV_UP_ALPN : TW_EV_UP_CERT;
	ev->wire_len = total;
	ev->chunk_off = off;
	ev->chunk_len = len;
	bpf_ringbuf_submit(ev, BPF_RB_NO_WAKEUP);
	return 0;
}

/*
 * The current process's executable into @info->exe, file name first,
 * walking the dentries up to the process's root; exe_parts stays 0 when
 * the path has more components than fit, or crosses a mount (the walk
 * would end at that mount's root, not the process's: a wrong path is worse
 * than none).
 */
static __always_inline void tw_up_exe(struct tw_up_info *info)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct dentry *d, *parent, *root;
	int i;

	d = BPF_CORE_READ(task, mm, exe_file, f_path.dentry);
	root = BPF_CORE_READ(task, fs, root.dentry);
	for (i = 0; i < TW_UP_EXE_PARTS && d; i++) {
		parent = BPF_CORE_READ(d, d_parent);
		if (parent == d) /* the top of a mount */
			break;
		if (bpf_probe_read_kernel_str(info->exe[i], TW_UP_EXE_PART,
					      BPF_CORE_READ(d, d_name.name)) < 0)
			return;
		d = parent;
	}
	if (d && d == root && i > 0 && i < TW_UP_EXE_PARTS + 1)
		info->exe_parts = i;
}

/*
 * A certificate of @ret DER bytes the thread just wrote at @dest in the
 * server's memory: into the thread's pending chain and the ring buffer;
 * @info (zeroed) says under which handshake id and index: its hs_id stays
 * 0 when the thread's chain could be neither continued nor started.
 */
static __always_inline int tw_up_cert_written(__u64 dest, int ret,
					      struct tw_up_info *info)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 total, off = 0, n;
	int i;

	if (ret <= 0 || !dest)
		return 0;
	total = ret;
	info->tgid = id >> 32;
	info->tid = (__u32)id;
	bpf_get_current_comm(info->comm, sizeof(info->comm));
	if (tw_up_chain_add(id, bpf_ktime_get_ns(), info))
		return 0;
	if (info->cert_index == 0)
		tw_up_exe(info);
	if (total > TW_UP_CHUNK * TW_UP_MAX_CHUNKS) {
		info->flags = TW_UPF_TOO_BIG;
		tw_up_count(TW_UP_CNT_TOO_BIG, 1);
		tw_up_emit(info, dest, 0, 0, total);
		return 0;
	}
	for (i = 0; i < TW_UP_MAX_CHUNKS && off < total; i++) {
		n = total - off < TW_UP_CHUNK ? total - off : TW_UP_CHUNK;
		if (tw_up_emit(info, dest, off, n, total))
			return 0; /* userspace sees the hole and drops the cert */
		off += n;
	}
	tw_up_count(TW_UP_CNT_CERTS, 1);
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(tw_up_i2d_return, int ret)
{
	struct tw_up_info info = {};
	__u64 *destp, dest;

	destp = bpf_task_storage_get(&tw_up_dest, bpf_get_current_task_btf(), 0, 0);
	if (!destp || !*destp)
		return 0;
	dest = *destp;
	*destp = 0;
	return tw_up_cert_written(dest, ret, &info);
}

/*
 * The writer's site (one trap per certificate instead of four): in
 * libssl, on the conditional jump that follows "call i2d_X509; cmp" in
 * the Certificate message writer, the DER is written, %rax holds its
 * length, and the writer's output pointer, which i2d_X509 moved past it,
 * sits in the writer's stack frame at %rsp + the attach cookie. Where it
 * is, and that this shape is there, is measured at start (uprobe_site.c).
 */
/* Whether the @len bytes at @der start with a DER SEQUENCE of exactly
 * that length: what a certificate written there looks like. */
static __always_inline bool tw_up_is_der_seq(__u64 der, __u32 len)
{
	__u32 n, i, body = 0;
	__u8 h[5];

	if (len < 2 || bpf_probe_read_user(h, sizeof(h), (const void *)der) ||
	    h[0] != 0x30)
		return false;
	if (!(h[1] & 0x80))
		return len == 2 + h[1];
	n = h[1] & 0x7f;
	if (n < 1 || n > 3)
		return false;
	for (i = 0; i < 3; i++)
		if (i < n)
			body = body << 8 | h[2 + i];
	return len == 2 + n + body;
}

/* Callee-saved register @i (1..TW_UP_SITE_REGS, enum order), or 0. */
static __always_inline __u64 tw_up_reg(const struct pt_regs *regs, __u32 i)
{
	/* each read at its own constant offset: the verifier refuses a
	 * context pointer moved by a computed one, which a switch becomes */
	__u64 r[TW_UP_SITE_REGS] = { regs->bx, regs->bp, regs->r12,
				     regs->r13, regs->r14, regs->r15 };

	i -= 1;
	barrier_var(i);
	return i < TW_UP_SITE_REGS ? r[i] : 0;
}

static __always_inline __u32 tw_up_field(__u64 cookie, __u32 f)
{
	return (cookie >> (f * TW_UP_OFF_BITS)) & TW_UP_OFF_MASK;
}

/* The ALPN protocol selected in @ssl (s3.alpn_selected at @off: a
 * pointer, its length the word after it) into @sel; false when unknown,
 * none, or longer than an ALPN protocol can be. */
static __always_inline bool tw_up_alpn_read(__u64 ssl, __u32 off, __u64 sel[2])
{
	return ssl && off &&
	       !bpf_probe_read_user(sel, 2 * sizeof(__u64), (const void *)(ssl + off)) &&
	       sel[0] && sel[1] && sel[1] <= TW_UP_ALPN_MAX;
}

/*
 * The ALPN protocol the server selected, read from its SSL when it writes
 * the first certificate (TLS 1.3 chose it with the ClientHello, before
 * the Certificate): sent under the chain's id, so the packet that names
 * the connection carries both, and a connection that stays open long is
 * reported with it at once, without waiting for SSL_free.
 */
static __always_inline void tw_up_chain_alpn(__u64 ssl, __u32 off,
					     struct tw_up_info *info)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct tw_up_ssl_key k = { .ssl = ssl, .tgid = id >> 32 };
	struct tw_up_pending *p;
	__u64 sel[2]; /* pointer, length */

	if (!tw_up_alpn_read(ssl, off, sel))
		return;
	info->flags = TW_UPF_ALPN;
	if (tw_up_emit(info, sel[0], 0, sel[1], sel[1]))
		return;
	p = bpf_map_lookup_elem(&tw_up_pending, &id);
	if (p && p->hs_id == info->hs_id)
		p->flags |= TW_UPF_ALPN;
	if (bpf_map_update_elem(&tw_up_alpn_sent, &k, &info->hs_id, BPF_ANY))
		tw_up_count(TW_UP_CNT_ALPNS_UNNOTED, 1);
	tw_up_count(TW_UP_CNT_ALPNS, 1);
}

/*
 * Whether @ssl's ALPN protocol went out with its chain (tw_up_alpn_sent)
 * and that chain named its connection: it is no longer @p, the freeing
 * thread's pending chain. The entry goes either way, as the SSL does.
 */
static __always_inline bool tw_up_alpn_reported(__u64 id, __u64 ssl,
						const struct tw_up_pending *p)
{
	struct tw_up_ssl_key k = { .ssl = ssl, .tgid = id >> 32 };
	__u64 *hs_id = bpf_map_lookup_elem(&tw_up_alpn_sent, &k);
	bool reported;

	if (!hs_id)
		return false;
	reported = !(p && (p->flags & TW_UPF_CHAIN) && p->hs_id == *hs_id);
	bpf_map_delete_elem(&tw_up_alpn_sent, &k);
	return reported;
}

/*
 * SSL_clear entry (libssl, where the writer's site reads the ALPN
 * protocol): the SSL is made ready for a new connection (SSL_new calls it
 * too), so whatever tw_up_alpn_sent says of it was of an earlier one.
 */
SEC("uprobe")
int BPF_KPROBE(tw_up_clear_enter, void *ssl)
{
	struct tw_up_ssl_key k = {
		.ssl = (__u64)ssl, .tgid = bpf_get_current_pid_tgid() >> 32,
	};

	if (ssl)
		bpf_map_delete_elem(&tw_up_alpn_sent, &k);
	return 0;
}

/*
 * Whether @ssl is known to be a server's (SSL_is_server(): the int at
 * @off, 0 when unknown) into @server; false when its side is unknown.
 */
static __always_inline bool tw_up_side(__u64 ssl, __u32 off, __s32 *server)
{
	return ssl && off &&
	       !bpf_probe_read_user(server, sizeof(*server), (const void *)(ssl + off));
}

/*
 * A chain written for a client's SSL (a reverse proxy's client
 * certificate to its upstream, mTLS between tiers) is not recorded: as
 * the thread's pending chain it would be bound to the thread's next
 * server packet on a watched flow (the next served connection's) and
 * reported as that connection's chain, or have the chain served next
 * appended to it. Counted (uprobe_client_certs), nothing else.
 */
SEC("uprobe")
int BPF_KPROBE(tw_up_cert_site)
{
	__u64 cookie = bpf_get_attach_cookie(ctx), end;
	__u64 slot = PT_REGS_SP(ctx) + tw_up_field(cookie, TW_UP_SITE_FRAME);
	__u64 ssl = tw_up_reg(ctx, tw_up_field(cookie, TW_UP_SITE_REG));
	int len = (int)PT_REGS_RC(ctx);
	struct tw_up_info info = {};
	__s32 server = 0;

	/* the checks keep a jump from elsewhere to this spot, with other
	 * values in %rax and the frame, from being taken for a write */
	if (len <= 0 || bpf_probe_read_user(&end, sizeof(end), (const void *)slot) ||
	    !tw_up_is_der_seq(end - len, (__u32)len))
		return 0;
	if (tw_up_side(ssl, tw_up_field(cookie, TW_UP_SITE_SERVER), &server) &&
	    !server) {
		tw_up_count(TW_UP_CNT_CLIENT_CERTS, 1);
		return 0;
	}
	if (tw_up_cert_written(end - len, len, &info) || !info.hs_id)
		return 0;
	if (info.cert_index == 0)
		tw_up_chain_alpn(ssl, tw_up_field(cookie, TW_UP_SITE_ALPN), &info);
	return 0;
}

/*
 * A task freed (sched_process_free: after its exit, once its pid may be
 * given to a new one): its pending entry, which no packet of its can name
 * now, goes. Before, the entry of a thread that served a chain and then
 * exited before its next packet on a watched flow (killed mid-handshake;
 * a server on an unwatched port, whose chain waits until SSL_free) stayed
 * until the LRU pushed it out, and a thread later given the same pid and
 * tgid had its first server packet take the dead one's chain. (What its
 * SSL_free read waits in the task's storage, which goes with the task.)
 * Cost: one lookup (no lock) per task freed on the host while the
 * uprobes are attached; the delete only where there is an entry.
 */
SEC("tp_btf/sched_process_free")
int BPF_PROG(tw_up_task_free, struct task_struct *p)
{
	__u64 id = (__u64)p->tgid << 32 | (__u32)p->pid;

	if (bpf_map_lookup_elem(&tw_up_pending, &id))
		bpf_map_delete_elem(&tw_up_pending, &id);
	return 0;
}

/*
 * Calibration only, attached for the agent's own process during one
 * in-memory handshake (uprobe_site.c): where the calls of i2d_X509 that
 * write into a buffer return to, and where their output pointer lives.
 */
__u64 tw_up_site_ret;       /* the return address of the first such call */
__u64 tw_up_site_out;       /* its output pointer's address (%rsi) */
__u64 tw_up_site_sp;        /* %rsp at its entry */
__u32 tw_up_site_calls;     /* such calls */
__u32 tw_up_site_elsewhere; /* of them, returning elsewhere than the first */

/* Calibration only, at the site, for the agent's own thread: the
 * callee-saved registers there (one of them holds the SSL). */
__u64 tw_up_site_regs[TW_UP_SITE_REGS];

SEC("uprobe")
int BPF_KPROBE(tw_up_site_calib_regs)
{
	__u32 i;

	for (i = 0; i < TW_UP_SITE_REGS; i++)
		tw_up_site_regs[i] = tw_up_reg(ctx, i + 1);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(tw_up_site_calib, void *x509, __u8 **out)
{
	__u64 dest = 0, ret = 0, sp = PT_REGS_SP(ctx);

	if (!out || bpf_probe_read_user(&dest, sizeof(dest), out) || !dest ||
	    bpf_probe_read_user(&ret, sizeof(ret), (const void *)sp))
		return 0;
	if (!tw_up_site_calls) {
		tw_up_site_ret = ret;
		tw_up_site_out = (__u64)out;
		tw_up_site_sp = sp;
	} else if (ret != tw_up_site_ret) {
		tw_up_site_elsewhere++;
	}
	tw_up_site_calls++;
	return 0;
}

/*
 * What SSL_free read of the connections a thread freed, each waiting for
 * that thread's TCP close of its socket (tw_up_tcp_close), in the order
 * freed (every SSL freed has its entry, a client's or one with nothing
 * read too, so that its close takes its own): in the task (task storage: it goes with the thread, and only the thread
 * itself touches it, from the probes and its own close). Kept apart from
 * the thread's pending chain, which binds to any packet. Before, both
 * were one entry per thread: a chain the thread wrote for another
 * connection before that close dropped the alert the freed one sent (and
 * the ALPN protocol of one without a chain), a later SSL_free of another
 * connection deleted a waiting protocol or merged its alerts into the
 * waiting ones, and the close of a connection the agent does not see (one
 * over another interface: the agent's own active check over lo) left the
 * record for the next close it saw, of another connection.
 */
struct tw_up_freed_q {
	struct tw_up_freed r[TW_UP_FREED_QUEUE]; /* oldest first */
	__u32 n;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct tw_up_freed_q);
} tw_up_freed_q SEC(".maps");

/* @f at the end of the thread's queue; a full queue's oldest, whose close
 * never came, goes. */
static __always_inline void tw_up_freed_push(const struct tw_up_freed *f)
{
	struct tw_up_freed_q *q;
	__u32 n, j;

	q = bpf_task_storage_get(&tw_up_freed_q, bpf_get_current_task_btf(), 0,
				 BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!q)
		return;
	n = q->n;
	if (n >= TW_UP_FREED_QUEUE) {
		for (j = 0; j + 1 < TW_UP_FREED_QUEUE; j++)
			q->r[j] = q->r[j + 1];
		n = TW_UP_FREED_QUEUE - 1;
	}
	q->r[n] = *f;
	q->n = n + 1;
}

/*
 * The ALPN protocol @ssl selected (s3.alpn_selected at @off, its length
 * the word after it; TLS 1.3 sends it encrypted): a TW_EV_UP_ALPN record
 * under a new handshake id, which @f carries to the close that names the
 * connection.
 */
static __always_inline void tw_up_alpn(__u64 id, __u64 ssl, __u32 off,
				       struct tw_up_freed *f)
{
	struct tw_up_info info = {};
	__u64 sel[2]; /* pointer, length */

	if (!tw_up_alpn_read(ssl, off, sel))
		return;
	info.hs_id = __sync_fetch_and_add(&tw_up_next_id, 1) + 1;
	info.tgid = id >> 32;
	info.tid = (__u32)id;
	info.flags = TW_UPF_ALPN;
	/* the process of a connection without a chain (resumed) */
	bpf_get_current_comm(info.comm, sizeof(info.comm));
	if (tw_up_emit(&info, sel[0], 0, sel[1], sel[1]))
		return;
	f->hs_id = info.hs_id;
	f->flags |= TW_UPF_ALPN;
	tw_up_count(TW_UP_CNT_ALPNS, 1);
}

/*
 * SSL_free entry: the connection is over on the server's side. The SSL
 * still holds the last alert the library sent (level, description), the
 * fatal alert it read (an int) and the ALPN protocol it selected, at the
 * offsets the attach cookie gives (enum tw_up_cookie_field;
 * uprobe_calibrate(); 0: unknown); the close that follows names the
 * connection. A chain still pending on the thread was never sent on a
 * watched flow: it goes (not at a client's SSL_free: a proxy thread frees
 * its upstream's while its served connection's chain or protocol waits
 * for that connection's next packet). The ALPN protocol is not sent again when it went
 * out with the connection's chain (tw_up_alpn_reported). Neither alerts
 * nor the protocol are read from an SSL that is not a server's
 * (SSL_is_server(), its int at the offset TW_UP_OFF_SERVER; unknown:
 * nothing is read): a TLS client's SSL freed on the host (a reverse
 * proxy's upstream, curl, s_client) holds the alerts of its own
 * connection and the protocol its server selected, of no connection the
 * agent follows.
 */
SEC("uprobe")
int BPF_KPROBE(tw_up_free_enter, void *ssl)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u64 cookie = bpf_get_attach_cookie(ctx);
	__u32 off_sent = tw_up_field(cookie, TW_UP_OFF_SENT);
	__u32 off_read = tw_up_field(cookie, TW_UP_OFF_READ);
	__u32 off_alpn = tw_up_field(cookie, TW_UP_OFF_ALPN);
	__u32 off_server = tw_up_field(cookie, TW_UP_OFF_SERVER);
	struct tw_up_pending *p = bpf_map_lookup_elem(&tw_up_pending, &id);
	bool alpn_reported = ssl && tw_up_alpn_reported(id, (__u64)ssl, p);
	struct tw_up_freed f = { .tgid = id >> 32, .tid = (__u32)id };
	__s32 read, server = 0;
	bool side_known;
	__u8 sent[2];

	if (!ssl) /* SSL_free(NULL) frees nothing */
		return 0;
	side_known = tw_up_side((__u64)ssl, off_server, &server);
	/* a client's SSL (a proxy's upstream, freed while its served
	 * connection's chain or ALPN protocol waits on the thread for that
	 * connection's next packet): the pending entry is not its own, and
	 * the close that follows is its socket's (tw_up_tcp_close) */
	if (side_known && !server) {
		f.client = 1;
		tw_up_freed_push(&f);
		return 0;
	}
	if (p)
		bpf_map_delete_elem(&tw_up_pending, &id);
	/* one whose side is unknown (as a client's): its alerts and
	 * protocol may be of no connection served here; they would bind to
	 * the thread's next server packet on a watched flow (a proxy's next
	 * accepted connection) or wait in tw_up_pending for a thread that
	 * later serves under the same id */
	if (!side_known)
		return 0;
	if (off_read &&
	    !bpf_probe_read_user(&read, sizeof(read), (const void *)((__u64)ssl + off_read)) &&
	    read > 0 && read < 256) {
		f.alert = read;
		f.flags |= TW_UPF_ALERT;
		tw_up_count(TW_UP_CNT_ALERTS, 1);
	}
	if (off_sent &&
	    !bpf_probe_read_user(sent, sizeof(sent), (const void *)((__u64)ssl + off_sent)) &&
	    sent[0] == TW_UP_ALERT_FATAL) {
		f.alert_sent = sent[1];
		f.flags |= TW_UPF_ALERT_SENT;
		tw_up_count(TW_UP_CNT_ALERTS, 1);
	}
	if (!alpn_reported)
		tw_up_alpn(id, (__u64)ssl, off_alpn, &f);
	tw_up_freed_push(&f);
	return 0;
}

#define TW_SHUTDOWN_MASK 3 /* RCV_SHUTDOWN | SEND_SHUTDOWN, net/sock.h */

/*
 * The thread closes a connected TCP socket: close(2), or shutdown(2) with
 * SHUT_WR, moves it to FIN_WAIT1 (or, after the client's FIN, LAST_ACK),
 * in the closing thread, before its FIN goes out. The last SSL the
 * thread freed and whose close has not come is that connection's, the
 * one it now closes, as servers do (nginx, s_server, haproxy free the
 * SSL, then close; a proxy frees and closes an upstream connection
 * between a served connection's free and close): the newest entry goes,
 * not the oldest. A close this hook does not see (one of a socket
 * already closed, as by the peer's RST, changes no state) leaves its
 * entry behind, under the next ones, until four more push it out; taken
 * oldest first, such an entry went to the next connection
 * (tests/e2e/demo.sh: expired13 was reported with the handshake_failure
 * s_server sent on a connection the demo's agent does not follow). A client's entry (its SSL is a proxy's
 * upstream) moves nothing: its close is its own socket's. A server's
 * record moves to tw_up_closing under the socket's cookie, where the TC
 * program takes it with that socket's FIN (tw_up_bind), whatever
 * packets of other connections the thread sends meanwhile, and whether or
 * not the agent sees this close. So does close(2) of a socket with data
 * unread, which sends an RST: CLOSE from ESTABLISHED or CLOSE_WAIT with
 * the socket shut down both ways, as tcp_close() does it first. Not any
 * other change: it may come in softirq, in whatever thread the CPU
 * interrupted (a received RST's CLOSE, where the socket was not shut down
 * for sending: shutdown(2) leaves ESTABLISHED or CLOSE_WAIT at once). A
 * BTF tracepoint, not a kprobe or fentry on tcp_close (neither
 * loads on kernels built without kprobes or ftrace): one compare per TCP
 * state change on the host while the uprobes are attached, a task storage
 * lookup per close, a map update only where a record waits.
 */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(tw_up_tcp_close, struct sock *sk, int oldstate, int newstate)
{
	struct tw_up_freed_q *q;
	struct tw_up_freed f;
	__u64 cookie;
	__u32 n;

	if (newstate != TCP_FIN_WAIT1 && newstate != TCP_LAST_ACK &&
	    !(newstate == TCP_CLOSE &&
	      (oldstate == TCP_ESTABLISHED || oldstate == TCP_CLOSE_WAIT) &&
	      BPF_CORE_READ_BITFIELD_PROBED(sk, sk_shutdown) == TW_SHUTDOWN_MASK))
		return 0;
	q = bpf_task_storage_get(&tw_up_freed_q, bpf_get_current_task_btf(), 0, 0);
	if (!q)
		return 0;
	n = q->n;
	if (!n || n > TW_UP_FREED_QUEUE)
		return 0;
	f = q->r[n - 1];
	q->n = n - 1;
	if (!f.flags || f.client)
		return 0;
	/* the socket's cookie, which its FIN and RST carry (skb->sk): unique
	 * on the host and never reused, so neither the same addresses and
	 * ports in another namespace nor a later connection reusing them
	 * takes the record; generated here if the socket had none. (An MPTCP
	 * socket's close lands here too: its packets carry its subflows',
	 * and its record is not sent, README's limits.) */
	cookie = bpf_get_socket_cookie(sk);
	if (cookie)
		bpf_map_update_elem(&tw_up_closing, &cookie, &f, BPF_ANY);
	return 0;
}

