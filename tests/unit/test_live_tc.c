// SPDX-License-Identifier: MIT
/*
 * TC attach/detach rules of the live source, in a private network
 * namespace (unshare) with a veth pair, so nothing outside is touched and
 * everything disappears with the process. Needs root.
 *
 * "Killed agent" tests fork a child that attaches and is then SIGKILLed:
 * its filters and qdisc stay, as after a crash of the real agent.
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <net/if.h>
#include <bpf/libbpf.h>

#include "check.h"
#include "common/log.h"
#include "live/live.h"
#include "netns_sh.h"
#include "tlswatch.skel.h"

#define IF_A "twt0"
#define IF_B "twt1"
#define FOREIGN_PRIO 100
#define FOREIGN_HANDLE 1
static const uint16_t port443 = 443;

static bool has_clsact(void)
{
	char line[256];
	bool found = false;
	FILE *f = popen("tc qdisc show dev " IF_A, "r");

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "clsact"))
			found = true;
	pclose(f);
	return found;
}

static bool filter_at(enum bpf_tc_attach_point point, uint32_t prio,
		      uint32_t handle)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = (int)if_nametoindex(IF_A),
		    .attach_point = point);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = handle, .priority = prio);

	return bpf_tc_query(&hook, &opts) == 0;
}

static bool ours_at(enum bpf_tc_attach_point point, uint32_t handle)
{
	return filter_at(point, TW_TC_PRIORITY, handle);
}

/* A fresh veth pair; the namespace is this process's own. */
static bool net_reset(void)
{
	sh("ip link del " IF_A " 2>/dev/null");
	return sh("ip link add " IF_A " type veth peer name " IF_B) == 0 &&
	       sh("ip link set " IF_A " up && ip link set " IF_B " up") == 0;
}

static struct live *open_on(const char **ifaces, int n, char *err, size_t errlen,
			    int *rc)
{
	struct live_opts o = {
		.ifaces = ifaces, .n_ifaces = n, .ports = &port443, .n_ports = 1,
		.ringbuf_bytes = 1 << 16,
	};
	struct live *l = NULL;

	*rc = live_open(&o, &l, err, errlen);
	return l;
}

static struct live *open_a(void)
{
	const char *ifs[] = { IF_A };
	char err[256] = "";
	struct live *l;
	int rc;

	l = open_on(ifs, 1, err, sizeof(err), &rc);
	if (rc)
		printf("# live_open: %s\n", err);
	return l;
}

/* Another tool's clsact qdisc with its own filter on ingress. */
static struct tlswatch_bpf *foreign_setup(void)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = (int)if_nametoindex(IF_A),
		    .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = FOREIGN_HANDLE,
		    .priority = FOREIGN_PRIO);
	struct tlswatch_bpf *skel;

	if (sh("tc qdisc add dev " IF_A " clsact") != 0)
		return NULL;
	skel = tlswatch_bpf__open_and_load();
	if (!skel)
		return NULL;
	opts.prog_fd = bpf_program__fd(skel->progs.tlswatch);
	if (bpf_tc_attach(&hook, &opts)) {
		tlswatch_bpf__destroy(skel);
		return NULL;
	}
	return skel;
}

