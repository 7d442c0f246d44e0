// SPDX-License-Identifier: MIT
/*
 * The live agent: setup in dependency order (outputs, kernel side,
 * pipeline, loop), the loop's callbacks, and teardown in reverse. The
 * reload of SIGHUP is in agent_reload.c.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_internal.h"
#include "common/log.h"
#include "common/output_file.h"

static volatile sig_atomic_t stop_requested, reopen_requested;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		reopen_requested = 1;
	else
		stop_requested = 1;
}

void agent_catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* --- what the pipeline emits passes here on its way to the sinks */

/*
 * Was a certificate served that the wire did not show us? TLS 1.3 hides
 * it; a chain too large or cut was not read. A TLS <= 1.2 resumption
 * sends none at all (the session's full handshake carried it): asking
 * the server then would only repeat what that handshake showed.
 */
static bool cert_unseen(const struct hs_record *rec)
{
	if (!rec->has_server_hello || rec->cert_visible)
		return false;
	return rec->version == 0x0304 || !rec->resumed;
}

static void on_event(void *ctx, const struct event *ev)
{
	struct agent *ag = ctx;
	const struct hs_record *rec;

	if (ev->type == EVENT_HANDSHAKE) {
		rec = ev->handshake->rec;
		agent_count_name(ag, rec);
		/* TLS 1.3 hides the certificate: look at it ourselves. */
		if (ag->active && cert_unseen(rec))
			active_request(ag->active, &rec->server,
				       rec->has_sni && strlen(rec->sni) == rec->sni_len ?
				       rec->sni : NULL, loop_wall_us());
	}
	sink_set_emit(ag->sinks, ev);
}

static void on_active_result(void *ctx, struct hs_record *rec, const char *error)
{
	struct agent *ag = ctx;
	char addr[TW_ADDR_STRLEN];

	if (error) {
		pr_info("active check of %s port %u (%s): %s\n",
			tw_addr_format(&rec->server.addr, addr), rec->server.port,
			rec->has_sni ? rec->sni : "no SNI", error);
		return;
	}
	pipeline_report_active(ag->pl, rec);
}

/* Segments of our own active checks are not client traffic. */
static void on_segment(void *ctx, const struct tw_segment *seg)
{
	struct agent *ag = ctx;
	const struct live_meta *meta = live_current_meta(ag->live);

	if (ag->active && (active_is_own(ag->active, &seg->src) ||
			   active_is_own(ag->active, &seg->dst)))
		return;
	pipeline_set_source(ag->pl, meta && meta->iface ? meta->iface : "live");
	pipeline_segment(ag->pl, seg);
}

static void on_check_problem(void *ctx, const char *message)
{
	agent_report(ctx, "error", message);
}

/* --- loop callbacks */

static void consume_ring(struct agent *ag)
{
	int rc = live_poll(ag->live, 0, on_segment, ag);

	if (rc < 0 && rc != -EINTR)
		pr_warn("ring buffer: %s\n", strerror(-rc));
}

static void on_ring_ready(void *ctx, int fd, short revents)
{
	consume_ring(ctx);
}

/* The kernel wakes us only for bursts and for records that end a
 * handshake (live.h): everything else is read here, so no record waits
 * longer than LIVE_MAX_BATCH_MS. */
static void on_ring_timer(void *ctx, uint64_t now_us)
{
	consume_ring(ctx);
}

static void on_active_ready(void *ctx, int fd, short revents)
{
	struct agent *ag = ctx;

	active_drain(ag->active, on_active_result, ag);
}

static void on_checks_ready(void *ctx, int fd, short revents)
{
	struct agent *ag = ctx;

	pipeline_drain_checks(ag->pl);
}

static void on_stats_timer(void *ctx, uint64_t now_us)
{
	agent_report(ctx, "stats", NULL);
}

static void on_sink_timer(void *ctx, uint64_t now_us)
{
	struct agent *ag = ctx;

	sink_set_tick(ag->sinks, now_us);
}

/* SIGHUP: the log reopened, then the options loaded again. A log that
 * cannot be reopened refuses the reload (README): the old file is still
 * written, and an operator who rotated it must hear of it. */
static void agent_hangup(struct agent *ag)
{
	char msg[512];
	int rc = sink_set_reopen(ag->sinks);

	if (rc < 0) {
		snprintf(msg, sizeof(msg), "--json-log %s: cannot reopen: %s; still "
			 "writing to the old file", ag->o.outputs.json_path,
			 tw_output_error(rc));
		agent_reload_refused(ag, msg);
	} else if (ag->o.on_reload) {
		ag->o.on_reload(ag->o.reload_ctx, ag);
	}
}

