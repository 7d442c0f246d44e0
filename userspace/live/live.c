// SPDX-License-Identifier: MIT
/* The live source: skeleton load, TC attach, ring buffer -> segments. */
#include <errno.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <linux/membarrier.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "common/log.h"
#include "flow_map.h"
#include "live.h"
#include "live_holds.h"
#include "live_tc.h"
#include "tlswatch.skel.h"
#include "uprobes.h"

struct live {
	struct tlswatch_bpf *skel;
	struct ring_buffer *rb;
	/* One per interface, n_tc of them, allocated once: live_meta.iface
	 * points into them, and the pipeline keeps that pointer (the source
	 * of what it says next). An interface that went away keeps its entry
	 * (detached), which one that comes back with its name takes again,
	 * or, once all LIVE_MAX_IFACES are used, any new one; a renamed
	 * one's entry takes the new name (its ifindex is what is attached). */
	struct live_tc tc[LIVE_MAX_IFACES];
	int n_tc;
	const char *names[LIVE_MAX_IFACES + 1]; /* the attached tc[i].name */
	int n_names;
	const char **want;           /* distinct interfaces asked for, n_want */
	bool *want_l2;               /* whether each has an Ethernet header */
	int n_want;
	int64_t mono_to_real_ns;
	/* set for the duration of one live_poll() */
	tw_segment_fn fn;
	void *fn_ctx;
	struct live_meta meta;
	uint64_t records, bad_records, flows_done;
	/* the server's TLS library's records (uprobes.h), when asked for */
	struct up_asm *up;
	tw_server_view_fn view_fn;
	void *view_ctx;
};

static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	char buf[1024];

	if (level == LIBBPF_DEBUG && tw_log_get_level() < TW_LOG_DEBUG)
		return 0;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	/* netlink's reason for a failed TC query: we probe for filters that
	 * may not exist, and report real failures ourselves, naming the
	 * interface */
	if (strstr(buf, "Kernel error message:"))
		level = LIBBPF_DEBUG;
	if (level == LIBBPF_WARN)
		pr_warn("%s", buf);
	else
		pr_debug("%s", buf);
	return 0;
}

/* CLOCK_REALTIME - CLOCK_MONOTONIC, read as close together as we can. */
static int64_t clock_offset_ns(void)
{
	struct timespec m1, r, m2;
	int64_t mono;

	clock_gettime(CLOCK_MONOTONIC, &m1);
	clock_gettime(CLOCK_REALTIME, &r);
	clock_gettime(CLOCK_MONOTONIC, &m2);
	mono = ((int64_t)m1.tv_sec * 1000000000 + m1.tv_nsec +
		(int64_t)m2.tv_sec * 1000000000 + m2.tv_nsec) / 2;
	return (int64_t)r.tv_sec * 1000000000 + r.tv_nsec - mono;
}

static const char *iface_name(const struct live *l, uint32_t ifindex)
{
	int i;

	for (i = 0; i < l->n_tc; i++)
		if ((uint32_t)l->tc[i].ifindex == ifindex)
			return l->tc[i].name;
	return "?";
}

static int on_record(void *ctx, void *data, size_t size)
{
	struct live *l = ctx;
	struct tw_segment seg;

	l->records++;
	if (size >= sizeof(struct tw_event) &&
	    ((const struct tw_event *)data)->kind >= TW_EV_UP_CERT) {
		if (!l->up || up_asm_record(l->up, data, size, l->mono_to_real_ns,
					    l->view_fn, l->view_ctx))
			l->bad_records++;
		return 0;
	}
	if (live_record_decode(data, size, l->mono_to_real_ns, &seg, &l->meta)) {
		l->bad_records++;
		return 0;
	}
	l->meta.iface = iface_name(l, l->meta.ifindex);
	if (l->fn)
		l->fn(l->fn_ctx, &seg);
	return 0;
}

