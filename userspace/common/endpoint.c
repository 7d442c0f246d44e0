// SPDX-License-Identifier: MIT
#include <arpa/inet.h>
#include <stdio.h>

#include "endpoint.h"

/* Dotted quad, as inet_ntop writes it; formatted for every event, so by
 * hand. */
static void tw_ipv4_format(const uint8_t *b, char *buf)
{
	char *p = buf;
	int i;

	for (i = 0; i < 4; i++) {
		unsigned v = b[i];

		if (i)
			*p++ = '.';
		if (v >= 100)
			*p++ = (char)('0' + v / 100);
		if (v >= 10)
			*p++ = (char)('0' + v / 10 % 10);
		*p++ = (char)('0' + v % 10);
	}
	*p = '\0';
}

const char *tw_addr_format(const struct tw_addr *addr, char *buf)
{
	if (addr->family != 6) {
		tw_ipv4_format(addr->bytes, buf);
		return buf;
	}
	/* glibc's inet_ntop already prints RFC 5952 form: lowercase, the
	 * longest run of zero groups compressed, no leading zeros. */
	if (!inet_ntop(AF_INET6, addr->bytes, buf, TW_ADDR_STRLEN))
		snprintf(buf, TW_ADDR_STRLEN, "?");
	return buf;
}

const char *tw_endpoint_format(const struct tw_endpoint *ep, char *buf)
{
	char addr[TW_ADDR_STRLEN];

	tw_addr_format(&ep->addr, addr);
	snprintf(buf, TW_ENDPOINT_STRLEN, ep->addr.family == 6 ? "[%s]:%u" : "%s:%u",
		 addr, ep->port);
	return buf;
}
