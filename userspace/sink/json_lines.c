// SPDX-License-Identifier: MIT
/* JSON lines (events.md) to standard output or a file appended to. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "sink.h"

struct json_lines {
	struct sink base;              /* first: the sink is cast to it */
	const char *path;              /* "-": standard output */
	FILE *out;
};

static FILE *json_lines_fopen(const char *path)
{
	FILE *f;

	if (strcmp(path, "-") == 0)
		return stdout;
	f = fopen(path, "a");
	/* Line-buffered: a tail -f or a log shipper sees whole events. */
	if (f && setvbuf(f, NULL, _IOLBF, 0) != 0) {
		fclose(f);
		errno = ENOMEM;
		return NULL;
	}
	return f;
}

static int json_lines_event(struct sink *s, const struct event *ev,
			    const char *json, size_t len)
{
	struct json_lines *jl = (struct json_lines *)s;

	if (fwrite(json, 1, len, jl->out) != len || fputc('\n', jl->out) == EOF)
		return -EIO;
	/* The agent's own events are rare and should be seen at once. */
	if (ev->type == EVENT_AGENT && fflush(jl->out) != 0)
		return -EIO;
	return 0;
}

static int json_lines_reopen(struct sink *s)
{
	struct json_lines *jl = (struct json_lines *)s;
	FILE *f;

	if (jl->out == stdout)
		return 0;
	f = json_lines_fopen(jl->path);
	if (!f) {
		int rc = -errno;

		pr_warn("%s: cannot reopen: %s; still writing to the old file\n",
			jl->path, strerror(errno));
		return rc;
	}
	fclose(jl->out);
	jl->out = f;
	pr_info("%s: reopened\n", jl->path);
	return 0;
}

static void json_lines_close(struct sink *s)
{
	struct json_lines *jl = (struct json_lines *)s;

	if (jl->out == stdout)
		fflush(stdout);
	else
		fclose(jl->out);
	free(jl);
}

static const struct sink_ops json_lines_ops = {
	.name = "json",
	.wants_json = true,
	.event = json_lines_event,
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
	jl->out = json_lines_fopen(o->json_path);
	if (!jl->out) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", o->json_path, strerror(errno));
		free(jl);
		return rc;
	}
	return sink_set_add(set, &jl->base, err, errlen);
}
