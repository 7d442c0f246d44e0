// SPDX-License-Identifier: MIT
/* tlswatch analyze: pcap/pcapng files through the pipeline. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture/pcap_source.h"
#include "check_opts.h"
#include "output_opts.h"
#include "cli.h"
#include "common/log.h"
#include "pipeline/pipeline.h"
#include "sink/sink.h"

#define MAX_PORTS 64
#define ANALYZE_CHECK_WAIT_MS 30000   /* online checks at the end of input */

struct analyze_opts {
	bool json;
	bool quiet;
	uint16_t ports[MAX_PORTS];
	int n_ports;
	struct check_opts check;
	struct output_opts out;
	uint32_t fail_on;
	char **files;
	int n_files;
};

static const char analyze_help[] =
"Usage: tlswatch analyze [OPTIONS] FILE...\n"
"\n"
"Reads pcap or pcapng captures (FILE '-' is standard input) and reports every\n"
"TLS handshake in them: server name, version, cipher, client fingerprint\n"
"(JA4, JA3), the certificate chain served with its fingerprints and findings,\n"
"the stapled OCSP answer, alerts, and the outcome. TLS is recognised by\n"
"content on any TCP port. Link types: Ethernet (802.1Q/802.1ad VLAN), Linux\n"
"cooked (SLL, SLL2), raw IPv4/IPv6, BSD loopback.\n"
"\n"
"Options:\n"
"  --json              write JSON lines (handshake, cert, summary events; see\n"
"                      the README's schema) instead of the text report\n"
"  --html FILE         also write the HTML incident report to FILE (one\n"
"                      self-contained page: timeline, certificates served\n"
"                      per name, findings, alerts, clients; see the README)\n"
"  --port PORT         only TCP port PORT (repeatable, 1-65535);\n"
"                      default: every port\n"
"  --fail-on KINDS     exit 1 if any handshake has one of these findings\n"
"                      (comma-separated: revoked, expired, not_yet_valid,\n"
"                      superseded, unexpected, untrusted, hostname_mismatch,\n"
"                      revoked_staple, stale_staple, expiring_soon,\n"
"                      self_signed, weak_key, spike)\n"
"  -q, --quiet         no warnings or progress on standard error\n"
"  -v, --verbose       more detail on standard error (repeat for debug)\n"
"  -h, --help          this text\n"
"\n"
"%s"
"%s"
"\n"
"Certificates are judged at the packet time of their handshake, not now;\n"
"spikes are judged on packet time too.\n"
"\n"
"Exit status:\n"
"  0  analysed (also for a truncated capture: a warning says so)\n"
"  1  a --fail-on finding was present\n"
"  2  bad command line\n"
"  3  an input could not be read (missing, not a capture, unsupported link\n"
"     type, read error), or the --html FILE cannot be created\n"
"  4  internal error (out of memory)\n";

enum { OPT_JSON = 256, OPT_PORT, OPT_FAIL_ON, OPT_HTML };

static const struct option analyze_options[] = {
	{ "json", no_argument, NULL, OPT_JSON },
	{ "html", required_argument, NULL, OPT_HTML },
	{ "port", required_argument, NULL, OPT_PORT },
	CHECK_LONG_OPTIONS,
	OUTPUT_LONG_OPTIONS,
	{ "fail-on", required_argument, NULL, OPT_FAIL_ON },
	{ "quiet", no_argument, NULL, 'q' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* Returns -1 to exit with EXIT_USAGE, 1 to exit 0 (help), 0 to go on. */
static int parse_args(int argc, char **argv, struct analyze_opts *o)
{
	int c, verbose = 0;

	check_opts_init(&o->check, false, NULL);
	output_opts_init(&o->out, NULL);
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":qvh", analyze_options, NULL)) != -1) {
		int handled = check_opts_parse("analyze", c, optarg, &o->check);

		if (!handled)
			handled = output_opts_parse("analyze", c, optarg, &o->out, false);
		if (handled < 0)
			return -1;
		if (handled)
			continue;
		switch (c) {
		case OPT_JSON:
			o->json = true;
			break;
		case OPT_HTML:
			o->out.html_path = optarg;
			break;
		case OPT_PORT:
			if (!opt_add_port("analyze", optarg, o->ports, &o->n_ports, MAX_PORTS))
				return -1;
			break;
		case OPT_FAIL_ON:
			if (!opt_parse_fail_on("analyze", optarg, &o->fail_on))
				return -1;
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'v':
			verbose++;
			break;
		case 'h':
			printf(analyze_help, check_opts_help, output_opts_help);
			return 1;
		case ':':
			opt_usage_error("analyze", "%s needs a value", argv[optind - 1]);
			return -1;
		default:
			opt_usage_error("analyze", "unknown option '%s'", argv[optind - 1]);
			return -1;
		}
	}
	if (optind >= argc) {
		opt_usage_error("analyze", "no capture file given");
		return -1;
	}
	o->files = argv + optind;
	o->n_files = argc - optind;
	tw_log_set_level(o->quiet ? TW_LOG_SILENT : verbose >= 2 ? TW_LOG_DEBUG :
			 verbose ? TW_LOG_INFO : TW_LOG_WARN);
	return 0;
}

