// SPDX-License-Identifier: MIT
/* The uprobe programs: load into the live source's maps, attach by file. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "common/log.h"
#include "uprobes.h"
#include "uprobes.skel.h"

/* Sockets listening on watched ports we look for, and processes. */
#define UPROBES_MAX_LISTEN 1024

/*
 * The hooks, X(IN_LIBSSL, SYMBOL, PROGRAM, RETPROBE, NEEDS_ALERT_OFFSETS,
 * PAST_NULL_CHECK).
 * Every symbol is exported by OpenSSL 3.0 and later; a library without one
 * of them is not supported (reported, not hooked). A hook that needs the
 * offsets of the SSL's alerts (uprobe_calibrate()) gets them as its
 * attach cookie, and is left out where it is not known. Every hook goes
 * past a leading endbr64, and one marked PAST_NULL_CHECK past its
 * function's NULL check too (uprobe_probe_offset()): one emulated trap
 * instead of a trap and a single-step (~10 us).
 * The certificates are read by the i2d_X509 hooks, or, where the writer's
 * site in libssl is known (uprobe_site.c), by one probe there instead.
 */
#define UPROBE_HOOKS(X)                                                        \
	X(false, "i2d_X509", tw_up_i2d_enter, false, false, false)              \
	X(false, "i2d_X509", tw_up_i2d_return, true, false, false)              \
	X(true, "SSL_free", tw_up_free_enter, false, true, true)

#define UPROBE_COUNT_HOOK(in_ssl, sym, prog, ret, off, skip) +1
#define UPROBE_N_HOOKS (0 UPROBE_HOOKS(UPROBE_COUNT_HOOK))
/* per library at most 3 links: its hooks, or, in the libssl of the
 * writer's site, SSL_free, the site and SSL_clear */
#define UPROBE_MAX_LINKS (UPROBES_MAX_LIBS * UPROBE_N_HOOKS)

struct uprobes {
	struct uprobes_bpf *skel;
	struct bpf_link *links[UPROBE_MAX_LINKS];
	int n_links;
	struct uprobe_lib libs[UPROBES_MAX_LIBS];
	int n_libs;
	struct uprobe_site site;       /* offset 0: the i2d_X509 hooks */
	struct bpf_link *kernel[2];    /* the kernel hooks (attach_kernel) */
};

struct uprobe_hook {
	bool in_ssl;
	const char *sym;
	bool retprobe;
	bool needs_offset;
	bool past_null_check;
};

static struct bpf_program *hook_prog(struct uprobes_bpf *s, int i)
{
	struct bpf_program *progs[] = {
#define UPROBE_PROG(in_ssl, sym, prog, ret, off, skip) s->progs.prog,
		UPROBE_HOOKS(UPROBE_PROG)
#undef UPROBE_PROG
	};
	return progs[i];
}

static const struct uprobe_hook hooks[] = {
#define UPROBE_HOOK(in_ssl, sym, prog, ret, off, skip) { in_ssl, sym, ret, off, skip },
	UPROBE_HOOKS(UPROBE_HOOK)
#undef UPROBE_HOOK
};

/* The uprobe programs write into the live source's ring and maps. */
static int load(struct uprobes *u, struct live *l, char *err, size_t errlen)
{
	struct { struct bpf_map *map; const char *name; } shared[] = {
		{ u->skel->maps.tw_events, "tw_events" },
		{ u->skel->maps.tw_up_pending, "tw_up_pending" },
		{ u->skel->maps.tw_up_closing, "tw_up_closing" },
		{ u->skel->maps.tw_up_counters, "tw_up_counters" },
	};
	size_t i;
	int r, fd;

	for (i = 0; i < sizeof(shared) / sizeof(shared[0]); i++) {
		fd = live_map_fd(l, shared[i].name);
		r = fd < 0 ? fd : bpf_map__reuse_fd(shared[i].map, fd);
		if (r) {
			snprintf(err, errlen, "uprobes: sharing map %s: %s",
				 shared[i].name, strerror(-r));
			return r;
		}
	}
	r = uprobes_bpf__load(u->skel);
	if (r)
		snprintf(err, errlen, "uprobes: loading the programs: %s", strerror(-r));
	return r;
}

/*
 * The kernel's side, attached before any uprobe can record anything: the
 * pending entries of threads gone go with them (tw_up_task_free), and
 * what SSL_free read goes to the connection its thread closes next
 * (tw_up_tcp_close).
 */
