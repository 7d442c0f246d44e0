// SPDX-License-Identifier: MIT
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

bool no_cert_any(const struct no_cert_counts *c)
{
	return c->resumed || c->tls13 || c->too_large || c->truncated;
}
