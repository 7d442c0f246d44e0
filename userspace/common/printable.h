/* SPDX-License-Identifier: MIT */
#ifndef TW_PRINTABLE_H
#define TW_PRINTABLE_H

#include <stddef.h>

/*
 * Copies @n bytes of wire data into @out (size @outlen) so that a terminal
 * shows them safely: printable ASCII as is, everything else (control
 * characters, DEL, bytes >= 0x80, backslash) as \xHH. Always NUL-terminates;
 * truncates with "..." when @out is too small. Returns @out.
 */
char *tw_printable(const char *s, size_t n, char *out, size_t outlen);

#endif
