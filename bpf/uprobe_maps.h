/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The maps the uprobe programs (bpf/uprobes.bpf.c) and the TC program
 * (bpf/tlswatch.bpf.c, its records and its bind of a pending chain or
 * alert to a packet) share: defined once here, included by both objects; the uprobe object
 * reuses the TC object's instances (bpf_map__reuse_fd, uprobes.c), so
 * there is one of each in the kernel.
 */
#ifndef TW_UPROBE_MAPS_H
#define TW_UPROBE_MAPS_H

/* The ring buffer both write their records into, in one order. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, TW_DEFAULT_RINGBUF);
} tw_events SEC(".maps");

/* Chains waiting for the packet that names their connection, by the
 * serving thread's pid_tgid. Empty, and one lookup per server
 * packet in the handshake phase, when no uprobes are attached. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, TW_UP_MAX_THREADS);
	__type(key, __u64);
	__type(value, struct tw_up_pending);
} tw_up_pending SEC(".maps");

/* What SSL_free read, by the cookie of the socket whose close the freeing
 * thread made next (tw_up_tcp_close): taken by that socket's FIN or RST. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, TW_UP_MAX_CLOSING);
	__type(key, __u64);
	__type(value, struct tw_up_freed);
} tw_up_closing SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tw_up_counters);
} tw_up_counters SEC(".maps");

#endif
