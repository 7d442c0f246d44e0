// SPDX-License-Identifier: MIT
/* Userspace's writes into the kernel's flow map (flow_map.h). */
#include <errno.h>

#include <bpf/bpf.h>

#include "flow_map.h"
#include "live.h"

int flow_map_mark_done(int fd, const struct tw_endpoint *a,
		       const struct tw_endpoint *b)
{
	struct tw_flow_key key;
	struct tw_flow_val val;
	int r = live_flow_key(a, b, &key);

	if (r < 0)
		return r;
	/* Keep the entry, marked done: later packets then cost one lookup
	 * instead of a lookup, a payload peek and an insert. */
	if (bpf_map_lookup_elem(fd, &key, &val))
		return -errno;
	val.state = TW_FLOW_DONE;
	if (bpf_map_update_elem(fd, &key, &val, BPF_EXIST))
		return -errno;
	return 0;
}

int flow_map_fin(int fd, const struct tw_endpoint *from,
		 const struct tw_endpoint *to)
{
	struct tw_flow_key key;
	struct tw_flow_val val;
	int idx = live_flow_key(from, to, &key);
	uint8_t bit;

	if (idx < 0)
		return idx;
	bit = (uint8_t)(1u << idx);
	if (bpf_map_lookup_elem(fd, &key, &val))
		return errno == ENOENT ? 0 : -errno;  /* closed, as it should */
	/* Not done, or done without ever being in its handshake phase (no
	 * start_ns: the kernel gave up on a preamble): a new connection on
	 * the same ports, whose FINs the kernel records itself. Done with
	 * the bit: nothing was lost. */
	if (val.state != TW_FLOW_DONE || !val.start_ns || (val.fin & bit))
		return 0;
	/* both sides have closed: what the kernel does at the second FIN */
	if (val.fin & (1u << !idx)) {
		if (bpf_map_delete_elem(fd, &key) && errno != ENOENT)
			return -errno;
		return 0;
	}
	val.fin |= bit;
	if (bpf_map_update_elem(fd, &key, &val, BPF_EXIST) && errno != ENOENT)
		return -errno;
	return 0;
}
