// SPDX-License-Identifier: MIT
/*
 * Least privilege for the live agent: before anything is opened, files
 * it creates get no permission for others and no program it executes
 * can gain privileges; once the TC filters are attached, every thread
 * keeps only the capabilities of AGENT_CAPS_KEPT.
 *
 * Raw capset(2) and prctl(2) rather than libcap: capabilities, the
 * bounding set and no_new_privs belong to each thread, and by the time the
 * agent has attached, libmicrohttpd (the /metrics server), libcurl and our
 * own workers have started threads. libcap changes other threads only
 * through libpsx, which knows only the threads created through its
 * pthread_create() wrapper in our own objects, not those the libraries
 * start. So every thread listed in /proc/self/task is signalled to drop
 * its own, and the result is read back from /proc for each of them.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <linux/capability.h>

#include "agent_internal.h"
#include "common/log.h"

/*
 * What the running agent keeps, X(CAP, WHY). Everything else it does after
 * attaching needs none: the ring buffer is read from memory mapped at
 * attach time (epoll and loads, no bpf() call), active checks and OCSP/CRL
 * fetches are plain TCP connections, the /metrics socket is bound before,
 * and the files it opens later (the --json-log reopened on SIGHUP, the
 * configuration, secret, CRL and CA files read again) are its own user's.
 */
#define AGENT_CAPS_KEPT(X)                                                     \
	X(CAP_NET_ADMIN, "attaching to interfaces that appear (--iface globs) " \
			 "and deleting its TC filters (netlink) when it stops") \
	X(CAP_BPF, "reading and updating its own BPF maps (stats, ending a "   \
		   "flow's handshake phase): only on kernels before 6.5 with "  \
		   "kernel.unprivileged_bpf_disabled set, found by trying")

#define CAP_BIT(c) (1ULL << (c))
#define CAP_MASK_BIT(cap, why) | CAP_BIT(cap)
#define AGENT_CAPS_MASK (0 AGENT_CAPS_KEPT(CAP_MASK_BIT))

#define PRIVS_ROUNDS 10         /* threads may start while we drop */
#define PRIVS_ACK_POLLS 200     /* of PRIVS_ACK_POLL_NS each: 1 s a round */
#define PRIVS_ACK_POLL_NS 5000000L
#define PRIVS_MAX_CAP 63        /* the sets are 64 bits */

/* The capability lines of /proc/.../status: X(FIELD, KEY) */
#define CAP_STATUS_FIELDS(X) \
	X(inh, "CapInh:")    \
	X(prm, "CapPrm:")    \
	X(eff, "CapEff:")    \
	X(bnd, "CapBnd:")    \
	X(amb, "CapAmb:")

struct thread_caps {
#define X(field, key) uint64_t field;
	CAP_STATUS_FIELDS(X)
#undef X
};

/* What every thread is to end with; read by the signal handler. */
static struct {
	uint64_t keep;          /* permitted and effective; nothing inheritable */
	bool drop_bound;        /* the bounding set too (we have CAP_SETPCAP) */
	atomic_int acks;
} target;

int agent_safe_defaults(char *err, size_t errlen)
{
	/* Whatever the caller's umask: the inventory, its -wal/-shm and the
	 * event log say which names and addresses this host serves. */
	umask(AGENT_UMASK);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		snprintf(err, errlen, "setting no_new_privs: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static int caps_set_self(uint64_t permitted, uint64_t effective)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2] = {
		{ .effective = (uint32_t)effective, .permitted = (uint32_t)permitted },
		{ .effective = (uint32_t)(effective >> 32),
		  .permitted = (uint32_t)(permitted >> 32) },
	};

	return syscall(SYS_capset, &hdr, data) ? -errno : 0;
}

/* The calling thread to the target. Async-signal-safe: the handler runs it. */
static int drop_here(void)
{
	int c;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -errno;
	for (c = 0; target.drop_bound && c <= PRIVS_MAX_CAP; c++) {
		if (target.keep & CAP_BIT(c) || prctl(PR_CAPBSET_READ, c, 0, 0, 0) != 1)
			continue;
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0))
			return -errno;
	}
	/* The inheritable set left empty empties the ambient set with it. */
	return caps_set_self(target.keep, target.keep);
}

static void on_drop_signal(int sig)
{
	int saved = errno;

	drop_here();    /* checked by reading /proc afterwards */
	atomic_fetch_add(&target.acks, 1);
	errno = saved;
}

static int caps_read(pid_t tid, struct thread_caps *c)
{
	char path[64], line[256];
	int found = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%d/status", (int)tid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
#define X(field, key)                                                  \
		if (strncmp(line, key, strlen(key)) == 0 &&            \
		    sscanf(line + strlen(key), "%" SCNx64, &c->field) == 1) \
			found++;
		CAP_STATUS_FIELDS(X)
#undef X
	}
	fclose(f);
	return found == 5 ? 0 : -EPROTO;
}

