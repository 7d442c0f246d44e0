// SPDX-License-Identifier: MIT
/* TC clsact attach/detach with ownership rules; see live_tc.h. */
#include <errno.h>
#include <net/if.h>
#include <stddef.h>
#include <net/if_arp.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <linux/netlink.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>

#include <bpf/libbpf.h>

#include "common/log.h"
#include "live.h"
#include "live_holds.h"
#include "live_tc.h"

#define NL_MAX_READS 4096 /* bounds one filter dump */

static const char *point_name(enum bpf_tc_attach_point p)
{
	return p == BPF_TC_INGRESS ? "ingress" : "egress";
}

int live_tc_link_has_l2(const char *name)
{
	struct ifreq ifr;
	int fd, r;

	if (strlen(name) >= sizeof(ifr.ifr_name))
		return -ENAMETOOLONG;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, name, strlen(name));
	r = ioctl(fd, SIOCGIFHWADDR, &ifr);
	r = r < 0 ? -errno : 0;
	close(fd);
	if (r)
		return r;
	switch (ifr.ifr_hwaddr.sa_family) {
	case ARPHRD_ETHER:
	case ARPHRD_LOOPBACK:
		return 1;
	case ARPHRD_NONE:    /* tun, wireguard */
	case ARPHRD_RAWIP:
	case ARPHRD_PPP:
		return 0;
	default:
		return -EPROTONOSUPPORT;
	}
}

/* Holds @t's interface for this process (live_tc.h): -EBUSY, with a
 * message, when a live agent holds it. */
static int iface_hold(struct live_tc *t, char *err, size_t errlen)
{
	int fd = live_hold_bind(t->name, t->ifindex, err, errlen);

	if (fd < 0)
		return fd;
	t->hold_fd = fd;
	t->held = true;
	return 0;
}

static void iface_release(struct live_tc *t)
{
	if (!t->held)
		return;
	close(t->hold_fd);
	t->held = false;
}

/* A detached @t for the interface @name now has: 0 or -errno. */
static int tc_of_name(struct live_tc *t, const char *name)
{
	memset(t, 0, sizeof(*t));
	if (strlen(name) >= sizeof(t->name))
		return -ENAMETOOLONG;
	strcpy(t->name, name);
	t->ifindex = (int)if_nametoindex(name);
	return t->ifindex ? 0 : -errno;
}

/* A detached @t for the interface called @name now, held: with the hold
 * @holds has for its ifindex (by ifindex: it may have been renamed since
 * it was held, and binding it again would refuse this very agent), else
 * with a hold taken now. 0 or -errno, said in @err. */
static int tc_take(struct live_tc *t, const char *name, struct live_holds *holds,
		   char *err, size_t errlen)
{
	int r = tc_of_name(t, name);

	if (r) {
		snprintf(err, errlen, "%s: %s", name, r == -ENAMETOOLONG ?
			 "interface name too long" : strerror(-r));
		return r;
	}
	t->hold_fd = live_holds_claim(holds, t->ifindex);
	if (t->hold_fd < 0)
		return iface_hold(t, err, errlen);
	t->held = true;
	return 0;
}

/* Is a filter with our priority and @handle on @point? */
static bool filter_exists(int ifindex, enum bpf_tc_attach_point point,
			  uint32_t handle)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = point);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = handle,
		    .priority = TW_TC_PRIORITY);

	return bpf_tc_query(&hook, &opts) == 0;
}

/* Removes our filter @handle from @point; 1 if one was there, 0, -errno. */
static int filter_remove(int ifindex, const char *name,
			 enum bpf_tc_attach_point point, uint32_t handle)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = point);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = handle,
		    .priority = TW_TC_PRIORITY);
	int r;

	if (!filter_exists(ifindex, point, handle))
		return 0;
	r = bpf_tc_detach(&hook, &opts);
	if (r == -ENOENT)
		return 0;
	if (r) {
		pr_warn("%s: detaching tlswatch filter from %s: %s\n", name,
			point_name(point), strerror(-r));
		return r;
	}
	return 1;
}

