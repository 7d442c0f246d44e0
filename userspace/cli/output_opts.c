// SPDX-License-Identifier: MIT
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "cli.h"
#include "output_opts.h"

void output_opts_init(struct output_opts *o, const char *metrics_addr)
{
	memset(o, 0, sizeof(*o));
	o->webhook_events = WEBHOOK_EVENTS_DEFAULT;
	o->alertmanager_resend_s = OUTPUT_AM_RESEND_DEFAULT_S;
	o->metrics_addr = metrics_addr;
	o->metrics_optional = true;
}

static bool is_http_url(const char *url)
{
	return strncmp(url, "http://", 7) == 0 || strncmp(url, "https://", 8) == 0;
}

/* What libcurl, which sends the requests, makes of @url: a URL it cannot
 * read (a space in the host, a bad port) would be retried for ever. */
static int check_url_parses(const char *url, char *err, size_t errlen)
{
	CURLU *u = curl_url();
	CURLUcode rc = CURLUE_OUT_OF_MEMORY;
	char *host = NULL;

	if (u && (rc = curl_url_set(u, CURLUPART_URL, url, 0)) == CURLUE_OK)
		rc = curl_url_get(u, CURLUPART_HOST, &host, 0);
	curl_free(host);
	curl_url_cleanup(u);
	if (rc == CURLUE_OK)
		return 0;
	snprintf(err, errlen, "'%s' is not a valid URL (%s)", url, curl_url_strerror(rc));
	return -EXIT_USAGE;
}

int output_opts_add_url(const char **list, int *n, const char *url,
			char *err, size_t errlen)
{
	if (!is_http_url(url)) {
		snprintf(err, errlen, "'%s' is not an http:// or https:// URL", url);
		return -EXIT_USAGE;
	}
	if (strlen(url) > OUTPUT_URL_LEN) {
		snprintf(err, errlen, "a URL of %zu bytes: at most %d", strlen(url),
			 OUTPUT_URL_LEN);
		return -EXIT_USAGE;
	}
	if (check_url_parses(url, err, errlen) < 0)
		return -EXIT_USAGE;
	if (*n == OUTPUT_MAX_URLS) {
		snprintf(err, errlen, "at most %d URLs", OUTPUT_MAX_URLS);
		return -EXIT_USAGE;
	}
	list[(*n)++] = url;
	return 0;
}