/* Forks an agent that attaches to IF_A, then SIGKILLs it. */
static bool killed_agent(void)
{
	int fds[2], status;
	char c = 0;
	pid_t pid;

	if (pipe(fds))
		return false;
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return false;
	if (pid == 0) {
		struct live *l = open_a();

		c = l ? 'y' : 'n';
		if (write(fds[1], &c, 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(fds[1]);
	if (read(fds[0], &c, 1) != 1)
		c = 0;
	close(fds[0]);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return c == 'y';
}

static void test_open_attaches_both_directions_and_close_removes_all(void)
{
	struct live *l;

	CHECK(net_reset());
	l = open_a();
	CHECK(l != NULL);
	CHECK(has_clsact());
	CHECK(ours_at(BPF_TC_INGRESS, TW_TC_HANDLE_OWN));
	CHECK(ours_at(BPF_TC_EGRESS, TW_TC_HANDLE_OWN));
	CHECK(!ours_at(BPF_TC_INGRESS, TW_TC_HANDLE_SHARED));
	live_close(l);
	CHECK(!ours_at(BPF_TC_INGRESS, TW_TC_HANDLE_OWN));
	CHECK(!ours_at(BPF_TC_EGRESS, TW_TC_HANDLE_OWN));
	CHECK(!has_clsact());
}

static void test_existing_clsact_and_foreign_filter_survive_close(void)
{
	struct tlswatch_bpf *foreign;
	struct live *l;

	CHECK(net_reset());
	foreign = foreign_setup();
	CHECK(foreign != NULL);
	l = open_a();
	CHECK(l != NULL);
	CHECK(ours_at(BPF_TC_INGRESS, TW_TC_HANDLE_SHARED));
	CHECK(ours_at(BPF_TC_EGRESS, TW_TC_HANDLE_SHARED));
	CHECK(!ours_at(BPF_TC_INGRESS, TW_TC_HANDLE_OWN));
	live_close(l);
	CHECK(!ours_at(BPF_TC_INGRESS, TW_TC_HANDLE_SHARED));
	CHECK(!ours_at(BPF_TC_EGRESS, TW_TC_HANDLE_SHARED));
	CHECK(has_clsact());
	CHECK(filter_at(BPF_TC_INGRESS, FOREIGN_PRIO, FOREIGN_HANDLE));
	tlswatch_bpf__destroy(foreign);
}

static void test_filter_added_by_another_tool_keeps_our_qdisc(void)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = FOREIGN_HANDLE,
		    .priority = FOREIGN_PRIO);
	struct tlswatch_bpf *other;
	struct live *l;

	CHECK(net_reset());
	l = open_a();
	CHECK(l != NULL);
	/* someone attaches to the clsact we created while we run */
	other = tlswatch_bpf__open_and_load();
	CHECK(other != NULL);
	if (!other) {
		live_close(l);
		return;
	}
	hook.ifindex = (int)if_nametoindex(IF_A);
	opts.prog_fd = bpf_program__fd(other->progs.tlswatch);
	CHECK_INT(bpf_tc_attach(&hook, &opts), 0);
	live_close(l);
	CHECK(has_clsact());
	CHECK(filter_at(BPF_TC_EGRESS, FOREIGN_PRIO, FOREIGN_HANDLE));
	CHECK(!ours_at(BPF_TC_EGRESS, TW_TC_HANDLE_OWN));
	tlswatch_bpf__destroy(other);
}

static void test_killed_agent_leaves_filter_and_restart_takes_over(void)
{
	struct live *l;

	CHECK(net_reset());
	CHECK(killed_agent());
	/* what a SIGKILL leaves behind */
	CHECK(has_clsact());
	CHECK(ours_at(BPF_TC_INGRESS, TW_TC_HANDLE_OWN));
	CHECK(ours_at(BPF_TC_EGRESS, TW_TC_HANDLE_OWN));
	l = open_a();
	CHECK(l != NULL);
	CHECK(ours_at(BPF_TC_INGRESS, TW_TC_HANDLE_OWN));
	CHECK(!ours_at(BPF_TC_INGRESS, TW_TC_HANDLE_SHARED));
	live_close(l);
	/* the restarted agent knew the qdisc was a tlswatch one */
	CHECK(!ours_at(BPF_TC_INGRESS, TW_TC_HANDLE_OWN));
	CHECK(!ours_at(BPF_TC_EGRESS, TW_TC_HANDLE_OWN));
	CHECK(!has_clsact());
}

/* A second agent on a watched interface is refused and touches nothing:
 * the first one's filters and qdisc stay, before and after. */
static void test_live_agents_filter_is_never_taken_over(void)
{
	const char *ifs[] = { IF_A };
	char err[256] = "";
	struct live *first, *second;
	int rc;

	CHECK(net_reset());
	first = open_a();
	CHECK(first != NULL);
	second = open_on(ifs, 1, err, sizeof(err), &rc);
	CHECK(second == NULL);
	CHECK_INT(rc, -EBUSY);
	CHECK_STR(err, IF_A ": another tlswatch agent watches this interface; "
		  "leaving it to that one");
	CHECK_INT(live_cleanup_stale(IF_A), -EBUSY);
	/* the first agent's filters and qdisc, untouched */
	CHECK(has_clsact());
	CHECK(ours_at(BPF_TC_INGRESS, TW_TC_HANDLE_OWN));
	CHECK(ours_at(BPF_TC_EGRESS, TW_TC_HANDLE_OWN));
	CHECK(!ours_at(BPF_TC_INGRESS, TW_TC_HANDLE_SHARED));
	live_close(first);
	CHECK(!ours_at(BPF_TC_INGRESS, TW_TC_HANDLE_OWN));
	CHECK(!has_clsact());
	/* the interface is free again once the first let go */
	second = open_a();
	CHECK(second != NULL);
	CHECK(ours_at(BPF_TC_EGRESS, TW_TC_HANDLE_OWN));
	live_close(second);
}

#define MANY_PAIRS 133    /* a plain number: the shell loop counts to it */
_Static_assert(2 * MANY_PAIRS > LIVE_MAX_IFACES, "more veth ends than slots");

/* Holds @name as another live agent would (see live_tc.h): its fd, or -1. */
static int hold_as_other_agent(const char *name)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int n = snprintf(sa.sun_path + 1, sizeof(sa.sun_path) - 1, "tlswatch-tc-%u",
			 if_nametoindex(name));

	if (fd >= 0 && bind(fd, (struct sockaddr *)&sa,
			    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n))) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* Creates (@add) or deletes MANY_PAIRS veth pairs tws1/twp1... at once. */
