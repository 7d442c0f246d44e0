// SPDX-License-Identifier: MIT
/*
 * The HTML incident report sink (--html FILE): feeds the bounded
 * aggregates of html_agg.c from the events and writes the page when the
 * summary arrives (the end of an analysis), or at close when no summary
 * came. The file is opened (truncated) at open, so a path that cannot be
 * written is an error before any work; "-" is standard output.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "html_report.h"
#include "sink.h"

struct html_report {
	struct sink base;               /* first: the sink is cast to it */
	const char *path;
	FILE *out;
	struct html_agg *agg;
	bool written;
};

/* A failure at the summary is the caller's to say (the sink set counts
 * it: analyze names the file, also with -q). */
static int html_write(struct html_report *r)
{
	r->written = true;
	return html_render(r->agg, r->out);
}

static int html_event(struct sink *s, const struct event *ev, const char *json,
		      size_t len)
{
	struct html_report *r = (struct html_report *)s;

	switch (ev->type) {
	case EVENT_HANDSHAKE:
		html_agg_handshake(r->agg, ev->handshake);
		return 0;
	case EVENT_CERT:
		html_agg_cert(r->agg, ev->cert);
		return 0;
	case EVENT_SPIKE:
		html_agg_spike(r->agg, ev->spike);
		return 0;
	case EVENT_SUMMARY:
		html_agg_summary(r->agg, ev->summary);
		return html_write(r);
	default:
		return 0;
	}
}

static void html_close(struct sink *s)
{
	struct html_report *r = (struct html_report *)s;

	if (r->out && !r->written && html_write(r) < 0)
		pr_warn("%s: cannot write the HTML report\n", r->path);
	if (r->out && r->out != stdout && fclose(r->out) != 0)
		pr_warn("%s: %s\n", r->path, strerror(errno));
	html_agg_free(r->agg);
	free(r);
}

static const struct sink_ops html_report_ops = {
	.name = "html",
	.event = html_event,
	.close = html_close,
};

int html_report_open(const struct output_opts *o, struct sink_set *set,
		     char *err, size_t errlen)
{
	struct html_report *r;

	if (!o->html_path)
		return 0;
	r = calloc(1, sizeof(*r));
	if (!r || !(r->agg = html_agg_new())) {
		free(r);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	r->base.ops = &html_report_ops;
	r->path = o->html_path;
	r->out = strcmp(o->html_path, "-") ? fopen(o->html_path, "w") : stdout;
	if (!r->out) {
		int rc = -errno;

		snprintf(err, errlen, "--html %s: %s", o->html_path, strerror(errno));
		html_close(&r->base);
		return rc;
	}
	return sink_set_add(set, &r->base, err, errlen);
}
