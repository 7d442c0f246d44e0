/* SPDX-License-Identifier: MIT */
/*
 * The live agent: the eBPF source, the pipeline, active checks of TLS 1.3
 * names and the output side, driven by one poll loop until SIGINT or
 * SIGTERM. SIGHUP reopens output files, then asks the caller for its
 * configuration again (agent_opts.on_reload) and applies what can change
 * without a restart (agent_reload). Detaches exactly what it attached.
 * Its own state is reported as `agent` events (started, stats, stopped,
 * error) through the same sinks as everything else.
 */
#ifndef TW_AGENT_H
#define TW_AGENT_H

#include <stdbool.h>
#include <stdint.h>

#include "cert/findings.h"
#include "cert/health.h"
#include "detect/spike.h"
#include "sink/sink.h"

struct live_holds;
struct tw_udp_encap;

struct agent;

struct agent_opts {
	const char **ifaces;           /* NULL/0: every interface that is up,
					* except loopback */
	int n_ifaces;
	/* the interfaces held for it before it created anything
	 * (live_holds_take() of @ifaces); glob matches found at start are
	 * held into it too, and those not attached at start let go then
	 * (live_open()). NULL: none held (another agent's interfaces are
	 * then only probed). Not owned; must outlive agent_run() */
	struct live_holds *holds;
	const uint16_t *ports;         /* at least one */
	int n_ports;
	const struct tw_udp_encap *udp_encap; /* NULL: tw_udp_encap_default */
	bool served_only;              /* --direction served */
	uint32_t dir_budget;           /* bytes per flow direction */
	uint32_t handshake_memory_mib; /* pipeline max_conn_bytes; 0: default */
	uint32_t ringbuf_bytes;        /* a power of two >= 4 KiB; 0: default */
	uint32_t max_flows;            /* kernel flow map entries; 0: default */
	bool active;                   /* check TLS 1.3 names ourselves */
	/* --uprobes: auto (the libraries found), or library paths, or
	 * neither: no uprobes */
	bool uprobes_auto;
	const char *const *uprobes;
	int n_uprobes;
	unsigned stats_interval_s;
	struct cert_health *health;    /* not owned; may be NULL */
	struct leaf_check_opts leaf;
	const struct spike_opts *spikes; /* NULL: no spike detection */
	struct output_opts outputs;    /* read_counters is set by the agent */
	/* reported as an "error" event once started (a --db that could not
	 * be opened for writing, so the inventory lives in memory); or NULL */
	const char *start_problem;
	/* SIGHUP, after reopening the log: the caller reads its options again
	 * and answers with agent_reload() or agent_reload_refused(), on the
	 * agent's thread. NULL: SIGHUP only reopens the log. */
	void (*on_reload)(void *ctx, struct agent *ag);
	void *reload_ctx;
};

/* What a reload may change; the caller keeps it valid only for the call
 * (the agent copies what it keeps; strings of @outputs must live as long
 * as the agent, as at start). */
struct agent_reload {
	const struct cert_health_opts *health;  /* trust store, CRL files,
						 * expectations, staple age */
	const struct output_opts *outputs;      /* webhook, Alertmanager,
						 * instance */
	const struct tw_udp_encap *udp_encap;   /* UDP ports that carry
						 * tunnels (NULL: the default) */
	const uint16_t *ports;                  /* watched server ports */
	int n_ports;
	bool served_only;                       /* --direction served */
	const char *const *ignored;             /* options that differ but
						 * need a restart ("iface") */
	int n_ignored;
};

/*
 * Builds the new check state and the new webhook/Alertmanager sinks
 * completely, then puts them in force together, and reports
 * "config_reloaded"; if anything cannot be built, nothing changes and it
 * reports "config_refused" with the reason. 0 or -1.
 */
int agent_reload(struct agent *ag, const struct agent_reload *r);
/* A new configuration that could not even be read: "config_refused". */
void agent_reload_refused(struct agent *ag, const char *reason);

enum agent_status {
	AGENT_OK = 0,
	AGENT_ERR_NO_IFACE,            /* nothing to watch */
	AGENT_ERR_OUTPUT,              /* an output could not be opened */
	AGENT_ERR_ATTACH,              /* loading or attaching eBPF failed */
	AGENT_ERR_INTERNAL,            /* out of memory, poll failure */
};

/* What the agent's files may allow: the owner reads and writes, the group
 * reads, others nothing (0640 for files created with 0666). */
#define AGENT_UMASK 0027

/*
 * Safe defaults for the whole process, before anything is opened or any
 * thread started: umask AGENT_UMASK and no_new_privs. 0, or -1 with the
 * reason in @err.
 */
int agent_safe_defaults(char *err, size_t errlen);

/*
 * The live agent; runs until a stop signal. On error, @err says what and
 * why. After attaching it keeps only the capabilities its
 * teardown and map accesses need (agent_privs.c says which and why).
 */
/*
 * SIGINT/SIGTERM ask the agent to stop, SIGHUP to reload, from now on: a
 * signal that comes while the options, trust store and inventory are
 * still loading is acted on once the agent runs (a SIGHUP's default
 * action, before, ended the process: under systemd's ExecReload, for
 * good). Call it first; agent_run() calls it too.
 */
void agent_catch_signals(void);

enum agent_status agent_run(const struct agent_opts *o, char *err,
			    size_t errlen);

#endif
