/* SPDX-License-Identifier: MIT */
/*
 * The names of what a server chooses in a handshake, each list defined
 * once: the key-exchange groups (IANA TLS Supported Groups, post-quantum
 * hybrids included, so operators can follow their adoption) and the ALPN
 * protocol IDs (IANA registry). Summary counts, metric labels and event
 * fields are generated from them; a value off the wire that is in neither
 * is "other" in counts (events keep a group's codepoint in hex).
 */
#ifndef TW_HS_NAMES_H
#define TW_HS_NAMES_H

#include <stddef.h>
#include <stdint.h>

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

enum hs_group_index {
#define HS_GROUP_ENUM(value, name) HS_GROUP_##value,
	HS_GROUPS(HS_GROUP_ENUM)
#undef HS_GROUP_ENUM
	HS_GROUP__COUNT,
};

/* X(identifier, protocol ID) */
#define HS_ALPN_IDS(X)                                                         \
	X(HTTP_0_9, "http/0.9") X(HTTP_1_0, "http/1.0") X(HTTP_1_1, "http/1.1") \
	X(SPDY_1, "spdy/1") X(SPDY_2, "spdy/2") X(SPDY_3, "spdy/3")            \
	X(STUN_TURN, "stun.turn") X(STUN_NAT, "stun.nat-discovery")            \
	X(H2, "h2") X(H2C, "h2c") X(WEBRTC, "webrtc") X(C_WEBRTC, "c-webrtc")  \
	X(FTP, "ftp") X(IMAP, "imap") X(POP3, "pop3")                          \
	X(MANAGESIEVE, "managesieve") X(COAP, "coap")                          \
	X(XMPP_CLIENT, "xmpp-client") X(XMPP_SERVER, "xmpp-server")            \
	X(ACME_TLS, "acme-tls/1") X(MQTT, "mqtt") X(DOT, "dot")                \
	X(NTSKE, "ntske/1") X(SUNRPC, "sunrpc") X(H3, "h3") X(SMB, "smb")      \
	X(IRC, "irc") X(NNTP, "nntp") X(NNSP, "nnsp") X(DOQ, "doq")            \
	X(SIP, "sip/2") X(TDS, "tds/8.0") X(DICOM, "dicom")                    \
	X(POSTGRESQL, "postgresql") X(RADIUS_1_0, "radius/1.0")                \
	X(RADIUS_1_1, "radius/1.1")

enum hs_alpn_index {
#define HS_ALPN_ENUM(id, name) HS_ALPN_##id,
	HS_ALPN_IDS(HS_ALPN_ENUM)
#undef HS_ALPN_ENUM
	HS_ALPN__COUNT,
};

/* Index in the list, or -1 when the value is not in it. */
int hs_group_index(uint16_t group);
int hs_alpn_index(const char *p, size_t len);
/* The name at an index; NULL outside the list. */
const char *hs_group_index_name(int i);
const char *hs_alpn_index_name(int i);

/*
 * Slots for counting (summary counts, metric labels, the text report):
 * the list's indexes, then what is not in it. A group's slot is its index
 * or HS_GROUP_OTHER; an ALPN slot is the selected ID's index,
 * HS_ALPN_OTHER (a value not in the list), HS_ALPN_NONE (TLS <= 1.2, none
 * selected) or HS_ALPN_ENCRYPTED (TLS 1.3: not visible).
 */
enum { HS_GROUP_OTHER = HS_GROUP__COUNT, HS_GROUP_SLOTS };
enum { HS_ALPN_OTHER = HS_ALPN__COUNT, HS_ALPN_NONE, HS_ALPN_ENCRYPTED, HS_ALPN_SLOTS };
int hs_group_slot(uint16_t group);
/* "x25519", "other"; "h2", "other", "none", "encrypted". NULL past the slots. */
const char *hs_group_slot_name(int slot);
const char *hs_alpn_slot_name(int slot);

#endif
