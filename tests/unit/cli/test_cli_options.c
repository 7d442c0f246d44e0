// SPDX-License-Identifier: MIT
/* The option table, the configuration file and their precedence, through
 * cli_load_options: the function the agent also calls on SIGHUP. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "cli/cli.h"
#include "cli/cli_opts.h"

static char conf_path[] = "/tmp/test_cli_options.XXXXXX";

static void write_conf(const char *text)
{
	FILE *f = fopen(conf_path, "w");

	if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
		perror(conf_path);
		exit(1);
	}
	if (chmod(conf_path, 0600) < 0) {
		perror(conf_path);
		exit(1);
	}
}

/* cli_load_options on "CMD --config conf_path ARGS..." (NULL-terminated). */
static int load_args(enum cli_cmd cmd, struct cli_opts *o, char *err, size_t errlen,
		     va_list ap)
{
	char *argv[32] = { (char *)cli_cmd_names[cmd], "--config", conf_path };
	int argc = 3;
	char *a;

	while ((a = va_arg(ap, char *)) && argc < 31)
		argv[argc++] = a;
	argv[argc] = NULL;
	err[0] = '\0';
	return cli_load_options(cmd, argc, argv, o, err, errlen);
}

static int load(enum cli_cmd cmd, struct cli_opts *o, char *err, size_t errlen, ...)
{
	va_list ap;
	int rc;

	va_start(ap, errlen);
	rc = load_args(cmd, o, err, errlen, ap);
	va_end(ap);
	return rc;
}

#define LOAD(cmd, o, err, ...) load(cmd, o, err, sizeof(err), ##__VA_ARGS__, NULL)

static void test_table_defaults_are_within_bounds_and_names_unique(void)
{
	int i, j;

	for (i = 0; i < CLI_OPT__COUNT; i++) {
		const struct cli_option *a = &cli_options[i];

		if ((a->type == OT_UINT || a->type == OT_DOUBLE) && a->def[0]) {
			double d = strtod(a->def, NULL);

			CHECK(d >= a->min && d <= a->max);
		}
		CHECK((a->arg != NULL) == (a->type != OT_FLAG));
		/* the help says which keys a file may give several times */
		CHECK(!(a->flags & OF_REPEAT) == !strstr(a->help, "repeat"));
		for (j = i + 1; j < CLI_OPT__COUNT; j++) {
			CHECK(strcmp(a->name, cli_options[j].name) != 0);
			CHECK(!a->short_name || a->short_name != cli_options[j].short_name);
		}
	}
}

static void test_defaults_per_command(void)
{
	struct cli_opts o;
	char err[512];

	write_conf("");
	CHECK_INT(LOAD(CLI_RUN, &o, err), 0);
	CHECK_INT(o.n_ports, 1);
	CHECK_INT(o.ports[0], 443);
	CHECK_INT(o.stats_interval_s, 60);
	CHECK_INT(o.dir_budget, 65536);
	CHECK(o.check.health.online);
	CHECK_STR(o.check.health.db_path, "/var/lib/tlswatch/inventory.db");
	CHECK_STR(o.out.metrics_addr, "127.0.0.1:9733");
	CHECK(o.out.metrics_optional);
	CHECK_STR(o.log_path, "-");
	CHECK(o.active);
	CHECK_INT(o.check.leaf.warn_days, 14);
	CHECK_INT(o.check.spike.window_s, 10);
	CHECK(o.check.spike.factor == 3.0);
	CHECK_INT(o.out.webhook_timeout_ms, 10000);
	CHECK_INT(o.out.webhook_cooldown_s, 3600);
	CHECK_INT(o.check.health.ocsp_timeout_ms, 5000);
	cli_opts_free(&o);

	CHECK_INT(LOAD(CLI_ANALYZE, &o, err, "a.pcap"), 0);
	CHECK_INT(o.n_ports, 0);
	CHECK(!o.check.health.online);
	CHECK(o.check.health.db_path == NULL);
	CHECK(o.out.metrics_addr == NULL);
	CHECK_INT(o.n_files, 1);
	CHECK_STR(o.files[0], "a.pcap");
	cli_opts_free(&o);
}

static void test_command_line_overrides_the_file(void)
{
	struct cli_opts o;
	char err[512];

	write_conf("# comment\n"
		   "  port = 8443\n"
		   "port=9443\n"
		   "\n"
		   "spike-window = 20\n"
		   "webhook = http://127.0.0.1/hook\n"
		   "webhook-timeout = 5\n"
		   "no-online\n"
		   "iface = eth0\n"
		   "fail-on = expired\n");   /* analyze's: skipped by run */
	CHECK_INT(LOAD(CLI_RUN, &o, err), 0);
	CHECK_STR(err, "");
	CHECK_INT(o.n_ports, 2);
	CHECK_INT(o.ports[0], 8443);
	CHECK_INT(o.ports[1], 9443);
	CHECK_INT(o.check.spike.window_s, 20);
	CHECK_INT(o.out.webhook_timeout_ms, 5000);
	CHECK(!o.check.health.online);
	CHECK_INT(o.n_ifaces, 1);
	CHECK_INT(o.fail_on, 0);
	cli_opts_free(&o);

	/* a list on the command line replaces the file's list */
	CHECK_INT(LOAD(CLI_RUN, &o, err, "--port", "1", "--port", "2",
		       "--spike-window", "30", "--online"), 0);
	CHECK_INT(o.n_ports, 2);
	CHECK_INT(o.ports[0], 1);
	CHECK_INT(o.ports[1], 2);
	CHECK_INT(o.check.spike.window_s, 30);
	CHECK(o.check.health.online);
	CHECK_INT(o.n_ifaces, 1);          /* not given: the file's */
	CHECK_STR(o.ifaces[0], "eth0");
	/* what --show-config prints: online replaced no-online */
	CHECK_INT(o.n_settings, 7);
	cli_opts_free(&o);
}

