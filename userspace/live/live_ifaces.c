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

int live_default_ifaces(char ***out)
{
	struct if_nameindex *all, *it;
	char **names;
	int fd, n = 0, total = 0, r = 0;

	*out = NULL;
	all = if_nameindex();
	if (!all)
		return -errno;
	for (it = all; it->if_index; it++)
		total++;
	names = calloc((size_t)total + 1, sizeof(*names));
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (!names || fd < 0) {
		r = names ? -errno : -ENOMEM;
		goto out;
	}
	for (it = all; it->if_index; it++) {
		if (!iface_wanted(fd, it->if_name))
			continue;
		names[n] = strdup(it->if_name);
		if (!names[n]) {
			r = -ENOMEM;
			goto out;
		}
		n++;
	}
out:
	if (fd >= 0)
		close(fd);
	if_freenameindex(all);
	if (r) {
		live_ifaces_free(names);
		return r;
	}
	*out = names;
	return n;
}

bool live_iface_matches(const char *const *patterns, int n, const char *name)
{
	int i;

	for (i = 0; i < n; i++)
		if (fnmatch(patterns[i], name, 0) == 0)
			return true;
	return false;
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

int live_match_ifaces(const char *const *patterns, int n_patterns, char ***out)
{
	struct if_nameindex *all, *it;
	char **names;
	int i, n = 0, total = 0, r = 0;

	*out = NULL;
	all = if_nameindex();
	if (!all)
		return -errno;
	for (it = all; it->if_index; it++)
		total++;
	names = calloc((size_t)total + (size_t)n_patterns + 1, sizeof(*names));
	if (!names) {
		r = -ENOMEM;
		goto out;
	}
	/* in the order given; a name without wildcards stays even if it is
	 * gone, so that attaching to it says so */
	for (i = 0; i < n_patterns && !r; i++) {
		if (!live_iface_is_pattern(patterns[i])) {
			r = add_name(names, &n, patterns[i]);
			continue;
		}
		for (it = all; it->if_index && !r; it++)
			if (fnmatch(patterns[i], it->if_name, 0) == 0)
				r = add_name(names, &n, it->if_name);
	}
out:
	if_freenameindex(all);
	if (r) {
		live_ifaces_free(names);
		return r;
	}
	*out = names;
	return n;
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