static void on_turn(void *ctx, uint64_t now_us)
{
	struct agent *ag = ctx;

	if (reopen_requested) {
		reopen_requested = 0;
		agent_hangup(ag);
	}
	/* Records that arrived without a wakeup are not left waiting. */
	consume_ring(ag);
	/* The segments' clock, not @now_us (the wall clock): after a step of
	 * the wall clock, ten years ahead would end every open connection
	 * as idle, and a step back would stop idle timeouts and spike
	 * windows until the wall clock caught up. */
	pipeline_tick(ag->pl, live_now_us(ag->live));
	/* The turn's events go out together, before the loop waits again. */
	sink_set_flush(ag->sinks);
}

/* --- setup and teardown */

static enum agent_status agent_open_outputs(struct agent *ag, char *err,
					    size_t errlen)
{
	ag->o.outputs.read_counters = agent_read_counters;
	ag->o.outputs.counters_ctx = ag;
	if (sink_set_open(&ag->o.outputs, &ag->sinks, err, errlen) < 0)
		return AGENT_ERR_OUTPUT;
	ag->names = agent_names_new();
	if (ag->o.active) {
		struct active_opts ao = { 0 };

		ag->active = active_new(&ao);
	}
	if (!ag->names || (ag->o.active && !ag->active)) {
		snprintf(err, errlen, "out of memory");
		return AGENT_ERR_INTERNAL;
	}
	return AGENT_OK;
}

/* The interfaces to attach to now: those --iface names or matches, or
 * every one that is up. */
static enum agent_status agent_list_ifaces(struct agent *ag, char *err,
					   size_t errlen)
{
	int n;

	if (ag->o.n_ifaces)
		n = live_match_ifaces(ag->o.ifaces, ag->o.n_ifaces, &ag->default_ifaces);
	else
		n = live_default_ifaces(&ag->default_ifaces);
	if (n < 0) {
		snprintf(err, errlen, "cannot list interfaces: %s", strerror(-n));
		return AGENT_ERR_INTERNAL;
	}
	if (!n && !ag->o.n_ifaces) {
		snprintf(err, errlen, "no interface is up (besides loopback); name one with --iface");
		return AGENT_ERR_NO_IFACE;
	}
	return AGENT_OK;
}

/* Whether an --iface is a pattern: then interfaces of either link type
 * may come, and none need match at start. */
static bool agent_has_patterns(const struct agent *ag)
{
	int i;

	for (i = 0; i < ag->o.n_ifaces; i++)
		if (live_iface_is_pattern(ag->o.ifaces[i]))
			return true;
	return false;
}

static enum agent_status agent_attach(struct agent *ag, char *err, size_t errlen)
{
	struct live_opts lo = {
		.ports = ag->o.ports,
		.n_ports = ag->o.n_ports,
		.udp_encap = ag->o.udp_encap,
		.served_only = ag->o.served_only,
		.dir_budget = ag->o.dir_budget,
		.ringbuf_bytes = ag->o.ringbuf_bytes,
		.max_flows = ag->o.max_flows,
		.holds = ag->o.holds,
		.any_link = agent_has_patterns(ag),
		.server_binds = agent_uprobes_wanted(&ag->o, NULL),
	};
	enum agent_status st;
	int rc;

	/* before listing: an interface added in between is then announced */
	rc = agent_links_open(ag);
	if (rc < 0) {
		snprintf(err, errlen, "interface notifications (netlink): %s", strerror(-rc));
		return AGENT_ERR_INTERNAL;
	}
	st = agent_list_ifaces(ag, err, errlen);
	if (st != AGENT_OK)
		return st;
	if (agent_links_leave_busy(ag) < 0) {
		snprintf(err, errlen, "out of memory");
		return AGENT_ERR_INTERNAL;
	}
	lo.ifaces = (const char **)ag->default_ifaces;
	while (ag->default_ifaces[lo.n_ifaces])
		lo.n_ifaces++;
	rc = live_open(&lo, &ag->live, err, errlen);
	if (rc < 0)
		return AGENT_ERR_ATTACH;
	ag->n_attached = live_ifaces(ag->live, &ag->attached);
	return AGENT_OK;
}

/* After attaching: decided flows are handed back to the kernel side. */
static enum agent_status agent_pipeline(struct agent *ag, char *err, size_t errlen)
{
	struct pipeline_opts po = {
		.flow = { .starts_marked = true },
		.leaf = ag->o.leaf,
		.health = ag->o.health,
		.spikes = ag->o.spikes,
		.emit = on_event,
		.emit_ctx = ag,
		.problem = on_check_problem,
		.problem_ctx = ag,
		.flow_done = live_flow_done_cb,
		.flow_done_ctx = ag->live,
		.flow_fin = live_flow_fin_cb,
		.flow_followed = live_flow_followed,
		.max_conn_bytes = (size_t)ag->o.handshake_memory_mib << 20,
	};

