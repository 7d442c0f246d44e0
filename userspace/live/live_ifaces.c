// SPDX-License-Identifier: MIT
/* The default interface set: every interface that is up, except loopback. */
#include <errno.h>
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

void live_ifaces_free(char **names)
{
	char **p;

	if (!names)
		return;
	for (p = names; *p; p++)
		free(*p);
	free(names);
}