/* quiet and verbose undo each other: the command line's wins over the
 * file's, and --show-config prints only the one in force. */
static void test_quiet_and_verbose_undo_each_other(void)
{
	struct cli_opts o;
	char err[512];

	write_conf("quiet\n");
	CHECK_INT(LOAD(CLI_ANALYZE, &o, err, "-v", "a.pcap"), 0);
	CHECK(!o.quiet);
	CHECK_INT(o.verbose, 1);
	CHECK_INT(o.n_settings, 1);
	CHECK_INT(o.settings[0].opt, CLI_OPT_VERBOSE);
	cli_opts_free(&o);
	write_conf("verbose\nverbose\n");
	CHECK_INT(LOAD(CLI_RUN, &o, err, "-q"), 0);
	CHECK(o.quiet);
	CHECK_INT(o.verbose, 0);
	CHECK_INT(o.n_settings, 1);
	CHECK_INT(o.settings[0].opt, CLI_OPT_QUIET);
	cli_opts_free(&o);
	CHECK_INT(LOAD(CLI_RUN, &o, err, "-v", "-q"), 0);   /* the last one */
	CHECK(o.quiet);
	CHECK_INT(o.verbose, 0);
	cli_opts_free(&o);
	write_conf("quiet\n");
	CHECK_INT(LOAD(CLI_RUN, &o, err), 0);                /* the file alone */
	CHECK(o.quiet);
	cli_opts_free(&o);
}

static void check_conf_error(const char *text, int want_rc, const char *want)
{
	struct cli_opts o;
	char err[512], full[600];

	write_conf(text);
	CHECK_INT(LOAD(CLI_RUN, &o, err), want_rc);
	snprintf(full, sizeof(full), "%s:%s", conf_path, want);
	CHECK_STR(err, full);
	cli_opts_free(&o);
}

static void test_file_errors_name_file_and_line(void)
{
	check_conf_error("port = 443\n\nbogus = 1\n", -EXIT_USAGE,
			 "3: unknown option 'bogus'");
	/* whole names only: an abbreviation the command line would take, or
	 * a slip, is named with the key meant */
	check_conf_error("ocsp-time = 500\n", -EXIT_USAGE,
			 "1: unknown option 'ocsp-time' (a file takes whole "
			 "names: did you mean 'ocsp-timeout'?)");
	check_conf_error("\nwebhook-secret = k\n", -EXIT_USAGE,
			 "2: unknown option 'webhook-secret' (a file takes whole "
			 "names: did you mean 'webhook-secret-file'?)");
	/* a slip is no abbreviation: only the key meant */
	check_conf_error("spike-windw = 20\n", -EXIT_USAGE,
			 "1: unknown option 'spike-windw' (did you mean "
			 "'spike-window'?)");
	check_conf_error("webhok = http://127.0.0.1/\n", -EXIT_USAGE,
			 "1: unknown option 'webhok' (did you mean 'webhook'?)");
	/* the beginning of several keys: every one, not the first */
	check_conf_error("ca = /etc/ssl/ca.pem\n", -EXIT_USAGE,
			 "1: unknown option 'ca' (a file takes whole names: did "
			 "you mean 'ca-file' or 'ca-dir'?)");
	check_conf_error("webhook-c = 1\n", -EXIT_USAGE,
			 "1: unknown option 'webhook-c' (a file takes whole names: "
			 "did you mean 'webhook-cooldown' or 'webhook-ca-file'?)");
	check_conf_error("zzzzzzzz = 1\n", -EXIT_USAGE,
			 "1: unknown option 'zzzzzzzz'");
	check_conf_error("spike-window = 0\n", -EXIT_USAGE,
			 "1: spike-window: '0' is not a whole number from 1 to 300");
	check_conf_error("# x\nspike-factor = 0.5\n", -EXIT_USAGE,
			 "2: spike-factor: '0.5' is not a number from 1 to 1000");
	check_conf_error("no-online = yes\n", -EXIT_USAGE,
			 "1: no-online: takes no value (a line 'no-online' alone sets it)");
	check_conf_error("iface =\n", -EXIT_USAGE,
			 "1: iface: needs a value (iface = IF)");
	check_conf_error("iface\n", -EXIT_USAGE,
			 "1: iface: needs a value (iface = IF)");
	check_conf_error("spike-window 20\n", -EXIT_USAGE,
			 "1: expected '=' after 'spike-window'");
	check_conf_error("--port = 1\n", -EXIT_USAGE,
			 "1: expected 'name = value' or 'name' (a name is lowercase letters, digits and '-')");
	/* a file that is no configuration is not shown (not even its first line) */
	check_conf_error("root:$y$j9T$secret:19000:0:99999:7:::\n", -EXIT_USAGE,
			 "1: expected 'name = value' or 'name' (a name is lowercase letters, digits and '-')");
	check_conf_error("config = /x\n", -EXIT_USAGE,
			 "1: 'config' is a command-line option only");
	check_conf_error("webhook = ftp://x\n", -EXIT_USAGE,
			 "1: webhook: 'ftp://x' is not an http:// or https:// URL");
	check_conf_error("webhook-format = xml\n", -EXIT_USAGE,
			 "1: webhook-format: 'xml' is not json or slack");
}

