/* SPDX-License-Identifier: MIT */
/* The `spike` event of events.md as one JSON object. */
#ifndef TW_SPIKE_JSON_H
#define TW_SPIKE_JSON_H

#include "detect/spike.h"
#include "common/json.h"

/*
 * Writes the whole object, keys in events.md order:
 *   event, schema, ts, source, state, scope, window_s, handshakes, failures, rate,
 *   baseline_rate (omitted when cold), started, top_alerts, top_snis,
 *   top_certs, top_clients,
 * then the added fields aborted, incomplete, certificate_findings
 * ([{"sha256", "findings": [{"kind", "severity"}, ...]}]). Each top_alerts item also has
 * "from": "client"|"server". @source may be NULL (omitted).
 */
void spike_event_write_json(struct json_writer *j, const struct spike_event *ev,
			    const char *source);

#endif
