// SPDX-License-Identifier: MIT
/*
 * Fuzzes the preamble detector (tls/starttls.c). Input format: a sequence
 * of control byte, chunk: bit 0 of the control byte is the sender (flow
 * endpoint 0 or 1), (ctrl >> 1) * 37 + 1 bytes follow (1..4700, so chunks
 * cross the byte bound). Chunks are fed until the detector decides.
 * Checks: a hello is reported only where tls_client_hello_starts() holds,
 * inside the chunk; the preamble's counts stay within the bounds; snaps
 * within their size; the protocol named is one of the list.
 */
#include <stddef.h>
#include <stdint.h>

#include "tls/starttls.h"

static void fuzz_check(bool ok)
{
	if (!ok)
		__builtin_trap();
}

static void fuzz_check_snap(const struct tls_preamble_snap *s)
{
	fuzz_check(s->len <= TLS_PREAMBLE_SNAP);
}

static void fuzz_check_preamble(const struct tls_preamble *pa)
{
	int i;

	fuzz_check(pa->segments < TW_PROBE_SEGMENTS);
	for (i = 0; i < 2; i++) {
		fuzz_check(pa->bytes[i] <= TW_PREAMBLE_BYTES);
		fuzz_check_snap(&pa->first[i]);
		fuzz_check_snap(&pa->last[i]);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tls_preamble pa = { 0 };
	size_t off = 0;

	while (off < size) {
		uint8_t ctrl = data[off++];
		int from = ctrl & 1;
		size_t n = (size_t)(ctrl >> 1) * 37 + 1, at = SIZE_MAX;
		enum tls_preamble_verdict v;
		uint8_t proto;

		if (n > size - off)
			n = size - off;
		if (n == 0)
			break;
		v = tls_preamble_feed(&pa, from, data + off, n, &at);
		if (v == TLS_PREAMBLE_NOT_TLS)
			return 0;
		if (v == TLS_PREAMBLE_HELLO) {
			fuzz_check(at < n);
			fuzz_check(tls_client_hello_starts(data + off + at, n - at));
			proto = tls_preamble_protocol(&pa, from);
			fuzz_check(proto > HS_STARTTLS_NONE && proto < HS_STARTTLS__COUNT);
			fuzz_check(hs_starttls_name(proto) != NULL);
			return 0;
		}
		fuzz_check(v == TLS_PREAMBLE_MORE);
		fuzz_check_preamble(&pa);
		off += n;
	}
	return 0;
}