struct progress {
	const char *name;
	bool shown;
};

static void show_progress(void *ctx, uint64_t done, uint64_t total)
{
	struct progress *p = ctx;

	if (total)
		fprintf(stderr, "\rtlswatch: %s: %3.0f%% (%llu of %llu MB)", p->name,
			100.0 * (double)done / (double)total,
			(unsigned long long)(done >> 20), (unsigned long long)(total >> 20));
	else
		fprintf(stderr, "\rtlswatch: %s: %llu MB", p->name,
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
	if (st->truncated_file)
		sum->truncated_file = true;
}

static const char *source_name(const char *path)
{
	return strcmp(path, "-") == 0 ? "stdin" : path;
}

/* Reads one capture through the pipeline. Returns an exit code. */
static int analyze_file(const struct analyze_opts *o, struct pipeline *pl,
			struct pcap_source *src, const char *path)
{
	const struct pcap_source_stats *st;
	struct progress prog = { .name = source_name(path) };
	bool tty = !o->quiet && isatty(STDERR_FILENO);
	int rc;

	pipeline_set_source(pl, source_name(path));
	rc = pcap_source_run(src, o->ports, o->n_ports, pipeline_segment, pl,
			     tty ? show_progress : NULL);
	if (prog.shown)
		fputs("\r\033[K", stderr);
	st = pcap_source_stats(src);
	pipeline_flush(pl, pipeline_summary(pl)->last_ts_us);
	add_capture_stats(pipeline_summary(pl), st);
	if (st->truncated_file)
		pr_warn("%s: the capture is truncated; the report covers the %llu packets read\n",
			source_name(path), (unsigned long long)st->packets);
	if (rc < 0) {
		pr_warn("%s\n", st->error);
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

static int open_sources(const struct analyze_opts *o, struct pcap_source **srcs)
{
	char err[512];
	int i;

	for (i = 0; i < o->n_files; i++) {
		srcs[i] = pcap_source_open(o->files[i], err, sizeof(err));
		if (!srcs[i]) {
			fprintf(stderr, "tlswatch analyze: %s\n", err);
			return EXIT_INPUT;
		}
	}
	return EXIT_OK;
}

int cmd_analyze(int argc, char **argv)
{
	struct analyze_opts o = { 0 };
	struct pipeline_opts po = { 0 };
	struct cert_health *health = NULL;
	struct pcap_source **srcs = NULL;
	struct sink_set *sinks = NULL;
	char err[512];
	struct pipeline *pl = NULL;
	struct summary *sum;
	int rc, i;

	rc = parse_args(argc, argv, &o);
	if (rc)
		return rc < 0 ? EXIT_USAGE : EXIT_OK;
	srcs = calloc((size_t)o.n_files, sizeof(*srcs));
	if (!srcs)
		return EXIT_INTERNAL;
	rc = open_sources(&o, srcs);
	if (rc)
		goto cleanup;
	if (check_opts_open("analyze", &o.check, &health) < 0) {
		rc = EXIT_INPUT;
		goto cleanup;
	}
	if (o.json)
		o.out.json_path = "-";
	else
		o.out.text_report = stdout;
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
	po.emit = sink_set_emit;
	po.emit_ctx = sinks;
	pl = pipeline_new(&po);
	if (!pl) {
		fprintf(stderr, "tlswatch analyze: out of memory\n");
		rc = EXIT_INTERNAL;
		goto cleanup;
	}
	for (i = 0; i < o.n_files; i++) {
		int frc = analyze_file(&o, pl, srcs[i], o.files[i]);

		if (frc > rc)
			rc = frc;
	}
	/* Online answers still on their way get a bounded wait. */
	pipeline_finish(pl, pipeline_summary(pl)->last_ts_us, ANALYZE_CHECK_WAIT_MS);
	sum = pipeline_summary(pl);
	sum->source = o.n_files == 1 ? source_name(o.files[0]) : "multiple files";
	sum->files = (const char *const *)o.files;
	sum->n_files = o.n_files;
	pipeline_emit_summary(pl, sum);
	if (fflush(stdout) != 0 || sink_set_errors(sinks)) {
		fprintf(stderr, "tlswatch analyze: cannot write the output\n");
		rc = EXIT_INTERNAL;
	}
	if (rc == EXIT_OK && o.fail_on && fail_on_matched(o.fail_on, sum))
		rc = EXIT_FINDINGS;
cleanup:
	pipeline_free(pl);
	cert_health_close(health);
	sink_set_close(sinks);
	for (i = 0; i < o.n_files; i++)
		if (srcs[i])
			pcap_source_close(srcs[i]);
	free(srcs);
	return rc;
}
