// SPDX-License-Identifier: MIT
/* tlswatch analyze: pcap/pcapng files through the pipeline. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "analyze_db.h"
#include "capture/pcap_source.h"
#include "cli.h"
#include "cli_opts.h"
#include "common/log.h"
#include "pipeline/pipeline.h"
#include "sink/sink.h"

#define ANALYZE_CHECK_WAIT_MS 30000   /* online checks at the end of input */
/* A held handshake waits at most this many --ocsp-timeout for its answers
 * once it is the oldest: its OCSP query and CRL downloads run side by
 * side, but may first wait for a free connection. */
#define ANALYZE_HOLD_TIMEOUTS 2

static const struct cli_help analyze_help = {
	.usage = "[OPTIONS] FILE...",
	.description =
"Reads pcap or pcapng captures (FILE '-' is standard input) and reports every\n"
"TLS handshake in them: server name, version, cipher, client fingerprint\n"
"(JA4, JA3), the certificate chain served with its fingerprints and findings,\n"
"the stapled OCSP answer, alerts, failure spikes, and the outcome. TLS is\n"
"recognised by content on any TCP port. Link types: Ethernet (802.1Q/802.1ad\n"
"VLAN), Linux cooked (SLL, SLL2), raw IPv4/IPv6, BSD loopback.",
	.notes =
"Certificates are judged at the packet time of their handshake, not now;\n"
"spikes are judged on packet time too. A configuration file is read only\n"
"with --config.\n",
};

struct progress {
	const char *name;
	bool shown;
};

static void show_progress(void *ctx, uint64_t done, uint64_t total)
{
	struct progress *p = ctx;

	if (total)
		fprintf(stderr, "\rtlswatch analyze: %s: %3.0f%% (%llu of %llu MB)", p->name,
			100.0 * (double)done / (double)total,
			(unsigned long long)(done >> 20), (unsigned long long)(total >> 20));
	else
		fprintf(stderr, "\rtlswatch analyze: %s: %llu MB", p->name,
			(unsigned long long)(done >> 20));
	p->shown = true;
}

static void add_capture_stats(struct summary *sum, const struct pcap_source_stats *st)
{
	sum->packets += st->packets;
	sum->bytes += st->bytes;
	sum->tcp_segments += st->decode.tcp_segments;
	sum->problems[SUM_NOT_IP] += st->decode.not_ip;
	sum->problems[SUM_NOT_TCP] += st->decode.not_tcp;
	sum->problems[SUM_IP_FRAGMENTS] += st->decode.ip_fragments;
	sum->problems[SUM_TRUNCATED_HEADERS] += st->decode.truncated_headers;
	sum->problems[SUM_BAD_HEADERS] += st->decode.bad_headers;
	sum->problems[SUM_TRUNCATED_PAYLOAD] += st->decode.truncated_payload;
	sum->problems[SUM_TUNNELS_TOO_DEEP] += st->decode.tunnels_too_deep;
	if (st->truncated_file)
		sum->truncated_file = true;
}

static const char *source_name(const char *path)
{
	return strcmp(path, "-") == 0 ? "stdin" : path;
}

/*
 * Reads one capture through the pipeline. Returns an exit code. A read
 * error stops this file only; it is an error (printed also with -q) and
 * the summary counts the file as not fully read.
 */
static int analyze_file(const struct cli_opts *o, struct pipeline *pl,
			struct pcap_source *src, const char *path,
			struct pcap_clock *clock)
{
	const struct pcap_source_stats *st;
	struct progress prog = { .name = source_name(path) };
	bool tty = !o->quiet && isatty(STDERR_FILENO);
	int rc;

	clock->source = source_name(path);
	pipeline_set_source(pl, clock->source);
	rc = pcap_source_run(src, o->ports, o->n_ports, clock, pipeline_segment,
			     pl, tty ? show_progress : NULL);
	if (prog.shown)
		fputs("\r\033[K", stderr);
	st = pcap_source_stats(src);
	add_capture_stats(pipeline_summary(pl), st);
	if (st->truncated_file)
		pr_warn("%s: the capture is truncated; the report covers the %llu %s read\n",
			source_name(path), (unsigned long long)st->packets,
			st->packets == 1 ? "packet" : "packets");
	if (rc < 0) {
		fprintf(stderr, "tlswatch analyze: %s; the rest of the file was not read\n",
			st->error);
		pipeline_summary(pl)->problems[SUM_UNREAD_INPUTS]++;
		return EXIT_INPUT;
	}
	return EXIT_OK;
}

static bool fail_on_matched(uint32_t mask, const struct summary *sum)
{
	int k;

	if ((mask & FAIL_ON_SPIKE) && sum->spikes)
		return true;
	for (k = 0; k < FINDING__COUNT; k++)
		if ((mask & (1u << k)) && sum->findings[k])
			return true;
	return false;
}