static int check_opts(const struct live_opts *o, char *err, size_t errlen)
{
	int i;

	if (!o || (o->n_ifaces < 1 && !o->any_link) || (o->n_ifaces && !o->ifaces)) {
		snprintf(err, errlen, "no interface to attach to");
		return -EINVAL;
	}
	if (o->n_ifaces > LIVE_MAX_IFACES) {
		snprintf(err, errlen, "more than %d interfaces", LIVE_MAX_IFACES);
		return -E2BIG;
	}
	if (o->n_ports < 1 || !o->ports) {
		snprintf(err, errlen, "no port to watch");
		return -EINVAL;
	}
	for (i = 0; i < o->n_ports; i++) {
		if (o->ports[i] == 0) {
			snprintf(err, errlen, "port 0 cannot be watched");
			return -EINVAL;
		}
	}
	if (o->ringbuf_bytes &&
	    (o->ringbuf_bytes < TW_RINGBUF_MIN || (o->ringbuf_bytes & (o->ringbuf_bytes - 1)))) {
		snprintf(err, errlen, "ring buffer size %u is not a power of two >= %u",
			 o->ringbuf_bytes, TW_RINGBUF_MIN);
		return -EINVAL;
	}
	return 0;
}

static bool seen_before(const struct live_opts *o, int i)
{
	int j;

	for (j = 0; j < i; j++)
		if (strcmp(o->ifaces[j], o->ifaces[i]) == 0)
			return true;
	return false;
}

/* The distinct interfaces and their link types, before anything is loaded:
 * a bad name fails early and only the programs needed are loaded. */
static int resolve_ifaces(struct live *l, const struct live_opts *o, char *err,
			  size_t errlen)
{
	int i, r;

	l->want = calloc((size_t)o->n_ifaces + 1, sizeof(*l->want));
	l->want_l2 = calloc((size_t)o->n_ifaces + 1, sizeof(*l->want_l2));
	if (!l->want || !l->want_l2) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (i = 0; i < o->n_ifaces; i++) {
		if (!o->ifaces[i]) {
			snprintf(err, errlen, "interface %d has no name", i);
			return -EINVAL;
		}
		if (seen_before(o, i))
			continue;
		r = live_tc_link_has_l2(o->ifaces[i]);
		if (r < 0) {
			snprintf(err, errlen, "%s: %s", o->ifaces[i],
				 r == -EPROTONOSUPPORT ? "unsupported link type"
						       : strerror(-r));
			return r;
		}
		l->want[l->n_want] = o->ifaces[i];
		l->want_l2[l->n_want] = r;
		l->n_want++;
	}
	return 0;
}

/* Opens the skeleton, applies the configuration, loads, fills the ports. */
static int load_program(struct live *l, const struct live_opts *o, char *err,
			size_t errlen)
{
	uint32_t ring = o->ringbuf_bytes ? o->ringbuf_bytes : TW_DEFAULT_RINGBUF;
	bool any_l2 = o->any_link, any_l3 = o->any_link;
	int i, r;

	for (i = 0; i < l->n_want; i++) {
		any_l2 |= l->want_l2[i];
		any_l3 |= !l->want_l2[i];
	}
	l->skel = tlswatch_bpf__open();
	if (!l->skel) {
		r = -errno;
		snprintf(err, errlen, "opening the BPF object: %s", strerror(errno));
		return r;
	}
	l->skel->rodata->tw_dir_budget = o->dir_budget ? o->dir_budget
						       : TW_DEFAULT_DIR_BUDGET;
	l->skel->rodata->tw_wake_bytes = ring / TW_WAKE_FILL_DIVISOR;
	l->skel->rodata->tw_up_binds = o->server_binds;
	r = bpf_map__set_max_entries(l->skel->maps.tw_events, ring);
	if (!r)
		r = bpf_map__set_max_entries(l->skel->maps.tw_flows,
					     o->max_flows ? o->max_flows : TW_DEFAULT_MAX_FLOWS);
	if (!r)
		r = bpf_program__set_autoload(l->skel->progs.tlswatch, any_l2);
	if (!r)
		r = bpf_program__set_autoload(l->skel->progs.tlswatch_l3, any_l3);
	if (r) {
		snprintf(err, errlen, "configuring the BPF object: %s", strerror(-r));
		return r;
	}
	r = tlswatch_bpf__load(l->skel);
	if (r) {
		snprintf(err, errlen, "loading the BPF program: %s%s", strerror(-r),
			 r == -EPERM ? " (needs CAP_BPF, CAP_NET_ADMIN, CAP_PERFMON)" : "");
		return r;
	}
	live_apply_ports(l, o->ports, o->n_ports);
	live_apply_udp_encap(l, o->udp_encap);
	live_apply_direction(l, o->served_only);
	return 0;
}

void live_apply_ports(struct live *l, const uint16_t *ports, int n)
{
	live_set_watched_ports(l->skel->bss->tw_watched_ports, ports, n);
}

