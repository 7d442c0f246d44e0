/* SPDX-License-Identifier: MIT */
/*
 * Tunnels as every stage sees them: the outermost encapsulation a packet
 * came through (the types: include/tlswatch/tunnel.h), and which UDP
 * ports carry which encapsulation (--udp-encap).
 */
#ifndef TW_TUNNEL_H
#define TW_TUNNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/types.h>

#include "tlswatch/tunnel.h"
#include "endpoint.h"

/* Which directions of a connection came through the tunnel. */
enum tw_tunnel_dir {
	TW_TUNNEL_TO_SERVER = 1,
	TW_TUNNEL_TO_CLIENT = 2,
};

struct tw_tunnel {
	uint8_t type;        /* enum tw_tunnel_type; TW_TUN_NONE: no tunnel */
	uint8_t depth;       /* encapsulations removed, 1..TW_MAX_DECAP */
	uint8_t dirs;        /* connection: enum tw_tunnel_dir bits */
	bool has_id;
	uint32_t id;         /* VNI (vxlan, geneve) or GRE key */
	struct tw_addr src;  /* outer addresses of the outermost header; for */
	struct tw_addr dst;  /* a connection, src is the client's side */
};

/* "vxlan", ...; NULL for TW_TUN_NONE or out of range. */
const char *tw_tunnel_type_name(unsigned type);
/* The name of the id: "vni" (vxlan, geneve) or "gre_key". */
const char *tw_tunnel_id_name(unsigned type);

/* "vxlan 10.0.0.1 -> 10.0.0.2 vni 4242" into @buf (TW_TUNNEL_STRLEN). */
#define TW_TUNNEL_STRLEN (2 * TW_ADDR_STRLEN + 40)
const char *tw_tunnel_format(const struct tw_tunnel *t, char *buf);

/* Which UDP destination ports carry which encapsulation: the defaults
 * (TW_UDP_ENCAP_DEFAULTS ports) and at most TW_UDP_ENCAP_USER_MAX others. */
#define TW_UDP_ENCAP_DEFAULTS 2
#define TW_UDP_ENCAP_USER_MAX 16
#define TW_UDP_ENCAP_MAX (TW_UDP_ENCAP_DEFAULTS + TW_UDP_ENCAP_USER_MAX)

struct tw_udp_encap {
	int n;
	struct {
		uint16_t port;
		uint8_t type;        /* TW_TUN_VXLAN, _GENEVE, _FOU, _GUE */
	} e[TW_UDP_ENCAP_MAX];
};

/* VXLAN on 4789 and Geneve on 6081 (FOU and GUE have no standard port). */
extern const struct tw_udp_encap tw_udp_encap_default;
/*
 * Adds "PORT:KIND" (KIND: vxlan, geneve, fou, gue, or none to take a
 * default away), replacing what PORT had. A port of the defaults, or one
 * given none, takes no room: more than TW_UDP_ENCAP_USER_MAX other ports
 * is an error. Returns 0, or -1 with the reason in @err.
 */
int tw_udp_encap_add(struct tw_udp_encap *u, const char *spec, char *err,
		     size_t errlen);
/* The KIND that takes a port's encapsulation away, and the others as
 * text: "vxlan, geneve, fou, gue, " (the help and the refusal say them). */
#define TW_UDP_ENCAP_NONE "none"
#define TW_UDP_KIND_SAID_(id, name, what) name ", "
#define TW_UDP_KINDS_SAID TW_TUNNEL_UDP_TYPES(TW_UDP_KIND_SAID_)
/* The @i-th KIND tw_udp_encap_add takes ("none", "vxlan", ...), NULL
 * past the last: the list its parse, its error and the bash completion
 * read. */
const char *tw_udp_encap_kind_name(unsigned i);
/* The encapsulation on UDP port @port, TW_TUN_NONE if none. */
uint8_t tw_udp_encap_type(const struct tw_udp_encap *u, uint16_t port);

#endif
