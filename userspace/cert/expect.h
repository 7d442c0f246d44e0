/* SPDX-License-Identifier: MIT */
/*
 * "unexpected": the certificates that are supposed to be served, per name,
 * from --expect NAME=SHA256 (repeatable) and --expect-dir DIR (the PEM
 * files that were deployed; each file's first certificate counts, under
 * the DNS names of its SANs, or its CN when it has none). A name with
 * expectations that is served any other leaf is a finding; names without
 * expectations are never judged. A "*.example.com" SAN covers one label.
 */
#ifndef TW_EXPECT_H
#define TW_EXPECT_H

#include <stdbool.h>
#include <stddef.h>

struct expect_set;

/*
 * Builds the set (@n_specs "NAME=SHA256" strings, SHA256 as 64 hex digits,
 * colons allowed; @dir may be NULL). -1 and @err for a malformed spec, an
 * unreadable directory or one without any certificate.
 */
int expect_set_open(const char *const *specs, int n_specs, const char *dir,
		    struct expect_set **out, char *err, size_t errlen);
void expect_set_free(struct expect_set *e);

/* 0 when @spec is a well-formed "NAME=SHA256" (what expect_set_open takes),
 * else -1 with the reason in @err: the command line checks each --expect
 * before anything is opened. */
int expect_spec_check(const char *spec, char *err, size_t errlen);

/* Expectations held (name, fingerprint pairs). */
size_t expect_set_count(const struct expect_set *e);

/*
 * -1: @name (its @name_len bytes, an SNI off the wire) has no
 * expectation, as a name holding a NUL or another byte no --expect name
 * has never does; 0: @sha256_hex is one of the expected leaves; 1: it is
 * not, and @detail names the expected fingerprint(s).
 */
int expect_check(const struct expect_set *e, const char *name, size_t name_len,
		 const char *sha256_hex, char *detail, size_t len);

#endif
