// SPDX-License-Identifier: MIT
/*
 * Interfaces that come and go while the agent runs. An rtnetlink socket
 * subscribed to the link group (RTMGRP_LINK) is read from the poll loop:
 * RTM_DELLINK of an attached interface forgets it (the kernel removed our
 * filters with it); RTM_NEWLINK of an interface whose name matches
 * --iface attaches to it. Each is reported as an `agent` event,
 * "interface_removed" or "interface_added", with the name in "message".
 * When the kernel drops notifications (a burst filled the socket's
 * receive buffer: ENOBUFS), the links are listed again, as at start.
 *
 * Plain rtnetlink rather than libnl or libmnl: two message types and one
 * attribute (IFLA_IFNAME), read the way live_tc.c already reads netlink,
 * and no library to add to the agent's dependencies for that.
 */
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "agent_internal.h"
#include "common/log.h"

/* Receive buffer asked for (the kernel doubles it): the notifications of
 * a veth pair's creation take about 4.5 KiB of it, and the default (about
 * 200 KiB) held some 60 pairs created at once; this holds about 450, more
 * than LIVE_MAX_IFACES. What overflows even this is recovered by listing
 * the links again (links_resync()). */
#define LINKS_RCVBUF (1 << 20)

/* A bigger receive buffer: past net.core.rmem_max with CAP_NET_ADMIN
 * (SO_RCVBUFFORCE), else up to it. Best effort: a loss is recovered. */
static void links_grow_buffer(int fd)
{
	int size = LINKS_RCVBUF;

	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) == 0)
		return;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size)) < 0)
		pr_debug("link notifications: receive buffer: %s\n", strerror(errno));
}

int agent_links_open(struct agent *ag)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = RTMGRP_LINK };
	int fd, r;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	links_grow_buffer(fd);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	ag->links_fd = fd;
	return 0;
}

void agent_links_close(struct agent *ag)
{
	if (ag->links_fd >= 0)
		close(ag->links_fd);
	ag->links_fd = -1;
	live_ifaces_free(ag->busy_at_start);
	ag->busy_at_start = NULL;
}

/* The IFLA_IFNAME of a link message, or NULL. */
static const char *link_name(const struct nlmsghdr *nh)
{
	const struct ifinfomsg *ifi = NLMSG_DATA(nh);
	int len = (int)nh->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*ifi));
	const struct rtattr *rta = IFLA_RTA(ifi);

	for (; RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		size_t n = RTA_PAYLOAD(rta);
		const char *s = RTA_DATA(rta);

		if (rta->rta_type == IFLA_IFNAME && n > 0 && memchr(s, '\0', n))
			return s;
	}
	return NULL;
}

static void refresh_attached(struct agent *ag)
{
	ag->n_attached = live_ifaces(ag->live, &ag->attached);
}

/* @name, attached, was forgotten: its interface is gone. */
static void announce_removed(struct agent *ag, const char *name)
{
	refresh_attached(ag);
	pr_info("%s: interface removed; still watching %d\n", name, ag->n_attached);
	agent_report(ag, "interface_removed", name);
}

static void link_removed(struct agent *ag, int ifindex)
{
	const char *name = live_forget_iface(ag->live, ifindex);

	if (name)
		announce_removed(ag, name);
}

/* Index of @ifindex among the interfaces another agent watches, or -1. */
static int busy_find(const struct agent *ag, int ifindex)
{
	int i;

	for (i = 0; i < ag->n_busy; i++)
		if (ag->busy[i] == ifindex)
			return i;
	return -1;
}

static void busy_forget(struct agent *ag, int ifindex)
{
	int i = busy_find(ag, ifindex);

	if (i >= 0)
		ag->busy[i] = ag->busy[--ag->n_busy];
}

/* Whether a refusal of @ifindex is news: another agent's interface is
 * reported once, not at each of its link changes (it is tried again at
 * each: the other agent may have stopped). */
static bool busy_is_news(struct agent *ag, int ifindex)
{
	if (busy_find(ag, ifindex) >= 0)
		return false;
	if (ag->n_busy < LIVE_MAX_IFACES)
		ag->busy[ag->n_busy++] = ifindex;
	return true;
}

/* Whether @name is an --iface given as is (not only a glob's match). */
static bool named_exactly(const struct agent *ag, const char *name)
{
	int i;

	for (i = 0; i < ag->o.n_ifaces; i++)
		if (!live_iface_is_pattern(ag->o.ifaces[i]) &&
		    strcmp(ag->o.ifaces[i], name) == 0)
			return true;
	return false;
}

int agent_links_leave_busy(struct agent *ag)
{
	char **names = ag->default_ifaces, err[256];
	int i, kept = 0, n_busy = 0;

	/* without --iface every interface was asked for: none is a match */
	if (!ag->o.n_ifaces)
		return 0;
	for (i = 0; names[i]; i++)
		;
	ag->busy_at_start = calloc((size_t)i + 1, sizeof(*ag->busy_at_start));
	if (!ag->busy_at_start)
		return -ENOMEM;
	for (i = 0; names[i]; i++) {
		int ifindex;

		/* kept: a name given as is (held already), a match now held,
		 * or one whose refusal then comes from attaching it (exit 4) */
		if (named_exactly(ag, names[i]) ||
		    live_holds_add(ag->o.holds, names[i], &ifindex, err, sizeof(err)) != 1 ||
		    !(ag->busy_at_start[n_busy] = strdup(err))) {
			names[kept++] = names[i];
			continue;
		}
		n_busy++;
		busy_is_news(ag, ifindex);
		free(names[i]);
	}
	names[kept] = NULL;
	return 0;
}

