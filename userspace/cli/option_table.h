/* SPDX-License-Identifier: MIT */
/*
 * Every option of every subcommand, defined once. The getopt tables, the
 * --help text, the man pages' OPTIONS sections, the configuration-file keys
 * and the default configuration file are generated from this table;
 * tests/e2e/cli_docs.sh checks that README.md lists the same names.
 *
 *   X(ID, "long-name", short, "ARG", commands, group, type, flags,
 *     min, max, "default", "help")
 *
 * ARG is NULL for an option without a value; an option that takes one of
 * a fixed set of values has them as ARG, joined by '|' ("all|served"): the
 * help shows them, the bash completion offers them, and the option is
 * parsed with cli_option_choice (its values' index). That ARG is generated
 * by CLI_CHOICES from the list its enum is generated from (CLI_DIRECTIONS,
 * WEBHOOK_FORMATS...), so an index is its enum's value by construction.
 * An upper-case word last in such an ARG ("auto|off|PATH") is what else
 * the option takes: never a value, the completion offers files for it.
 * An option whose set is too big for its ARG (--fail-on KINDS) has its
 * values printed by 'tlswatch --doc values' (doc.c) for the completion.
 * min/max bound OT_UINT and OT_DOUBLE values (and are shown in the
 * help); "default" is the value applied before the configuration file
 * and the command line, and shown in the help ("" when the default is
 * not a value of the option: the help text says what it is). A list's
 * bound is said with TW_STRINGIFY(its macro).
 */
#ifndef TW_CLI_OPTION_TABLE_H
#define TW_CLI_OPTION_TABLE_H

#include "common/stringify.h"
#include "common/tunnel.h" /* TW_UDP_KINDS_SAID */
#include "sink/sink.h"   /* WEBHOOK_FORMATS, WEBHOOK_SELECTORS */

/* The values of an option that takes one of a fixed set, in the order of
 * its enum: X(ID, "name"), or X(ID, "name", "what it does") where the help
 * says it (option_table.h's ARG, default, help and the enum are all
 * generated from the list, so they cannot drift). */
#define CLI_DIRECTIONS(X)                                                      \
	X(ALL, "all")                                                          \
	X(SERVED, "served")
#define CLI_UPROBES_MODES(X)                                                   \
	X(AUTO, "auto", "the libraries of the processes listening on the "     \
	  "watched ports, and the system's OpenSSL 3")                         \
	X(OFF, "off", "no uprobes")

enum cli_direction {
#define X(id, name) CLI_DIRECTION_##id,
	CLI_DIRECTIONS(X)
#undef X
};
enum cli_uprobes_mode {
#define X(id, name, what) CLI_UPROBES_##id,
	CLI_UPROBES_MODES(X)
#undef X
};

/* A list's names joined by '|', as an option's ARG: "all|served". The
 * first bar is skipped (the address of a literal's second character: a
 * constant, as a static initializer needs). */
#define CLI_CHOICE_BAR_(id, name, ...) "|" name
#define CLI_CHOICES(list) (&("" list(CLI_CHOICE_BAR_))[1])
/* The same, then @more, what else the option takes: "auto|off|PATH" */
#define CLI_CHOICES_OR(list, more) (&("" list(CLI_CHOICE_BAR_) "|" more)[1])
/* The name of value @index of @list ("all" for CLI_DIRECTION_ALL), as a
 * default: a row of a static array of the names, a constant address as a
 * static initializer needs (a name has at most CLI_CHOICE_LEN - 1 bytes,
 * options.c asserts it of each list it is used with). */
#define CLI_CHOICE_LEN 16
#define CLI_CHOICE_NAME_(id, name, ...) name,
#define CLI_CHOICE_NAME(list, index)                                           \
	(((const char[][CLI_CHOICE_LEN]){ list(CLI_CHOICE_NAME_) })[index])
/* "'auto' (what it does), 'off' (...), ": a list's values as the help
 * says them, and as a refusal does ("'auto', 'off', ") */
