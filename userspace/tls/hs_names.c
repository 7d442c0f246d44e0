// SPDX-License-Identifier: MIT
/*
 * Names of what a server chooses, from the lists of hs_names.h: the IANA
 * Supported Groups ("group" in handshake events, group_counts, the label
 * of tlswatch_key_exchange_groups_total) and ALPN protocol IDs.
 */
#include <stdio.h>
#include <string.h>

#include "hs_record.h"

static const char *const hs_group_names[HS_GROUP__COUNT] = {
#define HS_GROUP_NAME(value, name) [HS_GROUP_##value] = name,
	HS_GROUPS(HS_GROUP_NAME)
#undef HS_GROUP_NAME
};

static const char *const hs_alpn_ids[HS_ALPN__COUNT] = {
#define HS_ALPN_NAME(id, name) [HS_ALPN_##id] = name,
	HS_ALPN_IDS(HS_ALPN_NAME)
#undef HS_ALPN_NAME
};

int hs_group_index(uint16_t group)
{
	switch (group) {
#define HS_GROUP_CASE(value, name) case value: return HS_GROUP_##value;
	HS_GROUPS(HS_GROUP_CASE)
#undef HS_GROUP_CASE
	default:
		return -1;
	}
}

const char *hs_group_index_name(int i)
{
	return i >= 0 && i < HS_GROUP__COUNT ? hs_group_names[i] : NULL;
}

const char *hs_group_name(uint16_t group)
{
	return hs_group_index_name(hs_group_index(group));
}

const char *hs_group_label(uint16_t group, char buf[HS_GROUP_LABEL_LEN])
{
	const char *name = hs_group_name(group);

	if (name)
		return name;
	snprintf(buf, HS_GROUP_LABEL_LEN, "0x%04x", group);
	return buf;
}

int hs_alpn_index(const char *p, size_t len)
{
	int i;

	for (i = 0; i < HS_ALPN__COUNT; i++)
		if (strlen(hs_alpn_ids[i]) == len && memcmp(hs_alpn_ids[i], p, len) == 0)
			return i;
	return -1;
}

const char *hs_alpn_index_name(int i)
{
	return i >= 0 && i < HS_ALPN__COUNT ? hs_alpn_ids[i] : NULL;
}

int hs_group_slot(uint16_t group)
{
	int i = hs_group_index(group);

	return i >= 0 ? i : HS_GROUP_OTHER;
}

const char *hs_group_slot_name(int slot)
{
	return slot == HS_GROUP_OTHER ? "other" : hs_group_index_name(slot);
}

const char *hs_alpn_slot_name(int slot)
{
	switch (slot) {
	case HS_ALPN_OTHER:     return "other";
	case HS_ALPN_NONE:      return "none";
	case HS_ALPN_ENCRYPTED: return "encrypted";
	default:                return hs_alpn_index_name(slot);
	}
}

int hs_record_alpn_slot(const struct hs_record *r)
{
	int i;

	if (!r->has_alpn_selected)
		return r->version == 0x0304 ? HS_ALPN_ENCRYPTED : HS_ALPN_NONE;
	i = hs_alpn_index(r->alpn_selected.bytes, r->alpn_selected.len);
	return i >= 0 ? i : HS_ALPN_OTHER;
}
