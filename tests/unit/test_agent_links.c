// SPDX-License-Identifier: MIT
/*
 * The agent's rtnetlink link notifications (agent_links.c) after some were
 * lost: the links are listed again once the queue is empty, also when the
 * turn's last read emptied it. In a private network namespace (unshare),
 * with the agent's own socket and real link changes. Needs root.
 *
 * The queue is brought to an exact number of datagrams with a twin socket
 * subscribed to the same group: the kernel sends both the same
 * notifications, so the twin counts what the agent's socket holds, and the
 * test reads the surplus off the agent's socket. A loss (ENOBUFS) cannot
 * be made to leave an exact number queued, so the test sets the state a
 * read of ENOBUFS leaves (links_lost) itself.
 */
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "agent/agent_internal.h"
#include "check.h"
#include "live/live_holds.h"
#include "netns_sh.h"

#define IF_WATCHED "twl0"
#define IF_PEER "twl1"
#define STORM_PAIRS 40           /* veth pairs: well over a turn's reads */
#define QUIET_MS 300             /* no notification for this long: all came */
#define MAX_DATAGRAMS 100000     /* bound on any read loop */
/* veth pairs that, with IF_WATCHED, make LIVE_MAX_IFACES ends and one */
#define FULL_PAIRS 128
_Static_assert(2 * FULL_PAIRS == LIVE_MAX_IFACES, "the ends fill every entry");
/* this process's own (main): a fixed path was shared by runs at the
 * same time */
static char events_log[64];

static const uint16_t port443 = 443;

/* A socket subscribed to the link notifications, as the agent's is. */
static int twin_open(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = RTMGRP_LINK };
	int size = 4 << 20;
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);

	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Reads up to @max datagrams off @fd without waiting; how many. */
static int drain(int fd, int max)
{
	char buf[16384];
	int n = 0;

	while (n < max && recv(fd, buf, sizeof(buf), MSG_DONTWAIT) >= 0)
		n++;
	return n;
}

/* Datagrams @fd receives until none came for QUIET_MS. */
static int count_until_quiet(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int n = 0;

	while (n < MAX_DATAGRAMS && poll(&p, 1, QUIET_MS) == 1)
		n += drain(fd, MAX_DATAGRAMS - n);
	return n;
}

static bool queue_empty(int fd)
{
	char byte;

	return recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) < 0 && errno == EAGAIN;
}

/* Creates STORM_PAIRS veth pairs at once, then deletes them. */
static int link_storm(void)
{
	return sh("{ " TW_IP_LINES(STORM_PAIRS, "link add twa$i type veth peer name twb$i")
		  "; " TW_IP_LINES(STORM_PAIRS, "link del twa$i") "; } | ip -batch -");
}

struct fixture {
	struct agent ag;
	struct live *live;
	int twin;
};

/* An agent attached to IF_WATCHED, its link socket open and empty, and a
 * twin socket; false when a step failed (said). */
static bool fixture_open(struct fixture *f)
{
	struct live_opts o = {
		.ports = &port443, .n_ports = 1, .ringbuf_bytes = 1 << 16,
		.any_link = true,
	};
	char err[256] = "";

	memset(f, 0, sizeof(*f));
	f->ag.links_fd = -1;
	f->twin = -1;
	sh("ip link del " IF_WATCHED " 2>/dev/null");
	if (sh("ip link add " IF_WATCHED " type veth peer name " IF_PEER) != 0 ||
	    live_open(&o, &f->live, err, sizeof(err)) != 0 ||
	    live_attach_iface(f->live, IF_WATCHED, err, sizeof(err)) != 0) {
		printf("#   setup: %s\n", err);
		return false;
	}
	f->ag.live = f->live;
	f->ag.n_attached = live_ifaces(f->live, &f->ag.attached);
	if (agent_links_open(&f->ag) != 0 || (f->twin = twin_open()) < 0) {
		printf("#   netlink sockets: %s\n", strerror(errno));
		return false;
	}
	return true;
}

static void fixture_close(struct fixture *f)
{
	if (f->twin >= 0)
		close(f->twin);
	agent_links_close(&f->ag);
	live_close(f->live);
	sh("ip link del " IF_WATCHED " 2>/dev/null");
}

/*
 * The attached interface is deleted and its notification lost among a
 * storm: the agent's socket is left holding @queued datagrams, with the
 * loss already seen (links_lost), as a turn that read ENOBUFS leaves it.
 * Returns @queued, or -1 (said).
 */
static int lose_the_deletion(struct fixture *f, int queued)
{
	int n;

	drain(f->ag.links_fd, MAX_DATAGRAMS);
	drain(f->twin, MAX_DATAGRAMS);
	if (sh("ip link del " IF_WATCHED) != 0 || link_storm() != 0)
		return -1;
	n = count_until_quiet(f->twin);
	if (n < queued) {
		printf("#   %d notifications, fewer than %d\n", n, queued);
		return -1;
	}
	if (drain(f->ag.links_fd, n - queued) != n - queued)
		return -1;
	f->ag.links_lost = true;
	return queued;
}