void live_apply_udp_encap(struct live *l, const struct tw_udp_encap *u)
{
	live_set_udp_encap(l->skel->bss->tw_udp_encap, u ? u : &tw_udp_encap_default);
}

void live_apply_direction(struct live *l, bool served_only)
{
	l->skel->bss->tw_served_only = served_only;
}

static bool tc_attached(const struct live_tc *t)
{
	return t->ingress || t->egress;
}

/* The names of the interfaces attached now, for live_ifaces(). */
static void list_attached(struct live *l)
{
	int i;

	l->n_names = 0;
	for (i = 0; i < l->n_tc; i++)
		if (tc_attached(&l->tc[i]))
			l->names[l->n_names++] = l->tc[i].name;
	l->names[l->n_names] = NULL;
}

/* The first detached entry, or NULL. */
static struct live_tc *tc_detached(struct live *l)
{
	int i;

	for (i = 0; i < l->n_tc; i++)
		if (!tc_attached(&l->tc[i]))
			return &l->tc[i];
	return NULL;
}

/* The entry for @name: the detached one it had before, else the first
 * unused one, which attach_one() counts in n_tc only once it is attached
 * (interfaces refused, another agent's, do not use up LIVE_MAX_IFACES),
 * else, all used, one an interface that went away left: interfaces that
 * come and go (containers' veths) never run out of entries. NULL when
 * LIVE_MAX_IFACES are attached. */
static struct live_tc *tc_slot(struct live *l, const char *name)
{
	int i;

	for (i = 0; i < l->n_tc; i++)
		if (!tc_attached(&l->tc[i]) && strcmp(l->tc[i].name, name) == 0)
			return &l->tc[i];
	if (l->n_tc == LIVE_MAX_IFACES)
		return tc_detached(l);
	return &l->tc[l->n_tc];
}

/* Attaches @name, with its hold from @holds if it has one (NULL: none). */
static int attach_one(struct live *l, const char *name, bool l2,
		      struct live_holds *holds, char *err, size_t errlen)
{
	struct bpf_program *prog = l2 ? l->skel->progs.tlswatch
				      : l->skel->progs.tlswatch_l3;
	struct live_tc *t;
	int fd = bpf_program__fd(prog), r;

	if (fd < 0) {
		/* only the programs the first interfaces needed were loaded */
		snprintf(err, errlen, "%s: no %s program loaded (restart the agent)",
			 name, l2 ? "Ethernet" : "IP-only");
		return -EPROTONOSUPPORT;
	}
	t = tc_slot(l, name);
	if (!t) {
		snprintf(err, errlen, "%s: already %d interfaces attached", name,
			 LIVE_MAX_IFACES);
		return -ENOSPC;
	}
	r = live_tc_attach(t, name, fd, holds, err, errlen);
	if (r)
		return r;
	if (t == &l->tc[l->n_tc])
		l->n_tc++;
	list_attached(l);
	return 0;
}

static int attach_all(struct live *l, struct live_holds *holds, char *err,
		      size_t errlen)
{
	int i, r;

	for (i = 0; i < l->n_want; i++) {
		r = attach_one(l, l->want[i], l->want_l2[i], holds, err, errlen);
		if (r)
			return r;
	}
	return 0;
}

int live_attach_iface(struct live *l, const char *name, char *err, size_t errlen)
{
	int i, l2;

	for (i = 0; i < l->n_names; i++)
		if (strcmp(l->names[i], name) == 0)
			return -EEXIST;
	l2 = live_tc_link_has_l2(name);
	if (l2 < 0) {
		snprintf(err, errlen, "%s: %s", name,
			 l2 == -EPROTONOSUPPORT ? "unsupported link type" : strerror(-l2));
		return l2;
	}
	return attach_one(l, name, l2, NULL, err, errlen);
}

/* The attached entry of @ifindex, or NULL. */
static struct live_tc *tc_of_ifindex(struct live *l, int ifindex)
{
	int i;

	for (i = 0; i < l->n_tc; i++)
		if (tc_attached(&l->tc[i]) && l->tc[i].ifindex == ifindex)
			return &l->tc[i];
	return NULL;
}

/* @t's interface is called @name now. Its filters are on its ifindex and
 * stay: @t follows the name, and its events carry the new one. */