static int many_pairs(bool add)
{
	return sh(add ? TW_IP_BATCH(MANY_PAIRS, "link add tws$i type veth peer name twp$i")
		      : TW_IP_BATCH(MANY_PAIRS, "link del tws$i"));
}

/* The veth end @i of many_pairs() into @name. */
static void many_name(int i, char name[IF_NAMESIZE])
{
	snprintf(name, IF_NAMESIZE, "tw%c%d", i % 2 ? 'p' : 's', i / 2 + 1);
}

/* Refusals use up no interface slot: an agent refused more interfaces
 * than LIVE_MAX_IFACES (another agent's, under a glob) can still attach
 * the next one. */
static void test_refused_interfaces_use_no_slot(void)
{
	struct live_opts o = {
		.ports = &port443, .n_ports = 1, .ringbuf_bytes = 1 << 16,
		.any_link = true,
	};
	int holds[2 * MANY_PAIRS], i, busy = 0;
	struct live *l = NULL;
	char err[256] = "", name[IF_NAMESIZE];

	CHECK(net_reset());
	CHECK_INT(many_pairs(true), 0);
	CHECK_INT(live_open(&o, &l, err, sizeof(err)), 0);
	for (i = 0; i < 2 * MANY_PAIRS; i++) {
		many_name(i, name);
		holds[i] = hold_as_other_agent(name);
		busy += l && live_attach_iface(l, name, err, sizeof(err)) == -EBUSY;
	}
	CHECK_INT(busy, 2 * MANY_PAIRS);
	CHECK_INT(l ? live_attach_iface(l, IF_A, err, sizeof(err)) : -1, 0);
	CHECK(ours_at(BPF_TC_INGRESS, TW_TC_HANDLE_OWN));
	live_close(l);
	for (i = 0; i < 2 * MANY_PAIRS; i++)
		if (holds[i] >= 0)
			close(holds[i]);
	many_pairs(false);
}

/* Interfaces that come and go (containers' veths, each with a new name)
 * never run out of entries: once LIVE_MAX_IFACES were attached and went
 * away, a new one is attached in an entry they left. Only LIVE_MAX_IFACES
 * attached at once refuse the next (-ENOSPC). */