/* A key that takes one value, given twice in a file, took the last line
 * unsaid: it is an error naming the file, the line and the first line. */
static void test_file_gives_a_single_value_key_once(void)
{
	struct cli_opts o;
	char err[512];

	check_conf_error("ring-buffer = 64\n# x\nring-buffer = 128\n", -EXIT_USAGE,
			 "3: ring-buffer: given again (first on line 1); only a "
			 "repeatable option takes one line per value");
	check_conf_error("json-log = /a\njson-log = /a\n", -EXIT_USAGE,
			 "2: json-log: given again (first on line 1); only a "
			 "repeatable option takes one line per value");
	check_conf_error("no-online\nport = 1\nno-online\n", -EXIT_USAGE,
			 "3: no-online: given again (first on line 1); only a "
			 "repeatable option takes one line per value");
	/* another command's key too: the file is one for every command */
	check_conf_error("json\njson\n", -EXIT_USAGE,
			 "2: json: given again (first on line 1); only a "
			 "repeatable option takes one line per value");
	/* repeatable keys (the table's OF_REPEAT) are lists */
	write_conf("port = 1\nport = 2\niface = a\niface = b\nverbose\nverbose\n"
		   "webhook = http://a/\nwebhook = http://b/\ncrl = /x\ncrl = /y\n"
		   "udp-encap = 1:vxlan\nudp-encap = 2:gue\nuprobes = /l\nuprobes = /m\n"
		   "alertmanager = http://c/\nalertmanager = http://d/\n");
	CHECK_INT(LOAD(CLI_RUN, &o, err), 0);
	CHECK_STR(err, "");
	CHECK_INT(o.n_ports, 2);
	CHECK_INT(o.n_ifaces, 2);
	CHECK_INT(o.verbose, 2);
	CHECK_INT(o.out.n_webhooks, 2);
	CHECK_INT(o.out.n_alertmanagers, 2);
	CHECK_INT(o.n_uprobes, 2);
	cli_opts_free(&o);
	/* the command line still overrides the file's one value */
	write_conf("ring-buffer = 64\n");
	CHECK_INT(LOAD(CLI_RUN, &o, err, "--ring-buffer", "128", "--ring-buffer", "256"), 0);
	CHECK_INT(o.ring_buffer_kib, 256);
	cli_opts_free(&o);
}

/* An option that means nothing without another (option_table.h's
 * CLI_OPTION_NEEDS), given without it, was silently ignored: a
 * --webhook-secret-file without --webhook signs nothing. */
static void check_needs(enum cli_cmd cmd, const char *conf, const char *want, ...)
{
	char err[512], full[600];
	struct cli_opts o;
	va_list ap;
	int rc;

	write_conf(conf);
	va_start(ap, want);
	rc = load_args(cmd, &o, err, sizeof(err), ap);
	va_end(ap);
	/* a message from the file names it and the line */
	snprintf(full, sizeof(full), want, conf_path);
	CHECK_INT(rc, want[0] ? -EXIT_USAGE : 0);
	CHECK_STR(want[0] ? err : "", full);
	cli_opts_free(&o);
}

static void test_options_without_the_one_they_need_are_refused(void)
{
	static const char *const hook_only[] = {
		"--webhook-events", "cert", "--webhook-secret-file", "/k",
		"--webhook-format", "slack", "--webhook-cooldown", "60",
		"--webhook-retry-max", "60",
	};
	char want[128];
	size_t i;

	for (i = 0; i < sizeof(hook_only) / sizeof(hook_only[0]); i += 2) {
		snprintf(want, sizeof(want), "%s needs --webhook", hook_only[i]);
		check_needs(CLI_RUN, "", want, hook_only[i], hook_only[i + 1], NULL);
		check_needs(CLI_ANALYZE, "", want, hook_only[i], hook_only[i + 1],
			    "a.pcap", NULL);
		/* an Alertmanager is not a webhook */
		check_needs(CLI_RUN, "", want, hook_only[i], hook_only[i + 1],
			    "--alertmanager", "http://am/", NULL);
		check_needs(CLI_RUN, "", "", hook_only[i], hook_only[i + 1],
			    "--webhook", "http://h/", NULL);
	}
	/* the Alertmanager requests' timeout too */
	check_needs(CLI_RUN, "", "--webhook-timeout needs --webhook or --alertmanager",
		    "--webhook-timeout", "5", NULL);
	check_needs(CLI_RUN, "", "", "--webhook-timeout", "5", "--alertmanager",
		    "http://am/", NULL);
	check_needs(CLI_RUN, "", "", "--webhook-timeout", "5", "--webhook",
		    "http://h/", NULL);
	check_needs(CLI_RUN, "", "--instance needs --alertmanager",
		    "--instance", "edge1", "--webhook", "http://h/", NULL);
	check_needs(CLI_RUN, "", "", "--instance", "edge1", "--alertmanager",
		    "http://am/", NULL);
	check_needs(CLI_INVENTORY, "", "--since needs --html",
		    "--since", "2026-12-06T14:00:00Z", NULL);
	check_needs(CLI_INVENTORY, "", "--until needs --html",
		    "--until", "2026-12-06T14:00:00Z", "--json", NULL);
	check_needs(CLI_INVENTORY, "", "", "--until", "2026-12-06T14:00:00Z",
		    "--html", "/tmp/x.html", NULL);
	/* from the file: its name and the line; either may give the other */
	check_needs(CLI_RUN, "port = 443\nwebhook-secret-file = /k\n",
		    "%s:2: webhook-secret-file needs --webhook (in the file or on "
		    "the command line)", NULL);
	check_needs(CLI_RUN, "webhook-secret-file = /k\n", "", "--webhook",
		    "http://h/", NULL);
	check_needs(CLI_RUN, "webhook = http://h/\n", "", "--webhook-format",
		    "slack", NULL);
	/* the command line's value replaces the file's: it is the one said */
	check_needs(CLI_RUN, "webhook-format = slack\n",
		    "--webhook-format needs --webhook", "--webhook-format", "json", NULL);
	/* another command's keys are skipped: inventory reads run's file */
	check_needs(CLI_INVENTORY, "webhook-secret-file = /k\ninstance = e\n", "", NULL);
	/* the defaults are no value given */
	check_needs(CLI_RUN, "", "", NULL);
}

