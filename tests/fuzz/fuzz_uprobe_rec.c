// SPDX-License-Identifier: MIT
/*
 * up_asm_record() (userspace/live/uprobe_rec.c), the entry point the live
 * source hands every TW_EV_UP_* ring buffer record to, on sequences of
 * records. The first byte chooses how the rest is read:
 *
 * even: raw records, each a 2-byte big-endian size then that many bytes
 *       (an exact-size heap copy, so ASan sees a read past a record);
 * odd:  structure-aware, up to MAX_RECS records with well-formed headers
 *       and chosen kinds, handshake ids (a few, so they collide; 0 too;
 *       or a new one each, enough to fill every waiting slot),
 *       times (forward, backward, far), certificate indexes past the
 *       chain's bound, lengths, offsets and chunk sizes around the caps,
 *       flags, binds with chain counts, alerts and ALPN flags.
 *
 * Certificate and ALPN bytes are a function of (handshake id, index,
 * length, position), so a view can be checked byte for byte. Properties:
 * a view comes only from an accepted bind, exactly one per bind; its
 * chain is the one of the bind's handshake id, every byte where that
 * handshake's records put it, at most TW_VIEW_MAX_CERTS certificates of
 * at most TW_UP_MAX_CHUNKS chunks, none when lost; its ALPN that
 * handshake's, whole; alerts as the bind said. Every record is accepted
 * or counted in bad_records (-EINVAL); a bind with a chain is counted
 * once, bound or lost; a bound chain has the count the bind announced.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "live/uprobes.h"
#include "fuzz_input.h"

#define MAX_RECS 320 /* past the 256 waiting chains: the oldest goes */
#define HEAD (sizeof(struct tw_event) + sizeof(struct tw_up_info))
#define TAIL sizeof(struct tw_event_tail) /* a record's last bytes */
#define REC_MAX (HEAD + TW_UP_CHUNK + TAIL)
#define CERT_MAX ((uint32_t)TW_UP_CHUNK * TW_UP_MAX_CHUNKS)
#define ALPN_INDEX 0xffff
/* no such process: exe_of() finds nothing in /proc, every run the same */
#define TGID_BASE 0x7fff0000u

struct expect {
	int views;
	bool is_bind;
	struct tw_up_info in;
};

static uint8_t pattern(uint64_t hs, uint32_t index, uint32_t len, uint32_t pos)
{
	uint64_t x = hs * 0x9E3779B97F4A7C15ull ^ index * 0xC2B2AE3D27D4EB4Full ^
		     len * 0x165667B19E3779F9ull ^ pos * 0x27D4EB2F165667C5ull;

	x ^= x >> 29;
	x *= 0xBF58476D1CE4E5B9ull;
	x ^= x >> 32;
	return (uint8_t)x;
}

static void check_bytes(const uint8_t *p, uint32_t len, uint64_t hs,
			uint32_t index)
{
	uint32_t i;

	if (len && !p)
		abort();
	for (i = 0; i < len; i++)
		if (p[i] != pattern(hs, index, len, i))
			abort(); /* a byte not of this handshake, or misplaced */
}

static void on_view(void *ctx, const struct tw_server_view *v)
{
	struct expect *x = ctx;
	const struct tw_up_info *in = &x->in;
	int i;

	if (!x->is_bind || x->views++)
		abort();
	if (v->n_certs > TW_VIEW_MAX_CERTS || (v->chain_lost && v->n_certs) ||
	    (v->n_certs && !(in->flags & TW_UPF_CHAIN)))
		abort();
	for (i = 0; i < v->n_certs; i++) {
		if (v->certs[i].len > CERT_MAX)
			abort();
		check_bytes(v->certs[i].der, v->certs[i].len, in->hs_id, i);
	}
	if (v->alpn_len && !(in->flags & TW_UPF_ALPN))
		abort();
	check_bytes(v->alpn, v->alpn_len, in->hs_id, ALPN_INDEX);
	if (v->has_alert != !!(in->flags & TW_UPF_ALERT) ||
	    (v->has_alert && v->alert != in->alert) ||
	    v->has_alert_sent != !!(in->flags & TW_UPF_ALERT_SENT) ||
	    (v->has_alert_sent && v->alert_sent != in->alert_sent))
		abort();
	if (v->pid != in->tgid || !v->exe || (v->comm && strlen(v->comm) > 15))
		abort();
}

static bool show; /* FUZZ_UPROBE_SHOW=1: one line per record on stderr */

