/* SPDX-License-Identifier: MIT */
/*
 * Key families of server certificates: what a server holding several
 * certificates for one name chooses among, per client (RSA and ECDSA side
 * by side at CDNs). A family is the part of a cert_info key name before
 * '-' ("EC" of "EC-P256"). Defined once here; the ClientHello reading
 * (tls/key_offer.c), the active check and the superseded rule share it.
 */
#ifndef TW_KEY_FAMILY_H
#define TW_KEY_FAMILY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* X(enum suffix, name as in cert_info's key) */
#define KEY_FAMILIES(X) \
	X(EC, "EC")           \
	X(RSA, "RSA")         \
	X(ED25519, "ED25519") \
	X(ED448, "ED448")

enum key_family {
	KEY_FAMILY_NONE = 0,
#define KEY_FAMILY_ENUM(e, s) KEY_FAMILY_##e,
	KEY_FAMILIES(KEY_FAMILY_ENUM)
#undef KEY_FAMILY_ENUM
	KEY_FAMILY__END,
};

#define KEY_FAMILY__COUNT (KEY_FAMILY__END - 1)

/* The key families a client accepts, most preferred first. */
struct key_offer {
	uint8_t n;
	uint8_t fam[KEY_FAMILY__COUNT];   /* enum key_family */
};

/* "EC"; NULL for KEY_FAMILY_NONE or out of range. */
const char *key_family_name(enum key_family f);
/* The family of a key name ("EC-P256" -> KEY_FAMILY_EC); NONE if unknown. */
enum key_family key_family_of(const char *key);

/* Appends @f unless already there or NONE. */
void key_offer_add(struct key_offer *o, enum key_family f);
/* Position of @f (0: most preferred), -1 when not offered. */
int key_offer_rank(const struct key_offer *o, enum key_family f);
/* "EC>RSA" ("" when empty) into @buf. Returns @buf. */
char *key_offer_format(const struct key_offer *o, char *buf, size_t len);
/* The inverse: "EC>RSA" into @o; unknown names are skipped. */
void key_offer_parse(const char *text, struct key_offer *o);

#endif