/* A NUL byte ends no file early: the lines after it (an invalid value
 * here) were skipped unread. */
static void test_file_with_a_nul_byte_is_refused(void)
{
	static const char text[] = "warn-days = 30\n\0junk\nspike-window = 0\n";
	struct cli_opts o;
	char err[512], want[600];
	FILE *f = fopen(conf_path, "w");

	CHECK(f != NULL);
	if (!f)
		return;
	CHECK_INT(fwrite(text, 1, sizeof(text) - 1, f), sizeof(text) - 1);
	CHECK_INT(fclose(f), 0);
	CHECK_INT(chmod(conf_path, 0600), 0);
	CHECK_INT(LOAD(CLI_RUN, &o, err), -EXIT_USAGE);
	snprintf(want, sizeof(want), "%s: a NUL byte: not a text file", conf_path);
	CHECK_STR(err, want);
	cli_opts_free(&o);
}

static void test_command_line_errors(void)
{
	struct cli_opts o;
	char err[512];

	write_conf("");
	CHECK_INT(LOAD(CLI_RUN, &o, err, "--spike-window", "301"), -EXIT_USAGE);
	CHECK_STR(err, "--spike-window: '301' is not a whole number from 1 to 300");
	cli_opts_free(&o);
	/* a 4 or 8 KiB ring could never hold a 4 KiB record: every packet
	 * with more than 1536 bytes of payload was lost */
	CHECK_INT(LOAD(CLI_RUN, &o, err, "--ring-buffer", "8"), -EXIT_USAGE);
	CHECK_STR(err, "--ring-buffer: '8' is not a whole number from 16 to 1048576");
	cli_opts_free(&o);
	/* a port said twice is one port */
	CHECK_INT(LOAD(CLI_RUN, &o, err, "--port", "443", "--port", "8443", "--port", "443"), 0);
	CHECK_INT(o.n_ports, 2);
	cli_opts_free(&o);
	CHECK_INT(LOAD(CLI_ANALYZE, &o, err, "--metrics", "x", "a.pcap"), -EXIT_USAGE);
	CHECK_STR(err, "--metrics is not an option of 'tlswatch analyze'");
	cli_opts_free(&o);
	CHECK_INT(LOAD(CLI_ANALYZE, &o, err, "--fail-on", "expired,bogus", "a.pcap"),
		  -EXIT_USAGE);
	CHECK_STR(err, "--fail-on: unknown finding kind 'bogus'");
	cli_opts_free(&o);
	/* the selectors named from the list they are parsed with */
	CHECK_INT(LOAD(CLI_ANALYZE, &o, err, "--webhook-events", "cert,bogus", "a.pcap"),
		  -EXIT_USAGE);
	CHECK_STR(err, "--webhook-events: 'cert,bogus' is not a list of critical, warning, "
		  "cert, spike, agent-error, agent, handshake, summary");
	cli_opts_free(&o);
	CHECK_INT(LOAD(CLI_ANALYZE, &o, err, "--json"), -EXIT_USAGE);
	CHECK_STR(err, "no capture file given");
	cli_opts_free(&o);
	CHECK_INT(LOAD(CLI_INVENTORY, &o, err, "extra"), -EXIT_USAGE);
	CHECK_STR(err, "unexpected argument 'extra'");
	cli_opts_free(&o);
	/* --help wins before the file is read (it is broken here) */
	write_conf("bogus\n");
	CHECK_INT(LOAD(CLI_RUN, &o, err, "--help"), 1);
	CHECK(o.help);
	cli_opts_free(&o);
}

/* --alertmanager-resend reaches the Alertmanager sink's options: 60 s by
 * default, 1 to 3600, and only with an --alertmanager. */
