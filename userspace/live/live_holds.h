/* SPDX-License-Identifier: MIT */
/*
 * The holds of interfaces, inside userspace/live/ (live_holds.c; the
 * agent's side is in live.h). A hold is the abstract unix socket
 * "tlswatch-tc-IFINDEX" (live_tc.h says why).
 */
#ifndef TW_LIVE_HOLDS_H
#define TW_LIVE_HOLDS_H

#include <stddef.h>

struct live_holds;

/* Binds the hold of interface @ifindex (@name, for the message): the
 * socket's fd, or -errno said in @err; -EBUSY when another live tlswatch
 * agent holds it. */
int live_hold_bind(const char *name, int ifindex, char *err, size_t errlen);

/* The fd of the hold @holds (NULL: none) has for @ifindex, which it no
 * longer keeps; -ENOENT when it has none. By ifindex: the interface may
 * have been renamed since it was held. */
int live_holds_claim(struct live_holds *holds, int ifindex);

/* Lets go of the holds nobody claimed (@holds NULL: none): live_open()
 * attached what it was to, and an interface held but not attached (down
 * or renamed since) is not kept from other agents. */
void live_holds_release_unclaimed(struct live_holds *holds);

#endif
