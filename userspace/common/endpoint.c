// SPDX-License-Identifier: MIT
#include <arpa/inet.h>
#include <stdio.h>

#include "endpoint.h"

const char *tw_addr_format(const struct tw_addr *addr, char *buf)
{
	int af = addr->family == 6 ? AF_INET6 : AF_INET;

	/* glibc's inet_ntop already prints RFC 5952 form: lowercase, the
	 * longest run of zero groups compressed, no leading zeros. */
	if (!inet_ntop(af, addr->bytes, buf, TW_ADDR_STRLEN))
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
