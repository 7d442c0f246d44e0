// SPDX-License-Identifier: MIT
/* Tunnel names and the UDP encapsulation ports. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decimal.h"
#include "tunnel.h"

static const char *const tunnel_names[TW_TUN__COUNT] = {
#define TW_TUNNEL_NAME(id, name, what) [TW_TUN_##id] = name,
	TW_TUNNEL_TYPES(TW_TUNNEL_NAME)
#undef TW_TUNNEL_NAME
};

const char *tw_tunnel_type_name(unsigned type)
{
	return type < TW_TUN__COUNT ? tunnel_names[type] : NULL;
}

const char *tw_tunnel_id_name(unsigned type)
{
	return type == TW_TUN_VXLAN || type == TW_TUN_GENEVE ? "vni" : "gre_key";
}

const char *tw_tunnel_format(const struct tw_tunnel *t, char *buf)
{
	char src[TW_ADDR_STRLEN], dst[TW_ADDR_STRLEN];
	const char *name = tw_tunnel_type_name(t->type);
	int n;

	n = snprintf(buf, TW_TUNNEL_STRLEN, "%s %s -> %s", name ? name : "?",
		     tw_addr_format(&t->src, src), tw_addr_format(&t->dst, dst));
	if (t->has_id && n > 0 && n < TW_TUNNEL_STRLEN)
		snprintf(buf + n, (size_t)(TW_TUNNEL_STRLEN - n), " %s %u",
			 tw_tunnel_id_name(t->type), (unsigned)t->id);
	return buf;
}

const struct tw_udp_encap tw_udp_encap_default = {
	.n = TW_UDP_ENCAP_DEFAULTS,
	.e = { { TW_VXLAN_PORT, TW_TUN_VXLAN }, { TW_GENEVE_PORT, TW_TUN_GENEVE } },
};

static bool udp_encap_is_default(uint16_t port)
{
	int i;

	for (i = 0; i < tw_udp_encap_default.n; i++)
		if (tw_udp_encap_default.e[i].port == port)
			return true;
	return false;
}

/* The ports of @u that are not defaults: what the user's bound counts. */
static int udp_encap_user_ports(const struct tw_udp_encap *u)
{
	int i, n = 0;

	for (i = 0; i < u->n; i++)
		n += !udp_encap_is_default(u->e[i].port);
	return n;
}

/* PORT:none drops the port's entry (a port without one carries nothing);
 * another kind replaces it or adds one. -1 past the user's bound. */
static int udp_encap_set(struct tw_udp_encap *u, uint16_t port, uint8_t type)
{
	int i;

	for (i = 0; i < u->n; i++)
		if (u->e[i].port == port)
			break;
	if (type == TW_TUN_NONE) {
		if (i < u->n)
			u->e[i] = u->e[--u->n];
		return 0;
	}
	if (i == u->n) {
		if (!udp_encap_is_default(port) &&
		    udp_encap_user_ports(u) == TW_UDP_ENCAP_USER_MAX)
			return -1;
		u->e[u->n++].port = port;
	}
	u->e[i].type = type;
	return 0;
}

/* --udp-encap's KINDs: TW_TUN_NONE ("none") first, then the UDP kinds in
 * their list's order. */
static const uint8_t udp_kinds[] = {
	TW_TUN_NONE,
#define TW_TUNNEL_UDP(id, name, what) TW_TUN_##id,
	TW_TUNNEL_UDP_TYPES(TW_TUNNEL_UDP)
#undef TW_TUNNEL_UDP
};

/* The tunnel type of the @i-th KIND; -1 past the last. */
static int kind_type(unsigned i)
{
	return i < sizeof(udp_kinds) ? udp_kinds[i] : -1;
}

const char *tw_udp_encap_kind_name(unsigned i)
{
	int t = kind_type(i);

	return t == TW_TUN_NONE ? TW_UDP_ENCAP_NONE : t > 0 ? tunnel_names[t] : NULL;
}

static int kind_parse(const char *name)
{
	const char *kind;
	unsigned i;

	for (i = 0; (kind = tw_udp_encap_kind_name(i)); i++)
		if (strcmp(name, kind) == 0)
			return kind_type(i);
	return -1;
}

int tw_udp_encap_add(struct tw_udp_encap *u, const char *spec, char *err,
		     size_t errlen)
{
	const char *colon = strchr(spec, ':'), *end;
	uint64_t port;
	int kind;

	if (!colon) {
		snprintf(err, errlen, "'%s' is not PORT:KIND", spec);
		return -1;
	}
	if (!tw_dec_parse(spec, &end, &port) || end != colon || port == 0 ||
	    port > 65535) {
		snprintf(err, errlen, "'%s': the port is not 1..65535", spec);
		return -1;
	}
	kind = kind_parse(colon + 1);
	if (kind < 0) {
		snprintf(err, errlen, "'%s': the kind is not " TW_UDP_KINDS_SAID
			 "or " TW_UDP_ENCAP_NONE, spec);
		return -1;
	}
	if (udp_encap_set(u, (uint16_t)port, (uint8_t)kind)) {
		snprintf(err, errlen, "at most %d UDP encapsulation ports besides "
			 "the defaults %d and %d", TW_UDP_ENCAP_USER_MAX,
			 TW_VXLAN_PORT, TW_GENEVE_PORT);
		return -1;
	}
	return 0;
}

uint8_t tw_udp_encap_type(const struct tw_udp_encap *u, uint16_t port)
{
	int i;

	for (i = 0; i < u->n; i++)
		if (u->e[i].port == port)
			return u->e[i].type;
	return TW_TUN_NONE;
}
