// SPDX-License-Identifier: MIT
/*
 * JSON lines (events.md) to standard output or a file appended to. Lines
 * are buffered and written together when the agent's loop ends a turn
 * (sink_set_flush), when the buffer would overflow, and at close: one
 * write(2) for a batch instead of one per event (a fifth of the agent's
 * time at tens of thousands of handshakes per second).
 *
 * A file gets whole lines only (a tail -f or a log shipper sees whole
 * events), also when its disk fills: the buffer is our own (stdio's state
 * after a failed fflush is none to write after: lines came out cut and
 * joined), a write cut short is taken back to its last whole line
 * (ftruncate), and the lines not written stay buffered for the next flush
 * that can write them. An event that finds the buffer full meanwhile is
 * lost: counted (events_lost) and said on stderr when writing fails and
 * when it resumes. Standard output keeps stdio's buffering (a pipe, a
 * terminal).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/output_file.h"
#include "sink.h"

#define JSON_LINES_BUF (64 * 1024) /* a file's buffer: about 90 events */

struct json_lines {
	struct sink base;              /* first: the sink is cast to it */
	const char *path;              /* "-": standard output */
	int fd;                        /* the file; -1: standard output */
	char *buf;                     /* the file's whole lines not written */
	size_t len;
	unsigned stdout_events;        /* standard output: since its flush */
	uint64_t lost_said;            /* base.errors said on stderr so far */
	bool failing;                  /* the last write failed */
};

/* @path opened to append to (common/output_file.h: another user's link
 * or file in a sticky world-writable directory such as /tmp, or a file
 * with other names, is refused whatever the fs.protected_* sysctls say,
 * at the start and at each SIGHUP's reopening). The fd, or -errno. */
static int json_lines_fopen(const char *path)
{
	struct tw_output o;
	int rc = tw_output_open(path, TW_OUTPUT_APPEND, &o);

	if (rc)
		return rc;
	tw_output_forget_created(&o);
	return o.fd;
}

static unsigned count_lines(const char *p, size_t n)
{
	const char *end = p + n;
	unsigned k = 0;

	while (p < end && (p = memchr(p, '\n', (size_t)(end - p)))) {
		k++;
		p++;
	}
	return k;
}

/*
 * Writes the buffer; what a short write left of a line is taken back, so
 * that the file ends on a whole line. Keeps what was not written. 0, or
 * -errno when the file took less than all.
 */
static int json_lines_write(struct json_lines *jl)
{
	size_t done = 0, keep;
	off_t end;
	ssize_t n;
	int err = 0;

	while (done < jl->len) {
		n = write(jl->fd, jl->buf + done, jl->len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n < 0 ? -errno : -ENOSPC;
			break;
		}
		done += (size_t)n;
	}
	if (err && done) {
		/* back to the end of the last whole line written */
		keep = done;
		while (keep && jl->buf[keep - 1] != '\n')
			keep--;
		/* the file ends where this write left it (O_APPEND) */
		end = keep < done ? lseek(jl->fd, 0, SEEK_END) : -1;
		if (end >= (off_t)(done - keep) &&
		    ftruncate(jl->fd, end - (off_t)(done - keep)) == 0)
			done = keep;
	}
	memmove(jl->buf, jl->buf + done, jl->len - done);
	jl->len -= done;
	return err;
}

/* Says on stderr when writing fails, and what was lost once it works. */
static void json_lines_say(struct json_lines *jl, int err)
{
	if (err && !jl->failing) {
		pr_warn("%s: cannot write: %s; events are kept (%d KiB) until it can, "
			"then lost and counted (events_lost)\n", jl->path,
			strerror(-err), JSON_LINES_BUF / 1024);
	} else if (!err && jl->failing) {
		pr_warn("%s: written again; %llu events were lost meanwhile\n", jl->path,
			(unsigned long long)(jl->base.errors - jl->lost_said));
		jl->lost_said = jl->base.errors;
	}
	jl->failing = err != 0;
}

static unsigned json_lines_flush(struct sink *s)
{
	struct json_lines *jl = (struct json_lines *)s;
	unsigned lost = 0;

	if (jl->fd < 0) {
		if (jl->stdout_events && fflush(stdout) != 0)
			lost = jl->stdout_events;
		jl->stdout_events = 0;
		return lost;
	}
	if (jl->len)
		json_lines_say(jl, json_lines_write(jl));
	return 0;
}

/* A file's line into the buffer, written first when it would not fit;
 * -ENOSPC when it does not fit still (lost: the set counts it in
 * base.errors). */
static int json_lines_put(struct json_lines *jl, const char *json, size_t len)
{
	if (jl->len + len + 1 > JSON_LINES_BUF)
		json_lines_flush(&jl->base);
	if (jl->len + len + 1 > JSON_LINES_BUF)
		return -ENOSPC;
	memcpy(jl->buf + jl->len, json, len);
	jl->buf[jl->len + len] = '\n';
	jl->len += len + 1;
	return 0;
}

static int json_lines_event(struct sink *s, const struct event *ev,
			    const char *json, size_t len)
{
	struct json_lines *jl = (struct json_lines *)s;

	if (jl->fd >= 0) {
		if (json_lines_put(jl, json, len))
			return -EIO;
	} else {
		if (fwrite(json, 1, len, stdout) != len || fputc('\n', stdout) == EOF)
			return -EIO;
		jl->stdout_events++;
	}
	/* The agent's own events are rare and should be seen at once. */
	if (ev->type == EVENT_AGENT && json_lines_flush(s))
		return -EIO;
	return 0;
}

static int json_lines_reopen(struct sink *s)
{
	struct json_lines *jl = (struct json_lines *)s;
	int fd;

	if (jl->fd < 0)
		return 0;
	fd = json_lines_fopen(jl->path);
	if (fd < 0)
		return fd;       /* said by the reload it refuses (agent.c) */
	json_lines_flush(s);      /* what the old file can take; the rest
				   * goes to the new one */
	close(jl->fd);
	jl->fd = fd;
	pr_info("%s: reopened\n", jl->path);
	return 0;
}

static void json_lines_counters(struct sink *s, struct counter_values *cv)
{
	struct json_lines *jl = (struct json_lines *)s;

	/* the file's losses; standard output's fail the command instead */
	counter_set(cv, COUNTER_EVENTS_LOST, jl->fd >= 0 ? jl->base.errors : 0);
}

static void json_lines_close(struct sink *s)
{
	struct json_lines *jl = (struct json_lines *)s;
	unsigned left;

	json_lines_flush(s);
	if (jl->fd >= 0) {
		left = count_lines(jl->buf, jl->len);
		if (left)
			pr_warn("%s: %u events could not be written at exit\n",
				jl->path, left);
		close(jl->fd);
	}
	free(jl->buf);
	free(jl);
}

static const struct sink_ops json_lines_ops = {
	.name = "json",
	.wants_json = true,
	.event = json_lines_event,
	.flush = json_lines_flush,
	.reopen = json_lines_reopen,
	.counters = json_lines_counters,
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
	jl->fd = -1;
	if (strcmp(o->json_path, "-") != 0) {
		jl->buf = malloc(JSON_LINES_BUF);
		jl->fd = jl->buf ? json_lines_fopen(o->json_path) : -ENOMEM;
		if (jl->fd < 0) {
			rc = jl->fd;
			snprintf(err, errlen, "%s: %s", o->json_path, tw_output_error(rc));
			free(jl->buf);
			free(jl);
			return rc;
		}
	}
	return sink_set_add(set, &jl->base, err, errlen);
}
