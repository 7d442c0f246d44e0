// SPDX-License-Identifier: MIT
/*
 * How far each side of a flow is known to have got in sequence space, and
 * the one thing that is for: whether an RST is plausible for its sender.
 * The window and why it is what it is: TW_RST_WINDOW in tlswatch/event.h,
 * which the kernel side applies the same way, so that `analyze` of a
 * capture and the live agent end the same flows.
 *
 * Every segment of a flow is learnt from, decided flows' too (a spoofed RST
 * after the handshake would otherwise end the flow, and its later packets
 * begin another one, counted as a flow that is not TLS).
 */
#include "flow_internal.h"
#include "tlswatch/event.h"

/* Moves @d's reference to @seq when that is further along and near it, or
 * when none was known. */
static void seq_advance(struct reasm_dir *d, uint32_t seq)
{
	if (!d->has_ref) {
		d->seq_ref = seq;
		d->has_ref = true;
	} else if (tw_seq_moves_ref(d->seq_ref, seq)) {
		d->seq_ref = seq;
	}
}

void flow_seq_learn(struct flow_entry *fe, int from, const struct tw_segment *seg)
{
	uint8_t flags = seg->tcp_flags;
	uint32_t end = seg->seq + seg->wire_len + ((flags & TW_TCP_SYN) ? 1 : 0) +
		       ((flags & TW_TCP_FIN) ? 1 : 0);

	seq_advance(&fe->dir[from], end);
	if (flags & TW_TCP_ACK)
		seq_advance(&fe->dir[!from], seg->ack);
}

/* A sender not heard from yet (nothing to judge by: an RST answering a
 * SYN, seq 0, is one), or one whose bytes the source stopped giving in
 * full (a gap or a cut segment: live, the kernel's copy budget; the kernel
 * went on following it and judged the RST itself), is taken at its word. */
bool flow_rst_plausible(const struct flow_entry *fe, int from,
			const struct tw_segment *seg)
{
	const struct reasm_dir *d = &fe->dir[from];

	if (!d->has_ref || d->gapped || d->has_trunc)
		return true;
	return tw_seq_near(d->seq_ref, seg->seq);
}
