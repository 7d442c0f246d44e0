/* SPDX-License-Identifier: MIT */
/* Network endpoints as every stage sees them. */
#ifndef TW_ENDPOINT_H
#define TW_ENDPOINT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define TW_ADDR_STRLEN 46 /* INET6_ADDRSTRLEN */
#define TW_ENDPOINT_STRLEN (TW_ADDR_STRLEN + 8) /* "[addr]:65535" */

struct tw_addr {
	uint8_t family;     /* 4 or 6 */
	uint8_t bytes[16];  /* IPv4 uses the first 4 bytes, the rest are zero */
};

struct tw_endpoint {
	struct tw_addr addr;
	uint16_t port;      /* host byte order */
};

static inline bool tw_endpoint_equal(const struct tw_endpoint *a,
				     const struct tw_endpoint *b)
{
	return a->port == b->port && a->addr.family == b->addr.family &&
	       memcmp(a->addr.bytes, b->addr.bytes, 16) == 0;
}

/* @ep as a map key: its bytes without the struct's padding (family, the
 * 16 address bytes, the port big-endian). */
#define TW_ENDPOINT_KEY_LEN 19
static inline void tw_endpoint_key(const struct tw_endpoint *ep,
				   uint8_t key[TW_ENDPOINT_KEY_LEN])
{
	key[0] = ep->addr.family;
	memcpy(key + 1, ep->addr.bytes, 16);
	key[17] = (uint8_t)(ep->port >> 8);
	key[18] = (uint8_t)ep->port;
}

/* RFC 5952 text for IPv6, dotted quad for IPv4. @buf has TW_ADDR_STRLEN bytes. */
const char *tw_addr_format(const struct tw_addr *addr, char *buf);
/* "192.0.2.1:443" or "[2001:db8::1]:443". @buf has TW_ENDPOINT_STRLEN bytes. */
const char *tw_endpoint_format(const struct tw_endpoint *ep, char *buf);

#endif