static void test_entries_of_gone_interfaces_are_used_again(void)
{
	struct live_opts o = {
		.ports = &port443, .n_ports = 1, .ringbuf_bytes = 1 << 16,
		.any_link = true,
	};
	const char *const *names;
	struct live *l = NULL;
	char err[256] = "", name[IF_NAMESIZE];
	int i, attached = 0, gone = 0;

	CHECK(net_reset());
	CHECK_INT(many_pairs(true), 0);
	CHECK_INT(live_open(&o, &l, err, sizeof(err)), 0);
	if (!l)
		return;
	for (i = 0; i < LIVE_MAX_IFACES; i++) {
		many_name(i, name);
		attached += live_attach_iface(l, name, err, sizeof(err)) == 0;
	}
	CHECK_INT(attached, LIVE_MAX_IFACES);
	CHECK_INT(live_attach_iface(l, IF_A, err, sizeof(err)), -ENOSPC);
	CHECK_STR(err, IF_A ": already 256 interfaces attached");
	CHECK_INT(many_pairs(false), 0);
	while (gone <= LIVE_MAX_IFACES && live_forget_gone(l))
		gone++;
	CHECK_INT(gone, LIVE_MAX_IFACES);
	CHECK_INT(live_attach_iface(l, IF_A, err, sizeof(err)), 0);
	CHECK(ours_at(BPF_TC_INGRESS, TW_TC_HANDLE_OWN));
	CHECK_INT(live_ifaces(l, &names), 1);
	CHECK_STR(names[0], IF_A);
	live_close(l);
	CHECK(!ours_at(BPF_TC_INGRESS, TW_TC_HANDLE_OWN));
	CHECK(!has_clsact());
}

static void test_cleanup_stale_removes_killed_agents_leftovers(void)
{
	CHECK(net_reset());
	CHECK(killed_agent());
	CHECK_INT(live_cleanup_stale(IF_A), 2);
	CHECK(!ours_at(BPF_TC_INGRESS, TW_TC_HANDLE_OWN));
	CHECK(!has_clsact());
	CHECK_INT(live_cleanup_stale(IF_A), 0); /* idempotent */
}

static void test_cleanup_stale_on_shared_qdisc_keeps_it(void)
{
	struct tlswatch_bpf *foreign;

	CHECK(net_reset());
	foreign = foreign_setup();
	CHECK(foreign != NULL);
	CHECK(killed_agent());
	CHECK(ours_at(BPF_TC_INGRESS, TW_TC_HANDLE_SHARED));
	CHECK_INT(live_cleanup_stale(IF_A), 2);
	CHECK(!ours_at(BPF_TC_INGRESS, TW_TC_HANDLE_SHARED));
	CHECK(has_clsact());
	CHECK(filter_at(BPF_TC_INGRESS, FOREIGN_PRIO, FOREIGN_HANDLE));
	tlswatch_bpf__destroy(foreign);
}

static void test_failed_open_names_interface_and_rolls_back(void)
{
	const char *ifs[] = { IF_A, "twt-missing" };
	char err[256] = "";
	struct live *l;
	int rc;

	CHECK(net_reset());
	l = open_on(ifs, 2, err, sizeof(err), &rc);
	CHECK(l == NULL);
	CHECK_INT(rc, -ENODEV);
	CHECK(strstr(err, "twt-missing") != NULL);
	CHECK(!ours_at(BPF_TC_INGRESS, TW_TC_HANDLE_OWN));
	CHECK(!has_clsact());
}

static void test_interface_named_twice_is_attached_once(void)
{
	const char *ifs[] = { IF_A, IF_A };
	const char *const *names;
	char err[256] = "";
	struct live *l;
	int rc;

	CHECK(net_reset());
	l = open_on(ifs, 2, err, sizeof(err), &rc);
	CHECK_INT(rc, 0);
	if (!l)
		return;
	CHECK_INT(live_ifaces(l, &names), 1);
	CHECK_STR(names[0], IF_A);
	live_close(l);
	CHECK(!has_clsact());
}

static void test_interface_deleted_while_attached_closes_quietly(void)
{
	struct live_counters c;
	struct live *l;

	CHECK(net_reset());
	l = open_a();
	CHECK(l != NULL);
	if (!l)
		return;
	CHECK_INT(sh("ip link del " IF_A), 0);
	CHECK_INT(live_poll(l, 0, NULL, NULL), 0);
	CHECK_INT(live_counters(l, &c), 0);
	live_close(l);
	CHECK(if_nametoindex(IF_A) == 0);
}