static void test_alertmanager_resend_is_set_bounded_and_needs_alertmanager(void)
{
	struct cli_opts o;
	char err[512];

	write_conf("");
	CHECK_INT(LOAD(CLI_RUN, &o, err, "--alertmanager", "http://am/"), 0);
	CHECK_INT(o.out.alertmanager_resend_s, 60);
	cli_opts_free(&o);
	CHECK_INT(LOAD(CLI_ANALYZE, &o, err, "--alertmanager", "http://am/",
		       "--alertmanager-resend", "1", "a.pcap"), 0);
	CHECK_INT(o.out.alertmanager_resend_s, 1);
	cli_opts_free(&o);
	write_conf("alertmanager = http://am/\nalertmanager-resend = 3600\n");
	CHECK_INT(LOAD(CLI_RUN, &o, err), 0);
	CHECK_INT(o.out.alertmanager_resend_s, 3600);
	cli_opts_free(&o);
	write_conf("");
	CHECK_INT(LOAD(CLI_RUN, &o, err, "--alertmanager", "http://am/",
		       "--alertmanager-resend", "0"), -EXIT_USAGE);
	CHECK_STR(err, "--alertmanager-resend: '0' is not a whole number from 1 to 3600");
	cli_opts_free(&o);
	CHECK_INT(LOAD(CLI_RUN, &o, err, "--alertmanager", "http://am/",
		       "--alertmanager-resend", "3601"), -EXIT_USAGE);
	CHECK_STR(err, "--alertmanager-resend: '3601' is not a whole number from 1 to 3600");
	cli_opts_free(&o);
	CHECK_INT(LOAD(CLI_RUN, &o, err, "--alertmanager-resend", "5", "--webhook",
		       "http://h/"), -EXIT_USAGE);
	CHECK_STR(err, "--alertmanager-resend needs --alertmanager");
	cli_opts_free(&o);
}

static void test_missing_file_and_permissions(void)
{
	char *argv[] = { "run", "--config", "/nonexistent/tlswatch.conf", NULL };
	struct cli_opts o;
	char err[512];

	CHECK_INT(cli_load_options(CLI_RUN, 3, argv, &o, err, sizeof(err)), -EXIT_INPUT);
	CHECK_STR(err, "/nonexistent/tlswatch.conf: No such file or directory");
	cli_opts_free(&o);
	argv[2] = "/tmp";   /* not a regular file: cannot be read (3) */
	CHECK_INT(cli_load_options(CLI_RUN, 3, argv, &o, err, sizeof(err)), -EXIT_INPUT);
	CHECK_STR(err, "/tmp: not a regular file");
	cli_opts_free(&o);
	if (geteuid() != 0)
		return;   /* the check applies to root only */
	write_conf("port = 1\n");
	CHECK_INT(chmod(conf_path, 0620), 0);
	CHECK_INT(LOAD(CLI_RUN, &o, err), -EXIT_USAGE);
	CHECK(strstr(err, "refused: running as root, the file must be owned by root and not writable by group or others") != NULL);
	cli_opts_free(&o);
	CHECK_INT(chmod(conf_path, 0644), 0);
	CHECK_INT(LOAD(CLI_RUN, &o, err), 0);
	cli_opts_free(&o);
}

/* A malformed --expect is a bad option value, on the command line and in
 * the file: usage (2), before anything is opened. */
static void test_malformed_expect_is_a_usage_error(void)
{
	char *argv[] = { "analyze", "--expect", "foo", "x.pcap", NULL };
	char *argv_conf[] = { "run", "--config", conf_path, NULL };
	struct cli_opts o;
	char err[512], want[600];

	CHECK_INT(cli_load_options(CLI_ANALYZE, 4, argv, &o, err, sizeof(err)), -EXIT_USAGE);
	CHECK_STR(err, "--expect: 'foo' is not NAME=SHA256 (a name, '=', 64 hex digits)");
	cli_opts_free(&o);
	write_conf("port = 443\nexpect = a.test=abcd\n");
	CHECK_INT(cli_load_options(CLI_RUN, 3, argv_conf, &o, err, sizeof(err)), -EXIT_USAGE);
	snprintf(want, sizeof(want), "%s:2: expect: 'a.test=abcd' is not NAME=SHA256 (a name, '=', 64 hex digits)",
		 conf_path);
	CHECK_STR(err, want);
	cli_opts_free(&o);
}

/* The reload path: the same argv loaded twice gives the same options, and
 * a changed file is seen. */
#define FP(d) d d d d d d d d d d d d d d d d d d d d d d d d d d d d d d d d
static void test_load_again_sees_the_new_file(void)
{
	char *argv[] = { "run", "--config", conf_path, "--port", "7", NULL };
	struct cli_opts a, b;
	char err[512];

	write_conf("expect = a.test=" FP("00") "\n");
	CHECK_INT(cli_load_options(CLI_RUN, 5, argv, &a, err, sizeof(err)), 0);
	write_conf("expect = b.test=" FP("11") "\nexpect = c.test=" FP("22") "\n");
	CHECK_INT(cli_load_options(CLI_RUN, 5, argv, &b, err, sizeof(err)), 0);
	CHECK_INT(a.check.health.n_expects, 1);
	CHECK_STR(a.check.health.expects[0], "a.test=" FP("00"));
	CHECK_INT(b.check.health.n_expects, 2);
	CHECK_STR(b.check.health.expects[1], "c.test=" FP("22"));
	CHECK_INT(a.ports[0], 7);
	CHECK_INT(b.ports[0], 7);
	cli_opts_free(&a);
	cli_opts_free(&b);
}

/* --metrics: the shape of the address is an option error (2) when the
 * options are loaded; only binding it is left to the server (3). */
static void check_metrics(const char *addr, int want_rc, const char *want_err)
{
	struct cli_opts o;
	char err[512];

	CHECK_INT(LOAD(CLI_RUN, &o, err, "--metrics", addr), want_rc);
	CHECK_STR(err, want_err);
	if (!want_rc)
		CHECK_STR(o.out.metrics_addr, addr);
	cli_opts_free(&o);
}

