// SPDX-License-Identifier: MIT
/*
 * IANA names of the TLS Supported Groups (the key exchange of a
 * handshake: "group" in handshake events, the label of
 * tlswatch_key_exchange_groups_total). Post-quantum hybrids included, so
 * operators can follow their adoption.
 */
#include <stdio.h>

#include "hs_record.h"

/* X(codepoint, IANA name), in codepoint order. */
#define HS_GROUPS(X)                                                           \
	X(0x0001, "sect163k1") X(0x0002, "sect163r1") X(0x0003, "sect163r2")   \
	X(0x0004, "sect193r1") X(0x0005, "sect193r2") X(0x0006, "sect233k1")   \
	X(0x0007, "sect233r1") X(0x0008, "sect239k1") X(0x0009, "sect283k1")   \
	X(0x000a, "sect283r1") X(0x000b, "sect409k1") X(0x000c, "sect409r1")   \
	X(0x000d, "sect571k1") X(0x000e, "sect571r1") X(0x000f, "secp160k1")   \
	X(0x0010, "secp160r1") X(0x0011, "secp160r2") X(0x0012, "secp192k1")   \
	X(0x0013, "secp192r1") X(0x0014, "secp224k1") X(0x0015, "secp224r1")   \
	X(0x0016, "secp256k1") X(0x0017, "secp256r1") X(0x0018, "secp384r1")   \
	X(0x0019, "secp521r1") X(0x001a, "brainpoolP256r1")                    \
	X(0x001b, "brainpoolP384r1") X(0x001c, "brainpoolP512r1")              \
	X(0x001d, "x25519") X(0x001e, "x448")                                  \
	X(0x001f, "brainpoolP256r1tls13") X(0x0020, "brainpoolP384r1tls13")    \
	X(0x0021, "brainpoolP512r1tls13") X(0x0022, "GC256A")                  \
	X(0x0023, "GC256B") X(0x0024, "GC256C") X(0x0025, "GC256D")            \
	X(0x0026, "GC512A") X(0x0027, "GC512B") X(0x0028, "GC512C")            \
	X(0x0029, "curveSM2")                                                  \
	X(0x0100, "ffdhe2048") X(0x0101, "ffdhe3072") X(0x0102, "ffdhe4096")   \
	X(0x0103, "ffdhe6144") X(0x0104, "ffdhe8192")                          \
	X(0x0200, "MLKEM512") X(0x0201, "MLKEM768") X(0x0202, "MLKEM1024")     \
	X(0x11eb, "SecP256r1MLKEM768") X(0x11ec, "X25519MLKEM768")             \
	X(0x11ed, "SecP384r1MLKEM1024")                                        \
	X(0x6399, "X25519Kyber768Draft00")                                     \
	X(0x639a, "SecP256r1Kyber768Draft00")

const char *hs_group_name(uint16_t group)
{
	switch (group) {
#define HS_GROUP_CASE(value, name) case value: return name;
	HS_GROUPS(HS_GROUP_CASE)
#undef HS_GROUP_CASE
	default:
		return NULL;
	}
}

const char *hs_group_label(uint16_t group, char buf[HS_GROUP_LABEL_LEN])
{
	const char *name = hs_group_name(group);

	if (name)
		return name;
	snprintf(buf, HS_GROUP_LABEL_LEN, "0x%04x", group);
	return buf;
}
