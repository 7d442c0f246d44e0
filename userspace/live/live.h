/* SPDX-License-Identifier: MIT */
/*
 * The live capture source: loads bpf/tlswatch.bpf.c, attaches it to TC
 * ingress and egress of the chosen interfaces, and turns its ring buffer
 * records into struct tw_segment, the same stream the pcap source makes.
 *
 * Typical use:
 *   live_open(&opts, &l, err, sizeof(err));
 *   while (running) live_poll(l, LIVE_MAX_BATCH_MS, pipeline_segment, pl);
 *   live_stop(l, pipeline_segment, pl);    (detach, then drain the ring)
 *   live_close(l);
 *
 * Wakeups are batched: the kernel submits most records without waking the
 * consumer, and forces a wakeup only when the ring holds 1/16 of its size
 * (at most once a millisecond) or for a record that ends a handshake,
 * closes a flow or says bytes were lost (at most once a second; see
 * TW_WAKE_* in tlswatch/event.h). So a record can sit in the ring
 * unannounced: whoever polls must read the ring at least every
 * LIVE_MAX_BATCH_MS, which is then the longest a record waits before
 * userspace sees it.
 *
 * Needs CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON (or root). Not thread-safe:
 * one thread polls; live_flow_done() and live_counters() may be called from
 * inside the segment callback.
 */
#ifndef TW_LIVE_H
#define TW_LIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capture/segment.h"
#include "capture/server_view.h"
#include "common/endpoint.h"
#include "tlswatch/event.h"

/* Longest wait between two reads of the ring buffer (see above): the
 * bound on how long batching may hold a record back. A read of an empty
 * ring costs a few microseconds of the agent's time; a wakeup forced from
 * the TC program costs tens of microseconds of the packet path's: reads
 * this often let the kernel force one at most once a second. */
#define LIVE_MAX_BATCH_MS 25

/* Interfaces one agent attaches to, over its run (one that comes back
 * under the same name counts once; one whose attach failed, not at all). */
#define LIVE_MAX_IFACES 256

struct live;

struct live_opts {
	const char **ifaces;     /* interface names; see live_default_ifaces() */
	int n_ifaces;
	const uint16_t *ports;   /* watched server ports (at least one) */
	int n_ports;
	const struct tw_udp_encap *udp_encap; /* UDP ports that carry tunnels;
					       * NULL: tw_udp_encap_default */
	uint32_t dir_budget;     /* bytes copied per flow direction; 0: 64 KiB */
	uint32_t ringbuf_bytes;  /* ring buffer size, a power of two >= 4 KiB;
				  * 0: 8 MiB */
	uint32_t max_flows;      /* flows in the handshake phase; 0: 65536 */
	bool any_link;           /* load the programs for both link types, so
				  * that interfaces added later (with
				  * live_attach_iface()) can be of either;
				  * then @n_ifaces may be 0 */
	struct live_holds *holds;/* interfaces held already (live_holds_take()):
				  * attaching one takes its hold over, found
				  * by the ifindex its name has then (one
				  * renamed since is no other agent's);
				  * live_open() lets go of those it did not
				  * attach. NULL: none */
	bool server_binds;       /* a server's packets name the connection of
				  * what the uprobes saw (--uprobes); without
				  * it the TC program skips that lookup */
	bool served_only;        /* --direction served: the handshakes of
				  * connections this host opened are not
				  * followed (counted: flows_outgoing) */
};

/* Kernel counters summed over CPUs (indexed by enum tw_counter), plus the
 * consumer's own. */
struct live_counters {
	uint64_t kernel[TW_CNT__MAX];
	/* userspace */
	uint64_t records;          /* records consumed */
	uint64_t bad_records;      /* records that failed live_record_decode() */
	uint64_t flows_done;       /* live_flow_done() calls that hit an entry */
};

/* What a segment carries beyond struct tw_segment. */
struct live_meta {
	const char *iface;       /* interface the packet was seen on */
	uint32_t ifindex;
	uint8_t kind;            /* enum tw_event_kind */
	bool from_server;        /* sent by the server endpoint */
	bool flow_start;         /* from the packet that began the handshake phase */
	bool budget;             /* this segment is where the budget cut in */
};

/*
 * Loads the program, fills the watched ports, attaches to TC ingress and
 * egress of every interface in @o (replacing our own stale filter left by
 * a killed agent; -EBUSY if a live agent watches one), then lets go of
 * the holds of o->holds it did not take over. On failure detaches
 * whatever it had attached, writes a message naming the interface into
 * @err and returns -errno.
 */
int live_open(const struct live_opts *o, struct live **out, char *err,
	      size_t errlen);

/* Makes the kernel's bitmap of watched server ports (bit port % 64 of
 * word port / 64) say @ports: a port @ports does not name is not watched. */
void live_set_watched_ports(__u64 bitmap[65536 / 64], const uint16_t *ports,
			    int n);

/* The same for @l's program (at load, and at a reload while it runs), from
 * the next packet on. A flow on a port no longer watched is not followed
 * further; one on a port now watched is followed from its next handshake. */
void live_apply_ports(struct live *l, const uint16_t *ports, int n);

