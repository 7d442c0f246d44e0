// SPDX-License-Identifier: MIT
/* A poll(2) loop over a few fds and periodic timers. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <time.h>

#include "loop.h"

struct loop_fd {
	loop_fd_fn fn;
	void *ctx;
};

struct loop_timer {
	loop_timer_fn fn;
	void *ctx;
	uint64_t interval_ms;
	uint64_t next_ms;            /* CLOCK_MONOTONIC: immune to clock steps */
};

struct loop {
	struct pollfd pfd[LOOP_MAX_FDS];
	struct loop_fd fds[LOOP_MAX_FDS];
	int n_fds;
	struct loop_timer timers[LOOP_MAX_TIMERS];
	int n_timers;
};

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t loop_wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

struct loop *loop_new(void)
{
	return calloc(1, sizeof(struct loop));
}

void loop_free(struct loop *l)
{
	free(l);
}

int loop_add_fd(struct loop *l, int fd, short events, loop_fd_fn fn, void *ctx)
{
	if (fd < 0)
		return -EINVAL;
	if (l->n_fds == LOOP_MAX_FDS)
		return -ENOSPC;
	l->pfd[l->n_fds] = (struct pollfd){ .fd = fd, .events = events };
	l->fds[l->n_fds] = (struct loop_fd){ .fn = fn, .ctx = ctx };
	l->n_fds++;
	return 0;
}

int loop_add_timer(struct loop *l, unsigned interval_ms, loop_timer_fn fn,
		   void *ctx)
{
	if (l->n_timers == LOOP_MAX_TIMERS)
		return -ENOSPC;
	l->timers[l->n_timers++] = (struct loop_timer){
		.fn = fn, .ctx = ctx, .interval_ms = interval_ms ? interval_ms : 1,
		.next_ms = mono_ms() + (interval_ms ? interval_ms : 1),
	};
	return 0;
}

/* Milliseconds until the first timer is due, at most @max_ms. */
static int loop_timeout(const struct loop *l, uint64_t now_ms, unsigned max_ms)
{
	uint64_t wait = max_ms;
	int i;

	for (i = 0; i < l->n_timers; i++) {
		uint64_t due = l->timers[i].next_ms;

		if (due <= now_ms)
			return 0;
		if (due - now_ms < wait)
			wait = due - now_ms;
	}
	return (int)wait;
}

static void loop_fire_timers(struct loop *l)
{
	uint64_t now_ms = mono_ms();
	int i;

	for (i = 0; i < l->n_timers; i++) {
		struct loop_timer *t = &l->timers[i];

		if (t->next_ms > now_ms)
			continue;
		/* Skip missed periods rather than firing a burst after a stall. */
		t->next_ms = now_ms + t->interval_ms;
		t->fn(t->ctx, loop_wall_us());
	}
}

int loop_run(struct loop *l, const volatile sig_atomic_t *stop,
	     unsigned max_wait_ms, loop_timer_fn each_turn, void *ctx)
{
	int i, n;

	while (!*stop) {
		n = poll(l->pfd, (nfds_t)l->n_fds, loop_timeout(l, mono_ms(), max_wait_ms));
		if (n < 0 && errno != EINTR)
			return -errno;
		for (i = 0; n > 0 && i < l->n_fds; i++)
			if (l->pfd[i].revents)
				l->fds[i].fn(l->fds[i].ctx, l->pfd[i].fd, l->pfd[i].revents);
		loop_fire_timers(l);
		if (each_turn)
			each_turn(ctx, loop_wall_us());
	}
	return 0;
}
