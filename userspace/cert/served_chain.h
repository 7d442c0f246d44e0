/* SPDX-License-Identifier: MIT */
/*
 * Issuers among the certificates a server sent, wherever it put them: a
 * chain sent out of order (leaf, root, intermediate: OpenSSL clients
 * accept it) still names the right issuer of each of its members. The
 * one rule for the staple's issuer and for the revocation chain of a
 * handshake whose chain verification built none.
 */
#ifndef TW_SERVED_CHAIN_H
#define TW_SERVED_CHAIN_H

#include <stdint.h>

#include "cert_info.h"

/*
 * The position in @chain[0..n-1] of the certificate that issued @x
 * (X509_check_issued: issuer name, key identifiers, key usage); -1 when
 * none did. NULL entries (certificates that did not parse) are skipped,
 * and so are the positions whose bit is set in @skip (the ones already
 * taken); positions from 32 on are never looked at.
 */
int served_issuer_index(const struct cert_info *const *chain, int n, X509 *x,
			uint32_t skip);

#endif
