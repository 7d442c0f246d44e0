// SPDX-License-Identifier: MIT
/*
 * Fuzzes the TLS parser of one connection. Input format:
 *   byte 0      flags: bit 0 close with FIN (else capture end),
 *               bit 1 a small max_message_bytes (1 KiB)
 *   then        control byte, chunk: bit 0 of the control byte is the
 *               direction (1 client); 0xfe/0xff is a gap in that direction
 *               instead; otherwise (ctrl >> 1) + 1 bytes follow (1..127).
 * After the close, every string and blob of the record is read so that
 * ASan checks their bounds.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tls/tls_conn.h"

static volatile uint32_t fuzz_sink;

static void fuzz_touch(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i < n; i++)
		sum += b[i];
	fuzz_sink += sum;
}

static void fuzz_check(bool ok)
{
	if (!ok)
		__builtin_trap();
}

/* Group, ALPN selected, chain error: named, bounded, NUL-terminated. */
static void fuzz_walk_server_choices(const struct hs_record *r)
{
	char code[HS_GROUP_LABEL_LEN];
	const char *name;

	if (r->has_alpn_selected) {
		fuzz_check(r->alpn_selected.len > 0 &&
			   r->alpn_selected.bytes[r->alpn_selected.len] == '\0');
		fuzz_touch(r->alpn_selected.bytes, r->alpn_selected.len + 1u);
	}
	if (r->has_group) {
		name = hs_group_label(r->group, code);
		fuzz_touch(name, strlen(name));
	}
	fuzz_check(hs_alpn_slot_name(hs_record_alpn_slot(r)) != NULL);
	/* a chain not read left none behind */
	fuzz_check(!r->chain_error ||
		   (r->n_chain == 0 && hs_chain_error_name(r->chain_error) != NULL));
}

static void fuzz_walk(const struct hs_record *r)
{
	size_t i;

	fuzz_check(r->sni_len <= HS_MAX_SNI && r->sni[r->sni_len] == '\0');
	fuzz_check(r->has_sni == (r->sni_len > 0));
	fuzz_touch(r->sni, r->sni_len + 1);
	fuzz_check(r->n_alpn <= HS_MAX_ALPN);
	for (i = 0; i < r->n_alpn; i++) {
		fuzz_check(r->alpn[i].bytes[r->alpn[i].len] == '\0');
		fuzz_touch(r->alpn[i].bytes, r->alpn[i].len + 1u);
	}
	fuzz_check(strlen(r->ja4) == (r->has_client_hello ? HS_JA4_LEN : 0));
	fuzz_check(strlen(r->ja3) == (r->has_client_hello ? HS_JA3_LEN : 0));
	fuzz_check(r->n_chain <= HS_MAX_CHAIN);
	for (i = 0; i < r->n_chain; i++) {
		fuzz_check(r->chain[i].data && r->chain[i].len > 0);
		fuzz_touch(r->chain[i].data, r->chain[i].len);
	}
	if (r->has_staple)
		fuzz_touch(r->staple.data, r->staple.len);
	fuzz_check(r->n_alerts <= HS_MAX_ALERTS);
	for (i = 0; i < r->n_alerts; i++) {
		const char *name = hs_alert_description_name(r->alerts[i].description);

		if (name)
			fuzz_touch(name, strlen(name));
	}
	if (r->parse_error)
		fuzz_touch(r->parse_error, strlen(r->parse_error));
	fuzz_walk_server_choices(r);
	if (hs_cipher_name(r->cipher))
		fuzz_touch(hs_cipher_name(r->cipher), 1);
	fuzz_check(hs_outcome_name(r->outcome) != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tls_limits lim = { 0 };
	struct tls_conn *c;
	size_t off = 1;
	uint64_t ts = 1;
	uint8_t flags;

	if (size < 1)
		return 0;
	flags = data[0];
	if (flags & 2)
		lim.max_message_bytes = 1024;
	c = tls_conn_new(&lim);
	if (!c)
		return 0;
	while (off < size) {
		uint8_t ctrl = data[off++];
		bool client = ctrl & 1;
		size_t n = (size_t)(ctrl >> 1) + 1;

		if (ctrl >= 0xfe) {
			tls_conn_gap(c, client, ts++);
			continue;
		}
		if (n > size - off)
			n = size - off;
		(void)tls_sniff(data + off, n);
		tls_conn_feed(c, client, data + off, n, ts++);
		off += n;
	}
	tls_conn_close(c, flags & 1, ts);
	fuzz_check(tls_conn_decided(c));
	fuzz_walk(tls_conn_record(c));
	tls_conn_free(c);
	return 0;
}