/* IF_A and a fresh twt2 (peer twt3) attached, or NULL (said). */
static struct live *open_a_and_twt2(void)
{
	const char *ifs[] = { IF_A, "twt2" };
	char err[256] = "";
	struct live *l;
	int rc;

	CHECK(net_reset());
	CHECK_INT(sh("ip link del twt2 2>/dev/null; ip link add twt2 type veth peer name twt3"), 0);
	l = open_on(ifs, 2, err, sizeof(err), &rc);
	CHECK_INT(rc, 0);
	return l;
}

/* After lost notifications: only the interfaces that are gone are
 * forgotten, once each; one made again under the same name is attached
 * again (it is free: the old one's hold went with it). */
static void test_forget_gone_forgets_only_deleted_interfaces(void)
{
	const char *const *names;
	char err[256] = "";
	struct live *l = open_a_and_twt2();

	if (!l)
		return;
	CHECK(live_forget_gone(l) == NULL);
	CHECK_INT(sh("ip link del " IF_A), 0);
	CHECK_STR(live_forget_gone(l), IF_A);
	CHECK(live_forget_gone(l) == NULL);
	CHECK_INT(live_ifaces(l, &names), 1);
	CHECK_STR(names[0], "twt2");
	CHECK(net_reset());
	CHECK_INT(live_attach_iface(l, IF_A, err, sizeof(err)), 0);
	CHECK(ours_at(BPF_TC_INGRESS, TW_TC_HANDLE_OWN));
	CHECK_INT(live_ifaces(l, &names), 2);
	live_close(l);
	CHECK(!ours_at(BPF_TC_INGRESS, TW_TC_HANDLE_OWN));
	sh("ip link del twt2");
}

/* A listing stopped short of its final NULL (the caller's bound reached
 * just as the last gone one was returned) leaves nothing behind: the next
 * one finds an interface gone since in any entry. */
static void test_forget_gone_keeps_no_position(void)
{
	char err[256] = "";
	struct live *l = open_a_and_twt2();

	if (!l)
		return;
	CHECK_INT(sh("ip link del " IF_A " && ip link del twt2"), 0);
	CHECK_STR(live_forget_gone(l), IF_A);
	CHECK_STR(live_forget_gone(l), "twt2");
	CHECK(net_reset());   /* stopped there; IF_A comes back, in entry 0 */
	CHECK_INT(live_attach_iface(l, IF_A, err, sizeof(err)), 0);
	CHECK_INT(sh("ip link del " IF_A), 0);
	CHECK_STR(live_forget_gone(l), IF_A);
	CHECK(live_forget_gone(l) == NULL);
	live_close(l);
}

static void test_default_ifaces_are_up_and_not_loopback(void)
{
	char **names = NULL;
	int n;

	CHECK(net_reset());
	sh("ip link set lo up; ip link set " IF_B " down");
	n = live_default_ifaces(&names);
	CHECK_INT(n, 1);
	if (n == 1)
		CHECK_STR(names[0], IF_A);
	CHECK(names && names[n < 0 ? 0 : n] == NULL);
	live_ifaces_free(names);
}

/* The start check's holds are the exclusion: a second taker of the same
 * interface is refused with the message the agent prints, a name that
 * does not exist is said before anything is held, and live_open() attaches
 * with the hold it is handed (none bound twice). */
