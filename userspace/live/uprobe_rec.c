// SPDX-License-Identifier: MIT
/*
 * TW_EV_UP_* ring buffer records -> struct tw_server_view. Certificates
 * arrive in chunks, and the selected ALPN protocol in one record, tagged
 * with their handshake id, before the packet that names their connection
 * (TW_EV_UP_BIND, same ring, so in order); they wait here, a bounded
 * number of them for a bounded time.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "uprobes.h"

/* A chain whose packet never came (the thread sent nothing on a watched
 * flow: a client's certificate, a tool that encodes certificates) is
 * forgotten after this long, or when a newer one needs its slot. */
#define UP_ASM_SLOTS      256
#define UP_ASM_EXES       64      /* processes whose executable is known */
#define UP_ASM_MAX_AGE_NS (5ull * 1000000000)

struct up_chain {
	uint64_t hs_id;               /* 0: free slot */
	uint64_t ts_ns;
	uint32_t tgid;
	char comm[16];
	char exe[TW_VIEW_EXE_MAX];    /* from the kernel, "" when unknown */
	uint8_t n;                    /* certificates announced */
	bool lost, truncated;
	uint8_t *der[TW_VIEW_MAX_CERTS];
	uint32_t len[TW_VIEW_MAX_CERTS];
	uint32_t have[TW_VIEW_MAX_CERTS];
	uint8_t alpn_len;             /* TW_EV_UP_ALPN: 0 none */
	uint8_t alpn[TW_UP_ALPN_MAX];
};

struct up_exe {
	uint32_t pid;
	char path[TW_VIEW_EXE_MAX];
};

struct up_asm {
	struct up_chain slot[UP_ASM_SLOTS];
	struct up_asm_stats st;
	/* executables by pid, a ring: those noted while the agent could
	 * read them (up_asm_note_exe), and those looked up since */
	struct up_exe exe[UP_ASM_EXES];
	unsigned n_exe;
};

struct up_asm *up_asm_new(void)
{
	return calloc(1, sizeof(struct up_asm));
}

static void chain_clear(struct up_chain *c)
{
	int i;

	for (i = 0; i < TW_VIEW_MAX_CERTS; i++)
		free(c->der[i]);
	memset(c, 0, sizeof(*c));
}

void up_asm_free(struct up_asm *a)
{
	int i;

	if (!a)
		return;
	for (i = 0; i < UP_ASM_SLOTS; i++)
		chain_clear(&a->slot[i]);
	free(a);
}

const struct up_asm_stats *up_asm_stats(const struct up_asm *a)
{
	return &a->st;
}

/* hs_id 0 marks a free slot: it finds none (the kernel counts from 1, and
 * up_asm_record() refuses a certificate or ALPN record under 0, whose
 * bytes would otherwise stay in a free slot for the next handshake). */
static struct up_chain *chain_find(struct up_asm *a, uint64_t hs_id)
{
	int i;

	if (!hs_id)
		return NULL;
	for (i = 0; i < UP_ASM_SLOTS; i++)
		if (a->slot[i].hs_id == hs_id)
			return &a->slot[i];
	return NULL;
}

/* Whether @c holds a chain (else only an ALPN protocol: a client's SSL
 * freed, or a connection closed on no watched flow, is no lost chain). */
static bool chain_counts(const struct up_chain *c)
{
	return c->n || c->lost || c->truncated;
}

/* A slot for a new chain: a free one, else the oldest (a chain counted). */
static struct up_chain *chain_new(struct up_asm *a, uint64_t hs_id,
				  uint64_t ts_ns)
{
	struct up_chain *c = NULL;
	int i;

	for (i = 0; i < UP_ASM_SLOTS; i++) {
		struct up_chain *s = &a->slot[i];

		if (s->hs_id && ts_ns - s->ts_ns > UP_ASM_MAX_AGE_NS) {
			a->st.chains_unbound += chain_counts(s);
			chain_clear(s);
		}
		if (!s->hs_id && !c)
			c = s;
	}
	if (!c) {
		c = &a->slot[0];
		for (i = 1; i < UP_ASM_SLOTS; i++)
			if (a->slot[i].ts_ns < c->ts_ns)
				c = &a->slot[i];
		a->st.chains_unbound += chain_counts(c);
		chain_clear(c);
	}
	c->hs_id = hs_id;
	c->ts_ns = ts_ns;
	return c;
}

/* "/usr/sbin/nginx" from the kernel's components, file name first. */
static void exe_join(const struct tw_up_info *in, char *out, size_t len)
{
	size_t off = 0;
	int i;

	out[0] = '\0';
	for (i = in->exe_parts - 1; i >= 0 && i < TW_UP_EXE_PARTS; i--) {
		int n = snprintf(out + off, len - off, "/%.*s", TW_UP_EXE_PART - 1,
				 in->exe[i]);

		if (n < 0 || (size_t)n >= len - off) {
			out[0] = '\0';
			return;
		}
		off += n;
	}
}

