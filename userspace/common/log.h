/* SPDX-License-Identifier: MIT */
/* Leveled logging to stderr; libbpf's messages are routed through it too. */
#ifndef TW_LOG_H
#define TW_LOG_H

/* TW_LOG_SILENT: not even warnings (-q); errors are printed by the CLI. */
enum tw_log_level { TW_LOG_SILENT = -1, TW_LOG_WARN, TW_LOG_INFO, TW_LOG_DEBUG };

void tw_log_set_level(enum tw_log_level level);
/* What starts every line ("tlswatch analyze"; default "tlswatch"): the
 * subcommand's errors and warnings read alike. */
void tw_log_set_prefix(const char *prefix);
enum tw_log_level tw_log_get_level(void);
void tw_log(enum tw_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define pr_warn(...)  tw_log(TW_LOG_WARN, __VA_ARGS__)
#define pr_info(...)  tw_log(TW_LOG_INFO, __VA_ARGS__)
#define pr_debug(...) tw_log(TW_LOG_DEBUG, __VA_ARGS__)

#endif