static void test_holds_exclude_a_second_agent_and_are_attached(void)
{
	const char *ifs[] = { IF_A };
	const char *missing[] = { IF_A, "twt9" };
	struct live_opts o = {
		.ifaces = ifs, .n_ifaces = 1, .ports = &port443, .n_ports = 1,
		.ringbuf_bytes = 1 << 16,
	};
	struct live_holds *first = NULL, *second = NULL;
	struct live *l = NULL;
	char err[256] = "";

	CHECK(net_reset());
	CHECK_INT(live_holds_take(missing, 2, &first, err, sizeof(err)), -ENODEV);
	CHECK_STR(err, "--iface twt9: no such interface");
	CHECK(first == NULL);
	CHECK_INT(live_holds_take(ifs, 1, &first, err, sizeof(err)), 0);
	CHECK_INT(live_holds_take(ifs, 1, &second, err, sizeof(err)), -EBUSY);
	CHECK_STR(err, IF_A ": another tlswatch agent watches this interface; "
		  "leaving it to that one");
	CHECK(second == NULL);
	o.holds = first;
	CHECK_INT(live_open(&o, &l, err, sizeof(err)), 0);
	CHECK(ours_at(BPF_TC_INGRESS, TW_TC_HANDLE_OWN));
	CHECK_INT(live_holds_take(ifs, 1, &second, err, sizeof(err)), -EBUSY);
	live_close(l);
	live_holds_free(first);
	CHECK(!ours_at(BPF_TC_INGRESS, TW_TC_HANDLE_OWN));
	CHECK_INT(live_holds_take(ifs, 1, &second, err, sizeof(err)), 0);
	live_holds_free(second);
}

/* As an agent without --iface: every interface up held (*@holds), then
 * @between run, then @name opened with the holds; NULL when it failed. */
static struct live *open_held(const char *name, const char *between,
			      struct live_holds **holds)
{
	const char *ifs[] = { name };
	struct live_opts o = {
		.ifaces = ifs, .n_ifaces = 1, .ports = &port443, .n_ports = 1,
		.ringbuf_bytes = 1 << 16,
	};
	struct live *l = NULL;
	char err[256] = "";

	*holds = NULL;
	CHECK(net_reset());
	CHECK_INT(live_holds_take(NULL, 0, holds, err, sizeof(err)), 0);
	CHECK_INT(sh(between), 0);
	o.holds = *holds;
	CHECK_INT(live_open(&o, &l, err, sizeof(err)), 0);
	return l;
}

/* Holds are found by ifindex: an interface held at start (without
 * --iface: every one up) and renamed before it is attached is attached
 * with its hold, not refused as another agent's (this one's). */
static void test_held_interface_renamed_before_open_is_attached(void)
{
	const char *renamed[] = { "twt5" };
	const char *const *names;
	struct live_holds *holds, *other = NULL;
	char err[256] = "";
	struct live *l = open_held("twt5", "ip link set " IF_A " down && ip link set "
				   IF_A " name twt5 && ip link set twt5 up", &holds);

	CHECK_INT(l ? live_ifaces(l, &names) : -1, 1);
	CHECK_STR(l ? names[0] : "", "twt5");
	CHECK_INT(live_holds_take(renamed, 1, &other, err, sizeof(err)), -EBUSY);
	live_close(l);
	live_holds_free(holds);
	sh("ip link del twt5");
}

/* An interface held at start but not attached (down by then, so not in
 * the agent's list) is free for another agent once live_open() returns;
 * before, it stayed held, never watched, until the agent stopped. */
static void test_holds_not_attached_are_let_go_at_open(void)
{
	const char *ifs[] = { IF_A }, *peer[] = { IF_B };
	struct live_holds *holds, *other = NULL;
	char err[256] = "";
	struct live *l = open_held(IF_A, "ip link set " IF_B " down", &holds);

	CHECK(l != NULL);
	CHECK_INT(live_holds_take(ifs, 1, &other, err, sizeof(err)), -EBUSY);
	CHECK_INT(live_holds_take(peer, 1, &other, err, sizeof(err)), 0);
	live_holds_free(other);
	live_close(l);
	live_holds_free(holds);
}

/* live_holds_add() without holds (NULL, as live_opts.holds may be) holds
 * nothing and says whether another agent watches the interface. */