static int filter_attach(struct live_tc *t, enum bpf_tc_attach_point point,
			 int prog_fd, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = t->ifindex, .attach_point = point);
	LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = prog_fd, .handle = t->handle,
		    .priority = TW_TC_PRIORITY, .flags = BPF_TC_F_REPLACE);
	int r;

	r = bpf_tc_attach(&hook, &opts);
	if (r)
		snprintf(err, errlen, "%s: attaching to TC %s: %s", t->name,
			 point_name(point), strerror(-r));
	return r;
}

/* Destroys the clsact qdisc if it is ours and nobody else has a filter. */
static void qdisc_release(struct live_tc *t)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = t->ifindex,
		    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);
	char name[IF_NAMESIZE];
	int foreign, r;

	if (!t->qdisc_ours)
		return;
	t->qdisc_ours = false;
	if (!if_indextoname((unsigned int)t->ifindex, name)) {
		pr_debug("%s: gone, and its qdisc with it\n", t->name);
		return;
	}
	foreign = live_tc_foreign_filters(t->ifindex);
	if (foreign != 0) {
		if (foreign > 0)
			pr_info("%s: keeping the clsact qdisc: %d filters of other tools on it\n",
				t->name, foreign);
		else
			pr_warn("%s: keeping the clsact qdisc: cannot list its filters: %s\n",
				t->name, strerror(-foreign));
		return;
	}
	r = bpf_tc_hook_destroy(&hook);
	if (r && r != -ENOENT && r != -EINVAL)
		pr_warn("%s: deleting the clsact qdisc: %s\n", t->name, strerror(-r));
}

int live_tc_attach(struct live_tc *t, const char *name, int prog_fd,
		   struct live_holds *holds, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);
	uint32_t other;
	int r;

	iface_release(t);
	/* before touching TC: a live agent's filter is never replaced */
	r = tc_take(t, name, holds, err, errlen);
	if (r)
		return r;
	hook.ifindex = t->ifindex;
	r = bpf_tc_hook_create(&hook);
	if (r == 0) {
		t->qdisc_ours = true;
	} else if (r == -EEXIST) {
		/* Someone's clsact: ours only if a killed tlswatch made it. */
		t->qdisc_ours = filter_exists(t->ifindex, BPF_TC_INGRESS, TW_TC_HANDLE_OWN) ||
				filter_exists(t->ifindex, BPF_TC_EGRESS, TW_TC_HANDLE_OWN);
	} else {
		snprintf(err, errlen, "%s: creating the clsact qdisc: %s", name,
			 strerror(-r));
		iface_release(t);
		return r;
	}
	t->handle = t->qdisc_ours ? TW_TC_HANDLE_OWN : TW_TC_HANDLE_SHARED;
	other = t->qdisc_ours ? TW_TC_HANDLE_SHARED : TW_TC_HANDLE_OWN;
	filter_remove(t->ifindex, name, BPF_TC_INGRESS, other);
	filter_remove(t->ifindex, name, BPF_TC_EGRESS, other);

	r = filter_attach(t, BPF_TC_INGRESS, prog_fd, err, errlen);
	if (r)
		goto fail;
	t->ingress = true;
	r = filter_attach(t, BPF_TC_EGRESS, prog_fd, err, errlen);
	if (r)
		goto fail;
	t->egress = true;
	pr_debug("%s: attached (ifindex %d, handle 0x%x, clsact %s)\n", name,
		 t->ifindex, t->handle, t->qdisc_ours ? "ours" : "shared");
	return 0;
fail:
	live_tc_detach(t);
	return r;
}

void live_tc_detach(struct live_tc *t)
{
	if (t->ingress || t->egress)
		pr_debug("%s: detaching (handle 0x%x)\n", t->name, t->handle);
	if (t->ingress)
		filter_remove(t->ifindex, t->name, BPF_TC_INGRESS, t->handle);
	if (t->egress)
		filter_remove(t->ifindex, t->name, BPF_TC_EGRESS, t->handle);
	t->ingress = t->egress = false;
	qdisc_release(t);
	iface_release(t);
}

