/* SPDX-License-Identifier: MIT */
/* The agent's state, shared by agent.c and agent_stats.c; not for other
 * modules. */
#ifndef TW_AGENT_INTERNAL_H
#define TW_AGENT_INTERNAL_H

#include "active/active_check.h"
#include "agent.h"
#include "common/strmap.h"
#include "live/live.h"
#include "live/uprobes.h"
#include "loop.h"
#include "pipeline/pipeline.h"

#define AGENT_MAX_NAME_STATS 4096      /* names kept for the per-name stats */
#define AGENT_NAMES_IN_STATS 20        /* busiest names in each stats event */

struct agent {
	struct agent_opts o;
	struct loop *loop;
	struct live *live;
	struct pipeline *pl;
	struct sink_set *sinks;
	struct active_checker *active;
	struct strmap *names;          /* sni -> struct name_count */
	uint64_t reloads_applied, reloads_refused;
	bool last_reload_refused;
	const char *const *attached;
	int n_attached;
	char **default_ifaces;         /* the interfaces found at start */
	int links_fd;                  /* rtnetlink link notifications, or -1 */
	bool links_lost;               /* some were lost: list the links again */
	/* interfaces another agent watches, by ifindex: reported once each
	 * (agent_links.c) */
	int busy[LIVE_MAX_IFACES];
	int n_busy;
	char **busy_at_start;          /* why each glob match left out at
					* start was, NULL-terminated */
	struct uprobes *uprobes;       /* --uprobes, or NULL */
	bool uprobes_used;             /* they were attached (counters) */
};

/* The per-name table of struct agent. */
struct strmap *agent_names_new(void);
/* Per-name accounting of one handshake event. */
void agent_count_name(struct agent *ag, const struct hs_record *rec);
/* An `agent` event of @state ("started", "stats", "stopped", "error"). */
void agent_report(struct agent *ag, const char *state, const char *message);
/* The same with the "ignored" options of a reload. */
void agent_report_ignored(struct agent *ag, const char *state, const char *message,
			  const char *const *ignored, int n_ignored);
/* output_opts.read_counters: the kernel's, the pipeline's, the active
 * checker's counters. @ctx is the agent. */
void agent_read_counters(void *ctx, struct counter_values *cv);
/* Interfaces that come and go (agent_links.c): the rtnetlink socket,
 * opened before the interfaces are listed so that none is missed (0 or
 * -errno), and its poll loop callback. */
int agent_links_open(struct agent *ag);
/* Datagrams agent_links_ready() reads per wakeup: the rest wait for the
 * next turn, so that a storm of link changes does not hold up the ring
 * buffer. */
#define AGENT_LINKS_MAX_READS 64
void agent_links_close(struct agent *ag);
void agent_links_ready(void *ctx, int fd, short revents);
/* After listing at start: holds the glob matches (into o.holds) and takes
 * out of default_ifaces those another live agent watches (an exact
 * --iface was held before, or refused), to report them once started with
 * agent_links_report_busy(), as if they had appeared later. 0 or -ENOMEM. */
int agent_links_leave_busy(struct agent *ag);
void agent_links_report_busy(struct agent *ag);
/* How often the interfaces skipped as another agent's are tried again
 * (besides at each of their link changes): the other agent's stop sends
 * no link notification. */
#define AGENT_BUSY_RETRY_MS 1000
/* A loop timer: tries them again; one now free is attached and announced
 * as interface_added, one that fails otherwise (-ENOSPC...) is reported
 * once as an error and tried no more (until its next link change). */
void agent_links_retry_busy(void *ctx, uint64_t now_us);
/* --uprobes (agent_uprobes.c): attaches after the pipeline exists, so
 * that the server's views reach it. A failure of 'auto' is reported as an
 * "error" event and the agent runs without them; a failure of explicit
 * paths stops the start (AGENT_ERR_ATTACH). */
bool agent_uprobes_wanted(const struct agent_opts *o, bool *auto_find);
enum agent_status agent_uprobes_open(struct agent *ag, char *err, size_t errlen);
void agent_uprobes_close(struct agent *ag);
void agent_uprobe_counters(struct agent *ag, struct counter_values *cv);
/* Every thread keeps only the capabilities the attached agent uses (those
 * @live's maps need, found by trying). 0, or -1 with the reason in @err. */
int agent_drop_privileges(struct live *live, char *err, size_t errlen);

#endif
