// SPDX-License-Identifier: MIT
/*
 * Interfaces held before they are attached (live.h, live_holds.h). The hold
 * is the abstract unix socket "tlswatch-tc-IFINDEX": binding it is the
 * kernel's own test-and-set, so of two agents started at the same instant
 * exactly one gets it. An agent takes the holds of the interfaces it must
 * attach before it creates any file and keeps them until live_open()
 * attached them: the other one is refused before it made anything.
 */
#include <errno.h>
#include <net/if.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "live.h"
#include "live_holds.h"

struct live_hold {
	char name[IF_NAMESIZE];
	int ifindex;
	int fd;                /* the bound socket; -1 while being taken */
};

struct live_holds {
	struct live_hold h[LIVE_MAX_IFACES];
	int n;
};

int live_hold_bind(const char *name, int ifindex, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, n, r;

	/* sun_path[0] stays '\0': the abstract namespace, no file; it
	 * belongs to the network namespace, as ifindexes do */
	n = snprintf(sa.sun_path + 1, sizeof(sa.sun_path) - 1, "tlswatch-tc-%d",
		     ifindex);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		r = -errno;
		snprintf(err, errlen, "%s: holding the interface: %s", name,
			 strerror(errno));
		return r;
	}
	if (bind(fd, (struct sockaddr *)&sa,
		 (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n)) == 0)
		return fd;
	r = errno == EADDRINUSE ? -EBUSY : -errno;
	if (r == -EBUSY)
		snprintf(err, errlen, "%s: another tlswatch agent watches this "
			 "interface; leaving it to that one", name);
	else
		snprintf(err, errlen, "%s: holding the interface: %s", name,
			 strerror(errno));
	close(fd);
	return r;
}

static struct live_hold *holds_find(struct live_holds *h, int ifindex)
{
	int i;

	for (i = 0; h && i < h->n; i++)
		if (h->h[i].ifindex == ifindex)
			return &h->h[i];
	return NULL;
}

/* Notes @name (@ifindex), not held yet; 0, or -E2BIG said in @err. */
static int holds_note(struct live_holds *h, const char *name, int ifindex,
		      char *err, size_t errlen)
{
	struct live_hold *e;

	if (holds_find(h, ifindex))
		return 0;
	if (h->n == LIVE_MAX_IFACES) {
		snprintf(err, errlen, "more than %d interfaces", LIVE_MAX_IFACES);
		return -E2BIG;
	}
	e = &h->h[h->n++];
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->ifindex = ifindex;
	e->fd = -1;
	return 0;
}

/* Binds every noted one, in order: 0, or the first refusal (-EBUSY). */
static int holds_bind_all(struct live_holds *h, char *err, size_t errlen)
{
	int i;

	for (i = 0; i < h->n; i++) {
		if (h->h[i].fd >= 0)
			continue;
		h->h[i].fd = live_hold_bind(h->h[i].name, h->h[i].ifindex, err, errlen);
		if (h->h[i].fd < 0)
			return h->h[i].fd;
	}
	return 0;
}

/* The plain names of @patterns, each looked up: every one must
 * exist (a glob may match nothing yet). */
static int note_named(struct live_holds *h, const char *const *patterns, int n,
		      char *err, size_t errlen)
{
	int i, ifindex, r;

	for (i = 0; i < n; i++) {
		if (live_iface_is_pattern(patterns[i]))
			continue;
		ifindex = (int)if_nametoindex(patterns[i]);
		if (!ifindex) {
			r = -errno;
			snprintf(err, errlen, "--iface %s: %s", patterns[i],
				 r == -ENODEV ? "no such interface" : strerror(-r));
			return r;
		}
		r = holds_note(h, patterns[i], ifindex, err, errlen);
		if (r)
			return r;
	}
	return 0;
}

/* Every interface up but loopback; one gone since the listing is left
 * to attaching to say. */
static int note_up(struct live_holds *h, char *err, size_t errlen)
{
	char **up;
	int n, i, r = 0;

	n = live_default_ifaces(&up);
	if (n < 0) {
		snprintf(err, errlen, "cannot list interfaces: %s", strerror(-n));
		return n;
	}
	for (i = 0; i < n && !r; i++) {
		int ifindex = (int)if_nametoindex(up[i]);

		if (ifindex)
			r = holds_note(h, up[i], ifindex, err, errlen);
	}
	live_ifaces_free(up);
	return r;
}

int live_holds_take(const char *const *patterns, int n, struct live_holds **out,
		    char *err, size_t errlen)
{
	struct live_holds *h = calloc(1, sizeof(*h));
	int r;

	*out = NULL;
	if (!h) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	r = n ? note_named(h, patterns, n, err, errlen) : note_up(h, err, errlen);
	if (!r)
		r = holds_bind_all(h, err, errlen);
	if (r) {
		live_holds_free(h);
		return r;
	}
	*out = h;
	return 0;
}

/* Whether another live agent holds @name (@ifindex): 1, 0 (not held,
 * now either), or -errno; for live_holds_add() without holds. */
static int hold_probe(const char *name, int ifindex, char *err, size_t errlen)
{
	int fd = live_hold_bind(name, ifindex, err, errlen);

	if (fd < 0)
		return fd == -EBUSY ? 1 : fd;
	close(fd);
	return 0;
}

int live_holds_add(struct live_holds *h, const char *name, int *ifindex,
		   char *err, size_t errlen)
{
	struct live_hold *e;
	int r;

	*ifindex = (int)if_nametoindex(name);
	if (!*ifindex) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", name, strerror(-r));
		return r;
	}
	if (!h)
		return hold_probe(name, *ifindex, err, errlen);
	if (holds_find(h, *ifindex))
		return 0;
	r = holds_note(h, name, *ifindex, err, errlen);
	if (r)
		return r;
	e = &h->h[h->n - 1];
	e->fd = live_hold_bind(name, *ifindex, err, errlen);
	if (e->fd >= 0)
		return 0;
	r = e->fd;
	h->n--;              /* not held: forgotten again */
	return r == -EBUSY ? 1 : r;
}

int live_holds_claim(struct live_holds *h, int ifindex)
{
	struct live_hold *e = holds_find(h, ifindex);
	int fd;

	if (!e || e->fd < 0)
		return -ENOENT;
	fd = e->fd;
	*e = h->h[--h->n];
	return fd;
}

void live_holds_release_unclaimed(struct live_holds *h)
{
	int i;

	for (i = 0; h && i < h->n; i++)
		if (h->h[i].fd >= 0)
			close(h->h[i].fd);
	if (h)
		h->n = 0;
}

void live_holds_free(struct live_holds *h)
{
	live_holds_release_unclaimed(h);
	free(h);
}
