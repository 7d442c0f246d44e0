/* SPDX-License-Identifier: MIT */
/*
 * TC attachment of the live source (internal to userspace/live/).
 *
 * Rules, from the kernel facts in ARCHITECTURE.md:
 * - TC filters are not links: they outlive the process. We use a fixed
 *   priority and handle and BPF_TC_F_REPLACE, so a restart replaces our
 *   own stale filter instead of adding a second one.
 * - The handle records whether tlswatch created the clsact qdisc
 *   (TW_TC_HANDLE_OWN) or found it (TW_TC_HANDLE_SHARED).
 * - Only a qdisc tlswatch created is deleted, and only when no other
 *   filter is left on it: destroying clsact flushes everyone's filters.
 * - A live agent's filter is never taken over: an attached interface is
 *   held by an abstract unix socket named after its ifindex, bound before
 *   attaching (at an agent's start, before it creates anything:
 *   live_holds_take()). The kernel frees the name when the holder dies
 *   (SIGKILL included), so a bind that fails with EADDRINUSE means another
 *   live agent watches the interface, and one that succeeds means any
 *   filter of ours found there is a dead agent's, to replace.
 */
#ifndef TW_LIVE_TC_H
#define TW_LIVE_TC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct live_holds;

struct live_tc {
	char name[16];         /* IFNAMSIZ */
	int ifindex;
	uint32_t handle;       /* TW_TC_HANDLE_OWN or TW_TC_HANDLE_SHARED */
	bool qdisc_ours;       /* delete the clsact qdisc on detach */
	bool ingress, egress;  /* what is attached now */
	bool held;             /* hold_fd holds the interface */
	int hold_fd;
};

/* Which program an interface needs: 1 Ethernet header, 0 none, -errno. */
int live_tc_link_has_l2(const char *name);

/* Attaches @prog_fd to ingress and egress of @name; fills @t. Its hold is
 * taken from @holds when it has one for @name's ifindex (NULL: none), else
 * bound now: -EBUSY when another live tlswatch agent watches @name. */
int live_tc_attach(struct live_tc *t, const char *name, int prog_fd,
		   struct live_holds *holds, char *err, size_t errlen);

/* Undoes live_tc_attach() (and lets go of the interface); safe to call
 * twice. */
void live_tc_detach(struct live_tc *t);

/* The interface of @t was deleted, and with it its qdisc and filters:
 * marks @t detached without asking the kernel (the ifindex may be another
 * interface's by now). */
void live_tc_forget(struct live_tc *t);

/* Filters on the clsact of @ifindex that are not tlswatch's, or -errno. */
int live_tc_foreign_filters(int ifindex);

#endif