static void test_metrics_address_is_checked_with_the_options(void)
{
	write_conf("");
	check_metrics("garbage", -EXIT_USAGE,
		      "--metrics: garbage: expected IPv4:PORT or [IPv6]:PORT");
	check_metrics("127.0.0.1:10x", -EXIT_USAGE,
		      "--metrics: 127.0.0.1:10x: the port is not a number from 0 to 65535");
	check_metrics("localhost:9733", -EXIT_USAGE,
		      "--metrics: localhost:9733: \"localhost\" is not a numeric IPv4 address");
	check_metrics("::1:9733", -EXIT_USAGE,
		      "--metrics: ::1:9733: expected IPv4:PORT or [IPv6]:PORT");
	check_metrics("127.0.0.1:0", 0, "");
	check_metrics("[::1]:9733", 0, "");
	check_metrics("0.0.0.0:65535", 0, "");
	write_conf("metrics = 10.0.0.1:\n");
	{
		struct cli_opts o;
		char err[512], want[600];

		CHECK_INT(LOAD(CLI_RUN, &o, err), -EXIT_USAGE);
		snprintf(want, sizeof(want), "%s:1: metrics: 10.0.0.1:: the port is "
			 "not a number from 0 to 65535", conf_path);
		CHECK_STR(err, want);
		cli_opts_free(&o);
	}
}

/* cli_load_options on "CMD --opt VALUE..." with @n values made by @fmt
 * from 1..n (the file empty). */
static int load_list(enum cli_cmd cmd, const char *opt, const char *fmt, int n,
		     struct cli_opts *o, char *err, size_t errlen)
{
	static char values[1100][80];
	char *argv[2 * 1100 + 4] = { (char *)cli_cmd_names[cmd], "--config", conf_path };
	int argc = 3, i;

	for (i = 0; i < n && i < 1100; i++) {
		snprintf(values[i], sizeof(values[i]), fmt, i + 1);
		argv[argc++] = (char *)opt;
		argv[argc++] = values[i];
	}
	if (cmd == CLI_ANALYZE)
		argv[argc++] = "a.pcap";
	argv[argc] = NULL;
	err[0] = '\0';
	return cli_load_options(cmd, argc, argv, o, err, errlen);
}

#define FP64 "0000000000000000000000000000000000000000000000000000000000000000"

/* Each list takes its bound, and one more is refused saying of what. */
static void check_list_bound(enum cli_cmd cmd, const char *opt, const char *fmt,
			     int max, const char *want)
{
	struct cli_opts o;
	char err[512];

	CHECK_INT(load_list(cmd, opt, fmt, max, &o, err, sizeof(err)), 0);
	cli_opts_free(&o);
	CHECK_INT(load_list(cmd, opt, fmt, max + 1, &o, err, sizeof(err)), -EXIT_USAGE);
	CHECK_STR(err, want);
	cli_opts_free(&o);
}

static void test_list_bounds_say_what_they_count(void)
{
	write_conf("");
	check_list_bound(CLI_RUN, "--port", "%d", 64, "--port: at most 64 ports");
	check_list_bound(CLI_RUN, "--iface", "eth%d", 64, "--iface: at most 64 interfaces");
	check_list_bound(CLI_RUN, "--uprobes", "/lib/libssl%d.so.3", 16,
			 "--uprobes: at most 16 library paths");
	check_list_bound(CLI_ANALYZE, "--crl", "/c%d.crl", 64, "--crl: at most 64 CRL files");
	check_list_bound(CLI_ANALYZE, "--expect", "n%d.test=" FP64, 1024,
			 "--expect: at most 1024 expected leaves");
	check_list_bound(CLI_ANALYZE, "--webhook", "http://h/%d", 16,
			 "--webhook: at most 16 URLs");
	check_list_bound(CLI_RUN, "--alertmanager", "http://h/%d", 16,
			 "--alertmanager: at most 16 URLs");
	check_list_bound(CLI_RUN, "--udp-encap", "%d:fou", 16,
			 "--udp-encap: at most 16 UDP encapsulation ports besides the defaults 4789 and 6081");
}

static void test_uprobes_mode_error_names_the_option_once(void)
{
	struct cli_opts o;
	char err[512];

	write_conf("");
	CHECK_INT(LOAD(CLI_RUN, &o, err, "--uprobes", "AUTO"), -EXIT_USAGE);
	CHECK_STR(err, "--uprobes: 'AUTO' is not 'auto', 'off', or an absolute library path");
	cli_opts_free(&o);
}

/* The @index-th value of option @id's "a|b|c" ARG, into @out. */
static const char *choice_at(enum cli_opt id, int index, char *out, size_t len)
{
	const char *p = cli_options[id].arg;
	size_t n;

	for (; index > 0 && p; index--) {
		p = strchr(p, '|');
		p = p ? p + 1 : NULL;
	}
	n = p ? strcspn(p, "|") : 0;
	snprintf(out, len, "%.*s", (int)n, p ? p : "");
	return out;
}

/* Each value of an option with a fixed set maps to its enum's value, and
 * each enum value back to its name (the option's ARG and the enum are
 * generated from one list); an upper-case word in the ARG is no value. */