	ag->pl = pipeline_new(&po);
	if (!ag->pl) {
		snprintf(err, errlen, "out of memory");
		return AGENT_ERR_INTERNAL;
	}
	return AGENT_OK;
}

static enum agent_status agent_build_loop(struct agent *ag, char *err, size_t errlen)
{
	int rc;

	ag->loop = loop_new();
	if (!ag->loop) {
		snprintf(err, errlen, "out of memory");
		return AGENT_ERR_INTERNAL;
	}
	rc = loop_add_fd(ag->loop, live_epoll_fd(ag->live), POLLIN, on_ring_ready, ag);
	if (!rc)
		rc = loop_add_timer(ag->loop, LIVE_MAX_BATCH_MS, on_ring_timer, ag);
	if (!rc && ag->active)
		rc = loop_add_fd(ag->loop, active_fd(ag->active), POLLIN, on_active_ready, ag);
	if (!rc && pipeline_checks_fd(ag->pl) >= 0)
		rc = loop_add_fd(ag->loop, pipeline_checks_fd(ag->pl), POLLIN,
				 on_checks_ready, ag);
	if (!rc)
		rc = loop_add_fd(ag->loop, ag->links_fd, POLLIN, agent_links_ready, ag);
	if (!rc)
		rc = loop_add_timer(ag->loop, AGENT_BUSY_RETRY_MS, agent_links_retry_busy, ag);
	if (!rc)
		rc = loop_add_timer(ag->loop, ag->o.stats_interval_s * 1000,
				    on_stats_timer, ag);
	if (!rc)
		rc = loop_add_timer(ag->loop, SINK_TICK_MS, on_sink_timer, ag);
	if (rc < 0) {
		snprintf(err, errlen, "poll loop: %s", strerror(-rc));
		return AGENT_ERR_INTERNAL;
	}
	return AGENT_OK;
}

static void agent_teardown(struct agent *ag)
{
	int rc;

	/* Everything captured is reported: the uprobes and the filters go,
	 * then the records still in the ring (batched, never announced) reach
	 * the pipeline. */
	agent_uprobes_close(ag);
	if (ag->live && ag->pl) {
		rc = live_stop(ag->live, on_segment, ag);
		if (rc < 0)
			pr_warn("ring buffer: %s\n", strerror(-rc));
	}
	/* Open connections end as incomplete before the final counters. */
	if (ag->pl) {
		struct summary *sum;

		pipeline_flush(ag->pl, ag->live ? live_now_us(ag->live) : loop_wall_us());
		sum = pipeline_summary(ag->pl);
		sum->source = "agent";
		sum->live = true;
		pipeline_emit_summary(ag->pl, sum);
	}
	if (ag->live) {
		agent_report(ag, "stopped", NULL);
		live_close(ag->live);
		ag->live = NULL;
		pr_info("detached\n");
	}
	agent_links_close(ag);
	active_free(ag->active);
	pipeline_free(ag->pl);
	sink_set_close(ag->sinks);
	strmap_free(ag->names);
	loop_free(ag->loop);
	live_ifaces_free(ag->default_ifaces);
}

enum agent_status agent_run(const struct agent_opts *o, char *err, size_t errlen)
{
	struct agent ag = { .o = *o, .links_fd = -1 };
	enum agent_status st;
	int rc;

	agent_catch_signals();
	st = agent_open_outputs(&ag, err, errlen);
	if (st == AGENT_OK)
		st = agent_attach(&ag, err, errlen);
	if (st == AGENT_OK)
		st = agent_pipeline(&ag, err, errlen);
	if (st == AGENT_OK)
		st = agent_uprobes_open(&ag, err, errlen);
	if (st == AGENT_OK)
		st = agent_build_loop(&ag, err, errlen);
	if (st == AGENT_OK && agent_drop_privileges(ag.live, err, errlen))
		st = AGENT_ERR_INTERNAL;
	if (st == AGENT_OK) {
		agent_report(&ag, "started", NULL);
		if (o->start_problem)
			agent_report(&ag, "error", o->start_problem);
		agent_links_report_busy(&ag);
		pr_info("attached to %d interface%s\n", ag.n_attached,
			ag.n_attached == 1 ? "" : "s");
		rc = loop_run(ag.loop, &stop_requested, SINK_TICK_MS, on_turn, &ag);
		if (rc < 0) {
			snprintf(err, errlen, "poll: %s", strerror(-rc));
			st = AGENT_ERR_INTERNAL;
		}
	}
	agent_teardown(&ag);
	return st;
}
