/* SPDX-License-Identifier: MIT */
/*
 * The agent's one poll loop. Components register a file descriptor (the
 * ring buffer's epoll fd, the active checker's and the online checks'
 * eventfds) or a periodic timer (stats, sink ticks), and the loop calls
 * them back from the one thread that owns the pipeline. Bounded: at most
 * LOOP_MAX_FDS descriptors and LOOP_MAX_TIMERS timers.
 */
#ifndef TW_LOOP_H
#define TW_LOOP_H

#include <signal.h>
#include <stdint.h>

#define LOOP_MAX_FDS 16
#define LOOP_MAX_TIMERS 16

struct loop;

/* @revents as poll(2) reports them. */
typedef void (*loop_fd_fn)(void *ctx, int fd, short revents);
/* @now_us: CLOCK_REALTIME in microseconds, as the events' "ts". */
typedef void (*loop_timer_fn)(void *ctx, uint64_t now_us);

struct loop *loop_new(void);
void loop_free(struct loop *l);

/* Watches @fd for @events. 0, -EINVAL (fd < 0) or -ENOSPC. */
int loop_add_fd(struct loop *l, int fd, short events, loop_fd_fn fn, void *ctx);
/* Calls @fn every @interval_ms, the first time one interval from now.
 * 0 or -ENOSPC. */
int loop_add_timer(struct loop *l, unsigned interval_ms, loop_timer_fn fn,
		   void *ctx);

/*
 * Runs until *@stop is set (by a signal handler). Each turn waits for the
 * first fd or timer, at most @max_wait_ms, then calls @each_turn (may be
 * NULL) with the time. Returns 0, or -errno when poll(2) fails.
 */
int loop_run(struct loop *l, const volatile sig_atomic_t *stop,
	     unsigned max_wait_ms, loop_timer_fn each_turn, void *ctx);

/* CLOCK_REALTIME in microseconds. */
uint64_t loop_wall_us(void);

#endif