static bool caps_done(const struct thread_caps *c)
{
	return c->prm == target.keep && c->eff == target.keep && !c->inh && !c->amb &&
	       (!target.drop_bound || c->bnd == target.keep);
}

/* Signals each other thread not at the target yet; how many in *@sent. */
static int signal_pending_threads(int *sent)
{
	pid_t self = gettid(), pid = getpid(), tid;
	struct thread_caps c;
	struct dirent *e;
	int rc = 0;
	DIR *d;

	*sent = 0;
	d = opendir("/proc/self/task");
	if (!d)
		return -errno;
	while (!rc && (e = readdir(d))) {
		tid = (pid_t)atoi(e->d_name);
		if (tid <= 0 || tid == self)
			continue;
		rc = caps_read(tid, &c);
		if (rc == -ENOENT || (!rc && caps_done(&c))) {
			rc = 0;     /* gone, or done */
			continue;
		}
		if (!rc && syscall(SYS_tgkill, pid, tid, SIGRTMIN) == 0)
			(*sent)++;
		else if (!rc && errno != ESRCH)
			rc = -errno;
	}
	closedir(d);
	return rc;
}

/* A thread that exits before its handler runs never answers: the wait is
 * bounded, and the next round reads /proc again. */
static void wait_acks(int sent)
{
	struct timespec pause = { 0, PRIVS_ACK_POLL_NS };
	int i;

	for (i = 0; i < PRIVS_ACK_POLLS && atomic_load(&target.acks) < sent; i++)
		nanosleep(&pause, NULL);
}

static int drop_other_threads(void)
{
	struct sigaction sa;
	int round, sent, rc;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_drop_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGRTMIN, &sa, NULL))
		return -errno;
	for (round = 0; round < PRIVS_ROUNDS; round++) {
		atomic_store(&target.acks, 0);
		rc = signal_pending_threads(&sent);
		if (rc || !sent)
			return rc;
		wait_acks(sent);
	}
	return -EAGAIN;
}

/*
 * Since Linux 6.5 a bpf() command on a map we hold needs no capability;
 * before, every command needs CAP_BPF while
 * kernel.unprivileged_bpf_disabled is set. Asked of the kernel: one map
 * lookup with the final set in force (CAP_SYS_ADMIN would stand in for
 * CAP_BPF), then the old effective set back. 1: needed, 0: not, or -errno.
 */
static int bpf_still_needed(struct live *live, const struct thread_caps *now,
			    uint64_t keep)
{
	struct live_counters lc;
	int rc, probe;

	rc = caps_set_self(now->prm, keep & ~CAP_BIT(CAP_BPF));
	if (rc)
		return rc;
	probe = live_counters(live, &lc);
	rc = caps_set_self(now->prm, now->eff);
	if (rc)
		return rc;
	if (probe && probe != -EPERM)
		return probe;
	return probe == -EPERM;
}

static void caps_describe(uint64_t keep, char *out, size_t outlen)
{
	size_t n = 0;

	out[0] = '\0';
#define X(cap, why)                                                            \
	if (keep & CAP_BIT(cap) && n < outlen)                                 \
		n += (size_t)snprintf(out + n, outlen - n, "%s" #cap " (%s)",  \
				      n ? ", " : "", why);
	AGENT_CAPS_KEPT(X)
#undef X
	if (!keep)
		snprintf(out, outlen, "none");
}

int agent_drop_privileges(struct live *live, char *err, size_t errlen)
{
	struct thread_caps now;
	char kept[512];
	int rc;

	rc = caps_read(gettid(), &now);
	if (rc)
		goto fail;
	target.keep = now.prm & AGENT_CAPS_MASK;
	target.drop_bound = now.eff & CAP_BIT(CAP_SETPCAP);
	if (target.keep & CAP_BIT(CAP_BPF)) {
		rc = bpf_still_needed(live, &now, target.keep);
		if (rc < 0)
			goto fail;
		if (!rc)
			target.keep &= ~CAP_BIT(CAP_BPF);
	}
	/* Each thread drops its own bounding set with its own CAP_SETPCAP. */
	rc = drop_other_threads();
	if (!rc)
		rc = drop_here();
	if (!rc)
		rc = caps_read(gettid(), &now);
	if (!rc && !caps_done(&now))
		rc = -EPERM;
	if (rc)
		goto fail;
	caps_describe(target.keep, kept, sizeof(kept));
	pr_info("capabilities kept: %s\n", kept);
	return 0;
fail:
	snprintf(err, errlen, "dropping capabilities: %s", strerror(-rc));
	return -1;
}