void live_tc_forget(struct live_tc *t)
{
	pr_debug("%s: gone (ifindex %d), and our filters with it\n", t->name,
		 t->ifindex);
	t->ingress = t->egress = t->qdisc_ours = false;
	t->ifindex = 0;
	iface_release(t);
}

/* Counts the filters of one clsact block (@parent) that are not ours. */
static int nl_count_foreign(int fd, int ifindex, uint32_t parent, uint32_t seq)
{
	struct {
		struct nlmsghdr nh;
		struct tcmsg tc;
	} req;
	char buf[16384] __attribute__((aligned(NLMSG_ALIGNTO)));
	int foreign = 0, reads;

	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct tcmsg));
	req.nh.nlmsg_type = RTM_GETTFILTER;
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.nh.nlmsg_seq = seq;
	req.tc.tcm_family = AF_UNSPEC;
	req.tc.tcm_ifindex = ifindex;
	req.tc.tcm_parent = parent;
	if (send(fd, &req, req.nh.nlmsg_len, 0) < 0)
		return -errno;

	for (reads = 0; reads < NL_MAX_READS; reads++) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		size_t off = 0;

		if (n < 0)
			return errno == EINTR ? -EAGAIN : -errno;
		while ((size_t)n - off >= sizeof(struct nlmsghdr)) {
			const struct nlmsghdr *nh = (const void *)(buf + off);
			const struct tcmsg *tc;
			uint32_t prio;

			if (nh->nlmsg_len < sizeof(*nh) || nh->nlmsg_len > (size_t)n - off)
				return -EBADMSG;
			off += NLMSG_ALIGN(nh->nlmsg_len);
			if (nh->nlmsg_seq != seq)
				continue;
			if (nh->nlmsg_type == NLMSG_DONE)
				return foreign;
			if (nh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(nh);

				if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
					return -EBADMSG;
				return e->error ? e->error : foreign;
			}
			if (nh->nlmsg_type != RTM_NEWTFILTER ||
			    nh->nlmsg_len < NLMSG_LENGTH(sizeof(*tc)))
				continue;
			tc = NLMSG_DATA(nh);
			prio = TC_H_MAJ(tc->tcm_info) >> 16;
			/* each filter kind at a priority also reports itself
			 * once with handle 0 */
			if (prio != TW_TC_PRIORITY ||
			    (tc->tcm_handle != 0 && tc->tcm_handle != TW_TC_HANDLE_OWN &&
			     tc->tcm_handle != TW_TC_HANDLE_SHARED))
				foreign++;
		}
	}
	return -EOVERFLOW;
}

int live_tc_foreign_filters(int ifindex)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct timeval tv = { .tv_sec = 2 };
	int fd, in, eg;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) {
		in = -errno;
		close(fd);
		return in;
	}
	in = nl_count_foreign(fd, ifindex, TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS), 1);
	eg = in < 0 ? 0 : nl_count_foreign(fd, ifindex,
					   TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_EGRESS), 2);
	close(fd);
	if (in < 0)
		return in;
	if (eg < 0)
		return eg;
	return in + eg;
}

int live_cleanup_stale(const char *iface)
{
	static const enum bpf_tc_attach_point points[] = { BPF_TC_INGRESS, BPF_TC_EGRESS };
	static const uint32_t handles[] = { TW_TC_HANDLE_OWN, TW_TC_HANDLE_SHARED };
	struct live_tc t;
	char err[128];
	int removed = 0, r;
	size_t i, j;

	r = tc_of_name(&t, iface);
	if (r)
		return r;
	/* a live agent's filters are not stale */
	r = iface_hold(&t, err, sizeof(err));
	if (r)
		return r;
	for (i = 0; i < 2 && r >= 0; i++) {
		for (j = 0; j < 2 && r >= 0; j++) {
			r = filter_remove(t.ifindex, iface, points[i], handles[j]);
			removed += r > 0 ? r : 0;
			if (r > 0 && handles[j] == TW_TC_HANDLE_OWN)
				t.qdisc_ours = true;
		}
	}
	if (r >= 0)
		qdisc_release(&t);
	iface_release(&t);
	return r < 0 ? r : removed;
}