/* Opens capture @i (from the copy --db made of a named pipe), or says on
 * stderr why it cannot be (NULL). */
static struct pcap_source *open_source(const struct cli_opts *o, int i,
				       struct analyze_db *adb)
{
	struct pcap_source *src;
	char err[512];

	src = pcap_source_open_as(analyze_db_source(adb, i, o->files[i]),
				  o->files[i], err, sizeof(err));
	if (!src) {
		fprintf(stderr, "tlswatch analyze: %s\n", err);
		return NULL;
	}
	pcap_source_set_udp_encap(src, &o->udp_encap);
	return src;
}

/*
 * Opens the first capture that can be opened, so that nothing is written
 * when none can. Returns its index (o->n_files when none), the ones before
 * it having been named on stderr. The other captures are opened one at a
 * time, when their turn comes: a rotated set of thousands of files needs
 * one descriptor, not one each.
 */
static int open_first_source(const struct cli_opts *o, struct analyze_db *adb,
			     struct pcap_source **src)
{
	int i;

	for (i = 0; i < o->n_files; i++) {
		*src = open_source(o, i, adb);
		if (*src)
			break;
	}
	return i;
}

/* The events of a record name its file: the clock's held record is
 * handed on from the next file's run. */
static void set_source(void *pl, const char *source)
{
	pipeline_set_source(pl, source);
}

/*
 * Reads the captures from index @first (@src, already open) to the last,
 * in the order given, each closed before the next is opened. One that
 * cannot be opened is counted unread and the others are read all the
 * same. They are one capture with one clock: a record far ahead at the
 * start of a file is judged against the file before (pcap_source.h).
 * Returns the worst exit code.
 */
static int analyze_sources(const struct cli_opts *o, struct pipeline *pl, int first,
			   struct pcap_source *src, struct analyze_db *adb)
{
	struct summary *sum = pipeline_summary(pl);
	struct pcap_clock clock = { .on_source = set_source };
	int i, rc = sum->problems[SUM_UNREAD_INPUTS] ? EXIT_INPUT : EXIT_OK;

	for (i = first; i < o->n_files; i++) {
		int frc;

		if (i > first)
			src = open_source(o, i, adb);
		if (!src) {
			sum->problems[SUM_UNREAD_INPUTS]++;
			rc = EXIT_INPUT;
			continue;
		}
		frc = analyze_file(o, pl, src, o->files[i], &clock);
		analyze_db_added(adb, i, pcap_source_stats(src)->packets);
		pcap_source_close(src);
		if (frc > rc)
			rc = frc;
	}
	pcap_clock_finish(&clock, pipeline_segment, pl);
	sum->problems[SUM_CLOCK_OUTLIERS] += clock.guard.outliers;
	return rc;
}

/*
 * Where the report goes: JSON lines or the text report on standard
 * output, unless the HTML page takes it (--html -), and never into a file
 * the analysis reads. EXIT_OK, or EXIT_USAGE said on stderr.
 */
static int choose_outputs(struct cli_opts *o)
{
	bool html_stdout = o->out.html_path && strcmp(o->out.html_path, "-") == 0;

	if (html_stdout && o->json) {
		fprintf(stderr, "tlswatch analyze: --json and --html - both write to standard output\n");
		return EXIT_USAGE;
	}
	if (o->json)
		o->out.json_path = "-";
	else if (!html_stdout)
		o->out.text_report = stdout;
	return cli_check_html_path(o);
}

/* Says which outputs lost events, and keeps the worst exit code. */
struct lost_report {
	const char *html;               /* the --html FILE, NULL for none or "-" */
	int rc;
};

static void say_lost(void *ctx, const char *sink, uint64_t lost)
{
	struct lost_report *r = ctx;
	int rc = EXIT_INTERNAL;

	if (!sink) {
		fprintf(stderr, "tlswatch analyze: %llu %s could not be reported: out of memory\n",
			(unsigned long long)lost, lost == 1 ? "event" : "events");
	} else if (r->html && strcmp(sink, "html") == 0) {
		fprintf(stderr, "tlswatch analyze: --html %s: cannot write the page\n", r->html);
		rc = EXIT_INPUT;
	} else {
		fprintf(stderr, "tlswatch analyze: %s: %llu %s could not be reported\n", sink,
			(unsigned long long)lost, lost == 1 ? "event" : "events");
	}
	if (rc > r->rc)
		r->rc = rc;
}

/*
 * Whether the report reached its outputs: standard output, then each
 * other output, blamed for its own failures only. EXIT_OK, EXIT_INPUT
 * for standard output or the --html file, or EXIT_INTERNAL for events
 * another output could not take (a webhook alert not queued, out of
 * memory); each said on stderr.
 */