static void test_choices_are_their_enum_values(void)
{
	char err[256], name[32];

#define X(id, nm)                                                              \
	CHECK_INT(cli_option_choice(CLI_OPT_DIRECTION, nm, err, sizeof(err)),  \
		  CLI_DIRECTION_##id);                                         \
	CHECK_STR(choice_at(CLI_OPT_DIRECTION, CLI_DIRECTION_##id, name,       \
			    sizeof(name)), nm);
	CLI_DIRECTIONS(X)
#undef X
#define X(id, nm, what)                                                        \
	CHECK_INT(cli_option_choice(CLI_OPT_UPROBES, nm, err, sizeof(err)),    \
		  CLI_UPROBES_##id);                                           \
	CHECK_STR(choice_at(CLI_OPT_UPROBES, CLI_UPROBES_##id, name,           \
			    sizeof(name)), nm);
	CLI_UPROBES_MODES(X)
#undef X
#define X(id, nm)                                                              \
	CHECK_INT(cli_option_choice(CLI_OPT_WEBHOOK_FORMAT, nm, err,           \
				    sizeof(err)), WEBHOOK_FORMAT_##id);        \
	CHECK_STR(choice_at(CLI_OPT_WEBHOOK_FORMAT, WEBHOOK_FORMAT_##id, name, \
			    sizeof(name)), nm);
	WEBHOOK_FORMATS(X)
#undef X
	/* exactly the values: the exact ARGs the help shows */
	CHECK_STR(cli_options[CLI_OPT_DIRECTION].arg, "all|served");
	CHECK_STR(cli_options[CLI_OPT_UPROBES].arg, "auto|off|PATH");
	CHECK_STR(cli_options[CLI_OPT_WEBHOOK_FORMAT].arg, "json|slack");
	CHECK_INT(cli_option_choice(CLI_OPT_UPROBES, "PATH", err, sizeof(err)), -EXIT_USAGE);
	CHECK_STR(err, "'PATH' is not auto, off or PATH");
	CHECK_INT(cli_option_choice(CLI_OPT_WEBHOOK_FORMAT, "jsonx", err, sizeof(err)),
		  -EXIT_USAGE);
	CHECK_STR(err, "'jsonx' is not json or slack");
	CHECK_INT(cli_option_choice(CLI_OPT_DIRECTION, "served", NULL, 0), CLI_DIRECTION_SERVED);
	/* the defaults are the lists' names (CLI_CHOICE_NAME) */
	CHECK_STR(cli_options[CLI_OPT_DIRECTION].def, "all");
	CHECK_STR(cli_options[CLI_OPT_UPROBES].def, "off");
	CHECK_STR(cli_options[CLI_OPT_WEBHOOK_FORMAT].def, "json");
}

/* --uprobes' mode as the agent is given it: a mode, or -1 for paths; the
 * last mode given wins, and a mode after paths drops them. */
static void test_uprobes_mode_of_the_options(void)
{
	static const struct {
		const char *a, *b;
		int mode, n;
	} cases[] = {
		{ NULL, NULL, CLI_UPROBES_OFF, 0 },
		{ "auto", NULL, CLI_UPROBES_AUTO, 1 },
		{ "auto", "off", CLI_UPROBES_OFF, 1 },
		{ "/l/libssl.so.3", NULL, -1, 1 },
		{ "/l/libssl.so.3", "/l/libcrypto.so.3", -1, 2 },
		{ "/l/libssl.so.3", "auto", CLI_UPROBES_AUTO, 1 },
		{ "off", "/l/libssl.so.3", -1, 1 },
	};
	struct cli_opts o;
	char err[512];
	size_t i;
	int rc;

	write_conf("");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (!cases[i].a)
			rc = LOAD(CLI_RUN, &o, err);
		else if (!cases[i].b)
			rc = LOAD(CLI_RUN, &o, err, "--uprobes", cases[i].a);
		else
			rc = LOAD(CLI_RUN, &o, err, "--uprobes", cases[i].a,
				  "--uprobes", cases[i].b);
		CHECK_INT(rc, 0);
		CHECK_INT(cli_uprobes_mode(&o), cases[i].mode);
		CHECK_INT(o.n_uprobes, cases[i].n);
		cli_opts_free(&o);
	}
}

/* Bad values on analyze's command line, each with its message. */
struct refusal {
	const char *opt, *value, *want;
};

static void check_refusals(const struct refusal *r, size_t n)
{
	struct cli_opts o;
	char err[512];
	size_t i;

	write_conf("");
	for (i = 0; i < n; i++) {
		CHECK_INT(LOAD(CLI_ANALYZE, &o, err, r[i].opt, r[i].value, "a.pcap"),
			  -EXIT_USAGE);
		CHECK_STR(err, r[i].want);
		cli_opts_free(&o);
	}
}

#define NOT_PORT(v) { "--port", v, "--port: '" v "' is not a whole number from 1 to 65535" }
#define NOT_FACTOR(v) \
	{ "--spike-factor", v, "--spike-factor: '" v "' is not a number from 1 to 1000" }
#define NOT_ENCAP(v) { "--udp-encap", v, "--udp-encap: '" v "': the port is not 1..65535" }

/* Whole numbers are digits only, factors plain decimals: what strtoul and
 * strtod would also take (blanks, signs, hex, exponents) is refused. */
static void test_numbers_are_plain_digits(void)
{
	static const struct refusal bad[] = {
		NOT_PORT(" 5"), NOT_PORT("+5"), NOT_PORT("5 "), NOT_PORT("0x10"),
		NOT_PORT("99999999999999999999999"),
		NOT_FACTOR("0x10"), NOT_FACTOR("1e2"), NOT_FACTOR("+3"),
		NOT_FACTOR(" 3"), NOT_FACTOR("3."), NOT_FACTOR("inf"),
		NOT_ENCAP("+5:fou"), NOT_ENCAP(" 5:fou"),
	};
	struct cli_opts o;
	char err[512];

	check_refusals(bad, sizeof(bad) / sizeof(bad[0]));
	CHECK_INT(LOAD(CLI_ANALYZE, &o, err, "--port", "0443", "--spike-factor", "2.5",
		       "--warn-days", "0", "a.pcap"), 0);
	CHECK_INT(o.ports[0], 443);
	CHECK(o.check.spike.factor == 2.5);
	CHECK_INT(o.check.leaf.warn_days, -1);
	cli_opts_free(&o);
}

/* A factor's decimals are as many as written: 20 and more digits after
 * the point (more than a uint64_t holds) are still a plain decimal. */
static void test_factors_take_any_number_of_decimals(void)
{
	struct cli_opts o;
	char err[512];

	CHECK_INT(LOAD(CLI_ANALYZE, &o, err, "--spike-factor",
		       "2.49999999999999999999", "a.pcap"), 0);   /* 20 decimals */
	CHECK(o.check.spike.factor == 2.5);
	cli_opts_free(&o);
	CHECK_INT(LOAD(CLI_ANALYZE, &o, err, "--spike-factor",
		       "1.100000000000000000000000", "a.pcap"), 0); /* 24 decimals */
	CHECK(o.check.spike.factor == 1.1);
	cli_opts_free(&o);
}

#define EMPTY_FAIL_ON(v) \
	{ "--fail-on", v, "--fail-on: an empty item (a comma too many, or none given)" }
#define NOT_EVENTS(v) { "--webhook-events", v, "--webhook-events: '" v "' is not a " \
	"list of critical, warning, cert, spike, agent-error, agent, handshake, summary" }

/* An empty item of a comma-separated list is refused, in --fail-on as in
 * --webhook-events. */
static void test_list_items_are_never_empty(void)
{
	static const struct refusal bad[] = {
		EMPTY_FAIL_ON("expired,,"), EMPTY_FAIL_ON("expired,"),
		EMPTY_FAIL_ON(",expired"), EMPTY_FAIL_ON(""),
		NOT_EVENTS("critical,"), NOT_EVENTS("critical,,spike"), NOT_EVENTS(",spike"),
	};
	struct cli_opts o;
	char err[512];

	check_refusals(bad, sizeof(bad) / sizeof(bad[0]));
	CHECK_INT(LOAD(CLI_ANALYZE, &o, err, "--fail-on", "expired,spike",
		       "--webhook-events", "critical,spike", "--webhook", "http://h/",
		       "a.pcap"), 0);
	CHECK_INT(o.fail_on, (1u << FINDING_EXPIRED) | FAIL_ON_SPIKE);
	cli_opts_free(&o);
}

/* A URL libcurl cannot read was retried for ever: refused with the
 * options, naming the option and what libcurl says. */
static void test_urls_libcurl_cannot_read_are_refused(void)
{
	static const struct refusal bad[] = {
		{ "--webhook", "http://exa mple/x",
		  "--webhook: 'http://exa mple/x' is not a valid URL (Bad hostname)" },
		{ "--alertmanager", "http://h:99999/",
		  "--alertmanager: 'http://h:99999/' is not a valid URL (Port number "
		  "was not a decimal number between 0 and 65535)" },
	};
	struct cli_opts o;
	char err[512];

	check_refusals(bad, sizeof(bad) / sizeof(bad[0]));
	CHECK_INT(LOAD(CLI_ANALYZE, &o, err, "--alertmanager", "http://h:9093/am/?a=1",
		       "--webhook", "https://[::1]:8443/hook?sig=x", "a.pcap"), 0);
	cli_opts_free(&o);
}

int main(void)
{
	int fd = mkstemp(conf_path);

	if (fd < 0) {
		perror("mkstemp");
		return 1;
	}
	close(fd);
	RUN_TEST(test_table_defaults_are_within_bounds_and_names_unique);
	RUN_TEST(test_defaults_per_command);
	RUN_TEST(test_command_line_overrides_the_file);
	RUN_TEST(test_file_errors_name_file_and_line);
	RUN_TEST(test_file_gives_a_single_value_key_once);
	RUN_TEST(test_options_without_the_one_they_need_are_refused);
	RUN_TEST(test_file_with_a_nul_byte_is_refused);
	RUN_TEST(test_command_line_errors);
	RUN_TEST(test_missing_file_and_permissions);
	RUN_TEST(test_load_again_sees_the_new_file);
	RUN_TEST(test_malformed_expect_is_a_usage_error);
	RUN_TEST(test_metrics_address_is_checked_with_the_options);
	RUN_TEST(test_quiet_and_verbose_undo_each_other);
	RUN_TEST(test_list_bounds_say_what_they_count);
	RUN_TEST(test_alertmanager_resend_is_set_bounded_and_needs_alertmanager);
	RUN_TEST(test_uprobes_mode_error_names_the_option_once);
	RUN_TEST(test_choices_are_their_enum_values);
	RUN_TEST(test_uprobes_mode_of_the_options);
	RUN_TEST(test_numbers_are_plain_digits);
	RUN_TEST(test_factors_take_any_number_of_decimals);
	RUN_TEST(test_list_items_are_never_empty);
	RUN_TEST(test_urls_libcurl_cannot_read_are_refused);
	unlink(conf_path);
	return CHECK_EXIT_CODE();
}
