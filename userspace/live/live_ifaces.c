// SPDX-License-Identifier: MIT
/* The interface sets: every interface that is up, except loopback (the
 * default), or those whose names match --iface patterns. */
#include <errno.h>
#include <fnmatch.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "live.h"

static bool iface_wanted(int fd, const char *name)
{
	struct ifreq ifr;

	if (strlen(name) >= sizeof(ifr.ifr_name))
		return false;
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, name, strlen(name));
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		return false; /* vanished since the listing */
	return (ifr.ifr_flags & IFF_UP) && !(ifr.ifr_flags & IFF_LOOPBACK);
}

static bool listed(char **names, int n, const char *name)
{
	int i;

	for (i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return true;
	return false;
}

/* Appends @name to @names unless it is there; 0 or -ENOMEM. */
static int add_name(char **names, int *n, const char *name)
{
	if (listed(names, *n, name))
		return 0;
	names[*n] = strdup(name);
	if (!names[*n])
		return -ENOMEM;
	(*n)++;
	return 0;
}

/* Appends the names it picks out of @all to @names, counting them in *@n:
 * 0 or -errno. */
typedef int (*pick_fn)(void *ctx, const struct if_nameindex *all, char **names,
		       int *n);

/* A NULL-terminated array of what @pick takes from every interface (with
 * room for @extra names besides): the count, or -errno. */
static int collect_ifaces(pick_fn pick, void *ctx, int extra, char ***out)
{
	struct if_nameindex *all, *it;
	char **names;
	int n = 0, total = 0, r;

	*out = NULL;
	all = if_nameindex();
	if (!all)
		return -errno;
	for (it = all; it->if_index; it++)
		total++;
	names = calloc((size_t)total + (size_t)extra + 1, sizeof(*names));
	r = names ? pick(ctx, all, names, &n) : -ENOMEM;
	if_freenameindex(all);
	if (r) {
		live_ifaces_free(names);
		return r;
	}
	*out = names;
	return n;
}

static int pick_up(void *ctx, const struct if_nameindex *all, char **names, int *n)
{
	const struct if_nameindex *it;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), r = 0;

	if (fd < 0)
		return -errno;
	for (it = all; it->if_index && !r; it++)
		if (iface_wanted(fd, it->if_name))
			r = add_name(names, n, it->if_name);
	close(fd);
	return r;
}

int live_default_ifaces(char ***out)
{
	return collect_ifaces(pick_up, NULL, 0, out);
}

struct patterns {
	const char *const *p;
	int n;
};

/* In the order given; a name without wildcards stays even if it is gone,
 * so that attaching to it says so. */
static int pick_matching(void *ctx, const struct if_nameindex *all, char **names,
			 int *n)
{
	const struct patterns *pat = ctx;
	const struct if_nameindex *it;
	int i, r = 0;

	for (i = 0; i < pat->n && !r; i++) {
		if (!live_iface_is_pattern(pat->p[i])) {
			r = add_name(names, n, pat->p[i]);
			continue;
		}
		for (it = all; it->if_index && !r; it++)
			if (fnmatch(pat->p[i], it->if_name, 0) == 0)
				r = add_name(names, n, it->if_name);
	}
	return r;
}

int live_match_ifaces(const char *const *patterns, int n_patterns, char ***out)
{
	struct patterns pat = { patterns, n_patterns };

	return collect_ifaces(pick_matching, &pat, n_patterns, out);
}

bool live_iface_matches(const char *const *patterns, int n, const char *name)
{
	int i;

	for (i = 0; i < n; i++)
		if (fnmatch(patterns[i], name, 0) == 0)
			return true;
	return false;
}

bool live_iface_is_pattern(const char *name)
{
	return strpbrk(name, "*?[") != NULL;
}

void live_ifaces_free(char **names)
{
	char **p;

	if (!names)
		return;
	for (p = names; *p; p++)
		free(*p);
	free(names);
}