/* Makes the kernel's table of UDP ports that carry tunnels (indexed by
 * port: enum tw_tunnel_type) say @u: a port @u does not name is none. */
void live_set_udp_encap(uint8_t table[65536], const struct tw_udp_encap *u);

/* The same for @l's program (at load, and at a reload while it runs):
 * @u, or NULL for tw_udp_encap_default; from the next packet on. */
void live_apply_udp_encap(struct live *l, const struct tw_udp_encap *u);

/* Whether @l's program follows only the handshakes this host serves
 * (--direction served) or all (at load, and at a reload while it runs):
 * from the next handshake that starts on; one already followed goes on. */
void live_apply_direction(struct live *l, bool served_only);

/*
 * Waits up to @timeout_ms for a wakeup from the kernel, then hands every
 * record in the ring (announced or not) to @fn as a segment. A packet
 * copied in several records arrives as several segments whose seq is
 * advanced by their offset (the flow stage reassembles by seq). Returns the number of records consumed, 0 on
 * timeout or signal (EINTR), -errno on error.
 */
int live_poll(struct live *l, int timeout_ms, tw_segment_fn fn, void *ctx);

/*
 * Ends capture without losing what it captured: detaches every filter (no
 * new records), waits until programs already running on other CPUs have
 * finished (an RCU grace period), then hands every record left in the ring
 * to @fn. Returns the number of records drained, or -errno. live_close()
 * is still needed; live_poll() afterwards finds nothing.
 */
int live_stop(struct live *l, tw_segment_fn fn, void *ctx);

/*
 * Now, on the clock of the segments' ts_us: CLOCK_MONOTONIC plus the
 * offset to CLOCK_REALTIME taken at live_open(). A step of the wall clock
 * (NTP, an operator, a VM restored) moves neither, so the idle timeouts
 * and spike windows fed with it never see time jump or go back.
 */
uint64_t live_now_us(const struct live *l);

/* Valid during the segment callback of live_poll(): where it came from. */
const struct live_meta *live_current_meta(const struct live *l);

/* An fd that becomes readable when records wait (for the caller's epoll). */
int live_epoll_fd(const struct live *l);

/*
 * Ends the handshake phase of the flow between @a and @b (either order):
 * the kernel stops copying its bytes and each of its later packets costs
 * one map lookup. Returns 0, or -ENOENT if the kernel had no entry (the
 * flow ended already or was evicted).
 */
int live_flow_done(struct live *l, const struct tw_endpoint *a,
		   const struct tw_endpoint *b);

/* Same, shaped for struct pipeline_opts.flow_done (@l is struct live *). */
void live_flow_done_cb(void *l, const struct tw_endpoint *client,
		       const struct tw_endpoint *server);

/* A FIN from @from of a flow marked done, applied to the kernel's entry
 * again (flow_map_fin()); shaped for struct pipeline_opts.flow_fin. */
void live_flow_fin_cb(void *l, const struct tw_endpoint *from,
		      const struct tw_endpoint *to);

/*
 * Whether the kernel still follows the handshake of the flow between @a
 * and @b: its entry is there, in its handshake phase. False when the LRU
 * flow map evicted it (or a SYN on its port pair dropped it), so that a
 * later packet found none, or one that began probing again. Shaped for
 * struct pipeline_opts.flow_followed (@l is struct live *). Does not
 * count as a use of the entry for the LRU.
 */
bool live_flow_followed(void *l, const struct tw_endpoint *a,
			const struct tw_endpoint *b);

int live_counters(struct live *l, struct live_counters *out);

/* Names of the interfaces attached now, in the order attached; valid
 * until the next live_attach_iface() or live_forget_iface(). */
int live_ifaces(const struct live *l, const char *const **names);

/*
 * Attaches to @name, an interface that appeared after live_open() (or came
 * back). 0; -EEXIST if it is attached already; -EBUSY if another live
 * agent watches it; -ENOSPC when LIVE_MAX_IFACES are attached (the entry
 * of one that went away is used again); -EPROTONOSUPPORT for a link type whose program was not
 * loaded (see live_opts.any_link); other -errno. @err then says why.
 */
int live_attach_iface(struct live *l, const char *name, char *err, size_t errlen);

/*
 * The kernel deleted the interface @ifindex, and our filters with it:
 * forgets it, so that live_close() detaches only what is still there.
 * Returns its name (valid as long as @l), or NULL if it was not attached.
 */
const char *live_forget_iface(struct live *l, int ifindex);

/*
 * Whether @ifindex is attached; then it is called @name now (a link
 * notification says so): an attached interface is followed by its
 * ifindex, so a rename keeps it attached, its events carry the new name,
 * and an interface that takes the old one is another (live_attach_iface()
 * attaches it as new).
 */
bool live_follow_iface(struct live *l, int ifindex, const char *name);

/*
 * After link notifications were lost: forgets one attached interface that
 * no longer exists (its ifindex is gone, and our filters with it) and
 * returns its name as live_forget_iface(); NULL when every attached one
 * is still there. Those it passes that were renamed are followed
 * (live_follow_iface()). Call it until NULL (or stop short: each call
 * looks from the first interface again, and keeps no position).
 */
