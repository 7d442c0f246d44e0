/* SPDX-License-Identifier: MIT */
/*
 * The finding kinds only a stapled OCSP answer shows. A handshake that
 * cannot show the staple (the client did not ask, TLS 1.3 encrypted it)
 * carries them over from an earlier one: the rule of the pipeline's cert
 * events (pipeline/judge.c) and of the inventory's served rows
 * (inventory_carry.c), which read this one list. It lives here, not in
 * cert/findings.h, because includes run down the data flow and the
 * inventory is below both: cert/ and pipeline/ include inventory/,
 * never the other way.
 *
 * X(id, name): id is the kind's FINDING_ suffix (cert/findings.h), name
 * its finding_kind_name(), as the inventory's findings text spells it.
 */
#ifndef TW_STAPLE_KINDS_H
#define TW_STAPLE_KINDS_H

#define STAPLE_FINDING_KINDS(X)                 \
	X(REVOKED_STAPLE, "revoked_staple")     \
	X(STALE_STAPLE, "stale_staple")

#endif