#define CLI_CHOICE_SAID_(id, name, what) "'" name "' (" what "), "
#define CLI_CHOICE_QUOTED_(id, name, ...) "'" name "', "
/* "; critical: cert events with a critical finding; warning: ...":
 * --webhook-events' selectors, as its help says them */
#define CLI_SELECTOR_SAID_(id, name, help) "; " name ": " help

/* Subcommands an option belongs to. */
#define CMD_A (1u << CLI_ANALYZE)
#define CMD_R (1u << CLI_RUN)
#define CMD_I (1u << CLI_INVENTORY)
#define CMD_AR (CMD_A | CMD_R)
#define CMD_ALL (CMD_A | CMD_R | CMD_I)

/* The --help and man-page sections, in order: X(ID, title) */
#define CLI_OPTION_GROUPS(X)                                                   \
	X(GENERAL, "Options")                                                  \
	X(CHECKS, "Certificate checks")                                        \
	X(SPIKES, "Failure spikes")                                            \
	X(DELIVERY, "Alert delivery")

#define CLI_OPTIONS(X)                                                         \
	X(JSON, "json", 0, NULL, CMD_A | CMD_I, GENERAL, OT_FLAG, 0, 0, 0, "",  \
	  "write JSON lines instead of the text report (analyze: handshake, "  \
	  "cert, spike and summary events; inventory: one object per row)")    \
	X(HTML, "html", 0, "FILE", CMD_A | CMD_I, GENERAL, OT_STR, OF_NOCONF, 0, \
	  0, "",                                                               \
	  "write the HTML incident report to FILE, one self-contained page "   \
	  "(analyze: besides the text report or JSON lines; inventory: "       \
	  "instead of the listing), '-' for standard output (analyze: "        \
	  "instead of the text report); never a file the command reads, nor "  \
	  "an existing file that is not an HTML page")                         \
	X(SINCE, "since", 0, "TIME", CMD_I, GENERAL, OT_STR, OF_NOCONF, 0, 0,  \
	  "", "the HTML page draws the agent's history from TIME on (UTC, "    \
	  "2026-12-06T14:00:00Z); per-minute rows and serving periods that "   \
	  "overlap it count whole")                                            \
	X(UNTIL, "until", 0, "TIME", CMD_I, GENERAL, OT_STR, OF_NOCONF, 0, 0,  \
	  "", "the HTML page draws the agent's history up to TIME (UTC), the " \
	  "same way")                                                          \
	X(PORT, "port", 0, "PORT", CMD_AR, GENERAL, OT_UINT, OF_REPEAT, 1,      \
	  65535, "",                                                           \
	  "watched TCP server port (repeatable, at most "                      \
	  TW_STRINGIFY(CLI_MAX_PORTS) " ports); default: every port for analyze, "   \
	  "443 for run")                                                       \
	X(UDP_ENCAP, "udp-encap", 0, "PORT:KIND", CMD_AR, GENERAL, OT_STR,     \
	  OF_REPEAT, 0, 0, "",                                                 \
	  "UDP destination port PORT carries tunnels of KIND: "                \
	  TW_UDP_KINDS_SAID "or " TW_UDP_ENCAP_NONE " to stop decapsulating "  \
	  "it (repeatable, at most "                                           \
	  TW_STRINGIFY(TW_UDP_ENCAP_USER_MAX) " ports besides the defaults; none "    \
	  "takes no room); default: "                                          \
	  "4789:vxlan and 6081:geneve, FOU and GUE have no standard port")     \
	X(IFACE, "iface", 0, "IF", CMD_R, GENERAL, OT_STR, OF_REPEAT, 0, 0, "", \
	  "watch interface IF (repeatable, at most " TW_STRINGIFY(CLI_MAX_IFACES)    \
	  "), or every interface whose name "                                  \
	  "matches the glob IF ('veth*'), also those that appear later; "      \
	  "default: every interface that is up at start, except loopback")     \
	X(DIRECTION, "direction", 0, CLI_CHOICES(CLI_DIRECTIONS), CMD_R, GENERAL, OT_STR, 0, 0, \
	  0,                                                                   \
	  CLI_CHOICE_NAME(CLI_DIRECTIONS, CLI_DIRECTION_ALL),                  \
	  "which connections on the watched ports to follow: 'all', or "      \
	  "'served' (only those this host serves: a handshake whose client "  \
	  "is this host and whose server is not, a connection it opened "     \
	  "itself, is not followed and is counted in flows_outgoing; one "    \
	  "between two local sockets, over lo, is served; one of a "          \
	  "container, forwarded through the host, is still followed)")        \
	X(JSON_LOG, "json-log", 0, "FILE", CMD_R, GENERAL, OT_STR, 0, 0, 0, "-", \
	  "append events to FILE ('-': standard output); SIGHUP reopens it")   \
	X(NO_ACTIVE_CHECK, "no-active-check", 0, NULL, CMD_R, GENERAL, OT_FLAG, \
	  0, 0, 0, "",                                                         \
	  "never connect to servers (TLS 1.3 certificates then stay unseen)")  \
	X(UPROBES, "uprobes", 0, CLI_CHOICES_OR(CLI_UPROBES_MODES, "PATH"), CMD_R, GENERAL, OT_STR, OF_REPEAT, 0, \
	  0, CLI_CHOICE_NAME(CLI_UPROBES_MODES, CLI_UPROBES_OFF),              \
	  "learn each connection's served chain and the alerts the server "    \
	  "read from the server's own TLS library (OpenSSL 3), TLS 1.3 "       \
	  "included: " CLI_UPROBES_MODES(CLI_CHOICE_SAID_) "or the path of "   \
	  "a libssl.so.3 or libcrypto.so.3 (repeatable, at most "              \
	  TW_STRINGIFY(CLI_MAX_UPROBES) " paths)")                                   \
	X(STATS_INTERVAL, "stats-interval", 0, "SECS", CMD_R, GENERAL, OT_UINT, \
	  0, 1, 86400, "60", "an agent stats event every SECS seconds")        \
	X(DIR_BUDGET, "dir-budget", 0, "BYTES", CMD_R, GENERAL, OT_UINT, 0,     \
	  4096, 1048576, "65536",                                              \
	  "bytes copied per connection direction during the handshake")        \
	X(HANDSHAKE_MEMORY, "handshake-memory", 0, "MIB", CMD_R, GENERAL,      \
	  OT_UINT, 0, 1, 4096, "64",                                            \
	  "memory for handshakes still undecided (parser state, buffers); "    \
	  "past it the least recently active is reported incomplete and "      \
	  "freed")                                                             \
	X(RING_BUFFER, "ring-buffer", 0, "KIB", CMD_R, GENERAL, OT_UINT, 0,    \
	  16, 1048576, "8192",                                                 \
	  "size of the ring buffer the kernel side writes handshake bytes "   \
	  "into, KiB (a power of two; 16 holds the largest record); records " \
	  "that do not fit are lost and "                                      \
	  "counted (ringbuf_lost), the agent carries on")                     \
	X(FLOW_MAP, "flow-map", 0, "ENTRIES", CMD_R, GENERAL, OT_UINT, 0,      \
	  64, 4194304, "65536",                                                \
	  "connections the kernel side keeps track of (an LRU map); past it "  \
	  "the least recently active is forgotten, and a handshake it was "    \
	  "following is reported incomplete and counted (flows_lost)")        \
	X(DB, "db", 0, "PATH", CMD_ALL, GENERAL, OT_STR, 0, 0, 0, "",           \
	  "inventory database (SQLite) of served leaves, used for "            \
	  "'superseded' across restarts, by the webhook outbox and (run) for " \
	  "the event history that report draws; default "                      \
	  "/var/lib/tlswatch/inventory.db for run and inventory, in memory "   \
	  "for analyze; analyze has the file to itself for its run (refused "  \
	  "while an agent writes it, and an agent refused meanwhile) and "     \
	  "exits 3 when SQLite cannot open it")                                \
	X(FAIL_ON, "fail-on", 0, "KINDS", CMD_A, GENERAL, OT_STR, OF_REPEAT, 0, \
	  0, "",                                                               \
	  "exit 1 if any handshake has one of these findings (comma-"          \
	  "separated finding kinds: revoked, expired, not_yet_valid, "         \
	  "superseded, unexpected, untrusted, hostname_mismatch, "             \
	  "revoked_staple, stale_staple, expiring_soon, self_signed, "         \
	  "weak_key), or 'spike' if a failure spike fired (repeatable: the "   \
	  "kinds add up)")                                                     \
	X(CONFIG, "config", 0, "FILE", CMD_ALL, GENERAL, OT_STR, OF_NOCONF, 0,  \
	  0, "",                                                               \
	  "read options from FILE first (see CONFIGURATION FILE); run and "    \
	  "inventory read /etc/tlswatch/tlswatch.conf when it exists")         \
	X(SHOW_CONFIG, "show-config", 0, NULL, CMD_ALL, GENERAL, OT_FLAG,       \
	  OF_NOCONF, 0, 0, "",                                                 \
	  "print the options in force (configuration file, then command "      \
	  "line) in configuration-file syntax and exit")                       \
	X(QUIET, "quiet", 'q', NULL, CMD_AR, GENERAL, OT_FLAG, 0, 0, 0, "",     \
	  "only errors on standard error")                                     \
	X(VERBOSE, "verbose", 'v', NULL, CMD_AR, GENERAL, OT_FLAG, OF_REPEAT,   \
	  0, 0, "", "more detail on standard error (repeat for debug)")        \
	X(HELP, "help", 'h', NULL, CMD_ALL, GENERAL, OT_FLAG, OF_NOCONF, 0, 0,  \
	  "", "print this help and exit")                                                     \
	X(CA_FILE, "ca-file", 0, "FILE", CMD_AR, CHECKS, OT_STR, 0, 0, 0, "",   \
	  "trust store: PEM file of CA certificates (default: the system "     \
	  "store)")                                                            \
	X(CA_DIR, "ca-dir", 0, "DIR", CMD_AR, CHECKS, OT_STR, 0, 0, 0, "",      \
	  "trust store: every PEM file in DIR")                                \
	X(CRL, "crl", 0, "FILE", CMD_AR, CHECKS, OT_STR, OF_REPEAT, 0, 0, "",   \
	  "a CRL, PEM or DER (repeatable, at most " TW_STRINGIFY(CHECK_MAX_CRL)      \
	  " files); applies to every certificate of a "                        \
	  "chain whose issuer signed it")                                      \
	X(ONLINE, "online", 0, NULL, CMD_AR, CHECKS, OT_FLAG, 0, 0, 0, "",      \
	  "query OCSP responders and fetch CRL distribution points over "      \
	  "HTTP (default: on for run, off for analyze)")                       \
	X(NO_ONLINE, "no-online", 0, NULL, CMD_AR, CHECKS, OT_FLAG, 0, 0, 0,    \
	  "", "no OCSP or CRL requests")                                       \
	X(OCSP_TIMEOUT, "ocsp-timeout", 0, "MS", CMD_AR, CHECKS, OT_UINT, 0,    \
	  100, 60000, "5000", "per OCSP or CRL request")                       \
	X(STAPLE_MAX_AGE, "staple-max-age", 0, "SECS", CMD_AR, CHECKS, OT_UINT, \
	  0, 1, 315360000, "",                                                 \
	  "stale_staple also when a staple is older than SECS; by default "    \
	  "only past its nextUpdate")                                          \
	X(EXPECT, "expect", 0, "NAME=SHA256", CMD_AR, CHECKS, OT_STR,           \
	  OF_REPEAT, 0, 0, "",                                                 \
	  "the leaf deployed for NAME (repeatable, at most "                   \
	  TW_STRINGIFY(CHECK_MAX_EXPECT) "); another leaf served for "               \
	  "NAME is 'unexpected'")                                              \
	X(EXPECT_DIR, "expect-dir", 0, "DIR", CMD_AR, CHECKS, OT_STR, 0, 0, 0,  \
	  "", "the PEM certificates deployed; names from their SANs")          \
	X(WARN_DAYS, "warn-days", 0, "DAYS", CMD_AR, CHECKS, OT_UINT, 0, 0,     \
	  3650, "14", "expiring_soon window, leaf and chain; 0: off")          \
	X(SPIKE_WINDOW, "spike-window", 0, "SECS", CMD_AR, SPIKES, OT_UINT, 0,  \
	  1, 300, "10", "judging window")                                      \
	X(SPIKE_FACTOR, "spike-factor", 0, "X", CMD_AR, SPIKES, OT_DOUBLE, 0,   \
	  1, 1000, "3",                                                        \
	  "fire when the window's failure rate is X (a decimal: 2.5) times "   \
	  "the learned rate and well outside its noise")                       \
	X(SPIKE_MIN_FAILURES, "spike-min-failures", 0, "N", CMD_AR, SPIKES,     \
	  OT_UINT, 0, 1, 1000000, "20", "and at least N failures in the window") \
	X(NO_SPIKES, "no-spikes", 0, NULL, CMD_AR, SPIKES, OT_FLAG, 0, 0, 0, "", \
	  "no spike detection")                                                \
	X(WEBHOOK, "webhook", 0, "URL", CMD_AR, DELIVERY, OT_STR, OF_REPEAT, 0, \
	  0, "",                                                               \
	  "POST selected events to URL (http or https, at most "               \
	  TW_STRINGIFY(OUTPUT_URL_LEN) " bytes; repeatable, at most "                \
	  TW_STRINGIFY(OUTPUT_MAX_URLS) " URLs); a durable outbox in the --db file " \
	  "keeps them until the receiver answers 2xx")                         \
	X(WEBHOOK_EVENTS, "webhook-events", 0, "LIST", CMD_AR, DELIVERY, OT_STR, \
	  0, 0, 0, "critical,spike,agent-error",                               \
	  "which events (comma-separated)"                                     \
	  WEBHOOK_SELECTORS(CLI_SELECTOR_SAID_))                               \
	X(WEBHOOK_SECRET_FILE, "webhook-secret-file", 0, "FILE", CMD_AR,        \
	  DELIVERY, OT_STR, 0, 0, 0, "",                                       \
	  "sign each request with the key in FILE (mode 0600 or stricter): "   \
	  "header Tlswatch-Signature")                                         \
	X(WEBHOOK_FORMAT, "webhook-format", 0, CLI_CHOICES(WEBHOOK_FORMATS), CMD_AR, DELIVERY, \
	  OT_STR, 0, 0, 0, CLI_CHOICE_NAME(WEBHOOK_FORMATS, WEBHOOK_FORMAT_JSON), \
	  "json (the event) or slack (one readable message for chat "          \
	  "incoming-webhooks)")                                                \
	X(WEBHOOK_COOLDOWN, "webhook-cooldown", 0, "SECS", CMD_AR, DELIVERY,    \
	  OT_UINT, 0, 1, 604800, "3600",                                       \
	  "the same finding for the same certificate and name is not sent "    \
	  "again within SECS")                                                 \
	X(WEBHOOK_TIMEOUT, "webhook-timeout", 0, "SECS", CMD_AR, DELIVERY,      \
	  OT_UINT, 0, 1, 300, "10", "per request")                             \
	X(WEBHOOK_CA_FILE, "webhook-ca-file", 0, "FILE", CMD_AR, DELIVERY,      \
	  OT_STR, 0, 0, 0, "",                                                 \
	  "verify https webhook and Alertmanager receivers against the PEM "   \
	  "CA certificates in FILE (at most " TW_STRINGIFY(SINK_CA_FILE_MAX)         \
	  " bytes) instead of the system store; read at start (run: and "     \
	  "at each SIGHUP)")                                                   \
	X(WEBHOOK_RETRY_MAX, "webhook-retry-max", 0, "SECS", CMD_AR, DELIVERY,  \
	  OT_UINT, 0, 1, 43200, "300",                                         \
	  "longest wait between two tries of a request (no retry waits more "  \
	  "than 12 h)")                                                        \
	X(WEBHOOK_OUTBOX_MAX, "webhook-outbox-max", 0, "ROWS", CMD_AR,          \
	  DELIVERY, OT_UINT, 0, 1, 1000000, TW_STRINGIFY(OUTBOX_DEFAULT_MAX_ROWS),   \
	  "requests kept waiting for their receivers, all receivers "          \
	  "together (each alert is one per --webhook URL); past it the "       \
	  "oldest non-critical is dropped, counted")                           \
	X(ALERTMANAGER, "alertmanager", 0, "URL", CMD_AR, DELIVERY, OT_STR,     \
	  OF_REPEAT, 0, 0, "",                                                 \
	  "push critical findings and spikes to the Alertmanager at URL (its " \
	  "v2 API; at most " TW_STRINGIFY(OUTPUT_URL_LEN) " bytes; repeatable, at "  \
	  "most " TW_STRINGIFY(OUTPUT_MAX_URLS) " URLs)")                            \
	X(ALERTMANAGER_RESEND, "alertmanager-resend", 0, "SECS", CMD_AR,        \
	  DELIVERY, OT_UINT, 0, 1, 3600, TW_STRINGIFY(OUTPUT_AM_RESEND_DEFAULT_S),   \
	  "send every active alert again every SECS, its endsAt 3 SECS "       \
	  "ahead: Alertmanager ends it by itself that long after the agent "   \
	  "stops sending it")                                                  \
	X(INSTANCE, "instance", 0, "NAME", CMD_AR, DELIVERY, OT_STR, 0, 0, 0,   \
	  "", "the 'instance' label of Alertmanager alerts (default: the host " \
	  "name)")                                                             \
	X(METRICS, "metrics", 0, "ADDR:PORT", CMD_R, DELIVERY, OT_STR, 0, 0, 0, \
	  "127.0.0.1:9733",                                                    \
	  "serve Prometheus /metrics and /healthz there (a numeric address; " \
	  "[::1]:PORT for IPv6); when the default port is taken the agent "    \
	  "runs without it")                                                   \
	X(NO_METRICS, "no-metrics", 0, NULL, CMD_R, DELIVERY, OT_FLAG, 0, 0, 0, \
	  "", "no HTTP server")