/* One chunk of one certificate (TW_EV_UP_CERT). */
static int on_cert(struct up_asm *a, const struct tw_event *e,
		   const struct tw_up_info *in, const uint8_t *bytes)
{
	struct up_chain *c = chain_find(a, in->hs_id);
	uint16_t i = in->cert_index;

	if (!c)
		c = chain_new(a, in->hs_id, e->ts_ns);
	c->tgid = in->tgid;
	memcpy(c->comm, in->comm, sizeof(c->comm));
	c->comm[sizeof(c->comm) - 1] = '\0';
	if (in->cert_index == 0 && e->chunk_off == 0 && in->exe_parts)
		exe_join(in, c->exe, sizeof(c->exe));
	if (in->flags & TW_UPF_TOO_BIG) {
		a->st.certs_too_big++;
		c->lost = true;
		return 0;
	}
	if (i >= TW_VIEW_MAX_CERTS) {
		c->truncated = true;
		return 0;
	}
	if (i + 1 > c->n)
		c->n = i + 1;
	if (!c->der[i]) {
		if (e->chunk_off != 0) { /* its first chunk was lost */
			c->lost = true;
			return 0;
		}
		c->der[i] = malloc(e->wire_len);
		if (!c->der[i]) {
			c->lost = true;
			return -ENOMEM;
		}
		c->len[i] = e->wire_len;
	}
	if (e->wire_len != c->len[i] || e->chunk_off != c->have[i]) {
		c->lost = true; /* a chunk in between went missing */
		return 0;
	}
	memcpy(c->der[i] + c->have[i], bytes, e->chunk_len);
	c->have[i] += e->chunk_len;
	return 0;
}

/* The ALPN protocol the library selected (TW_EV_UP_ALPN). */
static void on_alpn(struct up_asm *a, const struct tw_event *e,
		    const struct tw_up_info *in, const uint8_t *bytes)
{
	struct up_chain *c = chain_find(a, in->hs_id);

	if (!c)
		c = chain_new(a, in->hs_id, e->ts_ns);
	c->tgid = in->tgid;
	memcpy(c->comm, in->comm, sizeof(c->comm));
	c->comm[sizeof(c->comm) - 1] = '\0';
	c->alpn_len = (uint8_t)e->chunk_len;
	memcpy(c->alpn, bytes, e->chunk_len);
}

/* The entry of @pid, or NULL. */
static struct up_exe *exe_slot(struct up_asm *a, uint32_t pid)
{
	int i;

	for (i = 0; i < UP_ASM_EXES; i++)
		if (a->exe[i].pid == pid && pid)
			return &a->exe[i];
	return NULL;
}

void up_asm_note_exe(struct up_asm *a, uint32_t pid, const char *path)
{
	/* a pid noted before is replaced where it is: a lookup finds the
	 * first entry of a pid, which would stay the dead process's */
	struct up_exe *e = exe_slot(a, pid);

	if (!e)
		e = &a->exe[a->n_exe++ % UP_ASM_EXES];
	e->pid = pid;
	snprintf(e->path, sizeof(e->path), "%s", path);
}

static const char *exe_known(struct up_asm *a, uint32_t pid)
{
	const struct up_exe *e = exe_slot(a, pid);

	return e ? e->path : NULL;
}

/* /proc/PID/stat: "pid (comm) state ppid ..."; comm may hold ") ". */
static uint32_t parent_of(uint32_t pid)
{
	char path[64], buf[512], *p;
	unsigned ppid = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%u/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
	if (!p || sscanf(p, ") %*c %u", &ppid) != 1)
		ppid = 0;
	fclose(f);
	return ppid;
}

/*
 * The executable of @pid: read from /proc while the agent may (it keeps
 * no CAP_SYS_PTRACE once started), else its parent's when that is known
 * (the workers a server's master starts, at a reload too), else "".
 */
static const char *exe_of(struct up_asm *a, uint32_t pid)
{
	const char *known = exe_known(a, pid);
	char path[64], exe[TW_VIEW_EXE_MAX];
	ssize_t n;

	if (known)
		return known;
	snprintf(path, sizeof(path), "/proc/%u/exe", pid);
	n = readlink(path, exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
	} else {
		known = exe_known(a, parent_of(pid));
		if (!known)
			return "";
		snprintf(exe, sizeof(exe), "%s", known);
	}
	up_asm_note_exe(a, pid, exe);
	return exe_known(a, pid);
}