static int attach_kernel(struct uprobes *u, char *err, size_t errlen)
{
	struct { struct bpf_program *prog; const char *what; } k[] = {
		{ u->skel->progs.tw_up_task_free, "the sched_process_free tracepoint" },
		{ u->skel->progs.tw_up_tcp_close, "the inet_sock_set_state tracepoint" },
	};
	size_t i;
	int r;

	_Static_assert(sizeof(k) / sizeof(k[0]) == sizeof(u->kernel) / sizeof(u->kernel[0]),
		       "a link per kernel hook");
	for (i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
		u->kernel[i] = bpf_program__attach_trace(k[i].prog);
		if (!u->kernel[i]) {
			r = -errno;
			snprintf(err, errlen, "uprobes: %s: %s", k[i].what, strerror(-r));
			return r;
		}
	}
	return 0;
}

/* @prog in @lib at @offset from function @func's start (NULL: from the
 * file's), a return probe if @retprobe, with @cookie; @what names it in
 * the error. */
static int attach_at(struct uprobes *u, struct bpf_program *prog,
		     const struct uprobe_lib *lib, const char *func, long offset,
		     bool retprobe, uint64_t cookie, const char *what, char *err,
		     size_t errlen)
{
	LIBBPF_OPTS(bpf_uprobe_opts, uo, .func_name = func, .retprobe = retprobe,
		    .bpf_cookie = cookie);
	struct bpf_link *link;

	if (u->n_links >= UPROBE_MAX_LINKS)
		return -ENOSPC;
	link = bpf_program__attach_uprobe_opts(prog, -1, lib->path, (size_t)offset,
					       &uo);
	if (!link) {
		int r = -errno;

		snprintf(err, errlen, "uprobes: %s in %s: %s", what, lib->path,
			 strerror(-r));
		return r;
	}
	u->links[u->n_links++] = link;
	return 0;
}

/* Every hook of @lib's kind; @alert_off: see uprobe_calibrate(). */
static int attach_lib(struct uprobes *u, const struct uprobe_lib *lib,
		      __u64 alert_off, char *err, size_t errlen)
{
	size_t i;
	int r;

	for (i = 0; i < sizeof(hooks) / sizeof(hooks[0]); i++) {
		if (hooks[i].in_ssl != lib->is_ssl ||
		    (hooks[i].needs_offset && !alert_off) ||
		    (!hooks[i].in_ssl && u->site.offset)) /* i2d_X509: the site's job */
			continue;
		r = attach_at(u, hook_prog(u->skel, i), lib, hooks[i].sym,
			      uprobe_probe_offset(lib->path, hooks[i].sym,
						  hooks[i].past_null_check),
			      hooks[i].retprobe, alert_off, hooks[i].sym, err, errlen);
		if (r)
			return r;
	}
	return 0;
}

/*
 * The writer's site probe, in the libssl it was measured in; where it
 * reads the selected ALPN protocol (and notes the SSL as having sent it),
 * SSL_clear's too (tw_up_clear_enter: an SSL made ready for another
 * connection is a new one). SSL_clear's probe place is its first
 * instruction past an endbr64, as for every hook.
 */
static int attach_site(struct uprobes *u, const struct uprobe_lib *lib,
		       char *err, size_t errlen)
{
	uint64_t cookie = uprobe_site_cookie(&u->site, lib->alert_off.alpn,
					     lib->alert_off.server);
	int r;

	if (!u->site.offset || lib->dev != u->site.dev || lib->ino != u->site.ino)
		return 0;
	r = attach_at(u, u->skel->progs.tw_up_cert_site, lib, NULL, u->site.offset,
		      false, cookie, "the certificate writer", err, errlen);
	if (r || !((cookie >> (TW_UP_SITE_ALPN * TW_UP_OFF_BITS)) & TW_UP_OFF_MASK))
		return r;
	return attach_at(u, u->skel->progs.tw_up_clear_enter, lib, "SSL_clear",
			 uprobe_probe_offset(lib->path, "SSL_clear", false), false, 0,
			 "SSL_clear", err, errlen);
}

/*
 * The writer's site, when every libssl hooked is the agent's own (where it
 * is measured): else none, and the i2d_X509 hooks, which see every
 * library's writes, read the certificates.
 */
