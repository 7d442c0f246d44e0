// SPDX-License-Identifier: MIT
/*
 * The TLS <= 1.2 ServerKeyExchange of an ECDHE suite (RFC 8422 5.4): its
 * ECParameters name the key-exchange group. Only the two leading fields
 * are read; the point and the signature that follow are not needed.
 */
#include "../common/cursor.h"
#include "tls_internal.h"

#define TLS_EC_CURVE_TYPE_NAMED 3

bool tls_server_kex_group(const uint8_t *p, size_t n, uint16_t *group)
{
	struct cursor c = cur_make(p, n);
	uint8_t curve_type = cur_u8(&c);
	uint16_t named_curve = cur_u16(&c);

	if (!cur_ok(&c) || curve_type != TLS_EC_CURVE_TYPE_NAMED)
		return false;
	*group = named_curve;
	return true;
}