/* Fills @v's chain from @c; false when a certificate is incomplete. */
static bool chain_to_view(const struct up_chain *c, struct tw_server_view *v)
{
	int i;

	for (i = 0; i < c->n; i++) {
		if (!c->der[i] || c->have[i] != c->len[i])
			return false;
		v->certs[i].der = c->der[i];
		v->certs[i].len = c->len[i];
	}
	v->n_certs = c->n;
	return true;
}

/* The packet that names a connection (TW_EV_UP_BIND). */
static void on_bind(struct up_asm *a, const struct tw_event *e,
		    const struct tw_event_tail *t, const struct tw_up_info *in,
		    int64_t mono_to_real_ns, tw_server_view_fn fn, void *ctx)
{
	struct up_chain *c = (in->flags & (TW_UPF_CHAIN | TW_UPF_ALPN)) ?
			     chain_find(a, in->hs_id) : NULL;
	struct tw_server_view v;

	memset(&v, 0, sizeof(v));
	v.ts_us = (e->ts_ns + (uint64_t)mono_to_real_ns) / 1000;
	/* the server sent it: source is the server */
	live_record_endpoints(e, t, &v.server, &v.client);
	v.pid = in->tgid;
	v.exe = "";
	if (in->flags & TW_UPF_ALERT) {
		v.has_alert = true;
		v.alert = in->alert;
	}
	if (in->flags & TW_UPF_ALERT_SENT) {
		v.has_alert_sent = true;
		v.alert_sent = in->alert_sent;
	}
	if (c && c->alpn_len && (in->flags & TW_UPF_ALPN)) {
		v.alpn = c->alpn;
		v.alpn_len = c->alpn_len;
		if (!(in->flags & TW_UPF_CHAIN)) { /* a resumed connection's */
			v.exe = exe_of(a, c->tgid);
			v.comm = c->comm;
		}
		a->st.alpns_bound++;
	}
	if (c && (in->flags & TW_UPF_CHAIN)) {
		/* the kernel's, kept for the process's connections that
		 * serve no chain (resumed): the agent may not read it; one
		 * that differs is of a new process under a reused pid */
		const char *known = exe_known(a, c->tgid);

		if (c->exe[0] && (!known || strcmp(known, c->exe)))
			up_asm_note_exe(a, c->tgid, c->exe);
		v.exe = c->exe[0] ? c->exe : exe_of(a, c->tgid);
		v.comm = c->comm;
		v.chain_truncated = c->truncated;
		v.chain_lost = c->lost || c->n != in->cert_index ||
			       !chain_to_view(c, &v);
		if (v.chain_lost) {
			v.n_certs = 0;
			a->st.chains_lost++;
		} else {
			a->st.chains_bound++;
		}
	} else if (in->flags & TW_UPF_CHAIN) {
		v.chain_lost = true; /* its certificates never came */
		a->st.chains_lost++;
	}
	a->st.alerts_bound += v.has_alert + v.has_alert_sent;
	if (fn)
		fn(ctx, &v);
	if (c)
		chain_clear(c);
}

int up_asm_record(struct up_asm *a, const void *rec, size_t size,
		  int64_t mono_to_real_ns, tw_server_view_fn fn, void *ctx)
{
	const struct tw_event *e = rec;
	struct tw_event_tail tail;
	struct tw_up_info in;
	size_t head = sizeof(*e) + sizeof(in), room;

	/* header, info, room for the bytes, the tail (event.h) */
	if (size < head + sizeof(tail) || live_record_tail(rec, size, &tail)) {
		a->st.bad_records++;
		return -EINVAL;
	}
	room = size - head - sizeof(tail);
	memcpy(&in, (const uint8_t *)rec + sizeof(*e), sizeof(in));
	switch (e->kind) {
	case TW_EV_UP_CERT:
		if (!in.hs_id || e->chunk_len > TW_UP_CHUNK || e->chunk_len > room ||
		    (e->wire_len > TW_UP_CHUNK * TW_UP_MAX_CHUNKS &&
		     !(in.flags & TW_UPF_TOO_BIG)) ||
		    e->chunk_off > e->wire_len ||
		    e->chunk_len > e->wire_len - e->chunk_off)
			break;
		return on_cert(a, e, &in, (const uint8_t *)rec + head);
	case TW_EV_UP_ALPN:
		if (!in.hs_id || e->chunk_len == 0 || e->chunk_len > TW_UP_ALPN_MAX ||
		    e->chunk_len > room || e->chunk_off != 0 ||
		    e->wire_len != e->chunk_len)
			break;
		on_alpn(a, e, &in, (const uint8_t *)rec + head);
		return 0;
	case TW_EV_UP_BIND:
		if (e->family != 4 && e->family != 6)
			break;
		on_bind(a, e, &tail, &in, mono_to_real_ns, fn, ctx);
		return 0;
	default:
		break;
	}
	a->st.bad_records++;
	return -EINVAL;
}
