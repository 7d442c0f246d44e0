/* SPDX-License-Identifier: MIT */
/*
 * The fuzzer's bytes read as numbers, for the structure-aware fuzzers:
 * fuzz_take() gives 0 once the input is used up, so every input, however
 * short, describes a whole case.
 */
#ifndef TW_FUZZ_INPUT_H
#define TW_FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>

struct fuzz_input {
	const uint8_t *p;
	size_t left;
};

/* @n bytes (at most 8), big-endian. */
static inline uint64_t fuzz_take(struct fuzz_input *in, int n)
{
	uint64_t v = 0;

	while (n-- > 0) {
		v = v << 8 | (in->left ? *in->p : 0);
		if (in->left)
			in->p++, in->left--;
	}
	return v;
}

#endif