static void test_holds_add_without_holds_probes(void)
{
	char err[256] = "";
	int ifindex = 0, other;

	CHECK(net_reset());
	CHECK_INT(live_holds_add(NULL, IF_A, &ifindex, err, sizeof(err)), 0);
	CHECK_INT(ifindex, (int)if_nametoindex(IF_A));
	CHECK_INT(live_holds_add(NULL, IF_A, &ifindex, err, sizeof(err)), 0);
	other = hold_as_other_agent(IF_A);
	CHECK(other >= 0);
	CHECK_INT(live_holds_add(NULL, IF_A, &ifindex, err, sizeof(err)), 1);
	CHECK_STR(err, IF_A ": another tlswatch agent watches this interface; "
		  "leaving it to that one");
	if (other >= 0)
		close(other);
}

/* An attached interface is followed by its ifindex: renamed (seen by a
 * new listing, then by a notification) it stays attached under its new
 * name, and an interface that takes the old name is a new one. */
static void test_renamed_interface_is_followed(void)
{
	const char *ifs[] = { IF_A };
	const char *const *names;
	char err[256] = "";
	struct live *l;
	int rc, ifindex;

	CHECK(net_reset());
	ifindex = (int)if_nametoindex(IF_A);
	l = open_on(ifs, 1, err, sizeof(err), &rc);
	CHECK_INT(rc, 0);
	if (!l)
		return;
	CHECK_INT(sh("ip link set " IF_A " down && ip link set " IF_A " name twt8"), 0);
	CHECK(live_forget_gone(l) == NULL);
	CHECK_INT(live_ifaces(l, &names), 1);
	CHECK_STR(names[0], "twt8");
	CHECK_INT(sh("ip link set twt8 name twt7"), 0);
	CHECK(live_follow_iface(l, ifindex, "twt7"));
	CHECK_STR(names[0], "twt7");
	CHECK(!live_follow_iface(l, ifindex + 1000, "twt7"));
	CHECK_INT(sh("ip link add " IF_A " type veth peer name twt6"), 0);  /* a new one */
	CHECK_INT(live_attach_iface(l, IF_A, err, sizeof(err)), 0);
	CHECK_INT(live_ifaces(l, &names), 2);
	CHECK_STR(names[0], "twt7");
	CHECK_STR(names[1], IF_A);
	CHECK(ours_at(BPF_TC_INGRESS, TW_TC_HANDLE_OWN));
	live_close(l);
	CHECK(!ours_at(BPF_TC_INGRESS, TW_TC_HANDLE_OWN));
	sh("ip link del twt7");
}

int main(void)
{
	if (unshare(CLONE_NEWNET)) {
		printf("not ok - unshare(CLONE_NEWNET): %s (needs root)\n",
		       strerror(errno));
		return 1;
	}
	RUN_TEST(test_open_attaches_both_directions_and_close_removes_all);
	RUN_TEST(test_existing_clsact_and_foreign_filter_survive_close);
	RUN_TEST(test_filter_added_by_another_tool_keeps_our_qdisc);
	RUN_TEST(test_killed_agent_leaves_filter_and_restart_takes_over);
	RUN_TEST(test_live_agents_filter_is_never_taken_over);
	RUN_TEST(test_refused_interfaces_use_no_slot);
	RUN_TEST(test_cleanup_stale_removes_killed_agents_leftovers);
	RUN_TEST(test_cleanup_stale_on_shared_qdisc_keeps_it);
	RUN_TEST(test_failed_open_names_interface_and_rolls_back);
	RUN_TEST(test_interface_named_twice_is_attached_once);
	RUN_TEST(test_interface_deleted_while_attached_closes_quietly);
	RUN_TEST(test_forget_gone_forgets_only_deleted_interfaces);
	RUN_TEST(test_default_ifaces_are_up_and_not_loopback);
	RUN_TEST(test_holds_exclude_a_second_agent_and_are_attached);
	RUN_TEST(test_renamed_interface_is_followed);
	RUN_TEST(test_entries_of_gone_interfaces_are_used_again);
	RUN_TEST(test_forget_gone_keeps_no_position);
	RUN_TEST(test_held_interface_renamed_before_open_is_attached);
	RUN_TEST(test_holds_not_attached_are_let_go_at_open);
	RUN_TEST(test_holds_add_without_holds_probes);
	return CHECK_EXIT_CODE();
}
