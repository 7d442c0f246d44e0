// SPDX-License-Identifier: MIT
/*
 * Which key families a ClientHello accepts, most preferred first: what a
 * server holding several certificates for the name chooses among. TLS 1.3
 * chooses by signature_algorithms (the certificate's key signs the
 * CertificateVerify); TLS 1.2 and older by the cipher suite's
 * authentication (ECDHE_ECDSA, or RSA), narrowed by signature_algorithms
 * when the client sent them. OpenSSL, and with it nginx, haproxy and
 * Apache by default, follows the client's order.
 */
#include <string.h>

#include "tls_internal.h"

/* The family of a SignatureScheme (RFC 8446 4.2.3, RFC 5246 7.4.1.4.1). */
static enum key_family sigalg_family(uint16_t alg, bool tls13)
{
	uint8_t hash = alg >> 8, sig = alg & 0xff;

	if (alg == 0x0807)
		return KEY_FAMILY_ED25519;
	if (alg == 0x0808)
		return KEY_FAMILY_ED448;
	if ((alg >= 0x0804 && alg <= 0x0806) || (alg >= 0x0809 && alg <= 0x080b))
		return KEY_FAMILY_RSA;                 /* RSA-PSS */
	if (alg >= 0x081a && alg <= 0x081c)
		return KEY_FAMILY_EC;                  /* ECDSA brainpool, TLS 1.3 */
	if (hash < 0x02 || hash > 0x06)
		return KEY_FAMILY_NONE;
	/* TLS 1.3 signs with ECDSA only with SHA-256 and up, never PKCS #1 */
	if (sig == 0x03 && (!tls13 || hash >= 0x04))
		return KEY_FAMILY_EC;
	if (sig == 0x01 && !tls13)
		return KEY_FAMILY_RSA;
	return KEY_FAMILY_NONE;
}

enum suite_auth { SUITE_AUTH_NONE, SUITE_AUTH_ECDSA, SUITE_AUTH_RSA };

/* Certificate-authenticated suites by their IANA name. */
static enum suite_auth suite_auth(uint16_t suite)
{
	const char *name = hs_cipher_name(suite);

	if (!name)
		return SUITE_AUTH_NONE;
	if (strstr(name, "_ECDHE_ECDSA_"))
		return SUITE_AUTH_ECDSA;
	if (!strncmp(name, "TLS_RSA_", 8) || strstr(name, "_DHE_RSA_") ||
	    strstr(name, "_ECDHE_RSA_"))
		return SUITE_AUTH_RSA;
	return SUITE_AUTH_NONE;
}

static void offer_tls13(const struct tls_client_hello *ch, struct key_offer *o)
{
	size_t i;

	for (i = 0; i < ch->sig_algs.n; i++)
		key_offer_add(o, sigalg_family(ch->sig_algs.v[i], true));
}

/* An ECDSA suite serves the EC family, and EdDSA keys in TLS 1.2 (RFC 8422). */
static bool ecdsa_suite_family(enum key_family f)
{
	return f == KEY_FAMILY_EC || f == KEY_FAMILY_ED25519 || f == KEY_FAMILY_ED448;
}

/* The families of one suite's authentication, in signature_algorithms order. */
static void offer_suite(const struct tls_client_hello *ch, enum suite_auth auth,
			struct key_offer *o)
{
	size_t i;

	if (!ch->sig_algs.v) {   /* no extension: SHA-1 with the suite's kind */
		key_offer_add(o, auth == SUITE_AUTH_RSA ? KEY_FAMILY_RSA : KEY_FAMILY_EC);
		return;
	}
	for (i = 0; i < ch->sig_algs.n; i++) {
		enum key_family f = sigalg_family(ch->sig_algs.v[i], false);

		if (auth == SUITE_AUTH_RSA ? f == KEY_FAMILY_RSA : ecdsa_suite_family(f))
			key_offer_add(o, f);
	}
}

static void offer_tls12(const struct tls_client_hello *ch, struct key_offer *o)
{
	bool seen[SUITE_AUTH_RSA + 1] = { false };
	size_t i;

	/* both kinds seen: no later suite adds anything (the names are
	 * matched as strings, a cost per suite worth stopping early) */
	for (i = 0; i < ch->ciphers.n &&
		    !(seen[SUITE_AUTH_ECDSA] && seen[SUITE_AUTH_RSA]); i++) {
		enum suite_auth auth = suite_auth(ch->ciphers.v[i]);

		if (auth == SUITE_AUTH_NONE || seen[auth])
			continue;
		seen[auth] = true;
		offer_suite(ch, auth, o);
	}
}

void tls_key_offers(const struct tls_client_hello *ch, struct key_offer *tls13,
		    struct key_offer *tls12)
{
	memset(tls13, 0, sizeof(*tls13));
	memset(tls12, 0, sizeof(*tls12));
	offer_tls13(ch, tls13);
	offer_tls12(ch, tls12);
}
