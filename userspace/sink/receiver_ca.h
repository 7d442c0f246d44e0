/* SPDX-License-Identifier: MIT */
/*
 * The --webhook-ca-file: the PEM CA certificates that https webhook and
 * Alertmanager receivers are verified against instead of the system store.
 * Read whole into memory when a sink opens (and at each reload, to tell a
 * changed file), then given to libcurl as a blob: a request never reads
 * the file, so one edited later cannot half-apply before the SIGHUP.
 */
#ifndef TW_RECEIVER_CA_H
#define TW_RECEIVER_CA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct receiver_ca {
	char *pem;      /* the file's bytes; NULL: no --webhook-ca-file */
	size_t len;
};

/*
 * Reads @path (NULL: none, *@ca emptied) into @ca: a regular file of at
 * most SINK_CA_FILE_MAX bytes holding at least one PEM certificate. 0, or
 * -1 with "--webhook-ca-file PATH: why" in @err and @ca empty. A
 * certificate expired (from its notAfter second on, as the findings
 * say) or not valid yet is taken, and said in a warning
 * that @who (the sender: "webhook") begins.
 */
int receiver_ca_load(const char *path, const char *who, struct receiver_ca *ca,
		     char *err, size_t errlen);
/* As receiver_ca_load, with the validity warnings for the time @now
 * (seconds since the epoch) instead of the clock's. */
int receiver_ca_load_at(const char *path, const char *who, int64_t now,
			struct receiver_ca *ca, char *err, size_t errlen);
void receiver_ca_free(struct receiver_ca *ca);

/* Whether @path reads as @ca now, byte for byte (both none included;
 * not parsed again); a file that can no longer be read is a change
 * (opening it again says why). */
bool receiver_ca_unchanged(const char *path, const struct receiver_ca *ca);

#endif
