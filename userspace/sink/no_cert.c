// SPDX-License-Identifier: MIT
#include <stdio.h>

#include "no_cert.h"

void no_cert_note(struct no_cert_counts *c, const struct hs_record *rec)
{
	if (rec->chain_error) {
		if (rec->chain_error == HS_CHAIN_TOO_LARGE)
			c->too_large++;
		else
			c->truncated++;
		if (rec->chain_bytes > c->largest_chain)
			c->largest_chain = rec->chain_bytes;
	} else if (rec->resumed) {
		c->resumed++;
	} else if (rec->has_server_hello && rec->version == 0x0304) {
		c->tls13++;
	}
}

void no_cert_add(struct no_cert_counts *to, const struct no_cert_counts *from)
{
	to->resumed += from->resumed;
	to->tls13 += from->tls13;
	to->too_large += from->too_large;
	to->truncated += from->truncated;
	if (from->largest_chain > to->largest_chain)
		to->largest_chain = from->largest_chain;
}

bool no_cert_any(const struct no_cert_counts *c)
{
	return c->resumed || c->tls13 || c->too_large || c->truncated;
}

static const char *handshakes_word(uint64_t n)
{
	return n == 1 ? "handshake" : "handshakes";
}

void no_cert_say(const struct no_cert_counts *c, bool has_cert,
		 void (*say)(void *ctx, const char *sentence), void *ctx)
{
	char s[256];

	if (c->too_large || c->truncated) {
		snprintf(s, sizeof(s), "certificate chain not read: %llu too large (over 256 KiB), %llu truncated (cut before its end); up to %u bytes",
			 (unsigned long long)c->too_large, (unsigned long long)c->truncated,
			 c->largest_chain);
		say(ctx, s);
	}
	if (c->resumed) {
		snprintf(s, sizeof(s), "certificate not sent on %llu resumed %s (the session's full handshake carried it)",
			 (unsigned long long)c->resumed, handshakes_word(c->resumed));
		say(ctx, s);
	}
	if (c->tls13) {
		snprintf(s, sizeof(s), "certificate not visible on %llu TLS 1.3 %s (encrypted)",
			 (unsigned long long)c->tls13, handshakes_word(c->tls13));
		say(ctx, s);
	}
	if (!has_cert && !no_cert_any(c))
		say(ctx, "certificate not visible (no Certificate message seen)");
}
