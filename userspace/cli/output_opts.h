/* SPDX-License-Identifier: MIT */
/* Options shared by analyze and run: where reports are delivered. */
#ifndef TW_OUTPUT_OPTS_H
#define TW_OUTPUT_OPTS_H

#include <stdbool.h>
#include <stddef.h>

#include "sink/sink.h"

#define OUTPUT_DEFAULT_METRICS "127.0.0.1:9733"

/* Defaults; @metrics_addr is the default of --metrics (NULL: off). */
void output_opts_init(struct output_opts *o, const char *metrics_addr);
/* Appends an http:// or https:// URL of at most OUTPUT_URL_LEN bytes that
 * libcurl parses, with a host, to a list of at most OUTPUT_MAX_URLS. 0, or
 * -EXIT_USAGE with @err. */
int output_opts_add_url(const char **list, int *n, const char *url,
			char *err, size_t errlen);

#endif