const char *live_forget_gone(struct live *l);

/* Detaches exactly what live_open() attached, then frees @l. NULL is ok. */
void live_close(struct live *l);

/*
 * Every interface that is up, except loopback: a NULL-terminated array of
 * names in *@out, freed with live_ifaces_free(). Returns the count or -errno.
 */
int live_default_ifaces(char ***out);
void live_ifaces_free(char **names);

/*
 * The interfaces that exist now and match one of @patterns (fnmatch(3)
 * globs such as "veth-tw*", or plain names), in the order of the patterns,
 * each once: a NULL-terminated array in *@out as live_default_ifaces().
 * A plain name is listed even when it does not exist. Count or -errno.
 */
int live_match_ifaces(const char *const *patterns, int n_patterns, char ***out);

/* Whether @name matches one of @patterns (fnmatch(3)). */
bool live_iface_matches(const char *const *patterns, int n, const char *name);

/* Whether @name has a wildcard (*, ?, [), so names a set of interfaces. */
bool live_iface_is_pattern(const char *name);

/*
 * The interfaces an agent holds before it attaches them (live_tc.h: the
 * abstract unix socket of each ifindex). Taken before the agent creates
 * anything (its log, its database) and kept until live_open() attaches
 * them (those it does not are let go then): of two agents started at the same instant on one interface,
 * exactly one holds it, and the other is refused before it made a file.
 */
struct live_holds;

/*
 * Holds the interfaces an agent must attach: the plain names of
 * @patterns (each must exist now), or with none (@n 0) every interface that is up
 * but loopback; a glob's matches are not (live_holds_add(): an agent
 * skips those another one watches, and runs on). 0 with *@out, or -errno
 * with @err saying why: -ENODEV "--iface NAME: no such interface" (checked
 * for every name before any is held), -EBUSY "NAME: another tlswatch
 * agent watches this interface; leaving it to that one", -E2BIG past
 * LIVE_MAX_IFACES.
 */
int live_holds_take(const char *const *patterns, int n, struct live_holds **out,
		    char *err, size_t errlen);

/*
 * Holds @name too, and says its ifindex in *@ifindex: 0 (also when held
 * already), 1 when another live agent watches it (@err then says so, as
 * live_holds_take()), or -errno (@err says it). @h NULL (a caller that
 * takes no holds): holds nothing, and says the same (0 or 1) of whether
 * another agent watches @name now.
 */
int live_holds_add(struct live_holds *h, const char *name, int *ifindex,
		   char *err, size_t errlen);

/* Lets go of the holds still kept (live_open() failed, or was never
 * called) and frees @h (NULL is ok): after live_close(). */
void live_holds_free(struct live_holds *h);

/*
 * Removes tlswatch filters left on @iface by an agent that was killed, and
 * the clsact qdisc if a tlswatch agent created it and nothing else uses it.
 * Returns the number of filters removed, or -errno: -EBUSY when a live
 * agent watches @iface (its filters are not stale).
 */
int live_cleanup_stale(const char *iface);

/*
 * Where the records of the uprobes on the server's TLS library go
 * (userspace/live/uprobes.h): each connection's view, in order with the
 * segments, during live_poll()/live_stop(). 0 or -ENOMEM.
 */
int live_set_view_fn(struct live *l, tw_server_view_fn fn, void *ctx);
struct up_asm_stats;
/* Remembers the executable of server process @pid, for the views. */
void live_view_note_exe(struct live *l, uint32_t pid, const char *path);
/* Their assembly's counters; NULL before live_set_view_fn(). */
const struct up_asm_stats *live_view_stats(const struct live *l);

/* The fd of the program's map @name (for the uprobe programs, which
 * share the ring buffer and the pending-chain map), or -ENOENT. */
int live_map_fd(const struct live *l, const char *name);

/* ---- building blocks, exported for tests ---- */

/*
 * Turns one ring buffer record into a segment; @mono_to_real_ns is
 * CLOCK_REALTIME - CLOCK_MONOTONIC. seg->payload points into @rec.
 * Returns 0, or -EINVAL for a record that is short or inconsistent.
 */
int live_record_decode(const void *rec, size_t size, int64_t mono_to_real_ns,
		       struct tw_segment *seg, struct live_meta *meta);

/*
 * The tail of record @rec of @size bytes (its last bytes: IPv6 addresses,
 * tunnel facts; struct tw_event_tail), copied into @t; -EINVAL if @size
 * cannot hold a header and a tail.
 */
int live_record_tail(const void *rec, size_t size, struct tw_event_tail *t);

/* @src and @dst from header @e (family 4 or 6) and tail @t of a record. */
void live_record_endpoints(const struct tw_event *e,
			   const struct tw_event_tail *t,
			   struct tw_endpoint *src, struct tw_endpoint *dst);

/* The kernel's flow key for the connection between @a and @b; returns the
 * index of @a in it (0 or 1), or -EINVAL. */
int live_flow_key(const struct tw_endpoint *a, const struct tw_endpoint *b,
		  struct tw_flow_key *key);

#endif
