// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cert/findings.h"
#include "cli.h"

static char *captured;
static size_t captured_len;

void opt_errors_capture(char *buf, size_t len)
{
	captured = len ? buf : NULL;
	captured_len = len;
	if (captured)
		captured[0] = '\0';
}

void opt_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	if (captured) {
		if (!captured[0]) {
			va_start(ap, fmt);
			vsnprintf(captured, captured_len, fmt, ap);
			va_end(ap);
		}
		return;
	}
	fprintf(stderr, "tlswatch %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'tlswatch %s --help'.\n", cmd);
}

bool opt_parse_uint(const char *cmd, const char *opt, const char *arg,
		    unsigned long min, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(arg, &end, 10);
	if (!*arg || *end || errno || arg[0] == '-' || v < min || v > max) {
		opt_usage_error(cmd, "%s: '%s' is not a whole number from %lu to %lu",
				opt, arg, min, max);
		return false;
	}
	*out = v;
	return true;
}

bool opt_parse_double(const char *cmd, const char *opt, const char *arg,
		      double min, double max, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (!*arg || *end || errno || !(v >= min && v <= max)) {
		opt_usage_error(cmd, "%s: '%s' is not a number from %g to %g",
				opt, arg, min, max);
		return false;
	}
	*out = v;
	return true;
}

bool opt_add_port(const char *cmd, const char *arg, uint16_t *ports, int *n,
		  int max)
{
	unsigned long v;

	if (!opt_parse_uint(cmd, "--port", arg, 1, 65535, &v))
		return false;
	if (*n == max) {
		opt_usage_error(cmd, "--port: at most %d ports", max);
		return false;
	}
	ports[(*n)++] = (uint16_t)v;
	return true;
}

bool opt_parse_fail_on(const char *cmd, const char *arg, uint32_t *mask)
{
	char *copy = strdup(arg), *tok, *save = NULL;
	bool ok = true;

	if (!copy) {
		opt_usage_error(cmd, "out of memory");
		return false;
	}
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int k;

		if (strcmp(tok, "spike") == 0) {
			*mask |= FAIL_ON_SPIKE;
			continue;
		}
		k = finding_kind_parse(tok);
		if (k < 0) {
			opt_usage_error(cmd, "--fail-on: unknown finding kind '%s' (kinds: revoked, expired, not_yet_valid, superseded, unexpected, untrusted, hostname_mismatch, revoked_staple, stale_staple, expiring_soon, self_signed, weak_key, spike)",
					tok);
			ok = false;
			break;
		}
		*mask |= 1u << k;
	}
	if (ok && !*mask) {
		opt_usage_error(cmd, "--fail-on: no finding kind given");
		ok = false;
	}
	free(copy);
	return ok;
}