static int outputs_written(const struct cli_opts *o, const struct sink_set *sinks)
{
	const char *html = o->out.html_path;
	struct lost_report r = {
		.html = html && strcmp(html, "-") != 0 ? html : NULL,
		.rc = cli_stdout_written("tlswatch analyze"),
	};

	if (r.rc != EXIT_OK)
		return r.rc;
	sink_set_each_error(sinks, say_lost, &r);
	return r.rc;
}

int cmd_analyze(int argc, char **argv)
{
	struct cli_opts o;
	struct pipeline_opts po = { 0 };
	struct cert_health *health = NULL;
	struct pcap_source *first_src = NULL;
	struct sink_set *sinks = NULL;
	struct analyze_db *adb = NULL;
	struct analyze_db_lease lease = { .fd = -1 };
	bool read_any = false;
	char err[512];
	struct pipeline *pl = NULL;
	struct summary *sum;
	int rc, wrc, first;

	rc = cli_start(CLI_ANALYZE, argc, argv, &o, &analyze_help);
	if (rc >= 0)
		return rc;
	rc = choose_outputs(&o);
	if (rc != EXIT_OK)
		goto cleanup;
	/* Refused at once beside a running agent or another run, before
	 * anything is opened or written (and the agent never stalls).
	 * Standard input is made a file before it is read, for --db. */
	rc = analyze_db_prepare(o.check.health.db_path, o.files, o.n_files,
				&lease, &adb);
	if (rc != EXIT_OK)
		goto cleanup;
	/* Nothing to report when no input can be opened. */
	first = open_first_source(&o, adb, &first_src);
	if (first == o.n_files) {
		rc = EXIT_INPUT;
		goto cleanup;
	}
	/* A capture added to --db before is not counted again. The run
	 * adds all it read or nothing: on a copy merged at the end when the
	 * webhook outbox, in the same file, writes as alerts come. */
	rc = analyze_db_check(&adb, o.out.n_webhooks > 0, &o.check.health);
	if (rc != EXIT_OK)
		goto cleanup;
	if (check_opts_open("analyze", &o.check, &health) < 0) {
		rc = EXIT_INPUT;
		goto cleanup;
	}
	o.out.db_path = o.check.health.db_path;
	o.out.expiring_warn_days = o.check.leaf.warn_days;
	if (sink_set_open(&o.out, &sinks, err, sizeof(err)) < 0) {
		fprintf(stderr, "tlswatch analyze: %s\n", err);
		rc = EXIT_INPUT;
		goto cleanup;
	}
	po.leaf = o.check.leaf;
	po.health = health;
	po.spikes = o.check.no_spikes ? NULL : &o.check.spike;
	/* --online: each handshake is judged once its answers are in. */
	if (o.check.health.online)
		po.hold_online_ms = ANALYZE_HOLD_TIMEOUTS * o.check.health.ocsp_timeout_ms;
	po.emit = sink_set_emit;
	po.emit_ctx = sinks;
	pl = pipeline_new(&po);
	if (!pl) {
		fprintf(stderr, "tlswatch analyze: out of memory\n");
		rc = EXIT_INTERNAL;
		goto cleanup;
	}
	pipeline_summary(pl)->problems[SUM_UNREAD_INPUTS] = (uint64_t)first;
	rc = analyze_sources(&o, pl, first, first_src, adb);
	read_any = true;
	first_src = NULL;   /* closed by analyze_sources */
	/* The files are one capture (tcpdump -C, -G rotation): a connection
	 * goes on from one file into the next, and ends with the last. Online
	 * answers still on their way get a bounded wait. */
	pipeline_flush(pl, pipeline_summary(pl)->last_ts_us);
	pipeline_finish(pl, pipeline_summary(pl)->last_ts_us, ANALYZE_CHECK_WAIT_MS);
	sum = pipeline_summary(pl);
	sum->source = o.n_files == 1 ? source_name(o.files[0]) : "multiple files";
	sum->files = (const char *const *)o.files;
	sum->n_files = o.n_files;
	pipeline_emit_summary(pl, sum);
	/* What the run wrote to --db, and its captures, are added at once */
	wrc = analyze_db_commit(adb);
	if (wrc > rc)
		rc = wrc;
	wrc = outputs_written(&o, sinks);
	if (wrc > rc)
		rc = wrc;
	if (rc == EXIT_OK && o.fail_on && fail_on_matched(o.fail_on, sum))
		rc = EXIT_FINDINGS;
cleanup:
	pipeline_free(pl);
	cert_health_close(health);   /* first: it borrows adb's database */
	analyze_db_close(adb);
	sink_set_close(sinks);
	/* last: after every SQLite connection to the file (its closing
	 * would drop their locks, inventory_lease.h); a new file a run
	 * refused before reading made (bad --ca-file: exit 3) goes */
	analyze_db_lease_end(o.check.health.db_path, &lease,
			     !read_any && rc != EXIT_OK);
	if (first_src)
		pcap_source_close(first_src);
	cli_opts_free(&o);
	return rc;
}