/*
 * Options that mean nothing without another one: X(ID, NEEDS, OR_NEEDS).
 * Given (in the configuration file or on the command line) while neither
 * NEEDS nor OR_NEEDS is, ID is a usage error, not silently ignored; the
 * help says "needs --NEEDS". OR_NEEDS is NEEDS when one alone will do.
 * Only where nothing else gives the option a use: --ocsp-timeout is not
 * here (the CRL fetches of --online use it, and a file's --online may be
 * undone by --no-online for one run).
 */
#define CLI_OPTION_NEEDS(X)                                                    \
	X(SINCE, HTML, HTML)                                                   \
	X(UNTIL, HTML, HTML)                                                   \
	X(WEBHOOK_EVENTS, WEBHOOK, WEBHOOK)                                    \
	X(WEBHOOK_SECRET_FILE, WEBHOOK, WEBHOOK)                               \
	X(WEBHOOK_FORMAT, WEBHOOK, WEBHOOK)                                    \
	X(WEBHOOK_COOLDOWN, WEBHOOK, WEBHOOK)                                  \
	X(WEBHOOK_TIMEOUT, WEBHOOK, ALERTMANAGER)  /* both sinks' requests */  \
	X(WEBHOOK_CA_FILE, WEBHOOK, ALERTMANAGER)  /* both sinks' requests */  \
	X(WEBHOOK_RETRY_MAX, WEBHOOK, WEBHOOK)                                 \
	X(WEBHOOK_OUTBOX_MAX, WEBHOOK, WEBHOOK)                                \
	X(ALERTMANAGER_RESEND, ALERTMANAGER, ALERTMANAGER)                     \
	X(INSTANCE, ALERTMANAGER, ALERTMANAGER)

