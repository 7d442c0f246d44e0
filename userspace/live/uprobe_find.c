// SPDX-License-Identifier: MIT
/*
 * Which TLS libraries the servers on the watched ports use, from /proc:
 * the listening sockets (/proc/self/net/tcp{,6}: port, state, inode), the
 * processes that hold them (/proc/PID/fd links "socket:[INODE]"), and the
 * files those processes map (/proc/PID/maps).
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "uprobes.h"

#define TCP_LISTEN 0x0A

int uprobe_lib_kind(const char *path)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	if (!strcmp(base, "libssl.so.3"))
		return 1;
	if (!strcmp(base, "libcrypto.so.3"))
		return 2;
	if (!strncmp(base, "libssl.so", 9) || !strncmp(base, "libcrypto.so", 12) ||
	    !strncmp(base, "libgnutls.so", 12) || !strncmp(base, "libwolfssl.so", 13) ||
	    !strncmp(base, "libmbedtls.so", 13) || !strncmp(base, "libnss3.so", 10))
		return 0;
	return -1;
}

static bool port_watched(unsigned port, const uint16_t *ports, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (ports[i] == port)
			return true;
	return false;
}

/* One /proc/net/tcp{,6} file: "sl local rem st ... uid timeout inode". */
static int listen_inodes_in(const char *file, const uint16_t *ports,
			    int n_ports, uint64_t *inodes, int n, int max)
{
	char line[512], local[64];
	unsigned port, st;
	uint64_t ino;
	FILE *f = fopen(file, "re");

	if (!f)
		return errno == ENOENT ? n : -errno;
	while (fgets(line, sizeof(line), f) && n < max) {
		if (sscanf(line, " %*u: %63s %*s %x %*s %*s %*s %*u %*u %" SCNu64,
			   local, &st, &ino) != 3)
			continue; /* the header line */
		if (st != TCP_LISTEN || !strchr(local, ':') ||
		    sscanf(strchr(local, ':') + 1, "%x", &port) != 1)
			continue;
		if (port_watched(port, ports, n_ports) && ino)
			inodes[n++] = ino;
	}
	fclose(f);
	return n;
}

int uprobe_listen_inodes(const uint16_t *ports, int n_ports, uint64_t *inodes,
			 int max)
{
	int n = listen_inodes_in("/proc/self/net/tcp", ports, n_ports, inodes, 0, max);

	if (n < 0)
		return n;
	return listen_inodes_in("/proc/self/net/tcp6", ports, n_ports, inodes, n, max);
}

bool uprobe_pid_holds(int pid, const uint64_t *inodes, int n)
{
	char dir[64], path[128], link[64];
	struct dirent *de;
	uint64_t ino;
	bool found = false;
	ssize_t len;
	DIR *d;
	int i;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", pid);
	d = opendir(dir);
	if (!d)
		return false; /* gone, or not ours to read */
	while (!found && (de = readdir(d))) {
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		len = readlink(path, link, sizeof(link) - 1);
		if (len <= 0)
			continue;
		link[len] = '\0';
		if (sscanf(link, "socket:[%" SCNu64 "]", &ino) != 1)
			continue;
		for (i = 0; i < n && !found; i++)
			found = inodes[i] == ino;
	}
	closedir(d);
	return found;
}

/* The file to attach by: the mapped path if it is that file from here,
 * else the same path seen through the process's root (a container). */
static int lib_resolve(int pid, const char *mapped, uint64_t dev, uint64_t ino,
		       struct uprobe_lib *out)
{
	struct stat st;

	if (!stat(mapped, &st) && st.st_ino == ino && st.st_dev == dev) {
		snprintf(out->path, sizeof(out->path), "%s", mapped);
	} else if (pid > 0) {
		snprintf(out->path, sizeof(out->path), "/proc/%d/root%s", pid, mapped);
		if (stat(out->path, &st) || st.st_ino != ino)
			return -ENOENT;
	} else {
		return -ENOENT;
	}
	out->dev = dev;
	out->ino = ino;
	out->is_ssl = uprobe_lib_kind(mapped) == 1;
	return 0;
}

static bool lib_known(const struct uprobe_lib *libs, int n, uint64_t dev,
		      uint64_t ino)
{
	int i;

	for (i = 0; i < n; i++)
		if (libs[i].dev == dev && libs[i].ino == ino)
			return true;
	return false;
}

int uprobe_pid_libs(int pid, struct uprobe_lib *libs, int *n, int max,
		    char *other, size_t otherlen)
{
	char maps[64], line[4608], path[4096];
	unsigned maj, min;
	uint64_t ino;
	int found = 0, kind;
	FILE *f;

	other[0] = '\0';
	if (pid < 0)
		snprintf(maps, sizeof(maps), "/proc/self/maps");
	else
		snprintf(maps, sizeof(maps), "/proc/%d/maps", pid);
	f = fopen(maps, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		/* "start-end perms offset maj:min inode path" */
		if (sscanf(line, "%*s %*s %*s %x:%x %" SCNu64 " %4095s", &maj, &min,
			   &ino, path) != 4 || path[0] != '/')
			continue;
		kind = uprobe_lib_kind(path);
		if (kind == 0 && !other[0])
			snprintf(other, otherlen, "%s", strrchr(path, '/') + 1);
		if (kind <= 0)
			continue;
		if (!lib_known(libs, *n, makedev(maj, min), ino)) {
			if (*n >= max ||
			    lib_resolve(pid, path, makedev(maj, min), ino, &libs[*n]))
				continue;
			(*n)++;
		}
		found++;
	}
	fclose(f);
	return found;
}

int uprobe_own_libs(struct uprobe_lib *ssl, struct uprobe_lib *crypto)
{
	struct uprobe_lib libs[UPROBES_MAX_LIBS];
	bool have_ssl = false, have_crypto = false;
	char other[64];
	int n = 0, i;

	if (uprobe_pid_libs(-1, libs, &n, UPROBES_MAX_LIBS, other, sizeof(other)) < 0)
		return -ENOENT;
	for (i = 0; i < n; i++) {
		if (libs[i].is_ssl && !have_ssl) {
			*ssl = libs[i];
			have_ssl = true;
		} else if (!libs[i].is_ssl && !have_crypto) {
			*crypto = libs[i];
			have_crypto = true;
		}
	}
	return have_ssl && have_crypto ? 0 : -ENOENT;
}