void agent_links_report_busy(struct agent *ag)
{
	char **why;

	for (why = ag->busy_at_start; why && *why; why++) {
		pr_warn("%s\n", *why);
		agent_report(ag, "error", *why);
	}
}

static void link_added(struct agent *ag, const char *name, int ifindex)
{
	char err[256];
	int r;

	/* attached already, perhaps under another name until now */
	if (live_follow_iface(ag->live, ifindex, name)) {
		refresh_attached(ag);
		return;
	}
	/* without --iface the set is what was up at start */
	if (!ag->o.n_ifaces || !live_iface_matches(ag->o.ifaces, ag->o.n_ifaces, name)) {
		busy_forget(ag, ifindex);   /* renamed out of the set */
		return;
	}
	r = live_attach_iface(ag->live, name, err, sizeof(err));
	/* Only another agent's interface is tried again each second: any
	 * other outcome is final until its next link change, and its error
	 * said once (the retry would say it every second). */
	if (r != -EBUSY)
		busy_forget(ag, ifindex);
	if (r == -EEXIST)
		return;         /* attached already */
	refresh_attached(ag);
	if (r == -EBUSY && !busy_is_news(ag, ifindex))
		return;
	if (r) {
		pr_warn("%s\n", err);
		agent_report(ag, "error", err);
		return;
	}
	pr_info("%s: interface added; attached\n", name);
	agent_report(ag, "interface_added", name);
}

static void link_message(struct agent *ag, const struct nlmsghdr *nh)
{
	const struct ifinfomsg *ifi = NLMSG_DATA(nh);
	const char *name;

	if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(*ifi)))
		return;
	if (nh->nlmsg_type == RTM_DELLINK) {
		busy_forget(ag, ifi->ifi_index);
		link_removed(ag, ifi->ifi_index);
	} else if (nh->nlmsg_type == RTM_NEWLINK) {
		name = link_name(nh);
		if (name)
			link_added(ag, name, ifi->ifi_index);
	}
}

/*
 * The kernel dropped link notifications (the receive buffer was full) and
 * those queued before were read and dropped: the links are listed again,
 * as at start. Attached interfaces that are gone are forgotten, matching
 * ones not attached are attached, each announced as its notification
 * would have been.
 */
static void links_resync(struct agent *ag)
{
	const char *gone;
	char **names, err[256];
	int n, i;

	pr_info("interface notifications lost (netlink receive buffer full): "
		"listing the interfaces again\n");
	for (i = 0; i < LIVE_MAX_IFACES && (gone = live_forget_gone(ag->live)); i++)
		announce_removed(ag, gone);
	if (!ag->o.n_ifaces)
		return;
	n = live_match_ifaces(ag->o.ifaces, ag->o.n_ifaces, &names);
	if (n < 0) {
		snprintf(err, sizeof(err), "interface notifications lost, and the "
			 "interfaces cannot be listed again: %s", strerror(-n));
		pr_warn("%s\n", err);
		agent_report(ag, "error", err);
		return;
	}
	for (i = 0; i < n; i++) {
		int ifindex = (int)if_nametoindex(names[i]);

		if (ifindex)    /* a plain --iface name may not exist */
			link_added(ag, names[i], ifindex);
	}
	live_ifaces_free(names);
}

void agent_links_retry_busy(void *ctx, uint64_t now_us)
{
	struct agent *ag = ctx;
	int busy[LIVE_MAX_IFACES], n = ag->n_busy, i;
	char name[IF_NAMESIZE];

	/* a copy: link_added() takes those it attaches off the list */
	memcpy(busy, ag->busy, (size_t)n * sizeof(*busy));
	for (i = 0; i < n; i++) {
		if (if_indextoname((unsigned int)busy[i], name))
			link_added(ag, name, busy[i]);
		else
			busy_forget(ag, busy[i]);   /* gone */
	}
}

/*
 * Whether the socket's queue is empty now: the last read of a turn may
 * have emptied it, and then no wakeup comes until the next link change.
 * A peek takes nothing off the queue; an error (lost notifications
 * again: the queue is full) is no.
 */
static bool links_queue_empty(int fd)
{
	char byte;

	return recv(fd, &byte, sizeof(byte), MSG_PEEK | MSG_DONTWAIT) < 0 &&
	       errno == EAGAIN;
}

/* Lost notifications: once what was queued before is read and dropped
 * (the queue is empty), the links are listed as they are then. */
static void links_resync_if_empty(struct agent *ag, int fd)
{
	if (ag->links_lost && links_queue_empty(fd)) {
		ag->links_lost = false;
		links_resync(ag);
	}
}

void agent_links_ready(void *ctx, int fd, short revents)
{
	char buf[16384] __attribute__((aligned(NLMSG_ALIGNTO)));
	struct agent *ag = ctx;
	int reads;

	for (reads = 0; reads < AGENT_LINKS_MAX_READS; reads++) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		size_t off = 0;

		if (n < 0 && errno == ENOBUFS) {
			/* What is still queued is older than what was lost: it
			 * is read and dropped. */
			ag->links_lost = true;
			continue;
		}
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				pr_warn("link notifications: %s\n", strerror(errno));
			break;
		}
		while (!ag->links_lost && (size_t)n - off >= sizeof(struct nlmsghdr)) {
			const struct nlmsghdr *nh = (const void *)(buf + off);

			if (nh->nlmsg_len < sizeof(*nh) || nh->nlmsg_len > (size_t)n - off)
				break;          /* a truncated message: not ours to guess */
			link_message(ag, nh);
			off += NLMSG_ALIGN(nh->nlmsg_len);
		}
	}
	/* also when the bound of reads was reached just as the queue emptied */
	links_resync_if_empty(ag, fd);
}