/* The turn's bound of reads is reached just as the queue empties: the
 * links are listed again then, not at the next, unrelated, link change. */
static void test_resync_when_the_last_read_empties_the_queue(void)
{
	struct fixture f;

	if (fixture_open(&f)) {
		CHECK_INT(f.ag.n_attached, 1);
		CHECK_INT(lose_the_deletion(&f, AGENT_LINKS_MAX_READS), AGENT_LINKS_MAX_READS);
		agent_links_ready(&f.ag, f.ag.links_fd, POLLIN);
		CHECK(queue_empty(f.ag.links_fd));
		CHECK(!f.ag.links_lost);
		CHECK_INT(f.ag.n_attached, 0);     /* the deletion, found by listing */
	} else {
		CHECK(false);
	}
	fixture_close(&f);
}

/* One datagram more than a turn reads: the links are listed at the next
 * turn, once what was queued before the loss is read. */
static void test_resync_waits_for_the_queue_to_empty(void)
{
	struct fixture f;

	if (fixture_open(&f)) {
		CHECK_INT(lose_the_deletion(&f, AGENT_LINKS_MAX_READS + 1),
			  AGENT_LINKS_MAX_READS + 1);
		agent_links_ready(&f.ag, f.ag.links_fd, POLLIN);
		CHECK(!queue_empty(f.ag.links_fd));
		CHECK(f.ag.links_lost);
		CHECK_INT(f.ag.n_attached, 1);
		agent_links_ready(&f.ag, f.ag.links_fd, POLLIN);
		CHECK(queue_empty(f.ag.links_fd));
		CHECK(!f.ag.links_lost);
		CHECK_INT(f.ag.n_attached, 0);
	} else {
		CHECK(false);
	}
	fixture_close(&f);
}

/* Lines of events_log that contain @needle. */
static int log_lines_with(const char *needle)
{
	char line[4096];
	int n = 0;
	FILE *f = fopen(events_log, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		n += strstr(line, needle) != NULL;
	fclose(f);
	return n;
}

/*
 * An interface skipped as another agent's, then free but not attachable
 * for another reason (every entry attached: -ENOSPC), is reported once
 * and tried no more by the timer: before, it stayed on the list and each
 * second's retry sent the same error event again.
 */
static void test_retry_reports_a_failure_once(void)
{
	const char *glob[] = { "tw[cd]*" };
	struct output_opts out = { .json_path = events_log };
	char err[256] = "";
	struct fixture f;
	int hold = -1, reads;

	unlink(events_log);
	if (!fixture_open(&f) || sink_set_open(&out, &f.ag.sinks, err, sizeof(err)) < 0) {
		printf("#   %s\n", err);
		CHECK(false);
		fixture_close(&f);
		return;
	}
	f.ag.o.ifaces = glob;
	f.ag.o.n_ifaces = 1;
	drain(f.ag.links_fd, MAX_DATAGRAMS);
	CHECK_INT(sh(TW_IP_BATCH(FULL_PAIRS, "link add twc$i type veth peer name twd$i")), 0);
	hold = live_hold_bind("twc1", (int)if_nametoindex("twc1"), err, sizeof(err));
	CHECK(hold >= 0);
	/* the notifications: twc1 refused (busy), the other ends attached */
	for (reads = 0; reads < MAX_DATAGRAMS / AGENT_LINKS_MAX_READS &&
			!queue_empty(f.ag.links_fd); reads++)
		agent_links_ready(&f.ag, f.ag.links_fd, POLLIN);
	CHECK_INT(f.ag.n_attached, LIVE_MAX_IFACES);
	CHECK_INT(f.ag.n_busy, 1);
	if (hold >= 0)
		close(hold);
	agent_links_retry_busy(&f.ag, 0);
	CHECK_INT(f.ag.n_busy, 0);
	agent_links_retry_busy(&f.ag, 0);
	agent_links_retry_busy(&f.ag, 0);
	sink_set_flush(f.ag.sinks);
	CHECK_INT(log_lines_with("\"state\":\"error\""), 2);
	CHECK_INT(log_lines_with("twc1: another tlswatch agent watches"), 1);
	CHECK_INT(log_lines_with("twc1: already 256 interfaces attached"), 1);
	CHECK_INT(log_lines_with("\"state\":\"interface_added\""), LIVE_MAX_IFACES - 1);
	sink_set_close(f.ag.sinks);
	f.ag.sinks = NULL;
	fixture_close(&f);
	sh(TW_IP_BATCH(FULL_PAIRS, "link del twc$i"));
	unlink(events_log);
}

int main(void)
{
	if (unshare(CLONE_NEWNET)) {
		printf("not ok - unshare(CLONE_NEWNET): %s (needs root)\n",
		       strerror(errno));
		return 1;
	}
	snprintf(events_log, sizeof(events_log), "/tmp/test_agent_links.%d.jsonl",
		 (int)getpid());
	RUN_TEST(test_resync_when_the_last_read_empties_the_queue);
	RUN_TEST(test_resync_waits_for_the_queue_to_empty);
	RUN_TEST(test_retry_reports_a_failure_once);
	return CHECK_EXIT_CODE();
}