static void tc_rename(struct live_tc *t, const char *name)
{
	if (strlen(name) >= sizeof(t->name) || strcmp(t->name, name) == 0)
		return;
	pr_info("%s: renamed %s; still attached\n", t->name, name);
	strcpy(t->name, name);
}

bool live_follow_iface(struct live *l, int ifindex, const char *name)
{
	struct live_tc *t = tc_of_ifindex(l, ifindex);

	if (t)
		tc_rename(t, name);
	return t != NULL;
}

const char *live_forget_iface(struct live *l, int ifindex)
{
	struct live_tc *t = tc_of_ifindex(l, ifindex);

	if (!t)
		return NULL;
	live_tc_forget(t);
	list_attached(l);
	return t->name;
}

const char *live_forget_gone(struct live *l)
{
	char name[IF_NAMESIZE];
	int i;

	/* From the first entry each time: those forgotten are detached now,
	 * and a position kept between calls would outlive a listing its
	 * caller stopped short of the end (at most LIVE_MAX_IFACES, cheap). */
	for (i = 0; i < l->n_tc; i++) {
		struct live_tc *t = &l->tc[i];

		if (!tc_attached(t))
			continue;
		if (if_indextoname((unsigned int)t->ifindex, name)) {
			tc_rename(t, name);
			continue;
		}
		if (errno != ENXIO && errno != ENODEV)
			continue;
		live_tc_forget(t);   /* what live_forget_iface() would find again */
		list_attached(l);
		return t->name;
	}
	return NULL;
}

int live_open(const struct live_opts *o, struct live **out, char *err,
	      size_t errlen)
{
	struct live *l;
	int r;

	*out = NULL;
	r = check_opts(o, err, errlen);
	if (r)
		return r;
	libbpf_set_print(libbpf_print);
	l = calloc(1, sizeof(*l));
	if (!l) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	r = resolve_ifaces(l, o, err, errlen);
	if (!r)
		r = load_program(l, o, err, errlen);
	if (r)
		goto fail;
	l->rb = ring_buffer__new(bpf_map__fd(l->skel->maps.tw_events), on_record,
				 l, NULL);
	if (!l->rb) {
		r = -errno;
		snprintf(err, errlen, "opening the ring buffer: %s", strerror(errno));
		goto fail;
	}
	l->mono_to_real_ns = clock_offset_ns();
	r = attach_all(l, o->holds, err, errlen);
	/* what was held and not attached (gone down, renamed since) is
	 * another agent's to take */
	live_holds_release_unclaimed(o->holds);
	if (r)
		goto fail;
	*out = l;
	return 0;
fail:
	live_close(l);
	return r;
}

int live_poll(struct live *l, int timeout_ms, tw_segment_fn fn, void *ctx)
{
	int r;

	l->fn = fn;
	l->fn_ctx = ctx;
	/* Waits for a wakeup (and clears the epoll fd's readiness), then
	 * reads the ring whether or not one came: most records are
	 * submitted without a wakeup. */
	r = ring_buffer__poll(l->rb, timeout_ms);
	if (r >= 0 || r == -EINTR) {
		int more = ring_buffer__consume(l->rb);

		r = more < 0 ? more : (r > 0 ? r : 0) + more;
	}
	l->fn = NULL;
	l->fn_ctx = NULL;
	if (r == -EINTR)
		return 0;
	return r;
}

/*
 * Waits until every TC program run that began before now has ended. A
 * detached filter's program can still be running on another CPU, and
 * MEMBARRIER_CMD_GLOBAL returns after an RCU grace period, which those
 * runs (softirq, RCU read side) hold up. Kernels without it (or with
 * nohz_full, where it is refused): 10 ms, a thousand times longer than a
 * run of the program.
 */