/* Feeds one record (an exact-size copy) and checks what it moved. */
static void feed(struct up_asm *a, const uint8_t *rec, size_t size)
{
	struct up_asm_stats before = *up_asm_stats(a), after;
	const struct tw_event *e = (const struct tw_event *)rec;
	struct expect x = { 0 };
	uint64_t chains;
	uint8_t *copy;
	int rc;

	copy = malloc(size ? size : 1);
	if (!copy)
		return;
	memcpy(copy, rec, size);
	if (size >= HEAD) {
		memcpy(&x.in, rec + sizeof(*e), sizeof(x.in));
		x.is_bind = e->kind == TW_EV_UP_BIND;
	}
	rc = up_asm_record(a, copy, size, 0, on_view, &x);
	free(copy);
	if (show)
		fprintf(stderr, "kind %u hs %llu ts %llu index %u flags 0x%x len %u off %u chunk %u size %zu: %d\n",
			size >= HEAD ? e->kind : 0, (unsigned long long)x.in.hs_id,
			size >= HEAD ? (unsigned long long)e->ts_ns : 0ull,
			x.in.cert_index, x.in.flags, size >= HEAD ? e->wire_len : 0,
			size >= HEAD ? e->chunk_off : 0, size >= HEAD ? e->chunk_len : 0, size, rc);
	after = *up_asm_stats(a);
	if ((rc == -EINVAL) != (after.bad_records == before.bad_records + 1) ||
	    (rc && rc != -EINVAL && rc != -ENOMEM))
		abort();
	if (x.is_bind && after.chains_unbound != before.chains_unbound)
		abort(); /* only a new chain pushes an old one out */
	if (x.views != (x.is_bind && !rc))
		abort(); /* a view without its bind, or a bind without view */
	chains = after.chains_bound + after.chains_lost -
		 before.chains_bound - before.chains_lost;
	if (chains != (x.views && (x.in.flags & TW_UPF_CHAIN)))
		abort();
}

/* --- raw records */

static void run_raw(struct up_asm *a, struct fuzz_input *g)
{
	uint8_t rec[REC_MAX];
	size_t n, i;

	while (g->left) {
		n = fuzz_take(g, 2) % (REC_MAX + 1);
		for (i = 0; i < n; i++)
			rec[i] = (uint8_t)fuzz_take(g, 1);
		if (n >= HEAD) /* tgid's high bits: see TGID_BASE */
			rec[sizeof(struct tw_event) + offsetof(struct tw_up_info, tgid) + 3] |= 0x7f;
		feed(a, rec, n);
	}
}

/* --- structure-aware records */

struct gen {
	struct fuzz_input *g;
	uint64_t ts;
	uint64_t next_hs;              /* the ids "a new one" hands out */
	uint8_t rec[REC_MAX];
};

static uint64_t pick_hs(struct gen *s)
{
	uint64_t v = fuzz_take(s->g, 1);

	if (v & 0x80)
		return fuzz_take(s->g, 8);
	return (v & 0x40) ? s->next_hs++ : v & 7;
}

static void pick_time(struct gen *s)
{
	uint8_t how = (uint8_t)fuzz_take(s->g, 1);

	if (how == 0xff)
		s->ts = fuzz_take(s->g, 8);               /* anywhere */
	else if (how >= 0xf0)
		s->ts -= fuzz_take(s->g, 2) * 1000000ull; /* backwards */
	else
		s->ts += (uint64_t)how * how * 1000000ull; /* up to 65 s */
}

/* The header every kind shares; the record's size without its bytes. */
static struct tw_up_info *head(struct gen *s, uint8_t kind, uint64_t hs)
{
	struct tw_event *e = (struct tw_event *)s->rec;
	struct tw_up_info *in = (struct tw_up_info *)(s->rec + sizeof(*e));

	memset(s->rec, 0, HEAD);
	pick_time(s);
	e->ts_ns = s->ts;
	e->kind = kind;
	in->hs_id = hs;
	in->tgid = TGID_BASE | (uint32_t)fuzz_take(s->g, 1);
	in->tid = in->tgid;
	in->flags = (uint8_t)fuzz_take(s->g, 1);
	return in;
}

static void put_bytes(struct gen *s, uint64_t hs, uint32_t index,
		      uint32_t len, uint32_t off, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		s->rec[HEAD + i] = pattern(hs, index, len, off + i);
}

