// SPDX-License-Identifier: MIT
/*
 * JSON lines (events.md) to standard output or a file appended to. Lines
 * are buffered and written together when the agent's loop ends a turn
 * (sink_set_flush), when the buffer would overflow, and at close: one
 * write(2) for a batch instead of one per event (a fifth of the agent's
 * time at tens of thousands of handshakes per second). A file gets whole
 * lines only (a tail -f or a log shipper sees whole events), except a line
 * longer than the buffer.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "sink.h"

#define JSON_LINES_BUF (64 * 1024) /* a file's buffer: about 90 events */

struct json_lines {
	struct sink base;              /* first: the sink is cast to it */
	const char *path;              /* "-": standard output */
	FILE *out;
	char *buf;                     /* out's buffer (NULL: stdout's own) */
	size_t buffered;               /* bytes written to out since its flush */
	unsigned buffered_events;
};

/* Opens @path to append to, fully buffered in *@buf (freed after the file
 * is closed); "-": standard output, buffered as it is (*@buf NULL). */
static FILE *json_lines_fopen(const char *path, char **buf)
{
	FILE *f;
	int e;

	*buf = NULL;
	if (strcmp(path, "-") == 0)
		return stdout;
	*buf = malloc(JSON_LINES_BUF);
	if (!*buf)
		return NULL;
	f = fopen(path, "a");
	/* glibc takes the size only with the buffer itself */
	if (f && setvbuf(f, *buf, _IOFBF, JSON_LINES_BUF) != 0) {
		fclose(f);
		f = NULL;
		errno = ENOMEM;
	}
	if (!f) {
		e = errno;
		free(*buf);
		*buf = NULL;
		errno = e;
	}
	return f;
}

static void json_lines_fclose(FILE *f, char *buf)
{
	if (f == stdout)
		fflush(stdout);
	else
		fclose(f);
	free(buf);
}

static unsigned json_lines_flush(struct sink *s)
{
	struct json_lines *jl = (struct json_lines *)s;
	unsigned lost = 0;

	if (!jl->buffered)
		return 0;
	if (fflush(jl->out) != 0)
		lost = jl->buffered_events;
	jl->buffered = 0;
	jl->buffered_events = 0;
	return lost;
}

static int json_lines_event(struct sink *s, const struct event *ev,
			    const char *json, size_t len)
{
	struct json_lines *jl = (struct json_lines *)s;

	if (jl->buffered + len + 1 > JSON_LINES_BUF && json_lines_flush(s))
		return -EIO;
	if (fwrite(json, 1, len, jl->out) != len || fputc('\n', jl->out) == EOF)
		return -EIO;
	jl->buffered += len + 1;
	jl->buffered_events++;
	/* The agent's own events are rare and should be seen at once. */
	if (ev->type == EVENT_AGENT && json_lines_flush(s))
		return -EIO;
	return 0;
}

static int json_lines_reopen(struct sink *s)
{
	struct json_lines *jl = (struct json_lines *)s;
	char *buf;
	FILE *f;

	if (jl->out == stdout)
		return 0;
	f = json_lines_fopen(jl->path, &buf);
	if (!f) {
		int rc = -errno;

		pr_warn("%s: cannot reopen: %s; still writing to the old file\n",
			jl->path, strerror(errno));
		return rc;
	}
	json_lines_flush(s);
	json_lines_fclose(jl->out, jl->buf);
	jl->out = f;
	jl->buf = buf;
	pr_info("%s: reopened\n", jl->path);
	return 0;
}

static void json_lines_close(struct sink *s)
{
	struct json_lines *jl = (struct json_lines *)s;

	json_lines_fclose(jl->out, jl->buf);
	free(jl);
}

static const struct sink_ops json_lines_ops = {
	.name = "json",
	.wants_json = true,
	.event = json_lines_event,
	.flush = json_lines_flush,
	.reopen = json_lines_reopen,
	.close = json_lines_close,
};

int json_lines_open(const struct output_opts *o, struct sink_set *set,
		    char *err, size_t errlen)
{
	struct json_lines *jl;
	int rc;

	if (!o->json_path)
		return 0;
	jl = calloc(1, sizeof(*jl));
	if (!jl) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	jl->base.ops = &json_lines_ops;
	jl->path = o->json_path;
	jl->out = json_lines_fopen(o->json_path, &jl->buf);
	if (!jl->out) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", o->json_path, strerror(errno));
		free(jl);
		return rc;
	}
	return sink_set_add(set, &jl->base, err, errlen);
}