/* Exit statuses per subcommand, in order: X(commands, code, "meaning").
 * CMD_TOP rows are the overview of `tlswatch --help` and tlswatch(8). */
#define CMD_TOP (1u << CLI__COUNT)
#define CLI_EXIT_USAGE_TEXT                                                    \
	"bad command line, or a bad configuration file (unknown key, bad "     \
	"value, a key of one value given twice, unsafe permissions; the "      \
	"message names the file and line); an option given without the one "  \
	"it needs (--webhook-secret-file without --webhook)"
/* Exit 2 of the commands that write an --html page. */
#define CLI_EXIT_HTML_TEXT CLI_EXIT_USAGE_TEXT ", or an --html FILE that is " \
	"a file the command reads or an existing file that is not an HTML page"
#define CLI_EXIT_CODES(X)                                                      \
	X(CMD_TOP | CMD_I, 0, "success")                                       \
	X(CMD_A, 0, "analysed (also for a truncated capture: a warning says so)") \
	X(CMD_R, 0, "stopped by SIGINT or SIGTERM after a clean detach")       \
	X(CMD_TOP, 1, "analyze: a --fail-on finding was present")              \
	X(CMD_A, 1, "a --fail-on finding was present")                         \
	X(CMD_TOP | CMD_R, 2, CLI_EXIT_USAGE_TEXT)                              \
	X(CMD_I, 2, CLI_EXIT_HTML_TEXT)                                        \
	X(CMD_A, 2, CLI_EXIT_HTML_TEXT "; or a capture --db refuses: one "     \
	  "added to it before given with captures that were not, the same "    \
	  "capture twice, one that grew since it was added")                   \
	X(CMD_TOP, 3, "an input or output cannot be used (the message names it)") \
	X(CMD_A, 3,                                                            \
	  "an input could not be read: a capture (missing, not a capture, "    \
	  "unsupported link type, a read error before its end: the readable "  \
	  "captures are still reported, the summary counts unread_inputs), "   \
	  "the --config file, a --ca-file, --ca-dir, --crl or --expect-dir, "  \
	  "a refused --webhook-secret-file, an unusable --webhook-ca-file, a " \
	  "--db that is not a regular file or names no file (nx/../inv.db, "   \
	  "nx missing), that SQLite cannot open (not a database), or that a "  \
	  "running agent or another analyze --db run writes (refused at "      \
	  "once, before anything is read); or an output cannot be written: "   \
	  "a --html FILE that cannot be created or written, standard output "  \
	  "(a full disk); it wins over 1")                                     \
	X(CMD_R, 3,                                                            \
	  "an input or output cannot be used: the --config file, the "         \
	  "--json-log file, a --ca-file, --ca-dir, --crl or --expect-dir that " \
	  "cannot be read, a refused --webhook-secret-file, an unusable "      \
	  "--webhook-ca-file, a --db that is not a regular file or names no "  \
	  "file (nx/../inv.db, nx missing), or that an "                       \
	  "analyze --db run is adding to (refused before anything is "         \
	  "attached or created), an explicit "                                  \
	  "--metrics address that cannot be bound")                            \
	X(CMD_I, 3,                                                            \
	  "the --config file or the database cannot be read (missing, a "      \
	  "directory, empty, not a tlswatch inventory), or the --html FILE "   \
	  "or standard output cannot be written")                              \
	X(CMD_TOP | CMD_I, 4, "internal error (out of memory)")                \
	X(CMD_A, 4,                                                            \
	  "internal error: out of memory, or an output other than standard "   \
	  "output and --html lost events (a webhook alert queued neither in "  \
	  "the --db outbox nor in memory), named on stderr")                    \
	X(CMD_R, 4,                                                            \
	  "an --iface that does not exist or an interface another running "    \
	  "tlswatch agent watches (both refused before anything is "           \
	  "created), "                                                         \
	  "loading or attaching the eBPF program failed (the "                 \
	  "message says why), a --uprobes library that cannot be hooked, or "  \
	  "another internal error")

#endif
