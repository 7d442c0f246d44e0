/* SPDX-License-Identifier: MIT */
/*
 * Why a name's handshakes showed no certificate, counted by reason; the
 * text report and the HTML report (from handshake records, or from the
 * agent's event history, which keeps the counts per minute) say it.
 */
#ifndef TW_SINK_NO_CERT_H
#define TW_SINK_NO_CERT_H

#include <stdbool.h>
#include <stdint.h>

#include "tls/hs_record.h"

struct no_cert_counts {
	uint64_t resumed;         /* abbreviated: the full one carried it */
	uint64_t tls13;           /* encrypted */
	uint64_t too_large;       /* declared over the per-message cap */
	uint64_t truncated;       /* cut before its end */
	uint32_t largest_chain;   /* bytes a chain not read declared */
};

/* Counts the reason @rec, a handshake without a leaf, had none. */
void no_cert_note(struct no_cert_counts *c, const struct hs_record *rec);

/* Adds @from's counts to @to (the largest chain: the larger). */
void no_cert_add(struct no_cert_counts *to, const struct no_cert_counts *from);

/* Whether any reason was counted. */
bool no_cert_any(const struct no_cert_counts *c);

/*
 * Says each reason counted, in a fixed order, as one sentence to @say: it
 * starts lowercase and has no final period ("certificate not visible on 2
 * TLS 1.3 handshakes (encrypted)"); with none and no certificate seen
 * (!@has_cert), "certificate not visible (no Certificate message seen)".
 * Each report puts it in its own form.
 */
void no_cert_say(const struct no_cert_counts *c, bool has_cert,
		 void (*say)(void *ctx, const char *sentence), void *ctx);

#endif