/* A chunk of a certificate, most often one a server would send. */
static size_t gen_cert(struct gen *s, uint64_t hs)
{
	struct tw_up_info *in = head(s, TW_EV_UP_CERT, hs);
	struct tw_event *e = (struct tw_event *)s->rec;
	uint8_t odd = (uint8_t)fuzz_take(s->g, 1);
	uint32_t len, off, n;
	int k;

	in->cert_index = (uint16_t)(fuzz_take(s->g, 1) % (TW_VIEW_MAX_CERTS + 3));
	len = (uint32_t)fuzz_take(s->g, 3) % (CERT_MAX + 2 * TW_UP_CHUNK);
	off = (uint32_t)(fuzz_take(s->g, 1) % (TW_UP_MAX_CHUNKS + 2)) * TW_UP_CHUNK;
	if (odd & 1)
		off = (uint32_t)fuzz_take(s->g, 3);
	n = off < len ? len - off : 0;
	if (n > TW_UP_CHUNK)
		n = TW_UP_CHUNK;
	if (odd & 2)
		n = (uint32_t)fuzz_take(s->g, 2) % (TW_UP_CHUNK + 2);
	e->wire_len = len;
	e->chunk_off = off;
	e->chunk_len = n;
	if (n > TW_UP_CHUNK)
		n = TW_UP_CHUNK;
	for (k = 0; k < 16; k++)
		in->comm[k] = (char)fuzz_take(s->g, 1);
	in->exe_parts = (uint8_t)fuzz_take(s->g, 1) % (TW_UP_EXE_PARTS + 2);
	for (k = 0; k < TW_UP_EXE_PARTS; k++)
		memset(in->exe[k], 'a' + k, fuzz_take(s->g, 1) % (TW_UP_EXE_PART + 1));
	put_bytes(s, hs, in->cert_index, len, off, n);
	return HEAD + n + TAIL -
	       ((odd & 4) ? fuzz_take(s->g, 1) % (HEAD + n + TAIL + 1) : 0);
}

static size_t gen_alpn(struct gen *s, uint64_t hs)
{
	struct tw_event *e = (struct tw_event *)s->rec;
	uint32_t n;

	head(s, TW_EV_UP_ALPN, hs);
	n = (uint32_t)fuzz_take(s->g, 1) + (fuzz_take(s->g, 1) == 0xff);
	e->wire_len = n;
	e->chunk_len = n;
	if (fuzz_take(s->g, 1) == 0xff) { /* inconsistent */
		e->wire_len = (uint32_t)fuzz_take(s->g, 2);
		e->chunk_off = (uint32_t)fuzz_take(s->g, 1);
	}
	put_bytes(s, hs, ALPN_INDEX, n, 0, n);
	return HEAD + n + TAIL;
}

static size_t gen_bind(struct gen *s, uint64_t hs, uint8_t kind)
{
	struct tw_up_info *in = head(s, kind, hs);
	struct tw_event *e = (struct tw_event *)s->rec;
	struct tw_event_tail *t = (struct tw_event_tail *)(s->rec + HEAD);
	uint8_t fam = (uint8_t)fuzz_take(s->g, 1);

	e->family = fam < 0x80 ? 4 : fam < 0xf0 ? 6 : fam;
	e->saddr[0] = 192;
	e->daddr[0] = 198;
	t->saddr6[0] = 0x20; /* IPv6: in the tail */
	t->daddr6[0] = 0x20;
	e->sport = 443;
	e->dport = (uint16_t)fuzz_take(s->g, 2);
	in->cert_index = (uint16_t)(fuzz_take(s->g, 1) % (TW_VIEW_MAX_CERTS + 3));
	in->alert = (uint8_t)fuzz_take(s->g, 1);
	in->alert_sent = (uint8_t)fuzz_take(s->g, 1);
	return HEAD + TAIL;
}

static void run_structured(struct up_asm *a, struct fuzz_input *g)
{
	static struct gen s;
	int r;

	memset(&s, 0, sizeof(s));
	s.g = g;
	s.ts = 1000000000ull;
	s.next_hs = 1000;
	for (r = 0; r < MAX_RECS && g->left; r++) {
		uint8_t op = (uint8_t)fuzz_take(g, 1);
		uint64_t hs = pick_hs(&s);
		size_t n;

		switch (op % 4) {
		case 0:
			n = gen_cert(&s, hs);
			break;
		case 1:
			n = gen_alpn(&s, hs);
			break;
		case 2:
			n = gen_bind(&s, hs, TW_EV_UP_BIND);
			break;
		default: /* any kind, a bind's body */
			n = gen_bind(&s, hs, op >> 2);
			break;
		}
		feed(a, s.rec, n);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input g = { data, size };
	struct up_asm *a = up_asm_new();

	if (!a)
		return 0;
	show = getenv("FUZZ_UPROBE_SHOW") != NULL;
	if (fuzz_take(&g, 1) & 1)
		run_structured(a, &g);
	else
		run_raw(a, &g);
	up_asm_free(a);
	return 0;
}