static void wait_for_running_programs(void)
{
	struct timespec ts = { .tv_nsec = 10 * 1000 * 1000 };

	if (syscall(__NR_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0) == 0)
		return;
	pr_debug("live: membarrier: %s; waiting 10 ms instead\n", strerror(errno));
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

int live_stop(struct live *l, tw_segment_fn fn, void *ctx)
{
	int i, r, total = 0;

	for (i = l->n_tc - 1; i >= 0; i--)
		live_tc_detach(&l->tc[i]);
	wait_for_running_programs();
	/* one pass reads until the ring is empty (nothing is added any
	 * more); the second is a check that costs nothing */
	for (i = 0; i < 2; i++) {
		r = live_poll(l, 0, fn, ctx);
		if (r < 0)
			return r;
		total += r;
	}
	return total;
}

uint64_t live_now_us(const struct live *l)
{
	struct timespec m;

	clock_gettime(CLOCK_MONOTONIC, &m);
	return (uint64_t)(((int64_t)m.tv_sec * 1000000000 + m.tv_nsec +
			   l->mono_to_real_ns) / 1000);
}

const struct live_meta *live_current_meta(const struct live *l)
{
	return &l->meta;
}

int live_epoll_fd(const struct live *l)
{
	return ring_buffer__epoll_fd(l->rb);
}

int live_flow_done(struct live *l, const struct tw_endpoint *a,
		   const struct tw_endpoint *b)
{
	int r = flow_map_mark_done(bpf_map__fd(l->skel->maps.tw_flows), a, b);

	if (!r)
		l->flows_done++;
	return r;
}

void live_flow_done_cb(void *l, const struct tw_endpoint *client,
		       const struct tw_endpoint *server)
{
	int r = live_flow_done(l, client, server);

	if (r && r != -ENOENT)
		pr_debug("live: ending a flow's handshake phase: %s\n", strerror(-r));
}

void live_flow_fin_cb(void *ctx, const struct tw_endpoint *from,
		      const struct tw_endpoint *to)
{
	struct live *l = ctx;
	int r = flow_map_fin(bpf_map__fd(l->skel->maps.tw_flows), from, to);

	if (r)
		pr_debug("live: a FIN of a flow marked done: %s\n", strerror(-r));
}

bool live_flow_followed(void *ctx, const struct tw_endpoint *a,
			const struct tw_endpoint *b)
{
	struct live *l = ctx;
	struct tw_flow_key key;
	struct tw_flow_val val;

	if (live_flow_key(a, b, &key) < 0)
		return true;    /* not a flow the kernel could have */
	/* a lookup through the syscall leaves the LRU as it is */
	if (bpf_map_lookup_elem(bpf_map__fd(l->skel->maps.tw_flows), &key, &val))
		return errno != ENOENT;
	return val.state == TW_FLOW_HANDSHAKE;
}

int live_counters(struct live *l, struct live_counters *out)
{
	int ncpu = libbpf_num_possible_cpus(), i, fd;
	struct tw_counters *per;
	__u32 zero = 0;

	memset(out, 0, sizeof(*out));
	if (ncpu < 1)
		return ncpu < 0 ? ncpu : -EINVAL;
	per = calloc((size_t)ncpu, sizeof(*per));
	if (!per)
		return -ENOMEM;
	fd = bpf_map__fd(l->skel->maps.tw_counters);
	if (bpf_map_lookup_elem(fd, &zero, per)) {
		int r = -errno;

		free(per);
		return r;
	}
	for (i = 0; i < ncpu; i++)
		for (int c = 0; c < TW_CNT__MAX; c++)
			out->kernel[c] += per[i].c[c];
	free(per);
	out->records = l->records;
	out->bad_records = l->bad_records;
	out->flows_done = l->flows_done;
	return 0;
}

int live_ifaces(const struct live *l, const char *const **names)
{
	*names = l->names;
	return l->n_names;
}

void live_close(struct live *l)
{
	int i;

	if (!l)
		return;
	/* filters first: from here on no packet reaches the program */
	for (i = l->n_tc - 1; i >= 0; i--)
		live_tc_detach(&l->tc[i]);
	up_asm_free(l->up);
	ring_buffer__free(l->rb);
	tlswatch_bpf__destroy(l->skel);
	free(l->want);
	free(l->want_l2);
	free(l);
}

int live_map_fd(const struct live *l, const char *name)
{
	struct bpf_map *m = bpf_object__find_map_by_name(l->skel->obj, name);

	return m ? bpf_map__fd(m) : -ENOENT;
}

int live_set_view_fn(struct live *l, tw_server_view_fn fn, void *ctx)
{
	if (!l->up) {
		l->up = up_asm_new();
		if (!l->up)
			return -ENOMEM;
	}
	l->view_fn = fn;
	l->view_ctx = ctx;
	return 0;
}

const struct up_asm_stats *live_view_stats(const struct live *l)
{
	return l->up ? up_asm_stats(l->up) : NULL;
}

void live_view_note_exe(struct live *l, uint32_t pid, const char *path)
{
	if (l->up)
		up_asm_note_exe(l->up, pid, path);
}
