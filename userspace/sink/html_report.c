// SPDX-License-Identifier: MIT
/*
 * The HTML incident report sink (--html FILE): feeds the bounded
 * aggregates of html_agg.c from the events and writes the page when the
 * summary arrives (the end of an analysis). The file is opened at open,
 * so a path that cannot be written is an error before any work, but not
 * truncated until the page is written: a sink closed without a summary
 * (the run failed before it read anything: a refused
 * --webhook-secret-file, a sink opened after this one) writes nothing,
 * leaves an earlier page as it was and removes the file it created (the
 * target of a symbolic link to no file, the link kept), and only that
 * file. "-" is standard output, written at the summary too.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/output_file.h"
#include "html_report.h"
#include "sink.h"

struct html_report {
	struct sink base;               /* first: the sink is cast to it */
	const char *path;
	FILE *out;
	struct html_agg *agg;
	bool written;
	/* the file opened: the one this sink created, for html_discard */
	struct tw_output file;
};

/* A failure at the summary is the caller's to say (the sink set counts
 * it: analyze names the file, also with -q). The file is emptied first. */
static int html_write(struct html_report *r)
{
	r->written = true;
	if (r->out != stdout && tw_output_empty(fileno(r->out)) != 0)
		return -EIO;
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

/* No page was written: the file this sink created goes, while it is
 * still the one under the name it was created under (same device and
 * inode), looked up and removed in the directory it was created in, not
 * by its path again (whose directories may have been renamed or swapped
 * for links meanwhile). A file put under that name in that directory
 * between the two calls would go instead: no call removes a name only
 * while it is a given inode, and only a writer of that directory can. */
static void html_discard(struct html_report *r)
{
	int rc;

	if (r->out == stdout)
		return;
	rc = tw_output_remove_created(&r->file);
	if (rc)
		pr_warn("%s: cannot remove the file it created: %s\n", r->path,
			strerror(-rc));
}

static void html_close(struct sink *s)
{
	struct html_report *r = (struct html_report *)s;

	if (r->out && !r->written)
		html_discard(r);
	if (r->out && r->out != stdout && fclose(r->out) != 0)
		pr_warn("%s: %s\n", r->path, strerror(errno));
	html_agg_free(r->agg);
	tw_output_forget_created(&r->file);
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
	int rc = 0;

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
	r->file = (struct tw_output){ .fd = -1, .created_dir = -1 };
	/* not truncated: the page replaces what is there when it is
	 * written (html_write); a file created here goes if none is
	 * (html_discard) */
	r->out = strcmp(o->html_path, "-") ?
		tw_output_fopen(o->html_path, &r->file, &rc) : stdout;
	if (!r->out) {
		snprintf(err, errlen, "--html %s: %s", o->html_path, tw_output_error(rc));
		html_close(&r->base);
		return rc;
	}
	return sink_set_add(set, &r->base, err, errlen);
}