static void find_site(struct uprobes *u)
{
	int i;

	if (uprobe_site_find(u->skel, &u->site))
		return;
	for (i = 0; i < u->n_libs; i++)
		if (u->libs[i].is_ssl && (u->libs[i].dev != u->site.dev ||
					  u->libs[i].ino != u->site.ino))
			memset(&u->site, 0, sizeof(u->site));
}

static void read_exe(int pid, char *exe, size_t len)
{
	char path[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	n = readlink(path, exe, len - 1);
	exe[n > 0 ? n : 0] = '\0';
}

static void note_unsupported(int pid, const char *exe, const char *other,
			     uprobes_note_fn note, void *ctx)
{
	char msg[512];

	snprintf(msg, sizeof(msg),
		 "pid %d (%s) listens on a watched port without OpenSSL 3 (%s): "
		 "its TLS 1.3 certificates are learned by the active check only",
		 pid, exe[0] ? exe : "?", other[0] ? other : "no TLS library mapped");
	if (note)
		note(ctx, "uprobes_unsupported", msg);
}

/* auto: the libraries of the processes that listen on the watched ports,
 * then the system's OpenSSL 3 (the agent's own). */
static int find_auto(struct live *l, struct uprobes *u,
		     const struct uprobes_opts *o, uprobes_note_fn note, void *ctx)
{
	uint64_t *inodes = calloc(UPROBES_MAX_LISTEN, sizeof(*inodes));
	char other[64], exe[TW_VIEW_EXE_MAX];
	struct dirent *de;
	int n, pid;
	DIR *d;

	if (!inodes)
		return -ENOMEM;
	n = uprobe_listen_inodes(o->ports, o->n_ports, inodes, UPROBES_MAX_LISTEN);
	d = n > 0 ? opendir("/proc") : NULL;
	while (d && (de = readdir(d))) {
		pid = atoi(de->d_name);
		if (pid <= 0 || !uprobe_pid_holds(pid, inodes, n))
			continue;
		read_exe(pid, exe, sizeof(exe));
		live_view_note_exe(l, pid, exe);
		if (uprobe_pid_libs(pid, u->libs, &u->n_libs, UPROBES_MAX_LIBS,
				    other, sizeof(other)) <= 0)
			note_unsupported(pid, exe, other, note, ctx);
	}
	if (d)
		closedir(d);
	free(inodes);
	uprobe_pid_libs(-1, u->libs, &u->n_libs, UPROBES_MAX_LIBS, other,
			sizeof(other));
	return 0;
}

static int find_paths(struct uprobes *u, const struct uprobes_opts *o,
		      char *err, size_t errlen)
{
	struct stat st;
	int i, kind;

	for (i = 0; i < o->n_paths && u->n_libs < UPROBES_MAX_LIBS; i++) {
		kind = uprobe_lib_kind(o->paths[i]);
		if (kind <= 0) {
			snprintf(err, errlen, "--uprobes: %s is not libssl.so.3 or libcrypto.so.3",
				 o->paths[i]);
			return -EINVAL;
		}
		if (stat(o->paths[i], &st)) {
			snprintf(err, errlen, "--uprobes: %s: %s", o->paths[i],
				 strerror(errno));
			return -errno;
		}
		snprintf(u->libs[u->n_libs].path, sizeof(u->libs[0].path), "%s",
			 o->paths[i]);
		u->libs[u->n_libs].dev = st.st_dev;
		u->libs[u->n_libs].ino = st.st_ino;
		u->libs[u->n_libs++].is_ssl = kind == 1;
	}
	return 0;
}

/*
 * The offsets of the alerts in @lib's SSL objects: measured in the libssl
 * this process links (uprobe_calibrate()), so known only for a server that
 * maps that same file; zeros otherwise.
 */
static struct uprobe_alert_offsets alert_offsets(const struct uprobe_lib *lib)
{
	static struct uprobe_alert_offsets measured;
	static bool done;
	struct uprobe_alert_offsets none = { 0, 0, 0, 0 };
	struct uprobe_lib ssl, crypto;

	if (!lib->is_ssl || uprobe_own_libs(&ssl, &crypto) ||
	    ssl.dev != lib->dev || ssl.ino != lib->ino)
		return none;
	if (!done)
		measured = uprobe_calibrate();
	done = true;
	return measured;
}

/* Why @lib's alerts and ALPN protocols are not followed, or "". */
static const char *lib_unfollowed(const struct uprobe_lib *lib)
{
	if (!lib->is_ssl)
		return "";
	if (!lib->alert_off.sent)
		return " (alerts and ALPN not followed: not the agent's own libssl)";
	/* SSL_free reads nothing of an SSL not known to be a server's */
	if (!uprobe_cookie_field(lib->alert_off.server, TW_UP_OFF_SERVER))
		return " (alerts and ALPN not followed: a server's SSL not told from a client's)";
	return "";
}

static void note_attached(const struct uprobes *u, uprobes_note_fn note,
			  void *ctx)
{
	char msg[1024];
	size_t off;
	int i;

	off = snprintf(msg, sizeof(msg), "uprobes on");
	if (u->site.offset)
		off += snprintf(msg + off, sizeof(msg) - off,
				" (certificates read where libssl writes them, offset %#lx%s)",
				u->site.offset, u->site.ssl_reg && uprobes_follow_alpn(u) ?
				", the selected ALPN protocol with them" : "");
	for (i = 0; i < u->n_libs && off < sizeof(msg); i++)
		off += snprintf(msg + off, sizeof(msg) - off, " %s%s", u->libs[i].path,
				lib_unfollowed(&u->libs[i]));
	if (note)
		note(ctx, "uprobes_attached", msg);
}

int uprobes_open(struct live *l, const struct uprobes_opts *o,
		 uprobes_note_fn note, void *note_ctx, struct uprobes **out,
		 char *err, size_t errlen)
{
	struct uprobes *u = calloc(1, sizeof(*u));
	int r, i;

	*out = NULL;
	if (!u)
		return -ENOMEM;
	r = o->auto_find ? find_auto(l, u, o, note, note_ctx)
			 : find_paths(u, o, err, errlen);
	if (!r && u->n_libs == 0) {
		snprintf(err, errlen, "uprobes: no OpenSSL 3 library found");
		r = -ENOENT;
	}
	if (!r) {
		u->skel = uprobes_bpf__open();
		r = u->skel ? load(u, l, err, errlen) : -errno;
	}
	if (!r)
		r = attach_kernel(u, err, errlen);
	if (!r)
		find_site(u);
	for (i = 0; !r && i < u->n_libs; i++) {
		u->libs[i].alert_off = alert_offsets(&u->libs[i]);
		r = attach_lib(u, &u->libs[i], uprobe_offsets_cookie(u->libs[i].alert_off),
			       err, errlen);
		if (!r)
			r = attach_site(u, &u->libs[i], err, errlen);
	}
	if (r) {
		uprobes_close(u);
		return r;
	}
	note_attached(u, note, note_ctx);
	*out = u;
	return 0;
}

void uprobes_close(struct uprobes *u)
{
	int i;

	if (!u)
		return;
	for (i = 0; i < u->n_links; i++)
		bpf_link__destroy(u->links[i]);
	for (i = 0; i < (int)(sizeof(u->kernel) / sizeof(u->kernel[0])); i++)
		bpf_link__destroy(u->kernel[i]);
	uprobes_bpf__destroy(u->skel);
	free(u);
}

int uprobes_counters(const struct live *l, uint64_t out[TW_UP_CNT__MAX])
{
	int fd = live_map_fd(l, "tw_up_counters"), ncpu, c, i, r;
	struct tw_up_counters *per;
	uint32_t zero = 0;

	memset(out, 0, sizeof(uint64_t) * TW_UP_CNT__MAX);
	ncpu = libbpf_num_possible_cpus();
	if (fd < 0 || ncpu <= 0)
		return fd < 0 ? fd : ncpu;
	per = calloc(ncpu, sizeof(*per));
	if (!per)
		return -ENOMEM;
	r = bpf_map_lookup_elem(fd, &zero, per) ? -errno : 0;
	for (c = 0; !r && c < ncpu; c++)
		for (i = 0; i < TW_UP_CNT__MAX; i++)
			out[i] += per[c].c[i];
	free(per);
	return r;
}

bool uprobes_follow_alpn(const struct uprobes *u)
{
	int i;

	for (i = 0; u && i < u->n_libs; i++)
		/* SSL_free reads the protocol of a server's SSL only */
		if (u->libs[i].is_ssl &&
		    uprobe_cookie_field(u->libs[i].alert_off.alpn, TW_UP_OFF_ALPN) &&
		    uprobe_cookie_field(u->libs[i].alert_off.server, TW_UP_OFF_SERVER))
			return true;
	return false;
}
